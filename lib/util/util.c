#include "util/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <unistd.h>

/* ---- allocation shim ---- */

/* Process-wide, atomic because scanners run in many threads; fault injection
 * itself is meant for single-threaded tests. */
static long fail_countdown = -1;
static unsigned long alloc_calls;

void ward_alloc_fail_after(long n) { __atomic_store_n(&fail_countdown, n, __ATOMIC_SEQ_CST); }
unsigned long ward_alloc_count(void) { return __atomic_load_n(&alloc_calls, __ATOMIC_RELAXED); }

static bool inject_failure(void)
{
	__atomic_fetch_add(&alloc_calls, 1, __ATOMIC_RELAXED);
	long c = __atomic_load_n(&fail_countdown, __ATOMIC_RELAXED);
	if (c < 0)
		return false;
	if (c == 0)
		return true; /* keep failing until reset: callers must not retry past it */
	__atomic_fetch_sub(&fail_countdown, 1, __ATOMIC_RELAXED);
	return false;
}

void *w_malloc(size_t n)
{
	if (inject_failure())
		return NULL;
	return malloc(n ? n : 1);
}

void *w_calloc(size_t n, size_t size)
{
	if (inject_failure())
		return NULL;
	size_t total;
	if (ck_mul(n, size, &total))
		return NULL;
	return calloc(total ? total : 1, 1);
}

void *w_realloc(void *p, size_t n)
{
	if (inject_failure())
		return NULL;
	return realloc(p, n ? n : 1);
}

void *w_alloc_array(size_t n, size_t size)
{
	size_t total;
	if (ck_mul(n, size, &total))
		return NULL;
	return w_malloc(total);
}

void *w_realloc_array(void *p, size_t n, size_t size)
{
	size_t total;
	if (ck_mul(n, size, &total))
		return NULL;
	return w_realloc(p, total);
}

char *w_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = w_malloc(len + 1);
	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *w_strdup(const char *s) { return w_strndup(s, strlen(s)); }

void w_free(void *p) { free(p); }

/* ---- vec ---- */

ward_err vec_reserve(vec *v, size_t extra, size_t size, size_t cap_items)
{
	size_t need;
	if (ck_add(v->len, extra, &need) || need > cap_items)
		return WARD_ELIMIT;
	if (need <= v->alloc)
		return WARD_OK;
	size_t n = v->alloc ? v->alloc : 8;
	while (n < need)
		n = (n > cap_items / 2) ? cap_items : n * 2;
	void *p = w_realloc_array(v->items, n, size);
	if (!p)
		return WARD_ENOMEM;
	v->items = p;
	v->alloc = n;
	return WARD_OK;
}

ward_err vec_push(vec *v, const void *item, size_t size, size_t cap_items)
{
	ward_err e = vec_reserve(v, 1, size, cap_items);
	if (e)
		return e;
	memcpy((char *)v->items + v->len * size, item, size);
	v->len++;
	return WARD_OK;
}

void vec_shrink(vec *v, size_t size)
{
	if (v->len == v->alloc || v->len == 0)
		return;
	void *p = w_realloc_array(v->items, v->len, size);
	if (p) { /* on failure the larger block simply stays */
		v->items = p;
		v->alloc = v->len;
	}
}

void vec_free(vec *v)
{
	w_free(v->items);
	v->items = NULL;
	v->len = v->alloc = 0;
}

/* ---- dbuf ---- */

void dbuf_init(dbuf *b, size_t cap)
{
	b->s = NULL;
	b->len = b->alloc = 0;
	b->cap = cap;
}

ward_err dbuf_add(dbuf *b, const void *p, size_t n)
{
	size_t need;
	if (ck_add(b->len, n, &need) || ck_add(need, 1, &need) || need > b->cap)
		return WARD_ELIMIT;
	if (need > b->alloc) {
		size_t a = b->alloc ? b->alloc : 64;
		while (a < need)
			a = (a > b->cap / 2) ? b->cap : a * 2;
		char *s = w_realloc(b->s, a);
		if (!s)
			return WARD_ENOMEM;
		b->s = s;
		b->alloc = a;
	}
	if (n)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return WARD_OK;
}

void w_why(char *why, size_t whylen, const char *fmt, ...)
{
	if (!why || whylen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

ward_err dbuf_addf(dbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return WARD_EINTERNAL;
	if ((size_t)n < sizeof tmp)
		return dbuf_add(b, tmp, (size_t)n);
	/* Longer than the stack buffer: format again into a heap copy. */
	char *big = w_malloc((size_t)n + 1);
	if (!big)
		return WARD_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ward_err e = dbuf_add(b, big, (size_t)n);
	w_free(big);
	return e;
}

void dbuf_reset(dbuf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

void dbuf_free(dbuf *b)
{
	w_free(b->s);
	b->s = NULL;
	b->len = b->alloc = 0;
}

/* ---- strpool ---- */

void strpool_init(strpool *p)
{
	/* 4 GiB of names would overflow the uint32 offsets. */
	dbuf_init(&p->buf, UINT32_MAX);
}

ward_err strpool_add(strpool *p, const char *s, size_t n, uint32_t *off)
{
	size_t at = p->buf.len;
	ward_err e = dbuf_add(&p->buf, s, n);
	if (e)
		return e;
	/* Keep the terminator inside the pool so the next string starts after it. */
	e = dbuf_add(&p->buf, "", 1);
	if (e)
		return e;
	*off = (uint32_t)at;
	return WARD_OK;
}

void strpool_free(strpool *p) { dbuf_free(&p->buf); }

/* ---- misc ---- */

bool parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	if (n == 0 || n > 20)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (ck_mul64(v, 10, &v) || ck_add64(v, (uint64_t)(s[i] - '0'), &v))
			return false;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *const err_names[WARD_ERR_COUNT] = {
	[WARD_OK] = "success",
	[WARD_ENOMEM] = "out of memory",
	[WARD_EIO] = "input/output error",
	[WARD_ECORRUPT] = "malformed input",
	[WARD_EUNSUPPORTED] = "unsupported feature",
	[WARD_ELIMIT] = "limit exceeded",
	[WARD_EINVAL] = "invalid argument",
	[WARD_EINTERNAL] = "internal error (a bug in Ward)",
	[WARD_EBADSIG] = "digital signature missing or invalid",
	[WARD_EENGINE] = "pattern engine error",
	[WARD_ETIMEOUT] = "time limit exceeded",
};

const char *ward_strerror(ward_err err)
{
	if ((unsigned)err < WARD_ERR_COUNT && err_names[err])
		return err_names[err];
	return "unknown error";
}

bool fd_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		c += w;
		n -= (size_t)w;
	}
	return true;
}
