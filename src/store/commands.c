/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Statements about the command ledger: issue a node or a task command
 * (the level it needs is read by the statement that writes), list and
 * read commands.  A command is visible with view on its task, or on its
 * node for a node command (a task grant shows no other command of the
 * node); yard_level_row() (migrations/006_levels.sql) decides.
 */

#include "store/internal.h"

/* Join after "FROM commands c"; see STORE_TASK_LEVEL_JOIN. */
#define CMD_LEVEL_JOIN \
	" CROSS JOIN LATERAL yard_level_row($3::bigint, $2::boolean," \
	" c.node_id, c.task_id) lv"
#define CMD_VISIBLE "(lv.level >= 1)"

/* A command's payload as users see it: its configuration masked
 * (yard_config_masked(), migrations/012_config.sql). */
#define CMD_PAYLOAD \
	"CASE WHEN c.payload ? 'config' THEN jsonb_set(c.payload, '{config}'," \
	" yard_config_masked(c.payload->'config')) ELSE c.payload END"

/* The command types whose payload carries the task's configuration. */
#define CMD_CONFIG_TYPES \
	"('start', 'restart', 'deploy', 'update', 'rollback', 'apply-config')"

#define CMD_COLS \
	"c.id, c.seq, c.type, c.node_id, n.name AS node_name, c.task_id," \
	" (SELECT name FROM tasks WHERE id = c.task_id) AS task_name," \
	" " CMD_PAYLOAD \
	" AS payload, c.state, c.issued_by, u.sub AS issued_by_sub," \
	" coalesce(nullif(u.name, ''), u.sub) AS issued_by_name," \
	" c.issued_at, c.dispatched_at, c.finished_at, c.deadline," \
	" c.exit_status, c.agent_received_ms, c.agent_finished_ms," \
	" c.progress, c.code, c.params," \
	" (SELECT min(e.at) FROM command_events e WHERE e.command_id = c.id" \
	" AND e.state = 'running') AS started_at"

/* A node command (ping): needs level $9 on the node. */
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
 * A task command: the payload carries the task's current spec, then the
 * package $10 (when not NULL, and visible to the caller: its hash, size,
 * bytes unpacked, name and version) and the members of $11.  At most one
 * command per task is in progress, except that a release command ($9)
 * may queue behind other release commands (a unique index and an
 * exclusion constraint back the check, 011_releases.sql).  It needs level
 * $8 on the task.  Start, restart, deploy, update, rollback and
 * apply-config carry the task's effective configuration as "config"
 * (secrets as "enc"; not in the audit row); apply-config needs one.
 */
static const char *sql_task_issue =
    "WITH t AS (SELECT t.id, t.node_id, t.name, t.spec,"
    "  n.revoked_at IS NOT NULL AS revoked, lv.level AS lvl,"
    "  EXISTS (SELECT 1 FROM task_configs k WHERE k.task_id = t.id)"
    "  AS has_config"
    "  FROM tasks t JOIN nodes n ON n.id = t.node_id" STORE_TASK_LEVEL_JOIN
    "  WHERE t.id = $1::bigint),"
    " pk AS (SELECT jsonb_build_object('sha256', p.sha256, 'size', p.size,"
    "  'unpacked', (SELECT coalesce(sum((m->>'size')::bigint), 0)"
    "  FROM jsonb_array_elements(p.manifest) m), 'name', p.name,"
    "  'version', p.version) AS j"
    "  FROM packages p LEFT JOIN tasks t ON t.id = p.task_id"
    "  WHERE p.id = $10::bigint AND " STORE_PKG_VISIBLE "),"
    " busy AS (SELECT c.id FROM commands c, t WHERE c.task_id = t.id AND"
    "  c.state IN ('queued', 'dispatched', 'running') AND NOT ($9::boolean"
    "  AND c.type IN " STORE_RELEASE_TYPES ") ORDER BY c.seq LIMIT 1),"
    " c AS (INSERT INTO commands (type, node_id, task_id, payload,"
    "  issued_by, deadline) SELECT $4, t.node_id, t.id,"
    "  jsonb_build_object('task', jsonb_build_object('id', t.id, 'name',"
    "  t.name, 'spec', t.spec)) || coalesce((SELECT jsonb_build_object("
    "  'package', j) FROM pk), '{}'::jsonb) || coalesce($11::jsonb,"
    "  '{}'::jsonb) || CASE WHEN $4 IN " CMD_CONFIG_TYPES " THEN"
    "  coalesce((SELECT jsonb_build_object('config', e.cfg) FROM (SELECT"
    "  yard_config_effective(t.id) AS cfg) e WHERE e.cfg IS NOT NULL),"
    "  '{}'::jsonb) ELSE '{}'::jsonb END, $3::bigint,"
    "  now() + make_interval(secs => $5::integer) FROM t"
    "  WHERE lvl >= $8::integer AND NOT revoked"
    "  AND NOT EXISTS (SELECT 1 FROM busy)"
    "  AND ($4 <> 'apply-config' OR t.has_config)"
    "  AND ($10::bigint IS NULL OR EXISTS (SELECT 1 FROM pk))"
    "  RETURNING *),"
    " ev AS (INSERT INTO command_events (command_id, state)"
    "  SELECT id, 'queued' FROM c),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT $3::bigint, $6,"
    "  'command.issue', 'task', task_id, jsonb_strip_nulls("
    "  jsonb_build_object('command', id, 'type', type, 'package_id',"
    "  $10::bigint)) || coalesce($11::jsonb, '{}'::jsonb), $7 FROM c)"
    " SELECT t.lvl, t.revoked, (SELECT row_to_json(x)::text"
    "  FROM (SELECT c.id, c.seq, c.type, c.node_id, c.task_id,"
    "  " CMD_PAYLOAD " AS payload,"
    "  c.state, c.issued_at, c.deadline FROM c) x), t.node_id,"
    "  (SELECT id::text FROM busy), $10::bigint IS NULL"
    "  OR EXISTS (SELECT 1 FROM pk), t.has_config FROM t";

/* Before a move: the task's level, its node's revocation, roots, OS
 * family and the task's spec. */
static const char *sql_move_check =
    "SELECT lv.level, n.revoked_at IS NOT NULL,"
    " (n.facts->'policy'->'roots')::text,"
    " coalesce(n.facts->>'os_family', 'linux'), t.spec::text"
    " FROM tasks t JOIN nodes n ON n.id = t.node_id" STORE_TASK_LEVEL_JOIN
    " WHERE t.id = $1::bigint";

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
    "  state, detail, code, params FROM command_events"
    "  WHERE command_id = c.id) e)"
    "  AS events"
    " FROM commands c JOIN nodes n ON n.id = c.node_id" CMD_LEVEL_JOIN
    " LEFT JOIN users u ON u.id = c.issued_by"
    " WHERE c.id = $1::uuid AND " CMD_VISIBLE ") x";

enum store_step
store_command_issue_node(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const struct store_command_issue *ci)
{
	char	    nid[24], uid[24], tmo[24], need[24];
	const char *vals[9];

	vals[0] = STORE_NUM(nid, ci->id);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = ci->type;
	vals[4] = ci->payload;
	vals[5] = STORE_NUM(tmo, store_cfg.command_timeout);
	vals[6] = ci->actor_sub;
	vals[7] = ci->remote;
	vals[8] = STORE_NUM(need, ci->need);
	return (store_run(q, req, sql_issue, 9, vals));
}

enum store_step
store_command_issue_task(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const struct store_command_issue *ci)
{
	char	    tid[24], uid[24], tmo[24], need[24], pk[24];
	const char *vals[11];

	vals[0] = STORE_NUM(tid, ci->id);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = ci->type;
	vals[4] = STORE_NUM(tmo,
	    ci->release ? store_cfg.deploy_timeout : store_cfg.command_timeout);
	vals[5] = ci->actor_sub;
	vals[6] = ci->remote;
	vals[7] = STORE_NUM(need, ci->need);
	vals[8] = STORE_BOOL(ci->release);
	vals[9] = ci->package > 0 ? STORE_NUM(pk, ci->package) : NULL;
	vals[10] = ci->payload;
	return (store_run(q, req, sql_task_issue, 11, vals));
}

enum store_step
store_command_move_check(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t task)
{
	return (store_run_seen(q, req, sql_move_check, task, who));
}

enum store_step
store_commands_list(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const struct store_command_filter *f)
{
	char	    cur[24], uid[24], n[24], t[24], u[24], lim[24];
	const char *vals[10];

	vals[0] = STORE_NUM(cur, f->cursor);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = f->node != 0 ? STORE_NUM(n, f->node) : NULL;
	vals[4] = f->task != 0 ? STORE_NUM(t, f->task) : NULL;
	vals[5] = f->state;
	vals[6] = f->user != 0 ? STORE_NUM(u, f->user) : NULL;
	vals[7] = f->from;
	vals[8] = f->to;
	vals[9] = STORE_NUM(lim, f->limit);
	return (store_run(q, req, sql_list, 10, vals));
}

enum store_step
store_command_get(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const char *id)
{
	char	    uid[24];
	const char *vals[3];

	vals[0] = id;
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	return (store_run(q, req, sql_get, 3, vals));
}
