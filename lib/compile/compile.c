/*
 * Parsed signatures -> immutable compiled database (see db.h for the design).
 *
 * Anchor choice: for every segment of every body pattern we find the best
 * window of at most WARD_MAX_ANCHOR exact bytes ("literal"); the segment whose
 * literal scores highest carries the signature's Vectorscan anchor, the other
 * segments' literals speed up the verifier's searches. The score prefers long
 * windows of uncommon bytes: runs of 00, FF, spaces or NOPs would make
 * candidates on every page of a binary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/cache.h"
#include "compile/db.h"
#include "compile/image.h"
#include "formats/formats.h"

/* ---- lengths of pattern pieces ---- */

static void seq_len(const struct pattern *p, struct pseq s, unsigned depth, uint64_t *mn,
		    uint64_t *mx);

static void node_len(const struct pattern *p, const struct pnode *n, unsigned depth, uint64_t *mn,
		     uint64_t *mx)
{
	switch (n->kind) {
	case PN_BYTE:
		*mn = *mx = 1;
		return;
	case PN_CLASS:
		/* zero-width at the data's edges; (L) may take "\r\n" */
		*mn = 0;
		*mx = n->val == PC_LINE ? 2 : 1;
		return;
	case PN_GAP:
		*mn = n->a;
		*mx = n->b;
		return;
	case PN_ALT: {
		uint64_t lo = UINT64_MAX, hi = 0;
		if (depth > WARD_MAX_ALT_DEPTH + 1 || n->b == 0) {
			*mn = *mx = 0;
			return;
		}
		for (uint32_t i = 0; i < n->b; i++) {
			uint64_t a, b;
			seq_len(p, p->seqs[n->a + i], depth + 1, &a, &b);
			if (a < lo)
				lo = a;
			if (b > hi)
				hi = b;
		}
		*mn = lo;
		*mx = hi;
		return;
	}
	}
	*mn = *mx = 0;
}

static void seq_len(const struct pattern *p, struct pseq s, unsigned depth, uint64_t *mn,
		    uint64_t *mx)
{
	uint64_t lo = 0, hi = 0;
	for (uint32_t i = 0; i < s.count; i++) {
		uint64_t a, b;
		node_len(p, &p->nodes[s.first + i], depth, &a, &b);
		lo += a;
		hi += b;
	}
	*mn = lo;
	*mx = hi;
}

/* ---- literal choice ---- */

/* Bytes that fill binaries and text (padding, NOPs, int3, spaces) weigh
 * least, letters and digits less than other bytes. Inline: the load plans
 * every byte of every pattern. */
static inline unsigned byte_weight(uint8_t b)
{
	switch (b) {
	case 0x00:
		return 1;
	case 0xff:
	case 0x90:
	case 0xcc:
	case 0x20:
	case 0x0a:
	case 0x0d:
		return 3;
	default:
		break;
	}
	if ((b >= 'a' && b <= 'z') || (b >= '0' && b <= '9'))
		return 6;
	return 8;
}

static bool is_exact(const struct pnode *n) { return n->kind == PN_BYTE && n->mask == 0xff; }

/* Best literal window in one segment. */
static void plan_segment(const struct pattern *p, const struct psegment *seg, struct litplan *lp)
{
	memset(lp, 0, sizeof *lp);
	lp->nocase = (p->flags & PAT_NOCASE) != 0;
	uint64_t pmin = 0, pmax = 0; /* bytes before node i */
	unsigned best = 0;
	const struct pnode *nodes = &p->nodes[seg->body.first];
	uint32_t i = 0;
	while (i < seg->body.count) {
		if (!is_exact(&nodes[i])) {
			uint64_t a, b;
			node_len(p, &nodes[i], 0, &a, &b);
			pmin += a;
			pmax += b;
			i++;
			continue;
		}
		uint32_t run = i;
		while (run < seg->body.count && is_exact(&nodes[run]))
			run++;
		uint32_t rlen = run - i;
		/* Slide a window of up to WARD_MAX_ANCHOR over the run, keeping its
		 * score as a running sum (one pass over the run). */
		uint32_t wl0 = rlen < WARD_MAX_ANCHOR ? rlen : WARD_MAX_ANCHOR;
		unsigned score = 0;
		for (uint32_t k = 0; k < wl0; k++)
			score += byte_weight(nodes[i + k].val);
		for (uint32_t w = 0; w + WARD_MIN_ANCHOR <= rlen; w++) {
			uint32_t wl = rlen - w < WARD_MAX_ANCHOR ? rlen - w : WARD_MAX_ANCHOR;
			if (w > 0) {
				/* drop the byte that left; add the one that entered, if any */
				score -= byte_weight(nodes[i + w - 1].val);
				if (w + wl0 - 1 < rlen && wl == wl0)
					score += byte_weight(nodes[i + w + wl0 - 1].val);
			}
			if (score > best && pmax + w <= UINT32_MAX) {
				best = score;
				lp->valid = true;
				lp->node = i + w;
				lp->len = wl;
				lp->pre_min = (uint32_t)(pmin + w);
				lp->pre_max = (uint32_t)(pmax + w);
			}
			if (wl < WARD_MAX_ANCHOR)
				break; /* shorter windows further right only lose bytes */
		}
		pmin += rlen;
		pmax += rlen;
		i = run;
	}
	if (lp->valid) {
		/* Vectorscan's literal API (5.4.9) rejects literals that start with
		 * 0x00: drop leading zero bytes from the window; a literal that is
		 * then too short still serves the verifier's memmem searches. */
		uint32_t z = 0;
		while (z < lp->len && nodes[lp->node + z].val == 0x00)
			z++;
		if (z < lp->len && lp->len - z >= WARD_MIN_ANCHOR) {
			lp->node += z;
			lp->len -= z;
			lp->pre_min += z;
			lp->pre_max += z;
			lp->anchorable = true;
		}
		for (uint32_t k = 0; k < lp->len; k++) {
			lp->bytes[k] = nodes[lp->node + k].val;
			if (byte_weight(lp->bytes[k]) > byte_weight(lp->bytes[lp->rare]))
				lp->rare = (uint8_t)k;
		}
		uint64_t smin, smax;
		struct pseq suf = {seg->body.first + lp->node + lp->len,
				   seg->body.count - lp->node - lp->len};
		seq_len(p, suf, 0, &smin, &smax);
		lp->suf_min = (uint32_t)smin;
		lp->suf_max = (uint32_t)smax;
	}
}

/* The first byte test at a fixed distance from the segment start. */
static void plan_first_byte(const struct pattern *p, const struct psegment *seg, struct litplan *lp)
{
	const struct pnode *nodes = &p->nodes[seg->body.first];
	uint64_t off = 0;
	for (uint32_t i = 0; i < seg->body.count; i++) {
		const struct pnode *n = &nodes[i];
		if (n->kind == PN_BYTE && n->mask != 0) {
			lp->first_valid = off <= UINT32_MAX;
			lp->first_off = (uint32_t)off;
			lp->first_val = (uint8_t)n->val;
			lp->first_mask = (uint8_t)n->mask;
			lp->first_nocase = (n->flags & PN_F_NOCASE) != 0;
			return;
		}
		if (n->kind == PN_BYTE)
			off += 1; /* "??" stored as a masked-out byte */
		else if (n->kind == PN_GAP && n->a == n->b)
			off += n->a;
		else
			return; /* variable length before any byte test */
	}
}

void pat_seq_len(const struct pattern *p, struct pseq s, uint64_t *mn, uint64_t *mx)
{
	seq_len(p, s, 0, mn, mx);
}

static unsigned plan_score(const struct litplan *lp)
{
	unsigned s = 0;
	for (uint32_t k = 0; k < lp->len; k++)
		s += byte_weight(lp->bytes[k]);
	return s;
}

/* ---- anchors ---- */

/* The target whose layers body signature i is searched in. */
static unsigned sig_target(const struct ward_db *db, uint32_t i)
{
	uint8_t t = VEC_AT(&db->set.body, struct bodysig, i).target;
	return t < TARGET__COUNT ? t : TARGET_ANY;
}

/* Does the offset pin the signature's start to a short window in every layer
 * (WARD_MAX_PINNED_WINDOW)? Such signatures are verified there directly. */
static bool offset_pinned(const struct sigoffset *o)
{
	switch (o->kind) {
	case OFF_ABS:
	case OFF_EOF:
	case OFF_EP_PLUS:
	case OFF_EP_MINUS:
	case OFF_SECTION:
	case OFF_LAST_SECTION:
		return !o->floating || o->maxshift <= WARD_MAX_PINNED_WINDOW;
	default:
		return false; /* '*', a whole section, or never resolving */
	}
}

struct anchor_key {
	uint8_t bytes[WARD_MAX_ANCHOR];
	uint8_t len;
	uint8_t nocase;
	uint8_t target; /* the signature's target: one Vectorscan database each */
	uint32_t sig;
};

static int anchor_key_cmp(const void *a, const void *b)
{
	const struct anchor_key *x = a, *y = b;
	if (x->target != y->target)
		return x->target < y->target ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (x->nocase != y->nocase)
		return x->nocase < y->nocase ? -1 : 1;
	int c = memcmp(x->bytes, y->bytes, x->len);
	if (c)
		return c;
	return x->sig < y->sig ? -1 : x->sig > y->sig;
}

static bool same_anchor(const struct anchor_key *x, const struct anchor_key *y)
{
	return x->target == y->target && x->len == y->len && x->nocase == y->nocase &&
	       memcmp(x->bytes, y->bytes, x->len) == 0;
}

/* The Vectorscan database of target t from n anchors (ids global): from the
 * cache when it holds it, else compiled (and stored). */
static ward_err build_target_db(struct ward_db *db, unsigned target, const char **exprs,
				const size_t *lens, const unsigned *flags, const unsigned *ids,
				unsigned n, bool *from_cache)
{
	uint8_t key[32];
	*from_cache = false;
	bool keyed = db->cache_dir && cache_key(exprs, lens, flags, ids, n, target, key) == WARD_OK;
	if (keyed) {
		memcpy(db->hs_key[target], key, sizeof key);
		db->hs_keyed[target] = true;
	}
	if (keyed && cache_load(db->cache_dir, key, &db->hs[target])) {
		*from_cache = true;
		return WARD_OK;
	}
	hs_compile_error_t *cerr = NULL;
	if (hs_compile_lit_multi(exprs, flags, ids, lens, n, HS_MODE_BLOCK, NULL, &db->hs[target],
				 &cerr) != HS_SUCCESS) {
		if (db->set.diag)
			db->set.diag(db->set.diag_ctx, WARD_EENGINE, NULL, 0,
				     cerr && cerr->message ? cerr->message
							   : "Vectorscan compile failed");
		hs_free_compile_error(cerr);
		db->hs[target] = NULL;
		return WARD_EENGINE;
	}
	if (keyed)
		(void)cache_store(db->cache_dir, key, db->hs[target]); /* best effort */
	return WARD_OK;
}

/* The test of a pinned signature's first byte test (plan_first_byte) at
 * the position its offset fixes, when the offset fixes one: an exact start
 * (not floating) at n or at EP+n. Nothing else is pinned often enough to
 * matter (the real sets: 745 at 0, 369 at EP+n). */
static void plan_pintest(const struct ward_db *db, uint32_t sig, struct pintest *pt)
{
	const struct bodysig *b = &VEC_AT(&db->set.body, struct bodysig, sig);
	const struct litplan *lp = &db->seglits[db->plans[sig].seg_base];
	uint64_t add;
	memset(pt, 0, sizeof *pt);
	if (b->pat.nsegs == 0 || !lp->first_valid || lp->first_nocase || b->offset.floating ||
	    (b->offset.kind != OFF_ABS && b->offset.kind != OFF_EP_PLUS) ||
	    ck_add64(b->offset.n, lp->first_off, &add) || add > UINT32_MAX)
		return;
	pt->add = (uint32_t)add;
	pt->kind = b->offset.kind == OFF_ABS ? PIN_ABS : PIN_EP;
	pt->mask = lp->first_mask;
	pt->val = lp->first_val;
}

/* Order the unanchored signatures by target (stable: by index within one),
 * so a layer walks only the lists of its targets. */
static ward_err group_unanchored(struct ward_db *db)
{
	uint32_t n = db->nunanchored, *first = db->unanch_first;
	uint32_t *sorted = w_calloc(n ? n : 1, sizeof *sorted);
	if (!sorted)
		return WARD_ENOMEM;
	memset(db->unanch_first, 0, sizeof db->unanch_first);
	for (uint32_t i = 0; i < n; i++)
		first[sig_target(db, db->unanchored[i]) + 1]++;
	for (unsigned t = 0; t < TARGET__COUNT; t++)
		first[t + 1] += first[t];
	uint32_t fill[TARGET__COUNT];
	memcpy(fill, first, sizeof fill);
	for (uint32_t i = 0; i < n; i++)
		sorted[fill[sig_target(db, db->unanchored[i])]++] = db->unanchored[i];
	memcpy(db->unanchored, sorted, (size_t)n * sizeof *sorted);
	w_free(sorted);
	db->unanch_test = w_calloc(n ? n : 1, sizeof *db->unanch_test);
	if (!db->unanch_test)
		return WARD_ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		plan_pintest(db, db->unanchored[i], &db->unanch_test[i]);
	return WARD_OK;
}

static ward_err build_anchors(struct ward_db *db)
{
	ward_err err = WARD_ENOMEM;
	size_t nbody = db->set.body.len;
	struct anchor_key *keys = NULL;
	const char **exprs = NULL, **cexprs = NULL;
	size_t *lens = NULL, *clens = NULL;
	unsigned *flags = NULL, *ids = NULL, *cflags = NULL, *cids = NULL;
	size_t nkeys = 0, nunanch = 0;

	/* Segment plans. */
	size_t nseg = 0;
	for (size_t i = 0; i < nbody; i++) {
		const struct bodysig *b = &VEC_AT(&db->set.body, struct bodysig, i);
		if (ck_add(nseg, b->pat.nsegs, &nseg))
			return WARD_ENOMEM;
	}
	db->plans = w_calloc(nbody ? nbody : 1, sizeof *db->plans);
	db->seglits = w_calloc(nseg ? nseg : 1, sizeof *db->seglits);
	keys = w_calloc(nbody ? nbody : 1, sizeof *keys);
	db->unanchored = w_calloc(nbody ? nbody : 1, sizeof *db->unanchored);
	if (!db->plans || !db->seglits || !keys || !db->unanchored)
		goto out;
	db->nseglits = nseg;

	size_t at = 0;
	for (size_t i = 0; i < nbody; i++) {
		const struct bodysig *b = &VEC_AT(&db->set.body, struct bodysig, i);
		struct sigplan *sp = &db->plans[i];
		sp->seg_base = (uint32_t)at;
		sp->anchor_seg = UINT32_MAX;
		unsigned best = 0;
		for (uint32_t s = 0; s < b->pat.nsegs; s++) {
			struct litplan *lp = &db->seglits[at + s];
			if (b->pat.segs[s].maxlen > db->max_span)
				db->max_span = b->pat.segs[s].maxlen;
			plan_segment(&b->pat, &b->pat.segs[s], lp);
			plan_first_byte(&b->pat, &b->pat.segs[s], lp);
			if (lp->valid && lp->anchorable && plan_score(lp) > best) {
				best = plan_score(lp);
				sp->anchor_seg = s;
			}
		}
		at += b->pat.nsegs;
		if (offset_pinned(&b->offset))
			sp->anchor_seg = UINT32_MAX;
		if (sp->anchor_seg == UINT32_MAX) {
			db->unanchored[nunanch++] = (uint32_t)i;
			continue;
		}
		const struct litplan *lp = &db->seglits[sp->seg_base + sp->anchor_seg];
		struct anchor_key *k = &keys[nkeys++];
		memcpy(k->bytes, lp->bytes, lp->len);
		k->len = (uint8_t)lp->len;
		k->nocase = lp->nocase;
		k->target = (uint8_t)sig_target(db, (uint32_t)i);
		k->sig = (uint32_t)i;
	}
	db->nunanchored = (uint32_t)nunanch;
	if (group_unanchored(db) != WARD_OK)
		goto out;

	qsort(keys, nkeys, sizeof *keys, anchor_key_cmp);
	size_t nanch = 0;
	for (size_t i = 0; i < nkeys; i++)
		if (i == 0 || !same_anchor(&keys[i], &keys[i - 1]))
			nanch++;
	db->anchor_first = w_calloc(nanch + 1, sizeof *db->anchor_first);
	db->anchor_sigs = w_calloc(nkeys ? nkeys : 1, sizeof *db->anchor_sigs);
	exprs = w_calloc(nanch ? nanch : 1, sizeof *exprs);
	lens = w_calloc(nanch ? nanch : 1, sizeof *lens);
	flags = w_calloc(nanch ? nanch : 1, sizeof *flags);
	ids = w_calloc(nanch ? nanch : 1, sizeof *ids);
	if (!db->anchor_first || !db->anchor_sigs || !exprs || !lens || !flags || !ids)
		goto out;
	size_t a = 0;
	for (size_t i = 0; i < nkeys; i++) {
		if (i == 0 || !same_anchor(&keys[i], &keys[i - 1])) {
			db->anchor_first[a] = (uint32_t)i;
			exprs[a] = (const char *)keys[i].bytes;
			lens[a] = keys[i].len;
			flags[a] = keys[i].nocase ? HS_FLAG_CASELESS : 0;
			ids[a] = (unsigned)a;
			if (keys[i].len > db->anchor_len_max)
				db->anchor_len_max = keys[i].len;
			a++;
		}
		db->anchor_sigs[i] = keys[i].sig;
	}
	db->anchor_first[nanch] = (uint32_t)nkeys;
	db->nanchors = (uint32_t)nanch;

	/* One database per target, so a file is searched only for the anchors
	 * of signatures that can apply to it: 88% of main.ldb is PE-only, and
	 * an ELF, a text or an HTML file need not pay for those. A layer
	 * matches target 0 and at most one other target, and one Vectorscan
	 * pass costs about the same whether it holds few literals or some
	 * thousands, so each target's database also holds target 0's anchors:
	 * one pass per layer. Keys are sorted by target first, so target 0's
	 * anchors are ids [0, n0) and every other target's one range. */
	size_t n0 = 0;
	while (n0 < nanch && keys[db->anchor_first[n0]].target == TARGET_ANY)
		n0++;
	bool all_cached = nanch > 0;
	if (n0 > 0) {
		bool cached;
		err = build_target_db(db, TARGET_ANY, exprs, lens, flags, ids, (unsigned)n0,
				      &cached);
		if (err)
			goto out;
		all_cached = cached;
	}
	cexprs = w_calloc(nanch ? nanch : 1, sizeof *cexprs);
	clens = w_calloc(nanch ? nanch : 1, sizeof *clens);
	cflags = w_calloc(nanch ? nanch : 1, sizeof *cflags);
	cids = w_calloc(nanch ? nanch : 1, sizeof *cids);
	if (!cexprs || !clens || !cflags || !cids) {
		err = WARD_ENOMEM;
		goto out;
	}
	memcpy(cexprs, exprs, n0 * sizeof *cexprs);
	memcpy(clens, lens, n0 * sizeof *clens);
	memcpy(cflags, flags, n0 * sizeof *cflags);
	memcpy(cids, ids, n0 * sizeof *cids);
	for (size_t lo = n0; lo < nanch;) {
		unsigned t = keys[db->anchor_first[lo]].target;
		size_t hi = lo + 1;
		while (hi < nanch && keys[db->anchor_first[hi]].target == t)
			hi++;
		size_t k = hi - lo; /* n0 + k <= nanch: the ranges are disjoint */
		memcpy(cexprs + n0, exprs + lo, k * sizeof *cexprs);
		memcpy(clens + n0, lens + lo, k * sizeof *clens);
		memcpy(cflags + n0, flags + lo, k * sizeof *cflags);
		memcpy(cids + n0, ids + lo, k * sizeof *cids);
		bool cached;
		err = build_target_db(db, t, cexprs, clens, cflags, cids, (unsigned)(n0 + k),
				      &cached);
		if (err)
			goto out;
		all_cached = all_cached && cached;
		lo = hi;
	}
	db->cache_hit = all_cached;
	db->counts[WARD_COUNT_ANCHORS] = nanch;
	db->counts[WARD_COUNT_UNANCHORED] = nunanch;
	err = WARD_OK;
out:
	/* exprs point into keys; all are compile-time scratch. */
	w_free(cexprs);
	w_free(clens);
	w_free(cflags);
	w_free(cids);
	w_free(exprs);
	w_free(lens);
	w_free(flags);
	w_free(ids);
	w_free(keys);
	return err;
}

/* ---- hash tables ---- */

static int hash_cmp(const void *a, const void *b)
{
	const struct hashsig *x = a, *y = b;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return memcmp(x->digest, y->digest, 32);
}

static ward_err build_hashes(struct ward_db *db)
{
	size_t n = db->set.hashes.len;
	const struct hashsig *all = db->set.hashes.items;
	size_t cnt[4][HASH__COUNT] = {{0}}; /* [scope or 3 = allow][kind] */
	for (size_t i = 0; i < n; i++) {
		unsigned row = all[i].allow ? 3u : all[i].scope;
		if (row > 3 || all[i].kind >= HASH__COUNT)
			return WARD_EINTERNAL;
		cnt[row][all[i].kind]++;
	}
	for (unsigned r = 0; r < 4; r++) {
		for (unsigned k = 0; k < HASH__COUNT; k++) {
			struct hashtab *t = r == 3 ? &db->allow[k] : &db->hashes[r][k];
			if (!cnt[r][k])
				continue;
			t->v = w_alloc_array(cnt[r][k], sizeof *t->v);
			if (!t->v)
				return WARD_ENOMEM;
		}
	}
	for (size_t i = 0; i < n; i++) {
		unsigned row = all[i].allow ? 3u : all[i].scope;
		struct hashtab *t =
			row == 3 ? &db->allow[all[i].kind] : &db->hashes[row][all[i].kind];
		t->v[t->n++] = all[i];
		if (all[i].size == HASH_SIZE_ANY)
			t->any_size = true;
	}
	for (unsigned r = 0; r < 4; r++)
		for (unsigned k = 0; k < HASH__COUNT; k++) {
			struct hashtab *t = r == 3 ? &db->allow[k] : &db->hashes[r][k];
			if (t->n > 1)
				qsort(t->v, t->n, sizeof *t->v, hash_cmp);
		}
	/* The tables hold the only copies the scanner reads. */
	vec_free(&db->set.hashes);
	return WARD_OK;
}

/* ---- PCRE ---- */

static ward_err build_pcre(struct ward_db *db)
{
	size_t n = db->set.pcre.len;
	if (!n)
		return WARD_OK;
	/* An array of pointers (pcre2_code *), one per PCRE subsignature. */
	db->pcre = w_calloc(n, sizeof *db->pcre); // NOLINT(bugprone-sizeof-expression)
	if (!db->pcre)
		return WARD_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct pcresig *ps = &VEC_AT(&db->set.pcre, struct pcresig, i);
		uint32_t opt = 0;
		if (ps->flags & PCRE_F_CASELESS)
			opt |= PCRE2_CASELESS;
		if (ps->flags & PCRE_F_DOTALL)
			opt |= PCRE2_DOTALL;
		if (ps->flags & PCRE_F_MULTILINE)
			opt |= PCRE2_MULTILINE;
		if (ps->flags & PCRE_F_EXTENDED)
			opt |= PCRE2_EXTENDED;
		if (ps->flags & PCRE_F_ANCHORED)
			opt |= PCRE2_ANCHORED;
		if (ps->flags & PCRE_F_DOLLAR_END)
			opt |= PCRE2_DOLLAR_ENDONLY;
		if (ps->flags & PCRE_F_UNGREEDY)
			opt |= PCRE2_UNGREEDY;
		int ec;
		PCRE2_SIZE eo;
		db->pcre[i] = pcre2_compile((PCRE2_SPTR)ps->regex, PCRE2_ZERO_TERMINATED, opt, &ec,
					    &eo, NULL);
		if (!db->pcre[i]) {
			/* The logical signature can then never match: say so, go on. */
			char msg[256], why[160];
			pcre2_get_error_message(ec, (PCRE2_UCHAR *)why, sizeof why);
			const struct logicsig *ls =
				&VEC_AT(&db->set.logical, struct logicsig, ps->logical);
			snprintf(msg, sizeof msg, "%s: PCRE subsignature %u does not compile: %s",
				 strpool_get(&db->set.names, ls->name), ps->subsig, why);
			if (db->set.diag)
				db->set.diag(db->set.diag_ctx, WARD_EENGINE, NULL, 0, msg);
			ward_err e = sigset_unsupported(&db->set, "PCRE that PCRE2 rejects");
			if (e)
				return e;
			continue;
		}
		/* JIT makes PCRE subsignatures an order of magnitude faster; without
		 * it (no JIT on this platform) the interpreter is used. */
		(void)pcre2_jit_compile(db->pcre[i], PCRE2_JIT_COMPLETE);
	}
	return WARD_OK;
}

/* ---- logical signature side tables ---- */

/* The count cap (db.h: ldb_count_cap) of an expression, at least cap. */
static uint32_t count_cap(const struct lnode *expr, uint32_t nexpr, uint32_t cap)
{
	for (uint32_t k = 0; k < nexpr; k++) {
		const struct lnode *n = &expr[k];
		if (n->kind != LN_EQ && n->kind != LN_GT && n->kind != LN_LT)
			continue;
		uint32_t c = n->x >= WARD_MAX_SUBSIG_MATCHES ? WARD_MAX_SUBSIG_MATCHES : n->x + 1;
		if (c > cap)
			cap = c;
	}
	return cap;
}

static ward_err build_logical(struct ward_db *db)
{
	size_t nl = db->set.logical.len;
	uint32_t zero[WARD_MAX_SUBSIGS] = {0};
	db->ldb_always = w_calloc(nl ? nl : 1, sizeof *db->ldb_always);
	db->ldb_extra_first = w_calloc(nl + 1, sizeof *db->ldb_extra_first);
	size_t nextra = db->set.pcre.len + db->set.bytecmp.len;
	db->ldb_extra_list = w_calloc(nextra ? nextra : 1, sizeof *db->ldb_extra_list);
	if (!db->ldb_always || !db->ldb_extra_first || !db->ldb_extra_list)
		return WARD_ENOMEM;
	db->ldb_count_cap = w_calloc(nl ? nl : 1, sizeof *db->ldb_count_cap);
	if (!db->ldb_count_cap)
		return WARD_ENOMEM;
	for (size_t i = 0; i < nl; i++) {
		const struct logicsig *ls = &VEC_AT(&db->set.logical, struct logicsig, i);
		if (!ls->unsupported && ls->nexpr && logic_eval(ls->expr, ls->nexpr, zero))
			db->ldb_always[db->nldb_always++] = (uint32_t)i;
		db->ldb_count_cap[i] = count_cap(ls->expr, ls->nexpr, 1);
	}
	for (size_t i = 0; i < db->set.pcre.len; i++) {
		const struct pcresig *ps = &VEC_AT(&db->set.pcre, struct pcresig, i);
		db->ldb_count_cap[ps->logical] =
			count_cap(ps->trigger, ps->ntrigger, db->ldb_count_cap[ps->logical]);
	}
	/* Counting sort of PCRE and byte-compare subsignatures by owner. */
	uint32_t *cnt = db->ldb_extra_first;
	for (size_t i = 0; i < db->set.pcre.len; i++)
		cnt[VEC_AT(&db->set.pcre, struct pcresig, i).logical + 1]++;
	for (size_t i = 0; i < db->set.bytecmp.len; i++)
		cnt[VEC_AT(&db->set.bytecmp, struct bytecmpsig, i).logical + 1]++;
	for (size_t i = 0; i < nl; i++)
		cnt[i + 1] += cnt[i];
	uint32_t *fill = w_calloc(nl ? nl : 1, sizeof *fill);
	if (!fill)
		return WARD_ENOMEM;
	for (size_t i = 0; i < db->set.pcre.len; i++) {
		uint32_t l = VEC_AT(&db->set.pcre, struct pcresig, i).logical;
		db->ldb_extra_list[cnt[l] + fill[l]++] = (uint32_t)i;
	}
	for (size_t i = 0; i < db->set.bytecmp.len; i++) {
		uint32_t l = VEC_AT(&db->set.bytecmp, struct bytecmpsig, i).logical;
		db->ldb_extra_list[cnt[l] + fill[l]++] = (1u << 31) | (uint32_t)i;
	}
	w_free(fill);
	return WARD_OK;
}

/* Everything but the PCRE2 programs, which an image does not hold. */
static ward_err db_compile(struct ward_db *db)
{
	ward_err e;
	/* Loading is over: give back the vectors' growth slack (up to half). */
	vec_shrink(&db->set.body, sizeof(struct bodysig));
	vec_shrink(&db->set.logical, sizeof(struct logicsig));
	vec_shrink(&db->set.pcre, sizeof(struct pcresig));
	if ((e = build_hashes(db)) || (e = build_anchors(db)) || (e = build_logical(db)))
		return e;
	return WARD_OK;
}

/* The PCRE2 programs and the final counts: after db_compile or image_load. */
static ward_err db_finish(struct ward_db *db)
{
	ward_err e = build_pcre(db);
	if (e)
		return e;
	db->counts[WARD_COUNT_CACHED] = db->image ? 2 : db->cache_hit ? 1 : 0;
	for (unsigned i = 0; i < WARD_COUNT__MAX; i++)
		if (i != WARD_COUNT_ANCHORS && i != WARD_COUNT_UNANCHORED && i != WARD_COUNT_CACHED)
			/* BAD_FILES is counted in set.counts by ward_db_load */
			db->counts[i] = db->set.counts[i];
	return WARD_OK;
}

/* ---- public API ---- */

/* The load's diagnostics go to the caller and into the image (image.c). */
struct diag_rec {
	ward_diag_fn fn;
	void *ctx;
	dbuf kept;
	bool overflow; /* did not all fit: the image is not stored */
};

static void record_diag(void *vctx, ward_err code, const char *file, unsigned long line,
			const char *msg)
{
	struct diag_rec *r = vctx;
	if (!r->overflow && !image_diag_add(&r->kept, code, file, line, msg))
		r->overflow = true;
	if (r->fn)
		r->fn(r->ctx, code, file, line, msg);
}

/* From the text: parse every path, compile, and store the image when md
 * (the image key begun by image_key_begin; freed here) is given. */
static ward_err load_text(struct ward_db *db, const char *const *paths, size_t npaths,
			  struct evp_md_ctx_st *md)
{
	ward_err err = WARD_OK;
	uint8_t key[32];
	struct diag_rec rec = {.fn = db->set.diag, .ctx = db->set.diag_ctx};
	dbuf_init(&rec.kept, WARD_MAX_IMAGE_DIAGS);
	if (md) {
		db->set.key_md = md;
		db->set.diag = record_diag;
		db->set.diag_ctx = &rec;
	}
	for (size_t i = 0; i < npaths; i++) {
		err = db_load_path(&db->set, paths[i]);
		/* A bad file is reported (by the loader) and skipped; resource
		 * failures stop. */
		if (err == WARD_ENOMEM || err == WARD_ELIMIT || err == WARD_EINTERNAL)
			goto out;
		if (err != WARD_OK)
			db->set.counts[WARD_COUNT_BAD_FILES]++;
	}
	sigset_apply_ignores(&db->set);
	err = db_compile(db);
out:
	db->set.key_md = NULL;
	db->set.diag = rec.fn;
	db->set.diag_ctx = rec.ctx;
	if (md && image_key_end(md, err != WARD_OK || db->set.key_failed, key) && !rec.overflow)
		(void)image_store(db->cache_dir, key, db, &rec.kept); /* best effort */
	dbuf_free(&rec.kept);
	return err;
}

ward_err ward_db_load(const char *const *paths, size_t npaths, const ward_load_opts *opts,
		      ward_db **out)
{
	ward_err err = WARD_ENOMEM;
	uint8_t key[32];
	*out = NULL;
	if (!paths && npaths)
		return WARD_EINVAL;
	struct ward_db *db = w_calloc(1, sizeof *db);
	if (!db)
		return WARD_ENOMEM;
	sigset_init(&db->set, opts);
	db->cache_dir = opts && opts->cache_dir ? opts->cache_dir : NULL;
	bool from_image = db->cache_dir && image_key(paths, npaths, opts, key) &&
			  image_load(db->cache_dir, key, db);
	if (!from_image) {
		err = load_text(db, paths, npaths,
				db->cache_dir ? image_key_begin(paths, npaths, opts) : NULL);
		if (err)
			goto out;
	}
	err = db_finish(db);
	if (err)
		goto out;
	db->cache_dir = NULL; /* the caller's string: not kept past the call */
	*out = db;
	db = NULL;
out:
	ward_db_free(db);
	return err;
}

void ward_db_free(ward_db *db)
{
	if (!db)
		return;
	if (db->pcre)
		for (size_t i = 0; i < db->set.pcre.len; i++)
			pcre2_code_free(db->pcre[i]);
	w_free(db->pcre);
	for (unsigned t = 0; t < TARGET__COUNT; t++)
		hs_free_database(db->hs[t]);
	sigset_free(&db->set);
	if (!db->image) {
		/* With an image, every array below lives in it. */
		for (unsigned r = 0; r < 3; r++)
			for (unsigned k = 0; k < HASH__COUNT; k++)
				w_free(db->hashes[r][k].v);
		for (unsigned k = 0; k < HASH__COUNT; k++)
			w_free(db->allow[k].v);
		w_free(db->plans);
		w_free(db->seglits);
		w_free(db->anchor_first);
		w_free(db->anchor_sigs);
		w_free(db->unanchored);
		w_free(db->unanch_test);
		w_free(db->ldb_always);
		w_free(db->ldb_extra_first);
		w_free(db->ldb_extra_list);
		w_free(db->ldb_count_cap);
	}
	image_free(db->image);
	w_free(db);
}

uint64_t ward_db_count(const ward_db *db, ward_count what)
{
	if ((unsigned)what >= WARD_COUNT__MAX)
		return 0;
	return db->counts[what];
}

bool ward_db_unsupported(const ward_db *db, size_t i, const char **feature, uint64_t *count)
{
	if (i >= db->set.unsupported.len)
		return false;
	const struct unsupported_feature *f =
		&VEC_AT(&db->set.unsupported, struct unsupported_feature, i);
	*feature = f->name;
	*count = f->count;
	return true;
}

void ward_limits_default(ward_limits *out)
{
	out->max_scantime_ms = WARD_DEFAULT_MAX_SCANTIME_MS;
	out->max_scansize = WARD_DEFAULT_MAX_SCANSIZE;
	out->max_filesize = WARD_DEFAULT_MAX_FILESIZE;
	out->max_recursion = WARD_DEFAULT_MAX_RECURSION;
	out->max_files = WARD_DEFAULT_MAX_FILES;
	out->pcre_match_limit = WARD_DEFAULT_PCRE_MATCH_LIMIT;
	out->pcre_recmatch_limit = WARD_DEFAULT_PCRE_RECMATCH_LIMIT;
	out->pcre_max_filesize = WARD_DEFAULT_PCRE_MAX_FILESIZE;
}
