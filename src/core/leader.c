/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * One leader per duty.  Worker 1 of each instance keeps a libpq connection
 * of its own (not Kore's pool: a session advisory lock belongs to one
 * connection, and Kore hands pooled connections to whoever asks).  It is
 * connected with PQconnectStart()/PQconnectPoll() and queried with
 * PQsendQueryParams(), and a 50 ms timer drives it: each step looks at the
 * socket with a zero-timeout poll() first, so nothing here ever waits on
 * the network.  A duty's statement runs on the very connection that holds
 * its lock, so it can never run after the lock was lost.
 */

#include <sys/queue.h>

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <kore/kore.h>

#include <libpq-fe.h>

#include "core/core.h"

#define LEADER_TICK_MS	  50
#define LEADER_CONNECT_MS 5000
#define LEADER_QUERY_MS	  30000
#define LEADER_RETRY_MS	  1000

enum leader_state { LS_DOWN = 0, LS_CONNECTING, LS_IDLE, LS_BUSY };
enum leader_query { LQ_LOCK = 0, LQ_RUN };

static void leader_tick(void *, uint64_t);
static void leader_drop(uint64_t, const char *);
static int  leader_ready(short);
static void leader_send(struct store_duty *, uint64_t);
static void leader_result(PGresult *, uint64_t);

static TAILQ_HEAD(, store_duty) duties = TAILQ_HEAD_INITIALIZER(duties);
static PGconn			*conn;
static enum leader_state	 state;
static PostgresPollingStatusType polling;
static uint64_t			 since, next_try;
static struct store_duty	*current;
static enum leader_query	 query;
static char			*conninfo_copy;
static char			 holder_name[128];
static int			 warned;

void
core_duty_add(struct store_duty *d)
{
	d->leader = 0;
	d->next = 0;
	TAILQ_INSERT_TAIL(&duties, d, list);
}

int
core_duty_leader(const struct store_duty *d)
{
	return (d->leader);
}

void
core_leader_start(const char *conninfo, const char *holder)
{
	conninfo_copy = kore_strdup(conninfo);
	(void)snprintf(holder_name, sizeof(holder_name), "%s/%d", holder,
	    (int)getpid());
	kore_timer_add(leader_tick, LEADER_TICK_MS, NULL, 0);
}

/* Is the socket ready for what libpq waits for?  Never blocks. */
static int
leader_ready(short events)
{
	struct pollfd pfd;

	if ((pfd.fd = PQsocket(conn)) < 0)
		return (0);
	pfd.events = events;
	pfd.revents = 0;
	return (poll(&pfd, 1, 0) > 0);
}

static void
leader_drop(uint64_t now, const char *why)
{
	struct store_duty *d;

	if (!warned || state != LS_CONNECTING)
		kore_log(LOG_NOTICE, "leader: connection lost: %s", why);
	warned = 1;
	TAILQ_FOREACH (d, &duties, list) {
		if (d->leader)
			kore_log(LOG_NOTICE, "leader: no longer runs %s",
			    d->name);
		d->leader = 0;
	}
	if (conn != NULL)
		PQfinish(conn); /* non-blocking socket: a Terminate at most */
	conn = NULL;
	current = NULL;
	state = LS_DOWN;
	next_try = now + LEADER_RETRY_MS;
}

static void
leader_send(struct store_duty *d, uint64_t now)
{
	const char *vals[STORE_DUTY_VALS];
	char	    buf[STORE_DUTY_VALS][32];
	int	    n, ok;

	vals[0] = d->name;
	vals[1] = holder_name;
	if (d->kind == STORE_DUTY_LEADER && !d->leader) {
		query = LQ_LOCK;
		ok = PQsendQueryParams(conn,
		    "SELECT pg_try_advisory_lock(hashtext('yard-duty'),"
		    " hashtext($1))",
		    1, NULL, vals, NULL, NULL, 0);
	} else {
		query = LQ_RUN;
		n = d->prepare != NULL ? d->prepare(d, vals, buf) : 2;
		ok = PQsendQueryParams(conn, d->sql, n, NULL, vals, NULL, NULL,
		    0);
	}
	if (!ok) {
		leader_drop(now, PQerrorMessage(conn));
		return;
	}
	current = d;
	state = LS_BUSY;
	since = now;
}

static void
leader_result(PGresult *res, uint64_t now)
{
	struct store_duty *d = current;
	ExecStatusType	   st = PQresultStatus(res);

	if (d == NULL)
		return;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		kore_log(LOG_WARNING, "leader: %s: %s", d->name,
		    PQresultErrorMessage(res));
		d->next = now + d->every_ms;
		return;
	}
	if (query == LQ_LOCK) {
		if (PQntuples(res) == 1 &&
		    strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
			d->leader = 1;
			kore_log(LOG_NOTICE, "leader: %s runs %s", holder_name,
			    d->name);
			/* Run it at once. */
		} else {
			d->next = now + d->every_ms;
		}
		return;
	}
	d->next = now + d->every_ms;
	if (d->done != NULL)
		d->done(d, res);
}

static void
leader_tick(void *arg, uint64_t now)
{
	struct store_duty *d;
	PGresult	  *res;

	switch (state) {
	case LS_DOWN:
		if (now < next_try)
			return;
		conn = PQconnectStart(conninfo_copy);
		if (conn == NULL || PQstatus(conn) == CONNECTION_BAD) {
			leader_drop(now,
			    conn != NULL ? PQerrorMessage(conn) : "no memory");
			return;
		}
		state = LS_CONNECTING;
		polling = PGRES_POLLING_WRITING;
		since = now;
		/* FALLTHROUGH */
	case LS_CONNECTING:
		if (now - since > LEADER_CONNECT_MS) {
			leader_drop(now, "connect timed out");
			return;
		}
		if (!leader_ready(
			polling == PGRES_POLLING_READING ? POLLIN : POLLOUT))
			return;
		polling = PQconnectPoll(conn);
		if (polling == PGRES_POLLING_FAILED) {
			leader_drop(now, PQerrorMessage(conn));
			return;
		}
		if (polling != PGRES_POLLING_OK)
			return;
		if (PQsetnonblocking(conn, 1) != 0) {
			leader_drop(now, PQerrorMessage(conn));
			return;
		}
		if (warned)
			kore_log(LOG_NOTICE, "leader: connected again");
		warned = 0;
		state = LS_IDLE;
		/* FALLTHROUGH */
	case LS_IDLE:
		TAILQ_FOREACH (d, &duties, list) {
			if (now >= d->next)
				break;
		}
		if (d == NULL)
			return;
		leader_send(d, now);
		return;
	case LS_BUSY:
		if (now - since > LEADER_QUERY_MS) {
			leader_drop(now, "statement timed out");
			return;
		}
		if (PQflush(conn) == -1) {
			leader_drop(now, PQerrorMessage(conn));
			return;
		}
		if (!leader_ready(POLLIN))
			return;
		if (!PQconsumeInput(conn)) {
			leader_drop(now, PQerrorMessage(conn));
			return;
		}
		while (!PQisBusy(conn)) {
			if ((res = PQgetResult(conn)) == NULL) {
				current = NULL;
				state = LS_IDLE;
				if (PQstatus(conn) == CONNECTION_BAD)
					leader_drop(now, "connection closed");
				return;
			}
			leader_result(res, now);
			PQclear(res);
		}
		return;
	}
}
