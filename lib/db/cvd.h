/*
 * ClamAV .cvd/.cld containers: header parsing, ClamAV's digital-signature
 * scheme, and loading with an explicit public key (for tests). The entry point
 * the loader uses is db_load_cvd() in lib/db/sigs.h. Design: docs/internals/cvd.md.
 */
#ifndef WARD_DB_CVD_H
#define WARD_DB_CVD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/bn.h>

#include "db/sigs.h"
#include "util/util.h"

/* The header is a fixed 512-byte block before the (gzipped) tar. */
#define CVD_HEADER_LEN 512u
/* Longest build-time and builder fields kept (real ones are ~25 and ~10 chars). */
#define CVD_MAX_TEXT_FIELD 64u

/* "ClamAV-VDB:build time:version:sigs:flevel:MD5:dsig:builder[:creation time]". */
struct cvd_header {
	char build_time[CVD_MAX_TEXT_FIELD + 1]; /* "16 Apr 2020 07-58 -0400" */
	uint32_t version;
	uint32_t sigs;             /* number of signatures, as the builder counted them */
	uint32_t flevel;           /* lowest functionality level the contents need */
	char md5[33];              /* 32 lowercase hex digits of MD5(everything after the header) */
	char dsig[CVD_HEADER_LEN]; /* ClamAV base-64 digital signature; may be empty */
	size_t dsig_len;
	char builder[CVD_MAX_TEXT_FIELD + 1];
	uint64_t stime; /* creation time, seconds since the epoch */
	bool has_stime; /* false for the old 8-field format */
};

/* Parse the first CVD_HEADER_LEN bytes of buf (len may be longer; shorter is
 * "truncated header"). Every field is validated; on error returns
 * WARD_ECORRUPT with the reason in why (whylen >= 1). */
ward_err cvd_parse_header(const uint8_t *buf, size_t len, struct cvd_header *out, char *why,
			  size_t whylen) WARD_WUR WARD_NONNULL(1, 3, 4);

/* Read and parse only the header of the file at path (for `ward db info`).
 * Returns WARD_EIO (errno text in why) or what cvd_parse_header returns. */
ward_err cvd_read_header(const char *path, struct cvd_header *out, char *why,
			 size_t whylen) WARD_WUR WARD_NONNULL(1, 2, 3);

/* ClamAV's scheme: dsig decodes (ClamAV's base 64, least significant digit
 * first) to c; c^e mod n must equal the 16-byte MD5 named by md5hex. n_dec and
 * e_dec are decimal strings. Returns WARD_OK, WARD_EBADSIG or WARD_ENOMEM. */
/* A ClamAV signature field (base 64 with ClamAV's alphabet a-z A-Z 0-9 + /,
 * least significant digit first) into c, for modulus n. WARD_EBADSIG for a
 * bad digit, more digits than n has bits for (which also bounds the work on
 * a hostile field) or a value >= n (ClamAV reduces silently; no signer
 * writes one); WARD_ENOMEM. Shared by the header and .info signatures. */
ward_err cvd_decode_dsig(const char *dsig, size_t dsig_len, const BIGNUM *n, BIGNUM *c);
ward_err cvd_verify_dsig(const char *md5hex, const char *dsig, size_t dsig_len, const char *n_dec,
			 const char *e_dec) WARD_WUR WARD_NONNULL(1, 2, 4, 5);

/* The two public keys a container is checked with, as decimal strings: the
 * 1024-bit key of the header signature and the 2047-bit key of the .info
 * member's DSIG line. */
struct cvd_keys {
	const char *cvd_n, *cvd_e;
	const char *info_n, *info_e;
};

/* db_load_cvd() with other public keys: tests sign their own containers with
 * keys generated at run time. This is an internal function (not in the public
 * API, never reached from a file or an option); db_load_cvd() always passes
 * cvd_clamav_keys. */
ward_err cvd_load_with_keys(struct sigset *set, const char *path, const uint8_t *buf, size_t len,
			    const struct cvd_keys *keys) WARD_WUR WARD_NONNULL(1, 2, 5);

/* ClamAV's published CVD public key (decimal), for tests and tools. */
extern const char cvd_clamav_key_n[];
extern const char cvd_clamav_key_e[];
/* ClamAV's published .info signing key (decimal). */
extern const char cvd_info_key_n[];
extern const char cvd_info_key_e[];
/* Both of ClamAV's keys: what db_load_cvd() uses. */
extern const struct cvd_keys cvd_clamav_keys;

/* ---- the .info member (lib/db/cvd_info.c) ----
 * Every official container holds NAME.info: a copy of the header line, then
 * "file:size:sha256" for the database files, then "DSIG:" and a signature
 * over the SHA-256 of all the text before that line. */

/* Bytes of ClamAV's decoded .info signature (a 2048-bit block). */
#define CVD_INFO_SIG_LEN 256u

struct cvd_info_entry {
	const char *name; /* points into the parsed text; not NUL-terminated */
	size_t name_len;
	uint64_t size;
	uint8_t sha256[32];
	bool seen; /* a tar member matched it */
};

struct cvd_info {
	const char *first_line; /* the header copy, without its line end */
	size_t first_line_len;
	vec entries;       /* struct cvd_info_entry, in file order */
	size_t signed_len; /* bytes before the DSIG line: what the DSIG covers */
	bool has_dsig;
	const char *dsig; /* the signature digits after "DSIG:"; points into the text */
	size_t dsig_len;
};

/* Parse the text of a .info member (len bytes, no NUL needed) within
 * WARD_MAX_CVD_INFO_LINES / WARD_MAX_CVD_INFO_LINE. The header line is only
 * located here (cvd.c checks it against the container's header). info points
 * into text, which must outlive it. Returns WARD_OK, WARD_ECORRUPT or
 * WARD_ELIMIT with the reason in why, or WARD_ENOMEM. Free with
 * cvd_info_free() whatever the result. */
ward_err cvd_info_parse(const uint8_t *text, size_t len, struct cvd_info *info, char *why,
			size_t whylen) WARD_WUR WARD_NONNULL(3, 4);
void cvd_info_free(struct cvd_info *info);

/* The entry named name (exact, case-sensitive as in ClamAV), or NULL. */
struct cvd_info_entry *cvd_info_find(struct cvd_info *info, const char *name, size_t name_len)
	WARD_NONNULL(1, 2);

/* ClamAV's .info signature check (libclamav cli_versig2): dsig decodes (the
 * same base 64 as the header's) to c < n; c^e mod n, as 256 bytes, must be a
 * PSS encoding (SHA-256, MGF1-SHA-256, 32-byte salt) of digest. n_dec/e_dec
 * are decimal; n must take 2041 to 2048 bits. Returns WARD_OK, WARD_EBADSIG,
 * WARD_EINVAL (bad key) or WARD_ENOMEM. */
ward_err cvd_info_verify_dsig(const uint8_t digest[32], const char *dsig, size_t dsig_len,
			      const char *n_dec, const char *e_dec) WARD_WUR WARD_NONNULL(1, 4, 5);

#endif /* WARD_DB_CVD_H */
