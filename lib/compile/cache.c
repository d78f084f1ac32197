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
 * File layout: magic[8] | key[32] | sha256(body)[32] | u64le body length | body
 * (magic "WARDHSC3" for Vectorscan databases; image.c's images share the
 * layout and the checks with their own magic and extension).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
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

static bool cache_path(const char *dir, const uint8_t key[32], const char *ext, char *path,
		       size_t n)
{
	char hex[65];
	key_hex(key, hex);
	int w = snprintf(path, n, "%s/%s.%s", dir, hex, ext);
	return w > 0 && (size_t)w < n;
}

bool cache_map_file(const char *dir, const uint8_t key[32], const char *ext, const char magic[8],
		    struct cache_map *m)
{
	char path[4096];
	struct stat st;
	bool ok = false;
	int fd = -1;
	memset(m, 0, sizeof *m);
	if (!dir || !cache_path(dir, key, ext, path, sizeof path))
		return false;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || !trusted(&st))
		return false;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !trusted(&st))
		goto out;
	if ((uint64_t)st.st_size < CACHE_HDR || (uint64_t)st.st_size > WARD_MAX_CACHE_FILE)
		goto out;
	/* Mapped, not read: the pages come from the page cache, and those that
	 * are only read stay shared with every other process using the file.
	 * Private and writable, so the reader can set pointers in its copy. */
	size_t len = (size_t)st.st_size;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		goto out;
	m->addr = p;
	m->len = len;
	const uint8_t *buf = p;
	uint64_t n = 0;
	for (int b = 0; b < 8; b++)
		n |= (uint64_t)buf[72 + b] << (8 * b);
	if (memcmp(buf, magic, 8) != 0 || CRYPTO_memcmp(buf + 8, key, 32) != 0 ||
	    n != len - CACHE_HDR)
		goto out;
	uint8_t dg[32];
	if (EVP_Digest(buf + CACHE_HDR, (size_t)n, dg, NULL, EVP_sha256(), NULL) != 1 ||
	    CRYPTO_memcmp(dg, buf + 40, 32) != 0)
		goto out;
	m->body = (uint8_t *)p + CACHE_HDR;
	m->blen = (size_t)n;
	/* Used now: cache_evict removes the least recently used first. */
	(void)futimens(fd, NULL);
	ok = true;
out:
	if (fd >= 0)
		close(fd);
	if (!ok)
		cache_unmap(m);
	return ok;
}

void cache_unmap(struct cache_map *m)
{
	if (m->addr)
		munmap(m->addr, m->len);
	memset(m, 0, sizeof *m);
}

bool cache_out_begin(struct cache_out *o, const char *dir, const uint8_t key[32], const char *ext,
		     const char magic[8], const uint8_t digest[32], uint64_t blen)
{
	struct stat st;
	o->fd = -1;
	if (!dir || !cache_path(dir, key, ext, o->path, sizeof o->path))
		return false;
	/* Create the directory private to us; an existing one must be ours. */
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return false;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || !trusted(&st))
		return false;
	if (blen > WARD_MAX_CACHE_FILE - CACHE_HDR)
		return false;
	uint8_t hdr[CACHE_HDR];
	memcpy(hdr, magic, 8);
	memcpy(hdr + 8, key, 32);
	memcpy(hdr + 40, digest, 32);
	for (int b = 0; b < 8; b++)
		hdr[72 + b] = (uint8_t)(blen >> (8 * b));
	int w = snprintf(o->tmp, sizeof o->tmp, "%s.XXXXXX", o->path);
	if (w <= 0 || (size_t)w >= sizeof o->tmp)
		return false;
	o->fd = mkstemp(o->tmp);
	if (o->fd < 0)
		return false;
	if (!fd_write_all(o->fd, hdr, sizeof hdr)) {
		cache_out_end(o, false);
		return false;
	}
	return true;
}

bool cache_out_end(struct cache_out *o, bool ok)
{
	/* Written whole, then renamed: a reader sees the old file, the new one,
	 * or none, never half a file. Not fsync()ed: after a crash the file may
	 * hold less than was written, which its digest check turns into a miss
	 * (and a rewrite); flushing the 100 MB image of the official sets cost
	 * more than writing it. */
	ok = ok && o->fd >= 0 && rename(o->tmp, o->path) == 0;
	if (!ok && o->fd >= 0)
		unlink(o->tmp);
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	return ok;
}

struct aged {
	struct timespec mtime;
	char name[80]; /* 64 hex digits, a dot, the extension */
};

static int older_first(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

void cache_evict(const char *dir, const char *ext, unsigned keep)
{
	char suffix[16], tmpmark[16];
	struct aged *v = NULL;
	size_t n = 0, seen = 0;
	int w1 = snprintf(suffix, sizeof suffix, ".%s", ext);
	int w2 = snprintf(tmpmark, sizeof tmpmark, ".%s.", ext);
	if (!dir || w1 <= 0 || (size_t)w1 >= sizeof suffix || w2 <= 0 ||
	    (size_t)w2 >= sizeof tmpmark)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	v = w_alloc_array(WARD_MAX_CACHE_ENTRIES, sizeof *v);
	if (!v)
		goto out;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	for (struct dirent *de; (de = readdir(d)) && seen++ < WARD_MAX_CACHE_ENTRIES;) {
		struct stat st;
		size_t l = strlen(de->d_name), sl = (size_t)w1;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue;
		/* A temporary left by a writer that died: an hour is far longer
		 * than any write takes. */
		if (strstr(de->d_name, tmpmark)) {
			if (now.tv_sec - st.st_mtim.tv_sec > 3600)
				(void)unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (l <= sl || l >= sizeof v->name || strcmp(de->d_name + l - sl, suffix) != 0)
			continue;
		v[n].mtime = st.st_mtim;
		memcpy(v[n].name, de->d_name, l + 1);
		n++;
	}
	if (n <= keep)
		goto out;
	qsort(v, n, sizeof *v, older_first);
	for (size_t i = 0; i < n - keep; i++)
		(void)unlinkat(dirfd(d), v[i].name, 0);
out:
	w_free(v);
	closedir(d);
}

bool cache_load(const char *dir, const uint8_t key[32], hs_database_t **out)
{
	struct cache_map m;
	*out = NULL;
	if (!cache_map_file(dir, key, "hsdb", CACHE_MAGIC, &m))
		return false;
	bool ok = hs_deserialize_database((const char *)m.body, m.blen, out) == HS_SUCCESS;
	cache_unmap(&m);
	if (!ok && *out) {
		hs_free_database(*out);
		*out = NULL;
	}
	return ok;
}

bool cache_store(const char *dir, const uint8_t key[32], const hs_database_t *db)
{
	char *blob = NULL;
	size_t blen = 0;
	uint8_t dg[32];
	struct cache_out o;
	if (!dir || hs_serialize_database(db, &blob, &blen) != HS_SUCCESS)
		return false;
	bool ok = EVP_Digest(blob, blen, dg, NULL, EVP_sha256(), NULL) == 1 &&
		  cache_out_begin(&o, dir, key, "hsdb", CACHE_MAGIC, dg, blen);
	if (ok)
		ok = cache_out_end(&o, fd_write_all(o.fd, blob, blen));
	free(blob); /* allocated by Vectorscan's allocator (malloc) */
	cache_evict(dir, "hsdb", WARD_MAX_CACHED_HSDB);
	return ok;
}
