/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Statements about nodes and their metrics.  A node is visible to
 * admins, and through a grant on it or on one of its tasks (so that a
 * task can be placed; an action on such a node is then a 403).
 * yard_node_visible() and yard_level() (migrations/006_levels.sql) decide.
 */

#include "store/internal.h"

#define NODE_STATUS(off, lost) \
	"yard_node_status(n.revoked_at, n.last_seen, $" off \
	"::integer, $" lost "::integer)"
#define NODE_COLS(off, lost) \
	"n.id, n.name, n.hostname, " NODE_STATUS(off, \
	    lost) " AS status," \
		  " n.last_seen, n.agent_version, n.facts, n.metrics, n.enrolled_at," \
		  " n.revoked_at, n.created_at, yard_level_name(yard_level(" \
		  "$3::bigint, $2::boolean, n.id, NULL)) AS level"
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

/* The bucketed history of a node (node_metrics) or a task (task_metrics). */
#define METRICS_RANGE \
	"WITH r AS (SELECT coalesce(nullif($4, '')::timestamptz," \
	"  now() - interval '1 hour') AS f, coalesce(nullif($5, '')::timestamptz," \
	"  now()) AS t)," \
	" st AS (SELECT greatest($6::integer, ceil(extract(epoch FROM" \
	"  (r.t - r.f)) / 300)::integer, 5) AS s FROM r)"

static const char *sql_metrics = METRICS_RANGE
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

static const char *sql_task_metrics = METRICS_RANGE
    " SELECT json_build_object('task_id', t.id, 'node_id', t.node_id,"
    "  'from', r.f, 'to', r.t, 'step', st.s, 'points', coalesce((SELECT"
    "  json_agg(json_build_array(extract(epoch FROM b)::bigint,"
    "  round(avg_cpu::numeric, 2), avg_rss, max_threads, max_fds)"
    "  ORDER BY b) FROM (SELECT date_bin(make_interval(secs => st.s), m.at,"
    "  timestamptz '2000-01-01') AS b, avg(m.cpu) AS avg_cpu,"
    "  avg(m.rss)::bigint AS avg_rss, max(m.threads) AS max_threads,"
    "  max(m.fds) AS max_fds FROM task_metrics m WHERE m.task_id = t.id"
    "  AND m.at >= r.f AND m.at < r.t GROUP BY 1) q), '[]'))::text"
    " FROM tasks t" STORE_TASK_LEVEL_JOIN ", r, st WHERE t.id = $1::bigint"
    " AND " STORE_TASK_VISIBLE;

enum step_metrics { METRICS_NODE, METRICS_TASK };

static enum store_step metrics(struct store_q *, struct http_request *,
    const struct auth_principal *, enum step_metrics, int64_t, const char *,
    const char *, int64_t);

enum store_step
store_nodes_list(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const struct store_node_filter *f)
{
	char	    cur[24], uid[24], lim[24], off[24], lost[24];
	const char *vals[8];

	vals[0] = STORE_NUM(cur, f->cursor);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = f->q;
	vals[4] = STORE_NUM(lim, f->limit);
	vals[5] = f->status;
	vals[6] = STORE_NUM(off, store_cfg.node_offline_after);
	vals[7] = STORE_NUM(lost, store_cfg.node_lost_after);
	return (store_run(q, req, sql_nodes, 8, vals));
}

enum store_step
store_node_get(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t node)
{
	char	    id[24], uid[24], off[24], lost[24];
	const char *vals[5];

	vals[0] = STORE_NUM(id, node);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = STORE_NUM(off, store_cfg.node_offline_after);
	vals[4] = STORE_NUM(lost, store_cfg.node_lost_after);
	return (store_run(q, req, sql_node, 5, vals));
}

enum store_step
store_node_revoke(struct store_q *q, struct http_request *req, int64_t node,
    int64_t actor, const char *actor_sub, const char *remote)
{
	char	    id[24], uid[24];
	const char *vals[4];

	vals[0] = STORE_NUM(id, node);
	vals[1] = STORE_NUM(uid, actor);
	vals[2] = actor_sub;
	vals[3] = remote;
	return (store_run(q, req, sql_revoke, 4, vals));
}

static enum store_step
metrics(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, enum step_metrics what, int64_t id,
    const char *from, const char *to, int64_t step)
{
	char	    n[24], uid[24], st[24];
	const char *vals[6];

	vals[0] = STORE_NUM(n, id);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = from;
	vals[4] = to;
	vals[5] = STORE_NUM(st, step);
	return (store_run(q, req,
	    what == METRICS_TASK ? sql_task_metrics : sql_metrics, 6, vals));
}

enum store_step
store_metrics_node(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t node, const char *from,
    const char *to, int64_t step)
{
	return (metrics(q, req, who, METRICS_NODE, node, from, to, step));
}

enum store_step
store_metrics_task(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t task, const char *from,
    const char *to, int64_t step)
{
	return (metrics(q, req, who, METRICS_TASK, task, from, to, step));
}
