/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for src/auth/alertrule.c: a rule body as the API takes it,
 * every member's range and the member each refusal names.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"

#define CPU_RULE \
	"\"name\":\"cpu\",\"kind\":\"task_cpu\",\"threshold\":90," \
	"\"recovery\":70"

/* Check a body: 1 and *rule, or 0 with err. */
static int
check(const char *text, int *days, json_t **rule,
    struct auth_alertrule_err *err)
{
	json_error_t jerr;
	json_t	    *body;
	int	     ok;

	body = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	assert_non_null(body);
	ok = auth_alertrule_check(body, days, rule, err);
	json_decref(body);
	return (ok);
}

/* The member a bad body is refused for ("" for none). */
static void
refused(const char *text, const char *field)
{
	struct auth_alertrule_err err;
	json_t			 *rule;

	if (check(text, NULL, &rule, &err)) {
		json_decref(rule);
		fail_msg("accepted: %s", text);
	}
	assert_null(rule);
	assert_string_equal(err.field, field);
	assert_true(strlen(err.msg) > 0);
}

static void
accepted(const char *text)
{
	struct auth_alertrule_err err;
	json_t			 *rule;

	if (!check(text, NULL, &rule, &err))
		fail_msg("refused (%s: %s): %s", err.field, err.msg, text);
	json_decref(rule);
}

/* Every refused member at once, each with its code and parameters. */
static void
test_alertrule_all_fields(void **state)
{
	struct auth_alertrule_err err;
	json_t			 *rule;
	const char		 *codes[8];
	size_t			  i;

	assert_false(check("{\"name\":\"\",\"kind\":\"task_cpu\","
			   "\"threshold\":99999,\"recovery\":70,"
			   "\"no_data\":\"maybe\",\"extra\":1}",
	    NULL, &rule, &err));
	assert_null(rule);
	assert_int_equal(err.all.nf, 4);
	/* The first refusal as before: the unknown member. */
	assert_string_equal(err.field, "");
	assert_string_equal(err.msg, "unknown member extra");
	for (i = 0; i < err.all.nf; i++)
		codes[i] = agentproto_code_name(err.all.f[i].code);
	assert_string_equal(err.all.f[0].field, "extra");
	assert_string_equal(codes[0], "unknown");
	assert_string_equal(err.all.f[1].field, "name");
	assert_string_equal(codes[1], "required");
	assert_string_equal(err.all.f[2].field, "threshold");
	assert_string_equal(codes[2], "range");
	assert_int_equal(err.all.f[2].min, 0);
	assert_int_equal(err.all.f[2].max, 25600);
	assert_string_equal(err.all.f[3].field, "no_data");
	assert_string_equal(codes[3], "enum");
	assert_string_equal(err.all.f[3].arg, "keep,ok,alerting");

	/* An unknown kind: the numbers are still checked as numbers. */
	assert_false(check("{\"name\":\"x\",\"kind\":\"nope\","
			   "\"threshold\":\"a\",\"recovery\":1}",
	    NULL, &rule, &err));
	assert_int_equal(err.all.nf, 2);
	assert_string_equal(err.field, "kind");
	assert_string_equal(agentproto_code_name(err.all.f[1].code), "type");
	(void)state;
}

static void
test_alertrule_defaults(void **state)
{
	struct auth_alertrule_err err;
	json_t			 *rule;
	char			 *s;

	assert_int_equal(check("{" CPU_RULE "}", NULL, &rule, &err), 1);
	s = json_dumps(rule, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(s,
	    "{\"channels\":[\"inbox\",\"email\"],\"enabled\":true,"
	    "\"extra_emails\":[],\"for_seconds\":0,\"kind\":\"task_cpu\","
	    "\"name\":\"cpu\",\"no_data\":\"keep\",\"recovery\":70.0,"
	    "\"scope\":{\"node_ids\":[],\"task_ids\":[]},"
	    "\"threshold\":90.0,\"window_seconds\":0}");
	free(s);
	json_decref(rule);
}

static void
test_alertrule_full(void **state)
{
	struct auth_alertrule_err err;
	json_t			 *rule;

	assert_int_equal(check("{\"name\":\"r\",\"kind\":\"task_restarts\","
			       "\"threshold\":3,\"recovery\":0,"
			       "\"for_seconds\":60,\"window_seconds\":600,"
			       "\"no_data\":\"alerting\",\"scope\":{"
			       "\"node_ids\":[1,2],\"task_ids\":[7]},"
			       "\"channels\":[\"callback\",\"inbox\"],"
			       "\"extra_emails\":[\"ops@example.com\"],"
			       "\"enabled\":false}",
			     NULL, &rule, &err),
	    1);
	assert_int_equal(json_integer_value(
			     json_object_get(rule, "window_seconds")),
	    600);
	/* Channels in one order whatever the body's. */
	assert_string_equal(json_string_value(
				json_array_get(json_object_get(rule,
						   "channels"),
				    0)),
	    "inbox");
	assert_true(json_is_false(json_object_get(rule, "enabled")));
	assert_int_equal(json_array_size(
			     json_object_get(json_object_get(rule, "scope"),
				 "node_ids")),
	    2);
	json_decref(rule);
}

static void
test_alertrule_required(void **state)
{
	refused("{}", "name");
	refused("{\"name\":\"x\"}", "kind");
	refused("{\"name\":\"x\",\"kind\":\"task_cpu\"}", "threshold");
	refused("{\"name\":\"x\",\"kind\":\"task_cpu\",\"threshold\":1}",
	    "recovery");
	refused("[]", "");
}

static void
test_alertrule_unknown(void **state)
{
	refused("{" CPU_RULE ",\"id\":3}", "");
	refused("{" CPU_RULE ",\"days\":3}", "");
	refused("{" CPU_RULE ",\"scope\":{\"hosts\":[]}}", "scope");
}

static void
test_alertrule_name(void **state)
{
	char buf[512];

	refused("{\"name\":\"\",\"kind\":\"task_cpu\",\"threshold\":1,"
		"\"recovery\":1}",
	    "name");
	refused("{\"name\":\"   \",\"kind\":\"task_cpu\",\"threshold\":1,"
		"\"recovery\":1}",
	    "name");
	refused("{\"name\":\"a\\nb\",\"kind\":\"task_cpu\",\"threshold\":1,"
		"\"recovery\":1}",
	    "name");
	refused("{\"name\":5,\"kind\":\"task_cpu\",\"threshold\":1,"
		"\"recovery\":1}",
	    "name");
	/* 100 characters of two bytes each pass; 101 do not. */
	(void)snprintf(buf, sizeof(buf),
	    "{\"name\":\"%s\",\"kind\":\"task_cpu\",\"threshold\":1,"
	    "\"recovery\":1}",
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	accepted(buf);
	(void)snprintf(buf, sizeof(buf),
	    "{\"name\":\"%0101d\",\"kind\":\"task_cpu\",\"threshold\":1,"
	    "\"recovery\":1}",
	    0);
	refused(buf, "name");
}

static void
test_alertrule_kind_ranges(void **state)
{
	refused("{\"name\":\"x\",\"kind\":\"cpu\",\"threshold\":1,"
		"\"recovery\":1}",
	    "kind");
	accepted("{\"name\":\"x\",\"kind\":\"task_cpu\",\"threshold\":25600,"
		 "\"recovery\":0}");
	refused("{\"name\":\"x\",\"kind\":\"task_cpu\",\"threshold\":25601,"
		"\"recovery\":0}",
	    "threshold");
	refused("{\"name\":\"x\",\"kind\":\"task_cpu\",\"threshold\":-1,"
		"\"recovery\":-2}",
	    "threshold");
	refused("{\"name\":\"x\",\"kind\":\"task_cpu\",\"threshold\":\"90\","
		"\"recovery\":0}",
	    "threshold");
	refused("{\"name\":\"x\",\"kind\":\"task_memory\",\"threshold\":0,"
		"\"recovery\":0}",
	    "threshold");
	refused("{\"name\":\"x\",\"kind\":\"task_memory\",\"threshold\":"
		"1048577,\"recovery\":0}",
	    "threshold");
	refused("{\"name\":\"x\",\"kind\":\"node_disk\",\"threshold\":101,"
		"\"recovery\":101}",
	    "threshold");
	refused("{\"name\":\"x\",\"kind\":\"task_restarts\",\"threshold\":"
		"1001,\"recovery\":0,\"window_seconds\":60}",
	    "threshold");
	refused("{\"name\":\"x\",\"kind\":\"health_failing\",\"threshold\":0,"
		"\"recovery\":0}",
	    "threshold");
	refused("{\"name\":\"x\",\"kind\":\"task_exit\",\"threshold\":2,"
		"\"recovery\":1}",
	    "threshold");
	accepted("{\"name\":\"x\",\"kind\":\"node_offline\",\"threshold\":1,"
		 "\"recovery\":1,\"for_seconds\":120}");
	refused("{\"name\":\"x\",\"kind\":\"task_crash_loop\",\"threshold\":1,"
		"\"recovery\":2}",
	    "recovery");
}

static void
test_alertrule_direction(void **state)
{
	/* Above kinds recover below; below kinds above. */
	refused("{\"name\":\"x\",\"kind\":\"task_cpu\",\"threshold\":70,"
		"\"recovery\":90}",
	    "recovery");
	accepted("{\"name\":\"x\",\"kind\":\"task_cpu\",\"threshold\":70,"
		 "\"recovery\":70}");
	refused("{\"name\":\"x\",\"kind\":\"node_disk\",\"threshold\":15,"
		"\"recovery\":10}",
	    "recovery");
	accepted("{\"name\":\"x\",\"kind\":\"node_disk\",\"threshold\":10,"
		 "\"recovery\":15}");
	refused("{\"name\":\"x\",\"kind\":\"node_memory\",\"threshold\":512,"
		"\"recovery\":256}",
	    "recovery");
	accepted("{\"name\":\"x\",\"kind\":\"node_memory\",\"threshold\":256,"
		 "\"recovery\":512}");
}

static void
test_alertrule_durations(void **state)
{
	accepted("{" CPU_RULE ",\"for_seconds\":604800}");
	refused("{" CPU_RULE ",\"for_seconds\":604801}", "for_seconds");
	refused("{" CPU_RULE ",\"for_seconds\":-1}", "for_seconds");
	refused("{" CPU_RULE ",\"for_seconds\":1.5}", "for_seconds");
	refused("{" CPU_RULE ",\"window_seconds\":60}", "window_seconds");
	accepted("{" CPU_RULE ",\"window_seconds\":0}");
	refused("{\"name\":\"x\",\"kind\":\"task_restarts\",\"threshold\":3,"
		"\"recovery\":0}",
	    "window_seconds");
	refused("{\"name\":\"x\",\"kind\":\"task_restarts\",\"threshold\":3,"
		"\"recovery\":0,\"window_seconds\":59}",
	    "window_seconds");
}

static void
test_alertrule_nodata_enabled(void **state)
{
	accepted("{" CPU_RULE ",\"no_data\":\"ok\"}");
	refused("{" CPU_RULE ",\"no_data\":\"skip\"}", "no_data");
	refused("{" CPU_RULE ",\"no_data\":null}", "no_data");
	refused("{" CPU_RULE ",\"enabled\":1}", "enabled");
}

static void
test_alertrule_scope(void **state)
{
	refused("{" CPU_RULE ",\"scope\":[]}", "scope");
	refused("{" CPU_RULE ",\"scope\":{\"node_ids\":[0]}}",
	    "scope.node_ids");
	refused("{" CPU_RULE ",\"scope\":{\"node_ids\":[\"1\"]}}",
	    "scope.node_ids");
	refused("{" CPU_RULE ",\"scope\":{\"task_ids\":[3,3]}}",
	    "scope.task_ids");
	refused("{" CPU_RULE ",\"scope\":{\"task_ids\":5}}", "scope.task_ids");
	refused("{\"name\":\"x\",\"kind\":\"node_disk\",\"threshold\":10,"
		"\"recovery\":15,\"scope\":{\"task_ids\":[1]}}",
	    "scope.task_ids");
	accepted("{\"name\":\"x\",\"kind\":\"node_disk\",\"threshold\":10,"
		 "\"recovery\":15,\"scope\":{\"node_ids\":[1]}}");
}

static void
test_alertrule_scope_cap(void **state)
{
	struct auth_alertrule_err err;
	json_t			 *body, *ids, *rule;
	int			  i;

	body = json_loads("{" CPU_RULE "}", 0, NULL);
	ids = json_array();
	for (i = 1; i <= AUTH_ALERT_IDS_MAX; i++)
		json_array_append_new(ids, json_integer(i));
	json_object_set_new(body, "scope", json_pack("{s:O}", "task_ids", ids));
	assert_int_equal(auth_alertrule_check(body, NULL, &rule, &err), 1);
	json_decref(rule);
	json_array_append_new(ids, json_integer(i));
	json_object_set_new(body, "scope", json_pack("{s:O}", "task_ids", ids));
	assert_int_equal(auth_alertrule_check(body, NULL, &rule, &err), 0);
	assert_string_equal(err.field, "scope.task_ids");
	json_decref(ids);
	json_decref(body);
}

static void
test_alertrule_channels(void **state)
{
	refused("{" CPU_RULE ",\"channels\":[]}", "channels");
	refused("{" CPU_RULE ",\"channels\":[\"sms\"]}", "channels");
	refused("{" CPU_RULE ",\"channels\":[\"inbox\",\"inbox\"]}",
	    "channels");
	refused("{" CPU_RULE ",\"channels\":\"inbox\"}", "channels");
	accepted("{" CPU_RULE ",\"channels\":[\"callback\"]}");
}

static void
test_alertrule_emails(void **state)
{
	static const char *good[] = { "a@b.co",
		"first.last+tag@mail.example.org", "o'neil@x-y.example", NULL };
	static const char *bad[] = { "", "a", "a@b", "@b.co", "a@.co",
		"a@b.co.", "a@-b.co", "a@b-.co", "a..b@c.co", ".a@b.co",
		"a.@b.co", "a b@c.co", "a@b@c.co", "a@b_c.co",
		"a@b.co\r\nBcc:x", NULL };
	char		   buf[512];
	int		   i;

	for (i = 0; good[i] != NULL; i++)
		assert_int_equal(auth_alert_email_ok(good[i]), 1);
	for (i = 0; bad[i] != NULL; i++) {
		if (auth_alert_email_ok(bad[i]))
			fail_msg("accepted %s", bad[i]);
	}
	(void)snprintf(buf, sizeof(buf), "%065d@b.co", 0);
	assert_int_equal(auth_alert_email_ok(buf), 0);
	refused("{" CPU_RULE ",\"extra_emails\":[\"nope\"]}", "extra_emails");
	refused("{" CPU_RULE ",\"extra_emails\":[\"a@b.co\",\"A@B.CO\"]}",
	    "extra_emails");
	refused("{" CPU_RULE ",\"extra_emails\":\"a@b.co\"}", "extra_emails");
}

static void
test_alertrule_preview_days(void **state)
{
	struct auth_alertrule_err err;
	json_t			 *rule;
	int			  days = 0;

	assert_int_equal(check("{" CPU_RULE "}", &days, &rule, &err), 1);
	assert_int_equal(days, 7);
	json_decref(rule);
	assert_int_equal(check("{" CPU_RULE ",\"days\":2}", &days, &rule, &err),
	    1);
	assert_int_equal(days, 2);
	assert_null(json_object_get(rule, "days"));
	json_decref(rule);
	assert_int_equal(check("{" CPU_RULE ",\"days\":8}", &days, &rule, &err),
	    0);
	assert_string_equal(err.field, "days");
	assert_int_equal(check("{" CPU_RULE ",\"days\":0}", &days, &rule, &err),
	    0);
	assert_string_equal(err.field, "days");
}

static void
test_alertrule_kinds(void **state)
{
	int node = -1;

	assert_int_equal(auth_alert_kind_ok("node_offline", &node), 1);
	assert_int_equal(node, 1);
	assert_int_equal(auth_alert_kind_ok("task_exit", &node), 1);
	assert_int_equal(node, 0);
	assert_int_equal(auth_alert_kind_ok("Task_exit", &node), 0);
}

static void
test_alertrule_time(void **state)
{
	static const char *good[] = { "2026-12-02T10:00Z",
		"2026-12-02T10:00:59+01:00", "2026-12-02t10:00:00.123456-05:30",
		"2026-12-02T23:59:59z", "2028-02-29T00:00Z",
		"2000-02-29T00:00Z", NULL };
	static const char *bad[] = { "", "2026-12-02", "2026-12-02T10:00",
		"2026-12-02T10:00:00", "2026-13-02T10:00Z", "2026-12-32T10:00Z",
		"2026-12-02T24:00Z", "2026-12-02T10:60Z",
		"2026-12-02T10:00:61Z", "2026-12-02 10:00Z",
		"2026-12-02T10:00+0100", "2026-12-02T10:00Zx",
		"2026-12-02T10:00:00.Z", "2026-02-29T00:00Z",
		"2100-02-29T00:00Z", "2026-04-31T00:00Z", NULL };
	int		   i;

	for (i = 0; good[i] != NULL; i++) {
		if (!auth_alert_time_ok(good[i]))
			fail_msg("refused %s", good[i]);
	}
	for (i = 0; bad[i] != NULL; i++) {
		if (auth_alert_time_ok(bad[i]))
			fail_msg("accepted %s", bad[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alertrule_defaults),
		cmocka_unit_test(test_alertrule_full),
		cmocka_unit_test(test_alertrule_required),
		cmocka_unit_test(test_alertrule_all_fields),
		cmocka_unit_test(test_alertrule_unknown),
		cmocka_unit_test(test_alertrule_name),
		cmocka_unit_test(test_alertrule_kind_ranges),
		cmocka_unit_test(test_alertrule_direction),
		cmocka_unit_test(test_alertrule_durations),
		cmocka_unit_test(test_alertrule_nodata_enabled),
		cmocka_unit_test(test_alertrule_scope),
		cmocka_unit_test(test_alertrule_scope_cap),
		cmocka_unit_test(test_alertrule_channels),
		cmocka_unit_test(test_alertrule_emails),
		cmocka_unit_test(test_alertrule_preview_days),
		cmocka_unit_test(test_alertrule_kinds),
		cmocka_unit_test(test_alertrule_time),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
