/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Task specs (docs/api.md, "Task specs").
 */

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "agentproto/agentproto.h"
#include "agentproto/internal.h"

/*
 * Task specs (docs/api.md, "Tasks").  One normaliser for both sides: the
 * server validates what users send and stores the normalised copy, the
 * agent validates what a start command carries before acting on it.
 */

#define TS_PATH_MAX    1024
#define TS_ARG_MAX     4096
#define TS_ARGS_MAX    128
#define TS_ENV_MAX     128
#define TS_ENV_KEY_MAX 128
#define TS_LOGS_MAX    32

static int ts_str(const json_t *, json_t *, const char *, const char *, int,
    int, const char *, struct agentproto_err *);
static int ts_int(const json_t *, json_t *, const char *, const char *, int,
    int64_t, int64_t, int64_t, struct agentproto_err *);
static int ts_list(const json_t *, json_t *, const char *, const char *, size_t,
    int, struct agentproto_err *);
static int ts_env(const json_t *, json_t *, const char *,
    struct agentproto_err *);
static const json_t *ts_obj(const json_t *, const char *, const char *, int,
    struct agentproto_err *);
static int	     ts_path_ok(const char *, size_t, int);

/* How a string is checked. */
#define TS_ANY	0 /* any text without NUL */
#define TS_ABS	1 /* an absolute path without ".." components */
#define TS_PATH 2 /* a path, absolute or relative, without ".." */
#define TS_URL	3 /* an HTTP path: starts with '/', printable ASCII */

static int
ts_path_ok(const char *s, size_t n, int how)
{
	size_t i, seg;

	if (how == TS_ANY)
		return (1);
	if (how == TS_URL) {
		if (n == 0 || s[0] != '/')
			return (0);
		for (i = 0; i < n; i++) {
			if (s[i] <= ' ' || s[i] == 0x7f)
				return (0);
		}
		return (1);
	}
	if (n == 0 || (how == TS_ABS && s[0] != '/'))
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

static const json_t *
ts_obj(const json_t *o, const char *pfx, const char *name, int required,
    struct agentproto_err *err)
{
	const json_t *m;

	if ((m = agentproto_member(o, pfx, name, required, err)) == NULL)
		return (NULL);
	if (!json_is_object(m)) {
		agentproto_err_set(err, pfx, name, "must be an object");
		return (NULL);
	}
	return (m);
}

/* Copy string member name (or def when absent and def != NULL) to out. */
static int
ts_str(const json_t *in, json_t *out, const char *pfx, const char *name,
    int required, int how, const char *def, struct agentproto_err *err)
{
	const json_t *m;
	const char   *s;
	size_t	      n, max;

	max = how == TS_ANY ? TS_ARG_MAX : TS_PATH_MAX;
	if ((m = agentproto_member(in, pfx, name, required, err)) == NULL) {
		if (required)
			return (0);
		return (
		    def == NULL || agentproto_set(out, name, json_string(def)));
	}
	if (!json_is_string(m)) {
		agentproto_err_set(err, pfx, name, "must be a string");
		return (0);
	}
	s = json_string_value(m);
	n = json_string_length(m);
	if (n > max || strlen(s) != n) {
		agentproto_err_set(err, pfx, name,
		    "must be at most %zu bytes, without NUL", max);
		return (0);
	}
	if (!ts_path_ok(s, n, how)) {
		agentproto_err_set(err, pfx, name, "%s",
		    how == TS_ABS ? "must be an absolute path without '..'"
			: how == TS_URL ? "must be a path starting with '/', "
					  "without spaces"
					: "must be a path without '..'");
		return (0);
	}
	return (agentproto_set(out, name, json_stringn(s, n)));
}

static int
ts_int(const json_t *in, json_t *out, const char *pfx, const char *name,
    int required, int64_t min, int64_t max, int64_t def,
    struct agentproto_err *err)
{
	int64_t v;
	int	present;

	if (!agentproto_get_int(in, pfx, name, required, min, max, &v, &present,
		err))
		return (0);
	if (!present) {
		if (def < min)
			return (1); /* no default: stays absent */
		v = def;
	}
	return (agentproto_set(out, name, json_integer((json_int_t)v)));
}

/* An array of at most max strings, each checked as how. */
static int
ts_list(const json_t *in, json_t *out, const char *pfx, const char *name,
    size_t max, int how, struct agentproto_err *err)
{
	const json_t *m, *v;
	json_t	     *a;
	char	      iname[64];
	size_t	      i, n;

	if ((a = json_array()) == NULL || !agentproto_set(out, name, a))
		return (0);
	if ((m = agentproto_member(in, pfx, name, 0, err)) == NULL)
		return (1);
	if (!json_is_array(m) || json_array_size(m) > max) {
		agentproto_err_set(err, pfx, name,
		    "must be an array of at most %zu strings", max);
		return (0);
	}
	json_array_foreach(m, i, v)
	{
		n = json_string_length(v);
		if (!json_is_string(v) || n > TS_ARG_MAX ||
		    strlen(json_string_value(v)) != n ||
		    !ts_path_ok(json_string_value(v), n, how)) {
			(void)snprintf(iname, sizeof(iname), "%.30s[%zu]", name,
			    i);
			agentproto_err_set(err, pfx, iname, "%s",
			    how == TS_PATH ? "must be a path without '..'"
					   : "must be a string of at most "
					     "4096 bytes, without NUL");
			return (0);
		}
		if (json_array_append(a, (json_t *)(uintptr_t)v) != 0)
			return (0);
	}
	return (1);
}

/* Environment: {"NAME": "value"}, names [A-Za-z_][A-Za-z0-9_]*. */
static int
ts_env(const json_t *in, json_t *out, const char *pfx,
    struct agentproto_err *err)
{
	const json_t *m, *v;
	const char   *k;
	json_t	     *e;
	char	      epfx[AGENTPROTO_PFX_MAX];
	size_t	      i, n;

	if ((e = json_object()) == NULL || !agentproto_set(out, "env", e))
		return (0);
	if ((m = agentproto_member(in, pfx, "env", 0, err)) == NULL)
		return (1);
	if (!json_is_object(m) || json_object_size(m) > TS_ENV_MAX) {
		agentproto_err_set(err, pfx, "env",
		    "must be an object of at most %d names", TS_ENV_MAX);
		return (0);
	}
	agentproto_path_join(epfx, sizeof(epfx), pfx, "env");
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
			agentproto_err_set(err, epfx, "",
			    "names must match [A-Za-z_][A-Za-z0-9_]* "
			    "(at most %d bytes)",
			    TS_ENV_KEY_MAX);
			return (0);
		}
		if (!json_is_string(v) || json_string_length(v) > TS_ARG_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			agentproto_err_set(err, epfx, k,
			    "must be a string of at most %d bytes, without NUL",
			    TS_ARG_MAX);
			return (0);
		}
		if (json_object_set(e, k, (json_t *)(uintptr_t)v) != 0)
			return (0);
	}
	return (1);
}

json_t *
agentproto_task_spec(const json_t *in, struct agentproto_err *err)
{
	static const char *kinds[] = { "console", "tomcat", "jar" };
	const json_t	  *k, *o;
	json_t		  *out, *sub;
	const char	  *kind;
	size_t		   i;
	int		   ok;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (in == NULL || !json_is_object(in)) {
		agentproto_err_set(err, "", "", "the spec must be an object");
		return (NULL);
	}
	if ((k = agentproto_member(in, "", "kind", 1, err)) == NULL)
		return (NULL);
	kind = json_is_string(k) ? json_string_value(k) : "";
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kind, kinds[i]) == 0)
			break;
	}
	if (i == sizeof(kinds) / sizeof(kinds[0])) {
		agentproto_err_set(err, "", "kind",
		    "must be console, tomcat or jar");
		return (NULL);
	}
	/* The other kinds' settings are refused, not silently dropped. */
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kind, kinds[i]) != 0 &&
		    agentproto_member(in, "", kinds[i], 0, NULL) != NULL) {
			agentproto_err_set(err, "", kinds[i],
			    "not allowed for a %s task", kind);
			return (NULL);
		}
	}
	if ((out = json_object()) == NULL)
		return (NULL);
	ok = agentproto_set(out, "kind", json_string(kind)) &&
	    ts_str(in, out, "", "deploy_dir", 1, TS_ABS, NULL, err) &&
	    ts_env(in, out, "", err) &&
	    ts_int(in, out, "", "stop_grace", 0, 0, 3600, 10, err) &&
	    ts_list(in, out, "", "log_files", TS_LOGS_MAX, TS_PATH, err);
	if (!ok)
		goto fail;

	/* The kind's own settings. */
	if ((o = ts_obj(in, "", kind, 1, err)) == NULL ||
	    (sub = json_object()) == NULL || !agentproto_set(out, kind, sub))
		goto fail;
	if (strcmp(kind, "console") == 0) {
		ok = ts_str(o, sub, "console", "command", 1, TS_PATH, NULL,
			 err) &&
		    ts_list(o, sub, "console", "args", TS_ARGS_MAX, TS_ANY,
			err) &&
		    ts_str(o, sub, "console", "cwd", 0, TS_PATH, NULL, err);
	} else if (strcmp(kind, "tomcat") == 0) {
		ok = ts_str(o, sub, "tomcat", "home", 1, TS_ABS, NULL, err) &&
		    ts_str(o, sub, "tomcat", "base", 0, TS_ABS, NULL, err) &&
		    ts_int(o, sub, "tomcat", "port", 1, 1, 65535, 0, err) &&
		    ts_str(o, sub, "tomcat", "app_path", 0, TS_URL, "/", err) &&
		    ts_str(o, sub, "tomcat", "start_script", 0, TS_PATH, NULL,
			err) &&
		    ts_str(o, sub, "tomcat", "stop_script", 0, TS_PATH, NULL,
			err);
	} else {
		ok = ts_str(o, sub, "jar", "java", 0, TS_ABS, "/usr/bin/java",
			 err) &&
		    ts_list(o, sub, "jar", "jvm_options", TS_ARGS_MAX, TS_ANY,
			err) &&
		    ts_str(o, sub, "jar", "jar", 1, TS_PATH, NULL, err) &&
		    ts_list(o, sub, "jar", "args", TS_ARGS_MAX, TS_ANY, err) &&
		    ts_int(o, sub, "jar", "port", 0, 1, 65535, 0, err);
	}
	if (!ok)
		goto fail;

	/* Restart policy: never, on-failure (default) or always. */
	o = ts_obj(in, "", "restart", 0, err);
	if (o == NULL && agentproto_member(in, "", "restart", 0, NULL) != NULL)
		goto fail;
	if ((sub = json_object()) == NULL ||
	    !agentproto_set(out, "restart", sub))
		goto fail;
	k = o != NULL ? agentproto_member(o, "restart", "policy", 0, NULL)
		      : NULL;
	kind = k == NULL	? "on-failure"
	    : json_is_string(k) ? json_string_value(k)
				: "";
	if (strcmp(kind, "never") != 0 && strcmp(kind, "on-failure") != 0 &&
	    strcmp(kind, "always") != 0) {
		agentproto_err_set(err, "restart", "policy",
		    "must be never, on-failure or always");
		goto fail;
	}
	if (!agentproto_set(sub, "policy", json_string(kind)))
		goto fail;
	if (o == NULL)
		o = sub; /* defaults only */
	if (!ts_int(o, sub, "restart", "backoff_initial", 0, 1, 3600, 1, err) ||
	    !ts_int(o, sub, "restart", "backoff_max", 0, 1, 86400, 60, err) ||
	    !ts_int(o, sub, "restart", "crash_loop", 0, 1, 100, 5, err))
		goto fail;
	if (json_integer_value(json_object_get(sub, "backoff_max")) <
	    json_integer_value(json_object_get(sub, "backoff_initial"))) {
		agentproto_err_set(err, "restart", "backoff_max",
		    "must not be less than backoff_initial");
		goto fail;
	}

	/* Health check (optional): an HTTP GET on loopback. */
	if ((o = agentproto_member(in, "", "health", 0, NULL)) != NULL &&
	    !json_is_null(o)) {
		if ((o = ts_obj(in, "", "health", 0, err)) == NULL ||
		    (sub = json_object()) == NULL ||
		    !agentproto_set(out, "health", sub))
			goto fail;
		if (!ts_str(o, sub, "health", "path", 1, TS_URL, NULL, err) ||
		    !ts_int(o, sub, "health", "port", 0, 1, 65535, 0, err) ||
		    !ts_int(o, sub, "health", "interval", 0, 1, 3600, 10,
			err) ||
		    !ts_int(o, sub, "health", "timeout", 0, 1, 60, 3, err) ||
		    !ts_int(o, sub, "health", "start_timeout", 0, 1, 3600, 120,
			err) ||
		    !ts_int(o, sub, "health", "expect_status", 0, 100, 599, 200,
			err))
			goto fail;
		if (json_object_get(sub, "port") == NULL &&
		    json_object_get(json_object_get(out, "tomcat"), "port") ==
			NULL &&
		    json_object_get(json_object_get(out, "jar"), "port") ==
			NULL) {
			agentproto_err_set(err, "health", "port",
			    "missing (the task has no port of its own)");
			goto fail;
		}
	}
	return (out);
fail:
	if (err != NULL && err->msg[0] == '\0')
		agentproto_err_set(err, "", "", "out of memory");
	json_decref(out);
	return (NULL);
}
