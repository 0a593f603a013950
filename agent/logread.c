/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Reading task logs: the files a task's logs may be read from, the last
 * lines, a search across rotated parts, and reads from an offset (follow,
 * download).  What is read is a task's output, so it is outside input:
 * everything returned is valid UTF-8 text (agentproto_utf8_clean) and
 * bounded by LOG_RAW_MAX.  Kept apart from logs.c (the requests and
 * their transfers) so that it can be tested and fuzzed alone.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define LOG_SEARCH_LINE 4096 /* longer lines are searched in part */
#define LOG_SETTLE_MS	300 /* an ended task's relay finishes in this */

static char  *clean(const char *, size_t);
static void   idx_shift(int, const char *, int, int);
static int    part_open(const char *, const struct agent_confine *, off_t *,
       int *);
static size_t marks_cap(const char *, size_t *, struct agent_ranges *, int);

/*
 * Open a regular file for reading.  Unconfined (c NULL: the agent's own
 * files) not through a final symlink; confined (a task's file) through
 * any, but then what was opened must lie inside the task's deploy
 * directory (agent_confine_fd(), after the open) and have no other
 * name.  -1 with errno (EACCES when confinement refused it).
 */
int
agent_log_open(const char *path, const struct agent_confine *c, off_t *size)
{
	struct stat st;
	int	    fd;

	if ((fd = open(path,
		 O_RDONLY | O_NONBLOCK | O_CLOEXEC |
		     (c == NULL ? O_NOFOLLOW : 0))) == -1)
		return (-1);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		errno = EINVAL;
		return (-1);
	}
	if (c != NULL &&
	    (st.st_nlink != 1 || !agent_confine_fd(c, fd, NULL, 0))) {
		(void)close(fd);
		errno = EACCES;
		return (-1);
	}
	*size = st.st_size;
	return (fd);
}

/* n bytes as valid UTF-8 text (malloc'd), never longer than the input. */
static char *
clean(const char *buf, size_t n)
{
	char *out;

	if ((out = malloc(n + 1)) == NULL)
		return (NULL);
	(void)agentproto_utf8_clean(out, n + 1, buf, n);
	return (out);
}

/*
 * Open a part of a log to read it, with its stderr index in *idx (-1:
 * none; only the captured output, c NULL, has one).  *size is where
 * reading stops: the size seen under the index's lock, before which
 * every stderr byte has its record (the relay writes both under it), of
 * the log that belongs to the index (a rotation renames both under it).
 */
static int
part_open(const char *path, const struct agent_confine *c, off_t *size,
    int *idx)
{
	struct stat a, b;
	char	    ip[PATH_MAX + 32];
	int	    fd, i, locked, same;

	*idx = -1;
	if (c != NULL ||
	    (size_t)snprintf(ip, sizeof(ip), "%s%s", path,
		AGENT_LOGIDX_SUFFIX) >= sizeof(ip))
		return (agent_log_open(path, c, size));
	for (i = 0; i < 3; i++) {
		if ((*idx = open(ip, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
			break;
		locked = agent_logidx_lock(*idx, 0);
		same = stat(ip, &a) == 0 && fstat(*idx, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
		if (same || !locked) {
			fd = agent_log_open(path, NULL, size);
			if (locked)
				agent_logidx_unlock(*idx);
			if (fd == -1 || !same) {
				(void)close(*idx);
				*idx = -1;
			}
			return (fd);
		}
		/* Rotated meanwhile: the new pair. */
		agent_logidx_unlock(*idx);
		(void)close(*idx);
		*idx = -1;
	}
	return (agent_log_open(path, NULL, size));
}

/*
 * At most AGENTPROTO_LOG_STDERR_MAX ranges in r over text t of *n bytes:
 * keep_end 0 shortens the text (*n) before the first range too many,
 * after the last whole line when there is one; keep_end 1 drops whole
 * lines from its start.  Returns how many leading bytes to drop (then
 * the ranges are moved by as much).
 */
static size_t
marks_cap(const char *t, size_t *n, struct agent_ranges *r, int keep_end)
{
	size_t	k, cut, drop, o;
	int64_t s, e;

	if (r == NULL || r->n <= AGENTPROTO_LOG_STDERR_MAX)
		return (0);
	if (!keep_end) {
		cut = (size_t)r->v[2 * AGENTPROTO_LOG_STDERR_MAX];
		for (k = cut; k > 0 && t[k - 1] != '\n'; k--)
			;
		*n = k > 0 ? k : cut;
		for (k = 0; k < r->n && r->v[2 * k] < (int64_t)*n; k++) {
			if (r->v[2 * k + 1] > (int64_t)*n)
				r->v[2 * k + 1] = (int64_t)*n;
		}
		r->n = k;
		return (0);
	}
	/* After the line holding the end of the last range to go. */
	cut = (size_t)r->v[2 * (r->n - AGENTPROTO_LOG_STDERR_MAX - 1) + 1];
	for (drop = cut > 0 ? cut - 1 : 0; drop < *n && t[drop] != '\n'; drop++)
		;
	drop = drop < *n ? drop + 1 : *n;
	for (k = 0, o = 0; k < r->n; k++) {
		s = r->v[2 * k] - (int64_t)drop;
		e = r->v[2 * k + 1] - (int64_t)drop;
		if (e <= 0)
			continue;
		r->v[2 * o] = s < 0 ? 0 : s;
		r->v[2 * o + 1] = e;
		o++;
	}
	r->n = o;
	*n -= drop;
	return (drop);
}

/*
 * Every file under deploy_dir that one of the task's log_files globs
 * matches, as names relative to deploy_dir, in order (at most
 * AGENTPROTO_LOG_FILES_MAX), each passed to fn with arg; fn returns 0
 * to stop.
 */
static void
globbed(const json_t *spec, int (*fn)(const char *, const char *, void *),
    void	     *arg)
{
	const char *dir;
	json_t	   *g;
	glob_t	    gl;
	char	    pat[AGENT_PATH_MAX * 2 + 2];
	size_t	    i, j, dl;

	dir = json_string_value(json_object_get(spec, "deploy_dir"));
	if (dir == NULL)
		return;
	dl = strlen(dir);
	json_array_foreach(json_object_get(spec, "log_files"), i, g)
	{
		(void)snprintf(pat, sizeof(pat), "%s/%s", dir,
		    json_string_value(g));
		memset(&gl, 0, sizeof(gl));
		if (glob(pat, GLOB_NOSORT | GLOB_ERR, NULL, &gl) != 0) {
			globfree(&gl);
			continue;
		}
		for (j = 0; j < gl.gl_pathc; j++) {
			const char *rel = gl.gl_pathv[j] + dl + 1;

			if (strncmp(gl.gl_pathv[j], dir, dl) != 0 ||
			    gl.gl_pathv[j][dl] != '/' ||
			    !agentproto_log_file_valid(rel))
				continue;
			if (!fn(gl.gl_pathv[j], rel, arg)) {
				globfree(&gl);
				return;
			}
		}
		globfree(&gl);
	}
}

struct listing {
	json_t			   *out;
	const struct agent_confine *c;
};

/* globbed(): list a match that resolves inside the deploy directory. */
static int
list_one(const char *path, const char *rel, void *arg)
{
	struct listing *l = arg;
	json_t	       *v;
	char		real[PATH_MAX];
	size_t		k;

	if (json_array_size(l->out) >= AGENTPROTO_LOG_FILES_MAX)
		return (0);
	if (realpath(path, real) == NULL || !agent_confine_path(l->c, real))
		return (1);
	json_array_foreach(l->out, k, v)
	{
		if (strcmp(json_string_value(v), rel) == 0)
			return (1);
	}
	(void)json_array_append_new(l->out, json_string(rel));
	return (1);
}

/*
 * The files a task's logs can be read from: "stdout", then every file
 * under deploy_dir that a log_files glob matches and that resolves,
 * with every symlink followed, inside the deploy directory (c; none
 * when c is NULL).  A new array.
 */
json_t *
agent_log_files(const json_t *spec, const struct agent_confine *c)
{
	struct listing l;

	if ((l.out = json_array()) == NULL)
		return (NULL);
	(void)json_array_append_new(l.out, json_string("stdout"));
	l.c = c;
	if (c != NULL)
		globbed(spec, list_one, &l);
	return (l.out);
}

struct lookup {
	const char *want;
	int	    found;
};

static int
find_one(const char *path, const char *rel, void *arg)
{
	struct lookup *l = arg;

	if (strcmp(rel, l->want) != 0)
		return (1);
	l->found = 1;
	return (0);
}

/*
 * The file behind a request's name: the captured output, or one that
 * the task's globs match now, resolved (its real path, which must lie
 * inside the deploy directory: c).  1 with out; 0 when the name is not
 * one of them; -1 when it is, but resolves outside (or c is NULL).
 */
int
agent_log_path(const json_t *spec, const char *logdir, int64_t id,
    const char *file, const struct agent_confine *c, char *out, size_t len)
{
	struct lookup l;
	char	      path[AGENT_PATH_MAX * 2 + 2], real[PATH_MAX];

	if (strcmp(file, "stdout") == 0) {
		(void)snprintf(out, len, "%s/%" PRId64 ".log", logdir, id);
		return (1);
	}
	l.want = file;
	l.found = 0;
	globbed(spec, find_one, &l);
	if (!l.found)
		return (0);
	(void)snprintf(path, sizeof(path), "%s/%s",
	    json_string_value(json_object_get(spec, "deploy_dir")), file);
	if (c == NULL || realpath(path, real) == NULL ||
	    !agent_confine_path(c, real) ||
	    (size_t)snprintf(out, len, "%s", real) >= len)
		return (-1);
	return (1);
}

/*
 * The last `lines` lines of path (reaching into path.1 when the current
 * part is short), at most LOG_RAW_MAX bytes of them, as clean text.
 * *size is the current part's size (where a follow goes on from).  With
 * marks, the text's stderr ranges are added to it.
 */
char *
agent_log_tail(const char *path, const struct agent_confine *c, int64_t lines,
    off_t *size, int *truncated, struct agent_ranges *marks)
{
	struct agent_ranges pr[2];
	char   *buf, *p, *start, *end, part[AGENT_PATH_MAX * 2 + 16];
	off_t	sz, from = 0;
	size_t	have = 0, want, n, k, len, drop;
	ssize_t r;
	int64_t nl, a, b, at;
	int	fd, idx, i, ok = 1;

	*truncated = 0;
	*size = 0;
	memset(pr, 0, sizeof(pr));
	if ((buf = malloc(LOG_RAW_MAX)) == NULL)
		return (NULL);
	end = buf + LOG_RAW_MAX;
	/* Fill buf from its end: the current part, then the one before. */
	for (i = 0; i < 2 && have < LOG_RAW_MAX; i++) {
		(void)snprintf(part, sizeof(part), i == 0 ? "%s" : "%s.1",
		    path);
		if ((fd = part_open(part, c, &sz, &idx)) == -1) {
			if (i == 0 && errno != ENOENT) {
				free(buf);
				return (NULL);
			}
			continue;
		}
		if (i == 0)
			*size = sz;
		want = LOG_RAW_MAX - have;
		if ((off_t)want > sz)
			want = (size_t)sz;
		from = sz - (off_t)want;
		for (n = 0; n < want; n += (size_t)r) {
			r = pread(fd, end - have - want + n, want - n,
			    from + (off_t)n);
			if (r <= 0)
				break;
		}
		(void)close(fd);
		if (n < want) /* shrank meanwhile: keep what was read */
			memmove(end - have - n, end - have - want, n);
		have += n;
		/* Its marks, where its bytes lie in buf. */
		if (marks != NULL && idx != -1 &&
		    !agent_logidx_collect(idx, from, from + (off_t)n,
			LOG_RAW_MAX - (int64_t)have, &pr[i]))
			ok = 0;
		if (idx != -1)
			(void)close(idx);
		for (nl = 0, p = end - have; p < end - 1; p++)
			nl += *p == '\n';
		if (nl >= lines)
			break;
	}
	/* Back from the end (a final newline ends the last line). */
	start = end - have;
	p = end;
	if (p > start && p[-1] == '\n')
		p--;
	for (nl = 0; p > start; p--) {
		if (p[-1] == '\n' && ++nl >= lines)
			break;
	}
	if (p == start && from > 0 && have > 0) {
		/* The window began mid-file: drop its partial first line. */
		while (p < end && *p != '\n')
			p++;
		if (p < end)
			p++;
		*truncated = 1;
	}
	/* The older part's marks first, as its bytes come first. */
	at = p - buf;
	for (i = 1; i >= 0 && marks != NULL && ok; i--) {
		for (k = 0; k < pr[i].n && ok; k++) {
			a = pr[i].v[2 * k] - at;
			b = pr[i].v[2 * k + 1] - at;
			if (b > 0)
				ok = agent_ranges_add(marks, a < 0 ? 0 : a, b);
		}
	}
	agent_ranges_free(&pr[0]);
	agent_ranges_free(&pr[1]);
	if (!ok) {
		free(buf);
		errno = ENOMEM;
		return (NULL);
	}
	len = (size_t)(end - p);
	if ((drop = marks_cap(p, &len, marks, 1)) > 0)
		*truncated = 1;
	p = clean(p + drop, len);
	free(buf);
	return (p);
}

/*
 * The last `lines` lines of all parts (oldest first) that contain q,
 * case-insensitively; *matches counts every matching line.  With marks,
 * each line of the answer that holds a byte the task wrote to stderr is
 * a range of it (its newline included).
 */
char *
agent_log_search(const char *path, const struct agent_confine *c, const char *q,
    int64_t lines, int64_t *matches, off_t *size, int *truncated,
    struct agent_ranges *marks)
{
	char  **ring, *line = NULL, part[AGENT_PATH_MAX * 2 + 16], *out, *o;
	char   *copy;
	size_t	cap = 0, total = 0, k, n, start, drop, ll;
	ssize_t len;
	off_t	sz, at;
	FILE   *f;
	int64_t have = 0, *roff = NULL, *rlen = NULL;
	int	fd, i, *rpart = NULL, idx[AGENT_LOG_KEEP + 1];

	*matches = 0;
	*truncated = 0;
	*size = 0;
	for (i = 0; i <= AGENT_LOG_KEEP; i++)
		idx[i] = -1;
	if ((ring = calloc((size_t)lines, sizeof(*ring))) == NULL ||
	    (roff = calloc((size_t)lines, sizeof(*roff))) == NULL ||
	    (rlen = calloc((size_t)lines, sizeof(*rlen))) == NULL ||
	    (rpart = calloc((size_t)lines, sizeof(*rpart))) == NULL) {
		free(ring);
		free(roff);
		free(rlen);
		return (NULL);
	}
	for (i = AGENT_LOG_KEEP; i >= 0; i--) {
		if (i == 0)
			(void)snprintf(part, sizeof(part), "%s", path);
		else
			(void)snprintf(part, sizeof(part), "%s.%d", path, i);
		if ((fd = part_open(part, c, &sz, &idx[i])) == -1)
			continue;
		if (i == 0)
			*size = sz;
		if ((f = fdopen(fd, "r")) == NULL) {
			(void)close(fd);
			continue;
		}
		/* Up to the size seen: past it, a mark may be missing yet. */
		for (at = 0; at < sz && (len = getline(&line, &cap, f)) > 0;
		     at += len) {
			ll = (size_t)len > LOG_SEARCH_LINE ? LOG_SEARCH_LINE
							   : (size_t)len;
			line[ll] = '\0';
			if (strcasestr(line, q) == NULL)
				continue;
			(*matches)++;
			/* Out of memory: the match is counted, not kept. */
			if ((copy = strndup(line, ll)) == NULL)
				continue;
			k = (size_t)(have % lines);
			free(ring[k]);
			ring[k] = copy;
			roff[k] = (int64_t)at;
			rlen[k] = (int64_t)len;
			rpart[k] = i;
			have++;
		}
		(void)fclose(f);
	}
	free(line);
	/* Oldest kept match first; the newest that fit in LOG_RAW_MAX. */
	n = have < lines ? (size_t)have : (size_t)lines;
	start = have < lines ? 0 : (size_t)(have % lines);
	for (k = n; k > 0; k--) {
		char *l = ring[(start + k - 1) % (size_t)lines];
		if (total + strlen(l) + 1 > LOG_RAW_MAX) {
			*truncated = 1;
			break;
		}
		total += strlen(l) + 1;
	}
	if ((out = o = malloc(total + 1)) != NULL) {
		for (; k < n; k++) {
			size_t r = (start + k) % (size_t)lines;
			char  *l = ring[r];
			char  *b = o;

			ll = strlen(l);
			memcpy(o, l, ll);
			o += ll;
			if (ll == 0 || l[ll - 1] != '\n')
				*o++ = '\n';
			if (marks != NULL && idx[rpart[r]] != -1 &&
			    agent_logidx_any(idx[rpart[r]], roff[r],
				roff[r] + rlen[r]) == 1 &&
			    !agent_ranges_add(marks, b - out, o - out)) {
				free(out);
				out = NULL;
				break;
			}
		}
		if (out != NULL)
			*o = '\0';
	}
	for (k = 0; k < (size_t)lines; k++)
		free(ring[k]);
	free(ring);
	free(roff);
	free(rlen);
	free(rpart);
	for (i = 0; i <= AGENT_LOG_KEEP; i++) {
		if (idx[i] != -1)
			(void)close(idx[i]);
	}
	if (out != NULL) {
		n = strlen(out);
		if ((drop = marks_cap(out, &n, marks, 1)) > 0)
			*truncated = 1;
		o = clean(out + drop, n);
		free(out);
		out = o;
	}
	return (out);
}

/*
 * Up to LOG_RAW_MAX bytes of path from *pos, cut after the last newline
 * when there is one (so that a chunk ends on a whole line and a
 * character); *pos moves past what was taken.  A file that shrank or was
 * replaced (rotated) is read again from its start.  NULL on error; ""
 * when nothing is new.  With marks, the text's stderr ranges are added
 * to it (and the text ends before a range too many).
 */
char *
agent_log_read(const char *path, const struct agent_confine *c, off_t *pos,
    uint64_t *ino, off_t limit, int *restarted, struct agent_ranges *marks)
{
	struct stat st;
	char	   *buf, *out;
	size_t	    want, n = 0;
	ssize_t	    r;
	off_t	    sz;
	int	    fd, idx;

	*restarted = 0;
	if ((fd = part_open(path, c, &sz, &idx)) == -1)
		return (errno == ENOENT ? strdup("") : NULL);
	if (fstat(fd, &st) == 0) {
		if (*ino != 0 && *ino != (uint64_t)st.st_ino)
			*restarted = 1;
		*ino = (uint64_t)st.st_ino;
	}
	if (sz < *pos)
		*restarted = 1;
	if (*restarted)
		*pos = 0;
	if (limit > 0 && sz > limit)
		sz = limit;
	want = sz - *pos > LOG_RAW_MAX ? LOG_RAW_MAX : (size_t)(sz - *pos);
	if ((buf = malloc(want + 1)) == NULL) {
		(void)close(fd);
		if (idx != -1)
			(void)close(idx);
		return (NULL);
	}
	while (n < want) {
		r = pread(fd, buf + n, want - n, *pos + (off_t)n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	(void)close(fd);
	/* End on a line when the chunk is full or the line is unfinished;
	 * a line longer than a chunk is sent in pieces. */
	while (n > 0 && buf[n - 1] != '\n' && memchr(buf, '\n', n) != NULL)
		n--;
	if (marks != NULL && idx != -1 &&
	    !agent_logidx_collect(idx, *pos, *pos + (off_t)n, 0, marks)) {
		(void)close(idx);
		free(buf);
		errno = ENOMEM;
		return (NULL);
	}
	if (idx != -1)
		(void)close(idx);
	(void)marks_cap(buf, &n, marks, 0);
	*pos += (off_t)n;
	out = clean(buf, n);
	free(buf);
	return (out);
}

/*
 * A task that just ended: its relay writes what it wrote last within
 * moments.  Wait for it (it lets go of the log when done), at most
 * LOG_SETTLE_MS, before its last lines are read.
 */
void
agent_log_settle(const char *path)
{
	struct timespec nap;
	int		i;

	nap.tv_sec = 0;
	nap.tv_nsec = 10 * 1000 * 1000;
	for (i = 0; i < LOG_SETTLE_MS / 10 && agent_logidx_held(path); i++)
		(void)nanosleep(&nap, NULL);
}

/*
 * The stderr index of part `from` of base (0: base itself; -1: none)
 * becomes part to's; a part left without one loses the one it had.
 */
static void
idx_shift(int dfd, const char *base, int from, int to)
{
	char f[PATH_MAX + 32], t[PATH_MAX + 32];

	if (from == 0)
		(void)snprintf(f, sizeof(f), "%s%s", base, AGENT_LOGIDX_SUFFIX);
	else
		(void)snprintf(f, sizeof(f), "%s.%d%s", base, from,
		    AGENT_LOGIDX_SUFFIX);
	(void)snprintf(t, sizeof(t), "%s.%d%s", base, to, AGENT_LOGIDX_SUFFIX);
	if (from == -1 || renameat(dfd, f, dfd, t) == -1)
		(void)unlinkat(dfd, t, 0);
}

/*
 * Size-based rotation by copy and truncate (as logrotate's copytruncate:
 * the writer keeps its descriptor and needs no signal; a line written
 * between the copy and the truncate can be lost).  path.1 is the newest
 * old part; at most keep parts are kept.  Confined (c: a task's file),
 * only a file that passes agent_log_open()'s checks is touched, and the
 * parts are renamed and made in its checked directory (renameat), never
 * through a link.  Returns 1 when it rotated, 0 when not needed, -1 on
 * error (errno set).
 */
int
agent_log_rotate(const char *path, const struct agent_confine *c, off_t max,
    int keep)
{
	struct stat st, st2;
	char	    real[PATH_MAX], from[PATH_MAX + 16], to[PATH_MAX + 16];
	char	    buf[65536], *base;
	ssize_t	    n;
	off_t	    size;
	int	    fd, dfd = -1, wfd = -1, out = -1, i, ret = -1;

	if ((fd = agent_log_open(path, c, &size)) == -1)
		return (errno == ENOENT || errno == ELOOP || errno == EINVAL
			? 0
			: -1);
	if (fstat(fd, &st) == -1)
		goto done;
	if (size <= max || keep < 1) {
		ret = 0;
		goto done;
	}
	if (c != NULL) {
		if (!agent_confine_fd(c, fd, real, sizeof(real))) {
			errno = EACCES;
			goto done;
		}
	} else if ((size_t)snprintf(real, sizeof(real), "%s", path) >=
	    sizeof(real)) {
		errno = ENAMETOOLONG;
		goto done;
	}
	if ((base = strrchr(real, '/')) == NULL || base[1] == '\0') {
		errno = EINVAL;
		goto done;
	}
	*base++ = '\0';
	if ((dfd = open(real[0] != '\0' ? real : "/",
		 O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto done;
	if (c != NULL && !agent_confine_fd(c, dfd, NULL, 0)) {
		errno = EACCES;
		goto done;
	}
	/* The directory still holds the file that was checked. */
	if ((wfd = openat(dfd, base,
		 O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1)
		goto done;
	if (fstat(wfd, &st2) == -1 || st2.st_dev != st.st_dev ||
	    st2.st_ino != st.st_ino) {
		errno = EACCES;
		goto done;
	}
	for (i = keep - 1; i >= 1; i--) {
		(void)snprintf(from, sizeof(from), "%s.%d", base, i);
		(void)snprintf(to, sizeof(to), "%s.%d", base, i + 1);
		if (renameat(dfd, from, dfd, to) == -1) {
			if (errno != ENOENT)
				goto done;
		} else if (c == NULL)
			idx_shift(dfd, base, i, i + 1);
	}
	(void)snprintf(to, sizeof(to), "%s.1", base);
	if (unlinkat(dfd, to, 0) == -1 && errno != ENOENT)
		goto done;
	if (c == NULL)
		idx_shift(dfd, base, -1, 1);
	if ((out = openat(dfd, to,
		 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640)) ==
	    -1)
		goto done;
	/* The part keeps the owner of the file it came from. */
	if (agent_os_admin() && fchown(out, st.st_uid, st.st_gid) == -1)
		log_warn("%s/%s: chown", real, to);
	while ((n = read(wfd, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	}
	if (n == 0 && ftruncate(wfd, 0) == 0) {
		ret = 1;
		/* The captured output's stderr index goes with the copy. */
		if (c == NULL)
			idx_shift(dfd, base, 0, 1);
	}
done:
	if (out != -1)
		(void)close(out);
	if (wfd != -1)
		(void)close(wfd);
	if (dfd != -1)
		(void)close(dfd);
	(void)close(fd);
	return (ret);
}

struct rotation {
	const struct agent_confine *c;
	off_t			    max;
	int			    keep;
	int			    failed;
};

/* globbed(): rotate one match; rotated parts (".<digits>") stay. */
static int
rotate_one(const char *path, const char *rel, void *arg)
{
	struct rotation *r = arg;
	const char	*p;
	char		 real[PATH_MAX];

	for (p = rel + strlen(rel); p > rel && p[-1] >= '0' && p[-1] <= '9';
	     p--)
		;
	if (p < rel + strlen(rel) && p > rel && p[-1] == '.')
		return (1);
	/* Not the task's file (it leads outside): not a failure either;
	 * agent_log_rotate() checks again on what it opens. */
	if (realpath(path, real) == NULL || !agent_confine_path(r->c, real))
		return (1);
	if (agent_log_rotate(path, r->c, r->max, r->keep) == -1) {
		log_warn("%s: log rotation", path);
		r->failed++;
	}
	return (1);
}

/*
 * Rotate the task's configured log files (its log_files matches) past
 * max, keeping keep parts; only files inside the deploy directory (c)
 * are touched: nothing when c is NULL.  Returns how many failed.
 */
int
agent_log_rotate_files(const json_t *spec, const struct agent_confine *c,
    off_t max, int keep)
{
	struct rotation r;

	if (c == NULL)
		return (0);
	r.c = c;
	r.max = max;
	r.keep = keep;
	r.failed = 0;
	globbed(spec, rotate_one, &r);
	return (r.failed);
}
