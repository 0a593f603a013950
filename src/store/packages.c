/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Statements about stored packages.  A package is visible to admins, to
 * the user who uploaded it, and to whoever may view its target (the task,
 * or the node) by yard_level() (migrations/006_levels.sql).  An agent may
 * fetch one only while a command of its node that is not finished names
 * it (payload.package_sha256).
 */

#include "store/internal.h"

/* Package p (LEFT JOIN tasks t ON t.id = p.task_id) seen by $2 admin,
 * $3 user. */
#define PKG_VISIBLE \
	"($2::boolean OR p.uploaded_by = $3::bigint" \
	" OR (p.task_id IS NOT NULL AND yard_level($3::bigint, $2::boolean," \
	"  t.node_id, p.task_id) >= 1)" \
	" OR (p.task_id IS NULL AND p.node_id IS NOT NULL AND" \
	"  yard_level($3::bigint, $2::boolean, p.node_id, NULL) >= 1))"
#define PKG_COLS \
	"p.id, p.sha256, p.size, p.entries, p.name, p.version, p.notes," \
	" p.filename, json_strip_nulls(json_build_object('task_id', p.task_id," \
	" 'node_id', p.node_id)) AS target, p.uploaded_by, p.uploader_sub," \
	" p.created_at"

static const char *sql_list =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT " PKG_COLS
    " FROM packages p LEFT JOIN tasks t ON t.id = p.task_id"
    " WHERE p.id > $1::bigint AND " PKG_VISIBLE
    " AND ($4 = '' OR strpos(lower(p.name), lower($4)) > 0"
    "  OR p.sha256 = lower($4))"
    " AND ($6::bigint = 0 OR p.task_id = $6::bigint)"
    " AND ($7::bigint = 0 OR p.node_id = $7::bigint"
    "  OR t.node_id = $7::bigint)"
    " ORDER BY p.id LIMIT $5::bigint + 1) x";

static const char *sql_get =
    "SELECT row_to_json(x)::text FROM (SELECT " PKG_COLS ", p.manifest"
    " FROM packages p LEFT JOIN tasks t ON t.id = p.task_id"
    " WHERE p.id = $1::bigint AND " PKG_VISIBLE ") x";

static const char *sql_for_node =
    "SELECT p.size FROM packages p WHERE p.sha256 = $1"
    " AND EXISTS (SELECT 1 FROM commands c WHERE c.node_id = $2::bigint"
    " AND c.state IN ('queued', 'dispatched', 'running')"
    " AND c.payload->>'package_sha256' = $1)";

enum store_step
store_packages_list(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const struct store_package_filter *f)
{
	char	    cur[24], uid[24], lim[24], task[24], node[24];
	const char *vals[7];

	vals[0] = STORE_NUM(cur, f->cursor);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = f->q;
	vals[4] = STORE_NUM(lim, f->limit);
	vals[5] = STORE_NUM(task, f->task);
	vals[6] = STORE_NUM(node, f->node);
	return (store_run(q, req, sql_list, 7, vals));
}

enum store_step
store_package_get(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t id)
{
	char	    n[24], uid[24];
	const char *vals[3];

	vals[0] = STORE_NUM(n, id);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	return (store_run(q, req, sql_get, 3, vals));
}

enum store_step
store_package_for_node(struct store_q *q, struct http_request *req,
    int64_t node, const char *sha256)
{
	char	    n[24];
	const char *vals[2];

	vals[0] = sha256;
	vals[1] = STORE_NUM(n, node);
	return (store_run(q, req, sql_for_node, 2, vals));
}
