/*
 * ClamAV body (hex) patterns -> struct pattern (BodySignatureFormat.md).
 *
 * The grammar is small but ClamAV's loader has many quirks; what is accepted
 * and rejected here was checked against clamscan 1.4.6 and is listed in
 * docs/internals/pattern.md. The main points:
 *
 *  - "??" is a one-byte gap; "{n}", "{-n}", "{n-m}" and "[x-y]" are bounded
 *    gaps; adjacent gaps merge. "*", "{n-}", "{}" and "{-}" are unbounded and
 *    start a new segment ("{}" and "{-}" behave like "*" in clamscan).
 *  - A leading or trailing bounded gap ("{2}4142...", "...4142??") is kept:
 *    clamscan loads and matches such patterns, so the gap is part of the match.
 *    A leading or trailing unbounded gap is rejected (clamscan: "Can't extract
 *    part"), and so is "**".
 *  - ClamAV splits a pattern into parts at every gap that is not a fixed
 *    "{n}" with n < 128 (and not "??"), and refuses the database when a part has
 *    no run of two exact bytes outside alternatives ("Can't find a static
 *    subpattern of length 2" / "Signature ... is too short"). We reject the
 *    same patterns, so a line ClamAV refuses never detects in Ward either.
 *  - "[x-y]" (0 <= x <= y <= 32) may stand only right after the single first
 *    byte token of a part ("aa[x-y]REST") or right before its single last one
 *    ("REST[x-y]aa"), at most once each per part: clamscan rejects anything
 *    else ("558bec{3-8}e8[5-12]e8..." is fine: "e8" starts a part).
 *  - Character classes (B), (L), (W) each consume one byte inside a file: (B)
 *    one of \n \r space " ' - . / < = > @ _ ; (L) "\n" or "\r\n" (two bytes);
 *    (W) any byte that is not [0-9A-Za-z]. At the start or end of the file they
 *    match without consuming anything. So their span is 0..1 (L: 0..2). They
 *    are not allowed inside alternatives (clamscan rejects them there).
 *  - Alternatives: members may hold bytes, nibbles, "??", "{n}" with n < 128
 *    and nested alternatives; no "*", ranges, "[x-y]" or classes. An empty
 *    member other than the first ("(aa|)", "(aa||bb)") matches the empty
 *    string, as in clamscan; "()" and "(|aa)" are rejected. Negation "!(...)"
 *    needs non-empty members of exact bytes, all of one length, and no
 *    nocase/wide modifier (clamscan: "Can't apply negation operation to generic
 *    alternate strings").
 *  - Wide ("::w") follows ClamAV: every byte token (exact, nibble or "??") is
 *    followed by an exact 0x00; gaps "{n}", "[x-y]", "*" and classes are NOT
 *    doubled (LogicalSignatures.md: "Wildcards for 'wide' subsignatures are not
 *    treated as wide"; confirmed with clamscan: 414141{2}424242::w matches
 *    "A\0A\0A\0xxB\0B\0B\0").
 *
 * Recursion is one level per alternation nesting, bounded by WARD_MAX_ALT_DEPTH.
 * Each nesting level builds its node sequence in a private vector and appends
 * it to pattern.nodes only when complete, so every sequence is contiguous.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db/sigs.h"

/* ClamAV turns "{n}" with n below this into n "??" and does not split the
 * pattern there (BodySignatureFormat.md); the same bound limits "{n}" inside
 * alternatives. */
#define CLAM_SMALL_GAP 128u
/* ClamAV's ceiling for the y of "[x-y]". */
#define CLAM_BRACKET_MAX 32u

enum tok { TOK_NONE = 0, TOK_BYTE, TOK_GAP, TOK_ALT, TOK_CLASS, TOK_BREAK, TOK_BRACKET };

struct pbuild {
	const char *s;
	size_t len;
	size_t pos;
	uint32_t flags;
	vec nodes; /* struct pnode: committed sequences */
	vec seqs;  /* struct pseq */
	vec segs;  /* struct psegment */
	char *why;
	size_t whylen;

	/* Top-level state for ClamAV's acceptance rules, per ClamAV "part" (the
	 * pieces between '*' and range gaps, each loaded on its own by ClamAV). */
	unsigned run;          /* consecutive exact bytes in the current part */
	bool part_static;      /* the current part has a run of two */
	enum tok last;         /* previous top-level token */
	unsigned ntok;         /* tokens in this part, brackets excluded */
	unsigned nbracket;     /* "[x-y]" in this part */
	bool suffix;           /* a suffix "[x-y]" was seen in this part */
	unsigned after_suffix; /* tokens after it */
};

static ward_err fail(struct pbuild *b, ward_err e, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static ward_err fail(struct pbuild *b, ward_err e, size_t at, const char *fmt, ...)
{
	if (b->why && b->whylen) {
		int n = snprintf(b->why, b->whylen, "pattern offset %zu: ", at);
		if (n >= 0 && (size_t)n < b->whylen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(b->why + n, b->whylen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return e;
}

static ward_err push_node(struct pbuild *b, vec *v, const struct pnode *n)
{
	ward_err e = vec_push(v, n, sizeof *n, WARD_MAX_PATTERN_NODES);
	if (e == WARD_ELIMIT)
		return fail(b, e, b->pos, "more than %u nodes", WARD_MAX_PATTERN_NODES);
	return e;
}

/* A gap; merges into a gap that ends the sequence (sum of minima and maxima). */
static ward_err emit_gap(struct pbuild *b, vec *v, uint32_t lo, uint32_t hi)
{
	if (v->len > 0) {
		struct pnode *last = &VEC_AT(v, struct pnode, v->len - 1);
		if (last->kind == PN_GAP) {
			uint64_t nlo = (uint64_t)last->a + lo, nhi = (uint64_t)last->b + hi;
			/* Both inputs are <= WARD_MAX_SEGMENT_SPAN, so no overflow; the
			 * span check keeps the sum from growing on. */
			if (nhi > WARD_MAX_SEGMENT_SPAN)
				return fail(b, WARD_ELIMIT, b->pos, "gap longer than %u bytes",
					    WARD_MAX_SEGMENT_SPAN);
			last->a = (uint32_t)nlo;
			last->b = (uint32_t)nhi;
			return WARD_OK;
		}
	}
	struct pnode n = {.kind = PN_GAP, .a = lo, .b = hi};
	return push_node(b, v, &n);
}

/* One byte token (exact, nibble or "??"); with PAT_WIDE an exact 0x00 follows,
 * as ClamAV interleaves NULs after every byte token. */
static ward_err emit_byte(struct pbuild *b, vec *v, uint8_t val, uint8_t mask)
{
	ward_err e;
	if (mask == 0) {
		e = emit_gap(b, v, 1, 1);
	} else {
		struct pnode n = {.kind = PN_BYTE, .val = (uint8_t)(val & mask), .mask = mask};
		if ((b->flags & PAT_NOCASE) && mask == 0xff &&
		    ((val >= 'A' && val <= 'Z') || (val >= 'a' && val <= 'z'))) {
			n.flags = PN_F_NOCASE;
			n.val = (uint8_t)(val | 0x20);
		}
		e = push_node(b, v, &n);
	}
	if (e == WARD_OK && (b->flags & PAT_WIDE)) {
		struct pnode z = {.kind = PN_BYTE, .val = 0, .mask = 0xff};
		e = push_node(b, v, &z);
	}
	return e;
}

/* Append a finished private sequence to pattern.nodes; *out is its range. */
static ward_err commit_seq(struct pbuild *b, vec *local, struct pseq *out)
{
	ward_err e =
		vec_reserve(&b->nodes, local->len, sizeof(struct pnode), WARD_MAX_PATTERN_NODES);
	if (e == WARD_ELIMIT)
		return fail(b, e, b->pos, "more than %u nodes", WARD_MAX_PATTERN_NODES);
	if (e != WARD_OK)
		return e;
	out->first = (uint32_t)b->nodes.len;
	out->count = (uint32_t)local->len;
	if (local->len)
		memcpy(&VEC_AT(&b->nodes, struct pnode, b->nodes.len), local->items,
		       local->len * sizeof(struct pnode));
	b->nodes.len += local->len;
	return WARD_OK;
}

/* Decimal number in s[from, to), at most max. */
static bool number(const struct pbuild *b, size_t from, size_t to, uint64_t max, uint32_t *out)
{
	uint64_t v;
	if (!parse_u64(b->s + from, to - from, max, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

static size_t find_char(const struct pbuild *b, size_t from, char c)
{
	for (size_t i = from; i < b->len; i++)
		if (b->s[i] == c)
			return i;
	return b->len;
}

/* Top-level bookkeeping for ClamAV's "two static bytes per part" rule. */
static ward_err end_part(struct pbuild *b, size_t at)
{
	if (b->suffix && b->after_suffix != 1)
		return fail(b, WARD_ECORRUPT, at, "[x-y] must be followed by exactly one byte");
	if (!b->part_static)
		return fail(b, WARD_ECORRUPT, at,
			    "part has no two consecutive exact bytes (ClamAV rejects it)");
	b->part_static = false;
	b->run = 0;
	b->ntok = 0;
	b->nbracket = 0;
	b->suffix = false;
	b->after_suffix = 0;
	return WARD_OK;
}

static void note_exact(struct pbuild *b, bool exact)
{
	if (!exact) {
		b->run = 0;
		return;
	}
	if (++b->run >= 2)
		b->part_static = true;
}

static ward_err top_token(struct pbuild *b, enum tok t, size_t at)
{
	if (b->suffix) {
		if (b->after_suffix > 0 || t != TOK_BYTE)
			return fail(b, WARD_ECORRUPT, at,
				    "[x-y] must be followed by exactly one byte at the end");
		b->after_suffix++;
	}
	b->last = t;
	b->ntok++;
	return WARD_OK;
}

static ward_err parse_seq(struct pbuild *b, unsigned depth, vec *out, bool *got_break);

/* "(" or "!(" at b->pos (the '(' itself); emits one PN_ALT node into v. */
static ward_err parse_alt(struct pbuild *b, unsigned depth, vec *v, bool negate, size_t start)
{
	ward_err e = WARD_OK;
	vec branches = {0};
	vec local = {0};

	if (depth + 1 > WARD_MAX_ALT_DEPTH) {
		e = fail(b, WARD_ELIMIT, start, "alternatives nested deeper than %u",
			 WARD_MAX_ALT_DEPTH);
		goto out;
	}
	if (negate && (b->flags & (PAT_NOCASE | PAT_WIDE))) {
		e = fail(b, WARD_ECORRUPT, start,
			 "negated alternative with nocase/wide modifier (ClamAV rejects it)");
		goto out;
	}
	b->pos++; /* '(' */
	for (;;) {
		size_t bstart = b->pos;
		bool brk = false;
		e = parse_seq(b, depth + 1, &local, &brk);
		if (e != WARD_OK)
			goto out;
		if (b->pos >= b->len) {
			e = fail(b, WARD_ECORRUPT, start, "unbalanced '(': no closing ')'");
			goto out;
		}
		if (local.len == 0 && (branches.len == 0 || negate)) {
			/* ClamAV refuses "()", "(|aa)" and empty negated members but
			 * accepts "(aa|)" as "aa or nothing". */
			e = fail(b, WARD_ECORRUPT, bstart, "empty alternative");
			goto out;
		}
		struct pseq sq;
		e = commit_seq(b, &local, &sq);
		if (e != WARD_OK)
			goto out;
		local.len = 0;
		if (branches.len >= WARD_MAX_ALT_BRANCHES) {
			e = fail(b, WARD_ELIMIT, bstart, "more than %u alternatives",
				 WARD_MAX_ALT_BRANCHES);
			goto out;
		}
		e = vec_push(&branches, &sq, sizeof sq, WARD_MAX_ALT_BRANCHES);
		if (e != WARD_OK)
			goto out;
		char c = b->s[b->pos++];
		if (c == ')')
			break;
		/* parse_seq stops only at '|' or ')' inside an alternative */
	}

	if (negate) {
		const struct pseq *bs = branches.items;
		for (size_t i = 0; i < branches.len; i++) {
			bool ok = bs[i].count == bs[0].count;
			for (uint32_t k = 0; ok && k < bs[i].count; k++) {
				const struct pnode *n =
					&VEC_AT(&b->nodes, struct pnode, bs[i].first + k);
				ok = n->kind == PN_BYTE && n->mask == 0xff;
			}
			if (!ok) {
				e = fail(
					b, WARD_ECORRUPT, start,
					"negation needs exact members of one length (ClamAV rejects "
					"negated generic alternatives)");
				goto out;
			}
		}
	}

	e = vec_reserve(&b->seqs, branches.len, sizeof(struct pseq), WARD_MAX_PATTERN_NODES);
	if (e == WARD_ELIMIT)
		e = fail(b, e, start, "too many alternatives in the pattern");
	if (e != WARD_OK)
		goto out;
	struct pnode alt = {.kind = PN_ALT,
			    .flags = negate ? PN_F_NEGATE : 0,
			    .a = (uint32_t)b->seqs.len,
			    .b = (uint32_t)branches.len};
	memcpy(&VEC_AT(&b->seqs, struct pseq, b->seqs.len), branches.items,
	       branches.len * sizeof(struct pseq));
	b->seqs.len += branches.len;
	e = push_node(b, v, &alt);
out:
	vec_free(&branches);
	vec_free(&local);
	return e;
}

/* "{...}" at b->pos. Sets *unbounded for "{n-}", "{}" and "{-}" (then *lo is
 * the least gap); else *lo..*hi. */
static ward_err parse_brace(struct pbuild *b, uint32_t *lo, uint32_t *hi, bool *unbounded)
{
	size_t start = b->pos;
	size_t close = find_char(b, start + 1, '}');
	if (close >= b->len)
		return fail(b, WARD_ECORRUPT, start, "unbalanced '{': no closing '}'");
	size_t from = start + 1;
	size_t dash = find_char(b, from, '-');
	*unbounded = false;
	*lo = 0;
	*hi = 0;
	if (close == from || (dash == from && close == from + 1)) {
		/* "{}" and "{-}": clamscan treats them as "*" */
		*unbounded = true;
	} else if (dash >= close) {
		if (!number(b, from, close, WARD_MAX_SEGMENT_SPAN, lo))
			goto bad;
		*hi = *lo;
	} else if (dash == from) {
		if (!number(b, from + 1, close, WARD_MAX_SEGMENT_SPAN, hi))
			goto bad;
	} else if (dash + 1 == close) {
		if (!number(b, from, dash, UINT32_MAX, lo))
			goto bad;
		*unbounded = true;
	} else {
		if (!number(b, from, dash, WARD_MAX_SEGMENT_SPAN, lo) ||
		    !number(b, dash + 1, close, WARD_MAX_SEGMENT_SPAN, hi))
			goto bad;
		if (*lo > *hi)
			return fail(b, WARD_ECORRUPT, start,
				    "{n-m} with n > m (ClamAV never matches it)");
	}
	b->pos = close + 1;
	return WARD_OK;
bad:;
	/* With only digits and one dash, the one way to fail is a number above
	 * the segment span: a limit, not corruption. */
	unsigned dashes = 0;
	for (size_t i = from; i < close; i++) {
		if (b->s[i] == '-')
			dashes++;
		else if (b->s[i] < '0' || b->s[i] > '9')
			return fail(b, WARD_ECORRUPT, i, "bad character 0x%02x in {}",
				    (unsigned)(unsigned char)b->s[i]);
	}
	if (dashes > 1)
		return fail(b, WARD_ECORRUPT, start, "malformed {} gap");
	return fail(b, WARD_ELIMIT, start, "gap longer than %u bytes", WARD_MAX_SEGMENT_SPAN);
}

/* "[x-y]" at b->pos. */
static ward_err parse_bracket(struct pbuild *b, uint32_t *lo, uint32_t *hi)
{
	size_t start = b->pos;
	size_t close = find_char(b, start + 1, ']');
	if (close >= b->len)
		return fail(b, WARD_ECORRUPT, start, "unbalanced '[': no closing ']'");
	size_t dash = find_char(b, start + 1, '-');
	if (dash >= close || !number(b, start + 1, dash, CLAM_BRACKET_MAX, lo) ||
	    !number(b, dash + 1, close, CLAM_BRACKET_MAX, hi) || *lo > *hi)
		return fail(b, WARD_ECORRUPT, start, "malformed [x-y] (need 0 <= x <= y <= %u)",
			    CLAM_BRACKET_MAX);
	b->pos = close + 1;
	return WARD_OK;
}

/*
 * One sequence. depth 0 is the top level: it stops at the end of the input or
 * at an unbounded gap (*got_break set, b->pos after it, the least gap in the
 * new segment's gap_before via b->segs handled by the caller). Inside an
 * alternative (depth > 0) it stops at '|' or ')' (not consumed) or the end.
 */
static ward_err parse_seq(struct pbuild *b, unsigned depth, vec *v, bool *got_break)
{
	ward_err e = WARD_OK;
	bool top = depth == 0;
	*got_break = false;

	while (b->pos < b->len) {
		size_t at = b->pos;
		char c = b->s[at];

		if (hexval(c) >= 0 || c == '?') {
			if (at + 1 >= b->len)
				return fail(b, WARD_ECORRUPT, at, "odd number of hex digits");
			char d = b->s[at + 1];
			int hi = hexval(c), lo = hexval(d);
			if ((hi < 0 && c != '?') || (lo < 0 && d != '?'))
				return fail(
					b, WARD_ECORRUPT, at + 1,
					"bad character '%c' in hex pair (or odd number of hex digits)",
					d);
			uint8_t mask = (uint8_t)((hi >= 0 ? 0xf0 : 0) | (lo >= 0 ? 0x0f : 0));
			uint8_t val = (uint8_t)(((hi >= 0 ? hi : 0) << 4) | (lo >= 0 ? lo : 0));
			b->pos += 2;
			if (top) {
				e = top_token(b, TOK_BYTE, at);
				if (e != WARD_OK)
					return e;
				note_exact(b, mask == 0xff);
				if (b->flags & PAT_WIDE)
					note_exact(b, true); /* the 0x00 emit_byte adds */
			}
			e = emit_byte(b, v, val, mask);
		} else if (c == '{') {
			uint32_t lo = 0, hi = 0;
			bool unb = false;
			e = parse_brace(b, &lo, &hi, &unb);
			if (e != WARD_OK)
				return e;
			bool fixed_small =
				!unb && lo == hi && b->s[at + 1] != '-' && lo < CLAM_SMALL_GAP;
			if (!top) {
				if (!fixed_small)
					return fail(b, WARD_ECORRUPT, at,
						    "alternative may only hold {n} with n < %u",
						    CLAM_SMALL_GAP);
				e = emit_gap(b, v, lo, hi);
			} else if (unb) {
				if (v->len == 0 || b->pos >= b->len)
					return fail(b, WARD_ECORRUPT, at,
						    "pattern starts or ends with an unbounded gap");
				e = end_part(b, at);
				if (e != WARD_OK)
					return e;
				b->last = TOK_BREAK;
				/* lo is the gap_before of the next segment */
				*got_break = true;
				struct psegment sg = {.gap_before = lo};
				return vec_push(&b->segs, &sg, sizeof sg, WARD_MAX_PATTERN_NODES);
			} else {
				/* ClamAV splits its parts at every gap but a small "{n}" */
				if (fixed_small) {
					e = top_token(b, TOK_GAP, at);
					note_exact(b, false);
				} else {
					e = end_part(b, at);
					b->last = TOK_BREAK;
				}
				if (e == WARD_OK)
					e = emit_gap(b, v, lo, hi);
			}
		} else if (c == '*') {
			if (!top)
				return fail(b, WARD_ECORRUPT, at, "'*' inside an alternative");
			b->pos++;
			if (v->len == 0 || b->pos >= b->len)
				return fail(b, WARD_ECORRUPT, at,
					    "pattern starts or ends with '*' (or has '**')");
			e = end_part(b, at);
			if (e != WARD_OK)
				return e;
			b->last = TOK_BREAK;
			*got_break = true;
			struct psegment sg = {.gap_before = 0};
			return vec_push(&b->segs, &sg, sizeof sg, WARD_MAX_PATTERN_NODES);
		} else if (c == '[') {
			if (!top)
				return fail(b, WARD_ECORRUPT, at, "[x-y] inside an alternative");
			uint32_t lo = 0, hi = 0;
			e = parse_bracket(b, &lo, &hi);
			if (e != WARD_OK)
				return e;
			if (b->last != TOK_BYTE || b->nbracket >= 2 || b->suffix)
				return fail(b, WARD_ECORRUPT, at,
					    "[x-y] must follow a single leading byte or precede a "
					    "single trailing byte");
			if (!(b->nbracket == 0 && b->ntok == 1))
				b->suffix = true;
			b->nbracket++;
			b->last = TOK_BRACKET;
			note_exact(b, false);
			e = emit_gap(b, v, lo, hi);
		} else if (c == '(' || c == '!') {
			bool negate = c == '!';
			if (negate) {
				if (at + 1 >= b->len || b->s[at + 1] != '(')
					return fail(b, WARD_ECORRUPT, at,
						    "'!' not followed by '('");
				b->pos++;
			}
			size_t p = b->pos;
			if (!negate && p + 2 < b->len && b->s[p + 2] == ')' &&
			    (b->s[p + 1] == 'B' || b->s[p + 1] == 'L' || b->s[p + 1] == 'W')) {
				if (!top)
					return fail(b, WARD_ECORRUPT, at,
						    "character class inside an alternative");
				e = top_token(b, TOK_CLASS, at);
				if (e != WARD_OK)
					return e;
				note_exact(b, false);
				struct pnode n = {.kind = PN_CLASS, .val = (uint8_t)b->s[p + 1]};
				b->pos += 3;
				e = push_node(b, v, &n);
			} else {
				if (top) {
					e = top_token(b, TOK_ALT, at);
					if (e != WARD_OK)
						return e;
					note_exact(b, false);
				}
				e = parse_alt(b, depth, v, negate, at);
			}
		} else if (c == '|' || c == ')') {
			if (top)
				return fail(b, WARD_ECORRUPT, at, "unbalanced '%c'", c);
			return WARD_OK;
		} else {
			return fail(b, WARD_ECORRUPT, at, "bad character 0x%02x",
				    (unsigned)(unsigned char)c);
		}
		if (e != WARD_OK)
			return e;
	}
	return WARD_OK;
}

/* Shortest and longest match of seqs/nodes; depth bounded by the parser. */
static void seq_span(const struct pattern *p, uint32_t first, uint32_t count, unsigned depth,
		     uint64_t *mn, uint64_t *mx)
{
	uint64_t lo = 0, hi = 0;
	for (uint32_t i = 0; i < count; i++) {
		const struct pnode *n = &p->nodes[first + i];
		switch (n->kind) {
		case PN_BYTE:
			lo++;
			hi++;
			break;
		case PN_GAP:
			lo += n->a;
			hi += n->b;
			break;
		case PN_CLASS:
			/* zero bytes at a file boundary, else one; (L) "\r\n" two */
			hi += n->val == PC_LINE ? 2 : 1;
			break;
		case PN_ALT: {
			uint64_t amin = UINT64_MAX, amax = 0;
			if (NEVER(depth > WARD_MAX_ALT_DEPTH))
				break;
			for (uint32_t k = 0; k < n->b; k++) {
				const struct pseq *s = &p->seqs[n->a + k];
				uint64_t smin, smax;
				seq_span(p, s->first, s->count, depth + 1, &smin, &smax);
				if (smin < amin)
					amin = smin;
				if (smax > amax)
					amax = smax;
			}
			lo += n->b ? amin : 0;
			hi += amax;
			break;
		}
		default:
			break;
		}
		/* Each term is <= span limit x nodes: no uint64 overflow. */
	}
	*mn = lo;
	*mx = hi;
}

void pattern_free(struct pattern *p)
{
	if (!p)
		return;
	w_free(p->nodes);
	w_free(p->seqs);
	w_free(p->segs);
	memset(p, 0, sizeof *p);
}

ward_err pattern_parse(const char *hex, size_t len, uint32_t flags, struct pattern *out, char *why,
		       size_t whylen)
{
	ward_err e = WARD_OK;
	struct pbuild b = {.s = hex, .len = len, .flags = flags, .why = why, .whylen = whylen};
	vec local = {0};
	struct pattern p = {0};

	if (why && whylen)
		why[0] = '\0';
	if (!out || (!hex && len)) {
		e = WARD_EINVAL;
		goto out;
	}
	memset(out, 0, sizeof *out);
	if (len == 0) {
		e = fail(&b, WARD_ECORRUPT, 0, "empty pattern");
		goto out;
	}
	if (len > WARD_MAX_LINE) {
		e = fail(&b, WARD_ELIMIT, 0, "pattern longer than %u characters", WARD_MAX_LINE);
		goto out;
	}

	/* One allocation each instead of a doubling series: a node takes at
	 * least two characters (one more zero node per byte with ::w), so
	 * len / 2 + 2 nodes (twice that wide) always suffice. The load parses
	 * every pattern of the set, and the regrowth was a fifth of it. */
	{
		size_t guess = len / 2 + 2;
		if (flags & PAT_WIDE)
			guess *= 2;
		if (guess > WARD_MAX_PATTERN_NODES)
			guess = WARD_MAX_PATTERN_NODES;
		e = vec_reserve(&local, guess, sizeof(struct pnode), WARD_MAX_PATTERN_NODES);
		if (e == WARD_OK)
			e = vec_reserve(&b.nodes, guess, sizeof(struct pnode),
					WARD_MAX_PATTERN_NODES);
		if (e != WARD_OK)
			goto out;
	}

	/* first segment */
	struct psegment first = {0};
	e = vec_push(&b.segs, &first, sizeof first, WARD_MAX_PATTERN_NODES);
	if (e != WARD_OK)
		goto out;
	for (;;) {
		bool brk = false;
		local.len = 0;
		e = parse_seq(&b, 0, &local, &brk);
		if (e != WARD_OK)
			goto out;
		/* the segment being finished is the one before a newly pushed one */
		size_t si = b.segs.len - (brk ? 2 : 1);
		struct pseq body;
		e = commit_seq(&b, &local, &body);
		if (e != WARD_OK)
			goto out;
		VEC_AT(&b.segs, struct psegment, si).body = body;
		if (!brk)
			break;
	}
	e = end_part(&b, len);
	if (e != WARD_OK)
		goto out;

	/* Exact sizes: the set keeps ~70,000 patterns for its lifetime, and
	 * doubling growth left a third of main.ldb's 80 MB of nodes and
	 * segments unused. */
	vec_shrink(&b.nodes, sizeof(struct pnode));
	vec_shrink(&b.seqs, sizeof(struct pseq));
	vec_shrink(&b.segs, sizeof(struct psegment));
	p.nodes = b.nodes.items;
	p.nnodes = (uint32_t)b.nodes.len;
	p.seqs = b.seqs.items;
	p.nseqs = (uint32_t)b.seqs.len;
	p.segs = b.segs.items;
	p.nsegs = (uint32_t)b.segs.len;
	p.flags = flags & (PAT_NOCASE | PAT_WIDE | PAT_FULLWORD | PAT_ASCII);
	b.nodes = (vec){0};
	b.seqs = (vec){0};
	b.segs = (vec){0};

	for (uint32_t i = 0; i < p.nsegs; i++) {
		struct psegment *sg = &p.segs[i];
		uint64_t mn, mx;
		seq_span(&p, sg->body.first, sg->body.count, 0, &mn, &mx);
		if (mx > WARD_MAX_SEGMENT_SPAN) {
			e = fail(&b, WARD_ELIMIT, 0, "segment %u spans up to %llu bytes (limit %u)",
				 i, (unsigned long long)mx, WARD_MAX_SEGMENT_SPAN);
			goto out;
		}
		sg->minlen = (uint32_t)mn;
		sg->maxlen = (uint32_t)mx;
	}

	*out = p;
	p = (struct pattern){0};
out:
	pattern_free(&p);
	vec_free(&b.nodes);
	vec_free(&b.seqs);
	vec_free(&b.segs);
	vec_free(&local);
	return e;
}
