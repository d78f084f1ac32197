/*
 * Every ceiling in libward, its value, and why. (Not called limits.h: a
 * project header of that name on the include path shadows the C library's
 * <limits.h>, e.g. through GCC's syslimits.h #include_next.) Scan-time limits that users may
 * change are in ward_limits (include/ward/ward.h) with ClamAV's names; their
 * defaults are here. Everything else is fixed: it bounds work or memory that
 * hostile input (a file or a signature database) could otherwise drive.
 */
#ifndef WARD_LIMITS_H
#define WARD_LIMITS_H

/* ---- user-settable scan limits: ClamAV's defaults (clamd.conf(5)) ---- */
#define WARD_DEFAULT_MAX_SCANTIME_MS 120000u          /* MaxScanTime 120 s */
#define WARD_DEFAULT_MAX_SCANSIZE (400ull << 20)      /* MaxScanSize 400 MiB */
#define WARD_DEFAULT_MAX_FILESIZE (100ull << 20)      /* MaxFileSize 100 MiB */
#define WARD_DEFAULT_MAX_RECURSION 17u                /* MaxRecursion */
#define WARD_DEFAULT_MAX_FILES 10000u                 /* MaxFiles */
#define WARD_DEFAULT_PCRE_MATCH_LIMIT 100000u         /* PCREMatchLimit */
#define WARD_DEFAULT_PCRE_RECMATCH_LIMIT 2000u        /* PCRERecMatchLimit */
#define WARD_DEFAULT_PCRE_MAX_FILESIZE (100ull << 20) /* PCREMaxFileSize */

/* ---- signature databases ---- */
/* Longest database line. ClamAV's longest official lines are about 60 KiB
 * (main.ldb); a line longer than this is rejected, not truncated, so a hostile
 * database cannot make the loader buffer without bound. */
#define WARD_MAX_LINE (1u << 20)
/* Longest database file read into memory (a CVD/CLD container, a .ldb). The
 * official daily.cvd is about 60 MiB uncompressed; 1 GiB leaves room and still
 * stops /dev/zero-style inputs. */
#define WARD_MAX_DB_FILE (1ull << 30)
/* Files inside a directory, and inside one CVD tar. */
#define WARD_MAX_DB_FILES 4096u
/* Signatures of all kinds in one database: 64 M, far above the ~10 M in
 * ClamAV's full official set, so a generated flood cannot exhaust memory. */
#define WARD_MAX_SIGNATURES (64u << 20)
/* Nodes (bytes, gaps, alternations) in one body pattern: a hex string of 1 MiB
 * line is at most 512 Ki bytes. */
#define WARD_MAX_PATTERN_NODES (1u << 19)
/* Alternation nesting depth "(aa|(bb|(cc...". The parser recurses per level. */
#define WARD_MAX_ALT_DEPTH 16u
/* Alternatives in one alternation group. ClamAV allows large generic groups;
 * 4096 covers the official sets. */
#define WARD_MAX_ALT_BRANCHES 4096u
/* Longest span of one pattern segment (between '*' gaps): bytes it can cover.
 * Verification cost per candidate is nodes x span/64 words, and each scanner
 * reserves bitsets for the widest segment actually loaded. 1 MiB accepts every
 * official signature (the widest, Unix.Malware.Kinsing-7812065-1 in daily.ndb,
 * spans 344,025 bytes in one segment) while bounding a hostile one. */
#define WARD_MAX_SEGMENT_SPAN (1u << 20)
/* Subsignatures in one logical signature: ClamAV's own maximum is 64. */
#define WARD_MAX_SUBSIGS 64u
/* Nodes in one logical expression. */
#define WARD_MAX_LOGIC_NODES 1024u
/* Expression nesting depth (parenthesis levels); the parser recurses per level. */
#define WARD_MAX_LOGIC_DEPTH 64u
/* Signature name length; ClamAV's own limit is 128 characters plus suffix. */
#define WARD_MAX_NAME 256u

/* ---- compiled-database cache ---- */
/* Largest cache file read back. The official sets compile to tens of MiB;
 * anything near this is not ours. */
#define WARD_MAX_CACHE_FILE (1ull << 30)
/* Cache files kept (the most recently used): compiled images are about as
 * large as the loaded database (100 MB for the official sets), and every
 * signature update makes new ones. Four images cover a daemon's current and
 * last-known-good sets and a person's own -d sets; a set has at most one
 * Vectorscan database per target (15). */
#define WARD_MAX_CACHED_IMAGES 4u
#define WARD_MAX_CACHED_HSDB 64u
/* Directory entries examined when trimming the cache directory. */
#define WARD_MAX_CACHE_ENTRIES 4096u
/* Diagnostics of one load kept in its compiled image (lib/compile/image.c),
 * to be given again by every load from it. A set with more to say than this
 * (a file of bad lines) is not stored: it loads from the text each time. */
#define WARD_MAX_IMAGE_DIAGS (4u << 20)
/* Longest diagnostic message kept in an image; Ward's own are under 600
 * bytes (reasons are formatted into 512-byte buffers plus a name). */
#define WARD_MAX_DIAG_MSG 1024u

/* ---- matching ---- */
/* Text and HTML larger than this get no normalised layer: ClamAV's
 * MaxScriptNormalize default (20 MiB), mirrored so target 3/7 verdicts agree;
 * it also bounds the normalisation buffer (2 x + 16). */
#define WARD_MAX_SCRIPT_NORMALIZE (20ull << 20)
/* Objects shorter than this are not scanned at all: ClamAV 1.4 reports files
 * and members of at most 5 bytes clean without hashing or matching them
 * (checked with clamscan: a 5-byte file equal to an .ndb pattern or to an .hdb
 * entry is OK, a 6-byte one is found). Mirrored so verdicts agree. */
#define WARD_MIN_SCAN_SIZE 6u
/* Shortest anchor given to Vectorscan. Shorter fragments would be candidates
 * almost everywhere; such signatures go to the unanchored path instead. */
#define WARD_MIN_ANCHOR 2u
/* A signature whose offset pins its start to a window of at most this many
 * bytes (0:, EP+n, EOF-n, Sx+n, SL+n, or any of them with ",maxshift" up to
 * this) is verified at that window in each layer instead of through a
 * Vectorscan anchor. Its cost per layer is then bounded by the window, where
 * an anchor costs one verification per occurrence: main.ldb's 405 mail
 * signatures pinned at "0:504B" were verified at every "PK" in every file
 * (137,000 occurrences, 55 million verifications in the PE corpus). Wider
 * windows (e.g. "0,41059") stay anchored. */
#define WARD_MAX_PINNED_WINDOW 1024u
/* Longest anchor: Vectorscan literal matching gains nothing past this length and
 * the verifier checks the rest anyway. */
#define WARD_MAX_ANCHOR 16u
/* Distinct detections recorded per scan in allmatch mode. */
#define WARD_MAX_DETECTIONS 1024u
/* Matches counted per subsignature per file: logical counts compare against
 * small numbers; counting stops here so a pattern that matches everywhere
 * cannot grow per-file state. */
#define WARD_MAX_SUBSIG_MATCHES 65535u
/* Offsets remembered per subsignature (for offset modifiers of later checks). */
#define WARD_MAX_SUBSIG_OFFSETS 16u
/* How often (in candidates) the match callback checks the clock. */
#define WARD_CLOCK_CHECK_EVERY 4096u
/* How often (in signatures) the walk over unanchored signatures checks the
 * clock; each search in between checks it itself when it does real work. */
#define WARD_UNANCHORED_CLOCK_EVERY 64u
/* Notes (errors, limits) kept in one report. */
#define WARD_MAX_REPORT_NOTES 64u

/* ---- executables ---- */
/* PE sections: the format caps NumberOfSections at 96 in the loader; files with
 * more are malformed for Windows too. */
#define WARD_MAX_PE_SECTIONS 96u
/* ELF program/section headers considered. */
#define WARD_MAX_ELF_SECTIONS 4096u
/* PE imports hashed for .imp signatures: DLLs and functions per file. */
#define WARD_MAX_PE_IMPORT_DLLS 1024u
#define WARD_MAX_PE_IMPORT_FUNCS 65536u

/* ---- containers ---- */
/* Member name length kept for reporting. */
#define WARD_MAX_MEMBER_NAME 4096u
/* Compression ratio above which a member is treated as a bomb even when under
 * MaxFileSize: ClamAV has no such limit, but 1:10,000 is far past any real
 * archive and stops the CPU being spent inflating zeros. */
#define WARD_MAX_INFLATE_RATIO 10000u

/* ---- containers: archive walker (lib/formats/archive.c) ---- */
/* The ratio check starts once this much has been extracted: small outputs
 * cannot cost much, and bzip2/xz legitimately reach extreme ratios on a few
 * KiB of repeated bytes. */
#define WARD_INFLATE_RATIO_MIN_OUT (1ull << 20)
/* Archive headers (of any kind: directories, links, files) visited in one
 * walk. MaxFiles counts only regular files; this stops an archive of
 * millions of empty directory entries from spinning the loop. */
#define WARD_MAX_ARCHIVE_ENTRIES 1000000u
/* Bytes requested from libarchive per read: the deadline and the limits are
 * checked between reads, so this bounds the work done past a limit. */
#define WARD_ARCHIVE_READ_CHUNK (64u << 10)

/* ---- CVD/CLD containers (lib/db/cvd.c) ---- */
/* Bytes unpacked from one CVD/CLD tar, all members together. The official
 * main.cvd unpacks to a few hundred MiB; 4 GiB bounds the inflate work a
 * hostile (or merely corrupt) container can cause while each member stays
 * under WARD_MAX_DB_FILE. */
#define WARD_MAX_CVD_UNPACKED (4ull << 30)
/* Longest member name in a CVD tar. ClamAV reads the 100-byte ustar name
 * field only; longer (pax) names never occur in official files. */
#define WARD_MAX_CVD_MEMBER_NAME 255u
/* ---- CVD/CLD .info member (lib/db/cvd_info.c) ---- */
/* Lines of a .info member read up to its DSIG line: the header copy, one
 * entry per member (a tar holds at most WARD_MAX_DB_FILES), the DSIG. */
#define WARD_MAX_CVD_INFO_LINES (WARD_MAX_DB_FILES + 2u)
/* Longest .info line. The longest legitimate one is the header copy (under
 * 512 bytes); an entry is a name of at most WARD_MAX_CVD_MEMBER_NAME, a size
 * and 64 hex digits; the DSIG line is "DSIG:" and at most 342 digits. */
#define WARD_MAX_CVD_INFO_LINE 1024u

/* ---- database loader (lib/db/sigset.c, load.c, ldb.c) ---- */
/* Distinct unsupported-feature names kept with their own counter. The names
 * come partly from the database (an unknown .ldb TDB key), so a hostile file
 * could otherwise make the list, and its linear search, grow per line; later
 * names are counted under "other". */
#define WARD_MAX_UNSUPPORTED_FEATURES 256u
/* Bytes read from one directory entry name when listing a database directory. */
#define WARD_MAX_DB_PATH 4096u

/* ---- update repository and client (lib/update/) ---- */
/* Largest JSON metadata document parsed. targets.json lists every released
 * pattern package (a few hundred bytes each); 4 MiB is thousands of releases
 * and still far below what could hurt a client. */
#define WARD_MAX_JSON_DOC (4u << 20)
/* JSON nesting depth: TUF metadata nests 5 levels; the parser and the
 * canonicaliser recurse once per level. */
#define WARD_MAX_JSON_DEPTH 16u
/* JSON values (of every kind) in one document: bounds the node array and the
 * per-object linear searches whatever the document's shape. */
#define WARD_MAX_JSON_NODES (1u << 18)
/* timestamp.json has no length listed anywhere (it is the entry point), so
 * its download stops here: a real one is well under 1 KiB (TUF's "X bytes"). */
#define WARD_MAX_TIMESTAMP_META (16u << 10)
/* N.root.json is also fetched without a known length (TUF's root step). */
#define WARD_MAX_ROOT_META (512u << 10)
/* Entries examined per directory when a run cleans the pattern directory
 * (temporaries, versions and packages no link names): a handful in practice;
 * a flood of entries is left for later runs instead of a long walk. */
#define WARD_MAX_SWEEP_ENTRIES 4096u
/* Root versions walked in one update: each costs a download and threshold
 * checks; a hostile mirror cannot keep a client busy with an endless chain. */
#define WARD_MAX_ROOT_ROTATIONS 1024u
/* Keys in one root, key ids per role, and signatures examined per document:
 * k-of-n thresholds of real repositories use a handful. */
#define WARD_MAX_TUF_KEYS 64u
#define WARD_MAX_TUF_SIGNATURES 64u
/* Targets listed in one targets.json. */
#define WARD_MAX_TUF_TARGETS 65536u
/* Target name length: it becomes a file name on the client. */
#define WARD_MAX_TARGET_NAME 128u
/* Largest pattern package downloaded: the listed length is the real cap;
 * this bounds what a (compromised) targets role can ask a client to fetch. */
#define WARD_MAX_TARGET_SIZE (2ull << 30)
/* Mirrors tried for each file. */
#define WARD_MAX_MIRRORS 16u

/* ---- pattern packages (lib/pkg) ---- */
/* Largest package file, which is also the signed message: the official
 * ClamAV sets unpack to a few hundred MiB; 1 GiB leaves room and stays under
 * WARD_MAX_TARGET_SIZE, so a verifier never hashes without bound. */
#define WARD_PKG_MAX_SIZE (1ull << 30)
/* Manifest text: 4096 file lines of ~200 bytes plus changelog fit in 1 MiB. */
#define WARD_PKG_MAX_MANIFEST (1u << 20)
/* One manifest line; longer is corruption, never truncated. */
#define WARD_PKG_MAX_MANIFEST_LINE 4096u
/* Members in one package: as many as database files in one directory. */
#define WARD_PKG_MAX_MEMBERS WARD_MAX_DB_FILES
/* Member name: it becomes a file name on extraction. */
#define WARD_PKG_MAX_MEMBER_NAME 128u
/* Platforms in one manifest (each is matched per client check). */
#define WARD_PKG_MAX_PLATFORMS 64u
/* Changelog lines kept. */
#define WARD_PKG_MAX_CHANGELOG 4096u
/* Key files are two short lines. */
#define WARD_PKG_MAX_KEY_FILE 4096u
/* Lines per file the delta builder diffs (more: the file is sent whole). */
#define WARD_PKG_MAX_DIFF_LINES (1u << 24)
/* Edit distance (Myers' D) the delta builder explores per file: it keeps
 * (D+1)^2 32-bit positions (2048 -> 16 MiB). Consecutive releases change a
 * few hundred lines per file; beyond this the file is sent whole. */
#define WARD_PKG_MAX_DIFF_EDITS 2048u
/* Commands in one edit script read by the delta applier. */
#define WARD_PKG_MAX_DELTA_OPS (1u << 20)

#endif /* WARD_LIMITS_H */
