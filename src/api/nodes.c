/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Nodes and metrics: lists and reads answer only what the caller may view
 * (src/store/nodes.c); revoking a node is for admins.
 */

#include <stdint.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "api/api.h"

/* GET /api/v1/nodes */
enum nodes_state { NODES_BEGIN = 0, NODES_LIST };

static int nodes_begin(struct http_request *);
static int nodes_list(struct http_request *);

static struct http_state nodes_states[] = {
	KORE_HTTP_STATE(nodes_begin),
	KORE_HTTP_STATE(nodes_list),
};

/* GET /api/v1/nodes/ID (viewers), DELETE revokes it (admins). */
enum node_state {
	NODE_BEGIN = 0,
	NODE_ROUTE,
	NODE_GET,
	NODE_REVOKE,
	NODE_FORBID
};

static int node_begin(struct http_request *);
static int node_route(struct http_request *);
static int node_get(struct http_request *);
static int node_revoke(struct http_request *);
static int node_forbid(struct http_request *);

static struct http_state node_states[] = {
	KORE_HTTP_STATE(node_begin),
	KORE_HTTP_STATE(node_route),
	KORE_HTTP_STATE(node_get),
	KORE_HTTP_STATE(node_revoke),
	KORE_HTTP_STATE(node_forbid),
};

/* GET /api/v1/metrics?node=ID|task=ID&from=&to=&step= */
enum metrics_state { METRICS_BEGIN = 0, METRICS_READ };

static int metrics_begin(struct http_request *);
static int metrics_read(struct http_request *);

static struct http_state metrics_states[] = {
	KORE_HTTP_STATE(metrics_begin),
	KORE_HTTP_STATE(metrics_read),
};

int
api_nodes(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(nodes_states, API_NSTATES(nodes_states), req));
}

static int
nodes_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, NODES_LIST));
}

static int
nodes_list(struct http_request *req)
{
	struct api_ctx		*c = api_ctx_get(req);
	struct store_node_filter f;
	enum api_step		 s;
	char			 q[256], st[16];

	if (!api_qs_page(req, &f.limit, &f.cursor) ||
	    !api_qs_str(req, "q", 200, q, sizeof(q)) ||
	    !api_qs_str(req, "status", 10, st, sizeof(st)))
		return (HTTP_STATE_COMPLETE);
	f.q = q;
	f.status = st;
	s = api_store(req, c, store_nodes_list(c->q, req, &c->who, &f), NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_list(req, c, f.limit)));
}

/* The node of /api/v1/nodes/ID, checked by api_node() before any state. */
static int64_t
node_id(struct http_request *req)
{
	int64_t id;

	return (api_path_id(req, "/api/v1/nodes/", &id) ? id : 0);
}

int
api_node(struct http_request *req)
{
	int64_t nid;

	if (!api_path_id(req, "/api/v1/nodes/", &nid))
		return (api_not_found(req));
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_DELETE)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(node_states, API_NSTATES(node_states), req));
}

static int
node_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, NODE_ROUTE));
}

static int
node_route(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);

	if (req->method == HTTP_METHOD_GET) {
		req->fsm_state = NODE_GET;
		return (HTTP_STATE_CONTINUE);
	}
	req->fsm_state = c->who.admin ? NODE_REVOKE : NODE_FORBID;
	return (HTTP_STATE_CONTINUE);
}

/* Not an admin: a node the caller sees says 403, any other 404. */
static int
node_forbid(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;

	s = api_store(req, c, store_node_get(c->q, req, &c->who, node_id(req)),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) != 1) {
		api_db_clear(c);
		return (API_FIN(api_not_found(req)));
	}
	api_db_clear(c);
	return (API_FIN(api_error(req, 403, "forbidden",
	    "only administrators revoke nodes", NULL)));
}

static int
node_get(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;

	s = api_store(req, c, store_node_get(c->q, req, &c->who, node_id(req)),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}

static int
node_revoke(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;
	char		remote[64];

	api_remote_addr(req, remote, sizeof(remote));
	s = api_store(req, c,
	    store_node_revoke(c->q, req, node_id(req), c->who.user_id,
		c->claims.sub, remote),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) != 1) {
		api_db_clear(c);
		return (API_FIN(api_not_found(req)));
	}
	api_db_clear(c);
	api_nodes_changed(node_id(req));
	return (API_FIN(api_reply_empty(req, 204)));
}

int
api_metrics(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (
	    http_state_run(metrics_states, API_NSTATES(metrics_states), req));
}

static int
metrics_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, METRICS_READ));
}

static int
metrics_read(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;
	int64_t		node, task, step;
	char		from[40], to[40];

	if (!api_qs_int(req, "node", 1, INT64_MAX, 0, &node) ||
	    !api_qs_int(req, "task", 1, INT64_MAX, 0, &task) ||
	    !api_qs_int(req, "step", 0, 86400, 0, &step) ||
	    !api_qs_time(req, "from", from, sizeof(from)) ||
	    !api_qs_time(req, "to", to, sizeof(to)))
		return (HTTP_STATE_COMPLETE);
	if ((node == 0) == (task == 0))
		return (API_FIN(api_error(req, 400, "bad_request",
		    "one of node or task is required", "node")));
	s = api_store(req, c,
	    task != 0
		? store_metrics_task(c->q, req, &c->who, task, from, to, step)
		: store_metrics_node(c->q, req, &c->who, node, from, to, step),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}
