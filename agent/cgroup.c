/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Task tracking by cgroup v2: each task's processes live in a cgroup of
 * their own, <mount><agent's cgroup>/yard-<install id>/task-<id>, which
 * no other process can enter unless root puts it there.  So "is anything
 * of the task left" is cgroup.events' populated, and the final kill is
 * cgroup.kill: no scan of /proc, nothing of another task or another
 * agent is ever touched.  Where the host has no usable cgroup v2 (not
 * mounted, not writable, the agent not root, or $YARD_AGENT_NO_CGROUP),
 * supervise.c falls back to the task's session and its mark.
 */

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "os_linux.h"

#define CGROUP2_MAGIC	0x63677270 /* CGROUP2_SUPER_MAGIC, linux/magic.h */
#define MOUNTINFO_MAX	(4 * 1024 * 1024)
#define CGROUP_PIDS_MAX (1024 * 1024) /* bytes of cgroup.procs read */

static char base[AGENT_CGROUP_MAX - 32]; /* .../yard-<install id> or "" */

static char *read_file(const char *, size_t, size_t *);
static int   unescape(const char *, size_t, char *, size_t);
static int   cg_file(char *, size_t, const char *, const char *);
static void  sweep(void);

/* A whole file, NUL-terminated, at most max bytes; malloc'd. */
static char *
read_file(const char *path, size_t max, size_t *lenp)
{
	char   *buf, *nb;
	size_t	len = 0, cap = 8192;
	ssize_t n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (NULL);
	if ((buf = malloc(cap)) == NULL) {
		(void)close(fd);
		return (NULL);
	}
	for (;;) {
		if (len + 1 == cap) {
			if (cap >= max ||
			    (nb = realloc(buf, cap * 2)) == NULL) {
				free(buf);
				(void)close(fd);
				errno = EFBIG;
				return (NULL);
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(buf);
			(void)close(fd);
			return (NULL);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return (buf);
}

/* A mountinfo field (n bytes) with its \ooo escapes undone. */
static int
unescape(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, j = 0;

	for (i = 0; i < n; i++) {
		if (j + 1 >= outlen)
			return (0);
		if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' &&
		    s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			out[j++] = (char)((s[i + 1] - '0') * 64 +
			    (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
			continue;
		}
		out[j++] = s[i];
	}
	out[j] = '\0';
	return (j > 0);
}

/*
 * The first cgroup2 file system in a /proc/self/mountinfo text: its
 * mount point and the cgroup its root is (field 4, "/" unless a subtree
 * was bind-mounted).  Returns 1, or 0 when there is none.
 *
 *	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw
 *	(1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)    (10)   (11)
 */
int
agent_cgroup_mount_parse(const char *buf, char *mnt, size_t mntlen, char *root,
    size_t rootlen)
{
	const char *line, *eol, *f[8], *p;
	size_t	    fl[8], k;
	int	    sep;

	for (line = buf; *line != '\0'; line = *eol != '\0' ? eol + 1 : eol) {
		if ((eol = strchr(line, '\n')) == NULL)
			eol = line + strlen(line);
		/* Fields 4 and 5, then the fstype after the "-" separator. */
		k = 0;
		sep = 0;
		for (p = line; p < eol && k < 8;) {
			while (p < eol && *p == ' ')
				p++;
			if (p == eol)
				break;
			f[k] = p;
			while (p < eol && *p != ' ')
				p++;
			fl[k] = (size_t)(p - f[k]);
			if (sep) {
				k++;
				break; /* the fstype */
			}
			if (k >= 6 && fl[k] == 1 && f[k][0] == '-') {
				sep = 1;
				continue; /* the separator is not kept */
			}
			if (k < 6)
				k++;
		}
		if (!sep || k != 7 || fl[6] != 7 ||
		    memcmp(f[6], "cgroup2", 7) != 0)
			continue;
		if (!unescape(f[3], fl[3], root, rootlen) ||
		    !unescape(f[4], fl[4], mnt, mntlen) || root[0] != '/' ||
		    mnt[0] != '/')
			continue;
		return (1);
	}
	return (0);
}

/*
 * The process's cgroup v2 in a /proc/<pid>/cgroup text: the path of its
 * "0::" line, relative to the cgroup2 root.  Returns 1, else 0 (no v2
 * line, or a path outside our cgroup namespace: "/..").
 */
int
agent_cgroup_self_parse(const char *buf, char *path, size_t len)
{
	const char *line, *eol;
	size_t	    n;

	for (line = buf; *line != '\0'; line = *eol != '\0' ? eol + 1 : eol) {
		if ((eol = strchr(line, '\n')) == NULL)
			eol = line + strlen(line);
		if (strncmp(line, "0::", 3) != 0)
			continue;
		n = (size_t)(eol - line) - 3;
		if (n == 0 || n >= len || line[3] != '/')
			return (0);
		memcpy(path, line + 3, n);
		path[n] = '\0';
		if (strstr(path, "/..") != NULL || strchr(path, ' ') != NULL)
			return (0);
		return (1);
	}
	return (0);
}

/*
 * The directory of cgroup own (as /proc/self/cgroup names it) under a
 * cgroup2 mount at mnt whose root is the cgroup mroot.  Returns 1, or 0
 * when own is not below mroot (not reachable through that mount) or the
 * result does not fit.
 */
int
agent_cgroup_join(const char *mnt, const char *mroot, const char *own,
    char *out, size_t len)
{
	size_t rl = strlen(mroot);
	int    n;

	while (rl > 1 && mroot[rl - 1] == '/')
		rl--;
	if (rl > 1) {
		if (strncmp(own, mroot, rl) != 0 ||
		    (own[rl] != '\0' && own[rl] != '/'))
			return (0);
		own += rl;
	}
	if (strcmp(own, "/") == 0)
		own = "";
	n = snprintf(out, len, "%s%s", strcmp(mnt, "/") == 0 ? "" : mnt, own);
	if (n < 0 || (size_t)n >= len)
		return (0);
	if (out[0] == '\0')
		(void)snprintf(out, len, "/");
	return (1);
}

/*
 * Decide how tasks are tracked (once, at start) and log it: a cgroup v2
 * per task under <our cgroup>/yard-<install_id>, created here, or the
 * session and mark.  Returns 1 for cgroups.
 */
int
agent_cgroup_init(const char *install_id)
{
	char mnt[AGENT_PATH_MAX], mroot[AGENT_PATH_MAX];
	char own[AGENT_PATH_MAX], dir[AGENT_PATH_MAX], why[AGENT_PATH_MAX];
	char path[AGENT_PATH_MAX + 32], *buf;
	const char *no;

	base[0] = '\0';
	why[0] = '\0';
	no = getenv(AGENT_NO_CGROUP_ENV);
	if (no != NULL && *no != '\0' && strcmp(no, "0") != 0) {
		(void)snprintf(why, sizeof(why), "$%s is set",
		    AGENT_NO_CGROUP_ENV);
		goto fallback;
	}
	if (geteuid() != 0) {
		(void)snprintf(why, sizeof(why), "the agent is not root");
		goto fallback;
	}
	if ((buf = read_file("/proc/self/mountinfo", MOUNTINFO_MAX, NULL)) ==
	    NULL) {
		(void)snprintf(why, sizeof(why), "/proc/self/mountinfo: %s",
		    strerror(errno));
		goto fallback;
	}
	if (!agent_cgroup_mount_parse(buf, mnt, sizeof(mnt), mroot,
		sizeof(mroot))) {
		free(buf);
		(void)snprintf(why, sizeof(why),
		    "no cgroup2 file system is mounted");
		goto fallback;
	}
	free(buf);
	if ((buf = read_file("/proc/self/cgroup", 65536, NULL)) == NULL ||
	    !agent_cgroup_self_parse(buf, own, sizeof(own))) {
		free(buf);
		(void)snprintf(why, sizeof(why),
		    "the agent's cgroup v2 is unknown (/proc/self/cgroup)");
		goto fallback;
	}
	free(buf);
	if (!agent_cgroup_join(mnt, mroot, own, dir, sizeof(dir))) {
		(void)snprintf(why, sizeof(why),
		    "the agent's cgroup %.256s is not under the cgroup2 "
		    "mount at %.256s",
		    own, mnt);
		goto fallback;
	}
	(void)snprintf(path, sizeof(path), "%s/yard-%s",
	    strcmp(dir, "/") == 0 ? "" : dir, install_id);
	if (strlen(path) >= sizeof(base)) {
		(void)snprintf(why, sizeof(why), "cgroup path too long");
		goto fallback;
	}
	if (mkdir(path, 0755) == -1 && errno != EEXIST) {
		(void)snprintf(why, sizeof(why), "cannot create %.512s: %s",
		    path, strerror(errno));
		goto fallback;
	}
	if (!cg_file(dir, sizeof(dir), path, "cgroup.procs") ||
	    access(dir, W_OK) == -1) {
		(void)snprintf(why, sizeof(why), "%.512s: %s", dir,
		    strerror(errno));
		(void)rmdir(path);
		goto fallback;
	}
	memcpy(base, path, strlen(path) + 1); /* it fits: checked above */
	sweep();
	log_info("tracking: cgroup v2 at %s", base);
	return (1);
fallback:
	log_info("tracking: session and mark (%s)", why);
	return (0);
}

/*
 * Remove the empty task cgroups under base (rmdir fails on the others):
 * what tasks that ended while no agent watched, or tasks stopped by hand,
 * left behind.
 */
static void
sweep(void)
{
	struct dirent *de;
	DIR	      *d;
	char	       path[AGENT_CGROUP_MAX + 256];

	if ((d = opendir(base)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "task-", 5) != 0)
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", base, de->d_name);
		(void)rmdir(path);
	}
	(void)closedir(d);
}

/*
 * At exit: the empty task cgroups go, and the installation's when no
 * task is left in it; tasks started later are tracked by session.
 */
void
agent_cgroup_fini(void)
{
	if (base[0] != '\0') {
		sweep();
		(void)rmdir(base);
	}
	base[0] = '\0';
}

/* "cgroup" or "session": how this agent tracks the tasks it starts. */
const char *
agent_tracking_name(void)
{
	return (base[0] != '\0' ? "cgroup" : "session");
}

static int
cg_file(char *buf, size_t len, const char *dir, const char *name)
{
	int n;

	n = snprintf(buf, len, "%s/%s", dir, name);
	return (n >= 0 && (size_t)n < len);
}

/*
 * Create the cgroup of task id (mode 0755; an existing one is reused)
 * and put its path in out.  Returns 1, 0 when tasks are not tracked by
 * cgroup (out is ""), -1 on failure (errno set).
 */
int
agent_cgroup_task(int64_t id, char *out, size_t len)
{
	int n;

	out[0] = '\0';
	if (base[0] == '\0')
		return (0);
	n = snprintf(out, len, "%s/task-%" PRId64, base, id);
	if (n < 0 || (size_t)n >= len) {
		out[0] = '\0';
		errno = ENAMETOOLONG;
		return (-1);
	}
	if (mkdir(out, 0755) == -1 && errno != EEXIST) {
		out[0] = '\0';
		return (-1);
	}
	return (1);
}

/*
 * Whether path (from tasks.json) can be task id's cgroup: absolute,
 * ".../yard-<install id>/task-<id>" on a cgroup2 file system.  An
 * agent restarted in another cgroup still uses the recorded path.
 * Returns 1, else 0 with errno ENOENT when it is gone, EINVAL when it is
 * not a task cgroup.
 */
int
agent_cgroup_valid(const char *path, int64_t id)
{
	struct statfs sfs;
	const char   *last, *parent;
	char	      want[64];
	size_t	      i;

	errno = EINVAL;
	if (path[0] != '/' || strstr(path, "/..") != NULL ||
	    strstr(path, "/./") != NULL)
		return (0);
	(void)snprintf(want, sizeof(want), "/task-%" PRId64, id);
	last = strrchr(path, '/');
	if (strcmp(last, want) != 0)
		return (0);
	for (parent = last; parent > path && parent[-1] != '/'; parent--)
		;
	if ((size_t)(last - parent) != 5 + AGENT_INSTALL_ID_LEN ||
	    strncmp(parent, "yard-", 5) != 0)
		return (0);
	for (i = 5; i < 5 + AGENT_INSTALL_ID_LEN; i++) {
		if ((parent[i] < '0' || parent[i] > '9') &&
		    (parent[i] < 'a' || parent[i] > 'f'))
			return (0);
	}
	if (statfs(path, &sfs) == -1)
		return (0);
	if (sfs.f_type != CGROUP2_MAGIC) {
		errno = EINVAL;
		return (0);
	}
	return (1);
}

/* cgroup.procs of path opened for writing (close-on-exec), or -1. */
int
agent_cgroup_open_procs(const char *path)
{
	char file[AGENT_PATH_MAX + 32];

	if (!cg_file(file, sizeof(file), path, "cgroup.procs")) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (open(file, O_WRONLY | O_CLOEXEC));
}

/*
 * Whether any process is left in the cgroup (cgroup.events "populated
 * 1"; zombies do not count).  0 when it is empty or gone, -1 when
 * unreadable.
 */
int
agent_cgroup_populated(const char *path)
{
	char	file[AGENT_PATH_MAX + 32], buf[256], *p;
	ssize_t n;
	int	fd;

	if (!cg_file(file, sizeof(file), path, "cgroup.events"))
		return (-1);
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return (errno == ENOENT ? 0 : -1);
	do {
		n = read(fd, buf, sizeof(buf) - 1);
	} while (n == -1 && errno == EINTR);
	(void)close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	if ((p = strstr(buf, "populated ")) == NULL)
		return (-1);
	return (p[10] == '1');
}

/*
 * Send sig to every process listed in the cgroup's cgroup.procs.
 * Returns how many were signalled, -1 when the list is unreadable.
 */
int
agent_cgroup_signal(const char *path, int sig)
{
	char *buf, *p, *end, file[AGENT_PATH_MAX + 32];
	long  pid;
	int   n = 0;

	if (!cg_file(file, sizeof(file), path, "cgroup.procs"))
		return (-1);
	if ((buf = read_file(file, CGROUP_PIDS_MAX, NULL)) == NULL)
		return (errno == ENOENT ? 0 : -1);
	for (p = buf; *p != '\0'; p = end) {
		pid = strtol(p, &end, 10);
		if (end == p)
			break;
		while (*end == '\n')
			end++;
		if (pid > 1 && pid != (long)getpid() &&
		    kill((pid_t)pid, sig) == 0)
			n++;
	}
	free(buf);
	return (n);
}

/*
 * SIGKILL everything in the cgroup: cgroup.kill (Linux 5.14), which
 * also takes processes forked meanwhile; on older kernels, SIGKILL to
 * each process listed (the caller repeats while it is populated).
 * Returns 1 when it was done, 0 otherwise.
 */
int
agent_cgroup_kill(const char *path)
{
	char file[AGENT_PATH_MAX + 32];
	int  fd, ok;

	if (!cg_file(file, sizeof(file), path, "cgroup.kill"))
		return (0);
	if ((fd = open(file, O_WRONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && access(path, F_OK) == 0)
			return (agent_cgroup_signal(path, SIGKILL) >= 0);
		return (0);
	}
	ok = write(fd, "1", 1) == 1;
	(void)close(fd);
	return (ok);
}

/*
 * rmdir the cgroup; 1 when it is gone, 0 while processes are left.  A
 * task cgroup of an earlier run in another cgroup takes its yard-<install
 * id> parent along once that is empty.
 */
int
agent_cgroup_remove(const char *path)
{
	const char *slash;
	char	    parent[AGENT_CGROUP_MAX];
	size_t	    n;

	if (rmdir(path) == -1 && errno != ENOENT)
		return (0);
	if ((slash = strrchr(path, '/')) == NULL)
		return (1);
	n = (size_t)(slash - path);
	if (n > 0 && n < sizeof(parent) &&
	    (strlen(base) != n || strncmp(base, path, n) != 0)) {
		memcpy(parent, path, n);
		parent[n] = '\0';
		if (strncmp(strrchr(parent, '/'), "/yard-", 6) == 0)
			(void)rmdir(parent);
	}
	return (1);
}
