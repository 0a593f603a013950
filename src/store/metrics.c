/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The gauges /metrics reads from PostgreSQL, in one statement: nodes by
 * presence (as the API shows it: yard_node_status() with the presence
 * thresholds), tasks by state, and the commands issued in the last 24
 * hours by type and state.  Nodes and tasks are a scan of tables that
 * hold one row per node and per task (some milliseconds at 10,000);
 * commands go through commands_issued_idx, so the ledger's length does
 * not matter.
 */

#include "store/internal.h"

static const char *sql_gauges =
    "SELECT 'node', yard_node_status(revoked_at, last_seen, $1::integer,"
    "  $2::integer), '', count(*) FROM nodes GROUP BY 2"
    " UNION ALL SELECT 'task', state, '', count(*) FROM tasks GROUP BY state"
    " UNION ALL SELECT 'command', state, type, count(*) FROM commands"
    "  WHERE issued_at > now() - interval '24 hours' GROUP BY state, type";

enum store_step
store_metrics_gauges(struct store_q *q, struct http_request *req)
{
	char	    off[24], lost[24];
	const char *vals[2];

	vals[0] = STORE_NUM(off, store_cfg.node_offline_after);
	vals[1] = STORE_NUM(lost, store_cfg.node_lost_after);
	return (store_run(q, req, sql_gauges, 2, vals));
}
