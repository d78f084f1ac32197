/*
 * Helpers shared by the ward commands: strict number parsing, an output
 * buffer with a ceiling, JSON and text escaping of hostile names, whole-line
 * writes.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- numbers ---- */

/* strtoull alone accepts leading spaces, a sign ("-1" wraps to 2^64-1) and
 * an empty string; require digits only and check the whole string was used. */
static bool parse_digits(const char *s, const char **end, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return false;
	char *e = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &e, 10);
	if (errno == ERANGE || e == s)
		return false;
	*end = e;
	*out = (uint64_t)v;
	return true;
}

bool cli_parse_number(const char *s, uint64_t max, uint64_t *out)
{
	const char *end;
	uint64_t v;
	if (!parse_digits(s, &end, &v) || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

bool cli_parse_size(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v, mul = 1;
	if (!parse_digits(s, &end, &v))
		return false;
	/* clamscan's size options take K and M, either case. */
	if (*end == 'K' || *end == 'k') {
		mul = 1024;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		mul = (uint64_t)1024 * 1024;
		end++;
	}
	if (*end != '\0' || __builtin_mul_overflow(v, mul, &v))
		return false;
	*out = v;
	return true;
}

/* ---- output buffer ---- */

static bool sb_reserve(strbuf *b, size_t extra)
{
	if (b->failed)
		return false;
	size_t need;
	if (__builtin_add_overflow(b->len, extra, &need) ||
	    __builtin_add_overflow(need, 1, &need) || need > CLI_MAX_LINE) {
		b->failed = true;
		return false;
	}
	if (b->s && need <= b->alloc)
		return true;
	size_t n = b->alloc ? b->alloc : 256;
	while (n < need)
		n = n > CLI_MAX_LINE / 2 ? CLI_MAX_LINE : n * 2;
	char *p = realloc(b->s, n);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->s = p;
	b->alloc = n;
	return true;
}

void sb_add(strbuf *b, const char *p, size_t n)
{
	if (!sb_reserve(b, n))
		return;
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void sb_adds(strbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

void sb_addf(strbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		/* Only short formatted pieces go through here; strings go
		 * through sb_add*. A longer result is a bug, not input. */
		b->failed = true;
		return;
	}
	sb_add(b, tmp, (size_t)n);
}

/* Length of the well-formed UTF-8 sequence at p (at most n bytes), 0 when it
 * is not one: overlong forms, surrogates and code points past U+10FFFF are
 * rejected (RFC 3629), so the output is always valid UTF-8. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return len;
}

void sb_add_json(strbuf *b, const char *s)
{
	if (!s) {
		sb_adds(b, "null");
		return;
	}
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	sb_add(b, "\"", 1);
	for (size_t i = 0; i < n && !b->failed;) {
		unsigned char c = p[i];
		if (c >= 0x80) {
			size_t len = utf8_len(p + i, n - i);
			if (len) {
				sb_add(b, s + i, len);
				i += len;
			} else {
				/* Not UTF-8 (file names are bytes): keep the byte's
				 * value visible as \u00XX rather than drop it. */
				sb_addf(b, "\\u%04x", c);
				i++;
			}
			continue;
		}
		switch (c) {
		case '"':
			sb_add(b, "\\\"", 2);
			break;
		case '\\':
			sb_add(b, "\\\\", 2);
			break;
		case '\n':
			sb_add(b, "\\n", 2);
			break;
		case '\r':
			sb_add(b, "\\r", 2);
			break;
		case '\t':
			sb_add(b, "\\t", 2);
			break;
		case '\b':
			sb_add(b, "\\b", 2);
			break;
		case '\f':
			sb_add(b, "\\f", 2);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				sb_addf(b, "\\u%04x", c);
			else
				sb_add(b, s + i, 1);
		}
		i++;
	}
	sb_add(b, "\"", 1);
}

void sb_add_text(strbuf *b, const char *s)
{
	size_t n = strlen(s), start = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != 0x7f)
			continue;
		sb_add(b, s + start, i - start);
		sb_addf(b, "\\x%02x", c);
		start = i + 1;
	}
	sb_add(b, s + start, n - start);
}

void sb_reset(strbuf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->s)
		b->s[0] = '\0';
}

void sb_free(strbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->alloc = 0;
	b->failed = false;
}

/* ---- output ---- */

bool cli_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		c += w;
		n -= (size_t)w;
	}
	return true;
}

void cli_diag_stderr(void *ctx, ward_err code, const char *file, unsigned long line,
		     const char *msg)
{
	struct cli_diag_count *count = ctx;
	if (count && code == WARD_EIO)
		count->io++;
	if (count && code == WARD_ECORRUPT)
		count->corrupt++;
	if (count && code == WARD_EUNSUPPORTED) {
		count->unsupported++;
		if (count->quiet_unsupported)
			return;
	}
	strbuf b = {0};
	sb_adds(&b, "LibWard: ");
	if (file) {
		sb_add_text(&b, file);
		if (line)
			sb_addf(&b, ":%lu", line);
		sb_adds(&b, ": ");
	}
	sb_add_text(&b, msg ? msg : "(no message)");
	sb_add(&b, "\n", 1);
	if (!b.failed)
		(void)cli_write_all(2, b.s, b.len);
	sb_free(&b);
}

bool cli_check_db_paths(const char *const *paths, size_t n)
{
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(paths[i], &st) == 0)
			continue;
		int err = errno;
		strbuf b = {0};
		sb_adds(&b, "ERROR: ");
		sb_add_text(&b, paths[i]);
		sb_adds(&b, ": ");
		sb_adds(&b, strerror(err));
		sb_add(&b, "\n", 1);
		if (!b.failed)
			(void)cli_write_all(2, b.s, b.len);
		sb_free(&b);
		ok = false;
	}
	return ok;
}

uint64_t cli_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *cli_cache_dir(void)
{
	/* WARD_CACHE_DIR picks the directory; set but empty, it turns the cache
	 * off. Otherwise the XDG cache directory, as other tools use. */
	static char path[4096];
	const char *v = getenv("WARD_CACHE_DIR");
	if (v)
		return v[0] ? v : NULL;
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int n;
	if (xdg && xdg[0] == '/')
		n = snprintf(path, sizeof path, "%s/ward", xdg);
	else if (home && home[0] == '/')
		n = snprintf(path, sizeof path, "%s/.cache/ward", home);
	else
		return NULL;
	if (n <= 0 || (size_t)n >= sizeof path)
		return NULL;
	/* ~/.cache itself may not exist yet on a fresh account. */
	if (!xdg) {
		char parent[4096];
		snprintf(parent, sizeof parent, "%s/.cache", home);
		(void)mkdir(parent, 0700);
	}
	return path;
}
