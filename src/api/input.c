/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Reading a request: query-string values, the id in the path, the body
 * (read once) and its JSON members, and the peer's address.  Each checker
 * replies 400 (or 413) naming the offending field, with its code in
 * "fields" (docs/api.md, "Field errors"), and returns 0 on bad input, so
 * a handler only has to return.
 */

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <jansson.h>

#include "agentproto/agentproto.h"
#include "api/api.h"

static const char *qs_find(struct http_request *, const char *, char *, size_t,
    int *);
static int	   qs_check_int(struct http_request *, struct agentproto_err *,
	    const char *, int64_t, int64_t, int64_t, int64_t *);
static int	   qs_check_str(struct http_request *, struct agentproto_err *,
	    const char *, size_t, char *, size_t);
static int	   body_text_ok(const char *);

/* Find name in the query string; decode into buf.  NULL when absent, or
 * with *bad 1 when longer than len, 2 when it holds a %00. */
static const char *
qs_find(struct http_request *req, const char *name, char *buf, size_t len,
    int *bad)
{
	const char *p, *e, *v;
	size_t	    nl, o;
	int	    hi, lo;

	*bad = 0;
	if (req->query_string == NULL)
		return (NULL);
	nl = strlen(name);
	for (p = req->query_string; *p != '\0'; p = *e ? e + 1 : e) {
		if ((e = strchr(p, '&')) == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) <= nl || strncmp(p, name, nl) != 0 ||
		    p[nl] != '=')
			continue;
		o = 0;
		for (v = p + nl + 1; v < e; v++) {
			if (o + 1 >= len) {
				*bad = 1;
				return (NULL);
			}
			if (*v == '+') {
				buf[o++] = ' ';
			} else if (*v == '%' && e - v > 2 &&
			    isxdigit((unsigned char)v[1]) &&
			    isxdigit((unsigned char)v[2])) {
				hi = isdigit((unsigned char)v[1])
				    ? v[1] - '0'
				    : (tolower((unsigned char)v[1]) - 'a' + 10);
				lo = isdigit((unsigned char)v[2])
				    ? v[2] - '0'
				    : (tolower((unsigned char)v[2]) - 'a' + 10);
				buf[o++] = (char)(hi * 16 + lo);
				v += 2;
			} else {
				buf[o++] = *v;
			}
		}
		buf[o] = '\0';
		if (strlen(buf) != o)
			*bad = 2; /* %00 */
		return (*bad ? NULL : buf);
	}
	return (NULL);
}

/*
 * The query-string checks behind api_qs_int() and the others: a refusal
 * is added to e (and 0 returned), so a handler can answer several at
 * once; 1 otherwise.
 */
static int
qs_check_int(struct http_request *req, struct agentproto_err *e,
    const char *name, int64_t min, int64_t max, int64_t def, int64_t *out)
{
	char	    buf[32], *end;
	const char *v;
	long long   n;
	int	    bad;

	*out = def;
	if ((v = qs_find(req, name, buf, sizeof(buf), &bad)) == NULL) {
		if (!bad)
			return (1);
	} else {
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno == 0 && end != v && *end == '\0' && n >= min &&
		    n <= max) {
			*out = n;
			return (1);
		}
		/* A number, only outside min..max: a range, else a type. */
		bad = errno != 0 || end == v || *end != '\0';
	}
	agentproto_err_add(e, "", name,
	    bad ? AGENTPROTO_C_TYPE : AGENTPROTO_C_RANGE,
	    bad ? 0 : AGENTPROTO_F_MIN | AGENTPROTO_F_MAX, min, max,
	    bad ? "expected" : NULL, bad ? "integer" : NULL,
	    "%s must be an integer from %" PRId64 " to %" PRId64, name, min,
	    max);
	return (0);
}

static int
qs_check_str(struct http_request *req, struct agentproto_err *e,
    const char *name, size_t max, char *out, size_t outlen)
{
	const char *v;
	size_t	    i;
	int	    bad, ctl;

	out[0] = '\0';
	if (max + 1 > outlen)
		max = outlen - 1;
	if ((v = qs_find(req, name, out, max + 1, &bad)) == NULL && !bad)
		return (1);
	for (i = 0, ctl = 0; v != NULL && v[i] != '\0'; i++) {
		if ((unsigned char)v[i] < 0x20)
			ctl = 1;
	}
	if (!bad && !ctl)
		return (1);
	out[0] = '\0';
	/* A control character or %00 (bad 2) is not one line; bad 1 is
	 * longer than max. */
	ctl |= bad == 2;
	agentproto_err_add(e, "", name,
	    ctl ? AGENTPROTO_C_FORMAT : AGENTPROTO_C_TOO_LONG,
	    ctl ? 0 : AGENTPROTO_F_MAX, 0, (int64_t)max,
	    ctl ? "expected" : NULL, ctl ? "one_line" : NULL,
	    "%s: at most %zu characters, no control characters", name, max);
	return (0);
}

int
api_qs_int(struct http_request *req, const char *name, int64_t min, int64_t max,
    int64_t def, int64_t *out)
{
	struct agentproto_err e;

	agentproto_err_clear(&e);
	if (qs_check_int(req, &e, name, min, max, def, out))
		return (1);
	api_error_fields(req, &e);
	return (0);
}

int
api_qs_str(struct http_request *req, const char *name, size_t max, char *out,
    size_t outlen)
{
	struct agentproto_err e;

	agentproto_err_clear(&e);
	if (qs_check_str(req, &e, name, max, out, outlen))
		return (1);
	api_error_fields(req, &e);
	return (0);
}

int
api_qs_page(struct http_request *req, int64_t *limit, int64_t *cursor)
{
	struct agentproto_err e;
	int		      ok;

	/* Both checked: a bad limit and a bad cursor answer together. */
	agentproto_err_clear(&e);
	ok = qs_check_int(req, &e, "limit", 1, API_LIMIT_MAX, API_LIMIT_DEFAULT,
	    limit);
	ok &= qs_check_int(req, &e, "cursor", 0, INT64_MAX, 0, cursor);
	if (ok)
		return (1);
	api_error_fields(req, &e);
	return (0);
}

int
api_path_id(struct http_request *req, const char *prefix, int64_t *id)
{
	const char *p;
	char	   *end;
	long long   n;
	size_t	    len;

	len = strlen(prefix);
	if (strncmp(req->path, prefix, len) != 0)
		return (0);
	p = req->path + len;
	errno = 0;
	n = strtoll(p, &end, 10);
	if (errno != 0 || end == p || *end != '\0' || n <= 0)
		return (0);
	*id = n;
	return (1);
}

static int
body_text_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return (0);
	}
	return (1);
}

int
api_check_str(struct api_ctx *c, struct agentproto_err *e, const char *name,
    int required, size_t max, const char **out)
{
	json_t	   *v;
	const char *s;

	*out = NULL;
	v = json_object_get(c->body, name);
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return (1);
		agentproto_err_add(e, "", name, AGENTPROTO_C_REQUIRED, 0, 0, 0,
		    NULL, NULL, "%s is required", name);
		return (0);
	}
	if (!json_is_string(v)) {
		agentproto_err_add(e, "", name, AGENTPROTO_C_TYPE, 0, 0, 0,
		    "expected", "string",
		    "%s must be a %sstring of at most %zu bytes without "
		    "control characters",
		    name, required ? "non-empty " : "", max);
		return (0);
	}
	s = json_string_value(v);
	if (json_string_length(v) > max) {
		agentproto_err_add(e, "", name, AGENTPROTO_C_TOO_LONG,
		    AGENTPROTO_F_MAX, 0, (int64_t)max, NULL, NULL,
		    "%s must be a %sstring of at most %zu bytes without "
		    "control characters",
		    name, required ? "non-empty " : "", max);
		return (0);
	}
	if (strlen(s) != json_string_length(v) || !body_text_ok(s)) {
		agentproto_err_add(e, "", name, AGENTPROTO_C_FORMAT, 0, 0, 0,
		    "expected", "one_line",
		    "%s must be a %sstring of at most %zu bytes without "
		    "control characters",
		    name, required ? "non-empty " : "", max);
		return (0);
	}
	if (required && json_string_length(v) == 0) {
		agentproto_err_add(e, "", name, AGENTPROTO_C_REQUIRED, 0, 0, 0,
		    NULL, NULL,
		    "%s must be a non-empty string of at most %zu bytes "
		    "without control characters",
		    name, max);
		return (0);
	}
	*out = s;
	return (1);
}

int
api_body_str(struct http_request *req, struct api_ctx *c, const char *name,
    int required, size_t max, const char **out)
{
	struct agentproto_err e;

	agentproto_err_clear(&e);
	if (api_check_str(c, &e, name, required, max, out))
		return (1);
	api_error_fields(req, &e);
	return (0);
}

int
api_check_bool(struct api_ctx *c, struct agentproto_err *e, const char *name,
    int *present, int *out)
{
	json_t *v;

	*present = 0;
	if ((v = json_object_get(c->body, name)) == NULL)
		return (1);
	if (!json_is_boolean(v)) {
		agentproto_err_add(e, "", name, AGENTPROTO_C_TYPE, 0, 0, 0,
		    "expected", "boolean", "%s must be true or false", name);
		return (0);
	}
	*present = 1;
	*out = json_is_true(v);
	return (1);
}

int
api_body_bool(struct http_request *req, struct api_ctx *c, const char *name,
    int *present, int *out)
{
	struct agentproto_err e;

	agentproto_err_clear(&e);
	if (api_check_bool(c, &e, name, present, out))
		return (1);
	api_error_fields(req, &e);
	return (0);
}

int
api_check_id(struct api_ctx *c, struct agentproto_err *e, const char *name,
    int *present, int64_t *out)
{
	json_t *v;

	*present = 0;
	v = json_object_get(c->body, name);
	if (v == NULL || json_is_null(v))
		return (1);
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		agentproto_err_add(e, "", name, AGENTPROTO_C_TYPE, 0, 0, 0,
		    "expected", "id", "%s must be a positive integer", name);
		return (0);
	}
	*present = 1;
	*out = json_integer_value(v);
	return (1);
}

/*
 * A body naming exactly one of node_id and task_id (a grant's or a
 * mute's target): *node and *task are the id given, the other 0.
 */
int
api_check_target(struct api_ctx *c, struct agentproto_err *e, int64_t *node,
    int64_t *task)
{
	int has_node, has_task, ok_node, ok_task;

	*node = *task = 0;
	ok_node = api_check_id(c, e, "node_id", &has_node, node);
	ok_task = api_check_id(c, e, "task_id", &has_task, task);
	if (!ok_node || !ok_task)
		return (0);
	if (has_node == has_task) {
		agentproto_err_add(e, "", has_node ? "task_id" : "node_id",
		    has_node ? AGENTPROTO_C_NOT_ALLOWED : AGENTPROTO_C_REQUIRED,
		    0, 0, 0, NULL, NULL,
		    "give exactly one of node_id and task_id");
		return (0);
	}
	return (1);
}

int
api_body_id(struct http_request *req, struct api_ctx *c, const char *name,
    int *present, int64_t *out)
{
	struct agentproto_err e;

	agentproto_err_clear(&e);
	if (api_check_id(c, &e, name, present, out))
		return (1);
	api_error_fields(req, &e);
	return (0);
}

int
api_qs_time(struct http_request *req, const char *name, char *out,
    size_t outlen)
{
	struct agentproto_err e;

	agentproto_err_clear(&e);
	if (!qs_check_str(req, &e, name, 35, out, outlen)) {
		api_error_fields(req, &e);
		return (0);
	}
	if (out[0] == '\0' || api_time_ok(out))
		return (1);
	agentproto_err_add(&e, "", name, AGENTPROTO_C_FORMAT, 0, 0, 0,
	    "expected", "time", "%s must be an RFC 3339 date or time", name);
	api_error_fields(req, &e);
	return (0);
}

/* RFC 3339 date or date-time, so a bad value is a 400 naming the field. */
int
api_time_ok(const char *s)
{
	const char *shape = "dddd-dd-dd";
	size_t	    i;

	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i])
				    : s[i] != shape[i])
			return (0);
	}
	s += i;
	if (*s == '\0')
		return (1);
	if (*s != 'T' && *s != ' ')
		return (0);
	s++;
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    s[2] != ':' || !isdigit((unsigned char)s[3]) ||
	    !isdigit((unsigned char)s[4]))
		return (0);
	for (s += 5; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s) && strchr(":.Z+-", *s) == NULL)
			return (0);
	}
	return (1);
}

int
api_body_raw(struct http_request *req, struct api_ctx *c, size_t max,
    const char **out, size_t *len)
{
	ssize_t n;

	if (c->raw == NULL) {
		if (req->http_body_length > max) {
			api_error(req, 413, "too_large", "body too large",
			    NULL);
			return (0);
		}
		c->raw = kore_malloc(req->http_body_length + 1);
		c->rawlen = 0;
		while (c->rawlen < max) {
			n = http_body_read(req, c->raw + c->rawlen,
			    req->http_body_length);
			if (n == -1) {
				api_error(req, 400, "bad_body",
				    "cannot read the body", NULL);
				return (0);
			}
			if (n == 0)
				break;
			c->rawlen += (size_t)n;
		}
		c->raw[c->rawlen] = '\0';
	}
	*out = c->raw;
	*len = c->rawlen;
	return (1);
}

void
api_remote_addr(struct http_request *req, char *out, size_t len)
{
	struct connection *c = req->owner;
	const char	  *xr;

	out[0] = '\0';
	if (c == NULL)
		return;
	if (c->family == AF_INET)
		inet_ntop(AF_INET, &c->addr.ipv4.sin_addr, out, len);
	else if (c->family == AF_INET6)
		inet_ntop(AF_INET6, &c->addr.ipv6.sin6_addr, out, len);
	/* Behind the loopback reverse proxy (SPEC 14) trust its X-Real-IP. */
	if ((strcmp(out, "127.0.0.1") == 0 || strcmp(out, "::1") == 0) &&
	    http_request_header(req, "x-real-ip", &xr) && strlen(xr) < len &&
	    strspn(xr, "0123456789abcdefABCDEF.:") == strlen(xr))
		kore_strlcpy(out, xr, len);
}

int
api_body_object(struct http_request *req, struct api_ctx *c)
{
	json_error_t jerr;
	const char  *raw, *ctype;
	size_t	     rawlen;

	if (c->body != NULL)
		return (1);
	if (!http_request_header(req, "content-type", &ctype) ||
	    strncasecmp(ctype, "application/json", 16) != 0) {
		api_error(req, 415, "unsupported_media_type",
		    "send application/json", NULL);
		return (0);
	}
	if (!api_body_raw(req, c, API_BODY_MAX, &raw, &rawlen))
		return (0);
	c->body = json_loadb(raw, rawlen, JSON_REJECT_DUPLICATES, &jerr);
	if (c->body == NULL || !json_is_object(c->body)) {
		api_error(req, 400, "bad_json",
		    c->body == NULL ? jerr.text
				    : "the body must be a JSON object",
		    NULL);
		return (0);
	}
	return (1);
}
