/*
 * File helpers for the update code: capped whole-file reads and atomic
 * replacement (write a temporary, fsync, rename, fsync the directory), so a
 * crash leaves either the old or the new file, never a torn one.
 */
#ifndef WARD_UPDATE_FSUTIL_H
#define WARD_UPDATE_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/ward.h"

/* Read all of path (at most cap bytes, else WARD_ELIMIT). *out is w_malloc'ed
 * (NUL-terminated, not counted in *len). */
ward_err fs_read_file(const char *path, size_t cap, uint8_t **out, size_t *len) WARD_WUR;
/* Replace path with n bytes atomically (mode 0644). */
ward_err fs_write_atomic(const char *path, const void *p, size_t n) WARD_WUR;
/* Copy src to dst atomically, streaming, with fsync. */
ward_err fs_copy_atomic(const char *src, const char *dst) WARD_WUR;
/* fsync a directory (after a rename in it). */
ward_err fs_sync_dir(const char *dir) WARD_WUR;
/* mkdir if missing (one level), mode 0755. */
ward_err fs_mkdir(const char *path) WARD_WUR;
/* Remove a directory tree (bounded depth, no symlink following). */
ward_err fs_rmtree(const char *path, unsigned depth);
/* snprintf into buf, false on truncation. */
bool fs_path(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool fs_exists(const char *path);

#endif /* WARD_UPDATE_FSUTIL_H */
