/*
 * The task lifecycle (agent/tasks.c): each transition of the table at
 * the top of tasks.c, driven through the command table and
 * agent_tasks_tick() with real processes (console tasks of /bin/sh), no
 * policy, tracked by session and mark.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"

static char		   dir[] = "/tmp/yard-test-life.XXXXXX";
static struct agent_tasks *ts;
static char		   last[4096]; /* the last command result */
static int		   nresults;

static void
done(void *arg, const char *id, int64_t seq, char *body)
{
	(void)snprintf(last, sizeof(last), "%s", body != NULL ? body : "");
	nresults++;
	free(body);
}

/* A console task running sh -c script, with a restart section. */
static json_t *
payload(int64_t id, const char *script, const char *restart)
{
	char	buf[2048];
	json_t *p;

	(void)snprintf(buf, sizeof(buf),
	    "{\"task\":{\"id\":%lld,\"spec\":{\"kind\":\"console\","
	    "\"deploy_dir\":\"%s/d%lld\",\"stop_grace\":2,"
	    "\"console\":{\"command\":\"/bin/sh\",\"args\":[\"-c\",\"%s\"]}"
	    "%s%s}}}",
	    (long long)id, dir, (long long)id, script,
	    restart != NULL ? ",\"restart\":" : "",
	    restart != NULL ? restart : "");
	assert_non_null(p = json_loads(buf, 0, NULL));
	return (p);
}

/*
 * Send a command through the command table: 1 when it is done (the
 * result in last), 0 when its result comes later.
 */
static int
command(enum agentproto_cmd_type kind, json_t *p)
{
	static int		  seq;
	struct agentproto_command c;
	char			 *body = NULL;
	int			  rc;

	memset(&c, 0, sizeof(c));
	seq++;
	(void)snprintf(c.id, sizeof(c.id), "00000000-0000-4000-8000-%012d",
	    seq);
	c.seq = seq;
	c.kind = kind;
	c.payload = p;
	rc = agent_command_run(ts, &c, agent_now_ms(), &body) == AGENT_CMD_DONE;
	if (body != NULL) {
		(void)snprintf(last, sizeof(last), "%s", body);
		nresults++;
	}
	free(body);
	json_decref(p);
	return (rc);
}

/* Tick until task id is in state want (or ms pass): 1 when it is. */
static int
tick_until(int64_t id, int want, int ms)
{
	int waited = 0;

	while (agent_tasks_life(ts, id) != want && waited < ms) {
		(void)agent_tasks_tick(ts);
		usleep(20000);
		waited += 20;
	}
	return (agent_tasks_life(ts, id) == want);
}

static int
setup(void **state)
{
	assert_non_null(ts = calloc(1, sizeof(*ts)));
	agent_tasks_init(ts, dir, 1);
	ts->done = done;
	last[0] = '\0';
	nresults = 0;
	return (0);
}

static int
teardown(void **state)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		if (ts->v[i].t.state == AGENT_TASK_RUNNING)
			agent_task_stop(&ts->v[i].t);
	}
	for (i = 0; i < 200 && ts->n > 0; i++) {
		size_t j, busy = 0;

		(void)agent_tasks_tick(ts);
		for (j = 0; j < ts->n; j++)
			busy += ts->v[j].t.state == AGENT_TASK_STOPPING;
		if (busy == 0)
			break;
		usleep(20000);
	}
	agent_tasks_free(ts);
	free(ts);
	return (0);
}

/* DOWN -> UP (a console start answers at once) -> STOPPING -> DOWN. */
static void
test_life_start_stop(void **state)
{
	assert_int_equal(agent_tasks_life(ts, 1), -1);
	assert_int_equal(command(AGENTPROTO_CMD_START,
			     payload(1, "sleep 30", NULL)),
	    1);
	assert_non_null(strstr(last, "started, pid"));
	assert_non_null(strstr(last, "\"code\":\"started\""));
	assert_non_null(strstr(last, "\"params\":{\"pid\":"));
	assert_int_equal(agent_tasks_life(ts, 1), AGENT_LIFE_UP);
	/* UP, start again: already running, still UP. */
	assert_int_equal(command(AGENTPROTO_CMD_START,
			     payload(1, "sleep 30", NULL)),
	    1);
	assert_non_null(strstr(last, "already running"));
	assert_int_equal(agent_tasks_life(ts, 1), AGENT_LIFE_UP);
	/* UP -> STOPPING: answered when the processes are gone. */
	nresults = 0;
	assert_int_equal(command(AGENTPROTO_CMD_STOP,
			     payload(1, "sleep 30", NULL)),
	    0);
	assert_int_equal(agent_tasks_life(ts, 1), AGENT_LIFE_STOPPING);
	/* Another command meanwhile is refused. */
	assert_int_equal(command(AGENTPROTO_CMD_START,
			     payload(1, "sleep 30", NULL)),
	    1);
	assert_non_null(strstr(last, "in progress"));
	assert_true(tick_until(1, AGENT_LIFE_DOWN, 5000));
	assert_non_null(strstr(last, "stopped by SIGTERM"));
	assert_non_null(strstr(last, "\"code\":\"stopped_signal\""));
	assert_non_null(strstr(last, "\"signal\":\"SIGTERM\""));
	assert_non_null(strstr(last, "\"stop_ms\":"));
	assert_int_equal(nresults, 2);
	/* DOWN, stop: "not running", still DOWN. */
	assert_int_equal(command(AGENTPROTO_CMD_STOP,
			     payload(1, "sleep 30", NULL)),
	    1);
	assert_non_null(strstr(last, "not running"));
	assert_int_equal(agent_tasks_life(ts, 1), AGENT_LIFE_DOWN);
}

/* UP -> STOPPING (restart) -> UP, answered once started again. */
static void
test_life_restart(void **state)
{
	pid_t first;

	assert_int_equal(command(AGENTPROTO_CMD_START,
			     payload(2, "sleep 30", NULL)),
	    1);
	first = agent_tasks_find(ts, 2)->pid;
	nresults = 0;
	assert_int_equal(command(AGENTPROTO_CMD_RESTART,
			     payload(2, "sleep 30", NULL)),
	    0);
	assert_int_equal(agent_tasks_life(ts, 2), AGENT_LIFE_STOPPING);
	assert_true(tick_until(2, AGENT_LIFE_UP, 5000));
	assert_int_equal(nresults, 1);
	assert_non_null(strstr(last, "stopped by SIGTERM"));
	assert_non_null(strstr(last, "started, pid"));
	assert_int_not_equal(agent_tasks_find(ts, 2)->pid, first);
}

/*
 * UP -> ended: DOWN without a restart (never), BACKOFF with one, then
 * BACKOFF -> UP at restart_at, and CRASH_LOOP once it keeps dying; a
 * stop leaves a crash loop one, a start ends it.
 */
static void
test_life_exit_backoff_crash_loop(void **state)
{
	const char *loop = "{\"policy\":\"always\",\"backoff_initial\":1,"
			   "\"backoff_max\":1,\"crash_loop\":1}";

	/* never: UP -> DOWN. */
	assert_int_equal(command(AGENTPROTO_CMD_START,
			     payload(3, "exit 3", "{\"policy\":\"never\"}")),
	    1);
	assert_true(tick_until(3, AGENT_LIFE_DOWN, 5000));
	assert_int_equal(agent_tasks_find(ts, 3)->exit_status, 3);

	/* always, crash_loop 1: UP -> BACKOFF -> UP -> CRASH_LOOP. */
	assert_int_equal(command(AGENTPROTO_CMD_START,
			     payload(4, "sleep 0.2; exit 3", loop)),
	    1);
	assert_int_equal(agent_tasks_life(ts, 4), AGENT_LIFE_UP);
	assert_true(tick_until(4, AGENT_LIFE_BACKOFF, 5000));
	assert_true(ts->v[1].restart_at != 0);
	assert_true(tick_until(4, AGENT_LIFE_UP, 3000));
	assert_int_equal(ts->v[1].restarts, 1);
	assert_true(tick_until(4, AGENT_LIFE_CRASH_LOOP, 5000));
	assert_int_equal(ts->v[1].restart_at, 0);
	/* It stays there: no restart comes. */
	usleep(1500000);
	(void)agent_tasks_tick(ts);
	assert_int_equal(agent_tasks_life(ts, 4), AGENT_LIFE_CRASH_LOOP);
	assert_int_equal(ts->v[1].restarts, 1);
	/* CRASH_LOOP, stop: not running, still a crash loop. */
	assert_int_equal(command(AGENTPROTO_CMD_STOP,
			     payload(4, "sleep 0.2; exit 3", loop)),
	    1);
	assert_non_null(strstr(last, "not running"));
	assert_int_equal(agent_tasks_life(ts, 4), AGENT_LIFE_CRASH_LOOP);
	/* CRASH_LOOP, start: UP. */
	assert_int_equal(command(AGENTPROTO_CMD_START,
			     payload(4, "sleep 30", loop)),
	    1);
	assert_int_equal(agent_tasks_life(ts, 4), AGENT_LIFE_UP);
}

/* BACKOFF, stop: DOWN, and no restart comes. */
static void
test_life_backoff_stop(void **state)
{
	const char *slow = "{\"policy\":\"always\",\"backoff_initial\":1,"
			   "\"backoff_max\":1}";

	assert_int_equal(command(AGENTPROTO_CMD_START,
			     payload(5, "exit 0", slow)),
	    1);
	assert_true(tick_until(5, AGENT_LIFE_BACKOFF, 5000));
	assert_int_equal(command(AGENTPROTO_CMD_STOP,
			     payload(5, "exit 0", slow)),
	    1);
	assert_non_null(strstr(last, "not running"));
	assert_int_equal(agent_tasks_life(ts, 5), AGENT_LIFE_DOWN);
	usleep(1500000);
	(void)agent_tasks_tick(ts);
	assert_int_equal(agent_tasks_life(ts, 5), AGENT_LIFE_DOWN);
	assert_int_equal(ts->v[0].restarts, 0);
}

/* DOWN -> a failed start stays DOWN; uninstall forgets the task. */
static void
test_life_failed_start_uninstall(void **state)
{
	json_t *p = payload(6, "true", NULL);

	/* A command that is not there: the start fails. */
	json_object_set_new(json_object_get(json_object_get(json_object_get(p,
								"task"),
						"spec"),
				"console"),
	    "command", json_string("/nonexistent/yard-test"));
	assert_int_equal(command(AGENTPROTO_CMD_START, p), 1);
	assert_non_null(strstr(last, "start failed"));
	assert_int_equal(agent_tasks_life(ts, 6), AGENT_LIFE_DOWN);
	assert_int_equal(command(AGENTPROTO_CMD_UNINSTALL,
			     payload(6, "true", NULL)),
	    1);
	assert_non_null(strstr(last, "uninstalled"));
	assert_int_equal(agent_tasks_life(ts, 6), -1);

	/* UP -> STOPPING (uninstall) -> forgotten. */
	assert_int_equal(command(AGENTPROTO_CMD_START,
			     payload(7, "sleep 30", NULL)),
	    1);
	nresults = 0;
	assert_int_equal(command(AGENTPROTO_CMD_UNINSTALL,
			     payload(7, "sleep 30", NULL)),
	    0);
	assert_int_equal(agent_tasks_life(ts, 7), AGENT_LIFE_STOPPING);
	assert_true(tick_until(7, -1, 5000));
	assert_int_equal(nresults, 1);
	assert_non_null(strstr(last, "uninstalled"));
}

/*
 * DOWN -> STARTING (a health check to pass first) -> UP once its
 * start_timeout passed (the start failed: not healthy; it keeps
 * running); STARTING -> ended -> DOWN, the start failed.
 */
static void
test_life_starting(void **state)
{
	json_t *p, *spec;

	p = payload(8, "sleep 30", "{\"policy\":\"never\"}");
	spec = json_object_get(json_object_get(p, "task"), "spec");
	json_object_set_new(spec, "health",
	    json_pack("{s:s, s:i, s:i}", "path", "/", "port", 1,
		"start_timeout", 1));
	nresults = 0;
	assert_int_equal(command(AGENTPROTO_CMD_START, p), 0);
	assert_int_equal(agent_tasks_life(ts, 8), AGENT_LIFE_STARTING);
	assert_true(tick_until(8, AGENT_LIFE_UP, 3000));
	assert_int_equal(nresults, 1);
	assert_non_null(strstr(last, "not healthy within 1 s"));
	assert_int_equal(agent_tasks_find(ts, 8)->state, AGENT_TASK_RUNNING);

	p = payload(9, "sleep 0.2; exit 4", "{\"policy\":\"never\"}");
	spec = json_object_get(json_object_get(p, "task"), "spec");
	json_object_set_new(spec, "health",
	    json_pack("{s:s, s:i, s:i}", "path", "/", "port", 1,
		"start_timeout", 30));
	nresults = 0;
	assert_int_equal(command(AGENTPROTO_CMD_START, p), 0);
	assert_int_equal(agent_tasks_life(ts, 9), AGENT_LIFE_STARTING);
	assert_true(tick_until(9, AGENT_LIFE_DOWN, 3000));
	assert_int_equal(nresults, 1);
	assert_non_null(
	    strstr(last, "ended (exit status 4) before its health"));
}

/* The heartbeat status of task id (borrowed from a, which the caller
 * frees), or NULL. */
static json_t *
status_of(json_t *a, int64_t id)
{
	json_t *o;
	size_t	i;

	json_array_foreach(a, i, o)
	{
		if (json_integer_value(json_object_get(o, "id")) == id)
			return (o);
	}
	return (NULL);
}

/*
 * health_fails (what the health_failing alert compares): the failing
 * checks in a row, in the heartbeat's task status; a passing check
 * resets it, and a task that is not running reports 0.
 */
static void
test_life_health_fails(void **state)
{
	struct agent_slot *sl;
	json_t		  *p, *spec, *a, *o;
	int		   i;

	p = payload(10, "sleep 30", "{\"policy\":\"never\"}");
	spec = json_object_get(json_object_get(p, "task"), "spec");
	json_object_set_new(spec, "health",
	    json_pack("{s:s, s:i, s:i, s:i, s:i}", "path", "/", "port", 1,
		"start_timeout", 1, "expect_status", 200, "interval", 3600));
	assert_int_equal(command(AGENTPROTO_CMD_START, p), 0);
	assert_true(tick_until(10, AGENT_LIFE_UP, 3000));
	assert_non_null(sl = agent_tasks_slot(ts, 10, NULL));
	if (!sl->hx_ready) {
		assert_true(agent_xfer_init(&sl->hx));
		sl->hx_ready = 1;
	}
	sl->hx.result = CURLE_OK;
	for (i = 0; i < 3; i++) {
		sl->hx.status = 500;
		assert_int_equal(agent_tasks_health_done(ts, &sl->hx), 1);
	}
	assert_non_null(a = agent_tasks_status(ts, 100));
	assert_non_null(o = status_of(a, 10));
	assert_int_equal(json_integer_value(json_object_get(o, "health_fails")),
	    3);
	assert_string_equal(json_string_value(json_object_get(o, "health")),
	    "failing");
	json_decref(a);

	sl->hx.status = 200;
	assert_int_equal(agent_tasks_health_done(ts, &sl->hx), 1);
	sl->hx.status = 503;
	assert_int_equal(agent_tasks_health_done(ts, &sl->hx), 1);
	assert_non_null(a = agent_tasks_status(ts, 100));
	assert_non_null(o = status_of(a, 10));
	assert_int_equal(json_integer_value(json_object_get(o, "health_fails")),
	    1);
	json_decref(a);

	/* Stopped: nothing is failing. */
	nresults = 0;
	assert_int_equal(command(AGENTPROTO_CMD_STOP,
			     payload(10, "sleep 30", NULL)),
	    0);
	assert_true(tick_until(10, AGENT_LIFE_DOWN, 5000));
	assert_non_null(a = agent_tasks_status(ts, 100));
	assert_non_null(o = status_of(a, 10));
	assert_int_equal(json_integer_value(json_object_get(o, "health_fails")),
	    0);
	json_decref(a);
}

/*
 * A restarted agent (agent_tasks_load()): a task it left running is
 * adopted UP; one that should run but ended meanwhile is BACKOFF, due at
 * once, and restarted UP by the next tick, when its restart policy
 * restarts after a failure (how it ended, nobody saw); with policy never
 * it stays DOWN, as does one that ended by itself with policy never
 * while the old agent watched, and one that was stopped.
 */
static void
test_life_load(void **state)
{
	struct agent_tasks *old = ts;
	pid_t		    pid;

	assert_int_equal(command(AGENTPROTO_CMD_START,
			     payload(10, "sleep 30", NULL)),
	    1);
	assert_int_equal(command(AGENTPROTO_CMD_START,
			     payload(11, "sleep 30",
				 "{\"policy\":\"always\"}")),
	    1);
	/* Task 13 ends by itself, policy never, while the agent watches. */
	assert_int_equal(command(AGENTPROTO_CMD_START,
			     payload(13, "exit 0", "{\"policy\":\"never\"}")),
	    1);
	assert_true(tick_until(13, AGENT_LIFE_DOWN, 5000));
	/* Task 14, policy never, ends while no agent watches. */
	assert_int_equal(command(AGENTPROTO_CMD_START,
			     payload(14, "sleep 30", "{\"policy\":\"never\"}")),
	    1);
	/* Task 12 was stopped: it should not run. */
	assert_int_equal(command(AGENTPROTO_CMD_START,
			     payload(12, "sleep 30", NULL)),
	    1);
	assert_int_equal(command(AGENTPROTO_CMD_STOP,
			     payload(12, "sleep 30", NULL)),
	    0);
	assert_true(tick_until(12, AGENT_LIFE_DOWN, 5000));
	pid = agent_tasks_find(ts, 10)->pid;
	/* Task 11 ends while "no agent" watches: it should run. */
	agent_task_stop(&ts->v[1].t);
	while (ts->v[1].t.state == AGENT_TASK_STOPPING) {
		agent_tasks_reap(ts->ptrs, ts->n);
		(void)agent_task_tick(&ts->v[1].t);
		usleep(20000);
	}
	ts->v[1].wanted = 1;
	{
		struct agent_slot *sl14 = NULL;
		size_t		   k;

		for (k = 0; k < ts->n; k++)
			if (ts->v[k].t.id == 14)
				sl14 = &ts->v[k];
		assert_non_null(sl14);
		agent_task_stop(&sl14->t);
		while (sl14->t.state == AGENT_TASK_STOPPING) {
			agent_tasks_reap(ts->ptrs, ts->n);
			(void)agent_task_tick(&sl14->t);
			usleep(20000);
		}
		sl14->wanted = 1;
	}
	assert_int_equal(agent_tasks_save(ts), 1);

	/* The next agent. */
	assert_non_null(ts = calloc(1, sizeof(*ts)));
	agent_tasks_init(ts, dir, 1);
	ts->done = done;
	agent_tasks_load(ts);
	assert_int_equal(agent_tasks_life(ts, 10), AGENT_LIFE_UP);
	assert_int_equal(agent_tasks_find(ts, 10)->pid, pid);
	assert_int_equal(agent_tasks_life(ts, 11), AGENT_LIFE_BACKOFF);
	assert_int_equal(agent_tasks_life(ts, 12), AGENT_LIFE_DOWN);
	assert_int_equal(agent_tasks_life(ts, 13), AGENT_LIFE_DOWN);
	assert_int_equal(agent_tasks_life(ts, 14), AGENT_LIFE_DOWN);
	(void)agent_tasks_tick(ts);
	assert_int_equal(agent_tasks_life(ts, 13), AGENT_LIFE_DOWN);
	assert_int_equal(agent_tasks_life(ts, 14), AGENT_LIFE_DOWN);
	assert_int_equal(agent_tasks_life(ts, 11), AGENT_LIFE_UP);
	assert_int_equal(agent_tasks_find(ts, 11)->state, AGENT_TASK_RUNNING);
	assert_int_equal(agent_tasks_life(ts, 12), AGENT_LIFE_DOWN);

	/* The old agent's table goes; its tasks are the new one's now. */
	old->n = 0;
	agent_tasks_free(old);
	free(old);
}

static void
test_life_names(void **state)
{
	assert_string_equal(agent_life_name(AGENT_LIFE_DOWN), "down");
	assert_string_equal(agent_life_name(AGENT_LIFE_STARTING), "starting");
	assert_string_equal(agent_life_name(AGENT_LIFE_UP), "up");
	assert_string_equal(agent_life_name(AGENT_LIFE_STOPPING), "stopping");
	assert_string_equal(agent_life_name(AGENT_LIFE_BACKOFF), "backoff");
	assert_string_equal(agent_life_name(AGENT_LIFE_CRASH_LOOP),
	    "crash_loop");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_life_start_stop, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_life_restart, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_life_exit_backoff_crash_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_life_backoff_stop, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_life_failed_start_uninstall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_life_starting, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_life_health_fails, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_life_load, setup,
		    teardown),
		cmocka_unit_test(test_life_names),
	};
	char cmd[256];
	int  rc;

	if (mkdtemp(dir) == NULL)
		return (1);
	(void)setenv(AGENT_NO_CGROUP_ENV, "1", 1);
	agent_supervise_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = 1;
	return (rc);
}
