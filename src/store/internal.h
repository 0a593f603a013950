/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * What the store's own files share: the request statement state and the
 * statement runner.  Nothing outside src/store/ includes this.
 */

#ifndef STORE_INTERNAL_H
#define STORE_INTERNAL_H

#include <sys/queue.h>

#include <inttypes.h>
#include <stdio.h>

#include <kore/kore.h>
#include <libpq-fe.h>

#include "auth/auth.h"
#include "store/store.h"

#define STORE_WHY_LEN 256

/* Where a request's statement is (q->phase). */
enum store_q_phase {
	STORE_Q_IDLE = 0,
	STORE_Q_QUEUED, /* waiting for a connection, or woken to send */
	STORE_Q_RUNNING, /* sent; the answer comes */
	STORE_Q_DONE /* answered (q->failed or not), not yet collected */
};

/*
 * Run one statement (text parameters, NULL for SQL NULL) for req (NULL:
 * none to wake).  Call it again with the same arguments on every
 * re-entry until it answers STORE_OK or STORE_ERR (store.h).
 */
enum store_step store_run(struct store_q *, struct http_request *,
    const char *sql, int n, const char *const *vals);
struct pool_conn;

struct store_q {
	enum store_q_phase   phase;
	struct http_request *req; /* woken when there is news */
	void (*cb)(struct store_q *, void *); /* or called (no request) */
	void *cb_arg;
	TAILQ_ENTRY(store_q) ready; /* cb owed */
	int		  notified;
	struct pool_conn *pc; /* the connection reserved or in use */
	TAILQ_ENTRY(store_q) wait; /* in the pool's queue */
	int	       queued;
	int	       failed; /* the statement failed */
	PGresult      *res; /* last result, owned */
	PGresult      *fail; /* its error answer, owned */
	char	       why[STORE_WHY_LEN]; /* failed without an answer */
	enum store_err err;
	char	       column[16];
};

/*
 * The store's own PostgreSQL connections (pool.c).  store_pool_take()
 * reserves a free connection for q (q->pc), or queues q, which is then
 * woken with a connection (q->pc) or answered (q->phase STORE_Q_DONE,
 * PostgreSQL down); store_pool_send() sends on q->pc (0: failed at once,
 * q->why says why); store_pool_drop() forgets q wherever it is.
 */
enum store_pool_take {
	STORE_POOL_GOT,
	STORE_POOL_QUEUED,
	STORE_POOL_FULL /* the queue is full */
};
int store_pool_down(void);
/* 1 when a connection is up; else 0, and one is opened if none is. */
int		     store_pool_ready(void);
enum store_pool_take store_pool_take(struct store_q *);
int  store_pool_send(struct store_q *, const char *, int, const char *const *);
void store_pool_drop(struct store_q *);

/*
 * A background job's statements (no request): store_run(q, NULL, ...) as
 * a request would, and where a request would be woken cb(q, arg) is
 * called, from a timer (never from inside store_run()), to call
 * store_run() again.  Its statements go before requests' in the queue.
 */
void store_q_bind(struct store_q *, void (*cb)(struct store_q *, void *),
    void *arg);

/*
 * A statement about one object as its caller sees it: $1 the object's id,
 * $2 whether the caller is an admin, $3 the caller's user id (the
 * arguments of yard_level() and yard_node_visible()).
 */
enum store_step store_run_seen(struct store_q *, struct http_request *,
    const char *sql, int64_t id, const struct auth_principal *);

/* Decimal text of a number, for a statement parameter. */
#define STORE_NUM(buf, v) \
	(snprintf((buf), sizeof(buf), "%" PRId64, (int64_t)(v)), \
	    (const char *)(buf))
#define STORE_BOOL(b) ((b) ? "true" : "false")

/*
 * SQL: join after "FROM tasks t" to have the caller's level on task t as
 * lv.level, 0 none, 1 view, 2 operate, 3 manage; STORE_TASK_VISIBLE is
 * whether t is visible at all.  The rule is yard_level_row()
 * (migrations/006_levels.sql): an admin ($2), or the better of a grant of
 * user $3 on the task and one on its node.  For statements that bind $2
 * and $3 so.
 */
#define STORE_TASK_LEVEL_JOIN \
	" CROSS JOIN LATERAL yard_level_row($3::bigint, $2::boolean," \
	" t.node_id, t.id) lv"
#define STORE_TASK_VISIBLE "(lv.level >= 1)"

/* SQL: package p (LEFT JOIN tasks t ON t.id = p.task_id) is visible to
 * the caller ($2 admin, $3 user id): admins, its uploader, and whoever
 * may view its target task or node. */
#define STORE_PKG_VISIBLE \
	"($2::boolean OR p.uploaded_by = $3::bigint" \
	" OR (p.task_id IS NOT NULL AND yard_level($3::bigint, $2::boolean," \
	"  t.node_id, p.task_id) >= 1)" \
	" OR (p.task_id IS NULL AND p.node_id IS NOT NULL AND" \
	"  yard_level($3::bigint, $2::boolean, p.node_id, NULL) >= 1))"

/* SQL: the command types that change a task's releases (they may queue
 * behind each other; 011_releases.sql). */
#define STORE_RELEASE_TYPES "('deploy', 'update', 'rollback', 'move')"

/* A duty statement's WITH member recording the run in duty_runs. */
#define STORE_DUTY_RECORD \
	" rec AS (INSERT INTO duty_runs (duty, holder, runs, last_run)" \
	"  VALUES ($1, $2, 1, now()) ON CONFLICT (duty) DO UPDATE SET" \
	"  holder = EXCLUDED.holder, runs = duty_runs.runs + 1," \
	"  last_run = now()),"

#endif /* STORE_INTERNAL_H */
