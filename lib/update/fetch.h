/*
 * HTTP(S) downloads for the update client, through libcurl, with a hard cap
 * on the bytes accepted: the write callback stops the transfer at the cap
 * (TUF's "endless data" attack), whatever the server's Content-Length says.
 */
#ifndef WARD_UPDATE_FETCH_H
#define WARD_UPDATE_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

typedef struct fetcher fetcher;

ward_err fetch_new(uint64_t timeout_s, fetcher **out, char *why, size_t whylen) WARD_WUR;
void fetch_free(fetcher *f);

typedef enum fetch_status {
	FETCH_OK = 0,
	FETCH_NOT_FOUND, /* HTTP 404 or 410: the file is not there */
	FETCH_OVER_CAP,  /* more than cap bytes: stopped reading */
	FETCH_FAILED,    /* connection, timeout, other HTTP errors */
	FETCH_NOMEM,
} fetch_status;

/* Download url into memory, at most cap bytes (*buf w_malloc'ed). */
fetch_status fetch_mem(fetcher *f, const char *url, size_t cap, dbuf *out, char *why,
		       size_t whylen);
/* Download url into fd, at most cap bytes; sha256 receives the hash of what
 * was written and *len its length. */
fetch_status fetch_fd(fetcher *f, const char *url, uint64_t cap, int fd, uint8_t sha256[32],
		      uint64_t *len, char *why, size_t whylen);

#endif /* WARD_UPDATE_FETCH_H */
