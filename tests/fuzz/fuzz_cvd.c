/* libFuzzer harness for CVD/CLD containers (lib/db/cvd.c) and their .info
 * member (lib/db/cvd_info.c). Unsigned containers are allowed and the input
 * is named ".cld" (whose header MD5 is not checked, as in ClamAV), so the
 * fuzzer gets past the header into the tar walk, the .info parser and
 * signature check, the member matching and the member loaders. The input is
 * also parsed as the text of a .info member on its own, and a DSIG line it
 * holds is checked against ClamAV's key. Engine limits stay on. */
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "db/cvd.h"
#include "db/sigs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvd_header hdr;
	char why[256];
	ward_err e = cvd_parse_header(data, size, &hdr, why, sizeof why);
	(void)e;

	struct cvd_info info;
	if (cvd_info_parse(data, size, &info, why, sizeof why) == WARD_OK && info.has_dsig) {
		uint8_t digest[32];
		unsigned int dlen = 0;
		if (EVP_Digest(data, info.signed_len, digest, &dlen, EVP_sha256(), NULL) == 1) {
			e = cvd_info_verify_dsig(digest, info.dsig, info.dsig_len, cvd_info_key_n,
						 cvd_info_key_e);
			/* ClamAV's key is a valid key for the scheme, whatever the input. */
			if (e == WARD_EINVAL)
				__builtin_trap();
		}
	}
	cvd_info_free(&info);

	ward_load_opts opts = {NULL, NULL, WARD_LOAD_ALLOW_UNSIGNED_CVD, NULL};
	struct sigset set;
	sigset_init(&set, &opts);
	e = db_load_cvd(&set, "fuzz.cld", data, size);
	(void)e;
	sigset_free(&set);
	return 0;
}
