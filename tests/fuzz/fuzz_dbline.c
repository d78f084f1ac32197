/*
 * libFuzzer harness for the database line parsers: the first byte picks the
 * format (by file extension), the rest is database text fed through
 * db_load_buffer() into a sigset, then ignore lists are applied and the set
 * freed. Engine limits stay on (WARD_MAX_LINE etc.).
 */
#include <stddef.h>
#include <stdint.h>

#include "db/sigs.h"

static const char *const names[] = {
	"f.hdb", "f.hsb", "f.mdb", "f.msb",  "f.imp", "f.fp",  "f.sfp",
	"f.ndb", "f.ldb", "f.ign", "f.ign2", "f.wdb", "f.cbc",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sigset set;
	if (size < 1)
		return 0;
	const char *name = names[data[0] % (sizeof names / sizeof names[0])];
	sigset_init(&set, NULL);
	/* Official and unofficial naming both: the low bit of the selector
	 * byte's upper half. */
	(void)db_load_buffer(&set, name, (const char *)data + 1, size - 1, (data[0] & 0x80) != 0);
	sigset_apply_ignores(&set);
	sigset_free(&set);
	return 0;
}
