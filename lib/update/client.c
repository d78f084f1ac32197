/*
 * The update client: TUF's client workflow (specification section "Detailed
 * client workflow"), then the pattern's activation.
 *
 *   1. trusted root from the state directory; walk N+1.root.json while it
 *      exists, each signed by a threshold of the old AND the new root keys
 *      (bad root rotation); the final root must not be expired (freeze)
 *   2. timestamp.json (capped at WARD_MAX_TIMESTAMP_META): root's timestamp
 *      keys, version not below the last seen (rollback), not expired
 *   3. N.snapshot.json: length and SHA-256 from the timestamp (mix-and-match,
 *      endless data), snapshot keys, version as the timestamp says,
 *      targets version not below the last seen (rollback), not expired
 *   4. N.targets.json: the same against the snapshot, targets keys
 *   5. choose the package (channel or pin), download targets/HASH.NAME
 *      capped at its listed length, compare the SHA-256
 *   6. unpack into versions/V-TAG, test-load it in a limited child process,
 *      then previous -> old current, current -> new (renames of symlinks)
 *
 * Each verified metadata file is persisted in the state directory before
 * the next step (write temporary, fsync, rename), so the rollback checks
 * survive restarts. Every refusal names the attack in result->refusal and
 * says which file and check in result->message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "update/activate.h"
#include "update/fetch.h"
#include "update/fsutil.h"
#include "update/tuf.h"
#include "ward/pkg.h"

static const char *const refusal_names[WARD_UPD__COUNT] = {
	[WARD_UPD_NONE] = "no refusal",
	[WARD_UPD_ROLLBACK] = "rollback attack",
	[WARD_UPD_FREEZE] = "freeze attack",
	[WARD_UPD_MIX_AND_MATCH] = "mix-and-match attack",
	[WARD_UPD_ENDLESS_DATA] = "endless data attack",
	[WARD_UPD_BAD_SIGNATURE] = "arbitrary package attack (wrong key or too few signatures)",
	[WARD_UPD_BAD_TARGET] = "arbitrary package attack (package does not match its hashes)",
	[WARD_UPD_BAD_ROOT_ROTATION] = "bad root rotation",
	[WARD_UPD_MALFORMED] = "malformed metadata",
	[WARD_UPD_UNAVAILABLE] = "no mirror available",
	[WARD_UPD_LOAD_FAILED] = "test load failed",
};

const char *ward_update_refusal_name(ward_update_refusal r)
{
	return r < WARD_UPD__COUNT ? refusal_names[r] : "unknown";
}

/* Default limits of the test load: the official ClamAV set compiles in well
 * under these; a release that needs more is broken or hostile. */
#define DEFAULT_LOAD_MEM (4ull << 30)
#define DEFAULT_LOAD_CPU_S 600u

/* Kill points (act_killpoint) in the order the client reaches them. */
enum {
	KP_ROOT = 1,   /* a new root persisted */
	KP_TIMESTAMP,  /* timestamp persisted */
	KP_SNAPSHOT,   /* snapshot persisted */
	KP_TARGETS,    /* targets persisted */
	KP_DOWNLOADED, /* package downloaded and verified, in a temporary */
	KP_UNPACKED,   /* version directory filled, not yet renamed */
	KP_RENAMED,    /* version directory in place */
	KP_LOADED,     /* test load passed */
	KP_PREVIOUS,   /* previous -> old current */
	KP_CURRENT,    /* current -> new */
	KP_CLEANED,    /* old versions removed */
	KP__COUNT
};

struct client {
	const ward_update_opts *o;
	ward_update_result *res;
	fetcher *f;
	int64_t now;
	tuf_meta root, ts, snap, tg; /* trusted */
	bool have_ts, have_snap, have_tg;
	bool ts_unchanged;
	uint64_t fetched; /* package bytes downloaded so far (deltas and full) */
	/* the first refusal seen while trying mirrors for one file */
	ward_update_refusal pending;
	char pending_msg[512];
};

/* vsnprintf: messages embed paths and are cut at the buffer, by design. */
static void setmsg(ward_update_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void setmsg(ward_update_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
}

static void diag(struct client *c, ward_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void diag(struct client *c, ward_err code, const char *fmt, ...)
{
	if (!c->o->diag)
		return;
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	c->o->diag(c->o->diag_ctx, code, NULL, 0, msg);
}

/* Record a refusal for the current file (the next mirror may still serve a
 * good copy). Returns false so verifiers can `return refuse(...)`. */
static bool refuse(struct client *c, ward_update_refusal r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool refuse(struct client *c, ward_update_refusal r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag(c, WARD_EBADSIG, "refused: %s: %s", ward_update_refusal_name(r), msg);
	if (c->pending == WARD_UPD_NONE) {
		c->pending = r;
		snprintf(c->pending_msg, sizeof c->pending_msg, "%s", msg);
	}
	return false;
}

/* Turn the pending refusal into the result. */
static ward_err fail_pending(struct client *c)
{
	c->res->refusal = c->pending;
	setmsg(c->res, "%s: %s", ward_update_refusal_name(c->pending), c->pending_msg);
	return c->pending == WARD_UPD_UNAVAILABLE ? WARD_EIO : WARD_EBADSIG;
}

static bool state_path(struct client *c, char *buf, size_t n, const char *name)
{
	return fs_path(buf, n, "%s/%s", c->o->state_dir, name);
}

static ward_err persist(struct client *c, const char *name, const dbuf *bytes)
{
	char p[4096];
	if (!state_path(c, p, sizeof p, name))
		return WARD_ELIMIT;
	ward_err e = fs_write_atomic(p, bytes->s, bytes->len);
	if (e != WARD_OK)
		setmsg(c->res, "%s: cannot write", p);
	return e;
}

/* ---- downloads with mirror failover ---- */

typedef bool (*verify_fn)(struct client *c, const dbuf *bytes, void *ctx);

/* Fetch name from each mirror in turn until verify accepts one. Returns
 * FETCH_OK (bytes hold the accepted copy), FETCH_NOT_FOUND when every
 * mirror that answered said 404 and none served a bad copy, or
 * FETCH_FAILED with c->pending set. */
static fetch_status fetch_verified(struct client *c, const char *name, size_t cap, verify_fn v,
				   void *ctx, dbuf *bytes)
{
	unsigned not_found = 0, down = 0;
	c->pending = WARD_UPD_NONE;
	for (size_t i = 0; i < c->o->nmirrors && i < WARD_MAX_MIRRORS; i++) {
		char url[4096], why[512];
		const char *m = c->o->mirrors[i];
		size_t ml = strlen(m);
		while (ml && m[ml - 1] == '/')
			ml--;
		if (!fs_path(url, sizeof url, "%.*s/%s", (int)ml, m, name))
			continue;
		fetch_status st = fetch_mem(c->f, url, cap, bytes, why, sizeof why);
		if (st == FETCH_OVER_CAP) {
			refuse(c, WARD_UPD_ENDLESS_DATA, "%s", why);
			continue;
		}
		if (st == FETCH_NOT_FOUND) {
			not_found++;
			continue;
		}
		if (st != FETCH_OK) {
			down++;
			diag(c, WARD_EIO, "mirror failed: %s", why);
			continue;
		}
		if (v(c, bytes, ctx))
			return FETCH_OK;
	}
	dbuf_free(bytes);
	if (c->pending != WARD_UPD_NONE)
		return FETCH_FAILED;
	/* A mirror that answered "not found" is authoritative enough: the
	 * file's absence only ends the root walk, and stale or hostile
	 * mirrors can delay updates no longer than the metadata expiry. */
	if (not_found)
		return FETCH_NOT_FOUND;
	c->pending = WARD_UPD_UNAVAILABLE;
	snprintf(c->pending_msg, sizeof c->pending_msg,
		 "%s: no mirror could serve it (%u down, %u not found)", name, down, not_found);
	return FETCH_FAILED;
}

/* Parse bytes as role r into m; refusal on failure. */
static bool parse_as(struct client *c, tuf_role r, const dbuf *bytes, tuf_meta *m, const char *name)
{
	char why[256];
	ward_err e = tuf_meta_parse(m, r, bytes->s, bytes->len, why, sizeof why);
	if (e == WARD_OK)
		return true;
	return refuse(c, WARD_UPD_MALFORMED, "%s: %s", name, why);
}

static bool check_ref(struct client *c, const dbuf *bytes, const tuf_metaref *ref, const char *name)
{
	/* Hashes first (TUF 5.5.2/5.6.2): cheap, and they tie this exact file
	 * to the signed chain above it. */
	if (ref->length && bytes->len != ref->length)
		return refuse(c, WARD_UPD_MIX_AND_MATCH,
			      "%s: %zu bytes, the signed chain says %llu", name, bytes->len,
			      (unsigned long long)ref->length);
	if (ref->has_hash) {
		uint8_t sha[32];
		tuf_sha256(bytes->s, bytes->len, sha);
		if (!tuf_memeq(sha, ref->sha256, 32))
			return refuse(c, WARD_UPD_MIX_AND_MATCH,
				      "%s: SHA-256 differs from the one the signed chain lists",
				      name);
	}
	return true;
}

static bool check_sig(struct client *c, tuf_role r, const tuf_meta *m, const char *name)
{
	char why[256];
	size_t valid;
	if (tuf_verify(&c->root.u.root, r, m, &valid, why, sizeof why))
		return true;
	return refuse(c, WARD_UPD_BAD_SIGNATURE, "%s", why);
}

static bool check_expiry(struct client *c, const tuf_meta *m, const char *name)
{
	if (m->expires > c->now)
		return true;
	char t[32];
	tuf_time_format(m->expires, t);
	return refuse(c, WARD_UPD_FREEZE, "%s expired at %s", name, t);
}

/* ---- 1. root ---- */

struct root_ctx {
	uint64_t want;
	tuf_meta next;
};

static bool same_keys(const tuf_rolekeys *a, const tuf_rolekeys *b)
{
	if (a->nids != b->nids || a->threshold != b->threshold)
		return false;
	for (size_t i = 0; i < a->nids; i++) {
		bool found = false;
		for (size_t j = 0; j < b->nids; j++)
			found |= tuf_memeq(a->ids[i], b->ids[j], TUF_KEYID_LEN);
		if (!found)
			return false;
	}
	return true;
}

static bool verify_root(struct client *c, const dbuf *bytes, void *ctx)
{
	struct root_ctx *rc = ctx;
	char why[256], name[64];
	size_t valid;
	snprintf(name, sizeof name, "%llu.root.json", (unsigned long long)rc->want);
	if (tuf_meta_parse(&rc->next, TUF_ROOT, bytes->s, bytes->len, why, sizeof why) != WARD_OK)
		return refuse(c, WARD_UPD_BAD_ROOT_ROTATION, "%s: %s", name, why);
	/* TUF 5.3.4: the old root's threshold vouches for the new keys, the
	 * new root's threshold proves the new key holders agree. */
	if (!tuf_verify(&c->root.u.root, TUF_ROOT, &rc->next, &valid, why, sizeof why))
		return refuse(c, WARD_UPD_BAD_ROOT_ROTATION,
			      "%s is not signed by the trusted root's keys: %s", name, why);
	if (!tuf_verify(&rc->next.u.root, TUF_ROOT, &rc->next, &valid, why, sizeof why))
		return refuse(c, WARD_UPD_BAD_ROOT_ROTATION, "%s is not signed by its own keys: %s",
			      name, why);
	if (rc->next.version != rc->want)
		return refuse(c, WARD_UPD_BAD_ROOT_ROTATION, "%s says it is version %llu", name,
			      (unsigned long long)rc->next.version);
	return true;
}

static ward_err update_root(struct client *c)
{
	struct root_ctx rc;
	dbuf bytes;
	dbuf_init(&bytes, 1);
	tuf_meta_init(&rc.next);
	ward_err e = WARD_OK;
	for (unsigned i = 0; i < WARD_MAX_ROOT_ROTATIONS; i++) {
		char name[64];
		rc.want = c->root.version + 1;
		snprintf(name, sizeof name, "%llu.root.json", (unsigned long long)rc.want);
		fetch_status st =
			fetch_verified(c, name, WARD_MAX_ROOT_META, verify_root, &rc, &bytes);
		if (st == FETCH_NOT_FOUND)
			break; /* the newest root is the one we have */
		if (st != FETCH_OK) {
			e = fail_pending(c);
			goto out;
		}
		/* TUF 5.3.11: new timestamp or snapshot keys mean the old
		 * versions may come from a compromise (fast-forward attack):
		 * forget them so the new keys' lower versions are accepted. */
		if (!same_keys(&c->root.u.root.roles[TUF_TIMESTAMP],
			       &rc.next.u.root.roles[TUF_TIMESTAMP]) ||
		    !same_keys(&c->root.u.root.roles[TUF_SNAPSHOT],
			       &rc.next.u.root.roles[TUF_SNAPSHOT])) {
			char p[4096];
			if (state_path(c, p, sizeof p, "timestamp.json"))
				unlink(p);
			if (state_path(c, p, sizeof p, "snapshot.json"))
				unlink(p);
			c->have_ts = c->have_snap = false;
		}
		e = persist(c, "root.json", &bytes);
		if (e != WARD_OK)
			goto out;
		tuf_meta_free(&c->root);
		c->root = rc.next;
		tuf_meta_init(&rc.next);
		diag(c, WARD_OK, "trusted root is now version %llu",
		     (unsigned long long)c->root.version);
		act_killpoint(KP_ROOT);
	}
	c->pending = WARD_UPD_NONE;
	if (!check_expiry(c, &c->root, "root.json"))
		e = fail_pending(c);
out:
	dbuf_free(&bytes);
	tuf_meta_free(&rc.next);
	return e;
}

/* ---- 2. timestamp ---- */

static bool verify_timestamp(struct client *c, const dbuf *bytes, void *ctx)
{
	tuf_meta *m = ctx;
	if (!parse_as(c, TUF_TIMESTAMP, bytes, m, "timestamp.json") ||
	    !check_sig(c, TUF_TIMESTAMP, m, "timestamp.json"))
		return false;
	if (c->have_ts && m->version < c->ts.version)
		return refuse(c, WARD_UPD_ROLLBACK,
			      "timestamp.json version %llu is older than %llu seen before",
			      (unsigned long long)m->version, (unsigned long long)c->ts.version);
	if (c->have_ts && m->u.snapshot.version < c->ts.u.snapshot.version)
		return refuse(
			c, WARD_UPD_ROLLBACK,
			"timestamp.json names snapshot version %llu, older than %llu seen before",
			(unsigned long long)m->u.snapshot.version,
			(unsigned long long)c->ts.u.snapshot.version);
	return check_expiry(c, m, "timestamp.json");
}

static ward_err update_timestamp(struct client *c)
{
	tuf_meta m;
	dbuf bytes;
	tuf_meta_init(&m);
	dbuf_init(&bytes, 1);
	ward_err e = WARD_OK;
	if (fetch_verified(c, "timestamp.json", WARD_MAX_TIMESTAMP_META, verify_timestamp, &m,
			   &bytes) != FETCH_OK) {
		if (c->pending == WARD_UPD_NONE) {
			c->pending = WARD_UPD_UNAVAILABLE;
			snprintf(c->pending_msg, sizeof c->pending_msg,
				 "timestamp.json: not on any mirror");
		}
		e = fail_pending(c);
		goto out;
	}
	c->ts_unchanged = c->have_ts && m.version == c->ts.version;
	e = persist(c, "timestamp.json", &bytes);
	if (e != WARD_OK)
		goto out;
	tuf_meta_free(&c->ts);
	c->ts = m;
	tuf_meta_init(&m);
	c->have_ts = true;
	act_killpoint(KP_TIMESTAMP);
out:
	tuf_meta_free(&m);
	dbuf_free(&bytes);
	return e;
}

/* ---- 3. snapshot, 4. targets ---- */

static bool verify_snapshot(struct client *c, const dbuf *bytes, void *ctx)
{
	tuf_meta *m = ctx;
	const tuf_metaref *ref = &c->ts.u.snapshot;
	if (!check_ref(c, bytes, ref, "snapshot.json") ||
	    !parse_as(c, TUF_SNAPSHOT, bytes, m, "snapshot.json") ||
	    !check_sig(c, TUF_SNAPSHOT, m, "snapshot.json"))
		return false;
	if (m->version != ref->version)
		return refuse(c, WARD_UPD_MIX_AND_MATCH,
			      "snapshot.json is version %llu, the timestamp names %llu",
			      (unsigned long long)m->version, (unsigned long long)ref->version);
	if (c->have_snap && m->u.targets.version < c->snap.u.targets.version)
		return refuse(
			c, WARD_UPD_ROLLBACK,
			"snapshot.json names targets version %llu, older than %llu seen before",
			(unsigned long long)m->u.targets.version,
			(unsigned long long)c->snap.u.targets.version);
	return check_expiry(c, m, "snapshot.json");
}

static bool verify_targets(struct client *c, const dbuf *bytes, void *ctx)
{
	tuf_meta *m = ctx;
	const tuf_metaref *ref = &c->snap.u.targets;
	if (!check_ref(c, bytes, ref, "targets.json") ||
	    !parse_as(c, TUF_TARGETS, bytes, m, "targets.json") ||
	    !check_sig(c, TUF_TARGETS, m, "targets.json"))
		return false;
	if (m->version != ref->version)
		return refuse(c, WARD_UPD_MIX_AND_MATCH,
			      "targets.json is version %llu, the snapshot names %llu",
			      (unsigned long long)m->version, (unsigned long long)ref->version);
	return check_expiry(c, m, "targets.json");
}

/* Fetch role r (snapshot or targets) unless the trusted copy is already
 * the version the chain names; a reused copy is still checked for expiry
 * (a frozen repository must not keep a client on old metadata forever). */
static ward_err update_role(struct client *c, tuf_role r)
{
	bool snapshot = r == TUF_SNAPSHOT;
	tuf_meta *trusted = snapshot ? &c->snap : &c->tg;
	bool *have = snapshot ? &c->have_snap : &c->have_tg;
	const tuf_metaref *ref = snapshot ? &c->ts.u.snapshot : &c->snap.u.targets;
	const char *base = snapshot ? "snapshot.json" : "targets.json";
	c->pending = WARD_UPD_NONE;
	if (*have && trusted->version == ref->version) {
		if (!check_expiry(c, trusted, base) || !check_sig(c, r, trusted, base))
			return fail_pending(c);
		return WARD_OK;
	}
	tuf_meta m;
	dbuf bytes;
	char name[64];
	tuf_meta_init(&m);
	dbuf_init(&bytes, 1);
	ward_err e = WARD_OK;
	/* Consistent snapshots: the version in the name is the one the signed
	 * chain names, so a mirror mid-publish serves a matching set. */
	snprintf(name, sizeof name, "%llu.%s", (unsigned long long)ref->version, base);
	size_t cap = ref->length ? (size_t)ref->length : WARD_MAX_JSON_DOC;
	if (cap > WARD_MAX_JSON_DOC)
		cap = WARD_MAX_JSON_DOC;
	if (fetch_verified(c, name, cap, snapshot ? verify_snapshot : verify_targets, &m, &bytes) !=
	    FETCH_OK) {
		if (c->pending == WARD_UPD_NONE) {
			c->pending = WARD_UPD_UNAVAILABLE;
			snprintf(c->pending_msg, sizeof c->pending_msg, "%s: not on any mirror",
				 name);
		}
		e = fail_pending(c);
		goto out;
	}
	e = persist(c, base, &bytes);
	if (e != WARD_OK)
		goto out;
	tuf_meta_free(trusted);
	*trusted = m;
	tuf_meta_init(&m);
	*have = true;
	act_killpoint(snapshot ? KP_SNAPSHOT : KP_TARGETS);
out:
	tuf_meta_free(&m);
	dbuf_free(&bytes);
	return e;
}

/* ---- state ---- */

static ward_err load_state_file(struct client *c, const char *name, tuf_role r, tuf_meta *m,
				bool *have)
{
	char p[4096], why[256];
	uint8_t *buf = NULL;
	size_t len, valid;
	*have = false;
	if (!state_path(c, p, sizeof p, name))
		return WARD_ELIMIT;
	if (!fs_exists(p))
		return WARD_OK;
	ward_err e = fs_read_file(p, WARD_MAX_JSON_DOC, &buf, &len);
	if (e == WARD_OK)
		e = tuf_meta_parse(m, r, buf, len, why, sizeof why);
	w_free(buf);
	if (e == WARD_ENOMEM)
		return e;
	/* A stored file that no longer verifies (keys rotated, damaged
	 * disk) is forgotten, as TUF's client does with local metadata. */
	if (e != WARD_OK ||
	    (r != TUF_ROOT && !tuf_verify(&c->root.u.root, r, m, &valid, why, sizeof why))) {
		diag(c, WARD_ECORRUPT, "%s: ignored (%s)", p, why);
		return WARD_OK;
	}
	*have = true;
	return WARD_OK;
}

static ward_err load_state(struct client *c)
{
	bool have;
	ward_err e = load_state_file(c, "root.json", TUF_ROOT, &c->root, &have);
	if (e == WARD_OK && !have) {
		setmsg(c->res, "%s/root.json: no trusted root (run `ward update init`)",
		       c->o->state_dir);
		return WARD_EINVAL;
	}
	if (e == WARD_OK)
		e = load_state_file(c, "timestamp.json", TUF_TIMESTAMP, &c->ts, &c->have_ts);
	if (e == WARD_OK)
		e = load_state_file(c, "snapshot.json", TUF_SNAPSHOT, &c->snap, &c->have_snap);
	if (e == WARD_OK)
		e = load_state_file(c, "targets.json", TUF_TARGETS, &c->tg, &c->have_tg);
	return e;
}

static uint64_t read_blocked(struct client *c)
{
	char p[4096];
	uint8_t *buf = NULL;
	size_t len;
	uint64_t v = 0;
	if (state_path(c, p, sizeof p, "blocked") && fs_read_file(p, 64, &buf, &len) == WARD_OK) {
		while (len && (buf[len - 1] == '\n'))
			len--;
		if (!parse_u64((const char *)buf, len, UINT64_MAX, &v))
			v = 0;
	}
	w_free(buf);
	return v;
}

/* ---- 5. choosing and fetching the package ---- */

/* "preview", "stable", "stable+Nh" */
static bool parse_channel(const char *s, bool *preview, int64_t *delay)
{
	*preview = false;
	*delay = 0;
	if (!s || !strcmp(s, "stable"))
		return true;
	if (!strcmp(s, "preview")) {
		*preview = true;
		return true;
	}
	uint64_t h;
	size_t n = strlen(s);
	if (n > 8 && !strncmp(s, "stable+", 7) && s[n - 1] == 'h' &&
	    parse_u64(s + 7, n - 8, (uint64_t)24 * 366, &h)) {
		*delay = (int64_t)h * 3600;
		return true;
	}
	return false;
}

static const tuf_target *choose(struct client *c, uint64_t blocked)
{
	bool preview;
	int64_t delay;
	(void)parse_channel(c->o->channel, &preview, &delay);
	const tuf_target *best = NULL;
	for (size_t i = 0; i < c->tg.ntargets; i++) {
		const tuf_target *t = &c->tg.targets[i];
		if (c->o->pin) {
			if (t->pkg_version == c->o->pin && !t->delta_base)
				return t;
			continue;
		}
		if (t->delta_base)
			continue; /* deltas are chosen with their full target */
		/* preview follows both channels: a stable release is also the
		 * newest preview unless a newer preview exists. */
		if (!preview && strcmp(t->channel, "stable"))
			continue;
		if (t->released > c->now - delay || t->pkg_version == blocked)
			continue;
		if (!best || t->pkg_version > best->pkg_version)
			best = t;
	}
	return best;
}

static ward_err download_target(struct client *c, const tuf_target *t, const char *dst)
{
	char hex[65], name[300];
	tuf_hex(t->sha256, 32, hex);
	snprintf(name, sizeof name, "targets/%s.%s", hex, t->name);
	c->pending = WARD_UPD_NONE;
	unsigned down = 0;
	for (size_t i = 0; i < c->o->nmirrors && i < WARD_MAX_MIRRORS; i++) {
		char url[4096], why[512];
		const char *m = c->o->mirrors[i];
		size_t ml = strlen(m);
		while (ml && m[ml - 1] == '/')
			ml--;
		if (!fs_path(url, sizeof url, "%.*s/%s", (int)ml, m, name))
			continue;
		int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			setmsg(c->res, "%s: %s", dst, strerror(errno));
			return WARD_EIO;
		}
		uint8_t sha[32];
		uint64_t len;
		/* The listed length is the cap: not one byte more is read. */
		fetch_status st = fetch_fd(c->f, url, t->length, fd, sha, &len, why, sizeof why);
		if (st == FETCH_OK)
			c->fetched += len;
		bool synced = fsync(fd) == 0;
		close(fd);
		if (st == FETCH_OVER_CAP) {
			refuse(c, WARD_UPD_ENDLESS_DATA, "%s", why);
			continue;
		}
		if (st != FETCH_OK) {
			down++;
			diag(c, WARD_EIO, "mirror failed: %s", why);
			continue;
		}
		if (len != t->length || !tuf_memeq(sha, t->sha256, 32)) {
			refuse(c, WARD_UPD_BAD_TARGET,
			       "%s: %llu bytes or SHA-256 differ from targets.json", url,
			       (unsigned long long)len);
			continue;
		}
		if (!synced) {
			setmsg(c->res, "%s: fsync failed", dst);
			return WARD_EIO;
		}
		return WARD_OK;
	}
	unlink(dst);
	if (c->pending == WARD_UPD_NONE) {
		c->pending = WARD_UPD_UNAVAILABLE;
		snprintf(c->pending_msg, sizeof c->pending_msg,
			 "%s: no mirror could serve it (%u down)", name, down);
	}
	return fail_pending(c);
}

/* ---- 5b. delta packages ---- */

/* Write bytes to a new file dst and fsync it. */
static ward_err write_file(const char *dst, const uint8_t *p, size_t n)
{
	int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return WARD_EIO;
	bool ok = fd_write_all(fd, p, n) && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	return ok ? WARD_OK : WARD_EIO;
}

/* Try to make target t from delta d and the installed package, into dst.
 * The delta is only a cheaper way to obtain bytes the signed chain already
 * names: it is downloaded like any target (length cap, SHA-256), then its
 * own signature and base are checked, it is applied, and what it rebuilds
 * must have exactly the length and SHA-256 targets.json lists for t. Any
 * failure returns false with the reason; the caller downloads t whole. */
static bool try_delta(struct client *c, const tuf_target *t, const tuf_target *d, const char *dst,
		      char *reason, size_t rlen)
{
	const ward_update_opts *o = c->o;
	char rel[256], base_path[4096], dpath[4096] = "", why[256];
	uint8_t *base = NULL, *delta = NULL, *res = NULL;
	size_t baselen = 0, deltalen = 0, reslen = 0;
	ward_pkg_pubkey *key = NULL;
	ward_pkg *dp = NULL;
	bool ok = false;
	ward_err e;
	reason[0] = '\0';
	if (act_link_version(o->pattern_dir, "current", rel, sizeof rel) != d->delta_base ||
	    !act_package_path(o->pattern_dir, rel, base_path, sizeof base_path)) {
		w_why(reason, rlen, "the installed pattern is not version %llu",
		      (unsigned long long)d->delta_base);
		goto out;
	}
	if (d->length > WARD_PKG_MAX_SIZE) {
		w_why(reason, rlen, "%s: larger than a package may be", d->name);
		goto out;
	}
	/* A pattern installed before packages were kept, or a damaged copy:
	 * the delta's base hash check below catches the latter. */
	e = fs_read_file(base_path, WARD_PKG_MAX_SIZE, &base, &baselen);
	if (e != WARD_OK) {
		w_why(reason, rlen, "the installed package %s cannot be read (%s)", base_path,
		      ward_strerror(e));
		goto out;
	}
	if (!fs_path(dpath, sizeof dpath, "%s/.delta.%ld", o->pattern_dir, (long)getpid())) {
		w_why(reason, rlen, "%s: path too long", o->pattern_dir);
		dpath[0] = '\0';
		goto out;
	}
	e = download_target(c, d, dpath);
	if (e != WARD_OK) {
		/* download_target reported into the result as for a full
		 * package; for a delta that is only the reason to fall back. */
		w_why(reason, rlen, "%s", c->res->message);
		c->res->refusal = WARD_UPD_NONE;
		c->res->message[0] = '\0';
		goto out;
	}
	e = fs_read_file(dpath, (size_t)d->length, &delta, &deltalen);
	if (e != WARD_OK) {
		w_why(reason, rlen, "%s: cannot read (%s)", dpath, ward_strerror(e));
		goto out;
	}
	e = ward_pkg_pubkey_read(o->pkg_key, &key, why, sizeof why);
	if (e != WARD_OK) {
		w_why(reason, rlen, "%s", why);
		goto out;
	}
	/* Checked here as well as inside ward_pkg_apply_delta, to name the
	 * problem: a delta for another version or base is refused before it
	 * is applied. */
	e = ward_pkg_verify(delta, deltalen, key, &dp, why, sizeof why);
	if (e != WARD_OK) {
		w_why(reason, rlen, "%s does not verify: %s", d->name, why);
		goto out;
	}
	const ward_pkg_meta *dm = ward_pkg_get_meta(dp);
	if (dm->kind != WARD_PKG_KIND_DELTA || dm->version != t->pkg_version ||
	    dm->base_version != d->delta_base) {
		w_why(reason, rlen,
		      "%s is a %s package %llu -> %llu, targets.json lists a delta %llu -> %llu",
		      d->name, dm->kind == WARD_PKG_KIND_DELTA ? "delta" : "full",
		      (unsigned long long)dm->base_version, (unsigned long long)dm->version,
		      (unsigned long long)d->delta_base, (unsigned long long)t->pkg_version);
		goto out;
	}
	e = ward_pkg_apply_delta(base, baselen, delta, deltalen, key, &res, &reslen, why,
				 sizeof why);
	if (e != WARD_OK) {
		w_why(reason, rlen, "%s does not apply: %s", d->name, why);
		goto out;
	}
	/* The delta's signer vouches for what it rebuilds; the targets role
	 * vouches for which package is version N. Only bytes both agree on
	 * are used: a delta never yields anything but the listed package. */
	uint8_t sha[32];
	tuf_sha256(res, reslen, sha);
	if (reslen != t->length || !tuf_memeq(sha, t->sha256, 32)) {
		w_why(reason, rlen,
		      "%s rebuilds %zu bytes that differ from %s as targets.json lists it", d->name,
		      reslen, t->name);
		goto out;
	}
	e = write_file(dst, res, reslen);
	if (e != WARD_OK) {
		w_why(reason, rlen, "%s: cannot write (%s)", dst, ward_strerror(e));
		goto out;
	}
	ok = true;
out:
	if (dpath[0])
		unlink(dpath);
	w_free(base);
	w_free(delta);
	w_free(res);
	ward_pkg_free(dp);
	ward_pkg_pubkey_free(key);
	return ok;
}

/* Obtain target t into dst: through a delta from the installed version
 * when the repository lists one, else (or when the delta fails for any
 * reason) the full package. */
static ward_err fetch_package(struct client *c, const tuf_target *t, const char *dst)
{
	uint64_t cur = c->res->old_version;
	const tuf_target *d = NULL;
	bool any = false;
	c->res->package_bytes = t->length;
	for (size_t i = 0; c->o->pkg_key && cur && i < c->tg.ntargets; i++) {
		const tuf_target *x = &c->tg.targets[i];
		if (!x->delta_base || x->pkg_version != t->pkg_version ||
		    strcmp(x->delta_full, t->name))
			continue;
		any = true;
		if (x->delta_base == cur)
			d = x;
	}
	if (d) {
		char reason[512];
		if (try_delta(c, t, d, dst, reason, sizeof reason)) {
			c->res->delta_base = d->delta_base;
			diag(c, WARD_OK, "delta %llu -> %llu applied (%llu bytes instead of %llu)",
			     (unsigned long long)d->delta_base, (unsigned long long)t->pkg_version,
			     (unsigned long long)d->length, (unsigned long long)t->length);
			return WARD_OK;
		}
		unlink(dst);
		diag(c, WARD_ECORRUPT, "delta refused: %s; fetching full package", reason);
	} else if (any) {
		diag(c, WARD_OK,
		     "no delta from installed version %llu to %llu; fetching full package",
		     (unsigned long long)cur, (unsigned long long)t->pkg_version);
	}
	return download_target(c, t, dst);
}

/* Keep the verified package beside its version directory: the next delta
 * applies to it. Losing it only costs a full download next time. */
static void keep_package(struct client *c, const char *rel, const char *pkgfile)
{
	char pdir[4096], dst[4096];
	if (!fs_path(pdir, sizeof pdir, "%s/packages", c->o->pattern_dir) ||
	    !act_package_path(c->o->pattern_dir, rel, dst, sizeof dst))
		return;
	if (fs_mkdir(pdir) != WARD_OK || rename(pkgfile, dst) != 0 || fs_sync_dir(pdir) != WARD_OK)
		diag(c, WARD_EIO,
		     "%s: cannot keep the package (%s); the next update downloads it whole", dst,
		     strerror(errno));
}

/* ---- 6. unpacking ---- */

/* Write one file into dir and fsync it. */
static ward_err put_file(const char *dir, const char *name, const uint8_t *data, size_t len)
{
	char p[4096];
	if (!fs_path(p, sizeof p, "%s/%s", dir, name))
		return WARD_ELIMIT;
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return WARD_EIO;
	bool ok = true;
	for (size_t off = 0; ok && off < len;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		ok = w > 0;
		if (ok)
			off += (size_t)w;
	}
	ok = ok && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	return ok ? WARD_OK : WARD_EIO;
}

/* Fill dir from the downloaded target. With a package key the target is a
 * pattern package: verified (signature, per-file hashes), its version must
 * be the one targets.json lists, and it must serve this client; its members
 * become the directory's files. Without a key the target is one database
 * file, named as the target (development repositories). *skip is set when
 * the package does not serve this client. */
static ward_err unpack(struct client *c, const tuf_target *t, const char *pkgfile, const char *dir,
		       bool *skip)
{
	char why[256];
	*skip = false;
	if (!c->o->pkg_key) {
		uint8_t *buf = NULL;
		size_t len;
		ward_err e = fs_read_file(pkgfile, (size_t)t->length, &buf, &len);
		if (e == WARD_OK)
			e = put_file(dir, t->name, buf, len);
		w_free(buf);
		if (e != WARD_OK)
			setmsg(c->res, "%s: cannot unpack (%s)", dir, ward_strerror(e));
		return e;
	}
	ward_pkg_pubkey *key = NULL;
	ward_pkg *pkg = NULL;
	ward_err e = ward_pkg_pubkey_read(c->o->pkg_key, &key, why, sizeof why);
	if (e != WARD_OK) {
		setmsg(c->res, "%s", why);
		goto out;
	}
	e = ward_pkg_verify_file(pkgfile, key, &pkg, why, sizeof why);
	if (e != WARD_OK) {
		c->res->refusal = WARD_UPD_BAD_TARGET;
		setmsg(c->res, "%s: package %s does not verify: %s",
		       ward_update_refusal_name(WARD_UPD_BAD_TARGET), t->name, why);
		e = WARD_EBADSIG;
		goto out;
	}
	const ward_pkg_meta *meta = ward_pkg_get_meta(pkg);
	if (meta->kind != WARD_PKG_KIND_FULL || meta->version != t->pkg_version) {
		c->res->refusal = WARD_UPD_MIX_AND_MATCH;
		setmsg(c->res, "%s: package %s is version %llu, targets.json lists %llu",
		       ward_update_refusal_name(WARD_UPD_MIX_AND_MATCH), t->name,
		       (unsigned long long)meta->version, (unsigned long long)t->pkg_version);
		e = WARD_EBADSIG;
		goto out;
	}
#if defined(__x86_64__)
	const char *arch = "x86_64";
#elif defined(__aarch64__)
	const char *arch = "aarch64";
#elif defined(__i386__)
	const char *arch = "i386";
#elif defined(__arm__)
	const char *arch = "armv7";
#else
	const char *arch = "unknown";
#endif
	if (!ward_pkg_serves(pkg, WARD_FLEVEL, "linux", arch)) {
		*skip = true;
		goto out;
	}
	for (size_t i = 0; i < meta->nfiles && e == WARD_OK; i++)
		e = put_file(dir, meta->files[i].name, meta->files[i].data, meta->files[i].len);
	if (e != WARD_OK)
		setmsg(c->res, "%s: cannot unpack (%s)", dir, ward_strerror(e));
out:
	ward_pkg_free(pkg);
	ward_pkg_pubkey_free(key);
	return e;
}

static ward_err install(struct client *c, const tuf_target *t)
{
	const ward_update_opts *o = c->o;
	char tmpfile[4096], tmpdir[4096], rel[256], final[4096], why[512], vdir[4096];
	ward_err e = WARD_ELIMIT;
	bool skip = false;
	/* A tag unique to this attempt: an interrupted earlier attempt at the
	 * same version never collides with this one (cleanup removes it). */
	snprintf(rel, sizeof rel, "versions/%llu-%lld.%ld", (unsigned long long)t->pkg_version,
		 (long long)time(NULL), (long)getpid());
	if (!fs_path(tmpfile, sizeof tmpfile, "%s/.download.%ld", o->pattern_dir, (long)getpid()) ||
	    !fs_path(tmpdir, sizeof tmpdir, "%s/.unpack.%ld", o->pattern_dir, (long)getpid()) ||
	    !fs_path(final, sizeof final, "%s/%s", o->pattern_dir, rel) ||
	    !fs_path(vdir, sizeof vdir, "%s/versions", o->pattern_dir))
		return e;
	if (fs_mkdir(o->pattern_dir) != WARD_OK || fs_mkdir(vdir) != WARD_OK) {
		setmsg(c->res, "%s: cannot create", vdir);
		return WARD_EIO;
	}
	e = fetch_package(c, t, tmpfile);
	c->res->fetched_bytes = c->fetched;
	if (e != WARD_OK)
		goto out;
	act_killpoint(KP_DOWNLOADED);
	(void)fs_rmtree(tmpdir, 2);
	if (mkdir(tmpdir, 0755) != 0) {
		setmsg(c->res, "%s: %s", tmpdir, strerror(errno));
		e = WARD_EIO;
		goto out;
	}
	e = unpack(c, t, tmpfile, tmpdir, &skip);
	if (e != WARD_OK)
		goto out;
	if (skip) {
		setmsg(c->res,
		       "package %llu does not serve this client (engine level %d); keeping the current pattern",
		       (unsigned long long)t->pkg_version, WARD_FLEVEL);
		goto out;
	}
	e = fs_sync_dir(tmpdir);
	if (e == WARD_OK && o->pkg_key)
		keep_package(c, rel, tmpfile);
	act_killpoint(KP_UNPACKED);
	if (e == WARD_OK && rename(tmpdir, final) != 0)
		e = WARD_EIO;
	if (e == WARD_OK)
		e = fs_sync_dir(vdir);
	if (e != WARD_OK) {
		setmsg(c->res, "%s: cannot move into place", final);
		goto out;
	}
	act_killpoint(KP_RENAMED);
	e = act_test_load(final, o->load_mem ? o->load_mem : DEFAULT_LOAD_MEM,
			  o->load_cpu_s ? o->load_cpu_s : DEFAULT_LOAD_CPU_S, why, sizeof why);
	if (e != WARD_OK) {
		c->res->refusal = WARD_UPD_LOAD_FAILED;
		setmsg(c->res, "%s: %s; keeping the current pattern",
		       ward_update_refusal_name(WARD_UPD_LOAD_FAILED), why);
		(void)fs_rmtree(final, 2);
		e = WARD_EBADSIG;
		goto out;
	}
	act_killpoint(KP_LOADED);
	char oldrel[256];
	uint64_t old = act_link_version(o->pattern_dir, "current", oldrel, sizeof oldrel);
	if (old) {
		e = act_set_link(o->pattern_dir, "previous", oldrel);
		if (e != WARD_OK)
			goto out;
	}
	act_killpoint(KP_PREVIOUS);
	e = act_set_link(o->pattern_dir, "current", rel);
	if (e != WARD_OK) {
		setmsg(c->res, "%s/current: cannot switch", o->pattern_dir);
		goto out;
	}
	act_killpoint(KP_CURRENT);
	c->res->changed = true;
	c->res->new_version = t->pkg_version;
	if (c->res->delta_base)
		setmsg(c->res,
		       "activated pattern version %llu (%s); delta %llu -> %llu applied (%llu bytes instead of %llu)",
		       (unsigned long long)t->pkg_version, t->name,
		       (unsigned long long)c->res->delta_base, (unsigned long long)t->pkg_version,
		       (unsigned long long)c->res->fetched_bytes, (unsigned long long)t->length);
	else
		setmsg(c->res, "activated pattern version %llu (%s)",
		       (unsigned long long)t->pkg_version, t->name);
out:
	unlink(tmpfile);
	(void)fs_rmtree(tmpdir, 2);
	act_cleanup(o->pattern_dir);
	if (e == WARD_OK)
		act_killpoint(KP_CLEANED);
	return e;
}

/* ---- entry points ---- */

static int lock_state(const ward_update_opts *o, ward_update_result *res)
{
	char p[4096];
	if (!fs_path(p, sizeof p, "%s/lock", o->state_dir))
		return -1;
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		setmsg(res, "%s: %s", p, strerror(errno));
		return -1;
	}
	/* One client at a time per state directory: two would race on the
	 * pattern links and on the rollback state. */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		setmsg(res, "%s: another update is running", p);
		close(fd);
		return -1;
	}
	return fd;
}

ward_err ward_update_run(const ward_update_opts *o, ward_update_result *res)
{
	struct client c;
	memset(&c, 0, sizeof c);
	memset(res, 0, sizeof *res);
	c.o = o;
	c.res = res;
	c.now = o->now ? o->now : (int64_t)time(NULL);
	tuf_meta_init(&c.root);
	tuf_meta_init(&c.ts);
	tuf_meta_init(&c.snap);
	tuf_meta_init(&c.tg);
	bool preview;
	int64_t delay;
	int lockfd = -1;
	ward_err e = WARD_EINVAL;
	if (!o->state_dir || !o->pattern_dir || !o->nmirrors || !o->mirrors) {
		setmsg(res, "state directory, pattern directory and a mirror are needed");
		goto out;
	}
	if (!parse_channel(o->channel, &preview, &delay)) {
		setmsg(res, "unknown channel '%s' (preview, stable, stable+Nh)", o->channel);
		goto out;
	}
	lockfd = lock_state(o, res);
	if (lockfd < 0) {
		e = WARD_EIO;
		goto out;
	}
	e = load_state(&c);
	if (e != WARD_OK)
		goto out;
	e = fetch_new(o->timeout_s, &c.f, res->message, sizeof res->message);
	if (e != WARD_OK)
		goto out;
	res->old_version = act_link_version(o->pattern_dir, "current", NULL, 0);
	res->new_version = res->old_version;
	e = update_root(&c);
	if (e == WARD_OK)
		e = update_timestamp(&c);
	if (e == WARD_OK)
		e = update_role(&c, TUF_SNAPSHOT);
	if (e == WARD_OK)
		e = update_role(&c, TUF_TARGETS);
	if (e != WARD_OK)
		goto out;
	const tuf_target *t = choose(&c, o->pin ? 0 : read_blocked(&c));
	if (!t) {
		if (o->pin)
			setmsg(res, "version %llu is not in the repository",
			       (unsigned long long)o->pin);
		else
			setmsg(res, "no release in channel %s yet",
			       o->channel ? o->channel : "stable");
		e = o->pin ? WARD_EINVAL : WARD_OK;
		goto out;
	}
	if (t->pkg_version == res->old_version || (!o->pin && t->pkg_version < res->old_version)) {
		setmsg(res, "up to date (pattern version %llu)",
		       (unsigned long long)res->old_version);
		e = WARD_OK;
		goto out;
	}
	e = install(&c, t);
out:
	if (res->old_version)
		act_cleanup(o->pattern_dir);
	if (lockfd >= 0)
		close(lockfd);
	fetch_free(c.f);
	tuf_meta_free(&c.root);
	tuf_meta_free(&c.ts);
	tuf_meta_free(&c.snap);
	tuf_meta_free(&c.tg);
	return e;
}

ward_err ward_update_rollback(const ward_update_opts *o, ward_update_result *res)
{
	char cur[256], prev[256], p[4096], why[512];
	memset(res, 0, sizeof *res);
	int lockfd = lock_state(o, res);
	if (lockfd < 0)
		return WARD_EIO;
	ward_err e = WARD_EINVAL;
	uint64_t c = act_link_version(o->pattern_dir, "current", cur, sizeof cur);
	uint64_t pv = act_link_version(o->pattern_dir, "previous", prev, sizeof prev);
	res->old_version = res->new_version = c;
	if (!pv || !strcmp(cur, prev)) {
		setmsg(res, "%s: no previous pattern to roll back to", o->pattern_dir);
		goto out;
	}
	/* The last-known-good copy loaded once; load it again anyway: it sat
	 * on disk since, and switching to a broken pattern is what this
	 * command exists to undo. */
	e = WARD_ELIMIT;
	if (!fs_path(p, sizeof p, "%s/%s", o->pattern_dir, prev))
		goto out;
	e = act_test_load(p, o->load_mem ? o->load_mem : DEFAULT_LOAD_MEM,
			  o->load_cpu_s ? o->load_cpu_s : DEFAULT_LOAD_CPU_S, why, sizeof why);
	if (e != WARD_OK) {
		res->refusal = WARD_UPD_LOAD_FAILED;
		setmsg(res, "previous pattern: %s", why);
		goto out;
	}
	e = act_set_link(o->pattern_dir, "current", prev);
	if (e == WARD_OK && c)
		e = act_set_link(o->pattern_dir, "previous", cur);
	if (e != WARD_OK) {
		setmsg(res, "%s: cannot switch links", o->pattern_dir);
		goto out;
	}
	/* Remember what was rolled back from, so the next `ward update` does
	 * not reinstall it; a newer release or a pin still can. Losing this
	 * note only means a later update may reinstall that version. */
	if (c && fs_path(p, sizeof p, "%s/blocked", o->state_dir)) {
		char num[32];
		int n = snprintf(num, sizeof num, "%llu\n", (unsigned long long)c);
		ward_err we = fs_write_atomic(p, num, (size_t)n);
		(void)we;
	}
	res->changed = true;
	res->new_version = pv;
	setmsg(res,
	       "rolled back to pattern version %llu (version %llu will not be reinstalled until a newer one or a pin)",
	       (unsigned long long)pv, (unsigned long long)c);
out:
	close(lockfd);
	return e;
}

ward_err ward_update_active(const char *pattern_dir, uint64_t *current, uint64_t *previous)
{
	*current = act_link_version(pattern_dir, "current", NULL, 0);
	*previous = act_link_version(pattern_dir, "previous", NULL, 0);
	return WARD_OK;
}

ward_err ward_update_init(const char *state_dir, const char *root_path, char *why, size_t whylen)
{
	char p[4096], dummy[1];
	uint8_t *buf = NULL;
	size_t len, valid;
	tuf_meta m;
	if (!why || !whylen)
		why = dummy, whylen = sizeof dummy;
	why[0] = '\0';
	tuf_meta_init(&m);
	ward_err e = fs_read_file(root_path, WARD_MAX_ROOT_META, &buf, &len);
	if (e != WARD_OK) {
		snprintf(why, whylen, "%s: cannot read (%s)", root_path, ward_strerror(e));
		goto out;
	}
	e = tuf_meta_parse(&m, TUF_ROOT, buf, len, why, whylen);
	if (e != WARD_OK)
		goto out;
	if (!tuf_verify(&m.u.root, TUF_ROOT, &m, &valid, why, whylen)) {
		e = WARD_EBADSIG;
		goto out;
	}
	e = WARD_EIO;
	if (fs_mkdir(state_dir) != WARD_OK) {
		snprintf(why, whylen, "%s: cannot create (%s)", state_dir, strerror(errno));
		goto out;
	}
	e = WARD_ELIMIT;
	if (!fs_path(p, sizeof p, "%s/root.json", state_dir))
		goto out;
	e = fs_write_atomic(p, buf, len);
	if (e != WARD_OK) {
		snprintf(why, whylen, "%s: cannot write", p);
		goto out;
	}
	/* A new trust anchor starts a new history. */
	static const char *const stale[] = {"timestamp.json", "snapshot.json", "targets.json"};
	for (size_t i = 0; i < sizeof stale / sizeof stale[0]; i++)
		if (fs_path(p, sizeof p, "%s/%s", state_dir, stale[i]))
			unlink(p);
	snprintf(why, whylen, "trusting root version %llu", (unsigned long long)m.version);
out:
	w_free(buf);
	tuf_meta_free(&m);
	return e;
}

bool ward_update_parse_time(const char *s, int64_t *out)
{
	return s && tuf_time_parse(s, strlen(s), out);
}
