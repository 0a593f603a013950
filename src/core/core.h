/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The Kore glue every feature shares: Redis routing (route.c), the waiting
 * room (wait.c),
 * duties that run once per cluster under a PostgreSQL advisory lock
 * (leader.c), and the instance's metrics (metrics.c).  Handlers and features
 * include this; it includes nothing of src/api/.
 */

#ifndef CORE_H
#define CORE_H

#include <sys/queue.h>

#include <stdint.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "auth/auth.h"
#include "store/store.h"

/*
 * The waiting room: park a request on a key with a deadline; wake it by key
 * here and, through Redis, on every worker of every instance.  While Redis
 * is down a waiter with a re-check interval is woken that often instead
 * (it reads its source again).  Embed a struct core_wait (zeroed) in the
 * request's state and call core_wait_leave() when the request is freed.
 *
 * Keys: "node:<id>" (an agent's long-poll), "log:<uuid>" (a log request's
 * readers), "jwks" (requests waiting for the key set; local only).
 */
struct core_wait {
	struct http_request *req;
	char		     key[64];
	uint64_t	     deadline; /* kore_time_ms(); 0: none */
	uint64_t	     recheck_ms; /* without Redis; 0: never */
	uint64_t	     recheck_at;
	/* Optional: called by the room's 100 ms timer once now >= every_at
	 * (the callback sets the next every_at). */
	void (*every)(struct core_wait *, uint64_t now);
	uint64_t every_at;
	int64_t	 every_arg;
	int	 listed;
	int	 woken; /* woken and not parked again since */
	int	 missed; /* a wake-up came while it ran */
	uint32_t bucket; /* of key, while listed */
	TAILQ_ENTRY(core_wait) list; /* every waiter: deadlines */
	TAILQ_ENTRY(core_wait) blist; /* its key's bucket: wake-ups */
};

/*
 * Park: list it under key (if not yet), and sleep the request.  Returns 1
 * when it sleeps; 0 when a wake-up came while it ran since its last park,
 * in which case it is marked woken and must run again at once (return
 * KORE_RESULT_RETRY either way).
 */
int core_wait_park(struct core_wait *, struct http_request *, const char *key,
    uint64_t deadline, uint64_t recheck_ms);
/* 1 when the request should run: woken, or not parked at all. */
int core_wait_woken(const struct core_wait *);
/* About to read the source: forget the wake-ups announced so far. */
void core_wait_read(struct core_wait *);
void core_wait_leave(struct core_wait *);
/* Wake this worker's waiters on key (every key starting with it when
 * prefix); core_wake() also tells every other worker and instance. */
void core_wait_wake(const char *key, int prefix);
void core_wake(const char *key);

/* Worker: the room's own Redis routes, registered before core_redis_start(). */
void core_wait_routes(void);

/*
 * Redis routing: a handler per channel (several may share one), registered
 * at worker start before core_redis_start().  After the subscriber
 * reconnects, STORE_CHAN_AUTHZ carries "reconnected" (messages may have
 * been missed meanwhile).
 */
void core_redis_route(const char *chan, void (*)(const char *msg, size_t len));
/* Worker: connect to Redis (never blocks) and deliver to the routes. */
void core_redis_start(const char *url);

/*
 * Duties (struct store_duty, store/store.h): statements run every
 * every_ms on this instance's leader connection (worker 1's own libpq
 * connection, connected and driven without blocking the event loop);
 * STORE_DUTY_LEADER ones only while holding the duty's session advisory
 * lock, so once per cluster.
 */
/* Worker: register a duty (before or after core_leader_start()). */
void core_duty_add(struct store_duty *);
/* Worker: start the leader connection (conninfo as given to Kore). */
void core_leader_start(const char *conninfo, const char *holder);
/* 1 when this worker holds the duty's lock now. */
int core_duty_leader(const struct store_duty *);

/*
 * Instance-wide metrics (metrics.c) for /metrics: counters shared by every
 * worker (memory the parent maps before it forks them), per-worker gauges
 * summed when read.
 */
enum core_route {
	CORE_ROUTE_API = 0,
	CORE_ROUTE_PAGE,
	CORE_ROUTE_AGENT,
	CORE_ROUTE_HEALTH,
	CORE_ROUTE_UPLOAD,
	CORE_ROUTE_OTHER,
	CORE_NROUTES
};
enum core_parked {
	CORE_PARKED_AGENT = 0, /* node:<id> */
	CORE_PARKED_LOG, /* log:<uuid> */
	CORE_PARKED_JWKS, /* jwks */
	CORE_PARKED_OTHER,
	CORE_NPARKED
};
/* Sign-in results: an enum auth_result, or CORE_SIGNIN_MISSING. */
#define CORE_SIGNIN_MISSING AUTH_NRESULTS
#define CORE_SIGNIN_N	    (AUTH_NRESULTS + 1)

/* Parent, before the workers fork: map the counters; route every
 * handler through the request counter. */
void core_metrics_init(void);
/* Worker start: zero this worker's gauges, start its 250 ms tick. */
void core_metrics_worker(void);
/* The class of a route (its path or regex as configured). */
enum core_route core_metrics_route(const char *);
void		core_metrics_http(const char *route, int status);
void		core_metrics_signin(int result);
void		core_metrics_token_cache(uint64_t hits, uint64_t misses);
/* A command handed to its agent for the first time, seconds after its
 * creation; _list: such numbers separated by blanks. */
void core_metrics_dispatched(double);
void core_metrics_dispatched_list(const char *);
/* The waiting room: a request parked on key (+1) or gone (-1). */
void core_metrics_parked(const char *key, int delta);
/* 1 when every live worker's Redis connection (and this one's) is up. */
int core_metrics_redis_up(void);
/* The shared series in Prometheus text format, HELP and TYPE included. */
void core_metrics_write(struct kore_buf *);

#endif /* CORE_H */
