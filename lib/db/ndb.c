/*
 * Extended body signatures (.ndb, ExtendedSignatures.md):
 *   MalwareName:TargetType:Offset:HexSignature[:MinFL[:MaxFL]]
 * The offset and hex pattern are parsed by offset_parse()/pattern_parse()
 * (lib/db/offset.c, pattern.c); this file splits the line, filters on the
 * functionality level and stores a struct bodysig with logical = UINT32_MAX.
 */
#include "db/sigs.h"

#include <stdio.h>
#include <string.h>

#define NDB_MAX_FIELDS 6
#define WHY_LEN 256

/* Count a signature that uses something Ward lacks and say where it is. */
static ward_err note_unsupported(struct sigset *set, const struct dbline *l, const char *feature,
				 const char *detail)
{
	if (set->diag) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s:%lu: unsupported: %s%s%s",
			 l->file ? l->file : "(buffer)", l->line, feature, detail ? ": " : "",
			 detail ? detail : "");
		set->diag(set->diag_ctx, WARD_EUNSUPPORTED, l->file, l->line, msg);
	}
	return sigset_unsupported(set, feature);
}

ward_err db_parse_ndb_line(struct sigset *set, const struct dbline *l)
{
	const char *f[NDB_MAX_FIELDS];
	size_t fl[NDB_MAX_FIELDS];
	struct bodysig b;
	char why[WHY_LEN] = "";
	uint64_t target, minfl = 0, maxfl = 0;
	ward_err e;

	memset(&b, 0, sizeof b);
	size_t n = db_split_fields(l->s, l->len, ':', f, fl, NDB_MAX_FIELDS);
	if (n < 4 || n > NDB_MAX_FIELDS) {
		sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT,
				"ndb signature needs 4 to 6 ':'-separated fields, found %s",
				n < 4 ? "fewer" : "more");
		return WARD_OK;
	}
	if (!parse_u64(f[1], fl[1], UINT32_MAX, &target)) {
		sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT, "malformed target type");
		return WARD_OK;
	}
	/* ClamAV's atoi-based check rejects non-numeric flevels in .ndb lines;
	 * an empty field reads as 0 (so an empty MaxFL drops the line, as in
	 * clamscan). */
	if (n >= 5 && fl[4] && !parse_u64(f[4], fl[4], UINT32_MAX, &minfl)) {
		sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT, "malformed MinFL field");
		return WARD_OK;
	}
	if (n >= 6 && fl[5] && !parse_u64(f[5], fl[5], UINT32_MAX, &maxfl)) {
		sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT, "malformed MaxFL field");
		return WARD_OK;
	}
	/* Like ClamAV, filter on the level before looking at the pattern: a
	 * signature for a newer engine may use syntax this one does not know. */
	if (minfl > WARD_FLEVEL || (n >= 6 && maxfl < WARD_FLEVEL)) {
		set->counts[WARD_COUNT_SKIPPED_FLEVEL]++;
		return WARD_OK;
	}
	if (target >= TARGET__COUNT) {
		/* clamscan skips these ("Not supported target type"); count them. */
		return note_unsupported(set, l, "ndb target type > 14", NULL);
	}
	if (sigset_line_ignored(set, f[0], fl[0], l->s, l->len))
		return WARD_OK;
	b.target = (uint8_t)target;
	b.logical = UINT32_MAX;

	e = offset_parse(f[2], fl[2], &b.offset, why, sizeof why);
	if (e == WARD_ENOMEM)
		return e;
	if (e) {
		sigset_bad_line(set, l->file, l->line, e, "bad offset: %s", why);
		return WARD_OK;
	}
	e = pattern_parse(f[3], fl[3], 0, &b.pat, why, sizeof why);
	if (e == WARD_ENOMEM)
		goto out;
	if (e == WARD_EUNSUPPORTED) {
		e = note_unsupported(set, l, "ndb body pattern syntax", why);
		goto out;
	}
	if (e) {
		sigset_bad_line(set, l->file, l->line, e, "bad hex signature: %s", why);
		e = WARD_OK;
		goto out;
	}
	e = sigset_add_name(set, f[0], fl[0], l->official, &b.name);
	if (e == WARD_ECORRUPT) {
		sigset_bad_line(set, l->file, l->line, e,
				"empty, over-long or non-printable signature name");
		e = WARD_OK;
		goto out;
	}
	if (e)
		goto out;
	b.base_name_len = (uint32_t)fl[0];
	if (b.offset.kind == OFF_VERSIONINFO) {
		/* Kept (the set stays faithful) but it never resolves: say so. */
		e = note_unsupported(set, l, "VI offset (PE version information)", NULL);
		if (e)
			goto out;
	}
	e = vec_push(&set->body, &b, sizeof b, WARD_MAX_SIGNATURES);
	if (e)
		goto out;
	memset(&b.pat, 0, sizeof b.pat); /* owned by the set now */
	set->counts[WARD_COUNT_BODY]++;
out:
	pattern_free(&b.pat);
	return e;
}
