/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for src/auth/perm.c: level names, the grants JSON the
 * database hands back, deploy directories under allowed roots.  The level
 * rule itself is SQL (tests/integration/permsql.test.js).
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
	struct auth_grant *g;
	size_t		   n;

	assert_int_equal(parse("[[1,1,null,\"view\"],[2,null,10,\"operate\"]]",
			     &g, &n),
	    1);
	assert_int_equal(n, 2);
	assert_int_equal(g[0].node_id, 1);
	assert_int_equal(g[0].task_id, 0);
	assert_int_equal(g[0].level, AUTH_LEVEL_VIEW);
	assert_int_equal(g[1].node_id, 0);
	assert_int_equal(g[1].task_id, 10);
	assert_int_equal(g[1].level, AUTH_LEVEL_OPERATE);
	free(g);
}

static int
in_roots(const char *dir, const char *roots)
{
	return (
	    auth_dir_in_roots(dir, roots, roots ? strlen(roots) : 0, NULL, 0));
}

static int
in_roots_win(const char *dir, const char *roots)
{
	return (auth_dir_in_roots_win(dir, roots, roots ? strlen(roots) : 0,
	    NULL, 0));
}

/* A Windows node: either separator, case ignored, whole components. */
static void
test_perm_dir_in_roots_win(void **state)
{
	const char *r =
	    "[{\"path\":\"C:\\\\Yard\"},\"\\\\\\\\files\\\\share\"]";
	char list[64];

	assert_int_equal(in_roots_win("c:/yard/App/", r), 1);
	assert_int_equal(in_roots_win("C:\\YARD\\.\\b", r), 1);
	assert_int_equal(in_roots_win("\\\\FILES\\share\\c", r), 1);
	assert_int_equal(in_roots_win("//files/share/d", r), 1);
	assert_int_equal(in_roots_win("C:\\Yard", r), 0);
	assert_int_equal(in_roots_win("C:\\YardX\\app", r), 0);
	assert_int_equal(in_roots_win("D:\\Yard\\app", r), 0);
	assert_int_equal(in_roots_win("C:\\", r), 0);
	assert_int_equal(in_roots_win("\\\\files\\sharex\\a", r), 0);
	assert_int_equal(in_roots_win("C:\\Yard\\..\\Windows", r), 0);
	assert_int_equal(in_roots_win("C:\\Windows", NULL), 1);
	assert_int_equal(auth_dir_in_roots_win("E:\\x", r, strlen(r), list,
			     sizeof(list)),
	    0);
	assert_string_equal(list, "C:\\Yard, \\\\files\\share");
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
		cmocka_unit_test(test_perm_level_strings),
		cmocka_unit_test(test_perm_grants_parse_good),
		cmocka_unit_test(test_perm_grants_parse_bad),
		cmocka_unit_test(test_perm_grants_parse_cap),
		cmocka_unit_test(test_perm_grants_roundtrip),
		cmocka_unit_test(test_perm_dir_in_roots),
		cmocka_unit_test(test_perm_dir_in_roots_win),
	};

	return (cmocka_run_group_tests_name("perm", tests, NULL, NULL));
}
