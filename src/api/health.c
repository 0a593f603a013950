/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Liveness, readiness and Prometheus metrics for operators.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <jansson.h>

#include "app.h"
#include "api/api.h"
#include "auth/auth.h"
#include "store/store.h"

int
api_health_get(struct http_request *req)
{
	http_response_header(req, "content-type", "application/json");
	http_response_header(req, "cache-control", "no-store");
	http_response(req, 200, "{\"status\":\"ok\"}", 15);
	return (KORE_RESULT_OK);
}

/* GET /readyz: ready when PostgreSQL answers a statement and Redis
 * answered a PING lately. */
enum ready_state { READY_REDIS = 0, READY_PG };

struct ready_flow {
	int redis; /* Redis was healthy when the request came */
};

static int     ready_redis(struct http_request *);
static int     ready_pg(struct http_request *);
static json_t *ready_jwks(void);

static struct http_state ready_states[] = {
	KORE_HTTP_STATE(ready_redis),
	KORE_HTTP_STATE(ready_pg),
};

int
api_ready_get(struct http_request *req)
{
	return (http_state_run(ready_states, API_NSTATES(ready_states), req));
}

/* Check Redis first: no waiting when it is already down. */
static int
ready_redis(struct http_request *req)
{
	struct ready_flow *f;

	f = api_flow(api_ctx_get(req), sizeof(*f), NULL);
	f->redis = store_redis_healthy();
	req->fsm_state = READY_PG;
	return (HTTP_STATE_CONTINUE);
}

/*
 * The instance's JWKS: "off" (no URL), "ok" (the last fetch gave a set),
 * "stale" (it failed; the last good set is in use), "failed" (no set was
 * ever fetched: only the PEM keys and the secret verify).  None of them
 * makes the instance unready: it always has a usable key.
 */
static json_t *
ready_jwks(void)
{
	struct auth_jwks_status st;
	const char	       *state;
	json_t		       *j;

	auth_sso_jwks_status(&st);
	if (!st.configured)
		return (json_pack("{s:s}", "state", "off"));
	if (st.last_ok == 0)
		state = "failed";
	else if (st.error[0] != '\0')
		state = "stale";
	else
		state = "ok";
	j = json_pack("{s:s, s:I, s:I, s:s}", "state", state, "keys",
	    (json_int_t)st.keys, "generation", (json_int_t)st.generation,
	    "error", st.error);
	if (j != NULL)
		json_object_set_new(j, "age_s",
		    st.last_ok == 0
			? json_null()
			: json_integer((json_int_t)(time(NULL) - st.last_ok)));
	return (j);
}

static int
ready_pg(struct http_request *req)
{
	struct api_ctx	  *c = api_ctx_get(req);
	struct ready_flow *f = c->flow;
	enum api_step	   s;
	json_t		  *j;
	char		  *body;

	/* PostgreSQL down: api_store() answered 503 already. */
	if ((s = api_store(req, c, store_ping(c->q, req), NULL)) != API_GO)
		return (api_state(s));
	api_db_clear(c);
	j = json_pack("{s:s, s:s, s:s, s:o*}", "status",
	    f->redis ? "ready" : "unavailable", "postgres", "ok", "redis",
	    f->redis ? "ok" : "down", "jwks", ready_jwks());
	if (j == NULL || (body = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		api_error(req, 500, "internal", NULL, NULL);
		return (HTTP_STATE_COMPLETE);
	}
	json_decref(j);
	http_response_header(req, "content-type", "application/json");
	http_response_header(req, "cache-control", "no-store");
	if (!f->redis)
		http_response_header(req, "retry-after", "2");
	http_response(req, f->redis ? 200 : 503, body, strlen(body));
	free(body);
	return (HTTP_STATE_COMPLETE);
}

int
api_prom_get(struct http_request *req)
{
	struct kore_buf b;

	kore_buf_init(&b, 1024);
	kore_buf_appendf(&b,
	    "# HELP yard_build_info Yard version.\n"
	    "# TYPE yard_build_info gauge\n"
	    "yard_build_info{version=\"%s\"} 1\n"
	    "# HELP yard_token_cache_hits_total Verified-token cache hits "
	    "(this worker).\n"
	    "# TYPE yard_token_cache_hits_total counter\n"
	    "yard_token_cache_hits_total{worker=\"%u\"} %" PRIu64 "\n"
	    "# TYPE yard_token_cache_misses_total counter\n"
	    "yard_token_cache_misses_total{worker=\"%u\"} %" PRIu64 "\n"
	    "# HELP yard_tokens_rejected_total Tokens that failed checks.\n"
	    "# TYPE yard_tokens_rejected_total counter\n"
	    "yard_tokens_rejected_total{worker=\"%u\"} %" PRIu64 "\n"
	    "# TYPE yard_jwks_fetches_total counter\n"
	    "yard_jwks_fetches_total{worker=\"%u\"} %" PRIu64 "\n"
	    "# TYPE yard_jwks_failures_total counter\n"
	    "yard_jwks_failures_total{worker=\"%u\"} %" PRIu64 "\n"
	    "# TYPE yard_redis_up gauge\n"
	    "yard_redis_up{worker=\"%u\"} %d\n",
	    APP_VERSION, worker->id, auth_sso_stats.cache_hits, worker->id,
	    auth_sso_stats.cache_misses, worker->id, auth_sso_stats.rejected,
	    worker->id, auth_sso_stats.jwks_fetches, worker->id,
	    auth_sso_stats.jwks_failures, worker->id, store_redis_healthy());
	http_response_header(req, "content-type", "text/plain; version=0.0.4");
	http_response_header(req, "cache-control", "no-store");
	http_response(req, 200, b.data, b.offset);
	kore_buf_cleanup(&b);
	return (KORE_RESULT_OK);
}
