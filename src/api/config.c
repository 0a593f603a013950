/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * A task's configuration (docs/api.md, "Configuration"): read it, save a
 * version (validated in full first; secret values encrypted here, never
 * answered, logged or audited), list and read versions with their diff,
 * restore one, import and export .properties text, and preview a mapping
 * on a file's bytes.  Statements: src/store/config.c.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <jansson.h>

#include "app.h"
#include "api/api.h"
#include "agentproto/agentproto.h"
#include "cfgedit/cfgedit.h"

#define CFG_PREFIX	    "/api/v1/tasks/"
#define CFG_COMMENT_MAX	    500
#define CFG_APOLLO_NAME_MAX 100
#define CFG_NAMESPACES_MAX  20
#define CFG_PREVIEW_MAX	    (1024 * 1024)
#define CFG_CONTEXT	    2
/* A PUT's body: the limits' worth of base64 and JSON. */
#define CFG_BODY_MAX ((size_t)AGENTPROTO_CFG_TOTAL_MAX / 3 * 4 + 1024 * 1024)

enum cfg_op {
	CFG_OP_GET = 0,
	CFG_OP_PUT,
	CFG_OP_VERSIONS,
	CFG_OP_VERSION,
	CFG_OP_RESTORE,
	CFG_OP_IMPORT,
	CFG_OP_EXPORT
};

struct config_flow {
	enum cfg_op op;
	int64_t	    task;
	int64_t	    version; /* versions/{n} */
	int64_t	    saved; /* the version a save made */
	int64_t	    limit, cursor;
	json_t	   *doc; /* PUT: the doc to store */
	char	   *doctext; /* json_dumps: free() */
	const char *comment; /* in c->body */
	char	    remote[64];
};

enum config_state {
	CONFIG_BEGIN = 0,
	CONFIG_ROUTE,
	CONFIG_CHECK, /* PUT, restore, import: level, stored secrets */
	CONFIG_SAVE,
	CONFIG_GET,
	CONFIG_VERSIONS,
	CONFIG_VERSION,
	CONFIG_EXPORT
};

static int config_begin(struct http_request *);
static int config_route(struct http_request *);
static int config_check(struct http_request *);
static int config_save(struct http_request *);
static int config_get(struct http_request *);
static int config_versions(struct http_request *);
static int config_version(struct http_request *);
static int config_export(struct http_request *);

static struct http_state config_states[] = {
	KORE_HTTP_STATE(config_begin),
	KORE_HTTP_STATE(config_route),
	KORE_HTTP_STATE(config_check),
	KORE_HTTP_STATE(config_save),
	KORE_HTTP_STATE(config_get),
	KORE_HTTP_STATE(config_versions),
	KORE_HTTP_STATE(config_version),
	KORE_HTTP_STATE(config_export),
};

enum preview_state { PREVIEW_BEGIN = 0, PREVIEW_RUN };

static int preview_begin(struct http_request *);
static int preview_run(struct http_request *);

static struct http_state preview_states[] = {
	KORE_HTTP_STATE(preview_begin),
	KORE_HTTP_STATE(preview_run),
};

static struct config_flow *flow_get(struct api_ctx *);
static void		   flow_free(void *);
static int bad(struct http_request *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static int body_json(struct http_request *, struct api_ctx *, size_t);
static int key_ok(const char *, size_t);
static int relpath_ok(const char *);
static int apollo_name_ok(const char *);
static int doc_build(struct http_request *, struct config_flow *, json_t *);
static int doc_values(struct http_request *, struct config_flow *, json_t *,
    json_t *);
static int doc_apollo(struct http_request *, json_t *, json_t *);
static int doc_mappings(struct http_request *, json_t *, json_t *);
static int doc_files(struct http_request *, json_t *, json_t *, size_t *);
static int keeps_check(struct http_request *, struct config_flow *,
    const char *);
static int level_answer(struct http_request *, enum auth_level, const char *);
static json_t *version_view(json_t *, json_t *);
static json_t *version_diff(int64_t, json_t *, json_t *);
static void    diff_add(json_t *, const char *, const char *, const char *,
       json_t *, json_t *);
static int     secret_same(int64_t, const char *, json_t *, json_t *);
static void    import_reply(struct http_request *, struct api_ctx *);
static json_t *utf8_json(const char *, size_t);
static json_t *lines_json(const char *, size_t, size_t, size_t);

static struct config_flow *
flow_get(struct api_ctx *c)
{
	return (api_flow(c, sizeof(struct config_flow), flow_free));
}

static void
flow_free(void *p)
{
	struct config_flow *f = p;

	json_decref(f->doc);
	f->doc = NULL;
	if (f->doctext != NULL) {
		/* The new secrets' ciphertexts only, but tidy all the same. */
		explicit_bzero(f->doctext, strlen(f->doctext));
		free(f->doctext);
		f->doctext = NULL;
	}
}

/* A 400 naming field, with a formatted message; returns 0. */
static int
bad(struct http_request *req, const char *field, const char *fmt, ...)
{
	va_list ap;
	char	msg[512];

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api_error(req, 400, "bad_request", msg, field);
	return (0);
}

/* The body as a JSON object in c->body, up to max bytes (the API's
 * usual limit is too small for files). */
static int
body_json(struct http_request *req, struct api_ctx *c, size_t max)
{
	json_error_t jerr;
	const char  *raw, *ctype;
	size_t	     len;

	if (c->body != NULL)
		return (1);
	if (!http_request_header(req, "content-type", &ctype) ||
	    strncasecmp(ctype, "application/json", 16) != 0) {
		api_error(req, 415, "unsupported_media_type",
		    "send application/json", NULL);
		return (0);
	}
	if (!api_body_raw(req, c, max, &raw, &len))
		return (0);
	c->body = json_loadb(raw, len, JSON_REJECT_DUPLICATES, &jerr);
	if (c->body == NULL || !json_is_object(c->body)) {
		api_error(req, 400, "bad_json",
		    c->body == NULL ? jerr.text
				    : "the body must be a JSON object",
		    NULL);
		return (0);
	}
	return (1);
}

/* A key: 1..AGENTPROTO_CFG_KEY_MAX bytes, no control characters. */
static int
key_ok(const char *k, size_t len)
{
	size_t i;

	if (len == 0 || len > AGENTPROTO_CFG_KEY_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		if ((unsigned char)k[i] < 0x20 || k[i] == 0x7f)
			return (0);
	}
	return (1);
}

/* A path inside the task's tree: relative, no "..", "." or empty
 * components, no backslash or control characters. */
static int
relpath_ok(const char *p)
{
	const char *s, *e;
	size_t	    len, i;

	len = strlen(p);
	if (len == 0 || len > AGENTPROTO_CFG_PATH_MAX || p[0] == '/')
		return (0);
	for (i = 0; i < len; i++) {
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\')
			return (0);
	}
	for (s = p; *s != '\0'; s = *e == '\0' ? e : e + 1) {
		e = strchr(s, '/');
		if (e == NULL)
			e = s + strlen(s);
		if (e == s || (e - s == 1 && s[0] == '.') ||
		    (e - s == 2 && s[0] == '.' && s[1] == '.'))
			return (0);
		if (*e == '/' && e[1] == '\0')
			return (0);
	}
	return (1);
}

static int
apollo_name_ok(const char *s)
{
	size_t len = strlen(s);

	return (len >= 1 && len <= CFG_APOLLO_NAME_MAX &&
	    strspn(s,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789_.-") == len);
}

int
api_task_config(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_PUT &&
	    req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(config_states, API_NSTATES(config_states), req));
}

static int
config_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, CONFIG_ROUTE));
}

/* Which operation (the route admits only the shapes below), and its
 * input, checked in full. */
static int
config_route(struct http_request *req)
{
	struct api_ctx	   *c = api_ctx_get(req);
	struct config_flow *f = flow_get(c);
	const char	   *p, *raw;
	char		   *end;
	json_t		   *v;
	size_t		    len;
	int		    get, post;

	get = req->method == HTTP_METHOD_GET;
	post = req->method == HTTP_METHOD_POST;
	f->task = strtoll(req->path + strlen(CFG_PREFIX), &end, 10);
	p = end + strlen("/config");
	api_remote_addr(req, f->remote, sizeof(f->remote));
	if (*p == '\0' && (get || req->method == HTTP_METHOD_PUT))
		f->op = get ? CFG_OP_GET : CFG_OP_PUT;
	else if (strcmp(p, "/versions") == 0 && get)
		f->op = CFG_OP_VERSIONS;
	else if (strcmp(p, "/import") == 0 && post)
		f->op = CFG_OP_IMPORT;
	else if (strcmp(p, "/export") == 0 && get)
		f->op = CFG_OP_EXPORT;
	else if (strncmp(p, "/versions/", 10) == 0) {
		f->version = strtoll(p + 10, &end, 10);
		if (f->version < 1 || f->version > INT32_MAX)
			return (API_FIN(api_not_found(req)));
		if (*end == '\0' && get)
			f->op = CFG_OP_VERSION;
		else if (strcmp(end, "/restore") == 0 && post)
			f->op = CFG_OP_RESTORE;
		else
			return (API_FIN(api_error(req, 405,
			    "method_not_allowed", NULL, NULL)));
	} else
		return (API_FIN(
		    api_error(req, 405, "method_not_allowed", NULL, NULL)));

	switch (f->op) {
	case CFG_OP_GET:
		req->fsm_state = CONFIG_GET;
		break;
	case CFG_OP_EXPORT:
		req->fsm_state = CONFIG_EXPORT;
		break;
	case CFG_OP_VERSION:
		req->fsm_state = CONFIG_VERSION;
		break;
	case CFG_OP_VERSIONS:
		if (!api_qs_page(req, &f->limit, &f->cursor))
			return (HTTP_STATE_COMPLETE);
		if (f->cursor > INT32_MAX)
			f->cursor = INT32_MAX;
		req->fsm_state = CONFIG_VERSIONS;
		break;
	case CFG_OP_IMPORT:
		/* Read (and limit) the text now; parsed after the check. */
		if (!api_body_raw(req, c, AGENTPROTO_CFG_FILE_MAX, &raw, &len))
			return (HTTP_STATE_COMPLETE);
		req->fsm_state = CONFIG_CHECK;
		break;
	case CFG_OP_RESTORE:
		f->comment = "";
		if (req->http_body_length > 0) {
			if (!body_json(req, c, API_BODY_MAX))
				return (HTTP_STATE_COMPLETE);
			v = json_object_get(c->body, "comment");
			if (v != NULL && !json_is_null(v)) {
				if (!json_is_string(v) ||
				    json_string_length(v) > CFG_COMMENT_MAX)
					return (API_FIN(bad(req, "comment",
					    "comment must be a string of at "
					    "most %d bytes",
					    CFG_COMMENT_MAX)));
				f->comment = json_string_value(v);
			}
		}
		req->fsm_state = CONFIG_CHECK;
		break;
	case CFG_OP_PUT:
		if (!body_json(req, c, CFG_BODY_MAX) ||
		    !doc_build(req, f, c->body))
			return (HTTP_STATE_COMPLETE);
		req->fsm_state = CONFIG_CHECK;
		break;
	}
	return (HTTP_STATE_CONTINUE);
}

/*
 * The new doc from a PUT body, every member checked (a 400 naming the
 * first bad one otherwise): values (secrets encrypted now; a secret
 * without a value is marked "keep"), apollo, mappings (each key has a
 * value, or Apollo may give it), files, env, properties_file, comment.
 * The members GET answers besides these are ignored.
 */
static int
doc_build(struct http_request *req, struct config_flow *f, json_t *body)
{
	static const char *known[] = { "values", "apollo", "mappings", "files",
		"env", "properties_file", "comment",
		/* read-only members of GET's answer */
		"task_id", "version", "author", "created_at", "restored_from",
		"level", NULL };
	const char	  *name;
	json_t		  *v, *doc;
	size_t		   i, total;

	json_object_foreach(body, name, v)
	{
		for (i = 0; known[i] != NULL; i++) {
			if (strcmp(known[i], name) == 0)
				break;
		}
		if (known[i] == NULL)
			return (bad(req, name,
			    "unknown member %.64s (values, apollo, mappings, "
			    "files, env, properties_file, comment)",
			    name));
	}
	if ((doc = json_object()) == NULL)
		return (bad(req, NULL, "out of memory"));
	f->doc = doc;
	if (!doc_values(req, f, body, doc) || !doc_apollo(req, body, doc) ||
	    !doc_mappings(req, body, doc) || !doc_files(req, body, doc, &total))
		return (0);

	v = json_object_get(body, "env");
	if (v != NULL && !json_is_null(v) && !json_is_boolean(v))
		return (bad(req, "env", "env must be true or false"));
	(void)json_object_set_new(doc, "env", json_boolean(json_is_true(v)));

	v = json_object_get(body, "properties_file");
	if (v != NULL && !json_is_null(v) &&
	    (!json_is_string(v) || !relpath_ok(json_string_value(v))))
		return (bad(req, "properties_file",
		    "properties_file must be null or a relative path of at "
		    "most %d bytes without \"..\", \".\" or empty components",
		    AGENTPROTO_CFG_PATH_MAX));
	(void)json_object_set_new(doc, "properties_file",
	    v != NULL && json_is_string(v) ? json_deep_copy(v) : json_null());

	f->comment = "";
	v = json_object_get(body, "comment");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) ||
		    json_string_length(v) > CFG_COMMENT_MAX)
			return (bad(req, "comment",
			    "comment must be a string of at most %d bytes",
			    CFG_COMMENT_MAX));
		f->comment = json_string_value(v);
	}
	if (total > AGENTPROTO_CFG_TOTAL_MAX)
		return (bad(req, NULL,
		    "the configuration is larger than %d bytes in all",
		    AGENTPROTO_CFG_TOTAL_MAX));
	return (1);
}

static int
doc_values(struct http_request *req, struct config_flow *f, json_t *body,
    json_t *doc)
{
	json_t	   *arr, *e, *v, *s, *out, *seen, *o;
	const char *k;
	char	    field[64], *enc;
	size_t	    i;

	arr = json_object_get(body, "values");
	if (arr == NULL || json_is_null(arr))
		arr = NULL;
	else if (!json_is_array(arr))
		return (bad(req, "values", "values must be an array"));
	if (arr != NULL && json_array_size(arr) > AGENTPROTO_CFG_VALUES_MAX)
		return (bad(req, "values", "at most %d values",
		    AGENTPROTO_CFG_VALUES_MAX));
	out = json_array();
	seen = json_object();
	(void)json_object_set_new(doc, "values", out);
	json_array_foreach(arr, i, e)
	{
		(void)snprintf(field, sizeof(field), "values[%zu]", i);
		if (!json_is_object(e)) {
			json_decref(seen);
			return (bad(req, field, "%s must be an object", field));
		}
		(void)snprintf(field, sizeof(field), "values[%zu].key", i);
		v = json_object_get(e, "key");
		if (!json_is_string(v) ||
		    !key_ok(json_string_value(v), json_string_length(v))) {
			json_decref(seen);
			return (bad(req, field,
			    "%s must be a string of 1 to %d bytes without "
			    "control characters",
			    field, AGENTPROTO_CFG_KEY_MAX));
		}
		k = json_string_value(v);
		if (json_object_get(seen, k) != NULL) {
			json_decref(seen);
			return (bad(req, field, "%s: key %.200s is given twice",
			    field, k));
		}
		(void)json_object_set_new(seen, k, json_true());
		s = json_object_get(e, "secret");
		if (s != NULL && !json_is_null(s) && !json_is_boolean(s)) {
			json_decref(seen);
			(void)snprintf(field, sizeof(field),
			    "values[%zu].secret", i);
			return (
			    bad(req, field, "%s must be true or false", field));
		}
		(void)snprintf(field, sizeof(field), "values[%zu].value", i);
		v = json_object_get(e, "value");
		if (v != NULL && !json_is_null(v) &&
		    (!json_is_string(v) ||
			json_string_length(v) > AGENTPROTO_CFG_VALUE_MAX)) {
			json_decref(seen);
			return (bad(req, field,
			    "%s must be a string of at most %d bytes", field,
			    AGENTPROTO_CFG_VALUE_MAX));
		}
		if (!json_is_true(s)) {
			if (!json_is_string(v)) {
				json_decref(seen);
				return (bad(req, field,
				    "%s is required (only a secret keeps its "
				    "stored value when it has none)",
				    field));
			}
			o = json_pack("{s:s,s:O,s:b}", "key", k, "value", v,
			    "secret", 0);
		} else if (!json_is_string(v)) {
			o = json_pack("{s:s,s:b,s:b}", "key", k, "secret", 1,
			    "keep", 1);
		} else {
			enc = auth_cfg_encrypt(app.config_key, f->task, k,
			    json_string_value(v), json_string_length(v));
			if (enc == NULL) {
				json_decref(seen);
				return (bad(req, field, "cannot encrypt"));
			}
			o = json_pack("{s:s,s:s,s:b}", "key", k, "enc", enc,
			    "secret", 1);
			free(enc);
		}
		if (o == NULL) {
			json_decref(seen);
			return (bad(req, field, "out of memory"));
		}
		(void)json_array_append_new(out, o);
	}
	json_decref(seen);
	return (1);
}

static int
doc_apollo(struct http_request *req, json_t *body, json_t *doc)
{
	json_t	   *a, *v, *ns, *out, *e;
	const char *name;
	char	    field[64];
	size_t	    i;

	a = json_object_get(body, "apollo");
	if (a == NULL || json_is_null(a)) {
		(void)json_object_set_new(doc, "apollo", json_null());
		return (1);
	}
	if (!json_is_object(a))
		return (bad(req, "apollo", "apollo must be null or an object"));
	json_object_foreach(a, name, v)
	{
		if (strcmp(name, "app_id") != 0 &&
		    strcmp(name, "cluster") != 0 &&
		    strcmp(name, "namespaces") != 0 &&
		    strcmp(name, "auto_apply") != 0 &&
		    strcmp(name, "auto_restart") != 0 &&
		    strcmp(name, "status") != 0) {
			(void)snprintf(field, sizeof(field), "apollo.%.40s",
			    name);
			return (bad(req, field, "unknown member %s", field));
		}
	}
	out = json_object();
	(void)json_object_set_new(doc, "apollo", out);
	for (i = 0; i < 2; i++) {
		name = i == 0 ? "app_id" : "cluster";
		(void)snprintf(field, sizeof(field), "apollo.%s", name);
		v = json_object_get(a, name);
		if (!json_is_string(v) || !apollo_name_ok(json_string_value(v)))
			return (bad(req, field,
			    "%s must be 1 to %d characters of "
			    "[A-Za-z0-9_.-]",
			    field, CFG_APOLLO_NAME_MAX));
		(void)json_object_set(out, name, v);
	}
	ns = json_object_get(a, "namespaces");
	if (!json_is_array(ns) || json_array_size(ns) < 1 ||
	    json_array_size(ns) > CFG_NAMESPACES_MAX)
		return (bad(req, "apollo.namespaces",
		    "apollo.namespaces must be an array of 1 to %d names",
		    CFG_NAMESPACES_MAX));
	json_array_foreach(ns, i, e)
	{
		if (!json_is_string(e) ||
		    !apollo_name_ok(json_string_value(e))) {
			(void)snprintf(field, sizeof(field),
			    "apollo.namespaces[%zu]", i);
			return (bad(req, field,
			    "%s must be 1 to %d characters of "
			    "[A-Za-z0-9_.-]",
			    field, CFG_APOLLO_NAME_MAX));
		}
	}
	(void)json_object_set(out, "namespaces", ns);
	for (i = 0; i < 2; i++) {
		name = i == 0 ? "auto_apply" : "auto_restart";
		(void)snprintf(field, sizeof(field), "apollo.%s", name);
		v = json_object_get(a, name);
		if (v != NULL && !json_is_null(v) && !json_is_boolean(v))
			return (
			    bad(req, field, "%s must be true or false", field));
		(void)json_object_set_new(out, name,
		    json_boolean(json_is_true(v)));
	}
	return (1);
}

static int
doc_mappings(struct http_request *req, json_t *body, json_t *doc)
{
	enum cfgedit_format fmt;
	json_t		   *arr, *e, *k, *file, *format, *np, *out, *vals, *x;
	char		    field[64], err[CFGEDIT_ERR_MAX];
	size_t		    i, j;
	int		    found, apollo;

	arr = json_object_get(body, "mappings");
	out = json_array();
	(void)json_object_set_new(doc, "mappings", out);
	if (arr == NULL || json_is_null(arr))
		return (1);
	if (!json_is_array(arr))
		return (bad(req, "mappings", "mappings must be an array"));
	if (json_array_size(arr) > AGENTPROTO_CFG_MAPPINGS_MAX)
		return (bad(req, "mappings", "at most %d mappings",
		    AGENTPROTO_CFG_MAPPINGS_MAX));
	vals = json_object_get(doc, "values");
	apollo = json_is_object(json_object_get(doc, "apollo"));
	json_array_foreach(arr, i, e)
	{
		(void)snprintf(field, sizeof(field), "mappings[%zu]", i);
		if (!json_is_object(e))
			return (bad(req, field, "%s must be an object", field));
		k = json_object_get(e, "key");
		file = json_object_get(e, "file");
		format = json_object_get(e, "format");
		np = json_object_get(e, "nodepath");
		(void)snprintf(field, sizeof(field), "mappings[%zu].key", i);
		if (!json_is_string(k) ||
		    !key_ok(json_string_value(k), json_string_length(k)))
			return (bad(req, field,
			    "%s must be a string of 1 to %d bytes without "
			    "control characters",
			    field, AGENTPROTO_CFG_KEY_MAX));
		found = 0;
		json_array_foreach(vals, j, x)
		{
			if (strcmp(json_string_value(json_object_get(x, "key")),
				json_string_value(k)) == 0)
				found = 1;
		}
		if (!found && !apollo)
			return (bad(req, field,
			    "%s: key %.200s has no value (give it one in "
			    "values, or take it from Apollo)",
			    field, json_string_value(k)));
		(void)snprintf(field, sizeof(field), "mappings[%zu].file", i);
		if (!json_is_string(file) ||
		    !relpath_ok(json_string_value(file)))
			return (bad(req, field,
			    "%s must be a relative path of at most %d bytes "
			    "without \"..\", \".\" or empty components",
			    field, AGENTPROTO_CFG_PATH_MAX));
		(void)snprintf(field, sizeof(field), "mappings[%zu].format", i);
		if (!json_is_string(format) ||
		    cfgedit_format_parse(json_string_value(format), &fmt) != 0)
			return (bad(req, field,
			    "%s must be xml, json or properties", field));
		(void)snprintf(field, sizeof(field), "mappings[%zu].nodepath",
		    i);
		if (!json_is_string(np) ||
		    json_string_length(np) > CFGEDIT_PATH_MAX ||
		    strlen(json_string_value(np)) != json_string_length(np))
			return (bad(req, field,
			    "%s must be a string of at most %d bytes", field,
			    CFGEDIT_PATH_MAX));
		if (cfgedit_path_check(fmt, json_string_value(np), err,
			sizeof(err)) != 0)
			return (bad(req, field, "%s: %s", field, err));
		(void)json_array_append_new(out,
		    json_pack("{s:O,s:O,s:s,s:O}", "key", k, "file", file,
			"format", cfgedit_format_name(fmt), "nodepath", np));
	}
	return (1);
}

static int
doc_files(struct http_request *req, json_t *body, json_t *doc, size_t *total)
{
	json_t	   *arr, *e, *p, *b, *out, *seen;
	const char *name;
	uint8_t	   *raw;
	size_t	    i, len;
	char	    field[64];

	*total = 0;
	arr = json_object_get(body, "files");
	out = json_array();
	(void)json_object_set_new(doc, "files", out);
	if (arr == NULL || json_is_null(arr))
		return (1);
	if (!json_is_array(arr))
		return (bad(req, "files", "files must be an array"));
	if (json_array_size(arr) > AGENTPROTO_CFG_FILES_MAX)
		return (bad(req, "files", "at most %d files",
		    AGENTPROTO_CFG_FILES_MAX));
	seen = json_object();
	json_array_foreach(arr, i, e)
	{
		(void)snprintf(field, sizeof(field), "files[%zu]", i);
		if (!json_is_object(e)) {
			json_decref(seen);
			return (bad(req, field, "%s must be an object", field));
		}
		json_object_foreach(e, name, p)
		{
			if (strcmp(name, "path") != 0 &&
			    strcmp(name, "content_base64") != 0 &&
			    strcmp(name, "size") != 0) {
				json_decref(seen);
				return (bad(req, field,
				    "%s: unknown member %.40s", field, name));
			}
		}
		p = json_object_get(e, "path");
		b = json_object_get(e, "content_base64");
		(void)snprintf(field, sizeof(field), "files[%zu].path", i);
		if (!json_is_string(p) || !relpath_ok(json_string_value(p))) {
			json_decref(seen);
			return (bad(req, field,
			    "%s must be a relative path of at most %d bytes "
			    "without \"..\", \".\" or empty components",
			    field, AGENTPROTO_CFG_PATH_MAX));
		}
		if (json_object_get(seen, json_string_value(p)) != NULL) {
			json_decref(seen);
			return (bad(req, field, "%s: %.200s is given twice",
			    field, json_string_value(p)));
		}
		(void)json_object_set_new(seen, json_string_value(p),
		    json_true());
		(void)snprintf(field, sizeof(field),
		    "files[%zu].content_base64", i);
		if (!json_is_string(b) ||
		    !auth_b64_decode(json_string_value(b),
			json_string_length(b), &raw, &len)) {
			json_decref(seen);
			return (bad(req, field,
			    "%s must be standard base64 (with padding)",
			    field));
		}
		free(raw);
		if (len > AGENTPROTO_CFG_FILE_MAX) {
			json_decref(seen);
			return (bad(req, field, "%s: at most %d bytes", field,
			    AGENTPROTO_CFG_FILE_MAX));
		}
		*total += len;
		(void)json_array_append_new(out,
		    json_pack("{s:O,s:O}", "path", p, "content_base64", b));
	}
	json_decref(seen);
	return (1);
}

/* 404 (invisible) or 403 (too low for manage), naming what was asked. */
static int
level_answer(struct http_request *req, enum auth_level lvl, const char *what)
{
	char msg[160];

	if (lvl == AUTH_LEVEL_NONE)
		return (api_error(req, 404, "not_found", "no such task", NULL));
	(void)snprintf(msg, sizeof(msg),
	    "you may %s this task but not manage it: %s needs manage",
	    auth_level_str(lvl), what);
	return (api_error(req, 403, "forbidden", msg, NULL));
}

/* Every secret that keeps its stored value has one (keys: a JSON array
 * of the latest version's secret keys). */
static int
keeps_check(struct http_request *req, struct config_flow *f, const char *keys)
{
	json_t *ks, *e, *k;
	size_t	i, j;
	int	found;
	char	field[64];

	ks = keys != NULL ? json_loads(keys, 0, NULL) : NULL;
	json_array_foreach(json_object_get(f->doc, "values"), i, e)
	{
		if (json_object_get(e, "keep") == NULL)
			continue;
		found = 0;
		json_array_foreach(ks, j, k)
		{
			if (strcmp(json_string_value(k),
				json_string_value(json_object_get(e, "key"))) ==
			    0)
				found = 1;
		}
		if (!found) {
			json_decref(ks);
			(void)snprintf(field, sizeof(field),
			    "values[%zu].value", i);
			return (bad(req, field,
			    "%s is required: key %.200s has no stored secret "
			    "to keep",
			    field,
			    json_string_value(json_object_get(e, "key"))));
		}
	}
	json_decref(ks);
	return (1);
}

static int
config_check(struct http_request *req)
{
	struct api_ctx	   *c = api_ctx_get(req);
	struct config_flow *f = flow_get(c);
	enum api_step	    s;
	enum auth_level	    lvl;
	int		    ok;

	s = api_store(req, c,
	    store_config_check(c->q, req, &c->who, f->task,
		f->op == CFG_OP_RESTORE ? f->version : 0),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	lvl = api_rows(c) == 1 ? (enum auth_level)api_val_int(c, 0, 0)
			       : AUTH_LEVEL_NONE;
	ok = 0;
	if (lvl < AUTH_LEVEL_MANAGE)
		(void)level_answer(req, lvl,
		    f->op == CFG_OP_PUT		 ? "saving a configuration"
			: f->op == CFG_OP_IMPORT ? "importing"
						 : "restoring a version");
	else if (f->op == CFG_OP_RESTORE && !store_val_bool(c->q, 0, 2))
		(void)api_error(req, 404, "not_found", "no such version", NULL);
	else if (f->op == CFG_OP_PUT)
		ok = keeps_check(req, f, api_val(c, 0, 1));
	else if (f->op == CFG_OP_IMPORT)
		import_reply(req, c);
	else
		ok = 1;
	api_db_clear(c);
	if (!ok)
		return (HTTP_STATE_COMPLETE);
	if (f->op == CFG_OP_PUT &&
	    (f->doctext = json_dumps(f->doc, JSON_COMPACT)) == NULL)
		return (API_FIN(api_error(req, 500, "internal", NULL, NULL)));
	req->fsm_state = CONFIG_SAVE;
	return (HTTP_STATE_CONTINUE);
}

static int
config_save(struct http_request *req)
{
	struct api_ctx		*c = api_ctx_get(req);
	struct config_flow	*f = flow_get(c);
	struct store_config_save w;
	enum api_step		 s;
	const char		*v;

	memset(&w, 0, sizeof(w));
	w.task = f->task;
	w.doc = f->doctext;
	w.comment = f->comment;
	w.restore = f->op == CFG_OP_RESTORE ? f->version : 0;
	w.actor_sub = c->claims.sub;
	w.remote = f->remote;
	s = api_store(req, c, store_config_save(c->q, req, &c->who, &w), NULL);
	if (s != API_GO)
		return (api_state(s));
	v = api_rows(c) == 1 ? api_val(c, 0, 0) : NULL;
	f->saved = v != NULL ? api_val_int(c, 0, 0) : 0;
	api_db_clear(c);
	if (v == NULL)
		return (API_FIN(api_error(req, 409, "conflict",
		    "the configuration changed meanwhile (or your level did): "
		    "nothing was saved; read it again",
		    NULL)));
	req->fsm_state = CONFIG_GET;
	return (HTTP_STATE_CONTINUE);
}

static int
config_get(struct http_request *req)
{
	struct api_ctx	   *c = api_ctx_get(req);
	struct config_flow *f = flow_get(c);
	enum api_step	    s;

	s = api_store(req, c,
	    store_config_get(c->q, req, &c->who, f->task, f->saved), NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) < 1) {
		api_db_clear(c);
		return (API_FIN(
		    api_error(req, 404, "not_found", "no such task", NULL)));
	}
	return (API_FIN(api_reply_row(req, c, 200)));
}

static int
config_versions(struct http_request *req)
{
	struct api_ctx	   *c = api_ctx_get(req);
	struct config_flow *f = flow_get(c);
	enum api_step	    s;

	s = api_store(req, c,
	    store_config_versions(c->q, req, &c->who, f->task, f->cursor,
		f->limit),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) < 1) {
		api_db_clear(c);
		return (API_FIN(
		    api_error(req, 404, "not_found", "no such task", NULL)));
	}
	return (API_FIN(api_reply_row(req, c, 200)));
}

static int
config_version(struct http_request *req)
{
	struct api_ctx	   *c = api_ctx_get(req);
	struct config_flow *f = flow_get(c);
	enum api_step	    s;
	json_t		   *meta, *doc, *prev, *out;

	s = api_store(req, c,
	    store_config_version(c->q, req, &c->who, f->task, f->version),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) < 1 || api_val(c, 0, 0) == NULL) {
		api_db_clear(c);
		return (API_FIN(api_error(req, 404, "not_found",
		    api_rows(c) < 1 ? "no such task" : "no such version",
		    NULL)));
	}
	meta = api_val_json(c, 0, 0);
	doc = api_val_json(c, 0, 1);
	prev = api_val(c, 0, 2) != NULL ? api_val_json(c, 0, 2) : NULL;
	api_db_clear(c);
	out = NULL;
	if (meta != NULL && doc != NULL) {
		out = version_view(meta, doc);
		(void)json_object_set_new(out, "diff",
		    version_diff(f->task, doc, prev));
	}
	json_decref(meta);
	json_decref(doc);
	json_decref(prev);
	return (API_FIN(api_reply_json(req, 200, out)));
}

/* A stored version as users see it: Yard's own values (secrets null). */
static json_t *
version_view(json_t *meta, json_t *doc)
{
	json_t	   *out, *vals, *files, *e, *o;
	size_t	    i, len;
	uint8_t	   *raw;
	const char *b;

	out = json_deep_copy(meta);
	vals = json_array();
	json_array_foreach(json_object_get(doc, "values"), i, e)
	{
		o = json_pack("{s:O,s:b,s:s}", "key", json_object_get(e, "key"),
		    "secret", json_is_true(json_object_get(e, "secret")),
		    "source", "yard");
		(void)json_object_set(o, "value",
		    json_is_true(json_object_get(e, "secret"))
			? json_null()
			: json_object_get(e, "value"));
		(void)json_array_append_new(vals, o);
	}
	(void)json_object_set_new(out, "values", vals);
	(void)json_object_set(out, "apollo", json_object_get(doc, "apollo"));
	(void)json_object_set(out, "mappings",
	    json_object_get(doc, "mappings"));
	files = json_array();
	json_array_foreach(json_object_get(doc, "files"), i, e)
	{
		b = json_string_value(json_object_get(e, "content_base64"));
		len = 0;
		if (b != NULL && auth_b64_decode(b, strlen(b), &raw, &len))
			free(raw);
		o = json_deep_copy(e);
		(void)json_object_set_new(o, "size",
		    json_integer((json_int_t)len));
		(void)json_array_append_new(files, o);
	}
	(void)json_object_set_new(out, "files", files);
	(void)json_object_set(out, "env", json_object_get(doc, "env"));
	(void)json_object_set(out, "properties_file",
	    json_object_get(doc, "properties_file"));
	return (out);
}

static void
diff_add(json_t *diff, const char *part, const char *name, const char *change,
    json_t *old, json_t *new)
{
	json_t *o;

	o = json_pack("{s:s,s:s,s:s}", "part", part, "name", name, "change",
	    change);
	(void)json_object_set_new(o, "old", old != NULL ? old : json_null());
	(void)json_object_set_new(o, "new", new != NULL ? new : json_null());
	(void)json_array_append_new(diff, o);
}

/* Two secret entries hold the same value (both decrypted and compared;
 * a value that does not decrypt counts as different). */
static int
secret_same(int64_t task, const char *k, json_t *a, json_t *b)
{
	const char *ea, *eb;
	char	   *pa, *pb;
	size_t	    la, lb;
	int	    same;

	ea = json_string_value(json_object_get(a, "enc"));
	eb = json_string_value(json_object_get(b, "enc"));
	if (ea == NULL || eb == NULL)
		return (0);
	if (strcmp(ea, eb) == 0)
		return (1);
	if (!auth_cfg_decrypt(app.config_key, task, k, ea, &pa, &la))
		return (0);
	if (!auth_cfg_decrypt(app.config_key, task, k, eb, &pb, &lb)) {
		auth_cfg_free(pa, la);
		return (0);
	}
	same = la == lb && memcmp(pa, pb, la) == 0;
	auth_cfg_free(pa, la);
	auth_cfg_free(pb, lb);
	return (same);
}

/* Name of a mapping in a diff: its target, "file:nodepath". */
#define MAP_NAME(buf, m) \
	(snprintf((buf), sizeof(buf), "%s:%s", \
	     json_string_value(json_object_get((m), "file")), \
	     json_string_value(json_object_get((m), "nodepath"))), \
	    (const char *)(buf))

static json_t *
version_diff(int64_t task, json_t *doc, json_t *prev)
{
	static const char *parts[] = { "values", "mappings", "files" };
	json_t		  *diff, *na, *pa, *e, *p, *ov, *nv;
	const char	  *k, *part, *idk;
	char		   name[2200], pname[2200];
	size_t		   i, j, x;
	int		   sec, psec, found;

	diff = json_array();
	for (x = 0; x < 3; x++) {
		na = json_object_get(doc, parts[x]);
		pa = prev != NULL ? json_object_get(prev, parts[x]) : NULL;
		part = x == 0 ? "value" : x == 1 ? "mapping" : "file";
		idk = x == 2 ? "path" : "key";
		json_array_foreach(na, i, e)
		{
			k = x == 1 ? MAP_NAME(name, e)
				   : json_string_value(json_object_get(e, idk));
			found = 0;
			json_array_foreach(pa, j, p)
			{
				if (strcmp(k,
					x == 1 ? MAP_NAME(pname, p)
					       : json_string_value(
						     json_object_get(p,
							 idk))) == 0) {
					found = 1;
					break;
				}
			}
			sec = json_is_true(json_object_get(e, "secret"));
			psec =
			    found && json_is_true(json_object_get(p, "secret"));
			if (x == 0) {
				nv = sec ? NULL
					 : json_deep_copy(
					       json_object_get(e, "value"));
				ov = !found || psec
				    ? NULL
				    : json_deep_copy(
					  json_object_get(p, "value"));
				if (!found)
					diff_add(diff, part, k, "added", NULL,
					    nv);
				else if (sec != psec ||
				    (sec ? !secret_same(task, k, e, p)
					 : !json_equal(e, p)))
					diff_add(diff, part, k, "changed", ov,
					    nv);
				else {
					json_decref(ov);
					json_decref(nv);
				}
			} else if (!found)
				diff_add(diff, part, k, "added", NULL,
				    json_deep_copy(e));
			else if (!json_equal(e, p))
				diff_add(diff, part, k, "changed",
				    json_deep_copy(p), json_deep_copy(e));
		}
		json_array_foreach(pa, j, p)
		{
			k = x == 1 ? MAP_NAME(pname, p)
				   : json_string_value(json_object_get(p, idk));
			found = 0;
			json_array_foreach(na, i, e)
			{
				if (strcmp(k,
					x == 1 ? MAP_NAME(name, e)
					       : json_string_value(
						     json_object_get(e,
							 idk))) == 0)
					found = 1;
			}
			if (found)
				continue;
			if (x == 0)
				diff_add(diff, part, k, "removed",
				    json_is_true(json_object_get(p, "secret"))
					? NULL
					: json_deep_copy(
					      json_object_get(p, "value")),
				    NULL);
			else
				diff_add(diff, part, k, "removed",
				    json_deep_copy(p), NULL);
		}
	}
	for (x = 0; x < 3; x++) {
		k = x == 0 ? "apollo" : x == 1 ? "env" : "properties_file";
		ov = prev != NULL ? json_object_get(prev, k) : NULL;
		nv = json_object_get(doc, k);
		if (ov == NULL)
			ov = json_null();
		if (nv == NULL)
			nv = json_null();
		if (json_equal(ov, nv) ||
		    (prev == NULL && (json_is_null(nv) || json_is_false(nv))))
			continue;
		/* A default (null, false) is no addition. */
		diff_add(diff, k, k,
		    prev == NULL || json_is_null(ov) ? "added"
			: json_is_null(nv)	     ? "removed"
						     : "changed",
		    json_deep_copy(ov), json_deep_copy(nv));
	}
	return (diff);
}

/* A string as JSON: UTF-8 as is, any other byte as U+FFFD. */
static json_t *
utf8_json(const char *s, size_t len)
{
	struct kore_buf b;
	json_t	       *j;
	size_t		i, n;
	unsigned char	c;

	if ((j = json_stringn(s, len)) != NULL)
		return (j);
	kore_buf_init(&b, len + 16);
	for (i = 0; i < len; i += n) {
		c = (unsigned char)s[i];
		n = c < 0x80		 ? 1
		    : (c & 0xe0) == 0xc0 ? 2
		    : (c & 0xf0) == 0xe0 ? 3
		    : (c & 0xf8) == 0xf0 ? 4
					 : 0;
		if (n == 0 || i + n > len ||
		    (j = json_stringn(s + i, n)) == NULL) {
			kore_buf_append(&b, "\xef\xbf\xbd", 3);
			n = 1;
			continue;
		}
		json_decref(j);
		kore_buf_append(&b, s + i, n);
	}
	j = json_stringn((const char *)b.data, b.offset);
	kore_buf_cleanup(&b);
	return (j != NULL ? j : json_string(""));
}

/* Lines first..last (1-based) of buf, without their line ends. */
static json_t *
lines_json(const char *buf, size_t len, size_t first, size_t last)
{
	json_t	   *arr;
	const char *s, *e, *end;
	size_t	    n, l;

	arr = json_array();
	end = buf + len;
	for (s = buf, n = 1; s <= end && n <= last; n++) {
		e = memchr(s, '\n', (size_t)(end - s));
		if (e == NULL)
			e = end;
		if (n >= first) {
			l = (size_t)(e - s);
			if (l > 0 && s[l - 1] == '\r')
				l--;
			(void)json_array_append_new(arr, utf8_json(s, l));
		}
		if (e == end)
			break;
		s = e + 1;
	}
	return (arr);
}

/* POST .../config/import: the .properties text's pairs, nothing saved. */
static void
import_reply(struct http_request *req, struct api_ctx *c)
{
	struct cfgedit_prop *props;
	json_t		    *vals, *k, *v;
	size_t		     n, i;
	char		     err[CFGEDIT_ERR_MAX], msg[CFGEDIT_ERR_MAX + 64];

	if (cfgedit_props_parse(c->raw, c->rawlen, &props, &n, err,
		sizeof(err)) != 0) {
		(void)snprintf(msg, sizeof(msg), "not a .properties file: %s",
		    err);
		(void)api_error(req, 422, "bad_properties", msg, NULL);
		return;
	}
	vals = json_array();
	for (i = 0; i < n; i++) {
		k = json_stringn(props[i].key, props[i].key_len);
		v = json_stringn(props[i].value, props[i].value_len);
		if (k == NULL || v == NULL) {
			json_decref(k);
			json_decref(v);
			json_decref(vals);
			cfgedit_props_free(props, n);
			(void)snprintf(msg, sizeof(msg),
			    "line %d: not valid UTF-8 (a lone surrogate?)",
			    props[i].line);
			(void)api_error(req, 422, "bad_properties", msg, NULL);
			return;
		}
		(void)json_array_append_new(vals,
		    json_pack("{s:o,s:o,s:i}", "key", k, "value", v, "line",
			props[i].line));
	}
	cfgedit_props_free(props, n);
	(void)api_reply_json(req, 200, json_pack("{s:o}", "values", vals));
}

/* GET .../config/export: the effective values as a .properties file,
 * secrets as comments. */
static int
config_export(struct http_request *req)
{
	struct api_ctx	    *c = api_ctx_get(req);
	struct config_flow  *f = flow_get(c);
	struct cfgedit_prop *props;
	struct kore_buf	     b;
	enum api_step	     s;
	json_t		    *cfg, *e;
	const char	    *k, *v;
	char		    *out, hdr[160], disp[96];
	size_t		     i, n, outlen;

	s = api_store(req, c,
	    store_config_effective(c->q, req, &c->who, f->task), NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) < 1) {
		api_db_clear(c);
		return (API_FIN(
		    api_error(req, 404, "not_found", "no such task", NULL)));
	}
	cfg = api_val(c, 0, 0) != NULL ? api_val_json(c, 0, 0) : NULL;
	api_db_clear(c);
	n = json_array_size(json_object_get(cfg, "values"));
	props = kore_calloc(n + 1, sizeof(*props));
	kore_buf_init(&b, 256);
	n = 0;
	json_array_foreach(json_object_get(cfg, "values"), i, e)
	{
		k = json_string_value(json_object_get(e, "key"));
		v = json_string_value(json_object_get(e, "value"));
		if (k == NULL)
			continue;
		if (json_is_true(json_object_get(e, "secret")) || v == NULL) {
			if (key_ok(k, strlen(k)))
				kore_buf_appendf(&b,
				    "# %s: secret, not exported\n", k);
			continue;
		}
		props[n].key = (char *)(uintptr_t)k;
		props[n].key_len = strlen(k);
		props[n].value = (char *)(uintptr_t)v;
		props[n].value_len =
		    json_string_length(json_object_get(e, "value"));
		n++;
	}
	(void)snprintf(hdr, sizeof(hdr),
	    "Yard task %lld configuration, version %lld", (long long)f->task,
	    (long long)json_integer_value(json_object_get(cfg, "version")));
	if (cfgedit_props_write(props, n, hdr, &out, &outlen) != 0) {
		kore_free(props);
		kore_buf_cleanup(&b);
		json_decref(cfg);
		return (API_FIN(api_error(req, 500, "internal",
		    "cannot write the .properties text", NULL)));
	}
	kore_buf_append(&b, out, outlen);
	free(out);
	kore_free(props);
	json_decref(cfg);
	(void)snprintf(disp, sizeof(disp),
	    "attachment; filename=\"task-%lld.properties\"",
	    (long long)f->task);
	http_response_header(req, "content-type", "text/plain; charset=utf-8");
	http_response_header(req, "content-disposition", disp);
	http_response_header(req, "cache-control", "no-store");
	http_response_header(req, "x-content-type-options", "nosniff");
	http_response(req, 200, b.data, b.offset);
	kore_buf_cleanup(&b);
	return (HTTP_STATE_COMPLETE);
}

/*
 * POST /api/v1/config/preview {"content_base64","format","nodepath",
 * "value"}: the mapping applied to the bytes given; the edited lines with
 * CFG_CONTEXT lines around them, before and after.
 */
int
api_config_preview(struct http_request *req)
{
	if (req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (
	    http_state_run(preview_states, API_NSTATES(preview_states), req));
}

static int
preview_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, PREVIEW_RUN));
}

static int
preview_run(struct http_request *req)
{
	struct api_ctx	   *c = api_ctx_get(req);
	struct cfgedit_edit ed;
	enum cfgedit_format fmt;
	json_t		   *b64, *format, *np, *val, *out;
	uint8_t		   *in;
	char		   *res, err[CFGEDIT_ERR_MAX];
	size_t		    inlen, reslen, line, i, endin, lastin, lastout;

	if (!body_json(req, c, CFG_PREVIEW_MAX / 3 * 4 + 64 * 1024))
		return (HTTP_STATE_COMPLETE);
	b64 = json_object_get(c->body, "content_base64");
	format = json_object_get(c->body, "format");
	np = json_object_get(c->body, "nodepath");
	val = json_object_get(c->body, "value");
	if (!json_is_string(format) ||
	    cfgedit_format_parse(json_string_value(format), &fmt) != 0)
		return (API_FIN(bad(req, "format",
		    "format must be xml, json or properties")));
	if (!json_is_string(np) || json_string_length(np) > CFGEDIT_PATH_MAX ||
	    strlen(json_string_value(np)) != json_string_length(np))
		return (API_FIN(bad(req, "nodepath",
		    "nodepath must be a string of at most %d bytes",
		    CFGEDIT_PATH_MAX)));
	if (cfgedit_path_check(fmt, json_string_value(np), err, sizeof(err)) !=
	    0)
		return (API_FIN(bad(req, "nodepath", "nodepath: %s", err)));
	if (!json_is_string(val) ||
	    json_string_length(val) > AGENTPROTO_CFG_VALUE_MAX)
		return (API_FIN(bad(req, "value",
		    "value must be a string of at most %d bytes",
		    AGENTPROTO_CFG_VALUE_MAX)));
	if (!json_is_string(b64) ||
	    !auth_b64_decode(json_string_value(b64), json_string_length(b64),
		&in, &inlen))
		return (API_FIN(bad(req, "content_base64",
		    "content_base64 must be standard base64 (with padding)")));
	if (inlen > CFG_PREVIEW_MAX) {
		free(in);
		return (API_FIN(bad(req, "content_base64",
		    "content_base64: at most %d bytes", CFG_PREVIEW_MAX)));
	}
	memset(&ed, 0, sizeof(ed));
	ed.path = json_string_value(np);
	ed.value = json_string_value(val);
	ed.value_len = json_string_length(val);
	if (cfgedit_apply(fmt, (const char *)in, inlen, &ed, 1, &res, &reslen,
		err, sizeof(err)) != 0) {
		free(in);
		return (
		    API_FIN(api_error(req, 422, "cannot_apply", err, NULL)));
	}
	/* Bytes before the edit are the same in both; so are those after
	 * it: the old value ends where the common tail starts. */
	line = 1;
	for (i = 0; i < ed.at && i < reslen; i++)
		line += res[i] == '\n';
	endin = inlen - (reslen - (ed.at + ed.len));
	lastin = line;
	for (i = ed.at; i < endin && i < inlen; i++)
		lastin += in[i] == '\n';
	lastout = line;
	for (i = ed.at; i < ed.at + ed.len && i < reslen; i++)
		lastout += res[i] == '\n';
	out = json_pack("{s:i,s:o,s:o}", "line", (int)line, "before",
	    lines_json((const char *)in, inlen,
		line > CFG_CONTEXT ? line - CFG_CONTEXT : 1,
		lastin + CFG_CONTEXT),
	    "after",
	    lines_json(res, reslen, line > CFG_CONTEXT ? line - CFG_CONTEXT : 1,
		lastout + CFG_CONTEXT));
	free(in);
	free(res);
	return (API_FIN(api_reply_json(req, 200, out)));
}

/*
 * Delivery (agent.c): every "enc" of a command payload's config.values
 * decrypted into "value", for one answer.  0 with err when one does not
 * decrypt (the key changed, the row was tampered with).
 */
int
api_config_reveal(json_t *payload, char *err, size_t errlen)
{
	json_t	   *cfg, *e, *s;
	const char *k, *enc;
	char	   *pt;
	size_t	    i, len;
	int64_t	    task;

	cfg = json_object_get(payload, "config");
	if (!json_is_object(cfg))
		return (1);
	task = json_integer_value(
	    json_object_get(json_object_get(payload, "task"), "id"));
	json_array_foreach(json_object_get(cfg, "values"), i, e)
	{
		enc = json_string_value(json_object_get(e, "enc"));
		if (enc == NULL)
			continue;
		k = json_string_value(json_object_get(e, "key"));
		if (k == NULL ||
		    !auth_cfg_decrypt(app.config_key, task, k, enc, &pt,
			&len)) {
			(void)snprintf(err, errlen,
			    "configuration: the secret value of key %.200s "
			    "cannot be decrypted with this server's "
			    "YARD_CONFIG_KEY_FILE",
			    k != NULL ? k : "?");
			return (0);
		}
		s = json_stringn(pt, len);
		auth_cfg_free(pt, len);
		if (s == NULL) {
			(void)snprintf(err, errlen,
			    "configuration: the secret value of key %.200s "
			    "is not UTF-8",
			    k);
			return (0);
		}
		(void)json_object_set_new(e, "value", s);
		(void)json_object_del(e, "enc");
	}
	return (1);
}
