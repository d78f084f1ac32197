/*
 * On-disk cache of compiled Vectorscan databases (see cache.c for the key and
 * the trust rules).
 */
#ifndef WARD_COMPILE_CACHE_H
#define WARD_COMPILE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

#include "util/util.h"
#include "ward_limits.h"

/* The key for this list of anchors (literal bytes, lengths, Vectorscan flags,
 * in id order) on this host with this Ward and Vectorscan. */
/* Key of the database of target `target` made of these n anchors and ids. */
ward_err cache_key(const char *const *exprs, const size_t *lens, const unsigned *flags,
		   const unsigned *ids, unsigned n, unsigned target, uint8_t key[32]);
/* A database for key from dir, or false (miss, or a file that fails a check). */
bool cache_load(const char *dir, const uint8_t key[32], hs_database_t **out);
/* Best effort: false when the entry could not be written. */
bool cache_store(const char *dir, const uint8_t key[32], const hs_database_t *db);

#endif /* WARD_COMPILE_CACHE_H */
