/*
 * Exact verification of body patterns. See match.h for the position-set
 * method and db.h for the anchor/candidate design.
 *
 * Semantics mirrored from ClamAV (BodySignatureFormat.md): segments separated
 * by '*' or '{n-}' must occur in order without overlapping, '{n-}' leaving at
 * least n bytes between them; the signature's offset constrains where the
 * first segment starts. Searches for the segments around the anchored one are
 * greedy (latest start before, earliest end after), which is exact for
 * unbounded gaps.
 */
#include <string.h>

#include "scan/match.h"
#include "formats/formats.h"

/* Bitsets alive at once: two per nesting level plus a few per search. */
#define ARENA_SETS (3 * (WARD_MAX_ALT_DEPTH + 2) + 8)
/* How much verification work between clock checks. */
#define STEPS_PER_CLOCK (1u << 16)

ward_err matcher_init(struct matcher *m, const struct ward_db *db)
{
	memset(m, 0, sizeof *m);
	/* Bitsets as wide as the widest segment loaded (plus the end position). */
	size_t set_words = ((size_t)db->max_span + 2 + 63) / 64;
	m->nwords = (size_t)ARENA_SETS * set_words;
	m->words = w_alloc_array(m->nwords, sizeof *m->words);
	size_t nbody = db->set.body.len;
	m->memo_base = w_alloc_array(nbody ? nbody : 1, sizeof *m->memo_base);
	if (!m->words || !m->memo_base)
		goto fail;
	size_t nmemo = 0;
	for (size_t i = 0; i < nbody; i++) {
		const struct bodysig *b = &VEC_AT(&db->set.body, struct bodysig, i);
		if (b->pat.nsegs < 2) {
			m->memo_base[i] = UINT32_MAX;
			continue;
		}
		m->memo_base[i] = (uint32_t)nmemo;
		nmemo += b->pat.nsegs;
	}
	m->memo = w_calloc(nmemo ? nmemo : 1, sizeof *m->memo);
	if (!m->memo)
		goto fail;
	m->nmemo = nmemo;
	m->gen = 1;
	return WARD_OK;
fail:
	matcher_free(m);
	return WARD_ENOMEM;
}

void matcher_free(struct matcher *m)
{
	w_free(m->words);
	w_free(m->memo);
	w_free(m->memo_base);
	memset(m, 0, sizeof *m);
}

void matcher_reset(struct matcher *m)
{
	m->top = 0;
	m->expired = false;
	if (++m->gen == 0) {
		/* Wrapped: old stamps could look current. */
		memset(m->memo, 0, m->nmemo * sizeof *m->memo);
		m->gen = 1;
	}
}

/* ---- time budget ---- */

static bool spend(struct matcher *m, uint64_t work)
{
	m->steps += work;
	if (m->expired)
		return false;
	if (m->deadline_ms && (m->steps - m->steps_at_clock) >= STEPS_PER_CLOCK) {
		m->steps_at_clock = m->steps;
		if (now_ms() > m->deadline_ms)
			m->expired = true;
	}
	return !m->expired;
}

/* ---- position sets ---- */

struct run {
	struct matcher *m;
	const struct pattern *p;
	const uint8_t *data;
	size_t len;
	size_t base; /* absolute offset of bit 0 */
	size_t W;    /* bits in a set: positions base .. base + W - 1 */
	size_t nw;   /* words */
};

static uint64_t *bs_get(struct run *r)
{
	struct matcher *m = r->m;
	if (r->nw > m->nwords - m->top)
		return NULL;
	uint64_t *b = m->words + m->top;
	m->top += r->nw;
	memset(b, 0, r->nw * sizeof *b);
	return b;
}

static void bs_put(struct run *r, unsigned n) { r->m->top -= n * r->nw; }

static inline void bs_set(uint64_t *b, size_t i) { b[i >> 6] |= 1ull << (i & 63); }
static inline bool bs_test(const uint64_t *b, size_t i) { return (b[i >> 6] >> (i & 63)) & 1; }

static void bs_set_range(uint64_t *b, size_t lo, size_t hi) /* inclusive */
{
	for (size_t i = lo; i <= hi;) {
		if ((i & 63) == 0 && hi - i >= 63) {
			b[i >> 6] = ~0ull;
			i += 64;
		} else {
			bs_set(b, i);
			i++;
		}
	}
}

static bool bs_any(const uint64_t *b, size_t nw)
{
	for (size_t w = 0; w < nw; w++)
		if (b[w])
			return true;
	return false;
}

static bool bs_first(const uint64_t *b, size_t nw, size_t *i)
{
	for (size_t w = 0; w < nw; w++)
		if (b[w]) {
			*i = w * 64 + (size_t)__builtin_ctzll(b[w]);
			return true;
		}
	return false;
}

#define FOR_EACH_BIT(b, nw, p) \
	for (size_t w_ = 0; w_ < (nw); w_++) \
		for (uint64_t x_ = (b)[w_]; x_; x_ &= x_ - 1) \
			for (size_t p = w_ * 64 + (size_t)__builtin_ctzll(x_), o_ = 1; o_; o_ = 0)

static inline bool is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool byte_ok(const struct pnode *n, uint8_t c)
{
	if (n->flags & PN_F_NOCASE)
		return lit_eq(c, n->val, true);
	return (uint8_t)(c & n->mask) == n->val;
}

/* (B) (L) (W), as measured against clamscan (docs/internals/pattern.md): each
 * consumes one byte of its class ((L) also "\r\n"), and matches without
 * consuming anything at the start or the end of the data. */
static inline bool word_boundary_byte(uint8_t c)
{
	switch (c) {
	case '\n':
	case '\r':
	case ' ':
	case '"':
	case '\'':
	case '-':
	case '.':
	case '/':
	case '<':
	case '=':
	case '>':
	case '@':
	case '_':
		return true;
	default:
		return false;
	}
}

static bool class_run(struct run *r, uint8_t cls, const uint64_t *in, uint64_t *out)
{
	bool any = false;
	FOR_EACH_BIT(in, r->nw, p)
	{
		size_t abs = r->base + p;
		if (abs == 0 || abs == r->len) {
			bs_set(out, p);
			any = true;
		}
		if (abs >= r->len || p + 1 >= r->W)
			continue;
		uint8_t c = r->data[abs];
		bool one = cls == PC_WORD_BOUNDARY ? word_boundary_byte(c)
			   : cls == PC_NONALNUM    ? !is_alnum(c)
						   : c == '\n';
		if (one) {
			bs_set(out, p + 1);
			any = true;
		}
		if (cls == PC_LINE && c == '\r' && abs + 1 < r->len && r->data[abs + 1] == '\n' &&
		    p + 2 < r->W) {
			bs_set(out, p + 2);
			any = true;
		}
	}
	return any;
}

static bool seq_run(struct run *r, struct pseq seq, const uint64_t *in, uint64_t *out,
		    unsigned depth);

static bool node_run(struct run *r, const struct pnode *n, const uint64_t *in, uint64_t *out,
		     unsigned depth)
{
	bool any = false;
	switch (n->kind) {
	case PN_CLASS:
		return class_run(r, n->val, in, out);
	case PN_BYTE:
		FOR_EACH_BIT(in, r->nw, p)
		{
			size_t abs = r->base + p;
			if (abs >= r->len || p + 1 >= r->W)
				continue;
			uint8_t c = r->data[abs];
			if (byte_ok(n, c)) {
				bs_set(out, p + 1);
				any = true;
			}
		}
		return any;
	case PN_GAP: {
		size_t lim = r->W - 1;
		if (r->len - r->base < lim)
			lim = r->len - r->base;
		FOR_EACH_BIT(in, r->nw, p)
		{
			if (p + n->a > lim)
				break; /* bits are ascending: later ones are past too */
			size_t hi = p + n->b < lim ? p + n->b : lim;
			bs_set_range(out, p + n->a, hi);
			any = true;
		}
		return any;
	}
	case PN_ALT: {
		uint64_t *tmp = bs_get(r);
		if (!tmp)
			return false;
		if (!(n->flags & PN_F_NEGATE)) {
			for (uint32_t i = 0; i < n->b; i++) {
				if (!seq_run(r, r->p->seqs[n->a + i], in, tmp, depth + 1))
					continue;
				for (size_t w = 0; w < r->nw; w++)
					out[w] |= tmp[w];
				any = true;
			}
			bs_put(r, 1);
			return any;
		}
		/* Negated: any string of the members' fixed length that is none of them. */
		uint64_t mn, mx;
		if (n->b == 0) {
			bs_put(r, 1);
			return false;
		}
		pat_seq_len(r->p, r->p->seqs[n->a], &mn, &mx);
		uint64_t *one = bs_get(r);
		if (!one) {
			bs_put(r, 1);
			return false;
		}
		FOR_EACH_BIT(in, r->nw, p)
		{
			if (p + mn >= r->W || r->base + p + mn > r->len)
				continue;
			memset(one, 0, r->nw * sizeof *one);
			bs_set(one, p);
			bool hit = false;
			for (uint32_t i = 0; i < n->b && !hit; i++)
				if (seq_run(r, r->p->seqs[n->a + i], one, tmp, depth + 1) &&
				    bs_test(tmp, p + mn))
					hit = true;
			if (!hit) {
				bs_set(out, p + mn);
				any = true;
			}
		}
		bs_put(r, 2);
		return any;
	}
	}
	return false;
}

/* Advance the set `in` through every node of seq into `out` (zeroed here). */
static bool seq_run(struct run *r, struct pseq seq, const uint64_t *in, uint64_t *out,
		    unsigned depth)
{
	memset(out, 0, r->nw * sizeof *out);
	if (depth > WARD_MAX_ALT_DEPTH + 1 || !spend(r->m, (uint64_t)seq.count * r->nw))
		return false;
	uint64_t *a = bs_get(r), *b = bs_get(r);
	if (!a || !b) {
		if (a)
			bs_put(r, 1);
		return false;
	}
	memcpy(a, in, r->nw * sizeof *a);
	bool live = bs_any(a, r->nw);
	for (uint32_t i = 0; i < seq.count && live; i++) {
		memset(b, 0, r->nw * sizeof *b);
		live = node_run(r, &r->p->nodes[seq.first + i], a, b, depth);
		uint64_t *t = a;
		a = b;
		b = t;
	}
	if (live)
		memcpy(out, a, r->nw * sizeof *out);
	bs_put(r, 2);
	return live;
}

/* Run `part` from absolute pos over at most `span` bytes. On success *ends is a
 * set relative to pos (allocated in the arena: the caller restores m->top). */
static bool part_at(struct run *r, struct matcher *m, const struct pattern *p, struct pseq part,
		    const uint8_t *data, size_t len, size_t pos, uint64_t span, uint64_t **ends)
{
	if (span > WARD_MAX_SEGMENT_SPAN)
		span = WARD_MAX_SEGMENT_SPAN;
	r->m = m;
	r->p = p;
	r->data = data;
	r->len = len;
	r->base = pos;
	r->W = (size_t)span + 1;
	r->nw = (r->W + 63) / 64;
	uint64_t *in = bs_get(r), *out = bs_get(r);
	if (!in || !out)
		return false;
	bs_set(in, 0);
	if (part.count == 0) {
		bs_set(out, 0);
		*ends = out;
		return true;
	}
	if (!seq_run(r, part, in, out, 0))
		return false;
	*ends = out;
	return true;
}

/* ---- one segment ---- */

struct sigctx {
	struct matcher *m;
	const struct ward_db *db;
	const struct bodysig *b;
	const struct sigplan *sp;
	const uint8_t *data;
	size_t len;
};

static const struct litplan *seglit(const struct sigctx *c, uint32_t j)
{
	return &c->db->seglits[c->sp->seg_base + j];
}

/* Fast path: compare fixed-length nodes (bytes, "??", {n}) directly, forward
 * from pos over nodes[0..count) or backward from pos over them in reverse.
 * Returns -1 on a mismatch, 0 when every node was fixed and matched (*edge is
 * then the end, or the start going backward), 1 when it stopped at the first
 * variable node (everything before it matched). Most official patterns are
 * runs of exact bytes, so most candidates are decided here without bitsets. */
static int fixed_fwd(const struct sigctx *c, const struct pnode *nodes, uint32_t count, size_t pos,
		     size_t *edge)
{
	for (uint32_t i = 0; i < count; i++) {
		const struct pnode *n = &nodes[i];
		if (n->kind == PN_BYTE) {
			if (pos >= c->len || !byte_ok(n, c->data[pos]))
				return -1;
			pos++;
		} else if (n->kind == PN_GAP && n->a == n->b) {
			if (n->a > c->len - pos)
				return -1;
			pos += n->a;
		} else {
			return 1;
		}
	}
	*edge = pos;
	return 0;
}

static int fixed_back(const struct sigctx *c, const struct pnode *nodes, uint32_t count, size_t pos,
		      size_t *edge)
{
	for (uint32_t i = count; i-- > 0;) {
		const struct pnode *n = &nodes[i];
		if (n->kind == PN_BYTE) {
			if (pos == 0 || !byte_ok(n, c->data[pos - 1]))
				return -1;
			pos--;
		} else if (n->kind == PN_GAP && n->a == n->b) {
			if (n->a > pos)
				return -1;
			pos -= n->a;
		} else {
			return 1;
		}
	}
	*edge = pos;
	return 0;
}

/* Occurrence of segment j whose literal sits at a: the largest start in
 * [slo, shi] and the smallest end. */
static bool seg_at_lit(const struct sigctx *c, uint32_t j, size_t a, size_t slo, size_t shi,
		       size_t *s_out, size_t *e_out)
{
	const struct litplan *lp = seglit(c, j);
	const struct psegment *seg = &c->b->pat.segs[j];
	struct run r;
	size_t mark = c->m->top;
	bool ok = false;
	if (a < lp->pre_min || lp->len > c->len - a)
		return false;
	for (uint32_t k = 0; k < lp->len; k++)
		if (!lit_eq(c->data[a + k], lp->bytes[k], lp->nocase))
			return false;
	if (lp->nocase) {
		/* nocase applies to letters only: recheck exactness of the rest */
		const struct pnode *ln = &c->b->pat.nodes[seg->body.first + lp->node];
		for (uint32_t k = 0; k < lp->len; k++)
			if (!byte_ok(&ln[k], c->data[a + k]))
				return false;
	}
	uint64_t *ends;
	struct pseq suf = {seg->body.first + lp->node + lp->len,
			   seg->body.count - lp->node - lp->len};
	const struct pnode *sn = &c->b->pat.nodes[suf.first];
	size_t e, fs = 0;
	int fx = fixed_fwd(c, sn, suf.count, a + lp->len, &e);
	if (fx < 0)
		return false;
	/* The part before the literal, checked backward the same way. */
	int bx = fixed_back(c, &c->b->pat.nodes[seg->body.first], lp->node, a, &fs);
	if (bx < 0)
		return false;
	if (fx == 1) {
		if (!part_at(&r, c->m, &c->b->pat, suf, c->data, c->len, a + lp->len, lp->suf_max,
			     &ends))
			goto out;
		if (!bs_first(ends, r.nw, &e))
			goto out;
		e += a + lp->len;
	}
	if (bx == 0) {
		/* Fixed prefix: exactly one start. */
		if (fs < slo || fs > shi)
			goto out;
		*s_out = fs;
		*e_out = e;
		ok = true;
		goto out;
	}
	/* Starts: a - pre_max .. a - pre_min, clipped to the window. */
	size_t hi = a - lp->pre_min;
	size_t lo = a >= lp->pre_max ? a - lp->pre_max : 0;
	if (hi > shi)
		hi = shi;
	if (lo < slo)
		lo = slo;
	if (lo > hi)
		goto out;
	if (lp->pre_max == 0) {
		*s_out = a;
		*e_out = e;
		ok = true;
		goto out;
	}
	struct pseq pre = {seg->body.first, lp->node};
	for (size_t s = hi;; s--) {
		struct run pr;
		size_t m2 = c->m->top;
		uint64_t *pe;
		bool hit =
			part_at(&pr, c->m, &c->b->pat, pre, c->data, c->len, s, lp->pre_max, &pe) &&
			a - s < pr.W && bs_test(pe, a - s);
		c->m->top = m2;
		if (hit) {
			*s_out = s;
			*e_out = e;
			ok = true;
			break;
		}
		if (s == lo || c->m->expired)
			break;
	}
out:
	c->m->top = mark;
	return ok;
}

/* Segment j tried at start s (no literal): smallest end. */
static bool seg_at_start(const struct sigctx *c, uint32_t j, size_t s, size_t *e_out)
{
	const struct psegment *seg = &c->b->pat.segs[j];
	const struct litplan *lp = seglit(c, j);
	struct run r;
	size_t mark = c->m->top;
	uint64_t *ends;
	bool ok = false;
	if (seg->minlen > c->len - s)
		return false;
	if (lp->first_valid) {
		/* One byte test rejects almost every start before the full run. */
		if (lp->first_off >= c->len - s)
			return false;
		uint8_t d = c->data[s + lp->first_off];
		if (lp->first_nocase ? !lit_eq(d, lp->first_val, true)
				     : (uint8_t)(d & lp->first_mask) != lp->first_val)
			return false;
	}
	if (part_at(&r, c->m, &c->b->pat, seg->body, c->data, c->len, s, seg->maxlen, &ends)) {
		size_t e;
		if (bs_first(ends, r.nw, &e)) {
			*e_out = s + e;
			ok = true;
		}
	}
	c->m->top = mark;
	return ok;
}

/* First occurrence of the literal starting in [from, last]. */
static bool lit_find_fwd(const struct sigctx *c, const struct litplan *lp, size_t from, size_t last,
			 size_t *a)
{
	if (from >= c->len || lp->len > c->len - from || from > last)
		return false;
	/* The window ends where an occurrence starting at last ends: a signature
	 * pinned to one offset searches a few bytes, not the rest of the file. */
	size_t end = c->len;
	if (last < c->len - lp->len)
		end = last + lp->len;
	if (!lp->nocase) {
		/* memchr for the literal's least common byte, then compare: glibc's
		 * memmem slows to a crawl on a literal such as 00 00 41 in the runs
		 * of zeros that fill executables (0.35 s for one signature over
		 * 300 MB of PE files, against 90,000 occurrences). */
		const uint8_t *p = c->data + from + lp->rare,
			      *stop = c->data + end - lp->len + lp->rare;
		while (p <= stop && (p = memchr(p, lp->bytes[lp->rare], (size_t)(stop - p) + 1))) {
			const uint8_t *q = p - lp->rare;
			if (memcmp(q, lp->bytes, lp->len) == 0) {
				*a = (size_t)(q - c->data);
				return true;
			}
			p++;
		}
		return false;
	}
	for (size_t i = from; i + lp->len <= end; i++) {
		uint32_t k = 0;
		while (k < lp->len && lit_eq(c->data[i + k], lp->bytes[k], true))
			k++;
		if (k == lp->len) {
			*a = i;
			return true;
		}
	}
	return false;
}

static bool lit_find_back(const struct sigctx *c, const struct litplan *lp, size_t upto,
			  size_t floor, size_t *a)
{
	if (lp->len > c->len)
		return false;
	if (upto > c->len - lp->len)
		upto = c->len - lp->len;
	for (size_t i = upto;; i--) {
		if (i < floor)
			return false;
		uint32_t k = 0;
		while (k < lp->len && lit_eq(c->data[i + k], lp->bytes[k], lp->nocase))
			k++;
		if (k == lp->len) {
			*a = i;
			return true;
		}
		if (i == 0)
			return false;
	}
}

static struct segmemo *memo_of(const struct sigctx *c, uint32_t sig, uint32_t j)
{
	uint32_t base = c->m->memo_base[sig];
	if (base == UINT32_MAX)
		return NULL;
	struct segmemo *mm = &c->m->memo[base + j];
	if (mm->gen != c->m->gen) {
		memset(mm, 0, sizeof *mm);
		mm->gen = c->m->gen;
		mm->f_fail = SIZE_MAX;
		mm->b_fail = 0;
		mm->b_ok = false;
	}
	return mm;
}

/* Earliest-ending occurrence of segment j with start in [from, shi]. */
static bool seg_fwd(const struct sigctx *c, uint32_t sig, uint32_t j, size_t from, size_t shi,
		    size_t *s_out, size_t *e_out)
{
	struct segmemo *mm = shi == SIZE_MAX ? memo_of(c, sig, j) : NULL;
	if (mm) {
		if (from >= mm->f_fail)
			return false;
		if (mm->f_ok && from >= mm->f_from && from <= mm->f_start) {
			*s_out = mm->f_start;
			*e_out = mm->f_end;
			return true;
		}
	}
	const struct litplan *lp = seglit(c, j);
	const struct psegment *seg = &c->b->pat.segs[j];
	bool found = false;
	size_t bs = 0, be = SIZE_MAX;
	if (lp->valid) {
		size_t a, at, last;
		if (ck_add(from, lp->pre_min, &at))
			return false;
		/* A literal past shi + pre_max cannot belong to a start <= shi. */
		if (ck_add(shi, lp->pre_max, &last))
			last = SIZE_MAX;
		while (lit_find_fwd(c, lp, at, last, &a)) {
			if (found && a + lp->len + lp->suf_min >= be)
				break; /* every later occurrence ends later */
			if (a - lp->pre_min > shi && a >= lp->pre_max && a - lp->pre_max > shi)
				break;
			size_t s, e;
			if (seg_at_lit(c, j, a, from, shi, &s, &e) && e < be) {
				found = true;
				bs = s;
				be = e;
			}
			if (c->m->expired)
				return false;
			at = a + 1;
		}
	} else {
		for (size_t s = from; s <= shi && s < c->len; s++) {
			if (found && s + seg->minlen >= be)
				break;
			size_t e;
			if (seg_at_start(c, j, s, &e) && e < be) {
				found = true;
				bs = s;
				be = e;
			}
			if (c->m->expired)
				return false;
		}
	}
	if (mm) {
		if (!found) {
			if (from < mm->f_fail)
				mm->f_fail = from;
		} else {
			mm->f_ok = true;
			mm->f_from = from;
			mm->f_start = bs;
			mm->f_end = be;
		}
	}
	if (found) {
		*s_out = bs;
		*e_out = be;
	}
	return found;
}

/* Latest-starting occurrence of segment j with end <= limit and start in [slo, shi]. */
static bool seg_back(const struct sigctx *c, uint32_t sig, uint32_t j, size_t limit, size_t slo,
		     size_t shi, size_t *s_out, size_t *e_out)
{
	const struct litplan *lp = seglit(c, j);
	const struct psegment *seg = &c->b->pat.segs[j];
	struct segmemo *mm = memo_of(c, sig, j);
	if (mm && (mm->b_lo != slo || mm->b_hi != shi)) {
		/* Remembered results hold for one start window only. */
		mm->b_ok = false;
		mm->b_fail = 0;
	}
	if (mm && mm->b_lo == slo && mm->b_hi == shi) {
		if (mm->b_fail && limit <= mm->b_fail - 1)
			return false;
		if (mm->b_ok && limit >= mm->b_end && limit <= mm->b_limit) {
			*s_out = mm->b_start;
			*e_out = mm->b_end;
			return true;
		}
	}
	bool found = false;
	size_t fs = 0, fe = 0;
	if (limit < seg->minlen)
		goto done;
	if (lp->valid) {
		if (limit < (size_t)lp->len + lp->suf_min)
			goto done;
		size_t upto = limit - lp->len - lp->suf_min;
		size_t cap;
		if (!ck_add(shi, lp->pre_max, &cap) && upto > cap)
			upto = cap;
		size_t floor = slo + lp->pre_min < slo ? SIZE_MAX : slo + lp->pre_min;
		size_t a;
		while (lit_find_back(c, lp, upto, floor, &a)) {
			size_t s, e;
			if (seg_at_lit(c, j, a, slo, shi, &s, &e) && e <= limit) {
				found = true;
				fs = s;
				fe = e;
				break;
			}
			if (a == 0 || c->m->expired)
				break;
			upto = a - 1;
		}
	} else {
		size_t top = limit - seg->minlen;
		if (top > shi)
			top = shi;
		for (size_t s = top;; s--) {
			if (s < slo)
				break;
			size_t e;
			if (seg_at_start(c, j, s, &e) && e <= limit) {
				found = true;
				fs = s;
				fe = e;
				break;
			}
			if (s == 0 || c->m->expired)
				break;
		}
	}
done:
	if (mm) {
		mm->b_lo = slo;
		mm->b_hi = shi;
		if (!found) {
			if (limit + 1 > mm->b_fail)
				mm->b_fail = limit + 1;
		} else {
			mm->b_ok = true;
			mm->b_limit = limit;
			mm->b_start = fs;
			mm->b_end = fe;
		}
	}
	if (found) {
		*s_out = fs;
		*e_out = fe;
	}
	return found;
}

static bool fullword_ok(const struct sigctx *c, size_t s, size_t e)
{
	if (!(c->b->pat.flags & PAT_FULLWORD))
		return true;
	if (s > 0 && is_alnum(c->data[s - 1]))
		return false;
	if (e < c->len && is_alnum(c->data[e]))
		return false;
	return true;
}

/* Complete a match given segment k's occurrence [sk, ek). */
static bool complete(const struct sigctx *c, uint32_t sig, uint32_t k, size_t sk, size_t ek,
		     size_t lo, size_t hi, size_t *start, size_t *end)
{
	const struct pattern *p = &c->b->pat;
	size_t s0 = sk, limit = sk;
	for (uint32_t j = k; j-- > 0;) {
		uint32_t gap = p->segs[j + 1].gap_before;
		if (limit < gap)
			return false;
		limit -= gap;
		size_t sj, ej;
		if (!seg_back(c, sig, j, limit, j == 0 ? lo : 0, j == 0 ? hi : SIZE_MAX, &sj, &ej))
			return false;
		limit = sj;
		s0 = sj;
	}
	size_t from = ek;
	for (uint32_t j = k + 1; j < p->nsegs; j++) {
		size_t sj, ej;
		if (ck_add(from, p->segs[j].gap_before, &from) || from > c->len)
			return false;
		if (!seg_fwd(c, sig, j, from, SIZE_MAX, &sj, &ej))
			return false;
		from = ej;
	}
	if (!fullword_ok(c, s0, from))
		return false;
	*start = s0;
	*end = from;
	return true;
}

bool match_anchor(struct matcher *m, const struct ward_db *db, uint32_t sig, const uint8_t *data,
		  size_t len, size_t a, size_t lo, size_t hi, size_t *start, size_t *end)
{
	struct sigctx c = {m,    db, &VEC_AT(&db->set.body, struct bodysig, sig), &db->plans[sig],
			   data, len};
	uint32_t k = c.sp->anchor_seg;
	if (k >= c.b->pat.nsegs)
		return false;
	size_t sk, ek;
	if (!seg_at_lit(&c, k, a, k == 0 ? lo : 0, k == 0 ? hi : SIZE_MAX, &sk, &ek))
		return false;
	return complete(&c, sig, k, sk, ek, lo, hi, start, end);
}

bool match_find(struct matcher *m, const struct ward_db *db, uint32_t sig, const uint8_t *data,
		size_t len, size_t lo, size_t hi, size_t *start, size_t *end)
{
	struct sigctx c = {m,    db, &VEC_AT(&db->set.body, struct bodysig, sig), &db->plans[sig],
			   data, len};
	if (c.b->pat.nsegs == 0)
		return false;
	size_t from = lo;
	while (from <= hi && from < len) {
		size_t s0, e0;
		if (!seg_fwd(&c, sig, 0, from, hi, &s0, &e0))
			return false;
		if (complete(&c, sig, 0, s0, e0, lo, hi, start, end))
			return true;
		if (m->expired)
			return false;
		/* Only a fullword miss can be fixed by a later first segment; a
		 * failed forward search cannot succeed from further on. */
		if (!(c.b->pat.flags & PAT_FULLWORD))
			return false;
		from = s0 + 1;
	}
	return false;
}
