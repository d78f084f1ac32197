/*
 * Pattern packages: keys, build, parse, verify. The format and the order of
 * the checks are specified in docs/internals/pattern-package.md; this file
 * follows it section by section. Every byte of a package is hostile until the
 * signature verified, and the parser treats it as hostile even after that.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/pkg_int.h"
#include "util/cursor.h"

/* ---- small helpers ---- */

void pkg_sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned int mdlen = 32;
	if (!EVP_Digest(p, n, out, &mdlen, EVP_sha256(), NULL))
		memset(out, 0,
		       32); /* cannot happen with the default provider; never matches a real hash */
}

void pkg_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

ward_err pkg_read_file(const char *path, uint64_t cap, uint8_t **out, size_t *len, char *why,
		       size_t whylen)
{
	ward_err e = WARD_EIO;
	uint8_t *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		w_why(why, whylen, "%s: %s", path, strerror(errno));
		return WARD_EIO;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		w_why(why, whylen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		w_why(why, whylen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > cap) {
		w_why(why, whylen, "%s: larger than %llu bytes", path, (unsigned long long)cap);
		e = WARD_ELIMIT;
		goto out;
	}
	size_t n = (size_t)st.st_size, got = 0;
	buf = w_malloc(n);
	if (!buf) {
		e = WARD_ENOMEM;
		goto out;
	}
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* A file that shrank while we read it is as bad as an I/O error. */
			w_why(why, whylen, "%s: %s", path, r < 0 ? strerror(errno) : "short read");
			goto out;
		}
		got += (size_t)r;
	}
	*out = buf;
	*len = n;
	buf = NULL;
	e = WARD_OK;
out:
	w_free(buf);
	close(fd);
	return e;
}

static bool name_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

bool pkg_member_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > WARD_PKG_MAX_MEMBER_NAME || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char_ok((unsigned char)s[i]))
			return false;
	return true;
}

/* os or arch: 1..32 of [a-z0-9_], or "*". */
static bool platform_part_ok(const char *s, size_t n)
{
	if (n == 1 && s[0] == '*')
		return true;
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static bool platform_ok(const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);
	if (!slash)
		return false;
	size_t a = (size_t)(slash - s);
	return platform_part_ok(s, a) && platform_part_ok(slash + 1, n - a - 1);
}

/* Manifest text bytes: printable, no control characters (the manifest is
 * printed by `ward pattern info`; a hostile changelog must not drive the
 * terminal). Bytes >= 0x80 pass so UTF-8 changelogs work. */
static bool text_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- keys ---- */

#define KEY_MAGIC "WdEd"
#define KEY_BLOB_LEN (4u + WARD_PKG_KEYID_LEN + PKG_ED25519_LEN) /* 44 */
#define KEY_B64_LEN 60u                                          /* 4 * ceil(44 / 3) */
#define KEY_COMMENT "untrusted comment: "

static void key_id_of(const uint8_t pub[PKG_ED25519_LEN], uint8_t id[WARD_PKG_KEYID_LEN])
{
	uint8_t h[32];
	pkg_sha256(pub, PKG_ED25519_LEN, h);
	memcpy(id, h, WARD_PKG_KEYID_LEN);
}

/* Parse "untrusted comment: ...\n<base64>\n" into the 44-byte blob. The
 * comment is untrusted (signify): only its prefix is checked. The base64 line
 * must be canonical (re-encoding gives the same text). */
static ward_err key_text_parse(const char *text, size_t len, uint8_t blob[KEY_BLOB_LEN], char *why,
			       size_t whylen)
{
	ward_err e = WARD_ECORRUPT;
	uint8_t dec[KEY_B64_LEN]; /* 45 bytes decoded; room to spare */
	unsigned char enc[KEY_B64_LEN + 1];
	if (len > WARD_PKG_MAX_KEY_FILE) {
		w_why(why, whylen, "key file too long");
		return WARD_ECORRUPT;
	}
	const char *nl = memchr(text, '\n', len);
	if (!nl || (size_t)(nl - text) < strlen(KEY_COMMENT) ||
	    memcmp(text, KEY_COMMENT, strlen(KEY_COMMENT)) != 0) {
		w_why(why, whylen, "key file: missing \"untrusted comment:\" line");
		return WARD_ECORRUPT;
	}
	const char *b = nl + 1;
	size_t rest = len - (size_t)(b - text);
	size_t blen = rest;
	if (blen > 0 && b[blen - 1] == '\n')
		blen--;
	if (blen != KEY_B64_LEN || memchr(b, '\n', blen)) {
		w_why(why, whylen, "key file: the key line must be %u base64 characters",
		      KEY_B64_LEN);
		return WARD_ECORRUPT;
	}
	int r = EVP_DecodeBlock(dec, (const unsigned char *)b, (int)blen);
	if (r < (int)KEY_BLOB_LEN) {
		w_why(why, whylen, "key file: bad base64");
		goto out;
	}
	EVP_EncodeBlock(enc, dec, (int)KEY_BLOB_LEN);
	if (CRYPTO_memcmp(enc, b, KEY_B64_LEN) != 0) {
		w_why(why, whylen, "key file: non-canonical base64");
		goto out;
	}
	if (memcmp(dec, KEY_MAGIC, 4) != 0) {
		w_why(why, whylen, "key file: not a ward Ed25519 key");
		goto out;
	}
	memcpy(blob, dec, KEY_BLOB_LEN);
	e = WARD_OK;
out:
	OPENSSL_cleanse(dec, sizeof dec);
	OPENSSL_cleanse(enc, sizeof enc);
	return e;
}

ward_err ward_pkg_pubkey_parse(const char *text, size_t len, ward_pkg_pubkey **out, char *why,
			       size_t whylen)
{
	uint8_t blob[KEY_BLOB_LEN];
	*out = NULL;
	ward_err e = key_text_parse(text, len, blob, why, whylen);
	if (e != WARD_OK)
		return e;
	ward_pkg_pubkey *k = w_calloc(1, sizeof *k);
	if (!k)
		return WARD_ENOMEM;
	memcpy(k->id, blob + 4, WARD_PKG_KEYID_LEN);
	memcpy(k->pub, blob + 4 + WARD_PKG_KEYID_LEN, PKG_ED25519_LEN);
	uint8_t id[WARD_PKG_KEYID_LEN];
	key_id_of(k->pub, id);
	if (CRYPTO_memcmp(id, k->id, WARD_PKG_KEYID_LEN) != 0) {
		w_why(why, whylen, "public key: key id does not match the key");
		w_free(k);
		return WARD_ECORRUPT;
	}
	*out = k;
	return WARD_OK;
}

ward_err ward_pkg_pubkey_read(const char *path, ward_pkg_pubkey **out, char *why, size_t whylen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	*out = NULL;
	ward_err e = pkg_read_file(path, WARD_PKG_MAX_KEY_FILE, &buf, &len, why, whylen);
	if (e != WARD_OK)
		return e;
	e = ward_pkg_pubkey_parse((const char *)buf, len, out, why, whylen);
	w_free(buf);
	return e;
}

/* Derive the public key from the seed with OpenSSL. */
static ward_err pub_from_seed(const uint8_t seed[PKG_ED25519_LEN], uint8_t pub[PKG_ED25519_LEN])
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, PKG_ED25519_LEN);
	size_t publen = PKG_ED25519_LEN;
	ward_err e = WARD_EINTERNAL;
	if (!pk)
		return WARD_ENOMEM;
	if (EVP_PKEY_get_raw_public_key(pk, pub, &publen) == 1 && publen == PKG_ED25519_LEN)
		e = WARD_OK;
	EVP_PKEY_free(pk);
	return e;
}

ward_err ward_pkg_seckey_read(const char *path, ward_pkg_seckey **out, char *why, size_t whylen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	uint8_t blob[KEY_BLOB_LEN];
	ward_pkg_seckey *k = NULL;
	*out = NULL;
	ward_err e = pkg_read_file(path, WARD_PKG_MAX_KEY_FILE, &buf, &len, why, whylen);
	if (e != WARD_OK)
		return e;
	e = key_text_parse((const char *)buf, len, blob, why, whylen);
	if (e != WARD_OK)
		goto out;
	k = w_calloc(1, sizeof *k);
	if (!k) {
		e = WARD_ENOMEM;
		goto out;
	}
	memcpy(k->id, blob + 4, WARD_PKG_KEYID_LEN);
	memcpy(k->seed, blob + 4 + WARD_PKG_KEYID_LEN, PKG_ED25519_LEN);
	e = pub_from_seed(k->seed, k->pub);
	if (e != WARD_OK)
		goto out;
	uint8_t id[WARD_PKG_KEYID_LEN];
	key_id_of(k->pub, id);
	if (CRYPTO_memcmp(id, k->id, WARD_PKG_KEYID_LEN) != 0) {
		w_why(why, whylen, "secret key: key id does not match the key");
		e = WARD_ECORRUPT;
		goto out;
	}
	*out = k;
	k = NULL;
out:
	ward_pkg_seckey_free(k);
	OPENSSL_cleanse(blob, sizeof blob);
	if (buf) {
		OPENSSL_cleanse(buf, len);
		w_free(buf);
	}
	return e;
}

void ward_pkg_pubkey_free(ward_pkg_pubkey *k) { w_free(k); }

void ward_pkg_seckey_free(ward_pkg_seckey *k)
{
	if (!k)
		return;
	OPENSSL_cleanse(k, sizeof *k);
	w_free(k);
}

const uint8_t *ward_pkg_pubkey_id(const ward_pkg_pubkey *k) { return k->id; }

/* Write "untrusted comment: ward pattern <kind> key <id>\n<b64>\n" to a new
 * file (O_EXCL) with the given mode. */
static ward_err write_key_file(const char *path, mode_t mode, const char *kind,
			       const uint8_t id[WARD_PKG_KEYID_LEN],
			       const uint8_t key[PKG_ED25519_LEN], char *why, size_t whylen)
{
	uint8_t blob[KEY_BLOB_LEN];
	unsigned char b64[KEY_B64_LEN + 1];
	char text[256];
	char idhex[2 * WARD_PKG_KEYID_LEN + 1];
	ward_err e = WARD_EIO;
	memcpy(blob, KEY_MAGIC, 4);
	memcpy(blob + 4, id, WARD_PKG_KEYID_LEN);
	memcpy(blob + 4 + WARD_PKG_KEYID_LEN, key, PKG_ED25519_LEN);
	EVP_EncodeBlock(b64, blob, (int)KEY_BLOB_LEN);
	pkg_hex(id, WARD_PKG_KEYID_LEN, idhex);
	int n = snprintf(text, sizeof text, KEY_COMMENT "ward pattern %s key %s\n%s\n", kind, idhex,
			 (const char *)b64);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		w_why(why, whylen, "%s: %s", path, strerror(errno));
		goto out;
	}
	/* The umask may have narrowed the mode; make sure it is not wider. */
	if (fchmod(fd, mode) != 0 || n < 0 || (size_t)n >= sizeof text ||
	    write(fd, text, (size_t)n) != n || fsync(fd) != 0) {
		w_why(why, whylen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		goto out;
	}
	if (close(fd) != 0) {
		w_why(why, whylen, "%s: %s", path, strerror(errno));
		unlink(path);
		goto out;
	}
	e = WARD_OK;
out:
	OPENSSL_cleanse(blob, sizeof blob);
	OPENSSL_cleanse(b64, sizeof b64);
	OPENSSL_cleanse(text, sizeof text);
	return e;
}

ward_err ward_pkg_keygen(const char *pub_path, const char *sec_path, char *why, size_t whylen)
{
	ward_err e = WARD_EINTERNAL;
	ward_pkg_seckey k;
	size_t slen = PKG_ED25519_LEN, plen = PKG_ED25519_LEN;
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	memset(&k, 0, sizeof k);
	if (!pk) {
		w_why(why, whylen, "Ed25519 key generation failed");
		return WARD_EINTERNAL;
	}
	if (EVP_PKEY_get_raw_private_key(pk, k.seed, &slen) != 1 ||
	    EVP_PKEY_get_raw_public_key(pk, k.pub, &plen) != 1 || slen != PKG_ED25519_LEN ||
	    plen != PKG_ED25519_LEN) {
		w_why(why, whylen, "Ed25519 key export failed");
		goto out;
	}
	key_id_of(k.pub, k.id);
	/* Secret first: if it cannot be written there is no orphan public key. */
	e = write_key_file(sec_path, 0600, "secret", k.id, k.seed, why, whylen);
	if (e != WARD_OK)
		goto out;
	e = write_key_file(pub_path, 0644, "public", k.id, k.pub, why, whylen);
	if (e != WARD_OK)
		unlink(sec_path);
out:
	EVP_PKEY_free(pk);
	OPENSSL_cleanse(&k, sizeof k);
	return e;
}

/* ---- signing and verification ---- */

ward_err pkg_sign_trailer(const ward_pkg_seckey *key, uint8_t *buf, size_t len, char *why,
			  size_t whylen)
{
	ward_err e = WARD_EINTERNAL;
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *ctx = NULL;
	if (!ALWAYS(len >= PKG_HEADER_LEN + WARD_PKG_TRAILER_LEN))
		return WARD_EINTERNAL;
	size_t body = len - WARD_PKG_TRAILER_LEN;
	uint8_t *t = buf + body;
	size_t siglen = PKG_SIG_LEN;
	pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, key->seed, PKG_ED25519_LEN);
	ctx = EVP_MD_CTX_new();
	if (!pk || !ctx) {
		e = WARD_ENOMEM;
		goto out;
	}
	memcpy(t, PKG_SIG_MAGIC, 8);
	memcpy(t + 8, key->id, WARD_PKG_KEYID_LEN);
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) != 1 ||
	    EVP_DigestSign(ctx, t + 16, &siglen, buf, body) != 1 || siglen != PKG_SIG_LEN) {
		w_why(why, whylen, "Ed25519 signing failed");
		goto out;
	}
	e = WARD_OK;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk); /* OpenSSL wipes the private key it holds */
	return e;
}

static ward_err ed25519_verify(const ward_pkg_pubkey *key, const uint8_t *msg, size_t len,
			       const uint8_t sig[PKG_SIG_LEN])
{
	ward_err e = WARD_EBADSIG;
	EVP_PKEY *pk =
		EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key->pub, PKG_ED25519_LEN);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!pk || !ctx) {
		e = WARD_ENOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
	    EVP_DigestVerify(ctx, sig, PKG_SIG_LEN, msg, len) == 1)
		e = WARD_OK;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return e;
}

/* ---- assembling ---- */

ward_err pkg_assemble(uint32_t kind, const char *manifest, size_t mlen,
		      const ward_pkg_member_in *members, size_t n, bool with_trailer, uint8_t **out,
		      size_t *outlen, char *why, size_t whylen)
{
	size_t total = PKG_HEADER_LEN;
	if (mlen == 0 || mlen > WARD_PKG_MAX_MANIFEST || n > WARD_PKG_MAX_MEMBERS) {
		w_why(why, whylen, "manifest or member count over the format's limits");
		return WARD_ELIMIT;
	}
	if (ck_add(total, mlen, &total))
		return WARD_ELIMIT;
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(members[i].name);
		if (ck_add(total, 2 + nl + 8, &total) || ck_add(total, members[i].len, &total))
			return WARD_ELIMIT;
	}
	if (with_trailer && ck_add(total, WARD_PKG_TRAILER_LEN, &total))
		return WARD_ELIMIT;
	if (total > WARD_PKG_MAX_SIZE) {
		w_why(why, whylen, "package would exceed %llu bytes",
		      (unsigned long long)WARD_PKG_MAX_SIZE);
		return WARD_ELIMIT;
	}
	uint8_t *buf = w_calloc(1, total);
	if (!buf)
		return WARD_ENOMEM;
	uint8_t *p = buf;
	memcpy(p, PKG_MAGIC, 8);
	put_le32(p + 8, kind);
	put_le32(p + 12, (uint32_t)mlen);
	put_le32(p + 16, (uint32_t)n);
	put_le32(p + 20, with_trailer ? PKG_FLAG_SIGNED : 0);
	p += PKG_HEADER_LEN;
	memcpy(p, manifest, mlen);
	p += mlen;
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(members[i].name);
		p[0] = (uint8_t)nl;
		p[1] = (uint8_t)(nl >> 8);
		memcpy(p + 2, members[i].name, nl);
		put_le64(p + 2 + nl, members[i].len);
		p += 2 + nl + 8;
		if (members[i].len)
			memcpy(p, members[i].data, members[i].len);
		p += members[i].len;
	}
	*out = buf;
	*outlen = total;
	return WARD_OK;
}

/* ---- building ---- */

static int member_cmp(const void *a, const void *b)
{
	return strcmp(((const ward_pkg_member_in *)a)->name, ((const ward_pkg_member_in *)b)->name);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

ward_err ward_pkg_build(const ward_pkg_build_in *in, const ward_pkg_seckey *key, uint8_t **out,
			size_t *outlen, char *why, size_t whylen)
{
	ward_err e = WARD_ENOMEM;
	ward_pkg_member_in *m = NULL;
	const char **plat = NULL;
	dbuf man;
	dbuf_init(&man, WARD_PKG_MAX_MANIFEST);
	*out = NULL;
	*outlen = 0;

	if (in->version == 0 || in->version > (uint64_t)INT64_MAX) {
		w_why(why, whylen, "version must be 1 .. 2^63-1");
		return WARD_EINVAL;
	}
	if (in->engine_max != WARD_PKG_ENGINE_ANY && in->engine_max < in->engine_min) {
		w_why(why, whylen, "engine-max is below engine-min");
		return WARD_EINVAL;
	}
	if (in->nplatforms == 0 || in->nplatforms > WARD_PKG_MAX_PLATFORMS) {
		w_why(why, whylen, "give 1 to %u platforms", WARD_PKG_MAX_PLATFORMS);
		return WARD_EINVAL;
	}
	if (in->nmembers > WARD_PKG_MAX_MEMBERS || in->nchangelog > WARD_PKG_MAX_CHANGELOG) {
		w_why(why, whylen, "too many members or changelog lines");
		return WARD_ELIMIT;
	}
	for (size_t i = 0; i < in->nplatforms; i++)
		if (!platform_ok(in->platforms[i], strlen(in->platforms[i]))) {
			w_why(why, whylen, "bad platform \"%.64s\" (want os/arch)",
			      in->platforms[i]);
			return WARD_EINVAL;
		}
	for (size_t i = 0; i < in->nchangelog; i++) {
		size_t l = strlen(in->changelog[i]);
		if (!text_ok(in->changelog[i], l) || l + 12 > WARD_PKG_MAX_MANIFEST_LINE) {
			w_why(why, whylen, "changelog line %zu: control characters or too long",
			      i + 1);
			return WARD_EINVAL;
		}
	}
	for (size_t i = 0; i < in->nmembers; i++)
		if (!pkg_member_name_ok(in->members[i].name, strlen(in->members[i].name))) {
			w_why(why, whylen, "bad member name \"%.64s\"", in->members[i].name);
			return WARD_EINVAL;
		}

	plat = w_alloc_array(in->nplatforms, sizeof *plat);
	m = w_alloc_array(in->nmembers ? in->nmembers : 1, sizeof *m);
	if (!plat || !m)
		goto out;
	memcpy(plat, in->platforms, in->nplatforms * sizeof *plat);
	qsort(plat, in->nplatforms, sizeof *plat, str_cmp);
	if (in->nmembers)
		memcpy(m, in->members, in->nmembers * sizeof *m);
	qsort(m, in->nmembers, sizeof *m, member_cmp);
	for (size_t i = 1; i < in->nplatforms; i++)
		if (!strcmp(plat[i - 1], plat[i])) {
			w_why(why, whylen, "duplicate platform %s", plat[i]);
			e = WARD_EINVAL;
			goto out;
		}
	for (size_t i = 1; i < in->nmembers; i++)
		if (!strcmp(m[i - 1].name, m[i].name)) {
			w_why(why, whylen, "duplicate member %s", m[i].name);
			e = WARD_EINVAL;
			goto out;
		}

	/* The manifest, in the canonical key order. */
	e = dbuf_addf(&man, "format: 1\nkind: full\nversion: %llu\ncreated: %llu\nengine-min: %u\n",
		      (unsigned long long)in->version, (unsigned long long)in->created,
		      in->engine_min);
	if (e == WARD_OK && in->engine_max == WARD_PKG_ENGINE_ANY)
		e = dbuf_addf(&man, "engine-max: *\n");
	else if (e == WARD_OK)
		e = dbuf_addf(&man, "engine-max: %u\n", in->engine_max);
	for (size_t i = 0; e == WARD_OK && i < in->nplatforms; i++)
		e = dbuf_addf(&man, "platform: %s\n", plat[i]);
	for (size_t i = 0; e == WARD_OK && i < in->nchangelog; i++)
		e = dbuf_addf(&man, "changelog: %s\n", in->changelog[i]);
	for (size_t i = 0; e == WARD_OK && i < in->nmembers; i++) {
		uint8_t h[32];
		char hex[65];
		pkg_sha256(m[i].data, m[i].len, h);
		pkg_hex(h, 32, hex);
		e = dbuf_addf(&man, "file: %s %zu %s\n", hex, m[i].len, m[i].name);
	}
	if (e != WARD_OK) {
		w_why(why, whylen, "manifest larger than %u bytes", WARD_PKG_MAX_MANIFEST);
		goto out;
	}
	e = pkg_assemble(WARD_PKG_KIND_FULL, man.s, man.len, m, in->nmembers, key != NULL, out,
			 outlen, why, whylen);
	if (e != WARD_OK)
		goto out;
	if (key) {
		e = pkg_sign_trailer(key, *out, *outlen, why, whylen);
		if (e != WARD_OK) {
			w_free(*out);
			*out = NULL;
			*outlen = 0;
		}
	}
out:
	w_free(plat);
	w_free(m);
	dbuf_free(&man);
	return e;
}

void ward_pkg_buf_free(uint8_t *buf) { w_free(buf); }

/* ---- parsing ---- */

#define NAME_SLOT (WARD_PKG_MAX_MEMBER_NAME + 6u)

struct ward_pkg {
	uint8_t *buf; /* owned copy of the package */
	size_t len;
	char *work;  /* owned: manifest copy cut into NUL-terminated strings */
	char *mtext; /* owned: manifest copy, NUL-terminated (meta.manifest) */
	char *names; /* owned: member names, NUL-terminated */
	ward_pkg_file *files;
	ward_pkg_platform *platforms;
	const char **changelog;
	ward_pkg_meta meta;
};

void ward_pkg_free(ward_pkg *p)
{
	if (!p)
		return;
	w_free(p->buf);
	w_free(p->work);
	w_free(p->mtext);
	w_free(p->names);
	w_free(p->files);
	w_free(p->platforms);
	w_free(p->changelog);
	w_free(p);
}

const ward_pkg_meta *ward_pkg_get_meta(const ward_pkg *p) { return &p->meta; }

static bool part_match(const char *pat, const char *s)
{
	return !strcmp(pat, "*") || !strcmp(pat, s);
}

bool ward_pkg_serves(const ward_pkg *p, uint32_t engine, const char *os, const char *arch)
{
	const ward_pkg_meta *m = &p->meta;
	if (m->kind != WARD_PKG_KIND_FULL || engine < m->engine_min ||
	    (m->engine_max != WARD_PKG_ENGINE_ANY && engine > m->engine_max))
		return false;
	for (size_t i = 0; i < m->nplatforms; i++)
		if (part_match(m->platforms[i].os, os) && part_match(m->platforms[i].arch, arch))
			return true;
	return false;
}

/* Manifest lines are cut in the work copy: each line's '\n' becomes '\0'. */
struct mline {
	char *s;
	size_t len;
};

struct mreader {
	char *p;
	size_t left;
};

static bool next_line(struct mreader *r, struct mline *l)
{
	char *nl = r->left ? memchr(r->p, '\n', r->left) : NULL;
	if (!nl)
		return false;
	l->s = r->p;
	l->len = (size_t)(nl - r->p);
	*nl = '\0';
	r->left -= l->len + 1;
	r->p = nl + 1;
	return l->len <= WARD_PKG_MAX_MANIFEST_LINE && text_ok(l->s, l->len);
}

/* Peek whether the next line starts with "key: ". */
static bool next_is(const struct mreader *r, const char *key)
{
	size_t k = strlen(key);
	return r->left > k + 1 && !memcmp(r->p, key, k) && r->p[k] == ':' && r->p[k + 1] == ' ';
}

/* Read the next line, which must be "key: value"; *v points at the value. */
static bool expect(struct mreader *r, const char *key, char **v, size_t *vlen)
{
	struct mline l;
	size_t k = strlen(key);
	if (!next_is(r, key) || !next_line(r, &l))
		return false;
	*v = l.s + k + 2;
	*vlen = l.len - k - 2;
	return true;
}

/* Canonical decimal: no sign, no leading zero (except "0"). */
static bool canon_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	if (n > 1 && s[0] == '0')
		return false;
	return parse_u64(s, n, max, out);
}

static bool expect_u64(struct mreader *r, const char *key, uint64_t max, uint64_t *out)
{
	char *v;
	size_t n;
	return expect(r, key, &v, &n) && canon_u64(v, n, max, out);
}

static bool parse_hex32(const char *s, size_t n, uint8_t out[32])
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < 32; i++) {
		/* Lowercase only: one spelling per hash. */
		int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0 || (s[2 * i] >= 'A' && s[2 * i] <= 'F') ||
		    (s[2 * i + 1] >= 'A' && s[2 * i + 1] <= 'F'))
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool expect_hex32(struct mreader *r, const char *key, uint8_t out[32])
{
	char *v;
	size_t n;
	return expect(r, key, &v, &n) && parse_hex32(v, n, out);
}

static bool delta_name_ok(const char *s, size_t n)
{
	if ((n == 9 && !memcmp(s, ".manifest", 9)) || (n == 10 && !memcmp(s, ".signature", 10)))
		return true;
	if (n > 4 && !memcmp(s, "add:", 4))
		return pkg_member_name_ok(s + 4, n - 4);
	if (n > 5 && !memcmp(s, "edit:", 5))
		return pkg_member_name_ok(s + 5, n - 5);
	return false;
}

/* The full-package manifest after "format"/"kind". */
static ward_err parse_full_manifest(ward_pkg *p, struct mreader *r, char *why, size_t whylen)
{
	ward_pkg_meta *m = &p->meta;
	uint64_t v;
	char *s;
	size_t n;
	if (!expect_u64(r, "version", (uint64_t)INT64_MAX, &m->version) || m->version == 0) {
		w_why(why, whylen, "manifest: bad or missing version");
		return WARD_ECORRUPT;
	}
	if (!expect_u64(r, "created", UINT64_MAX, &m->created)) {
		w_why(why, whylen, "manifest: bad or missing created");
		return WARD_ECORRUPT;
	}
	if (!expect_u64(r, "engine-min", UINT32_MAX - 1, &v)) {
		w_why(why, whylen, "manifest: bad or missing engine-min");
		return WARD_ECORRUPT;
	}
	m->engine_min = (uint32_t)v;
	if (!expect(r, "engine-max", &s, &n)) {
		w_why(why, whylen, "manifest: missing engine-max");
		return WARD_ECORRUPT;
	}
	if (n == 1 && s[0] == '*')
		m->engine_max = WARD_PKG_ENGINE_ANY;
	else if (canon_u64(s, n, UINT32_MAX - 1, &v) && v >= m->engine_min)
		m->engine_max = (uint32_t)v;
	else {
		w_why(why, whylen, "manifest: bad engine-max");
		return WARD_ECORRUPT;
	}
	/* Platforms: at least one, strictly increasing (sorted, unique). */
	p->platforms = w_alloc_array(WARD_PKG_MAX_PLATFORMS, sizeof *p->platforms);
	p->changelog = w_alloc_array(WARD_PKG_MAX_CHANGELOG, sizeof *p->changelog);
	if (!p->platforms || !p->changelog)
		return WARD_ENOMEM;
	while (next_is(r, "platform")) {
		if (m->nplatforms == WARD_PKG_MAX_PLATFORMS) {
			w_why(why, whylen, "manifest: more than %u platforms",
			      WARD_PKG_MAX_PLATFORMS);
			return WARD_ECORRUPT;
		}
		if (!expect(r, "platform", &s, &n) || !platform_ok(s, n)) {
			w_why(why, whylen, "manifest: bad platform line");
			return WARD_ECORRUPT;
		}
		char *slash = memchr(s, '/', n);
		*slash = '\0';
		ward_pkg_platform *pl = &p->platforms[m->nplatforms++];
		pl->os = s;
		pl->arch = slash + 1;
		/* Sorted and unique. Comparing (os, arch) orders exactly like
		 * strcmp on "os/arch" (what the builder sorts by): '/' sorts below
		 * every character an os may contain, and "*" stands alone. */
		if (m->nplatforms > 1) {
			const ward_pkg_platform *a = pl - 1;
			int cmp = strcmp(a->os, pl->os);
			if (cmp > 0 || (cmp == 0 && strcmp(a->arch, pl->arch) >= 0)) {
				w_why(why, whylen, "manifest: unsorted or duplicate platform");
				return WARD_ECORRUPT;
			}
		}
	}
	if (m->nplatforms == 0) {
		w_why(why, whylen, "manifest: no platform");
		return WARD_ECORRUPT;
	}
	while (next_is(r, "changelog")) {
		if (m->nchangelog == WARD_PKG_MAX_CHANGELOG) {
			w_why(why, whylen, "manifest: more than %u changelog lines",
			      WARD_PKG_MAX_CHANGELOG);
			return WARD_ECORRUPT;
		}
		if (!expect(r, "changelog", &s, &n))
			return WARD_ECORRUPT;
		p->changelog[m->nchangelog++] = s;
	}
	/* One file line per member, same order, hashes checked. */
	for (size_t i = 0; i < m->nfiles; i++) {
		ward_pkg_file *f = &p->files[i];
		uint8_t h[32], want[32];
		uint64_t size;
		if (!expect(r, "file", &s, &n) || n < 64 + 1 + 1 + 1 + 1 || s[64] != ' ' ||
		    !parse_hex32(s, 64, want)) {
			w_why(why, whylen, "manifest: bad or missing file line %zu", i + 1);
			return WARD_ECORRUPT;
		}
		char *sz = s + 65;
		char *sp = memchr(sz, ' ', n - 65);
		if (!sp || !canon_u64(sz, (size_t)(sp - sz), UINT64_MAX, &size) ||
		    strcmp(sp + 1, f->name) != 0) {
			w_why(why, whylen, "manifest: file line %zu does not name member %s", i + 1,
			      f->name);
			return WARD_ECORRUPT;
		}
		if (size != f->len) {
			w_why(why, whylen, "member %s: size differs from the manifest", f->name);
			return WARD_ECORRUPT;
		}
		pkg_sha256(f->data, f->len, h);
		if (CRYPTO_memcmp(h, want, 32) != 0) {
			w_why(why, whylen, "member %s: SHA-256 differs from the manifest", f->name);
			return WARD_ECORRUPT;
		}
		memcpy(f->sha256, want, 32);
	}
	return WARD_OK;
}

static ward_err parse_delta_manifest(ward_pkg *p, struct mreader *r, char *why, size_t whylen)
{
	ward_pkg_meta *m = &p->meta;
	if (!expect_u64(r, "version", (uint64_t)INT64_MAX, &m->version) || m->version == 0 ||
	    !expect_u64(r, "base-version", (uint64_t)INT64_MAX, &m->base_version) ||
	    m->base_version == 0 || !expect_hex32(r, "base-sha256", m->base_sha256) ||
	    !expect_hex32(r, "target-sha256", m->target_sha256) ||
	    !expect_u64(r, "target-size", WARD_PKG_MAX_SIZE, &m->target_size)) {
		w_why(why, whylen, "delta manifest: bad or missing field");
		return WARD_ECORRUPT;
	}
	for (size_t i = 0; i < m->nfiles; i++)
		pkg_sha256(p->files[i].data, p->files[i].len, p->files[i].sha256);
	return WARD_OK;
}

/* Parse the structure; signature not checked (ward_pkg_verify does that first). */
static ward_err parse_pkg(const uint8_t *in, size_t len, ward_pkg **out, char *why, size_t whylen)
{
	ward_err e = WARD_ECORRUPT;
	ward_pkg *p = NULL;
	uint32_t kind, mlen, nmem, flags;
	*out = NULL;
	if (len > WARD_PKG_MAX_SIZE) {
		w_why(why, whylen, "package larger than %llu bytes",
		      (unsigned long long)WARD_PKG_MAX_SIZE);
		return WARD_ELIMIT;
	}
	cursor c = cur_make(in, len);
	const uint8_t *magic = cur_take(&c, 8);
	if (!magic || memcmp(magic, PKG_MAGIC, 8) != 0) {
		w_why(why, whylen, "not a ward pattern package (bad magic)");
		return WARD_ECORRUPT;
	}
	if (!cur_le32(&c, &kind) || !cur_le32(&c, &mlen) || !cur_le32(&c, &nmem) ||
	    !cur_le32(&c, &flags)) {
		w_why(why, whylen, "truncated header");
		return WARD_ECORRUPT;
	}
	if (kind != WARD_PKG_KIND_FULL && kind != WARD_PKG_KIND_DELTA) {
		w_why(why, whylen, "unknown package kind %u", kind);
		return WARD_ECORRUPT;
	}
	if (mlen == 0 || mlen > WARD_PKG_MAX_MANIFEST || nmem > WARD_PKG_MAX_MEMBERS ||
	    (flags & ~PKG_FLAG_SIGNED)) {
		w_why(why, whylen, "header out of range (manifest %u bytes, %u members, flags %#x)",
		      mlen, nmem, flags);
		return WARD_ECORRUPT;
	}
	size_t body_len = len;
	if (flags & PKG_FLAG_SIGNED) {
		if (len < PKG_HEADER_LEN + WARD_PKG_TRAILER_LEN) {
			w_why(why, whylen, "truncated: no room for the signature trailer");
			return WARD_ECORRUPT;
		}
		body_len = len - WARD_PKG_TRAILER_LEN;
		if (memcmp(in + body_len, PKG_SIG_MAGIC, 8) != 0) {
			w_why(why, whylen, "bad signature trailer magic");
			return WARD_ECORRUPT;
		}
	}
	c.len = body_len; /* members must end exactly where the trailer starts */
	if (c.pos > c.len) {
		w_why(why, whylen, "truncated header");
		return WARD_ECORRUPT;
	}

	p = w_calloc(1, sizeof *p);
	if (!p)
		return WARD_ENOMEM;
	p->buf = w_malloc(len);
	p->files = w_calloc(nmem ? nmem : 1, sizeof *p->files);
	/* Names: one slot per member for the longest name ("edit:" + 128) and
	 * its NUL; bounded by the header caps (4096 x 134 bytes). */
	p->names = w_alloc_array(nmem ? nmem : 1, NAME_SLOT);
	p->work = w_malloc((size_t)mlen + 1);
	p->mtext = w_malloc((size_t)mlen + 1);
	if (!p->buf || !p->files || !p->names || !p->work || !p->mtext) {
		e = WARD_ENOMEM;
		goto out;
	}
	memcpy(p->buf, in, len);
	p->len = len;
	c.base = p->buf; /* from here on everything points into our copy */
	ward_pkg_meta *m = &p->meta;
	m->kind = kind;
	m->is_signed = (flags & PKG_FLAG_SIGNED) != 0;
	if (m->is_signed)
		memcpy(m->key_id, p->buf + body_len + 8, WARD_PKG_KEYID_LEN);

	const uint8_t *mt = cur_take(&c, mlen);
	if (!mt) {
		w_why(why, whylen, "truncated manifest");
		goto out;
	}
	memcpy(p->work, mt, mlen);
	p->work[mlen] = '\0';
	memcpy(p->mtext, mt, mlen);
	p->mtext[mlen] = '\0';
	m->manifest = p->mtext;
	m->manifest_len = mlen;
	if (memchr(mt, '\0', mlen)) {
		w_why(why, whylen, "manifest contains NUL bytes");
		goto out;
	}

	/* Members first (the manifest's file lines are checked against them). */
	char *np = p->names;
	for (uint32_t i = 0; i < nmem; i++) {
		uint16_t nl;
		uint64_t dl;
		const uint8_t *name;
		if (!cur_le16(&c, &nl) || !(name = cur_take(&c, nl)) || !cur_le64(&c, &dl)) {
			w_why(why, whylen, "member %u: truncated header", i + 1);
			goto out;
		}
		bool ok = kind == WARD_PKG_KIND_FULL ? pkg_member_name_ok((const char *)name, nl)
						     : delta_name_ok((const char *)name, nl);
		if (!ok || !ALWAYS(nl < NAME_SLOT)) {
			w_why(why, whylen, "member %u: bad name", i + 1);
			goto out;
		}
		if (dl > cur_left(&c)) {
			w_why(why, whylen, "member %u: truncated data", i + 1);
			goto out;
		}
		memcpy(np, name, nl);
		np[nl] = '\0';
		ward_pkg_file *f = &p->files[i];
		f->name = np;
		f->len = (size_t)dl;
		f->data = cur_take(&c, (size_t)dl);
		if (!ALWAYS(f->data != NULL))
			goto out;
		if (i > 0 && strcmp(p->files[i - 1].name, f->name) >= 0) {
			w_why(why, whylen, "member %u: names not strictly increasing", i + 1);
			goto out;
		}
		np += nl + 1;
	}
	if (cur_left(&c) != 0) {
		w_why(why, whylen, "%zu unexpected bytes after the last member", cur_left(&c));
		goto out;
	}
	m->nfiles = nmem;
	m->files = p->files;

	struct mreader r = {p->work, mlen};
	uint64_t fmt;
	char *s;
	size_t n;
	if (!expect_u64(&r, "format", UINT32_MAX, &fmt) || fmt != 1) {
		w_why(why, whylen, "manifest: format must be 1");
		goto out;
	}
	if (!expect(&r, "kind", &s, &n) ||
	    strcmp(s, kind == WARD_PKG_KIND_FULL ? "full" : "delta") != 0) {
		w_why(why, whylen, "manifest: kind does not match the header");
		goto out;
	}
	e = kind == WARD_PKG_KIND_FULL ? parse_full_manifest(p, &r, why, whylen)
				       : parse_delta_manifest(p, &r, why, whylen);
	if (e != WARD_OK)
		goto out;
	if (r.left != 0) {
		w_why(why, whylen, "manifest: unexpected line \"%.40s\"", r.p);
		e = WARD_ECORRUPT;
		goto out;
	}
	m->platforms = p->platforms;
	m->changelog = p->changelog;
	*out = p;
	p = NULL;
	e = WARD_OK;
out:
	ward_pkg_free(p);
	return e;
}

ward_err ward_pkg_parse(const uint8_t *buf, size_t len, ward_pkg **out, char *why, size_t whylen)
{
	return parse_pkg(buf, len, out, why, whylen);
}

ward_err ward_pkg_verify(const uint8_t *buf, size_t len, const ward_pkg_pubkey *key, ward_pkg **out,
			 char *why, size_t whylen)
{
	uint32_t flags = 0;
	ward_pkg *p = NULL;
	if (out)
		*out = NULL;
	/* 1. Message size cap, before any work. */
	if (len > WARD_PKG_MAX_SIZE) {
		w_why(why, whylen, "package larger than %llu bytes",
		      (unsigned long long)WARD_PKG_MAX_SIZE);
		return WARD_ELIMIT;
	}
	/* 2. Magic, signed flag, trailer magic. */
	cursor c = cur_make(buf, len);
	const uint8_t *magic = cur_take(&c, 8);
	if (!magic || memcmp(magic, PKG_MAGIC, 8) != 0 || !cur_skip(&c, 12) ||
	    !cur_le32(&c, &flags)) {
		w_why(why, whylen, "not a ward pattern package");
		return WARD_ECORRUPT;
	}
	if (!(flags & PKG_FLAG_SIGNED)) {
		w_why(why, whylen, "package is unsigned");
		return WARD_EBADSIG;
	}
	if (len < PKG_HEADER_LEN + WARD_PKG_TRAILER_LEN ||
	    memcmp(buf + len - WARD_PKG_TRAILER_LEN, PKG_SIG_MAGIC, 8) != 0) {
		w_why(why, whylen, "missing or damaged signature trailer");
		return WARD_EBADSIG;
	}
	const uint8_t *t = buf + len - WARD_PKG_TRAILER_LEN;
	/* 3. Key id first: names the problem and costs nothing. */
	if (CRYPTO_memcmp(t + 8, key->id, WARD_PKG_KEYID_LEN) != 0) {
		char got[17], want[17];
		pkg_hex(t + 8, WARD_PKG_KEYID_LEN, got);
		pkg_hex(key->id, WARD_PKG_KEYID_LEN, want);
		w_why(why, whylen, "signed by another key (key id %s, expected %s)", got, want);
		return WARD_EBADSIG;
	}
	/* 4. The signature over the body. */
	ward_err e = ed25519_verify(key, buf, len - WARD_PKG_TRAILER_LEN, t + 16);
	if (e != WARD_OK) {
		if (e == WARD_EBADSIG)
			w_why(why, whylen, "Ed25519 signature does not verify");
		return e;
	}
	/* 5. Structure and member hashes. */
	e = parse_pkg(buf, len, &p, why, whylen);
	if (e != WARD_OK)
		return e;
	if (out)
		*out = p;
	else
		ward_pkg_free(p);
	return WARD_OK;
}

ward_err ward_pkg_verify_file(const char *path, const ward_pkg_pubkey *key, ward_pkg **out,
			      char *why, size_t whylen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	if (out)
		*out = NULL;
	ward_err e = pkg_read_file(path, WARD_PKG_MAX_SIZE, &buf, &len, why, whylen);
	if (e != WARD_OK)
		return e;
	e = ward_pkg_verify(buf, len, key, out, why, whylen);
	w_free(buf);
	return e;
}
