/* CVD/CLD containers (lib/db/cvd.c, lib/db/cvd_info.c). The tests build
 * containers at run time: a tar (libarchive), gzipped or not, an MD5 and a
 * header signature in ClamAV's scheme made with an RSA key generated here, and
 * a .info member listing the files, signed with a second generated key in
 * ClamAV's .info scheme (PSS over SHA-256). The public halves are given to
 * cvd_load_with_keys(). The same files must be refused with ClamAV's real
 * keys, and after any damage. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "db/cvd.h"
#include "db/sigs.h"

/* ---- test signing keys ---- */
/* The header key (1024 bits, like ClamAV's) and the .info key (2047 bits,
 * like ClamAV's: its size matters to the encoding, see cvd_info.c). */
static char *key_n_dec, *key_e_dec;
static BIGNUM *key_n, *key_d;
static EVP_PKEY *info_pk;
static char *info_n_dec, *info_e_dec;
static BIGNUM *info_n, *info_d;
static struct cvd_keys test_keys;

static int rsa_parts(EVP_PKEY *pk, BIGNUM **n, BIGNUM **d, char **n_dec, char **e_dec)
{
	BIGNUM *e = NULL;
	if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) ||
	    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_D, d))
		return -1;
	*n_dec = BN_bn2dec(*n);
	*e_dec = BN_bn2dec(e);
	BN_free(e);
	return *n_dec && *e_dec ? 0 : -1;
}

static int group_setup(void **state)
{
	(void)state;
	EVP_PKEY *pk = EVP_RSA_gen(1024);
	if (!pk || rsa_parts(pk, &key_n, &key_d, &key_n_dec, &key_e_dec))
		return -1;
	EVP_PKEY_free(pk);
	if (!(info_pk = EVP_RSA_gen(2047)) ||
	    rsa_parts(info_pk, &info_n, &info_d, &info_n_dec, &info_e_dec))
		return -1;
	test_keys.cvd_n = key_n_dec;
	test_keys.cvd_e = key_e_dec;
	test_keys.info_n = info_n_dec;
	test_keys.info_e = info_e_dec;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	OPENSSL_free(key_n_dec);
	OPENSSL_free(key_e_dec);
	BN_free(key_n);
	BN_clear_free(key_d);
	OPENSSL_free(info_n_dec);
	OPENSSL_free(info_e_dec);
	BN_free(info_n);
	BN_clear_free(info_d);
	EVP_PKEY_free(info_pk);
	return 0;
}

static const char b64_alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";

/* A number in ClamAV's base 64, least significant digit first. */
static void bn_to_dsig(const BIGNUM *v, char *out, size_t outlen)
{
	BIGNUM *c = BN_dup(v);
	assert_non_null(c);
	size_t i = 0;
	while (!BN_is_zero(c)) {
		assert_true(i + 1 < outlen);
		out[i++] = b64_alpha[BN_div_word(c, 64)];
	}
	out[i] = '\0';
	BN_free(c);
}

/* ClamAV's .info scheme, made the standard way: an RSA-PSS signature
 * (SHA-256, MGF1-SHA-256, 32-byte salt) of the digest by OpenSSL, written
 * in ClamAV's base 64. */
static void pss_sign(EVP_PKEY *pk, const uint8_t digest[32], char *out, size_t outlen)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
	assert_non_null(c);
	assert_int_equal(EVP_PKEY_sign_init(c), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(c, 32), 1);
	uint8_t sig[512];
	size_t sl = sizeof sig;
	assert_int_equal(EVP_PKEY_sign(c, sig, &sl, digest, 32), 1);
	EVP_PKEY_CTX_free(c);
	BIGNUM *v = BN_bin2bn(sig, (int)sl, NULL);
	assert_non_null(v);
	bn_to_dsig(v, out, outlen);
	BN_free(v);
}

static void sha256_of(const void *p, size_t n, uint8_t out[32])
{
	unsigned int l = 0;
	assert_int_equal(EVP_Digest(p, n, out, &l, EVP_sha256(), NULL), 1);
}

/* ClamAV's scheme: c = md5^d mod n, written in base 64 (a-zA-Z0-9+/), least
 * significant digit first. */
static void sign_md5(const char *md5hex, char *out, size_t outlen)
{
	static const char alpha[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
	BIGNUM *m = NULL, *c = BN_new();
	BN_CTX *ctx = BN_CTX_new();
	assert_true(BN_hex2bn(&m, md5hex) == 32);
	assert_true(BN_mod_exp(c, m, key_d, key_n, ctx));
	size_t i = 0;
	while (!BN_is_zero(c)) {
		assert_true(i + 1 < outlen);
		BN_ULONG d = BN_div_word(c, 64);
		out[i++] = alpha[d];
	}
	out[i] = '\0';
	BN_free(m);
	BN_free(c);
	BN_CTX_free(ctx);
}

/* ---- building containers ---- */
struct member {
	const char *name;
	const char *data;
};

struct blob {
	uint8_t *p;
	size_t len;
};

static void md5_hex(const uint8_t *p, size_t n, char out[33])
{
	unsigned char d[16];
	unsigned int dl = 0;
	assert_int_equal(EVP_Digest(p, n, d, &dl, EVP_md5(), NULL), 1);
	for (size_t i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* data == NULL marks the .info member: build_tar() fills in the text. */
static struct blob make_tar(const struct member *m, size_t nm, bool gzip)
{
	size_t cap = 8u << 20, used = 0;
	uint8_t *buf = malloc(cap);
	assert_non_null(buf);
	struct archive *a = archive_write_new();
	assert_int_equal(archive_write_set_format_ustar(a), ARCHIVE_OK);
	if (gzip)
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	else
		assert_int_equal(archive_write_add_filter_none(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
	for (size_t i = 0; i < nm; i++) {
		struct archive_entry *e = archive_entry_new();
		size_t len = strlen(m[i].data);
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)len);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		assert_int_equal(archive_write_data(a, m[i].data, len), (la_ssize_t)len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	struct blob b = {buf, used};
	return b;
}

#define HDR_FMT "ClamAV-VDB:01 Jan 2025 00-00 +0000:%u:2:90:%s:%s:wardtest:1735689600"

/* A container: header (with the body's MD5 and, if sign, a signature from the
 * test key; if stale, the MD5 and signature of some other body, as in a .cld
 * freshclam rebuilt) padded with spaces, then the body. */
static struct blob make_cvd_hdr(struct blob body, unsigned version, bool sign, bool stale)
{
	char md5[33], dsig[256] = "", hdr[CVD_HEADER_LEN + 1];
	if (stale)
		md5_hex((const uint8_t *)"an older body", 13, md5);
	else
		md5_hex(body.p, body.len, md5);
	if (sign)
		sign_md5(md5, dsig, sizeof dsig);
	int n = snprintf(hdr, sizeof hdr, HDR_FMT, version, md5, dsig);
	assert_true(n > 0 && n < (int)CVD_HEADER_LEN);
	memset(hdr + n, ' ', CVD_HEADER_LEN - (size_t)n);
	struct blob out = {malloc(CVD_HEADER_LEN + body.len), CVD_HEADER_LEN + body.len};
	assert_non_null(out.p);
	memcpy(out.p, hdr, CVD_HEADER_LEN);
	memcpy(out.p + CVD_HEADER_LEN, body.p, body.len);
	free(body.p);
	return out;
}

static struct blob make_cvd_from_body(struct blob body, unsigned version, bool sign)
{
	return make_cvd_hdr(body, version, sign, false);
}

static bool is_info_name(const char *name)
{
	size_t l = strlen(name);
	return l >= 5 && !strcmp(name + l - 5, ".info");
}

/* The .info text sigtool writes: the header with placeholders for MD5 and
 * signature, "name:size:sha256" for every listed member but COPYING and the
 * .info itself, and (if sign) "DSIG:" and a signature by the test .info key
 * over the SHA-256 of all of that. Returns malloc'd text. */
static char *make_info_text(const struct member *listed, size_t nl, unsigned version, bool sign)
{
	size_t cap = 64 + (nl + 2) * 400, len = 0;
	char *t = malloc(cap);
	assert_non_null(t);
	len += (size_t)snprintf(
		t + len, cap - len,
		"ClamAV-VDB:01 Jan 2025 00-00 +0000:%u:2:90:X:X:wardtest:1735689600\n", version);
	for (size_t i = 0; i < nl; i++) {
		if (!listed[i].data || !strcmp(listed[i].name, "COPYING") ||
		    is_info_name(listed[i].name))
			continue;
		uint8_t d[32];
		size_t dl = strlen(listed[i].data);
		sha256_of(listed[i].data, dl, d);
		len += (size_t)snprintf(t + len, cap - len, "%s:%zu:", listed[i].name, dl);
		for (size_t k = 0; k < 32; k++)
			len += (size_t)snprintf(t + len, cap - len, "%02x", d[k]);
		len += (size_t)snprintf(t + len, cap - len, "\n");
		assert_true(len < cap);
	}
	if (sign) {
		uint8_t d[32];
		char dsig[400];
		sha256_of(t, len, d);
		pss_sign(info_pk, d, dsig, sizeof dsig);
		len += (size_t)snprintf(t + len, cap - len, "DSIG:%s\n", dsig);
		assert_true(len < cap);
	}
	return t;
}

/* A tar of tar_m where the member with data NULL gets a .info listing
 * `listed` (tar_m itself when listed is NULL). */
static struct blob build_tar(const struct member *tar_m, size_t nt, const struct member *listed,
			     size_t nl, bool sign_info, bool gzip)
{
	char *info = make_info_text(listed ? listed : tar_m, listed ? nl : nt, 7, sign_info);
	struct member *m = calloc(nt, sizeof *m);
	assert_non_null(m);
	for (size_t i = 0; i < nt; i++) {
		m[i] = tar_m[i];
		if (!m[i].data)
			m[i].data = info;
	}
	struct blob b = make_tar(m, nt, gzip);
	free(m);
	free(info);
	return b;
}

static const struct member std_members[] = {
	{"COPYING", "GPL-2.0 text would be here\n"},
	{"test.info", NULL},
	{"test.ndb", "Ward.Test.Body:0:*:41424344454647\n"},
	{"test.hdb", "44d88612fea8a8f36de82e1278abb02f:68:Ward.Test.Hash\n"},
	{"notes.txt", "not a database: skipped as ClamAV does\n"},
};
#define NSTD (sizeof std_members / sizeof std_members[0])

static struct blob std_cvd(bool gzip)
{
	return make_cvd_from_body(build_tar(std_members, NSTD, NULL, 0, true, gzip), 7, true);
}

/* A .cld as freshclam leaves it: the header of an older .cvd (its MD5 and
 * signature cover another body), the body signed through its .info only. */
static struct blob std_cld(const struct member *tar_m, size_t nt, const struct member *listed,
			   size_t nl, bool sign_info, bool gzip)
{
	return make_cvd_hdr(build_tar(tar_m, nt, listed, nl, sign_info, gzip), 7, true, true);
}

static uint8_t *find_bytes(struct blob b, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i + n <= b.len; i++)
		if (!memcmp(b.p + i, s, n))
			return b.p + i;
	return NULL;
}

/* ---- loading ---- */
struct diags {
	unsigned n;
	ward_err last_code;
	char last[512];
	char all[4096];
};

static void diag_cb(void *ctx, ward_err code, const char *file, unsigned long line, const char *msg)
{
	struct diags *d = ctx;
	d->n++;
	d->last_code = code;
	if (file && line)
		snprintf(d->last, sizeof d->last, "%s:%lu: %s", file, line, msg);
	else if (file)
		snprintf(d->last, sizeof d->last, "%s: %s", file, msg);
	else
		snprintf(d->last, sizeof d->last, "%s", msg);
	size_t l = strlen(d->all);
	snprintf(d->all + l, sizeof d->all - l, "%s\n", d->last);
}

struct loaded {
	struct sigset set;
	struct diags d;
};

static ward_err load(struct loaded *L, const char *path, struct blob b, unsigned flags,
		     bool real_key)
{
	memset(&L->d, 0, sizeof L->d);
	ward_load_opts o = {diag_cb, &L->d, flags, NULL};
	sigset_init(&L->set, &o);
	if (real_key)
		return db_load_cvd(&L->set, path, b.p, b.len);
	return cvd_load_with_keys(&L->set, path, b.p, b.len, &test_keys);
}

static bool has_name(const struct sigset *set, const char *name)
{
	for (size_t i = 0; i < set->body.len; i++)
		if (!strcmp(strpool_get(&set->names, VEC_AT(&set->body, struct bodysig, i).name),
			    name))
			return true;
	for (size_t i = 0; i < set->hashes.len; i++)
		if (!strcmp(strpool_get(&set->names, VEC_AT(&set->hashes, struct hashsig, i).name),
			    name))
			return true;
	return false;
}

static void expect_std_loaded(struct loaded *L, bool official)
{
	assert_int_equal(L->set.counts[WARD_COUNT_BODY], 1);
	assert_int_equal(L->set.counts[WARD_COUNT_HASH], 1);
	assert_int_equal(L->set.counts[WARD_COUNT_BAD_LINES], 0);
	if (official) {
		assert_true(has_name(&L->set, "Ward.Test.Body"));
		assert_true(has_name(&L->set, "Ward.Test.Hash"));
	} else {
		assert_true(has_name(&L->set, "Ward.Test.Body.UNOFFICIAL"));
		assert_true(has_name(&L->set, "Ward.Test.Hash.UNOFFICIAL"));
	}
}

static void expect_refused(struct blob b, const char *path, unsigned flags, bool real_key,
			   ward_err want, const char *msg_part)
{
	struct loaded L;
	ward_err e = load(&L, path, b, flags, real_key);
	if (e != want || (msg_part && !strstr(L.d.all, msg_part)))
		fail_msg("%s: got %d (%s), want %d with \"%s\"; diagnostics:\n%s", path, e,
			 ward_strerror(e), want, msg_part ? msg_part : "", L.d.all);
	/* Refusal is all or nothing: nothing from the container was kept. */
	assert_int_equal(L.set.body.len, 0);
	assert_int_equal(L.set.hashes.len, 0);
	sigset_free(&L.set);
}

/* ---- tests ---- */

static void test_valid_cvd_accepted(void **state)
{
	(void)state;
	struct blob b = std_cvd(true);
	struct loaded L;
	assert_int_equal(load(&L, "test.cvd", b, 0, false), WARD_OK);
	expect_std_loaded(&L, true);
	/* COPYING, test.info and notes.txt are skipped silently, as ClamAV does. */
	assert_int_equal(L.set.counts[WARD_COUNT_UNSUPPORTED], 0);
	assert_int_equal(L.d.n, 0);
	sigset_free(&L.set);
	free(b.p);
}

static void test_uncompressed_cvd_accepted(void **state)
{
	(void)state;
	struct blob b = std_cvd(false);
	struct loaded L;
	assert_int_equal(load(&L, "test.cvd", b, 0, false), WARD_OK);
	expect_std_loaded(&L, true);
	sigset_free(&L.set);
	free(b.p);
}

/* A .cld is a plain tar by default (freshclam), gzipped with
 * CompressLocalDatabase: both load when signed. */
static void test_cld_variants(void **state)
{
	(void)state;
	for (int gz = 0; gz <= 1; gz++) {
		struct blob b = std_cvd(gz);
		struct loaded L;
		assert_int_equal(load(&L, "daily.cld", b, 0, false), WARD_OK);
		expect_std_loaded(&L, true);
		sigset_free(&L.set);
		free(b.p);
	}
}

/* A .cld rebuilt locally keeps its CVD's header, whose MD5 no longer matches:
 * the header is not what vouches for it, the signed .info is. Damage to a
 * database member makes it unverified: refused by default, unofficial when
 * allowed. The same damage in a .cvd is corruption (its MD5). */
static void test_cld_stale_header(void **state)
{
	(void)state;
	struct blob b = std_cvd(false);
	uint8_t *at = find_bytes(b, "Ward.Test.Body");
	assert_non_null(at);
	at[5] ^= 0x01; /* "Ward.Uest.Body": same size, another hash */
	expect_refused(b, "daily.cld", 0, false, WARD_EBADSIG,
		       "daily.cld: digital signature does not verify (member test.ndb: SHA-256 "
		       "differs from the one in test.info)");
	struct loaded L;
	assert_int_equal(load(&L, "daily.cld", b, WARD_LOAD_ALLOW_UNSIGNED_CVD, false), WARD_OK);
	assert_int_equal(L.set.counts[WARD_COUNT_BODY], 1);
	assert_true(has_name(&L.set, "Ward.Uest.Body.UNOFFICIAL"));
	assert_true(has_name(&L.set, "Ward.Test.Hash.UNOFFICIAL"));
	assert_int_equal(L.d.last_code, WARD_EBADSIG);
	sigset_free(&L.set);
	expect_refused(b, "daily.cvd", WARD_LOAD_ALLOW_UNSIGNED_CVD, false, WARD_ECORRUPT, "MD5");
	free(b.p);
}

static void test_real_key_refuses_test_signature(void **state)
{
	(void)state;
	struct blob b = std_cvd(true);
	expect_refused(b, "test.cvd", 0, true, WARD_EBADSIG,
		       "test.cvd: digital signature does not verify");
	struct loaded L;
	assert_int_equal(load(&L, "test.cvd", b, WARD_LOAD_ALLOW_UNSIGNED_CVD, true), WARD_OK);
	expect_std_loaded(&L, false);
	assert_true(strstr(L.d.all, "unofficial") != NULL);
	sigset_free(&L.set);
	free(b.p);
}

static void test_unsigned_refused(void **state)
{
	(void)state;
	struct blob b =
		make_cvd_from_body(build_tar(std_members, NSTD, NULL, 0, true, true), 7, false);
	expect_refused(b, "test.cvd", 0, false, WARD_EBADSIG,
		       "digital signature does not verify (missing)");
	struct loaded L;
	assert_int_equal(load(&L, "test.cvd", b, WARD_LOAD_ALLOW_UNSIGNED_CVD, false), WARD_OK);
	expect_std_loaded(&L, false);
	sigset_free(&L.set);
	free(b.p);
}

/* A published daily.cvd header (version 25784, April 2020): its signature
 * verifies against ClamAV's real key; one changed digit does not. */
static const char real_header[] =
	"ClamAV-VDB:16 Apr 2020 07-58 -0400:25784:2267600:63:92baacd59fd26e6bcf03077add78d209:"
	"4Jp9JtGJY6nUk8JHDQQpQeBwlfXqskvhXL+vesDNqAeWCmjbudU+Hy/Nj4/BH2vl70c/R5B/VYY+eqqCQo6o7VGLqLJr/"
	"E+19gejqMp/iRcuHrtnLw6V/x3UjO3/qYVSlcJvAjtMI7FK32wjB+Sp8kaS/ZbfaFQp6trRQhisjqf:raynman:1587038339";

static void test_real_header_signature(void **state)
{
	(void)state;
	uint8_t h[CVD_HEADER_LEN];
	memset(h, ' ', sizeof h);
	memcpy(h, real_header, strlen(real_header));
	struct cvd_header hdr;
	char why[256];
	assert_int_equal(cvd_parse_header(h, sizeof h, &hdr, why, sizeof why), WARD_OK);
	assert_int_equal(hdr.version, 25784);
	assert_int_equal(hdr.sigs, 2267600);
	assert_int_equal(hdr.flevel, 63);
	assert_true(hdr.has_stime);
	assert_int_equal(hdr.stime, 1587038339);
	assert_string_equal(hdr.builder, "raynman");
	assert_string_equal(hdr.build_time, "16 Apr 2020 07-58 -0400");
	assert_int_equal(cvd_verify_dsig(hdr.md5, hdr.dsig, hdr.dsig_len, cvd_clamav_key_n,
					 cvd_clamav_key_e),
			 WARD_OK);
	/* Wrong MD5, one flipped signature digit, or the test key: refused. */
	char md5[33];
	memcpy(md5, hdr.md5, sizeof md5);
	md5[31] = md5[31] == '0' ? '1' : '0';
	assert_int_equal(
		cvd_verify_dsig(md5, hdr.dsig, hdr.dsig_len, cvd_clamav_key_n, cvd_clamav_key_e),
		WARD_EBADSIG);
	char was = hdr.dsig[10];
	hdr.dsig[10] = was == 'a' ? 'b' : 'a';
	assert_int_equal(cvd_verify_dsig(hdr.md5, hdr.dsig, hdr.dsig_len, cvd_clamav_key_n,
					 cvd_clamav_key_e),
			 WARD_EBADSIG);
	hdr.dsig[10] = was;
	assert_int_equal(cvd_verify_dsig(hdr.md5, hdr.dsig, hdr.dsig_len, cvd_clamav_key_n,
					 cvd_clamav_key_e),
			 WARD_OK);
	assert_int_equal(cvd_verify_dsig(hdr.md5, hdr.dsig, hdr.dsig_len, key_n_dec, key_e_dec),
			 WARD_EBADSIG);
	/* Characters outside ClamAV's alphabet, and too many digits. */
	assert_int_equal(cvd_verify_dsig(hdr.md5, "ab=c", 4, cvd_clamav_key_n, cvd_clamav_key_e),
			 WARD_EBADSIG);
	char longsig[300];
	memset(longsig, 'Z', sizeof longsig);
	assert_int_equal(cvd_verify_dsig(hdr.md5, longsig, sizeof longsig, cvd_clamav_key_n,
					 cvd_clamav_key_e),
			 WARD_EBADSIG);
}

/* Every header field malformed in turn: a clear reason each time. */
static void test_header_fields_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *why;
	} cases[] = {
		{"ClamAV-VDX:01 Jan 2025:7:2:90:00000000000000000000000000000000:sig:b:1",
		 "bad magic"},
		{"", "bad magic"},
		{"ClamAV-VDB:", "missing version"},
		{"ClamAV-VDB:01 Jan 2025:7:2:90:00000000000000000000000000000000:sig",
		 "missing builder"},
		{"ClamAV-VDB::7:2:90:00000000000000000000000000000000:sig:b:1", "bad build time"},
		{"ClamAV-VDB:01 Jan 2025:x7:2:90:00000000000000000000000000000000:sig:b:1",
		 "bad version"},
		{"ClamAV-VDB:01 Jan 2025::2:90:00000000000000000000000000000000:sig:b:1",
		 "bad version"},
		{"ClamAV-VDB:01 Jan 2025:4294967296:2:90:00000000000000000000000000000000:sig:b:1",
		 "bad version"},
		{"ClamAV-VDB:01 Jan 2025:7:-2:90:00000000000000000000000000000000:sig:b:1",
		 "bad number-of-signatures"},
		{"ClamAV-VDB:01 Jan 2025:7:2: 90:00000000000000000000000000000000:sig:b:1",
		 "bad functionality level"},
		{"ClamAV-VDB:01 Jan 2025:7:2:90:0000000000000000000000000000000:sig:b:1",
		 "bad MD5"},
		{"ClamAV-VDB:01 Jan 2025:7:2:90:0000000000000000000000000000000A:sig:b:1",
		 "bad MD5"},
		{"ClamAV-VDB:01 Jan 2025:7:2:90:0000000000000000000000000000000g:sig:b:1",
		 "bad MD5"},
		{"ClamAV-VDB:01 Jan 2025:7:2:90:00000000000000000000000000000000:sig::1",
		 "bad builder"},
		{"ClamAV-VDB:01 Jan 2025:7:2:90:00000000000000000000000000000000:sig:b:1x",
		 "bad creation time"},
		{"ClamAV-VDB:01 Jan 2025:7:2:90:00000000000000000000000000000000:sig:b:1:extra",
		 "too many header fields"},
		{"ClamAV-VDB:01 Jan 2025:7:2:90:00000000000000000000000000000000:sig:b:1\tx",
		 "bad header byte"},
		{"ClamAV-VDB:01 Jan 2025:7:2:90:00000000000000000000000000000000:sig:b:1\0junk",
		 "bad header padding"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t h[CVD_HEADER_LEN];
		memset(h, ' ', sizeof h);
		/* The NUL case copies past the terminator on purpose. */
		size_t n = strlen(cases[i].text);
		if (strstr(cases[i].why, "padding"))
			n += 5;
		memcpy(h, cases[i].text, n);
		struct cvd_header hdr;
		char why[256] = "";
		ward_err e = cvd_parse_header(h, sizeof h, &hdr, why, sizeof why);
		if (e != WARD_ECORRUPT || !strstr(why, cases[i].why))
			fail_msg("case %zu: got %d \"%s\", want \"%s\"", i, e, why, cases[i].why);
	}
	/* The old 8-field form (no creation time) is valid. */
	uint8_t h[CVD_HEADER_LEN];
	memset(h, ' ', sizeof h);
	const char *old = "ClamAV-VDB:01 Jan 2025:7:2:90:00000000000000000000000000000000:sig:b";
	memcpy(h, old, strlen(old));
	struct cvd_header hdr;
	char why[256];
	assert_int_equal(cvd_parse_header(h, sizeof h, &hdr, why, sizeof why), WARD_OK);
	assert_false(hdr.has_stime);
	/* 512 printable bytes and no padding: refused. */
	memset(h, 'a', sizeof h);
	memcpy(h, old, strlen(old));
	assert_int_equal(cvd_parse_header(h, sizeof h, &hdr, why, sizeof why), WARD_ECORRUPT);

	/* Through the loader, the diagnostic names the file. */
	struct blob b = std_cvd(true);
	memcpy(b.p, "ClamAV-VDX", 10);
	expect_refused(b, "bad.cvd", 0, false, WARD_ECORRUPT, "bad.cvd: bad magic");
	free(b.p);
}

static void test_header_file(void **state)
{
	(void)state;
	struct blob b = std_cvd(true);
	char path[] = "/tmp/ward_test_cvd_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b.p, 1, b.len, f), b.len);
	fclose(f);
	struct cvd_header hdr;
	char why[256];
	assert_int_equal(cvd_read_header(path, &hdr, why, sizeof why), WARD_OK);
	assert_int_equal(hdr.version, 7);
	assert_int_equal(hdr.sigs, 2);
	assert_int_equal(hdr.flevel, 90);
	assert_int_equal(hdr.stime, 1735689600);
	unlink(path);
	assert_int_equal(cvd_read_header(path, &hdr, why, sizeof why), WARD_EIO);
	free(b.p);
}

static void test_truncated(void **state)
{
	(void)state;
	struct blob b = std_cvd(true);
	size_t cuts[] = {0, 1, 11, 100, 511, 512, 513, 530, b.len / 2, b.len - 8, b.len - 1};
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		struct blob t = {b.p, cuts[i]};
		const char *want = cuts[i] < CVD_HEADER_LEN ? "truncated header"
				   : cuts[i] == 512         ? "truncated"
							    : "MD5";
		expect_refused(t, "cut.cvd", WARD_LOAD_ALLOW_UNSIGNED_CVD, false, WARD_ECORRUPT,
			       want);
	}
	/* A truncated .cld gets past the MD5 (unverified, allowed), then the tar
	 * reader must notice. */
	struct blob c = std_cvd(false);
	size_t ccuts[] = {513, 512 + 512, 512 + 600, 512 + 2048 + 100, 512 + 4096 + 10};
	for (size_t i = 0; i < sizeof ccuts / sizeof ccuts[0]; i++) {
		struct blob t = {c.p, ccuts[i]};
		expect_refused(t, "cut.cld", WARD_LOAD_ALLOW_UNSIGNED_CVD, false, WARD_ECORRUPT,
			       "cut.cld");
	}
	free(b.p);
	free(c.p);
}

static void test_md5_mismatch(void **state)
{
	(void)state;
	struct blob b = std_cvd(true);
	/* The MD5 field starts after "ClamAV-VDB:01 Jan 2025 00-00 +0000:7:2:90:". */
	char *md5 = strstr((char *)b.p, ":90:") + 4;
	md5[0] = md5[0] == 'a' ? 'b' : 'a';
	expect_refused(b, "md5.cvd", 0, false, WARD_ECORRUPT, "does not match the header");
	expect_refused(b, "md5.cvd", WARD_LOAD_ALLOW_UNSIGNED_CVD, false, WARD_ECORRUPT, "MD5");
	free(b.p);
}

static void test_body_bitflip(void **state)
{
	(void)state;
	struct blob b = std_cvd(true);
	size_t where[] = {CVD_HEADER_LEN, CVD_HEADER_LEN + 10,
			  CVD_HEADER_LEN + (b.len - CVD_HEADER_LEN) / 2, b.len - 1};
	for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
		b.p[where[i]] ^= 0x20;
		expect_refused(b, "flip.cvd", 0, false, WARD_ECORRUPT, "MD5");
		b.p[where[i]] ^= 0x20;
	}
	free(b.p);
}

static void test_signature_bitflip(void **state)
{
	(void)state;
	struct blob b = std_cvd(true);
	char *sig = strchr(strstr((char *)b.p, ":90:") + 4, ':') + 1;
	for (size_t i = 0; i < 3; i++) {
		char *at = sig + i * 40;
		char was = *at;
		*at = was == 'a' ? 'b' : 'a';
		expect_refused(b, "sig.cvd", 0, false, WARD_EBADSIG,
			       "digital signature does not verify");
		*at = was;
	}
	struct loaded L;
	assert_int_equal(load(&L, "sig.cvd", b, 0, false), WARD_OK);
	sigset_free(&L.set);
	free(b.p);
}

/* Header fields outside the signed MD5 (version, counts, level, time) are
 * bound to the signed .info member, as ClamAV does. */
static void test_header_field_flip(void **state)
{
	(void)state;
	struct blob b = std_cvd(true);
	char *ver = strstr((char *)b.p, "+0000:7:") + 6;
	*ver = '8';
	expect_refused(b, "ver.cvd", 0, false, WARD_ECORRUPT,
		       "does not match the signed test.info");
	*ver = '7';
	char *flevel = strstr((char *)b.p, ":90:") + 1;
	*flevel = '8';
	expect_refused(b, "fl.cvd", 0, false, WARD_ECORRUPT, "does not match the signed");
	free(b.p);

	/* No .info member at all: refused as ClamAV does. */
	struct member noinfo[] = {{"test.ndb", "Ward.Test.Body:0:*:41424344454647\n"}};
	b = make_cvd_from_body(make_tar(noinfo, 1, true), 7, true);
	expect_refused(b, "noinfo.cvd", 0, false, WARD_ECORRUPT, "no .info member");
	free(b.p);
}

static void test_bad_members(void **state)
{
	(void)state;
	/* Slash in a name: ClamAV refuses the container. */
	struct member slash[] = {{"test.info", NULL}, {"dir/x.ndb", "A:0:*:4142\n"}};
	struct blob b = make_cvd_from_body(build_tar(slash, 2, NULL, 0, true, true), 7, true);
	expect_refused(b, "slash.cvd", 0, false, WARD_ECORRUPT, "slash");
	free(b.p);

	/* Control characters in a name (terminal escapes): refused. */
	struct member esc[] = {{"test.info", NULL}, {"\033[2Jx.ndb", "A:0:*:4142\n"}};
	b = make_cvd_from_body(build_tar(esc, 2, NULL, 0, true, true), 7, true);
	expect_refused(b, "esc.cvd", 0, false, WARD_ECORRUPT, "control characters");
	free(b.p);

	/* A nested container is not loaded: counted as unsupported. */
	struct member nested[] = {{"test.info", NULL},
				  {"inner.cvd", "ClamAV-VDB:junk"},
				  {"test.ndb", "Ward.Test.Body:0:*:41424344454647\n"}};
	b = make_cvd_from_body(build_tar(nested, 3, NULL, 0, true, true), 7, true);
	struct loaded L;
	assert_int_equal(load(&L, "nested.cvd", b, 0, false), WARD_OK);
	assert_int_equal(L.set.counts[WARD_COUNT_BODY], 1);
	assert_int_equal(L.set.counts[WARD_COUNT_UNSUPPORTED], 1);
	sigset_free(&L.set);
	free(b.p);

	/* Databases ClamAV loads and Ward does not (.cfg, .ioc): counted. */
	struct member unsup[] = {{"test.info", NULL},
				 {"daily.cfg", "DOCUMENT:0x0:0:0\nPE:0x0:0:0\n"},
				 {"x.ioc", "example.com\n"}};
	b = make_cvd_from_body(build_tar(unsup, 3, NULL, 0, true, true), 7, true);
	assert_int_equal(load(&L, "unsup.cvd", b, 0, false), WARD_OK);
	assert_int_equal(L.set.counts[WARD_COUNT_UNSUPPORTED], 3);
	sigset_free(&L.set);
	free(b.p);

	/* Not a tar at all (but correctly signed): corrupt. */
	struct blob junk = {malloc(64), 64};
	memset(junk.p, 'J', 64);
	b = make_cvd_from_body(junk, 7, true);
	expect_refused(b, "junk.cvd", 0, false, WARD_ECORRUPT, "corrupt container");
	free(b.p);
}

static void test_too_many_members(void **state)
{
	(void)state;
	size_t n = WARD_MAX_DB_FILES + 1;
	struct member *m = calloc(n, sizeof *m);
	char(*names)[32] = calloc(n, sizeof *names);
	assert_non_null(m);
	assert_non_null(names);
	m[0].name = "test.info";
	m[0].data = NULL;
	for (size_t i = 1; i < n; i++) {
		snprintf(names[i], sizeof names[i], "f%zu.txt", i);
		m[i].name = names[i];
		m[i].data = "";
	}
	struct blob b = make_cvd_from_body(build_tar(m, n, NULL, 0, true, true), 7, true);
	expect_refused(b, "many.cvd", 0, false, WARD_ELIMIT, "more than 4096 members");
	free(b.p);
	/* Exactly the limit is fine (and so is a .info listing all of them). */
	b = make_cvd_from_body(build_tar(m, n - 1, NULL, 0, true, true), 7, true);
	struct loaded L;
	assert_int_equal(load(&L, "many.cvd", b, 0, false), WARD_OK);
	sigset_free(&L.set);
	free(b.p);
	free(m);
	free(names);
}

/* Every allocation failure point: the load fails cleanly with WARD_ENOMEM
 * (ASan builds check nothing leaks), until it succeeds. */
static void test_alloc_failures(void **state)
{
	(void)state;
	struct blob b = std_cvd(true);
	long n;
	for (n = 0; n < 100000; n++) {
		struct loaded L;
		memset(&L.d, 0, sizeof L.d);
		ward_load_opts o = {diag_cb, &L.d, 0, NULL};
		sigset_init(&L.set, &o);
		ward_alloc_fail_after(n);
		ward_err e = cvd_load_with_keys(&L.set, "oom.cvd", b.p, b.len, &test_keys);
		ward_alloc_fail_after(-1);
		if (e == WARD_OK) {
			expect_std_loaded(&L, true);
			sigset_free(&L.set);
			break;
		}
		if (e != WARD_ENOMEM)
			fail_msg("failure point %ld: got %d (%s)", n, e, ward_strerror(e));
		sigset_free(&L.set);
	}
	assert_true(n > 0 && n < 100000);
	free(b.p);
}

/* ---- the .info member and its DSIG (lib/db/cvd_info.c) ---- */

/* A .cld whose header MD5 and signature cover another body loads as official
 * when its .info verifies and lists every member (plain and gzipped). */
static void test_cld_info_official(void **state)
{
	(void)state;
	for (int gz = 0; gz <= 1; gz++) {
		struct blob b = std_cld(std_members, NSTD, NULL, 0, true, gz);
		struct loaded L;
		assert_int_equal(load(&L, "daily.cld", b, 0, false), WARD_OK);
		expect_std_loaded(&L, true);
		assert_int_equal(L.d.n, 0);
		sigset_free(&L.set);
		/* The same bytes named .cvd: the stale MD5 is corruption there. */
		expect_refused(b, "daily.cvd", 0, false, WARD_ECORRUPT, "MD5");
		free(b.p);
	}
}

/* A database member that is not the one the .info lists: by size, by hash. */
static void test_cld_member_tampered(void **state)
{
	(void)state;
	struct member m[NSTD];
	memcpy(m, std_members, sizeof m);
	m[2].data = "Ward.Test.Body:0:*:4142434445464748\n"; /* two bytes longer */
	struct blob b = std_cld(m, NSTD, std_members, NSTD, true, false);
	expect_refused(
		b, "daily.cld", 0, false, WARD_EBADSIG,
		"daily.cld: digital signature does not verify (member test.ndb has 36 bytes, "
		"test.info says 34)");
	struct loaded L;
	assert_int_equal(load(&L, "daily.cld", b, WARD_LOAD_ALLOW_UNSIGNED_CVD, false), WARD_OK);
	assert_true(has_name(&L.set, "Ward.Test.Body.UNOFFICIAL"));
	assert_true(strstr(L.d.all, "loading as unofficial") != NULL);
	sigset_free(&L.set);
	free(b.p);

	m[2].data = "Ward.Test.Body:0:*:41424344454648\n"; /* same size */
	b = std_cld(m, NSTD, std_members, NSTD, true, true);
	expect_refused(b, "daily.cld", 0, false, WARD_EBADSIG,
		       "member test.ndb: SHA-256 differs from the one in test.info");
	free(b.p);

	/* COPYING is not listed (sigtool never lists it) and not loaded:
	 * changing it changes nothing Ward loads, as in ClamAV. */
	memcpy(m, std_members, sizeof m);
	m[0].data = "another licence text\n";
	b = std_cld(m, NSTD, std_members, NSTD, true, false);
	assert_int_equal(load(&L, "daily.cld", b, 0, false), WARD_OK);
	expect_std_loaded(&L, true);
	sigset_free(&L.set);
	free(b.p);
}

/* A database member the .info does not list is refused (ClamAV: "File ... not
 * found in .info"); a listed file the tar lacks too (Ward only). */
static void test_cld_unlisted_and_missing(void **state)
{
	(void)state;
	struct member more[NSTD + 1];
	memcpy(more, std_members, sizeof std_members);
	more[NSTD].name = "extra.ndb";
	more[NSTD].data = "Ward.Test.Extra:0:*:48494a4b4c4d\n";
	struct blob b = std_cld(more, NSTD + 1, std_members, NSTD, true, false);
	expect_refused(b, "daily.cld", 0, false, WARD_EBADSIG,
		       "member extra.ndb is not listed in test.info");
	free(b.p);
	b = std_cld(std_members, NSTD, more, NSTD + 1, true, false);
	expect_refused(b, "daily.cld", 0, false, WARD_EBADSIG,
		       "test.info lists extra.ndb, which is not in the container");
	free(b.p);

	/* An unlisted member ClamAV would not load (not a database kind) is
	 * metadata: allowed, as COPYING is. */
	more[NSTD].name = "README";
	b = std_cld(more, NSTD + 1, std_members, NSTD, true, false);
	struct loaded L;
	assert_int_equal(load(&L, "daily.cld", b, 0, false), WARD_OK);
	expect_std_loaded(&L, true);
	sigset_free(&L.set);
	free(b.p);

	/* A nested container is not loaded, but ClamAV would: it must be listed. */
	more[NSTD].name = "inner.cld";
	b = std_cld(more, NSTD + 1, std_members, NSTD, true, false);
	expect_refused(b, "daily.cld", 0, false, WARD_EBADSIG,
		       "member inner.cld is not listed in test.info");
	free(b.p);
}

/* No DSIG line: unverified, for a .cld and a .cvd alike (ClamAV: "Digital
 * signature not found"), whatever the header says. */
static void test_info_without_dsig(void **state)
{
	(void)state;
	struct blob b = std_cld(std_members, NSTD, NULL, 0, false, false);
	expect_refused(b, "daily.cld", 0, false, WARD_EBADSIG,
		       "digital signature does not verify (test.info has no DSIG line)");
	struct loaded L;
	assert_int_equal(load(&L, "daily.cld", b, WARD_LOAD_ALLOW_UNSIGNED_CVD, false), WARD_OK);
	expect_std_loaded(&L, false);
	sigset_free(&L.set);
	free(b.p);

	b = make_cvd_from_body(build_tar(std_members, NSTD, NULL, 0, false, true), 7, true);
	expect_refused(b, "daily.cvd", 0, false, WARD_EBADSIG, "test.info has no DSIG line");
	free(b.p);
}

/* The test-signed .info against ClamAV's real .info key, a changed digit, a
 * changed byte of the signed text: refused. */
static void test_info_wrong_key_or_damage(void **state)
{
	(void)state;
	struct blob b = std_cld(std_members, NSTD, NULL, 0, true, false);
	expect_refused(b, "daily.cld", 0, true, WARD_EBADSIG,
		       "daily.cld: digital signature does not verify (the DSIG line of test.info "
		       "does not verify)");

	uint8_t *dsig = find_bytes(b, "DSIG:");
	assert_non_null(dsig);
	uint8_t was = dsig[5 + 100];
	dsig[5 + 100] = was == 'a' ? 'b' : 'a';
	expect_refused(b, "daily.cld", 0, false, WARD_EBADSIG,
		       "the DSIG line of test.info does not verify");
	dsig[5 + 100] = was;
	struct loaded L;
	assert_int_equal(load(&L, "daily.cld", b, 0, false), WARD_OK);
	sigset_free(&L.set);

	/* One byte of an entry's hash (signed text): refused by the DSIG. */
	uint8_t *entry = find_bytes(b, "test.hdb:");
	assert_non_null(entry);
	uint8_t *hex = entry + strlen("test.hdb:52:");
	*hex = *hex == '0' ? '1' : '0';
	expect_refused(b, "daily.cld", 0, false, WARD_EBADSIG,
		       "the DSIG line of test.info does not verify");
	free(b.p);
}

/* Malformed .info texts: a clear reason, WARD_ECORRUPT (or WARD_ELIMIT). */
static void test_info_malformed(void **state)
{
	(void)state;
	static const char hdr[] =
		"ClamAV-VDB:01 Jan 2025 00-00 +0000:7:2:90:X:X:wardtest:1735689600\n";
	static const char h64[] =
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	static const struct {
		const char *body; /* after the header line */
		ward_err want;
		const char *why;
	} cases[] = {
		{"", WARD_ECORRUPT, "lists no files"},
		{"DSIG:abc\n", WARD_ECORRUPT, "lists no files"},
		{"\n", WARD_ECORRUPT, "line 2 is empty"},
		{"a.ndb:12\n", WARD_ECORRUPT, "line 2: want name:size:sha256"},
		{"a.ndb:12:%s:x\n", WARD_ECORRUPT, "line 2: want name:size:sha256"},
		{":12:%s\n", WARD_ECORRUPT, "line 2: empty or too long file name"},
		{"a.ndb:-1:%s\n", WARD_ECORRUPT, "line 2: bad size"},
		{"a.ndb::%s\n", WARD_ECORRUPT, "line 2: bad size"},
		{"a.ndb:99999999999999999999:%s\n", WARD_ECORRUPT, "line 2: bad size"},
		{"a.ndb:1:0123\n", WARD_ECORRUPT, "line 2: bad SHA-256"},
		{"a.ndb:1:%sa\n", WARD_ECORRUPT, "line 2: bad SHA-256"},
		{"a.ndb:1:g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
		 WARD_ECORRUPT, "line 2: bad SHA-256"},
		{"a.ndb:1:%s\na.ndb:2:%s\n", WARD_ECORRUPT, "line 3: a.ndb is listed twice"},
		{"a.ndb:1:%s\x01\n", WARD_ECORRUPT, "line 2: control byte 0x01"},
		{"a\x1b[2J.ndb:1:%s\n", WARD_ECORRUPT, "line 2: control byte 0x1b"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[600];
		int n = snprintf(text, sizeof text, "%s", hdr);
		/* "%s" in a case stands for a valid 64-digit hash. */
		for (const char *q = cases[i].body; *q; q++) {
			if (q[0] == '%' && q[1] == 's') {
				n += snprintf(text + n, sizeof text - (size_t)n, "%s", h64);
				q++;
			} else {
				text[n++] = *q;
			}
		}
		struct cvd_info info;
		char why[256] = "";
		ward_err e =
			cvd_info_parse((const uint8_t *)text, (size_t)n, &info, why, sizeof why);
		if (e != cases[i].want || !strstr(why, cases[i].why))
			fail_msg("case %zu: got %d \"%s\", want %d \"%s\"", i, e, why,
				 cases[i].want, cases[i].why);
		cvd_info_free(&info);
	}
	/* Not starting with a header copy. */
	struct cvd_info info;
	char why[256];
	assert_int_equal(cvd_info_parse((const uint8_t *)"a.ndb:1:x\n", 10, &info, why, sizeof why),
			 WARD_ECORRUPT);
	assert_non_null(strstr(why, "header"));
	cvd_info_free(&info);
	assert_int_equal(cvd_info_parse(NULL, 0, &info, why, sizeof why), WARD_ECORRUPT);
	cvd_info_free(&info);

	/* A well-formed one: CRLF line ends are read as ClamAV's cli_chomp does,
	 * the signed length stops at the DSIG line, what follows is ignored. */
	char text[1024];
	int n = snprintf(text, sizeof text, "%sa.ndb:12:%s\r\nB.hdb:0:%s\nDSIG:xyz\njunk\n\n", hdr,
			 h64, h64);
	assert_int_equal(cvd_info_parse((const uint8_t *)text, (size_t)n, &info, why, sizeof why),
			 WARD_OK);
	assert_int_equal(info.entries.len, 2);
	assert_true(info.has_dsig);
	assert_int_equal(info.dsig_len, 3);
	assert_memory_equal(info.dsig, "xyz", 3);
	assert_int_equal(info.signed_len, (size_t)(strstr(text, "DSIG:") - text));
	struct cvd_info_entry *e = cvd_info_find(&info, "B.hdb", 5);
	assert_non_null(e);
	assert_int_equal(e->size, 0);
	assert_int_equal(e->sha256[0], 0x01);
	assert_null(cvd_info_find(&info, "b.hdb", 5)); /* exact, as ClamAV's strcmp */
	assert_null(cvd_info_find(&info, "a.nd", 4));
	cvd_info_free(&info);

	/* Through the loader the diagnostic names the container and member. */
	struct member bad[] = {{"COPYING", "x\n"},
			       {"test.info",
				"ClamAV-VDB:01 Jan 2025 00-00 +0000:7:2:90:X:X:wardtest:"
				"1735689600\ntest.ndb:1\n"},
			       {"test.ndb", "Ward.Test.Body:0:*:41424344454647\n"}};
	struct blob b = make_cvd_hdr(make_tar(bad, 3, false), 7, true, true);
	expect_refused(b, "bad.cld", WARD_LOAD_ALLOW_UNSIGNED_CVD, false, WARD_ECORRUPT,
		       "bad.cld: member test.info: line 2: want name:size:sha256");
	free(b.p);
}

/* The ceilings: lines before the DSIG line, and the length of one line. */
static void test_info_limits(void **state)
{
	(void)state;
	size_t cap = ((size_t)WARD_MAX_CVD_INFO_LINES + 2) * 100 +
		     (size_t)WARD_MAX_CVD_INFO_LINE * 2,
	       len;
	char *t = malloc(cap);
	assert_non_null(t);
	struct cvd_info info;
	char why[256];
	len = (size_t)snprintf(t, cap, "ClamAV-VDB:x:1:1:1:X:X:b:1\n");
	for (unsigned i = 1; i < WARD_MAX_CVD_INFO_LINES; i++)
		len += (size_t)snprintf(t + len, cap - len, "f%u.ndb:1:%064x\n", i, i);
	/* Exactly the ceiling, then one line more. */
	assert_int_equal(cvd_info_parse((const uint8_t *)t, len, &info, why, sizeof why), WARD_OK);
	assert_int_equal(info.entries.len, WARD_MAX_CVD_INFO_LINES - 1);
	cvd_info_free(&info);
	len += (size_t)snprintf(t + len, cap - len, "DSIG:a\n");
	assert_int_equal(cvd_info_parse((const uint8_t *)t, len, &info, why, sizeof why),
			 WARD_ELIMIT);
	assert_non_null(strstr(why, "lines before the DSIG line"));
	cvd_info_free(&info);

	len = (size_t)snprintf(t, cap, "ClamAV-VDB:x:1:1:1:X:X:b:1\nDSIG:");
	memset(t + len, 'a', WARD_MAX_CVD_INFO_LINE);
	len += WARD_MAX_CVD_INFO_LINE;
	assert_int_equal(cvd_info_parse((const uint8_t *)t, len, &info, why, sizeof why),
			 WARD_ELIMIT);
	assert_non_null(strstr(why, "line 2 is longer than 1024 bytes"));
	cvd_info_free(&info);
	free(t);
}

/* cvd_info_verify_dsig() on its own: standard PSS signatures by a 2047-bit and
 * a 2048-bit key verify; anything else does not. */
static void test_info_dsig_scheme(void **state)
{
	(void)state;
	uint8_t dg[32];
	char sig[400];
	sha256_of("some .info text\n", 16, dg);
	pss_sign(info_pk, dg, sig, sizeof sig);
	size_t sl = strlen(sig);
	assert_true(sl > 300 && sl <= 342);
	assert_int_equal(cvd_info_verify_dsig(dg, sig, sl, info_n_dec, info_e_dec), WARD_OK);
	/* Another digest, the real key, the header key (wrong size for the scheme). */
	uint8_t other[32];
	memcpy(other, dg, sizeof other);
	other[31] ^= 1;
	assert_int_equal(cvd_info_verify_dsig(other, sig, sl, info_n_dec, info_e_dec),
			 WARD_EBADSIG);
	assert_int_equal(cvd_info_verify_dsig(dg, sig, sl, cvd_info_key_n, cvd_info_key_e),
			 WARD_EBADSIG);
	assert_int_equal(cvd_info_verify_dsig(dg, sig, sl, key_n_dec, key_e_dec), WARD_EINVAL);
	assert_int_equal(cvd_info_verify_dsig(dg, sig, sl, "x", info_e_dec), WARD_EINVAL);
	/* Every digit matters. */
	for (size_t i = 0; i < sl; i += 37) {
		char was = sig[i];
		sig[i] = was == 'Q' ? 'R' : 'Q';
		assert_int_equal(cvd_info_verify_dsig(dg, sig, sl, info_n_dec, info_e_dec),
				 WARD_EBADSIG);
		sig[i] = was;
	}
	/* Encoding: empty, a character outside the alphabet, a line end, too
	 * many digits, a value >= n (n itself). */
	assert_int_equal(cvd_info_verify_dsig(dg, sig, 0, info_n_dec, info_e_dec), WARD_EBADSIG);
	char bad[400];
	memcpy(bad, sig, sl);
	bad[7] = '=';
	assert_int_equal(cvd_info_verify_dsig(dg, bad, sl, info_n_dec, info_e_dec), WARD_EBADSIG);
	memcpy(bad, sig, sl);
	bad[sl] = '\r';
	assert_int_equal(cvd_info_verify_dsig(dg, bad, sl + 1, info_n_dec, info_e_dec),
			 WARD_EBADSIG);
	memset(bad, 'a', sizeof bad);
	memcpy(bad, sig, sl);
	assert_int_equal(cvd_info_verify_dsig(dg, bad, 343, info_n_dec, info_e_dec), WARD_EBADSIG);
	char nsig[400];
	bn_to_dsig(info_n, nsig, sizeof nsig);
	assert_int_equal(cvd_info_verify_dsig(dg, nsig, strlen(nsig), info_n_dec, info_e_dec),
			 WARD_EBADSIG);
	/* Trailing zero digits ('a') are the same number: ClamAV accepts them. */
	memset(bad, 0, sizeof bad);
	memcpy(bad, sig, sl);
	bad[sl] = 'a';
	assert_int_equal(
		cvd_info_verify_dsig(dg, bad, sl + 1 <= 342 ? sl + 1 : sl, info_n_dec, info_e_dec),
		WARD_OK);

	/* A 2048-bit key: the layout is then exactly PSS's. */
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	assert_non_null(pk);
	BIGNUM *n = NULL, *d = NULL;
	char *nd = NULL, *ed = NULL;
	if (rsa_parts(pk, &n, &d, &nd, &ed) != 0 || !nd || !ed)
		abort();
	pss_sign(pk, dg, sig, sizeof sig);
	assert_int_equal(cvd_info_verify_dsig(dg, sig, strlen(sig), nd, ed), WARD_OK);
	assert_int_equal(cvd_info_verify_dsig(dg, sig, strlen(sig), info_n_dec, info_e_dec),
			 WARD_EBADSIG);
	OPENSSL_free(nd);
	OPENSSL_free(ed);
	BN_free(n);
	BN_clear_free(d);
	EVP_PKEY_free(pk);

	/* ClamAV's key as Ward holds it: 2047 bits (the size the scheme's
	 * leniency is about), exponent 100002049. */
	BIGNUM *rn = NULL;
	assert_true(BN_dec2bn(&rn, cvd_info_key_n) > 0);
	assert_int_equal(BN_num_bits(rn), 2047);
	BN_free(rn);
	assert_string_equal(cvd_info_key_e, "100002049");
}

/* The raw RSA private operation on a chosen 256-byte block (to build
 * encodings a standard signer would not). */
static void raw_sign(const uint8_t em[256], char *out, size_t outlen)
{
	BIGNUM *m = BN_bin2bn(em, 256, NULL), *c = BN_new();
	BN_CTX *ctx = BN_CTX_new();
	assert_true(m && c && ctx);
	assert_true(BN_cmp(m, info_n) < 0);
	assert_true(BN_mod_exp(c, m, info_d, info_n, ctx));
	bn_to_dsig(c, out, outlen);
	BN_free(m);
	BN_free(c);
	BN_CTX_free(ctx);
}

/* A PSS encoding of digest with a salt made from salt_seed, built by hand: ps
 * is the byte to fill the bytes before the 0x01 with (0 in standard PSS), at
 * is where the 0x01 goes (190 in ClamAV's layout), trailer is the last byte
 * (0xbc). */
static void hand_encode(const uint8_t digest[32], uint8_t ps, size_t at, uint8_t trailer,
			unsigned salt_seed, uint8_t em[256])
{
	uint8_t salt[32], mp[72], h[32], db[223];
	for (size_t i = 0; i < 32; i++)
		salt[i] = (uint8_t)((size_t)salt_seed * 31 + i);
	memset(mp, 0, 8);
	memcpy(mp + 8, digest, 32);
	memcpy(mp + 40, salt, 32);
	sha256_of(mp, sizeof mp, h);
	memset(db, ps, sizeof db);
	db[at] = 0x01;
	memcpy(db + 191, salt, 32);
	for (uint32_t ctr = 0, done = 0; done < sizeof db; ctr++) {
		uint8_t in[36], blk[32];
		memcpy(in, h, 32);
		in[32] = (uint8_t)(ctr >> 24);
		in[33] = (uint8_t)(ctr >> 16);
		in[34] = (uint8_t)(ctr >> 8);
		in[35] = (uint8_t)ctr;
		sha256_of(in, sizeof in, blk);
		for (uint32_t i = 0; i < 32 && done < sizeof db; i++, done++)
			em[done] = db[done] ^ blk[i];
	}
	em[0] &= 0x3f; /* below a 2047-bit n */
	memcpy(em + 223, h, 32);
	em[255] = trailer;
}

typedef int (*versig2_fn)(const unsigned char *, const char *, const char *, const char *);
typedef int (*cl_init_fn)(unsigned int);

/* Does the signature decode (public operation) to a block whose first byte
 * is zero? */
static bool leading_zero(const char *sig)
{
	BIGNUM *c = NULL, *e = NULL, *m = BN_new();
	BN_CTX *ctx = BN_CTX_new();
	assert_true(m && ctx);
	assert_true(BN_dec2bn(&e, info_e_dec) > 0);
	BN_zero(m);
	c = BN_new();
	assert_non_null(c);
	for (size_t i = strlen(sig); i-- > 0;) {
		assert_true(BN_lshift(c, c, 6));
		assert_true(BN_add_word(c, (BN_ULONG)(strchr(b64_alpha, sig[i]) - b64_alpha)));
	}
	assert_true(BN_mod_exp(m, c, e, info_n, ctx));
	bool z = BN_num_bytes(m) < 256;
	BN_free(c);
	BN_free(e);
	BN_free(m);
	BN_CTX_free(ctx);
	return z;
}

/* Ward's check must accept what libclamav's cli_versig2 accepts. ClamAV 1.4
 * is installed as the oracle; its library exports cli_versig2 (taking the key
 * as decimal strings), so both are asked about the same signatures under the
 * throwaway key: standard PSS signatures, hand-made encodings with ClamAV's
 * leniencies, and broken ones. One known difference is not compared: when
 * the decoded block starts with a zero byte (1 signature in 64 with a
 * 2047-bit key), ClamAV 1.4's decoding drops that byte and refuses the
 * signature (libclamav's cli_decodesig converts the number without padding
 * it to 256 bytes; later versions pad it); the scheme, earlier ClamAV and
 * Ward accept it. Skipped when the library is not there. */
static void test_info_dsig_matches_libclamav(void **state)
{
	(void)state;
	void *lib = dlopen("libclamav.so.12", RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		lib = dlopen("libclamav.so", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		skip();
		return;
	}
	versig2_fn versig2 = (versig2_fn)dlsym(lib, "cli_versig2");
	cl_init_fn init = (cl_init_fn)dlsym(lib, "cl_init");
	if (!versig2 || !init) {
		dlclose(lib);
		skip();
		return;
	}
	/* A library that cannot initialise is not an oracle; that says nothing
	 * about Ward. */
	if (init(0) != 0) {
		dlclose(lib);
		skip();
		return;
	}
	char sig[400];
	for (int t = 0, compared = 0; compared < 20 && t < 1000; t++) {
		uint8_t dg[32];
		char text[32];
		int tl = snprintf(text, sizeof text, "info %d\n", t);
		sha256_of(text, (size_t)tl, dg);
		pss_sign(info_pk, dg, sig, sizeof sig);
		if (leading_zero(sig)) {
			assert_int_equal(
				cvd_info_verify_dsig(dg, sig, strlen(sig), info_n_dec, info_e_dec),
				WARD_OK);
			continue;
		}
		compared++;
		assert_int_equal(versig2(dg, sig, info_n_dec, info_e_dec), 0);
		assert_int_equal(cvd_info_verify_dsig(dg, sig, strlen(sig), info_n_dec, info_e_dec),
				 WARD_OK);
		dg[t % 32] ^= 0x80;
		assert_int_not_equal(versig2(dg, sig, info_n_dec, info_e_dec), 0);
		assert_int_equal(cvd_info_verify_dsig(dg, sig, strlen(sig), info_n_dec, info_e_dec),
				 WARD_EBADSIG);
	}
	static const struct {
		size_t at;
		uint8_t ps;
		uint8_t trailer;
		bool ok;
	} enc[] = {
		{190, 0x00, 0xbc, true},  /* standard PSS */
		{190, 0x55, 0xbc, true},  /* non-zero padding: ClamAV does not look */
		{189, 0x00, 0xbc, false}, /* salt one byte longer */
		{191, 0x00, 0xbc, false}, /* salt one byte shorter (0x01 overwritten) */
		{190, 0x01, 0xbc, false}, /* a 0x01 before the real one */
		{190, 0x00, 0xbd, false}, /* wrong trailer */
	};
	uint8_t dg[32], em[256];
	sha256_of("hand made\n", 10, dg);
	for (size_t i = 0; i < sizeof enc / sizeof enc[0]; i++) {
		/* A salt for which the block does not start with a zero byte. */
		for (unsigned seed = 0;; seed++) {
			hand_encode(dg, enc[i].ps, enc[i].at, enc[i].trailer, seed, em);
			if (em[0] != 0)
				break;
		}
		raw_sign(em, sig, sizeof sig);
		int theirs = versig2(dg, sig, info_n_dec, info_e_dec);
		ward_err ours = cvd_info_verify_dsig(dg, sig, strlen(sig), info_n_dec, info_e_dec);
		if ((theirs == 0) != enc[i].ok || (ours == WARD_OK) != enc[i].ok)
			fail_msg("encoding %zu: libclamav %d, Ward %d, want %s", i, theirs, ours,
				 enc[i].ok ? "accepted" : "refused");
	}
	/* A standard encoding whose first byte is zero: Ward accepts it. */
	for (unsigned seed = 0;; seed++) {
		hand_encode(dg, 0, 190, 0xbc, seed, em);
		if (em[0] == 0)
			break;
	}
	raw_sign(em, sig, sizeof sig);
	assert_true(leading_zero(sig));
	assert_int_equal(cvd_info_verify_dsig(dg, sig, strlen(sig), info_n_dec, info_e_dec),
			 WARD_OK);
	dlclose(lib);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_cvd_accepted),
		cmocka_unit_test(test_uncompressed_cvd_accepted),
		cmocka_unit_test(test_cld_variants),
		cmocka_unit_test(test_cld_stale_header),
		cmocka_unit_test(test_real_key_refuses_test_signature),
		cmocka_unit_test(test_unsigned_refused),
		cmocka_unit_test(test_real_header_signature),
		cmocka_unit_test(test_header_fields_malformed),
		cmocka_unit_test(test_header_file),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_md5_mismatch),
		cmocka_unit_test(test_body_bitflip),
		cmocka_unit_test(test_signature_bitflip),
		cmocka_unit_test(test_header_field_flip),
		cmocka_unit_test(test_bad_members),
		cmocka_unit_test(test_too_many_members),
		cmocka_unit_test(test_alloc_failures),
		cmocka_unit_test(test_cld_info_official),
		cmocka_unit_test(test_cld_member_tampered),
		cmocka_unit_test(test_cld_unlisted_and_missing),
		cmocka_unit_test(test_info_without_dsig),
		cmocka_unit_test(test_info_wrong_key_or_damage),
		cmocka_unit_test(test_info_malformed),
		cmocka_unit_test(test_info_limits),
		cmocka_unit_test(test_info_dsig_scheme),
		cmocka_unit_test(test_info_dsig_matches_libclamav),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
