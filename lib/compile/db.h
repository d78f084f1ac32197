/*
 * The compiled database: parsed signatures plus everything derived for fast
 * matching. Built once by ward_db_load() and never modified afterwards, so any
 * number of scanners (one per thread) can read it without locks.
 *
 * Body matching is two-stage. Every body pattern gets one *anchor*: the rarest
 * run of exact bytes in it. Vectorscan finds all anchors in one pass over the
 * data; each anchor hit is a *candidate* for the signatures that share that
 * anchor, and the exact verifier (lib/scan/match.c) checks the whole pattern
 * around it. Two kinds of signatures are *unanchored* and verified directly
 * in each layer instead: patterns without a usable anchor (the slow path), and
 * signatures whose offset pins their start to a short window (0:, EP+n, ...;
 * WARD_MAX_PINNED_WINDOW), which cost a bounded search at that window rather
 * than one verification per occurrence of their anchor anywhere in the file.
 */
#ifndef WARD_COMPILE_DB_H
#define WARD_COMPILE_DB_H

#include <hs/hs.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "db/sigs.h"

/* Where a literal fragment sits inside one segment of a pattern. */
struct litplan {
	bool valid;       /* the segment has a literal of at least WARD_MIN_ANCHOR bytes */
	bool nocase;      /* compare ASCII letters case-insensitively */
	uint32_t node;    /* index (within the segment body) of the first literal node */
	uint32_t len;     /* literal bytes (nodes) */
	uint32_t pre_min; /* bytes a match spends before the literal: at least */
	uint32_t pre_max; /* ... and at most */
	bool anchorable;  /* usable as a Vectorscan anchor (does not start with 0x00) */
	uint32_t suf_min; /* bytes after the literal: at least */
	uint32_t suf_max; /* ... and at most */
	uint8_t bytes[WARD_MAX_ANCHOR];
	uint8_t rare; /* index of the literal's least common byte: searches look
		       * for it with memchr, then compare the rest */
	/* Cheapest reject for trying the segment at a start s without a literal:
	 * the first byte test at a fixed distance from the start. */
	bool first_valid;
	uint8_t first_val, first_mask, first_nocase;
	uint32_t first_off;
};

/* A byte test at a fixed position of the layer: (data[pos] & mask) == val,
 * pos = add (PIN_ABS) or the entry point + add (PIN_EP). */
enum pin_kind { PIN_NONE = 0, PIN_ABS, PIN_EP };
struct pintest {
	uint32_t add;
	uint8_t kind; /* enum pin_kind */
	uint8_t mask, val;
	uint8_t pad;
};

/* Per body signature. */
struct sigplan {
	/* segment whose literal is the Vectorscan anchor; UINT32_MAX if unanchored */
	uint32_t anchor_seg;
	uint32_t seg_base; /* index of segment 0's litplan in ward_db.seglits */
};

struct hashtab {
	struct hashsig *v; /* sorted by (size, digest); HASH_SIZE_ANY sorts last */
	size_t n;
	bool any_size; /* some entry has HASH_SIZE_ANY */
};

struct ward_db {
	struct sigset set;

	struct sigplan *plans;   /* one per set.body entry */
	struct litplan *seglits; /* one per segment of every body pattern */
	size_t nseglits;

	/* Anchors of the signatures of each target (enum target); NULL when a
	 * target has none. Anchor ids are global: indexes into anchor_first. */
	hs_database_t *hs[TARGET__COUNT];
	uint32_t nanchors;
	uint32_t *anchor_first; /* nanchors + 1 offsets into anchor_sigs */
	uint32_t *anchor_sigs;  /* body signature indexes, grouped by anchor */
	uint32_t anchor_len_max;
	uint32_t max_span; /* widest segment of any pattern (sizes the verifier's bitsets) */

	uint32_t *unanchored; /* body signature indexes verified without an anchor:
			       * none usable, or a pinned offset */
	uint32_t nunanchored;
	/* unanchored[unanch_first[t] .. unanch_first[t + 1]) are target t's */
	uint32_t unanch_first[TARGET__COUNT + 1];
	/* Per unanchored entry: the byte a match must have at a position fixed
	 * by its offset, tested before anything else in each layer. 745 of the
	 * real sets' 811 unanchored target-0 signatures are pinned at 0 and
	 * walked in every layer of every file; nearly all fail this one test. */
	struct pintest *unanch_test;

	/* [scope][kind]: detections; allow-lists only exist for HSCOPE_FILE */
	struct hashtab hashes[3][HASH__COUNT];
	struct hashtab allow[HASH__COUNT];

	pcre2_code **pcre; /* one per set.pcre entry; NULL if it failed to compile */

	/* logical signatures that can be true with no subsignature matched
	 * (e.g. "0<1"): evaluated for every object */
	uint32_t *ldb_always;
	uint32_t nldb_always;
	/* logical signatures with PCRE or byte-compare subsignatures, by index:
	 * first offset into ldb_extra_list (nlogical + 1 entries) */
	uint32_t *ldb_extra_first;
	uint32_t *ldb_extra_list; /* entries: (kind << 31) | index, kind 0 = pcre, 1 = bytecmp */
	/* per logical signature: how many matches of one subsignature are worth
	 * finding. 1 when nothing compares counts (the first match is enough);
	 * else one more than the largest number its expression or a trigger
	 * compares with, capped at WARD_MAX_SUBSIG_MATCHES: every count, and
	 * every sum of counts, at or above that cap compares the same way
	 * (main.ldb's "00000000" counted for ">50" was verified at every run
	 * of zeros in a PE file). */
	uint32_t *ldb_count_cap;

	uint64_t counts[WARD_COUNT__MAX];
	const char *cache_dir; /* during ward_db_load only */
	bool cache_hit;        /* the Vectorscan databases came from the cache */
	/* The cache key of hs[t] when hs_keyed[t] (a compiled image names its
	 * Vectorscan databases by these keys). */
	uint8_t hs_key[TARGET__COUNT][32];
	bool hs_keyed[TARGET__COUNT];
	/* The compiled image (lib/compile/image.c) that owns the arrays above
	 * and set's (set.borrowed), or NULL when each array is owned. */
	void *image;
};

/* lib/compile/compile.c */
/* Shortest and longest data a node sequence can match. */
void pat_seq_len(const struct pattern *p, struct pseq s, uint64_t *mn, uint64_t *mx);

/* Literal-plan helpers shared by the compiler and the verifier. */
static inline bool lit_eq(uint8_t a, uint8_t b, bool nocase)
{
	if (a == b)
		return true;
	if (!nocase)
		return false;
	if (a >= 'A' && a <= 'Z')
		a = (uint8_t)(a + 32);
	if (b >= 'A' && b <= 'Z')
		b = (uint8_t)(b + 32);
	return a == b;
}

#endif /* WARD_COMPILE_DB_H */
