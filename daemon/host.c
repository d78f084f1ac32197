/*
 * Pattern hosts and the zygote: where pattern sets are loaded and scanning
 * workers are forked, away from the daemon's threads.
 *
 * Why: a process may only fork safely while no other thread of it holds a
 * lock the child will need. The daemon has many threads (connections, the
 * loader, metrics, signals); a worker forked from it could inherit a lock
 * held at that instant (an allocator's, OpenSSL's) and block on it forever.
 * The sanitizer builds showed it: a worker forked during a reload hung in
 * ASan's allocator. So the daemon never forks a worker itself:
 *
 *   wardd (threads) ──zsock──> zygote (one thread, forked at start-up, before
 *                              any thread exists; holds no pattern set)
 *        │                       │ LOAD dir: clone(CLONE_PARENT) a host
 *        │<──────────hsock───── host (one thread, one pattern set): loads
 *        │                       the set, reports the result, then on each
 *        │                       SPAWN clone(CLONE_PARENT)s a worker
 *        │<──────────wsock───── worker (worker.c): scans, sandboxed
 *
 * Every process here is single-threaded when it forks, so nothing is held.
 * CLONE_PARENT makes hosts and workers children of the daemon itself, so the
 * daemon reaps them and reads their exit status exactly as before, and
 * PR_SET_PDEATHSIG ties them to the daemon. A bonus: a signature file that
 * crashes the loader now kills a host, not the daemon; the reload fails and
 * the running set keeps serving.
 *
 * Messages are SOCK_SEQPACKET, host byte order (same machine), one request
 * and its reply at a time per socket (a mutex on the daemon's side). What
 * hosts send is parsed as hostile: a host runs signature-file parsers.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util.h"
#include "wardd.h"
#include "wire.h"

#define ZREQ_MAGIC 0x5a524551u /* "ZREQ": load a set */
#define ZREP_MAGIC 0x5a524550u /* "ZREP": the new host's pid (+ its socket) */
#define HSPN_MAGIC 0x4853504eu /* "HSPN": spawn a worker / its pid (+ socket) */

struct zreq {
	uint32_t magic;
	uint32_t lkg;
	char dir[WARDD_MAX_PATH];
};

struct zrep {
	uint32_t magic;
	int32_t pid; /* > 0, or 0: the clone failed */
};

struct hspn {
	uint32_t magic;
	int32_t pid;
};

struct host {
	pthread_mutex_t mu; /* one SPAWN exchange at a time */
	int sock;           /* -1 once the host is known dead */
	pid_t pid;
};

static int zsock = -1;
static pid_t zpid;
static pthread_mutex_t zmu = PTHREAD_MUTEX_INITIALIZER;
static const struct wardd_conf *conf;

/* ---- descriptor passing ---- */

bool send_with_fd(int sock, const void *p, size_t n, int fd)
{
	struct iovec iov = {(void *)p, n};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	memset(&cbuf, 0, sizeof cbuf);
	struct msghdr m = {0};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (fd >= 0) {
		m.msg_control = cbuf.buf;
		m.msg_controllen = sizeof cbuf.buf;
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	for (;;) {
		ssize_t w = sendmsg(sock, &m, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		return w == (ssize_t)n;
	}
}

ssize_t recv_with_fd(int sock, void *p, size_t n, int *fd, int timeout_ms)
{
	*fd = -1;
	if (timeout_ms >= 0) {
		uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
		for (;;) {
			uint64_t now = now_ms();
			int left = now >= deadline ? 0 : (int)(deadline - now);
			struct pollfd pf = {sock, POLLIN, 0};
			int r = poll(&pf, 1, left);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			break;
		}
	}
	struct iovec iov = {p, n};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cbuf;
	struct msghdr m = {0};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cbuf.buf;
	m.msg_controllen = sizeof cbuf.buf;
	ssize_t r;
	do
		r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int got;
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
			if (*fd < 0)
				*fd = got;
			else
				close(got);
		}
	}
	if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -1;
	}
	return r;
}

/* fork() without glibc's handlers and with the daemon as the parent. Only
 * called by the single-threaded zygote and hosts. */
static pid_t clone_for_daemon(void)
{
	return (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD), NULL, NULL, NULL,
			      0UL);
}

/* A child of the daemon (clone_for_daemon) joined to this process by a new
 * socket pair. In the child: 0, with *end its side of the pair. Here: the
 * child's pid with *end this side, or -1 with *end -1 when it failed. */
static pid_t clone_connected(int *end)
{
	int sv[2];
	*end = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	pid_t pid = clone_for_daemon();
	if (pid == 0) {
		close(sv[0]);
		*end = sv[1];
		return 0;
	}
	close(sv[1]);
	if (pid < 0)
		close(sv[0]);
	else
		*end = sv[0];
	return pid;
}

/* Answer a spawn request: the reply, with this side of the new child's pair
 * when there is one (closed here). The requester gone: exit. */
static void answer_spawn(int sock, const void *rep, size_t n, int end)
{
	bool ok = send_with_fd(sock, rep, n, end);
	if (end >= 0)
		close(end);
	if (!ok)
		_exit(0);
}

int wardd_become_child(int sock, pid_t daemon, const char *name)
{
	if (sock != 3) {
		if (dup2(sock, 3) < 0)
			_exit(70);
		sock = 3;
	}
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 4u, ~0u, 0u) != 0)
#endif
	{
		long max = sysconf(_SC_OPEN_MAX);
		if (max < 0 || max > 65536)
			max = 65536;
		for (int fd = 4; fd < max; fd++)
			close(fd);
	}
	/* Die with the daemon; a helper must never outlive it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != daemon)
		_exit(0);
	prctl(PR_SET_NAME, name);
	return sock;
}

/* ---- the host process ---- */

struct host_diag {
	int sock;
	unsigned sent;
	uint64_t errors, unsupported;
};

/* Load diagnostics go to the daemon, which logs them (the host has no log of
 * its own: after a SIGHUP only the daemon knows the new file). */
static void host_diag_cb(void *vctx, ward_err code, const char *file, unsigned long line,
			 const char *msg)
{
	struct host_diag *d = vctx;
	if (code == WARD_EUNSUPPORTED) {
		d->unsupported++;
		return;
	}
	d->errors++;
	if (d->sent >= WARDD_MAX_LOGGED_DIAGS)
		return;
	d->sent++;
	static char buf[HMSG_MAX];
	struct hmsg h = {.magic = HMSG_MAGIC, .type = HMSG_DIAG, .code = code, .line = line};
	size_t off = sizeof h;
	const char *parts[2] = {file ? file : "", msg ? msg : ""};
	size_t room[2] = {WARDD_MAX_PATH, 1024u};
	for (int i = 0; i < 2; i++) {
		size_t l = strnlen(parts[i], room[i] - 1);
		memcpy(buf + off, parts[i], l);
		buf[off + l] = '\0';
		off += l + 1;
	}
	memcpy(buf, &h, sizeof h);
	if (!send_with_fd(d->sock, buf, off, -1))
		_exit(0);
}

static __attribute__((noreturn)) void host_main(int sock, const char *dir, pid_t daemon)
{
	sock = wardd_become_child(sock, daemon, "wardd-host");
	struct host_diag d = {.sock = sock};
	ward_load_opts lo = {.diag = host_diag_cb, .diag_ctx = &d, .cache_dir = conf->cache_dir};
	const char *paths[1] = {dir};
	ward_db *db = NULL;
	ward_err e = ward_db_load(paths, 1, &lo, &db);
	struct hmsg res = {.magic = HMSG_MAGIC, .type = HMSG_RESULT, .code = e};
	if (e == WARD_OK) {
		res.signatures = ward_db_count(db, WARD_COUNT_HASH) +
				 ward_db_count(db, WARD_COUNT_SECTHASH) +
				 ward_db_count(db, WARD_COUNT_IMPHASH) +
				 ward_db_count(db, WARD_COUNT_BODY) +
				 ward_db_count(db, WARD_COUNT_LOGICAL);
		res.bad_lines = ward_db_count(db, WARD_COUNT_BAD_LINES);
		res.bad_files = ward_db_count(db, WARD_COUNT_BAD_FILES);
	}
	res.errors = d.errors;
	res.unsupported = d.unsupported;
	if (!send_with_fd(sock, &res, sizeof res, -1) || e != WARD_OK)
		_exit(0);
	/* Serve SPAWN requests until the daemon closes our socket. The exit is
	 * _exit: the set is in use by workers' copies, and a sanitizer's exit
	 * checks have nothing to say about a process that only forks. */
	for (;;) {
		struct hspn req;
		int fd;
		ssize_t n = recv_with_fd(sock, &req, sizeof req, &fd, -1);
		if (fd >= 0)
			close(fd);
		if (n <= 0)
			_exit(0);
		struct hspn rep = {.magic = HSPN_MAGIC, .pid = 0};
		int end = -1;
		if (n == (ssize_t)sizeof req && req.magic == HSPN_MAGIC) {
			pid_t pid = clone_connected(&end);
			if (pid == 0)
				worker_main(end, db, conf, daemon);
			rep.pid = pid > 0 ? pid : 0;
		}
		answer_spawn(sock, &rep, sizeof rep, end);
	}
}

/* ---- the zygote process ---- */

static __attribute__((noreturn)) void zygote_main(int sock, pid_t daemon)
{
	/* Hosts and workers inherit the user: they never hold root. */
	if (!wardd_drop_privileges(conf->user))
		_exit(1);
	sock = wardd_become_child(sock, daemon, "wardd-zygote");
	for (;;) {
		static struct zreq req;
		int fd;
		ssize_t n = recv_with_fd(sock, &req, sizeof req, &fd, -1);
		if (fd >= 0)
			close(fd);
		if (n <= 0)
			_exit(0);
		struct zrep rep = {.magic = ZREP_MAGIC, .pid = 0};
		int end = -1;
		if (n == (ssize_t)sizeof req && req.magic == ZREQ_MAGIC &&
		    memchr(req.dir, '\0', sizeof req.dir)) {
			pid_t pid = clone_connected(&end);
			if (pid == 0)
				host_main(end, req.dir, daemon);
			rep.pid = pid > 0 ? pid : 0;
		}
		answer_spawn(sock, &rep, sizeof rep, end);
	}
}

/* ---- the daemon's side ---- */

bool zygote_start(const struct wardd_conf *c)
{
	conf = c;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return false;
	pid_t daemon = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		zygote_main(sv[1], daemon);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return false;
	}
	zsock = sv[0];
	zpid = pid;
	return true;
}

static void reap(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

void zygote_stop(void)
{
	pthread_mutex_lock(&zmu);
	if (zsock >= 0) {
		close(zsock);
		zsock = -1;
		kill(zpid, SIGKILL);
		reap(zpid);
	}
	pthread_mutex_unlock(&zmu);
}

/* Ask the zygote for a new host; its socket or -1. */
static int new_host(const char *dir, pid_t *pid)
{
	static struct zreq req; /* under zmu */
	int fd = -1;
	pthread_mutex_lock(&zmu);
	memset(&req, 0, sizeof req);
	req.magic = ZREQ_MAGIC;
	int n = snprintf(req.dir, sizeof req.dir, "%s", dir);
	if (zsock >= 0 && n > 0 && (size_t)n < sizeof req.dir &&
	    send_with_fd(zsock, &req, sizeof req, -1)) {
		struct zrep rep;
		ssize_t r = recv_with_fd(zsock, &rep, sizeof rep, &fd, WARDD_HELPER_TIMEOUT_MS);
		if (r != (ssize_t)sizeof rep || rep.magic != ZREP_MAGIC || rep.pid <= 0 || fd < 0) {
			if (fd >= 0)
				close(fd);
			fd = -1;
		} else {
			*pid = rep.pid;
		}
	}
	pthread_mutex_unlock(&zmu);
	return fd;
}

static void host_free(struct host *h)
{
	if (h->sock >= 0)
		close(h->sock);
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		reap(h->pid);
	}
	pthread_mutex_destroy(&h->mu);
	w_free(h);
}

ward_err host_load(const char *dir, host_diag_fn diag, void *ctx, struct host **out,
		   struct host_load_result *res)
{
	*out = NULL;
	memset(res, 0, sizeof *res);
	struct host *h = w_calloc(1, sizeof *h);
	if (!h)
		return WARD_ENOMEM;
	pthread_mutex_init(&h->mu, NULL);
	h->sock = new_host(dir, &h->pid);
	if (h->sock < 0) {
		h->pid = 0;
		host_free(h);
		res->crashed = true;
		return WARD_EIO;
	}
	static char buf[HMSG_MAX]; /* one loader at a time: the loader thread */
	ward_err e = WARD_EIO;
	/* Diagnostics, then one result. The load has no deadline of its own:
	 * the library bounds it, and a host that dies ends the wait with EOF. */
	for (unsigned msgs = 0; msgs <= WARDD_MAX_LOGGED_DIAGS; msgs++) {
		int fd;
		ssize_t n = recv_with_fd(h->sock, buf, sizeof buf, &fd, -1);
		if (fd >= 0)
			close(fd);
		struct host_msg m;
		if (n <= 0 || !wire_parse_host_msg(buf, (size_t)n, &m))
			break;
		if (m.h.type == HMSG_RESULT) {
			e = (ward_err)m.h.code;
			res->signatures = m.h.signatures;
			res->bad_lines = m.h.bad_lines;
			res->bad_files = m.h.bad_files;
			res->errors = m.h.errors;
			res->unsupported = m.h.unsupported;
			res->answered = true;
			break;
		}
		if (diag)
			diag(ctx, (ward_err)m.h.code, m.file[0] ? m.file : NULL,
			     (unsigned long)m.h.line, m.msg);
	}
	if (!res->answered) {
		res->crashed = true;
		e = WARD_EIO;
	}
	if (e != WARD_OK) {
		host_free(h);
		return e;
	}
	*out = h;
	return WARD_OK;
}

bool host_spawn(struct host *h, pid_t *pid, int *sock)
{
	bool ok = false;
	pthread_mutex_lock(&h->mu);
	if (h->sock >= 0) {
		struct hspn req = {.magic = HSPN_MAGIC};
		struct hspn rep;
		int fd = -1;
		if (send_with_fd(h->sock, &req, sizeof req, -1) &&
		    recv_with_fd(h->sock, &rep, sizeof rep, &fd, WARDD_HELPER_TIMEOUT_MS) ==
			    (ssize_t)sizeof rep &&
		    rep.magic == HSPN_MAGIC && rep.pid > 0 && fd >= 0) {
			*pid = rep.pid;
			*sock = fd;
			ok = true;
		} else {
			if (fd >= 0)
				close(fd);
			/* A host that fails to answer is not asked again: the
			 * set needs a reload (the supervisor counts it). */
			close(h->sock);
			h->sock = -1;
		}
	}
	pthread_mutex_unlock(&h->mu);
	return ok;
}

void host_close(struct host *h)
{
	if (h)
		host_free(h);
}
