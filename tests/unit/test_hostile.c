/*
 * Hostile inputs through the public API, for what the shell suite
 * (tests/hostile) cannot see from outside the process: the exact
 * report->limits strings, that repeated scans of a bomb do not grow the heap
 * (a leak per scan would), that every allocation failure during such a scan
 * is survived, and that the time budget holds inside one process. Inputs are
 * built here at run time (docs/internals/hostile.md).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "ward/ward.h"
#include "util/util.h"

static char tmpdir[256];

static const char eicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

static ward_db *load_text(const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	const char *paths[] = {path};
	ward_db *db = NULL;
	ward_load_opts o = {0};
	assert_int_equal(ward_db_load(paths, 1, &o, &db), WARD_OK);
	unlink(path);
	return db;
}

static ward_db *eicar_db(void)
{
	char line[512];
	int n = snprintf(line, sizeof line, "Eicar-Test:0:*:");
	for (size_t i = 0; i < sizeof eicar - 1; i++)
		n += snprintf(line + n, sizeof line - (size_t)n, "%02x", (unsigned char)eicar[i]);
	snprintf(line + n, sizeof line - (size_t)n, "\n");
	return load_text("e.ndb", line);
}

/* One zip holding one member (deflated), in a malloc'd buffer. */
static unsigned char *zip_one(const char *name, const void *data, size_t len, size_t *out_len)
{
	size_t cap = len + 4096;
	unsigned char *buf = malloc(cap);
	assert_non_null(buf);
	struct archive *a = archive_write_new();
	assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, cap, out_len), ARCHIVE_OK);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, data, len), (la_ssize_t)len);
	archive_entry_free(e);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return buf;
}

/* depth zips, each holding the next; EICAR at the bottom. */
static unsigned char *nested_zip(unsigned depth, size_t *len)
{
	size_t n = sizeof eicar - 1;
	unsigned char *cur = malloc(n);
	assert_non_null(cur);
	memcpy(cur, eicar, n);
	for (unsigned i = 0; i < depth; i++) {
		size_t nl;
		unsigned char *next = zip_one(i ? "inner.zip" : "eicar.com", cur, n, &nl);
		free(cur);
		cur = next;
		n = nl;
	}
	*len = n;
	return cur;
}

static bool has_limit(const ward_report *r, const char *name)
{
	for (size_t i = 0; i < r->nlimits; i++)
		if (strcmp(r->limits[i], name) == 0)
			return true;
	return false;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 100 levels: exactly MaxRecursion, nothing found; 5 levels: EICAR found
 * at its inner path. */
static void nesting_reports_maxrecursion(void **state)
{
	(void)state;
	ward_db *db = eicar_db();
	ward_limits lim;
	ward_limits_default(&lim);
	lim.max_recursion = 17;
	ward_scanner *s = NULL;
	assert_int_equal(ward_scanner_new(db, &lim, WARD_SCAN_ALLMATCH, &s), WARD_OK);
	size_t len;
	unsigned char *z = nested_zip(100, &len);
	const ward_report *r = NULL;
	assert_int_equal(ward_scanner_scan_mem(s, z, len, "n100.zip", &r), WARD_OK);
	assert_int_equal(r->ndetections, 0);
	assert_int_equal(r->nlimits, 1);
	assert_string_equal(r->limits[0], "Heuristics.Limits.Exceeded.MaxRecursion");
	assert_true(r->files_scanned >= 17 && r->files_scanned <= 18);
	free(z);

	z = nested_zip(5, &len);
	assert_int_equal(ward_scanner_scan_mem(s, z, len, "n5.zip", &r), WARD_OK);
	assert_int_equal(r->ndetections, 1);
	assert_string_equal(r->detections[0].name, "Eicar-Test.UNOFFICIAL");
	assert_non_null(r->detections[0].inner_path);
	assert_non_null(strstr(r->detections[0].inner_path, "eicar.com"));
	assert_int_equal(r->nlimits, 0);
	free(z);
	ward_scanner_free(s);
	ward_db_free(db);
}

/* A leak per scan would show as heap growth over many scans of the same
 * bomb with the same scanner (and with a fresh scanner each time). */
static void repeated_scans_do_not_grow_heap(void **state)
{
	(void)state;
	ward_db *db = eicar_db();
	size_t len;
	unsigned char *z = nested_zip(40, &len);
	ward_limits lim;
	ward_limits_default(&lim);
	lim.max_recursion = 30;
	size_t base = 0;
	for (int round = 0; round < 60; round++) {
		ward_scanner *s = NULL;
		assert_int_equal(ward_scanner_new(db, &lim, 0, &s), WARD_OK);
		const ward_report *r = NULL;
		for (int k = 0; k < 3; k++) {
			assert_int_equal(ward_scanner_scan_mem(s, z, len, "n40.zip", &r), WARD_OK);
			assert_true(has_limit(r, "Heuristics.Limits.Exceeded.MaxRecursion"));
		}
		ward_scanner_free(s);
		size_t used = mallinfo2().uordblks;
		if (round == 10)
			base = used;
		/* 50 rounds x 3 scans: even a 64-byte leak per scan would add
		 * 9,600 bytes; allow 4 KiB of allocator noise. */
		if (round > 10 && used > base + 4096)
			fail_msg("heap grew from %zu to %zu bytes after %d rounds", base, used,
				 round);
	}
	free(z);
	ward_db_free(db);
}

/* Every allocation failure during a nested-archive scan is survived: the
 * result is WARD_OK or WARD_ENOMEM, never a crash (ASan/LSan check the
 * rest in the sanitizer build). */
static void alloc_failure_sweep_on_bomb(void **state)
{
	(void)state;
	ward_db *db = eicar_db();
	size_t len;
	unsigned char *z = nested_zip(12, &len);
	/* Allocations one full scan makes through the shim. */
	ward_scanner *probe = NULL;
	const ward_report *r = NULL;
	unsigned long c0 = ward_alloc_count();
	assert_int_equal(ward_scanner_new(db, NULL, 0, &probe), WARD_OK);
	assert_int_equal(ward_scanner_scan_mem(probe, z, len, "n12.zip", &r), WARD_OK);
	assert_int_equal(r->ndetections, 1);
	ward_scanner_free(probe);
	long total = (long)(ward_alloc_count() - c0);
	assert_true(total > 0 && total < 100000);
	for (long n = 0; n <= total; n++) {
		ward_scanner *s = NULL;
		ward_alloc_fail_after(n);
		ward_err e = ward_scanner_new(db, NULL, 0, &s);
		if (e == WARD_OK) {
			e = ward_scanner_scan_mem(s, z, len, "n12.zip", &r);
			assert_true(e == WARD_OK || e == WARD_ENOMEM);
			if (e == WARD_OK)
				assert_non_null(r);
			ward_scanner_free(s);
		} else {
			assert_int_equal(e, WARD_ENOMEM);
			assert_null(s);
		}
		ward_alloc_fail_after(-1);
	}
	free(z);
	ward_db_free(db);
}

/* Signatures whose only literal is "  " over 4 MiB of spaces: a candidate
 * at every byte. The scan must stop at max_scantime_ms with MaxScanTime
 * (or finish earlier, clean). */
static void scantime_holds_against_everywhere_anchors(void **state)
{
	(void)state;
	size_t cap = (size_t)300 * 64, n = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(text + n, cap - n,
				      "Sp.%d:0:*:2020{-%d}2020?"
				      "?(%02x|%02x)\n",
				      i, 8 + i % 57, 0x21 + i % 90, 0x22 + i % 90);
	ward_db *db = load_text("sp.ndb", text);
	free(text);
	size_t len = 4u << 20;
	unsigned char *junk = malloc(len);
	assert_non_null(junk);
	memset(junk, ' ', len);
	ward_limits lim;
	ward_limits_default(&lim);
	lim.max_scantime_ms = 300;
	ward_scanner *s = NULL;
	assert_int_equal(ward_scanner_new(db, &lim, WARD_SCAN_ALLMATCH, &s), WARD_OK);
	const ward_report *r = NULL;
	double t0 = now_s();
	assert_int_equal(ward_scanner_scan_mem(s, junk, len, "spaces", &r), WARD_OK);
	double dt = now_s() - t0;
	assert_int_equal(r->ndetections, 0);
	/* 300 ms budget + 1.5 s for one verifier slice and the sanitizer's
	 * slowdown: a bound, not a speed test. */
	if (dt > 1.8)
		fail_msg("scan took %.2f s with a 300 ms budget", dt);
	if (r->nlimits)
		assert_true(has_limit(r, "Heuristics.Limits.Exceeded.MaxScanTime"));
	ward_scanner_free(s);
	free(junk);
	ward_db_free(db);
}

/* PCRE with catastrophic backtracking: the match limit ends it; the
 * subsignature does not match and no limit name is reported (clamscan
 * reports nothing for a PCRE limit either). */
static void pcre_backtracking_is_bounded(void **state)
{
	(void)state;
	ward_db *db = load_text(
		"p.ldb", "Pcre.Catastrophic;Engine:81-255,Target:0;0&1;61616161;0/(a+)+$/\n");
	size_t len = 1u << 20;
	unsigned char *junk = malloc(len);
	assert_non_null(junk);
	memset(junk, 'a', len);
	junk[len - 1] = 'b';
	ward_limits lim;
	ward_limits_default(&lim);
	lim.max_scantime_ms = 2000;
	ward_scanner *s = NULL;
	assert_int_equal(ward_scanner_new(db, &lim, 0, &s), WARD_OK);
	const ward_report *r = NULL;
	double t0 = now_s();
	assert_int_equal(ward_scanner_scan_mem(s, junk, len, "a", &r), WARD_OK);
	double dt = now_s() - t0;
	assert_int_equal(r->ndetections, 0);
	assert_true(r->nerrors >= 1); /* "PCRE match limit reached in ..." */
	if (dt > 3.5)
		fail_msg("PCRE scan took %.2f s", dt);
	ward_scanner_free(s);
	free(junk);
	ward_db_free(db);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/ward-hostile-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	rmdir(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nesting_reports_maxrecursion),
		cmocka_unit_test(repeated_scans_do_not_grow_heap),
		cmocka_unit_test(alloc_failure_sweep_on_bomb),
		cmocka_unit_test(scantime_holds_against_everywhere_anchors),
		cmocka_unit_test(pcre_backtracking_is_bounded),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
