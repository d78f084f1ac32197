/*
 * Update metadata modelled on The Update Framework (TUF 1.0): the four
 * top-level roles, their parsed form, signing and verification. Internal to
 * lib/update; the public surface is include/ward/update.h. Design and file
 * formats: docs/internals/update.md.
 */
#ifndef WARD_UPDATE_TUF_H
#define WARD_UPDATE_TUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "update/json.h"
#include "util/util.h"
#include "ward/update.h"
#include "ward_limits.h"

typedef enum tuf_role {
	TUF_ROOT = 0,
	TUF_TARGETS,
	TUF_SNAPSHOT,
	TUF_TIMESTAMP,
	TUF_NROLES
} tuf_role;

const char *tuf_role_name(tuf_role r);
bool tuf_role_parse(const char *s, tuf_role *out);

/* ---- crypto (crypto.c) ---- */
#define TUF_KEYID_LEN 32
#define TUF_PUB_LEN 32
#define TUF_SIG_LEN 64

void tuf_sha256(const void *p, size_t n, uint8_t out[32]);
/* Key id: SHA-256 of the raw 32-byte Ed25519 public key. */
void tuf_keyid(const uint8_t pub[TUF_PUB_LEN], uint8_t id[TUF_KEYID_LEN]);
bool tuf_ed25519_verify(const uint8_t pub[TUF_PUB_LEN], const void *msg, size_t n,
			const uint8_t sig[TUF_SIG_LEN]);
/* Lowercase hex of n bytes into out (2n+1 bytes). */
void tuf_hex(const uint8_t *p, size_t n, char *out);
/* Exactly 2n lowercase or uppercase hex digits into n bytes. */
bool tuf_unhex(const char *s, size_t slen, uint8_t *out, size_t n);
/* Constant-time compare: hashes from an attacker are compared with ours. */
bool tuf_memeq(const void *a, const void *b, size_t n);

/* An Ed25519 signing key read from a PEM file (private) or its public half
 * (public or private PEM). */
typedef struct tuf_signer tuf_signer;
ward_err tuf_signer_load(const char *pem_path, tuf_signer **out, char *why, size_t whylen) WARD_WUR;
void tuf_signer_free(tuf_signer *s);
const uint8_t *tuf_signer_pub(const tuf_signer *s);
const uint8_t *tuf_signer_id(const tuf_signer *s);
bool tuf_signer_has_private(const tuf_signer *s);
ward_err tuf_sign(const tuf_signer *s, const void *msg, size_t n, uint8_t sig[TUF_SIG_LEN]);
/* Generate a key pair; write the private key (PKCS#8 PEM, mode 0600,
 * refusing to overwrite) to priv_path and the public key to pub_path (may be
 * NULL). */
ward_err tuf_keygen(const char *priv_path, const char *pub_path, uint8_t id[TUF_KEYID_LEN],
		    char *why, size_t whylen) WARD_WUR;

/* ---- time (meta.c) ---- */
/* "YYYY-MM-DDTHH:MM:SSZ" only (RFC 3339, UTC, no fractions). */
bool tuf_time_parse(const char *s, size_t n, int64_t *out);
void tuf_time_format(int64_t t, char out[32]);

/* ---- the parsed model ---- */
typedef struct tuf_key {
	uint8_t id[TUF_KEYID_LEN];
	uint8_t pub[TUF_PUB_LEN];
} tuf_key;

typedef struct tuf_rolekeys {
	uint8_t ids[WARD_MAX_TUF_KEYS][TUF_KEYID_LEN];
	size_t nids;
	uint64_t threshold; /* >= 1 */
} tuf_rolekeys;

typedef struct tuf_root {
	tuf_key keys[WARD_MAX_TUF_KEYS];
	size_t nkeys;
	tuf_rolekeys roles[TUF_NROLES];
	bool consistent_snapshot;
} tuf_root;

/* A reference to another metadata file (timestamp -> snapshot, snapshot ->
 * targets): its version and, when present, length and SHA-256. */
typedef struct tuf_metaref {
	uint64_t version;
	uint64_t length; /* 0: not listed */
	bool has_hash;
	uint8_t sha256[32];
} tuf_metaref;

typedef struct tuf_target {
	char name[WARD_MAX_TARGET_NAME + 1];
	uint64_t length;
	uint8_t sha256[32];
	/* custom.ward: the package's version, channel and when it entered it. */
	uint64_t pkg_version;
	char channel[16];
	int64_t released;
	/* custom.ward.delta: nonzero for a delta package that rebuilds the
	 * full target delta_full (of the same pkg_version) from the package of
	 * version delta_base. Delta targets have no channel of their own: they
	 * follow their full target. */
	uint64_t delta_base;
	char delta_full[WARD_MAX_TARGET_NAME + 1];
} tuf_target;

/* One verified (or to-be-verified) metadata document. */
typedef struct tuf_meta {
	tuf_role role;
	uint64_t version;
	int64_t expires;
	jdoc doc;     /* the whole envelope {"signed":..., "signatures":[...]} */
	jref signed_; /* the "signed" object */
	union {
		tuf_root root;
		tuf_metaref snapshot; /* timestamp: its snapshot.json */
		tuf_metaref targets;  /* snapshot: its targets.json */
	} u;
	tuf_target *targets; /* targets role: nt entries */
	size_t ntargets;
} tuf_meta;

void tuf_meta_init(tuf_meta *m);
void tuf_meta_free(tuf_meta *m);

/* Parse bytes as metadata of role `role` (the _type must say so). No
 * signature is checked: see tuf_verify(). */
ward_err tuf_meta_parse(tuf_meta *m, tuf_role role, const void *buf, size_t len, char *why,
			size_t whylen) WARD_WUR;

/* Count distinct keys of role `role` in `root` whose signature over the
 * canonical "signed" part of m verifies; true if at least the role's
 * threshold. Each key counts once, however often it signed. *valid receives
 * the count. */
bool tuf_verify(const tuf_root *root, tuf_role role, const tuf_meta *m, size_t *valid, char *why,
		size_t whylen);

/* Add (or replace) the signature of signer on m's signed part. */
ward_err tuf_meta_sign(tuf_meta *m, const tuf_signer *s) WARD_WUR;
/* Drop every signature (after the signed part changed). */
ward_err tuf_meta_clear_sigs(tuf_meta *m) WARD_WUR;
/* Serialise the envelope (canonical form) into out. */
ward_err tuf_meta_write(const tuf_meta *m, dbuf *out) WARD_WUR;

/* Does role `role` of `root` list key id `id`? */
bool tuf_role_has_key(const tuf_root *root, tuf_role role, const uint8_t id[TUF_KEYID_LEN]);

#endif /* WARD_UPDATE_TUF_H */
