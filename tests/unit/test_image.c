/*
 * Compiled images (lib/compile/image.c): a load from the image gives the same
 * database as a load from the text (counts, diagnostics in order, verdicts);
 * a damaged, foreign or out-of-bounds image is never used, and the load goes
 * on from the text with the same result; a changed signature file is a new
 * key; allocation failure at every point of a cached load is clean.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "util/util.h"
#include "ward_limits.h"
#include "ward/ward.h"

static char tmpdir[256], dbdir[512], cachedir[512];

/* Diagnostics as lines, in order: the first 16 KiB as text, all of them
 * in a running hash (FNV-1a) and a count. */
struct diags {
	char text[16384];
	size_t len;
	unsigned n;
	uint64_t hash;
};

static void on_diag(void *ctx, ward_err code, const char *file, unsigned long line, const char *msg)
{
	struct diags *d = ctx;
	char one[2048];
	int w = snprintf(one, sizeof one, "%d|%s|%lu|%s\n", (int)code, file ? file : "(none)", line,
			 msg);
	assert_true(w > 0 && (size_t)w < sizeof one);
	if (d->n == 0)
		d->hash = 14695981039346656037ull;
	for (int i = 0; i < w; i++)
		d->hash = (d->hash ^ (uint8_t)one[i]) * 1099511628211ull;
	if ((size_t)w < sizeof d->text - d->len) {
		memcpy(d->text + d->len, one, (size_t)w + 1);
		d->len += (size_t)w;
	}
	d->n++;
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char p[1024];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void hex_of(const char *s, char *out)
{
	for (; *s; s++, out += 2)
		snprintf(out, 3, "%02x", (unsigned char)*s);
	*out = '\0';
}

/* The samples, and what each must be found as (NULL: clean). */
static const struct sample {
	const char *data;
	const char *expect;
} samples[] = {
	{"xx ward-image-body-one yy", "Ward.Test.Body-1.UNOFFICIAL"},
	{"..ward##image..", "Ward.Test.Body-2.UNOFFICIAL"},
	{"alpha-marker then beta-marker", "Ward.Test.Logic-1.UNOFFICIAL"},
	{"gamma-trigger and gamma-trogger42", "Ward.Test.Pcre-1.UNOFFICIAL"},
	{"the hashed sample file\n", "Ward.Test.Hash-1.UNOFFICIAL"},
	{"nothing to see here at all", NULL},
	{"alpha-marker alone", NULL},
};

static void write_set(void)
{
	char h1[128], h2[128], h3[128], h4[128], line[4096];
	hex_of("ward-image-body-one", h1);
	snprintf(line, sizeof line,
		 "Ward.Test.Body-1:0:*:%s\n"
		 "Ward.Test.Body-2:0:*:77617264{2-4}696d616765\n"
		 "Ward.Test.Broken:0:*:zz\n",
		 h1);
	write_text(dbdir, "t.ndb", line);
	hex_of("alpha-marker", h1);
	hex_of("beta-marker", h2);
	hex_of("gamma-trigger", h3);
	hex_of("icon", h4);
	snprintf(line, sizeof line,
		 "Ward.Test.Logic-1;Engine:51-255,Target:0;0&1;%s;%s\n"
		 "Ward.Test.Pcre-1;Engine:81-255,Target:0;0&1;%s;0/gamma-(trig|trog)ger[0-9]+/\n"
		 "Ward.Test.Icon-1;Engine:51-255,Target:1,IconGroup1:x;0;%s\n",
		 h1, h2, h3, h4);
	write_text(dbdir, "t.ldb", line);
	/* MD5 of "the hashed sample file\n", 23 bytes. */
	write_text(dbdir, "t.hdb", "eeaa28a7c3c884fc41fa1cd29a8dd948:23:Ward.Test.Hash-1\n");
	write_text(dbdir, "notes.txt", "not a database\n");
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/ward-image-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(dbdir, sizeof dbdir, "%s/db", tmpdir);
	snprintf(cachedir, sizeof cachedir, "%s/cache", tmpdir);
	if (mkdir(dbdir, 0700) != 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	remove_tree(tmpdir, 0);
	return 0;
}

/* Each test starts from the same set and an empty cache. */
static int setup(void **state)
{
	(void)state;
	static const char *const extra[] = {"u.ndb", "v.ndb", "flood.ndb"};
	char p[1024];
	for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", dbdir, extra[i]);
		(void)unlink(p);
	}
	if (access(cachedir, F_OK) == 0)
		remove_tree(cachedir, 0);
	write_set();
	return 0;
}

static ward_db *load(const char *cache, struct diags *d)
{
	const char *paths[] = {dbdir};
	ward_load_opts o = {on_diag, d, 0, cache};
	ward_db *db = NULL;
	memset(d, 0, sizeof *d);
	assert_int_equal(ward_db_load(paths, 1, &o, &db), WARD_OK);
	assert_non_null(db);
	return db;
}

/* Every sample's detections, one line each. */
static void verdicts(const ward_db *db, char *out, size_t n)
{
	ward_limits lim;
	ward_limits_default(&lim);
	ward_scanner *s = NULL;
	assert_int_equal(ward_scanner_new(db, &lim, WARD_SCAN_ALLMATCH, &s), WARD_OK);
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		const ward_report *r = NULL;
		assert_int_equal(ward_scanner_scan_mem(s, samples[i].data, strlen(samples[i].data),
						       "sample", &r),
				 WARD_OK);
		int w = snprintf(out + at, n - at, "%zu:", i);
		at += (size_t)w;
		for (size_t k = 0; k < r->ndetections; k++) {
			w = snprintf(out + at, n - at, " %s", r->detections[k].name);
			at += (size_t)w;
		}
		if (samples[i].expect)
			assert_int_equal(r->ndetections, 1);
		else
			assert_int_equal(r->ndetections, 0);
		if (samples[i].expect)
			assert_string_equal(r->detections[0].name, samples[i].expect);
		w = snprintf(out + at, n - at, "\n");
		at += (size_t)w;
		assert_true(at < n);
	}
	ward_scanner_free(s);
}

static void assert_same_db(const ward_db *a, const ward_db *b)
{
	for (int c = 0; c < WARD_COUNT__MAX; c++)
		if (c != WARD_COUNT_CACHED)
			assert_int_equal(ward_db_count(a, (ward_count)c),
					 ward_db_count(b, (ward_count)c));
	const char *fa, *fb;
	uint64_t ca, cb;
	size_t i = 0;
	for (; ward_db_unsupported(a, i, &fa, &ca); i++) {
		assert_true(ward_db_unsupported(b, i, &fb, &cb));
		assert_string_equal(fa, fb);
		assert_int_equal(ca, cb);
	}
	assert_false(ward_db_unsupported(b, i, &fb, &cb));
	static char va[4096], vb[4096];
	verdicts(a, va, sizeof va);
	verdicts(b, vb, sizeof vb);
	assert_string_equal(va, vb);
}

/* The path of the one image in the cache. */
static void image_path(char *out, size_t n)
{
	DIR *d = opendir(cachedir);
	unsigned found = 0;
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d));) {
		size_t l = strlen(de->d_name);
		if (l > 5 && !strcmp(de->d_name + l - 5, ".wimg")) {
			snprintf(out, n, "%s/%s", cachedir, de->d_name);
			found++;
		}
	}
	closedir(d);
	assert_int_equal(found, 1);
}

/* The first load compiles and stores the image, the second reads it: the
 * same database, and the same diagnostics in the same order (a bad line, an
 * unsupported feature, a file that is not a database). */
static void test_image_same_db(void **state)
{
	(void)state;
	static struct diags d0, d1, d2;
	ward_db *ref = load(NULL, &d0);
	ward_db *miss = load(cachedir, &d1);
	ward_db *hit = load(cachedir, &d2);
	assert_int_equal(ward_db_count(ref, WARD_COUNT_CACHED), 0);
	assert_int_equal(ward_db_count(miss, WARD_COUNT_CACHED), 0);
	assert_int_equal(ward_db_count(hit, WARD_COUNT_CACHED), 2);
	assert_int_equal(ward_db_count(ref, WARD_COUNT_BAD_LINES), 1);
	assert_int_equal(ward_db_count(ref, WARD_COUNT_UNSUPPORTED), 1);
	assert_true(d0.n >= 3);
	assert_non_null(strstr(d0.text, "t.ndb|3|"));
	assert_non_null(strstr(d0.text, "notes.txt|0|"));
	assert_string_equal(d0.text, d1.text);
	assert_string_equal(d0.text, d2.text);
	assert_same_db(ref, miss);
	assert_same_db(ref, hit);
	ward_db_free(ref);
	ward_db_free(miss);
	ward_db_free(hit);
}

static void rewrite_digest(const char *path)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	size_t len = (size_t)st.st_size;
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, len, 0), (ssize_t)len);
	assert_int_equal(EVP_Digest(buf + 80, len - 80, buf + 40, NULL, EVP_sha256(), NULL), 1);
	assert_int_equal(pwrite(fd, buf + 40, 32, 40), 32);
	free(buf);
	close(fd);
}

static void patch_u64(const char *path, off_t at, uint64_t v)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	assert_int_equal(pwrite(fd, b, 8, at), 8);
	close(fd);
}

static uint64_t read_u64(const char *path, off_t at)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	uint8_t b[8];
	assert_int_equal(pread(fd, b, 8, at), 8);
	close(fd);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

/* Load with the image damaged by damage(); it must not be used, the load
 * must match the text's, and the image must be written again. */
static void expect_refused(const ward_db *ref, const struct diags *dref, const char *what,
			   void (*damage)(const char *path))
{
	char path[1024];
	struct diags d;
	ward_db_free(load(cachedir, &d)); /* make sure the image exists */
	image_path(path, sizeof path);
	damage(path);
	ward_db *db = load(cachedir, &d);
	if (ward_db_count(db, WARD_COUNT_CACHED) == 2)
		fail_msg("a damaged image was used: %s", what);
	assert_string_equal(d.text, dref->text);
	assert_same_db(ref, db);
	ward_db_free(db);
	db = load(cachedir, &d);
	assert_int_equal(ward_db_count(db, WARD_COUNT_CACHED), 2);
	assert_same_db(ref, db);
	ward_db_free(db);
}

static void flip_body_byte(const char *path)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t b;
	assert_int_equal(pread(fd, &b, 1, 200), 1);
	b ^= 0x40;
	assert_int_equal(pwrite(fd, &b, 1, 200), 1);
	close(fd);
}

static void truncate_file(const char *path) { assert_int_equal(truncate(path, 100), 0); }

static void make_group_writable(const char *path) { assert_int_equal(chmod(path, 0660), 0); }

static void other_key(const char *path)
{
	/* A valid image under another name: the key inside does not match. */
	char other[1100];
	snprintf(other, sizeof other, "%s.tmpcopy", path);
	assert_int_equal(rename(path, other), 0);
	patch_u64(other, 8, read_u64(other, 8) ^ 1);
	assert_int_equal(rename(other, path), 0);
}

/* The section table (body offset 0: (offset, length) pairs) made to point
 * outside the body, or a pool one element short, with a digest that
 * verifies: the bounds checks, not the digest, refuse it. */
static void section_past_end(const char *path)
{
	patch_u64(path, 80 + 16 * 2, read_u64(path, 80 + 16 * 2) + (1u << 30)); /* body offset */
	rewrite_digest(path);
}

static void pool_short(const char *path)
{
	patch_u64(path, 80 + 16 * 3 + 8, read_u64(path, 80 + 16 * 3 + 8) - 8); /* nodes length */
	rewrite_digest(path);
}

static void names_unterminated(const char *path)
{
	uint64_t off = read_u64(path, 80 + 16 * 1), len = read_u64(path, 80 + 16 * 1 + 8);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0 && len > 0);
	assert_int_equal(pwrite(fd, "X", 1, (off_t)(80 + off + len - 1)), 1);
	close(fd);
	rewrite_digest(path);
}

static void test_image_refused(void **state)
{
	(void)state;
	struct diags dref;
	ward_db *ref = load(NULL, &dref);
	expect_refused(ref, &dref, "a flipped byte", flip_body_byte);
	expect_refused(ref, &dref, "truncated", truncate_file);
	expect_refused(ref, &dref, "group-writable", make_group_writable);
	expect_refused(ref, &dref, "another key", other_key);
	expect_refused(ref, &dref, "a section past the end", section_past_end);
	expect_refused(ref, &dref, "a pool one element short", pool_short);
	expect_refused(ref, &dref, "names without a final NUL", names_unterminated);
	ward_db_free(ref);
}

/* A changed signature file is another key: the new signature is used at
 * once; the old bytes again find the old image. */
static void test_image_changed_set(void **state)
{
	(void)state;
	struct diags d;
	char h[64], line[256];
	ward_db_free(load(cachedir, &d));
	hex_of("the newly added one", h);
	snprintf(line, sizeof line, "Ward.Test.Added:0:*:%s\n", h);
	write_text(dbdir, "u.ndb", line);
	ward_db *db = load(cachedir, &d);
	assert_int_not_equal(ward_db_count(db, WARD_COUNT_CACHED), 2);
	ward_scanner *s = NULL;
	const ward_report *r = NULL;
	assert_int_equal(ward_scanner_new(db, NULL, 0, &s), WARD_OK);
	assert_int_equal(ward_scanner_scan_mem(s, "xx the newly added one", 22, "m", &r), WARD_OK);
	assert_int_equal(r->ndetections, 1);
	assert_string_equal(r->detections[0].name, "Ward.Test.Added.UNOFFICIAL");
	ward_scanner_free(s);
	ward_db_free(db);
	char p[1024];
	snprintf(p, sizeof p, "%s/u.ndb", dbdir);
	assert_int_equal(unlink(p), 0);
	db = load(cachedir, &d);
	assert_int_equal(ward_db_count(db, WARD_COUNT_CACHED), 2);
	assert_int_equal(ward_db_count(db, WARD_COUNT_BODY), 2);
	ward_db_free(db);
}

static unsigned count_suffix(const char *dir, const char *suffix)
{
	unsigned n = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d));) {
		size_t l = strlen(de->d_name), sl = strlen(suffix);
		n += l > sl && !strcmp(de->d_name + l - sl, suffix);
	}
	closedir(d);
	return n;
}

/* Every new set makes a new image (and new Vectorscan files): only the
 * WARD_MAX_CACHED_IMAGES most recently used stay, the one in use among
 * them; temporaries of dead writers go after an hour. */
static void test_image_eviction(void **state)
{
	(void)state;
	struct diags d;
	char h[64], line[256], p[1024];
	ward_db_free(load(cachedir, &d)); /* the first image, used again below */
	snprintf(p, sizeof p, "%s/%064d.wimg.Ab12Cd", cachedir, 0);
	write_text(cachedir, strrchr(p, '/') + 1, "dead");
	struct timespec old[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	char fresh[1024];
	snprintf(fresh, sizeof fresh, "%s/%064d.wimg.Ef34Gh", cachedir, 1);
	write_text(cachedir, strrchr(fresh, '/') + 1, "being written");
	for (int i = 0; i < 6; i++) {
		snprintf(line, sizeof line, "eviction round %d", i);
		hex_of(line, h);
		snprintf(line, sizeof line, "Ward.Test.Round:0:*:%s\n", h);
		write_text(dbdir, "v.ndb", line);
		ward_db_free(load(cachedir, &d));
		assert_true(count_suffix(cachedir, ".wimg") <= WARD_MAX_CACHED_IMAGES);
		assert_true(count_suffix(cachedir, ".hsdb") <= WARD_MAX_CACHED_HSDB);
	}
	assert_int_equal(count_suffix(cachedir, ".wimg"), WARD_MAX_CACHED_IMAGES);
	assert_int_not_equal(access(p, F_OK), 0);
	assert_int_equal(access(fresh, F_OK), 0);
	/* The last set is still there. */
	ward_db *db = load(cachedir, &d);
	assert_int_equal(ward_db_count(db, WARD_COUNT_CACHED), 2);
	ward_db_free(db);
	snprintf(p, sizeof p, "%s/v.ndb", dbdir);
	assert_int_equal(unlink(p), 0);
}

/* WARD_MAX_IMAGE_DIAGS: a load with more to say than an image keeps is not
 * stored, and says all of it every time. */
static void test_image_diag_limit(void **state)
{
	(void)state;
	static struct diags d1, d2;
	const unsigned nbad = 60000; /* over 100 bytes each as stored: past 4 MiB */
	char p[1024];
	snprintf(p, sizeof p, "%s/flood.ndb", dbdir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	for (unsigned i = 0; i < nbad; i++)
		fprintf(f, "Ward.Test.Flood-%u:0:*:zz\n", i);
	assert_int_equal(fclose(f), 0);
	ward_db *a = load(cachedir, &d1);
	ward_db *b = load(cachedir, &d2);
	assert_int_equal(ward_db_count(a, WARD_COUNT_BAD_LINES), nbad + 1);
	assert_int_equal(ward_db_count(b, WARD_COUNT_BAD_LINES), nbad + 1);
	assert_int_not_equal(ward_db_count(b, WARD_COUNT_CACHED), 2);
	assert_true(d1.n > nbad && d1.n == d2.n);
	assert_true(d1.hash == d2.hash);
	assert_string_equal(d1.text, d2.text);
	assert_int_equal(count_suffix(cachedir, ".wimg"), 0);
	assert_same_db(a, b);
	ward_db_free(a);
	ward_db_free(b);
	assert_int_equal(unlink(p), 0);
}

/* WARD_MAX_CACHE_ENTRIES: trimming the cache directory looks at that many
 * entries per store; a directory flooded with dead temporaries is cleaned
 * over a few stores, never in one unbounded walk. */
static void test_image_trim_bounded(void **state)
{
	(void)state;
	struct diags d;
	char name[128], p[1024];
	ward_db_free(load(cachedir, &d));
	const unsigned flood = WARD_MAX_CACHE_ENTRIES + 1000;
	struct timespec old[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
	for (unsigned i = 0; i < flood; i++) {
		snprintf(name, sizeof name, "%064u.wimg.%06u", i, i);
		write_text(cachedir, name, "");
		snprintf(p, sizeof p, "%s/%s", cachedir, name);
		assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	}
	unsigned left = flood, rounds = 0;
	while (left > 0 && rounds < 5) {
		char img[1024];
		image_path(img, sizeof img);
		assert_int_equal(unlink(img), 0); /* the next load stores, and trims */
		ward_db *db = load(cachedir, &d);
		assert_int_not_equal(ward_db_count(db, WARD_COUNT_CACHED), 2);
		ward_db_free(db);
		/* count_suffix needs a suffix: every temporary ends in 6 digits */
		unsigned now = 0;
		DIR *dir = opendir(cachedir);
		assert_non_null(dir);
		for (struct dirent *de; (de = readdir(dir));)
			now += strstr(de->d_name, ".wimg.") != NULL;
		closedir(dir);
		if (rounds == 0)
			assert_true(now > 0 && now < flood);
		left = now;
		rounds++;
	}
	assert_int_equal(left, 0);
	assert_true(rounds >= 2);
}

/* Allocation failure at every point of a load from the image: a clean
 * error or a good database, never a crash or a leak (LeakSanitizer). */
static void test_image_alloc_failure(void **state)
{
	(void)state;
	struct diags d;
	ward_db_free(load(cachedir, &d));
	const char *paths[] = {dbdir};
	ward_load_opts o = {NULL, NULL, 0, cachedir};
	bool succeeded = false;
	for (long n = 0; n < 100000 && !succeeded; n++) {
		ward_db *db = NULL;
		ward_alloc_fail_after(n);
		ward_err e = ward_db_load(paths, 1, &o, &db);
		ward_alloc_fail_after(-1);
		if (e == WARD_OK) {
			assert_non_null(db);
			succeeded = true;
		} else {
			assert_null(db);
			assert_true(e == WARD_ENOMEM || e == WARD_EENGINE);
		}
		ward_db_free(db);
	}
	assert_true(succeeded);
	ward_db *db = load(cachedir, &d);
	assert_int_equal(ward_db_count(db, WARD_COUNT_CACHED), 2);
	ward_db_free(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_image_same_db, setup),
		cmocka_unit_test_setup(test_image_refused, setup),
		cmocka_unit_test_setup(test_image_changed_set, setup),
		cmocka_unit_test_setup(test_image_eviction, setup),
		cmocka_unit_test_setup(test_image_diag_limit, setup),
		cmocka_unit_test_setup(test_image_trim_bounded, setup),
		cmocka_unit_test_setup(test_image_alloc_failure, setup),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
