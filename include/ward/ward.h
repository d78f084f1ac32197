/*
 * libward: a ClamAV-compatible scanning engine.
 *
 * Usage, in the order data flows:
 *   ward_db_load()        parse signature databases and compile them into one
 *                         immutable ward_db; share it between threads.
 *   ward_scanner_new()    one scanner (scratch space, per-file state) per thread.
 *   ward_scanner_scan_*() scan a file or buffer; the report stays valid until the
 *                         next scan on the same scanner or until it is freed.
 *
 * Ownership: every *_new() or *_load() output is owned by the caller and released with
 * the matching *_free(); *_free(NULL) is a no-op. Strings passed in are copied unless
 * a comment says otherwise. No function keeps a pointer to caller memory after it
 * returns.
 */
#ifndef WARD_WARD_H
#define WARD_WARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define WARD_WUR __attribute__((warn_unused_result))
#define WARD_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#else
#define WARD_WUR
#define WARD_NONNULL(...)
#endif

#define WARD_VERSION "0.1.0"
/* The functionality level Ward declares. Signatures carry MinFL:MaxFL (or
 * Engine:X-Y); Ward declares the level of the ClamAV release it mirrors (1.4.x),
 * so a database selects the same signatures in both. */
#define WARD_FLEVEL 216

/* One error space; numbers are stable and never reused. */
typedef enum ward_err {
	WARD_OK = 0,
	WARD_ENOMEM = 1,       /* an allocation failed (or a size computation overflowed) */
	WARD_EIO = 2,          /* open/read/stat failed; errno is in the diagnostic */
	WARD_ECORRUPT = 3,     /* the input (file, database, container) is malformed */
	WARD_EUNSUPPORTED = 4, /* well-formed input that uses a feature Ward lacks */
	WARD_ELIMIT = 5,       /* a configured limit stopped the work */
	WARD_EINVAL = 6,       /* the caller broke the API contract */
	WARD_EINTERNAL = 7,    /* a bug in Ward: an invariant did not hold */
	WARD_EBADSIG = 8,      /* a digital signature is missing or does not verify */
	WARD_EENGINE = 9,      /* Vectorscan or PCRE2 refused a pattern or failed */
	WARD_ETIMEOUT = 10,    /* the scan time budget ran out */
	WARD_ERR_COUNT
} ward_err;

/* Static string; never NULL, also for unknown codes. */
const char *ward_strerror(ward_err err);

/* Diagnostics while loading or scanning. msg is the reason only; the file
 * (may be NULL) and line (0 when it does not apply) come separately. code
 * WARD_EUNSUPPORTED marks a signature that loaded but uses a feature Ward
 * lacks (not an error). The strings are valid only during the call. */
typedef void (*ward_diag_fn)(void *ctx, ward_err code, const char *file, unsigned long line,
			     const char *msg);

/* Limits, with ClamAV's names. ward_limits_default() fills ClamAV's defaults;
 * the reasons are in lib/ward_limits.h. Zero means "no limit" only where noted. */
typedef struct ward_limits {
	uint64_t max_scantime_ms;     /* MaxScanTime: wall time for one top-level file */
	uint64_t max_scansize;        /* MaxScanSize: bytes scanned for one top-level file */
	uint64_t max_filesize;        /* MaxFileSize: largest file or member scanned */
	uint32_t max_recursion;       /* MaxRecursion: container nesting depth */
	uint32_t max_files;           /* MaxFiles: members scanned in one top-level file */
	uint64_t pcre_match_limit;    /* PCREMatchLimit */
	uint64_t pcre_recmatch_limit; /* PCRERecMatchLimit (PCRE2 depth limit) */
	uint64_t pcre_max_filesize;   /* PCREMaxFileSize: larger targets skip PCRE */
} ward_limits;

void ward_limits_default(ward_limits *out) WARD_NONNULL(1);

/* ---- database ---------------------------------------------------------- */

typedef struct ward_db ward_db;

typedef struct ward_load_opts {
	ward_diag_fn diag; /* may be NULL: diagnostics are dropped, errors still counted */
	void *diag_ctx;
	unsigned flags; /* WARD_LOAD_* */
	/* Directory for the compiled-database cache, or NULL for none. Created
	 * (mode 0700) when missing; used only when it and its files belong to
	 * the caller's user and nobody else can write them. It holds compiled
	 * Vectorscan databases and compiled images of whole loads; their keys
	 * cover the signature files' bytes, this build of Ward, Vectorscan's
	 * version and the CPU, so a stale entry is never used. Copied during the
	 * call. */
	const char *cache_dir;
} ward_load_opts;

/* Refuse .cvd/.cld files whose digital signature does not verify (default: refuse;
 * this flag accepts them with a diagnostic, for testing only). */
#define WARD_LOAD_ALLOW_UNSIGNED_CVD 0x1u

/* Load every path (a database file or a directory of them) and compile the
 * result. Bad lines are reported through opts->diag and skipped; the rest loads.
 * Returns WARD_OK with *out set when the database compiled, even if some lines
 * or files were bad (see ward_db_count(db, WARD_COUNT_BAD_LINES) and
 * WARD_COUNT_BAD_FILES: a caller should report those in its exit status). On
 * failure *out is NULL.
 * The caller owns *out: ward_db_free(). */
ward_err ward_db_load(const char *const *paths, size_t npaths, const ward_load_opts *opts,
		      ward_db **out) WARD_WUR WARD_NONNULL(4);

void ward_db_free(ward_db *db);

/* Counters for `ward db info`. */
typedef enum ward_count {
	WARD_COUNT_HASH = 0,       /* .hdb .hsb */
	WARD_COUNT_SECTHASH,       /* .mdb .msb */
	WARD_COUNT_IMPHASH,        /* .imp */
	WARD_COUNT_BODY,           /* .ndb */
	WARD_COUNT_LOGICAL,        /* .ldb */
	WARD_COUNT_ALLOW,          /* .fp .sfp */
	WARD_COUNT_IGNORE,         /* .ign .ign2 */
	WARD_COUNT_SKIPPED_FLEVEL, /* outside MinFL:MaxFL */
	WARD_COUNT_UNSUPPORTED,    /* loaded but never matches; see ward_db_unsupported() */
	WARD_COUNT_BAD_LINES,      /* rejected with a diagnostic */
	WARD_COUNT_ANCHORS,        /* distinct anchors given to Vectorscan */
	WARD_COUNT_UNANCHORED,     /* signatures verified without an anchor (no usable
				    * literal, or an offset that pins the start) */
	WARD_COUNT_BAD_FILES, /* database files refused whole (unreadable, corrupt, bad signature) */
	WARD_COUNT_CACHED,    /* 0 compiled here, 1 its Vectorscan databases came from the
			       * cache, 2 all of it (the compiled image) did */
	WARD_COUNT__MAX
} ward_count;

uint64_t ward_db_count(const ward_db *db, ward_count what) WARD_NONNULL(1);

/* The i-th unsupported feature (i from 0): its name and how many signatures use
 * it. Returns false past the end. *feature points into db. */
bool ward_db_unsupported(const ward_db *db, size_t i, const char **feature, uint64_t *count)
	WARD_NONNULL(1, 3, 4);

/* ---- scanning ------------------------------------------------------------ */

typedef struct ward_scanner ward_scanner;

#define WARD_SCAN_ALLMATCH 0x1u /* report every matching signature, not the first */

/* db must outlive the scanner. limits NULL means defaults; it is copied. */
ward_err ward_scanner_new(const ward_db *db, const ward_limits *limits, unsigned flags,
			  ward_scanner **out) WARD_WUR WARD_NONNULL(1, 4);
void ward_scanner_free(ward_scanner *s);

typedef struct ward_detection {
	const char *name; /* as clamscan prints it, e.g. "Eicar-Test-Signature" */
	const char *
		inner_path; /* member path inside containers ("a/b.txt//c"), NULL for the file itself */
} ward_detection;

typedef struct ward_report {
	size_t ndetections;
	const ward_detection *detections;
	size_t nlimits;            /* limits hit during this scan ... */
	const char *const *limits; /* ... as "Heuristics.Limits.Exceeded.MaxFileSize" etc. */
	size_t nerrors;            /* problems inside the target (corrupt member, ...) */
	const char *const *errors; /* human-readable, one per problem */
	uint64_t bytes_scanned;
	uint32_t files_scanned; /* the file plus every container member reached */
} ward_report;

/* Scan an open descriptor (read, not modified; the offset is not used). path is
 * used for messages only and may be NULL. The report is owned by the scanner and
 * valid until the next scan or ward_scanner_free(). A corrupt target is not an
 * error: it is scanned as far as possible and noted in report->errors. Errors are
 * I/O on fd, allocation failure, or WARD_ETIMEOUT is NOT returned: limits go to
 * report->limits. */
ward_err ward_scanner_scan_fd(ward_scanner *s, int fd, const char *path,
			      const ward_report **report) WARD_WUR WARD_NONNULL(1, 4);

/* Same for a buffer in memory; buf is not kept. */
ward_err ward_scanner_scan_mem(ward_scanner *s, const void *buf, size_t len, const char *path,
			       const ward_report **report) WARD_WUR WARD_NONNULL(1, 5);

#ifdef __cplusplus
}
#endif
#endif /* WARD_WARD_H */
