/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The inbox: a signed-in user's own notifications (src/store/
 * notifications.c), their unread count and read marks.  Nobody sees or
 * marks another user's items: every statement is keyed by the caller.
 * Admins also list the deliveries (the outbox) with their errors.
 */

#include <stdint.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "api/api.h"

/* GET /api/v1/notifications?cursor=&limit= */
enum notes_state { NOTES_BEGIN = 0, NOTES_LIST };

static int notes_begin(struct http_request *);
static int notes_list(struct http_request *);

static struct http_state notes_states[] = {
	KORE_HTTP_STATE(notes_begin),
	KORE_HTTP_STATE(notes_list),
};

/* GET /api/v1/notifications/unread */
enum unread_state { UNREAD_BEGIN = 0, UNREAD_COUNT };

static int unread_begin(struct http_request *);
static int unread_count(struct http_request *);

static struct http_state unread_states[] = {
	KORE_HTTP_STATE(unread_begin),
	KORE_HTTP_STATE(unread_count),
};

/* POST /api/v1/notifications/ID/read */
enum mark_state { MARK_BEGIN = 0, MARK_ONE };

static int mark_begin(struct http_request *);
static int mark_one(struct http_request *);

static struct http_state mark_states[] = {
	KORE_HTTP_STATE(mark_begin),
	KORE_HTTP_STATE(mark_one),
};

/* POST /api/v1/notifications/read-all */
enum all_state { ALL_BEGIN = 0, ALL_MARK };

static int all_begin(struct http_request *);
static int all_mark(struct http_request *);

static struct http_state all_states[] = {
	KORE_HTTP_STATE(all_begin),
	KORE_HTTP_STATE(all_mark),
};

/* GET /api/v1/notifications/deliveries?state=&cursor=&limit= (admins) */
enum deliv_state { DELIV_BEGIN = 0, DELIV_LIST };

static int deliv_begin(struct http_request *);
static int deliv_list(struct http_request *);

static struct http_state deliv_states[] = {
	KORE_HTTP_STATE(deliv_begin),
	KORE_HTTP_STATE(deliv_list),
};

int
api_notifications(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(notes_states, API_NSTATES(notes_states), req));
}

static int
notes_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, NOTES_LIST));
}

static int
notes_list(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;
	int64_t		limit, cursor;

	if (!api_qs_page(req, &limit, &cursor))
		return (HTTP_STATE_COMPLETE);
	s = api_store(req, c,
	    store_notifications_list(c->q, req, c->who.user_id, cursor, limit),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_list(req, c, limit)));
}

int
api_notifications_unread(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(unread_states, API_NSTATES(unread_states), req));
}

static int
unread_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, UNREAD_COUNT));
}

static int
unread_count(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;

	s = api_store(req, c,
	    store_notifications_unread(c->q, req, c->who.user_id), NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}

/* The id of /api/v1/notifications/ID/read (the route's pattern holds). */
static int64_t
mark_id(struct http_request *req)
{
	const char *p = req->path + strlen("/api/v1/notifications/");
	int64_t	    id = 0;

	while (*p >= '0' && *p <= '9' && id < INT64_MAX / 10)
		id = id * 10 + (*p++ - '0');
	return (strcmp(p, "/read") == 0 ? id : 0);
}

int
api_notification_read(struct http_request *req)
{
	if (mark_id(req) <= 0)
		return (api_not_found(req));
	if (req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(mark_states, API_NSTATES(mark_states), req));
}

static int
mark_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, MARK_ONE));
}

static int
mark_one(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;

	s = api_store(req, c,
	    store_notification_read(c->q, req, c->who.user_id, mark_id(req)),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) != 1) {
		api_db_clear(c);
		return (API_FIN(api_not_found(req)));
	}
	api_db_clear(c);
	return (API_FIN(api_reply_empty(req, 204)));
}

int
api_notifications_read_all(struct http_request *req)
{
	if (req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(all_states, API_NSTATES(all_states), req));
}

static int
all_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, ALL_MARK));
}

static int
all_mark(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;

	s = api_store(req, c,
	    store_notifications_read_all(c->q, req, c->who.user_id), NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}

int
api_notifications_deliveries(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(deliv_states, API_NSTATES(deliv_states), req));
}

static int
deliv_begin(struct http_request *req)
{
	return (api_state_begin(req, API_NEED_ADMIN, DELIV_LIST));
}

static int
deliv_list(struct http_request *req)
{
	static const char *states[] = { "", "queued", "sending", "sent",
		"failed", "skipped" };
	struct api_ctx	  *c = api_ctx_get(req);
	enum api_step	   s;
	int64_t		   limit, cursor;
	char		   st[16];
	size_t		   i;

	if (!api_qs_page(req, &limit, &cursor) ||
	    !api_qs_str(req, "state", 10, st, sizeof(st)))
		return (HTTP_STATE_COMPLETE);
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		if (strcmp(st, states[i]) == 0)
			break;
	}
	if (i == sizeof(states) / sizeof(states[0]))
		return (API_FIN(api_error(req, 400, "bad_request",
		    "state: queued, sending, sent, failed or skipped",
		    "state")));
	s = api_store(req, c,
	    store_deliveries_list(c->q, req, cursor, limit, st), NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_list(req, c, limit)));
}
