/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The command ledger (SPEC 7): issue a command, list and follow them.
 * Commands are rows in PostgreSQL; a Redis publish wakes whichever
 * instance holds the node's long-poll.  Levels (yard_level()): start,
 * stop, restart and ping need operate, uninstall needs manage; viewers
 * of the target get 403, others 404.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "agentproto/agentproto.h"
#include "app.h"
#include "api/api.h"

/*
 * Who may see a command: view on its task, or on its node for a node
 * command (a task grant shows no other command of the node).  Join after
 * "FROM commands c"; see API_TASK_LEVEL_JOIN.
 */
#define CMD_LEVEL_JOIN \
	" CROSS JOIN LATERAL yard_level_row($3::bigint, $2::boolean," \
	" c.node_id, c.task_id) lv"
#define CMD_VISIBLE "(lv.level >= 1)"

#define CMD_COLS \
	"c.id, c.seq, c.type, c.node_id, n.name AS node_name, c.task_id," \
	" (SELECT name FROM tasks WHERE id = c.task_id) AS task_name," \
	" c.payload, c.state, c.issued_by, u.sub AS issued_by_sub," \
	" c.issued_at, c.dispatched_at, c.finished_at, c.deadline," \
	" c.exit_status, c.agent_received_ms, c.agent_finished_ms"

/* A node command (ping): needs operate on the node ($9). */
static const char *sql_issue =
    "WITH p AS (SELECT n.id, n.revoked_at IS NOT NULL AS revoked,"
    "  yard_node_visible($3::bigint, $2::boolean, n.id) AS can_view,"
    "  yard_level($3::bigint, $2::boolean, n.id, NULL) AS lvl"
    "  FROM nodes n WHERE n.id = $1::bigint),"
    " c AS (INSERT INTO commands (type, node_id, payload, issued_by,"
    "  deadline) SELECT $4, id, $5::jsonb, $3::bigint,"
    "  now() + make_interval(secs => $6::integer) FROM p"
    "  WHERE lvl >= $9::integer AND NOT revoked RETURNING *),"
    " ev AS (INSERT INTO command_events (command_id, state)"
    "  SELECT id, 'queued' FROM c),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT $3::bigint, $7,"
    "  'command.issue', 'node', node_id, jsonb_build_object('command', id,"
    "  'type', type), $8 FROM c)"
    " SELECT p.can_view, p.lvl, p.revoked, (SELECT row_to_json(x)::text"
    "  FROM (SELECT c.id, c.seq, c.type, c.node_id, c.task_id, c.payload,"
    "  c.state, c.issued_at, c.deadline FROM c) x) FROM p";

/*
 * A task command: the payload carries the task's current spec.  At most
 * one command per task is in progress (a unique index backs the check).
 * It needs level $8 on the task.
 */
static const char *sql_task_issue =
    "WITH t AS (SELECT t.id, t.node_id, t.name, t.spec,"
    "  n.revoked_at IS NOT NULL AS revoked, lv.level AS lvl"
    "  FROM tasks t JOIN nodes n ON n.id = t.node_id" API_TASK_LEVEL_JOIN
    "  WHERE t.id = $1::bigint),"
    " busy AS (SELECT c.id FROM commands c, t WHERE c.task_id = t.id AND"
    "  c.state IN ('queued', 'dispatched', 'running') LIMIT 1),"
    " c AS (INSERT INTO commands (type, node_id, task_id, payload,"
    "  issued_by, deadline) SELECT $4, t.node_id, t.id,"
    "  jsonb_build_object('task', jsonb_build_object('id', t.id, 'name',"
    "  t.name, 'spec', t.spec)), $3::bigint,"
    "  now() + make_interval(secs => $5::integer) FROM t"
    "  WHERE lvl >= $8::integer AND NOT revoked"
    "  AND NOT EXISTS (SELECT 1 FROM busy)"
    "  RETURNING *),"
    " ev AS (INSERT INTO command_events (command_id, state)"
    "  SELECT id, 'queued' FROM c),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT $3::bigint, $6,"
    "  'command.issue', 'task', task_id, jsonb_build_object('command', id,"
    "  'type', type), $7 FROM c)"
    " SELECT t.lvl, t.revoked, (SELECT row_to_json(x)::text"
    "  FROM (SELECT c.id, c.seq, c.type, c.node_id, c.task_id, c.payload,"
    "  c.state, c.issued_at, c.deadline FROM c) x), t.node_id,"
    "  (SELECT id::text FROM busy) FROM t";

static const char *sql_list =
    "SELECT row_to_json(x)::text, x.seq FROM (SELECT " CMD_COLS
    " FROM commands c JOIN nodes n ON n.id = c.node_id" CMD_LEVEL_JOIN
    " LEFT JOIN users u ON u.id = c.issued_by"
    " WHERE ($1::bigint = 0 OR c.seq < $1::bigint) AND " CMD_VISIBLE
    " AND ($4::bigint IS NULL OR c.node_id = $4::bigint)"
    " AND ($5::bigint IS NULL OR c.task_id = $5::bigint)"
    " AND ($6 = '' OR c.state = $6)"
    " AND ($7::bigint IS NULL OR c.issued_by = $7::bigint)"
    " AND ($8 = '' OR c.issued_at >= $8::timestamptz)"
    " AND ($9 = '' OR c.issued_at < $9::timestamptz)"
    " ORDER BY c.seq DESC LIMIT $10::bigint + 1) x";

static const char *sql_get =
    "SELECT row_to_json(x)::text FROM (SELECT " CMD_COLS ", c.output,"
    " (SELECT coalesce(json_agg(e ORDER BY e.id), '[]') FROM (SELECT id, at,"
    "  state, detail FROM command_events WHERE command_id = c.id) e)"
    "  AS events"
    " FROM commands c JOIN nodes n ON n.id = c.node_id" CMD_LEVEL_JOIN
    " LEFT JOIN users u ON u.id = c.issued_by"
    " WHERE c.id = $1::uuid AND " CMD_VISIBLE ") x";

static int commands_issue(struct http_request *, struct api_ctx *);
static int task_issue(struct http_request *, struct api_ctx *, const char *,
    int64_t);
static int commands_list(struct http_request *, struct api_ctx *);
static enum auth_level task_need(const char *);

int
api_commands(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;

	if (req->method == HTTP_METHOD_GET) {
		if ((s = api_begin(req, &c, 0)) != API_GO)
			return (api_return(s));
		return (commands_list(req, c));
	}
	if (req->method == HTTP_METHOD_POST) {
		if ((s = api_begin(req, &c, API_NEED_BODY)) != API_GO)
			return (api_return(s));
		return (commands_issue(req, c));
	}
	return (api_error(req, 405, "method_not_allowed", NULL, NULL));
}

static int
commands_issue(struct http_request *req, struct api_ctx *c)
{
	const char   *type, *vals[9], *cv, *rv;
	char	      nid[32], uid[32], tmo[16], remote[64], need[4], *payload;
	int	      has_node, has_task;
	int64_t	      node, task;
	enum api_step s;
	json_t	     *pl, *j;

	if (!api_body_str(req, c, "type", 1, 32, &type) ||
	    !api_body_id(req, c, "node_id", &has_node, &node) ||
	    !api_body_id(req, c, "task_id", &has_task, &task))
		return (KORE_RESULT_OK);
	if (strcmp(type, "start") == 0 || strcmp(type, "stop") == 0 ||
	    strcmp(type, "restart") == 0 || strcmp(type, "uninstall") == 0) {
		if (!has_task)
			return (api_error(req, 400, "bad_request",
			    "task commands need task_id", "task_id"));
		if (has_node)
			return (api_error(req, 400, "bad_request",
			    "give task_id only: the task names its node",
			    "node_id"));
		return (task_issue(req, c, type, task));
	}
	if (strcmp(type, "ping") != 0)
		return (api_error(req, 400, "bad_request",
		    "type must be one of: ping, start, stop, restart, uninstall",
		    "type"));
	if (has_task)
		return (api_error(req, 400, "bad_request",
		    "ping targets a node: give node_id", "task_id"));
	if (!has_node)
		return (api_error(req, 400, "bad_request",
		    "node_id is required", "node_id"));
	pl = json_object_get(c->body, "payload");
	if (pl != NULL && !json_is_object(pl))
		return (api_error(req, 400, "bad_request",
		    "payload must be an object", "payload"));

	snprintf(nid, sizeof(nid), "%" PRId64, node);
	snprintf(uid, sizeof(uid), "%" PRId64, c->who.user_id);
	snprintf(tmo, sizeof(tmo), "%" PRId64, app.cfg.command_timeout);
	api_remote_addr(req, remote, sizeof(remote));
	if ((payload = json_dumps(pl != NULL ? pl : json_object(),
		 JSON_COMPACT)) == NULL)
		return (api_error(req, 500, "internal", NULL, NULL));
	vals[0] = nid;
	vals[1] = c->who.admin ? "true" : "false";
	vals[2] = uid;
	vals[3] = type;
	vals[4] = payload;
	vals[5] = tmo;
	vals[6] = c->claims.sub;
	vals[7] = remote;
	(void)snprintf(need, sizeof(need), "%d", AUTH_LEVEL_OPERATE);
	vals[8] = need;
	s = api_db(req, c, sql_issue, 9, vals, NULL);
	free(payload);
	if (s != API_GO)
		return (api_return(s));

	cv = api_val(c, 0, 0);
	rv = api_val(c, 0, 2);
	if (api_rows(c) != 1 || cv == NULL || strcmp(cv, "t") != 0) {
		api_db_clear(c);
		return (api_not_found(req));
	}
	if (api_val_int(c, 0, 1) < AUTH_LEVEL_OPERATE) {
		api_db_clear(c);
		return (api_error(req, 403, "forbidden",
		    "you may view this node but not operate it: ping needs "
		    "operate on the node",
		    NULL));
	}
	if (strcmp(rv, "t") == 0) {
		api_db_clear(c);
		return (api_error(req, 409, "node_revoked",
		    "this node has been revoked", "node_id"));
	}
	api_node_wake(node);
	/* The shared reply: its security headers with the command. */
	j = api_val_json(c, 0, 3);
	api_db_clear(c);
	return (api_reply_json(req, 201, j));
}

static int
commands_list(struct http_request *req, struct api_ctx *c)
{
	int64_t	      limit, cursor, node, task, user;
	char	      cur[32], lim[32], uid[32], n[32], t[32], u[32];
	char	      state[16], from[40], to[40];
	const char   *vals[10];
	enum api_step s;

	if (!api_qs_page(req, &limit, &cursor) ||
	    !api_qs_int(req, "node_id", 1, INT64_MAX, 0, &node) ||
	    !api_qs_int(req, "task_id", 1, INT64_MAX, 0, &task) ||
	    !api_qs_int(req, "user_id", 1, INT64_MAX, 0, &user) ||
	    !api_qs_str(req, "state", 12, state, sizeof(state)) ||
	    !api_qs_time(req, "from", from, sizeof(from)) ||
	    !api_qs_time(req, "to", to, sizeof(to)))
		return (KORE_RESULT_OK);
	snprintf(cur, sizeof(cur), "%" PRId64, cursor);
	snprintf(lim, sizeof(lim), "%" PRId64, limit);
	snprintf(uid, sizeof(uid), "%" PRId64, c->who.user_id);
	snprintf(n, sizeof(n), "%" PRId64, node);
	snprintf(t, sizeof(t), "%" PRId64, task);
	snprintf(u, sizeof(u), "%" PRId64, user);
	vals[0] = cur;
	vals[1] = c->who.admin ? "true" : "false";
	vals[2] = uid;
	vals[3] = node ? n : NULL;
	vals[4] = task ? t : NULL;
	vals[5] = state;
	vals[6] = user ? u : NULL;
	vals[7] = from;
	vals[8] = to;
	vals[9] = lim;
	if ((s = api_db(req, c, sql_list, 10, vals, NULL)) != API_GO)
		return (api_return(s));
	return (api_reply_list(req, c, limit));
}

int
api_command(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;
	const char     *id, *vals[3];
	char		uid[32];

	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	id = req->path + strlen("/api/v1/commands/");
	if (!agentproto_uuid_valid(id))
		return (api_not_found(req));
	if ((s = api_begin(req, &c, 0)) != API_GO)
		return (api_return(s));
	snprintf(uid, sizeof(uid), "%" PRId64, c->who.user_id);
	vals[0] = id;
	vals[1] = c->who.admin ? "true" : "false";
	vals[2] = uid;
	if ((s = api_db(req, c, sql_get, 3, vals, NULL)) != API_GO)
		return (api_return(s));
	return (api_reply_row(req, c, 200));
}

/* The level a task command needs: uninstall decides what runs. */
static enum auth_level
task_need(const char *type)
{
	return (strcmp(type, "uninstall") == 0 ? AUTH_LEVEL_MANAGE
					       : AUTH_LEVEL_OPERATE);
}

static int
task_issue(struct http_request *req, struct api_ctx *c, const char *type,
    int64_t task)
{
	const char   *vals[8], *rv, *busy;
	char	      tid[32], uid[32], tmo[16], remote[64], need[4], msg[128];
	int64_t	      node;
	enum api_step s;
	enum auth_level lvl, want;
	int		rc;

	want = task_need(type);
	snprintf(tid, sizeof(tid), "%" PRId64, task);
	snprintf(uid, sizeof(uid), "%" PRId64, c->who.user_id);
	snprintf(tmo, sizeof(tmo), "%" PRId64, app.cfg.command_timeout);
	snprintf(need, sizeof(need), "%d", want);
	api_remote_addr(req, remote, sizeof(remote));
	vals[0] = tid;
	vals[1] = c->who.admin ? "true" : "false";
	vals[2] = uid;
	vals[3] = type;
	vals[4] = tmo;
	vals[5] = c->claims.sub;
	vals[6] = remote;
	vals[7] = need;
	if ((s = api_db(req, c, sql_task_issue, 8, vals,
		 "command_in_progress")) != API_GO)
		return (api_return(s));

	lvl = api_rows(c) == 1 ? (enum auth_level)api_val_int(c, 0, 0)
			       : AUTH_LEVEL_NONE;
	rv = api_val(c, 0, 1);
	busy = api_val(c, 0, 4);
	if (lvl == AUTH_LEVEL_NONE)
		rc =
		    api_error(req, 404, "not_found", "no such task", "task_id");
	else if (lvl < want) {
		(void)snprintf(msg, sizeof(msg),
		    "you may %s this task but not %s it: %s needs %s",
		    auth_level_str(lvl), auth_level_str(want), type,
		    auth_level_str(want));
		rc = api_error(req, 403, "forbidden", msg, NULL);
	} else if (strcmp(rv, "t") == 0)
		rc = api_error(req, 409, "node_revoked",
		    "the task's node has been revoked", "task_id");
	else if (api_val(c, 0, 2) == NULL)
		rc = api_error(req, 409, "command_in_progress",
		    busy != NULL ? busy : "another command is in progress",
		    "task_id");
	else {
		node = api_val_int(c, 0, 3);
		api_node_wake(node);
		rc = api_reply_json(req, 201, api_val_json(c, 0, 2));
	}
	api_db_clear(c);
	return (rc);
}
