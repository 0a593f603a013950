/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * What every API handler shares: sign-in and the principal (with a short
 * per-worker cache invalidated over Redis), the async PostgreSQL step,
 * JSON replies and input validation that names the offending field.
 */

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <jansson.h>

#include "app.h"
#include "api/api.h"
#include "auth/auth.h"
#include "core/core.h"
#include "store/store.h"

enum ctx_phase {
	PHASE_TOKEN = 0,
	PHASE_JWKS_WAIT,
	PHASE_JWKS_DONE,
	PHASE_PRINCIPAL,
	PHASE_READY
};

#define UCACHE_SLOTS 1024

/* A cached principal: what the database says about a sub. */
struct ucache_entry {
	char		   sub[AUTH_CLAIM_MAX];
	int64_t		   user_id;
	int		   admin; /* marked admin in Yard */
	int		   disabled;
	struct auth_grant *grants;
	size_t		   ngrants;
	uint64_t	   loaded; /* kore_time_ms() */
};

static void	     ctx_free(struct http_request *);
static enum api_step ctx_principal(struct http_request *, struct api_ctx *);
static int  ctx_set_principal(struct api_ctx *, int64_t, int, int, const char *,
     size_t);
static void ctx_jwks_done(void);
static int  ctx_reply_401(struct http_request *, const char *);
static void ucache_put(const char *, int64_t, int, int,
    const struct auth_grant *, size_t);
static struct ucache_entry *ucache_get(const char *);
static uint32_t		    ucache_hash(const char *);
static const char *qs_find(struct http_request *, const char *, char *, size_t,
    int *);

static struct ucache_entry ucache[UCACHE_SLOTS];

/* The sign-in statements: create on first use (SPEC 3.1) or only update. */
static const char *sql_provision =
    "WITH u AS ("
    " INSERT INTO users (sub, name, email, role_admin, last_seen)"
    " VALUES ($1, $2, $3, $4::boolean, now())"
    " ON CONFLICT (sub) DO UPDATE SET"
    "  name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name"
    "   ELSE users.name END,"
    "  email = CASE WHEN EXCLUDED.email <> '' THEN EXCLUDED.email"
    "   ELSE users.email END,"
    "  role_admin = EXCLUDED.role_admin, last_seen = now()"
    " RETURNING id, admin, disabled, (xmax = 0) AS created),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr)"
    "  SELECT id, $1, 'user.provision', 'user', id,"
    "  jsonb_build_object('name', $2::text), $5 FROM u WHERE created)"
    " SELECT u.id, u.admin, u.disabled, (SELECT coalesce(json_agg("
    "  json_build_array(g.id, g.node_id, g.task_id, g.level, t.node_id)"
    "  ORDER BY g.id), '[]') FROM grants g LEFT JOIN tasks t"
    "  ON t.id = g.task_id WHERE g.user_id = u.id)::text"
    " FROM u";

static const char *sql_known_only =
    "UPDATE users SET"
    " name = CASE WHEN $2 <> '' THEN $2 ELSE name END,"
    " email = CASE WHEN $3 <> '' THEN $3 ELSE email END,"
    " role_admin = $4::boolean, last_seen = now()"
    " WHERE sub = $1 AND $5::text IS NOT NULL"
    " RETURNING id, admin, disabled, (SELECT coalesce(json_agg("
    "  json_build_array(g.id, g.node_id, g.task_id, g.level, t.node_id)"
    "  ORDER BY g.id), '[]') FROM grants g LEFT JOIN tasks t"
    "  ON t.id = g.task_id WHERE g.user_id = users.id)::text";

static void
on_authz(const char *msg, size_t len)
{
	api_authz_changed(0);
}

void
api_worker_init(void)
{
	core_redis_route(STORE_CHAN_AUTHZ, on_authz);
	api_agent_worker_init();
}

void
api_authz_changed(int publish)
{
	size_t i;

	for (i = 0; i < UCACHE_SLOTS; i++) {
		free(ucache[i].grants);
		memset(&ucache[i], 0, sizeof(ucache[i]));
	}
	/* Other workers and instances drop theirs too; the TTL bounds the
	 * staleness when Redis is down. */
	if (publish && !store_redis_publish(STORE_CHAN_AUTHZ, "changed"))
		kore_log(LOG_NOTICE,
		    "api: authz change not published "
		    "(redis down); caches expire in %" PRId64 " s",
		    app.cfg.authz_cache_ttl);
}

static uint32_t
ucache_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return (h);
}

static struct ucache_entry *
ucache_get(const char *sub)
{
	struct ucache_entry *e;

	if (app.cfg.authz_cache_ttl == 0)
		return (NULL);
	e = &ucache[ucache_hash(sub) % UCACHE_SLOTS];
	if (e->user_id == 0 || strcmp(e->sub, sub) != 0)
		return (NULL);
	if (kore_time_ms() - e->loaded >
	    (uint64_t)app.cfg.authz_cache_ttl * 1000)
		return (NULL);
	return (e);
}

static void
ucache_put(const char *sub, int64_t id, int admin, int disabled,
    const struct auth_grant *g, size_t n)
{
	struct ucache_entry *e;
	struct auth_grant   *copy;

	if (app.cfg.authz_cache_ttl == 0)
		return;
	copy = NULL;
	if (n > 0) {
		if ((copy = calloc(n, sizeof(*g))) == NULL)
			return;
		memcpy(copy, g, n * sizeof(*g));
	}
	e = &ucache[ucache_hash(sub) % UCACHE_SLOTS];
	free(e->grants);
	memset(e, 0, sizeof(*e));
	e->grants = copy;
	kore_strlcpy(e->sub, sub, sizeof(e->sub));
	e->user_id = id;
	e->admin = admin;
	e->disabled = disabled;
	e->ngrants = n;
	e->loaded = kore_time_ms();
}

static void
ctx_free(struct http_request *req)
{
	struct api_ctx *c = http_state_get(req);

	/* Kore may call onfree twice (pending tasks): be idempotent. */
	if (c == NULL)
		return;
	core_wait_leave(&c->wait);
	if (c->flow != NULL) {
		if (c->flow_free != NULL)
			c->flow_free(c->flow);
		kore_free(c->flow);
		c->flow = NULL;
	}
	store_q_free(c->q);
	c->q = NULL;
	if (c->body != NULL) {
		json_decref(c->body);
		c->body = NULL;
	}
	if (c->out != NULL) {
		json_decref(c->out);
		c->out = NULL;
	}
	free(c->who.grants);
	c->who.grants = NULL;
	kore_free(c->raw);
	c->raw = NULL;
	explicit_bzero(&c->claims, sizeof(c->claims));
}

static void
ctx_jwks_done(void)
{
	core_wait_wake("jwks", 0);
}

static int
ctx_reply_401(struct http_request *req, const char *code)
{
	json_t	   *j;
	char	    back[1024], url[4096];
	const char *ref;
	size_t	    plen;

	/* Come back to the page that made the call when it is one of ours. */
	plen = strlen(app.cfg.public_url);
	if (http_request_header(req, "referer", &ref) &&
	    strncmp(ref, app.cfg.public_url, plen) == 0 &&
	    strncmp(ref + plen, "/ui/", 4) == 0 && strlen(ref) < sizeof(back)) {
		kore_strlcpy(back, ref, sizeof(back));
		back[strcspn(back, "#")] = '\0';
	} else {
		snprintf(back, sizeof(back), "%s/ui/tasks", app.cfg.public_url);
	}
	auth_sso_login_url(back, url, sizeof(url));

	j = json_pack("{s:s, s:s, s:s}", "error", code, "message",
	    strcmp(code, "token_expired") == 0 ? "the sign-in has expired"
		: strcmp(code, "missing_token") == 0
		? "no bearer token"
		: "the token was not accepted",
	    "login_url", url);
	http_response_header(req, "www-authenticate",
	    "Bearer error=\"invalid_token\"");
	return (api_reply_json(req, 401, j));
}

struct api_ctx *
api_ctx_get(struct http_request *req)
{
	struct api_ctx *c;

	if ((c = http_state_get(req)) == NULL) {
		c = http_state_create(req, sizeof(*c), ctx_free);
		c->req = req;
		c->q = store_q_new();
	}
	return (c);
}

void *
api_flow(struct api_ctx *c, size_t len, void (*flow_free)(void *))
{
	if (c->flow == NULL) {
		c->flow = kore_calloc(1, len);
		c->flow_free = flow_free;
	}
	return (c->flow);
}

enum api_step
api_begin(struct http_request *req, struct api_ctx **out, int flags)
{
	struct api_ctx	*c;
	const char	*tok;
	size_t		 len;
	enum auth_result r;
	enum api_step	 s;
	json_error_t	 jerr;
	const char	*raw;
	size_t		 rawlen;
	const char	*ctype;

	c = api_ctx_get(req);
	*out = c;

	switch (c->phase) {
	case PHASE_JWKS_WAIT:
		if (!core_wait_woken(&c->wait))
			return (API_WAIT);
		core_wait_leave(&c->wait);
		c->phase = PHASE_JWKS_DONE;
		/* FALLTHROUGH */
	case PHASE_TOKEN:
	case PHASE_JWKS_DONE:
		if (!auth_sso_bearer(req, &tok, &len)) {
			ctx_reply_401(req, "missing_token");
			return (API_DONE);
		}
		r = auth_sso_verify(tok, len, &c->claims);
		if (r == AUTH_UNKNOWN_KID && c->phase == PHASE_TOKEN &&
		    auth_sso_jwks_refresh(ctx_jwks_done)) {
			/* A key we have not seen yet: wait for the JWKS. */
			c->phase = PHASE_JWKS_WAIT;
			(void)core_wait_park(&c->wait, req, "jwks", 0, 0);
			return (API_WAIT);
		}
		if (r != AUTH_OK) {
			ctx_reply_401(req, auth_result_code(r));
			return (API_DONE);
		}
		c->phase = PHASE_PRINCIPAL;
		/* FALLTHROUGH */
	case PHASE_PRINCIPAL:
		if ((s = ctx_principal(req, c)) != API_GO)
			return (s);
		c->phase = PHASE_READY;
		break;
	case PHASE_READY:
		return (API_GO);
	}

	if ((flags & API_NEED_ADMIN) && !c->who.admin) {
		api_error(req, 403, "forbidden", "administrators only", NULL);
		return (API_DONE);
	}

	if (flags & API_NEED_BODY) {
		if (!http_request_header(req, "content-type", &ctype) ||
		    strncasecmp(ctype, "application/json", 16) != 0) {
			api_error(req, 415, "unsupported_media_type",
			    "send application/json", NULL);
			return (API_DONE);
		}
		if (!api_body_raw(req, c, API_BODY_MAX, &raw, &rawlen))
			return (API_DONE);
		c->body =
		    json_loadb(raw, rawlen, JSON_REJECT_DUPLICATES, &jerr);
		if (c->body == NULL || !json_is_object(c->body)) {
			api_error(req, 400, "bad_json",
			    c->body == NULL ? jerr.text
					    : "the body must be a JSON object",
			    NULL);
			return (API_DONE);
		}
	}
	return (API_GO);
}

static int
ctx_set_principal(struct api_ctx *c, int64_t id, int admin, int disabled,
    const char *grants, size_t glen)
{
	struct auth_grant *g;
	size_t		   n;

	if (!auth_grants_parse(grants, glen, &g, &n))
		return (0);
	free(c->who.grants);
	c->who.user_id = id;
	c->who.admin = admin || c->claims.admin;
	c->who.grants = g;
	c->who.ngrants = n;
	(void)disabled;
	return (1);
}

/*
 * gcc 12's analyzer follows api_state_begin() into here, loses the
 * request's state (it lives in req->hdlr_extra, set by Kore) and calls the
 * principal's grants a leak; ctx_free() frees them.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static enum api_step
ctx_principal(struct http_request *req, struct api_ctx *c)
{
	struct ucache_entry *e;
	const char	    *vals[5];
	char		     remote[64];
	enum api_step	     s;
	int		     admin, disabled;
	const char	    *g;

	/* A query of ours in flight must finish even if another request
	 * warmed the cache meanwhile, or its result would leak into the
	 * handler's next statement. */
	if (!api_db_busy(c) && (e = ucache_get(c->claims.sub)) != NULL) {
		if (e->disabled) {
			api_error(req, 403, "user_disabled",
			    "this user is disabled in Yard", NULL);
			return (API_DONE);
		}
		c->who.user_id = e->user_id;
		c->who.admin = e->admin || c->claims.admin;
		if (e->ngrants > 0) {
			c->who.grants = calloc(e->ngrants, sizeof(*e->grants));
			if (c->who.grants == NULL) {
				api_error(req, 500, "internal", NULL, NULL);
				return (API_DONE);
			}
			memcpy(c->who.grants, e->grants,
			    e->ngrants * sizeof(*e->grants));
		}
		c->who.ngrants = e->ngrants;
		return (API_GO);
	}

	api_remote_addr(req, remote, sizeof(remote));
	vals[0] = c->claims.sub;
	vals[1] = c->claims.name;
	vals[2] = c->claims.email;
	vals[3] = c->claims.admin ? "true" : "false";
	vals[4] = remote;
	s = api_db(req, c,
	    app.cfg.auto_provision ? sql_provision : sql_known_only, 5, vals,
	    NULL);
	if (s != API_GO)
		return (s);

	if (api_rows(c) != 1) {
		api_db_clear(c);
		api_error(req, 403, "not_provisioned",
		    "this user has not been created in Yard", NULL);
		return (API_DONE);
	}
	/* The statement never answers NULL here; a NULL is no flag and no
	 * grants row (a 500) rather than a crash. */
	g = api_val(c, 0, 1);
	admin = g != NULL && strcmp(g, "t") == 0;
	g = api_val(c, 0, 2);
	disabled = g != NULL && strcmp(g, "t") == 0;
	g = api_val(c, 0, 3);
	if (g == NULL ||
	    !ctx_set_principal(c, api_val_int(c, 0, 0), admin, disabled, g,
		strlen(g))) {
		api_db_clear(c);
		api_error(req, 500, "internal", "bad grants row", NULL);
		return (API_DONE);
	}
	ucache_put(c->claims.sub, c->who.user_id, admin, disabled,
	    c->who.grants, c->who.ngrants);
	api_db_clear(c);
	if (disabled) {
		api_error(req, 403, "user_disabled",
		    "this user is disabled in Yard", NULL);
		return (API_DONE);
	}
	return (API_GO);
}

#pragma GCC diagnostic pop

enum api_step
api_store(struct http_request *req, struct api_ctx *c, enum store_step s,
    const char *conflict)
{
	const char *col;

	if (s == STORE_OK)
		return (API_GO);
	if (s == STORE_WAIT)
		return (API_WAIT);
	switch (store_q_err(c->q, &col)) {
	case STORE_E_CONFLICT:
		if (conflict != NULL) {
			api_error(req, 409, conflict, "it exists already",
			    NULL);
			break;
		}
		/* FALLTHROUGH */
	case STORE_E_VALUE:
		api_error(req, 400, "bad_request", "a value was not accepted",
		    NULL);
		break;
	case STORE_E_MISSING:
		/* A referenced object does not exist: name its column. */
		api_error(req, 404, "not_found",
		    "a referenced object does not exist", col);
		break;
	case STORE_E_DOWN:
		api_error(req, 503, "store_unavailable",
		    "PostgreSQL is unavailable", NULL);
		break;
	case STORE_E_INTERNAL:
	case STORE_E_NONE:
	default:
		api_error(req, 500, "internal", "database error", NULL);
		break;
	}
	return (API_DONE);
}

enum api_step
api_db(struct http_request *req, struct api_ctx *c, const char *sql, int n,
    const char *const *vals, const char *conflict)
{
	return (
	    api_store(req, c, store_run(c->q, req, sql, n, vals), conflict));
}

void
api_db_clear(struct api_ctx *c)
{
	store_clear(c->q);
}

int
api_rows(struct api_ctx *c)
{
	return (store_rows(c->q));
}

const char *
api_val(struct api_ctx *c, int row, int col)
{
	return (store_val(c->q, row, col));
}

int64_t
api_val_int(struct api_ctx *c, int row, int col)
{
	return (store_val_int(c->q, row, col));
}

json_t *
api_val_json(struct api_ctx *c, int row, int col)
{
	const char *v;

	if ((v = api_val(c, row, col)) == NULL)
		return (json_null());
	return (json_loads(v, 0, NULL));
}

int
api_state(enum api_step s)
{
	return (s == API_WAIT ? HTTP_STATE_RETRY : HTTP_STATE_COMPLETE);
}

int
api_state_begin(struct http_request *req, int flags, int next)
{
	struct api_ctx *c;
	enum api_step	s;

	if ((s = api_begin(req, &c, flags)) != API_GO)
		return (api_state(s));
	req->fsm_state = (u_int8_t)next;
	return (HTTP_STATE_CONTINUE);
}

int
api_return(enum api_step s)
{
	return (s == API_WAIT ? KORE_RESULT_RETRY : KORE_RESULT_OK);
}

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

int
api_not_found(struct http_request *req)
{
	return (api_error(req, 404, "not_found", "no such resource", NULL));
}

/* Find name in the query string; decode into buf.  NULL when absent. */
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
			*bad = 1; /* %00 */
		return (*bad ? NULL : buf);
	}
	return (NULL);
}

int
api_qs_int(struct http_request *req, const char *name, int64_t min, int64_t max,
    int64_t def, int64_t *out)
{
	char	    buf[32], msg[128], *end;
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
	}
	snprintf(msg, sizeof(msg),
	    "%s must be an integer from %" PRId64 " to %" PRId64, name, min,
	    max);
	api_error(req, 400, "bad_request", msg, name);
	return (0);
}

int
api_qs_str(struct http_request *req, const char *name, size_t max, char *out,
    size_t outlen)
{
	const char *v;
	char	    msg[128];
	size_t	    i;
	int	    bad;

	out[0] = '\0';
	if (max + 1 > outlen)
		max = outlen - 1;
	if ((v = qs_find(req, name, out, max + 1, &bad)) == NULL && !bad)
		return (1);
	for (i = 0; v != NULL && v[i] != '\0'; i++) {
		if ((unsigned char)v[i] < 0x20)
			bad = 1;
	}
	if (!bad)
		return (1);
	out[0] = '\0';
	snprintf(msg, sizeof(msg),
	    "%s: at most %zu characters, no control "
	    "characters",
	    name, max);
	api_error(req, 400, "bad_request", msg, name);
	return (0);
}

int
api_qs_page(struct http_request *req, int64_t *limit, int64_t *cursor)
{
	if (!api_qs_int(req, "limit", 1, API_LIMIT_MAX, API_LIMIT_DEFAULT,
		limit))
		return (0);
	return (api_qs_int(req, "cursor", 0, INT64_MAX, 0, cursor));
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
api_body_str(struct http_request *req, struct api_ctx *c, const char *name,
    int required, size_t max, const char **out)
{
	json_t *v;
	char	msg[160];

	*out = NULL;
	v = json_object_get(c->body, name);
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return (1);
		snprintf(msg, sizeof(msg), "%s is required", name);
		api_error(req, 400, "bad_request", msg, name);
		return (0);
	}
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v) ||
	    !body_text_ok(json_string_value(v)) ||
	    (required && json_string_length(v) == 0)) {
		snprintf(msg, sizeof(msg),
		    "%s must be a %sstring of at most "
		    "%zu bytes without control characters",
		    name, required ? "non-empty " : "", max);
		api_error(req, 400, "bad_request", msg, name);
		return (0);
	}
	*out = json_string_value(v);
	return (1);
}

int
api_body_bool(struct http_request *req, struct api_ctx *c, const char *name,
    int *present, int *out)
{
	json_t *v;
	char	msg[128];

	*present = 0;
	if ((v = json_object_get(c->body, name)) == NULL)
		return (1);
	if (!json_is_boolean(v)) {
		snprintf(msg, sizeof(msg), "%s must be true or false", name);
		api_error(req, 400, "bad_request", msg, name);
		return (0);
	}
	*present = 1;
	*out = json_is_true(v);
	return (1);
}

int
api_body_id(struct http_request *req, struct api_ctx *c, const char *name,
    int *present, int64_t *out)
{
	json_t *v;
	char	msg[128];

	*present = 0;
	v = json_object_get(c->body, name);
	if (v == NULL || json_is_null(v))
		return (1);
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		snprintf(msg, sizeof(msg), "%s must be a positive integer",
		    name);
		api_error(req, 400, "bad_request", msg, name);
		return (0);
	}
	*present = 1;
	*out = json_integer_value(v);
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
api_reply_list(struct http_request *req, struct api_ctx *c, int64_t limit)
{
	struct kore_buf b;
	int		i, n;
	const char     *v;

	/* Rows are (json text, id); one row past limit means "more". */
	n = api_rows(c);
	kore_buf_init(&b, 4096);
	kore_buf_append(&b, "{\"items\":[", 10);
	for (i = 0; i < n && i < limit; i++) {
		if (i > 0)
			kore_buf_append(&b, ",", 1);
		if ((v = api_val(c, i, 0)) == NULL)
			v = "null";
		kore_buf_append(&b, v, strlen(v));
	}
	if (n > limit)
		kore_buf_appendf(&b, "],\"next\":\"%s\"}",
		    api_val(c, (int)limit - 1, 1));
	else
		kore_buf_append(&b, "],\"next\":null}", 14);
	api_db_clear(c);
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
	if (api_rows(c) < 1 || (v = api_val(c, 0, 0)) == NULL) {
		api_db_clear(c);
		return (api_not_found(req));
	}
	api_headers(req);
	http_response(req, status, v, strlen(v));
	api_db_clear(c);
	return (KORE_RESULT_OK);
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

int
api_db_busy(struct api_ctx *c)
{
	return (store_q_busy(c->q));
}

int
api_qs_time(struct http_request *req, const char *name, char *out,
    size_t outlen)
{
	char msg[96];

	if (!api_qs_str(req, name, 35, out, outlen))
		return (0);
	if (out[0] == '\0' || api_time_ok(out))
		return (1);
	snprintf(msg, sizeof(msg), "%s must be an RFC 3339 date or time", name);
	api_error(req, 400, "bad_request", msg, name);
	return (0);
}
