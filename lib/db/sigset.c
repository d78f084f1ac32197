/*
 * The parsed signature set: lifetime, diagnostics, names, and ignore lists.
 * Design note: docs/internals/db.md.
 */
#include "db/sigs.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

/* clamscan appends this to every signature name that did not come from a
 * signed CVD/CLD (readdb.c behaviour, checked with clamscan 1.4.6 on .hdb,
 * .hsb, .mdb, .ndb and .ldb files). */
static const char unofficial_suffix[] = ".UNOFFICIAL";
#define UNOFFICIAL_LEN (sizeof unofficial_suffix - 1)

void sigset_init(struct sigset *set, const ward_load_opts *opts)
{
	memset(set, 0, sizeof *set);
	strpool_init(&set->names);
	if (opts) {
		set->diag = opts->diag;
		set->diag_ctx = opts->diag_ctx;
		set->load_flags = opts->flags;
	}
}

static void free_bodysig(struct bodysig *b) { pattern_free(&b->pat); }

static void free_logicsig(struct logicsig *l)
{
	w_free(l->expr);
	l->expr = NULL;
	l->nexpr = 0;
	w_free(l->subs);
	l->subs = NULL;
}

static void free_pcresig(struct pcresig *p)
{
	w_free(p->trigger);
	w_free(p->regex);
	p->trigger = NULL;
	p->regex = NULL;
}

void sigset_free(struct sigset *set)
{
	if (!set)
		return;
	if (set->borrowed) {
		/* In the image (freed by its owner, ward_db_free). */
		memset(&set->body, 0, sizeof set->body);
		memset(&set->logical, 0, sizeof set->logical);
		memset(&set->pcre, 0, sizeof set->pcre);
		memset(&set->bytecmp, 0, sizeof set->bytecmp);
		memset(&set->names, 0, sizeof set->names);
	}
	for (size_t i = 0; i < set->body.len; i++)
		free_bodysig(&VEC_AT(&set->body, struct bodysig, i));
	for (size_t i = 0; i < set->logical.len; i++)
		free_logicsig(&VEC_AT(&set->logical, struct logicsig, i));
	for (size_t i = 0; i < set->pcre.len; i++)
		free_pcresig(&VEC_AT(&set->pcre, struct pcresig, i));
	vec_free(&set->body);
	vec_free(&set->logical);
	vec_free(&set->pcre);
	vec_free(&set->bytecmp);
	vec_free(&set->hashes);
	vec_free(&set->ignored);
	vec_free(&set->ignored_md5);
	vec_free(&set->unsupported);
	strpool_free(&set->names);
}

void sigset_bad_line(struct sigset *set, const char *file, unsigned long line, ward_err code,
		     const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	set->counts[WARD_COUNT_BAD_LINES]++;
	if (!set->diag)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	set->diag(set->diag_ctx, code ? code : WARD_ECORRUPT, file, line, reason);
}

ward_err sigset_unsupported(struct sigset *set, const char *feature)
{
	char name[sizeof(((struct unsupported_feature *)0)->name)];
	size_t n = 0;

	/* Feature names may carry database text (an unknown TDB key): keep
	 * printable ASCII only so reports cannot carry control sequences. */
	for (const char *p = feature; *p && n < sizeof name - 1; p++)
		name[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
	name[n] = '\0';

	set->counts[WARD_COUNT_UNSUPPORTED]++;
	for (size_t i = 0; i < set->unsupported.len; i++) {
		struct unsupported_feature *f =
			&VEC_AT(&set->unsupported, struct unsupported_feature, i);
		if (strcmp(f->name, name) == 0) {
			f->count++;
			return WARD_OK;
		}
	}
	if (set->unsupported.len >= WARD_MAX_UNSUPPORTED_FEATURES - 1) {
		/* The last slot collects everything past the ceiling. */
		static const char other[] = "other";
		for (size_t i = 0; i < set->unsupported.len; i++) {
			struct unsupported_feature *f =
				&VEC_AT(&set->unsupported, struct unsupported_feature, i);
			if (strcmp(f->name, other) == 0) {
				f->count++;
				return WARD_OK;
			}
		}
		memcpy(name, other, sizeof other);
	}
	struct unsupported_feature nf;
	memset(&nf, 0, sizeof nf);
	memcpy(nf.name, name, strlen(name) + 1);
	nf.count = 1;
	ward_err e = vec_push(&set->unsupported, &nf, sizeof nf, WARD_MAX_UNSUPPORTED_FEATURES);
	if (e)
		set->counts[WARD_COUNT_UNSUPPORTED]--;
	return e;
}

ward_err sigset_add_name(struct sigset *set, const char *name, size_t len, bool official,
			 uint32_t *off)
{
	char buf[WARD_MAX_NAME + UNOFFICIAL_LEN];

	/* ClamAV refuses empty names ("Empty virus name"). Control bytes (NUL
	 * above all) would cut or garble the name in every report. */
	if (len == 0 || len > WARD_MAX_NAME)
		return WARD_ECORRUPT;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return WARD_ECORRUPT;
	memcpy(buf, name, len);
	if (!official) {
		memcpy(buf + len, unofficial_suffix, UNOFFICIAL_LEN);
		len += UNOFFICIAL_LEN;
	}
	return strpool_add(&set->names, buf, len, off);
}

/* ---- ignore lists ---- */

static uint32_t name_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

bool sigset_line_ignored(const struct sigset *set, const char *name, size_t namelen,
			 const char *line, size_t linelen)
{
	uint8_t md5[EVP_MAX_MD_SIZE];
	bool have_md5 = false;

	for (size_t i = 0; i < set->ignored_md5.len; i++) {
		const struct ignore_md5 *ig = &VEC_AT(&set->ignored_md5, struct ignore_md5, i);
		const char *ign = strpool_get(&set->names, ig->name);
		if (strlen(ign) != namelen || memcmp(ign, name, namelen) != 0)
			continue;
		if (!have_md5) {
			unsigned int mdlen = 0;
			if (!EVP_Digest(line, linelen, md5, &mdlen, EVP_md5(), NULL) || mdlen != 16)
				return false; /* cannot check: keep the signature (fail safe) */
			have_md5 = true;
		}
		if (memcmp(md5, ig->md5, 16) == 0)
			return true;
	}
	return false;
}

/* Open-addressing set of the bare ignored names, built once per apply. */
struct nameset {
	uint32_t *slots; /* strpool offset + 1; 0 = empty */
	size_t mask;
};

static ward_err nameset_build(const struct sigset *set, struct nameset *ns)
{
	size_t n = set->ignored.len, cap = 16;
	while (cap < n * 2) {
		if (ck_mul(cap, 2, &cap))
			return WARD_ENOMEM;
	}
	ns->slots = w_calloc(cap, sizeof *ns->slots);
	if (!ns->slots)
		return WARD_ENOMEM;
	ns->mask = cap - 1;
	for (size_t i = 0; i < n; i++) {
		uint32_t off = VEC_AT(&set->ignored, uint32_t, i);
		const char *s = strpool_get(&set->names, off);
		size_t len = strlen(s);
		size_t h = name_hash(s, len) & ns->mask;
		/* The table is at most half full, so probing ends. */
		while (ns->slots[h]) {
			const char *t = strpool_get(&set->names, ns->slots[h] - 1);
			if (strcmp(s, t) == 0)
				break;
			h = (h + 1) & ns->mask;
		}
		ns->slots[h] = off + 1;
	}
	return WARD_OK;
}

static bool nameset_has(const struct sigset *set, const struct nameset *ns, uint32_t name,
			uint32_t base_len)
{
	const char *s = strpool_get(&set->names, name);
	size_t h = name_hash(s, base_len) & ns->mask;
	while (ns->slots[h]) {
		const char *t = strpool_get(&set->names, ns->slots[h] - 1);
		if (strlen(t) == base_len && memcmp(s, t, base_len) == 0)
			return true;
		h = (h + 1) & ns->mask;
	}
	return false;
}

static unsigned hash_count_kind(const struct hashsig *h)
{
	if (h->allow)
		return WARD_COUNT_ALLOW;
	if (h->scope == HSCOPE_SECTION)
		return WARD_COUNT_SECTHASH;
	if (h->scope == HSCOPE_IMPORTS)
		return WARD_COUNT_IMPHASH;
	return WARD_COUNT_HASH;
}

static void lower_count(struct sigset *set, unsigned what)
{
	if (ALWAYS(set->counts[what] > 0))
		set->counts[what]--;
}

/* Remove signatures whose names are ignored. Logical signatures go first and
 * leave a map old index -> new index (UINT32_MAX when dropped); the
 * subsignature tables are then compacted through that map, and each kept
 * logical signature's subs[] is rewritten through the tables' own maps. */
void sigset_apply_ignores(struct sigset *set)
{
	struct nameset ns = {NULL, 0};
	uint32_t *lmap = NULL, *bmap = NULL, *pmap = NULL, *cmap = NULL;
	ward_err e;

	if (set->ignored.len == 0)
		return;
	e = nameset_build(set, &ns);
	if (e)
		goto out;
	lmap = w_alloc_array(set->logical.len + 1, sizeof *lmap);
	bmap = w_alloc_array(set->body.len + 1, sizeof *bmap);
	pmap = w_alloc_array(set->pcre.len + 1, sizeof *pmap);
	cmap = w_alloc_array(set->bytecmp.len + 1, sizeof *cmap);
	if (!lmap || !bmap || !pmap || !cmap) {
		e = WARD_ENOMEM;
		goto out;
	}

	size_t keep = 0;
	for (size_t i = 0; i < set->logical.len; i++) {
		struct logicsig *l = &VEC_AT(&set->logical, struct logicsig, i);
		if (nameset_has(set, &ns, l->name, l->base_name_len)) {
			free_logicsig(l);
			lmap[i] = UINT32_MAX;
			lower_count(set, WARD_COUNT_LOGICAL);
			continue;
		}
		lmap[i] = (uint32_t)keep;
		if (keep != i)
			VEC_AT(&set->logical, struct logicsig, keep) = *l;
		keep++;
	}
	set->logical.len = keep;

	keep = 0;
	for (size_t i = 0; i < set->body.len; i++) {
		struct bodysig *b = &VEC_AT(&set->body, struct bodysig, i);
		bool drop;
		if (b->logical == UINT32_MAX) {
			drop = nameset_has(set, &ns, b->name, b->base_name_len);
			if (drop)
				lower_count(set, WARD_COUNT_BODY);
		} else {
			drop = lmap[b->logical] == UINT32_MAX;
			if (!drop)
				b->logical = lmap[b->logical];
		}
		if (drop) {
			free_bodysig(b);
			bmap[i] = UINT32_MAX;
			continue;
		}
		bmap[i] = (uint32_t)keep;
		if (keep != i)
			VEC_AT(&set->body, struct bodysig, keep) = *b;
		keep++;
	}
	set->body.len = keep;

	keep = 0;
	for (size_t i = 0; i < set->pcre.len; i++) {
		struct pcresig *p = &VEC_AT(&set->pcre, struct pcresig, i);
		if (lmap[p->logical] == UINT32_MAX) {
			free_pcresig(p);
			pmap[i] = UINT32_MAX;
			continue;
		}
		p->logical = lmap[p->logical];
		pmap[i] = (uint32_t)keep;
		if (keep != i)
			VEC_AT(&set->pcre, struct pcresig, keep) = *p;
		keep++;
	}
	set->pcre.len = keep;

	keep = 0;
	for (size_t i = 0; i < set->bytecmp.len; i++) {
		struct bytecmpsig *c = &VEC_AT(&set->bytecmp, struct bytecmpsig, i);
		if (lmap[c->logical] == UINT32_MAX) {
			cmap[i] = UINT32_MAX;
			continue;
		}
		c->logical = lmap[c->logical];
		cmap[i] = (uint32_t)keep;
		if (keep != i)
			VEC_AT(&set->bytecmp, struct bytecmpsig, keep) = *c;
		keep++;
	}
	set->bytecmp.len = keep;

	for (size_t i = 0; i < set->logical.len; i++) {
		struct logicsig *l = &VEC_AT(&set->logical, struct logicsig, i);
		for (uint32_t s = 0; s < l->nsubs && s < WARD_MAX_SUBSIGS; s++) {
			struct subsig *sub = &l->subs[s];
			if (sub->kind == SUB_BODY)
				sub->index = bmap[sub->index];
			else if (sub->kind == SUB_PCRE)
				sub->index = pmap[sub->index];
			else if (sub->kind == SUB_BYTECMP)
				sub->index = cmap[sub->index];
			/* A kept signature's parts are all kept. */
			if (NEVER(sub->kind != SUB_NEVER && sub->index == UINT32_MAX))
				sub->kind = SUB_NEVER;
		}
	}

	keep = 0;
	for (size_t i = 0; i < set->hashes.len; i++) {
		struct hashsig *h = &VEC_AT(&set->hashes, struct hashsig, i);
		if (nameset_has(set, &ns, h->name, h->base_name_len)) {
			lower_count(set, hash_count_kind(h));
			continue;
		}
		if (keep != i)
			VEC_AT(&set->hashes, struct hashsig, keep) = *h;
		keep++;
	}
	set->hashes.len = keep;
	e = WARD_OK;

out:
	if (e && set->diag)
		set->diag(
			set->diag_ctx, e, NULL, 0,
			"ignore lists not applied: out of memory; ignored signatures stay loaded");
	w_free(ns.slots);
	w_free(lmap);
	w_free(bmap);
	w_free(pmap);
	w_free(cmap);
}

size_t db_split_fields(const char *s, size_t len, char sep, const char **f, size_t *flen,
		       size_t max)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != sep)
			continue;
		if (n == max)
			return max + 1;
		f[n] = s + start;
		flen[n] = i - start;
		n++;
		start = i + 1;
	}
	return n;
}
