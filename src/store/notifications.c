/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The inbox: a user's own notifications (written by the packages trigger
 * of migrations/010_notifications.sql), newest first, and their read
 * marks.  Every statement is about the caller's own rows only.
 */

#include "store/internal.h"

static const char *sql_list =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT id, kind, package_id,"
    " task_id, node_id, alert_event_id, title, created_at,"
    " read_at IS NOT NULL AS read"
    " FROM notifications WHERE user_id = $1::bigint"
    " AND ($2::bigint = 0 OR id < $2::bigint)"
    " ORDER BY id DESC LIMIT $3::bigint + 1) x";

static const char *sql_unread =
    "SELECT json_build_object('unread', count(*))::text FROM notifications"
    " WHERE user_id = $1::bigint AND read_at IS NULL";

static const char *sql_read =
    "UPDATE notifications SET read_at = coalesce(read_at, now())"
    " WHERE id = $2::bigint AND user_id = $1::bigint RETURNING id";

static const char *sql_read_all =
    "WITH u AS (UPDATE notifications SET read_at = now()"
    " WHERE user_id = $1::bigint AND read_at IS NULL RETURNING id)"
    " SELECT json_build_object('marked', count(*))::text FROM u";

/* Deliveries for admins: the outbox, newest first. */
static const char *sql_deliveries =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT id, channel, kind,"
    " idem_key, recipient, state, attempts, next_at, last_error,"
    " created_at, sent_at FROM outbox"
    " WHERE ($1::bigint = 0 OR id < $1::bigint) AND ($3 = '' OR state = $3)"
    " ORDER BY id DESC LIMIT $2::bigint + 1) x";

enum store_step
store_notifications_list(struct store_q *q, struct http_request *req,
    int64_t user, int64_t cursor, int64_t limit)
{
	const char *vals[3];
	char	    u[24], c[24], l[24];

	vals[0] = STORE_NUM(u, user);
	vals[1] = STORE_NUM(c, cursor);
	vals[2] = STORE_NUM(l, limit);
	return (store_run(q, req, sql_list, 3, vals));
}

enum store_step
store_notifications_unread(struct store_q *q, struct http_request *req,
    int64_t user)
{
	const char *vals[1];
	char	    u[24];

	vals[0] = STORE_NUM(u, user);
	return (store_run(q, req, sql_unread, 1, vals));
}

enum store_step
store_notification_read(struct store_q *q, struct http_request *req,
    int64_t user, int64_t id)
{
	const char *vals[2];
	char	    u[24], n[24];

	vals[0] = STORE_NUM(u, user);
	vals[1] = STORE_NUM(n, id);
	return (store_run(q, req, sql_read, 2, vals));
}

enum store_step
store_notifications_read_all(struct store_q *q, struct http_request *req,
    int64_t user)
{
	const char *vals[1];
	char	    u[24];

	vals[0] = STORE_NUM(u, user);
	return (store_run(q, req, sql_read_all, 1, vals));
}

enum store_step
store_deliveries_list(struct store_q *q, struct http_request *req,
    int64_t cursor, int64_t limit, const char *state)
{
	const char *vals[3];
	char	    c[24], l[24];

	vals[0] = STORE_NUM(c, cursor);
	vals[1] = STORE_NUM(l, limit);
	vals[2] = state;
	return (store_run(q, req, sql_deliveries, 3, vals));
}
