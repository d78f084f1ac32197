/*
 * wardd: start-up and shutdown. Started like clamd: `wardd -c FILE`
 * (or --config-file=FILE), `--foreground` (-F) to stay attached, which is
 * how the systemd unit runs it.
 *
 * Order: configuration, log, daemonise (the parent waits until the child
 * says it is ready, so a broken set or a socket in use is reported to
 * whoever started us and the exit status says so), the zygote (host.c: it
 * must be forked while the daemon has one thread; it drops privileges
 * itself), the first pattern set, listeners, pid file, privilege drop, then
 * the threads.
 * Signals are handled by one thread with sigwait(): SIGTERM/SIGINT stop,
 * SIGUSR2 reloads the patterns (as clamd), SIGHUP reopens the log file.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ward/sandbox.h"
#include "wardd.h"

#define DEFAULT_CONF "/etc/ward/wardd.conf"

static void usage(FILE *f)
{
	fputs("Usage: wardd [-c FILE | --config-file=FILE] [-F | --foreground] [-V | --version]\n"
	      "clamd-compatible scanning daemon (configuration: clamd.conf option names;\n"
	      "see daemon/wardd.conf.example).\n",
	      f);
}

static sigset_t handled;

static void *signal_main(void *arg)
{
	(void)arg;
	for (;;) {
		int sig = 0;
		if (sigwait(&handled, &sig) != 0)
			continue;
		if (sig == SIGUSR1)
			return NULL;
		if (sig == SIGTERM || sig == SIGINT) {
			log_kv(LOG_INFO, "shutdown", "signal=%d", sig);
			server_request_shutdown();
			return NULL;
		}
		if (sig == SIGUSR2)
			patterns_request_reload("SIGUSR2");
		else if (sig == SIGHUP)
			log_reopen();
	}
}

/* clamd's User: the sockets (and the pid file) are made as root, then the
 * daemon runs as this user, so neither the listener nor the scanning workers
 * hold root while they handle clients' bytes. A process that could still
 * become root again is refused. */
bool wardd_user_known(const char *user)
{
	if (!user || geteuid() != 0)
		return true;
	struct passwd pwbuf, *pw = NULL;
	char buf[4096];
	if (getpwnam_r(user, &pwbuf, buf, sizeof buf, &pw) != 0)
		pw = NULL;
	if (!pw)
		log_kv(LOG_ERROR, "user_unknown", "user=\"%s\"", user);
	return pw != NULL;
}

bool wardd_drop_privileges(const char *user)
{
	if (!user || geteuid() != 0)
		return true;
	struct passwd pwbuf, *pw = NULL;
	char buf[4096]; /* getpwnam_r's string space; passwd lines are short */
	if (getpwnam_r(user, &pwbuf, buf, sizeof buf, &pw) != 0)
		pw = NULL;
	if (!pw) {
		log_kv(LOG_ERROR, "user_unknown", "user=\"%s\"", user);
		return false;
	}
	if (initgroups(user, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		log_kv(LOG_ERROR, "drop_privileges_failed", "user=\"%s\" errno=%d", user, errno);
		return false;
	}
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		log_kv(LOG_ERROR, "drop_privileges_failed", "reason=\"root could be regained\"");
		return false;
	}
	log_kv(LOG_INFO, "privileges_dropped", "user=\"%s\" uid=%u", user, (unsigned)pw->pw_uid);
	return true;
}

/* Daemonising in two steps. begin: fork; the parent waits on a pipe and exits
 * 0 when the child reports ready, 1 when the pipe closes first (the child
 * failed and has printed why on the still-attached stderr). */
static int ready_fd = -1;

static bool daemonize_begin(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return false;
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid > 0) {
		close(p[1]);
		char c = 1;
		ssize_t n;
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 && c == 0 ? 0 : 1);
	}
	close(p[0]);
	ready_fd = p[1];
	return setsid() >= 0;
}

static void daemonize_finish(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (!getenv("WARDD_KEEP_STDERR"))
			dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "", 1);
		close(ready_fd);
		ready_fd = -1;
	}
}

/* OpenSSL reads its configuration and loads its providers on first use,
 * which a sandboxed worker cannot do (open() is denied: the worker would die
 * on its first hash signature). Doing it once here, before any worker is
 * forked, leaves every worker with the digests ready. */
static void preload_crypto(void)
{
	static const char probe[] = "wardd";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	(void)EVP_Digest(probe, sizeof probe - 1, md, &mdlen, EVP_md5(), NULL);
	(void)EVP_Digest(probe, sizeof probe - 1, md, &mdlen, EVP_sha1(), NULL);
	(void)EVP_Digest(probe, sizeof probe - 1, md, &mdlen, EVP_sha256(), NULL);
}

static bool write_pid(const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return false;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) == 0;
}

int main(int argc, char **argv)
{
#ifdef __GLIBC__
	/* Blocks of 256 KiB and up (archive members, normalised text) come
	 * straight from mmap: grown with mremap rather than copied, and given
	 * back when freed. glibc otherwise raises this threshold each time such
	 * a block is freed, and a 24 MB archive member then grew by copying
	 * inside the heap: 20 MB more peak RSS on one benchmark archive. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
	const char *conf_path = DEFAULT_CONF;
	bool foreground = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-c") || !strcmp(a, "--config-file")) {
			if (++i >= argc) {
				usage(stderr);
				return 2;
			}
			conf_path = argv[i];
		} else if (!strncmp(a, "--config-file=", 14)) {
			conf_path = a + 14;
		} else if (!strcmp(a, "-F") || !strcmp(a, "--foreground") ||
			   !strcmp(a, "--foreground=yes") || !strcmp(a, "--foreground=true")) {
			foreground = true;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("wardd (Ward %s, clamd protocol, ClamAV functionality level %d)\n",
			       WARD_VERSION, WARD_FLEVEL);
			return 0;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "wardd: unknown option %s\n", a);
			usage(stderr);
			return 2;
		}
	}

	static struct wardd_conf conf;
	conf_defaults(&conf);
	if (!conf_load(&conf, conf_path)) {
		conf_free(&conf);
		return 1;
	}
	if (foreground)
		conf.foreground = true;
	if (!log_open(conf.log_file)) {
		conf_free(&conf);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	log_kv(LOG_INFO, "starting", "version=%s config=%s worker_sandbox=%s", WARD_VERSION,
	       conf_path,
	       !conf.worker_sandbox       ? "off"
	       : ward_sandbox_supported() ? "seccomp"
					  : "unsupported");
	preload_crypto();
	if (!conf.foreground && !daemonize_begin()) {
		fprintf(stderr, "ERROR: can't daemonise: %s\n", strerror(errno));
		return 1;
	}
	/* The zygote drops privileges on its own; an unknown User must stop
	 * the start with its own message, not as a set that failed to load. */
	if (!wardd_user_known(conf.user)) {
		fprintf(stderr, "ERROR: can't run as user %s (see the log)\n", conf.user);
		conf_free(&conf);
		return 1;
	}
	if (!zygote_start(&conf)) {
		fprintf(stderr, "ERROR: can't start the pattern zygote: %s\n", strerror(errno));
		conf_free(&conf);
		return 1;
	}
	if (!patterns_init(&conf)) {
		log_kv(LOG_ERROR, "startup_failed", "reason=\"no pattern set loads\"");
		fprintf(stderr, "ERROR: no pattern set could be loaded from %s%s%s\n",
			conf.database_dir, conf.lkg_dir ? " or " : "",
			conf.lkg_dir ? conf.lkg_dir : "");
		zygote_stop();
		conf_free(&conf);
		return 1;
	}
	if (!server_init(&conf)) {
		fprintf(stderr, "ERROR: can't listen (see the log)\n");
		patterns_stop();
		zygote_stop();
		conf_free(&conf);
		return 1;
	}
	/* Client paths are absolute; relative ones resolve from / as in clamd. */
	if (chdir("/") != 0)
		log_kv(LOG_WARN, "chdir_failed", "errno=%d", errno);
	if (conf.pid_file && !write_pid(conf.pid_file))
		log_kv(LOG_WARN, "pidfile_failed", "errno=%d", errno);
	if (!wardd_drop_privileges(conf.user)) {
		fprintf(stderr, "ERROR: can't run as user %s (see the log)\n", conf.user);
		patterns_stop();
		zygote_stop();
		conf_free(&conf);
		return 1;
	}
	if (!conf.foreground)
		daemonize_finish();

	/* Every thread (and so every worker forked from one) starts with
	 * these blocked; the signal thread takes them with sigwait(). */
	sigemptyset(&handled);
	sigaddset(&handled, SIGTERM);
	sigaddset(&handled, SIGINT);
	sigaddset(&handled, SIGHUP);
	sigaddset(&handled, SIGUSR2);
	sigaddset(&handled, SIGUSR1); /* internal: tells the signal thread to end */
	pthread_sigmask(SIG_BLOCK, &handled, NULL);
	pthread_t sig_thread;
	bool sig_started = pthread_create(&sig_thread, NULL, signal_main, NULL) == 0;
	patterns_start();
	if (!metrics_start(conf.metrics_port))
		log_kv(LOG_WARN, "metrics_disabled", "port=%u", conf.metrics_port);

	int rc = server_run();

	metrics_stop();
	patterns_stop();
	zygote_stop();
	if (sig_started) {
		/* Wake the signal thread if SHUTDOWN came over the socket. */
		pthread_kill(sig_thread, SIGUSR1);
		pthread_join(sig_thread, NULL);
	}
	if (conf.pid_file)
		unlink(conf.pid_file);
	log_kv(LOG_INFO, "stopped", "rc=%d", rc);
	conf_free(&conf);
	return rc;
}
