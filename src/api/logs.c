/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Task logs (SPEC 5, 11; docs/api.md "Logs"; docs/agent-protocol.md
 * "Logs").  The agent only dials out, so a browser's read becomes a row
 * in log_requests that the node's long-poll hands out at once (the same
 * Redis wake-up as commands); the agent answers with chunks POSTed to
 * /agent/v1/logs/{id}; each chunk wakes the browser requests parked on
 * that log request, on whichever worker or instance they wait (the
 * waiting room, key "log:<id>"; a re-check every 500 ms while Redis is
 * down).  The statements are in src/store/logs.c.
 *
 *   GET /api/v1/tasks/{id}/logs?file=&lines=&q=       last lines, search
 *   GET /api/v1/tasks/{id}/logs?follow=1&...           same, then follow:
 *   GET /api/v1/tasks/{id}/logs?request=UUID&after=N   what came after N
 *   GET /api/v1/tasks/{id}/logs?download=1&file=       the file, as text
 *   GET /api/v1/tasks/{id}/config/file?path=           any file of the
 *       task's tree, base64 (the Configuration tab; needs manage; a log
 *       request of mode "file")
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "agentproto/agentproto.h"
#include "api/api.h"

#define LOGS_ANSWER_MS	 10000 /* the agent's first chunk */
#define LOGS_DOWNLOAD_MS 60000 /* a whole download */
#define LOGS_FOLLOW_MS	 20000 /* a follow poll with nothing new */
#define LOGS_RECHECK_MS	 500 /* without Redis */
#define LOGS_REWAKE_MS	 2500 /* wake an unanswering node's poll again */

/* A request's own state (api_flow()), decoded once. */
struct logs_flow {
	int64_t	 task;
	int64_t	 lines;
	int64_t	 after; /* a follow poll: the last chunk seen */
	int	 follow;
	int	 download;
	int	 follow_poll; /* ?request=: read what came after `after` */
	int	 file_mode; /* config/file: a "file" request */
	uint64_t started; /* kore_time_ms() of the first run */
	char	 file[AGENTPROTO_LOG_FILE_MAX + 1];
	char	 q[AGENTPROTO_LOG_Q_MAX + 1];
	char	 request[40]; /* the log request's UUID */
};

/* GET /api/v1/tasks/{id}/logs */
enum logs_state {
	LOGS_BEGIN = 0,
	LOGS_DECODE,
	LOGS_CREATE, /* insert the request */
	LOGS_PARKED, /* asleep until a chunk or the deadline */
	LOGS_READ /* read what arrived: answer, or park again */
};

static int logs_begin(struct http_request *);
static int logs_decode(struct http_request *);
static int logs_create(struct http_request *);
static int logs_parked(struct http_request *);
static int logs_read(struct http_request *);
static int cfgfile_decode(struct http_request *);

static struct http_state logs_states[] = {
	KORE_HTTP_STATE(logs_begin),
	KORE_HTTP_STATE(logs_decode),
	KORE_HTTP_STATE(logs_create),
	KORE_HTTP_STATE(logs_parked),
	KORE_HTTP_STATE(logs_read),
};

/* GET /api/v1/tasks/{id}/config/file: the same states, its own decode. */
static struct http_state cfgfile_states[] = {
	KORE_HTTP_STATE(logs_begin),
	KORE_HTTP_STATE(cfgfile_decode),
	KORE_HTTP_STATE(logs_create),
	KORE_HTTP_STATE(logs_parked),
	KORE_HTTP_STATE(logs_read),
};

static void logs_rewake(struct core_wait *, uint64_t);
static int  logs_park(struct http_request *, struct api_ctx *,
     struct logs_flow *, uint64_t, int64_t);
static int  logs_reply(struct http_request *, struct api_ctx *,
     struct logs_flow *);
static int  task_id_from_path(struct http_request *, const char *, int64_t *);
static json_t *logs_marks(const char *, const char *);
static int     cfgfile_reply(struct http_request *, struct api_ctx *,
	struct logs_flow *, int, const char *, const char *, uint64_t);

/* Unanswered: the poll it went to may have been a dead one (an agent
 * restarting); the ledger hands it out again after 2 s, so wake the
 * node's poll again. */
static void
logs_rewake(struct core_wait *w, uint64_t now)
{
	w->every_at = now + LOGS_REWAKE_MS;
	api_node_wake(w->every_arg);
}

static int
task_id_from_path(struct http_request *req, const char *rest, int64_t *id)
{
	const char *p = req->path + strlen("/api/v1/tasks/");
	char	   *end;
	long long   v;

	v = strtoll(p, &end, 10);
	if (v <= 0 || strcmp(end, rest) != 0)
		return (0);
	*id = v;
	return (1);
}

/* Sleep until a chunk of the log request arrives, or until deadline;
 * while node (not 0) has not answered, wake its poll again every 2.5 s. */
static int
logs_park(struct http_request *req, struct api_ctx *c, struct logs_flow *f,
    uint64_t deadline, int64_t node_id)
{
	char key[48];

	(void)snprintf(key, sizeof(key), "log:%.36s", f->request);
	c->wait.every = node_id != 0 ? logs_rewake : NULL;
	c->wait.every_arg = node_id;
	c->wait.every_at = node_id != 0 ? kore_time_ms() + LOGS_REWAKE_MS : 0;
	req->fsm_state = LOGS_PARKED;
	(void)core_wait_park(&c->wait, req, key, deadline, LOGS_RECHECK_MS);
	return (HTTP_STATE_RETRY);
}

int
api_task_logs(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(logs_states, API_NSTATES(logs_states), req));
}

int
api_task_config_file(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (
	    http_state_run(cfgfile_states, API_NSTATES(cfgfile_states), req));
}

/* ?path=rel: a path of the task's tree (relative, no ".."). */
static int
cfgfile_decode(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct logs_flow *f = api_flow(c, sizeof(*f), NULL);

	if (!task_id_from_path(req, "/config/file", &f->task))
		return (API_FIN(api_not_found(req)));
	if (!api_qs_str(req, "path", AGENTPROTO_LOG_FILE_MAX, f->file,
		sizeof(f->file)))
		return (HTTP_STATE_COMPLETE);
	if (f->file[0] == '\0' || !agentproto_log_file_valid(f->file))
		return (API_FIN(api_error(req, 400, "bad_request",
		    "path must be a path relative to the task's tree, "
		    "without '..'",
		    "path")));
	f->file_mode = 1;
	f->lines = 1;
	f->after = -1;
	f->started = kore_time_ms();
	req->fsm_state = LOGS_CREATE;
	return (HTTP_STATE_CONTINUE);
}

static int
logs_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, LOGS_DECODE));
}

static int
logs_decode(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct logs_flow *f = api_flow(c, sizeof(*f), NULL);
	int64_t		  follow, download;

	if (!task_id_from_path(req, "/logs", &f->task))
		return (API_FIN(api_not_found(req)));
	if (!api_qs_str(req, "file", AGENTPROTO_LOG_FILE_MAX, f->file,
		sizeof(f->file)) ||
	    !api_qs_str(req, "q", AGENTPROTO_LOG_Q_MAX, f->q, sizeof(f->q)) ||
	    !api_qs_str(req, "request", 36, f->request, sizeof(f->request)) ||
	    !api_qs_int(req, "lines", 1, AGENTPROTO_LOG_LINES_MAX, 200,
		&f->lines) ||
	    !api_qs_int(req, "follow", 0, 1, 0, &follow) ||
	    !api_qs_int(req, "download", 0, 1, 0, &download) ||
	    !api_qs_int(req, "after", -1, INT32_MAX, -1, &f->after))
		return (HTTP_STATE_COMPLETE);
	f->follow = follow != 0;
	f->download = download != 0;
	if (f->file[0] == '\0')
		(void)snprintf(f->file, sizeof(f->file), "stdout");
	if (!agentproto_log_file_valid(f->file))
		return (API_FIN(api_error(req, 400, "bad_request",
		    "file must be stdout or a path relative to the task's "
		    "deploy directory, without '..'",
		    "file")));
	if (f->request[0] != '\0' && !agentproto_uuid_valid(f->request))
		return (API_FIN(api_error(req, 400, "bad_request",
		    "request must be a UUID", "request")));
	if (f->follow && f->download)
		return (API_FIN(api_error(req, 400, "bad_request",
		    "follow and download do not go together", "download")));
	f->started = kore_time_ms();
	if (f->request[0] != '\0') {
		/* A follow poll: read what came after `after`. */
		f->follow_poll = 1;
		req->fsm_state = LOGS_READ;
	} else {
		f->after = -1;
		req->fsm_state = LOGS_CREATE;
	}
	return (HTTP_STATE_CONTINUE);
}

/* A new log request; wake the node's poll to hand it out, and wait. */
static int
logs_create(struct http_request *req)
{
	struct api_ctx	     *c = api_ctx_get(req);
	struct logs_flow     *f = api_flow(c, sizeof(*f), NULL);
	struct store_log_want w;
	enum api_step	      s;
	int64_t		      nid;

	w.task = f->task;
	w.mode = f->file_mode ? "file"
	    : f->download     ? "download"
	    : f->follow	      ? "follow"
			      : "tail";
	w.file = f->file;
	w.lines = f->lines;
	w.q = f->q;
	w.level = f->file_mode ? AUTH_LEVEL_MANAGE : AUTH_LEVEL_OPERATE;
	s = api_store(req, c, store_log_request_new(c->q, req, &c->who, &w),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) == 0 || api_val(c, 0, 0) == NULL ||
	    api_val_int(c, 0, 3) < AUTH_LEVEL_VIEW) {
		api_db_clear(c);
		return (API_FIN(api_not_found(req)));
	}
	if (f->file_mode && api_val_int(c, 0, 3) < AUTH_LEVEL_MANAGE) {
		api_db_clear(c);
		return (API_FIN(api_error(req, 403, "forbidden",
		    "reading the task's deployed files needs manage", NULL)));
	}
	if (api_val_int(c, 0, 3) < AUTH_LEVEL_OPERATE) {
		api_db_clear(c);
		return (API_FIN(api_error(req, 403, "forbidden",
		    "you may view this task but not operate it: "
		    "reading its logs needs operate",
		    NULL)));
	}
	if (api_val(c, 0, 1) == NULL) {
		api_db_clear(c);
		return (API_FIN(api_error(req, 409, "node_offline",
		    f->file_mode
			? "the task's node is offline: its files "
			  "cannot be read now"
			: "the task's node is offline: its logs cannot "
			  "be read now",
		    NULL)));
	}
	(void)snprintf(f->request, sizeof(f->request), "%s", api_val(c, 0, 1));
	nid = api_val_int(c, 0, 2);
	api_node_wake(nid);
	api_db_clear(c);
	return (logs_park(req, c, f,
	    f->started + (f->download ? LOGS_DOWNLOAD_MS : LOGS_ANSWER_MS),
	    nid));
}

static int
logs_parked(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);

	if (!core_wait_woken(&c->wait))
		return (HTTP_STATE_RETRY);
	/* The read sees every chunk announced so far; the request stays
	 * listed, so a chunk announced meanwhile is kept. */
	core_wait_read(&c->wait);
	req->fsm_state = LOGS_READ;
	return (HTTP_STATE_CONTINUE);
}

static int
logs_read(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct logs_flow *f = api_flow(c, sizeof(*f), NULL);
	enum api_step	  s;

	s = api_store(req, c,
	    store_log_request_read(c->q, req, &c->who, f->task, f->request,
		f->after, f->follow_poll),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	return (logs_reply(req, c, f));
}

/* Answer from the row the read returned, or park for more. */
static int
logs_reply(struct http_request *req, struct api_ctx *c, struct logs_flow *f)
{
	json_t	   *j;
	const char *err, *text, *mode;
	char	    disp[256];
	uint64_t    wait, elapsed;
	int	    done, have;

	if (api_rows(c) == 0) {
		api_db_clear(c);
		return (API_FIN(api_not_found(req)));
	}
	done = store_val_bool(c->q, 0, 0);
	err = api_val(c, 0, 1);
	text = api_val(c, 0, 6);
	/* The first answer is any chunk (an empty log too); a follow poll
	 * waits for new text. */
	have = api_val(c, 0, 7) != NULL && text != NULL &&
	    (!f->follow_poll || text[0] != '\0' || done);
	mode = api_val(c, 0, 8);
	/* A follow the agent stopped answering (it restarted, say) ends:
	 * the browser asks afresh. */
	if (f->follow_poll && store_val_bool(c->q, 0, 10))
		done = 1;
	elapsed = kore_time_ms() - f->started;
	wait = f->follow_poll		    ? LOGS_FOLLOW_MS
	    : strcmp(mode, "download") == 0 ? LOGS_DOWNLOAD_MS
					    : LOGS_ANSWER_MS;

	if (f->file_mode)
		return (cfgfile_reply(req, c, f, done, err, text, elapsed));
	if (err != NULL) {
		j = json_pack("{s:s, s:s}", "error", "log_unavailable",
		    "message", err);
		api_db_clear(c);
		return (API_FIN(api_reply_json(req,
		    strstr(err, "not one of") != NULL ? 404 : 409, j)));
	}
	/* Not there yet: a download needs all of it, the rest a chunk. */
	if ((f->download ? !done : !have && !done) && elapsed < wait) {
		api_db_clear(c);
		return (logs_park(req, c, f, f->started + wait, 0));
	}
	if (!f->follow_poll &&
	    (f->download ? !done : api_val(c, 0, 7) == NULL)) {
		api_db_clear(c);
		return (API_FIN(api_error(req, 504, "agent_timeout",
		    "the node's agent did not answer in time", NULL)));
	}
	if (f->download) {
		(void)snprintf(disp, sizeof(disp),
		    "attachment; filename=\"task-%" PRId64 ".log\"", f->task);
		http_response_header(req, "content-type",
		    "text/plain; charset=utf-8");
		http_response_header(req, "content-disposition", disp);
		http_response_header(req, "cache-control", "no-store");
		http_response_header(req, "x-content-type-options", "nosniff");
		http_response_header(req, "content-security-policy",
		    "default-src 'none'; frame-ancestors 'none'");
		if (store_val_bool(c->q, 0, 5))
			http_response_header(req, "x-yard-truncated", "1");
		http_response(req, 200, text, strlen(text));
		api_db_clear(c);
		return (HTTP_STATE_COMPLETE);
	}
	j = json_pack("{s:s, s:s, s:s, s:b, s:b}", "file", api_val(c, 0, 9),
	    "mode", mode, "text", text != NULL ? text : "", "truncated",
	    store_val_bool(c->q, 0, 5), "ended",
	    done || (f->follow_poll ? 0 : strcmp(mode, "tail") == 0));
	if (j != NULL) {
		(void)json_object_set_new(j, "files",
		    json_loads(api_val(c, 0, 2), 0, NULL));
		(void)json_object_set_new(j, "seq",
		    api_val(c, 0, 7) != NULL
			? json_integer(api_val_int(c, 0, 7))
			: json_null());
		if (api_val(c, 0, 3) != NULL)
			(void)json_object_set_new(j, "size",
			    json_integer(api_val_int(c, 0, 3)));
		if (api_val(c, 0, 4) != NULL)
			(void)json_object_set_new(j, "matches",
			    json_integer(api_val_int(c, 0, 4)));
		/* When the server received the newest chunk of this text. */
		if (api_val(c, 0, 11) != NULL)
			(void)json_object_set_new(j, "at",
			    json_integer(api_val_int(c, 0, 11)));
		if (strcmp(mode, "follow") == 0)
			(void)json_object_set_new(j, "request",
			    json_string(f->request));
		/* Which bytes of text the task wrote to stderr. */
		(void)json_object_set_new(j, "stderr",
		    logs_marks(api_val(c, 0, 12), text));
	}
	api_db_clear(c);
	return (API_FIN(api_reply_json(req, 200, j)));
}

/*
 * The stderr ranges the read gathered (json text; the agent's, checked
 * when they arrived, moved to where each chunk starts in text) as an
 * array of [start, end] byte ranges; each is checked again against text
 * (a range past it is dropped), so the page can trust them.
 */
static json_t *
logs_marks(const char *json, const char *text)
{
	json_t *all, *out, *r;
	size_t	i, len = text != NULL ? strlen(text) : 0;
	int64_t s, e, prev = 0;

	if ((out = json_array()) == NULL || json == NULL ||
	    (all = json_loads(json, 0, NULL)) == NULL)
		return (out);
	json_array_foreach(all, i, r)
	{
		s = json_integer_value(json_array_get(r, 0));
		e = json_integer_value(json_array_get(r, 1));
		if (s < prev || e <= s || (uint64_t)e > len)
			continue;
		(void)json_array_append_new(out,
		    json_pack("[I, I]", (json_int_t)s, (json_int_t)e));
		prev = e;
	}
	json_decref(all);
	return (out);
}

/*
 * A "file" request's answer: all of it (the agent sends the file whole,
 * in base64 chunks) as {"path","content_base64","size"}; 404 when the
 * file is not there, 413 when it is larger than the agent sends, 504
 * when the agent has not answered within LOGS_ANSWER_MS.
 */
static int
cfgfile_reply(struct http_request *req, struct api_ctx *c, struct logs_flow *f,
    int done, const char *err, const char *text, uint64_t elapsed)
{
	json_t *j;
	int	status;

	if (err != NULL) {
		status = strncmp(err, "too large", 9) == 0 ? 413
		    : strncmp(err, "no such file", 12) == 0 ||
			strncmp(err, "not a regular file", 18) == 0
		    ? 404
		    : 409;
		j = json_pack("{s:s, s:s}", "error",
		    status == 413	? "too_large"
			: status == 404 ? "not_found"
					: "file_unavailable",
		    "message", err);
		api_db_clear(c);
		return (API_FIN(api_reply_json(req, status, j)));
	}
	if (!done && elapsed < LOGS_ANSWER_MS) {
		api_db_clear(c);
		return (logs_park(req, c, f, f->started + LOGS_ANSWER_MS, 0));
	}
	if (!done) {
		api_db_clear(c);
		return (API_FIN(api_error(req, 504, "agent_timeout",
		    "the node's agent did not answer in time", NULL)));
	}
	j = json_pack("{s:s, s:s, s:I}", "path", f->file, "content_base64",
	    text != NULL ? text : "", "size",
	    (json_int_t)(api_val(c, 0, 3) != NULL ? api_val_int(c, 0, 3) : 0));
	api_db_clear(c);
	http_response_header(req, "cache-control", "no-store");
	return (API_FIN(api_reply_json(req, 200, j)));
}
