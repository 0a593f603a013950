/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The agent side of the server (docs/agent-protocol.md): enrolment, node
 * credentials, heartbeats, the command long-poll and results.
 *
 * Heartbeats touch only this worker's memory on the hot path; a timer
 * flushes the latest state and the samples to PostgreSQL in one statement
 * every two seconds.  Long-polls park in a per-worker table and are woken
 * by a Redis message on every instance (or at once when the command was
 * issued by this worker); with Redis down they re-check PostgreSQL every
 * second instead.
 */

#include <sys/queue.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/pgsql.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "app.h"
#include "api/api.h"
#include "agentproto/agentproto.h"
#include "core/core.h"
#include "store/store.h"

#define NCACHE_SLOTS   4096
#define NCACHE_TTL_MS  30000
#define HB_SLOTS       4096
#define HB_SAMPLES_MAX 128 /* per node between two flushes */
#define FLUSH_MS       2000
#define TICK_MS	       1000
#define PRUNE_MS       (10 * 60 * 1000)

enum poll_step { POLL_AUTH = 0, POLL_QUERY, POLL_PARKED };

/* A node credential this worker has checked against PostgreSQL. */
struct ncache_entry {
	int64_t	 node_id;
	char	 hash[65];
	int	 revoked;
	uint64_t loaded;
};

/* Latest heartbeat and the samples since the last flush, per node. */
struct hb_entry {
	int64_t node_id;
	int64_t seen; /* server clock, seconds */
	json_t *facts; /* latest, owned */
	json_t *metrics; /* latest, owned */
	char	version[AGENTPROTO_STR_MAX + 1]; /* agent's version */
	json_t *samples; /* [[time, cpu, mem_used, mem_total, load1]] */
	json_t *tasks; /* latest task states, owned; NULL: none reported */
	int	dirty;
};

static enum api_step node_auth(struct http_request *, struct api_ctx *);
static void	     hb_flush(void *, uint64_t);
static void	     hb_flush_done(struct kore_pgsql *, void *);
static void	     hb_flush_failed(void);
static void	     pg_release(struct kore_pgsql *);
static void	     agent_tick(void *, uint64_t);
static void	     api_agent_revoked(int64_t);
static int	     reply_raw(struct http_request *, int, const char *);
static char	    *facts_text(const struct agentproto_facts *);
static json_t	    *metrics_json(const struct agentproto_metrics *);

static struct ncache_entry *ncache;
static struct hb_entry	   *hbs;
static struct kore_pgsql    flush_sql;
static int		    flush_busy;
static json_t *flush_rows; /* the batch in flight, until it lands */

static const char *sql_node_secret =
    "SELECT encode(secret_hash, 'hex'), revoked_at IS NOT NULL FROM nodes"
    " WHERE id = $1::bigint";

/* Consume the token and create the node in one statement. */
static const char *sql_enroll =
    "WITH e AS (UPDATE enrollments SET used_at = now()"
    "  WHERE token_hash = decode($1, 'hex') AND used_at IS NULL"
    "  AND expires_at > now() RETURNING id, created_by),"
    " n AS (INSERT INTO nodes (name, hostname, secret_hash, enrolled_at,"
    "  facts, agent_version, status, last_seen)"
    "  SELECT CASE WHEN EXISTS (SELECT 1 FROM nodes WHERE name = $2)"
    "   THEN $2 || '-' || e.id ELSE $2 END, $2, decode($3, 'hex'), now(),"
    "   $4::jsonb, $5, 'online', now() FROM e RETURNING id, name),"
    " ev AS (INSERT INTO node_events (node_id, status) SELECT id, 'enrolled'"
    "  FROM n),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT e.created_by, '', 'node.enroll',"
    "  'node', n.id, jsonb_build_object('name', n.name, 'enrollment', e.id),"
    "  $6 FROM n, e)"
    " SELECT id, name FROM n";

/* Hand out pending commands, marking the queued ones dispatched. */
static const char *sql_dispatch =
    "WITH p AS (SELECT id, state FROM commands WHERE node_id = $1::bigint"
    "  AND seq > $2::bigint AND state IN ('queued', 'dispatched', 'running')"
    "  AND deadline > now() ORDER BY seq LIMIT 50 FOR UPDATE),"
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
    "  lines, 'q', q)), '[]') FROM l))::text";

/* Record a result once; a repeated final result changes nothing. */
static const char *sql_result =
    "WITH c AS (UPDATE commands SET state = $3, exit_status = $4::integer,"
    "  output = $5, agent_received_ms = $6::bigint,"
    "  agent_finished_ms = $7::bigint, finished_at = CASE WHEN $3 IN"
    "  ('succeeded', 'failed') THEN now() ELSE NULL END"
    "  WHERE id = $1::uuid AND node_id = $2::bigint AND state IN"
    "  ('queued', 'dispatched', 'running') RETURNING id, state, task_id,"
    "  type),"
    " ev AS (INSERT INTO command_events (command_id, state, detail)"
    "  SELECT id, state, jsonb_strip_nulls(jsonb_build_object("
    "  'exit_status', $4::integer)) FROM c),"
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
    " c AS (INSERT INTO log_chunks (request_id, seq, data)"
    "  SELECT id, $3::integer, $4 FROM r WHERE NOT done AND ($4 <> ''"
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

/*
 * Presence transitions and command deadlines, by the server's clock: once
 * per cluster and second, by the instance that leads the duty.
 */
static const char *sql_sweep =
    "WITH" CORE_DUTY_RECORD " ch AS (UPDATE nodes n SET status = s.now_status,"
    "  status_changed_at = now() FROM (SELECT id, yard_node_status("
    "  revoked_at, last_seen, $3::integer, $4::integer) AS now_status"
    "  FROM nodes) s WHERE n.id = s.id AND n.status <> s.now_status"
    "  AND n.status <> 'new' RETURNING n.id, n.status),"
    " ne AS (INSERT INTO node_events (node_id, status) SELECT id, status"
    "  FROM ch),"
    " lr AS (DELETE FROM log_requests WHERE wanted_until <"
    "  now() - interval '1 minute'),"
    " t AS (UPDATE commands SET state = 'timed_out', finished_at = now()"
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

static int
sweep_prepare(struct core_duty *d, const char **vals, char buf[][32])
{
	(void)snprintf(buf[2], 32, "%" PRId64, app.cfg.node_offline_after);
	(void)snprintf(buf[3], 32, "%" PRId64, app.cfg.node_lost_after);
	vals[2] = buf[2];
	vals[3] = buf[3];
	return (4);
}

static int
prune_prepare(struct core_duty *d, const char **vals, char buf[][32])
{
	(void)snprintf(buf[2], 32, "%" PRId64, app.cfg.metrics_retention_days);
	vals[2] = buf[2];
	return (3);
}

static struct core_duty sweep_duty = { .name = "presence-sweep",
	.kind = CORE_DUTY_LEADER,
	.every_ms = TICK_MS,
	.prepare = sweep_prepare };
static struct core_duty prune_duty = { .name = "metric-prune",
	.kind = CORE_DUTY_EACH,
	.every_ms = PRUNE_MS,
	.prepare = prune_prepare };

/* A node was revoked on some instance. */
static void
on_nodes(const char *msg, size_t len)
{
	api_agent_revoked(strtoll(msg, NULL, 10));
}

/* Wake-ups in the form of older instances: a bare node id or "all" on
 * yard:wake, a log request id on yard:logs. */
static void
on_wake_legacy(const char *msg, size_t len)
{
	char key[64];

	if (strcmp(msg, "all") == 0)
		core_wait_wake("node:", 1);
	else if (msg[0] >= '0' && msg[0] <= '9') {
		(void)snprintf(key, sizeof(key), "node:%s", msg);
		core_wait_wake(key, 0);
	}
}

static void
on_logs_legacy(const char *msg, size_t len)
{
	char key[64];

	(void)snprintf(key, sizeof(key), "log:%s", msg);
	core_wait_wake(key, 0);
}

void
api_agent_worker_init(void)
{
	ncache = kore_calloc(NCACHE_SLOTS, sizeof(*ncache));
	hbs = kore_calloc(HB_SLOTS, sizeof(*hbs));
	kore_timer_add(hb_flush, FLUSH_MS, NULL, 0);
	kore_timer_add(agent_tick, TICK_MS, NULL, 0);
	core_redis_route(STORE_CHAN_NODES, on_nodes);
	core_redis_route(STORE_CHAN_WAKE, on_wake_legacy);
	core_redis_route(STORE_CHAN_LOGS, on_logs_legacy);
	/* One candidate per instance: worker 1. */
	if (worker->id == 1) {
		sweep_duty.sql = sql_sweep;
		prune_duty.sql = sql_prune;
		core_duty_add(&sweep_duty);
		core_duty_add(&prune_duty);
		core_leader_start(app.cfg.pg_dsn, app.cfg.listen);
	}
}

static void
node_key(int64_t node_id, char *buf, size_t len)
{
	(void)snprintf(buf, len, "node:%" PRId64, node_id);
}

/* A node was revoked (on any instance): forget its credential here and
 * end its parked poll. */
static void
api_agent_revoked(int64_t node_id)
{
	char key[32];

	memset(&ncache[(uint64_t)node_id % NCACHE_SLOTS], 0, sizeof(*ncache));
	node_key(node_id, key, sizeof(key));
	core_wait_wake(key, 0);
}

void
api_node_wake(int64_t node_id)
{
	char key[32];

	node_key(node_id, key, sizeof(key));
	core_wake(key);
}

void
api_nodes_changed(int64_t node_id)
{
	char buf[32];

	api_agent_revoked(node_id);
	snprintf(buf, sizeof(buf), "%" PRId64, node_id);
	(void)store_redis_publish(STORE_CHAN_NODES, buf);
}

static char *
facts_text(const struct agentproto_facts *f)
{
	json_t *j;
	char   *s;

	if ((j = agentproto_facts_to_json(f)) == NULL)
		return (NULL);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return (s);
}

static json_t *
metrics_json(const struct agentproto_metrics *m)
{
	return (json_pack("{s:f, s:I, s:I, s:f, s:f, s:f}", "cpu", m->cpu,
	    "mem_used", (json_int_t)m->mem_used, "mem_total",
	    (json_int_t)m->mem_total, "load1", m->load1, "load5", m->load5,
	    "load15", m->load15));
}

static int
reply_raw(struct http_request *req, int status, const char *json)
{
	http_response_header(req, "content-type", "application/json");
	http_response_header(req, "cache-control", "no-store");
	http_response(req, status, json, json == NULL ? 0 : strlen(json));
	return (KORE_RESULT_OK);
}

static int
agent_error(struct http_request *req, int status, const char *code,
    const struct agentproto_err *e)
{
	return (api_error(req, status, code, e != NULL ? e->msg : NULL,
	    e != NULL && e->field[0] != '\0' ? e->field : NULL));
}

/*
 * Check "YardNode <id>:<secret>" against the stored SHA-256, through a
 * per-worker cache that a revocation (Redis) clears.
 */
static enum api_step
node_auth(struct http_request *req, struct api_ctx *c)
{
	struct ncache_entry  *e;
	const char	     *h, *vals[1];
	char		      secret[AGENTPROTO_SECRET_LEN + 1], hex[65];
	char		      id[32];
	struct agentproto_err perr;
	int64_t		      node_id;
	enum api_step	      s;

	/* Once per request: on re-entries our statements are others'. */
	if (c->id != 0)
		return (API_GO);
	if (!http_request_header(req, "authorization", &h) ||
	    !agentproto_auth_parse(h, &node_id, secret, &perr)) {
		api_error(req, 401, "node_unauthorized",
		    "expected Authorization: YardNode <id>:<secret>", NULL);
		return (API_DONE);
	}
	api_sha256_hex(secret, strlen(secret), hex, sizeof(hex));
	explicit_bzero(secret, sizeof(secret));

	e = &ncache[(uint64_t)node_id % NCACHE_SLOTS];
	/* Finish our own lookup even if another request filled the slot. */
	if (api_db_busy(c) || e->node_id != node_id ||
	    kore_time_ms() - e->loaded > NCACHE_TTL_MS) {
		snprintf(id, sizeof(id), "%" PRId64, node_id);
		vals[0] = id;
		if ((s = api_db(req, c, sql_node_secret, 1, vals, NULL)) !=
		    API_GO)
			return (s);
		memset(e, 0, sizeof(*e));
		if (api_rows(c) == 1 && api_val(c, 0, 0) != NULL) {
			e->node_id = node_id;
			kore_strlcpy(e->hash, api_val(c, 0, 0),
			    sizeof(e->hash));
			e->revoked = strcmp(api_val(c, 0, 1), "t") == 0;
			e->loaded = kore_time_ms();
		}
		api_db_clear(c);
	}
	if (e->node_id != node_id || e->revoked ||
	    CRYPTO_memcmp(e->hash, hex, 64) != 0) {
		kore_log(LOG_NOTICE,
		    "agent: node %" PRId64 " refused "
		    "(unknown, revoked or wrong secret)",
		    node_id);
		api_error(req, 401, "node_unauthorized",
		    "unknown node, revoked node or wrong secret", NULL);
		return (API_DONE);
	}
	c->id = node_id;
	return (API_GO);
}

/* POST /agent/v1/enroll */
int
api_agent_enroll(struct http_request *req)
{
	struct api_ctx		    *c;
	struct agentproto_enroll_req en;
	struct agentproto_err	     err;
	enum api_step		     s;
	char			     thex[65], shex[65], remote[64];
	const char		    *buf;
	char			    *facts, out[256];
	const char		    *vals[6];
	size_t			     len;

	if (req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	c = api_ctx_get(req);
	if (!api_body_raw(req, c, AGENTPROTO_BODY_MAX, &buf, &len))
		return (KORE_RESULT_OK);
	if (!agentproto_enroll_req_decode(buf, len, &en, &err)) {
		return (agent_error(req, 400, "bad_request", &err));
	}

	/* The node's secret is made once and kept across re-entries. */
	if (c->scratch[0] == '\0')
		api_random_token(c->scratch, sizeof(c->scratch));
	api_sha256_hex(en.token, strlen(en.token), thex, sizeof(thex));
	api_sha256_hex(c->scratch, strlen(c->scratch), shex, sizeof(shex));
	api_remote_addr(req, remote, sizeof(remote));
	if ((facts = facts_text(&en.facts)) == NULL) {
		explicit_bzero(&en, sizeof(en));
		return (api_error(req, 500, "internal", NULL, NULL));
	}
	vals[0] = thex;
	vals[1] = en.facts.hostname;
	vals[2] = shex;
	vals[3] = facts;
	vals[4] = en.facts.agent_version;
	vals[5] = remote;
	s = api_db(req, c, sql_enroll, 6, vals, "exists");
	free(facts);
	explicit_bzero(&en, sizeof(en));
	if (s != API_GO)
		return (api_return(s));
	if (api_rows(c) != 1) {
		api_db_clear(c);
		explicit_bzero(c->scratch, sizeof(c->scratch));
		return (api_error(req, 401, "bad_enrollment_token",
		    "the enrolment token is unknown, used or expired", NULL));
	}
	snprintf(out, sizeof(out),
	    "{\"v\":1,\"node_id\":%s,\"secret\":\"%s\","
	    "\"heartbeat_interval\":%" PRId64 ",\"poll_timeout\":%" PRId64 "}",
	    api_val(c, 0, 0), c->scratch, app.cfg.heartbeat_interval,
	    app.cfg.poll_timeout);
	kore_log(LOG_INFO, "agent: node %s enrolled as %s", api_val(c, 0, 0),
	    api_val(c, 0, 1));
	api_db_clear(c);
	explicit_bzero(c->scratch, sizeof(c->scratch));
	reply_raw(req, 201, out);
	explicit_bzero(out, sizeof(out));
	return (KORE_RESULT_OK);
}

static struct hb_entry *
hb_slot(int64_t node_id, int create)
{
	struct hb_entry *e, *stale;
	size_t		 i, n;

	/*
	 * Open addressing; slots are never emptied (a lookup stops at an
	 * empty one), so a full table hands over the slot of the node seen
	 * least recently, provided it is flushed and that node has not been
	 * heard from for node_offline_after: its state is in PostgreSQL
	 * already.  When every slot is fresh the caller answers 503.
	 */
	n = (size_t)((uint64_t)node_id % HB_SLOTS);
	stale = NULL;
	for (i = 0; i < HB_SLOTS; i++) {
		e = &hbs[(n + i) % HB_SLOTS];
		if (e->node_id == node_id)
			return (e);
		if (e->node_id == 0)
			return (create ? e : NULL);
		if (!e->dirty &&
		    app_now() - e->seen > app.cfg.node_offline_after &&
		    (stale == NULL || e->seen < stale->seen))
			stale = e;
	}
	if (stale != NULL && create) {
		json_decref(stale->facts);
		json_decref(stale->metrics);
		json_decref(stale->samples);
		json_decref(stale->tasks);
		memset(stale, 0, sizeof(*stale));
	}
	return (create ? stale : NULL);
}

/* POST /agent/v1/heartbeat: memory only; hb_flush() writes it down. */
int
api_agent_heartbeat(struct http_request *req)
{
	struct api_ctx		   *c;
	struct agentproto_heartbeat hb;
	struct agentproto_err	    err;
	struct hb_entry		   *e;
	enum api_step		    s;
	char			    out[128];
	const char		   *buf;
	size_t			    len, i;

	if (req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	c = api_ctx_get(req);
	if ((s = node_auth(req, c)) != API_GO)
		return (api_return(s));

	if (!api_body_raw(req, c, AGENTPROTO_BODY_MAX, &buf, &len))
		return (KORE_RESULT_OK);
	if (!agentproto_heartbeat_decode(buf, len, &hb, &err)) {
		return (agent_error(req, 400, "bad_request", &err));
	}

	if ((e = hb_slot(c->id, 1)) == NULL) {
		agentproto_heartbeat_cleanup(&hb);
		return (
		    api_error(req, 503, "busy", "heartbeat table full", NULL));
	}
	if (e->node_id == 0) {
		e->node_id = c->id;
		e->samples = json_array();
	}
	json_decref(e->facts);
	json_decref(e->metrics);
	/* Kept as JSON values: the flush sends them as they are. */
	e->facts = agentproto_facts_to_json(&hb.facts);
	e->metrics = metrics_json(&hb.metrics);
	(void)snprintf(e->version, sizeof(e->version), "%s",
	    hb.facts.agent_version);
	if (hb.tasks != NULL) {
		json_decref(e->tasks);
		e->tasks = json_incref(hb.tasks);
	}
	e->seen = app_now();
	e->dirty = 1;
	for (i = 0;
	     i < hb.nbacklog && json_array_size(e->samples) < HB_SAMPLES_MAX;
	     i++) {
		json_array_append_new(e->samples,
		    json_pack("[I, f, I, I, f]", (json_int_t)hb.backlog[i].time,
			hb.backlog[i].metrics.cpu,
			(json_int_t)hb.backlog[i].metrics.mem_used,
			(json_int_t)hb.backlog[i].metrics.mem_total,
			hb.backlog[i].metrics.load1));
	}
	if (json_array_size(e->samples) < HB_SAMPLES_MAX)
		json_array_append_new(e->samples,
		    json_pack("[I, f, I, I, f]", (json_int_t)e->seen,
			hb.metrics.cpu, (json_int_t)hb.metrics.mem_used,
			(json_int_t)hb.metrics.mem_total, hb.metrics.load1));
	agentproto_heartbeat_cleanup(&hb);

	snprintf(out, sizeof(out),
	    "{\"v\":1,\"heartbeat_interval\":%" PRId64
	    ",\"poll_timeout\":%" PRId64 "}",
	    app.cfg.heartbeat_interval, app.cfg.poll_timeout);
	return (reply_raw(req, 200, out));
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

static void
hb_flush(void *arg, uint64_t now)
{
	json_t *rows, *r;
	char   *text;
	size_t	i;

	/* PostgreSQL coming back: keep the batch for a later tick. */
	if (flush_busy || store_pg_down())
		return;
	if ((rows = json_array()) == NULL)
		return;
	for (i = 0; i < HB_SLOTS; i++) {
		if (hbs[i].node_id == 0 || !hbs[i].dirty)
			continue;
		r = json_pack("{s:I, s:I, s:O?, s:O?, s:s, s:O, s:O?}", "id",
		    (json_int_t)hbs[i].node_id, "seen", (json_int_t)hbs[i].seen,
		    "facts", hbs[i].facts, "metrics", hbs[i].metrics, "version",
		    hbs[i].version, "samples", hbs[i].samples, "tasks",
		    hbs[i].tasks);
		if (r != NULL)
			json_array_append_new(rows, r);
	}
	if (json_array_size(rows) == 0) {
		json_decref(rows);
		return;
	}
	text = json_dumps(rows, JSON_COMPACT);
	if (text == NULL) {
		json_decref(rows);
		return;
	}

	kore_pgsql_init(&flush_sql);
	kore_pgsql_bind_callback(&flush_sql, hb_flush_done, NULL);
	if (!kore_pgsql_setup(&flush_sql, STORE_DB_BG, KORE_PGSQL_ASYNC) ||
	    !kore_pgsql_query_params(&flush_sql, sql_flush, 0, 1,
		KORE_PGSQL_PARAM_TEXT(text))) {
		/* Kept dirty: the next tick tries again (PostgreSQL down). */
		if (flush_sql.state != KORE_PGSQL_STATE_INIT ||
		    flush_sql.error != NULL) {
			store_pg_failed(&flush_sql);
			pg_release(&flush_sql);
		} else
			flush_busy = 1; /* queued by Kore; callback follows */
		free(text);
		json_decref(rows);
		return;
	}
	free(text);
	flush_busy = 1;
	flush_rows = rows;
	/* What was sent is now in flight: start collecting afresh. */
	for (i = 0; i < HB_SLOTS; i++) {
		if (hbs[i].node_id == 0 || !hbs[i].dirty)
			continue;
		hbs[i].dirty = 0;
		/* A new array: the batch keeps the old one until it lands. */
		json_decref(hbs[i].samples);
		hbs[i].samples = json_array();
	}
}

static void
hb_flush_done(struct kore_pgsql *sql, void *arg)
{
	switch (sql->state) {
	case KORE_PGSQL_STATE_WAIT:
		return;
	case KORE_PGSQL_STATE_ERROR:
		kore_pgsql_logerror(sql);
		store_pg_failed(sql);
		hb_flush_failed();
		break;
	case KORE_PGSQL_STATE_RESULT:
	case KORE_PGSQL_STATE_DONE:
		kore_pgsql_continue(sql);
		return;
	case KORE_PGSQL_STATE_COMPLETE:
		json_decref(flush_rows);
		flush_rows = NULL;
		break;
	case KORE_PGSQL_STATE_INIT:
		/*
		 * Woken from Kore's wait queue for a connection.  Kore
		 * takes the waiter off its queue only after this call
		 * returns, so cleaning up here would free it twice (a
		 * fatal "was not busy"); agent_tick() does it.
		 */
		return;
	default:
		return;
	}
	pg_release(sql);
	flush_busy = 0;
}

/*
 * The batch in flight did not land: put its samples back in front of the
 * ones gathered since, so that the next flush sends them again.  Both
 * statements of the flush are idempotent (latest state, samples keyed by
 * node and second), so a batch that did land in part is harmless to
 * resend.  A node's latest facts in memory are at least as new as the
 * batch's, so only the samples are merged.
 */
static void
hb_flush_failed(void)
{
	struct hb_entry *e;
	json_t		*r, *old, *merged;
	json_int_t	 id;
	size_t		 i, j;

	json_array_foreach(flush_rows, i, r)
	{
		id = json_integer_value(json_object_get(r, "id"));
		if ((e = hb_slot(id, 0)) == NULL || e->node_id != id)
			continue;
		old = json_object_get(r, "samples");
		if ((merged = json_array()) == NULL)
			break;
		for (j = 0; j < json_array_size(old) &&
		     json_array_size(merged) < HB_SAMPLES_MAX;
		     j++)
			json_array_append(merged, json_array_get(old, j));
		for (j = 0; j < json_array_size(e->samples) &&
		     json_array_size(merged) < HB_SAMPLES_MAX;
		     j++)
			json_array_append(merged,
			    json_array_get(e->samples, j));
		json_decref(e->samples);
		e->samples = merged;
		e->dirty = 1;
	}
	json_decref(flush_rows);
	flush_rows = NULL;
}

static void
agent_tick(void *arg, uint64_t now)
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
		hb_flush_failed();
		pg_release(&flush_sql);
		flush_busy = 0;
	}
	/* Still (or no longer) waiting for a connection: retry afresh. */
	if (flush_busy && flush_sql.state == KORE_PGSQL_STATE_INIT) {
		pg_release(&flush_sql);
		flush_busy = 0;
	}
}

/* GET /agent/v1/commands?after=SEQ&wait=SECONDS: the long-poll. */
int
api_agent_commands(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;
	int64_t		after, wait;
	char		nid[32], aft[32], key[32];
	const char     *vals[2];

	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	c = api_ctx_get(req);
	if (c->step == POLL_AUTH) {
		if ((s = node_auth(req, c)) != API_GO)
			return (api_return(s));
		c->step = POLL_QUERY;
		c->t0 = (int64_t)kore_time_ms();
	}
	if (!api_qs_int(req, "after", 0, INT64_MAX, 0, &after) ||
	    !api_qs_int(req, "wait", 0, 60, app.cfg.poll_timeout, &wait))
		return (KORE_RESULT_OK);

	if (c->step == POLL_PARKED) {
		if (!core_wait_woken(&c->wait))
			return (KORE_RESULT_RETRY);
		if (kore_time_ms() >= c->wait.deadline)
			return (reply_raw(req, 204, NULL));
		/* Stay listed while reading: a wake-up meanwhile is kept. */
		core_wait_read(&c->wait);
		c->step = POLL_QUERY;
	}

	snprintf(nid, sizeof(nid), "%" PRId64, c->id);
	snprintf(aft, sizeof(aft), "%" PRId64, after);
	vals[0] = nid;
	vals[1] = aft;
	if ((s = api_db(req, c, sql_dispatch, 2, vals, NULL)) != API_GO)
		return (api_return(s));
	if (api_val_int(c, 0, 0) > 0) {
		reply_raw(req, 200, api_val(c, 0, 1));
		api_db_clear(c);
		return (KORE_RESULT_OK);
	}
	api_db_clear(c);
	if (wait == 0 || (int64_t)kore_time_ms() - c->t0 >= wait * 1000)
		return (reply_raw(req, 204, NULL));

	/* Nothing yet: park until a wake-up or the deadline; without Redis
	 * read the ledger again every second. */
	node_key(c->id, key, sizeof(key));
	c->step = POLL_PARKED;
	(void)core_wait_park(&c->wait, req, key,
	    (uint64_t)c->t0 + (uint64_t)wait * 1000, TICK_MS);
	return (KORE_RESULT_RETRY);
}

/* POST /agent/v1/commands/{id}/result */
int
api_agent_result(struct http_request *req)
{
	struct api_ctx		*c;
	struct agentproto_result r;
	struct agentproto_err	 err;
	enum api_step		 s;
	char			 id[40], nid[32], ex[16], rcv[32];
	char			 fin[32];
	const char		*buf;
	const char		*p, *vals[7];
	size_t			 len;

	if (req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	p = req->path + strlen("/agent/v1/commands/");
	if (strlen(p) != 36 + 7 || strcmp(p + 36, "/result") != 0)
		return (api_not_found(req));
	memcpy(id, p, 36);
	id[36] = '\0';
	c = api_ctx_get(req);
	if ((s = node_auth(req, c)) != API_GO)
		return (api_return(s));

	if (!api_body_raw(req, c, AGENTPROTO_BODY_MAX, &buf, &len))
		return (KORE_RESULT_OK);
	if (!agentproto_result_decode(buf, len, &r, &err)) {
		return (agent_error(req, 400, "bad_request", &err));
	}
	if (!agentproto_uuid_valid(id)) {
		agentproto_result_cleanup(&r);
		return (api_not_found(req));
	}
	snprintf(nid, sizeof(nid), "%" PRId64, c->id);
	snprintf(ex, sizeof(ex), "%" PRId64, r.exit_status);
	snprintf(rcv, sizeof(rcv), "%" PRId64, r.received_at);
	snprintf(fin, sizeof(fin), "%" PRId64, r.finished_at);
	vals[0] = id;
	vals[1] = nid;
	vals[2] = agentproto_state_name(r.state);
	vals[3] = r.has_exit_status ? ex : NULL;
	vals[4] = r.output != NULL ? r.output : "";
	vals[5] = r.received_at ? rcv : NULL;
	vals[6] = r.has_finished_at ? fin : NULL;
	s = api_db(req, c, sql_result, 7, vals, NULL);
	agentproto_result_cleanup(&r);
	if (s != API_GO)
		return (api_return(s));
	if (api_val_int(c, 0, 1) == 0) {
		api_db_clear(c);
		return (api_not_found(req));
	}
	api_db_clear(c);
	return (reply_raw(req, 200, "{\"v\":1}"));
}

/* POST /agent/v1/logs/{id}: one chunk of a log request's answer. */
int
api_agent_logs(struct http_request *req)
{
	struct api_ctx		  *c;
	struct agentproto_logchunk ch;
	struct agentproto_err	   err;
	enum api_step		   s;
	char			   id[40], nid[32], seq[16], size[32], m[32];
	char			   key[48];
	char			  *files;
	const char		  *buf, *p, *vals[10];
	size_t			   len;
	int			   follow;

	if (req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	p = req->path + strlen("/agent/v1/logs/");
	if (strlen(p) != 36 || !agentproto_uuid_valid(p))
		return (api_not_found(req));
	(void)snprintf(id, sizeof(id), "%s", p);
	c = api_ctx_get(req);
	if ((s = node_auth(req, c)) != API_GO)
		return (api_return(s));
	if (!api_body_raw(req, c, AGENTPROTO_BODY_MAX, &buf, &len))
		return (KORE_RESULT_OK);
	if (!agentproto_logchunk_decode(buf, len, &ch, &err))
		return (agent_error(req, 400, "bad_request", &err));
	files = ch.files != NULL ? json_dumps(ch.files, JSON_COMPACT) : NULL;
	(void)snprintf(nid, sizeof(nid), "%" PRId64, c->id);
	(void)snprintf(seq, sizeof(seq), "%" PRId64, ch.seq);
	(void)snprintf(size, sizeof(size), "%" PRId64, ch.size);
	(void)snprintf(m, sizeof(m), "%" PRId64, ch.matches);
	vals[0] = id;
	vals[1] = nid;
	vals[2] = seq;
	vals[3] = ch.data;
	vals[4] = ch.done ? "true" : "false";
	vals[5] = ch.error[0] != '\0' ? ch.error : NULL;
	vals[6] = files;
	vals[7] = size;
	vals[8] = ch.matches >= 0 ? m : NULL;
	vals[9] = ch.truncated ? "true" : "false";
	s = api_db(req, c, sql_log_chunk, 10, vals, NULL);
	free(files);
	agentproto_logchunk_cleanup(&ch);
	if (s != API_GO)
		return (api_return(s));
	if (api_val_int(c, 0, 0) == 0) {
		api_db_clear(c);
		return (api_not_found(req));
	}
	follow = api_val(c, 0, 1) != NULL && strcmp(api_val(c, 0, 1), "t") == 0;
	if (api_val_int(c, 0, 2) > 0) {
		/* Wake the browsers waiting for it, here and elsewhere. */
		(void)snprintf(key, sizeof(key), "log:%s", id);
		core_wake(key);
	}
	api_db_clear(c);
	return (reply_raw(req, 200,
	    follow ? "{\"v\":1,\"follow\":true}"
		   : "{\"v\":1,\"follow\":false}"));
}
