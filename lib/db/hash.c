/*
 * Hash signatures (HashSignatures.md, AllowLists.md):
 *   .hdb .hsb .fp .sfp   HashString:FileSize:MalwareName[:MinFL[:MaxFL]]
 *   .mdb .msb            PESectionSize:PESectionHash:MalwareName[:MinFL[:MaxFL]]
 *   .imp                 ImportHash:ImportSize:MalwareName[:MinFL[:MaxFL]]
 * The hash kind comes from the hex length (32 MD5, 40 SHA1, 64 SHA256), in
 * every one of these files, as clamscan does (an SHA1 line in a .hdb loads).
 */
#include "db/sigs.h"

#include <string.h>

#define HASH_MAX_FIELDS 5

/* MinFL/MaxFL fields. ClamAV reads an empty field as 0; we do too (an empty
 * MaxFL therefore drops the signature, as in clamscan). ClamAV's atoi also
 * turns "abc" into 0; we reject non-digits instead (see docs/internals/db.md). */
static bool parse_flevel(const char *s, size_t n, uint64_t *out)
{
	if (n == 0) {
		*out = 0;
		return true;
	}
	return parse_u64(s, n, UINT32_MAX, out);
}

static bool decode_hash(const char *s, size_t n, struct hashsig *h)
{
	if (n == 32)
		h->kind = HASH_MD5;
	else if (n == 40)
		h->kind = HASH_SHA1;
	else if (n == 64)
		h->kind = HASH_SHA256;
	else
		return false;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		h->digest[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

ward_err db_parse_hash_line(struct sigset *set, const struct dbline *l, uint8_t scope, bool allow)
{
	const char *f[HASH_MAX_FIELDS];
	size_t fl[HASH_MAX_FIELDS];
	struct hashsig h;
	uint64_t minfl = 0, maxfl = 0;
	ward_err e;

	size_t n = db_split_fields(l->s, l->len, ':', f, fl, HASH_MAX_FIELDS);
	if (n < 3 || n > HASH_MAX_FIELDS) {
		sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT,
				"hash signature needs 3 to 5 ':'-separated fields, found %s",
				n < 3 ? "fewer" : "more");
		return WARD_OK;
	}
	memset(&h, 0, sizeof h);
	h.scope = scope;
	h.allow = allow;

	size_t hi = scope == HSCOPE_SECTION ? 1 : 0, si = scope == HSCOPE_SECTION ? 0 : 1;
	if (!decode_hash(f[hi], fl[hi], &h)) {
		sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT,
				"malformed hash string (want 32, 40 or 64 hex digits)");
		return WARD_OK;
	}
	if (n >= 4 && !parse_flevel(f[3], fl[3], &minfl)) {
		sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT, "malformed MinFL field");
		return WARD_OK;
	}
	if (n >= 5 && !parse_flevel(f[4], fl[4], &maxfl)) {
		sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT, "malformed MaxFL field");
		return WARD_OK;
	}
	if (fl[si] == 1 && f[si][0] == '*') {
		/* HashSignatures.md: a wildcard size needs MinFL >= 73, else the
		 * line is malformed. clamscan 1.4.6 applies this to .hdb/.hsb/.mdb/
		 * .msb/.fp but loads ".imp" wildcard lines without a MinFL. */
		if (scope != HSCOPE_IMPORTS && minfl < 73) {
			sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT,
					"size '*' needs a MinFL field of at least 73");
			return WARD_OK;
		}
		h.size = HASH_SIZE_ANY;
	} else if (!parse_u64(f[si], fl[si], HASH_SIZE_ANY - 1, &h.size)) {
		sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT,
				"invalid value for the size field");
		return WARD_OK;
	}
	if (minfl > WARD_FLEVEL || (n >= 5 && maxfl < WARD_FLEVEL)) {
		set->counts[WARD_COUNT_SKIPPED_FLEVEL]++;
		return WARD_OK;
	}
	if (sigset_line_ignored(set, f[2], fl[2], l->s, l->len))
		return WARD_OK;
	e = sigset_add_name(set, f[2], fl[2], l->official, &h.name);
	if (e == WARD_ECORRUPT) {
		sigset_bad_line(set, l->file, l->line, e,
				"empty, over-long or non-printable signature name");
		return WARD_OK;
	}
	if (e)
		return e;
	h.base_name_len = (uint32_t)fl[2];
	e = vec_push(&set->hashes, &h, sizeof h, WARD_MAX_SIGNATURES);
	if (e)
		return e;
	if (allow)
		set->counts[WARD_COUNT_ALLOW]++;
	else if (scope == HSCOPE_SECTION)
		set->counts[WARD_COUNT_SECTHASH]++;
	else if (scope == HSCOPE_IMPORTS)
		set->counts[WARD_COUNT_IMPHASH]++;
	else
		set->counts[WARD_COUNT_HASH]++;
	return WARD_OK;
}
