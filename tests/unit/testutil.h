/*
 * Helpers shared by the unit tests that run clamscan (the oracle) and make
 * temporary trees. Include after <cmocka.h>: failures are cmocka assertions.
 */
#ifndef WARD_TESTS_TESTUTIL_H
#define WARD_TESTS_TESTUTIL_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs argv[0] (looked up in PATH) with no shell in between: file names reach
 * it as they are. Its stdout and stderr come back through the returned stream;
 * end_child() closes it and reaps the child. */
static inline FILE *run_child(char *const argv[], pid_t *pid)
{
	int fds[2];
	if (pipe(fds) != 0)
		return NULL;
	*pid = fork();
	if (*pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (*pid == 0) {
		if (dup2(fds[1], STDOUT_FILENO) < 0 || dup2(fds[1], STDERR_FILENO) < 0)
			_exit(127);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	FILE *f = fdopen(fds[0], "r");
	if (!f)
		close(fds[0]);
	return f;
}

static inline void end_child(FILE *f, pid_t pid)
{
	int st;
	fclose(f);
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

/* rm -rf of the test's own temporary tree, without a shell; lstat, so that a
 * symbolic link is removed, never followed. */
static inline void remove_tree(const char *path, int depth)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	if (!S_ISDIR(st.st_mode)) {
		assert_int_equal(unlink(path), 0);
		return;
	}
	assert_true(depth < 16);
	DIR *d = opendir(path);
	assert_non_null(d);
	struct dirent *e;
	char sub[1024];
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		assert_true((size_t)snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) <
			    sizeof sub);
		remove_tree(sub, depth + 1);
	}
	closedir(d);
	assert_int_equal(rmdir(path), 0);
}

#endif /* WARD_TESTS_TESTUTIL_H */
