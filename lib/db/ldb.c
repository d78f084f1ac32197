/*
 * Logical signatures (.ldb, LogicalSignatures.md):
 *   SignatureName;TargetDescriptionBlock;LogicalExpression;Subsig0;Subsig1;...
 *
 * The TDB is a ','-separated list of Key:Value. Ward evaluates Engine, Target,
 * FileSize, EntryPoint, NumberOfSections and Container; any other key
 * (IconGroup1/2, HandlerType, Intermediates, ...) makes the signature
 * "unsupported": it is kept, counted under the key's name, and never matches.
 *
 * A subsignature is one of
 *   [Offset:]Hex[::Modifiers]          a body pattern (modifiers i w f a)
 *   [Offset:]Trigger/regex/[flags]     a PCRE subsignature
 *   Trigger(Offset#ByteOptions#Cmps)   a byte-compare subsignature
 *   ${min-max}MACRO$, fuzzy_img#...    unsupported: SUB_NEVER, counted
 * told apart the way clamscan does: a '/' means PCRE (a regex may contain
 * "::" or '#'), then '#' means byte compare; hex patterns contain neither.
 *
 * A line is all or nothing: on a bad subsignature everything pushed for the
 * line is rolled back, so the set never holds half a logical signature.
 */
#include "db/sigs.h"
#include "formats/formats.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define WHY_LEN 256
#define LDB_MAX_FIELDS (3 + WARD_MAX_SUBSIGS)
/* Unsupported features noted per line: one per subsignature plus the TDB. */
#define LDB_MAX_PENDING (WARD_MAX_SUBSIGS + 8)
#define FEATURE_LEN 64

/* Everything one line adds, so a bad line can be undone. */
struct ldb_line {
	struct sigset *set;
	const struct dbline *l;
	struct logicsig ls;
	struct subsig subs[WARD_MAX_SUBSIGS]; /* ls.subs points here while parsing */
	uint32_t lidx;                        /* the index the logical signature will get */
	size_t body_mark, pcre_mark, bytecmp_mark;
	char pending[LDB_MAX_PENDING][FEATURE_LEN];
	char pending_detail[LDB_MAX_PENDING][FEATURE_LEN];
	size_t npending;
	bool bad; /* a diagnostic was given: drop the line */
};

/* Outcome of a sub-parser: OK (perhaps marking the line bad), or fatal. */

static void bad(struct ldb_line *x, ward_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void bad(struct ldb_line *x, ward_err code, const char *fmt, ...)
{
	/* One diagnostic per line: the first problem found. */
	if (x->bad)
		return;
	x->bad = true;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sigset_bad_line(x->set, x->l->file, x->l->line, code, "%s", msg);
}

static void pend(struct ldb_line *x, const char *feature, const char *detail)
{
	for (size_t i = 0; i < x->npending; i++)
		if (strcmp(x->pending[i], feature) == 0)
			return;
	if (NEVER(x->npending >= LDB_MAX_PENDING))
		return;
	snprintf(x->pending[x->npending], FEATURE_LEN, "%s", feature);
	snprintf(x->pending_detail[x->npending], FEATURE_LEN, "%s", detail ? detail : "");
	x->npending++;
}

/* "what" as a NUL-terminated, length-capped copy for messages. */
static const char *clip(char *buf, size_t cap, const char *s, size_t n)
{
	size_t k = n < cap - 1 ? n : cap - 1;
	for (size_t i = 0; i < k; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[k] = '\0';
	return buf;
}

/* Decimal, or hex with a 0x prefix (byte-compare offsets and values). */
static bool parse_num(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		uint64_t v = 0;
		if (n - 2 > 16)
			return false;
		for (size_t i = 2; i < n; i++) {
			int h = hexval((unsigned char)s[i]);
			if (h < 0)
				return false;
			v = v << 4 | (uint64_t)h;
		}
		if (v > max)
			return false;
		*out = v;
		return true;
	}
	return parse_u64(s, n, max, out);
}

/* "min-max": both required (clamscan rejects "Engine:81" and "FileSize:68"). */
static bool parse_range(const char *s, size_t n, struct range64 *r)
{
	const char *dash = memchr(s, '-', n);
	if (!dash)
		return false;
	size_t a = (size_t)(dash - s);
	if (!parse_u64(s, a, UINT64_MAX, &r->lo) ||
	    !parse_u64(dash + 1, n - a - 1, UINT64_MAX, &r->hi))
		return false;
	r->set = true;
	return true;
}

/* Returns false when the signature is outside our functionality level. */
static bool parse_tdb(struct ldb_line *x, const char *s, size_t n)
{
	char k1[FEATURE_LEN], k2[FEATURE_LEN];
	bool have_target = false;
	struct range64 engine = {false, 0, 0};
	size_t start = 0, idx = 0;

	for (size_t i = 0; i <= n && !x->bad; i++) {
		if (i < n && s[i] != ',')
			continue;
		const char *a = s + start;
		size_t alen = i - start;
		start = i + 1;
		const char *colon = memchr(a, ':', alen);
		if (!colon) {
			bad(x, WARD_ECORRUPT, "malformed TDB attribute '%s'",
			    clip(k1, sizeof k1, a, alen));
			break;
		}
		size_t klen = (size_t)(colon - a);
		const char *v = colon + 1;
		size_t vlen = alen - klen - 1;
#define KEY_IS(lit) (klen == sizeof(lit) - 1 && memcmp(a, lit, klen) == 0)
		if (KEY_IS("Engine")) {
			/* LogicalSignatures.md: "if the Engine keyword is used, it must
			 * be the first one"; clamscan rejects it anywhere else. */
			if (idx != 0)
				bad(x, WARD_ECORRUPT,
				    "the Engine attribute must come first in the TDB");
			else if (!parse_range(v, vlen, &engine))
				bad(x, WARD_ECORRUPT, "incorrect parameters in 'Engine'");
		} else if (KEY_IS("Target")) {
			uint64_t t;
			if (!parse_u64(v, vlen, UINT32_MAX, &t)) {
				bad(x, WARD_ECORRUPT, "incorrect parameters in 'Target'");
			} else if (t >= TARGET__COUNT) {
				/* clamscan skips "Not supported target type". */
				x->ls.target = TARGET_ANY;
				x->ls.unsupported = true;
				pend(x, "ldb target type > 14", NULL);
			} else {
				x->ls.target = (uint8_t)t;
			}
			have_target = true;
		} else if (KEY_IS("FileSize")) {
			if (!parse_range(v, vlen, &x->ls.filesize))
				bad(x, WARD_ECORRUPT, "incorrect parameters in 'FileSize'");
		} else if (KEY_IS("EntryPoint")) {
			if (!parse_range(v, vlen, &x->ls.entrypoint))
				bad(x, WARD_ECORRUPT, "incorrect parameters in 'EntryPoint'");
		} else if (KEY_IS("NumberOfSections")) {
			if (!parse_range(v, vlen, &x->ls.nsections))
				bad(x, WARD_ECORRUPT, "incorrect parameters in 'NumberOfSections'");
		} else if (KEY_IS("Container")) {
			int c = ftype_from_clamav_name(v, vlen);
			if (c < 0) {
				/* A CL_TYPE Ward does not detect: the condition can never
				 * hold here, so the signature is unsupported, not bad. */
				char f[FEATURE_LEN];
				snprintf(f, sizeof f, "ldb Container %.40s", clip(k2, 40, v, vlen));
				x->ls.unsupported = true;
				pend(x, f, NULL);
			} else {
				x->ls.container = c;
			}
		} else {
			char f[FEATURE_LEN];
			snprintf(f, sizeof f, "ldb TDB %.40s", clip(k2, 40, a, klen));
			x->ls.unsupported = true;
			pend(x, f, NULL);
		}
#undef KEY_IS
		idx++;
	}
	if (x->bad)
		return true;
	if (!have_target) {
		bad(x, WARD_ECORRUPT, "no Target in the TDB");
		return true;
	}
	if (engine.set && (engine.lo > WARD_FLEVEL || engine.hi < WARD_FLEVEL))
		return false;
	return true;
}

static bool refs_below(const struct lnode *e, uint32_t n, uint32_t limit, uint32_t *maxref)
{
	*maxref = 0;
	bool any = false;
	for (uint32_t i = 0; i < n; i++) {
		if (e[i].kind != LN_SUB)
			continue;
		if (e[i].a >= limit)
			return false;
		if (!any || e[i].a > *maxref)
			*maxref = e[i].a;
		any = true;
	}
	return any;
}

static ward_err push_body(struct ldb_line *x, uint32_t sub, const struct sigoffset *off,
			  const char *hex, size_t hlen, uint32_t flags, bool *unsupported,
			  char *why)
{
	struct bodysig b;
	memset(&b, 0, sizeof b);
	b.target = x->ls.target;
	b.offset = *off;
	b.logical = x->lidx;
	b.subsig = (uint8_t)sub;
	ward_err e = pattern_parse(hex, hlen, flags, &b.pat, why, WHY_LEN);
	if (e == WARD_EUNSUPPORTED) {
		*unsupported = true;
		pattern_free(&b.pat);
		return WARD_OK;
	}
	if (e) {
		pattern_free(&b.pat);
		return e;
	}
	e = vec_push(&x->set->body, &b, sizeof b, WARD_MAX_SIGNATURES);
	if (e)
		pattern_free(&b.pat);
	return e;
}

/* Copy hex[0..n) without the "::..." runs clamscan ignores inside a pattern
 * (up to the next '*' or the end). */
static size_t strip_inner_modifiers(const char *hex, size_t n, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (hex[i] == ':' && i + 1 < n && hex[i + 1] == ':') {
			while (i < n && hex[i] != '*')
				i++;
			if (i == n)
				break;
		}
		out[k++] = hex[i];
	}
	return k;
}

static ward_err parse_hex_sub(struct ldb_line *x, uint32_t i, const char *s, size_t n)
{
	char why[WHY_LEN] = "", num[16];
	struct sigoffset off;
	uint32_t flags = 0;
	size_t hlen = n;
	char *clean = NULL;
	ward_err e;

	memset(&off, 0, sizeof off); /* OFF_ANY */
	snprintf(num, sizeof num, "%u", i);
	/* The modifiers follow the LAST "::" (clamscan 1.4.6 loads main.ldb's
	 * "...::i*...::i*...::i", reading the options from the final one and
	 * ignoring the inner runs). */
	for (size_t k = n; k >= 2; k--) {
		if (s[k - 1] == ':' && s[k - 2] == ':') {
			hlen = k - 2;
			for (size_t m = k; m < n; m++) {
				switch (s[m]) {
				case 'i':
					flags |= PAT_NOCASE;
					break;
				case 'w':
					flags |= PAT_WIDE;
					break;
				case 'f':
					flags |= PAT_FULLWORD;
					break;
				case 'a':
					flags |= PAT_ASCII;
					break;
				default:
					bad(x, WARD_ECORRUPT,
					    "subsignature %s uses an invalid modifier", num);
					return WARD_OK;
				}
			}
			break;
		}
	}
	/* "Offset:" is a single ':' seen before any "::". */
	const char *hex = s;
	for (size_t k = 0; k < hlen; k++) {
		if (s[k] != ':')
			continue;
		if (k + 1 < hlen && s[k + 1] == ':')
			break;
		e = offset_parse(s, k, &off, why, sizeof why);
		if (e == WARD_ENOMEM)
			return e;
		if (e) {
			bad(x, e, "subsignature %s: bad offset: %s", num, why);
			return WARD_OK;
		}
		hex = s + k + 1;
		hlen -= k + 1;
		break;
	}
	bool inner = false;
	for (size_t k = 0; k + 1 < hlen && !inner; k++)
		inner = hex[k] == ':' && hex[k + 1] == ':';
	if (inner) {
		clean = w_malloc(hlen);
		if (!clean)
			return WARD_ENOMEM;
		hlen = strip_inner_modifiers(hex, hlen, clean);
		hex = clean;
	}

	uint32_t first = (uint32_t)x->set->body.len;
	bool unsup = false;
	if ((flags & PAT_WIDE) && (flags & PAT_ASCII)) {
		/* "wa": match both encodings; two patterns, same subsignature. */
		e = push_body(x, i, &off, hex, hlen, flags & ~PAT_WIDE, &unsup, why);
		if (!e && !unsup)
			e = push_body(x, i, &off, hex, hlen, flags & ~PAT_ASCII, &unsup, why);
	} else {
		e = push_body(x, i, &off, hex, hlen, flags, &unsup, why);
	}
	w_free(clean);
	if (e == WARD_ENOMEM || (e == WARD_ELIMIT && x->set->body.len >= WARD_MAX_SIGNATURES))
		return e;
	if (e) {
		bad(x, e, "subsignature %s: bad hex signature: %s", num, why);
		return WARD_OK;
	}
	if (unsup) {
		/* Drop a half-pushed "wa" pair: the subsignature never matches. */
		while (x->set->body.len > first) {
			x->set->body.len--;
			pattern_free(&VEC_AT(&x->set->body, struct bodysig, x->set->body.len).pat);
		}
		x->ls.subs[i].kind = SUB_NEVER;
		pend(x, "ldb body pattern syntax", why);
		return WARD_OK;
	}
	x->ls.subs[i].kind = SUB_BODY;
	x->ls.subs[i].index = first;
	if (off.kind == OFF_VERSIONINFO)
		pend(x, "VI offset (PE version information)", NULL);
	return WARD_OK;
}

static ward_err parse_pcre_sub(struct ldb_line *x, uint32_t i, const char *s, size_t n)
{
	char why[WHY_LEN] = "", num[16];
	struct pcresig p;
	ward_err e;

	memset(&p, 0, sizeof p);
	snprintf(num, sizeof num, "%u", i);
	const char *p1 = memchr(s, '/', n);
	const char *p2 = s + n - 1;
	while (p2 > p1 && *p2 != '/')
		p2--;
	if (p2 == p1) {
		bad(x, WARD_ECORRUPT, "subsignature %s: PCRE has mismatched '/' delimiters", num);
		return WARD_OK;
	}
	const char *trig = s;
	size_t tlen = (size_t)(p1 - s);
	const char *colon = memchr(s, ':', tlen);
	if (colon) {
		e = offset_parse(s, (size_t)(colon - s), &p.offset, why, sizeof why);
		if (e == WARD_ENOMEM)
			return e;
		if (e) {
			bad(x, e, "subsignature %s: bad PCRE offset: %s", num, why);
			return WARD_OK;
		}
		trig = colon + 1;
		tlen = (size_t)(p1 - trig);
	}
	const char *re = p1 + 1;
	size_t relen = (size_t)(p2 - re);
	if (tlen == 0 || relen == 0) {
		bad(x, WARD_ECORRUPT, "subsignature %s: PCRE trigger or pattern is empty", num);
		return WARD_OK;
	}
	if (memchr(re, '\0', relen)) {
		bad(x, WARD_ECORRUPT, "subsignature %s: NUL byte in the regex", num);
		return WARD_OK;
	}
	for (const char *f = p2 + 1; f < s + n; f++) {
		switch (*f) {
		case 'g':
			p.flags |= PCRE_F_GLOBAL;
			break;
		case 'r':
			p.flags |= PCRE_F_ROLLING;
			break;
		case 'e':
			p.flags |= PCRE_F_ENCOMPASS;
			break;
		case 'i':
			p.flags |= PCRE_F_CASELESS;
			break;
		case 's':
			p.flags |= PCRE_F_DOTALL;
			break;
		case 'm':
			p.flags |= PCRE_F_MULTILINE;
			break;
		case 'x':
			p.flags |= PCRE_F_EXTENDED;
			break;
		case 'A':
			p.flags |= PCRE_F_ANCHORED;
			break;
		case 'E':
			p.flags |= PCRE_F_DOLLAR_END;
			break;
		case 'U':
			p.flags |= PCRE_F_UNGREEDY;
			break;
		default:
			bad(x, WARD_ECORRUPT, "subsignature %s: unknown PCRE flag", num);
			return WARD_OK;
		}
	}
	/* The trigger may only name earlier subsignatures (LogicalSignatures.md:
	 * "cannot be self-referential and cannot refer to subsequent ones"). */
	e = logic_parse(trig, tlen, i, &p.trigger, &p.ntrigger, why, sizeof why);
	if (e == WARD_ENOMEM)
		goto out;
	uint32_t maxref;
	if (!e && !refs_below(p.trigger, p.ntrigger, i, &maxref)) {
		snprintf(why, sizeof why, "refers to itself or a later subsignature");
		e = WARD_ECORRUPT;
	}
	if (e) {
		bad(x, e, "subsignature %s: bad PCRE trigger: %s", num, why);
		e = WARD_OK;
		goto out;
	}
	p.regex = w_strndup(re, relen);
	if (!p.regex) {
		e = WARD_ENOMEM;
		goto out;
	}
	p.logical = x->lidx;
	p.subsig = (uint8_t)i;
	uint32_t idx = (uint32_t)x->set->pcre.len;
	e = vec_push(&x->set->pcre, &p, sizeof p, WARD_MAX_SIGNATURES);
	if (e)
		goto out;
	p.trigger = NULL;
	p.regex = NULL; /* owned by the set */
	x->ls.subs[i].kind = SUB_PCRE;
	x->ls.subs[i].index = idx;
out:
	w_free(p.trigger);
	w_free(p.regex);
	return e;
}

/* "[h|d|a|i][l|b][e]num_bytes" (LogicalSignatures.md, Byte Compare). */
static bool parse_bytecmp_opts(const char *s, size_t n, struct bytecmpsig *c)
{
	size_t k = 0;
	c->base = 'a';
	if (k < n && (s[k] == 'h' || s[k] == 'd' || s[k] == 'a' || s[k] == 'i'))
		c->base = (uint8_t)s[k++];
	if (k < n && (s[k] == 'l' || s[k] == 'b')) {
		c->little_endian = s[k] == 'l';
		k++;
	}
	if (k < n && s[k] == 'e') {
		c->exact = true;
		k++;
	}
	/* "If decimal d is specified, big-endian is implied and using l will
	 * result in a malformed database error." */
	if (c->base == 'd' && c->little_endian)
		return false;
	uint64_t nb;
	if (!parse_num(s + k, n - k, 255, &nb) || nb == 0)
		return false;
	if (c->base == 'i') {
		/* Raw binary: 1, 2, 4 or 8 bytes, always exact. */
		if (nb != 1 && nb != 2 && nb != 4 && nb != 8)
			return false;
		c->exact = true;
	} else if (c->base == 'h' && nb > 18) {
		return false; /* clamscan 1.4.6: hb18 loads, hb19 "byte length was too long" */
	}
	c->nbytes = (uint8_t)nb;
	return true;
}

static bool parse_bytecmp_cmps(const char *s, size_t n, struct bytecmpsig *c)
{
	size_t start = 0;
	c->ncmp = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != ',')
			continue;
		if (c->ncmp == 2 || i - start < 2)
			return false;
		char op = s[start];
		if (op != '<' && op != '>' && op != '=')
			return false;
		if (!parse_num(s + start + 1, i - start - 1, UINT64_MAX, &c->cmp_val[c->ncmp]))
			return false;
		c->cmp_op[c->ncmp++] = op;
		start = i + 1;
	}
	return c->ncmp > 0;
}

static ward_err parse_bytecmp_sub(struct ldb_line *x, uint32_t i, const char *s, size_t n)
{
	char num[16];
	struct bytecmpsig c;
	uint64_t trig, off;
	ward_err e;

	memset(&c, 0, sizeof c);
	snprintf(num, sizeof num, "%u", i);
	const char *lp = memchr(s, '(', n);
	if (!lp || s[n - 1] != ')' ||
	    !parse_u64(s, (size_t)(lp - s), WARD_MAX_SUBSIGS - 1, &trig)) {
		bad(x, WARD_ECORRUPT, "subsignature %s: malformed byte compare (want N(...))", num);
		return WARD_OK;
	}
	const char *in = lp + 1;
	size_t inlen = (size_t)(s + n - 1 - in);
	const char *h1 = memchr(in, '#', inlen);
	const char *h2 = h1 ? memchr(h1 + 1, '#', (size_t)(in + inlen - h1 - 1)) : NULL;
	if (!h1 || !h2 || memchr(h2 + 1, '#', (size_t)(in + inlen - h2 - 1))) {
		bad(x, WARD_ECORRUPT,
		    "subsignature %s: byte compare needs offset#options#comparisons", num);
		return WARD_OK;
	}
	size_t olen = (size_t)(h1 - in);
	if (olen < 3 || !((in[0] == '>' && in[1] == '>') || (in[0] == '<' && in[1] == '<')) ||
	    !parse_num(in + 2, olen - 2, INT64_MAX, &off)) {
		bad(x, WARD_ECORRUPT, "subsignature %s: byte compare offset must be >>N or <<N",
		    num);
		return WARD_OK;
	}
	c.offset = in[0] == '>' ? (int64_t)off : -(int64_t)off;
	if (!parse_bytecmp_opts(h1 + 1, (size_t)(h2 - h1 - 1), &c)) {
		bad(x, WARD_ECORRUPT, "subsignature %s: invalid byte compare options", num);
		return WARD_OK;
	}
	if (!parse_bytecmp_cmps(h2 + 1, (size_t)(in + inlen - h2 - 1), &c)) {
		bad(x, WARD_ECORRUPT, "subsignature %s: invalid byte compare comparisons", num);
		return WARD_OK;
	}
	c.logical = x->lidx;
	c.subsig = (uint8_t)i;
	c.trigger_sub = (uint32_t)trig; /* kind checked once every subsignature is known */
	uint32_t idx = (uint32_t)x->set->bytecmp.len;
	e = vec_push(&x->set->bytecmp, &c, sizeof c, WARD_MAX_SIGNATURES);
	if (e)
		return e;
	x->ls.subs[i].kind = SUB_BYTECMP;
	x->ls.subs[i].index = idx;
	return WARD_OK;
}

static ward_err parse_sub(struct ldb_line *x, uint32_t i, const char *s, size_t n)
{
	if (n == 0) {
		char num[16];
		snprintf(num, sizeof num, "%u", i);
		bad(x, WARD_ECORRUPT, "subsignature %s is empty", num);
		return WARD_OK;
	}
	if (n >= 10 && memcmp(s, "fuzzy_img#", 10) == 0) {
		x->ls.subs[i].kind = SUB_NEVER;
		pend(x, "ldb fuzzy_img subsignature", NULL);
		return WARD_OK;
	}
	if (s[0] == '$') {
		x->ls.subs[i].kind = SUB_NEVER;
		pend(x, "ldb macro subsignature", NULL);
		return WARD_OK;
	}
	if (memchr(s, '/', n))
		return parse_pcre_sub(x, i, s, n);
	if (memchr(s, '#', n))
		return parse_bytecmp_sub(x, i, s, n);
	return parse_hex_sub(x, i, s, n);
}

static void rollback(struct ldb_line *x)
{
	struct sigset *set = x->set;
	while (set->body.len > x->body_mark) {
		set->body.len--;
		pattern_free(&VEC_AT(&set->body, struct bodysig, set->body.len).pat);
	}
	while (set->pcre.len > x->pcre_mark) {
		set->pcre.len--;
		struct pcresig *p = &VEC_AT(&set->pcre, struct pcresig, set->pcre.len);
		w_free(p->trigger);
		w_free(p->regex);
	}
	set->bytecmp.len = x->bytecmp_mark;
	w_free(x->ls.expr);
	x->ls.expr = NULL;
}

static ward_err finish(struct ldb_line *x, const char *name, size_t namelen)
{
	struct sigset *set = x->set;
	const struct dbline *l = x->l;
	char num[16];

	for (uint32_t i = 0; i < x->ls.nsubs; i++) {
		if (x->ls.subs[i].kind != SUB_BYTECMP)
			continue;
		const struct bytecmpsig *c =
			&VEC_AT(&set->bytecmp, struct bytecmpsig, x->ls.subs[i].index);
		uint32_t t = c->trigger_sub;
		/* "may refer to any single non-PCRE, non-Byte Compare subsignature" */
		if (t >= x->ls.nsubs || t == i ||
		    (x->ls.subs[t].kind != SUB_BODY && x->ls.subs[t].kind != SUB_NEVER)) {
			snprintf(num, sizeof num, "%u", i);
			bad(x, WARD_ECORRUPT,
			    "subsignature %s: byte compare trigger must be another body subsignature",
			    num);
			return WARD_OK;
		}
	}
	ward_err e = sigset_add_name(set, name, namelen, l->official, &x->ls.name);
	if (e == WARD_ECORRUPT) {
		bad(x, e, "empty, over-long or non-printable signature name");
		return WARD_OK;
	}
	if (e)
		return e;
	x->ls.base_name_len = (uint32_t)namelen;
	for (size_t b = x->body_mark; b < set->body.len; b++)
		VEC_AT(&set->body, struct bodysig, b).name = x->ls.name;
	/* The stored signature owns an exact-size copy of its subsignatures. */
	struct subsig *own = w_alloc_array(x->ls.nsubs ? x->ls.nsubs : 1, sizeof *own);
	if (!own)
		return WARD_ENOMEM;
	memcpy(own, x->subs, x->ls.nsubs * sizeof *own);
	x->ls.subs = own;
	e = vec_push(&set->logical, &x->ls, sizeof x->ls, WARD_MAX_SIGNATURES);
	x->ls.subs = x->subs;
	if (e) {
		w_free(own);
		return e;
	}
	x->ls.expr = NULL; /* owned by the set */
	set->counts[WARD_COUNT_LOGICAL]++;
	for (size_t i = 0; i < x->npending; i++) {
		if (set->diag) {
			char msg[512];
			snprintf(msg, sizeof msg, "unsupported: %s%s%s", x->pending[i],
				 x->pending_detail[i][0] ? ": " : "", x->pending_detail[i]);
			set->diag(set->diag_ctx, WARD_EUNSUPPORTED, l->file, l->line, msg);
		}
		e = sigset_unsupported(set, x->pending[i]);
		if (e)
			return WARD_OK; /* the signature is in; only the tally is short */
	}
	return WARD_OK;
}

ward_err db_parse_ldb_line(struct sigset *set, const struct dbline *l)
{
	const char *f[LDB_MAX_FIELDS + 1];
	size_t fl[LDB_MAX_FIELDS + 1];
	size_t n = 0, start = 0;
	char why[WHY_LEN] = "";
	struct ldb_line *x;
	ward_err e = WARD_OK;

	for (size_t i = 0; i <= l->len; i++) {
		if (i < l->len && l->s[i] != ';')
			continue;
		if (n == LDB_MAX_FIELDS) {
			sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT,
					"more than %u subsignatures", WARD_MAX_SUBSIGS);
			return WARD_OK;
		}
		f[n] = l->s + start;
		fl[n] = i - start;
		n++;
		start = i + 1;
	}
	if (n < 4) {
		sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT,
				"ldb signature needs Name;TDB;Expression;Subsig0[;...]");
		return WARD_OK;
	}
	/* The per-line state holds the 64-entry logicsig and the pending notes:
	 * too big for the stack of a library function. */
	x = w_calloc(1, sizeof *x);
	if (!x)
		return WARD_ENOMEM;
	x->set = set;
	x->l = l;
	x->ls.container = -1;
	x->ls.subs = x->subs;
	x->ls.nsubs = (uint32_t)(n - 3);
	x->lidx = (uint32_t)set->logical.len;
	x->body_mark = set->body.len;
	x->pcre_mark = set->pcre.len;
	x->bytecmp_mark = set->bytecmp.len;

	if (!parse_tdb(x, f[1], fl[1])) {
		set->counts[WARD_COUNT_SKIPPED_FLEVEL]++;
		goto out;
	}
	if (x->bad)
		goto out;
	if (sigset_line_ignored(set, f[0], fl[0], l->s, l->len))
		goto out;

	e = logic_parse(f[2], fl[2], x->ls.nsubs, &x->ls.expr, &x->ls.nexpr, why, sizeof why);
	if (e == WARD_ENOMEM)
		goto out;
	if (e) {
		bad(x, e, "bad logical expression: %s", why);
		e = WARD_OK;
		goto out;
	}
	uint32_t maxref;
	if (!refs_below(x->ls.expr, x->ls.nexpr, x->ls.nsubs, &maxref) ||
	    maxref + 1 != x->ls.nsubs) {
		/* clamscan: "The number of subsignatures doesn't match the IDs in
		 * the logical expression". */
		char a[16], b[16];
		snprintf(a, sizeof a, "%u", x->ls.nsubs);
		snprintf(b, sizeof b, "%u", maxref + 1);
		bad(x, WARD_ECORRUPT,
		    "the number of subsignatures (%s) does not match the IDs in the expression (%s)",
		    a, b);
		goto out;
	}
	for (uint32_t i = 0; i < x->ls.nsubs && !x->bad; i++) {
		e = parse_sub(x, i, f[3 + i], fl[3 + i]);
		if (e)
			goto out;
	}
	if (!x->bad)
		e = finish(x, f[0], fl[0]);
out:
	if (e || x->bad || x->ls.expr)
		rollback(x);
	w_free(x);
	return e;
}
