#!/bin/bash
# Hostile containers: ratio bombs, a 42.zip-style fan-out bomb, overlapping
# zip entries, 100-level nesting, 100,000-entry archives. Each scan must end
# within --max-scantime plus a fixed margin, stay under an RSS ceiling, name
# the limit it hit, and exit cleanly. docs/internals/hostile.md.
. "$(dirname "$0")/common.sh"

echo "Eicar-Test:0:*:$EICAR_HEX" >"$T/e.ndb"
DB=(-d "$T/e.ndb")

# RSS ceilings. Baseline of `ward scan` with a one-line database: ~10-15 MiB
# (libraries, Vectorscan scratch). An archive member is held whole in memory
# (capped at --max-filesize) while it is scanned; one per nesting level; the
# input file is mapped, so its pages count too. Ceiling = 48 MiB baseline
# allowance + input size + (levels holding a member) x max-filesize.

# 1. Deflate ratio bomb: 1 GiB of zeros in a 1 MiB zip. zip members over
#    MaxFileSize are trimmed and scanned silently (as clamscan 1.4.6 does:
#    it reports z.zip: OK), so the verdict is clean, in bounded time.
$GEN zipbomb "$T/z.zip" --mib 1024
run_ward zipbomb 5000 $((48 + 1 + 2 * 16)) "${DB[@]}" --max-filesize 16M --max-scansize 64M "$T/z.zip"
expect_rc zipbomb 0
expect_line zipbomb 'z\.zip: OK$'

# 2. bzip2 ratio bomb: 64 MiB of zeros in ~100 bytes. Ward stops at
#    WARD_MAX_INFLATE_RATIO and names it MaxScanSize (clamscan names the
#    same file MaxFileSize; docs/internals/hostile.md).
$GEN bz2bomb "$T/b.bz2" --mib 64
run_ward bz2bomb 5000 $((48 + 2 * 16)) "${DB[@]}" --max-filesize 16M --max-scansize 64M "$T/b.bz2"
expect_rc bz2bomb 1
expect_line bz2bomb 'b\.bz2: Heuristics\.Limits\.Exceeded\.Max(ScanSize|FileSize) FOUND$'
# The same bomb under the bigger default limits.
run_ward bz2bomb-defaults 5000 $((48 + 2 * 100)) "${DB[@]}" "$T/b.bz2"
expect_line bz2bomb-defaults 'Heuristics\.Limits\.Exceeded\.Max(ScanSize|FileSize) FOUND$'

# 3. 42.zip-style fan-out: 16^5 leaves of 4 MiB zeros (4 TiB) in ~22 KiB.
#    MaxScanSize (64 MiB = 16 leaves) or MaxFiles must stop it; with a short
#    scan time the time limit may be what ends the walk.
$GEN fanout "$T/f.zip" --depth 5 --fan 16 --mib 4
run_ward fanout 3000 $((48 + 7 * 16)) "${DB[@]}" --max-filesize 16M --max-scansize 64M --max-files 1000 "$T/f.zip"
expect_rc fanout 1
expect_line fanout 'f\.zip: Heuristics\.Limits\.Exceeded\.Max(ScanSize|Files|ScanTime) FOUND$'

# 4. Overlapping entries (Fifield's non-recursive zip bomb, full overlap):
#    5,000 central-directory entries share one 8 MiB member. libarchive
#    keeps one entry per local header offset, so one member is scanned;
#    clamscan says OK too.
$GEN overlap "$T/o.zip" --mib 8 --count 5000
run_ward overlap 5000 $((48 + 1 + 2 * 16)) "${DB[@]}" --max-filesize 16M --max-scansize 64M --max-files 1000 "$T/o.zip"
expect_rc overlap 0 1
# Whatever is reported, it may only be MaxFiles or MaxScanSize.
expect_line overlap 'o\.zip: (OK|Heuristics\.Limits\.Exceeded\.Max(Files|ScanSize) FOUND)$'

# 5. 100 levels of zip-in-zip, EICAR at the bottom (deflated at every
#    level, so not visible from outside): MaxRecursion, EICAR not found
#    (clamscan: the same line). 5 levels: EICAR found.
$GEN nested "$T/n100.zip" --depth 100
run_ward nested100 5000 $((48 + 18 * 1)) "${DB[@]}" --max-recursion 17 "$T/n100.zip"
expect_rc nested100 1
expect_line nested100 'n100\.zip: Heuristics\.Limits\.Exceeded\.MaxRecursion FOUND$'
expect_no_line nested100 'Eicar'
$GEN nested "$T/n5.zip" --depth 5
run_ward nested5 5000 64 "${DB[@]}" --max-recursion 17 "$T/n5.zip"
expect_line nested5 'n5\.zip: Eicar-Test\.UNOFFICIAL FOUND$'
# MaxRecursion above Ward's own stack cap (64): still MaxRecursion.
run_ward nested100-maxrec1000 5000 $((48 + 65)) "${DB[@]}" --max-recursion 1000 "$T/n100.zip"
expect_line nested100-maxrec1000 'n100\.zip: Heuristics\.Limits\.Exceeded\.MaxRecursion FOUND$'

# 6. 100,000 entries. zip of 1-byte files: MaxFiles (clamscan: the same).
$GEN many "$T/m.zip" --count 100000
run_ward many-zip 5000 $((48 + 10 + 16)) "${DB[@]}" --max-files 10000 "$T/m.zip"
expect_rc many-zip 1
expect_line many-zip 'm\.zip: Heuristics\.Limits\.Exceeded\.MaxFiles FOUND$'
# tar of 100,000 directories: no regular file, so no MaxFiles; the walk
#    still visits every header (under WARD_MAX_ARCHIVE_ENTRIES) and ends.
$GEN many "$T/d.tar" --count 100000 --format tar --dirs
run_ward many-tar-dirs 5000 $((48 + 50 + 16)) "${DB[@]}" --max-filesize 64M --max-scansize 128M "$T/d.tar"
expect_rc many-tar-dirs 0
expect_line many-tar-dirs 'd\.tar: OK$'
# tar of 100,000 empty files: MaxFiles.
$GEN many "$T/e.tar" --count 100000 --format tar
run_ward many-tar-files 5000 $((48 + 50 + 16)) "${DB[@]}" --max-filesize 64M --max-scansize 128M --max-files 10000 "$T/e.tar"
expect_line many-tar-files 'e\.tar: Heuristics\.Limits\.Exceeded\.MaxFiles FOUND$'

# 7. A tiny scan-time budget over the fan-out bomb: MaxScanTime, promptly.
run_ward fanout-scantime 200 $((48 + 7 * 100)) "${DB[@]}" --max-files 100000 "$T/f.zip"
expect_line fanout-scantime 'f\.zip: Heuristics\.Limits\.Exceeded\.MaxScanTime FOUND$'

finish
