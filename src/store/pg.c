/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * PostgreSQL connections that die, and knowing when PostgreSQL is back.
 *
 * Kore keeps a connection that died while idle (PostgreSQL restarted, a
 * proxy cut it) in its pool, and every statement on it fails at once.
 * When a statement could not even be sent (it never reached epoll), the
 * connection is reset there with PQreset(): blocking, bounded by
 * connect_timeout, and answered at once by a refused connect.  A reset
 * started in the background instead (PQresetStart()) let Kore hand the
 * connection to a queued statement mid-reset, which killed a worker in
 * tests/integration's black-holed runs: the background reset is withdrawn
 * until it can own the connection (XXX: issue 8).  When Kore itself
 * dropped the connection or could not open one, a probe connection of our
 * own (PQconnectStart) finds out when PostgreSQL answers again; meanwhile
 * callers answer 503 at once rather than ask Kore for a connection,
 * because Kore opens new pool connections with a blocking PQconnectdb().
 */

#include <poll.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/pgsql.h>

#include "store/store.h"

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

static int	       timer_on;
static char	      *conninfo;
static struct pg_probe probe;

void
store_pg_init(const char *dsn)
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
store_pg_down(void)
{
	return (probe.db != NULL);
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
	 * Only a statement that was never sent: its socket is on no epoll
	 * list, so Kore's release cannot trip over the new one.  A statement
	 * that failed on the wire leaves its connection to the next user,
	 * whose send then fails here.
	 */
	if (sql->flags & KORE_PGSQL_SCHEDULED)
		return;
	PQreset(db);
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
