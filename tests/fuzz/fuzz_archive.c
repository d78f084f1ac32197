/* libFuzzer harness: archive_walk over arbitrary bytes with small limits (the
 * engine's limits stay on in harnesses, STYLE.md 13). Each delivered member
 * is touched so ASan sees any out-of-bounds view. Seeds: tiny archives of
 * every format; dictionary: tests/fuzz/dict/archive.dict. */
#include <stddef.h>
#include <stdint.h>

#include "formats/formats.h"

static ward_err touch(void *ctx, const char *name, const uint8_t *data, size_t len)
{
	unsigned *sum = ctx;
	for (size_t i = 0; name[i]; i++)
		*sum += (uint8_t)name[i];
	for (size_t i = 0; i < len; i++)
		*sum += data[i];
	return WARD_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct archive_limits lim = {
		.max_filesize = 1u << 20,
		.max_files = 64,
		.max_total = 4u << 20,
		.deadline_ms = now_ms() + 2000,
	};
	unsigned notes = 0, sum = 0;
	char msg[128];
	ward_err e = archive_walk(data, size, &lim, touch, &sum, &notes, msg, sizeof msg);
	(void)e;
	(void)sum;
	return 0;
}
