/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * A request's state across re-entries (struct api_ctx, created on first
 * use and freed with the request), the handler's own flow state in it,
 * the helpers that let a named state (http_state_run) sign in and wait,
 * and a store statement's step as the handler's: an error becomes its
 * reply here, once.
 */

#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <jansson.h>

#include "api/api.h"
#include "core/core.h"
#include "store/store.h"

static void ctx_free(struct http_request *);

static void
ctx_free(struct http_request *req)
{
	struct api_ctx *c = http_state_get(req);

	/* Kore may call onfree twice (pending tasks): be idempotent. */
	if (c == NULL)
		return;
	core_wait_leave(&c->wait);
	if (c->flow != NULL) {
		if (c->flow_free != NULL)
			c->flow_free(c->flow);
		kore_free(c->flow);
		c->flow = NULL;
	}
	store_q_free(c->q);
	c->q = NULL;
	if (c->body != NULL) {
		json_decref(c->body);
		c->body = NULL;
	}
	free(c->who.grants);
	c->who.grants = NULL;
	kore_free(c->raw);
	c->raw = NULL;
	explicit_bzero(&c->claims, sizeof(c->claims));
}

struct api_ctx *
api_ctx_get(struct http_request *req)
{
	struct api_ctx *c;

	if ((c = http_state_get(req)) == NULL) {
		c = http_state_create(req, sizeof(*c), ctx_free);
		c->q = store_q_new();
	}
	return (c);
}

void *
api_flow(struct api_ctx *c, size_t len, void (*flow_free)(void *))
{
	if (c->flow == NULL) {
		c->flow = kore_calloc(1, len);
		c->flow_free = flow_free;
	}
	return (c->flow);
}

enum api_step
api_store(struct http_request *req, struct api_ctx *c, enum store_step s,
    const char *conflict)
{
	const char *col;

	if (s == STORE_OK)
		return (API_GO);
	if (s == STORE_WAIT)
		return (API_WAIT);
	switch (store_q_err(c->q, &col)) {
	case STORE_E_CONFLICT:
		if (conflict != NULL) {
			api_error(req, 409, conflict, "it exists already",
			    NULL);
			break;
		}
		/* FALLTHROUGH */
	case STORE_E_VALUE:
		api_error(req, 400, "bad_request", "a value was not accepted",
		    NULL);
		break;
	case STORE_E_MISSING:
		/* A referenced object does not exist: name its column. */
		api_error(req, 404, "not_found",
		    "a referenced object does not exist", col);
		break;
	case STORE_E_DOWN:
		api_error(req, 503, "store_unavailable",
		    "PostgreSQL is unavailable", NULL);
		break;
	case STORE_E_BUSY:
		api_error(req, 503, "busy",
		    "the server is busy: too many statements waiting; retry",
		    NULL);
		break;
	case STORE_E_INTERNAL:
	case STORE_E_NONE:
	default:
		api_error(req, 500, "internal", "database error", NULL);
		break;
	}
	return (API_DONE);
}

void
api_db_clear(struct api_ctx *c)
{
	store_clear(c->q);
}

int
api_rows(struct api_ctx *c)
{
	return (store_rows(c->q));
}

const char *
api_val(struct api_ctx *c, int row, int col)
{
	return (store_val(c->q, row, col));
}

int64_t
api_val_int(struct api_ctx *c, int row, int col)
{
	return (store_val_int(c->q, row, col));
}

json_t *
api_val_json(struct api_ctx *c, int row, int col)
{
	const char *v;

	if ((v = api_val(c, row, col)) == NULL)
		return (json_null());
	return (json_loads(v, 0, NULL));
}

int
api_state(enum api_step s)
{
	return (s == API_WAIT ? HTTP_STATE_RETRY : HTTP_STATE_COMPLETE);
}

int
api_db_busy(struct api_ctx *c)
{
	return (store_q_busy(c->q));
}
