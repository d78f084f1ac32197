/*
 * Scanning worker processes (STYLE.md 8: privilege separation).
 *
 * The daemon never scans in its own address space: every scan runs in a
 * worker process, forked by the host process of the active pattern set
 * (host.c) and a child of the daemon, which inherits a copy-on-write view of
 * the set and owns one ward_scanner. The daemon opens files (or
 * fills a memfd with stream data) and passes the descriptor over a
 * SOCK_SEQPACKET socketpair; the worker answers with one message. When a
 * signature or a file makes the worker crash, only that worker dies: the
 * daemon sees EOF, answers that one request with an error, tells the pattern
 * supervisor (which counts failures per pattern generation) and forks a new
 * worker for the next request. A worker that does not answer within
 * MaxScanTime + WorkerHangGrace is killed and counted the same way.
 *
 * Workers are forked by a single-threaded host, never by the threaded daemon:
 * a lock held by another thread at fork time (the allocator's, OpenSSL's)
 * would stay held in the child for ever. Every descriptor but its socket is
 * closed at once.
 *
 * Messages: wire.h. The daemon parses replies as hostile input (wire.c,
 * fuzzed): a compromised worker must not be able to corrupt the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"
#include "ward/sandbox.h"
#include "wardd.h"
#include "wire.h"

/* ---- the worker process ---- */

static void test_hook(const ward_report *rep, bool hooks)
{
	if (!hooks)
		return;
	for (size_t i = 0; i < rep->ndetections; i++) {
		const char *name = rep->detections[i].name;
		if (!name)
			continue;
		if (!strncmp(name, WARDD_TEST_CRASH_PREFIX, sizeof WARDD_TEST_CRASH_PREFIX - 1))
			abort();
		if (!strncmp(name, WARDD_TEST_HANG_PREFIX, sizeof WARDD_TEST_HANG_PREFIX - 1))
			for (;;) {
				/* clock_nanosleep: the one way to wait the sandbox allows */
				struct timespec ts = {1, 0};
				clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
			}
	}
}

void worker_main(int sock, const ward_db *db, const struct wardd_conf *c, pid_t parent)
{
	sock = wardd_become_child(sock, parent, "wardd-worker");
	/* The daemon's handlers write to its descriptors, which are gone here. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);

	const char *h = getenv(WARDD_TEST_HOOK_ENV);
	bool hooks = h && !strcmp(h, "1");
	ward_scanner *allm = NULL, *first = NULL;
	if (ward_scanner_new(db, &c->limits, 0, &first) != WARD_OK ||
	    ward_scanner_new(db, &c->limits, WARD_SCAN_ALLMATCH, &allm) != WARD_OK)
		_exit(71);
	/* From here on the worker can only read what it is sent and answer on
	 * its socket (include/ward/sandbox.h). Where the kernel or the build
	 * has no seccomp the daemon said so at start-up. */
	if (c->worker_sandbox) {
		ward_err se = ward_sandbox_enter(sock, 0);
		if (se != WARD_OK && se != WARD_EUNSUPPORTED)
			_exit(72);
	}

	static char out[WARDD_MAX_WORKER_REPLY];
	for (;;) {
		struct wreq req;
		int fd = -1;
		ssize_t n = recv_with_fd(sock, &req, sizeof req, &fd, -1);
		if (n <= 0)
			_exit(0); /* the daemon closed our socket (or broke it): retire */
		struct wrep rep = {.magic = WREP_MAGIC, .status = SCAN_ERROR};
		size_t off = sizeof rep;
		const char *err = NULL;
		if (n != (ssize_t)sizeof req || req.magic != WREQ_MAGIC || fd < 0) {
			err = "bad request to worker";
		} else {
			const ward_report *r = NULL;
			ward_scanner *s = (req.flags & WREQ_ALLMATCH) ? allm : first;
			ward_err e = ward_scanner_scan_fd(s, fd, NULL, &r);
			if (e != WARD_OK) {
				err = ward_strerror(e);
			} else {
				test_hook(r, hooks);
				rep.bytes = r->bytes_scanned;
				rep.status = r->ndetections ? SCAN_FOUND : SCAN_CLEAN;
				for (size_t i = 0; i < r->ndetections && i < 1024; i++) {
					const char *nm =
						r->detections[i].name ? r->detections[i].name : "";
					size_t l = strlen(nm) + 1;
					if (l > sizeof out - off)
						break;
					memcpy(out + off, nm, l);
					off += l;
					rep.nnames++;
				}
			}
		}
		if (fd >= 0)
			close(fd);
		if (err) {
			rep.status = SCAN_ERROR;
			size_t l = strlen(err) + 1;
			memcpy(out + off, err, l);
			off += l;
			rep.nnames = 1;
		}
		memcpy(out, &rep, sizeof rep);
		if (!send_with_fd(sock, out, off, -1))
			_exit(0);
	}
}

/* ---- the daemon's side ---- */

static bool spawn(struct worker *w, const struct wardd_conf *c)
{
	(void)c;
	struct patset *p = patterns_acquire();
	if (!p)
		return false;
	pid_t pid = 0;
	int sock = -1;
	/* The set's host forks the worker (host.c: never this threaded
	 * process). A host that cannot is counted like a crashed worker, so a
	 * set whose host died ends in the crash-loop revert. */
	if (!host_spawn(p->host, &pid, &sock)) {
		log_kv(LOG_ERROR, "worker_fork_failed", "generation=%llu",
		       (unsigned long long)p->generation);
		uint64_t gen = p->generation;
		patterns_release(p);
		patterns_worker_failed(gen, false, 0);
		return false;
	}
	w->pid = pid;
	w->sock = sock;
	w->generation = p->generation;
	patterns_release(p);
	atomic_fetch_add(&g_metrics.workers_started, 1);
	return true;
}

static int reap(pid_t pid)
{
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

void worker_stop(struct worker *w)
{
	if (w->sock >= 0)
		close(w->sock); /* the worker sees EOF and exits */
	if (w->pid > 0) {
		/* An idle worker exits at once; do not wait on one that might
		 * not, after a bug: make sure. */
		kill(w->pid, SIGKILL);
		reap(w->pid);
	}
	w->pid = 0;
	w->sock = -1;
	w->generation = 0;
}

static void set_error(struct scan_result *r, enum scan_status st, const char *msg)
{
	r->status = st;
	r->nnames = 1;
	snprintf(r->buf, sizeof r->buf, "%s", msg);
	r->names[0] = r->buf;
}

static bool send_req(struct worker *w, int fd, bool allmatch)
{
	struct wreq req = {WREQ_MAGIC, allmatch ? WREQ_ALLMATCH : 0};
	return send_with_fd(w->sock, &req, sizeof req, fd);
}

/* The worker is gone or hung: collect it and tell the supervisor. */
static void worker_failed(struct worker *w, bool hung)
{
	if (hung)
		kill(w->pid, SIGKILL);
	int status = reap(w->pid);
	close(w->sock);
	if (hung)
		atomic_fetch_add(&g_metrics.worker_hangs, 1);
	else
		atomic_fetch_add(&g_metrics.worker_crashes, 1);
	patterns_worker_failed(w->generation, hung, status);
	w->pid = 0;
	w->sock = -1;
}

void worker_scan(struct worker *w, int fd, bool allmatch, const struct wardd_conf *c,
		 struct scan_result *r)
{
	r->nnames = 0;
	r->bytes = 0;
	/* A new pattern generation is active: this worker retires, and the
	 * next one forks from the new set. Its scan (if any) is long done:
	 * each connection thread owns its worker. */
	uint64_t gen = patterns_generation();
	if (w->pid > 0 && w->generation != gen)
		worker_stop(w);
	for (int attempt = 0;; attempt++) {
		if (w->pid <= 0 && !spawn(w, c)) {
			set_error(r, SCAN_ERROR, "Can't start a scan worker");
			return;
		}
		if (send_req(w, fd, allmatch))
			break;
		/* It died while idle (killed from outside): not this request's
		 * fault; replace it once. */
		worker_failed(w, false);
		if (attempt > 0) {
			set_error(r, SCAN_ERROR, "Can't reach a scan worker");
			return;
		}
	}
	int timeout = -1;
	if (c->limits.max_scantime_ms) {
		uint64_t t = c->limits.max_scantime_ms + (uint64_t)c->hang_grace * 1000u;
		timeout = t > INT32_MAX ? INT32_MAX : (int)t;
	}
	uint64_t deadline = timeout >= 0 ? now_ms() + (uint64_t)timeout : 0;
	for (;;) {
		struct pollfd p = {w->sock, POLLIN, 0};
		int left = -1;
		if (timeout >= 0) {
			uint64_t now = now_ms();
			left = now >= deadline ? 0 : (int)(deadline - now);
		}
		int pr = poll(&p, 1, left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			worker_failed(w, true);
			set_error(r, SCAN_WORKER_HUNG, "Scan worker timed out");
			return;
		}
		break;
	}
	ssize_t n;
	do
		n = recv(w->sock, r->buf, sizeof r->buf, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		worker_failed(w, false);
		set_error(r, SCAN_WORKER_CRASHED, "Scan worker crashed");
		return;
	}
	if (!wire_parse_reply(r, (size_t)n)) {
		/* A worker that talks nonsense is not trusted again. */
		worker_failed(w, true);
		set_error(r, SCAN_ERROR, "Scan worker sent a bad reply");
	}
}
