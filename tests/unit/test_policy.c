/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for agent/policy.c: the policy file parser (every member,
 * defaults, clear errors), account checks, path resolution (symlinks in
 * directories, "..", absolute links inside), the deploy directory rules
 * (roots, the state directory), a task's checks and what it may expose.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

static char top[256]; /* a real temporary directory */

static int
setup(void **state)
{
	char tmpl[] = "/tmp/test_policy.XXXXXX", real[PATH_MAX];

	if (mkdtemp(tmpl) == NULL || realpath(tmpl, real) == NULL ||
	    strlen(real) >= sizeof(top))
		return (-1);
	memcpy(top, real, strlen(real) + 1);
	return (0);
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return (system(cmd) == 0 ? 0 : -1);
}

/* top/<rel>, in a static buffer per call site. */
static const char *
at(char *buf, size_t len, const char *rel)
{
	(void)snprintf(buf, len, "%s/%s", top, rel);
	return (buf);
}

static void
mkdir_at(const char *rel)
{
	char p[PATH_MAX];

	assert_int_equal(mkdir(at(p, sizeof(p), rel), 0755), 0);
}

static void
symlink_at(const char *target, const char *rel)
{
	char p[PATH_MAX];

	assert_int_equal(symlink(target, at(p, sizeof(p), rel)), 0);
}

static void
write_at(const char *rel, const char *text)
{
	char p[PATH_MAX];
	int  fd;

	fd = open(at(p, sizeof(p), rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	(void)close(fd);
}

static int
parse(struct agent_policy *pol, const char *text, char *err, size_t len)
{
	err[0] = '\0';
	return (agent_policy_parse(pol, text, strlen(text), err, len));
}

static void
test_policy_defaults(void **state)
{
	struct agent_policy pol;
	char		    err[512];

	agent_policy_default(&pol);
	assert_int_equal(pol.p.nroots, 1);
	assert_string_equal(pol.p.roots[0].path, "/srv/yard");
	assert_string_equal(pol.p.roots[0].user, "yard-task");
	assert_int_equal(pol.named[0], 0);
	assert_string_equal(pol.p.user, "yard-task");
	assert_int_equal(pol.p.nkinds, 0);
	assert_int_equal(pol.p.nrefuse_env, 1);
	assert_string_equal(pol.p.refuse_env[0], "LD_*");
	assert_int_equal(pol.p.tasks, 256);
	assert_int_equal(pol.p.log_bytes, 10485760);
	/* An empty object is the defaults too. */
	assert_int_equal(parse(&pol, "{}", err, sizeof(err)), 1);
	assert_string_equal(pol.p.roots[0].path, "/srv/yard");
	assert_string_equal(pol.p.refuse_env[0], "LD_*");
}

static void
test_policy_parse(void **state)
{
	struct agent_policy pol;
	char		    err[512];
	const char	   *text =
	    "{\"#\": \"a comment\","
	    " \"roots\": [\"/srv/yard\", {\"path\": \"/opt/legacy\","
	    "   \"user\": \"root\", \"#why\": \"old apps\"}],"
	    " \"kinds\": {\"tomcat\": {\"user\": \"tomcat\"}},"
	    " \"refuse_env\": [\"LD_*\", \"JAVA_TOOL_OPTIONS\"],"
	    " \"limits\": {\"tasks\": 10, \"log_bytes\": 2048},"
	    " \"user\": \"apps\"}";

	assert_int_equal(parse(&pol, text, err, sizeof(err)), 1);
	assert_int_equal(pol.p.nroots, 2);
	assert_string_equal(pol.p.roots[0].path, "/srv/yard");
	/* A root naming no account reports the default one, named later. */
	assert_string_equal(pol.p.roots[0].user, "apps");
	assert_int_equal(pol.named[0], 0);
	assert_string_equal(pol.p.roots[1].path, "/opt/legacy");
	assert_string_equal(pol.p.roots[1].user, "root");
	assert_int_equal(pol.named[1], 1);
	assert_string_equal(pol.p.user, "apps");
	assert_int_equal(pol.p.nkinds, 1);
	assert_string_equal(pol.p.kinds[0].kind, "tomcat");
	assert_string_equal(pol.p.kinds[0].user, "tomcat");
	assert_int_equal(pol.p.nrefuse_env, 2);
	assert_string_equal(pol.p.refuse_env[1], "JAVA_TOOL_OPTIONS");
	assert_int_equal(pol.p.tasks, 10);
	assert_int_equal(pol.p.log_bytes, 2048);
	/* A given refuse_env replaces the default: [] allows LD_*. */
	assert_int_equal(parse(&pol, "{\"refuse_env\": []}", err, sizeof(err)),
	    1);
	assert_int_equal(pol.p.nrefuse_env, 0);
	assert_int_equal(parse(&pol, "{\"roots\": [\"/\"]}", err, sizeof(err)),
	    1);
}

static void
test_policy_parse_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} t[] = {
		{ "", "line 1" },
		{ "{\"roots\": [\"/a\"],}", "line 1" },
		{ "[]", "must be a JSON object" },
		{ "{\"user\": \"a\", \"user\": \"b\"}", "duplicate" },
		{ "{\"root\": [\"/srv\"]}", "unknown member \"root\"" },
		{ "{\"roots\": \"/srv/yard\"}", "roots: must be an array" },
		{ "{\"roots\": []}", "roots: must be an array of 1 to" },
		{ "{\"roots\": [\"srv/yard\"]}", "roots[0]: \"srv/yard\"" },
		{ "{\"roots\": [\"/srv/yard/\"]}", "normal form" },
		{ "{\"roots\": [\"/srv//yard\"]}", "normal form" },
		{ "{\"roots\": [\"/srv/./yard\"]}", "normal form" },
		{ "{\"roots\": [\"/srv/../etc\"]}", "normal form" },
		{ "{\"roots\": [\"/a\", \"/a\"]}",
		    "roots[1]: /a is listed twice" },
		{ "{\"roots\": [5]}", "roots[0]: must be a path or an object" },
		{ "{\"roots\": [{\"user\": \"root\"}]}",
		    "roots[0].path: missing" },
		{ "{\"roots\": [{\"path\": \"/a\", \"uid\": 0}]}",
		    "roots[0]: unknown member \"uid\"" },
		{ "{\"roots\": [{\"path\": \"/a\", \"user\": 0}]}",
		    "roots[0].user: must be a string" },
		{ "{\"roots\": [{\"path\": \"/a\", \"user\": \"a b\"}]}",
		    "roots[0].user: must be an account name" },
		{ "{\"user\": 5}", "user: must be an account name" },
		{ "{\"user\": \"\"}", "user: must be an account name" },
		{ "{\"user\": \"-x\"}", "user: must be an account name" },
		{ "{\"kinds\": []}", "kinds: must be an object" },
		{ "{\"kinds\": {\"python\": {\"user\": \"a\"}}}",
		    "unknown task kind \"python\"" },
		{ "{\"kinds\": {\"tomcat\": \"tomcat\"}}",
		    "kinds.tomcat: must be an object" },
		{ "{\"kinds\": {\"tomcat\": {}}}",
		    "kinds.tomcat.user: missing" },
		{ "{\"kinds\": {\"jar\": {\"user\": \"a\", \"group\": \"b\"}}}",
		    "kinds.jar: unknown member \"group\"" },
		{ "{\"refuse_env\": \"LD_*\"}",
		    "refuse_env: must be an array" },
		{ "{\"refuse_env\": [\"\"]}",
		    "refuse_env[0]: must be a pattern" },
		{ "{\"refuse_env\": [\"LD_*\", \"A=B\"]}", "refuse_env[1]" },
		{ "{\"refuse_env\": [7]}", "refuse_env[0]" },
		{ "{\"limits\": 5}", "limits: must be an object" },
		{ "{\"limits\": {\"tasks\": 257}}",
		    "limits.tasks: must be an "
		    "integer from 0 to 256" },
		{ "{\"limits\": {\"tasks\": -1}}", "limits.tasks" },
		{ "{\"limits\": {\"tasks\": \"5\"}}", "limits.tasks" },
		{ "{\"limits\": {\"log_bytes\": 10}}", "limits.log_bytes" },
		{ "{\"limits\": {\"log_bytes\": 1.5e9}}", "limits.log_bytes" },
		{ "{\"limits\": {\"cpu\": 1}}",
		    "limits: unknown member \"cpu\"" },
	};
	struct agent_policy pol;
	char		    err[512];
	size_t		    i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (parse(&pol, t[i].text, err, sizeof(err)))
			fail_msg("accepted: %s", t[i].text);
		if (strstr(err, t[i].want) == NULL)
			fail_msg("%s: '%s', want '%s'", t[i].text, err,
			    t[i].want);
		/* A refused file leaves the defaults, nothing half-read. */
		assert_string_equal(pol.p.roots[0].path, "/srv/yard");
		assert_string_equal(pol.p.user, "yard-task");
	}
}

static void
test_policy_accounts(void **state)
{
	struct agent_policy pol;
	char		    err[512];

	assert_int_equal(parse(&pol,
			     "{\"user\": \"nobody\", \"roots\": [\"/a\", "
			     "{\"path\": \"/b\", \"user\": \"root\"}], "
			     "\"kinds\": {\"jar\": {\"user\": \"daemon\"}}}",
			     err, sizeof(err)),
	    1);
	assert_int_equal(agent_policy_accounts(&pol, err, sizeof(err)), 1);
	assert_int_equal(parse(&pol, "{\"user\": \"no-such-account-yard\"}",
			     err, sizeof(err)),
	    1);
	assert_int_equal(agent_policy_accounts(&pol, err, sizeof(err)), 0);
	assert_string_equal(err,
	    "user: no account named no-such-account-yard "
	    "here");
	/* Root only where a root entry or a kind names it. */
	assert_int_equal(parse(&pol, "{\"user\": \"root\"}", err, sizeof(err)),
	    1);
	assert_int_equal(agent_policy_accounts(&pol, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "user: root is root"));
	assert_int_equal(parse(&pol,
			     "{\"user\": \"nobody\", \"roots\": [{\"path\": "
			     "\"/b\", \"user\": \"no-such-account-yard\"}]}",
			     err, sizeof(err)),
	    1);
	assert_int_equal(agent_policy_accounts(&pol, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "roots[0].user: no account named"));
	assert_int_equal(parse(&pol,
			     "{\"user\": \"nobody\", \"kinds\": {\"tomcat\": "
			     "{\"user\": \"no-such-account-yard\"}}}",
			     err, sizeof(err)),
	    1);
	assert_int_equal(agent_policy_accounts(&pol, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "kinds.tomcat.user: no account named"));
}

static void
test_policy_load(void **state)
{
	struct agent_policy pol;
	char		    err[1024], p[PATH_MAX];

	/* No file given and none at the default place: the defaults. */
	if (access(AGENT_POLICY_FILE, F_OK) == -1) {
		assert_int_equal(agent_policy_load(&pol, NULL, err,
				     sizeof(err)),
		    1);
		assert_string_equal(pol.file, "");
		assert_string_equal(pol.p.roots[0].path, "/srv/yard");
	}
	/* A file given but missing: an error naming it. */
	assert_int_equal(agent_policy_load(&pol, at(p, sizeof(p), "none.json"),
			     err, sizeof(err)),
	    0);
	assert_non_null(strstr(err, p));
	assert_non_null(strstr(err, "No such file"));
	write_at("bad.json", "{\"roots\": [\"relative\"]}");
	assert_int_equal(agent_policy_load(&pol, at(p, sizeof(p), "bad.json"),
			     err, sizeof(err)),
	    0);
	assert_non_null(strstr(err, p));
	assert_non_null(strstr(err, "roots[0]"));
	write_at("who.json", "{\"user\": \"no-such-account-yard\"}");
	assert_int_equal(agent_policy_load(&pol, at(p, sizeof(p), "who.json"),
			     err, sizeof(err)),
	    0);
	assert_non_null(strstr(err, "no account named no-such-account-yard"));
	write_at("good.json",
	    "{\"roots\": [\"/srv/apps\"], \"user\": \"nobody\"}\n");
	assert_int_equal(agent_policy_load(&pol, at(p, sizeof(p), "good.json"),
			     err, sizeof(err)),
	    1);
	assert_string_equal(pol.file, p);
	assert_string_equal(pol.p.roots[0].path, "/srv/apps");
	assert_string_equal(pol.p.roots[0].user, "nobody");
}

static void
test_path_resolve(void **state)
{
	char out[PATH_MAX], p[PATH_MAX], want[PATH_MAX];

	mkdir_at("a");
	write_at("a/file", "x");
	symlink_at("a", "rel"); /* relative, inside */
	at(want, sizeof(want), "a");
	symlink_at(want, "abs"); /* absolute, inside */
	symlink_at("/etc", "out"); /* leads outside */
	symlink_at("/nonexistent-yard-test", "dangling");

	assert_int_equal(agent_path_resolve(at(p, sizeof(p), "a"), out,
			     sizeof(out)),
	    1);
	assert_string_equal(out, want);
	/* Missing components are kept, "." and "//" dropped. */
	assert_int_equal(agent_path_resolve(at(p, sizeof(p), "a/x/./y//z"), out,
			     sizeof(out)),
	    1);
	assert_string_equal(out, at(want, sizeof(want), "a/x/y/z"));
	/* Links in directories are followed, relative or absolute. */
	assert_int_equal(agent_path_resolve(at(p, sizeof(p), "rel/new"), out,
			     sizeof(out)),
	    1);
	assert_string_equal(out, at(want, sizeof(want), "a/new"));
	assert_int_equal(agent_path_resolve(at(p, sizeof(p), "abs/new"), out,
			     sizeof(out)),
	    1);
	assert_string_equal(out, at(want, sizeof(want), "a/new"));
	assert_int_equal(agent_path_resolve(at(p, sizeof(p), "out/shadow"), out,
			     sizeof(out)),
	    1);
	assert_string_equal(out, "/etc/shadow");
	/* ".." anywhere, a dangling link, a file as a directory: no. */
	assert_int_equal(agent_path_resolve(at(p, sizeof(p), "a/../a"), out,
			     sizeof(out)),
	    0);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(agent_path_resolve(at(p, sizeof(p), "a/x/.."), out,
			     sizeof(out)),
	    0);
	assert_int_equal(agent_path_resolve(at(p, sizeof(p), "dangling/x"), out,
			     sizeof(out)),
	    0);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(agent_path_resolve(at(p, sizeof(p), "a/file/x"), out,
			     sizeof(out)),
	    0);
	assert_int_equal(agent_path_resolve("relative", out, sizeof(out)), 0);
	assert_int_equal(agent_path_resolve("/", out, sizeof(out)), 1);
	assert_string_equal(out, "/");
	/* Nothing of it exists below "/" (a fresh node's /srv/yard/x). */
	assert_int_equal(agent_path_resolve("/no-such-dir-yard/x/y", out,
			     sizeof(out)),
	    1);
	assert_string_equal(out, "/no-such-dir-yard/x/y");

	assert_true(agent_path_inside("/srv/yard/a", "/srv/yard"));
	assert_true(agent_path_inside("/srv/yard", "/srv/yard"));
	assert_false(agent_path_inside("/srv/yardx", "/srv/yard"));
	assert_true(agent_path_inside("/etc", "/"));
	assert_false(agent_path_below("/srv/yard", "/srv/yard"));
	assert_true(agent_path_below("/srv/yard/a", "/srv/yard"));
}

/* A policy with roots top/root and top/root/legacy (user root). */
static void
two_roots(struct agent_policy *pol)
{
	char text[4 * PATH_MAX], err[512];

	(void)snprintf(text, sizeof(text),
	    "{\"roots\": [\"%s/root\", {\"path\": \"%s/root/legacy\", "
	    "\"user\": \"root\"}], \"user\": \"daemon\", "
	    "\"kinds\": {\"jar\": {\"user\": \"nobody\"}}}",
	    top, top);
	assert_int_equal(parse(pol, text, err, sizeof(err)), 1);
}

static void
test_policy_dir(void **state)
{
	struct agent_policy pol;
	char		    rdir[PATH_MAX], why[1024], p[PATH_MAX], s[PATH_MAX];
	int		    root;

	mkdir_at("root");
	mkdir_at("root/legacy");
	mkdir_at("root/sub");
	mkdir_at("root/sub/agent");
	mkdir_at("other");
	symlink_at("/etc", "root/etcdir");
	symlink_at("../other", "root/sneaky");
	two_roots(&pol);
	at(s, sizeof(s), "root/sub/agent");

	assert_int_equal(agent_policy_dir(&pol, at(p, sizeof(p), "root/app"), s,
			     rdir, sizeof(rdir), &root, why, sizeof(why)),
	    1);
	assert_string_equal(rdir, p);
	assert_int_equal(root, 0);
	/* The most specific root wins. */
	assert_int_equal(agent_policy_dir(&pol,
			     at(p, sizeof(p), "root/legacy/x"), s, rdir,
			     sizeof(rdir), &root, why, sizeof(why)),
	    1);
	assert_int_equal(root, 1);
	/* A root itself, outside, through a link outside: refused. */
	assert_int_equal(agent_policy_dir(&pol, at(p, sizeof(p), "root"), s,
			     rdir, sizeof(rdir), &root, why, sizeof(why)),
	    0);
	assert_non_null(strstr(why, "policy: deploy_dir "));
	assert_non_null(strstr(why, " is outside the allowed roots ("));
	assert_int_equal(agent_policy_dir(&pol, "/etc", s, rdir, sizeof(rdir),
			     &root, why, sizeof(why)),
	    0);
	(void)snprintf(p, sizeof(p),
	    "policy: deploy_dir /etc is outside the allowed roots (%s/root, "
	    "%s/root/legacy)",
	    top, top);
	assert_string_equal(why, p);
	assert_int_equal(agent_policy_dir(&pol, at(p, sizeof(p), "root/etcdir"),
			     s, rdir, sizeof(rdir), &root, why, sizeof(why)),
	    0);
	assert_int_equal(agent_policy_dir(&pol,
			     at(p, sizeof(p), "root/sneaky/new"), s, rdir,
			     sizeof(rdir), &root, why, sizeof(why)),
	    0);
	assert_int_equal(agent_policy_dir(&pol, "/", s, rdir, sizeof(rdir),
			     &root, why, sizeof(why)),
	    0);
	/* Never the state directory, nor around it, nor in it. */
	assert_int_equal(agent_policy_dir(&pol, s, s, rdir, sizeof(rdir), &root,
			     why, sizeof(why)),
	    0);
	assert_non_null(strstr(why, "overlaps the agent's state directory"));
	assert_int_equal(agent_policy_dir(&pol, at(p, sizeof(p), "root/sub"), s,
			     rdir, sizeof(rdir), &root, why, sizeof(why)),
	    0);
	assert_non_null(strstr(why, "overlaps the agent's state directory"));
	assert_int_equal(agent_policy_dir(&pol,
			     at(p, sizeof(p), "root/sub/agent/logs/x"), s, rdir,
			     sizeof(rdir), &root, why, sizeof(why)),
	    0);
	/* A state directory reached through a link is the same one. */
	symlink_at("sub/agent", "root/alias");
	assert_int_equal(agent_policy_dir(&pol, at(p, sizeof(p), "root/alias"),
			     s, rdir, sizeof(rdir), &root, why, sizeof(why)),
	    0);
	assert_non_null(strstr(why, "overlaps"));
}

static void
test_policy_task(void **state)
{
	struct agent_policy  pol;
	struct agent_account a;
	char		     rdir[PATH_MAX], why[1024], text[PATH_MAX * 2];
	json_t		    *spec;

	mkdir_at("root");
	mkdir_at("root/legacy");
	two_roots(&pol);
#define SPEC(kind, dir, env) \
	(void)snprintf(text, sizeof(text), \
	    "{\"kind\": \"%s\", \"deploy_dir\": \"%s/%s\", \"env\": %s}", \
	    kind, top, dir, env); \
	assert_non_null(spec = json_loads(text, 0, NULL))

	SPEC("console", "root/app", "{\"LD_PRELOAD\": \"/x.so\"}");
	assert_int_equal(agent_policy_task(&pol, spec, NULL, &a, rdir,
			     sizeof(rdir), why, sizeof(why)),
	    0);
	assert_string_equal(why,
	    "policy: environment variable LD_PRELOAD is "
	    "refused (refuse_env LD_*)");
	json_decref(spec);

	SPEC("console", "elsewhere", "{}");
	assert_int_equal(agent_policy_task(&pol, spec, NULL, &a, rdir,
			     sizeof(rdir), why, sizeof(why)),
	    0);
	assert_non_null(strstr(why, "is outside the allowed roots"));
	json_decref(spec);

	if (geteuid() != 0) {
		/* Not root: every account here is another one. */
		SPEC("console", "root/app", "{\"A\": \"1\"}");
		assert_int_equal(agent_policy_task(&pol, spec, NULL, &a, rdir,
				     sizeof(rdir), why, sizeof(why)),
		    0);
		assert_non_null(strstr(why, "cannot switch accounts"));
		json_decref(spec);
		skip();
	}
	/* The default account, taken for good in the child. */
	SPEC("console", "root/app", "{\"A\": \"1\"}");
	assert_int_equal(agent_policy_task(&pol, spec, NULL, &a, rdir,
			     sizeof(rdir), why, sizeof(why)),
	    1);
	assert_string_equal(a.name, "daemon");
	assert_true(a.valid && a.change && a.uid != 0);
	assert_true(a.ngroups >= 1);
	json_decref(spec);
	/* The kind's account; with no home, the deploy directory. */
	SPEC("jar", "root/app", "{}");
	assert_int_equal(agent_policy_task(&pol, spec, NULL, &a, rdir,
			     sizeof(rdir), why, sizeof(why)),
	    1);
	assert_string_equal(a.name, "nobody");
	assert_string_equal(a.home, rdir);
	json_decref(spec);
	/* A root entry's account comes before the kind's: root, as is. */
	SPEC("jar", "root/legacy/app", "{}");
	assert_int_equal(agent_policy_task(&pol, spec, NULL, &a, rdir,
			     sizeof(rdir), why, sizeof(why)),
	    1);
	assert_string_equal(a.name, "root");
	assert_int_equal(a.uid, 0);
	assert_int_equal(a.change, 0);
	json_decref(spec);
	/* An account gone since the policy was read: refused, named. */
	(void)snprintf(pol.p.user, sizeof(pol.p.user), "no-such-account-yard");
	SPEC("console", "root/app", "{}");
	assert_int_equal(agent_policy_task(&pol, spec, NULL, &a, rdir,
			     sizeof(rdir), why, sizeof(why)),
	    0);
	assert_string_equal(why,
	    "policy: no account named "
	    "no-such-account-yard here (user)");
	json_decref(spec);
	/* Root as the default account (passwd changed): refused. */
	(void)snprintf(pol.p.user, sizeof(pol.p.user), "root");
	SPEC("console", "root/app", "{}");
	assert_int_equal(agent_policy_task(&pol, spec, NULL, &a, rdir,
			     sizeof(rdir), why, sizeof(why)),
	    0);
	assert_non_null(strstr(why, "is root"));
	json_decref(spec);
#undef SPEC
}

static void
test_confine(void **state)
{
	struct agent_policy  pol;
	struct agent_confine c;
	char		     text[PATH_MAX * 2], p[PATH_MAX], real[PATH_MAX];
	char		     s[PATH_MAX];
	json_t		    *spec;
	int		     fd;

	mkdir_at("root");
	mkdir_at("root/app");
	mkdir_at("root/app/logs");
	mkdir_at("root/app/state");
	write_at("root/app/logs/a.log", "a\n");
	symlink_at("/etc", "root/app/etcdir");
	symlink_at(at(p, sizeof(p), "root/app/logs"), "root/app/inner");
	two_roots(&pol);
	(void)snprintf(text, sizeof(text),
	    "{\"kind\": \"console\", \"deploy_dir\": \"%s/root/app\"}", top);
	assert_non_null(spec = json_loads(text, 0, NULL));
	at(s, sizeof(s), "agent-state");
	mkdir_at("agent-state");
	assert_int_equal(agent_confine_init(&c, &pol, spec, s), 1);
	assert_string_equal(c.root, at(p, sizeof(p), "root/app"));

	/* An absolute link inside stays inside; one to /etc does not. */
	assert_non_null(
	    realpath(at(p, sizeof(p), "root/app/inner/a.log"), real));
	assert_true(agent_confine_path(&c, real));
	assert_false(agent_confine_path(&c, "/etc/shadow"));
	assert_false(agent_confine_path(&c, s));
	/* On the descriptor: what was opened decides. */
	assert_true((fd = open(at(p, sizeof(p), "root/app/inner/a.log"),
			 O_RDONLY)) != -1);
	assert_true(agent_confine_fd(&c, fd, real, sizeof(real)));
	assert_string_equal(real, at(p, sizeof(p), "root/app/logs/a.log"));
	(void)close(fd);
	assert_true((fd = open(at(p, sizeof(p), "root/app/etcdir/passwd"),
			 O_RDONLY)) != -1);
	assert_false(agent_confine_fd(&c, fd, NULL, 0));
	(void)close(fd);
	json_decref(spec);

	/* A deploy directory holding the state directory exposes nothing,
	 * policy or not. */
	(void)snprintf(text, sizeof(text),
	    "{\"kind\": \"console\", \"deploy_dir\": \"%s/root/app\"}", top);
	assert_non_null(spec = json_loads(text, 0, NULL));
	assert_int_equal(agent_confine_init(&c, &pol, spec,
			     at(s, sizeof(s), "root/app/state")),
	    0);
	assert_int_equal(agent_confine_init(&c, NULL, spec,
			     at(s, sizeof(s), "root/app/state")),
	    0);
	json_decref(spec);
	/* Outside the roots: nothing either. */
	assert_non_null(spec = json_loads("{\"kind\": \"console\", "
					  "\"deploy_dir\": \"/etc\"}",
			    0, NULL));
	assert_int_equal(agent_confine_init(&c, &pol, spec, NULL), 0);
	json_decref(spec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_defaults),
		cmocka_unit_test(test_policy_parse),
		cmocka_unit_test(test_policy_parse_errors),
		cmocka_unit_test(test_policy_accounts),
		cmocka_unit_test_setup_teardown(test_policy_load, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_path_resolve, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_policy_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_policy_task, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_confine, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
