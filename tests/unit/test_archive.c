/* Container walker (lib/formats/archive.c): archives made at run time with
 * libarchive's writer, Debian's ClamAV test files, every limit, and broken
 * input (truncated, bit-flipped). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "formats/formats.h"

#define CLAM_MD5 "aa15bcf478d165efd2065190eb473bcb" /* clam.exe, the test "virus" */

/* ---- collecting members ---- */
struct got {
	unsigned n;
	char names[8][256];
	uint8_t *data[8];
	size_t len[8];
	ward_err fail_at; /* return this ... */
	unsigned fail_n;  /* ... from the fail_n-th call (1-based; 0 never) */
};

static ward_err collect(void *ctx, const char *name, const uint8_t *data, size_t len)
{
	struct got *g = ctx;
	g->n++;
	if (g->fail_n && g->n == g->fail_n)
		return g->fail_at;
	if (g->n <= 8) {
		unsigned i = g->n - 1;
		snprintf(g->names[i], sizeof g->names[i], "%s", name);
		g->data[i] = malloc(len ? len : 1);
		assert_non_null(g->data[i]);
		memcpy(g->data[i], data, len);
		g->len[i] = len;
	}
	return WARD_OK;
}

static void got_free(struct got *g)
{
	for (unsigned i = 0; i < 8; i++)
		free(g->data[i]);
	memset(g, 0, sizeof *g);
}

static struct archive_limits lim_default(void)
{
	struct archive_limits l = {.max_filesize = 1u << 20,
				   .max_files = 1000,
				   .max_total = 1u << 24,
				   .deadline_ms = 0};
	return l;
}

static ward_err walk(const uint8_t *b, size_t n, const struct archive_limits *l, struct got *g,
		     unsigned *notes)
{
	char msg[256];
	return archive_walk(b, n, l, collect, g, notes, msg, sizeof msg);
}

/* ---- building archives with libarchive's writer ---- */
struct member {
	const char *name;
	const void *data;
	size_t len;
};

/* format: an ARCHIVE_FORMAT_* code or -1 for raw; filter: ARCHIVE_FILTER_*. */
static uint8_t *build(int format, int filter, const struct member *m, size_t nm, size_t *outlen,
		      const char *options)
{
	size_t cap = 64u << 20;
	uint8_t *buf = malloc(cap);
	assert_non_null(buf);
	struct archive *a = archive_write_new();
	assert_non_null(a);
	if (format < 0)
		assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
	else
		assert_int_equal(archive_write_set_format(a, format), ARCHIVE_OK);
	if (filter != ARCHIVE_FILTER_NONE)
		assert_int_equal(archive_write_add_filter(a, filter), ARCHIVE_OK);
	if (options && archive_write_set_options(a, options) != ARCHIVE_OK) {
		archive_write_free(a);
		free(buf);
		return NULL;
	}
	if (options && strstr(options, "encryption"))
		archive_write_set_passphrase(a, "secret");
	archive_write_set_bytes_in_last_block(a, 1);
	size_t used = 0;
	assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
	for (size_t i = 0; i < nm; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)m[i].len);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (m[i].len)
			assert_int_equal(archive_write_data(a, m[i].data, m[i].len),
					 (la_ssize_t)m[i].len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*outlen = used;
	return buf;
}

static char *md5hex(const uint8_t *p, size_t n, char out[33])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	assert_int_equal(EVP_Digest(p, n, d, &dl, EVP_md5(), NULL), 1);
	for (size_t i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	return out;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4u << 20;
	uint8_t *b = malloc(cap);
	assert_non_null(b);
	*len = fread(b, 1, cap, f);
	fclose(f);
	return b;
}

static const char text1[] = "first member\n";
static const char text2[] = "second member, a little longer\n";

/* ---- tests ---- */

static void test_formats_roundtrip(void **state)
{
	(void)state;
	static const struct {
		int format;
		const char *what;
	} fmts[] = {
		{ARCHIVE_FORMAT_ZIP, "zip"},
		{ARCHIVE_FORMAT_TAR_USTAR, "ustar"},
		{ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, "pax"},
		{ARCHIVE_FORMAT_TAR_GNUTAR, "gnutar"},
		{ARCHIVE_FORMAT_7ZIP, "7z"},
		{ARCHIVE_FORMAT_CPIO_SVR4_NOCRC, "cpio newc"},
		{ARCHIVE_FORMAT_CPIO_POSIX, "cpio odc"},
		{ARCHIVE_FORMAT_ISO9660, "iso9660"},
	};
	struct member m[] = {{"a.txt", text1, sizeof text1 - 1},
			     {"dir/b.txt", text2, sizeof text2 - 1}};
	for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
		size_t n;
		uint8_t *b = build(fmts[i].format, ARCHIVE_FILTER_NONE, m, 2, &n, NULL);
		if (!b)
			continue; /* writer not built in */
		struct got g = {0};
		unsigned notes = 99;
		struct archive_limits l = lim_default();
		ward_err e = walk(b, n, &l, &g, &notes);
		if (e != WARD_OK || g.n != 2 || notes != 0)
			fail_msg("%s: err %d members %u notes %u", fmts[i].what, e, g.n, notes);
		/* Members in archive order (ISO 9660 and xar may reorder). */
		unsigned ia = strstr(g.names[0], "a.txt") ? 0 : 1, ib = 1 - ia;
		if (g.len[ia] != sizeof text1 - 1 || memcmp(g.data[ia], text1, g.len[ia]) != 0 ||
		    g.len[ib] != sizeof text2 - 1 || memcmp(g.data[ib], text2, g.len[ib]) != 0 ||
		    !strstr(g.names[ib], "b.txt"))
			fail_msg("%s: wrong member data or names (%s %zu [%.*s], %s %zu)",
				 fmts[i].what, g.names[0], g.len[0], (int)g.len[0],
				 (char *)g.data[0], g.names[1], g.len[1]);
		got_free(&g);
		free(b);
	}
}

/* A compressed stream is one member, its decompressed bytes: a .tar.gz
 * yields the tar (gz -> tar -> files, as ClamAV nests it). */
static void test_compressed_streams(void **state)
{
	(void)state;
	static const int filters[] = {ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_BZIP2, ARCHIVE_FILTER_XZ,
				      ARCHIVE_FILTER_LZMA, ARCHIVE_FILTER_COMPRESS};
	struct member m[] = {{"a.txt", text1, sizeof text1 - 1}};
	for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
		size_t n;
		uint8_t *b = build(-1, filters[i], m, 1, &n, NULL);
		struct got g = {0};
		unsigned notes;
		struct archive_limits l = lim_default();
		assert_int_equal(walk(b, n, &l, &g, &notes), WARD_OK);
		assert_int_equal(g.n, 1);
		assert_int_equal(notes, 0);
		assert_int_equal(g.len[0], sizeof text1 - 1);
		assert_memory_equal(g.data[0], text1, g.len[0]);
		got_free(&g);
		free(b);
	}
	/* tar.gz: one member (the tar), whose walk gives the file. */
	size_t n;
	uint8_t *b = build(ARCHIVE_FORMAT_TAR_USTAR, ARCHIVE_FILTER_GZIP, m, 1, &n, NULL);
	struct got g = {0}, g2 = {0};
	unsigned notes;
	struct archive_limits l = lim_default();
	assert_int_equal(walk(b, n, &l, &g, &notes), WARD_OK);
	assert_int_equal(g.n, 1);
	assert_int_equal(ftype_detect(g.data[0], g.len[0]), FT_TAR);
	assert_int_equal(walk(g.data[0], g.len[0], &l, &g2, &notes), WARD_OK);
	assert_int_equal(g2.n, 1);
	assert_memory_equal(g2.data[0], text1, sizeof text1 - 1);
	got_free(&g);
	got_free(&g2);
	free(b);
}

static void test_not_archives(void **state)
{
	(void)state;
	static const char *const inputs[] = {
		"just some text, not an archive\n",
		"MZ\x90\x00",
		"%PDF-1.4\n",
		"",
		"\x1f\x8b",
		"BZh9",
		"<html><body>",
		"#mtree\n./etc/passwd type=file contents=/etc/passwd\n",
	};
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		struct got g = {0};
		unsigned notes;
		char msg[128];
		struct archive_limits l = lim_default();
		ward_err e = archive_walk((const uint8_t *)inputs[i], strlen(inputs[i]), &l,
					  collect, &g, &notes, msg, sizeof msg);
		if (e != WARD_EUNSUPPORTED || g.n != 0)
			fail_msg("input %zu: err %d members %u", i, e, g.n);
		got_free(&g);
	}
	uint8_t rnd[4096];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof rnd; i++) {
		x = x * 1103515245u + 12345u;
		rnd[i] = (uint8_t)(x >> 16);
	}
	struct got g = {0};
	unsigned notes;
	struct archive_limits l = lim_default();
	assert_int_equal(walk(rnd, sizeof rnd, &l, &g, &notes), WARD_EUNSUPPORTED);
	assert_int_equal(g.n, 0);
	/* API misuse. */
	assert_int_equal(archive_walk(NULL, 5, &l, collect, &g, &notes, NULL, 0), WARD_EINVAL);
	assert_int_equal(archive_walk(rnd, 5, NULL, collect, &g, &notes, NULL, 0), WARD_EINVAL);
	assert_int_equal(archive_walk(rnd, 5, &l, NULL, &g, &notes, NULL, 0), WARD_EINVAL);
}

static void test_clamav_testfiles(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		bool opens;
		unsigned levels; /* walks needed to reach clam.exe (compressed streams nest) */
	} files[] = {
		{"clam.zip", true, 1},         {"clam.7z", true, 1},
		{"clam.cab", true, 1},         {"clam.newc.cpio", true, 1},
		{"clam.odc.cpio", true, 1},    {"clam.bin-le.cpio", true, 1},
		{"clam.bin-be.cpio", true, 1}, {"clam.tar.gz", true, 2},
		{"clam.exe.bz2", true, 1},     {"clam.arj", false, 0},
		{"clam.exe", false, 0},        {"clam.ole.doc", false, 0},
	};
	unsigned seen = 0;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[512];
		size_t n;
		snprintf(path, sizeof path, "/usr/share/clamav-testfiles/%s", files[i].name);
		uint8_t *b = slurp(path, &n);
		if (!b)
			continue;
		seen++;
		struct archive_limits l = lim_default();
		struct got g = {0};
		unsigned notes;
		ward_err e = walk(b, n, &l, &g, &notes);
		if (!files[i].opens) {
			if (e != WARD_EUNSUPPORTED)
				fail_msg("%s: expected unsupported, got %d", files[i].name, e);
			got_free(&g);
			free(b);
			continue;
		}
		if (e != WARD_OK || g.n != 1 || notes != 0)
			fail_msg("%s: err %d members %u notes %u", files[i].name, e, g.n, notes);
		for (unsigned lev = 1; lev < files[i].levels; lev++) {
			struct got inner = {0};
			assert_int_equal(walk(g.data[0], g.len[0], &l, &inner, &notes), WARD_OK);
			assert_int_equal(inner.n, 1);
			got_free(&g);
			g = inner;
		}
		char hex[33];
		if (strcmp(md5hex(g.data[0], g.len[0], hex), CLAM_MD5) != 0)
			fail_msg("%s: member md5 %s", files[i].name, hex);
		got_free(&g);
		free(b);
	}
	if (!seen)
		skip();
}

static ward_err count_only(void *ctx, const char *name, const uint8_t *data, size_t len)
{
	(void)name;
	(void)data;
	(void)len;
	(*(unsigned *)ctx)++;
	return WARD_OK;
}

static void test_max_files(void **state)
{
	(void)state;
	/* 100,000 empty members (zip: about 10 MB), MaxFiles 1000. */
	size_t nm = 100000;
	struct member *m = calloc(nm, sizeof *m);
	char *names = malloc(nm * 16);
	assert_non_null(m);
	assert_non_null(names);
	for (size_t i = 0; i < nm; i++) {
		snprintf(names + 16 * i, 16, "f%zu", i);
		m[i].name = names + 16 * i;
		m[i].data = "";
		m[i].len = 0;
	}
	size_t n;
	uint8_t *b = build(ARCHIVE_FORMAT_CPIO_SVR4_NOCRC, ARCHIVE_FILTER_NONE, m, nm, &n, NULL);
	struct archive_limits l = lim_default();
	unsigned calls = 0, notes;
	assert_int_equal(archive_walk(b, n, &l, count_only, &calls, &notes, NULL, 0), WARD_OK);
	assert_int_equal(calls, 1000);
	assert_true(notes & AN_MAX_FILES);
	/* No limit hit when it is high enough. */
	l.max_files = 200000;
	calls = 0;
	assert_int_equal(archive_walk(b, n, &l, count_only, &calls, &notes, NULL, 0), WARD_OK);
	assert_int_equal(calls, 100000);
	assert_int_equal(notes, 0);
	free(b);
	free(m);
	free(names);
}

static void test_max_filesize(void **state)
{
	(void)state;
	static uint8_t big[3000];
	memset(big, 'B', sizeof big);
	struct member m[] = {{"big", big, sizeof big}, {"small", text1, sizeof text1 - 1}};
	struct archive_limits l = lim_default();
	l.max_filesize = 1000;
	/* tar (and every format but zip): the big member is skipped and noted. */
	size_t n;
	uint8_t *b = build(ARCHIVE_FORMAT_TAR_USTAR, ARCHIVE_FILTER_NONE, m, 2, &n, NULL);
	struct got g = {0};
	unsigned notes;
	assert_int_equal(walk(b, n, &l, &g, &notes), WARD_OK);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.names[0], "small");
	assert_int_equal(notes, AN_MAX_FILESIZE);
	got_free(&g);
	free(b);
	/* 7z: sizes come from the data; same outcome. */
	b = build(ARCHIVE_FORMAT_7ZIP, ARCHIVE_FILTER_NONE, m, 2, &n, NULL);
	assert_int_equal(walk(b, n, &l, &g, &notes), WARD_OK);
	assert_int_equal(g.n, 1);
	assert_int_equal(notes, AN_MAX_FILESIZE);
	got_free(&g);
	free(b);
	/* zip: ClamAV trims the member to MaxFileSize and scans that, silently. */
	b = build(ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, m, 2, &n, NULL);
	assert_int_equal(walk(b, n, &l, &g, &notes), WARD_OK);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.len[0], 1000);
	assert_int_equal(notes, 0);
	got_free(&g);
	free(b);
	/* A compressed stream larger than the limit: skipped, noted. */
	b = build(-1, ARCHIVE_FILTER_GZIP, m, 1, &n, NULL);
	assert_int_equal(walk(b, n, &l, &g, &notes), WARD_OK);
	assert_int_equal(g.n, 0);
	assert_int_equal(notes, AN_MAX_FILESIZE);
	got_free(&g);
	free(b);
}

static void test_max_total(void **state)
{
	(void)state;
	static uint8_t kb[1000];
	memset(kb, 'K', sizeof kb);
	struct member m[5] = {{"1", kb, 1000},
			      {"2", kb, 1000},
			      {"3", kb, 1000},
			      {"4", kb, 1000},
			      {"5", kb, 1000}};
	size_t n;
	uint8_t *b = build(ARCHIVE_FORMAT_TAR_USTAR, ARCHIVE_FILTER_NONE, m, 5, &n, NULL);
	struct archive_limits l = lim_default();
	l.max_total = 2500;
	struct got g = {0};
	unsigned notes;
	assert_int_equal(walk(b, n, &l, &g, &notes), WARD_OK);
	assert_int_equal(g.n, 2);
	assert_int_equal(notes, AN_MAX_SCANSIZE);
	got_free(&g);
	free(b);
}

static void test_ratio_and_bombs(void **state)
{
	(void)state;
	size_t zlen = 48u << 20;
	uint8_t *zeros = calloc(1, zlen);
	assert_non_null(zeros);
	struct member m[] = {{"zeros", zeros, zlen}};
	struct archive_limits l = lim_default();
	l.max_filesize = 64u << 20;
	l.max_total = 64u << 20;
	/* bzip2 squeezes 48 MiB of zeros to a few dozen bytes: a bomb. */
	size_t n;
	uint8_t *b = build(-1, ARCHIVE_FILTER_BZIP2, m, 1, &n, NULL);
	assert_true(n < 4096);
	struct got g = {0};
	unsigned notes;
	assert_int_equal(walk(b, n, &l, &g, &notes), WARD_OK);
	assert_int_equal(g.n, 0);
	assert_true(notes & AN_RATIO);
	got_free(&g);
	free(b);
	/* A deflate zip bomb of zeros (ratio about 1:1000) stays under the
	 * ratio, and MaxFileSize bounds it: the first 1 MiB is delivered. */
	b = build(ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, m, 1, &n, NULL);
	l.max_filesize = 1u << 20;
	assert_int_equal(walk(b, n, &l, &g, &notes), WARD_OK);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len[0], 1u << 20);
	got_free(&g);
	free(b);
	free(zeros);
}

static void test_deadline(void **state)
{
	(void)state;
	struct member m[] = {{"a", text1, sizeof text1 - 1}, {"b", text2, sizeof text2 - 1}};
	size_t n;
	uint8_t *b = build(ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, m, 2, &n, NULL);
	struct archive_limits l = lim_default();
	l.deadline_ms = 1; /* long past */
	struct got g = {0};
	unsigned notes;
	assert_int_equal(walk(b, n, &l, &g, &notes), WARD_OK);
	assert_int_equal(g.n, 0);
	assert_int_equal(notes, AN_MAX_SCANTIME);
	l.deadline_ms = now_ms() + 60000;
	assert_int_equal(walk(b, n, &l, &g, &notes), WARD_OK);
	assert_int_equal(g.n, 2);
	got_free(&g);
	free(b);
}

static void test_callback_error_and_names(void **state)
{
	(void)state;
	char longname[6000];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	struct member m[] = {{longname, text1, sizeof text1 - 1}, {"b", text2, sizeof text2 - 1}};
	size_t n;
	uint8_t *b = build(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE, m, 2, &n, NULL);
	struct archive_limits l = lim_default();
	struct got g = {0};
	unsigned notes;
	assert_int_equal(walk(b, n, &l, &g, &notes), WARD_OK);
	assert_int_equal(g.n, 2);
	assert_int_equal(strlen(g.names[0]), 255); /* our copy's size; the walker's cap is 4096 */
	got_free(&g);
	g.fail_at = WARD_ENOMEM;
	g.fail_n = 1;
	assert_int_equal(walk(b, n, &l, &g, &notes), WARD_ENOMEM);
	assert_int_equal(g.n, 1);
	got_free(&g);
	free(b);
}

static ward_err name_len(void *ctx, const char *name, const uint8_t *data, size_t len)
{
	(void)data;
	(void)len;
	*(size_t *)ctx = strlen(name);
	return WARD_OK;
}

static void test_name_cap(void **state)
{
	(void)state;
	char longname[6000];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	struct member m[] = {{longname, text1, sizeof text1 - 1}};
	size_t n, got = 0;
	uint8_t *b = build(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE, m, 1, &n, NULL);
	struct archive_limits l = lim_default();
	unsigned notes;
	assert_int_equal(archive_walk(b, n, &l, name_len, &got, &notes, NULL, 0), WARD_OK);
	assert_int_equal(got, WARD_MAX_MEMBER_NAME);
	free(b);
}

/* Every prefix of an archive and many bit flips: the walk ends cleanly, and
 * corruption is reported with a message. */
static void test_truncated_and_flipped(void **state)
{
	(void)state;
	static const int fmts[] = {ARCHIVE_FORMAT_ZIP, ARCHIVE_FORMAT_TAR_USTAR,
				   ARCHIVE_FORMAT_7ZIP, ARCHIVE_FORMAT_CPIO_SVR4_NOCRC};
	struct member m[] = {{"a.txt", text1, sizeof text1 - 1},
			     {"b.txt", text2, sizeof text2 - 1}};
	for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
		size_t n;
		uint8_t *b = build(fmts[f], ARCHIVE_FILTER_NONE, m, 2, &n, NULL);
		struct archive_limits l = lim_default();
		bool saw_corrupt = false;
		for (size_t cut = 0; cut < n; cut++) {
			struct got g = {0};
			unsigned notes;
			char msg[256];
			ward_err e = archive_walk(b, cut, &l, collect, &g, &notes, msg, sizeof msg);
			assert_true(e == WARD_OK || e == WARD_EUNSUPPORTED);
			if (notes & AN_CORRUPT) {
				saw_corrupt = true;
				assert_true(msg[0] != '\0');
			}
			assert_true(g.n <= 2);
			got_free(&g);
		}
		assert_true(saw_corrupt);
		if (n == 0) {
			fail_msg("empty archive");
			return;
		}
		uint32_t x = 99;
		for (unsigned k = 0; k < 2000; k++) {
			uint8_t *c = malloc(n);
			memcpy(c, b, n);
			for (int j = 0; j < 3; j++) {
				x = x * 1103515245u + 12345u;
				c[(x >> 8) % n] ^= (uint8_t)(1u << ((x >> 4) & 7));
			}
			struct got g = {0};
			unsigned notes;
			ward_err e = walk(c, n, &l, &g, &notes);
			assert_true(e == WARD_OK || e == WARD_EUNSUPPORTED);
			got_free(&g);
			free(c);
		}
		free(b);
	}
}

/* A zip holding another zip (and a copy of itself): one level only. */
static void test_nested_one_level(void **state)
{
	(void)state;
	struct member m[] = {{"a.txt", text1, sizeof text1 - 1}};
	size_t n1;
	uint8_t *inner = build(ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, m, 1, &n1, NULL);
	struct member m2[] = {{"inner.zip", inner, n1}, {"again.zip", inner, n1}};
	size_t n2;
	uint8_t *outer = build(ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, m2, 2, &n2, NULL);
	struct archive_limits l = lim_default();
	struct got g = {0};
	unsigned notes;
	assert_int_equal(walk(outer, n2, &l, &g, &notes), WARD_OK);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.len[0], n1);
	assert_memory_equal(g.data[0], inner, n1);
	assert_int_equal(ftype_detect(g.data[0], g.len[0]), FT_ZIP);
	got_free(&g);
	free(inner);
	free(outer);
}

static void test_encrypted(void **state)
{
	(void)state;
	struct member m[] = {{"secret.txt", text1, sizeof text1 - 1}, {"plain", text2, 5}};
	size_t n;
	uint8_t *b = build(ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, m, 1, &n,
			   "zip:encryption=zipcrypt,zip:compression=store");
	if (!b) {
		skip();
		return;
	}
	struct archive_limits l = lim_default();
	struct got g = {0};
	unsigned notes;
	ward_err e = walk(b, n, &l, &g, &notes);
	assert_int_equal(e, WARD_OK);
	assert_int_equal(g.n, 0);
	assert_true(notes & AN_ENCRYPTED);
	got_free(&g);
	free(b);
}

static void test_alloc_failures(void **state)
{
	(void)state;
	struct member m[] = {{"a.txt", text1, sizeof text1 - 1},
			     {"b.txt", text2, sizeof text2 - 1}};
	size_t n;
	uint8_t *b = build(ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, m, 2, &n, NULL);
	struct archive_limits l = lim_default();
	for (long k = 0; k < 100; k++) {
		struct got g = {0};
		unsigned notes;
		ward_alloc_fail_after(k);
		ward_err e = walk(b, n, &l, &g, &notes);
		ward_alloc_fail_after(-1);
		got_free(&g);
		if (e == WARD_OK)
			break;
		assert_int_equal(e, WARD_ENOMEM);
	}
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats_roundtrip),
		cmocka_unit_test(test_compressed_streams),
		cmocka_unit_test(test_not_archives),
		cmocka_unit_test(test_clamav_testfiles),
		cmocka_unit_test(test_max_files),
		cmocka_unit_test(test_max_filesize),
		cmocka_unit_test(test_max_total),
		cmocka_unit_test(test_ratio_and_bombs),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_callback_error_and_names),
		cmocka_unit_test(test_name_cap),
		cmocka_unit_test(test_truncated_and_flipped),
		cmocka_unit_test(test_nested_one_level),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
