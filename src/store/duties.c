/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The cluster's duties (src/core/leader.c runs them on worker 1's leader
 * connection): the statements, their values and how often they run.  This
 * file alone of the store knows the core's duty runner, whose struct it
 * fills.
 */

#include <inttypes.h>
#include <stdio.h>

#include <kore/kore.h>

#include "store/internal.h"

#define SWEEP_MS 1000
#define PRUNE_MS (10 * 60 * 1000)

#define ALERT_NOTIFY_MS 1000

static int sweep_prepare(struct store_duty *, const char **, char[][32]);
static int prune_prepare(struct store_duty *, const char **, char[][32]);
static int eval_prepare(struct store_duty *, const char **, char[][32]);
static int notify_prepare(struct store_duty *, const char **, char[][32]);

/*
 * Presence transitions and command deadlines, by the server's clock: once
 * per cluster and second, by the instance that leads the duty.  Each
 * command's deadline was set when it was issued (YARD_COMMAND_TIMEOUT, or
 * YARD_DEPLOY_TIMEOUT for deploy, update, rollback and move); a command
 * that times out loses its progress as a finished one does.
 */
static const char *sql_sweep =
    "WITH" STORE_DUTY_RECORD " ch AS (UPDATE nodes n SET status = s.now_status,"
    "  status_changed_at = now() FROM (SELECT id, yard_node_status("
    "  revoked_at, last_seen, $3::integer, $4::integer) AS now_status"
    "  FROM nodes) s WHERE n.id = s.id AND n.status <> s.now_status"
    "  AND n.status <> 'new' RETURNING n.id, n.status),"
    " ne AS (INSERT INTO node_events (node_id, status) SELECT id, status"
    "  FROM ch),"
    " lr AS (DELETE FROM log_requests WHERE wanted_until <"
    "  now() - interval '1 minute'),"
    " t AS (UPDATE commands SET state = 'timed_out', finished_at = now(),"
    "  progress = NULL"
    "  WHERE state IN ('queued', 'dispatched', 'running')"
    "  AND deadline <= now() RETURNING id)"
    " INSERT INTO command_events (command_id, state) SELECT id, 'timed_out'"
    " FROM t";

/*
 * Metric history past its retention ($3 days): every instance when it
 * starts and every 10 minutes (so that a changed retention applies at
 * once), never two at once (the transaction's advisory lock).
 */
static const char *sql_prune =
    "WITH g AS (SELECT pg_try_advisory_xact_lock(hashtext('yard-duty'),"
    "  hashtext($1)) AS ok),"
    " pn AS (DELETE FROM node_metrics WHERE (SELECT ok FROM g) AND"
    "  at < now() - make_interval(days => $3::integer)),"
    " pt AS (DELETE FROM task_metrics WHERE (SELECT ok FROM g) AND"
    "  at < now() - make_interval(days => $3::integer))"
    " INSERT INTO duty_runs (duty, holder, runs, last_run)"
    " SELECT $1, $2, 1, now() FROM g WHERE ok ON CONFLICT (duty) DO UPDATE"
    " SET holder = EXCLUDED.holder, runs = duty_runs.runs + 1,"
    " last_run = now()";

/*
 * The alerts (016_alert_eval.sql, docs/alerts.md): one evaluation of
 * every enabled rule, and one round of notifications into the inbox and
 * the outbox.  Each is one function call, so one transaction: a run
 * happens whole or not at all, and the next leader continues from the
 * tables.  $3: seconds a metric sample counts as current, $4: the grace
 * of planned work; for notify $3: the group wait, $4: the repeat.
 */
static const char *sql_alert_eval =
    "WITH" STORE_DUTY_RECORD " x AS (SELECT 1)"
    " SELECT yard_alert_eval($3::integer, $4::integer)";
static const char *sql_alert_notify =
    "WITH" STORE_DUTY_RECORD " x AS (SELECT 1)"
    " SELECT yard_alert_notify($3::integer, $4::integer)";

static struct store_duty sweep_duty = { .name = "presence-sweep",
	.kind = STORE_DUTY_LEADER,
	.every_ms = SWEEP_MS,
	.prepare = sweep_prepare };
static struct store_duty prune_duty = { .name = "metric-prune",
	.kind = STORE_DUTY_EACH,
	.every_ms = PRUNE_MS,
	.prepare = prune_prepare };

static struct store_duty eval_duty = { .name = "alert-eval",
	.kind = STORE_DUTY_LEADER,
	.prepare = eval_prepare };
static struct store_duty notify_duty = { .name = "alert-notify",
	.kind = STORE_DUTY_LEADER,
	.every_ms = ALERT_NOTIFY_MS,
	.prepare = notify_prepare };

static int
sweep_prepare(struct store_duty *d, const char **vals, char buf[][32])
{
	(void)snprintf(buf[2], 32, "%" PRId64, store_cfg.node_offline_after);
	(void)snprintf(buf[3], 32, "%" PRId64, store_cfg.node_lost_after);
	vals[2] = buf[2];
	vals[3] = buf[3];
	return (4);
}

static int
prune_prepare(struct store_duty *d, const char **vals, char buf[][32])
{
	(void)snprintf(buf[2], 32, "%" PRId64,
	    store_cfg.metrics_retention_days);
	vals[2] = buf[2];
	return (3);
}

static int
eval_prepare(struct store_duty *d, const char **vals, char buf[][32])
{
	/* Twice the offline delay: a sample goes stale only after its node
	 * is offline, so staleness never raises an alert of its own. */
	(void)snprintf(buf[2], 32, "%" PRId64,
	    2 * store_cfg.node_offline_after);
	(void)snprintf(buf[3], 32, "%" PRId64, store_cfg.alert_grace);
	vals[2] = buf[2];
	vals[3] = buf[3];
	return (4);
}

static int
notify_prepare(struct store_duty *d, const char **vals, char buf[][32])
{
	(void)snprintf(buf[2], 32, "%" PRId64, store_cfg.alert_group_wait);
	(void)snprintf(buf[3], 32, "%" PRId64, store_cfg.alert_repeat);
	vals[2] = buf[2];
	vals[3] = buf[3];
	return (4);
}

void
store_duties_register(void (*add)(struct store_duty *))
{
	sweep_duty.sql = sql_sweep;
	prune_duty.sql = sql_prune;
	eval_duty.sql = sql_alert_eval;
	eval_duty.every_ms = (uint64_t)store_cfg.alert_eval * 1000;
	notify_duty.sql = sql_alert_notify;
	add(&sweep_duty);
	add(&prune_duty);
	add(&eval_duty);
	add(&notify_duty);
}
