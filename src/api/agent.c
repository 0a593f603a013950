/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The agent side of the server (docs/agent-protocol.md): enrolment, node
 * credentials, the command long-poll, command results and log chunks
 * (heartbeats: heartbeat.c).  The statements are the store's
 * (src/store/agents.c); the cluster's duties too (src/store/duties.c).
 *
 * Long-polls park in the waiting room on "node:<id>" and are woken by a
 * Redis message on every instance (or at once when the command was issued
 * by this worker); with Redis down they read the ledger again every
 * second instead.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "app.h"
#include "api/api.h"
#include "api/agent.h"
#include "agentproto/agentproto.h"
#include "core/core.h"
#include "store/store.h"

#define RECHECK_MS 1000 /* a parked poll without Redis */

/* POST /agent/v1/enroll */
enum enrol_state { ENROL_DECODE = 0, ENROL_STORE };

struct enrol_flow {
	char  secret[128]; /* the node's new secret: wiped */
	char  token_hash[65];
	char  secret_hash[65];
	char  remote[64];
	char  hostname[AGENTPROTO_STR_MAX + 1];
	char  version[AGENTPROTO_STR_MAX + 1];
	char *facts; /* json text, malloc'd */
};

static int  enrol_decode(struct http_request *);
static int  enrol_store(struct http_request *);
static void enrol_flow_free(void *);

static struct http_state enrol_states[] = {
	KORE_HTTP_STATE(enrol_decode),
	KORE_HTTP_STATE(enrol_store),
};

/* GET /agent/v1/commands: the long-poll. */
enum poll_state { POLL_AUTH = 0, POLL_READ, POLL_PARKED, POLL_FAIL };

struct poll_flow {
	int64_t	 node;
	uint64_t t0; /* when it came */
	int64_t	 after; /* the last seq the agent has */
	int64_t	 wait; /* seconds */
	char	*answer; /* with secrets in clear: wiped, free() */
	char	*fails; /* commands that cannot be delivered: free() */
};

static int  poll_auth(struct http_request *);
static int  poll_read(struct http_request *);
static int  poll_parked(struct http_request *);
static int  poll_fail(struct http_request *);
static void poll_flow_free(void *);
static int  poll_reveal(struct poll_flow *, const char *);

static struct http_state poll_states[] = {
	KORE_HTTP_STATE(poll_auth),
	KORE_HTTP_STATE(poll_read),
	KORE_HTTP_STATE(poll_parked),
	KORE_HTTP_STATE(poll_fail),
};

/* POST /agent/v1/commands/{id}/result */
enum result_state { RESULT_AUTH = 0, RESULT_DECODE, RESULT_STORE };

struct result_flow {
	int64_t			 node;
	char			 command[37];
	struct agentproto_result r; /* decoded, owned */
	char			 progress[64]; /* json text; "" none */
	char			*releases; /* json_dumps of r.releases */
	char			*params; /* json_dumps of r.params */
};

static int  result_auth(struct http_request *);
static int  result_decode(struct http_request *);
static int  result_store(struct http_request *);
static void result_flow_free(void *);

static struct http_state result_states[] = {
	KORE_HTTP_STATE(result_auth),
	KORE_HTTP_STATE(result_decode),
	KORE_HTTP_STATE(result_store),
};

/* POST /agent/v1/logs/{id}: one chunk of a log request's answer. */
enum chunk_state { CHUNK_AUTH = 0, CHUNK_DECODE, CHUNK_STORE };

struct chunk_flow {
	int64_t			   node;
	char			   request[37];
	struct agentproto_logchunk ch; /* decoded, owned */
	char			  *files; /* ch.files as json text, malloc'd */
	char			  *marks; /* ch.marks as json text, malloc'd */
};

static int   chunk_auth(struct http_request *);
static int   chunk_decode(struct http_request *);
static int   chunk_store(struct http_request *);
static void  chunk_flow_free(void *);
static char *chunk_marks(const struct agentproto_logchunk *);

static struct http_state chunk_states[] = {
	KORE_HTTP_STATE(chunk_auth),
	KORE_HTTP_STATE(chunk_decode),
	KORE_HTTP_STATE(chunk_store),
};

static char *facts_text(const struct agentproto_facts *);

/* Wake-ups in the form of older instances: a bare node id or "all" on
 * yard:wake, a log request id on yard:logs. */
static void
on_wake_legacy(const char *msg, size_t len)
{
	char key[64];

	if (strcmp(msg, "all") == 0)
		core_wait_wake("node:", 1);
	else if (msg[0] >= '0' && msg[0] <= '9') {
		(void)snprintf(key, sizeof(key), "node:%s", msg);
		core_wait_wake(key, 0);
	}
}

static void
on_logs_legacy(const char *msg, size_t len)
{
	char key[64];

	(void)snprintf(key, sizeof(key), "log:%s", msg);
	core_wait_wake(key, 0);
}

void
api_agent_worker_init(void)
{
	api_nodeauth_init();
	api_heartbeat_init();
	core_redis_route(STORE_CHAN_WAKE, on_wake_legacy);
	core_redis_route(STORE_CHAN_LOGS, on_logs_legacy);
	/* One candidate per instance: worker 1. */
	if (worker->id == 1) {
		store_duties_register(core_duty_add);
		core_leader_start(app.cfg.pg_dsn, app.cfg.listen);
	}
}

void
api_node_wake(int64_t node_id)
{
	char key[32];

	api_node_key(node_id, key, sizeof(key));
	core_wake(key);
}

static char *
facts_text(const struct agentproto_facts *f)
{
	json_t *j;
	char   *s;

	if ((j = agentproto_facts_to_json(f)) == NULL)
		return (NULL);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return (s);
}

int
api_agent_enroll(struct http_request *req)
{
	if (req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(enrol_states, API_NSTATES(enrol_states), req));
}

static void
enrol_flow_free(void *arg)
{
	struct enrol_flow *f = arg;

	free(f->facts);
	explicit_bzero(f, sizeof(*f));
}

/* The request as the statement's values; the node's secret made once. */
static int
enrol_decode(struct http_request *req)
{
	struct api_ctx		    *c = api_ctx_get(req);
	struct enrol_flow	    *f;
	struct agentproto_enroll_req en;
	struct agentproto_err	     err;
	const char		    *buf;
	size_t			     len;

	f = api_flow(c, sizeof(*f), enrol_flow_free);
	if (!api_body_raw(req, c, AGENTPROTO_BODY_MAX, &buf, &len))
		return (HTTP_STATE_COMPLETE);
	if (!agentproto_enroll_req_decode(buf, len, &en, &err)) {
		explicit_bzero(&en, sizeof(en));
		return (
		    API_FIN(api_agent_error(req, 400, "bad_request", &err)));
	}
	api_random_token(f->secret, sizeof(f->secret));
	api_sha256_hex(en.token, strlen(en.token), f->token_hash,
	    sizeof(f->token_hash));
	api_sha256_hex(f->secret, strlen(f->secret), f->secret_hash,
	    sizeof(f->secret_hash));
	api_remote_addr(req, f->remote, sizeof(f->remote));
	kore_strlcpy(f->hostname, en.facts.hostname, sizeof(f->hostname));
	kore_strlcpy(f->version, en.facts.agent_version, sizeof(f->version));
	f->facts = facts_text(&en.facts);
	explicit_bzero(&en, sizeof(en));
	if (f->facts == NULL)
		return (API_FIN(api_error(req, 500, "internal", NULL, NULL)));
	req->fsm_state = ENROL_STORE;
	return (HTTP_STATE_CONTINUE);
}

static int
enrol_store(struct http_request *req)
{
	struct api_ctx	  *c = api_ctx_get(req);
	struct enrol_flow *f = c->flow;
	struct store_enrol en;
	enum api_step	   s;
	char		   out[256];

	en.token_hash = f->token_hash;
	en.hostname = f->hostname;
	en.secret_hash = f->secret_hash;
	en.facts = f->facts;
	en.version = f->version;
	en.remote = f->remote;
	s = api_store(req, c, store_agent_enrol(c->q, req, &en), "exists");
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) != 1) {
		api_db_clear(c);
		return (API_FIN(api_error(req, 401, "bad_enrollment_token",
		    "the enrolment token is unknown, used or expired", NULL)));
	}
	snprintf(out, sizeof(out),
	    "{\"v\":1,\"node_id\":%s,\"secret\":\"%s\","
	    "\"heartbeat_interval\":%" PRId64 ",\"poll_timeout\":%" PRId64 "}",
	    api_val(c, 0, 0), f->secret, app.cfg.heartbeat_interval,
	    app.cfg.poll_timeout);
	kore_log(LOG_INFO, "agent: node %s enrolled as %s", api_val(c, 0, 0),
	    api_val(c, 0, 1));
	api_db_clear(c);
	api_agent_reply(req, 201, out);
	explicit_bzero(out, sizeof(out));
	return (HTTP_STATE_COMPLETE);
}

int
api_agent_commands(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(poll_states, API_NSTATES(poll_states), req));
}

static int
poll_auth(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct poll_flow *f;
	enum api_step	  s;

	f = api_flow(c, sizeof(*f), poll_flow_free);
	if ((s = api_agent_auth(req, c, &f->node)) != API_GO)
		return (api_state(s));
	f->t0 = kore_time_ms();
	if (!api_qs_int(req, "after", 0, INT64_MAX, 0, &f->after) ||
	    !api_qs_int(req, "wait", 0, 60, app.cfg.poll_timeout, &f->wait))
		return (HTTP_STATE_COMPLETE);
	req->fsm_state = POLL_READ;
	return (HTTP_STATE_CONTINUE);
}

/* Read the ledger: hand out what is pending, or park until there is. */
static int
poll_read(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct poll_flow *f = c->flow;
	enum api_step	  s;
	char		  key[32];

	s = api_store(req, c,
	    store_agent_dispatch(c->q, req, f->node, f->after), NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_val_int(c, 0, 0) > 0) {
		core_metrics_dispatched_list(api_val(c, 0, 2));
		/* Secret configuration values go out in clear, to this
		 * answer only. */
		if (strstr(api_val(c, 0, 1), "\"enc\":") == NULL) {
			api_agent_reply(req, 200, api_val(c, 0, 1));
			api_db_clear(c);
			return (HTTP_STATE_COMPLETE);
		}
		if (!poll_reveal(f, api_val(c, 0, 1))) {
			api_db_clear(c);
			return (API_FIN(api_error(req, 500, "internal",
			    "cannot prepare the commands", NULL)));
		}
		api_db_clear(c);
		if (f->fails != NULL) {
			req->fsm_state = POLL_FAIL;
			return (HTTP_STATE_CONTINUE);
		}
		return (API_FIN(api_agent_reply(req, 200, f->answer)));
	}
	api_db_clear(c);
	if (f->wait == 0 || kore_time_ms() - f->t0 >= (uint64_t)f->wait * 1000)
		return (API_FIN(api_agent_reply(req, 204, NULL)));

	/* Nothing yet: park until a wake-up or the deadline; without Redis
	 * read the ledger again every second. */
	api_node_key(f->node, key, sizeof(key));
	req->fsm_state = POLL_PARKED;
	(void)core_wait_park(&c->wait, req, key,
	    f->t0 + (uint64_t)f->wait * 1000, RECHECK_MS);
	return (HTTP_STATE_RETRY);
}

static int
poll_parked(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);

	if (!core_wait_woken(&c->wait))
		return (HTTP_STATE_RETRY);
	if (kore_time_ms() >= c->wait.deadline)
		return (API_FIN(api_agent_reply(req, 204, NULL)));
	/* Stay listed while reading: a wake-up meanwhile is kept. */
	core_wait_read(&c->wait);
	req->fsm_state = POLL_READ;
	return (HTTP_STATE_CONTINUE);
}

static void
poll_flow_free(void *p)
{
	struct poll_flow *f = p;

	if (f->answer != NULL) {
		explicit_bzero(f->answer, strlen(f->answer));
		free(f->answer);
		f->answer = NULL;
	}
	free(f->fails);
	f->fails = NULL;
}

/*
 * The dispatch answer with every command's configuration decrypted
 * (api_config_reveal()) in f->answer; a command whose configuration does
 * not decrypt is left out and listed in f->fails ({"id","error"}) to be
 * failed.  0 when out of memory or the answer does not parse.
 */
static int
poll_reveal(struct poll_flow *f, const char *text)
{
	json_t *j, *cmds, *cmd, *fails;
	size_t	i;
	char	err[320];

	if ((j = json_loads(text, 0, NULL)) == NULL)
		return (0);
	cmds = json_object_get(j, "commands");
	fails = json_array();
	for (i = 0; i < json_array_size(cmds);) {
		cmd = json_array_get(cmds, i);
		if (api_config_reveal(json_object_get(cmd, "payload"), err,
			sizeof(err))) {
			i++;
			continue;
		}
		kore_log(LOG_WARNING, "agent: command %s not delivered: %s",
		    json_string_value(json_object_get(cmd, "id")), err);
		(void)json_array_append_new(fails,
		    json_pack("{s:O,s:s}", "id", json_object_get(cmd, "id"),
			"error", err));
		(void)json_array_remove(cmds, i);
	}
	f->answer = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (json_array_size(fails) > 0)
		f->fails = json_dumps(fails, JSON_COMPACT);
	json_decref(fails);
	return (f->answer != NULL);
}

/* Fail the commands that cannot be delivered, then answer the rest. */
static int
poll_fail(struct http_request *req)
{
	struct api_ctx	 *c = api_ctx_get(req);
	struct poll_flow *f = c->flow;
	enum api_step	  s;

	s = api_store(req, c, store_agent_fail(c->q, req, f->node, f->fails),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	api_db_clear(c);
	return (API_FIN(api_agent_reply(req, 200, f->answer)));
}

int
api_agent_result(struct http_request *req)
{
	const char *p;

	if (req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	p = req->path + strlen("/agent/v1/commands/");
	if (strlen(p) != 36 + 7 || strcmp(p + 36, "/result") != 0)
		return (api_not_found(req));
	return (http_state_run(result_states, API_NSTATES(result_states), req));
}

static void
result_flow_free(void *arg)
{
	struct result_flow *f = arg;

	agentproto_result_cleanup(&f->r);
	free(f->releases);
	f->releases = NULL;
	free(f->params);
	f->params = NULL;
}

static int
result_auth(struct http_request *req)
{
	struct api_ctx	   *c = api_ctx_get(req);
	struct result_flow *f;
	enum api_step	    s;

	f = api_flow(c, sizeof(*f), result_flow_free);
	if ((s = api_agent_auth(req, c, &f->node)) != API_GO)
		return (api_state(s));
	memcpy(f->command, req->path + strlen("/agent/v1/commands/"), 36);
	f->command[36] = '\0';
	req->fsm_state = RESULT_DECODE;
	return (HTTP_STATE_CONTINUE);
}

static int
result_decode(struct http_request *req)
{
	struct api_ctx	     *c = api_ctx_get(req);
	struct result_flow   *f = c->flow;
	struct agentproto_err err;
	const char	     *buf;
	size_t		      len;

	if (!api_body_raw(req, c, AGENTPROTO_BODY_MAX, &buf, &len))
		return (HTTP_STATE_COMPLETE);
	if (!agentproto_result_decode(buf, len, &f->r, &err))
		return (
		    API_FIN(api_agent_error(req, 400, "bad_request", &err)));
	if (!agentproto_uuid_valid(f->command))
		return (API_FIN(api_not_found(req)));
	/* Both checked by the decoder: a known step, a small number. */
	if (f->r.has_progress)
		(void)snprintf(f->progress, sizeof(f->progress),
		    "{\"step\":\"%s\",\"percent\":%" PRId64 "}",
		    f->r.progress_step, f->r.progress_percent);
	if (f->r.releases != NULL &&
	    (f->releases = json_dumps(f->r.releases, JSON_COMPACT)) == NULL)
		return (API_FIN(api_error(req, 500, "internal", NULL, NULL)));
	if (f->r.params != NULL &&
	    (f->params = json_dumps(f->r.params, JSON_COMPACT)) == NULL)
		return (API_FIN(api_error(req, 500, "internal", NULL, NULL)));
	req->fsm_state = RESULT_STORE;
	return (HTTP_STATE_CONTINUE);
}

static int
result_store(struct http_request *req)
{
	struct api_ctx	       *c = api_ctx_get(req);
	struct result_flow     *f = c->flow;
	struct store_cmd_result r;
	enum api_step		s;

	r.command = f->command;
	r.node = f->node;
	r.state = agentproto_state_name(f->r.state);
	r.has_exit_status = f->r.has_exit_status;
	r.exit_status = f->r.exit_status;
	r.output = f->r.output != NULL ? f->r.output : "";
	r.received_ms = f->r.received_at;
	r.has_finished_ms = f->r.has_finished_at;
	r.finished_ms = f->r.finished_at;
	r.progress = f->progress[0] != '\0' ? f->progress : NULL;
	r.releases = f->releases;
	r.code = f->r.code[0] != '\0' ? f->r.code : NULL;
	r.params = f->params;
	s = api_store(req, c, store_agent_result(c->q, req, &r), NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_val_int(c, 0, 1) == 0) {
		api_db_clear(c);
		return (API_FIN(api_not_found(req)));
	}
	api_db_clear(c);
	return (API_FIN(api_agent_reply(req, 200, "{\"v\":1}")));
}

int
api_agent_logs(struct http_request *req)
{
	const char *p;

	if (req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	p = req->path + strlen("/agent/v1/logs/");
	if (strlen(p) != 36 || !agentproto_uuid_valid(p))
		return (api_not_found(req));
	return (http_state_run(chunk_states, API_NSTATES(chunk_states), req));
}

static void
chunk_flow_free(void *arg)
{
	struct chunk_flow *f = arg;

	free(f->files);
	free(f->marks);
	agentproto_logchunk_cleanup(&f->ch);
}

/* A chunk's stderr ranges (validated by the decoder) as json text,
 * malloc'd; NULL when out of memory. */
static char *
chunk_marks(const struct agentproto_logchunk *ch)
{
	struct kore_buf b;
	char	       *out;
	size_t		i;

	kore_buf_init(&b, 16 * ch->nmarks + 2);
	kore_buf_append(&b, "[", 1);
	for (i = 0; i < ch->nmarks; i++)
		kore_buf_appendf(&b, "%s[%" PRId64 ",%" PRId64 "]",
		    i > 0 ? "," : "", ch->marks[2 * i], ch->marks[2 * i + 1]);
	kore_buf_append(&b, "]", 1);
	if ((out = malloc(b.offset + 1)) != NULL) {
		memcpy(out, b.data, b.offset);
		out[b.offset] = '\0';
	}
	kore_buf_cleanup(&b);
	return (out);
}

static int
chunk_auth(struct http_request *req)
{
	struct api_ctx	  *c = api_ctx_get(req);
	struct chunk_flow *f;
	enum api_step	   s;

	f = api_flow(c, sizeof(*f), chunk_flow_free);
	if ((s = api_agent_auth(req, c, &f->node)) != API_GO)
		return (api_state(s));
	(void)snprintf(f->request, sizeof(f->request), "%s",
	    req->path + strlen("/agent/v1/logs/"));
	req->fsm_state = CHUNK_DECODE;
	return (HTTP_STATE_CONTINUE);
}

static int
chunk_decode(struct http_request *req)
{
	struct api_ctx	     *c = api_ctx_get(req);
	struct chunk_flow    *f = c->flow;
	struct agentproto_err err;
	const char	     *buf;
	size_t		      len;

	if (!api_body_raw(req, c, AGENTPROTO_BODY_MAX, &buf, &len))
		return (HTTP_STATE_COMPLETE);
	if (!agentproto_logchunk_decode(buf, len, &f->ch, &err))
		return (
		    API_FIN(api_agent_error(req, 400, "bad_request", &err)));
	if (f->ch.files != NULL)
		f->files = json_dumps(f->ch.files, JSON_COMPACT);
	if (f->ch.nmarks > 0 && (f->marks = chunk_marks(&f->ch)) == NULL)
		return (API_FIN(api_error(req, 500, "internal", NULL, NULL)));
	req->fsm_state = CHUNK_STORE;
	return (HTTP_STATE_CONTINUE);
}

static int
chunk_store(struct http_request *req)
{
	struct api_ctx	      *c = api_ctx_get(req);
	struct chunk_flow     *f = c->flow;
	struct store_log_chunk ch;
	enum api_step	       s;
	char		       key[48];
	int		       follow;

	ch.request = f->request;
	ch.node = f->node;
	ch.seq = f->ch.seq;
	ch.data = f->ch.data;
	ch.done = f->ch.done;
	ch.error = f->ch.error[0] != '\0' ? f->ch.error : NULL;
	ch.files = f->files;
	ch.size = f->ch.size;
	ch.matches = f->ch.matches;
	ch.truncated = f->ch.truncated;
	ch.stderr_ranges = f->marks;
	s = api_store(req, c, store_agent_log_chunk(c->q, req, &ch), NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_val_int(c, 0, 0) == 0) {
		api_db_clear(c);
		return (API_FIN(api_not_found(req)));
	}
	follow = store_val_bool(c->q, 0, 1);
	if (api_val_int(c, 0, 2) > 0) {
		/* Wake the browsers waiting for it, here and elsewhere. */
		(void)snprintf(key, sizeof(key), "log:%s", f->request);
		core_wake(key);
	}
	api_db_clear(c);
	return (API_FIN(api_agent_reply(req, 200,
	    follow ? "{\"v\":1,\"follow\":true}"
		   : "{\"v\":1,\"follow\":false}")));
}
