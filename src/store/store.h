/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The stores: PostgreSQL migrations (parent, blocking, before fork), the
 * statements every feature runs (each a named function below, grouped by
 * the object it is about; the SQL text lives only under src/store/), and
 * the per-worker Redis connections driven by Kore's event loop.
 *
 * Statements run asynchronously for a request: a statement function
 * takes the request's struct store_q and the request, and is called again
 * with the same arguments on every re-entry of the same state until it
 * answers STORE_OK (the result is then in q until store_clear() or the
 * next statement) or STORE_ERR (store_q_err() says what went wrong).
 * STORE_WAIT: the request sleeps and is woken when there is news.
 * Permission levels are 0 none, 1 view, 2 operate, 3 manage (the values of
 * enum auth_level), decided by the SQL functions of migration
 * 006_levels.sql, which every statement below that filters or checks by
 * permission calls.
 */

#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

struct http_request;
struct auth_principal;

/* Kore's database name for the background jobs (heartbeat flush).
 * Requests use the store's own connections (src/store/pool.c), so jobs
 * never wait behind them. */
#define STORE_DB_BG "db-bg"

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

/*
 * One request's statements.  Created with the request's state, freed with
 * it (store_q_free() also gives back a connection still held).
 */
struct store_q;

enum store_step {
	STORE_OK = 0, /* done: the result is in q */
	STORE_WAIT, /* the request sleeps; call again when it runs */
	STORE_ERR /* failed: see store_q_err() */
};

enum store_err {
	STORE_E_NONE = 0,
	STORE_E_DOWN, /* PostgreSQL unavailable (503) */
	STORE_E_CONFLICT, /* a unique value exists already (409) */
	STORE_E_MISSING, /* a referenced object does not exist (404) */
	STORE_E_VALUE, /* a value was not accepted (400) */
	STORE_E_INTERNAL /* anything else, logged (500) */
};

struct store_q *store_q_new(void);
void		store_q_free(struct store_q *);
/* 1 while a statement is in flight (or queued for a connection). */
int store_q_busy(const struct store_q *);
/* The last error; *column names the referencing column of a
 * STORE_E_MISSING when known ("user_id", "node_id", "task_id"). */
enum store_err store_q_err(const struct store_q *, const char **column);

/* The last result: NULL for SQL NULL or no such row/column. */
int	    store_rows(const struct store_q *);
const char *store_val(const struct store_q *, int row, int col);
int64_t	    store_val_int(const struct store_q *, int row, int col);
/* 1 when the value is the boolean true ("t"). */
int  store_val_bool(const struct store_q *, int row, int col);
void store_clear(struct store_q *);

/*
 * PostgreSQL connections that die, and knowing when PostgreSQL is back
 * (pg.c), for jobs on Kore's pool.  store_pg_failed(): after a failed
 * statement, before releasing it: resets the connection or probes, in the
 * background.  store_pg_down(): 1 while PostgreSQL is known unreachable
 * or a connection is being reset: do not ask Kore for a connection (it
 * would connect with a blocking PQconnectdb()).  store_pg_init(): at
 * worker start; also starts the store's own connections (pool.c).
 */
struct kore_pgsql;
void store_pg_failed(struct kore_pgsql *);
void store_pg_init(const char *conninfo);
int  store_pg_down(void);

/* What the statements need of the settings; given at worker start. */
struct store_config {
	int64_t node_offline_after; /* seconds without a heartbeat */
	int64_t node_lost_after;
};
void			   store_init(const struct store_config *);
extern struct store_config store_cfg;

/*
 * Nodes (nodes.c).  A node is visible to admins, and through a grant on it
 * or on one of its tasks.  Results are one row of one json text column,
 * except lists: rows of (json text, id), one row past limit meaning more.
 */
struct store_node_filter {
	int64_t	    cursor; /* ids after this */
	int64_t	    limit;
	const char *q; /* "" or a substring of name or hostname */
	const char *status; /* "" or online/offline/lost/revoked */
};
enum store_step store_nodes_list(struct store_q *, struct http_request *,
    const struct auth_principal *, const struct store_node_filter *);
/* The node with its caller's level and its last 20 events; no row when
 * the caller may not see it. */
enum store_step store_node_get(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t node);
/* Revoke (admins; the caller checks): one row (id) when it was live. */
enum store_step store_node_revoke(struct store_q *, struct http_request *,
    int64_t node, int64_t actor, const char *actor_sub, const char *remote);

/* Metrics (nodes.c): a node's or a task's history in step-second buckets
 * over [from, to) ("" for the last hour; step 0: ~300 points); no row when
 * the caller may not see the object. */
enum store_step store_metrics_node(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t node, const char *from,
    const char *to, int64_t step);
enum store_step store_metrics_task(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t task, const char *from,
    const char *to, int64_t step);

/* XXX: for handlers not yet moved into the store; goes with the move. */
enum store_step store_run(struct store_q *, struct http_request *,
    const char *sql, int n, const char *const *vals);

#endif /* STORE_H */
