/*
 * The messages between wardd and its own processes (host.c, worker.c), and
 * the pure parsers the daemon runs on what those processes send. A pattern
 * host runs signature-file parsers and a worker scans hostile files, so
 * either may be compromised: their messages are parsed like client input,
 * here, without I/O or allocation, so tests/fuzz/fuzz_wardd_wire.c can fuzz
 * them. Host byte order: all ends are on one machine.
 */
#ifndef WARDD_WIRE_H
#define WARDD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wardd.h"

/* daemon -> worker: struct wreq + one descriptor (SCM_RIGHTS).
 * worker -> daemon: struct wrep + nnames NUL-terminated strings (detection
 * names, or one error message). */
#define WREQ_MAGIC 0x57524551u /* "WREQ" */
#define WREP_MAGIC 0x57524550u /* "WREP" */
#define WREQ_ALLMATCH 0x1u

struct wreq {
	uint32_t magic;
	uint32_t flags;
};

struct wrep {
	uint32_t magic;
	uint32_t status; /* SCAN_CLEAN, SCAN_FOUND or SCAN_ERROR */
	uint64_t bytes;
	uint32_t nnames;
	uint32_t pad;
};

/* host -> daemon while loading: DIAG messages, then one RESULT. A DIAG is
 * followed by "file\0message\0"; a RESULT is the bare struct. */
#define HMSG_MAGIC 0x484d5347u /* "HMSG" */
#define HMSG_DIAG 1u
#define HMSG_RESULT 2u

struct hmsg {
	uint32_t magic;
	uint32_t type;
	int32_t code; /* DIAG: the diagnostic's ward_err; RESULT: the load's */
	uint32_t pad;
	uint64_t line;
	uint64_t signatures, bad_lines, bad_files, errors, unsupported;
};

/* A host message with its text: under the socket buffer, one datagram. */
#define HMSG_MAX (sizeof(struct hmsg) + WARDD_MAX_PATH + 1024u)

/* A parsed host message; file and msg point into the parsed buffer (DIAG). */
struct host_msg {
	struct hmsg h;
	const char *file, *msg;
};

/* Parse the worker's reply in r->buf[0..n) into r (names point into r->buf).
 * False for anything malformed. */
bool wire_parse_reply(struct scan_result *r, size_t n);
/* Parse one host message buf[0..n). False for anything malformed. */
bool wire_parse_host_msg(const char *buf, size_t n, struct host_msg *out);

#endif /* WARDD_WIRE_H */
