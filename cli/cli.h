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
/* Worker threads: each holds a scanner (scratch, per-file state); more than
 * this buys nothing on any machine we target and only multiplies memory. */
#define CLI_MAX_THREADS 256u
/* Paths waiting between the directory walker and the workers: the walker
 * blocks when the queue is full, so a tree of millions of files costs memory
 * for this many paths, not for the whole tree. */
#define CLI_QUEUE_DEPTH 1024u
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

/* ---- commands (return the process exit code) ---- */
int cmd_scan(int argc, char **argv);
int cmd_db(int argc, char **argv);

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
	char *s;      /* NUL-terminated when alloc > 0 */
	size_t len;
	size_t alloc;
	bool failed;  /* an allocation failed or the ceiling was reached */
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
	unsigned long io;      /* WARD_EIO: a database file could not be read */
	unsigned long corrupt; /* WARD_ECORRUPT: a line or file was rejected */
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
