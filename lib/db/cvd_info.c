/*
 * The .info member of a ClamAV .cvd/.cld container, and ClamAV's signature
 * over it. sigtool writes NAME.info when it builds a container:
 *
 *   ClamAV-VDB:build time:version:sigs:flevel:X:X:builder:time   (header copy)
 *   daily.ndb:1234:<sha256 of daily.ndb, 64 hex digits>            (one per file)
 *   ...
 *   DSIG:<ClamAV base 64>                                          (signature)
 *
 * The DSIG signs the SHA-256 of every byte before its line (libclamav
 * readdb.c, cli_loadinfo). freshclam rebuilds .cld files from diffs that also
 * update the .info, so the .info (not the header) is what makes a .cld
 * trustworthy. This file parses the text within fixed ceilings and checks the
 * signature exactly as libclamav's cli_versig2 does; lib/db/cvd.c matches the
 * entries against the tar members. Design: docs/internals/cvd.md.
 */
#include "db/cvd.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "ward_limits.h"
#include "util/cursor.h"
#include "util/util.h"

/* ClamAV's .info signing key, as published in ClamAV's source
 * (libclamav/readdb.c, INFO_NSTR and INFO_ESTR): a 2047-bit modulus and the
 * exponent 100002049, both decimal. Public data, needed to verify the DSIG
 * line of every official .info. */
const char cvd_info_key_n[] =
	"110888949830485454736595561066271949239289417917950476205916586974135810433227159121724968"
	"065253810558809645206184002243333205346602992339837553417406795028668299096799557343913926"
	"683783612215242053966310901051516412708572770803107343209516537005089417174191687239425078"
	"907029047027075874516216910507543078503833998653464872037984641785373922114027864813598244"
	"611972311028954150937703942166663244845939357624084685168266331921408266679234948220458053"
	"478099328484548458869717064243605586678627758760720594377033653802091016977385775154769350"
	"85469455279994113145977994084618328482151013142393373316337519977244732747977";
const char cvd_info_key_e[] = "100002049";

/* ClamAV's layout of the decoded signature (cli_versig2): 256 bytes =
 * masked block || 32-byte hash || 0xbc, with a 32-byte salt. */
#define INFO_HASH_LEN 32u
#define INFO_SALT_LEN 32u
#define INFO_DB_LEN (CVD_INFO_SIG_LEN - INFO_HASH_LEN - 1u)
#define INFO_TRAILER 0xbcu

/* ---- parsing ---- */

void cvd_info_free(struct cvd_info *info)
{
	vec_free(&info->entries);
	memset(info, 0, sizeof *info);
}

struct cvd_info_entry *cvd_info_find(struct cvd_info *info, const char *name, size_t name_len)
{
	/* Linear: at most WARD_MAX_CVD_INFO_LINES entries, looked up once per
	 * tar member (itself at most WARD_MAX_DB_FILES). */
	for (size_t i = 0; i < info->entries.len; i++) {
		struct cvd_info_entry *e = &VEC_AT(&info->entries, struct cvd_info_entry, i);
		if (e->name_len == name_len && memcmp(e->name, name, name_len) == 0)
			return e;
	}
	return NULL;
}

/* "name:size:sha256", already stripped of its line end. ClamAV splits on ':'
 * and wants exactly three fields, a decimal size and 64 hex digits. */
static ward_err parse_entry(struct cvd_info *info, const char *s, size_t n, size_t lineno,
			    char *why, size_t whylen)
{
	const char *c1 = memchr(s, ':', n);
	const char *c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - s)) : NULL;
	if (!c1 || !c2 || memchr(c2 + 1, ':', n - (size_t)(c2 + 1 - s))) {
		w_why(why, whylen, "line %zu: want name:size:sha256", lineno);
		return WARD_ECORRUPT;
	}
	struct cvd_info_entry e = {.name = s, .name_len = (size_t)(c1 - s)};
	const char *size_s = c1 + 1, *hash_s = c2 + 1;
	size_t size_n = (size_t)(c2 - size_s), hash_n = n - (size_t)(hash_s - s);
	/* An empty name can match no member; a longer one than a member name
	 * may have can match none either. */
	if (e.name_len == 0 || e.name_len > WARD_MAX_CVD_MEMBER_NAME) {
		w_why(why, whylen, "line %zu: empty or too long file name", lineno);
		return WARD_ECORRUPT;
	}
	if (!parse_u64(size_s, size_n, UINT64_MAX, &e.size)) {
		w_why(why, whylen, "line %zu: bad size \"%.*s\"", lineno, (int)size_n, size_s);
		return WARD_ECORRUPT;
	}
	if (hash_n != 2 * sizeof e.sha256) {
		w_why(why, whylen, "line %zu: bad SHA-256 (want 64 hex digits)", lineno);
		return WARD_ECORRUPT;
	}
	for (size_t i = 0; i < sizeof e.sha256; i++) {
		int hi = hexval(hash_s[2 * i]), lo = hexval(hash_s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			w_why(why, whylen, "line %zu: bad SHA-256 (want 64 hex digits)", lineno);
			return WARD_ECORRUPT;
		}
		e.sha256[i] = (uint8_t)(hi << 4 | lo);
	}
	/* ClamAV would use the first of two entries for one name; a signed
	 * .info never repeats one, so a repeat is refused rather than chosen. */
	if (cvd_info_find(info, e.name, e.name_len)) {
		w_why(why, whylen, "line %zu: %.*s is listed twice", lineno, (int)e.name_len,
		      e.name);
		return WARD_ECORRUPT;
	}
	ward_err err = vec_push(&info->entries, &e, sizeof e, WARD_MAX_CVD_INFO_LINES);
	if (err == WARD_ELIMIT)
		w_why(why, whylen, "more than %u entries", WARD_MAX_CVD_INFO_LINES);
	return err;
}

ward_err cvd_info_parse(const uint8_t *text, size_t len, struct cvd_info *info, char *why,
			size_t whylen)
{
	memset(info, 0, sizeof *info);
	if (!text)
		len = 0;
	cursor c = cur_make(text ? text : (const uint8_t *)"", len);
	size_t lineno = 0;
	while (cur_left(&c) > 0) {
		size_t start = c.pos, left = cur_left(&c);
		const uint8_t *p = cur_at(&c, start, left);
		const uint8_t *nl = memchr(p, '\n', left);
		size_t linelen = nl ? (size_t)(nl - p) : left;
		if (++lineno > WARD_MAX_CVD_INFO_LINES) {
			w_why(why, whylen, "more than %u lines before the DSIG line",
			      WARD_MAX_CVD_INFO_LINES);
			return WARD_ELIMIT;
		}
		if (linelen > WARD_MAX_CVD_INFO_LINE) {
			w_why(why, whylen, "line %zu is longer than %u bytes", lineno,
			      WARD_MAX_CVD_INFO_LINE);
			return WARD_ELIMIT;
		}
		(void)cur_skip(&c, nl ? linelen + 1 : linelen); /* within left */

		/* ClamAV stops at the first line starting "DSIG:" and reads
		 * nothing after it: what follows is neither signed nor used. The
		 * signature is the rest of the line (no line-end byte: a '\r'
		 * there is not a digit and fails the decoding, as in ClamAV). */
		if (linelen >= 5 && memcmp(p, "DSIG:", 5) == 0) {
			info->has_dsig = true;
			info->signed_len = start;
			info->dsig = (const char *)p + 5;
			info->dsig_len = linelen - 5;
			break;
		}
		/* The hash covers the raw bytes; the fields are read without
		 * the line end (ClamAV's cli_chomp drops one "\r\n" or "\n"). */
		size_t n = linelen;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		for (size_t i = 0; i < n; i++) {
			if (p[i] < 0x20 || p[i] == 0x7f) {
				w_why(why, whylen, "line %zu: control byte 0x%02x", lineno, p[i]);
				return WARD_ECORRUPT;
			}
		}
		if (lineno == 1) {
			if (n < 11 || memcmp(p, "ClamAV-VDB:", 11) != 0) {
				w_why(why, whylen, "does not start with a copy of the header");
				return WARD_ECORRUPT;
			}
			info->first_line = (const char *)p;
			info->first_line_len = n;
			continue;
		}
		if (n == 0) {
			w_why(why, whylen, "line %zu is empty", lineno);
			return WARD_ECORRUPT;
		}
		ward_err err = parse_entry(info, (const char *)p, n, lineno, why, whylen);
		if (err)
			return err;
	}
	if (!info->first_line) {
		w_why(why, whylen, "does not start with a copy of the header");
		return WARD_ECORRUPT;
	}
	/* ClamAV: "dbinfo error" when nothing follows the header copy. */
	if (info->entries.len == 0) {
		w_why(why, whylen, "lists no files");
		return WARD_ECORRUPT;
	}
	return WARD_OK;
}

/* ---- the signature ---- */

static bool sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
	unsigned int olen = 0;
	return EVP_Digest(p, n, out, &olen, EVP_sha256(), NULL) == 1 && olen == 32;
}

/* The block under the mask, unmasked: MGF1 with SHA-256 over the hash,
 * counter big-endian (PKCS #1 v2.1), as cli_versig2 computes it. */
static bool unmask(const uint8_t *masked, const uint8_t hash[INFO_HASH_LEN],
		   uint8_t db[INFO_DB_LEN])
{
	uint8_t in[INFO_HASH_LEN + 4], blk[32];
	memcpy(in, hash, INFO_HASH_LEN);
	for (uint32_t counter = 0, done = 0; done < INFO_DB_LEN; counter++) {
		in[INFO_HASH_LEN] = (uint8_t)(counter >> 24);
		in[INFO_HASH_LEN + 1] = (uint8_t)(counter >> 16);
		in[INFO_HASH_LEN + 2] = (uint8_t)(counter >> 8);
		in[INFO_HASH_LEN + 3] = (uint8_t)counter;
		if (!sha256(in, sizeof in, blk))
			return false;
		uint32_t take = INFO_DB_LEN - done < 32u ? INFO_DB_LEN - done : 32u;
		for (uint32_t i = 0; i < take; i++)
			db[done + i] = masked[done + i] ^ blk[i];
		done += take;
	}
	return true;
}

ward_err cvd_info_verify_dsig(const uint8_t digest[32], const char *dsig, size_t dsig_len,
			      const char *n_dec, const char *e_dec)
{
	ward_err err = WARD_ENOMEM;
	BN_CTX *ctx = NULL;
	BIGNUM *n = NULL, *e = NULL, *c = NULL, *m = NULL;
	uint8_t em[CVD_INFO_SIG_LEN], db[INFO_DB_LEN], mprime[8 + INFO_HASH_LEN + INFO_SALT_LEN],
		check[32];

	if (!(ctx = BN_CTX_new()) || !(c = BN_new()) || !(m = BN_new()))
		goto out;
	if (!BN_dec2bn(&n, n_dec) || !BN_dec2bn(&e, e_dec) || BN_is_zero(e)) {
		err = WARD_EINVAL;
		goto out;
	}
	/* ClamAV reads the decoded value as exactly 256 bytes; a modulus of
	 * another size is not a key this scheme can be used with. */
	int bits = BN_num_bits(n);
	if (bits > (int)CVD_INFO_SIG_LEN * 8 || bits <= (int)CVD_INFO_SIG_LEN * 8 - 8) {
		err = WARD_EINVAL;
		goto out;
	}
	/* The field's digits, as for the header signature (cvd.c). */
	if ((err = cvd_decode_dsig(dsig, dsig_len, n, c)) != WARD_OK)
		goto out;
	err = WARD_EBADSIG;
	if (!BN_mod_exp(m, c, e, n, ctx)) {
		err = WARD_ENOMEM;
		goto out;
	}
	/* m < n < 2^2048: always fits. */
	if (NEVER(BN_bn2binpad(m, em, (int)sizeof em) != (int)sizeof em)) {
		err = WARD_EINTERNAL;
		goto out;
	}
	/* What cli_versig2 accepts, and no more or less: the trailer byte; the
	 * unmasked block with its top bit cleared; its first 0x01 byte followed
	 * by exactly the 32-byte salt; SHA-256(8 zero bytes || digest || salt)
	 * equal to the hash. This is PKCS #1 v2.1 PSS with two leniencies that
	 * standard verifiers (OpenSSL's) do not have: the bytes before the 0x01
	 * need not be zero, and for this 2047-bit key only one top bit is
	 * cleared where PSS clears two. Signatures made by a standard PSS signer
	 * pass both checks (tests/unit/test_cvd.c checks this against
	 * libclamav's own cli_versig2 when it is installed). */
	if (em[CVD_INFO_SIG_LEN - 1] != INFO_TRAILER)
		goto out;
	const uint8_t *hash = em + INFO_DB_LEN;
	if (!unmask(em, hash, db)) {
		err = WARD_ENOMEM;
		goto out;
	}
	db[0] &= 0x7f;
	const uint8_t *one = memchr(db, 0x01, sizeof db);
	if (!one || (size_t)(one - db) != INFO_DB_LEN - INFO_SALT_LEN - 1)
		goto out;
	memset(mprime, 0, 8);
	memcpy(mprime + 8, digest, INFO_HASH_LEN);
	memcpy(mprime + 8 + INFO_HASH_LEN, one + 1, INFO_SALT_LEN);
	if (!sha256(mprime, sizeof mprime, check)) {
		err = WARD_ENOMEM;
		goto out;
	}
	if (CRYPTO_memcmp(check, hash, INFO_HASH_LEN) == 0)
		err = WARD_OK;
out:
	BN_free(m);
	BN_free(c);
	BN_free(e);
	BN_free(n);
	BN_CTX_free(ctx);
	return err;
}
