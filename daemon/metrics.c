/*
 * Counters and the Prometheus text endpoint. The counters are atomics updated
 * by the connection threads; one thread serves "GET /metrics" on 127.0.0.1
 * only (MetricsPort), one connection at a time, with a short timeout and a
 * bounded request, so the endpoint cannot become a way to tie the daemon up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/util.h"
#include "wardd.h"

struct wardd_metrics g_metrics;

/* Latency bucket bounds in microseconds (Prometheus "le" in seconds). */
static const uint64_t bucket_us[] = {1000,   2500,   5000,    10000,   25000,   50000,   100000,
				     250000, 500000, 1000000, 2500000, 5000000, 10000000};
#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0])
_Static_assert(NBUCKETS + 1 <= sizeof g_metrics.latency_bucket / sizeof g_metrics.latency_bucket[0],
	       "bucket array too small");

/* Per-request timeout for the metrics client. */
#define METRICS_IO_TIMEOUT_MS 2000

static int listen_fd = -1;
static int stop_pipe[2] = {-1, -1};
static pthread_t thread;
static bool running;

void metrics_observe_latency(uint64_t us)
{
	size_t i = 0;
	while (i < NBUCKETS && us > bucket_us[i])
		i++;
	atomic_fetch_add(&g_metrics.latency_bucket[i], 1);
	atomic_fetch_add(&g_metrics.latency_sum_us, us);
	atomic_fetch_add(&g_metrics.latency_count, 1);
}

#define LOAD(x) ((unsigned long long)atomic_load(&g_metrics.x))

static void render(dbuf *b)
{
	(void)dbuf_addf(b,
			"# HELP wardd_scans_total Scans answered, by result.\n"
			"# TYPE wardd_scans_total counter\n"
			"wardd_scans_total{result=\"clean\"} %llu\n"
			"wardd_scans_total{result=\"found\"} %llu\n"
			"wardd_scans_total{result=\"error\"} %llu\n",
			LOAD(scans_clean), LOAD(scans_found), LOAD(scans_error));
	(void)dbuf_addf(b,
			"# HELP wardd_scanned_bytes_total Bytes scanned by workers.\n"
			"# TYPE wardd_scanned_bytes_total counter\n"
			"wardd_scanned_bytes_total %llu\n"
			"# HELP wardd_detections_total Detections reported.\n"
			"# TYPE wardd_detections_total counter\n"
			"wardd_detections_total %llu\n",
			LOAD(bytes), LOAD(detections));
	(void)dbuf_addf(
		b, "# HELP wardd_scan_duration_seconds Time from command to reply of each scan.\n"
		   "# TYPE wardd_scan_duration_seconds histogram\n");
	unsigned long long cum = 0;
	for (size_t i = 0; i < NBUCKETS; i++) {
		cum += LOAD(latency_bucket[i]);
		(void)dbuf_addf(b, "wardd_scan_duration_seconds_bucket{le=\"%g\"} %llu\n",
				(double)bucket_us[i] / 1e6, cum);
	}
	cum += LOAD(latency_bucket[NBUCKETS]);
	(void)dbuf_addf(b,
			"wardd_scan_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
			"wardd_scan_duration_seconds_sum %.6f\n"
			"wardd_scan_duration_seconds_count %llu\n",
			cum, (double)LOAD(latency_sum_us) / 1e6, LOAD(latency_count));
	struct patset *p = patterns_acquire();
	char bad[WARDD_MAX_VERSION + 1], why[256];
	patterns_revert_state(bad, sizeof bad, why, sizeof why);
	(void)dbuf_addf(
		b,
		"# HELP wardd_pattern_info The active pattern set (value 1).\n"
		"# TYPE wardd_pattern_info gauge\n"
		"wardd_pattern_info{version=\"%s\",last_known_good=\"%d\"} 1\n"
		"# HELP wardd_pattern_generation Activations since start (1 = the first set).\n"
		"# TYPE wardd_pattern_generation gauge\n"
		"wardd_pattern_generation %llu\n"
		"# HELP wardd_pattern_signatures Signatures in the active set.\n"
		"# TYPE wardd_pattern_signatures gauge\n"
		"wardd_pattern_signatures %llu\n"
		"# HELP wardd_pattern_reverted 1 while a set was reverted to last-known-good.\n"
		"# TYPE wardd_pattern_reverted gauge\n"
		"wardd_pattern_reverted{bad_version=\"%s\"} %d\n",
		p ? p->version : "none", p ? p->last_known_good : 0,
		p ? (unsigned long long)p->generation : 0ull,
		p ? (unsigned long long)p->signatures : 0ull, bad, bad[0] != '\0');
	patterns_release(p);
	(void)dbuf_addf(b,
			"# HELP wardd_reloads_total Pattern reloads, by result.\n"
			"# TYPE wardd_reloads_total counter\n"
			"wardd_reloads_total{result=\"ok\"} %llu\n"
			"wardd_reloads_total{result=\"failed\"} %llu\n"
			"# HELP wardd_reverts_total Reverts to the last-known-good set.\n"
			"# TYPE wardd_reverts_total counter\n"
			"wardd_reverts_total %llu\n"
			"# HELP wardd_worker_failures_total Worker processes lost, by kind.\n"
			"# TYPE wardd_worker_failures_total counter\n"
			"wardd_worker_failures_total{kind=\"crash\"} %llu\n"
			"wardd_worker_failures_total{kind=\"hang\"} %llu\n"
			"# HELP wardd_workers_started_total Worker processes forked.\n"
			"# TYPE wardd_workers_started_total counter\n"
			"wardd_workers_started_total %llu\n",
			LOAD(reloads_ok), LOAD(reloads_failed), LOAD(reverts), LOAD(worker_crashes),
			LOAD(worker_hangs), LOAD(workers_started));
	(void)dbuf_addf(b,
			"# HELP wardd_connections_total Connections accepted.\n"
			"# TYPE wardd_connections_total counter\n"
			"wardd_connections_total %llu\n"
			"# HELP wardd_queue_depth Connections waiting for a thread.\n"
			"# TYPE wardd_queue_depth gauge\n"
			"wardd_queue_depth %llu\n"
			"# HELP wardd_busy_threads Connection threads serving a client.\n"
			"# TYPE wardd_busy_threads gauge\n"
			"wardd_busy_threads %llu\n",
			LOAD(connections), LOAD(queue_depth), LOAD(busy_threads));
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		struct pollfd pf = {fd, POLLOUT, 0};
		if (poll(&pf, 1, METRICS_IO_TIMEOUT_MS) <= 0)
			return false;
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void serve(int fd)
{
	char req[WARDD_MAX_HTTP_REQUEST + 1];
	size_t len = 0;
	uint64_t deadline = now_ms() + METRICS_IO_TIMEOUT_MS;
	/* Read until the end of the request line's headers, a full buffer or
	 * the deadline; only the request line matters. */
	while (len < WARDD_MAX_HTTP_REQUEST) {
		uint64_t now = now_ms();
		if (now >= deadline)
			return;
		struct pollfd pf = {fd, POLLIN, 0};
		if (poll(&pf, 1, (int)(deadline - now)) <= 0)
			return;
		ssize_t r = recv(fd, req + len, WARDD_MAX_HTTP_REQUEST - len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[len] = '\0';
	dbuf body;
	dbuf_init(&body, 1u << 20);
	const char *status = "404 Not Found";
	if (!strncmp(req, "GET /metrics ", 13) || !strncmp(req, "GET /metrics?", 13) ||
	    !strncmp(req, "GET /metrics\r", 13)) {
		status = "200 OK";
		render(&body);
	} else {
		(void)dbuf_addf(&body, "not found\n");
	}
	char head[256];
	int hn =
		snprintf(head, sizeof head,
			 "HTTP/1.1 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, body.len);
	if (hn > 0 && (size_t)hn < sizeof head && write_all(fd, head, (size_t)hn) && body.len)
		(void)write_all(fd, body.s, body.len);
	dbuf_free(&body);
}

static void *metrics_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd pf[2] = {{listen_fd, POLLIN, 0}, {stop_pipe[0], POLLIN, 0}};
		int r = poll(pf, 2, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || pf[1].revents)
			break;
		int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		serve(c);
		close(c);
	}
	return NULL;
}

bool metrics_start(unsigned port)
{
	if (!port)
		return true;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1 only, by design */
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
	    pipe2(stop_pipe, O_CLOEXEC) != 0) {
		log_kv(LOG_ERROR, "metrics_listen_failed", "port=%u errno=%d", port, errno);
		close(fd);
		return false;
	}
	listen_fd = fd;
	if (pthread_create(&thread, NULL, metrics_main, NULL) != 0) {
		close(fd);
		listen_fd = -1;
		return false;
	}
	running = true;
	log_kv(LOG_INFO, "metrics_listening", "addr=127.0.0.1 port=%u path=/metrics", port);
	return true;
}

void metrics_stop(void)
{
	if (!running)
		return;
	(void)!write(stop_pipe[1], "x", 1);
	pthread_join(thread, NULL);
	close(listen_fd);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	listen_fd = -1;
	running = false;
}
