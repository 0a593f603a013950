/*
 * A result's reason in machine form (agent/reason.c): the agent's words
 * mapped to a reason code and its values, added to a result's params
 * (state.c's agent_result()), and the server's check of them
 * (agentproto_reason_filter() in the result codec).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent.h"
#include "release.h"

/* text's code and values; the code is "" when it is none. */
static json_t *
classify(const char *text, int payload, char *code, size_t len)
{
	json_t *o = json_object();

	assert_non_null(o);
	code[0] = '\0';
	if (!agent_reason_classify(text, payload, o, code, len))
		code[0] = '\0';
	return (o);
}

static void
assert_str(const json_t *o, const char *k, const char *want)
{
	const json_t *v = json_object_get(o, k);

	if (v == NULL || !json_is_string(v))
		fail_msg("%s: missing or not a string", k);
	assert_string_equal(json_string_value(v), want);
}

static void
assert_int(const json_t *o, const char *k, json_int_t want)
{
	const json_t *v = json_object_get(o, k);

	if (v == NULL || !json_is_integer(v))
		fail_msg("%s: missing or not an integer", k);
	assert_int_equal(json_integer_value(v), want);
}

static void
test_reason_exec_failed(void **state)
{
	char	code[64];
	json_t *o;

	o = classify("cannot run /srv/yard/x/run.sh: No such file or directory",
	    0, code, sizeof(code));
	assert_string_equal(code, "exec_failed");
	assert_str(o, "path", "/srv/yard/x/run.sh");
	assert_str(o, "errno", "ENOENT");
	assert_int_equal(json_object_size(o), 2);
	json_decref(o);
	/* Not an error the list knows: not this reason. */
	o = classify("cannot run /x: Something odd", 0, code, sizeof(code));
	assert_string_equal(code, "");
	json_decref(o);
}

static void
test_reason_path_with_colons(void **state)
{
	char	code[64];
	json_t *o;

	o = classify("cannot remove /srv/yard/a: b: Permission denied", 0, code,
	    sizeof(code));
	assert_string_equal(code, "cannot_remove");
	assert_str(o, "path", "/srv/yard/a: b");
	assert_str(o, "errno", "EACCES");
	json_decref(o);
}

static void
test_reason_policy_names_the_rule(void **state)
{
	char	code[64];
	json_t *o;

	o = classify("policy: deploy_dir /etc is outside the allowed roots "
		     "(/srv/yard, /opt/legacy)",
	    0, code, sizeof(code));
	assert_string_equal(code, "policy_outside_roots");
	assert_str(o, "dir", "/etc");
	assert_str(o, "roots", "/srv/yard, /opt/legacy");
	assert_str(o, "rule", "roots");
	json_decref(o);

	o = classify("policy: environment variable LD_PRELOAD is refused "
		     "(refuse_env LD_*)",
	    0, code, sizeof(code));
	assert_string_equal(code, "policy_env_refused");
	assert_str(o, "name", "LD_PRELOAD");
	assert_str(o, "pattern", "LD_*");
	assert_str(o, "rule", "refuse_env");
	json_decref(o);

	o = classify("policy: this node already has 3 tasks (limits.tasks 3)",
	    0, code, sizeof(code));
	assert_string_equal(code, "policy_tasks_limit");
	assert_int(o, "tasks", 3);
	assert_int(o, "limit", 3);
	assert_str(o, "rule", "limits.tasks");
	json_decref(o);

	/* An account the policy names that does not exist: nested. */
	o = classify("policy: no account named nobody2 here (kinds.jar.user)",
	    0, code, sizeof(code));
	assert_string_equal(code, "policy_account");
	assert_str(o, "account", "account_unknown");
	assert_str(o, "user", "nobody2");
	assert_str(o, "kind", "jar");
	assert_str(o, "rule", "kinds");
	json_decref(o);
}

static void
test_reason_payload(void **state)
{
	char	code[64];
	json_t *o;

	o = classify("task.spec.kind: must be console, jar or tomcat", 1, code,
	    sizeof(code));
	assert_string_equal(code, "payload_invalid");
	assert_str(o, "field", "task.spec.kind");
	/* The codec's English is not part of the machine form. */
	assert_int_equal(json_object_size(o), 1);
	json_decref(o);
	o = classify("task.id is missing", 1, code, sizeof(code));
	assert_string_equal(code, "payload_missing");
	assert_str(o, "field", "task.id");
	json_decref(o);
	o = classify("package.sha256 must be 64 lower-case hex digits", 1, code,
	    sizeof(code));
	assert_string_equal(code, "payload_invalid");
	assert_str(o, "field", "package.sha256");
	json_decref(o);
	/* Payload words only for a bad payload. */
	o = classify("task.id is missing", 0, code, sizeof(code));
	assert_string_equal(code, "");
	json_decref(o);
	/* A member path has no spaces: a sentence is not one. */
	o = classify("the thing: is odd", 1, code, sizeof(code));
	assert_string_equal(code, "");
	json_decref(o);
}

static void
test_reason_nested(void **state)
{
	char	code[64];
	json_t *o;

	o = classify("start failed: config: conf/app.xml: mkdir conf/x: "
		     "Permission denied",
	    0, code, sizeof(code));
	assert_string_equal(code, "start_failed");
	assert_str(o, "cause", "config_dir_failed");
	assert_str(o, "file", "conf/app.xml");
	assert_str(o, "path", "conf/x");
	assert_str(o, "errno", "EACCES");
	json_decref(o);

	/* Two deep: a start the policy refused, inside a release. */
	o = classify("start failed: policy: no account named x here (user)", 0,
	    code, sizeof(code));
	assert_string_equal(code, "start_failed");
	assert_str(o, "cause", "policy_account");
	assert_str(o, "account", "account_unknown");
	assert_str(o, "user", "x");
	assert_str(o, "rule", "user");
	json_decref(o);

	o = classify("not healthy within 30 s (HTTP 503, expected 200)", 0,
	    code, sizeof(code));
	assert_string_equal(code, "not_healthy_within");
	assert_int(o, "timeout_s", 30);
	assert_str(o, "health", "health_status");
	assert_int(o, "status", 503);
	assert_int(o, "expected", 200);
	json_decref(o);

	o = classify("not healthy within 5 s (no answer yet)", 0, code,
	    sizeof(code));
	assert_string_equal(code, "not_healthy_within");
	assert_str(o, "health", "health_no_answer");
	json_decref(o);

	o = classify("Failed to connect to 127.0.0.1 port 8080 after 0 ms: "
		     "Couldn't connect to server",
	    0, code, sizeof(code));
	assert_string_equal(code, "health_connect");
	assert_int(o, "port", 8080);
	json_decref(o);
}

static void
test_reason_release(void **state)
{
	char	code[64];
	json_t *o;

	o = classify("not enough space in /srv/yard/x/.staging: 123456 bytes "
		     "needed, 1000 free",
	    0, code, sizeof(code));
	assert_string_equal(code, "not_enough_space");
	assert_str(o, "dir", "/srv/yard/x/.staging");
	assert_int(o, "need", 123456);
	assert_int(o, "free", 1000);
	json_decref(o);
	o = classify("release 4 is marked bad (it failed its start or health "
		     "window)",
	    0, code, sizeof(code));
	assert_string_equal(code, "release_marked_bad");
	assert_int(o, "release", 4);
	json_decref(o);
	o = classify("package entry ../evil: path_traversal", 0, code,
	    sizeof(code));
	assert_string_equal(code, "package_entry");
	assert_str(o, "entry", "../evil");
	assert_str(o, "rule", "path_traversal");
	json_decref(o);
}

static void
test_reason_move_and_download(void **state)
{
	char	code[64];
	json_t *o;

	o = classify("download of package 9f2c0a1b2c3d failed: the server "
		     "answered 404 not_found",
	    0, code, sizeof(code));
	assert_string_equal(code, "download_status");
	assert_str(o, "package", "9f2c0a1b2c3d");
	assert_int(o, "status", 404);
	assert_int_equal(json_object_size(o), 2);
	json_decref(o);
	o = classify("the copy /srv/b/x differs from /srv/a/x (link)", 0, code,
	    sizeof(code));
	assert_string_equal(code, "copy_differs");
	assert_str(o, "what", "link");
	assert_str(o, "from", "/srv/a/x");
	json_decref(o);
	/* The catch-all comes last: a known format wins over it. */
	o = classify("/var/lib/yard-agent/releases/7.json: Permission denied",
	    0, code, sizeof(code));
	assert_string_equal(code, "file_error");
	assert_str(o, "errno", "EACCES");
	json_decref(o);
	o = classify("config: conf/a.xml: No such file or directory", 0, code,
	    sizeof(code));
	assert_string_equal(code, "config_file_error");
	assert_str(o, "file", "conf/a.xml");
	json_decref(o);
}

/* What a real failure says is worded by its code. */
static const char *
code_of(const char *why, int payload)
{
	static char code[64];
	json_t	   *o = json_object();

	assert_non_null(o);
	if (!agent_reason_classify(why, payload, o, code, sizeof(code)))
		(void)snprintf(code, sizeof(code), "(none: %.40s)", why);
	json_decref(o);
	return (code);
}

/*
 * The agent's own functions, failing: their words read as a code.  A
 * format changed without its pattern fails here, not on a page.
 */
static void
test_reason_from_the_agent(void **state)
{
	struct agent_reljournal	 *j;
	struct agent_policy	  pol;
	struct agent_account	  acct;
	struct agentproto_command c;
	struct agent_cmd_args	  a;
	json_t			 *spec;
	char			  why[1024], err[256], rdir[PATH_MAX];
	int64_t			  t;
	const char		 *text = "{\"roots\":[\"/srv/yard\"],"
					 "\"refuse_env\":[\"LD_*\"]}";

	assert_non_null(j = calloc(1, sizeof(*j)));
	j->live = j->last_good = j->pending = j->prev = -1;
	j->next = 1;
	(void)snprintf(j->dir, sizeof(j->dir), "/srv/yard/a");
	assert_false(agent_deploy_decide(AGENTPROTO_CMD_UPDATE, j, 0, 0, -1, &t,
	    why, sizeof(why)));
	assert_string_equal(code_of(why, 0), "nothing_deployed");
	assert_false(agent_deploy_decide(AGENTPROTO_CMD_DEPLOY, j, 1, 0, -1, &t,
	    why, sizeof(why)));
	assert_string_equal(code_of(why, 0), "dir_not_empty");
	assert_false(agent_deploy_decide(AGENTPROTO_CMD_ROLLBACK, j, 0, 0, 9,
	    &t, why, sizeof(why)));
	assert_string_equal(code_of(why, 0), "release_not_kept");
	j->live = 1;
	assert_false(agent_deploy_decide(AGENTPROTO_CMD_DEPLOY, j, 0, 0, -1, &t,
	    why, sizeof(why)));
	assert_string_equal(code_of(why, 0), "release_is_live");
	free(j);

	/* The policy: outside the roots, a refused variable. */
	agent_policy_default(&pol);
	assert_true(
	    agent_policy_parse(&pol, text, strlen(text), err, sizeof(err)));
	assert_false(agent_policy_dir(&pol, "/etc", NULL, rdir, sizeof(rdir),
	    NULL, why, sizeof(why)));
	assert_string_equal(code_of(why, 0), "policy_outside_roots");
	assert_non_null(
	    spec = json_pack("{s:s, s:s, s:{s:s}}", "kind", "console",
		"deploy_dir", "/srv/yard/x", "env", "LD_AUDIT", "x"));
	assert_false(agent_policy_task(&pol, spec, NULL, &acct, rdir,
	    sizeof(rdir), why, sizeof(why)));
	assert_string_equal(code_of(why, 0), "policy_env_refused");
	json_decref(spec);

	/* Free space: far more than any disk has. */
	assert_false(agent_rel_space("/tmp", UINT64_MAX / 2, why, sizeof(why)));
	assert_string_equal(code_of(why, 0), "not_enough_space");

	/* A release command's payload. */
	memset(&c, 0, sizeof(c));
	memset(&a, 0, sizeof(a));
	c.kind = AGENTPROTO_CMD_DEPLOY;
	assert_non_null(c.payload = json_pack("{s:{s:i}, s:{s:s}}", "task",
			    "id", 7, "package", "sha256", "nothex"));
	assert_false(agent_deploy_validate(&c, &a, why, sizeof(why)));
	json_decref(c.payload);
	assert_string_equal(code_of(why, 1), "payload_invalid");
}

/* Every pattern's code is one agentproto (the server) knows. */
static void
test_reason_codes_known(void **state)
{
	const char *c;
	size_t	    i;

	for (i = 0; (c = agent_reason_pattern_code(i)) != NULL; i++) {
		if (!agentproto_reason_known(c))
			fail_msg("pattern %zu: %s is not in agentproto's list",
			    i, c);
	}
	assert_true(i > 50);
	for (i = 0; (c = agentproto_reason_at(i)) != NULL; i++)
		assert_true(agentproto_code_valid(c));
	assert_false(agentproto_reason_known("no_such_reason"));
}

/* The agent's result carries the machine form next to the words. */
static void
test_reason_in_result(void **state)
{
	json_t *r, *p;
	char   *body;

	body = agent_result(0, 1, "start_failed",
	    json_pack("{s:s}", "reason",
		"cannot run /srv/yard/x/run.sh: No such file or directory"),
	    "start failed: cannot run /srv/yard/x/run.sh: No such file or "
	    "directory");
	assert_non_null(body);
	assert_non_null(r = json_loads(body, 0, NULL));
	p = json_object_get(r, "params");
	assert_str(p, "reason",
	    "cannot run /srv/yard/x/run.sh: No such file or directory");
	assert_str(p, "reason_code", "exec_failed");
	assert_str(p, "reason_path", "/srv/yard/x/run.sh");
	assert_str(p, "reason_errno", "ENOENT");
	json_decref(r);
	free(body);

	/* after too; an empty one says nothing. */
	body = agent_result(0, 1, "move_failed",
	    json_pack("{s:s, s:s}", "reason", "/srv/yard/y already exists",
		"after",
		"starting it again failed: cannot open /x/log: "
		"Permission denied"),
	    "move failed");
	assert_non_null(r = json_loads(body, 0, NULL));
	p = json_object_get(r, "params");
	assert_str(p, "reason_code", "deploy_dir_exists");
	assert_str(p, "reason_dir", "/srv/yard/y");
	assert_str(p, "after_code", "start_again_failed");
	assert_str(p, "after_cause", "cannot_open");
	assert_str(p, "after_errno", "EACCES");
	json_decref(r);
	free(body);

	/* A check that never answered. */
	body = agent_result(0, 1, "start_unhealthy",
	    json_pack("{s:i, s:s}", "pid", 7, "reason", ""), "not healthy");
	assert_non_null(r = json_loads(body, 0, NULL));
	assert_str(json_object_get(r, "params"), "reason_code",
	    "health_no_answer");
	json_decref(r);
	free(body);

	/* Words it does not know: only the words. */
	body = agent_result(0, 1, "start_failed",
	    json_pack("{s:s}", "reason", "something new"), "start failed");
	assert_non_null(r = json_loads(body, 0, NULL));
	assert_null(
	    json_object_get(json_object_get(r, "params"), "reason_code"));
	json_decref(r);
	free(body);
}

/* Never past the protocol's 16 members: then the words alone. */
static void
test_reason_within_limit(void **state)
{
	json_t *p, *r;
	char   *body, k[16];
	int	i;

	assert_non_null(p = json_object());
	for (i = 0; i < 14; i++) {
		(void)snprintf(k, sizeof(k), "m%d", i);
		(void)json_object_set_new(p, k, json_integer(i));
	}
	(void)json_object_set_new(p, "reason",
	    json_string("cannot run /x: No such file or directory"));
	body = agent_result(0, 1, "start_failed", p, "start failed");
	assert_non_null(r = json_loads(body, 0, NULL));
	p = json_object_get(r, "params");
	assert_int_equal(json_object_size(p), 15);
	assert_null(json_object_get(p, "reason_code"));
	json_decref(r);
	free(body);
}

/* The server keeps a known reason and drops what it cannot check. */
static void
test_reason_server_filter(void **state)
{
	struct agentproto_result r;
	struct agentproto_err	 err;
	const char		*ok =
	    "{\"v\":1,\"state\":\"failed\",\"finished_at\":1,"
	    "\"code\":\"start_failed\",\"params\":{\"reason\":\"x\","
	    "\"reason_code\":\"exec_failed\",\"reason_path\":\"/x\","
	    "\"reason_errno\":\"ENOENT\",\"after\":\"y\","
	    "\"after_code\":\"nope_new\",\"after_path\":\"/y\"}}";
	const char *badno =
	    "{\"v\":1,\"state\":\"failed\",\"finished_at\":1,"
	    "\"code\":\"start_failed\",\"params\":{\"reason\":\"x\","
	    "\"reason_code\":\"exec_failed\",\"reason_errno\":\"no such\"}}";
	const char *badcause =
	    "{\"v\":1,\"state\":\"failed\",\"finished_at\":1,"
	    "\"code\":\"start_failed\",\"params\":{\"reason\":\"x\","
	    "\"reason_code\":\"start_failed\",\"reason_cause\":\"zzz\"}}";

	memset(&err, 0, sizeof(err));
	assert_int_equal(agentproto_result_decode(ok, strlen(ok), &r, &err), 1);
	assert_str(r.params, "reason_code", "exec_failed");
	assert_str(r.params, "reason_errno", "ENOENT");
	assert_str(r.params, "after", "y");
	assert_null(json_object_get(r.params, "after_code"));
	assert_null(json_object_get(r.params, "after_path"));
	agentproto_result_cleanup(&r);

	assert_int_equal(agentproto_result_decode(badno, strlen(badno), &r,
			     &err),
	    1);
	assert_str(r.params, "reason", "x");
	assert_null(json_object_get(r.params, "reason_code"));
	assert_int_equal(json_object_size(r.params), 1);
	agentproto_result_cleanup(&r);

	assert_int_equal(agentproto_result_decode(badcause, strlen(badcause),
			     &r, &err),
	    1);
	assert_null(json_object_get(r.params, "reason_code"));
	assert_null(json_object_get(r.params, "reason_cause"));
	agentproto_result_cleanup(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason_exec_failed),
		cmocka_unit_test(test_reason_path_with_colons),
		cmocka_unit_test(test_reason_policy_names_the_rule),
		cmocka_unit_test(test_reason_payload),
		cmocka_unit_test(test_reason_nested),
		cmocka_unit_test(test_reason_release),
		cmocka_unit_test(test_reason_move_and_download),
		cmocka_unit_test(test_reason_from_the_agent),
		cmocka_unit_test(test_reason_codes_known),
		cmocka_unit_test(test_reason_in_result),
		cmocka_unit_test(test_reason_within_limit),
		cmocka_unit_test(test_reason_server_filter),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
