/* libFuzzer harness: both normalisers; checks the documented output bounds
 * (ASCII never grows, HTML stays under 2*len+16) and that a short cap only
 * truncates. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/textnorm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	size_t cap = 2 * size + 16, n = 0, m = 0;
	uint8_t *out = malloc(cap), *small = malloc(size / 2 + 1);
	if (!out || !small)
		goto out;
	if (textnorm_ascii(data, size, out, size, &n) != WARD_OK || n > size)
		__builtin_trap();
	if (textnorm_html(data, size, out, cap, &n) != WARD_OK || n > cap)
		__builtin_trap();
	/* A smaller cap gives a prefix of the full output. */
	ward_err e = textnorm_html(data, size, small, size / 2 + 1, &m);
	if (m > size / 2 + 1 || (e == WARD_OK && m != n) || memcmp(small, out, m) != 0)
		__builtin_trap();
out:
	free(out);
	free(small);
	return 0;
}
