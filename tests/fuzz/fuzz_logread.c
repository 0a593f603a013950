/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for agent/logread.c: whatever a task writes to its
 * log (the input, as the file and a rotated part), the last lines, a
 * search and chunked reads are valid UTF-8, bounded, and the chunks of
 * a read add up to the whole file when it has no invalid bytes.  The
 * input is also each part's stderr index (after a valid header, so its
 * records are whatever the input says): the marks returned always lie
 * inside the text, in order, apart, and at most AGENTPROTO_LOG_STDERR_MAX.
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

/* An index with a good header and the input as its records. */
static void
put_index(const char *name, const uint8_t *d, size_t n)
{
	uint8_t *b;

	if ((b = malloc(AGENT_LOGIDX_HDR + n)) == NULL)
		abort();
	memset(b, 0, AGENT_LOGIDX_HDR);
	memcpy(b, AGENT_LOGIDX_MAGIC, 8);
	if (n > 0)
		memcpy(b + AGENT_LOGIDX_HDR, d, n);
	put(name, b, AGENT_LOGIDX_HDR + n);
	free(b);
}

static void
marks_ok(const char *s, struct agent_ranges *m)
{
	size_t	k;
	int64_t prev = 0;

	if (m->n > AGENTPROTO_LOG_STDERR_MAX)
		abort();
	for (k = 0; k < m->n; k++) {
		if (m->v[2 * k] < prev || m->v[2 * k + 1] <= m->v[2 * k] ||
		    m->v[2 * k + 1] > (int64_t)strlen(s))
			abort();
		prev = m->v[2 * k + 1];
	}
	agent_ranges_free(m);
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
	char		    path[128], *s;
	off_t		    size, pos = 0;
	uint64_t	    ino = 0;
	int64_t		    matches, lines;
	size_t		    total = 0, cut;
	int		    trunc, restarted, i;
	struct agent_ranges m;

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
	put_index("t.log.1.stderr", data + 2, len - 2);
	put_index("t.log.stderr", data + 2 + cut, len - 2 - cut);
	(void)snprintf(path, sizeof(path), "%s/t.log", dir);
	memset(&m, 0, sizeof(m));

	valid(s = agent_log_tail(path, NULL, lines, &size, &trunc, &m));
	marks_ok(s, &m);
	free(s);
	valid(s = agent_log_search(path, NULL, "a", lines, &matches, &size,
		  &trunc, &m));
	marks_ok(s, &m);
	if (matches < 0)
		abort();
	free(s);
	for (i = 0; i < 100000; i++) {
		if ((s = agent_log_read(path, NULL, &pos, &ino, 0, &restarted,
			 &m)) == NULL)
			abort();
		valid(s);
		marks_ok(s, &m);
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
