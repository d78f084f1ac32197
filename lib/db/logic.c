/*
 * Logical expressions of .ldb signatures (LogicalSignatures.md) and of PCRE
 * triggers: parse into a tree of struct lnode, evaluate against per-subsig
 * match counts.
 *
 * The manual defines the grammar only with full parentheses. ClamAV's own
 * evaluator (clamscan 1.4.6, checked with experiments, see
 * docs/internals/logic.md) gives unparenthesised input this meaning, which we
 * mirror exactly because official signatures rely on it ("0|1&(2&3)",
 * "(0&1|2)"):
 *
 *  - '&' and '|' have the same precedence.
 *  - At the top level of an expression (not directly inside parentheses) a
 *    chain groups to the right: "0&1|2" is 0&(1|2).
 *  - Directly inside a parenthesised block the block is split at its LAST
 *    operator, and the left part is again a top-level chain:
 *    "(0&1|2)" is (0&1)|2, "(0|1&2|3)" is (0|(1&2))|3.
 *  - A modifier "=X", ">X", "<X" (with optional ",Y") may follow a subsig
 *    number or a parenthesised block that contains an operator. "(0)>1" and
 *    "((0|1))>1" are refused by ClamAV, and so here.
 *
 * Evaluation: every node yields (true/false, count, set of subsigs):
 *  - subsig i: true when counts[i] > 0, with that count and {i}.
 *  - i op X[,Y] (a subsig with a modifier): true when counts[i] op X holds,
 *    even when the count is 0 ("0=0", "0<1"); then count counts[i] and {i}.
 *    Y is ignored for a single subsig (the manual describes Y only for blocks).
 *  - A & B, A | B: both sides are always evaluated; when the result is true
 *    the count is the sum of both sides' counts and the set their union
 *    (a false side contributes count 0 and no subsigs), else 0 and {}.
 *  - (block) op X[,Y]: compares the block's count (0 if the block is false)
 *    with X, and when Y > 0 requires at least Y distinct subsigs in the
 *    block's set. When true it passes the count up but NOT the set (ClamAV
 *    drops it: "((0|1)>1|2)>0,2" does not match with all three present).
 *  - The expression can be true with no subsig matched at all ("0=0",
 *    "(0|1)<3"): the scanner must evaluate every logical signature of a
 *    target, not only those with a subsig hit.
 *
 * The tree is stored in pre-order: the root is node 0 and every child has a
 * larger index than its parent. logic_eval walks the array backwards, so it
 * needs neither recursion nor a stack. The parser recurses once per
 * parenthesis level (bounded by WARD_MAX_LOGIC_DEPTH); operator chains are
 * handled with loops.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db/sigs.h"

#define NO_NODE UINT32_MAX

struct lparse {
	const char *s;
	size_t len;
	uint32_t nsubs;
	vec nodes; /* struct lnode */
	char *why;
	size_t whylen;
};

static ward_err lfail(struct lparse *p, ward_err e, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static ward_err lfail(struct lparse *p, ward_err e, size_t at, const char *fmt, ...)
{
	if (p->why && p->whylen) {
		int n = snprintf(p->why, p->whylen, "expression offset %zu: ", at);
		if (n >= 0 && (size_t)n < p->whylen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(p->why + n, p->whylen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return e;
}

static bool is_op(char c) { return c == '&' || c == '|'; }
static bool is_mod(char c) { return c == '=' || c == '>' || c == '<'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static ward_err new_node(struct lparse *p, uint8_t kind, size_t at, uint32_t *idx)
{
	struct lnode n = {.kind = kind, .a = NO_NODE, .b = NO_NODE};
	if (p->nodes.len >= WARD_MAX_LOGIC_NODES)
		return lfail(p, WARD_ELIMIT, at, "more than %u nodes", WARD_MAX_LOGIC_NODES);
	ward_err e = vec_push(&p->nodes, &n, sizeof n, WARD_MAX_LOGIC_NODES);
	if (e != WARD_OK)
		return e;
	*idx = (uint32_t)(p->nodes.len - 1);
	return WARD_OK;
}

static struct lnode *node_at(struct lparse *p, uint32_t i)
{
	return &VEC_AT(&p->nodes, struct lnode, i);
}

/* Decimal number in s[from, to) of at most max. */
static bool lnum(const struct lparse *p, size_t from, size_t to, uint64_t max, uint32_t *out)
{
	uint64_t v;
	if (to <= from || !parse_u64(p->s + from, to - from, max, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

/*
 * "=X", ">X", "<X", optionally ",Y", exactly filling s[from, to).
 * Official signatures contain two sloppy forms that ClamAV's sscanf-based
 * reader accepts, so we accept them too: a trailing comma without Y
 * ("0=2,&1") and, after a subsig number, a run of modifier characters of
 * which ClamAV uses the last ("8==9" is 8=9).
 */
static ward_err parse_modifier(struct lparse *p, size_t from, size_t to, uint32_t idx, bool leaf)
{
	size_t i = from + 1;
	if (leaf)
		while (i < to && is_mod(p->s[i]))
			i++;
	char m = p->s[i - 1];
	struct lnode *n = node_at(p, idx);
	n->kind = m == '=' ? LN_EQ : m == '>' ? LN_GT : LN_LT;
	size_t comma = i;
	while (comma < to && p->s[comma] != ',')
		comma++;
	if (!lnum(p, i, comma, UINT32_MAX, &n->x))
		return lfail(p, WARD_ECORRUPT, i - 1, "'%c' needs a decimal number <= %u", m,
			     UINT32_MAX);
	if (comma + 1 < to) {
		if (!lnum(p, comma + 1, to, UINT32_MAX, &n->y))
			return lfail(p, WARD_ECORRUPT, comma, "',' needs a decimal number <= %u",
				     UINT32_MAX);
		n->has_y = 1;
	}
	return WARD_OK;
}

/* Index just past the ')' matching the '(' at `open`, within [open, to);
 * SIZE_MAX when unbalanced. */
static size_t match_paren(const struct lparse *p, size_t open, size_t to)
{
	size_t depth = 0;
	for (size_t i = open; i < to; i++) {
		if (p->s[i] == '(')
			depth++;
		else if (p->s[i] == ')' && depth > 0 && --depth == 0)
			return i + 1;
	}
	return SIZE_MAX;
}

static ward_err parse_chain(struct lparse *p, size_t from, size_t to, unsigned depth,
			    bool last_split, uint32_t *out);

/*
 * One operand in s[from, to) that holds no operator outside parentheses:
 * "N", "N<mod>", "(...)" or "(...)<mod>". Node slots are taken before the
 * children's, keeping the pre-order layout.
 */
static ward_err parse_primary(struct lparse *p, size_t from, size_t to, unsigned depth,
			      uint32_t *out)
{
	ward_err e;
	if (from >= to)
		return lfail(p, WARD_ECORRUPT, from, "missing operand");

	if (is_digit(p->s[from])) {
		size_t end = from;
		while (end < to && is_digit(p->s[end]))
			end++;
		uint32_t id;
		if (!lnum(p, from, end, UINT32_MAX, &id) || id >= p->nsubs)
			return lfail(p, WARD_ECORRUPT, from,
				     "subsignature index %.*s out of range (%u subsignatures)",
				     (int)(end - from > 12 ? 12 : end - from), p->s + from,
				     p->nsubs);
		uint32_t mod = NO_NODE, leaf = 0;
		if (end < to) {
			if (!is_mod(p->s[end]))
				return lfail(p, WARD_ECORRUPT, end,
					     "unexpected '%c' after a subsignature index",
					     p->s[end]);
			if ((e = new_node(p, LN_EQ, end, &mod)) != WARD_OK)
				return e;
		}
		if ((e = new_node(p, LN_SUB, from, &leaf)) != WARD_OK)
			return e;
		node_at(p, leaf)->a = id;
		if (mod != NO_NODE) {
			node_at(p, mod)->a = leaf;
			if ((e = parse_modifier(p, end, to, mod, true)) != WARD_OK)
				return e;
		}
		*out = mod != NO_NODE ? mod : leaf;
		return WARD_OK;
	}

	if (p->s[from] != '(')
		return lfail(p, WARD_ECORRUPT, from, "unexpected '%c'", p->s[from]);
	if (depth + 1 > WARD_MAX_LOGIC_DEPTH)
		return lfail(p, WARD_ELIMIT, from, "parentheses nested deeper than %u",
			     WARD_MAX_LOGIC_DEPTH);
	size_t close = match_paren(p, from, to); /* just past ')' */
	if (close == SIZE_MAX)
		return lfail(p, WARD_ECORRUPT, from, "unbalanced '(': no closing ')'");
	size_t in_from = from + 1, in_to = close - 1;

	/* does the block hold an operator at its own top level? */
	bool has_op = false;
	for (size_t i = in_from, d = 0; i < in_to; i++) {
		if (p->s[i] == '(')
			d++;
		else if (p->s[i] == ')')
			d--;
		else if (d == 0 && is_op(p->s[i]))
			has_op = true;
	}

	if (close == to) {
		/* "(...)" alone: a block with an operator splits at its last one;
		 * otherwise the parentheses are redundant and dropped. */
		return parse_chain(p, in_from, in_to, depth + 1, has_op, out);
	}
	if (!is_mod(p->s[close]))
		return lfail(p, WARD_ECORRUPT, close, "unexpected '%c' after ')'", p->s[close]);
	if (!has_op)
		return lfail(p, WARD_ECORRUPT, close,
			     "modifier on a parenthesised single operand (ClamAV rejects it)");
	uint32_t mod = 0;
	if ((e = new_node(p, LN_EQ, close, &mod)) != WARD_OK)
		return e;
	uint32_t child;
	if ((e = parse_chain(p, in_from, in_to, depth + 1, true, &child)) != WARD_OK)
		return e;
	node_at(p, mod)->a = child;
	if ((e = parse_modifier(p, close, to, mod, false)) != WARD_OK)
		return e;
	*out = mod;
	return WARD_OK;
}

/*
 * Operands joined by '&'/'|' in s[from, to). last_split false: group to the
 * right (top level). last_split true (directly inside parentheses): split at
 * the last operator; its left part is a right-grouped chain. Iterative over
 * the operators so long chains cost no stack.
 */
static ward_err parse_chain(struct lparse *p, size_t from, size_t to, unsigned depth,
			    bool last_split, uint32_t *out)
{
	ward_err e;
	if (from >= to)
		return lfail(p, WARD_ECORRUPT, from, "empty expression");

	/* position of the last top-level operator, and a syntax check of the
	 * parentheses at this level */
	size_t last_op = to;
	long d = 0;
	for (size_t i = from; i < to; i++) {
		char c = p->s[i];
		if (c == '(') {
			d++;
		} else if (c == ')') {
			if (--d < 0)
				return lfail(p, WARD_ECORRUPT, i, "unbalanced ')'");
		} else if (d == 0 && is_op(c)) {
			last_op = i;
		} else if (!is_digit(c) && !is_mod(c) && c != ',' && !is_op(c)) {
			return lfail(p, WARD_ECORRUPT, i, "bad character 0x%02x",
				     (unsigned)(unsigned char)c);
		}
	}
	if (d != 0)
		return lfail(p, WARD_ECORRUPT, from, "unbalanced '(': no closing ')'");

	size_t chain_to = to;
	uint32_t top = NO_NODE; /* block split: the node for the last operator */
	if (last_split) {
		if (NEVER(last_op == to))
			return lfail(p, WARD_EINTERNAL, from, "block without operator");
		if ((e = new_node(p, p->s[last_op] == '&' ? LN_AND : LN_OR, last_op, &top)) !=
		    WARD_OK)
			return e;
		chain_to = last_op;
	}

	/* right-grouped chain over [from, chain_to): op nodes come before their
	 * left operand, the previous op's right child is the next op or the
	 * final operand */
	uint32_t first = NO_NODE, prev = NO_NODE;
	size_t start = from;
	for (;;) {
		/* the next top-level operator in [start, chain_to) */
		size_t i = start;
		long dd = 0;
		while (i < chain_to && !(dd == 0 && is_op(p->s[i]))) {
			if (p->s[i] == '(')
				dd++;
			else if (p->s[i] == ')')
				dd--;
			i++;
		}
		uint32_t idx = NO_NODE;
		if (i < chain_to) {
			if (i == start)
				return lfail(p, WARD_ECORRUPT, i, "missing left operand of '%c'",
					     p->s[i]);
			if ((e = new_node(p, p->s[i] == '&' ? LN_AND : LN_OR, i, &idx)) != WARD_OK)
				return e;
			uint32_t left = NO_NODE;
			if ((e = parse_primary(p, start, i, depth, &left)) != WARD_OK)
				return e;
			node_at(p, idx)->a = left;
		} else {
			if (start >= chain_to)
				return lfail(p, WARD_ECORRUPT, start, "missing right operand");
			if ((e = parse_primary(p, start, chain_to, depth, &idx)) != WARD_OK)
				return e;
		}
		if (prev == NO_NODE)
			first = idx;
		else
			node_at(p, prev)->b = idx;
		if (i >= chain_to)
			break;
		prev = idx;
		start = i + 1;
	}

	if (top == NO_NODE) {
		*out = first;
		return WARD_OK;
	}
	node_at(p, top)->a = first;
	uint32_t right = NO_NODE;
	if ((e = parse_primary(p, last_op + 1, to, depth, &right)) != WARD_OK)
		return e;
	node_at(p, top)->b = right;
	*out = top;
	return WARD_OK;
}

ward_err logic_parse(const char *s, size_t len, uint32_t nsubs, struct lnode **out, uint32_t *nout,
		     char *why, size_t whylen)
{
	ward_err e = WARD_OK;
	struct lparse p = {.s = s, .len = len, .nsubs = nsubs, .why = why, .whylen = whylen};

	if (why && whylen)
		why[0] = '\0';
	if (!out || !nout || (!s && len))
		return WARD_EINVAL;
	*out = NULL;
	*nout = 0;
	if (nsubs > WARD_MAX_SUBSIGS) {
		e = lfail(&p, WARD_ELIMIT, 0, "more than %u subsignatures", WARD_MAX_SUBSIGS);
		goto out;
	}
	if (len == 0) {
		e = lfail(&p, WARD_ECORRUPT, 0, "empty expression");
		goto out;
	}
	/* Each node needs at least one character: a longer expression would
	 * exceed the node limit anyway, and this bounds every scan below. */
	if (len > (size_t)WARD_MAX_LOGIC_NODES * 16) {
		e = lfail(&p, WARD_ELIMIT, 0, "expression longer than %u characters",
			  WARD_MAX_LOGIC_NODES * 16);
		goto out;
	}
	uint32_t root = NO_NODE;
	e = parse_chain(&p, 0, len, 0, false, &root);
	if (e != WARD_OK)
		goto out;
	if (NEVER(root != 0)) {
		e = lfail(&p, WARD_EINTERNAL, 0, "root is not node 0");
		goto out;
	}
	vec_shrink(&p.nodes, sizeof(struct lnode)); /* kept for the set's lifetime */
	*out = p.nodes.items;
	*nout = (uint32_t)p.nodes.len;
	p.nodes = (vec){0};
out:
	vec_free(&p.nodes);
	return e;
}

struct lval {
	uint64_t cnt;
	uint64_t ids; /* bit i: subsig i */
	bool t;
};

static bool cmp_mod(uint8_t kind, uint64_t v, uint32_t x)
{
	switch (kind) {
	case LN_EQ:
		return v == x;
	case LN_GT:
		return v > x;
	case LN_LT:
		return v < x;
	default:
		return false;
	}
}

static unsigned popcount64(uint64_t v) { return (unsigned)__builtin_popcountll(v); }

bool logic_eval(const struct lnode *expr, uint32_t nexpr, const uint32_t *counts)
{
	/* Children always have larger indexes (pre-order), so one backward pass
	 * computes every child before its parent. */
	struct lval v[WARD_MAX_LOGIC_NODES];
	if (!expr || !counts || nexpr == 0 || NEVER(nexpr > WARD_MAX_LOGIC_NODES))
		return false;

	for (uint32_t k = nexpr; k-- > 0;) {
		const struct lnode *n = &expr[k];
		struct lval r = {0, 0, false};
		switch (n->kind) {
		case LN_SUB:
			if (NEVER(n->a >= WARD_MAX_SUBSIGS))
				return false;
			if (counts[n->a] > 0)
				r = (struct lval){counts[n->a], 1ull << n->a, true};
			break;
		case LN_AND:
		case LN_OR: {
			if (NEVER(n->a <= k || n->a >= nexpr || n->b <= k || n->b >= nexpr))
				return false;
			const struct lval *l = &v[n->a], *rr = &v[n->b];
			bool t = n->kind == LN_AND ? (l->t && rr->t) : (l->t || rr->t);
			if (t)
				r = (struct lval){l->cnt + rr->cnt, l->ids | rr->ids, true};
			break;
		}
		case LN_EQ:
		case LN_GT:
		case LN_LT: {
			if (NEVER(n->a <= k || n->a >= nexpr))
				return false;
			const struct lnode *c = &expr[n->a];
			if (c->kind == LN_SUB) {
				/* single subsig: the raw count, Y ignored, true even at 0 */
				if (NEVER(c->a >= WARD_MAX_SUBSIGS))
					return false;
				uint64_t cnt = counts[c->a];
				if (cmp_mod(n->kind, cnt, n->x))
					r = (struct lval){cnt, 1ull << c->a, true};
			} else {
				const struct lval *cv = &v[n->a];
				uint64_t cnt = cv->t ? cv->cnt : 0, ids = cv->t ? cv->ids : 0;
				bool t = cmp_mod(n->kind, cnt, n->x);
				if (t && n->has_y && n->y > 0 && popcount64(ids) < n->y)
					t = false;
				/* the count goes up, the subsig set does not */
				if (t)
					r = (struct lval){cnt, 0, true};
			}
			break;
		}
		default:
			return false;
		}
		v[k] = r;
	}
	return v[0].t;
}
