/* libFuzzer harness for CVD/CLD containers (lib/db/cvd.c). Unsigned
 * containers are allowed and the input is named ".cld" (where a body that
 * does not match the header's MD5 is "unverified", not corrupt), so the fuzzer
 * gets past the MD5 and signature checks into the tar walk and the member
 * loaders. Engine limits stay on. */
#include <stddef.h>
#include <stdint.h>

#include "db/cvd.h"
#include "db/sigs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvd_header hdr;
	char why[256];
	ward_err e = cvd_parse_header(data, size, &hdr, why, sizeof why);
	(void)e;

	ward_load_opts opts = {NULL, NULL, WARD_LOAD_ALLOW_UNSIGNED_CVD, NULL};
	struct sigset set;
	sigset_init(&set, &opts);
	e = db_load_cvd(&set, "fuzz.cld", data, size);
	(void)e;
	sigset_free(&set);
	return 0;
}
