/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Part of the Linux implementation of agent/os.h: processes from /proc.
 * Per-process samples from /proc/<pid>/stat for supervised tasks: CPU
 * ticks, resident memory, threads, state and start time.  Each watched
 * process keeps its stat file open and is re-read with pread(): no
 * open/close per sweep, and a descriptor opened on one process never
 * reads another that later gets the same pid (the kernel answers ESRCH
 * once the first has gone), so pid reuse cannot be mistaken for the task.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "os_linux.h"

static long page_size;

static int parse_int(const char **, const char *, int64_t *);
static int stat_read(const char *, struct agent_proc *);

/* A decimal integer (optionally negative) then a space or the end. */
static int
parse_int(const char **pp, const char *end, int64_t *out)
{
	const char *p = *pp;
	int64_t	    v = 0;
	int	    neg = 0, digits = 0;

	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	while (p < end && *p >= '0' && *p <= '9') {
		if (v > (INT64_MAX - 9) / 10)
			return (0);
		v = v * 10 + (*p - '0');
		p++;
		digits++;
	}
	if (digits == 0 || (p < end && *p != ' ' && *p != '\n'))
		return (0);
	if (p < end)
		p++;
	*out = neg ? -v : v;
	*pp = p;
	return (1);
}

/*
 * Parse one /proc/<pid>/stat line (len bytes).  The command name is in
 * parentheses and may itself hold spaces and ')': fields start after
 * the last ')'.  Returns 1 and fills p (pid, state, utime, stime,
 * threads, starttime, rss in bytes), else 0.
 */
int
agent_proc_parse(const char *buf, size_t len, struct agent_proc *p)
{
	const char *s, *end = buf + len, *q;
	int64_t	    v, pid;
	int	    field;

	if (buf == NULL || len == 0)
		return (0);
	q = buf;
	if (!parse_int(&q, end, &pid) || pid < 1 || pid > INT32_MAX)
		return (0);
	for (s = end; s > buf && s[-1] != ')'; s--)
		;
	if (s == buf || s < q || end - s < 3 || s[0] != ' ')
		return (0);
	s++;
	if (*s < 'A' || *s > 'z' || s[1] != ' ')
		return (0);
	p->pid = (int)pid;
	p->state = *s;
	s += 2;
	/* Fields 4 (ppid) to 24 (rss). */
	for (field = 4; field <= 24; field++) {
		if (!parse_int(&s, end, &v))
			return (0);
		switch (field) {
		case 6:
			p->session = v;
			break;
		case 14:
			p->utime = v;
			break;
		case 15:
			p->stime = v;
			break;
		case 16:
			p->cutime = v < 0 ? 0 : v;
			break;
		case 17:
			p->cstime = v < 0 ? 0 : v;
			break;
		case 20:
			p->threads = v;
			break;
		case 22:
			p->starttime = v;
			break;
		case 24:
			if (page_size == 0)
				page_size = sysconf(_SC_PAGESIZE);
			if (page_size <= 0 || v > INT64_MAX / page_size)
				return (0);
			p->rss = v < 0 ? 0 : v * page_size;
			break;
		}
	}
	if (p->utime < 0 || p->stime < 0 || p->starttime < 0)
		return (0);
	return (1);
}

/* Start watching pid: 1, or 0 when it does not exist (errno set). */
int
agent_proc_open(struct agent_proc *p, int pid)
{
	char path[32];

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->pid = pid;
	(void)snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((p->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		p->gone = 1;
		return (0);
	}
	if (agent_proc_sample(p) != 1) {
		agent_proc_close(p);
		p->gone = 1;
		return (0);
	}
	return (1);
}

void
agent_proc_close(struct agent_proc *p)
{
	if (p->fd != -1)
		(void)close(p->fd);
	p->fd = -1;
}

/*
 * Take a sample; the previous one moves to p->prev_*.  Returns 1, 0 when
 * the process has gone (p->gone is set and the descriptor closed), or -1
 * on an unreadable line.
 */
int
agent_proc_sample(struct agent_proc *p)
{
	struct agent_proc n;
	char		  buf[1024];
	ssize_t		  r;

	if (p->fd == -1 || p->gone)
		return (0);
	do {
		r = pread(p->fd, buf, sizeof(buf) - 1, 0);
	} while (r == -1 && errno == EINTR);
	if (r <= 0) {
		p->gone = 1;
		agent_proc_close(p);
		return (0);
	}
	buf[r] = '\0';
	memset(&n, 0, sizeof(n));
	if (!agent_proc_parse(buf, (size_t)r, &n) || n.pid != p->pid)
		return (-1);
	p->prev_ticks = p->sampled ? p->utime + p->stime : -1;
	p->prev_ms = p->at_ms;
	p->state = n.state;
	p->utime = n.utime;
	p->stime = n.stime;
	p->threads = n.threads;
	p->starttime = n.starttime;
	p->rss = n.rss;
	p->at_ms = agent_mono_ms();
	p->sampled = 1;
	return (1);
}

/* CPU % of one core between the last two samples; -1 before two. */
double
agent_proc_cpu(const struct agent_proc *p, long hz)
{
	int64_t	 dt;
	uint64_t dms;

	if (p->prev_ticks < 0 || !p->sampled || hz <= 0 ||
	    p->at_ms <= p->prev_ms)
		return (-1);
	dt = p->utime + p->stime - p->prev_ticks;
	dms = p->at_ms - p->prev_ms;
	if (dt < 0)
		return (-1);
	return ((double)dt * 1000.0 / (double)hz * 100.0 / (double)dms);
}

/* Read and parse one /proc/<pid>/stat (path) into *p: 1, else 0. */
static int
stat_read(const char *path, struct agent_proc *p)
{
	char	buf[1024];
	ssize_t len;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	len = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (len <= 0)
		return (0);
	memset(p, 0, sizeof(*p));
	return (agent_proc_parse(buf, (size_t)len, p));
}

/*
 * One pass over /proc: out[i] sums the processes whose session is
 * leaders[i] (a task runs in a session of its own, so this is its whole
 * tree, children and double-forked daemons included, unless they made a
 * session of their own).  Children's time already waited for counts
 * through cutime/cstime, so the sum grows as members come and go.
 * Returns the processes read, or -1 when /proc cannot be read.
 */
int
agent_proc_tree(const int *leaders, size_t n, struct agent_tree *out)
{
	struct agent_proc p;
	struct dirent	 *d;
	char		  path[64];
	size_t		  i;
	DIR		 *dir;
	int		  seen = 0;

	memset(out, 0, n * sizeof(*out));
	if ((dir = opendir("/proc")) == NULL)
		return (-1);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%.20s/stat",
		    d->d_name);
		if (!stat_read(path, &p))
			continue;
		seen++;
		for (i = 0; i < n; i++) {
			if (leaders[i] <= 0 || p.session != leaders[i])
				continue;
			out[i].ticks += p.utime + p.stime + p.cutime + p.cstime;
			out[i].rss += p.rss;
			out[i].threads += p.threads;
			out[i].procs++;
			break;
		}
	}
	(void)closedir(dir);
	return (seen);
}

/*
 * The same sums over the processes of a cgroup (its cgroup.procs): the
 * task's whole tree, whatever sessions its members made.  Returns the
 * processes read, or -1 when the cgroup's list cannot be read.
 */
int
agent_proc_tree_cgroup(const char *cgdir, struct agent_tree *out)
{
	struct agent_proc p;
	char		  path[AGENT_PATH_MAX + 32];
	FILE		 *f;
	long		  pid;
	int		  seen = 0;

	memset(out, 0, sizeof(*out));
	(void)snprintf(path, sizeof(path), "%s/cgroup.procs", cgdir);
	if ((f = fopen(path, "re")) == NULL)
		return (-1);
	while (fscanf(f, "%ld", &pid) == 1) {
		if (pid < 1 || pid > INT32_MAX)
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if (!stat_read(path, &p))
			continue;
		seen++;
		out->ticks += p.utime + p.stime + p.cutime + p.cstime;
		out->rss += p.rss;
		out->threads += p.threads;
		out->procs++;
	}
	(void)fclose(f);
	return (seen);
}

/* The real uid in a /proc/<pid>/status text ("Uid:\t<real>\t..."), -1. */
int64_t
agent_proc_status_uid(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	int64_t	    v = 0;
	int	    digits = 0;

	while (p < end) {
		if ((size_t)(end - p) > 4 && memcmp(p, "Uid:", 4) == 0)
			break;
		while (p < end && *p != '\n')
			p++;
		if (p < end)
			p++;
	}
	if ((size_t)(end - p) <= 4)
		return (-1);
	for (p += 4; p < end && (*p == '\t' || *p == ' '); p++)
		;
	for (; p < end && *p >= '0' && *p <= '9' && digits < 11; p++) {
		v = v * 10 + (*p - '0');
		digits++;
	}
	if (digits == 0 || digits > 10 || v > UINT32_MAX ||
	    (p < end && *p != '\t' && *p != ' ' && *p != '\n'))
		return (-1);
	return (v);
}

/* The real uid of pid (zombies too), or -1 when it cannot be read. */
int64_t
agent_proc_uid(int pid)
{
	char	path[64], buf[2048];
	ssize_t n;
	int	fd;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof(buf));
	(void)close(fd);
	if (n <= 0)
		return (-1);
	return (agent_proc_status_uid(buf, (size_t)n));
}

/*
 * Whole trees: a task's cgroup, else its session (one pass over /proc
 * for all the running tasks without a cgroup).
 */
int
agent_os_task_trees(struct agent_task *const *t, size_t n,
    struct agent_tree *out)
{
	int    leaders[AGENT_TASKS_MAX], cg[AGENT_TASKS_MAX];
	int    running = 0, scanned = 0;
	size_t i;

	if (n > AGENT_TASKS_MAX)
		n = AGENT_TASKS_MAX;
	for (i = 0; i < n; i++) {
		leaders[i] =
		    t[i]->state == AGENT_TASK_RUNNING ? (int)t[i]->pid : 0;
		cg[i] = leaders[i] > 0 && t[i]->cgroup[0] != '\0';
		if (cg[i])
			leaders[i] = 0;
		running += leaders[i] > 0;
	}
	if (running > 0)
		scanned = agent_proc_tree(leaders, n, out) > 0;
	else
		memset(out, 0, n * sizeof(*out));
	for (i = 0; i < n; i++) {
		if (cg[i] && agent_proc_tree_cgroup(t[i]->cgroup, &out[i]) < 0)
			memset(&out[i], 0, sizeof(out[i]));
		if (cg[i])
			scanned = 1;
	}
	return (scanned);
}

/* Open files of pid (entries of /proc/<pid>/fd), -1 if unknown. */
int64_t
agent_os_open_files(pid_t pid)
{
	struct dirent *d;
	char	       path[64];
	DIR	      *dir;
	int64_t	       n = 0;

	(void)snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return (-1);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] != '.')
			n++;
	}
	(void)closedir(dir);
	return (n);
}

long
agent_os_clock_hz(void)
{
	return (sysconf(_SC_CLK_TCK));
}
