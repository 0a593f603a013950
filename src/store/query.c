/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * One request's statements on Kore's async PostgreSQL pool.
 *
 * When the request pool is busy Kore queues the statement and wakes one
 * waiter per released connection; a queued statement is its own phase so
 * that a woken request always goes on to use the connection (otherwise
 * the rest of Kore's queue stalls), and store_q_busy() keeps a caller on
 * the statement it started.
 */

#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/pgsql.h>

#include "store/internal.h"

enum q_phase { Q_IDLE = 0, Q_QUEUED, Q_RUNNING, Q_DRAINING };

struct store_q *
store_q_new(void)
{
	struct store_q *q;

	q = kore_calloc(1, sizeof(*q));
	kore_pgsql_init(&q->sql);
	return (q);
}

void
store_q_free(struct store_q *q)
{
	if (q == NULL)
		return;
	kore_pgsql_cleanup(&q->sql);
	store_clear(q);
	kore_free(q);
}

int
store_q_busy(const struct store_q *q)
{
	return (q != NULL && q->phase != Q_IDLE);
}

enum store_err
store_q_err(const struct store_q *q, const char **column)
{
	if (column != NULL)
		*column = q->column[0] != '\0' ? q->column : NULL;
	return (q->err);
}

/* Classify the failure of q->sql, log what needs logging, reset q. */
static enum store_step
q_fail(struct store_q *q)
{
	const char *st, *cn;

	/* A connection that died is brought back in the background. */
	store_pg_failed(&q->sql);
	st = cn = NULL;
	if (q->sql.result != NULL) {
		st = PQresultErrorField(q->sql.result, PG_DIAG_SQLSTATE);
		cn = PQresultErrorField(q->sql.result, PG_DIAG_CONSTRAINT_NAME);
	}
	q->column[0] = '\0';
	if (st != NULL && strcmp(st, "23505") == 0) {
		q->err = STORE_E_CONFLICT;
	} else if (st != NULL && strcmp(st, "23503") == 0) {
		q->err = STORE_E_MISSING;
		if (cn != NULL && strstr(cn, "user_id") != NULL)
			kore_strlcpy(q->column, "user_id", sizeof(q->column));
		else if (cn != NULL && strstr(cn, "node_id") != NULL)
			kore_strlcpy(q->column, "node_id", sizeof(q->column));
		else if (cn != NULL && strstr(cn, "task_id") != NULL)
			kore_strlcpy(q->column, "task_id", sizeof(q->column));
	} else if (st != NULL &&
	    (strncmp(st, "22", 2) == 0 || strncmp(st, "23", 2) == 0)) {
		q->err = STORE_E_VALUE;
	} else if (st != NULL && strncmp(st, "08", 2) != 0 &&
	    strncmp(st, "57", 2) != 0) {
		kore_pgsql_logerror(&q->sql);
		q->err = STORE_E_INTERNAL;
	} else {
		kore_log(LOG_WARNING, "store: postgresql: %s",
		    q->sql.error != NULL ? q->sql.error : "unavailable");
		q->err = STORE_E_DOWN;
	}
	kore_pgsql_cleanup(&q->sql);
	kore_pgsql_init(&q->sql);
	q->phase = Q_IDLE;
	return (STORE_ERR);
}

enum store_step
store_run(struct store_q *q, struct http_request *req, const char *sql, int n,
    const char *const *vals)
{
	switch (q->phase) {
	case Q_QUEUED:
		/*
		 * Woken, by Kore's connection queue or by something else
		 * (which leaves our entry in the queue: drop it, or a later
		 * wake-up would be spent on us).
		 */
		kore_pgsql_cleanup(&q->sql);
		kore_pgsql_init(&q->sql);
		q->phase = Q_IDLE;
		/* FALLTHROUGH */
	case Q_IDLE:
		store_clear(q);
		q->err = STORE_E_NONE;
		q->column[0] = '\0';
		/* Reconnecting in the background: do not let Kore connect
		 * (it would block); fail at once. */
		if (store_pg_down()) {
			q->err = STORE_E_DOWN;
			return (STORE_ERR);
		}
		if (q->sql.req == NULL && req != NULL)
			kore_pgsql_bind_request(&q->sql, req);
		if (!kore_pgsql_setup(&q->sql, STORE_DB, KORE_PGSQL_ASYNC)) {
			/* All connections busy: Kore queued us; retry later. */
			if (q->sql.state == KORE_PGSQL_STATE_INIT &&
			    q->sql.error == NULL) {
				q->phase = Q_QUEUED;
				return (STORE_WAIT);
			}
			return (q_fail(q));
		}
		if (!kore_pgsql_query_param_fields(&q->sql, sql, 0, n,
			(const char **)(uintptr_t)vals, NULL, NULL))
			return (q_fail(q));
		q->phase = Q_RUNNING;
		return (STORE_WAIT);
	case Q_RUNNING:
		switch (q->sql.state) {
		case KORE_PGSQL_STATE_WAIT:
			return (STORE_WAIT);
		case KORE_PGSQL_STATE_RESULT:
			q->res = q->sql.result;
			q->sql.result = NULL;
			kore_pgsql_continue(&q->sql);
			break;
		case KORE_PGSQL_STATE_DONE:
			break;
		case KORE_PGSQL_STATE_ERROR:
		default:
			return (q_fail(q));
		}
		q->phase = Q_DRAINING;
		/* FALLTHROUGH */
	case Q_DRAINING:
		if (q->sql.state == KORE_PGSQL_STATE_WAIT)
			return (STORE_WAIT);
		if (q->sql.state == KORE_PGSQL_STATE_ERROR)
			return (q_fail(q));
		if (q->sql.state == KORE_PGSQL_STATE_DONE)
			kore_pgsql_continue(&q->sql);
		kore_pgsql_cleanup(&q->sql);
		kore_pgsql_init(&q->sql);
		q->phase = Q_IDLE;
		return (STORE_OK);
	}
	return (q_fail(q));
}

int
store_rows(const struct store_q *q)
{
	return (q->res == NULL ? 0 : PQntuples(q->res));
}

const char *
store_val(const struct store_q *q, int row, int col)
{
	if (q->res == NULL || row < 0 || col < 0 || row >= PQntuples(q->res) ||
	    col >= PQnfields(q->res) || PQgetisnull(q->res, row, col))
		return (NULL);
	return (PQgetvalue(q->res, row, col));
}

int64_t
store_val_int(const struct store_q *q, int row, int col)
{
	const char *v;

	if ((v = store_val(q, row, col)) == NULL)
		return (0);
	return (strtoll(v, NULL, 10));
}

int
store_val_bool(const struct store_q *q, int row, int col)
{
	const char *v;

	return ((v = store_val(q, row, col)) != NULL && strcmp(v, "t") == 0);
}

void
store_clear(struct store_q *q)
{
	if (q->res != NULL) {
		PQclear(q->res);
		q->res = NULL;
	}
}

struct store_config store_cfg;

void
store_init(const struct store_config *cfg)
{
	store_cfg = *cfg;
}
