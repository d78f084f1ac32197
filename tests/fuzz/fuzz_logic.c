/*
 * libFuzzer harness for logical expressions: byte 0 picks the number of
 * subsignatures, bytes 1..8 their match counts (small, so comparisons are
 * interesting), the rest is the expression. On success the tree's pre-order
 * invariant is checked and the expression evaluated.
 */
#include <stddef.h>
#include <stdint.h>

#include "db/sigs.h"

#define CHECK(x) \
	do { \
		if (!(x)) \
			__builtin_trap(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 9)
		return 0;
	uint32_t nsubs = 1u + data[0] % WARD_MAX_SUBSIGS;
	uint32_t counts[WARD_MAX_SUBSIGS];
	for (uint32_t i = 0; i < WARD_MAX_SUBSIGS; i++)
		counts[i] = data[1 + i % 8] % 5u;
	struct lnode *e = NULL;
	uint32_t n = 0;
	char why[160];
	ward_err r = logic_parse((const char *)data + 9, size - 9, nsubs, &e, &n, why, sizeof why);
	if (r != WARD_OK) {
		CHECK(r == WARD_ECORRUPT || r == WARD_ELIMIT || r == WARD_ENOMEM);
		CHECK(e == NULL && n == 0 && why[0] != '\0');
		return 0;
	}
	CHECK(n >= 1 && n <= WARD_MAX_LOGIC_NODES);
	for (uint32_t i = 0; i < n; i++) {
		CHECK(e[i].kind <= LN_LT);
		if (e[i].kind == LN_SUB)
			CHECK(e[i].a < nsubs);
		else
			CHECK(e[i].a > i && e[i].a < n);
		if (e[i].kind == LN_AND || e[i].kind == LN_OR)
			CHECK(e[i].b > i && e[i].b < n);
	}
	(void)logic_eval(e, n, counts);
	w_free(e);
	return 0;
}
