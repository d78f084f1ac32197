/*
 * The exact verifier for body patterns (see lib/compile/db.h for the two-stage
 * design). A segment is matched by advancing a *set* of positions node by node
 * (a bitset over the segment's span) instead of backtracking, so a pattern with
 * alternatives and ranged gaps costs at most nodes x span per attempt whatever
 * the data: no input can make verification exponential.
 */
#ifndef WARD_SCAN_MATCH_H
#define WARD_SCAN_MATCH_H

#include "compile/db.h"

/* What one search remembered, so repeated searches for the same segment (one
 * per anchor candidate) do not rescan the file: without it, "AAAA*BBBB" over a
 * file full of AAAA would be quadratic. Valid while gen matches. */
struct segmemo {
	uint32_t gen;
	bool f_ok;
	size_t f_from, f_start, f_end;  /* forward: query from, result */
	size_t f_fail;                  /* forward searches from >= this find nothing */
	size_t b_limit, b_start, b_end; /* backward: query limit, result */
	bool b_ok;
	size_t b_fail;     /* backward searches with limit <= this find nothing */
	size_t b_lo, b_hi; /* start window the cached backward result used */
};

struct matcher {
	uint64_t *words; /* bitset arena */
	size_t nwords;
	size_t top;
	struct segmemo *memo; /* one per segment of every multi-segment pattern */
	size_t nmemo;
	uint32_t *memo_base; /* per body signature: first memo index, or UINT32_MAX */
	uint32_t gen;        /* current object; bumped per object */
	uint64_t steps;      /* verification work done (for the time budget) */
	uint64_t steps_at_clock;
	uint64_t deadline_ms; /* now_ms() after which verification gives up; 0 = none */
	bool expired;         /* the deadline passed: every search now fails */
};

ward_err matcher_init(struct matcher *m, const struct ward_db *db);
void matcher_free(struct matcher *m);
/* Start a new object: forget per-object memos. */
void matcher_reset(struct matcher *m);

/* Verify body signature `sig` whose anchor literal was found at absolute
 * offset `a`. The whole match must start in [lo, hi]. On success stores the
 * match start and end (exclusive). */
bool match_anchor(struct matcher *m, const struct ward_db *db, uint32_t sig, const uint8_t *data,
		  size_t len, size_t a, size_t lo, size_t hi, size_t *start, size_t *end);

/* Find the first match of body signature `sig` whose start is in [lo, hi]
 * without an anchor (the slow path, and offset-constrained signatures). */
bool match_find(struct matcher *m, const struct ward_db *db, uint32_t sig, const uint8_t *data,
		size_t len, size_t lo, size_t hi, size_t *start, size_t *end);

#endif /* WARD_SCAN_MATCH_H */
