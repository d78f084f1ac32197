/*
 * TUF metadata: parse each role's document into the model in tuf.h, count
 * threshold signatures over the canonical form of "signed", add signatures.
 *
 * The parser checks shape only (types, ranges, names, key ids that are the
 * hash of their key); freshness, versions and hashes are the client's
 * checks (client.c), done in TUF's order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "update/tuf.h"

static const char *const role_names[TUF_NROLES] = {"root", "targets", "snapshot", "timestamp"};

const char *tuf_role_name(tuf_role r) { return r < TUF_NROLES ? role_names[r] : "?"; }

bool tuf_role_parse(const char *s, tuf_role *out)
{
	for (int i = 0; i < TUF_NROLES; i++)
		if (!strcmp(s, role_names[i])) {
			*out = (tuf_role)i;
			return true;
		}
	return false;
}

/* ---- time ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * civil-calendar algorithm), valid for every year we accept. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, size_t n, unsigned *v)
{
	uint64_t x;
	if (!parse_u64(s, n, 9999, &x))
		return false;
	*v = (unsigned)x;
	return true;
}

bool tuf_time_parse(const char *s, size_t n, int64_t *out)
{
	/* 2030-01-02T03:04:05Z: exactly this form, so one instant has one
	 * spelling and nothing (offsets, fractions) is open to interpretation. */
	unsigned y, mo, d, h, mi, se;
	if (n != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    s[19] != 'Z')
		return false;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
	    !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
		return false;
	static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
	    se > 59)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return false;
	*out = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + se;
	return true;
}

void tuf_time_format(int64_t t, char out[32])
{
	if (t < 0)
		t = 0;
	if (t > 253402300799) /* 9999-12-31T23:59:59Z */
		t = 253402300799;
	int64_t z = t / 86400 + 719468, secs = t % 86400;
	int64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(out, 32, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", (long long)y, m, d,
		 (long long)(secs / 3600), (long long)(secs / 60 % 60), (long long)(secs % 60));
}

/* ---- parsing ---- */

void tuf_meta_init(tuf_meta *m)
{
	memset(m, 0, sizeof *m);
	jdoc_init(&m->doc);
}

void tuf_meta_free(tuf_meta *m)
{
	jdoc_free(&m->doc);
	w_free(m->targets);
	m->targets = NULL;
	m->ntargets = 0;
}

#define BAD(...) \
	do { \
		snprintf(why, whylen, __VA_ARGS__); \
		return WARD_ECORRUPT; \
	} while (0)

static ward_err get_hex(const jdoc *d, jref o, const char *key, uint8_t *out, size_t n)
{
	const char *s;
	size_t len;
	if (!jobj_str(d, o, key, &s, &len) || !tuf_unhex(s, len, out, n))
		return WARD_ECORRUPT;
	return WARD_OK;
}

static ward_err parse_root(tuf_meta *m, char *why, size_t whylen)
{
	const jdoc *d = &m->doc;
	tuf_root *r = &m->u.root;
	bool cs = false;
	if (jobj_get(d, m->signed_, "consistent_snapshot") &&
	    !jobj_bool(d, m->signed_, "consistent_snapshot", &cs))
		BAD("root: consistent_snapshot is not a boolean");
	r->consistent_snapshot = cs;
	jref keys = jobj_typed(d, m->signed_, "keys", J_OBJ);
	if (!keys)
		BAD("root: no keys object");
	if (jget(d, keys)->count > WARD_MAX_TUF_KEYS)
		BAD("root: more than %u keys", WARD_MAX_TUF_KEYS);
	for (jref k = jget(d, keys)->first; k; k = jget(d, k)->next) {
		tuf_key *key = &r->keys[r->nkeys];
		const char *type, *scheme;
		jref kv = jobj_typed(d, k, "keyval", J_OBJ);
		if (!tuf_unhex(jkey(d, k), jget(d, k)->keylen, key->id, TUF_KEYID_LEN))
			BAD("root: key id is not 64 hex digits");
		if (!jobj_str(d, k, "keytype", &type, NULL) || strcmp(type, "ed25519") ||
		    !jobj_str(d, k, "scheme", &scheme, NULL) || strcmp(scheme, "ed25519"))
			BAD("root: key %.16s... is not an ed25519 key", jkey(d, k));
		if (!kv || get_hex(d, kv, "public", key->pub, TUF_PUB_LEN) != WARD_OK)
			BAD("root: key %.16s... has no 32-byte public value", jkey(d, k));
		/* The id must be the key's hash: otherwise one key could be listed
		 * under two ids and count twice toward a threshold. */
		uint8_t id[TUF_KEYID_LEN];
		tuf_keyid(key->pub, id);
		if (!tuf_memeq(id, key->id, TUF_KEYID_LEN))
			BAD("root: key id %.16s... is not the SHA-256 of its key", jkey(d, k));
		r->nkeys++;
	}
	jref roles = jobj_typed(d, m->signed_, "roles", J_OBJ);
	if (!roles)
		BAD("root: no roles object");
	for (int i = 0; i < TUF_NROLES; i++) {
		tuf_rolekeys *rk = &r->roles[i];
		jref ro = jobj_typed(d, roles, role_names[i], J_OBJ);
		jref ids = jobj_typed(d, ro, "keyids", J_ARR);
		if (!ro || !ids || !jobj_u64(d, ro, "threshold", &rk->threshold))
			BAD("root: role %s needs keyids and threshold", role_names[i]);
		if (jget(d, ids)->count > WARD_MAX_TUF_KEYS)
			BAD("root: role %s lists more than %u keys", role_names[i],
			    WARD_MAX_TUF_KEYS);
		for (jref k = jget(d, ids)->first; k; k = jget(d, k)->next) {
			uint8_t *id = rk->ids[rk->nids];
			if (jget(d, k)->type != J_STR ||
			    !tuf_unhex(jstr(d, k), jget(d, k)->len, id, TUF_KEYID_LEN))
				BAD("root: role %s: bad key id", role_names[i]);
			bool known = false;
			for (size_t j = 0; j < r->nkeys; j++)
				known |= tuf_memeq(r->keys[j].id, id, TUF_KEYID_LEN);
			if (!known)
				BAD("root: role %s lists a key that is not in keys", role_names[i]);
			for (size_t j = 0; j < rk->nids; j++)
				if (tuf_memeq(rk->ids[j], id, TUF_KEYID_LEN))
					BAD("root: role %s lists a key twice", role_names[i]);
			rk->nids++;
		}
		/* A threshold above the number of keys can never be met: such a
		 * root would lock every client out, so it is refused here. */
		if (rk->threshold < 1 || rk->threshold > rk->nids)
			BAD("root: role %s: threshold %llu with %zu keys", role_names[i],
			    (unsigned long long)rk->threshold, rk->nids);
	}
	return WARD_OK;
}

static ward_err parse_metaref(const jdoc *d, jref signed_, const char *file, tuf_metaref *ref,
			      char *why, size_t whylen)
{
	jref meta = jobj_typed(d, signed_, "meta", J_OBJ);
	jref f = jobj_typed(d, meta, file, J_OBJ);
	if (!f || !jobj_u64(d, f, "version", &ref->version) || ref->version < 1)
		BAD("meta: no version for %s", file);
	if (jobj_get(d, f, "length") && (!jobj_u64(d, f, "length", &ref->length) || !ref->length))
		BAD("meta: bad length for %s", file);
	jref h = jobj_get(d, f, "hashes");
	if (h) {
		if (jget(d, h)->type != J_OBJ ||
		    get_hex(d, h, "sha256", ref->sha256, 32) != WARD_OK)
			BAD("meta: hashes of %s need a sha256", file);
		ref->has_hash = true;
	}
	return WARD_OK;
}

static bool good_name(const char *s, size_t n)
{
	/* The name becomes a file name on the client and on the mirror: no
	 * separators, no leading dot (".", "..", hidden files). */
	if (n == 0 || n > WARD_MAX_TARGET_NAME || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* By package version, then the full package (delta_base 0) before the
 * deltas that rebuild it, by base version. */
static int target_cmp(const void *a, const void *b)
{
	const tuf_target *x = a, *y = b;
	if (x->pkg_version != y->pkg_version)
		return (x->pkg_version > y->pkg_version) - (x->pkg_version < y->pkg_version);
	return (x->delta_base > y->delta_base) - (x->delta_base < y->delta_base);
}

static ward_err parse_targets(tuf_meta *m, char *why, size_t whylen)
{
	const jdoc *d = &m->doc;
	jref ts = jobj_typed(d, m->signed_, "targets", J_OBJ);
	if (!ts)
		BAD("targets: no targets object");
	size_t n = jget(d, ts)->count;
	if (n > WARD_MAX_TUF_TARGETS)
		BAD("targets: more than %u targets", WARD_MAX_TUF_TARGETS);
	m->targets = w_calloc(n ? n : 1, sizeof *m->targets);
	if (!m->targets)
		return WARD_ENOMEM;
	for (jref t = jget(d, ts)->first; t; t = jget(d, t)->next) {
		tuf_target *tg = &m->targets[m->ntargets];
		const char *name = jkey(d, t), *ch, *rel;
		size_t nlen = jget(d, t)->keylen, chlen, rlen;
		if (!good_name(name, nlen))
			BAD("targets: bad target name");
		memcpy(tg->name, name, nlen);
		jref h = jobj_typed(d, t, "hashes", J_OBJ);
		if (!jobj_u64(d, t, "length", &tg->length) || tg->length > WARD_MAX_TARGET_SIZE)
			BAD("targets: %s: bad length", tg->name);
		if (!h || get_hex(d, h, "sha256", tg->sha256, 32) != WARD_OK)
			BAD("targets: %s: no sha256 hash", tg->name);
		jref w = jobj_typed(d, jobj_typed(d, t, "custom", J_OBJ), "ward", J_OBJ);
		if (!w || !jobj_u64(d, w, "version", &tg->pkg_version) || tg->pkg_version < 1)
			BAD("targets: %s: no custom.ward.version", tg->name);
		jref dl = jobj_get(d, w, "delta");
		if (dl) {
			/* A delta package: version is the version it rebuilds,
			 * base the version it applies to (always older: a delta
			 * never moves a client backwards), full the target
			 * whose hashes the rebuilt package must match. */
			const char *full;
			size_t flen;
			if (jget(d, dl)->type != J_OBJ ||
			    !jobj_u64(d, dl, "base", &tg->delta_base) || tg->delta_base < 1 ||
			    tg->delta_base >= tg->pkg_version ||
			    !jobj_str(d, dl, "full", &full, &flen) || !good_name(full, flen))
				BAD("targets: %s: custom.ward.delta needs a base below its version "
				    "and the name of a full target",
				    tg->name);
			memcpy(tg->delta_full, full, flen);
			m->ntargets++;
			continue;
		}
		if (!jobj_str(d, w, "channel", &ch, &chlen) ||
		    (strcmp(ch, "stable") && strcmp(ch, "preview")))
			BAD("targets: %s: channel must be stable or preview", tg->name);
		memcpy(tg->channel, ch, chlen + 1);
		if (!jobj_str(d, w, "released", &rel, &rlen) ||
		    !tuf_time_parse(rel, rlen, &tg->released))
			BAD("targets: %s: released is not an RFC 3339 UTC time", tg->name);
		m->ntargets++;
	}
	/* Sorted by package version; one version is one package (a pairwise
	 * check would be quadratic in a hostile list). */
	qsort(m->targets, m->ntargets, sizeof *m->targets, target_cmp);
	for (size_t i = 1; i < m->ntargets; i++)
		if (m->targets[i - 1].pkg_version == m->targets[i].pkg_version &&
		    m->targets[i - 1].delta_base == m->targets[i].delta_base)
			BAD("targets: version %llu listed twice%s",
			    (unsigned long long)m->targets[i].pkg_version,
			    m->targets[i].delta_base ? " as a delta from the same base" : "");
	/* Every delta names the full target of its version (sorted first in
	 * its run): the client checks what a delta rebuilds against that
	 * target's length and hashes, so a delta without one is useless. */
	const tuf_target *full = NULL;
	for (size_t i = 0; i < m->ntargets; i++) {
		const tuf_target *t = &m->targets[i];
		if (!t->delta_base) {
			full = t;
			continue;
		}
		if (!full || full->pkg_version != t->pkg_version ||
		    strcmp(full->name, t->delta_full))
			BAD("targets: delta %s: full target %s of version %llu is not listed",
			    t->name, t->delta_full, (unsigned long long)t->pkg_version);
	}
	return WARD_OK;
}

ward_err tuf_meta_parse(tuf_meta *m, tuf_role role, const void *buf, size_t len, char *why,
			size_t whylen)
{
	char jwhy[128];
	tuf_meta_free(m);
	tuf_meta_init(m);
	m->role = role;
	ward_err e = json_parse(&m->doc, buf, len, jwhy, sizeof jwhy);
	if (e != WARD_OK) {
		snprintf(why, whylen, "%s.json is not valid JSON (%s)", role_names[role], jwhy);
		return e == WARD_ENOMEM ? e : WARD_ECORRUPT;
	}
	const jdoc *d = &m->doc;
	const char *type, *exp;
	size_t explen;
	m->signed_ = jobj_typed(d, d->root, "signed", J_OBJ);
	if (!m->signed_ || !jobj_typed(d, d->root, "signatures", J_ARR))
		BAD("%s.json: needs \"signed\" and \"signatures\"", role_names[role]);
	if (!jobj_str(d, m->signed_, "_type", &type, NULL) || strcmp(type, role_names[role]))
		BAD("%s.json: _type is not \"%s\"", role_names[role], role_names[role]);
	if (!jobj_u64(d, m->signed_, "version", &m->version) || m->version < 1)
		BAD("%s.json: version must be a positive integer", role_names[role]);
	if (!jobj_str(d, m->signed_, "expires", &exp, &explen) ||
	    !tuf_time_parse(exp, explen, &m->expires))
		BAD("%s.json: expires is not an RFC 3339 UTC time", role_names[role]);
	switch (role) {
	case TUF_ROOT:
		e = parse_root(m, why, whylen);
		break;
	case TUF_TIMESTAMP:
		e = parse_metaref(d, m->signed_, "snapshot.json", &m->u.snapshot, why, whylen);
		break;
	case TUF_SNAPSHOT:
		e = parse_metaref(d, m->signed_, "targets.json", &m->u.targets, why, whylen);
		break;
	case TUF_TARGETS:
		e = parse_targets(m, why, whylen);
		break;
	default:
		e = WARD_EINTERNAL;
	}
	if (e != WARD_OK && e != WARD_ENOMEM &&
	    strncmp(why, role_names[role], strlen(role_names[role]))) {
		/* Prefix the file so the message stands alone. */
		char tmp[256];
		snprintf(tmp, sizeof tmp, "%s", why);
		snprintf(why, whylen, "%s.json: %s", role_names[role], tmp);
	}
	return e;
}

/* ---- signatures ---- */

bool tuf_role_has_key(const tuf_root *root, tuf_role role, const uint8_t id[TUF_KEYID_LEN])
{
	const tuf_rolekeys *rk = &root->roles[role];
	for (size_t i = 0; i < rk->nids; i++)
		if (tuf_memeq(rk->ids[i], id, TUF_KEYID_LEN))
			return true;
	return false;
}

static const tuf_key *find_key(const tuf_root *root, const uint8_t id[TUF_KEYID_LEN])
{
	for (size_t i = 0; i < root->nkeys; i++)
		if (tuf_memeq(root->keys[i].id, id, TUF_KEYID_LEN))
			return &root->keys[i];
	return NULL;
}

bool tuf_verify(const tuf_root *root, tuf_role role, const tuf_meta *m, size_t *valid, char *why,
		size_t whylen)
{
	const jdoc *d = &m->doc;
	dbuf msg;
	dbuf_init(&msg, WARD_MAX_JSON_DOC);
	size_t count = 0, seen = 0;
	uint8_t counted[WARD_MAX_TUF_KEYS][TUF_KEYID_LEN];
	const tuf_rolekeys *rk = &root->roles[role];
	*valid = 0;
	if (json_canonical(d, m->signed_, &msg) != WARD_OK) {
		snprintf(why, whylen, "%s.json: cannot form canonical JSON", role_names[m->role]);
		dbuf_free(&msg);
		return false;
	}
	jref sigs = jobj_typed(d, d->root, "signatures", J_ARR);
	for (jref s = sigs ? jget(d, sigs)->first : 0; s && seen < WARD_MAX_TUF_SIGNATURES;
	     s = jget(d, s)->next, seen++) {
		uint8_t id[TUF_KEYID_LEN], sig[TUF_SIG_LEN];
		if (get_hex(d, s, "keyid", id, sizeof id) != WARD_OK ||
		    get_hex(d, s, "sig", sig, sizeof sig) != WARD_OK)
			continue; /* malformed entries count for nothing */
		if (!tuf_role_has_key(root, role, id))
			continue;
		bool dup = false;
		for (size_t i = 0; i < count; i++)
			dup |= tuf_memeq(counted[i], id, TUF_KEYID_LEN);
		const tuf_key *k = find_key(root, id);
		if (dup || !k || count >= WARD_MAX_TUF_KEYS)
			continue;
		if (!tuf_ed25519_verify(k->pub, msg.s, msg.len, sig))
			continue;
		memcpy(counted[count++], id, TUF_KEYID_LEN);
	}
	dbuf_free(&msg);
	*valid = count;
	if (count >= rk->threshold)
		return true;
	snprintf(why, whylen, "%s.json: %zu valid signature%s from %s keys, threshold is %llu",
		 role_names[m->role], count, count == 1 ? "" : "s", role_names[role],
		 (unsigned long long)rk->threshold);
	return false;
}

/* Rebuild the envelope with signature sig by key id (replacing that key's
 * old one), or without any signature when id is NULL. Builds a new document
 * rather than editing in place: copying nodes within one document would read
 * storage that the copy reallocates. */
static ward_err rebuild(tuf_meta *m, const uint8_t *id, const uint8_t *sig)
{
	jdoc nd;
	jdoc_init(&nd);
	ward_err e = WARD_ENOMEM;
	char idhex[2 * TUF_KEYID_LEN + 1], sighex[2 * TUF_SIG_LEN + 1];
	jref env = jnew(&nd, J_OBJ), arr = jnew(&nd, J_ARR);
	jref sgn = jcopy(&nd, &m->doc, m->signed_, 0);
	if (!env || !arr || !sgn)
		goto out;
	jref old = jobj_typed(&m->doc, m->doc.root, "signatures", J_ARR);
	for (jref s = (id && old) ? jget(&m->doc, old)->first : 0; s; s = jget(&m->doc, s)->next) {
		uint8_t oid[TUF_KEYID_LEN];
		if (get_hex(&m->doc, s, "keyid", oid, sizeof oid) == WARD_OK &&
		    tuf_memeq(oid, id, TUF_KEYID_LEN))
			continue;
		jref c = jcopy(&nd, &m->doc, s, 0);
		if (!c || !jarr_add(&nd, arr, c))
			goto out;
	}
	if (id) {
		tuf_hex(id, TUF_KEYID_LEN, idhex);
		tuf_hex(sig, TUF_SIG_LEN, sighex);
		jref o = jnew(&nd, J_OBJ);
		if (!o || !jobj_put(&nd, o, "keyid", jnew_strz(&nd, idhex)) ||
		    !jobj_put(&nd, o, "sig", jnew_strz(&nd, sighex)) || !jarr_add(&nd, arr, o))
			goto out;
	}
	if (!jobj_put(&nd, env, "signatures", arr) || !jobj_put(&nd, env, "signed", sgn))
		goto out;
	nd.root = env;
	jdoc_free(&m->doc);
	m->doc = nd;
	m->signed_ = sgn;
	jdoc_init(&nd);
	e = WARD_OK;
out:
	jdoc_free(&nd);
	return e;
}

ward_err tuf_meta_sign(tuf_meta *m, const tuf_signer *s)
{
	dbuf msg;
	dbuf_init(&msg, WARD_MAX_JSON_DOC);
	uint8_t sig[TUF_SIG_LEN];
	ward_err e = json_canonical(&m->doc, m->signed_, &msg);
	if (e == WARD_OK)
		e = tuf_sign(s, msg.s, msg.len, sig);
	if (e == WARD_OK)
		e = rebuild(m, tuf_signer_id(s), sig);
	dbuf_free(&msg);
	return e;
}

ward_err tuf_meta_clear_sigs(tuf_meta *m) { return rebuild(m, NULL, NULL); }

ward_err tuf_meta_write(const tuf_meta *m, dbuf *out)
{
	ward_err e = json_canonical(&m->doc, m->doc.root, out);
	if (e == WARD_OK)
		e = dbuf_add(out, "\n", 1);
	return e;
}
