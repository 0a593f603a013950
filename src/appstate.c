/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The module's process-wide state and the small helpers every layer
 * above src/core/ may use (app.h).  Kept apart from app.c, the Kore hooks
 * at the top, so that handlers reading the settings do not depend on the
 * file that starts them.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <kore/kore.h>

#include "app.h"

struct app_state app;

int64_t
app_now(void)
{
	return ((int64_t)time(NULL));
}

char *
app_file_read(const char *path, size_t max, size_t *len)
{
	struct stat st;
	char	   *buf;
	ssize_t	    n;
	size_t	    off;
	int	    fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (NULL);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > max) {
		close(fd);
		errno = EFBIG;
		return (NULL);
	}
	buf = kore_malloc((size_t)st.st_size + 1);
	off = 0;
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*len = off;
	return (buf);
}
