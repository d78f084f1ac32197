/*
 * Delta packages: per-file line diffs between two consecutive full packages,
 * and their application on a client. docs/internals/pattern-package.md,
 * "Delta package" and "Applying a delta". The applier's output is only ever
 * the exact bytes of the signed full package (checked by hash and by
 * signature); anything else is an error and the client downloads the full
 * package instead.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/pkg_int.h"
#include "util/cursor.h"

/* ---- lines ---- */

struct line {
	size_t off, len; /* len includes the '\n' when present */
	uint64_t hash;
};

/* Split data into lines (at most cap; false when there are more). */
static ward_err split_lines(const uint8_t *d, size_t n, size_t cap, vec *out, bool *too_many)
{
	size_t pos = 0;
	*too_many = false;
	while (pos < n) {
		const uint8_t *nl = memchr(d + pos, '\n', n - pos);
		size_t end = nl ? (size_t)(nl - d) + 1 : n;
		struct line l = {pos, end - pos, 1469598103934665603ull};
		for (size_t i = pos; i < end; i++) /* FNV-1a: equality is confirmed by memcmp */
			l.hash = (l.hash ^ d[i]) * 1099511628211ull;
		if (out->len >= cap) {
			*too_many = true;
			return WARD_OK;
		}
		ward_err e = vec_push(out, &l, sizeof l, cap);
		if (e != WARD_OK)
			return e;
		pos = end;
	}
	return WARD_OK;
}

static bool line_eq(const uint8_t *a, const struct line *la, const uint8_t *b,
		    const struct line *lb)
{
	return la->hash == lb->hash && la->len == lb->len &&
	       !memcmp(a + la->off, b + lb->off, la->len);
}

/* One edit on the shortest path: delete base line a, or insert target line b
 * after base position a (a lines of the base precede it). */
struct edit {
	bool ins;
	uint32_t a, b;
};

/*
 * Myers' greedy O(ND) diff of A[0..n) and B[0..m) (after prefix/suffix
 * trimming; indexes are offset by `pre`). History of the furthest-reaching
 * x per diagonal is kept per d (d^2 entries before step d) for the backtrack.
 * Returns WARD_ELIMIT when more than WARD_PKG_MAX_DIFF_EDITS edits are needed.
 */
static ward_err myers(const uint8_t *da, const struct line *A, uint32_t n, const uint8_t *db,
		      const struct line *B, uint32_t m, uint32_t pre, vec *edits)
{
	ward_err e = WARD_OK;
	vec hist = {0};
	uint64_t dmax64 = (uint64_t)n + m;
	uint32_t dmax =
		dmax64 < WARD_PKG_MAX_DIFF_EDITS ? (uint32_t)dmax64 : WARD_PKG_MAX_DIFF_EDITS;
	size_t hist_cap = ((size_t)dmax + 1) * ((size_t)dmax + 1);
	int64_t found = -1;
	for (uint32_t d = 0; d <= dmax && found < 0; d++) {
		e = vec_reserve(&hist, 2 * (size_t)d + 1, sizeof(int32_t), hist_cap);
		if (e != WARD_OK)
			goto out;
		int32_t *cur = (int32_t *)hist.items + (size_t)d * d;
		const int32_t *prev = d ? (int32_t *)hist.items + (size_t)(d - 1) * (d - 1) : NULL;
		hist.len = ((size_t)d + 1) * ((size_t)d + 1);
		for (int32_t k = -(int32_t)d; k <= (int32_t)d; k += 2) {
			int32_t x;
			if (d == 0)
				x = 0;
			/* prev is indexed k + (d-1) over [-(d-1), d-1]. */
			else if (k == -(int32_t)d ||
				 (k != (int32_t)d &&
				  prev[k - 1 + (int32_t)d - 1] < prev[k + 1 + (int32_t)d - 1]))
				x = prev[k + 1 + (int32_t)d - 1]; /* down: insert B[y-1] */
			else
				x = prev[k - 1 + (int32_t)d - 1] + 1; /* right: delete A[x-1] */
			int32_t y = x - k;
			while ((uint32_t)x < n && y >= 0 && (uint32_t)y < m &&
			       line_eq(da, &A[x], db, &B[y])) {
				x++;
				y++;
			}
			cur[k + (int32_t)d] = x;
			if ((uint32_t)x >= n && y >= 0 && (uint32_t)y >= m) {
				found = d;
				break;
			}
		}
	}
	if (found < 0) {
		e = WARD_ELIMIT;
		goto out;
	}
	/* Backtrack from (n, m), collecting edits last to first. */
	int32_t x = (int32_t)n, y = (int32_t)m;
	for (int64_t d = found; d > 0; d--) {
		const int32_t *prev = (int32_t *)hist.items + (size_t)(d - 1) * (size_t)(d - 1);
		int32_t k = x - y, dd = (int32_t)d;
		bool down = k == -dd || (k != dd && prev[k - 1 + dd - 1] < prev[k + 1 + dd - 1]);
		int32_t pk = down ? k + 1 : k - 1;
		int32_t px = prev[pk + dd - 1], py = px - pk;
		struct edit ed;
		if (down)
			ed = (struct edit){true, (uint32_t)px + pre, (uint32_t)py + pre};
		else
			ed = (struct edit){false, (uint32_t)px + pre, 0};
		e = vec_push(edits, &ed, sizeof ed, WARD_PKG_MAX_DIFF_EDITS + 1u);
		if (e != WARD_OK)
			goto out;
		x = px;
		y = py;
	}
	/* Reverse into path order. */
	struct edit *E = edits->items;
	for (size_t i = 0, j = edits->len; i + 1 < j; i++, j--) {
		struct edit t = E[i];
		E[i] = E[j - 1];
		E[j - 1] = t;
	}
out:
	vec_free(&hist);
	return e;
}

/* Turn the edit list into an edit script (format in the design note). */
static ward_err write_script(const uint8_t *db, const struct line *B, const vec *edits, dbuf *out)
{
	const struct edit *E = edits->items;
	ward_err e = WARD_OK;
	/* Insertions index B; an edit list with any is only built from lines. */
	if (NEVER(edits->len > 0 && !B))
		return WARD_EINTERNAL;
	for (size_t i = 0; i < edits->len && e == WARD_OK;) {
		size_t j = i + 1;
		if (!E[i].ins) {
			while (j < edits->len && !E[j].ins && E[j].a == E[j - 1].a + 1)
				j++;
			e = dbuf_addf(out, "d%u %zu\n", E[i].a + 1, j - i);
		} else {
			while (j < edits->len && E[j].ins && E[j].a == E[i].a &&
			       E[j].b == E[j - 1].b + 1)
				j++;
			size_t bytes = 0;
			for (size_t t = i; t < j; t++)
				bytes += B[E[t].b].len;
			e = dbuf_addf(out, "a%u %zu %zu\n", E[i].a, j - i, bytes);
			for (size_t t = i; t < j && e == WARD_OK; t++)
				e = dbuf_add(out, db + B[E[t].b].off, B[E[t].b].len);
		}
		i = j;
	}
	return e;
}

/* Diff one file. *whole is set when the file is better (or only) sent whole. */
static ward_err diff_file(const ward_pkg_file *a, const ward_pkg_file *b, dbuf *script, bool *whole)
{
	vec la = {0}, lb = {0}, edits = {0};
	bool many_a, many_b;
	*whole = false;
	ward_err e = split_lines(a->data, a->len, WARD_PKG_MAX_DIFF_LINES, &la, &many_a);
	if (e == WARD_OK)
		e = split_lines(b->data, b->len, WARD_PKG_MAX_DIFF_LINES, &lb, &many_b);
	if (e != WARD_OK)
		goto out;
	if (many_a || many_b) {
		*whole = true;
		goto out;
	}
	const struct line *A = la.items, *B = lb.items;
	uint32_t n = (uint32_t)la.len, m = (uint32_t)lb.len, pre = 0;
	while (pre < n && pre < m && line_eq(a->data, &A[pre], b->data, &B[pre]))
		pre++;
	while (n > pre && m > pre && line_eq(a->data, &A[n - 1], b->data, &B[m - 1])) {
		n--;
		m--;
	}
	e = myers(a->data, A + pre, n - pre, b->data, B + pre, m - pre, pre, &edits);
	if (e == WARD_ELIMIT) {
		*whole = true;
		e = WARD_OK;
		goto out;
	}
	if (e != WARD_OK)
		goto out;
	e = write_script(b->data, B, &edits, script);
	if (e == WARD_ELIMIT || (e == WARD_OK && script->len >= b->len)) {
		*whole = true; /* the script would not be smaller */
		e = WARD_OK;
	}
out:
	vec_free(&la);
	vec_free(&lb);
	vec_free(&edits);
	return e;
}

static const ward_pkg_file *find_file(const ward_pkg_meta *m, const char *name)
{
	size_t lo = 0, hi = m->nfiles; /* members are strictly sorted by name */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(m->files[mid].name, name);
		if (c == 0)
			return &m->files[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct owned_member {
	char *name;
	uint8_t *data; /* NULL when the data points into a package */
};

static int member_in_cmp(const void *a, const void *b)
{
	return strcmp(((const ward_pkg_member_in *)a)->name, ((const ward_pkg_member_in *)b)->name);
}

ward_err ward_pkg_delta(const uint8_t *base, size_t baselen, const uint8_t *target,
			size_t targetlen, const ward_pkg_seckey *key, uint8_t **out, size_t *outlen,
			char *why, size_t whylen)
{
	ward_err e;
	ward_pkg *bp = NULL, *tp = NULL;
	ward_pkg_member_in *mem = NULL;
	struct owned_member *own = NULL;
	size_t nmem = 0;
	dbuf man;
	dbuf_init(&man, WARD_PKG_MAX_MANIFEST);
	*out = NULL;
	*outlen = 0;

	e = ward_pkg_parse(base, baselen, &bp, why, whylen);
	if (e != WARD_OK)
		goto out;
	e = ward_pkg_parse(target, targetlen, &tp, why, whylen);
	if (e != WARD_OK)
		goto out;
	const ward_pkg_meta *bm = ward_pkg_get_meta(bp), *tm = ward_pkg_get_meta(tp);
	if (bm->kind != WARD_PKG_KIND_FULL || tm->kind != WARD_PKG_KIND_FULL || !tm->is_signed) {
		w_why(why, whylen, "a delta goes between two full packages, the target signed");
		e = WARD_EINVAL;
		goto out;
	}
	if (tm->version <= bm->version) {
		w_why(why, whylen, "target version %llu is not above base version %llu",
		      (unsigned long long)tm->version, (unsigned long long)bm->version);
		e = WARD_EINVAL;
		goto out;
	}
	/* .manifest + .signature + one member per target file, at most. */
	size_t cap = tm->nfiles + 2;
	mem = w_calloc(cap, sizeof *mem);
	own = w_calloc(cap, sizeof *own);
	if (!mem || !own) {
		e = WARD_ENOMEM;
		goto out;
	}
	mem[nmem++] =
		(ward_pkg_member_in){".manifest", (const uint8_t *)tm->manifest, tm->manifest_len};
	mem[nmem++] = (ward_pkg_member_in){".signature", target + targetlen - WARD_PKG_TRAILER_LEN,
					   WARD_PKG_TRAILER_LEN};
	for (size_t i = 0; i < tm->nfiles; i++) {
		const ward_pkg_file *tf = &tm->files[i];
		const ward_pkg_file *bf = find_file(bm, tf->name);
		if (bf && bf->len == tf->len && !CRYPTO_memcmp(bf->sha256, tf->sha256, 32))
			continue; /* unchanged: copied from the base */
		bool whole = true;
		dbuf script;
		dbuf_init(&script, WARD_PKG_MAX_SIZE);
		if (bf) {
			e = diff_file(bf, tf, &script, &whole);
			if (e != WARD_OK) {
				dbuf_free(&script);
				goto out;
			}
		}
		size_t nl = strlen(tf->name);
		char *name = w_malloc(nl + 6);
		if (!name) {
			dbuf_free(&script);
			e = WARD_ENOMEM;
			goto out;
		}
		snprintf(name, nl + 6, "%s%s", whole ? "add:" : "edit:", tf->name);
		own[nmem].name = name;
		if (whole) {
			dbuf_free(&script);
			mem[nmem] = (ward_pkg_member_in){name, tf->data, tf->len};
		} else {
			own[nmem].data = (uint8_t *)script.s; /* handed over; freed below */
			mem[nmem] =
				(ward_pkg_member_in){name, (const uint8_t *)script.s, script.len};
		}
		nmem++;
	}
	qsort(mem, nmem, sizeof *mem, member_in_cmp);

	uint8_t bh[32], th[32];
	char bhex[65], thex[65];
	pkg_sha256(base, baselen, bh);
	pkg_sha256(target, targetlen, th);
	pkg_hex(bh, 32, bhex);
	pkg_hex(th, 32, thex);
	e = dbuf_addf(&man,
		      "format: 1\nkind: delta\nversion: %llu\nbase-version: %llu\n"
		      "base-sha256: %s\ntarget-sha256: %s\ntarget-size: %zu\n",
		      (unsigned long long)tm->version, (unsigned long long)bm->version, bhex, thex,
		      targetlen);
	if (e != WARD_OK)
		goto out;
	e = pkg_assemble(WARD_PKG_KIND_DELTA, man.s, man.len, mem, nmem, true, out, outlen, why,
			 whylen);
	if (e != WARD_OK)
		goto out;
	e = pkg_sign_trailer(key, *out, *outlen, why, whylen);
	if (e != WARD_OK) {
		w_free(*out);
		*out = NULL;
		*outlen = 0;
	}
out:
	if (own)
		for (size_t i = 0; i < nmem; i++) {
			w_free(own[i].name);
			w_free(own[i].data);
		}
	w_free(own);
	w_free(mem);
	dbuf_free(&man);
	ward_pkg_free(bp);
	ward_pkg_free(tp);
	return e;
}

/* ---- applying ---- */

/* Read "<digits>" then the expected separator; canonical decimal only. */
static bool script_num(cursor *c, char sep, uint64_t *v)
{
	size_t start = c->pos, n = 0;
	uint8_t ch;
	while (cur_left(c) > 0 && c->base[c->pos] >= '0' && c->base[c->pos] <= '9' && n < 20) {
		c->pos++;
		n++;
	}
	if (n == 0 || (n > 1 && c->base[start] == (uint8_t)'0') ||
	    !parse_u64((const char *)c->base + start, n, UINT64_MAX, v))
		return false;
	return cur_u8(c, &ch) && ch == (uint8_t)sep;
}

/* dbuf_add that remembers the first error: ELIMIT means the output grew
 * past the size the manifest gives (corruption), ENOMEM is ours. */
static bool out_add(dbuf *out, const void *p, size_t n, ward_err *err)
{
	ward_err e = dbuf_add(out, p, n);
	if (e != WARD_OK && *err == WARD_OK)
		*err = e;
	return e == WARD_OK;
}

/* Copy whole base lines until `upto` lines have been consumed. */
static bool copy_lines(cursor *base, uint64_t *lineno, uint64_t upto, dbuf *out, bool copy,
		       ward_err *err)
{
	while (*lineno < upto) {
		size_t left = cur_left(base);
		if (left == 0)
			return false; /* past the end of the base */
		const uint8_t *p = base->base + base->pos;
		const uint8_t *nl = memchr(p, '\n', left);
		size_t len = nl ? (size_t)(nl - p) + 1 : left;
		if (copy && !out_add(out, p, len, err))
			return false;
		base->pos += len;
		(*lineno)++;
	}
	return true;
}

static size_t count_lines(const uint8_t *p, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += p[i] == '\n';
	return c + (n > 0 && p[n - 1] != '\n');
}

/* Apply an edit script to base, producing exactly want_len bytes at most. */
static ward_err apply_script(const ward_pkg_file *bf, const ward_pkg_file *sf, size_t want_len,
			     dbuf *out, char *why, size_t whylen)
{
	cursor s = cur_make(sf->data, sf->len);
	cursor base = cur_make(bf->data, bf->len);
	uint64_t lineno = 0; /* base lines consumed */
	size_t ops = 0;
	ward_err err = WARD_OK;
	dbuf_init(out, want_len + 1); /* the ceiling counts the NUL */
	while (cur_left(&s) > 0) {
		uint8_t op;
		uint64_t pos, count, bytes;
		if (++ops > WARD_PKG_MAX_DELTA_OPS) {
			w_why(why, whylen, "%s: more than %u commands", sf->name,
			      WARD_PKG_MAX_DELTA_OPS);
			return WARD_ELIMIT;
		}
		if (!cur_u8(&s, &op) || (op != 'd' && op != 'a'))
			goto bad;
		if (op == 'd') {
			if (!script_num(&s, ' ', &pos) || !script_num(&s, '\n', &count) ||
			    pos == 0 || count == 0 || pos - 1 < lineno || count > UINT64_MAX - pos)
				goto bad;
			if (!copy_lines(&base, &lineno, pos - 1, out, true, &err) ||
			    !copy_lines(&base, &lineno, pos - 1 + count, out, false, &err))
				goto bad;
		} else {
			if (!script_num(&s, ' ', &pos) || !script_num(&s, ' ', &count) ||
			    !script_num(&s, '\n', &bytes) || count == 0 || pos < lineno ||
			    bytes > cur_left(&s))
				goto bad;
			const uint8_t *text = cur_take(&s, (size_t)bytes);
			if (!text || count_lines(text, (size_t)bytes) != count ||
			    !copy_lines(&base, &lineno, pos, out, true, &err) ||
			    !out_add(out, text, (size_t)bytes, &err))
				goto bad;
		}
	}
	/* The rest of the base. */
	if (cur_left(&base) > 0 && !out_add(out, base.base + base.pos, cur_left(&base), &err))
		goto bad;
	return WARD_OK;
bad:
	if (err == WARD_ENOMEM)
		return WARD_ENOMEM;
	w_why(why, whylen, "%s: edit script does not apply (command %zu)", sf->name, ops);
	return WARD_ECORRUPT;
}

/* From the target manifest text: the i-th "file: <hex> <size> <name>" line. */
struct tfile {
	uint8_t sha256[32];
	uint64_t size;
	char name[WARD_PKG_MAX_MEMBER_NAME + 1];
};

static ward_err target_files(const char *man, size_t len, vec *out)
{
	cursor c = cur_make(man, len);
	while (cur_left(&c) > 0) {
		const uint8_t *p = c.base + c.pos;
		const uint8_t *nl = memchr(p, '\n', cur_left(&c));
		if (!nl)
			return WARD_ECORRUPT;
		size_t n = (size_t)(nl - p);
		c.pos += n + 1;
		if (n < 6 || memcmp(p, "file: ", 6) != 0)
			continue;
		/* "file: " + 64 hex + ' ' + size + ' ' + name; the full parser
		 * re-checks all of it when the result is verified. */
		struct tfile f;
		const char *s = (const char *)p + 6;
		size_t sn = n - 6;
		if (sn < 64 + 4 || s[64] != ' ')
			return WARD_ECORRUPT;
		for (size_t i = 0; i < 32; i++) {
			int hi = hexval((unsigned char)s[2 * i]),
			    lo = hexval((unsigned char)s[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return WARD_ECORRUPT;
			f.sha256[i] = (uint8_t)(hi << 4 | lo);
		}
		const char *sz = s + 65;
		const char *sp = memchr(sz, ' ', sn - 65);
		if (!sp)
			return WARD_ECORRUPT;
		size_t namelen = sn - (size_t)(sp + 1 - s);
		if (!parse_u64(sz, (size_t)(sp - sz), WARD_PKG_MAX_SIZE, &f.size) ||
		    !pkg_member_name_ok(sp + 1, namelen))
			return WARD_ECORRUPT;
		memcpy(f.name, sp + 1, namelen);
		f.name[namelen] = '\0';
		ward_err e = vec_push(out, &f, sizeof f, WARD_PKG_MAX_MEMBERS);
		if (e != WARD_OK)
			return e;
	}
	return WARD_OK;
}

/* Steps 3 and 4 of "Applying a delta": rebuild every target file from the
 * parsed (not necessarily verified) base and delta, assemble the full
 * package with the target's trailer, compare with target-size/-sha256. The
 * caller has verified the delta and checked the base; the fuzz harness calls
 * this directly so that hostile edit scripts reach the applier. */
ward_err pkg_delta_rebuild(const ward_pkg *bp, const ward_pkg *dp, uint8_t **out, size_t *outlen,
			   char *why, size_t whylen)
{
	ward_err e;
	vec tf = {0};
	dbuf *bufs = NULL;
	ward_pkg_member_in *mem = NULL;
	uint8_t *res = NULL;
	size_t reslen = 0;
	const ward_pkg_meta *dm = ward_pkg_get_meta(dp), *bm = ward_pkg_get_meta(bp);
	*out = NULL;
	*outlen = 0;
	if (dm->kind != WARD_PKG_KIND_DELTA || bm->kind != WARD_PKG_KIND_FULL) {
		w_why(why, whylen, "want a full base and a delta");
		return WARD_EINVAL;
	}
	const ward_pkg_file *manf = find_file(dm, ".manifest"), *sigf = find_file(dm, ".signature");
	if (!manf || !sigf || sigf->len != WARD_PKG_TRAILER_LEN || manf->len == 0) {
		w_why(why, whylen, "delta lacks .manifest or .signature");
		e = WARD_ECORRUPT;
		goto out;
	}
	e = target_files((const char *)manf->data, manf->len, &tf);
	if (e != WARD_OK) {
		if (e == WARD_ECORRUPT)
			w_why(why, whylen, "delta .manifest: bad file line");
		goto out;
	}
	/* Every member must be used: an add:/edit: for a file the target does
	 * not list is corruption, not something to ignore. */
	size_t used = 2;
	/* 3. Rebuild each target file. */
	size_t n = tf.len;
	bufs = w_calloc(n ? n : 1, sizeof *bufs);
	mem = w_calloc(n ? n : 1, sizeof *mem);
	if (!bufs || !mem) {
		e = WARD_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct tfile *t = &VEC_AT(&tf, struct tfile, i);
		char mname[WARD_PKG_MAX_MEMBER_NAME + 8];
		snprintf(mname, sizeof mname, "add:%s", t->name);
		const ward_pkg_file *add = find_file(dm, mname);
		snprintf(mname, sizeof mname, "edit:%s", t->name);
		const ward_pkg_file *edit = find_file(dm, mname);
		const ward_pkg_file *bf = find_file(bm, t->name);
		const uint8_t *data;
		size_t len;
		if (add && edit) {
			w_why(why, whylen, "%s: both add: and edit:", t->name);
			e = WARD_ECORRUPT;
			goto out;
		}
		if (add) {
			data = add->data;
			len = add->len;
			used++;
		} else if (edit) {
			if (!bf) {
				w_why(why, whylen, "%s: edit for a file the base lacks", t->name);
				e = WARD_ECORRUPT;
				goto out;
			}
			e = apply_script(bf, edit, (size_t)t->size, &bufs[i], why, whylen);
			if (e != WARD_OK)
				goto out;
			data = (const uint8_t *)bufs[i].s;
			len = bufs[i].len;
			used++;
		} else if (bf) {
			data = bf->data;
			len = bf->len;
		} else {
			w_why(why, whylen, "%s: neither in the delta nor in the base", t->name);
			e = WARD_ECORRUPT;
			goto out;
		}
		uint8_t h[32];
		pkg_sha256(data, len, h);
		if (len != t->size || CRYPTO_memcmp(h, t->sha256, 32) != 0) {
			w_why(why, whylen, "%s: rebuilt file does not match the target manifest",
			      t->name);
			e = WARD_ECORRUPT;
			goto out;
		}
		mem[i] = (ward_pkg_member_in){t->name, data, len};
	}
	if (used != dm->nfiles) {
		w_why(why, whylen, "delta has members the target does not use");
		e = WARD_ECORRUPT;
		goto out;
	}
	/* 4. Assemble the full package with the target's own trailer. */
	e = pkg_assemble(WARD_PKG_KIND_FULL, (const char *)manf->data, manf->len, mem, n, true,
			 &res, &reslen, why, whylen);
	if (e != WARD_OK)
		goto out;
	memcpy(res + reslen - WARD_PKG_TRAILER_LEN, sigf->data, WARD_PKG_TRAILER_LEN);
	uint8_t th[32];
	pkg_sha256(res, reslen, th);
	if (reslen != dm->target_size || CRYPTO_memcmp(th, dm->target_sha256, 32) != 0) {
		w_why(why, whylen, "rebuilt package does not match target-sha256/target-size");
		e = WARD_ECORRUPT;
		goto out;
	}
	*out = res;
	*outlen = reslen;
	res = NULL;
	e = WARD_OK;
out:
	if (bufs)
		for (size_t i = 0; i < tf.len; i++)
			dbuf_free(&bufs[i]);
	w_free(bufs);
	w_free(mem);
	w_free(res);
	vec_free(&tf);
	return e;
}

ward_err ward_pkg_apply_delta(const uint8_t *base, size_t baselen, const uint8_t *delta,
			      size_t deltalen, const ward_pkg_pubkey *key, uint8_t **out,
			      size_t *outlen, char *why, size_t whylen)
{
	ward_err e;
	ward_pkg *dp = NULL, *bp = NULL;
	uint8_t *res = NULL;
	size_t reslen = 0;
	*out = NULL;
	*outlen = 0;

	/* 1. The delta's own signature. */
	e = ward_pkg_verify(delta, deltalen, key, &dp, why, whylen);
	if (e != WARD_OK)
		goto out;
	const ward_pkg_meta *dm = ward_pkg_get_meta(dp);
	if (dm->kind != WARD_PKG_KIND_DELTA) {
		w_why(why, whylen, "not a delta package");
		e = WARD_EINVAL;
		goto out;
	}
	/* 2. The base it applies to. */
	uint8_t bh[32];
	pkg_sha256(base, baselen, bh);
	if (CRYPTO_memcmp(bh, dm->base_sha256, 32) != 0) {
		w_why(why, whylen, "the delta is for another base package (SHA-256 differs)");
		e = WARD_ECORRUPT;
		goto out;
	}
	e = ward_pkg_parse(base, baselen, &bp, why, whylen);
	if (e != WARD_OK)
		goto out;
	const ward_pkg_meta *bm = ward_pkg_get_meta(bp);
	if (bm->kind != WARD_PKG_KIND_FULL || bm->version != dm->base_version) {
		w_why(why, whylen, "base package version does not match the delta");
		e = WARD_ECORRUPT;
		goto out;
	}
	/* 3, 4. Rebuild and compare with the target's hash. */
	e = pkg_delta_rebuild(bp, dp, &res, &reslen, why, whylen);
	if (e != WARD_OK)
		goto out;
	/* 5. And it must verify as a full package on its own. */
	e = ward_pkg_verify(res, reslen, key, NULL, why, whylen);
	if (e != WARD_OK)
		goto out;
	*out = res;
	*outlen = reslen;
	res = NULL;
out:
	w_free(res);
	ward_pkg_free(dp);
	ward_pkg_free(bp);
	return e;
}
