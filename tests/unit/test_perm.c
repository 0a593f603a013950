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
	assert_int_equal(auth_level_node(&p, 1), AUTH_LEVEL_MANAGE);
	assert_int_equal(auth_level_task(&p, 10, 1), AUTH_LEVEL_MANAGE);
	assert_int_equal(auth_node_visible(&p, 1), 1);
	assert_int_equal(auth_any_grant(&p, AUTH_LEVEL_MANAGE), 1);
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
	assert_int_equal(auth_node_visible(&p, 1), 0);
	assert_int_equal(auth_node_visible(NULL, 1), 0);
	assert_int_equal(auth_any_grant(NULL, AUTH_LEVEL_VIEW), 0);
}

static void
test_perm_node_grant_covers_tasks(void **state)
{
	struct auth_grant     g[] = { { 1, 1, 0, AUTH_LEVEL_OPERATE, 0 } };
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
	struct auth_grant     g[] = { { 1, 0, 10, AUTH_LEVEL_VIEW, 0 } };
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

/* Manage implies operate and view; on a node it covers every task. */
static void
test_perm_manage(void **state)
{
	struct auth_grant     g[] = { { 1, 1, 0, AUTH_LEVEL_MANAGE, 0 },
		    { 2, 0, 20, AUTH_LEVEL_MANAGE, 2 } };
	struct auth_principal p;

	p = principal(g, 2);
	assert_int_equal(auth_level_node(&p, 1), AUTH_LEVEL_MANAGE);
	assert_true(auth_level_node(&p, 1) >= AUTH_LEVEL_OPERATE);
	assert_true(auth_level_node(&p, 1) >= AUTH_LEVEL_VIEW);
	assert_int_equal(auth_level_task(&p, 10, 1), AUTH_LEVEL_MANAGE);
	assert_int_equal(auth_level_task(&p, 11, 1), AUTH_LEVEL_MANAGE);
	/* Manage on task 20 manages that task, not its node: no creating
	 * tasks there, no action on the node, no sibling task. */
	assert_int_equal(auth_level_task(&p, 20, 2), AUTH_LEVEL_MANAGE);
	assert_int_equal(auth_level_node(&p, 2), AUTH_LEVEL_NONE);
	assert_int_equal(auth_level_task(&p, 21, 2), AUTH_LEVEL_NONE);
	assert_int_equal(auth_any_grant(&p, AUTH_LEVEL_MANAGE), 1);
}

/* An operate grant is not enough to change what a task runs. */
static void
test_perm_operate_below_manage(void **state)
{
	struct auth_grant     g[] = { { 1, 0, 10, AUTH_LEVEL_OPERATE, 1 },
		    { 2, 2, 0, AUTH_LEVEL_OPERATE, 0 } };
	struct auth_principal p;

	p = principal(g, 2);
	assert_int_equal(auth_level_task(&p, 10, 1), AUTH_LEVEL_OPERATE);
	assert_true(auth_level_task(&p, 10, 1) < AUTH_LEVEL_MANAGE);
	assert_true(auth_level_node(&p, 2) < AUTH_LEVEL_MANAGE);
	assert_true(auth_level_task(&p, 20, 2) < AUTH_LEVEL_MANAGE);
	assert_int_equal(auth_any_grant(&p, AUTH_LEVEL_OPERATE), 1);
	assert_int_equal(auth_any_grant(&p, AUTH_LEVEL_MANAGE), 0);
}

/*
 * A task grant shows the task's node (so a refused action on the node is
 * a 403, not a 404) but gives no level on it.
 */
static void
test_perm_task_grant_sees_node(void **state)
{
	struct auth_grant     g[] = { { 1, 0, 10, AUTH_LEVEL_VIEW, 1 },
		    { 2, 0, 30, AUTH_LEVEL_MANAGE, 0 } };
	struct auth_principal p;

	p = principal(g, 2);
	assert_int_equal(auth_node_visible(&p, 1), 1);
	assert_int_equal(auth_level_node(&p, 1), AUTH_LEVEL_NONE);
	assert_int_equal(auth_level_task(&p, 11, 1), AUTH_LEVEL_NONE);
	/* Another node; a task grant whose node is not known shows none. */
	assert_int_equal(auth_node_visible(&p, 2), 0);
	assert_int_equal(auth_node_visible(&p, 0), 0);
	assert_int_equal(auth_node_visible(&p, 30), 0);
	assert_int_equal(auth_level_task(&p, 30, 3), AUTH_LEVEL_MANAGE);
	/* A node grant shows its node. */
	g[0].node_id = 4;
	g[0].task_id = 0;
	g[0].task_node_id = 0;
	assert_int_equal(auth_node_visible(&p, 4), 1);
	assert_int_equal(auth_node_visible(&p, 1), 0);
}

static void
test_perm_best_of_several(void **state)
{
	struct auth_grant g[] = {
		{ 1, 1, 0, AUTH_LEVEL_VIEW, 0 },
		{ 2, 0, 10, AUTH_LEVEL_OPERATE, 0 },
		{ 3, 0, 11, AUTH_LEVEL_VIEW, 0 },
		{ 4, 2, 0, AUTH_LEVEL_OPERATE, 0 },
		{ 5, 2, 0, AUTH_LEVEL_VIEW, 0 },
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
		{ 1, 0, 10, AUTH_LEVEL_OPERATE, 0 },
		{ 2, 1, 0, AUTH_LEVEL_OPERATE, 0 },
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
	struct auth_grant     g[] = { { 1, 1, 0, (enum auth_level)7, 0 } };
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
	assert_int_equal(auth_level_parse("manage"), AUTH_LEVEL_MANAGE);
	assert_int_equal(auth_level_parse("Operate"), AUTH_LEVEL_NONE);
	assert_int_equal(auth_level_parse("admin"), AUTH_LEVEL_NONE);
	assert_int_equal(auth_level_parse("none"), AUTH_LEVEL_NONE);
	assert_int_equal(auth_level_parse(""), AUTH_LEVEL_NONE);
	assert_int_equal(auth_level_parse(NULL), AUTH_LEVEL_NONE);
	assert_string_equal(auth_level_str(AUTH_LEVEL_VIEW), "view");
	assert_string_equal(auth_level_str(AUTH_LEVEL_OPERATE), "operate");
	assert_string_equal(auth_level_str(AUTH_LEVEL_MANAGE), "manage");
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

	/* The fifth member: a task grant's node. */
	assert_int_equal(
	    parse("[[1,5,null,\"manage\",null],"
		  "[2,null,9,\"view\",5],[3,null,8,\"view\",null]]",
		&g, &n),
	    1);
	assert_int_equal(n, 3);
	assert_int_equal(g[0].level, AUTH_LEVEL_MANAGE);
	assert_int_equal(g[0].task_node_id, 0);
	assert_int_equal(g[1].task_node_id, 5);
	assert_int_equal(g[2].task_node_id, 0);
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
		"[[1,5,null,\"view\",3]]",
		"[[1,null,9,\"view\",0]]",
		"[[1,null,9,\"view\",-1]]",
		"[[1,null,9,\"view\",\"5\"]]",
		"[[1,null,9,\"view\",5,6]]",
		"[[1,5,null,\"Manage\"]]",
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

static int
in_roots(const char *dir, const char *roots)
{
	return (
	    auth_dir_in_roots(dir, roots, roots ? strlen(roots) : 0, NULL, 0));
}

static void
test_perm_dir_in_roots(void **state)
{
	const char *r = "[{\"path\":\"/srv/yard\",\"user\":\"yard-task\"},"
			"{\"path\":\"/opt/legacy/\",\"user\":\"root\"}]";
	char	    list[64];

	assert_int_equal(in_roots("/srv/yard/app", r), 1);
	assert_int_equal(in_roots("/srv/yard/a/b/c", r), 1);
	assert_int_equal(in_roots("/srv/yard/app/", r), 1);
	assert_int_equal(in_roots("//srv//yard/./app", r), 1);
	assert_int_equal(in_roots("/opt/legacy/x", r), 1);
	/* Whole components: a sibling sharing a prefix is outside. */
	assert_int_equal(in_roots("/srv/yardx", r), 0);
	assert_int_equal(in_roots("/srv/yardx/app", r), 0);
	assert_int_equal(in_roots("/opt/legacyx", r), 0);
	/* The root itself, its parents, elsewhere. */
	assert_int_equal(in_roots("/srv/yard", r), 0);
	assert_int_equal(in_roots("/srv/yard/", r), 0);
	assert_int_equal(in_roots("/srv/yard/.", r), 0);
	assert_int_equal(in_roots("/srv", r), 0);
	assert_int_equal(in_roots("/", r), 0);
	assert_int_equal(in_roots("/etc", r), 0);
	assert_int_equal(in_roots("/srv/yard/../../etc", r), 0);
	assert_int_equal(in_roots("relative/srv/yard/x", r), 0);
	/* Plain strings; "/" allows everything below it. */
	assert_int_equal(in_roots("/srv/yard/x", "[\"/srv/yard\"]"), 1);
	assert_int_equal(in_roots("/anything", "[\"/\"]"), 1);
	assert_int_equal(in_roots("/", "[\"/\"]"), 0);
	/* No policy reported: the server does not judge. */
	assert_int_equal(in_roots("/etc", NULL), 1);
	assert_int_equal(in_roots("/etc", "null"), 1);
	assert_int_equal(in_roots("/etc", "{}"), 1);
	/* A policy with no usable root allows nothing. */
	assert_int_equal(in_roots("/srv/yard/x", "[]"), 0);
	assert_int_equal(in_roots("/srv/yard/x", "[{\"user\":\"x\"},3]"), 0);

	/* The roots, for the message; cut to the buffer. */
	assert_int_equal(auth_dir_in_roots("/etc", r, strlen(r), list,
			     sizeof(list)),
	    0);
	assert_string_equal(list, "/srv/yard, /opt/legacy/");
	assert_int_equal(auth_dir_in_roots("/etc", r, strlen(r), list, 12), 0);
	assert_string_equal(list, "/srv/yard, ");
	assert_int_equal(auth_dir_in_roots("/srv/yard/a", r, strlen(r), list,
			     sizeof(list)),
	    1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_perm_admin),
		cmocka_unit_test(test_perm_no_grants_deny),
		cmocka_unit_test(test_perm_node_grant_covers_tasks),
		cmocka_unit_test(test_perm_task_grant_narrow),
		cmocka_unit_test(test_perm_manage),
		cmocka_unit_test(test_perm_operate_below_manage),
		cmocka_unit_test(test_perm_task_grant_sees_node),
		cmocka_unit_test(test_perm_best_of_several),
		cmocka_unit_test(test_perm_zero_ids),
		cmocka_unit_test(test_perm_bad_level_ignored),
		cmocka_unit_test(test_perm_level_strings),
		cmocka_unit_test(test_perm_grants_parse_good),
		cmocka_unit_test(test_perm_grants_parse_bad),
		cmocka_unit_test(test_perm_grants_parse_cap),
		cmocka_unit_test(test_perm_grants_roundtrip),
		cmocka_unit_test(test_perm_dir_in_roots),
	};

	return (cmocka_run_group_tests_name("perm", tests, NULL, NULL));
}
