/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * GET /api/v1/me: the caller, answered from the principal alone (no store
 * round trip once the caches are warm).
 */

#include <kore/kore.h>
#include <kore/http.h>

#include <jansson.h>

#include "api/api.h"

enum me_state { ME_BEGIN = 0, ME_REPLY };

static int me_begin(struct http_request *);
static int me_reply(struct http_request *);

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
	j = json_pack("{s:I, s:s, s:s, s:s, s:b, s:b, s:o}", "id",
	    (json_int_t)c->who.user_id, "sub", c->claims.sub, "name",
	    c->claims.name, "email", c->claims.email, "admin", c->who.admin,
	    "upload", c->claims.upload, "grants", grants);
	return (API_FIN(api_reply_json(req, 200, j)));
}
