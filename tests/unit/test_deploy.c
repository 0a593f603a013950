/*
 * The release commands (agent/deploy.c): their payloads (each bad member
 * named), the decision table (what deploy, update and rollback refuse),
 * the FIFO per task, a rollback driven to its end with real processes
 * (console tasks of /bin/sh, no policy), and the recovery of a journal
 * that a dead agent left with pending set, on real directories.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>

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
		(void)agent_work_tick(ts);
		usleep(20000);
	}
	agent_work_free(ts);
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
		(void)agent_work_tick(ts);
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
	    agent_work_pending(ts, "00000000-0000-4000-8000-000000000011"));
	assert_true(
	    agent_work_pending(ts, "00000000-0000-4000-8000-000000000012"));
	assert_int_equal(agent_work_pending_seq(ts), 12);
	free(p);
	/* A start meanwhile: busy, answered at once. */
	assert_true(
	    asprintf(&p, "{\"task\":{\"id\":5,\"spec\":%s}}", spec) != -1);
	assert_int_equal(command(AGENTPROTO_CMD_START, 13, p, &body),
	    AGENT_CMD_DONE);
	assert_non_null(strstr(body, "busy: a deploy is in progress"));
	assert_non_null(strstr(body, "\"code\":\"deploy_busy\""));
	free(body);
	free(p);
	/* So is an apply-config, and a stop. */
	assert_int_equal(command(AGENTPROTO_CMD_APPLY_CONFIG, 14,
			     "{\"task\":{\"id\":5}}", &body),
	    AGENT_CMD_DONE);
	assert_non_null(strstr(body, "apply the configuration after it"));
	assert_non_null(strstr(body, "\"code\":\"deploy_busy\""));
	free(body);
	assert_int_equal(command(AGENTPROTO_CMD_STOP, 15,
			     "{\"task\":{\"id\":5}}", &body),
	    AGENT_CMD_DONE);
	assert_non_null(strstr(body, "\"code\":\"deploy_busy\""));
	free(body);
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
	assert_int_equal(agent_work_pending_seq(ts), 0);
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

	agent_work_load(ts);
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

/*
 * A move of a running packaged task: it stops, the directory moves, the
 * task's spec and journal name the new one and it runs there again; a
 * move onto a directory that exists is refused and changes nothing.
 */
static void
test_deploy_move(void **state)
{
	struct agent_reljournal *j;
	struct agent_slot	*sl;
	char   *spec, *p, *body, why[512], path[PATH_MAX], cwd[PATH_MAX];
	ssize_t n;

	release_dir("mv", 1);
	release_dir("mv", 2);
	journal_write(30, "mv", 2, -1, -1, 1);
	(void)snprintf(path, sizeof(path), "%s/mv", dir);
	assert_int_equal(agent_rel_switch(path, 2, why, sizeof(why)), 1);
	spec = spec_text(30, "mv", "/bin/sh", "sleep 30");
	assert_true(
	    asprintf(&p, "{\"task\":{\"id\":30,\"spec\":%s}}", spec) != -1);
	assert_int_equal(command(AGENTPROTO_CMD_START, 51, p, &body),
	    AGENT_CMD_DONE);
	assert_non_null(strstr(body, "started, pid"));
	free(body);
	free(p);

	/* Onto a directory that exists: refused. */
	assert_true(asprintf(&p,
			"{\"task\":{\"id\":30,\"spec\":%s},"
			"\"deploy_dir\":\"%s/rb\"}",
			spec, dir) != -1);
	(void)snprintf(path, sizeof(path), "%s/rb", dir);
	(void)mkdir(path, 0755);
	assert_int_equal(command(AGENTPROTO_CMD_MOVE, 52, p, &body),
	    AGENT_CMD_LATER);
	free(p);
	tick_until_results(1, 5000);
	assert_int_equal(nresults, 1);
	assert_non_null(strstr(results[0], "move failed: "));
	assert_non_null(strstr(results[0], "already exists"));

	assert_true(asprintf(&p,
			"{\"task\":{\"id\":30,\"spec\":%s},"
			"\"deploy_dir\":\"%s/moved\"}",
			spec, dir) != -1);
	assert_int_equal(command(AGENTPROTO_CMD_MOVE, 53, p, &body),
	    AGENT_CMD_LATER);
	free(p);
	tick_until_results(2, 15000);
	assert_int_equal(nresults, 2);
	(void)snprintf(path, sizeof(path), "moved to %s/moved; started, pid",
	    dir);
	if (strstr(results[1], path) == NULL)
		fail_msg("%s", results[1]);
	(void)snprintf(path, sizeof(path), "%s/mv", dir);
	assert_int_equal(access(path, F_OK), -1);
	link_is("moved", "releases/2");
	assert_non_null(sl = agent_tasks_slot(ts, 30, NULL));
	(void)snprintf(path, sizeof(path), "%s/moved", dir);
	assert_string_equal(json_string_value(
				json_object_get(sl->t.spec, "deploy_dir")),
	    path);
	assert_int_equal(sl->t.state, AGENT_TASK_RUNNING);
	(void)snprintf(path, sizeof(path), "/proc/%d/cwd", (int)sl->t.pid);
	assert_true((n = readlink(path, cwd, sizeof(cwd) - 1)) > 0);
	cwd[n] = '\0';
	(void)snprintf(path, sizeof(path), "%s/moved/releases/2", dir);
	assert_string_equal(cwd, path);
	assert_non_null(j = calloc(1, sizeof(*j)));
	assert_int_equal(agent_rel_load(dir, 30, j, why, sizeof(why)), 1);
	(void)snprintf(path, sizeof(path), "%s/moved", dir);
	assert_string_equal(j->dir, path);
	assert_int_equal(j->live, 2);
	free(j);
	free(spec);
}

/*
 * A package server on loopback: GET /agent/v1/packages/<sha256> answers
 * the file <dir>/pkg/<sha256> whole (200), anything else 404.  A child
 * process; its port.
 */
static pid_t srv_pid;

static int
srv_start(void)
{
	struct sockaddr_in sa;
	socklen_t	   sl = sizeof(sa);
	char		   req[4096], path[PATH_MAX], hdr[256], buf[65536];
	const char	  *p, *e;
	ssize_t		   n;
	size_t		   got;
	int		   ls, c, fd;

	assert_true((ls = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 8), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
	assert_true((srv_pid = fork()) != -1);
	if (srv_pid != 0) {
		(void)close(ls);
		return (ntohs(sa.sin_port));
	}
	/* It goes with the test, whatever happens to it. */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		if ((c = accept(ls, NULL, NULL)) == -1)
			continue;
		got = 0;
		while (got < sizeof(req) - 1 &&
		    (n = read(c, req + got, sizeof(req) - 1 - got)) > 0) {
			got += (size_t)n;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		req[got] = '\0';
		fd = -1;
		if ((p = strstr(req, "/agent/v1/packages/")) != NULL &&
		    (e = strchr(p, ' ')) != NULL) {
			p += strlen("/agent/v1/packages/");
			(void)snprintf(path, sizeof(path), "%s/pkg/%.*s", dir,
			    (int)(e - p), p);
			fd = open(path, O_RDONLY);
		}
		if (fd == -1) {
			(void)dprintf(c,
			    "HTTP/1.1 404 Not Found\r\n"
			    "Content-Length: 0\r\n"
			    "Connection: close\r\n\r\n");
		} else {
			struct stat st;

			(void)fstat(fd, &st);
			(void)snprintf(hdr, sizeof(hdr),
			    "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\n"
			    "Connection: close\r\n\r\n",
			    (long long)st.st_size);
			if (write(c, hdr, strlen(hdr)) == -1)
				_exit(1);
			while ((n = read(fd, buf, sizeof(buf))) > 0 &&
			    write(c, buf, (size_t)n) == n)
				;
			(void)close(fd);
		}
		(void)close(c);
	}
}

struct ent {
	const char *name;
	const char *data;
};

/* A zip of entries under <dir>/pkg/<its sha256>; its hex digest. */
static void
package(const struct ent *e, size_t n, char *sha, int64_t *size,
    int64_t *unpacked)
{
	struct archive	     *a;
	struct archive_entry *ae;
	EVP_MD_CTX	     *md;
	unsigned char	      dg[32], buf[4096];
	char		      tmp[PATH_MAX], path[PATH_MAX];
	struct stat	      st;
	size_t		      i;
	ssize_t		      r;
	int		      fd;

	(void)snprintf(path, sizeof(path), "%s/pkg", dir);
	(void)mkdir(path, 0755);
	(void)snprintf(tmp, sizeof(tmp), "%s/pkg/new.zip", dir);
	assert_non_null(a = archive_write_new());
	assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, tmp), ARCHIVE_OK);
	*unpacked = 0;
	for (i = 0; i < n; i++) {
		assert_non_null(ae = archive_entry_new());
		archive_entry_set_pathname(ae, e[i].name);
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, 0755);
		archive_entry_set_size(ae, (la_int64_t)strlen(e[i].data));
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		assert_int_equal(archive_write_data(a, e[i].data,
				     strlen(e[i].data)),
		    (la_ssize_t)strlen(e[i].data));
		*unpacked += (int64_t)strlen(e[i].data);
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	assert_true((fd = open(tmp, O_RDONLY)) != -1);
	assert_non_null(md = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		assert_int_equal(EVP_DigestUpdate(md, buf, (size_t)r), 1);
	assert_int_equal(EVP_DigestFinal_ex(md, dg, NULL), 1);
	EVP_MD_CTX_free(md);
	assert_int_equal(fstat(fd, &st), 0);
	(void)close(fd);
	*size = (int64_t)st.st_size;
	for (i = 0; i < 32; i++)
		(void)snprintf(sha + i * 2, 3, "%02x", dg[i]);
	(void)snprintf(path, sizeof(path), "%s/pkg/%s", dir, sha);
	assert_int_equal(rename(tmp, path), 0);
}

static char *
release_payload(const char *spec, const struct ent *e, size_t n,
    const char *version, const char *extra)
{
	char	sha[65], *p;
	int64_t size, unpacked;

	package(e, n, sha, &size, &unpacked);
	assert_true(asprintf(&p,
			"{\"task\":{\"id\":20,\"spec\":%s},\"package\":"
			"{\"sha256\":\"%s\",\"size\":%lld,\"unpacked\":%lld,"
			"\"name\":\"app\",\"version\":\"%s\"}%s}",
			spec, sha, (long long)size, (long long)unpacked,
			version, extra) != -1);
	return (p);
}

static void
file_is(const char *rel, const char *want)
{
	char   path[PATH_MAX], buf[256];
	FILE  *f;
	size_t n;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	(void)fclose(f);
	assert_string_equal(buf, want);
}

/*
 * deploy, update and an update that fails its health check, with a
 * package server on loopback and real processes: release 1 runs; the
 * update keeps a preserved file the program changed and says its
 * default changed; the failing update is marked bad and release 2 runs
 * again.
 */
static void
test_deploy_update_rollback(void **state)
{
	static const struct ent	 v1[] = { { "run.sh", "exec sleep 30\n" },
		 { "conf/app.properties", "a=1\n" } };
	static const struct ent	 v2[] = { { "run.sh", "exec sleep 31\n" },
		 { "conf/app.properties", "a=2\n" }, { "v2.txt", "two\n" } };
	static const struct ent	 v3[] = { { "run.sh", "exec sleep 32\n" },
		 { "conf/app.properties", "a=2\n" } };
	struct agent_node	 node;
	struct agent_reljournal *j;
	struct agent_slot	*sl;
	char			*spec, *hspec, *p, *body, why[512];
	char			 path[PATH_MAX], cwd[PATH_MAX];
	ssize_t			 n;
	int			 port;

	port = srv_start();
	memset(&node, 0, sizeof(node));
	(void)snprintf(node.server, sizeof(node.server), "http://127.0.0.1:%d",
	    port);
	node.node_id = 1;
	memset(node.secret, 'A', AGENTPROTO_SECRET_LEN);
	ts->node = &node;
	assert_true(asprintf(&spec,
			"{\"kind\":\"console\",\"deploy_dir\":\"%s/e2e\","
			"\"stop_grace\":2,\"console\":{\"command\":"
			"\"/bin/sh\",\"args\":[\"run.sh\"]},"
			"\"preserved_paths\":[\"conf/app.properties\"],"
			"\"restart\":{\"policy\":\"never\"}}",
			dir) != -1);

	p = release_payload(spec, v1, 2, "1.0", "");
	assert_int_equal(command(AGENTPROTO_CMD_DEPLOY, 41, p, &body),
	    AGENT_CMD_LATER);
	free(p);
	tick_until_results(1, 20000);
	assert_int_equal(nresults, 1);
	if (strstr(results[0],
		"deployed release 1 (app 1.0); started, "
		"pid ") == NULL)
		fail_msg("%s", results[0]);
	link_is("e2e", "releases/1");
	assert_non_null(sl = agent_tasks_slot(ts, 20, NULL));
	assert_int_equal(sl->t.state, AGENT_TASK_RUNNING);
	(void)snprintf(path, sizeof(path), "/proc/%d/cwd", (int)sl->t.pid);
	assert_true((n = readlink(path, cwd, sizeof(cwd) - 1)) > 0);
	cwd[n] = '\0';
	(void)snprintf(path, sizeof(path), "%s/e2e/releases/1", dir);
	assert_string_equal(cwd, path);
	(void)snprintf(path, sizeof(path), "%s/e2e/.staging", dir);

	/* The program changes its preserved file; the update keeps it. */
	(void)snprintf(path, sizeof(path),
	    "%s/e2e/releases/1/conf/app.properties", dir);
	{
		FILE *f;

		assert_non_null(f = fopen(path, "w"));
		(void)fputs("a=local\n", f);
		(void)fclose(f);
	}
	p = release_payload(spec, v2, 3, "2.0", "");
	assert_int_equal(command(AGENTPROTO_CMD_UPDATE, 42, p, &body),
	    AGENT_CMD_LATER);
	free(p);
	tick_until_results(2, 20000);
	assert_int_equal(nresults, 2);
	if (strstr(results[1],
		"updated to release 2 (app 2.0); started, "
		"pid ") == NULL)
		fail_msg("%s", results[1]);
	assert_non_null(strstr(results[1],
	    "new defaults available: "
	    "conf/app.properties"));
	assert_non_null(
	    strstr(results[1], "\"releases\":[{\"n\":2,\"sha256\":"));
	link_is("e2e", "releases/2");
	file_is("e2e/releases/2/conf/app.properties", "a=local\n");
	file_is("e2e/releases/2/v2.txt", "two\n");
	assert_non_null(strstr(lastprogress, "\"state\":\"running\""));

	/* An update whose health check never passes: rolled back. */
	assert_true(asprintf(&hspec,
			"{\"kind\":\"console\",\"deploy_dir\":\"%s/e2e\","
			"\"stop_grace\":2,\"console\":{\"command\":"
			"\"/bin/sh\",\"args\":[\"run.sh\"]},"
			"\"preserved_paths\":[\"conf/app.properties\"],"
			"\"health\":{\"path\":\"/\",\"port\":9,"
			"\"start_timeout\":1,\"window\":1},"
			"\"restart\":{\"policy\":\"never\"}}",
			dir) != -1);
	p = release_payload(hspec, v3, 2, "3.0", "");
	assert_int_equal(command(AGENTPROTO_CMD_UPDATE, 43, p, &body),
	    AGENT_CMD_LATER);
	free(p);
	tick_until_results(3, 30000);
	assert_int_equal(nresults, 3);
	assert_non_null(strstr(results[2], "\"state\":\"failed\""));
	if (strstr(results[2], "update failed: not healthy within 1 s") ==
		NULL ||
	    strstr(results[2], "rolled back to release 2") == NULL)
		fail_msg("%s", results[2]);
	link_is("e2e", "releases/2");
	assert_non_null(sl = agent_tasks_slot(ts, 20, NULL));
	assert_int_equal(sl->t.state, AGENT_TASK_RUNNING);
	(void)snprintf(path, sizeof(path), "%s/e2e/releases/2", dir);
	assert_string_equal(sl->t.reldir, path);
	assert_non_null(j = calloc(1, sizeof(*j)));
	assert_int_equal(agent_rel_load(dir, 20, j, why, sizeof(why)), 1);
	assert_int_equal(j->live, 2);
	assert_int_equal(j->last_good, 2);
	assert_int_equal(j->pending, -1);
	assert_true(agent_rel_find(j, 3)->bad);
	assert_true(agent_rel_find(j, 1)->good);
	free(j);
	(void)snprintf(path, sizeof(path), "%s/e2e/.staging", dir);
	assert_int_equal(access(path, F_OK), -1);

	ts->node = NULL;
	(void)kill(srv_pid, SIGKILL);
	(void)waitpid(srv_pid, NULL, 0);
	free(spec);
	free(hspec);
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
		cmocka_unit_test_setup_teardown(test_deploy_update_rollback,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_deploy_move, setup,
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
