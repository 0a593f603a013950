/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Statements of the agent protocol (docs/agent-protocol.md): a node's
 * credential, enrolment, the command long-poll's dispatch, command results
 * and log chunks.  Every statement but enrolment is for the node that
 * signed the request, and touches only what belongs to that node.
 */

#include "store/internal.h"

static const char *sql_node_secret =
    "SELECT encode(secret_hash, 'hex'), revoked_at IS NOT NULL FROM nodes"
    " WHERE id = $1::bigint";

/*
 * Consume the token and create the node in one statement.  The node is
 * "enrolled" with no last_seen: enrolment is not a heartbeat, and the
 * node turns online with its agent's first one (020_node_enrolled.sql).
 */
static const char *sql_enroll =
    "WITH e AS (UPDATE enrollments SET used_at = now()"
    "  WHERE token_hash = decode($1, 'hex') AND used_at IS NULL"
    "  AND expires_at > now() RETURNING id, created_by),"
    " n AS (INSERT INTO nodes (name, hostname, secret_hash, enrolled_at,"
    "  facts, agent_version, status, status_changed_at)"
    "  SELECT CASE WHEN EXISTS (SELECT 1 FROM nodes WHERE name = $2)"
    "   THEN $2 || '-' || e.id ELSE $2 END, $2, decode($3, 'hex'), now(),"
    "   $4::jsonb, $5, 'enrolled', now() FROM e RETURNING id, name),"
    " ev AS (INSERT INTO node_events (node_id, status) SELECT id, 'enrolled'"
    "  FROM n),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT e.created_by, '', 'node.enroll',"
    "  'node', n.id, jsonb_build_object('name', n.name, 'enrollment', e.id),"
    "  $6 FROM n, e)"
    " SELECT id, name FROM n";

/* Hand out pending commands, marking the queued ones dispatched. */
static const char *sql_dispatch =
    /* At most 50 commands, and no more than 16 MiB of payloads (they may
     * carry configurations) but always the first: an answer the agent
     * takes (docs/agent-protocol.md: 32 MiB). */
    "WITH s AS (SELECT id, seq, sum(octet_length(payload::text)) OVER"
    "  (ORDER BY seq) AS run FROM commands WHERE node_id = $1::bigint"
    "  AND seq > $2::bigint AND state IN ('queued', 'dispatched', 'running')"
    "  AND deadline > now() ORDER BY seq LIMIT 50),"
    " p AS (SELECT c.id, c.state FROM commands c JOIN s ON s.id = c.id"
    "  WHERE c.state IN ('queued', 'dispatched', 'running') AND (s.run <="
    "  16777216 OR s.seq = (SELECT min(seq) FROM s)) ORDER BY c.seq"
    "  FOR UPDATE OF c),"
    " d AS (UPDATE commands c SET state = CASE WHEN p.state = 'queued' THEN"
    "  'dispatched' ELSE c.state END, dispatched_at ="
    "  coalesce(c.dispatched_at, now()) FROM p WHERE c.id = p.id"
    "  RETURNING c.id, c.seq, c.type, c.payload, c.issued_at, p.state AS was),"
    " ev AS (INSERT INTO command_events (command_id, state)"
    "  SELECT id, 'dispatched' FROM d WHERE was = 'queued'),"
    /* Log requests go out once, with the commands. */
    " l AS (UPDATE log_requests SET delivered_at = now() WHERE id IN"
    "  (SELECT id FROM log_requests WHERE node_id = $1::bigint"
    "  AND wanted_until > now() AND (delivered_at IS NULL OR"
    /* handed to a poll that was gone (an agent restarting)? again */
    "  (answered_at IS NULL AND delivered_at < now() - interval '2 seconds'))"
    "  ORDER BY created_at LIMIT 16 FOR UPDATE SKIP LOCKED)"
    "  RETURNING id, task_id, mode, file, lines, q)"
    " SELECT (SELECT count(*) FROM d) + (SELECT count(*) FROM l),"
    "  json_build_object('v', 1, 'commands', (SELECT"
    "  coalesce(json_agg(json_build_object('id', id, 'seq', seq, 'type',"
    "  type, 'payload', payload, 'issued_at', issued_at) ORDER BY seq),"
    "  '[]') FROM d), 'logs', (SELECT coalesce(json_agg(json_build_object("
    "  'id', id, 'task_id', task_id, 'mode', mode, 'file', file, 'lines',"
    "  lines, 'q', q)), '[]') FROM l))::text,"
    /* Seconds from creation to this first handing out, for /metrics. */
    " (SELECT coalesce(string_agg(extract(epoch FROM now() - issued_at)"
    "  ::text, ' '), '') FROM d WHERE was = 'queued')";

/*
 * Record a result once; a repeated final result changes nothing.  A
 * running result keeps the output and progress it does not carry, and
 * adds an event only when the state changes; a final one clears the
 * progress.  The final result of a release command replaces its task's
 * releases with those it carries ($9; deployed_by: who issued the
 * command that made each), and a succeeded move sets the task's
 * deploy_dir to the one the command named.
 */
static const char *sql_result =
    "WITH o AS (SELECT id, state AS was FROM commands WHERE id = $1::uuid"
    "  AND node_id = $2::bigint AND state IN ('queued', 'dispatched',"
    "  'running') FOR UPDATE),"
    " c AS (UPDATE commands k SET state = $3, exit_status = $4::integer,"
    "  output = CASE WHEN $3 = 'running' AND $5 = '' THEN k.output"
    "  ELSE $5 END, agent_received_ms = $6::bigint,"
    "  agent_finished_ms = $7::bigint, finished_at = CASE WHEN $3 IN"
    "  ('succeeded', 'failed') THEN now() ELSE NULL END,"
    "  progress = CASE WHEN $3 = 'running' THEN coalesce($8::jsonb,"
    "  k.progress) END,"
    /* A running result without a code keeps the last one. */
    "  code = CASE WHEN $3 = 'running' AND $10::text IS NULL THEN k.code"
    "  ELSE $10 END, params = CASE WHEN $3 = 'running' AND $10::text IS NULL"
    "  THEN k.params ELSE $11::jsonb END"
    "  FROM o WHERE k.id = o.id RETURNING k.id, k.state, k.task_id, k.type,"
    "  k.payload, o.was),"
    " ev AS (INSERT INTO command_events (command_id, state, detail, code,"
    "  params) SELECT id, state, jsonb_strip_nulls(jsonb_build_object("
    "  'exit_status', $4::integer)), $10, $11::jsonb FROM c"
    "  WHERE c.state <> 'running' OR c.was <> 'running'),"
    /* The releases: the newest first, the first of a number wins. */
    " rl AS (SELECT DISTINCT ON ((r.j->>'n')::bigint) c.task_id,"
    "  (r.j->>'n')::bigint AS n, r.j->>'sha256' AS sha256,"
    "  r.j->>'state' AS state, (r.j->>'deployed_at')::bigint AS deployed_at,"
    "  nullif(r.j->>'command', '')::uuid AS command"
    "  FROM c, jsonb_array_elements($9::jsonb) WITH ORDINALITY AS r(j, i)"
    "  WHERE $3 IN ('succeeded', 'failed') AND c.task_id IS NOT NULL"
    "  AND c.type IN " STORE_RELEASE_TYPES
    "  ORDER BY (r.j->>'n')::bigint, r.i),"
    " rd AS (DELETE FROM releases d USING c WHERE $9::jsonb IS NOT NULL"
    "  AND $3 IN ('succeeded', 'failed') AND c.type IN " STORE_RELEASE_TYPES
    "  AND d.task_id = c.task_id AND d.n NOT IN (SELECT n FROM rl)),"
    " ri AS (INSERT INTO releases (task_id, n, sha256, state, deployed_at,"
    "  command_id, deployed_by) SELECT rl.task_id, rl.n, rl.sha256,"
    "  rl.state, to_timestamp(rl.deployed_at / 1000.0), rl.command,"
    "  (SELECT k.issued_by FROM commands k WHERE k.id = rl.command"
    "  AND k.task_id = rl.task_id) FROM rl"
    "  ON CONFLICT (task_id, n) DO UPDATE SET sha256 = EXCLUDED.sha256,"
    "  state = EXCLUDED.state, deployed_at = EXCLUDED.deployed_at,"
    "  command_id = EXCLUDED.command_id,"
    "  deployed_by = EXCLUDED.deployed_by, recorded_at = now()),"
    " mv AS (UPDATE tasks t SET spec = jsonb_set(t.spec, '{deploy_dir}',"
    "  c.payload->'deploy_dir'), updated_at = now() FROM c"
    "  WHERE $3 = 'succeeded' AND c.type = 'move' AND t.id = c.task_id"
    "  AND jsonb_typeof(c.payload->'deploy_dir') = 'string'),"
    /* An uninstalled task is gone; its commands stay in the ledger. */
    " del AS (DELETE FROM tasks WHERE $3 = 'succeeded' AND id = (SELECT"
    "  task_id FROM c WHERE type = 'uninstall') AND node_id = $2::bigint)"
    " SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM commands"
    "  WHERE id = $1::uuid AND node_id = $2::bigint)";

/* A log chunk: stored once; says whether anyone still follows. */
static const char *sql_log_chunk =
    "WITH r AS (SELECT id, mode, done, wanted_until > now() AS wanted"
    "  FROM log_requests WHERE id = $1::uuid AND node_id = $2::bigint"
    "  FOR UPDATE),"
    " c AS (INSERT INTO log_chunks (request_id, seq, data, stderr)"
    "  SELECT id, $3::integer, $4, $11::jsonb FROM r WHERE NOT done AND"
    "  ($4 <> ''"
    "  OR $3::integer = 0 OR $5::boolean) ON CONFLICT DO NOTHING"
    "  RETURNING seq),"
    " u AS (UPDATE log_requests l SET done = $5::boolean, answered_at = now(),"
    "  error = coalesce($6, l.error), files = coalesce($7::jsonb, l.files),"
    "  size = $8::bigint, matches = coalesce($9::bigint, l.matches),"
    "  truncated = l.truncated OR $10::boolean FROM r"
    "  WHERE l.id = r.id AND NOT r.done RETURNING l.id)"
    " SELECT (SELECT count(*) FROM r), (SELECT wanted AND mode = 'follow'"
    "  AND NOT $5::boolean FROM r), (SELECT count(*) FROM c) +"
    "  (SELECT count(*) FROM u WHERE $5::boolean OR $6 IS NOT NULL)";

/* Commands that cannot be delivered (a configuration whose secret does
 * not decrypt): failed with the reason as their output. */
static const char *sql_fail =
    "WITH f AS (SELECT (x->>'id')::uuid AS id, x->>'error' AS err"
    "  FROM jsonb_array_elements($2::jsonb) x),"
    " c AS (UPDATE commands k SET state = 'failed', output = f.err,"
    "  finished_at = now(), progress = NULL FROM f WHERE k.id = f.id"
    "  AND k.node_id = $1::bigint AND k.state IN ('queued', 'dispatched',"
    "  'running') RETURNING k.id),"
    " ev AS (INSERT INTO command_events (command_id, state, detail)"
    "  SELECT id, 'failed', '{\"undeliverable\":true}'::jsonb FROM c)"
    " SELECT count(*) FROM c";

static const char *sql_ping = "SELECT 1";

enum store_step
store_agent_secret(struct store_q *q, struct http_request *req, int64_t node)
{
	char	    id[24];
	const char *vals[1];

	vals[0] = STORE_NUM(id, node);
	return (store_run(q, req, sql_node_secret, 1, vals));
}

enum store_step
store_agent_enrol(struct store_q *q, struct http_request *req,
    const struct store_enrol *en)
{
	const char *vals[6];

	vals[0] = en->token_hash;
	vals[1] = en->hostname;
	vals[2] = en->secret_hash;
	vals[3] = en->facts;
	vals[4] = en->version;
	vals[5] = en->remote;
	return (store_run(q, req, sql_enroll, 6, vals));
}

enum store_step
store_agent_dispatch(struct store_q *q, struct http_request *req, int64_t node,
    int64_t after)
{
	char	    nid[24], aft[24];
	const char *vals[2];

	vals[0] = STORE_NUM(nid, node);
	vals[1] = STORE_NUM(aft, after);
	return (store_run(q, req, sql_dispatch, 2, vals));
}

enum store_step
store_agent_result(struct store_q *q, struct http_request *req,
    const struct store_cmd_result *r)
{
	char	    nid[24], ex[24], rcv[24], fin[24];
	const char *vals[11];

	vals[0] = r->command;
	vals[1] = STORE_NUM(nid, r->node);
	vals[2] = r->state;
	vals[3] = r->has_exit_status ? STORE_NUM(ex, r->exit_status) : NULL;
	vals[4] = r->output;
	vals[5] = r->received_ms != 0 ? STORE_NUM(rcv, r->received_ms) : NULL;
	vals[6] = r->has_finished_ms ? STORE_NUM(fin, r->finished_ms) : NULL;
	vals[7] = r->progress;
	vals[8] = r->releases;
	vals[9] = r->code;
	vals[10] = r->params;
	return (store_run(q, req, sql_result, 11, vals));
}

enum store_step
store_agent_log_chunk(struct store_q *q, struct http_request *req,
    const struct store_log_chunk *ch)
{
	char	    nid[24], seq[24], size[24], m[24];
	const char *vals[11];

	vals[0] = ch->request;
	vals[1] = STORE_NUM(nid, ch->node);
	vals[2] = STORE_NUM(seq, ch->seq);
	vals[3] = ch->data;
	vals[4] = STORE_BOOL(ch->done);
	vals[5] = ch->error;
	vals[6] = ch->files;
	vals[7] = STORE_NUM(size, ch->size);
	vals[8] = ch->matches >= 0 ? STORE_NUM(m, ch->matches) : NULL;
	vals[9] = STORE_BOOL(ch->truncated);
	vals[10] = ch->stderr_ranges;
	return (store_run(q, req, sql_log_chunk, 11, vals));
}

enum store_step
store_agent_fail(struct store_q *q, struct http_request *req, int64_t node,
    const char *fails)
{
	char	    nid[24];
	const char *vals[2];

	vals[0] = STORE_NUM(nid, node);
	vals[1] = fails;
	return (store_run(q, req, sql_fail, 2, vals));
}

enum store_step
store_ping(struct store_q *q, struct http_request *req)
{
	return (store_run(q, req, sql_ping, 0, NULL));
}
