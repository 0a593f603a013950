/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The waiting room: requests parked on a key until a wake-up for that key,
 * their deadline, or (while Redis cannot carry wake-ups) their re-check
 * interval.  One list per worker; a wake-up reaches the other workers and
 * instances over Redis (STORE_CHAN_WAKE, the key as payload), which every
 * worker feeds back into core_wait_wake().
 *
 * A waiter stays listed while its request runs after a wake-up: a wake-up
 * that comes meanwhile sets `missed`, and the next core_wait_park() then
 * returns at once instead of sleeping (the request reads again), so no
 * wake-up falls between a read and the next park.
 */

#include <sys/queue.h>

#include <stdio.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "core/core.h"
#include "store/store.h"

#define WAIT_TICK_MS 100

static void wait_tick(void *, uint64_t);
static void wait_wake_one(struct core_wait *);

static TAILQ_HEAD(, core_wait) room = TAILQ_HEAD_INITIALIZER(room);
static int timer_on;

static void
wait_wake_one(struct core_wait *w)
{
	if (w->woken) {
		w->missed = 1;
		return;
	}
	w->woken = 1;
	http_request_wakeup(w->req);
}

int
core_wait_park(struct core_wait *w, struct http_request *req, const char *key,
    uint64_t deadline, uint64_t recheck_ms)
{
	if (!timer_on) {
		kore_timer_add(wait_tick, WAIT_TICK_MS, NULL, 0);
		timer_on = 1;
	}
	if (!w->listed) {
		TAILQ_INSERT_TAIL(&room, w, list);
		w->listed = 1;
		w->missed = 0;
	}
	w->req = req;
	(void)snprintf(w->key, sizeof(w->key), "%s", key);
	w->deadline = deadline;
	w->recheck_ms = recheck_ms;
	w->recheck_at = recheck_ms != 0 ? kore_time_ms() + recheck_ms : 0;
	if (w->missed) {
		/* A wake-up came while it ran: run again at once. */
		w->missed = 0;
		w->woken = 1;
		return (0);
	}
	w->woken = 0;
	http_request_sleep(req);
	return (1);
}

int
core_wait_woken(const struct core_wait *w)
{
	return (!w->listed || w->woken);
}

void
core_wait_read(struct core_wait *w)
{
	/* What it reads now covers every wake-up announced so far. */
	w->missed = 0;
}

void
core_wait_leave(struct core_wait *w)
{
	if (w->listed) {
		TAILQ_REMOVE(&room, w, list);
		w->listed = 0;
	}
	w->woken = 0;
	w->missed = 0;
}

void
core_wait_wake(const char *key, int prefix)
{
	struct core_wait *w;
	size_t		  n;

	n = strlen(key);
	TAILQ_FOREACH (w, &room, list) {
		if (prefix ? strncmp(w->key, key, n) == 0
			   : strcmp(w->key, key) == 0)
			wait_wake_one(w);
	}
}

void
core_wake(const char *key)
{
	core_wait_wake(key, 0);
	(void)store_redis_publish(STORE_CHAN_WAKE, key);
}

static void
wait_on_wake(const char *msg, size_t len)
{
	core_wait_wake(msg, 0);
}

/* After Redis reconnects wake-ups may have been lost: every waiter that
 * relies on them (it has a re-check interval) reads again. */
static void
wait_on_authz(const char *msg, size_t len)
{
	struct core_wait *w;

	if (strcmp(msg, "reconnected") != 0)
		return;
	TAILQ_FOREACH (w, &room, list) {
		if (w->recheck_ms != 0)
			wait_wake_one(w);
	}
}

void
core_wait_routes(void)
{
	core_redis_route(STORE_CHAN_WAKE, wait_on_wake);
	core_redis_route(STORE_CHAN_AUTHZ, wait_on_authz);
}

/* Deadlines, re-checks while Redis cannot wake anyone, side duties. */
static void
wait_tick(void *arg, uint64_t now)
{
	struct core_wait *w;
	int		  redis_ok = store_redis_healthy();

	TAILQ_FOREACH (w, &room, list) {
		if (!w->woken && w->deadline != 0 && now >= w->deadline)
			wait_wake_one(w);
		if (!w->woken && !redis_ok && w->recheck_at != 0 &&
		    now >= w->recheck_at) {
			w->recheck_at = now + w->recheck_ms;
			wait_wake_one(w);
		}
		if (w->every != NULL && w->every_at != 0 && now >= w->every_at)
			w->every(w, now);
	}
}
