/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Task specs (docs/api.md, "Task specs").  One normaliser for both sides:
 * the server validates what users send and stores the normalised copy,
 * the agent validates what a start command carries before acting on it.
 *
 * The schema is the table below: one row per member (name, type, limits,
 * default, the kinds that have it, what it means).  The normaliser walks
 * it section by section, and agentproto_task_spec_doc() prints it for
 * docs/api.md.  What one row cannot say (backoff_max >= backoff_initial,
 * health.port falling back on the kind's port) are the rules after it.
 */

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agentproto/agentproto.h"
#include "agentproto/internal.h"

#define TS_PATH_MAX    1024
#define TS_ARG_MAX     4096
#define TS_ENV_KEY_MAX 128

#define T_TEXT	   AGENTPROTO_FIELD_TEXT
#define T_PATH	   AGENTPROTO_FIELD_PATH
#define T_ABSPATH  AGENTPROTO_FIELD_ABSPATH
#define T_URLPATH  AGENTPROTO_FIELD_URLPATH
#define T_INT	   AGENTPROTO_FIELD_INT
#define T_TEXTS	   AGENTPROTO_FIELD_TEXTS
#define T_PATHS	   AGENTPROTO_FIELD_PATHS
#define T_ENV	   AGENTPROTO_FIELD_ENV
#define T_ENUM	   AGENTPROTO_FIELD_ENUM
#define T_OBJECT   AGENTPROTO_FIELD_OBJECT
#define K_ALL	   AGENTPROTO_KIND_ALL
#define K_CONSOLE  AGENTPROTO_KIND_CONSOLE
#define K_TOMCAT   AGENTPROTO_KIND_TOMCAT
#define K_JAR	   AGENTPROTO_KIND_JAR
#define P_OPT	   AGENTPROTO_OPTIONAL
#define P_REQ	   AGENTPROTO_REQUIRED
#define P_DEF	   AGENTPROTO_DEFAULTED
#define F_LINUXDEF AGENTPROTO_FIELD_LINUX_DEFAULT

/* clang-format off */
static const struct agentproto_task_field fields[] = {
	{ "", "kind", T_ENUM, K_ALL, P_REQ, 0, 0, 0, NULL,
	    { "console", "tomcat", "jar", NULL }, 0,
	    "what runs: a console program, a Tomcat instance or a runnable "
	    "jar" },
	{ "", "deploy_dir", T_ABSPATH, K_ALL, P_REQ, 0, 0, 0, NULL, { NULL },
	    0, "where the task lives; where the node reports a policy, "
	    "strictly under one of its `roots`" },
	{ "", "env", T_ENV, K_ALL, P_DEF, 0, 128, 0, NULL, { NULL }, 0,
	    "environment variables, `{\"NAME\":\"value\"}`, names "
	    "`[A-Za-z_][A-Za-z0-9_]*`" },
	{ "", "stop_grace", T_INT, K_ALL, P_DEF, 0, 3600, 10, NULL, { NULL },
	    0, "seconds between the polite stop and SIGKILL" },
	{ "", "log_files", T_PATHS, K_ALL, P_DEF, 0, 32, 0, NULL, { NULL }, 0,
	    "globs (relative to `deploy_dir`) captured besides stdout/stderr" },
	{ "", "preserved_paths", T_PATHS, K_ALL, P_DEF, 0, 64, 0, NULL,
	    { NULL }, 0, "globs (relative to the release) an update never "
	    "overwrites or deletes, e.g. `conf/local.properties`, `data/`; "
	    "`tomcat` adds `conf/`" },
	{ "", "shared_paths", T_PATHS, K_ALL, P_DEF, 0, 32, 0, NULL, { NULL },
	    0, "directories (relative to the release) kept in "
	    "`<deploy_dir>/shared/` and linked into every release" },
	{ "", "keep_releases", T_INT, K_ALL, P_DEF, 1, 100, 5, NULL, { NULL },
	    0, "releases kept on the node (never the live or the last good "
	    "one)" },

	{ "", "console", T_OBJECT, K_CONSOLE, P_REQ, 0, 0, 0, NULL, { NULL },
	    0, "a console task's settings" },
	{ "console", "command", T_PATH, K_CONSOLE, P_REQ, 0, 0, 0, NULL,
	    { NULL }, 0, "relative to the working directory, or a name looked "
	    "up in `PATH`" },
	{ "console", "args", T_TEXTS, K_CONSOLE, P_DEF, 0, 128, 0, NULL,
	    { NULL }, 0, "its arguments" },
	{ "console", "cwd", T_PATH, K_CONSOLE, P_OPT, 0, 0, 0, NULL, { NULL },
	    0, "the working directory (absent: `deploy_dir`)" },

	{ "", "tomcat", T_OBJECT, K_TOMCAT, P_REQ, 0, 0, 0, NULL, { NULL }, 0,
	    "a Tomcat task's settings" },
	{ "tomcat", "home", T_ABSPATH, K_TOMCAT, P_REQ, 0, 0, 0, NULL,
	    { NULL }, 0, "the Tomcat installation (CATALINA_HOME)" },
	{ "tomcat", "base", T_ABSPATH, K_TOMCAT, P_OPT, 0, 0, 0, NULL,
	    { NULL }, 0, "the instance (CATALINA_BASE; absent: `deploy_dir`)" },
	{ "tomcat", "port", T_INT, K_TOMCAT, P_REQ, 1, 65535, 0, NULL,
	    { NULL }, 0, "its HTTP port" },
	{ "tomcat", "app_path", T_URLPATH, K_TOMCAT, P_DEF, 0, 0, 0, "/",
	    { NULL }, 0, "the application's context path" },
	{ "tomcat", "start_script", T_PATH, K_TOMCAT, P_OPT, 0, 0, 0, NULL,
	    { NULL }, 0, "run with `run` (absent: `bin/catalina.sh`; a "
	    "relative script is under `home`)" },
	{ "tomcat", "stop_script", T_PATH, K_TOMCAT, P_OPT, 0, 0, 0, NULL,
	    { NULL }, 0, "run with `stop` (absent: `bin/catalina.sh`)" },

	{ "", "jar", T_OBJECT, K_JAR, P_REQ, 0, 0, 0, NULL, { NULL }, 0,
	    "a jar task's settings" },
	{ "jar", "java", T_ABSPATH, K_JAR, P_DEF, 0, 0, 0, "/usr/bin/java",
	    { NULL }, F_LINUXDEF, "the Java launcher" },
	{ "jar", "jvm_options", T_TEXTS, K_JAR, P_DEF, 0, 128, 0, NULL,
	    { NULL }, 0, "options before `-jar`" },
	{ "jar", "jar", T_PATH, K_JAR, P_REQ, 0, 0, 0, NULL, { NULL }, 0,
	    "the jar to run" },
	{ "jar", "args", T_TEXTS, K_JAR, P_DEF, 0, 128, 0, NULL, { NULL }, 0,
	    "arguments after the jar" },
	{ "jar", "port", T_INT, K_JAR, P_OPT, 1, 65535, 0, NULL, { NULL }, 0,
	    "the port it listens on (for `health`)" },

	{ "", "restart", T_OBJECT, K_ALL, P_DEF, 0, 0, 0, NULL, { NULL }, 0,
	    "when the agent restarts the task" },
	{ "restart", "policy", T_ENUM, K_ALL, P_DEF, 0, 0, 0, "on-failure",
	    { "never", "on-failure", "always", NULL }, 0,
	    "restart after an exit: never, after a failure, or always" },
	{ "restart", "backoff_initial", T_INT, K_ALL, P_DEF, 1, 3600, 1, NULL,
	    { NULL }, 0, "seconds before the first restart" },
	{ "restart", "backoff_max", T_INT, K_ALL, P_DEF, 1, 86400, 60, NULL,
	    { NULL }, 0, "the longest wait between restarts, at least "
	    "`backoff_initial`" },
	{ "restart", "crash_loop", T_INT, K_ALL, P_DEF, 1, 100, 5, NULL,
	    { NULL }, 0, "restarts within 10 minutes that make it `crash_loop`" },

	{ "", "health", T_OBJECT, K_ALL, P_OPT, 0, 0, 0, NULL, { NULL }, 0,
	    "a health check: an HTTP GET on loopback" },
	{ "health", "path", T_URLPATH, K_ALL, P_REQ, 0, 0, 0, NULL, { NULL },
	    0, "what to get" },
	{ "health", "port", T_INT, K_ALL, P_OPT, 1, 65535, 0, NULL, { NULL },
	    0, "absent: the kind's port (so required for `console`)" },
	{ "health", "interval", T_INT, K_ALL, P_DEF, 1, 3600, 10, NULL,
	    { NULL }, 0, "seconds between checks" },
	{ "health", "timeout", T_INT, K_ALL, P_DEF, 1, 60, 3, NULL, { NULL },
	    0, "seconds a check may take" },
	{ "health", "start_timeout", T_INT, K_ALL, P_DEF, 1, 3600, 120, NULL,
	    { NULL }, 0, "seconds a start may take to pass its first check" },
	{ "health", "expect_status", T_INT, K_ALL, P_DEF, 100, 599, 200, NULL,
	    { NULL }, 0, "the HTTP status that means healthy" },
	{ "health", "window", T_INT, K_ALL, P_DEF, 0, 3600, 30, NULL,
	    { NULL }, 0, "seconds an update watches the new release's checks "
	    "before it counts as good" },
};
/* clang-format on */

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

enum ts_os { TS_LINUX = 0, TS_WINDOWS };

/* One normalisation: the node's OS, the task's kind, the output. */
struct ts_ctx {
	enum ts_os	       os;
	const char	      *kind;
	unsigned	       kmask;
	json_t		      *out;
	struct agentproto_err *err;
};

/* A rule across members of a section, checked after its members. */
struct ts_rule {
	const char *section;
	int (*check)(struct ts_ctx *, json_t *);
};

static int ts_section(struct ts_ctx *, const char *, const json_t *, json_t *);
static int ts_field(struct ts_ctx *, const struct agentproto_task_field *,
    const json_t *, json_t *);
static int ts_string(struct ts_ctx *, const struct agentproto_task_field *,
    const json_t *, json_t *);
static int ts_int(struct ts_ctx *, const struct agentproto_task_field *,
    const json_t *, json_t *);
static int ts_list(struct ts_ctx *, const struct agentproto_task_field *,
    const json_t *, json_t *);
static int ts_env(struct ts_ctx *, const struct agentproto_task_field *,
    const json_t *, json_t *);
static int ts_enum(struct ts_ctx *, const struct agentproto_task_field *,
    const json_t *, json_t *);
static int ts_object(struct ts_ctx *, const struct agentproto_task_field *,
    const json_t *, json_t *);
static int ts_path_ok(enum ts_os, const char *, size_t,
    enum agentproto_field_type);
static int ts_win_parts(const char *, size_t);
static const char   *ts_path_msg(enum ts_os, enum agentproto_field_type);
static void	     ts_path_bad(struct ts_ctx *, const char *, const char *,
	     const char *, size_t, enum agentproto_field_type);
static const json_t *ts_member(struct ts_ctx *, const json_t *, const char *,
    const char *, int);
static void	     ts_type_bad(struct ts_ctx *, const char *, const char *,
	     const char *);
static void ts_values(char *, size_t, const char *const *, const char *);
static int  ts_rule_backoff(struct ts_ctx *, json_t *);
static int  ts_rule_health_port(struct ts_ctx *, json_t *);
static int  ts_rule_release_paths(struct ts_ctx *, json_t *);

static const struct ts_rule rules[] = {
	{ "restart", ts_rule_backoff },
	{ "health", ts_rule_health_port },
	{ "", ts_rule_release_paths },
};

const struct agentproto_task_field *
agentproto_task_fields(size_t *n)
{
	*n = NFIELDS;
	return (fields);
}

/* "a", "a or b", "a, b or c", each between q and q. */
static void
ts_values(char *dst, size_t len, const char *const *v, const char *q)
{
	size_t i, n, o;
	int    w;

	for (n = 0; v[n] != NULL; n++)
		;
	dst[0] = '\0';
	for (i = 0, o = 0; i < n && o < len; i++) {
		w = snprintf(dst + o, len - o, "%s%s%s%s",
		    i == 0	     ? ""
			: i + 1 == n ? " or "
				     : ", ",
		    q, v[i], q);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

/* Windows: a separator. */
#define TS_WIN_SEP(c) ((c) == '\\' || (c) == '/')

/*
 * Components of a Windows path: no control characters or <>:"|, and no
 * component that Windows would trim (a trailing '.' or ' '), which also
 * refuses "..".  "." is allowed, as on Linux.
 */
static int
ts_win_parts(const char *s, size_t n)
{
	size_t i, seg;

	for (i = 0, seg = 0; i <= n; i++) {
		if (i == n || TS_WIN_SEP(s[i])) {
			if (i > seg && !(i - seg == 1 && s[seg] == '.') &&
			    (s[i - 1] == '.' || s[i - 1] == ' '))
				return (0);
			seg = i + 1;
		} else if ((unsigned char)s[i] < ' ' ||
		    strchr("<>:\"|", s[i]) != NULL)
			return (0);
	}
	return (1);
}

/*
 * An absolute Windows path: a drive ("C:\dir") or UNC ("\\server\share"),
 * either separator; device paths (\\?\, \\.\) are refused.
 */
static int
ts_win_abs(const char *s, size_t n)
{
	size_t i, start;

	if (n >= 3 && isalpha((unsigned char)s[0]) && s[1] == ':' &&
	    TS_WIN_SEP(s[2]))
		return (ts_win_parts(s + 2, n - 2));
	if (n < 2 || !TS_WIN_SEP(s[0]) || !TS_WIN_SEP(s[1]))
		return (0);
	for (i = 2, start = 2; i < n && !TS_WIN_SEP(s[i]); i++)
		;
	if (i == start || i == n ||
	    (i - start == 1 && (s[start] == '?' || s[start] == '.')))
		return (0);
	for (start = ++i; i < n && !TS_WIN_SEP(s[i]); i++)
		;
	if (i == start)
		return (0);
	return (ts_win_parts(s + 2, n - 2));
}

static int
ts_path_ok(enum ts_os os, const char *s, size_t n,
    enum agentproto_field_type type)
{
	size_t i, seg;

	if (type == T_TEXT || type == T_TEXTS)
		return (1);
	if (type == T_URLPATH) {
		if (n == 0 || s[0] != '/')
			return (0);
		for (i = 0; i < n; i++) {
			if (s[i] <= ' ' || s[i] == 0x7f)
				return (0);
		}
		return (1);
	}
	if (n == 0)
		return (0);
	if (os == TS_WINDOWS) {
		if (type == T_ABSPATH || TS_WIN_SEP(s[0]) ||
		    (n >= 2 && s[1] == ':'))
			return (ts_win_abs(s, n));
		return (ts_win_parts(s, n));
	}
	if (type == T_ABSPATH && s[0] != '/')
		return (0);
	/* No ".." component anywhere: paths stay where they are put. */
	for (i = 0, seg = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (i - seg == 2 && s[seg] == '.' && s[seg + 1] == '.')
				return (0);
			seg = i + 1;
		} else if ((unsigned char)s[i] < ' ')
			return (0);
	}
	return (1);
}

static const char *
ts_path_msg(enum ts_os os, enum agentproto_field_type type)
{
	if (type == T_URLPATH)
		return ("must be a path starting with '/', without spaces");
	if (os == TS_WINDOWS)
		return (type == T_ABSPATH
			? "must be an absolute Windows path (C:\\dir or "
			  "\\\\server\\share) without '..'"
			: "must be a Windows path without '..'");
	return (type == T_ABSPATH ? "must be an absolute path without '..'"
				  : "must be a path without '..'");
}

/* Record a refused path with the code that says why. */
static void
ts_path_bad(struct ts_ctx *c, const char *section, const char *name,
    const char *s, size_t n, enum agentproto_field_type type)
{
	enum agentproto_code code;

	if (type == T_URLPATH) {
		agentproto_err_add(c->err, section, name, AGENTPROTO_C_FORMAT,
		    0, 0, 0, "expected", "url_path", "%s",
		    ts_path_msg(c->os, type));
		return;
	}
	code = AGENTPROTO_C_PATH;
	if (type == T_ABSPATH && !ts_path_ok(c->os, s, n, T_PATH))
		code = AGENTPROTO_C_PATH;
	else if (type == T_ABSPATH)
		code = AGENTPROTO_C_NOT_ABSOLUTE;
	agentproto_err_add(c->err, section, name, code, 0, 0, 0, "os",
	    c->os == TS_WINDOWS ? "windows" : "linux", "%s",
	    ts_path_msg(c->os, type));
}

/* A member of in; NULL (and a "required" refusal when required). */
static const json_t *
ts_member(struct ts_ctx *c, const json_t *in, const char *section,
    const char *name, int required)
{
	const json_t *m;

	m = json_object_get((json_t *)(uintptr_t)in, name);
	if (m == NULL && required)
		agentproto_err_add(c->err, section, name, AGENTPROTO_C_REQUIRED,
		    0, 0, 0, NULL, NULL, "missing");
	return (m);
}

static void
ts_type_bad(struct ts_ctx *c, const char *section, const char *name,
    const char *expected)
{
	agentproto_err_add(c->err, section, name, AGENTPROTO_C_TYPE, 0, 0, 0,
	    "expected", expected, "must be a%s %s",
	    expected[0] == 'a' || expected[0] == 'o' || expected[0] == 'i' ? "n"
									   : "",
	    expected);
}

/* A string member (or its default) copied to out. */
static int
ts_string(struct ts_ctx *c, const struct agentproto_task_field *f,
    const json_t *in, json_t *out)
{
	const json_t *m;
	const char   *s;
	size_t	      n, max;
	int	      required;

	max = f->type == T_TEXT ? TS_ARG_MAX : TS_PATH_MAX;
	required = f->presence == P_REQ ||
	    ((f->flags & F_LINUXDEF) && c->os != TS_LINUX);
	if ((m = ts_member(c, in, f->section, f->name, required)) == NULL) {
		if (required)
			return (0);
		return (f->presence != P_DEF || f->def == NULL ||
		    agentproto_set(out, f->name, json_string(f->def)));
	}
	if (!json_is_string(m)) {
		ts_type_bad(c, f->section, f->name, "string");
		return (0);
	}
	s = json_string_value(m);
	n = json_string_length(m);
	if (strlen(s) != n) {
		agentproto_err_add(c->err, f->section, f->name,
		    AGENTPROTO_C_FORMAT, 0, 0, 0, "expected", "text",
		    "must not contain NUL");
		return (0);
	}
	if (n > max) {
		agentproto_err_add(c->err, f->section, f->name,
		    AGENTPROTO_C_TOO_LONG, AGENTPROTO_F_MAX, 0, (int64_t)max,
		    NULL, NULL, "must be at most %zu bytes", max);
		return (0);
	}
	if (!ts_path_ok(c->os, s, n, f->type)) {
		ts_path_bad(c, f->section, f->name, s, n, f->type);
		return (0);
	}
	return (agentproto_set(out, f->name, json_stringn(s, n)));
}

static int
ts_int(struct ts_ctx *c, const struct agentproto_task_field *f,
    const json_t *in, json_t *out)
{
	const json_t *m;
	json_int_t    v;

	if ((m = ts_member(c, in, f->section, f->name, f->presence == P_REQ)) ==
	    NULL) {
		if (f->presence == P_REQ)
			return (0);
		if (f->presence != P_DEF)
			return (1); /* no default: stays absent */
		v = (json_int_t)f->def_int;
	} else if (!json_is_integer(m)) {
		ts_type_bad(c, f->section, f->name, "integer");
		return (0);
	} else {
		v = json_integer_value(m);
		if (v < f->min || v > f->max) {
			agentproto_err_add(c->err, f->section, f->name,
			    AGENTPROTO_C_RANGE,
			    AGENTPROTO_F_MIN | AGENTPROTO_F_MAX, f->min, f->max,
			    NULL, NULL,
			    "must be between %" PRId64 " and %" PRId64, f->min,
			    f->max);
			return (0);
		}
	}
	return (agentproto_set(out, f->name, json_integer(v)));
}

/* An array of at most max strings, each checked as the row says. */
static int
ts_list(struct ts_ctx *c, const struct agentproto_task_field *f,
    const json_t *in, json_t *out)
{
	const json_t *m, *v;
	json_t	     *a;
	const char   *s;
	char	      iname[64];
	size_t	      i, n;
	int	      ok;

	if ((a = json_array()) == NULL || !agentproto_set(out, f->name, a))
		return (0);
	if ((m = ts_member(c, in, f->section, f->name, 0)) == NULL)
		return (1);
	if (!json_is_array(m)) {
		ts_type_bad(c, f->section, f->name, "array");
		return (0);
	}
	if (json_array_size(m) > (size_t)f->max) {
		agentproto_err_add(c->err, f->section, f->name,
		    AGENTPROTO_C_TOO_MANY, AGENTPROTO_F_MAX, 0, f->max, NULL,
		    NULL, "must hold at most %" PRId64 " items", f->max);
		return (0);
	}
	ok = 1;
	json_array_foreach(m, i, v)
	{
		(void)snprintf(iname, sizeof(iname), "%.30s[%zu]", f->name, i);
		if (!json_is_string(v)) {
			ts_type_bad(c, f->section, iname, "string");
			ok = 0;
			continue;
		}
		s = json_string_value(v);
		n = json_string_length(v);
		if (n > TS_ARG_MAX) {
			agentproto_err_add(c->err, f->section, iname,
			    AGENTPROTO_C_TOO_LONG, AGENTPROTO_F_MAX, 0,
			    TS_ARG_MAX, NULL, NULL, "must be at most %d bytes",
			    TS_ARG_MAX);
			ok = 0;
		} else if (strlen(s) != n) {
			agentproto_err_add(c->err, f->section, iname,
			    AGENTPROTO_C_FORMAT, 0, 0, 0, "expected", "text",
			    "must not contain NUL");
			ok = 0;
		} else if (!ts_path_ok(c->os, s, n, f->type)) {
			ts_path_bad(c, f->section, iname, s, n,
			    f->type == T_PATHS ? T_PATH : f->type);
			ok = 0;
		} else if (ok &&
		    json_array_append(a, (json_t *)(uintptr_t)v) != 0)
			return (0);
	}
	return (ok);
}

/* Environment: {"NAME": "value"}, names [A-Za-z_][A-Za-z0-9_]*. */
static int
ts_env(struct ts_ctx *c, const struct agentproto_task_field *f,
    const json_t *in, json_t *out)
{
	const json_t *m, *v;
	const char   *k;
	json_t	     *e;
	char	      epfx[AGENTPROTO_PFX_MAX];
	size_t	      i, n;
	int	      ok;

	if ((e = json_object()) == NULL || !agentproto_set(out, f->name, e))
		return (0);
	if ((m = ts_member(c, in, f->section, f->name, 0)) == NULL)
		return (1);
	if (!json_is_object(m)) {
		ts_type_bad(c, f->section, f->name, "object");
		return (0);
	}
	if (json_object_size(m) > (size_t)f->max) {
		agentproto_err_add(c->err, f->section, f->name,
		    AGENTPROTO_C_TOO_MANY, AGENTPROTO_F_MAX, 0, f->max, NULL,
		    NULL, "must hold at most %" PRId64 " names", f->max);
		return (0);
	}
	agentproto_path_join(epfx, sizeof(epfx), f->section, f->name);
	ok = 1;
	json_object_foreach((json_t *)(uintptr_t)m, k, v)
	{
		n = strlen(k);
		for (i = 0; i < n; i++) {
			if (!(k[i] == '_' || (k[i] >= 'A' && k[i] <= 'Z') ||
				(k[i] >= 'a' && k[i] <= 'z') ||
				(i > 0 && k[i] >= '0' && k[i] <= '9')))
				break;
		}
		if (n == 0 || n > TS_ENV_KEY_MAX || i != n) {
			/* The name itself is not safe to echo as a path. */
			agentproto_err_add(c->err, epfx, "",
			    AGENTPROTO_C_PATTERN, AGENTPROTO_F_MAX, 0,
			    TS_ENV_KEY_MAX, "pattern", "env_name",
			    "names must match [A-Za-z_][A-Za-z0-9_]* "
			    "(at most %d bytes)",
			    TS_ENV_KEY_MAX);
			ok = 0;
			continue;
		}
		if (!json_is_string(v)) {
			ts_type_bad(c, epfx, k, "string");
			ok = 0;
			continue;
		}
		if (json_string_length(v) > TS_ARG_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			agentproto_err_add(c->err, epfx, k,
			    AGENTPROTO_C_TOO_LONG, AGENTPROTO_F_MAX, 0,
			    TS_ARG_MAX, NULL, NULL,
			    "must be a string of at most %d bytes, without NUL",
			    TS_ARG_MAX);
			ok = 0;
			continue;
		}
		if (ok && json_object_set(e, k, (json_t *)(uintptr_t)v) != 0)
			return (0);
	}
	return (ok);
}

static int
ts_enum(struct ts_ctx *c, const struct agentproto_task_field *f,
    const json_t *in, json_t *out)
{
	const json_t *m;
	const char   *s;
	char	      buf[128], list[64];
	size_t	      i, o;

	if ((m = ts_member(c, in, f->section, f->name, f->presence == P_REQ)) ==
	    NULL) {
		if (f->presence == P_REQ)
			return (0);
		if (f->def == NULL)
			return (1);
		s = f->def;
	} else {
		s = json_is_string(m) ? json_string_value(m) : "";
		for (i = 0; f->values[i] != NULL; i++) {
			if (strcmp(s, f->values[i]) == 0)
				break;
		}
		if (f->values[i] == NULL) {
			ts_values(buf, sizeof(buf), f->values, "");
			list[0] = '\0';
			for (i = 0, o = 0; f->values[i] != NULL; i++)
				o += (size_t)snprintf(list + o,
				    o < sizeof(list) ? sizeof(list) - o : 0,
				    "%s%s", i > 0 ? "," : "", f->values[i]);
			agentproto_err_add(c->err, f->section, f->name,
			    AGENTPROTO_C_ENUM, 0, 0, 0, "allowed", list,
			    "must be %s", buf);
			return (0);
		}
	}
	return (agentproto_set(out, f->name, json_string(s)));
}

/* A section: its members in table order, then its rules. */
static int
ts_object(struct ts_ctx *c, const struct agentproto_task_field *f,
    const json_t *in, json_t *out)
{
	const json_t *m;
	json_t	     *sub, *empty;
	int	      ok;

	m = ts_member(c, in, f->section, f->name, f->presence == P_REQ);
	if (m == NULL && f->presence == P_REQ)
		return (0);
	if (m == NULL || (f->presence == P_OPT && json_is_null(m))) {
		if (f->presence == P_OPT)
			return (1);
		m = NULL; /* P_DEF: the defaults of an empty object */
	} else if (!json_is_object(m)) {
		ts_type_bad(c, f->section, f->name, "object");
		return (0);
	}
	if ((sub = json_object()) == NULL || !agentproto_set(out, f->name, sub))
		return (0);
	if (m != NULL)
		return (ts_section(c, f->name, m, sub));
	if ((empty = json_object()) == NULL)
		return (0);
	ok = ts_section(c, f->name, empty, sub);
	json_decref(empty);
	return (ok);
}

static int
ts_field(struct ts_ctx *c, const struct agentproto_task_field *f,
    const json_t *in, json_t *out)
{
	switch (f->type) {
	case T_TEXT:
	case T_PATH:
	case T_ABSPATH:
	case T_URLPATH:
		return (ts_string(c, f, in, out));
	case T_INT:
		return (ts_int(c, f, in, out));
	case T_TEXTS:
	case T_PATHS:
		return (ts_list(c, f, in, out));
	case T_ENV:
		return (ts_env(c, f, in, out));
	case T_ENUM:
		return (ts_enum(c, f, in, out));
	case T_OBJECT:
		return (ts_object(c, f, in, out));
	}
	return (0);
}

/*
 * The members of section (pfx) in object in, written to out: a member
 * that belongs to other kinds is refused (not silently dropped), and
 * each of this kind's members is checked in table order.  Every refusal
 * is recorded (the caller sees them all); the section's rules run only
 * when its members passed, since they compare their values.  With no
 * known kind (kmask 0) only the members of every kind are checked.
 */
static int
ts_section(struct ts_ctx *c, const char *section, const json_t *in, json_t *out)
{
	const struct agentproto_task_field *f;
	size_t				    i;
	int				    ok;

	ok = 1;
	for (i = 0; i < NFIELDS && c->kmask != 0; i++) {
		f = &fields[i];
		if (strcmp(f->section, section) == 0 &&
		    (f->kinds & c->kmask) == 0 &&
		    json_object_get((json_t *)(uintptr_t)in, f->name) != NULL) {
			agentproto_err_add(c->err, section, f->name,
			    AGENTPROTO_C_NOT_ALLOWED, 0, 0, 0, "kind", c->kind,
			    "not allowed for a %s task", c->kind);
			ok = 0;
		}
	}
	for (i = 0; i < NFIELDS; i++) {
		f = &fields[i];
		/* The kind was checked first (agentproto_task_spec_os). */
		if (strcmp(f->section, section) != 0 || f == &fields[0])
			continue;
		if (c->kmask == 0 ? f->kinds != K_ALL
				  : (f->kinds & c->kmask) == 0)
			continue;
		if (!ts_field(c, f, in, out))
			ok = 0;
	}
	for (i = 0; ok && i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (strcmp(rules[i].section, section) == 0 &&
		    !rules[i].check(c, out))
			ok = 0;
	}
	return (ok);
}

static int
ts_rule_backoff(struct ts_ctx *c, json_t *sub)
{
	json_int_t lo;

	lo = json_integer_value(json_object_get(sub, "backoff_initial"));
	if (json_integer_value(json_object_get(sub, "backoff_max")) < lo) {
		agentproto_err_add(c->err, "restart", "backoff_max",
		    AGENTPROTO_C_RANGE, AGENTPROTO_F_MIN | AGENTPROTO_F_MAX,
		    (int64_t)lo, 86400, NULL, NULL,
		    "must not be less than backoff_initial");
		return (0);
	}
	return (1);
}

/* health.port, else the port of the task's own kind. */
static int
ts_rule_health_port(struct ts_ctx *c, json_t *sub)
{
	if (c->kind != NULL && json_object_get(sub, "port") == NULL &&
	    json_object_get(json_object_get(c->out, c->kind), "port") == NULL) {
		agentproto_err_add(c->err, "health", "port",
		    AGENTPROTO_C_REQUIRED, 0, 0, 0, NULL, NULL,
		    "missing (the task has no port of its own)");
		return (0);
	}
	return (1);
}

/*
 * preserved_paths and shared_paths name parts of a release: relative,
 * not "." alone.  A shared path holds no glob character (it is linked
 * as named).
 */
static int
ts_rule_release_paths(struct ts_ctx *c, json_t *out)
{
	static const char *const names[] = { "preserved_paths",
		"shared_paths" };
	const json_t		*v;
	const char		*s;
	char			 field[48];
	size_t			 i, k;
	int			 ok;

	ok = 1;
	for (k = 0; k < 2; k++) {
		json_array_foreach(json_object_get(out, names[k]), i, v)
		{
			s = json_string_value(v);
			(void)snprintf(field, sizeof(field), "%s[%zu]",
			    names[k], i);
			if (s[0] == '/' || s[0] == '\\' ||
			    (s[0] != '\0' && s[1] == ':')) {
				agentproto_err_add(c->err, "", field,
				    AGENTPROTO_C_NOT_RELATIVE, 0, 0, 0, NULL,
				    NULL, "must be relative to the release");
				ok = 0;
			} else if (strcmp(s, ".") == 0 ||
			    strcmp(s, "./") == 0) {
				agentproto_err_add(c->err, "", field,
				    AGENTPROTO_C_PATH, 0, 0, 0, "expected",
				    "part_of_release",
				    "must name a part of the release, not all "
				    "of it");
				ok = 0;
			} else if (k == 1 && strpbrk(s, "*?[") != NULL) {
				agentproto_err_add(c->err, "", field,
				    AGENTPROTO_C_PATTERN, 0, 0, 0, "pattern",
				    "no_glob",
				    "a shared path is a directory, not a glob");
				ok = 0;
			}
		}
	}
	return (ok);
}

json_t *
agentproto_task_spec(const json_t *in, struct agentproto_err *err)
{
	return (agentproto_task_spec_os(in, "linux", err));
}

json_t *
agentproto_task_spec_os(const json_t *in, const char *os_family,
    struct agentproto_err *err)
{
	struct ts_ctx c;
	size_t	      i;
	int	      ok;

	agentproto_err_clear(err);
	memset(&c, 0, sizeof(c));
	c.err = err;
	if (os_family == NULL)
		os_family = "linux";
	if (agentproto_os_family_valid(os_family))
		c.os =
		    strcmp(os_family, "windows") == 0 ? TS_WINDOWS : TS_LINUX;
	else {
		agentproto_err_add(err, "", "os_family", AGENTPROTO_C_ENUM, 0,
		    0, 0, "allowed", "linux,windows",
		    "must be linux or windows");
		return (NULL);
	}
	if (in == NULL || !json_is_object(in)) {
		agentproto_err_add(err, "", "", AGENTPROTO_C_TYPE, 0, 0, 0,
		    "expected", "object", "the spec must be an object");
		return (NULL);
	}
	if ((c.out = json_object()) == NULL)
		return (NULL);
	/* The kind first: it decides which rows apply (none known: only
	 * the rows of every kind are checked, so the other refusals still
	 * come back together). */
	c.kmask = K_ALL;
	ok = ts_enum(&c, &fields[0], in, c.out);
	c.kmask = 0;
	/* The table's own string: out's is replaced when rewritten. */
	for (i = 0; ok && fields[0].values[i] != NULL; i++) {
		if (strcmp(json_string_value(json_object_get(c.out, "kind")),
			fields[0].values[i]) == 0) {
			c.kind = fields[0].values[i];
			c.kmask = 1U << i;
		}
	}
	if (!ts_section(&c, "", in, c.out) || !ok)
		goto fail;
	return (c.out);
fail:
	if (err != NULL && err->msg[0] == '\0')
		agentproto_err_add(err, "", "", AGENTPROTO_C_INVALID, 0, 0, 0,
		    NULL, NULL, "out of memory");
	json_decref(c.out);
	return (NULL);
}

/* The "value" column of a row. */
static void
ts_doc_value(char *dst, size_t len, const struct agentproto_task_field *f)
{
	char v[128];

	switch (f->type) {
	case T_TEXT:
		(void)snprintf(dst, len, "text");
		break;
	case T_PATH:
		(void)snprintf(dst, len, "path, no `..`");
		break;
	case T_ABSPATH:
		(void)snprintf(dst, len, "absolute path, no `..`");
		break;
	case T_URLPATH:
		(void)snprintf(dst, len, "URL path: `/`, no spaces");
		break;
	case T_INT:
		(void)snprintf(dst, len, "integer %" PRId64 "-%" PRId64, f->min,
		    f->max);
		break;
	case T_TEXTS:
		(void)snprintf(dst, len, "at most %" PRId64 " strings", f->max);
		break;
	case T_PATHS:
		(void)snprintf(dst, len, "at most %" PRId64 " paths, no `..`",
		    f->max);
		break;
	case T_ENV:
		(void)snprintf(dst, len, "object, at most %" PRId64 " names",
		    f->max);
		break;
	case T_ENUM:
		ts_values(v, sizeof(v), f->values, "`");
		(void)snprintf(dst, len, "%s", v);
		break;
	case T_OBJECT:
		(void)snprintf(dst, len, "object");
		break;
	}
}

/* The "default" column of a row. */
static void
ts_doc_default(char *dst, size_t len, const struct agentproto_task_field *f)
{
	if (f->presence == P_REQ)
		(void)snprintf(dst, len, "required");
	else if (f->presence == P_OPT)
		(void)snprintf(dst, len, "none");
	else if (f->type == T_INT)
		(void)snprintf(dst, len, "%" PRId64, f->def_int);
	else if (f->type == T_TEXTS || f->type == T_PATHS)
		(void)snprintf(dst, len, "`[]`");
	else if (f->type == T_ENV)
		(void)snprintf(dst, len, "`{}`");
	else if (f->type == T_OBJECT)
		(void)snprintf(dst, len, "its defaults");
	else
		(void)snprintf(dst, len, "`%s`%s", f->def,
		    (f->flags & F_LINUXDEF) ? " (Linux; required on Windows)"
					    : "");
}

char *
agentproto_task_spec_doc(void)
{
	const struct agentproto_task_field *f;
	char				   *buf, *nbuf;
	char				    name[64], kinds[64], value[128];
	char				    def[128];
	size_t				    i, k, len, cap;
	int				    n;

	cap = 8192;
	if ((buf = malloc(cap)) == NULL)
		return (NULL);
	len = (size_t)snprintf(buf, cap,
	    "| member | kinds | value | default | meaning |\n"
	    "| --- | --- | --- | --- | --- |\n");
	for (i = 0; i < NFIELDS; i++) {
		f = &fields[i];
		agentproto_path_join(name, sizeof(name), f->section, f->name);
		kinds[0] = '\0';
		if (f->kinds == K_ALL)
			(void)snprintf(kinds, sizeof(kinds), "all");
		for (k = 0; f->kinds != K_ALL && fields[0].values[k] != NULL;
		     k++) {
			if (f->kinds & (1U << k))
				(void)snprintf(kinds + strlen(kinds),
				    sizeof(kinds) - strlen(kinds), "%s%s",
				    kinds[0] != '\0' ? ", " : "",
				    fields[0].values[k]);
		}
		ts_doc_value(value, sizeof(value), f);
		ts_doc_default(def, sizeof(def), f);
		for (;;) {
			n = snprintf(buf + len, cap - len,
			    "| `%s` | %s | %s | %s | %s |\n", name, kinds,
			    value, def, f->doc);
			if (n < 0) {
				free(buf);
				return (NULL);
			}
			if ((size_t)n < cap - len)
				break;
			if ((nbuf = realloc(buf, cap * 2)) == NULL) {
				free(buf);
				return (NULL);
			}
			buf = nbuf;
			cap *= 2;
		}
		len += (size_t)n;
	}
	return (buf);
}
