/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The stderr index of a task's captured output (logindex.h): written by
 * the log relay, read by the agent when it answers a log request.  The
 * index is outside input for the reader (a crash, a full disk or a hand
 * may have left anything in it): every record is checked, and a bad one
 * is skipped.
 */

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "logindex.h"

#define BATCH 256 /* records read at once */

static void    put64(unsigned char *, uint64_t);
static int64_t get64(const unsigned char *);
static int     rec_read(int, int64_t, int64_t *, int64_t *);
static int64_t first_after(int, int64_t, int64_t);

static void
put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static int64_t
get64(const unsigned char *p)
{
	uint64_t v = 0;
	int	 i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return (v > INT64_MAX ? -1 : (int64_t)v);
}

int
agent_logidx_init(int fd)
{
	unsigned char hdr[AGENT_LOGIDX_HDR];
	struct stat   st;

	if (fstat(fd, &st) == -1)
		return (0);
	if (st.st_size != 0)
		return (1);
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, AGENT_LOGIDX_MAGIC, 8);
	return (write(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr));
}

int
agent_logidx_append(int fd, int64_t start, int64_t end)
{
	unsigned char rec[AGENT_LOGIDX_REC];

	if (start < 0 || end <= start) {
		errno = EINVAL;
		return (0);
	}
	put64(rec, (uint64_t)start);
	put64(rec + 8, (uint64_t)end);
	/* O_APPEND: one write is one record, whoever else appends. */
	return (write(fd, rec, sizeof(rec)) == (ssize_t)sizeof(rec));
}

int64_t
agent_logidx_count(int fd)
{
	unsigned char hdr[AGENT_LOGIDX_HDR];
	struct stat   st;

	if (fd == -1 || fstat(fd, &st) == -1 || st.st_size < AGENT_LOGIDX_HDR)
		return (-1);
	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, AGENT_LOGIDX_MAGIC, 8) != 0)
		return (-1);
	/* A partial record at the end (a write cut short) is not one. */
	return ((int64_t)((st.st_size - AGENT_LOGIDX_HDR) / AGENT_LOGIDX_REC));
}

/* Record k: 1 with its range, 0 when unreadable or senseless. */
static int
rec_read(int fd, int64_t k, int64_t *start, int64_t *end)
{
	unsigned char rec[AGENT_LOGIDX_REC];

	if (pread(fd, rec, sizeof(rec),
		(off_t)(AGENT_LOGIDX_HDR + k * AGENT_LOGIDX_REC)) !=
	    (ssize_t)sizeof(rec))
		return (0);
	*start = get64(rec);
	*end = get64(rec + 8);
	return (*start >= 0 && *end > *start);
}

/*
 * The first of n records whose end lies after from (records are in
 * order; a senseless one counts as ending at 0, so it is passed over).
 */
static int64_t
first_after(int fd, int64_t n, int64_t from)
{
	int64_t lo = 0, hi = n, mid, s, e;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (!rec_read(fd, mid, &s, &e))
			e = 0;
		if (e <= from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

int
agent_ranges_add(struct agent_ranges *r, int64_t start, int64_t end)
{
	int64_t *nv;
	size_t	 cap;

	if (end <= start)
		return (1);
	if (r->n > 0 && r->v[2 * r->n - 1] >= start &&
	    r->v[2 * r->n - 2] <= start) {
		if (end > r->v[2 * r->n - 1])
			r->v[2 * r->n - 1] = end;
		return (1);
	}
	if (r->n == r->cap) {
		cap = r->cap == 0 ? 16 : r->cap * 2;
		if ((nv = realloc(r->v, cap * 2 * sizeof(*nv))) == NULL)
			return (0);
		r->v = nv;
		r->cap = cap;
	}
	r->v[2 * r->n] = start;
	r->v[2 * r->n + 1] = end;
	r->n++;
	return (1);
}

void
agent_ranges_free(struct agent_ranges *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

int
agent_logidx_collect(int fd, int64_t from, int64_t to, int64_t shift,
    struct agent_ranges *out)
{
	unsigned char buf[BATCH * AGENT_LOGIDX_REC];
	int64_t	      n, k, s, e, prev = -1;
	ssize_t	      got;
	size_t	      i, have;

	if (to <= from || (n = agent_logidx_count(fd)) <= 0)
		return (1);
	for (k = first_after(fd, n, from); k < n; k += (int64_t)have) {
		got = pread(fd, buf, sizeof(buf),
		    (off_t)(AGENT_LOGIDX_HDR + k * AGENT_LOGIDX_REC));
		if (got < AGENT_LOGIDX_REC)
			break;
		have = (size_t)got / AGENT_LOGIDX_REC;
		for (i = 0; i < have; i++) {
			s = get64(buf + i * AGENT_LOGIDX_REC);
			e = get64(buf + i * AGENT_LOGIDX_REC + 8);
			/* Senseless, or out of order: not trusted. */
			if (s < 0 || e <= s || s < prev)
				continue;
			prev = e;
			if (s >= to)
				return (1);
			if (e <= from)
				continue;
			if (!agent_ranges_add(out,
				(s < from ? from : s) - from + shift,
				(e > to ? to : e) - from + shift))
				return (0);
		}
	}
	return (1);
}

int
agent_logidx_any(int fd, int64_t from, int64_t to)
{
	int64_t n, k, s, e, prev = -1;

	if (to <= from || (n = agent_logidx_count(fd)) <= 0)
		return (0);
	for (k = first_after(fd, n, from); k < n; k++) {
		if (!rec_read(fd, k, &s, &e) || s < prev)
			continue;
		prev = e;
		if (s >= to)
			return (0);
		if (e > from)
			return (1);
	}
	return (0);
}

int
agent_logidx_lock(int fd, int exclusive)
{
	struct timespec ts, nap;
	long		waited = 0;

	nap.tv_sec = 0;
	nap.tv_nsec = 2 * 1000 * 1000;
	for (;;) {
		if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
			return (1);
		if (errno != EWOULDBLOCK && errno != EINTR)
			return (0);
		if (waited >= AGENT_LOGIDX_LOCK_MS)
			return (0);
		ts = nap;
		(void)nanosleep(&ts, NULL);
		waited += 2;
	}
}

void
agent_logidx_unlock(int fd)
{
	(void)flock(fd, LOCK_UN);
}

int
agent_logidx_held(const char *path)
{
	int fd, held;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) ==
	    -1)
		return (0);
	held = flock(fd, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK;
	(void)close(fd); /* and with it the lock, when it was taken */
	return (held);
}
