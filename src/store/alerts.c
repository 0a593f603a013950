/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Statements of the alerts API: rules (admins write, everyone reads),
 * events and the badges' summary (the target's view level), mutes (manage
 * on the target).  Every change inserts its audit row in the same
 * statement; migrations 015_alerts.sql and 017_alerts_api.sql hold the
 * tables and the functions used here.
 */

#include "store/internal.h"

/*
 * SQL: row x (an event or a mute, LEFT JOIN tasks t ON t.id = x.task_id)
 * is visible to the caller ($2 admin, $3 user id): view on its task, or
 * for a node target the node is visible (yard_node_visible()).
 */
#define ALERT_SEEN(x) \
	"(CASE WHEN " x ".task_id IS NOT NULL THEN" \
	" yard_level($3::bigint, $2::boolean, t.node_id, " x ".task_id) >= 1" \
	" ELSE yard_node_visible($3::bigint, $2::boolean, " x ".node_id) END)"

/* SQL: the caller's level on row x's target (for a node: on the node). */
#define ALERT_LEVEL(x) \
	"yard_level($3::bigint, $2::boolean, coalesce(t.node_id, " x \
	".node_id), " x ".task_id)"

#define AUDIT_INTO \
	"INSERT INTO audit (actor_id, actor_sub, action, object_type," \
	" object_id, detail, remote_addr)"

static const char *sql_rules_list =
    "SELECT jsonb_build_object('items', coalesce(jsonb_agg("
    " yard_alert_rule_json(r, $1::boolean) ORDER BY r.id), '[]'))::text"
    " FROM alert_rules r";

static const char *sql_rule_get =
    "SELECT yard_alert_rule_json(r, $2::boolean)::text FROM alert_rules r"
    " WHERE r.id = $1::bigint";

/* $1 the rule (checked JSON text), $2 actor, $3 sub, $4 remote. */
static const char *sql_rule_create =
    "WITH v AS (SELECT (yard_alert_rule_from($1::jsonb)).*),"
    " m AS (SELECT yard_alert_scope_missing(v.node_ids, v.task_ids) AS j"
    "  FROM v),"
    " ins AS (INSERT INTO alert_rules (name, kind, threshold, recovery,"
    "  for_seconds, window_seconds, no_data, node_ids, task_ids, channels,"
    "  extra_emails, enabled, created_by) SELECT v.name, v.kind,"
    "  v.threshold, v.recovery, v.for_seconds, v.window_seconds,"
    "  v.no_data, v.node_ids, v.task_ids, v.channels, v.extra_emails,"
    "  v.enabled, $2::bigint FROM v, m"
    "  WHERE m.j = '{\"node_ids\":[],\"task_ids\":[]}'::jsonb"
    "  RETURNING *),"
    " a AS (" AUDIT_INTO " SELECT $2::bigint, $3, 'alert_rule.create',"
    "  'alert_rule', id, $1::jsonb, $4 FROM ins)"
    " SELECT (SELECT yard_alert_rule_json(ins::alert_rules, true)::text"
    "  FROM ins), m.j::text FROM m";

/* $5 the rule's id; a full replace.  No row: no such rule. */
static const char *sql_rule_update =
    "WITH v AS (SELECT (yard_alert_rule_from($1::jsonb)).*),"
    " m AS (SELECT yard_alert_scope_missing(v.node_ids, v.task_ids) AS j"
    "  FROM v),"
    " up AS (UPDATE alert_rules r SET name = v.name, kind = v.kind,"
    "  threshold = v.threshold, recovery = v.recovery,"
    "  for_seconds = v.for_seconds, window_seconds = v.window_seconds,"
    "  no_data = v.no_data, node_ids = v.node_ids, task_ids = v.task_ids,"
    "  channels = v.channels, extra_emails = v.extra_emails,"
    "  enabled = v.enabled, updated_at = now() FROM v, m"
    "  WHERE r.id = $5::bigint"
    "  AND m.j = '{\"node_ids\":[],\"task_ids\":[]}'::jsonb"
    "  RETURNING r.*),"
    " a AS (" AUDIT_INTO " SELECT $2::bigint, $3, 'alert_rule.update',"
    "  'alert_rule', id, $1::jsonb, $4 FROM up)"
    " SELECT (SELECT yard_alert_rule_json(up::alert_rules, true)::text"
    "  FROM up), m.j::text FROM m, alert_rules r WHERE r.id = $5::bigint";

/*
 * Delete: the rule's open events resolve with it (the evaluator no longer
 * speaks for them; they keep their rule's name through the audit row).
 */
static const char *sql_rule_delete =
    "WITH d AS (DELETE FROM alert_rules WHERE id = $1::bigint RETURNING *),"
    " e AS (UPDATE alert_events SET state = 'resolved',"
    "  resolved_at = now(), updated_at = now()"
    "  WHERE rule_id = $1::bigint AND state <> 'resolved'),"
    " a AS (" AUDIT_INTO " SELECT $2::bigint, $3, 'alert_rule.delete',"
    "  'alert_rule', id, jsonb_build_object('name', name, 'kind', kind),"
    "  $4 FROM d)"
    " SELECT id FROM d";

/* $3: missing data after twice the offline delay, as the evaluator. */
static const char *sql_preview =
    "SELECT yard_alert_preview($1::jsonb, $2::integer, $3::integer)::text";

#define EVENT_COLS \
	"e.id, e.rule_id, r.name AS rule_name, e.kind," \
	" json_build_object('node_id', e.node_id, 'task_id', e.task_id," \
	"  'node_name', n.name, 'task_name', t.name) AS target," \
	" e.state, e.value, e.threshold, e.recovery, e.started_at," \
	" e.fired_at, e.resolved_at, e.suppressed_by"

#define EVENT_FROM \
	" FROM alert_events e LEFT JOIN alert_rules r ON r.id = e.rule_id" \
	" LEFT JOIN tasks t ON t.id = e.task_id" \
	" LEFT JOIN nodes n ON n.id = e.node_id"

/* $1 before (0: newest), $4 state, $5 node, $6 task, $7 rule, $8 since,
 * $9 limit. */
static const char *sql_events_list =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT " EVENT_COLS EVENT_FROM
    " WHERE ($1::bigint = 0 OR e.id < $1::bigint)"
    " AND ($4 = '' OR ($4 = 'open' AND e.state <> 'resolved')"
    "  OR e.state = $4)"
    " AND ($5::bigint IS NULL OR e.node_id = $5::bigint)"
    " AND ($6::bigint IS NULL OR e.task_id = $6::bigint)"
    " AND ($7::bigint IS NULL OR e.rule_id = $7::bigint)"
    " AND ($8 = '' OR e.started_at >= $8::timestamptz)"
    " AND " ALERT_SEEN("e") " ORDER BY e.id DESC LIMIT $9::bigint + 1) x";

static const char					  *sql_event_get =
    "SELECT row_to_json(x)::text FROM (SELECT " EVENT_COLS EVENT_FROM
    " WHERE e.id = $1::bigint AND " ALERT_SEEN("e") ") x";

/* Per visible target with an open event or an active mute. */
static const char *sql_summary =
    "WITH ev AS (SELECT e.node_id, e.task_id,"
    "  count(*) FILTER (WHERE e.state = 'firing') AS firing,"
    "  count(*) FILTER (WHERE e.state = 'pending') AS pending"
    "  FROM alert_events e LEFT JOIN tasks t ON t.id = e.task_id"
    "  WHERE e.state <> 'resolved' AND $1::boolean AND " ALERT_SEEN(
	"e") "  GROUP BY e.node_id, e.task_id),"
	     " ek AS (SELECT CASE WHEN task_id IS NULL THEN 'n' ELSE 't' END AS k,"
	     "  coalesce(task_id, node_id) AS id, sum(firing) AS firing,"
	     "  sum(pending) AS pending FROM ev GROUP BY 1, 2),"
	     " mu AS (SELECT DISTINCT ON (k, id)"
	     "  CASE WHEN m.task_id IS NULL THEN 'n' ELSE 't' END AS k,"
	     "  coalesce(m.task_id, m.node_id) AS id, m.until, m.reason"
	     "  FROM alert_mutes m LEFT JOIN tasks t ON t.id = m.task_id"
	     "  WHERE m.until > now() AND " ALERT_SEEN(
		 "m") "  ORDER BY k, id, m.until DESC, m.id DESC),"
		      " b AS (SELECT coalesce(ek.k, mu.k) AS k, coalesce(ek.id, mu.id) AS id,"
		      "  jsonb_build_object('firing', coalesce(ek.firing, 0),"
		      "  'pending', coalesce(ek.pending, 0), 'muted_until', mu.until,"
		      "  'mute_reason', mu.reason) AS o"
		      "  FROM ek FULL JOIN mu ON mu.k = ek.k AND mu.id = ek.id)"
		      " SELECT jsonb_build_object("
		      " 'nodes', coalesce((SELECT jsonb_object_agg(id::text, o) FROM b"
		      "  WHERE k = 'n'), '{}'),"
		      " 'tasks', coalesce((SELECT jsonb_object_agg(id::text, o) FROM b"
		      "  WHERE k = 't'), '{}'))::text";

#define MUTE_COLS \
	"m.id, m.node_id, m.task_id, m.until, m.reason," \
	" u.sub AS created_by," \
	" coalesce(nullif(u.name, ''), u.sub) AS created_by_name, m.created_at"

/*
 * A mute: one row when the target exists: (the mute as json text or NULL
 * when it was not created, visible, the caller's level, until is in the
 * future and at most 90 days ahead).  $1 node, $4 task, $5 until,
 * $6 reason, $7 sub, $8 remote.
 */
static const char *sql_mute_create =
    "WITH x AS (SELECT n.id AS node_id, NULL::bigint AS task_id,"
    "  NULL::bigint AS tnode FROM nodes n WHERE n.id = $1::bigint"
    "  UNION ALL SELECT NULL, t.id, t.node_id FROM tasks t"
    "  WHERE t.id = $4::bigint),"
    " c AS (SELECT x.node_id, x.task_id,"
    "  CASE WHEN x.task_id IS NOT NULL THEN"
    "  yard_level($3::bigint, $2::boolean, x.tnode, x.task_id) >= 1"
    "  ELSE yard_node_visible($3::bigint, $2::boolean, x.node_id) END"
    "  AS seen,"
    "  yard_level($3::bigint, $2::boolean, coalesce(x.tnode, x.node_id),"
    "  x.task_id) AS level,"
    "  ($5::timestamptz > now() AND"
    "  $5::timestamptz <= now() + interval '90 days') AS until_ok FROM x),"
    " ins AS (INSERT INTO alert_mutes (node_id, task_id, until, reason,"
    "  created_by) SELECT c.node_id, c.task_id, $5::timestamptz, $6,"
    "  $3::bigint FROM c WHERE c.level >= 3 AND c.until_ok RETURNING *),"
    " a AS (" AUDIT_INTO " SELECT $3::bigint, $7, 'alert_mute.create',"
    "  'alert_mute', id, jsonb_strip_nulls(jsonb_build_object('node_id',"
    "  node_id, 'task_id', task_id, 'until', until, 'reason', reason)),"
    "  $8 FROM ins)"
    " SELECT (SELECT row_to_json(y)::text FROM (SELECT " MUTE_COLS
    "  FROM ins m LEFT JOIN users u ON u.id = m.created_by) y),"
    " c.seen, c.level, c.until_ok FROM c";

/* $1 active only, $4 node, $5 task. */
static const char *sql_mutes_list =
    "SELECT json_build_object('items', coalesce(json_agg(row_to_json(y)"
    " ORDER BY y.id DESC), '[]'))::text FROM (SELECT " MUTE_COLS
    " FROM alert_mutes m LEFT JOIN tasks t ON t.id = m.task_id"
    " LEFT JOIN users u ON u.id = m.created_by"
    " WHERE (NOT $1::boolean OR m.until > now())"
    " AND ($4::bigint IS NULL OR m.node_id = $4::bigint)"
    " AND ($5::bigint IS NULL OR m.task_id = $5::bigint)"
    " AND " ALERT_SEEN("m") " ORDER BY m.id DESC LIMIT 500) y";

/*
 * Delete a mute when the caller manages its target: one row when the
 * mute exists and is visible: (the caller's level, deleted).  $4 sub,
 * $5 remote.
 */
static const char *sql_mute_delete = "WITH c AS (SELECT m.id, " ALERT_LEVEL(
    "m") " AS level"
	 "  FROM alert_mutes m LEFT JOIN tasks t ON t.id = m.task_id"
	 "  WHERE m.id = $1::bigint AND " ALERT_SEEN(
	     "m") "),"
		  " d AS (DELETE FROM alert_mutes m USING c WHERE m.id = c.id"
		  "  AND c.level >= 3 RETURNING m.*),"
		  " a AS (" AUDIT_INTO
		  " SELECT $3::bigint, $4, 'alert_mute.delete',"
		  "  'alert_mute', id, jsonb_strip_nulls(jsonb_build_object('node_id',"
		  "  node_id, 'task_id', task_id, 'until', until, 'reason', reason)),"
		  "  $5 FROM d)"
		  " SELECT c.level, EXISTS (SELECT 1 FROM d) FROM c";

enum store_step
store_alert_rules_list(struct store_q *q, struct http_request *req, int admin)
{
	const char *vals[1];

	vals[0] = STORE_BOOL(admin);
	return (store_run(q, req, sql_rules_list, 1, vals));
}

enum store_step
store_alert_rule_get(struct store_q *q, struct http_request *req, int64_t id,
    int admin)
{
	char	    n[24];
	const char *vals[2];

	vals[0] = STORE_NUM(n, id);
	vals[1] = STORE_BOOL(admin);
	return (store_run(q, req, sql_rule_get, 2, vals));
}

enum store_step
store_alert_rule_put(struct store_q *q, struct http_request *req, int64_t id,
    const char *rule, int64_t actor, const char *actor_sub, const char *remote)
{
	char	    a[24], n[24];
	const char *vals[5];

	vals[0] = rule;
	vals[1] = STORE_NUM(a, actor);
	vals[2] = actor_sub;
	vals[3] = remote;
	if (id == 0)
		return (store_run(q, req, sql_rule_create, 4, vals));
	vals[4] = STORE_NUM(n, id);
	return (store_run(q, req, sql_rule_update, 5, vals));
}

enum store_step
store_alert_rule_delete(struct store_q *q, struct http_request *req, int64_t id,
    int64_t actor, const char *actor_sub, const char *remote)
{
	char	    n[24], a[24];
	const char *vals[4];

	vals[0] = STORE_NUM(n, id);
	vals[1] = STORE_NUM(a, actor);
	vals[2] = actor_sub;
	vals[3] = remote;
	return (store_run(q, req, sql_rule_delete, 4, vals));
}

enum store_step
store_alert_preview(struct store_q *q, struct http_request *req,
    const char *rule, int days)
{
	char	    d[24], g[24];
	const char *vals[3];

	vals[0] = rule;
	vals[1] = STORE_NUM(d, days);
	vals[2] = STORE_NUM(g, 2 * store_cfg.node_offline_after);
	return (store_run(q, req, sql_preview, 3, vals));
}

enum store_step
store_alert_events_list(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const struct store_alert_filter *f)
{
	char	    cur[24], uid[24], n[24], t[24], r[24], lim[24];
	const char *vals[9];

	vals[0] = STORE_NUM(cur, f->before);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = f->state;
	vals[4] = f->node != 0 ? STORE_NUM(n, f->node) : NULL;
	vals[5] = f->task != 0 ? STORE_NUM(t, f->task) : NULL;
	vals[6] = f->rule != 0 ? STORE_NUM(r, f->rule) : NULL;
	vals[7] = f->since;
	vals[8] = STORE_NUM(lim, f->limit);
	return (store_run(q, req, sql_events_list, 9, vals));
}

enum store_step
store_alert_event_get(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t id)
{
	return (store_run_seen(q, req, sql_event_get, id, who));
}

enum store_step
store_alert_summary(struct store_q *q, struct http_request *req,
    const struct auth_principal *who)
{
	char	    uid[24];
	const char *vals[3];

	vals[0] = "true";
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	return (store_run(q, req, sql_summary, 3, vals));
}

enum store_step
store_mute_create(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const struct store_mute_new *m)
{
	char	    n[24], uid[24], t[24];
	const char *vals[8];

	vals[0] = m->node != 0 ? STORE_NUM(n, m->node) : NULL;
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = m->task != 0 ? STORE_NUM(t, m->task) : NULL;
	vals[4] = m->until;
	vals[5] = m->reason;
	vals[6] = m->actor_sub;
	vals[7] = m->remote;
	return (store_run(q, req, sql_mute_create, 8, vals));
}

enum store_step
store_mutes_list(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int active, int64_t node, int64_t task)
{
	char	    uid[24], n[24], t[24];
	const char *vals[5];

	vals[0] = STORE_BOOL(active);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = node != 0 ? STORE_NUM(n, node) : NULL;
	vals[4] = task != 0 ? STORE_NUM(t, task) : NULL;
	return (store_run(q, req, sql_mutes_list, 5, vals));
}

enum store_step
store_mute_delete(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t id, const char *actor_sub,
    const char *remote)
{
	char	    n[24], uid[24];
	const char *vals[5];

	vals[0] = STORE_NUM(n, id);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = actor_sub;
	vals[4] = remote;
	return (store_run(q, req, sql_mute_delete, 5, vals));
}
