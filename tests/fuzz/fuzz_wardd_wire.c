/*
 * libFuzzer harness for the parsers of what wardd's own processes send
 * (daemon/wire.c): a worker's scan reply and a pattern host's load messages.
 * Both processes handle hostile bytes (files, signature files) and may be
 * compromised, so the daemon parses their messages as hostile input. The
 * first byte picks the parser; the rest is one message, copied into a buffer
 * of exactly its size so a read past it is caught. Invariants: every name
 * and string returned lies inside the message and ends there.
 *
 * wire.c is pure and compiled in directly (wardd is a program, not part of
 * libward).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/wire.c" // NOLINT(bugprone-suspicious-include)

static void check_inside(const char *s, const char *base, size_t n)
{
	if (s < base || s >= base + n || !memchr(s, '\0', (size_t)(base + n - s)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t which = data[0];
	data++, size--;
	if (which & 1) {
		static struct scan_result r;
		if (size > sizeof r.buf)
			return 0;
		memcpy(r.buf, data, size);
		if (wire_parse_reply(&r, size))
			for (size_t i = 0; i < r.nnames; i++)
				check_inside(r.names[i], r.buf, size);
		return 0;
	}
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct host_msg m;
	if (wire_parse_host_msg(buf, size, &m) && m.h.type == HMSG_DIAG) {
		check_inside(m.file, buf, size);
		check_inside(m.msg, buf, size);
	}
	free(buf);
	return 0;
}
