/* libFuzzer harness: ftype_detect and the name mapping over arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum ftype t = ftype_detect(data, size);
	if ((unsigned)t >= FT__COUNT)
		__builtin_trap();
	const char *n = ftype_clamav_name(t);
	if (!n || strncmp(n, "CL_TYPE_", 8) != 0)
		__builtin_trap();
	(void)ftype_is_container(t);
	/* The input as a type name, too. */
	int r = ftype_from_clamav_name((const char *)data, size);
	if (r < -1 || r >= FT__COUNT)
		__builtin_trap();
	return 0;
}
