/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The command ledger (SPEC 7): issue a command, list and follow them.
 * Commands are rows in PostgreSQL (src/store/commands.c); a Redis publish
 * wakes whichever instance holds the node's long-poll.  Levels
 * (yard_level()): start, stop, restart and ping need operate, uninstall
 * needs manage; viewers of the target get 403, others 404.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "agentproto/agentproto.h"
#include "api/api.h"

/* A request's own state (api_flow()). */
struct command_flow {
	struct store_command_issue ci; /* type: in c->body; payload: own */
	char			  *payload; /* json_dumps: free() */
	char			   remote[64];
};

/* GET /api/v1/commands lists, POST issues a node or a task command. */
enum commands_state {
	COMMANDS_BEGIN = 0,
	COMMANDS_ROUTE,
	COMMANDS_LIST,
	COMMANDS_NODE, /* issue a node command */
	COMMANDS_TASK /* issue a task command */
};

static int commands_begin(struct http_request *);
static int commands_route(struct http_request *);
static int commands_list(struct http_request *);
static int commands_node(struct http_request *);
static int commands_task(struct http_request *);

static struct http_state commands_states[] = {
	KORE_HTTP_STATE(commands_begin),
	KORE_HTTP_STATE(commands_route),
	KORE_HTTP_STATE(commands_list),
	KORE_HTTP_STATE(commands_node),
	KORE_HTTP_STATE(commands_task),
};

/* GET /api/v1/commands/UUID */
enum command_state { COMMAND_BEGIN = 0, COMMAND_GET };

static int command_begin(struct http_request *);
static int command_get(struct http_request *);

static struct http_state command_states[] = {
	KORE_HTTP_STATE(command_begin),
	KORE_HTTP_STATE(command_get),
};

static struct command_flow *flow_get(struct api_ctx *);
static void		    flow_free(void *);

static struct command_flow *
flow_get(struct api_ctx *c)
{
	return (api_flow(c, sizeof(struct command_flow), flow_free));
}

static void
flow_free(void *p)
{
	struct command_flow *f = p;

	free(f->payload);
	f->payload = NULL;
}

int
api_commands(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (
	    http_state_run(commands_states, API_NSTATES(commands_states), req));
}

static int
commands_begin(struct http_request *req)
{
	return (api_state_begin(req,
	    req->method == HTTP_METHOD_POST ? API_NEED_BODY : 0,
	    COMMANDS_ROUTE));
}

/* POST {"type", "node_id" | "task_id", "payload"}: decode and check. */
static int
commands_route(struct http_request *req)
{
	struct api_ctx			*c = api_ctx_get(req);
	struct command_flow		*f;
	const struct agentproto_cmd_def *def;
	int				 has_node, has_task;
	int64_t				 node, task;
	json_t				*pl;
	char				 msg[160], names[96];

	if (req->method == HTTP_METHOD_GET) {
		req->fsm_state = COMMANDS_LIST;
		return (HTTP_STATE_CONTINUE);
	}
	f = flow_get(c);
	if (!api_body_str(req, c, "type", 1, 32, &f->ci.type) ||
	    !api_body_id(req, c, "node_id", &has_node, &node) ||
	    !api_body_id(req, c, "task_id", &has_task, &task))
		return (HTTP_STATE_COMPLETE);
	api_remote_addr(req, f->remote, sizeof(f->remote));
	f->ci.actor_sub = c->claims.sub;
	f->ci.remote = f->remote;
	/* The one list of command types (src/agentproto/commands.c). */
	if ((def = agentproto_command_find(f->ci.type)) == NULL) {
		(void)agentproto_command_names(names, sizeof(names));
		(void)snprintf(msg, sizeof(msg), "type must be one of: %s",
		    names);
		return (
		    API_FIN(api_error(req, 400, "bad_request", msg, "type")));
	}
	/* Uninstall decides what runs: manage; the others operate. */
	f->ci.need = def->manage ? AUTH_LEVEL_MANAGE : AUTH_LEVEL_OPERATE;
	if (def->target == AGENTPROTO_TARGET_TASK) {
		if (!has_task)
			return (API_FIN(api_error(req, 400, "bad_request",
			    "task commands need task_id", "task_id")));
		if (has_node)
			return (API_FIN(api_error(req, 400, "bad_request",
			    "give task_id only: the task names its node",
			    "node_id")));
		f->ci.id = task;
		req->fsm_state = COMMANDS_TASK;
		return (HTTP_STATE_CONTINUE);
	}
	if (has_task) {
		(void)snprintf(msg, sizeof(msg),
		    "%s targets a node: give node_id", def->name);
		return (API_FIN(
		    api_error(req, 400, "bad_request", msg, "task_id")));
	}
	if (!has_node)
		return (API_FIN(api_error(req, 400, "bad_request",
		    "node_id is required", "node_id")));
	pl = json_object_get(c->body, "payload");
	if (pl != NULL && !json_is_object(pl))
		return (API_FIN(api_error(req, 400, "bad_request",
		    "payload must be an object", "payload")));
	f->payload = pl != NULL ? json_dumps(pl, JSON_COMPACT) : strdup("{}");
	if (f->payload == NULL)
		return (API_FIN(api_error(req, 500, "internal", NULL, NULL)));
	f->ci.id = node;
	f->ci.payload = f->payload;
	req->fsm_state = COMMANDS_NODE;
	return (HTTP_STATE_CONTINUE);
}

static int
commands_node(struct http_request *req)
{
	struct api_ctx	    *c = api_ctx_get(req);
	struct command_flow *f = flow_get(c);
	enum api_step	     s;
	json_t		    *j;

	s = api_store(req, c,
	    store_command_issue_node(c->q, req, &c->who, &f->ci), NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) != 1 || !store_val_bool(c->q, 0, 0)) {
		api_db_clear(c);
		return (API_FIN(api_not_found(req)));
	}
	if (api_val_int(c, 0, 1) < AUTH_LEVEL_OPERATE) {
		api_db_clear(c);
		return (API_FIN(api_error(req, 403, "forbidden",
		    "you may view this node but not operate it: ping needs "
		    "operate on the node",
		    NULL)));
	}
	if (store_val_bool(c->q, 0, 2)) {
		api_db_clear(c);
		return (API_FIN(api_error(req, 409, "node_revoked",
		    "this node has been revoked", "node_id")));
	}
	api_node_wake(f->ci.id);
	/* The shared reply: its security headers with the command. */
	j = api_val_json(c, 0, 3);
	api_db_clear(c);
	return (API_FIN(api_reply_json(req, 201, j)));
}

static int
commands_task(struct http_request *req)
{
	struct api_ctx	    *c = api_ctx_get(req);
	struct command_flow *f = flow_get(c);
	enum api_step	     s;
	enum auth_level	     lvl, want;
	const char	    *busy;
	char		     msg[128];

	s = api_store(req, c,
	    store_command_issue_task(c->q, req, &c->who, &f->ci),
	    "command_in_progress");
	if (s != API_GO)
		return (api_state(s));
	want = (enum auth_level)f->ci.need;
	lvl = api_rows(c) == 1 ? (enum auth_level)api_val_int(c, 0, 0)
			       : AUTH_LEVEL_NONE;
	busy = api_val(c, 0, 4);
	if (lvl == AUTH_LEVEL_NONE)
		(void)api_error(req, 404, "not_found", "no such task",
		    "task_id");
	else if (lvl < want) {
		(void)snprintf(msg, sizeof(msg),
		    "you may %s this task but not %s it: %s needs %s",
		    auth_level_str(lvl), auth_level_str(want), f->ci.type,
		    auth_level_str(want));
		(void)api_error(req, 403, "forbidden", msg, NULL);
	} else if (store_val_bool(c->q, 0, 1))
		(void)api_error(req, 409, "node_revoked",
		    "the task's node has been revoked", "task_id");
	else if (api_val(c, 0, 2) == NULL)
		(void)api_error(req, 409, "command_in_progress",
		    busy != NULL ? busy : "another command is in progress",
		    "task_id");
	else {
		api_node_wake(api_val_int(c, 0, 3));
		(void)api_reply_json(req, 201, api_val_json(c, 0, 2));
	}
	api_db_clear(c);
	return (HTTP_STATE_COMPLETE);
}

static int
commands_list(struct http_request *req)
{
	struct api_ctx		   *c = api_ctx_get(req);
	struct store_command_filter cf;
	enum api_step		    s;
	char			    state[16], from[40], to[40];

	if (!api_qs_page(req, &cf.limit, &cf.cursor) ||
	    !api_qs_int(req, "node_id", 1, INT64_MAX, 0, &cf.node) ||
	    !api_qs_int(req, "task_id", 1, INT64_MAX, 0, &cf.task) ||
	    !api_qs_int(req, "user_id", 1, INT64_MAX, 0, &cf.user) ||
	    !api_qs_str(req, "state", 12, state, sizeof(state)) ||
	    !api_qs_time(req, "from", from, sizeof(from)) ||
	    !api_qs_time(req, "to", to, sizeof(to)))
		return (HTTP_STATE_COMPLETE);
	cf.state = state;
	cf.from = from;
	cf.to = to;
	s = api_store(req, c, store_commands_list(c->q, req, &c->who, &cf),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_list(req, c, cf.limit)));
}

int
api_command(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	if (!agentproto_uuid_valid(req->path + strlen("/api/v1/commands/")))
		return (api_not_found(req));
	return (
	    http_state_run(command_states, API_NSTATES(command_states), req));
}

static int
command_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, COMMAND_GET));
}

static int
command_get(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;

	s = api_store(req, c,
	    store_command_get(c->q, req, &c->who,
		req->path + strlen("/api/v1/commands/")),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}
