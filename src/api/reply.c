/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * JSON replies, all with the API's security headers: a value, nothing, an
 * error naming its code (and the offending field), and the two shapes a
 * statement answers directly, a page of a list and one row.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <jansson.h>

#include "agentproto/agentproto.h"
#include "api/api.h"
#include "store/store.h"

static void api_headers(struct http_request *);
static int  fields_reply(struct http_request *, const char *,
     const struct agentproto_err *, const char *, const char *);

static void
api_headers(struct http_request *req)
{
	http_response_header(req, "content-type",
	    "application/json; charset=utf-8");
	http_response_header(req, "cache-control", "no-store");
	http_response_header(req, "x-content-type-options", "nosniff");
	http_response_header(req, "referrer-policy", "no-referrer");
	/* API answers are never framed. */
	http_response_header(req, "content-security-policy",
	    "default-src 'none'; frame-ancestors 'none'");
	http_response_header(req, "x-frame-options", "DENY");
}

int
api_reply_json(struct http_request *req, int status, json_t *j)
{
	char *s;

	if (j == NULL) {
		api_headers(req);
		http_response(req, 500, "{\"error\":\"internal\"}", 20);
		return (KORE_RESULT_OK);
	}
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	api_headers(req);
	if (s == NULL) {
		http_response(req, 500, "{\"error\":\"internal\"}", 20);
		return (KORE_RESULT_OK);
	}
	http_response(req, status, s, strlen(s));
	free(s);
	return (KORE_RESULT_OK);
}

int
api_reply_empty(struct http_request *req, int status)
{
	api_headers(req);
	http_response(req, status, NULL, 0);
	return (KORE_RESULT_OK);
}

int
api_error(struct http_request *req, int status, const char *code,
    const char *message, const char *field)
{
	json_t *j;

	j = json_pack("{s:s}", "error", code);
	if (j != NULL && message != NULL)
		json_object_set_new(j, "message", json_string(message));
	if (j != NULL && field != NULL)
		json_object_set_new(j, "field", json_string(field));
	if (status == 503)
		http_response_header(req, "retry-after", "2");
	return (api_reply_json(req, status, j));
}

/* One refusal as {"field","code",params…}. */
static json_t *
ferr_json(const struct agentproto_ferr *f)
{
	json_t	   *j, *a;
	const char *p, *e;

	j = json_pack("{s:s,s:s}", "field", f->field, "code",
	    agentproto_code_name((enum agentproto_code)f->code));
	if (j == NULL)
		return (NULL);
	if (f->flags & AGENTPROTO_F_MIN)
		json_object_set_new(j, "min", json_integer(f->min));
	if (f->flags & AGENTPROTO_F_MAX)
		json_object_set_new(j, "max", json_integer(f->max));
	if (f->arg_name == NULL)
		return (j);
	if (strcmp(f->arg_name, "allowed") != 0) {
		json_object_set_new(j, f->arg_name, json_string(f->arg));
		return (j);
	}
	/* "a,b,c" as ["a","b","c"]. */
	if ((a = json_array()) == NULL)
		return (j);
	for (p = f->arg; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		json_array_append_new(a, json_stringn(p, (size_t)(e - p)));
	}
	json_object_set_new(j, "allowed", a);
	return (j);
}

int
api_error_fields(struct http_request *req, const struct agentproto_err *e)
{
	return (api_error_fields_as(req, e, e->field, e->msg));
}

int
api_error_fields_as(struct http_request *req, const struct agentproto_err *e,
    const char *field, const char *msg)
{
	return (fields_reply(req, "bad_request", e, field, msg));
}

int
api_error_fields_code(struct http_request *req, const char *code,
    const struct agentproto_err *e)
{
	return (fields_reply(req, code, e, e->field, e->msg));
}

/* 400 with error code, e's refusals in "fields", field and msg first. */
static int
fields_reply(struct http_request *req, const char *code,
    const struct agentproto_err *e, const char *field, const char *msg)
{
	json_t *j, *a;
	size_t	i;

	if (e->nf == 0)
		return (api_error(req, 400, code, msg[0] != '\0' ? msg : NULL,
		    field[0] != '\0' ? field : NULL));
	j = json_pack("{s:s,s:s}", "error", code, "message", msg);
	if (j != NULL && field[0] != '\0')
		json_object_set_new(j, "field", json_string(field));
	if (j == NULL || (a = json_array()) == NULL) {
		json_decref(j);
		return (api_reply_json(req, 500, NULL));
	}
	for (i = 0; i < e->nf && i < AGENTPROTO_FERR_MAX; i++)
		json_array_append_new(a, ferr_json(&e->f[i]));
	json_object_set_new(j, "fields", a);
	if (e->lost > 0)
		json_object_set_new(j, "fields_lost",
		    json_integer((json_int_t)e->lost));
	return (api_reply_json(req, 400, j));
}

int
api_error_field(struct http_request *req, const char *field, int code,
    const char *arg_name, const char *arg, const char *msg)
{
	struct agentproto_err e;

	agentproto_err_clear(&e);
	agentproto_err_add(&e, "", field, (enum agentproto_code)code, 0, 0, 0,
	    arg_name, arg, "%s", msg);
	return (api_error_fields(req, &e));
}

void
api_err_merge(struct agentproto_err *dst, const struct agentproto_err *src,
    const char *prefix)
{
	struct agentproto_ferr *f;
	size_t			i;
	int			n;

	/* A path too long for the field is cut: it still names the start. */
	if (dst->nf == 0 && dst->lost == 0 && src->msg[0] != '\0') {
		n = snprintf(dst->field, sizeof(dst->field), "%s%s%s", prefix,
		    src->field[0] != '\0' ? "." : "", src->field);
		if (n < 0)
			dst->field[0] = '\0';
		memcpy(dst->msg, src->msg, sizeof(dst->msg));
	}
	for (i = 0; i < src->nf && i < AGENTPROTO_FERR_MAX; i++) {
		if (dst->nf >= AGENTPROTO_FERR_MAX) {
			dst->lost++;
			continue;
		}
		f = &dst->f[dst->nf++];
		*f = src->f[i];
		n = snprintf(f->field, sizeof(f->field), "%s%s%s", prefix,
		    src->f[i].field[0] != '\0' ? "." : "", src->f[i].field);
		if (n < 0)
			f->field[0] = '\0';
	}
	dst->lost += src->lost;
}

int
api_not_found(struct http_request *req)
{
	return (api_error(req, 404, "not_found", "no such resource", NULL));
}

int
api_reply_list(struct http_request *req, struct api_ctx *c, int64_t limit)
{
	struct kore_buf b;
	int		i, n;
	const char     *v;

	/* Rows are (json text, id); one row past limit means "more". */
	n = store_rows(c->q);
	kore_buf_init(&b, 4096);
	kore_buf_append(&b, "{\"items\":[", 10);
	for (i = 0; i < n && i < limit; i++) {
		if (i > 0)
			kore_buf_append(&b, ",", 1);
		if ((v = store_val(c->q, i, 0)) == NULL)
			v = "null";
		kore_buf_append(&b, v, strlen(v));
	}
	if (n > limit)
		kore_buf_appendf(&b, "],\"next\":\"%s\"}",
		    store_val(c->q, (int)limit - 1, 1));
	else
		kore_buf_append(&b, "],\"next\":null}", 14);
	store_clear(c->q);
	api_headers(req);
	http_response(req, 200, b.data, b.offset);
	kore_buf_cleanup(&b);
	return (KORE_RESULT_OK);
}

int
api_reply_row(struct http_request *req, struct api_ctx *c, int status)
{
	const char *v;

	/* The statement answers one json text column. */
	if (store_rows(c->q) < 1 || (v = store_val(c->q, 0, 0)) == NULL) {
		store_clear(c->q);
		return (api_not_found(req));
	}
	api_headers(req);
	http_response(req, status, v, strlen(v));
	store_clear(c->q);
	return (KORE_RESULT_OK);
}
