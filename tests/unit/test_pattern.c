/* Body pattern parser (lib/db/pattern.c): syntax from BodySignatureFormat.md,
 * acceptance rules checked against clamscan 1.4.6 (docs/internals/pattern.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "db/sigs.h"

/* ---- debugging helper: render a parsed pattern back to canonical text ----
 * exact byte "41", nocase "~61", nibbles "4?" "?1", gap "{n}" or "{n-m}",
 * class "(B)", alternation "(..|..)" / "!(..|..)", segment break "*" or
 * "{n-}". */
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	if (*len >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n;
	if (*len >= cap)
		*len = cap - 1;
}

static void render_seq(const struct pattern *p, uint32_t first, uint32_t count, char *buf,
		       size_t cap, size_t *len)
{
	for (uint32_t i = 0; i < count; i++) {
		const struct pnode *n = &p->nodes[first + i];
		switch (n->kind) {
		case PN_BYTE:
			if (n->mask == 0xff)
				put(buf, cap, len, "%s%02x", (n->flags & PN_F_NOCASE) ? "~" : "",
				    n->val);
			else if (n->mask == 0xf0)
				put(buf, cap, len, "%x?", n->val >> 4);
			else if (n->mask == 0x0f)
				put(buf, cap, len, "?%x", n->val & 0xf);
			else
				put(buf, cap, len, "<mask%02x>", n->mask);
			break;
		case PN_GAP:
			if (n->a == n->b)
				put(buf, cap, len, "{%u}", n->a);
			else
				put(buf, cap, len, "{%u-%u}", n->a, n->b);
			break;
		case PN_CLASS:
			put(buf, cap, len, "(%c)", n->val);
			break;
		case PN_ALT:
			put(buf, cap, len, "%s(", (n->flags & PN_F_NEGATE) ? "!" : "");
			for (uint32_t k = 0; k < n->b; k++) {
				const struct pseq *s = &p->seqs[n->a + k];
				if (k)
					put(buf, cap, len, "|");
				render_seq(p, s->first, s->count, buf, cap, len);
			}
			put(buf, cap, len, ")");
			break;
		default:
			put(buf, cap, len, "<?>");
		}
	}
}

static const char *render(const struct pattern *p)
{
	static char buf[4096];
	size_t len = 0;
	buf[0] = '\0';
	for (uint32_t i = 0; i < p->nsegs; i++) {
		const struct psegment *s = &p->segs[i];
		if (i)
			put(buf, sizeof buf, &len, s->gap_before ? "{%u-}" : "*", s->gap_before);
		render_seq(p, s->body.first, s->body.count, buf, sizeof buf, &len);
	}
	return buf;
}

/* Parse, expect success and the canonical rendering. */
static void ok_flags(const char *hex, uint32_t flags, const char *want)
{
	struct pattern p;
	char why[256];
	ward_err e = pattern_parse(hex, strlen(hex), flags, &p, why, sizeof why);
	if (e != WARD_OK)
		fail_msg("'%s': unexpected error %d: %s", hex, e, why);
	const char *got = render(&p);
	if (strcmp(got, want) != 0)
		fail_msg("'%s': got '%s' want '%s'", hex, got, want);
	pattern_free(&p);
}
static void ok(const char *hex, const char *want) { ok_flags(hex, 0, want); }

/* Parse, expect the given error, a reason, and *out zeroed. */
static void bad_flags(const char *hex, uint32_t flags, ward_err want)
{
	struct pattern p;
	memset(&p, 0xa5, sizeof p);
	char why[256] = "";
	ward_err e = pattern_parse(hex, strlen(hex), flags, &p, why, sizeof why);
	if (e != want)
		fail_msg("'%s': got %d want %d (%s)", hex, e, want, why);
	if (strlen(why) == 0)
		fail_msg("'%s': no reason given", hex);
	assert_null(p.nodes);
	assert_null(p.seqs);
	assert_null(p.segs);
	assert_int_equal(p.nnodes, 0);
}
static void bad(const char *hex) { bad_flags(hex, 0, WARD_ECORRUPT); }

static void spans(const char *hex, uint32_t seg, uint32_t mn, uint32_t mx)
{
	struct pattern p;
	char why[256];
	assert_int_equal(pattern_parse(hex, strlen(hex), 0, &p, why, sizeof why), WARD_OK);
	assert_true(seg < p.nsegs);
	if (p.segs[seg].minlen != mn || p.segs[seg].maxlen != mx)
		fail_msg("'%s' seg %u: span %u..%u want %u..%u", hex, seg, p.segs[seg].minlen,
			 p.segs[seg].maxlen, mn, mx);
	pattern_free(&p);
}

static void test_bytes_and_nibbles(void **state)
{
	(void)state;
	ok("414243", "414243");
	ok("AABBcc", "aabbcc");
	ok("41424?", "41424?");
	ok("4142?3", "4142?3");
	ok("4142??43", "4142{1}43");
	/* "??" runs and gaps merge into one gap node */
	ok("4142????{2}{3}4344", "4142{7}4344");
	ok("4142??{-3}4344", "4142{1-4}4344");
	struct pattern p;
	char why[128];
	assert_int_equal(pattern_parse("41424?", 6, 0, &p, why, sizeof why), WARD_OK);
	assert_int_equal(p.nnodes, 3);
	assert_int_equal(p.nodes[2].kind, PN_BYTE);
	assert_int_equal(p.nodes[2].val, 0x40);
	assert_int_equal(p.nodes[2].mask, 0xf0);
	pattern_free(&p);
	assert_int_equal(pattern_parse("4142?a", 6, 0, &p, why, sizeof why), WARD_OK);
	assert_int_equal(p.nodes[2].val, 0x0a);
	assert_int_equal(p.nodes[2].mask, 0x0f);
	pattern_free(&p);
}

static void test_gaps(void **state)
{
	(void)state;
	ok("4142{5}4344", "4142{5}4344");
	ok("4142{-5}4344", "4142{0-5}4344");
	ok("4142{2-5}4344", "4142{2-5}4344");
	ok("4142{0}4344", "4142{0}4344");
	/* leading/trailing bounded gaps: clamscan loads and matches these */
	ok("{2}414141", "{2}414141");
	ok("??414141", "{1}414141");
	ok("414141{2}", "414141{2}");
	/* unbounded gaps: segments */
	ok("4142*4344", "4142*4344");
	ok("4142{7-}4344", "4142{7-}4344");
	ok("4142{0-}4344", "4142*4344");
	/* "{}" and "{-}" behave like "*" in clamscan */
	ok("4142{}4344", "4142*4344");
	ok("4142{-}4344", "4142*4344");
	ok("4142*{2}4344", "4142*{2}4344");
	ok("4142{2}*4344", "4142{2}*4344");
	/* [x-y]: one byte before or after */
	ok("41[1-2]424242", "41{1-2}424242");
	ok("424242[1-2]41", "424242{1-2}41");
	ok("41[1-2]4242[3-4]41", "41{1-2}4242{3-4}41");
	ok("41[0-32]4242", "41{0-32}4242");
	ok("41[1-2]4242*4343", "41{1-2}4242*4343");
	ok("4242*4343[1-2]41", "4242*4343{1-2}41");
	ok("??[1-2]4141", "{2-3}4141");
	ok("4?[1-2]4444", "4?{1-2}4444");
	ok("41[1-2](42|43)4444", "41{1-2}(42|43)4444");
	/* per ClamAV part (split at '*' and range gaps), from daily.ndb */
	ok("558bec{3-8}e8[5-12]e8????????e8????????c9c2", "558bec{3-8}e8{5-12}e8{4}e8{4}c9c2");
	ok("41[1-2]4242{3-4}43[1-2]4444", "41{1-2}4242{3-4}43{1-2}4444");
	ok("4141{3-4}43[1-2]4444[2-3]45", "4141{3-4}43{1-2}4444{2-3}45");
	ok("4141*4343[1-2]44*4545", "4141*4343{1-2}44*4545");
	ok("4141[1-2]43{3-4}4545", "4141{1-2}43{3-4}4545");
}

static void test_segments(void **state)
{
	(void)state;
	struct pattern p;
	char why[128];
	const char *s = "aabbcc*bbaacc{10-}ddeeff";
	assert_int_equal(pattern_parse(s, strlen(s), 0, &p, why, sizeof why), WARD_OK);
	assert_int_equal(p.nsegs, 3);
	assert_int_equal(p.segs[0].gap_before, 0);
	assert_int_equal(p.segs[1].gap_before, 0);
	assert_int_equal(p.segs[2].gap_before, 10);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(p.segs[i].body.count, 3);
		assert_int_equal(p.segs[i].minlen, 3);
		assert_int_equal(p.segs[i].maxlen, 3);
	}
	assert_int_equal(p.nodes[p.segs[2].body.first].val, 0xdd);
	pattern_free(&p);
	spans("4142{2-5}4344", 0, 6, 9);
	spans("4142?"
	      "?(41|4243|{2}444546)4344",
	      0, 6, 10);
	spans("4142(41|)4344", 0, 4, 5);
	spans("4142(B)4344", 0, 4, 5);
	spans("4142(L)4344", 0, 4, 6);
	spans("4142!(4142|4344)4344", 0, 6, 6);
}

static void test_alternatives(void **state)
{
	(void)state;
	ok("4142(aa|bb|cc)4344", "4142(aa|bb|cc)4344");
	ok("4142(aabb|ccdd)4344", "4142(aabb|ccdd)4344");
	ok("4142!(aa|bb)4344", "4142!(aa|bb)4344");
	ok("4142!(aabb|ccdd)4344", "4142!(aabb|ccdd)4344");
	ok("4142!(41)4344", "4142!(41)4344");
	ok("4142(41)4344", "4142(41)4344");
	/* generic: variable length, nibbles, ??, {n<128}, nesting */
	ok("4142(41|4243|4?{3}44?"
	   "?)4344",
	   "4142(41|4243|4?{3}44{1})4344");
	ok("414141(41|(42|43))434343", "414141(41|(42|43))434343");
	ok("414141((41|42)|43)434343", "414141((41|42)|43)434343");
	ok("414141(41{127}42|43)434343", "414141(41{127}42|43)434343");
	ok("(41|42)414141", "(41|42)414141");
	ok("414141!(41|42)", "414141!(41|42)");
	ok("414141(41|42)(43|44)454545", "414141(41|42)(43|44)454545");
	/* clamscan: a later empty member matches the empty string */
	ok("414141(42|)434343", "414141(42|)434343");
	ok("414141(41||42)434343", "414141(41||42)434343");

	/* sequences of one group are contiguous in seqs; node ranges valid */
	struct pattern p;
	char why[128];
	const char *s = "4142(41|(42|4344)|45)4647";
	assert_int_equal(pattern_parse(s, strlen(s), 0, &p, why, sizeof why), WARD_OK);
	assert_int_equal(p.nseqs, 5);
	const struct pnode *alt = &p.nodes[p.segs[0].body.first + 2];
	assert_int_equal(alt->kind, PN_ALT);
	assert_int_equal(alt->b, 3);
	for (uint32_t i = 0; i < p.nseqs; i++)
		assert_true(p.seqs[i].first + p.seqs[i].count <= p.nnodes);
	pattern_free(&p);
}

static void test_classes(void **state)
{
	(void)state;
	ok("414141(B)424242", "414141(B)424242");
	ok("414141(L)424242", "414141(L)424242");
	ok("414141(W)424242", "414141(W)424242");
	ok("(B)414141", "(B)414141");
	ok("414141(B)", "414141(B)");
	ok("414141(B)(L)434343", "414141(B)(L)434343");
	struct pattern p;
	char why[128];
	assert_int_equal(pattern_parse("4141(W)", 7, 0, &p, why, sizeof why), WARD_OK);
	assert_int_equal(p.nodes[2].kind, PN_CLASS);
	assert_int_equal(p.nodes[2].val, PC_NONALNUM);
	pattern_free(&p);
}

static void test_modifiers(void **state)
{
	(void)state;
	ok_flags("41614243{2}7a", PAT_NOCASE, "~61~61~62~63{2}~7a");
	ok_flags("3031(41|5b)", PAT_NOCASE, "3031(~61|5b)");
	/* nibbles are not folded */
	ok_flags("41424?", PAT_NOCASE, "~61~624?");
	/* wide: every byte token, "??" included, gets a 00; gaps are not doubled */
	ok_flags("414243", PAT_WIDE, "410042004300");
	ok_flags("4142{2}43", PAT_WIDE, "41004200{2}4300");
	ok_flags("4142??43", PAT_WIDE, "41004200{1}004300");
	ok_flags("4142(43|4445)46", PAT_WIDE, "41004200(4300|44004500)4600");
	ok_flags("4142*4344", PAT_WIDE, "41004200*43004400");
	ok_flags("4142(B)4344", PAT_WIDE, "41004200(B)43004400");
	ok_flags("41", PAT_WIDE | PAT_NOCASE, "~6100");
	struct pattern p;
	char why[128];
	assert_int_equal(pattern_parse("414243", 6, PAT_FULLWORD | PAT_ASCII | PAT_WIDE, &p, why,
				       sizeof why),
			 WARD_OK);
	assert_int_equal(p.flags, PAT_FULLWORD | PAT_ASCII | PAT_WIDE);
	pattern_free(&p);
	/* negation cannot take modifiers (clamscan: generic alternate) */
	bad_flags("414141!(41|42)434343", PAT_NOCASE, WARD_ECORRUPT);
	bad_flags("414141!(41|42)434343", PAT_WIDE, WARD_ECORRUPT);
}

static void test_errors(void **state)
{
	(void)state;
	bad("");
	bad("41424");   /* odd number of digits */
	bad("4142 43"); /* space */
	bad("4142GG");  /* bad char */
	bad("4142\n");
	bad("*414141"); /* clamscan: can't extract part */
	bad("414141*");
	bad("414141**424242");
	bad("{2-}414141");
	bad("414141{2-}");
	bad("{-2}414141"); /* clamscan: too short */
	bad("414141{-2}");
	bad("414141()"); /* empty block */
	bad("414141(|41)");
	bad("414141(41|42"); /* missing ')' */
	bad("41414141|42)");
	bad("414141)");
	bad("414141!41");
	bad("414141!(41|4242)434343"); /* negated generic */
	bad("414141!(4?|42)434343");
	bad("414141!((41|42)|43)434343");
	bad("414141!(41|)434343");
	bad("414141(41*42|43)434343"); /* unbounded inside alternative */
	bad("414141(41{1-20}42|43)434343");
	bad("414141(41{128}42|43)434343");
	bad("414141(41{-5}42|43)434343");
	bad("414141(41{5-}42|43)434343");
	bad("414141(41[1-2]42|43)434343");
	bad("414141(41(B)42|43)434343");
	bad("414141(4|42)434343");
	bad("414141(X)434343");
	bad("414141(b)434343");
	bad("414141{4-2}424242");
	bad("414141{1-2-3}424242");
	bad("414141{x}424242");
	bad("414141{2");
	/* [x-y] placement and bounds */
	bad("41[1-33]414141");
	bad("41[2-1]414141");
	bad("4141[1-2]414141");
	bad("414141[1-2]4242");
	bad("41[1-2]4242[1-2]43[1-2]44");
	bad("41[-2]4242");
	bad("41[1-2]");
	bad("[1-2]41");
	bad("41[1-2");
	/* no run of two exact bytes in a part (clamscan refuses the database) */
	bad("41??42");
	bad("4?4?");
	bad("(41|42)(43|44)");
	bad("(4141|4242)");
	bad("41(42|43)44");
	bad("41*4242");
	bad("4141*42");
	bad("4141{1-5}42");
	bad("4141{200}42");
	bad("4141{-3}42");
	bad("4141*??");
	bad("4141*{2}*4242");
	bad("41[1-2]??41");
	bad("4141{3-4}4343[1-2]4444");
	bad("4141[1-2]4343{3-4}4545");
	/* the reason names the position */
	struct pattern p;
	char why[256];
	assert_int_equal(pattern_parse("4142GG", 6, 0, &p, why, sizeof why), WARD_ECORRUPT);
	assert_non_null(strstr(why, "offset 4"));
	/* a pattern is a byte range, not a C string */
	assert_int_equal(pattern_parse("4142\0"
				       "43",
				       7, 0, &p, why, sizeof why),
			 WARD_ECORRUPT);
	assert_int_equal(pattern_parse("41424344", 4, 0, &p, why, sizeof why), WARD_OK);
	assert_int_equal(p.nnodes, 2);
	pattern_free(&p);
	/* small or missing why buffers are fine */
	assert_int_equal(pattern_parse("41424", 5, 0, &p, why, 1), WARD_ECORRUPT);
	assert_int_equal(pattern_parse("41424", 5, 0, &p, NULL, 0), WARD_ECORRUPT);
	assert_int_equal(pattern_parse("41424", 5, 0, NULL, NULL, 0), WARD_EINVAL);
}

static void test_limits(void **state)
{
	(void)state;
	char *s = malloc(1u << 21);
	assert_non_null(s);
	size_t n;

	/* nesting: WARD_MAX_ALT_DEPTH levels fine, one more is a limit */
	for (unsigned depth = WARD_MAX_ALT_DEPTH; depth <= WARD_MAX_ALT_DEPTH + 1; depth++) {
		n = 0;
		n += (size_t)snprintf(s + n, 64, "4142");
		for (unsigned i = 0; i < depth; i++)
			n += (size_t)snprintf(s + n, 64, "(41|");
		n += (size_t)snprintf(s + n, 64, "42");
		for (unsigned i = 0; i < depth; i++)
			n += (size_t)snprintf(s + n, 64, ")");
		struct pattern p;
		char why[256];
		ward_err e = pattern_parse(s, n, 0, &p, why, sizeof why);
		assert_int_equal(e, depth <= WARD_MAX_ALT_DEPTH ? WARD_OK : WARD_ELIMIT);
		pattern_free(&p);
	}
	/* branches */
	for (unsigned nb = WARD_MAX_ALT_BRANCHES; nb <= WARD_MAX_ALT_BRANCHES + 1; nb++) {
		n = 0;
		n += (size_t)snprintf(s + n, 64, "4142(");
		for (unsigned i = 0; i < nb; i++)
			n += (size_t)snprintf(s + n, 64, "%s%02x", i ? "|" : "", i & 0xff);
		n += (size_t)snprintf(s + n, 64, ")");
		struct pattern p;
		char why[256];
		ward_err e = pattern_parse(s, n, 0, &p, why, sizeof why);
		assert_int_equal(e, nb <= WARD_MAX_ALT_BRANCHES ? WARD_OK : WARD_ELIMIT);
		pattern_free(&p);
	}
	/* segment span */
	{
		struct pattern p;
		char why[256];
		snprintf(s, 64, "4142{%u}4344", WARD_MAX_SEGMENT_SPAN - 4);
		assert_int_equal(pattern_parse(s, strlen(s), 0, &p, why, sizeof why), WARD_OK);
		assert_int_equal(p.segs[0].maxlen, WARD_MAX_SEGMENT_SPAN);
		pattern_free(&p);
		snprintf(s, 64, "4142{%u}4344", WARD_MAX_SEGMENT_SPAN - 3);
		bad_flags(s, 0, WARD_ELIMIT);
		snprintf(s, 64, "4142{%u}4344", WARD_MAX_SEGMENT_SPAN + 1);
		bad_flags(s, 0, WARD_ELIMIT);
		bad_flags("4142{99999999999999999999999}4344", 0, WARD_ELIMIT);
		bad_flags("4142{4294967296}4344", 0, WARD_ELIMIT);
		/* many small gaps add up */
		n = 0;
		n += (size_t)snprintf(s + n, 64, "4142");
		for (unsigned i = 0; i < WARD_MAX_SEGMENT_SPAN / 121 + 2; i++)
			n += (size_t)snprintf(s + n, 64, "{120}41");
		bad_flags(s, 0, WARD_ELIMIT);
		/* but a '*' resets the span */
		snprintf(s, 64, "4142{60000}4142*4142{60000}4142");
		assert_int_equal(pattern_parse(s, strlen(s), 0, &p, why, sizeof why), WARD_OK);
		pattern_free(&p);
	}
	/* nodes: one past WARD_MAX_PATTERN_NODES bytes, in segments */
	{
		n = 0;
		for (unsigned i = 0; i <= WARD_MAX_PATTERN_NODES; i++) {
			if (i && i % 1024 == 0)
				s[n++] = '*';
			s[n++] = '4';
			s[n++] = '1';
		}
		bad_flags(s, 0, WARD_ELIMIT);
		(void)n;
	}
	free(s);
}

/* BodySignatureFormat.md, ExtendedSignatures.md and LogicalSignatures.md
 * examples (hex parts). */
static void test_manual_examples(void **state)
{
	(void)state;
	ok("486f7720646f2049206c6f6f6b20696e206865783f0a",
	   "486f7720646f2049206c6f6f6b20696e206865783f0a");
	ok("aabbcc*bbaacc", "aabbcc*bbaacc");
	ok("6b6f74656b", "6b6f74656b");
	ok("33c06834f04100f2aef7d14951684cf04100e8110a00",
	   "33c06834f04100f2aef7d14951684cf04100e8110a00");
	ok("22??232c2d252229{-15}6e6573(63|64)61706528",
	   "22{1}232c2d252229{0-15}6e6573(63|64)61706528");
	ok("68efa311c3b9963cb1ee8e586d32aeb9043e", "68efa311c3b9963cb1ee8e586d32aeb9043e");
	ok("6300680065005c0046006900", "6300680065005c0046006900");
	/* the macro example's expansion: clamscan refuses it as a body pattern
	 * (the part after {3-4} has no two static bytes) */
	bad("616161{3-4}(626262|636363)");
	ok("616161{3-4}(626262|636363)6565", "616161{3-4}(626262|636363)6565");
	ok_flags("41414141", PAT_NOCASE, "~61~61~61~61");
	ok_flags("68656c6c6f", PAT_FULLWORD | PAT_NOCASE, "~68~65~6c~6c~6f");
	ok_flags("68656c6c6f", PAT_WIDE | PAT_ASCII, "680065006c006c006f00");
	/* the wildcard list */
	ok("4142??4344", "4142{1}4344");
	ok("4142a?4344", "4142a?4344");
	ok("4142?a4344", "4142?a4344");
	ok("4142*4344", "4142*4344");
	ok("4142{5}4344", "4142{5}4344");
	ok("4142{-5}4344", "4142{0-5}4344");
	ok("4142{5-}4344", "4142{5-}4344");
	ok("4142{5-7}4344", "4142{5-7}4344");
	ok("aa[1-5]4142", "aa{1-5}4142");
	ok("4142[1-5]aa", "4142{1-5}aa");
	ok("4142(aa|bb|cc)", "4142(aa|bb|cc)");
	ok("4142!(aa|bb|cc)", "4142!(aa|bb|cc)");
	ok("4142(aaaa|bbbb|cccc)", "4142(aaaa|bbbb|cccc)");
	ok("4142!(aaaa|bbbb|cccc)", "4142!(aaaa|bbbb|cccc)");
}

/* Every allocation failure point: ENOMEM or OK, never a leak (ASan) or crash. */
static void test_alloc_failures(void **state)
{
	(void)state;
	const char *pats[] = {
		"4142(41|(42|4344)|45)4647*4142{3-}(B)4344?"
		"?!(aabb|ccdd)4142[1-2]41",
		"41[1-2]4242(41|4?{3}|)4344{-5}45464748",
	};
	for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++) {
		bool done = false;
		for (long n = 0; n < 10000 && !done; n++) {
			struct pattern p;
			char why[256];
			ward_alloc_fail_after(n);
			ward_err e =
				pattern_parse(pats[k], strlen(pats[k]),
					      k ? PAT_NOCASE | PAT_WIDE : 0, &p, why, sizeof why);
			ward_alloc_fail_after(-1);
			if (e == WARD_OK) {
				done = true;
				pattern_free(&p);
			} else {
				assert_int_equal(e, WARD_ENOMEM);
				assert_null(p.nodes);
			}
		}
		assert_true(done);
	}
	/* freeing a zeroed pattern twice is fine */
	struct pattern z;
	memset(&z, 0, sizeof z);
	pattern_free(&z);
	pattern_free(&z);
	pattern_free(NULL);
}

/* Every hex pattern of the real signature sets must load (clamscan loads all
 * of them). Subsignatures that are not body patterns are skipped. */
static unsigned long real_limit;

static void check_real_pattern(const char *hex, size_t len, uint32_t flags, unsigned long *nok,
			       unsigned long *nbad)
{
	struct pattern p;
	char why[256];
	ward_err e = pattern_parse(hex, len, flags, &p, why, sizeof why);
	if (e == WARD_OK) {
		(*nok)++;
		pattern_free(&p);
		return;
	}
	if (*nbad + real_limit < 20)
		print_message("rejected (%d) %.*s: %s\n", e, (int)(len > 200 ? 200 : len), hex,
			      why);
	if (e == WARD_ELIMIT)
		real_limit++;
	else
		(*nbad)++;
}

static void ldb_subsig(const char *s, size_t len, unsigned long *nok, unsigned long *nbad)
{
	/* macro, pcre, byte compare: not body patterns */
	if (memchr(s, '$', len) || memchr(s, '/', len) || memchr(s, '#', len))
		return;
	uint32_t flags = 0;
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] == ':' && s[i + 1] == ':') {
			for (size_t k = i + 2; k < len; k++)
				flags |= s[k] == 'i'   ? PAT_NOCASE
					 : s[k] == 'w' ? PAT_WIDE
					 : s[k] == 'f' ? PAT_FULLWORD
					 : s[k] == 'a' ? PAT_ASCII
						       : 0;
			len = i;
			break;
		}
	}
	const char *colon = memchr(s, ':', len);
	if (colon) {
		len -= (size_t)(colon + 1 - s);
		s = colon + 1;
	}
	check_real_pattern(s, len, flags, nok, nbad);
}

static void test_real_signatures(void **state)
{
	(void)state;
	static const char *const files[] = {"daily.ndb.gz", "rfxn.ndb.gz", "main.ldb.gz"};
	unsigned long nok = 0, nbad = 0;
	char *line = malloc(WARD_MAX_LINE + 2);
	assert_non_null(line);
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		char path[1024];
		snprintf(path, sizeof path, "%s/sigs/%s", WARD_SHARED_DIR, files[f]);
		gzFile gz = gzopen(path, "rb");
		if (!gz) {
			print_message("skipping %s: not found\n", path);
			continue;
		}
		bool ldb = strstr(files[f], ".ldb") != NULL;
		while (gzgets(gz, line, (int)WARD_MAX_LINE + 1)) {
			size_t len = strcspn(line, "\r\n");
			line[len] = '\0';
			if (len == 0 || line[0] == '#')
				continue;
			if (!ldb) {
				/* Name:Target:Offset:Hex[:min[:max]] */
				char *p = line;
				for (int k = 0; k < 3 && p; k++) {
					p = strchr(p, ':');
					if (p)
						p++;
				}
				if (!p)
					continue;
				size_t hl = strcspn(p, ":");
				check_real_pattern(p, hl, 0, &nok, &nbad);
				continue;
			}
			/* Name;TDB;Expr;Sub0;Sub1... */
			char *p = line;
			for (int k = 0; k < 3 && p; k++) {
				p = strchr(p, ';');
				if (p)
					p++;
			}
			while (p && *p) {
				size_t sl = strcspn(p, ";");
				ldb_subsig(p, sl, &nok, &nbad);
				p += sl;
				if (*p == ';')
					p++;
			}
		}
		gzclose(gz);
	}
	free(line);
	print_message("real patterns: %lu accepted, %lu rejected, %lu over a limit\n", nok, nbad,
		      real_limit);
	/* WARD_MAX_SEGMENT_SPAN was 64 KiB, which refused two official
	 * signatures (gaps of 13 KiB + 32 KiB, and 192 KiB, in one segment). */
	assert_int_equal(nbad, 0);
	assert_true(real_limit <= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_and_nibbles),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_alternatives),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_modifiers),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_manual_examples),
		cmocka_unit_test(test_alloc_failures),
		cmocka_unit_test(test_real_signatures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
