/*
 * End-to-end engine tests through the public API: write a small database,
 * load it, scan buffers, check the verdicts. Each expectation below was
 * checked against clamscan 1.4.6 (the oracle) when written; the differential
 * tests in tests/diff recheck the same semantics on generated corpora.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "ward/ward.h"
#include "util/util.h"

static char tmpdir[256];

static void write_file(const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static ward_db *load_one(const char *name, const char *text)
{
	char path[512];
	write_file(name, text);
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	const char *paths[] = {path};
	ward_db *db = NULL;
	ward_load_opts o = {0};
	assert_int_equal(ward_db_load(paths, 1, &o, &db), WARD_OK);
	unlink(path);
	return db;
}

/* Names reported for data, joined by ',' (allmatch), or "" when clean. */
static const char *scan_names(ward_db *db, const void *data, size_t len, unsigned flags,
			      const ward_limits *lim)
{
	static char out[4096];
	ward_scanner *s = NULL;
	const ward_report *r = NULL;
	assert_int_equal(ward_scanner_new(db, lim, flags, &s), WARD_OK);
	assert_int_equal(ward_scanner_scan_mem(s, data, len, "t", &r), WARD_OK);
	out[0] = '\0';
	for (size_t i = 0; i < r->ndetections; i++) {
		if (i)
			strncat(out, ",", sizeof out - strlen(out) - 1);
		strncat(out, r->detections[i].name, sizeof out - strlen(out) - 1);
	}
	for (size_t i = 0; i < r->nlimits; i++) {
		strncat(out, i || r->ndetections ? "," : "", sizeof out - strlen(out) - 1);
		strncat(out, r->limits[i], sizeof out - strlen(out) - 1);
	}
	ward_scanner_free(s);
	return out;
}

static const char *scan_str(ward_db *db, const char *data)
{
	return scan_names(db, data, strlen(data), WARD_SCAN_ALLMATCH, NULL);
}

static void body_basics(void **state)
{
	(void)state;
	ward_db *db = load_one("t.ndb", "Plain:0:*:414243444546\n"
					"Wild:0:*:5151??5252\n"
					"Nib:0:*:6161a?6262\n"
					"Star:0:*:78787878*79797979\n"
					"Range:0:*:6d6d6d6d{2-4}6e6e6e6e\n"
					"AtLeast:0:*:70707070{3-}71717171\n"
					"Alt:0:*:74747474(41|42)75757575\n"
					"Neg:0:*:76767676!(01|02)77777777\n");
	assert_string_equal(scan_str(db, "xxABCDEFxx"), "Plain.UNOFFICIAL");
	assert_string_equal(scan_str(db, "xxABCDExx"), "");
	assert_string_equal(scan_str(db, "xQQ!RRx"), "Wild.UNOFFICIAL");
	assert_string_equal(scan_str(db, "xaa\xa7"
					 "bbx"),
			    "Nib.UNOFFICIAL");
	assert_string_equal(scan_str(db, "xaa\xb7"
					 "bbx"),
			    "");
	assert_string_equal(scan_str(db, "xxxx..........yyyy"), "Star.UNOFFICIAL");
	assert_string_equal(scan_str(db, "yyyy...xxxx"), "");
	assert_string_equal(scan_str(db, "mmmm..nnnn"), "Range.UNOFFICIAL");
	assert_string_equal(scan_str(db, "mmmm....nnnn"), "Range.UNOFFICIAL");
	assert_string_equal(scan_str(db, "mmmm.....nnnn"), "");
	assert_string_equal(scan_str(db, "mmmm.nnnn"), "");
	assert_string_equal(scan_str(db, "pppp...qqqq"), "AtLeast.UNOFFICIAL");
	assert_string_equal(scan_str(db, "pppp..qqqq"), "");
	assert_string_equal(scan_str(db, "ttttAuuuu"), "Alt.UNOFFICIAL");
	assert_string_equal(scan_str(db, "ttttCuuuu"), "");
	assert_string_equal(scan_str(db, "vvvv\x03wwww"), "Neg.UNOFFICIAL");
	assert_string_equal(scan_str(db, "vvvv\x01wwww"), "");
	ward_db_free(db);
}

static void offsets(void **state)
{
	(void)state;
	ward_db *db = load_one("o.ndb", "Abs:0:4:41424344\n"
					"Shift:0:2,3:45464748\n"
					"Eof:0:EOF-4:494a4b4c\n");
	assert_string_equal(scan_str(db, "....ABCD...."), "Abs.UNOFFICIAL");
	assert_string_equal(scan_str(db, "...ABCD...."), "");
	assert_string_equal(scan_str(db, "..EFGH"), "Shift.UNOFFICIAL");
	assert_string_equal(scan_str(db, ".....EFGH"), "Shift.UNOFFICIAL");
	assert_string_equal(scan_str(db, "......EFGH"), "");
	assert_string_equal(scan_str(db, "....IJKL"), "Eof.UNOFFICIAL");
	assert_string_equal(scan_str(db, "....IJKL."), "");
	/* Pinned signatures are searched only at their window: occurrences
	 * just before and after it do not count. */
	assert_string_equal(scan_str(db, "ABCD....ABCD"), "");
	assert_string_equal(scan_str(db, "EFGH.....EFGH"), "");
	ward_db_free(db);

	/* A window wider than WARD_MAX_PINNED_WINDOW stays anchored; a pinned
	 * first segment still finds later segments anywhere. */
	db = load_one("w.ndb", "Wide:0:0,2000:51525354\n"
			       "Multi:0:1:5758*595a\n");
	char buf[2200];
	memset(buf, '.', sizeof buf);
	memcpy(buf + 1500, "QRST", 4);
	assert_string_equal(scan_names(db, buf, sizeof buf, WARD_SCAN_ALLMATCH, NULL),
			    "Wide.UNOFFICIAL");
	memset(buf, '.', sizeof buf);
	memcpy(buf + 2100, "QRST", 4);
	assert_string_equal(scan_names(db, buf, sizeof buf, WARD_SCAN_ALLMATCH, NULL), "");
	assert_string_equal(scan_str(db, ".WX.......YZ"), "Multi.UNOFFICIAL");
	assert_string_equal(scan_str(db, "..WX......YZ"), "");
	ward_db_free(db);
}

/* Matches of a counted subsignature are searched only until every comparison
 * is decided (ldb_count_cap); the verdicts must be those of full counting. */
static void count_caps(void **state)
{
	(void)state;
	ward_db *db = load_one("c.ldb", "Exact;Target:0;0=3;7a7a7a\n"
					"Sum;Target:0;(0|1)>4;616161;626262\n"
					"Less;Target:0;0&(1<3);717171;787878\n"
					"Nested;Target:0;((0>1)|1)>3;6d6d6d;6e6e6e\n");
	assert_string_equal(scan_str(db, "zzz zzz zzz"), "Exact.UNOFFICIAL");
	assert_string_equal(scan_str(db, "zzz zzz zzz zzz"), "");
	assert_string_equal(scan_str(db, "aaa aaa aaa bbb bbb"), "Sum.UNOFFICIAL");
	assert_string_equal(scan_str(db, "aaa aaa aaa bbb"), "");
	assert_string_equal(scan_str(db, "qqq xxx xxx"), "Less.UNOFFICIAL");
	assert_string_equal(scan_str(db, "qqq xxx xxx xxx"), "");
	assert_string_equal(scan_str(db, "mmm mmm nnn nnn"), "Nested.UNOFFICIAL");
	assert_string_equal(scan_str(db, "mmm mmm nnn"), "");
	ward_db_free(db);
}

static void first_match_and_allmatch(void **state)
{
	(void)state;
	ward_db *db = load_one("m.ndb", "One:0:*:6f6e656f6e65\nTwo:0:*:74776f74776f\n");
	assert_string_equal(scan_str(db, "oneone twotwo"), "One.UNOFFICIAL,Two.UNOFFICIAL");
	const char *first = scan_names(db, "oneone twotwo", 13, 0, NULL);
	assert_true(strcmp(first, "One.UNOFFICIAL") == 0 || strcmp(first, "Two.UNOFFICIAL") == 0);
	ward_db_free(db);
}

static void logical(void **state)
{
	(void)state;
	ward_db *db = load_one("l.ldb", "And;Target:0;0&1;616263;646566\n"
					"Or;Target:0;(0|1);717171;727272\n"
					"Count;Target:0;0>2;7a7a7a\n"
					"Nocase;Target:0;0;68656c6c6f::i\n"
					"Wide;Target:0;0;575757::w\n");
	assert_string_equal(scan_str(db, "abc..def"), "And.UNOFFICIAL");
	assert_string_equal(scan_str(db, "abc"), "");
	assert_string_equal(scan_str(db, "..rrr.."), "Or.UNOFFICIAL");
	assert_string_equal(scan_str(db, "zzz zzz zzz"), "Count.UNOFFICIAL");
	assert_string_equal(scan_str(db, "zzz zzz"), "");
	assert_string_equal(scan_str(db, "HeLLo."), "Nocase.UNOFFICIAL");
	assert_string_equal(scan_names(db, "W\0W\0W\0", 6, WARD_SCAN_ALLMATCH, NULL),
			    "Wide.UNOFFICIAL");
	ward_db_free(db);
}

static const char eicar_parts[2][40] = {"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-",
					"STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"};

static void hashes_and_allowlist(void **state)
{
	(void)state;
	char eicar[80];
	snprintf(eicar, sizeof eicar, "%s%s", eicar_parts[0], eicar_parts[1]);
	ward_db *db = load_one("h.hdb", "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Hash\n");
	assert_string_equal(scan_str(db, eicar), "Eicar-Hash.UNOFFICIAL");
	ward_db_free(db);

	/* A body detection on a file whose MD5 is allow-listed is dropped. */
	char p1[512], p2[512];
	write_file("a.ndb", "EicarBody:0:*:45494341522d\n");
	write_file("a.fp", "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Allowed\n");
	snprintf(p1, sizeof p1, "%s/a.ndb", tmpdir);
	snprintf(p2, sizeof p2, "%s/a.fp", tmpdir);
	const char *paths[] = {p1, p2};
	ward_load_opts o = {0};
	assert_int_equal(ward_db_load(paths, 1, &o, &db), WARD_OK);
	assert_string_equal(scan_str(db, eicar), "EicarBody.UNOFFICIAL");
	ward_db_free(db);
	assert_int_equal(ward_db_load(paths, 2, &o, &db), WARD_OK);
	assert_string_equal(scan_str(db, eicar), "");
	ward_db_free(db);
	unlink(p1);
	unlink(p2);
}

/* A zip (made with libarchive) holding `inner`, nested `depth` times. */
static size_t make_zip(const void *inner, size_t len, unsigned depth, uint8_t *out, size_t cap)
{
	uint8_t *cur = malloc(len);
	assert_non_null(cur);
	memcpy(cur, inner, len);
	size_t curlen = len;
	for (unsigned d = 0; d < depth; d++) {
		struct archive *a = archive_write_new();
		archive_write_set_format_zip(a);
		size_t used = 0;
		assert_int_equal(archive_write_open_memory(a, out, cap, &used), ARCHIVE_OK);
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, d ? "nested.zip" : "member.txt");
		archive_entry_set_size(e, (la_int64_t)curlen);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_write_header(a, e);
		archive_write_data(a, cur, curlen);
		archive_entry_free(e);
		archive_write_close(a);
		archive_write_free(a);
		free(cur);
		cur = malloc(used);
		assert_non_null(cur);
		memcpy(cur, out, used);
		curlen = used;
	}
	memcpy(out, cur, curlen);
	free(cur);
	return curlen;
}

static void containers_and_limits(void **state)
{
	(void)state;
	static uint8_t zip[1 << 16];
	ward_db *db = load_one("z.ndb", "Inner:0:*:6d616c7761726531\n");
	const char *payload = "....malware1....";
	size_t n = make_zip(payload, strlen(payload), 1, zip, sizeof zip);
	assert_string_equal(scan_names(db, zip, n, WARD_SCAN_ALLMATCH, NULL), "Inner.UNOFFICIAL");

	/* Nested three deep, with MaxRecursion 2: not reached, and said so. */
	n = make_zip(payload, strlen(payload), 3, zip, sizeof zip);
	assert_string_equal(scan_names(db, zip, n, WARD_SCAN_ALLMATCH, NULL), "Inner.UNOFFICIAL");
	ward_limits lim;
	ward_limits_default(&lim);
	lim.max_recursion = 2;
	assert_string_equal(scan_names(db, zip, n, WARD_SCAN_ALLMATCH, &lim),
			    "Heuristics.Limits.Exceeded.MaxRecursion");

	/* MaxFileSize on the top-level buffer: skipped whole, as clamscan does. */
	lim.max_recursion = 17;
	lim.max_filesize = 8;
	assert_string_equal(scan_names(db, payload, strlen(payload), WARD_SCAN_ALLMATCH, &lim),
			    "Heuristics.Limits.Exceeded.MaxFileSize");
	ward_db_free(db);
}

/* "AAAA*BBBB" over megabytes of AAAA and no BBBB: every anchor candidate needs
 * the second segment; the per-object memo must keep this linear. A quadratic
 * verifier would run for hours and hit ctest's timeout. */
static void star_segments_stay_linear(void **state)
{
	(void)state;
	ward_db *db = load_one("q.ndb", "Quad:0:*:41414141*42424242\n");
	size_t n = 8u << 20;
	char *buf = malloc(n);
	assert_non_null(buf);
	memset(buf, 'A', n);
	assert_string_equal(scan_names(db, buf, n, WARD_SCAN_ALLMATCH, NULL), "");
	memcpy(buf + n - 4, "BBBB", 4);
	assert_string_equal(scan_names(db, buf, n, WARD_SCAN_ALLMATCH, NULL), "Quad.UNOFFICIAL");
	free(buf);
	ward_db_free(db);
}

static void tiny_objects_are_not_scanned(void **state)
{
	(void)state;
	/* clamscan: a file of at most 5 bytes is clean whatever it holds. */
	ward_db *db = load_one("s.ndb", "Small:0:*:727272\n");
	assert_string_equal(scan_str(db, "rrrrr"), "");
	assert_string_equal(scan_str(db, "rrrrrr"), "Small.UNOFFICIAL");
	ward_db_free(db);
}

static void bad_lines_do_not_stop_the_load(void **state)
{
	(void)state;
	ward_db *db = load_one("b.ndb", "Good:0:*:41424344\nBad:0:*:4g\nAlsoGood:0:*:45464748\n");
	assert_int_equal(ward_db_count(db, WARD_COUNT_BAD_LINES), 1);
	assert_string_equal(scan_str(db, "ABCD EFGH"), "Good.UNOFFICIAL,AlsoGood.UNOFFICIAL");
	ward_db_free(db);
}

static void allocation_failures_are_clean(void **state)
{
	(void)state;
	char path[512];
	write_file("f.ndb", "One:0:*:6f6e656f6e65\nStar:0:*:78787878*79797979\n");
	write_file("f.ldb", "And;Target:0;0&1;616263;646566\n");
	snprintf(path, sizeof path, "%s", tmpdir);
	const char *paths[] = {path};
	/* Walk every allocation of load + scanner creation + scan: each fails
	 * cleanly (an error code, no crash, no leak under ASan). */
	for (long n = 0; n < 100000; n++) {
		ward_db *db = NULL;
		ward_scanner *s = NULL;
		const ward_report *r = NULL;
		ward_load_opts o = {0};
		ward_alloc_fail_after(n);
		ward_err e = ward_db_load(paths, 1, &o, &db);
		if (e == WARD_OK)
			e = ward_scanner_new(db, NULL, WARD_SCAN_ALLMATCH, &s);
		if (e == WARD_OK)
			e = ward_scanner_scan_mem(s, "oneone abc def xxxx..yyyy", 25, "t", &r);
		ward_alloc_fail_after(-1);
		ward_scanner_free(s);
		ward_db_free(db);
		if (e == WARD_OK) {
			assert_true(n > 0);
			break;
		}
		assert_true(e == WARD_ENOMEM || e == WARD_ELIMIT || e == WARD_EIO ||
			    e == WARD_EENGINE);
	}
	snprintf(path, sizeof path, "%s/f.ndb", tmpdir);
	unlink(path);
	snprintf(path, sizeof path, "%s/f.ldb", tmpdir);
	unlink(path);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/ward-test-scan-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(body_basics),
		cmocka_unit_test(offsets),
		cmocka_unit_test(count_caps),
		cmocka_unit_test(first_match_and_allmatch),
		cmocka_unit_test(logical),
		cmocka_unit_test(hashes_and_allowlist),
		cmocka_unit_test(containers_and_limits),
		cmocka_unit_test(star_segments_stay_linear),
		cmocka_unit_test(tiny_objects_are_not_scanned),
		cmocka_unit_test(bad_lines_do_not_stop_the_load),
		cmocka_unit_test(allocation_failures_are_clean),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
