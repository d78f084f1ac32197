/*
 * Activating a pattern on the client: the layout of the pattern directory,
 * the test load in a limited child process, and the atomic switch.
 *
 *   PATTERN/current  -> versions/V-TAG   what scanners load (-d PATTERN/current)
 *   PATTERN/previous -> versions/U-TAG   last known good, for --rollback
 *   PATTERN/versions/V-TAG/              one unpacked pattern per directory
 *   PATTERN/packages/V-TAG.wpkg          the verified package it came from
 *                                        (the base a delta applies to)
 *
 * A version directory is complete before it gets its final name (rename),
 * and a link changes only by rename of a fresh symlink over it, so at every
 * instant `current` names a complete directory that passed its test load.
 */
#ifndef WARD_UPDATE_ACTIVATE_H
#define WARD_UPDATE_ACTIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* Crash-test hook: when the environment variable WARD_UPDATE_TEST_KILL_AT
 * equals step, the process sends itself SIGKILL (tests/cli/test_update_crash.sh
 * walks every step). */
void act_killpoint(unsigned step);

/* Version named by a link (0 when the link is absent or malformed) and the
 * link's target relative to the pattern dir (rel may be NULL). */
uint64_t act_link_version(const char *pattern_dir, const char *link, char *rel, size_t rellen);

/* Load dir with ward_db_load in a child limited to mem bytes of address
 * space, cpu_s seconds of CPU and twice that of wall time. Refuses bad files
 * and bad lines: a release that does not load cleanly is not activated. */
ward_err act_test_load(const char *dir, uint64_t mem, uint64_t cpu_s, char *why,
		       size_t whylen) WARD_WUR;

/* Point PATTERN/link at rel ("versions/V-TAG") atomically. */
ward_err act_set_link(const char *pattern_dir, const char *link, const char *rel) WARD_WUR;

/* PATTERN/packages/TAG.wpkg for rel "versions/TAG"; false when rel is not
 * a version directory or the path does not fit. */
bool act_package_path(const char *pattern_dir, const char *rel, char *buf, size_t n);

/* Remove version directories that neither link names, their packages, and
 * temporaries of interrupted runs. Call with the state lock held. */
void act_cleanup(const char *pattern_dir);

#endif /* WARD_UPDATE_ACTIVATE_H */
