/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The release journal and the deploy directory's layout (release.h):
 * reading and writing the journal (every member checked: a journal that
 * is not what this code wrote is refused, never half-believed), the
 * releases as a command's result reports them, switching `current`,
 * retention, and moving a whole deploy directory.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agent.h"
#include "release.h"

#define JOURNAL_V    1
#define JOURNAL_MAX  (256 * 1024) /* bytes of one journal file */
#define REL_NEXT_MAX 1000000000LL /* the highest n a journal may give */

static int say(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static int get_int(const json_t *, const char *, int64_t, int64_t, int64_t *,
    char *, size_t);
static int hex64(const char *);
static int ref_ok(const struct agent_reljournal *, int64_t);
static int journal_path(const char *, int64_t, char *, size_t, char *, size_t);
static const char *rel_state(const struct agent_reljournal *,
    const struct agent_rel *);
static int	   prune_pick(const struct agent_reljournal *, int);
static void	   journal_empty(struct agent_reljournal *, int64_t);

/* Fill why (may be NULL) and return 0: every failure path says why. */
static int
say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || len == 0)
		return (0);
	va_start(ap, fmt);
	(void)vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return (0);
}

int
agent_rel_path(const char *dir, int64_t n, char *buf, size_t len)
{
	int r;

	if (n < 0)
		return (0);
	r = snprintf(buf, len, "%s/%s/%" PRId64, dir, AGENT_REL_DIR, n);
	return (r > 0 && (size_t)r < len);
}

static int
journal_path(const char *state, int64_t task, char *dir, size_t dirlen,
    char *file, size_t filelen)
{
	int r;

	r = snprintf(dir, dirlen, "%s/%s", state, AGENT_REL_DIR);
	if (r <= 0 || (size_t)r >= dirlen)
		return (0);
	r = snprintf(file, filelen, "%" PRId64 ".json", task);
	return (r > 0 && (size_t)r < filelen);
}

static int
get_int(const json_t *o, const char *key, int64_t min, int64_t max,
    int64_t *out, char *why, size_t len)
{
	const json_t *v;

	v = json_object_get(o, key);
	if (!json_is_integer(v))
		return (say(why, len, "%s: missing or not an integer", key));
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return (
		    say(why, len, "%s: %" JSON_INTEGER_FORMAT " out of range",
			key, json_integer_value(v)));
	*out = json_integer_value(v);
	return (1);
}

/* 64 lower-case hex digits. */
static int
hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'a' && s[i] <= 'f')))
			return (0);
	}
	return (i == 64);
}

/* A reference (live, last_good, ...) is -1 or a release of the list. */
static int
ref_ok(const struct agent_reljournal *j, int64_t n)
{
	size_t i;

	if (n == -1)
		return (1);
	for (i = 0; i < j->nrel; i++) {
		if (j->v[i].n == n)
			return (1);
	}
	return (0);
}

static void
journal_empty(struct agent_reljournal *j, int64_t task)
{
	memset(j, 0, sizeof(*j));
	j->task_id = task;
	j->live = j->last_good = j->pending = j->prev = -1;
	j->next = 1;
}

int
agent_rel_parse(const char *buf, size_t buflen, int64_t task,
    struct agent_reljournal *j, char *why, size_t len)
{
	static const char *const top[] = { "v", "task", "dir", "live",
		"last_good", "pending", "prev", "next", "releases" };
	static const char *const rel[] = { "n", "sha256", "good", "bad",
		"deployed_at", "command" };
	static const char *const refs[] = { "live", "last_good", "pending",
		"prev" };
	json_error_t		 jerr;
	json_t			*root, *arr, *r, *v;
	struct agent_rel	*x;
	const char		*key, *s;
	int64_t			 iv, refv[4];
	size_t			 i, k, slen;
	int			 ok, known;
	char			 sub[160];

	journal_empty(j, task);
	ok = 0;
	if ((root = json_loadb(buf, buflen, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL)
		return (say(why, len, "not JSON: %s (line %d)", jerr.text,
		    jerr.line));
	if (!json_is_object(root)) {
		(void)say(why, len, "not an object");
		goto done;
	}
	json_object_foreach(root, key, v)
	{
		for (k = 0, known = 0; k < sizeof(top) / sizeof(top[0]); k++)
			known |= strcmp(key, top[k]) == 0;
		if (!known) {
			(void)say(why, len, "unknown member %.64s", key);
			goto done;
		}
	}
	if (!get_int(root, "v", JOURNAL_V, JOURNAL_V, &iv, why, len))
		goto done;
	if (!get_int(root, "task", task, task, &iv, why, len))
		goto done;
	v = json_object_get(root, "dir");
	if (!json_is_string(v) || (s = json_string_value(v))[0] != '/' ||
	    (slen = json_string_length(v)) != strlen(s) ||
	    slen >= sizeof(j->dir) || slen > AGENT_PATH_MAX) {
		(void)say(why, len,
		    "dir: not an absolute path of at most %d bytes",
		    AGENT_PATH_MAX);
		goto done;
	}
	memcpy(j->dir, s, slen + 1);
	if (!get_int(root, "next", 1, REL_NEXT_MAX, &j->next, why, len))
		goto done;
	for (k = 0; k < 4; k++) {
		if (!get_int(root, refs[k], -1, REL_NEXT_MAX, &refv[k], why,
			len))
			goto done;
	}
	arr = json_object_get(root, "releases");
	if (!json_is_array(arr) || json_array_size(arr) > AGENT_REL_MAX) {
		(void)say(why, len, "releases: not an array of at most %d",
		    AGENT_REL_MAX);
		goto done;
	}
	json_array_foreach(arr, i, r)
	{
		x = &j->v[i];
		if (!json_is_object(r)) {
			(void)say(why, len, "releases[%zu]: not an object", i);
			goto done;
		}
		json_object_foreach(r, key, v)
		{
			for (k = 0, known = 0; k < sizeof(rel) / sizeof(rel[0]);
			     k++)
				known |= strcmp(key, rel[k]) == 0;
			if (!known) {
				(void)say(why, len,
				    "releases[%zu]: unknown member %.64s", i,
				    key);
				goto done;
			}
		}
		if (!get_int(r, "n", 0, j->next - 1, &x->n, sub, sizeof(sub)) ||
		    !get_int(r, "deployed_at", 0, INT64_MAX, &x->deployed_at,
			sub, sizeof(sub))) {
			(void)say(why, len, "releases[%zu]: %s", i, sub);
			goto done;
		}
		if (i > 0 && x->n <= j->v[i - 1].n) {
			(void)say(why, len,
			    "releases[%zu]: n %" PRId64 " out of order", i,
			    x->n);
			goto done;
		}
		v = json_object_get(r, "sha256");
		if (!json_is_string(v) ||
		    (json_string_length(v) != 0 &&
			!hex64(json_string_value(v))) ||
		    json_string_length(v) >= sizeof(x->sha256) ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			(void)say(why, len,
			    "releases[%zu]: sha256 not \"\" or 64 hex digits",
			    i);
			goto done;
		}
		memcpy(x->sha256, json_string_value(v),
		    json_string_length(v) + 1);
		v = json_object_get(r, "command");
		if (!json_is_string(v) ||
		    (json_string_length(v) != 0 &&
			(json_string_length(v) != AGENTPROTO_UUID_LEN ||
			    !agentproto_uuid_valid(json_string_value(v))))) {
			(void)say(why, len,
			    "releases[%zu]: command not \"\" or a UUID", i);
			goto done;
		}
		memcpy(x->cmd, json_string_value(v), json_string_length(v) + 1);
		if (!json_is_boolean(json_object_get(r, "good")) ||
		    !json_is_boolean(json_object_get(r, "bad"))) {
			(void)say(why, len,
			    "releases[%zu]: good and bad must be booleans", i);
			goto done;
		}
		x->good = json_is_true(json_object_get(r, "good"));
		x->bad = json_is_true(json_object_get(r, "bad"));
		j->nrel = i + 1;
	}
	j->live = refv[0];
	j->last_good = refv[1];
	j->pending = refv[2];
	j->prev = refv[3];
	for (k = 0; k < 4; k++) {
		if (!ref_ok(j, refv[k])) {
			(void)say(why, len,
			    "%s: release %" PRId64 " is not in the list",
			    refs[k], refv[k]);
			goto done;
		}
	}
	if (j->last_good != -1 && !agent_rel_find(j, j->last_good)->good) {
		(void)say(why, len,
		    "last_good: release %" PRId64 " is not marked good",
		    j->last_good);
		goto done;
	}
	ok = 1;
done:
	json_decref(root);
	if (!ok)
		journal_empty(j, task);
	return (ok);
}

int
agent_rel_load(const char *state, int64_t task, struct agent_reljournal *j,
    char *why, size_t len)
{
	struct stat st;
	char	    dir[AGENT_PATH_MAX], name[32], path[AGENT_PATH_MAX * 2];
	char	    msg[256], *buf;
	ssize_t	    n;
	size_t	    got;
	int	    fd, ok;

	journal_empty(j, task);
	if (!journal_path(state, task, dir, sizeof(dir), name, sizeof(name)))
		return (say(why, len, "%s: path too long", state));
	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return (1);
		return (say(why, len, "%s: %s", path, strerror(errno)));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > JOURNAL_MAX) {
		(void)close(fd);
		return (say(why, len,
		    "%s: not a regular file of at most %d "
		    "bytes",
		    path, JOURNAL_MAX));
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		(void)close(fd);
		return (say(why, len, "%s: out of memory", path));
	}
	for (got = 0; got < (size_t)st.st_size; got += (size_t)n) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			break;
	}
	(void)close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);
		return (say(why, len, "%s: short read", path));
	}
	ok = agent_rel_parse(buf, got, task, j, msg, sizeof(msg));
	free(buf);
	if (!ok)
		return (say(why, len, "%s: %s", path, msg));
	return (1);
}

char *
agent_rel_dump(const struct agent_reljournal *j)
{
	json_t *root, *arr, *r;
	char   *s;
	size_t	i;

	if ((arr = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < j->nrel; i++) {
		r = json_pack("{s:I, s:s, s:b, s:b, s:I, s:s}", "n",
		    (json_int_t)j->v[i].n, "sha256", j->v[i].sha256, "good",
		    j->v[i].good, "bad", j->v[i].bad, "deployed_at",
		    (json_int_t)j->v[i].deployed_at, "command", j->v[i].cmd);
		if (r == NULL || json_array_append_new(arr, r) != 0) {
			json_decref(arr);
			return (NULL);
		}
	}
	root = json_pack("{s:i, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "v",
	    JOURNAL_V, "task", (json_int_t)j->task_id, "dir", j->dir, "live",
	    (json_int_t)j->live, "last_good", (json_int_t)j->last_good,
	    "pending", (json_int_t)j->pending, "prev", (json_int_t)j->prev,
	    "next", (json_int_t)j->next, "releases", arr);
	if (root == NULL)
		return (NULL);
	s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return (s);
}

int
agent_rel_save(const char *state, const struct agent_reljournal *j, char *why,
    size_t len)
{
	char dir[AGENT_PATH_MAX], name[32], *s;
	int  ok;

	if (!journal_path(state, j->task_id, dir, sizeof(dir), name,
		sizeof(name)))
		return (say(why, len, "%s: path too long", state));
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return (say(why, len, "%s: %s", dir, strerror(errno)));
	if ((s = agent_rel_dump(j)) == NULL)
		return (say(why, len, "release journal: out of memory"));
	ok = agent_write_atomic(dir, name, s, strlen(s), 0600);
	free(s);
	if (!ok)
		return (say(why, len, "%s/%s: cannot write the release journal",
		    dir, name));
	return (1);
}

int
agent_rel_forget(const char *state, int64_t task)
{
	char dir[AGENT_PATH_MAX], name[32], path[AGENT_PATH_MAX * 2];

	if (!journal_path(state, task, dir, sizeof(dir), name, sizeof(name)))
		return (0);
	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (unlink(path) == -1 && errno != ENOENT)
		return (0);
	return (1);
}

struct agent_rel *
agent_rel_find(struct agent_reljournal *j, int64_t n)
{
	size_t i;

	for (i = 0; i < j->nrel; i++) {
		if (j->v[i].n == n)
			return (&j->v[i]);
	}
	return (NULL);
}

static const char *
rel_state(const struct agent_reljournal *j, const struct agent_rel *r)
{
	if (r->n == j->live)
		return ("live");
	if (r->bad)
		return ("bad");
	if (r->good)
		return ("good");
	return ("kept");
}

json_t *
agent_rel_json(const struct agent_reljournal *j)
{
	const struct agent_rel *r;
	json_t		       *arr, *o;
	size_t			i;

	if ((arr = json_array()) == NULL)
		return (NULL);
	for (i = j->nrel; i > 0; i--) {
		r = &j->v[i - 1];
		o = json_pack("{s:I, s:s, s:s, s:I, s:s}", "n",
		    (json_int_t)r->n, "sha256", r->sha256, "state",
		    rel_state(j, r), "deployed_at", (json_int_t)r->deployed_at,
		    "command", r->cmd);
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return (NULL);
		}
	}
	return (arr);
}

int
agent_rel_switch(const char *dir, int64_t n, char *why, size_t len)
{
	struct stat st;
	char	    target[64], rel[PATH_MAX], tmp[PATH_MAX], cur[PATH_MAX];
	int	    r;

	if (!agent_rel_path(dir, n, rel, sizeof(rel)) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.new", dir, AGENT_REL_CURRENT) >=
		(int)sizeof(tmp) ||
	    snprintf(cur, sizeof(cur), "%s/%s", dir, AGENT_REL_CURRENT) >=
		(int)sizeof(cur))
		return (say(why, len, "%s: path too long", dir));
	if (lstat(rel, &st) == -1 || !S_ISDIR(st.st_mode))
		return (say(why, len, "%s is not a directory", rel));
	/* Relative: the link stays right when the directory moves. */
	r = snprintf(target, sizeof(target), "%s/%" PRId64, AGENT_REL_DIR, n);
	if (r <= 0 || (size_t)r >= sizeof(target))
		return (say(why, len, "release %" PRId64 ": bad number", n));
	/* A link left by a switch that died before its rename. */
	if (unlink(tmp) == -1 && errno != ENOENT)
		return (say(why, len, "%s: %s", tmp, strerror(errno)));
	if (symlink(target, tmp) == -1)
		return (say(why, len, "%s: %s", tmp, strerror(errno)));
	if (rename(tmp, cur) == -1) {
		r = errno;
		(void)unlink(tmp);
		return (say(why, len, "%s: %s%s", cur, strerror(r),
		    r == EISDIR ? " (a directory, not a link)" : ""));
	}
	(void)agent_os_dir_sync(dir);
	return (1);
}

/*
 * The index in j->v of the next release to remove, or -1: bad ones
 * first, then the oldest; never live, pending or last good.
 */
static int
prune_pick(const struct agent_reljournal *j, int bad)
{
	size_t i;

	for (i = 0; i < j->nrel; i++) {
		if (j->v[i].n == j->live || j->v[i].n == j->pending ||
		    j->v[i].n == j->last_good || j->v[i].n == j->prev)
			continue;
		if (!bad || j->v[i].bad)
			return ((int)i);
	}
	return (-1);
}

int
agent_rel_prune(struct agent_reljournal *j, int keep, char *why, size_t len)
{
	char path[PATH_MAX];
	int  removed, i;

	removed = 0;
	if (keep < 1)
		keep = 1;
	while (j->nrel > (size_t)keep) {
		if ((i = prune_pick(j, 1)) == -1 &&
		    (i = prune_pick(j, 0)) == -1)
			break;
		if (!agent_rel_path(j->dir, j->v[i].n, path, sizeof(path)))
			return (say(why, len, "%s: path too long", j->dir) - 1);
		if (!agent_os_remove_tree(NULL, path))
			return (say(why, len, "cannot remove %s: %s", path,
				    strerror(errno)) -
			    1);
		memmove(&j->v[i], &j->v[i + 1],
		    (j->nrel - (size_t)i - 1) * sizeof(j->v[0]));
		j->nrel--;
		removed++;
	}
	return (removed);
}

void
agent_rel_clean_staging(const char *dir)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, AGENT_REL_STAGING) >=
	    (int)sizeof(path))
		return;
	if (!agent_os_remove_tree(NULL, path))
		log_warn("cannot remove %s", path);
}
