/*
 * `ward scan`: clamscan's command line and output on top of libward.
 *
 * Shape (privilege separation, docs/internals/sandbox.md): this process parses
 * options, loads the one ward_db, walks the paths, opens each file and prints
 * every line; it never parses file contents. --threads worker processes,
 * forked after the load so the database is shared copy-on-write, receive the
 * open descriptors (privsep.c), scan them inside a seccomp sandbox and answer
 * with a compact result, which is parsed here as hostile. A worker that dies
 * (a crash, the sandbox's SIGSYS) or hangs past MaxScanTime costs only the
 * file it held: that file is reported, a new worker is forked, the scan goes
 * on. Output strings mirror clamscan 1.4.6 (checked against it: see
 * tests/cli/test_scan.sh).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ward/sandbox.h"

#define DEFAULT_DB_DIR "/var/lib/clamav"

/* The database of the last scan, never freed (see the end of cmd_scan). */
static ward_db *scan_db;

struct scan_opts {
	const char **dbs;
	size_t ndbs;
	char **paths;
	size_t npaths;
	bool recursive, allmatch, json, infected_only, no_summary, alert_exceeds, quiet;
	bool no_sandbox;
	unsigned threads;
	unsigned max_dir_recursion;
	ward_limits limits;
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

/* A file handed to a worker. */
struct job {
	uint32_t id;
	char *path; /* owned: the name printed for that file (NULL for stdin) */
	bool is_stdin;
	bool cmdline;  /* named on the command line (opened as such if retried) */
	uint64_t size; /* from fstat, for "Data read" */
};

/* One worker process and the files it holds, oldest first: the one being
 * scanned, then at most CLI_WORKER_QUEUE - 1 waiting in its socket, so the
 * worker goes from one file to the next without waiting for the parent. */
struct slot {
	struct ps_worker w;
	bool live;  /* a process is running (or starting) */
	bool hello; /* it said hello: scanner made, sandbox entered */
	struct job q[CLI_WORKER_QUEUE];
	unsigned nq;
	uint64_t start_ms; /* when q[0]'s scan started (as far as the parent knows) */
	uint64_t deadline; /* watchdog of q[0]; 0 = none (MaxScanTime 0) */
};

struct app {
	struct scan_opts o;
	const ward_db *db;
	struct stats st;
	strbuf out, err; /* the lines of the file being reported */
	struct ps_config cfg;
	struct slot *slots;
	unsigned nslots;
	uint32_t next_job;
	/* Files that waited behind one whose worker died: opened and handed
	 * over again (not lost with the worker). */
	struct job *retry;
	size_t nretry;
	bool draining;           /* drain_retries() is running */
	unsigned start_failures; /* workers dead before hello, in a row */
	bool fatal;              /* workers cannot run: stop the scan */
	bool progress, progress_shown;
	uint64_t start_ms, progress_ms;
};

/* ---- output ---- */

static void clear_progress(struct app *a)
{
	if (a->progress_shown) {
		(void)cli_write_all(2, "\r\033[K", 4);
		a->progress_shown = false;
	}
}

/* Write out (stdout) and err (stderr) whole, each with one write(2), and add
 * the deltas to the counters. A buffer that hit its ceiling is replaced by a
 * short note instead of being written half. */
static void emit(struct app *a, strbuf *out, strbuf *err, const struct stats *d)
{
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

/* ---- results (printed here, in the parent) ---- */

static void report_result(struct app *a, const char *path, const ward_report *r, uint64_t ms,
			  uint64_t size)
{
	const struct scan_opts *o = &a->o;
	struct stats d = {.files = 1,
			  .blocks_scanned = r->bytes_scanned / COUNT_BLOCK,
			  .blocks_read = size / COUNT_BLOCK};
	size_t nfound = 0;

	/* clamscan prints one FOUND line per detection with --allmatch, else
	 * only the first; detections inside archives go on the archive's line. */
	for (size_t i = 0; i < r->ndetections && (o->allmatch || !nfound); i++, nfound++)
		if (text_out(a)) {
			sb_add_text(&a->out, path);
			sb_adds(&a->out, ": ");
			sb_add_text(&a->out, r->detections[i].name);
			sb_adds(&a->out, " FOUND\n");
		}
	for (size_t i = 0; i < r->nlimits; i++) {
		if (o->alert_exceeds) {
			/* --alert-exceeds-max: a hit limit is a detection, as
			 * clamscan's Heuristics.Limits.Exceeded.* */
			if (o->allmatch || !nfound) {
				if (text_out(a)) {
					sb_add_text(&a->out, path);
					sb_adds(&a->out, ": ");
					sb_add_text(&a->out, r->limits[i]);
					sb_adds(&a->out, " FOUND\n");
				}
				nfound++;
			}
		} else {
			/* clamscan says nothing here; we say it on stderr so a
			 * partly scanned file is never reported as plainly OK. */
			sb_adds(&a->err, "LibWard: ");
			sb_add_text(&a->err, path);
			sb_adds(&a->err, ": limit ");
			sb_add_text(&a->err, limit_short(r->limits[i]));
			sb_adds(&a->err, " hit; part of the file was not scanned\n");
		}
	}
	for (size_t i = 0; i < r->nerrors; i++) {
		sb_adds(&a->err, "LibWard: ");
		sb_add_text(&a->err, path);
		sb_adds(&a->err, ": ");
		sb_add_text(&a->err, r->errors[i]);
		sb_add(&a->err, "\n", 1);
	}
	if (nfound)
		d.infected = 1;
	else if (text_status(a))
		text_line(&a->out, path, "OK");

	if (nfound ? json_out(a) : json_status(a)) {
		strbuf *b = &a->out;
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
	emit(a, &a->out, &a->err, &d);
}

/* A file that could not be opened or scanned: clamscan prints
 * "PATH: Access denied" for permissions and "PATH: <reason> ERROR" else. */
static void report_error(struct app *a, const char *path, const char *reason, bool access)
{
	struct stats d = {.errors = 1};
	if (json_out(a))
		json_simple(&a->out, path, "error", reason);
	else if (access ? text_status(a) : text_out(a)) {
		sb_add_text(&a->out, path);
		sb_adds(&a->out, ": ");
		sb_adds(&a->out, access ? "Access denied" : reason);
		sb_adds(&a->out, access ? "\n" : " ERROR\n");
	}
	emit(a, &a->out, NULL, &d);
}

/* ---- progress on a terminal ---- */

/* Redrawn at most every 250 ms, from the event loop, once the scan has run
 * for 2 s; only when stderr is a terminal (a->progress). */
static void progress_tick(struct app *a)
{
	if (!a->progress)
		return;
	uint64_t now = cli_now_ms(), el = now - a->start_ms;
	if (el < 2000 || now - a->progress_ms < 250)
		return;
	a->progress_ms = now;
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

/* ---- the worker pool ---- */

/* Start q[0]'s watchdog: now, as the worker takes it. */
static void slot_arm(const struct app *a, struct slot *s)
{
	s->start_ms = cli_now_ms();
	s->deadline = 0;
	uint64_t budget = a->o.limits.max_scantime_ms;
	if (budget && !__builtin_add_overflow(budget, CLI_WATCHDOG_GRACE_MS, &budget) &&
	    !__builtin_add_overflow(budget, s->start_ms, &s->deadline)) {
		/* deadline set */
	} else if (budget) {
		s->deadline = UINT64_MAX;
	}
}

/* q[0] is done: drop it; the next one (already in the worker's socket) is
 * being scanned from now. */
static void slot_pop(const struct app *a, struct slot *s)
{
	free(s->q[0].path);
	memmove(&s->q[0], &s->q[1], (s->nq - 1) * sizeof s->q[0]);
	s->nq--;
	s->deadline = 0;
	if (s->nq)
		slot_arm(a, s);
}

/* The worker is gone with q[0] (reported by the caller): the files waiting
 * behind it go to the retry list. */
static void slot_requeue(struct app *a, struct slot *s)
{
	free(s->q[0].path);
	for (unsigned i = 1; i < s->nq; i++) {
		struct job *j = &s->q[i];
		struct job *grown =
			j->path ? realloc(a->retry, (a->nretry + 1) * sizeof *grown) : NULL;
		if (!grown) {
			report_error(a, j->path ? j->path : "stdin",
				     "the scanning worker holding it died", false);
			free(j->path);
			continue;
		}
		a->retry = grown;
		a->retry[a->nretry++] = *j;
	}
	s->nq = 0;
	s->deadline = 0;
}

static bool slot_spawn(struct app *a, struct slot *s)
{
	if (!ps_spawn(&s->w, &a->cfg)) {
		fprintf(stderr, "ERROR: can't start a scanning worker: %s\n", strerror(errno));
		a->fatal = true;
		return false;
	}
	s->live = true;
	s->hello = false;
	return true;
}

/* The worker in s is gone or must go (kill). Report the file it held, then
 * start a replacement. why_bad: a protocol violation, NULL when it died. */
static void slot_retire(struct app *a, struct slot *s, bool kill, const char *why_bad)
{
	char why[128];
	int sig = 0;
	bool had_hello = s->hello;
	(void)ps_reap(&s->w, kill, why, sizeof why, &sig);
	s->live = false;
	if (s->nq) {
		char reason[256];
		if (why_bad)
			snprintf(reason, sizeof reason, "Scanning worker %s", why_bad);
		else
			snprintf(reason, sizeof reason, "Scanning worker %s", why);
		const char *path = s->q[0].path ? s->q[0].path : "stdin";
		if (sig == SIGSYS && !why_bad) {
			/* Say what SIGSYS means here: the filter stopped a
			 * system call the scan of this file tried to make. */
			sb_adds(&a->err, "LibWard: ");
			sb_add_text(&a->err, path);
			sb_adds(&a->err, ": the sandbox stopped a forbidden system call; "
					 "the file was not scanned\n");
			emit(a, NULL, &a->err, NULL);
		}
		report_error(a, path, reason, false);
		slot_requeue(a, s);
	} else if (!a->fatal) {
		fprintf(stderr, "LibWard: a scanning worker %s\n", why_bad ? why_bad : why);
	}
	if (!had_hello && ++a->start_failures >= CLI_MAX_START_FAILURES) {
		fprintf(stderr, "ERROR: scanning workers do not start (last one %s)\n", why);
		a->fatal = true;
	}
	if (!a->fatal)
		(void)slot_spawn(a, s);
}

/* The watchdog went off: the worker is killed and the file reported as the
 * library reports a spent MaxScanTime (defence in depth: the library checks
 * the budget itself, so this catches only a worker stuck outside it). */
static void slot_timeout(struct app *a, struct slot *s)
{
	char why[128];
	int sig = 0;
	uint64_t ms = cli_now_ms() - s->start_ms;
	(void)ps_reap(&s->w, true, why, sizeof why, &sig);
	s->live = false;
	const char *path = s->q[0].path ? s->q[0].path : "stdin";
	sb_adds(&a->err, "LibWard: ");
	sb_add_text(&a->err, path);
	sb_adds(&a->err,
		": the scanning worker did not answer within MaxScanTime and was stopped\n");
	emit(a, NULL, &a->err, NULL);
	static const char *const limit[] = {"Heuristics.Limits.Exceeded.MaxScanTime"};
	ward_report r = {.nlimits = 1, .limits = limit};
	report_result(a, path, &r, ms, s->q[0].is_stdin ? 0 : s->q[0].size);
	slot_requeue(a, s);
	(void)slot_spawn(a, s);
}

static void handle_frame(struct app *a, struct slot *s)
{
	for (;;) {
		ward_err hello_status = WARD_OK;
		struct ps_result res;
		memset(&res, 0, sizeof res);
		enum ps_frame_kind k = ps_read(&s->w, &hello_status, &res);
		switch (k) {
		case PS_NONE:
			return;
		case PS_EOF:
			slot_retire(a, s, false, NULL);
			return;
		case PS_BAD:
			slot_retire(a, s, true, "sent a malformed message and was stopped");
			return;
		case PS_HELLO:
			ps_frame_done(&s->w);
			if (s->hello) {
				slot_retire(a, s, true, "sent a malformed message and was stopped");
				return;
			}
			if (hello_status != WARD_OK) {
				fprintf(stderr, "ERROR: a scanning worker could not start: %s\n",
					ward_strerror(hello_status));
				a->fatal = true;
				slot_retire(a, s, true, "could not start");
				return;
			}
			s->hello = true;
			a->start_failures = 0;
			break;
		case PS_RESULT:
			if (!s->nq || !s->hello || res.job != s->q[0].id) {
				ps_result_free(&res);
				slot_retire(a, s, true,
					    "sent a result for no file and was stopped");
				return;
			}
			{
				const struct job *j = &s->q[0];
				const char *path = j->path ? j->path : "stdin";
				if (res.too_large)
					report_error(a, path, "result too large to print", false);
				else if (res.status != WARD_OK)
					report_error(a, path, ward_strerror(res.status), false);
				else
					report_result(a, path, &res.rep, res.ms,
						      j->is_stdin ? res.rep.bytes_scanned
								  : j->size);
			}
			ps_result_free(&res);
			ps_frame_done(&s->w);
			slot_pop(a, s);
			break;
		}
	}
}

/* One turn of the event loop: wait (at most timeout_ms, -1 = until something
 * happens) for a worker to answer or die, handle it, run the watchdogs. */
static void pump(struct app *a, int timeout_ms)
{
	struct pollfd pfd[CLI_MAX_THREADS];
	unsigned idx[CLI_MAX_THREADS];
	nfds_t n = 0;
	uint64_t now = cli_now_ms();
	for (unsigned i = 0; i < a->nslots; i++) {
		struct slot *s = &a->slots[i];
		if (!s->live)
			continue;
		pfd[n].fd = s->w.sock;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		idx[n++] = i;
		if (s->nq && s->deadline) {
			uint64_t left = s->deadline > now ? s->deadline - now : 0;
			if (timeout_ms < 0 || left < (uint64_t)timeout_ms)
				timeout_ms = left > INT32_MAX ? INT32_MAX : (int)left;
		}
	}
	if (a->progress && (timeout_ms < 0 || timeout_ms > 250))
		timeout_ms = 250;
	int rc = poll(pfd, n, timeout_ms);
	if (rc > 0)
		for (nfds_t k = 0; k < n; k++)
			if (pfd[k].revents)
				handle_frame(a, &a->slots[idx[k]]);
	now = cli_now_ms();
	for (unsigned i = 0; i < a->nslots && !a->fatal; i++) {
		struct slot *s = &a->slots[i];
		if (s->live && s->nq && s->deadline && now >= s->deadline)
			slot_timeout(a, s);
	}
	progress_tick(a);
}

static bool any_busy(const struct app *a)
{
	for (unsigned i = 0; i < a->nslots; i++)
		if (a->slots[i].nq)
			return true;
	return false;
}

/* A live worker that can take another file, the least loaded first (an idle
 * one before one that would queue it); waits for one. Standard input goes
 * only to an idle worker and nothing queues behind it: it cannot be opened
 * again if its worker dies. NULL when the scan has to stop. */
static struct slot *free_slot(struct app *a, bool is_stdin)
{
	while (!a->fatal) {
		struct slot *best = NULL;
		for (unsigned i = 0; i < a->nslots; i++) {
			struct slot *s = &a->slots[i];
			if (!s->live || s->nq == CLI_WORKER_QUEUE || (s->nq && s->q[0].is_stdin) ||
			    (is_stdin && s->nq))
				continue;
			if (!best || s->nq < best->nq)
				best = s;
		}
		if (best)
			return best;
		pump(a, -1);
	}
	return NULL;
}

/* Hand an open descriptor to a worker. The descriptor is the caller's. */
static void hand_over(struct app *a, int fd, const char *path, bool is_stdin, bool cmdline,
		      uint64_t size)
{
	/* A worker that dies between jobs is replaced on the way; try once
	 * more on a fresh one before giving up on the file. */
	for (int attempt = 0; attempt < 2; attempt++) {
		struct slot *s = free_slot(a, is_stdin);
		if (!s)
			return;
		struct job *j = &s->q[s->nq];
		memset(j, 0, sizeof *j);
		j->path = is_stdin ? NULL : strdup(path);
		if (!is_stdin && !j->path) {
			report_error(a, path, "out of memory", false);
			return;
		}
		j->is_stdin = is_stdin;
		j->cmdline = cmdline;
		j->size = size;
		j->id = ++a->next_job;
		if (s->nq++ == 0)
			slot_arm(a, s);
		if (ps_send_job(&s->w, j->id, fd, path))
			return;
		/* Not delivered: this file is not lost, only this worker (and
		 * the files queued before it go to the retry list). */
		free(j->path);
		j->path = NULL;
		s->nq--;
		slot_retire(a, s, true, "stopped taking files");
	}
	report_error(a, path, "no scanning worker to take the file", false);
}

static void scan_file(struct app *a, const char *path, bool cmdline);

/* Files whose worker died while they waited: open and hand over again. Not
 * called from inside pump(), so a retry never nests in another. */
static void drain_retries(struct app *a)
{
	/* scan_file() ends by draining: the outer loop takes what a nested
	 * call would, so a chain of dying workers never deepens the stack. */
	if (a->draining)
		return;
	a->draining = true;
	while (a->nretry && !a->fatal) {
		struct job j = a->retry[0];
		memmove(&a->retry[0], &a->retry[1], (a->nretry - 1) * sizeof j);
		a->nretry--;
		scan_file(a, j.path, j.cmdline);
		free(j.path);
	}
	a->draining = false;
}

/* Open a file for scanning (the parent holds every open in the program) and
 * hand it to a worker, or print why not. */
static void scan_file(struct app *a, const char *path, bool cmdline)
{
	/* O_NONBLOCK: a FIFO swapped in after the walk cannot block the open.
	 * O_NOFOLLOW for walked files: a symlink swapped in after lstat() is
	 * not followed (clamscan does not follow them). */
	int flags = O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
	if (!cmdline)
		flags |= O_NOFOLLOW;
	int fd = open(path, flags);
	if (fd < 0) {
		int err = errno;
		if (err == ELOOP && !cmdline) {
			if (text_status(a))
				text_line(&a->out, path, "Symbolic link");
			else if (json_status(a))
				json_simple(&a->out, path, "skipped", "symbolic link");
			emit(a, &a->out, NULL, NULL);
			return;
		}
		report_error(a, path, strerror(err), err == EACCES || err == EPERM);
		return;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int err = errno;
		close(fd);
		report_error(a, path, strerror(err), false);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		/* Changed under us after the walk: clamscan skips non-regular
		 * files found in directories silently. */
		if (cmdline) {
			sb_adds(&a->err, "WARNING: ");
			sb_add_text(&a->err, path);
			sb_adds(&a->err, ": Not supported file type\n");
			struct stats d = {.arg_errors = 1};
			emit(a, NULL, &a->err, &d);
		}
		return;
	}
	if (st.st_size == 0) {
		close(fd);
		/* clamscan: "Empty file", not counted as scanned. */
		if (text_status(a))
			text_line(&a->out, path, "Empty file");
		else if (json_status(a))
			json_simple(&a->out, path, "clean", NULL);
		emit(a, &a->out, NULL, NULL);
		return;
	}
	hand_over(a, fd, path, false, cmdline, (uint64_t)st.st_size);
	close(fd);
	drain_retries(a);
}

/* Start the workers; false when none could be started. */
static bool pool_start(struct app *a)
{
	a->slots = calloc(a->o.threads, sizeof *a->slots);
	if (!a->slots) {
		fprintf(stderr, "ERROR: out of memory\n");
		return false;
	}
	a->nslots = a->o.threads;
	for (unsigned i = 0; i < a->nslots; i++) {
		a->slots[i].w.sock = -1;
		if (!slot_spawn(a, &a->slots[i]))
			return false;
	}
	return true;
}

/* Close every worker's socket (it exits on end of file) and reap it; a
 * worker still holding a file (the scan is being abandoned) is killed. */
static void pool_stop(struct app *a)
{
	for (unsigned i = 0; a->slots && i < a->nslots; i++) {
		struct slot *s = &a->slots[i];
		char why[128];
		int sig;
		if (s->live)
			(void)ps_reap(&s->w, s->nq || a->fatal, why, sizeof why, &sig);
		s->live = false;
		for (unsigned k = 0; k < s->nq; k++)
			free(s->q[k].path);
		s->nq = 0;
		ps_free(&s->w);
	}
	free(a->slots);
	a->slots = NULL;
	a->nslots = 0;
	for (size_t i = 0; i < a->nretry; i++)
		free(a->retry[i].path);
	free(a->retry);
	a->retry = NULL;
	a->nretry = 0;
}

/* ---- the walker ---- */

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
	while (!a->fatal && (errno = 0, de = readdir(d)) != NULL) {
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
			scan_file(a, child, false);
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
		/* Standard input goes to a worker like any descriptor; it
		 * reads it to the end (MaxFileSize at most). */
		hand_over(a, 0, "stdin", true, true, 0);
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
		scan_file(a, path, true);
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
	OPT_DB,
	OPT_RECURSIVE,
	OPT_ALLMATCH,
	OPT_INFECTED,
	OPT_JSON,
	OPT_NO_SUMMARY,
	OPT_QUIET,
	OPT_THREADS,
	OPT_MAX_SCANTIME,
	OPT_MAX_FILESIZE,
	OPT_MAX_SCANSIZE,
	OPT_MAX_RECURSION,
	OPT_MAX_FILES,
	OPT_MAX_DIR_RECURSION,
	OPT_ALERT_EXCEEDS,
	OPT_NO_SANDBOX,
	OPT_HELP,
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
	case OPT_RECURSIVE:
		o->recursive = flag_on;
		return 0;
	case OPT_ALLMATCH:
		o->allmatch = flag_on;
		return 0;
	case OPT_INFECTED:
		o->infected_only = flag_on;
		return 0;
	case OPT_JSON:
		o->json = flag_on;
		return 0;
	case OPT_NO_SUMMARY:
		o->no_summary = flag_on;
		return 0;
	case OPT_QUIET:
		o->quiet = flag_on;
		return 0;
	case OPT_ALERT_EXCEEDS:
		o->alert_exceeds = flag_on;
		return 0;
	case OPT_NO_SANDBOX:
		o->no_sandbox = flag_on;
		return 0;
	case OPT_HELP:
		return 0;
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
	static const char *const exts[] = {".cvd", ".cld", ".cud", ".hdb", ".hsb", ".mdb", ".msb",
					   ".imp", ".ndb", ".ldb", ".fp",  ".sfp", ".ign", ".ign2"};
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
	ward_db *db = NULL;

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
		fputs("Usage: ward scan [options] PATH...   (ward help lists the options)\n",
		      stdout);
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
	ward_load_opts lopts = {
		.diag = cli_diag_stderr, .diag_ctx = &count, .cache_dir = cli_cache_dir()};
	ward_err e = ward_db_load(a.o.dbs, a.o.ndbs, &lopts, &db);
	if (e == WARD_OK && count.unsupported)
		fprintf(stderr,
			"LibWard: %lu signatures use features Ward does not support yet and never match "
			"(see 'ward db info')\n",
			count.unsupported);
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

	/* The sandbox is on unless --no-sandbox; a kernel without seccomp
	 * filters is said once and the scan goes on without it (the workers
	 * are still separate processes). */
	a.cfg.sandbox = !a.o.no_sandbox;
	if (a.cfg.sandbox && !ward_sandbox_supported()) {
		fprintf(stderr, "LibWard: seccomp is not available here (kernel or build): "
				"scanning without the sandbox\n");
		a.cfg.sandbox = false;
	}
	a.cfg.db = db;
	a.cfg.limits = &a.o.limits;
	a.cfg.scan_flags = a.o.allmatch ? WARD_SCAN_ALLMATCH : 0;
	if (!pool_start(&a))
		goto out;
	a.progress = !a.o.quiet && isatty(2);

	for (size_t i = 0; i < a.o.npaths && !a.fatal; i++)
		walk_arg(&a, a.o.paths[i]);
	while (!a.fatal && (any_busy(&a) || a.nretry)) {
		drain_retries(&a);
		if (any_busy(&a))
			pump(&a, -1);
	}
	clear_progress(&a);
	if (a.fatal)
		goto out;

	if (!a.o.no_summary && !a.o.quiet && !a.o.json)
		print_summary(&a, start_time, time(NULL), cli_now_ms() - a.start_ms);
	/* clamscan: 1 when anything was found, even if there were errors too. */
	/* Database lines or files that were refused are errors too: the scan
	 * ran without them. */
	bool db_errors =
		ward_db_count(db, WARD_COUNT_BAD_LINES) || ward_db_count(db, WARD_COUNT_BAD_FILES);
	rc = a.st.infected ? 1 : a.st.errors || a.st.arg_errors || db_errors ? 2 : 0;
out:
	pool_stop(&a);
	sb_free(&a.out);
	sb_free(&a.err);
	/* The database is left for the exit to reclaim: freeing ~70,000
	 * patterns piece by piece was 15% of the run time of a scan of one
	 * small file with the official sets, all of it spent touching memory
	 * about to be unmapped. A static keeps it reachable for leak checkers. */
	scan_db = db;
	free(a.o.dbs);
	free(a.o.paths);
	return rc;
}
