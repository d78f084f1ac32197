/*
 * Privilege separation for `ward scan` (docs/internals/sandbox.md).
 *
 * The parent (scan.c) walks, opens files and prints; it never parses file
 * contents. Worker processes, forked after the database is loaded (so it is
 * shared copy-on-write), receive one open descriptor at a time over a unix
 * stream socket (SCM_RIGHTS), scan it, and answer with a compact result.
 * After creating its scanner a worker enters the seccomp sandbox: it can no
 * longer open, exec, or reach the network, only read what it is handed.
 *
 * Frames, both directions: a 4-byte length (host order: both ends are the
 * same program on the same machine) and that many payload bytes.
 *   hello   (worker): u8 1, u32 status, u8 sandboxed
 *   result  (worker): u8 2, u32 job, u32 status, u8 too_large, u64 bytes,
 *                     u64 ms, u32 files, u32 ndet, u32 nlim, u32 nerr, then
 *                     ndet x (str name, u8 has_inner [, str inner]),
 *                     nlim x str, nerr x str
 *   request (parent): u8 3, u32 job, str path; one descriptor attached
 * str: u32 length, the bytes, a NUL; no NUL inside.
 * The worker handles hostile files, so the parent parses its frames as
 * hostile: lengths capped (CLI_MAX_WORKER_MSG), every count checked against
 * the bytes actually present before anything is allocated, the buffer grown
 * only as bytes arrive, strings NUL-checked, trailing bytes refused.
 */
#define _GNU_SOURCE /* close_range, MSG_CMSG_CLOEXEC, strsignal */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ward/sandbox.h"

enum { MSG_HELLO = 1, MSG_RESULT = 2, MSG_REQUEST = 3 };

/* The worker's socket sits at this descriptor once everything else is closed. */
#define WORKER_SOCK_FD 3

/* ---- encoding (worker side; also the parent's requests) ---- */

/* A frame under construction; the 4 length bytes are reserved up front. */
struct enc {
	unsigned char *p;
	size_t len, alloc, cap;
	bool failed; /* allocation failed or cap reached */
};

static void enc_put(struct enc *e, const void *src, size_t n)
{
	if (e->failed)
		return;
	size_t need;
	if (__builtin_add_overflow(e->len, n, &need) || need > e->cap) {
		e->failed = true;
		return;
	}
	if (need > e->alloc) {
		size_t a = e->alloc ? e->alloc : 4096;
		while (a < need)
			a = a > e->cap / 2 ? e->cap : a * 2;
		unsigned char *q = realloc(e->p, a);
		if (!q) {
			e->failed = true;
			return;
		}
		e->p = q;
		e->alloc = a;
	}
	if (n == 0)
		return;
	if (!e->p) { /* cannot happen: alloc > 0 only with a buffer */
		e->failed = true;
		return;
	}
	memcpy(e->p + e->len, src, n);
	e->len = need;
}

static void enc_u8(struct enc *e, uint8_t v) { enc_put(e, &v, 1); }
static void enc_u32(struct enc *e, uint32_t v) { enc_put(e, &v, 4); }
static void enc_u64(struct enc *e, uint64_t v) { enc_put(e, &v, 8); }

static void enc_str(struct enc *e, const char *s)
{
	size_t n = strlen(s);
	if (n > UINT32_MAX - 1) {
		e->failed = true;
		return;
	}
	enc_u32(e, (uint32_t)n);
	enc_put(e, s, n + 1);
}

/* Start a frame: room for the length, filled in by enc_finish(). */
static void enc_begin(struct enc *e, size_t cap)
{
	e->len = 0;
	e->failed = false;
	e->cap = cap + 4;
	enc_u32(e, 0);
}

static bool enc_finish(struct enc *e)
{
	if (e->failed || e->len < 4)
		return false;
	uint32_t n = (uint32_t)(e->len - 4);
	memcpy(e->p, &n, 4);
	return true;
}

/* ---- decoding (parent side; also the worker's requests) ---- */

struct dec {
	const unsigned char *p;
	size_t len, off;
	bool bad;
};

static bool dec_take(struct dec *d, void *dst, size_t n)
{
	if (d->bad || n > d->len - d->off) {
		d->bad = true;
		return false;
	}
	memcpy(dst, d->p + d->off, n);
	d->off += n;
	return true;
}

static uint8_t dec_u8(struct dec *d)
{
	uint8_t v = 0;
	dec_take(d, &v, 1);
	return v;
}

static uint32_t dec_u32(struct dec *d)
{
	uint32_t v = 0;
	dec_take(d, &v, 4);
	return v;
}

static uint64_t dec_u64(struct dec *d)
{
	uint64_t v = 0;
	dec_take(d, &v, 8);
	return v;
}

/* A string in place: length, bytes, NUL; returns NULL (and marks bad) when it
 * does not fit, lacks its NUL or holds one inside. */
static const char *dec_str(struct dec *d)
{
	uint32_t n = dec_u32(d);
	if (d->bad || n >= d->len - d->off) { /* n bytes + NUL must fit */
		d->bad = true;
		return NULL;
	}
	const char *s = (const char *)d->p + d->off;
	if (s[n] != '\0' || memchr(s, '\0', n)) {
		d->bad = true;
		return NULL;
	}
	d->off += (size_t)n + 1;
	return s;
}

/* Smallest encoding of one item: a count can be at most remaining / this,
 * checked before any allocation so a declared count cannot drive one. */
#define MIN_STR_BYTES 5u /* u32 length + NUL */
#define MIN_DET_BYTES (MIN_STR_BYTES + 1u)

static bool count_fits(const struct dec *d, uint32_t n, size_t min_bytes)
{
	return !d->bad && n <= (d->len - d->off) / min_bytes;
}

void ps_result_free(struct ps_result *r)
{
	free(r->dets);
	free(r->limits);
	free(r->errors);
	memset(r, 0, sizeof *r);
}

static bool decode_result(struct dec *d, struct ps_result *r)
{
	memset(r, 0, sizeof *r);
	r->job = dec_u32(d);
	uint32_t status = dec_u32(d);
	uint8_t too_large = dec_u8(d);
	r->rep.bytes_scanned = dec_u64(d);
	r->ms = dec_u64(d);
	r->rep.files_scanned = dec_u32(d);
	uint32_t ndet = dec_u32(d), nlim = dec_u32(d), nerr = dec_u32(d);
	if (d->bad || status >= WARD_ERR_COUNT || too_large > 1)
		return false;
	r->status = (ward_err)status;
	r->too_large = too_large;
	if (!count_fits(d, ndet, MIN_DET_BYTES))
		return false;
	if (ndet) {
		r->dets = calloc(ndet, sizeof *r->dets);
		if (!r->dets)
			goto bad;
	}
	for (uint32_t i = 0; i < ndet; i++) {
		r->dets[i].name = dec_str(d);
		uint8_t has_inner = dec_u8(d);
		if (d->bad || has_inner > 1)
			goto bad;
		r->dets[i].inner_path = has_inner ? dec_str(d) : NULL;
	}
	if (!count_fits(d, nlim, MIN_STR_BYTES))
		goto bad;
	if (nlim) {
		r->limits = calloc(nlim, sizeof *r->limits);
		if (!r->limits)
			goto bad;
	}
	for (uint32_t i = 0; i < nlim; i++)
		r->limits[i] = dec_str(d);
	if (!count_fits(d, nerr, MIN_STR_BYTES))
		goto bad;
	if (nerr) {
		r->errors = calloc(nerr, sizeof *r->errors);
		if (!r->errors)
			goto bad;
	}
	for (uint32_t i = 0; i < nerr; i++)
		r->errors[i] = dec_str(d);
	/* Every byte accounted for: trailing data means a confused or hostile
	 * worker. */
	if (d->bad || d->off != d->len)
		goto bad;
	r->rep.ndetections = ndet;
	r->rep.detections = r->dets;
	r->rep.nlimits = nlim;
	r->rep.limits = r->limits;
	r->rep.nerrors = nerr;
	r->rep.errors = r->errors;
	return true;
bad:
	ps_result_free(r);
	return false;
}

/* ---- worker process ---- */

static bool send_all(int fd, const void *p, size_t n)
{
	const unsigned char *b = p;
	while (n) {
		ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		b += k;
		n -= (size_t)k;
	}
	return true;
}

/* Read exactly n bytes, collecting at most one passed descriptor into *fd
 * (extra descriptors are closed and make it fail). 0 on EOF before anything. */
static int recv_exact(int sock, void *dst, size_t n, int *fd)
{
	unsigned char *b = dst;
	size_t got = 0;
	while (got < n) {
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int) * 4)];
		} cbuf;
		struct iovec iov = {.iov_base = b + got, .iov_len = n - got};
		struct msghdr m = {.msg_iov = &iov,
				   .msg_iovlen = 1,
				   .msg_control = cbuf.buf,
				   .msg_controllen = sizeof cbuf.buf};
		ssize_t k = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		bool extra = (m.msg_flags & MSG_CTRUNC) != 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < nfd; i++) {
				int f;
				memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
				if (*fd < 0) {
					*fd = f;
				} else {
					close(f);
					extra = true;
				}
			}
		}
		if (extra)
			return -1;
		if (k == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)k;
	}
	return 1;
}

static bool base_is(const char *path, const char *name)
{
	if (!name || !*name)
		return false;
	const char *slash = strrchr(path, '/');
	return !strcmp(slash ? slash + 1 : path, name);
}

/* Test-only hooks, reachable only through environment variables that
 * tests/cli/test_sandbox.sh sets (read once, before the sandbox):
 *   WARD_TEST_FORBIDDEN_SYSCALL=NAME  the worker scanning a file whose base
 *       name is NAME calls socket(2) first. Sandboxed, that kills the worker
 *       (SIGSYS) and proves the filter; with --no-sandbox the call succeeds,
 *       the socket is closed and the file is scanned normally.
 *   WARD_TEST_WORKER_HANG=NAME        the worker spins instead of scanning
 *       NAME, so the parent's watchdog has something to stop.
 *   WARD_TEST_WORKER_BADMSG=NAME      the worker answers NAME with a hostile
 *       frame instead of the result (WARD_TEST_WORKER_BADMSG_KIND: 0 a length
 *       past the cap, 1 a detection count larger than the bytes sent, 2 a
 *       result for another job, 3 trailing bytes), so the test can check that
 *       the parent refuses it. */
struct hooks {
	const char *forbidden_syscall;
	const char *hang;
	const char *badmsg;
	const char *badmsg_kind;
};

/* Returns true when it sent a hostile frame in place of the result. */
static bool hook_badmsg(const struct hooks *h, const char *path, int sock, uint32_t job,
			struct enc *e)
{
	if (!base_is(path, h->badmsg))
		return false;
	int kind = h->badmsg_kind ? h->badmsg_kind[0] - '0' : 0;
	if (kind == 0) {
		unsigned char raw[8] = {0};
		uint32_t huge = CLI_MAX_WORKER_MSG + 1u;
		memcpy(raw, &huge, 4);
		(void)send_all(sock, raw, sizeof raw);
		return true;
	}
	enc_begin(e, 256);
	{
		enc_u8(e, MSG_RESULT);
		enc_u32(e, kind == 2 ? job + 1000u : job);
		enc_u32(e, 0);
		enc_u8(e, 0);
		enc_u64(e, 1);
		enc_u64(e, 1);
		enc_u32(e, 1);
		enc_u32(e, kind == 1 ? 0x10000000u : 0); /* ndet */
		enc_u32(e, 0);
		enc_u32(e, 0);
		if (kind == 3)
			enc_put(e, "junk", 4);
	}
	if (enc_finish(e))
		(void)send_all(sock, e->p, e->len);
	return true;
}

static void run_hooks(const struct hooks *h, const char *path)
{
	if (base_is(path, h->forbidden_syscall)) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s >= 0)
			close(s);
	}
	if (base_is(path, h->hang))
		for (;;) {
			struct timespec t = {.tv_sec = 1};
			clock_nanosleep(CLOCK_MONOTONIC, 0, &t, NULL);
		}
}

static void encode_result(struct enc *e, uint32_t job, ward_err status, const ward_report *r,
			  uint64_t ms, bool too_large)
{
	enc_begin(e, CLI_MAX_WORKER_MSG);
	enc_u8(e, MSG_RESULT);
	enc_u32(e, job);
	enc_u32(e, (uint32_t)status);
	enc_u8(e, too_large);
	enc_u64(e, r ? r->bytes_scanned : 0);
	enc_u64(e, ms);
	static const ward_report none;
	if (!r)
		r = &none; /* no report (the scan failed): encode empty lists */
	enc_u32(e, r->files_scanned);
	size_t ndet = r->ndetections, nlim = r->nlimits, nerr = r->nerrors;
	if (ndet > UINT32_MAX || nlim > UINT32_MAX || nerr > UINT32_MAX) {
		e->failed = true;
		return;
	}
	enc_u32(e, (uint32_t)ndet);
	enc_u32(e, (uint32_t)nlim);
	enc_u32(e, (uint32_t)nerr);
	for (size_t i = 0; i < ndet; i++) {
		enc_str(e, r->detections[i].name ? r->detections[i].name : "");
		enc_u8(e, r->detections[i].inner_path != NULL);
		if (r->detections[i].inner_path)
			enc_str(e, r->detections[i].inner_path);
	}
	for (size_t i = 0; i < nlim; i++)
		enc_str(e, r->limits[i] ? r->limits[i] : "");
	for (size_t i = 0; i < nerr; i++)
		enc_str(e, r->errors[i] ? r->errors[i] : "");
}

/* Only descriptors 0-2 (0 and 1 on /dev/null) and the socket survive: the
 * other workers' sockets and anything the parent held are not ours. */
static bool isolate_fds(int sock)
{
	int s = fcntl(sock, F_DUPFD_CLOEXEC, 10);
	if (s < 0)
		return false;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
	}
	if (dup2(s, WORKER_SOCK_FD) != WORKER_SOCK_FD)
		return false;
	if (close_range(WORKER_SOCK_FD + 1, ~0u, 0) != 0) {
		long max = sysconf(_SC_OPEN_MAX);
		if (max < 0 || max > 65536)
			max = 65536;
		for (int fd = WORKER_SOCK_FD + 1; fd < max; fd++)
			close(fd);
	}
	return true;
}

static void worker_main(int sock_in, pid_t parent, const struct ps_config *c)
	__attribute__((noreturn));
static void worker_main(int sock_in, pid_t parent, const struct ps_config *c)
{
	/* Die with the parent; and if it is already gone, do not serve. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	prctl(PR_SET_NAME, "ward-worker");
	if (!isolate_fds(sock_in))
		_exit(3);
	int sock = WORKER_SOCK_FD;
	struct hooks hooks = {getenv("WARD_TEST_FORBIDDEN_SYSCALL"),
			      getenv("WARD_TEST_WORKER_HANG"), getenv("WARD_TEST_WORKER_BADMSG"),
			      getenv("WARD_TEST_WORKER_BADMSG_KIND")};
	struct enc e = {0};
	ward_scanner *scanner = NULL;
	ward_err status = ward_scanner_new(c->db, c->limits, c->scan_flags, &scanner);
	bool sandboxed = false;
	if (status == WARD_OK && c->sandbox) {
		status = ward_sandbox_enter(sock, 0);
		sandboxed = status == WARD_OK;
	}
	enc_begin(&e, 16);
	enc_u8(&e, MSG_HELLO);
	enc_u32(&e, (uint32_t)status);
	enc_u8(&e, sandboxed);
	if (!enc_finish(&e) || !send_all(sock, e.p, e.len) || status != WARD_OK)
		_exit(status == WARD_OK ? 4 : 5);

	char path[CLI_MAX_REQUEST_MSG + 1];
	for (;;) {
		uint32_t n = 0;
		int fd = -1;
		int rc = recv_exact(sock, &n, 4, &fd);
		if (rc == 0 && fd < 0)
			break; /* the parent is done with us */
		if (rc < 0 || n < 10 || n > CLI_MAX_REQUEST_MSG ||
		    recv_exact(sock, path, n, &fd) <= 0 || fd < 0)
			_exit(6);
		struct dec d = {.p = (const unsigned char *)path, .len = n};
		uint8_t type = dec_u8(&d);
		uint32_t job = dec_u32(&d);
		const char *name = dec_str(&d);
		if (d.bad || type != MSG_REQUEST || d.off != d.len)
			_exit(6);
		run_hooks(&hooks, name);
		if (hook_badmsg(&hooks, name, sock, job, &e)) {
			close(fd);
			continue;
		}
		const ward_report *r = NULL;
		uint64_t t0 = cli_now_ms();
		ward_err se = ward_scanner_scan_fd(scanner, fd, name, &r);
		uint64_t ms = cli_now_ms() - t0;
		close(fd);
		if (se == WARD_OK && !r)
			se = WARD_EINTERNAL;
		encode_result(&e, job, se, se == WARD_OK ? r : NULL, ms, false);
		if (!enc_finish(&e)) {
			/* Too many names to fit: say so rather than drop some. */
			encode_result(&e, job, se, NULL, ms, true);
			if (!enc_finish(&e))
				_exit(7);
		}
		if (!send_all(sock, e.p, e.len))
			_exit(8);
	}
	ward_scanner_free(scanner);
	free(e.p);
	/* _exit: the parent's atexit handlers and stdio are not ours to run
	 * (and a sanitizer's exit-time leak check needs calls the sandbox
	 * forbids). */
	_exit(0);
}

/* ---- parent side ---- */

bool ps_spawn(struct ps_worker *w, const struct ps_config *c)
{
	int sv[2];
	memset(w, 0, sizeof *w);
	w->sock = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return false;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		close(sv[0]);
		close(sv[1]);
		errno = err;
		return false;
	}
	if (pid == 0) {
		close(sv[0]);
		worker_main(sv[1], parent, c);
	}
	close(sv[1]);
	int fl = fcntl(sv[0], F_GETFL);
	if (fl >= 0)
		(void)fcntl(sv[0], F_SETFL, fl | O_NONBLOCK);
	w->pid = (int)pid;
	w->sock = sv[0];
	return true;
}

bool ps_send_job(struct ps_worker *w, uint32_t job, int fd, const char *path)
{
	struct enc e = {0};
	enc_begin(&e, CLI_MAX_REQUEST_MSG);
	enc_u8(&e, MSG_REQUEST);
	enc_u32(&e, job);
	enc_str(&e, path);
	bool ok = false;
	if (!enc_finish(&e) || w->sock < 0)
		goto out;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	memset(&cbuf, 0, sizeof cbuf);
	struct iovec iov = {.iov_base = e.p, .iov_len = e.len};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cbuf.buf,
			   .msg_controllen = sizeof cbuf.buf};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	ssize_t k;
	do
		k = sendmsg(w->sock, &m, MSG_NOSIGNAL);
	while (k < 0 && errno == EINTR);
	/* A request is far below the socket buffer and a worker holds at most
	 * CLI_WORKER_QUEUE of them, so a short send means a broken worker. */
	ok = k == (ssize_t)e.len;
out:
	free(e.p);
	return ok;
}

static bool rbuf_append(struct ps_worker *w, const unsigned char *p, size_t n)
{
	size_t need = w->rlen + n; /* both bounded by 4 + CLI_MAX_WORKER_MSG */
	if (need > w->ralloc) {
		size_t a = w->ralloc ? w->ralloc : 4096;
		while (a < need)
			a *= 2;
		unsigned char *q = realloc(w->rbuf, a);
		if (!q)
			return false;
		w->rbuf = q;
		w->ralloc = a;
	}
	memcpy(w->rbuf + w->rlen, p, n);
	w->rlen = need;
	return true;
}

enum ps_frame_kind ps_read(struct ps_worker *w, ward_err *hello_status, struct ps_result *res)
{
	unsigned char chunk[65536];
	for (;;) {
		/* Read no further than the end of the current frame, so the
		 * buffer holds at most one: 4 bytes of length, then the payload
		 * that length announced (capped before a byte of it is read). */
		size_t want;
		uint32_t plen = 0;
		if (w->rlen < 4) {
			want = 4 - w->rlen;
		} else {
			memcpy(&plen, w->rbuf, 4);
			want = 4 + (size_t)plen - w->rlen;
		}
		if (want > sizeof chunk)
			want = sizeof chunk;
		if (want == 0)
			break;
		ssize_t k = read(w->sock, chunk, want);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return PS_NONE;
		if (k <= 0)
			return PS_EOF;
		if (!rbuf_append(w, chunk, (size_t)k))
			return PS_BAD;
		if (w->rlen == 4) {
			memcpy(&plen, w->rbuf, 4);
			if (plen == 0 || plen > CLI_MAX_WORKER_MSG)
				return PS_BAD;
		}
	}
	struct dec d = {.p = w->rbuf + 4, .len = w->rlen - 4};
	uint8_t type = dec_u8(&d);
	if (type == MSG_HELLO) {
		uint32_t st = dec_u32(&d);
		uint8_t sandboxed = dec_u8(&d);
		if (d.bad || d.off != d.len || st >= WARD_ERR_COUNT || sandboxed > 1)
			return PS_BAD;
		*hello_status = (ward_err)st;
		return PS_HELLO;
	}
	if (type == MSG_RESULT && decode_result(&d, res))
		return PS_RESULT;
	return PS_BAD;
}

void ps_frame_done(struct ps_worker *w)
{
	w->rlen = 0;
	/* A rare large result should not pin megabytes per worker for the
	 * rest of the scan. */
	if (w->ralloc > 65536) {
		free(w->rbuf);
		w->rbuf = NULL;
		w->ralloc = 0;
	}
}

void ps_free(struct ps_worker *w)
{
	free(w->rbuf);
	w->rbuf = NULL;
	w->rlen = w->ralloc = 0;
}

bool ps_reap(struct ps_worker *w, bool kill_first, char *why, size_t whylen, int *sig)
{
	bool signalled = false;
	*sig = 0;
	if (w->sock >= 0) {
		close(w->sock);
		w->sock = -1;
	}
	if (w->pid > 0) {
		if (kill_first)
			kill(w->pid, SIGKILL);
		int st = 0;
		pid_t r;
		do
			r = waitpid(w->pid, &st, 0);
		while (r < 0 && errno == EINTR);
		if (r == w->pid && WIFSIGNALED(st)) {
			signalled = true;
			*sig = WTERMSIG(st);
			const char *name = strsignal(*sig);
			snprintf(why, whylen, "killed by signal %d (%s)", *sig, name ? name : "?");
		} else if (r == w->pid && WIFEXITED(st)) {
			snprintf(why, whylen, "exited unexpectedly (status %d)", WEXITSTATUS(st));
		} else {
			snprintf(why, whylen, "vanished");
		}
		w->pid = 0;
	} else {
		snprintf(why, whylen, "not running");
	}
	/* The worker is gone; ps_spawn() starts its successor from a zeroed
	 * slot, so the receive buffer must go with it. */
	ps_free(w);
	return signalled;
}
