/* libFuzzer harness for pattern packages (lib/pkg). The first byte picks the
 * target, the rest is the input:
 *   0: ward_pkg_parse (header, manifest, members, hashes) and ward_pkg_serves;
 *   1: a delta applied to a fixed base package (parse, then the edit-script
 *      applier and the assembler; the signature and base-hash checks are
 *      skipped so hostile scripts reach the applier);
 *   2: ward_pkg_lint_line on an .ndb, .ldb or .hdb line (second byte picks);
 *   3: ward_pkg_line_flevel.
 * The fixed base is what `ward pattern build --unsigned` makes from
 * BASE_MANIFEST and the two members below (deterministic), so seeds for mode
 * 1 are deltas made against it. Engine limits stay on. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pkg/pkg_int.h"
#include "ward/pkg.h"

static const char base_ndb[] = "Test.One:0:*:414243444546474849\n"
			       "Test.Two:0:*:6a6b6c6d6e6f7071\n"
			       "Test.Four:0:*:7a7a7a7a7b7b7b7b\n";
static const char base_hdb[] = "900150983cd24fb0d6963f7d28e17f72:3:Test.Hash\n";

static ward_pkg *base_pkg(void)
{
	static ward_pkg *base;
	if (base)
		return base;
	const char *plat[] = {"linux/x86_64"};
	const char *log[] = {"fuzz base"};
	ward_pkg_member_in m[] = {
		{"main.hdb", (const uint8_t *)base_hdb, sizeof base_hdb - 1},
		{"main.ndb", (const uint8_t *)base_ndb, sizeof base_ndb - 1},
	};
	ward_pkg_build_in in = {
		.version = 100,
		.created = 1704067200,
		.engine_min = 1,
		.engine_max = WARD_PKG_ENGINE_ANY,
		.platforms = plat,
		.nplatforms = 1,
		.changelog = log,
		.nchangelog = 1,
		.members = m,
		.nmembers = 2,
	};
	uint8_t *buf = NULL;
	size_t len = 0;
	if (ward_pkg_build(&in, NULL, &buf, &len, NULL, 0) != WARD_OK)
		return NULL;
	if (ward_pkg_parse(buf, len, &base, NULL, 0) != WARD_OK)
		base = NULL;
	ward_pkg_buf_free(buf);
	return base;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	if (size < 1)
		return 0;
	uint8_t mode = data[0] & 3;
	data++;
	size--;
	if (mode == 0 || mode == 1) {
		ward_pkg *p = NULL;
		if (ward_pkg_parse(data, size, &p, why, sizeof why) != WARD_OK)
			return 0;
		const ward_pkg_meta *m = ward_pkg_get_meta(p);
		(void)ward_pkg_serves(p, 216, "linux", "x86_64");
		for (size_t i = 0; i < m->nfiles; i++)
			(void)m->files[i].name[0];
		ward_pkg *b = mode == 1 ? base_pkg() : NULL;
		if (b && m->kind == WARD_PKG_KIND_DELTA) {
			uint8_t *out = NULL;
			size_t outlen = 0;
			if (pkg_delta_rebuild(b, p, &out, &outlen, why, sizeof why) == WARD_OK) {
				ward_pkg *t = NULL;
				if (ward_pkg_parse(out, outlen, &t, why, sizeof why) == WARD_OK)
					ward_pkg_free(t);
			}
			ward_pkg_buf_free(out);
		}
		ward_pkg_free(p);
		return 0;
	}
	static const char *const names[] = {"f.ndb", "f.ldb", "f.hdb", "f.mdb"};
	if (size < 1)
		return 0;
	const char *name = names[data[0] & 3];
	data++;
	size--;
	if (mode == 2) {
		unsigned n = 0;
		ward_err e =
			ward_pkg_lint_line(name, (const char *)data, size, NULL, NULL, NULL, &n);
		(void)e;
	} else {
		uint32_t lo, hi;
		char sig[64];
		(void)ward_pkg_line_flevel(name, (const char *)data, size, &lo, &hi, sig,
					   sizeof sig);
	}
	return 0;
}
