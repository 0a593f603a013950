/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for agent/logindex.c (the stderr index of a task's log) and
 * the log relay that writes it (yard-agent-relay, run for real next to
 * this test binary): records appended and read back for a byte window,
 * merged and clipped; a corrupt, short or senseless index ignored
 * safely; the relay marking exactly the stderr bytes, rotating the log
 * with its index, resetting the index of a log truncated by hand, and
 * holding the log while it writes.
 */

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "logindex.h"

static char dir[64];

static int
open_idx(const char *name, int trunc)
{
	char p[160];
	int  fd;

	(void)snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_RDWR | O_CREAT | O_APPEND | (trunc ? O_TRUNC : 0), 0600);
	assert_true(fd != -1);
	return (fd);
}

static void
test_logindex_append_collect(void **state)
{
	struct agent_ranges r;
	int		    fd = open_idx("a.stderr", 1);

	memset(&r, 0, sizeof(r));
	assert_int_equal(agent_logidx_count(fd), -1); /* empty: no header */
	assert_true(agent_logidx_init(fd));
	assert_int_equal(agent_logidx_count(fd), 0);
	assert_true(agent_logidx_append(fd, 10, 20));
	assert_true(agent_logidx_append(fd, 30, 40));
	assert_true(agent_logidx_append(fd, 40, 50)); /* touches: merged */
	assert_true(agent_logidx_append(fd, 70, 75));
	assert_false(agent_logidx_append(fd, 80, 80));
	assert_int_equal(agent_logidx_count(fd), 4);

	/* The whole file. */
	assert_true(agent_logidx_collect(fd, 0, 100, 0, &r));
	assert_int_equal(r.n, 3);
	assert_int_equal(r.v[0], 10);
	assert_int_equal(r.v[1], 20);
	assert_int_equal(r.v[2], 30);
	assert_int_equal(r.v[3], 50);
	assert_int_equal(r.v[4], 70);
	assert_int_equal(r.v[5], 75);
	agent_ranges_free(&r);

	/* A window that cuts ranges: clipped, moved to the window. */
	assert_true(agent_logidx_collect(fd, 15, 35, 0, &r));
	assert_int_equal(r.n, 2);
	assert_int_equal(r.v[0], 0);
	assert_int_equal(r.v[1], 5);
	assert_int_equal(r.v[2], 15);
	assert_int_equal(r.v[3], 20);
	agent_ranges_free(&r);

	/* Moved to where the window lands in a buffer (shift). */
	assert_true(agent_logidx_collect(fd, 40, 72, 1000, &r));
	assert_int_equal(r.n, 2);
	assert_int_equal(r.v[0], 1000);
	assert_int_equal(r.v[1], 1010);
	assert_int_equal(r.v[2], 1030);
	assert_int_equal(r.v[3], 1032);
	agent_ranges_free(&r);

	/* Nothing there. */
	assert_true(agent_logidx_collect(fd, 20, 30, 0, &r));
	assert_int_equal(r.n, 0);
	assert_true(agent_logidx_collect(fd, 75, 1000, 0, &r));
	assert_int_equal(r.n, 0);
	assert_int_equal(agent_logidx_any(fd, 20, 30), 0);
	assert_int_equal(agent_logidx_any(fd, 19, 30), 1);
	assert_int_equal(agent_logidx_any(fd, 20, 31), 1);
	assert_int_equal(agent_logidx_any(fd, 50, 70), 0);
	agent_ranges_free(&r);
	(void)close(fd);
}

/* Many records: the window is found by bisection, in order. */
static void
test_logindex_many(void **state)
{
	struct agent_ranges r;
	int64_t		    i;
	int		    fd = open_idx("m.stderr", 1);

	memset(&r, 0, sizeof(r));
	assert_true(agent_logidx_init(fd));
	for (i = 0; i < 10000; i++)
		assert_true(agent_logidx_append(fd, i * 10, i * 10 + 5));
	assert_true(agent_logidx_collect(fd, 55555, 55600, 0, &r));
	/* 55550-55555 ends at the window; 55560.., 55570.., ... 55590.. */
	assert_int_equal(r.n, 4);
	assert_int_equal(r.v[0], 5);
	assert_int_equal(r.v[1], 10);
	assert_int_equal(r.v[6], 35);
	assert_int_equal(r.v[7], 40);
	agent_ranges_free(&r);
	assert_int_equal(agent_logidx_any(fd, 99995, 100000), 0);
	assert_int_equal(agent_logidx_any(fd, 99994, 100000), 1);
	(void)close(fd);
}

static void
test_logindex_corrupt(void **state)
{
	struct agent_ranges r;
	unsigned char	    rec[16];
	size_t		    i;
	int		    fd;

	memset(&r, 0, sizeof(r));
	/* Not an index: another header. */
	fd = open_idx("bad.stderr", 1);
	assert_int_equal(write(fd, "NOTANIDX\0\0\0\0\0\0\0\0", 16), 16);
	memset(rec, 0, sizeof(rec));
	rec[0] = 1;
	rec[8] = 9;
	assert_int_equal(write(fd, rec, 16), 16);
	assert_int_equal(agent_logidx_count(fd), -1);
	assert_true(agent_logidx_collect(fd, 0, 100, 0, &r));
	assert_int_equal(r.n, 0);
	assert_int_equal(agent_logidx_any(fd, 0, 100), 0);
	(void)close(fd);

	/* Shorter than a header. */
	fd = open_idx("short.stderr", 1);
	assert_int_equal(write(fd, "YARDERR1", 8), 8);
	assert_int_equal(agent_logidx_count(fd), -1);
	assert_true(agent_logidx_collect(fd, 0, 100, 0, &r));
	assert_int_equal(r.n, 0);
	(void)close(fd);

	/* A partial last record, senseless and out-of-order records:
	 * skipped, the good ones still read. */
	fd = open_idx("mixed.stderr", 1);
	assert_true(agent_logidx_init(fd));
	assert_true(agent_logidx_append(fd, 10, 20));
	memset(rec, 0, sizeof(rec));
	rec[0] = 40;
	rec[8] = 30; /* end before start */
	assert_int_equal(write(fd, rec, 16), 16);
	memset(rec, 0xff, sizeof(rec)); /* past INT64_MAX */
	assert_int_equal(write(fd, rec, 16), 16);
	assert_true(agent_logidx_append(fd, 50, 60));
	assert_true(agent_logidx_append(fd, 5, 8)); /* before the last */
	assert_true(agent_logidx_append(fd, 70, 80));
	assert_int_equal(write(fd, "YARD", 4), 4); /* cut short */
	assert_int_equal(agent_logidx_count(fd), 6);
	/* The bisection may pass over good records among bad ones; what
	 * it returns is only ever good records, in order. */
	assert_true(agent_logidx_collect(fd, 0, 1000, 0, &r));
	assert_true(r.n >= 2 && r.n <= 3);
	for (i = 0; i < r.n; i++)
		assert_true((r.v[2 * i] == 10 && r.v[2 * i + 1] == 20) ||
		    (r.v[2 * i] == 50 && r.v[2 * i + 1] == 60) ||
		    (r.v[2 * i] == 70 && r.v[2 * i + 1] == 80));
	assert_int_equal(r.v[2 * r.n - 1], 80);
	agent_ranges_free(&r);
	/* A window past the bad records finds what is there. */
	assert_true(agent_logidx_collect(fd, 55, 75, 0, &r));
	assert_int_equal(r.n, 2);
	assert_int_equal(r.v[0], 0);
	assert_int_equal(r.v[1], 5);
	assert_int_equal(r.v[2], 15);
	assert_int_equal(r.v[3], 20);
	agent_ranges_free(&r);
	(void)close(fd);

	/* No file at all. */
	assert_int_equal(agent_logidx_count(-1), -1);
}

/*
 * Run the relay on a log with max bytes, feed it the script's lines ("o"
 * to stdout, "e" to stderr, in turn, each written whole), wait for it.
 */
static void
relay_run(const char *log, long max, const char *const *lines, size_t n,
    int hold_ms, pid_t *pidp)
{
	char   self[PATH_MAX], prog[PATH_MAX + 32], maxs[24], *slash;
	int    out[2], err[2], st;
	pid_t  pid;
	size_t i;

	assert_true(readlink("/proc/self/exe", self, sizeof(self) - 1) > 0);
	self[readlink("/proc/self/exe", self, sizeof(self) - 1)] = '\0';
	assert_non_null(slash = strrchr(self, '/'));
	*slash = '\0';
	(void)snprintf(prog, sizeof(prog), "%s/../yard-agent-relay", self);
	(void)snprintf(maxs, sizeof(maxs), "%ld", max);
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	/* As the agent makes them: more than the relay reads at once. */
	(void)fcntl(out[1], F_SETPIPE_SZ, 256 * 1024);
	(void)fcntl(err[1], F_SETPIPE_SZ, 256 * 1024);
	if ((pid = fork()) == 0) {
		/* Out of the way of 3 and 4 first, then into them. */
		int o = fcntl(out[0], F_DUPFD, 10),
		    e = fcntl(err[0], F_DUPFD, 10);

		(void)close(out[1]);
		(void)close(err[1]);
		(void)dup2(o, 3);
		(void)dup2(e, 4);
		execl(prog, "yard-agent-relay", log, maxs, "3", (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	(void)close(out[0]);
	(void)close(err[0]);
	for (i = 0; i < n; i++) {
		const char *l = lines[i] + 1;
		int	    fd = lines[i][0] == 'e' ? err[1] : out[1];

		assert_int_equal(write(fd, l, strlen(l)), (ssize_t)strlen(l));
		if (n < 1000)
			(void)usleep(2000); /* one read each */
	}
	if (hold_ms > 0) {
		(void)usleep(hold_ms * 1000);
		/* While it writes, it holds the log: nobody else rotates. */
		assert_int_equal(agent_logidx_held(log), 1);
	}
	(void)close(out[1]);
	(void)close(err[1]);
	if (pidp != NULL) {
		*pidp = pid;
		return;
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(agent_logidx_held(log), 0);
}

/* Every byte of file marked exactly when its line starts with "E". */
static void
check_marked(const char *file)
{
	struct agent_ranges r;
	static char	    buf[1024 * 1024];
	char		    ip[PATH_MAX + 16];
	ssize_t		    n;
	size_t		    i, k;
	int		    fd, idx, in;

	memset(&r, 0, sizeof(r));
	assert_true((fd = open(file, O_RDONLY)) != -1);
	n = read(fd, buf, sizeof(buf));
	(void)close(fd);
	assert_true(n > 0);
	(void)snprintf(ip, sizeof(ip), "%s%s", file, AGENT_LOGIDX_SUFFIX);
	assert_true((idx = open(ip, O_RDONLY)) != -1);
	assert_true(agent_logidx_collect(idx, 0, n, 0, &r));
	(void)close(idx);
	for (i = 0; i < (size_t)n; i++) {
		size_t ls = i;

		while (ls > 0 && buf[ls - 1] != '\n')
			ls--;
		for (in = 0, k = 0; k < r.n; k++)
			in |= (int64_t)i >= r.v[2 * k] &&
			    (int64_t)i < r.v[2 * k + 1];
		if (in != (buf[ls] == 'E'))
			fail_msg("%s: byte %zu (line \"%.20s\") marked %d",
			    file, i, buf + ls, in);
	}
	agent_ranges_free(&r);
}

static void
test_logindex_relay_marks(void **state)
{
	static const char *const lines[] = { "oOut one\n", "eErr one\n",
		"oOut two\n", "eErr two\n", "eErr three\n", "oOut three\n" };
	char			 log[128];

	(void)snprintf(log, sizeof(log), "%s/r.log", dir);
	relay_run(log, 0, lines, 6, 100, NULL);
	check_marked(log);
}

static void
test_logindex_relay_rotates(void **state)
{
	const char *lines[400];
	char	    log[128], part[160], buf[64];
	struct stat st;
	size_t	    i;
	int	    k;

	for (i = 0; i < 400; i++)
		lines[i] = i % 3 == 1 ? "eErr line of some length......\n"
				      : "oOut line of some length......\n";
	(void)snprintf(log, sizeof(log), "%s/rot.log", dir);
	relay_run(log, 2048, lines, 400, 0, NULL);
	/* ~12 KB at 2 KiB a part: 3 parts kept (KEEP 3), each marked. */
	for (k = 1; k <= 3; k++) {
		(void)snprintf(part, sizeof(part), "%s.%d", log, k);
		assert_int_equal(stat(part, &st), 0);
		assert_true(st.st_size > 2048 && st.st_size < 2048 + 64);
		check_marked(part);
	}
	(void)snprintf(part, sizeof(part), "%s.4", log);
	assert_int_equal(stat(part, &st), -1);
	check_marked(log);
	/* The last part ends with the last line. */
	assert_int_equal(stat(log, &st), 0);
	{
		int fd = open(log, O_RDONLY);

		assert_true(fd != -1);
		assert_int_equal(pread(fd, buf, 30, st.st_size - 30), 30);
		(void)close(fd);
		assert_memory_equal(buf, "Out line of some length......\n", 30);
	}
}

/*
 * A burst on both streams (the relay reads full buffers): no line is
 * cut by the other stream's, every byte marked right.
 */
static void
test_logindex_relay_burst(void **state)
{
	static const char *lines[6000];
	static char	   text[6000][128];
	char		   log[128];
	size_t		   i;

	for (i = 0; i < 6000; i++) {
		(void)snprintf(text[i], sizeof(text[i]),
		    "%c%s line %06zu ........................................"
		    "..............................\n",
		    i % 2 ? 'e' : 'o', i % 2 ? "Err" : "Out", i);
		lines[i] = text[i];
	}
	(void)snprintf(log, sizeof(log), "%s/burst.log", dir);
	relay_run(log, 0, lines, 6000, 0, NULL);
	check_marked(log);
}

/* A log truncated by hand: the relay drops the index's old marks. */
static void
test_logindex_relay_truncated(void **state)
{
	static const char *const first[] = { "eErr before\n", "eErr again\n" };
	static const char *const second[] = { "oOut after the truncate\n",
		"eErr after\n" };
	char			 log[128];

	(void)snprintf(log, sizeof(log), "%s/t.log", dir);
	relay_run(log, 0, first, 2, 0, NULL);
	assert_int_equal(truncate(log, 0), 0);
	relay_run(log, 0, second, 2, 0, NULL);
	check_marked(log);
}

static int
setup(void **state)
{
	(void)snprintf(dir, sizeof(dir), "/tmp/test-logindex.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return (0);
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return (system(cmd) == 0 ? 0 : -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logindex_append_collect),
		cmocka_unit_test(test_logindex_many),
		cmocka_unit_test(test_logindex_corrupt),
		cmocka_unit_test(test_logindex_relay_marks),
		cmocka_unit_test(test_logindex_relay_rotates),
		cmocka_unit_test(test_logindex_relay_truncated),
		cmocka_unit_test(test_logindex_relay_burst),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
