/* CVD/CLD containers (lib/db/cvd.c). The tests build containers at run time:
 * a tar (libarchive), gzipped or not, an MD5, and a signature in ClamAV's
 * scheme made with an RSA key generated here; the public half is given to
 * cvd_load_with_key(). The same files must be refused with ClamAV's real key,
 * and after any damage. */
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

/* ---- a test signing key ---- */
static char *key_n_dec, *key_e_dec;
static BIGNUM *key_n, *key_d;

static int group_setup(void **state)
{
	(void)state;
	EVP_PKEY *pk = EVP_RSA_gen(1024);
	if (!pk)
		return -1;
	BIGNUM *e = NULL;
	if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &key_n) ||
	    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) ||
	    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_D, &key_d))
		return -1;
	key_n_dec = BN_bn2dec(key_n);
	key_e_dec = BN_bn2dec(e);
	BN_free(e);
	EVP_PKEY_free(pk);
	return key_n_dec && key_e_dec ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	OPENSSL_free(key_n_dec);
	OPENSSL_free(key_e_dec);
	BN_free(key_n);
	BN_clear_free(key_d);
	return 0;
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
 * test key) padded with spaces, then the body. */
static struct blob make_cvd_from_body(struct blob body, unsigned version, bool sign)
{
	char md5[33], dsig[256] = "", hdr[CVD_HEADER_LEN + 1];
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

static const char info_line[] =
	"ClamAV-VDB:01 Jan 2025 00-00 +0000:7:2:90:X:X:wardtest:1735689600\n"
	"test.ndb:40:0000\n";

static const struct member std_members[] = {
	{"COPYING", "GPL-2.0 text would be here\n"},
	{"test.info", info_line},
	{"test.ndb", "Ward.Test.Body:0:*:41424344454647\n"},
	{"test.hdb", "44d88612fea8a8f36de82e1278abb02f:68:Ward.Test.Hash\n"},
	{"notes.txt", "not a database: skipped as ClamAV does\n"},
};
#define NSTD (sizeof std_members / sizeof std_members[0])

static struct blob std_cvd(bool gzip)
{
	return make_cvd_from_body(make_tar(std_members, NSTD, gzip), 7, true);
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
	return cvd_load_with_key(&L->set, path, b.p, b.len, key_n_dec, key_e_dec);
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
 * unverified, so refused by default and unofficial when allowed. */
static void test_cld_stale_header(void **state)
{
	(void)state;
	struct blob b = std_cvd(false);
	b.p[CVD_HEADER_LEN + 512 + 3] ^= 0x01; /* inside COPYING's data */
	expect_refused(b, "daily.cld", 0, false, WARD_EBADSIG, "digital signature does not verify");
	struct loaded L;
	assert_int_equal(load(&L, "daily.cld", b, WARD_LOAD_ALLOW_UNSIGNED_CVD, false), WARD_OK);
	expect_std_loaded(&L, false);
	assert_int_equal(L.d.last_code, WARD_EBADSIG);
	sigset_free(&L.set);
	/* The same damage in a .cvd is corruption, flags or not. */
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
	struct blob b = make_cvd_from_body(make_tar(std_members, NSTD, true), 7, false);
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
	struct member slash[] = {{"test.info", info_line}, {"dir/x.ndb", "A:0:*:4142\n"}};
	struct blob b = make_cvd_from_body(make_tar(slash, 2, true), 7, true);
	expect_refused(b, "slash.cvd", 0, false, WARD_ECORRUPT, "slash");
	free(b.p);

	/* Control characters in a name (terminal escapes): refused. */
	struct member esc[] = {{"test.info", info_line}, {"\033[2Jx.ndb", "A:0:*:4142\n"}};
	b = make_cvd_from_body(make_tar(esc, 2, true), 7, true);
	expect_refused(b, "esc.cvd", 0, false, WARD_ECORRUPT, "control characters");
	free(b.p);

	/* A nested container is not loaded: counted as unsupported. */
	struct member nested[] = {{"test.info", info_line},
				  {"inner.cvd", "ClamAV-VDB:junk"},
				  {"test.ndb", "Ward.Test.Body:0:*:41424344454647\n"}};
	b = make_cvd_from_body(make_tar(nested, 3, true), 7, true);
	struct loaded L;
	assert_int_equal(load(&L, "nested.cvd", b, 0, false), WARD_OK);
	assert_int_equal(L.set.counts[WARD_COUNT_BODY], 1);
	assert_int_equal(L.set.counts[WARD_COUNT_UNSUPPORTED], 1);
	sigset_free(&L.set);
	free(b.p);

	/* Databases ClamAV loads and Ward does not (.cfg, .ioc): counted. */
	struct member unsup[] = {{"test.info", info_line},
				 {"daily.cfg", "DOCUMENT:0x0:0:0\nPE:0x0:0:0\n"},
				 {"x.ioc", "example.com\n"}};
	b = make_cvd_from_body(make_tar(unsup, 3, true), 7, true);
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
	m[0].data = info_line;
	for (size_t i = 1; i < n; i++) {
		snprintf(names[i], sizeof names[i], "f%zu.txt", i);
		m[i].name = names[i];
		m[i].data = "";
	}
	struct blob b = make_cvd_from_body(make_tar(m, n, true), 7, true);
	expect_refused(b, "many.cvd", 0, false, WARD_ELIMIT, "more than 4096 members");
	free(b.p);
	/* Exactly the limit is fine. */
	b = make_cvd_from_body(make_tar(m, n - 1, true), 7, true);
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
		ward_err e = cvd_load_with_key(&L.set, "oom.cvd", b.p, b.len, key_n_dec, key_e_dec);
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
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
