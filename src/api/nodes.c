/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Node and task lists, answering only what the caller may view (SPEC 4):
 * admins see everything; a node grant shows the node and all its tasks; a
 * task grant shows that task and, so that it can be placed, its node.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "app.h"
#include "api/api.h"

static const char *sql_nodes =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT n.id, n.name,"
    " n.hostname, n.status, n.created_at FROM nodes n"
    " WHERE n.id > $1::bigint AND ($2::boolean OR EXISTS (SELECT 1"
    "  FROM grants g LEFT JOIN tasks t ON t.id = g.task_id"
    "  WHERE g.user_id = $3::bigint AND (g.node_id = n.id OR"
    "  t.node_id = n.id)))"
    " AND ($4 = '' OR strpos(lower(n.name), lower($4)) > 0"
    "  OR strpos(lower(n.hostname), lower($4)) > 0)"
    " ORDER BY n.id LIMIT $5::bigint + 1) x";

static const char *sql_tasks =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT t.id, t.node_id,"
    " n.name AS node_name, t.name, t.kind, t.created_at FROM tasks t"
    " JOIN nodes n ON n.id = t.node_id"
    " WHERE t.id > $1::bigint AND ($2::boolean OR EXISTS (SELECT 1"
    "  FROM grants g WHERE g.user_id = $3::bigint AND"
    "  (g.node_id = t.node_id OR g.task_id = t.id)))"
    " AND ($4 = '' OR strpos(lower(t.name), lower($4)) > 0)"
    " AND ($5::bigint IS NULL OR t.node_id = $5::bigint)"
    " ORDER BY t.id LIMIT $6::bigint + 1) x";

int
api_nodes(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;
	int64_t		limit, cursor;
	char		cur[32], lim[32], uid[32], q[256];
	const char     *vals[5];

	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	if ((s = api_begin(req, &c, 0)) != API_GO)
		return (api_return(s));
	if (!api_qs_page(req, &limit, &cursor) ||
	    !api_qs_str(req, "q", 200, q, sizeof(q)))
		return (KORE_RESULT_OK);
	snprintf(cur, sizeof(cur), "%" PRId64, cursor);
	snprintf(lim, sizeof(lim), "%" PRId64, limit);
	snprintf(uid, sizeof(uid), "%" PRId64, c->who.user_id);
	vals[0] = cur;
	vals[1] = c->who.admin ? "true" : "false";
	vals[2] = uid;
	vals[3] = q;
	vals[4] = lim;
	if ((s = api_db(req, c, sql_nodes, 5, vals, NULL)) != API_GO)
		return (api_return(s));
	return (api_reply_list(req, c, limit));
}

int
api_tasks(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;
	int64_t		limit, cursor, node;
	char		cur[32], lim[32], uid[32], nid[32], q[256];
	const char     *vals[6];

	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	if ((s = api_begin(req, &c, 0)) != API_GO)
		return (api_return(s));
	if (!api_qs_page(req, &limit, &cursor) ||
	    !api_qs_str(req, "q", 200, q, sizeof(q)) ||
	    !api_qs_int(req, "node_id", 1, INT64_MAX, 0, &node))
		return (KORE_RESULT_OK);
	snprintf(cur, sizeof(cur), "%" PRId64, cursor);
	snprintf(lim, sizeof(lim), "%" PRId64, limit);
	snprintf(uid, sizeof(uid), "%" PRId64, c->who.user_id);
	snprintf(nid, sizeof(nid), "%" PRId64, node);
	vals[0] = cur;
	vals[1] = c->who.admin ? "true" : "false";
	vals[2] = uid;
	vals[3] = q;
	vals[4] = node ? nid : NULL;
	vals[5] = lim;
	if ((s = api_db(req, c, sql_tasks, 6, vals, NULL)) != API_GO)
		return (api_return(s));
	return (api_reply_list(req, c, limit));
}
