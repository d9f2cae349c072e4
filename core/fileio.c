/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "magassay/fileio.h"

static int errno_code(int e)
{
	switch (e) {
	case ENOENT:
		return MG_ERR_NOT_FOUND;
	case ENOSPC:
	case EFBIG:
	case EDQUOT:
		return MG_ERR_NOSPACE;
	case ENOMEM:
		return MG_ERR_NOMEM;
	default:
		return MG_ERR_IO;
	}
}

int mg_file_read_all(const char *path, size_t max_bytes, unsigned char **data, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mg_fail(errno_code(errno), "fileio", "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return mg_fail(MG_ERR_ARG, "fileio", "%s: not a regular file", path);
	}
	if ((unsigned long long)st.st_size > max_bytes) {
		close(fd);
		return mg_fail(MG_ERR_FORMAT, "fileio", "%s: %lld bytes is larger than the %zu accepted",
		               path, (long long)st.st_size, max_bytes);
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	unsigned char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		return mg_fail(MG_ERR_NOMEM, "fileio", "%s: out of memory", path);
	}
	for (;;) {
		if (n + 1 >= cap) { /* the file grew while we read it */
			if (cap > max_bytes) {
				free(buf);
				close(fd);
				return mg_fail(MG_ERR_FORMAT, "fileio", "%s: larger than %zu bytes", path, max_bytes);
			}
			unsigned char *p = realloc(buf, cap * 2);
			if (!p) {
				free(buf);
				close(fd);
				return mg_fail(MG_ERR_NOMEM, "fileio", "%s: out of memory", path);
			}
			buf = p;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			close(fd);
			return mg_fail(errno_code(e), "fileio", "%s: read failed: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return MG_OK;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int mg_file_write_atomic(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	if (!path || !*path)
		return mg_fail(MG_ERR_ARG, "fileio", "empty output path");
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return mg_fail(MG_ERR_ARG, "fileio", "%s: path too long", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return mg_fail(errno_code(errno), "fileio", "%s: cannot create a temporary file: %s", path,
		               strerror(errno));
	/* mkostemp makes 0600 files; spectra are ordinary documents. */
	mode_t mask = umask(0);
	umask(mask);
	(void)fchmod(fd, 0666 & ~mask);
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return mg_fail(errno_code(e), "fileio", "%s: write failed: %s", path, strerror(e));
	}
	if (close(fd) != 0) {
		int e = errno;
		unlink(tmp);
		return mg_fail(errno_code(e), "fileio", "%s: write failed: %s", path, strerror(e));
	}
	if (rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return mg_fail(errno_code(e), "fileio", "%s: cannot rename into place: %s", path, strerror(e));
	}
	/* Make the rename itself durable. */
	snprintf(dir, sizeof(dir), "%s", path);
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return MG_OK;
}
