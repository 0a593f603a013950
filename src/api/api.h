/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * HTTP handlers and the request plumbing they share: the request's state
 * and named states (flow.c), sign-in and the principal (signin.c), JSON
 * replies (reply.c), reading the request (input.c), secrets (secret.c).
 * Statements live in the store (store/store.h).
 */

#ifndef API_H
#define API_H

#include <stdint.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <jansson.h>

#include "auth/auth.h"
#include "core/core.h"
#include "store/store.h"

struct agentproto_err;

#define API_BODY_MAX	  (64 * 1024)
#define API_LIMIT_DEFAULT 50
#define API_LIMIT_MAX	  200

/*
 * The request's state and its steps (flow.c).
 */

/* What a shared step tells its handler. */
enum api_step {
	API_GO = 0, /* carry on */
	API_WAIT, /* request is parked; return KORE_RESULT_RETRY */
	API_DONE /* a reply was sent; return KORE_RESULT_OK */
};

/*
 * Handlers are http_state_run() machines with named states (one enum and
 * one struct http_state table per handler).  A state callback answers an
 * HTTP_STATE_* value, never a KORE_RESULT_* one: API_FIN() turns a reply
 * helper's KORE_RESULT_OK into HTTP_STATE_COMPLETE, api_state() turns a
 * step that is not API_GO into RETRY (parked) or COMPLETE (replied).
 */
#define API_NSTATES(t) ((u_int8_t)(sizeof(t) / sizeof((t)[0])))
#define API_FIN(reply) ((void)(reply), HTTP_STATE_COMPLETE)
int api_state(enum api_step);
/* A first state: sign in (api_begin with flags), then go to state next. */
int api_state_begin(struct http_request *, int flags, int next);

/* Per-request state, kept across KORE_RESULT_RETRY re-entries. */
struct api_ctx {
	int		      phase; /* api_begin's progress */
	struct auth_claims    claims;
	struct auth_principal who; /* grants malloc'd */
	struct store_q	     *q; /* this request's statements */
	json_t		     *body;
	struct core_wait      wait; /* parked in the waiting room */
	char		     *raw; /* request body, read once */
	size_t		      rawlen;
	void		     *flow; /* the handler's own state, api_flow() */
	void (*flow_free)(void *);
};

/*
 * The handler's own state (its named fields, not the generic ones
 * above): allocated zeroed on first call, the same pointer on every
 * re-entry, freed with the request (flow_free, if given, first releases
 * what it holds).  One handler, one struct.
 */
void *api_flow(struct api_ctx *, size_t, void (*flow_free)(void *));

/* The request's state, created on first use (no sign-in). */
struct api_ctx *api_ctx_get(struct http_request *);

/* A store statement's step as the handler's: STORE_ERR replies (409 with
 * code conflict for a unique violation when it is non-NULL, 404 naming
 * the column of a missing reference, 400, 503, 500) and is API_DONE. */
enum api_step api_store(struct http_request *, struct api_ctx *,
    enum store_step, const char *conflict);

/* Forget the last result now (it also goes with the next statement). */
void api_db_clear(struct api_ctx *);
/* 1 while a statement of this request is in flight. */
int api_db_busy(struct api_ctx *);

/* Result helpers over c->q (store_rows() and the like). */
const char *api_val(struct api_ctx *, int row, int col); /* NULL if NULL */
int64_t	    api_val_int(struct api_ctx *, int row, int col);
int	    api_rows(struct api_ctx *);
/* Row as JSON: the statement selects one json column (row_to_json). */
json_t *api_val_json(struct api_ctx *, int row, int col);

/*
 * Sign-in and the principal (signin.c).
 */

/* api_begin() flags. */
#define API_NEED_ADMIN 0x01 /* 403 unless the caller is an admin */
#define API_NEED_BODY  0x02 /* parse a JSON object body into c->body */

/* Authenticate, load the principal, check flags; see enum api_step. */
enum api_step api_begin(struct http_request *, struct api_ctx **, int);

/* Permission cache: drop every cached principal (grants changed); with
 * publish, on every worker of every instance too. */
void api_authz_changed(int publish);
/* Worker start: the principal cache's Redis route (before
 * core_redis_start()). */
void api_signin_init(void);

/*
 * Replies (reply.c); each returns KORE_RESULT_OK so that a plain handler
 * can `return` it and a named state API_FIN() it.
 */
int api_error(struct http_request *, int status, const char *code,
    const char *message, const char *field);
/*
 * 400 bad_request with every refused field of e (docs/api.md, "Errors"):
 * "fields" [{field, code, params}], "field" and "message" the first's.
 */
int api_error_fields(struct http_request *, const struct agentproto_err *e);
/* The same with another first field and message (longer than e's). */
int api_error_fields_as(struct http_request *, const struct agentproto_err *e,
    const char *field, const char *message);
/* The same with another error code than bad_request (bad_metadata). */
int api_error_fields_code(struct http_request *, const char *code,
    const struct agentproto_err *e);
/* The same for one refused field: code (enum agentproto_code) with an
 * optional named argument ("allowed" "a,b"), msg as "message". */
int api_error_field(struct http_request *, const char *field, int code,
    const char *arg_name, const char *arg, const char *msg);
/* Append src's refusals to dst, each path under prefix ("spec"). */
void api_err_merge(struct agentproto_err *dst, const struct agentproto_err *src,
    const char *prefix);
int  api_reply_json(struct http_request *, int status, json_t *steal);
int  api_reply_empty(struct http_request *, int status);
/* 404 "no such resource". */
int api_not_found(struct http_request *);
/* The result's rows are (json text, id): {"items":[...],"next":"id"|null}. */
int api_reply_list(struct http_request *, struct api_ctx *, int64_t limit);
/* The result's row 0 column 0 is a json text; 404 when there is no row. */
int api_reply_row(struct http_request *, struct api_ctx *, int status);

/*
 * Reading the request (input.c).
 */

/* Query-string helpers: reply 400 naming the field and return 0 on bad
 * input; 1 otherwise (*out = def when absent). */
int api_qs_int(struct http_request *, const char *name, int64_t min,
    int64_t max, int64_t def, int64_t *out);
int api_qs_str(struct http_request *, const char *name, size_t max, char *out,
    size_t outlen);
int api_qs_page(struct http_request *, int64_t *limit, int64_t *cursor);
/* An optional RFC 3339 time ("" when absent; 400 naming it when bad). */
int api_qs_time(struct http_request *, const char *, char *, size_t);
/* RFC 3339 date or date-time. */
int api_time_ok(const char *);

/* The numeric id after prefix in req->path ("/api/v1/users/" -> 12). */
int api_path_id(struct http_request *, const char *prefix, int64_t *);

/* The request body, read once and kept across re-entries (Kore's body
 * read consumes it).  Replies 413 and returns 0 when over max. */
int api_body_raw(struct http_request *, struct api_ctx *, size_t max,
    const char **, size_t *);
/* The body as a JSON object in c->body (API_NEED_BODY): replies 415
 * unless application/json, 413, or 400 bad_json, and returns 0. */
int api_body_object(struct http_request *, struct api_ctx *);
/*
 * Body member checks over c->body that reply nothing: a refusal is added
 * to e (and 0 returned), so a handler can check every member and then
 * answer them all with api_error_fields().
 */
int api_check_str(struct api_ctx *, struct agentproto_err *e, const char *,
    int required, size_t max, const char **out);
int api_check_bool(struct api_ctx *, struct agentproto_err *e, const char *,
    int *present, int *out);
int api_check_id(struct api_ctx *, struct agentproto_err *e, const char *,
    int *present, int64_t *out);
/* Exactly one of node_id and task_id: the given id, the other 0. */
int api_check_target(struct api_ctx *, struct agentproto_err *e, int64_t *node,
    int64_t *task);
/* Body member helpers over c->body: reply 400 naming the field on error. */
int api_body_str(struct http_request *, struct api_ctx *, const char *,
    int required, size_t max, const char **out);
int api_body_bool(struct http_request *, struct api_ctx *, const char *,
    int *present, int *out);
int api_body_id(struct http_request *, struct api_ctx *, const char *,
    int *present, int64_t *out);

/* An EWS account name (a token's sub) typed by an admin: 1 to
 * API_SUB_MAX bytes, no control characters (api_body_str checks those), no
 * space at either end (users.c). */
#define API_SUB_MAX 255
int api_sub_ok(const char *);

/* Peer address for the audit log. */
void api_remote_addr(struct http_request *, char *, size_t);

/*
 * Secrets (secret.c).
 */

/* 32 random bytes as 43 base64url characters (enrolment tokens, secrets). */
void api_random_token(char *, size_t);
/* Lower-case hex SHA-256 (65 bytes with NUL). */
void api_sha256_hex(const char *, size_t, char *, size_t);

/* Nodes and agents (agent.c): wake a node's parked long-poll on every
 * instance; worker start of the agent side (credentials, heartbeat table,
 * Redis routes, worker 1's duties). */
void api_node_wake(int64_t);
void api_agent_worker_init(void);
/* nodeauth.c: drop a node's cached credential here and on every instance
 * after a revocation, and end its parked poll. */
void api_nodes_changed(int64_t);

/* The outbox's sender (outbox.c): read its secrets (parent, at start-up;
 * fatal when a configured one is missing), and register the outbox duty
 * (worker 1). */
void api_outbox_load(void);
void api_outbox_worker_init(void);

/* The Apollo follower (apollo.c): worker 1, when YARD_APOLLO_URL is set,
 * registers its duties and follows Apollo while this instance leads. */
void api_apollo_worker_init(void);

/* UI: load pages and assets at start-up (parent). */
void api_ui_load(void);
/* The agent packages of YARD_AGENT_DIST_DIR (dist.c): read by the parent;
 * api_dist_item(i) is {name, version, arch, size, sha256, url}. */
void	api_dist_load(void);
size_t	api_dist_count(void);
json_t *api_dist_item(size_t);

/* Handlers. */
int api_health_get(struct http_request *);
int api_ready_get(struct http_request *);
int api_prom_get(struct http_request *);
int api_me(struct http_request *);
int api_users(struct http_request *);
int api_user(struct http_request *);
int api_grants(struct http_request *);
int api_grant(struct http_request *);
int api_audit(struct http_request *);
int api_nodes(struct http_request *);
int api_node(struct http_request *);
int api_metrics(struct http_request *);
int api_notifications(struct http_request *);
int api_notifications_unread(struct http_request *);
int api_notification_read(struct http_request *);
int api_notifications_read_all(struct http_request *);
int api_notifications_deliveries(struct http_request *);
int api_enrollments(struct http_request *);
int api_commands(struct http_request *);
int api_command(struct http_request *);
int api_agent_enroll(struct http_request *);
int api_agent_heartbeat(struct http_request *);
int api_agent_commands(struct http_request *);
int api_agent_result(struct http_request *);
int api_agent_logs(struct http_request *);
int api_task_logs(struct http_request *);
int api_task_config_file(struct http_request *);
int api_tasks(struct http_request *);
int api_task(struct http_request *);
int api_task_releases(struct http_request *);
int api_task_events(struct http_request *);
/* Task configurations (config.c). */
int api_task_config(struct http_request *);
int api_config_preview(struct http_request *);
/* Decrypt every "enc" of a command payload's config.values into "value"
 * (for one delivery): 1, or 0 with err naming the key. */
int api_config_reveal(json_t *payload, char *err, size_t errlen);
int api_ui_page(struct http_request *);
/* Uploads (uploads.c) and packages (packages.c). */
void api_uploads_prepare(void); /* parent: directories, body limit */
void api_uploads_init(void); /* worker start */
int  api_uploads(struct http_request *);
int  api_upload(struct http_request *);
void api_packages_init(void); /* worker start: retention (worker 1) */
int  api_packages(struct http_request *);
int  api_package(struct http_request *);
int  api_package_page(struct http_request *); /* .../manifest, .../diff */
int  api_agent_package(struct http_request *);
int  api_agent_dist(struct http_request *);
int  api_ui_static(struct http_request *);
/* Alerts (alerts.c). */
int api_alert_rules(struct http_request *);
int api_alert_rule(struct http_request *);
int api_alert_preview(struct http_request *);
int api_alert_events(struct http_request *);
int api_alert_event(struct http_request *);
int api_alert_summary(struct http_request *);
int api_mutes(struct http_request *);
int api_mute(struct http_request *);

#endif /* API_H */
