/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Instance-wide metrics for /metrics: counters in one block of memory the
 * parent maps shared (MAP_SHARED | MAP_ANONYMOUS) before it forks the
 * workers, so every worker adds to the same counters with atomics and any
 * worker answers a scrape with the instance's totals.  Gauges that belong
 * to a worker (parked requests, its Redis connection) live in per-worker
 * slots that a scrape sums; a worker zeroes its slots when it starts, so a
 * restarted worker does not count what its predecessor held.
 *
 * HTTP requests are counted where every routed request passes when its
 * handler is done: each route's runtime call is wrapped (core_metrics_init)
 * by one that calls Kore's native runtime and, unless the handler asks to
 * run again later (KORE_RESULT_RETRY), counts the route's class and the
 * status it answered.  Kore's own answers for paths no route matches (404,
 * 405 before a handler) never reach a handler and are not counted.
 */

#include <sys/mman.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "auth/auth.h"
#include "core/core.h"

#define MET_WORKERS   512 /* worker ids are below KORE_WORKER_MAX */
#define MET_STATUS_LO 100
#define MET_STATUS_N  500 /* 100..599 */
#define MET_TICK_MS   250
#define MET_LIVE_MS   5000 /* a worker's slot older than this: gone */

/* Upper bounds of the dispatch latency histogram, in seconds. */
static const double met_bounds[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
	60 };
#define MET_NBOUNDS (sizeof(met_bounds) / sizeof(met_bounds[0]))

struct met_worker {
	uint64_t parked[CORE_NPARKED];
	uint64_t redis_up;
	uint64_t seen_ms; /* kore_time_ms() of its last tick; 0: never */
};

struct met_shm {
	uint64_t signin[CORE_SIGNIN_N];
	uint64_t cache_hits;
	uint64_t cache_misses;
	uint64_t http[CORE_NROUTES][MET_STATUS_N];
	uint64_t dispatch[MET_NBOUNDS + 1]; /* non-cumulative; last +Inf */
	uint64_t dispatch_us; /* sum, microseconds */
	struct met_worker workers[MET_WORKERS];
};

static int  met_http_request(void *, struct http_request *);
static void met_tick(void *, uint64_t);

static struct met_shm	   *met;
static struct kore_runtime *met_native;
static struct kore_runtime  met_runtime;
static const char *const    met_routes[CORE_NROUTES] = { "api", "page", "agent",
	   "health", "upload", "other" };
static const char *const    met_parked[CORE_NPARKED] = { "agent", "log", "jwks",
	   "other" };

static uint64_t
met_load(const uint64_t *p)
{
	return (__atomic_load_n(p, __ATOMIC_RELAXED));
}

static void
met_add(uint64_t *p, uint64_t n)
{
	(void)__atomic_fetch_add(p, n, __ATOMIC_RELAXED);
}

static struct met_worker *
met_self(void)
{
	if (met == NULL || worker == NULL || worker->id >= MET_WORKERS)
		return (NULL);
	return (&met->workers[worker->id]);
}

void
core_metrics_init(void)
{
	struct kore_server	  *srv;
	struct kore_domain	  *dom;
	struct kore_module_handle *hdlr;
	void			  *p;

	p = mmap(NULL, sizeof(*met), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("metrics: mmap of %zu bytes: %s", sizeof(*met), errno_s);
	met = p; /* zeroed by the kernel */

	/* Every route's handler through met_http_request (one native
	 * runtime in a C module; anything else is left alone). */
	LIST_FOREACH (srv, &kore_servers, list) {
		TAILQ_FOREACH (dom, &srv->domains, list) {
			TAILQ_FOREACH (hdlr, &dom->handlers, list) {
				if (hdlr->rcall == NULL ||
				    hdlr->rcall->runtime == &met_runtime)
					continue;
				if (met_native == NULL) {
					met_native = hdlr->rcall->runtime;
					met_runtime = *met_native;
					met_runtime.http_request =
					    met_http_request;
				}
				if (hdlr->rcall->runtime != met_native)
					continue;
				hdlr->rcall->runtime = &met_runtime;
			}
		}
	}
}

void
core_metrics_worker(void)
{
	struct met_worker *w;

	if ((w = met_self()) == NULL)
		return;
	memset(w->parked, 0, sizeof(w->parked));
	__atomic_store_n(&w->redis_up, store_redis_healthy(), __ATOMIC_RELAXED);
	__atomic_store_n(&w->seen_ms, kore_time_ms(), __ATOMIC_RELAXED);
	kore_timer_add(met_tick, MET_TICK_MS, NULL, 0);
}

/* The worker is alive; its Redis connection as it is now. */
static void
met_tick(void *arg, uint64_t now)
{
	struct met_worker *w;

	if ((w = met_self()) == NULL)
		return;
	__atomic_store_n(&w->redis_up, store_redis_healthy(), __ATOMIC_RELAXED);
	__atomic_store_n(&w->seen_ms, now, __ATOMIC_RELAXED);
}

enum core_route
core_metrics_route(const char *path)
{
	if (path == NULL)
		return (CORE_ROUTE_OTHER);
	/* A route is a path or a regex (^/api/...). */
	if (*path == '^')
		path++;
	if (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
	    strcmp(path, "/metrics") == 0)
		return (CORE_ROUTE_HEALTH);
	if (strncmp(path, "/api/v1/uploads", 15) == 0)
		return (CORE_ROUTE_UPLOAD);
	if (strncmp(path, "/api/", 5) == 0)
		return (CORE_ROUTE_API);
	if (strncmp(path, "/agent/", 7) == 0)
		return (CORE_ROUTE_AGENT);
	if (strncmp(path, "/ui/", 4) == 0 || strcmp(path, "/") == 0)
		return (CORE_ROUTE_PAGE);
	return (CORE_ROUTE_OTHER);
}

static int
met_http_request(void *addr, struct http_request *req)
{
	int r;

	r = met_native->http_request(addr, req);
	if (r != KORE_RESULT_RETRY)
		core_metrics_http(req->hdlr != NULL ? req->hdlr->path : NULL,
		    req->status);
	return (r);
}

void
core_metrics_http(const char *route, int status)
{
	if (met == NULL || status < MET_STATUS_LO ||
	    status >= MET_STATUS_LO + MET_STATUS_N)
		return;
	met_add(&met->http[core_metrics_route(route)][status - MET_STATUS_LO],
	    1);
}

void
core_metrics_signin(int result)
{
	if (met == NULL || result < 0 || result >= CORE_SIGNIN_N)
		return;
	met_add(&met->signin[result], 1);
}

void
core_metrics_token_cache(uint64_t hits, uint64_t misses)
{
	if (met == NULL)
		return;
	if (hits > 0)
		met_add(&met->cache_hits, hits);
	if (misses > 0)
		met_add(&met->cache_misses, misses);
}

void
core_metrics_dispatched(double seconds)
{
	size_t i;

	if (met == NULL || !(seconds >= 0)) /* NaN too */
		return;
	for (i = 0; i < MET_NBOUNDS && seconds > met_bounds[i]; i++)
		;
	met_add(&met->dispatch[i], 1);
	met_add(&met->dispatch_us,
	    seconds > 1e9 ? (uint64_t)1e15 : (uint64_t)(seconds * 1e6 + 0.5));
}

void
core_metrics_dispatched_list(const char *list)
{
	const char *p;
	char	   *end;
	double	    v;

	if (list == NULL)
		return;
	for (p = list; *p != '\0'; p = end) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		v = strtod(p, &end);
		if (end == p)
			return; /* not a number: give up on the rest */
		core_metrics_dispatched(v);
	}
}

static enum core_parked
met_parked_kind(const char *key)
{
	if (strncmp(key, "node:", 5) == 0)
		return (CORE_PARKED_AGENT);
	if (strncmp(key, "log:", 4) == 0)
		return (CORE_PARKED_LOG);
	if (strcmp(key, "jwks") == 0)
		return (CORE_PARKED_JWKS);
	return (CORE_PARKED_OTHER);
}

void
core_metrics_parked(const char *key, int delta)
{
	struct met_worker *w;
	uint64_t	  *p;

	if ((w = met_self()) == NULL)
		return;
	p = &w->parked[met_parked_kind(key)];
	/* Only this worker writes its slot. */
	if (delta > 0)
		__atomic_store_n(p, *p + 1, __ATOMIC_RELAXED);
	else if (*p > 0)
		__atomic_store_n(p, *p - 1, __ATOMIC_RELAXED);
}

int
core_metrics_redis_up(void)
{
	struct met_worker *w;
	uint64_t	   now, seen;
	size_t		   i;
	int		   up, n;

	if (met == NULL)
		return (store_redis_healthy());
	now = kore_time_ms();
	up = 1;
	n = 0;
	for (i = 0; i < MET_WORKERS; i++) {
		w = &met->workers[i];
		seen = met_load(&w->seen_ms);
		if (seen == 0 || (now > seen && now - seen > MET_LIVE_MS))
			continue;
		n++;
		if (met_load(&w->redis_up) == 0)
			up = 0;
	}
	/* This worker's own view is the freshest. */
	if (!store_redis_healthy())
		up = 0;
	return (n == 0 ? store_redis_healthy() : up);
}

void
core_metrics_write(struct kore_buf *b)
{
	static const char *extra[CORE_SIGNIN_N - AUTH_NRESULTS] = {
		"missing_token"
	};
	struct met_worker *w;
	uint64_t	   v, cum, parked[CORE_NPARKED];
	size_t		   i, k;
	int		   s;

	if (met == NULL)
		return;

	kore_buf_appendf(b,
	    "# HELP yard_signin_total Sign-in attempts with a bearer token "
	    "by result: ok, or the reason of the refusal (docs/"
	    "ews-integration.md, Refusals); missing_token when there was "
	    "none.\n"
	    "# TYPE yard_signin_total counter\n");
	for (i = 0; i < CORE_SIGNIN_N; i++) {
		kore_buf_appendf(b, "yard_signin_total{result=\"%s\"} %llu\n",
		    i < AUTH_NRESULTS ? auth_result_reason((enum auth_result)i)
				      : extra[i - AUTH_NRESULTS],
		    (unsigned long long)met_load(&met->signin[i]));
	}

	kore_buf_appendf(b,
	    "# HELP yard_token_cache_hits_total Bearer tokens found in a "
	    "worker's verified-token cache.\n"
	    "# TYPE yard_token_cache_hits_total counter\n"
	    "yard_token_cache_hits_total %llu\n"
	    "# HELP yard_token_cache_misses_total Bearer tokens not in the "
	    "cache (verified in full).\n"
	    "# TYPE yard_token_cache_misses_total counter\n"
	    "yard_token_cache_misses_total %llu\n",
	    (unsigned long long)met_load(&met->cache_hits),
	    (unsigned long long)met_load(&met->cache_misses));

	kore_buf_appendf(b,
	    "# HELP yard_http_requests_total HTTP requests answered by a "
	    "route, by route class (api, upload, agent, page, health, "
	    "other) and status code.\n"
	    "# TYPE yard_http_requests_total counter\n");
	for (i = 0; i < CORE_NROUTES; i++) {
		for (s = 0; s < MET_STATUS_N; s++) {
			if ((v = met_load(&met->http[i][s])) == 0)
				continue;
			kore_buf_appendf(b,
			    "yard_http_requests_total{class=\"%s\","
			    "code=\"%d\"} %llu\n",
			    met_routes[i], s + MET_STATUS_LO,
			    (unsigned long long)v);
		}
	}

	kore_buf_appendf(b,
	    "# HELP yard_command_dispatch_seconds Time from a command's "
	    "creation to its first handing to its node's agent.\n"
	    "# TYPE yard_command_dispatch_seconds histogram\n");
	cum = 0;
	for (i = 0; i <= MET_NBOUNDS; i++) {
		cum += met_load(&met->dispatch[i]);
		if (i < MET_NBOUNDS)
			kore_buf_appendf(b,
			    "yard_command_dispatch_seconds_bucket{le=\"%g\"} "
			    "%llu\n",
			    met_bounds[i], (unsigned long long)cum);
		else
			kore_buf_appendf(b,
			    "yard_command_dispatch_seconds_bucket{le=\"+Inf\"} "
			    "%llu\n",
			    (unsigned long long)cum);
	}
	kore_buf_appendf(b,
	    "yard_command_dispatch_seconds_sum %.6f\n"
	    "yard_command_dispatch_seconds_count %llu\n",
	    (double)met_load(&met->dispatch_us) / 1e6, (unsigned long long)cum);

	memset(parked, 0, sizeof(parked));
	for (i = 0; i < MET_WORKERS; i++) {
		w = &met->workers[i];
		for (k = 0; k < CORE_NPARKED; k++)
			parked[k] += met_load(&w->parked[k]);
	}
	kore_buf_appendf(b,
	    "# HELP yard_parked_requests Requests parked in the waiting "
	    "room, all workers: agent long-polls, log readers, sign-ins "
	    "waiting for the JWKS.\n"
	    "# TYPE yard_parked_requests gauge\n");
	for (k = 0; k < CORE_NPARKED; k++)
		kore_buf_appendf(b, "yard_parked_requests{kind=\"%s\"} %llu\n",
		    met_parked[k], (unsigned long long)parked[k]);
}
