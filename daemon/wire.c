/*
 * Parsers of what wardd's own processes send (wire.h). Pure: no I/O, no
 * allocation, every read bounded by the message length.
 */
#include "wire.h"

#include <string.h>

bool wire_parse_reply(struct scan_result *r, size_t n)
{
	struct wrep rep;
	if (n < sizeof rep || n > sizeof r->buf)
		return false;
	memcpy(&rep, r->buf, sizeof rep);
	if (rep.magic != WREP_MAGIC || rep.nnames > sizeof r->names / sizeof r->names[0] ||
	    (rep.status != SCAN_CLEAN && rep.status != SCAN_FOUND && rep.status != SCAN_ERROR))
		return false;
	if ((rep.status != SCAN_CLEAN && rep.nnames == 0) ||
	    (rep.status == SCAN_CLEAN && rep.nnames))
		return false;
	size_t off = sizeof rep;
	for (uint32_t i = 0; i < rep.nnames; i++) {
		const char *s = r->buf + off;
		const char *z = memchr(s, '\0', n - off);
		if (!z)
			return false;
		r->names[i] = s;
		off += (size_t)(z - s) + 1;
	}
	r->status = (enum scan_status)rep.status;
	r->nnames = rep.nnames;
	r->bytes = rep.bytes;
	return true;
}

bool wire_parse_host_msg(const char *buf, size_t n, struct host_msg *out)
{
	memset(out, 0, sizeof *out);
	if (n < sizeof out->h || n > HMSG_MAX)
		return false;
	memcpy(&out->h, buf, sizeof out->h);
	if (out->h.magic != HMSG_MAGIC)
		return false;
	if (out->h.type == HMSG_RESULT)
		return n == sizeof out->h;
	if (out->h.type != HMSG_DIAG)
		return false;
	/* "file\0message\0", both inside the datagram */
	const char *file = buf + sizeof out->h;
	const char *z1 = memchr(file, '\0', n - sizeof out->h);
	if (!z1)
		return false;
	const char *msg = z1 + 1;
	if (!memchr(msg, '\0', (size_t)(buf + n - msg)))
		return false;
	out->file = file;
	out->msg = msg;
	return true;
}
