/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Grants (admin): a user may view, operate or manage one node (and all
 * its tasks) or one task; each level implies the ones before it.
 * Granting again on the same target changes the level.  A grant names
 * its user by id, or by EWS account name (user_sub), which creates a user
 * who has never signed in.  Statements in src/store/grants.c; every
 * change drops the principal caches.
 */

#include <stdint.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "agentproto/agentproto.h"
#include "api/api.h"

/* GET /api/v1/grants lists, POST grants (or changes the level). */
enum grants_state { GRANTS_BEGIN = 0, GRANTS_LIST, GRANTS_DECODE, GRANTS_PUT };

static int grants_begin(struct http_request *);
static int grants_list(struct http_request *);
static int grants_decode(struct http_request *);
static int grants_put(struct http_request *);

static struct http_state grants_states[] = {
	KORE_HTTP_STATE(grants_begin),
	KORE_HTTP_STATE(grants_list),
	KORE_HTTP_STATE(grants_decode),
	KORE_HTTP_STATE(grants_put),
};

struct grants_flow {
	int64_t	    user; /* or 0 */
	const char *sub; /* or NULL; in c->body */
	int64_t	    node; /* or 0 */
	int64_t	    task; /* or 0 */
	const char *level; /* in c->body */
};

/* GET /api/v1/grants/ID reads, DELETE revokes. */
enum grant_state { GRANT_BEGIN = 0, GRANT_GET, GRANT_DELETE };

static int grant_begin(struct http_request *);
static int grant_get(struct http_request *);
static int grant_delete(struct http_request *);

static struct http_state grant_states[] = {
	KORE_HTTP_STATE(grant_begin),
	KORE_HTTP_STATE(grant_get),
	KORE_HTTP_STATE(grant_delete),
};

struct grant_flow {
	int64_t id; /* from the path */
};

int
api_grants(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(grants_states, API_NSTATES(grants_states), req));
}

static int
grants_begin(struct http_request *req)
{
	if (req->method == HTTP_METHOD_POST)
		return (api_state_begin(req, API_NEED_ADMIN | API_NEED_BODY,
		    GRANTS_DECODE));
	return (api_state_begin(req, API_NEED_ADMIN, GRANTS_LIST));
}

static int
grants_list(struct http_request *req)
{
	struct api_ctx		 *c = api_ctx_get(req);
	struct store_grant_filter f;
	enum api_step		  s;

	if (!api_qs_page(req, &f.limit, &f.cursor) ||
	    !api_qs_int(req, "user_id", 1, INT64_MAX, 0, &f.user) ||
	    !api_qs_int(req, "node_id", 1, INT64_MAX, 0, &f.node) ||
	    !api_qs_int(req, "task_id", 1, INT64_MAX, 0, &f.task))
		return (HTTP_STATE_COMPLETE);
	s = api_store(req, c, store_grants_list(c->q, req, &f), NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_list(req, c, f.limit)));
}

static int
grants_decode(struct http_request *req)
{
	struct api_ctx	     *c = api_ctx_get(req);
	struct grants_flow   *f;
	int		      has_user;
	int64_t		      uid, nid, tid;
	const char	     *level, *sub;
	struct agentproto_err e;
	int		      ok_user, ok_sub;

	/* Every member checked, the refusals answered together. */
	agentproto_err_clear(&e);
	ok_user = api_check_id(c, &e, "user_id", &has_user, &uid);
	ok_sub = api_check_str(c, &e, "user_sub", 0, API_SUB_MAX, &sub);
	if (ok_user && ok_sub && has_user == (sub != NULL))
		agentproto_err_add(&e, "", has_user ? "user_sub" : "user_id",
		    has_user ? AGENTPROTO_C_NOT_ALLOWED : AGENTPROTO_C_REQUIRED,
		    0, 0, 0, NULL, NULL,
		    "give exactly one of user_id and user_sub");
	(void)api_check_target(c, &e, &nid, &tid);
	if (api_check_str(c, &e, "level", 1, 16, &level) &&
	    auth_level_parse(level) == AUTH_LEVEL_NONE)
		agentproto_err_add(&e, "", "level", AGENTPROTO_C_ENUM, 0, 0, 0,
		    "allowed", "view,operate,manage",
		    "level must be view, operate or manage");
	if (e.nf > 0)
		return (API_FIN(api_error_fields(req, &e)));
	if (sub != NULL && !api_sub_ok(sub))
		return (API_FIN(api_error(req, 400, "bad_sub",
		    "user_sub must be an EWS account name: 1 to 255 bytes, "
		    "no control characters, no space at either end",
		    "user_sub")));
	f = api_flow(c, sizeof(*f), NULL);
	f->user = has_user ? uid : 0;
	f->sub = sub;
	f->node = nid;
	f->task = tid;
	f->level = level;
	req->fsm_state = GRANTS_PUT;
	return (HTTP_STATE_CONTINUE);
}

static int
grants_put(struct http_request *req)
{
	struct api_ctx	   *c = api_ctx_get(req);
	struct grants_flow *f = api_flow(c, sizeof(*f), NULL);
	enum api_step	    s;
	char		    remote[64];

	api_remote_addr(req, remote, sizeof(remote));
	if (f->sub != NULL)
		s = api_store(req, c,
		    store_grant_put_sub(c->q, req, f->sub, f->node, f->task,
			f->level, c->who.user_id, c->claims.sub, remote),
		    NULL);
	else
		s = api_store(req, c,
		    store_grant_put(c->q, req, f->user, f->node, f->task,
			f->level, c->who.user_id, c->claims.sub, remote),
		    NULL);
	if (s != API_GO)
		return (api_state(s));
	api_authz_changed(1);
	return (API_FIN(api_reply_row(req, c,
	    store_rows(c->q) == 1 && store_val_bool(c->q, 0, 1) ? 201 : 200)));
}

int
api_grant(struct http_request *req)
{
	int64_t gid;

	if (!api_path_id(req, "/api/v1/grants/", &gid))
		return (api_not_found(req));
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_DELETE)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(grant_states, API_NSTATES(grant_states), req));
}

static int
grant_begin(struct http_request *req)
{
	struct grant_flow *f;

	f = api_flow(api_ctx_get(req), sizeof(*f), NULL);
	(void)api_path_id(req, "/api/v1/grants/", &f->id);
	return (api_state_begin(req, API_NEED_ADMIN,
	    req->method == HTTP_METHOD_GET ? GRANT_GET : GRANT_DELETE));
}

static int
grant_get(struct http_request *req)
{
	struct api_ctx	  *c = api_ctx_get(req);
	struct grant_flow *f = api_flow(c, sizeof(*f), NULL);
	enum api_step	   s;

	s = api_store(req, c, store_grant_get(c->q, req, f->id), NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}

static int
grant_delete(struct http_request *req)
{
	struct api_ctx	  *c = api_ctx_get(req);
	struct grant_flow *f = api_flow(c, sizeof(*f), NULL);
	enum api_step	   s;
	int		   found;
	char		   remote[64];

	api_remote_addr(req, remote, sizeof(remote));
	s = api_store(req, c,
	    store_grant_delete(c->q, req, f->id, c->who.user_id, c->claims.sub,
		remote),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	found = store_rows(c->q) == 1;
	store_clear(c->q);
	if (!found)
		return (API_FIN(api_not_found(req)));
	api_authz_changed(1);
	return (API_FIN(api_reply_empty(req, 204)));
}
