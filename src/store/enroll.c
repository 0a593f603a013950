/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Statements about the enrolment tokens admins make: one-time, valid for
 * 24 hours, stored only as their SHA-256.  (The agent's use of a token is
 * the agent's statements.)
 */

#include "store/internal.h"

static const char *sql_create =
    "WITH e AS (INSERT INTO enrollments (token_hash, created_by, expires_at)"
    " VALUES (decode($1, 'hex'), $2::bigint, now() + interval '24 hours')"
    " RETURNING id, created_at, expires_at),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT $2::bigint, $3,"
    "  'enrollment.create', 'enrollment', id, '{}', $4 FROM e)"
    " SELECT id, to_json(created_at) #>> '{}',"
    " to_json(expires_at) #>> '{}' FROM e";

static const char *sql_list =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT e.id, e.created_at,"
    " e.expires_at, e.used_at, e.node_id, u.sub AS created_by_sub,"
    " coalesce(nullif(u.name, ''), u.sub) AS created_by_name,"
    " (e.used_at IS NULL AND e.expires_at > now()) AS usable"
    " FROM enrollments e LEFT JOIN users u ON u.id = e.created_by"
    " WHERE e.id > $1::bigint ORDER BY e.id LIMIT $2::bigint + 1) x";

enum store_step
store_enrollments_list(struct store_q *q, struct http_request *req,
    int64_t cursor, int64_t limit)
{
	char	    cur[24], lim[24];
	const char *vals[2];

	vals[0] = STORE_NUM(cur, cursor);
	vals[1] = STORE_NUM(lim, limit);
	return (store_run(q, req, sql_list, 2, vals));
}

enum store_step
store_enrollment_create(struct store_q *q, struct http_request *req,
    const char *token_sha256_hex, int64_t actor, const char *actor_sub,
    const char *remote)
{
	char	    uid[24];
	const char *vals[4];

	vals[0] = token_sha256_hex;
	vals[1] = STORE_NUM(uid, actor);
	vals[2] = actor_sub;
	vals[3] = remote;
	return (store_run(q, req, sql_create, 4, vals));
}
