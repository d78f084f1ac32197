/*
 * PE parsing and the .imp hash. The expected numbers in the rule tests were
 * observed with clamscan 1.4.6 on the same generated files (EP+0, Sx+0, SL+0
 * .ndb signatures and .mdb/.imp hashes); test_pe_clamscan_agreement re-checks
 * real files (Debian's clamav-testfiles) and generated ones against clamscan
 * itself, and fails, not skips, when clamscan or the test files are missing.
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
#include <openssl/evp.h>

#include "formats/formats.h"

/* ---- a small PE builder ---- */
struct tsec {
	uint32_t va, vsize, raw, rawsize;
};

struct tpe {
	const struct tsec *sec;
	unsigned nsec;     /* sections written */
	unsigned declared; /* NumberOfSections (0: nsec) */
	uint32_t ep, falign, salign, hdrs;
	bool plus;
	uint32_t imp_rva, imp_size;
	size_t size;
};

static void put16(uint8_t *b, size_t o, uint16_t v)
{
	b[o] = (uint8_t)v;
	b[o + 1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *b, size_t o, uint32_t v)
{
	put16(b, o, (uint16_t)v);
	put16(b, o + 2, (uint16_t)(v >> 16));
}

/* Header at 0x40; random-looking filler elsewhere so EP/Sx probes are distinct. */
static uint8_t *build_pe(const struct tpe *t)
{
	uint8_t *b = calloc(1, t->size);
	assert_non_null(b);
	for (size_t i = 0x200; i < t->size; i++)
		b[i] = (uint8_t)((i * 2654435761u) >> 13);
	b[0] = 'M';
	b[1] = 'Z';
	put32(b, 0x3c, 0x40);
	memcpy(b + 0x40, "PE\0\0", 4);
	unsigned optsz = t->plus ? 240 : 224;
	put16(b, 0x44, t->plus ? 0x8664 : 0x14c);
	put16(b, 0x46, (uint16_t)(t->declared ? t->declared : t->nsec));
	put16(b, 0x54, (uint16_t)optsz);
	put16(b, 0x56, 0x0102);
	size_t oh = 0x58;
	put16(b, oh, t->plus ? 0x20b : 0x10b);
	put32(b, oh + 16, t->ep);
	put32(b, oh + 32, t->salign ? t->salign : 0x1000);
	put32(b, oh + 36, t->falign ? t->falign : 0x200);
	put32(b, oh + 56, 0x100000);
	put32(b, oh + 60, t->hdrs ? t->hdrs : 0x200);
	put16(b, oh + 68, 2);
	size_t nd = oh + (t->plus ? 108 : 92);
	put32(b, nd, 16);
	put32(b, nd + 4 + 8, t->imp_rva);
	put32(b, nd + 4 + 12, t->imp_size);
	size_t sh = oh + optsz;
	for (unsigned i = 0; i < t->nsec; i++) {
		size_t o = sh + (size_t)40 * i;
		memcpy(b + o, ".sect\0\0\0", 8);
		put32(b, o + 8, t->sec[i].vsize);
		put32(b, o + 12, t->sec[i].va);
		put32(b, o + 16, t->sec[i].rawsize);
		put32(b, o + 20, t->sec[i].raw);
		put32(b, o + 36, 0x60000020);
	}
	return b;
}

static const struct tsec two[] = {{0x1000, 0x200, 0x200, 0x200}, {0x2000, 0x200, 0x400, 0x200}};

static ward_err parse(const struct tpe *t, struct exeinfo *e)
{
	uint8_t *b = build_pe(t);
	ward_err err = pe_parse(b, t->size, e);
	free(b);
	return err;
}

static void test_pe_basic(void **state)
{
	(void)state;
	struct exeinfo e;
	struct tpe t = {two, 2, 0, 0x2010, 0, 0, 0, false, 0, 0, 0x2000};
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.kind, EXE_PE);
	assert_true(e.ep_valid);
	assert_int_equal(e.ep, 0x410);
	assert_int_equal(e.nsections, 2);
	assert_int_equal(e.nstored, 2);
	assert_int_equal(e.sections[0].raw_offset, 0x200);
	assert_int_equal(e.sections[1].raw_offset, 0x400);
	assert_int_equal(e.sections[1].raw_size, 0x200);
	assert_int_equal(e.sections[1].rva, 0x2000);
	/* PE32+ maps the same way */
	t.plus = true;
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.ep, 0x410);
}

/* An RVA below SizeOfHeaders (rounded up to SectionAlignment) is its own file
 * offset, if it is inside the file; otherwise the PE is "broken". */
static void test_pe_ep_in_header(void **state)
{
	(void)state;
	struct exeinfo e;
	struct tpe t = {two, 2, 0, 0x50, 0, 0, 0, false, 0, 0, 0x2000};
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.ep, 0x50);
	static const struct tsec one[] = {{0x1000, 0x200, 0x200, 0x200}};
	struct tpe t2 = {one, 1, 0, 0x900, 0, 0, 0, false, 0, 0, 0x800};
	assert_int_equal(parse(&t2, &e), WARD_ECORRUPT);
	assert_int_equal(e.kind, EXE_NONE);
	t2.ep = 0x700;
	assert_int_equal(parse(&t2, &e), WARD_OK);
	assert_int_equal(e.ep, 0x700);
}

/* EP in no section: ClamAV has no executable offsets at all for the file. */
static void test_pe_ep_outside(void **state)
{
	(void)state;
	struct exeinfo e;
	struct tpe t = {two, 2, 0, 0x3000, 0, 0, 0, false, 0, 0, 0x2000};
	assert_int_equal(parse(&t, &e), WARD_ECORRUPT);
	assert_int_equal(e.kind, EXE_NONE);
	assert_false(e.ep_valid);
	/* Virtual size does not count: only the raw size covers an RVA. */
	static const struct tsec v[] = {{0x1000, 0x1000, 0x200, 0}, {0x2000, 0x200, 0x400, 0x200}};
	struct tpe t2 = {v, 2, 0, 0x1010, 0, 0, 0, false, 0, 0, 0x2000};
	assert_int_equal(parse(&t2, &e), WARD_ECORRUPT);
}

static void test_pe_alignment(void **state)
{
	(void)state;
	struct exeinfo e;
	/* PointerToRawData rounds down to FileAlignment */
	static const struct tsec a[] = {{0x1000, 0x200, 0x210, 0x100},
					{0x2000, 0x200, 0x400, 0x200}};
	struct tpe t = {a, 2, 0, 0x1010, 0, 0, 0, false, 0, 0, 0x2000};
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.ep, 0x210);
	assert_int_equal(e.sections[0].raw_offset, 0x200);
	/* SizeOfRawData rounds up: an EP past the declared raw size still maps */
	static const struct tsec r[] = {{0x1000, 0x200, 0x200, 0x10},
					{0x2000, 0x200, 0x400, 0x200}};
	struct tpe t2 = {r, 2, 0, 0x1100, 0, 0, 0, false, 0, 0, 0x2000};
	assert_int_equal(parse(&t2, &e), WARD_OK);
	assert_int_equal(e.ep, 0x300);
	assert_int_equal(e.sections[0].raw_size, 0x200);
	/* VirtualAddress rounds down to SectionAlignment */
	static const struct tsec o[] = {{0x1000, 0x1000, 0x200, 0x400},
					{0x1100, 0x200, 0x600, 0x200}};
	struct tpe t3 = {o, 2, 0, 0x1110, 0, 0, 0, false, 0, 0, 0x2000};
	assert_int_equal(parse(&t3, &e), WARD_OK);
	assert_int_equal(e.ep, 0x710);
	assert_int_equal(e.sections[1].rva, 0x1000);
	/* Fallback: FileAlignment 0x1000 but pointers on 512-byte boundaries */
	struct tpe t4 = {two, 2, 0, 0x2010, 0x1000, 0, 0, false, 0, 0, 0x2000};
	assert_int_equal(parse(&t4, &e), WARD_OK);
	assert_int_equal(e.ep, 0x410);
	assert_int_equal(e.sections[1].raw_offset, 0x400);
	/* No fallback when every pointer is a multiple of FileAlignment */
	static const struct tsec f[] = {{0x1000, 0x200, 0x1000, 0x200},
					{0x2000, 0x200, 0x2000, 0x300}};
	struct tpe t5 = {f, 2, 0, 0x2010, 0x1000, 0, 0, false, 0, 0, 0x4000};
	assert_int_equal(parse(&t5, &e), WARD_OK);
	assert_int_equal(e.sections[1].raw_size, 0x1000);
}

/* Overlapping sections: the last one in the table that covers the RVA wins. */
static void test_pe_overlap(void **state)
{
	(void)state;
	struct exeinfo e;
	static const struct tsec o[] = {{0x1000, 0x1000, 0x200, 0x400},
					{0x1000, 0x200, 0x600, 0x200}};
	struct tpe t = {o, 2, 0, 0x1010, 0, 0, 0, false, 0, 0, 0x2000};
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.ep, 0x610);
	t.ep = 0x1300; /* past section 1's raw size: falls back to section 0 */
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.ep, 0x500);
}

/* A section starting past the end keeps its index (Sx counts it) but has no
 * raw data; one running past the end is clipped. */
static void test_pe_out_of_file_sections(void **state)
{
	(void)state;
	struct exeinfo e;
	static const struct tsec s[] = {{0x1000, 0x200, 0x200, 0x200},
					{0x2000, 0x200, 0x4000, 0x200},
					{0x3000, 0x200, 0x400, 0x1000}};
	struct tpe t = {s, 3, 0, 0x3010, 0, 0, 0, false, 0, 0, 0x900};
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.nsections, 3);
	assert_int_equal(e.sections[1].raw_offset, 0x4000);
	assert_int_equal(e.sections[1].raw_size, 0);
	assert_int_equal(e.sections[2].raw_size, 0x500);
	assert_int_equal(e.ep, 0x410);
}

/* Sign bit in a size or address: broken for ClamAV. A huge SizeOfRawData
 * below 2 GiB is clipped to the file. */
static void test_pe_huge_values(void **state)
{
	(void)state;
	struct exeinfo e;
	struct tsec s[] = {{0x1000, 0x80000000u, 0x200, 0x200}, {0x2000, 0x200, 0x400, 0x200}};
	struct tpe t = {s, 2, 0, 0x2010, 0, 0, 0, false, 0, 0, 0x2000};
	assert_int_equal(parse(&t, &e), WARD_ECORRUPT);
	s[0].vsize = 0x200;
	s[0].rawsize = 0xffffffffu; /* rounds up to 0 in 32 bits, like ClamAV */
	assert_int_equal(parse(&t, &e), WARD_ECORRUPT);
	s[0].rawsize = 0x7fffffffu;
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.sections[0].raw_size, 0x2000 - 0x200);
	/* out of the file: sizes are zeroed before the sign check */
	s[1].raw = 0x80000000u;
	s[0].rawsize = 0x200;
	t.ep = 0x1010;
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.sections[1].raw_size, 0);
}

static void test_pe_section_counts(void **state)
{
	(void)state;
	struct exeinfo e;
	/* 100 sections: ClamAV 1.4 has no 96 limit; the EP in section 99 maps
	 * and nsections is the declared count while 96 are stored. */
	struct tsec *s = calloc(100, sizeof(*s));
	assert_non_null(s);
	for (unsigned i = 0; i < 100; i++)
		s[i] = (struct tsec){0x1000 * (i + 1), 0x200, 0x200 * (i + 1), 0x200};
	struct tpe t = {s, 100, 0, 0x1000 * 100 + 0x10, 0, 0, 0, false, 0, 0, (size_t)0x200 * 102};
	t.hdrs = 0x1000;
	assert_int_equal(parse(&t, &e), WARD_OK);
	assert_int_equal(e.nsections, 100);
	assert_int_equal(e.nstored, WARD_MAX_PE_SECTIONS);
	assert_int_equal(e.ep, 0x200 * 100 + 0x10);
	assert_int_equal(e.sections[95].raw_offset, 0x200 * 96);
	free(s);
	/* 0 sections: broken */
	struct tpe t0 = {two, 2, 0, 0x50, 0, 0, 0, false, 0, 0, 0x2000};
	uint8_t *b = build_pe(&t0);
	put16(b, 0x46, 0);
	assert_int_equal(pe_parse(b, t0.size, &e), WARD_ECORRUPT);
	/* 65535 declared, table not in the file: broken, no allocation */
	put16(b, 0x46, 0xffff);
	assert_int_equal(pe_parse(b, t0.size, &e), WARD_ECORRUPT);
	free(b);
	/* 65535 declared and present (empty sections): accepted, EP in header */
	struct tpe tb = {two, 2, 0xffff, 0x50, 0, 0, 0, false, 0, 0, 0x200 + 65535u * 40 + 0x200};
	b = build_pe(&tb);
	memset(b + 0x58 + 224, 0, (size_t)65535 * 40);
	assert_int_equal(pe_parse(b, tb.size, &e), WARD_OK);
	assert_int_equal(e.nsections, 65535);
	assert_int_equal(e.nstored, WARD_MAX_PE_SECTIONS);
	free(b);
}

static void test_pe_not_pe(void **state)
{
	(void)state;
	struct exeinfo e;
	assert_int_equal(pe_parse((const uint8_t *)"", 0, &e), WARD_ECORRUPT);
	assert_int_equal(pe_parse((const uint8_t *)"MZ", 2, &e), WARD_ECORRUPT);
	struct tpe t = {two, 2, 0, 0x2010, 0, 0, 0, false, 0, 0, 0x2000};
	uint8_t *b = build_pe(&t);
	b[0x40] = 'N'; /* NE/LE/... */
	assert_int_equal(pe_parse(b, t.size, &e), WARD_ECORRUPT);
	b[0x40] = 'P';
	put32(b, 0x3c, 0); /* e_lfanew 0 */
	assert_int_equal(pe_parse(b, t.size, &e), WARD_ECORRUPT);
	put32(b, 0x3c, 0xfffffff0u);
	assert_int_equal(pe_parse(b, t.size, &e), WARD_ECORRUPT);
	put32(b, 0x3c, 0x40);
	put16(b, 0x54, 95); /* SizeOfOptionalHeader too small */
	assert_int_equal(pe_parse(b, t.size, &e), WARD_ECORRUPT);
	b[0] = 'Z'; /* "ZM" is accepted like "MZ" */
	b[1] = 'M';
	put16(b, 0x54, 224);
	assert_int_equal(pe_parse(b, t.size, &e), WARD_OK);
	free(b);
}

/* ---- imports ---- */

/* kernel32.dll by name (ExitProcess, GetTickCount), wsock32.dll ordinals 13
 * (listen) and 1024 (unnamed), Size covering 3 descriptors (2 used). */
static uint8_t *build_imports(size_t *len)
{
	static const struct tsec s[] = {{0x1000, 0x1000, 0x200, 0x400}};
	struct tpe t = {s, 1, 0, 0x1000, 0, 0, 0, false, 0x1000, 61, 0x600};
	uint8_t *b = build_pe(&t);
#define R(rva) ((size_t)(rva)-0x1000 + 0x200)
	memset(b + R(0x1000), 0, 0x200);
	put32(b, R(0x1000), 0x1100);
	put32(b, R(0x1000) + 12, 0x1080);
	put32(b, R(0x1000) + 16, 0x1100);
	put32(b, R(0x1014), 0x1120);
	put32(b, R(0x1014) + 12, 0x1090);
	put32(b, R(0x1014) + 16, 0x1120);
	memcpy(b + R(0x1080), "KERNEL32.dll", 13);
	memcpy(b + R(0x1090), "wsock32.dll", 12);
	put32(b, R(0x1100), 0x1140);
	put32(b, R(0x1104), 0x1160);
	put32(b, R(0x1120), 0x8000000du);
	put32(b, R(0x1124), 0x80000400u);
	memcpy(b + R(0x1142), "ExitProcess", 12);
	memcpy(b + R(0x1162), "GetTickCount", 13);
	*len = t.size;
	return b;
}

static void md5_of(const char *s, uint8_t out[16])
{
	unsigned n = 0;
	assert_int_equal(EVP_Digest(s, strlen(s), out, &n, EVP_md5(), NULL), 1);
}

static void test_pe_imphash(void **state)
{
	(void)state;
	size_t len;
	uint8_t *b = build_imports(&len);
	struct exeinfo e;
	uint8_t md5[16], want[16];
	uint64_t size;
	const char *str =
		"kernel32.exitprocess,kernel32.gettickcount,wsock32.listen,wsock32.ord1024";

	assert_int_equal(pe_parse(b, len, &e), WARD_OK);
	assert_int_equal(pe_imphash(b, len, &e, md5, &size), WARD_OK);
	md5_of(str, want);
	assert_memory_equal(md5, want, 16);
	assert_int_equal(size, strlen(str));

	/* ".ocx"/".sys" are stripped too; other extensions are kept */
	memcpy(b + R(0x1080), "Foo.SYS\0\0\0\0\0", 13);
	assert_int_equal(pe_imphash(b, len, &e, md5, &size), WARD_OK);
	md5_of("foo.exitprocess,foo.gettickcount,wsock32.listen,wsock32.ord1024", want);
	assert_memory_equal(md5, want, 16);
	memcpy(b + R(0x1080), "foo.bar.dll\0", 12);
	assert_int_equal(pe_imphash(b, len, &e, md5, &size), WARD_OK);
	md5_of("foo.bar.dll.exitprocess,foo.bar.dll.gettickcount,wsock32.listen,wsock32.ord1024",
	       want);
	assert_memory_equal(md5, want, 16);

	/* a function name outside [A-Za-z0-9_.] abandons the hash */
	b[R(0x1142)] = '-';
	assert_int_equal(pe_imphash(b, len, &e, md5, &size), WARD_ECORRUPT);
	b[R(0x1142)] = 'E';

	/* Size of exactly one descriptor: ClamAV reads none ("left > 20"); 40
	 * bytes read one */
	put32(b, 0x58 + 92 + 4 + 12, 20);
	assert_int_equal(pe_imphash(b, len, &e, md5, &size), WARD_ECORRUPT);
	put32(b, 0x58 + 92 + 4 + 12, 40);
	assert_int_equal(pe_imphash(b, len, &e, md5, &size), WARD_OK);
	md5_of("foo.bar.dll.exitprocess,foo.bar.dll.gettickcount", want);
	assert_memory_equal(md5, want, 16);

	/* no import directory */
	put32(b, 0x58 + 92 + 4 + 8, 0);
	assert_int_equal(pe_imphash(b, len, &e, md5, &size), WARD_ECORRUPT);
	free(b);
}

static void test_pe_imphash_pe32plus(void **state)
{
	(void)state;
	struct tpe t = {two, 2, 0, 0x2010, 0, 0, 0, true, 0x1000, 40, 0x2000};
	uint8_t *b = build_pe(&t);
	struct exeinfo e;
	uint8_t md5[16];
	uint64_t size;
	assert_int_equal(pe_parse(b, t.size, &e), WARD_OK);
	/* ClamAV 1.4 never hashes imports of PE32+ files */
	assert_int_equal(pe_imphash(b, t.size, &e, md5, &size), WARD_EUNSUPPORTED);
	free(b);
}

static void test_pe_imphash_alloc_failure(void **state)
{
	(void)state;
	size_t len;
	uint8_t *b = build_imports(&len);
	struct exeinfo e;
	uint8_t md5[16];
	uint64_t size;
	assert_int_equal(pe_parse(b, len, &e), WARD_OK);
	for (long n = 0; n < 8; n++) {
		ward_alloc_fail_after(n);
		ward_err err = pe_imphash(b, len, &e, md5, &size);
		ward_alloc_fail_after(-1);
		assert_true(err == WARD_OK || err == WARD_ENOMEM);
		if (err == WARD_OK)
			break;
	}
	/* pe_parse allocates nothing */
	ward_alloc_fail_after(0);
	assert_int_equal(pe_parse(b, len, &e), WARD_OK);
	ward_alloc_fail_after(-1);
	free(b);
}

/* Every prefix of valid files: never a read outside the buffer (run under
 * ASan in the asan preset), only OK or ECORRUPT. */
static void test_pe_truncated_every_byte(void **state)
{
	(void)state;
	size_t len;
	uint8_t *b = build_imports(&len);
	struct tpe t = {two, 2, 0, 0x2010, 0, 0, 0, true, 0, 0, 0x600};
	uint8_t *p = build_pe(&t);
	for (int k = 0; k < 2; k++) {
		uint8_t *buf = k ? p : b;
		size_t n = k ? t.size : len;
		for (size_t cut = 0; cut <= n; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1);
			assert_non_null(copy);
			memcpy(copy, buf, cut);
			struct exeinfo e;
			uint8_t md5[16];
			uint64_t size;
			ward_err err = pe_parse(copy, cut, &e);
			assert_true(err == WARD_OK || err == WARD_ECORRUPT);
			if (cut < 0x58 + 224 + 40)
				assert_int_equal(err, WARD_ECORRUPT);
			if (err == WARD_OK) {
				assert_true(e.ep < cut);
				err = pe_imphash(copy, cut, &e, md5, &size);
				assert_true(err == WARD_OK || err == WARD_ECORRUPT ||
					    err == WARD_EUNSUPPORTED);
			}
			free(copy);
		}
	}
	free(b);
	free(p);
}

/* ---- agreement with clamscan ---- */

static void need(const char *path, const char *pkg)
{
	if (access(path, R_OK) != 0)
		fail_msg("%s is missing: install the Debian package %s (scripts/install-deps)",
			 path, pkg);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	assert_true(n >= 0);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* Hash signatures are keyed by (size, hash): a second name for the same key
 * is never reported, so each key is written (and expected) once. */
static bool first_key(const char *kind, uint64_t size, const uint8_t md5[16])
{
	static char keys[1024][48];
	static size_t nkeys;
	char k[48];
	snprintf(k, sizeof(k), "%s%llu:", kind, (unsigned long long)size);
	for (int i = 0; i < 16; i++)
		snprintf(k + strlen(k), sizeof(k) - strlen(k), "%02x", md5[i]);
	for (size_t i = 0; i < nkeys; i++)
		if (strcmp(keys[i], k) == 0)
			return false;
	assert_true(nkeys < 1024);
	memcpy(keys[nkeys++], k, sizeof(k));
	return true;
}

static void hex8(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

/* Writes EP+0, Sx+0, SL+0 body signatures, .mdb section hashes and the .imp
 * hash for every file, runs clamscan once over all of them and requires that
 * every signature named after a file is reported for that file. */
static void test_pe_clamscan_agreement(void **state)
{
	(void)state;
	static const char *const names[] = {
		"clam.exe",      "clam-aspack.exe",    "clam-fsg.exe",       "clam-mew.exe",
		"clam-nsis.exe", "clam-pespin.exe",    "clam-petite.exe",    "clam-upack.exe",
		"clam-upx.exe",  "clam-wwpack.exe",    "clam-yc.exe",        "clam.ea05.exe",
		"clam.ea06.exe", "clam_IScab_ext.exe", "clam_ISmsi_int.exe",
	};
	enum { NREAL = sizeof(names) / sizeof(names[0]), NFILES = NREAL + 2 };
	char dir[] = "/tmp/ward_test_pe_XXXXXX";
	char path[NFILES][512], line[4096];
	size_t expected = 0, found = 0;
	static char want[1024][24];
	static bool seen[1024];
#define EXPECT(...) \
	do { \
		assert_true(expected < 1024); \
		snprintf(want[expected], sizeof(want[0]), __VA_ARGS__); \
		seen[expected++] = false; \
	} while (0)

	need("/usr/bin/clamscan", "clamav");
	need("/usr/share/clamav-testfiles/clam.exe", "clamav-testfiles");
	assert_non_null(mkdtemp(dir));
	char ndb[600], mdb[600], imp[600];
	snprintf(ndb, sizeof(ndb), "%s/w.ndb", dir);
	snprintf(mdb, sizeof(mdb), "%s/w.mdb", dir);
	snprintf(imp, sizeof(imp), "%s/w.imp", dir);
	FILE *fn = fopen(ndb, "w"), *fm = fopen(mdb, "w"), *fi = fopen(imp, "w");
	assert_true(fn && fm && fi);

	for (int k = 0; k < NFILES; k++) {
		uint8_t *b;
		size_t len;
		if (k < NREAL) {
			snprintf(path[k], sizeof(path[k]), "/usr/share/clamav-testfiles/%s",
				 names[k]);
			need(path[k], "clamav-testfiles");
			b = slurp(path[k], &len);
		} else {
			/* generated: imports, and out-of-file + overlapping sections */
			snprintf(path[k], sizeof(path[k]), "%s/gen%d.exe", dir, k);
			if (k == NREAL) {
				b = build_imports(&len);
			} else {
				static const struct tsec s[] = {{0x1000, 0x1000, 0x210, 0x400},
								{0x1000, 0x200, 0x9000, 0x200},
								{0x1000, 0x200, 0x600, 0x80}};
				struct tpe t = {s, 3, 0, 0x1110, 0, 0, 0, false, 0, 0, 0x900};
				b = build_pe(&t);
				len = t.size;
			}
			FILE *g = fopen(path[k], "wb");
			assert_non_null(g);
			assert_int_equal(fwrite(b, 1, len, g), len);
			fclose(g);
		}
		struct exeinfo e;
		uint8_t md5[16];
		uint64_t isz;
		assert_int_equal(pe_parse(b, len, &e), WARD_OK);
		if (e.ep + 8 <= len) {
			fprintf(fn, "F%dEP:1:EP+0:", k);
			hex8(fn, b + e.ep, 8);
			fputc('\n', fn);
			EXPECT("F%dEP", k);
		}
		for (uint32_t i = 0; i < e.nstored; i++) {
			const struct exe_section *s = &e.sections[i];
			if (s->raw_offset + 8 <= len) {
				fprintf(fn, "F%dS%u:1:S%u+0:", k, i, i);
				hex8(fn, b + s->raw_offset, 8);
				fputc('\n', fn);
				EXPECT("F%dS%u", k, i);
			}
			if (s->raw_size) {
				uint8_t h[16];
				unsigned hn = 0;
				assert_int_equal(EVP_Digest(b + s->raw_offset, s->raw_size, h, &hn,
							    EVP_md5(), NULL),
						 1);
				if (!first_key("m", s->raw_size, h))
					continue;
				fprintf(fm, "%llu:", (unsigned long long)s->raw_size);
				hex8(fm, h, 16);
				fprintf(fm, ":F%dM%u\n", k, i);
				EXPECT("F%dM%u", k, i);
			}
		}
		const struct exe_section *l = &e.sections[e.nstored - 1];
		if (e.nstored == e.nsections && l->raw_offset + 8 <= len) {
			fprintf(fn, "F%dSL:1:SL+0:", k);
			hex8(fn, b + l->raw_offset, 8);
			fputc('\n', fn);
			EXPECT("F%dSL", k);
		}
		if (pe_imphash(b, len, &e, md5, &isz) == WARD_OK && first_key("i", isz, md5)) {
			hex8(fi, md5, 16);
			fprintf(fi, ":%llu:F%dIMP\n", (unsigned long long)isz, k);
			EXPECT("F%dIMP", k);
		}
		free(b);
	}
	fclose(fn);
	fclose(fm);
	fclose(fi);

	char *argv[9 + NFILES + 1] = {"clamscan", "--no-summary", "--allmatch", "-d", ndb, "-d",
				      mdb,        "-d",           imp};
	for (int k = 0; k < NFILES; k++)
		argv[9 + k] = path[k];
	argv[9 + NFILES] = NULL;
	pid_t pid = -1;
	FILE *p = run_child(argv, &pid);
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		/* "<path>: F<k><what>.UNOFFICIAL FOUND" counts only for file k;
		 * packed files also match through their unpacked content. */
		char *colon = strstr(line, ": F"), *dot, *end;
		if (!colon || !strstr(line, "FOUND"))
			continue;
		long k = strtol(colon + 3, &end, 10);
		if (end == colon + 3 || k < 0 || k >= NFILES ||
		    !(dot = strstr(colon, ".UNOFFICIAL")))
			continue;
		*colon = '\0';
		*dot = '\0';
		if (strcmp(line, path[k]) != 0)
			continue;
		for (size_t i = 0; i < expected; i++)
			if (!seen[i] && strcmp(want[i], colon + 2) == 0) {
				seen[i] = true;
				found++;
			}
	}
	end_child(p, pid);
	remove_tree(dir, 0);
	for (size_t i = 0; i < expected; i++)
		if (!seen[i])
			fprintf(stderr, "clamscan did not report %s\n", want[i]);
	if (found != expected)
		fail_msg("clamscan agreed on %zu of %zu EP/section/hash signatures", found,
			 expected);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pe_basic),
		cmocka_unit_test(test_pe_ep_in_header),
		cmocka_unit_test(test_pe_ep_outside),
		cmocka_unit_test(test_pe_alignment),
		cmocka_unit_test(test_pe_overlap),
		cmocka_unit_test(test_pe_out_of_file_sections),
		cmocka_unit_test(test_pe_huge_values),
		cmocka_unit_test(test_pe_section_counts),
		cmocka_unit_test(test_pe_not_pe),
		cmocka_unit_test(test_pe_imphash),
		cmocka_unit_test(test_pe_imphash_pe32plus),
		cmocka_unit_test(test_pe_imphash_alloc_failure),
		cmocka_unit_test(test_pe_truncated_every_byte),
		cmocka_unit_test(test_pe_clamscan_agreement),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
