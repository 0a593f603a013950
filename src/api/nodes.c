/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Node lists, answering only what the caller may view: admins see
 * everything; a node grant shows the node and all its tasks; a task grant
 * shows that task and, so that it can be placed, its node (with no level
 * on it: an action on the node is then a 403).  yard_node_visible() and
 * yard_level() (src/store/migrations/006_levels.sql) decide.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "app.h"
#include "api/api.h"

#define NODE_STATUS(off, lost) \
	"yard_node_status(n.revoked_at, n.last_seen, $" off \
	"::integer, $" lost "::integer)"
#define NODE_COLS(off, lost) \
	"n.id, n.name, n.hostname, " NODE_STATUS(off, \
	    lost) " AS status," \
		  " n.last_seen, n.agent_version, n.facts, n.metrics, n.enrolled_at," \
		  " n.revoked_at, n.created_at, yard_level_name(yard_level(" \
		  "$3::bigint, $2::boolean, n.id, NULL)) AS level"

/* A node is visible to admins, and through a grant on it or its tasks. */
#define NODE_VISIBLE "yard_node_visible($3::bigint, $2::boolean, n.id)"

static const char *sql_nodes =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT " NODE_COLS("7",
	"8") " FROM nodes n WHERE n.id > $1::bigint AND " NODE_VISIBLE
	     " AND ($4 = '' OR strpos(lower(n.name), lower($4)) > 0"
	     "  OR strpos(lower(n.hostname), lower($4)) > 0)"
	     " AND ($6 = '' OR " NODE_STATUS("7",
		 "8") " = $6)"
		      " ORDER BY n.id LIMIT $5::bigint + 1) x";

static const char *sql_node =
    "SELECT row_to_json(x)::text FROM (SELECT " NODE_COLS("4",
	"5") ","
	     " (SELECT coalesce(json_agg(e ORDER BY e.id DESC), '[]') FROM"
	     "  (SELECT id, at, status, detail FROM node_events"
	     "   WHERE node_id = n.id ORDER BY id DESC LIMIT 20) e) AS events"
	     " FROM nodes n WHERE n.id = $1::bigint AND " NODE_VISIBLE ") x";

static const char *sql_revoke =
    "WITH n AS (UPDATE nodes SET revoked_at = now(), secret_hash = NULL"
    " WHERE id = $1::bigint AND revoked_at IS NULL RETURNING id, name),"
    " e AS (INSERT INTO node_events (node_id, status) SELECT id, 'revoked'"
    "  FROM n),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT $2::bigint, $3, 'node.revoke',"
    "  'node', id, jsonb_build_object('name', name), $4 FROM n)"
    " SELECT id FROM n";

int
api_nodes(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;
	int64_t		limit, cursor;
	char		cur[32], lim[32], uid[32], q[256], st[16];
	char		off[16], lost[16];
	const char     *vals[8];

	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	if ((s = api_begin(req, &c, 0)) != API_GO)
		return (api_return(s));
	if (!api_qs_page(req, &limit, &cursor) ||
	    !api_qs_str(req, "q", 200, q, sizeof(q)) ||
	    !api_qs_str(req, "status", 10, st, sizeof(st)))
		return (KORE_RESULT_OK);
	snprintf(cur, sizeof(cur), "%" PRId64, cursor);
	snprintf(lim, sizeof(lim), "%" PRId64, limit);
	snprintf(uid, sizeof(uid), "%" PRId64, c->who.user_id);
	snprintf(off, sizeof(off), "%" PRId64, app.cfg.node_offline_after);
	snprintf(lost, sizeof(lost), "%" PRId64, app.cfg.node_lost_after);
	vals[0] = cur;
	vals[1] = c->who.admin ? "true" : "false";
	vals[2] = uid;
	vals[3] = q;
	vals[4] = lim;
	vals[5] = st;
	vals[6] = off;
	vals[7] = lost;
	if ((s = api_db(req, c, sql_nodes, 8, vals, NULL)) != API_GO)
		return (api_return(s));
	return (api_reply_list(req, c, limit));
}

/* GET a node (viewers), DELETE revokes it (admins). */
int
api_node(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;
	int64_t		nid;
	char		id[32], uid[32], off[16], lost[16], remote[64];
	const char     *vals[5];

	if (!api_path_id(req, "/api/v1/nodes/", &nid))
		return (api_not_found(req));
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_DELETE)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	if ((s = api_begin(req, &c, 0)) != API_GO)
		return (api_return(s));
	snprintf(id, sizeof(id), "%" PRId64, nid);
	snprintf(uid, sizeof(uid), "%" PRId64, c->who.user_id);

	if (req->method == HTTP_METHOD_DELETE) {
		if (!c->who.admin) {
			/* Visible nodes say 403, invisible ones 404. */
			if (!auth_node_visible(&c->who, nid))
				return (api_not_found(req));
			return (api_error(req, 403, "forbidden",
			    "only administrators revoke nodes", NULL));
		}
		api_remote_addr(req, remote, sizeof(remote));
		vals[0] = id;
		vals[1] = uid;
		vals[2] = c->claims.sub;
		vals[3] = remote;
		if ((s = api_db(req, c, sql_revoke, 4, vals, NULL)) != API_GO)
			return (api_return(s));
		if (api_rows(c) != 1) {
			api_db_clear(c);
			return (api_not_found(req));
		}
		api_db_clear(c);
		api_nodes_changed(nid);
		return (api_reply_empty(req, 204));
	}

	snprintf(off, sizeof(off), "%" PRId64, app.cfg.node_offline_after);
	snprintf(lost, sizeof(lost), "%" PRId64, app.cfg.node_lost_after);
	vals[0] = id;
	vals[1] = c->who.admin ? "true" : "false";
	vals[2] = uid;
	vals[3] = off;
	vals[4] = lost;
	if ((s = api_db(req, c, sql_node, 5, vals, NULL)) != API_GO)
		return (api_return(s));
	return (api_reply_row(req, c, 200));
}

/*
 * GET /api/v1/metrics?node=ID&from=&to=&step=: a node's history, averaged
 * into step-second buckets (default: the range split into ~300 points).
 */
static const char *sql_metrics =
    "WITH r AS (SELECT coalesce(nullif($4, '')::timestamptz,"
    "  now() - interval '1 hour') AS f, coalesce(nullif($5, '')::timestamptz,"
    "  now()) AS t),"
    " st AS (SELECT greatest($6::integer, ceil(extract(epoch FROM"
    "  (r.t - r.f)) / 300)::integer, 5) AS s FROM r)"
    " SELECT json_build_object('node_id', n.id, 'from', r.f, 'to', r.t,"
    "  'step', st.s, 'points', coalesce((SELECT json_agg(json_build_array("
    "  extract(epoch FROM b)::bigint, round(avg_cpu::numeric, 2),"
    "  avg_used, max_total, round(avg_load::numeric, 2)) ORDER BY b)"
    "  FROM (SELECT date_bin(make_interval(secs => st.s), m.at,"
    "  timestamptz '2000-01-01') AS b, avg(m.cpu) AS avg_cpu,"
    "  avg(m.mem_used)::bigint AS avg_used, max(m.mem_total) AS max_total,"
    "  avg(m.load1) AS avg_load FROM node_metrics m WHERE m.node_id = n.id"
    "  AND m.at >= r.f AND m.at < r.t GROUP BY 1) q), '[]'))::text"
    " FROM nodes n, r, st WHERE n.id = $1::bigint AND " NODE_VISIBLE;

/* A task's history: the same buckets over task_metrics. */
static const char *sql_task_metrics =
    "WITH r AS (SELECT coalesce(nullif($4, '')::timestamptz,"
    "  now() - interval '1 hour') AS f, coalesce(nullif($5, '')::timestamptz,"
    "  now()) AS t),"
    " st AS (SELECT greatest($6::integer, ceil(extract(epoch FROM"
    "  (r.t - r.f)) / 300)::integer, 5) AS s FROM r)"
    " SELECT json_build_object('task_id', t.id, 'node_id', t.node_id,"
    "  'from', r.f, 'to', r.t, 'step', st.s, 'points', coalesce((SELECT"
    "  json_agg(json_build_array(extract(epoch FROM b)::bigint,"
    "  round(avg_cpu::numeric, 2), avg_rss, max_threads, max_fds)"
    "  ORDER BY b) FROM (SELECT date_bin(make_interval(secs => st.s), m.at,"
    "  timestamptz '2000-01-01') AS b, avg(m.cpu) AS avg_cpu,"
    "  avg(m.rss)::bigint AS avg_rss, max(m.threads) AS max_threads,"
    "  max(m.fds) AS max_fds FROM task_metrics m WHERE m.task_id = t.id"
    "  AND m.at >= r.f AND m.at < r.t GROUP BY 1) q), '[]'))::text"
    " FROM tasks t" API_TASK_LEVEL_JOIN ", r, st WHERE t.id = $1::bigint"
    " AND " API_TASK_VISIBLE;

int
api_metrics(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;
	int64_t		node, task, step;
	char		n[32], uid[32], st[16], from[40], to[40];
	const char     *vals[6];

	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	if ((s = api_begin(req, &c, 0)) != API_GO)
		return (api_return(s));
	if (!api_qs_int(req, "node", 1, INT64_MAX, 0, &node) ||
	    !api_qs_int(req, "task", 1, INT64_MAX, 0, &task) ||
	    !api_qs_int(req, "step", 0, 86400, 0, &step) ||
	    !api_qs_time(req, "from", from, sizeof(from)) ||
	    !api_qs_time(req, "to", to, sizeof(to)))
		return (KORE_RESULT_OK);
	if ((node == 0) == (task == 0))
		return (api_error(req, 400, "bad_request",
		    "one of node or task is required", "node"));
	snprintf(n, sizeof(n), "%" PRId64, task ? task : node);
	snprintf(uid, sizeof(uid), "%" PRId64, c->who.user_id);
	snprintf(st, sizeof(st), "%" PRId64, step);
	vals[0] = n;
	vals[1] = c->who.admin ? "true" : "false";
	vals[2] = uid;
	vals[3] = from;
	vals[4] = to;
	vals[5] = st;
	if ((s = api_db(req, c, task ? sql_task_metrics : sql_metrics, 6, vals,
		 NULL)) != API_GO)
		return (api_return(s));
	return (api_reply_row(req, c, 200));
}
