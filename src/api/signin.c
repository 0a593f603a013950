/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Sign-in: the bearer token to verified claims (parking the request while
 * an unknown key's JWKS is fetched), the claims to the principal (the
 * user, its admin flag and grants; src/store/users.c) through a short
 * per-worker cache that any change to users or grants drops on every
 * worker of every instance over Redis, then the handler's flags.
 */

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

enum signin_phase {
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
	uint32_t claims; /* ucache_claims() of the sign-in that loaded it */
};

static enum api_step signin_principal(struct http_request *, struct api_ctx *);
static int  signin_set_principal(struct api_ctx *, int64_t, int, const char *,
     size_t);
static void signin_jwks_done(void);
static int  signin_refuse(struct http_request *, int, const struct auth_seen *);
static void signin_log(const char *, int, const struct auth_seen *);
static void signin_log_tick(void *, uint64_t);
static void signin_field(char *, size_t, const char *, const char *);
static void on_authz(const char *, size_t);
static void ucache_put(const struct auth_claims *, int64_t, int, int,
    const struct auth_grant *, size_t);
static struct ucache_entry *ucache_get(const struct auth_claims *);
static uint32_t		    ucache_hash(uint32_t, const char *);
static uint32_t		    ucache_claims(const struct auth_claims *);

static struct ucache_entry ucache[UCACHE_SLOTS];

/* Refusals logged per worker: at most SIGNIN_LOG_MAX lines per
 * SIGNIN_LOG_MS, then one line saying how many were left out. */
#define SIGNIN_LOG_MAX 10
#define SIGNIN_LOG_MS  10000
static unsigned int signin_logged;
static uint64_t	    signin_unlogged;

static void
on_authz(const char *msg, size_t len)
{
	api_authz_changed(0);
}

void
api_signin_init(void)
{
	core_redis_route(STORE_CHAN_AUTHZ, on_authz);
	kore_timer_add(signin_log_tick, SIGNIN_LOG_MS, NULL, 0);
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

/* FNV-1a over s and its terminating NUL, continuing from h. */
static uint32_t
ucache_hash(uint32_t h, const char *s)
{
	do {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	} while (*s++ != '\0');
	return (h);
}

/*
 * What a sign-in writes to the users row besides last_seen: a token whose
 * name, e-mail or admin role differ from the cached sign-in's misses the
 * cache, so that the row (and the names pages show) follow the IdP.
 */
static uint32_t
ucache_claims(const struct auth_claims *cl)
{
	uint32_t h;

	h = ucache_hash(2166136261u, cl->name);
	h = ucache_hash(h, cl->email);
	return (ucache_hash(h, cl->admin ? "1" : "0"));
}

static struct ucache_entry *
ucache_get(const struct auth_claims *cl)
{
	struct ucache_entry *e;

	if (app.cfg.authz_cache_ttl == 0)
		return (NULL);
	e = &ucache[ucache_hash(2166136261u, cl->sub) % UCACHE_SLOTS];
	if (e->user_id == 0 || strcmp(e->sub, cl->sub) != 0 ||
	    e->claims != ucache_claims(cl))
		return (NULL);
	if (kore_time_ms() - e->loaded >
	    (uint64_t)app.cfg.authz_cache_ttl * 1000)
		return (NULL);
	return (e);
}

static void
ucache_put(const struct auth_claims *cl, int64_t id, int admin, int disabled,
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
	e = &ucache[ucache_hash(2166136261u, cl->sub) % UCACHE_SLOTS];
	free(e->grants);
	memset(e, 0, sizeof(*e));
	e->grants = copy;
	e->claims = ucache_claims(cl);
	kore_strlcpy(e->sub, cl->sub, sizeof(e->sub));
	e->user_id = id;
	e->admin = admin;
	e->disabled = disabled;
	e->ngrants = n;
	e->loaded = kore_time_ms();
}

static void
signin_jwks_done(void)
{
	core_wait_wake("jwks", 0);
}

/* What a refusal's reason means, after the code, in the JSON message. */
static const char *
signin_reason_text(int result)
{
	switch (result) {
	case CORE_SIGNIN_MISSING:
		return ("no bearer token");
	case AUTH_MALFORMED:
		return ("the token is not a well-formed signed JWT");
	case AUTH_BAD_ALG:
		return ("the token's algorithm is not accepted");
	case AUTH_FORBIDDEN_HEADER:
		return ("the token's header names keys or extensions, which "
			"are not accepted");
	case AUTH_UNKNOWN_KID:
		return ("the token's key id names no key of the identity "
			"provider");
	case AUTH_BAD_SIGNATURE:
		return ("the token's signature does not verify");
	case AUTH_EXPIRED:
		return ("the sign-in has expired");
	case AUTH_NOT_YET_VALID:
		return ("the token is not valid yet");
	case AUTH_BAD_ISSUER:
		return ("the token's issuer is not the configured one");
	case AUTH_BAD_AUDIENCE:
		return ("the token's audience is not this service");
	case AUTH_BAD_CLAIMS:
		return ("the token lacks a claim Yard needs or has one of the "
			"wrong type");
	case AUTH_BAD_TYP:
		return ("the token's type is not an access token");
	case AUTH_TOO_LARGE:
		return ("the token is too large");
	}
	return ("the token was not accepted");
}

static const char *
signin_reason(int result)
{
	if (result == CORE_SIGNIN_MISSING)
		return ("missing_token");
	return (auth_result_reason((enum auth_result)result));
}

/* ` name="value"` when value is not empty; quotes and backslashes as '?'
 * (auth_seen has replaced control and non-ASCII bytes already). */
static void
signin_field(char *out, size_t outlen, const char *name, const char *value)
{
	size_t o, i;

	o = strlen(out);
	if (value[0] == '\0' || o + strlen(name) + 4 >= outlen)
		return;
	o += (size_t)snprintf(out + o, outlen - o, " %s=\"", name);
	for (i = 0; value[i] != '\0' && o + 2 < outlen; i++)
		out[o++] = value[i] == '"' || value[i] == '\\' ? '?' : value[i];
	out[o++] = '"';
	out[o] = '\0';
}

/*
 * One line per refusal, never the token: the reason and what the token
 * showed.  Only a refusal decided after the signature verified (the
 * claims' checks) has verified iss and sub; every other is marked.
 */
static void
signin_log(const char *remote, int result, const struct auth_seen *seen)
{
	char fields[640];
	int  verified;

	if (signin_logged >= SIGNIN_LOG_MAX) {
		signin_unlogged++;
		return;
	}
	signin_logged++;
	fields[0] = '\0';
	verified = 0;
	if (seen != NULL) {
		signin_field(fields, sizeof(fields), "iss", seen->iss);
		signin_field(fields, sizeof(fields), "sub", seen->sub);
		signin_field(fields, sizeof(fields), "kid", seen->kid);
		signin_field(fields, sizeof(fields), "alg", seen->alg);
		signin_field(fields, sizeof(fields), "typ", seen->typ);
		switch (result) {
		case AUTH_EXPIRED:
		case AUTH_NOT_YET_VALID:
		case AUTH_BAD_ISSUER:
		case AUTH_BAD_AUDIENCE:
		case AUTH_BAD_CLAIMS:
			verified = 1;
			break;
		default:
			break;
		}
	}
	kore_log(LOG_NOTICE, "signin: refused from %s: %s%s%s", remote,
	    signin_reason(result), fields,
	    fields[0] != '\0' && !verified ? " (unverified: the signature "
					     "was not checked or failed)"
					   : "");
}

static void
signin_log_tick(void *arg, uint64_t now)
{
	if (signin_unlogged > 0)
		kore_log(LOG_NOTICE,
		    "signin: %" PRIu64 " more refusals not logged in the "
		    "last %d s",
		    signin_unlogged, SIGNIN_LOG_MS / 1000);
	signin_unlogged = 0;
	signin_logged = 0;
}

/*
 * A refusal: logged (rate-limited), counted, and answered 401 with the
 * reason in WWW-Authenticate (RFC 6750 error_description) and the JSON.
 */
static int
signin_refuse(struct http_request *req, int result,
    const struct auth_seen *seen)
{
	json_t	   *j;
	char	    back[1024], url[4096], msg[256], hdr[128], remote[64];
	const char *ref, *reason, *code;
	size_t	    plen;

	reason = signin_reason(result);
	code = result == CORE_SIGNIN_MISSING
	    ? "missing_token"
	    : auth_result_code((enum auth_result)result);
	core_metrics_signin(result);
	api_remote_addr(req, remote, sizeof(remote));
	signin_log(remote, result, seen);

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

	(void)snprintf(msg, sizeof(msg), "%s: %s", reason,
	    signin_reason_text(result));
	j = json_pack("{s:s, s:s, s:s, s:s}", "error", code, "reason", reason,
	    "message", msg, "login_url", url);
	(void)snprintf(hdr, sizeof(hdr),
	    "Bearer error=\"invalid_token\", error_description=\"%s\"", reason);
	http_response_header(req, "www-authenticate", hdr);
	return (api_reply_json(req, 401, j));
}

enum api_step
api_begin(struct http_request *req, struct api_ctx **out, int flags)
{
	struct api_ctx	*c;
	struct auth_seen seen;
	const char	*tok;
	size_t		 len;
	int		 cached;
	enum auth_result r;
	enum api_step	 s;

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
			signin_refuse(req, CORE_SIGNIN_MISSING, NULL);
			return (API_DONE);
		}
		r = auth_sso_verify(tok, len, &c->claims, &seen, &cached);
		core_metrics_token_cache(cached == 1, cached == 0);
		if (r == AUTH_UNKNOWN_KID && c->phase == PHASE_TOKEN &&
		    auth_sso_jwks_refresh(signin_jwks_done)) {
			/* A key we have not seen yet: wait for the JWKS. */
			c->phase = PHASE_JWKS_WAIT;
			(void)core_wait_park(&c->wait, req, "jwks", 0, 0);
			return (API_WAIT);
		}
		if (r != AUTH_OK) {
			signin_refuse(req, (int)r, &seen);
			return (API_DONE);
		}
		core_metrics_signin(AUTH_OK);
		c->phase = PHASE_PRINCIPAL;
		/* FALLTHROUGH */
	case PHASE_PRINCIPAL:
		if ((s = signin_principal(req, c)) != API_GO)
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

	if ((flags & API_NEED_BODY) && !api_body_object(req, c))
		return (API_DONE);
	return (API_GO);
}

static int
signin_set_principal(struct api_ctx *c, int64_t id, int admin,
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
	return (1);
}

/*
 * gcc 12's analyzer follows api_state_begin() into here, loses the
 * request's state (it lives in req->hdlr_extra, set by Kore) and calls the
 * principal's grants a leak; the request's state frees them (flow.c).
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static enum api_step
signin_principal(struct http_request *req, struct api_ctx *c)
{
	struct ucache_entry *e;
	char		     remote[64];
	enum api_step	     s;
	int		     admin, disabled;
	const char	    *g;

	/* A query of ours in flight must finish even if another request
	 * warmed the cache meanwhile, or its result would leak into the
	 * handler's next statement. */
	if (!store_q_busy(c->q) && (e = ucache_get(&c->claims)) != NULL) {
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
	s = api_store(req, c,
	    app.cfg.auto_provision
		? store_user_provision(c->q, req, &c->claims, remote)
		: store_user_signin(c->q, req, &c->claims, remote),
	    NULL);
	if (s != API_GO)
		return (s);

	if (store_rows(c->q) != 1) {
		store_clear(c->q);
		api_error(req, 403, "not_provisioned",
		    "this user has not been created in Yard", NULL);
		return (API_DONE);
	}
	/* The statement never answers NULL here; a NULL is no flag and no
	 * grants row (a 500) rather than a crash. */
	admin = store_val_bool(c->q, 0, 1);
	disabled = store_val_bool(c->q, 0, 2);
	g = store_val(c->q, 0, 3);
	if (g == NULL ||
	    !signin_set_principal(c, store_val_int(c->q, 0, 0), admin, g,
		strlen(g))) {
		store_clear(c->q);
		api_error(req, 500, "internal", "bad grants row", NULL);
		return (API_DONE);
	}
	ucache_put(&c->claims, c->who.user_id, admin, disabled, c->who.grants,
	    c->who.ngrants);
	store_clear(c->q);
	if (disabled) {
		api_error(req, 403, "user_disabled",
		    "this user is disabled in Yard", NULL);
		return (API_DONE);
	}
	return (API_GO);
}

#pragma GCC diagnostic pop

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
