/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The command ledger (SPEC 7): issue a command, list and follow them.
 * Commands are rows in PostgreSQL (src/store/commands.c); a Redis publish
 * wakes whichever instance holds the node's long-poll.  Levels
 * (yard_level()): start, stop, restart and ping need operate; uninstall
 * and the release commands (deploy, update, rollback, move) need manage;
 * viewers of the target get 403, others 404.  A release command's body is
 * checked in full before anything is written and its payload is built by
 * the server (docs/api.md, "Commands"); a move's new deploy_dir is judged
 * as the task's spec would be, against its node's OS and policy roots.
 * apply-config (manage) takes "restart" and needs a configuration; the
 * configuration a command carries is answered masked (store/commands.c).
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "agentproto/agentproto.h"
#include "api/api.h"

#define DEPLOY_DIR_MAX 1024

/* A request's own state (api_flow()). */
struct command_flow {
	struct store_command_issue ci; /* type: in c->body; payload: own */
	char			  *payload; /* json_dumps: free() */
	char			   remote[64];
	const char		  *deploy_dir; /* move: in c->body */
};

/* GET /api/v1/commands lists, POST issues a node or a task command. */
enum commands_state {
	COMMANDS_BEGIN = 0,
	COMMANDS_ROUTE,
	COMMANDS_LIST,
	COMMANDS_NODE, /* issue a node command */
	COMMANDS_MOVE, /* a move's deploy_dir against the task's node */
	COMMANDS_TASK /* issue a task command */
};

static int commands_begin(struct http_request *);
static int commands_route(struct http_request *);
static int commands_list(struct http_request *);
static int commands_node(struct http_request *);
static int commands_move(struct http_request *);
static int commands_task(struct http_request *);

static struct http_state commands_states[] = {
	KORE_HTTP_STATE(commands_begin),
	KORE_HTTP_STATE(commands_route),
	KORE_HTTP_STATE(commands_list),
	KORE_HTTP_STATE(commands_node),
	KORE_HTTP_STATE(commands_move),
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
static int release_body(struct http_request *, struct api_ctx *,
    const struct agentproto_cmd_def *, struct command_flow *);
static int apply_config_body(struct http_request *, struct api_ctx *,
    struct command_flow *);
static int move_dir_check(struct http_request *, struct api_ctx *,
    struct command_flow *);
static int dir_same_or_inside(const char *, const char *, int);

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
		f->ci.release = agentproto_command_is_release(def->kind);
		if (f->ci.release && !release_body(req, c, def, f))
			return (HTTP_STATE_COMPLETE);
		if (def->kind == AGENTPROTO_CMD_APPLY_CONFIG &&
		    !apply_config_body(req, c, f))
			return (HTTP_STATE_COMPLETE);
		req->fsm_state = def->kind == AGENTPROTO_CMD_MOVE
		    ? COMMANDS_MOVE
		    : COMMANDS_TASK;
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

/*
 * A release command's body, every member checked before anything is
 * written (a 400 naming the member otherwise): deploy {package_id,
 * adopt?}, update {package_id, clean?}, rollback {release?}, move
 * {deploy_dir}, besides type and task_id; any other member is refused.
 * Fills f->ci.package and f->payload (the payload's own members).
 */
static int
release_body(struct http_request *req, struct api_ctx *c,
    const struct agentproto_cmd_def *def, struct command_flow *f)
{
	const char *key, *flag;
	json_t	   *v, *extra;
	char	    msg[160];
	int	    has, on;

	flag = def->kind == AGENTPROTO_CMD_DEPLOY  ? "adopt"
	    : def->kind == AGENTPROTO_CMD_UPDATE   ? "clean"
	    : def->kind == AGENTPROTO_CMD_ROLLBACK ? "release"
						   : "deploy_dir";
	json_object_foreach(c->body, key, v)
	{
		if (strcmp(key, "type") == 0 || strcmp(key, "task_id") == 0 ||
		    strcmp(key, flag) == 0 ||
		    (strcmp(key, "package_id") == 0 &&
			(def->kind == AGENTPROTO_CMD_DEPLOY ||
			    def->kind == AGENTPROTO_CMD_UPDATE)))
			continue;
		(void)snprintf(msg, sizeof(msg), "%s takes no member %.64s",
		    def->name, key);
		api_error(req, 400, "bad_request", msg, key);
		return (0);
	}
	if ((extra = json_object()) == NULL) {
		api_error(req, 500, "internal", "out of memory", NULL);
		return (0);
	}
	switch (def->kind) {
	case AGENTPROTO_CMD_DEPLOY:
	case AGENTPROTO_CMD_UPDATE:
		if (!api_body_id(req, c, "package_id", &has, &f->ci.package))
			goto fail;
		if (!has) {
			api_error(req, 400, "bad_request",
			    "package_id is required", "package_id");
			goto fail;
		}
		on = 0;
		if (!api_body_bool(req, c, flag, &has, &on))
			goto fail;
		(void)json_object_set_new(extra, flag, json_boolean(on));
		break;
	case AGENTPROTO_CMD_ROLLBACK:
		v = json_object_get(c->body, "release");
		if (v != NULL && !json_is_null(v)) {
			if (!json_is_integer(v) || json_integer_value(v) < 0) {
				api_error(req, 400, "bad_request",
				    "release must be an integer >= 0 (absent: "
				    "the last good release other than the live "
				    "one)",
				    "release");
				goto fail;
			}
			(void)json_object_set_new(extra, "release",
			    json_integer(json_integer_value(v)));
		}
		break;
	default: /* move */
		if (!api_body_str(req, c, "deploy_dir", 1, DEPLOY_DIR_MAX,
			&f->deploy_dir))
			goto fail;
		(void)json_object_set_new(extra, "deploy_dir",
		    json_string(f->deploy_dir));
		break;
	}
	free(f->payload);
	f->payload = json_dumps(extra, JSON_COMPACT);
	json_decref(extra);
	if (f->payload == NULL) {
		api_error(req, 500, "internal", "out of memory", NULL);
		return (0);
	}
	f->ci.payload = f->payload;
	return (1);
fail:
	json_decref(extra);
	return (0);
}

/* apply-config {"restart"?: bool}, besides type and task_id: any other
 * member is a 400 naming it.  Fills f->payload ({"restart": bool}). */
static int
apply_config_body(struct http_request *req, struct api_ctx *c,
    struct command_flow *f)
{
	const char *key;
	json_t	   *v;
	char	    msg[160];
	int	    has, on;

	json_object_foreach(c->body, key, v)
	{
		if (strcmp(key, "type") == 0 || strcmp(key, "task_id") == 0 ||
		    strcmp(key, "restart") == 0)
			continue;
		(void)snprintf(msg, sizeof(msg),
		    "apply-config takes no member %.64s (only restart)", key);
		api_error(req, 400, "bad_request", msg, key);
		return (0);
	}
	on = 0;
	if (!api_body_bool(req, c, "restart", &has, &on))
		return (0);
	free(f->payload);
	f->payload = strdup(on ? "{\"restart\":true}" : "{\"restart\":false}");
	if (f->payload == NULL) {
		api_error(req, 500, "internal", "out of memory", NULL);
		return (0);
	}
	f->ci.payload = f->payload;
	return (1);
}

/* A move: the caller's level on the task, then the new deploy_dir as the
 * task's node judges a spec's (its OS, its policy roots), and neither the
 * current one nor inside it or around it. */
static int
commands_move(struct http_request *req)
{
	struct api_ctx	    *c = api_ctx_get(req);
	struct command_flow *f = flow_get(c);
	enum api_step	     s;
	enum auth_level	     lvl;
	char		     msg[128];
	int		     ok;

	s = api_store(req, c,
	    store_command_move_check(c->q, req, &c->who, f->ci.id), NULL);
	if (s != API_GO)
		return (api_state(s));
	lvl = api_rows(c) == 1 ? (enum auth_level)api_val_int(c, 0, 0)
			       : AUTH_LEVEL_NONE;
	ok = 0;
	if (lvl == AUTH_LEVEL_NONE)
		(void)api_error(req, 404, "not_found", "no such task",
		    "task_id");
	else if (lvl < AUTH_LEVEL_MANAGE) {
		(void)snprintf(msg, sizeof(msg),
		    "you may %s this task but not manage it: move needs "
		    "manage",
		    auth_level_str(lvl));
		(void)api_error(req, 403, "forbidden", msg, NULL);
	} else if (store_val_bool(c->q, 0, 1))
		(void)api_error(req, 409, "node_revoked",
		    "the task's node has been revoked", "task_id");
	else
		ok = move_dir_check(req, c, f);
	api_db_clear(c);
	if (!ok)
		return (HTTP_STATE_COMPLETE);
	req->fsm_state = COMMANDS_TASK;
	return (HTTP_STATE_CONTINUE);
}

/*
 * f->deploy_dir for the task whose move check is row 0 of c's result
 * (2 roots, 3 OS family, 4 spec): the spec with it as deploy_dir must
 * pass as a spec does, it must lie under the node's roots (when it
 * reports them) and differ from the current one.  0 with a 400 naming
 * deploy_dir sent otherwise.
 */
static int
move_dir_check(struct http_request *req, struct api_ctx *c,
    struct command_flow *f)
{
	struct agentproto_err err;
	const char	     *roots, *os, *cur;
	json_t		     *spec, *norm;
	char		      msg[1280], list[768];
	int		      win, in;

	roots = api_val(c, 0, 2);
	os = api_val(c, 0, 3);
	if (!agentproto_os_family_valid(os))
		os = "linux";
	win = strcmp(os, "windows") == 0;
	if ((spec = api_val_json(c, 0, 4)) == NULL || !json_is_object(spec)) {
		json_decref(spec);
		api_error(req, 500, "internal", "the task has no spec", NULL);
		return (0);
	}
	cur = json_string_value(json_object_get(spec, "deploy_dir"));
	if (cur != NULL && dir_same_or_inside(f->deploy_dir, cur, win)) {
		(void)snprintf(msg, sizeof(msg),
		    "deploy_dir %.200s is the task's deploy_dir %.200s, or "
		    "inside it or around it: move it somewhere else",
		    f->deploy_dir, cur);
		json_decref(spec);
		api_error(req, 400, "bad_request", msg, "deploy_dir");
		return (0);
	}
	(void)json_object_set_new(spec, "deploy_dir",
	    json_string(f->deploy_dir));
	memset(&err, 0, sizeof(err));
	norm = agentproto_task_spec_os(spec, os, &err);
	json_decref(spec);
	if (norm == NULL && strcmp(err.field, "deploy_dir") == 0) {
		(void)snprintf(msg, sizeof(msg), "deploy_dir %s", err.msg);
		api_error(req, 400, "bad_request", msg, "deploy_dir");
		return (0);
	}
	/* Another member whose rules changed since the spec was stored is
	 * not this command's business: the agent judges the spec. */
	json_decref(norm);
	if (roots == NULL)
		return (1);
	if (win)
		in = auth_dir_in_roots_win(f->deploy_dir, roots, strlen(roots),
		    list, sizeof(list));
	else
		in = auth_dir_in_roots(f->deploy_dir, roots, strlen(roots),
		    list, sizeof(list));
	if (in)
		return (1);
	(void)snprintf(msg, sizeof(msg),
	    "deploy_dir %.200s is outside the node's allowed roots (%s): "
	    "its policy refuses it",
	    f->deploy_dir, list[0] != '\0' ? list : "none");
	api_error(req, 400, "bad_request", msg, "deploy_dir");
	return (0);
}

/* 1 when a and b name the same directory, or one lies inside the other
 * (by components; trailing separators ignored; Windows: either
 * separator, ASCII case ignored). */
static int
dir_same_or_inside(const char *a, const char *b, int win)
{
	size_t la, lb, i, n;
	int    ca, cb;

	la = strlen(a);
	lb = strlen(b);
	while (la > 1 && (a[la - 1] == '/' || (win && a[la - 1] == '\\')))
		la--;
	while (lb > 1 && (b[lb - 1] == '/' || (win && b[lb - 1] == '\\')))
		lb--;
	n = la < lb ? la : lb;
	for (i = 0; i < n; i++) {
		ca = (unsigned char)a[i];
		cb = (unsigned char)b[i];
		if (win) {
			ca = ca == '\\' ? '/' : tolower(ca);
			cb = cb == '\\' ? '/' : tolower(cb);
		}
		if (ca != cb)
			return (0);
	}
	if (la == lb)
		return (1);
	/* The longer one goes on with a separator: inside. */
	if (la > lb)
		return (a[n] == '/' || (win && a[n] == '\\'));
	return (b[n] == '/' || (win && b[n] == '\\'));
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
	else if (!store_val_bool(c->q, 0, 5))
		(void)api_error(req, 404, "package_not_found",
		    "no such package (or you may not see it)", "package_id");
	else if (api_val(c, 0, 2) == NULL &&
	    strcmp(f->ci.type, "apply-config") == 0 &&
	    !store_val_bool(c->q, 0, 6))
		(void)api_error(req, 409, "no_configuration",
		    "the task has no configuration to apply", "task_id");
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
