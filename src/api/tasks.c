/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Tasks: list, create, read and edit (SPEC 5, docs/api.md).  A task's
 * settings are a spec checked in full by agentproto_task_spec() and
 * stored normalised; a bad member is a 400 naming it ("spec.console.args[3]")
 * and writes nothing.  Creating needs operate on the node, editing
 * operate on the task (a grant on the task or on its node); what the
 * caller may not see answers 404, what they may see but not change 403.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "app.h"
#include "agentproto/agentproto.h"
#include "api/api.h"

#define TASK_COLS \
	"t.id, t.node_id, n.name AS node_name, t.name, t.kind, t.state," \
	" t.health, t.pid, t.started_at, t.restarts, t.created_at," \
	" t.updated_at, t.metrics, t.last_lines"

static const char *sql_list =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT " TASK_COLS
    " FROM tasks t JOIN nodes n ON n.id = t.node_id"
    " WHERE t.id > $1::bigint AND " API_TASK_VISIBLE
    " AND ($4 = '' OR strpos(lower(t.name), lower($4)) > 0)"
    " AND ($5::bigint IS NULL OR t.node_id = $5::bigint)"
    " ORDER BY t.id LIMIT $6::bigint + 1) x";

static const char *sql_get =
    "SELECT row_to_json(x)::text, x.node_id FROM (SELECT " TASK_COLS
    ", t.spec FROM tasks t JOIN nodes n ON n.id = t.node_id"
    " WHERE t.id = $1::bigint AND " API_TASK_VISIBLE ") x";

/*
 * Create when the caller may operate the node ($4, decided from the
 * principal's grants); say whether the node is visible at all so that a
 * refusal can be 403 or 404.
 */
static const char *sql_create =
    "WITH n AS (SELECT n.id, n.revoked_at IS NOT NULL AS revoked,"
    "  ($2::boolean OR EXISTS (SELECT 1 FROM grants g LEFT JOIN tasks t"
    "   ON t.id = g.task_id WHERE g.user_id = $3::bigint AND"
    "   (g.node_id = n.id OR t.node_id = n.id))) AS visible"
    "  FROM nodes n WHERE n.id = $1::bigint),"
    " t AS (INSERT INTO tasks (node_id, name, kind, spec, created_by)"
    "  SELECT id, $5, $6, $7::jsonb, $3::bigint FROM n"
    "  WHERE $4::boolean AND NOT revoked RETURNING id, node_id, name, kind),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT $3::bigint, $8, 'task.create',"
    "  'task', id, jsonb_build_object('name', name, 'node', node_id,"
    "  'kind', kind), $9 FROM t)"
    " SELECT n.visible, n.revoked, (SELECT id FROM t) FROM n";

/* Edit: name and spec together; the kind stays what it was created as. */
static const char *sql_edit =
    "WITH t AS (UPDATE tasks SET name = $2, spec = $3::jsonb,"
    "  updated_at = now() WHERE id = $1::bigint AND kind = $4"
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
		return (KORE_RESULT_OK);
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

static int
tasks_create(struct http_request *req, struct api_ctx *c)
{
	enum api_step s;
	const char   *name, *kind, *vals[9];
	char	     *spec, nid[32], uid[32], remote[64];
	int64_t	      node;
	int	      has_node, rc;

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
	api_remote_addr(req, remote, sizeof(remote));
	vals[0] = nid;
	vals[1] = c->who.admin ? "true" : "false";
	vals[2] = uid;
	vals[3] = auth_level_node(&c->who, node) == AUTH_LEVEL_OPERATE
	    ? "true"
	    : "false";
	vals[4] = name;
	vals[5] = kind;
	vals[6] = spec;
	vals[7] = c->claims.sub;
	vals[8] = remote;
	s = api_db(req, c, sql_create, 9, vals, "task_exists");
	free(spec);
	if (s != API_GO)
		return (api_return(s));
	if (api_rows(c) == 0 || strcmp(api_val(c, 0, 0), "t") != 0)
		rc =
		    api_error(req, 404, "not_found", "no such node", "node_id");
	else if (strcmp(api_val(c, 0, 1), "t") == 0)
		rc = api_error(req, 409, "node_revoked", "the node is revoked",
		    "node_id");
	else if (api_val(c, 0, 2) == NULL)
		rc = api_error(req, 403, "forbidden",
		    "you may view this node but not operate it", "node_id");
	else {
		/* Answer with the stored task, as GET would. */
		c->id = api_val_int(c, 0, 2);
		c->step = TASK_READ;
		api_db_clear(c);
		return (task_get(req, c, c->id));
	}
	api_db_clear(c);
	return (rc);
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
 * PUT /api/v1/tasks/{id} {"name", "spec"}: load the task (visibility,
 * node, kind), check operate, then write name and spec together.
 */
static int
task_edit(struct http_request *req, struct api_ctx *c, int64_t id)
{
	enum api_step s;
	const char   *name, *kind, *vals[7];
	char	     *spec, tid[32], uid[32], remote[64];
	json_t	     *row;
	int64_t	      node;
	int	      rc;

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
		if ((s = api_db(req, c, sql_get, 3, vals, NULL)) != API_GO) {
			free(spec);
			return (api_return(s));
		}
		if (api_rows(c) == 0) {
			free(spec);
			api_db_clear(c);
			return (api_error(req, 404, "not_found", "no such task",
			    NULL));
		}
		node = api_val_int(c, 0, 1);
		row = api_val_json(c, 0, 0);
		rc = row != NULL &&
		    strcmp(json_string_value(json_object_get(row, "kind")),
			kind) == 0;
		json_decref(row);
		api_db_clear(c);
		if (auth_level_task(&c->who, id, node) != AUTH_LEVEL_OPERATE) {
			free(spec);
			return (api_error(req, 403, "forbidden",
			    "you may view this task but not change it", NULL));
		}
		if (!rc) {
			free(spec);
			return (api_error(req, 400, "bad_request",
			    "a task's kind cannot change: create another task",
			    "spec.kind"));
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
	s = api_db(req, c, sql_edit, 7, vals, "task_exists");
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
