/* libFuzzer harness for the PE parser and the .imp hash (lib/formats/pe.c).
 * Every input goes through pe_parse; when it parses, pe_imphash runs too and
 * the reported sections are checked against the buffer bounds. */
#include <stdint.h>
#include <stdlib.h>

#include "formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exeinfo e;
	uint8_t md5[16];
	uint64_t impsz;

	if (pe_parse(data, size, &e) != WARD_OK)
		return 0;
	if (e.kind != EXE_PE || !e.ep_valid || e.ep >= size || e.nstored > e.nsections ||
	    e.nstored > WARD_MAX_PE_SECTIONS)
		abort();
	for (uint32_t i = 0; i < e.nstored; i++) {
		const struct exe_section *s = &e.sections[i];
		if (s->raw_size && (s->raw_offset >= size || s->raw_size > size - s->raw_offset))
			abort();
	}
	ward_err err = pe_imphash(data, size, &e, md5, &impsz);
	if (err == WARD_OK && impsz == 0)
		abort();
	return 0;
}
