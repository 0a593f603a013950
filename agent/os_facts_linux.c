/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Part of the Linux implementation of agent/os.h: node facts and
 * metrics, and the clocks.  The /proc files read on every heartbeat stay
 * open and are re-read with pread() at offset 0, which regenerates them
 * (notes/performance.md B6: 2.4x cheaper than open/read/close).
 */

#include <sys/statvfs.h>
#include <sys/utsname.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "os_linux.h"

#define PROC_BUF 4096

static int     proc_open(const char *);
static ssize_t proc_read(int, char *, size_t);
static int     meminfo(struct agent_sys *, int64_t *, int64_t *);
static int64_t meminfo_kb(const char *, const char *);
static void    os_release(char *, size_t);
static void    set_clean(char *, size_t, const char *, size_t);

static int
proc_open(const char *path)
{
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		log_warn("%s", path);
	return (fd);
}

/* Re-read a /proc file from the start; NUL-terminated. */
static ssize_t
proc_read(int fd, char *buf, size_t len)
{
	ssize_t n;

	if (fd == -1)
		return (-1);
	do {
		n = pread(fd, buf, len - 1, 0);
	} while (n == -1 && errno == EINTR);
	if (n < 0)
		return (-1);
	buf[n] = '\0';
	return (n);
}

/* Copy as clean UTF-8 without control characters (facts are shown). */
static void
set_clean(char *dst, size_t dstlen, const char *src, size_t len)
{
	(void)agentproto_utf8_clean(dst, dstlen, src, len);
	dst[strcspn(dst, "\t\n")] = '\0';
}

/* PRETTY_NAME from /etc/os-release (or /usr/lib/os-release). */
static void
os_release(char *dst, size_t len)
{
	FILE  *f;
	char   line[512], *v;
	size_t n;

	dst[0] = '\0';
	if ((f = fopen("/etc/os-release", "re")) == NULL &&
	    (f = fopen("/usr/lib/os-release", "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "PRETTY_NAME=", 12) != 0)
			continue;
		v = line + 12;
		v[strcspn(v, "\n")] = '\0';
		n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') &&
		    v[n - 1] == v[0]) {
			v[n - 1] = '\0';
			v++;
			n -= 2;
		}
		set_clean(dst, len, v, n);
		break;
	}
	fclose(f);
}

int
agent_sys_open(struct agent_sys *s, const char **roots, size_t nroots)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->fd_stat = proc_open("/proc/stat");
	s->fd_meminfo = proc_open("/proc/meminfo");
	s->fd_loadavg = proc_open("/proc/loadavg");
	s->fd_uptime = proc_open("/proc/uptime");
	for (i = 0; i < nroots && i < AGENTPROTO_DISKS_MAX; i++)
		s->roots[s->nroots++] = roots[i];
	if (s->nroots == 0)
		s->roots[s->nroots++] = "/";
	agent_sys_refresh(s);
	return (s->fd_stat != -1 && s->fd_meminfo != -1);
}

void
agent_sys_close(struct agent_sys *s)
{
	if (s->fd_stat != -1)
		close(s->fd_stat);
	if (s->fd_meminfo != -1)
		close(s->fd_meminfo);
	if (s->fd_loadavg != -1)
		close(s->fd_loadavg);
	if (s->fd_uptime != -1)
		close(s->fd_uptime);
	s->fd_stat = s->fd_meminfo = s->fd_loadavg = s->fd_uptime = -1;
}

/* The facts that change rarely: at start and on SIGHUP. */
void
agent_sys_refresh(struct agent_sys *s)
{
	struct agentproto_facts *f = &s->facts;
	struct utsname		 u;
	char			 buf[128];
	ssize_t			 n;
	long			 ncpu;
	int			 fd;

	memset(f, 0, sizeof(*f));
	if (uname(&u) == 0) {
		set_clean(f->hostname, sizeof(f->hostname), u.nodename,
		    strlen(u.nodename));
		set_clean(f->kernel, sizeof(f->kernel), u.release,
		    strlen(u.release));
		set_clean(f->arch, sizeof(f->arch), u.machine,
		    strlen(u.machine));
	}
	os_release(f->os, sizeof(f->os));
	(void)snprintf(f->os_family, sizeof(f->os_family), "linux");
	if ((ncpu = sysconf(_SC_NPROCESSORS_ONLN)) > 0)
		f->cpus = ncpu;
	if ((fd = open("/proc/sys/kernel/random/boot_id",
		 O_RDONLY | O_CLOEXEC)) != -1) {
		if ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
			buf[n] = '\0';
			set_clean(f->boot_id, sizeof(f->boot_id), buf,
			    (size_t)n);
		}
		close(fd);
	}
	(void)snprintf(f->agent_version, sizeof(f->agent_version), "%s",
	    AGENT_VERSION);
}

/* Static facts plus uptime, memory, the deploy roots' disk space and
 * the node policy (s->policy). */
int
agent_sys_facts(struct agent_sys *s, struct agentproto_facts *f)
{
	struct statvfs sv;
	char	       buf[128];
	int64_t	       total, used;
	size_t	       i;

	*f = s->facts;
	if (s->policy != NULL) {
		f->has_policy = 1;
		f->policy = *s->policy;
	}
	if (proc_read(s->fd_uptime, buf, sizeof(buf)) > 0)
		f->uptime = strtoll(buf, NULL, 10);
	if (meminfo(s, &total, &used))
		f->mem_total = total;
	f->ndisks = 0;
	for (i = 0; i < s->nroots; i++) {
		if (statvfs(s->roots[i], &sv) == -1) {
			log_debug("statvfs %s: %s", s->roots[i],
			    strerror(errno));
			continue;
		}
		set_clean(f->disks[f->ndisks].path,
		    sizeof(f->disks[f->ndisks].path), s->roots[i],
		    strlen(s->roots[i]));
		f->disks[f->ndisks].total =
		    (int64_t)sv.f_blocks * (int64_t)sv.f_frsize;
		f->disks[f->ndisks].free =
		    (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
		f->ndisks++;
	}
	return (1);
}

static int64_t
meminfo_kb(const char *buf, const char *key)
{
	const char *p;

	if ((p = strstr(buf, key)) == NULL)
		return (-1);
	return (strtoll(p + strlen(key), NULL, 10));
}

/* MemTotal and MemTotal - MemAvailable, in bytes. */
static int
meminfo(struct agent_sys *s, int64_t *total, int64_t *used)
{
	char	buf[PROC_BUF];
	int64_t t, a;

	if (proc_read(s->fd_meminfo, buf, sizeof(buf)) <= 0 ||
	    (t = meminfo_kb(buf, "MemTotal:")) < 0)
		return (0);
	/* Kernels before 3.14 have no MemAvailable. */
	if ((a = meminfo_kb(buf, "MemAvailable:")) < 0)
		a = meminfo_kb(buf, "MemFree:") + meminfo_kb(buf, "Buffers:") +
		    meminfo_kb(buf, "Cached:");
	if (a < 0 || a > t)
		a = t;
	*total = t * 1024;
	*used = (t - a) * 1024;
	return (1);
}

/*
 * One sweep: CPU % since the previous sweep (since boot the first time),
 * memory and load averages.  Returns 0 if /proc could not be read.
 */
int
agent_sys_metrics(struct agent_sys *s, struct agentproto_metrics *m)
{
	char	 buf[PROC_BUF], *p;
	uint64_t v[8], total, idle, dt, di;
	size_t	 i;

	memset(m, 0, sizeof(*m));
	if (proc_read(s->fd_stat, buf, sizeof(buf)) <= 0 ||
	    strncmp(buf, "cpu ", 4) != 0)
		return (0);
	/* user nice system idle iowait irq softirq steal */
	p = buf + 4;
	total = 0;
	for (i = 0; i < 8; i++) {
		v[i] = strtoull(p, &p, 10);
		total += v[i];
	}
	idle = v[3] + v[4];
	dt = total - s->prev_total;
	di = idle - s->prev_idle;
	if (total > s->prev_total && di <= dt)
		m->cpu = 100.0 * (double)(dt - di) / (double)dt;
	if (m->cpu > 100.0)
		m->cpu = 100.0;
	/* Two decimals are plenty; keeps the JSON short. */
	m->cpu = (double)(int64_t)(m->cpu * 100.0 + 0.5) / 100.0;
	s->prev_total = total;
	s->prev_idle = idle;

	if (!meminfo(s, &m->mem_total, &m->mem_used))
		return (0);
	if (proc_read(s->fd_loadavg, buf, sizeof(buf)) > 0) {
		m->load1 = strtod(buf, &p);
		m->load5 = strtod(p, &p);
		m->load15 = strtod(p, NULL);
		if (!(m->load1 >= 0) || !(m->load5 >= 0) || !(m->load15 >= 0))
			m->load1 = m->load5 = m->load15 = 0;
	}
	return (1);
}

int64_t
agent_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

uint64_t
agent_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

int
agent_os_free_bytes(const char *path, uint64_t *free_bytes)
{
	struct statvfs sv;

	if (statvfs(path, &sv) == -1)
		return (0);
	*free_bytes = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return (1);
}
