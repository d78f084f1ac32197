/*
 * wardd: a clamd-compatible scanning daemon on top of libward.
 *
 * Shape (docs/internals/wardd.md has the whole story):
 *   main.c     options, configuration, daemonising, signals, start and stop
 *   conf.c     clamd.conf-style configuration file
 *   proto.c    the clamd wire protocol: commands and INSTREAM chunk headers
 *              (pure functions over bytes, fuzzed by tests/fuzz/fuzz_clamd_proto.c)
 *   server.c   listeners, the bounded connection queue, connection threads
 *              and every command's reply
 *   worker.c   scanning worker processes and the parent's side of talking to them
 *   patterns.c pattern sets: loading beside the running one, the reference-counted
 *              swap, crash accounting and the revert to the last-known-good set
 *   host.c     the zygote and the pattern hosts: the single-threaded processes
 *              that load sets and fork workers (never the threaded daemon)
 *   wire.c     messages from hosts and workers, parsed as hostile (fuzzed)
 *   metrics.c  counters and the Prometheus endpoint on 127.0.0.1
 *   log.c      key=value log lines
 */
#ifndef WARDD_H
#define WARDD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ward/ward.h"

/* ---- wardd limits ----
 * The daemon's own ceilings. Like the CLI's (cli/cli.h) they bound the program,
 * not the library, so they live here rather than in lib/limits.h. */
/* Longest command, prefix and terminator included. clamd 1.4.6 answers a
 * 4,104-byte "zSCAN /aaa...\0" and drops the connection past that (measured);
 * the same ceiling keeps a client from making us buffer an endless line. */
#define WARDD_MAX_COMMAND 4104u
/* Connection read buffer: one command plus room for pipelined bytes. Stream
 * data passes through it in pieces of at most this size, so a chunk header
 * claiming 4 GiB never becomes a 4 GiB allocation. */
#define WARDD_CONN_BUF 65536u
/* Descriptors queued per connection (FILDES sends one per command; a client
 * that floods SCM_RIGHTS messages gets the extras closed). */
#define WARDD_MAX_PENDING_FDS 4u
/* Commands in one IDSESSION: clamd has no such limit, but a session that never
 * ends would otherwise hold its connection thread forever. */
#define WARDD_MAX_SESSION_COMMANDS 1000000u
/* Worker threads / processes: clamd takes any MaxThreads; each of ours is a
 * process holding a copy-on-write view of the database and a scanner. */
#define WARDD_MAX_THREADS 256u
/* Connections waiting for a thread (MaxQueue ceiling). */
#define WARDD_MAX_QUEUE 65536u
/* StreamMaxLength ceiling: a stream is held in a memfd; 4 GiB is clamd's own
 * hard ceiling for it. */
#define WARDD_MAX_STREAM (4ull << 30)
/* A worker's reply (one SOCK_SEQPACKET message, under the default socket
 * buffer): status, byte count and the detection names (at most
 * WARD_MAX_DETECTIONS in allmatch mode, each at most a few hundred bytes;
 * names past this are left out of the reply). */
#define WARDD_MAX_WORKER_REPLY (64u << 10)
/* Directory levels walked by SCAN/CONTSCAN/MULTISCAN/ALLMATCHSCAN: clamd's
 * MaxDirectoryRecursion default, also our ceiling (one open directory each). */
#define WARDD_MAX_DIR_RECURSION 15u
/* Longest path built while walking; longer ones are reported, not truncated. */
#define WARDD_MAX_PATH 4096u
/* Configuration file: lines and bytes per line. */
#define WARDD_MAX_CONF_LINES 10000u
#define WARDD_MAX_CONF_LINE 4096u
/* Pattern version string (from the set's "pattern-version" file). */
#define WARDD_MAX_VERSION 64u
/* Crashes remembered for the crash-loop window. */
#define WARDD_MAX_CRASH_RECORDS 64u
/* Metrics HTTP request: only "GET /metrics" is served; anything longer is cut. */
#define WARDD_MAX_HTTP_REQUEST 4096u
/* Log line length; longer lines are cut, never split. */
#define WARDD_MAX_LOG_LINE 8192u
/* Load diagnostics logged per pattern load; the rest are only counted (a set
 * with a million bad lines must not flood the log). */
#define WARDD_MAX_LOGGED_DIAGS 20u
/* The zygote and a pattern host answer a fork request within this time, or
 * are taken for dead (forking takes milliseconds). */
#define WARDD_HELPER_TIMEOUT_MS 10000

/* ---- configuration (conf.c) ---- */
struct wardd_conf {
	char *local_socket;            /* LocalSocket */
	unsigned local_socket_mode;    /* LocalSocketMode (octal), default 0666 */
	unsigned tcp_port;             /* TCPSocket; 0 = none */
	char *tcp_addr;                /* TCPAddr; default 127.0.0.1 */
	unsigned backlog;              /* MaxConnectionQueueLength */
	char *database_dir;            /* DatabaseDirectory */
	char *lkg_dir;                 /* LastKnownGoodDirectory (ward); NULL = no revert */
	char *cache_dir;               /* CacheDirectory (ward): compiled databases; NULL = none */
	char *user;                    /* User: run as this user once the sockets are bound */
	unsigned max_threads;          /* MaxThreads */
	unsigned max_queue;            /* MaxQueue */
	uint64_t stream_max;           /* StreamMaxLength */
	unsigned idle_timeout;         /* IdleTimeout (s): between commands of a session */
	unsigned command_read_timeout; /* CommandReadTimeout (s): the first command */
	unsigned read_timeout;         /* ReadTimeout (s): stream data, descriptors */
	ward_limits limits;            /* MaxScanTime, MaxScanSize, MaxFileSize, ... */
	unsigned max_dir_recursion;    /* MaxDirectoryRecursion */
	bool follow_dir_symlinks, follow_file_symlinks;
	bool foreground;          /* Foreground */
	char *log_file;           /* LogFile; NULL = stderr */
	char *pid_file;           /* PidFile */
	unsigned crash_threshold; /* CrashRevertThreshold (ward), default 3 */
	unsigned crash_window;    /* CrashRevertWindow (ward, s), default 600 */
	unsigned hang_grace;      /* WorkerHangGrace (ward, s): past MaxScanTime */
	unsigned metrics_port;    /* MetricsPort (ward); 0 = off; 127.0.0.1 only */
	bool worker_sandbox;      /* WorkerSandbox (ward), default yes: seccomp in workers */
};

void conf_defaults(struct wardd_conf *c);
/* Parse FILE into c (defaults already set). Errors go to stderr as
 * "ERROR: FILE:LINE: reason"; returns false on any. */
bool conf_load(struct wardd_conf *c, const char *path);
void conf_free(struct wardd_conf *c);

/* ---- logging (log.c) ---- */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
/* Open LogFile for appending (NULL: stderr). */
bool log_open(const char *path);
void log_reopen(void);
/* One line: "ts=... level=... event=EVENT " + the formatted key=value pairs. */
void log_kv(enum log_level lvl, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* s as a log value: quoted and escaped when it holds spaces, quotes, '=' or
 * control bytes. Returns out. */
const char *log_q(const char *s, char *out, size_t n);

/* ---- pattern sets (patterns.c) ---- */
struct host;
struct patset {
	struct host *host; /* the process holding the loaded set (host.c) */
	atomic_uint refs;
	uint64_t generation; /* 1, 2, ... in activation order */
	char version[WARDD_MAX_VERSION + 1];
	char *dir;              /* the directory it was loaded from */
	bool last_known_good;   /* loaded from LastKnownGoodDirectory */
	uint64_t activated_ms;  /* now_ms() at activation */
	int64_t activated_wall; /* time(NULL) at activation, for VERSION */
	uint64_t signatures;
};

bool patterns_init(const struct wardd_conf *c);
void patterns_start(void); /* the background loader thread */
void patterns_stop(void);
/* The active set with a reference; release with patterns_release(). */
struct patset *patterns_acquire(void);
void patterns_release(struct patset *p);
uint64_t patterns_generation(void);
/* Ask the loader to load DatabaseDirectory beside the active set. */
void patterns_request_reload(const char *why);
/* A worker running generation gen died (hung: killed after its deadline). */
void patterns_worker_failed(uint64_t gen, bool hung, int status);
/* After a revert: the refused version and why (empty strings otherwise). */
void patterns_revert_state(char *bad, size_t nbad, char *why, size_t nwhy);
/* Describe the active set for VERSION: "VERSION/Day Mon dd hh:mm:ss yyyy". */
void patterns_describe(char *out, size_t n);
/* "1 reloading" while a load is in progress (for STATS and metrics). */
bool patterns_loading(void);

/* ---- start-up (main.c) ---- */
/* clamd's User: become this user for good (NULL or not root: nothing to do). */
bool wardd_drop_privileges(const char *user);
/* False (and logged) when User is set, we are root, and no such user exists. */
bool wardd_user_known(const char *user);

/* ---- the zygote and pattern hosts (host.c) ---- */
/* Fork the zygote. Call once, while the daemon is still single-threaded,
 * after the privilege drop (the zygote, hosts and workers inherit the user). */
bool zygote_start(const struct wardd_conf *c);
void zygote_stop(void);
typedef void (*host_diag_fn)(void *ctx, ward_err code, const char *file, unsigned long line,
			     const char *msg);
struct host_load_result {
	uint64_t signatures, bad_lines, bad_files, errors, unsupported;
	bool answered; /* the host sent a result */
	bool crashed;  /* it died (or could not be started) before that */
};
/* Load dir in a new host process. diag gets the first WARDD_MAX_LOGGED_DIAGS
 * load errors. On WARD_OK *out owns the host (host_close() ends it); res is
 * filled in every case. Not reentrant: one load at a time. */
ward_err host_load(const char *dir, host_diag_fn diag, void *ctx, struct host **out,
		   struct host_load_result *res);
/* Fork a worker from the host's set: its pid (a child of the daemon) and the
 * daemon's end of its socket, owned by the caller. False when the host is
 * gone or does not answer; it is then never asked again. Thread-safe. */
bool host_spawn(struct host *h, pid_t *pid, int *sock);
void host_close(struct host *h);
/* One SOCK_SEQPACKET message of n bytes, with descriptor fd (none when
 * fd < 0) passed by SCM_RIGHTS; true when all of it was sent. */
bool send_with_fd(int sock, const void *p, size_t n, int fd);
/* In a new zygote, host or worker: keep only sock (moved to descriptor 3,
 * returned) and the standard streams, die with the daemon (exit now if it is
 * already gone) and take the name. */
int wardd_become_child(int sock, pid_t daemon, const char *name);
/* One message of at most n bytes and at most one descriptor (*fd, -1 when
 * none; extra descriptors are closed). timeout_ms < 0 waits for ever.
 * Returns the length, 0 on end of file, -1 on error, truncation or timeout. */
ssize_t recv_with_fd(int sock, void *p, size_t n, int *fd, int timeout_ms);

/* ---- worker processes (worker.c) ---- */
/* The worker process's life, in a child of a host: scan what arrives on sock
 * with db until the daemon (pid daemon) closes it. */
__attribute__((noreturn)) void worker_main(int sock, const ward_db *db, const struct wardd_conf *c,
					   pid_t daemon);
struct worker {
	pid_t pid; /* 0: none */
	int sock;  /* SOCK_SEQPACKET to the worker; -1: none */
	uint64_t generation;
};

enum scan_status { SCAN_CLEAN, SCAN_FOUND, SCAN_ERROR, SCAN_WORKER_CRASHED, SCAN_WORKER_HUNG };

struct scan_result {
	enum scan_status status;
	uint64_t bytes;
	size_t nnames;
	/* FOUND: names separated by NUL; ERROR: one message. Points into buf. */
	const char *names[1024];
	char buf[WARDD_MAX_WORKER_REPLY];
};

/* Scan fd in w's process (started or replaced first when missing or of an
 * older pattern generation). timeout_ms bounds the wait; a worker that does
 * not answer in time is killed. fd stays owned by the caller. */
void worker_scan(struct worker *w, int fd, bool allmatch, const struct wardd_conf *c,
		 struct scan_result *r);
void worker_stop(struct worker *w);

/* ---- metrics (metrics.c) ---- */
struct wardd_metrics {
	atomic_uint_fast64_t scans_clean, scans_found, scans_error;
	atomic_uint_fast64_t bytes;
	atomic_uint_fast64_t detections;
	atomic_uint_fast64_t connections, connections_rejected;
	atomic_uint_fast64_t reloads_ok, reloads_failed, reverts;
	atomic_uint_fast64_t worker_crashes, worker_hangs, workers_started;
	atomic_uint_fast64_t latency_bucket[14]; /* cumulative at export time */
	atomic_uint_fast64_t latency_sum_us, latency_count;
	atomic_uint_fast64_t queue_depth, busy_threads;
};
extern struct wardd_metrics g_metrics;
void metrics_observe_latency(uint64_t us);
bool metrics_start(unsigned port);
void metrics_stop(void);

/* ---- server (server.c) ---- */
bool server_init(const struct wardd_conf *c);
/* Runs until SHUTDOWN or a signal; returns the exit code. */
int server_run(void);
void server_request_shutdown(void);
/* Descriptor that becomes readable when shutdown starts (for polls). */
int server_shutdown_fd(void);

/* ---- test hooks ----
 * Compiled in always, active only when the environment variable
 * WARDD_TEST_HOOKS is "1" in the daemon's environment: a detection whose name
 * starts with one of these makes the worker abort() (crash) or stop answering
 * (hang), so tests can exercise the supervisor with a signature. */
#define WARDD_TEST_HOOK_ENV "WARDD_TEST_HOOKS"
#define WARDD_TEST_CRASH_PREFIX "Ward.Test.CrashWorker"
#define WARDD_TEST_HANG_PREFIX "Ward.Test.HangWorker"

#endif /* WARDD_H */
