/*
 * ELF parsing. Expected values were observed with clamscan 1.4.6 on the same
 * generated files (target 6 .ndb signatures at EP+0, Sx+0, SL+0);
 * test_elf_clamscan_agreement re-checks generated and real ELF files against
 * clamscan and fails, not skips, when clamscan is missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "formats/formats.h"

struct tph {
	uint32_t type;
	uint64_t off, vaddr, filesz, memsz;
};
struct tsh {
	uint64_t addr, off, size;
};
struct telf {
	bool is64, be;
	uint64_t entry;
	const struct tph *ph;
	unsigned nph;
	const struct tsh *sh;
	unsigned nsh;
	size_t size;
	int phnum, shnum, phentsize, shentsize; /* -1: natural */
	uint64_t phoff, shoff;                  /* 0: natural */
};

static void put(uint8_t *b, size_t o, uint64_t v, unsigned n, bool be)
{
	for (unsigned i = 0; i < n; i++)
		b[o + i] = (uint8_t)(v >> (8 * (be ? n - 1 - i : i)));
}

static uint8_t *build_elf(const struct telf *t)
{
	uint8_t *b = calloc(1, t->size);
	assert_non_null(b);
	for (size_t i = 0; i < t->size; i++)
		b[i] = (uint8_t)((i * 2654435761u) >> 13);
	unsigned w = t->is64 ? 8 : 4, ehsz = t->is64 ? 64 : 52, phsz = t->is64 ? 56 : 32,
		 shsz = t->is64 ? 64 : 40;
	uint64_t phoff = t->phoff ? t->phoff : ehsz;
	uint64_t shoff = t->shoff ? t->shoff : phoff + (uint64_t)phsz * t->nph;
	bool be = t->be;
	memcpy(b,
	       "\x7f"
	       "ELF",
	       4);
	b[4] = t->is64 ? 2 : 1;
	b[5] = be ? 2 : 1;
	b[6] = 1;
	memset(b + 7, 0, 9);
	put(b, 16, 2, 2, be);
	put(b, 18, t->is64 ? 62 : 3, 2, be);
	put(b, 20, 1, 4, be);
	size_t o = 24;
	put(b, o, t->entry, w, be);
	put(b, o + w, phoff, w, be);
	put(b, o + (size_t)2 * w, shoff, w, be);
	o += (size_t)3 * w;
	put(b, o, 0, 4, be);
	put(b, o + 4, ehsz, 2, be);
	put(b, o + 6, t->phentsize >= 0 ? (unsigned)t->phentsize : phsz, 2, be);
	put(b, o + 8, t->phnum >= 0 ? (unsigned)t->phnum : t->nph, 2, be);
	put(b, o + 10, t->shentsize >= 0 ? (unsigned)t->shentsize : shsz, 2, be);
	put(b, o + 12, t->shnum >= 0 ? (unsigned)t->shnum : t->nsh, 2, be);
	put(b, o + 14, 0, 2, be);
	for (unsigned i = 0; i < t->nph; i++) {
		size_t p = phoff + (size_t)i * phsz;
		const struct tph *h = &t->ph[i];
		if (t->is64) {
			put(b, p, h->type, 4, be);
			put(b, p + 4, 5, 4, be);
			put(b, p + 8, h->off, 8, be);
			put(b, p + 16, h->vaddr, 8, be);
			put(b, p + 24, h->vaddr, 8, be);
			put(b, p + 32, h->filesz, 8, be);
			put(b, p + 40, h->memsz, 8, be);
			put(b, p + 48, 0x1000, 8, be);
		} else {
			put(b, p, h->type, 4, be);
			put(b, p + 4, h->off, 4, be);
			put(b, p + 8, h->vaddr, 4, be);
			put(b, p + 12, h->vaddr, 4, be);
			put(b, p + 16, h->filesz, 4, be);
			put(b, p + 20, h->memsz, 4, be);
			put(b, p + 24, 5, 4, be);
			put(b, p + 28, 0x1000, 4, be);
		}
	}
	for (unsigned i = 0; i < t->nsh; i++) {
		size_t p = shoff + (size_t)i * shsz;
		const struct tsh *s = &t->sh[i];
		memset(b + p, 0, shsz);
		put(b, p + 4, 1, 4, be);
		if (t->is64) {
			put(b, p + 8, 6, 8, be);
			put(b, p + 16, s->addr, 8, be);
			put(b, p + 24, s->off, 8, be);
			put(b, p + 32, s->size, 8, be);
		} else {
			put(b, p + 8, 6, 4, be);
			put(b, p + 12, s->addr, 4, be);
			put(b, p + 16, s->off, 4, be);
			put(b, p + 20, s->size, 4, be);
		}
	}
	return b;
}

static const struct tph stdph[] = {{6, 0x40, 0x400040, 0xe0, 0xe0},
				   {1, 0, 0x400000, 0x2000, 0x2000}};
static const struct tsh stdsh[] = {{0, 0, 0}, {0x401000, 0x1000, 0x100}, {0x401100, 0x1100, 0x200}};

static struct telf std_elf(bool is64, bool be)
{
	struct telf t = {is64, be, 0x401010, stdph, 2, stdsh, 3, 0x3000, -1, -1, -1, -1, 0, 0};
	return t;
}

static ward_err parse(const struct telf *t, struct exeinfo *e)
{
	uint8_t *b = build_elf(t);
	ward_err err = elf_parse(b, t->size, e);
	free(b);
	return err;
}

/* Sections are the section headers; the EP maps through the program headers. */
static void test_elf_classes_and_endianness(void **state)
{
	(void)state;
	for (int k = 0; k < 4; k++) {
		struct telf t = std_elf(k & 1, k & 2);
		struct exeinfo e;
		assert_int_equal(parse(&t, &e), WARD_OK);
		assert_int_equal(e.kind, EXE_ELF);
		assert_true(e.ep_valid);
		assert_int_equal(e.ep, 0x1010);
		assert_int_equal(e.nsections, 3);
		assert_int_equal(e.nstored, 3);
		assert_int_equal(e.sections[1].raw_offset, 0x1000);
		assert_int_equal(e.sections[2].raw_offset, 0x1100);
		assert_int_equal(e.sections[2].raw_size, 0x200);
		assert_int_equal(e.sections[2].rva, 0x401100);
	}
}

static void test_elf_entry_rules(void **state)
{
	(void)state;
	struct exeinfo e;
	struct telf t = std_elf(true, false);
	/* first covering program header of ANY type (here PT_PHDR) */
	t.entry = 0x400050;
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.ep, 0x50);
	/* p_memsz, not p_filesz, decides; the first match wins */
	static const struct tph mem[] = {{1, 0, 0x400000, 0x10, 0x100},
					 {1, 0x1000, 0x400000, 0x2000, 0x2000}};
	t.ph = mem;
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.ep, 0x50);
	/* entry 0 or no program headers: EP is offset 0 */
	t = std_elf(true, false);
	t.entry = 0;
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.ep, 0);
	t.entry = 0x401010;
	t.nph = 0;
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.ep, 0);
	/* unmappable entry point: no executable offsets at all */
	t = std_elf(true, false);
	t.entry = 0x900000;
	assert_int_equal(parse(&t, &e), WARD_ECORRUPT);
	assert_int_equal(e.kind, EXE_NONE);
	/* vaddr + memsz wraps in the word size: the wrapped header never matches */
	for (int is64 = 0; is64 < 2; is64++) {
		uint64_t top = is64 ? UINT64_MAX : UINT32_MAX;
		struct tph wr[] = {{1, 0x100, top - 0xfff, 0x100, 0x2000},
				   {1, 0, top - 0xff, 0x100, 0xf8}};
		struct telf tw = {is64,   false, top - 0xf, wr, 2,  stdsh, 3,
				  0x3000, -1,    -1,        -1, -1, 0,     0};
		assert_int_equal(parse(&tw, &e), WARD_OK);
		assert_int_equal(e.ep, 0xf0);
	}
	/* EI_DATA other than 1 reads as big-endian */
	t = std_elf(true, true);
	uint8_t *b = build_elf(&t);
	b[5] = 3;
	assert_int_equal(elf_parse(b, t.size, &e), WARD_OK);
	assert_int_equal(e.ep, 0x1010);
	b[4] = 3; /* unknown class */
	assert_int_equal(elf_parse(b, t.size, &e), WARD_ECORRUPT);
	free(b);
}

static void test_elf_limits(void **state)
{
	(void)state;
	struct exeinfo e;
	struct telf t = std_elf(true, false);
	t.phoff = 0x100;
	t.shoff = 0x2000;
	t.phnum = 129; /* ClamAV: more than 128 program headers is broken */
	assert_int_equal(parse(&t, &e), WARD_ECORRUPT);
	t.phnum = 128;
	assert_int_equal(parse(&t, &e), WARD_OK);
	t = std_elf(true, false);
	t.size = 0x8000;
	t.shoff = 0x100;
	t.shnum = 257; /* more than 256 sections */
	assert_int_equal(parse(&t, &e), WARD_ECORRUPT);
	t.shnum = 256;
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.nsections, 256);
	assert_int_equal(e.nstored, WARD_MAX_PE_SECTIONS);
	/* e_shentsize is checked even with no sections */
	t = std_elf(true, false);
	t.nsh = 0;
	t.shentsize = 7;
	assert_int_equal(parse(&t, &e), WARD_ECORRUPT);
	t.shentsize = -1;
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.nsections, 0);
	/* e_phentsize only when the program headers are used */
	t = std_elf(true, false);
	t.phentsize = 7;
	assert_int_equal(parse(&t, &e), WARD_ECORRUPT);
	t.entry = 0;
	assert_int_equal(parse(&t, &e), WARD_OK);
	/* tables past the end of the file */
	t = std_elf(false, false);
	t.shoff = 0x2fe0;
	t.size = 0x3000 + 0x100;
	t.nsh = 3;
	assert_int_equal(parse(&t, &e), WARD_OK);
	uint8_t *b = build_elf(&(struct telf){false, false, 0x401010, stdph, 2, stdsh, 0, 0x3040,
					      -1, 3, -1, -1, 0, 0x2fe0});
	assert_int_equal(elf_parse(b, 0x3040, &e), WARD_ECORRUPT);
	free(b);
	/* a section past the end of the file is kept, with no bytes in it */
	static const struct tsh far[] = {{0, 0x2ff0, 0x100}, {0, 0x9000, 0x10}};
	t = std_elf(true, false);
	t.sh = far;
	t.nsh = 2;
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.sections[0].raw_offset, 0x2ff0);
	assert_int_equal(e.sections[0].raw_size, 0x10);
	assert_int_equal(e.sections[1].raw_offset, 0x9000);
	assert_int_equal(e.sections[1].raw_size, 0);
}

static void test_elf_truncated_every_byte(void **state)
{
	(void)state;
	for (int k = 0; k < 4; k++) {
		struct telf t = std_elf(k & 1, k & 2);
		t.size = 0x400;
		static const struct tph ph[] = {{1, 0, 0x400000, 0x400, 0x400}};
		t.ph = ph;
		t.nph = 1;
		t.entry = 0x400200;
		static const struct tsh sh[] = {{0, 0, 0}, {0x400300, 0x300, 0x100}};
		t.sh = sh;
		t.nsh = 2;
		t.shoff = 0x100;
		uint8_t *b = build_elf(&t);
		for (size_t cut = 0; cut <= t.size; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1);
			assert_non_null(copy);
			memcpy(copy, b, cut);
			struct exeinfo e;
			ward_err err = elf_parse(copy, cut, &e);
			if (cut < 0x100 + (k & 1 ? 128u : 80u))
				assert_int_equal(err, WARD_ECORRUPT);
			else
				assert_int_equal(err, WARD_OK);
			free(copy);
		}
		free(b);
	}
}

static void test_elf_no_allocation(void **state)
{
	(void)state;
	struct telf t = std_elf(true, false);
	struct exeinfo e;
	uint8_t *b = build_elf(&t);
	ward_alloc_fail_after(0);
	ward_err err = elf_parse(b, t.size, &e);
	ward_alloc_fail_after(-1);
	assert_int_equal(err, WARD_OK);
	free(b);
}

/* ---- agreement with clamscan ---- */

static void hexn(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	assert_true(n > 0);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc((size_t)n);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* One file per run: EP+0 and Sx+0 for every stored section with 8 bytes in
 * the file, SL+0; every signature must be reported. */
static void agree(const char *path, const char *dir)
{
	size_t len, expected = 0, found = 0;
	uint8_t *b = slurp(path, &len);
	struct exeinfo e;
	char db[600], line[2048];
	assert_int_equal(elf_parse(b, len, &e), WARD_OK);
	snprintf(db, sizeof(db), "%s/e.ndb", dir);
	FILE *f = fopen(db, "w");
	assert_non_null(f);
	if (e.ep + 8 <= len) {
		fprintf(f, "EP:6:EP+0:");
		hexn(f, b + e.ep, 8);
		fputc('\n', f);
		expected++;
	}
	for (uint32_t i = 0; i < e.nstored; i++)
		if (e.sections[i].raw_offset + 8 <= len) {
			fprintf(f, "S%u:6:S%u+0:", i, i);
			hexn(f, b + e.sections[i].raw_offset, 8);
			fputc('\n', f);
			expected++;
		}
	if (e.nsections && e.nstored == e.nsections &&
	    e.sections[e.nstored - 1].raw_offset + 8 <= len) {
		fprintf(f, "SL:6:SL+0:");
		hexn(f, b + e.sections[e.nstored - 1].raw_offset, 8);
		fputc('\n', f);
		expected++;
	}
	fclose(f);
	char *argv[] = {"clamscan", "--no-summary", "--allmatch", "-d", db, (char *)path, NULL};
	pid_t pid = -1;
	FILE *p = run_child(argv, &pid);
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		if (strstr(line, ".UNOFFICIAL FOUND"))
			found++;
	end_child(p, pid);
	free(b);
	if (found != expected)
		fail_msg("%s: clamscan reported %zu of %zu EP/section signatures", path, found,
			 expected);
}

static void test_elf_clamscan_agreement(void **state)
{
	(void)state;
	char dir[] = "/tmp/ward_test_elf_XXXXXX", path[600];
	if (access("/usr/bin/clamscan", X_OK) != 0)
		fail_msg(
			"clamscan is missing: install the Debian package clamav (scripts/install-deps)");
	assert_non_null(mkdtemp(dir));
	for (int k = 0; k < 4; k++) {
		struct telf t = std_elf(k & 1, k & 2);
		uint8_t *b = build_elf(&t);
		snprintf(path, sizeof(path), "%s/gen%d.elf", dir, k);
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(b, 1, t.size, f), t.size);
		fclose(f);
		free(b);
		agree(path, dir);
	}
	/* real executables that every Debian system has */
	agree("/usr/bin/clamscan", dir);
	agree("/bin/true", dir);
	remove_tree(dir, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf_classes_and_endianness),
		cmocka_unit_test(test_elf_entry_rules),
		cmocka_unit_test(test_elf_limits),
		cmocka_unit_test(test_elf_truncated_every_byte),
		cmocka_unit_test(test_elf_no_allocation),
		cmocka_unit_test(test_elf_clamscan_agreement),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
