/* libFuzzer harness for compiled images (lib/compile/image.c): the input is
 * an image body as image_load() finds it after the digest check. The binder
 * must refuse any section table, pool count, name pool or diagnostics record
 * that does not fit, without reading outside the body, and leave the
 * database reset; a body it accepts is bound and reset again. The cache
 * directory is none, so an image that names Vectorscan databases is refused
 * at that step. (The arrays' contents are trusted as the digest and the
 * ownership checks vouch for them, as Vectorscan's serialised databases
 * are: the harness checks the binder, not a hostile image in a scan.) */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compile/image.h"

static void count_diag(void *ctx, ward_err code, const char *file, unsigned long line,
		       const char *msg)
{
	(void)code;
	(void)line;
	*(size_t *)ctx += (file ? strlen(file) : 0) + strlen(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private, writable, 16-byte aligned copy, as the mapping is. */
	uint8_t *body = malloc(size ? size : 1);
	struct ward_db *db = calloc(1, sizeof *db);
	size_t said = 0;
	if (!body || !db)
		goto out;
	memcpy(body, data, size);
	ward_load_opts o = {count_diag, &said, 0, NULL};
	sigset_init(&db->set, &o);
	if (image_bind(body, size, db)) {
		/* Walk what the binder set up: every pointer must be inside. */
		size_t sum = 0;
		for (size_t i = 0; i < db->set.body.len; i++) {
			const struct pattern *p = &VEC_AT(&db->set.body, struct bodysig, i).pat;
			for (uint32_t k = 0; k < p->nnodes; k++)
				sum += p->nodes[k].val;
			for (uint32_t k = 0; k < p->nsegs; k++)
				sum += p->segs[k].minlen;
		}
		for (size_t i = 0; i < db->set.pcre.len; i++)
			sum += strlen(VEC_AT(&db->set.pcre, struct pcresig, i).regex);
		said += sum & 1;
		image_reset(db);
	}
	if (db->set.body.len || db->set.borrowed)
		__builtin_trap(); /* not reset */
	sigset_free(&db->set);
out:
	free(db);
	free(body);
	return 0;
}
