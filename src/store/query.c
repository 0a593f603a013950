/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * One request's statements, on the store's own connections (pool.c).
 *
 * store_run() is called again with the same arguments on every re-entry
 * until it answers: queued for a connection, it stays queued (a wake-up
 * for something else does not lose its place); woken with a connection,
 * it sends; sent, it waits for the pool to collect the answer into q.
 * store_q_busy() keeps a caller on the statement it started.
 */

#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "store/internal.h"

struct store_q *
store_q_new(void)
{
	return (kore_calloc(1, sizeof(struct store_q)));
}

static void
q_forget(struct store_q *q)
{
	if (q->fail != NULL) {
		PQclear(q->fail);
		q->fail = NULL;
	}
	q->failed = 0;
	q->why[0] = '\0';
}

void
store_q_free(struct store_q *q)
{
	if (q == NULL)
		return;
	store_pool_drop(q);
	q_forget(q);
	store_clear(q);
	kore_free(q);
}

int
store_q_busy(const struct store_q *q)
{
	return (q != NULL && q->phase != STORE_Q_IDLE);
}

enum store_err
store_q_err(const struct store_q *q, const char **column)
{
	if (column != NULL)
		*column = q->column[0] != '\0' ? q->column : NULL;
	return (q->err);
}

/* Classify the failure of q's statement, log what needs logging. */
static enum store_step
q_fail(struct store_q *q)
{
	const char *st, *cn;

	st = cn = NULL;
	if (q->fail != NULL) {
		st = PQresultErrorField(q->fail, PG_DIAG_SQLSTATE);
		cn = PQresultErrorField(q->fail, PG_DIAG_CONSTRAINT_NAME);
	}
	q->column[0] = '\0';
	/* A unique value, or an exclusion constraint's overlap (a command
	 * that may not run beside another, 011_releases.sql). */
	if (st != NULL &&
	    (strcmp(st, "23505") == 0 || strcmp(st, "23P01") == 0)) {
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
		kore_log(LOG_NOTICE, "pgsql error: %s",
		    PQresultErrorMessage(q->fail));
		q->err = STORE_E_INTERNAL;
	} else {
		kore_log(LOG_WARNING, "store: postgresql: %s",
		    q->fail != NULL	    ? PQresultErrorMessage(q->fail)
			: q->why[0] != '\0' ? q->why
					    : "unavailable");
		q->err = STORE_E_DOWN;
	}
	store_clear(q);
	q_forget(q);
	q->phase = STORE_Q_IDLE;
	return (STORE_ERR);
}

/* The pool answered q: collect. */
static enum store_step
q_end(struct store_q *q)
{
	if (q->failed)
		return (q_fail(q));
	q->phase = STORE_Q_IDLE;
	return (STORE_OK);
}

static enum store_step
q_wait(struct store_q *q)
{
	if (q->req != NULL)
		http_request_sleep(q->req);
	return (STORE_WAIT);
}

enum store_step
store_run(struct store_q *q, struct http_request *req, const char *sql, int n,
    const char *const *vals)
{
	if (req != NULL)
		q->req = req;
	switch (q->phase) {
	case STORE_Q_IDLE:
		store_clear(q);
		q_forget(q);
		q->err = STORE_E_NONE;
		q->column[0] = '\0';
		/* PostgreSQL known away: answer at once, do not queue. */
		if (store_pool_down()) {
			q->err = STORE_E_DOWN;
			return (STORE_ERR);
		}
		q->phase = STORE_Q_QUEUED;
		switch (store_pool_take(q)) {
		case STORE_POOL_GOT:
			break;
		case STORE_POOL_QUEUED:
			/* Answered at once when PostgreSQL refused. */
			if (q->phase == STORE_Q_DONE)
				return (q_end(q));
			return (q_wait(q));
		case STORE_POOL_FULL:
		default:
			/* PostgreSQL is up: this worker has too much waiting. */
			store_clear(q);
			q_forget(q);
			q->phase = STORE_Q_IDLE;
			q->err = STORE_E_BUSY;
			return (STORE_ERR);
		}
		/* FALLTHROUGH */
	case STORE_Q_QUEUED:
		if (q->pc == NULL)
			return (q_wait(q));
		if (!store_pool_send(q, sql, n, vals))
			return (q_fail(q));
		/* Answered at once when the connection died sending. */
		if (q->phase == STORE_Q_DONE)
			return (q_end(q));
		return (q_wait(q));
	case STORE_Q_RUNNING:
		return (q_wait(q));
	case STORE_Q_DONE:
		return (q_end(q));
	}
	return (q_fail(q));
}

enum store_step
store_run_seen(struct store_q *q, struct http_request *req, const char *sql,
    int64_t id, const struct auth_principal *who)
{
	char	    n[24], uid[24];
	const char *vals[3];

	vals[0] = STORE_NUM(n, id);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	return (store_run(q, req, sql, 3, vals));
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
