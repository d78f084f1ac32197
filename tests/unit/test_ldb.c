/*
 * .ldb parsing: every example of LogicalSignatures.md (outcomes checked with
 * clamscan 1.4.6), TDB keys, subsignature kinds, rejections naming file and
 * line, and the real main.ldb (38,889 signatures, 0 bad lines).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "db/sigs.h"
#include "formats/formats.h"

struct diags {
	unsigned n;
	char last[1024];
};

static void on_diag(void *ctx, ward_err code, const char *file, unsigned long line, const char *msg)
{
	struct diags *d = ctx;
	(void)code;
	d->n++;
	if (file && line)
		snprintf(d->last, sizeof d->last, "%s:%lu: %s", file, line, msg);
	else if (file)
		snprintf(d->last, sizeof d->last, "%s: %s", file, msg);
	else
		snprintf(d->last, sizeof d->last, "%s", msg);
}

static void init(struct sigset *set, struct diags *d)
{
	ward_load_opts o = {on_diag, d, 0, NULL};
	memset(d, 0, sizeof *d);
	sigset_init(set, &o);
}

static ward_err load(struct sigset *set, const char *text)
{
	return db_load_buffer(set, "t.ldb", text, strlen(text), false);
}

static uint64_t unsupported_count(const struct sigset *set, const char *feature)
{
	for (size_t i = 0; i < set->unsupported.len; i++) {
		const struct unsupported_feature *f =
			&VEC_AT(&set->unsupported, struct unsupported_feature, i);
		if (!strcmp(f->name, feature))
			return f->count;
	}
	return 0;
}

/* The manual's examples, joined where the manual wraps them. */
static const struct {
	const char *line;
	bool loads; /* as clamscan 1.4.6 */
} manual[] = {
	{"Sig1;Target:0;(0&1&2&3)&(4|1);6b6f74656b;616c61;7a6f6c77;73746566616e;deadbeef", true},
	{"Sig2;Target:0;((0|1|2)>5,2)&(3|1);6b6f74656b;616c61;7a6f6c77;73746566616e", true},
	{"Sig3;Target:0;((0|1|2|3)=2)&(4|1);6b6f74656b;616c61;7a6f6c77;73746566616e;deadbeef",
	 true},
	{"Sig4;Engine:51-255,Target:1;((0|1)&(2|3))&4;EP+123:33c06834f04100f2aef7d14951684cf04100e8110a00;"
	 "S2+78:22??232c2d252229{-15}6e6573(63|64)61706528;S3+50:68efa311c3b9963cb1ee8e586d32aeb9043e;"
	 "f9c58dcf43987e4f519d629b103375;SL+550:6300680065005c0046006900",
	 true},
	{"clamav-nocase-A;Engine:81-255,Target:0;0&1;41414141::i;424242424242::i", true},
	{"clamav-fullword-A;Engine:81-255,Target:0;0&1;414141;68656c6c6f::f", true},
	{"clamav-fullword-B;Engine:81-255,Target:0;0&1;414141;68656c6c6f::fi", true},
	{"clamav-wide-B2;Engine:81-255,Target:0;0&1;414141;68656c6c6f::wa", true},
	{"clamav-wide-C0;Engine:81-255,Target:0;0&1;414141;68656c6c6f::iwfa", true},
	/* Macro: clamscan loads it; Ward keeps it with the subsig never matching. */
	{"TestMacro;Engine:51-255,Target:0;0&1;616161;${6-7}12$", true},
	{"Find.All.ClamAV;Engine:81-255,Target:0;1;6265676c6164697427736e6f7462797465636f6465;0/clamav/g",
	 true},
	{"Find.ClamAV.OnlyAt.299;Engine:81-255,Target:0;2;7374756c747a67657473;7063726572656765786c6f6c;"
	 "299:0&1/clamav/",
	 true},
	{"Find.ClamAV.StartAt.300;Engine:81-255,Target:0;3;616c61696e;62756731393238;636c6f736564;"
	 "300:0&1&2/clamav/r",
	 true},
	{"Find.All.Encompassed.ClamAV;Engine:81-255,Target:0;3;7768796172656e2774;796f757573696e67;79617261;"
	 "200,300:0&1&2/clamav/ge",
	 true},
	/* As printed (HTML-escaped "&lt;"): the ';' splits the regex; clamscan
	 * rejects it too. Unescaped, it loads. */
	{"Named.CapGroup.Pcre;Engine:81-255,Target:0;3;636f75727479617264;616c62756d;74657272696572;"
	 "50:0&1&2/variable=(?&lt;nilshell&gt;.{16})end/gr",
	 false},
	{"Named.CapGroup.Pcre;Engine:81-255,Target:0;3;636f75727479617264;616c62756d;74657272696572;"
	 "50:0&1&2/variable=(?<nilshell>.{16})end/gr",
	 true},
	/* Engine not first: clamscan "the Engine attribute must be on the first
	 * position". */
	{"Firefox.TreeRange.UseAfterFree;Engine:81-255,Target:0,Engine:81-255;0&1&2;2e766965772e73656c656374696f6e;"
	 "2e696e76616c696461746553656c656374696f6e;0&1/\\x2Eview\\x2Eselection.*?\\x2Etree\\s*\\x3D\\s*null.*?\\x2Einvalidate/smi",
	 false},
	{"Firefox.IDB.UseAfterFree;Engine:81-255,Target:0;0&1;4944424b657952616e6765;"
	 "0/^\\x2e(only|lowerBound|upperBound|bound)\\x28.*?\\x29.*?\\x2e(lower|upper|lowerOpen|upperOpen)/smi",
	 true},
	{"Firefox.boundElements;Engine:81-255,Target:0;0&1&2;6576656e742e626f756e64456c656d656e7473;"
	 "77696e646f772e636c6f7365;0&1/on(load|click)\\s*=\\s*\\x22?window\\.close\\s*\\x28/si",
	 true},
};

static void test_manual_examples(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof manual / sizeof manual[0]; i++) {
		struct sigset set;
		struct diags d;
		init(&set, &d);
		assert_int_equal(load(&set, manual[i].line), WARD_OK);
		bool loaded = set.counts[WARD_COUNT_LOGICAL] == 1 &&
			      set.counts[WARD_COUNT_BAD_LINES] == 0;
		if (loaded != manual[i].loads)
			fail_msg("example %zu: expected %s, diag '%s'", i,
				 manual[i].loads ? "loaded" : "rejected", d.last);
		if (!manual[i].loads)
			assert_non_null(strstr(d.last, "t.ldb:1:"));
		sigset_free(&set);
	}
}

static void test_structure(void **state)
{
	(void)state;
	struct sigset set;
	struct diags d;
	init(&set, &d);
	assert_int_equal(
		load(&set,
		     "S;Engine:81-255,Target:1,FileSize:100-2000,EntryPoint:0-64,NumberOfSections:3-5;"
		     "0&1&2&3;EP+0:4d5a::i;41424344::wa;200,300:0&1/ab\\/c/giA;0(<<0x10#hle4#>5,<0x20)\n"),
		WARD_OK);
	assert_int_equal(set.counts[WARD_COUNT_BAD_LINES], 0);
	assert_int_equal(set.counts[WARD_COUNT_LOGICAL], 1);
	const struct logicsig *l = &VEC_AT(&set.logical, struct logicsig, 0);
	assert_string_equal(strpool_get(&set.names, l->name), "S.UNOFFICIAL");
	assert_int_equal(l->base_name_len, 1);
	assert_int_equal(l->target, TARGET_PE);
	assert_true(l->filesize.set && l->filesize.lo == 100 && l->filesize.hi == 2000);
	assert_true(l->entrypoint.set && l->entrypoint.hi == 64);
	assert_true(l->nsections.set && l->nsections.lo == 3 && l->nsections.hi == 5);
	assert_int_equal(l->container, -1);
	assert_false(l->unsupported);
	assert_int_equal(l->nsubs, 4);
	assert_non_null(l->expr);

	/* Subsig 0: EP+0 offset, nocase. Subsig 1: "wa" = two patterns. */
	assert_int_equal(set.body.len, 3);
	const struct bodysig *b = &VEC_AT(&set.body, struct bodysig, l->subs[0].index);
	assert_int_equal(b->offset.kind, OFF_EP_PLUS);
	assert_int_equal(b->logical, 0);
	assert_int_equal(b->subsig, 0);
	assert_int_equal(b->target, TARGET_PE);
	assert_true(b->pat.flags & PAT_NOCASE);
	assert_int_equal(b->name, l->name);
	unsigned sub1 = 0, wide = 0;
	for (size_t i = 0; i < set.body.len; i++) {
		b = &VEC_AT(&set.body, struct bodysig, i);
		if (b->subsig == 1) {
			sub1++;
			if (b->pat.flags & PAT_WIDE)
				wide++;
		}
	}
	assert_int_equal(sub1, 2);
	assert_int_equal(wide, 1);

	assert_int_equal(l->subs[2].kind, SUB_PCRE);
	const struct pcresig *p = &VEC_AT(&set.pcre, struct pcresig, l->subs[2].index);
	assert_string_equal(p->regex, "ab\\/c");
	assert_int_equal(p->flags, PCRE_F_GLOBAL | PCRE_F_CASELESS | PCRE_F_ANCHORED);
	assert_int_equal(p->offset.kind, OFF_ABS);
	assert_int_equal(p->offset.n, 200);
	assert_true(p->offset.floating);
	assert_int_equal(p->subsig, 2);
	assert_non_null(p->trigger);

	assert_int_equal(l->subs[3].kind, SUB_BYTECMP);
	const struct bytecmpsig *c = &VEC_AT(&set.bytecmp, struct bytecmpsig, l->subs[3].index);
	assert_int_equal(c->trigger_sub, 0);
	assert_int_equal(c->offset, -16);
	assert_int_equal(c->base, 'h');
	assert_true(c->little_endian);
	assert_true(c->exact);
	assert_int_equal(c->nbytes, 4);
	assert_int_equal(c->ncmp, 2);
	assert_int_equal(c->cmp_op[0], '>');
	assert_int_equal(c->cmp_val[0], 5);
	assert_int_equal(c->cmp_op[1], '<');
	assert_int_equal(c->cmp_val[1], 0x20);
	sigset_free(&set);
}

static void test_tdb_unsupported(void **state)
{
	(void)state;
	struct sigset set;
	struct diags d;
	init(&set, &d);
	assert_int_equal(
		load(&set, "I;Engine:51-255,Target:1,IconGroup1:DOC;0;41424344\n"
			   "H;Engine:51-255,Target:0,HandlerType:CL_TYPE_PDF;0;41424344\n"
			   "C;Engine:51-255,Target:0,Container:CL_TYPE_ZIP;0;41424344\n"
			   "A;Engine:51-255,Target:0,Container:CL_TYPE_NOT_A_TYPE;0;41424344\n"
			   "T;Engine:51-255,Target:15;0;41424344\n"
			   "M;Engine:51-255,Target:0;0&1;41424344;${1-2}3$\n"
			   "F;Engine:51-255,Target:0;0&1;41424344;fuzzy_img#af2ad01ed42993c7#0\n"),
		WARD_OK);
	assert_int_equal(set.counts[WARD_COUNT_BAD_LINES], 0);
	assert_int_equal(set.counts[WARD_COUNT_LOGICAL], 7);
	assert_int_equal(unsupported_count(&set, "ldb TDB IconGroup1"), 1);
	assert_int_equal(unsupported_count(&set, "ldb TDB HandlerType"), 1);
	assert_int_equal(unsupported_count(&set, "ldb Container CL_TYPE_NOT_A_TYPE"), 1);
	assert_int_equal(unsupported_count(&set, "ldb target type > 14"), 1);
	assert_int_equal(unsupported_count(&set, "ldb macro subsignature"), 1);
	assert_int_equal(unsupported_count(&set, "ldb fuzzy_img subsignature"), 1);
	const struct logicsig *l = &VEC_AT(&set.logical, struct logicsig, 0);
	assert_true(l->unsupported);
	l = &VEC_AT(&set.logical, struct logicsig, 2);
	assert_false(l->unsupported);
	assert_int_equal(l->container, ftype_from_clamav_name("CL_TYPE_ZIP", 11));
	assert_true(VEC_AT(&set.logical, struct logicsig, 3).unsupported);
	assert_true(VEC_AT(&set.logical, struct logicsig, 4).unsupported);
	l = &VEC_AT(&set.logical, struct logicsig, 5);
	assert_int_equal(l->subs[1].kind, SUB_NEVER);
	assert_false(l->unsupported);
	sigset_free(&set);
}

static void test_flevel(void **state)
{
	(void)state;
	struct sigset set;
	struct diags d;
	init(&set, &d);
	/* clamscan skips 220-255; a signature for a newer engine may use
	 * syntax this one lacks, so the rest of the line is not even parsed. */
	assert_int_equal(load(&set, "A;Engine:220-255,Target:0;0;zzzz\n"
				    "B;Engine:10-20,Target:0;0;41424344\n"
				    "C;Engine:51-216,Target:0;0;41424344\n"
				    "D;Engine:216-216,Target:0;0;41424344\n"),
			 WARD_OK);
	assert_int_equal(set.counts[WARD_COUNT_SKIPPED_FLEVEL], 2);
	assert_int_equal(set.counts[WARD_COUNT_LOGICAL], 2);
	assert_int_equal(set.counts[WARD_COUNT_BAD_LINES], 0);
	sigset_free(&set);
}

/* main.ldb line 21292 has "...::i*...::i*...::i": clamscan reads the options
 * after the last "::" and skips the inner runs. An offset is a single ':'. */
static void test_inner_modifiers(void **state)
{
	(void)state;
	struct sigset set;
	struct diags d;
	init(&set, &d);
	assert_int_equal(load(&set, "A;Engine:81-255,Target:0;0;414243::i*444546::i\n"
				    "B;Engine:81-255,Target:0;0;10:414243::zz*444546::w\n"),
			 WARD_OK);
	assert_int_equal(set.counts[WARD_COUNT_BAD_LINES], 0);
	assert_int_equal(set.body.len, 2);
	const struct bodysig *b = &VEC_AT(&set.body, struct bodysig, 0);
	assert_true(b->pat.flags & PAT_NOCASE);
	assert_int_equal(b->offset.kind, OFF_ANY);
	b = &VEC_AT(&set.body, struct bodysig, 1);
	assert_true(b->pat.flags & PAT_WIDE);
	assert_int_equal(b->offset.kind, OFF_ABS);
	assert_int_equal(b->offset.n, 10);
	sigset_free(&set);
}

static void expect_bad(const char *line)
{
	struct sigset set;
	struct diags d;
	init(&set, &d);
	char text[2048];
	snprintf(text, sizeof text, "Good;Engine:51-255,Target:0;0;41424344\n%s\n", line);
	assert_int_equal(load(&set, text), WARD_OK);
	if (set.counts[WARD_COUNT_BAD_LINES] != 1 || !strstr(d.last, "t.ldb:2:"))
		fail_msg("'%s' -> %u bad lines, diag '%s'", line,
			 (unsigned)set.counts[WARD_COUNT_BAD_LINES], d.last);
	/* All or nothing: only the good line's parts remain. */
	assert_int_equal(set.logical.len, 1);
	assert_int_equal(set.body.len, 1);
	assert_int_equal(set.pcre.len, 0);
	assert_int_equal(set.bytecmp.len, 0);
	assert_int_equal(set.counts[WARD_COUNT_UNSUPPORTED], 0);
	sigset_free(&set);
}

static void test_bad_lines(void **state)
{
	(void)state;
	/* Each one rejected by clamscan 1.4.6 as well. */
	expect_bad("A;Engine:51-255,Target:0;0");
	expect_bad("A;Target:0,Engine:51-255;0;41424344");
	expect_bad("A;Engine:51-255;0;41424344");
	expect_bad("A;Engine:81,Target:0;0;41424344");
	expect_bad("A;Engine:51-255,Target:0,FileSize:68;0;41424344");
	expect_bad("A;Engine:51-255,Target:x;0;41424344");
	expect_bad("A;Engine:51-255,Target:0;0;41424344;");
	expect_bad("A;Engine:51-255,Target:0;0&1;41424344");
	expect_bad("A;Engine:51-255,Target:0;0;41424344;42424242");
	expect_bad("A;Engine:51-255,Target:0;0;41424344::q");
	expect_bad("A;Engine:51-255,Target:0;0;4142zz44");
	expect_bad("A;Engine:51-255,Target:0;(0&;41424344");
	expect_bad(";Engine:51-255,Target:0;0;41424344");
	/* Each bad subsignature after a good one must roll the good one back. */
	expect_bad("A;Engine:51-255,Target:0;0&1;41424344;0/EI/q");
	expect_bad("A;Engine:51-255,Target:0;0&1;41424344;0/EI");
	expect_bad("A;Engine:51-255,Target:0;0&1;41424344;0//");
	expect_bad("A;Engine:51-255,Target:0;0;0/EICAR/");
	expect_bad("A;Engine:51-255,Target:0;0&1&2;41424344;1/x/;0/y/");
	expect_bad("A;Engine:51-255,Target:0;0&1;41424344::wa;0(>>3#ib3#=33)");
	expect_bad("A;Engine:51-255,Target:0;0&1;41424344;0(>>3#dl1#=33)");
	expect_bad("A;Engine:51-255,Target:0;0&1;41424344;0(>>3#hb19#=33)");
	expect_bad("A;Engine:51-255,Target:0;0&1;41424344;0(3#ib1#=33)");
	expect_bad("A;Engine:51-255,Target:0;0&1;41424344;0(>>3#ib1#=33,>1,<2)");
	expect_bad("A;Engine:51-255,Target:0;0&1;41424344;0(>>3#ib1#!33)");
	expect_bad("A;Engine:51-255,Target:0;0&1;41424344;0(>>3#ib0#=33)");
	/* Divergence: clamscan loads a byte compare triggered by a PCRE
	 * subsignature; the manual forbids it and Ward rejects it. */
	expect_bad("A;Engine:51-255,Target:0;0&1&2;41424344;0/x/;1(>>3#ib1#=33)");
	/* 65 subsignatures: ClamAV's maximum is 64. */
	char big[1024];
	int n = snprintf(big, sizeof big, "A;Engine:51-255,Target:0;0");
	for (int i = 0; i < 65; i++)
		n += snprintf(big + n, sizeof big - (size_t)n, ";41424344");
	expect_bad(big);
}

/* ---- the real main.ldb ---- */

static char *gunzip_file(const char *path, size_t *len)
{
	gzFile gz = gzopen(path, "rb");
	if (!gz)
		return NULL;
	size_t cap = 16 << 20, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (cap - n < 65536) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		int r = gzread(gz, buf + n, 65536);
		assert_true(r >= 0);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	gzclose(gz);
	*len = n;
	return buf;
}

static void quiet_diag(void *ctx, ward_err code, const char *file, unsigned long line,
		       const char *msg)
{
	struct diags *d = ctx;
	(void)file;
	(void)line;
	if (code != WARD_EUNSUPPORTED) {
		d->n++;
		if (d->n <= 10)
			print_message("%s\n", msg);
	}
}

static void test_main_ldb(void **state)
{
	(void)state;
	char path[512];
	size_t len = 0;
	snprintf(path, sizeof path, "%s/sigs/main.ldb.gz", WARD_SHARED_DIR);
	char *buf = gunzip_file(path, &len);
	if (!buf) {
		print_message("skipping: %s not found\n", path);
		skip();
	}
	struct sigset set;
	struct diags d;
	memset(&d, 0, sizeof d);
	ward_load_opts o = {quiet_diag, &d, 0, NULL};
	sigset_init(&set, &o);
	/* Official lines: names without the suffix, as from main.cvd. */
	assert_int_equal(db_load_buffer(&set, "main.ldb", buf, len, true), WARD_OK);
	assert_int_equal(set.counts[WARD_COUNT_BAD_LINES], 0);
	assert_int_equal(set.counts[WARD_COUNT_LOGICAL], 38889);
	assert_int_equal(set.counts[WARD_COUNT_SKIPPED_FLEVEL], 0);
	assert_int_equal(set.pcre.len, 564);
	for (size_t i = 0; i < set.unsupported.len; i++) {
		const struct unsupported_feature *f =
			&VEC_AT(&set.unsupported, struct unsupported_feature, i);
		print_message("unsupported: %-40s %llu\n", f->name, (unsigned long long)f->count);
	}
	/* IconGroup1 (52 signatures) and HandlerType (8). */
	assert_int_equal(unsupported_count(&set, "ldb TDB IconGroup1"), 52);
	assert_int_equal(unsupported_count(&set, "ldb TDB HandlerType"), 8);
	free(buf);
	sigset_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manual_examples), cmocka_unit_test(test_structure),
		cmocka_unit_test(test_tdb_unsupported), cmocka_unit_test(test_flevel),
		cmocka_unit_test(test_inner_modifiers), cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_main_ldb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
