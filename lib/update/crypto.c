/*
 * Ed25519 and SHA-256 for update metadata, through OpenSSL's EVP interface.
 * Keys are identified by the SHA-256 of the raw public key, so a key id can
 * be checked against the key itself (signify's "key id first" idea).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "update/tuf.h"

void tuf_sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned int len = 32;
	if (!EVP_Digest(p, n, out, &len, EVP_sha256(), NULL))
		memset(out, 0, 32); /* never matches a real hash of anything */
}

void tuf_keyid(const uint8_t pub[TUF_PUB_LEN], uint8_t id[TUF_KEYID_LEN])
{
	tuf_sha256(pub, TUF_PUB_LEN, id);
}

void tuf_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

bool tuf_unhex(const char *s, size_t slen, uint8_t *out, size_t n)
{
	if (slen != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

bool tuf_memeq(const void *a, const void *b, size_t n) { return CRYPTO_memcmp(a, b, n) == 0; }

bool tuf_ed25519_verify(const uint8_t pub[TUF_PUB_LEN], const void *msg, size_t n,
			const uint8_t sig[TUF_SIG_LEN])
{
	bool ok = false;
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, TUF_PUB_LEN);
	if (!pk)
		goto out;
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) != 1)
		goto out;
	ok = EVP_DigestVerify(ctx, sig, TUF_SIG_LEN, msg, n) == 1;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return ok;
}

struct tuf_signer {
	EVP_PKEY *pk;
	bool priv;
	uint8_t pub[TUF_PUB_LEN];
	uint8_t id[TUF_KEYID_LEN];
};

const uint8_t *tuf_signer_pub(const tuf_signer *s) { return s->pub; }
const uint8_t *tuf_signer_id(const tuf_signer *s) { return s->id; }
bool tuf_signer_has_private(const tuf_signer *s) { return s->priv; }

void tuf_signer_free(tuf_signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->pk); /* OpenSSL clears private key material on free */
	w_free(s);
}

ward_err tuf_signer_load(const char *pem_path, tuf_signer **out, char *why, size_t whylen)
{
	ward_err err = WARD_EIO;
	tuf_signer *s = NULL;
	BIO *bio = NULL;
	*out = NULL;
	bio = BIO_new_file(pem_path, "r");
	if (!bio) {
		snprintf(why, whylen, "%s: cannot open key file", pem_path);
		goto out;
	}
	err = WARD_ENOMEM;
	s = w_calloc(1, sizeof *s);
	if (!s)
		goto out;
	s->pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (s->pk) {
		s->priv = true;
	} else {
		(void)BIO_reset(bio);
		s->pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	}
	err = WARD_ECORRUPT;
	if (!s->pk) {
		snprintf(why, whylen, "%s: not a PEM private or public key", pem_path);
		goto out;
	}
	size_t publen = TUF_PUB_LEN;
	if (EVP_PKEY_get_base_id(s->pk) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(s->pk, s->pub, &publen) != 1 || publen != TUF_PUB_LEN) {
		snprintf(why, whylen, "%s: not an Ed25519 key", pem_path);
		goto out;
	}
	tuf_keyid(s->pub, s->id);
	*out = s;
	s = NULL;
	err = WARD_OK;
out:
	BIO_free(bio);
	tuf_signer_free(s);
	return err;
}

ward_err tuf_sign(const tuf_signer *s, const void *msg, size_t n, uint8_t sig[TUF_SIG_LEN])
{
	if (!s->priv)
		return WARD_EINVAL;
	ward_err err = WARD_EINTERNAL;
	size_t siglen = TUF_SIG_LEN;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return WARD_ENOMEM;
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->pk) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, msg, n) == 1 && siglen == TUF_SIG_LEN)
		err = WARD_OK;
	EVP_MD_CTX_free(ctx);
	return err;
}

ward_err tuf_keygen(const char *priv_path, const char *pub_path, uint8_t id[TUF_KEYID_LEN],
		    char *why, size_t whylen)
{
	ward_err err = WARD_EINTERNAL;
	EVP_PKEY *pk = NULL;
	FILE *f = NULL;
	int fd = -1;
	pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!pk) {
		snprintf(why, whylen, "key generation failed");
		goto out;
	}
	uint8_t pub[TUF_PUB_LEN];
	size_t publen = sizeof pub;
	if (EVP_PKEY_get_raw_public_key(pk, pub, &publen) != 1 || publen != TUF_PUB_LEN)
		goto out;
	/* O_EXCL: never overwrite a key (losing one can lock a repository);
	 * 0600 from creation, not chmod after writing. */
	fd = open(priv_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = WARD_EIO;
		snprintf(why, whylen, "%s: %s", priv_path, strerror(errno));
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f)
		goto out;
	fd = -1;
	if (!PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) || fflush(f) ||
	    fsync(fileno(f))) {
		err = WARD_EIO;
		snprintf(why, whylen, "%s: write failed", priv_path);
		goto out;
	}
	if (pub_path) {
		FILE *pf = fopen(pub_path, "wx");
		if (!pf || !PEM_write_PUBKEY(pf, pk)) {
			if (pf)
				fclose(pf);
			err = WARD_EIO;
			snprintf(why, whylen, "%s: cannot write public key", pub_path);
			goto out;
		}
		if (fclose(pf)) {
			err = WARD_EIO;
			goto out;
		}
	}
	tuf_keyid(pub, id);
	err = WARD_OK;
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	EVP_PKEY_free(pk);
	return err;
}

ward_err ward_update_keygen(const char *priv_path, const char *pub_path, char keyid[65], char *why,
			    size_t whylen)
{
	uint8_t id[TUF_KEYID_LEN];
	char dummy[1];
	if (!why || !whylen)
		why = dummy, whylen = sizeof dummy;
	why[0] = '\0';
	ward_err e = tuf_keygen(priv_path, pub_path, id, why, whylen);
	if (e == WARD_OK)
		tuf_hex(id, sizeof id, keyid);
	return e;
}
