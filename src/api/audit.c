/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * GET /api/v1/audit (admin): the audit log, newest first, with filters
 * (src/store/audit.c).
 */

#include <stdint.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "api/api.h"

enum audit_state { AUDIT_BEGIN = 0, AUDIT_LIST };

static int audit_begin(struct http_request *);
static int audit_list(struct http_request *);

static struct http_state audit_states[] = {
	KORE_HTTP_STATE(audit_begin),
	KORE_HTTP_STATE(audit_list),
};

int
api_audit(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(audit_states, API_NSTATES(audit_states), req));
}

static int
audit_begin(struct http_request *req)
{
	return (api_state_begin(req, API_NEED_ADMIN, AUDIT_LIST));
}

static int
audit_list(struct http_request *req)
{
	struct api_ctx		 *c = api_ctx_get(req);
	struct store_audit_filter f;
	enum api_step		  s;
	char			  action[64], otype[64], from[40], to[40];

	if (!api_qs_page(req, &f.limit, &f.cursor) ||
	    !api_qs_int(req, "actor_id", 1, INT64_MAX, 0, &f.actor) ||
	    !api_qs_int(req, "object_id", 1, INT64_MAX, 0, &f.object) ||
	    !api_qs_str(req, "action", 60, action, sizeof(action)) ||
	    !api_qs_str(req, "object_type", 60, otype, sizeof(otype)) ||
	    !api_qs_time(req, "from", from, sizeof(from)) ||
	    !api_qs_time(req, "to", to, sizeof(to)))
		return (HTTP_STATE_COMPLETE);
	f.action = action;
	f.object_type = otype;
	f.from = from;
	f.to = to;
	s = api_store(req, c, store_audit_list(c->q, req, &f), NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_list(req, c, f.limit)));
}
