/*
 * A small bounded JSON parser and builder for update metadata, and the
 * canonical form that signatures cover (docs/internals/update.md).
 *
 * The document is a flat array of nodes (children linked by index) plus one
 * byte store for strings, so a document is two allocations that grow under
 * ceilings (WARD_MAX_JSON_NODES, WARD_MAX_JSON_DOC). Strings are stored
 * unescaped and NUL-terminated; they may contain no NUL byte (a "\u0000"
 * escape is refused) so C string functions are safe on them.
 *
 * Accepted grammar: RFC 8259 minus fractions, exponents and negative numbers
 * (TUF's canonical JSON has integers only); duplicate object keys and invalid
 * UTF-8 are refused (two parsers must never disagree on what was signed).
 */
#ifndef WARD_UPDATE_JSON_H
#define WARD_UPDATE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

typedef enum jtype { J_NULL = 0, J_FALSE, J_TRUE, J_INT, J_STR, J_ARR, J_OBJ } jtype;

/* Node indices; 0 means "none" (node 0 is never a value). */
typedef uint32_t jref;

typedef struct jnode {
	jtype type;
	jref first, last;   /* children of an array or object */
	jref next;          /* next sibling */
	uint32_t count;     /* children */
	size_t key, keylen; /* object member: key offset in strs, length */
	size_t str, len;    /* J_STR: offset in strs, length */
	uint64_t num;       /* J_INT */
} jnode;

typedef struct jdoc {
	vec nodes; /* jnode; index 0 is a dummy */
	dbuf strs; /* every string, NUL-terminated */
	jref root;
} jdoc;

void jdoc_init(jdoc *d);
void jdoc_free(jdoc *d);

/* Parse len bytes. On failure the document is freed and why (may be NULL)
 * says where: "offset N: reason". */
ward_err json_parse(jdoc *d, const void *buf, size_t len, char *why, size_t whylen) WARD_WUR;

/* ---- reading ---- */
static inline const jnode *jget(const jdoc *d, jref r)
{
	return r ? &VEC_AT(&d->nodes, jnode, r) : NULL;
}
static inline const char *jstr(const jdoc *d, jref r) { return d->strs.s + jget(d, r)->str; }
static inline const char *jkey(const jdoc *d, jref r) { return d->strs.s + jget(d, r)->key; }
/* Member of object o named key, or 0 (also when o is not an object). */
jref jobj_get(const jdoc *d, jref o, const char *key);
/* Typed member lookups: false when missing or of another type. */
bool jobj_str(const jdoc *d, jref o, const char *key, const char **s, size_t *len);
bool jobj_u64(const jdoc *d, jref o, const char *key, uint64_t *v);
bool jobj_bool(const jdoc *d, jref o, const char *key, bool *v);
jref jobj_typed(const jdoc *d, jref o, const char *key, jtype t);

/* ---- building ----
 * Each returns the new node (0 on allocation failure or past a ceiling; the
 * document then stays valid and json_failed() is true). Strings are copied. */
jref jnew(jdoc *d, jtype t);
jref jnew_str(jdoc *d, const char *s, size_t len);
jref jnew_strz(jdoc *d, const char *s);
jref jnew_int(jdoc *d, uint64_t v);
/* Append v to array a, or set member key of object o (no duplicate check:
 * builders set each key once). Return false on failure. */
bool jarr_add(jdoc *d, jref a, jref v);
bool jobj_put(jdoc *d, jref o, const char *key, jref v);
/* Deep-copy node r of src into dst. */
jref jcopy(jdoc *dst, const jdoc *src, jref r, unsigned depth);
/* Remove member key from object o, if present. */
void jobj_del(jdoc *d, jref o, const char *key);

/* Canonical form of node r appended to out: object members sorted by key
 * bytes, no whitespace, integers in decimal, strings escaping only '"', '\\'
 * and bytes below 0x20 (as \u00xx). */
ward_err json_canonical(const jdoc *d, jref r, dbuf *out) WARD_WUR;

#endif /* WARD_UPDATE_JSON_H */
