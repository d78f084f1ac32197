/*
 * `ward scan`: clamscan's command line and output on top of libward.
 *
 * Shape: the main thread parses options, loads the one shared ward_db and
 * walks the paths; it feeds a bounded queue that a pool of worker threads
 * drains, each worker with its own ward_scanner. Every result (a file's lines)
 * is written with one write(2) under the output mutex, so lines of different
 * files never interleave. Output strings mirror clamscan 1.4.6 (checked
 * against it: see tests/cli/test_scan.sh).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define DEFAULT_DB_DIR "/var/lib/clamav"

struct scan_opts {
	const char **dbs;
	size_t ndbs;
	char **paths;
	size_t npaths;
	bool recursive, allmatch, json, infected_only, no_summary, alert_exceeds, quiet;
	unsigned threads;
	unsigned max_dir_recursion;
	ward_limits limits;
};

struct job {
	char *path;    /* owned */
	bool cmdline;  /* named on the command line: symlinks are followed */
	bool is_stdin;
};

/* Bounded queue between the walker and the workers. */
struct queue {
	struct job items[CLI_QUEUE_DEPTH];
	size_t head, len;
	bool closed;
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
};

/* Data is counted as clamscan counts it: whole 4 KiB blocks per file,
 * rounded down (so a directory of tiny files reports "0.00 MB", as there). */
#define COUNT_BLOCK 4096u

/* errors: files or directories that could not be scanned ("Total errors");
 * arg_errors: command-line paths that do not exist or are not files or
 * directories. clamscan leaves the latter out of "Total errors" but still
 * exits 2 for them; so do we. */
struct stats {
	uint64_t dirs, files, infected, errors, arg_errors, blocks_scanned, blocks_read;
};

struct app {
	struct scan_opts o;
	const ward_db *db;
	struct queue q;
	/* out_mu guards stdout/stderr writes, stats and the progress state. */
	pthread_mutex_t out_mu;
	pthread_cond_t progress_cv;
	struct stats st;
	bool progress_shown, finished;
	uint64_t start_ms;
};

struct worker {
	struct app *app;
	ward_scanner *scanner;
	pthread_t tid;
	strbuf out, err;
};

/* ---- output ---- */

/* Caller holds out_mu. */
static void clear_progress(struct app *a)
{
	if (a->progress_shown) {
		(void)cli_write_all(2, "\r\033[K", 4);
		a->progress_shown = false;
	}
}

/* Write out (stdout) and err (stderr) whole, under the mutex, and add the
 * deltas to the counters. A buffer that hit its ceiling is replaced by a
 * short note instead of being written half. */
static void emit(struct app *a, strbuf *out, strbuf *err, const struct stats *d)
{
	pthread_mutex_lock(&a->out_mu);
	clear_progress(a);
	if (err && err->len) {
		if (err->failed)
			(void)cli_write_all(2, "LibWard: message too long, dropped\n", 35);
		else
			(void)cli_write_all(2, err->s, err->len);
	}
	if (out && out->len) {
		if (out->failed)
			(void)cli_write_all(2, "LibWard: result line too long, dropped\n", 39);
		else
			(void)cli_write_all(1, out->s, out->len);
	}
	if (d) {
		a->st.dirs += d->dirs;
		a->st.files += d->files;
		a->st.infected += d->infected;
		a->st.errors += d->errors;
		a->st.arg_errors += d->arg_errors;
		a->st.blocks_scanned += d->blocks_scanned;
		a->st.blocks_read += d->blocks_read;
	}
	pthread_mutex_unlock(&a->out_mu);
	if (out)
		sb_reset(out);
	if (err)
		sb_reset(err);
}

static bool text_out(const struct app *a) { return !a->o.quiet && !a->o.json; }
/* OK, Empty file, Symbolic link, Access denied ... : not under -i. */
static bool text_status(const struct app *a) { return text_out(a) && !a->o.infected_only; }
static bool json_out(const struct app *a) { return a->o.json && !a->o.quiet; }
/* -i applies to --json too: clean and skipped objects are left out. */
static bool json_status(const struct app *a) { return json_out(a) && !a->o.infected_only; }

/* A JSON line for a file that was not scanned. verdict: "error" or "skipped". */
static void json_simple(strbuf *b, const char *path, const char *verdict, const char *why)
{
	sb_adds(b, "{\"path\":");
	sb_add_json(b, path);
	sb_adds(b, ",\"inner_paths\":[],\"verdict\":\"");
	sb_adds(b, verdict);
	sb_adds(b, "\",\"signatures\":[],\"limits\":[],\"errors\":[");
	if (why)
		sb_add_json(b, why);
	sb_adds(b, "],\"bytes\":0,\"ms\":0}\n");
}

/* "PATH: suffix\n" with the path escaped for a text line. */
static void text_line(strbuf *b, const char *path, const char *suffix)
{
	sb_add_text(b, path);
	sb_adds(b, ": ");
	sb_adds(b, suffix);
	sb_add(b, "\n", 1);
}

/* "Heuristics.Limits.Exceeded.MaxFileSize" -> "MaxFileSize" */
static const char *limit_short(const char *name)
{
	static const char prefix[] = "Heuristics.Limits.Exceeded.";
	if (!strncmp(name, prefix, sizeof prefix - 1))
		return name + sizeof prefix - 1;
	return name;
}

/* ---- the queue ---- */

static void queue_push(struct queue *q, struct job j)
{
	pthread_mutex_lock(&q->mu);
	while (q->len == CLI_QUEUE_DEPTH)
		pthread_cond_wait(&q->not_full, &q->mu);
	q->items[(q->head + q->len) % CLI_QUEUE_DEPTH] = j;
	q->len++;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
}

/* false when the queue is closed and drained. */
static bool queue_pop(struct queue *q, struct job *j)
{
	pthread_mutex_lock(&q->mu);
	while (q->len == 0 && !q->closed)
		pthread_cond_wait(&q->not_empty, &q->mu);
	bool got = q->len > 0;
	if (got) {
		*j = q->items[q->head];
		q->head = (q->head + 1) % CLI_QUEUE_DEPTH;
		q->len--;
		pthread_cond_signal(&q->not_full);
	}
	pthread_mutex_unlock(&q->mu);
	return got;
}

static void queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
}

/* ---- scanning one file (worker side) ---- */

static void report_result(struct worker *w, const char *path, const ward_report *r,
			  uint64_t ms, uint64_t size)
{
	struct app *a = w->app;
	const struct scan_opts *o = &a->o;
	struct stats d = {.files = 1,
			  .blocks_scanned = r->bytes_scanned / COUNT_BLOCK,
			  .blocks_read = size / COUNT_BLOCK};
	size_t nfound = 0;

	/* clamscan prints one FOUND line per detection with --allmatch, else
	 * only the first; detections inside archives go on the archive's line. */
	for (size_t i = 0; i < r->ndetections && (o->allmatch || !nfound); i++, nfound++)
		if (text_out(a)) {
			sb_add_text(&w->out, path);
			sb_adds(&w->out, ": ");
			sb_add_text(&w->out, r->detections[i].name);
			sb_adds(&w->out, " FOUND\n");
		}
	for (size_t i = 0; i < r->nlimits; i++) {
		if (o->alert_exceeds) {
			/* --alert-exceeds-max: a hit limit is a detection, as
			 * clamscan's Heuristics.Limits.Exceeded.* */
			if (o->allmatch || !nfound) {
				if (text_out(a)) {
					sb_add_text(&w->out, path);
					sb_adds(&w->out, ": ");
					sb_add_text(&w->out, r->limits[i]);
					sb_adds(&w->out, " FOUND\n");
				}
				nfound++;
			}
		} else {
			/* clamscan says nothing here; we say it on stderr so a
			 * partly scanned file is never reported as plainly OK. */
			sb_adds(&w->err, "LibWard: ");
			sb_add_text(&w->err, path);
			sb_adds(&w->err, ": limit ");
			sb_add_text(&w->err, limit_short(r->limits[i]));
			sb_adds(&w->err, " hit; part of the file was not scanned\n");
		}
	}
	for (size_t i = 0; i < r->nerrors; i++) {
		sb_adds(&w->err, "LibWard: ");
		sb_add_text(&w->err, path);
		sb_adds(&w->err, ": ");
		sb_add_text(&w->err, r->errors[i]);
		sb_add(&w->err, "\n", 1);
	}
	if (nfound)
		d.infected = 1;
	else if (text_status(a))
		text_line(&w->out, path, "OK");

	if (nfound ? json_out(a) : json_status(a)) {
		strbuf *b = &w->out;
		sb_adds(b, "{\"path\":");
		sb_add_json(b, path);
		/* inner_paths runs parallel to signatures: null where the
		 * detection is in the file itself. */
		sb_adds(b, ",\"inner_paths\":[");
		for (size_t i = 0; i < r->ndetections; i++) {
			if (i)
				sb_add(b, ",", 1);
			sb_add_json(b, r->detections[i].inner_path);
		}
		if (o->alert_exceeds)
			for (size_t i = 0; i < r->nlimits; i++)
				sb_adds(b, r->ndetections + i ? ",null" : "null");
		sb_adds(b, "],\"verdict\":\"");
		sb_adds(b, nfound ? "infected" : "clean");
		sb_adds(b, "\",\"signatures\":[");
		for (size_t i = 0; i < r->ndetections; i++) {
			if (i)
				sb_add(b, ",", 1);
			sb_add_json(b, r->detections[i].name);
		}
		if (o->alert_exceeds)
			for (size_t i = 0; i < r->nlimits; i++) {
				if (r->ndetections + i)
					sb_add(b, ",", 1);
				sb_add_json(b, r->limits[i]);
			}
		sb_adds(b, "],\"limits\":[");
		for (size_t i = 0; i < r->nlimits; i++) {
			if (i)
				sb_add(b, ",", 1);
			sb_add_json(b, r->limits[i]);
		}
		sb_adds(b, "],\"errors\":[");
		for (size_t i = 0; i < r->nerrors; i++) {
			if (i)
				sb_add(b, ",", 1);
			sb_add_json(b, r->errors[i]);
		}
		sb_addf(b, "],\"bytes\":%llu,\"ms\":%llu}\n", (unsigned long long)r->bytes_scanned,
			(unsigned long long)ms);
		if (b->failed) {
			sb_reset(b);
			json_simple(b, path, "error", "result too large to print");
		}
	}
	emit(a, &w->out, &w->err, &d);
}

/* A file that could not be opened or scanned: clamscan prints
 * "PATH: Access denied" for permissions and "PATH: <reason> ERROR" else. */
static void report_error(struct worker *w, const char *path, const char *reason, bool access)
{
	struct app *a = w->app;
	struct stats d = {.errors = 1};
	if (json_out(a))
		json_simple(&w->out, path, "error", reason);
	else if (access ? text_status(a) : text_out(a)) {
		sb_add_text(&w->out, path);
		sb_adds(&w->out, ": ");
		sb_adds(&w->out, access ? "Access denied" : reason);
		sb_adds(&w->out, access ? "\n" : " ERROR\n");
	}
	emit(a, &w->out, NULL, &d);
}

static void scan_job(struct worker *w, const struct job *j)
{
	struct app *a = w->app;
	const char *path = j->is_stdin ? "stdin" : j->path;
	int fd = 0;
	uint64_t size = 0;

	if (!j->is_stdin) {
		/* O_NONBLOCK: a FIFO swapped in after the walk cannot block the
		 * open. O_NOFOLLOW for walked files: a symlink swapped in after
		 * lstat() is not followed (clamscan does not follow them). */
		int flags = O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
		if (!j->cmdline)
			flags |= O_NOFOLLOW;
		fd = open(j->path, flags);
		if (fd < 0) {
			int err = errno;
			if (err == ELOOP && !j->cmdline) {
				if (text_status(a))
					text_line(&w->out, path, "Symbolic link");
				else if (json_status(a))
					json_simple(&w->out, path, "skipped", "symbolic link");
				emit(a, &w->out, NULL, NULL);
				return;
			}
			report_error(w, path, strerror(err), err == EACCES || err == EPERM);
			return;
		}
		struct stat st;
		if (fstat(fd, &st) != 0) {
			int err = errno;
			close(fd);
			report_error(w, path, strerror(err), false);
			return;
		}
		if (!S_ISREG(st.st_mode)) {
			close(fd);
			/* Changed under us after the walk: clamscan skips non-regular
			 * files found in directories silently. */
			if (j->cmdline) {
				strbuf *e = &w->err;
				sb_adds(e, "WARNING: ");
				sb_add_text(e, path);
				sb_adds(e, ": Not supported file type\n");
				struct stats d = {.arg_errors = 1};
				emit(a, NULL, e, &d);
			}
			return;
		}
		if (st.st_size == 0) {
			close(fd);
			/* clamscan: "Empty file", not counted as scanned. */
			if (text_status(a))
				text_line(&w->out, path, "Empty file");
			else if (json_status(a))
				json_simple(&w->out, path, "clean", NULL);
			emit(a, &w->out, NULL, NULL);
			return;
		}
		size = (uint64_t)st.st_size;
	}

	const ward_report *r = NULL;
	uint64_t t0 = cli_now_ms();
	ward_err e = ward_scanner_scan_fd(w->scanner, fd, path, &r);
	uint64_t ms = cli_now_ms() - t0;
	if (!j->is_stdin)
		close(fd);
	if (e != WARD_OK || !r) {
		report_error(w, path, ward_strerror(e != WARD_OK ? e : WARD_EINTERNAL), false);
		return;
	}
	if (j->is_stdin)
		size = r->bytes_scanned;
	report_result(w, path, r, ms, size);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct job j;
	while (queue_pop(&w->app->q, &j)) {
		scan_job(w, &j);
		free(j.path);
	}
	return NULL;
}

/* ---- progress on a terminal ---- */

static void *progress_main(void *arg)
{
	struct app *a = arg;
	pthread_mutex_lock(&a->out_mu);
	while (!a->finished) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&a->progress_cv, &a->out_mu, &ts);
		if (a->finished)
			break;
		uint64_t el = cli_now_ms() - a->start_ms;
		if (el < 2000)
			continue;
		char line[160];
		int n = snprintf(line, sizeof line, "\rward: %llu files, %.1f MB/s\033[K",
				 (unsigned long long)a->st.files,
				 (double)a->st.blocks_read * COUNT_BLOCK / 1048576.0 /
					 ((double)el / 1000.0));
		if (n > 0 && (size_t)n < sizeof line) {
			(void)cli_write_all(2, line, (size_t)n);
			a->progress_shown = true;
		}
	}
	clear_progress(a);
	pthread_mutex_unlock(&a->out_mu);
	return NULL;
}

/* ---- the walker (main thread) ---- */

static void walker_note(struct app *a, const char *path, const char *status, bool error)
{
	strbuf b = {0};
	struct stats d = {.errors = error ? 1 : 0};
	if (text_status(a))
		text_line(&b, path, status);
	else if (error ? json_out(a) : json_status(a))
		json_simple(&b, path, error ? "error" : "skipped", status);
	emit(a, &b, NULL, &d);
	sb_free(&b);
}

static void push_file(struct app *a, const char *path, bool cmdline)
{
	struct job j = {.path = strdup(path), .cmdline = cmdline};
	if (!j.path) {
		strbuf e = {0};
		sb_adds(&e, "ERROR: out of memory for ");
		sb_add_text(&e, path);
		sb_add(&e, "\n", 1);
		struct stats d = {.errors = 1};
		emit(a, NULL, &e, &d);
		sb_free(&e);
		return;
	}
	queue_push(&a->q, j);
}

/* Recursion is bounded by --max-dir-recursion (clamscan's default 15, capped
 * at CLI_MAX_DIR_RECURSION). Directory symlinks are never followed inside a
 * walk: clamscan's default --follow-dir-symlinks=1 follows only those named
 * on the command line; file symlinks likewise (--follow-file-symlinks=1). */
static void walk_dir(struct app *a, const char *path, unsigned depth)
{
	DIR *d = opendir(path);
	if (!d) {
		walker_note(a, path, "Can't open directory.", true);
		return;
	}
	struct stats one = {.dirs = 1};
	emit(a, NULL, NULL, &one);
	size_t plen = strlen(path);
	bool root = plen == 1 && path[0] == '/';
	char child[CLI_MAX_PATH];
	struct dirent *de;
	while ((errno = 0, de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		int n = snprintf(child, sizeof child, "%s%s%s", path, root ? "" : "/", name);
		if (n < 0 || (size_t)n >= sizeof child) {
			strbuf e = {0};
			sb_adds(&e, "WARNING: ");
			sb_add_text(&e, path);
			sb_adds(&e, "/");
			sb_add_text(&e, name);
			sb_adds(&e, ": path too long, not scanned\n");
			struct stats err = {.errors = 1};
			emit(a, NULL, &e, &err);
			sb_free(&e);
			continue;
		}
		struct stat st;
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			walker_note(a, child, "Can't access file", true);
			continue;
		}
		if (S_ISLNK(st.st_mode)) {
			walker_note(a, child, "Symbolic link", false);
		} else if (S_ISDIR(st.st_mode)) {
			if (a->o.recursive && depth + 1 < a->o.max_dir_recursion)
				walk_dir(a, child, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			push_file(a, child, false);
		}
		/* FIFOs, sockets, devices inside a directory: skipped, as
		 * clamscan does. */
	}
	if (errno != 0)
		walker_note(a, path, "Can't read directory", true);
	closedir(d);
}

static void walk_arg(struct app *a, const char *arg)
{
	if (!strcmp(arg, "-")) {
		struct job j = {.path = NULL, .is_stdin = true};
		queue_push(&a->q, j);
		return;
	}
	/* clamscan prints "d/c" for "d/" and "./d//": drop trailing slashes. */
	size_t len = strlen(arg);
	while (len > 1 && arg[len - 1] == '/')
		len--;
	if (len >= CLI_MAX_PATH) {
		walker_note(a, arg, "path too long", true);
		return;
	}
	char path[CLI_MAX_PATH];
	memcpy(path, arg, len);
	path[len] = '\0';

	struct stat st;
	if (stat(path, &st) != 0) {
		int err = errno;
		strbuf e = {0}, o = {0};
		sb_add_text(&e, path);
		sb_adds(&e, ": ");
		sb_adds(&e, strerror(err));
		sb_add(&e, "\n", 1);
		if (!a->o.quiet) {
			sb_adds(&e, "WARNING: ");
			sb_add_text(&e, path);
			sb_adds(&e, ": Can't access file\n");
		}
		if (json_out(a))
			json_simple(&o, path, "error", strerror(err));
		struct stats d = {.arg_errors = 1};
		emit(a, &o, &e, &d);
		sb_free(&e);
		sb_free(&o);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		walk_dir(a, path, 0);
	} else if (S_ISREG(st.st_mode)) {
		push_file(a, path, true);
	} else {
		strbuf e = {0}, o = {0};
		if (!a->o.quiet) {
			sb_adds(&e, "WARNING: ");
			sb_add_text(&e, path);
			sb_adds(&e, ": Not supported file type\n");
		}
		if (json_out(a))
			json_simple(&o, path, "error", "Not supported file type");
		struct stats d = {.arg_errors = 1};
		emit(a, &o, &e, &d);
		sb_free(&e);
		sb_free(&o);
	}
}

/* ---- options ---- */

enum opt_id {
	OPT_DB, OPT_RECURSIVE, OPT_ALLMATCH, OPT_INFECTED, OPT_JSON, OPT_NO_SUMMARY,
	OPT_QUIET, OPT_THREADS, OPT_MAX_SCANTIME, OPT_MAX_FILESIZE, OPT_MAX_SCANSIZE,
	OPT_MAX_RECURSION, OPT_MAX_FILES, OPT_MAX_DIR_RECURSION, OPT_ALERT_EXCEEDS,
	OPT_NO_SANDBOX, OPT_HELP,
};

static const struct {
	const char *name;
	char short_name;
	bool has_arg;
	enum opt_id id;
} opt_table[] = {
	{"database", 'd', true, OPT_DB},
	{"recursive", 'r', false, OPT_RECURSIVE},
	{"allmatch", 'z', false, OPT_ALLMATCH},
	{"infected", 'i', false, OPT_INFECTED},
	{"json", 0, false, OPT_JSON},
	{"no-summary", 0, false, OPT_NO_SUMMARY},
	{"quiet", 0, false, OPT_QUIET},
	{"threads", 0, true, OPT_THREADS},
	{"max-scantime", 0, true, OPT_MAX_SCANTIME},
	{"max-filesize", 0, true, OPT_MAX_FILESIZE},
	{"max-scansize", 0, true, OPT_MAX_SCANSIZE},
	{"max-recursion", 0, true, OPT_MAX_RECURSION},
	{"max-files", 0, true, OPT_MAX_FILES},
	{"max-dir-recursion", 0, true, OPT_MAX_DIR_RECURSION},
	{"alert-exceeds-max", 0, false, OPT_ALERT_EXCEEDS},
	{"no-sandbox", 0, false, OPT_NO_SANDBOX},
	{"help", 'h', false, OPT_HELP},
};
#define NOPTS (sizeof opt_table / sizeof opt_table[0])

/* "ward scan: MSG 'VALUE'" (VALUE may be NULL) and the usage line; exit 2. */
static int usage_error(const char *msg, const char *value)
{
	fprintf(stderr, "ward scan: %s", msg);
	if (value)
		fprintf(stderr, " '%s'", value);
	fputs("\nUsage: ward scan [options] PATH...   (ward help for the options)\n", stderr);
	return 2;
}

/* Apply one option; value is NULL for flags. Returns 0, or 2 on a bad value. */
static int apply_opt(struct scan_opts *o, size_t k, const char *value, bool flag_on)
{
	uint64_t v;
	switch (opt_table[k].id) {
	case OPT_DB:
		if (o->ndbs >= CLI_MAX_DB_ARGS)
			return usage_error("too many databases; the most is", "4096");
		o->dbs[o->ndbs++] = value;
		return 0;
	case OPT_RECURSIVE: o->recursive = flag_on; return 0;
	case OPT_ALLMATCH: o->allmatch = flag_on; return 0;
	case OPT_INFECTED: o->infected_only = flag_on; return 0;
	case OPT_JSON: o->json = flag_on; return 0;
	case OPT_NO_SUMMARY: o->no_summary = flag_on; return 0;
	case OPT_QUIET: o->quiet = flag_on; return 0;
	case OPT_ALERT_EXCEEDS: o->alert_exceeds = flag_on; return 0;
	case OPT_NO_SANDBOX: return 0;
	case OPT_HELP: return 0;
	case OPT_THREADS:
		if (!cli_parse_number(value, CLI_MAX_THREADS, &v) || v == 0)
			return usage_error("--threads wants a number from 1 to 256, not", value);
		o->threads = (unsigned)v;
		return 0;
	case OPT_MAX_SCANTIME:
		if (!cli_parse_number(value, UINT64_MAX, &v))
			return usage_error("--max-scantime wants milliseconds, not", value);
		o->limits.max_scantime_ms = v;
		return 0;
	case OPT_MAX_FILESIZE:
		if (!cli_parse_size(value, &v))
			return usage_error("--max-filesize wants a size (N, NK, NM), not", value);
		o->limits.max_filesize = v;
		return 0;
	case OPT_MAX_SCANSIZE:
		if (!cli_parse_size(value, &v))
			return usage_error("--max-scansize wants a size (N, NK, NM), not", value);
		o->limits.max_scansize = v;
		return 0;
	case OPT_MAX_RECURSION:
		if (!cli_parse_number(value, UINT32_MAX, &v))
			return usage_error("--max-recursion wants a number, not", value);
		o->limits.max_recursion = (uint32_t)v;
		return 0;
	case OPT_MAX_FILES:
		if (!cli_parse_number(value, UINT32_MAX, &v))
			return usage_error("--max-files wants a number, not", value);
		o->limits.max_files = (uint32_t)v;
		return 0;
	case OPT_MAX_DIR_RECURSION:
		if (!cli_parse_number(value, CLI_MAX_DIR_RECURSION, &v))
			return usage_error("--max-dir-recursion wants a number up to 256, not",
					   value);
		o->max_dir_recursion = (unsigned)v;
		return 0;
	}
	return 2;
}

/* clamscan's syntax: --name, --name=value, --name value, flags also take
 * =yes/=no; short -r -i -z -h clustered, -d FILE or -dFILE; "--" ends
 * options; "-" is standard input. Returns 0, 2 on a usage error, or -1 for
 * --help. */
static int parse_args(int argc, char **argv, struct scan_opts *o)
{
	bool opts_done = false;
	bool help = false;
	for (int i = 0; i < argc; i++) {
		char *arg = argv[i];
		if (opts_done || arg[0] != '-' || !strcmp(arg, "-")) {
			o->paths[o->npaths++] = arg;
			continue;
		}
		if (!strcmp(arg, "--")) {
			opts_done = true;
			continue;
		}
		if (arg[1] == '-') {
			const char *name = arg + 2;
			const char *eq = strchr(name, '=');
			size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
			size_t k;
			for (k = 0; k < NOPTS; k++)
				if (strlen(opt_table[k].name) == nlen &&
				    !strncmp(opt_table[k].name, name, nlen))
					break;
			if (k == NOPTS)
				return usage_error("unknown option", arg);
			const char *value = eq ? eq + 1 : NULL;
			bool on = true;
			if (opt_table[k].has_arg) {
				if (!value) {
					if (i + 1 >= argc)
						return usage_error("option needs a value", arg);
					value = argv[++i];
				}
			} else if (value) {
				if (!strcmp(value, "yes"))
					on = true;
				else if (!strcmp(value, "no"))
					on = false;
				else
					return usage_error("flags take only =yes or =no:", arg);
				value = NULL;
			}
			if (opt_table[k].id == OPT_HELP)
				help = true;
			int rc = apply_opt(o, k, value, on);
			if (rc)
				return rc;
			continue;
		}
		for (const char *c = arg + 1; *c; c++) {
			size_t k;
			for (k = 0; k < NOPTS; k++)
				if (opt_table[k].short_name == *c)
					break;
			if (k == NOPTS) {
				char bad[3] = {'-', *c, '\0'};
				return usage_error("unknown option", bad);
			}
			if (opt_table[k].id == OPT_HELP)
				help = true;
			if (opt_table[k].has_arg) {
				const char *value = c[1] ? c + 1 : NULL;
				if (!value) {
					if (i + 1 >= argc)
						return usage_error("option needs a value", arg);
					value = argv[++i];
				}
				int rc = apply_opt(o, k, value, true);
				if (rc)
					return rc;
				break;
			}
			int rc = apply_opt(o, k, NULL, true);
			if (rc)
				return rc;
		}
	}
	return help ? -1 : 0;
}

/* Does dir hold at least one file with a database extension? */
static bool dir_has_databases(const char *dir)
{
	static const char *const exts[] = {".cvd", ".cld", ".cud", ".hdb", ".hsb", ".mdb",
					   ".msb", ".imp", ".ndb", ".ldb", ".fp",  ".sfp",
					   ".ign", ".ign2"};
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	struct dirent *de;
	while (!found && (de = readdir(d)) != NULL) {
		const char *dot = strrchr(de->d_name, '.');
		for (size_t i = 0; dot && i < sizeof exts / sizeof exts[0]; i++)
			if (!strcmp(dot, exts[i]))
				found = true;
	}
	closedir(d);
	return found;
}

static void print_summary(struct app *a, time_t start, time_t end, uint64_t ms)
{
	char sd[64], ed[64];
	struct tm tm;
	if (!localtime_r(&start, &tm) || !strftime(sd, sizeof sd, "%Y:%m:%d %H:%M:%S", &tm))
		snprintf(sd, sizeof sd, "?");
	if (!localtime_r(&end, &tm) || !strftime(ed, sizeof ed, "%Y:%m:%d %H:%M:%S", &tm))
		snprintf(ed, sizeof ed, "?");
	const struct stats *s = &a->st;
	double mb = (double)s->blocks_scanned * COUNT_BLOCK / 1048576.0;
	double rmb = (double)s->blocks_read * COUNT_BLOCK / 1048576.0;
	strbuf b = {0};
	/* clamscan 1.4.6's summary, line for line ("Total errors" only when
	 * there were errors; "End Date:" padded to align with "Start Date:"). */
	sb_adds(&b, "\n----------- SCAN SUMMARY -----------\n");
	sb_addf(&b, "Known viruses: %llu\n", (unsigned long long)cli_known_sigs(a->db));
	sb_addf(&b, "Engine version: %s\n", WARD_VERSION);
	sb_addf(&b, "Scanned directories: %llu\n", (unsigned long long)s->dirs);
	sb_addf(&b, "Scanned files: %llu\n", (unsigned long long)s->files);
	sb_addf(&b, "Infected files: %llu\n", (unsigned long long)s->infected);
	if (s->errors)
		sb_addf(&b, "Total errors: %llu\n", (unsigned long long)s->errors);
	sb_addf(&b, "Data scanned: %2.2lf MB\n", mb);
	sb_addf(&b, "Data read: %2.2lf MB (ratio %.2f:1)\n", rmb,
		s->blocks_read ? (double)s->blocks_scanned / (double)s->blocks_read : 0.0);
	sb_addf(&b, "Time: %llu.%3.3u sec (%llu m %llu s)\n", (unsigned long long)(ms / 1000),
		(unsigned)(ms % 1000), (unsigned long long)(ms / 1000 / 60),
		(unsigned long long)(ms / 1000 % 60));
	sb_addf(&b, "Start Date: %s\n", sd);
	sb_addf(&b, "End Date:   %s\n", ed);
	if (!b.failed)
		(void)cli_write_all(1, b.s, b.len);
	sb_free(&b);
}

int cmd_scan(int argc, char **argv)
{
	int rc = 2;
	struct app a;
	memset(&a, 0, sizeof a);
	struct worker *workers = NULL;
	unsigned nstarted = 0;
	bool progress = false;
	pthread_t progress_tid;
	ward_db *db = NULL;
	bool q_init = false;

	ward_limits_default(&a.o.limits);
	a.o.max_dir_recursion = CLI_DEFAULT_MAX_DIR_RECURSION;
	/* argc bounds both: every -d and every path is one argument. */
	a.o.dbs = calloc((size_t)argc + 1, sizeof *a.o.dbs);
	a.o.paths = calloc((size_t)argc + 1, sizeof *a.o.paths);
	if (!a.o.dbs || !a.o.paths) {
		fprintf(stderr, "ERROR: out of memory\n");
		goto out;
	}
	int prc = parse_args(argc, argv, &a.o);
	if (prc < 0) {
		fputs("Usage: ward scan [options] PATH...   (ward help lists the options)\n", stdout);
		rc = 0;
		goto out;
	}
	if (prc > 0)
		goto out;
	if (a.o.npaths == 0) {
		rc = usage_error("no PATH to scan", NULL);
		goto out;
	}
	if (a.o.threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		a.o.threads = n < 1 ? 1 : n > (long)CLI_MAX_THREADS ? CLI_MAX_THREADS : (unsigned)n;
	}
	if (a.o.ndbs == 0) {
		if (!dir_has_databases(DEFAULT_DB_DIR)) {
			fprintf(stderr, "ERROR: no database: give one with -d FILE/DIR "
					"(" DEFAULT_DB_DIR " holds no signature databases)\n");
			goto out;
		}
		a.o.dbs[a.o.ndbs++] = DEFAULT_DB_DIR;
	}

	time_t start_time = time(NULL);
	a.start_ms = cli_now_ms();
	if (!cli_check_db_paths(a.o.dbs, a.o.ndbs))
		goto out;
	/* Signatures that use features Ward lacks are summed up in one line
	 * here; `ward db check` lists them one by one. */
	struct cli_diag_count count = {.quiet_unsupported = true};
	ward_load_opts lopts = {.diag = cli_diag_stderr, .diag_ctx = &count};
	ward_err e = ward_db_load(a.o.dbs, a.o.ndbs, &lopts, &db);
	if (e == WARD_OK && count.unsupported)
		fprintf(stderr, "LibWard: %lu signatures use features Ward does not support yet and never match "
				"(see 'ward db info')\n", count.unsupported);
	if (e != WARD_OK) {
		fprintf(stderr, "ERROR: can't load the database: %s\n", ward_strerror(e));
		goto out;
	}
	/* Bad lines are skipped and the load goes on; a database file that
	 * cannot be read stops the run, as in clamscan. */
	if (count.io) {
		fprintf(stderr, "ERROR: can't read a database file (see above)\n");
		goto out;
	}
	a.db = db;

	pthread_mutex_init(&a.out_mu, NULL);
	pthread_cond_init(&a.progress_cv, NULL);
	pthread_mutex_init(&a.q.mu, NULL);
	pthread_cond_init(&a.q.not_empty, NULL);
	pthread_cond_init(&a.q.not_full, NULL);
	q_init = true;

	workers = calloc(a.o.threads, sizeof *workers);
	if (!workers) {
		fprintf(stderr, "ERROR: out of memory\n");
		goto out;
	}
	unsigned flags = a.o.allmatch ? WARD_SCAN_ALLMATCH : 0;
	for (unsigned i = 0; i < a.o.threads; i++) {
		workers[i].app = &a;
		e = ward_scanner_new(db, &a.o.limits, flags, &workers[i].scanner);
		if (e != WARD_OK) {
			fprintf(stderr, "ERROR: can't create a scanner: %s\n", ward_strerror(e));
			goto out;
		}
	}
	for (unsigned i = 0; i < a.o.threads; i++) {
		if (pthread_create(&workers[i].tid, NULL, worker_main, &workers[i]) != 0) {
			fprintf(stderr, "ERROR: can't start worker thread %u\n", i);
			break;
		}
		nstarted++;
	}
	if (nstarted == 0)
		goto out;
	if (!a.o.quiet && isatty(2))
		progress = pthread_create(&progress_tid, NULL, progress_main, &a) == 0;

	for (size_t i = 0; i < a.o.npaths; i++)
		walk_arg(&a, a.o.paths[i]);
	queue_close(&a.q);
	for (unsigned i = 0; i < nstarted; i++)
		pthread_join(workers[i].tid, NULL);
	nstarted = 0;
	if (progress) {
		pthread_mutex_lock(&a.out_mu);
		a.finished = true;
		pthread_cond_signal(&a.progress_cv);
		pthread_mutex_unlock(&a.out_mu);
		pthread_join(progress_tid, NULL);
		progress = false;
	}

	if (!a.o.no_summary && !a.o.quiet && !a.o.json)
		print_summary(&a, start_time, time(NULL), cli_now_ms() - a.start_ms);
	/* clamscan: 1 when anything was found, even if there were errors too. */
	/* Database lines or files that were refused are errors too: the scan
	 * ran without them. */
	bool db_errors = ward_db_count(db, WARD_COUNT_BAD_LINES) || ward_db_count(db, WARD_COUNT_BAD_FILES);
	rc = a.st.infected ? 1 : a.st.errors || a.st.arg_errors || db_errors ? 2 : 0;
out:
	if (nstarted) {
		queue_close(&a.q);
		for (unsigned i = 0; i < nstarted; i++)
			pthread_join(workers[i].tid, NULL);
	}
	if (workers) {
		for (unsigned i = 0; i < a.o.threads; i++) {
			ward_scanner_free(workers[i].scanner);
			sb_free(&workers[i].out);
			sb_free(&workers[i].err);
		}
		free(workers);
	}
	if (q_init) {
		pthread_cond_destroy(&a.q.not_full);
		pthread_cond_destroy(&a.q.not_empty);
		pthread_mutex_destroy(&a.q.mu);
		pthread_cond_destroy(&a.progress_cv);
		pthread_mutex_destroy(&a.out_mu);
	}
	ward_db_free(db);
	free(a.o.dbs);
	free(a.o.paths);
	return rc;
}
