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
 * down).
 *
 *   GET /api/v1/tasks/{id}/logs?file=&lines=&q=       last lines, search
 *   GET /api/v1/tasks/{id}/logs?follow=1&...           same, then follow:
 *   GET /api/v1/tasks/{id}/logs?request=UUID&after=N   what came after N
 *   GET /api/v1/tasks/{id}/logs?download=1&file=       the file, as text
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "app.h"
#include "agentproto/agentproto.h"
#include "api/api.h"
#include "store/store.h"

#define LOGS_ANSWER_MS	 10000 /* the agent's first chunk */
#define LOGS_DOWNLOAD_MS 60000 /* a whole download */
#define LOGS_FOLLOW_MS	 20000 /* a follow poll with nothing new */
#define LOGS_RECHECK_MS	 500 /* without Redis */

enum logs_step {
	LOGS_AUTH = 0,
	LOGS_CREATE, /* insert the request */
	LOGS_READ, /* read what arrived */
	LOGS_PARKED
};

/*
 * A new request, only for a task the caller may operate (reading logs
 * needs operate; viewers get 403) on an online node.
 */
static const char *sql_create =
    "WITH t AS (SELECT t.id, t.node_id, coalesce(n.revoked_at IS NULL AND"
    "  n.last_seen > now() - make_interval(secs => $8::integer), false)"
    "  AS online,"
    "  lv.level AS lvl FROM tasks t"
    "  JOIN nodes n ON n.id = t.node_id" API_TASK_LEVEL_JOIN
    "  WHERE t.id = $1::bigint),"
    " r AS (INSERT INTO log_requests (node_id, task_id, user_id, mode, file,"
    "  lines, q, wanted_until) SELECT node_id, id, $3::bigint, $4, $5,"
    "  $6::integer, $7, now() + interval '30 seconds' FROM t"
    "  WHERE online AND lvl >= 2 RETURNING id)"
    " SELECT (SELECT online FROM t), (SELECT id FROM r)::text,"
    "  (SELECT node_id FROM t), (SELECT lvl FROM t)";

/*
 * What has arrived after chunk $4; a follow poll ($5) also keeps the
 * request wanted.  The caller must be the one who made it and still may
 * operate the task.  The keep-alive is a CTE the read does not use: an UPDATE
 * that waits for an agent's chunk would see that chunk's "done" (READ
 * COMMITTED re-reads the locked row) but not the chunk itself, which
 * the statement's snapshot predates; a plain read sees both or neither.
 */
static const char *sql_read =
    "WITH k AS (UPDATE log_requests SET wanted_until = now() +"
    "  interval '30 seconds' WHERE $5::boolean AND id = $6::uuid"
    "  AND mode = 'follow' AND user_id = $3::bigint)"
    " SELECT r.done, r.error, coalesce(r.files, '[]')::text, r.size,"
    "  r.matches, r.truncated, (SELECT coalesce(string_agg(data, '' ORDER BY"
    "  seq), '') FROM log_chunks WHERE request_id = r.id AND seq >"
    "  $4::integer), (SELECT max(seq) FROM log_chunks WHERE request_id ="
    "  r.id), r.mode, r.file, r.mode = 'follow' AND NOT r.done AND"
    "  coalesce(r.answered_at, r.created_at) < now() - interval '15 seconds'"
    " FROM log_requests r JOIN tasks t ON t.id = r.task_id" API_TASK_LEVEL_JOIN
    " WHERE r.id = $6::uuid AND r.task_id = $1::bigint"
    "  AND r.user_id = $3::bigint AND lv.level >= 2";

static void logs_rewake(struct core_wait *, uint64_t);
static int  logs_park(struct http_request *, struct api_ctx *, uint64_t,
     int64_t);
static int  logs_reply(struct http_request *, struct api_ctx *, int64_t, int,
     int);
static int  task_id_from_path(struct http_request *, int64_t *);

/* Unanswered: the poll it went to may have been a dead one (an agent
 * restarting); the ledger hands it out again after 2 s, so wake the
 * node's poll again. */
static void
logs_rewake(struct core_wait *w, uint64_t now)
{
	w->every_at = now + 2500;
	api_node_wake(w->every_arg);
}

static int
task_id_from_path(struct http_request *req, int64_t *id)
{
	const char *p = req->path + strlen("/api/v1/tasks/");
	char	   *end;
	long long   v;

	v = strtoll(p, &end, 10);
	if (v <= 0 || strcmp(end, "/logs") != 0)
		return (0);
	*id = v;
	return (1);
}

/* Sleep until a chunk of c->scratch's request arrives, or until deadline;
 * while the node has not answered, wake its poll again every 2.5 s. */
static int
logs_park(struct http_request *req, struct api_ctx *c, uint64_t deadline,
    int64_t node_id)
{
	char key[48];

	(void)snprintf(key, sizeof(key), "log:%.36s", c->scratch);
	c->wait.every = node_id != 0 ? logs_rewake : NULL;
	c->wait.every_arg = node_id;
	c->wait.every_at = node_id != 0 ? kore_time_ms() + 2500 : 0;
	c->step = LOGS_PARKED;
	(void)core_wait_park(&c->wait, req, key, deadline, LOGS_RECHECK_MS);
	return (KORE_RESULT_RETRY);
}

/* GET /api/v1/tasks/{id}/logs */
int
api_task_logs(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;
	int64_t		id, lines, follow, download, after, nid;
	char file[AGENTPROTO_LOG_FILE_MAX + 1], q[AGENTPROTO_LOG_Q_MAX + 1];
	char rid[64], tid[32], uid[32], ln[16], af[16], off[16];
	const char *vals[8], *mode;

	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	if ((s = api_begin(req, &c, 0)) != API_GO)
		return (api_return(s));
	if (!task_id_from_path(req, &id))
		return (api_not_found(req));
	if (!api_qs_str(req, "file", AGENTPROTO_LOG_FILE_MAX, file,
		sizeof(file)) ||
	    !api_qs_str(req, "q", AGENTPROTO_LOG_Q_MAX, q, sizeof(q)) ||
	    !api_qs_str(req, "request", 36, rid, sizeof(rid)) ||
	    !api_qs_int(req, "lines", 1, AGENTPROTO_LOG_LINES_MAX, 200,
		&lines) ||
	    !api_qs_int(req, "follow", 0, 1, 0, &follow) ||
	    !api_qs_int(req, "download", 0, 1, 0, &download) ||
	    !api_qs_int(req, "after", -1, INT32_MAX, -1, &after))
		return (KORE_RESULT_OK);
	if (file[0] == '\0')
		(void)snprintf(file, sizeof(file), "stdout");
	if (!agentproto_log_file_valid(file))
		return (api_error(req, 400, "bad_request",
		    "file must be stdout or a path relative to the task's "
		    "deploy directory, without '..'",
		    "file"));
	if (rid[0] != '\0' && !agentproto_uuid_valid(rid))
		return (api_error(req, 400, "bad_request",
		    "request must be a UUID", "request"));
	if (follow && download)
		return (api_error(req, 400, "bad_request",
		    "follow and download do not go together", "download"));

	if (c->step == LOGS_PARKED) {
		if (!core_wait_woken(&c->wait))
			return (KORE_RESULT_RETRY);
		/* The read sees every chunk announced so far; the request
		 * stays listed, so a chunk announced meanwhile is kept. */
		core_wait_read(&c->wait);
		c->step = LOGS_READ;
	}
	if (c->step == LOGS_AUTH) {
		c->t0 = (int64_t)kore_time_ms();
		if (rid[0] != '\0') {
			/* A follow poll: read what came after `after`. */
			(void)snprintf(c->scratch, sizeof(c->scratch), "%s",
			    rid);
			c->step = LOGS_READ;
		} else
			c->step = LOGS_CREATE;
	}

	(void)snprintf(tid, sizeof(tid), "%" PRId64, id);
	(void)snprintf(uid, sizeof(uid), "%" PRId64, c->who.user_id);
	vals[0] = tid;
	vals[1] = c->who.admin ? "true" : "false";
	vals[2] = uid;
	if (c->step == LOGS_CREATE) {
		mode = download ? "download" : follow ? "follow" : "tail";
		(void)snprintf(ln, sizeof(ln), "%" PRId64, lines);
		vals[3] = mode;
		vals[4] = file;
		vals[5] = ln;
		vals[6] = q;
		(void)snprintf(off, sizeof(off), "%" PRId64,
		    app.cfg.node_offline_after);
		vals[7] = off;
		if ((s = api_db(req, c, sql_create, 8, vals, NULL)) != API_GO)
			return (api_return(s));
		if (api_rows(c) == 0 || api_val(c, 0, 0) == NULL ||
		    api_val_int(c, 0, 3) < AUTH_LEVEL_VIEW) {
			api_db_clear(c);
			return (api_not_found(req));
		}
		if (api_val_int(c, 0, 3) < AUTH_LEVEL_OPERATE) {
			api_db_clear(c);
			return (api_error(req, 403, "forbidden",
			    "you may view this task but not operate it: "
			    "reading its logs needs operate",
			    NULL));
		}
		if (api_val(c, 0, 1) == NULL) {
			api_db_clear(c);
			return (api_error(req, 409, "node_offline",
			    "the task's node is offline: its logs cannot be "
			    "read now",
			    NULL));
		}
		(void)snprintf(c->scratch, sizeof(c->scratch), "%s",
		    api_val(c, 0, 1));
		nid = api_val_int(c, 0, 2);
		api_node_wake(nid);
		api_db_clear(c);
		c->step = LOGS_READ;
		return (logs_park(req, c,
		    (uint64_t)c->t0 +
			(download ? LOGS_DOWNLOAD_MS : LOGS_ANSWER_MS),
		    nid));
	}

	/* LOGS_READ */
	(void)snprintf(af, sizeof(af), "%" PRId64, rid[0] != '\0' ? after : -1);
	vals[3] = af;
	vals[4] = rid[0] != '\0' ? "true" : "false";
	vals[5] = c->scratch;
	if ((s = api_db(req, c, sql_read, 6, vals, NULL)) != API_GO)
		return (api_return(s));
	return (logs_reply(req, c, id, download != 0, rid[0] != '\0'));
}

/* Answer from the row sql_read returned, or park for more. */
static int
logs_reply(struct http_request *req, struct api_ctx *c, int64_t task,
    int download, int follow_poll)
{
	json_t	   *j;
	const char *err, *text, *mode;
	char	    disp[256];
	int64_t	    wait, elapsed;
	int	    done, have;

	if (api_rows(c) == 0) {
		api_db_clear(c);
		return (api_not_found(req));
	}
	done = strcmp(api_val(c, 0, 0), "t") == 0;
	err = api_val(c, 0, 1);
	text = api_val(c, 0, 6);
	/* The first answer is any chunk (an empty log too); a follow poll
	 * waits for new text. */
	have = api_val(c, 0, 7) != NULL && text != NULL &&
	    (!follow_poll || text[0] != '\0' || done);
	mode = api_val(c, 0, 8);
	/* A follow the agent stopped answering (it restarted, say) ends:
	 * the browser asks afresh. */
	if (follow_poll && strcmp(api_val(c, 0, 10), "t") == 0)
		done = 1;
	elapsed = (int64_t)kore_time_ms() - c->t0;
	wait = follow_poll		    ? LOGS_FOLLOW_MS
	    : strcmp(mode, "download") == 0 ? LOGS_DOWNLOAD_MS
					    : LOGS_ANSWER_MS;

	if (err != NULL) {
		j = json_pack("{s:s, s:s}", "error", "log_unavailable",
		    "message", err);
		api_db_clear(c);
		return (api_reply_json(req,
		    strstr(err, "not one of") != NULL ? 404 : 409, j));
	}
	/* Not there yet: a download needs all of it, the rest a chunk. */
	if ((download ? !done : !have && !done) && elapsed < wait) {
		api_db_clear(c);
		return (logs_park(req, c, (uint64_t)c->t0 + (uint64_t)wait, 0));
	}
	if (!follow_poll && (download ? !done : api_val(c, 0, 7) == NULL)) {
		api_db_clear(c);
		return (api_error(req, 504, "agent_timeout",
		    "the node's agent did not answer in time", NULL));
	}
	if (download) {
		(void)snprintf(disp, sizeof(disp),
		    "attachment; filename=\"task-%" PRId64 ".log\"", task);
		http_response_header(req, "content-type",
		    "text/plain; charset=utf-8");
		http_response_header(req, "content-disposition", disp);
		http_response_header(req, "cache-control", "no-store");
		http_response_header(req, "x-content-type-options", "nosniff");
		http_response_header(req, "content-security-policy",
		    "default-src 'none'; frame-ancestors 'none'");
		if (strcmp(api_val(c, 0, 5), "t") == 0)
			http_response_header(req, "x-yard-truncated", "1");
		http_response(req, 200, text, strlen(text));
		api_db_clear(c);
		return (KORE_RESULT_OK);
	}
	j = json_pack("{s:s, s:s, s:s, s:b, s:b}", "file", api_val(c, 0, 9),
	    "mode", mode, "text", text != NULL ? text : "", "truncated",
	    strcmp(api_val(c, 0, 5), "t") == 0, "ended",
	    done || (follow_poll ? 0 : strcmp(mode, "tail") == 0));
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
		if (strcmp(mode, "follow") == 0)
			(void)json_object_set_new(j, "request",
			    json_string(c->scratch));
	}
	api_db_clear(c);
	return (api_reply_json(req, 200, j));
}
