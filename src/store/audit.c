/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Reading the audit log (the rows are written by the statement that makes
 * each change, in the same transaction).
 */

#include "store/internal.h"

static const char *sql_list =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT id, at, actor_id,"
    " actor_sub, coalesce((SELECT nullif(u.name, '') FROM users u"
    " WHERE u.id = actor_id), nullif(actor_sub, '')) AS actor_name,"
    " action, object_type, object_id, detail, remote_addr"
    " FROM audit WHERE ($1::bigint = 0 OR id < $1::bigint)"
    " AND ($2::bigint IS NULL OR actor_id = $2::bigint)"
    " AND ($3 = '' OR action = $3)"
    " AND ($4 = '' OR object_type = $4)"
    " AND ($5::bigint IS NULL OR object_id = $5::bigint)"
    " AND ($6 = '' OR at >= $6::timestamptz)"
    " AND ($7 = '' OR at < $7::timestamptz)"
    " ORDER BY id DESC LIMIT $8::bigint + 1) x";

enum store_step
store_audit_list(struct store_q *q, struct http_request *req,
    const struct store_audit_filter *f)
{
	char	    cur[24], lim[24], a[24], o[24];
	const char *vals[8];

	vals[0] = STORE_NUM(cur, f->cursor);
	vals[1] = f->actor != 0 ? STORE_NUM(a, f->actor) : NULL;
	vals[2] = f->action;
	vals[3] = f->object_type;
	vals[4] = f->object != 0 ? STORE_NUM(o, f->object) : NULL;
	vals[5] = f->from;
	vals[6] = f->to;
	vals[7] = STORE_NUM(lim, f->limit);
	return (store_run(q, req, sql_list, 8, vals));
}
