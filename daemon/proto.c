/*
 * clamd wire protocol parsing (see proto.h). Every byte here comes from a
 * client: lengths are checked before every access, nothing is allocated, and
 * the longest command is bounded by the caller's max.
 */
#include <string.h>

#include "proto.h"

struct cmd_entry {
	const char *name;
	size_t len;
	enum proto_cmd cmd;
	bool takes_path; /* "NAME PATH" */
	bool old_style;  /* clamd still takes it without the z/n prefix */
};

#define E(n, c, p, o) \
	{ \
		(n), sizeof(n) - 1, (c), (p), (o) \
	}
/* Old-style acceptance measured against clamd 1.4.6: PING, VERSION, RELOAD,
 * SHUTDOWN, QUIT, SCAN, CONTSCAN, MULTISCAN, FILDES and DETSTATS* are taken;
 * ALLMATCHSCAN, INSTREAM, STATS, IDSESSION, END and VERSIONCOMMANDS are
 * "UNKNOWN COMMAND". */
static const struct cmd_entry commands[] = {
	E("PING", CMD_PING, false, true),
	E("VERSION", CMD_VERSION, false, true),
	E("RELOAD", CMD_RELOAD, false, true),
	E("SHUTDOWN", CMD_SHUTDOWN, false, true),
	E("QUIT", CMD_SHUTDOWN, false, true),
	E("SCAN", CMD_SCAN, true, true),
	E("CONTSCAN", CMD_CONTSCAN, true, true),
	E("MULTISCAN", CMD_MULTISCAN, true, true),
	E("ALLMATCHSCAN", CMD_ALLMATCHSCAN, true, false),
	E("INSTREAM", CMD_INSTREAM, false, false),
	E("FILDES", CMD_FILDES, false, true),
	E("STATS", CMD_STATS, false, false),
	E("IDSESSION", CMD_IDSESSION, false, false),
	E("END", CMD_END, false, false),
	E("VERSIONCOMMANDS", CMD_VERSIONCOMMANDS, false, false),
	E("DETSTATSCLEAR", CMD_DETSTATSCLEAR, false, true),
	E("DETSTATS", CMD_DETSTATS, false, true),
};
#undef E

static void classify(const char *name, size_t nlen, enum proto_style style,
		     struct proto_command *out)
{
	out->cmd = CMD_UNKNOWN;
	out->arg = NULL;
	out->arg_len = 0;
	if (nlen == 0) {
		out->cmd = CMD_EMPTY;
		return;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		const struct cmd_entry *e = &commands[i];
		if (style == PROTO_OLD && !e->old_style)
			continue;
		if (e->takes_path) {
			/* "SCAN" alone is unknown; "SCAN " is a scan of "". */
			if (nlen <= e->len || memcmp(name, e->name, e->len) != 0 ||
			    name[e->len] != ' ')
				continue;
			const char *arg = name + e->len + 1;
			size_t alen = nlen - e->len - 1;
			/* A NUL inside a '\n'-terminated path would cut it short
			 * when it reaches open(); refuse it instead. */
			if (memchr(arg, '\0', alen))
				return;
			out->cmd = e->cmd;
			out->arg = arg;
			out->arg_len = alen;
			return;
		}
		if (nlen == e->len && memcmp(name, e->name, e->len) == 0) {
			out->cmd = e->cmd;
			return;
		}
	}
}

enum proto_status proto_parse(const uint8_t *buf, size_t len, bool eof, size_t max,
			      struct proto_command *out)
{
	memset(out, 0, sizeof *out);
	if (len == 0 || max < 2)
		return eof ? PROTO_NOTHING : PROTO_NEED_MORE;
	enum proto_style style = buf[0] == 'z' ? PROTO_Z : buf[0] == 'n' ? PROTO_N : PROTO_OLD;
	size_t start = style == PROTO_OLD ? 0 : 1;
	char term = proto_term(style);
	size_t lim = len < max ? len : max;
	const uint8_t *t = lim > start ? memchr(buf + start, term, lim - start) : NULL;
	size_t end, consumed;
	if (t) {
		end = (size_t)(t - buf);
		consumed = end + 1;
	} else {
		if (len >= max)
			return PROTO_TOO_LONG;
		if (!eof)
			return PROTO_NEED_MORE;
		/* clamd runs an old-style command cut by EOF ("PING" then
		 * shutdown answers PONG) but drops an unterminated z/n one. */
		if (style != PROTO_OLD)
			return PROTO_NOTHING;
		end = len;
		consumed = len;
	}
	const char *name = (const char *)buf + start;
	size_t nlen = end - start;
	if (term == '\n')
		while (nlen > 0 && name[nlen - 1] == '\r')
			nlen--;
	out->style = style;
	out->consumed = consumed;
	classify(name, nlen, style, out);
	return PROTO_COMMAND;
}

uint32_t proto_chunk_len(const uint8_t hdr[4])
{
	return ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) | ((uint32_t)hdr[2] << 8) |
	       (uint32_t)hdr[3];
}

const char *proto_cmd_name(enum proto_cmd c)
{
	switch (c) {
	case CMD_PING:
		return "PING";
	case CMD_VERSION:
		return "VERSION";
	case CMD_RELOAD:
		return "RELOAD";
	case CMD_SHUTDOWN:
		return "SHUTDOWN";
	case CMD_SCAN:
		return "SCAN";
	case CMD_CONTSCAN:
		return "CONTSCAN";
	case CMD_MULTISCAN:
		return "MULTISCAN";
	case CMD_ALLMATCHSCAN:
		return "ALLMATCHSCAN";
	case CMD_INSTREAM:
		return "INSTREAM";
	case CMD_FILDES:
		return "FILDES";
	case CMD_STATS:
		return "STATS";
	case CMD_IDSESSION:
		return "IDSESSION";
	case CMD_END:
		return "END";
	case CMD_VERSIONCOMMANDS:
		return "VERSIONCOMMANDS";
	case CMD_DETSTATS:
		return "DETSTATS";
	case CMD_DETSTATSCLEAR:
		return "DETSTATSCLEAR";
	case CMD_EMPTY:
		return "EMPTY";
	case CMD_UNKNOWN:
	case CMD__COUNT:
		break;
	}
	return "UNKNOWN";
}

bool proto_session_allowed(enum proto_cmd c)
{
	switch (c) {
	case CMD_PING:
	case CMD_VERSION:
	case CMD_SCAN: /* CONTSCAN, MULTISCAN, ALLMATCHSCAN are refused (clamd 1.4.6) */
	case CMD_INSTREAM:
	case CMD_FILDES:
	case CMD_STATS:
	case CMD_END:
	case CMD_VERSIONCOMMANDS:
		return true;
	default:
		return false;
	}
}
