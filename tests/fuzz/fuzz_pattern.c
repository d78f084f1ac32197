/*
 * libFuzzer harness for the body pattern parser: the first byte selects the
 * PAT_* modifiers, the rest is the hex pattern text. On success the result's
 * invariants are checked (every index in range, spans within the limit); on
 * failure the output must be zeroed. Engine limits stay on.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "db/sigs.h"

#define CHECK(x) \
	do { \
		if (!(x)) \
			__builtin_trap(); \
	} while (0)

static void check_seq(const struct pattern *p, uint32_t first, uint32_t count)
{
	CHECK(first <= p->nnodes && count <= p->nnodes - first);
	for (uint32_t i = 0; i < count; i++) {
		const struct pnode *n = &p->nodes[first + i];
		CHECK(n->kind <= PN_CLASS);
		if (n->kind == PN_GAP)
			CHECK(n->a <= n->b && n->b <= WARD_MAX_SEGMENT_SPAN);
		if (n->kind == PN_BYTE)
			CHECK((n->val & ~n->mask) == 0);
		if (n->kind == PN_ALT) {
			CHECK(n->b >= 1 && n->b <= WARD_MAX_ALT_BRANCHES);
			CHECK(n->a <= p->nseqs && n->b <= p->nseqs - n->a);
			for (uint32_t k = 0; k < n->b; k++)
				CHECK(p->seqs[n->a + k].first <= p->nnodes &&
				      p->seqs[n->a + k].count <=
					      p->nnodes - p->seqs[n->a + k].first);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint32_t flags = data[0] & (PAT_NOCASE | PAT_WIDE | PAT_FULLWORD | PAT_ASCII);
	struct pattern p;
	char why[160];
	ward_err e = pattern_parse((const char *)data + 1, size - 1, flags, &p, why, sizeof why);
	if (e != WARD_OK) {
		CHECK(e == WARD_ECORRUPT || e == WARD_ELIMIT || e == WARD_ENOMEM);
		CHECK(p.nodes == NULL && p.seqs == NULL && p.segs == NULL && p.nnodes == 0);
		CHECK(memchr(why, '\0', sizeof why) != NULL && why[0] != '\0');
		return 0;
	}
	CHECK(p.nsegs >= 1 && p.nnodes <= WARD_MAX_PATTERN_NODES);
	for (uint32_t i = 0; i < p.nseqs; i++)
		check_seq(&p, p.seqs[i].first, p.seqs[i].count);
	for (uint32_t i = 0; i < p.nsegs; i++) {
		const struct psegment *s = &p.segs[i];
		CHECK(s->body.count >= 1);
		CHECK(s->minlen <= s->maxlen && s->maxlen <= WARD_MAX_SEGMENT_SPAN);
		CHECK(i > 0 || s->gap_before == 0);
		check_seq(&p, s->body.first, s->body.count);
	}
	pattern_free(&p);
	return 0;
}
