/*
 * The configuration file: clamd.conf(5)'s format and option names, so an
 * existing clamd.conf works unchanged. "Name value" per line, '#' starts a
 * comment line, booleans are yes/no/true/false, sizes take K/M/G suffixes.
 * clamd refuses unknown options; wardd warns and goes on, because a clamd.conf
 * holds many options that only mean something to ClamAV (OLE2 macros, mail,
 * bytecode ...) and the point is to run on the same file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/util.h"
#include "wardd.h"

void conf_defaults(struct wardd_conf *c)
{
	memset(c, 0, sizeof *c);
	c->local_socket_mode = 0666;
	c->backlog = 200;            /* MaxConnectionQueueLength */
	c->max_threads = 10;         /* MaxThreads */
	c->max_queue = 100;          /* MaxQueue */
	c->stream_max = 25ull << 20; /* StreamMaxLength 25M */
	c->idle_timeout = 30;
	c->command_read_timeout = 30;
	c->read_timeout = 120;
	ward_limits_default(&c->limits);
	c->max_dir_recursion = WARDD_MAX_DIR_RECURSION;
	c->crash_threshold = 3;
	c->crash_window = 600;
	c->hang_grace = 10;
	c->worker_sandbox = true;
}

void conf_free(struct wardd_conf *c)
{
	w_free(c->local_socket);
	w_free(c->tcp_addr);
	w_free(c->database_dir);
	w_free(c->lkg_dir);
	w_free(c->cache_dir);
	w_free(c->user);
	w_free(c->log_file);
	w_free(c->pid_file);
	memset(c, 0, sizeof *c);
}

static bool parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1")) {
		*out = true;
		return true;
	}
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0")) {
		*out = false;
		return true;
	}
	return false;
}

static bool parse_num(const char *v, uint64_t max, uint64_t *out)
{
	return parse_u64(v, strlen(v), max, out);
}

/* clamd sizes: digits with an optional K/M (and G) suffix, binary units. */
static bool parse_size(const char *v, uint64_t max, uint64_t *out)
{
	size_t n = strlen(v);
	uint64_t mult = 1;
	if (n > 0) {
		char s = v[n - 1];
		if (s == 'k' || s == 'K')
			mult = 1ull << 10;
		else if (s == 'm' || s == 'M')
			mult = 1ull << 20;
		else if (s == 'g' || s == 'G')
			mult = 1ull << 30;
		if (mult > 1)
			n--;
	}
	uint64_t x;
	if (!parse_u64(v, n, max, &x) || ck_mul64(x, mult, &x) || x > max)
		return false;
	*out = x;
	return true;
}

static bool set_str(char **dst, const char *v)
{
	char *s = w_strdup(v);
	if (!s)
		return false;
	free(*dst);
	*dst = s;
	return true;
}

enum kind { K_STR, K_ABSPATH, K_BOOL, K_UINT, K_SIZE, K_OCTAL, K_IGNORED };

struct opt {
	const char *name;
	size_t off;   /* offsetof in wardd_conf (unused for limits) */
	uint64_t max; /* K_UINT/K_SIZE ceiling */
	enum kind kind;
	int limit; /* >0: a ward_limits field, see set_limit() */
};

#define O(n, k, f, m) \
	{ \
		n, offsetof(struct wardd_conf, f), m, k, 0 \
	}
#define L(n, k, id, m) \
	{ \
		n, 0, m, k, id \
	}
static const struct opt opts[] = {
	O("LocalSocket", K_ABSPATH, local_socket, 0),
	O("LocalSocketMode", K_OCTAL, local_socket_mode, 07777),
	O("TCPSocket", K_UINT, tcp_port, 65535),
	O("TCPAddr", K_STR, tcp_addr, 0),
	O("MaxConnectionQueueLength", K_UINT, backlog, 65535),
	O("DatabaseDirectory", K_ABSPATH, database_dir, 0),
	O("LastKnownGoodDirectory", K_ABSPATH, lkg_dir, 0),
	O("CacheDirectory", K_ABSPATH, cache_dir, 0),
	O("User", K_STR, user, 0),
	O("MaxThreads", K_UINT, max_threads, WARDD_MAX_THREADS),
	O("MaxQueue", K_UINT, max_queue, WARDD_MAX_QUEUE),
	O("StreamMaxLength", K_SIZE, stream_max, WARDD_MAX_STREAM),
	O("IdleTimeout", K_UINT, idle_timeout, 86400),
	O("CommandReadTimeout", K_UINT, command_read_timeout, 86400),
	O("ReadTimeout", K_UINT, read_timeout, 86400),
	O("MaxDirectoryRecursion", K_UINT, max_dir_recursion, WARDD_MAX_DIR_RECURSION),
	O("FollowDirectorySymlinks", K_BOOL, follow_dir_symlinks, 0),
	O("FollowFileSymlinks", K_BOOL, follow_file_symlinks, 0),
	O("Foreground", K_BOOL, foreground, 0),
	O("LogFile", K_ABSPATH, log_file, 0),
	O("PidFile", K_ABSPATH, pid_file, 0),
	O("CrashRevertThreshold", K_UINT, crash_threshold, WARDD_MAX_CRASH_RECORDS),
	O("CrashRevertWindow", K_UINT, crash_window, 604800u),
	O("WorkerHangGrace", K_UINT, hang_grace, 3600),
	O("MetricsPort", K_UINT, metrics_port, 65535),
	O("WorkerSandbox", K_BOOL, worker_sandbox, 0),
	L("MaxScanTime", K_UINT, 1, UINT32_MAX),
	L("MaxScanSize", K_SIZE, 2, UINT64_MAX),
	L("MaxFileSize", K_SIZE, 3, UINT64_MAX),
	L("MaxRecursion", K_UINT, 4, 1000),
	L("MaxFiles", K_UINT, 5, UINT32_MAX),
	L("PCREMatchLimit", K_UINT, 6, UINT32_MAX),
	L("PCRERecMatchLimit", K_UINT, 7, UINT32_MAX),
	L("PCREMaxFileSize", K_SIZE, 8, UINT64_MAX),
	/* Taken silently: wardd does what they ask anyway, or they only concern
	 * how clamd itself starts. */
	{"FixStaleSocket", 0, 0, K_IGNORED, 0},
	{"LogTime", 0, 0, K_IGNORED, 0},
	{"LogClean", 0, 0, K_IGNORED, 0},
	{"LogVerbose", 0, 0, K_IGNORED, 0},
	{"LogFileMaxSize", 0, 0, K_IGNORED, 0},
	{"LogRotate", 0, 0, K_IGNORED, 0},
	{"LogFileUnlock", 0, 0, K_IGNORED, 0},
	{"LogSyslog", 0, 0, K_IGNORED, 0},
	{"LogFacility", 0, 0, K_IGNORED, 0},
	{"ExtendedDetectionInfo", 0, 0, K_IGNORED, 0},
	{"SelfCheck", 0, 0, K_IGNORED, 0},
	{"SendBufTimeout", 0, 0, K_IGNORED, 0},
	{"TemporaryDirectory", 0, 0, K_IGNORED, 0},
	{"Debug", 0, 0, K_IGNORED, 0},
	{"LeaveTemporaryFiles", 0, 0, K_IGNORED, 0},
	{"ConcurrentDatabaseReload", 0, 0, K_IGNORED, 0},
	{"AllowAllMatchScan", 0, 0, K_IGNORED, 0},
	{"LocalSocketGroup", 0, 0, K_IGNORED, 0},
};
#undef O
#undef L

static void set_limit(ward_limits *l, int id, uint64_t v)
{
	switch (id) {
	case 1:
		l->max_scantime_ms = v;
		break;
	case 2:
		l->max_scansize = v;
		break;
	case 3:
		l->max_filesize = v;
		break;
	case 4:
		l->max_recursion = (uint32_t)v;
		break;
	case 5:
		l->max_files = (uint32_t)v;
		break;
	case 6:
		l->pcre_match_limit = v;
		break;
	case 7:
		l->pcre_recmatch_limit = v;
		break;
	case 8:
		l->pcre_max_filesize = v;
		break;
	default:
		break;
	}
}

static bool apply(struct wardd_conf *c, const struct opt *o, const char *v, const char **why)
{
	char *base = (char *)c;
	uint64_t x = 0;
	bool b;
	switch (o->kind) {
	case K_IGNORED:
		return true;
	case K_ABSPATH:
		if (v[0] != '/') {
			*why = "must be an absolute path";
			return false;
		}
		/* fallthrough */
	case K_STR:
		if (strlen(v) >= WARDD_MAX_PATH) {
			*why = "value too long";
			return false;
		}
		if (!set_str((char **)(base + o->off), v)) {
			*why = "out of memory";
			return false;
		}
		return true;
	case K_BOOL:
		if (!parse_bool(v, &b)) {
			*why = "expects yes or no";
			return false;
		}
		*(bool *)(base + o->off) = b;
		return true;
	case K_OCTAL: {
		if (!*v || strlen(v) > 5) {
			*why = "expects an octal mode";
			return false;
		}
		for (const char *p = v; *p; p++) {
			if (*p < '0' || *p > '7') {
				*why = "expects an octal mode";
				return false;
			}
			x = x * 8 + (uint64_t)(*p - '0');
		}
		if (x > o->max) {
			*why = "mode out of range";
			return false;
		}
		*(unsigned *)(base + o->off) = (unsigned)x;
		return true;
	}
	case K_UINT:
	case K_SIZE:
		if (o->kind == K_UINT ? !parse_num(v, o->max, &x) : !parse_size(v, o->max, &x)) {
			*why = o->kind == K_UINT ? "expects a number in range"
						 : "expects a size (digits, optional K/M/G)";
			return false;
		}
		if (o->limit)
			set_limit(&c->limits, o->limit, x);
		else if (o->kind == K_SIZE)
			*(uint64_t *)(base + o->off) = x;
		else
			*(unsigned *)(base + o->off) = (unsigned)x;
		return true;
	}
	return false;
}

bool conf_load(struct wardd_conf *c, const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "ERROR: can't open config file %s: %s\n", path, strerror(errno));
		return false;
	}
	char line[WARDD_MAX_CONF_LINE + 2];
	unsigned long lineno = 0;
	bool ok = true;
	while (fgets(line, sizeof line, f)) {
		if (++lineno > WARDD_MAX_CONF_LINES) {
			fprintf(stderr, "ERROR: %s: more than %u lines\n", path,
				WARDD_MAX_CONF_LINES);
			ok = false;
			break;
		}
		size_t n = strlen(line);
		if (n > 0 && line[n - 1] != '\n' && !feof(f)) {
			fprintf(stderr, "ERROR: %s:%lu: line too long\n", path, lineno);
			ok = false;
			break;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
				 line[n - 1] == '\t'))
			line[--n] = '\0';
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		char *name = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		char *value = p;
		/* clamd refuses its example file until the "Example" line goes. */
		if (!strcmp(name, "Example")) {
			fprintf(stderr, "ERROR: %s:%lu: please edit the example config file\n",
				path, lineno);
			ok = false;
			continue;
		}
		const struct opt *o = NULL;
		for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
			if (!strcmp(opts[i].name, name)) {
				o = &opts[i];
				break;
			}
		if (!o) {
			fprintf(stderr, "WARNING: %s:%lu: option %.100s is not used by wardd\n",
				path, lineno, name);
			continue;
		}
		if (*value == '\0' && o->kind != K_IGNORED) {
			fprintf(stderr, "ERROR: %s:%lu: option %s needs a value\n", path, lineno,
				name);
			ok = false;
			continue;
		}
		const char *why = "invalid value";
		if (!apply(c, o, value, &why)) {
			fprintf(stderr, "ERROR: %s:%lu: %s: %s\n", path, lineno, name, why);
			ok = false;
		}
	}
	fclose(f);
	if (ok && !c->database_dir && !set_str(&c->database_dir, "/var/lib/clamav"))
		ok = false;
	if (ok && !c->tcp_addr && !set_str(&c->tcp_addr, "127.0.0.1"))
		ok = false;
	if (ok && c->max_threads == 0) {
		fprintf(stderr, "ERROR: %s: MaxThreads must be at least 1\n", path);
		ok = false;
	}
	if (ok && c->max_queue < c->max_threads)
		c->max_queue = c->max_threads;
	if (ok && !c->local_socket && !c->tcp_port) {
		fprintf(stderr, "ERROR: %s: neither LocalSocket nor TCPSocket is set\n", path);
		ok = false;
	}
	return ok;
}
