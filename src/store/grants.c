/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Statements about grants: a user may view, operate or manage one node
 * (and all its tasks) or one task.  Granting again on the same target
 * changes the level; granting to an account name not seen yet creates
 * that user, never signed in.  Every change inserts its audit row in the
 * same statement.
 */

#include "store/internal.h"

#define GRANT_SELECT \
	"SELECT g.id, g.user_id, u.sub AS user_sub, u.name AS user_name," \
	" g.node_id, n.name AS node_name, g.task_id, t.name AS task_name," \
	" t.node_id AS task_node_id, g.level, g.created_at, g.created_by"

#define GRANT_JOINS \
	" JOIN users u ON u.id = g.user_id" \
	" LEFT JOIN nodes n ON n.id = g.node_id" \
	" LEFT JOIN tasks t ON t.id = g.task_id"

static const char *sql_list =
    "SELECT row_to_json(x)::text, x.id FROM (" GRANT_SELECT
    " FROM grants g" GRANT_JOINS " WHERE g.id > $1::bigint"
    " AND ($2::bigint IS NULL OR g.user_id = $2::bigint)"
    " AND ($3::bigint IS NULL OR g.node_id = $3::bigint)"
    " AND ($4::bigint IS NULL OR g.task_id = $4::bigint)"
    " ORDER BY g.id LIMIT $5::bigint + 1) x";

static const char *sql_get =
    "SELECT row_to_json(x)::text FROM (" GRANT_SELECT
    " FROM grants g" GRANT_JOINS " WHERE g.id = $1::bigint) x";

/* One statement per target kind: each conflicts on its own index. */
#define GRANT_UPSERT(col) \
	"WITH g AS (INSERT INTO grants (user_id, " col ", level, created_by)" \
	" VALUES ($1::bigint, $2::bigint, $3, $4::bigint)" \
	" ON CONFLICT (user_id, " col ") WHERE " col " IS NOT NULL" \
	" DO UPDATE SET level = EXCLUDED.level" \
	" RETURNING *, (xmax = 0) AS created)," \
	" a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type," \
	"  object_id, detail, remote_addr) SELECT $4::bigint, $5," \
	"  CASE WHEN created THEN 'grant.create' ELSE 'grant.update' END," \
	"  'grant', id, jsonb_build_object('user_id', user_id, '" col \
	"', " col ", 'level', level), $6 FROM g)" \
	" SELECT row_to_json(x)::text, x.created FROM (" GRANT_SELECT \
	", g.created FROM g" GRANT_JOINS ") x"

static const char *sql_upsert_node = GRANT_UPSERT("node_id");
static const char *sql_upsert_task = GRANT_UPSERT("task_id");

/*
 * The same for an account name: the user row is made (or, when it exists,
 * locked by a no-op update, so a sign-in racing this statement waits for
 * it) before the grant.  The final join reads the CTE, not the table: a
 * row inserted by this statement is not in its snapshot.
 */
#define GRANT_UPSERT_SUB(col) \
	"WITH nu AS (INSERT INTO users (sub, created_by)" \
	" VALUES ($1, $4::bigint) ON CONFLICT (sub) DO UPDATE SET" \
	" sub = EXCLUDED.sub RETURNING id, sub, name, (xmax = 0) AS created)," \
	" au AS (INSERT INTO audit (actor_id, actor_sub, action, object_type," \
	"  object_id, detail, remote_addr) SELECT $4::bigint, $5," \
	"  'user.create', 'user', id, jsonb_build_object('sub', sub," \
	"  'admin', false, 'via', 'grant'), $6 FROM nu WHERE created)," \
	" g AS (INSERT INTO grants (user_id, " col ", level, created_by)" \
	" SELECT id, $2::bigint, $3, $4::bigint FROM nu" \
	" ON CONFLICT (user_id, " col ") WHERE " col " IS NOT NULL" \
	" DO UPDATE SET level = EXCLUDED.level" \
	" RETURNING *, (xmax = 0) AS created)," \
	" a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type," \
	"  object_id, detail, remote_addr) SELECT $4::bigint, $5," \
	"  CASE WHEN created THEN 'grant.create' ELSE 'grant.update' END," \
	"  'grant', id, jsonb_build_object('user_id', user_id, '" col \
	"', " col ", 'level', level), $6 FROM g)" \
	" SELECT row_to_json(x)::text, x.created FROM (SELECT g.id," \
	" g.user_id, nu.sub AS user_sub, nu.name AS user_name, g.node_id," \
	" n.name AS node_name, g.task_id, t.name AS task_name," \
	" t.node_id AS task_node_id, g.level, g.created_at, g.created_by," \
	" g.created, nu.created AS user_created FROM g" \
	" JOIN nu ON nu.id = g.user_id" \
	" LEFT JOIN nodes n ON n.id = g.node_id" \
	" LEFT JOIN tasks t ON t.id = g.task_id) x"

static const char *sql_upsert_sub_node = GRANT_UPSERT_SUB("node_id");
static const char *sql_upsert_sub_task = GRANT_UPSERT_SUB("task_id");

static const char *sql_delete =
    "WITH d AS (DELETE FROM grants WHERE id = $1::bigint RETURNING *),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT $2::bigint, $3, 'grant.delete',"
    "  'grant', id, jsonb_strip_nulls(jsonb_build_object('user_id',"
    "  user_id, 'node_id', node_id, 'task_id', task_id, 'level', level)),"
    "  $4 FROM d)"
    " SELECT id FROM d";

enum store_step
store_grants_list(struct store_q *q, struct http_request *req,
    const struct store_grant_filter *f)
{
	char	    cur[24], lim[24], u[24], n[24], t[24];
	const char *vals[5];

	vals[0] = STORE_NUM(cur, f->cursor);
	vals[1] = f->user != 0 ? STORE_NUM(u, f->user) : NULL;
	vals[2] = f->node != 0 ? STORE_NUM(n, f->node) : NULL;
	vals[3] = f->task != 0 ? STORE_NUM(t, f->task) : NULL;
	vals[4] = STORE_NUM(lim, f->limit);
	return (store_run(q, req, sql_list, 5, vals));
}

enum store_step
store_grant_get(struct store_q *q, struct http_request *req, int64_t grant)
{
	char	    id[24];
	const char *vals[1];

	vals[0] = STORE_NUM(id, grant);
	return (store_run(q, req, sql_get, 1, vals));
}

enum store_step
store_grant_put(struct store_q *q, struct http_request *req, int64_t user,
    int64_t node, int64_t task, const char *level, int64_t actor,
    const char *actor_sub, const char *remote)
{
	char	    u[24], target[24], uid[24];
	const char *vals[6];

	vals[0] = STORE_NUM(u, user);
	vals[1] = STORE_NUM(target, node != 0 ? node : task);
	vals[2] = level;
	vals[3] = STORE_NUM(uid, actor);
	vals[4] = actor_sub;
	vals[5] = remote;
	return (store_run(q, req, node != 0 ? sql_upsert_node : sql_upsert_task,
	    6, vals));
}

enum store_step
store_grant_put_sub(struct store_q *q, struct http_request *req,
    const char *sub, int64_t node, int64_t task, const char *level,
    int64_t actor, const char *actor_sub, const char *remote)
{
	char	    target[24], uid[24];
	const char *vals[6];

	vals[0] = sub;
	vals[1] = STORE_NUM(target, node != 0 ? node : task);
	vals[2] = level;
	vals[3] = STORE_NUM(uid, actor);
	vals[4] = actor_sub;
	vals[5] = remote;
	return (store_run(q, req,
	    node != 0 ? sql_upsert_sub_node : sql_upsert_sub_task, 6, vals));
}

enum store_step
store_grant_delete(struct store_q *q, struct http_request *req, int64_t grant,
    int64_t actor, const char *actor_sub, const char *remote)
{
	char	    id[24], uid[24];
	const char *vals[4];

	vals[0] = STORE_NUM(id, grant);
	vals[1] = STORE_NUM(uid, actor);
	vals[2] = actor_sub;
	vals[3] = remote;
	return (store_run(q, req, sql_delete, 4, vals));
}
