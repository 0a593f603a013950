/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for agent/os_proc_linux.c: the /proc/<pid>/stat parser, real
 * samples of this process, a child that has gone, and pid reuse; a
 * cgroup's tree (from its cgroup.procs) and the real uid of a process.
 */

#include <sys/stat.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"

static const char *good =
    "4242 (java -jar (x) y) S 1 4242 4242 0 -1 4194560 5000 0 12 0 "
    "731 212 0 0 20 0 37 0 123456 3000000000 2048 18446744073709551615 "
    "1 1 0 0 0 0 0 4096 0 0 0 17 1 0 0 0 0 0\n";

static void
test_parse_good(void **state)
{
	struct agent_proc p;

	memset(&p, 0, sizeof(p));
	assert_int_equal(agent_proc_parse(good, strlen(good), &p), 1);
	assert_int_equal(p.pid, 4242);
	assert_int_equal(p.state, 'S');
	assert_int_equal(p.utime, 731);
	assert_int_equal(p.stime, 212);
	assert_int_equal(p.threads, 37);
	assert_int_equal(p.starttime, 123456);
	assert_int_equal(p.rss, 2048 * sysconf(_SC_PAGESIZE));
}

static void
test_parse_bad(void **state)
{
	static const char *bad[] = {
		"",
		"x (a) S 1",
		"12 (a) S 1 2 3", /* truncated */
		"12 (a)S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21",
		"12 (a) S 1 2 3 4 5 6 7 8 9 10 -11 12 13 14 15 16 17 18 19 20 21",
		"12 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 x 19 20 21",
		"12 a S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21",
		/* rss in pages overflows in bytes (found by fuzz_procstat) */
		"12 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 "
		"9000000000000000000",
		"99999999999999999999 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 "
		"16 17 18 19 20 21",
	};
	struct agent_proc p;
	size_t		  i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&p, 0, sizeof(p));
		if (agent_proc_parse(bad[i], strlen(bad[i]), &p) != 0)
			fail_msg("accepted: %s", bad[i]);
	}
	/* Every prefix of a good line is refused or parsed, never read past. */
	for (i = 0; i < strlen(good); i++)
		(void)agent_proc_parse(good, i, &p);
}

static void
test_sample_self(void **state)
{
	struct agent_proc p;
	volatile double	  x = 0;
	long		  i;

	assert_int_equal(agent_proc_open(&p, getpid()), 1);
	assert_int_equal(p.pid, getpid());
	assert_true(p.rss > 0);
	assert_true(p.threads >= 1);
	assert_true(agent_proc_cpu(&p, sysconf(_SC_CLK_TCK)) < 0);
	for (i = 0; i < 30000000; i++)
		x += (double)i;
	assert_int_equal(agent_proc_sample(&p), 1);
	assert_true(agent_proc_cpu(&p, sysconf(_SC_CLK_TCK)) >= 0);
	agent_proc_close(&p);
}

/* A child that exits, and another process given its pid, are "gone":
 * the kept descriptor never reads a stranger. */
static void
test_gone(void **state)
{
	struct agent_proc p;
	pid_t		  pid;
	int		  st;

	if ((pid = fork()) == 0) {
		pause();
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(agent_proc_open(&p, pid), 1);
	assert_int_equal(agent_proc_sample(&p), 1);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(agent_proc_sample(&p), 0);
	assert_int_equal(p.gone, 1);
	assert_int_equal(p.fd, -1);
	assert_int_equal(agent_proc_sample(&p), 0);
	assert_int_equal(agent_proc_open(&p, pid), 0);
	assert_int_equal(p.gone, 1);
}

/* A session leader with a child and a double-forked grandchild. */
static void
test_tree(void **state)
{
	struct agent_tree tr[2];
	int		  p[2], leaders[2];
	pid_t		  pid;
	char		  c;

	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		(void)setsid();
		if (fork() == 0) {
			if (fork() == 0) {
				(void)close(p[0]);
				if (write(p[1], "x", 1) != 1)
					_exit(1);
				pause();
				_exit(0);
			}
			pause();
			_exit(0);
		}
		pause();
		_exit(0);
	}
	assert_true(pid > 0);
	(void)close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	leaders[0] = pid;
	leaders[1] = 999999999; /* no such session */
	assert_true(agent_proc_tree(leaders, 2, tr) > 3);
	assert_int_equal(tr[0].procs, 3);
	assert_true(tr[0].rss > 0);
	assert_int_equal(tr[0].threads, 3);
	assert_true(tr[0].ticks >= 0);
	assert_int_equal(tr[1].procs, 0);
	(void)kill(-pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
	(void)close(p[0]);
}

/* A cgroup's tree: the processes its cgroup.procs lists (a fake one). */
static void
test_tree_cgroup(void **state)
{
	struct agent_tree tr;
	char		  dir[] = "/tmp/yard-procstat-XXXXXX", path[128];
	FILE		 *f;

	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	assert_non_null(f = fopen(path, "w"));
	/* Ourselves, a pid that does not exist, and us again. */
	fprintf(f, "%d\n999999999\n%d\n", (int)getpid(), (int)getpid());
	fclose(f);
	assert_int_equal(agent_proc_tree_cgroup(dir, &tr), 2);
	assert_int_equal(tr.procs, 2);
	assert_true(tr.rss > 0);
	assert_true(tr.threads >= 2);
	assert_int_equal(unlink(path), 0);
	/* No list: -1 and nothing counted. */
	assert_int_equal(agent_proc_tree_cgroup(dir, &tr), -1);
	assert_int_equal(tr.procs, 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_status_uid(void **state)
{
	const char *st = "Name:\tsleep\nUmask:\t0022\nState:\tS\n"
			 "Uid:\t1000\t0\t0\t0\nGid:\t100\t100\t100\t100\n";
	const char *bad[] = {
		"Name:\tx\nGid:\t0\t0\t0\t0\n",
		"Uid:\t\n",
		"Uid:\t12x\t0\n",
		"Uid:\t99999999999\t0\n",
		"Uid:",
		"",
	};
	size_t i;

	/* The real uid: the first of the four. */
	assert_int_equal(agent_proc_status_uid(st, strlen(st)), 1000);
	assert_int_equal(agent_proc_status_uid("Uid:\t0\t0\t0\t0",
			     strlen("Uid:\t0\t0\t0\t0")),
	    0);
	/* Only as far as len. */
	assert_int_equal(agent_proc_status_uid(st, 30), -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(agent_proc_status_uid(bad[i], strlen(bad[i])),
		    -1);
	assert_int_equal(agent_proc_uid((int)getpid()), (int64_t)getuid());
	assert_int_equal(agent_proc_uid(999999999), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_sample_self),
		cmocka_unit_test(test_gone),
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_tree_cgroup),
		cmocka_unit_test(test_status_uid),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
