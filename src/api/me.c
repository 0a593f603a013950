/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * GET /api/v1/me: the caller, answered from the principal alone (no store
 * round trip once the caches are warm).
 */

#include <kore/kore.h>
#include <kore/http.h>

#include <jansson.h>

#include "app.h"
#include "api/api.h"

int
api_me(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;
	json_t	       *j, *grants, *g;
	size_t		i;

	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	if ((s = api_begin(req, &c, 0)) != API_GO)
		return (api_return(s));

	if ((grants = json_array()) == NULL)
		return (api_reply_json(req, 500, NULL));
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
	return (api_reply_json(req, 200, j));
}
