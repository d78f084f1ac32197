/*
 * Compiled-database cache. Compiling the Vectorscan database is most of the
 * load time (about 70% for the official sets), and its input, the list of
 * anchors, is a pure function of the signature text and of this code. So the
 * compiled database is kept on disk under a key that covers everything it
 * depends on:
 *
 *   key = SHA-256(cache format, Ward version, Vectorscan version, the host
 *                 platform Vectorscan compiled for, the target, every
 *                 anchor with its id in database order)
 *
 * There is one database per signature target, so one file each.
 *
 * A changed database, Ward or Vectorscan version or CPU gives another key: a
 * stale entry is never read. A file is used only when it is a regular file
 * owned by this user in a directory owned by this user, neither writable by
 * others, its header names the key, and the SHA-256 of its body matches the
 * header; otherwise it is ignored (and the database compiled), so a corrupt or
 * planted file costs a recompile, never a wrong or unsafe database.
 * Vectorscan's deserialiser is not meant for hostile bytes; the ownership and
 * digest checks keep other users' bytes away from it.
 *
 * File layout: "WARDHSC3" | key[32] | sha256(body)[32] | u64le body length | body.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "compile/cache.h"

#define CACHE_MAGIC "WARDHSC3" /* 3: per target, with target 0 in each */
#define CACHE_HDR (8 + 32 + 32 + 8)

ward_err cache_key(const char *const *exprs, const size_t *lens, const unsigned *flags,
		   const unsigned *ids, unsigned n, unsigned target, uint8_t key[32])
{
	const uint32_t where = target;
	ward_err err = WARD_ENOMEM;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	hs_platform_info_t plat;
	memset(&plat, 0, sizeof plat);
	if (!md)
		return WARD_ENOMEM;
	if (hs_populate_platform(&plat) != HS_SUCCESS) {
		err = WARD_EENGINE;
		goto out;
	}
	const char *hv = hs_version();
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, CACHE_MAGIC, 8) != 1 ||
	    EVP_DigestUpdate(md, WARD_VERSION, sizeof WARD_VERSION) != 1 ||
	    EVP_DigestUpdate(md, hv, strlen(hv) + 1) != 1 ||
	    EVP_DigestUpdate(md, &plat.tune, sizeof plat.tune) != 1 ||
	    EVP_DigestUpdate(md, &plat.cpu_features, sizeof plat.cpu_features) != 1 ||
	    EVP_DigestUpdate(md, &where, sizeof where) != 1)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		uint8_t hdr[24];
		uint64_t l = lens[i];
		for (int b = 0; b < 8; b++)
			hdr[b] = (uint8_t)(l >> (8 * b));
		for (int b = 0; b < 8; b++)
			hdr[8 + b] = (uint8_t)((uint64_t)flags[i] >> (8 * b));
		for (int b = 0; b < 8; b++)
			hdr[16 + b] = (uint8_t)((uint64_t)ids[i] >> (8 * b));
		if (EVP_DigestUpdate(md, hdr, sizeof hdr) != 1 ||
		    EVP_DigestUpdate(md, exprs[i], lens[i]) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(md, key, NULL) != 1)
		goto out;
	err = WARD_OK;
out:
	EVP_MD_CTX_free(md);
	return err;
}

static void key_hex(const uint8_t key[32], char out[65])
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = hx[key[i] >> 4];
		out[2 * i + 1] = hx[key[i] & 15];
	}
	out[64] = '\0';
}

/* The directory (and the file) must belong to us and not be writable by
 * anyone else: otherwise another user could plant a database. */
static bool trusted(const struct stat *st)
{
	return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

static bool cache_path(const char *dir, const uint8_t key[32], char *path, size_t n)
{
	char hex[65];
	key_hex(key, hex);
	int w = snprintf(path, n, "%s/%s.hsdb", dir, hex);
	return w > 0 && (size_t)w < n;
}

bool cache_load(const char *dir, const uint8_t key[32], hs_database_t **out)
{
	char path[4096];
	struct stat st;
	bool ok = false;
	uint8_t *buf = NULL;
	int fd = -1;
	*out = NULL;
	if (!dir || !cache_path(dir, key, path, sizeof path))
		return false;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || !trusted(&st))
		return false;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !trusted(&st))
		goto out;
	if ((uint64_t)st.st_size < CACHE_HDR || (uint64_t)st.st_size > WARD_MAX_CACHE_FILE)
		goto out;
	size_t len = (size_t)st.st_size, got = 0;
	buf = w_malloc(len);
	if (!buf)
		goto out;
	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		got += (size_t)r;
	}
	uint64_t blen = 0;
	for (int b = 0; b < 8; b++)
		blen |= (uint64_t)buf[72 + b] << (8 * b);
	if (memcmp(buf, CACHE_MAGIC, 8) != 0 || CRYPTO_memcmp(buf + 8, key, 32) != 0 ||
	    blen != len - CACHE_HDR)
		goto out;
	uint8_t dg[32];
	if (EVP_Digest(buf + CACHE_HDR, (size_t)blen, dg, NULL, EVP_sha256(), NULL) != 1 ||
	    CRYPTO_memcmp(dg, buf + 40, 32) != 0)
		goto out;
	ok = hs_deserialize_database((const char *)buf + CACHE_HDR, (size_t)blen, out) ==
	     HS_SUCCESS;
out:
	if (fd >= 0)
		close(fd);
	w_free(buf);
	if (!ok && *out) {
		hs_free_database(*out);
		*out = NULL;
	}
	return ok;
}

bool cache_store(const char *dir, const uint8_t key[32], const hs_database_t *db)
{
	char path[4096], tmp[4096 + 16];
	char *blob = NULL;
	size_t blen = 0;
	int fd = -1;
	bool ok = false;
	struct stat st;
	if (!dir || !cache_path(dir, key, path, sizeof path))
		return false;
	/* Create the directory private to us; an existing one must be ours. */
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return false;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || !trusted(&st))
		return false;
	if (hs_serialize_database(db, &blob, &blen) != HS_SUCCESS)
		return false;
	if (blen > WARD_MAX_CACHE_FILE - CACHE_HDR)
		goto out;
	uint8_t hdr[CACHE_HDR];
	memcpy(hdr, CACHE_MAGIC, 8);
	memcpy(hdr + 8, key, 32);
	if (EVP_Digest(blob, blen, hdr + 40, NULL, EVP_sha256(), NULL) != 1)
		goto out;
	for (int b = 0; b < 8; b++)
		hdr[72 + b] = (uint8_t)((uint64_t)blen >> (8 * b));
	int w = snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
	if (w <= 0 || (size_t)w >= sizeof tmp)
		goto out;
	fd = mkstemp(tmp);
	if (fd < 0)
		goto out;
	/* Written whole, flushed, then renamed: a reader sees the old file, the
	 * new one, or none, never half a file. */
	if (!fd_write_all(fd, hdr, sizeof hdr) || !fd_write_all(fd, blob, blen) || fsync(fd) != 0) {
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		goto out;
	}
	ok = true;
out:
	if (fd >= 0)
		close(fd);
	free(blob); /* allocated by Vectorscan's allocator (malloc) */
	return ok;
}
