/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for src/auth/perm.c: SPEC 4 permission rules and the grants
 * JSON the database hands back.
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

/* Node 1 has tasks 10 and 11; node 2 has task 20. */
static struct auth_principal
principal(struct auth_grant *g, size_t n)
{
	struct auth_principal p;

	memset(&p, 0, sizeof(p));
	p.user_id = 7;
	p.grants = g;
	p.ngrants = n;
	return (p);
}

static void
test_perm_admin(void **state)
{
	struct auth_principal p;

	p = principal(NULL, 0);
	p.admin = 1;
	assert_int_equal(auth_level_node(&p, 1), AUTH_LEVEL_OPERATE);
	assert_int_equal(auth_level_task(&p, 10, 1), AUTH_LEVEL_OPERATE);
	assert_int_equal(auth_any_grant(&p, AUTH_LEVEL_OPERATE), 1);
}

static void
test_perm_no_grants_deny(void **state)
{
	struct auth_principal p;

	p = principal(NULL, 0);
	assert_int_equal(auth_level_node(&p, 1), AUTH_LEVEL_NONE);
	assert_int_equal(auth_level_task(&p, 10, 1), AUTH_LEVEL_NONE);
	assert_int_equal(auth_any_grant(&p, AUTH_LEVEL_VIEW), 0);
	assert_int_equal(auth_any_grant(&p, AUTH_LEVEL_NONE), 0);
	assert_int_equal(auth_level_node(NULL, 1), AUTH_LEVEL_NONE);
	assert_int_equal(auth_level_task(NULL, 10, 1), AUTH_LEVEL_NONE);
	assert_int_equal(auth_any_grant(NULL, AUTH_LEVEL_VIEW), 0);
}

static void
test_perm_node_grant_covers_tasks(void **state)
{
	struct auth_grant     g[] = { { 1, 1, 0, AUTH_LEVEL_OPERATE } };
	struct auth_principal p;

	p = principal(g, 1);
	assert_int_equal(auth_level_node(&p, 1), AUTH_LEVEL_OPERATE);
	assert_int_equal(auth_level_task(&p, 10, 1), AUTH_LEVEL_OPERATE);
	assert_int_equal(auth_level_task(&p, 11, 1), AUTH_LEVEL_OPERATE);
	/* Not another node's task, nor another node. */
	assert_int_equal(auth_level_task(&p, 20, 2), AUTH_LEVEL_NONE);
	assert_int_equal(auth_level_node(&p, 2), AUTH_LEVEL_NONE);
}

static void
test_perm_task_grant_narrow(void **state)
{
	struct auth_grant     g[] = { { 1, 0, 10, AUTH_LEVEL_VIEW } };
	struct auth_principal p;

	p = principal(g, 1);
	assert_int_equal(auth_level_task(&p, 10, 1), AUTH_LEVEL_VIEW);
	/* A sibling task on the same node: nothing. */
	assert_int_equal(auth_level_task(&p, 11, 1), AUTH_LEVEL_NONE);
	/* The node itself: nothing. */
	assert_int_equal(auth_level_node(&p, 1), AUTH_LEVEL_NONE);
	/* A task id that equals a node id is still a task id. */
	assert_int_equal(auth_level_node(&p, 10), AUTH_LEVEL_NONE);
	assert_int_equal(auth_any_grant(&p, AUTH_LEVEL_VIEW), 1);
	assert_int_equal(auth_any_grant(&p, AUTH_LEVEL_OPERATE), 0);
}

static void
test_perm_best_of_several(void **state)
{
	struct auth_grant g[] = {
		{ 1, 1, 0, AUTH_LEVEL_VIEW },
		{ 2, 0, 10, AUTH_LEVEL_OPERATE },
		{ 3, 0, 11, AUTH_LEVEL_VIEW },
		{ 4, 2, 0, AUTH_LEVEL_OPERATE },
		{ 5, 2, 0, AUTH_LEVEL_VIEW },
	};
	struct auth_principal p;

	p = principal(g, 5);
	assert_int_equal(auth_level_task(&p, 10, 1), AUTH_LEVEL_OPERATE);
	assert_int_equal(auth_level_task(&p, 11, 1), AUTH_LEVEL_VIEW);
	assert_int_equal(auth_level_node(&p, 1), AUTH_LEVEL_VIEW);
	assert_int_equal(auth_level_node(&p, 2), AUTH_LEVEL_OPERATE);
	assert_int_equal(auth_level_task(&p, 20, 2), AUTH_LEVEL_OPERATE);
	assert_int_equal(auth_any_grant(&p, AUTH_LEVEL_OPERATE), 1);
}

/* Id 0 marks "no node"/"no task" in a grant; it must match nothing. */
static void
test_perm_zero_ids(void **state)
{
	struct auth_grant g[] = {
		{ 1, 0, 10, AUTH_LEVEL_OPERATE },
		{ 2, 1, 0, AUTH_LEVEL_OPERATE },
	};
	struct auth_principal p;

	p = principal(g, 2);
	assert_int_equal(auth_level_node(&p, 0), AUTH_LEVEL_NONE);
	assert_int_equal(auth_level_task(&p, 0, 1), AUTH_LEVEL_NONE);
	assert_int_equal(auth_level_node(&p, -1), AUTH_LEVEL_NONE);
	/* Unknown node of the task: only task grants count. */
	assert_int_equal(auth_level_task(&p, 10, 0), AUTH_LEVEL_OPERATE);
	assert_int_equal(auth_level_task(&p, 12, 0), AUTH_LEVEL_NONE);
}

static void
test_perm_bad_level_ignored(void **state)
{
	struct auth_grant     g[] = { { 1, 1, 0, (enum auth_level)7 } };
	struct auth_principal p;

	p = principal(g, 1);
	assert_int_equal(auth_level_node(&p, 1), AUTH_LEVEL_NONE);
	assert_int_equal(auth_any_grant(&p, AUTH_LEVEL_VIEW), 0);
}

static void
test_perm_level_strings(void **state)
{
	assert_int_equal(auth_level_parse("view"), AUTH_LEVEL_VIEW);
	assert_int_equal(auth_level_parse("operate"), AUTH_LEVEL_OPERATE);
	assert_int_equal(auth_level_parse("Operate"), AUTH_LEVEL_NONE);
	assert_int_equal(auth_level_parse("none"), AUTH_LEVEL_NONE);
	assert_int_equal(auth_level_parse(""), AUTH_LEVEL_NONE);
	assert_int_equal(auth_level_parse(NULL), AUTH_LEVEL_NONE);
	assert_string_equal(auth_level_str(AUTH_LEVEL_VIEW), "view");
	assert_string_equal(auth_level_str(AUTH_LEVEL_OPERATE), "operate");
	assert_string_equal(auth_level_str(AUTH_LEVEL_NONE), "none");
	assert_string_equal(auth_level_str((enum auth_level)9), "none");
}

static int
parse(const char *json, struct auth_grant **g, size_t *n)
{
	return (auth_grants_parse(json, strlen(json), g, n));
}

static void
test_perm_grants_parse_good(void **state)
{
	struct auth_grant *g;
	size_t		   n;

	assert_int_equal(parse("[[1,5,null,\"view\"],[2,null,9,\"operate\"]]",
			     &g, &n),
	    1);
	assert_int_equal(n, 2);
	assert_int_equal(g[0].id, 1);
	assert_int_equal(g[0].node_id, 5);
	assert_int_equal(g[0].task_id, 0);
	assert_int_equal(g[0].level, AUTH_LEVEL_VIEW);
	assert_int_equal(g[1].id, 2);
	assert_int_equal(g[1].node_id, 0);
	assert_int_equal(g[1].task_id, 9);
	assert_int_equal(g[1].level, AUTH_LEVEL_OPERATE);
	free(g);

	assert_int_equal(parse(" [ ] ", &g, &n), 1);
	assert_int_equal(n, 0);
	free(g);

	assert_int_equal(parse("[[9007199254740993,1,null,\"view\"]]", &g, &n),
	    1);
	assert_int_equal(g[0].id, 9007199254740993LL);
	free(g);
}

static void
test_perm_grants_parse_bad(void **state)
{
	static const char *bad[] = {
		"",
		"null",
		"{}",
		"[",
		"[1]",
		"[[]]",
		"[null]",
		"[[1,5,null]]",
		"[[1,5,null,\"view\",0]]",
		"[[1,5,9,\"view\"]]",
		"[[1,null,null,\"view\"]]",
		"[[1,5,null,\"admin\"]]",
		"[[1,5,null,\"VIEW\"]]",
		"[[1,5,null,null]]",
		"[[1,5,null,2]]",
		"[[\"1\",5,null,\"view\"]]",
		"[[1,\"5\",null,\"view\"]]",
		"[[1,5.0,null,\"view\"]]",
		"[[1,0,null,\"view\"]]",
		"[[1,-5,null,\"view\"]]",
		"[[0,5,null,\"view\"]]",
		"[[1,null,0,\"operate\"]]",
		"[[1,5,null,\"view\"]] x",
		"[[1,5,null,\"view\"],[2,5,null,\"view\"],3]",
		"[[1,5,null,\"view\"],{\"a\":1}]",
		"[[1,99999999999999999999,null,\"view\"]]",
	};
	struct auth_grant *g;
	size_t		   i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		g = (struct auth_grant *)&n;
		n = 42;
		assert_int_equal(parse(bad[i], &g, &n), 0);
		assert_null(g);
		assert_int_equal(n, 0);
	}
	assert_int_equal(auth_grants_parse(NULL, 0, &g, &n), 0);
}

static void
test_perm_grants_parse_cap(void **state)
{
	struct auth_grant *g;
	char		  *json;
	size_t		   i, o, n, cap;

	cap = 100001 * 24 + 16;
	json = malloc(cap);
	assert_non_null(json);

	/* 100000 rows pass, 100001 do not. */
	o = (size_t)snprintf(json, cap, "[");
	for (i = 0; i < 100000; i++)
		o += (size_t)snprintf(json + o, cap - o,
		    "%s[%zu,1,null,\"view\"]", i ? "," : "", i + 1);
	snprintf(json + o, cap - o, "]");
	assert_int_equal(auth_grants_parse(json, strlen(json), &g, &n), 1);
	assert_int_equal(n, 100000);
	free(g);

	snprintf(json + o, cap - o, ",[100001,1,null,\"view\"]]");
	assert_int_equal(auth_grants_parse(json, strlen(json), &g, &n), 0);
	assert_null(g);
	free(json);
}

static void
test_perm_grants_roundtrip(void **state)
{
	struct auth_grant    *g;
	struct auth_principal p;
	size_t		      n;

	assert_int_equal(parse("[[1,1,null,\"view\"],[2,null,10,\"operate\"]]",
			     &g, &n),
	    1);
	p = principal(g, n);
	assert_int_equal(auth_level_task(&p, 10, 1), AUTH_LEVEL_OPERATE);
	assert_int_equal(auth_level_task(&p, 11, 1), AUTH_LEVEL_VIEW);
	assert_int_equal(auth_level_node(&p, 1), AUTH_LEVEL_VIEW);
	free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_perm_admin),
		cmocka_unit_test(test_perm_no_grants_deny),
		cmocka_unit_test(test_perm_node_grant_covers_tasks),
		cmocka_unit_test(test_perm_task_grant_narrow),
		cmocka_unit_test(test_perm_best_of_several),
		cmocka_unit_test(test_perm_zero_ids),
		cmocka_unit_test(test_perm_bad_level_ignored),
		cmocka_unit_test(test_perm_level_strings),
		cmocka_unit_test(test_perm_grants_parse_good),
		cmocka_unit_test(test_perm_grants_parse_bad),
		cmocka_unit_test(test_perm_grants_parse_cap),
		cmocka_unit_test(test_perm_grants_roundtrip),
	};

	return (cmocka_run_group_tests_name("perm", tests, NULL, NULL));
}
