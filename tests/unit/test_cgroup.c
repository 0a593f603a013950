/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for agent/cgroup.c: the /proc/self/mountinfo and
 * /proc/self/cgroup parsers, the cgroup directory of a process, the
 * recorded-path check; then, where the host has a writable cgroup v2 and
 * we are root, a real task cgroup (enter, populated, kill, remove).
 */

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"
#include "os_linux.h"

#define TEST_IID "0123456789abcdef"

/* The live test's install id: its own, as runs may overlap. */
static char iid[AGENT_INSTALL_ID_LEN + 1];

/* This kernel's hybrid layout: v1 hierarchies plus cgroup2 "unified". */
static const char hybrid[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

/* Debian 12: cgroup2 only, optional fields before the separator. */
static const char unified[] =
    "22 28 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc "
    "proc rw\n"
    "26 22 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 "
    "master:1 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";

static void
test_cgroup_mount_parse(void **state)
{
	char mnt[256], root[256];

	assert_int_equal(agent_cgroup_mount_parse(hybrid, mnt, sizeof(mnt),
			     root, sizeof(root)),
	    1);
	assert_string_equal(mnt, "/sys/fs/cgroup/unified");
	assert_string_equal(root, "/");
	assert_int_equal(agent_cgroup_mount_parse(unified, mnt, sizeof(mnt),
			     root, sizeof(root)),
	    1);
	assert_string_equal(mnt, "/sys/fs/cgroup");
	/* A bind-mounted subtree, a mount point with an escaped space. */
	assert_int_equal(
	    agent_cgroup_mount_parse("50 1 0:30 /system.slice /mnt/c\\040g rw "
				     "- cgroup2 none rw\n",
		mnt, sizeof(mnt), root, sizeof(root)),
	    1);
	assert_string_equal(mnt, "/mnt/c g");
	assert_string_equal(root, "/system.slice");
	/* v1 only; "cgroup2" as a source or an option is no cgroup2. */
	assert_int_equal(agent_cgroup_mount_parse("32 31 0:29 / /c rw - cgroup "
						  "cgroup2 rw,cgroup2\n",
			     mnt, sizeof(mnt), root, sizeof(root)),
	    0);
	assert_int_equal(agent_cgroup_mount_parse("", mnt, sizeof(mnt), root,
			     sizeof(root)),
	    0);
	/* Truncated lines, no separator. */
	assert_int_equal(agent_cgroup_mount_parse("41 31 0:38 / /u rw cgroup2",
			     mnt, sizeof(mnt), root, sizeof(root)),
	    0);
	assert_int_equal(agent_cgroup_mount_parse("41 31 - cgroup2 x rw\n", mnt,
			     sizeof(mnt), root, sizeof(root)),
	    0);
	/* A mount point that does not fit is skipped. */
	assert_int_equal(agent_cgroup_mount_parse(hybrid, mnt, 8, root,
			     sizeof(root)),
	    0);
}

static void
test_cgroup_self_parse(void **state)
{
	char p[256];

	assert_int_equal(agent_cgroup_self_parse("9:name=systemd:/\n"
						 "4:memory:/x/y\n0::/\n",
			     p, sizeof(p)),
	    1);
	assert_string_equal(p, "/");
	assert_int_equal(
	    agent_cgroup_self_parse("0::/system.slice/yard-agent.service\n", p,
		sizeof(p)),
	    1);
	assert_string_equal(p, "/system.slice/yard-agent.service");
	/* No final newline. */
	assert_int_equal(agent_cgroup_self_parse("0::/a/b", p, sizeof(p)), 1);
	assert_string_equal(p, "/a/b");
	/* v1 only; outside our namespace; not absolute; too long. */
	assert_int_equal(agent_cgroup_self_parse("1:cpu:/\n", p, sizeof(p)), 0);
	assert_int_equal(agent_cgroup_self_parse("0::/../..\n", p, sizeof(p)),
	    0);
	assert_int_equal(agent_cgroup_self_parse("0::\n", p, sizeof(p)), 0);
	assert_int_equal(agent_cgroup_self_parse("0::x\n", p, sizeof(p)), 0);
	assert_int_equal(agent_cgroup_self_parse("0::/abcdefgh\n", p, 5), 0);
	assert_int_equal(agent_cgroup_self_parse("10::/a\n", p, sizeof(p)), 0);
}

static void
test_cgroup_join(void **state)
{
	char out[256];

	assert_int_equal(agent_cgroup_join("/sys/fs/cgroup", "/",
			     "/system.slice/yard-agent.service", out,
			     sizeof(out)),
	    1);
	assert_string_equal(out,
	    "/sys/fs/cgroup/system.slice/yard-agent.service");
	assert_int_equal(agent_cgroup_join("/sys/fs/cgroup/unified", "/", "/",
			     out, sizeof(out)),
	    1);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	/* A mount of a subtree reaches only what is below it. */
	assert_int_equal(agent_cgroup_join("/mnt/cg", "/system.slice",
			     "/system.slice/a.service", out, sizeof(out)),
	    1);
	assert_string_equal(out, "/mnt/cg/a.service");
	assert_int_equal(agent_cgroup_join("/mnt/cg", "/system.slice/",
			     "/system.slice", out, sizeof(out)),
	    1);
	assert_string_equal(out, "/mnt/cg");
	assert_int_equal(agent_cgroup_join("/mnt/cg", "/system.slice",
			     "/user.slice/a", out, sizeof(out)),
	    0);
	assert_int_equal(agent_cgroup_join("/mnt/cg", "/system.slice",
			     "/system.slicex/a", out, sizeof(out)),
	    0);
	assert_int_equal(agent_cgroup_join("/sys/fs/cgroup", "/", "/a/b", out,
			     10),
	    0);
}

static void
test_cgroup_valid_name(void **state)
{
	/* Only ".../yard-<16 hex>/task-<id>", never a made-up path; /tmp
	 * is no cgroup2 file system either. */
	assert_int_equal(agent_cgroup_valid("/tmp/yard-" TEST_IID "/task-7", 7),
	    0);
	assert_int_equal(agent_cgroup_valid("relative/yard-" TEST_IID "/task-7",
			     7),
	    0);
	assert_int_equal(agent_cgroup_valid("/sys/fs/cgroup/yard-" TEST_IID
					    "/task-8",
			     7),
	    0);
	assert_int_equal(agent_cgroup_valid("/sys/fs/cgroup/yard-0123/task-7",
			     7),
	    0);
	assert_int_equal(agent_cgroup_valid("/sys/fs/cgroup/yard-" TEST_IID
					    "/../task-7",
			     7),
	    0);
	assert_int_equal(agent_cgroup_valid("/sys/fs/cgroup/yard-0123456789"
					    "ABCDEF/task-7",
			     7),
	    0);
}

static void
test_cgroup_disabled(void **state)
{
	(void)setenv(AGENT_NO_CGROUP_ENV, "1", 1);
	assert_int_equal(agent_cgroup_init(TEST_IID), 0);
	(void)unsetenv(AGENT_NO_CGROUP_ENV);
	assert_string_equal(agent_tracking_name(), "session");
	{
		char p[AGENT_CGROUP_MAX];

		assert_int_equal(agent_cgroup_task(1, p, sizeof(p)), 0);
		assert_string_equal(p, "");
	}
}

/* A child that enters path's cgroup through fd, then sleeps. */
static pid_t
child_in(int fd)
{
	pid_t pid;

	if ((pid = fork()) == 0) {
		if (write(fd, "0", 1) != 1)
			_exit(2);
		/* A grandchild that leaves the session stays in the cgroup. */
		if (fork() == 0) {
			(void)setsid();
			execl("/bin/sleep", "sleep", "100", (char *)NULL);
			_exit(3);
		}
		execl("/bin/sleep", "sleep", "100", (char *)NULL);
		_exit(3);
	}
	return (pid);
}

static int
wait_empty(const char *path, int ms)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int		i;

	for (i = 0; i < ms / 20; i++) {
		if (agent_cgroup_populated(path) == 0)
			return (1);
		nanosleep(&ts, NULL);
	}
	return (0);
}

static void
test_cgroup_live(void **state)
{
	struct agent_tree tree;
	struct stat	  st;
	char		  path[AGENT_CGROUP_MAX], buf[512];
	pid_t		  pid;
	FILE		 *f;
	int		  fd, i;

	if (geteuid() != 0 || !agent_cgroup_init(iid)) {
		skip();
		return;
	}
	assert_string_equal(agent_tracking_name(), "cgroup");
	assert_int_equal(agent_cgroup_task(7, path, sizeof(path)), 1);
	(void)snprintf(buf, sizeof(buf), "/yard-%s/task-7", iid);
	assert_non_null(strstr(path, buf));
	assert_int_equal(agent_cgroup_valid(path, 7), 1);
	assert_int_equal(agent_cgroup_valid(path, 8), 0);
	assert_int_equal(agent_cgroup_populated(path), 0);

	assert_true((fd = agent_cgroup_open_procs(path)) >= 0);
	pid = child_in(fd);
	assert_true(pid > 0);
	(void)close(fd);
	for (i = 0; i < 100 && agent_cgroup_signal(path, 0) < 2; i++)
		usleep(10 * 1000);
	assert_int_equal(agent_cgroup_populated(path), 1);
	assert_int_equal(agent_cgroup_signal(path, 0), 2);
	/* /proc/<pid>/cgroup names the task's cgroup. */
	(void)snprintf(buf, sizeof(buf), "/proc/%d/cgroup", (int)pid);
	assert_non_null(f = fopen(buf, "r"));
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
	fclose(f);
	assert_non_null(strstr(buf, "0::"));
	assert_non_null(strstr(buf, "/task-7\n"));
	assert_non_null(strstr(buf, iid));
	/* The tree is the cgroup's processes. */
	assert_int_equal(agent_proc_tree_cgroup(path, &tree), 2);
	assert_int_equal(tree.procs, 2);
	assert_true(tree.rss > 0);
	/* Populated: not removable. */
	assert_int_equal(agent_cgroup_remove(path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(agent_cgroup_kill(path), 1);
	assert_true(wait_empty(path, 3000));
	(void)waitpid(pid, NULL, 0);
	assert_int_equal(agent_cgroup_remove(path), 1);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(agent_cgroup_remove(path), 1); /* gone is fine */
	assert_int_equal(agent_cgroup_populated(path), 0);
	assert_int_equal(agent_proc_tree_cgroup(path, &tree), -1);

	/* Without cgroup.kill (kernels before 5.14): SIGKILL each pid. */
	assert_int_equal(agent_cgroup_task(8, path, sizeof(path)), 1);
	assert_true((fd = agent_cgroup_open_procs(path)) >= 0);
	pid = child_in(fd);
	(void)close(fd);
	for (i = 0; i < 100 && agent_cgroup_signal(path, 0) < 2; i++)
		usleep(10 * 1000);
	assert_int_equal(agent_cgroup_signal(path, SIGKILL), 2);
	assert_true(wait_empty(path, 3000));
	(void)waitpid(pid, NULL, 0);
	assert_int_equal(agent_cgroup_remove(path), 1);

	/* The installation's cgroup goes with the last task's. */
	(void)snprintf(buf, sizeof(buf), "%.*s",
	    (int)(strrchr(path, '/') - path), path);
	assert_int_equal(stat(buf, &st), 0);
	agent_cgroup_fini();
	assert_int_equal(stat(buf, &st), -1);
	assert_string_equal(agent_tracking_name(), "session");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_mount_parse),
		cmocka_unit_test(test_cgroup_self_parse),
		cmocka_unit_test(test_cgroup_join),
		cmocka_unit_test(test_cgroup_valid_name),
		cmocka_unit_test(test_cgroup_disabled),
		cmocka_unit_test(test_cgroup_live),
	};

	(void)snprintf(iid, sizeof(iid), "%08x%08x", (unsigned int)getpid(),
	    (unsigned int)time(NULL));
	log_init(1, 0);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
