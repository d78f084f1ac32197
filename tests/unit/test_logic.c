/* Logical expressions (lib/db/logic.c). Every evaluation case below was run
 * through clamscan 1.4.6 (binary file, subsigs 414141/424242/434343/444444
 * present the given number of times) and the expected value is what clamscan
 * did; see docs/internals/logic.md. */
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

/* ---- debugging helper: fully parenthesised rendering of a tree ---- */
static void render_node(const struct lnode *e, uint32_t n, uint32_t i, char *buf, size_t cap,
			size_t *len)
{
	int k = 0;
	if (i >= n || *len >= cap)
		return;
	const struct lnode *x = &e[i];
	switch (x->kind) {
	case LN_SUB:
		k = snprintf(buf + *len, cap - *len, "%u", x->a);
		break;
	case LN_AND:
	case LN_OR:
		k = snprintf(buf + *len, cap - *len, "(");
		*len += (size_t)k;
		render_node(e, n, x->a, buf, cap, len);
		k = snprintf(buf + *len, cap - *len, "%c", x->kind == LN_AND ? '&' : '|');
		*len += (size_t)k;
		render_node(e, n, x->b, buf, cap, len);
		k = snprintf(buf + *len, cap - *len, ")");
		break;
	default:
		k = snprintf(buf + *len, cap - *len, "[");
		*len += (size_t)k;
		render_node(e, n, x->a, buf, cap, len);
		if (x->has_y)
			k = snprintf(buf + *len, cap - *len, "%c%u,%u]",
				     x->kind == LN_EQ   ? '='
				     : x->kind == LN_GT ? '>'
							: '<',
				     x->x, x->y);
		else
			k = snprintf(buf + *len, cap - *len, "%c%u]",
				     x->kind == LN_EQ   ? '='
				     : x->kind == LN_GT ? '>'
							: '<',
				     x->x);
	}
	if (k > 0)
		*len += (size_t)k;
	if (*len >= cap)
		*len = cap - 1;
}

static const char *render(const struct lnode *e, uint32_t n)
{
	static char buf[4096];
	size_t len = 0;
	buf[0] = '\0';
	render_node(e, n, 0, buf, sizeof buf, &len);
	return buf;
}

static void tree(const char *expr, uint32_t nsubs, const char *want)
{
	struct lnode *e;
	uint32_t n;
	char why[256];
	ward_err r = logic_parse(expr, strlen(expr), nsubs, &e, &n, why, sizeof why);
	if (r != WARD_OK)
		fail_msg("'%s': error %d: %s", expr, r, why);
	/* pre-order layout: children after parents */
	for (uint32_t i = 0; i < n; i++) {
		if (e[i].kind != LN_SUB)
			assert_true(e[i].a > i && e[i].a < n);
		if (e[i].kind == LN_AND || e[i].kind == LN_OR)
			assert_true(e[i].b > i && e[i].b < n);
	}
	const char *got = render(e, n);
	if (strcmp(got, want) != 0)
		fail_msg("'%s': got %s want %s", expr, got, want);
	w_free(e);
}

static void bad_n(const char *expr, uint32_t nsubs, ward_err want)
{
	struct lnode *e = (struct lnode *)1;
	uint32_t n = 77;
	char why[256] = "";
	ward_err r = logic_parse(expr, strlen(expr), nsubs, &e, &n, why, sizeof why);
	if (r != want)
		fail_msg("'%s': got %d want %d (%s)", expr, r, want, why);
	if (!why[0])
		fail_msg("'%s': no reason", expr);
	assert_null(e);
	assert_int_equal(n, 0);
}
static void bad(const char *expr) { bad_n(expr, 4, WARD_ECORRUPT); }

struct evcase {
	const char *expr;
	uint32_t nsubs;
	uint32_t c[4];
	bool want;
};

/* clamscan 1.4.6 results */
static const struct evcase clam_cases[] = {
	/* counts of blocks are sums */
	{"(0|1)>2", 2, {2, 2}, true},
	{"(0|1)>2", 2, {2, 1}, true},
	{"(0|1)>2", 2, {2, 0}, false},
	{"(0|1)>2", 2, {3, 0}, true},
	{"(0|1)>2", 2, {0, 3}, true},
	{"(0&1)>2", 2, {2, 1}, true},
	{"(0&1)>2", 2, {3, 0}, false},
	{"(0&1)>0", 2, {1, 0}, false},
	{"(0&1)>0", 2, {1, 1}, true},
	{"(0&1)=1", 2, {1, 0}, false},
	{"(0&1)=3", 2, {2, 1}, true},
	{"(0|1)=3", 2, {2, 1}, true},
	{"(0|1)=3", 2, {3, 0}, true},
	/* Y: distinct subsigs */
	{"(0|1)>1,2", 2, {2, 0}, false},
	{"(0|1)>1,2", 2, {1, 1}, true},
	{"(0|1)>1,2", 2, {2, 1}, true},
	{"(0|1)=2,2", 2, {1, 1}, true},
	{"(0|1)=2,2", 2, {2, 0}, false},
	{"(0|1)=2,1", 2, {2, 0}, true},
	{"(0|1)<3,2", 2, {1, 1}, true},
	{"(0|1)<3,2", 2, {2, 0}, false},
	{"(0|1)<3,2", 2, {0, 0}, false},
	{"(0|1)=2,3", 2, {1, 1}, false},
	{"(0|1)=2,0", 2, {2, 0}, true},
	/* precedence: equal, right-grouped at top level */
	{"0|1&2", 3, {1, 0, 0}, true},
	{"0|1&2", 3, {0, 0, 1}, false},
	{"0|1&2", 3, {1, 1, 0}, true},
	{"0&1|2", 3, {0, 0, 1}, false},
	{"0&1|2", 3, {1, 0, 0}, false},
	{"0&1|2", 3, {1, 1, 0}, true},
	{"0&1|2&3", 4, {0, 0, 1, 1}, false},
	{"0&1|2&3", 4, {1, 1, 0, 0}, true},
	{"0|1&2|3", 4, {1, 0, 0, 0}, true},
	{"0|1&2|3", 4, {0, 1, 0, 1}, true},
	{"0|1&2|3", 4, {0, 1, 0, 0}, false},
	/* ... and split at the last operator inside parentheses */
	{"(0&1|2)>0", 3, {0, 0, 1}, true},
	{"(0|1&2)>0", 3, {1, 0, 0}, false},
	{"(0&1|2)", 3, {0, 0, 1}, true},
	{"((0&1)|2)", 3, {0, 0, 1}, true},
	{"(0)&1|2", 3, {1, 1, 1}, true},
	{"(0|1)&2", 3, {1, 1, 1}, true},
	{"((0|1))&2", 3, {1, 1, 1}, true},
	/* a modifier binds to its operand only */
	{"0&1>1", 2, {1, 1}, false},
	{"0&1>1", 2, {1, 2}, true},
	{"0>1&1", 2, {2, 1}, true},
	{"0>1&1", 2, {1, 1}, false},
	/* true with nothing matched */
	{"(0|1)<3", 2, {0, 0}, true},
	{"(0|1)<3", 2, {1, 0}, true},
	{"(0&1)<5", 2, {1, 0}, true},
	{"(0&1)<5", 2, {1, 1}, true},
	{"(0&1)=0", 2, {1, 0}, true},
	{"(0&1)=0", 2, {0, 0}, true},
	{"(0|1)=0", 2, {0, 0}, true},
	{"(0|1)=0", 2, {1, 0}, false},
	{"0<1", 1, {0}, true},
	{"0=0", 1, {0}, true},
	{"0=0", 1, {1}, false},
	{"0=0,0", 1, {0}, true},
	{"0=0&1", 2, {0, 1}, true},
	{"0=0&1", 2, {1, 1}, false},
	{"0=0|1", 2, {0, 0}, true},
	{"0<1|1", 2, {0, 0}, true},
	{"0<2&1", 2, {1, 1}, true},
	{"0<2&1", 2, {2, 1}, false},
	{"0<2&1", 2, {0, 1}, true},
	{"(0=0)&1", 2, {0, 1}, true},
	/* single subsig counts; Y ignored on a single subsig */
	{"0>0", 1, {1}, true},
	{"0", 1, {3}, true},
	{"0", 1, {0}, false},
	{"0=2", 1, {2}, true},
	{"0=2", 1, {3}, false},
	{"0>1,1", 1, {2}, true},
	{"0>1,2", 1, {2}, true},
	/* false operands add nothing; modified operands add their count */
	{"(0>5|1)>0", 2, {1, 0}, false},
	{"(0>5|1)>1", 2, {1, 1}, false},
	{"(0>5|1)>0", 2, {1, 1}, true},
	{"((0&1)|2)>0", 3, {1, 0, 0}, false},
	{"((0&1)|2)>0,1", 3, {1, 0, 1}, true},
	{"((0&1)|2)>0,2", 3, {1, 0, 1}, false},
	{"((0&1)|2)>1", 3, {1, 0, 1}, false},
	{"(0>1|1)=3", 2, {2, 1}, true},
	{"(0>2|1)=3", 2, {2, 1}, false},
	{"(0>2|1)=1", 2, {2, 1}, true},
	{"(0=0|1)=0", 2, {0, 0}, true},
	{"(0=0|1)>0", 2, {0, 1}, true},
	{"(0<3|1)=2", 2, {2, 0}, true},
	{"(0<3|1)=2", 2, {1, 1}, true},
	{"(0<3|1)=2,2", 2, {1, 1}, true},
	{"(0<3&1)=2,2", 2, {1, 1}, true},
	{"(0=0&1)=1", 2, {0, 1}, true},
	{"(0=0&1)=1,1", 2, {0, 1}, true},
	/* a true single-subsig modifier adds its subsig even at count 0 */
	{"(0=0&1)>0,2", 2, {0, 1}, true},
	{"(0=0|1)>0,2", 2, {0, 1}, true},
	{"(0>0|1)>0,2", 2, {0, 1}, false},
	{"(0<1|1)>0,2", 2, {0, 1}, true},
	{"(0=0&1)>1", 2, {5, 2}, false},
	{"(0>5&1)=0", 2, {1, 1}, true},
	{"(0>5&1)=0,0", 2, {1, 1}, true},
	/* a modified block passes its count up but not its subsig set */
	{"((0|1)>1,2|2)>0,3", 3, {1, 1, 1}, false},
	{"((0|1)>1,2|2)>0,3", 3, {1, 0, 1}, false},
	{"((0|1)=1|2)=2,2", 3, {1, 0, 1}, false},
	{"((0|1)=1|2)=1,1", 3, {2, 0, 1}, true},
	{"((0|1)>1|2)>2", 3, {1, 1, 1}, true},
	{"((0|1)>1|2)>0,2", 3, {1, 1, 1}, false},
	{"((0|1)>1|2)>0,2", 3, {1, 1, 0}, false},
	{"((0|1)>1|2)>1", 3, {1, 1, 0}, true},
	{"((0|1)>1)", 2, {1, 1}, true},
};

static void test_clamscan_semantics(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof clam_cases / sizeof clam_cases[0]; i++) {
		const struct evcase *c = &clam_cases[i];
		struct lnode *e;
		uint32_t n;
		char why[256];
		ward_err r =
			logic_parse(c->expr, strlen(c->expr), c->nsubs, &e, &n, why, sizeof why);
		if (r != WARD_OK)
			fail_msg("'%s': error %d: %s", c->expr, r, why);
		bool got = logic_eval(e, n, c->c);
		if (got != c->want)
			fail_msg("'%s' counts [%u %u %u %u]: got %d want %d (tree %s)", c->expr,
				 c->c[0], c->c[1], c->c[2], c->c[3], got, c->want, render(e, n));
		w_free(e);
	}
}

static void test_grouping(void **state)
{
	(void)state;
	tree("0", 1, "0");
	tree("0&1", 2, "(0&1)");
	tree("0&1|2", 3, "(0&(1|2))");
	tree("0|1&2|3", 4, "(0|(1&(2|3)))");
	tree("(0&1|2)", 3, "((0&1)|2)");
	tree("(0|1&2|3)", 4, "((0|(1&2))|3)");
	tree("0|1&(2&3)", 4, "(0|(1&(2&3)))");
	tree("(0&1&2)|3&(4|5)", 6, "(((0&1)&2)|(3&(4|5)))");
	tree("(0)", 1, "0");
	tree("((0))&1", 2, "(0&1)");
	tree("(0=0)", 1, "[0=0]");
	tree("((0|1)>1)", 2, "[(0|1)>1]");
	tree("0>1,2", 1, "[0>1,2]");
	tree("(0|1)>1,2", 2, "[(0|1)>1,2]");
	tree("01|1", 2, "(1|1)");
	/* sloppy forms found in main.ldb, accepted by clamscan */
	tree("(0&1&(7>5)&(8==9))", 10, "((0&(1&[7>5]))&[8=9])");
	tree("0=2,&1&2", 3, "([0=2]&(1&2))");
	tree("0>1,", 2, "[0>1]");
	tree("(0|1)>1,", 2, "[(0|1)>1]");
	tree("8<=9", 9, "[8=9]");
	tree("(0|1)=4294967295", 2, "[(0|1)=4294967295]");
}

/* LogicalSignatures.md examples */
static void test_manual_examples(void **state)
{
	(void)state;
	tree("(0&1&2&3)&(4|1)", 5, "(((0&(1&2))&3)&(4|1))");
	tree("((0|1|2)>5,2)&(3|1)", 4, "([((0|1)|2)>5,2]&(3|1))");
	tree("((0|1|2|3)=2)&(4|1)", 5, "([((0|(1|2))|3)=2]&(4|1))");
	tree("((0|1)&(2|3))&4", 5, "(((0|1)&(2|3))&4)");
	tree("0&1", 2, "(0&1)");
	tree("0&1&2", 3, "(0&(1&2))");
	tree("1", 2, "1");

	struct {
		const char *expr;
		uint32_t nsubs;
		uint32_t c[5];
		bool want;
	} ev[] = {
		/* Sig1: all of 0..3 and one of 4, 1 */
		{"(0&1&2&3)&(4|1)", 5, {1, 1, 1, 1, 0}, true},
		{"(0&1&2&3)&(4|1)", 5, {1, 1, 1, 0, 1}, false},
		/* Sig2: more than 5 matches of 0..2 from at least 2 of them, and 3 or 1 */
		{"((0|1|2)>5,2)&(3|1)", 4, {6, 0, 0, 1}, false},
		{"((0|1|2)>5,2)&(3|1)", 4, {5, 1, 0, 0}, true},
		{"((0|1|2)>5,2)&(3|1)", 4, {3, 0, 3, 0}, false},
		{"((0|1|2)>5,2)&(3|1)", 4, {3, 0, 3, 1}, true},
		/* Sig3: exactly 2 matches from 0..3 */
		{"((0|1|2|3)=2)&(4|1)", 5, {1, 1, 0, 0, 0}, true},
		{"((0|1|2|3)=2)&(4|1)", 5, {2, 1, 0, 0, 0}, false},
		{"((0|1|2|3)=2)&(4|1)", 5, {2, 0, 0, 0, 1}, true},
		/* Sig4 */
		{"((0|1)&(2|3))&4", 5, {0, 1, 1, 0, 1}, true},
		{"((0|1)&(2|3))&4", 5, {0, 1, 1, 0, 0}, false},
		/* "A=0 specifies negation" */
		{"0&1=0", 2, {1, 0}, true},
		{"0&1=0", 2, {1, 1}, false},
	};
	for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) {
		struct lnode *e;
		uint32_t n;
		char why[256];
		assert_int_equal(logic_parse(ev[i].expr, strlen(ev[i].expr), ev[i].nsubs, &e, &n,
					     why, sizeof why),
				 WARD_OK);
		if (logic_eval(e, n, ev[i].c) != ev[i].want)
			fail_msg("manual example %zu '%s' wrong", i, ev[i].expr);
		w_free(e);
	}
}

static void test_errors(void **state)
{
	(void)state;
	/* rejected by clamscan */
	bad("");
	bad("((0|1))>1");
	bad("(0)>1");
	bad("((0))>1");
	bad("(0|1)2");
	bad("0&&1");
	bad("0&");
	bad("&0");
	bad("()");
	bad("(0|1");
	bad("0|1)");
	bad("0>a");
	bad("0>");
	bad("(0|1)>");
	bad("(0|1)>,2");
	bad("(0|1)==2");
	bad("0>=");
	bad("(0>1)>2");
	/* accepted by clamscan's sscanf-based parser, refused here */
	bad("0>1>2");
	bad("(0|1)>1,2,3");
	bad("0&1 ");
	bad("0|+1");
	bad("0>+1");
	bad("(0|1)=4294967296");
	bad("0>-1");
	bad("0x1");
	/* index range */
	bad_n("4", 4, WARD_ECORRUPT);
	bad_n("0|1", 1, WARD_ECORRUPT);
	bad_n("99999999999999999999999", 4, WARD_ECORRUPT);
	bad_n("0", 0, WARD_ECORRUPT);
	bad_n("0", WARD_MAX_SUBSIGS + 1, WARD_ELIMIT);
	/* byte range, reason with position */
	struct lnode *e;
	uint32_t n;
	char why[256];
	assert_int_equal(logic_parse("0&1\0"
				     "2",
				     5, 3, &e, &n, why, sizeof why),
			 WARD_ECORRUPT);
	assert_non_null(strstr(why, "offset 3"));
	assert_int_equal(logic_parse("0&12", 3, 2, &e, &n, why, sizeof why), WARD_OK);
	w_free(e);
	assert_int_equal(logic_parse("0&", 2, 2, &e, &n, NULL, 0), WARD_ECORRUPT);
	assert_int_equal(logic_parse("0", 1, 1, NULL, &n, NULL, 0), WARD_EINVAL);
	/* eval on nonsense is false, not a crash */
	uint32_t c[2] = {1, 1};
	assert_false(logic_eval(NULL, 0, c));
	struct lnode loop = {.kind = LN_AND, .a = 0, .b = 0};
	(void)loop; /* would trip NEVER() in debug builds: not evaluated here */
}

static void test_limits(void **state)
{
	(void)state;
	char *s = malloc(1u << 16);
	assert_non_null(s);
	size_t n = 0;
	/* nesting */
	for (unsigned depth = WARD_MAX_LOGIC_DEPTH - 1; depth <= WARD_MAX_LOGIC_DEPTH + 1;
	     depth++) {
		n = 0;
		for (unsigned i = 0; i < depth; i++)
			s[n++] = '(';
		s[n++] = '0';
		s[n++] = '&';
		s[n++] = '1';
		for (unsigned i = 0; i < depth; i++)
			s[n++] = ')';
		struct lnode *e;
		uint32_t nn;
		char why[256];
		ward_err r = logic_parse(s, n, 2, &e, &nn, why, sizeof why);
		assert_int_equal(r, depth <= WARD_MAX_LOGIC_DEPTH ? WARD_OK : WARD_ELIMIT);
		if (r == WARD_OK) {
			uint32_t c[2] = {1, 1};
			assert_true(logic_eval(e, nn, c));
			w_free(e);
		}
	}
	/* a long chain: no recursion per operator; node limit */
	for (unsigned ops = WARD_MAX_LOGIC_NODES / 2 - 1; ops <= WARD_MAX_LOGIC_NODES / 2; ops++) {
		n = 0;
		s[n++] = '0';
		for (unsigned i = 0; i < ops; i++) {
			s[n++] = i % 2 ? '&' : '|';
			s[n++] = '1';
		}
		struct lnode *e;
		uint32_t nn;
		char why[256];
		ward_err r = logic_parse(s, n, 2, &e, &nn, why, sizeof why);
		assert_int_equal(r, 2 * ops + 1 <= WARD_MAX_LOGIC_NODES ? WARD_OK : WARD_ELIMIT);
		if (r == WARD_OK) {
			uint32_t c[2] = {0, 1};
			assert_true(logic_eval(e, nn, c));
			w_free(e);
		}
	}
	free(s);
}

static void test_alloc_failures(void **state)
{
	(void)state;
	const char *x = "((0|1|2)>5,2)&(3|1)&0=0&(0&1|2)";
	bool done = false;
	for (long k = 0; k < 1000 && !done; k++) {
		struct lnode *e;
		uint32_t n;
		char why[256];
		ward_alloc_fail_after(k);
		ward_err r = logic_parse(x, strlen(x), 4, &e, &n, why, sizeof why);
		ward_alloc_fail_after(-1);
		if (r == WARD_OK) {
			done = true;
			w_free(e);
		} else {
			assert_int_equal(r, WARD_ENOMEM);
			assert_null(e);
		}
	}
	assert_true(done);
}

/* Every expression of the real main.ldb parses (clamscan loads them all). */
static void test_real_expressions(void **state)
{
	(void)state;
	char path[1024];
	snprintf(path, sizeof path, "%s/sigs/main.ldb.gz", WARD_SHARED_DIR);
	gzFile gz = gzopen(path, "rb");
	if (!gz) {
		print_message("skipping: %s not found\n", path);
		return;
	}
	char *line = malloc(WARD_MAX_LINE + 2);
	assert_non_null(line);
	unsigned long nok = 0, nbad = 0;
	while (gzgets(gz, line, (int)WARD_MAX_LINE + 1)) {
		char *f1 = strchr(line, ';');
		char *f2 = f1 ? strchr(f1 + 1, ';') : NULL;
		char *f3 = f2 ? strchr(f2 + 1, ';') : NULL;
		if (!f3)
			continue;
		uint32_t nsubs = 0;
		for (char *q = f3; *q && *q != '\n'; q++)
			nsubs += *q == ';';
		struct lnode *e;
		uint32_t n;
		char why[256];
		ward_err r =
			logic_parse(f2 + 1, (size_t)(f3 - f2 - 1), nsubs, &e, &n, why, sizeof why);
		if (r == WARD_OK) {
			nok++;
			w_free(e);
		} else {
			if (nbad++ < 10)
				print_message("rejected %.*s: %s\n", (int)(f3 - f2 - 1), f2 + 1,
					      why);
		}
	}
	gzclose(gz);
	free(line);
	print_message("real expressions: %lu accepted, %lu rejected\n", nok, nbad);
	assert_int_equal(nbad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clamscan_semantics),
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_manual_examples),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_alloc_failures),
		cmocka_unit_test(test_real_expressions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
