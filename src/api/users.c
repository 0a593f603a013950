/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Users (admin): list, create (for YARD_AUTO_PROVISION=0), read, mark
 * admin or disabled.  Every change lands in the audit log in the same
 * statement, so a rejected request changes nothing.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "app.h"
#include "api/api.h"

#define USER_COLS \
	"id, sub, name, email, admin, role_admin, disabled, created_at, last_seen"

static const char *sql_list =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT " USER_COLS
    " FROM users WHERE id > $1::bigint AND ($2 = '' OR"
    " strpos(lower(sub), lower($2)) > 0 OR strpos(lower(name), lower($2)) > 0"
    " OR strpos(lower(email), lower($2)) > 0)"
    " ORDER BY id LIMIT $3::bigint + 1) x";

static const char *sql_create =
    "WITH u AS (INSERT INTO users (sub, name, email, admin, created_by)"
    " VALUES ($1, $2, $3, $4::boolean, $5::bigint) RETURNING *),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT $5::bigint, $6, 'user.create',"
    "  'user', id, jsonb_build_object('sub', sub, 'admin', admin), $7"
    "  FROM u)"
    " SELECT row_to_json(x)::text FROM (SELECT " USER_COLS " FROM u) x";

static const char *sql_get =
    "SELECT row_to_json(x)::text FROM (SELECT " USER_COLS
    " FROM users WHERE id = $1::bigint) x";

static const char *sql_update =
    "WITH u AS (UPDATE users SET"
    "  admin = coalesce($2::boolean, admin),"
    "  disabled = coalesce($3::boolean, disabled),"
    "  name = coalesce($4, name), email = coalesce($5, email)"
    " WHERE id = $1::bigint RETURNING *),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT $6::bigint, $7, 'user.update',"
    "  'user', id, jsonb_strip_nulls(jsonb_build_object('admin',"
    "  $2::boolean, 'disabled', $3::boolean, 'name', $4::text, 'email',"
    "  $5::text)), $8 FROM u)"
    " SELECT row_to_json(x)::text FROM (SELECT " USER_COLS " FROM u) x";

static int users_list(struct http_request *, struct api_ctx *);
static int users_create(struct http_request *, struct api_ctx *);

int
api_users(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;

	if (req->method == HTTP_METHOD_GET) {
		if ((s = api_begin(req, &c, API_NEED_ADMIN)) != API_GO)
			return (api_return(s));
		return (users_list(req, c));
	}
	if (req->method == HTTP_METHOD_POST) {
		if ((s = api_begin(req, &c, API_NEED_ADMIN | API_NEED_BODY)) !=
		    API_GO)
			return (api_return(s));
		return (users_create(req, c));
	}
	return (api_error(req, 405, "method_not_allowed", NULL, NULL));
}

static int
users_list(struct http_request *req, struct api_ctx *c)
{
	int64_t	      limit, cursor;
	char	      q[256], cur[32], lim[32];
	const char   *vals[3];
	enum api_step s;

	if (!api_qs_page(req, &limit, &cursor) ||
	    !api_qs_str(req, "q", 200, q, sizeof(q)))
		return (KORE_RESULT_OK);
	snprintf(cur, sizeof(cur), "%" PRId64, cursor);
	snprintf(lim, sizeof(lim), "%" PRId64, limit);
	vals[0] = cur;
	vals[1] = q;
	vals[2] = lim;
	if ((s = api_db(req, c, sql_list, 3, vals, NULL)) != API_GO)
		return (api_return(s));
	return (api_reply_list(req, c, limit));
}

static int
users_create(struct http_request *req, struct api_ctx *c)
{
	const char   *sub, *name, *email, *vals[7];
	char	      actor[32], remote[64];
	int	      has_admin, admin;
	enum api_step s;

	if (!api_body_str(req, c, "sub", 1, 255, &sub) ||
	    !api_body_str(req, c, "name", 0, 255, &name) ||
	    !api_body_str(req, c, "email", 0, 255, &email) ||
	    !api_body_bool(req, c, "admin", &has_admin, &admin))
		return (KORE_RESULT_OK);
	snprintf(actor, sizeof(actor), "%" PRId64, c->who.user_id);
	api_remote_addr(req, remote, sizeof(remote));
	vals[0] = sub;
	vals[1] = name == NULL ? "" : name;
	vals[2] = email == NULL ? "" : email;
	vals[3] = has_admin && admin ? "true" : "false";
	vals[4] = actor;
	vals[5] = c->claims.sub;
	vals[6] = remote;
	if ((s = api_db(req, c, sql_create, 7, vals, "exists")) != API_GO)
		return (api_return(s));
	return (api_reply_row(req, c, 201));
}

int
api_user(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;
	const char     *name, *email, *vals[8];
	char		id[32], actor[32], remote[64];
	int		has_admin, admin, has_dis, dis;
	int64_t		uid;

	if (!api_path_id(req, "/api/v1/users/", &uid))
		return (api_not_found(req));

	if (req->method == HTTP_METHOD_GET) {
		if ((s = api_begin(req, &c, API_NEED_ADMIN)) != API_GO)
			return (api_return(s));
		snprintf(id, sizeof(id), "%" PRId64, uid);
		vals[0] = id;
		if ((s = api_db(req, c, sql_get, 1, vals, NULL)) != API_GO)
			return (api_return(s));
		return (api_reply_row(req, c, 200));
	}
	if (req->method != HTTP_METHOD_PATCH)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));

	if ((s = api_begin(req, &c, API_NEED_ADMIN | API_NEED_BODY)) != API_GO)
		return (api_return(s));
	if (!api_body_bool(req, c, "admin", &has_admin, &admin) ||
	    !api_body_bool(req, c, "disabled", &has_dis, &dis) ||
	    !api_body_str(req, c, "name", 0, 255, &name) ||
	    !api_body_str(req, c, "email", 0, 255, &email))
		return (KORE_RESULT_OK);
	if (!has_admin && !has_dis && name == NULL && email == NULL)
		return (api_error(req, 400, "bad_request",
		    "nothing to change: give admin, disabled, name or email",
		    NULL));
	/* An admin cannot lock themselves out. */
	if (uid == c->who.user_id &&
	    ((has_admin && !admin) || (has_dis && dis)))
		return (api_error(req, 409, "self",
		    "you cannot remove your own admin right or disable "
		    "yourself",
		    has_admin ? "admin" : "disabled"));

	snprintf(id, sizeof(id), "%" PRId64, uid);
	snprintf(actor, sizeof(actor), "%" PRId64, c->who.user_id);
	api_remote_addr(req, remote, sizeof(remote));
	vals[0] = id;
	vals[1] = has_admin ? (admin ? "true" : "false") : NULL;
	vals[2] = has_dis ? (dis ? "true" : "false") : NULL;
	vals[3] = name;
	vals[4] = email;
	vals[5] = actor;
	vals[6] = c->claims.sub;
	vals[7] = remote;
	if ((s = api_db(req, c, sql_update, 8, vals, NULL)) != API_GO)
		return (api_return(s));
	if (api_rows(c) == 1)
		api_authz_changed(1);
	return (api_reply_row(req, c, 200));
}
