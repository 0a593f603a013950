/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Statements about tus uploads in progress (docs/api.md, "Uploads"): the
 * row holds the offset written and fsync'd and the SHA-256 state after
 * it; an append holds the row (locked_until) so that two never write at
 * once.  Whether the caller may upload for the target is decided here, in
 * the statement, by yard_level() (migrations/006_levels.sql): a token
 * with the packages:upload scope, or manage on the target task or node.
 * The verdict of a check and the check of which files are still wanted
 * run as background jobs (no request).
 */

#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>

#include "store/internal.h"

/* The caller's level on the upload u's target ($2 admin, $3 user). */
#define UPLOAD_LEVEL \
	"yard_level($3::bigint, $2::boolean, coalesce((SELECT t.node_id" \
	" FROM tasks t WHERE t.id = u.task_id), u.node_id), u.task_id)"
/* ... and whether it may go on uploading ($4 the scope). */
#define UPLOAD_ALLOWED "($4::boolean OR " UPLOAD_LEVEL " >= 3)"

static const char *sql_create =
    "WITH tg AS (SELECT nullif($5, '')::bigint AS task,"
    "  CASE WHEN nullif($5, '') IS NOT NULL THEN (SELECT node_id FROM tasks"
    "  WHERE id = $5::bigint) ELSE nullif($6, '')::bigint END AS node),"
    " ex AS (SELECT CASE WHEN tg.task IS NOT NULL THEN tg.node IS NOT NULL"
    "  WHEN tg.node IS NOT NULL THEN EXISTS (SELECT 1 FROM nodes"
    "  WHERE id = tg.node) ELSE true END AS ok,"
    "  CASE WHEN tg.task IS NULL AND tg.node IS NULL THEN"
    "  CASE WHEN $2::boolean THEN 3 ELSE 0 END"
    "  ELSE yard_level($3::bigint, $2::boolean, tg.node, tg.task) END AS lv,"
    "  CASE WHEN tg.task IS NULL AND tg.node IS NULL THEN true"
    "  WHEN tg.task IS NULL THEN"
    "  yard_node_visible($3::bigint, $2::boolean, tg.node) ELSE"
    "  yard_level($3::bigint, $2::boolean, tg.node, tg.task) >= 1 END AS vis"
    "  FROM tg),"
    " used AS (SELECT coalesce(sum(length), 0)::bigint AS b FROM uploads"
    "  WHERE user_id = $3::bigint AND state = 'receiving'),"
    " ins AS (INSERT INTO uploads (user_id, uploader_sub, by_scope, length,"
    "  name, version, notes, filename, task_id, node_id, expires_at)"
    "  SELECT $3::bigint, $1, $4::boolean, $7::bigint, $8, $9, $10, $11,"
    "  nullif($5, '')::bigint, CASE WHEN nullif($5, '') IS NULL THEN"
    "  nullif($6, '')::bigint END,"
    "  now() + make_interval(secs => $12::integer) FROM ex, used"
    "  WHERE ex.ok AND ($4::boolean OR ex.lv >= 3)"
    "  AND used.b + $7::bigint <= $13::bigint"
    "  RETURNING id, expires_at)"
    " SELECT ex.ok, ex.lv, ex.vis, used.b, (SELECT id FROM ins),"
    " (SELECT extract(epoch FROM expires_at)::bigint FROM ins)"
    " FROM ex, used";

#define UPLOAD_JSON \
	"json_build_object('id', u.id, 'state', CASE WHEN u.state =" \
	" 'receiving' AND u.expires_at <= now() THEN 'expired' ELSE u.state" \
	" END, 'offset', u.\"offset\", 'length', u.length, 'name', u.name," \
	" 'version', u.version, 'filename', u.filename, 'target'," \
	" json_strip_nulls(json_build_object('task_id', u.task_id," \
	" 'node_id', u.node_id)), 'package_id', u.package_id, 'reason'," \
	" u.reason, 'entry', u.entry, 'message', u.message, 'created_at'," \
	" u.created_at, 'expires_at', u.expires_at)::text"

static const char *sql_get =
    "SELECT u.\"offset\", u.length, u.state, " UPLOAD_ALLOWED ","
    " extract(epoch FROM u.expires_at)::bigint, " UPLOAD_JSON
    " FROM uploads u WHERE u.id = $1::uuid AND u.user_id = $3::bigint";

static const char *sql_hold =
    "WITH u AS (SELECT u.*, " UPLOAD_ALLOWED " AS allowed FROM uploads u"
    "  WHERE u.id = $1::uuid AND u.user_id = $3::bigint),"
    " h AS (UPDATE uploads x SET locked_until = now() + interval '30 s'"
    "  FROM u WHERE x.id = u.id AND u.state = 'receiving' AND u.allowed"
    "  AND u.\"offset\" = $5::bigint AND u.expires_at > now()"
    "  AND (u.locked_until IS NULL OR u.locked_until < now())"
    "  RETURNING x.id)"
    " SELECT u.\"offset\", u.length, encode(u.sha_state, 'hex'), u.state,"
    " u.allowed, EXISTS (SELECT 1 FROM h),"
    " coalesce(u.locked_until > now(), false), u.expires_at <= now()"
    " FROM u";

static const char *sql_commit =
    "UPDATE uploads SET \"offset\" = $3::bigint, sha_state ="
    " decode($4, 'hex'), locked_until = NULL, updated_at = now(),"
    " expires_at = now() + make_interval(secs => $6::integer),"
    " state = CASE WHEN $5::boolean THEN 'checking' ELSE state END"
    " WHERE id = $1::uuid AND \"offset\" = $2::bigint"
    " AND state = 'receiving' AND locked_until IS NOT NULL"
    " RETURNING extract(epoch FROM expires_at)::bigint";

static const char *sql_release =
    "UPDATE uploads SET locked_until = NULL WHERE id = $1::uuid";

static const char *sql_delete =
    "DELETE FROM uploads u WHERE u.id = $1::uuid AND u.user_id = $2::bigint"
    " AND u.state <> 'checking'"
    " AND (u.locked_until IS NULL OR u.locked_until < now())"
    " RETURNING u.state";

static const char *sql_accept =
    "WITH up AS (SELECT * FROM uploads WHERE id = $1::uuid"
    "  AND state = 'checking'),"
    " p AS (INSERT INTO packages (sha256, name, version, notes, filename,"
    "  task_id, node_id, size, entries, manifest, uploaded_by,"
    "  uploader_sub) SELECT $2, name, version, notes, filename, task_id,"
    "  node_id, length, $3::integer, $4::jsonb, user_id, uploader_sub"
    "  FROM up ON CONFLICT (sha256) DO NOTHING RETURNING id),"
    " e AS (SELECT id FROM packages WHERE sha256 = $2)"
    " UPDATE uploads SET state = 'accepted', sha_state = NULL,"
    " package_id = coalesce((SELECT id FROM p), (SELECT id FROM e)),"
    " updated_at = now(),"
    " expires_at = now() + make_interval(secs => $5::integer)"
    " WHERE id = $1::uuid AND state = 'checking' RETURNING package_id";

static const char *sql_reject =
    "UPDATE uploads SET state = 'rejected', sha_state = NULL, reason = $2,"
    " entry = $3, message = $4, updated_at = now(),"
    " expires_at = now() + make_interval(secs => $5::integer)"
    " WHERE id = $1::uuid AND state = 'checking' RETURNING 0";

static const char *sql_live =
    "SELECT coalesce(json_agg(u.id), '[]')::text FROM uploads u"
    " WHERE u.id IN (SELECT x::uuid FROM json_array_elements_text($1::json) x"
    " WHERE x ~ '^[0-9a-f-]{36}$') AND u.state IN ('receiving', 'checking')";

/*
 * The expiry duty, once per cluster: uploads past their expiry go (the
 * files follow: api/uploads.c removes the files of rows that are gone); a
 * check that has not answered within an hour (its worker died) is
 * rejected.
 */
static const char *sql_duty =
    "WITH" STORE_DUTY_RECORD
    " d AS (DELETE FROM uploads WHERE expires_at < now()"
    "  AND state <> 'checking')"
    " UPDATE uploads SET state = 'rejected', reason = 'error',"
    " message = 'the check did not finish', sha_state = NULL,"
    " expires_at = now() + make_interval(secs => $3::integer)"
    " WHERE state = 'checking' AND updated_at < now() - interval '1 hour'";

static int duty_prepare(struct store_duty *, const char **, char[][32]);

static struct store_duty upload_duty = { .name = "upload-expiry",
	.kind = STORE_DUTY_LEADER,
	.every_ms = 60000,
	.prepare = duty_prepare };
static int64_t		 upload_expire = 86400;

/* A background statement with its own values. */
#define JOB_VALS 8
struct job {
	struct store_q *q;
	const char     *sql;
	int		n;
	char	       *vals[JOB_VALS]; /* into block; NULL for SQL NULL */
	char	       *block;
	void (*fin)(struct job *, int ok);
	void *arg;
	void (*done_verdict)(int, int64_t, void *);
	void (*done_live)(int, const char *, void *);
};

static void job_cb(struct store_q *, void *);
static int  job_step(struct job *);
static void job_free(struct job *);
static int  job_values(struct job *, const char *const *, int);
static int  job_start(struct job *);
static void verdict_fin(struct job *, int);
static void live_fin(struct job *, int);

static int live_busy;

static int
duty_prepare(struct store_duty *d, const char **vals, char buf[][32])
{
	(void)snprintf(buf[2], 32, "%" PRId64, upload_expire);
	vals[2] = buf[2];
	return (3);
}

struct store_duty *
store_upload_duty(uint64_t every_ms, int64_t expire)
{
	upload_duty.sql = sql_duty;
	upload_duty.every_ms = every_ms;
	upload_expire = expire;
	return (&upload_duty);
}

enum store_step
store_upload_create(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const struct store_upload_new *n)
{
	char	    uid[24], task[24], node[24], len[24], exp[24], max[24];
	const char *vals[13];

	vals[0] = n->sub;
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = STORE_BOOL(n->scope);
	vals[4] = n->task > 0 ? STORE_NUM(task, n->task) : "";
	vals[5] = n->node > 0 ? STORE_NUM(node, n->node) : "";
	vals[6] = STORE_NUM(len, n->length);
	vals[7] = n->name;
	vals[8] = n->version;
	vals[9] = n->notes;
	vals[10] = n->filename;
	vals[11] = STORE_NUM(exp, n->expire);
	vals[12] = STORE_NUM(max, n->user_max);
	return (store_run(q, req, sql_create, 13, vals));
}

enum store_step
store_upload_get(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int scope, const char *id)
{
	char	    uid[24];
	const char *vals[4];

	vals[0] = id;
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = STORE_BOOL(scope);
	return (store_run(q, req, sql_get, 4, vals));
}

enum store_step
store_upload_hold(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, int scope, const char *id, int64_t offset)
{
	char	    uid[24], off[24];
	const char *vals[5];

	vals[0] = id;
	vals[1] = STORE_BOOL(who->admin);
	vals[2] = STORE_NUM(uid, who->user_id);
	vals[3] = STORE_BOOL(scope);
	vals[4] = STORE_NUM(off, offset);
	return (store_run(q, req, sql_hold, 5, vals));
}

enum store_step
store_upload_commit(struct store_q *q, struct http_request *req, const char *id,
    int64_t from, int64_t to, const char *sha_hex, int complete, int64_t expire)
{
	char	    f[24], t[24], e[24];
	const char *vals[6];

	vals[0] = id;
	vals[1] = STORE_NUM(f, from);
	vals[2] = STORE_NUM(t, to);
	vals[3] = sha_hex;
	vals[4] = STORE_BOOL(complete);
	vals[5] = STORE_NUM(e, expire);
	return (store_run(q, req, sql_commit, 6, vals));
}

enum store_step
store_upload_release(struct store_q *q, struct http_request *req,
    const char *id)
{
	const char *vals[1];

	vals[0] = id;
	return (store_run(q, req, sql_release, 1, vals));
}

enum store_step
store_upload_delete(struct store_q *q, struct http_request *req,
    const struct auth_principal *who, const char *id)
{
	char	    uid[24];
	const char *vals[2];

	vals[0] = id;
	vals[1] = STORE_NUM(uid, who->user_id);
	return (store_run(q, req, sql_delete, 2, vals));
}

static void
job_free(struct job *j)
{
	if (j->q != NULL)
		store_q_free(j->q);
	free(j->block);
	free(j);
}

/* 1 while the statement is in flight; 0 once over (fin called). */
static int
job_step(struct job *j)
{
	switch (
	    store_run(j->q, NULL, j->sql, j->n, (const char *const *)j->vals)) {
	case STORE_WAIT:
		return (1);
	case STORE_OK:
		j->fin(j, 1);
		return (0);
	case STORE_ERR:
	default:
		j->fin(j, 0);
		return (0);
	}
}

static void
job_cb(struct store_q *q, void *arg)
{
	struct job *j = arg;

	if (!job_step(j))
		job_free(j);
}

/* Start j: 1 when it is in flight, 0 when it could not be sent (j is
 * freed, its done not called). */
static int
job_start(struct job *j)
{
	void (*fin)(struct job *, int) = j->fin;

	j->q = store_q_new();
	store_q_bind(j->q, job_cb, j);
	/* Answered at once: only a failure can be (the pool is full or
	 * PostgreSQL is away); tell nobody, say "not sent". */
	j->fin = NULL;
	switch (
	    store_run(j->q, NULL, j->sql, j->n, (const char *const *)j->vals)) {
	case STORE_WAIT:
		j->fin = fin;
		return (1);
	default:
		job_free(j);
		return (0);
	}
}

static void
verdict_fin(struct job *j, int ok)
{
	int64_t pkg = 0;

	if (ok && store_rows(j->q) == 1)
		pkg = store_val_int(j->q, 0, 0);
	j->done_verdict(ok, pkg, j->arg);
}

/* Copy the n values (NULL stays NULL) into one block j owns. */
static int
job_values(struct job *j, const char *const *v, int n)
{
	size_t len = 0, l;
	char  *p;
	int    i;

	for (i = 0; i < n; i++)
		len += v[i] != NULL ? strlen(v[i]) + 1 : 0;
	if ((j->block = malloc(len + 1)) == NULL)
		return (0);
	p = j->block;
	for (i = 0; i < n; i++) {
		if (v[i] == NULL) {
			j->vals[i] = NULL;
			continue;
		}
		l = strlen(v[i]) + 1;
		memcpy(p, v[i], l);
		j->vals[i] = p;
		p += l;
	}
	j->n = n;
	return (1);
}

int
store_upload_verdict(const struct store_upload_verdict *v, void *arg,
    void (*done)(int, int64_t, void *))
{
	struct job *j;
	char	    e[24], n[24];
	const char *vals[5];

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return (0);
	vals[0] = v->id;
	vals[4] = STORE_NUM(e, v->expire);
	if (v->ok) {
		j->sql = sql_accept;
		vals[1] = v->sha256;
		vals[2] = STORE_NUM(n, v->entries);
		vals[3] = v->manifest;
	} else {
		j->sql = sql_reject;
		vals[1] = v->reason;
		vals[2] = v->entry;
		vals[3] = v->message;
	}
	if (!job_values(j, vals, 5)) {
		free(j);
		return (0);
	}
	j->fin = verdict_fin;
	j->arg = arg;
	j->done_verdict = done;
	return (job_start(j));
}

static void
live_fin(struct job *j, int ok)
{
	live_busy = 0;
	j->done_live(ok, ok ? store_val(j->q, 0, 0) : NULL, j->arg);
}

int
store_uploads_live(const char *ids, void *arg,
    void (*done)(int, const char *, void *))
{
	struct job *j;

	if (live_busy || store_pool_down())
		return (0);
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return (0);
	if (!job_values(j, &ids, 1)) {
		free(j);
		return (0);
	}
	j->sql = sql_live;
	j->fin = live_fin;
	j->arg = arg;
	j->done_live = done;
	if (!job_start(j))
		return (0);
	live_busy = 1;
	return (1);
}
