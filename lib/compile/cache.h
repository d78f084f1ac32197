/*
 * On-disk cache of compiled Vectorscan databases and compiled images (see
 * cache.c for the keys and the trust rules, image.c for the images).
 */
#ifndef WARD_COMPILE_CACHE_H
#define WARD_COMPILE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

#include "util/util.h"
#include "ward_limits.h"

/* Key of the database of target `target` made of these n anchors and ids. */
ward_err cache_key(const char *const *exprs, const size_t *lens, const unsigned *flags,
		   const unsigned *ids, unsigned n, unsigned target, uint8_t key[32]);
/* A cache file mapped into memory: the mapping (addr, len) and the
 * verified body inside it (16-byte aligned, writable: a private copy). */
struct cache_map {
	void *addr;
	size_t len;
	uint8_t *body;
	size_t blen;
};
/* Cache files, one per key and extension ext ("hsdb" Vectorscan databases,
 * "wimg" compiled images, image.c), with the trust checks above. True with
 * *m filled (the caller ends it with cache_unmap); false on a miss or a
 * file that fails a check. */
bool cache_map_file(const char *dir, const uint8_t key[32], const char *ext, const char magic[8],
		    struct cache_map *m);
void cache_unmap(struct cache_map *m);
/* Writing a cache file: cache_out_begin creates a temporary file in dir
 * (made, mode 0700, when missing) and writes the header for a body of blen
 * bytes with this digest; the caller writes the body to o->fd; cache_out_end
 * renames it into place when ok (else removes it) and returns whether it
 * did. Best effort: a false is a cache that stays cold. */
struct cache_out {
	int fd;
	char path[4096];
	char tmp[4096 + 16];
};
bool cache_out_begin(struct cache_out *o, const char *dir, const uint8_t key[32], const char *ext,
		     const char magic[8], const uint8_t digest[32], uint64_t blen);
bool cache_out_end(struct cache_out *o, bool ok);

/* Keep the keep most recently used files of extension ext in dir, remove
 * the others (and temporaries of dead writers): every new signature version
 * makes new cache files, and nothing else would ever remove the old ones. */
void cache_evict(const char *dir, const char *ext, unsigned keep);

/* A database for key from dir, or false (miss, or a file that fails a check). */
bool cache_load(const char *dir, const uint8_t key[32], hs_database_t **out);
/* Best effort: false when the entry could not be written. */
bool cache_store(const char *dir, const uint8_t key[32], const hs_database_t *db);

#endif /* WARD_COMPILE_CACHE_H */
