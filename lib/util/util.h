/*
 * Small shared helpers: checked arithmetic, the allocation shim (so tests can
 * fail the Nth allocation), a growable vector with a ceiling, a string pool,
 * and defensive-code markers.
 */
#ifndef WARD_UTIL_H
#define WARD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/ward.h"

/* ALWAYS(x)/NEVER(x): conditions that hold unless Ward has a bug. Debug builds
 * abort so the bug is found; release builds take the safe branch. */
#ifdef NDEBUG
#define ALWAYS(x) (x)
#define NEVER(x) (x)
#else
#include <assert.h>
#define ALWAYS(x) ((x) ? 1 : (assert(0 && #x), 0))
#define NEVER(x) ((x) ? (assert(0 && #x), 1) : 0)
#endif

/* WARD_ASAN: built with AddressSanitizer (GCC defines __SANITIZE_ADDRESS__,
 * clang 14 only answers __has_feature). Code that must differ under ASan
 * (address-space limits, extra system calls) tests this one macro. */
#if defined(__SANITIZE_ADDRESS__)
#define WARD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WARD_ASAN 1
#endif
#endif

/* ---- checked arithmetic: return true when the result overflowed ---- */
static inline bool ck_add(size_t a, size_t b, size_t *r) { return __builtin_add_overflow(a, b, r); }
static inline bool ck_mul(size_t a, size_t b, size_t *r) { return __builtin_mul_overflow(a, b, r); }
static inline bool ck_add64(uint64_t a, uint64_t b, uint64_t *r)
{
	return __builtin_add_overflow(a, b, r);
}
static inline bool ck_mul64(uint64_t a, uint64_t b, uint64_t *r)
{
	return __builtin_mul_overflow(a, b, r);
}

/* ---- allocation shim ----
 * Every allocation in libward goes through these. ward_alloc_fail_after(n)
 * makes the (n+1)-th allocation from now fail (n < 0 disables), which the
 * allocation-failure tests use to walk every failure point. */
void *w_malloc(size_t n);
void *w_calloc(size_t n, size_t size);
void *w_realloc(void *p, size_t n);
void *w_alloc_array(size_t n, size_t size); /* malloc(n*size) with overflow check */
void *w_realloc_array(void *p, size_t n, size_t size);
char *w_strdup(const char *s);
char *w_strndup(const char *s, size_t n);
void w_free(void *p);
void ward_alloc_fail_after(long n);
unsigned long ward_alloc_count(void);

/* ---- growable vector with a ceiling ----
 * vec_reserve makes room for `extra` more items of `size` bytes, doubling,
 * never past `cap_items`. Returns WARD_ELIMIT past the ceiling. */
typedef struct vec {
	void *items;
	size_t len;   /* items in use */
	size_t alloc; /* items allocated */
} vec;

ward_err vec_reserve(vec *v, size_t extra, size_t size, size_t cap_items);
/* Append one item (copied); returns WARD_OK, WARD_ENOMEM or WARD_ELIMIT. */
ward_err vec_push(vec *v, const void *item, size_t size, size_t cap_items);
void vec_free(vec *v);
/* Give back the unused tail (after loading, when the vector stops growing). */
void vec_shrink(vec *v, size_t size);
#define VEC_AT(v, T, i) (((T *)(v)->items)[i])

/* ---- dynamic string buffer with a ceiling (curl's dynbuf idea) ---- */
typedef struct dbuf {
	char *s; /* NUL-terminated when len > 0 */
	size_t len;
	size_t alloc;
	size_t cap; /* most bytes it may ever hold */
} dbuf;

/* A reason into a caller's buffer (why, whylen: may be NULL, 0), cut at its
 * size: reasons embed paths and names from the input. */
void w_why(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void dbuf_init(dbuf *b, size_t cap);
ward_err dbuf_add(dbuf *b, const void *p, size_t n);
ward_err dbuf_addf(dbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dbuf_reset(dbuf *b);
void dbuf_free(dbuf *b);

/* ---- string pool: many small immutable strings, referenced by offset ---- */
typedef struct strpool {
	dbuf buf;
} strpool;

void strpool_init(strpool *p);
/* Copies n bytes of s plus a NUL; *off receives the string's offset. */
ward_err strpool_add(strpool *p, const char *s, size_t n, uint32_t *off);
static inline const char *strpool_get(const strpool *p, uint32_t off) { return p->buf.s + off; }
void strpool_free(strpool *p);

/* ---- misc ---- */
static inline int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse a decimal number of at most max; no sign, no spaces, no overflow.
 * Returns false on anything else (the banned atoi's replacement). */
bool parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out);

/* write(2) all n bytes, going on after EINTR and short writes. */
bool fd_write_all(int fd, const void *p, size_t n);

/* Monotonic milliseconds. */
uint64_t now_ms(void);

#endif /* WARD_UTIL_H */
