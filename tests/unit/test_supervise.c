/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for agent/supervise.c with real processes: start, graceful
 * stop, SIGKILL after the grace period for a program that ignores
 * SIGTERM, a double-forked daemon that left the group, a crash, one
 * instance per task, and adoption after an agent restart (with the pid
 * reuse check).  Tracked by session and mark (only processes of the
 * task's user), then by a cgroup v2 per task where the host has one:
 * strangers carrying the task's exact mark survive its stop.
 */

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
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

static char dir[256];
static char iid[AGENT_INSTALL_ID_LEN + 1];

static void
task_new(struct agent_task *t, int64_t id, const char *script, int grace)
{
	struct agentproto_err err;
	json_t		     *in;

	in = json_pack("{s:s, s:s, s:{s:s, s:[s, s]}, s:i, s:{s:s}}", "kind",
	    "console", "deploy_dir", dir, "console", "command", "/bin/sh",
	    "args", "-c", script, "stop_grace", grace, "env", "TASK_GREETING",
	    "h\xc3\xa9llo <&>");
	assert_non_null(in);
	agent_task_init(t, id, "test");
	t->spec = agentproto_task_spec(in, &err);
	json_decref(in);
	assert_non_null(t->spec);
}

/* Tick and reap until the task reaches state, within ms. */
static int
drive(struct agent_task *t, enum agent_task_state state, int ms)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int		i;

	for (i = 0; i < ms / 20; i++) {
		agent_tasks_reap(&t, 1);
		(void)agent_task_tick(t);
		if (t->state == state)
			return (1);
		nanosleep(&ts, NULL);
	}
	return (0);
}

static int
marked(struct agent_task *t)
{
	return (agent_task_signal_marked(t, 0));
}

/* A process that is not the task's, carrying mark, as uid (-1: ours). */
static pid_t
stranger(const char *mark, int uid)
{
	pid_t pid;

	if ((pid = fork()) == 0) {
		(void)setenv("YARD_TASK_MARK", mark, 1);
		if (uid >= 0 && setuid((uid_t)uid) == -1)
			_exit(2);
		execl("/bin/sleep", "sleep", "100", (char *)NULL);
		_exit(3);
	}
	assert_true(pid > 0);
	usleep(50 * 1000);
	return (pid);
}

static int
alive(pid_t pid)
{
	int st;

	return (waitpid(pid, &st, WNOHANG) == 0 && kill(pid, 0) == 0);
}

static void
stranger_end(pid_t pid)
{
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
}

/* A child of the task's main process that made a session of its own. */
static pid_t
find_child(const struct agent_task *t, pid_t skip)
{
	struct dirent *de;
	DIR	      *d;
	char	       path[300], buf[512], *p;
	FILE	      *f;
	int	       pid, ppid, found = -1;

	assert_non_null(d = opendir("/proc"));
	while (found == -1 && (de = readdir(d)) != NULL) {
		if ((pid = atoi(de->d_name)) <= 0 || pid == skip)
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
		fclose(f);
		/* "pid (comm) S ppid ...": after the last ')'. */
		if ((p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1, " %*c %d", &ppid) != 1)
			continue;
		if (ppid == (int)t->pid && getsid(pid) == pid)
			found = pid;
	}
	(void)closedir(d);
	return (found);
}

static void
test_start_stop(void **state)
{
	struct agent_task t;
	char		  err[256], path[512], buf[256];
	FILE		 *f;
	size_t		  n;

	task_new(&t, 1, "echo \"$TASK_GREETING\"; exec sleep 100", 5);
	assert_true(agent_task_start(&t, dir, err, sizeof(err)));
	assert_int_equal(t.state, AGENT_TASK_RUNNING);
	assert_true(t.pid > 0);
	assert_true(t.starttime > 0);
	assert_int_equal(getpgid(t.pid), t.pid); /* a group of its own */
	/* One instance per task. */
	assert_false(agent_task_start(&t, dir, err, sizeof(err)));
	assert_non_null(strstr(err, "already running"));
	usleep(200 * 1000);
	agent_task_stop(&t);
	assert_true(drive(&t, AGENT_TASK_STOPPED, 3000));
	assert_int_equal(t.stop_how, AGENT_STOP_TERM);
	assert_int_equal(marked(&t), 0);
	/* Its output went to the log, byte for byte. */
	snprintf(path, sizeof(path), "%s/1.log", dir);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_string_equal(buf, "h\xc3\xa9llo <&>\n");
	agent_task_cleanup(&t);
}

static void
test_ignores_sigterm(void **state)
{
	struct agent_task t;
	char		  err[256];
	uint64_t	  t0;

	task_new(&t, 2, "trap '' TERM; while :; do sleep 0.05; done", 1);
	assert_true(agent_task_start(&t, dir, err, sizeof(err)));
	usleep(200 * 1000);
	t0 = agent_mono_ms();
	agent_task_stop(&t);
	assert_true(drive(&t, AGENT_TASK_STOPPED, 5000));
	assert_int_equal(t.stop_how, AGENT_STOP_KILL);
	assert_true(agent_mono_ms() - t0 >= 1000);
	assert_int_equal(marked(&t), 0);
	agent_task_cleanup(&t);
}

static void
test_double_fork(void **state)
{
	struct agent_task t, *tp;
	char		  err[256];

	/* A daemon: forks, leaves the group and session, outlives its
	 * parent's group. */
	task_new(&t, 3, "setsid sh -c 'trap \"\" TERM; sleep 100' & sleep 100",
	    1);
	assert_true(agent_task_start(&t, dir, err, sizeof(err)));
	usleep(300 * 1000);
	/* sh and sleep in the group; the daemon's sh and sleep outside. */
	assert_true(marked(&t) >= 3);
	agent_task_stop(&t);
	assert_true(drive(&t, AGENT_TASK_STOPPED, 5000));
	usleep(100 * 1000);
	tp = &t;
	agent_tasks_reap(&tp, 1); /* we are their subreaper: no zombies */
	assert_int_equal(marked(&t), 0);
	agent_task_cleanup(&t);
}

static void
test_crash(void **state)
{
	struct agent_task t;
	char		  err[256];

	task_new(&t, 4, "sleep 0.1; exit 3", 5);
	assert_true(agent_task_start(&t, dir, err, sizeof(err)));
	assert_true(drive(&t, AGENT_TASK_EXITED, 3000));
	assert_int_equal(t.exit_status, 3);
	assert_int_equal(t.pid, 0);
	agent_task_cleanup(&t);
}

/*
 * A metrics sample that sees the main process as a zombie before the
 * reaper runs must not lose its exit status (it read -1, "unknown").
 */
static void
test_zombie_status(void **state)
{
	struct agent_task t;
	char		  err[256];

	task_new(&t, 14, "exit 5", 5);
	assert_true(agent_task_start(&t, dir, err, sizeof(err)));
	usleep(300 * 1000);
	(void)agent_proc_sample(&t.proc);
	assert_int_equal(t.proc.state, 'Z');
	assert_int_equal(agent_task_tick(&t), 1);
	assert_int_equal(t.state, AGENT_TASK_EXITED);
	assert_int_equal(t.exit_status, 5);
	agent_task_cleanup(&t);
}

static void
test_cannot_run(void **state)
{
	struct agent_task     t;
	struct agentproto_err perr;
	json_t		     *in;
	char		      err[256];

	/* A program that cannot be run is a failed start, saying why. */
	in = json_pack("{s:s, s:s, s:{s:s}}", "kind", "console", "deploy_dir",
	    dir, "console", "command", "/nonexistent/program");
	agent_task_init(&t, 5, "test");
	assert_non_null(t.spec = agentproto_task_spec(in, &perr));
	json_decref(in);
	assert_false(agent_task_start(&t, dir, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot run /nonexistent/program"));
	assert_int_equal(t.state, AGENT_TASK_STOPPED);
	assert_int_equal(t.pid, 0);
	agent_task_cleanup(&t);
}

static void
test_adopt(void **state)
{
	struct agent_task t, again, wrong, *tp;
	char		  err[256];

	task_new(&t, 6, "exec sleep 100", 1);
	assert_true(agent_task_start(&t, dir, err, sizeof(err)));
	usleep(100 * 1000);
	/* The agent restarts: a new struct learns pid + start time. */
	task_new(&again, 6, "exec sleep 100", 1);
	assert_true(agent_task_adopt(&again, t.pid, t.starttime));
	assert_int_equal(again.state, AGENT_TASK_RUNNING);
	/* Same pid, another start time: a recycled pid is not the task. */
	task_new(&wrong, 6, "exec sleep 100", 1);
	assert_false(agent_task_adopt(&wrong, t.pid, t.starttime + 1));
	assert_int_equal(wrong.state, AGENT_TASK_STOPPED);
	agent_task_stop(&again);
	/* Our struct t still owns the child for waitpid: reap through it. */
	assert_true(drive(&again, AGENT_TASK_STOPPED, 3000));
	tp = &t;
	agent_tasks_reap(&tp, 1);
	agent_task_cleanup(&t);
	agent_task_cleanup(&again);
	agent_task_cleanup(&wrong);
}

/* A running task keeps writing through the rotation; old parts are capped. */
static void
test_log_rotate(void **state)
{
	struct agent_task t;
	struct stat	  st;
	char		  err[256], path[512];
	int		  i, rotated = 0;

	task_new(&t, 7,
	    "i=0; while [ $i -lt 400 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxx;"
	    " i=$((i+1)); done; exec sleep 100",
	    1);
	assert_true(agent_task_start(&t, dir, err, sizeof(err)));
	for (i = 0; i < 100 && rotated < 3; i++) {
		usleep(20 * 1000);
		if (agent_task_log_rotate(dir, 7, 2048, 2) == 1)
			rotated++;
	}
	assert_true(rotated >= 1);
	snprintf(path, sizeof(path), "%s/7.log.3", dir);
	assert_int_equal(stat(path, &st), -1); /* at most 2 old parts */
	usleep(300 * 1000);
	snprintf(path, sizeof(path), "%s/7.log", dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/7.log.1", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 0);
	agent_task_stop(&t);
	assert_true(drive(&t, AGENT_TASK_STOPPED, 3000));
	agent_task_cleanup(&t);
	/* Not needed: below the limit. */
	assert_int_equal(agent_task_log_rotate(dir, 7, 1 << 30, 2), 0);
	assert_int_equal(agent_task_log_rotate(dir, 99, 1, 2), 0);
}

/* Session and mark: a process of another user with the mark survives. */
static void
test_marked_uid(void **state)
{
	struct agent_task t;
	char		  err[256];
	pid_t		  other;

	task_new(&t, 8, "exec sleep 100", 1);
	assert_true(agent_task_start(&t, dir, err, sizeof(err)));
	assert_string_equal(t.cgroup, "");
	assert_int_equal(t.uid, (int64_t)getuid());
	other = stranger(t.mark, 65534);
	assert_true(alive(other));
	assert_int_equal(marked(&t), 1); /* the task, not the stranger */
	agent_task_stop(&t);
	assert_true(drive(&t, AGENT_TASK_STOPPED, 3000));
	assert_true(alive(other));
	stranger_end(other);
	/* Unknown user: nothing is signalled. */
	t.uid = -1;
	other = stranger(t.mark, -1);
	assert_int_equal(marked(&t), 0);
	stranger_end(other);
	agent_task_cleanup(&t);
}

/* Cgroup tracking for the tests below, else they are skipped. */
static int
cgroup_on(void)
{
	if (geteuid() != 0 || !agent_cgroup_init(iid))
		return (0);
	return (1);
}

/* A line of /proc/<pid>/cgroup: the v2 path ends with want. */
static int
in_cgroup(pid_t pid, const char *want)
{
	char  path[64], buf[1024], *p;
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
	fclose(f);
	if ((p = strstr(buf, "0::")) == NULL)
		return (0);
	return (strstr(p, want) != NULL);
}

static void
test_cgroup_double_fork(void **state)
{
	struct agent_task t, *tp;
	struct stat	  st;
	char		  err[256], want[64], cg[AGENT_CGROUP_MAX];
	pid_t		  same, daemon;

	if (!cgroup_on()) {
		skip();
		return;
	}
	task_new(&t, 9,
	    "setsid sh -c 'trap \"\" TERM; exec sleep 100' & exec sleep 100",
	    1);
	assert_true(agent_task_start(&t, dir, err, sizeof(err)));
	(void)snprintf(want, sizeof(want), "/yard-%s/task-9\n", iid);
	assert_non_null(strstr(t.cgroup, "/task-9"));
	(void)snprintf(cg, sizeof(cg), "%s", t.cgroup);
	usleep(300 * 1000);
	assert_true(in_cgroup(t.pid, want));
	assert_true((daemon = find_child(&t, t.pid)) > 0);
	assert_true(in_cgroup(daemon, want));
	/* Ours, with the task's exact mark: the cgroup says it is not. */
	same = stranger(t.mark, -1);
	assert_false(in_cgroup(same, want));
	agent_task_stop(&t);
	assert_true(drive(&t, AGENT_TASK_STOPPED, 5000));
	assert_int_equal(t.stop_how, AGENT_STOP_TERM_STRAYS);
	tp = &t;
	agent_tasks_reap(&tp, 1);
	assert_int_equal(kill(daemon, 0), -1);
	assert_true(alive(same));
	/* The empty cgroup was removed. */
	assert_string_equal(t.cgroup, "");
	assert_int_equal(stat(cg, &st), -1);
	stranger_end(same);
	agent_task_cleanup(&t);
	agent_cgroup_fini();
}

/* The main process ends by itself: the rest of its cgroup goes too. */
static void
test_cgroup_exit(void **state)
{
	struct agent_task t, *tp;
	struct stat	  st;
	char		  err[256], cg[AGENT_CGROUP_MAX];
	pid_t		  daemon;
	int		  i;

	if (!cgroup_on()) {
		skip();
		return;
	}
	task_new(&t, 10, "setsid sleep 100 & sleep 0.5; exit 4", 1);
	assert_true(agent_task_start(&t, dir, err, sizeof(err)));
	(void)snprintf(cg, sizeof(cg), "%s", t.cgroup);
	usleep(200 * 1000);
	assert_true((daemon = find_child(&t, t.pid)) > 0);
	assert_true(drive(&t, AGENT_TASK_EXITED, 3000));
	assert_int_equal(t.exit_status, 4);
	tp = &t;
	for (i = 0; i < 100 && t.cgroup[0] != '\0'; i++) {
		usleep(20 * 1000);
		agent_tasks_reap(&tp, 1);
		(void)agent_task_tick(&t);
	}
	agent_tasks_reap(&tp, 1); /* an empty cgroup may leave zombies */
	assert_int_equal(kill(daemon, 0), -1);
	assert_string_equal(t.cgroup, "");
	assert_int_equal(stat(cg, &st), -1);
	agent_task_cleanup(&t);
	agent_cgroup_fini();
}

/* Adopted after a restart (the cgroup from tasks.json), still whole. */
static void
test_cgroup_adopt(void **state)
{
	struct agent_task t, again, gone, *tp;
	struct stat	  st;
	char		  err[256], cg[AGENT_CGROUP_MAX];
	pid_t		  daemon;
	int		  i;

	if (!cgroup_on()) {
		skip();
		return;
	}
	task_new(&t, 11, "setsid sleep 100 & exec sleep 100", 1);
	assert_true(agent_task_start(&t, dir, err, sizeof(err)));
	usleep(200 * 1000);
	assert_true((daemon = find_child(&t, t.pid)) > 0);
	task_new(&again, 11, "setsid sleep 100 & exec sleep 100", 1);
	(void)snprintf(again.cgroup, sizeof(again.cgroup), "%s", t.cgroup);
	assert_true(agent_cgroup_valid(again.cgroup, 11));
	assert_true(agent_task_adopt(&again, t.pid, t.starttime));
	assert_int_equal(again.uid, (int64_t)getuid());
	agent_task_stop(&again);
	assert_true(drive(&again, AGENT_TASK_STOPPED, 3000));
	assert_int_equal(again.stop_how, AGENT_STOP_TERM_STRAYS);
	tp = &t;
	agent_tasks_reap(&tp, 1);
	assert_int_equal(kill(daemon, 0), -1);
	agent_task_cleanup(&t);
	agent_task_cleanup(&again);

	/* Its main process ended while the agent was away: the rest of
	 * its cgroup is killed when the adoption fails. */
	task_new(&t, 12, "setsid sleep 100 & exec sleep 100", 1);
	assert_true(agent_task_start(&t, dir, err, sizeof(err)));
	usleep(200 * 1000);
	assert_true((daemon = find_child(&t, t.pid)) > 0);
	(void)kill(t.pid, SIGKILL);
	(void)waitpid(t.pid, NULL, 0);
	task_new(&gone, 12, "exec sleep 100", 1);
	(void)snprintf(gone.cgroup, sizeof(gone.cgroup), "%s", t.cgroup);
	(void)snprintf(cg, sizeof(cg), "%s", t.cgroup);
	assert_false(agent_task_adopt(&gone, t.pid, t.starttime));
	/* Its cgroup goes once empty, on a later tick. */
	for (i = 0; i < 100 && gone.cgroup[0] != '\0'; i++) {
		usleep(20 * 1000);
		agent_tasks_reap(&tp, 1);
		(void)agent_task_tick(&gone);
	}
	agent_tasks_reap(&tp, 1); /* an empty cgroup may leave zombies */
	assert_int_equal(kill(daemon, 0), -1);
	assert_string_equal(gone.cgroup, "");
	assert_int_equal(stat(cg, &st), -1);
	agent_task_cleanup(&t);
	agent_task_cleanup(&gone);
	agent_cgroup_fini();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_stop),
		cmocka_unit_test(test_ignores_sigterm),
		cmocka_unit_test(test_double_fork),
		cmocka_unit_test(test_crash),
		cmocka_unit_test(test_zombie_status),
		cmocka_unit_test(test_cannot_run),
		cmocka_unit_test(test_adopt),
		cmocka_unit_test(test_log_rotate),
		cmocka_unit_test(test_marked_uid),
		cmocka_unit_test(test_cgroup_double_fork),
		cmocka_unit_test(test_cgroup_exit),
		cmocka_unit_test(test_cgroup_adopt),
	};
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/yard-supervise-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return (1);
	(void)snprintf(iid, sizeof(iid), "%08x%08x", (unsigned int)getpid(),
	    (unsigned int)time(NULL));
	log_init(1, 0);
	agent_supervise_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	/* Best effort: logs and the deploy dir. */
	(void)!system("rm -rf /tmp/yard-supervise-??????");
	return (rc);
}
