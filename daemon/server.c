/*
 * Listeners, the bounded connection queue, connection threads, and the reply
 * to every clamd command (clamd(8); replies measured against clamd 1.4.6, see
 * docs/internals/wardd.md and tests/cli/test_wardd_proto.sh).
 *
 * Concurrency: the main thread accepts on the unix and TCP listeners and
 * pushes descriptors into a queue of MaxQueue - MaxThreads places; when it is
 * full the main thread stops accepting, so further clients wait in the
 * kernel's backlog (backpressure, no memory spent on them). MaxThreads
 * connection threads each serve one connection at a time and own one worker
 * process (worker.c) that does their scanning.
 *
 * Per-connection limits are enforced before anything is allocated or
 * buffered: a command longer than WARDD_MAX_COMMAND closes the connection;
 * the first command must arrive within CommandReadTimeout, the next ones in
 * a session within IdleTimeout, stream data and descriptors within
 * ReadTimeout; an INSTREAM chunk header is checked against what is left of
 * StreamMaxLength before a byte of it is read, and the data goes through the
 * fixed connection buffer into a memfd.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <dirent.h>

#include "proto.h"
#include "util/util.h"
#include "wardd.h"

static const struct wardd_conf *conf;
static int listen_unix = -1, listen_tcp = -1;
static int shutdown_pipe[2] = {-1, -1};
static atomic_bool shutting_down;

/* ---- the connection queue ---- */
static struct {
	int *fds;
	size_t cap, head, len;
	bool closed;
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
} q = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .not_empty = PTHREAD_COND_INITIALIZER,
       .not_full = PTHREAD_COND_INITIALIZER};

static void queue_push(int fd)
{
	pthread_mutex_lock(&q.mu);
	q.fds[(q.head + q.len) % q.cap] = fd;
	q.len++;
	atomic_store(&g_metrics.queue_depth, q.len);
	pthread_cond_signal(&q.not_empty);
	pthread_mutex_unlock(&q.mu);
}

/* Wait for room (or shutdown); true when there is room. */
static bool queue_wait_room(void)
{
	pthread_mutex_lock(&q.mu);
	while (q.len == q.cap && !q.closed)
		pthread_cond_wait(&q.not_full, &q.mu);
	bool ok = !q.closed;
	pthread_mutex_unlock(&q.mu);
	return ok;
}

static int queue_pop(void)
{
	pthread_mutex_lock(&q.mu);
	while (q.len == 0 && !q.closed)
		pthread_cond_wait(&q.not_empty, &q.mu);
	int fd = -1;
	if (q.len > 0 && !q.closed) {
		fd = q.fds[q.head];
		q.head = (q.head + 1) % q.cap;
		q.len--;
		atomic_store(&g_metrics.queue_depth, q.len);
		pthread_cond_signal(&q.not_full);
	}
	pthread_mutex_unlock(&q.mu);
	return fd;
}

static void queue_close(void)
{
	pthread_mutex_lock(&q.mu);
	q.closed = true;
	while (q.len > 0) {
		close(q.fds[q.head]);
		q.head = (q.head + 1) % q.cap;
		q.len--;
	}
	pthread_cond_broadcast(&q.not_empty);
	pthread_cond_broadcast(&q.not_full);
	pthread_mutex_unlock(&q.mu);
}

static size_t queue_len(void)
{
	pthread_mutex_lock(&q.mu);
	size_t n = q.len;
	pthread_mutex_unlock(&q.mu);
	return n;
}

/* ---- connections ---- */

struct conn {
	int fd;
	bool is_unix;
	bool eof;
	bool dead; /* a write failed or a limit closed it: stop */
	uint8_t buf[WARDD_CONN_BUF];
	size_t start, end;
	int fds[WARDD_MAX_PENDING_FDS];
	size_t nfds;
	bool session;
	unsigned long id; /* IDSESSION request number of the current command */
	enum proto_style style;
};

struct cthread {
	pthread_t tid;
	struct conn c;
	struct worker w;
	struct scan_result res;
	atomic_int state; /* enum proto_cmd being served; -1 idle */
	atomic_uint_fast64_t since_ms;
};

static struct cthread *threads;
static unsigned nthreads;

static void set_state(struct cthread *t, int st)
{
	atomic_store(&t->state, st);
	atomic_store(&t->since_ms, now_ms());
}

/* Read more bytes into c->buf (compacting first). Returns 1 on data, 0 on EOF,
 * -1 on timeout, -2 on error or shutdown. Descriptors that arrive with the
 * data (unix sockets) are queued for FILDES. */
static int conn_fill(struct conn *c, uint64_t deadline)
{
	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->end == sizeof c->buf)
		return -2; /* NEVER: callers consume before asking for more */
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline)
			return -1;
		struct pollfd pf[2] = {{c->fd, POLLIN, 0}, {shutdown_pipe[0], POLLIN, 0}};
		uint64_t left = deadline - now;
		int r = poll(pf, 2, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || pf[1].revents)
			return -2;
		if (r == 0)
			return -1;
		break;
	}
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * WARDD_MAX_PENDING_FDS)];
	} cbuf;
	struct iovec iov = {c->buf + c->end, sizeof c->buf - c->end};
	struct msghdr m = {0};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (c->is_unix) {
		m.msg_control = cbuf.buf;
		m.msg_controllen = sizeof cbuf.buf;
	}
	ssize_t n;
	do
		n = recvmsg(c->fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -2;
	if (c->is_unix && m.msg_controllen > 0) {
		for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
			if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
			    h->cmsg_len < CMSG_LEN(0))
				continue;
			size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd);
				/* More than a client can use before reading replies:
				 * close rather than hold them. */
				if (c->nfds < WARDD_MAX_PENDING_FDS)
					c->fds[c->nfds++] = fd;
				else
					close(fd);
			}
		}
	}
	if (n == 0) {
		c->eof = true;
		return 0;
	}
	c->end += (size_t)n;
	return 1;
}

static bool conn_write(struct conn *c, const void *p, size_t n)
{
	const char *s = p;
	uint64_t deadline = now_ms() + (uint64_t)conf->read_timeout * 1000u;
	while (n > 0 && !c->dead) {
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			uint64_t now = now_ms();
			struct pollfd pf = {c->fd, POLLOUT, 0};
			if (now >= deadline || poll(&pf, 1, (int)(deadline - now)) <= 0)
				c->dead = true;
			continue;
		}
		c->dead = true;
	}
	return !c->dead;
}

/* One reply: "ID: " in a session, the body, the style's terminator, in one
 * sendmsg() where the socket takes it: clients such as pyclamd read replies
 * with recv() and take an empty read (a terminator arriving alone) as the
 * end of the answer. */
static void reply_raw(struct conn *c, const char *body, size_t len)
{
	char pre[32];
	char term = proto_term(c->style);
	size_t plen = 0;
	if (c->session) {
		int n = snprintf(pre, sizeof pre, "%lu: ", c->id);
		if (n > 0 && (size_t)n < sizeof pre)
			plen = (size_t)n;
	}
	struct iovec iov[3] = {{pre, plen}, {(void *)body, len}, {&term, 1}};
	size_t total = plen + len + 1;
	struct msghdr m = {0};
	m.msg_iov = iov;
	m.msg_iovlen = 3;
	ssize_t w;
	do
		w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (w < 0 && errno == EINTR);
	if (w == (ssize_t)total)
		return;
	if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		c->dead = true;
		return;
	}
	/* The socket buffer is full: the rest goes out piece by piece. */
	size_t done = w > 0 ? (size_t)w : 0;
	for (int i = 0; i < 3 && !c->dead; i++) {
		if (done >= iov[i].iov_len) {
			done -= iov[i].iov_len;
			continue;
		}
		(void)conn_write(c, (const char *)iov[i].iov_base + done, iov[i].iov_len - done);
		done = 0;
	}
}

static void reply(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct conn *c, const char *fmt, ...)
{
	char line[WARDD_MAX_COMMAND + 1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
	reply_raw(c, line, len);
}

/* ---- scanning ---- */

static void count_result(const struct scan_result *r, uint64_t t0)
{
	metrics_observe_latency((now_ms() - t0) * 1000u);
	atomic_fetch_add(&g_metrics.bytes, r->bytes);
	if (r->status == SCAN_CLEAN)
		atomic_fetch_add(&g_metrics.scans_clean, 1);
	else if (r->status == SCAN_FOUND) {
		atomic_fetch_add(&g_metrics.scans_found, 1);
		atomic_fetch_add(&g_metrics.detections, r->nnames);
	} else
		atomic_fetch_add(&g_metrics.scans_error, 1);
}

/* Scan fd and reply for NAME. Returns true when something was found.
 * quiet_clean: inside a directory walk, clean files get no line. */
static bool scan_and_reply(struct cthread *t, int fd, const char *name, bool allmatch,
			   bool quiet_clean)
{
	struct conn *c = &t->c;
	struct scan_result *r = &t->res;
	uint64_t t0 = now_ms();
	worker_scan(&t->w, fd, allmatch, conf, r);
	count_result(r, t0);
	char qn[512], qs[512];
	switch (r->status) {
	case SCAN_CLEAN:
		if (!quiet_clean)
			reply(c, "%s: OK", name);
		return false;
	case SCAN_FOUND:
		for (size_t i = 0; i < r->nnames && !c->dead; i++) {
			reply(c, "%s: %s FOUND", name, r->names[i]);
			log_kv(LOG_INFO, "detection", "name=%s signature=%s",
			       log_q(name, qn, sizeof qn), log_q(r->names[i], qs, sizeof qs));
		}
		return true;
	default:
		reply(c, "%s: %s ERROR", name, r->nnames ? r->names[0] : "Scan failed");
		log_kv(LOG_WARN, "scan_error", "name=%s error=%s", log_q(name, qn, sizeof qn),
		       log_q(r->nnames ? r->names[0] : "", qs, sizeof qs));
		return false;
	}
}

enum walk_mode { WALK_FIRST, WALK_ALL };

struct walk {
	struct cthread *t;
	enum walk_mode mode;
	bool allmatch;
	bool found;
	bool stop;
};

static int open_file_at(int dfd, const char *name)
{
	return openat(dfd, name, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
}

static void walk_dir(struct walk *wk, int dfd, char *path, size_t plen, unsigned depth);

/* One directory entry: files in pass 0, directories in pass 1 (clamd lists a
 * directory's files before descending). */
static void walk_entry(struct walk *wk, int dfd, char *path, size_t plen, const char *name,
		       int pass, unsigned depth)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	bool link = S_ISLNK(st.st_mode);
	if (link) {
		if (fstatat(dfd, name, &st, 0) != 0)
			return;
		if (S_ISDIR(st.st_mode) ? !conf->follow_dir_symlinks : !conf->follow_file_symlinks)
			return;
	}
	size_t nlen = strlen(name);
	size_t need = plen + 1 + nlen;
	if (need >= WARDD_MAX_PATH)
		return;
	path[plen] = '/';
	memcpy(path + plen + 1, name, nlen + 1);
	if (pass == 0 && S_ISREG(st.st_mode)) {
		int fd = link ? openat(dfd, name, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
			      : open_file_at(dfd, name);
		if (fd < 0) {
			reply(&wk->t->c, "%s: Access denied. ERROR", path);
		} else {
			if (scan_and_reply(wk->t, fd, path, wk->allmatch, true)) {
				wk->found = true;
				if (wk->mode == WALK_FIRST)
					wk->stop = true;
			}
			close(fd);
		}
	} else if (pass == 1 && S_ISDIR(st.st_mode) && depth < conf->max_dir_recursion) {
		int sub = openat(dfd, name,
				 O_RDONLY | O_DIRECTORY | O_CLOEXEC | (link ? 0 : O_NOFOLLOW));
		if (sub >= 0)
			walk_dir(wk, sub, path, need, depth + 1); /* closes sub */
	}
	path[plen] = '\0';
}

/* Walk the directory open on dfd (closed here); path[0..plen) names it. The
 * recursion is bounded by MaxDirectoryRecursion (at most
 * WARDD_MAX_DIR_RECURSION), and nothing is kept per entry: two passes over
 * the directory instead of a list of its subdirectories. */
static void walk_dir(struct walk *wk, int dfd, char *path, size_t plen, unsigned depth)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	for (int pass = 0; pass < 2 && !wk->stop && !wk->t->c.dead; pass++) {
		rewinddir(d);
		struct dirent *de;
		while (!wk->stop && !wk->t->c.dead && (de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			walk_entry(wk, dirfd(d), path, plen, de->d_name, pass, depth);
		}
	}
	closedir(d);
}

static void cmd_scan_path(struct cthread *t, const struct proto_command *pc)
{
	struct conn *c = &t->c;
	char path[WARDD_MAX_PATH + 1];
	/* clamd reports a path it cannot use with lstat()'s reason. */
	if (pc->arg_len >= sizeof path) {
		char shown[WARDD_MAX_COMMAND + 1];
		size_t n = pc->arg_len < WARDD_MAX_COMMAND ? pc->arg_len : WARDD_MAX_COMMAND;
		memcpy(shown, pc->arg, n);
		shown[n] = '\0';
		reply(c, "%s: File path check failure: %s. ERROR", shown, strerror(ENAMETOOLONG));
		return;
	}
	memcpy(path, pc->arg, pc->arg_len);
	path[pc->arg_len] = '\0';
	struct stat st;
	if (lstat(path, &st) != 0) {
		reply(c, "%s: File path check failure: %s. ERROR", path, strerror(errno));
		return;
	}
	if (S_ISLNK(st.st_mode)) {
		/* clamd 1.4.6 answers OK for a symbolic link it does not follow. */
		struct stat tst;
		bool follow = stat(path, &tst) == 0 &&
			      (S_ISDIR(tst.st_mode) ? conf->follow_dir_symlinks
						    : conf->follow_file_symlinks);
		if (!follow) {
			reply(c, "%s: OK", path);
			return;
		}
		st = tst;
	}
	bool allmatch = pc->cmd == CMD_ALLMATCHSCAN;
	if (S_ISREG(st.st_mode)) {
		int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			reply(c, "%s: Access denied. ERROR", path);
			return;
		}
		(void)scan_and_reply(t, fd, path, allmatch, false);
		close(fd);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			reply(c, "%s: Access denied. ERROR", path);
			return;
		}
		/* A trailing '/' is not doubled in the member paths. */
		size_t plen = strlen(path);
		while (plen > 1 && path[plen - 1] == '/')
			path[--plen] = '\0';
		char walkpath[WARDD_MAX_PATH + 1];
		memcpy(walkpath, path, plen + 1);
		struct walk wk = {.t = t,
				  .mode = (pc->cmd == CMD_SCAN || pc->cmd == CMD_ALLMATCHSCAN)
						  ? WALK_FIRST
						  : WALK_ALL,
				  .allmatch = allmatch};
		walk_dir(&wk, dfd, walkpath, plen, 1);
		if (!wk.found)
			reply(c, "%.*s: OK", (int)pc->arg_len, pc->arg);
		return;
	}
	/* Devices, FIFOs, sockets: clamd 1.4.6 sends both lines. */
	reply(c, "%s: Not supported file type ERROR", path);
	reply(c, "%s: OK", path);
}

/* Exactly n bytes from the connection (buffered first) into dst. */
static bool conn_read_exact(struct conn *c, void *dst, size_t n, uint64_t deadline)
{
	uint8_t *d = dst;
	while (n > 0) {
		size_t avail = c->end - c->start;
		if (avail == 0) {
			if (c->eof || conn_fill(c, deadline) <= 0)
				return false;
			continue;
		}
		size_t k = avail < n ? avail : n;
		memcpy(d, c->buf + c->start, k);
		c->start += k;
		d += k;
		n -= k;
	}
	return true;
}

static bool write_fd_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void cmd_instream(struct cthread *t)
{
	struct conn *c = &t->c;
	uint64_t t0 = now_ms();
	int mfd = memfd_create("wardd-stream", MFD_CLOEXEC);
	if (mfd < 0) {
		reply(c, "stream: Can't create temporary file ERROR");
		c->dead = true;
		return;
	}
	uint64_t total = 0;
	bool write_failed = false;
	for (;;) {
		uint64_t deadline = now_ms() + (uint64_t)conf->read_timeout * 1000u;
		uint8_t hdr[4];
		if (!conn_read_exact(c, hdr, sizeof hdr, deadline)) {
			c->dead = true; /* clamd closes without a reply */
			goto out;
		}
		uint32_t len = proto_chunk_len(hdr);
		if (len == 0)
			break;
		/* Checked before reading a byte of the chunk; total never
		 * exceeds stream_max, so the subtraction cannot wrap. */
		if (len > conf->stream_max - total) {
			reply(c, "INSTREAM size limit exceeded. ERROR");
			log_kv(LOG_WARN, "stream_limit", "declared=%u received=%llu max=%llu", len,
			       (unsigned long long)total, (unsigned long long)conf->stream_max);
			c->dead = true;
			goto out;
		}
		size_t left = len;
		while (left > 0) {
			if (c->end == c->start) {
				if (c->eof || conn_fill(c, deadline) <= 0) {
					c->dead = true;
					goto out;
				}
				continue;
			}
			size_t avail = c->end - c->start;
			size_t k = avail < left ? avail : left;
			if (!write_failed && !write_fd_all(mfd, c->buf + c->start, k))
				write_failed = true;
			c->start += k;
			left -= k;
		}
		total += len;
	}
	(void)t0;
	if (write_failed) {
		reply(c, "stream: Can't write to temporary file ERROR");
		goto out;
	}
	(void)scan_and_reply(t, mfd, "stream", false, false);
out:
	close(mfd);
}

static void cmd_fildes(struct cthread *t)
{
	struct conn *c = &t->c;
	uint64_t deadline = now_ms() + (uint64_t)conf->read_timeout * 1000u;
	if (!c->is_unix) {
		/* clamd waits for the byte a descriptor would travel with, and
		 * closes silently at EOF. */
		while (c->end == c->start)
			if (c->eof || conn_fill(c, deadline) <= 0) {
				c->dead = true;
				return;
			}
		c->start++;
		reply(c, "No file descriptor received. ERROR");
		return;
	}
	while (c->nfds == 0) {
		if (c->eof || conn_fill(c, deadline) <= 0) {
			c->dead = true;
			return;
		}
	}
	int fd = c->fds[0];
	c->nfds--;
	memmove(c->fds, c->fds + 1, c->nfds * sizeof c->fds[0]);
	/* The byte the descriptor travelled with (clients send one '\0'). */
	if (c->end > c->start && c->buf[c->start] == '\0')
		c->start++;
	char name[32];
	snprintf(name, sizeof name, "fd[%d]", fd);
	(void)scan_and_reply(t, fd, name, false, false);
	close(fd);
}

/* ---- informational commands ---- */

static void version_string(char *out, size_t n)
{
	char d[WARDD_MAX_VERSION + 64];
	patterns_describe(d, sizeof d);
	snprintf(out, n, "Ward %s/%s", WARD_VERSION, d);
}

static void cmd_stats(struct conn *c)
{
	dbuf b;
	dbuf_init(&b, 1u << 20);
	unsigned idle = 0;
	for (unsigned i = 0; i < nthreads; i++)
		if (atomic_load(&threads[i].state) < 0)
			idle++;
	(void)dbuf_addf(
		&b,
		"POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live %u  idle %u max %u idle-timeout %u\nQUEUE: %zu items\n",
		nthreads, idle, nthreads, conf->idle_timeout, queue_len());
	uint64_t now = now_ms();
	for (unsigned i = 0; i < nthreads; i++) {
		int st = atomic_load(&threads[i].state);
		uint64_t since = atomic_load(&threads[i].since_ms);
		(void)dbuf_addf(&b, "\t%s %f \n",
				st < 0 ? "IDLE" : proto_cmd_name((enum proto_cmd)st),
				(double)(now - since) / 1000.0);
	}
	(void)dbuf_addf(
		&b,
		"\nMEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A pools 1 pools_used N/A pools_total N/A\nEND");
	if (b.len)
		reply_raw(c, b.s, b.len);
	dbuf_free(&b);
}

static const char commands_list[] =
	"| COMMANDS: SCAN QUIT RELOAD PING CONTSCAN VERSIONCOMMANDS VERSION END SHUTDOWN "
	"MULTISCAN FILDES STATS IDSESSION INSTREAM DETSTATSCLEAR DETSTATS ALLMATCHSCAN";

/* ---- the command loop ---- */

/* Serve one command; false ends the connection. */
static bool dispatch(struct cthread *t, const struct proto_command *pc)
{
	struct conn *c = &t->c;
	c->style = pc->style;
	if (c->session) {
		/* clamd closes without a word on an empty or an unprefixed
		 * command inside a session. */
		if (pc->cmd == CMD_EMPTY || pc->style == PROTO_OLD)
			return false;
		c->id++;
		if (!proto_session_allowed(pc->cmd)) {
			reply(c, "Command invalid inside IDSESSION. ERROR");
			return false;
		}
	}
	set_state(t, (int)pc->cmd);
	char v[WARDD_MAX_VERSION + 128];
	switch (pc->cmd) {
	case CMD_PING:
		reply(c, "PONG");
		break;
	case CMD_VERSION:
		version_string(v, sizeof v);
		reply(c, "%s", v);
		break;
	case CMD_VERSIONCOMMANDS:
		version_string(v, sizeof v);
		reply(c, "%s%s", v, commands_list);
		break;
	case CMD_RELOAD:
		reply(c, "RELOADING");
		patterns_request_reload("RELOAD command");
		break;
	case CMD_SHUTDOWN:
		log_kv(LOG_INFO, "shutdown", "reason=\"SHUTDOWN command\"");
		server_request_shutdown();
		return false;
	case CMD_STATS:
		cmd_stats(c);
		break;
	case CMD_SCAN:
	case CMD_CONTSCAN:
	case CMD_MULTISCAN:
	case CMD_ALLMATCHSCAN:
		cmd_scan_path(t, pc);
		break;
	case CMD_INSTREAM:
		cmd_instream(t);
		break;
	case CMD_FILDES:
		cmd_fildes(t);
		break;
	case CMD_IDSESSION:
		c->session = true;
		return true;
	case CMD_END:
		if (c->session)
			return false;
		reply(c, "UNKNOWN COMMAND");
		return false;
	case CMD_DETSTATS:
	case CMD_DETSTATSCLEAR:
		return false; /* removed from clamd, which closes without a word */
	case CMD_EMPTY:
	case CMD_UNKNOWN:
	case CMD__COUNT:
		reply(c, "UNKNOWN COMMAND");
		return false;
	}
	return c->session && !c->dead;
}

static void serve_conn(struct cthread *t, int fd)
{
	struct conn *c = &t->c;
	c->fd = fd;
	c->eof = c->dead = c->session = false;
	c->start = c->end = 0;
	c->nfds = 0;
	c->id = 0;
	c->style = PROTO_OLD;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	socklen_t sl = sizeof ss;
	c->is_unix = getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_UNIX;
	bool first = true;
	for (unsigned long ncmd = 0; ncmd < WARDD_MAX_SESSION_COMMANDS && !c->dead; ncmd++) {
		set_state(t, -1);
		unsigned tmo = first ? conf->command_read_timeout : conf->idle_timeout;
		uint64_t deadline = now_ms() + (uint64_t)tmo * 1000u;
		struct proto_command pc;
		enum proto_status ps;
		for (;;) {
			ps = proto_parse(c->buf + c->start, c->end - c->start, c->eof,
					 WARDD_MAX_COMMAND, &pc);
			if (ps != PROTO_NEED_MORE)
				break;
			int r = conn_fill(c, deadline);
			if (r == -1) {
				/* clamd says so (always with '\n') when the first
				 * command does not come in time. */
				if (first)
					(void)conn_write(c, "COMMAND READ TIMED OUT\n", 23);
				goto done;
			}
			if (r < -1)
				goto done;
		}
		if (ps != PROTO_COMMAND)
			goto done; /* too long (clamd drops it too) or nothing */
		c->start += pc.consumed;
		first = false;
		if (!dispatch(t, &pc))
			break;
	}
done:
	for (size_t i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	c->nfds = 0;
	close(fd);
	set_state(t, -1);
}

static void *conn_main(void *arg)
{
	struct cthread *t = arg;
	for (;;) {
		int fd = queue_pop();
		if (fd < 0)
			break;
		atomic_fetch_add(&g_metrics.busy_threads, 1);
		serve_conn(t, fd);
		atomic_fetch_sub(&g_metrics.busy_threads, 1);
	}
	worker_stop(&t->w);
	return NULL;
}

/* ---- listeners ---- */

static int listen_unix_socket(const char *path, unsigned mode, unsigned backlog)
{
	struct sockaddr_un a;
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof a.sun_path) {
		log_kv(LOG_ERROR, "listen_failed", "reason=\"LocalSocket path too long\"");
		return -1;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		/* A stale socket (FixStaleSocket): remove it, unless a daemon
		 * still answers on it. */
		if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
			log_kv(LOG_ERROR, "listen_failed",
			       "reason=\"LocalSocket is in use by another daemon\"");
			close(fd);
			return -1;
		}
		close(fd);
		unlink(path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || chmod(path, mode) != 0 ||
	    listen(fd, (int)backlog) != 0) {
		log_kv(LOG_ERROR, "listen_failed", "socket=unix errno=%d", errno);
		close(fd);
		return -1;
	}
	return fd;
}

static int listen_tcp_socket(const char *addr, unsigned port, unsigned backlog)
{
	char ps[16];
	snprintf(ps, sizeof ps, "%u", port);
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(addr, ps, &hints, &res) != 0 || !res) {
		log_kv(LOG_ERROR, "listen_failed",
		       "socket=tcp reason=\"TCPAddr does not resolve\"");
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
	    listen(fd, (int)backlog) != 0) {
		log_kv(LOG_ERROR, "listen_failed", "socket=tcp port=%u errno=%d", port, errno);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

bool server_init(const struct wardd_conf *c)
{
	conf = c;
	if (pipe2(shutdown_pipe, O_CLOEXEC) != 0)
		return false;
	if (c->local_socket) {
		listen_unix = listen_unix_socket(c->local_socket, c->local_socket_mode, c->backlog);
		if (listen_unix < 0)
			return false;
	}
	if (c->tcp_port) {
		listen_tcp = listen_tcp_socket(c->tcp_addr, c->tcp_port, c->backlog);
		if (listen_tcp < 0)
			return false;
	}
	return true;
}

void server_request_shutdown(void)
{
	bool was = atomic_exchange(&shutting_down, true);
	if (!was)
		(void)!write(shutdown_pipe[1], "x", 1);
}

int server_shutdown_fd(void) { return shutdown_pipe[0]; }

int server_run(void)
{
	int rc = 0;
	nthreads = conf->max_threads;
	q.cap = conf->max_queue > conf->max_threads ? conf->max_queue - conf->max_threads : 1;
	q.fds = w_alloc_array(q.cap, sizeof(int));
	threads = w_calloc(nthreads, sizeof *threads);
	if (!q.fds || !threads) {
		log_kv(LOG_ERROR, "startup_failed", "reason=\"out of memory\"");
		w_free(q.fds);
		w_free(threads);
		return 1;
	}
	unsigned started = 0;
	for (unsigned i = 0; i < nthreads; i++) {
		threads[i].w.sock = -1;
		atomic_init(&threads[i].state, -1);
		atomic_init(&threads[i].since_ms, now_ms());
		if (pthread_create(&threads[i].tid, NULL, conn_main, &threads[i]) != 0)
			break;
		started++;
	}
	if (started < nthreads) {
		log_kv(LOG_ERROR, "startup_failed", "reason=\"cannot start threads\" started=%u",
		       started);
		rc = 1;
		nthreads = started;
		goto stop;
	}
	log_kv(LOG_INFO, "listening", "unix=%s tcp=%s:%u threads=%u queue=%zu",
	       conf->local_socket ? conf->local_socket : "-", conf->tcp_port ? conf->tcp_addr : "-",
	       conf->tcp_port, nthreads, q.cap);
	while (!atomic_load(&shutting_down)) {
		if (!queue_wait_room())
			break;
		struct pollfd pf[3] = {{shutdown_pipe[0], POLLIN, 0},
				       {listen_unix, POLLIN, 0},
				       {listen_tcp, POLLIN, 0}};
		int r = poll(pf, 3, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || pf[0].revents)
			break;
		for (int i = 1; i < 3; i++) {
			if (!(pf[i].revents & POLLIN))
				continue;
			int fd = accept4(pf[i].fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0) {
				if (errno == EMFILE || errno == ENFILE) {
					/* Out of descriptors: back off instead of spinning. */
					log_kv(LOG_WARN, "accept_failed", "errno=%d", errno);
					usleep(100000);
				}
				continue;
			}
			atomic_fetch_add(&g_metrics.connections, 1);
			if (!queue_wait_room()) {
				close(fd);
				break;
			}
			queue_push(fd);
		}
	}
stop:
	if (listen_unix >= 0) {
		close(listen_unix);
		unlink(conf->local_socket);
	}
	if (listen_tcp >= 0)
		close(listen_tcp);
	server_request_shutdown();
	queue_close();
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(threads[i].tid, NULL);
	w_free(threads);
	w_free(q.fds);
	threads = NULL;
	q.fds = NULL;
	return rc;
}
