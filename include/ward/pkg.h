/*
 * Pattern packages: build, parse, verify, delta, lint. Format and rules:
 * docs/internals/pattern-package.md.
 *
 * Ownership: every *_new/_read/_parse/_build output is owned by the caller and
 * released with the matching *_free() (or w_free-compatible ward_pkg_buf_free()
 * for byte buffers); *_free(NULL) is a no-op. Input buffers are copied where a
 * result keeps data; no function keeps a pointer to caller memory. `why`
 * receives a one-line reason on failure (whylen may be 0 to drop it).
 */
#ifndef WARD_PKG_H
#define WARD_PKG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/ward.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WARD_PKG_KIND_FULL 1u
#define WARD_PKG_KIND_DELTA 2u
#define WARD_PKG_KEYID_LEN 8u
#define WARD_PKG_TRAILER_LEN 80u
/* engine_max when the manifest says "*". */
#define WARD_PKG_ENGINE_ANY UINT32_MAX

/* ---- keys ---- */
typedef struct ward_pkg_pubkey ward_pkg_pubkey;
typedef struct ward_pkg_seckey ward_pkg_seckey;

/* Generate a key pair and write it: the public key to pub_path, the secret key
 * to sec_path with mode 0600. Neither file may exist (O_EXCL). */
ward_err ward_pkg_keygen(const char *pub_path, const char *sec_path, char *why,
			 size_t whylen) WARD_WUR WARD_NONNULL(1, 2);

/* Read a key file (at most a few KiB). The key id is recomputed and must match. */
ward_err ward_pkg_pubkey_read(const char *path, ward_pkg_pubkey **out, char *why,
			      size_t whylen) WARD_WUR WARD_NONNULL(1, 2);
ward_err ward_pkg_pubkey_parse(const char *text, size_t len, ward_pkg_pubkey **out, char *why,
			       size_t whylen) WARD_WUR WARD_NONNULL(1, 3);
ward_err ward_pkg_seckey_read(const char *path, ward_pkg_seckey **out, char *why,
			      size_t whylen) WARD_WUR WARD_NONNULL(1, 2);
void ward_pkg_pubkey_free(ward_pkg_pubkey *k);
void ward_pkg_seckey_free(ward_pkg_seckey *k); /* wipes the secret */
/* The 8-byte key id (points into k). */
const uint8_t *ward_pkg_pubkey_id(const ward_pkg_pubkey *k) WARD_NONNULL(1);

/* ---- parsed packages ---- */
typedef struct ward_pkg ward_pkg;

typedef struct ward_pkg_file {
	const char *name;    /* NUL-terminated member name */
	const uint8_t *data; /* member bytes (points into the package) */
	size_t len;
	uint8_t sha256[32]; /* from the manifest (full) or computed (delta members) */
} ward_pkg_file;

typedef struct ward_pkg_platform {
	const char *os;   /* "linux", ... or "*" */
	const char *arch; /* "x86_64", ... or "*" */
} ward_pkg_platform;

typedef struct ward_pkg_meta {
	uint32_t kind; /* WARD_PKG_KIND_* */
	uint64_t version;
	bool is_signed; /* a trailer is present (verified only by ward_pkg_verify) */
	uint8_t key_id[WARD_PKG_KEYID_LEN]; /* from the trailer; zero when unsigned */
	/* full packages */
	uint64_t created;
	uint32_t engine_min, engine_max; /* engine_max WARD_PKG_ENGINE_ANY for "*" */
	size_t nplatforms;
	const ward_pkg_platform *platforms;
	size_t nchangelog;
	const char *const *changelog;
	/* delta packages */
	uint64_t base_version;
	uint8_t base_sha256[32], target_sha256[32];
	uint64_t target_size;
	/* both: members in package order (for a full package, the signature files) */
	size_t nfiles;
	const ward_pkg_file *files;
	/* the manifest text, NUL-terminated */
	const char *manifest;
	size_t manifest_len;
} ward_pkg_meta;

/* Parse a package WITHOUT checking its signature (inspection, fuzzing): every
 * structural rule and every member hash is checked. buf is copied. */
ward_err ward_pkg_parse(const uint8_t *buf, size_t len, ward_pkg **out, char *why,
			size_t whylen) WARD_WUR WARD_NONNULL(1, 3);

/* Verify then parse, signify-style (size cap, key id, Ed25519, then
 * structure and hashes). Returns WARD_EBADSIG for unsigned / other key / bad
 * signature, WARD_ECORRUPT for malformed, WARD_ELIMIT over the size cap.
 * out may be NULL when only the verdict is wanted. */
ward_err ward_pkg_verify(const uint8_t *buf, size_t len, const ward_pkg_pubkey *key, ward_pkg **out,
			 char *why, size_t whylen) WARD_WUR WARD_NONNULL(1, 3);
/* Same for a file (read with a size cap). */
ward_err ward_pkg_verify_file(const char *path, const ward_pkg_pubkey *key, ward_pkg **out,
			      char *why, size_t whylen) WARD_WUR WARD_NONNULL(1, 2);

void ward_pkg_free(ward_pkg *p);
/* Points into p; valid until ward_pkg_free(p). */
const ward_pkg_meta *ward_pkg_get_meta(const ward_pkg *p) WARD_NONNULL(1);

/* Should a client at this engine level on os/arch use the package? (full
 * packages; a delta serves what its target serves: check after applying.) */
bool ward_pkg_serves(const ward_pkg *p, uint32_t engine, const char *os, const char *arch)
	WARD_NONNULL(1, 3, 4);

/* ---- building ---- */
typedef struct ward_pkg_member_in {
	const char *name;
	const uint8_t *data;
	size_t len;
} ward_pkg_member_in;

typedef struct ward_pkg_build_in {
	uint64_t version;
	uint64_t created;
	uint32_t engine_min, engine_max; /* engine_max WARD_PKG_ENGINE_ANY for "*" */
	const char *const
		*platforms; /* "os/arch"; sorted and checked for duplicates by the builder */
	size_t nplatforms;
	const char *const *changelog;
	size_t nchangelog;
	const ward_pkg_member_in *members; /* any order; sorted by the builder */
	size_t nmembers;
} ward_pkg_build_in;

/* Build a full package. key NULL builds an unsigned package (tests only).
 * *out (allocated with w_malloc) is freed with ward_pkg_buf_free(). */
ward_err ward_pkg_build(const ward_pkg_build_in *in, const ward_pkg_seckey *key, uint8_t **out,
			size_t *outlen, char *why, size_t whylen) WARD_WUR WARD_NONNULL(1, 3, 4);
void ward_pkg_buf_free(uint8_t *buf);

/* ---- deltas ---- */
/* Build a signed delta from the full package base to the full package target
 * (both signed and parseable; not verified here: the builder owns them). */
ward_err ward_pkg_delta(const uint8_t *base, size_t baselen, const uint8_t *target,
			size_t targetlen, const ward_pkg_seckey *key, uint8_t **out, size_t *outlen,
			char *why, size_t whylen) WARD_WUR WARD_NONNULL(1, 3, 5, 6, 7);

/* Apply a delta to the base package and return the full target package,
 * verified with key (delta signature, base hash, per-file hashes, target hash,
 * target signature). On any error nothing is returned: fall back to the full
 * package. */
ward_err ward_pkg_apply_delta(const uint8_t *base, size_t baselen, const uint8_t *delta,
			      size_t deltalen, const ward_pkg_pubkey *key, uint8_t **out,
			      size_t *outlen, char *why, size_t whylen) WARD_WUR
	WARD_NONNULL(1, 3, 5, 6, 7);

/* ---- lint and signature metadata (lib/pkg/lint.c, on lib/db's parsers) ---- */
typedef struct ward_pkg_lint_opts {
	uint32_t min_anchor;       /* shortest acceptable fixed-byte run (default 4) */
	uint32_t max_alternatives; /* most branches in one alternation (default 256) */
} ward_pkg_lint_opts;

void ward_pkg_lint_defaults(ward_pkg_lint_opts *o) WARD_NONNULL(1);

/* One finding: the signature's name (may be NULL when the line has none we
 * could read) and the reason. Strings valid during the call only. */
typedef void (*ward_pkg_lint_fn)(void *ctx, const char *signame, const char *reason);

/* Lint one signature line of a database file called file_name (its
 * extension selects the format). A line that does not parse is a finding.
 * *nfindings gets the number of findings. opts NULL means the defaults; fn
 * may be NULL to only count. Errors: ENOMEM only. Lines outside this
 * engine's functionality level are skipped by the loader and not linted. */
ward_err ward_pkg_lint_line(const char *file_name, const char *line, size_t len,
			    const ward_pkg_lint_opts *opts, ward_pkg_lint_fn fn, void *ctx,
			    unsigned *nfindings) WARD_WUR WARD_NONNULL(1, 2, 7);

/* The functionality-level range of one signature line (MinFL/MaxFL of hash
 * and .ndb lines, Engine:X-Y of .ldb). Absent bounds give 0 and UINT32_MAX.
 * Returns false for a line that carries no signature (comment, unknown
 * format). name gets the signature name (NUL-terminated, truncated to
 * namelen-1). */
bool ward_pkg_line_flevel(const char *file_name, const char *line, size_t len, uint32_t *min,
			  uint32_t *max, char *name, size_t namelen) WARD_NONNULL(1, 2, 4, 5);

#ifdef __cplusplus
}
#endif
#endif /* WARD_PKG_H */
