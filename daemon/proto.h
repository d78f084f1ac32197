/*
 * The clamd wire protocol (clamd(8), "COMMANDS"): pure parsing over bytes,
 * no I/O, so it can be fuzzed on its own (tests/fuzz/fuzz_clamd_proto.c).
 *
 * A command is one of three styles, chosen by its first byte:
 *   'z' + NAME + '\0'   replies end with '\0'
 *   'n' + NAME + '\n'   replies end with '\n'
 *   NAME + '\n'         the old style: replies end with '\n'; only the
 *                       commands clamd still takes this way are accepted.
 * Behaviour mirrored from clamd 1.4.6 (measured; see docs/internals/wardd.md):
 * '\n'-terminated commands lose trailing '\r's; an old-style command may end
 * at EOF without its newline; names are case-sensitive and exact ("PING "
 * is unknown); the scan commands take "NAME PATH" and an empty PATH.
 */
#ifndef WARDD_PROTO_H
#define WARDD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum proto_style { PROTO_OLD, PROTO_N, PROTO_Z };

enum proto_cmd {
	CMD_UNKNOWN = 0,
	CMD_PING,
	CMD_VERSION,
	CMD_RELOAD,
	CMD_SHUTDOWN, /* also QUIT, its deprecated alias */
	CMD_SCAN,
	CMD_CONTSCAN,
	CMD_MULTISCAN,
	CMD_ALLMATCHSCAN,
	CMD_INSTREAM,
	CMD_FILDES,
	CMD_STATS,
	CMD_IDSESSION,
	CMD_END,
	CMD_VERSIONCOMMANDS,
	CMD_DETSTATS,      /* removed from clamd: it closes without a reply */
	CMD_DETSTATSCLEAR, /* same */
	CMD_EMPTY,         /* an empty command ("z\0", "\n") */
	CMD__COUNT
};

enum proto_status {
	PROTO_NEED_MORE, /* no complete command yet */
	PROTO_COMMAND,   /* *out describes one command */
	PROTO_TOO_LONG,  /* no terminator within WARDD_MAX_COMMAND bytes */
	PROTO_NOTHING,   /* at EOF: nothing (or an unterminated new-style command) */
};

struct proto_command {
	enum proto_cmd cmd;
	enum proto_style style;
	const char *arg; /* scan commands: the path (not NUL-terminated), else NULL */
	size_t arg_len;
	size_t consumed; /* bytes of the buffer taken, terminator included */
};

/* Look for one command at the start of buf[0..len). eof: no more bytes will
 * come (an old-style command may then end without its newline). max is the
 * longest command accepted, terminator included. Never reads past len. */
enum proto_status proto_parse(const uint8_t *buf, size_t len, bool eof, size_t max,
			      struct proto_command *out);

/* The reply terminator for a style. */
static inline char proto_term(enum proto_style s) { return s == PROTO_Z ? '\0' : '\n'; }

/* An INSTREAM chunk header: 4 bytes, unsigned big-endian. */
uint32_t proto_chunk_len(const uint8_t hdr[4]);

/* The command's name as clamd spells it (for logs and STATS). */
const char *proto_cmd_name(enum proto_cmd c);

/* Commands allowed inside IDSESSION (the others are answered
 * "Command invalid inside IDSESSION. ERROR" and end the session). */
bool proto_session_allowed(enum proto_cmd c);

#endif /* WARDD_PROTO_H */
