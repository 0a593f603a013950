/*
 * The release commands (agent/deploy.c): their payloads (each bad member
 * named), the decision table (what deploy, update and rollback refuse),
 * the FIFO per task, a rollback driven to its end with real processes
 * (console tasks of /bin/sh, no policy), and the recovery of a journal
 * that a dead agent left with pending set, on real directories.
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
#include "release.h"

static char		   dir[] = "/tmp/yard-test-deploy.XXXXXX";
static struct agent_tasks *ts;
static char		   results[4][8192]; /* in the order answered */
static char		   ids[4][AGENTPROTO_UUID_LEN + 1];
static int		   nresults;
static int		   nprogress;
static char		   lastprogress[512];

static void
done(void *arg, const char *id, int64_t seq, char *body)
{
	if (nresults < 4) {
		(void)snprintf(results[nresults], sizeof(results[0]), "%s",
		    body != NULL ? body : "");
		(void)snprintf(ids[nresults], sizeof(ids[0]), "%s", id);
	}
	nresults++;
	free(body);
}

static void
progress(void *arg, const char *id, char *body)
{
	(void)snprintf(lastprogress, sizeof(lastprogress), "%s", body);
	nprogress++;
	free(body);
}

static int
setup(void **state)
{
	assert_non_null(ts = calloc(1, sizeof(*ts)));
	agent_tasks_init(ts, dir, 1);
	ts->done = done;
	ts->progress = progress;
	nresults = nprogress = 0;
	memset(results, 0, sizeof(results));
	return (0);
}

static int
teardown(void **state)
{
	size_t i, k;

	for (k = 0; k < 300; k++) {
		size_t busy = 0;

		for (i = 0; i < ts->n; i++) {
			if (ts->v[i].t.state == AGENT_TASK_RUNNING)
				agent_task_stop(&ts->v[i].t);
			busy += ts->v[i].t.state != AGENT_TASK_STOPPED &&
			    ts->v[i].t.state != AGENT_TASK_EXITED;
		}
		if (busy == 0)
			break;
		(void)agent_tasks_tick(ts);
		usleep(20000);
	}
	agent_tasks_free(ts);
	free(ts);
	return (0);
}

/* A console task id in <dir>/<sub>, command and args as given. */
static char *
spec_text(int64_t id, const char *sub, const char *command, const char *arg)
{
	char *s;

	assert_true(asprintf(&s,
			"{\"kind\":\"console\",\"deploy_dir\":\"%s/%s\","
			"\"stop_grace\":2,\"console\":{\"command\":\"%s\","
			"\"args\":[\"-c\",\"%s\"]},\"restart\":{\"policy\":"
			"\"never\"}}",
			dir, sub, command, arg) != -1);
	(void)id;
	return (s);
}

/* The command table's validation of type with payload (text). */
static int
validate(enum agentproto_cmd_type kind, const char *payload, char *why,
    size_t len)
{
	struct agentproto_command c;
	struct agent_cmd_args	  a;
	const struct agent_cmd	 *e;
	int			  ok;

	memset(&c, 0, sizeof(c));
	memset(&a, 0, sizeof(a));
	c.kind = kind;
	assert_non_null(c.payload = json_loads(payload, 0, NULL));
	assert_non_null(e = agent_command_get(kind));
	assert_non_null(e->validate);
	why[0] = '\0';
	ok = e->validate(&c, &a, why, len);
	json_decref(a.spec);
	json_decref(c.payload);
	return (ok);
}

#define TASK \
	"\"task\":{\"id\":4,\"spec\":{\"kind\":\"console\"," \
	"\"deploy_dir\":\"/srv/yard/a\",\"console\":{\"command\":\"x\"}}}"
#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define PKG \
	"\"package\":{\"sha256\":\"" SHA "\",\"size\":10,\"unpacked\":20," \
	"\"name\":\"app\",\"version\":\"1.0\"}"

/* Each bad member is named; good payloads pass. */
static void
test_deploy_payloads(void **state)
{
	static const struct {
		enum agentproto_cmd_type kind;
		const char		*payload;
		const char		*why; /* NULL: valid */
	} cases[] = {
		{ AGENTPROTO_CMD_DEPLOY, "{" TASK "," PKG "}", NULL },
		{ AGENTPROTO_CMD_DEPLOY, "{" TASK "," PKG ",\"adopt\":true}",
		    NULL },
		{ AGENTPROTO_CMD_UPDATE, "{" TASK "," PKG ",\"clean\":false}",
		    NULL },
		{ AGENTPROTO_CMD_ROLLBACK, "{" TASK "}", NULL },
		{ AGENTPROTO_CMD_ROLLBACK, "{" TASK ",\"release\":0}", NULL },
		{ AGENTPROTO_CMD_MOVE, "{" TASK ",\"deploy_dir\":\"/srv/b\"}",
		    NULL },
		{ AGENTPROTO_CMD_DEPLOY, "{" PKG "}", "task.id is missing" },
		{ AGENTPROTO_CMD_DEPLOY,
		    "{\"task\":{\"id\":4,\"spec\":{}}," PKG "}",
		    "task.spec.kind" },
		{ AGENTPROTO_CMD_DEPLOY, "{" TASK "}", "package is missing" },
		{ AGENTPROTO_CMD_DEPLOY,
		    "{" TASK ",\"package\":{\"sha256\":\"ABC\",\"size\":1,"
		    "\"unpacked\":1}}",
		    "package.sha256" },
		{ AGENTPROTO_CMD_UPDATE,
		    "{" TASK ",\"package\":{\"sha256\":\"" SHA "\",\"size\":-1,"
		    "\"unpacked\":1}}",
		    "package.size" },
		{ AGENTPROTO_CMD_UPDATE,
		    "{" TASK ",\"package\":{\"sha256\":\"" SHA "\",\"size\":1,"
		    "\"unpacked\":\"9\"}}",
		    "package.unpacked" },
		{ AGENTPROTO_CMD_DEPLOY,
		    "{" TASK ",\"package\":{\"sha256\":\"" SHA "\",\"size\":1,"
		    "\"unpacked\":1,\"name\":7}}",
		    "package.name" },
		{ AGENTPROTO_CMD_DEPLOY,
		    "{" TASK ",\"package\":{\"sha256\":\"" SHA "\",\"size\":1,"
		    "\"unpacked\":1,\"version\":[]}}",
		    "package.version" },
		{ AGENTPROTO_CMD_DEPLOY, "{" TASK "," PKG ",\"adopt\":\"yes\"}",
		    "adopt must be a boolean" },
		{ AGENTPROTO_CMD_UPDATE, "{" TASK "," PKG ",\"clean\":1}",
		    "clean must be a boolean" },
		{ AGENTPROTO_CMD_ROLLBACK, "{" TASK ",\"release\":-1}",
		    "release must be an integer" },
		{ AGENTPROTO_CMD_ROLLBACK, "{" TASK ",\"release\":\"2\"}",
		    "release must be an integer" },
		{ AGENTPROTO_CMD_MOVE, "{" TASK "}", "deploy_dir is missing" },
		{ AGENTPROTO_CMD_MOVE, "{" TASK ",\"deploy_dir\":\"srv/b\"}",
		    "deploy_dir: " },
		{ AGENTPROTO_CMD_MOVE,
		    "{" TASK ",\"deploy_dir\":\"/srv/../etc\"}",
		    "deploy_dir: " },
	};
	char   why[512];
	size_t i;
	int    ok;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ok =
		    validate(cases[i].kind, cases[i].payload, why, sizeof(why));
		if (cases[i].why == NULL) {
			if (!ok)
				fail_msg("case %zu: %s", i, why);
			continue;
		}
		if (ok || strstr(why, cases[i].why) == NULL)
			fail_msg("case %zu: want \"%s\", got %s \"%s\"", i,
			    cases[i].why, ok ? "valid" : "", why);
	}
}

static void
journal(struct agent_reljournal *j, int64_t live)
{
	memset(j, 0, sizeof(*j));
	j->task_id = 4;
	(void)snprintf(j->dir, sizeof(j->dir), "/srv/yard/a");
	j->live = live;
	j->last_good = j->pending = j->prev = -1;
	j->next = 1;
}

static void
rel(struct agent_reljournal *j, int64_t n, int good, int isbad)
{
	j->v[j->nrel].n = n;
	j->v[j->nrel].good = good;
	j->v[j->nrel].bad = isbad;
	j->nrel++;
	j->next = n + 1;
}

/* What each command refuses, and the release a rollback goes to. */
static void
test_deploy_decide(void **state)
{
	struct agent_reljournal *j;
	char			 why[512];
	int64_t			 t;

	assert_non_null(j = calloc(1, sizeof(*j)));
	journal(j, -1);
	/* deploy: nothing live, an empty (or layout-only) directory. */
	assert_true(agent_deploy_decide(AGENTPROTO_CMD_DEPLOY, j, 0, 0, -1, &t,
	    why, sizeof(why)));
	assert_false(agent_deploy_decide(AGENTPROTO_CMD_DEPLOY, j, 1, 0, -1, &t,
	    why, sizeof(why)));
	assert_string_equal(why,
	    "/srv/yard/a is not empty: deploy with "
	    "adopt to take its files over");
	assert_true(agent_deploy_decide(AGENTPROTO_CMD_DEPLOY, j, 1, 1, -1, &t,
	    why, sizeof(why)));
	/* update: something must be live. */
	assert_false(agent_deploy_decide(AGENTPROTO_CMD_UPDATE, j, 0, 0, -1, &t,
	    why, sizeof(why)));
	assert_string_equal(why, "nothing is deployed: use deploy");
	assert_false(agent_deploy_decide(AGENTPROTO_CMD_ROLLBACK, j, 0, 0, -1,
	    &t, why, sizeof(why)));
	assert_string_equal(why, "no release to roll back to");

	/* 1 good, 2 bad, 3 kept (never proven), 4 good and live. */
	rel(j, 1, 1, 0);
	rel(j, 2, 0, 1);
	rel(j, 3, 0, 0);
	rel(j, 4, 1, 0);
	j->live = 4;
	j->last_good = 4;
	assert_false(agent_deploy_decide(AGENTPROTO_CMD_DEPLOY, j, 0, 0, -1, &t,
	    why, sizeof(why)));
	assert_string_equal(why, "release 4 is live: use update");
	assert_true(agent_deploy_decide(AGENTPROTO_CMD_UPDATE, j, 0, 0, -1, &t,
	    why, sizeof(why)));
	/* rollback without a release: the newest good one but live. */
	assert_true(agent_deploy_decide(AGENTPROTO_CMD_ROLLBACK, j, 0, 0, -1,
	    &t, why, sizeof(why)));
	assert_int_equal(t, 1);
	assert_true(agent_deploy_decide(AGENTPROTO_CMD_ROLLBACK, j, 0, 0, 3, &t,
	    why, sizeof(why)));
	assert_int_equal(t, 3);
	assert_false(agent_deploy_decide(AGENTPROTO_CMD_ROLLBACK, j, 0, 0, 2,
	    &t, why, sizeof(why)));
	assert_non_null(strstr(why, "release 2 is marked bad"));
	assert_false(agent_deploy_decide(AGENTPROTO_CMD_ROLLBACK, j, 0, 0, 4,
	    &t, why, sizeof(why)));
	assert_string_equal(why, "release 4 is already live");
	assert_false(agent_deploy_decide(AGENTPROTO_CMD_ROLLBACK, j, 0, 0, 9,
	    &t, why, sizeof(why)));
	assert_string_equal(why, "release 9 is not kept");
	/* Only bad or unproven others: nothing to go back to by default. */
	j->v[0].good = 0;
	assert_false(agent_deploy_decide(AGENTPROTO_CMD_ROLLBACK, j, 0, 0, -1,
	    &t, why, sizeof(why)));
	assert_string_equal(why, "no release to roll back to");
	assert_true(agent_deploy_decide(AGENTPROTO_CMD_MOVE, j, 1, 0, -1, &t,
	    why, sizeof(why)));
	free(j);
}

/* Send a release or task command through the command table. */
static enum agent_cmd_outcome
command(enum agentproto_cmd_type kind, int seq, const char *payload,
    char **body)
{
	struct agentproto_command c;
	enum agent_cmd_outcome	  out;

	memset(&c, 0, sizeof(c));
	(void)snprintf(c.id, sizeof(c.id), "00000000-0000-4000-8000-%012d",
	    seq);
	c.seq = seq;
	c.kind = kind;
	assert_non_null(c.payload = json_loads(payload, 0, NULL));
	*body = NULL;
	out = agent_command_run(ts, &c, agent_now_ms(), body);
	json_decref(c.payload);
	return (out);
}

static void
tick_until_results(int n, int ms)
{
	int waited;

	for (waited = 0; nresults < n && waited < ms; waited += 20) {
		(void)agent_tasks_tick(ts);
		usleep(20000);
	}
}

/*
 * Two deploys of one task: the second waits for the first (FIFO), a
 * start meanwhile is refused "busy", both are pending for the poll, and
 * they are answered in order.  (Without a server the download fails:
 * "not enrolled", from the worker.)
 */
static void
test_deploy_fifo(void **state)
{
	char *spec, *p, *body;

	spec = spec_text(5, "fifo", "/bin/sh", "sleep 30");
	assert_true(asprintf(&p, "{\"task\":{\"id\":5,\"spec\":%s}," PKG "}",
			spec) != -1);
	assert_int_equal(command(AGENTPROTO_CMD_DEPLOY, 11, p, &body),
	    AGENT_CMD_LATER);
	assert_null(body);
	assert_int_equal(command(AGENTPROTO_CMD_DEPLOY, 12, p, &body),
	    AGENT_CMD_LATER);
	assert_true(agent_deploy_busy(ts, 5));
	assert_false(agent_deploy_busy(ts, 6));
	assert_true(
	    agent_tasks_pending(ts, "00000000-0000-4000-8000-000000000011"));
	assert_true(
	    agent_tasks_pending(ts, "00000000-0000-4000-8000-000000000012"));
	assert_int_equal(agent_tasks_pending_seq(ts), 12);
	free(p);
	/* A start meanwhile: busy, answered at once. */
	assert_true(
	    asprintf(&p, "{\"task\":{\"id\":5,\"spec\":%s}}", spec) != -1);
	assert_int_equal(command(AGENTPROTO_CMD_START, 13, p, &body),
	    AGENT_CMD_DONE);
	assert_non_null(strstr(body, "busy: a deploy is in progress"));
	free(body);
	free(p);
	free(spec);
	/* The first runs (its download step was reported), then the
	 * second. */
	assert_true(nprogress >= 1);
	assert_non_null(strstr(lastprogress, "\"state\":\"running\""));
	assert_non_null(strstr(lastprogress, "\"step\":\"download\""));
	tick_until_results(2, 10000);
	assert_int_equal(nresults, 2);
	assert_string_equal(ids[0], "00000000-0000-4000-8000-000000000011");
	assert_string_equal(ids[1], "00000000-0000-4000-8000-000000000012");
	assert_non_null(strstr(results[0], "\"state\":\"failed\""));
	assert_non_null(strstr(results[0], "deploy failed: not enrolled"));
	assert_non_null(strstr(results[0], "\"releases\":[]"));
	assert_non_null(strstr(results[1], "deploy failed: not enrolled"));
	assert_false(agent_deploy_busy(ts, 5));
	assert_int_equal(agent_tasks_pending_seq(ts), 0);
	/* Nothing was recorded in flight any more. */
	assert_string_equal(agent_tasks_slot(ts, 5, NULL)->rel_cmd, "");
}

/* A release directory <dir>/<sub>/releases/<n> (a script in it). */
static void
release_dir(const char *sub, int64_t n)
{
	char path[PATH_MAX];

	(void)snprintf(path, sizeof(path), "%s/%s", dir, sub);
	(void)mkdir(path, 0755);
	(void)snprintf(path, sizeof(path), "%s/%s/releases", dir, sub);
	(void)mkdir(path, 0755);
	(void)snprintf(path, sizeof(path), "%s/%s/releases/%lld", dir, sub,
	    (long long)n);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void
journal_write(int64_t task, const char *sub, int64_t live, int64_t pending,
    int64_t prev, int good2)
{
	struct agent_reljournal *j;
	char			 why[512];

	assert_non_null(j = calloc(1, sizeof(*j)));
	j->task_id = task;
	(void)snprintf(j->dir, sizeof(j->dir), "%s/%s", dir, sub);
	j->live = live;
	j->last_good = 1;
	j->pending = pending;
	j->prev = prev;
	j->next = 3;
	j->nrel = 2;
	j->v[0].n = 1;
	j->v[0].good = 1;
	j->v[0].deployed_at = 1000;
	(void)snprintf(j->v[0].sha256, sizeof(j->v[0].sha256), "%s", SHA);
	(void)snprintf(j->v[0].cmd, sizeof(j->v[0].cmd),
	    "00000000-0000-4000-8000-000000000001");
	j->v[1] = j->v[0];
	j->v[1].n = 2;
	j->v[1].good = good2;
	j->v[1].deployed_at = 2000;
	if (!agent_rel_save(dir, j, why, sizeof(why)))
		fail_msg("%s", why);
	free(j);
}

static void
link_is(const char *sub, const char *want)
{
	char	path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	(void)snprintf(path, sizeof(path), "%s/%s/current", dir, sub);
	assert_true((n = readlink(path, target, sizeof(target) - 1)) > 0);
	target[n] = '\0';
	assert_string_equal(target, want);
}

/*
 * A rollback driven to its end with real processes: the task stops, current
 * points at the target, it starts from there (its working directory),
 * the journal says so; then a rollback whose start fails goes back.
 */
static void
test_deploy_rollback(void **state)
{
	struct agent_reljournal *j;
	struct agent_slot	*sl;
	char			*spec, *p, *body, why[512], path[PATH_MAX];
	char			 cwd[PATH_MAX];
	ssize_t			 n;

	release_dir("rb", 1);
	release_dir("rb", 2);
	journal_write(7, "rb", 2, -1, -1, 1);
	/* Release 1 runs ./run.sh; release 2 has none. */
	(void)snprintf(path, sizeof(path), "%s/rb/releases/1/run.sh", dir);
	{
		FILE *f;

		assert_non_null(f = fopen(path, "w"));
		(void)fprintf(f, "#!/bin/sh\nexec sleep 30\n");
		(void)fclose(f);
		assert_int_equal(chmod(path, 0755), 0);
	}
	(void)snprintf(path, sizeof(path), "%s/rb", dir);
	assert_int_equal(agent_rel_switch(path, 2, why, sizeof(why)), 1);

	spec = spec_text(7, "rb", "/bin/sh", "exec ./run.sh");
	assert_true(
	    asprintf(&p, "{\"task\":{\"id\":7,\"spec\":%s},\"release\":1}",
		spec) != -1);
	assert_int_equal(command(AGENTPROTO_CMD_ROLLBACK, 21, p, &body),
	    AGENT_CMD_LATER);
	free(p);
	tick_until_results(1, 10000);
	assert_int_equal(nresults, 1);
	assert_non_null(strstr(results[0], "\"state\":\"succeeded\""));
	assert_non_null(strstr(results[0],
	    "rolled back to release 1; "
	    "started, pid "));
	assert_non_null(strstr(results[0], "\"releases\":[{\"n\":2"));
	link_is("rb", "releases/1");
	assert_non_null(sl = agent_tasks_slot(ts, 7, NULL));
	assert_int_equal(sl->t.state, AGENT_TASK_RUNNING);
	(void)snprintf(path, sizeof(path), "%s/rb/releases/1", dir);
	assert_string_equal(sl->t.reldir, path);
	/* It runs in the release. */
	(void)snprintf(path, sizeof(path), "/proc/%d/cwd", (int)sl->t.pid);
	assert_true((n = readlink(path, cwd, sizeof(cwd) - 1)) > 0);
	cwd[n] = '\0';
	(void)snprintf(path, sizeof(path), "%s/rb/releases/1", dir);
	assert_string_equal(cwd, path);
	assert_non_null(j = calloc(1, sizeof(*j)));
	assert_int_equal(agent_rel_load(dir, 7, j, why, sizeof(why)), 1);
	assert_int_equal(j->live, 1);
	assert_int_equal(j->pending, -1);
	assert_int_equal(j->last_good, 1);

	/* To 2 (no run.sh there): its start fails, 1 runs again. */
	assert_true(
	    asprintf(&p, "{\"task\":{\"id\":7,\"spec\":%s},\"release\":2}",
		spec) != -1);
	assert_int_equal(command(AGENTPROTO_CMD_ROLLBACK, 22, p, &body),
	    AGENT_CMD_LATER);
	free(p);
	tick_until_results(2, 15000);
	assert_int_equal(nresults, 2);
	assert_non_null(strstr(results[1], "\"state\":\"failed\""));
	assert_non_null(strstr(results[1], "rollback failed: "));
	assert_non_null(strstr(results[1], "rolled back to release 1"));
	link_is("rb", "releases/1");
	assert_int_equal(agent_rel_load(dir, 7, j, why, sizeof(why)), 1);
	assert_int_equal(j->live, 1);
	assert_int_equal(j->pending, -1);
	assert_true(agent_rel_find(j, 2)->bad);
	assert_non_null(sl = agent_tasks_slot(ts, 7, NULL));
	assert_int_equal(sl->t.state, AGENT_TASK_RUNNING);
	free(j);
	free(spec);
}

/*
 * The agent died mid-update, after the switch (pending 2 live, prev 1):
 * at load current goes back to 1, 2 is bad, .staging is gone, and the
 * command tasks.json recorded is answered with its step.  A second task
 * died before its switch (pending 2, live still 1): current stays.
 */
static void
test_deploy_recover(void **state)
{
	struct agent_reljournal *j;
	struct agent_slot	*sl;
	FILE			*f;
	char			 path[PATH_MAX], why[512], *s8, *s9;

	release_dir("rc8", 1);
	release_dir("rc8", 2);
	release_dir("rc9", 1);
	release_dir("rc9", 2);
	journal_write(8, "rc8", 2, 2, 1, 0);
	journal_write(9, "rc9", 1, 2, 1, 0);
	(void)snprintf(path, sizeof(path), "%s/rc8", dir);
	assert_int_equal(agent_rel_switch(path, 2, why, sizeof(why)), 1);
	(void)snprintf(path, sizeof(path), "%s/rc9", dir);
	assert_int_equal(agent_rel_switch(path, 1, why, sizeof(why)), 1);
	(void)snprintf(path, sizeof(path), "%s/rc8/.staging", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	(void)snprintf(path, sizeof(path), "%s/rc8/.staging/x.part", dir);
	assert_non_null(f = fopen(path, "w"));
	(void)fclose(f);

	s8 = spec_text(8, "rc8", "/bin/sh", "sleep 30");
	s9 = spec_text(9, "rc9", "/bin/sh", "sleep 30");
	(void)snprintf(path, sizeof(path), "%s/tasks.json", dir);
	assert_non_null(f = fopen(path, "w"));
	(void)fprintf(f,
	    "[{\"id\":8,\"spec\":%s,\"pid\":0,\"starttime\":0,\"restarts\":0,"
	    "\"wanted\":false,\"created_dir\":false,\"mark\":\"m-8\","
	    "\"cgroup\":\"\",\"uid\":-1,\"release_cmd\":{\"id\":"
	    "\"00000000-0000-4000-8000-000000000031\",\"seq\":31,"
	    "\"received_at\":1000,\"type\":\"update\",\"step\":\"health\"}},"
	    "{\"id\":9,\"spec\":%s,\"pid\":0,\"starttime\":0,\"restarts\":0,"
	    "\"wanted\":false,\"created_dir\":false,\"mark\":\"m-9\","
	    "\"cgroup\":\"\",\"uid\":-1,\"release_cmd\":{\"id\":"
	    "\"00000000-0000-4000-8000-000000000032\",\"seq\":32,"
	    "\"received_at\":1000,\"type\":\"update\",\"step\":\"unpack\"}}]",
	    s8, s9);
	(void)fclose(f);
	free(s8);
	free(s9);

	agent_tasks_load(ts);
	assert_int_equal(ts->n, 2);
	link_is("rc8", "releases/1");
	link_is("rc9", "releases/1");
	(void)snprintf(path, sizeof(path), "%s/rc8/.staging", dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_non_null(j = calloc(1, sizeof(*j)));
	assert_int_equal(agent_rel_load(dir, 8, j, why, sizeof(why)), 1);
	assert_int_equal(j->live, 1);
	assert_int_equal(j->pending, -1);
	assert_int_equal(j->prev, -1);
	assert_true(agent_rel_find(j, 2)->bad);
	assert_int_equal(agent_rel_load(dir, 9, j, why, sizeof(why)), 1);
	assert_int_equal(j->live, 1);
	assert_int_equal(j->pending, -1);
	assert_true(agent_rel_find(j, 2)->bad);
	free(j);
	/* Both commands answered, with their step and the live release. */
	assert_int_equal(nresults, 2);
	assert_string_equal(ids[0], "00000000-0000-4000-8000-000000000031");
	assert_non_null(strstr(results[0], "\"state\":\"failed\""));
	assert_non_null(strstr(results[0],
	    "update failed: agent restarted "
	    "during health; release 1 is live"));
	assert_non_null(strstr(results[0], "\"state\":\"bad\""));
	assert_non_null(strstr(results[1],
	    "agent restarted during unpack; "
	    "release 1 is live"));
	/* They run from release 1 when they start, and nothing is in
	 * flight any more. */
	assert_non_null(sl = agent_tasks_slot(ts, 8, NULL));
	(void)snprintf(path, sizeof(path), "%s/rc8/releases/1", dir);
	assert_string_equal(sl->t.reldir, path);
	assert_string_equal(sl->rel_cmd, "");
	assert_int_equal(agent_tasks_save(ts), 1);
	(void)snprintf(path, sizeof(path), "%s/tasks.json", dir);
	{
		json_error_t jerr;
		json_t	    *a;

		assert_non_null(a = json_load_file(path, 0, &jerr));
		assert_null(
		    json_object_get(json_array_get(a, 0), "release_cmd"));
		json_decref(a);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deploy_payloads),
		cmocka_unit_test(test_deploy_decide),
		cmocka_unit_test_setup_teardown(test_deploy_fifo, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deploy_rollback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deploy_recover, setup,
		    teardown),
	};
	char cmd[256];
	int  rc;

	if (mkdtemp(dir) == NULL)
		return (1);
	(void)setenv(AGENT_NO_CGROUP_ENV, "1", 1);
	agent_supervise_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		rc = 1;
	return (rc);
}
