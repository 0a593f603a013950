/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * GET /api/v1/me: the caller, answered from the principal alone (no store
 * round trip once the caches are warm), with the module pages this caller
 * can use, in the order a host should offer them (the first is where a
 * user lands: /ui/start).
 */

#include <kore/kore.h>
#include <kore/http.h>

#include <jansson.h>

#include "api/api.h"

enum me_state { ME_BEGIN = 0, ME_REPLY };

static int     me_begin(struct http_request *);
static int     me_reply(struct http_request *);
static json_t *me_modules(const struct auth_principal *);

/*
 * Every module page, in the order a user meets them: the landing is the
 * first one usable.  "need" is what the caller must have: an admin, any
 * grant (view), a grant of operate or more somewhere, or nothing at all.
 */
enum me_need { ME_ANYONE = 0, ME_VIEW, ME_OPERATE, ME_ADMIN };

/* clang-format off */
static const struct {
	const char	*name;
	enum me_need	 need;
} me_pages[] = {
	{ "tasks",		ME_VIEW },
	{ "nodes",		ME_VIEW },
	{ "metrics",		ME_VIEW },
	{ "logs",		ME_OPERATE },
	{ "commands",		ME_VIEW },
	{ "packages",		ME_VIEW },
	{ "alerts",		ME_VIEW },
	{ "notifications",	ME_ANYONE },
	{ "permissions",	ME_ADMIN },
	{ "users",		ME_ADMIN },
};
/* clang-format on */

static struct http_state me_states[] = {
	KORE_HTTP_STATE(me_begin),
	KORE_HTTP_STATE(me_reply),
};

int
api_me(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(me_states, API_NSTATES(me_states), req));
}

static int
me_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, ME_REPLY));
}

static int
me_reply(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	json_t	       *j, *grants, *g;
	size_t		i;

	if ((grants = json_array()) == NULL)
		return (API_FIN(api_reply_json(req, 500, NULL)));
	for (i = 0; i < c->who.ngrants; i++) {
		g = json_pack("{s:I, s:o, s:o, s:s}", "id",
		    (json_int_t)c->who.grants[i].id, "node_id",
		    c->who.grants[i].node_id
			? json_integer(c->who.grants[i].node_id)
			: json_null(),
		    "task_id",
		    c->who.grants[i].task_id
			? json_integer(c->who.grants[i].task_id)
			: json_null(),
		    "level", auth_level_str(c->who.grants[i].level));
		json_array_append_new(grants, g);
	}
	j = json_pack("{s:I, s:s, s:s, s:s, s:b, s:b, s:o, s:o}", "id",
	    (json_int_t)c->who.user_id, "sub", c->claims.sub, "name",
	    c->claims.name, "email", c->claims.email, "admin", c->who.admin,
	    "upload", c->claims.upload, "grants", grants, "modules",
	    me_modules(&c->who));
	return (API_FIN(api_reply_json(req, 200, j)));
}

/*
 * The module pages the principal can use, as a new JSON array (NULL only
 * when jansson cannot allocate, which json_pack then refuses).  A user
 * without a grant sees no task or node anywhere, so only the inbox is of
 * use; each page still checks every call on the server.
 */
static json_t *
me_modules(const struct auth_principal *who)
{
	json_t	    *a;
	enum me_need have;
	size_t	     i;

	have = ME_ANYONE;
	if (who->admin)
		have = ME_ADMIN;
	else {
		for (i = 0; i < who->ngrants; i++) {
			if (who->grants[i].level >= AUTH_LEVEL_OPERATE) {
				have = ME_OPERATE;
				break;
			}
			have = ME_VIEW;
		}
	}
	if ((a = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < sizeof(me_pages) / sizeof(me_pages[0]); i++)
		if (me_pages[i].need <= have)
			json_array_append_new(a, json_string(me_pages[i].name));
	return (a);
}
