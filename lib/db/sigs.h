/*
 * Parsed signatures: what the per-format parsers in lib/db produce and what
 * lib/compile turns into the immutable ward_db. Nothing here refers to a file
 * being scanned.
 *
 * Names follow ClamAV's manual (src/manual/Signatures/): a *body pattern* is the
 * hex string of an .ndb signature or an .ldb subsignature; a *logical signature*
 * combines subsignatures with an expression; a *target* is the file type a
 * signature applies to; an *offset* constrains where a match may start.
 */
#ifndef WARD_DB_SIGS_H
#define WARD_DB_SIGS_H

#include <stdbool.h>
#include <stdint.h>

#include "ward_limits.h"
#include "util/util.h"

/* ---- target types (FileTypes.md "Target Types") ---- */
enum target {
	TARGET_ANY = 0,
	TARGET_PE = 1,
	TARGET_OLE2 = 2,
	TARGET_HTML = 3,
	TARGET_MAIL = 4,
	TARGET_GRAPHICS = 5,
	TARGET_ELF = 6,
	TARGET_ASCII = 7,
	TARGET_UNUSED = 8,
	TARGET_MACHO = 9,
	TARGET_PDF = 10,
	TARGET_FLASH = 11,
	TARGET_JAVA = 12,
	TARGET_INTERNAL = 13,
	TARGET_OTHER = 14,
	TARGET__COUNT
};

/* ---- body patterns ----
 * A pattern is a list of segments separated by unbounded gaps ('*', '{n-}').
 * Each segment is a sequence of nodes with a bounded span, so verifying one
 * segment at one position costs at most nodes x span. Alternatives are node
 * sequences too; nesting goes through ALT nodes. */
enum pnode_kind {
	PN_BYTE = 0,  /* one byte: (b & mask) == val */
	PN_GAP = 1,   /* a..b arbitrary bytes ({n}, {-n}, {n-m}, [x-y], ??-runs) */
	PN_ALT = 2,   /* one of the sequences seqs[a .. a+b) ; PN_F_NEGATE: none of them */
	PN_CLASS = 3, /* a character class, val = PC_*: (B) (L) (W) */
};

enum pclass { PC_WORD_BOUNDARY = 'B', PC_LINE = 'L', PC_NONALNUM = 'W' };

#define PN_F_NOCASE 0x1u /* PN_BYTE: compare ASCII letters case-insensitively */
/* PN_ALT: match any string of the alternatives' (fixed) length that is none of them */
#define PN_F_NEGATE 0x2u

/* Packed into 8 bytes: the official sets hold 5.4 million nodes, so every
 * byte here is 5 MiB of resident memory. a and b fit in 22 bits because gaps
 * are capped by WARD_MAX_SEGMENT_SPAN and indexes by WARD_MAX_PATTERN_NODES
 * (asserted below); the parser rejects anything larger before storing it. */
struct pnode {
	uint64_t kind : 2;  /* enum pnode_kind */
	uint64_t flags : 2; /* PN_F_* */
	uint64_t val : 8;   /* PN_BYTE value (already masked); PN_CLASS class */
	uint64_t mask : 8;  /* PN_BYTE mask: 0xff exact, 0xf0 "a?", 0x0f "?a", 0x00 "??" */
	uint64_t a : 22;    /* PN_GAP min; PN_ALT first sequence index */
	uint64_t b : 22;    /* PN_GAP max; PN_ALT sequence count */
};
#define PN_FIELD_MAX ((1u << 22) - 1)
_Static_assert(WARD_MAX_SEGMENT_SPAN <= PN_FIELD_MAX, "gap bounds must fit struct pnode");
_Static_assert(WARD_MAX_PATTERN_NODES <= PN_FIELD_MAX, "indexes must fit struct pnode");
_Static_assert(WARD_MAX_ALT_BRANCHES <= PN_FIELD_MAX, "branch counts must fit struct pnode");

struct pseq {
	uint32_t first; /* index into pattern.nodes */
	uint32_t count;
};

struct psegment {
	struct pseq body;
	/* least bytes between the previous segment's end and this start (0 for
	 * '*', n for '{n-}'); 0 for the first */
	uint32_t gap_before;
	uint32_t minlen; /* shortest match of the segment */
	uint32_t maxlen; /* longest match (<= WARD_MAX_SEGMENT_SPAN) */
};

/* Pattern-wide modifiers (.ldb "::i w f a"). Wide is applied at parse time by
 * rewriting nodes; "a" (ascii and wide) makes the parser emit two patterns. */
#define PAT_NOCASE 0x1u
#define PAT_WIDE 0x2u
#define PAT_FULLWORD 0x4u
#define PAT_ASCII 0x8u

struct pattern {
	struct pnode *nodes; /* owned */
	uint32_t nnodes;
	struct pseq *seqs; /* owned; alternatives */
	uint32_t nseqs;
	struct psegment *segs; /* owned */
	uint32_t nsegs;
	uint32_t flags; /* PAT_* */
};

/* Parse a ClamAV hex body pattern (BodySignatureFormat.md), with modifiers
 * PAT_* applied. On error returns WARD_ECORRUPT (or WARD_EUNSUPPORTED/ELIMIT) and
 * writes a reason into why (at least 128 bytes). */
ward_err pattern_parse(const char *hex, size_t len, uint32_t flags, struct pattern *out, char *why,
		       size_t whylen);
void pattern_free(struct pattern *p);

/* ---- offsets (ExtendedSignatures.md) ---- */
enum offset_kind {
	OFF_ANY = 0,      /* '*' */
	OFF_ABS,          /* n */
	OFF_EOF,          /* EOF-n */
	OFF_EP_PLUS,      /* EP+n */
	OFF_EP_MINUS,     /* EP-n */
	OFF_SECTION,      /* Sx+n */
	OFF_SECTION_ALL,  /* SEx: anywhere inside section x */
	OFF_LAST_SECTION, /* SL+n */
	OFF_VERSIONINFO,  /* VI: inside the PE version information (unsupported: never resolves) */
};

struct sigoffset {
	uint8_t kind;      /* enum offset_kind */
	bool floating;     /* ",maxshift" given */
	uint32_t section;  /* OFF_SECTION / OFF_SECTION_ALL: x */
	uint64_t n;        /* the n in the forms above */
	uint64_t maxshift; /* start may be in [offset, offset + maxshift] */
};

/* Parse "*", "n", "EOF-n", "EP+n", ..., each with an optional ",maxshift". */
ward_err offset_parse(const char *s, size_t len, struct sigoffset *out, char *why, size_t whylen);

/* ---- body signatures: .ndb lines and .ldb subsignatures ---- */
struct bodysig {
	uint32_t name;  /* strpool offset; for subsignatures, the owning ldb's name */
	uint8_t target; /* enum target */
	struct sigoffset offset;
	struct pattern pat;
	uint32_t logical; /* UINT32_MAX for an .ndb signature; else index into sigset.logical */
	uint8_t subsig;   /* subsignature number within the logical signature */
	/* name as written in the database (no ".UNOFFICIAL"): for ignore lists */
	uint32_t base_name_len;
};

/* ---- logical signatures (.ldb) ---- */
enum lnode_kind {
	LN_SUB = 0, /* subsignature a */
	LN_AND,     /* children a, b (node indexes) */
	LN_OR,
	LN_EQ, /* child a; count == x (and, with y, distinct subsigs >= y) */
	LN_GT, /* count > x */
	LN_LT, /* count < x */
};

struct lnode {
	uint8_t kind;
	uint8_t has_y; /* ",Y" given */
	uint32_t a, b; /* LN_SUB: subsig; LN_AND/LN_OR: children; LN_EQ..LT: child in a */
	uint32_t x, y;
};

struct range64 {
	bool set;
	uint64_t lo, hi;
};

/* Kinds of subsignature besides plain body patterns. */
enum subsig_kind {
	SUB_BODY = 0, /* a struct bodysig in sigset.body (index body) */
	SUB_PCRE,     /* Trigger/regex/flags; index into sigset.pcre */
	SUB_BYTECMP,  /* Trigger(offset#opts#comparisons); index into sigset.bytecmp */
	SUB_NEVER,    /* unsupported kind: counted, never matches */
};

struct subsig {
	uint8_t kind;   /* enum subsig_kind */
	uint32_t index; /* into the table for the kind */
};

struct logicsig {
	uint32_t name;  /* strpool offset */
	uint8_t target; /* enum target; TARGET_ANY when no Target given */
	struct range64 filesize, entrypoint, nsections;
	int32_t container; /* a container kind (enum container_kind in scan), or -1 */
	uint32_t nsubs;
	struct subsig *subs; /* owned, nsubs entries (exact size: 38,889 official
			      * signatures with a 64-entry array each were 20 MiB) */
	struct lnode *expr;  /* owned; root is node 0 */
	uint32_t nexpr;
	bool unsupported;       /* uses something Ward cannot evaluate: never matches */
	uint32_t base_name_len; /* name as written in the database (no ".UNOFFICIAL") */
};

/* Logical expression parse/evaluate. counts[i] is how often subsig i matched. */
ward_err logic_parse(const char *s, size_t len, uint32_t nsubs, struct lnode **out, uint32_t *nout,
		     char *why, size_t whylen);
bool logic_eval(const struct lnode *expr, uint32_t nexpr, const uint32_t *counts);

/* PCRE subsignature: "[Offset:]Trigger/regex/[flags]" (LogicalSignatures.md). */
struct pcresig {
	uint32_t logical;
	uint8_t subsig;
	struct sigoffset offset; /* OFF_ANY when absent */
	struct lnode *trigger;   /* owned expression over earlier subsigs */
	uint32_t ntrigger;
	char *regex;    /* owned, NUL-terminated */
	uint32_t flags; /* PCRE_F_* */
};
#define PCRE_F_GLOBAL 0x1u       /* g */
#define PCRE_F_ROLLING 0x2u      /* r */
#define PCRE_F_ENCOMPASS 0x4u    /* e */
#define PCRE_F_CASELESS 0x10u    /* i */
#define PCRE_F_DOTALL 0x20u      /* s */
#define PCRE_F_MULTILINE 0x40u   /* m */
#define PCRE_F_EXTENDED 0x80u    /* x */
#define PCRE_F_ANCHORED 0x100u   /* A */
#define PCRE_F_DOLLAR_END 0x200u /* E */
#define PCRE_F_UNGREEDY 0x400u   /* U */

/* Byte-compare subsignature: "Trigger(Offset#ByteOptions#Comparisons)". */
struct bytecmpsig {
	uint32_t logical;
	uint8_t subsig;
	uint32_t trigger_sub; /* the subsignature whose match the offset is relative to */
	int64_t offset;       /* from that match's start ('>>' positive, '<<' negative) */
	uint8_t base;         /* 'h'ex, 'd'ecimal, 'a'uto, 'i' raw binary */
	bool little_endian;   /* 'l' (else 'b'ig) for raw */
	bool exact;           /* 'e' */
	uint8_t nbytes;
	uint8_t ncmp;   /* 1 or 2 */
	char cmp_op[2]; /* '<' '>' '=' */
	uint64_t cmp_val[2];
};

/* ---- hash signatures ---- */
enum hash_kind { HASH_MD5 = 0, HASH_SHA1 = 1, HASH_SHA256 = 2, HASH__COUNT };
static inline unsigned hash_len(unsigned kind)
{
	return kind == HASH_MD5 ? 16 : kind == HASH_SHA1 ? 20 : 32;
}

enum hash_scope {
	HSCOPE_FILE = 0, /* .hdb .hsb, .fp .sfp: whole file */
	HSCOPE_SECTION,  /* .mdb .msb: one PE section */
	HSCOPE_IMPORTS,  /* .imp: the PE import table */
};

#define HASH_SIZE_ANY UINT64_MAX /* size field '*' */

struct hashsig {
	uint8_t digest[32];
	uint8_t kind;           /* enum hash_kind */
	uint8_t scope;          /* enum hash_scope */
	bool allow;             /* from .fp/.sfp: an allow-list entry, not a detection */
	uint64_t size;          /* or HASH_SIZE_ANY */
	uint32_t name;          /* strpool offset */
	uint32_t base_name_len; /* name as written in the database (no ".UNOFFICIAL") */
};

/* An .ign2 entry "Name:MD5": ignore Name only while its database line has that
 * MD5 (AllowLists.md). Checked when the signature line is parsed. */
struct ignore_md5 {
	uint32_t name; /* strpool offset of the bare name */
	uint8_t md5[16];
};

/* ---- the whole parsed set ---- */
struct sigset {
	strpool names;
	vec body;        /* struct bodysig */
	vec logical;     /* struct logicsig */
	vec pcre;        /* struct pcresig */
	vec bytecmp;     /* struct bytecmpsig */
	vec hashes;      /* struct hashsig */
	vec ignored;     /* uint32_t strpool offsets of names to drop (.ign2/.ign) */
	vec unsupported; /* struct unsupported_feature */
	uint64_t counts[WARD_COUNT__MAX];
	ward_diag_fn diag;
	void *diag_ctx;
	unsigned load_flags;
	vec ignored_md5; /* struct ignore_md5 */
	/* The compiled image's key (lib/compile/image.c): while set, every file
	 * the load reads and every file-level diagnostic of the walk is hashed
	 * into it (db_load_key_event), so the key covers exactly what was
	 * parsed. key_only: hash the files, parse nothing, report nothing. */
	struct evp_md_ctx_st *key_md;
	bool key_only;
	bool key_failed; /* a digest update failed: the key is worthless */
	/* The arrays of body, logical, pcre, bytecmp, their patterns and
	 * expressions and names live in a compiled image, which owns them. */
	bool borrowed;
};

struct unsupported_feature {
	char name[64];
	uint64_t count;
};

void sigset_init(struct sigset *set, const ward_load_opts *opts);
void sigset_free(struct sigset *set);

/* Report a problem with a database line and count it as bad. */
void sigset_bad_line(struct sigset *set, const char *file, unsigned long line, ward_err code,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Count one signature that uses an unsupported feature (by name). */
ward_err sigset_unsupported(struct sigset *set, const char *feature);
/* Add a signature name, with ".UNOFFICIAL" appended unless official (from a
 * signed CVD), as clamscan does. */
ward_err sigset_add_name(struct sigset *set, const char *name, size_t len, bool official,
			 uint32_t *off);

/* Remove every signature whose name (as written, without ".UNOFFICIAL") is in
 * set->ignored, whatever order the files were loaded in; keeps the indexes
 * between logical signatures and their subsignatures consistent and lowers the
 * per-kind counts. Call once after all files are loaded. */
void sigset_apply_ignores(struct sigset *set);

/* True when an .ign2 "Name:MD5" entry loaded so far drops this signature line
 * (name as written, line as in the file). Used by the per-format parsers. */
bool sigset_line_ignored(const struct sigset *set, const char *name, size_t namelen,
			 const char *line, size_t linelen);

/* Per-format line parsers. Each parses one line (without the newline) of a
 * database file; `official` is true for lines from a signed CVD/CLD. Bad lines
 * are reported with sigset_bad_line() and do not stop the load: the return
 * value is WARD_OK for "line handled (perhaps rejected)" and an error only for
 * resource failures (ENOMEM, ELIMIT) that must stop the load. */
struct dbline {
	const char *file;   /* for messages */
	unsigned long line; /* 1-based */
	const char *s;      /* line text, not NUL-terminated */
	size_t len;
	bool official;
};

ward_err db_parse_hash_line(struct sigset *set, const struct dbline *l, uint8_t scope, bool allow);
ward_err db_parse_ndb_line(struct sigset *set, const struct dbline *l);
ward_err db_parse_ldb_line(struct sigset *set, const struct dbline *l);
ward_err db_parse_ign_line(struct sigset *set, const struct dbline *l, bool ign2);

/* Split s at sep into at most max fields (pointers into s, not copied);
 * returns the field count, or max + 1 when there are more. */
size_t db_split_fields(const char *s, size_t len, char sep, const char **f, size_t *flen,
		       size_t max);

/* Hash one event of the load into set->key_md (no-op without one): kind 'F'
 * a file read (name, its bytes), 'D' a diagnostic of the walk (name, reason). */
void db_load_key_event(struct sigset *set, char kind, const char *name, const void *p, size_t n);

/* Load one database file (by extension) or a directory, or a CVD/CLD. */
ward_err db_load_path(struct sigset *set, const char *path);
/* Load database text already in memory, as if it were a file called name
 * (the extension selects the format). */
ward_err db_load_buffer(struct sigset *set, const char *name, const char *buf, size_t len,
			bool official);
/* CVD/CLD containers (lib/db/cvd.c): verify, unpack, and feed each member to
 * db_load_buffer with official = (signature verified). */
ward_err db_load_cvd(struct sigset *set, const char *path, const uint8_t *buf, size_t len);

#endif /* WARD_DB_SIGS_H */
