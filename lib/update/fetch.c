/*
 * libcurl transfers for the update client.
 *
 * libcurl (Debian: libcurl4-openssl-dev) is linked into libward. Only this
 * module calls it; scanning workers never reach it, and their seccomp filter
 * forbids sockets anyway.
 *
 * Hardening: http and https only, no redirects (a mirror is a base URL the
 * user chose), no content decoding (a compression bomb would defeat the byte
 * cap), connect and low-speed timeouts so a stalled mirror is abandoned, and
 * the cap enforced in the write callback.
 */
#include "update/fetch.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "ward_limits.h"

static bool api_ok;
static pthread_once_t api_once = PTHREAD_ONCE_INIT;

/* curl_global_init is not thread-safe: run it once. */
static void api_load(void) { api_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }

struct fetcher {
	CURL *curl;
	uint64_t timeout_s;
};

ward_err fetch_new(uint64_t timeout_s, fetcher **out, char *why, size_t whylen)
{
	*out = NULL;
	pthread_once(&api_once, api_load);
	if (!api_ok) {
		snprintf(why, whylen, "libcurl could not be initialised");
		return WARD_EUNSUPPORTED;
	}
	fetcher *f = w_calloc(1, sizeof *f);
	if (!f)
		return WARD_ENOMEM;
	f->curl = curl_easy_init();
	if (!f->curl) {
		w_free(f);
		return WARD_ENOMEM;
	}
	f->timeout_s = timeout_s;
	*out = f;
	return WARD_OK;
}

void fetch_free(fetcher *f)
{
	if (!f)
		return;
	curl_easy_cleanup(f->curl);
	w_free(f);
}

struct sink {
	uint64_t cap, got;
	bool over;
	dbuf *mem; /* either memory ... */
	int fd;    /* ... or a file, hashed as it is written */
	EVP_MD_CTX *md;
	bool failed;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct sink *s = ctx;
	size_t n;
	if (ck_mul(size, nmemb, &n))
		return 0;
	/* The cap is checked before a byte is kept: the transfer stops at
	 * the first chunk that would cross it (returning less than n aborts). */
	if (n > s->cap - s->got) {
		s->over = true;
		return 0;
	}
	s->got += n;
	if (s->mem) {
		if (dbuf_add(s->mem, p, n) != WARD_OK) {
			s->failed = true;
			return 0;
		}
		return n;
	}
	if (EVP_DigestUpdate(s->md, p, n) != 1) {
		s->failed = true;
		return 0;
	}
	for (size_t off = 0; off < n;) {
		ssize_t w = write(s->fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->failed = true;
			return 0;
		}
		off += (size_t)w;
	}
	return n;
}

static fetch_status perform(fetcher *f, const char *url, struct sink *s, char *why, size_t whylen)
{
	CURL *c = f->curl;
	long timeout = (long)(f->timeout_s ? f->timeout_s : 300);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ward/" WARD_VERSION);
	/* A declared length over the cap is refused before the body. */
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->cap);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	CURLcode rc = curl_easy_perform(c);
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK)
		return FETCH_OK;
	if (s->over || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(why, whylen, "%s: more than %llu bytes (stopped reading)", url,
			 (unsigned long long)s->cap);
		return FETCH_OVER_CAP;
	}
	if (s->failed) {
		snprintf(why, whylen, "%s: cannot store the download", url);
		return FETCH_NOMEM;
	}
	if (rc == CURLE_HTTP_RETURNED_ERROR && (code == 404 || code == 410)) {
		snprintf(why, whylen, "%s: not found (HTTP %ld)", url, code);
		return FETCH_NOT_FOUND;
	}
	if (rc == CURLE_HTTP_RETURNED_ERROR)
		snprintf(why, whylen, "%s: HTTP %ld", url, code);
	else
		snprintf(why, whylen, "%s: %s", url, curl_easy_strerror(rc));
	return FETCH_FAILED;
}

fetch_status fetch_mem(fetcher *f, const char *url, size_t cap, dbuf *out, char *why, size_t whylen)
{
	size_t dcap;
	if (ck_add(cap, 1, &dcap))
		return FETCH_NOMEM;
	dbuf_free(out);
	dbuf_init(out, dcap);
	struct sink s = {.cap = cap, .mem = out, .fd = -1};
	fetch_status st = perform(f, url, &s, why, whylen);
	if (st != FETCH_OK)
		dbuf_free(out);
	return st;
}

fetch_status fetch_fd(fetcher *f, const char *url, uint64_t cap, int fd, uint8_t sha256[32],
		      uint64_t *len, char *why, size_t whylen)
{
	struct sink s = {.cap = cap, .fd = fd};
	unsigned int mdlen = 32;
	*len = 0;
	s.md = EVP_MD_CTX_new();
	if (!s.md || EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(s.md);
		return FETCH_NOMEM;
	}
	fetch_status st = perform(f, url, &s, why, whylen);
	if (st == FETCH_OK && EVP_DigestFinal_ex(s.md, sha256, &mdlen) != 1)
		st = FETCH_NOMEM;
	*len = s.got;
	EVP_MD_CTX_free(s.md);
	return st;
}
