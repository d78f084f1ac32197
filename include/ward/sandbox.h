/*
 * libward sandbox: confine a scanning process with a seccomp-BPF filter.
 *
 * Intended use (what `ward scan` does, see docs/internals/sandbox.md): a small
 * parent opens the files and passes their descriptors over a unix socket to
 * worker processes; each worker loads nothing and opens nothing itself. After
 * it has created its ward_scanner, a worker calls ward_sandbox_enter() and from
 * then on can only read descriptors it already holds or receives, compute,
 * manage its own memory and talk to the parent over that one socket.
 *
 * The filter is default-deny: any system call not listed below kills the whole
 * process (SIGSYS, SCMP_ACT_KILL_PROCESS), so a bug exploited by a hostile file
 * cannot exec, open, create or write files, or reach the network. The caller
 * sees the kill as the worker's death by signal 31.
 *
 * Allowed, and why:
 *   read, readv, pread64, lseek       scan descriptors already open
 *   fstat (fstat, newfstatat/statx with AT_EMPTY_PATH only)
 *                                     size of a received descriptor. A path can
 *                                     still be passed with AT_EMPTY_PATH, which
 *                                     reveals metadata, never contents.
 *   mmap, mprotect (never PROT_EXEC), munmap, mremap, madvise, brk
 *                                     memory; PCRE2 JIT code is compiled before
 *                                     the sandbox, so no new executable memory
 *   futex, sched_yield                locks inside libraries
 *   clock_gettime, clock_getres, gettimeofday, time, clock_nanosleep
 *                                     the MaxScanTime budget (vDSO fallback)
 *   getrandom                         library hash seeds
 *   close                             done with a received descriptor
 *   exit, exit_group, rt_sigreturn, restart_syscall
 *   rt_sigprocmask, getpid, gettid, tgkill (own pid only)
 *                                     abort() on a failed assertion, so a bug
 *                                     shows as SIGABRT rather than SIGSYS
 *   write, sendto (no address), sendmsg, recvmsg, recvfrom
 *                                     only on ipc_fd, the socket to the parent
 * Never allowed: open/openat/creat, execve/execveat, fork/clone, socket/connect,
 * ptrace, mmap/mprotect with PROT_EXEC, ioctl, kill of other processes, ...
 *
 * Built with AddressSanitizer, the filter also allows what its runtime needs
 * (see docs/internals/sandbox.md); the protection of the normal build is not
 * weakened.
 */
#ifndef WARD_SANDBOX_H
#define WARD_SANDBOX_H

#include <stdbool.h>

#include "ward/ward.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Also allow write/writev on descriptor 2, for diagnostics (sanitizer reports
 * in debugging builds). Off by default: a confined worker has nothing to say
 * except through its parent. */
#define WARD_SANDBOX_ALLOW_STDERR 0x1u

/* Can this process enter the sandbox? False when libward was built without
 * libseccomp or the kernel lacks seccomp filters (prctl(PR_GET_SECCOMP) fails).
 * Cheap; changes nothing. */
bool ward_sandbox_supported(void);

/* Enter the sandbox for the rest of this process's life; it cannot be left.
 * Sets no_new_privs. ipc_fd is the one descriptor the process may write to and
 * send or receive messages on (-1: none). flags: WARD_SANDBOX_*.
 * Before the filter goes in it loads what libraries would otherwise load from
 * files on first use during a scan: the time zone (setting TZ to
 * ":/etc/localtime" when TZ is unset, the same zone), the iconv conversions
 * libarchive uses for member names, OpenSSL's configuration and digests.
 * Returns WARD_OK when the filter is installed; WARD_EUNSUPPORTED when the
 * kernel or the build lacks seccomp (nothing changed); WARD_ENOMEM or
 * WARD_EINTERNAL when the filter could not be built or loaded (nothing
 * changed). Call it from a single-threaded process: the filter covers only the
 * calling thread and threads it creates later. */
ward_err ward_sandbox_enter(int ipc_fd, unsigned flags) WARD_WUR;

#ifdef __cplusplus
}
#endif
#endif /* WARD_SANDBOX_H */
