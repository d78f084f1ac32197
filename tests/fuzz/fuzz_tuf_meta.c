/* libFuzzer harness for update metadata (lib/update): the bounded JSON
 * parser, the canonical form (which must parse back to itself) and the
 * parser of every TUF role. The first byte picks the role so one corpus
 * covers all four; the rest is the document. Engine limits stay on. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "update/json.h"
#include "update/tuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	tuf_role role = (tuf_role)(data[0] % TUF_NROLES);
	data++, size--;

	jdoc d;
	if (json_parse(&d, data, size, NULL, 0) == WARD_OK) {
		/* canonical(parse(x)) must parse, and canonicalise to itself */
		dbuf a, b;
		dbuf_init(&a, WARD_MAX_JSON_DOC);
		dbuf_init(&b, WARD_MAX_JSON_DOC);
		if (json_canonical(&d, d.root, &a) == WARD_OK) {
			jdoc d2;
			if (json_parse(&d2, a.s, a.len, NULL, 0) != WARD_OK)
				abort();
			if (json_canonical(&d2, d2.root, &b) != WARD_OK || a.len != b.len ||
			    memcmp(a.s, b.s, a.len))
				abort();
			jdoc_free(&d2);
		}
		dbuf_free(&a);
		dbuf_free(&b);
		jdoc_free(&d);
	}

	tuf_meta m;
	char why[256];
	tuf_meta_init(&m);
	if (tuf_meta_parse(&m, role, data, size, why, sizeof why) == WARD_OK && role == TUF_ROOT) {
		/* verification against itself walks signatures and keys */
		size_t valid;
		(void)tuf_verify(&m.u.root, TUF_ROOT, &m, &valid, why, sizeof why);
	}
	tuf_meta_free(&m);
	return 0;
}
