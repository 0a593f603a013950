/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Redis routing: each feature registers a handler for the channels it
 * cares about at worker start; the store's subscriber hands every message
 * here and it goes to each handler of its channel.
 */

#include <string.h>

#include <kore/kore.h>

#include "core/core.h"
#include "store/store.h"

#define ROUTES_MAX 16

struct route {
	const char *chan;
	void (*fn)(const char *, size_t);
};

static void route_message(const char *, const char *, size_t);

static struct route routes[ROUTES_MAX];
static size_t	    nroutes;

void
core_redis_route(const char *chan, void (*fn)(const char *, size_t))
{
	if (nroutes == ROUTES_MAX)
		fatal("core: too many Redis routes");
	routes[nroutes].chan = chan;
	routes[nroutes].fn = fn;
	nroutes++;
}

static void
route_message(const char *chan, const char *msg, size_t len)
{
	size_t i;

	for (i = 0; i < nroutes; i++) {
		if (strcmp(routes[i].chan, chan) == 0)
			routes[i].fn(msg, len);
	}
}

void
core_redis_start(const char *url)
{
	store_redis_init(url, route_message);
}
