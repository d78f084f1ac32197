/*
 * seccomp-BPF sandbox for scanning processes (include/ward/sandbox.h).
 *
 * Default action: kill the process. The allow list is the smallest set that
 * let the real scans (tests/cli, tests/diff, clamav-testfiles, the official
 * signature sets) run, found by running them under the filter with
 * SCMP_ACT_LOG and under strace -f; docs/internals/sandbox.md has the method.
 * Rules are written by name so libseccomp maps them for the running
 * architecture; a name the architecture lacks (fstat on aarch64) is skipped.
 */
#define _GNU_SOURCE /* AT_EMPTY_PATH */
/* libseccomp's SCMP_A0()..SCMP_A5() initialisers leave out datum_b for the
 * one-operand comparisons; clang's -Wmissing-field-initializers (part of
 * -Wextra) flags every use. The omission is libseccomp's documented form. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wmissing-field-initializers"
#endif
#include "ward/sandbox.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <langinfo.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <time.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifdef WARD_HAVE_SECCOMP
#include <seccomp.h>
#endif

#ifdef WARD_ASAN
#define SANDBOX_ASAN 1
#endif

bool ward_sandbox_supported(void)
{
#ifdef WARD_HAVE_SECCOMP
	/* EINVAL: a kernel built without CONFIG_SECCOMP. 0 or 2 (already under
	 * a filter, e.g. a container's) both allow adding ours. */
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0)
		return false;
	/* Filter mode probe (OpenSSH's trick): with a NULL program the kernel
	 * answers EFAULT when it knows SECCOMP_MODE_FILTER, EINVAL when not. */
	errno = 0;
	if (prctl(PR_SET_SECCOMP, 2 /* SECCOMP_MODE_FILTER */, NULL, 0, 0) == 0)
		return true; /* cannot happen with NULL; be conservative anyway */
	return errno == EFAULT;
#else
	return false;
#endif
}

#ifdef WARD_HAVE_SECCOMP

/* Add one allow rule; a system call this architecture does not have is
 * skipped (libseccomp answers with a negative pseudo number). */
static int allow(scmp_filter_ctx ctx, const char *name, unsigned nargs,
		 const struct scmp_arg_cmp *args)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR || nr < 0)
		return 0;
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, nargs, args);
}

/* One argument comparison with every field set (libseccomp's SCMP_A*
 * macros leave datum_b out, which clang's -Wmissing-field-initializers
 * flags). */
static struct scmp_arg_cmp cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
	struct scmp_arg_cmp c = {.arg = arg, .op = op, .datum_a = a, .datum_b = b};
	return c;
}

static int allow0(scmp_filter_ctx ctx, const char *name) { return allow(ctx, name, 0, NULL); }

static int allow1(scmp_filter_ctx ctx, const char *name, struct scmp_arg_cmp a)
{
	return allow(ctx, name, 1, &a);
}

/* System calls with no argument worth checking: they touch only this
 * process's memory, clocks or descriptors it already holds. */
static const char *const plain_calls[] = {
	"read",         "readv",           "pread64",        "lseek",
	"fstat",        "munmap",          "mremap",         "madvise",
	"brk",          "futex",           "sched_yield",    "clock_gettime",
	"clock_getres", "gettimeofday",    "time",           "clock_nanosleep",
	"getrandom",    "close",           "exit",           "exit_group",
	"rt_sigreturn", "restart_syscall", "rt_sigprocmask", "getpid",
	"gettid",
};

#ifdef SANDBOX_ASAN
/* AddressSanitizer's runtime: its allocator and shadow memory (mmap with
 * MAP_FIXED/MAP_NORESERVE pass the PROT_EXEC check anyway), its per-thread
 * alternate signal stack, and the checks it does on the way out. Only in
 * sanitizer builds; the release filter never has these. */
static const char *const asan_calls[] = {
	"sigaltstack", "rt_sigaction",      "prctl",   "getrlimit",
	"prlimit64",   "sched_getaffinity", "getppid",
};
#endif

/* Data the C library loads from files on first use. Once the filter is in,
 * no file can be opened, so load it now and make sure it stays loaded:
 * - the time zone: libarchive turns member times into time_t with mktime(),
 *   which reads /etc/localtime on first use and, with TZ unset, stat()s it
 *   again on every call. With TZ naming the same file glibc sees an unchanged
 *   setting and reuses what it loaded.
 * - character set conversion: libarchive converts member names with iconv(3)
 *   (UTF-16 names in 7z, RAR and Joliet; the locale's set to UTF-8 for
 *   reports); glibc loads its module cache and a module on the first
 *   iconv_open() of a pair and may unload a module no one holds. The pairs
 *   libarchive uses for the formats Ward enables are opened here and never
 *   closed, which keeps their modules loaded. A conversion outside this list
 *   (a hostile archive naming another character set) would need a file: the
 *   worker is killed and the file reported, never silently skipped.
 */
static void preload_runtime(void)
{
	if (!getenv("TZ"))
		(void)setenv("TZ", ":/etc/localtime", 0);
	tzset();
	static const char *const from_to[][2] = {
		{"UTF-16LE", NULL}, {"UTF-16BE", NULL},    {NULL, "UTF-8"},
		{"UTF-8", NULL},    {"UTF-16LE", "UTF-8"}, {"UTF-16BE", "UTF-8"},
	};
	static iconv_t pinned[sizeof from_to / sizeof from_to[0]];
	static bool done;
	if (done)
		return;
	done = true;
	const char *locale_set = nl_langinfo(CODESET);
	for (size_t i = 0; i < sizeof from_to / sizeof from_to[0]; i++)
		pinned[i] = iconv_open(from_to[i][1] ? from_to[i][1] : locale_set,
				       from_to[i][0] ? from_to[i][0] : locale_set);
	(void)pinned; /* held, never used: holding is the point */

	(void)OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	const EVP_MD *mds[] = {EVP_md5(), EVP_sha1(), EVP_sha256()};
	for (size_t i = 0; i < sizeof mds / sizeof mds[0]; i++) {
		unsigned char out[EVP_MAX_MD_SIZE];
		unsigned int n = 0;
		(void)EVP_Digest("", 0, out, &n, mds[i], NULL);
	}
}

static ward_err build_and_load(int ipc_fd, unsigned flags)
{
	ward_err err = WARD_EINTERNAL;
	/* KILL_PROCESS (kernel 4.14, API level 3) ends every thread at once;
	 * older stacks only kill the offending thread, which for our
	 * single-threaded workers is the same. */
	uint32_t kill = seccomp_api_get() >= 3 ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_KILL;
	scmp_filter_ctx ctx = seccomp_init(kill);
	if (!ctx)
		return WARD_ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < sizeof plain_calls / sizeof plain_calls[0]; i++)
		rc |= allow0(ctx, plain_calls[i]);
#ifdef SANDBOX_ASAN
	for (size_t i = 0; i < sizeof asan_calls / sizeof asan_calls[0]; i++)
		rc |= allow0(ctx, asan_calls[i]);
#endif
	/* fstat() is fstatat(fd, "", st, AT_EMPTY_PATH) in current glibc. */
	rc |= allow1(ctx, "newfstatat", cmp(3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
	rc |= allow1(ctx, "fstatat64", cmp(3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
	rc |= allow1(ctx, "statx", cmp(2, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
	/* No new executable memory: an exploit cannot map shellcode. */
	rc |= allow1(ctx, "mmap", cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	rc |= allow1(ctx, "mmap2", cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	rc |= allow1(ctx, "mprotect", cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* abort() signals itself; no other process can be signalled. */
	rc |= allow1(ctx, "tgkill", cmp(0, SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0));
	if (ipc_fd >= 0) {
		scmp_datum_t fd = (scmp_datum_t)ipc_fd;
		rc |= allow1(ctx, "write", cmp(0, SCMP_CMP_EQ, fd, 0));
		rc |= allow1(ctx, "sendmsg", cmp(0, SCMP_CMP_EQ, fd, 0));
		rc |= allow1(ctx, "recvmsg", cmp(0, SCMP_CMP_EQ, fd, 0));
		rc |= allow1(ctx, "recvfrom", cmp(0, SCMP_CMP_EQ, fd, 0));
		/* send() is sendto() without an address: no datagram elsewhere. */
		struct scmp_arg_cmp to[2] = {cmp(0, SCMP_CMP_EQ, fd, 0), cmp(4, SCMP_CMP_EQ, 0, 0)};
		rc |= allow(ctx, "sendto", 2, to);
	}
#ifdef SANDBOX_ASAN
	/* Sanitizer reports go to descriptor 2. */
	flags |= WARD_SANDBOX_ALLOW_STDERR;
#endif
	if (flags & WARD_SANDBOX_ALLOW_STDERR) {
		rc |= allow1(ctx, "write", cmp(0, SCMP_CMP_EQ, 2, 0));
		rc |= allow1(ctx, "writev", cmp(0, SCMP_CMP_EQ, 2, 0));
	}
	if (rc != 0)
		goto out;
	preload_runtime();
	rc = seccomp_load(ctx);
	if (rc == -EINVAL || rc == -ENOSYS || rc == -EOPNOTSUPP) {
		err = WARD_EUNSUPPORTED;
		goto out;
	}
	if (rc != 0)
		goto out;
	err = WARD_OK;
out:
	seccomp_release(ctx);
	return err;
}
#endif /* WARD_HAVE_SECCOMP */

ward_err ward_sandbox_enter(int ipc_fd, unsigned flags)
{
	if (flags & ~WARD_SANDBOX_ALLOW_STDERR)
		return WARD_EINVAL;
#ifdef WARD_HAVE_SECCOMP
	if (!ward_sandbox_supported())
		return WARD_EUNSUPPORTED;
	return build_and_load(ipc_fd, flags);
#else
	(void)ipc_fd;
	return WARD_EUNSUPPORTED;
#endif
}
