/*
 * libFuzzer harness for wardd's clamd protocol parser (daemon/proto.c).
 * The input is a whole client conversation: commands are parsed one after
 * another as the daemon does, with INSTREAM chunk headers walked (and their
 * data skipped) under a small StreamMaxLength, and every split point of the
 * buffer is tried for "need more" consistency on the first command.
 * Invariants checked: nothing is read past the input, a command never takes
 * more than the limit, its path lies inside the input, and parsing a prefix
 * either asks for more or agrees with parsing the whole.
 *
 * proto.c is pure (no I/O, no allocation) and is compiled into this harness
 * directly, since the daemon is not part of libward.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The parser is compiled into the harness directly: wardd is a program, not
 * a library, and the parser's helpers are static. */
#include "../../daemon/proto.c" // NOLINT(bugprone-suspicious-include)

#define FUZZ_MAX_COMMAND 4104u
#define FUZZ_STREAM_MAX 4096u

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Prefix consistency for the first command. */
	struct proto_command whole, part;
	enum proto_status ws = proto_parse(data, size, false, FUZZ_MAX_COMMAND, &whole);
	for (size_t cut = 0; cut < size && cut < 64; cut++) {
		enum proto_status ps = proto_parse(data, cut, false, FUZZ_MAX_COMMAND, &part);
		if (ps == PROTO_COMMAND) {
			check(ws == PROTO_COMMAND);
			check(part.consumed == whole.consumed && part.cmd == whole.cmd);
		}
	}

	size_t pos = 0;
	for (unsigned n = 0; n < 10000 && pos <= size; n++) {
		struct proto_command c;
		bool eof = true;
		enum proto_status st =
			proto_parse(data + pos, size - pos, eof, FUZZ_MAX_COMMAND, &c);
		if (st != PROTO_COMMAND)
			break;
		check(c.consumed > 0 && c.consumed <= size - pos && c.consumed <= FUZZ_MAX_COMMAND);
		if (c.arg) {
			const uint8_t *a = (const uint8_t *)c.arg;
			check(a >= data + pos &&
			      c.arg_len <= (size_t)(data + pos + c.consumed - a));
		}
		(void)proto_cmd_name(c.cmd);
		(void)proto_session_allowed(c.cmd);
		(void)proto_term(c.style);
		pos += c.consumed;
		if (c.cmd != CMD_INSTREAM)
			continue;
		/* The daemon's INSTREAM loop: the header is checked against what
		 * is left of the limit before any data is taken. */
		uint64_t total = 0;
		for (;;) {
			if (size - pos < 4)
				return 0;
			uint32_t len = proto_chunk_len(data + pos);
			pos += 4;
			if (len == 0)
				break;
			if (len > FUZZ_STREAM_MAX - total)
				return 0;
			if (len > size - pos)
				return 0;
			pos += len;
			total += len;
			check(total <= FUZZ_STREAM_MAX);
		}
	}
	return 0;
}
