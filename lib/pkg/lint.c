/*
 * Release lint for signature lines: parse one line with lib/db's own parsers
 * (so the lint sees exactly what the engine would load) and look at the
 * parsed patterns for shapes that have hurt pattern releases before: an
 * anchor so short or so common that the prefilter hands the verifier
 * candidates everywhere, a regex whose backtracking is exponential, an
 * alternation so wide that one signature dominates compile and match time.
 * Rules and defaults: docs/internals/pattern-package.md, "Lint".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db/sigs.h"
#include "pkg/pkg_int.h"

#define LINT_DEFAULT_MIN_ANCHOR 4u
#define LINT_DEFAULT_MAX_ALTERNATIVES 256u
/* Group nesting followed in a regex; deeper is itself a finding. */
#define LINT_MAX_REGEX_DEPTH 64u

void ward_pkg_lint_defaults(ward_pkg_lint_opts *o)
{
	o->min_anchor = LINT_DEFAULT_MIN_ANCHOR;
	o->max_alternatives = LINT_DEFAULT_MAX_ALTERNATIVES;
}

struct lint_ctx {
	ward_pkg_lint_fn fn;
	void *ctx;
	unsigned n;
};

static void finding(struct lint_ctx *lc, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void finding(struct lint_ctx *lc, const char *name, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	lc->n++;
	if (lc->fn)
		lc->fn(lc->ctx, name, msg);
}

/* The loader's complaints about the line are findings too. */
static void lint_diag(void *ctx, ward_err code, const char *file, unsigned long line,
		      const char *msg)
{
	finding(ctx, NULL, "%s: %s", code == WARD_EUNSUPPORTED ? "unsupported" : "does not load",
		msg);
}

/* Longest run of fixed bytes at the top level of any segment: what the
 * prefilter can search for. best/bestlen receive the bytes (up to 16). */
static uint32_t longest_anchor(const struct pattern *p, uint8_t best[16], uint32_t *bestlen)
{
	uint32_t longest = 0;
	*bestlen = 0;
	for (uint32_t s = 0; s < p->nsegs; s++) {
		const struct pseq *q = &p->segs[s].body;
		uint32_t run = 0, start = 0;
		for (uint32_t i = 0; i <= q->count; i++) {
			const struct pnode *nd = i < q->count && q->first + i < p->nnodes
							 ? &p->nodes[q->first + i]
							 : NULL;
			if (nd && nd->kind == PN_BYTE && nd->mask == 0xff) {
				if (run++ == 0)
					start = q->first + i;
				continue;
			}
			if (run > longest) {
				longest = run;
				*bestlen = run < 16 ? run : 16;
				for (uint32_t k = 0; k < *bestlen; k++)
					best[k] = (uint8_t)p->nodes[start + k].val;
			}
			run = 0;
		}
	}
	return longest;
}

/* File magics that start a large share of all files: an anchor that is
 * nothing more than one of them matches at offset 0 of every such file. */
static const struct {
	const char *bytes;
	uint32_t len;
	const char *what;
} common_anchors[] = {
	{"MZ", 2, "the PE/DOS magic"},
	{"MZ\x90\x00", 4, "the PE/DOS magic"},
	{"PE\0\0", 4, "the PE signature"},
	{"\x7f"
	 "ELF",
	 4, "the ELF magic"},
	{"PK\x03\x04", 4, "the ZIP magic"},
	{"%PDF", 4, "the PDF magic"},
	{"\xd0\xcf\x11\xe0", 4, "the OLE2 magic"},
	{"<html", 5, "an HTML tag"},
	{"http", 4, "\"http\""},
};

/* The name as written in the database (without the ".UNOFFICIAL" the loader
 * appends), so a finding names the line the author wrote. */
static const char *written_name(const struct sigset *set, uint32_t off, uint32_t len, char *buf,
				size_t buflen)
{
	const char *s = strpool_get(&set->names, off);
	size_t n = strlen(s);
	if (len && len < n)
		n = len;
	if (n >= buflen)
		n = buflen - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

static void lint_body(struct lint_ctx *lc, const struct sigset *set, const struct bodysig *b,
		      const ward_pkg_lint_opts *o)
{
	char nbuf[WARD_MAX_NAME + 1];
	const char *name = written_name(set, b->name, b->base_name_len, nbuf, sizeof nbuf);
	uint8_t best[16];
	uint32_t bl;
	uint32_t a = longest_anchor(&b->pat, best, &bl);
	if (a < o->min_anchor)
		finding(lc, name,
			"anchor too short: longest fixed byte run is %u bytes (at least %u)", a,
			o->min_anchor);
	else {
		bool same = true;
		for (uint32_t k = 1; k < bl; k++)
			same = same && best[k] == best[0];
		if (same && bl > 0)
			finding(lc, name, "anchor too common: one repeated byte 0x%02x", best[0]);
		for (size_t k = 0; k < sizeof common_anchors / sizeof common_anchors[0]; k++)
			if (a == common_anchors[k].len && !memcmp(best, common_anchors[k].bytes, a))
				finding(lc, name, "anchor too common: only %s",
					common_anchors[k].what);
	}
	for (uint32_t i = 0; i < b->pat.nnodes; i++) {
		const struct pnode *nd = &b->pat.nodes[i];
		if (nd->kind == PN_ALT && nd->b > o->max_alternatives) {
			finding(lc, name, "alternation with %u branches (at most %u)",
				(unsigned)nd->b, o->max_alternatives);
			break;
		}
	}
}

/*
 * Regex shapes. One pass over the pattern with a stack of open groups; for
 * each group: does it contain an unbounded quantifier, and how many '|'
 * does it hold. A group that contains an unbounded quantifier and is itself
 * quantified without bound ((a+)+, (a*)*, (.*){2,}) backtracks
 * exponentially on a near-miss: the classic catastrophic pattern.
 */
struct rgroup {
	bool unbounded_inside;
	uint32_t alts;
};

/* Is there a quantifier at s[i], and is it unbounded? *skip gets its length
 * (including a lazy '?' or possessive '+' suffix); *possessive is set for
 * the possessive form, which never backtracks. */
static bool quantifier_at(const char *s, size_t n, size_t i, size_t *skip, bool *unbounded,
			  bool *possessive)
{
	*unbounded = false;
	*possessive = false;
	if (i >= n)
		return false;
	size_t j = i;
	if (s[i] == '*' || s[i] == '+') {
		*unbounded = true;
		j = i + 1;
	} else if (s[i] == '?') {
		j = i + 1;
	} else if (s[i] == '{') {
		/* {n}, {n,}, {n,m}: only digits and one comma count as a quantifier. */
		size_t k = i + 1, digits = 0;
		while (k < n && s[k] >= '0' && s[k] <= '9')
			k++, digits++;
		if (digits == 0 || k >= n)
			return false;
		if (s[k] == ',') {
			k++;
			size_t d2 = 0;
			while (k < n && s[k] >= '0' && s[k] <= '9')
				k++, d2++;
			*unbounded = d2 == 0;
		}
		if (k >= n || s[k] != '}')
			return false;
		j = k + 1;
	} else
		return false;
	if (j < n && s[j] == '+') {
		*possessive = true;
		j++;
	} else if (j < n && s[j] == '?')
		j++;
	*skip = j - i;
	return true;
}

static void lint_regex(struct lint_ctx *lc, const char *name, const char *re,
		       const ward_pkg_lint_opts *o)
{
	struct rgroup st[LINT_MAX_REGEX_DEPTH + 1];
	size_t depth = 0, n = strlen(re);
	bool nested_reported = false, alt_reported = false;
	memset(&st[0], 0, sizeof st[0]);
	for (size_t i = 0; i < n;) {
		char c = re[i];
		bool atom_unbounded_inside = false; /* for a group atom just closed */
		if (c == '\\') {
			i += i + 1 < n ? 2 : 1;
		} else if (c == '[') {
			/* Character class: skip to the closing ']' (a ']' right after
			 * '[' or '[^' is literal). */
			size_t k = i + 1;
			if (k < n && re[k] == '^')
				k++;
			if (k < n && re[k] == ']')
				k++;
			while (k < n && re[k] != ']')
				k += re[k] == '\\' && k + 1 < n ? 2 : 1;
			i = k < n ? k + 1 : n;
		} else if (c == '(') {
			if (depth == LINT_MAX_REGEX_DEPTH) {
				finding(lc, name, "regex groups nested deeper than %u",
					LINT_MAX_REGEX_DEPTH);
				return;
			}
			depth++;
			memset(&st[depth], 0, sizeof st[depth]);
			i++;
			continue; /* a '(' is never quantified itself */
		} else if (c == ')') {
			if (depth == 0) {
				i++;
				continue; /* unbalanced: PCRE2 refuses it; the load check reports it */
			}
			atom_unbounded_inside = st[depth].unbounded_inside;
			if (st[depth].alts + 1 > o->max_alternatives && !alt_reported) {
				finding(lc, name, "regex alternation with %u branches (at most %u)",
					st[depth].alts + 1, o->max_alternatives);
				alt_reported = true;
			}
			depth--;
			st[depth].unbounded_inside |= atom_unbounded_inside;
			i++;
		} else if (c == '|') {
			st[depth].alts++;
			i++;
			continue;
		} else {
			i++;
		}
		size_t skip;
		bool unb, poss;
		if (quantifier_at(re, n, i, &skip, &unb, &poss)) {
			if (unb && !poss) {
				if (atom_unbounded_inside && !nested_reported) {
					finding(lc, name,
						"regex has a nested unbounded quantifier (catastrophic "
						"backtracking, e.g. (a+)+)");
					nested_reported = true;
				}
				st[depth].unbounded_inside = true;
			}
			i += skip;
		}
	}
	if (st[0].alts + 1 > o->max_alternatives && !alt_reported)
		finding(lc, name, "regex alternation with %u branches (at most %u)", st[0].alts + 1,
			o->max_alternatives);
}

ward_err ward_pkg_lint_line(const char *file_name, const char *line, size_t len,
			    const ward_pkg_lint_opts *opts, ward_pkg_lint_fn fn, void *ctx,
			    unsigned *nfindings)
{
	struct lint_ctx lc = {fn, ctx, 0};
	ward_pkg_lint_opts def;
	if (!opts) {
		ward_pkg_lint_defaults(&def);
		opts = &def;
	}
	ward_load_opts lo = {.diag = lint_diag, .diag_ctx = &lc};
	struct sigset set;
	sigset_init(&set, &lo);
	*nfindings = 0;
	ward_err e = db_load_buffer(&set, file_name, line, len, false);
	if (e == WARD_ENOMEM)
		goto out;
	e = WARD_OK; /* other errors were reported through lint_diag */
	for (size_t i = 0; i < set.body.len; i++)
		lint_body(&lc, &set, &VEC_AT(&set.body, struct bodysig, i), opts);
	for (size_t i = 0; i < set.pcre.len; i++) {
		const struct pcresig *ps = &VEC_AT(&set.pcre, struct pcresig, i);
		const char *name = NULL;
		char nbuf[WARD_MAX_NAME + 1];
		if (ps->logical < set.logical.len) {
			const struct logicsig *ls =
				&VEC_AT(&set.logical, struct logicsig, ps->logical);
			name = written_name(&set, ls->name, ls->base_name_len, nbuf, sizeof nbuf);
		}
		lint_regex(&lc, name, ps->regex, opts);
	}
	*nfindings = lc.n;
out:
	sigset_free(&set);
	return e;
}

/* ---- functionality levels ---- */

static const char *ext_of(const char *file_name)
{
	const char *dot = strrchr(file_name, '.');
	return dot ? dot + 1 : "";
}

/* An flevel field: empty reads 0 (as ClamAV); digits otherwise. */
static bool fl_field(const char *s, size_t n, uint32_t *out)
{
	uint64_t v = 0;
	if (n == 0) {
		*out = 0;
		return true;
	}
	if (!parse_u64(s, n, UINT32_MAX, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

static void copy_name(char *dst, size_t dstlen, const char *s, size_t n)
{
	if (!dst || dstlen == 0)
		return;
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

bool ward_pkg_line_flevel(const char *file_name, const char *line, size_t len, uint32_t *min,
			  uint32_t *max, char *name, size_t namelen)
{
	const char *ext = ext_of(file_name);
	const char *f[8];
	size_t fl[8], nf = 0;
	*min = 0;
	*max = UINT32_MAX;
	copy_name(name, namelen, "", 0);
	if (len == 0 || line[0] == '#')
		return false;
	bool ldb = !strcmp(ext, "ldb");
	char sep = ldb ? ';' : ':';
	/* Split the first fields only; the rest of an .ldb line is subsignatures. */
	size_t start = 0;
	for (size_t i = 0; i <= len && nf < 8; i++) {
		if (i == len || line[i] == sep) {
			f[nf] = line + start;
			fl[nf] = i - start;
			nf++;
			start = i + 1;
		}
	}
	size_t name_field, fl_first;
	if (!strcmp(ext, "ndb")) {
		name_field = 0;
		fl_first = 4;
	} else if (!strcmp(ext, "hdb") || !strcmp(ext, "hsb") || !strcmp(ext, "mdb") ||
		   !strcmp(ext, "msb") || !strcmp(ext, "imp") || !strcmp(ext, "fp") ||
		   !strcmp(ext, "sfp")) {
		name_field = 2;
		fl_first = 3;
	} else if (ldb) {
		if (nf < 2)
			return false;
		copy_name(name, namelen, f[0], fl[0]);
		/* TDB: "Engine:X-Y" must come first (LogicalSignatures.md). */
		const char *t = f[1];
		size_t tn = fl[1];
		const char *comma = memchr(t, ',', tn);
		size_t first = comma ? (size_t)(comma - t) : tn;
		if (first > 7 && !memcmp(t, "Engine:", 7)) {
			const char *r = t + 7;
			size_t rn = first - 7;
			const char *dash = memchr(r, '-', rn);
			if (dash) {
				fl_field(r, (size_t)(dash - r), min);
				if (!fl_field(dash + 1, rn - (size_t)(dash - r) - 1, max))
					*max = UINT32_MAX;
			}
		}
		return true;
	} else
		return false;
	if (nf <= name_field)
		return false;
	copy_name(name, namelen, f[name_field], fl[name_field]);
	if (nf > fl_first && !fl_field(f[fl_first], fl[fl_first], min))
		*min = 0;
	if (nf > fl_first + 1 && !fl_field(f[fl_first + 1], fl[fl_first + 1], max))
		*max = UINT32_MAX;
	return true;
}
