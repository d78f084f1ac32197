/*
 * `ward pattern ...`: pattern packages (keygen, build, verify, info, extract,
 * delta, apply-delta, lint) and the release gate (qa). The format, the
 * checks and their defaults are in docs/internals/pattern-package.md; this
 * file parses options, moves files and calls include/ward/pkg.h and
 * include/ward/ward.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ward/pkg.h"

/* ---- limits of this command ----
 * Largest input read whole (signature file, package): the library's own
 * package cap, repeated here because the CLI only sees the public headers. */
#define PAT_MAX_FILE (1ull << 30)
/* Build manifest and matrix files are short text. */
#define PAT_MAX_TEXT (1u << 20)
/* Inputs to `build`, files found in a corpus, matrix entries. */
#define PAT_MAX_INPUTS 4096u
#define PAT_MAX_CORPUS_FILES 100000u
#define PAT_MAX_CORPUS_DEPTH 32u
#define PAT_MAX_MATRIX 1024u
/* Report lines kept per check: the count is always reported; past this the
 * details are summarised, so a package that breaks everything still gives a
 * readable report of bounded size. */
#define PAT_MAX_ITEMS 200u
/* Bisection measurements when attributing a slowdown. */
#define PAT_MAX_BISECT 64u
/* Repetitions of a performance measurement. */
#define PAT_MAX_REPS 101u
/* Results a measuring child may send back (per-file costs of the corpus). */
#define PAT_MAX_RESULT_BYTES (8u + 8u * PAT_MAX_REPS + 8u * PAT_MAX_CORPUS_FILES + 16u)

static const char pattern_usage[] =
	"Usage: ward pattern COMMAND ...\n"
	"  keygen -p PUB -s SEC                       make an Ed25519 key pair (SEC mode 0600)\n"
	"  build --manifest IN (--key SEC | --unsigned) -o OUT FILE|DIR...\n"
	"  verify --key PUB PKG                       verify signature, structure and hashes\n"
	"  info PKG                                   print the manifest (signature NOT checked)\n"
	"  extract --key PUB PKG DIR                  verify, then write the members into DIR\n"
	"  delta --key SEC OLD NEW -o OUT             signed delta from OLD to NEW\n"
	"  apply-delta --key PUB BASE DELTA -o OUT    rebuild NEW (exit 1: use the full package)\n"
	"  lint [--min-anchor N] [--max-alternatives N] FILE...\n"
	"  qa NEW --baseline CURRENT --clean-corpus DIR --perf-corpus DIR --matrix FILE\n"
	"     --key PUB [--report-json F] [--report-md F] [--max-slowdown PCT]\n"
	"     [--min-slowdown-ms MS] [--file-budget-ms MS] [--max-mem-growth PCT]\n"
	"     [--reps N] [--min-anchor N] [--max-alternatives N] [--critical PATH]...\n"
	"     [--critical-max N] [--critical-time-ms MS] [--no-system-critical]\n"
	"     [--perf-cpu-limit S]\n"
	"Exit codes: 0 ok, 1 refused / does not verify / findings, 2 usage or I/O error.\n";

/* ---- files ---- */

static int read_all(const char *path, uint64_t cap, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	*out = NULL;
	*len = 0;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size > cap) {
		close(fd);
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		return -1;
	}
	size_t n = (size_t)st.st_size;
	buf = malloc(n ? n : 1);
	if (!buf) {
		close(fd);
		return -1;
	}
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			free(buf);
			close(fd);
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	*out = buf;
	*len = n;
	return 0;
}

/* Write to PATH.tmp then rename, so a reader never sees half a package. */
static int write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	char tmp[CLI_MAX_PATH];
	int k = snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (k < 0 || (size_t)k >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (!cli_write_all(fd, p, n) || fsync(fd) != 0) {
		int saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		int saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}

/* dst = a + sep + b; false when it does not fit (never truncated). */
static bool join(char *dst, size_t n, const char *a, const char *sep, const char *b)
{
	int k = snprintf(dst, n, "%s%s%s", a, sep, b);
	return k >= 0 && (size_t)k < n;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* A list of owned strings. */
struct strlist {
	char **v;
	size_t n, alloc;
	size_t cap;
};

static bool sl_add(struct strlist *l, const char *s)
{
	if (l->n >= l->cap)
		return false;
	if (l->n == l->alloc) {
		size_t a = l->alloc ? l->alloc * 2 : 16;
		char **v = realloc(l->v, a * sizeof *v);
		if (!v)
			return false;
		l->v = v;
		l->alloc = a;
	}
	char *d = strdup(s);
	if (!d)
		return false;
	l->v[l->n++] = d;
	return true;
}

static void sl_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sl_sort(struct strlist *l)
{
	if (l->n) /* qsort with a NULL base is undefined even for 0 items */
		qsort(l->v, l->n, sizeof *l->v, cmp_str);
}

/* Regular files under dir (recursively when depth > 0), appended to out.
 * Returns false on an I/O error or when the list is full. */
static bool walk_files(const char *dir, unsigned depth, struct strlist *out)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	struct strlist names = {.cap = PAT_MAX_CORPUS_FILES};
	struct dirent *de;
	bool ok = true;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!sl_add(&names, de->d_name)) {
			ok = false;
			break;
		}
	}
	closedir(d);
	/* Sorted, so the corpus order (and every report) is deterministic. */
	sl_sort(&names);
	for (size_t i = 0; ok && i < names.n; i++) {
		char p[CLI_MAX_PATH];
		struct stat st;
		int k = snprintf(p, sizeof p, "%s/%s", dir, names.v[i]);
		if (k < 0 || (size_t)k >= sizeof p || stat(p, &st) != 0)
			continue;
		if (S_ISREG(st.st_mode))
			ok = sl_add(out, p);
		else if (S_ISDIR(st.st_mode) && depth > 0)
			ok = walk_files(p, depth - 1, out);
	}
	sl_free(&names);
	return ok;
}

/* ---- keygen ---- */

static int pat_keygen(int argc, char **argv)
{
	const char *pub = NULL, *sec = NULL;
	char why[256] = "";
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-p") && i + 1 < argc)
			pub = argv[++i];
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			sec = argv[++i];
		else {
			fputs(pattern_usage, stderr);
			return 2;
		}
	}
	if (!pub || !sec) {
		fputs(pattern_usage, stderr);
		return 2;
	}
	ward_err e = ward_pkg_keygen(pub, sec, why, sizeof why);
	if (e != WARD_OK) {
		fprintf(stderr, "ward pattern keygen: %s (%s)\n", why, ward_strerror(e));
		return 2;
	}
	return 0;
}

/* ---- build ---- */

struct build_manifest {
	uint64_t version, created;
	uint32_t engine_min, engine_max;
	bool have_version, have_created, have_min, have_max;
	struct strlist platforms, changelog;
};

/* The build manifest: "key: value" lines in any order; '#' comments. */
static bool parse_build_manifest(char *text, size_t len, struct build_manifest *bm)
{
	size_t pos = 0;
	unsigned long lineno = 0;
	bm->platforms.cap = 64;
	bm->changelog.cap = 4096;
	while (pos < len) {
		char *s = text + pos;
		char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		pos += n + (nl ? 1 : 0);
		lineno++;
		s[n] = '\0';
		if (n && s[n - 1] == '\r')
			s[--n] = '\0';
		if (n == 0 || s[0] == '#')
			continue;
		char *colon = strchr(s, ':');
		if (!colon || colon[1] != ' ') {
			fprintf(stderr, "manifest line %lu: want \"key: value\"\n", lineno);
			return false;
		}
		*colon = '\0';
		const char *v = colon + 2;
		uint64_t num;
		if (!strcmp(s, "version") && cli_parse_number(v, (uint64_t)INT64_MAX, &num)) {
			bm->version = num;
			bm->have_version = true;
		} else if (!strcmp(s, "created") && cli_parse_number(v, UINT64_MAX, &num)) {
			bm->created = num;
			bm->have_created = true;
		} else if (!strcmp(s, "engine-min") && cli_parse_number(v, UINT32_MAX - 1, &num)) {
			bm->engine_min = (uint32_t)num;
			bm->have_min = true;
		} else if (!strcmp(s, "engine-max") && !strcmp(v, "*")) {
			bm->engine_max = WARD_PKG_ENGINE_ANY;
			bm->have_max = true;
		} else if (!strcmp(s, "engine-max") && cli_parse_number(v, UINT32_MAX - 1, &num)) {
			bm->engine_max = (uint32_t)num;
			bm->have_max = true;
		} else if (!strcmp(s, "platform")) {
			if (!sl_add(&bm->platforms, v))
				return false;
		} else if (!strcmp(s, "changelog")) {
			if (!sl_add(&bm->changelog, v))
				return false;
		} else {
			fprintf(stderr, "manifest line %lu: unknown key or bad value for \"%s\"\n",
				lineno, s);
			return false;
		}
	}
	if (!bm->have_version || !bm->have_created || !bm->have_min || !bm->have_max) {
		fprintf(stderr,
			"manifest: version, created, engine-min and engine-max are required\n");
		return false;
	}
	return true;
}

static int pat_build(int argc, char **argv)
{
	const char *man_path = NULL, *key_path = NULL, *out_path = NULL;
	bool unsigned_ok = false;
	struct strlist inputs = {.cap = PAT_MAX_INPUTS};
	struct build_manifest bm;
	ward_pkg_member_in *members = NULL;
	uint8_t **datas = NULL;
	ward_pkg_seckey *key = NULL;
	uint8_t *mtext = NULL, *pkg = NULL;
	size_t mlen = 0, pkglen = 0;
	char why[256] = "";
	int rc = 2;
	memset(&bm, 0, sizeof bm);

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--manifest") && i + 1 < argc)
			man_path = argv[++i];
		else if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key_path = argv[++i];
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out_path = argv[++i];
		else if (!strcmp(argv[i], "--unsigned"))
			unsigned_ok = true;
		else if (argv[i][0] == '-') {
			fputs(pattern_usage, stderr);
			goto out;
		} else {
			struct stat st;
			if (stat(argv[i], &st) != 0) {
				fprintf(stderr, "ward pattern build: %s: %s\n", argv[i],
					strerror(errno));
				goto out;
			}
			bool ok = S_ISDIR(st.st_mode) ? walk_files(argv[i], 0, &inputs)
						      : sl_add(&inputs, argv[i]);
			if (!ok) {
				fprintf(stderr,
					"ward pattern build: %s: cannot list (or more than %u inputs)\n",
					argv[i], PAT_MAX_INPUTS);
				goto out;
			}
		}
	}
	if (!man_path || !out_path || (!key_path == !unsigned_ok)) {
		fputs(pattern_usage, stderr);
		goto out;
	}
	if (read_all(man_path, PAT_MAX_TEXT, &mtext, &mlen) != 0) {
		fprintf(stderr, "ward pattern build: %s: %s\n", man_path, strerror(errno));
		goto out;
	}
	/* NUL-terminate a copy for the line parser. */
	char *mt = malloc(mlen + 1);
	if (!mt)
		goto out;
	memcpy(mt, mtext, mlen);
	mt[mlen] = '\0';
	bool mok = parse_build_manifest(mt, mlen, &bm);
	free(mt);
	if (!mok)
		goto out;
	if (key_path) {
		ward_err e = ward_pkg_seckey_read(key_path, &key, why, sizeof why);
		if (e != WARD_OK) {
			fprintf(stderr, "ward pattern build: %s\n", why);
			goto out;
		}
	}
	members = calloc(inputs.n ? inputs.n : 1, sizeof *members);
	datas = calloc(inputs.n ? inputs.n : 1, sizeof *datas);
	if (!members || !datas)
		goto out;
	for (size_t i = 0; i < inputs.n; i++) {
		size_t len;
		if (read_all(inputs.v[i], PAT_MAX_FILE, &datas[i], &len) != 0) {
			fprintf(stderr, "ward pattern build: %s: %s\n", inputs.v[i],
				strerror(errno));
			goto out;
		}
		members[i] = (ward_pkg_member_in){base_name(inputs.v[i]), datas[i], len};
	}
	ward_pkg_build_in in = {
		.version = bm.version,
		.created = bm.created,
		.engine_min = bm.engine_min,
		.engine_max = bm.engine_max,
		.platforms = (const char *const *)bm.platforms.v,
		.nplatforms = bm.platforms.n,
		.changelog = (const char *const *)bm.changelog.v,
		.nchangelog = bm.changelog.n,
		.members = members,
		.nmembers = inputs.n,
	};
	ward_err e = ward_pkg_build(&in, key, &pkg, &pkglen, why, sizeof why);
	if (e != WARD_OK) {
		fprintf(stderr, "ward pattern build: %s (%s)\n", why, ward_strerror(e));
		goto out;
	}
	if (write_file(out_path, pkg, pkglen, 0644) != 0) {
		fprintf(stderr, "ward pattern build: %s: %s\n", out_path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (datas)
		for (size_t i = 0; i < inputs.n; i++)
			free(datas[i]);
	free(datas);
	free(members);
	free(mtext);
	ward_pkg_buf_free(pkg);
	ward_pkg_seckey_free(key);
	sl_free(&inputs);
	sl_free(&bm.platforms);
	sl_free(&bm.changelog);
	return rc;
}

/* ---- verify, info, extract ---- */

static int load_pubkey(const char *cmd, const char *path, ward_pkg_pubkey **k)
{
	char why[256] = "";
	if (!path) {
		fprintf(stderr, "ward pattern %s: --key PUB is required\n", cmd);
		return 2;
	}
	ward_err e = ward_pkg_pubkey_read(path, k, why, sizeof why);
	if (e != WARD_OK) {
		fprintf(stderr, "ward pattern %s: %s\n", cmd, why);
		return 2;
	}
	return 0;
}

static int pat_verify(int argc, char **argv)
{
	const char *key_path = NULL, *pkg_path = NULL;
	ward_pkg_pubkey *key = NULL;
	ward_pkg *p = NULL;
	char why[256] = "";
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key_path = argv[++i];
		else if (!pkg_path && argv[i][0] != '-')
			pkg_path = argv[i];
		else {
			fputs(pattern_usage, stderr);
			return 2;
		}
	}
	if (!pkg_path) {
		fputs(pattern_usage, stderr);
		return 2;
	}
	int rc = load_pubkey("verify", key_path, &key);
	if (rc)
		return rc;
	ward_err e = ward_pkg_verify_file(pkg_path, key, &p, why, sizeof why);
	if (e == WARD_OK) {
		const ward_pkg_meta *m = ward_pkg_get_meta(p);
		printf("%s: OK (%s package, version %llu)\n", pkg_path,
		       m->kind == WARD_PKG_KIND_FULL ? "full" : "delta",
		       (unsigned long long)m->version);
	} else {
		strbuf b = {0};
		sb_add_text(&b, why);
		fprintf(stderr, "%s: REFUSED: %s (%s)\n", pkg_path, b.s ? b.s : "",
			ward_strerror(e));
		sb_free(&b);
		rc = e == WARD_EIO ? 2 : 1;
	}
	ward_pkg_free(p);
	ward_pkg_pubkey_free(key);
	return rc;
}

static int pat_info(int argc, char **argv)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	ward_pkg *p = NULL;
	char why[256] = "";
	if (argc != 1) {
		fputs(pattern_usage, stderr);
		return 2;
	}
	if (read_all(argv[0], PAT_MAX_FILE, &buf, &len) != 0) {
		fprintf(stderr, "ward pattern info: %s: %s\n", argv[0], strerror(errno));
		return 2;
	}
	ward_err e = ward_pkg_parse(buf, len, &p, why, sizeof why);
	free(buf);
	if (e != WARD_OK) {
		fprintf(stderr, "ward pattern info: %s: %s\n", argv[0], why);
		return 1;
	}
	const ward_pkg_meta *m = ward_pkg_get_meta(p);
	char id[17];
	for (size_t i = 0; i < WARD_PKG_KEYID_LEN; i++)
		snprintf(id + 2 * i, 3, "%02x", m->key_id[i]);
	/* The manifest holds no control characters (the parser refuses them). */
	printf("# signature NOT verified (use `ward pattern verify`)\n# signed: %s%s\n%s",
	       m->is_signed ? "yes, key id " : "no", m->is_signed ? id : "", m->manifest);
	ward_pkg_free(p);
	return 0;
}

/* Write every member of a verified full package into dir (created if
 * missing). Member names are checked by the parser: no '/', no leading '.'. */
static int extract_to(const ward_pkg *p, const char *dir)
{
	const ward_pkg_meta *m = ward_pkg_get_meta(p);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -1;
	for (size_t i = 0; i < m->nfiles; i++) {
		char path[CLI_MAX_PATH];
		int k = snprintf(path, sizeof path, "%s/%s", dir, m->files[i].name);
		if (k < 0 || (size_t)k >= sizeof path) {
			errno = ENAMETOOLONG;
			return -1;
		}
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return -1;
		bool ok = cli_write_all(fd, m->files[i].data, m->files[i].len);
		if (close(fd) != 0 || !ok)
			return -1;
	}
	return 0;
}

static int pat_extract(int argc, char **argv)
{
	const char *key_path = NULL, *pkg_path = NULL, *dir = NULL;
	ward_pkg_pubkey *key = NULL;
	ward_pkg *p = NULL;
	char why[256] = "";
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key_path = argv[++i];
		else if (!pkg_path && argv[i][0] != '-')
			pkg_path = argv[i];
		else if (!dir && argv[i][0] != '-')
			dir = argv[i];
		else {
			fputs(pattern_usage, stderr);
			return 2;
		}
	}
	if (!pkg_path || !dir) {
		fputs(pattern_usage, stderr);
		return 2;
	}
	int rc = load_pubkey("extract", key_path, &key);
	if (rc)
		return rc;
	ward_err e = ward_pkg_verify_file(pkg_path, key, &p, why, sizeof why);
	if (e != WARD_OK) {
		fprintf(stderr, "%s: REFUSED: %s\n", pkg_path, why);
		rc = 1;
	} else if (ward_pkg_get_meta(p)->kind != WARD_PKG_KIND_FULL) {
		fprintf(stderr, "%s: a delta package: apply it first\n", pkg_path);
		rc = 1;
	} else if (extract_to(p, dir) != 0) {
		fprintf(stderr, "ward pattern extract: %s: %s\n", dir, strerror(errno));
		rc = 2;
	}
	ward_pkg_free(p);
	ward_pkg_pubkey_free(key);
	return rc;
}

/* ---- delta, apply-delta ---- */

static int pat_delta(int argc, char **argv, bool apply)
{
	const char *key_path = NULL, *out_path = NULL, *a = NULL, *b = NULL;
	const char *cmd = apply ? "apply-delta" : "delta";
	uint8_t *abuf = NULL, *bbuf = NULL, *res = NULL;
	size_t alen = 0, blen = 0, rlen = 0;
	ward_pkg_pubkey *pub = NULL;
	ward_pkg_seckey *sec = NULL;
	char why[256] = "";
	int rc = 2;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key_path = argv[++i];
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out_path = argv[++i];
		else if (!a && argv[i][0] != '-')
			a = argv[i];
		else if (!b && argv[i][0] != '-')
			b = argv[i];
		else {
			fputs(pattern_usage, stderr);
			return 2;
		}
	}
	if (!a || !b || !out_path || !key_path) {
		fputs(pattern_usage, stderr);
		return 2;
	}
	ward_err e = apply ? ward_pkg_pubkey_read(key_path, &pub, why, sizeof why)
			   : ward_pkg_seckey_read(key_path, &sec, why, sizeof why);
	if (e != WARD_OK) {
		fprintf(stderr, "ward pattern %s: %s\n", cmd, why);
		goto out;
	}
	if (read_all(a, PAT_MAX_FILE, &abuf, &alen) != 0 ||
	    read_all(b, PAT_MAX_FILE, &bbuf, &blen) != 0) {
		fprintf(stderr, "ward pattern %s: %s: %s\n", cmd, abuf ? b : a, strerror(errno));
		goto out;
	}
	/* a is the base, b the delta (apply) or the new package (delta): the
	 * names differ from the parameters' on purpose. */
	// NOLINTNEXTLINE(readability-suspicious-call-argument)
	e = apply ? ward_pkg_apply_delta(abuf, alen, bbuf, blen, pub, &res, &rlen, why, sizeof why)
		  : ward_pkg_delta(abuf, alen, bbuf, blen, sec, &res, &rlen, why, sizeof why);
	if (e != WARD_OK) {
		fprintf(stderr, "ward pattern %s: %s (%s)%s\n", cmd, why, ward_strerror(e),
			apply ? ": download the full package instead" : "");
		rc = apply ? 1 : 2;
		goto out;
	}
	if (write_file(out_path, res, rlen, 0644) != 0) {
		fprintf(stderr, "ward pattern %s: %s: %s\n", cmd, out_path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(abuf);
	free(bbuf);
	ward_pkg_buf_free(res);
	ward_pkg_pubkey_free(pub);
	ward_pkg_seckey_free(sec);
	return rc;
}

/* ---- lint ---- */

struct lint_print {
	const char *file;
	unsigned long line;
	strbuf *out; /* NULL: print to stdout */
};

static void lint_print_fn(void *ctx, const char *signame, const char *reason)
{
	struct lint_print *lp = ctx;
	strbuf b = {0};
	sb_add_text(&b, lp->file);
	sb_addf(&b, ":%lu: ", lp->line);
	sb_add_text(&b, signame ? signame : "(unnamed)");
	sb_adds(&b, ": ");
	sb_add_text(&b, reason);
	if (!b.failed)
		printf("%s\n", b.s);
	sb_free(&b);
}

static bool lint_option(int argc, char **argv, int *i, ward_pkg_lint_opts *lo)
{
	uint64_t v;
	if (!strcmp(argv[*i], "--min-anchor") && *i + 1 < argc &&
	    cli_parse_number(argv[*i + 1], 16, &v)) {
		lo->min_anchor = (uint32_t)v;
		(*i)++;
		return true;
	}
	if (!strcmp(argv[*i], "--max-alternatives") && *i + 1 < argc &&
	    cli_parse_number(argv[*i + 1], 1u << 20, &v)) {
		lo->max_alternatives = (uint32_t)v;
		(*i)++;
		return true;
	}
	return false;
}

/* Call fn for each line of text (without the newline): (line, len, lineno). */
typedef bool (*line_fn)(void *ctx, const char *s, size_t n, unsigned long lineno);
static bool each_line(const uint8_t *text, size_t len, line_fn fn, void *ctx)
{
	size_t pos = 0;
	unsigned long lineno = 0;
	while (pos < len) {
		const char *s = (const char *)text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		pos += n + (nl ? 1 : 0);
		lineno++;
		size_t m = n && s[n - 1] == '\r' ? n - 1 : n;
		if (!fn(ctx, s, m, lineno))
			return false;
	}
	return true;
}

struct lint_file_ctx {
	const char *file;
	const ward_pkg_lint_opts *lo;
	unsigned long findings;
	bool oom;
};

static bool lint_one(void *ctx, const char *s, size_t n, unsigned long lineno)
{
	struct lint_file_ctx *c = ctx;
	struct lint_print lp = {c->file, lineno, NULL};
	unsigned nf = 0;
	if (n == 0 || s[0] == '#')
		return true;
	if (ward_pkg_lint_line(base_name(c->file), s, n, c->lo, lint_print_fn, &lp, &nf) !=
	    WARD_OK) {
		c->oom = true;
		return false;
	}
	c->findings += nf;
	return true;
}

static int pat_lint(int argc, char **argv)
{
	ward_pkg_lint_opts lo;
	ward_pkg_lint_defaults(&lo);
	unsigned long total = 0;
	int nfiles = 0;
	for (int i = 0; i < argc; i++) {
		if (argv[i][0] == '-') {
			if (!lint_option(argc, argv, &i, &lo)) {
				fputs(pattern_usage, stderr);
				return 2;
			}
			continue;
		}
		uint8_t *buf;
		size_t len;
		if (read_all(argv[i], PAT_MAX_FILE, &buf, &len) != 0) {
			fprintf(stderr, "ward pattern lint: %s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		struct lint_file_ctx c = {argv[i], &lo, 0, false};
		each_line(buf, len, lint_one, &c);
		free(buf);
		if (c.oom)
			return 2;
		total += c.findings;
		nfiles++;
	}
	if (nfiles == 0) {
		fputs(pattern_usage, stderr);
		return 2;
	}
	return total ? 1 : 0;
}

/* ======================================================================
 * The release gate.
 * ====================================================================== */

enum { CK_PACKAGE, CK_VERSION, CK_LOAD, CK_LINT, CK_MATRIX, CK_FP, CK_PERF, CK__COUNT };
static const char *const check_names[CK__COUNT] = {
	"package", "version", "load", "lint", "matrix", "false-positives", "performance",
};

enum ck_status { ST_SKIP = 0, ST_PASS, ST_FAIL };

struct check {
	enum ck_status status;
	struct strlist items; /* failures and notes, in order */
	unsigned long nitems; /* including those past PAT_MAX_ITEMS */
	struct strlist notes; /* informational lines (never a refusal) */
};

struct matrix_entry {
	uint32_t engine;
	char os[33], arch[33];
	bool supported; /* else "deployed": unsupported, still in the field */
};

/* A signature line NEW adds (not present in CURRENT's file of that name). */
struct added_line {
	size_t file; /* index into the new package's files */
	unsigned long lineno;
	const char *s; /* points into the package */
	size_t n;
};

struct qa {
	/* options */
	const char *new_path, *base_path, *clean_dir, *perf_dir, *matrix_path, *key_path;
	const char *json_path, *md_path;
	uint64_t max_slowdown_pct, min_slowdown_ms, file_budget_ms, max_mem_pct, reps;
	uint64_t critical_max, critical_time_ms, cpu_limit_s;
	bool system_critical;
	struct strlist critical;
	ward_pkg_lint_opts lint;
	/* state */
	ward_pkg_pubkey *key;
	ward_pkg *newp, *basep;
	char tmp[CLI_MAX_PATH], newdir[CLI_MAX_PATH], basedir[CLI_MAX_PATH];
	bool tmp_made;
	struct added_line *added;
	size_t nadded;
	struct check ck[CK__COUNT];
	struct strlist perf_files;
	struct strlist tmpfiles; /* files we created, removed at the end */
};

static void ck_item(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ck_item(struct check *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	c->nitems++;
	if (c->items.n >= PAT_MAX_ITEMS)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	c->items.cap = PAT_MAX_ITEMS;
	sl_add(&c->items, buf);
}

static void ck_note(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ck_note(struct check *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	c->notes.cap = PAT_MAX_ITEMS;
	sl_add(&c->notes, buf);
}

static void ck_fail(struct check *c) { c->status = ST_FAIL; }
static void ck_pass_unless_failed(struct check *c)
{
	if (c->status != ST_FAIL)
		c->status = ST_PASS;
}

/* ---- package and version ---- */

static bool qa_package(struct qa *q)
{
	struct check *c = &q->ck[CK_PACKAGE];
	char why[256] = "";
	if (!q->key_path) {
		ck_item(c, "no --key given: a release must be verified against the release key");
		ck_fail(c);
		return false;
	}
	ward_err e = ward_pkg_pubkey_read(q->key_path, &q->key, why, sizeof why);
	if (e != WARD_OK) {
		ck_item(c, "--key %s: %s", q->key_path, why);
		ck_fail(c);
		return false;
	}
	e = ward_pkg_verify_file(q->new_path, q->key, &q->newp, why, sizeof why);
	if (e != WARD_OK) {
		ck_item(c, "NEW %s: %s (%s)", q->new_path, why, ward_strerror(e));
		ck_fail(c);
	} else if (ward_pkg_get_meta(q->newp)->kind != WARD_PKG_KIND_FULL) {
		ck_item(c, "NEW %s: a delta package; the gate checks full packages", q->new_path);
		ck_fail(c);
	}
	e = ward_pkg_verify_file(q->base_path, q->key, &q->basep, why, sizeof why);
	if (e != WARD_OK) {
		ck_item(c, "CURRENT %s: %s (%s)", q->base_path, why, ward_strerror(e));
		ck_fail(c);
	} else if (ward_pkg_get_meta(q->basep)->kind != WARD_PKG_KIND_FULL) {
		ck_item(c, "CURRENT %s: a delta package", q->base_path);
		ck_fail(c);
	}
	ck_pass_unless_failed(c);
	return c->status == ST_PASS;
}

static void qa_version(struct qa *q)
{
	struct check *c = &q->ck[CK_VERSION];
	uint64_t nv = ward_pkg_get_meta(q->newp)->version,
		 bv = ward_pkg_get_meta(q->basep)->version;
	if (nv <= bv) {
		ck_item(c, "version %llu does not increase on the current release %llu",
			(unsigned long long)nv, (unsigned long long)bv);
		ck_fail(c);
	}
	ck_note(c, "%llu -> %llu", (unsigned long long)bv, (unsigned long long)nv);
	ck_pass_unless_failed(c);
}

/* ---- load ---- */

struct load_diag {
	struct check *c;
	const char *strip; /* directory prefix removed from file names */
};

static void qa_load_diag(void *ctx, ward_err code, const char *file, unsigned long line,
			 const char *msg)
{
	struct load_diag *d = ctx;
	const char *f = file ? file : "";
	size_t sl = strlen(d->strip);
	if (!strncmp(f, d->strip, sl) && f[sl] == '/')
		f += sl + 1;
	ck_item(d->c, "%s:%lu: %s%s", f, line,
		code == WARD_EUNSUPPORTED ? "unsupported by this engine: " : "", msg);
	ck_fail(d->c);
}

static ward_err load_db(const char *const *dirs, size_t n, ward_diag_fn diag, void *ctx,
			ward_db **out)
{
	ward_load_opts o = {.diag = diag, .diag_ctx = ctx};
	return ward_db_load(dirs, n, &o, out);
}

static void qa_load(struct qa *q)
{
	struct check *c = &q->ck[CK_LOAD];
	struct load_diag d = {c, q->newdir};
	ward_db *db = NULL;
	const char *dirs[1] = {q->newdir};
	ward_err e = load_db(dirs, 1, qa_load_diag, &d, &db);
	if (e != WARD_OK) {
		ck_item(c, "the package does not load: %s", ward_strerror(e));
		ck_fail(c);
	} else {
		if (ward_db_count(db, WARD_COUNT_BAD_LINES) ||
		    ward_db_count(db, WARD_COUNT_BAD_FILES) ||
		    ward_db_count(db, WARD_COUNT_UNSUPPORTED))
			ck_fail(c);
		ck_note(c, "%llu signatures load at engine level %d",
			(unsigned long long)cli_known_sigs(db), WARD_FLEVEL);
	}
	ward_db_free(db);
	ck_pass_unless_failed(c);
}

/* ---- added lines and lint ---- */

struct span {
	const char *s;
	size_t n;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	size_t m = x->n < y->n ? x->n : y->n;
	int c = memcmp(x->s, y->s, m);
	return c ? c : (x->n > y->n) - (x->n < y->n);
}

struct collect_ctx {
	struct span *v;
	size_t n, cap;
};

static bool collect_line(void *ctx, const char *s, size_t n, unsigned long lineno)
{
	struct collect_ctx *c = ctx;
	if (c->n == c->cap) {
		size_t a = c->cap ? c->cap * 2 : 256;
		struct span *v = realloc(c->v, a * sizeof *v);
		if (!v)
			return false;
		c->v = v;
		c->cap = a;
	}
	c->v[c->n++] = (struct span){s, n};
	return true;
}

struct added_ctx {
	struct qa *q;
	size_t file;
	const struct span *base;
	size_t nbase;
	size_t cap;
	bool oom;
};

static bool add_line(void *ctx, const char *s, size_t n, unsigned long lineno)
{
	struct added_ctx *a = ctx;
	struct qa *q = a->q;
	struct span key = {s, n};
	if (n == 0 || s[0] == '#')
		return true;
	if (a->nbase && bsearch(&key, a->base, a->nbase, sizeof key, cmp_span))
		return true;
	if (q->nadded == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct added_line *v = realloc(q->added, cap * sizeof *v);
		if (!v) {
			a->oom = true;
			return false;
		}
		q->added = v;
		a->cap = cap;
	}
	q->added[q->nadded++] = (struct added_line){a->file, lineno, s, n};
	return true;
}

/* Lines of NEW that CURRENT's file of the same name lacks. */
static bool find_added(struct qa *q)
{
	const ward_pkg_meta *nm = ward_pkg_get_meta(q->newp), *bm = ward_pkg_get_meta(q->basep);
	struct added_ctx a = {.q = q};
	for (size_t i = 0; i < nm->nfiles; i++) {
		struct collect_ctx bc = {0};
		for (size_t j = 0; j < bm->nfiles; j++)
			if (!strcmp(bm->files[j].name, nm->files[i].name) &&
			    !each_line(bm->files[j].data, bm->files[j].len, collect_line, &bc)) {
				free(bc.v);
				return false;
			}
		if (bc.n)
			qsort(bc.v, bc.n, sizeof *bc.v, cmp_span);
		a.file = i;
		a.base = bc.v;
		a.nbase = bc.n;
		each_line(nm->files[i].data, nm->files[i].len, add_line, &a);
		free(bc.v);
		if (a.oom)
			return false;
	}
	return true;
}

struct qa_lint_ctx {
	struct check *c;
	const char *file;
	unsigned long line;
};

static void qa_lint_fn(void *ctx, const char *signame, const char *reason)
{
	struct qa_lint_ctx *l = ctx;
	ck_item(l->c, "%s:%lu: %s: %s", l->file, l->line, signame ? signame : "(unnamed)", reason);
}

static void qa_lint(struct qa *q)
{
	struct check *c = &q->ck[CK_LINT];
	const ward_pkg_meta *nm = ward_pkg_get_meta(q->newp);
	unsigned long total = 0;
	for (size_t i = 0; i < q->nadded; i++) {
		const struct added_line *a = &q->added[i];
		struct qa_lint_ctx l = {c, nm->files[a->file].name, a->lineno};
		unsigned nf = 0;
		if (ward_pkg_lint_line(nm->files[a->file].name, a->s, a->n, &q->lint, qa_lint_fn,
				       &l, &nf) != WARD_OK) {
			ck_item(c, "out of memory while linting");
			ck_fail(c);
			return;
		}
		total += nf;
	}
	if (total)
		ck_fail(c);
	ck_note(c, "%zu added signature lines linted (min anchor %u bytes, max %u alternatives)",
		q->nadded, q->lint.min_anchor, q->lint.max_alternatives);
	ck_pass_unless_failed(c);
}

/* ---- matrix ---- */

static bool word_ok(const char *s, size_t n)
{
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* "engine=216 os=linux arch=x86_64 status=supported|deployed" */
static bool parse_matrix_line(char *s, struct matrix_entry *e)
{
	bool have_e = false, have_os = false, have_arch = false, have_st = false;
	char *save = NULL;
	for (char *tok = strtok_r(s, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return false;
		*eq = '\0';
		const char *v = eq + 1;
		uint64_t num;
		if (!strcmp(tok, "engine") && cli_parse_number(v, UINT32_MAX - 1, &num)) {
			e->engine = (uint32_t)num;
			have_e = true;
		} else if (!strcmp(tok, "os") && word_ok(v, strlen(v))) {
			snprintf(e->os, sizeof e->os, "%s", v);
			have_os = true;
		} else if (!strcmp(tok, "arch") && word_ok(v, strlen(v))) {
			snprintf(e->arch, sizeof e->arch, "%s", v);
			have_arch = true;
		} else if (!strcmp(tok, "status") &&
			   (!strcmp(v, "supported") || !strcmp(v, "deployed"))) {
			e->supported = !strcmp(v, "supported");
			have_st = true;
		} else
			return false;
	}
	return have_e && have_os && have_arch && have_st;
}

struct flevel_ctx {
	struct check *c;
	const struct matrix_entry *m;
	const char *file;
	unsigned long bad;
};

static bool flevel_line(void *ctx, const char *s, size_t n, unsigned long lineno)
{
	struct flevel_ctx *f = ctx;
	uint32_t lo, hi;
	char name[128];
	if (!ward_pkg_line_flevel(f->file, s, n, &lo, &hi, name, sizeof name))
		return true;
	if (f->m->engine < lo || f->m->engine > hi) {
		f->bad++;
		char range[64];
		if (hi == UINT32_MAX)
			snprintf(range, sizeof range, "%u-", lo);
		else
			snprintf(range, sizeof range, "%u-%u", lo, hi);
		strbuf nb = {0};
		sb_add_text(&nb, name);
		ck_item(f->c,
			"%s:%lu: %s is inactive at engine %u (its level range is %s) on %s/%s (%s), "
			"which the package claims to serve",
			f->file, lineno, nb.s ? nb.s : "", f->m->engine, range, f->m->os,
			f->m->arch, f->m->supported ? "supported" : "deployed");
		sb_free(&nb);
	}
	return true;
}

static void qa_matrix(struct qa *q)
{
	struct check *c = &q->ck[CK_MATRIX];
	uint8_t *buf = NULL;
	size_t len = 0;
	size_t nentries = 0, served = 0;
	const ward_pkg_meta *nm = ward_pkg_get_meta(q->newp);
	if (read_all(q->matrix_path, PAT_MAX_TEXT, &buf, &len) != 0) {
		ck_item(c, "--matrix %s: %s", q->matrix_path, strerror(errno));
		ck_fail(c);
		return;
	}
	char *text = (char *)buf;
	size_t pos = 0;
	unsigned long lineno = 0;
	while (pos < len) {
		char *s = text + pos;
		char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		char line[512];
		pos += n + (nl ? 1 : 0);
		lineno++;
		if (n >= sizeof line) {
			ck_item(c, "matrix line %lu: too long", lineno);
			ck_fail(c);
			continue;
		}
		memcpy(line, s, n);
		line[n] = '\0';
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		if (strspn(line, " \t\r") == strlen(line))
			continue;
		struct matrix_entry m = {0};
		if (!parse_matrix_line(line, &m) || ++nentries > PAT_MAX_MATRIX) {
			ck_item(c,
				"matrix line %lu: want engine=N os=OS arch=ARCH "
				"status=supported|deployed",
				lineno);
			ck_fail(c);
			continue;
		}
		if (!ward_pkg_serves(q->newp, m.engine, m.os, m.arch)) {
			ck_note(c,
				"engine %u %s/%s (%s): excluded by the package metadata; those "
				"clients skip this package",
				m.engine, m.os, m.arch, m.supported ? "supported" : "deployed");
			continue;
		}
		served++;
		if (m.engine > WARD_FLEVEL)
			ck_note(c,
				"engine %u %s/%s: above this ward's level %d; checked by signature "
				"level ranges only",
				m.engine, m.os, m.arch, WARD_FLEVEL);
		for (size_t i = 0; i < nm->nfiles; i++) {
			struct flevel_ctx f = {c, &m, nm->files[i].name, 0};
			each_line(nm->files[i].data, nm->files[i].len, flevel_line, &f);
			if (f.bad)
				ck_fail(c);
		}
	}
	free(buf);
	if (nentries == 0) {
		ck_item(c, "the matrix lists no configuration");
		ck_fail(c);
	}
	ck_note(c, "%zu of %zu configurations served", served, nentries);
	ck_pass_unless_failed(c);
}

/* ---- false positives ---- */

static bool scan_for_fp(struct qa *q, ward_scanner *s, const char *path, const char *tier)
{
	struct check *c = &q->ck[CK_FP];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	const ward_report *r = NULL;
	if (fd < 0) {
		ck_note(c, "%s: %s (not scanned)", path, strerror(errno));
		return true;
	}
	ward_err e = ward_scanner_scan_fd(s, fd, path, &r);
	close(fd);
	if (e != WARD_OK) {
		ck_note(c, "%s: %s (not scanned)", path, ward_strerror(e));
		return e != WARD_ENOMEM;
	}
	for (size_t i = 0; i < r->ndetections; i++) {
		strbuf b = {0};
		sb_add_text(&b, r->detections[i].name);
		if (r->detections[i].inner_path) {
			sb_adds(&b, " in member ");
			sb_add_text(&b, r->detections[i].inner_path);
		}
		ck_item(c, "%s file %s: detected as %s", tier, path, b.s ? b.s : "");
		sb_free(&b);
		ck_fail(c);
	}
	return true;
}

/* The critical tier: ward itself (the binary contains libward), libward.so
 * next to it when built, --critical paths, and a deterministic sample of the
 * operating system's core programs and libraries. */
static void critical_files(struct qa *q, struct strlist *out)
{
	char self[CLI_MAX_PATH];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		sl_add(out, self);
		char *slash = strrchr(self, '/');
		if (slash) {
			DIR *d;
			*slash = '\0';
			if ((d = opendir(self)) != NULL) {
				struct strlist libs = {.cap = 16};
				struct dirent *de;
				while ((de = readdir(d)) != NULL)
					if (!strncmp(de->d_name, "libward.so", 10) ||
					    !strcmp(de->d_name, "libward.a"))
						sl_add(&libs, de->d_name);
				closedir(d);
				sl_sort(&libs);
				for (size_t i = 0; i < libs.n; i++) {
					char p[CLI_MAX_PATH];
					struct stat st;
					if (join(p, sizeof p, self, "/", libs.v[i]) &&
					    stat(p, &st) == 0 && S_ISREG(st.st_mode))
						sl_add(out, p);
				}
				sl_free(&libs);
			}
		}
	}
	for (size_t i = 0; i < q->critical.n; i++) {
		struct stat st;
		if (stat(q->critical.v[i], &st) == 0 && S_ISDIR(st.st_mode))
			walk_files(q->critical.v[i], PAT_MAX_CORPUS_DEPTH, out);
		else
			sl_add(out, q->critical.v[i]);
	}
	if (!q->system_critical)
		return;
	struct strlist sys = {.cap = PAT_MAX_CORPUS_FILES};
	walk_files("/bin", 0, &sys);
	walk_files("/sbin", 0, &sys);
	struct strlist libdir = {.cap = PAT_MAX_CORPUS_FILES};
	walk_files("/usr/lib/x86_64-linux-gnu", 0, &libdir);
	for (size_t i = 0; i < libdir.n; i++) {
		const char *b = base_name(libdir.v[i]);
		if (!strncmp(b, "lib", 3) && strstr(b, ".so"))
			sl_add(&sys, libdir.v[i]);
	}
	sl_free(&libdir);
	sl_sort(&sys);
	/* Every k-th of the sorted list: the same sample on every run of the
	 * same system, spread over all of it. */
	size_t k = q->critical_max ? (sys.n + q->critical_max - 1) / q->critical_max : 0;
	for (size_t i = 0; k && i < sys.n; i += k)
		sl_add(out, sys.v[i]);
	sl_free(&sys);
}

static void qa_fp(struct qa *q)
{
	struct check *c = &q->ck[CK_FP];
	ward_db *db = NULL;
	ward_scanner *s = NULL;
	struct strlist clean = {.cap = PAT_MAX_CORPUS_FILES};
	struct strlist crit = {.cap = PAT_MAX_CORPUS_FILES};
	const char *dirs[1] = {q->newdir};
	if (load_db(dirs, 1, NULL, NULL, &db) != WARD_OK) {
		ck_item(c, "the package does not load (see load)");
		ck_fail(c);
		return;
	}
	ward_limits lim;
	ward_limits_default(&lim);
	if (ward_scanner_new(db, &lim, WARD_SCAN_ALLMATCH, &s) != WARD_OK) {
		ck_item(c, "cannot create a scanner");
		ck_fail(c);
		goto out;
	}
	if (!walk_files(q->clean_dir, PAT_MAX_CORPUS_DEPTH, &clean)) {
		ck_item(c, "--clean-corpus %s: cannot list (or more than %u files)", q->clean_dir,
			PAT_MAX_CORPUS_FILES);
		ck_fail(c);
	}
	for (size_t i = 0; i < clean.n; i++)
		if (!scan_for_fp(q, s, clean.v[i], "clean"))
			break;
	critical_files(q, &crit);
	/* The critical tier is bounded in count (the sample) and in time: a
	 * gate that takes an hour on a slow builder would be skipped by people.
	 * Ward's own files come first in the list, so they are always scanned. */
	uint64_t t0 = cli_now_ms();
	size_t done = 0;
	for (; done < crit.n; done++) {
		if (done > 0 && cli_now_ms() - t0 > q->critical_time_ms) {
			ck_note(c,
				"critical tier: time budget of %llu ms spent; %zu files not scanned",
				(unsigned long long)q->critical_time_ms, crit.n - done);
			break;
		}
		if (!scan_for_fp(q, s, crit.v[done], "critical"))
			break;
	}
	ck_note(c, "%zu clean-corpus files and %zu critical files scanned", clean.n, done);
out:
	sl_free(&clean);
	sl_free(&crit);
	ward_scanner_free(s);
	ward_db_free(db);
	ck_pass_unless_failed(c);
}

/* ---- performance ---- */

struct measure {
	bool ok;
	char why[128];
	uint64_t median_ns;   /* median over reps of the corpus CPU time */
	uint64_t max_file_ns; /* largest per-file median */
	size_t max_file;      /* its index */
	uint64_t maxrss_kib;
	uint64_t *file_ns; /* per-file medians (owned), perf_files.n entries */
};

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static uint64_t median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_u64);
	return n ? v[n / 2] : 0;
}

/* The child: load, scan the corpus reps times, send
 * [reps x total ns][nfiles x per-file median ns] through fd. Its own process
 * so that peak memory is its own and a runaway signature only kills it. */
static void measure_child(struct qa *q, const char *const *dirs, size_t ndirs, int fd)
{
	ward_db *db = NULL;
	ward_scanner *s = NULL;
	size_t nf = q->perf_files.n, reps = (size_t)q->reps;
	struct rlimit rl = {(rlim_t)q->cpu_limit_s, (rlim_t)q->cpu_limit_s + 1};
	setrlimit(RLIMIT_CPU, &rl);
	if (load_db(dirs, ndirs, NULL, NULL, &db) != WARD_OK ||
	    ward_scanner_new(db, NULL, 0, &s) != WARD_OK)
		_exit(3);
	uint64_t *tot = calloc(reps, sizeof *tot);
	uint64_t *per = calloc(nf * reps + 1, sizeof *per);
	uint64_t *med = calloc(nf + 1, sizeof *med);
	if (!tot || !per || !med)
		_exit(4);
	for (size_t r = 0; r < reps; r++) {
		for (size_t i = 0; i < nf; i++) {
			int f = open(q->perf_files.v[i], O_RDONLY | O_CLOEXEC);
			const ward_report *rep;
			if (f < 0)
				continue;
			uint64_t t0 = cpu_ns();
			ward_err e = ward_scanner_scan_fd(s, f, NULL, &rep);
			uint64_t dt = cpu_ns() - t0;
			close(f);
			(void)e;
			per[i * reps + r] = dt;
			tot[r] += dt;
		}
	}
	for (size_t i = 0; i < nf; i++)
		med[i] = median(per + i * reps, reps);
	bool ok = cli_write_all(fd, tot, reps * sizeof *tot) &&
		  cli_write_all(fd, med, nf * sizeof *med);
	_exit(ok ? 0 : 5);
}

static bool read_exact(int fd, void *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

static void measure(struct qa *q, const char *const *dirs, size_t ndirs, struct measure *m)
{
	int p[2];
	size_t nf = q->perf_files.n, reps = (size_t)q->reps;
	memset(m, 0, sizeof *m);
	m->file_ns = calloc(nf + 1, sizeof *m->file_ns);
	uint64_t *tot = calloc(reps, sizeof *tot);
	if (!m->file_ns || !tot || pipe(p) != 0) {
		snprintf(m->why, sizeof m->why, "out of resources");
		free(tot);
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		measure_child(q, dirs, ndirs, p[1]);
	}
	close(p[1]);
	if (pid < 0) {
		snprintf(m->why, sizeof m->why, "fork: %s", strerror(errno));
		close(p[0]);
		free(tot);
		return;
	}
	bool got = read_exact(p[0], tot, reps * sizeof *tot) &&
		   read_exact(p[0], m->file_ns, nf * sizeof *m->file_ns);
	close(p[0]);
	int status = 0;
	struct rusage ru;
	memset(&ru, 0, sizeof ru);
	while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFSIGNALED(status))
			snprintf(m->why, sizeof m->why, "measurement killed by signal %d%s",
				 WTERMSIG(status),
				 WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGKILL
					 ? " (CPU limit: a signature runs away)"
					 : "");
		else
			snprintf(m->why, sizeof m->why, "measurement failed (status %d)",
				 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		free(tot);
		return;
	}
	m->median_ns = median(tot, reps);
	for (size_t i = 0; i < nf; i++)
		if (m->file_ns[i] > m->max_file_ns) {
			m->max_file_ns = m->file_ns[i];
			m->max_file = i;
		}
	m->maxrss_kib = (uint64_t)ru.ru_maxrss;
	m->ok = true;
	free(tot);
}

static uint64_t allowed_ns(const struct qa *q, uint64_t base_ns)
{
	uint64_t share = base_ns / 100 * q->max_slowdown_pct;
	uint64_t floor = q->min_slowdown_ms * 1000000ull;
	return share > floor ? share : floor;
}

/* Write CURRENT's files plus the chosen added lines into dir (fresh). */
static bool write_subset(struct qa *q, const char *dir, size_t lo, size_t hi)
{
	const ward_pkg_meta *nm = ward_pkg_get_meta(q->newp);
	/* Registered before its files: cleanup walks the list backwards. */
	if (mkdir(dir, 0700) != 0 || !sl_add(&q->tmpfiles, dir))
		return false;
	for (size_t f = 0; f < nm->nfiles; f++) {
		bool any = false;
		for (size_t i = lo; i < hi; i++)
			any = any || q->added[i].file == f;
		if (!any)
			continue;
		char path[CLI_MAX_PATH];
		/* "zz-" keeps the name distinct from CURRENT's file; the
		 * extension (which selects the format) is unchanged. */
		if (!join(path, sizeof path, dir, "/zz-", nm->files[f].name))
			return false;
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || !sl_add(&q->tmpfiles, path)) {
			if (fd >= 0)
				close(fd);
			return false;
		}
		bool ok = true;
		for (size_t i = lo; ok && i < hi; i++)
			if (q->added[i].file == f)
				ok = cli_write_all(fd, q->added[i].s, q->added[i].n) &&
				     cli_write_all(fd, "\n", 1);
		if (close(fd) != 0)
			ok = false;
		if (!ok)
			return false;
	}
	return true;
}

struct bisect {
	struct qa *q;
	uint64_t base_ns;
	unsigned budget; /* measurements left */
	unsigned seq;
};

static void blame(struct qa *q, size_t lo, size_t hi, uint64_t extra_ns)
{
	const ward_pkg_meta *nm = ward_pkg_get_meta(q->newp);
	struct check *c = &q->ck[CK_PERF];
	if (hi - lo == 1) {
		const struct added_line *a = &q->added[lo];
		uint32_t mn, mx;
		char name[128] = "";
		ward_pkg_line_flevel(nm->files[a->file].name, a->s, a->n, &mn, &mx, name,
				     sizeof name);
		strbuf b = {0};
		sb_add_text(&b, name);
		ck_item(c, "responsible: %s:%lu: %s (+%.1f ms CPU over the corpus)",
			nm->files[a->file].name, a->lineno, b.s ? b.s : "", (double)extra_ns / 1e6);
		sb_free(&b);
	} else
		ck_item(c,
			"responsible: a group of %zu added lines (from %s:%lu), +%.1f ms CPU; "
			"bisection budget exhausted",
			hi - lo, nm->files[q->added[lo].file].name, q->added[lo].lineno,
			(double)extra_ns / 1e6);
}

/* Measure CURRENT + added[lo, hi); recurse into halves that stay slow. */
static void bisect_range(struct bisect *b, size_t lo, size_t hi, uint64_t known_extra)
{
	struct qa *q = b->q;
	if (hi - lo == 1 || b->budget < 2) {
		blame(q, lo, hi, known_extra);
		return;
	}
	size_t mid = lo + (hi - lo) / 2;
	size_t r[2][2] = {{lo, mid}, {mid, hi}};
	bool any = false;
	for (int h = 0; h < 2; h++) {
		char dir[CLI_MAX_PATH];
		struct measure m;
		char seq[16];
		snprintf(seq, sizeof seq, "%u", b->seq++);
		b->budget--;
		if (!join(dir, sizeof dir, q->tmp, "/bisect", seq) ||
		    !write_subset(q, dir, r[h][0], r[h][1]))
			continue;
		const char *dirs[2] = {q->basedir, dir};
		measure(q, dirs, 2, &m);
		uint64_t extra = m.ok && m.median_ns > b->base_ns ? m.median_ns - b->base_ns : 0;
		bool slow = !m.ok || extra > allowed_ns(q, b->base_ns);
		free(m.file_ns);
		if (slow) {
			any = true;
			bisect_range(b, r[h][0], r[h][1], m.ok ? extra : known_extra);
		}
	}
	if (!any) /* only slow together (or noise): name the group */
		blame(q, lo, hi, known_extra);
}

static void qa_perf(struct qa *q)
{
	struct check *c = &q->ck[CK_PERF];
	struct measure mb, mn;
	memset(&mb, 0, sizeof mb);
	memset(&mn, 0, sizeof mn);
	q->perf_files.cap = PAT_MAX_CORPUS_FILES;
	if (!walk_files(q->perf_dir, PAT_MAX_CORPUS_DEPTH, &q->perf_files)) {
		ck_item(c, "--perf-corpus %s: cannot list (or more than %u files)", q->perf_dir,
			PAT_MAX_CORPUS_FILES);
		ck_fail(c);
		return;
	}
	const char *bd[1] = {q->basedir}, *nd[1] = {q->newdir};
	measure(q, bd, 1, &mb);
	measure(q, nd, 1, &mn);
	if (!mb.ok || !mn.ok) {
		ck_item(c, "%s: %s", !mn.ok ? "NEW" : "CURRENT", !mn.ok ? mn.why : mb.why);
		ck_fail(c);
		goto out;
	}
	bool slow = false;
	uint64_t extra = mn.median_ns > mb.median_ns ? mn.median_ns - mb.median_ns : 0;
	ck_note(c,
		"corpus: %zu files, %llu repetitions; CPU median %.1f ms -> %.1f ms; "
		"peak RSS %llu KiB -> %llu KiB",
		q->perf_files.n, (unsigned long long)q->reps, (double)mb.median_ns / 1e6,
		(double)mn.median_ns / 1e6, (unsigned long long)mb.maxrss_kib,
		(unsigned long long)mn.maxrss_kib);
	if (extra > allowed_ns(q, mb.median_ns)) {
		ck_item(c, "CPU time grows from %.1f ms to %.1f ms (+%.0f%%; at most %llu%%)",
			(double)mb.median_ns / 1e6, (double)mn.median_ns / 1e6,
			mb.median_ns ? 100.0 * (double)extra / (double)mb.median_ns : 100.0,
			(unsigned long long)q->max_slowdown_pct);
		slow = true;
	}
	for (size_t i = 0; i < q->perf_files.n; i++)
		if (mn.file_ns[i] > q->file_budget_ms * 1000000ull) {
			ck_item(c, "%s: %.1f ms CPU per scan (budget %llu ms)", q->perf_files.v[i],
				(double)mn.file_ns[i] / 1e6, (unsigned long long)q->file_budget_ms);
			slow = true;
		}
	/* Peak RSS: a share of CURRENT's, with a 8 MiB floor so the noise of a
	 * small process does not refuse a release. */
	uint64_t mem_allowed = mb.maxrss_kib / 100 * q->max_mem_pct;
	if (mem_allowed < 8192)
		mem_allowed = 8192;
	if (mn.maxrss_kib > mb.maxrss_kib && mn.maxrss_kib - mb.maxrss_kib > mem_allowed) {
		ck_item(c, "peak memory grows from %llu KiB to %llu KiB (at most +%llu%%)",
			(unsigned long long)mb.maxrss_kib, (unsigned long long)mn.maxrss_kib,
			(unsigned long long)q->max_mem_pct);
		ck_fail(c);
	}
	if (slow) {
		ck_fail(c);
		if (q->nadded == 0)
			ck_item(c, "no added signature lines to blame (removals only)");
		else {
			struct bisect b = {q, mb.median_ns, PAT_MAX_BISECT, 0};
			bisect_range(&b, 0, q->nadded, extra);
		}
	}
out:
	free(mb.file_ns);
	free(mn.file_ns);
	ck_pass_unless_failed(c);
}

/* ---- report ---- */

static const char *status_name(enum ck_status s)
{
	return s == ST_PASS ? "pass" : s == ST_FAIL ? "FAIL" : "skipped";
}

static void report_md(const struct qa *q, bool refused, strbuf *b)
{
	const ward_pkg_meta *nm = q->newp ? ward_pkg_get_meta(q->newp) : NULL;
	sb_adds(b, "# Pattern release gate: ");
	sb_adds(b, refused ? "REFUSED\n\n" : "ACCEPTED\n\n");
	sb_adds(b, "- package: ");
	sb_add_text(b, q->new_path);
	if (nm)
		sb_addf(b, " (version %llu)", (unsigned long long)nm->version);
	sb_adds(b, "\n- baseline: ");
	sb_add_text(b, q->base_path);
	sb_adds(b, "\n\n| check | result |\n|---|---|\n");
	for (int i = 0; i < CK__COUNT; i++)
		sb_addf(b, "| %s | %s |\n", check_names[i], status_name(q->ck[i].status));
	for (int i = 0; i < CK__COUNT; i++) {
		const struct check *c = &q->ck[i];
		if (!c->items.n && !c->notes.n)
			continue;
		sb_addf(b, "\n## %s: %s\n\n", check_names[i], status_name(c->status));
		for (size_t k = 0; k < c->items.n; k++) {
			sb_adds(b, "- ");
			sb_add_text(b, c->items.v[k]);
			sb_adds(b, "\n");
		}
		if (c->nitems > c->items.n)
			sb_addf(b, "- ... and %lu more\n", c->nitems - (unsigned long)c->items.n);
		for (size_t k = 0; k < c->notes.n; k++) {
			sb_adds(b, "- note: ");
			sb_add_text(b, c->notes.v[k]);
			sb_adds(b, "\n");
		}
	}
}

static void report_json(const struct qa *q, bool refused, strbuf *b)
{
	const ward_pkg_meta *nm = q->newp ? ward_pkg_get_meta(q->newp) : NULL;
	const ward_pkg_meta *bm = q->basep ? ward_pkg_get_meta(q->basep) : NULL;
	sb_addf(b, "{\"verdict\":\"%s\",\"package\":", refused ? "refused" : "accepted");
	sb_add_json(b, q->new_path);
	sb_adds(b, ",\"baseline\":");
	sb_add_json(b, q->base_path);
	if (nm)
		sb_addf(b, ",\"version\":%llu", (unsigned long long)nm->version);
	if (bm)
		sb_addf(b, ",\"baseline_version\":%llu", (unsigned long long)bm->version);
	sb_adds(b, ",\"checks\":[");
	for (int i = 0; i < CK__COUNT; i++) {
		const struct check *c = &q->ck[i];
		sb_addf(b, "%s{\"name\":\"%s\",\"status\":\"%s\",\"problems\":[", i ? "," : "",
			check_names[i],
			c->status == ST_PASS   ? "pass"
			: c->status == ST_FAIL ? "fail"
					       : "skipped");
		for (size_t k = 0; k < c->items.n; k++) {
			if (k)
				sb_adds(b, ",");
			sb_add_json(b, c->items.v[k]);
		}
		sb_addf(b, "],\"problem_count\":%lu,\"notes\":[", c->nitems);
		for (size_t k = 0; k < c->notes.n; k++) {
			if (k)
				sb_adds(b, ",");
			sb_add_json(b, c->notes.v[k]);
		}
		sb_adds(b, "]}");
	}
	sb_adds(b, "]}\n");
}

static void qa_cleanup(struct qa *q)
{
	/* Remove exactly what we created, backwards: files before their
	 * directory (a directory was registered before its files). */
	for (size_t i = q->tmpfiles.n; i-- > 0;)
		if (unlink(q->tmpfiles.v[i]) != 0)
			rmdir(q->tmpfiles.v[i]);
	const ward_pkg_meta *m;
	const char *dirs[2] = {q->newdir, q->basedir};
	ward_pkg *pk[2] = {q->newp, q->basep};
	for (int d = 0; d < 2; d++) {
		if (!pk[d] || !dirs[d][0])
			continue;
		m = ward_pkg_get_meta(pk[d]);
		for (size_t i = 0; i < m->nfiles; i++) {
			char p[CLI_MAX_PATH];
			if (join(p, sizeof p, dirs[d], "/", m->files[i].name))
				unlink(p);
		}
		rmdir(dirs[d]);
	}
	if (q->tmp_made)
		rmdir(q->tmp);
}

static bool qa_options(int argc, char **argv, struct qa *q)
{
	q->max_slowdown_pct = 20;
	q->min_slowdown_ms = 50;
	q->file_budget_ms = 1000;
	q->max_mem_pct = 50;
	q->reps = 5;
	q->critical_max = 300;
	q->critical_time_ms = 120000;
	q->cpu_limit_s = 300;
	q->system_critical = true;
	q->critical.cap = PAT_MAX_INPUTS;
	q->tmpfiles.cap = (size_t)4 * PAT_MAX_BISECT * PAT_MAX_INPUTS;
	ward_pkg_lint_defaults(&q->lint);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t *num = NULL, max = 0;
		const char **str = NULL;
		if (!strcmp(a, "--baseline"))
			str = &q->base_path;
		else if (!strcmp(a, "--clean-corpus"))
			str = &q->clean_dir;
		else if (!strcmp(a, "--perf-corpus"))
			str = &q->perf_dir;
		else if (!strcmp(a, "--matrix"))
			str = &q->matrix_path;
		else if (!strcmp(a, "--key"))
			str = &q->key_path;
		else if (!strcmp(a, "--report-json"))
			str = &q->json_path;
		else if (!strcmp(a, "--report-md"))
			str = &q->md_path;
		else if (!strcmp(a, "--max-slowdown"))
			num = &q->max_slowdown_pct, max = 100000;
		else if (!strcmp(a, "--min-slowdown-ms"))
			num = &q->min_slowdown_ms, max = 3600000;
		else if (!strcmp(a, "--file-budget-ms"))
			num = &q->file_budget_ms, max = 3600000;
		else if (!strcmp(a, "--max-mem-growth"))
			num = &q->max_mem_pct, max = 100000;
		else if (!strcmp(a, "--reps"))
			num = &q->reps, max = PAT_MAX_REPS;
		else if (!strcmp(a, "--critical-max"))
			num = &q->critical_max, max = PAT_MAX_CORPUS_FILES;
		else if (!strcmp(a, "--critical-time-ms"))
			num = &q->critical_time_ms, max = 86400000;
		else if (!strcmp(a, "--perf-cpu-limit"))
			num = &q->cpu_limit_s, max = 86400;
		else if (!strcmp(a, "--no-system-critical")) {
			q->system_critical = false;
			continue;
		} else if (!strcmp(a, "--critical") && v) {
			if (!sl_add(&q->critical, v))
				return false;
			i++;
			continue;
		} else if (lint_option(argc, argv, &i, &q->lint))
			continue;
		else if (a[0] != '-' && !q->new_path) {
			q->new_path = a;
			continue;
		} else {
			fprintf(stderr, "ward pattern qa: unknown or incomplete option %s\n", a);
			return false;
		}
		if (!v) {
			fprintf(stderr, "ward pattern qa: %s needs a value\n", a);
			return false;
		}
		if (str)
			*str = v;
		else if (!cli_parse_number(v, max, num) || (num == &q->reps && *num == 0) ||
			 (num == &q->cpu_limit_s && *num == 0)) {
			fprintf(stderr, "ward pattern qa: bad value for %s\n", a);
			return false;
		}
		i++;
	}
	if (!q->new_path || !q->base_path || !q->clean_dir || !q->perf_dir || !q->matrix_path) {
		fprintf(stderr,
			"ward pattern qa: NEW, --baseline, --clean-corpus, --perf-corpus and "
			"--matrix are required\n");
		return false;
	}
	return true;
}

static int pat_qa(int argc, char **argv)
{
	struct qa q;
	int rc = 2;
	memset(&q, 0, sizeof q);
	if (!qa_options(argc, argv, &q)) {
		fputs(pattern_usage, stderr);
		goto out;
	}
	if (qa_package(&q)) {
		const char *t = getenv("TMPDIR");
		snprintf(q.tmp, sizeof q.tmp, "%s/ward-qa-XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(q.tmp)) {
			fprintf(stderr, "ward pattern qa: mkdtemp: %s\n", strerror(errno));
			goto out;
		}
		q.tmp_made = true;
		if (!join(q.newdir, sizeof q.newdir, q.tmp, "/", "new") ||
		    !join(q.basedir, sizeof q.basedir, q.tmp, "/", "current") ||
		    extract_to(q.newp, q.newdir) != 0 || extract_to(q.basep, q.basedir) != 0) {
			fprintf(stderr, "ward pattern qa: extracting into %s: %s\n", q.tmp,
				strerror(errno));
			goto out;
		}
		if (!find_added(&q)) {
			fprintf(stderr, "ward pattern qa: out of memory\n");
			goto out;
		}
		qa_version(&q);
		qa_load(&q);
		qa_lint(&q);
		qa_matrix(&q);
		qa_fp(&q);
		qa_perf(&q);
	}
	bool refused = false;
	for (int i = 0; i < CK__COUNT; i++)
		refused = refused || q.ck[i].status != ST_PASS;
	strbuf md = {0}, js = {0};
	report_md(&q, refused, &md);
	report_json(&q, refused, &js);
	rc = refused ? 1 : 0;
	if (md.failed || js.failed) {
		fprintf(stderr, "ward pattern qa: report too large\n");
		rc = 2;
	} else {
		if (q.md_path ? write_file(q.md_path, md.s, md.len, 0644) != 0
			      : !cli_write_all(1, md.s, md.len)) {
			fprintf(stderr, "ward pattern qa: %s: %s\n",
				q.md_path ? q.md_path : "stdout", strerror(errno));
			rc = 2;
		}
		if (q.json_path && write_file(q.json_path, js.s, js.len, 0644) != 0) {
			fprintf(stderr, "ward pattern qa: %s: %s\n", q.json_path, strerror(errno));
			rc = 2;
		}
	}
	if (q.md_path || q.json_path)
		fprintf(stderr, "ward pattern qa: %s\n", refused ? "REFUSED" : "ACCEPTED");
	sb_free(&md);
	sb_free(&js);
out:
	qa_cleanup(&q);
	for (int i = 0; i < CK__COUNT; i++) {
		sl_free(&q.ck[i].items);
		sl_free(&q.ck[i].notes);
	}
	sl_free(&q.critical);
	sl_free(&q.perf_files);
	sl_free(&q.tmpfiles);
	free(q.added);
	ward_pkg_free(q.newp);
	ward_pkg_free(q.basep);
	ward_pkg_pubkey_free(q.key);
	return rc;
}

/* ---- dispatch ---- */

int cmd_pattern(int argc, char **argv)
{
	if (argc < 1) {
		fputs(pattern_usage, stderr);
		return 2;
	}
	const char *sub = argv[0];
	if (!strcmp(sub, "keygen"))
		return pat_keygen(argc - 1, argv + 1);
	if (!strcmp(sub, "build"))
		return pat_build(argc - 1, argv + 1);
	if (!strcmp(sub, "verify"))
		return pat_verify(argc - 1, argv + 1);
	if (!strcmp(sub, "info"))
		return pat_info(argc - 1, argv + 1);
	if (!strcmp(sub, "extract"))
		return pat_extract(argc - 1, argv + 1);
	if (!strcmp(sub, "delta"))
		return pat_delta(argc - 1, argv + 1, false);
	if (!strcmp(sub, "apply-delta"))
		return pat_delta(argc - 1, argv + 1, true);
	if (!strcmp(sub, "lint"))
		return pat_lint(argc - 1, argv + 1);
	if (!strcmp(sub, "qa"))
		return pat_qa(argc - 1, argv + 1);
	if (!strcmp(sub, "help") || !strcmp(sub, "--help")) {
		fputs(pattern_usage, stdout);
		return 0;
	}
	fprintf(stderr, "ward pattern: unknown command '%s'\n", sub);
	fputs(pattern_usage, stderr);
	return 2;
}
