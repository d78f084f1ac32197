/*
 * Internals shared by the lib/pkg files: key structures, the package assembler,
 * hashing and signing helpers. Format: docs/internals/pattern-package.md.
 */
#ifndef WARD_PKG_INT_H
#define WARD_PKG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/pkg.h"
#include "ward_limits.h"
#include "util/util.h"

#define PKG_MAGIC "WARDPKG1"
#define PKG_SIG_MAGIC "WARDSIG1"
#define PKG_HEADER_LEN 24u
#define PKG_FLAG_SIGNED 0x1u
#define PKG_ED25519_LEN 32u
#define PKG_SIG_LEN 64u

struct ward_pkg_pubkey {
	uint8_t id[WARD_PKG_KEYID_LEN];
	uint8_t pub[PKG_ED25519_LEN];
};

struct ward_pkg_seckey {
	uint8_t id[WARD_PKG_KEYID_LEN];
	uint8_t pub[PKG_ED25519_LEN];
	uint8_t seed[PKG_ED25519_LEN]; /* secret: wiped on free */
};

/* Write a reason into why (if whylen > 0). */

void pkg_sha256(const void *p, size_t n, uint8_t out[32]);
void pkg_hex(const uint8_t *p, size_t n, char *out); /* out gets 2n+1 bytes */

/* Read a whole regular file of at most cap bytes. *out is w_malloc'd. */
ward_err pkg_read_file(const char *path, uint64_t cap, uint8_t **out, size_t *len, char *why,
		       size_t whylen);

/* Member names of full packages: 1..WARD_PKG_MAX_MEMBER_NAME of [A-Za-z0-9._-],
 * not starting with '.'. */
bool pkg_member_name_ok(const char *s, size_t n);

/* Lay out header, manifest and members (already sorted, names valid) and,
 * when with_trailer, 80 zero bytes for the trailer. */
ward_err pkg_assemble(uint32_t kind, const char *manifest, size_t mlen,
		      const ward_pkg_member_in *members, size_t n, bool with_trailer, uint8_t **out,
		      size_t *outlen, char *why, size_t whylen);

/* Sign buf[0 .. len-80) and write the trailer into the last 80 bytes. */
ward_err pkg_sign_trailer(const ward_pkg_seckey *key, uint8_t *buf, size_t len, char *why,
			  size_t whylen);

/* Rebuild the target of a delta from a parsed base and delta (no signature
 * or base-hash checks: ward_pkg_apply_delta does those). */
ward_err pkg_delta_rebuild(const ward_pkg *bp, const ward_pkg *dp, uint8_t **out, size_t *outlen,
			   char *why, size_t whylen);

#endif /* WARD_PKG_INT_H */
