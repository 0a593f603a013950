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
#include "core/core.h"
#include "store/store.h"

/* GET and HEAD only: a probe that posts is a mistake worth a 405. */
static int
health_method(struct http_request *req)
{
	return (
	    req->method == HTTP_METHOD_GET || req->method == HTTP_METHOD_HEAD);
}

int
api_health_get(struct http_request *req)
{
	if (!health_method(req))
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
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
	if (!health_method(req))
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
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

/*
 * GET /metrics: the instance's series (src/core/metrics.c), the JWKS,
 * Redis, and gauges from PostgreSQL (one statement); PostgreSQL down is
 * yard_postgres_up 0, not an error.  docs/operations.md lists them.
 */
enum prom_state { PROM_DB = 0 };

static int  prom_db(struct http_request *);
static void prom_write(struct http_request *, struct api_ctx *, int);
static void prom_jwks(struct kore_buf *);
static void prom_store(struct kore_buf *, struct api_ctx *);
static void prom_label(struct kore_buf *, const char *);

static struct http_state prom_states[] = {
	KORE_HTTP_STATE(prom_db),
};

int
api_prom_get(struct http_request *req)
{
	if (!health_method(req))
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(prom_states, API_NSTATES(prom_states), req));
}

static int
prom_db(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum store_step s;

	if ((s = store_metrics_gauges(c->q, req)) == STORE_WAIT)
		return (HTTP_STATE_RETRY);
	prom_write(req, c, s == STORE_OK);
	api_db_clear(c);
	return (HTTP_STATE_COMPLETE);
}

/* A label value as the text format wants it: \\, \" and \n escaped. */
static void
prom_label(struct kore_buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			kore_buf_appendf(b, "\\%c", *v);
		else if (*v == '\n')
			kore_buf_append(b, "\\n", 2);
		else
			kore_buf_append(b, v, 1);
	}
}

static void
prom_jwks(struct kore_buf *b)
{
	struct auth_jwks_status st;
	int64_t			now;

	auth_sso_jwks_status(&st);
	now = (int64_t)time(NULL);
	kore_buf_appendf(b,
	    "# HELP yard_jwks_configured Whether a JWKS URL is set "
	    "(YARD_EWS_JWKS_URL).\n"
	    "# TYPE yard_jwks_configured gauge\n"
	    "yard_jwks_configured %d\n"
	    "# HELP yard_jwks_fetches_total JWKS fetches begun.\n"
	    "# TYPE yard_jwks_fetches_total counter\n"
	    "yard_jwks_fetches_total %" PRIu64 "\n"
	    "# HELP yard_jwks_failures_total JWKS fetches that failed and "
	    "kept the last good set.\n"
	    "# TYPE yard_jwks_failures_total counter\n"
	    "yard_jwks_failures_total %" PRIu64 "\n"
	    "# HELP yard_jwks_keys Keys from the JWKS in the set in use.\n"
	    "# TYPE yard_jwks_keys gauge\n"
	    "yard_jwks_keys %zu\n"
	    "# HELP yard_jwks_stale Whether the JWKS in use is stale: set but "
	    "never fetched well, or its last fetch failed.\n"
	    "# TYPE yard_jwks_stale gauge\n"
	    "yard_jwks_stale %d\n"
	    "# HELP yard_jwks_last_success_age_seconds Seconds since the last "
	    "fetch that gave a usable JWKS (absent when none did).\n"
	    "# TYPE yard_jwks_last_success_age_seconds gauge\n",
	    st.configured ? 1 : 0, st.fetches, st.failures, st.keys,
	    st.configured && (st.last_ok == 0 || st.last_try > st.last_ok), 0);
	if (st.last_ok != 0)
		kore_buf_appendf(b,
		    "yard_jwks_last_success_age_seconds %" PRId64 "\n",
		    now > st.last_ok ? now - st.last_ok : 0);
}

/* Nodes, tasks and commands as the statement counted them. */
static void
prom_store(struct kore_buf *b, struct api_ctx *c)
{
	static const char *kinds[] = { "node", "task", "command" };
	static const char *help[] = {
		"# HELP yard_nodes Nodes by presence (online, offline, lost, "
		"new: never seen, revoked).\n"
		"# TYPE yard_nodes gauge\n",
		"# HELP yard_tasks Tasks by the state their agent reports.\n"
		"# TYPE yard_tasks gauge\n",
		"# HELP yard_commands_recent Commands issued in the last 24 "
		"hours (by the issued_at index), by type and present state.\n"
		"# TYPE yard_commands_recent gauge\n",
	};
	const char *kind, *name, *type, *n;
	size_t	    k;
	int	    i;

	for (k = 0; k < 3; k++) {
		kore_buf_appendf(b, "%s", help[k]);
		for (i = 0; i < api_rows(c); i++) {
			kind = api_val(c, i, 0);
			name = api_val(c, i, 1);
			type = api_val(c, i, 2);
			n = api_val(c, i, 3);
			if (kind == NULL || name == NULL || type == NULL ||
			    n == NULL || strcmp(kind, kinds[k]) != 0)
				continue;
			if (k == 0) {
				kore_buf_appendf(b, "yard_nodes{presence=\"");
			} else if (k == 1) {
				kore_buf_appendf(b, "yard_tasks{state=\"");
			} else {
				kore_buf_appendf(b,
				    "yard_commands_recent{type=\"");
				prom_label(b, type);
				kore_buf_appendf(b, "\",state=\"");
			}
			prom_label(b, name);
			kore_buf_appendf(b, "\"} %s\n", n);
		}
	}
}

static void
prom_write(struct http_request *req, struct api_ctx *c, int pg)
{
	struct kore_buf b;

	kore_buf_init(&b, 8192);
	kore_buf_appendf(&b,
	    "# HELP yard_build_info Yard version.\n"
	    "# TYPE yard_build_info gauge\n"
	    "yard_build_info{version=\"%s\"} 1\n"
	    "# HELP yard_postgres_up Whether PostgreSQL answered this "
	    "scrape's statement.\n"
	    "# TYPE yard_postgres_up gauge\n"
	    "yard_postgres_up %d\n"
	    "# HELP yard_redis_up Whether every worker's Redis connection "
	    "answered a PING in the last 3 s.\n"
	    "# TYPE yard_redis_up gauge\n"
	    "yard_redis_up %d\n"
	    "# HELP yard_scrape_worker The worker that served this scrape "
	    "(1 to YARD_WORKERS); every other series is the instance's.\n"
	    "# TYPE yard_scrape_worker gauge\n"
	    "yard_scrape_worker %u\n",
	    APP_VERSION, pg, core_metrics_redis_up(), worker->id);
	core_metrics_write(&b);
	prom_jwks(&b);
	if (pg)
		prom_store(&b, c);
	http_response_header(req, "content-type", "text/plain; version=0.0.4");
	http_response_header(req, "cache-control", "no-store");
	http_response(req, 200, b.data, b.offset);
	kore_buf_cleanup(&b);
}
