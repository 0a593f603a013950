/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Statements about users: the principal of a sign-in (created on first
 * use, or only updated when provisioning is off) with its grants, and
 * the admin's list, read, create and update.  Every change inserts its
 * audit row in the same statement, so a rejected request changes nothing.
 */

#include "store/internal.h"

/* The principal's grants as auth_grants_parse() reads them. */
#define USER_GRANTS(uid) \
	"(SELECT coalesce(json_agg(" \
	"  json_build_array(g.id, g.node_id, g.task_id, g.level, t.node_id)" \
	"  ORDER BY g.id), '[]') FROM grants g LEFT JOIN tasks t" \
	"  ON t.id = g.task_id WHERE g.user_id = " uid ")::text"

static const char *sql_provision =
    "WITH u AS ("
    " INSERT INTO users (sub, name, email, role_admin, last_seen)"
    " VALUES ($1, $2, $3, $4::boolean, now())"
    " ON CONFLICT (sub) DO UPDATE SET"
    "  name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name"
    "   ELSE users.name END,"
    "  email = CASE WHEN EXCLUDED.email <> '' THEN EXCLUDED.email"
    "   ELSE users.email END,"
    "  role_admin = EXCLUDED.role_admin, last_seen = now()"
    " RETURNING id, admin, disabled, (xmax = 0) AS created),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr)"
    "  SELECT id, $1, 'user.provision', 'user', id,"
    "  jsonb_build_object('name', $2::text), $5 FROM u WHERE created)"
    " SELECT u.id, u.admin, u.disabled, " USER_GRANTS("u.id") " FROM u";

static const char *sql_signin =
    "UPDATE users SET"
    " name = CASE WHEN $2 <> '' THEN $2 ELSE name END,"
    " email = CASE WHEN $3 <> '' THEN $3 ELSE email END,"
    " role_admin = $4::boolean, last_seen = now()"
    " WHERE sub = $1 AND $5::text IS NOT NULL"
    " RETURNING id, admin, disabled, " USER_GRANTS("users.id");

#define USER_COLS \
	"id, sub, name, email, admin, role_admin, disabled, created_at, last_seen"

static const char *sql_list =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT " USER_COLS
    " FROM users WHERE id > $1::bigint AND ($2 = '' OR"
    " strpos(lower(sub), lower($2)) > 0 OR strpos(lower(name), lower($2)) > 0"
    " OR strpos(lower(email), lower($2)) > 0)"
    " AND (NOT $4::boolean OR last_seen IS NULL)"
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

static enum store_step signin(struct store_q *, struct http_request *,
    const char *, const struct auth_claims *, const char *);

static enum store_step
signin(struct store_q *q, struct http_request *req, const char *sql,
    const struct auth_claims *cl, const char *remote)
{
	const char *vals[5];

	vals[0] = cl->sub;
	vals[1] = cl->name;
	vals[2] = cl->email;
	vals[3] = STORE_BOOL(cl->admin);
	vals[4] = remote;
	return (store_run(q, req, sql, 5, vals));
}

enum store_step
store_user_provision(struct store_q *q, struct http_request *req,
    const struct auth_claims *cl, const char *remote)
{
	return (signin(q, req, sql_provision, cl, remote));
}

enum store_step
store_user_signin(struct store_q *q, struct http_request *req,
    const struct auth_claims *cl, const char *remote)
{
	return (signin(q, req, sql_signin, cl, remote));
}

enum store_step
store_users_list(struct store_q *q, struct http_request *req, int64_t cursor,
    int64_t limit, const char *text, int never)
{
	char	    cur[24], lim[24];
	const char *vals[4];

	vals[0] = STORE_NUM(cur, cursor);
	vals[1] = text;
	vals[2] = STORE_NUM(lim, limit);
	vals[3] = STORE_BOOL(never);
	return (store_run(q, req, sql_list, 4, vals));
}

enum store_step
store_user_get(struct store_q *q, struct http_request *req, int64_t user)
{
	char	    id[24];
	const char *vals[1];

	vals[0] = STORE_NUM(id, user);
	return (store_run(q, req, sql_get, 1, vals));
}

enum store_step
store_user_create(struct store_q *q, struct http_request *req, const char *sub,
    const char *name, const char *email, int admin, int64_t actor,
    const char *actor_sub, const char *remote)
{
	char	    uid[24];
	const char *vals[7];

	vals[0] = sub;
	vals[1] = name == NULL ? "" : name;
	vals[2] = email == NULL ? "" : email;
	vals[3] = STORE_BOOL(admin);
	vals[4] = STORE_NUM(uid, actor);
	vals[5] = actor_sub;
	vals[6] = remote;
	return (store_run(q, req, sql_create, 7, vals));
}

enum store_step
store_user_update(struct store_q *q, struct http_request *req, int64_t user,
    const struct store_user_change *ch, int64_t actor, const char *actor_sub,
    const char *remote)
{
	char	    id[24], uid[24];
	const char *vals[8];

	vals[0] = STORE_NUM(id, user);
	vals[1] = ch->admin < 0 ? NULL : STORE_BOOL(ch->admin);
	vals[2] = ch->disabled < 0 ? NULL : STORE_BOOL(ch->disabled);
	vals[3] = ch->name;
	vals[4] = ch->email;
	vals[5] = STORE_NUM(uid, actor);
	vals[6] = actor_sub;
	vals[7] = remote;
	return (store_run(q, req, sql_update, 8, vals));
}
