/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The heartbeat flush: the latest state of every node a worker heard
 * from, and the samples since, in one statement on STORE_DB_BG.  The
 * statement is driven by Kore's callback, not by a request; a 1 s timer
 * notices what Kore does not report (a connection that died mid-query, a
 * wake-up from Kore's connection queue) and sets the flush free again.
 */

#include <stdlib.h>

#include <kore/kore.h>
#include <kore/pgsql.h>

#include <jansson.h>

#include "store/internal.h"

#define FLUSH_TICK_MS 1000

static void flush_cb(struct kore_pgsql *, void *);
static void flush_tick(void *, uint64_t);
static void flush_finish(int);
static void pg_release(struct kore_pgsql *);

static struct kore_pgsql flush_sql;
static int		 flush_busy; /* flush_sql is in use */
static int		 flush_sent; /* a batch in flight: done is owed */
static int		 flush_timer;
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
    "  to_timestamp(x.started_at / 1000.0) END,"
    "  restarts = coalesce(x.restarts, 0),"
    "  metrics = CASE WHEN x.state IN ('starting', 'running', 'unhealthy')"
    "  THEN jsonb_strip_nulls("
    "  jsonb_build_object('cpu', x.cpu, 'rss', x.rss, 'threads', x.threads,"
    "  'fds', x.fds, 'procs', x.procs, 'exit_status', x.exit_status))"
    "  ELSE jsonb_strip_nulls("
    "  jsonb_build_object('exit_status', x.exit_status)) END,"
    "  last_lines = CASE WHEN x.state IN ('exited', 'failed', 'crash_loop')"
    "  THEN coalesce(x.last_lines, t.last_lines) END,"
    "  updated_at = now()"
    "  FROM v, jsonb_to_recordset(coalesce(v.tasks, '[]')) AS x(id bigint,"
    "  state text, pid integer, started_at bigint, restarts integer,"
    "  cpu real, rss bigint, threads integer, fds integer, procs integer,"
    "  exit_status integer, health text, last_lines text)"
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

	if (!flush_timer) {
		kore_timer_add(flush_tick, FLUSH_TICK_MS, NULL, 0);
		flush_timer = 1;
	}
	/* PostgreSQL coming back: the caller keeps the batch for later. */
	if (flush_busy || store_pg_down())
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

	kore_pgsql_init(&flush_sql);
	kore_pgsql_bind_callback(&flush_sql, flush_cb, NULL);
	if (!kore_pgsql_setup(&flush_sql, STORE_DB_BG, KORE_PGSQL_ASYNC) ||
	    !kore_pgsql_query_params(&flush_sql, sql_flush, 0, 1,
		KORE_PGSQL_PARAM_TEXT(text))) {
		/* Not sent: the next tick tries again (PostgreSQL down). */
		if (flush_sql.state != KORE_PGSQL_STATE_INIT ||
		    flush_sql.error != NULL) {
			store_pg_failed(&flush_sql);
			pg_release(&flush_sql);
		} else
			flush_busy = 1; /* queued by Kore; flush_tick frees */
		free(text);
		return (0);
	}
	free(text);
	flush_busy = 1;
	flush_sent = 1;
	flush_done = done;
	flush_arg = arg;
	return (1);
}

/*
 * Clean up a callback-bound query.  Unbind the callback first: when the
 * query still holds its connection, kore_pgsql_cleanup() releases it and
 * calls the callback again (state COMPLETE) after it has freed the error
 * text but before it forgets it, so a callback that cleans up in turn
 * frees it twice and glibc aborts the worker.
 */
static void
pg_release(struct kore_pgsql *sql)
{
	sql->cb = NULL;
	kore_pgsql_cleanup(sql);
}

/* The flush is over: free it, then tell the caller how its batch went. */
static void
flush_finish(int ok)
{
	void (*done)(int, void *) = flush_done;
	void *arg = flush_arg;
	int   sent = flush_sent;

	pg_release(&flush_sql);
	flush_busy = 0;
	flush_sent = 0;
	flush_done = NULL;
	flush_arg = NULL;
	if (sent && done != NULL)
		done(ok, arg);
}

static void
flush_cb(struct kore_pgsql *sql, void *arg)
{
	switch (sql->state) {
	case KORE_PGSQL_STATE_WAIT:
		return;
	case KORE_PGSQL_STATE_ERROR:
		kore_pgsql_logerror(sql);
		store_pg_failed(sql);
		flush_finish(0);
		break;
	case KORE_PGSQL_STATE_RESULT:
	case KORE_PGSQL_STATE_DONE:
		kore_pgsql_continue(sql);
		return;
	case KORE_PGSQL_STATE_COMPLETE:
		flush_finish(1);
		break;
	case KORE_PGSQL_STATE_INIT:
		/*
		 * Woken from Kore's wait queue for a connection.  Kore
		 * takes the waiter off its queue only after this call
		 * returns, so cleaning up here would free it twice (a
		 * fatal "was not busy"); flush_tick() does it.
		 */
		return;
	default:
		return;
	}
}

static void
flush_tick(void *arg, uint64_t now)
{
	/*
	 * Kore does not call a callback-bound query's callback when its
	 * connection dies mid-query (PostgreSQL restarted): it only marks
	 * the query failed.  Notice that here, or the flush would wait for
	 * it forever.  That flush's batch is sent again.
	 */
	if (flush_busy && flush_sql.state == KORE_PGSQL_STATE_ERROR) {
		kore_pgsql_logerror(&flush_sql);
		store_pg_failed(&flush_sql);
		flush_finish(0);
	}
	/* Still (or no longer) waiting for a connection: retry afresh. */
	if (flush_busy && flush_sql.state == KORE_PGSQL_STATE_INIT)
		flush_finish(0);
}
