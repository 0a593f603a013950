/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Users (admin): list (all, or those who never signed in), create (for
 * YARD_AUTO_PROVISION=0), read, mark admin or disabled.  Every change lands in the audit log in the same
 * statement (src/store/users.c), so a rejected request changes nothing.
 */

#include <stdint.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "api/api.h"

/* GET /api/v1/users lists, POST creates. */
enum users_state { USERS_BEGIN = 0, USERS_LIST, USERS_CREATE };

static int users_begin(struct http_request *);
static int users_list(struct http_request *);
static int users_create(struct http_request *);

static struct http_state users_states[] = {
	KORE_HTTP_STATE(users_begin),
	KORE_HTTP_STATE(users_list),
	KORE_HTTP_STATE(users_create),
};

/* GET /api/v1/users/ID reads, PATCH changes. */
enum user_state { USER_BEGIN = 0, USER_GET, USER_DECODE, USER_UPDATE };

static int user_begin(struct http_request *);
static int user_get(struct http_request *);
static int user_decode(struct http_request *);
static int user_update(struct http_request *);

static struct http_state user_states[] = {
	KORE_HTTP_STATE(user_begin),
	KORE_HTTP_STATE(user_get),
	KORE_HTTP_STATE(user_decode),
	KORE_HTTP_STATE(user_update),
};

struct user_flow {
	int64_t			 id; /* from the path */
	struct store_user_change ch; /* decoded from the body */
};

static struct user_flow *user_flow(struct api_ctx *);

int
api_users(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(users_states, API_NSTATES(users_states), req));
}

static int
users_begin(struct http_request *req)
{
	if (req->method == HTTP_METHOD_POST)
		return (api_state_begin(req, API_NEED_ADMIN | API_NEED_BODY,
		    USERS_CREATE));
	return (api_state_begin(req, API_NEED_ADMIN, USERS_LIST));
}

static int
users_list(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;
	int64_t		limit, cursor, never;
	char		q[256];

	if (!api_qs_page(req, &limit, &cursor) ||
	    !api_qs_str(req, "q", 200, q, sizeof(q)) ||
	    !api_qs_int(req, "never_signed_in", 0, 1, 0, &never))
		return (HTTP_STATE_COMPLETE);
	s = api_store(req, c,
	    store_users_list(c->q, req, cursor, limit, q, never == 1), NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_list(req, c, limit)));
}

static int
users_create(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;
	const char     *sub, *name, *email;
	char		remote[64];
	int		has_admin, admin;

	if (!api_body_str(req, c, "sub", 1, API_SUB_MAX, &sub) ||
	    !api_body_str(req, c, "name", 0, 255, &name) ||
	    !api_body_str(req, c, "email", 0, 255, &email) ||
	    !api_body_bool(req, c, "admin", &has_admin, &admin))
		return (HTTP_STATE_COMPLETE);
	if (!api_sub_ok(sub))
		return (API_FIN(api_error(req, 400, "bad_sub",
		    "sub must be an EWS account name: 1 to 255 bytes, "
		    "no control characters, no space at either end",
		    "sub")));
	api_remote_addr(req, remote, sizeof(remote));
	s = api_store(req, c,
	    store_user_create(c->q, req, sub, name, email, has_admin && admin,
		c->who.user_id, c->claims.sub, remote),
	    "exists");
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 201)));
}

/*
 * Whether s can be a token's sub as an admin types it: the token rules
 * (1 to 255 bytes; api_body_str has refused control characters) and no
 * space at either end, which no account name has and a paste often does.
 */
int
api_sub_ok(const char *s)
{
	size_t len;

	len = strlen(s);
	if (len == 0 || len > API_SUB_MAX)
		return (0);
	if (s[0] == ' ' || s[len - 1] == ' ')
		return (0);
	return (1);
}

static struct user_flow *
user_flow(struct api_ctx *c)
{
	return (api_flow(c, sizeof(struct user_flow), NULL));
}

int
api_user(struct http_request *req)
{
	int64_t uid;

	if (!api_path_id(req, "/api/v1/users/", &uid))
		return (api_not_found(req));
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_PATCH)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(user_states, API_NSTATES(user_states), req));
}

static int
user_begin(struct http_request *req)
{
	struct user_flow *f = user_flow(api_ctx_get(req));

	(void)api_path_id(req, "/api/v1/users/", &f->id);
	if (req->method == HTTP_METHOD_GET)
		return (api_state_begin(req, API_NEED_ADMIN, USER_GET));
	return (
	    api_state_begin(req, API_NEED_ADMIN | API_NEED_BODY, USER_DECODE));
}

static int
user_get(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct user_flow *f = user_flow(c);
	enum api_step	  s;

	s = api_store(req, c, store_user_get(c->q, req, f->id), NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}

static int
user_decode(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct user_flow *f = user_flow(c);
	int		  has_admin, admin, has_dis, dis;

	if (!api_body_bool(req, c, "admin", &has_admin, &admin) ||
	    !api_body_bool(req, c, "disabled", &has_dis, &dis) ||
	    !api_body_str(req, c, "name", 0, 255, &f->ch.name) ||
	    !api_body_str(req, c, "email", 0, 255, &f->ch.email))
		return (HTTP_STATE_COMPLETE);
	if (!has_admin && !has_dis && f->ch.name == NULL && f->ch.email == NULL)
		return (API_FIN(api_error(req, 400, "bad_request",
		    "nothing to change: give admin, disabled, name or email",
		    NULL)));
	/* An admin cannot lock themselves out. */
	if (f->id == c->who.user_id &&
	    ((has_admin && !admin) || (has_dis && dis)))
		return (API_FIN(api_error(req, 409, "self",
		    "you cannot remove your own admin right or disable "
		    "yourself",
		    has_admin ? "admin" : "disabled")));
	f->ch.admin = has_admin ? admin : -1;
	f->ch.disabled = has_dis ? dis : -1;
	req->fsm_state = USER_UPDATE;
	return (HTTP_STATE_CONTINUE);
}

static int
user_update(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct user_flow *f = user_flow(c);
	enum api_step	  s;
	char		  remote[64];

	api_remote_addr(req, remote, sizeof(remote));
	s = api_store(req, c,
	    store_user_update(c->q, req, f->id, &f->ch, c->who.user_id,
		c->claims.sub, remote),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	if (store_rows(c->q) == 1)
		api_authz_changed(1);
	return (API_FIN(api_reply_row(req, c, 200)));
}
