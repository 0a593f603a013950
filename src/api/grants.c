/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Grants (admin): a user may view, operate or manage one node (and all
 * its tasks) or one task; each level implies the ones before it.
 * Granting again on the same target changes the level.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "app.h"
#include "api/api.h"

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

static const char *sql_delete =
    "WITH d AS (DELETE FROM grants WHERE id = $1::bigint RETURNING *),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT $2::bigint, $3, 'grant.delete',"
    "  'grant', id, jsonb_strip_nulls(jsonb_build_object('user_id',"
    "  user_id, 'node_id', node_id, 'task_id', task_id, 'level', level)),"
    "  $4 FROM d)"
    " SELECT id FROM d";

static int grants_list(struct http_request *, struct api_ctx *);
static int grants_create(struct http_request *, struct api_ctx *);

int
api_grants(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;

	if (req->method == HTTP_METHOD_GET) {
		if ((s = api_begin(req, &c, API_NEED_ADMIN)) != API_GO)
			return (api_return(s));
		return (grants_list(req, c));
	}
	if (req->method == HTTP_METHOD_POST) {
		if ((s = api_begin(req, &c, API_NEED_ADMIN | API_NEED_BODY)) !=
		    API_GO)
			return (api_return(s));
		return (grants_create(req, c));
	}
	return (api_error(req, 405, "method_not_allowed", NULL, NULL));
}

static int
grants_list(struct http_request *req, struct api_ctx *c)
{
	int64_t	      limit, cursor, uid, nid, tid;
	char	      cur[32], lim[32], u[32], n[32], t[32];
	const char   *vals[5];
	enum api_step s;

	if (!api_qs_page(req, &limit, &cursor) ||
	    !api_qs_int(req, "user_id", 1, INT64_MAX, 0, &uid) ||
	    !api_qs_int(req, "node_id", 1, INT64_MAX, 0, &nid) ||
	    !api_qs_int(req, "task_id", 1, INT64_MAX, 0, &tid))
		return (KORE_RESULT_OK);
	snprintf(cur, sizeof(cur), "%" PRId64, cursor);
	snprintf(lim, sizeof(lim), "%" PRId64, limit);
	snprintf(u, sizeof(u), "%" PRId64, uid);
	snprintf(n, sizeof(n), "%" PRId64, nid);
	snprintf(t, sizeof(t), "%" PRId64, tid);
	vals[0] = cur;
	vals[1] = uid ? u : NULL;
	vals[2] = nid ? n : NULL;
	vals[3] = tid ? t : NULL;
	vals[4] = lim;
	if ((s = api_db(req, c, sql_list, 5, vals, NULL)) != API_GO)
		return (api_return(s));
	return (api_reply_list(req, c, limit));
}

static int
grants_create(struct http_request *req, struct api_ctx *c)
{
	const char   *level, *vals[6];
	char	      u[32], target[32], actor[32], remote[64];
	int	      has_user, has_node, has_task, created;
	int64_t	      uid, nid, tid;
	enum api_step s;

	if (!api_body_id(req, c, "user_id", &has_user, &uid) ||
	    !api_body_id(req, c, "node_id", &has_node, &nid) ||
	    !api_body_id(req, c, "task_id", &has_task, &tid) ||
	    !api_body_str(req, c, "level", 1, 16, &level))
		return (KORE_RESULT_OK);
	if (!has_user)
		return (api_error(req, 400, "bad_request",
		    "user_id is required", "user_id"));
	if (has_node == has_task)
		return (api_error(req, 400, "bad_request",
		    "give exactly one of node_id and task_id",
		    has_node ? "task_id" : "node_id"));
	if (auth_level_parse(level) == AUTH_LEVEL_NONE)
		return (api_error(req, 400, "bad_request",
		    "level must be view, operate or manage", "level"));

	snprintf(u, sizeof(u), "%" PRId64, uid);
	snprintf(target, sizeof(target), "%" PRId64, has_node ? nid : tid);
	snprintf(actor, sizeof(actor), "%" PRId64, c->who.user_id);
	api_remote_addr(req, remote, sizeof(remote));
	vals[0] = u;
	vals[1] = target;
	vals[2] = level;
	vals[3] = actor;
	vals[4] = c->claims.sub;
	vals[5] = remote;
	if ((s = api_db(req, c, has_node ? sql_upsert_node : sql_upsert_task, 6,
		 vals, NULL)) != API_GO)
		return (api_return(s));
	created = api_rows(c) == 1 && api_val(c, 0, 1) != NULL &&
	    strcmp(api_val(c, 0, 1), "t") == 0;
	api_authz_changed(1);
	return (api_reply_row(req, c, created ? 201 : 200));
}

int
api_grant(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;
	const char     *vals[4];
	char		id[32], actor[32], remote[64];
	int64_t		gid;

	if (!api_path_id(req, "/api/v1/grants/", &gid))
		return (api_not_found(req));
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_DELETE)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	if ((s = api_begin(req, &c, API_NEED_ADMIN)) != API_GO)
		return (api_return(s));

	snprintf(id, sizeof(id), "%" PRId64, gid);
	vals[0] = id;
	if (req->method == HTTP_METHOD_GET) {
		if ((s = api_db(req, c, sql_get, 1, vals, NULL)) != API_GO)
			return (api_return(s));
		return (api_reply_row(req, c, 200));
	}

	snprintf(actor, sizeof(actor), "%" PRId64, c->who.user_id);
	api_remote_addr(req, remote, sizeof(remote));
	vals[1] = actor;
	vals[2] = c->claims.sub;
	vals[3] = remote;
	if ((s = api_db(req, c, sql_delete, 4, vals, NULL)) != API_GO)
		return (api_return(s));
	if (api_rows(c) != 1) {
		api_db_clear(c);
		return (api_not_found(req));
	}
	api_db_clear(c);
	api_authz_changed(1);
	return (api_reply_empty(req, 204));
}
