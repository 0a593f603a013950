/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * PostgreSQL connections that die, brought back without blocking.
 *
 * Kore keeps a connection that died while idle (PostgreSQL restarted, a
 * proxy cut it) in its pool, and every statement on it fails at once.  A
 * blocking PQreset() on the worker's event loop would stall every request
 * of the worker for up to connect_timeout, after every failed statement,
 * for as long as PostgreSQL stays unreachable.  Instead the dead
 * connection is reset with PQresetStart() and a 50 ms timer finishes the
 * job with PQresetPoll(), looking at the socket with a zero-timeout poll()
 * first.  When Kore itself dropped the connection (its socket reported an
 * error mid-statement) or could not open one, a probe connection of our
 * own (PQconnectStart) finds out when PostgreSQL answers again.  While a
 * reset or the probe is under way PostgreSQL counts as down: callers
 * answer 503 at once rather than ask Kore for a connection, because Kore
 * opens new pool connections with a blocking PQconnectdb().
 */

#include <poll.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/pgsql.h>

#include "core/core.h"

#define PG_TICK_MS    50
#define PG_CONNECT_MS 5000
#define PG_RETRY_MS   1000
#define PG_RESETS_MAX 64

struct pg_reset {
	PGconn			 *db; /* Kore's, in its free list */
	PostgresPollingStatusType polling;
	uint64_t		  started;
	uint64_t		  retry_at;
	int			  active; /* PQresetStart() succeeded */
};

static void pg_tick(void *, uint64_t);
static void pg_start(struct pg_reset *, uint64_t);
static int  pg_ready(PGconn *, short);

static struct pg_reset resets[PG_RESETS_MAX];
static size_t	       nresets;
static int	       timer_on;
static char	      *conninfo;
static struct pg_reset probe; /* db NULL: no probe */

void
core_pg_init(const char *dsn)
{
	conninfo = kore_strdup(dsn);
}

static void
pg_timer(void)
{
	if (!timer_on) {
		kore_timer_add(pg_tick, PG_TICK_MS, NULL, 0);
		timer_on = 1;
	}
}

static void
pg_probe_start(uint64_t now)
{
	if (probe.db != NULL)
		PQfinish(probe.db);
	probe.db = PQconnectStart(conninfo);
	probe.active = probe.db != NULL && PQstatus(probe.db) != CONNECTION_BAD;
	probe.polling = PGRES_POLLING_WRITING;
	probe.started = now;
	probe.retry_at = now + PG_RETRY_MS;
}

int
core_pg_down(void)
{
	return (nresets > 0 || probe.db != NULL);
}

void
core_pg_failed(struct kore_pgsql *sql)
{
	PGconn *db;
	size_t	i;

	/* The server answered: not a connection's death. */
	if (sql->result != NULL)
		return;
	if (sql->conn == NULL) {
		/* Kore dropped the connection, or could not open one (not
		 * merely a full pool): probe before it connects again. */
		if (sql->error == NULL || conninfo == NULL ||
		    probe.db != NULL ||
		    strcmp(sql->error, "no available connection") == 0)
			return;
		kore_log(LOG_WARNING,
		    "postgresql: unreachable; probing in the background");
		pg_timer();
		pg_probe_start(kore_time_ms());
		return;
	}
	if ((db = sql->conn->db) == NULL || PQstatus(db) != CONNECTION_BAD)
		return;
	for (i = 0; i < nresets; i++) {
		if (resets[i].db == db)
			return;
	}
	if (nresets == PG_RESETS_MAX)
		return;
	pg_timer();
	if (nresets == 0)
		kore_log(LOG_WARNING,
		    "postgresql: a connection died; reconnecting in the "
		    "background");
	/*
	 * Not now: the failed statement still holds the connection, and
	 * Kore, releasing it, takes its socket off epoll (and dies if that
	 * socket is no longer the one it registered).  The next tick starts
	 * the reset; until then core_pg_down() keeps everyone off it, and a
	 * released connection is on no epoll list, so Kore cannot free it.
	 */
	memset(&resets[nresets], 0, sizeof(resets[nresets]));
	resets[nresets].db = db;
	resets[nresets].retry_at = kore_time_ms();
	nresets++;
}

static void
pg_start(struct pg_reset *r, uint64_t now)
{
	/* Non-blocking: closes the socket and starts a new connect. */
	r->active = PQresetStart(r->db) == 1;
	r->polling = PGRES_POLLING_WRITING;
	r->started = now;
	r->retry_at = now + PG_RETRY_MS;
}

static int
pg_ready(PGconn *db, short events)
{
	struct pollfd pfd;

	if ((pfd.fd = PQsocket(db)) < 0)
		return (0);
	pfd.events = events;
	pfd.revents = 0;
	return (poll(&pfd, 1, 0) > 0);
}

static void
pg_tick(void *arg, uint64_t now)
{
	struct pg_reset *r;
	size_t		 i;

	if (probe.db != NULL) {
		if (!probe.active || now - probe.started > PG_CONNECT_MS) {
			probe.active = 0;
			if (now >= probe.retry_at)
				pg_probe_start(now);
		} else {
			if (pg_ready(probe.db,
				probe.polling == PGRES_POLLING_READING
				    ? POLLIN
				    : POLLOUT))
				probe.polling = PQconnectPoll(probe.db);
			if (probe.polling == PGRES_POLLING_FAILED)
				probe.active = 0;
			else if (probe.polling == PGRES_POLLING_OK) {
				PQfinish(probe.db);
				probe.db = NULL;
				kore_log(LOG_NOTICE,
				    "postgresql: reachable again");
			}
		}
	}

	for (i = 0; i < nresets;) {
		r = &resets[i];
		if (!r->active || now - r->started > PG_CONNECT_MS) {
			/* Failed or stuck: start afresh a little later. */
			r->active = 0;
			if (now >= r->retry_at)
				pg_start(r, now);
			i++;
			continue;
		}
		if (pg_ready(r->db,
			r->polling == PGRES_POLLING_READING ? POLLIN : POLLOUT))
			r->polling = PQresetPoll(r->db);
		if (r->polling == PGRES_POLLING_FAILED) {
			r->active = 0;
			i++;
			continue;
		}
		if (r->polling != PGRES_POLLING_OK) {
			i++;
			continue;
		}
		/* Back: Kore's next user of this connection finds it OK. */
		resets[i] = resets[--nresets];
		if (nresets == 0)
			kore_log(LOG_NOTICE, "postgresql: connected again");
	}
}
