/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The alerts API (docs/api.md, "Alerts" and "Mutes"): rules (admins
 * write, everyone reads; bodies checked by auth_alertrule_check()), the
 * preview of a rule on the stored history, events and the pages' summary
 * (the target's view level), and mutes (manage on the target).
 * Statements in src/store/alerts.c.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "api/api.h"

#define ALERT_LIMIT_DEFAULT 100
#define ALERT_LIMIT_MAX	    500
#define MUTE_REASON_MAX	    500

/* /api/v1/alerts/rules: GET lists, POST creates (admin). */
enum rules_state { RULES_BEGIN = 0, RULES_LIST, RULES_CHECK, RULES_PUT };

static int rules_begin(struct http_request *);
static int rules_list(struct http_request *);
static int rules_check(struct http_request *);
static int rules_put(struct http_request *);

static struct http_state rules_states[] = {
	KORE_HTTP_STATE(rules_begin),
	KORE_HTTP_STATE(rules_list),
	KORE_HTTP_STATE(rules_check),
	KORE_HTTP_STATE(rules_put),
};

/* /api/v1/alerts/rules/ID: GET reads, PUT replaces, DELETE (admin). */
enum rule_state { RULE_BEGIN = 0, RULE_GET, RULE_CHECK, RULE_PUT, RULE_DELETE };

static int rule_begin(struct http_request *);
static int rule_get(struct http_request *);
static int rule_delete(struct http_request *);

static struct http_state rule_states[] = {
	KORE_HTTP_STATE(rule_begin),
	KORE_HTTP_STATE(rule_get),
	KORE_HTTP_STATE(rules_check),
	KORE_HTTP_STATE(rules_put),
	KORE_HTTP_STATE(rule_delete),
};

/* A rule's write or preview: the checked rule as JSON text. */
struct rule_flow {
	int64_t id; /* 0: a create */
	char   *rule; /* json_dumps(): free() */
	int	days; /* a preview */
};

/* POST /api/v1/alerts/rules/preview (admin). */
enum preview_state { PREVIEW_BEGIN = 0, PREVIEW_CHECK, PREVIEW_RUN };

static int preview_begin(struct http_request *);
static int preview_check(struct http_request *);
static int preview_run(struct http_request *);

static struct http_state preview_states[] = {
	KORE_HTTP_STATE(preview_begin),
	KORE_HTTP_STATE(preview_check),
	KORE_HTTP_STATE(preview_run),
};

/* GET /api/v1/alerts/events and /api/v1/alerts/events/ID. */
enum events_state { EVENTS_BEGIN = 0, EVENTS_LIST };

static int events_begin(struct http_request *);
static int events_list(struct http_request *);

static struct http_state events_states[] = {
	KORE_HTTP_STATE(events_begin),
	KORE_HTTP_STATE(events_list),
};

enum event_state { EVENT_BEGIN = 0, EVENT_GET };

static int event_begin(struct http_request *);
static int event_get(struct http_request *);

static struct http_state event_states[] = {
	KORE_HTTP_STATE(event_begin),
	KORE_HTTP_STATE(event_get),
};

/* GET /api/v1/alerts/summary */
enum summary_state { SUMMARY_BEGIN = 0, SUMMARY_GET };

static int summary_begin(struct http_request *);
static int summary_get(struct http_request *);

static struct http_state summary_states[] = {
	KORE_HTTP_STATE(summary_begin),
	KORE_HTTP_STATE(summary_get),
};

/* /api/v1/mutes: GET lists, POST mutes; /api/v1/mutes/ID: DELETE. */
enum mutes_state { MUTES_BEGIN = 0, MUTES_LIST, MUTES_CHECK, MUTES_CREATE };

static int mutes_begin(struct http_request *);
static int mutes_list(struct http_request *);
static int mutes_check(struct http_request *);
static int mutes_create(struct http_request *);

static struct http_state mutes_states[] = {
	KORE_HTTP_STATE(mutes_begin),
	KORE_HTTP_STATE(mutes_list),
	KORE_HTTP_STATE(mutes_check),
	KORE_HTTP_STATE(mutes_create),
};

struct mute_flow {
	int64_t	    node, task;
	const char *until, *reason; /* in c->body */
};

enum mute_state { MUTE_BEGIN = 0, MUTE_DELETE };

static int mute_begin(struct http_request *);
static int mute_delete(struct http_request *);

static struct http_state mute_states[] = {
	KORE_HTTP_STATE(mute_begin),
	KORE_HTTP_STATE(mute_delete),
};

struct id_flow {
	int64_t id;
};

static void   rule_flow_free(void *);
static size_t utf8_chars(const char *);
static int    rule_body(struct http_request *, struct api_ctx *, int *);
static int    scope_missing(struct http_request *, const char *);

/* Characters of valid UTF-8 text (jansson checked it). */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return (n);
}

static void
rule_flow_free(void *p)
{
	struct rule_flow *f = p;

	free(f->rule);
	f->rule = NULL;
}

/*
 * Check c->body as a rule (a preview: with days) into the flow's rule
 * text: 1, or 0 after a 400 naming the member.
 */
static int
rule_body(struct http_request *req, struct api_ctx *c, int *days)
{
	struct auth_alertrule_err err;
	struct rule_flow	 *f;
	json_t			 *rule;

	if (!auth_alertrule_check(c->body, days, &rule, &err)) {
		/* The first refusal as before; every one in "fields". */
		api_error_fields_as(req, &err.all, err.field, err.msg);
		return (0);
	}
	f = api_flow(c, sizeof(*f), rule_flow_free);
	f->rule = json_dumps(rule, JSON_COMPACT);
	json_decref(rule);
	if (f->rule == NULL) {
		api_error(req, 500, "internal", "out of memory", NULL);
		return (0);
	}
	if (days != NULL)
		f->days = *days;
	return (1);
}

/* Reply 400 naming the unknown ids of a scope (missing: the store's
 * {"node_ids":[...],"task_ids":[...]}); 0 when there are none. */
static int
scope_missing(struct http_request *req, const char *missing)
{
	json_t	   *j, *ids, *v;
	const char *key, *what;
	char	    msg[256];
	size_t	    i, off;
	int	    k;

	if (missing == NULL || (j = json_loads(missing, 0, NULL)) == NULL)
		return (0);
	for (k = 0; k < 2; k++) {
		key = k == 0 ? "node_ids" : "task_ids";
		what = k == 0 ? "node" : "task";
		ids = json_object_get(j, key);
		if (json_array_size(ids) == 0)
			continue;
		off = (size_t)snprintf(msg, sizeof(msg), "no such %s:", what);
		json_array_foreach(ids, i, v)
		{
			if (off >= sizeof(msg) - 24) {
				(void)snprintf(msg + off, sizeof(msg) - off,
				    " ...");
				break;
			}
			off += (size_t)snprintf(msg + off, sizeof(msg) - off,
			    "%s %" JSON_INTEGER_FORMAT, i > 0 ? "," : "",
			    json_integer_value(v));
		}
		json_decref(j);
		api_error(req, 400, "bad_request", msg,
		    k == 0 ? "scope.node_ids" : "scope.task_ids");
		return (1);
	}
	json_decref(j);
	return (0);
}

int
api_alert_rules(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(rules_states, API_NSTATES(rules_states), req));
}

static int
rules_begin(struct http_request *req)
{
	if (req->method == HTTP_METHOD_POST)
		return (api_state_begin(req, API_NEED_ADMIN | API_NEED_BODY,
		    RULES_CHECK));
	return (api_state_begin(req, 0, RULES_LIST));
}

static int
rules_list(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;

	s = api_store(req, c, store_alert_rules_list(c->q, req, c->who.admin),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}

/* Shared by POST .../rules and PUT .../rules/ID. */
static int
rules_check(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);

	if (!rule_body(req, c, NULL))
		return (HTTP_STATE_COMPLETE);
	req->fsm_state = req->method == HTTP_METHOD_POST ? RULES_PUT : RULE_PUT;
	return (HTTP_STATE_CONTINUE);
}

static int
rules_put(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct rule_flow *f = api_flow(c, sizeof(*f), rule_flow_free);
	enum api_step	  s;
	char		  remote[64];

	api_remote_addr(req, remote, sizeof(remote));
	s = api_store(req, c,
	    store_alert_rule_put(c->q, req, f->id, f->rule, c->who.user_id,
		c->claims.sub, remote),
	    "exists");
	if (s != API_GO)
		return (api_state(s));
	if (store_rows(c->q) < 1) {
		store_clear(c->q);
		return (API_FIN(api_not_found(req)));
	}
	if (store_val(c->q, 0, 0) == NULL) {
		if (!scope_missing(req, store_val(c->q, 0, 1)))
			api_error(req, 500, "internal",
			    "the rule was not saved", NULL);
		store_clear(c->q);
		return (HTTP_STATE_COMPLETE);
	}
	return (API_FIN(api_reply_row(req, c, f->id == 0 ? 201 : 200)));
}

int
api_alert_rule(struct http_request *req)
{
	int64_t id;

	if (!api_path_id(req, "/api/v1/alerts/rules/", &id))
		return (api_not_found(req));
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_PUT &&
	    req->method != HTTP_METHOD_DELETE)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(rule_states, API_NSTATES(rule_states), req));
}

static int
rule_begin(struct http_request *req)
{
	struct rule_flow *f;

	f = api_flow(api_ctx_get(req), sizeof(*f), rule_flow_free);
	(void)api_path_id(req, "/api/v1/alerts/rules/", &f->id);
	if (req->method == HTTP_METHOD_PUT)
		return (api_state_begin(req, API_NEED_ADMIN | API_NEED_BODY,
		    RULE_CHECK));
	if (req->method == HTTP_METHOD_DELETE)
		return (api_state_begin(req, API_NEED_ADMIN, RULE_DELETE));
	return (api_state_begin(req, 0, RULE_GET));
}

static int
rule_get(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct rule_flow *f = api_flow(c, sizeof(*f), rule_flow_free);
	enum api_step	  s;

	s = api_store(req, c,
	    store_alert_rule_get(c->q, req, f->id, c->who.admin), NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}

static int
rule_delete(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct rule_flow *f = api_flow(c, sizeof(*f), rule_flow_free);
	enum api_step	  s;
	int		  found;
	char		  remote[64];

	api_remote_addr(req, remote, sizeof(remote));
	s = api_store(req, c,
	    store_alert_rule_delete(c->q, req, f->id, c->who.user_id,
		c->claims.sub, remote),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	found = store_rows(c->q) == 1;
	store_clear(c->q);
	if (!found)
		return (API_FIN(api_not_found(req)));
	return (API_FIN(api_reply_empty(req, 204)));
}

int
api_alert_preview(struct http_request *req)
{
	if (req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (
	    http_state_run(preview_states, API_NSTATES(preview_states), req));
}

static int
preview_begin(struct http_request *req)
{
	return (api_state_begin(req, API_NEED_ADMIN | API_NEED_BODY,
	    PREVIEW_CHECK));
}

static int
preview_check(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	int		days;

	if (!rule_body(req, c, &days))
		return (HTTP_STATE_COMPLETE);
	req->fsm_state = PREVIEW_RUN;
	return (HTTP_STATE_CONTINUE);
}

static int
preview_run(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct rule_flow *f = api_flow(c, sizeof(*f), rule_flow_free);
	enum api_step	  s;

	s = api_store(req, c, store_alert_preview(c->q, req, f->rule, f->days),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}

int
api_alert_events(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(events_states, API_NSTATES(events_states), req));
}

static int
events_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, EVENTS_LIST));
}

static int
events_list(struct http_request *req)
{
	struct api_ctx		 *c = api_ctx_get(req);
	struct store_alert_filter f;
	enum api_step		  s;
	char			  state[16], since[48];

	if (!api_qs_int(req, "limit", 1, ALERT_LIMIT_MAX, ALERT_LIMIT_DEFAULT,
		&f.limit) ||
	    !api_qs_int(req, "before", 1, INT64_MAX, 0, &f.before) ||
	    !api_qs_int(req, "node_id", 1, INT64_MAX, 0, &f.node) ||
	    !api_qs_int(req, "task_id", 1, INT64_MAX, 0, &f.task) ||
	    !api_qs_int(req, "rule_id", 1, INT64_MAX, 0, &f.rule) ||
	    !api_qs_str(req, "state", 10, state, sizeof(state)) ||
	    !api_qs_time(req, "since", since, sizeof(since)))
		return (HTTP_STATE_COMPLETE);
	if (state[0] != '\0' && strcmp(state, "pending") != 0 &&
	    strcmp(state, "firing") != 0 && strcmp(state, "resolved") != 0 &&
	    strcmp(state, "open") != 0)
		return (API_FIN(api_error_field(req, "state", AGENTPROTO_C_ENUM,
		    "allowed", "pending,firing,resolved,open",
		    "state must be pending, firing, resolved or open")));
	f.state = state;
	f.since = since;
	s = api_store(req, c, store_alert_events_list(c->q, req, &c->who, &f),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_list(req, c, f.limit)));
}

int
api_alert_event(struct http_request *req)
{
	int64_t id;

	if (!api_path_id(req, "/api/v1/alerts/events/", &id))
		return (api_not_found(req));
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(event_states, API_NSTATES(event_states), req));
}

static int
event_begin(struct http_request *req)
{
	struct id_flow *f;

	f = api_flow(api_ctx_get(req), sizeof(*f), NULL);
	(void)api_path_id(req, "/api/v1/alerts/events/", &f->id);
	return (api_state_begin(req, 0, EVENT_GET));
}

static int
event_get(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	struct id_flow *f = api_flow(c, sizeof(*f), NULL);
	enum api_step	s;

	s = api_store(req, c, store_alert_event_get(c->q, req, &c->who, f->id),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}

int
api_alert_summary(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (
	    http_state_run(summary_states, API_NSTATES(summary_states), req));
}

static int
summary_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, SUMMARY_GET));
}

static int
summary_get(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;

	s = api_store(req, c, store_alert_summary(c->q, req, &c->who), NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}

int
api_mutes(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(mutes_states, API_NSTATES(mutes_states), req));
}

static int
mutes_begin(struct http_request *req)
{
	if (req->method == HTTP_METHOD_POST)
		return (api_state_begin(req, API_NEED_BODY, MUTES_CHECK));
	return (api_state_begin(req, 0, MUTES_LIST));
}

static int
mutes_list(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;
	int64_t		active, node, task;

	if (!api_qs_int(req, "active", 0, 1, 0, &active) ||
	    !api_qs_int(req, "node_id", 1, INT64_MAX, 0, &node) ||
	    !api_qs_int(req, "task_id", 1, INT64_MAX, 0, &task))
		return (HTTP_STATE_COMPLETE);
	s = api_store(req, c,
	    store_mutes_list(c->q, req, &c->who, (int)active, node, task),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}

static int
mutes_check(struct http_request *req)
{
	struct api_ctx	     *c = api_ctx_get(req);
	struct mute_flow     *f;
	struct agentproto_err e;
	const char	     *key, *until, *reason;
	json_t		     *v;
	int64_t		      nid, tid;

	/* Every member checked, the refusals answered together. */
	agentproto_err_clear(&e);
	json_object_foreach(c->body, key, v)
	{
		if (strcmp(key, "node_id") != 0 &&
		    strcmp(key, "task_id") != 0 && strcmp(key, "until") != 0 &&
		    strcmp(key, "reason") != 0)
			agentproto_err_add(&e, "", key, AGENTPROTO_C_UNKNOWN, 0,
			    0, 0, NULL, NULL,
			    "unknown member (node_id, task_id, until and"
			    " reason are known)");
	}
	(void)api_check_target(c, &e, &nid, &tid);
	if (api_check_str(c, &e, "until", 1, 64, &until) &&
	    !auth_alert_time_ok(until))
		agentproto_err_add(&e, "", "until", AGENTPROTO_C_FORMAT, 0, 0,
		    0, "expected", "time",
		    "until must be an ISO 8601 date-time with a zone"
		    " (2026-12-24T18:00:00Z)");
	if (api_check_str(c, &e, "reason", 1, 4 * MUTE_REASON_MAX, &reason) &&
	    utf8_chars(reason) > MUTE_REASON_MAX)
		agentproto_err_add(&e, "", "reason", AGENTPROTO_C_TOO_LONG,
		    AGENTPROTO_F_MAX, 0, MUTE_REASON_MAX, NULL, NULL,
		    "reason must be 1 to 500 characters");
	if (e.nf > 0 || e.lost > 0)
		return (API_FIN(api_error_fields(req, &e)));
	f = api_flow(c, sizeof(*f), NULL);
	f->node = nid;
	f->task = tid;
	f->until = until;
	f->reason = reason;
	req->fsm_state = MUTES_CREATE;
	return (HTTP_STATE_CONTINUE);
}

static int
mutes_create(struct http_request *req)
{
	struct api_ctx	     *c = api_ctx_get(req);
	struct mute_flow     *f = api_flow(c, sizeof(*f), NULL);
	struct store_mute_new m;
	enum api_step	      s;
	int64_t		      level;
	int		      until_ok;
	char		      remote[64], msg[160];

	api_remote_addr(req, remote, sizeof(remote));
	m.node = f->node;
	m.task = f->task;
	m.until = f->until;
	m.reason = f->reason;
	m.actor_sub = c->claims.sub;
	m.remote = remote;
	s = api_store(req, c, store_mute_create(c->q, req, &c->who, &m), NULL);
	if (s != API_GO)
		return (api_state(s));
	if (store_rows(c->q) < 1 || !store_val_bool(c->q, 0, 1)) {
		store_clear(c->q);
		return (API_FIN(api_not_found(req)));
	}
	level = store_val_int(c->q, 0, 2);
	until_ok = store_val_bool(c->q, 0, 3);
	if (level < AUTH_LEVEL_MANAGE) {
		store_clear(c->q);
		(void)snprintf(msg, sizeof(msg),
		    "you may %s this %s but not manage it: muting needs manage",
		    auth_level_str((enum auth_level)level),
		    f->task != 0 ? "task" : "node");
		return (API_FIN(api_error(req, 403, "forbidden", msg, NULL)));
	}
	if (!until_ok) {
		store_clear(c->q);
		return (API_FIN(api_error_field(req, "until",
		    AGENTPROTO_C_RANGE, "expected", "next_90_days",
		    "until must be in the future and at most 90 days ahead")));
	}
	return (API_FIN(api_reply_row(req, c, 201)));
}

int
api_mute(struct http_request *req)
{
	int64_t id;

	if (!api_path_id(req, "/api/v1/mutes/", &id))
		return (api_not_found(req));
	if (req->method != HTTP_METHOD_DELETE)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(mute_states, API_NSTATES(mute_states), req));
}

static int
mute_begin(struct http_request *req)
{
	struct id_flow *f;

	f = api_flow(api_ctx_get(req), sizeof(*f), NULL);
	(void)api_path_id(req, "/api/v1/mutes/", &f->id);
	return (api_state_begin(req, 0, MUTE_DELETE));
}

static int
mute_delete(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	struct id_flow *f = api_flow(c, sizeof(*f), NULL);
	enum api_step	s;
	int64_t		level;
	int		deleted;
	char		remote[64], msg[160];

	api_remote_addr(req, remote, sizeof(remote));
	s = api_store(req, c,
	    store_mute_delete(c->q, req, &c->who, f->id, c->claims.sub, remote),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	if (store_rows(c->q) < 1) {
		store_clear(c->q);
		return (API_FIN(api_not_found(req)));
	}
	level = store_val_int(c->q, 0, 0);
	deleted = store_val_bool(c->q, 0, 1);
	store_clear(c->q);
	if (!deleted) {
		(void)snprintf(msg, sizeof(msg),
		    "you may %s this mute's target but not manage it: ending a"
		    " mute needs manage",
		    auth_level_str((enum auth_level)level));
		return (API_FIN(api_error(req, 403, "forbidden", msg, NULL)));
	}
	return (API_FIN(api_reply_empty(req, 204)));
}
