/*
 * ClamAV's normalisations for the text targets. Every rule here was observed
 * with clamscan 1.4.6 (signatures for target 0/3/7 against generated files,
 * and --leave-temps to read ClamAV's normalised HTML); the experiments are in
 * docs/internals/containers.md. Both normalisers are single-pass state
 * machines over the input with a bounded output: no allocation, no recursion.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/textnorm.h"
#include "util/util.h"

/* Output with a hard end: put() refuses past cap and remembers it did. */
struct out {
	uint8_t *p;
	size_t len;
	size_t cap;
	bool full;
};

static void put(struct out *o, uint8_t c)
{
	if (o->len < o->cap)
		o->p[o->len++] = c;
	else
		o->full = true;
}

static void puts_n(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(o, (uint8_t)s[i]);
}

static uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c; }

static bool is_ws(uint8_t c) { return c == ' ' || (c >= 9 && c <= 13); }

static ward_err finish(const struct out *o, size_t *outlen)
{
	*outlen = o->len;
	return o->full ? WARD_ELIMIT : WARD_OK;
}

/* ---- target 7 ------------------------------------------------------------ */

ward_err textnorm_ascii(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	if (!outlen || (!in && len) || (!out && cap))
		return WARD_EINVAL;
	struct out o = {out, 0, cap, false};
	bool in_space = false;
	for (size_t i = 0; i < len && !o.full; i++) {
		uint8_t c = in[i];
		if (is_ws(c)) {
			if (!in_space)
				put(&o, ' ');
			in_space = true;
		} else if (c < 0x20 || c >= 0x80) {
			/* Dropped, and the white-space run goes on across it: ClamAV
			 * turns "a \x01 b" into "a b". */
			continue;
		} else {
			put(&o, lower(c));
			in_space = false;
		}
	}
	return finish(&o, outlen);
}

/* ---- target 3 ------------------------------------------------------------ */

struct entity {
	const char *name;
	uint16_t cp;
};

/* HTML 4.01's character entity names (plus XML's apos), sorted for bsearch. */
static const struct entity entities[] = {
	{"AElig", 198},    {"Aacute", 193},  {"Acirc", 194},   {"Agrave", 192},  {"Alpha", 913},
	{"Aring", 197},    {"Atilde", 195},  {"Auml", 196},    {"Beta", 914},    {"Ccedil", 199},
	{"Chi", 935},      {"Dagger", 8225}, {"Delta", 916},   {"ETH", 208},     {"Eacute", 201},
	{"Ecirc", 202},    {"Egrave", 200},  {"Epsilon", 917}, {"Eta", 919},     {"Euml", 203},
	{"Gamma", 915},    {"Iacute", 205},  {"Icirc", 206},   {"Igrave", 204},  {"Iota", 921},
	{"Iuml", 207},     {"Kappa", 922},   {"Lambda", 923},  {"Mu", 924},      {"Ntilde", 209},
	{"Nu", 925},       {"OElig", 338},   {"Oacute", 211},  {"Ocirc", 212},   {"Ograve", 210},
	{"Omega", 937},    {"Omicron", 927}, {"Oslash", 216},  {"Otilde", 213},  {"Ouml", 214},
	{"Phi", 934},      {"Pi", 928},      {"Prime", 8243},  {"Psi", 936},     {"Rho", 929},
	{"Scaron", 352},   {"Sigma", 931},   {"THORN", 222},   {"Tau", 932},     {"Theta", 920},
	{"Uacute", 218},   {"Ucirc", 219},   {"Ugrave", 217},  {"Upsilon", 933}, {"Uuml", 220},
	{"Xi", 926},       {"Yacute", 221},  {"Yuml", 376},    {"Zeta", 918},    {"aacute", 225},
	{"acirc", 226},    {"acute", 180},   {"aelig", 230},   {"agrave", 224},  {"alefsym", 8501},
	{"alpha", 945},    {"amp", 38},      {"and", 8743},    {"ang", 8736},    {"apos", 39},
	{"aring", 229},    {"asymp", 8776},  {"atilde", 227},  {"auml", 228},    {"bdquo", 8222},
	{"beta", 946},     {"brvbar", 166},  {"bull", 8226},   {"cap", 8745},    {"ccedil", 231},
	{"cedil", 184},    {"cent", 162},    {"chi", 967},     {"circ", 710},    {"clubs", 9827},
	{"cong", 8773},    {"copy", 169},    {"crarr", 8629},  {"cup", 8746},    {"curren", 164},
	{"dArr", 8659},    {"dagger", 8224}, {"darr", 8595},   {"deg", 176},     {"delta", 948},
	{"diams", 9830},   {"divide", 247},  {"eacute", 233},  {"ecirc", 234},   {"egrave", 232},
	{"empty", 8709},   {"emsp", 8195},   {"ensp", 8194},   {"epsilon", 949}, {"equiv", 8801},
	{"eta", 951},      {"eth", 240},     {"euml", 235},    {"euro", 8364},   {"exist", 8707},
	{"fnof", 402},     {"forall", 8704}, {"frac12", 189},  {"frac14", 188},  {"frac34", 190},
	{"frasl", 8260},   {"gamma", 947},   {"ge", 8805},     {"gt", 62},       {"hArr", 8660},
	{"harr", 8596},    {"hearts", 9829}, {"hellip", 8230}, {"iacute", 237},  {"icirc", 238},
	{"iexcl", 161},    {"igrave", 236},  {"image", 8465},  {"infin", 8734},  {"int", 8747},
	{"iota", 953},     {"iquest", 191},  {"isin", 8712},   {"iuml", 239},    {"kappa", 954},
	{"lArr", 8656},    {"lambda", 955},  {"lang", 9001},   {"laquo", 171},   {"larr", 8592},
	{"lceil", 8968},   {"ldquo", 8220},  {"le", 8804},     {"lfloor", 8970}, {"lowast", 8727},
	{"loz", 9674},     {"lrm", 8206},    {"lsaquo", 8249}, {"lsquo", 8216},  {"lt", 60},
	{"macr", 175},     {"mdash", 8212},  {"micro", 181},   {"middot", 183},  {"minus", 8722},
	{"mu", 956},       {"nabla", 8711},  {"nbsp", 160},    {"ndash", 8211},  {"ne", 8800},
	{"ni", 8715},      {"not", 172},     {"notin", 8713},  {"nsub", 8836},   {"ntilde", 241},
	{"nu", 957},       {"oacute", 243},  {"ocirc", 244},   {"oelig", 339},   {"ograve", 242},
	{"oline", 8254},   {"omega", 969},   {"omicron", 959}, {"oplus", 8853},  {"or", 8744},
	{"ordf", 170},     {"ordm", 186},    {"oslash", 248},  {"otilde", 245},  {"otimes", 8855},
	{"ouml", 246},     {"para", 182},    {"part", 8706},   {"permil", 8240}, {"perp", 8869},
	{"phi", 966},      {"pi", 960},      {"piv", 982},     {"plusmn", 177},  {"pound", 163},
	{"prime", 8242},   {"prod", 8719},   {"prop", 8733},   {"psi", 968},     {"quot", 34},
	{"rArr", 8658},    {"radic", 8730},  {"rang", 9002},   {"raquo", 187},   {"rarr", 8594},
	{"rceil", 8969},   {"rdquo", 8221},  {"real", 8476},   {"reg", 174},     {"rfloor", 8971},
	{"rho", 961},      {"rlm", 8207},    {"rsaquo", 8250}, {"rsquo", 8217},  {"sbquo", 8218},
	{"scaron", 353},   {"sdot", 8901},   {"sect", 167},    {"shy", 173},     {"sigma", 963},
	{"sigmaf", 962},   {"sim", 8764},    {"spades", 9824}, {"sub", 8834},    {"sube", 8838},
	{"sum", 8721},     {"sup", 8835},    {"sup1", 185},    {"sup2", 178},    {"sup3", 179},
	{"supe", 8839},    {"szlig", 223},   {"tau", 964},     {"there4", 8756}, {"theta", 952},
	{"thetasym", 977}, {"thinsp", 8201}, {"thorn", 254},   {"tilde", 732},   {"times", 215},
	{"trade", 8482},   {"uArr", 8657},   {"uacute", 250},  {"uarr", 8593},   {"ucirc", 251},
	{"ugrave", 249},   {"uml", 168},     {"upsih", 978},   {"upsilon", 965}, {"uuml", 252},
	{"weierp", 8472},  {"xi", 958},      {"yacute", 253},  {"yen", 165},     {"yuml", 255},
	{"zeta", 950},     {"zwj", 8205},    {"zwnj", 8204},
};

static int entity_cmp(const void *key, const void *elem)
{
	return strcmp((const char *)key, ((const struct entity *)elem)->name);
}

/* Longest entity name looked up ("thetasym" is 8); longer runs are text. */
#define ENTITY_NAME_MAX 16u
/* Digits read in a numeric reference; the value is kept to 16 bits as ClamAV
 * does ("&#x41424344;" comes out as "&#x4344;"), so more digits only cost. */
#define ENTITY_DIGITS_MAX 16u

/* A code point as ClamAV writes it: one byte below 255 (lowercased when the
 * reference ended with ';', an observed quirk: "&#65;" gives "a", "&#65 "
 * gives "A"), else "&#x" four or more hex digits ";" ("&#255;" becomes
 * "&#x00ff;", "&#8364;" "&#x20ac;"). */
static void put_codepoint(struct out *o, unsigned cp, bool lc)
{
	if (cp < 255) {
		put(o, lc ? lower((uint8_t)cp) : (uint8_t)cp);
		return;
	}
	char tmp[16];
	int n = snprintf(tmp, sizeof tmp, "&#x%04x;", cp & 0xffffu);
	if (n > 0)
		puts_n(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* At in[*i] == '&': decode a character reference or copy it as text.
 * Advances *i past what was consumed (the caller's loop adds one more). */
static void entity(struct out *o, const uint8_t *in, size_t len, size_t *i)
{
	size_t p = *i + 1;
	if (p < len && in[p] == '#') {
		p++;
		bool hex = p < len && (in[p] == 'x' || in[p] == 'X');
		if (hex)
			p++;
		unsigned v = 0;
		size_t nd = 0;
		bool nonzero = false;
		while (p < len && nd < ENTITY_DIGITS_MAX) {
			int d = hex ? hexval(in[p])
				    : (in[p] >= '0' && in[p] <= '9' ? in[p] - '0' : -1);
			if (d < 0)
				break;
			/* Kept modulo 2^24; only the low 16 bits are used. */
			v = ((v * (hex ? 16u : 10u)) + (unsigned)d) & 0xffffffu;
			nonzero |= d != 0;
			p++;
			nd++;
		}
		bool semi = p < len && in[p] == ';';
		/* Observed: "&#;", "&#x;", "&# " and "&#0;" give a NUL byte; a
		 * nonzero value whose low 16 bits are 0 ("&#65536;") gives nothing. */
		if (!(nonzero && (v & 0xffffu) == 0))
			put_codepoint(o, v & 0xffffu, semi);
		*i = semi ? p : p - 1;
		return;
	}
	/* Named: letters and digits, then ';'. Unknown or unterminated: text. */
	char name[ENTITY_NAME_MAX + 1];
	size_t n = 0;
	while (p < len && n < ENTITY_NAME_MAX &&
	       ((in[p] >= 'a' && in[p] <= 'z') || (in[p] >= 'A' && in[p] <= 'Z') ||
		(in[p] >= '0' && in[p] <= '9')))
		name[n++] = (char)in[p++];
	name[n] = '\0';
	if (n && p < len && in[p] == ';') {
		const struct entity *e =
			bsearch(name, entities, sizeof entities / sizeof entities[0],
				sizeof entities[0], entity_cmp);
		if (e) {
			put_codepoint(o, e->cp, true);
			*i = p;
			return;
		}
	}
	put(o, '&'); /* the name, if any, is copied (lowercased) by the caller */
}

enum hstate {
	H_TEXT,   /* between tags */
	H_SCRIPT, /* inside <script> or <style>: white space dropped */
};

static bool starts_ci(const uint8_t *in, size_t len, size_t i, const char *s)
{
	size_t n = strlen(s);
	if (len - i < n)
		return false;
	for (size_t k = 0; k < n; k++)
		if (lower(in[i + k]) != (uint8_t)s[k])
			return false;
	return true;
}

static size_t skip_ws(const uint8_t *in, size_t len, size_t i)
{
	while (i < len && (is_ws(in[i]) || in[i] == 0))
		i++;
	return i;
}

/* At in[i] == '<' (not a comment). Writes the normalised tag, returns the
 * index after its '>' (or len), and whether it opened <script>/<style>. */
static size_t tag(struct out *o, const uint8_t *in, size_t len, size_t i, bool *raw,
		  bool *ws_before_gt)
{
	char name[8];
	size_t nl = 0;
	put(o, '<');
	i = skip_ws(in, len, i + 1);
	while (i < len && !is_ws(in[i]) && in[i] != '>') {
		if (in[i]) {
			put(o, lower(in[i]));
			if (nl < sizeof name)
				name[nl] = (char)lower(in[i]);
			nl++;
		}
		i++;
	}
	*raw = (nl == 6 && memcmp(name, "script", 6) == 0) ||
	       (nl == 5 && memcmp(name, "style", 5) == 0);
	for (;;) {
		size_t j0 = i;
		i = skip_ws(in, len, i);
		if (i >= len)
			return len;
		if (in[i] == '>') {
			*ws_before_gt = i > j0;
			put(o, '>');
			return i + 1;
		}
		/* An attribute: name [= value]. */
		put(o, ' ');
		while (i < len && !is_ws(in[i]) && in[i] != '=' && in[i] != '>') {
			if (in[i])
				put(o, lower(in[i]));
			i++;
		}
		size_t j = skip_ws(in, len, i);
		if (j >= len || in[j] != '=') {
			i = j;
			continue;
		}
		put(o, '=');
		i = skip_ws(in, len, j + 1);
		if (i >= len)
			return len;
		if (in[i] == '"' || in[i] == '\'') {
			uint8_t q = in[i++];
			bool sp = false;
			put(o, '"');
			while (i < len && in[i] != q) {
				if (is_ws(in[i])) {
					if (!sp)
						put(o, ' ');
					sp = true;
					i++;
					continue;
				}
				sp = false;
				if (in[i] == '&')
					entity(o, in, len, &i);
				else if (in[i])
					put(o, lower(in[i]));
				i++;
			}
			if (i >= len)
				return len; /* unterminated: no closing quote, as ClamAV */
			put(o, '"');
			i++; /* the closing quote */
		} else {
			while (i < len && !is_ws(in[i]) && in[i] != '>') {
				if (in[i])
					put(o, lower(in[i]));
				i++;
			}
		}
	}
}

ward_err textnorm_html(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	if (!outlen || (!in && len) || (!out && cap))
		return WARD_EINVAL;
	struct out o = {out, 0, cap, false};
	enum hstate st = H_TEXT;
	bool drop_ws = true;  /* at the start and after a tag or comment, white
				space is dropped */
	bool pending = false; /* a space owed: written before the next non-space,
				 dropped at the end of the input */
	size_t i = 0;
	while (i < len && !o.full) {
		uint8_t c = in[i];
		if (c == 0) { /* NULs are skipped everywhere */
			i++;
			continue;
		}
		if (c == '<' && (st == H_TEXT || starts_ci(in, len, i, "</script") ||
				 starts_ci(in, len, i, "</style"))) {
			if (pending)
				put(&o, ' ');
			pending = false;
			size_t j = skip_ws(in, len, i + 1);
			if (j < len && in[j] == '!') {
				/* Comments and declarations end at the first '>':
				 * ClamAV drops "<!-- a > b -->" up to "a >". */
				while (j < len && in[j] != '>')
					j++;
				i = j < len ? j + 1 : len;
				drop_ws = true;
				continue;
			}
			bool raw = false, ws_gt = false;
			i = tag(&o, in, len, i, &raw, &ws_gt);
			/* Observed quirk: after "</script  >" (white space before the
			 * '>') ClamAV keeps the following space; after "</script>" or
			 * any other tag it drops it. */
			drop_ws = !(st == H_SCRIPT && ws_gt);
			st = raw ? H_SCRIPT : H_TEXT;
			continue;
		}
		if (is_ws(c)) {
			if (st == H_TEXT && !drop_ws)
				pending = true;
			i++;
			continue;
		}
		if (pending)
			put(&o, ' ');
		pending = false;
		drop_ws = false;
		if (c == '&')
			entity(&o, in, len, &i);
		else
			put(&o, lower(c));
		i++;
	}
	return finish(&o, outlen);
}
