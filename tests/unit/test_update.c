/* Update metadata (lib/update): the bounded JSON parser and canonical form,
 * RFC 3339 times, Ed25519 threshold verification, the repository commands
 * and the client's refusals that need no network (parsing, signatures).
 * Keys are generated at run time in a temporary directory. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "update/activate.h"
#include "update/fsutil.h"
#include "update/json.h"
#include "update/tuf.h"
#include "ward/pkg.h"
#include "ward/update.h"

static char tmpdir[256];

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/ward-test-update-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	(void)fs_rmtree(tmpdir, 8);
	return 0;
}

/* ---- JSON ---- */

static ward_err parse_str(const char *s)
{
	jdoc d;
	char why[128];
	ward_err e = json_parse(&d, s, strlen(s), why, sizeof why);
	if (e == WARD_OK)
		jdoc_free(&d);
	return e;
}

static void test_json_accepts(void **state)
{
	(void)state;
	static const char *const ok[] = {
		"{}",
		"[]",
		"0",
		"123",
		"\"x\"",
		"true",
		"false",
		"null",
		" {\"a\" : [1, 2, {\"b\":null}]} ",
		"\"\\u00e9\\ud83d\\ude00\\n\\\"\"",
		"\"\xc3\xa9\"",
		"18446744073709551615",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		if (parse_str(ok[i]) != WARD_OK)
			fail_msg("refused: %s", ok[i]);
	}
}

static void test_json_refuses(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"{",
		"{\"a\":1,}",
		"[1,]",
		"{\"a\":1,\"a\":2}",
		"1.5",
		"-1",
		"1e3",
		"01",
		"18446744073709551616",
		"\"\\u0000\"",
		"\"a\nb\"",
		"\"\\ud800\"",
		"\"\\udc00\"",
		"\"\xc0\xaf\"",
		"\"\xed\xa0\x80\"",
		"\"\xf4\x90\x80\x80\"",
		"{} x",
		"tru",
		"{\"a\" 1}",
		"\"\\x\"",
		"[1 2]",
		"{1:2}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse_str(bad[i]) == WARD_OK)
			fail_msg("accepted: %s", bad[i]);
	}
}

static void test_json_depth(void **state)
{
	(void)state;
	char buf[256];
	size_t n = 0;
	for (unsigned i = 0; i <= WARD_MAX_JSON_DEPTH + 1; i++)
		buf[n++] = '[';
	for (unsigned i = 0; i <= WARD_MAX_JSON_DEPTH + 1; i++)
		buf[n++] = ']';
	buf[n] = 0;
	assert_int_equal(parse_str(buf), WARD_ELIMIT);
	/* exactly at the limit parses */
	n = 0;
	for (unsigned i = 0; i < WARD_MAX_JSON_DEPTH; i++)
		buf[n++] = '[';
	for (unsigned i = 0; i < WARD_MAX_JSON_DEPTH; i++)
		buf[n++] = ']';
	buf[n] = 0;
	assert_int_equal(parse_str(buf), WARD_OK);
}

static void test_json_node_cap(void **state)
{
	(void)state;
	/* [0,0,0,...] with more values than WARD_MAX_JSON_NODES */
	size_t n = (size_t)WARD_MAX_JSON_NODES + 8, len = 2 * n + 1;
	char *s = malloc(len + 1);
	assert_non_null(s);
	s[0] = '[';
	for (size_t i = 0; i < n; i++) {
		s[1 + 2 * i] = '0';
		s[2 + 2 * i] = ',';
	}
	s[len - 1] = ']';
	s[len] = 0;
	assert_int_equal(parse_str(s), WARD_ELIMIT);
	free(s);
}

static void test_json_canonical(void **state)
{
	(void)state;
	jdoc d;
	dbuf out;
	const char *in =
		"{ \"b\": [1, \"x\\\"y\\\\z\\n\"], \"a\": {\"d\": true, \"c\": null}, \"aa\": 0 }";
	assert_int_equal(json_parse(&d, in, strlen(in), NULL, 0), WARD_OK);
	dbuf_init(&out, 1 << 20);
	assert_int_equal(json_canonical(&d, d.root, &out), WARD_OK);
	assert_string_equal(
		out.s, "{\"a\":{\"c\":null,\"d\":true},\"aa\":0,\"b\":[1,\"x\\\"y\\\\z\\u000a\"]}");
	/* The canonical form parses back to the same canonical form. */
	jdoc d2;
	dbuf out2;
	dbuf_init(&out2, 1 << 20);
	assert_int_equal(json_parse(&d2, out.s, out.len, NULL, 0), WARD_OK);
	assert_int_equal(json_canonical(&d2, d2.root, &out2), WARD_OK);
	assert_string_equal(out.s, out2.s);
	jdoc_free(&d);
	jdoc_free(&d2);
	dbuf_free(&out);
	dbuf_free(&out2);
}

static void test_json_alloc_failures(void **state)
{
	(void)state;
	const char *in =
		"{\"signed\":{\"_type\":\"x\",\"k\":[1,2,3,{\"z\":\"\\u00e9\"}]},\"signatures\":[]}";
	for (long n = 0; n < 200; n++) {
		jdoc d;
		ward_alloc_fail_after(n);
		ward_err e = json_parse(&d, in, strlen(in), NULL, 0);
		ward_alloc_fail_after(-1);
		if (e == WARD_OK) {
			jdoc_free(&d);
			return;
		}
		assert_true(e == WARD_ENOMEM || e == WARD_ELIMIT);
	}
	fail_msg("never succeeded");
}

/* ---- time ---- */

static void test_time(void **state)
{
	(void)state;
	int64_t t;
	char buf[32];
	assert_true(tuf_time_parse("1970-01-01T00:00:00Z", 20, &t));
	assert_int_equal(t, 0);
	assert_true(tuf_time_parse("2024-02-29T12:34:56Z", 20, &t));
	assert_int_equal(t, 1709210096);
	tuf_time_format(t, buf);
	assert_string_equal(buf, "2024-02-29T12:34:56Z");
	static const char *const bad[] = {"2023-02-29T00:00:00Z",      "2024-13-01T00:00:00Z",
					  "2024-01-01T24:00:00Z",      "2024-01-01 00:00:00Z",
					  "2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00.5Z",
					  "1969-12-31T23:59:59Z",      "2024-1-01T00:00:00Z"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(tuf_time_parse(bad[i], strlen(bad[i]), &t));
	for (int64_t x = 0; x < 4102444800; x += 86400 * 37 + 3671) {
		tuf_time_format(x, buf);
		assert_true(tuf_time_parse(buf, strlen(buf), &t));
		assert_int_equal(t, x);
	}
}

/* ---- keys, signatures, repository ---- */

static void keypath(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
}

static void make_key(const char *name)
{
	char p[512], id[65], why[256];
	keypath(p, sizeof p, name);
	if (fs_exists(p))
		return;
	assert_int_equal(ward_update_keygen(p, NULL, id, why, sizeof why), WARD_OK);
	assert_int_equal(strlen(id), 64);
}

static void test_keygen_no_overwrite(void **state)
{
	(void)state;
	char p[512], id[65], why[256];
	make_key("k_once.pem");
	keypath(p, sizeof p, "k_once.pem");
	assert_int_not_equal(ward_update_keygen(p, NULL, id, why, sizeof why), WARD_OK);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
}

/* Build a root document for the given signers (all roles use the same keys)
 * and sign it with `nsign` of them (possibly repeating signer 0). */
static void root_with(const char *const *names, size_t n, uint64_t thr, tuf_meta *m)
{
	char paths[8][512];
	const char *pp[8];
	for (size_t i = 0; i < n; i++) {
		make_key(names[i]);
		keypath(paths[i], sizeof paths[i], names[i]);
		pp[i] = paths[i];
	}
	ward_repo_role_keys keys[4];
	for (int r = 0; r < 4; r++)
		keys[r] = (ward_repo_role_keys){pp, n, thr};
	char dir[512], why[256], p[600];
	static int seq;
	snprintf(dir, sizeof dir, "%s/root%d", tmpdir, seq++);
	ward_repo_opts o = {0};
	assert_int_equal(ward_repo_init(dir, keys, &o, why, sizeof why), WARD_OK);
	snprintf(p, sizeof p, "%s/staged/root.json", dir);
	uint8_t *buf;
	size_t len;
	assert_int_equal(fs_read_file(p, 1 << 20, &buf, &len), WARD_OK);
	tuf_meta_init(m);
	assert_int_equal(tuf_meta_parse(m, TUF_ROOT, buf, len, why, sizeof why), WARD_OK);
	free(buf);
}

static void sign_as(tuf_meta *m, const char *name)
{
	char p[512], why[256];
	tuf_signer *s;
	keypath(p, sizeof p, name);
	assert_int_equal(tuf_signer_load(p, &s, why, sizeof why), WARD_OK);
	assert_int_equal(tuf_meta_sign(m, s), WARD_OK);
	tuf_signer_free(s);
}

static void test_threshold(void **state)
{
	(void)state;
	static const char *const names[] = {"ka.pem", "kb.pem", "kc.pem"};
	tuf_meta m;
	size_t valid;
	char why[256];
	root_with(names, 3, 2, &m);
	assert_false(tuf_verify(&m.u.root, TUF_ROOT, &m, &valid, why, sizeof why));
	assert_int_equal(valid, 0);
	sign_as(&m, "ka.pem");
	assert_false(tuf_verify(&m.u.root, TUF_ROOT, &m, &valid, why, sizeof why));
	assert_non_null(strstr(why, "threshold is 2"));
	/* Signing twice with one key replaces its signature: still one. */
	sign_as(&m, "ka.pem");
	assert_false(tuf_verify(&m.u.root, TUF_ROOT, &m, &valid, why, sizeof why));
	assert_int_equal(valid, 1);
	/* A key outside the role counts for nothing. */
	make_key("kx.pem");
	sign_as(&m, "kx.pem");
	assert_false(tuf_verify(&m.u.root, TUF_ROOT, &m, &valid, why, sizeof why));
	sign_as(&m, "kc.pem");
	assert_true(tuf_verify(&m.u.root, TUF_ROOT, &m, &valid, why, sizeof why));
	assert_int_equal(valid, 2);

	/* Round trip through bytes, then duplicate a signature entry by hand:
	 * the same key listed twice must still count once. */
	dbuf out;
	dbuf_init(&out, 1 << 20);
	assert_int_equal(tuf_meta_write(&m, &out), WARD_OK);
	char *sigs = strstr(out.s, "\"signatures\":[");
	assert_non_null(sigs);
	sigs += strlen("\"signatures\":[");
	char *end = strchr(sigs, '}');
	size_t one = (size_t)(end - sigs) + 1;
	dbuf dup;
	dbuf_init(&dup, 1 << 20);
	assert_int_equal(dbuf_add(&dup, out.s, (size_t)(sigs - out.s)), WARD_OK);
	assert_int_equal(dbuf_add(&dup, sigs, one), WARD_OK);
	assert_int_equal(dbuf_add(&dup, ",", 1), WARD_OK);
	assert_int_equal(dbuf_add(&dup, sigs, one), WARD_OK);
	assert_int_equal(dbuf_add(&dup, ",", 1), WARD_OK);
	assert_int_equal(dbuf_add(&dup, sigs, one), WARD_OK);
	/* drop every other signature */
	const char *rest = strstr(sigs, "]");
	assert_int_equal(dbuf_add(&dup, rest, strlen(rest)), WARD_OK);
	tuf_meta m2;
	tuf_meta_init(&m2);
	assert_int_equal(tuf_meta_parse(&m2, TUF_ROOT, dup.s, dup.len, why, sizeof why), WARD_OK);
	assert_false(tuf_verify(&m2.u.root, TUF_ROOT, &m2, &valid, why, sizeof why));
	assert_int_equal(valid, 1);

	/* Any change to the signed part breaks every signature. */
	char *v = strstr(out.s, "\"version\":1");
	assert_non_null(v);
	v[strlen("\"version\":")] = '2';
	assert_int_equal(tuf_meta_parse(&m2, TUF_ROOT, out.s, out.len, why, sizeof why), WARD_OK);
	assert_false(tuf_verify(&m.u.root, TUF_ROOT, &m2, &valid, why, sizeof why));
	assert_int_equal(valid, 0);
	tuf_meta_free(&m2);
	dbuf_free(&dup);
	dbuf_free(&out);
	tuf_meta_free(&m);
}

static void test_root_keyid_must_match(void **state)
{
	(void)state;
	static const char *const names[] = {"ka.pem"};
	tuf_meta m;
	char why[256];
	root_with(names, 1, 1, &m);
	dbuf out;
	dbuf_init(&out, 1 << 20);
	assert_int_equal(tuf_meta_write(&m, &out), WARD_OK);
	/* flip one hex digit of the public key value */
	char *pub = strstr(out.s, "\"public\":\"");
	assert_non_null(pub);
	pub += strlen("\"public\":\"");
	*pub = *pub == 'a' ? 'b' : 'a';
	assert_int_equal(tuf_meta_parse(&m, TUF_ROOT, out.s, out.len, why, sizeof why),
			 WARD_ECORRUPT);
	assert_non_null(strstr(why, "not the SHA-256"));
	dbuf_free(&out);
	tuf_meta_free(&m);
}

static void test_meta_shape(void **state)
{
	(void)state;
	char why[256];
	tuf_meta m;
	tuf_meta_init(&m);
	static const char *const bad[] = {
		"{}",
		"{\"signed\":{},\"signatures\":[]}",
		"{\"signed\":{\"_type\":\"targets\",\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\"},\"signatures\":[]}",
		"{\"signed\":{\"_type\":\"timestamp\",\"version\":0,\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":{\"snapshot.json\":{\"version\":1}}},\"signatures\":[]}",
		"{\"signed\":{\"_type\":\"timestamp\",\"version\":1,\"expires\":\"2030-01-01\",\"meta\":{\"snapshot.json\":{\"version\":1}}},\"signatures\":[]}",
		"{\"signed\":{\"_type\":\"timestamp\",\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":{}},\"signatures\":[]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_not_equal(
			tuf_meta_parse(&m, TUF_TIMESTAMP, bad[i], strlen(bad[i]), why, sizeof why),
			WARD_OK);
	const char *good =
		"{\"signed\":{\"_type\":\"timestamp\",\"version\":3,\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":{\"snapshot.json\":{\"version\":2,\"length\":10}}},\"signatures\":[]}";
	assert_int_equal(tuf_meta_parse(&m, TUF_TIMESTAMP, good, strlen(good), why, sizeof why),
			 WARD_OK);
	assert_int_equal(m.version, 3);
	assert_int_equal(m.u.snapshot.version, 2);
	assert_int_equal(m.u.snapshot.length, 10);
	assert_false(m.u.snapshot.has_hash);
	/* the wrong _type for the role */
	assert_int_not_equal(tuf_meta_parse(&m, TUF_SNAPSHOT, good, strlen(good), why, sizeof why),
			     WARD_OK);
	/* targets: bad names, duplicate versions */
#define TG \
	"{\"signed\":{\"_type\":\"targets\",\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{" \
	"\"%s\":{\"length\":1,\"hashes\":{\"sha256\":\"%064d\"},\"custom\":{\"ward\":{\"version\":%d,\"channel\":\"stable\",\"released\":\"2024-01-01T00:00:00Z\"}}}," \
	"\"b\":{\"length\":1,\"hashes\":{\"sha256\":\"%064d\"},\"custom\":{\"ward\":{\"version\":2,\"channel\":\"stable\",\"released\":\"2024-01-01T00:00:00Z\"}}}" \
	"}},\"signatures\":[]}"
	char buf[2048];
	snprintf(buf, sizeof buf, TG, "a", 0, 1, 0);
	assert_int_equal(tuf_meta_parse(&m, TUF_TARGETS, buf, strlen(buf), why, sizeof why),
			 WARD_OK);
	assert_int_equal(m.ntargets, 2);
	snprintf(buf, sizeof buf, TG, "a", 0, 2, 0);
	assert_int_not_equal(tuf_meta_parse(&m, TUF_TARGETS, buf, strlen(buf), why, sizeof why),
			     WARD_OK);
	static const char *const names[] = {"../x", ".hidden", "a/b", ""};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(buf, sizeof buf, TG, names[i], 0, 1, 0);
		assert_int_not_equal(
			tuf_meta_parse(&m, TUF_TARGETS, buf, strlen(buf), why, sizeof why),
			WARD_OK);
	}
	tuf_meta_free(&m);
}

static void test_meta_parse_alloc_failures(void **state)
{
	(void)state;
	static const char *const names[] = {"ka.pem", "kb.pem"};
	tuf_meta m;
	char why[256];
	root_with(names, 2, 1, &m);
	sign_as(&m, "ka.pem");
	dbuf out;
	dbuf_init(&out, 1 << 20);
	assert_int_equal(tuf_meta_write(&m, &out), WARD_OK);
	for (long n = 0; n < 1000; n++) {
		tuf_meta x;
		size_t valid;
		tuf_meta_init(&x);
		ward_alloc_fail_after(n);
		ward_err e = tuf_meta_parse(&x, TUF_ROOT, out.s, out.len, why, sizeof why);
		bool ok = e == WARD_OK &&
			  tuf_verify(&x.u.root, TUF_ROOT, &x, &valid, why, sizeof why);
		ward_alloc_fail_after(-1);
		tuf_meta_free(&x);
		if (ok) {
			dbuf_free(&out);
			tuf_meta_free(&m);
			return;
		}
		assert_true(e == WARD_OK || e == WARD_ENOMEM || e == WARD_ECORRUPT);
	}
	fail_msg("never succeeded");
}

/* init, add, sign, publish: the public directory holds a chain the client
 * accepts (versions, hashes, signatures). */
static void test_repo_publish(void **state)
{
	(void)state;
	char dir[512], p[700], why[512], f[600];
	const char *rk[1], *tk[1], *sk[1], *tsk[1];
	char rkp[512], tkp[512], skp[512], tskp[512];
	make_key("r1.pem");
	make_key("t1.pem");
	make_key("s1.pem");
	make_key("ts1.pem");
	keypath(rkp, sizeof rkp, "r1.pem");
	keypath(tkp, sizeof tkp, "t1.pem");
	keypath(skp, sizeof skp, "s1.pem");
	keypath(tskp, sizeof tskp, "ts1.pem");
	rk[0] = rkp, tk[0] = tkp, sk[0] = skp, tsk[0] = tskp;
	ward_repo_role_keys keys[4] = {{rk, 1, 1}, {tk, 1, 1}, {sk, 1, 1}, {tsk, 1, 1}};
	ward_repo_opts o = {0};
	snprintf(dir, sizeof dir, "%s/repo", tmpdir);
	assert_int_equal(ward_repo_init(dir, keys, &o, why, sizeof why), WARD_OK);
	assert_int_not_equal(ward_repo_init(dir, keys, &o, why, sizeof why), WARD_OK);
	/* publishing an unsigned root is refused */
	assert_int_equal(ward_repo_publish(dir, sk, 1, tsk, 1, &o, why, sizeof why), WARD_EBADSIG);
	assert_int_equal(ward_repo_sign(dir, "root", rkp, NULL, why, sizeof why), WARD_OK);
	/* a targets key cannot sign root */
	assert_int_not_equal(ward_repo_sign(dir, "root", tkp, NULL, why, sizeof why), WARD_OK);
	snprintf(f, sizeof f, "%s/pkg.ndb", tmpdir);
	FILE *fp = fopen(f, "w");
	assert_non_null(fp);
	fputs("Test.Sig:0:*:414243444546\n", fp);
	fclose(fp);
	ward_repo_target t = {f, "main.ndb", 5, "stable", 0};
	assert_int_equal(ward_repo_add(dir, &t, &o, why, sizeof why), WARD_OK);
	/* unsigned targets are refused */
	assert_int_equal(ward_repo_publish(dir, sk, 1, tsk, 1, &o, why, sizeof why), WARD_EBADSIG);
	assert_int_equal(ward_repo_sign(dir, "targets", tkp, NULL, why, sizeof why), WARD_OK);
	/* wrong online key */
	assert_int_not_equal(ward_repo_publish(dir, tsk, 1, sk, 1, &o, why, sizeof why), WARD_OK);
	assert_int_equal(ward_repo_publish(dir, sk, 1, tsk, 1, &o, why, sizeof why), WARD_OK);
	static const char *const files[] = {"1.root.json", "root.json", "1.targets.json",
					    "1.snapshot.json", "timestamp.json"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(p, sizeof p, "%s/public/%s", dir, files[i]);
		if (!fs_exists(p))
			fail_msg("missing %s", p);
	}
	/* a second publish makes new snapshot and timestamp versions */
	assert_int_equal(ward_repo_publish(dir, sk, 1, tsk, 1, &o, why, sizeof why), WARD_OK);
	snprintf(p, sizeof p, "%s/public/2.snapshot.json", dir);
	assert_true(fs_exists(p));
	uint8_t *buf;
	size_t len;
	tuf_meta ts;
	tuf_meta_init(&ts);
	snprintf(p, sizeof p, "%s/public/timestamp.json", dir);
	assert_int_equal(fs_read_file(p, 1 << 20, &buf, &len), WARD_OK);
	assert_int_equal(tuf_meta_parse(&ts, TUF_TIMESTAMP, buf, len, why, sizeof why), WARD_OK);
	assert_int_equal(ts.version, 2);
	assert_int_equal(ts.u.snapshot.version, 2);
	free(buf);
	tuf_meta_free(&ts);
}

/* ---- delta targets (appended with the delta client) ---- */

#define ZEROS64 "0000000000000000000000000000000000000000000000000000000000000000"

/* targets.json with a full target "f" (version 2) and one more entry. */
#define TGD \
	"{\"signed\":{\"_type\":\"targets\",\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{" \
	"\"f\":{\"length\":1,\"hashes\":{\"sha256\":\"%064d\"},\"custom\":{\"ward\":{\"version\":2,\"channel\":\"stable\",\"released\":\"2024-01-01T00:00:00Z\"}}}," \
	"\"%s\":{\"length\":1,\"hashes\":{\"sha256\":\"%064d\"},\"custom\":{\"ward\":{\"version\":%d,\"delta\":%s}}}" \
	"}},\"signatures\":[]}"

static void test_meta_delta_targets(void **state)
{
	(void)state;
	char why[256], buf[2048];
	tuf_meta m;
	tuf_meta_init(&m);
	snprintf(buf, sizeof buf, TGD, 0, "d", 0, 2, "{\"base\":1,\"full\":\"f\"}");
	assert_int_equal(tuf_meta_parse(&m, TUF_TARGETS, buf, strlen(buf), why, sizeof why),
			 WARD_OK);
	assert_int_equal(m.ntargets, 2);
	/* the full target sorts before its deltas */
	assert_int_equal(m.targets[0].delta_base, 0);
	assert_string_equal(m.targets[1].name, "d");
	assert_int_equal(m.targets[1].delta_base, 1);
	assert_int_equal(m.targets[1].pkg_version, 2);
	assert_string_equal(m.targets[1].delta_full, "f");
	static const struct {
		int version;
		const char *delta;
	} bad[] = {
		{2, "{\"base\":2,\"full\":\"f\"}"},    /* base not below version */
		{2, "{\"base\":0,\"full\":\"f\"}"},    /* no base */
		{2, "{\"base\":1,\"full\":\"g\"}"},    /* full target not listed */
		{3, "{\"base\":1,\"full\":\"f\"}"},    /* full target of another version */
		{2, "{\"base\":1,\"full\":\"../f\"}"}, /* not a target name */
		{2, "{\"base\":1}"},
		{2, "[1]"},
		{2, "{\"base\":1,\"full\":7}"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(buf, sizeof buf, TGD, 0, "d", 0, bad[i].version, bad[i].delta);
		if (tuf_meta_parse(&m, TUF_TARGETS, buf, strlen(buf), why, sizeof why) == WARD_OK)
			fail_msg("accepted %s", bad[i].delta);
	}
	/* two deltas from the same base to the same version */
	const char *two =
		"{\"signed\":{\"_type\":\"targets\",\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{"
		"\"f\":{\"length\":1,\"hashes\":{\"sha256\":\"" ZEROS64
		"\"},\"custom\":{\"ward\":{\"version\":2,\"channel\":\"stable\",\"released\":\"2024-01-01T00:00:00Z\"}}},"
		"\"d1\":{\"length\":1,\"hashes\":{\"sha256\":\"" ZEROS64
		"\"},\"custom\":{\"ward\":{\"version\":2,\"delta\":{\"base\":1,\"full\":\"f\"}}}},"
		"\"d2\":{\"length\":1,\"hashes\":{\"sha256\":\"" ZEROS64
		"\"},\"custom\":{\"ward\":{\"version\":2,\"delta\":{\"base\":1,\"full\":\"f\"}}}}"
		"}},\"signatures\":[]}";
	assert_int_not_equal(tuf_meta_parse(&m, TUF_TARGETS, two, strlen(two), why, sizeof why),
			     WARD_OK);
	tuf_meta_free(&m);
}

static void write_buf(const char *path, const uint8_t *p, size_t n)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, n, fp), n);
	fclose(fp);
}

/* A signed full package of version v whose one member says `line`. */
static void make_pkg(const ward_pkg_seckey *k, uint64_t v, const char *line, const char *path)
{
	static const char *const plat[] = {"*/*"};
	ward_pkg_member_in mem = {"daily.ndb", (const uint8_t *)line, strlen(line)};
	ward_pkg_build_in in = {.version = v,
				.created = 1704067200,
				.engine_min = 1,
				.engine_max = WARD_PKG_ENGINE_ANY,
				.platforms = plat,
				.nplatforms = 1,
				.members = &mem,
				.nmembers = 1};
	uint8_t *out = NULL;
	size_t len = 0;
	char why[256];
	assert_int_equal(ward_pkg_build(&in, k, &out, &len, why, sizeof why), WARD_OK);
	write_buf(path, out, len);
	ward_pkg_buf_free(out);
}

static void make_delta(const ward_pkg_seckey *k, const char *base, const char *target,
		       const char *path)
{
	uint8_t *a, *b, *out = NULL;
	size_t alen, blen, len = 0;
	char why[256];
	assert_int_equal(fs_read_file(base, 1 << 20, &a, &alen), WARD_OK);
	assert_int_equal(fs_read_file(target, 1 << 20, &b, &blen), WARD_OK);
	assert_int_equal(ward_pkg_delta(a, alen, b, blen, k, &out, &len, why, sizeof why), WARD_OK);
	write_buf(path, out, len);
	ward_pkg_buf_free(out);
	w_free(a);
	w_free(b);
}

static void staged_targets(const char *dir, tuf_meta *m)
{
	char p[700], why[256];
	uint8_t *buf;
	size_t len;
	snprintf(p, sizeof p, "%s/staged/targets.json", dir);
	assert_int_equal(fs_read_file(p, 1 << 20, &buf, &len), WARD_OK);
	assert_int_equal(tuf_meta_parse(m, TUF_TARGETS, buf, len, why, sizeof why), WARD_OK);
	w_free(buf);
}

static const tuf_target *find_target(const tuf_meta *m, const char *name)
{
	for (size_t i = 0; i < m->ntargets; i++)
		if (!strcmp(m->targets[i].name, name))
			return &m->targets[i];
	return NULL;
}

static unsigned count_entries(const char *dir, const char *prefix)
{
	unsigned n = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d));)
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

/* Cleaning the pattern directory examines at most WARD_MAX_SWEEP_ENTRIES
 * entries per run: a flood of temporaries is removed over several runs, and
 * the linked versions and their packages always stay. */
static void test_cleanup_sweep_limit(void **state)
{
	(void)state;
	char dir[512], p[1024];
	snprintf(dir, sizeof dir, "%s/sweep", tmpdir);
	assert_int_equal(fs_mkdir(dir), WARD_OK);
	unsigned flood = WARD_MAX_SWEEP_ENTRIES + 500;
	for (unsigned i = 0; i < flood; i++) {
		snprintf(p, sizeof p, "%s/.download.%u", dir, i);
		write_buf(p, (const uint8_t *)"x", 1);
	}
	const char *keep[] = {"versions", "versions/7-aa", "packages"};
	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, keep[i]);
		assert_int_equal(fs_mkdir(p), WARD_OK);
	}
	snprintf(p, sizeof p, "%s/packages/7-aa.wpkg", dir);
	write_buf(p, (const uint8_t *)"x", 1);
	snprintf(p, sizeof p, "%s/packages/6-bb.wpkg", dir);
	write_buf(p, (const uint8_t *)"x", 1);
	snprintf(p, sizeof p, "%s/versions/6-bb", dir);
	assert_int_equal(fs_mkdir(p), WARD_OK);
	snprintf(p, sizeof p, "%s/current", dir);
	assert_int_equal(symlink("versions/7-aa", p), 0);

	act_cleanup(dir);
	unsigned left = count_entries(dir, ".download.");
	assert_true(left > 0 && left < flood);
	for (int run = 0; run < 4 && left > 0; run++) {
		act_cleanup(dir);
		left = count_entries(dir, ".download.");
	}
	assert_int_equal(left, 0);
	snprintf(p, sizeof p, "%s/packages", dir);
	assert_int_equal(count_entries(p, "7-aa.wpkg"), 1);
	assert_int_equal(count_entries(p, "6-bb.wpkg"), 0);
	snprintf(p, sizeof p, "%s/versions", dir);
	assert_int_equal(count_entries(p, "7-aa"), 1);
	assert_int_equal(count_entries(p, "6-bb"), 0);
}

/* ward_repo_add_delta: the delta is listed with its base and full target,
 * only when it rebuilds that target; promotions keep it, re-releases with
 * other bytes drop it. */
static void test_repo_add_delta(void **state)
{
	(void)state;
	char dir[512], why[512], pub[600], sec[600], opub[600], osec[600];
	char p1[600], p2[600], p2x[600], d12[600], d12x[600], d12o[600];
	const char *rk[1], *tk[1], *sk[1], *tsk[1];
	char rkp[512], tkp[512], skp[512], tskp[512];
	make_key("dr.pem");
	make_key("dt.pem");
	make_key("ds.pem");
	make_key("dts.pem");
	keypath(rkp, sizeof rkp, "dr.pem");
	keypath(tkp, sizeof tkp, "dt.pem");
	keypath(skp, sizeof skp, "ds.pem");
	keypath(tskp, sizeof tskp, "dts.pem");
	rk[0] = rkp, tk[0] = tkp, sk[0] = skp, tsk[0] = tskp;
	ward_repo_role_keys keys[4] = {{rk, 1, 1}, {tk, 1, 1}, {sk, 1, 1}, {tsk, 1, 1}};
	ward_repo_opts o = {0};
	snprintf(dir, sizeof dir, "%s/drepo", tmpdir);
	assert_int_equal(ward_repo_init(dir, keys, &o, why, sizeof why), WARD_OK);
	assert_int_equal(ward_repo_sign(dir, "root", rkp, NULL, why, sizeof why), WARD_OK);
	/* publish once so the targets version bookkeeping has a history */
	assert_int_equal(ward_repo_sign(dir, "targets", tkp, NULL, why, sizeof why), WARD_OK);
	assert_int_equal(ward_repo_publish(dir, sk, 1, tsk, 1, &o, why, sizeof why), WARD_OK);

	keypath(pub, sizeof pub, "pkgd.pub");
	keypath(sec, sizeof sec, "pkgd.sec");
	keypath(opub, sizeof opub, "pkgo.pub");
	keypath(osec, sizeof osec, "pkgo.sec");
	assert_int_equal(ward_pkg_keygen(pub, sec, why, sizeof why), WARD_OK);
	assert_int_equal(ward_pkg_keygen(opub, osec, why, sizeof why), WARD_OK);
	ward_pkg_seckey *k = NULL, *ok = NULL;
	assert_int_equal(ward_pkg_seckey_read(sec, &k, why, sizeof why), WARD_OK);
	assert_int_equal(ward_pkg_seckey_read(osec, &ok, why, sizeof why), WARD_OK);
	keypath(p1, sizeof p1, "dp1.wpkg");
	keypath(p2, sizeof p2, "dp2.wpkg");
	keypath(p2x, sizeof p2x, "dp2x.wpkg");
	keypath(d12, sizeof d12, "dd12.wpkg");
	keypath(d12x, sizeof d12x, "dd12x.wpkg");
	keypath(d12o, sizeof d12o, "dd12o.wpkg");
	make_pkg(k, 1, "A.1:0:*:41414141\nA.2:0:*:42424242\n", p1);
	make_pkg(k, 2, "A.1:0:*:41414141\nA.3:0:*:43434343\n", p2);
	make_pkg(k, 2, "A.1:0:*:41414141\nA.4:0:*:44444444\n", p2x);
	make_delta(k, p1, p2, d12);
	make_delta(k, p1, p2x, d12x);
	make_delta(ok, p1, p2, d12o);

	ward_repo_target t1 = {p1, "pattern-1.wpkg", 1, "stable", 0};
	ward_repo_target t2 = {p2, "pattern-2.wpkg", 2, "preview", 0};
	ward_repo_delta d = {d12, "pattern-2.wpkg", NULL, pub};
	/* the full target must be staged first */
	assert_int_equal(ward_repo_add_delta(dir, &d, &o, why, sizeof why), WARD_EINVAL);
	assert_int_equal(ward_repo_add(dir, &t1, &o, why, sizeof why), WARD_OK);
	assert_int_equal(ward_repo_add(dir, &t2, &o, why, sizeof why), WARD_OK);
	/* a full package is not a delta */
	ward_repo_delta notdelta = {p2, "pattern-2.wpkg", NULL, NULL};
	assert_int_not_equal(ward_repo_add_delta(dir, &notdelta, &o, why, sizeof why), WARD_OK);
	/* a delta that rebuilds another package of the same version */
	ward_repo_delta other = {d12x, "pattern-2.wpkg", NULL, NULL};
	assert_int_equal(ward_repo_add_delta(dir, &other, &o, why, sizeof why), WARD_EINVAL);
	/* a delta for another full target's version */
	ward_repo_delta wrongfull = {d12, "pattern-1.wpkg", NULL, NULL};
	assert_int_equal(ward_repo_add_delta(dir, &wrongfull, &o, why, sizeof why), WARD_EINVAL);
	/* signed by another key, checked when the pattern key is given */
	ward_repo_delta okey = {d12o, "pattern-2.wpkg", NULL, pub};
	assert_int_equal(ward_repo_add_delta(dir, &okey, &o, why, sizeof why), WARD_EBADSIG);
	/* a delta name that is a full target's */
	ward_repo_delta clash = {d12, "pattern-2.wpkg", "pattern-1.wpkg", NULL};
	assert_int_equal(ward_repo_add_delta(dir, &clash, &o, why, sizeof why), WARD_EINVAL);

	assert_int_equal(ward_repo_add_delta(dir, &d, &o, why, sizeof why), WARD_OK);
	tuf_meta m;
	tuf_meta_init(&m);
	staged_targets(dir, &m);
	const tuf_target *dt = find_target(&m, "delta-1-2.wpkg");
	assert_non_null(dt);
	assert_int_equal(dt->delta_base, 1);
	assert_int_equal(dt->pkg_version, 2);
	assert_string_equal(dt->delta_full, "pattern-2.wpkg");
	uint8_t *db;
	size_t dlen;
	uint8_t sha[32];
	assert_int_equal(fs_read_file(d12, 1 << 20, &db, &dlen), WARD_OK);
	tuf_sha256(db, dlen, sha);
	assert_int_equal(dt->length, dlen);
	assert_memory_equal(dt->sha256, sha, 32);
	w_free(db);
	/* the delta file is served by its hash, like any target */
	char hex[65], served[800];
	tuf_hex(sha, 32, hex);
	snprintf(served, sizeof served, "%s/public/targets/%s.delta-1-2.wpkg", dir, hex);
	assert_true(fs_exists(served));
	/* the same base and version again replaces it (one entry) */
	assert_int_equal(ward_repo_add_delta(dir, &d, &o, why, sizeof why), WARD_OK);
	staged_targets(dir, &m);
	assert_int_equal(m.ntargets, 3);
	/* a promotion (same bytes) keeps the delta */
	t2.channel = "stable";
	assert_int_equal(ward_repo_add(dir, &t2, &o, why, sizeof why), WARD_OK);
	staged_targets(dir, &m);
	assert_non_null(find_target(&m, "delta-1-2.wpkg"));
	/* sign and publish: the chain the client reads carries it */
	assert_int_equal(ward_repo_sign(dir, "targets", tkp, NULL, why, sizeof why), WARD_OK);
	assert_int_equal(ward_repo_publish(dir, sk, 1, tsk, 1, &o, why, sizeof why), WARD_OK);
	/* a re-release with other bytes drops it: it rebuilds the old bytes */
	ward_repo_target t2x = {p2x, "pattern-2.wpkg", 2, "stable", 0};
	assert_int_equal(ward_repo_add(dir, &t2x, &o, why, sizeof why), WARD_OK);
	staged_targets(dir, &m);
	assert_null(find_target(&m, "delta-1-2.wpkg"));
	assert_int_equal(m.ntargets, 2);
	/* now the delta to the new bytes is the one that matches; the old one
	 * is accepted only with --unsafe (client tests), and replaces it */
	ward_repo_opts unsafe = {0};
	unsafe.unsafe = true;
	assert_int_equal(ward_repo_add_delta(dir, &other, &o, why, sizeof why), WARD_OK);
	assert_int_equal(ward_repo_add_delta(dir, &d, &o, why, sizeof why), WARD_EINVAL);
	assert_int_equal(ward_repo_add_delta(dir, &d, &unsafe, why, sizeof why), WARD_OK);
	staged_targets(dir, &m);
	assert_int_equal(m.ntargets, 3);
	/* every allocation failure is reported as such, and nothing else */
	for (long n = 0;; n++) {
		if (n > 100000)
			fail_msg("never succeeded");
		ward_alloc_fail_after(n);
		ward_err e = ward_repo_add_delta(dir, &other, &o, why, sizeof why);
		ward_alloc_fail_after(-1);
		if (e == WARD_OK)
			break;
		if (e != WARD_ENOMEM)
			fail_msg("allocation %ld: %s (%s)", n, ward_strerror(e), why);
	}
	staged_targets(dir, &m);
	assert_int_equal(m.ntargets, 3);
	tuf_meta_free(&m);
	ward_pkg_seckey_free(k);
	ward_pkg_seckey_free(ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_accepts),
		cmocka_unit_test(test_json_refuses),
		cmocka_unit_test(test_json_depth),
		cmocka_unit_test(test_json_node_cap),
		cmocka_unit_test(test_json_canonical),
		cmocka_unit_test(test_json_alloc_failures),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_keygen_no_overwrite),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_root_keyid_must_match),
		cmocka_unit_test(test_meta_shape),
		cmocka_unit_test(test_meta_parse_alloc_failures),
		cmocka_unit_test(test_repo_publish),
		cmocka_unit_test(test_meta_delta_targets),
		cmocka_unit_test(test_repo_add_delta),
		cmocka_unit_test(test_cleanup_sweep_limit),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
