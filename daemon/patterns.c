/*
 * Pattern sets: the active set, its reloads and the crash-loop revert.
 *
 * The active set is a reference-counted struct patset behind a mutex; the
 * ward_db itself lives in the set's host process (host.c). A reload loads
 * the new set in a new host, driven by the loader thread, beside the running
 * one, and swaps the pointer only once the new set compiled; scans already
 * running keep the worker (and so the database) they started with, and the
 * last reference ends the old host. A set that fails to load (or whose host
 * crashes while loading it) never replaces the running one.
 *
 * Crash-loop protection: every worker death (crash, or kill after a hang) is
 * reported with the generation the worker ran. When CrashRevertThreshold of
 * them hit the active generation within CrashRevertWindow seconds, and that
 * generation is not the last-known-good set, the loader activates
 * LastKnownGoodDirectory instead and remembers the bad set's version: a later
 * RELOAD that finds the same version in DatabaseDirectory is refused, so a
 * broken update cannot be re-activated until the updater replaces it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ward_limits.h"
#include "util/util.h"
#include "wardd.h"

/* The file in a pattern directory that names its version (written by the
 * pattern updater); without it the version is a fingerprint of the files. */
#define VERSION_FILE "pattern-version"

static const struct wardd_conf *conf;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct patset *active;
static uint64_t next_generation = 1;
static bool reload_wanted, revert_wanted, stopping, loading, started;
static char reload_why[128];
static char revert_why[256];
/* After a revert: the version refused until DatabaseDirectory changes. */
static char bad_version[WARDD_MAX_VERSION + 1];
static uint64_t crash_ms[WARDD_MAX_CRASH_RECORDS];
static size_t ncrash;
static pthread_t loader;

/* ---- versions ---- */

static bool version_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '-' || ch == '_' || ch == '+' || ch == ':';
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The set's version: the first line of VERSION_FILE when it is a sane token,
 * else "fp-" and a hash of every entry's name, size and mtime (added up, so
 * directory order does not matter). */
static void read_version(const char *dir, char out[WARDD_MAX_VERSION + 1])
{
	char path[WARDD_MAX_PATH];
	out[0] = '\0';
	int n = snprintf(path, sizeof path, "%s/" VERSION_FILE, dir);
	if (n > 0 && (size_t)n < sizeof path) {
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd >= 0) {
			char buf[WARDD_MAX_VERSION + 1];
			ssize_t r = read(fd, buf, sizeof buf);
			close(fd);
			size_t len = 0;
			while (r > 0 && len < (size_t)r && version_char(buf[len]))
				len++;
			bool ended =
				r > 0 && (len == (size_t)r || buf[len] == '\n' || buf[len] == '\r');
			if (len > 0 && len <= WARDD_MAX_VERSION && ended) {
				memcpy(out, buf, len);
				out[len] = '\0';
				return;
			}
		}
	}
	uint64_t sum = 0;
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *de;
		unsigned seen = 0;
		while ((de = readdir(d)) && seen++ < 4 * WARD_MAX_DB_FILES) {
			struct stat st;
			if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, 0) != 0)
				continue;
			uint64_t h = fnv1a(0xcbf29ce484222325ull, de->d_name, strlen(de->d_name));
			h = fnv1a(h, &st.st_size, sizeof st.st_size);
			h = fnv1a(h, &st.st_mtim, sizeof st.st_mtim);
			sum += h;
		}
		closedir(d);
	}
	snprintf(out, WARDD_MAX_VERSION + 1, "fp-%016llx", (unsigned long long)sum);
}

/* ---- loading ---- */

struct diag_ctx {
	const char *dir;
};

static void diag(void *vctx, ward_err code, const char *file, unsigned long line, const char *msg)
{
	struct diag_ctx *d = vctx;
	char qf[WARDD_MAX_PATH + 16], qm[1024];
	log_kv(LOG_WARN, "pattern_diag", "file=%s line=%lu code=%s msg=%s",
	       log_q(file ? file : d->dir, qf, sizeof qf), line, ward_strerror(code),
	       log_q(msg, qm, sizeof qm));
}

/* Load dir in a new pattern host (host.c). The compiled-database cache
 * (CacheDirectory) makes a restart or a RELOAD of a set seen before take a
 * fraction of a second instead of a full compile. */
static ward_err load_set(const char *dir, bool lkg, struct patset **out)
{
	ward_err e;
	struct patset *p = w_calloc(1, sizeof *p);
	char qd[WARDD_MAX_PATH + 16];
	uint64_t t0 = now_ms();
	struct host_load_result res = {0};
	*out = NULL;
	if (!p)
		return WARD_ENOMEM;
	p->dir = w_strdup(dir);
	if (!p->dir) {
		e = WARD_ENOMEM;
		goto out;
	}
	read_version(dir, p->version);
	struct diag_ctx dc = {.dir = dir};
	e = host_load(dir, diag, &dc, &p->host, &res);
	if (e)
		goto out;
	p->last_known_good = lkg;
	p->signatures = res.signatures;
	/* A set with a file refused whole (unreadable, corrupt, bad digital
	 * signature) or with no signature at all is not activated: clamd
	 * refuses to start without signatures, and a half-loaded update must
	 * not replace a complete set. */
	if (p->signatures == 0 || res.bad_files > 0) {
		e = p->signatures == 0 ? WARD_EIO : WARD_ECORRUPT;
		goto out;
	}
	atomic_init(&p->refs, 1);
	log_kv(LOG_INFO, "pattern_loaded",
	       "dir=%s version=%s last_known_good=%d signatures=%llu bad_lines=%llu bad_files=%llu "
	       "unsupported=%llu ms=%llu",
	       log_q(dir, qd, sizeof qd), p->version, lkg, (unsigned long long)p->signatures,
	       (unsigned long long)res.bad_lines, (unsigned long long)res.bad_files,
	       (unsigned long long)res.unsupported, (unsigned long long)(now_ms() - t0));
	*out = p;
	p = NULL;
out:
	if (p) {
		char qe[256];
		log_kv(LOG_ERROR, "pattern_load_failed",
		       "dir=%s version=%s error=%s loader_crashed=%d signatures=%llu bad_files=%llu "
		       "ms=%llu",
		       log_q(dir, qd, sizeof qd), p->version,
		       log_q(ward_strerror(e), qe, sizeof qe), res.crashed,
		       (unsigned long long)p->signatures, (unsigned long long)res.bad_files,
		       (unsigned long long)(now_ms() - t0));
		host_close(p->host);
		w_free(p->dir);
		w_free(p);
	}
	return e;
}

void patterns_release(struct patset *p)
{
	if (!p)
		return;
	if (atomic_fetch_sub(&p->refs, 1) == 1) {
		host_close(p->host);
		w_free(p->dir);
		w_free(p);
	}
}

struct patset *patterns_acquire(void)
{
	pthread_mutex_lock(&mu);
	struct patset *p = active;
	if (p)
		atomic_fetch_add(&p->refs, 1);
	pthread_mutex_unlock(&mu);
	return p;
}

uint64_t patterns_generation(void)
{
	pthread_mutex_lock(&mu);
	uint64_t g = active ? active->generation : 0;
	pthread_mutex_unlock(&mu);
	return g;
}

bool patterns_loading(void)
{
	pthread_mutex_lock(&mu);
	bool l = loading || reload_wanted || revert_wanted;
	pthread_mutex_unlock(&mu);
	return l;
}

/* Make p the active set; the old one goes when its last user releases it. */
static void activate(struct patset *p, const char *why)
{
	pthread_mutex_lock(&mu);
	struct patset *old = active;
	p->generation = next_generation++;
	p->activated_ms = now_ms();
	p->activated_wall = (int64_t)time(NULL);
	active = p;
	ncrash = 0;
	pthread_mutex_unlock(&mu);
	char qd[WARDD_MAX_PATH + 16], qw[512];
	log_kv(LOG_INFO, "pattern_activated",
	       "generation=%llu version=%s dir=%s last_known_good=%d previous_version=%s why=%s",
	       (unsigned long long)p->generation, p->version, log_q(p->dir, qd, sizeof qd),
	       p->last_known_good, old ? old->version : "none", log_q(why, qw, sizeof qw));
	patterns_release(old);
}

bool patterns_init(const struct wardd_conf *c)
{
	conf = c;
	struct patset *p = NULL;
	if (load_set(c->database_dir, false, &p) == WARD_OK) {
		activate(p, "startup");
		return true;
	}
	if (!c->lkg_dir)
		return false;
	/* The current set does not load: start on the last-known-good one and
	 * refuse the broken version until it changes. */
	char v[WARDD_MAX_VERSION + 1];
	read_version(c->database_dir, v);
	if (load_set(c->lkg_dir, true, &p) != WARD_OK)
		return false;
	snprintf(bad_version, sizeof bad_version, "%s", v);
	snprintf(revert_why, sizeof revert_why, "DatabaseDirectory failed to load at startup");
	atomic_fetch_add(&g_metrics.reverts, 1);
	log_kv(LOG_WARN, "pattern_revert", "bad_version=%s to_version=%s reason=%s", v, p->version,
	       "\"DatabaseDirectory failed to load at startup\"");
	activate(p, "startup: DatabaseDirectory failed to load");
	return true;
}

void patterns_request_reload(const char *why)
{
	pthread_mutex_lock(&mu);
	reload_wanted = true;
	snprintf(reload_why, sizeof reload_why, "%s", why);
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

void patterns_worker_failed(uint64_t gen, bool hung, int status)
{
	char version[WARDD_MAX_VERSION + 1] = "";
	bool revert = false;
	size_t count = 0;
	pthread_mutex_lock(&mu);
	if (active && active->generation == gen) {
		uint64_t now = now_ms(), window = (uint64_t)conf->crash_window * 1000u;
		size_t k = 0;
		for (size_t i = 0; i < ncrash; i++)
			if (now - crash_ms[i] <= window)
				crash_ms[k++] = crash_ms[i];
		ncrash = k;
		if (ncrash < WARDD_MAX_CRASH_RECORDS)
			crash_ms[ncrash++] = now;
		count = ncrash;
		snprintf(version, sizeof version, "%s", active->version);
		if (conf->crash_threshold > 0 && ncrash >= conf->crash_threshold &&
		    !active->last_known_good && conf->lkg_dir && !revert_wanted) {
			revert = true;
			revert_wanted = true;
			snprintf(bad_version, sizeof bad_version, "%s", active->version);
			snprintf(revert_why, sizeof revert_why,
				 "%zu worker failures (last: %s) within %u s on generation %llu",
				 ncrash, hung ? "hang" : "crash", conf->crash_window,
				 (unsigned long long)gen);
			pthread_cond_signal(&cv);
		}
	}
	pthread_mutex_unlock(&mu);
	log_kv(LOG_ERROR, hung ? "worker_hang" : "worker_crash",
	       "generation=%llu version=%s status=%d signal=%d failures_in_window=%zu revert=%d",
	       (unsigned long long)gen, version[0] ? version : "old", status,
	       WIFSIGNALED(status) ? WTERMSIG(status) : 0, count, revert);
}

static void *loader_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	while (!stopping) {
		while (!reload_wanted && !revert_wanted && !stopping)
			pthread_cond_wait(&cv, &mu);
		if (stopping)
			break;
		bool revert = revert_wanted;
		char why[sizeof revert_why], bad[sizeof bad_version];
		snprintf(why, sizeof why, "%s", revert ? revert_why : reload_why);
		snprintf(bad, sizeof bad, "%s", bad_version);
		revert_wanted = false;
		if (!revert)
			reload_wanted = false;
		loading = true;
		pthread_mutex_unlock(&mu);

		const char *dir = revert ? conf->lkg_dir : conf->database_dir;
		struct patset *p = NULL;
		char v[WARDD_MAX_VERSION + 1];
		bool refused = false;
		if (!revert && bad[0]) {
			read_version(dir, v);
			if (!strcmp(v, bad)) {
				refused = true;
				atomic_fetch_add(&g_metrics.reloads_failed, 1);
				log_kv(LOG_WARN, "reload_refused",
				       "version=%s reason=\"version was reverted after worker failures\"",
				       v);
			}
		}
		if (!refused) {
			if (load_set(dir, revert, &p) == WARD_OK) {
				if (revert) {
					atomic_fetch_add(&g_metrics.reverts, 1);
					char qw[512];
					log_kv(LOG_WARN, "pattern_revert",
					       "bad_version=%s to_version=%s reason=%s", bad,
					       p->version, log_q(why, qw, sizeof qw));
				} else {
					atomic_fetch_add(&g_metrics.reloads_ok, 1);
				}
				activate(p, revert ? why : "reload");
				if (!revert) {
					pthread_mutex_lock(&mu);
					bad_version[0] = '\0';
					pthread_mutex_unlock(&mu);
				}
			} else {
				atomic_fetch_add(&g_metrics.reloads_failed, 1);
				log_kv(LOG_ERROR, revert ? "revert_failed" : "reload_failed",
				       "reason=\"the new set did not load; the active set keeps serving\"");
			}
		}
		pthread_mutex_lock(&mu);
		loading = false;
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

void patterns_start(void)
{
	if (pthread_create(&loader, NULL, loader_main, NULL) == 0)
		started = true;
	else
		log_kv(LOG_ERROR, "loader_start_failed", "reason=\"RELOAD will not work\"");
}

void patterns_stop(void)
{
	pthread_mutex_lock(&mu);
	stopping = true;
	bool busy = loading;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	/* A load cannot be interrupted and may take many seconds on a full
	 * set: at shutdown it is abandoned (the process is about to exit), and
	 * the active set is left to the exit as well. */
	if (busy) {
		log_kv(LOG_INFO, "reload_abandoned", "reason=shutdown");
		return;
	}
	if (started)
		pthread_join(loader, NULL);
	started = false;
	pthread_mutex_lock(&mu);
	struct patset *p = active;
	active = NULL;
	pthread_mutex_unlock(&mu);
	patterns_release(p);
}

void patterns_revert_state(char *bad, size_t nbad, char *why, size_t nwhy)
{
	pthread_mutex_lock(&mu);
	snprintf(bad, nbad, "%s", bad_version);
	snprintf(why, nwhy, "%s", bad_version[0] ? revert_why : "");
	pthread_mutex_unlock(&mu);
}

void patterns_describe(char *out, size_t n)
{
	pthread_mutex_lock(&mu);
	if (!active) {
		snprintf(out, n, "none");
	} else {
		time_t t = (time_t)active->activated_wall;
		struct tm tm;
		char date[64] = "";
		if (localtime_r(&t, &tm))
			strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
		snprintf(out, n, "%s/%s", active->version, date);
	}
	pthread_mutex_unlock(&mu);
}
