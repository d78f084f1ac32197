/*
 * The publisher side: a work directory with staged metadata (root and
 * targets, signed offline, possibly by several people) and a public/
 * directory that any static web server can serve:
 *
 *   DIR/staged/root.json, DIR/staged/targets.json   waiting for signatures
 *   DIR/public/N.root.json       every root version (clients walk the chain)
 *   DIR/public/root.json         copy of the newest (for bootstrapping)
 *   DIR/public/N.targets.json    N.snapshot.json   (consistent snapshots)
 *   DIR/public/timestamp.json    written last, by rename
 *   DIR/public/targets/HASH.NAME package files, named by their SHA-256
 *
 * Every version is written under a new name and timestamp.json is replaced
 * last, so a client fetching during a publish sees the old or the new
 * repository, never a mix of both (TUF's consistent snapshots).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "update/fsutil.h"
#include "update/tuf.h"
#include "ward/pkg.h"

#define SPEC_VERSION "1.0.31"
#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

static const uint64_t default_expiry[TUF_NROLES] = {
	(uint64_t)365 * 86400, /* root: offline keys, rotated rarely */
	(uint64_t)90 * 86400,  /* targets: offline keys, re-signed each release */
	(uint64_t)7 * 86400,   /* snapshot: online */
	86400,                 /* timestamp: online, short so a freeze is noticed soon */
};

static int64_t opt_now(const ward_repo_opts *o)
{
	return (o && o->now) ? o->now : (int64_t)time(NULL);
}

static int64_t expiry(const ward_repo_opts *o, tuf_role r)
{
	uint64_t s = (o && o->expires[r]) ? o->expires[r] : default_expiry[r];
	if (s > (uint64_t)100 * 365 * 86400)
		s = (uint64_t)100 * 365 * 86400;
	return opt_now(o) + (int64_t)s;
}

/* ---- building documents ---- */

static jref new_signed(jdoc *d, tuf_role r, uint64_t version, int64_t expires)
{
	char t[32];
	tuf_time_format(expires, t);
	jref s = jnew(d, J_OBJ);
	if (!s || !jobj_put(d, s, "_type", jnew_strz(d, tuf_role_name(r))) ||
	    !jobj_put(d, s, "spec_version", jnew_strz(d, SPEC_VERSION)) ||
	    !jobj_put(d, s, "version", jnew_int(d, version)) ||
	    !jobj_put(d, s, "expires", jnew_strz(d, t)))
		return 0;
	return s;
}

/* Wrap signed s into an envelope without signatures and parse it back into
 * m: whatever the repository writes has passed the client's own parser. */
static ward_err finish(jdoc *d, jref s, tuf_role r, tuf_meta *m, char *why, size_t whylen)
{
	dbuf out;
	dbuf_init(&out, WARD_MAX_JSON_DOC);
	ward_err e = WARD_ENOMEM;
	jref env = jnew(d, J_OBJ);
	if (!s || !env || !jobj_put(d, env, "signatures", jnew(d, J_ARR)) ||
	    !jobj_put(d, env, "signed", s))
		goto out;
	e = json_canonical(d, env, &out);
	if (e == WARD_OK)
		e = tuf_meta_parse(m, r, out.s, out.len, why, whylen);
out:
	dbuf_free(&out);
	return e;
}

static jref hashes_obj(jdoc *d, const uint8_t sha[32])
{
	char hex[65];
	tuf_hex(sha, 32, hex);
	jref h = jnew(d, J_OBJ);
	if (!h || !jobj_put(d, h, "sha256", jnew_strz(d, hex)))
		return 0;
	return h;
}

static ward_err build_root(const tuf_signer *const *keys[TUF_NROLES],
			   const size_t nkeys[TUF_NROLES], const uint64_t thr[TUF_NROLES],
			   uint64_t version, int64_t expires, tuf_meta *m, char *why, size_t whylen)
{
	jdoc d;
	jdoc_init(&d);
	ward_err e = WARD_ENOMEM;
	char hex[65];
	jref s = new_signed(&d, TUF_ROOT, version, expires);
	jref ko = jnew(&d, J_OBJ), ro = jnew(&d, J_OBJ);
	if (!s || !ko || !ro || !jobj_put(&d, s, "consistent_snapshot", jnew(&d, J_TRUE)))
		goto out;
	for (int r = 0; r < TUF_NROLES; r++) {
		jref role = jnew(&d, J_OBJ), ids = jnew(&d, J_ARR);
		if (!role || !ids)
			goto out;
		for (size_t i = 0; i < nkeys[r]; i++) {
			const tuf_signer *k = keys[r][i];
			tuf_hex(tuf_signer_id(k), TUF_KEYID_LEN, hex);
			if (!jarr_add(&d, ids, jnew_strz(&d, hex)))
				goto out;
			if (jobj_get(&d, ko, hex))
				continue; /* one key may serve several roles */
			char pub[65];
			tuf_hex(tuf_signer_pub(k), TUF_PUB_LEN, pub);
			jref key = jnew(&d, J_OBJ), kv = jnew(&d, J_OBJ);
			if (!key || !kv || !jobj_put(&d, kv, "public", jnew_strz(&d, pub)) ||
			    !jobj_put(&d, key, "keytype", jnew_strz(&d, "ed25519")) ||
			    !jobj_put(&d, key, "scheme", jnew_strz(&d, "ed25519")) ||
			    !jobj_put(&d, key, "keyval", kv) || !jobj_put(&d, ko, hex, key))
				goto out;
		}
		if (!jobj_put(&d, role, "keyids", ids) ||
		    !jobj_put(&d, role, "threshold", jnew_int(&d, thr[r])) ||
		    !jobj_put(&d, ro, tuf_role_name((tuf_role)r), role))
			goto out;
	}
	if (!jobj_put(&d, s, "keys", ko) || !jobj_put(&d, s, "roles", ro))
		goto out;
	e = finish(&d, s, TUF_ROOT, m, why, whylen);
out:
	if (e == WARD_ENOMEM)
		WHY("out of memory");
	jdoc_free(&d);
	return e;
}

static ward_err build_targets(const tuf_target *t, size_t n, uint64_t version, int64_t expires,
			      tuf_meta *m, char *why, size_t whylen)
{
	jdoc d;
	jdoc_init(&d);
	ward_err e = WARD_ENOMEM;
	jref s = new_signed(&d, TUF_TARGETS, version, expires), to = jnew(&d, J_OBJ);
	if (!s || !to)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char rel[32];
		tuf_time_format(t[i].released, rel);
		jref o = jnew(&d, J_OBJ), c = jnew(&d, J_OBJ), w = jnew(&d, J_OBJ);
		if (!o || !c || !w || !jobj_put(&d, w, "version", jnew_int(&d, t[i].pkg_version)))
			goto out;
		if (t[i].delta_base) {
			/* A delta follows its full target's channel: it has
			 * none of its own, only what it applies to. */
			jref dl = jnew(&d, J_OBJ);
			if (!dl || !jobj_put(&d, dl, "base", jnew_int(&d, t[i].delta_base)) ||
			    !jobj_put(&d, dl, "full", jnew_strz(&d, t[i].delta_full)) ||
			    !jobj_put(&d, w, "delta", dl))
				goto out;
		} else if (!jobj_put(&d, w, "channel", jnew_strz(&d, t[i].channel)) ||
			   !jobj_put(&d, w, "released", jnew_strz(&d, rel))) {
			goto out;
		}
		if (!jobj_put(&d, c, "ward", w) || !jobj_put(&d, o, "custom", c) ||
		    !jobj_put(&d, o, "length", jnew_int(&d, t[i].length)) ||
		    !jobj_put(&d, o, "hashes", hashes_obj(&d, t[i].sha256)) ||
		    !jobj_put(&d, to, t[i].name, o))
			goto out;
	}
	if (!jobj_put(&d, s, "targets", to))
		goto out;
	e = finish(&d, s, TUF_TARGETS, m, why, whylen);
out:
	if (e == WARD_ENOMEM)
		WHY("out of memory");
	jdoc_free(&d);
	return e;
}

/* timestamp -> snapshot.json, snapshot -> targets.json */
static ward_err build_ref(tuf_role r, uint64_t version, int64_t expires, const char *file,
			  uint64_t ref_version, const dbuf *ref_bytes, tuf_meta *m, char *why,
			  size_t whylen)
{
	jdoc d;
	jdoc_init(&d);
	ward_err e = WARD_ENOMEM;
	uint8_t sha[32];
	tuf_sha256(ref_bytes->s, ref_bytes->len, sha);
	jref s = new_signed(&d, r, version, expires), meta = jnew(&d, J_OBJ), f = jnew(&d, J_OBJ);
	if (!s || !meta || !f || !jobj_put(&d, f, "version", jnew_int(&d, ref_version)) ||
	    !jobj_put(&d, f, "length", jnew_int(&d, ref_bytes->len)) ||
	    !jobj_put(&d, f, "hashes", hashes_obj(&d, sha)) || !jobj_put(&d, meta, file, f) ||
	    !jobj_put(&d, s, "meta", meta))
		goto out;
	e = finish(&d, s, r, m, why, whylen);
out:
	if (e == WARD_ENOMEM)
		WHY("out of memory");
	jdoc_free(&d);
	return e;
}

/* ---- files ---- */

static ward_err load_meta(const char *path, tuf_role r, tuf_meta *m, char *why, size_t whylen)
{
	uint8_t *buf = NULL;
	size_t len;
	ward_err e = fs_read_file(path, WARD_MAX_JSON_DOC, &buf, &len);
	if (e != WARD_OK) {
		WHY("%s: cannot read (%s)", path, ward_strerror(e));
		return e;
	}
	e = tuf_meta_parse(m, r, buf, len, why, whylen);
	w_free(buf);
	return e;
}

static ward_err save_meta(const char *path, const tuf_meta *m, dbuf *bytes, char *why,
			  size_t whylen)
{
	dbuf local;
	dbuf_init(&local, WARD_MAX_JSON_DOC);
	dbuf *out = bytes ? bytes : &local;
	dbuf_reset(out);
	out->len = 0;
	ward_err e = tuf_meta_write(m, out);
	if (e == WARD_OK)
		e = fs_write_atomic(path, out->s, out->len);
	if (e != WARD_OK)
		WHY("%s: cannot write (%s)", path, ward_strerror(e));
	dbuf_free(&local);
	return e;
}

static void free_signers(tuf_signer **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tuf_signer_free(s[i]);
}

static ward_err make_root(const ward_repo_role_keys keys[4], uint64_t version, int64_t expires,
			  tuf_meta *m, char *why, size_t whylen)
{
	tuf_signer *all[TUF_NROLES][WARD_MAX_TUF_KEYS] = {{0}};
	const tuf_signer *const *ptrs[TUF_NROLES];
	size_t n[TUF_NROLES] = {0};
	uint64_t thr[TUF_NROLES];
	ward_err e = WARD_OK;
	for (int r = 0; r < TUF_NROLES && e == WARD_OK; r++) {
		ptrs[r] = (const tuf_signer *const *)all[r];
		thr[r] = keys[r].threshold ? keys[r].threshold : 1;
		if (keys[r].n == 0 || keys[r].n > WARD_MAX_TUF_KEYS) {
			WHY("role %s needs 1 to %u keys", tuf_role_name((tuf_role)r),
			    WARD_MAX_TUF_KEYS);
			e = WARD_EINVAL;
			break;
		}
		if (thr[r] > keys[r].n) {
			WHY("role %s: threshold %llu is more than its %zu keys",
			    tuf_role_name((tuf_role)r), (unsigned long long)thr[r], keys[r].n);
			e = WARD_EINVAL;
			break;
		}
		for (size_t i = 0; i < keys[r].n && e == WARD_OK; i++) {
			e = tuf_signer_load(keys[r].paths[i], &all[r][i], why, whylen);
			if (e == WARD_OK)
				n[r]++;
		}
	}
	if (e == WARD_OK)
		e = build_root(ptrs, n, thr, version, expires, m, why, whylen);
	for (int r = 0; r < TUF_NROLES; r++)
		free_signers(all[r], n[r]);
	return e;
}

/* The newest published root, or none (WARD_OK with *have false). */
static ward_err published_root(const char *dir, tuf_meta *m, bool *have, char *why, size_t whylen)
{
	char p[4096];
	*have = false;
	if (!fs_path(p, sizeof p, "%s/public/root.json", dir))
		return WARD_ELIMIT;
	if (!fs_exists(p))
		return WARD_OK;
	*have = true;
	return load_meta(p, TUF_ROOT, m, why, whylen);
}

/* Published timestamp, snapshot and targets versions (0 when unpublished). */
static ward_err published_versions(const char *dir, uint64_t *ts, uint64_t *snap, uint64_t *tg,
				   char *why, size_t whylen)
{
	char p[4096];
	tuf_meta t, s;
	*ts = *snap = *tg = 0;
	if (!fs_path(p, sizeof p, "%s/public/timestamp.json", dir))
		return WARD_ELIMIT;
	if (!fs_exists(p))
		return WARD_OK;
	tuf_meta_init(&t);
	tuf_meta_init(&s);
	ward_err e = load_meta(p, TUF_TIMESTAMP, &t, why, whylen);
	if (e == WARD_OK) {
		*ts = t.version;
		*snap = t.u.snapshot.version;
		if (!fs_path(p, sizeof p, "%s/public/%llu.snapshot.json", dir,
			     (unsigned long long)*snap))
			e = WARD_ELIMIT;
	}
	if (e == WARD_OK)
		e = load_meta(p, TUF_SNAPSHOT, &s, why, whylen);
	if (e == WARD_OK)
		*tg = s.u.targets.version;
	tuf_meta_free(&t);
	tuf_meta_free(&s);
	return e;
}

/* ---- commands ---- */

static ward_err mkdirs(const char *dir, char *why, size_t whylen)
{
	static const char *const subs[] = {"", "/staged", "/public", "/public/targets"};
	char p[4096];
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		if (!fs_path(p, sizeof p, "%s%s", dir, subs[i]))
			return WARD_ELIMIT;
		if (fs_mkdir(p) != WARD_OK) {
			WHY("%s: cannot create directory (%s)", p, strerror(errno));
			return WARD_EIO;
		}
	}
	return WARD_OK;
}

ward_err ward_repo_init(const char *dir, const ward_repo_role_keys keys[4],
			const ward_repo_opts *opts, char *why, size_t whylen)
{
	char p[4096], dummy[1];
	tuf_meta root, tg;
	if (!why || !whylen)
		why = dummy, whylen = sizeof dummy;
	why[0] = '\0';
	tuf_meta_init(&root);
	tuf_meta_init(&tg);
	ward_err e = mkdirs(dir, why, whylen);
	if (e != WARD_OK)
		goto out;
	e = WARD_EINVAL;
	if (!fs_path(p, sizeof p, "%s/staged/root.json", dir) || fs_exists(p)) {
		WHY("%s: a repository is already initialised here", dir);
		goto out;
	}
	e = make_root(keys, 1, expiry(opts, TUF_ROOT), &root, why, whylen);
	if (e == WARD_OK)
		e = build_targets(NULL, 0, 1, expiry(opts, TUF_TARGETS), &tg, why, whylen);
	if (e == WARD_OK)
		e = fs_path(p, sizeof p, "%s/staged/targets.json", dir) ? WARD_OK : WARD_ELIMIT;
	if (e == WARD_OK)
		e = save_meta(p, &tg, NULL, why, whylen);
	if (e == WARD_OK)
		e = fs_path(p, sizeof p, "%s/staged/root.json", dir) ? WARD_OK : WARD_ELIMIT;
	if (e == WARD_OK)
		e = save_meta(p, &root, NULL, why, whylen);
out:
	tuf_meta_free(&root);
	tuf_meta_free(&tg);
	return e;
}

ward_err ward_repo_rotate(const char *dir, const ward_repo_role_keys keys[4],
			  const ward_repo_opts *opts, char *why, size_t whylen)
{
	char p[4096], dummy[1];
	tuf_meta pub, root;
	bool have;
	if (!why || !whylen)
		why = dummy, whylen = sizeof dummy;
	why[0] = '\0';
	tuf_meta_init(&pub);
	tuf_meta_init(&root);
	ward_err e = published_root(dir, &pub, &have, why, whylen);
	if (e == WARD_OK && !have) {
		WHY("%s: publish the first root before rotating it", dir);
		e = WARD_EINVAL;
	}
	if (e == WARD_OK)
		e = make_root(keys, pub.version + 1, expiry(opts, TUF_ROOT), &root, why, whylen);
	if (e == WARD_OK)
		e = fs_path(p, sizeof p, "%s/staged/root.json", dir) ? WARD_OK : WARD_ELIMIT;
	if (e == WARD_OK)
		e = save_meta(p, &root, NULL, why, whylen);
	tuf_meta_free(&pub);
	tuf_meta_free(&root);
	return e;
}

/* SHA-256 and length of a file, streaming (packages can be large). */
static ward_err hash_file(const char *path, uint8_t sha[32], uint64_t *len)
{
	ward_err e = WARD_EIO;
	unsigned char buf[65536];
	unsigned int mdlen = 32;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	*len = 0;
	if (!ctx || fd < 0 || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		*len += (uint64_t)r;
		if (*len > WARD_MAX_TARGET_SIZE) {
			e = WARD_ELIMIT;
			goto out;
		}
		if (EVP_DigestUpdate(ctx, buf, (size_t)r) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(ctx, sha, &mdlen) == 1)
		e = WARD_OK;
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	return e;
}

/* A target name the repository accepts: it becomes part of a file name. */
static bool target_name_ok(const char *name, size_t nlen)
{
	return nlen > 0 && nlen <= WARD_MAX_TARGET_NAME && name[0] != '.' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
		       nlen;
}

/* The staged targets (path into p) and the published targets version. */
static ward_err load_staged_targets(const char *dir, char *p, size_t np, tuf_meta *cur,
				    uint64_t *tgv, char *why, size_t whylen)
{
	uint64_t ts, snap;
	if (!fs_path(p, np, "%s/staged/targets.json", dir))
		return WARD_ELIMIT;
	ward_err e = load_meta(p, TUF_TARGETS, cur, why, whylen);
	if (e == WARD_OK)
		e = published_versions(dir, &ts, &snap, tgv, why, whylen);
	return e;
}

/* Append nt to list[0..*n) (room for one more is allocated by the caller),
 * within the repository's ceiling. */
static ward_err append_target(tuf_target *list, size_t *n, const tuf_target *nt, char *why,
			      size_t whylen)
{
	if (*n >= WARD_MAX_TUF_TARGETS) {
		WHY("more than %u targets", WARD_MAX_TUF_TARGETS);
		return WARD_ELIMIT;
	}
	list[(*n)++] = *nt;
	return WARD_OK;
}

/* Write the staged targets.json at p listing list[0..n). A new version once
 * per publish: edits before publishing share one. */
static ward_err save_staged_targets(const char *p, const tuf_meta *cur, uint64_t tgv,
				    const tuf_target *list, size_t n, const ward_repo_opts *opts,
				    tuf_meta *next, char *why, size_t whylen)
{
	uint64_t v = cur->version > tgv ? cur->version : tgv + 1;
	ward_err e = build_targets(list, n, v, expiry(opts, TUF_TARGETS), next, why, whylen);
	if (e == WARD_OK)
		e = save_meta(p, next, NULL, why, whylen);
	return e;
}

ward_err ward_repo_add(const char *dir, const ward_repo_target *t, const ward_repo_opts *opts,
		       char *why, size_t whylen)
{
	char p[4096], dst[4096], hex[65], dummy[1];
	tuf_meta cur, next;
	tuf_target *list = NULL;
	uint64_t tgv = 0;
	if (!why || !whylen)
		why = dummy, whylen = sizeof dummy;
	why[0] = '\0';
	tuf_meta_init(&cur);
	tuf_meta_init(&next);
	ward_err e = WARD_EINVAL;
	size_t nlen = t->name ? strlen(t->name) : 0;
	tuf_target nt;
	memset(&nt, 0, sizeof nt);
	if (!t->file || !t->name || !target_name_ok(t->name, nlen)) {
		WHY("target name must be 1 to %u of [A-Za-z0-9._-], not starting with '.'",
		    WARD_MAX_TARGET_NAME);
		goto out;
	}
	if (t->version < 1) {
		WHY("target version must be at least 1");
		goto out;
	}
	const char *ch = t->channel ? t->channel : "stable";
	if (strcmp(ch, "stable") && strcmp(ch, "preview")) {
		WHY("channel must be stable or preview");
		goto out;
	}
	memcpy(nt.name, t->name, nlen);
	memcpy(nt.channel, ch, strlen(ch) + 1);
	nt.pkg_version = t->version;
	nt.released = t->released ? t->released : opt_now(opts);
	e = hash_file(t->file, nt.sha256, &nt.length);
	if (e != WARD_OK) {
		WHY("%s: cannot read (%s)", t->file, ward_strerror(e));
		goto out;
	}
	tuf_hex(nt.sha256, 32, hex);
	e = WARD_ELIMIT;
	if (!fs_path(dst, sizeof dst, "%s/public/targets/%s.%s", dir, hex, t->name))
		goto out;
	e = load_staged_targets(dir, p, sizeof p, &cur, &tgv, why, whylen);
	if (e != WARD_OK)
		goto out;
	e = WARD_ENOMEM;
	list = w_calloc(cur.ntargets + 1, sizeof *list);
	if (!list)
		goto out;
	/* The entry this one replaces, if any: its deltas stay only when the
	 * package itself is unchanged (a promotion); a re-release with other
	 * bytes makes them rebuild something that is no longer listed. */
	const tuf_target *old = NULL;
	for (size_t i = 0; i < cur.ntargets; i++)
		if (!strcmp(cur.targets[i].name, nt.name))
			old = &cur.targets[i];
	bool keep_deltas = old && !old->delta_base && old->pkg_version == nt.pkg_version &&
			   old->length == nt.length && !memcmp(old->sha256, nt.sha256, 32);
	size_t n = 0;
	for (size_t i = 0; i < cur.ntargets; i++) {
		if (!strcmp(cur.targets[i].name, nt.name))
			continue; /* replaced (a promotion or a re-release) */
		if (cur.targets[i].delta_base) {
			if (strcmp(cur.targets[i].delta_full, nt.name) || keep_deltas)
				list[n++] = cur.targets[i];
			continue;
		}
		if (cur.targets[i].pkg_version == nt.pkg_version) {
			WHY("version %llu is already listed as %s",
			    (unsigned long long)nt.pkg_version, cur.targets[i].name);
			e = WARD_EINVAL;
			goto out;
		}
		list[n++] = cur.targets[i];
	}
	e = append_target(list, &n, &nt, why, whylen);
	if (e != WARD_OK)
		goto out;
	e = fs_copy_atomic(t->file, dst);
	if (e != WARD_OK) {
		WHY("%s: cannot copy (%s)", dst, ward_strerror(e));
		goto out;
	}
	e = save_staged_targets(p, &cur, tgv, list, n, opts, &next, why, whylen);
out:
	w_free(list);
	tuf_meta_free(&cur);
	tuf_meta_free(&next);
	return e;
}

ward_err ward_repo_add_delta(const char *dir, const ward_repo_delta *t, const ward_repo_opts *opts,
			     char *why, size_t whylen)
{
	char p[4096], dst[4096], hex[65], name[WARD_MAX_TARGET_NAME + 1], dummy[1];
	tuf_meta cur, next;
	tuf_target *list = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	ward_pkg_pubkey *key = NULL;
	ward_pkg *pkg = NULL;
	uint64_t tgv = 0;
	if (!why || !whylen)
		why = dummy, whylen = sizeof dummy;
	why[0] = '\0';
	tuf_meta_init(&cur);
	tuf_meta_init(&next);
	tuf_target nt;
	memset(&nt, 0, sizeof nt);
	ward_err e = WARD_EINVAL;
	if (!t->file || !t->full) {
		WHY("a delta file and the name of its full target are needed");
		goto out;
	}
	e = fs_read_file(t->file, WARD_PKG_MAX_SIZE, &buf, &len);
	if (e != WARD_OK) {
		WHY("%s: cannot read (%s)", t->file, ward_strerror(e));
		goto out;
	}
	/* The publisher checks what the client will check, so a delta that
	 * can only ever be refused is not published: the signature (when the
	 * pattern key is given), the kind, and what it rebuilds. */
	if (t->pkg_key) {
		e = ward_pkg_pubkey_read(t->pkg_key, &key, why, whylen);
		if (e == WARD_OK)
			e = ward_pkg_verify(buf, len, key, &pkg, why, whylen);
	} else {
		e = ward_pkg_parse(buf, len, &pkg, why, whylen);
	}
	if (e != WARD_OK)
		goto out;
	const ward_pkg_meta *dm = ward_pkg_get_meta(pkg);
	e = WARD_EINVAL;
	if (dm->kind != WARD_PKG_KIND_DELTA) {
		WHY("%s: not a delta package (ward pattern delta makes one)", t->file);
		goto out;
	}
	if (dm->base_version < 1 || dm->base_version >= dm->version) {
		WHY("%s: base version %llu is not below its version %llu", t->file,
		    (unsigned long long)dm->base_version, (unsigned long long)dm->version);
		goto out;
	}
	if (t->name)
		snprintf(name, sizeof name, "%s", t->name);
	else
		snprintf(name, sizeof name, "delta-%llu-%llu.wpkg",
			 (unsigned long long)dm->base_version, (unsigned long long)dm->version);
	size_t nlen = strlen(name);
	if (!target_name_ok(name, nlen)) {
		WHY("target name must be 1 to %u of [A-Za-z0-9._-], not starting with '.'",
		    WARD_MAX_TARGET_NAME);
		goto out;
	}
	memcpy(nt.name, name, nlen);
	nt.pkg_version = dm->version;
	nt.delta_base = dm->base_version;
	nt.length = len;
	tuf_sha256(buf, len, nt.sha256);
	tuf_hex(nt.sha256, 32, hex);
	e = WARD_ELIMIT;
	if (!fs_path(dst, sizeof dst, "%s/public/targets/%s.%s", dir, hex, nt.name))
		goto out;
	e = load_staged_targets(dir, p, sizeof p, &cur, &tgv, why, whylen);
	if (e != WARD_OK)
		goto out;
	const tuf_target *full = NULL;
	for (size_t i = 0; i < cur.ntargets; i++)
		if (!cur.targets[i].delta_base && !strcmp(cur.targets[i].name, t->full))
			full = &cur.targets[i];
	e = WARD_EINVAL;
	if (!full) {
		WHY("full target %s is not staged: add it first (ward repo add)", t->full);
		goto out;
	}
	if (full->pkg_version != dm->version) {
		WHY("%s rebuilds version %llu, %s is version %llu", t->file,
		    (unsigned long long)dm->version, t->full,
		    (unsigned long long)full->pkg_version);
		goto out;
	}
	/* --unsafe lets client tests publish a delta that rebuilds another
	 * (validly signed) package: the client must refuse its result. */
	if ((dm->target_size != full->length || memcmp(dm->target_sha256, full->sha256, 32)) &&
	    !(opts && opts->unsafe)) {
		WHY("%s does not rebuild %s (target size or SHA-256 differ)", t->file, t->full);
		goto out;
	}
	memcpy(nt.delta_full, full->name, strlen(full->name) + 1);
	e = WARD_ENOMEM;
	list = w_calloc(cur.ntargets + 1, sizeof *list);
	if (!list)
		goto out;
	size_t n = 0;
	for (size_t i = 0; i < cur.ntargets; i++) {
		const tuf_target *c = &cur.targets[i];
		if (!strcmp(c->name, nt.name) && !c->delta_base) {
			WHY("%s is already the name of a full target", nt.name);
			e = WARD_EINVAL;
			goto out;
		}
		/* Same name, or the same base and version: replaced. */
		if (!strcmp(c->name, nt.name) ||
		    (c->pkg_version == nt.pkg_version && c->delta_base == nt.delta_base))
			continue;
		list[n++] = *c;
	}
	e = append_target(list, &n, &nt, why, whylen);
	if (e != WARD_OK)
		goto out;
	e = fs_write_atomic(dst, buf, len);
	if (e != WARD_OK) {
		WHY("%s: cannot write (%s)", dst, ward_strerror(e));
		goto out;
	}
	e = save_staged_targets(p, &cur, tgv, list, n, opts, &next, why, whylen);
	if (e == WARD_OK)
		WHY("staged %s: delta %llu -> %llu of %s (%zu bytes instead of %llu)", nt.name,
		    (unsigned long long)nt.delta_base, (unsigned long long)nt.pkg_version,
		    nt.delta_full, len, (unsigned long long)full->length);
out:
	w_free(list);
	w_free(buf);
	ward_pkg_free(pkg);
	ward_pkg_pubkey_free(key);
	tuf_meta_free(&cur);
	tuf_meta_free(&next);
	return e;
}

ward_err ward_repo_sign(const char *dir, const char *role, const char *key_path,
			const ward_repo_opts *opts, char *why, size_t whylen)
{
	char p[4096], dummy[1];
	tuf_meta m, root, pub;
	tuf_signer *k = NULL;
	tuf_role r;
	bool have = false;
	if (!why || !whylen)
		why = dummy, whylen = sizeof dummy;
	why[0] = '\0';
	tuf_meta_init(&m);
	tuf_meta_init(&root);
	tuf_meta_init(&pub);
	ward_err e = WARD_EINVAL;
	if (!tuf_role_parse(role, &r) || (r != TUF_ROOT && r != TUF_TARGETS)) {
		WHY("only root and targets are signed offline (snapshot and timestamp are signed by "
		    "publish)");
		goto out;
	}
	e = WARD_ELIMIT;
	if (!fs_path(p, sizeof p, "%s/staged/root.json", dir))
		goto out;
	e = load_meta(p, TUF_ROOT, &root, why, whylen);
	if (e == WARD_OK)
		e = published_root(dir, &pub, &have, why, whylen);
	if (e == WARD_OK)
		e = tuf_signer_load(key_path, &k, why, whylen);
	if (e != WARD_OK)
		goto out;
	e = WARD_EINVAL;
	if (!tuf_signer_has_private(k)) {
		WHY("%s: a private key is needed to sign", key_path);
		goto out;
	}
	/* A key the clients do not trust for this role adds nothing; refusing
	 * it here catches a wrong key file before publishing. A rotated root
	 * is signed by old root keys too. */
	bool listed = tuf_role_has_key(&root.u.root, r, tuf_signer_id(k)) ||
		      (r == TUF_ROOT && have && tuf_role_has_key(&pub.u.root, r, tuf_signer_id(k)));
	if (!listed && !(opts && opts->unsafe && r == TUF_TARGETS)) {
		char hex[65];
		tuf_hex(tuf_signer_id(k), TUF_KEYID_LEN, hex);
		WHY("key %s is not a %s key of this repository", hex, role);
		goto out;
	}
	if (r == TUF_ROOT) {
		tuf_meta_free(&m);
		m = root;
		tuf_meta_init(&root);
	} else {
		e = WARD_ELIMIT;
		if (!fs_path(p, sizeof p, "%s/staged/targets.json", dir))
			goto out;
		e = load_meta(p, TUF_TARGETS, &m, why, whylen);
		if (e != WARD_OK)
			goto out;
	}
	e = tuf_meta_sign(&m, k);
	if (e == WARD_OK)
		e = save_meta(p, &m, NULL, why, whylen);
out:
	tuf_signer_free(k);
	tuf_meta_free(&m);
	tuf_meta_free(&root);
	tuf_meta_free(&pub);
	return e;
}

/* Sign m with each key file; the keys must be private and listed for role r
 * in root. */
static ward_err sign_with(tuf_meta *m, const tuf_root *root, tuf_role r, const char *const *paths,
			  size_t n, char *why, size_t whylen)
{
	ward_err e = WARD_OK;
	for (size_t i = 0; i < n && e == WARD_OK; i++) {
		tuf_signer *k = NULL;
		e = tuf_signer_load(paths[i], &k, why, whylen);
		if (e != WARD_OK)
			break;
		if (!tuf_signer_has_private(k) || !tuf_role_has_key(root, r, tuf_signer_id(k))) {
			WHY("%s: not a private %s key of this repository", paths[i],
			    tuf_role_name(r));
			e = WARD_EINVAL;
		} else {
			e = tuf_meta_sign(m, k);
		}
		tuf_signer_free(k);
	}
	return e;
}

ward_err ward_repo_publish(const char *dir, const char *const *snapshot_keys, size_t nsnap,
			   const char *const *timestamp_keys, size_t nts,
			   const ward_repo_opts *opts, char *why, size_t whylen)
{
	char p[4096], dummy[1];
	tuf_meta root, pub, tg, snap, ts;
	dbuf tgbytes, snapbytes, rootbytes;
	bool have = false;
	size_t valid;
	uint64_t tsv, snapv, tgv;
	if (!why || !whylen)
		why = dummy, whylen = sizeof dummy;
	why[0] = '\0';
	tuf_meta_init(&root);
	tuf_meta_init(&pub);
	tuf_meta_init(&tg);
	tuf_meta_init(&snap);
	tuf_meta_init(&ts);
	dbuf_init(&tgbytes, WARD_MAX_JSON_DOC);
	dbuf_init(&snapbytes, WARD_MAX_JSON_DOC);
	dbuf_init(&rootbytes, WARD_MAX_JSON_DOC);
	ward_err e = WARD_ELIMIT;
	if (!fs_path(p, sizeof p, "%s/staged/root.json", dir))
		goto out;
	e = load_meta(p, TUF_ROOT, &root, why, whylen);
	if (e == WARD_OK)
		e = published_root(dir, &pub, &have, why, whylen);
	if (e == WARD_OK)
		e = published_versions(dir, &tsv, &snapv, &tgv, why, whylen);
	if (e != WARD_OK)
		goto out;

	/* Root: a new version must carry its own threshold and, as a
	 * rotation, the previous root's (what every client will check). */
	e = WARD_EBADSIG;
	bool new_root = !have || root.version > pub.version;
	if (have && root.version < pub.version) {
		WHY("staged root version %llu is older than published %llu",
		    (unsigned long long)root.version, (unsigned long long)pub.version);
		goto out;
	}
	if (have && new_root && root.version != pub.version + 1) {
		WHY("staged root must be version %llu", (unsigned long long)pub.version + 1);
		goto out;
	}
	if (new_root && !tuf_verify(&root.u.root, TUF_ROOT, &root, &valid, why, whylen))
		goto out;
	if (new_root && have && !tuf_verify(&pub.u.root, TUF_ROOT, &root, &valid, why, whylen)) {
		char tmp[256];
		snprintf(tmp, sizeof tmp, "%s", why);
		WHY("rotation not signed by the previous root's keys: %s", tmp);
		goto out;
	}
	/* Targets: signed offline with the (new) root's targets keys. */
	e = WARD_ELIMIT;
	if (!fs_path(p, sizeof p, "%s/staged/targets.json", dir))
		goto out;
	e = load_meta(p, TUF_TARGETS, &tg, why, whylen);
	if (e != WARD_OK)
		goto out;
	e = WARD_EBADSIG;
	if (!tuf_verify(&root.u.root, TUF_TARGETS, &tg, &valid, why, whylen) &&
	    !(opts && opts->unsafe))
		goto out;
	if (tg.version < tgv) {
		WHY("staged targets version %llu is older than published %llu",
		    (unsigned long long)tg.version, (unsigned long long)tgv);
		goto out;
	}
	e = tuf_meta_write(&tg, &tgbytes);
	if (e != WARD_OK)
		goto out;

	/* Snapshot and timestamp: online keys, new versions every publish. */
	e = build_ref(TUF_SNAPSHOT, snapv + 1, expiry(opts, TUF_SNAPSHOT), "targets.json",
		      tg.version, &tgbytes, &snap, why, whylen);
	if (e == WARD_OK)
		e = sign_with(&snap, &root.u.root, TUF_SNAPSHOT, snapshot_keys, nsnap, why, whylen);
	if (e == WARD_OK && !tuf_verify(&root.u.root, TUF_SNAPSHOT, &snap, &valid, why, whylen))
		e = WARD_EBADSIG;
	if (e == WARD_OK)
		e = tuf_meta_write(&snap, &snapbytes);
	if (e == WARD_OK)
		e = build_ref(TUF_TIMESTAMP, tsv + 1, expiry(opts, TUF_TIMESTAMP), "snapshot.json",
			      snap.version, &snapbytes, &ts, why, whylen);
	if (e == WARD_OK)
		e = sign_with(&ts, &root.u.root, TUF_TIMESTAMP, timestamp_keys, nts, why, whylen);
	if (e == WARD_OK && !tuf_verify(&root.u.root, TUF_TIMESTAMP, &ts, &valid, why, whylen))
		e = WARD_EBADSIG;
	if (e != WARD_OK)
		goto out;

	/* Write order: everything a timestamp refers to exists before the
	 * timestamp does. */
	e = WARD_ELIMIT;
	if (new_root) {
		if (!fs_path(p, sizeof p, "%s/public/%llu.root.json", dir,
			     (unsigned long long)root.version))
			goto out;
		e = save_meta(p, &root, &rootbytes, why, whylen);
		if (e == WARD_OK)
			e = fs_path(p, sizeof p, "%s/public/root.json", dir) ? WARD_OK
									     : WARD_ELIMIT;
		if (e == WARD_OK)
			e = save_meta(p, &root, NULL, why, whylen);
		if (e != WARD_OK)
			goto out;
	}
	e = WARD_ELIMIT;
	if (!fs_path(p, sizeof p, "%s/public/%llu.targets.json", dir,
		     (unsigned long long)tg.version))
		goto out;
	e = fs_write_atomic(p, tgbytes.s, tgbytes.len);
	if (e == WARD_OK)
		e = fs_path(p, sizeof p, "%s/public/%llu.snapshot.json", dir,
			    (unsigned long long)snap.version)
			    ? WARD_OK
			    : WARD_ELIMIT;
	if (e == WARD_OK)
		e = fs_write_atomic(p, snapbytes.s, snapbytes.len);
	if (e == WARD_OK)
		e = fs_path(p, sizeof p, "%s/public/timestamp.json", dir) ? WARD_OK : WARD_ELIMIT;
	if (e == WARD_OK)
		e = save_meta(p, &ts, NULL, why, whylen);
	if (e != WARD_OK && !why[0])
		WHY("%s: cannot write (%s)", p, ward_strerror(e));
	if (e == WARD_OK)
		WHY("published root %llu, targets %llu, snapshot %llu, timestamp %llu",
		    (unsigned long long)root.version, (unsigned long long)tg.version,
		    (unsigned long long)snap.version, (unsigned long long)ts.version);
out:
	tuf_meta_free(&root);
	tuf_meta_free(&pub);
	tuf_meta_free(&tg);
	tuf_meta_free(&snap);
	tuf_meta_free(&ts);
	dbuf_free(&tgbytes);
	dbuf_free(&snapbytes);
	dbuf_free(&rootbytes);
	return e;
}
