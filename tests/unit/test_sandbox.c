/*
 * ward_sandbox_enter(): each case forks a child that enters the sandbox and
 * tries one thing; the parent checks how the child ended. Allowed calls must
 * work (exit 0); forbidden ones must kill the child with SIGSYS before they
 * take effect (the file that open() would have created must not exist).
 * Skipped where the kernel or the build lacks seccomp.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ward/sandbox.h"

/* Descriptors made before the sandbox, shared with the child. */
struct fixture {
	int ipc[2]; /* ipc[1] is the child's socket to us */
	int pipe_r, pipe_w;
	int ro_fd;    /* a regular file opened read-only */
	char dir[64]; /* scratch directory */
};

static struct fixture fx;

/* Exit codes of the child other than by signal. */
enum { CHILD_OK = 0, CHILD_ENTER_FAILED = 100, CHILD_CHECK_FAILED = 101 };

typedef int (*child_fn)(void);

/* Run fn in a sandboxed child; return its wait status. */
static int run_sandboxed(child_fn fn)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (ward_sandbox_enter(fx.ipc[1], 0) != WARD_OK)
			_exit(CHILD_ENTER_FAILED);
		_exit(fn());
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void expect_exit_ok(int st)
{
	if (WIFSIGNALED(st))
		fail_msg("child killed by signal %d", WTERMSIG(st));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), CHILD_OK);
}

static void expect_sigsys(int st)
{
	if (WIFEXITED(st))
		fail_msg("child exited with %d, expected SIGSYS", WEXITSTATUS(st));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

/* ---- children ---- */

static int child_allowed(void)
{
	/* memory: small (brk) and large (mmap) allocations, mprotect without
	 * exec */
	char *small = malloc(100);
	char *big = malloc(64u << 20);
	if (!small || !big)
		return CHILD_CHECK_FAILED;
	memset(big, 1, 64u << 20);
	free(big);
	free(small);
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m, 4096, PROT_READ) != 0 || munmap(m, 4096) != 0)
		return CHILD_CHECK_FAILED;
	/* reading descriptors held before the sandbox */
	char buf[16];
	if (read(fx.pipe_r, buf, 5) != 5 || memcmp(buf, "hello", 5))
		return CHILD_CHECK_FAILED;
	struct stat st;
	if (fstat(fx.ro_fd, &st) != 0 || st.st_size != 7)
		return CHILD_CHECK_FAILED;
	if (pread(fx.ro_fd, buf, 7, 0) != 7 || memcmp(buf, "content", 7))
		return CHILD_CHECK_FAILED;
	if (lseek(fx.ro_fd, 2, SEEK_SET) != 2 || read(fx.ro_fd, buf, 2) != 2)
		return CHILD_CHECK_FAILED;
	/* a read-only mapping of a held file (how the scanner reads) */
	void *fm = mmap(NULL, 7, PROT_READ, MAP_PRIVATE, fx.ro_fd, 0);
	if (fm == MAP_FAILED || munmap(fm, 7) != 0)
		return CHILD_CHECK_FAILED;
	/* clocks, randomness, time zone (preloaded by ward_sandbox_enter) */
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return CHILD_CHECK_FAILED;
	time_t now = time(NULL);
	struct tm tm;
	if (!localtime_r(&now, &tm) || mktime(&tm) == (time_t)-1)
		return CHILD_CHECK_FAILED;
	unsigned char r[8];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return CHILD_CHECK_FAILED;
	/* the one socket: write, send, close a received-style descriptor */
	if (write(fx.ipc[1], "w", 1) != 1 || send(fx.ipc[1], "s", 1, MSG_NOSIGNAL) != 1)
		return CHILD_CHECK_FAILED;
	if (close(fx.pipe_r) != 0)
		return CHILD_CHECK_FAILED;
	return CHILD_OK;
}

static int child_open_for_writing(void)
{
	char path[128];
	snprintf(path, sizeof path, "%s/created", fx.dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	return fd >= 0 ? CHILD_CHECK_FAILED : CHILD_OK + 1;
}

static int child_open_read_only(void)
{
	int fd = open("/etc/passwd", O_RDONLY);
	return fd >= 0 ? CHILD_CHECK_FAILED : CHILD_OK + 1;
}

static int child_execve(void)
{
	char *argv[] = {(char *)"/bin/true", NULL};
	char *envp[] = {NULL};
	execve("/bin/true", argv, envp);
	return CHILD_CHECK_FAILED;
}

static int child_socket(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	return s >= 0 ? CHILD_CHECK_FAILED : CHILD_OK + 1;
}

static int child_mmap_exec(void)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return m != MAP_FAILED ? CHILD_CHECK_FAILED : CHILD_OK + 1;
}

static int child_mprotect_exec(void)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return CHILD_CHECK_FAILED;
	return mprotect(m, 4096, PROT_READ | PROT_EXEC) == 0 ? CHILD_CHECK_FAILED : CHILD_OK + 1;
}

static int child_write_other_fd(void)
{
	/* A descriptor open for writing before the sandbox still cannot be
	 * written: only the socket to the parent can. */
	return write(fx.pipe_w, "x", 1) == 1 ? CHILD_CHECK_FAILED : CHILD_OK + 1;
}

static int child_fork(void)
{
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	return p > 0 ? CHILD_CHECK_FAILED : CHILD_OK + 1;
}

static int child_kill_parent(void)
{
	return kill(getppid(), 0) == 0 ? CHILD_CHECK_FAILED : CHILD_OK + 1;
}

static int child_abort(void) { abort(); }

/* ---- tests ---- */

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof fx);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fx.ipc) != 0)
		return -1;
	snprintf(fx.dir, sizeof fx.dir, "/tmp/ward_sandbox_XXXXXX");
	if (!mkdtemp(fx.dir))
		return -1;
	char path[128];
	snprintf(path, sizeof path, "%s/ro", fx.dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "content", 7) != 7)
		return -1;
	close(fd);
	fx.ro_fd = open(path, O_RDONLY);
	return fx.ro_fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/ro", fx.dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/created", fx.dir);
	unlink(path);
	rmdir(fx.dir);
	close(fx.ro_fd);
	close(fx.ipc[0]);
	close(fx.ipc[1]);
	return 0;
}

#define SKIP_UNSUPPORTED() \
	do { \
		if (!ward_sandbox_supported()) { \
			print_message("seccomp not available here: skipped\n"); \
			skip(); \
		} \
	} while (0)

static void test_bad_flags(void **state)
{
	(void)state;
	/* Refused before anything is installed: this process stays free. */
	assert_int_equal(ward_sandbox_enter(-1, 0x80u), WARD_EINVAL);
	int fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	close(fd);
}

static void test_allowed_calls_work(void **state)
{
	(void)state;
	SKIP_UNSUPPORTED();
	int p[2];
	assert_int_equal(pipe(p), 0);
	fx.pipe_r = p[0];
	fx.pipe_w = p[1];
	assert_int_equal(write(p[1], "hello", 5), 5);
	expect_exit_ok(run_sandboxed(child_allowed));
	char got[2];
	assert_int_equal(read(fx.ipc[0], got, 2), 2);
	assert_memory_equal(got, "ws", 2);
	close(p[0]);
	close(p[1]);
}

static void test_open_for_writing_kills(void **state)
{
	(void)state;
	SKIP_UNSUPPORTED();
	expect_sigsys(run_sandboxed(child_open_for_writing));
	/* Killed before the call took effect: nothing was created. */
	char path[128];
	snprintf(path, sizeof path, "%s/created", fx.dir);
	struct stat st;
	assert_int_not_equal(stat(path, &st), 0);
}

static void test_open_read_only_kills(void **state)
{
	(void)state;
	SKIP_UNSUPPORTED();
	expect_sigsys(run_sandboxed(child_open_read_only));
}

static void test_exec_kills(void **state)
{
	(void)state;
	SKIP_UNSUPPORTED();
	expect_sigsys(run_sandboxed(child_execve));
}

static void test_network_kills(void **state)
{
	(void)state;
	SKIP_UNSUPPORTED();
	expect_sigsys(run_sandboxed(child_socket));
}

static void test_exec_memory_kills(void **state)
{
	(void)state;
	SKIP_UNSUPPORTED();
	expect_sigsys(run_sandboxed(child_mmap_exec));
	expect_sigsys(run_sandboxed(child_mprotect_exec));
}

static void test_write_other_fd_kills(void **state)
{
	(void)state;
	SKIP_UNSUPPORTED();
	int p[2];
	assert_int_equal(pipe(p), 0);
	fx.pipe_r = p[0];
	fx.pipe_w = p[1];
	expect_sigsys(run_sandboxed(child_write_other_fd));
	close(p[0]);
	close(p[1]);
}

static void test_fork_and_kill_kill(void **state)
{
	(void)state;
	SKIP_UNSUPPORTED();
	expect_sigsys(run_sandboxed(child_fork));
	expect_sigsys(run_sandboxed(child_kill_parent));
}

static void test_abort_is_sigabrt(void **state)
{
	(void)state;
	SKIP_UNSUPPORTED();
	/* A failed assertion in a sandboxed worker must still read as one. */
	int st = run_sandboxed(child_abort);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_flags),
		cmocka_unit_test(test_allowed_calls_work),
		cmocka_unit_test(test_open_for_writing_kills),
		cmocka_unit_test(test_open_read_only_kills),
		cmocka_unit_test(test_exec_kills),
		cmocka_unit_test(test_network_kills),
		cmocka_unit_test(test_exec_memory_kills),
		cmocka_unit_test(test_write_other_fd_kills),
		cmocka_unit_test(test_fork_and_kill_kill),
		cmocka_unit_test(test_abort_is_sigabrt),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
