/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Statements about tasks: list, read, and the checks and writes of a
 * create or an edit.  A task is visible with view on it or on its node;
 * creating needs manage on the node, editing manage on the task, read
 * again by the statement that writes (yard_level(),
 * migrations/006_levels.sql).
 */

#include "store/internal.h"

/* Characters of the latest command's output a task carries. */
#define TASK_OUTPUT_MAX "2000"

/*
 * Why it is as it is (019_task_events.sql): the agent's last end and
 * last policy restart with their times, crash_loop saying whether the
 * policy has given up now; when a restarted agent adopted this run; and
 * how long it has run.
 */
#define TASK_WHY \
	"CASE WHEN t.last_exit IS NOT NULL THEN t.last_exit ||" \
	" jsonb_build_object('at', yard_ms_time(t.last_exit->'at'))" \
	" END AS last_exit," \
	" CASE WHEN t.last_restart IS NOT NULL THEN t.last_restart ||" \
	" jsonb_build_object('at', yard_ms_time(t.last_restart->'at')," \
	" 'crash_loop', t.state = 'crash_loop') END AS last_restart," \
	" t.adopted_at," \
	" CASE WHEN t.state IN ('starting', 'running', 'unhealthy')" \
	" AND t.started_at IS NOT NULL THEN greatest(0, floor(extract(epoch" \
	" FROM now() - t.started_at)))::bigint END AS uptime_s"

/* With the caller's level on the task and its latest command. */
#define TASK_COLS \
	"t.id, t.node_id, n.name AS node_name, t.name, t.kind, t.state," \
	" t.health, t.pid, t.started_at, t.restarts, t.created_at," \
	" t.updated_at, t.metrics, t.last_lines," \
	" " TASK_WHY "," \
	" yard_level_name(lv.level) AS level," \
	" (SELECT json_build_object('id', c.id, 'type', c.type, 'state'," \
	"  c.state, 'output', left(c.output, " TASK_OUTPUT_MAX ")," \
	"  'output_truncated', length(c.output) > " TASK_OUTPUT_MAX "," \
	"  'issued_at', c.issued_at, 'finished_at', c.finished_at," \
	"  'progress', c.progress, 'code', c.code, 'params', c.params)" \
	"  FROM commands c WHERE c.task_id = t.id ORDER BY c.seq DESC" \
	"  LIMIT 1) AS last_command"

/* The OS family a node reports in its facts; older agents: linux. */
#define NODE_OS_FAMILY "coalesce(n.facts->>'os_family', 'linux')"

static const char *sql_list =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT " TASK_COLS
    " FROM tasks t JOIN nodes n ON n.id = t.node_id" STORE_TASK_LEVEL_JOIN
    " WHERE t.id > $1::bigint AND " STORE_TASK_VISIBLE
    " AND ($4 = '' OR strpos(lower(t.name), lower($4)) > 0)"
    " AND ($5::bigint IS NULL OR t.node_id = $5::bigint)"
    " ORDER BY t.id LIMIT $6::bigint + 1) x";

static const char *sql_get =
    "SELECT row_to_json(x)::text, x.node_id FROM (SELECT " TASK_COLS
    ", t.spec FROM tasks t JOIN nodes n ON n.id = t.node_id" STORE_TASK_LEVEL_JOIN
    " WHERE t.id = $1::bigint AND " STORE_TASK_VISIBLE ") x";

static const char *sql_create_check =
    "SELECT yard_node_visible($3::bigint, $2::boolean, n.id),"
    " yard_level($3::bigint, $2::boolean, n.id, NULL),"
    " n.revoked_at IS NOT NULL, (n.facts->'policy'->'roots')::text,"
    " " NODE_OS_FAMILY " FROM nodes n WHERE n.id = $1::bigint";

/* Create when the caller (still) manages the node. */
static const char *sql_create =
    "WITH n AS (SELECT n.id FROM nodes n WHERE n.id = $1::bigint"
    "  AND n.revoked_at IS NULL"
    "  AND yard_level($3::bigint, $2::boolean, n.id, NULL) >= 3),"
    " t AS (INSERT INTO tasks (node_id, name, kind, spec, created_by)"
    "  SELECT id, $4, $5, $6::jsonb, $3::bigint FROM n"
    "  RETURNING id, node_id, name, kind),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT $3::bigint, $7, 'task.create',"
    "  'task', id, jsonb_build_object('name', name, 'node', node_id,"
    "  'kind', kind), $8 FROM t)"
    " SELECT id FROM t";

static const char *sql_edit_check =
    "SELECT t.kind, lv.level, (n.facts->'policy'->'roots')::text,"
    " " NODE_OS_FAMILY
    " FROM tasks t JOIN nodes n ON n.id = t.node_id" STORE_TASK_LEVEL_JOIN
    " WHERE t.id = $1::bigint";

/*
 * Edit: name and spec together, when the caller (still) manages the task;
 * the kind stays what it was created as.
 */
static const char *sql_edit =
    "WITH t AS (UPDATE tasks SET name = $2, spec = $3::jsonb,"
    "  updated_at = now() WHERE id = $1::bigint AND kind = $4"
    "  AND yard_level($5::bigint, $8::boolean, node_id, id) >= 3"
    "  RETURNING id, name),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT $5::bigint, $6, 'task.edit',"
    "  'task', id, jsonb_build_object('name', name), $7 FROM t)"
    " SELECT (SELECT count(*) FROM t)";

/*
 * A task's releases as its agent last reported them, newest first, with
 * the package each was made from where a package row has its hash, and
 * who issued the command that made it.  One row of json text; none when
 * the task is not visible.
 */
static const char *sql_releases =
    "SELECT json_build_object('items', coalesce((SELECT json_agg(x ORDER BY"
    "  x.n DESC) FROM (SELECT r.n, p.id AS package_id, p.name, p.version,"
    "  r.sha256, r.state, r.deployed_at, r.deployed_by,"
    "  coalesce(nullif(u.name, ''), u.sub) AS deployed_by_name,"
    "  u.sub AS deployed_by_sub, r.command_id"
    "  FROM releases r LEFT JOIN packages p ON r.sha256 <> ''"
    "  AND p.sha256 = r.sha256 LEFT JOIN users u ON u.id = r.deployed_by"
    "  WHERE r.task_id = t.id) x), '[]'::json), 'next', NULL)::text"
    " FROM tasks t" STORE_TASK_LEVEL_JOIN
    " WHERE t.id = $1::bigint AND " STORE_TASK_VISIBLE;

/*
 * A task's events, newest first, limit $4 of them before event $5 (0:
 * the newest), with who caused each; "next" is the last one's id when
 * there are more.  One row of json text; none when the task is not
 * visible.
 */
static const char *sql_events =
    "SELECT (SELECT json_build_object('items',"
    "  coalesce(json_agg(json_build_object('id', x.id, 'at', x.at,"
    "  'kind', x.kind, 'state', x.state, 'prev_state', x.prev_state,"
    "  'code', x.code, 'params', x.params,"
    "  'command_id', x.command_id, 'by', CASE WHEN u.id IS NOT NULL THEN"
    "  json_build_object('id', u.id, 'name', u.name) END)"
    "  ORDER BY x.id DESC) FILTER (WHERE x.rn <= $4::bigint), '[]'::json),"
    "  'next', CASE WHEN count(*) > $4::bigint THEN"
    "  min(x.id) FILTER (WHERE x.rn <= $4::bigint) END)"
    "  FROM (SELECT e.*, row_number() OVER (ORDER BY e.id DESC) AS rn"
    "  FROM task_events e WHERE e.task_id = t.id"
    "  AND ($5::bigint = 0 OR e.id < $5::bigint)"
    "  ORDER BY e.id DESC LIMIT $4::bigint + 1) x"
    "  LEFT JOIN users u ON u.id = x.by_user)::text"
    " FROM tasks t" STORE_TASK_LEVEL_JOIN
    " WHERE t.id = $1::bigint AND " STORE_TASK_VISIBLE;

enum store_step
store_task_events(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t task, int64_t limit,
    int64_t before)
{
	char	    tid[24], uid[24], lim[24], bef[24];
	const char *vals[5];

	vals[0] = STORE_NUM(tid, task);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = STORE_NUM(lim, limit);
	vals[4] = STORE_NUM(bef, before);
	return (store_run(q, req, sql_events, 5, vals));
}

enum store_step
store_task_releases(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t task)
{
	return (store_run_seen(q, req, sql_releases, task, who));
}

enum store_step
store_tasks_list(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const struct store_task_filter *f)
{
	char	    cur[24], uid[24], nid[24], lim[24];
	const char *vals[6];

	vals[0] = STORE_NUM(cur, f->cursor);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = f->q;
	vals[4] = f->node != 0 ? STORE_NUM(nid, f->node) : NULL;
	vals[5] = STORE_NUM(lim, f->limit);
	return (store_run(q, req, sql_list, 6, vals));
}

enum store_step
store_task_get(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t task)
{
	return (store_run_seen(q, req, sql_get, task, who));
}

enum store_step
store_task_create_check(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t node)
{
	return (store_run_seen(q, req, sql_create_check, node, who));
}

enum store_step
store_task_create(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const struct store_task_write *w)
{
	char	    nid[24], uid[24];
	const char *vals[8];

	vals[0] = STORE_NUM(nid, w->id);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = w->name;
	vals[4] = w->kind;
	vals[5] = w->spec;
	vals[6] = w->actor_sub;
	vals[7] = w->remote;
	return (store_run(q, req, sql_create, 8, vals));
}

enum store_step
store_task_edit_check(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t task)
{
	return (store_run_seen(q, req, sql_edit_check, task, who));
}

enum store_step
store_task_edit(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const struct store_task_write *w)
{
	char	    tid[24], uid[24];
	const char *vals[8];

	vals[0] = STORE_NUM(tid, w->id);
	vals[1] = w->name;
	vals[2] = w->spec;
	vals[3] = w->kind;
	vals[4] = STORE_NUM(uid, who->user_id);
	vals[5] = w->actor_sub;
	vals[6] = w->remote;
	vals[7] = STORE_BOOL(who->admin);
	return (store_run(q, req, sql_edit, 8, vals));
}
