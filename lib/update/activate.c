#include "update/activate.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "update/fsutil.h"
#include "ward_limits.h"

void act_killpoint(unsigned step)
{
	const char *s = getenv("WARD_UPDATE_TEST_KILL_AT");
	uint64_t n;
	if (s && parse_u64(s, strlen(s), 1000000, &n) && n == step)
		raise(SIGKILL);
}

/* "versions/<digits>-<tag>" -> the digits. */
static uint64_t rel_version(const char *rel)
{
	static const char prefix[] = "versions/";
	uint64_t v;
	if (strncmp(rel, prefix, sizeof prefix - 1))
		return 0;
	const char *p = rel + sizeof prefix - 1;
	size_t n = strspn(p, "0123456789");
	if (n == 0 || p[n] != '-' || strchr(p, '/') || !parse_u64(p, n, UINT64_MAX, &v))
		return 0;
	return v;
}

uint64_t act_link_version(const char *pattern_dir, const char *link, char *rel, size_t rellen)
{
	char p[4096], buf[256];
	if (rel && rellen)
		rel[0] = '\0';
	if (!fs_path(p, sizeof p, "%s/%s", pattern_dir, link))
		return 0;
	ssize_t n = readlink(p, buf, sizeof buf - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	uint64_t v = rel_version(buf);
	if (v && rel)
		snprintf(rel, rellen, "%s", buf);
	return v;
}

ward_err act_set_link(const char *pattern_dir, const char *link, const char *rel)
{
	char tmp[4096], dst[4096];
	if (!fs_path(tmp, sizeof tmp, "%s/.%s.tmp", pattern_dir, link) ||
	    !fs_path(dst, sizeof dst, "%s/%s", pattern_dir, link))
		return WARD_ELIMIT;
	unlink(tmp); /* a leftover from an interrupted switch */
	if (symlink(rel, tmp) != 0)
		return WARD_EIO;
	/* rename(2) replaces the old link in one step: a reader resolves
	 * either the old or the new target, never nothing. */
	if (rename(tmp, dst) != 0) {
		unlink(tmp);
		return WARD_EIO;
	}
	return fs_sync_dir(pattern_dir);
}

ward_err act_test_load(const char *dir, uint64_t mem, uint64_t cpu_s, char *why, size_t whylen)
{
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return WARD_EIO;
	}
	if (pid == 0) {
		/* The child: limits first, then the load. A hostile or broken
		 * release can only exhaust this process. Address-space limits
		 * and sanitizers' shadow memory do not mix, so sanitizer builds
		 * rely on the CPU and wall-clock limits alone. */
#ifndef WARD_ASAN
		struct rlimit as = {(rlim_t)mem, (rlim_t)mem};
		if (setrlimit(RLIMIT_AS, &as) != 0)
			_exit(125);
#endif
		struct rlimit cpu = {(rlim_t)cpu_s, (rlim_t)cpu_s + 1};
		if (setrlimit(RLIMIT_CPU, &cpu) != 0)
			_exit(125);
		uint64_t wall = cpu_s * 2 + 5;
		alarm(wall > 86400 ? 86400 : (unsigned)wall);
		const char *paths[1] = {dir};
		ward_load_opts opts = {0};
		ward_db *db = NULL;
		ward_err e = ward_db_load(paths, 1, &opts, &db);
		int rc = 0;
		if (e != WARD_OK)
			rc = 10 + (int)e;
		else if (ward_db_count(db, WARD_COUNT_BAD_FILES) ||
			 ward_db_count(db, WARD_COUNT_BAD_LINES))
			rc = 3;
		ward_db_free(db);
		_exit(rc);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(why, whylen, "waitpid: %s", strerror(errno));
			return WARD_EIO;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return WARD_OK;
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		snprintf(why, whylen, "test load of %s killed by signal %d%s", dir, sig,
			 sig == SIGXCPU || sig == SIGKILL ? " (CPU limit)"
			 : sig == SIGALRM                 ? " (time limit)"
							  : "");
	} else if (WEXITSTATUS(status) == 3) {
		snprintf(why, whylen, "test load of %s: some database files or lines are bad", dir);
	} else if (WEXITSTATUS(status) >= 10 && WEXITSTATUS(status) < 10 + WARD_ERR_COUNT) {
		snprintf(why, whylen, "test load of %s failed: %s", dir,
			 ward_strerror((ward_err)(WEXITSTATUS(status) - 10)));
	} else {
		snprintf(why, whylen, "test load of %s failed (exit %d)", dir, WEXITSTATUS(status));
	}
	return WARD_ECORRUPT;
}

/* Remove every entry of dir (depth levels deep) that keep() does not want.
 * Bounded: these directories hold a handful of entries; a flood of them is
 * left for the next run rather than looped over for ever. */
static void sweep(const char *dir, unsigned depth,
		  bool (*keep)(const char *name, const char *const *names),
		  const char *const *names)
{
	char p[4096];
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	unsigned seen = 0;
	while ((de = readdir(d)) && seen++ < WARD_MAX_SWEEP_ENTRIES) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    keep(de->d_name, names))
			continue;
		if (fs_path(p, sizeof p, "%s/%s", dir, de->d_name))
			(void)fs_rmtree(p, depth);
	}
	closedir(d);
}

/* Temporaries of an interrupted run (a crash, kill -9): the caller holds
 * the state lock, so none of them belongs to a live client. */
static bool not_temporary(const char *name, const char *const *unused)
{
	static const char *const prefixes[] = {".download.", ".unpack.", ".delta.", ".current.tmp",
					       ".previous.tmp"};
	(void)unused;
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return false;
	return true;
}

/* names: the versions "current" and "previous" name ("versions/N", or ""). */
static bool linked_version(const char *name, const char *const *names)
{
	char rel[300];
	snprintf(rel, sizeof rel, "versions/%s", name);
	return !strcmp(rel, names[0]) || !strcmp(rel, names[1]);
}

/* Only the packages of the linked versions stay: the current package can be
 * a delta's base, the previous one comes back with a rollback. Anything else
 * in packages/ (other versions, stray files) is a leftover. */
static bool linked_package(const char *name, const char *const *names)
{
	char rel[300];
	size_t n = strlen(name);
	if (n <= 5 || strcmp(name + n - 5, ".wpkg"))
		return false;
	snprintf(rel, sizeof rel, "versions/%.*s", (int)(n - 5), name);
	return (names[0][0] && !strcmp(rel, names[0])) || (names[1][0] && !strcmp(rel, names[1]));
}

bool act_package_path(const char *pattern_dir, const char *rel, char *buf, size_t n)
{
	static const char prefix[] = "versions/";
	if (!rel_version(rel))
		return false;
	return fs_path(buf, n, "%s/packages/%s.wpkg", pattern_dir, rel + sizeof prefix - 1);
}

void act_cleanup(const char *pattern_dir)
{
	char cur[256], prev[256], dir[4096];
	sweep(pattern_dir, 4, not_temporary, NULL);
	act_link_version(pattern_dir, "current", cur, sizeof cur);
	act_link_version(pattern_dir, "previous", prev, sizeof prev);
	const char *const linked[2] = {cur, prev};
	if (fs_path(dir, sizeof dir, "%s/packages", pattern_dir))
		sweep(dir, 2, linked_package, linked);
	if (fs_path(dir, sizeof dir, "%s/versions", pattern_dir))
		sweep(dir, 4, linked_version, linked);
}
