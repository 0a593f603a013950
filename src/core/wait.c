/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The waiting room: requests parked on a key until a wake-up for that key,
 * their deadline, or (while Redis cannot carry wake-ups) their re-check
 * interval.  One list per worker (walked by the 100 ms timer) and a hash
 * of keys (a wake-up looks at its key's bucket only: with 10,000 parked
 * agents a walk of the list per wake-up was most of a busy worker's
 * time); a wake-up reaches the other workers and
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
#define WAIT_BUCKETS 4096 /* a power of two */

static void wait_tick(void *, uint64_t);
static void wait_wake_one(struct core_wait *);

TAILQ_HEAD(wait_list, core_wait);

static struct wait_list room = TAILQ_HEAD_INITIALIZER(room);
static struct wait_list buckets[WAIT_BUCKETS];
static int		timer_on;

/* FNV-1a: keys are short ("node:123", "log:<uuid>"). */
static uint32_t
wait_hash(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return (h & (WAIT_BUCKETS - 1));
}

static void
wait_unlist(struct core_wait *w)
{
	TAILQ_REMOVE(&room, w, list);
	TAILQ_REMOVE(&buckets[w->bucket], w, blist);
	w->listed = 0;
	core_metrics_parked(w->key, -1);
}

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
	int i;

	if (!timer_on) {
		for (i = 0; i < WAIT_BUCKETS; i++)
			TAILQ_INIT(&buckets[i]);
		kore_timer_add(wait_tick, WAIT_TICK_MS, NULL, 0);
		timer_on = 1;
	}
	/* Parked again on another key: list it anew (a wake-up missed
	 * meanwhile was for the old key). */
	if (w->listed && strcmp(w->key, key) != 0) {
		wait_unlist(w);
		w->missed = 0;
	}
	(void)snprintf(w->key, sizeof(w->key), "%s", key);
	if (!w->listed) {
		w->bucket = wait_hash(w->key);
		TAILQ_INSERT_TAIL(&room, w, list);
		TAILQ_INSERT_TAIL(&buckets[w->bucket], w, blist);
		w->listed = 1;
		core_metrics_parked(w->key, 1);
		w->missed = 0;
	}
	w->req = req;
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
	if (w->listed)
		wait_unlist(w);
	w->woken = 0;
	w->missed = 0;
}

void
core_wait_wake(const char *key, int prefix)
{
	struct core_wait *w;
	size_t		  n;

	if (!timer_on)
		return; /* nobody ever parked here */
	if (!prefix) {
		TAILQ_FOREACH (w, &buckets[wait_hash(key)], blist) {
			if (strcmp(w->key, key) == 0)
				wait_wake_one(w);
		}
		return;
	}
	/* Every key starting with key ("node:" for all nodes): rare. */
	n = strlen(key);
	TAILQ_FOREACH (w, &room, list) {
		if (strncmp(w->key, key, n) == 0)
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
