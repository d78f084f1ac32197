/*
 * The per-thread scanner: file type -> targets -> matching -> verdict.
 *
 * One *object* is the file itself or a member of a container. For each object,
 * in order: allow-list check (.fp/.sfp: an allow-listed object is clean, and so
 * is everything inside it), executable parsing (PE/ELF: entry point and sections
 * for offsets), hash signatures (each digest computed at most once, only when
 * some signature has the object's size), one Vectorscan pass over the data
 * (anchors -> candidates -> exact verification), the unanchored signatures,
 * logical signatures (with their PCRE and byte-compare subsignatures), and then
 * the members of a container, one level deeper.
 *
 * Every object's work is bounded by the time budget (MaxScanTime, checked in
 * the match callback and between phases) and the sizes by MaxFileSize,
 * MaxScanSize, MaxFiles and MaxRecursion; each limit hit is recorded with
 * ClamAV's Heuristics.Limits.Exceeded.* name.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "compile/db.h"
#include "formats/formats.h"
#include "scan/match.h"
#include "scan/textnorm.h"

/* Deepest container stack the scanner allocates for, whatever MaxRecursion
 * says: each level holds a member buffer, so this bounds memory too. */
#define WARD_MAX_RECURSION_CAP 64u

enum limit_bit {
	LIM_FILESIZE = 0,
	LIM_SCANSIZE,
	LIM_FILES,
	LIM_RECURSION,
	LIM_SCANTIME,
	LIM__COUNT
};

static const char *const limit_names[LIM__COUNT] = {
	"Heuristics.Limits.Exceeded.MaxFileSize", "Heuristics.Limits.Exceeded.MaxScanSize",
	"Heuristics.Limits.Exceeded.MaxFiles",    "Heuristics.Limits.Exceeded.MaxRecursion",
	"Heuristics.Limits.Exceeded.MaxScanTime",
};

struct lstate {
	uint32_t counts[WARD_MAX_SUBSIGS];
	uint64_t first_off[WARD_MAX_SUBSIGS]; /* start of the first match; UINT64_MAX none */
};

struct object {
	const uint8_t *data;
	size_t len;
	enum ftype type;
	const char *name; /* member name (valid while the object is scanned); NULL for the file */
	bool have[HASH__COUNT];
	uint8_t digest[HASH__COUNT][32];
};

struct det {
	uint32_t name;   /* strpool offset in the database */
	size_t path_off; /* offset in paths, or SIZE_MAX */
};

struct ward_scanner {
	const struct ward_db *db;
	ward_limits lim;
	unsigned flags;
	hs_scratch_t *scratch;
	pcre2_match_data *pcre_md;
	pcre2_match_context *pcre_mc;
	struct matcher m;

	/* per object (generation-stamped so a new object costs nothing to reset) */
	uint32_t gen;
	uint32_t *body_done; /* per body signature: == gen when matched in this object */
	uint32_t *ls_gen;    /* per logical signature: == gen when ls_slot is valid */
	uint32_t *ls_slot;
	uint32_t *ls_evaluated;
	uint32_t *ls_checked; /* == gen when ls_applies holds this layer's answer */
	bool *ls_applies;     /* logical_applies() of the current layer */
	vec lstates;          /* struct lstate */
	vec touched;          /* uint32_t logical indexes */
	struct exeinfo exe;
	uint32_t tmask;      /* targets matched in the current pass */
	struct object *obj;  /* the object of the current pass */
	uint64_t candidates; /* anchor hits seen (paces the clock checks) */
	const uint8_t *pdata;
	size_t plen;

	/* per top-level scan */
	struct object stack[WARD_MAX_RECURSION_CAP + 1];
	unsigned depth;
	uint64_t deadline;
	uint64_t bytes;
	uint32_t files;
	bool stop; /* first match found (not allmatch), or out of time */
	unsigned limits_hit;
	vec dets; /* struct det */
	dbuf paths;
	vec notes; /* size_t offsets into notebuf */
	dbuf notebuf;

	/* the report handed out */
	ward_report report;
	vec out_dets;  /* ward_detection */
	vec out_notes; /* const char * */
	const char *out_limits[LIM__COUNT];
};

/* ---- notes and detections ---- */

static void note_limit(struct ward_scanner *s, enum limit_bit b)
{
	s->limits_hit |= 1u << b;
	if (b == LIM_SCANTIME)
		s->stop = true;
}

static void note_error(struct ward_scanner *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note_error(struct ward_scanner *s, const char *fmt, ...)
{
	if (s->notes.len >= WARD_MAX_REPORT_NOTES)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	size_t off = s->notebuf.len;
	if (dbuf_add(&s->notebuf, msg, strlen(msg) + 1) == WARD_OK)
		(void)vec_push(&s->notes, &off, sizeof off, WARD_MAX_REPORT_NOTES);
}

static const char *obj_label(const struct ward_scanner *s)
{
	const char *n = s->stack[s->depth].name;
	return n ? n : "(file)";
}

static size_t store_inner_path(struct ward_scanner *s)
{
	if (s->depth == 0)
		return SIZE_MAX;
	size_t off = s->paths.len;
	for (unsigned i = 1; i <= s->depth; i++) {
		const char *n = s->stack[i].name ? s->stack[i].name : "?";
		if ((i > 1 && dbuf_add(&s->paths, "//", 2)) || dbuf_add(&s->paths, n, strlen(n))) {
			s->paths.len = off;
			return SIZE_MAX;
		}
	}
	if (dbuf_add(&s->paths, "", 1)) {
		s->paths.len = off;
		return SIZE_MAX;
	}
	return off;
}

static void add_detection(struct ward_scanner *s, uint32_t name)
{
	const char *nm = strpool_get(&s->db->set.names, name);
	for (size_t i = 0; i < s->dets.len; i++) {
		const struct det *d = &VEC_AT(&s->dets, struct det, i);
		if (d->name == name || strcmp(strpool_get(&s->db->set.names, d->name), nm) == 0)
			goto done;
	}
	struct det d = {name, store_inner_path(s)};
	(void)vec_push(&s->dets, &d, sizeof d, WARD_MAX_DETECTIONS);
done:
	if (!(s->flags & WARD_SCAN_ALLMATCH))
		s->stop = true;
}

static bool out_of_time(struct ward_scanner *s)
{
	if (s->m.expired || (s->deadline && now_ms() > s->deadline)) {
		note_limit(s, LIM_SCANTIME);
		return true;
	}
	return false;
}

/* ---- hashes ---- */

static const EVP_MD *md_of(unsigned kind)
{
	return kind == HASH_MD5 ? EVP_md5() : kind == HASH_SHA1 ? EVP_sha1() : EVP_sha256();
}

static bool digest(const uint8_t *data, size_t len, unsigned kind, uint8_t *out)
{
	unsigned int n = 0;
	return EVP_Digest(data, len, out, &n, md_of(kind), NULL) == 1;
}

static bool obj_digest(struct object *o, unsigned kind, const uint8_t **out)
{
	if (!o->have[kind]) {
		if (!digest(o->data, o->len, kind, o->digest[kind]))
			return false;
		o->have[kind] = true;
	}
	*out = o->digest[kind];
	return true;
}

/* First entry with size >= want. */
static size_t size_lower_bound(const struct hashtab *t, uint64_t want)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->v[mid].size < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool table_has_size(const struct hashtab *t, uint64_t size)
{
	if (!t->n)
		return false;
	if (t->any_size)
		return true;
	size_t i = size_lower_bound(t, size);
	return i < t->n && t->v[i].size == size;
}

/* Call fn for every entry of t with this size (or '*') and digest. */
static bool table_lookup(const struct hashtab *t, uint64_t size, const uint8_t *dg, unsigned dlen,
			 void (*fn)(struct ward_scanner *, const struct hashsig *),
			 struct ward_scanner *s)
{
	bool hit = false;
	uint64_t sizes[2] = {size, HASH_SIZE_ANY};
	for (int k = 0; k < 2; k++) {
		if (k == 1 && (!t->any_size || size == HASH_SIZE_ANY))
			break;
		for (size_t i = size_lower_bound(t, sizes[k]); i < t->n && t->v[i].size == sizes[k];
		     i++) {
			if (memcmp(t->v[i].digest, dg, dlen) != 0)
				continue;
			hit = true;
			if (fn)
				fn(s, &t->v[i]);
			if (s && s->stop)
				return true;
		}
	}
	return hit;
}

static void hash_detect(struct ward_scanner *s, const struct hashsig *h)
{
	add_detection(s, h->name);
}

static bool object_allowed(struct ward_scanner *s, struct object *o)
{
	for (unsigned k = 0; k < HASH__COUNT; k++) {
		const struct hashtab *t = &s->db->allow[k];
		const uint8_t *dg;
		if (!table_has_size(t, o->len) || !obj_digest(o, k, &dg))
			continue;
		if (table_lookup(t, o->len, dg, hash_len(k), NULL, NULL))
			return true;
	}
	return false;
}

static void check_file_hashes(struct ward_scanner *s, struct object *o)
{
	for (unsigned k = 0; k < HASH__COUNT && !s->stop; k++) {
		const struct hashtab *t = &s->db->hashes[HSCOPE_FILE][k];
		const uint8_t *dg;
		if (!table_has_size(t, o->len) || !obj_digest(o, k, &dg))
			continue;
		table_lookup(t, o->len, dg, hash_len(k), hash_detect, s);
	}
}

static void check_pe_hashes(struct ward_scanner *s, struct object *o)
{
	const struct exeinfo *pe = &s->exe;
	for (unsigned k = 0; k < HASH__COUNT && !s->stop; k++) {
		const struct hashtab *t = &s->db->hashes[HSCOPE_SECTION][k];
		if (!t->n)
			continue;
		for (uint32_t i = 0; i < pe->nstored && !s->stop; i++) {
			const struct exe_section *sec = &pe->sections[i];
			uint8_t dg[32];
			if (sec->raw_offset > o->len || sec->raw_size > o->len - sec->raw_offset)
				continue;
			if (!table_has_size(t, sec->raw_size) ||
			    !digest(o->data + sec->raw_offset, sec->raw_size, k, dg))
				continue;
			table_lookup(t, sec->raw_size, dg, hash_len(k), hash_detect, s);
		}
	}
	const struct hashtab *it = &s->db->hashes[HSCOPE_IMPORTS][HASH_MD5];
	if (it->n && !s->stop) {
		uint8_t md5[16];
		uint64_t isize;
		if (pe_imphash(o->data, o->len, pe, md5, &isize) == WARD_OK &&
		    table_has_size(it, isize))
			table_lookup(it, isize, md5, 16, hash_detect, s);
	}
}

/* ---- offsets ---- */

/* The window [lo, hi] where a match of this signature may start in the
 * current pass; false when the offset cannot apply (EP of a non-executable,
 * section past the last, EOF-n beyond the start). */
static bool resolve_offset(const struct ward_scanner *s, const struct sigoffset *off, size_t len,
			   size_t *lo, size_t *hi)
{
	const struct exeinfo *x = &s->exe;
	uint64_t base;
	switch (off->kind) {
	case OFF_ANY:
		*lo = 0;
		*hi = SIZE_MAX;
		return true;
	case OFF_ABS:
		base = off->n;
		break;
	case OFF_EOF:
		if (off->n > len)
			return false;
		base = len - off->n;
		break;
	case OFF_EP_PLUS:
		if (x->kind == EXE_NONE || !x->ep_valid || ck_add64(x->ep, off->n, &base))
			return false;
		break;
	case OFF_EP_MINUS:
		if (x->kind == EXE_NONE || !x->ep_valid || x->ep < off->n)
			return false;
		base = x->ep - off->n;
		break;
	case OFF_SECTION:
		if (x->kind == EXE_NONE || off->section >= x->nstored ||
		    ck_add64(x->sections[off->section].raw_offset, off->n, &base))
			return false;
		break;
	case OFF_SECTION_ALL: {
		if (x->kind == EXE_NONE || off->section >= x->nstored)
			return false;
		const struct exe_section *sec = &x->sections[off->section];
		if (sec->raw_size == 0)
			return false;
		*lo = (size_t)sec->raw_offset;
		*hi = (size_t)(sec->raw_offset + sec->raw_size - 1);
		return true;
	}
	case OFF_LAST_SECTION:
		if (x->kind == EXE_NONE || x->nstored == 0 ||
		    ck_add64(x->sections[x->nstored - 1].raw_offset, off->n, &base))
			return false;
		break;
	default:
		return false;
	}
	if (base > SIZE_MAX)
		return false;
	*lo = (size_t)base;
	uint64_t top = base;
	if (off->floating && ck_add64(base, off->maxshift, &top))
		top = UINT64_MAX;
	*hi = top > SIZE_MAX ? SIZE_MAX : (size_t)top;
	return true;
}

static bool target_applies(enum ftype t, unsigned target)
{
	switch (target) {
	case TARGET_ANY:
		return true;
	case TARGET_PE:
		return t == FT_PE;
	case TARGET_OLE2:
		return t == FT_OLE2;
	case TARGET_HTML:
		return t == FT_HTML;
	case TARGET_MAIL:
		return t == FT_MAIL;
	case TARGET_GRAPHICS:
		return t == FT_GRAPHICS;
	case TARGET_ELF:
		return t == FT_ELF;
	case TARGET_ASCII:
		return t == FT_TEXT_ASCII;
	case TARGET_MACHO:
		return t == FT_MACHO;
	case TARGET_PDF:
		return t == FT_PDF;
	case TARGET_FLASH:
		return t == FT_FLASH;
	case TARGET_JAVA:
		return t == FT_JAVA;
	default:
		return false;
	}
}

static bool in_range(const struct range64 *r, uint64_t v)
{
	return !r->set || (v >= r->lo && v <= r->hi);
}

/* Can logical signature l match in this layer at all, whatever its
 * subsignatures do? Its conditions on the object, not on matches. */
static bool logical_applies(const struct ward_scanner *s, const struct object *o,
			    const struct logicsig *ls, uint32_t tmask)
{
	if (ls->unsupported || !(tmask & (1u << ls->target)) ||
	    !target_applies(o->type, ls->target) || !in_range(&ls->filesize, o->len))
		return false;
	if (ls->entrypoint.set &&
	    (s->exe.kind == EXE_NONE || !s->exe.ep_valid || !in_range(&ls->entrypoint, s->exe.ep)))
		return false;
	if (ls->nsections.set &&
	    (s->exe.kind == EXE_NONE || !in_range(&ls->nsections, s->exe.nsections)))
		return false;
	if (ls->container >= 0 &&
	    (s->depth == 0 || (int)s->stack[s->depth - 1].type != ls->container))
		return false;
	return true;
}

/* logical_applies() for the current layer, decided once per signature: a
 * candidate of a signature that cannot match (e.g. main.ldb's
 * Container:CL_TYPE_MAIL ones outside mail) is not verified. */
static bool logical_ok(struct ward_scanner *s, uint32_t l)
{
	if (s->ls_checked[l] != s->gen) {
		s->ls_checked[l] = s->gen;
		s->ls_applies[l] = logical_applies(
			s, s->obj, &VEC_AT(&s->db->set.logical, struct logicsig, l), s->tmask);
	}
	return s->ls_applies[l];
}

/* ---- logical signature state ---- */

static struct lstate *lstate_of(struct ward_scanner *s, uint32_t l, bool create)
{
	if (s->ls_gen[l] == s->gen)
		return &VEC_AT(&s->lstates, struct lstate, s->ls_slot[l]);
	if (!create)
		return NULL;
	struct lstate fresh;
	memset(&fresh, 0, sizeof fresh);
	for (unsigned i = 0; i < WARD_MAX_SUBSIGS; i++)
		fresh.first_off[i] = UINT64_MAX;
	if (vec_push(&s->lstates, &fresh, sizeof fresh, s->db->set.logical.len) ||
	    vec_push(&s->touched, &l, sizeof l, s->db->set.logical.len))
		return NULL;
	s->ls_gen[l] = s->gen;
	s->ls_slot[l] = (uint32_t)(s->lstates.len - 1);
	return &VEC_AT(&s->lstates, struct lstate, s->ls_slot[l]);
}

/* Is verifying another candidate of this body signature still useful? */
static bool body_wanted(struct ward_scanner *s, uint32_t sig, const struct bodysig *b)
{
	if (!(s->tmask & (1u << b->target)))
		return false;
	if (b->logical == UINT32_MAX)
		return s->body_done[sig] != s->gen;
	if (!logical_ok(s, b->logical))
		return false;
	struct lstate *st = lstate_of(s, b->logical, false);
	if (!st || !st->counts[b->subsig])
		return true;
	return st->counts[b->subsig] < s->db->ldb_count_cap[b->logical];
}

static void body_matched(struct ward_scanner *s, uint32_t sig, const struct bodysig *b,
			 size_t start)
{
	if (b->logical == UINT32_MAX) {
		s->body_done[sig] = s->gen;
		add_detection(s, b->name);
		return;
	}
	struct lstate *st = lstate_of(s, b->logical, true);
	if (!st)
		return;
	if (st->counts[b->subsig] < WARD_MAX_SUBSIG_MATCHES)
		st->counts[b->subsig]++;
	if (st->first_off[b->subsig] == UINT64_MAX)
		st->first_off[b->subsig] = start;
}

/* ---- body matching ---- */

static int on_anchor(unsigned int id, unsigned long long from, unsigned long long to,
		     unsigned int flags, void *ctx)
{
	struct ward_scanner *s = ctx;
	const struct ward_db *db = s->db;
	(void)from;
	(void)flags;
	uint32_t first = db->anchor_first[id], last = db->anchor_first[id + 1];
	const struct sigplan *p0 = &db->plans[db->anchor_sigs[first]];
	size_t alen = db->seglits[p0->seg_base + p0->anchor_seg].len;
	if (to < alen)
		return 0;
	size_t a = (size_t)to - alen;
	for (uint32_t i = first; i < last; i++) {
		uint32_t sig = db->anchor_sigs[i];
		const struct bodysig *b = &VEC_AT(&db->set.body, struct bodysig, sig);
		size_t lo, hi, ms, me;
		if (!body_wanted(s, sig, b) || !resolve_offset(s, &b->offset, s->plen, &lo, &hi))
			continue;
		if (match_anchor(&s->m, db, sig, s->pdata, s->plen, a, lo, hi, &ms, &me))
			body_matched(s, sig, b, ms);
		if (s->stop || s->m.expired)
			break;
	}
	/* The clock is read every WARD_CLOCK_CHECK_EVERY candidates, not on
	 * each: candidates come by the million on big files. */
	if (s->m.expired || (s->deadline && ++s->candidates % WARD_CLOCK_CHECK_EVERY == 0 &&
			     now_ms() > s->deadline)) {
		note_limit(s, LIM_SCANTIME);
		return 1;
	}
	return s->stop ? 1 : 0;
}

/* Can a pinned signature start where its offset puts it? Its first byte
 * test at that position (the verifier makes the same test first; this one
 * comes before the per-signature bookkeeping). */
static bool pin_ok(const struct ward_scanner *s, const struct pintest *pt)
{
	uint64_t pos = pt->add;
	if (pt->kind == PIN_EP) {
		if (s->exe.kind == EXE_NONE || !s->exe.ep_valid || ck_add64(s->exe.ep, pos, &pos))
			return false;
	}
	return pos < s->plen && (s->pdata[pos] & pt->mask) == pt->val;
}

static void scan_unanchored(struct ward_scanner *s)
{
	const struct ward_db *db = s->db;
	uint32_t walked = 0;
	for (unsigned t = 0; t < TARGET__COUNT; t++) {
		if (!(s->tmask & (1u << t)))
			continue;
		for (uint32_t i = db->unanch_first[t]; i < db->unanch_first[t + 1]; i++) {
			uint32_t sig = db->unanchored[i];
			const struct bodysig *b = &VEC_AT(&db->set.body, struct bodysig, sig);
			const struct pintest *pt = &db->unanch_test[i];
			size_t lo, hi, ms, me;
			if (s->stop || s->m.expired)
				goto out;
			if (pt->kind != PIN_NONE && !pin_ok(s, pt))
				continue;
			/* The clock every few signatures: one search is bounded by
			 * the matcher's own clock checks, and a layer walks
			 * thousands of pinned signatures. */
			if (++walked % WARD_UNANCHORED_CLOCK_EVERY == 0 && out_of_time(s))
				return;
			if (!body_wanted(s, sig, b) ||
			    !resolve_offset(s, &b->offset, s->plen, &lo, &hi))
				continue;
			while (lo <= hi && lo <= s->plen &&
			       match_find(&s->m, db, sig, s->pdata, s->plen, lo, hi, &ms, &me)) {
				body_matched(s, sig, b, ms);
				if (s->stop || !body_wanted(s, sig, b) || ms == SIZE_MAX)
					break;
				lo = ms + 1;
			}
		}
	}
out:
	(void)out_of_time(s); /* says so if the searches ran out of time */
}

/* One Vectorscan pass over the layer with target t's anchors. */
static void target_pass(struct ward_scanner *s, unsigned t)
{
	hs_error_t e = hs_scan(s->db->hs[t], (const char *)s->pdata, (unsigned int)s->plen, 0,
			       s->scratch, on_anchor, s);
	if (e != HS_SUCCESS && e != HS_SCAN_TERMINATED)
		note_error(s, "%s: Vectorscan scan failed (%d)", obj_label(s), (int)e);
}

static void body_pass(struct ward_scanner *s, const uint8_t *data, size_t len, uint32_t tmask)
{
	s->pdata = data;
	s->plen = len;
	s->tmask = tmask;
	if (len > 0) {
		if (len > UINT_MAX) {
			note_limit(s, LIM_FILESIZE); /* Vectorscan block mode takes 4 GiB at most */
			return;
		}
		/* A layer matches target 0 and at most one other target; that
		 * target's database holds target 0's anchors too (compile.c),
		 * so one pass covers the layer. */
		unsigned t = TARGET_ANY;
		for (unsigned k = 1; k < TARGET__COUNT; k++)
			if ((tmask & (1u << k)) && s->db->hs[k])
				t = k;
		if (s->db->hs[t])
			target_pass(s, t);
	}
	if (!s->stop)
		scan_unanchored(s);
}

/* ---- PCRE and byte-compare subsignatures ---- */

static void run_pcre(struct ward_scanner *s, uint32_t pi, struct lstate *st)
{
	const uint8_t *data = s->pdata;
	size_t len = s->plen;
	const struct pcresig *ps = &VEC_AT(&s->db->set.pcre, struct pcresig, pi);
	const pcre2_code *code = s->db->pcre[pi];
	if (!code || (ps->ntrigger && !logic_eval(ps->trigger, ps->ntrigger, st->counts)))
		return;
	if (len > s->lim.pcre_max_filesize)
		return; /* PCREMaxFileSize: ClamAV skips PCRE on larger targets too */
	size_t lo = 0, hi = SIZE_MAX;
	if (!resolve_offset(s, &ps->offset, len, &lo, &hi) || lo > len)
		return;
	size_t subj_end = len;
	if ((ps->flags & PCRE_F_ENCOMPASS) && ps->offset.kind != OFF_ANY && hi < SIZE_MAX &&
	    hi + 1 < subj_end)
		subj_end = hi + 1;
	uint32_t found = 0;
	size_t at = lo;
	while (at <= subj_end && found < WARD_MAX_SUBSIG_MATCHES) {
		int rc = pcre2_match(code, (PCRE2_SPTR)data, subj_end, at, 0, s->pcre_md,
				     s->pcre_mc);
		if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
		    rc == PCRE2_ERROR_HEAPLIMIT) {
			note_error(
				s, "%s: PCRE match limit reached in %s", obj_label(s),
				strpool_get(&s->db->set.names, VEC_AT(&s->db->set.logical,
								      struct logicsig, ps->logical)
								       .name));
			break;
		}
		if (rc < 0)
			break;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->pcre_md);
		/* Without 'r' (rolling) or 'e' (encompass) a match must start in
		 * the offset's window; with 'r' it may start anywhere after it. */
		if (ps->offset.kind != OFF_ANY &&
		    !(ps->flags & (PCRE_F_ENCOMPASS | PCRE_F_ROLLING)) && ov[0] > hi)
			break;
		found++;
		if (st->first_off[ps->subsig] == UINT64_MAX)
			st->first_off[ps->subsig] = ov[0];
		if (!(ps->flags & PCRE_F_GLOBAL))
			break;
		at = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
		if (out_of_time(s))
			break;
	}
	st->counts[ps->subsig] += found;
}

static bool parse_number(const uint8_t *p, size_t n, const struct bytecmpsig *bc, uint64_t *v)
{
	uint64_t x = 0;
	if (bc->base == 'i') {
		for (size_t i = 0; i < n; i++) {
			unsigned sh =
				bc->little_endian ? (unsigned)(8 * i) : (unsigned)(8 * (n - 1 - i));
			x |= (uint64_t)p[i] << sh;
		}
		*v = x;
		return true;
	}
	unsigned radix = bc->base == 'h' ? 16 : 10;
	size_t i = 0;
	if (bc->base == 'a' && n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		radix = 16;
		i = 2;
	}
	bool any = false;
	size_t ndig = 0;
	for (; i < n; i++) {
		int d = hexval(p[i]);
		if (d < 0 || (unsigned)d >= radix) {
			if (bc->exact)
				return false;
			break;
		}
		if (ck_mul64(x, radix, &x) || ck_add64(x, (uint64_t)d, &x))
			return false;
		any = true;
		ndig++;
	}
	if (radix == 16 && bc->little_endian) {
		/* "hl": the hex digits spell bytes in little-endian order
		 * (clamscan reads "7e0f" as 0x0f7e). */
		uint64_t sw = 0;
		for (size_t k = 0; k < (ndig + 1) / 2 && k < 8; k++)
			sw = (sw << 8) | ((x >> (8 * k)) & 0xff);
		x = sw;
	}
	*v = x;
	return any;
}

static void run_bytecmp(struct ward_scanner *s, uint32_t bi, struct lstate *st)
{
	const uint8_t *data = s->pdata;
	size_t len = s->plen;
	const struct bytecmpsig *bc = &VEC_AT(&s->db->set.bytecmp, struct bytecmpsig, bi);
	if (bc->trigger_sub >= WARD_MAX_SUBSIGS || st->first_off[bc->trigger_sub] == UINT64_MAX)
		return;
	int64_t pos = (int64_t)st->first_off[bc->trigger_sub] + bc->offset;
	if (pos < 0 || (uint64_t)pos > len || bc->nbytes == 0 || bc->nbytes > len - (size_t)pos)
		return;
	uint64_t v;
	if (!parse_number(data + pos, bc->nbytes, bc, &v))
		return;
	for (unsigned i = 0; i < bc->ncmp && i < 2; i++) {
		bool ok = bc->cmp_op[i] == '<'   ? v < bc->cmp_val[i]
			  : bc->cmp_op[i] == '>' ? v > bc->cmp_val[i]
						 : v == bc->cmp_val[i];
		if (!ok)
			return;
	}
	st->counts[bc->subsig]++;
}

/* ---- logical signatures ---- */

/* Evaluate logical signature l on the current layer (s->obj, s->tmask). */
static void eval_logical(struct ward_scanner *s, uint32_t l)
{
	const struct ward_db *db = s->db;
	const struct logicsig *ls = &VEC_AT(&db->set.logical, struct logicsig, l);
	if (s->ls_evaluated[l] == s->gen)
		return;
	s->ls_evaluated[l] = s->gen;
	if (!logical_ok(s, l))
		return;
	struct lstate *st = lstate_of(s, l, true);
	if (!st)
		return;
	for (uint32_t k = db->ldb_extra_first[l]; k < db->ldb_extra_first[l + 1] && !s->stop; k++) {
		uint32_t e = db->ldb_extra_list[k];
		if (e >> 31)
			run_bytecmp(s, e & 0x7fffffffu, st);
		else
			run_pcre(s, e, st);
	}
	if (logic_eval(ls->expr, ls->nexpr, st->counts))
		add_detection(s, ls->name);
}

static void eval_logicals(struct ward_scanner *s)
{
	/* touched may grow while evaluating (lstate_of creates): index loop. */
	for (size_t i = 0; i < s->touched.len && !s->stop; i++)
		eval_logical(s, VEC_AT(&s->touched, uint32_t, i));
	for (uint32_t i = 0; i < s->db->nldb_always && !s->stop; i++)
		eval_logical(s, s->db->ldb_always[i]);
}

/* ---- objects ---- */

static uint32_t raw_targets(enum ftype t)
{
	uint32_t m = 1u << TARGET_ANY;
	for (unsigned k = 1; k < TARGET__COUNT; k++)
		if (k != TARGET_HTML && k != TARGET_ASCII && target_applies(t, k))
			m |= 1u << k;
	return m;
}

static void scan_object(struct ward_scanner *s, const uint8_t *data, size_t len, const char *name);

static ward_err on_member(void *ctx, const char *name, const uint8_t *data, size_t len)
{
	struct ward_scanner *s = ctx;
	if (s->stop)
		return WARD_ELIMIT;
	if (s->files >= s->lim.max_files) {
		note_limit(s, LIM_FILES);
		return WARD_ELIMIT;
	}
	s->depth++;
	scan_object(s, data, len, name);
	s->depth--;
	return s->stop ? WARD_ELIMIT : WARD_OK;
}

static void walk_container(struct ward_scanner *s, struct object *o)
{
	if (s->depth + 1 > s->lim.max_recursion || s->depth + 1 > WARD_MAX_RECURSION_CAP) {
		note_limit(s, LIM_RECURSION);
		return;
	}
	/* Nothing left of a budget: say so and do not walk (archive_walk reads
	 * a zero limit as "its default", not as "none left"). */
	if (s->files >= s->lim.max_files) {
		note_limit(s, LIM_FILES);
		return;
	}
	if (s->bytes >= s->lim.max_scansize) {
		note_limit(s, LIM_SCANSIZE);
		return;
	}
	uint32_t levels_left = s->lim.max_recursion - s->depth;
	struct archive_limits al = {
		.max_filesize = s->lim.max_filesize,
		.max_files = s->lim.max_files - s->files,
		.max_total = s->lim.max_scansize - s->bytes,
		.deadline_ms = s->deadline,
		.max_layers = levels_left,
	};
	unsigned notes = 0;
	char msg[256] = "";
	ward_err e = archive_walk(o->data, o->len, &al, on_member, s, &notes, msg, sizeof msg);
	if (e != WARD_OK && e != WARD_EUNSUPPORTED && e != WARD_ELIMIT)
		note_error(s, "%s: %s", obj_label(s), ward_strerror(e));
	if (notes & AN_MAX_FILESIZE)
		note_limit(s, LIM_FILESIZE);
	if (notes & AN_MAX_FILES)
		note_limit(s, LIM_FILES);
	if (notes & (AN_MAX_SCANSIZE | AN_RATIO))
		note_limit(s, LIM_SCANSIZE);
	if (notes & AN_MAX_SCANTIME)
		note_limit(s, LIM_SCANTIME);
	if (notes & AN_MAX_RECURSION)
		note_limit(s, LIM_RECURSION);
	if (notes & AN_CORRUPT)
		note_error(s, "%s: corrupt archive: %s", obj_label(s), msg[0] ? msg : "unreadable");
}

/* One layer of an object: the raw bytes, or a normalised view of them. Like
 * ClamAV, each layer is matched on its own: logical signatures count
 * subsignature matches within one layer (clamscan does not add a text file's
 * raw and normalised matches together). */
static void scan_layer(struct ward_scanner *s, struct object *o, const uint8_t *data, size_t len,
		       uint32_t tmask)
{
	if (++s->gen == 0) {
		/* Stamps wrapped: clear them so none looks current. */
		memset(s->body_done, 0, s->db->set.body.len * sizeof *s->body_done);
		memset(s->ls_gen, 0, s->db->set.logical.len * sizeof *s->ls_gen);
		memset(s->ls_evaluated, 0, s->db->set.logical.len * sizeof *s->ls_evaluated);
		memset(s->ls_checked, 0, s->db->set.logical.len * sizeof *s->ls_checked);
		s->gen = 1;
	}
	s->lstates.len = 0;
	s->touched.len = 0;
	matcher_reset(&s->m);
	s->m.deadline_ms = s->deadline;
	s->obj = o;
	body_pass(s, data, len, tmask);
	if (!s->stop && !out_of_time(s))
		eval_logicals(s);
}

/* The normalised layer of text: ClamAV matches target 7 (ASCII) or target 3
 * (HTML) signatures, and target 0 ones too, against normalised text
 * (docs/internals/containers.md). */
static void text_layer(struct ward_scanner *s, struct object *o)
{
	uint32_t mask = o->type == FT_HTML         ? 1u << TARGET_HTML
			: o->type == FT_TEXT_ASCII ? 1u << TARGET_ASCII
						   : 0;
	if (!mask || s->stop)
		return;
	if (o->len > WARD_MAX_SCRIPT_NORMALIZE)
		return; /* MaxScriptNormalize: clamscan does not normalise larger text either */
	/* HTML normalisation can grow the text (textnorm.h: at most 2 len + 16). */
	size_t cap;
	if (ck_mul(o->len, 2, &cap) || ck_add(cap, 16, &cap))
		return;
	uint8_t *norm = w_malloc(cap);
	size_t nlen = 0;
	if (!norm) {
		note_error(s, "%s: out of memory for text normalisation", obj_label(s));
		return;
	}
	ward_err e = o->type == FT_HTML ? textnorm_html(o->data, o->len, norm, cap, &nlen)
					: textnorm_ascii(o->data, o->len, norm, cap, &nlen);
	if (e == WARD_OK)
		scan_layer(s, o, norm, nlen, mask | (1u << TARGET_ANY));
	w_free(norm);
}

static void scan_object(struct ward_scanner *s, const uint8_t *data, size_t len, const char *name)
{
	struct object *o = &s->stack[s->depth];
	memset(o, 0, sizeof *o);
	o->data = data;
	o->len = len;
	o->name = name;
	if (s->depth > 0) {
		if (len > s->lim.max_filesize) {
			note_limit(s, LIM_FILESIZE);
			return;
		}
		if (s->bytes + len > s->lim.max_scansize) {
			note_limit(s, LIM_SCANSIZE);
			return;
		}
	}
	s->files++;
	s->bytes += len;
	if (len < WARD_MIN_SCAN_SIZE || out_of_time(s))
		return;
	o->type = ftype_detect(data, len);
	if (object_allowed(s, o))
		return; /* allow-listed: clean, and so is everything inside */

	memset(&s->exe, 0, sizeof s->exe);
	ward_err xe = o->type == FT_PE    ? pe_parse(data, len, &s->exe)
		      : o->type == FT_ELF ? elf_parse(data, len, &s->exe)
					  : WARD_OK;
	if (xe != WARD_OK)
		memset(&s->exe, 0, sizeof s->exe); /* broken headers: no EP or sections */

	/* Order as clamscan reports in first-match mode: body and logical
	 * signatures of the raw layer, then hashes, then the normalised layer. */
	/* clamscan matches an HTML file only in its normalised form (target 0
	 * and 3 there); every other type gets the raw layer. */
	if (o->type != FT_HTML)
		scan_layer(s, o, data, len, raw_targets(o->type));
	if (!s->stop)
		check_file_hashes(s, o);
	if (!s->stop && s->exe.kind == EXE_PE)
		check_pe_hashes(s, o);
	if (!s->stop && !out_of_time(s))
		text_layer(s, o);
	if (!s->stop && !out_of_time(s) && ftype_is_container(o->type))
		walk_container(s, o);
}

/* ---- public API ---- */

ward_err ward_scanner_new(const ward_db *db, const ward_limits *limits, unsigned flags,
			  ward_scanner **out)
{
	*out = NULL;
	struct ward_scanner *s = w_calloc(1, sizeof *s);
	if (!s)
		return WARD_ENOMEM;
	s->db = db;
	if (limits)
		s->lim = *limits;
	else
		ward_limits_default(&s->lim);
	s->flags = flags;
	size_t nb = db->set.body.len ? db->set.body.len : 1,
	       nl = db->set.logical.len ? db->set.logical.len : 1;
	s->body_done = w_calloc(nb, sizeof *s->body_done);
	s->ls_gen = w_calloc(nl, sizeof *s->ls_gen);
	s->ls_slot = w_calloc(nl, sizeof *s->ls_slot);
	s->ls_evaluated = w_calloc(nl, sizeof *s->ls_evaluated);
	s->ls_checked = w_calloc(nl, sizeof *s->ls_checked);
	s->ls_applies = w_calloc(nl, sizeof *s->ls_applies);
	if (!s->body_done || !s->ls_gen || !s->ls_slot || !s->ls_evaluated || !s->ls_checked ||
	    !s->ls_applies)
		goto nomem;
	if (matcher_init(&s->m, db))
		goto nomem;
	/* One scratch space sized for every target's database. */
	for (unsigned t = 0; t < TARGET__COUNT; t++)
		if (db->hs[t] && hs_alloc_scratch(db->hs[t], &s->scratch) != HS_SUCCESS)
			goto nomem;
	s->pcre_md = pcre2_match_data_create(1, NULL);
	s->pcre_mc = pcre2_match_context_create(NULL);
	if (!s->pcre_md || !s->pcre_mc)
		goto nomem;
	pcre2_set_match_limit(s->pcre_mc, (uint32_t)(s->lim.pcre_match_limit > UINT32_MAX
							     ? UINT32_MAX
							     : s->lim.pcre_match_limit));
	pcre2_set_depth_limit(s->pcre_mc, (uint32_t)(s->lim.pcre_recmatch_limit > UINT32_MAX
							     ? UINT32_MAX
							     : s->lim.pcre_recmatch_limit));
	dbuf_init(&s->paths, 16u << 20);
	dbuf_init(&s->notebuf, 1u << 20);
	*out = s;
	return WARD_OK;
nomem:
	ward_scanner_free(s);
	return WARD_ENOMEM;
}

void ward_scanner_free(ward_scanner *s)
{
	if (!s)
		return;
	hs_free_scratch(s->scratch);
	pcre2_match_data_free(s->pcre_md);
	pcre2_match_context_free(s->pcre_mc);
	matcher_free(&s->m);
	w_free(s->body_done);
	w_free(s->ls_gen);
	w_free(s->ls_slot);
	w_free(s->ls_evaluated);
	w_free(s->ls_checked);
	w_free(s->ls_applies);
	vec_free(&s->lstates);
	vec_free(&s->touched);
	vec_free(&s->dets);
	vec_free(&s->notes);
	vec_free(&s->out_dets);
	vec_free(&s->out_notes);
	dbuf_free(&s->paths);
	dbuf_free(&s->notebuf);
	w_free(s);
}

static void begin_scan(struct ward_scanner *s)
{
	s->depth = 0;
	s->bytes = 0;
	s->files = 0;
	s->stop = false;
	s->limits_hit = 0;
	s->dets.len = 0;
	s->notes.len = 0;
	dbuf_reset(&s->paths);
	dbuf_reset(&s->notebuf);
	s->deadline = s->lim.max_scantime_ms ? now_ms() + s->lim.max_scantime_ms : 0;
	/* A new file gets a new budget: the verifier must not carry the last
	 * file's expiry into this one's first checks. */
	s->m.expired = false;
	s->m.deadline_ms = s->deadline;
}

static ward_err finish_scan(struct ward_scanner *s, const ward_report **report)
{
	ward_report *r = &s->report;
	memset(r, 0, sizeof *r);
	s->out_dets.len = 0;
	s->out_notes.len = 0;
	for (size_t i = 0; i < s->dets.len; i++) {
		const struct det *d = &VEC_AT(&s->dets, struct det, i);
		ward_detection wd = {strpool_get(&s->db->set.names, d->name),
				     d->path_off == SIZE_MAX ? NULL : s->paths.s + d->path_off};
		if (vec_push(&s->out_dets, &wd, sizeof wd, WARD_MAX_DETECTIONS))
			return WARD_ENOMEM;
	}
	for (size_t i = 0; i < s->notes.len; i++) {
		const char *p = s->notebuf.s + VEC_AT(&s->notes, size_t, i);
		if (vec_push(&s->out_notes, &p, sizeof p, WARD_MAX_REPORT_NOTES))
			return WARD_ENOMEM;
	}
	size_t nl = 0;
	for (unsigned b = 0; b < LIM__COUNT; b++)
		if (s->limits_hit & (1u << b))
			s->out_limits[nl++] = limit_names[b];
	r->ndetections = s->out_dets.len;
	r->detections = s->out_dets.items;
	r->nlimits = nl;
	r->limits = s->out_limits;
	r->nerrors = s->out_notes.len;
	r->errors = s->out_notes.items;
	r->bytes_scanned = s->bytes;
	r->files_scanned = s->files;
	*report = r;
	return WARD_OK;
}

ward_err ward_scanner_scan_mem(ward_scanner *s, const void *buf, size_t len, const char *path,
			       const ward_report **report)
{
	(void)path;
	*report = NULL;
	if (!buf && len)
		return WARD_EINVAL;
	begin_scan(s);
	if (len > s->lim.max_filesize) {
		/* ClamAV skips a file over MaxFileSize entirely. */
		note_limit(s, LIM_FILESIZE);
		return finish_scan(s, report);
	}
	if (len > s->lim.max_scansize) {
		/* ... and one over MaxScanSize too (clamscan --max-scansize=1K on a
		 * 3 KB file reports Heuristics.Limits.Exceeded.MaxScanSize). */
		note_limit(s, LIM_SCANSIZE);
		return finish_scan(s, report);
	}
	scan_object(s, buf ? buf : (const void *)"", len, NULL);
	return finish_scan(s, report);
}

ward_err ward_scanner_scan_fd(ward_scanner *s, int fd, const char *path, const ward_report **report)
{
	struct stat st;
	*report = NULL;
	if (fstat(fd, &st) != 0)
		return WARD_EIO;
	if (S_ISDIR(st.st_mode))
		return WARD_EINVAL;
	if (S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > s->lim.max_filesize) {
			begin_scan(s);
			note_limit(s, LIM_FILESIZE);
			return finish_scan(s, report);
		}
		size_t len = (size_t)st.st_size;
		if (len == 0)
			return ward_scanner_scan_mem(s, "", 0, path, report);
		void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED) {
			(void)madvise(map, len, MADV_SEQUENTIAL);
			ward_err e = ward_scanner_scan_mem(s, map, len, path, report);
			munmap(map, len);
			return e;
		}
	}
	/* Not mappable (pipe, device, or mmap refused): read up to MaxFileSize. */
	dbuf b;
	dbuf_init(&b, s->lim.max_filesize + 1 > SIZE_MAX - 1 ? SIZE_MAX - 1
							     : (size_t)s->lim.max_filesize + 1);
	char chunk[65536];
	bool over = false;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			dbuf_free(&b);
			return WARD_EIO;
		}
		if (n == 0)
			break;
		ward_err e = dbuf_add(&b, chunk, (size_t)n);
		if (e == WARD_ELIMIT) {
			over = true;
			break;
		}
		if (e) {
			dbuf_free(&b);
			return e;
		}
	}
	ward_err e;
	if (over) {
		begin_scan(s);
		note_limit(s, LIM_FILESIZE);
		e = finish_scan(s, report);
	} else {
		e = ward_scanner_scan_mem(s, b.s ? b.s : "", b.len, path, report);
	}
	/* The report does not point into b: names come from the database. */
	dbuf_free(&b);
	return e;
}
