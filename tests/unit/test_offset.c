/* Offset parser (lib/db/offset.c): ExtendedSignatures.md forms, acceptance
 * checked against clamscan 1.4.6. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "db/sigs.h"

static struct sigoffset ok(const char *s)
{
	struct sigoffset o;
	char why[128];
	ward_err e = offset_parse(s, strlen(s), &o, why, sizeof why);
	if (e != WARD_OK)
		fail_msg("'%s': unexpected error %d: %s", s, e, why);
	return o;
}

static void check(const char *s, enum offset_kind kind, uint64_t n, uint32_t section, bool floating,
		  uint64_t maxshift)
{
	struct sigoffset o = ok(s);
	if (o.kind != kind || o.n != n || o.section != section || o.floating != floating ||
	    o.maxshift != maxshift)
		fail_msg("'%s': kind %u n %llu sec %u float %d shift %llu", s, o.kind,
			 (unsigned long long)o.n, o.section, o.floating,
			 (unsigned long long)o.maxshift);
}

static void bad(const char *s)
{
	struct sigoffset o;
	memset(&o, 0x5a, sizeof o);
	char why[128] = "";
	ward_err e = offset_parse(s, strlen(s), &o, why, sizeof why);
	if (e != WARD_ECORRUPT)
		fail_msg("'%s': got %d, want ECORRUPT", s, e);
	if (!why[0])
		fail_msg("'%s': no reason", s);
	assert_int_equal(o.kind, OFF_ANY);
	assert_false(o.floating);
}

static void test_forms(void **state)
{
	(void)state;
	check("*", OFF_ANY, 0, 0, false, 0);
	check("0", OFF_ABS, 0, 0, false, 0);
	check("10", OFF_ABS, 10, 0, false, 0);
	check("010", OFF_ABS, 10, 0, false, 0);
	check("4294967295", OFF_ABS, 4294967295u, 0, false, 0);
	check("EOF-0", OFF_EOF, 0, 0, false, 0);
	check("EOF-10", OFF_EOF, 10, 0, false, 0);
	check("EP+0", OFF_EP_PLUS, 0, 0, false, 0);
	check("EP+123", OFF_EP_PLUS, 123, 0, false, 0);
	check("EP-0", OFF_EP_MINUS, 0, 0, false, 0);
	check("EP-10", OFF_EP_MINUS, 10, 0, false, 0);
	check("S0+0", OFF_SECTION, 0, 0, false, 0);
	check("S2+78", OFF_SECTION, 78, 2, false, 0);
	check("S3+50", OFF_SECTION, 50, 3, false, 0);
	check("SE0", OFF_SECTION_ALL, 0, 0, false, 0);
	check("SE7", OFF_SECTION_ALL, 0, 7, false, 0);
	check("SL+0", OFF_LAST_SECTION, 0, 0, false, 0);
	check("SL+550", OFF_LAST_SECTION, 550, 0, false, 0);
	check("VI", OFF_VERSIONINFO, 0, 0, false, 0);
}

static void test_floating(void **state)
{
	(void)state;
	/* ExtendedSignatures.md: "10,5 will match all offsets from 10 to 15" */
	check("10,5", OFF_ABS, 10, 0, true, 5);
	check("EP+10,5", OFF_EP_PLUS, 10, 0, true, 5);
	check("EP-10,5", OFF_EP_MINUS, 10, 0, true, 5);
	check("EOF-10,5", OFF_EOF, 10, 0, true, 5);
	check("S1+10,4", OFF_SECTION, 10, 1, true, 4);
	check("SE1,5", OFF_SECTION_ALL, 0, 1, true, 5);
	check("SL+10,5", OFF_LAST_SECTION, 10, 0, true, 5);
	check("VI,5", OFF_VERSIONINFO, 0, 0, true, 5);
	check("0,0", OFF_ABS, 0, 0, true, 0);
	/* ExtendedSignatures.md / LogicalSignatures.md PCRE examples */
	check("200,300", OFF_ABS, 200, 0, true, 300);
	check("299", OFF_ABS, 299, 0, false, 0);
}

static void test_rejected(void **state)
{
	(void)state;
	/* rejected by clamscan too */
	bad("");
	bad("-1");
	bad("+1");
	bad("*,5");
	bad("EOF+10");
	bad("EOF");
	bad("EP");
	bad("EP10");
	bad("S0-10");
	bad("S0");
	bad("S+1");
	bad("S0+");
	bad("SE1+2");
	bad("SL-10");
	bad("SL");
	bad("ep+1");
	bad("eof-1");
	bad("EP+0x10");
	bad(" 10");
	bad("10 ");
	bad("EOF-10,5,3");
	bad("10,5,3");
	/* accepted by clamscan (atoi of nothing = 0), never used: rejected */
	bad("10,");
	bad(",5");
	bad("EOF-");
	bad("EP+");
	bad("SE");
	bad("VI+1");
	/* above 32 bits: clamscan wraps silently */
	bad("4294967296");
	bad("18446744073709551616");
	bad("EP+4294967296");
	bad("S4294967296+1");
	bad("10,4294967296");
	bad("10,-1");
	bad("0123456789012345678901234567890123456789012345678901234567890123456789");
	/* a byte range, not a C string */
	struct sigoffset o;
	char why[64];
	assert_int_equal(offset_parse("10\0"
				      "5",
				      4, &o, why, sizeof why),
			 WARD_ECORRUPT);
	assert_int_equal(offset_parse("105", 2, &o, why, sizeof why), WARD_OK);
	assert_int_equal(o.n, 10);
	assert_int_equal(offset_parse("EOF-", 4, &o, NULL, 0), WARD_ECORRUPT);
	assert_int_equal(offset_parse("1", 1, NULL, NULL, 0), WARD_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_floating),
		cmocka_unit_test(test_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
