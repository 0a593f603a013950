/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * PostgreSQL connections that die, and knowing when PostgreSQL is back,
 * for the background jobs still on Kore's pgsql pool (the heartbeat flush,
 * database STORE_DB_BG).  Request statements run on the store's own
 * connections (pool.c), which never block.
 *
 * Kore opens a pool connection with a blocking PQconnectdb() whenever it
 * has fewer than its maximum, and keeps a connection that died in its
 * pool.  So: store_pg_down() is 1 unless a connection of our own pool is
 * up (which it then opens), while a probe runs, and while a dead Kore
 * connection is being reset; a job checks it before asking Kore for a
 * connection.
 * A dead Kore connection is reset in the background (PQresetStart(), then
 * PQresetPoll() on a timer) once Kore has taken it back into its free
 * list: nothing takes it from there meanwhile, since its only users ask
 * store_pg_down() first.  When Kore itself dropped the connection or
 * could not open one, a probe connection of our own (PQconnectStart)
 * finds out when PostgreSQL answers again.
 */

#include <poll.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/pgsql.h>

#include "store/internal.h"

#define PG_TICK_MS    50
#define PG_CONNECT_MS 5000
#define PG_RETRY_MS   1000

struct pg_probe {
	PGconn			 *db; /* NULL: no probe */
	PostgresPollingStatusType polling;
	uint64_t		  started;
	uint64_t		  retry_at;
	int			  active; /* PQconnectStart() succeeded */
};

static void pg_tick(void *, uint64_t);
static int  pg_ready(PGconn *, short);

/* A dead Kore connection: reset once Kore has it back, then polled. */
struct pg_reset {
	PGconn			 *db; /* NULL: none */
	PostgresPollingStatusType polling;
	uint64_t		  started;
	uint64_t		  retry_at;
	int			  active; /* PQresetStart() succeeded */
};

static int	       timer_on;
static char	      *conninfo;
static struct pg_probe probe;
static struct pg_reset reset;

void
store_pg_init(const char *dsn)
{
	conninfo = kore_strdup(dsn);
	store_pool_init(dsn);
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
store_pg_down(void)
{
	/* Kore connects with a blocking PQconnectdb(): only while a
	 * connection of ours shows that PostgreSQL answers. */
	return (probe.db != NULL || reset.db != NULL || !store_pool_ready());
}

void
store_pg_failed(struct kore_pgsql *sql)
{
	PGconn *db;

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
	/*
	 * libpq closed the socket when it read the end of the connection
	 * (closing also took it off epoll).  Kore's release of a scheduled
	 * statement would take PQsocket() (-1) off epoll, which is fatal to
	 * the worker: tell it the statement is not scheduled.
	 */
	if ((sql->flags & KORE_PGSQL_SCHEDULED) && PQsocket(db) < 0)
		sql->flags &= ~KORE_PGSQL_SCHEDULED;
	if (reset.db != NULL)
		return;
	/*
	 * Not now: the caller releases the statement next, and Kore's
	 * release takes the old socket off epoll (fatal if it were gone).
	 * The timer starts the reset once the connection is back in Kore's
	 * free list, where store_pg_down() keeps every user away from it.
	 */
	kore_log(LOG_WARNING,
	    "postgresql: connection lost; resetting it "
	    "in the background");
	reset.db = db;
	reset.active = 0;
	reset.retry_at = 0;
	pg_timer();
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
pg_reset_tick(uint64_t now)
{
	if (!reset.active || now - reset.started > PG_CONNECT_MS) {
		reset.active = 0;
		if (now < reset.retry_at)
			return;
		reset.active = PQresetStart(reset.db) == 1;
		reset.polling = PGRES_POLLING_WRITING;
		reset.started = now;
		reset.retry_at = now + PG_RETRY_MS;
		return;
	}
	if (pg_ready(reset.db,
		reset.polling == PGRES_POLLING_READING ? POLLIN : POLLOUT))
		reset.polling = PQresetPoll(reset.db);
	if (reset.polling == PGRES_POLLING_FAILED)
		reset.active = 0;
	else if (reset.polling == PGRES_POLLING_OK) {
		reset.db = NULL;
		reset.active = 0;
		kore_log(LOG_NOTICE, "postgresql: connection reset");
	}
}

static void
pg_tick(void *arg, uint64_t now)
{
	if (reset.db != NULL)
		pg_reset_tick(now);
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
}
