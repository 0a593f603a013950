/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Statements about stored packages.  A package is visible to admins, to
 * the user who uploaded it, and to whoever may view its target (the task,
 * or the node) by yard_level() (migrations/006_levels.sql).  An agent may
 * fetch one only while a command of its node that is not finished names
 * it (payload.package.sha256).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>

#include "store/internal.h"

#define PKG_VISIBLE STORE_PKG_VISIBLE
#define PKG_COLS \
	"p.id, p.sha256, p.size, p.entries, p.name, p.version, p.notes," \
	" p.filename, json_strip_nulls(json_build_object('task_id', p.task_id," \
	" 'node_id', p.node_id)) AS target, p.uploaded_by, p.uploader_sub," \
	" p.created_at, t.name AS task_name," \
	" (SELECT n.name FROM nodes n WHERE n.id = coalesce(t.node_id," \
	"  p.node_id)) AS node_name," \
	" coalesce((SELECT nullif(u.name, '') FROM users u" \
	"  WHERE u.id = p.uploaded_by), p.uploader_sub) AS uploader_name," \
	" yard_level_name(CASE WHEN p.task_id IS NULL AND p.node_id IS NULL" \
	"  THEN CASE WHEN $2::boolean THEN 3 ELSE 0 END" \
	"  ELSE yard_level($3::bigint, $2::boolean, coalesce(t.node_id," \
	"  p.node_id), p.task_id) END) AS level"

/* Manifests of more entries than this are left out of the detail (read
 * them by GET /packages/ID/manifest). */
#define PKG_MANIFEST_INLINE "1000"

static const char *sql_list =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT " PKG_COLS
    " FROM packages p LEFT JOIN tasks t ON t.id = p.task_id"
    " WHERE CASE WHEN $8::boolean THEN $1::bigint = 0 OR p.id < $1::bigint"
    "  ELSE p.id > $1::bigint END AND " PKG_VISIBLE
    " AND ($4 = '' OR strpos(lower(p.name), lower($4)) > 0"
    "  OR p.sha256 = lower($4))"
    " AND ($6::bigint = 0 OR p.task_id = $6::bigint)"
    " AND ($7::bigint = 0 OR p.node_id = $7::bigint"
    "  OR t.node_id = $7::bigint)"
    " ORDER BY CASE WHEN $8::boolean THEN -p.id ELSE p.id END"
    " LIMIT $5::bigint + 1) x";

static const char *sql_get =
    "SELECT row_to_json(x)::text FROM (SELECT " PKG_COLS ","
    " CASE WHEN p.entries <= " PKG_MANIFEST_INLINE " THEN p.manifest END"
    " AS manifest, p.entries > " PKG_MANIFEST_INLINE " AS manifest_omitted"
    " FROM packages p LEFT JOIN tasks t ON t.id = p.task_id"
    " WHERE p.id = $1::bigint AND " PKG_VISIBLE ") x";

/*
 * One directory of the manifest: $4 the directory ("" the top, else
 * "a/b"), $5 the cursor (the key after which to go on: "d" or "f" and the
 * name), $6 the limit.  Directories come first; each with its file count
 * and bytes.  One row of json text; none when the package is not visible.
 */
static const char *sql_manifest =
    "WITH pk AS (SELECT p.id, p.manifest FROM packages p"
    "  LEFT JOIN tasks t ON t.id = p.task_id"
    "  WHERE p.id = $1::bigint AND " PKG_VISIBLE "),"
    " pre AS (SELECT CASE WHEN $4 = '' THEN '' ELSE $4 || '/' END AS v),"
    " e AS (SELECT substr(m->>'path', length(pre.v) + 1) AS rest,"
    "  (m->>'size')::bigint AS size, m->>'sha256' AS sha"
    "  FROM pk, pre, jsonb_array_elements(pk.manifest) m"
    "  WHERE left(m->>'path', length(pre.v)) = pre.v),"
    " c AS (SELECT CASE WHEN strpos(rest, '/') > 0 THEN 'd' ELSE 'f' END"
    "  || split_part(rest, '/', 1) AS k, count(*) AS files,"
    "  sum(size) AS size, min(sha) AS sha FROM e GROUP BY 1),"
    " pg AS (SELECT * FROM c WHERE k COLLATE \"C\" > $5"
    "  ORDER BY k COLLATE \"C\" LIMIT $6::bigint + 1),"
    " it AS (SELECT k, row_number() OVER (ORDER BY k COLLATE \"C\") AS n,"
    "  CASE WHEN left(k, 1) = 'd' THEN json_build_object('name',"
    "  substr(k, 2), 'dir', true, 'files', files, 'size', size)"
    "  ELSE json_build_object('name', substr(k, 2), 'dir', false,"
    "  'size', size, 'sha256', sha) END AS j FROM pg)"
    " SELECT json_build_object('package_id', pk.id, 'path', $4,"
    "  'dirs', (SELECT count(*) FROM c WHERE left(k, 1) = 'd'),"
    "  'files', (SELECT count(*) FROM c WHERE left(k, 1) = 'f'),"
    "  'items', coalesce((SELECT json_agg(j ORDER BY n) FROM it"
    "  WHERE n <= $6::bigint), '[]'::json),"
    "  'next', (SELECT k FROM it WHERE n = $6::bigint"
    "  AND EXISTS (SELECT 1 FROM it i2 WHERE i2.n > $6::bigint)))::text"
    " FROM pk";

/*
 * Files added, changed and removed from package $4 (0: the newest older
 * visible package of the same task, else of the same node) to package $1;
 * $5 the cursor (the last path seen), $6 the limit.  One row of json
 * text; none when $1, or an explicit $4, is not visible.
 */
static const char *sql_diff =
    "WITH pk AS (SELECT p.id, p.task_id, p.node_id, p.manifest"
    "  FROM packages p LEFT JOIN tasks t ON t.id = p.task_id"
    "  WHERE p.id = $1::bigint AND " PKG_VISIBLE "),"
    " ag AS (SELECT p.id, p.name, p.version, p.created_at, p.manifest"
    "  FROM packages p LEFT JOIN tasks t ON t.id = p.task_id, pk"
    "  WHERE " PKG_VISIBLE " AND p.id <> pk.id AND CASE WHEN $4::bigint > 0"
    "  THEN p.id = $4::bigint ELSE p.id < pk.id AND CASE"
    "  WHEN pk.task_id IS NOT NULL THEN p.task_id = pk.task_id"
    "  WHEN pk.node_id IS NOT NULL THEN p.task_id IS NULL"
    "  AND p.node_id = pk.node_id ELSE false END END"
    "  ORDER BY p.id DESC LIMIT 1),"
    " n AS (SELECT m->>'path' AS path, (m->>'size')::bigint AS size,"
    "  m->>'sha256' AS sha FROM pk, jsonb_array_elements(pk.manifest) m),"
    " o AS (SELECT m->>'path' AS path, (m->>'size')::bigint AS size,"
    "  m->>'sha256' AS sha FROM ag, jsonb_array_elements(ag.manifest) m),"
    " d AS (SELECT coalesce(n.path, o.path) AS path,"
    "  CASE WHEN o.path IS NULL THEN 'added' WHEN n.path IS NULL"
    "  THEN 'removed' WHEN n.sha IS DISTINCT FROM o.sha OR n.size <> o.size"
    "  THEN 'changed' ELSE 'same' END AS change, n.size, o.size AS old_size,"
    "  n.sha, o.sha AS old_sha FROM n FULL JOIN o ON o.path = n.path"
    "  WHERE EXISTS (SELECT 1 FROM ag)),"
    " pg AS (SELECT * FROM d WHERE change <> 'same'"
    "  AND path COLLATE \"C\" > $5 ORDER BY path COLLATE \"C\""
    "  LIMIT $6::bigint + 1),"
    " it AS (SELECT row_number() OVER (ORDER BY path COLLATE \"C\") AS n,"
    "  path, json_strip_nulls(json_build_object('path', path, 'change',"
    "  change, 'size', size, 'old_size', old_size, 'sha256', sha,"
    "  'old_sha256', old_sha)) AS j FROM pg)"
    " SELECT json_build_object('package_id', pk.id,"
    "  'against', (SELECT json_build_object('id', ag.id, 'name', ag.name,"
    "  'version', ag.version, 'created_at', ag.created_at) FROM ag),"
    "  'basis', CASE WHEN $4::bigint > 0 THEN 'explicit' ELSE 'previous'"
    "  END,"
    "  'counts', CASE WHEN EXISTS (SELECT 1 FROM ag) THEN (SELECT"
    "  json_build_object("
    "  'added', count(*) FILTER (WHERE change = 'added'),"
    "  'changed', count(*) FILTER (WHERE change = 'changed'),"
    "  'removed', count(*) FILTER (WHERE change = 'removed'),"
    "  'unchanged', count(*) FILTER (WHERE change = 'same')) FROM d) END,"
    "  'items', coalesce((SELECT json_agg(j ORDER BY n) FROM it"
    "  WHERE n <= $6::bigint), '[]'::json),"
    "  'next', (SELECT path FROM it WHERE n = $6::bigint"
    "  AND EXISTS (SELECT 1 FROM it i2 WHERE i2.n > $6::bigint)))::text"
    " FROM pk WHERE $4::bigint = 0 OR EXISTS (SELECT 1 FROM ag)";

/*
 * The same against the package of task $4's live release (none: every
 * file is added, "against" null): $5 the cursor, $6 the limit.  One row
 * of json text; none when the caller may not see package $1 or view task
 * $4.
 */
static const char *sql_diff_live =
    "WITH pk AS (SELECT p.id, p.manifest"
    "  FROM packages p LEFT JOIN tasks t ON t.id = p.task_id"
    "  WHERE p.id = $1::bigint AND " PKG_VISIBLE "),"
    " tk AS (SELECT t.id FROM tasks t WHERE t.id = $4::bigint"
    "  AND yard_level($3::bigint, $2::boolean, t.node_id, t.id) >= 1),"
    " lr AS (SELECT r.n, r.sha256 FROM releases r, tk"
    "  WHERE r.task_id = tk.id AND r.state = 'live' ORDER BY r.n DESC"
    "  LIMIT 1),"
    " ag AS (SELECT p.id, p.name, p.version, p.created_at, p.manifest"
    "  FROM packages p, lr WHERE p.sha256 = lr.sha256),"
    " n AS (SELECT m->>'path' AS path, (m->>'size')::bigint AS size,"
    "  m->>'sha256' AS sha FROM pk, jsonb_array_elements(pk.manifest) m),"
    " o AS (SELECT m->>'path' AS path, (m->>'size')::bigint AS size,"
    "  m->>'sha256' AS sha FROM ag, jsonb_array_elements(ag.manifest) m),"
    " d AS (SELECT coalesce(n.path, o.path) AS path,"
    "  CASE WHEN o.path IS NULL THEN 'added' WHEN n.path IS NULL"
    "  THEN 'removed' WHEN n.sha IS DISTINCT FROM o.sha OR n.size <> o.size"
    "  THEN 'changed' ELSE 'same' END AS change, n.size, o.size AS old_size,"
    "  n.sha, o.sha AS old_sha FROM n FULL JOIN o ON o.path = n.path),"
    " pg AS (SELECT * FROM d WHERE change <> 'same'"
    "  AND path COLLATE \"C\" > $5 ORDER BY path COLLATE \"C\""
    "  LIMIT $6::bigint + 1),"
    " it AS (SELECT row_number() OVER (ORDER BY path COLLATE \"C\") AS n,"
    "  path, json_strip_nulls(json_build_object('path', path, 'change',"
    "  change, 'size', size, 'old_size', old_size, 'sha256', sha,"
    "  'old_sha256', old_sha)) AS j FROM pg)"
    " SELECT json_build_object('package_id', pk.id,"
    "  'against', (SELECT json_build_object('id', ag.id, 'name', ag.name,"
    "  'version', ag.version, 'created_at', ag.created_at) FROM ag),"
    "  'basis', 'live', 'task_id', $4::bigint,"
    "  'live', (SELECT json_build_object('n', lr.n, 'sha256', lr.sha256)"
    "  FROM lr),"
    "  'counts', (SELECT json_build_object("
    "  'added', count(*) FILTER (WHERE change = 'added'),"
    "  'changed', count(*) FILTER (WHERE change = 'changed'),"
    "  'removed', count(*) FILTER (WHERE change = 'removed'),"
    "  'unchanged', count(*) FILTER (WHERE change = 'same')) FROM d),"
    "  'items', coalesce((SELECT json_agg(j ORDER BY n) FROM it"
    "  WHERE n <= $6::bigint), '[]'::json),"
    "  'next', (SELECT path FROM it WHERE n = $6::bigint"
    "  AND EXISTS (SELECT 1 FROM it i2 WHERE i2.n > $6::bigint)))::text"
    " FROM pk WHERE EXISTS (SELECT 1 FROM tk)";

static const char *sql_for_node =
    "SELECT p.size FROM packages p WHERE p.sha256 = $1"
    " AND EXISTS (SELECT 1 FROM commands c WHERE c.node_id = $2::bigint"
    " AND c.state IN ('queued', 'dispatched', 'running')"
    " AND c.payload->'package'->>'sha256' = $1)";

enum store_step
store_packages_list(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const struct store_package_filter *f)
{
	char	    cur[24], uid[24], lim[24], task[24], node[24];
	const char *vals[8];

	vals[0] = STORE_NUM(cur, f->cursor);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = f->q;
	vals[4] = STORE_NUM(lim, f->limit);
	vals[5] = STORE_NUM(task, f->task);
	vals[6] = STORE_NUM(node, f->node);
	vals[7] = STORE_BOOL(f->newest);
	return (store_run(q, req, sql_list, 8, vals));
}

enum store_step
store_package_get(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int64_t id)
{
	return (store_run_seen(q, req, sql_get, id, who));
}

enum store_step
store_package_for_node(struct store_q *q, struct http_request *req,
    int64_t node, const char *sha256)
{
	char	    n[24];
	const char *vals[2];

	vals[0] = sha256;
	vals[1] = STORE_NUM(n, node);
	return (store_run(q, req, sql_for_node, 2, vals));
}

enum store_step
store_package_manifest(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const struct store_package_page *pg)
{
	char	    n[24], uid[24], lim[24];
	const char *vals[6];

	vals[0] = STORE_NUM(n, pg->id);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = pg->path;
	vals[4] = pg->cursor;
	vals[5] = STORE_NUM(lim, pg->limit);
	return (store_run(q, req, sql_manifest, 6, vals));
}

enum store_step
store_package_diff(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const struct store_package_page *pg)
{
	char	    n[24], uid[24], ag[24], lim[24];
	const char *vals[6];

	vals[0] = STORE_NUM(n, pg->id);
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = STORE_NUM(ag, pg->task > 0 ? pg->task : pg->against);
	vals[4] = pg->cursor;
	vals[5] = STORE_NUM(lim, pg->limit);
	return (store_run(q, req, pg->task > 0 ? sql_diff_live : sql_diff, 6,
	    vals));
}

/*
 * Retention (YARD_PACKAGE_RETENTION_DAYS, $3; 0 keeps every package), once
 * per cluster: a package older than that goes when no command names it
 * (commands.payload->'package'->>'sha256', whatever its state: the
 * history keeps pointing at something real), no task's release was made
 * from it (releases.sha256: the live one, and any the node still keeps
 * to roll back to, say which package they are) and a newer package of
 * the same target (the task; the node when there is none; the packages
 * without either as one group) exists, so that a target's newest package
 * is always kept.  At most 500 a run.  Its inbox items go with it (ON DELETE
 * CASCADE); the files follow: worker 1 of every instance removes files
 * that no row names (api/packages.c).
 */
static const char *sql_retention =
    "WITH" STORE_DUTY_RECORD
    " old AS (SELECT p.id FROM packages p WHERE $3::integer > 0"
    "  AND p.created_at < now() - make_interval(days => $3::integer)"
    "  AND NOT EXISTS (SELECT 1 FROM commands c"
    "   WHERE c.payload->'package'->>'sha256' = p.sha256)"
    "  AND NOT EXISTS (SELECT 1 FROM releases r WHERE r.sha256 = p.sha256)"
    "  AND EXISTS (SELECT 1 FROM packages n"
    "   WHERE n.task_id IS NOT DISTINCT FROM p.task_id"
    "   AND n.node_id IS NOT DISTINCT FROM p.node_id"
    "   AND (n.created_at, n.id) > (p.created_at, p.id))"
    "  ORDER BY p.id LIMIT 500)"
    " DELETE FROM packages WHERE id IN (SELECT id FROM old)";

/* Which of the hashes in $1 (a JSON array) packages rows name. */
static const char *sql_live =
    "SELECT coalesce(json_agg(p.sha256), '[]')::text FROM packages p"
    " WHERE p.sha256 IN (SELECT x FROM json_array_elements_text($1::json) x"
    " WHERE x ~ '^[0-9a-f]{64}$')";

static int retention_prepare(struct store_duty *, const char **, char[][32]);

static struct store_duty retention_duty = { .name = "package-retention",
	.kind = STORE_DUTY_LEADER,
	.every_ms = 60000,
	.prepare = retention_prepare };
static int64_t		 retention_days = 90;

static int
retention_prepare(struct store_duty *d, const char **vals, char buf[][32])
{
	(void)snprintf(buf[2], 32, "%" PRId64, retention_days);
	vals[2] = buf[2];
	return (3);
}

struct store_duty *
store_package_retention_duty(uint64_t every_ms, int64_t days)
{
	retention_duty.sql = sql_retention;
	retention_duty.every_ms = every_ms;
	retention_days = days;
	return (&retention_duty);
}

/* The one "which files are still named" question in flight. */
struct live_job {
	struct store_q *q;
	char	       *hashes;
	void	       *arg;
	void (*done)(int, const char *, void *);
};

static int live_busy;

static void
live_free(struct live_job *j)
{
	if (j->q != NULL)
		store_q_free(j->q);
	free(j->hashes);
	free(j);
	live_busy = 0;
}

/* 1: still waiting; 0: answered (done called) and freed. */
static int
live_step(struct live_job *j, int tell)
{
	const char *vals[1];

	vals[0] = j->hashes;
	switch (store_run(j->q, NULL, sql_live, 1, vals)) {
	case STORE_WAIT:
		return (1);
	case STORE_OK:
		if (tell)
			j->done(1, store_val(j->q, 0, 0), j->arg);
		break;
	case STORE_ERR:
	default:
		if (tell)
			j->done(0, NULL, j->arg);
		break;
	}
	live_free(j);
	return (0);
}

static void
live_cb(struct store_q *q, void *arg)
{
	(void)live_step(arg, 1);
}

int
store_packages_live(const char *hashes, void *arg,
    void (*done)(int, const char *, void *))
{
	struct live_job *j;

	if (live_busy || store_pool_down())
		return (0);
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return (0);
	if ((j->hashes = strdup(hashes)) == NULL) {
		free(j);
		return (0);
	}
	j->arg = arg;
	j->done = done;
	j->q = store_q_new();
	store_q_bind(j->q, live_cb, j);
	live_busy = 1;
	/* Answered at once: only a failure can be; say "not sent". */
	return (live_step(j, 0));
}
