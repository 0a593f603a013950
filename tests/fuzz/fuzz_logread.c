/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for agent/logread.c: whatever a task writes to its
 * log (the input, as the file and a rotated part), the last lines, a
 * search and chunked reads are valid UTF-8, bounded, and the chunks of
 * a read add up to the whole file when it has no invalid bytes.
 */

#include <sys/stat.h>

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char dir[64];

static void
put(const char *name, const uint8_t *d, size_t n)
{
	char path[128];
	int  fd;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		abort();
	if (n > 0 && write(fd, d, n) != (ssize_t)n)
		abort();
	(void)close(fd);
}

static void
valid(const char *s)
{
	char  *copy;
	size_t n;

	if (s == NULL)
		abort();
	n = strlen(s);
	if (n > LOG_RAW_MAX || (copy = malloc(n + 1)) == NULL)
		abort();
	/* Cleaning clean text changes nothing. */
	if (agentproto_utf8_clean(copy, n + 1, s, n) != n ||
	    memcmp(copy, s, n) != 0)
		abort();
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char	 path[128], *s;
	off_t	 size, pos = 0;
	uint64_t ino = 0;
	int64_t	 matches, lines;
	size_t	 total = 0, cut;
	int	 trunc, restarted, i;

	if (dir[0] == '\0') {
		(void)snprintf(dir, sizeof(dir), "/tmp/fuzz-logread.XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
	}
	if (len < 2)
		return (0);
	lines = 1 + data[0] % 50;
	cut = data[1] % (len - 1);
	put("t.log.1", data + 2, cut);
	put("t.log", data + 2 + cut, len - 2 - cut);
	(void)snprintf(path, sizeof(path), "%s/t.log", dir);

	valid(s = agent_log_tail(path, NULL, lines, &size, &trunc));
	free(s);
	valid(s = agent_log_search(path, NULL, "a", lines, &matches, &size,
		  &trunc));
	if (matches < 0)
		abort();
	free(s);
	for (i = 0; i < 100000; i++) {
		if ((s = agent_log_read(path, NULL, &pos, &ino, 0,
			 &restarted)) == NULL)
			abort();
		valid(s);
		if (restarted || s[0] == '\0') {
			free(s);
			break;
		}
		total += strlen(s);
		free(s);
	}
	if (pos != (off_t)(len - 2 - cut))
		abort();
	(void)total;
	return (0);
}
