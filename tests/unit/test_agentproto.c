/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for the agent protocol codecs: round trips, every refusal
 * names the right member, caps, duplicates, types, ranges and encodings.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "agentproto/agentproto.h"

#define SECRET "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_x"
#define UUID1  "9b2e6f1c-1d2e-4f3a-8b4c-5d6e7f8a9b0c"

enum kind {
	K_ENROLL_REQ,
	K_ENROLL_RESP,
	K_HEARTBEAT,
	K_HEARTBEAT_RESP,
	K_POLL,
	K_RESULT,
	K_ERROR
};

static const char *facts_json =
    "{\"hostname\":\"app-01\",\"os\":\"Debian GNU/Linux 12 (bookworm)\","
    "\"kernel\":\"6.1.0-18-amd64\",\"arch\":\"x86_64\",\"cpus\":4,"
    "\"mem_total\":8231440384,\"boot_id\":\"4f1c0e2a-1111-2222-3333-"
    "444455556666\",\"uptime\":86400,\"agent_version\":\"0.1.0\","
    "\"disks\":[{\"path\":\"/\",\"total\":1000,\"free\":10},"
    "{\"path\":\"/opt\",\"total\":2000,\"free\":20},"
    "{\"path\":\"/srv\",\"total\":3000,\"free\":30}],"
    "\"policy\":{\"roots\":[{\"path\":\"/srv/yard\",\"user\":\"yard-task\"},"
    "{\"path\":\"/opt/legacy\",\"user\":\"root\"}],\"user\":\"yard-task\","
    "\"kinds\":{\"tomcat\":{\"user\":\"tomcat\"}},\"refuse_env\":[\"LD_*\"],"
    "\"limits\":{\"tasks\":256,\"log_bytes\":10485760}}}";

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *metrics_json =
    "{\"cpu\":12.5,\"mem_used\":2101000192,\"mem_total\":8231440384,"
    "\"load1\":0.42,\"load5\":0.3,\"load15\":0.25}";

static int
decode(enum kind k, const char *buf, size_t len, struct agentproto_err *err)
{
	struct agentproto_enroll_req	 erq;
	struct agentproto_enroll_resp	 ers;
	struct agentproto_heartbeat	*hb;
	struct agentproto_heartbeat_resp hr;
	struct agentproto_poll		 p;
	struct agentproto_result	 r;
	struct agentproto_error_reply	 e;
	int				 ok;

	memset(err, 0, sizeof(*err));
	switch (k) {
	case K_ENROLL_REQ:
		return (agentproto_enroll_req_decode(buf, len, &erq, err));
	case K_ENROLL_RESP:
		return (agentproto_enroll_resp_decode(buf, len, &ers, err));
	case K_HEARTBEAT:
		hb = malloc(sizeof(*hb));
		assert_non_null(hb);
		ok = agentproto_heartbeat_decode(buf, len, hb, err);
		if (!ok)
			assert_null(hb->tasks);
		agentproto_heartbeat_cleanup(hb);
		free(hb);
		return (ok);
	case K_HEARTBEAT_RESP:
		return (agentproto_heartbeat_resp_decode(buf, len, &hr, err));
	case K_POLL:
		ok = agentproto_poll_decode(buf, len, &p, err);
		if (!ok)
			assert_null(p.commands);
		agentproto_poll_cleanup(&p);
		return (ok);
	case K_RESULT:
		ok = agentproto_result_decode(buf, len, &r, err);
		if (!ok)
			assert_null(r.output);
		agentproto_result_cleanup(&r);
		return (ok);
	case K_ERROR:
		return (agentproto_error_decode(buf, len, &e, err));
	}
	return (0);
}

static json_t *
base(enum kind k)
{
	char	buf[4096];
	json_t *j;

	switch (k) {
	case K_ENROLL_REQ:
		snprintf(buf, sizeof(buf),
		    "{\"v\":1,\"token\":\"tok-EN_1\",\"facts\":%s}",
		    facts_json);
		break;
	case K_ENROLL_RESP:
		snprintf(buf, sizeof(buf),
		    "{\"v\":1,\"node_id\":12,\"secret\":\"" SECRET "\","
		    "\"heartbeat_interval\":5,\"poll_timeout\":25}");
		break;
	case K_HEARTBEAT:
		snprintf(buf, sizeof(buf),
		    "{\"v\":1,\"seq\":1042,\"time\":1795468349,\"facts\":%s,"
		    "\"metrics\":%s,\"tasks\":[],\"backlog\":[{\"time\":1,"
		    "\"metrics\":%s},{\"time\":2,\"metrics\":%s}]}",
		    facts_json, metrics_json, metrics_json, metrics_json);
		break;
	case K_HEARTBEAT_RESP:
		snprintf(buf, sizeof(buf),
		    "{\"v\":1,\"heartbeat_interval\":5,\"poll_timeout\":25}");
		break;
	case K_POLL:
		snprintf(buf, sizeof(buf),
		    "{\"v\":1,\"commands\":[{\"id\":\"" UUID1 "\",\"seq\":7,"
		    "\"type\":\"ping\",\"payload\":{},\"issued_at\":"
		    "\"2026-11-23T21:40:00Z\"},{\"id\":\"" UUID1 "\","
		    "\"seq\":8,\"type\":\"ping\",\"payload\":{}}]}");
		break;
	case K_RESULT:
		snprintf(buf, sizeof(buf),
		    "{\"v\":1,\"state\":\"succeeded\",\"exit_status\":0,"
		    "\"output\":\"pong\",\"received_at\":1795468349123,"
		    "\"finished_at\":1795468349125}");
		break;
	case K_ERROR:
		snprintf(buf, sizeof(buf),
		    "{\"error\":\"bad_request\",\"message\":\"no\","
		    "\"field\":\"facts.os\"}");
		break;
	}
	j = json_loads(buf, 0, NULL);
	assert_non_null(j);
	return (j);
}

/*
 * Replace (value != NULL, a JSON text) or delete (NULL) the member at a
 * dotted path such as "facts.disks[2].path" or "commands[0]".
 */
static void
set_path(json_t *root, const char *path, const char *value)
{
	char	buf[128], *tok, *br, *save;
	json_t *cur, *parent, *v;
	size_t	idx;
	int	isidx;

	snprintf(buf, sizeof(buf), "%s", path);
	cur = root;
	parent = NULL;
	idx = 0;
	isidx = 0;
	tok = strtok_r(buf, ".", &save);
	v = value != NULL ? json_loads(value, JSON_DECODE_ANY, NULL) : NULL;
	if (value != NULL)
		assert_non_null(v);
	while (tok != NULL) {
		char *next = strtok_r(NULL, ".", &save);

		br = strchr(tok, '[');
		if (br != NULL)
			*br = '\0';
		parent = cur;
		isidx = 0;
		if (next == NULL && br == NULL) {
			if (v == NULL)
				json_object_del(parent, tok);
			else
				json_object_set_new(parent, tok, v);
			return;
		}
		cur = json_object_get(parent, tok);
		assert_non_null(cur);
		while (br != NULL) {
			idx = strtoul(br + 1, NULL, 10);
			br = strchr(br + 1, '[');
			if (next == NULL && br == NULL) {
				if (v == NULL)
					json_array_remove(cur, idx);
				else
					json_array_set_new(cur, idx, v);
				return;
			}
			cur = json_array_get(cur, idx);
			assert_non_null(cur);
		}
		tok = next;
	}
	(void)isidx;
	fail_msg("bad path %s", path);
}

/* Decode base(k) with path set to value; expect failure naming field. */
static void
expect_field(enum kind k, const char *path, const char *value,
    const char *field)
{
	struct agentproto_err err;
	json_t		     *j;
	char		     *s;

	j = base(k);
	set_path(j, path, value);
	s = json_dumps(j, JSON_COMPACT);
	assert_non_null(s);
	if (decode(k, s, strlen(s), &err))
		fail_msg("kind %d: %s=%s accepted", k, path,
		    value ? value : "(deleted)");
	if (strcmp(err.field, field) != 0)
		fail_msg("kind %d: %s=%s: field '%s' (%s), want '%s'", k, path,
		    value ? value : "(deleted)", err.field, err.msg, field);
	assert_true(err.msg[0] != '\0');
	free(s);
	json_decref(j);
}

static void
expect_ok(enum kind k, const char *path, const char *value)
{
	struct agentproto_err err;
	json_t		     *j;
	char		     *s;

	j = base(k);
	if (path != NULL)
		set_path(j, path, value);
	s = json_dumps(j, JSON_COMPACT);
	assert_non_null(s);
	if (!decode(k, s, strlen(s), &err))
		fail_msg("kind %d: %s=%s refused: %s: %s", k, path ? path : "-",
		    value ? value : "(deleted)", err.field, err.msg);
	free(s);
	json_decref(j);
}

/* Decode raw text; expect failure with this field and msg substring. */
static void
expect_raw(enum kind k, const char *text, size_t len, const char *field,
    const char *needle)
{
	struct agentproto_err err;

	if (decode(k, text, len, &err))
		fail_msg("kind %d: raw input accepted", k);
	assert_string_equal(err.field, field);
	if (needle != NULL && strstr(err.msg, needle) == NULL)
		fail_msg("expected '%s' in '%s'", needle, err.msg);
}

static void
fill_facts(struct agentproto_facts *f)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	snprintf(f->hostname, sizeof(f->hostname), "app-01");
	snprintf(f->os, sizeof(f->os), "Debian GNU/Linux 12 (bookworm) é");
	snprintf(f->os_family, sizeof(f->os_family), "windows");
	snprintf(f->kernel, sizeof(f->kernel), "6.1.0-18-amd64");
	snprintf(f->arch, sizeof(f->arch), "x86_64");
	f->cpus = 4;
	f->mem_total = 8231440384LL;
	snprintf(f->boot_id, sizeof(f->boot_id), "4f1c");
	f->uptime = 86400;
	snprintf(f->agent_version, sizeof(f->agent_version), "0.1.0");
	f->ndisks = AGENTPROTO_DISKS_MAX;
	for (i = 0; i < f->ndisks; i++) {
		snprintf(f->disks[i].path, sizeof(f->disks[i].path), "/d%zu",
		    i);
		f->disks[i].total = (int64_t)i * 1000 + 1;
		f->disks[i].free = (int64_t)i;
	}
	f->has_policy = 1;
	f->policy.nroots = AGENTPROTO_POLICY_ROOTS_MAX;
	for (i = 0; i < f->policy.nroots; i++) {
		snprintf(f->policy.roots[i].path,
		    sizeof(f->policy.roots[i].path), "/srv/r%zu", i);
		snprintf(f->policy.roots[i].user,
		    sizeof(f->policy.roots[i].user), "%s",
		    i == 1 ? "root" : "yard-task");
	}
	snprintf(f->policy.user, sizeof(f->policy.user), "yard-task");
	f->policy.nkinds = 2;
	snprintf(f->policy.kinds[0].kind, sizeof(f->policy.kinds[0].kind),
	    "tomcat");
	snprintf(f->policy.kinds[0].user, sizeof(f->policy.kinds[0].user),
	    "tomcat");
	snprintf(f->policy.kinds[1].kind, sizeof(f->policy.kinds[1].kind),
	    "jar");
	snprintf(f->policy.kinds[1].user, sizeof(f->policy.kinds[1].user),
	    "java-apps");
	f->policy.nrefuse_env = 2;
	snprintf(f->policy.refuse_env[0], sizeof(f->policy.refuse_env[0]),
	    "LD_*");
	snprintf(f->policy.refuse_env[1], sizeof(f->policy.refuse_env[1]),
	    "JAVA_TOOL_OPTIONS");
	f->policy.tasks = 256;
	f->policy.log_bytes = 10485760;
}

static void
assert_facts_equal(const struct agentproto_facts *a,
    const struct agentproto_facts		 *b)
{
	size_t i;

	assert_string_equal(a->hostname, b->hostname);
	assert_string_equal(a->os, b->os);
	assert_string_equal(a->os_family, b->os_family);
	assert_string_equal(a->kernel, b->kernel);
	assert_string_equal(a->arch, b->arch);
	assert_int_equal(a->cpus, b->cpus);
	assert_int_equal(a->mem_total, b->mem_total);
	assert_string_equal(a->boot_id, b->boot_id);
	assert_int_equal(a->uptime, b->uptime);
	assert_string_equal(a->agent_version, b->agent_version);
	assert_int_equal(a->ndisks, b->ndisks);
	for (i = 0; i < a->ndisks; i++) {
		assert_string_equal(a->disks[i].path, b->disks[i].path);
		assert_int_equal(a->disks[i].total, b->disks[i].total);
		assert_int_equal(a->disks[i].free, b->disks[i].free);
	}
	assert_int_equal(a->has_policy, b->has_policy);
	assert_int_equal(a->policy.nroots, b->policy.nroots);
	for (i = 0; i < a->policy.nroots; i++) {
		assert_string_equal(a->policy.roots[i].path,
		    b->policy.roots[i].path);
		assert_string_equal(a->policy.roots[i].user,
		    b->policy.roots[i].user);
	}
	assert_string_equal(a->policy.user, b->policy.user);
	assert_int_equal(a->policy.nkinds, b->policy.nkinds);
	/* kinds is a JSON object: its order may change. */
	for (i = 0; i < a->policy.nkinds; i++) {
		size_t j;

		for (j = 0; j < b->policy.nkinds; j++) {
			if (strcmp(a->policy.kinds[i].kind,
				b->policy.kinds[j].kind) == 0)
				break;
		}
		assert_true(j < b->policy.nkinds);
		assert_string_equal(a->policy.kinds[i].user,
		    b->policy.kinds[j].user);
	}
	assert_int_equal(a->policy.nrefuse_env, b->policy.nrefuse_env);
	for (i = 0; i < a->policy.nrefuse_env; i++)
		assert_string_equal(a->policy.refuse_env[i],
		    b->policy.refuse_env[i]);
	assert_int_equal(a->policy.tasks, b->policy.tasks);
	assert_int_equal(a->policy.log_bytes, b->policy.log_bytes);
}

static void
test_agentproto_enroll_roundtrip(void **state)
{
	struct agentproto_enroll_req  in, out;
	struct agentproto_enroll_resp rin, rout;
	struct agentproto_err	      err;
	char			     *s;

	memset(&in, 0, sizeof(in));
	snprintf(in.token, sizeof(in.token), "AbC-_09");
	fill_facts(&in.facts);
	s = agentproto_enroll_req_encode(&in);
	assert_non_null(s);
	assert_int_equal(agentproto_enroll_req_decode(s, strlen(s), &out, &err),
	    1);
	assert_string_equal(out.token, in.token);
	assert_facts_equal(&in.facts, &out.facts);
	free(s);

	memset(&rin, 0, sizeof(rin));
	rin.node_id = AGENTPROTO_NODE_ID_MAX;
	snprintf(rin.secret, sizeof(rin.secret), "%s", SECRET);
	rin.heartbeat_interval = 7;
	rin.poll_timeout = 60;
	s = agentproto_enroll_resp_encode(&rin);
	assert_non_null(s);
	assert_int_equal(agentproto_enroll_resp_decode(s, strlen(s), &rout,
			     &err),
	    1);
	assert_int_equal(rout.node_id, AGENTPROTO_NODE_ID_MAX);
	assert_string_equal(rout.secret, SECRET);
	assert_int_equal(rout.heartbeat_interval, 7);
	assert_int_equal(rout.poll_timeout, 60);
	free(s);
}

static void
test_agentproto_enroll_resp_defaults(void **state)
{
	struct agentproto_enroll_resp r;
	struct agentproto_err	      err;
	const char		     *s = "{\"v\":1,\"node_id\":3,"
					  "\"secret\":\"" SECRET "\"}";

	assert_int_equal(agentproto_enroll_resp_decode(s, strlen(s), &r, &err),
	    1);
	assert_int_equal(r.heartbeat_interval, AGENTPROTO_INTERVAL_DEF);
	assert_int_equal(r.poll_timeout, AGENTPROTO_WAIT_DEF);
}

static void
test_agentproto_heartbeat_roundtrip(void **state)
{
	struct agentproto_heartbeat *in, *out;
	struct agentproto_err	     err;
	char			    *s;
	size_t			     i;

	in = calloc(1, sizeof(*in));
	out = calloc(1, sizeof(*out));
	assert_non_null(in);
	assert_non_null(out);
	in->seq = 1042;
	in->time = 1795468349;
	fill_facts(&in->facts);
	in->metrics.cpu = 12.5;
	in->metrics.mem_used = 2101000192;
	in->metrics.mem_total = 8231440384LL;
	in->metrics.load1 = 0.42;
	in->metrics.load5 = 0.3;
	in->metrics.load15 = 100;
	in->nbacklog = AGENTPROTO_BACKLOG_MAX;
	for (i = 0; i < in->nbacklog; i++) {
		in->backlog[i].time = (int64_t)i;
		in->backlog[i].metrics = in->metrics;
		in->backlog[i].metrics.cpu = (double)i / 2;
	}
	s = agentproto_heartbeat_encode(in);
	assert_non_null(s);
	/* Reals keep a short form on the wire. */
	assert_non_null(strstr(s, "\"load1\":0.42,"));
	assert_true(strlen(s) < AGENTPROTO_BODY_MAX);
	assert_int_equal(agentproto_heartbeat_decode(s, strlen(s), out, &err),
	    1);
	assert_int_equal(out->seq, 1042);
	assert_int_equal(out->time, 1795468349);
	assert_facts_equal(&in->facts, &out->facts);
	assert_true(out->metrics.cpu == 12.5);
	assert_int_equal(out->metrics.mem_used, 2101000192);
	assert_true(out->metrics.load1 == 0.42);
	assert_true(out->metrics.load15 == 100);
	assert_non_null(out->tasks);
	assert_true(json_is_array(out->tasks));
	assert_int_equal(json_array_size(out->tasks), 0);
	assert_int_equal(out->nbacklog, AGENTPROTO_BACKLOG_MAX);
	assert_int_equal(out->backlog[119].time, 119);
	assert_true(out->backlog[3].metrics.cpu == 1.5);
	agentproto_heartbeat_cleanup(out);
	agentproto_heartbeat_cleanup(out);
	assert_null(out->tasks);
	free(s);
	free(in);
	free(out);
}

static void
test_agentproto_heartbeat_optional(void **state)
{
	/* tasks and backlog may be absent; disks too. */
	expect_ok(K_HEARTBEAT, "tasks", NULL);
	expect_ok(K_HEARTBEAT, "backlog", NULL);
	expect_ok(K_HEARTBEAT, "facts.disks", NULL);
	/* Older agents report no policy. */
	expect_ok(K_HEARTBEAT, "facts.policy", NULL);
	expect_ok(K_ENROLL_REQ, "facts.policy", NULL);
	expect_ok(K_ENROLL_REQ, "facts.policy.kinds", "{}");
	expect_ok(K_ENROLL_REQ, "facts.policy.refuse_env", "[]");
	expect_ok(K_HEARTBEAT, "tasks",
	    "[{\"id\":1,\"state\":\"running\",\"pid\":42,"
	    "\"started_at\":1795468349000,\"cpu\":3.5,\"rss\":1000,"
	    "\"threads\":4,\"restarts\":0,\"future\":1},"
	    "{\"id\":2,\"state\":\"failed\",\"exit_status\":3}]");
	/* health_fails: optional (older agents), a count when present. */
	expect_ok(K_HEARTBEAT, "tasks",
	    "[{\"id\":1,\"state\":\"unhealthy\",\"health\":\"failing\","
	    "\"health_fails\":4},{\"id\":2,\"state\":\"running\","
	    "\"health_fails\":0}]");
	expect_ok(K_HEARTBEAT, "metrics.cpu", "0");
	expect_ok(K_HEARTBEAT, "metrics.cpu", "100");
	expect_ok(K_HEARTBEAT, "facts.hostname", "\"\"");
}

/* One task status array: 1, or 0 with err (the field and message). */
static int
status_check(const char *text, struct agentproto_err *err)
{
	json_error_t je;
	json_t	    *a;
	int	     ok;

	a = json_loads(text, 0, &je);
	assert_non_null(a);
	memset(err, 0, sizeof(*err));
	ok = agentproto_task_status_check(a, err);
	json_decref(a);
	return (ok);
}

/* last_exit, last_restart, adopted_at: why a task is as it is. */
static void
test_agentproto_heartbeat_task_why(void **state)
{
	/* clang-format off */
	static const struct {
		const char *tasks, *field, *msg;
	} bad[] = {
		{ "[{\"id\":1,\"state\":\"running\",\"last_exit\":1}]",
		    "tasks[0].last_exit", "must be an object" },
		{ "[{\"id\":1,\"state\":\"running\",\"last_exit\":"
		    "{\"by\":\"self\"}}]", "tasks[0].last_exit.at", "" },
		{ "[{\"id\":1,\"state\":\"running\",\"last_exit\":"
		    "{\"at\":0,\"by\":\"self\"}}]",
		    "tasks[0].last_exit.at", "" },
		{ "[{\"id\":1,\"state\":\"running\",\"last_exit\":"
		    "{\"at\":5,\"by\":\"me\"}}]", "tasks[0].last_exit.by",
		    "must be self, stop, policy or outside" },
		{ "[{\"id\":1,\"state\":\"running\",\"last_exit\":"
		    "{\"at\":5}}]", "tasks[0].last_exit.by", "" },
		{ "[{\"id\":1,\"state\":\"running\",\"last_exit\":"
		    "{\"at\":5,\"by\":\"self\",\"status\":256}}]",
		    "tasks[0].last_exit.status", "" },
		{ "[{\"id\":1,\"state\":\"running\",\"last_exit\":"
		    "{\"at\":5,\"by\":\"self\",\"status\":\"1\"}}]",
		    "tasks[0].last_exit.status", "" },
		{ "[{\"id\":1,\"state\":\"running\",\"last_exit\":"
		    "{\"at\":5,\"by\":\"outside\",\"signal\":9}}]",
		    "tasks[0].last_exit.signal",
		    "must be a signal name such as SIGKILL" },
		{ "[{\"id\":1,\"state\":\"running\",\"last_exit\":"
		    "{\"at\":5,\"by\":\"outside\",\"signal\":\"kill\"}}]",
		    "tasks[0].last_exit.signal", "" },
		{ "[{\"id\":1,\"state\":\"running\",\"last_exit\":"
		    "{\"at\":5,\"by\":\"outside\",\"signal\":\"SIG\"}}]",
		    "tasks[0].last_exit.signal", "" },
		{ "[{\"id\":1,\"state\":\"running\",\"last_exit\":"
		    "{\"at\":5,\"by\":\"outside\",\"signal\":\"SIGKILL\","
		    "\"status\":9}}]", "tasks[0].last_exit.signal",
		    "must not come with status" },
		{ "[{\"id\":1,\"state\":\"running\",\"last_restart\":[]}]",
		    "tasks[0].last_restart", "must be an object" },
		{ "[{\"id\":1,\"state\":\"running\",\"last_restart\":"
		    "{\"at\":5,\"reason\":\"boredom\"}}]",
		    "tasks[0].last_restart.reason",
		    "must be exited, signal, health or crash_loop_cooldown" },
		{ "[{\"id\":1,\"state\":\"running\",\"last_restart\":"
		    "{\"at\":5}}]", "tasks[0].last_restart.reason", "" },
		{ "[{\"id\":1,\"state\":\"running\",\"last_restart\":"
		    "{\"at\":-5,\"reason\":\"exited\"}}]",
		    "tasks[0].last_restart.at", "" },
		{ "[{\"id\":1,\"state\":\"crash_loop\",\"last_restart\":"
		    "{\"at\":5,\"reason\":\"exited\",\"crash_loop\":1}}]",
		    "tasks[0].last_restart.crash_loop",
		    "must be true or false" },
		{ "[{\"id\":1,\"state\":\"running\",\"adopted_at\":0}]",
		    "tasks[0].adopted_at", "" },
		{ "[{\"id\":1,\"state\":\"running\","
		    "\"adopted_at\":\"now\"}]", "tasks[0].adopted_at", "" },
	};
	/* clang-format on */
	struct agentproto_err err;
	size_t		      i;

	/* Older agents send none of them. */
	assert_int_equal(status_check("[{\"id\":1,\"state\":\"running\"}]",
			     &err),
	    1);
	assert_int_equal(status_check("[{\"id\":1,\"state\":\"running\","
				      "\"pid\":7,\"restarts\":1,"
				      "\"last_exit\":{\"at\":1795468349000,"
				      "\"signal\":\"SIGKILL\","
				      "\"by\":\"outside\"},"
				      "\"last_restart\":{\"at\":1795468349100,"
				      "\"reason\":\"signal\"},"
				      "\"adopted_at\":1795468350000},"
				      "{\"id\":2,\"state\":\"crash_loop\","
				      "\"last_exit\":{\"at\":9,\"status\":3,"
				      "\"by\":\"self\"},\"last_restart\":"
				      "{\"at\":8,\"reason\":\"exited\","
				      "\"crash_loop\":true}},"
				      "{\"id\":3,\"state\":\"stopped\","
				      "\"last_exit\":{\"at\":9,"
				      "\"by\":\"stop\"}}]",
			     &err),
	    1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (status_check(bad[i].tasks, &err) != 0)
			fail_msg("accepted: %s", bad[i].tasks);
		assert_string_equal(err.field, bad[i].field);
		assert_true(err.msg[0] != '\0');
		if (bad[i].msg[0] != '\0')
			assert_string_equal(err.msg, bad[i].msg);
	}
}

static void
test_agentproto_heartbeat_resp(void **state)
{
	struct agentproto_heartbeat_resp r;
	struct agentproto_err		 err;
	char				*s;

	r.heartbeat_interval = 10;
	r.poll_timeout = 30;
	s = agentproto_heartbeat_resp_encode(&r);
	assert_non_null(s);
	memset(&r, 0xff, sizeof(r));
	assert_int_equal(agentproto_heartbeat_resp_decode(s, strlen(s), &r,
			     &err),
	    1);
	assert_int_equal(r.heartbeat_interval, 10);
	assert_int_equal(r.poll_timeout, 30);
	free(s);
	assert_int_equal(agentproto_heartbeat_resp_decode("{\"v\":1}", 7, &r,
			     &err),
	    1);
	assert_int_equal(r.heartbeat_interval, 5);
	assert_int_equal(r.poll_timeout, 25);
	expect_field(K_HEARTBEAT_RESP, "heartbeat_interval", "0",
	    "heartbeat_interval");
	expect_field(K_HEARTBEAT_RESP, "heartbeat_interval", "3601",
	    "heartbeat_interval");
	expect_field(K_HEARTBEAT_RESP, "poll_timeout", "61", "poll_timeout");
	expect_field(K_HEARTBEAT_RESP, "poll_timeout", "\"25\"",
	    "poll_timeout");
}

static void
test_agentproto_poll_roundtrip(void **state)
{
	struct agentproto_poll	  in, out;
	struct agentproto_command cmds[2];
	struct agentproto_err	  err;
	char			 *s;
	const char		 *raw;

	memset(cmds, 0, sizeof(cmds));
	snprintf(cmds[0].id, sizeof(cmds[0].id), "%s", UUID1);
	cmds[0].seq = 7;
	snprintf(cmds[0].type, sizeof(cmds[0].type), "ping");
	snprintf(cmds[0].issued_at, sizeof(cmds[0].issued_at),
	    "2026-11-23T21:40:00Z");
	snprintf(cmds[1].id, sizeof(cmds[1].id),
	    "00000000-0000-0000-0000-000000000001");
	cmds[1].seq = INT64_MAX;
	snprintf(cmds[1].type, sizeof(cmds[1].type), "reconfigure");
	cmds[1].payload = json_pack("{s:i}", "x", 1);
	memset(&in, 0, sizeof(in));
	in.ncommands = 2;
	in.commands = cmds;
	s = agentproto_poll_encode(&in);
	assert_non_null(s);
	json_decref(cmds[1].payload);
	assert_int_equal(agentproto_poll_decode(s, strlen(s), &out, &err), 1);
	assert_int_equal(out.ncommands, 2);
	assert_string_equal(out.commands[0].id, UUID1);
	assert_int_equal(out.commands[0].seq, 7);
	assert_int_equal(out.commands[0].kind, AGENTPROTO_CMD_PING);
	assert_string_equal(out.commands[0].issued_at, "2026-11-23T21:40:00Z");
	assert_true(json_is_object(out.commands[0].payload));
	/* Unknown types decode but are flagged. */
	assert_int_equal(out.commands[1].kind, AGENTPROTO_CMD_UNKNOWN);
	assert_string_equal(out.commands[1].type, "reconfigure");
	assert_int_equal(out.commands[1].seq, INT64_MAX);
	assert_int_equal(json_integer_value(
			     json_object_get(out.commands[1].payload, "x")),
	    1);
	agentproto_poll_cleanup(&out);
	agentproto_poll_cleanup(&out);
	free(s);

	/* Upper-case UUIDs are folded; payload defaults to {}; empty list. */
	raw = "{\"v\":1,\"commands\":[{\"id\":"
	      "\"9B2E6F1C-1D2E-4F3A-8B4C-5D6E7F8A9B0C\",\"seq\":1,"
	      "\"type\":\"zzz\"}]}";
	assert_int_equal(agentproto_poll_decode(raw, strlen(raw), &out, &err),
	    1);
	assert_string_equal(out.commands[0].id, UUID1);
	assert_true(json_is_object(out.commands[0].payload));
	assert_int_equal(out.commands[0].kind, AGENTPROTO_CMD_UNKNOWN);
	agentproto_poll_cleanup(&out);
	raw = "{\"v\":1,\"commands\":[]}";
	assert_int_equal(agentproto_poll_decode(raw, strlen(raw), &out, &err),
	    1);
	assert_int_equal(out.ncommands, 0);
	assert_null(out.commands);
}

static void
test_agentproto_result_roundtrip(void **state)
{
	struct agentproto_result in, out;
	struct agentproto_err	 err;
	char			*s;

	memset(&in, 0, sizeof(in));
	in.state = AGENTPROTO_STATE_FAILED;
	in.has_exit_status = 1;
	in.exit_status = -1;
	in.output = strdup("line 1\nünïcode \"quoted\"\t");
	in.received_at = 1795468349123LL;
	in.has_finished_at = 1;
	in.finished_at = 1795468349125LL;
	s = agentproto_result_encode(&in);
	assert_non_null(s);
	assert_int_equal(agentproto_result_decode(s, strlen(s), &out, &err), 1);
	assert_int_equal(out.state, AGENTPROTO_STATE_FAILED);
	assert_int_equal(out.has_exit_status, 1);
	assert_int_equal(out.exit_status, -1);
	assert_string_equal(out.output, in.output);
	assert_int_equal(out.received_at, in.received_at);
	assert_int_equal(out.finished_at, in.finished_at);
	agentproto_result_cleanup(&out);
	agentproto_result_cleanup(&out);
	agentproto_result_cleanup(&in);
	free(s);

	/* running needs no finished_at nor exit_status; output optional. */
	s = "{\"v\":1,\"state\":\"running\",\"received_at\":5}";
	assert_int_equal(agentproto_result_decode(s, strlen(s), &out, &err), 1);
	assert_int_equal(out.state, AGENTPROTO_STATE_RUNNING);
	assert_int_equal(out.has_finished_at, 0);
	assert_int_equal(out.has_exit_status, 0);
	assert_null(out.output);
	agentproto_result_cleanup(&out);
	expect_field(K_RESULT, "finished_at", NULL, "finished_at");
	expect_ok(K_RESULT, "exit_status", NULL);
	expect_ok(K_RESULT, "output", NULL);

	/* received_at is optional (the protocol requires only finished_at). */
	expect_ok(K_RESULT, "received_at", NULL);
	s = "{\"v\":1,\"state\":\"succeeded\",\"finished_at\":7}";
	assert_int_equal(agentproto_result_decode(s, strlen(s), &out, &err), 1);
	assert_int_equal(out.received_at, 0);
	assert_int_equal(out.finished_at, 7);
	agentproto_result_cleanup(&out);
}

/* A result's progress and releases (deploy, update, rollback, move). */
static void
test_agentproto_result_releases(void **state)
{
	struct agentproto_result out;
	struct agentproto_err	 err;
	const char		*s;
	char			*enc;
	size_t			 i;
	/* clang-format off */
	static const struct {
		const char *json;
		const char *field;
	} bad[] = {
		{ "\"progress\":[]", "progress" },
		{ "\"progress\":{\"percent\":3}", "progress.step" },
		{ "\"progress\":{\"step\":\"dance\",\"percent\":3}", "progress.step" },
		{ "\"progress\":{\"step\":\"unpack\"}", "progress.percent" },
		{ "\"progress\":{\"step\":\"unpack\",\"percent\":101}", "progress.percent" },
		{ "\"progress\":{\"step\":\"unpack\",\"percent\":-2}", "progress.percent" },
		{ "\"progress\":{\"step\":\"unpack\",\"percent\":1.5}", "progress.percent" },
		{ "\"releases\":{}", "releases" },
		{ "\"releases\":[1]", "releases[0]" },
		{ "\"releases\":[{\"n\":-1,\"sha256\":\"\",\"state\":\"live\",\"deployed_at\":1,\"command\":\"\"}]", "releases[0].n" },
		{ "\"releases\":[{\"n\":1,\"sha256\":\"ABC\",\"state\":\"live\",\"deployed_at\":1,\"command\":\"\"}]", "releases[0].sha256" },
		{ "\"releases\":[{\"n\":1,\"sha256\":\"\",\"state\":\"gone\",\"deployed_at\":1,\"command\":\"\"}]", "releases[0].state" },
		{ "\"releases\":[{\"n\":1,\"sha256\":\"\",\"state\":\"bad\",\"deployed_at\":\"x\",\"command\":\"\"}]", "releases[0].deployed_at" },
		{ "\"releases\":[{\"n\":1,\"sha256\":\"\",\"state\":\"bad\",\"deployed_at\":1,\"command\":\"nope\"}]", "releases[0].command" },
		{ "\"releases\":[{\"n\":1,\"sha256\":\"\",\"state\":\"bad\",\"deployed_at\":1}]", "releases[0].command" },
	};
	/* clang-format on */
	char buf[1024];

	s = "{\"v\":1,\"state\":\"running\",\"progress\":{\"step\":"
	    "\"download\",\"percent\":-1},\"received_at\":5}";
	assert_int_equal(agentproto_result_decode(s, strlen(s), &out, &err), 1);
	assert_int_equal(out.has_progress, 1);
	assert_string_equal(out.progress_step, "download");
	assert_int_equal(out.progress_percent, -1);
	assert_null(out.releases);
	agentproto_result_cleanup(&out);

	s = "{\"v\":1,\"state\":\"failed\",\"finished_at\":9,"
	    "\"releases\":[{\"n\":2,\"sha256\":\"" HEX64 "\",\"state\":"
	    "\"bad\",\"deployed_at\":17,\"command\":"
	    "\"0A7C0DE0-0000-4000-8000-000000000001\",\"extra\":1},"
	    "{\"n\":0,\"sha256\":\"\",\"state\":\"live\","
	    "\"deployed_at\":3,\"command\":\"\"}]}";
	assert_int_equal(agentproto_result_decode(s, strlen(s), &out, &err), 1);
	assert_int_equal(out.has_progress, 0);
	assert_non_null(out.releases);
	enc = agentproto_result_encode(&out);
	assert_non_null(enc);
	assert_non_null(strstr(enc,
	    "\"releases\":[{\"n\":2,\"sha256\":\"" HEX64 "\",\"state\":"
	    "\"bad\",\"deployed_at\":17,\"command\":"
	    "\"0a7c0de0-0000-4000-8000-000000000001\"},{\"n\":0,\"sha256\":"
	    "\"\",\"state\":\"live\",\"deployed_at\":3,\"command\":\"\"}]"));
	free(enc);
	agentproto_result_cleanup(&out);
	agentproto_result_cleanup(&out);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(buf, sizeof(buf),
		    "{\"v\":1,\"state\":\"succeeded\",\"finished_at\":1,%s}",
		    bad[i].json);
		memset(&err, 0, sizeof(err));
		assert_int_equal(agentproto_result_decode(buf, strlen(buf),
				     &out, &err),
		    0);
		assert_string_equal(err.field, bad[i].field);
		assert_null(out.releases);
	}
}

/* A result's code and params: kept, round-tripped, refused when bad. */
static void
test_agentproto_result_code(void **state)
{
	struct agentproto_result out, out2;
	struct agentproto_err	 err;
	const char		*s;
	char			*enc;
	size_t			 i;
	/* clang-format off */
	static const struct {
		const char *json;
		const char *field;
	} bad[] = {
		{ "\"code\":7", "code" },
		{ "\"code\":\"\"", "code" },
		{ "\"code\":\"Stopped\"", "code" },
		{ "\"code\":\"stopped-signal\"", "code" },
		{ "\"code\":\"a23456789012345678901234567890123456789012345678x\"", "code" },
		{ "\"params\":{\"pid\":1}", "params" },
		{ "\"code\":\"x\",\"params\":[]", "params" },
		{ "\"code\":\"x\",\"params\":\"pid\"", "params" },
		{ "\"code\":\"x\",\"params\":{\"Pid\":1}", "params" },
		{ "\"code\":\"x\",\"params\":{\"\":1}", "params" },
		{ "\"code\":\"x\",\"params\":{\"pid\":1.5}", "params.pid" },
		{ "\"code\":\"x\",\"params\":{\"pid\":true}", "params.pid" },
		{ "\"code\":\"x\",\"params\":{\"pid\":null}", "params.pid" },
		{ "\"code\":\"x\",\"params\":{\"pid\":{}}", "params.pid" },
		{ "\"code\":\"x\",\"params\":{\"pid\":[1]}", "params.pid" },
		{ "\"code\":\"x\",\"params\":{\"s\":\"a\\u0000b\"}", "" },
		{ "\"code\":\"x\",\"params\":{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12,\"m\":13,\"n\":14,\"o\":15,\"p\":16,\"q\":17}", "params" },
	};
	/* clang-format on */
	char buf[2048], big[AGENTPROTO_PARAM_STR_MAX + 2];

	/* An old agent's result: neither. */
	s = "{\"v\":1,\"state\":\"succeeded\",\"finished_at\":9,"
	    "\"output\":\"stopped by SIGTERM in 6 ms\"}";
	assert_int_equal(agentproto_result_decode(s, strlen(s), &out, &err), 1);
	assert_string_equal(out.code, "");
	assert_null(out.params);
	enc = agentproto_result_encode(&out);
	assert_null(strstr(enc, "\"code\""));
	assert_null(strstr(enc, "\"params\""));
	free(enc);
	agentproto_result_cleanup(&out);

	/* A code alone, then with every kind of parameter. */
	s = "{\"v\":1,\"state\":\"succeeded\",\"finished_at\":9,"
	    "\"code\":\"not_running\"}";
	assert_int_equal(agentproto_result_decode(s, strlen(s), &out, &err), 1);
	assert_string_equal(out.code, "not_running");
	assert_null(out.params);
	agentproto_result_cleanup(&out);

	memset(big, 'x', AGENTPROTO_PARAM_STR_MAX);
	big[AGENTPROTO_PARAM_STR_MAX] = '\0';
	(void)snprintf(buf, sizeof(buf),
	    "{\"v\":1,\"state\":\"succeeded\",\"finished_at\":9,\"code\":"
	    "\"stopped_signal\",\"params\":{\"signal\":\"SIGTERM\","
	    "\"stop_ms\":6,\"neg\":-9007199254740993,\"why\":\"%s\","
	    "\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
	    "\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12}}",
	    big);
	assert_int_equal(agentproto_result_decode(buf, strlen(buf), &out, &err),
	    1);
	assert_string_equal(out.code, "stopped_signal");
	assert_int_equal(json_object_size(out.params), 16);
	assert_string_equal(json_string_value(
				json_object_get(out.params, "signal")),
	    "SIGTERM");
	assert_int_equal(json_integer_value(
			     json_object_get(out.params, "stop_ms")),
	    6);
	enc = agentproto_result_encode(&out);
	assert_non_null(enc);
	assert_int_equal(agentproto_result_decode(enc, strlen(enc), &out2,
			     &err),
	    1);
	assert_string_equal(out2.code, out.code);
	assert_true(json_equal(out.params, out2.params));
	free(enc);
	agentproto_result_cleanup(&out2);
	agentproto_result_cleanup(&out);
	agentproto_result_cleanup(&out);

	/* A running result (progress) may carry them too. */
	s = "{\"v\":1,\"state\":\"running\",\"progress\":{\"step\":"
	    "\"download\",\"percent\":40},\"code\":\"progress_download\","
	    "\"params\":{\"percent\":40}}";
	assert_int_equal(agentproto_result_decode(s, strlen(s), &out, &err), 1);
	assert_string_equal(out.code, "progress_download");
	agentproto_result_cleanup(&out);

	/* One byte too long. */
	big[AGENTPROTO_PARAM_STR_MAX] = 'x';
	big[AGENTPROTO_PARAM_STR_MAX + 1] = '\0';
	(void)snprintf(buf, sizeof(buf),
	    "{\"v\":1,\"state\":\"failed\",\"finished_at\":1,\"code\":\"x\","
	    "\"params\":{\"why\":\"%s\"}}",
	    big);
	assert_int_equal(agentproto_result_decode(buf, strlen(buf), &out, &err),
	    0);
	assert_string_equal(err.field, "params.why");
	assert_null(out.params);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(buf, sizeof(buf),
		    "{\"v\":1,\"state\":\"succeeded\",\"finished_at\":1,%s}",
		    bad[i].json);
		memset(&err, 0, sizeof(err));
		assert_int_equal(agentproto_result_decode(buf, strlen(buf),
				     &out, &err),
		    0);
		assert_string_equal(err.field, bad[i].field);
		assert_null(out.params);
	}
}

static void
test_agentproto_error_reply(void **state)
{
	struct agentproto_error_reply r;
	struct agentproto_err	      err;
	char			     *s;

	s = agentproto_error_encode("bad_request", NULL, "facts.disks[2].path");
	assert_non_null(s);
	assert_string_equal(s,
	    "{\"error\":\"bad_request\",\"field\":\"facts.disks[2].path\"}");
	assert_int_equal(agentproto_error_decode(s, strlen(s), &r, &err), 1);
	assert_string_equal(r.error, "bad_request");
	assert_string_equal(r.field, "facts.disks[2].path");
	assert_string_equal(r.message, "");
	free(s);
	s = "{\"error\":\"node_unauthorized\"}";
	assert_int_equal(agentproto_error_decode(s, strlen(s), &r, &err), 1);
	assert_string_equal(r.error, "node_unauthorized");
	expect_field(K_ERROR, "error", NULL, "error");
	expect_field(K_ERROR, "error", "\"\"", "error");
	expect_field(K_ERROR, "error", "7", "error");
	expect_field(K_ERROR, "message", "[]", "message");
	expect_field(K_ERROR, "field", "null", "field");
	assert_null(agentproto_error_encode(NULL, NULL, NULL));
}

/* Every member of every message, missing and of the wrong type. */
static void
test_agentproto_fields_named(void **state)
{
	static const struct {
		enum kind   k;
		const char *path;
		const char *value;
		const char *field;
	} t[] = {
		{ K_ENROLL_REQ, "v", NULL, "v" },
		{ K_ENROLL_REQ, "v", "2", "v" },
		{ K_ENROLL_REQ, "v", "\"1\"", "v" },
		{ K_ENROLL_REQ, "v", "1.0", "v" },
		{ K_ENROLL_REQ, "token", NULL, "token" },
		{ K_ENROLL_REQ, "token", "\"\"", "token" },
		{ K_ENROLL_REQ, "token", "\"a b\"", "token" },
		{ K_ENROLL_REQ, "token", "\"a+b\"", "token" },
		{ K_ENROLL_REQ, "facts", NULL, "facts" },
		{ K_ENROLL_REQ, "facts", "[]", "facts" },
		{ K_ENROLL_REQ, "facts.hostname", NULL, "facts.hostname" },
		{ K_ENROLL_REQ, "facts.hostname", "1", "facts.hostname" },
		{ K_ENROLL_REQ, "facts.os", "null", "facts.os" },
		{ K_ENROLL_REQ, "facts.kernel", "{}", "facts.kernel" },
		{ K_ENROLL_REQ, "facts.arch", NULL, "facts.arch" },
		{ K_ENROLL_REQ, "facts.cpus", "-1", "facts.cpus" },
		{ K_ENROLL_REQ, "facts.cpus", "1.5", "facts.cpus" },
		{ K_ENROLL_REQ, "facts.mem_total", "\"8\"", "facts.mem_total" },
		{ K_ENROLL_REQ, "facts.boot_id", NULL, "facts.boot_id" },
		{ K_ENROLL_REQ, "facts.uptime", "-5", "facts.uptime" },
		{ K_ENROLL_REQ, "facts.agent_version", "true",
		    "facts.agent_version" },
		{ K_ENROLL_REQ, "facts.disks", "{}", "facts.disks" },
		{ K_ENROLL_REQ, "facts.disks[1]", "\"/x\"", "facts.disks[1]" },
		{ K_ENROLL_REQ, "facts.disks[2].path", NULL,
		    "facts.disks[2].path" },
		{ K_ENROLL_REQ, "facts.disks[2].path", "\"\"",
		    "facts.disks[2].path" },
		{ K_ENROLL_REQ, "facts.disks[2].path", "5",
		    "facts.disks[2].path" },
		{ K_ENROLL_REQ, "facts.disks[0].total", "-1",
		    "facts.disks[0].total" },
		{ K_ENROLL_REQ, "facts.disks[1].free", NULL,
		    "facts.disks[1].free" },
		{ K_ENROLL_REQ, "facts.policy", "[]", "facts.policy" },
		{ K_ENROLL_REQ, "facts.policy.roots", NULL,
		    "facts.policy.roots" },
		{ K_ENROLL_REQ, "facts.policy.roots", "{}",
		    "facts.policy.roots" },
		{ K_ENROLL_REQ, "facts.policy.roots[1]", "\"/x\"",
		    "facts.policy.roots[1]" },
		{ K_ENROLL_REQ, "facts.policy.roots[0].path", "\"\"",
		    "facts.policy.roots[0].path" },
		{ K_ENROLL_REQ, "facts.policy.roots[1].user", NULL,
		    "facts.policy.roots[1].user" },
		{ K_ENROLL_REQ, "facts.policy.user", "5", "facts.policy.user" },
		{ K_ENROLL_REQ, "facts.policy.user",
		    "\"abcdefghijklmnopqrstuvwxyz0123456\"",
		    "facts.policy.user" },
		{ K_ENROLL_REQ, "facts.policy.kinds", "[]",
		    "facts.policy.kinds" },
		{ K_ENROLL_REQ, "facts.policy.kinds.tomcat", "\"tomcat\"",
		    "facts.policy.kinds.tomcat" },
		{ K_ENROLL_REQ, "facts.policy.kinds.tomcat.user", NULL,
		    "facts.policy.kinds.tomcat.user" },
		{ K_ENROLL_REQ, "facts.policy.kinds.Tom Cat", "{}",
		    "facts.policy.kinds" },
		{ K_ENROLL_REQ, "facts.policy.refuse_env", "[\"\"]",
		    "facts.policy.refuse_env[0]" },
		{ K_ENROLL_REQ, "facts.policy.refuse_env", "\"LD_*\"",
		    "facts.policy.refuse_env" },
		{ K_ENROLL_REQ, "facts.policy.limits", NULL,
		    "facts.policy.limits" },
		{ K_ENROLL_REQ, "facts.policy.limits.tasks", "-1",
		    "facts.policy.limits.tasks" },
		{ K_ENROLL_REQ, "facts.policy.limits.log_bytes", "\"1\"",
		    "facts.policy.limits.log_bytes" },
		{ K_HEARTBEAT, "facts.policy.roots[0].path", "1",
		    "facts.policy.roots[0].path" },
		{ K_ENROLL_RESP, "v", NULL, "v" },
		{ K_ENROLL_RESP, "node_id", NULL, "node_id" },
		{ K_ENROLL_RESP, "node_id", "0", "node_id" },
		{ K_ENROLL_RESP, "node_id", "-3", "node_id" },
		{ K_ENROLL_RESP, "node_id", "9007199254740993", "node_id" },
		{ K_ENROLL_RESP, "node_id", "\"12\"", "node_id" },
		{ K_ENROLL_RESP, "secret", NULL, "secret" },
		{ K_ENROLL_RESP, "secret", "\"short\"", "secret" },
		{ K_ENROLL_RESP, "secret",
		    "\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123+/x\"",
		    "secret" },
		{ K_ENROLL_RESP, "secret",
		    "\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_xy\"",
		    "secret" },
		{ K_ENROLL_RESP, "heartbeat_interval", "0",
		    "heartbeat_interval" },
		{ K_ENROLL_RESP, "poll_timeout", "-1", "poll_timeout" },
		{ K_HEARTBEAT, "v", "0", "v" },
		{ K_HEARTBEAT, "seq", NULL, "seq" },
		{ K_HEARTBEAT, "seq", "0", "seq" },
		{ K_HEARTBEAT, "seq", "-1", "seq" },
		{ K_HEARTBEAT, "time", NULL, "time" },
		{ K_HEARTBEAT, "time", "-1", "time" },
		{ K_HEARTBEAT, "time", "1.5", "time" },
		{ K_HEARTBEAT, "facts", NULL, "facts" },
		{ K_HEARTBEAT, "facts.disks[2].path", "[]",
		    "facts.disks[2].path" },
		{ K_HEARTBEAT, "metrics", NULL, "metrics" },
		{ K_HEARTBEAT, "metrics", "1", "metrics" },
		{ K_HEARTBEAT, "metrics.cpu", NULL, "metrics.cpu" },
		{ K_HEARTBEAT, "metrics.cpu", "100.5", "metrics.cpu" },
		{ K_HEARTBEAT, "metrics.cpu", "-0.1", "metrics.cpu" },
		{ K_HEARTBEAT, "metrics.cpu", "\"1\"", "metrics.cpu" },
		{ K_HEARTBEAT, "metrics.mem_used", "-1", "metrics.mem_used" },
		{ K_HEARTBEAT, "metrics.mem_used", "1.5", "metrics.mem_used" },
		{ K_HEARTBEAT, "metrics.mem_total", NULL, "metrics.mem_total" },
		{ K_HEARTBEAT, "metrics.load1", "-1", "metrics.load1" },
		{ K_HEARTBEAT, "metrics.load5", "null", "metrics.load5" },
		{ K_HEARTBEAT, "metrics.load15", "1e10", "metrics.load15" },
		{ K_HEARTBEAT, "tasks", "{}", "tasks" },
		{ K_HEARTBEAT, "tasks", "[2]", "tasks[0]" },
		{ K_HEARTBEAT, "tasks", "[{\"id\":1}]", "tasks[0].state" },
		{ K_HEARTBEAT, "tasks", "[{\"id\":0,\"state\":\"running\"}]",
		    "tasks[0].id" },
		{ K_HEARTBEAT, "tasks",
		    "[{\"id\":1,\"state\":\"running\",\"pid\":-1}]",
		    "tasks[0].pid" },
		{ K_HEARTBEAT, "tasks",
		    "[{\"id\":1,\"state\":\"running\",\"health\":\"meh\"}]",
		    "tasks[0].health" },
		{ K_HEARTBEAT, "tasks",
		    "[{\"id\":1,\"state\":\"running\",\"health_fails\":-1}]",
		    "tasks[0].health_fails" },
		{ K_HEARTBEAT, "tasks",
		    "[{\"id\":1,\"state\":\"running\",\"health_fails\":\"3\"}]",
		    "tasks[0].health_fails" },
		{ K_HEARTBEAT, "tasks",
		    "[{\"id\":1,\"state\":\"running\",\"health_fails\":1.5}]",
		    "tasks[0].health_fails" },
		{ K_HEARTBEAT, "tasks", "[{\"id\":1,\"state\":\"dancing\"}]",
		    "tasks[0].state" },
		{ K_HEARTBEAT, "tasks", "null", "tasks" },
		{ K_HEARTBEAT, "backlog", "{}", "backlog" },
		{ K_HEARTBEAT, "backlog[1]", "[]", "backlog[1]" },
		{ K_HEARTBEAT, "backlog[1].time", NULL, "backlog[1].time" },
		{ K_HEARTBEAT, "backlog[0].time", "-1", "backlog[0].time" },
		{ K_HEARTBEAT, "backlog[1].metrics", NULL,
		    "backlog[1].metrics" },
		{ K_HEARTBEAT, "backlog[1].metrics", "[]",
		    "backlog[1].metrics" },
		{ K_HEARTBEAT, "backlog[1].metrics.load15", "-2",
		    "backlog[1].metrics.load15" },
		{ K_HEARTBEAT_RESP, "v", "\"x\"", "v" },
		{ K_POLL, "v", NULL, "v" },
		{ K_POLL, "commands", NULL, "commands" },
		{ K_POLL, "commands", "{}", "commands" },
		{ K_POLL, "commands[1]", "5", "commands[1]" },
		{ K_POLL, "commands[0].id", NULL, "commands[0].id" },
		{ K_POLL, "commands[0].id", "7", "commands[0].id" },
		{ K_POLL, "commands[1].id", "\"9b2e6f1c-1d2e-4f3a-8b4c\"",
		    "commands[1].id" },
		{ K_POLL, "commands[1].id",
		    "\"9b2e6f1c-1d2e-4f3a-8b4c-5d6e7f8a9b0g\"",
		    "commands[1].id" },
		{ K_POLL, "commands[1].id",
		    "\"9b2e6f1c11d2e-4f3a-8b4c-5d6e7f8a9b0c\"",
		    "commands[1].id" },
		{ K_POLL, "commands[0].seq", NULL, "commands[0].seq" },
		{ K_POLL, "commands[0].seq", "0", "commands[0].seq" },
		{ K_POLL, "commands[0].seq", "-7", "commands[0].seq" },
		{ K_POLL, "commands[0].seq", "7.0", "commands[0].seq" },
		{ K_POLL, "commands[1].type", NULL, "commands[1].type" },
		{ K_POLL, "commands[1].type", "\"\"", "commands[1].type" },
		{ K_POLL, "commands[1].type", "\"Ping\"", "commands[1].type" },
		{ K_POLL, "commands[1].type", "\"p i\"", "commands[1].type" },
		{ K_POLL, "commands[1].type",
		    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
		    "commands[1].type" },
		{ K_POLL, "commands[1].type", "1", "commands[1].type" },
		{ K_POLL, "commands[0].payload", "[]", "commands[0].payload" },
		{ K_POLL, "commands[0].payload", "null",
		    "commands[0].payload" },
		{ K_POLL, "commands[0].issued_at", "1",
		    "commands[0].issued_at" },
		{ K_RESULT, "v", NULL, "v" },
		{ K_RESULT, "state", NULL, "state" },
		{ K_RESULT, "state", "\"done\"", "state" },
		{ K_RESULT, "state", "\"\"", "state" },
		{ K_RESULT, "state", "1", "state" },
		{ K_RESULT, "exit_status", "\"0\"", "exit_status" },
		{ K_RESULT, "exit_status", "2147483648", "exit_status" },
		{ K_RESULT, "exit_status", "-2147483649", "exit_status" },
		{ K_RESULT, "output", "[]", "output" },
		{ K_RESULT, "output", "null", "output" },
		{ K_RESULT, "received_at", "-1", "received_at" },
		{ K_RESULT, "finished_at", "-1", "finished_at" },
		{ K_RESULT, "finished_at", "1.5", "finished_at" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		expect_field(t[i].k, t[i].path, t[i].value, t[i].field);
}

static void
test_agentproto_bases_ok(void **state)
{
	enum kind k;

	for (k = K_ENROLL_REQ; k <= K_ERROR; k++)
		expect_ok(k, NULL, NULL);
	/* Edges that must pass. */
	expect_ok(K_ENROLL_RESP, "node_id", "9007199254740992");
	expect_ok(K_ENROLL_RESP, "node_id", "1");
	expect_ok(K_RESULT, "exit_status", "2147483647");
	expect_ok(K_RESULT, "exit_status", "-2147483648");
	expect_ok(K_POLL, "commands[0].seq", "9223372036854775807");
	expect_ok(K_HEARTBEAT, "metrics.load1", "0");
	expect_ok(K_HEARTBEAT, "facts.mem_total", "9223372036854775807");
}

static char *
string_of(size_t n, char c)
{
	char *s;

	s = malloc(n + 3);
	assert_non_null(s);
	s[0] = '"';
	memset(s + 1, c, n);
	s[n + 1] = '"';
	s[n + 2] = '\0';
	return (s);
}

static void
check_len(enum kind k, const char *path, size_t max, char c)
{
	char *s;

	s = string_of(max, c);
	expect_ok(k, path, s);
	free(s);
	s = string_of(max + 1, c);
	expect_field(k, path, s, path);
	free(s);
}

static void
test_agentproto_caps(void **state)
{
	struct agentproto_err err;
	json_t		     *j, *a;
	char		     *s, *big;
	size_t		      i, len;

	check_len(K_ENROLL_REQ, "facts.hostname", 255, 'h');
	check_len(K_ENROLL_REQ, "facts.os", 255, 'o');
	check_len(K_ENROLL_REQ, "facts.kernel", 255, 'k');
	check_len(K_ENROLL_REQ, "facts.arch", 255, 'a');
	check_len(K_ENROLL_REQ, "facts.agent_version", 255, 'v');
	check_len(K_ENROLL_REQ, "facts.boot_id", 64, 'b');
	check_len(K_ENROLL_REQ, "facts.disks[0].path", 255, 'p');
	check_len(K_ENROLL_REQ, "token", AGENTPROTO_TOKEN_MAX, 't');
	check_len(K_HEARTBEAT, "facts.hostname", 255, 'h');
	check_len(K_RESULT, "output", AGENTPROTO_OUTPUT_MAX, 'x');
	check_len(K_POLL, "commands[0].issued_at", 64, '1');
	check_len(K_ERROR, "error", AGENTPROTO_ERROR_MAX, 'e');
	check_len(K_ERROR, "message", AGENTPROTO_MESSAGE_MAX, 'm');

	/* Multi-byte characters count in bytes: 128 x 2 bytes > 255. */
	big = malloc(2 * 128 + 3);
	assert_non_null(big);
	big[0] = '"';
	for (i = 0; i < 128; i++)
		memcpy(big + 1 + 2 * i, "\xc3\xa9", 2);
	strcpy(big + 1 + 256, "\"");
	expect_field(K_ENROLL_REQ, "facts.os", big, "facts.os");
	free(big);

	/* 16 disks pass, 17 do not. */
	j = base(K_ENROLL_REQ);
	a = json_object_get(json_object_get(j, "facts"), "disks");
	while (json_array_size(a) < AGENTPROTO_DISKS_MAX)
		json_array_append(a, json_array_get(a, 0));
	s = json_dumps(j, 0);
	assert_int_equal(decode(K_ENROLL_REQ, s, strlen(s), &err), 1);
	free(s);
	json_array_append(a, json_array_get(a, 0));
	s = json_dumps(j, 0);
	assert_int_equal(decode(K_ENROLL_REQ, s, strlen(s), &err), 0);
	assert_string_equal(err.field, "facts.disks");
	free(s);
	json_decref(j);

	/* 120 backlog samples pass, 121 do not. */
	j = base(K_HEARTBEAT);
	a = json_object_get(j, "backlog");
	while (json_array_size(a) < AGENTPROTO_BACKLOG_MAX)
		json_array_append(a, json_array_get(a, 0));
	s = json_dumps(j, 0);
	assert_int_equal(decode(K_HEARTBEAT, s, strlen(s), &err), 1);
	free(s);
	json_array_append(a, json_array_get(a, 0));
	s = json_dumps(j, 0);
	assert_int_equal(decode(K_HEARTBEAT, s, strlen(s), &err), 0);
	assert_string_equal(err.field, "backlog");
	free(s);
	json_decref(j);

	/* Tasks capped. */
	j = base(K_HEARTBEAT);
	a = json_object_get(j, "tasks");
	for (i = 0; i <= AGENTPROTO_TASKS_MAX; i++)
		json_array_append_new(a, json_object());
	s = json_dumps(j, 0);
	assert_int_equal(decode(K_HEARTBEAT, s, strlen(s), &err), 0);
	assert_string_equal(err.field, "tasks");
	free(s);
	json_decref(j);

	/* Commands capped. */
	j = base(K_POLL);
	a = json_object_get(j, "commands");
	while (json_array_size(a) < AGENTPROTO_COMMANDS_MAX)
		json_array_append(a, json_array_get(a, 0));
	s = json_dumps(j, 0);
	assert_int_equal(decode(K_POLL, s, strlen(s), &err), 1);
	free(s);
	json_array_append(a, json_array_get(a, 0));
	s = json_dumps(j, 0);
	assert_int_equal(decode(K_POLL, s, strlen(s), &err), 0);
	assert_string_equal(err.field, "commands");
	free(s);
	json_decref(j);

	/* A body over 256 KiB is refused before parsing, even if valid;
	 * a commands answer may be larger (configurations), to 32 MiB. */
	len = AGENTPROTO_POLL_MAX + 1;
	big = malloc(len + 1);
	assert_non_null(big);
	memset(big, ' ', len);
	memcpy(big, "{\"v\":1,\"commands\":[]}", 21);
	big[len] = '\0';
	expect_raw(K_HEARTBEAT_RESP, big, AGENTPROTO_BODY_MAX + 1, "",
	    "larger");
	assert_int_equal(decode(K_POLL, big, AGENTPROTO_BODY_MAX + 1, &err), 1);
	expect_raw(K_POLL, big, len, "", "larger");
	/* Exactly 32 MiB of the same is fine. */
	assert_int_equal(decode(K_POLL, big, len - 1, &err), 1);
	free(big);
}

static void
test_agentproto_duplicates(void **state)
{
	const char *s;

	s = "{\"v\":1,\"v\":1,\"commands\":[]}";
	expect_raw(K_POLL, s, strlen(s), "", "duplicate");
	s = "{\"v\":1,\"commands\":[{\"id\":\"" UUID1 "\",\"seq\":1,"
	    "\"seq\":2,\"type\":\"ping\"}]}";
	expect_raw(K_POLL, s, strlen(s), "", "duplicate");
	s = "{\"v\":1,\"state\":\"failed\",\"state\":\"succeeded\","
	    "\"received_at\":1,\"finished_at\":2}";
	expect_raw(K_RESULT, s, strlen(s), "", "duplicate");
	s = "{\"v\":1,\"node_id\":1,\"secret\":\"" SECRET "\","
	    "\"secret\":\"" SECRET "\"}";
	expect_raw(K_ENROLL_RESP, s, strlen(s), "", "duplicate");
}

static void
test_agentproto_bad_json(void **state)
{
	struct agentproto_err err;
	const char	     *s;
	enum kind	      k;

	for (k = K_ENROLL_REQ; k <= K_ERROR; k++) {
		expect_raw(k, "", 0, "", "invalid JSON");
		expect_raw(k, NULL, 0, "", "invalid JSON");
		expect_raw(k, "[]", 2, "", "object");
		expect_raw(k, "{", 1, "", "invalid JSON");
		expect_raw(k, "{\"v\":1}x", 8, "", "invalid JSON");
		/* Non-UTF-8 anywhere: jansson refuses. */
		s = "{\"v\":1,\"x\":\"\xff\"}";
		expect_raw(k, s, strlen(s), "", "invalid JSON");
		s = "{\"v\":1,\"x\":\"\xc0\xaf\"}";
		expect_raw(k, s, strlen(s), "", "invalid JSON");
		/* An embedded NUL (raw or escaped) is refused too. */
		expect_raw(k, "{\"v\":1}\0", 8, "", "invalid JSON");
		s = "{\"error\":\"a\\u0000b\",\"v\":1}";
		expect_raw(k, s, strlen(s), "", "invalid JSON");
	}
	/* Huge numbers: jansson refuses integers over int64 and reals that
	 * overflow a double. */
	s = "{\"v\":1,\"node_id\":99999999999999999999,\"secret\":\"" SECRET
	    "\"}";
	expect_raw(K_ENROLL_RESP, s, strlen(s), "", "invalid JSON");
	s = "{\"v\":1,\"seq\":1,\"time\":1e400}";
	expect_raw(K_HEARTBEAT, s, strlen(s), "", "invalid JSON");
	expect_field(K_POLL, "commands[0].seq", "-9223372036854775808",
	    "commands[0].seq");
	/* Error text is sanitised to printable ASCII. */
	assert_int_equal(decode(K_POLL, "\x01\x02", 2, &err), 0);
	for (s = err.msg; *s != '\0'; s++)
		assert_true(*s >= 0x20 && *s < 0x7f);
	/* err may be NULL. */
	{
		struct agentproto_poll p;

		assert_int_equal(agentproto_poll_decode("{", 1, &p, NULL), 0);
	}
}

static void
test_agentproto_unknown_members(void **state)
{
	expect_ok(K_ENROLL_REQ, "extra", "{\"nested\":[1,2,{\"a\":null}]}");
	expect_ok(K_ENROLL_REQ, "facts.gpu", "\"none\"");
	expect_ok(K_ENROLL_REQ, "facts.disks[0].inodes", "5");
	expect_ok(K_ENROLL_RESP, "new_thing", "true");
	expect_ok(K_HEARTBEAT, "metrics.swap", "1");
	expect_ok(K_HEARTBEAT, "backlog[0].boot_id", "\"x\"");
	expect_ok(K_POLL, "commands[0].deadline", "\"2026\"");
	expect_ok(K_RESULT, "task_id", "7");
	expect_ok(K_ERROR, "v", "1");
}

static void
test_agentproto_auth(void **state)
{
	static const char *bad[] = {
		"",
		"YardNode",
		"YardNode ",
		"YardNode 12",
		"YardNode 12:",
		"YardNode :" SECRET,
		"YardNode 0:" SECRET,
		"YardNode 012:" SECRET,
		"YardNode -1:" SECRET,
		"YardNode +1:" SECRET,
		"YardNode 9007199254740993:" SECRET,
		"YardNode 99999999999999999999:" SECRET,
		"YardNode 12:" SECRET "x",
		"YardNode 12:" SECRET " ",
		"YardNode 12:abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_",
		"YardNode 12:abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-=x",
		"YardNode  12:" SECRET,
		"YardNode\t12:" SECRET,
		"Bearer 12:" SECRET,
		"YardNodes 12:" SECRET,
	};
	struct agentproto_err err;
	char		      secret[AGENTPROTO_SECRET_LEN + 1], buf[128];
	int64_t		      id;
	size_t		      i;

	assert_int_equal(agentproto_auth_parse("YardNode 12:" SECRET, &id,
			     secret, &err),
	    1);
	assert_int_equal(id, 12);
	assert_string_equal(secret, SECRET);
	assert_int_equal(
	    agentproto_auth_parse("yardnode 9007199254740992:" SECRET, &id,
		secret, &err),
	    1);
	assert_int_equal(id, AGENTPROTO_NODE_ID_MAX);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (agentproto_auth_parse(bad[i], &id, secret, &err))
			fail_msg("accepted '%s'", bad[i]);
		assert_string_equal(err.field, "authorization");
		assert_int_equal(id, 0);
		assert_string_equal(secret, "");
	}
	assert_int_equal(agentproto_auth_parse(NULL, &id, secret, &err), 0);

	assert_int_equal(agentproto_auth_format(buf, sizeof(buf), 12, SECRET),
	    1);
	assert_string_equal(buf, "YardNode 12:" SECRET);
	assert_int_equal(agentproto_auth_parse(buf, &id, secret, &err), 1);
	assert_int_equal(agentproto_auth_format(buf, 20, 12, SECRET), 0);
	assert_int_equal(agentproto_auth_format(buf, sizeof(buf), 0, SECRET),
	    0);
	assert_int_equal(agentproto_auth_format(buf, sizeof(buf), 1, "x"), 0);
}

static void
test_agentproto_encode_failures(void **state)
{
	struct agentproto_result     r;
	struct agentproto_heartbeat *h;
	char			    *s;

	memset(&r, 0, sizeof(r));
	r.state = AGENTPROTO_STATE_SUCCEEDED;
	r.output = strdup("bad \xff byte");
	assert_null(agentproto_result_encode(&r));
	agentproto_result_cleanup(&r);

	h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->seq = 1;
	h->metrics.cpu = 0.0 / 0.0;
	assert_null(agentproto_heartbeat_encode(h));
	h->metrics.cpu = 1;
	s = agentproto_heartbeat_encode(h);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"tasks\":[]"));
	free(s);
	free(h);
}

static void
test_agentproto_utf8_clean(void **state)
{
	char   out[16];
	size_t n;

	n = agentproto_utf8_clean(out, sizeof(out), "ab\tc\n", 5);
	assert_string_equal(out, "ab\tc\n");
	assert_int_equal(n, 5);
	agentproto_utf8_clean(out, sizeof(out),
	    "a\x01\x7f\xff"
	    "b",
	    5);
	assert_string_equal(out, "a???b");
	/* Overlong, surrogate, beyond U+10FFFF, truncated sequence. */
	agentproto_utf8_clean(out, sizeof(out), "\xc0\xaf", 2);
	assert_string_equal(out, "??");
	agentproto_utf8_clean(out, sizeof(out), "\xed\xa0\x80", 3);
	assert_string_equal(out, "???");
	agentproto_utf8_clean(out, sizeof(out), "\xf4\x90\x80\x80", 4);
	assert_string_equal(out, "????");
	agentproto_utf8_clean(out, sizeof(out), "x\xe2\x82", 3);
	assert_string_equal(out, "x??");
	/* Cut on a character boundary: "é" does not fit in the last byte. */
	n = agentproto_utf8_clean(out, 4, "ab\xc3\xa9", 4);
	assert_string_equal(out, "ab");
	assert_int_equal(n, 2);
	agentproto_utf8_clean(out, sizeof(out), "\xf0\x9f\x98\x80", 4);
	assert_string_equal(out, "\xf0\x9f\x98\x80");
	assert_int_equal(agentproto_utf8_clean(out, 0, "x", 1), 0);
	assert_int_equal(agentproto_utf8_clean(out, 1, "x", 1), 0);
	assert_string_equal(out, "");
}

static void
test_agentproto_validators(void **state)
{
	assert_int_equal(agentproto_uuid_valid(UUID1), 1);
	assert_int_equal(agentproto_uuid_valid(UUID1 "0"), 0);
	assert_int_equal(agentproto_uuid_valid(""), 0);
	assert_int_equal(agentproto_secret_valid(SECRET), 1);
	assert_int_equal(agentproto_secret_valid(""), 0);
	assert_string_equal(agentproto_state_name(AGENTPROTO_STATE_RUNNING),
	    "running");
	assert_string_equal(agentproto_state_name(AGENTPROTO_STATE_SUCCEEDED),
	    "succeeded");
	assert_string_equal(agentproto_cmd_type_name(AGENTPROTO_CMD_PING),
	    "ping");
	assert_string_equal(agentproto_cmd_type_name(AGENTPROTO_CMD_UNKNOWN),
	    "unknown");
}

/* A "config" member from JSON text: 0 or -1 with err. */
static int
cfg_decode(const char *text, struct agentproto_config *c, char *err,
    size_t errlen)
{
	json_error_t jerr;
	json_t	    *o;
	int	     rc;

	err[0] = '\0';
	o = json_loads(text, JSON_ALLOW_NUL, &jerr);
	assert_non_null(o);
	rc = agentproto_config_decode(o, c, err, errlen);
	json_decref(o);
	return (rc);
}

/* The whole of a configuration, decoded as given. */
static void
test_agentproto_config_decode(void **state)
{
	struct agentproto_config c;
	char			 err[512];

	assert_int_equal(
	    cfg_decode(
		"{\"version\":3,\"values\":["
		"{\"key\":\"RefreshSecretSubUrl\",\"value\":"
		"\"/gateway/app/refreshTokenByKey.htm\","
		"\"source\":\"yard\",\"secret\":false},"
		"{\"key\":\"db.password\",\"value\":\"p&<\\\"'\","
		"\"source\":\"apollo\",\"secret\":true},"
		"{\"key\":\"empty\",\"value\":\"\"}],"
		"\"mappings\":[{\"key\":\"RefreshSecretSubUrl\","
		"\"file\":\"conf/app.xml\",\"format\":\"xml\","
		"\"nodepath\":\"root.nodes[0].nodes[0].nodes[0]\"},"
		"{\"key\":\"db.password\",\"file\":\"appsettings.json\","
		"\"format\":\"json\",\"nodepath\":\"db.password\"}],"
		"\"files\":[{\"path\":\"conf/a.txt\","
		"\"content_base64\":\"aGVsbG8=\"},{\"path\":\"b\","
		"\"content_base64\":\"\"},{\"path\":\"c\","
		"\"content_base64\":\"YQ==\"},{\"path\":\"d\","
		"\"content_base64\":\"YWI=\"}],"
		"\"env\":true,\"properties_file\":\"conf/yard.properties\"}",
		&c, err, sizeof(err)),
	    0);
	assert_int_equal(c.version, 3);
	assert_int_equal(c.nvalues, 3);
	assert_string_equal(c.values[0].key, "RefreshSecretSubUrl");
	assert_string_equal(c.values[0].value,
	    "/gateway/app/refreshTokenByKey.htm");
	assert_int_equal(c.values[0].secret, 0);
	assert_int_equal(c.values[0].apollo, 0);
	assert_int_equal(c.values[1].value_len, 5);
	assert_memory_equal(c.values[1].value, "p&<\"'", 5);
	assert_int_equal(c.values[1].secret, 1);
	assert_int_equal(c.values[1].apollo, 1);
	assert_int_equal(c.values[2].value_len, 0);
	assert_int_equal(c.nmappings, 2);
	assert_string_equal(c.mappings[0].file, "conf/app.xml");
	assert_string_equal(c.mappings[0].nodepath,
	    "root.nodes[0].nodes[0].nodes[0]");
	assert_int_equal(c.mappings[1].format, 1); /* CFGEDIT_JSON */
	assert_int_equal(c.nfiles, 4);
	assert_int_equal(c.files[0].len, 5);
	assert_memory_equal(c.files[0].content, "hello", 5);
	assert_int_equal(c.files[1].len, 0);
	assert_int_equal(c.files[2].len, 1);
	assert_memory_equal(c.files[2].content, "a", 1);
	assert_int_equal(c.files[3].len, 2);
	assert_memory_equal(c.files[3].content, "ab", 2);
	assert_int_equal(c.env, 1);
	assert_string_equal(c.properties_file, "conf/yard.properties");
	agentproto_config_free(&c);
	agentproto_config_free(&c);

	/* Everything but the object itself may be left out. */
	assert_int_equal(cfg_decode("{}", &c, err, sizeof(err)), 0);
	assert_int_equal(c.nvalues + c.nmappings + c.nfiles, 0);
	assert_null(c.properties_file);
	assert_int_equal(c.env, 0);
	agentproto_config_free(&c);
	assert_int_equal(cfg_decode("{\"properties_file\":null,\"values\":[],"
				    "\"mappings\":[],\"files\":[]}",
			     &c, err, sizeof(err)),
	    0);
	agentproto_config_free(&c);
}

/* Every refusal names the member and says why; nothing is kept. */
static void
test_agentproto_config_refusals(void **state)
{
	static const struct {
		const char *json, *msg;
	} bad[] = {
		{ "[]", "config: must be an object" },
		{ "{\"x\":1}", "config.x: unknown member" },
		{ "{\"version\":-1}", "config.version: must be an integer" },
		{ "{\"version\":\"3\"}", "config.version: must be an integer" },
		{ "{\"values\":{}}", "config.values: must be an array" },
		{ "{\"values\":[1]}", "config.values[0]: must be an object" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"b\",\"enc\":\"x\"}]}",
		    "config.values[0].enc: unknown member" },
		{ "{\"values\":[{\"value\":\"b\"}]}",
		    "config.values[0].key: missing" },
		{ "{\"values\":[{\"key\":\"\",\"value\":\"b\"}]}",
		    "config.values[0].key: must be 1 to 200 bytes" },
		{ "{\"values\":[{\"key\":\"a\\nb\",\"value\":\"b\"}]}",
		    "config.values[0].key: must not hold control characters" },
		{ "{\"values\":[{\"key\":\"a\\u0000b\",\"value\":\"b\"}]}",
		    "config.values[0].key: must not hold control characters" },
		{ "{\"values\":[{\"key\":\"a\",\"secret\":true}]}",
		    "config.values[0].value: missing (key \"a\")" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":null}]}",
		    "config.values[0].value: must be a string" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"x\\u0000\"}]}",
		    "config.values[0].value: must not hold NUL (key \"a\")" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"b\",\"source\":\"etcd\"}]}",
		    "config.values[0].source: must be yard or apollo" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"b\",\"secret\":1}]}",
		    "config.values[0].secret: must be true or false" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"b\"},"
		  "{\"key\":\"a\",\"value\":\"c\"}]}",
		    "config.values[1].key: duplicate key \"a\"" },
		{ "{\"mappings\":[{\"key\":\"a\",\"file\":\"f.xml\","
		  "\"format\":\"xml\",\"nodepath\":\"root.a\"}]}",
		    "config.mappings[0].key: no value for key \"a\"" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"b\"}],\"mappings\":"
		  "[{\"key\":\"a\",\"file\":\"f.xml\",\"format\":\"yaml\","
		  "\"nodepath\":\"root.a\"}]}",
		    "config.mappings[0].format: must be xml, json or properties" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"b\"}],\"mappings\":"
		  "[{\"key\":\"a\",\"file\":\"f.xml\",\"format\":\"xml\"}]}",
		    "config.mappings[0].nodepath: missing" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"b\"}],\"mappings\":"
		  "[{\"key\":\"a\",\"file\":\"f.xml\",\"format\":\"xml\","
		  "\"nodepath\":\"root..a\"}]}",
		    "config.mappings[0].nodepath: " },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"b\"}],\"mappings\":"
		  "[{\"key\":\"a\",\"file\":\"../f.xml\",\"format\":\"xml\","
		  "\"nodepath\":\"root.a\"}]}",
		    "config.mappings[0].file: must not hold \".\" or \"..\" steps" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"b\"}],\"mappings\":"
		  "[{\"key\":\"a\",\"file\":\"f.xml\",\"format\":\"xml\","
		  "\"nodepath\":\"root.a\",\"when\":1}]}",
		    "config.mappings[0].when: unknown member" },
		{ "{\"files\":[{\"path\":\"/etc/passwd\",\"content_base64\":\"\"}]}",
		    "config.files[0].path: must be relative to the task's tree" },
		{ "{\"files\":[{\"path\":\"a/../../b\",\"content_base64\":\"\"}]}",
		    "config.files[0].path: must not hold \".\" or \"..\" steps" },
		{ "{\"files\":[{\"path\":\"a/./b\",\"content_base64\":\"\"}]}",
		    "config.files[0].path: must not hold \".\" or \"..\" steps" },
		{ "{\"files\":[{\"path\":\"..\",\"content_base64\":\"\"}]}",
		    "config.files[0].path: must not hold \".\" or \"..\" steps" },
		{ "{\"files\":[{\"path\":\"a//b\",\"content_base64\":\"\"}]}",
		    "config.files[0].path: has an empty step" },
		{ "{\"files\":[{\"path\":\"a/\",\"content_base64\":\"\"}]}",
		    "config.files[0].path: has an empty step" },
		{ "{\"files\":[{\"path\":\"a\\\\b\",\"content_base64\":\"\"}]}",
		    "config.files[0].path: must not hold a backslash" },
		{ "{\"files\":[{\"path\":\"a\\u0000b\",\"content_base64\":\"\"}]}",
		    "config.files[0].path: must not hold NUL or control" },
		{ "{\"files\":[{\"path\":\"\",\"content_base64\":\"\"}]}",
		    "config.files[0].path: must be 1 to 1024 bytes" },
		{ "{\"files\":[{\"path\":\"a\"}]}",
		    "config.files[0].content_base64: missing" },
		{ "{\"files\":[{\"path\":\"a\",\"content_base64\":\"aGVsbG8\"}]}",
		    "config.files[0].content_base64: not valid base64" },
		{ "{\"files\":[{\"path\":\"a\",\"content_base64\":\"aGV sbG8=\"}]}",
		    "config.files[0].content_base64: not valid base64" },
		{ "{\"files\":[{\"path\":\"a\",\"content_base64\":\"YR==\"}]}",
		    "config.files[0].content_base64: not valid base64" },
		{ "{\"files\":[{\"path\":\"a\",\"content_base64\":\"Y===\"}]}",
		    "config.files[0].content_base64: not valid base64" },
		{ "{\"files\":[{\"path\":\"a\",\"content_base64\":\"aG-_\"}]}",
		    "config.files[0].content_base64: not valid base64" },
		{ "{\"files\":[{\"path\":\"a\",\"content_base64\":\"\"},"
		  "{\"path\":\"a\",\"content_base64\":\"\"}]}",
		    "config.files[1].path: duplicate path \"a\"" },
		{ "{\"env\":1}", "config.env: must be true or false" },
		{ "{\"properties_file\":\"\"}",
		    "config.properties_file: must be 1 to 1024 bytes" },
		{ "{\"properties_file\":\"/tmp/x\"}",
		    "config.properties_file: must be relative" },
		{ "{\"properties_file\":\"../x\"}",
		    "config.properties_file: must not hold" },
		{ "{\"properties_file\":7}",
		    "config.properties_file: must be a string" },
		{ "{\"files\":[{\"path\":\"p\",\"content_base64\":\"\"}],"
		  "\"properties_file\":\"p\"}",
		    "config.properties_file: also a file override "
		    "(config.files[0])" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"b\"}],\"mappings\":"
		  "[{\"key\":\"a\",\"file\":\"p\",\"format\":\"properties\","
		  "\"nodepath\":\"a\"}],\"properties_file\":\"p\"}",
		    "config.properties_file: also a mapping's file "
		    "(config.mappings[0])" },
	};
	struct agentproto_config c;
	char			 err[512];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0xa5, sizeof(c));
		if (cfg_decode(bad[i].json, &c, err, sizeof(err)) != -1 ||
		    strncmp(err, bad[i].msg, strlen(bad[i].msg)) != 0)
			fail_msg("%s: got \"%s\", want \"%s...\"", bad[i].json,
			    err, bad[i].msg);
		/* Nothing owned is left. */
		assert_null(c.values);
		assert_null(c.mappings);
		assert_null(c.files);
		assert_null(c.properties_file);
	}
}

/* The limits: counts, sizes, the whole. */
static void
test_agentproto_config_limits(void **state)
{
	struct agentproto_config c;
	json_t			*o, *a, *v;
	char			 err[512], *big;
	size_t			 i;

	/* AGENTPROTO_CFG_VALUES_MAX values pass, one more does not. */
	o = json_object();
	a = json_array();
	for (i = 0; i < AGENTPROTO_CFG_VALUES_MAX; i++) {
		char k[32];

		snprintf(k, sizeof(k), "k%zu", i);
		json_array_append_new(a,
		    json_pack("{s:s,s:s}", "key", k, "value", "v"));
	}
	json_object_set_new(o, "values", a);
	assert_int_equal(agentproto_config_decode(o, &c, err, sizeof(err)), 0);
	assert_int_equal(c.nvalues, AGENTPROTO_CFG_VALUES_MAX);
	agentproto_config_free(&c);
	json_array_append_new(a,
	    json_pack("{s:s,s:s}", "key", "one-more", "value", "v"));
	assert_int_equal(agentproto_config_decode(o, &c, err, sizeof(err)), -1);
	assert_string_equal(err, "config.values: more than 5000");
	json_decref(o);

	/* A key of 200 bytes passes, 201 do not; a value of 64 KiB passes. */
	big = malloc(AGENTPROTO_CFG_VALUE_MAX + 2);
	assert_non_null(big);
	memset(big, 'k', AGENTPROTO_CFG_VALUE_MAX + 1);
	big[AGENTPROTO_CFG_KEY_MAX] = '\0';
	o = json_pack("{s:[{s:s,s:s}]}", "values", "key", big, "value", "v");
	assert_int_equal(agentproto_config_decode(o, &c, err, sizeof(err)), 0);
	agentproto_config_free(&c);
	json_decref(o);
	big[AGENTPROTO_CFG_KEY_MAX] = 'k';
	big[AGENTPROTO_CFG_KEY_MAX + 1] = '\0';
	o = json_pack("{s:[{s:s,s:s}]}", "values", "key", big, "value", "v");
	assert_int_equal(agentproto_config_decode(o, &c, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "config.values[0].key: must be 1 to 200 bytes");
	json_decref(o);
	memset(big, 'v', AGENTPROTO_CFG_VALUE_MAX + 1);
	big[AGENTPROTO_CFG_VALUE_MAX] = '\0';
	o = json_pack("{s:[{s:s,s:s}]}", "values", "key", "k", "value", big);
	assert_int_equal(agentproto_config_decode(o, &c, err, sizeof(err)), 0);
	assert_int_equal(c.values[0].value_len, AGENTPROTO_CFG_VALUE_MAX);
	agentproto_config_free(&c);
	json_decref(o);
	big[AGENTPROTO_CFG_VALUE_MAX] = 'v';
	big[AGENTPROTO_CFG_VALUE_MAX + 1] = '\0';
	o = json_pack("{s:[{s:s,s:s}]}", "values", "key", "k", "value", big);
	assert_int_equal(agentproto_config_decode(o, &c, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "config.values[0].value: must be 0 to 65536 bytes");
	json_decref(o);
	free(big);

	/* A file of 1 MiB passes, one byte more does not. */
	big = malloc((AGENTPROTO_CFG_FILE_MAX + 3) / 3 * 4 + 8);
	assert_non_null(big);
	/* 1 MiB = 3 * 349525 + 1: "AAAA" * 349525 + "AA==" */
	for (i = 0; i < 349525; i++)
		memcpy(big + i * 4, "AAAA", 4);
	memcpy(big + i * 4, "AA==", 5);
	o = json_pack("{s:[{s:s,s:s}]}", "files", "path", "f", "content_base64",
	    big);
	assert_int_equal(agentproto_config_decode(o, &c, err, sizeof(err)), 0);
	assert_int_equal(c.files[0].len, AGENTPROTO_CFG_FILE_MAX);
	agentproto_config_free(&c);
	json_decref(o);
	memcpy(big + i * 4, "AAA=", 5);
	o = json_pack("{s:[{s:s,s:s}]}", "files", "path", "f", "content_base64",
	    big);
	assert_int_equal(agentproto_config_decode(o, &c, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "config.files[0].content_base64: more than 1048576 bytes");
	json_decref(o);

	/* 17 files of 1 MiB are more than 16 MiB in all. */
	memcpy(big + i * 4, "AA==", 5);
	o = json_object();
	a = json_array();
	for (i = 0; i < 17; i++) {
		char p[16];

		snprintf(p, sizeof(p), "f%zu", i);
		v = json_pack("{s:s,s:s}", "path", p, "content_base64", big);
		json_array_append_new(a, v);
	}
	json_object_set_new(o, "files", a);
	assert_int_equal(agentproto_config_decode(o, &c, err, sizeof(err)), -1);
	assert_string_equal(err, "config: more than 16777216 bytes in all");
	json_decref(o);
	free(big);
}

/*
 * The command table: the one list of types the server validates against
 * and the agent dispatches on.
 */
static void
test_agentproto_command_table(void **state)
{
	const struct agentproto_cmd_def *d;
	char				 buf[128];
	size_t				 i, n;

	assert_non_null(d = agentproto_command_find("ping"));
	assert_int_equal(d->kind, AGENTPROTO_CMD_PING);
	assert_int_equal(d->target, AGENTPROTO_TARGET_NODE);
	assert_int_equal(d->manage, 0);
	assert_non_null(d = agentproto_command_find("start"));
	assert_int_equal(d->kind, AGENTPROTO_CMD_START);
	assert_int_equal(d->target, AGENTPROTO_TARGET_TASK);
	assert_int_equal(d->manage, 0);
	assert_non_null(d = agentproto_command_find("stop"));
	assert_int_equal(d->kind, AGENTPROTO_CMD_STOP);
	assert_int_equal(d->target, AGENTPROTO_TARGET_TASK);
	assert_non_null(d = agentproto_command_find("restart"));
	assert_int_equal(d->kind, AGENTPROTO_CMD_RESTART);
	assert_int_equal(d->target, AGENTPROTO_TARGET_TASK);
	assert_int_equal(d->manage, 0);
	/* Uninstall decides what is removed: manage. */
	assert_non_null(d = agentproto_command_find("uninstall"));
	assert_int_equal(d->kind, AGENTPROTO_CMD_UNINSTALL);
	assert_int_equal(d->target, AGENTPROTO_TARGET_TASK);
	assert_int_equal(d->manage, 1);
	/* Exact, case-sensitive names only. */
	assert_null(agentproto_command_find("Ping"));
	assert_null(agentproto_command_find("pin"));
	assert_null(agentproto_command_find("pings"));
	assert_null(agentproto_command_find(""));
	assert_null(agentproto_command_find(NULL));
	assert_null(agentproto_command_find("Deploy"));
	/* What changes the installed files needs manage (docs/api.md). */
	assert_non_null(d = agentproto_command_find("deploy"));
	assert_int_equal(d->kind, AGENTPROTO_CMD_DEPLOY);
	assert_int_equal(d->manage, 1);
	assert_non_null(d = agentproto_command_find("update"));
	assert_int_equal(d->kind, AGENTPROTO_CMD_UPDATE);
	assert_int_equal(d->manage, 1);
	assert_non_null(d = agentproto_command_find("rollback"));
	assert_int_equal(d->kind, AGENTPROTO_CMD_ROLLBACK);
	assert_int_equal(d->manage, 1);
	assert_non_null(d = agentproto_command_find("move"));
	assert_int_equal(d->kind, AGENTPROTO_CMD_MOVE);
	assert_int_equal(d->target, AGENTPROTO_TARGET_TASK);
	assert_int_equal(d->manage, 1);
	/* Applying a configuration writes the installed files: manage. */
	assert_non_null(d = agentproto_command_find("apply-config"));
	assert_int_equal(d->kind, AGENTPROTO_CMD_APPLY_CONFIG);
	assert_int_equal(d->target, AGENTPROTO_TARGET_TASK);
	assert_int_equal(d->manage, 1);
	assert_null(agentproto_command_find("apply_config"));

	/* Every row: found by its name, named back by its kind, unique. */
	for (i = 0; (d = agentproto_command_at(i)) != NULL; i++) {
		assert_ptr_equal(agentproto_command_find(d->name), d);
		assert_string_equal(agentproto_cmd_type_name(d->kind), d->name);
		assert_int_not_equal(d->kind, AGENTPROTO_CMD_UNKNOWN);
		/* A valid wire type: lower case, digits, '_' or '-'. */
		assert_int_equal(strspn(d->name,
				     "abcdefghijklmnopqrstuvwxyz0123456789_-"),
		    strlen(d->name));
	}
	assert_int_equal(i, 10);

	n = agentproto_command_names(buf, sizeof(buf));
	assert_string_equal(buf,
	    "ping, start, stop, restart, uninstall, deploy, update, "
	    "rollback, move, apply-config");
	assert_int_equal(n, strlen(buf));
	/* Cut short, it still says how much it needs. */
	assert_int_equal(agentproto_command_names(buf, 6), n);
	assert_string_equal(buf, "ping,");
	assert_int_equal(agentproto_command_names(NULL, 0), n);
}

/* A decoded command's kind comes from the table. */
static void
test_agentproto_command_kind_from_table(void **state)
{
	struct agentproto_poll		 out;
	struct agentproto_err		 err;
	const struct agentproto_cmd_def *d;
	char				 body[512];
	size_t				 i;

	for (i = 0; (d = agentproto_command_at(i)) != NULL; i++) {
		(void)snprintf(body, sizeof(body),
		    "{\"v\":1,\"commands\":[{\"id\":\"%s\",\"seq\":1,"
		    "\"type\":\"%s\"}]}",
		    UUID1, d->name);
		assert_int_equal(agentproto_poll_decode(body, strlen(body),
				     &out, &err),
		    1);
		assert_int_equal(out.commands[0].kind, d->kind);
		assert_string_equal(out.commands[0].type, d->name);
		agentproto_poll_cleanup(&out);
	}
}

static void
test_agentproto_facts_json(void **state)
{
	struct agentproto_facts in, out;
	struct agentproto_err	err;
	json_t		       *j;

	fill_facts(&in);
	j = agentproto_facts_to_json(&in);
	assert_non_null(j);
	assert_int_equal(agentproto_facts_from_json(j, &out, &err), 1);
	assert_facts_equal(&in, &out);
	json_object_set_new(j, "cpus", json_string("4"));
	assert_int_equal(agentproto_facts_from_json(j, &out, &err), 0);
	assert_string_equal(err.field, "facts.cpus");
	json_decref(j);

	/* Without a policy (older agents): none comes back either. */
	in.has_policy = 0;
	j = agentproto_facts_to_json(&in);
	assert_non_null(j);
	assert_null(json_object_get(j, "policy"));
	assert_int_equal(agentproto_facts_from_json(j, &out, &err), 1);
	assert_int_equal(out.has_policy, 0);
	json_decref(j);
}

/* facts.os_family: optional (older agents: linux), linux or windows. */
static void
test_agentproto_facts_os_family(void **state)
{
	struct agentproto_facts in, out;
	struct agentproto_err	err;
	json_t		       *j;
	char		       *s;

	fill_facts(&in);
	j = agentproto_facts_to_json(&in);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "os_family")),
	    "windows");
	assert_int_equal(agentproto_facts_from_json(j, &out, &err), 1);
	assert_string_equal(out.os_family, "windows");

	json_object_del(j, "os_family");
	assert_int_equal(agentproto_facts_from_json(j, &out, &err), 1);
	assert_string_equal(out.os_family, "linux");

	json_object_set_new(j, "os_family", json_string("beos"));
	assert_int_equal(agentproto_facts_from_json(j, &out, &err), 0);
	assert_string_equal(err.field, "facts.os_family");
	json_object_set_new(j, "os_family", json_integer(1));
	assert_int_equal(agentproto_facts_from_json(j, &out, &err), 0);
	assert_string_equal(err.field, "facts.os_family");
	json_decref(j);

	/* An agent that fills none sends none (the wire stays as it was). */
	in.os_family[0] = '\0';
	j = agentproto_facts_to_json(&in);
	assert_non_null(j);
	assert_null(json_object_get(j, "os_family"));
	s = json_dumps(j, JSON_COMPACT);
	assert_non_null(s);
	assert_null(strstr(s, "os_family"));
	free(s);
	json_decref(j);
	assert_true(agentproto_os_family_valid("linux"));
	assert_true(agentproto_os_family_valid("windows"));
	assert_false(agentproto_os_family_valid("Linux"));
	assert_false(agentproto_os_family_valid(NULL));
}

/* Normalise a spec given as JSON text; NULL and err filled on refusal. */
static json_t *
spec_of(const char *text, struct agentproto_err *err)
{
	json_error_t jerr;
	json_t	    *in, *out;

	in = json_loads(text, JSON_ALLOW_NUL, &jerr);
	assert_non_null(in);
	out = agentproto_task_spec(in, err);
	json_decref(in);
	return (out);
}

static void
spec_refused(const char *text, const char *field)
{
	struct agentproto_err err;
	json_t		     *out;

	out = spec_of(text, &err);
	if (out != NULL)
		fail_msg("accepted: %s", text);
	if (strcmp(err.field, field) != 0)
		fail_msg("%s: field \"%s\" (%s), want \"%s\"", text, err.field,
		    err.msg, field);
	assert_true(err.msg[0] != '\0');
}

static void
test_agentproto_task_spec_defaults(void **state)
{
	struct agentproto_err err;
	json_t		     *o;

	o = spec_of("{\"kind\":\"console\",\"deploy_dir\":\"/opt/a\","
		    "\"console\":{\"command\":\"./run.sh\"},\"extra\":1}",
	    &err);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "deploy_dir")),
	    "/opt/a");
	assert_int_equal(json_integer_value(json_object_get(o, "stop_grace")),
	    10);
	assert_string_equal(json_string_value(
				json_object_get(json_object_get(o, "restart"),
				    "policy")),
	    "on-failure");
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(o, "restart"),
				 "backoff_max")),
	    60);
	assert_int_equal(json_array_size(
			     json_object_get(json_object_get(o, "console"),
				 "args")),
	    0);
	assert_int_equal(json_object_size(json_object_get(o, "env")), 0);
	assert_null(json_object_get(o, "health"));
	assert_null(json_object_get(o, "extra"));
	json_decref(o);

	o = spec_of("{\"kind\":\"jar\",\"deploy_dir\":\"/opt/j\","
		    "\"jar\":{\"jar\":\"app.jar\",\"port\":8081,"
		    "\"jvm_options\":[\"-Xmx64m\"]},"
		    "\"health\":{\"path\":\"/actuator/health\"},"
		    "\"env\":{\"JAVA_TOOL_OPTIONS\":\"-Dx=<&>\"}}",
	    &err);
	assert_non_null(o);
	assert_string_equal(json_string_value(
				json_object_get(json_object_get(o, "jar"),
				    "java")),
	    "/usr/bin/java");
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(o, "health"),
				 "interval")),
	    10);
	assert_string_equal(json_string_value(
				json_object_get(json_object_get(o, "env"),
				    "JAVA_TOOL_OPTIONS")),
	    "-Dx=<&>");
	json_decref(o);

	o = spec_of("{\"kind\":\"tomcat\",\"deploy_dir\":\"/opt/t\","
		    "\"tomcat\":{\"home\":\"/usr/share/tomcat10\","
		    "\"port\":8080}}",
	    &err);
	assert_non_null(o);
	assert_string_equal(json_string_value(
				json_object_get(json_object_get(o, "tomcat"),
				    "app_path")),
	    "/");
	json_decref(o);
}

static void
test_agentproto_task_spec_refusals(void **state)
{
	spec_refused("[]", "");
	spec_refused("{}", "kind");
	spec_refused("{\"kind\":\"docker\"}", "kind");
	spec_refused("{\"kind\":\"console\",\"console\":{\"command\":\"x\"}}",
	    "deploy_dir");
	spec_refused("{\"kind\":\"console\",\"deploy_dir\":\"opt/a\","
		     "\"console\":{\"command\":\"x\"}}",
	    "deploy_dir");
	spec_refused("{\"kind\":\"console\",\"deploy_dir\":\"/opt/../etc\","
		     "\"console\":{\"command\":\"x\"}}",
	    "deploy_dir");
	spec_refused("{\"kind\":\"console\",\"deploy_dir\":\"/opt/a\"}",
	    "console");
	spec_refused("{\"kind\":\"console\",\"deploy_dir\":\"/opt/a\","
		     "\"console\":{\"command\":\"x\"},\"jar\":{}}",
	    "jar");
	spec_refused("{\"kind\":\"console\",\"deploy_dir\":\"/opt/a\","
		     "\"console\":{}}",
	    "console.command");
	spec_refused("{\"kind\":\"console\",\"deploy_dir\":\"/opt/a\","
		     "\"console\":{\"command\":\"x\",\"args\":[\"a\",1]}}",
	    "console.args[1]");
	spec_refused(
	    "{\"kind\":\"console\",\"deploy_dir\":\"/opt/a\","
	    "\"console\":{\"command\":\"x\",\"args\":[\"a\\u0000b\"]}}",
	    "console.args[0]");
	spec_refused("{\"kind\":\"console\",\"deploy_dir\":\"/opt/a\","
		     "\"console\":{\"command\":\"x\"},\"env\":{\"1A\":\"v\"}}",
	    "env");
	spec_refused("{\"kind\":\"console\",\"deploy_dir\":\"/opt/a\","
		     "\"console\":{\"command\":\"x\"},\"env\":{\"A\":2}}",
	    "env.A");
	spec_refused("{\"kind\":\"console\",\"deploy_dir\":\"/opt/a\","
		     "\"console\":{\"command\":\"x\"},\"stop_grace\":-1}",
	    "stop_grace");
	spec_refused("{\"kind\":\"console\",\"deploy_dir\":\"/opt/a\","
		     "\"console\":{\"command\":\"x\"},"
		     "\"restart\":{\"policy\":\"sometimes\"}}",
	    "restart.policy");
	spec_refused("{\"kind\":\"console\",\"deploy_dir\":\"/opt/a\","
		     "\"console\":{\"command\":\"x\"},\"restart\":"
		     "{\"backoff_initial\":30,\"backoff_max\":10}}",
	    "restart.backoff_max");
	spec_refused("{\"kind\":\"console\",\"deploy_dir\":\"/opt/a\","
		     "\"console\":{\"command\":\"x\"},"
		     "\"health\":{\"path\":\"/h\"}}",
	    "health.port");
	spec_refused("{\"kind\":\"jar\",\"deploy_dir\":\"/opt/a\","
		     "\"jar\":{\"jar\":\"a.jar\",\"port\":80},"
		     "\"health\":{\"path\":\"h\"}}",
	    "health.path");
	spec_refused("{\"kind\":\"tomcat\",\"deploy_dir\":\"/opt/a\","
		     "\"tomcat\":{\"home\":\"/t\",\"port\":70000}}",
	    "tomcat.port");
	spec_refused("{\"kind\":\"console\",\"deploy_dir\":\"/opt/a\","
		     "\"console\":{\"command\":\"x\"},"
		     "\"log_files\":[\"../../etc/shadow\"]}",
	    "log_files[0]");
}

/* The refusal of path in err (fail when absent). */
static const struct agentproto_ferr *
ferr_of(const struct agentproto_err *err, const char *path)
{
	size_t i;

	for (i = 0; i < err->nf; i++) {
		if (strcmp(err->f[i].field, path) == 0)
			return (&err->f[i]);
	}
	fail_msg("no refusal of %s", path);
	return (NULL);
}

/* Every bad member comes back at once, each with its code and params. */
static void
test_agentproto_task_spec_all_fields(void **state)
{
	const struct agentproto_ferr *f;
	struct agentproto_err	      err;
	json_t			     *in;
	size_t			      i;

	assert_null(spec_of("{\"kind\":\"console\",\"deploy_dir\":\"opt/a\","
			    "\"console\":{},\"stop_grace\":99999,"
			    "\"restart\":{\"policy\":\"sometimes\"}}",
	    &err));
	assert_int_equal(err.nf, 4);
	assert_int_equal(err.lost, 0);
	/* The first refusal still fills field and msg. */
	assert_string_equal(err.field, "deploy_dir");
	f = ferr_of(&err, "deploy_dir");
	assert_string_equal(agentproto_code_name(f->code), "not_absolute");
	f = ferr_of(&err, "console.command");
	assert_string_equal(agentproto_code_name(f->code), "required");
	f = ferr_of(&err, "stop_grace");
	assert_string_equal(agentproto_code_name(f->code), "range");
	assert_int_equal(f->flags, AGENTPROTO_F_MIN | AGENTPROTO_F_MAX);
	assert_int_equal(f->min, 0);
	assert_int_equal(f->max, 3600);
	f = ferr_of(&err, "restart.policy");
	assert_string_equal(agentproto_code_name(f->code), "enum");
	assert_string_equal(f->arg_name, "allowed");
	assert_string_equal(f->arg, "never,on-failure,always");

	/* An unknown kind: the members of every kind are still checked. */
	assert_null(spec_of("{\"kind\":\"docker\",\"keep_releases\":0,"
			    "\"log_files\":\"x\"}",
	    &err));
	assert_int_equal(err.nf, 4);
	assert_string_equal(agentproto_code_name(ferr_of(&err, "kind")->code),
	    "enum");
	assert_string_equal(agentproto_code_name(
				ferr_of(&err, "deploy_dir")->code),
	    "required");
	assert_string_equal(agentproto_code_name(
				ferr_of(&err, "keep_releases")->code),
	    "range");
	f = ferr_of(&err, "log_files");
	assert_string_equal(agentproto_code_name(f->code), "type");
	assert_string_equal(f->arg, "array");

	/* Items: their own path, each refused. */
	assert_null(
	    spec_of("{\"kind\":\"console\",\"deploy_dir\":\"/a\","
		    "\"console\":{\"command\":\"x\",\"args\":[1,\"y\",2]},"
		    "\"jar\":{}}",
		&err));
	assert_int_equal(err.nf, 3);
	assert_string_equal(agentproto_code_name(ferr_of(&err, "jar")->code),
	    "not_allowed");
	assert_string_equal(ferr_of(&err, "jar")->arg, "console");
	(void)ferr_of(&err, "console.args[0]");
	(void)ferr_of(&err, "console.args[2]");

	/* Bounded: 128 bad items keep 32 and count the rest. */
	in = json_pack("{s:s,s:s,s:{s:s,s:[]}}", "kind", "console",
	    "deploy_dir", "/a", "console", "command", "x", "args");
	assert_non_null(in);
	for (i = 0; i < 128; i++)
		json_array_append_new(json_object_get(json_object_get(in,
							  "console"),
					  "args"),
		    json_integer((json_int_t)i));
	assert_null(agentproto_task_spec(in, &err));
	assert_int_equal(err.nf, AGENTPROTO_FERR_MAX);
	assert_int_equal(err.lost, 128 - AGENTPROTO_FERR_MAX);
	json_decref(in);

	/* A NULL err is fine. */
	in = json_pack("{s:s,s:s,s:{s:s}}", "kind", "console", "deploy_dir",
	    "relative", "console", "command", "x");
	assert_non_null(in);
	assert_null(agentproto_task_spec(in, NULL));
	json_decref(in);
	assert_string_equal(agentproto_code_name(AGENTPROTO_C_COUNT),
	    "invalid");
}

/* Paths per OS family: Linux POSIX, Windows drive or UNC. */
static json_t *
spec_os(const char *deploy_dir, const char *os, struct agentproto_err *err)
{
	json_t *in, *out;

	in = json_pack("{s:s, s:s, s:{s:s}, s:[s]}", "kind", "console",
	    "deploy_dir", deploy_dir, "console", "command", "run.cmd",
	    "log_files", "logs\\*.log");
	assert_non_null(in);
	out = agentproto_task_spec_os(in, os, err);
	json_decref(in);
	return (out);
}

static void
test_agentproto_task_spec_os(void **state)
{
	static const struct {
		const char *path;
		int	    linux_ok;
		int	    windows_ok;
	} paths[] = { { "/srv/yard/a", 1, 0 }, { "/", 1, 0 },
		{ "C:\\apps\\x", 0, 1 }, { "c:/apps/x", 0, 1 },
		{ "C:\\", 0, 1 }, { "\\\\server\\share\\x", 0, 1 },
		{ "//server/share", 1, 1 }, { "C:apps", 0, 0 },
		{ "\\apps", 0, 0 }, { "apps\\x", 0, 0 },
		{ "C:\\a\\..\\b", 0, 0 }, { "C:/a/../b", 0, 0 },
		{ "C:\\a\\b.", 0, 0 }, { "C:\\a\\b \\c", 0, 0 },
		{ "C:\\a:stream", 0, 0 }, { "C:\\a|b", 0, 0 },
		{ "\\\\?\\C:\\x", 0, 0 }, { "\\\\.\\pipe\\x", 0, 0 },
		{ "\\\\server", 0, 0 }, { "\\\\server\\", 0, 0 },
		{ "\\\\\\share", 0, 0 }, { "C:\\a\\.\\b", 0, 1 },
		{ "/opt/../etc", 0, 0 }, { "C:\\a\tb", 0, 0 } };
	struct agentproto_err err;
	json_t		     *a, *b, *in;
	size_t		      i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		a = spec_os(paths[i].path, "linux", &err);
		if ((a != NULL) != paths[i].linux_ok)
			fail_msg("linux %s: %s", paths[i].path,
			    a != NULL ? "accepted" : err.msg);
		if (a == NULL)
			assert_string_equal(err.field, "deploy_dir");
		json_decref(a);
		a = spec_os(paths[i].path, "windows", &err);
		if ((a != NULL) != paths[i].windows_ok)
			fail_msg("windows %s: %s", paths[i].path,
			    a != NULL ? "accepted" : err.msg);
		if (a == NULL)
			assert_string_equal(err.field, "deploy_dir");
		json_decref(a);
	}

	/* agentproto_task_spec() is the Linux variant; NULL is Linux. */
	a = spec_os("/srv/yard/a", NULL, &err);
	assert_non_null(a);
	in = json_pack("{s:s, s:s, s:{s:s}, s:[s]}", "kind", "console",
	    "deploy_dir", "/srv/yard/a", "console", "command", "run.cmd",
	    "log_files", "logs\\*.log");
	b = agentproto_task_spec(in, &err);
	assert_non_null(b);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	json_decref(in);

	/* An unknown family is refused, not guessed. */
	assert_null(spec_os("/srv/yard/a", "plan9", &err));
	assert_string_equal(err.field, "os_family");

	/* Relative paths and lists follow the family too. */
	in = json_pack("{s:s, s:s, s:{s:s}, s:[s]}", "kind", "console",
	    "deploy_dir", "D:\\yard\\a", "console", "command",
	    "bin\\..\\..\\x.exe", "log_files", "a.log");
	assert_null(agentproto_task_spec_os(in, "windows", &err));
	assert_string_equal(err.field, "console.command");
	json_decref(in);
	in = json_pack("{s:s, s:s, s:{s:s}, s:[s]}", "kind", "console",
	    "deploy_dir", "D:\\yard\\a", "console", "command", "bin\\x.exe",
	    "log_files", "..\\secret.log");
	assert_null(agentproto_task_spec_os(in, "windows", &err));
	assert_string_equal(err.field, "log_files[0]");
	json_decref(in);

	/* jar.java defaults to a Linux path: on Windows it is required. */
	in = json_pack("{s:s, s:s, s:{s:s}}", "kind", "jar", "deploy_dir",
	    "D:\\yard\\j", "jar", "jar", "app.jar");
	assert_null(agentproto_task_spec_os(in, "windows", &err));
	assert_string_equal(err.field, "jar.java");
	assert_string_equal(err.msg, "missing");
	json_object_set_new(json_object_get(in, "jar"), "java",
	    json_string("C:\\Program Files\\Java\\bin\\java.exe"));
	a = agentproto_task_spec_os(in, "windows", &err);
	assert_non_null(a);
	json_decref(a);
	json_decref(in);
}

/* Minimal specs of each kind, with a health check where it can be. */
static const char *const minimal[] = {
	"{\"kind\":\"console\",\"deploy_dir\":\"/d\",\"console\":"
	"{\"command\":\"x\"},\"health\":{\"path\":\"/h\",\"port\":1}}",
	"{\"kind\":\"tomcat\",\"deploy_dir\":\"/d\",\"tomcat\":"
	"{\"home\":\"/t\",\"port\":8080},\"health\":{\"path\":\"/h\"}}",
	"{\"kind\":\"jar\",\"deploy_dir\":\"/d\",\"jar\":{\"jar\":\"a.jar\"},"
	"\"health\":{\"path\":\"/h\",\"port\":1}}",
};

/* The table drives the normaliser: every default it names is filled in,
 * every member it requires is refused as missing, by its path. */
static void
test_agentproto_task_spec_table(void **state)
{
	const struct agentproto_task_field *f, *fields;
	struct agentproto_err		    err;
	json_t				   *in, *out, *sect, *v;
	char				    path[64];
	size_t				    i, k, n, checked;

	fields = agentproto_task_fields(&n);
	assert_true(n > 30);
	assert_string_equal(fields[0].name, "kind");
	checked = 0;
	for (k = 0; k < 3; k++) {
		for (i = 0; i < n; i++) {
			f = &fields[i];
			if ((f->kinds & (1U << k)) == 0)
				continue;
			in = json_loads(minimal[k], 0, NULL);
			assert_non_null(in);
			sect = f->section[0] == '\0'
			    ? in
			    : json_object_get(in, f->section);
			if (f->presence == AGENTPROTO_REQUIRED &&
			    json_object_get(sect, f->name) != NULL) {
				json_object_del(sect, f->name);
				assert_null(agentproto_task_spec(in, &err));
				(void)snprintf(path, sizeof(path), "%s%s%s",
				    f->section, f->section[0] ? "." : "",
				    f->name);
				assert_string_equal(err.field, path);
				assert_string_equal(err.msg, "missing");
				checked++;
			} else if (f->presence == AGENTPROTO_DEFAULTED &&
			    f->type != AGENTPROTO_FIELD_OBJECT) {
				out = agentproto_task_spec(in, &err);
				if (out == NULL)
					fail_msg("%s: %s: %s", minimal[k],
					    err.field, err.msg);
				sect = f->section[0] == '\0'
				    ? out
				    : json_object_get(out, f->section);
				v = json_object_get(sect, f->name);
				if (v == NULL)
					fail_msg("%s.%s: no default",
					    f->section, f->name);
				if (f->type == AGENTPROTO_FIELD_INT)
					assert_int_equal(json_integer_value(v),
					    f->def_int);
				else if (f->def != NULL)
					assert_string_equal(json_string_value(
								v),
					    f->def);
				else
					assert_int_equal(json_is_array(v)
						? json_array_size(v)
						: json_object_size(v),
					    0);
				json_decref(out);
				checked++;
			}
			json_decref(in);
		}
	}
	assert_true(checked > 40);
}

/* docs/api.md lists the fields exactly as the table says. */
static void
test_agentproto_task_spec_doc(void **state)
{
	static const char begin[] = "<!-- task-spec fields:";
	static const char end[] = "<!-- end of task-spec fields -->";
	FILE		 *fp;
	char		 *doc, *want, *b, *e;
	long		  len;

	want = agentproto_task_spec_doc();
	assert_non_null(want);
	if ((fp = fopen("docs/api.md", "r")) == NULL)
		fail_msg("docs/api.md: run from the repository's top");
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	assert_true(len > 0);
	rewind(fp);
	doc = calloc(1, (size_t)len + 1);
	assert_non_null(doc);
	assert_int_equal(fread(doc, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	b = strstr(doc, begin);
	assert_non_null(b);
	b = strstr(b, "-->\n");
	assert_non_null(b);
	b += 4;
	e = strstr(b, end);
	assert_non_null(e);
	*e = '\0';
	if (strcmp(b, want) != 0)
		fail_msg("docs/api.md's task-spec fields differ from the "
			 "table; they should read:\n%s",
		    want);
	free(doc);
	free(want);
}

/* Log requests in a poll answer, chunks and their answers. */
static void
test_agentproto_logs(void **state)
{
	struct agentproto_poll	   p;
	struct agentproto_logchunk c;
	struct agentproto_err	   err;
	const char		  *good =
	    "{\"v\":1,\"commands\":[],\"logs\":[{\"id\":"
	    "\"9B2E0000-0000-4000-8000-000000000001\",\"task_id\":7,"
	    "\"mode\":\"follow\",\"file\":\"logs/catalina.out\","
	    "\"q\":\"ERROR\"}]}";
	const char *fileq =
	    "{\"v\":1,\"commands\":[],\"logs\":[{\"id\":"
	    "\"9B2E0000-0000-4000-8000-000000000001\",\"task_id\":7,"
	    "\"mode\":\"file\",\"file\":\"conf/app.xml\"}]}";
	char  *s;
	int    follow;
	size_t i;
	static const struct {
		const char *file;
		int	    ok;
	} files[] = { { "stdout", 1 }, { "logs/a.log", 1 }, { "..a", 1 },
		{ "a/..b/c", 1 }, { "", 0 }, { "/etc/passwd", 0 },
		{ "../x", 0 }, { "a/../b", 0 }, { "a/./b", 0 }, { "a//b", 0 },
		{ "a/", 0 }, { "..", 0 }, { ".", 0 }, { "a\nb", 0 } };

	assert_int_equal(agentproto_poll_decode(good, strlen(good), &p, &err),
	    1);
	assert_int_equal(p.nlogs, 1);
	assert_string_equal(p.logs[0].id,
	    "9b2e0000-0000-4000-8000-000000000001");
	assert_int_equal(p.logs[0].mode, AGENTPROTO_LOG_FOLLOW);
	assert_int_equal(p.logs[0].lines, 200); /* the default */
	assert_string_equal(p.logs[0].q, "ERROR");
	agentproto_poll_cleanup(&p);
	/* A "file" request (the Configuration tab): its mode, named back. */
	assert_int_equal(agentproto_poll_decode(fileq, strlen(fileq), &p, &err),
	    1);
	assert_int_equal(p.logs[0].mode, AGENTPROTO_LOG_FILE);
	assert_string_equal(p.logs[0].file, "conf/app.xml");
	assert_string_equal(agentproto_log_mode_name(p.logs[0].mode), "file");
	agentproto_poll_cleanup(&p);

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		assert_int_equal(agentproto_log_file_valid(files[i].file),
		    files[i].ok);

#define BADPOLL(body, want) \
	do { \
		const char *b_ = \
		    "{\"v\":1,\"commands\":[],\"logs\":[" body "]}"; \
		assert_int_equal(agentproto_poll_decode(b_, strlen(b_), &p, \
				     &err), \
		    0); \
		assert_string_equal(err.field, want); \
	} while (0)
#define LID "\"id\":\"9b2e0000-0000-4000-8000-000000000001\""
	BADPOLL("{" LID ",\"task_id\":7,\"mode\":\"tail\",\"file\":\"../x\"}",
	    "logs[0].file");
	BADPOLL("{" LID ",\"task_id\":7,\"mode\":\"grep\",\"file\":\"x\"}",
	    "logs[0].mode");
	BADPOLL("{" LID ",\"task_id\":0,\"mode\":\"tail\",\"file\":\"x\"}",
	    "logs[0].task_id");
	BADPOLL("{" LID ",\"task_id\":7,\"mode\":\"tail\",\"file\":\"x\","
		"\"lines\":5001}",
	    "logs[0].lines");
	BADPOLL("{" LID ",\"task_id\":7,\"mode\":\"tail\",\"file\":\"x\","
		"\"q\":\"a\\nb\"}",
	    "logs[0].q");
	BADPOLL("{\"id\":\"nope\",\"task_id\":7,\"mode\":\"tail\","
		"\"file\":\"x\"}",
	    "logs[0].id");

	/* A chunk survives a round trip; bad ones name their member. */
	memset(&c, 0, sizeof(c));
	c.seq = 3;
	c.data = strdup("l\u00e9 \"q\"\n");
	c.size = 99;
	c.matches = -1;
	c.done = 1;
	assert_non_null(s = agentproto_logchunk_encode(&c));
	agentproto_logchunk_cleanup(&c);
	assert_int_equal(agentproto_logchunk_decode(s, strlen(s), &c, &err), 1);
	assert_int_equal(c.seq, 3);
	assert_int_equal(c.done, 1);
	assert_int_equal(c.matches, -1);
	assert_null(c.files);
	agentproto_logchunk_cleanup(&c);
	free(s);
#define BADCHUNK(body, want) \
	do { \
		const char *b_ = body; \
		assert_int_equal(agentproto_logchunk_decode(b_, strlen(b_), \
				     &c, &err), \
		    0); \
		assert_string_equal(err.field, want); \
	} while (0)
	BADCHUNK("{\"v\":1,\"data\":\"\",\"size\":0}", "seq");
	BADCHUNK("{\"v\":1,\"seq\":0,\"size\":0}", "data");
	/* jansson refuses an escaped NUL outright (invalid JSON). */
	BADCHUNK("{\"v\":1,\"seq\":0,\"data\":\"a\\u0000b\",\"size\":0}", "");
	BADCHUNK("{\"v\":1,\"seq\":0,\"data\":\"\",\"size\":-1}", "size");
	BADCHUNK("{\"v\":1,\"seq\":0,\"data\":\"\",\"size\":0,"
		 "\"files\":[\"/etc\"]}",
	    "files[0]");
	BADCHUNK("{\"v\":1,\"seq\":0,\"data\":\"\",\"size\":0,"
		 "\"done\":1}",
	    "done");

	s = "{\"v\":1,\"follow\":true}";
	assert_int_equal(agentproto_logack_decode(s, strlen(s), &follow, &err),
	    1);
	assert_int_equal(follow, 1);
	s = "{\"v\":1,\"follow\":1}";
	assert_int_equal(agentproto_logack_decode(s, strlen(s), &follow, &err),
	    0);
	assert_int_equal(follow, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agentproto_enroll_roundtrip),
		cmocka_unit_test(test_agentproto_task_spec_defaults),
		cmocka_unit_test(test_agentproto_task_spec_refusals),
		cmocka_unit_test(test_agentproto_task_spec_all_fields),
		cmocka_unit_test(test_agentproto_task_spec_os),
		cmocka_unit_test(test_agentproto_task_spec_table),
		cmocka_unit_test(test_agentproto_task_spec_doc),
		cmocka_unit_test(test_agentproto_enroll_resp_defaults),
		cmocka_unit_test(test_agentproto_heartbeat_roundtrip),
		cmocka_unit_test(test_agentproto_heartbeat_optional),
		cmocka_unit_test(test_agentproto_heartbeat_task_why),
		cmocka_unit_test(test_agentproto_heartbeat_resp),
		cmocka_unit_test(test_agentproto_poll_roundtrip),
		cmocka_unit_test(test_agentproto_result_roundtrip),
		cmocka_unit_test(test_agentproto_result_releases),
		cmocka_unit_test(test_agentproto_result_code),
		cmocka_unit_test(test_agentproto_error_reply),
		cmocka_unit_test(test_agentproto_fields_named),
		cmocka_unit_test(test_agentproto_bases_ok),
		cmocka_unit_test(test_agentproto_caps),
		cmocka_unit_test(test_agentproto_duplicates),
		cmocka_unit_test(test_agentproto_bad_json),
		cmocka_unit_test(test_agentproto_unknown_members),
		cmocka_unit_test(test_agentproto_auth),
		cmocka_unit_test(test_agentproto_encode_failures),
		cmocka_unit_test(test_agentproto_utf8_clean),
		cmocka_unit_test(test_agentproto_validators),
		cmocka_unit_test(test_agentproto_command_table),
		cmocka_unit_test(test_agentproto_config_decode),
		cmocka_unit_test(test_agentproto_config_refusals),
		cmocka_unit_test(test_agentproto_config_limits),
		cmocka_unit_test(test_agentproto_command_kind_from_table),
		cmocka_unit_test(test_agentproto_facts_json),
		cmocka_unit_test(test_agentproto_facts_os_family),
		cmocka_unit_test(test_agentproto_logs),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
