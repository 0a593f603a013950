/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Tasks: list, create, read and edit (SPEC 5, docs/api.md).  A task's
 * settings are a spec checked in full by agentproto_task_spec() and
 * stored normalised; a bad member is a 400 naming it ("spec.console.args[3]")
 * and writes nothing.  Creating needs manage on the node, editing manage
 * on the task (a grant on the task or on its node); what the caller may
 * not see answers 404, what they may see but not change 403.  Where the
 * node reports its policy, a deploy_dir outside its roots is a 400 (the
 * agent refuses it anyway; this is the early, friendly answer).
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "app.h"
#include "agentproto/agentproto.h"
#include "api/api.h"

/* Characters of the latest command's output a task carries. */
#define TASK_OUTPUT_MAX "2000"

/* With the caller's level on the task and its latest command. */
#define TASK_COLS \
	"t.id, t.node_id, n.name AS node_name, t.name, t.kind, t.state," \
	" t.health, t.pid, t.started_at, t.restarts, t.created_at," \
	" t.updated_at, t.metrics, t.last_lines," \
	" yard_level_name(lv.level) AS level," \
	" (SELECT json_build_object('id', c.id, 'type', c.type, 'state'," \
	"  c.state, 'output', left(c.output, " TASK_OUTPUT_MAX ")," \
	"  'output_truncated', length(c.output) > " TASK_OUTPUT_MAX "," \
	"  'issued_at', c.issued_at, 'finished_at', c.finished_at)" \
	"  FROM commands c WHERE c.task_id = t.id ORDER BY c.seq DESC" \
	"  LIMIT 1) AS last_command"

static const char *sql_list =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT " TASK_COLS
    " FROM tasks t JOIN nodes n ON n.id = t.node_id" API_TASK_LEVEL_JOIN
    " WHERE t.id > $1::bigint AND " API_TASK_VISIBLE
    " AND ($4 = '' OR strpos(lower(t.name), lower($4)) > 0)"
    " AND ($5::bigint IS NULL OR t.node_id = $5::bigint)"
    " ORDER BY t.id LIMIT $6::bigint + 1) x";

static const char *sql_get =
    "SELECT row_to_json(x)::text, x.node_id FROM (SELECT " TASK_COLS
    ", t.spec FROM tasks t JOIN nodes n ON n.id = t.node_id" API_TASK_LEVEL_JOIN
    " WHERE t.id = $1::bigint AND " API_TASK_VISIBLE ") x";

/*
 * Before a create: may the caller see the node, their level on it, and
 * the deploy roots it reports (NULL when it reports no policy).
 */
static const char *sql_create_check =
    "SELECT yard_node_visible($3::bigint, $2::boolean, n.id),"
    " yard_level($3::bigint, $2::boolean, n.id, NULL),"
    " n.revoked_at IS NOT NULL, (n.facts->'policy'->'roots')::text"
    " FROM nodes n WHERE n.id = $1::bigint";

/* Create when the caller (still) manages the node. */
static const char *sql_create =
    "WITH n AS (SELECT n.id FROM nodes n WHERE n.id = $1::bigint"
    "  AND n.revoked_at IS NULL"
    "  AND yard_level($3::bigint, $2::boolean, n.id, NULL) >= 3),"
    " t AS (INSERT INTO tasks (node_id, name, kind, spec, created_by)"
    "  SELECT id, $4, $5, $6::jsonb, $3::bigint FROM n"
    "  RETURNING id, node_id, name, kind),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT $3::bigint, $7, 'task.create',"
    "  'task', id, jsonb_build_object('name', name, 'node', node_id,"
    "  'kind', kind), $8 FROM t)"
    " SELECT id FROM t";

/* Before an edit: the task's kind, the caller's level, its node's roots. */
static const char *sql_edit_check =
    "SELECT t.kind, lv.level, (n.facts->'policy'->'roots')::text"
    " FROM tasks t JOIN nodes n ON n.id = t.node_id" API_TASK_LEVEL_JOIN
    " WHERE t.id = $1::bigint";

/*
 * Edit: name and spec together, when the caller (still) manages the task;
 * the kind stays what it was created as.
 */
static const char *sql_edit =
    "WITH t AS (UPDATE tasks SET name = $2, spec = $3::jsonb,"
    "  updated_at = now() WHERE id = $1::bigint AND kind = $4"
    "  AND yard_level($5::bigint, $8::boolean, node_id, id) >= 3"
    "  RETURNING id, name),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT $5::bigint, $6, 'task.edit',"
    "  'task', id, jsonb_build_object('name', name), $7 FROM t)"
    " SELECT (SELECT count(*) FROM t)";

enum task_step { TASK_LOAD = 0, TASK_WRITE, TASK_READ };

static int tasks_list(struct http_request *, struct api_ctx *);
static int tasks_create(struct http_request *, struct api_ctx *);
static int task_edit(struct http_request *, struct api_ctx *, int64_t);
static int task_get(struct http_request *, struct api_ctx *, int64_t);
static int name_ok(const char *);
static int spec_take(struct http_request *, struct api_ctx *, char **,
    const char **);
static int roots_check(struct http_request *, struct api_ctx *, const char *);
static int level_refused(struct http_request *, enum auth_level, const char *,
    const char *, const char *);

/* c->step of a request that writes, then answers with the task. */

int
api_tasks(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;

	if (req->method == HTTP_METHOD_GET) {
		if ((s = api_begin(req, &c, 0)) != API_GO)
			return (api_return(s));
		return (tasks_list(req, c));
	}
	if (req->method == HTTP_METHOD_POST) {
		if ((s = api_begin(req, &c, API_NEED_BODY)) != API_GO)
			return (api_return(s));
		if (c->step == TASK_READ)
			return (task_get(req, c, c->id));
		return (tasks_create(req, c));
	}
	return (api_error(req, 405, "method_not_allowed", NULL, NULL));
}

int
api_task(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;
	int64_t		id;

	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_PUT)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	if ((s = api_begin(req, &c,
		 req->method == HTTP_METHOD_PUT ? API_NEED_BODY : 0)) != API_GO)
		return (api_return(s));
	if (!api_path_id(req, "/api/v1/tasks/", &id))
		return (api_not_found(req));
	if (req->method == HTTP_METHOD_GET || c->step == TASK_READ)
		return (task_get(req, c, id));
	return (task_edit(req, c, id));
}

static int
tasks_list(struct http_request *req, struct api_ctx *c)
{
	enum api_step s;
	int64_t	      limit, cursor, node;
	char	      cur[32], lim[32], uid[32], nid[32], q[256];
	const char   *vals[6];

	if (!api_qs_page(req, &limit, &cursor) ||
	    !api_qs_str(req, "q", 200, q, sizeof(q)) ||
	    !api_qs_int(req, "node_id", 1, INT64_MAX, 0, &node))
		return (KORE_RESULT_OK);
	snprintf(cur, sizeof(cur), "%" PRId64, cursor);
	snprintf(lim, sizeof(lim), "%" PRId64, limit);
	snprintf(uid, sizeof(uid), "%" PRId64, c->who.user_id);
	snprintf(nid, sizeof(nid), "%" PRId64, node);
	vals[0] = cur;
	vals[1] = c->who.admin ? "true" : "false";
	vals[2] = uid;
	vals[3] = q;
	vals[4] = node ? nid : NULL;
	vals[5] = lim;
	if ((s = api_db(req, c, sql_list, 6, vals, NULL)) != API_GO)
		return (api_return(s));
	return (api_reply_list(req, c, limit));
}

/* 1..64 of [A-Za-z0-9._-], not starting with a dot or dash. */
static int
name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') ||
			(i > 0 && (s[i] == '.' || s[i] == '_' || s[i] == '-'))))
			return (0);
	}
	return (i >= 1 && i <= 64);
}

/*
 * The body's "spec", checked and normalised: *text (malloc'd JSON) and
 * *kind (a static string) on success; otherwise a 400 naming
 * spec.<member> has been sent and 0 is returned.
 */
static int
spec_take(struct http_request *req, struct api_ctx *c, char **text,
    const char **kind)
{
	struct agentproto_err err;
	json_t		     *spec, *norm;
	char		      field[96];

	spec = json_object_get(c->body, "spec");
	if (spec == NULL) {
		api_error(req, 400, "bad_request", "spec is required", "spec");
		return (0);
	}
	if ((norm = agentproto_task_spec(spec, &err)) == NULL) {
		snprintf(field, sizeof(field), "spec%s%s",
		    err.field[0] != '\0' ? "." : "", err.field);
		api_error(req, 400, "bad_request", err.msg, field);
		return (0);
	}
	*kind = json_string_value(json_object_get(norm, "kind"));
	*kind = strcmp(*kind, "console") == 0 ? "console"
	    : strcmp(*kind, "tomcat") == 0    ? "tomcat"
					      : "jar";
	*text = json_dumps(norm, JSON_COMPACT);
	json_decref(norm);
	if (*text == NULL) {
		api_error(req, 500, "internal", "out of memory", NULL);
		return (0);
	}
	return (1);
}

/*
 * A deploy_dir outside the roots the node reports (roots: JSON text, NULL
 * when it reports none): a 400 naming spec.deploy_dir has been sent and 0
 * is returned.
 */
static int
roots_check(struct http_request *req, struct api_ctx *c, const char *roots)
{
	const char *dir;
	char	    msg[1280], list[768];

	dir = json_string_value(
	    json_object_get(json_object_get(c->body, "spec"), "deploy_dir"));
	if (roots == NULL || dir == NULL ||
	    auth_dir_in_roots(dir, roots, strlen(roots), list, sizeof(list)))
		return (1);
	(void)snprintf(msg, sizeof(msg),
	    "deploy_dir %.200s is outside the node's allowed roots (%s): "
	    "its policy refuses it",
	    dir, list[0] != '\0' ? list : "none");
	api_error(req, 400, "bad_request", msg, "spec.deploy_dir");
	return (0);
}

/* 403 naming the level held and the one needed ("why" says for what). */
static int
level_refused(struct http_request *req, enum auth_level have, const char *what,
    const char *why, const char *field)
{
	char msg[192];

	(void)snprintf(msg, sizeof(msg),
	    "you may %s this %s but not manage it: %s",
	    have == AUTH_LEVEL_OPERATE ? "operate" : "view", what, why);
	return (api_error(req, 403, "forbidden", msg, field));
}

/*
 * POST /api/v1/tasks {"node_id", "name", "spec"}: check the node (seen,
 * level, revoked, roots), then insert when the caller still manages it.
 */
static int
tasks_create(struct http_request *req, struct api_ctx *c)
{
	enum api_step	s;
	enum auth_level lvl;
	const char     *name, *kind, *vals[8], *roots;
	char	       *spec, nid[32], uid[32], remote[64];
	int64_t		node;
	int		has_node, visible, revoked;

	if (!api_body_id(req, c, "node_id", &has_node, &node) ||
	    !api_body_str(req, c, "name", 1, 64, &name))
		return (KORE_RESULT_OK);
	if (!has_node)
		return (api_error(req, 400, "bad_request",
		    "node_id is required", "node_id"));
	if (!name_ok(name))
		return (api_error(req, 400, "bad_request",
		    "name must be 1 to 64 of A-Z a-z 0-9 . _ - (starting with "
		    "a letter or digit)",
		    "name"));
	if (!spec_take(req, c, &spec, &kind))
		return (KORE_RESULT_OK);

	snprintf(nid, sizeof(nid), "%" PRId64, node);
	snprintf(uid, sizeof(uid), "%" PRId64, c->who.user_id);
	vals[0] = nid;
	vals[1] = c->who.admin ? "true" : "false";
	vals[2] = uid;

	if (c->step == TASK_LOAD) {
		if ((s = api_db(req, c, sql_create_check, 3, vals, NULL)) !=
		    API_GO) {
			free(spec);
			return (api_return(s));
		}
		visible =
		    api_rows(c) == 1 && strcmp(api_val(c, 0, 0), "t") == 0;
		lvl = visible ? (enum auth_level)api_val_int(c, 0, 1)
			      : AUTH_LEVEL_NONE;
		revoked = visible && strcmp(api_val(c, 0, 2), "t") == 0;
		roots = visible ? api_val(c, 0, 3) : NULL;
		if (!visible) {
			api_db_clear(c);
			free(spec);
			return (api_error(req, 404, "not_found", "no such node",
			    "node_id"));
		}
		if (revoked) {
			api_db_clear(c);
			free(spec);
			return (api_error(req, 409, "node_revoked",
			    "the node is revoked", "node_id"));
		}
		if (lvl < AUTH_LEVEL_MANAGE) {
			api_db_clear(c);
			free(spec);
			return (level_refused(req, lvl, "node",
			    "creating tasks needs manage on the node",
			    "node_id"));
		}
		if (!roots_check(req, c, roots)) {
			api_db_clear(c);
			free(spec);
			return (KORE_RESULT_OK);
		}
		api_db_clear(c);
		c->step = TASK_WRITE;
	}

	api_remote_addr(req, remote, sizeof(remote));
	vals[3] = name;
	vals[4] = kind;
	vals[5] = spec;
	vals[6] = c->claims.sub;
	vals[7] = remote;
	s = api_db(req, c, sql_create, 8, vals, "task_exists");
	free(spec);
	if (s != API_GO)
		return (api_return(s));
	if (api_rows(c) != 1 || api_val(c, 0, 0) == NULL) {
		/* The node was revoked or the grant taken away meanwhile. */
		api_db_clear(c);
		return (api_error(req, 409, "conflict",
		    "the node or your grant on it changed: try again",
		    "node_id"));
	}
	/* Answer with the stored task, as GET would. */
	c->id = api_val_int(c, 0, 0);
	c->step = TASK_READ;
	api_db_clear(c);
	return (task_get(req, c, c->id));
}

static int
task_get(struct http_request *req, struct api_ctx *c, int64_t id)
{
	enum api_step s;
	char	      tid[32], uid[32];
	const char   *vals[3];

	snprintf(tid, sizeof(tid), "%" PRId64, id);
	snprintf(uid, sizeof(uid), "%" PRId64, c->who.user_id);
	vals[0] = tid;
	vals[1] = c->who.admin ? "true" : "false";
	vals[2] = uid;
	if ((s = api_db(req, c, sql_get, 3, vals, NULL)) != API_GO)
		return (api_return(s));
	return (api_reply_row(req, c,
	    c->step == TASK_READ && req->method == HTTP_METHOD_POST ? 201
								    : 200));
}

/*
 * PUT /api/v1/tasks/{id} {"name", "spec"}: load the task (kind, the
 * caller's level, its node's roots), check manage, then write name and
 * spec together.
 */
static int
task_edit(struct http_request *req, struct api_ctx *c, int64_t id)
{
	enum api_step	s;
	enum auth_level lvl;
	const char     *name, *kind, *vals[8];
	char	       *spec, tid[32], uid[32], remote[64];
	int		rc;

	if (!api_body_str(req, c, "name", 1, 64, &name))
		return (KORE_RESULT_OK);
	if (!name_ok(name))
		return (api_error(req, 400, "bad_request",
		    "name must be 1 to 64 of A-Z a-z 0-9 . _ - (starting with "
		    "a letter or digit)",
		    "name"));
	if (!spec_take(req, c, &spec, &kind))
		return (KORE_RESULT_OK);
	snprintf(tid, sizeof(tid), "%" PRId64, id);
	snprintf(uid, sizeof(uid), "%" PRId64, c->who.user_id);

	if (c->step == TASK_LOAD) {
		vals[0] = tid;
		vals[1] = c->who.admin ? "true" : "false";
		vals[2] = uid;
		if ((s = api_db(req, c, sql_edit_check, 3, vals, NULL)) !=
		    API_GO) {
			free(spec);
			return (api_return(s));
		}
		lvl = api_rows(c) == 1 ? (enum auth_level)api_val_int(c, 0, 1)
				       : AUTH_LEVEL_NONE;
		if (lvl == AUTH_LEVEL_NONE)
			rc = api_error(req, 404, "not_found", "no such task",
			    NULL);
		else if (lvl < AUTH_LEVEL_MANAGE)
			rc = level_refused(req, lvl, "task",
			    "editing a task needs manage", NULL);
		else if (strcmp(api_val(c, 0, 0), kind) != 0)
			rc = api_error(req, 400, "bad_request",
			    "a task's kind cannot change: create another task",
			    "spec.kind");
		else if (!roots_check(req, c, api_val(c, 0, 2)))
			rc = KORE_RESULT_OK;
		else
			rc = -1;
		api_db_clear(c);
		if (rc != -1) {
			free(spec);
			return (rc);
		}
		c->step = TASK_WRITE;
	}
	api_remote_addr(req, remote, sizeof(remote));
	vals[0] = tid;
	vals[1] = name;
	vals[2] = spec;
	vals[3] = kind;
	vals[4] = uid;
	vals[5] = c->claims.sub;
	vals[6] = remote;
	vals[7] = c->who.admin ? "true" : "false";
	s = api_db(req, c, sql_edit, 8, vals, "task_exists");
	free(spec);
	if (s != API_GO)
		return (api_return(s));
	rc = api_rows(c) == 1 && api_val_int(c, 0, 0) == 1;
	api_db_clear(c);
	if (!rc)
		return (api_error(req, 404, "not_found", "no such task", NULL));
	c->step = TASK_READ;
	return (task_get(req, c, id));
}
