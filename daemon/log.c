/*
 * Structured log lines: "ts=2026-01-02T03:04:05.678Z level=info event=scan k=v ...".
 * Each line is formatted into one bounded buffer and written with a single
 * write(2) under a mutex, so lines from different threads never interleave
 * and a hostile value (a client's path) cannot forge a line: log_q() escapes
 * control bytes and quotes.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wardd.h"

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = 2;
static char log_path[WARDD_MAX_PATH];

static int open_log(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

bool log_open(const char *path)
{
	if (!path)
		return true;
	int n = snprintf(log_path, sizeof log_path, "%s", path);
	if (n < 0 || (size_t)n >= sizeof log_path)
		return false;
	int fd = open_log(path);
	if (fd < 0) {
		fprintf(stderr, "ERROR: can't open LogFile %s: %s\n", path, strerror(errno));
		return false;
	}
	pthread_mutex_lock(&log_mu);
	if (log_fd > 2)
		close(log_fd);
	log_fd = fd;
	pthread_mutex_unlock(&log_mu);
	return true;
}

/* SIGHUP: logrotate moved the file; start a new one. */
void log_reopen(void)
{
	if (!log_path[0])
		return;
	int fd = open_log(log_path);
	if (fd < 0)
		return;
	pthread_mutex_lock(&log_mu);
	if (log_fd > 2)
		close(log_fd);
	log_fd = fd;
	pthread_mutex_unlock(&log_mu);
}

const char *log_q(const char *s, char *out, size_t n)
{
	if (n < 16)
		return "";
	if (!s)
		s = "";
	bool plain = *s != '\0';
	for (const char *p = s; *p && plain; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p < 0x20 ||
		    *p == 0x7f)
			plain = false;
	size_t o = 0;
	if (plain) {
		snprintf(out, n, "%s", s);
		return out;
	}
	/* Room is checked for the widest item (\xNN, 4 bytes) plus the closing
	 * quote and NUL; a value that does not fit ends with "...". */
	out[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (o + 8 > n) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (*p == '"' || *p == '\\') {
			out[o++] = '\\';
			out[o++] = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f) {
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", *p);
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

static const char *level_name(enum log_level l)
{
	switch (l) {
	case LOG_DEBUG:
		return "debug";
	case LOG_INFO:
		return "info";
	case LOG_WARN:
		return "warn";
	case LOG_ERROR:
		return "error";
	}
	return "info";
}

void log_kv(enum log_level lvl, const char *event, const char *fmt, ...)
{
	char line[WARDD_MAX_LOG_LINE];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof line,
			 "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s pid=%ld ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, level_name(lvl), event, (long)getpid());
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + len, sizeof line - len, fmt, ap);
	va_end(ap);
	if (m > 0)
		len += (size_t)m < sizeof line - len ? (size_t)m : sizeof line - len - 1;
	/* Cut, never split: the newline always ends the line. */
	if (len >= sizeof line - 1)
		len = sizeof line - 2;
	line[len++] = '\n';
	pthread_mutex_lock(&log_mu);
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(log_fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	pthread_mutex_unlock(&log_mu);
}
