/*
 * loadgen: N concurrent clamd-protocol INSTREAM clients for T seconds
 * against one daemon (unix socket or 127.0.0.1 TCP only), each sending the
 * same file over and over on a new connection. Prints requests, requests
 * per second, p50/p90/p99/max latency and the replies that were not the
 * expected one. Bounded: at most LG_MAX_CLIENTS clients, LG_MAX_SECONDS
 * seconds, LG_MAX_SAMPLES latencies per client; stops by itself.
 *
 * usage: loadgen TARGET CLIENTS SECONDS FILE EXPECTED_REPLY
 *   TARGET: /path/to/socket or tcp:PORT (always 127.0.0.1)
 *   EXPECTED_REPLY: e.g. "stream: OK" (compared without the trailing NUL)
 * Built by bench/load/run.sh (cc -O2 -pthread); not part of the CMake build.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LG_MAX_CLIENTS 256
#define LG_MAX_SECONDS 600
#define LG_MAX_SAMPLES (1u << 20)
#define LG_MAX_FILE (64u << 20)
#define LG_CHUNK 65536u

static const char *target;
static unsigned char *payload;
static size_t payload_len;
static const char *expected;
static double end_at;

struct client {
	pthread_t tid;
	uint32_t *lat_us; /* samples */
	size_t n;
	unsigned long ok, bad, conn_err;
	char first_bad[160];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(void)
{
	if (!strncmp(target, "tcp:", 4)) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = {0};
		a.sin_family = AF_INET;
		a.sin_port = htons((uint16_t)strtoul(target + 4, NULL, 10));
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
			return fd;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {0};
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof a.sun_path, "%s", target);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

static int send_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	char reply[512];
	while (now_s() < end_at) {
		double t0 = now_s();
		int fd = dial();
		if (fd < 0) {
			c->conn_err++;
			usleep(1000);
			continue;
		}
		int ok = send_all(fd, "zINSTREAM", 10) == 0;
		for (size_t off = 0; ok && off < payload_len; off += LG_CHUNK) {
			size_t k = payload_len - off < LG_CHUNK ? payload_len - off : LG_CHUNK;
			unsigned char h[4] = {(unsigned char)(k >> 24), (unsigned char)(k >> 16),
					      (unsigned char)(k >> 8), (unsigned char)k};
			ok = send_all(fd, h, 4) == 0 && send_all(fd, payload + off, k) == 0;
		}
		static const unsigned char zero[4];
		ok = ok && send_all(fd, zero, 4) == 0;
		size_t got = 0;
		while (ok && got < sizeof reply - 1) {
			ssize_t r = recv(fd, reply + got, sizeof reply - 1 - got, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		close(fd);
		reply[got] = '\0';
		double dt = now_s() - t0;
		if (ok && got > 0 && !strcmp(reply, expected)) {
			c->ok++;
			if (c->n < LG_MAX_SAMPLES)
				c->lat_us[c->n++] = (uint32_t)(dt * 1e6);
		} else {
			if (!c->bad)
				snprintf(c->first_bad, sizeof c->first_bad, "%s",
					 ok ? reply : "(send failed)");
			c->bad++;
		}
	}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: loadgen TARGET CLIENTS SECONDS FILE EXPECTED_REPLY\n");
		return 2;
	}
	target = argv[1];
	unsigned long nclients = strtoul(argv[2], NULL, 10), secs = strtoul(argv[3], NULL, 10);
	expected = argv[5];
	if (nclients == 0 || nclients > LG_MAX_CLIENTS || secs == 0 || secs > LG_MAX_SECONDS) {
		fprintf(stderr, "loadgen: 1..%d clients, 1..%d seconds\n", LG_MAX_CLIENTS,
			LG_MAX_SECONDS);
		return 2;
	}
	FILE *f = fopen(argv[4], "rb");
	if (!f)
		return 2;
	payload = malloc(LG_MAX_FILE);
	payload_len = payload ? fread(payload, 1, LG_MAX_FILE, f) : 0;
	fclose(f);
	static struct client cl[LG_MAX_CLIENTS];
	double start = now_s();
	end_at = start + (double)secs;
	for (unsigned long i = 0; i < nclients; i++) {
		cl[i].lat_us = malloc(sizeof(uint32_t) * LG_MAX_SAMPLES);
		if (!cl[i].lat_us || pthread_create(&cl[i].tid, NULL, client_main, &cl[i]) != 0)
			return 2;
	}
	unsigned long ok = 0, bad = 0, cerr = 0;
	size_t total = 0;
	for (unsigned long i = 0; i < nclients; i++) {
		pthread_join(cl[i].tid, NULL);
		ok += cl[i].ok;
		bad += cl[i].bad;
		cerr += cl[i].conn_err;
		total += cl[i].n;
	}
	double elapsed = now_s() - start;
	uint32_t *all = malloc(sizeof(uint32_t) * (total ? total : 1));
	size_t k = 0;
	for (unsigned long i = 0; i < nclients; i++) {
		memcpy(all + k, cl[i].lat_us, cl[i].n * sizeof(uint32_t));
		k += cl[i].n;
	}
	qsort(all, total, sizeof(uint32_t), cmp_u32);
#define PCT(p) (total ? (double)all[(size_t)((double)(total - 1) * (p))] / 1000.0 : 0.0)
	printf("requests=%lu failed=%lu connect_errors=%lu seconds=%.1f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
	       ok, bad, cerr, elapsed, (double)ok / elapsed, PCT(0.50), PCT(0.90), PCT(0.99),
	       total ? (double)all[total - 1] / 1000.0 : 0.0);
	for (unsigned long i = 0; i < nclients; i++)
		if (cl[i].bad) {
			printf("first unexpected reply: %s\n", cl[i].first_bad);
			break;
		}
	return bad ? 1 : 0;
}
