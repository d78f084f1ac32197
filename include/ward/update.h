/*
 * Pattern updates: a repository publisher (`ward repo`) and a client
 * (`ward update`), with metadata modelled on The Update Framework (TUF):
 * root (k-of-n keys, rotation by chained versions), targets, snapshot and
 * timestamp. Design, file formats and the threat model:
 * docs/internals/update.md.
 *
 * Every function reports why it failed in a caller buffer (why/whylen, or
 * result->message): the text names the file and the check that refused it.
 * Strings passed in are copied or used during the call only.
 */
#ifndef WARD_UPDATE_H
#define WARD_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/ward.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- keys ---------------------------------------------------------------- */

/* Generate an Ed25519 key pair. The private key goes to priv_path (PKCS#8
 * PEM, mode 0600; an existing file is never overwritten), the public key to
 * pub_path (may be NULL). keyid receives the key id: lowercase hex SHA-256 of
 * the raw 32-byte public key. Private keys belong offline, never in a
 * repository directory. */
ward_err ward_update_keygen(const char *priv_path, const char *pub_path, char keyid[65], char *why,
			    size_t whylen) WARD_WUR WARD_NONNULL(1, 3);

/* ---- repository (publisher) --------------------------------------------- */

/* Key files of one role (PEM, public or private) and its threshold k of n. */
typedef struct ward_repo_role_keys {
	const char *const *paths;
	size_t n;
	uint64_t threshold; /* 0 means 1 */
} ward_repo_role_keys;

typedef struct ward_repo_opts {
	int64_t now; /* seconds since the epoch; 0 means the clock */
	/* Validity of new metadata in seconds, per role (root, targets,
	 * snapshot, timestamp); 0 means the default (365 d, 90 d, 7 d, 1 d). */
	uint64_t expires[4];
	/* Tests only: let `sign` use keys the root does not list for the role and
	 * `publish` write targets below their threshold (what an attacker with
	 * the online keys alone could serve), so clients can be tested against
	 * it. Root thresholds are always enforced. */
	bool unsafe;
} ward_repo_opts;

/* Create a repository work directory: DIR/staged/ (metadata waiting for
 * signatures) and DIR/public/ (what a web server serves). The staged root is
 * version 1 and unsigned; sign it with `ward_repo_sign(dir, "root", ...)`. */
ward_err ward_repo_init(const char *dir, const ward_repo_role_keys keys[4],
			const ward_repo_opts *opts, char *why, size_t whylen) WARD_WUR
	WARD_NONNULL(1, 2);

/* Stage the next root version with new keys (a rotation). It must be signed
 * by a threshold of the previous root's root keys AND of its own. */
ward_err ward_repo_rotate(const char *dir, const ward_repo_role_keys keys[4],
			  const ward_repo_opts *opts, char *why, size_t whylen) WARD_WUR
	WARD_NONNULL(1, 2);

/* A target (pattern package) to list in targets metadata. */
typedef struct ward_repo_target {
	const char *file;    /* copied into DIR/public/targets/ */
	const char *name;    /* target name: [A-Za-z0-9._-], not starting with '.' */
	uint64_t version;    /* the package's version (grows with each release) */
	const char *channel; /* "preview" or "stable" */
	int64_t released;    /* when it entered the channel; 0 means now */
} ward_repo_target;

/* Add or replace a target in the staged targets metadata (new version,
 * signatures cleared). Promote a release by adding it again with channel
 * "stable". */
ward_err ward_repo_add(const char *dir, const ward_repo_target *t, const ward_repo_opts *opts,
		       char *why, size_t whylen) WARD_WUR WARD_NONNULL(1, 2);

/* A delta package (`ward pattern delta`) to list beside its full target. */
typedef struct ward_repo_delta {
	const char *file;    /* copied into DIR/public/targets/ */
	const char *full;    /* name of the staged full target it rebuilds */
	const char *name;    /* target name; NULL: "delta-BASE-VERSION.wpkg" */
	const char *pkg_key; /* pattern public key: check the delta's signature; may be NULL */
} ward_repo_delta;

/* Add a delta target to the staged targets metadata (new version,
 * signatures cleared). Its custom.ward names the base version and the full
 * target; the delta must rebuild exactly that target (its target size and
 * SHA-256 equal the full target's length and hash; opts->unsafe skips this
 * check, for client tests). A delta with the same base and version is
 * replaced. Re-adding the full target with other bytes drops its deltas. */
ward_err ward_repo_add_delta(const char *dir, const ward_repo_delta *t, const ward_repo_opts *opts,
			     char *why, size_t whylen) WARD_WUR WARD_NONNULL(1, 2);

/* Sign staged metadata of role ("root" or "targets") with a private key. The
 * key must be listed for the role (for root: in the staged root or in the
 * previous published root). */
ward_err ward_repo_sign(const char *dir, const char *role, const char *key_path,
			const ward_repo_opts *opts, char *why, size_t whylen) WARD_WUR
	WARD_NONNULL(1, 2, 3);

/* Publish: check the staged root and targets carry their thresholds (a
 * rotated root also the previous root's), then write N.root.json,
 * N.targets.json, a new N.snapshot.json and finally timestamp.json (a rename:
 * a client sees the old or the new repository, never a mix). The snapshot and
 * timestamp keys are online keys given here. */
ward_err ward_repo_publish(const char *dir, const char *const *snapshot_keys, size_t nsnap,
			   const char *const *timestamp_keys, size_t nts,
			   const ward_repo_opts *opts, char *why, size_t whylen) WARD_WUR
	WARD_NONNULL(1);

/* ---- client ------------------------------------------------------------- */

/* What an update refused, one value per attack TUF names. */
typedef enum ward_update_refusal {
	WARD_UPD_NONE = 0,
	WARD_UPD_ROLLBACK,          /* metadata older than what was seen before */
	WARD_UPD_FREEZE,            /* expired metadata */
	WARD_UPD_MIX_AND_MATCH,     /* a file that is not the one the signed chain names */
	WARD_UPD_ENDLESS_DATA,      /* more bytes than the metadata allows */
	WARD_UPD_BAD_SIGNATURE,     /* wrong key or too few signatures */
	WARD_UPD_BAD_TARGET,        /* package bytes do not match their hashes */
	WARD_UPD_BAD_ROOT_ROTATION, /* a new root not signed by old and new thresholds */
	WARD_UPD_MALFORMED,         /* metadata that does not parse */
	WARD_UPD_UNAVAILABLE,       /* no mirror could serve a file */
	WARD_UPD_LOAD_FAILED,       /* the new pattern failed its test load */
	WARD_UPD__COUNT
} ward_update_refusal;

/* Static string, e.g. "rollback attack". */
const char *ward_update_refusal_name(ward_update_refusal r);

typedef struct ward_update_opts {
	const char *state_dir;      /* trusted root and last seen metadata */
	const char *pattern_dir;    /* current -> versions/V, previous -> versions/U */
	const char *const *mirrors; /* base URLs, tried in order for each file */
	size_t nmirrors;
	const char *channel; /* "preview", "stable" (NULL), "stable+48h" (stable+Nh) */
	uint64_t pin;        /* nonzero: install exactly this package version */
	int64_t now;         /* 0: the clock (tests fix it) */
	uint64_t load_mem;   /* test load address-space cap in bytes; 0: default */
	uint64_t load_cpu_s; /* test load CPU seconds; 0: default */
	uint64_t timeout_s;  /* one transfer; 0: default */
	/* Public key of the pattern packages (`ward pattern keygen`): each
	 * target is then a package verified with ward_pkg_verify_file() and
	 * unpacked. NULL: each target is one database file (development). */
	const char *pkg_key;
	ward_diag_fn diag; /* progress and per-mirror failures; may be NULL */
	void *diag_ctx;
} ward_update_opts;

typedef struct ward_update_result {
	ward_update_refusal refusal;
	bool changed;         /* a new pattern was activated (or rolled back) */
	uint64_t old_version; /* active before (0: none) */
	uint64_t new_version; /* active after */
	char message[512];    /* what happened, or why it was refused */
	/* How the package arrived (with a package key): nonzero delta_base
	 * when it was rebuilt from a delta against that installed version;
	 * fetched_bytes counts every package byte downloaded (a refused delta
	 * and the full package both count); package_bytes is the size of the
	 * full package targets.json lists. */
	uint64_t delta_base;
	uint64_t fetched_bytes;
	uint64_t package_bytes;
} ward_update_result;

/* Trust a root: copy root_path into state_dir (created if needed) after
 * checking it is a root signed by its own threshold. The root must come by
 * a trusted channel (shipped with the program). */
ward_err ward_update_init(const char *state_dir, const char *root_path, char *why,
			  size_t whylen) WARD_WUR WARD_NONNULL(1, 2);

/* One update cycle: refresh metadata from the mirrors (root chain,
 * timestamp, snapshot, targets), choose the package for the channel or pin,
 * download it (length capped), verify it, test-load it in a child process
 * with CPU and memory limits, then switch pattern_dir/current atomically,
 * keeping the previous pattern as pattern_dir/previous.
 * WARD_OK: up to date or updated (result->changed). WARD_EBADSIG: refused
 * (result->refusal says which attack); other codes: I/O, network, memory. */
ward_err ward_update_run(const ward_update_opts *o, ward_update_result *res) WARD_WUR
	WARD_NONNULL(1, 2);

/* Make the last-known-good pattern current again (and the current one the
 * previous). Uses o->pattern_dir and o->state_dir only. */
ward_err ward_update_rollback(const ward_update_opts *o, ward_update_result *res) WARD_WUR
	WARD_NONNULL(1, 2);

/* Versions linked as current and previous (0 when absent). */
ward_err ward_update_active(const char *pattern_dir, uint64_t *current, uint64_t *previous) WARD_WUR
	WARD_NONNULL(1, 2, 3);

/* Parse "YYYY-MM-DDTHH:MM:SSZ" (the only time form metadata uses). */
bool ward_update_parse_time(const char *s, int64_t *out) WARD_NONNULL(2);

#ifdef __cplusplus
}
#endif
#endif /* WARD_UPDATE_H */
