/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Task logs on request (docs/agent-protocol.md, "Logs"): the server hands
 * out log requests with the commands; the agent answers each with chunks
 * POSTed to /agent/v1/logs/{id}: the last lines or the matches of a
 * search, the whole file for a download, or, for a follow, the last lines
 * and then whatever is appended, until the server says nobody follows.
 *
 * Only two kinds of file are ever read: the task's captured output
 * (<state>/logs/<id>.log and its rotated parts) and files that one of the
 * task's log_files globs matches under its deploy_dir, only when regular
 * and when, with every symbolic link followed, they lie inside the
 * deploy directory (itself allowed by the node policy) and not in the
 * agent's state directory; checked again on the open descriptor.
 */

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

#define LOG_FOLLOW_MS	  200 /* a followed file is checked this often */
#define LOG_KEEPALIVE_MS  5000 /* ask whether anyone still follows */
#define LOG_FOLLOW_MAX_MS (3600 * 1000)
#define LOG_DOWNLOAD_MAX  ((off_t)16 * 1024 * 1024) /* the end of a file */
#define LOG_POST_MS	  20000
#define LOG_FAILS_MAX	  5

static void req_drop(struct agent_logs *, struct agent_logreq *);
static void req_fail(struct agent_logreq *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static int  req_step(struct agent_logreq *);
static void req_post(struct agent_logs *, struct agent_logreq *, const char *,
    const char *);
static const struct agent_confine *req_conf(const struct agent_logreq *);
static void req_file(struct agent_logreq *, struct agent_tasks *,
    const struct agent_task *);

/* Where the request's file must lie: NULL for the agent's own. */
static const struct agent_confine *
req_conf(const struct agent_logreq *q)
{
	return (q->confined ? &q->conf : NULL);
}

void
agent_logs_init(struct agent_logs *ls, CURLM *multi)
{
	memset(ls, 0, sizeof(*ls));
	ls->multi = multi;
}

/* A new request from the poll: answer it, or start following. */
void
agent_logs_request(struct agent_logs *ls, struct agent_tasks *ts,
    const struct agentproto_logreq *r)
{
	struct agent_logreq	*q = NULL;
	const struct agent_task *t;
	json_t			*lspec = NULL;
	size_t			 i;
	int			 fd, have = 0, found = 0;

	for (i = 0; i < AGENT_LOGREQS; i++) {
		if (ls->v[i].used && strcmp(ls->v[i].r.id, r->id) == 0)
			return; /* handed out again: already on it */
		if (!ls->v[i].used && q == NULL)
			q = &ls->v[i];
	}
	if (q == NULL) {
		/* Every slot busy: the oldest follow gives way. */
		for (i = 0; i < AGENT_LOGREQS; i++) {
			if (ls->v[i].r.mode == AGENTPROTO_LOG_FOLLOW &&
			    !ls->v[i].x.busy &&
			    (q == NULL || ls->v[i].started < q->started))
				q = &ls->v[i];
		}
		if (q == NULL) {
			log_warnx("log request %s: too many at once; "
				  "ignored",
			    r->id);
			return;
		}
		req_drop(ls, q);
	}
	memset(q, 0, sizeof(*q));
	if (!agent_xfer_init(&q->x)) {
		log_warnx("log request %s: cannot set up a transfer", r->id);
		return;
	}
	q->used = 1;
	q->r = *r;
	q->started = agent_mono_ms();
	q->next = 0;
	if (r->mode == AGENTPROTO_LOG_FILE) {
		if ((t = agent_tasks_find(ts, r->task_id)) == NULL)
			req_fail(q, "this agent does not know task %" PRId64,
			    r->task_id);
		else
			req_file(q, ts, t);
		log_debug("log request %s: file %s of task %" PRId64, r->id,
		    r->file, r->task_id);
		return;
	}
	if ((t = agent_tasks_find(ts, r->task_id)) != NULL) {
		/* A task's own files only inside its deploy directory. */
		have =
		    agent_confine_init(&q->conf, ts->policy, t->spec, ts->dir);
		q->confined = strcmp(r->file, "stdout") != 0;
		/* Its log_files globs: under its live release when it is
		 * packaged, still confined to the deploy directory. */
		lspec = agent_task_log_spec(t);
		found = lspec == NULL
		    ? -1
		    : agent_log_path(lspec, ts->logdir, r->task_id, r->file,
			  have ? &q->conf : NULL, q->path, sizeof(q->path));
	}
	if (t == NULL)
		req_fail(q, "this agent does not know task %" PRId64,
		    r->task_id);
	else if (found == 0)
		req_fail(q, "%s is not one of the task's log files", r->file);
	else if (found == -1)
		req_fail(q,
		    "policy: %s resolves outside the task's deploy "
		    "directory, or that directory is not allowed",
		    r->file);
	else if ((q->files = agent_log_files(lspec, have ? &q->conf : NULL)) ==
	    NULL)
		req_fail(q, "out of memory");
	else if (r->mode == AGENTPROTO_LOG_DOWNLOAD) {
		/* What the file holds now; its last LOG_DOWNLOAD_MAX bytes. */
		if ((fd = agent_log_open(q->path, req_conf(q), &q->end)) != -1)
			(void)close(fd);
		q->pos =
		    q->end > LOG_DOWNLOAD_MAX ? q->end - LOG_DOWNLOAD_MAX : 0;
	}
	log_debug("log request %s: %s %s of task %" PRId64, r->id,
	    agentproto_log_mode_name(r->mode), r->file, r->task_id);
	json_decref(lspec);
}

/*
 * A "file" request (the Configuration tab's view of a deployed file):
 * any regular file of the task's tree (its live release, else its
 * deploy directory) that, every symlink followed, lies inside its deploy
 * directory and not in the state directory, at most
 * AGENTPROTO_LOG_FILE_READ_MAX bytes; read now, whole, and sent in
 * base64 chunks (the bytes may be in any charset).
 */
static void
req_file(struct agent_logreq *q, struct agent_tasks *ts,
    const struct agent_task *t)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct stat    st;
	unsigned char *buf = NULL;
	char	       full[PATH_MAX * 2], *enc;
	size_t	       n = 0, i, o;
	ssize_t	       r;
	uint32_t       v;
	int	       fd;

	if (!agent_confine_init(&q->conf, ts->policy, t->spec, ts->dir)) {
		req_fail(q,
		    "policy: the task's deploy directory is missing "
		    "or not allowed");
		return;
	}
	q->confined = 1;
	(void)snprintf(full, sizeof(full), "%s/%s", agent_task_dir(t),
	    q->r.file);
	if (!agent_path_resolve(full, q->path, sizeof(q->path))) {
		if (errno == ENOENT)
			req_fail(q, "no such file: %s", q->r.file);
		else
			req_fail(q, "cannot read %s: %s", q->r.file,
			    strerror(errno));
		return;
	}
	if (!agent_confine_path(&q->conf, q->path)) {
		req_fail(q,
		    "policy: %s resolves outside the task's deploy directory",
		    q->r.file);
		return;
	}
	if ((fd = open(q->path,
		 O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (errno == ENOENT)
			req_fail(q, "no such file: %s", q->r.file);
		else
			req_fail(q, "cannot read %s: %s", q->r.file,
			    strerror(errno));
		return;
	}
	if (!agent_confine_fd(&q->conf, fd, NULL, 0)) {
		req_fail(q,
		    "policy: %s resolves outside the task's deploy directory",
		    q->r.file);
		goto done;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		req_fail(q, "not a regular file: %s", q->r.file);
		goto done;
	}
	if (st.st_size > AGENTPROTO_LOG_FILE_READ_MAX) {
		req_fail(q, "too large: %s has %lld bytes (at most %d)",
		    q->r.file, (long long)st.st_size,
		    AGENTPROTO_LOG_FILE_READ_MAX);
		goto done;
	}
	/* One byte more than allowed tells a file that grew meanwhile. */
	if ((buf = malloc(AGENTPROTO_LOG_FILE_READ_MAX + 1)) == NULL) {
		req_fail(q, "out of memory");
		goto done;
	}
	while (n < AGENTPROTO_LOG_FILE_READ_MAX + 1 &&
	    (r = read(fd, buf + n, AGENTPROTO_LOG_FILE_READ_MAX + 1 - n)) !=
		0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			req_fail(q, "cannot read %s: %s", q->r.file,
			    strerror(errno));
			goto done;
		}
		n += (size_t)r;
	}
	if (n > AGENTPROTO_LOG_FILE_READ_MAX) {
		req_fail(q, "too large: %s has more than %d bytes", q->r.file,
		    AGENTPROTO_LOG_FILE_READ_MAX);
		goto done;
	}
	if ((enc = malloc((n + 2) / 3 * 4 + 1)) == NULL) {
		req_fail(q, "out of memory");
		goto done;
	}
	for (i = 0, o = 0; i < n; i += 3) {
		v = (uint32_t)buf[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)buf[i + 1] << 8;
		if (i + 2 < n)
			v |= buf[i + 2];
		enc[o++] = b64[(v >> 18) & 63];
		enc[o++] = b64[(v >> 12) & 63];
		enc[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		enc[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	enc[o] = '\0';
	q->b64 = enc; /* req_drop() frees it */
	q->fsize = (int64_t)n;
done:
	free(buf);
	(void)close(fd);
}

/* Answer with an error (one final chunk). */
static void
req_fail(struct agent_logreq *q, const char *fmt, ...)
{
	struct agentproto_logchunk c;
	va_list			   ap;

	memset(&c, 0, sizeof(c));
	c.seq = q->seq;
	c.matches = -1;
	c.done = 1;
	va_start(ap, fmt);
	(void)vsnprintf(c.error, sizeof(c.error), fmt, ap);
	va_end(ap);
	free(q->body);
	q->body = agentproto_logchunk_encode(&c);
	q->last = 1;
}

/*
 * Make the request's next chunk in q->body.  Returns 1 when there is
 * one to send now, 0 when not (yet), -1 when the request is over.
 */
static int
req_step(struct agent_logreq *q)
{
	struct agentproto_logchunk c;
	struct agent_ranges	   marks;
	off_t			   size;
	size_t			   n;
	int			   restarted = 0;
	uint64_t		   now = agent_mono_ms();

	memset(&marks, 0, sizeof(marks));
	if (q->body != NULL)
		return (1);
	if (q->last)
		return (-1);
	memset(&c, 0, sizeof(c));
	c.seq = q->seq;
	c.matches = -1;
	if (q->r.mode == AGENTPROTO_LOG_FILE) {
		/* The next piece of the base64 (a multiple of 4 bytes). */
		n = strlen(q->b64 + q->b64pos);
		if (n > AGENTPROTO_LOG_DATA_MAX)
			n = AGENTPROTO_LOG_DATA_MAX;
		if ((c.data = strndup(q->b64 + q->b64pos, n)) == NULL)
			return (0);
		q->b64pos += n;
		c.size = q->fsize;
		c.done = q->b64[q->b64pos] == '\0';
	} else if (q->seq == 0 && q->r.mode != AGENTPROTO_LOG_DOWNLOAD) {
		if (q->r.q[0] != '\0')
			c.data = agent_log_search(q->path, req_conf(q), q->r.q,
			    q->r.lines, &c.matches, &size, &c.truncated,
			    &marks);
		else
			c.data = agent_log_tail(q->path, req_conf(q),
			    q->r.lines, &size, &c.truncated, &marks);
		if (c.data == NULL) {
			req_fail(q, "cannot read %s: %s", q->r.file,
			    strerror(errno));
			agent_ranges_free(&marks);
			return (1);
		}
		c.size = size;
		q->pos = size;
		c.files = q->files;
		c.done = q->r.mode == AGENTPROTO_LOG_TAIL;
	} else if (q->r.mode == AGENTPROTO_LOG_DOWNLOAD) {
		if (q->seq == 0)
			c.truncated = q->pos > 0;
		if (q->pos >= q->end)
			c.data = strdup("");
		else if ((c.data = agent_log_read(q->path, req_conf(q), &q->pos,
			      &q->ino, q->end, &restarted, NULL)) == NULL) {
			req_fail(q, "cannot read %s: %s", q->r.file,
			    strerror(errno));
			return (1);
		}
		if (c.data == NULL)
			return (-1);
		if (q->seq == 0)
			c.files = q->files;
		c.size = q->pos;
		/* Done at the end, or when it shrank under us. */
		c.done = c.data[0] == '\0' || q->pos >= q->end || restarted;
	} else {
		/* Following: what was appended since, or a keep-alive. */
		if (now < q->next)
			return (0);
		q->next = now + LOG_FOLLOW_MS;
		if ((c.data = agent_log_read(q->path, req_conf(q), &q->pos,
			 &q->ino, 0, &restarted, &marks)) == NULL)
			c.data = strdup("");
		if (c.data == NULL) {
			agent_ranges_free(&marks);
			return (0);
		}
		if (c.data[0] == '\0' &&
		    now - q->last_post < LOG_KEEPALIVE_MS) {
			free(c.data);
			agent_ranges_free(&marks);
			return (0);
		}
		c.size = q->pos;
		c.truncated = restarted; /* rotated: read from its start */
		if (now - q->started > LOG_FOLLOW_MAX_MS)
			c.done = 1;
	}
	/* Downloads are plain text: no marks are read for them. */
	c.marks = marks.v;
	c.nmarks = marks.n;
	q->body = agentproto_logchunk_encode(&c);
	q->last = c.done;
	free(c.data);
	agent_ranges_free(&marks);
	if (q->body == NULL)
		return (-1);
	return (1);
}

static void
req_post(struct agent_logs *ls, struct agent_logreq *q, const char *server,
    const char *auth)
{
	char  url[AGENT_URL_MAX + 128];
	char *post;

	(void)snprintf(url, sizeof(url), "%s/agent/v1/logs/%s", server,
	    q->r.id);
	if ((post = strdup(q->body)) == NULL)
		return;
	if (!agent_xfer_prepare(&q->x, url, auth, post, LOG_POST_MS))
		return;
	if (curl_multi_add_handle(ls->multi, q->x.easy) != CURLM_OK) {
		agent_xfer_release(&q->x);
		return;
	}
	q->x.busy = 1;
	q->last_post = agent_mono_ms();
}

/* Drive every request; the ms until one wants to run again. */
int
agent_logs_tick(struct agent_logs *ls, const char *server, const char *auth)
{
	struct agent_logreq *q;
	uint64_t	     now = agent_mono_ms();
	size_t		     i;
	int		     next = 60000, r;

	for (i = 0; i < AGENT_LOGREQS; i++) {
		q = &ls->v[i];
		if (!q->used || q->x.busy)
			continue;
		if (q->retry_at > now) {
			if ((int)(q->retry_at - now) < next)
				next = (int)(q->retry_at - now);
			continue;
		}
		if ((r = req_step(q)) == -1) {
			req_drop(ls, q);
			continue;
		}
		if (r == 1)
			req_post(ls, q, server, auth);
		else if (q->next > now && (int)(q->next - now) < next)
			next = (int)(q->next - now);
	}
	return (next);
}

/* A finished transfer: 1 when it was a log chunk (and is handled). */
int
agent_logs_done(struct agent_logs *ls, struct agent_xfer *x)
{
	struct agent_logreq *q;
	size_t		     i;
	int		     follow;

	for (i = 0; i < AGENT_LOGREQS; i++) {
		q = &ls->v[i];
		if (!q->used || x != &q->x)
			continue;
		if (x->result != CURLE_OK || x->status >= 500 ||
		    x->status == 408 || x->status == 429) {
			if (++q->fails > LOG_FAILS_MAX) {
				log_warnx("log request %s: giving up: %s",
				    q->r.id, agent_xfer_error(x));
				q->dropme = 1;
			} else
				q->retry_at = agent_mono_ms() +
				    agent_backoff_ms(q->fails);
			return (1);
		}
		q->fails = 0;
		free(q->body);
		q->body = NULL;
		q->seq++;
		if (x->status < 200 || x->status > 299) {
			/* Unknown or expired request: nobody wants it. */
			log_debug("log request %s: HTTP %ld; over", q->r.id,
			    x->status);
			q->dropme = 1;
			return (1);
		}
		/* A follow goes on while someone follows; a download until
		 * its last chunk. */
		if (q->last ||
		    !agentproto_logack_decode(x->body, x->len, &follow, NULL) ||
		    (q->r.mode == AGENTPROTO_LOG_FOLLOW && !follow))
			q->dropme = 1;
		return (1);
	}
	return (0);
}

/* Release requests marked over (after their transfer was released). */
void
agent_logs_reap(struct agent_logs *ls)
{
	size_t i;

	for (i = 0; i < AGENT_LOGREQS; i++) {
		if (ls->v[i].used && ls->v[i].dropme && !ls->v[i].x.busy)
			req_drop(ls, &ls->v[i]);
	}
}

static void
req_drop(struct agent_logs *ls, struct agent_logreq *q)
{
	if (q->x.busy && ls->multi != NULL)
		(void)curl_multi_remove_handle(ls->multi, q->x.easy);
	agent_xfer_cleanup(&q->x);
	free(q->body);
	free(q->b64);
	if (q->files != NULL)
		json_decref(q->files);
	memset(q, 0, sizeof(*q));
}

void
agent_logs_free(struct agent_logs *ls)
{
	size_t i;

	for (i = 0; i < AGENT_LOGREQS; i++) {
		if (ls->v[i].used)
			req_drop(ls, &ls->v[i]);
	}
}
