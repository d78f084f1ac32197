/*
 * ClamAV .cvd/.cld containers. A 512-byte text header, then a tar (gzipped in
 * every .cvd; a .cld written by freshclam is a plain tar unless
 * CompressLocalDatabase is set). Order of work, each step refusing before the
 * next one trusts anything:
 *   1. parse and validate every header field;
 *   2. .cvd only: MD5 of everything after the header == the header's MD5
 *      field, and ClamAV's RSA signature over that MD5 (a .cld's header is
 *      copied from the .cvd it was rebuilt from and covers nothing);
 *   3. walk the whole tar once to check its structure and limits (so a broken
 *      container loads nothing), hashing every member;
 *   4. the .info member: its first line must repeat the header, its DSIG
 *      line must verify against ClamAV's .info key (lib/db/cvd_info.c), and
 *      every member must match its size and SHA-256 there;
 *   5. walk the tar again and hand each database member to db_load_buffer().
 * See docs/internals/cvd.md for the policy and where Ward differs from ClamAV.
 */
#include "db/cvd.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ward_limits.h"
#include "util/cursor.h"
#include "util/util.h"

/* ClamAV's CVD signing key, as published in ClamAV's source (libclamav/dsig.c,
 * CLI_NSTR and CLI_ESTR): a 1024-bit modulus and the exponent 100001027, both
 * decimal. The same key signs every official main/daily/bytecode .cvd. */
const char cvd_clamav_key_n[] =
	"118640995551645342603070001658453189751527774412027743746599405743243142607464144767361060"
	"640655844749760788890022283424922762488917565551002467771109669598189410434699034532232228"
	"621591089508178591428456220796841621637175567590476666928698770143328137383952820383197532"
	"047771780196576957695822641224262693037";
const char cvd_clamav_key_e[] = "100001027";

const struct cvd_keys cvd_clamav_keys = {cvd_clamav_key_n, cvd_clamav_key_e, cvd_info_key_n,
					 cvd_info_key_e};

#define CVD_MAGIC "ClamAV-VDB:"
#define CVD_MAGIC_LEN (sizeof CVD_MAGIC - 1)
/* Magic plus eight fields; the old format lacks the last (creation time). */
#define CVD_FIELDS_MAX 9u
#define CVD_FIELDS_MIN 8u
/* Read size when copying a member out of libarchive. */
#define CVD_CHUNK (64u << 10)

static void cvd_diag(struct sigset *set, ward_err code, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void cvd_diag(struct sigset *set, ward_err code, const char *path, const char *fmt, ...)
{
	if (!set->diag)
		return;
	char reason[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	/* The file goes in its own argument; the message is the reason only. */
	set->diag(set->diag_ctx, code, path, 0, reason);
}

/* ---- header ---- */

struct field {
	const char *s;
	size_t len;
};

static bool copy_text_field(const struct field *f, char *dst, size_t dstsize)
{
	if (f->len == 0 || f->len >= dstsize)
		return false;
	memcpy(dst, f->s, f->len);
	dst[f->len] = '\0';
	return true;
}

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Parse the header text (without padding): also used for the first line of
 * the .info member, which repeats the header inside the signed body. That copy
 * cannot hold the MD5 of the body it is part of: builders write placeholders
 * there, so with info_line the MD5 and signature fields are not examined. */
static ward_err parse_header_text(const uint8_t *h, size_t end, bool info_line,
				  struct cvd_header *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof *out);
	if (end < CVD_MAGIC_LEN || memcmp(h, CVD_MAGIC, CVD_MAGIC_LEN) != 0) {
		w_why(why, whylen, "bad magic (not a ClamAV CVD/CLD: no \"ClamAV-VDB:\")");
		return WARD_ECORRUPT;
	}
	if (end >= CVD_HEADER_LEN) {
		w_why(why, whylen, "header text longer than %u bytes", CVD_HEADER_LEN - 1);
		return WARD_ECORRUPT;
	}
	for (size_t i = 0; i < end; i++) {
		if (h[i] < 0x20 || h[i] > 0x7e) {
			w_why(why, whylen, "bad header byte 0x%02x at offset %zu", h[i], i);
			return WARD_ECORRUPT;
		}
	}

	struct field f[CVD_FIELDS_MAX];
	size_t nf = 0, start = 0;
	for (size_t i = 0; i <= end; i++) {
		if (i < end && h[i] != ':')
			continue;
		if (nf == CVD_FIELDS_MAX) {
			w_why(why, whylen, "too many header fields (at most %u)", CVD_FIELDS_MAX);
			return WARD_ECORRUPT;
		}
		f[nf].s = (const char *)h + start;
		f[nf].len = i - start;
		nf++;
		start = i + 1;
	}
	if (nf < CVD_FIELDS_MIN) {
		static const char *const names[] = {"magic",
						    "build time",
						    "version",
						    "number of signatures",
						    "functionality level",
						    "MD5",
						    "digital signature",
						    "builder"};
		w_why(why, whylen, "truncated header: missing %s field", names[nf]);
		return WARD_ECORRUPT;
	}

	if (!copy_text_field(&f[1], out->build_time, sizeof out->build_time)) {
		w_why(why, whylen, "bad build time field (empty or longer than %u)",
		      CVD_MAX_TEXT_FIELD);
		return WARD_ECORRUPT;
	}
	uint64_t v;
	if (!parse_u64(f[2].s, f[2].len, UINT32_MAX, &v)) {
		w_why(why, whylen, "bad version field \"%.*s\"", (int)f[2].len, f[2].s);
		return WARD_ECORRUPT;
	}
	out->version = (uint32_t)v;
	if (!parse_u64(f[3].s, f[3].len, UINT32_MAX, &v)) {
		w_why(why, whylen, "bad number-of-signatures field \"%.*s\"", (int)f[3].len,
		      f[3].s);
		return WARD_ECORRUPT;
	}
	out->sigs = (uint32_t)v;
	if (!parse_u64(f[4].s, f[4].len, UINT32_MAX, &v)) {
		w_why(why, whylen, "bad functionality level field \"%.*s\"", (int)f[4].len, f[4].s);
		return WARD_ECORRUPT;
	}
	out->flevel = (uint32_t)v;
	/* ClamAV compares the field with its own lowercase hex rendering, so an
	 * uppercase MD5 never verifies there either. */
	if (info_line)
		goto tail;
	if (f[5].len != 32 || !is_lower_hex(f[5].s, 32)) {
		w_why(why, whylen, "bad MD5 field (want 32 lowercase hex digits)");
		return WARD_ECORRUPT;
	}
	memcpy(out->md5, f[5].s, 32);
	out->md5[32] = '\0';
	/* The signature is judged by cvd_verify_dsig(); here it is only copied.
	 * It always fits: it is a strict part of the 512-byte header. */
	memcpy(out->dsig, f[6].s, f[6].len);
	out->dsig[f[6].len] = '\0';
	out->dsig_len = f[6].len;
tail:
	if (!copy_text_field(&f[7], out->builder, sizeof out->builder)) {
		w_why(why, whylen, "bad builder field (empty or longer than %u)",
		      CVD_MAX_TEXT_FIELD);
		return WARD_ECORRUPT;
	}
	if (nf == CVD_FIELDS_MAX) {
		if (!parse_u64(f[8].s, f[8].len, UINT64_MAX, &out->stime)) {
			w_why(why, whylen, "bad creation time field \"%.*s\"", (int)f[8].len,
			      f[8].s);
			return WARD_ECORRUPT;
		}
		out->has_stime = true;
	}
	return WARD_OK;
}

ward_err cvd_parse_header(const uint8_t *buf, size_t len, struct cvd_header *out, char *why,
			  size_t whylen)
{
	memset(out, 0, sizeof *out);
	cursor c = cur_make(buf, len);
	const uint8_t *h = cur_take(&c, CVD_HEADER_LEN);
	if (!h) {
		w_why(why, whylen, "truncated header (%zu bytes, a CVD header is %u)", len,
		      CVD_HEADER_LEN);
		return WARD_ECORRUPT;
	}
	if (memcmp(h, CVD_MAGIC, CVD_MAGIC_LEN) != 0) {
		w_why(why, whylen, "bad magic (not a ClamAV CVD/CLD: no \"ClamAV-VDB:\")");
		return WARD_ECORRUPT;
	}
	/* The text ends at the first NUL; ClamAV's builders pad with spaces (some
	 * tools with NULs) and ClamAV strips trailing blanks. Anything else in the
	 * padding is not a header ClamAV writes: refuse rather than ignore it. */
	size_t end = 0;
	while (end < CVD_HEADER_LEN && h[end] != '\0')
		end++;
	for (size_t i = end; i < CVD_HEADER_LEN; i++) {
		if (h[i] != '\0' && h[i] != ' ' && h[i] != '\n' && h[i] != '\r') {
			w_why(why, whylen, "bad header padding (byte 0x%02x at offset %zu)", h[i],
			      i);
			return WARD_ECORRUPT;
		}
	}
	while (end > 0 && (h[end - 1] == ' ' || h[end - 1] == '\n' || h[end - 1] == '\r'))
		end--;
	if (end == CVD_HEADER_LEN) {
		/* No padding at all: a header field runs into the body. */
		w_why(why, whylen, "header is not terminated within %u bytes", CVD_HEADER_LEN);
		return WARD_ECORRUPT;
	}
	return parse_header_text(h, end, false, out, why, whylen);
}

ward_err cvd_read_header(const char *path, struct cvd_header *out, char *why, size_t whylen)
{
	uint8_t h[CVD_HEADER_LEN];
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		w_why(why, whylen, "cannot open: %s", strerror(errno));
		return WARD_EIO;
	}
	while (got < sizeof h) {
		ssize_t n = read(fd, h + got, sizeof h - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			w_why(why, whylen, "cannot read: %s", strerror(errno));
			close(fd);
			return WARD_EIO;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return cvd_parse_header(h, got, out, why, whylen);
}

/* ---- ClamAV's digital signature ---- */

/* ClamAV's base-64 alphabet: a-z, A-Z, 0-9, '+', '/' (not RFC 4648's order). */
static int dsig_digit(char ch)
{
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a';
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

ward_err cvd_decode_dsig(const char *dsig, size_t dsig_len, const BIGNUM *n, BIGNUM *c)
{
	if (dsig_len == 0 || dsig_len > ((size_t)BN_num_bits(n) + 5) / 6)
		return WARD_EBADSIG;
	/* Digit i is worth 64^i: the first character is the least significant. */
	BN_zero(c);
	for (size_t i = dsig_len; i-- > 0;) {
		int d = dsig_digit(dsig[i]);
		if (d < 0)
			return WARD_EBADSIG;
		if (!BN_lshift(c, c, 6) || !BN_add_word(c, (BN_ULONG)d))
			return WARD_ENOMEM;
	}
	return BN_cmp(c, n) >= 0 ? WARD_EBADSIG : WARD_OK;
}

ward_err cvd_verify_dsig(const char *md5hex, const char *dsig, size_t dsig_len, const char *n_dec,
			 const char *e_dec)
{
	ward_err err = WARD_ENOMEM;
	BN_CTX *ctx = NULL;
	BIGNUM *n = NULL, *e = NULL, *c = NULL, *p = NULL, *m = NULL;
	uint8_t md5[16];

	if (strlen(md5hex) != 32 || dsig_len == 0)
		return WARD_EBADSIG;
	for (size_t i = 0; i < 16; i++) {
		int hi = hexval(md5hex[2 * i]), lo = hexval(md5hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return WARD_EBADSIG;
		md5[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!(ctx = BN_CTX_new()) || !(c = BN_new()) || !(p = BN_new()))
		goto out;
	if (!BN_dec2bn(&n, n_dec) || !BN_dec2bn(&e, e_dec) || BN_is_zero(n) || BN_is_zero(e)) {
		err = WARD_EINVAL; /* a key that is not a positive decimal number */
		goto out;
	}
	if ((err = cvd_decode_dsig(dsig, dsig_len, n, c)) != WARD_OK)
		goto out;
	err = WARD_EBADSIG;
	if (!BN_mod_exp(p, c, e, n, ctx) || !(m = BN_bin2bn(md5, sizeof md5, NULL))) {
		err = WARD_ENOMEM;
		goto out;
	}
	/* ClamAV compares only the low 16 bytes of c^e mod n with the MD5; the
	 * builders sign the bare MD5, so the whole value must equal it here. */
	if (BN_cmp(p, m) == 0)
		err = WARD_OK;
out:
	BN_free(m);
	BN_free(p);
	BN_free(c);
	BN_free(e);
	BN_free(n);
	BN_CTX_free(ctx);
	return err;
}

/* ---- the tar ---- */

/* Extensions ClamAV loads from a container (CLI_DBEXT in libclamav/readdb.h,
 * matched as a case-insensitive suffix). Anything else (COPYING, *.info, which
 * only carries ClamAV's per-file hashes, stray files) ClamAV skips silently. */
static const char *const db_exts[] = {
	".db",  ".hdb", ".hdu", ".fp",   ".mdb",  ".mdu", ".hsb",  ".hsu", ".sfp",
	".msb", ".msu", ".ndb", ".ndu",  ".ldb",  ".ldu", ".sdb",  ".zmd", ".rmd",
	".pdb", ".gdb", ".wdb", ".cbc",  ".ftm",  ".cfg", ".cdb",  ".cat", ".crb",
	".idb", ".ioc", ".yar", ".yara", ".pwdb", ".ign", ".ign2", ".imp",
};
/* Containers inside a container: ClamAV would recurse; Ward counts them as
 * unsupported so a hostile CVD cannot nest without bound. */
static const char *const nested_exts[] = {".cvd", ".cld", ".cud"};

static bool has_suffix(const char *name, size_t len, const char *ext)
{
	size_t el = strlen(ext);
	if (el > len)
		return false;
	const char *tail = name + len - el;
	for (size_t i = 0; i < el; i++) {
		char a = tail[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != ext[i])
			return false;
	}
	return true;
}

static bool any_suffix(const char *name, size_t len, const char *const *exts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (has_suffix(name, len, exts[i]))
			return true;
	return false;
}

/* What the checking pass records of each member, for the .info check. */
struct member_rec {
	uint32_t name; /* offset in tar_walk.names */
	uint32_t name_len;
	uint64_t size;
	uint8_t sha256[32];
	bool must_list; /* ClamAV would load it: the .info must list it */
};

struct tar_walk {
	struct sigset *set;
	const char *path;
	const uint8_t *body;
	size_t body_len;
	bool gzip;
	const struct cvd_header *hdr;
	bool load; /* second pass: hand members to db_load_buffer */
	bool official;
	bool info_seen; /* the checking pass found the .info member */
	/* Filled by the checking pass: */
	char info_name[WARD_MAX_CVD_MEMBER_NAME + 1];
	dbuf info_text; /* the first *.info member's bytes */
	vec members;    /* struct member_rec */
	strpool names;
};

static ward_err open_archive(const struct tar_walk *w, struct archive **out)
{
	struct archive *a = archive_read_new();
	if (!a)
		return WARD_ENOMEM;
	/* Only what a CVD can contain: tar, gzipped or not. No other filter or
	 * format is enabled, so nothing else in libarchive sees these bytes. */
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    (w->gzip && archive_read_support_filter_gzip(a) != ARCHIVE_OK) ||
	    archive_read_open_memory(a, w->body, w->body_len) != ARCHIVE_OK) {
		cvd_diag(w->set, WARD_ECORRUPT, w->path, "corrupt container: %s",
			 archive_error_string(a) ? archive_error_string(a) : "cannot open the tar");
		archive_read_free(a);
		return WARD_ECORRUPT;
	}
	*out = a;
	return WARD_OK;
}

/* Copy the current member's data into b (capped at WARD_MAX_DB_FILE), adding
 * to *total (capped at WARD_MAX_CVD_UNPACKED). The declared size is not
 * trusted for allocation: the buffer grows with the bytes that arrive. */
static ward_err read_member(const struct tar_walk *w, struct archive *a, const char *name,
			    uint8_t *chunk, dbuf *b, uint64_t *total)
{
	for (;;) {
		la_ssize_t n = archive_read_data(a, chunk, CVD_CHUNK);
		if (n == 0)
			return WARD_OK;
		if (n < 0) {
			const char *es = archive_error_string(a);
			cvd_diag(w->set, WARD_ECORRUPT, w->path, "corrupt container: member %s: %s",
				 name, es ? es : "read error");
			return WARD_ECORRUPT;
		}
		if (ck_add64(*total, (uint64_t)n, total) || *total > WARD_MAX_CVD_UNPACKED) {
			cvd_diag(w->set, WARD_ELIMIT, w->path,
				 "container unpacks to more than %llu bytes",
				 WARD_MAX_CVD_UNPACKED);
			return WARD_ELIMIT;
		}
		ward_err e = dbuf_add(b, chunk, (size_t)n);
		if (e == WARD_ELIMIT)
			cvd_diag(w->set, WARD_ELIMIT, w->path,
				 "member %s is larger than %llu bytes", name, WARD_MAX_DB_FILE);
		if (e)
			return e;
	}
}

/* Remember a member's name, size and SHA-256 for the .info check. */
static ward_err record_member(struct tar_walk *w, const char *name, size_t nlen, const dbuf *data,
			      bool must_list)
{
	struct member_rec r = {
		.name_len = (uint32_t)nlen, .size = data->len, .must_list = must_list};
	unsigned int dlen = 0;
	if (EVP_Digest(data->s ? data->s : "", data->len, r.sha256, &dlen, EVP_sha256(), NULL) !=
		    1 ||
	    dlen != sizeof r.sha256)
		return WARD_ENOMEM;
	ward_err err = strpool_add(&w->names, name, nlen, &r.name);
	if (!err)
		err = vec_push(&w->members, &r, sizeof r, WARD_MAX_DB_FILES);
	return err;
}

/* One walk over the tar. The checking pass (load == false) reads every byte
 * (so gzip's CRC and the tar structure are checked end to end) and enforces
 * ClamAV's rules: plain files only, no '/' in names. */
static ward_err walk_tar(struct tar_walk *w)
{
	ward_err err;
	struct archive *a = NULL;
	uint8_t *chunk = NULL;
	char *full = NULL;
	size_t nmembers = 0;
	uint64_t total = 0;
	dbuf data;
	dbuf_init(&data, WARD_MAX_DB_FILE > SIZE_MAX ? SIZE_MAX : (size_t)WARD_MAX_DB_FILE);

	if ((err = open_archive(w, &a)))
		goto out;
	err = WARD_ENOMEM;
	if (!(chunk = w_malloc(CVD_CHUNK)))
		goto out;

	for (;;) {
		struct archive_entry *ent;
		int r = archive_read_next_header(a, &ent);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			/* ARCHIVE_WARN included: a damaged header is damage here. */
			const char *es = archive_error_string(a);
			cvd_diag(w->set, WARD_ECORRUPT, w->path, "corrupt container: %s",
				 es ? es : "bad tar header");
			err = WARD_ECORRUPT;
			goto out;
		}
		if (++nmembers > WARD_MAX_DB_FILES) {
			cvd_diag(w->set, WARD_ELIMIT, w->path, "more than %u members",
				 WARD_MAX_DB_FILES);
			err = WARD_ELIMIT;
			goto out;
		}
		const char *name = archive_entry_pathname(ent);
		size_t nlen = name ? strnlen(name, WARD_MAX_CVD_MEMBER_NAME + 1) : 0;
		if (nlen == 0 || nlen > WARD_MAX_CVD_MEMBER_NAME) {
			cvd_diag(w->set, WARD_ECORRUPT, w->path,
				 "member %zu has an empty or too long name", nmembers);
			err = WARD_ECORRUPT;
			goto out;
		}
		/* Names reach diagnostics and signature-file names: no control
		 * bytes (terminal escapes). Official files use plain ASCII names. */
		for (size_t i = 0; i < nlen; i++) {
			if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
				cvd_diag(w->set, WARD_ECORRUPT, w->path,
					 "member %zu has control characters in its name", nmembers);
				err = WARD_ECORRUPT;
				goto out;
			}
		}
		/* ClamAV refuses the whole container for these (cli_tgzload). */
		if (memchr(name, '/', nlen)) {
			cvd_diag(w->set, WARD_ECORRUPT, w->path,
				 "member %s: slash separators are not allowed in a CVD", name);
			err = WARD_ECORRUPT;
			goto out;
		}
		if (archive_entry_filetype(ent) != AE_IFREG) {
			cvd_diag(
				w->set, WARD_ECORRUPT, w->path,
				"member %s is not a regular file (directories and links are not allowed in a CVD)",
				name);
			err = WARD_ECORRUPT;
			goto out;
		}
		if (archive_entry_size_is_set(ent) && archive_entry_size(ent) > 0 &&
		    (uint64_t)archive_entry_size(ent) > WARD_MAX_DB_FILE) {
			cvd_diag(w->set, WARD_ELIMIT, w->path,
				 "member %s is larger than %llu bytes", name, WARD_MAX_DB_FILE);
			err = WARD_ELIMIT;
			goto out;
		}
		bool is_db = any_suffix(name, nlen, db_exts, sizeof db_exts / sizeof db_exts[0]);
		bool nested = any_suffix(name, nlen, nested_exts,
					 sizeof nested_exts / sizeof nested_exts[0]);
		dbuf_reset(&data);
		if ((err = read_member(w, a, name, chunk, &data, &total)))
			goto out;
		if (!w->load && !w->info_seen && has_suffix(name, nlen, ".info")) {
			/* The first *.info is the index, as in ClamAV's first pass
			 * (cli_tgzload stops at it). Keep its bytes; it is not
			 * itself listed in it. */
			memcpy(w->info_name, name, nlen + 1);
			w->info_text = data;
			dbuf_init(&data, WARD_MAX_DB_FILE > SIZE_MAX ? SIZE_MAX
								     : (size_t)WARD_MAX_DB_FILE);
			w->info_seen = true;
			continue;
		}
		if (!w->load && (err = record_member(w, name, nlen, &data, is_db || nested)))
			goto out;
		if (!w->load || (!is_db && !nested))
			continue;
		if (nested) {
			cvd_diag(w->set, WARD_EUNSUPPORTED, w->path,
				 "member %s: a database container inside a container is not loaded",
				 name);
			if ((err = sigset_unsupported(w->set, "CVD inside a CVD")))
				goto out;
			continue;
		}
		/* "path/member": the extension selects the parser and messages name
		 * both the container and the member. */
		size_t plen = strlen(w->path), flen;
		if (ck_add(plen, nlen, &flen) || ck_add(flen, 2, &flen)) {
			err = WARD_ENOMEM;
			goto out;
		}
		w_free(full);
		if (!(full = w_malloc(flen))) {
			err = WARD_ENOMEM;
			goto out;
		}
		snprintf(full, flen, "%s/%s", w->path, name);
		/* dbuf leaves s NULL for an empty member: pass an empty string. */
		err = db_load_buffer(w->set, full, data.s ? data.s : "", data.len, w->official);
		if (err == WARD_EUNSUPPORTED) {
			/* A database kind ClamAV loads and Ward's loader does not know
			 * (it said so): count it, keep loading the rest. */
			char feature[64];
			const char *dot = strrchr(name, '.');
			snprintf(feature, sizeof feature, "%s database", dot ? dot + 1 : name);
			err = sigset_unsupported(w->set, feature);
		}
		if (err)
			goto out;
	}
	err = WARD_OK;
out:
	w_free(full);
	dbuf_free(&data);
	w_free(chunk);
	if (a)
		archive_read_free(a);
	return err;
}

/* ---- the container ---- */

static void md5_hex(const uint8_t *p, size_t n, char out[33], bool *ok)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	*ok = EVP_Digest(p, n, d, &dlen, EVP_md5(), NULL) == 1 && dlen == 16;
	for (size_t i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", *ok ? d[i] : 0);
}

/* A container that did not verify: refused with WARD_EBADSIG, or, when the
 * caller allows unsigned containers, loaded as unofficial (names get
 * ".UNOFFICIAL") with the same diagnostic saying so. */
static ward_err unverified(struct sigset *set, const char *path, const char *reason)
{
	if (!(set->load_flags & WARD_LOAD_ALLOW_UNSIGNED_CVD)) {
		cvd_diag(set, WARD_EBADSIG, path, "digital signature does not verify (%s)", reason);
		return WARD_EBADSIG;
	}
	cvd_diag(set, WARD_EBADSIG, path,
		 "digital signature does not verify (%s); loading as unofficial because "
		 "unsigned containers are allowed",
		 reason);
	return WARD_OK;
}

/* The .info member's first line repeats the header, inside the signed text.
 * ClamAV refuses a container whose header disagrees with it in version,
 * signature count, functionality level or creation time ("Corrupted CVD
 * header"); that is what makes those header fields trusted, in a .cld too. */
static ward_err bind_header(const struct tar_walk *w, const struct cvd_info *info)
{
	const uint8_t *p = (const uint8_t *)info->first_line;
	size_t end = info->first_line_len;
	while (end > 0 && (p[end - 1] == '\r' || p[end - 1] == ' '))
		end--;
	struct cvd_header copy;
	char why[200];
	if (parse_header_text(p, end, true, &copy, why, sizeof why)) {
		cvd_diag(w->set, WARD_ECORRUPT, w->path, "member %s: bad first line: %s",
			 w->info_name, why);
		return WARD_ECORRUPT;
	}
	const struct cvd_header *h = w->hdr;
	if (copy.version != h->version || copy.sigs != h->sigs || copy.flevel != h->flevel ||
	    copy.has_stime != h->has_stime || copy.stime != h->stime) {
		cvd_diag(w->set, WARD_ECORRUPT, w->path,
			 "header does not match the signed %s (version %u/%u, signatures %u/%u, "
			 "level %u/%u, time %llu/%llu)",
			 w->info_name, h->version, copy.version, h->sigs, copy.sigs, h->flevel,
			 copy.flevel, (unsigned long long)h->stime, (unsigned long long)copy.stime);
		return WARD_ECORRUPT;
	}
	return WARD_OK;
}

/* Every member ClamAV would load must be listed in the .info with its size
 * and SHA-256 (cli_tgzload: "not found in .info", "not correctly loaded",
 * "Invalid checksum"); a listed member that is present must match even if it
 * is not loaded. Ward also wants every listed file present: ClamAV does not
 * check that, and a signed index naming a file the container lacks means the
 * container is not the one that was signed. COPYING and the .info itself are
 * never listed (sigtool does not list them) and are not loaded. */
static bool members_match(const struct tar_walk *w, struct cvd_info *info, char *reason,
			  size_t rlen)
{
	for (size_t i = 0; i < w->members.len; i++) {
		const struct member_rec *r = &VEC_AT(&w->members, struct member_rec, i);
		const char *name = strpool_get(&w->names, r->name);
		struct cvd_info_entry *e = cvd_info_find(info, name, r->name_len);
		if (!e) {
			if (!r->must_list)
				continue;
			w_why(reason, rlen, "member %s is not listed in %s", name, w->info_name);
			return false;
		}
		e->seen = true;
		if (e->size != r->size) {
			w_why(reason, rlen, "member %s has %llu bytes, %s says %llu", name,
			      (unsigned long long)r->size, w->info_name,
			      (unsigned long long)e->size);
			return false;
		}
		if (memcmp(e->sha256, r->sha256, sizeof e->sha256) != 0) {
			w_why(reason, rlen, "member %s: SHA-256 differs from the one in %s", name,
			      w->info_name);
			return false;
		}
	}
	for (size_t i = 0; i < info->entries.len; i++) {
		const struct cvd_info_entry *e = &VEC_AT(&info->entries, struct cvd_info_entry, i);
		if (!e->seen) {
			w_why(reason, rlen, "%s lists %.*s, which is not in the container",
			      w->info_name, (int)e->name_len, e->name);
			return false;
		}
	}
	return true;
}

/* Parse the .info, bind the header to it, verify its DSIG line against
 * keys->info_n/e and match the members. A malformed .info is an error
 * (diagnosed here); a missing or failing signature or a member that does not
 * match only clears *ok, with the reason. */
static ward_err check_info(struct tar_walk *w, const struct cvd_keys *keys, bool *ok, char *reason,
			   size_t rlen)
{
	struct cvd_info info;
	char why[256];
	uint8_t digest[32];
	unsigned int dlen = 0;
	bool dsig_ok = false;

	*ok = false;
	ward_err err = cvd_info_parse((const uint8_t *)w->info_text.s, w->info_text.len, &info, why,
				      sizeof why);
	if (err) {
		if (err != WARD_ENOMEM)
			cvd_diag(w->set, err, w->path, "member %s: %s", w->info_name, why);
		goto out;
	}
	if ((err = bind_header(w, &info)))
		goto out;
	if (!info.has_dsig) {
		w_why(reason, rlen, "%s has no DSIG line", w->info_name);
	} else {
		/* signed_len <= the text's length: the DSIG line starts there. */
		if (EVP_Digest(w->info_text.s, info.signed_len, digest, &dlen, EVP_sha256(),
			       NULL) != 1 ||
		    dlen != sizeof digest) {
			err = WARD_ENOMEM;
			goto out;
		}
		err = cvd_info_verify_dsig(digest, info.dsig, info.dsig_len, keys->info_n,
					   keys->info_e);
		if (err == WARD_OK)
			dsig_ok = true;
		else if (err == WARD_EBADSIG)
			w_why(reason, rlen, "the DSIG line of %s does not verify", w->info_name);
		else
			goto out;
		err = WARD_OK;
	}
	/* Matched whatever the signature gave, so this code runs on every input
	 * (the fuzzer cannot forge a DSIG); the signature's reason wins. */
	char mreason[sizeof why * 3];
	bool members_ok = members_match(w, &info, mreason, sizeof mreason);
	if (dsig_ok && !members_ok)
		w_why(reason, rlen, "%s", mreason);
	*ok = dsig_ok && members_ok;
out:
	cvd_info_free(&info);
	return err;
}

ward_err cvd_load_with_keys(struct sigset *set, const char *path, const uint8_t *buf, size_t len,
			    const struct cvd_keys *keys)
{
	struct cvd_header hdr;
	char why[256], reason[1024];
	ward_err err;

	if (!buf)
		len = 0;
	if ((err = cvd_parse_header(buf ? buf : (const uint8_t *)"", len, &hdr, why, sizeof why))) {
		cvd_diag(set, err, path, "%s", why);
		return err;
	}
	cursor c = cur_make(buf, len);
	(void)cur_skip(&c, CVD_HEADER_LEN); /* cannot fail: the header parsed */
	size_t body_len = cur_left(&c);
	const uint8_t *body = cur_take(&c, body_len);
	if (body_len == 0 || !body) {
		cvd_diag(set, WARD_ECORRUPT, path, "truncated: nothing after the header");
		return WARD_ECORRUPT;
	}

	/* A .cld is a container freshclam rebuilt locally from diffs; its header
	 * is copied from the .cvd it corresponds to, so its MD5 and signature do
	 * not cover its body. ClamAV skips both for a .cld and trusts the signed
	 * .info alone; so does Ward. A .cvd must pass both, then the .info. */
	bool cld = has_suffix(path, strlen(path), ".cld");
	bool verified = true;
	if (!cld) {
		char md5[33];
		bool md5_computed;
		md5_hex(body, body_len, md5, &md5_computed);
		if (!md5_computed)
			return WARD_ENOMEM;
		if (memcmp(md5, hdr.md5, 32) != 0) {
			cvd_diag(
				set, WARD_ECORRUPT, path,
				"MD5 of the contents (%s) does not match the header (%s): truncated "
				"or corrupt",
				md5, hdr.md5);
			return WARD_ECORRUPT;
		}
		const char *hreason = "missing";
		if (hdr.dsig_len > 0) {
			err = cvd_verify_dsig(hdr.md5, hdr.dsig, hdr.dsig_len, keys->cvd_n,
					      keys->cvd_e);
			if (err != WARD_OK && err != WARD_EBADSIG)
				return err;
			hreason = "wrong signature";
		}
		if (hdr.dsig_len == 0 || err != WARD_OK) {
			verified = false;
			/* Refused before the tar is even opened. */
			if ((err = unverified(set, path, hreason)))
				return err;
		}
	}

	struct tar_walk w = {
		.set = set,
		.path = path,
		.body = body,
		.body_len = body_len,
		.gzip = body_len >= 2 && body[0] == 0x1f && body[1] == 0x8b,
		.hdr = &hdr,
		.load = false,
	};
	dbuf_init(&w.info_text, 0);
	strpool_init(&w.names);
	if ((err = walk_tar(&w)))
		goto out;
	if (!w.info_seen) {
		cvd_diag(set, WARD_ECORRUPT, path,
			 "no .info member: the header cannot be checked (ClamAV refuses this too)");
		err = WARD_ECORRUPT;
		goto out;
	}
	bool info_ok;
	if ((err = check_info(&w, keys, &info_ok, reason, sizeof reason)))
		goto out;
	if (verified && !info_ok) {
		verified = false;
		if ((err = unverified(set, path, reason)))
			goto out;
	}
	w.official = verified;
	w.load = true;
	err = walk_tar(&w);
out:
	dbuf_free(&w.info_text);
	vec_free(&w.members);
	strpool_free(&w.names);
	return err;
}

ward_err db_load_cvd(struct sigset *set, const char *path, const uint8_t *buf, size_t len)
{
	/* Always ClamAV's own keys: there is no way to pass others from a file,
	 * an option or the public API. */
	return cvd_load_with_keys(set, path, buf, len, &cvd_clamav_keys);
}
