/*
 * The agent's command table (agent/commands.c): an entry for every type
 * of agentproto's list, validation of task payloads, ping, and a type
 * the agent does not know.
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
#include "config.h"

static char dir[] = "/tmp/yard-test-commands.XXXXXX";

/* Run a command of type name with payload (JSON text); the result. */
static char *
run(struct agent_tasks *ts, const char *name, const char *payload,
    enum agent_cmd_outcome *out)
{
	const struct agentproto_cmd_def *d = agentproto_command_find(name);
	struct agentproto_command	 c;
	char				*body = NULL;

	memset(&c, 0, sizeof(c));
	(void)snprintf(c.id, sizeof(c.id), "%s",
	    "00000000-0000-4000-8000-000000000001");
	c.seq = 1;
	(void)snprintf(c.type, sizeof(c.type), "%s", name);
	c.kind = d != NULL ? d->kind : AGENTPROTO_CMD_UNKNOWN;
	assert_non_null(c.payload = json_loads(payload, 0, NULL));
	*out = agent_command_run(ts, &c, 1000, &body);
	json_decref(c.payload);
	return (body);
}

static void
test_commands_cover_the_protocol(void **state)
{
	const struct agentproto_cmd_def *d;
	const struct agent_cmd		*e;
	size_t				 i;

	for (i = 0; (d = agentproto_command_at(i)) != NULL; i++) {
		assert_non_null(e = agent_command_get(d->kind));
		assert_int_equal(e->kind, d->kind);
		assert_non_null(e->run);
		/* Task commands validate their task payload. */
		if (d->target == AGENTPROTO_TARGET_TASK)
			assert_non_null(e->validate);
	}
	assert_null(agent_command_get(AGENTPROTO_CMD_UNKNOWN));
}

static void
test_commands_ping_and_unknown(void **state)
{
	struct agent_tasks    *ts;
	enum agent_cmd_outcome out;
	char		      *body;

	assert_non_null(ts = calloc(1, sizeof(*ts)));
	agent_tasks_init(ts, dir, 1);
	body = run(ts, "ping", "{}", &out);
	assert_int_equal(out, AGENT_CMD_DONE);
	assert_non_null(strstr(body, "\"state\":\"succeeded\""));
	assert_non_null(strstr(body, "\"output\":\"pong\""));
	assert_non_null(strstr(body, "\"code\":\"pong\""));
	free(body);
	/* A type a newer server may send that this agent does not know. */
	body = run(ts, "frobnicate", "{}", &out);
	assert_int_equal(out, AGENT_CMD_DONE);
	assert_non_null(strstr(body, "\"state\":\"failed\""));
	assert_non_null(strstr(body, "unknown command type"));
	assert_non_null(strstr(body, "\"code\":\"unknown_type\""));
	assert_non_null(strstr(body, "\"params\":{\"type\":\"frobnicate\"}"));
	free(body);
	/* deploy is known: its payload is checked. */
	body = run(ts, "deploy", "{}", &out);
	assert_int_equal(out, AGENT_CMD_DONE);
	assert_non_null(strstr(body, "bad payload: task.id is missing"));
	assert_non_null(strstr(body, "\"code\":\"bad_payload\""));
	/* The words, and the same in machine form (reason.c). */
	assert_non_null(strstr(body,
	    "\"params\":{\"reason\":\"task.id is missing\","
	    "\"reason_field\":\"task.id\","
	    "\"reason_code\":\"payload_missing\"}"));
	free(body);
	agent_work_free(ts);
	free(ts);
}

/* A bad payload fails the command and changes nothing. */
static void
test_commands_task_payloads(void **state)
{
	struct agent_tasks    *ts;
	enum agent_cmd_outcome out;
	char		      *body;

	assert_non_null(ts = calloc(1, sizeof(*ts)));
	agent_tasks_init(ts, dir, 1);
	body = run(ts, "start", "{}", &out);
	assert_int_equal(out, AGENT_CMD_DONE);
	assert_non_null(strstr(body, "bad payload: task.id is missing"));
	free(body);
	body = run(ts, "start", "{\"task\":{\"id\":3}}", &out);
	assert_non_null(strstr(body, "bad payload: task.spec"));
	free(body);
	body = run(ts, "uninstall", "{\"task\":{\"id\":3,\"spec\":{}}}", &out);
	assert_non_null(strstr(body, "bad payload: task.spec.kind"));
	free(body);
	assert_int_equal(ts->n, 0);
	/* A stop needs no spec: the task is not known, so not running. */
	body = run(ts, "stop", "{\"task\":{\"id\":3}}", &out);
	assert_int_equal(out, AGENT_CMD_DONE);
	assert_non_null(strstr(body, "\"state\":\"succeeded\""));
	assert_non_null(strstr(body, "not running"));
	assert_non_null(strstr(body, "\"code\":\"not_running\""));
	free(body);
	agent_work_free(ts);
	free(ts);
}

/* A command's "config": checked, kept, forgotten; apply-config. */
static void
test_commands_config(void **state)
{
	struct agent_tasks    *ts;
	enum agent_cmd_outcome out;
	char		      *body, pl[2048], kept[2048], f[1200];
	char		       tree[] = "/tmp/yard-test-commands-tree.XXXXXX";
	FILE		      *fp;

	assert_non_null(ts = calloc(1, sizeof(*ts)));
	agent_tasks_init(ts, dir, 1);
	(void)snprintf(kept, sizeof(kept), "%s/config/5.json", dir);
	/* The deploy directory apart from the state directory. */
	assert_non_null(mkdtemp(tree));
#define SPEC5 \
	"\"spec\":{\"kind\":\"console\",\"deploy_dir\":\"%s\",\"console\":" \
	"{\"command\":\"/bin/sh\",\"args\":[\"-c\",\"exit 0\"]}}"

	/* A bad configuration fails the command; nothing kept or known. */
	(void)snprintf(pl, sizeof(pl),
	    "{\"task\":{\"id\":5," SPEC5 "},\"config\":{\"values\":"
	    "[{\"value\":\"x\"}]}}",
	    tree);
	body = run(ts, "start", pl, &out);
	assert_int_equal(out, AGENT_CMD_DONE);
	assert_non_null(
	    strstr(body, "bad payload: config.values[0].key: missing"));
	free(body);
	assert_int_equal(access(kept, F_OK), -1);
	assert_int_equal(ts->n, 0);

	/* apply-config: "restart" must be a boolean. */
	(void)snprintf(pl, sizeof(pl),
	    "{\"task\":{\"id\":5},\"restart\":\"yes\",\"config\":{}}");
	body = run(ts, "apply-config", pl, &out);
	assert_non_null(
	    strstr(body, "bad payload: restart must be true or false"));
	free(body);
	assert_int_equal(access(kept, F_OK), -1);

	/* A mapping into a file that is not there: the start fails, the
	 * program does not run, but the configuration is kept. */
	(void)snprintf(pl, sizeof(pl),
	    "{\"task\":{\"id\":5," SPEC5 "},\"config\":{\"version\":2,"
	    "\"values\":[{\"key\":\"k\",\"value\":\"secret-v\"}],"
	    "\"mappings\":[{\"key\":\"k\",\"file\":\"conf/a.xml\","
	    "\"format\":\"xml\",\"nodepath\":\"root.k\"}]}}",
	    tree);
	body = run(ts, "start", pl, &out);
	assert_int_equal(out, AGENT_CMD_DONE);
	assert_non_null(strstr(body, "\"state\":\"failed\""));
	assert_non_null(strstr(body,
	    "start failed: config: conf/a.xml: no such file to map into"));
	assert_null(strstr(body, "secret-v"));
	free(body);
	assert_int_equal(access(kept, F_OK), 0);
	assert_int_equal(ts->n, 1);
	assert_int_equal(ts->v[0].t.state, AGENT_TASK_STOPPED);
	assert_int_equal(ts->v[0].t.pid, 0);

	/* apply-config without a config in the payload: the kept one. */
	(void)snprintf(f, sizeof(f), "%s/conf", tree);
	assert_int_equal(mkdir(f, 0755), 0);
	(void)snprintf(f, sizeof(f), "%s/conf/a.xml", tree);
	assert_non_null(fp = fopen(f, "w"));
	(void)fputs("<root><k>old</k></root>\n", fp);
	(void)fclose(fp);
	body = run(ts, "apply-config", "{\"task\":{\"id\":5}}", &out);
	assert_int_equal(out, AGENT_CMD_DONE);
	assert_non_null(strstr(body,
	    "config v2 applied: 1 file written, 1 value mapped; the task is "
	    "not running"));
	free(body);
	assert_non_null(fp = fopen(f, "r"));
	assert_non_null(fgets(pl, sizeof(pl), fp));
	(void)fclose(fp);
	assert_string_equal(pl, "<root><k>secret-v</k></root>\n");

	/* "config": null forgets it. */
	body = run(ts, "apply-config", "{\"task\":{\"id\":5},\"config\":null}",
	    &out);
	assert_non_null(strstr(body, "no configuration: nothing applied"));
	free(body);
	assert_int_equal(access(kept, F_OK), -1);
	/* A task the agent does not know, without a spec. */
	body = run(ts, "apply-config", "{\"task\":{\"id\":6}}", &out);
	assert_non_null(strstr(body, "unknown task"));
	free(body);
#undef SPEC5
	agent_work_free(ts);
	free(ts);
	(void)unlink(f);
	(void)snprintf(f, sizeof(f), "%s/conf", tree);
	(void)rmdir(f);
	(void)rmdir(tree);
	(void)snprintf(f, sizeof(f), "%s/config", dir);
	(void)rmdir(f);
	(void)snprintf(f, sizeof(f), "%s/logs", dir);
	(void)rmdir(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands_cover_the_protocol),
		cmocka_unit_test(test_commands_ping_and_unknown),
		cmocka_unit_test(test_commands_task_payloads),
		cmocka_unit_test(test_commands_config),
	};
	char path[2048];
	int  rc;

	if (mkdtemp(dir) == NULL)
		return (1);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	(void)snprintf(path, sizeof(path), "%s/install-id", dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/tasks.json", dir);
	(void)unlink(path);
	(void)rmdir(dir);
	return (rc);
}
