/*
 * Compiled images. With the Vectorscan databases cached (cache.c), loading
 * the official sets still spent most of its time on the signature text:
 * parsing 11 MB of main.ldb and planning the anchors of 200,000 patterns
 * (0.57 s for main.ldb + main.hdb + daily.ndb, clamscan 0.9 s). An image is
 * everything the parse and the plan produce, written as flat arrays, so the
 * next load of the same signatures reads one file, checks its digest and
 * sets pointers.
 *
 *   key = SHA-256(image format, Ward's version and build id, Vectorscan's
 *                 version and platform, the load flags, the paths as given,
 *                 then, in load order, every file the load reads (its path
 *                 and bytes) and every diagnostic of the directory walk)
 *
 * The key is computed by the load's own walk (lib/db/load.c, key_only): the
 * same files, the same order, the same directory listing. The build id
 * (the linker's NT_GNU_BUILD_ID of the object holding this code) changes
 * with any change to Ward's code, so an image is never read by a Ward that
 * would have parsed the text differently. A miss loads the text and stores
 * the image under the key of what it actually parsed (hashed as it read),
 * so a file changed between the two walks gives an image nobody looks up,
 * never a wrong one.
 *
 * Trust: as for the Vectorscan cache files (same checks, cache.c): ours, not
 * writable by others, key in the header, SHA-256 of the body. Offsets and
 * counts are still checked against the sections before any pointer is set.
 *
 * The load's diagnostics (bad lines, unsupported features) are stored in the
 * image and given again on every load from it, so a cached load reports the
 * same as the first. PCRE2 programs are compiled on every load (they cannot
 * be stored with their JIT code), and their diagnostics come from that.
 *
 * Body layout: a table of SEC__COUNT (offset, length) pairs, then the
 * sections, each 16-byte aligned. Arrays of structs with pointers (body,
 * logical and PCRE signatures) are stored with the pointers zeroed; what they
 * point to is stored in pools, in array order, and the pointers are rebuilt
 * by walking the array with the counts it holds.
 */
#define _GNU_SOURCE /* dl_iterate_phdr */
#include "compile/image.h"

#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "compile/cache.h"

#define IMAGE_MAGIC "WARDIMG1"
#define IMAGE_EXT "wimg"
#define IMAGE_ALIGN 16u
#define NHASHTAB (3u * HASH__COUNT + HASH__COUNT) /* detections by scope, allow-list */

enum sec {
	SEC_SCALARS = 0,
	SEC_NAMES,
	SEC_BODY,
	SEC_NODES,
	SEC_SEQS,
	SEC_SEGS,
	SEC_LOGICAL,
	SEC_SUBS,
	SEC_EXPR,
	SEC_PCRE,
	SEC_TRIGGERS,
	SEC_REGEX,
	SEC_BYTECMP,
	SEC_UNSUPPORTED,
	SEC_PLANS,
	SEC_SEGLITS,
	SEC_ANCHOR_FIRST,
	SEC_ANCHOR_SIGS,
	SEC_UNANCHORED,
	SEC_UNANCH_TEST,
	SEC_LDB_ALWAYS,
	SEC_LDB_EXTRA_FIRST,
	SEC_LDB_EXTRA_LIST,
	SEC_LDB_COUNT_CAP,
	SEC_DIAGS,
	SEC_HASHTAB, /* NHASHTAB sections: hashes[scope][kind], then allow[kind] */
	SEC__COUNT = SEC_HASHTAB + NHASHTAB
};

struct sec_entry {
	uint64_t off, len;
};

/* Everything of the database that is not an array. */
struct scalars {
	uint64_t set_counts[WARD_COUNT__MAX];
	uint64_t anchors, unanchored; /* db->counts[WARD_COUNT_ANCHORS, _UNANCHORED] */
	uint64_t nseglits;
	uint32_t nanchors, anchor_len_max, max_span, nunanchored, nldb_always;
	uint32_t unanch_first[TARGET__COUNT + 1];
	uint8_t hs_keyed[TARGET__COUNT];
	uint8_t hs_key[TARGET__COUNT][32];
	uint8_t any_size[NHASHTAB];
};

/* A diagnostic as stored: code, line, lengths, then the file name (absent
 * when file_len is NO_FILE) and the message, without NULs. */
struct diag_hdr {
	uint32_t code;
	uint32_t file_len;
	uint64_t line;
	uint32_t msg_len;
	uint32_t pad;
};
#define NO_FILE UINT32_MAX

static const struct hashtab *hashtab_at(const struct ward_db *db, unsigned i)
{
	return i < 3u * HASH__COUNT ? &db->hashes[i / HASH__COUNT][i % HASH__COUNT]
				    : &db->allow[i - 3u * HASH__COUNT];
}

/* ---- the key ---- */

struct build_id {
	const void *anchor; /* an address inside the object we want */
	const uint8_t *id;
	size_t len;
};

static int find_build_id(struct dl_phdr_info *info, size_t size, void *vctx)
{
	(void)size;
	struct build_id *b = vctx;
	uintptr_t a = (uintptr_t)b->anchor;
	bool mine = false;
	for (unsigned i = 0; i < info->dlpi_phnum && !mine; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		mine = ph->p_type == PT_LOAD && a >= lo && a - lo < ph->p_memsz;
	}
	if (!mine)
		return 0;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		/* The loader gives the object's base as an integer. */
		const uint8_t *p =
			(const uint8_t *)(info->dlpi_addr + // NOLINT(performance-no-int-to-ptr)
					  ph->p_vaddr);
		size_t left = ph->p_memsz;
		/* Notes of our own mapped object: trusted, still walked with bounds. */
		while (left >= sizeof(ElfW(Nhdr))) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)(const void *)p;
			size_t nsz = ((size_t)nh->n_namesz + 3u) & ~(size_t)3u;
			size_t dsz = ((size_t)nh->n_descsz + 3u) & ~(size_t)3u;
			size_t all = sizeof *nh + nsz + dsz;
			if (nsz > left || dsz > left || all > left)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    !memcmp(p + sizeof *nh, "GNU", 4) && nh->n_descsz > 0) {
				b->id = p + sizeof *nh + nsz;
				b->len = nh->n_descsz;
				return 1;
			}
			p += all;
			left -= all;
		}
	}
	return 1;
}

struct evp_md_ctx_st *image_key_begin(const char *const *paths, size_t npaths,
				      const ward_load_opts *opts)
{
	struct build_id b = {.anchor = (const void *)&image_key_begin};
	hs_platform_info_t plat;
	memset(&plat, 0, sizeof plat);
	dl_iterate_phdr(find_build_id, &b);
	/* Without a build id nothing tells this Ward's parser from another's. */
	if (!b.id || hs_populate_platform(&plat) != HS_SUCCESS)
		return NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md)
		return NULL;
	const char *hv = hs_version();
	uint32_t flags = opts ? opts->flags : 0;
	uint64_t n = npaths;
	bool ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
		  EVP_DigestUpdate(md, IMAGE_MAGIC, 8) == 1 &&
		  EVP_DigestUpdate(md, WARD_VERSION, sizeof WARD_VERSION) == 1 &&
		  EVP_DigestUpdate(md, &b.len, sizeof b.len) == 1 &&
		  EVP_DigestUpdate(md, b.id, b.len) == 1 &&
		  EVP_DigestUpdate(md, hv, strlen(hv) + 1) == 1 &&
		  EVP_DigestUpdate(md, &plat.tune, sizeof plat.tune) == 1 &&
		  EVP_DigestUpdate(md, &plat.cpu_features, sizeof plat.cpu_features) == 1 &&
		  EVP_DigestUpdate(md, &flags, sizeof flags) == 1 &&
		  EVP_DigestUpdate(md, &n, sizeof n) == 1;
	for (size_t i = 0; ok && i < npaths; i++) {
		uint64_t l = strlen(paths[i]);
		ok = EVP_DigestUpdate(md, &l, sizeof l) == 1 &&
		     EVP_DigestUpdate(md, paths[i], l) == 1;
	}
	if (!ok) {
		EVP_MD_CTX_free(md);
		return NULL;
	}
	return md;
}

bool image_key_end(struct evp_md_ctx_st *md, bool failed, uint8_t key[32])
{
	bool ok = !failed && EVP_DigestFinal_ex(md, key, NULL) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

bool image_key(const char *const *paths, size_t npaths, const ward_load_opts *opts, uint8_t key[32])
{
	struct sigset walk;
	EVP_MD_CTX *md = image_key_begin(paths, npaths, opts);
	if (!md)
		return false;
	sigset_init(&walk, opts);
	walk.diag = NULL;
	walk.key_md = md;
	walk.key_only = true;
	bool failed = false;
	for (size_t i = 0; i < npaths && !failed; i++) {
		ward_err e = db_load_path(&walk, paths[i]);
		failed = e == WARD_ENOMEM || e == WARD_EINTERNAL;
	}
	failed = failed || walk.key_failed;
	sigset_free(&walk);
	return image_key_end(md, failed, key);
}

/* ---- writing ---- */

/* Three passes over the same calls: measure (the section table), digest,
 * write. The image is never built in memory: for the official sets it is
 * about 100 MB, as large as the database itself. */
struct writer {
	struct sec_entry *tab; /* filled by the measuring pass */
	bool measuring;
	EVP_MD_CTX *md; /* digest pass */
	int fd;         /* write pass, else -1 */
	uint8_t *stage; /* write pass: bytes not yet written */
	size_t staged;
	bool failed;
	size_t at;
	unsigned cur;
};

#define STAGE_SIZE (1u << 20)

static void w_flush(struct writer *w)
{
	if (w->staged && !w->failed && !fd_write_all(w->fd, w->stage, w->staged))
		w->failed = true;
	w->staged = 0;
}

static void w_put(struct writer *w, const void *p, size_t n)
{
	w->at += n;
	if (!n || w->failed || w->measuring)
		return;
	if (w->md && EVP_DigestUpdate(w->md, p, n) != 1)
		w->failed = true;
	if (w->fd < 0)
		return;
	if (n > STAGE_SIZE - w->staged) {
		w_flush(w);
		if (n >= STAGE_SIZE) {
			if (!w->failed && !fd_write_all(w->fd, p, n))
				w->failed = true;
			return;
		}
	}
	memcpy(w->stage + w->staged, p, n);
	w->staged += n;
}

static void w_begin(struct writer *w, unsigned sec)
{
	static const uint8_t zeros[IMAGE_ALIGN];
	w_put(w, zeros, (IMAGE_ALIGN - w->at % IMAGE_ALIGN) % IMAGE_ALIGN);
	w->cur = sec;
	if (w->measuring)
		w->tab[sec].off = w->at;
}

static void w_end(struct writer *w)
{
	if (w->measuring)
		w->tab[w->cur].len = w->at - w->tab[w->cur].off;
}

static void w_section(struct writer *w, unsigned sec, const void *p, size_t n)
{
	w_begin(w, sec);
	w_put(w, p, n);
	w_end(w);
}

/* Write an array of structs with their pointer fields zeroed by clear():
 * through a small copy, a few at a time. */
static void w_structs(struct writer *w, unsigned sec, const void *items, size_t n, size_t size,
		      void (*clear)(void *item))
{
	_Alignas(16) uint8_t tmp[8192];
	size_t per = sizeof tmp / size;
	w_begin(w, sec);
	for (size_t i = 0; i < n; i += per) {
		size_t k = n - i < per ? n - i : per;
		memcpy(tmp, (const uint8_t *)items + i * size, k * size);
		for (size_t j = 0; j < k; j++)
			clear(tmp + j * size);
		w_put(w, tmp, k * size);
	}
	w_end(w);
}

/* One pool section: what field ptr of each of the n items of arr points to
 * (cnt elements of type T each), in array order; fix_* take it back apart. */
#define W_POOL(w, sec, arr, n, ptr, cnt, T) \
	do { \
		w_begin(w, sec); \
		for (size_t i_ = 0; i_ < (n); i_++) \
			w_put(w, (arr)[i_].ptr, (size_t)(arr)[i_].cnt * sizeof(T)); \
		w_end(w); \
	} while (0)

static void clear_body(void *v)
{
	struct bodysig *b = v;
	b->pat.nodes = NULL;
	b->pat.seqs = NULL;
	b->pat.segs = NULL;
}

static void clear_logical(void *v)
{
	struct logicsig *l = v;
	l->subs = NULL;
	l->expr = NULL;
}

static void clear_pcre(void *v)
{
	struct pcresig *p = v;
	p->trigger = NULL;
	p->regex = NULL;
}

static void write_all(struct writer *w, const struct ward_db *db, const dbuf *diags)
{
	const struct sigset *set = &db->set;
	const struct bodysig *body = set->body.items;
	const struct logicsig *lg = set->logical.items;
	const struct pcresig *pc = set->pcre.items;
	size_t nb = set->body.len, nl = set->logical.len, np = set->pcre.len;

	struct scalars sc;
	memset(&sc, 0, sizeof sc);
	memcpy(sc.set_counts, set->counts, sizeof sc.set_counts);
	sc.anchors = db->counts[WARD_COUNT_ANCHORS];
	sc.unanchored = db->counts[WARD_COUNT_UNANCHORED];
	sc.nseglits = db->nseglits;
	sc.nanchors = db->nanchors;
	sc.anchor_len_max = db->anchor_len_max;
	sc.max_span = db->max_span;
	sc.nunanchored = db->nunanchored;
	sc.nldb_always = db->nldb_always;
	memcpy(sc.unanch_first, db->unanch_first, sizeof sc.unanch_first);
	for (unsigned t = 0; t < TARGET__COUNT; t++) {
		sc.hs_keyed[t] = db->hs_keyed[t];
		memcpy(sc.hs_key[t], db->hs_key[t], 32);
	}
	for (unsigned i = 0; i < NHASHTAB; i++)
		sc.any_size[i] = hashtab_at(db, i)->any_size;

	w_put(w, w->tab, SEC__COUNT * sizeof(struct sec_entry));
	w_section(w, SEC_SCALARS, &sc, sizeof sc);
	w_section(w, SEC_NAMES, set->names.buf.s, set->names.buf.len);
	w_structs(w, SEC_BODY, body, nb, sizeof *body, clear_body);
	W_POOL(w, SEC_NODES, body, nb, pat.nodes, pat.nnodes, struct pnode);
	W_POOL(w, SEC_SEQS, body, nb, pat.seqs, pat.nseqs, struct pseq);
	W_POOL(w, SEC_SEGS, body, nb, pat.segs, pat.nsegs, struct psegment);
	w_structs(w, SEC_LOGICAL, lg, nl, sizeof *lg, clear_logical);
	W_POOL(w, SEC_SUBS, lg, nl, subs, nsubs, struct subsig);
	W_POOL(w, SEC_EXPR, lg, nl, expr, nexpr, struct lnode);
	w_structs(w, SEC_PCRE, pc, np, sizeof *pc, clear_pcre);
	W_POOL(w, SEC_TRIGGERS, pc, np, trigger, ntrigger, struct lnode);
	w_begin(w, SEC_REGEX);
	for (size_t i = 0; i < np; i++)
		w_put(w, pc[i].regex, strlen(pc[i].regex) + 1);
	w_end(w);
	w_section(w, SEC_BYTECMP, set->bytecmp.items, set->bytecmp.len * sizeof(struct bytecmpsig));
	w_section(w, SEC_UNSUPPORTED, set->unsupported.items,
		  set->unsupported.len * sizeof(struct unsupported_feature));
	w_section(w, SEC_PLANS, db->plans, nb * sizeof *db->plans);
	w_section(w, SEC_SEGLITS, db->seglits, db->nseglits * sizeof *db->seglits);
	w_section(w, SEC_ANCHOR_FIRST, db->anchor_first,
		  ((size_t)db->nanchors + 1) * sizeof *db->anchor_first);
	w_section(w, SEC_ANCHOR_SIGS, db->anchor_sigs,
		  db->anchor_first[db->nanchors] * sizeof *db->anchor_sigs);
	w_section(w, SEC_UNANCHORED, db->unanchored, db->nunanchored * sizeof *db->unanchored);
	w_section(w, SEC_UNANCH_TEST, db->unanch_test, db->nunanchored * sizeof *db->unanch_test);
	w_section(w, SEC_LDB_ALWAYS, db->ldb_always, db->nldb_always * sizeof *db->ldb_always);
	w_section(w, SEC_LDB_EXTRA_FIRST, db->ldb_extra_first,
		  (nl + 1) * sizeof *db->ldb_extra_first);
	w_section(w, SEC_LDB_EXTRA_LIST, db->ldb_extra_list,
		  (np + set->bytecmp.len) * sizeof *db->ldb_extra_list);
	w_section(w, SEC_LDB_COUNT_CAP, db->ldb_count_cap, nl * sizeof *db->ldb_count_cap);
	w_section(w, SEC_DIAGS, diags->s, diags->len);
	for (unsigned i = 0; i < NHASHTAB; i++) {
		const struct hashtab *t = hashtab_at(db, i);
		w_section(w, SEC_HASHTAB + i, t->v, t->n * sizeof *t->v);
	}
}

bool image_store(const char *dir, const uint8_t key[32], const struct ward_db *db,
		 const dbuf *diags)
{
	struct sec_entry tab[SEC__COUNT];
	struct writer w = {.tab = tab, .measuring = true, .fd = -1};
	struct cache_out o = {.fd = -1};
	uint8_t digest[32];
	bool ok = false;
	for (unsigned t = 0; t < TARGET__COUNT; t++)
		if (db->hs[t] && !db->hs_keyed[t])
			return false; /* a Vectorscan database the image could not name */
	memset(tab, 0, sizeof tab);
	write_all(&w, db, diags);
	if (w.at > WARD_MAX_CACHE_FILE)
		return false;
	uint64_t blen = w.at;
	/* Digest, then write: the header, which holds the digest, comes first. */
	w = (struct writer){.tab = tab, .fd = -1, .md = EVP_MD_CTX_new()};
	if (!w.md || EVP_DigestInit_ex(w.md, EVP_sha256(), NULL) != 1)
		goto out;
	write_all(&w, db, diags);
	if (w.failed || w.at != blen || EVP_DigestFinal_ex(w.md, digest, NULL) != 1)
		goto out;
	EVP_MD_CTX_free(w.md);
	w = (struct writer){.tab = tab, .fd = -1, .stage = w_malloc(STAGE_SIZE)};
	if (!w.stage || !cache_out_begin(&o, dir, key, IMAGE_EXT, IMAGE_MAGIC, digest, blen))
		goto out;
	w.fd = o.fd;
	write_all(&w, db, diags);
	w_flush(&w);
	ok = cache_out_end(&o, !w.failed && w.at == blen);
	cache_evict(dir, IMAGE_EXT, WARD_MAX_CACHED_IMAGES);
out:
	EVP_MD_CTX_free(w.md);
	w_free(w.stage);
	if (o.fd >= 0)
		(void)cache_out_end(&o, false);
	return ok;
}

bool image_diag_add(dbuf *diags, ward_err code, const char *file, unsigned long line,
		    const char *msg)
{
	size_t fl = file ? strlen(file) : 0, ml = msg ? strlen(msg) : 0;
	if (fl > WARD_MAX_DB_PATH || ml > WARD_MAX_DIAG_MSG)
		return false;
	struct diag_hdr h = {(uint32_t)code, file ? (uint32_t)fl : NO_FILE, line, (uint32_t)ml, 0};
	return dbuf_add(diags, &h, sizeof h) == WARD_OK && dbuf_add(diags, file, fl) == WARD_OK &&
	       dbuf_add(diags, msg, ml) == WARD_OK;
}

/* ---- reading ---- */

struct reader {
	uint8_t *base; /* the body: writable, ours */
	size_t len;
	const struct sec_entry *tab;
};

/* Section sec as an array of elements of size bytes: NULL when its bounds
 * are bad or its length is not a whole number of them. */
static void *r_array(const struct reader *r, unsigned sec, size_t size, size_t *n)
{
	const struct sec_entry *e = &r->tab[sec];
	uint64_t end;
	*n = 0;
	if (ck_add64(e->off, e->len, &end) || end > r->len || e->off % IMAGE_ALIGN || e->len % size)
		return NULL;
	*n = (size_t)(e->len / size);
	return r->base + e->off;
}

/* The same with an exact element count. */
static void *r_exact(const struct reader *r, unsigned sec, size_t size, size_t want)
{
	size_t n;
	void *p = r_array(r, sec, size, &n);
	return p && n == want ? p : NULL;
}

/* Hand out pool elements in array order: count elements from *at. */
static void *r_take(void *pool, size_t size, size_t npool, size_t *at, size_t count)
{
	if (count > npool - *at)
		return NULL;
	void *p = (uint8_t *)pool + *at * size;
	*at += count;
	return p;
}

static bool fix_body(const struct reader *r, struct bodysig *b, size_t nb)
{
	size_t nn = 0, ns = 0, ng = 0, an = 0, as = 0, ag = 0;
	struct pnode *nodes = r_array(r, SEC_NODES, sizeof *nodes, &nn);
	struct pseq *seqs = r_array(r, SEC_SEQS, sizeof *seqs, &ns);
	struct psegment *segs = r_array(r, SEC_SEGS, sizeof *segs, &ng);
	if (!nodes || !seqs || !segs)
		return false;
	for (size_t i = 0; i < nb; i++) {
		struct pattern *p = &b[i].pat;
		p->nodes = r_take(nodes, sizeof *nodes, nn, &an, p->nnodes);
		p->seqs = r_take(seqs, sizeof *seqs, ns, &as, p->nseqs);
		p->segs = r_take(segs, sizeof *segs, ng, &ag, p->nsegs);
		if (!p->nodes || !p->seqs || !p->segs)
			return false;
	}
	return an == nn && as == ns && ag == ng;
}

static bool fix_logical(const struct reader *r, struct logicsig *l, size_t nl)
{
	size_t nsub = 0, nexp = 0, asub = 0, aexp = 0;
	struct subsig *subs = r_array(r, SEC_SUBS, sizeof *subs, &nsub);
	struct lnode *expr = r_array(r, SEC_EXPR, sizeof *expr, &nexp);
	if (!subs || !expr)
		return false;
	for (size_t i = 0; i < nl; i++) {
		l[i].subs = r_take(subs, sizeof *subs, nsub, &asub, l[i].nsubs);
		l[i].expr = r_take(expr, sizeof *expr, nexp, &aexp, l[i].nexpr);
		if (!l[i].subs || !l[i].expr)
			return false;
	}
	return asub == nsub && aexp == nexp;
}

static bool fix_pcre(const struct reader *r, struct pcresig *p, size_t np)
{
	size_t ntr = 0, nrx = 0, atr = 0, arx = 0;
	struct lnode *trig = r_array(r, SEC_TRIGGERS, sizeof *trig, &ntr);
	char *rx = r_array(r, SEC_REGEX, 1, &nrx);
	if (!trig || !rx)
		return false;
	for (size_t i = 0; i < np; i++) {
		p[i].trigger = r_take(trig, sizeof *trig, ntr, &atr, p[i].ntrigger);
		const char *nul = memchr(rx + arx, '\0', nrx - arx);
		if (!p[i].trigger || !nul)
			return false;
		p[i].regex = rx + arx;
		arx = (size_t)(nul - rx) + 1;
	}
	return atr == ntr && arx == nrx;
}

/* Give the stored diagnostics again; false when the section is malformed
 * (checked whole before the first one is given). */
static bool replay_diags(const struct reader *r, const struct sigset *set, bool give)
{
	size_t n;
	const uint8_t *p = r_array(r, SEC_DIAGS, 1, &n);
	char file[WARD_MAX_DB_PATH + 1], msg[WARD_MAX_DIAG_MSG + 1];
	if (!p)
		return false;
	while (n) {
		struct diag_hdr h;
		if (n < sizeof h)
			return false;
		memcpy(&h, p, sizeof h);
		size_t fl = h.file_len == NO_FILE ? 0 : h.file_len;
		if ((h.file_len != NO_FILE && fl > WARD_MAX_DB_PATH) ||
		    h.msg_len > WARD_MAX_DIAG_MSG || n - sizeof h < fl + h.msg_len)
			return false;
		memcpy(file, p + sizeof h, fl);
		file[fl] = '\0';
		memcpy(msg, p + sizeof h + fl, h.msg_len);
		msg[h.msg_len] = '\0';
		if (give && set->diag)
			set->diag(set->diag_ctx, (ward_err)h.code,
				  h.file_len == NO_FILE ? NULL : file, (unsigned long)h.line, msg);
		p += sizeof h + fl + h.msg_len;
		n -= sizeof h + fl + h.msg_len;
	}
	return true;
}

/* Point db's arrays into the image; false when a section does not fit. */
static bool bind(const struct reader *r, struct ward_db *db)
{
	struct sigset *set = &db->set;
	const struct scalars *sc = r_exact(r, SEC_SCALARS, sizeof *sc, 1);
	size_t nb = 0, nl = 0, np = 0, nbc = 0, nu = 0, nnames = 0;
	if (!sc)
		return false;
	struct bodysig *body = r_array(r, SEC_BODY, sizeof *body, &nb);
	struct logicsig *lg = r_array(r, SEC_LOGICAL, sizeof *lg, &nl);
	struct pcresig *pc = r_array(r, SEC_PCRE, sizeof *pc, &np);
	struct bytecmpsig *bc = r_array(r, SEC_BYTECMP, sizeof *bc, &nbc);
	struct unsupported_feature *un =
		r_array(r, SEC_UNSUPPORTED, sizeof(struct unsupported_feature), &nu);
	char *names = r_array(r, SEC_NAMES, 1, &nnames);
	if (!body || !lg || !pc || !bc || !un || !names || !fix_body(r, body, nb) ||
	    !fix_logical(r, lg, nl) || !fix_pcre(r, pc, np))
		return false;
	/* Names are read by offset: the pool must end with a NUL. */
	if (nnames && names[nnames - 1] != '\0')
		return false;
	db->plans = r_exact(r, SEC_PLANS, sizeof *db->plans, nb);
	db->seglits = r_exact(r, SEC_SEGLITS, sizeof *db->seglits, (size_t)sc->nseglits);
	db->anchor_first =
		r_exact(r, SEC_ANCHOR_FIRST, sizeof *db->anchor_first, (size_t)sc->nanchors + 1);
	db->unanchored = r_exact(r, SEC_UNANCHORED, sizeof *db->unanchored, sc->nunanchored);
	db->unanch_test = r_exact(r, SEC_UNANCH_TEST, sizeof *db->unanch_test, sc->nunanchored);
	db->ldb_always = r_exact(r, SEC_LDB_ALWAYS, sizeof *db->ldb_always, sc->nldb_always);
	db->ldb_extra_first = r_exact(r, SEC_LDB_EXTRA_FIRST, sizeof *db->ldb_extra_first, nl + 1);
	db->ldb_extra_list = r_exact(r, SEC_LDB_EXTRA_LIST, sizeof *db->ldb_extra_list, np + nbc);
	db->ldb_count_cap = r_exact(r, SEC_LDB_COUNT_CAP, sizeof *db->ldb_count_cap, nl);
	if (!db->plans || !db->seglits || !db->anchor_first || !db->unanchored ||
	    !db->unanch_test || !db->ldb_always || !db->ldb_extra_first || !db->ldb_extra_list ||
	    !db->ldb_count_cap)
		return false;
	db->anchor_sigs = r_exact(r, SEC_ANCHOR_SIGS, sizeof *db->anchor_sigs,
				  db->anchor_first[sc->nanchors]);
	if (!db->anchor_sigs)
		return false;
	for (unsigned i = 0; i < NHASHTAB; i++) {
		struct hashtab *t = (struct hashtab *)hashtab_at(db, i); /* db is ours */
		size_t n;
		t->v = r_array(r, SEC_HASHTAB + i, sizeof *t->v, &n);
		if (!t->v)
			return false;
		t->n = n;
		t->any_size = sc->any_size[i] != 0;
	}
	/* The only vector that grows after this point (build_pcre counts the
	 * PCREs PCRE2 rejects): a copy of its own. */
	if (nu) {
		set->unsupported.items = w_alloc_array(nu, sizeof *un);
		if (!set->unsupported.items)
			return false;
		memcpy(set->unsupported.items, un, nu * sizeof *un);
		set->unsupported.len = set->unsupported.alloc = nu;
	}
	set->body = (vec){body, nb, nb};
	set->logical = (vec){lg, nl, nl};
	set->pcre = (vec){pc, np, np};
	set->bytecmp = (vec){bc, nbc, nbc};
	set->names.buf = (dbuf){names, nnames, nnames, nnames};
	set->borrowed = true;
	memcpy(set->counts, sc->set_counts, sizeof set->counts);
	db->counts[WARD_COUNT_ANCHORS] = sc->anchors;
	db->counts[WARD_COUNT_UNANCHORED] = sc->unanchored;
	db->nseglits = (size_t)sc->nseglits;
	db->nanchors = sc->nanchors;
	db->anchor_len_max = sc->anchor_len_max;
	db->max_span = sc->max_span;
	db->nunanchored = sc->nunanchored;
	db->nldb_always = sc->nldb_always;
	memcpy(db->unanch_first, sc->unanch_first, sizeof db->unanch_first);
	for (unsigned t = 0; t < TARGET__COUNT; t++) {
		db->hs_keyed[t] = sc->hs_keyed[t] != 0;
		memcpy(db->hs_key[t], sc->hs_key[t], 32);
		if (db->hs_keyed[t] && !cache_load(db->cache_dir, db->hs_key[t], &db->hs[t]))
			return false;
	}
	return replay_diags(r, set, false);
}

bool image_bind(uint8_t *body, size_t len, struct ward_db *db)
{
	struct sec_entry tab[SEC__COUNT];
	struct reader r = {body, len, tab};
	if (len < sizeof tab)
		return false;
	memcpy(tab, body, sizeof tab);
	if (!bind(&r, db)) {
		image_reset(db);
		return false;
	}
	(void)replay_diags(&r, &db->set, true);
	return true;
}

void image_reset(struct ward_db *db)
{
	for (unsigned t = 0; t < TARGET__COUNT; t++) {
		hs_free_database(db->hs[t]);
		db->hs[t] = NULL;
	}
	vec_free(&db->set.unsupported);
	ward_diag_fn diag = db->set.diag;
	void *diag_ctx = db->set.diag_ctx;
	unsigned flags = db->set.load_flags;
	const char *cache_dir = db->cache_dir;
	memset(db, 0, sizeof *db);
	sigset_init(&db->set, NULL);
	db->set.diag = diag;
	db->set.diag_ctx = diag_ctx;
	db->set.load_flags = flags;
	db->cache_dir = cache_dir;
}

bool image_load(const char *dir, const uint8_t key[32], struct ward_db *db)
{
	struct cache_map *m = w_calloc(1, sizeof *m);
	if (!m)
		return false;
	if (!cache_map_file(dir, key, IMAGE_EXT, IMAGE_MAGIC, m) ||
	    !image_bind(m->body, m->blen, db)) {
		image_free(m);
		return false;
	}
	db->image = m;
	return true;
}

void image_free(void *image)
{
	if (!image)
		return;
	cache_unmap(image);
	w_free(image);
}
