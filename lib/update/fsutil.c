#include "update/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

bool fs_path(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r >= 0 && (size_t)r < n;
}

bool fs_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

ward_err fs_read_file(const char *path, size_t cap, uint8_t **out, size_t *len)
{
	ward_err err = WARD_EIO;
	uint8_t *buf = NULL;
	size_t n = 0, alloc = 0;
	*out = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return WARD_EIO;
	for (;;) {
		if (n == alloc) {
			/* Grow by doubling up to cap + 1 (one byte over the cap
			 * tells "too large" from "exactly cap"). */
			size_t na = alloc ? alloc * 2 : 4096;
			if (na > cap + 1)
				na = cap + 1;
			if (na <= alloc) {
				err = WARD_ELIMIT;
				goto out;
			}
			uint8_t *nb = w_realloc(buf, na + 1);
			if (!nb) {
				err = WARD_ENOMEM;
				goto out;
			}
			buf = nb;
			alloc = na;
		}
		ssize_t r = read(fd, buf + n, alloc - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > cap) {
			err = WARD_ELIMIT;
			goto out;
		}
	}
	if (!buf && !(buf = w_malloc(1))) {
		err = WARD_ENOMEM;
		goto out;
	}
	buf[n] = 0;
	*out = buf;
	*len = n;
	buf = NULL;
	err = WARD_OK;
out:
	close(fd);
	w_free(buf);
	return err;
}

static void dir_of(const char *path, char *dir, size_t n)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, n, ".");
	else if (slash == path)
		snprintf(dir, n, "/");
	else
		snprintf(dir, n, "%.*s", (int)(slash - path), path);
}

ward_err fs_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return WARD_EIO;
	int r = fsync(fd);
	close(fd);
	return r == 0 ? WARD_OK : WARD_EIO;
}

/* Open a fresh temporary next to path: "path.tmp.PID". */
static int open_tmp(const char *path, char *tmp, size_t n)
{
	if (!fs_path(tmp, n, "%s.tmp.%ld", path, (long)getpid()))
		return -1;
	unlink(tmp); /* a leftover from a crashed run of the same pid */
	return open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
}

static ward_err finish_tmp(int fd, const char *tmp, const char *path, bool ok)
{
	char dir[4096];
	if (ok)
		ok = fsync(fd) == 0;
	if (close(fd) != 0)
		ok = false;
	if (ok)
		ok = rename(tmp, path) == 0;
	if (!ok) {
		unlink(tmp);
		return WARD_EIO;
	}
	dir_of(path, dir, sizeof dir);
	return fs_sync_dir(dir);
}

ward_err fs_write_atomic(const char *path, const void *p, size_t n)
{
	char tmp[4096];
	int fd = open_tmp(path, tmp, sizeof tmp);
	if (fd < 0)
		return WARD_EIO;
	return finish_tmp(fd, tmp, path, fd_write_all(fd, p, n));
}

ward_err fs_copy_atomic(const char *src, const char *dst)
{
	char tmp[4096], buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return WARD_EIO;
	int fd = open_tmp(dst, tmp, sizeof tmp);
	if (fd < 0) {
		close(in);
		return WARD_EIO;
	}
	bool ok = true;
	for (;;) {
		ssize_t r = read(in, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			ok = false;
		if (r <= 0)
			break;
		if (!fd_write_all(fd, buf, (size_t)r)) {
			ok = false;
			break;
		}
	}
	close(in);
	return finish_tmp(fd, tmp, dst, ok);
}

ward_err fs_mkdir(const char *path)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST) {
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return WARD_OK;
	}
	return WARD_EIO;
}

ward_err fs_rmtree(const char *path, unsigned depth)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? WARD_OK : WARD_EIO;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) == 0 ? WARD_OK : WARD_EIO;
	if (depth == 0)
		return WARD_ELIMIT;
	DIR *d = opendir(path);
	if (!d)
		return WARD_EIO;
	ward_err err = WARD_OK;
	struct dirent *de;
	char sub[4096];
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!fs_path(sub, sizeof sub, "%s/%s", path, de->d_name)) {
			err = WARD_ELIMIT;
			continue;
		}
		ward_err e = fs_rmtree(sub, depth - 1);
		if (e != WARD_OK)
			err = e;
	}
	closedir(d);
	if (rmdir(path) != 0 && err == WARD_OK)
		err = WARD_EIO;
	return err;
}
