/*
 * Compiled images: a whole compiled database (but for its Vectorscan
 * databases, which have their own cache files, and its PCRE2 programs) kept
 * in the cache directory, so that loading the same signatures again skips
 * parsing and planning. See image.c for the key and the layout.
 */
#ifndef WARD_COMPILE_IMAGE_H
#define WARD_COMPILE_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "compile/db.h"

/* Start the key of a load of these paths with these options: the image
 * format, this build of Ward (its build id), Vectorscan's version and
 * platform, the load flags and the paths. NULL when no key can be made (no
 * build id, out of memory): then no image is read or written. The caller
 * goes on with the load itself (sigset.key_md) or with image_key(), and
 * finishes with image_key_end(). */
struct evp_md_ctx_st *image_key_begin(const char *const *paths, size_t npaths,
				      const ward_load_opts *opts);
/* Finish (and free) md; false when any update failed. */
bool image_key_end(struct evp_md_ctx_st *md, bool failed, uint8_t key[32]);
/* The whole key for a load, from a walk that reads and hashes every file
 * the load would read (the same walk, lib/db/load.c) without parsing any. */
bool image_key(const char *const *paths, size_t npaths, const ward_load_opts *opts,
	       uint8_t key[32]);

/* Fill db (fresh from sigset_init, cache_dir set) from the image stored
 * under key, load its Vectorscan databases from the cache, and replay the
 * diagnostics the original load gave through db->set.diag. On success db
 * owns the image (db->image; its arrays point into it, set.borrowed) and
 * still needs build_pcre and the final counts; false on a miss or a file
 * that fails a check, with db as it was. */
bool image_load(const char *dir, const uint8_t key[32], struct ward_db *db);
/* image_load's work once the file is mapped and its digest checked: bind
 * db (as for image_load) to the image body (len bytes, 16-byte aligned,
 * writable, kept by the caller until db is reset or freed) and replay its
 * diagnostics. False, with db reset (image_reset), when a section, a pool or
 * a diagnostic does not fit, or a Vectorscan database it names is not in
 * db->cache_dir. The fuzz harness (tests/fuzz/fuzz_image.c) calls it. */
bool image_bind(uint8_t *body, size_t len, struct ward_db *db);
/* Undo a bind: db is again fresh from sigset_init, with its diagnostic
 * callback, load flags and cache directory kept. */
void image_reset(struct ward_db *db);
/* End db->image (after the database that points into it). NULL is fine. */
void image_free(void *image);
/* Write db (compiled, PCRE2 programs not yet built) and the diagnostics of
 * its load (image_diag_add) as the image for key. Best effort. */
bool image_store(const char *dir, const uint8_t key[32], const struct ward_db *db,
		 const dbuf *diags);
/* Append one diagnostic to diags, as image_load replays it; false when it
 * does not fit (then the load is not stored). */
bool image_diag_add(dbuf *diags, ward_err code, const char *file, unsigned long line,
		    const char *msg);

#endif /* WARD_COMPILE_IMAGE_H */
