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

#include "db/sigs.h"

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
ward_err cvd_verify_dsig(const char *md5hex, const char *dsig, size_t dsig_len, const char *n_dec,
			 const char *e_dec) WARD_WUR WARD_NONNULL(1, 2, 4, 5);

/* db_load_cvd() with another public key: tests sign their own containers with
 * a generated key. n_dec/e_dec are decimal strings; db_load_cvd() passes
 * ClamAV's published key. */
ward_err cvd_load_with_key(struct sigset *set, const char *path, const uint8_t *buf, size_t len,
			   const char *n_dec, const char *e_dec) WARD_WUR WARD_NONNULL(1, 2, 5, 6);

/* ClamAV's published CVD public key (decimal), for tests and tools. */
extern const char cvd_clamav_key_n[];
extern const char cvd_clamav_key_e[];

#endif /* WARD_DB_CVD_H */
