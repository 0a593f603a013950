/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The heartbeat flush: the latest state of every node a worker heard
 * from, and the samples since, in one statement on the store's own
 * connections (pool.c), as a background job: no request, a callback
 * instead (store_q_bind()), and ahead of requests in the pool's queue, so
 * it never waits behind them.  At most one flush is in flight.
 */

#include <stdlib.h>

#include <kore/kore.h>

#include <jansson.h>

#include "store/internal.h"

static void flush_cb(struct store_q *, void *);
static int  flush_step(void);
static void flush_finish(int);

static struct store_q *flush_q;
static char	      *flush_text; /* the batch in flight, json_dumps()'d */
static void (*flush_done)(int, void *);
static void *flush_arg;

/* The flush: latest state per node, then the samples. */
static const char *sql_flush =
    "WITH v AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id bigint,"
    "  seen bigint, facts jsonb, metrics jsonb, version text, samples jsonb,"
    "  tasks jsonb)),"
    " u AS (UPDATE nodes n SET last_seen = to_timestamp(v.seen),"
    "  facts = coalesce(v.facts, n.facts),"
    "  metrics = coalesce(v.metrics, n.metrics), agent_version = v.version"
    "  FROM v WHERE n.id = v.id AND n.revoked_at IS NULL RETURNING n.id),"
    /* Task states as the agent reports them (its own tasks only). */
    " tu AS (UPDATE tasks t SET state = x.state, health = x.health,"
    "  pid = nullif(x.pid, 0),"
    "  started_at = CASE WHEN x.state IN ('starting', 'running', 'unhealthy')"
    "  AND x.started_at > 0 THEN"
    "  to_timestamp(x.started_at / 1000.0)"
    /* A sample that missed it is not a new run (a "started" event). */
    "  WHEN x.state IN ('starting', 'running', 'unhealthy') THEN"
    "  t.started_at END,"
    "  restarts = coalesce(x.restarts, 0),"
    "  health_fails = coalesce(x.health_fails, 0),"
    "  metrics = CASE WHEN x.state IN ('starting', 'running', 'unhealthy')"
    "  THEN jsonb_strip_nulls("
    "  jsonb_build_object('cpu', x.cpu, 'rss', x.rss, 'threads', x.threads,"
    "  'fds', x.fds, 'procs', x.procs, 'exit_status', x.exit_status))"
    "  ELSE jsonb_strip_nulls("
    "  jsonb_build_object('exit_status', x.exit_status)) END,"
    "  last_lines = CASE WHEN x.state IN ('exited', 'failed', 'crash_loop')"
    "  THEN coalesce(x.last_lines, t.last_lines) END,"
    /* Why (the events' trigger, 019_task_events.sql, reads them); an
     * agent restart forgets the last end and restart: kept. */
    "  last_exit = coalesce(x.last_exit, t.last_exit),"
    "  last_restart = coalesce(x.last_restart, t.last_restart),"
    "  adopted_at = CASE WHEN x.state IN ('starting', 'running', 'unhealthy')"
    "  AND x.adopted_at > 0 THEN to_timestamp(x.adopted_at / 1000.0) END,"
    "  updated_at = now()"
    "  FROM v, jsonb_to_recordset(coalesce(v.tasks, '[]')) AS x(id bigint,"
    "  state text, pid integer, started_at bigint, restarts integer,"
    "  health_fails integer,"
    "  cpu real, rss bigint, threads integer, fds integer, procs integer,"
    "  exit_status integer, health text, last_lines text, last_exit jsonb,"
    "  last_restart jsonb, adopted_at bigint)"
    "  WHERE t.id = x.id AND t.node_id = v.id AND v.id IN (SELECT id FROM u)"
    "  RETURNING t.id, x.state, x.cpu, x.rss, x.threads, x.fds, v.seen),"
    /* History of the running ones, keyed by (task, second). */
    " tm AS (INSERT INTO task_metrics (task_id, at, cpu, rss, threads, fds)"
    "  SELECT id, to_timestamp(seen), cpu, rss, threads, fds FROM tu"
    "  WHERE state IN ('starting', 'running', 'unhealthy')"
    "  AND rss IS NOT NULL ON CONFLICT DO NOTHING)"
    " INSERT INTO node_metrics (node_id, at, cpu, mem_used, mem_total, load1)"
    " SELECT v.id, to_timestamp((s->>0)::bigint), (s->>1)::real,"
    "  (s->>2)::bigint, (s->>3)::bigint, (s->>4)::real"
    " FROM v, jsonb_array_elements(v.samples) s"
    " WHERE v.id IN (SELECT id FROM u) ON CONFLICT DO NOTHING";

int
store_heartbeat_flush(const struct store_hb_row *rows, size_t n, void *arg,
    void (*done)(int, void *))
{
	json_t *batch, *r;
	char   *text;
	size_t	i;

	/* One at a time; PostgreSQL away: the caller keeps the batch. */
	if (flush_text != NULL || store_pool_down())
		return (0);
	if ((batch = json_array()) == NULL)
		return (0);
	for (i = 0; i < n; i++) {
		r = json_pack("{s:I, s:I, s:O?, s:O?, s:s, s:O, s:O?}", "id",
		    (json_int_t)rows[i].node, "seen", (json_int_t)rows[i].seen,
		    "facts", rows[i].facts, "metrics", rows[i].metrics,
		    "version", rows[i].version, "samples", rows[i].samples,
		    "tasks", rows[i].tasks);
		if (r != NULL)
			json_array_append_new(batch, r);
	}
	if (json_array_size(batch) == 0) {
		json_decref(batch);
		return (0);
	}
	text = json_dumps(batch, JSON_COMPACT);
	json_decref(batch);
	if (text == NULL)
		return (0);

	if (flush_q == NULL) {
		flush_q = store_q_new();
		store_q_bind(flush_q, flush_cb, NULL);
	}
	flush_text = text;
	/* Not even queued (PostgreSQL went away just now): not sent. */
	if (!flush_step()) {
		free(flush_text);
		flush_text = NULL;
		return (0);
	}
	flush_done = done;
	flush_arg = arg;
	return (1);
}

/* Drive the statement: 1 while it is in flight, 0 once it is over (and
 * then, once a caller waits for it, flush_finish() has told it). */
static int
flush_step(void)
{
	const char *vals[1];

	vals[0] = flush_text;
	switch (store_run(flush_q, NULL, sql_flush, 1, vals)) {
	case STORE_WAIT:
		return (1);
	case STORE_OK:
		store_clear(flush_q);
		flush_finish(1);
		return (0);
	case STORE_ERR:
	default:
		flush_finish(0);
		return (0);
	}
}

static void
flush_cb(struct store_q *q, void *arg)
{
	(void)flush_step();
}

/* The flush is over: free it, then tell the caller how its batch went. */
static void
flush_finish(int ok)
{
	void (*done)(int, void *) = flush_done;
	void *darg = flush_arg;

	free(flush_text);
	flush_text = NULL;
	flush_done = NULL;
	flush_arg = NULL;
	if (done != NULL)
		done(ok, darg);
}
