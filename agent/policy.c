/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The node policy (agent/README.md, "Node policy"): the deploy roots
 * tasks may use, the accounts they run as, the environment names they
 * may not set, limits; and the path checks that keep what a task names
 * inside the places it may use.  libc and jansson only, so that the unit
 * tests and a fuzzer can drive it without the rest of the agent.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

#define LOG_BYTES_MIN 1024
#define LOG_BYTES_MAX ((int64_t)1 << 40)

static int fail(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static int  is_comment(const char *);
static int  path_normal(const char *);
static int  account_name_valid(const char *);
static int  parse_roots(struct agent_policy *, const json_t *, char *, size_t);
static int  parse_kinds(struct agent_policy *, const json_t *, char *, size_t);
static int  parse_env(struct agent_policy *, const json_t *, char *, size_t);
static int  parse_limits(struct agent_policy *, const json_t *, char *, size_t);
static void roots_list(const struct agent_policy *, char *, size_t);

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return (0);
}

/* Members whose name starts with '#' are comments, ignored. */
static int
is_comment(const char *k)
{
	return (k[0] == '#');
}

/*
 * An absolute path in its normal form: no empty, "." or ".." component
 * and no trailing '/' ("/" itself is normal), at most AGENTPROTO_STR_MAX
 * bytes of printable text.
 */
static int
path_normal(const char *s)
{
	const char *c, *e;
	size_t	    n = strlen(s), i;

	if (n == 0 || n > AGENTPROTO_STR_MAX || s[0] != '/')
		return (0);
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
			return (0);
	}
	if (n == 1)
		return (1);
	for (c = s + 1;; c = e + 1) {
		e = strchr(c, '/');
		if (e == NULL)
			e = s + n;
		if (e == c || (e - c == 1 && c[0] == '.') ||
		    (e - c == 2 && c[0] == '.' && c[1] == '.'))
			return (0);
		if (*e == '\0')
			return (1);
	}
}

/* A login name: 1..32 of [A-Za-z0-9_.-], not starting with '-'. */
static int
account_name_valid(const char *s)
{
	size_t n = strlen(s);

	return (n >= 1 && n <= AGENTPROTO_USER_MAX && s[0] != '-' &&
	    strspn(s,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789_.-") == n);
}

void
agent_policy_default(struct agent_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->p.nroots = 1;
	(void)snprintf(pol->p.roots[0].path, sizeof(pol->p.roots[0].path), "%s",
	    AGENT_POLICY_ROOT);
	(void)snprintf(pol->p.user, sizeof(pol->p.user), "%s",
	    AGENT_POLICY_USER);
	(void)snprintf(pol->p.roots[0].user, sizeof(pol->p.roots[0].user), "%s",
	    pol->p.user);
	pol->p.nrefuse_env = 1;
	(void)snprintf(pol->p.refuse_env[0], sizeof(pol->p.refuse_env[0]),
	    "LD_*");
	pol->p.tasks = AGENT_TASKS_MAX;
	pol->p.log_bytes = AGENT_LOG_MAX;
}

static int
parse_roots(struct agent_policy *pol, const json_t *a, char *err, size_t errlen)
{
	const json_t *v, *m, *pj;
	const char   *k, *path, *user;
	size_t	      i, j;

	if (!json_is_array(a) || json_array_size(a) < 1 ||
	    json_array_size(a) > AGENTPROTO_POLICY_ROOTS_MAX)
		return (fail(err, errlen,
		    "roots: must be an array of 1 to %d roots",
		    AGENTPROTO_POLICY_ROOTS_MAX));
	json_array_foreach(a, i, v)
	{
		user = NULL;
		if (json_is_string(v))
			path = json_string_value(v);
		else if (json_is_object(v)) {
			path = NULL;
			json_object_foreach((json_t *)(uintptr_t)v, k, m)
			{
				if (is_comment(k))
					continue;
				if (strcmp(k, "path") == 0 && json_is_string(m))
					path = json_string_value(m);
				else if (strcmp(k, "user") == 0 &&
				    json_is_string(m))
					user = json_string_value(m);
				else if (strcmp(k, "path") == 0 ||
				    strcmp(k, "user") == 0)
					return (fail(err, errlen,
					    "roots[%zu].%s: must be a string",
					    i, k));
				else
					return (fail(err, errlen,
					    "roots[%zu]: unknown member "
					    "\"%.64s\"",
					    i, k));
			}
			if (path == NULL)
				return (fail(err, errlen,
				    "roots[%zu].path: missing", i));
		} else
			return (fail(err, errlen,
			    "roots[%zu]: must be a path or an object "
			    "{\"path\", \"user\"}",
			    i));
		pj = json_is_string(v) ? v : json_object_get(v, "path");
		if (!path_normal(path) ||
		    strlen(path) != json_string_length(pj))
			return (fail(err, errlen,
			    "roots[%zu]: \"%.*s\" must be an absolute path in "
			    "normal form (no '.', '..', '//' or trailing '/'), "
			    "at most %d bytes",
			    i, 300, path, AGENTPROTO_STR_MAX));
		for (j = 0; j < pol->p.nroots; j++) {
			if (strcmp(pol->p.roots[j].path, path) == 0)
				return (fail(err, errlen,
				    "roots[%zu]: %s is listed twice", i, path));
		}
		if (user != NULL && !account_name_valid(user))
			return (fail(err, errlen,
			    "roots[%zu].user: must be an account name "
			    "(1 to %d of A-Z a-z 0-9 _ . -)",
			    i, AGENTPROTO_USER_MAX));
		(void)snprintf(pol->p.roots[i].path,
		    sizeof(pol->p.roots[i].path), "%s", path);
		if (user != NULL) {
			(void)snprintf(pol->p.roots[i].user,
			    sizeof(pol->p.roots[i].user), "%s", user);
			pol->named[i] = 1;
		}
		pol->p.nroots++;
	}
	return (1);
}

static int
parse_kinds(struct agent_policy *pol, const json_t *o, char *err, size_t errlen)
{
	static const char *known[] = { "console", "tomcat", "jar" };
	const json_t	  *v, *m;
	const char	  *k, *mk, *user;
	size_t		   i;

	if (!json_is_object(o))
		return (fail(err, errlen,
		    "kinds: must be an object such as "
		    "{\"tomcat\": {\"user\": \"tomcat\"}}"));
	json_object_foreach((json_t *)(uintptr_t)o, k, v)
	{
		if (is_comment(k))
			continue;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
			if (strcmp(k, known[i]) == 0)
				break;
		}
		if (i == sizeof(known) / sizeof(known[0]))
			return (fail(err, errlen,
			    "kinds: unknown task kind \"%.64s\" (console, "
			    "tomcat or jar)",
			    k));
		if (!json_is_object(v))
			return (fail(err, errlen,
			    "kinds.%s: must be an object {\"user\": ...}", k));
		user = NULL;
		json_object_foreach((json_t *)(uintptr_t)v, mk, m)
		{
			if (is_comment(mk))
				continue;
			if (strcmp(mk, "user") != 0)
				return (fail(err, errlen,
				    "kinds.%s: unknown member \"%.64s\"", k,
				    mk));
			if (!json_is_string(m) ||
			    !account_name_valid(json_string_value(m)))
				return (fail(err, errlen,
				    "kinds.%s.user: must be an account name "
				    "(1 to %d of A-Z a-z 0-9 _ . -)",
				    k, AGENTPROTO_USER_MAX));
			user = json_string_value(m);
		}
		if (user == NULL)
			return (fail(err, errlen, "kinds.%s.user: missing", k));
		(void)snprintf(pol->p.kinds[pol->p.nkinds].kind,
		    sizeof(pol->p.kinds[0].kind), "%s", k);
		(void)snprintf(pol->p.kinds[pol->p.nkinds].user,
		    sizeof(pol->p.kinds[0].user), "%s", user);
		pol->p.nkinds++;
	}
	return (1);
}

static int
parse_env(struct agent_policy *pol, const json_t *a, char *err, size_t errlen)
{
	const json_t *v;
	const char   *s;
	size_t	      i, j, n;

	if (!json_is_array(a) || json_array_size(a) > AGENTPROTO_POLICY_ENV_MAX)
		return (fail(err, errlen,
		    "refuse_env: must be an array of at most %d patterns",
		    AGENTPROTO_POLICY_ENV_MAX));
	pol->p.nrefuse_env = 0;
	json_array_foreach(a, i, v)
	{
		s = json_string_value(v);
		n = json_string_length(v);
		if (s != NULL) {
			for (j = 0; j < n; j++) {
				if (s[j] <= ' ' || s[j] > '~' || s[j] == '=')
					break;
			}
		}
		if (s == NULL || n < 1 || n > AGENTPROTO_PATTERN_MAX || j != n)
			return (fail(err, errlen,
			    "refuse_env[%zu]: must be a pattern of 1 to %d "
			    "printable characters without '=' or spaces",
			    i, AGENTPROTO_PATTERN_MAX));
		memcpy(pol->p.refuse_env[i], s, n + 1);
		pol->p.nrefuse_env++;
	}
	return (1);
}

static int
parse_limits(struct agent_policy *pol, const json_t *o, char *err,
    size_t errlen)
{
	const json_t *v;
	const char   *k;
	json_int_t    n;

	if (!json_is_object(o))
		return (fail(err, errlen,
		    "limits: must be an object {\"tasks\", \"log_bytes\"}"));
	json_object_foreach((json_t *)(uintptr_t)o, k, v)
	{
		if (is_comment(k))
			continue;
		n = json_is_integer(v) ? json_integer_value(v) : -1;
		if (strcmp(k, "tasks") == 0) {
			if (n < 0 || n > AGENT_TASKS_MAX)
				return (fail(err, errlen,
				    "limits.tasks: must be an integer from 0 "
				    "to %d",
				    AGENT_TASKS_MAX));
			pol->p.tasks = n;
		} else if (strcmp(k, "log_bytes") == 0) {
			if (n < LOG_BYTES_MIN || n > LOG_BYTES_MAX)
				return (fail(err, errlen,
				    "limits.log_bytes: must be an integer "
				    "from %d to %" PRId64,
				    LOG_BYTES_MIN, LOG_BYTES_MAX));
			pol->p.log_bytes = n;
		} else
			return (fail(err, errlen,
			    "limits: unknown member \"%.64s\"", k));
	}
	return (1);
}

/*
 * Parse a policy file's text (len bytes) into *pol, checking its shape
 * and every value but not the accounts (agent_policy_accounts()).
 * Members missing take their defaults.  Returns 1, or 0 with err saying
 * which member is wrong and why (*pol then holds the defaults).
 */
int
agent_policy_parse(struct agent_policy *pol, const char *buf, size_t len,
    char *err, size_t errlen)
{
	json_error_t  jerr;
	json_t	     *root;
	const json_t *v;
	const char   *k;
	size_t	      i;
	int	      ok = 0, have_roots = 0;

	agent_policy_default(pol);
	if (len > AGENT_POLICY_MAX)
		return (fail(err, errlen, "larger than %d bytes",
		    AGENT_POLICY_MAX));
	if ((root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		for (i = 0; jerr.text[i] != '\0'; i++) {
			if ((unsigned char)jerr.text[i] < ' ')
				jerr.text[i] = '?';
		}
		return (fail(err, errlen, "line %d, column %d: %s", jerr.line,
		    jerr.column, jerr.text));
	}
	if (!json_is_object(root)) {
		(void)fail(err, errlen, "must be a JSON object");
		goto done;
	}
	/* Roots first: they replace the default one. */
	if ((v = json_object_get(root, "roots")) != NULL) {
		pol->p.nroots = 0;
		memset(pol->p.roots, 0, sizeof(pol->p.roots));
		if (!parse_roots(pol, v, err, errlen))
			goto done;
		have_roots = 1;
	}
	json_object_foreach(root, k, v)
	{
		if (is_comment(k) || strcmp(k, "roots") == 0)
			continue;
		if (strcmp(k, "user") == 0) {
			if (!json_is_string(v) ||
			    !account_name_valid(json_string_value(v))) {
				(void)fail(err, errlen,
				    "user: must be an account name (1 to %d "
				    "of A-Z a-z 0-9 _ . -)",
				    AGENTPROTO_USER_MAX);
				goto done;
			}
			(void)snprintf(pol->p.user, sizeof(pol->p.user), "%s",
			    json_string_value(v));
		} else if (strcmp(k, "kinds") == 0) {
			if (!parse_kinds(pol, v, err, errlen))
				goto done;
		} else if (strcmp(k, "refuse_env") == 0) {
			if (!parse_env(pol, v, err, errlen))
				goto done;
		} else if (strcmp(k, "limits") == 0) {
			if (!parse_limits(pol, v, err, errlen))
				goto done;
		} else {
			(void)fail(err, errlen,
			    "unknown member \"%.64s\" (roots, user, kinds, "
			    "refuse_env, limits; '#...' for comments)",
			    k);
			goto done;
		}
	}
	/* A root that names no account reports the default one. */
	for (i = 0; i < pol->p.nroots; i++) {
		if (!pol->named[i] || !have_roots)
			(void)snprintf(pol->p.roots[i].user,
			    sizeof(pol->p.roots[i].user), "%s", pol->p.user);
	}
	ok = 1;
done:
	json_decref(root);
	if (!ok)
		agent_policy_default(pol);
	return (ok);
}

/*
 * Every account the policy names exists here, and the default one is
 * not root (root only where a root entry or a kind names it).  Returns
 * 1, or 0 with err naming the member.
 */
int
agent_policy_accounts(const struct agent_policy *pol, char *err, size_t errlen)
{
	size_t i;
	int    admin;

	if (!agent_os_account_exists(pol->p.user, &admin))
		return (fail(err, errlen, "user: no account named %s here",
		    pol->p.user));
	if (admin)
		return (fail(err, errlen,
		    "user: %s is root; name root only for a root entry or a "
		    "kind",
		    pol->p.user));
	for (i = 0; i < pol->p.nroots; i++) {
		if (pol->named[i] &&
		    !agent_os_account_exists(pol->p.roots[i].user, &admin))
			return (fail(err, errlen,
			    "roots[%zu].user: no account named %s here", i,
			    pol->p.roots[i].user));
	}
	for (i = 0; i < pol->p.nkinds; i++) {
		if (!agent_os_account_exists(pol->p.kinds[i].user, &admin))
			return (fail(err, errlen,
			    "kinds.%s.user: no account named %s here",
			    pol->p.kinds[i].kind, pol->p.kinds[i].user));
	}
	return (1);
}

/*
 * Load the policy from path, or from AGENT_POLICY_FILE when path is
 * NULL (then a missing file means the defaults).  A file that is given
 * but missing, unreadable or wrong is an error: 0 with err naming the
 * file and the problem.  *pol keeps the defaults on failure.
 */
int
agent_policy_load(struct agent_policy *pol, const char *path, char *err,
    size_t errlen)
{
	struct stat st;
	char	   *buf = NULL, msg[512];
	ssize_t	    n;
	size_t	    len = 0;
	int	    fd, ok = 0, required = path != NULL;

	agent_policy_default(pol);
	if (path == NULL)
		path = AGENT_POLICY_FILE;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && !required)
			return (1);
		return (
		    fail(err, errlen, "policy %s: %s", path, strerror(errno)));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)fail(err, errlen, "policy %s: not a regular file", path);
		goto done;
	}
	if ((buf = malloc(AGENT_POLICY_MAX + 1)) == NULL) {
		(void)fail(err, errlen, "policy %s: out of memory", path);
		goto done;
	}
	while (len <= AGENT_POLICY_MAX &&
	    (n = read(fd, buf + len, AGENT_POLICY_MAX + 1 - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			(void)fail(err, errlen, "policy %s: %s", path,
			    strerror(errno));
			goto done;
		}
		len += (size_t)n;
	}
	if (!agent_policy_parse(pol, buf, len, msg, sizeof(msg)) ||
	    !agent_policy_accounts(pol, msg, sizeof(msg))) {
		agent_policy_default(pol);
		(void)fail(err, errlen, "policy %s: %s", path, msg);
		goto done;
	}
	(void)snprintf(pol->file, sizeof(pol->file), "%s", path);
	ok = 1;
done:
	free(buf);
	(void)close(fd);
	return (ok);
}

/*
 * Resolve an absolute path that may not exist yet: the real path of its
 * deepest existing ancestor (every symlink followed) plus the missing
 * rest.  A ".." component anywhere, a dangling symlink, or an ancestor
 * that is not a directory is refused.  Returns 1 with out, or 0 with
 * errno set.
 */
int
agent_path_resolve(const char *path, char *out, size_t outlen)
{
	char	    buf[PATH_MAX], real[PATH_MAX], rest[PATH_MAX];
	struct stat st;
	char	   *slash, *c, *e;
	size_t	    n, cut;

	n = strlen(path);
	if (n == 0 || path[0] != '/' || n >= sizeof(buf)) {
		errno = EINVAL;
		return (0);
	}
	for (c = (char *)(uintptr_t)path;; c = e + 1) {
		if ((e = strchr(c, '/')) == NULL)
			e = c + strlen(c);
		if (e - c == 2 && c[0] == '.' && c[1] == '.') {
			errno = EINVAL;
			return (0);
		}
		if (*e == '\0')
			break;
	}
	memcpy(buf, path, n + 1);
	cut = n;
	for (;;) {
		if (realpath(buf, real) != NULL)
			break;
		if (errno != ENOENT)
			return (0);
		/* Something there that does not resolve: a dangling link. */
		if (lstat(buf, &st) == 0) {
			errno = ELOOP;
			return (0);
		}
		if ((slash = strrchr(buf, '/')) == NULL) {
			errno = ENOENT;
			return (0);
		}
		cut = (size_t)(slash - buf);
		if (cut == 0) {
			/* Nothing below "/" exists: all of it is the rest. */
			(void)snprintf(real, sizeof(real), "/");
			break;
		}
		*slash = '\0';
	}
	/* The missing rest, without empty or "." components. */
	rest[0] = '\0';
	for (c = (char *)(uintptr_t)path + cut; *c != '\0'; c = e) {
		while (*c == '/')
			c++;
		if (*c == '\0')
			break;
		if ((e = strchr(c, '/')) == NULL)
			e = c + strlen(c);
		if (e - c == 1 && c[0] == '.')
			continue;
		if (strlen(rest) + (size_t)(e - c) + 2 > sizeof(rest)) {
			errno = ENAMETOOLONG;
			return (0);
		}
		(void)strcat(rest, "/");
		(void)strncat(rest, c, (size_t)(e - c));
	}
	if ((size_t)snprintf(out, outlen, "%s%s",
		strcmp(real, "/") == 0 && rest[0] != '\0' ? "" : real,
		rest) >= outlen) {
		errno = ENAMETOOLONG;
		return (0);
	}
	return (1);
}

/* Whether path is dir or lies below it (both resolved). */
int
agent_path_inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return (path[0] == '/');
	return (
	    strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/'));
}

/* Whether path lies strictly below dir (both resolved). */
int
agent_path_below(const char *path, const char *dir)
{
	return (agent_path_inside(path, dir) && strcmp(path, dir) != 0);
}

/* "/srv/yard, /opt/legacy" */
static void
roots_list(const struct agent_policy *pol, char *out, size_t len)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < pol->p.nroots && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s",
		    i > 0 ? ", " : "", pol->p.roots[i].path);
}

/*
 * Whether dir may be a task's deploy directory: resolved (rdir), it
 * lies below one of the roots (*root: the most specific, resolved the
 * same way) and neither contains the agent's state directory (or its
 * logs) nor lies inside it.  Returns 1, or 0 with why ("policy: ...").
 */
int
agent_policy_dir(const struct agent_policy *pol, const char *dir,
    const char *state_dir, char *rdir, size_t rdirlen, int *root, char *why,
    size_t whylen)
{
	char   rr[PATH_MAX], rs[PATH_MAX], list[512];
	size_t i, best = 0;
	int    found = -1;

	if (!agent_path_resolve(dir, rdir, rdirlen))
		return (fail(why, whylen,
		    "policy: deploy_dir %s cannot be resolved: %s", dir,
		    strerror(errno)));
	for (i = 0; i < pol->p.nroots; i++) {
		if (!agent_path_resolve(pol->p.roots[i].path, rr, sizeof(rr)))
			continue;
		if (agent_path_below(rdir, rr) && strlen(rr) >= best) {
			best = strlen(rr);
			found = (int)i;
		}
	}
	if (found == -1) {
		roots_list(pol, list, sizeof(list));
		return (fail(why, whylen,
		    "policy: deploy_dir %s is outside the allowed roots (%s)",
		    dir, list));
	}
	if (state_dir != NULL) {
		if (!agent_path_resolve(state_dir, rs, sizeof(rs)))
			return (fail(why, whylen,
			    "policy: the agent's state directory %s cannot be "
			    "resolved: %s",
			    state_dir, strerror(errno)));
		if (agent_path_inside(rdir, rs) || agent_path_inside(rs, rdir))
			return (fail(why, whylen,
			    "policy: deploy_dir %s overlaps the agent's state "
			    "directory %s",
			    dir, state_dir));
		(void)snprintf(list, sizeof(list), "%s/logs", state_dir);
		if (agent_path_resolve(list, rs, sizeof(rs)) &&
		    (agent_path_inside(rdir, rs) ||
			agent_path_inside(rs, rdir)))
			return (fail(why, whylen,
			    "policy: deploy_dir %s overlaps the agent's task "
			    "logs %s",
			    dir, list));
	}
	if (root != NULL)
		*root = found;
	return (1);
}

/*
 * Whether the task (its normalised spec) may start under the policy:
 * its deploy directory (agent_policy_dir()), its environment names
 * against refuse_env, and its account (the root entry's user, else
 * kinds.<kind>.user, else user), which must exist and, when the agent is
 * not root, be the agent's own.  Returns 1 with *acct and the resolved
 * deploy directory in rdir, or 0 with why ("policy: ...").
 */
int
agent_policy_task(const struct agent_policy *pol, const json_t *spec,
    const char *state_dir, struct agent_account *acct, char *rdir,
    size_t rdirlen, char *why, size_t whylen)
{
	const json_t *v;
	const char   *kind, *dir, *k, *user, *from;
	char	      src[AGENTPROTO_STR_MAX + 32], msg[256], self[256];
	size_t	      i;
	int	      root;

	kind = json_string_value(json_object_get(spec, "kind"));
	dir = json_string_value(json_object_get(spec, "deploy_dir"));
	if (kind == NULL || dir == NULL)
		return (fail(why, whylen, "policy: the spec has no %s",
		    kind == NULL ? "kind" : "deploy_dir"));
	if (!agent_policy_dir(pol, dir, state_dir, rdir, rdirlen, &root, why,
		whylen))
		return (0);
	json_object_foreach(json_object_get(spec, "env"), k, v)
	{
		for (i = 0; i < pol->p.nrefuse_env; i++) {
			if (fnmatch(pol->p.refuse_env[i], k, 0) == 0)
				return (fail(why, whylen,
				    "policy: environment variable %s is "
				    "refused (refuse_env %s)",
				    k, pol->p.refuse_env[i]));
		}
	}
	user = pol->p.user;
	from = "user";
	if (pol->named[root]) {
		user = pol->p.roots[root].user;
		(void)snprintf(src, sizeof(src), "the root %s",
		    pol->p.roots[root].path);
		from = src;
	} else {
		for (i = 0; i < pol->p.nkinds; i++) {
			if (strcmp(pol->p.kinds[i].kind, kind) == 0) {
				user = pol->p.kinds[i].user;
				(void)snprintf(src, sizeof(src),
				    "kinds.%s.user", kind);
				from = src;
				break;
			}
		}
	}
	if (!agent_account_get(user, rdir, acct, msg, sizeof(msg)))
		return (fail(why, whylen, "policy: %s (%s)", msg, from));
	if (acct->uid == 0 && strcmp(from, "user") == 0)
		return (fail(why, whylen,
		    "policy: the account %s (user) is root; root only runs "
		    "where a root entry or a kind names it",
		    user));
	if (!agent_os_account_usable(acct, self, sizeof(self)))
		return (fail(why, whylen,
		    "policy: tasks here run as %s (%s), but the agent runs as "
		    "%s and cannot switch accounts",
		    user, from, self));
	return (1);
}

/*
 * What a task may expose: files whose real path lies inside its real
 * deploy directory, which must itself pass agent_policy_dir() (pol may
 * be NULL: no root check), and never in the agent's state directory.
 * Returns 1, or 0 when the task may expose nothing (no deploy directory,
 * or one that does not exist or is refused).
 */
int
agent_confine_init(struct agent_confine *c, const struct agent_policy *pol,
    const json_t *spec, const char *state_dir)
{
	char	    rdir[PATH_MAX], why[512];
	const char *dir;

	memset(c, 0, sizeof(*c));
	dir = json_string_value(json_object_get(spec, "deploy_dir"));
	if (dir == NULL)
		return (0);
	if (pol != NULL &&
	    !agent_policy_dir(pol, dir, state_dir, rdir, sizeof(rdir), NULL,
		why, sizeof(why)))
		return (0);
	if (realpath(dir, rdir) == NULL || strlen(rdir) >= sizeof(c->root) ||
	    (state_dir != NULL &&
		(realpath(state_dir, c->deny) == NULL ||
		    agent_path_inside(rdir, c->deny) ||
		    agent_path_inside(c->deny, rdir)))) {
		memset(c, 0, sizeof(*c));
		return (0);
	}
	memcpy(c->root, rdir, strlen(rdir) + 1);
	return (1);
}

/* Whether a resolved path may be exposed (inside root, not in deny). */
int
agent_confine_path(const struct agent_confine *c, const char *real)
{
	if (c->root[0] == '\0' || !agent_path_inside(real, c->root))
		return (0);
	return (c->deny[0] == '\0' || !agent_path_inside(real, c->deny));
}

/*
 * Whether what fd refers to may be exposed: its path as the kernel has
 * it (agent_os_fd_path()), checked after the open so that a symlink swapped
 * in meanwhile cannot lead elsewhere.  Copies that path to real when
 * real is not NULL.
 */
int
agent_confine_fd(const struct agent_confine *c, int fd, char *real,
    size_t reallen)
{
	char buf[PATH_MAX];

	if (!agent_os_fd_path(fd, buf, sizeof(buf)))
		return (0);
	if (!agent_confine_path(c, buf))
		return (0);
	if (real != NULL &&
	    (size_t)snprintf(real, reallen, "%s", buf) >= reallen)
		return (0);
	return (1);
}
