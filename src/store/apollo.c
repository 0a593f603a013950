/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The Apollo follower's statements, run as two duties on the leader's
 * connection (src/core/leader.c), once per cluster:
 *   - apollo-follow records what the follower (src/api/apollo.c) learnt
 *     since the last run in apollo_snapshots, marks the tasks whose
 *     followed namespace got a new release for auto-apply
 *     (013_apollo.sql), and answers the namespaces to follow: every
 *     (app_id, cluster, namespace) named by the newest configuration of
 *     any task;
 *   - apollo-apply issues apply-config, as the system, for the marked
 *     tasks whose effective values changed and that have no command in
 *     progress, and answers the nodes to wake.
 */

#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "store/internal.h"

#define APOLLO_EVERY_MS	  1000
#define APOLLO_RESEND_MAX 3

static int  follow_prepare(struct store_duty *, const char **, char[][32]);
static void follow_done(struct store_duty *, struct pg_result *);
static int  apply_prepare(struct store_duty *, const char **, char[][32]);
static void apply_done(struct store_duty *, struct pg_result *);

/* The newest configuration of each task that follows Apollo
 * (apollo_follows, kept by a trigger on task_configs: 013_apollo.sql). */
#define APOLLO_NEWEST \
	" fo AS (SELECT task_id, ap, ap->>'app_id' AS app," \
	"  ap->>'cluster' AS cluster FROM apollo_follows" \
	"  WHERE jsonb_typeof(ap) = 'object'" \
	"  AND jsonb_typeof(ap->'namespaces') = 'array'" \
	"  AND jsonb_typeof(ap->'app_id') = 'string'" \
	"  AND jsonb_typeof(ap->'cluster') = 'string'),"

/*
 * $3: the results, a JSON array of {"app","cluster","ns","kind":"ok"|
 * "same"|"error","release_key","items","notification_id","error"} in the
 * order they came; $4: YARD_APOLLO_PULL in seconds.  Per namespace, the
 * last "ok" replaces the items and release key, the last result of any
 * kind sets error (NULL unless it is an "error"), and "same" (a 304) and
 * "error" alone only touch checked_at and error, keeping the last good
 * items.  A namespace whose
 * release changed from a known one to other items marks each task that
 * follows it with auto_apply, remembering its effective values as they
 * were (the statement still sees the old snapshot).  The answer: rows of
 * (app, cluster, namespace, notification id, release key or '', ms
 * until the fallback pull is due).
 */
static const char	    *sql_follow =
    "WITH" STORE_DUTY_RECORD APOLLO_NEWEST
    " rr AS (SELECT x.*, o FROM jsonb_array_elements($3::jsonb)"
    "  WITH ORDINALITY e(j, o), jsonb_to_record(e.j) AS x(app text,"
    "  cluster text, ns text, kind text, release_key text, items jsonb,"
    "  notification_id bigint, error text)),"
    " la AS (SELECT DISTINCT ON (app, cluster, ns) app, cluster, ns,"
    "  kind, error FROM rr WHERE app IS NOT NULL AND cluster IS NOT NULL"
    "  AND ns IS NOT NULL ORDER BY app, cluster, ns, o DESC),"
    " ok AS (SELECT DISTINCT ON (app, cluster, ns) app, cluster, ns,"
    "  release_key, items FROM rr WHERE kind = 'ok'"
    "  AND jsonb_typeof(items) = 'object' ORDER BY app, cluster, ns, o DESC),"
    " ni AS (SELECT app, cluster, ns, max(notification_id) AS nid FROM rr"
    "  WHERE kind <> 'error' GROUP BY app, cluster, ns),"
    " r AS (SELECT la.app, la.cluster, la.ns, ok.app IS NOT NULL AS got,"
    "  ok.release_key, ok.items, coalesce(ni.nid, -1) AS nid,"
    "  CASE WHEN la.kind = 'error' THEN left(coalesce(la.error, 'error'),"
    "  2000) END AS error FROM la LEFT JOIN ok USING (app, cluster, ns)"
    "  LEFT JOIN ni USING (app, cluster, ns)),"
    " ch AS (SELECT r.app, r.cluster, r.ns, r.release_key FROM r"
    "  JOIN apollo_snapshots s ON s.app_id = r.app AND s.cluster = r.cluster"
    "  AND s.namespace = r.ns WHERE r.got"
    "  AND s.release_key IS NOT NULL"
    "  AND s.release_key IS DISTINCT FROM r.release_key"
    "  AND s.items IS DISTINCT FROM r.items),"
    " up AS (INSERT INTO apollo_snapshots AS s (app_id, cluster, namespace,"
    "  release_key, items, notification_id, fetched_at, checked_at, error)"
    "  SELECT app, cluster, ns, release_key, coalesce(items, '{}'::jsonb),"
    "  nid, CASE WHEN got THEN now() END, now(), error FROM r"
    "  ON CONFLICT (app_id, cluster, namespace) DO UPDATE SET"
    "  release_key = CASE WHEN EXCLUDED.fetched_at IS NOT NULL"
    "  THEN EXCLUDED.release_key ELSE s.release_key END,"
    "  items = CASE WHEN EXCLUDED.fetched_at IS NOT NULL"
    "  THEN EXCLUDED.items ELSE s.items END,"
    "  notification_id = greatest(s.notification_id,"
    "  EXCLUDED.notification_id),"
    "  fetched_at = coalesce(EXCLUDED.fetched_at, s.fetched_at),"
    "  checked_at = now(), error = EXCLUDED.error),"
    " pe AS (INSERT INTO apollo_pending (task_id, before, reason)"
    "  SELECT fo.task_id, yard_config_effective(fo.task_id)->'values',"
    "  min(ch.app || '+' || ch.cluster || '+' || ch.ns || ' '"
    "  || coalesce(ch.release_key, ''))"
    "  FROM fo JOIN ch ON ch.app = fo.app AND ch.cluster = fo.cluster"
    "  AND fo.ap->'namespaces' ? ch.ns"
    "  WHERE coalesce((fo.ap->>'auto_apply')::boolean, false)"
    "  GROUP BY fo.task_id ON CONFLICT (task_id) DO NOTHING),"
    " f AS (SELECT DISTINCT fo.app, fo.cluster, n.ns FROM fo,"
    "  jsonb_array_elements_text(fo.ap->'namespaces') n(ns)"
    "  WHERE fo.app <> '' AND fo.cluster <> '' AND n.ns <> '')"
    " SELECT f.app, f.cluster, f.ns, coalesce(s.notification_id, -1),"
    " coalesce(s.release_key, ''), CASE WHEN s.checked_at IS NULL THEN 0"
    " ELSE greatest(0, $4::bigint * 1000 - (extract(epoch FROM now()"
    " - s.checked_at) * 1000)::bigint) END"
    " FROM f LEFT JOIN apollo_snapshots s ON s.app_id = f.app"
    " AND s.cluster = f.cluster AND s.namespace = f.ns"
    " ORDER BY 1, 2, 3";

/*
 * Marked tasks: issue apply-config (restart = apollo.auto_restart of the
 * newest configuration) with the payload every task command carries
 * ("task", "config" = yard_config_effective()), as the system (issued_by
 * NULL, audit actor "apollo"), when the task still has auto_apply, its
 * node is not revoked, and its effective values differ from "before".
 * Those that no longer qualify are dropped; a task with a command in
 * progress keeps its mark (ON CONFLICT: one that began meanwhile).  $3:
 * the command timeout in seconds.  The answer: the nodes to wake.
 */
static const char *sql_apply =
    "WITH" STORE_DUTY_RECORD
    " p AS (SELECT a.task_id, a.before, a.reason, t.node_id, t.name,"
    "  t.spec, n.revoked_at IS NOT NULL AS revoked,"
    "  yard_config_effective(a.task_id) AS cfg,"
    "  (SELECT f.ap FROM apollo_follows f WHERE f.task_id = a.task_id)"
    "  AS ap"
    "  FROM apollo_pending a JOIN tasks t ON t.id = a.task_id"
    "  JOIN nodes n ON n.id = t.node_id),"
    " q AS (SELECT *, NOT revoked AND jsonb_typeof(ap) = 'object'"
    "  AND coalesce((ap->>'auto_apply')::boolean, false)"
    "  AND cfg IS NOT NULL AND (cfg->'values') IS DISTINCT FROM before"
    "  AS wanted FROM p),"
    " busy AS (SELECT DISTINCT c.task_id FROM commands c JOIN q"
    "  ON c.task_id = q.task_id WHERE c.state IN ('queued', 'dispatched',"
    "  'running')),"
    " c AS (INSERT INTO commands (type, node_id, task_id, payload,"
    "  issued_by, deadline) SELECT 'apply-config', node_id, task_id,"
    "  jsonb_build_object('task', jsonb_build_object('id', task_id,"
    "  'name', name, 'spec', spec), 'config', cfg, 'restart',"
    "  coalesce((ap->>'auto_restart')::boolean, false)), NULL,"
    "  now() + make_interval(secs => $3::integer) FROM q"
    "  WHERE wanted AND task_id NOT IN (SELECT task_id FROM busy)"
    "  ON CONFLICT DO NOTHING RETURNING *),"
    " ev AS (INSERT INTO command_events (command_id, state)"
    "  SELECT id, 'queued' FROM c),"
    " au AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail) SELECT NULL, 'apollo', 'command.issue', 'task',"
    "  c.task_id, jsonb_build_object('command', c.id, 'type', c.type,"
    "  'restart', c.payload->'restart', 'apollo', q.reason)"
    "  FROM c JOIN q ON q.task_id = c.task_id),"
    " bu AS (UPDATE apollo_pending SET rounds = rounds + 1 WHERE task_id IN"
    "  (SELECT task_id FROM q WHERE wanted) AND task_id NOT IN"
    "  (SELECT task_id FROM c)),"
    " d AS (DELETE FROM apollo_pending WHERE task_id IN (SELECT task_id"
    "  FROM c) OR task_id IN (SELECT task_id FROM q WHERE NOT wanted))"
    " SELECT DISTINCT node_id FROM c";

static struct store_duty follow_duty = { .name = "apollo-follow",
	.kind = STORE_DUTY_LEADER,
	.every_ms = APOLLO_EVERY_MS,
	.prepare = follow_prepare,
	.done = follow_done };
static struct store_duty apply_duty = { .name = "apollo-apply",
	.kind = STORE_DUTY_LEADER,
	.every_ms = APOLLO_EVERY_MS,
	.prepare = apply_prepare,
	.done = apply_done };

static int64_t pull_secs;
static void (*on_follow)(const struct store_apollo_follow *, size_t);
static void (*on_issued)(const int64_t *, size_t);
static json_t *pending; /* results not yet sent */
static json_t *inflight; /* results the running statement carries */
static char   *inflight_text;
static int     resends;

void
store_apollo_register(void (*add)(struct store_duty *), int64_t pull,
    void (*follow)(const struct store_apollo_follow *, size_t),
    void (*issued)(const int64_t *, size_t))
{
	pull_secs = pull;
	on_follow = follow;
	on_issued = issued;
	follow_duty.sql = sql_follow;
	apply_duty.sql = sql_apply;
	add(&follow_duty);
	add(&apply_duty);
}

void
store_apollo_result(const struct store_apollo_result *r)
{
	json_t *o, *items = NULL;

	if (pending == NULL && (pending = json_array()) == NULL)
		return;
	if (r->kind == STORE_APOLLO_OK &&
	    (items = json_loads(r->items, 0, NULL)) == NULL)
		return;
	o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "app", r->app, "cluster",
	    r->cluster, "ns", r->ns, "kind",
	    r->kind == STORE_APOLLO_OK	       ? "ok"
		: r->kind == STORE_APOLLO_SAME ? "same"
					       : "error",
	    "notification_id", (json_int_t)r->notification_id);
	if (o == NULL) {
		json_decref(items);
		return;
	}
	if (items != NULL)
		json_object_set_new(o, "items", items);
	if (r->release_key != NULL)
		json_object_set_new(o, "release_key",
		    json_string(r->release_key));
	if (r->error != NULL)
		json_object_set_new(o, "error", json_string(r->error));
	json_array_append_new(pending, o);
	/* Record it at the leader's next tick rather than in a second. */
	follow_duty.next = 0;
}

static int
follow_prepare(struct store_duty *d, const char **vals, char buf[][32])
{
	/* A report whose statement failed goes again, with what came
	 * since; one that failed APOLLO_RESEND_MAX times is dropped (the
	 * follower reports each namespace again at its next answer). */
	if (inflight != NULL && ++resends > APOLLO_RESEND_MAX) {
		kore_log(LOG_WARNING,
		    "apollo: dropping %zu results that "
		    "could not be recorded",
		    json_array_size(inflight));
		json_decref(inflight);
		inflight = NULL;
	}
	if (inflight == NULL) {
		resends = 0;
		inflight = pending;
		pending = NULL;
	} else if (pending != NULL) {
		json_array_extend(inflight, pending);
		json_decref(pending);
		pending = NULL;
	}
	free(inflight_text);
	inflight_text = NULL;
	if (inflight != NULL)
		inflight_text = json_dumps(inflight, JSON_COMPACT);
	vals[2] = inflight_text != NULL ? inflight_text : "[]";
	(void)snprintf(buf[3], 32, "%" PRId64, pull_secs);
	vals[3] = buf[3];
	return (4);
}

static void
follow_done(struct store_duty *d, struct pg_result *res)
{
	struct store_apollo_follow *f;
	int			    i, n;

	json_decref(inflight);
	inflight = NULL;
	free(inflight_text);
	inflight_text = NULL;
	n = PQntuples(res);
	if ((f = calloc(n > 0 ? (size_t)n : 1, sizeof(*f))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		f[i].app = PQgetvalue(res, i, 0);
		f[i].cluster = PQgetvalue(res, i, 1);
		f[i].ns = PQgetvalue(res, i, 2);
		f[i].notification_id = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		f[i].release_key = PQgetvalue(res, i, 4);
		f[i].due_in_ms = strtoll(PQgetvalue(res, i, 5), NULL, 10);
	}
	if (on_follow != NULL)
		on_follow(f, (size_t)n);
	free(f);
	/* The marks this run may have made: apply them at once. */
	apply_duty.next = 0;
}

static int
apply_prepare(struct store_duty *d, const char **vals, char buf[][32])
{
	(void)snprintf(buf[2], 32, "%" PRId64, store_cfg.command_timeout);
	vals[2] = buf[2];
	return (3);
}

static void
apply_done(struct store_duty *d, struct pg_result *res)
{
	int64_t *nodes;
	int	 i, n;

	if ((n = PQntuples(res)) <= 0)
		return;
	if ((nodes = calloc((size_t)n, sizeof(*nodes))) == NULL)
		return;
	for (i = 0; i < n; i++)
		nodes[i] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	if (on_issued != NULL)
		on_issued(nodes, (size_t)n);
	free(nodes);
}
