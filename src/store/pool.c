/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The store's own PostgreSQL connections, per worker, for request
 * statements.  Nothing here blocks: connects are PQconnectStart() and
 * PQconnectPoll() driven by Kore's event loop (each socket registered with
 * our own struct kore_event, level-triggered), statements are
 * PQsendQueryParams() on a non-blocking connection, results are read with
 * PQconsumeInput()/PQisBusy()/PQgetResult() as the socket becomes
 * readable.  (Kore's own pool opens connections with a blocking
 * PQconnectdb() and cancels with a blocking PQcancel(), which is why
 * requests no longer use it.)
 *
 * A statement that finds every connection busy waits in a FIFO; a
 * connection that becomes free is reserved for the first waiter, which is
 * woken to send.  A connection is opened on demand while there are
 * waiters, up to POOL_MAX.  A connection that dies (PostgreSQL restarted,
 * or said so while idle) is closed and its statement, if any, fails as
 * "unavailable"; it is never handed out again.  When a connect fails and
 * no connection is left, PostgreSQL is "down": waiters and new statements
 * fail at once, and one connect is tried again every POOL_RETRY_MS.  A
 * request freed while its statement runs leaves the connection draining
 * the answer (closed if that takes longer than POOL_DRAIN_MS).
 */

#include <sys/epoll.h>
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "store/internal.h"

#define POOL_MAX	 8 /* connections per worker */
#define POOL_QUEUE_MAX	 1000 /* statements waiting for one */
#define POOL_TICK_MS	 100
#define POOL_RETRY_MS	 1000
#define POOL_CONNECT_MS	 5000 /* without connect_timeout in the DSN */
#define POOL_DRAIN_MS	 10000
#define STORE_EVT_PGPOOL 0x41 /* our own kore_event type */

enum pc_state {
	PC_CLOSED = 0,
	PC_CONNECTING,
	PC_IDLE,
	PC_RESERVED, /* for q, which was woken to send */
	PC_BUSY, /* q's statement in flight */
	PC_DRAINING /* q was freed mid-statement: read the answer away */
};

struct pool_conn {
	struct kore_event evt; /* first: Kore hands us this pointer */
	PGconn		 *db;
	enum pc_state	  state;
	int		  flushing; /* output not yet sent */
	uint64_t	  since; /* connect or drain started */
	struct store_q	 *q;
};

static void pool_handle(void *, int);
static void pool_tick(void *, uint64_t);
static void pool_connect(struct pool_conn *, uint64_t);
static void pool_connect_failed(struct pool_conn *, const char *, uint64_t);
static void pool_close(struct pool_conn *);
static void pool_give(struct pool_conn *);
static void pool_wake(struct store_q *);

static struct pool_conn pool[POOL_MAX];
static TAILQ_HEAD(, store_q) waiters = TAILQ_HEAD_INITIALIZER(waiters);
static unsigned int nwaiters;
static char	   *conninfo;
static uint64_t	    connect_ms = POOL_CONNECT_MS;
static int	    down; /* a connect failed and no connection is up */
static uint64_t	    retry_at; /* no new connect before */
static TAILQ_HEAD(, store_q) ready = TAILQ_HEAD_INITIALIZER(ready);
static int notify_timer;

void
store_pg_init(const char *dsn)
{
	PQconninfoOption *opts, *o;
	long		  v;

	conninfo = kore_strdup(dsn);
	/* A connect takes as long as a blocking one would be given. */
	if ((opts = PQconninfoParse(dsn, NULL)) != NULL) {
		for (o = opts; o->keyword != NULL; o++) {
			if (strcmp(o->keyword, "connect_timeout") != 0 ||
			    o->val == NULL)
				continue;
			v = strtol(o->val, NULL, 10);
			if (v > 0)
				connect_ms = (uint64_t)(v < 2 ? 2 : v) * 1000;
		}
		PQconninfoFree(opts);
	}
	kore_timer_add(pool_tick, POOL_TICK_MS, NULL, 0);
}

int
store_pool_down(void)
{
	return (down);
}

static int pool_up(void);
static int pool_count(enum pc_state);

int
store_pool_ready(void)
{
	int i;

	if (pool_up() > 0)
		return (1);
	if (down || pool_count(PC_CONNECTING) > 0)
		return (0);
	for (i = 0; i < POOL_MAX; i++) {
		if (pool[i].state == PC_CLOSED) {
			pool_connect(&pool[i], kore_time_ms());
			break;
		}
	}
	return (pool_up() > 0);
}

/* Watch pc's socket for what it waits for (level-triggered). */
static void
pool_watch(struct pool_conn *pc, int events)
{
	int fd;

	if ((fd = PQsocket(pc->db)) < 0)
		return;
	pc->evt.type = STORE_EVT_PGPOOL;
	pc->evt.flags = 0;
	pc->evt.handle = pool_handle;
	kore_platform_event_schedule(fd, events, 0, pc);
}

static int
pool_count(enum pc_state st)
{
	int i, n;

	for (i = n = 0; i < POOL_MAX; i++)
		n += pool[i].state == st;
	return (n);
}

/* Connections that run or can run statements. */
static int
pool_up(void)
{
	return (POOL_MAX - pool_count(PC_CLOSED) - pool_count(PC_CONNECTING));
}

/* Open connections for waiters, as far as the pool and back-off allow. */
static void
pool_demand(uint64_t now)
{
	int i;

	if (down || now < retry_at)
		return;
	for (i = 0; i < POOL_MAX && !down && now >= retry_at; i++) {
		if ((unsigned int)pool_count(PC_CONNECTING) >= nwaiters)
			return;
		if (pool[i].state == PC_CLOSED)
			pool_connect(&pool[i], now);
	}
}

static void
pool_connect(struct pool_conn *pc, uint64_t now)
{
	pc->db = PQconnectStart(conninfo);
	pc->state = PC_CONNECTING;
	pc->since = now;
	pc->flushing = 0;
	pc->q = NULL;
	if (pc->db == NULL || PQstatus(pc->db) == CONNECTION_BAD) {
		/* Refused at once (or no memory). */
		pool_connect_failed(pc,
		    pc->db != NULL ? PQerrorMessage(pc->db) : "out of memory",
		    now);
		return;
	}
	/* libpq: wait until writable, then poll. */
	pool_watch(pc, EPOLLOUT);
}

static void
pool_unqueue(struct store_q *q)
{
	if (q->queued) {
		TAILQ_REMOVE(&waiters, q, wait);
		q->queued = 0;
		nwaiters--;
	}
}

/* q's statement is over: its result or failure is in q. */
static void
pool_finish(struct store_q *q, const char *why)
{
	if (why != NULL && q->fail == NULL && q->why[0] == '\0')
		kore_strlcpy(q->why, why, sizeof(q->why));
	if (why != NULL)
		q->failed = 1;
	q->phase = STORE_Q_DONE;
	q->pc = NULL;
	pool_wake(q);
}

static void
pool_connect_failed(struct pool_conn *pc, const char *why, uint64_t now)
{
	struct store_q *q;
	char		msg[STORE_WHY_LEN];

	kore_strlcpy(msg, why, sizeof(msg)); /* why may be pc->db's */
	pool_close(pc);
	retry_at = now + POOL_RETRY_MS;
	if (pool_up() > 0 || pool_count(PC_CONNECTING) > 0)
		return;
	/* Nothing left: answer everyone at once until a connect works. */
	if (!down)
		kore_log(LOG_WARNING, "store: postgresql: unreachable: %s",
		    msg);
	down = 1;
	while ((q = TAILQ_FIRST(&waiters)) != NULL) {
		pool_unqueue(q);
		pool_finish(q, "postgresql unreachable");
	}
}

static void
pool_connect_step(struct pool_conn *pc)
{
	switch (PQconnectPoll(pc->db)) {
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(pc->db, 1) != 0) {
			pool_connect_failed(pc, PQerrorMessage(pc->db),
			    kore_time_ms());
			return;
		}
		if (down)
			kore_log(LOG_NOTICE,
			    "store: postgresql: reachable again");
		down = 0;
		pool_watch(pc, EPOLLIN | EPOLLRDHUP);
		pool_give(pc);
		return;
	case PGRES_POLLING_READING:
		pool_watch(pc, EPOLLIN);
		return;
	case PGRES_POLLING_WRITING:
		pool_watch(pc, EPOLLOUT);
		return;
	case PGRES_POLLING_FAILED:
	default:
		pool_connect_failed(pc, PQerrorMessage(pc->db), kore_time_ms());
		return;
	}
}

/* Closing the socket also takes it off Kore's epoll set. */
static void
pool_close(struct pool_conn *pc)
{
	if (pc->db != NULL)
		PQfinish(pc->db); /* non-blocking: a Terminate at most */
	pc->db = NULL;
	pc->state = PC_CLOSED;
	pc->flushing = 0;
	pc->q = NULL;
}

/* pc is free: reserve it for the first waiter, or keep it idle. */
static void
pool_give(struct pool_conn *pc)
{
	struct store_q *q;

	pc->flushing = 0;
	if ((q = TAILQ_FIRST(&waiters)) == NULL) {
		pc->state = PC_IDLE;
		pc->q = NULL;
		return;
	}
	pool_unqueue(q);
	pc->state = PC_RESERVED;
	pc->q = q;
	q->pc = pc;
	pool_wake(q);
}

/* pc died: close it; its statement fails, its reservation goes back. */
static void
pool_lost(struct pool_conn *pc)
{
	struct store_q *q;
	char		why[STORE_WHY_LEN];

	kore_strlcpy(why, PQerrorMessage(pc->db), sizeof(why));
	q = pc->q;
	switch (pc->state) {
	case PC_RESERVED:
		pool_close(pc);
		q->pc = NULL;
		TAILQ_INSERT_HEAD(&waiters, q, wait);
		q->queued = 1;
		nwaiters++;
		pool_demand(kore_time_ms());
		return;
	case PC_BUSY:
		pool_close(pc);
		pool_finish(q, why[0] != '\0' ? why : "connection lost");
		break;
	default:
		pool_close(pc);
		break;
	}
	pool_demand(kore_time_ms());
}

/* Read what arrived; finish the statement when its answer is complete. */
static void
pool_read(struct pool_conn *pc)
{
	struct store_q *q = pc->q;
	PGresult       *res;

	if (!PQconsumeInput(pc->db)) {
		pool_lost(pc);
		return;
	}
	while (!PQisBusy(pc->db)) {
		if ((res = PQgetResult(pc->db)) == NULL) {
			if (PQstatus(pc->db) == CONNECTION_BAD) {
				pool_lost(pc);
				return;
			}
			pc->q = NULL;
			pool_watch(pc, EPOLLIN | EPOLLRDHUP);
			pool_give(pc);
			if (q != NULL)
				pool_finish(q, NULL);
			return;
		}
		if (q == NULL) {
			PQclear(res);
			continue;
		}
		switch (PQresultStatus(res)) {
		case PGRES_TUPLES_OK:
		case PGRES_COMMAND_OK:
		case PGRES_SINGLE_TUPLE:
			if (q->res == NULL && q->fail == NULL) {
				q->res = res;
				continue;
			}
			break;
		default:
			if (q->fail == NULL) {
				q->fail = res;
				q->failed = 1;
				continue;
			}
			break;
		}
		PQclear(res);
	}
}

static void
pool_handle(void *arg, int err)
{
	struct pool_conn *pc = arg;
	int		  flags;

	flags = pc->evt.flags;
	pc->evt.flags = 0;
	switch (pc->state) {
	case PC_CONNECTING:
		/* libpq asks to be polled only once the socket is ready. */
		if ((flags & (KORE_EVENT_READ | KORE_EVENT_WRITE)) || err)
			pool_connect_step(pc);
		break;
	case PC_IDLE:
	case PC_RESERVED:
		/* Nothing asked: the server is going away, or a notice. */
		if (!PQconsumeInput(pc->db) ||
		    PQstatus(pc->db) == CONNECTION_BAD || err)
			pool_lost(pc);
		break;
	case PC_BUSY:
	case PC_DRAINING:
		if (pc->flushing && ((flags & KORE_EVENT_WRITE) || err)) {
			switch (PQflush(pc->db)) {
			case 0:
				pc->flushing = 0;
				pool_watch(pc, EPOLLIN | EPOLLRDHUP);
				break;
			case 1:
				break;
			default:
				pool_lost(pc);
				return;
			}
		}
		pool_read(pc);
		break;
	case PC_CLOSED:
	default:
		/* A stale event of a socket closed in the same round. */
		break;
	}
}

static void
pool_tick(void *arg, uint64_t now)
{
	struct pool_conn *pc;
	int		  i;

	for (i = 0; i < POOL_MAX; i++) {
		pc = &pool[i];
		if (pc->state == PC_CONNECTING && now - pc->since > connect_ms)
			pool_connect_failed(pc, "connect timed out", now);
		else if (pc->state == PC_DRAINING &&
		    now - pc->since > POOL_DRAIN_MS) {
			kore_log(LOG_NOTICE,
			    "store: postgresql: closing a "
			    "connection whose statement "
			    "outlived its request");
			pool_close(pc);
		}
	}
	if (down && now >= retry_at && pool_count(PC_CONNECTING) == 0) {
		/* One attempt at a time while PostgreSQL is away. */
		for (i = 0; i < POOL_MAX; i++) {
			if (pool[i].state == PC_CLOSED) {
				pool_connect(&pool[i], now);
				break;
			}
		}
		return;
	}
	pool_demand(now);
}

/* Background statements' callbacks, run from a timer: never inside
 * store_run() or the pool's own bookkeeping. */
static void
pool_notify(void *arg, uint64_t now)
{
	struct store_q *q;

	notify_timer = 0;
	while ((q = TAILQ_FIRST(&ready)) != NULL) {
		TAILQ_REMOVE(&ready, q, ready);
		q->notified = 0;
		q->cb(q, q->cb_arg);
	}
}

static void
pool_wake(struct store_q *q)
{
	if (q->req != NULL) {
		http_request_wakeup(q->req);
		return;
	}
	if (q->cb == NULL || q->notified)
		return;
	TAILQ_INSERT_TAIL(&ready, q, ready);
	q->notified = 1;
	if (!notify_timer) {
		kore_timer_add(pool_notify, 0, NULL, KORE_TIMER_ONESHOT);
		notify_timer = 1;
	}
}

void
store_q_bind(struct store_q *q, void (*cb)(struct store_q *, void *), void *arg)
{
	q->cb = cb;
	q->cb_arg = arg;
}

enum store_pool_take
store_pool_take(struct store_q *q)
{
	int i;

	for (i = 0; i < POOL_MAX; i++) {
		if (pool[i].state == PC_IDLE) {
			pool[i].state = PC_RESERVED;
			pool[i].q = q;
			q->pc = &pool[i];
			return (STORE_POOL_GOT);
		}
	}
	if (nwaiters >= POOL_QUEUE_MAX)
		return (STORE_POOL_FULL);
	/* A background job never waits behind requests. */
	if (q->cb != NULL)
		TAILQ_INSERT_HEAD(&waiters, q, wait);
	else
		TAILQ_INSERT_TAIL(&waiters, q, wait);
	q->queued = 1;
	nwaiters++;
	/* May answer q at once (PostgreSQL refusing): see q->phase. */
	pool_demand(kore_time_ms());
	return (STORE_POOL_QUEUED);
}

int
store_pool_send(struct store_q *q, const char *sql, int n,
    const char *const *vals)
{
	struct pool_conn *pc = q->pc;

	if (!PQsendQueryParams(pc->db, sql, n, NULL, vals, NULL, NULL, 0)) {
		kore_strlcpy(q->why, PQerrorMessage(pc->db), sizeof(q->why));
		q->failed = 1;
		q->pc = NULL;
		pc->q = NULL;
		pc->state = PC_IDLE;
		if (PQstatus(pc->db) == CONNECTION_BAD)
			pool_lost(pc);
		else
			pool_give(pc);
		return (0);
	}
	pc->state = PC_BUSY;
	q->phase = STORE_Q_RUNNING;
	switch (PQflush(pc->db)) {
	case 0:
		break;
	case 1:
		pc->flushing = 1;
		pool_watch(pc, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
		break;
	default:
		/* The statement fails through pool_lost() (q is woken). */
		pool_lost(pc);
		break;
	}
	return (1);
}

/* q is freed: out of the queue, its reservation back, its answer away. */
void
store_pool_drop(struct store_q *q)
{
	struct pool_conn *pc;

	if (q->notified) {
		TAILQ_REMOVE(&ready, q, ready);
		q->notified = 0;
	}
	pool_unqueue(q);
	if ((pc = q->pc) == NULL)
		return;
	q->pc = NULL;
	pc->q = NULL;
	if (pc->state == PC_BUSY) {
		pc->state = PC_DRAINING;
		pc->since = kore_time_ms();
		return;
	}
	pool_give(pc);
}
