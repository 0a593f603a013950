/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Tasks: list, create, read and edit (SPEC 5, docs/api.md).  A task's
 * settings are a spec checked in full by agentproto_task_spec_os() as its
 * node's OS family would (the node's facts; linux when they say none) and
 * stored normalised; a bad member is a 400 naming it
 * ("spec.console.args[3]") and writes nothing.  Creating needs manage on
 * the node, editing manage on the task (a grant on the task or on its
 * node); what the caller may not see answers 404, what they may see but
 * not change 403, both before the spec is judged.  Where the node reports
 * its policy, a deploy_dir outside its roots is a 400 (the agent refuses
 * it anyway; this is the early, friendly answer).  A task's releases (its
 * agent's report after a deploy, update, rollback or move) are read with
 * view.  The statements are in src/store/tasks.c.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "agentproto/agentproto.h"
#include "api/api.h"

#define TASK_PATH_MAX 1024

/* A request's own state (api_flow()). */
struct task_flow {
	int64_t	    node; /* create: the node */
	int64_t	    task; /* the task: from the path, or the one created */
	const char *name; /* in c->body */
	char	   *spec; /* normalised JSON text (json_dumps: free()) */
	const char *kind; /* a static string */
	int	    status; /* of the answer with the task */
	struct agentproto_err ferr; /* every refused member, answered at once */
};

/* GET /api/v1/tasks lists, POST creates. */
enum tasks_state {
	TASKS_BEGIN = 0,
	TASKS_ROUTE,
	TASKS_LIST,
	TASKS_CHECK, /* the node: seen, level, revoked, OS, roots */
	TASKS_CREATE,
	TASKS_READ /* answer with the stored task */
};

static int tasks_begin(struct http_request *);
static int tasks_route(struct http_request *);
static int tasks_list(struct http_request *);
static int tasks_check(struct http_request *);
static int tasks_create(struct http_request *);
static int task_read(struct http_request *);

static struct http_state tasks_states[] = {
	KORE_HTTP_STATE(tasks_begin),
	KORE_HTTP_STATE(tasks_route),
	KORE_HTTP_STATE(tasks_list),
	KORE_HTTP_STATE(tasks_check),
	KORE_HTTP_STATE(tasks_create),
	KORE_HTTP_STATE(task_read),
};

/* GET /api/v1/tasks/ID reads, PUT edits. */
enum task_state {
	TASK_BEGIN = 0,
	TASK_ROUTE,
	TASK_CHECK, /* the task: level, kind, its node's OS and roots */
	TASK_EDIT,
	TASK_READ
};

static int task_begin(struct http_request *);
static int task_route(struct http_request *);
static int task_check(struct http_request *);
static int task_edit(struct http_request *);

static struct http_state task_states[] = {
	KORE_HTTP_STATE(task_begin),
	KORE_HTTP_STATE(task_route),
	KORE_HTTP_STATE(task_check),
	KORE_HTTP_STATE(task_edit),
	KORE_HTTP_STATE(task_read),
};

/* GET /api/v1/tasks/ID/releases */
enum releases_state { RELEASES_BEGIN = 0, RELEASES_GET };

static int releases_begin(struct http_request *);
static int releases_get(struct http_request *);

static struct http_state releases_states[] = {
	KORE_HTTP_STATE(releases_begin),
	KORE_HTTP_STATE(releases_get),
};

/* GET /api/v1/tasks/ID/events?limit=&before= */
enum events_state { EVENTS_BEGIN = 0, EVENTS_GET };

static int events_begin(struct http_request *);
static int events_get(struct http_request *);

static struct http_state events_states[] = {
	KORE_HTTP_STATE(events_begin),
	KORE_HTTP_STATE(events_get),
};

static struct task_flow *flow_get(struct api_ctx *);
static void		 write_of(struct http_request *, struct api_ctx *,
		 const struct task_flow *, int64_t, char *, size_t,
		 struct store_task_write *);
static void		 flow_free(void *);
static int name_check(struct api_ctx *, struct agentproto_err *, const char **);
static int name_ok(const char *);
static int spec_take(struct http_request *, struct api_ctx *, const char *,
    struct task_flow *);
static int roots_check(struct http_request *, struct api_ctx *, const char *,
    const char *, struct agentproto_err *);
static int level_refused(struct http_request *, enum auth_level, const char *,
    const char *, const char *);

static struct task_flow *
flow_get(struct api_ctx *c)
{
	return (api_flow(c, sizeof(struct task_flow), flow_free));
}

static void
flow_free(void *p)
{
	struct task_flow *f = p;

	free(f->spec);
	f->spec = NULL;
}

int
api_tasks(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(tasks_states, API_NSTATES(tasks_states), req));
}

static int
tasks_begin(struct http_request *req)
{
	return (api_state_begin(req,
	    req->method == HTTP_METHOD_POST ? API_NEED_BODY : 0, TASKS_ROUTE));
}

/* POST {"node_id", "name", "spec"}: what needs no database first. */
static int
tasks_route(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct task_flow *f = flow_get(c);
	int		  has_node;

	if (req->method == HTTP_METHOD_GET) {
		req->fsm_state = TASKS_LIST;
		return (HTTP_STATE_CONTINUE);
	}
	/* Every member is checked and the refusals answered together; the
	 * spec waits for the node's OS unless there is no node to ask. */
	if (api_check_id(c, &f->ferr, "node_id", &has_node, &f->node) &&
	    !has_node)
		agentproto_err_add(&f->ferr, "", "node_id",
		    AGENTPROTO_C_REQUIRED, 0, 0, 0, NULL, NULL,
		    "node_id is required");
	(void)name_check(c, &f->ferr, &f->name);
	if (json_object_get(c->body, "spec") == NULL)
		agentproto_err_add(&f->ferr, "", "spec", AGENTPROTO_C_REQUIRED,
		    0, 0, 0, NULL, NULL, "spec is required");
	if (!has_node) {
		(void)spec_take(req, c, "linux", f);
		return (HTTP_STATE_COMPLETE);
	}
	req->fsm_state = TASKS_CHECK;
	return (HTTP_STATE_CONTINUE);
}

static int
tasks_list(struct http_request *req)
{
	struct api_ctx		*c = api_ctx_get(req);
	struct store_task_filter tf;
	enum api_step		 s;
	char			 q[256];

	if (!api_qs_page(req, &tf.limit, &tf.cursor) ||
	    !api_qs_str(req, "q", 200, q, sizeof(q)) ||
	    !api_qs_int(req, "node_id", 1, INT64_MAX, 0, &tf.node))
		return (HTTP_STATE_COMPLETE);
	tf.q = q;
	s = api_store(req, c, store_tasks_list(c->q, req, &c->who, &tf), NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_list(req, c, tf.limit)));
}

/* The node: seen, managed, not revoked; the spec as its OS judges it, its
 * deploy_dir under the roots it reports. */
static int
tasks_check(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct task_flow *f = flow_get(c);
	enum api_step	  s;
	enum auth_level	  lvl;
	int		  rc;

	s = api_store(req, c,
	    store_task_create_check(c->q, req, &c->who, f->node), NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) != 1 || !store_val_bool(c->q, 0, 0))
		rc =
		    api_error(req, 404, "not_found", "no such node", "node_id");
	else if (store_val_bool(c->q, 0, 2))
		rc = api_error(req, 409, "node_revoked", "the node is revoked",
		    "node_id");
	else if ((lvl = (enum auth_level)api_val_int(c, 0, 1)) <
	    AUTH_LEVEL_MANAGE)
		rc = level_refused(req, lvl, "node",
		    "creating tasks needs manage on the node", "node_id");
	else if (!spec_take(req, c, api_val(c, 0, 4), f) ||
	    !roots_check(req, c, api_val(c, 0, 3), api_val(c, 0, 4), &f->ferr))
		rc = KORE_RESULT_OK;
	else
		rc = -1;
	api_db_clear(c);
	if (rc != -1)
		return (HTTP_STATE_COMPLETE);
	req->fsm_state = TASKS_CREATE;
	return (HTTP_STATE_CONTINUE);
}

/* What a create (id: the node) or an edit (id: the task) writes. */
static void
write_of(struct http_request *req, struct api_ctx *c, const struct task_flow *f,
    int64_t id, char *remote, size_t len, struct store_task_write *w)
{
	api_remote_addr(req, remote, len);
	w->id = id;
	w->name = f->name;
	w->kind = f->kind;
	w->spec = f->spec;
	w->actor_sub = c->claims.sub;
	w->remote = remote;
}

/* Insert when the caller still manages the node. */
static int
tasks_create(struct http_request *req)
{
	struct api_ctx	       *c = api_ctx_get(req);
	struct task_flow       *f = flow_get(c);
	struct store_task_write w;
	enum api_step		s;
	char			remote[64];

	write_of(req, c, f, f->node, remote, sizeof(remote), &w);
	s = api_store(req, c, store_task_create(c->q, req, &c->who, &w),
	    "task_exists");
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) != 1 || api_val(c, 0, 0) == NULL) {
		/* The node was revoked or the grant taken away meanwhile. */
		api_db_clear(c);
		return (API_FIN(api_error(req, 409, "conflict",
		    "the node or your grant on it changed: try again",
		    "node_id")));
	}
	/* Answer with the stored task, as GET would. */
	f->task = api_val_int(c, 0, 0);
	f->status = 201;
	api_db_clear(c);
	req->fsm_state = TASKS_READ;
	return (HTTP_STATE_CONTINUE);
}

/* The last state of both machines: the task as the caller sees it. */
static int
task_read(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct task_flow *f = flow_get(c);
	enum api_step	  s;

	s = api_store(req, c, store_task_get(c->q, req, &c->who, f->task),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, f->status)));
}

int
api_task(struct http_request *req)
{
	int64_t id;

	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_PUT)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	if (!api_path_id(req, "/api/v1/tasks/", &id))
		return (api_not_found(req));
	return (http_state_run(task_states, API_NSTATES(task_states), req));
}

static int
task_begin(struct http_request *req)
{
	return (api_state_begin(req,
	    req->method == HTTP_METHOD_PUT ? API_NEED_BODY : 0, TASK_ROUTE));
}

/* PUT {"name", "spec"}: what needs no database first. */
static int
task_route(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct task_flow *f = flow_get(c);

	(void)api_path_id(req, "/api/v1/tasks/", &f->task);
	f->status = 200;
	if (req->method == HTTP_METHOD_GET) {
		req->fsm_state = TASK_READ;
		return (HTTP_STATE_CONTINUE);
	}
	(void)name_check(c, &f->ferr, &f->name);
	if (json_object_get(c->body, "spec") == NULL)
		agentproto_err_add(&f->ferr, "", "spec", AGENTPROTO_C_REQUIRED,
		    0, 0, 0, NULL, NULL, "spec is required");
	req->fsm_state = TASK_CHECK;
	return (HTTP_STATE_CONTINUE);
}

/* The task: managed, the same kind; the spec as its node's OS judges it,
 * its deploy_dir under the roots its node reports. */
static int
task_check(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct task_flow *f = flow_get(c);
	enum api_step	  s;
	enum auth_level	  lvl;
	int		  rc;

	s = api_store(req, c,
	    store_task_edit_check(c->q, req, &c->who, f->task), NULL);
	if (s != API_GO)
		return (api_state(s));
	lvl = api_rows(c) == 1 ? (enum auth_level)api_val_int(c, 0, 1)
			       : AUTH_LEVEL_NONE;
	if (lvl == AUTH_LEVEL_NONE)
		rc = api_error(req, 404, "not_found", "no such task", NULL);
	else if (lvl < AUTH_LEVEL_MANAGE)
		rc = level_refused(req, lvl, "task",
		    "editing a task needs manage", NULL);
	else if (!spec_take(req, c, api_val(c, 0, 3), f))
		rc = KORE_RESULT_OK;
	else if (strcmp(api_val(c, 0, 0), f->kind) != 0) {
		agentproto_err_add(&f->ferr, "spec", "kind",
		    AGENTPROTO_C_IMMUTABLE, 0, 0, 0, NULL, NULL,
		    "a task's kind cannot change: create another task");
		rc = api_error_fields(req, &f->ferr);
	} else if (!roots_check(req, c, api_val(c, 0, 2), api_val(c, 0, 3),
		       &f->ferr))
		rc = KORE_RESULT_OK;
	else
		rc = -1;
	api_db_clear(c);
	if (rc != -1)
		return (HTTP_STATE_COMPLETE);
	req->fsm_state = TASK_EDIT;
	return (HTTP_STATE_CONTINUE);
}

/* Write name and spec together when the caller still manages the task. */
static int
task_edit(struct http_request *req)
{
	struct api_ctx	       *c = api_ctx_get(req);
	struct task_flow       *f = flow_get(c);
	struct store_task_write w;
	enum api_step		s;
	char			remote[64];
	int			edited;

	write_of(req, c, f, f->task, remote, sizeof(remote), &w);
	s = api_store(req, c, store_task_edit(c->q, req, &c->who, &w),
	    "task_exists");
	if (s != API_GO)
		return (api_state(s));
	edited = api_rows(c) == 1 && api_val_int(c, 0, 0) == 1;
	api_db_clear(c);
	if (!edited)
		return (API_FIN(
		    api_error(req, 404, "not_found", "no such task", NULL)));
	req->fsm_state = TASK_READ;
	return (HTTP_STATE_CONTINUE);
}

/* The task's releases, for whoever may view it (404 otherwise). */
int
api_task_releases(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (
	    http_state_run(releases_states, API_NSTATES(releases_states), req));
}

static int
releases_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, RELEASES_GET));
}

static int
releases_get(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;
	int64_t		id;

	/* The route gives "/api/v1/tasks/<digits>/releases". */
	id = strtoll(req->path + strlen("/api/v1/tasks/"), NULL, 10);
	if (id <= 0)
		return (API_FIN(api_not_found(req)));
	s = api_store(req, c, store_task_releases(c->q, req, &c->who, id),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}

/*
 * The task's events (started, killed, restarted, ...: docs/api.md), for
 * whoever may view it (404 otherwise), newest first.
 */
int
api_task_events(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(events_states, API_NSTATES(events_states), req));
}

static int
events_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, EVENTS_GET));
}

static int
events_get(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;
	int64_t		id, limit, before;

	/* The route gives "/api/v1/tasks/<digits>/events". */
	id = strtoll(req->path + strlen("/api/v1/tasks/"), NULL, 10);
	if (id <= 0)
		return (API_FIN(api_not_found(req)));
	if (!api_qs_int(req, "limit", 1, API_LIMIT_MAX, API_LIMIT_DEFAULT,
		&limit) ||
	    !api_qs_int(req, "before", 1, INT64_MAX, 0, &before))
		return (API_FIN(KORE_RESULT_OK));
	s = api_store(req, c,
	    store_task_events(c->q, req, &c->who, id, limit, before), NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}

/* The body's "name" (1..64 of [A-Za-z0-9._-], not starting with a dot or
 * dash); otherwise a refusal is added to e and 0 is returned. */
static int
name_check(struct api_ctx *c, struct agentproto_err *e, const char **name)
{
	if (!api_check_str(c, e, "name", 1, 64, name))
		return (0);
	if (!name_ok(*name)) {
		agentproto_err_add(e, "", "name", AGENTPROTO_C_PATTERN,
		    AGENTPROTO_F_MAX, 0, 64, "pattern", "task_name",
		    "name must be 1 to 64 of A-Z a-z 0-9 . _ - (starting "
		    "with a letter or digit)");
		return (0);
	}
	return (1);
}

static int
name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') ||
			(i > 0 && (s[i] == '.' || s[i] == '_' || s[i] == '-'))))
			return (0);
	}
	return (i >= 1 && i <= 64);
}

/*
 * The body's "spec", checked and normalised as a node of OS family os
 * would (NULL or not one we know: linux): f->spec (malloc'd JSON) and
 * f->kind (a static string) on success.  When it or any member checked
 * before (f->ferr) was refused, a 400 listing them all has been sent and
 * 0 is returned.
 */
static int
spec_take(struct http_request *req, struct api_ctx *c, const char *os,
    struct task_flow *f)
{
	struct agentproto_err err;
	const json_t	     *spec;
	json_t		     *norm;
	const char	     *kind;

	if (!agentproto_os_family_valid(os))
		os = "linux";
	norm = NULL;
	if ((spec = json_object_get(c->body, "spec")) != NULL &&
	    (norm = agentproto_task_spec_os(spec, os, &err)) == NULL)
		api_err_merge(&f->ferr, &err, "spec");
	if (f->ferr.nf > 0 || f->ferr.lost > 0 || norm == NULL) {
		json_decref(norm);
		api_error_fields(req, &f->ferr);
		return (0);
	}
	kind = json_string_value(json_object_get(norm, "kind"));
	f->kind = strcmp(kind, "console") == 0 ? "console"
	    : strcmp(kind, "tomcat") == 0      ? "tomcat"
					       : "jar";
	free(f->spec);
	f->spec = json_dumps(norm, JSON_COMPACT);
	json_decref(norm);
	if (f->spec == NULL) {
		api_error(req, 500, "internal", "out of memory", NULL);
		return (0);
	}
	return (1);
}

/*
 * A deploy_dir outside the roots the node reports (roots: JSON text, NULL
 * when it reports none; os its OS family): a 400 naming spec.deploy_dir
 * (code outside_roots, roots the list) has been sent and 0 is returned.
 */
static int
roots_check(struct http_request *req, struct api_ctx *c, const char *roots,
    const char *os, struct agentproto_err *e)
{
	const char *dir;
	char	    msg[1280], list[768];
	int	    in;

	dir = json_string_value(
	    json_object_get(json_object_get(c->body, "spec"), "deploy_dir"));
	if (roots == NULL || dir == NULL)
		return (1);
	if (os != NULL && strcmp(os, "windows") == 0)
		in = auth_dir_in_roots_win(dir, roots, strlen(roots), list,
		    sizeof(list));
	else
		in = auth_dir_in_roots(dir, roots, strlen(roots), list,
		    sizeof(list));
	if (in)
		return (1);
	/* The whole sentence (longer than a field error's) as message. */
	(void)snprintf(msg, sizeof(msg),
	    "deploy_dir %.200s is outside the node's allowed roots (%s): "
	    "its policy refuses it",
	    dir, list[0] != '\0' ? list : "none");
	agentproto_err_add(e, "spec", "deploy_dir", AGENTPROTO_C_OUTSIDE_ROOTS,
	    0, 0, 0, "roots", list, "%s", msg);
	api_error_fields_as(req, e, "spec.deploy_dir", msg);
	return (0);
}

/* 403 naming the level held and the one needed ("why" says for what). */
static int
level_refused(struct http_request *req, enum auth_level have, const char *what,
    const char *why, const char *field)
{
	char msg[192];

	(void)snprintf(msg, sizeof(msg),
	    "you may %s this %s but not manage it: %s",
	    have == AUTH_LEVEL_OPERATE ? "operate" : "view", what, why);
	return (api_error(req, 403, "forbidden", msg, field));
}
