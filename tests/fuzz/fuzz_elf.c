/* libFuzzer harness for the ELF parser (lib/formats/elf.c); also feeds the
 * input to the PE parser, which must reject or accept it without harm. */
#include <stdint.h>
#include <stdlib.h>

#include "formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exeinfo e;

	if (elf_parse(data, size, &e) == WARD_OK) {
		if (e.kind != EXE_ELF || !e.ep_valid || e.nstored > e.nsections ||
		    e.nstored > WARD_MAX_PE_SECTIONS)
			abort();
		for (uint32_t i = 0; i < e.nstored; i++) {
			const struct exe_section *s = &e.sections[i];
			if (s->raw_size &&
			    (s->raw_offset >= size || s->raw_size > size - s->raw_offset))
				abort();
		}
	}
	(void)pe_parse(data, size, &e);
	return 0;
}
