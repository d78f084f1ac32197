/*
 * The `ward` command-line program: a thin layer over include/ward/ward.h.
 * Shared helpers between the commands (scan.c, db.c) live in util.c.
 */
#ifndef WARD_CLI_H
#define WARD_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/ward.h"

/* ---- cli limits ----
 * The program's own ceilings. They live here, not in lib/ward_limits.h, because
 * they bound the program (threads, queue, directory walk), not the library. */
/* Worker processes (--threads): each holds a scanner (scratch, per-file
 * state) and a socket; more than this buys nothing on any machine we target
 * and only multiplies memory and descriptors. Each worker holds at most
 * CLI_WORKER_QUEUE files, so these bound the queued work: the walker waits
 * for a free place instead of queueing paths. */
#define CLI_MAX_THREADS 256u
/* Files handed to one worker at a time: the one it scans and one waiting in
 * its socket, so it never sleeps between small files waiting for the parent
 * to read its result and send the next (two wake-ups per file: a tenth of
 * the time on /usr/share/doc). More would only hold descriptors longer. */
#define CLI_WORKER_QUEUE 2u
/* clamscan's --max-dir-recursion default; the walk recurses once per level. */
#define CLI_DEFAULT_MAX_DIR_RECURSION 15u
/* Ceiling for --max-dir-recursion: every level holds one open directory
 * descriptor and one stack frame. */
#define CLI_MAX_DIR_RECURSION 256u
/* Longest path handled; longer ones are reported as errors, not truncated. */
#define CLI_MAX_PATH 4096u
/* -d arguments and db command arguments. */
#define CLI_MAX_DB_ARGS 4096u
/* One output line (text or JSON). A JSON line lists every detection, and a
 * hostile member name may expand 6x when escaped; past this the line is
 * replaced by a short error object instead of growing without bound. */
#define CLI_MAX_LINE (16u << 20)

/* ---- privilege separation (privsep.c, docs/internals/sandbox.md) ---- */
/* Largest message a worker may send: a result lists names, member paths,
 * limits and errors. A worker scans hostile files, so the parent treats it as
 * hostile too: a frame declaring more is a protocol violation and the worker
 * is killed. 4 MiB holds thousands of --allmatch detections with long member
 * paths; a result that does not fit is sent as "too large" instead. */
#define CLI_MAX_WORKER_MSG (4u << 20)
/* Largest request (parent -> worker): a path and a few numbers. */
#define CLI_MAX_REQUEST_MSG (CLI_MAX_PATH + 64u)
/* The parent's watchdog kills a worker that has not answered within
 * MaxScanTime plus this: the library enforces MaxScanTime itself, so only a
 * worker stuck outside the checks (a bug, a loop in a library) gets here. */
#define CLI_WATCHDOG_GRACE_MS 2000u
/* Workers that die before saying hello, in a row, before the scan stops:
 * a worker that cannot start will not start on the next try either. */
#define CLI_MAX_START_FAILURES 3u

/* What a worker needs; fixed before the first fork. */
struct ps_config {
	const ward_db *db;
	const ward_limits *limits;
	unsigned scan_flags; /* WARD_SCAN_* */
	bool sandbox;        /* enter the seccomp sandbox after creating the scanner */
};

/* The parent's end of one worker. */
struct ps_worker {
	int pid;             /* 0 when there is no process */
	int sock;            /* -1 when closed; non-blocking, close-on-exec */
	unsigned char *rbuf; /* frame being received: 4-byte length + payload */
	size_t rlen, ralloc;
};

/* A decoded result; the strings point into the worker's receive buffer and
 * stay valid until ps_frame_done(). */
struct ps_result {
	uint32_t job;
	ward_err status; /* from ward_scanner_scan_fd() */
	bool too_large;  /* the worker could not fit the result in a message */
	uint64_t ms;
	ward_report rep;
	ward_detection *dets; /* owned (rep.detections) */
	const char **limits;  /* owned (rep.limits) */
	const char **errors;  /* owned (rep.errors) */
};

enum ps_frame_kind { PS_NONE, PS_HELLO, PS_RESULT, PS_EOF, PS_BAD };

/* Fork a worker over the database in c (shared copy-on-write). The child
 * keeps only its socket and standard error, creates its scanner, enters the
 * sandbox when c->sandbox, says hello, then serves jobs until its socket
 * closes. Returns false (errno kept) when socketpair or fork failed. */
bool ps_spawn(struct ps_worker *w, const struct ps_config *c);
/* Hand fd (kept by the caller, who closes it) and path (for messages and the
 * test hooks) to a worker holding fewer than CLI_WORKER_QUEUE files, as job
 * number job. False when the worker is gone. */
bool ps_send_job(struct ps_worker *w, uint32_t job, int fd, const char *path);
/* Read what is available without blocking. PS_NONE: no whole frame yet;
 * PS_HELLO: *hello_status set; PS_RESULT: *res filled (free with
 * ps_result_free); PS_EOF: the worker closed its end (died); PS_BAD: the worker
 * broke the protocol. After PS_HELLO/PS_RESULT call ps_frame_done(). */
enum ps_frame_kind ps_read(struct ps_worker *w, ward_err *hello_status, struct ps_result *res);
void ps_frame_done(struct ps_worker *w);
void ps_result_free(struct ps_result *r);
/* Kill (when kill_first) and reap the worker; close the socket. why gets a
 * short description of how it ended ("killed by signal 31 (Bad system
 * call)"). Returns true when it ended by a signal. */
bool ps_reap(struct ps_worker *w, bool kill_first, char *why, size_t whylen, int *sig);
void ps_free(struct ps_worker *w);

/* ---- commands (return the process exit code) ---- */
int cmd_scan(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_repo(int argc, char **argv);    /* cli/update.c */
int cmd_update(int argc, char **argv);  /* cli/update.c */
int cmd_pattern(int argc, char **argv); /* cli/pattern.c */

/* Signatures that can produce a detection (hash, section hash, import hash,
 * body, logical): what clamscan calls "Known viruses" in its summary. */
uint64_t cli_known_sigs(const ward_db *db);

/* ---- numbers ---- */
/* Decimal number, digits only, at most max. */
bool cli_parse_number(const char *s, uint64_t max, uint64_t *out);
/* Size as clamscan takes it: digits with an optional K/k (KiB) or M/m (MiB)
 * suffix. */
bool cli_parse_size(const char *s, uint64_t *out);

/* ---- output buffer with a ceiling ---- */
typedef struct strbuf {
	char *s; /* NUL-terminated when alloc > 0 */
	size_t len;
	size_t alloc;
	bool failed; /* an allocation failed or the ceiling was reached */
} strbuf;

void sb_add(strbuf *b, const char *p, size_t n);
void sb_adds(strbuf *b, const char *s);
void sb_addf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string literal, quotes included (NULL gives null). */
void sb_add_json(strbuf *b, const char *s);
/* s for a text line: control characters become \xNN so a file name cannot
 * forge extra output lines. */
void sb_add_text(strbuf *b, const char *s);
void sb_reset(strbuf *b);
void sb_free(strbuf *b);

/* write(2) until everything is written or an error other than EINTR. */
bool cli_write_all(int fd, const void *p, size_t n);

/* Load-time diagnostic printer: "LibWard: FILE:LINE: message" on stderr.
 * ctx may be NULL or a struct cli_diag_count to count what was said. */
struct cli_diag_count {
	unsigned long io;          /* WARD_EIO: a database file could not be read */
	unsigned long corrupt;     /* WARD_ECORRUPT: a line or file was rejected */
	unsigned long unsupported; /* WARD_EUNSUPPORTED: loaded, never matches */
	bool quiet_unsupported;    /* count those instead of printing each */
};
void cli_diag_stderr(void *ctx, ward_err code, const char *file, unsigned long line,
		     const char *msg);
/* Where compiled databases are cached: $WARD_CACHE_DIR (empty: no cache),
 * else $XDG_CACHE_HOME/ward, else ~/.cache/ward. NULL for no cache. */
const char *cli_cache_dir(void);

/* stat() every database path before loading: a mistyped -d must stop the
 * run, as in clamscan, not scan with fewer signatures. Prints
 * "ERROR: PATH: reason" on stderr for each bad one; false if any. */
bool cli_check_db_paths(const char *const *paths, size_t n);

/* Monotonic milliseconds. */
uint64_t cli_now_ms(void);

#endif /* WARD_CLI_H */
