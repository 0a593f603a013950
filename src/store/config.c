/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Statements about task configurations (docs/config.md): read the current
 * version as users see it (secrets masked, Apollo's values merged), list
 * and read versions, save a version (a new one, or a copy of an older
 * one) with its audit row, and the effective configuration for an export.
 * Reading needs view on the task, saving manage, read again by the
 * statement that writes (yard_level(), migrations/006_levels.sql).
 */

#include "store/internal.h"

/* The latest version's doc of task t as c (LEFT JOIN LATERAL ... c). */
#define CFG_LATEST \
	" LEFT JOIN LATERAL (SELECT * FROM task_configs k WHERE" \
	" k.task_id = t.id ORDER BY k.version DESC LIMIT 1) c ON true"
/* The same of version $4 (NULL: the latest). */
#define CFG_VERSION \
	" LEFT JOIN LATERAL (SELECT * FROM task_configs k WHERE" \
	" k.task_id = t.id AND ($4::integer IS NULL OR k.version =" \
	" $4::integer) ORDER BY k.version DESC LIMIT 1) c ON true"

/*
 * The current configuration as users see it: every key's effective value
 * (Apollo's first, secrets null), "yard_value" where Apollo overrides a
 * value of Yard's that is not secret, Apollo's status per namespace, each
 * file's size.
 */
static const char *sql_get =
    "SELECT json_build_object('task_id', t.id,"
    " 'version', coalesce(c.version, 0), 'author', c.author_sub,"
    " 'author_name', coalesce((SELECT nullif(u.name, '') FROM users u"
    "  WHERE u.id = c.author_id), c.author_sub),"
    " 'created_at', c.created_at, 'comment', coalesce(c.comment, ''),"
    " 'restored_from', c.restored_from,"
    " 'values', (SELECT coalesce(jsonb_agg(CASE WHEN ev->>'source' ="
    "  'apollo' AND y.v IS NOT NULL AND NOT coalesce((y.v->>'secret')"
    "  ::boolean, false) THEN ev || jsonb_build_object('yard_value',"
    "  y.v->'value') ELSE ev END ORDER BY ev->>'key'), '[]'::jsonb)"
    "  FROM jsonb_array_elements(yard_config_masked(yard_config_effective("
    "  t.id, c.version))->'values') ev LEFT JOIN LATERAL (SELECT v FROM"
    "  jsonb_array_elements(c.doc->'values') v WHERE v->>'key' ="
    "  ev->>'key' LIMIT 1) y ON true),"
    " 'apollo', CASE WHEN jsonb_typeof(c.doc->'apollo') = 'object' THEN"
    "  (c.doc->'apollo') || jsonb_build_object('status', (SELECT"
    "  coalesce(jsonb_agg(jsonb_build_object('namespace', n.name,"
    "  'release_key', s.release_key, 'fetched_at', s.fetched_at, 'error',"
    "  s.error) ORDER BY n.ord), '[]'::jsonb) FROM"
    "  jsonb_array_elements_text(c.doc->'apollo'->'namespaces') WITH"
    "  ORDINALITY n(name, ord) LEFT JOIN apollo_snapshots s ON"
    "  s.app_id = c.doc->'apollo'->>'app_id' AND"
    "  s.cluster = c.doc->'apollo'->>'cluster' AND s.namespace = n.name))"
    "  END,"
    " 'mappings', coalesce(c.doc->'mappings', '[]'::jsonb),"
    " 'files', (SELECT coalesce(jsonb_agg(f || jsonb_build_object('size',"
    "  length(decode(f->>'content_base64', 'base64'))) ORDER BY o),"
    "  '[]'::jsonb) FROM jsonb_array_elements(c.doc->'files')"
    "  WITH ORDINALITY x(f, o)),"
    " 'env', coalesce(c.doc->'env', 'false'::jsonb),"
    " 'properties_file', c.doc->'properties_file',"
    " 'level', yard_level_name(lv.level))::text"
    " FROM tasks t" STORE_TASK_LEVEL_JOIN CFG_VERSION
    " WHERE t.id = $1::bigint AND " STORE_TASK_VISIBLE;

/* Before a save: (level, the keys of the latest version's secrets as a
 * JSON array, version $4 exists (true when $4 is NULL)). */
static const char *sql_check =
    "SELECT lv.level, (SELECT coalesce(jsonb_agg(v->>'key'), '[]'::jsonb)"
    "  FROM jsonb_array_elements(c.doc->'values') v WHERE v ? 'enc')::text,"
    " $4::integer IS NULL OR EXISTS (SELECT 1 FROM task_configs k WHERE"
    "  k.task_id = t.id AND k.version = $4::integer)"
    " FROM tasks t" STORE_TASK_LEVEL_JOIN CFG_LATEST " WHERE t.id = $1::bigint";

/*
 * Save: $2 the new doc (a secret {"key","secret":true,"keep":true} takes
 * the latest version's "enc" of that key), or, with $4, a copy of version
 * $4.  The number is the task's config_version + 1, taken by updating the
 * task's row (concurrent saves queue on it).  The audit row names the
 * keys whose entries changed, never a value.
 */
static const char *sql_save =
    "WITH prev AS (SELECT doc FROM task_configs WHERE task_id = $1::bigint"
    "  ORDER BY version DESC LIMIT 1),"
    " nd AS (SELECT CASE WHEN $4::integer IS NOT NULL THEN (SELECT doc"
    "  FROM task_configs WHERE task_id = $1::bigint AND"
    "  version = $4::integer) ELSE jsonb_set($2::jsonb, '{values}',"
    "  coalesce((SELECT jsonb_agg(CASE WHEN v ? 'keep' THEN (SELECT pv"
    "  FROM prev, jsonb_array_elements(prev.doc->'values') pv WHERE"
    "  pv->>'key' = v->>'key' AND pv ? 'enc' LIMIT 1) ELSE v END ORDER BY"
    "  o) FROM jsonb_array_elements($2::jsonb->'values') WITH ORDINALITY"
    "  x(v, o)), '[]'::jsonb)) END AS doc),"
    " ok AS (SELECT nd.doc IS NOT NULL AND NOT EXISTS (SELECT 1 FROM"
    "  jsonb_array_elements(nd.doc->'values') v WHERE v = 'null'::jsonb)"
    "  AS ok FROM nd),"
    " u AS (UPDATE tasks SET config_version = greatest(config_version,"
    "  (SELECT coalesce(max(k.version), 0) FROM task_configs k WHERE"
    "  k.task_id = tasks.id)) + 1"
    "  WHERE id = $1::bigint AND (SELECT ok FROM ok)"
    "  AND yard_level($5::bigint, $8::boolean, node_id, id) >= 3"
    "  RETURNING id, config_version),"
    " ins AS (INSERT INTO task_configs (task_id, version, author_id,"
    "  author_sub, comment, restored_from, doc) SELECT u.id,"
    "  u.config_version, $5::bigint, $6, $3, $4::integer, nd.doc FROM u, nd"
    "  RETURNING version),"
    " ch AS (SELECT coalesce(jsonb_agg(DISTINCT z.k ORDER BY z.k),"
    "  '[]'::jsonb) AS keys FROM (SELECT coalesce(a.v->>'key', b.v->>'key')"
    "  AS k FROM (SELECT v FROM nd, jsonb_array_elements(nd.doc->'values')"
    "  v) a FULL JOIN (SELECT v FROM prev,"
    "  jsonb_array_elements(prev.doc->'values') v) b ON"
    "  a.v->>'key' = b.v->>'key' WHERE a.v IS DISTINCT FROM b.v) z),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT $5::bigint, $6,"
    "  CASE WHEN $4::integer IS NULL THEN 'config.save' ELSE"
    "  'config.restore' END, 'task', $1::bigint, jsonb_strip_nulls("
    "  jsonb_build_object('version', ins.version, 'restored_from',"
    "  $4::integer, 'changed_keys', ch.keys)), $7 FROM ins, ch)"
    " SELECT (SELECT version FROM ins)";

/* The versions, newest first: one row of json text {"items","next"}. */
static const char *sql_versions =
    "SELECT json_build_object('items', (SELECT coalesce(json_agg("
    "  json_build_object('version', k.version, 'author', k.author_sub,"
    "  'author_name', coalesce((SELECT nullif(u.name, '') FROM users u"
    "  WHERE u.id = k.author_id), k.author_sub),"
    "  'created_at', k.created_at, 'comment', k.comment, 'restored_from',"
    "  k.restored_from) ORDER BY k.version DESC), '[]'::json) FROM"
    "  task_configs k WHERE k.task_id = t.id AND"
    "  k.version = ANY (pg.vs[1:$5::integer])), 'next', CASE WHEN"
    "  cardinality(pg.vs) > $5::integer THEN pg.vs[$5::integer]::text"
    "  END)::text"
    " FROM tasks t" STORE_TASK_LEVEL_JOIN
    " CROSS JOIN LATERAL (SELECT coalesce(array_agg(x.version ORDER BY"
    "  x.version DESC), '{}') AS vs FROM (SELECT version FROM task_configs"
    "  WHERE task_id = t.id AND ($4::integer = 0 OR version < $4::integer)"
    "  ORDER BY version DESC LIMIT $5::integer + 1) x) pg"
    " WHERE t.id = $1::bigint AND " STORE_TASK_VISIBLE;

/* Version $4 and the one before it: (its facts as json text, its doc,
 * the doc of version $4 - 1 or NULL); a visible task without version $4
 * answers one row of NULLs. */
static const char *sql_version =
    "SELECT (SELECT json_build_object('task_id', k.task_id, 'version',"
    "  k.version, 'author', k.author_sub, 'author_name',"
    "  coalesce((SELECT nullif(u.name, '') FROM users u"
    "  WHERE u.id = k.author_id), k.author_sub), 'created_at', k.created_at,"
    "  'comment', k.comment, 'restored_from', k.restored_from)::text"
    "  FROM task_configs k WHERE k.task_id = t.id AND"
    "  k.version = $4::integer),"
    " (SELECT doc::text FROM task_configs k WHERE k.task_id = t.id AND"
    "  k.version = $4::integer),"
    " (SELECT doc::text FROM task_configs k WHERE k.task_id = t.id AND"
    "  k.version = $4::integer - 1)"
    " FROM tasks t" STORE_TASK_LEVEL_JOIN
    " WHERE t.id = $1::bigint AND " STORE_TASK_VISIBLE;

/* The effective configuration (secrets as "enc") and its version: (json
 * text or NULL, level). */
static const char *sql_effective =
    "SELECT yard_config_effective(t.id)::text, lv.level"
    " FROM tasks t" STORE_TASK_LEVEL_JOIN
    " WHERE t.id = $1::bigint AND " STORE_TASK_VISIBLE;

enum store_step
store_config_get(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t task, int64_t version)
{
	char	    tid[24], uid[24], ver[24];
	const char *vals[4];

	vals[0] = STORE_NUM(tid, task);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = version > 0 ? STORE_NUM(ver, version) : NULL;
	return (store_run(q, req, sql_get, 4, vals));
}

enum store_step
store_config_effective(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t task)
{
	return (store_run_seen(q, req, sql_effective, task, who));
}

enum store_step
store_config_check(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t task, int64_t version)
{
	char	    tid[24], uid[24], ver[24];
	const char *vals[4];

	vals[0] = STORE_NUM(tid, task);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = version > 0 ? STORE_NUM(ver, version) : NULL;
	return (store_run(q, req, sql_check, 4, vals));
}

enum store_step
store_config_save(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const struct store_config_save *w)
{
	char	    tid[24], uid[24], ver[24];
	const char *vals[8];

	vals[0] = STORE_NUM(tid, w->task);
	vals[1] = w->doc;
	vals[2] = w->comment;
	vals[3] = w->restore > 0 ? STORE_NUM(ver, w->restore) : NULL;
	vals[4] = STORE_NUM(uid, who->user_id);
	vals[5] = w->actor_sub;
	vals[6] = w->remote;
	vals[7] = STORE_BOOL(who->admin);
	return (store_run(q, req, sql_save, 8, vals));
}

enum store_step
store_config_versions(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t task, int64_t cursor,
    int64_t limit)
{
	char	    tid[24], uid[24], cur[24], lim[24];
	const char *vals[5];

	vals[0] = STORE_NUM(tid, task);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = STORE_NUM(cur, cursor);
	vals[4] = STORE_NUM(lim, limit);
	return (store_run(q, req, sql_versions, 5, vals));
}

enum store_step
store_config_version(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t task, int64_t version)
{
	char	    tid[24], uid[24], ver[24];
	const char *vals[4];

	vals[0] = STORE_NUM(tid, task);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = STORE_NUM(ver, version);
	return (store_run(q, req, sql_version, 4, vals));
}
