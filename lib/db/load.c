/*
 * Database loading: files by extension, directories, and in-memory buffers
 * split into lines for the per-format parsers. Design: docs/internals/db.md.
 */
#define _GNU_SOURCE /* O_CLOEXEC, openat, fdopendir */
#include "db/sigs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

enum fmt_kind {
	FMT_UNKNOWN = 0,
	FMT_HASH, /* .hdb .hsb .mdb .msb .imp .fp .sfp */
	FMT_NDB,
	FMT_LDB,
	FMT_IGN,         /* .ign */
	FMT_IGN2,        /* .ign2 */
	FMT_CVD,         /* .cvd .cld .cud: lib/db/cvd.c */
	FMT_UNSUP_LINES, /* a ClamAV format Ward lacks: every line counted */
	FMT_UNSUP_FILE,  /* ... whose file is one signature (.cbc bytecode) */
};

struct fmt {
	const char *ext;
	uint8_t kind;
	uint8_t scope; /* FMT_HASH */
	bool allow;    /* FMT_HASH */
};

static const struct fmt formats[] = {
	{"hdb", FMT_HASH, HSCOPE_FILE, false},
	{"hsb", FMT_HASH, HSCOPE_FILE, false},
	{"mdb", FMT_HASH, HSCOPE_SECTION, false},
	{"msb", FMT_HASH, HSCOPE_SECTION, false},
	{"imp", FMT_HASH, HSCOPE_IMPORTS, false},
	{"fp", FMT_HASH, HSCOPE_FILE, true},
	{"sfp", FMT_HASH, HSCOPE_FILE, true},
	{"ndb", FMT_NDB, 0, false},
	{"ldb", FMT_LDB, 0, false},
	{"ign", FMT_IGN, 0, false},
	{"ign2", FMT_IGN2, 0, false},
	{"cvd", FMT_CVD, 0, false},
	{"cld", FMT_CVD, 0, false},
	{"cud", FMT_CVD, 0, false},
	/* ClamAV formats Ward does not implement. Their signatures are counted
	 * as unsupported so `ward db info` shows what is not enforced; nothing
	 * is dropped silently. The PUA variants (.hdu ...) are what clamscan
	 * loads only with --detect-pua. */
	{"cbc", FMT_UNSUP_FILE, 0, false},
	{"db", FMT_UNSUP_LINES, 0, false},
	{"idb", FMT_UNSUP_LINES, 0, false},
	{"cdb", FMT_UNSUP_LINES, 0, false},
	{"crb", FMT_UNSUP_LINES, 0, false},
	{"cat", FMT_UNSUP_LINES, 0, false},
	{"pdb", FMT_UNSUP_LINES, 0, false},
	{"wdb", FMT_UNSUP_LINES, 0, false},
	{"gdb", FMT_UNSUP_LINES, 0, false},
	{"ftm", FMT_UNSUP_LINES, 0, false},
	{"info", FMT_UNSUP_LINES, 0, false},
	{"cfg", FMT_UNSUP_LINES, 0, false},
	{"yar", FMT_UNSUP_LINES, 0, false},
	{"yara", FMT_UNSUP_LINES, 0, false},
	{"pwdb", FMT_UNSUP_LINES, 0, false},
	{"sdb", FMT_UNSUP_LINES, 0, false},
	{"zmd", FMT_UNSUP_LINES, 0, false},
	{"rmd", FMT_UNSUP_LINES, 0, false},
	{"hdu", FMT_UNSUP_LINES, 0, false},
	{"hsu", FMT_UNSUP_LINES, 0, false},
	{"mdu", FMT_UNSUP_LINES, 0, false},
	{"msu", FMT_UNSUP_LINES, 0, false},
	{"ndu", FMT_UNSUP_LINES, 0, false},
	{"ldu", FMT_UNSUP_LINES, 0, false},
};

static void file_diag(struct sigset *set, ward_err code, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void file_diag(struct sigset *set, ward_err code, const char *file, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	if (!set->diag && !set->key_md)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	/* What the walk met (a file that cannot be opened, an unknown
	 * extension) decides what is loaded as much as the files' bytes. */
	db_load_key_event(set, 'D', file ? file : "", reason, strlen(reason));
	if (set->diag && !set->key_only)
		set->diag(set->diag_ctx, code, file, 0, reason);
}

void db_load_key_event(struct sigset *set, char kind, const char *name, const void *p, size_t n)
{
	EVP_MD_CTX *md = set->key_md;
	if (!md)
		return;
	uint8_t hdr[17];
	uint64_t nl = strlen(name), pl = n;
	hdr[0] = (uint8_t)kind;
	for (int b = 0; b < 8; b++) {
		hdr[1 + b] = (uint8_t)(nl >> (8 * b));
		hdr[9 + b] = (uint8_t)(pl >> (8 * b));
	}
	if (EVP_DigestUpdate(md, hdr, sizeof hdr) != 1 || EVP_DigestUpdate(md, name, nl) != 1 ||
	    (n && EVP_DigestUpdate(md, p, n) != 1))
		set->key_failed = true;
}

/* The format for a file name, by its extension (case-insensitive, as
 * ClamAV's cli_strbcasestr). */
static const struct fmt *format_of(const char *name)
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	const char *dot = strrchr(base, '.');
	if (!dot)
		return NULL;
	const char *ext = dot + 1;
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcasecmp(ext, formats[i].ext) == 0)
			return &formats[i];
	return NULL;
}

static ward_err dispatch_line(struct sigset *set, const struct fmt *f, const struct dbline *l)
{
	switch (f->kind) {
	case FMT_HASH:
		return db_parse_hash_line(set, l, f->scope, f->allow);
	case FMT_NDB:
		return db_parse_ndb_line(set, l);
	case FMT_LDB:
		return db_parse_ldb_line(set, l);
	case FMT_IGN:
	case FMT_IGN2:
		return db_parse_ign_line(set, l, f->kind == FMT_IGN2);
	default:
		break;
	}
	return WARD_EINTERNAL;
}

ward_err db_load_buffer(struct sigset *set, const char *name, const char *buf, size_t len,
			bool official)
{
	const struct fmt *f = format_of(name);
	char feature[64];
	ward_err e = WARD_OK;

	if (!f) {
		file_diag(set, WARD_EUNSUPPORTED, name,
			  "not a signature database (unknown extension)");
		return WARD_EUNSUPPORTED;
	}
	if (f->kind == FMT_CVD)
		return db_load_cvd(set, name, (const uint8_t *)buf, len);
	snprintf(feature, sizeof feature, "%s database", f->ext);
	if (f->kind == FMT_UNSUP_FILE) {
		file_diag(set, WARD_EUNSUPPORTED, name,
			  "%s databases are not supported; not loaded", f->ext);
		return sigset_unsupported(set, feature);
	}

	uint64_t unsupported_lines = 0;
	unsigned long lineno = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *s = buf + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		pos += n + (nl ? 1 : 0);
		lineno++;
		if (n > WARD_MAX_LINE) {
			/* Rejected, not truncated: a cut signature would mean
			 * something else. */
			sigset_bad_line(set, name, lineno, WARD_ELIMIT, "line longer than %u bytes",
					WARD_MAX_LINE);
			continue;
		}
		if (n && s[n - 1] == '\r')
			n--;
		if (n == 0) {
			/* clamscan 1.4.6 rejects the whole database at an empty line
			 * ("Problem parsing database at line N"); we reject the line. */
			sigset_bad_line(set, name, lineno, WARD_ECORRUPT, "empty line");
			continue;
		}
		/* clamscan skips lines starting with '#' in every text format. */
		if (s[0] == '#')
			continue;
		if (f->kind == FMT_UNSUP_LINES) {
			e = sigset_unsupported(set, feature);
			if (e)
				return e;
			unsupported_lines++;
			continue;
		}
		struct dbline l = {name, lineno, s, n, official};
		e = dispatch_line(set, f, &l);
		if (e)
			return e;
	}
	if (unsupported_lines)
		file_diag(set, WARD_EUNSUPPORTED, name,
			  "%s databases are not supported; %llu signatures counted as unsupported",
			  f->ext, (unsigned long long)unsupported_lines);
	return WARD_OK;
}

/* Read a whole regular file (already open) into memory, at most
 * WARD_MAX_DB_FILE bytes. *out is owned by the caller (w_free). */
static ward_err read_fd(struct sigset *set, int fd, const char *path, char **out, size_t *outlen)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		file_diag(set, WARD_EIO, path, "cannot stat: %s", strerror(errno));
		return WARD_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		file_diag(set, WARD_EIO, path, "not a regular file");
		return WARD_EIO;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > WARD_MAX_DB_FILE) {
		file_diag(set, WARD_ELIMIT, path, "larger than the %llu-byte database file limit",
			  (unsigned long long)WARD_MAX_DB_FILE);
		return WARD_ELIMIT;
	}
	size_t size = (size_t)st.st_size, got = 0;
	char *buf = w_malloc(size);
	if (!buf)
		return WARD_ENOMEM;
	/* Read what fstat promised and no more: a file growing under us cannot
	 * push the buffer past its ceiling. */
	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			file_diag(set, WARD_EIO, path, "read failed: %s", strerror(errno));
			w_free(buf);
			return WARD_EIO;
		}
		if (r == 0)
			break; /* shrank: use what is there */
		got += (size_t)r;
	}
	*out = buf;
	*outlen = got;
	return WARD_OK;
}

static ward_err load_file_fd(struct sigset *set, int fd, const char *path, const struct fmt *f)
{
	char *buf = NULL;
	size_t len = 0;
	ward_err e = read_fd(set, fd, path, &buf, &len);
	if (e)
		return e;
	db_load_key_event(set, 'F', path, buf, len);
	if (set->key_only) {
		w_free(buf);
		return WARD_OK;
	}
	if (f->kind == FMT_CVD)
		e = db_load_cvd(set, path, (const uint8_t *)buf, len);
	else
		e = db_load_buffer(set, path, buf, len, false);
	w_free(buf);
	return e;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool fatal(ward_err e)
{
	return e == WARD_ENOMEM || e == WARD_ELIMIT || e == WARD_EINTERNAL;
}

/* A directory: its regular files in sorted order (so loading is repeatable),
 * ignore lists first (an .ign2 "Name:MD5" entry can only drop signatures
 * parsed after it), no recursion. Per-file errors are reported and the rest
 * loads; the first one is returned at the end. */
static ward_err load_dir(struct sigset *set, int fd, const char *path)
{
	vec names = {NULL, 0, 0};
	char full[WARD_MAX_DB_PATH];
	ward_err e = WARD_OK, first = WARD_OK;
	DIR *d = fdopendir(fd);
	if (!d) {
		file_diag(set, WARD_EIO, path, "cannot read directory: %s", strerror(errno));
		close(fd);
		return WARD_EIO;
	}
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
			continue; /* subdirectories, sockets, dangling links */
		if (names.len >= WARD_MAX_DB_FILES) {
			file_diag(set, WARD_ELIMIT, path, "more than %u files", WARD_MAX_DB_FILES);
			e = WARD_ELIMIT;
			goto out;
		}
		char *copy = w_strdup(de->d_name);
		if (!copy) {
			e = WARD_ENOMEM;
			goto out;
		}
		e = vec_push(&names, &copy, sizeof copy, WARD_MAX_DB_FILES);
		if (e) {
			w_free(copy);
			goto out;
		}
	}
	if (names.len)
		qsort(names.items, names.len, sizeof(char *), cmp_names);

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < names.len; i++) {
			const char *name = VEC_AT(&names, char *, i);
			const struct fmt *f = format_of(name);
			bool is_ign = f && (f->kind == FMT_IGN || f->kind == FMT_IGN2);
			if ((pass == 0) != is_ign)
				continue;
			int n = snprintf(full, sizeof full, "%s/%s", path, name);
			if (n < 0 || (size_t)n >= sizeof full) {
				file_diag(set, WARD_ELIMIT, path, "file name too long; skipped");
				continue;
			}
			if (!f) {
				file_diag(set, WARD_EUNSUPPORTED, full,
					  "skipped: not a signature database (unknown extension)");
				continue;
			}
			int ffd = openat(dirfd(d), name,
					 O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
			if (ffd < 0) {
				file_diag(set, WARD_EIO, full, "cannot open: %s", strerror(errno));
				if (!first)
					first = WARD_EIO;
				continue;
			}
			e = load_file_fd(set, ffd, full, f);
			close(ffd);
			if (fatal(e))
				goto out;
			if (e && !first)
				first = e;
		}
	}
	e = first;
out:
	for (size_t i = 0; i < names.len; i++)
		w_free(VEC_AT(&names, char *, i));
	vec_free(&names);
	closedir(d);
	return e;
}

ward_err db_load_path(struct sigset *set, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		file_diag(set, WARD_EIO, path, "cannot open: %s", strerror(errno));
		return WARD_EIO;
	}
	if (fstat(fd, &st) != 0) {
		file_diag(set, WARD_EIO, path, "cannot stat: %s", strerror(errno));
		close(fd);
		return WARD_EIO;
	}
	if (S_ISDIR(st.st_mode))
		return load_dir(set, fd, path); /* takes fd */
	const struct fmt *f = format_of(path);
	if (!f) {
		file_diag(set, WARD_EUNSUPPORTED, path,
			  "not a signature database (unknown extension)");
		close(fd);
		return WARD_EUNSUPPORTED;
	}
	ward_err e = load_file_fd(set, fd, path, f);
	close(fd);
	return e;
}
