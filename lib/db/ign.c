/*
 * Ignore lists (.ign2, and the older .ign; AllowLists.md). clamscan 1.4.6
 * reads both the same way, by the number of ':'-separated fields:
 *   Name                  ignore the signature called Name
 *   Name:MD5              ... only while MD5 is the MD5 of its database line
 *   DBName:LineNo:Name    ... (the database and line are not checked)
 * Names are compared as written in the database, without ".UNOFFICIAL".
 * Plain names go to set->ignored and are applied by sigset_apply_ignores()
 * once every file is loaded; "Name:MD5" entries go to set->ignored_md5 and are
 * checked when later signature lines are parsed (see docs/internals/db.md).
 */
#include "db/sigs.h"

#include <string.h>

#define IGN_MAX_FIELDS 3

ward_err db_parse_ign_line(struct sigset *set, const struct dbline *l, bool ign2)
{
	const char *f[IGN_MAX_FIELDS + 1];
	size_t fl[IGN_MAX_FIELDS + 1];
	size_t n = 0, start = 0;
	uint32_t off;
	ward_err e;

	(void)ign2; /* same grammar for both, as in clamscan */
	for (size_t i = 0; i <= l->len; i++) {
		if (i < l->len && l->s[i] != ':')
			continue;
		if (n == IGN_MAX_FIELDS) {
			sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT,
					"ignore entry has more than 3 ':'-separated fields");
			return WARD_OK;
		}
		f[n] = l->s + start;
		fl[n] = i - start;
		n++;
		start = i + 1;
	}
	size_t ni = n == 3 ? 2 : 0;
	const char *name = f[ni];
	size_t namelen = fl[ni];
	if (namelen == 0) {
		sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT, "no signature name provided");
		return WARD_OK;
	}
	if (namelen > WARD_MAX_NAME) {
		sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT, "signature name too long");
		return WARD_OK;
	}
	for (size_t i = 0; i < namelen; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
			sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT,
					"control character in signature name");
			return WARD_OK;
		}
	}

	struct ignore_md5 im;
	if (n == 2) {
		if (fl[1] != 32) {
			sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT,
					"malformed MD5 string");
			return WARD_OK;
		}
		for (size_t i = 0; i < 16; i++) {
			int hi = hexval((unsigned char)f[1][2 * i]);
			int lo = hexval((unsigned char)f[1][2 * i + 1]);
			if (hi < 0 || lo < 0) {
				sigset_bad_line(set, l->file, l->line, WARD_ECORRUPT,
						"malformed MD5 string");
				return WARD_OK;
			}
			im.md5[i] = (uint8_t)(hi << 4 | lo);
		}
	}
	/* Reserve first so a full vector cannot leave an orphan name in the pool. */
	vec *v = n == 2 ? &set->ignored_md5 : &set->ignored;
	e = vec_reserve(v, 1, n == 2 ? sizeof im : sizeof off, WARD_MAX_SIGNATURES);
	if (e)
		return e;
	e = strpool_add(&set->names, name, namelen, &off);
	if (e)
		return e;
	if (n == 2) {
		im.name = off;
		e = vec_push(v, &im, sizeof im, WARD_MAX_SIGNATURES);
	} else {
		e = vec_push(v, &off, sizeof off, WARD_MAX_SIGNATURES);
	}
	if (e)
		return e;
	set->counts[WARD_COUNT_IGNORE]++;
	return WARD_OK;
}
