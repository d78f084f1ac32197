/*
 * Signature offsets (ExtendedSignatures.md): "*", "n", "EOF-n", "EP+n", "EP-n",
 * "Sx+n", "SEx", "SL+n", "VI", each but "*" with an optional ",maxshift".
 *
 * Checked against clamscan 1.4.6 (cli_caloff): keywords are case-sensitive;
 * "EOF+n", "EP", "Sx", "Sx-n", "SL-n", "*,n", "-n", "+n", "0x10", spaces and a
 * second ",shift" are rejected there and here. ClamAV's loader also accepts a
 * few sloppy forms whose number is empty ("EP+", "EOF-", "SE", "10,") or has
 * trailing junk after "VI" ("VI+1"), reading the missing number as 0 through
 * atoi; no signature uses them and Ward rejects them with a reason. Numbers
 * above UINT32_MAX are rejected: ClamAV keeps offsets in 32 bits and would
 * silently wrap them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db/sigs.h"

static ward_err bad(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static ward_err bad(char *why, size_t whylen, const char *fmt, ...)
{
	if (why && whylen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return WARD_ECORRUPT;
}

static bool starts(const char *s, size_t len, const char *kw)
{
	size_t n = strlen(kw);
	return len >= n && memcmp(s, kw, n) == 0;
}

/* A decimal number of at most UINT32_MAX filling s[0, len). */
static bool num(const char *s, size_t len, uint64_t *out)
{
	return parse_u64(s, len, UINT32_MAX, out);
}

ward_err offset_parse(const char *s, size_t len, struct sigoffset *out, char *why, size_t whylen)
{
	if (why && whylen)
		why[0] = '\0';
	if (!out || (!s && len))
		return WARD_EINVAL;
	struct sigoffset o = {.kind = OFF_ANY};
	memset(out, 0, sizeof *out);

	if (len == 0)
		return bad(why, whylen, "empty offset");
	if (len > 64)
		return bad(why, whylen, "offset longer than 64 characters");

	/* ",maxshift": the last comma; everything after it must be a number */
	size_t body = len;
	const char *comma = memchr(s, ',', len);
	if (comma) {
		body = (size_t)(comma - s);
		size_t slen = len - body - 1;
		if (memchr(comma + 1, ',', slen))
			return bad(why, whylen, "offset '%.*s': more than one maxshift", (int)len,
				   s);
		if (!num(comma + 1, slen, &o.maxshift))
			return bad(why, whylen, "offset '%.*s': maxshift is not a number <= %u",
				   (int)len, s, UINT32_MAX);
		o.floating = true;
	}

	if (body == 1 && s[0] == '*') {
		if (o.floating)
			return bad(why, whylen, "offset '*' cannot take a maxshift");
		*out = o;
		return WARD_OK;
	}
	if (body == 0)
		return bad(why, whylen, "offset '%.*s': missing offset before ','", (int)len, s);

	const char *what = NULL; /* what the number after the keyword is */
	const char *numstart = s;
	size_t numlen;
	if (starts(s, body, "EOF-")) {
		o.kind = OFF_EOF;
		numstart = s + 4;
		what = "EOF-n";
	} else if (starts(s, body, "EP+") || starts(s, body, "EP-")) {
		o.kind = s[2] == '+' ? OFF_EP_PLUS : OFF_EP_MINUS;
		numstart = s + 3;
		what = "EP+n/EP-n";
	} else if (starts(s, body, "SL+")) {
		o.kind = OFF_LAST_SECTION;
		numstart = s + 3;
		what = "SL+n";
	} else if (starts(s, body, "SE")) {
		o.kind = OFF_SECTION_ALL;
		numstart = s + 2;
		what = "SEx";
	} else if (starts(s, body, "S")) {
		/* Sx+n */
		const char *plus = memchr(s, '+', body);
		if (!plus)
			return bad(why, whylen, "offset '%.*s': Sx needs +n", (int)len, s);
		uint64_t sec;
		if (!num(s + 1, (size_t)(plus - s - 1), &sec))
			return bad(why, whylen, "offset '%.*s': bad section number", (int)len, s);
		o.kind = OFF_SECTION;
		o.section = (uint32_t)sec;
		numstart = plus + 1;
		what = "Sx+n";
	} else if (body == 2 && starts(s, body, "VI")) {
		o.kind = OFF_VERSIONINFO;
		*out = o;
		return WARD_OK;
	} else {
		o.kind = OFF_ABS;
		what = "absolute offset";
	}
	numlen = body - (size_t)(numstart - s);
	uint64_t n;
	if (!num(numstart, numlen, &n))
		return bad(why, whylen, "offset '%.*s': %s needs a decimal number <= %u", (int)len,
			   s, what, UINT32_MAX);
	if (o.kind == OFF_SECTION_ALL)
		o.section = (uint32_t)n;
	else
		o.n = n;
	*out = o;
	return WARD_OK;
}
