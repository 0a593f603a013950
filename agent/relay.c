/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * yard-agent-relay: the log relay of one task (docs/agent-protocol.md,
 * "Logs").  The agent starts it next to the task (agent_os_spawn()) with
 * the read ends of the task's stdout and stderr pipes as descriptors 3
 * and 4:
 *
 *	yard-agent-relay LOG MAX KEEP
 *
 * It appends what either pipe brings to LOG, as the task's writes used to
 * land there, and records in LOG.stderr (logindex.h) which byte ranges
 * came from stderr.  Past MAX bytes (of the log or of its index) it
 * rotates both by renaming (LOG.1, LOG.1.stderr, ... LOG.KEEP): nothing
 * is lost, and the parts keep their marks.  It needs nothing of the
 * agent: it outlives an agent restart like the task does, so the task
 * never blocks on a full pipe or gets SIGPIPE while no agent runs.  It
 * ends when both pipes are closed (the task and whatever it started that
 * holds them are gone), and ignores the signals that end the agent.
 *
 * Only libc, no allocation: it may run for months beside every task.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "logindex.h"

#define RELAY_BUF	 (64 * 1024)
#define RELAY_RETRY_S	 10 /* a failed open or rotation is tried again */
#define RELAY_KEEP_MAX	 99
#define RELAY_CHECK_S	 10 /* the size of the log is checked this often */
#define RELAY_PARTIAL_MS 200 /* an unfinished line waits for its end */

struct out {
	const char *path;
	char	    idxpath[PATH_MAX];
	int	    log, idx; /* -1: not open */
	dev_t	    dev;
	ino_t	    ino;
	int64_t	    last_end; /* where our last write ended; -1 */
	int64_t	    max;
	int	    keep;
	time_t	    retry_at; /* opening, rotating */
	uint64_t    lost; /* bytes that could not be written */
	int	    lost_errno;
};

static char buf[2][RELAY_BUF];

static uint64_t mono_ms(void);
static void	files_close(struct out *);
static int	files_open(struct out *);
static void	idx_reset(struct out *);
static void	rotate(struct out *);
static void	emit(struct out *, const char *, size_t, int);
static void	note_lost(struct out *);
static void	check_size(struct out *);
static void	check_moved(struct out *);
static void	merge(struct out *, size_t, size_t);

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static void
files_close(struct out *o)
{
	if (o->log != -1)
		(void)close(o->log);
	if (o->idx != -1)
		(void)close(o->idx);
	o->log = o->idx = -1;
}

/* The index no longer describes the log (it was truncated or replaced by
 * hand): its records go.  Called with the index locked when possible. */
static void
idx_reset(struct out *o)
{
	if (ftruncate(o->idx, 0) == 0)
		(void)agent_logidx_init(o->idx);
}

/* Open (again) the log and its index at their paths: 1, or 0. */
static int
files_open(struct out *o)
{
	struct stat   st;
	unsigned char rec[AGENT_LOGIDX_REC];
	int64_t	      n, e;
	int	      locked, i;

	files_close(o);
	o->last_end = -1;
	if ((o->log = open(o->path,
		 O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
		 0640)) == -1 ||
	    fstat(o->log, &st) == -1 ||
	    (o->idx = open(o->idxpath,
		 O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640)) ==
		-1) {
		files_close(o);
		o->retry_at = time(NULL) + RELAY_RETRY_S;
		return (0);
	}
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	/* Ours to rotate while we hold it (agent_logidx_held()). */
	(void)agent_logidx_lock(o->log, 0);
	locked = agent_logidx_lock(o->idx, 1);
	n = agent_logidx_count(o->idx);
	if (n == -1) {
		/* Empty (new), or not an index at all. */
		idx_reset(o);
	} else if (n > 0 &&
	    pread(o->idx, rec, sizeof(rec),
		(off_t)(AGENT_LOGIDX_HDR + (n - 1) * AGENT_LOGIDX_REC)) ==
		(ssize_t)sizeof(rec)) {
		/* Marks past the log's end are of another log. */
		for (e = 0, i = 7; i >= 0; i--)
			e = (e << 8) | rec[8 + i];
		if (e < 0 || e > (int64_t)st.st_size)
			idx_reset(o);
	}
	if (locked)
		agent_logidx_unlock(o->idx);
	return (1);
}

/*
 * LOG becomes LOG.1 (and LOG.n LOG.n+1, up to keep), each with its
 * index; new files take their place.  Under the index's lock, so that
 * another relay of the same log (a task's previous run still draining,
 * its stop script) rotates it once, and readers see a log and its index
 * of the same generation.
 */
static void
rotate(struct out *o)
{
	struct stat st;
	char	    from[PATH_MAX + 32], to[PATH_MAX + 32];
	int	    i, ok = 1;

	if (o->keep < 1 || time(NULL) < o->retry_at)
		return;
	if (!agent_logidx_lock(o->idx, 1)) {
		o->retry_at = time(NULL) + 1;
		return;
	}
	if (stat(o->path, &st) == -1 || st.st_dev != o->dev ||
	    st.st_ino != o->ino) {
		/* Another relay rotated it: write where it now is. */
		agent_logidx_unlock(o->idx);
		(void)files_open(o);
		return;
	}
	for (i = o->keep - 1; i >= 1 && ok; i--) {
		(void)snprintf(from, sizeof(from), "%s.%d", o->path, i);
		(void)snprintf(to, sizeof(to), "%s.%d", o->path, i + 1);
		if (rename(from, to) == -1) {
			ok = errno == ENOENT;
			continue;
		}
		(void)snprintf(from, sizeof(from), "%s.%d%s", o->path, i,
		    AGENT_LOGIDX_SUFFIX);
		(void)snprintf(to, sizeof(to), "%s.%d%s", o->path, i + 1,
		    AGENT_LOGIDX_SUFFIX);
		/* A part without an index must not keep its predecessor's. */
		if (rename(from, to) == -1)
			(void)unlink(to);
	}
	(void)snprintf(to, sizeof(to), "%s.1", o->path);
	if (ok && rename(o->path, to) == 0) {
		(void)snprintf(to, sizeof(to), "%s.1%s", o->path,
		    AGENT_LOGIDX_SUFFIX);
		if (rename(o->idxpath, to) == -1)
			(void)unlink(to);
	} else
		ok = 0;
	agent_logidx_unlock(o->idx);
	if (!ok) {
		o->retry_at = time(NULL) + RELAY_RETRY_S;
		return;
	}
	(void)files_open(o);
}

/* Say in the log what could not be written, once it can be again. */
static void
note_lost(struct out *o)
{
	char   msg[160];
	int    n;
	size_t lost = (size_t)o->lost;

	n = snprintf(msg, sizeof(msg),
	    "yard-agent-relay: %zu bytes of the task's output were lost: "
	    "%s\n",
	    lost, strerror(o->lost_errno));
	o->lost = 0;
	if (n > 0 && n < (int)sizeof(msg))
		emit(o, msg, (size_t)n, 0);
}

/* Append n bytes of one stream; a stderr write is recorded. */
static void
emit(struct out *o, const char *p, size_t n, int err)
{
	struct stat st;
	ssize_t	    w;
	off_t	    end;
	int	    locked = 0;

	if (o->log == -1 && (time(NULL) < o->retry_at || !files_open(o))) {
		o->lost += n;
		o->lost_errno = errno;
		return;
	}
	if (o->lost > 0) {
		o->lost_errno = o->lost_errno ? o->lost_errno : EIO;
		note_lost(o);
	}
	/* A stderr write and its record go together under the lock: a
	 * reader that saw the log's size under it has every mark before. */
	if (err)
		locked = agent_logidx_lock(o->idx, 1);
	while (n > 0) {
		if ((w = write(o->log, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			o->lost += n;
			o->lost_errno = errno;
			break;
		}
		/* O_APPEND: our offset is the end of our own write. */
		end = lseek(o->log, 0, SEEK_CUR);
		if (end >= 0 && end - w < o->last_end) {
			/* Truncated under us (by hand): old marks go. */
			if (!locked && !err)
				locked = agent_logidx_lock(o->idx, 1);
			idx_reset(o);
		}
		if (err && end >= 0)
			(void)agent_logidx_append(o->idx, (int64_t)(end - w),
			    (int64_t)end);
		if (end >= 0)
			o->last_end = (int64_t)end;
		p += w;
		n -= (size_t)w;
	}
	if (locked)
		agent_logidx_unlock(o->idx);
	if (o->max > 0 &&
	    (o->last_end > o->max ||
		(fstat(o->idx, &st) == 0 && (int64_t)st.st_size > o->max)))
		rotate(o);
}

/* Rotated by another relay of this log (or by hand): follow it. */
static void
check_moved(struct out *o)
{
	struct stat st;

	if (o->log != -1 &&
	    (stat(o->path, &st) == -1 || st.st_dev != o->dev ||
		st.st_ino != o->ino))
		(void)files_open(o);
}

/*
 * What both pipes held at once: which bytes came first no pipe can
 * tell, so their lines are taken in turn (one of stdout, one of stderr)
 * rather than all of one stream before the other.
 */
static void
merge(struct out *o, size_t n0, size_t n1)
{
	const char *e;
	size_t	    p[2] = { 0, 0 }, n[2], len;
	int	    i;

	n[0] = n0;
	n[1] = n1;
	while (p[0] < n[0] || p[1] < n[1]) {
		for (i = 0; i < 2; i++) {
			if (p[i] >= n[i])
				continue;
			e = memchr(buf[i] + p[i], '\n', n[i] - p[i]);
			len = e != NULL ? (size_t)(e - (buf[i] + p[i])) + 1
					: n[i] - p[i];
			emit(o, buf[i] + p[i], len, i == 1);
			p[i] += len;
		}
	}
}

/* Every RELAY_CHECK_S: rotate a log others appended to past max too. */
static void
check_size(struct out *o)
{
	struct stat st, ist;

	if (o->log == -1 || o->max <= 0)
		return;
	if ((fstat(o->log, &st) == 0 && (int64_t)st.st_size > o->max) ||
	    (fstat(o->idx, &ist) == 0 && (int64_t)ist.st_size > o->max))
		rotate(o);
}

int
main(int argc, char *argv[])
{
	struct pollfd pfd[2];
	struct out    o;
	const char   *errstr;
	ssize_t	      n;
	size_t	      have[2] = { 0, 0 }, ready[2];
	uint64_t      since[2] = { 0, 0 }, now, next, wait, dl;
	int	      i, k, open_fds = 2;
	long long     v;
	char	     *end;

	if (argc != 4) {
		(void)fprintf(stderr,
		    "usage: yard-agent-relay LOG MAX KEEP "
		    "(stdout pipe on 3, stderr on 4)\n");
		return (2);
	}
	memset(&o, 0, sizeof(o));
	o.path = argv[1];
	o.log = o.idx = -1;
	errno = 0;
	v = strtoll(argv[2], &end, 10);
	errstr = errno != 0 || *end != '\0' || v < 0 ? "bad MAX" : NULL;
	o.max = v;
	v = strtoll(argv[3], &end, 10);
	if (errstr == NULL && (*end != '\0' || v < 0 || v > RELAY_KEEP_MAX))
		errstr = "bad KEEP";
	o.keep = (int)v;
	if (errstr == NULL &&
	    (o.path[0] != '/' ||
		(size_t)snprintf(o.idxpath, sizeof(o.idxpath), "%s%s", o.path,
		    AGENT_LOGIDX_SUFFIX) >= sizeof(o.idxpath)))
		errstr = "bad LOG";
	if (errstr == NULL &&
	    (fcntl(3, F_GETFD) == -1 || fcntl(4, F_GETFD) == -1))
		errstr = "descriptors 3 and 4 must be open";
	if (errstr != NULL) {
		(void)fprintf(stderr, "yard-agent-relay: %s\n", errstr);
		return (2);
	}
	/* Only the end of both pipes ends it. */
	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGINT, SIG_IGN);
	(void)signal(SIGTERM, SIG_IGN);
	(void)signal(SIGQUIT, SIG_IGN);
	for (i = 0; i < 2; i++) {
		pfd[i].fd = 3 + i;
		pfd[i].events = POLLIN;
		(void)fcntl(pfd[i].fd, F_SETFL,
		    fcntl(pfd[i].fd, F_GETFL) | O_NONBLOCK);
	}
	(void)files_open(&o);
	next = mono_ms() + RELAY_CHECK_S * 1000;
	while (open_fds > 0 || have[0] > 0 || have[1] > 0) {
		now = mono_ms();
		if (now >= next) {
			check_size(&o);
			next = now + RELAY_CHECK_S * 1000;
		}
		wait = next - now;
		for (i = 0; i < 2; i++) {
			if (have[i] == 0)
				continue;
			dl = since[i] + RELAY_PARTIAL_MS;
			if ((dl > now ? dl - now : 0) < wait)
				wait = dl > now ? dl - now : 0;
		}
		if (open_fds > 0 && (k = poll(pfd, 2, (int)wait)) == -1 &&
		    errno != EINTR)
			break;
		check_moved(&o);
		now = mono_ms();
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || (pfd[i].revents == 0))
				continue;
			pfd[i].revents = 0;
			n = read(pfd[i].fd, buf[i] + have[i],
			    sizeof(buf[i]) - have[i]);
			if (n > 0) {
				since[i] = now; /* the last time it wrote */
				have[i] += (size_t)n;
				continue;
			}
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			(void)close(pfd[i].fd);
			pfd[i].fd = -1;
			open_fds--;
		}
		/*
		 * Whole lines go; a line begun but unfinished waits for its
		 * end (so that the other stream cannot cut it in two), but not
		 * once its stream was quiet for RELAY_PARTIAL_MS (a prompt),
		 * nor when it fills the buffer, nor past the end of its
		 * stream.
		 */
		for (i = 0; i < 2; i++) {
			for (ready[i] = have[i];
			     ready[i] > 0 && buf[i][ready[i] - 1] != '\n';
			     ready[i]--)
				;
			/* A full buffer: its whole lines, or all of it when
			 * it holds one line longer than itself. */
			if ((have[i] == sizeof(buf[i]) && ready[i] == 0) ||
			    pfd[i].fd == -1 ||
			    (have[i] > 0 && now >= since[i] + RELAY_PARTIAL_MS))
				ready[i] = have[i];
		}
		if (ready[0] > 0 && ready[1] > 0)
			merge(&o, ready[0], ready[1]);
		else if (ready[0] > 0 || ready[1] > 0)
			emit(&o, buf[ready[0] > 0 ? 0 : 1],
			    ready[0] > 0 ? ready[0] : ready[1], ready[1] > 0);
		for (i = 0; i < 2; i++) {
			if (ready[i] == 0)
				continue;
			memmove(buf[i], buf[i] + ready[i], have[i] - ready[i]);
			have[i] -= ready[i];
		}
	}
	if (o.lost > 0 && o.log != -1)
		note_lost(&o);
	files_close(&o);
	return (0);
}
