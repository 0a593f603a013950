/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Statements about log requests (a browser's read of a task's logs that
 * the node's agent answers in chunks): make one, and read what arrived.
 * Both need operate on the task (yard_level_row(),
 * migrations/006_levels.sql), manage for a "file" request (any file of
 * the task's tree, for the Configuration tab); a read also needs to be
 * the one who made the request.
 */

#include "store/internal.h"

/*
 * A new request, only for a task the caller may operate (reading logs
 * needs operate; viewers get 403) on an online node.
 */
static const char *sql_create =
    "WITH t AS (SELECT t.id, t.node_id, coalesce(n.revoked_at IS NULL AND"
    "  n.last_seen > now() - make_interval(secs => $8::integer), false)"
    "  AS online,"
    "  lv.level AS lvl FROM tasks t"
    "  JOIN nodes n ON n.id = t.node_id" STORE_TASK_LEVEL_JOIN
    "  WHERE t.id = $1::bigint),"
    " r AS (INSERT INTO log_requests (node_id, task_id, user_id, mode, file,"
    "  lines, q, wanted_until) SELECT node_id, id, $3::bigint, $4, $5,"
    "  $6::integer, $7, now() + interval '30 seconds' FROM t"
    "  WHERE online AND lvl >= greatest($9::integer, 2) RETURNING id)"
    " SELECT (SELECT online FROM t), (SELECT id FROM r)::text,"
    "  (SELECT node_id FROM t), (SELECT lvl FROM t)";

/*
 * What has arrived after chunk $4 (and when the newest of it did, epoch
 * ms, column 11; its stderr byte ranges, column 12); a follow poll ($5)
 * also keeps the
 * request wanted.  The caller must be the one who made it and still may
 * operate the task.  The keep-alive is a CTE the read does not use: an UPDATE
 * that waits for an agent's chunk would see that chunk's "done" (READ
 * COMMITTED re-reads the locked row) but not the chunk itself, which
 * the statement's snapshot predates; a plain read sees both or neither.
 */
static const char *sql_read =
    "WITH k AS (UPDATE log_requests SET wanted_until = now() +"
    "  interval '30 seconds' WHERE $5::boolean AND id = $6::uuid"
    "  AND mode = 'follow' AND user_id = $3::bigint)"
    " SELECT r.done, r.error, coalesce(r.files, '[]')::text, r.size,"
    "  r.matches, r.truncated, (SELECT coalesce(string_agg(data, '' ORDER BY"
    "  seq), '') FROM log_chunks WHERE request_id = r.id AND seq >"
    "  $4::integer), (SELECT max(seq) FROM log_chunks WHERE request_id ="
    "  r.id), r.mode, r.file, r.mode = 'follow' AND NOT r.done AND"
    "  coalesce(r.answered_at, r.created_at) < now() - interval '15 seconds',"
    "  (SELECT (extract(epoch FROM max(received_at)) * 1000)::bigint"
    "  FROM log_chunks WHERE request_id = r.id AND seq > $4::integer),"
    /* The chunks' stderr ranges, moved to where each chunk starts in the
     * text above (column 12, json). */
    "  (SELECT coalesce(jsonb_agg(jsonb_build_array((e->>0)::bigint + x.off,"
    "  (e->>1)::bigint + x.off) ORDER BY x.seq, e.n), '[]')::text FROM"
    "  (SELECT seq, stderr, sum(octet_length(data)) OVER (ORDER BY seq) -"
    "  octet_length(data) AS off FROM log_chunks WHERE request_id = r.id"
    "  AND seq > $4::integer) x, jsonb_array_elements(coalesce(x.stderr,"
    "  '[]')) WITH ORDINALITY AS e(e, n))"
    " FROM log_requests r JOIN tasks t ON t.id = r.task_id" STORE_TASK_LEVEL_JOIN
    " WHERE r.id = $6::uuid AND r.task_id = $1::bigint"
    "  AND r.user_id = $3::bigint AND lv.level >= CASE WHEN r.mode = 'file'"
    "  THEN 3 ELSE 2 END";

enum store_step
store_log_request_new(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const struct store_log_want *w)
{
	char	    tid[24], uid[24], ln[24], off[24], lv[24];
	const char *vals[9];

	vals[0] = STORE_NUM(tid, w->task);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = w->mode;
	vals[4] = w->file;
	vals[5] = STORE_NUM(ln, w->lines);
	vals[6] = w->q;
	vals[7] = STORE_NUM(off, store_cfg.node_offline_after);
	vals[8] = STORE_NUM(lv, w->level);
	return (store_run(q, req, sql_create, 9, vals));
}

enum store_step
store_log_request_read(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t task, const char *request,
    int64_t after, int follow_poll)
{
	char	    tid[24], uid[24], af[24];
	const char *vals[6];

	vals[0] = STORE_NUM(tid, task);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = STORE_NUM(af, after);
	vals[4] = STORE_BOOL(follow_poll);
	vals[5] = request;
	return (store_run(q, req, sql_read, 6, vals));
}
