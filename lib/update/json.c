/*
 * Bounded JSON parser, builder and canonical serialiser (see json.h).
 *
 * Why not a library: Debian's jansson and json-c are maintained, but neither
 * is linked into libward, their allocations bypass the w_malloc shim (so the
 * allocation-failure tests could not reach them), jansson's depth cap is a
 * compile-time 2048, and both accept things we refuse on purpose (duplicate
 * keys resolved silently, "\u0000" in strings, floats). What signatures cover
 * must be parsed exactly one way; this parser is 400 lines and fuzzed
 * (tests/fuzz/fuzz_tuf_meta.c).
 */
#include "update/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"
#include "ward_limits.h"

void jdoc_init(jdoc *d)
{
	memset(d, 0, sizeof *d);
	dbuf_init(&d->strs, WARD_MAX_JSON_DOC);
}

void jdoc_free(jdoc *d)
{
	vec_free(&d->nodes);
	dbuf_free(&d->strs);
	d->root = 0;
}

/* ---- building ---- */

static jref node_new(jdoc *d, jtype t)
{
	jnode n;
	memset(&n, 0, sizeof n);
	if (d->nodes.len == 0) { /* the dummy node 0 */
		if (vec_push(&d->nodes, &n, sizeof n, WARD_MAX_JSON_NODES) != WARD_OK)
			return 0;
	}
	n.type = t;
	if (vec_push(&d->nodes, &n, sizeof n, WARD_MAX_JSON_NODES) != WARD_OK)
		return 0;
	return (jref)(d->nodes.len - 1);
}

static jnode *nd(jdoc *d, jref r) { return &VEC_AT(&d->nodes, jnode, r); }

jref jnew(jdoc *d, jtype t) { return node_new(d, t); }

/* Store a string plus its NUL; *off receives where it starts. */
static bool str_store(jdoc *d, const char *s, size_t len, size_t *off)
{
	*off = d->strs.len;
	if (dbuf_add(&d->strs, s, len) != WARD_OK || dbuf_add(&d->strs, "", 1) != WARD_OK)
		return false;
	return true;
}

jref jnew_str(jdoc *d, const char *s, size_t len)
{
	/* An embedded NUL would make C string handling disagree with the length. */
	if (memchr(s, 0, len))
		return 0;
	size_t off;
	if (!str_store(d, s, len, &off))
		return 0;
	jref r = node_new(d, J_STR);
	if (!r)
		return 0;
	nd(d, r)->str = off;
	nd(d, r)->len = len;
	return r;
}

jref jnew_strz(jdoc *d, const char *s) { return jnew_str(d, s, strlen(s)); }

jref jnew_int(jdoc *d, uint64_t v)
{
	jref r = node_new(d, J_INT);
	if (r)
		nd(d, r)->num = v;
	return r;
}

static void link_child(jdoc *d, jref parent, jref child)
{
	jnode *p = nd(d, parent);
	if (p->last)
		nd(d, p->last)->next = child;
	else
		p->first = child;
	p->last = child;
	p->count++;
}

bool jarr_add(jdoc *d, jref a, jref v)
{
	if (!a || !v || nd(d, a)->type != J_ARR)
		return false;
	link_child(d, a, v);
	return true;
}

bool jobj_put(jdoc *d, jref o, const char *key, jref v)
{
	if (!o || !v || nd(d, o)->type != J_OBJ)
		return false;
	size_t off, len = strlen(key);
	if (!str_store(d, key, len, &off))
		return false;
	nd(d, v)->key = off;
	nd(d, v)->keylen = len;
	link_child(d, o, v);
	return true;
}

void jobj_del(jdoc *d, jref o, const char *key)
{
	if (!o || nd(d, o)->type != J_OBJ)
		return;
	jref prev = 0;
	for (jref c = nd(d, o)->first; c; prev = c, c = nd(d, c)->next) {
		if (strcmp(d->strs.s + nd(d, c)->key, key))
			continue;
		jref nx = nd(d, c)->next;
		if (prev)
			nd(d, prev)->next = nx;
		else
			nd(d, o)->first = nx;
		if (nd(d, o)->last == c)
			nd(d, o)->last = prev;
		nd(d, o)->count--;
		return;
	}
}

jref jcopy(jdoc *dst, const jdoc *src, jref r, unsigned depth)
{
	if (!r || depth > WARD_MAX_JSON_DEPTH)
		return 0;
	const jnode *s = jget(src, r);
	switch (s->type) {
	case J_STR:
		return jnew_str(dst, jstr(src, r), s->len);
	case J_INT:
		return jnew_int(dst, s->num);
	case J_NULL:
	case J_TRUE:
	case J_FALSE:
		return jnew(dst, s->type);
	case J_ARR:
	case J_OBJ: {
		jref n = jnew(dst, s->type);
		if (!n)
			return 0;
		for (jref c = s->first; c; c = jget(src, c)->next) {
			jref cc = jcopy(dst, src, c, depth + 1);
			if (!cc)
				return 0;
			if (s->type == J_ARR ? !jarr_add(dst, n, cc)
					     : !jobj_put(dst, n, jkey(src, c), cc))
				return 0;
		}
		return n;
	}
	}
	return 0;
}

/* ---- reading ---- */

jref jobj_get(const jdoc *d, jref o, const char *key)
{
	const jnode *on = jget(d, o);
	if (!on || on->type != J_OBJ)
		return 0;
	size_t klen = strlen(key);
	for (jref c = on->first; c; c = jget(d, c)->next) {
		const jnode *cn = jget(d, c);
		if (cn->keylen == klen && !memcmp(d->strs.s + cn->key, key, klen))
			return c;
	}
	return 0;
}

jref jobj_typed(const jdoc *d, jref o, const char *key, jtype t)
{
	jref r = jobj_get(d, o, key);
	return (r && jget(d, r)->type == t) ? r : 0;
}

bool jobj_str(const jdoc *d, jref o, const char *key, const char **s, size_t *len)
{
	jref r = jobj_typed(d, o, key, J_STR);
	if (!r)
		return false;
	*s = jstr(d, r);
	if (len)
		*len = jget(d, r)->len;
	return true;
}

bool jobj_u64(const jdoc *d, jref o, const char *key, uint64_t *v)
{
	jref r = jobj_typed(d, o, key, J_INT);
	if (!r)
		return false;
	*v = jget(d, r)->num;
	return true;
}

bool jobj_bool(const jdoc *d, jref o, const char *key, bool *v)
{
	jref r = jobj_get(d, o, key);
	if (!r || (jget(d, r)->type != J_TRUE && jget(d, r)->type != J_FALSE))
		return false;
	*v = jget(d, r)->type == J_TRUE;
	return true;
}

/* ---- parsing ---- */

struct parser {
	jdoc *d;
	cursor c;
	dbuf tmp; /* one unescaped string */
	char *why;
	size_t whylen;
	ward_err err;
};

static bool fail(struct parser *p, ward_err e, const char *msg)
{
	if (p->err == WARD_OK) {
		p->err = e;
		if (p->why && p->whylen)
			snprintf(p->why, p->whylen, "offset %zu: %s", p->c.pos, msg);
	}
	return false;
}

static int peek(const struct parser *p) { return cur_left(&p->c) ? p->c.base[p->c.pos] : -1; }

static void skip_ws(struct parser *p)
{
	int ch;
	while ((ch = peek(p)) == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
		p->c.pos++;
}

static bool expect_lit(struct parser *p, const char *lit)
{
	size_t n = strlen(lit);
	const uint8_t *s = cur_take(&p->c, n);
	if (!s || memcmp(s, lit, n))
		return fail(p, WARD_ECORRUPT, "bad literal");
	return true;
}

/* Length of the well-formed UTF-8 sequence at s (left bytes), or 0. Refuses
 * overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_len(const uint8_t *s, size_t left)
{
	uint8_t b = s[0];
	size_t n;
	uint32_t cp, min;
	if (b < 0x80)
		return 1;
	if ((b & 0xe0) == 0xc0) {
		n = 2, cp = b & 0x1f, min = 0x80;
	} else if ((b & 0xf0) == 0xe0) {
		n = 3, cp = b & 0x0f, min = 0x800;
	} else if ((b & 0xf8) == 0xf0) {
		n = 4, cp = b & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static bool put_utf8(struct parser *p, uint32_t cp)
{
	uint8_t b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (uint8_t)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | (cp >> 6)), b[1] = (uint8_t)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | (cp >> 12)), b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | (cp >> 18)), b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	ward_err e = dbuf_add(&p->tmp, b, n);
	return e == WARD_OK ? true : fail(p, e, "string too long or out of memory");
}

static bool hex4(struct parser *p, uint32_t *v)
{
	const uint8_t *h = cur_take(&p->c, 4);
	if (!h)
		return fail(p, WARD_ECORRUPT, "truncated \\u escape");
	*v = 0;
	for (int i = 0; i < 4; i++) {
		int x = hexval(h[i]);
		if (x < 0)
			return fail(p, WARD_ECORRUPT, "bad \\u escape");
		*v = (*v << 4) | (uint32_t)x;
	}
	return true;
}

/* Reads a string (opening quote next) into p->tmp. */
static bool parse_string_raw(struct parser *p)
{
	dbuf_reset(&p->tmp);
	p->tmp.len = 0;
	p->c.pos++; /* '"' */
	for (;;) {
		if (!cur_left(&p->c))
			return fail(p, WARD_ECORRUPT, "unterminated string");
		const uint8_t *s = p->c.base + p->c.pos;
		uint8_t b = s[0];
		if (b == '"') {
			p->c.pos++;
			return true;
		}
		if (b < 0x20)
			return fail(p, WARD_ECORRUPT, "control character in string");
		if (b != '\\') {
			size_t n = utf8_len(s, cur_left(&p->c));
			if (!n)
				return fail(p, WARD_ECORRUPT, "invalid UTF-8");
			ward_err e = dbuf_add(&p->tmp, s, n);
			if (e != WARD_OK)
				return fail(p, e, "string too long");
			p->c.pos += n;
			continue;
		}
		p->c.pos++;
		uint8_t esc;
		if (!cur_u8(&p->c, &esc))
			return fail(p, WARD_ECORRUPT, "truncated escape");
		uint32_t cp = 0;
		switch (esc) {
		case '"':
			cp = '"';
			break;
		case '\\':
			cp = '\\';
			break;
		case '/':
			cp = '/';
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			if (!hex4(p, &cp))
				return false;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail(p, WARD_ECORRUPT, "lone low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				uint32_t lo = 0;
				if (!expect_lit(p, "\\u") || !hex4(p, &lo))
					return fail(p, WARD_ECORRUPT, "lone high surrogate");
				if (lo < 0xdc00 || lo > 0xdfff)
					return fail(p, WARD_ECORRUPT, "bad surrogate pair");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp == 0)
				return fail(p, WARD_ECORRUPT, "NUL in string");
			break;
		default:
			return fail(p, WARD_ECORRUPT, "bad escape");
		}
		if (!put_utf8(p, cp))
			return false;
	}
}

static jref parse_value(struct parser *p, unsigned depth);
static int keycmp(const void *a, const void *b);

struct keyref {
	const char *k;
	size_t n;
	jref r;
};

/* Duplicate keys: parsers disagree on which one wins, which would let one
 * signed document mean two things; refuse it. Sorting keeps this
 * O(n log n): a pairwise search would be quadratic in a hostile object. */
static bool check_unique(struct parser *p, jref o)
{
	const jnode *on = jget(p->d, o);
	if (on->count < 2)
		return true;
	struct keyref *keys = w_alloc_array(on->count, sizeof *keys);
	if (!keys)
		return fail(p, WARD_ENOMEM, "out of memory");
	size_t k = 0;
	for (jref c = on->first; c && k < on->count; c = jget(p->d, c)->next, k++)
		keys[k] = (struct keyref){jkey(p->d, c), jget(p->d, c)->keylen, c};
	qsort(keys, k, sizeof *keys, keycmp);
	bool ok = true;
	for (size_t i = 1; i < k && ok; i++)
		ok = keycmp(&keys[i - 1], &keys[i]) != 0;
	w_free(keys);
	return ok ? true : fail(p, WARD_ECORRUPT, "duplicate key");
}

/* Why a node or string could not be stored: a ceiling or the allocator. */
static bool fail_store(struct parser *p)
{
	if (p->d->nodes.len >= WARD_MAX_JSON_NODES || p->d->strs.len >= WARD_MAX_JSON_DOC)
		return fail(p, WARD_ELIMIT, "document too large");
	return fail(p, WARD_ENOMEM, "out of memory");
}

static jref parse_object(struct parser *p, unsigned depth)
{
	jref o = jnew(p->d, J_OBJ);
	if (!o)
		return fail_store(p), 0;
	p->c.pos++; /* '{' */
	skip_ws(p);
	if (peek(p) == '}') {
		p->c.pos++;
		return o;
	}
	for (;;) {
		skip_ws(p);
		if (peek(p) != '"')
			return fail(p, WARD_ECORRUPT, "expected a key"), 0;
		if (!parse_string_raw(p))
			return 0;
		const char *k = p->tmp.len ? p->tmp.s : "";
		size_t koff, klen = p->tmp.len;
		if (!str_store(p->d, k, klen, &koff))
			return fail_store(p), 0;
		skip_ws(p);
		if (peek(p) != ':')
			return fail(p, WARD_ECORRUPT, "expected ':'"), 0;
		p->c.pos++;
		jref v = parse_value(p, depth + 1);
		if (!v)
			return 0;
		nd(p->d, v)->key = koff;
		nd(p->d, v)->keylen = klen;
		link_child(p->d, o, v);
		skip_ws(p);
		int ch = peek(p);
		p->c.pos += (ch >= 0);
		if (ch == '}')
			return check_unique(p, o) ? o : 0;
		if (ch != ',')
			return fail(p, WARD_ECORRUPT, "expected ',' or '}'"), 0;
	}
}

static jref parse_array(struct parser *p, unsigned depth)
{
	jref a = jnew(p->d, J_ARR);
	if (!a)
		return fail_store(p), 0;
	p->c.pos++; /* '[' */
	skip_ws(p);
	if (peek(p) == ']') {
		p->c.pos++;
		return a;
	}
	for (;;) {
		jref v = parse_value(p, depth + 1);
		if (!v)
			return 0;
		link_child(p->d, a, v);
		skip_ws(p);
		int ch = peek(p);
		p->c.pos += (ch >= 0);
		if (ch == ']')
			return a;
		if (ch != ',')
			return fail(p, WARD_ECORRUPT, "expected ',' or ']'"), 0;
	}
}

static jref parse_number(struct parser *p)
{
	uint64_t v = 0;
	size_t start = p->c.pos;
	int ch;
	while ((ch = peek(p)) >= '0' && ch <= '9') {
		if (ck_mul64(v, 10, &v) || ck_add64(v, (uint64_t)(ch - '0'), &v))
			return fail(p, WARD_ECORRUPT, "integer too large"), 0;
		p->c.pos++;
	}
	size_t n = p->c.pos - start;
	if (n == 0)
		return fail(p, WARD_ECORRUPT, "unexpected character"), 0;
	if (n > 1 && p->c.base[start] == '0')
		return fail(p, WARD_ECORRUPT, "leading zero"), 0;
	if (ch == '.' || ch == 'e' || ch == 'E')
		return fail(p, WARD_EUNSUPPORTED, "only integers are allowed"), 0;
	jref r = jnew_int(p->d, v);
	if (!r)
		fail_store(p);
	return r;
}

static jref parse_value(struct parser *p, unsigned depth)
{
	if (depth > WARD_MAX_JSON_DEPTH)
		return fail(p, WARD_ELIMIT, "nested too deeply"), 0;
	skip_ws(p);
	jref r = 0;
	switch (peek(p)) {
	case '{':
		return parse_object(p, depth);
	case '[':
		return parse_array(p, depth);
	case '"':
		if (!parse_string_raw(p))
			return 0;
		r = jnew_str(p->d, p->tmp.len ? p->tmp.s : "", p->tmp.len);
		break;
	case 't':
		if (!expect_lit(p, "true"))
			return 0;
		r = jnew(p->d, J_TRUE);
		break;
	case 'f':
		if (!expect_lit(p, "false"))
			return 0;
		r = jnew(p->d, J_FALSE);
		break;
	case 'n':
		if (!expect_lit(p, "null"))
			return 0;
		r = jnew(p->d, J_NULL);
		break;
	case '-':
		return fail(p, WARD_EUNSUPPORTED, "negative numbers are not allowed"), 0;
	case -1:
		return fail(p, WARD_ECORRUPT, "unexpected end"), 0;
	default:
		return parse_number(p);
	}
	if (!r)
		fail_store(p);
	return r;
}

ward_err json_parse(jdoc *d, const void *buf, size_t len, char *why, size_t whylen)
{
	struct parser p = {.d = d, .c = cur_make(buf, len), .why = why, .whylen = whylen};
	if (why && whylen)
		why[0] = '\0';
	jdoc_init(d);
	dbuf_init(&p.tmp, WARD_MAX_JSON_DOC);
	if (len > WARD_MAX_JSON_DOC) {
		fail(&p, WARD_ELIMIT, "document too large");
		goto out;
	}
	d->root = parse_value(&p, 0);
	if (!d->root)
		goto out;
	skip_ws(&p);
	if (cur_left(&p.c))
		fail(&p, WARD_ECORRUPT, "trailing data");
out:
	dbuf_free(&p.tmp);
	if (p.err != WARD_OK || !d->root) {
		if (p.err == WARD_OK)
			fail(&p, WARD_EINTERNAL, "no value");
		jdoc_free(d);
		/* An allocation failure inside dbuf/vec shows up as ELIMIT or
		 * ENOMEM from the helpers; keep what they said. */
		return p.err;
	}
	return WARD_OK;
}

/* ---- canonical form ---- */

static int keycmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	size_t n = x->n < y->n ? x->n : y->n;
	int c = memcmp(x->k, y->k, n);
	if (c)
		return c;
	return (x->n > y->n) - (x->n < y->n);
}

static ward_err canon_str(const char *s, size_t n, dbuf *out)
{
	ward_err e = dbuf_add(out, "\"", 1);
	size_t run = 0;
	for (size_t i = 0; e == WARD_OK && i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch != '"' && ch != '\\' && ch >= 0x20)
			continue;
		e = dbuf_add(out, s + run, i - run);
		if (e == WARD_OK) {
			if (ch < 0x20)
				e = dbuf_addf(out, "\\u%04x", ch);
			else
				e = dbuf_add(out, ch == '"' ? "\\\"" : "\\\\", 2);
		}
		run = i + 1;
	}
	if (e == WARD_OK)
		e = dbuf_add(out, s + run, n - run);
	if (e == WARD_OK)
		e = dbuf_add(out, "\"", 1);
	return e;
}

static ward_err canon(const jdoc *d, jref r, dbuf *out, unsigned depth)
{
	if (depth > WARD_MAX_JSON_DEPTH)
		return WARD_ELIMIT;
	const jnode *n = jget(d, r);
	if (!n)
		return WARD_EINTERNAL;
	switch (n->type) {
	case J_NULL:
		return dbuf_add(out, "null", 4);
	case J_TRUE:
		return dbuf_add(out, "true", 4);
	case J_FALSE:
		return dbuf_add(out, "false", 5);
	case J_INT:
		return dbuf_addf(out, "%llu", (unsigned long long)n->num);
	case J_STR:
		return canon_str(jstr(d, r), n->len, out);
	case J_ARR: {
		ward_err e = dbuf_add(out, "[", 1);
		for (jref c = n->first; c && e == WARD_OK; c = jget(d, c)->next) {
			if (c != n->first)
				e = dbuf_add(out, ",", 1);
			if (e == WARD_OK)
				e = canon(d, c, out, depth + 1);
		}
		return e == WARD_OK ? dbuf_add(out, "]", 1) : e;
	}
	case J_OBJ: {
		struct keyref *keys = w_alloc_array(n->count ? n->count : 1, sizeof *keys);
		if (!keys)
			return WARD_ENOMEM;
		size_t k = 0;
		for (jref c = n->first; c && k < n->count; c = jget(d, c)->next, k++)
			keys[k] = (struct keyref){jkey(d, c), jget(d, c)->keylen, c};
		qsort(keys, k, sizeof *keys, keycmp);
		ward_err e = dbuf_add(out, "{", 1);
		for (size_t i = 0; i < k && e == WARD_OK; i++) {
			if (i)
				e = dbuf_add(out, ",", 1);
			if (e == WARD_OK)
				e = canon_str(keys[i].k, keys[i].n, out);
			if (e == WARD_OK)
				e = dbuf_add(out, ":", 1);
			if (e == WARD_OK)
				e = canon(d, keys[i].r, out, depth + 1);
		}
		w_free(keys);
		return e == WARD_OK ? dbuf_add(out, "}", 1) : e;
	}
	}
	return WARD_EINTERNAL;
}

ward_err json_canonical(const jdoc *d, jref r, dbuf *out) { return canon(d, r, out, 0); }
