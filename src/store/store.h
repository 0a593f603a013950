/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The stores: PostgreSQL migrations (parent, blocking, before fork) and the
 * per-worker Redis connections driven by Kore's event loop.
 */

#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

/* Redis channel on which any instance announces a permission change. */
#define STORE_CHAN_AUTHZ "yard:authz"
/* A node has new commands (payload: node id, or "all"). */
#define STORE_CHAN_WAKE "yard:wake"
/* A log request has news (payload: its id). */
#define STORE_CHAN_LOGS "yard:logs"
/* A node was revoked (payload: node id). */
#define STORE_CHAN_NODES "yard:nodes"

/*
 * Apply every migration in dir (files NNN_name.sql, in order) that the
 * database has not seen, each in its own transaction, under an advisory
 * lock so that several instances starting together do not race.  Waits up
 * to wait_secs for PostgreSQL to accept connections.  Returns 1, or 0 with
 * err set.  Parent only: it blocks.
 */
int store_db_migrate(const char *conninfo, const char *dir, int wait_secs,
    char *err, size_t errlen);

/* Worker: connect to Redis (command + subscriber connections), keep them
 * alive with a 1 s PING and reconnect with back-off.  Never blocks. */
void store_redis_init(const char *url,
    void (*on_message)(const char *chan, const char *msg, size_t len));

/* 1 when the last PING was answered within the last 3 s. */
int store_redis_healthy(void);

/* Fire-and-forget PUBLISH; returns 0 when Redis is not connected. */
int store_redis_publish(const char *chan, const char *msg);

/* Parse redis://[:password@]host:port[/db] or unix:///path.  Kore-free. */
struct store_redis_addr {
	char	 host[256];
	uint16_t port;
	char	 path[256]; /* unix socket when non-empty */
	char	 password[256];
	int	 db;
};
int store_redis_parse_url(const char *url, struct store_redis_addr *out);

#endif /* STORE_H */
