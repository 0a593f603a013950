/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * EWS single sign-on: token checks, key sets, verified-token cache and
 * permission logic.  Kore-free (libc, OpenSSL, jansson) so that unit tests
 * and fuzzers link it directly.
 */

#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agentproto/agentproto.h"

/* SPEC 3.1: a token is at most 8 KiB. */
#define AUTH_TOKEN_MAX 8192
#define AUTH_CLAIM_MAX 256 /* sub, name, email, jti: bytes + NUL */
#define AUTH_KID_MAX   128
#define AUTH_KEYS_MAX  64

/* Algorithms, as bits so that an allow-list is one unsigned int. */
#define AUTH_ALG_RS256 0x01
#define AUTH_ALG_RS384 0x02
#define AUTH_ALG_RS512 0x04
#define AUTH_ALG_ES256 0x08
#define AUTH_ALG_ES384 0x10
#define AUTH_ALG_ES512 0x20
#define AUTH_ALG_HS256 0x40

enum auth_result {
	AUTH_OK = 0,
	AUTH_MALFORMED, /* size, shape, base64url, JSON, duplicate keys */
	AUTH_BAD_ALG, /* alg not allowed, "none", or no key of its type */
	AUTH_FORBIDDEN_HEADER, /* jku, x5u, x5c, jwk or crit present */
	AUTH_UNKNOWN_KID, /* kid names no key we hold */
	AUTH_BAD_SIGNATURE,
	AUTH_EXPIRED, /* exp + skew <= now */
	AUTH_NOT_YET_VALID, /* nbf or iat later than now + skew */
	AUTH_BAD_ISSUER,
	AUTH_BAD_AUDIENCE,
	AUTH_BAD_CLAIMS, /* sub/exp missing or of the wrong type, sub too
			    long, aud not a string or array of strings */
	AUTH_BAD_TYP, /* typ other than JWT, at+jwt, application/at+jwt */
	AUTH_TOO_LARGE /* the token is longer than AUTH_TOKEN_MAX */
};
#define AUTH_NRESULTS (AUTH_TOO_LARGE + 1)

/*
 * Where a claim's value is found (docs/ews-integration.md, "Claims").
 * Each list is ordered; each entry is a claim path: the whole text as a
 * top-level member first (so "https://example.com/roles" works), then
 * dotted steps through objects ("realm_access.roles",
 * "resource_access.yard.roles").
 */
#define AUTH_MAP_MAX	  8 /* entries per list */
#define AUTH_MAP_PATH_MAX 128 /* bytes of one path + NUL */
struct auth_claim_map {
	/* The display name: the first that is a non-empty string. */
	char   names[AUTH_MAP_MAX][AUTH_MAP_PATH_MAX];
	size_t nnames;
	/* The e-mail address; "" for none. */
	char email[AUTH_MAP_PATH_MAX];
	/* Roles: each path's value, an array of strings or one string;
	 * every path is read, the admin role found in any makes an admin. */
	char   roles[AUTH_MAP_MAX][AUTH_MAP_PATH_MAX];
	size_t nroles;
	/* Scopes: a space-separated string or an array of strings; the
	 * upload scope found in any grants upload. */
	char   scopes[AUTH_MAP_MAX][AUTH_MAP_PATH_MAX];
	size_t nscopes;
};

/*
 * Fill map from the settings' texts (comma-separated lists, blanks
 * around entries ignored; NULL or "" for an empty list or no e-mail
 * claim).  Returns 1, or 0 with err naming the setting's problem (more
 * than AUTH_MAP_MAX entries, an empty entry, a path too long or with an
 * empty step).
 */
int auth_claim_map_parse(struct auth_claim_map *, const char *names,
    const char *email, const char *roles, const char *scopes, char *err,
    size_t errlen);

/* What a token must satisfy besides its signature. */
struct auth_policy {
	const char  *issuer; /* exact match of iss */
	const char  *audience; /* aud equals it or contains it */
	int64_t	     skew; /* seconds of clock-skew allowance */
	unsigned int algs; /* AUTH_ALG_* bits allowed */
	const char  *admin_role; /* a role that makes an admin */
	/* Where name, email, roles and scopes are read; NULL: the defaults
	 * of the settings (name,preferred_username,sub; email; roles;
	 * scope,scp). */
	const struct auth_claim_map *map;
};

/* What Yard reads from a verified token (SPEC 3.1). */
struct auth_claims {
	char	sub[AUTH_CLAIM_MAX];
	char	name[AUTH_CLAIM_MAX]; /* "" when absent */
	char	email[AUTH_CLAIM_MAX]; /* "" when absent */
	char	jti[AUTH_CLAIM_MAX]; /* "" when absent */
	int	admin; /* roles contains policy admin_role */
	int	upload; /* scope contains "packages:upload" */
	int64_t exp;
	int64_t iat; /* 0 when absent */
};

/*
 * A set of verification keys.  Each key is bound to the algorithms its type
 * allows (RSA: RS*, EC P-256/384/521: ES256/384/512, HMAC secret: HS256),
 * narrowed to the JWK "alg" member where one is given.  Keys carry an
 * optional kid and a source (PEM file, JWKS, secret), so that a JWKS refresh
 * replaces only the JWKS keys.
 */
struct auth_keyset;

struct auth_keyset *auth_keyset_new(void);
void		    auth_keyset_free(struct auth_keyset *);
size_t		    auth_keyset_count(const struct auth_keyset *);

/*
 * Add one public key in PEM form (SubjectPublicKeyInfo or an X.509
 * certificate).  kid may be NULL.  Returns KORE_RESULT_OK style 1 / 0; on
 * failure err says why (never containing key material).
 */
int auth_keyset_add_pem(struct auth_keyset *, const char *pem, size_t len,
    const char *kid, char *err, size_t errlen);

/* Add an HMAC secret (HS256 only); at least 32 bytes or it is refused. */
int auth_keyset_add_secret(struct auth_keyset *, const uint8_t *secret,
    size_t len, char *err, size_t errlen);

/*
 * Replace every JWKS-sourced key with the keys of a JWKS document.  Keys of
 * unknown type, with "use" other than "sig", or that fail to load are
 * skipped (counted in *skipped).  The document is rejected as a whole (set
 * unchanged, returns 0) when it is not a JSON object with a "keys" array.
 */
int auth_keyset_set_jwks(struct auth_keyset *, const char *json, size_t len,
    size_t *skipped, char *err, size_t errlen);

/* Parse an allow-list such as "RS256,ES256" into AUTH_ALG_* bits; 0 on error. */
unsigned int auth_algs_parse(const char *list);

/*
 * Verify a compact JWS and check its claims.  Order: size and shape
 * pre-checks (3 base64url segments, strict decoding), header parsed with
 * duplicate keys rejected, alg pinned to the allow-list and to the key's
 * type, signature with a key chosen by kid (or every key fitting the alg when
 * there is no kid), then claims (duplicates rejected, iss, aud, exp, nbf,
 * iat, sub).  On AUTH_OK *out is filled; otherwise *out is zeroed.
 */
enum auth_result auth_verify(const struct auth_keyset *,
    const struct auth_policy *, const char *token, size_t len, int64_t now,
    struct auth_claims *out);

/*
 * What a token showed, for the line that logs its refusal: the header's
 * alg, typ and kid and the payload's iss and sub, each "" when absent or
 * unreadable, control and non-ASCII bytes replaced by '?', cut to fit.
 * The payload's members are read for this even when the signature
 * failed, and are then unverified: a log says so.  Never the token, the
 * signature or any other claim.
 */
struct auth_seen {
	char alg[16];
	char typ[40];
	char kid[65];
	char iss[129];
	char sub[129];
};

/* auth_verify(), and *seen (when not NULL) filled whatever the result. */
enum auth_result auth_verify_seen(const struct auth_keyset *,
    const struct auth_policy *, const char *token, size_t len, int64_t now,
    struct auth_claims *out, struct auth_seen *seen);

/* "token_expired" for AUTH_EXPIRED, "invalid_token" for the rest. */
const char *auth_result_code(enum auth_result);
/*
 * The reason code of a result, for the log line, the WWW-Authenticate
 * error_description, the JSON message and /metrics labels: "ok",
 * "malformed", "bad_alg", "forbidden_header", "unknown_kid",
 * "bad_signature", "expired", "not_yet_valid", "bad_issuer",
 * "bad_audience", "bad_claims", "bad_typ", "too_large".
 */
const char *auth_result_reason(enum auth_result);
/* Short English reason for logs ("bad signature", ...). */
const char *auth_result_str(enum auth_result);

/*
 * Verified-token cache: SHA-256(token) -> claims, fixed size, per worker.
 * A hit re-checks exp against now and skew.  auth_cache_clear() is called
 * whenever the key set changes.
 */
struct auth_cache;

struct auth_cache *auth_cache_new(size_t slots);
void		   auth_cache_free(struct auth_cache *);
int  auth_cache_get(struct auth_cache *, const char *token, size_t len,
     int64_t now, int64_t skew, struct auth_claims *out);
void auth_cache_put(struct auth_cache *, const char *token, size_t len,
    const struct auth_claims *);
void auth_cache_clear(struct auth_cache *);

/*
 * Permissions: levels view < operate < manage, each implying the ones
 * before.  The rule (who holds which level on what) is SQL only: the
 * functions yard_level() and yard_node_visible() of
 * src/store/migrations/006_levels.sql, called by every statement.
 */
enum auth_level {
	AUTH_LEVEL_NONE = 0,
	AUTH_LEVEL_VIEW = 1, /* see it, its state, metrics, commands, events */
	AUTH_LEVEL_OPERATE = 2, /* start, stop, restart; logs */
	AUTH_LEVEL_MANAGE = 3 /* decide what runs: create, edit, uninstall */
};

struct auth_grant {
	int64_t		id;
	int64_t		node_id; /* 0 when the grant is on a task */
	int64_t		task_id; /* 0 when the grant is on a node */
	enum auth_level level;
	int64_t		task_node_id; /* a task grant's node; 0 if unknown */
};

struct auth_principal {
	int64_t		   user_id;
	int		   admin;
	struct auth_grant *grants;
	size_t		   ngrants;
};

/*
 * Parse grants from the JSON the database returns:
 * [[id, node_id|null, task_id|null, "view"|"operate"|"manage"
 *   (, task_node_id|null)], ...]; the fifth member is the node of a task
 * grant's task.  Returns 1 and an array the caller frees with free(), or 0
 * on bad input.
 */
int auth_grants_parse(const char *json, size_t len, struct auth_grant **out,
    size_t *n);

enum auth_level auth_level_parse(const char *); /* NONE on bad input */
const char     *auth_level_str(enum auth_level);

/*
 * Node policy (the "policy" member of a node's facts): whether deploy
 * directory dir lies strictly under one of roots, the policy's "roots"
 * as JSON text (an array of {"path":...} objects; plain strings are taken
 * too).  Paths compare whole components after empty and "." components are
 * dropped: "/srv/yard/" is "/srv/yard", and "/srv/yardx" is not under it.
 * Returns 1 when dir is under a root or roots is NULL or not an array (the
 * node reports no policy), 0 otherwise; list gets the roots, comma
 * separated, for a message (truncated to listlen).
 */
int auth_dir_in_roots(const char *dir, const char *roots, size_t len,
    char *list, size_t listlen);
/* The same for a Windows node: either separator, ASCII case ignored, a
 * UNC path keeps its leading "\\"; a ".." component is never under. */
int auth_dir_in_roots_win(const char *dir, const char *roots, size_t len,
    char *list, size_t listlen);

/*
 * Internal to src/auth (token.c reads keyset.c's keys and keyset.c uses
 * token.c's decoder); declared here so the two files cannot drift.
 * key: the idx-th key's kid (NULL if none), algorithms, and either a
 * public key or an HMAC secret, all borrowed.  Returns 0 past the end.
 */
struct evp_pkey_st;
int auth_keyset_get(const struct auth_keyset *, size_t, const char **,
    unsigned int *, struct evp_pkey_st **, const uint8_t **, size_t *);
/* Strict base64url (no padding, zero trailing bits); 1 on success. */
int auth_b64url_decode(const char *, size_t, uint8_t *, size_t, size_t *);
/* A base64url character's value (0..63), or -1. */
int auth_b64url_val(unsigned char);
/* claims.c for token.c: name, e-mail, admin and upload of verified
 * claims from where policy's map says (never a refusal); and what a
 * token's header, payload, or whole text (a refused one, decoded apart)
 * showed, into seen. */
void auth_claims_map(json_t *, const struct auth_policy *,
    struct auth_claims *);
void auth_seen_header(json_t *, struct auth_seen *);
void auth_seen_payload(json_t *, struct auth_seen *);
void auth_seen_scan(const char *, size_t, struct auth_seen *);

/*
 * Secret configuration values (cfgcrypt.c): AES-256-GCM with a 32-byte
 * key, the task id and the value's key as additional data, carried as
 * base64(nonce || ciphertext || tag).
 */
#define AUTH_CFGKEY_LEN 32
/* A key file's bytes: 32 raw bytes or 64 hex characters (a line end
 * allowed) -> 1 and key; 0 otherwise. */
int auth_cfgkey_parse(const uint8_t *, size_t, uint8_t key[AUTH_CFGKEY_LEN]);
/* The "enc" of a value (malloc'd), or NULL (out of memory). */
char *auth_cfg_encrypt(const uint8_t key[AUTH_CFGKEY_LEN], int64_t task,
    const char *k, const void *pt, size_t ptlen);
/* 1 and *pt (malloc'd, NUL-terminated beyond *ptlen; release with
 * auth_cfg_free(), which wipes it), or 0 when enc is not a value of this
 * task and key under this key (or is damaged). */
int  auth_cfg_decrypt(const uint8_t key[AUTH_CFGKEY_LEN], int64_t task,
     const char *k, const char *enc, char **pt, size_t *ptlen);
void auth_cfg_free(char *, size_t);
/*
 * A task configuration's documents (cfgdoc.c; docs/config.md).  A doc is
 * {"values":[{"key","value","secret":false}|{"key","enc","secret":true}],
 * "apollo","mappings","files","env","properties_file"}.
 */
struct auth_cfgdoc_err {
	char field[64]; /* the first member, e.g. "values[2].key"; "" if none */
	char msg[512]; /* names the member and the problem, never a value */
	/* Every refused member with its code (docs/api.md, "Field errors"). */
	struct agentproto_err all;
};
/*
 * The doc to store from a PUT body, every member checked (the limits of
 * AGENTPROTO_CFG_*, keys, paths, formats and nodepaths, a value or Apollo
 * for every mapped key, base64, Apollo's names): 1, *doc (a new
 * reference) and *comment (borrowed from body), or 0 with err (every
 * refusal in err->all, the first in field and msg).  A secret
 * with a value is encrypted for task; one without is {"key","secret":
 * true,"keep":true}, to take the stored one.
 */
int auth_cfgdoc_build(json_t *body, const uint8_t *key, int64_t task,
    json_t **doc, const char **comment, struct auth_cfgdoc_err *err);
/* 1 when a key is 1..AGENTPROTO_CFG_KEY_MAX bytes without control
 * characters. */
int auth_cfgdoc_key_ok(const char *, size_t);
/* A stored version as users see it: meta's members, Yard's own values
 * (secrets null, source "yard"), files with their size (new reference). */
json_t *auth_cfgdoc_view(json_t *meta, json_t *doc);
/* The diff of doc against prev (NULL: none): [{"part","name","change",
 * "old","new"}], a secret's old and new null, compared decrypted. */
json_t *auth_cfgdoc_diff(json_t *doc, json_t *prev, const uint8_t *key,
    int64_t task);
/* Lines first..last (from 1) of buf without line ends, as a JSON array
 * of strings; bytes that are not UTF-8 as U+FFFD (auth_cfgdoc_utf8). */
json_t *auth_cfgdoc_lines(const char *buf, size_t len, size_t first,
    size_t last);
json_t *auth_cfgdoc_utf8(const char *, size_t);
/* Every "enc" of payload's config.values (task: payload.task.id) as
 * "value": 1, or 0 with err naming the key that does not decrypt. */
int auth_cfgdoc_reveal(json_t *payload, const uint8_t *key, char *err,
    size_t errlen);

/*
 * Kore glue (sso.c): the worker's verified-token cache and JWKS refresh.
 * These need Kore and libcurl, so unit tests do not link them.
 */
struct http_request;

#define AUTH_JWKS_MAX (256 * 1024)

/* What sso.c needs to know, given by the layer above at worker start
 * (pointers must stay valid: the process-wide settings and keys). */
struct auth_sso_config {
	struct auth_keyset	 *keys; /* refreshed from the JWKS */
	const struct auth_policy *policy;
	const char		 *login_url; /* the portal's sign-in page */
	const char		 *return_param; /* its return-to parameter */
	const char		 *jwks_url; /* NULL: no refresh */
	const char		 *user_agent; /* of the JWKS fetches */
	int64_t			  jwks_refresh_min; /* seconds between
						       unknown-kid fetches */
	int64_t			  jwks_refresh; /* seconds: the timer's
						   period */
	size_t			  cache_slots;
};

/* Worker start: keep the configuration, allocate the token cache. */
void auth_sso_init(const struct auth_sso_config *);

/* The bearer token of a request; 0 when there is none. */
int auth_sso_bearer(struct http_request *, const char **, size_t *);

/* Cache lookup, else full verification (and cache fill on success);
 * seen (may be NULL) as auth_verify_seen() fills it; *cached 1 when the
 * cache answered, 0 when the token was verified in full, -1 when it was
 * refused before either (too large). */
enum auth_result auth_sso_verify(const char *, size_t, struct auth_claims *,
    struct auth_seen *, int *cached);

/*
 * Start fetching the JWKS in a Kore task unless one ran less than
 * YARD_JWKS_REFRESH_MIN seconds ago.  Returns 1 when a fetch is under way
 * (done() runs in the worker when it ends), 0 when none will happen.
 */
int auth_sso_jwks_refresh(void (*done)(void));

/*
 * Blocking JWKS fetch with libcurl (parent at start-up, or a task thread).
 * On success *body is malloc'd (caller frees with free()).  *max_age: the
 * answer's Cache-Control max-age in seconds (no-store and no-cache: 0),
 * -1 when it gives none.
 */
int auth_jwks_fetch(const char *url, const char *user_agent, char **body,
    size_t *len, int64_t *max_age, char *err, size_t errlen);

/*
 * Parent, before the workers fork: map the instance's JWKS state shared
 * with them and, when url is set, fetch the JWKS into it and into keys.
 * Returns 1, or 0 with err when the fetch or its document failed (keys
 * unchanged; the workers retry on their timer).  refresh: seconds between
 * fetches (YARD_EWS_JWKS_REFRESH).
 */
int auth_sso_shared_init(struct auth_keyset *keys, const char *url,
    const char *user_agent, int64_t refresh, char *err, size_t errlen);

/* login_url of SPEC 3.3 for a page to come back to. */
void auth_sso_login_url(const char *return_to, char *out, size_t outlen);

/*
 * The instance's JWKS as all its workers share it (docs/ews-integration.md,
 * "Keys"), for /readyz and /metrics.  Times are Unix seconds, 0 for never.
 */
struct auth_jwks_status {
	int	 configured; /* a JWKS URL is set */
	int64_t	 last_ok; /* the last fetch that gave a usable set */
	int64_t	 last_try; /* the last fetch, whatever its end */
	int64_t	 next_due; /* when the timer fetches next */
	uint64_t fetches; /* fetches begun, instance-wide */
	uint64_t failures; /* fetches that kept the last good set */
	size_t	 keys; /* JWKS keys in the set in use */
	uint64_t generation; /* bumped at each set taken */
	char	 error[256]; /* the last failure; "" once one succeeds */
};
void auth_sso_jwks_status(struct auth_jwks_status *);

/*
 * Alert rules (alertrule.c; docs/api.md, "Alerts").  A rule body is
 * checked in full: name, kind, threshold and recovery in the kind's range
 * and direction, for_seconds, window_seconds, no_data, scope, channels,
 * extra_emails, enabled; an unknown member is refused.
 */
#define AUTH_ALERT_NAME_MAX   100
#define AUTH_ALERT_IDS_MAX    1000
#define AUTH_ALERT_EMAILS_MAX 50
#define AUTH_ALERT_DAYS_MAX   7
struct auth_alertrule_err {
	char field[64]; /* the first refused member; "" if none */
	char msg[256]; /* names the member and the problem */
	/* Every refused member with its code (docs/api.md, "Errors"). */
	struct agentproto_err all;
};
/*
 * The rule to store from a POST or PUT body (an object): 1 and *rule, a
 * new reference holding every member (defaults filled in: for_seconds
 * and window_seconds 0, no_data "keep", empty scope, channels ["inbox",
 * "email"], no extra_emails, enabled true), or 0 with err.  days: NULL
 * refuses a "days" member; else (a preview) an optional "days" 1..7 is
 * taken into *days (7 when absent) and left out of *rule.
 */
int auth_alertrule_check(json_t *body, int *days, json_t **rule,
    struct auth_alertrule_err *err);
/* 1 when kind is one of the nine; node: 1 for the node kinds. */
int auth_alert_kind_ok(const char *kind, int *node);
/* 1 when s is an addr-spec Yard will send to (local@domain.tld). */
int auth_alert_email_ok(const char *s);
/* 1 when s is an ISO 8601 date-time with a zone (Z or +HH:MM). */
int auth_alert_time_ok(const char *s);

#endif /* AUTH_H */
