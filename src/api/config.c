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

#define CFG_PREFIX	"/api/v1/tasks/"
#define CFG_COMMENT_MAX 500
#define CFG_PREVIEW_MAX (1024 * 1024)
#define CFG_CONTEXT	2
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
static int bad(struct http_request *, const char *, enum agentproto_code,
    int64_t, const char *, const char *, const char *, ...)
    __attribute__((format(printf, 7, 8)));
static int  body_json(struct http_request *, struct api_ctx *, size_t);
static int  keeps_check(struct http_request *, struct config_flow *,
     const char *);
static int  level_answer(struct http_request *, enum auth_level, const char *);
static void import_reply(struct http_request *, struct api_ctx *);

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

/* A 400 with one refused field: code, max (< 0: none), a named argument
 * and a formatted message; returns 0. */
static int
bad(struct http_request *req, const char *field, enum agentproto_code code,
    int64_t max, const char *arg_name, const char *arg, const char *fmt, ...)
{
	struct agentproto_err e;
	va_list		      ap;
	char		      msg[512];

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	agentproto_err_clear(&e);
	agentproto_err_add(&e, "", field, code, max >= 0 ? AGENTPROTO_F_MAX : 0,
	    0, max >= 0 ? max : 0, arg_name, arg, "%s", msg);
	/* The whole sentence as message (e.msg is shorter). */
	api_error_fields_as(req, &e, field, msg);
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
	char	     msg[96];

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
	if (c->body == NULL) {
		/* Only where: jansson's text quotes the input near the
		 * error, which may be a secret. */
		(void)snprintf(msg, sizeof(msg),
		    "the body is not JSON (line %d, column %d)", jerr.line,
		    jerr.column);
		api_error(req, 400, "bad_json", msg, NULL);
		return (0);
	}
	if (!json_is_object(c->body)) {
		api_error(req, 400, "bad_json",
		    "the body must be a JSON object", NULL);
		return (0);
	}
	return (1);
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
	struct api_ctx	      *c = api_ctx_get(req);
	struct config_flow    *f = flow_get(c);
	struct auth_cfgdoc_err derr;
	const char	      *p, *raw;
	char		      *end;
	json_t		      *v;
	size_t		       len;
	int		       get, post;

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
					    json_is_string(v)
						? AGENTPROTO_C_TOO_LONG
						: AGENTPROTO_C_TYPE,
					    json_is_string(v) ? CFG_COMMENT_MAX
							      : -1,
					    json_is_string(v) ? NULL
							      : "expected",
					    json_is_string(v) ? NULL : "string",
					    "comment must be a string of at "
					    "most %d bytes",
					    CFG_COMMENT_MAX)));
				f->comment = json_string_value(v);
			}
		}
		req->fsm_state = CONFIG_CHECK;
		break;
	case CFG_OP_PUT:
		if (!body_json(req, c, CFG_BODY_MAX))
			return (HTTP_STATE_COMPLETE);
		if (!auth_cfgdoc_build(c->body, app.config_key, f->task,
			&f->doc, &f->comment, &derr))
			/* Every refusal; field and message the first's. */
			return (API_FIN(api_error_fields_as(req, &derr.all,
			    derr.field, derr.msg)));
		req->fsm_state = CONFIG_CHECK;
		break;
	}
	return (HTTP_STATE_CONTINUE);
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
			return (bad(req, field, AGENTPROTO_C_REQUIRED, -1, NULL,
			    NULL,
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
		out = auth_cfgdoc_view(meta, doc);
		(void)json_object_set_new(out, "diff",
		    auth_cfgdoc_diff(doc, prev, app.config_key, f->task));
	}
	json_decref(meta);
	json_decref(doc);
	json_decref(prev);
	return (API_FIN(api_reply_json(req, 200, out)));
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
			if (auth_cfgdoc_key_ok(k, strlen(k)))
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
	struct api_ctx	     *c = api_ctx_get(req);
	struct cfgedit_edit   ed;
	struct agentproto_err e;
	enum cfgedit_format   fmt;
	json_t		     *b64, *format, *np, *val, *out;
	uint8_t		     *in;
	char		     *res, err[CFGEDIT_ERR_MAX];
	size_t		      inlen, reslen, line, i, endin, lastin, lastout;
	int		      fmt_ok;

	if (!body_json(req, c, CFG_PREVIEW_MAX / 3 * 4 + 64 * 1024))
		return (HTTP_STATE_COMPLETE);
	b64 = json_object_get(c->body, "content_base64");
	format = json_object_get(c->body, "format");
	np = json_object_get(c->body, "nodepath");
	val = json_object_get(c->body, "value");
	/* Every member checked, the refusals answered together. */
	agentproto_err_clear(&e);
	fmt_ok = json_is_string(format) &&
	    cfgedit_format_parse(json_string_value(format), &fmt) == 0;
	if (!fmt_ok)
		agentproto_err_add(&e, "", "format", AGENTPROTO_C_ENUM, 0, 0, 0,
		    "allowed", "xml,json,properties",
		    "format must be xml, json or properties");
	if (!json_is_string(np))
		agentproto_err_add(&e, "", "nodepath",
		    np == NULL ? AGENTPROTO_C_REQUIRED : AGENTPROTO_C_TYPE, 0,
		    0, 0, np == NULL ? NULL : "expected", "string",
		    "nodepath must be a string of at most %d bytes",
		    CFGEDIT_PATH_MAX);
	else if (json_string_length(np) > CFGEDIT_PATH_MAX)
		agentproto_err_add(&e, "", "nodepath", AGENTPROTO_C_TOO_LONG,
		    AGENTPROTO_F_MAX, 0, CFGEDIT_PATH_MAX, NULL, NULL,
		    "nodepath must be a string of at most %d bytes",
		    CFGEDIT_PATH_MAX);
	else if (strlen(json_string_value(np)) != json_string_length(np))
		agentproto_err_add(&e, "", "nodepath", AGENTPROTO_C_FORMAT, 0,
		    0, 0, "expected", "text",
		    "nodepath must be a string of at most %d bytes",
		    CFGEDIT_PATH_MAX);
	else if (fmt_ok &&
	    cfgedit_path_check(fmt, json_string_value(np), err, sizeof(err)) !=
		0)
		agentproto_err_add(&e, "", "nodepath", AGENTPROTO_C_INVALID, 0,
		    0, 0, NULL, NULL, "nodepath: %.100s", err);
	if (!json_is_string(val))
		agentproto_err_add(&e, "", "value",
		    val == NULL ? AGENTPROTO_C_REQUIRED : AGENTPROTO_C_TYPE, 0,
		    0, 0, val == NULL ? NULL : "expected", "string",
		    "value must be a string of at most %d bytes",
		    AGENTPROTO_CFG_VALUE_MAX);
	else if (json_string_length(val) > AGENTPROTO_CFG_VALUE_MAX)
		agentproto_err_add(&e, "", "value", AGENTPROTO_C_TOO_LONG,
		    AGENTPROTO_F_MAX, 0, AGENTPROTO_CFG_VALUE_MAX, NULL, NULL,
		    "value must be a string of at most %d bytes",
		    AGENTPROTO_CFG_VALUE_MAX);
	in = NULL;
	inlen = 0;
	if (!json_is_string(b64))
		agentproto_err_add(&e, "", "content_base64",
		    b64 == NULL ? AGENTPROTO_C_REQUIRED : AGENTPROTO_C_TYPE, 0,
		    0, 0, b64 == NULL ? NULL : "expected", "string",
		    "content_base64 must be standard base64 (with padding)");
	else if (!agentproto_b64_decode(json_string_value(b64),
		     json_string_length(b64), &in, &inlen)) {
		in = NULL;
		agentproto_err_add(&e, "", "content_base64",
		    AGENTPROTO_C_FORMAT, 0, 0, 0, "expected", "base64",
		    "content_base64 must be standard base64 (with padding)");
	} else if (inlen > CFG_PREVIEW_MAX)
		agentproto_err_add(&e, "", "content_base64",
		    AGENTPROTO_C_TOO_LONG, AGENTPROTO_F_MAX, 0, CFG_PREVIEW_MAX,
		    NULL, NULL, "content_base64: at most %d bytes",
		    CFG_PREVIEW_MAX);
	if (e.nf > 0 || e.lost > 0) {
		free(in);
		return (API_FIN(api_error_fields(req, &e)));
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
	    auth_cfgdoc_lines((const char *)in, inlen,
		line > CFG_CONTEXT ? line - CFG_CONTEXT : 1,
		lastin + CFG_CONTEXT),
	    "after",
	    auth_cfgdoc_lines(res, reslen,
		line > CFG_CONTEXT ? line - CFG_CONTEXT : 1,
		lastout + CFG_CONTEXT));
	free(in);
	free(res);
	return (API_FIN(api_reply_json(req, 200, out)));
}

/* Delivery (agent.c): the secrets of a command payload in clear. */
int
api_config_reveal(json_t *payload, char *err, size_t errlen)
{
	return (auth_cfgdoc_reveal(payload, app.config_key, err, errlen));
}
