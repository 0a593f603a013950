/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The settings table (SPEC 9): every setting's name, type, default and
 * bounds in one place, read from a settings file and then the environment.
 */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iconv.h>

#include "settings.h"

enum set_type { SET_STR, SET_INT };

enum set_check {
	CHECK_NONE,
	CHECK_REQUIRED, /* non-empty string */
	CHECK_HTTP_URL, /* http:// or https://, may be empty */
	CHECK_HTTP_URL_REQ,
	CHECK_BASE_URL, /* CHECK_HTTP_URL without user, query or fragment */
	CHECK_HOSTPORT,
	CHECK_ORIGINS,
	CHECK_REDIS_URL,
	CHECK_SMTP_URL,
	CHECK_TOKEN, /* [A-Za-z0-9_.-]+ */
	CHECK_CHARSET /* a CHECK_TOKEN iconv(3) can convert to UTF-8 */
};

struct set_def {
	const char    *env; /* YARD_...; file key is its tail, lower */
	enum set_type  type;
	size_t	       off;
	const char    *def;
	int64_t	       min;
	int64_t	       max;
	enum set_check check;
};

#define S(f) offsetof(struct app_settings, f)

/* clang-format off */
static const struct set_def set_defs[] = {
	{ "YARD_HOME",			SET_STR, S(home), ".", 0, 0, CHECK_REQUIRED },
	{ "YARD_LISTEN",		SET_STR, S(listen), "127.0.0.1:8080", 0, 0, CHECK_HOSTPORT },
	{ "YARD_PUBLIC_URL",		SET_STR, S(public_url), "http://127.0.0.1:8080", 0, 0, CHECK_HTTP_URL_REQ },
	{ "YARD_PG_DSN",		SET_STR, S(pg_dsn), "postgresql://yard@127.0.0.1:15432/yard?connect_timeout=2", 0, 0, CHECK_REQUIRED },
	{ "YARD_REDIS_URL",		SET_STR, S(redis_url), "redis://127.0.0.1:16379/0", 0, 0, CHECK_REDIS_URL },
	{ "YARD_REDIS_PASSWORD_FILE",	SET_STR, S(redis_password_file), "", 0, 0, CHECK_NONE },
	{ "YARD_PACKAGE_DIR",		SET_STR, S(package_dir), "var/packages", 0, 0, CHECK_REQUIRED },
	{ "YARD_AGENT_DIST_DIR",	SET_STR, S(agent_dist_dir), "dist", 0, 0, CHECK_NONE },
	{ "YARD_PACKAGE_MAX_BYTES",	SET_INT, S(package_max_bytes), "1073741824", 1024, INT64_C(1) << 40, CHECK_NONE },
	{ "YARD_UPLOAD_DIR",		SET_STR, S(upload_dir), "", 0, 0, CHECK_NONE },
	{ "YARD_UPLOAD_CHUNK_MAX",	SET_INT, S(upload_chunk_max), "8388608", 65536, INT64_C(256) << 20, CHECK_NONE },
	{ "YARD_UPLOAD_EXPIRE",		SET_INT, S(upload_expire), "86400", 2, 2592000, CHECK_NONE },
	{ "YARD_UPLOAD_USER_MAX",	SET_INT, S(upload_user_max), "21474836480", 1024, INT64_C(1) << 44, CHECK_NONE },
	{ "YARD_PACKAGE_MAX_ENTRIES",	SET_INT, S(package_max_entries), "100000", 1, 10000000, CHECK_NONE },
	{ "YARD_PACKAGE_MAX_UNPACKED",	SET_INT, S(package_max_unpacked), "8589934592", 1024, INT64_C(1) << 44, CHECK_NONE },
	{ "YARD_PACKAGE_MAX_RATIO",	SET_INT, S(package_max_ratio), "200", 0, 100000, CHECK_NONE },
	{ "YARD_PACKAGE_RETENTION_DAYS", SET_INT, S(package_retention_days), "30", 0, 36500, CHECK_NONE },
	{ "YARD_PACKAGE_NAME_CHARSET",	SET_STR, S(package_name_charset), "GBK", 0, 0, CHECK_CHARSET },
	{ "YARD_EWS_ISSUER",		SET_STR, S(ews_issuer), "dev-ews", 0, 0, CHECK_REQUIRED },
	{ "YARD_EWS_AUDIENCE",		SET_STR, S(ews_audience), "yard", 0, 0, CHECK_REQUIRED },
	{ "YARD_EWS_PUBLIC_KEY_FILE",	SET_STR, S(ews_public_key_file), "var/dev-ews/public.pem", 0, 0, CHECK_NONE },
	{ "YARD_EWS_JWKS_URL",		SET_STR, S(ews_jwks_url), "", 0, 0, CHECK_HTTP_URL },
	{ "YARD_EWS_HS256_SECRET_FILE",	SET_STR, S(ews_hs256_secret_file), "", 0, 0, CHECK_NONE },
	{ "YARD_EWS_ALGS",		SET_STR, S(ews_algs), "RS256,ES256", 0, 0, CHECK_REQUIRED },
	{ "YARD_EWS_LOGIN_URL",		SET_STR, S(ews_login_url), "http://127.0.0.1:8090/login", 0, 0, CHECK_HTTP_URL_REQ },
	{ "YARD_EWS_RETURN_PARAM",	SET_STR, S(ews_return_param), "redirect_uri", 0, 0, CHECK_TOKEN },
	{ "YARD_EWS_ORIGINS",		SET_STR, S(ews_origins), "http://127.0.0.1:8090", 0, 0, CHECK_ORIGINS },
	{ "YARD_EWS_ADMIN_ROLE",	SET_STR, S(ews_admin_role), "yard-admin", 0, 0, CHECK_REQUIRED },
	{ "YARD_EWS_NAME_CLAIMS",	SET_STR, S(ews_name_claims), "name,preferred_username,sub", 0, 0, CHECK_NONE },
	{ "YARD_EWS_EMAIL_CLAIM",	SET_STR, S(ews_email_claim), "email", 0, 0, CHECK_NONE },
	{ "YARD_EWS_ROLES_PATHS",	SET_STR, S(ews_roles_paths), "roles", 0, 0, CHECK_NONE },
	{ "YARD_EWS_SCOPE_CLAIMS",	SET_STR, S(ews_scope_claims), "scope,scp", 0, 0, CHECK_NONE },
	{ "YARD_AUTO_PROVISION",	SET_INT, S(auto_provision), "1", 0, 1, CHECK_NONE },
	{ "YARD_EWS_CLOCK_SKEW",	SET_INT, S(ews_clock_skew), "60", 0, 600, CHECK_NONE },
	{ "YARD_EWS_NOTIFY_URL",	SET_STR, S(ews_notify_url), "", 0, 0, CHECK_HTTP_URL },
	{ "YARD_SMTP_URL",		SET_STR, S(smtp_url), "", 0, 0, CHECK_SMTP_URL },
	{ "YARD_SMTP_USER",		SET_STR, S(smtp_user), "", 0, 0, CHECK_NONE },
	{ "YARD_SMTP_PASSWORD_FILE",	SET_STR, S(smtp_password_file), "", 0, 0, CHECK_NONE },
	{ "YARD_SMTP_FROM",		SET_STR, S(smtp_from), "", 0, 0, CHECK_NONE },
	{ "YARD_SMTP_CA_FILE",		SET_STR, S(smtp_ca_file), "", 0, 0, CHECK_NONE },
	{ "YARD_EWS_NOTIFY_SECRET_FILE", SET_STR, S(ews_notify_secret_file), "", 0, 0, CHECK_NONE },
	{ "YARD_OUTBOX_BATCH",		SET_INT, S(outbox_batch), "10", 1, 100, CHECK_NONE },
	{ "YARD_OUTBOX_RETRY_BASE",	SET_INT, S(outbox_retry_base), "30", 1, 3600, CHECK_NONE },
	{ "YARD_OUTBOX_RETRY_MAX",	SET_INT, S(outbox_retry_max), "3600", 1, 86400, CHECK_NONE },
	{ "YARD_OUTBOX_MAX_ATTEMPTS",	SET_INT, S(outbox_max_attempts), "10", 1, 100, CHECK_NONE },
	{ "YARD_OUTBOX_STUCK_AFTER",	SET_INT, S(outbox_stuck_after), "600", 5, 86400, CHECK_NONE },
	{ "YARD_ALERT_EVAL",		SET_INT, S(alert_eval), "10", 1, 3600, CHECK_NONE },
	{ "YARD_ALERT_GROUP_WAIT",	SET_INT, S(alert_group_wait), "30", 0, 3600, CHECK_NONE },
	{ "YARD_ALERT_REPEAT",		SET_INT, S(alert_repeat), "14400", 1, 604800, CHECK_NONE },
	{ "YARD_ALERT_GRACE",		SET_INT, S(alert_grace), "60", 0, 86400, CHECK_NONE },
	{ "YARD_CONFIG_KEY_FILE",	SET_STR, S(config_key_file), APP_CONFIG_KEY_DEFAULT, 0, 0, CHECK_REQUIRED },
	{ "YARD_APOLLO_URL",		SET_STR, S(apollo_url), "", 0, 0, CHECK_BASE_URL },
	{ "YARD_APOLLO_PULL",		SET_INT, S(apollo_pull), "300", 1, 86400, CHECK_NONE },
	{ "YARD_APOLLO_TIMEOUT",		SET_INT, S(apollo_timeout), "90", 2, 600, CHECK_NONE },
	{ "YARD_THEME_CSS",		SET_STR, S(theme_css), "", 0, 0, CHECK_NONE },
	{ "YARD_WORKERS",		SET_INT, S(workers), "2", 1, 64, CHECK_NONE },
	{ "YARD_WORKER_MAX_CONNECTIONS", SET_INT, S(worker_max_connections), "8192", 64, 1048576, CHECK_NONE },
	{ "YARD_WORKER_RLIMIT_NOFILES",	SET_INT, S(worker_rlimit_nofiles), "16384", 256, 1048576, CHECK_NONE },
	{ "YARD_HTTP_REQUEST_LIMIT",	SET_INT, S(http_request_limit), "8192", 64, 1048576, CHECK_NONE },
	{ "YARD_NODE_SLOTS",		SET_INT, S(node_slots), "16384", 64, 1048576, CHECK_NONE },
	{ "YARD_PG_START_WAIT",		SET_INT, S(pg_start_wait), "30", 0, 600, CHECK_NONE },
	{ "YARD_JWKS_REFRESH_MIN",	SET_INT, S(jwks_refresh_min), "60", 10, 86400, CHECK_NONE },
	{ "YARD_EWS_JWKS_REFRESH",	SET_INT, S(ews_jwks_refresh), "300", 1, 86400, CHECK_NONE },
	{ "YARD_AUTHZ_CACHE_TTL",	SET_INT, S(authz_cache_ttl), "5", 0, 300, CHECK_NONE },
	{ "YARD_HEARTBEAT_INTERVAL",	SET_INT, S(heartbeat_interval), "5", 1, 300, CHECK_NONE },
	{ "YARD_POLL_TIMEOUT",		SET_INT, S(poll_timeout), "25", 5, 60, CHECK_NONE },
	{ "YARD_NODE_OFFLINE_AFTER",	SET_INT, S(node_offline_after), "15", 2, 3600, CHECK_NONE },
	{ "YARD_NODE_LOST_AFTER",	SET_INT, S(node_lost_after), "600", 10, 604800, CHECK_NONE },
	{ "YARD_COMMAND_TIMEOUT",	SET_INT, S(command_timeout), "120", 5, 86400, CHECK_NONE },
	{ "YARD_DEPLOY_TIMEOUT",	SET_INT, S(deploy_timeout), "3600", 5, 86400, CHECK_NONE },
	{ "YARD_METRICS_RETENTION_DAYS", SET_INT, S(metrics_retention_days), "30", 1, 3650, CHECK_NONE },
	{ "YARD_TOKEN_CACHE_SLOTS",	SET_INT, S(token_cache_slots), "4096", 16, 65536, CHECK_NONE },
};
/* clang-format on */

#define SET_NDEFS (sizeof(set_defs) / sizeof(set_defs[0]))

static int set_apply(struct app_settings *, const struct set_def *,
    const char *, char *, size_t);
static int set_check(const struct set_def *, const char *, char *, size_t);
static int set_http_url(const char *);
static const struct set_def *set_by_filekey(const char *, size_t);

int
app_split_hostport(const char *in, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon, *h;
	size_t	    hl;
	char	   *end;
	long	    p;

	if (in == NULL || *in == '\0')
		return (0);
	if (in[0] == '[') {
		if ((colon = strstr(in, "]:")) == NULL)
			return (0);
		h = in + 1;
		hl = (size_t)(colon - h);
		colon++;
	} else {
		if ((colon = strrchr(in, ':')) == NULL)
			return (0);
		h = in;
		hl = (size_t)(colon - in);
		if (memchr(h, ':', hl) != NULL)
			return (0);
	}
	if (hl == 0 || hl >= hostlen)
		return (0);
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || p < 1 ||
	    p > 65535)
		return (0);
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return (1);
}

int
app_origin_valid(const char *o)
{
	const char *rest;
	size_t	    i;

	if (strncmp(o, "http://", 7) == 0)
		rest = o + 7;
	else if (strncmp(o, "https://", 8) == 0)
		rest = o + 8;
	else
		return (0);
	if (*rest == '\0')
		return (0);
	/* Host and port only: no path, query, fragment or user info. */
	for (i = 0; rest[i] != '\0'; i++) {
		if (isalnum((unsigned char)rest[i]))
			continue;
		if (strchr(".-:[]", rest[i]) == NULL)
			return (0);
	}
	return (1);
}

static int
set_http_url(const char *v)
{
	const char *rest;
	size_t	    i;

	if (strncmp(v, "http://", 7) == 0)
		rest = v + 7;
	else if (strncmp(v, "https://", 8) == 0)
		rest = v + 8;
	else
		return (0);
	if (*rest == '\0' || *rest == '/')
		return (0);
	for (i = 0; v[i] != '\0'; i++) {
		if ((unsigned char)v[i] <= 0x20 || v[i] == 0x7f ||
		    v[i] == '"' || v[i] == '<' || v[i] == '>' || v[i] == '\\')
			return (0);
	}
	return (1);
}

/*
 * Whether iconv(3) converts from charset v to UTF-8.  gcc -fanalyzer (12)
 * takes iconv_open()'s (iconv_t)-1 for an allocation that leaks.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
static int
set_charset_known(const char *v)
{
	iconv_t cd;

	if ((cd = iconv_open("UTF-8", v)) == (iconv_t)-1)
		return (0);
	iconv_close(cd);
	return (1);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

static int
set_check(const struct set_def *d, const char *v, char *err, size_t errlen)
{
	char	 host[256], *copy, *tok, *save;
	uint16_t port;
	size_t	 i, n;
	int	 ok;

	switch (d->check) {
	case CHECK_NONE:
		return (1);
	case CHECK_REQUIRED:
		if (*v != '\0')
			return (1);
		snprintf(err, errlen, "%s: must not be empty", d->env);
		return (0);
	case CHECK_HTTP_URL:
	case CHECK_HTTP_URL_REQ:
		if (*v == '\0' && d->check == CHECK_HTTP_URL)
			return (1);
		if (set_http_url(v))
			return (1);
		snprintf(err, errlen, "%s: not an http(s) URL", d->env);
		return (0);
	case CHECK_BASE_URL:
		/* Paths are appended to it; a password has no place there. */
		if (*v == '\0')
			return (1);
		if (set_http_url(v) && strpbrk(v, "?#@") == NULL)
			return (1);
		snprintf(err, errlen,
		    "%s: not an http(s) base URL (no user, query or fragment)",
		    d->env);
		return (0);
	case CHECK_HOSTPORT:
		if (app_split_hostport(v, host, sizeof(host), &port))
			return (1);
		snprintf(err, errlen, "%s: expected address:port", d->env);
		return (0);
	case CHECK_ORIGINS:
		if ((copy = strdup(v)) == NULL) {
			snprintf(err, errlen, "%s: out of memory", d->env);
			return (0);
		}
		ok = 1;
		n = 0;
		for (tok = strtok_r(copy, " ,", &save); tok != NULL;
		     tok = strtok_r(NULL, " ,", &save)) {
			n++;
			if (!app_origin_valid(tok))
				ok = 0;
		}
		free(copy);
		if (ok && n > 0)
			return (1);
		snprintf(err, errlen,
		    "%s: expected origins like https://ews.example.com "
		    "(scheme, host, optional port; no path)",
		    d->env);
		return (0);
	case CHECK_REDIS_URL:
		if (strncmp(v, "redis://", 8) == 0 && v[8] != '\0')
			return (1);
		if (strncmp(v, "unix://", 7) == 0 && v[7] == '/')
			return (1);
		snprintf(err, errlen,
		    "%s: expected redis://[:password@]host:port[/db] or "
		    "unix:///path",
		    d->env);
		return (0);
	case CHECK_SMTP_URL:
		if (*v == '\0' || (strncmp(v, "smtp://", 7) == 0 && v[7]) ||
		    (strncmp(v, "smtps://", 8) == 0 && v[8]))
			return (1);
		snprintf(err, errlen, "%s: expected smtp:// or smtps:// URL",
		    d->env);
		return (0);
	case CHECK_CHARSET:
	case CHECK_TOKEN:
		for (i = 0; v[i] != '\0'; i++) {
			if (!isalnum((unsigned char)v[i]) &&
			    strchr("_.-", v[i]) == NULL)
				break;
		}
		if (i == 0 || v[i] != '\0') {
			snprintf(err, errlen,
			    "%s: letters, digits, '_', '.', '-' only", d->env);
			return (0);
		}
		if (d->check == CHECK_TOKEN)
			return (1);
		/* Known now, not at the first package's check. */
		if (set_charset_known(v))
			return (1);
		snprintf(err, errlen,
		    "%s: %s is not a character set this system can convert "
		    "(see iconv -l)",
		    d->env, v);
		return (0);
	}
	return (0);
}

/*
 * gcc -fanalyzer (12) loses a pointer stored through the table's offset
 * (s + d->off) and reports it leaked: app_settings_cleanup() frees it.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
static int
set_apply(struct app_settings *s, const struct set_def *d, const char *v,
    char *err, size_t errlen)
{
	char	**sp;
	int64_t	 *ip;
	long long n;
	char	 *end;
	size_t	  i;

	if (strlen(v) > APP_SETTING_MAX) {
		snprintf(err, errlen, "%s: value too long", d->env);
		return (0);
	}
	for (i = 0; v[i] != '\0'; i++) {
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			snprintf(err, errlen, "%s: control character in value",
			    d->env);
			return (0);
		}
	}

	if (d->type == SET_INT) {
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || n < d->min ||
		    n > d->max) {
			snprintf(err, errlen,
			    "%s: expected an integer from %" PRId64
			    " to %" PRId64,
			    d->env, d->min, d->max);
			return (0);
		}
		ip = (int64_t *)(void *)((char *)s + d->off);
		*ip = (int64_t)n;
		return (1);
	}

	if (!set_check(d, v, err, errlen))
		return (0);
	sp = (char **)(void *)((char *)s + d->off);
	free(*sp);
	*sp = NULL;
	/* An empty value means "none": optional settings read as NULL. */
	if (*v == '\0')
		return (1);
	if ((*sp = strdup(v)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", d->env);
		return (0);
	}
	return (1);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

static const struct set_def *
set_by_filekey(const char *key, size_t len)
{
	size_t	    i, j;
	const char *tail;

	for (i = 0; i < SET_NDEFS; i++) {
		tail = set_defs[i].env + 5; /* skip "YARD_" */
		if (strlen(tail) != len)
			continue;
		for (j = 0; j < len; j++) {
			if (tolower((unsigned char)tail[j]) != key[j])
				break;
		}
		if (j == len)
			return (&set_defs[i]);
	}
	return (NULL);
}

int
app_settings_load(struct app_settings *s, const char *text, size_t len,
    app_getenv_fn env, char *err, size_t errlen)
{
	const struct set_def *d;
	unsigned char	      seen[SET_NDEFS];
	const char	     *p, *end, *eol, *k, *v, *ev;
	char		      val[APP_SETTING_MAX + 1], sub[512];
	size_t		      i, klen, vlen, line;

	memset(s, 0, sizeof(*s));
	memset(seen, 0, sizeof(seen));

	for (i = 0; i < SET_NDEFS; i++) {
		if (!set_apply(s, &set_defs[i], set_defs[i].def, err, errlen) &&
		    set_defs[i].check != CHECK_REQUIRED)
			goto fail;
	}

	/* The settings file: "key value" lines, '#' comments at line start. */
	p = text;
	end = text == NULL ? NULL : text + len;
	line = 0;
	while (p != NULL && p < end) {
		line++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if (p == eol || *p == '#') {
			p = eol + 1;
			continue;
		}
		k = p;
		while (p < eol && *p != ' ' && *p != '\t')
			p++;
		klen = (size_t)(p - k);
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		v = p;
		vlen = (size_t)(eol - v);
		while (vlen > 0 &&
		    (v[vlen - 1] == ' ' || v[vlen - 1] == '\t' ||
			v[vlen - 1] == '\r'))
			vlen--;
		if ((d = set_by_filekey(k, klen)) == NULL) {
			snprintf(err, errlen,
			    "settings file:%zu: unknown "
			    "setting '%.*s'",
			    line, (int)(klen > 64 ? 64 : klen), k);
			goto fail;
		}
		if (seen[d - set_defs]) {
			snprintf(err, errlen, "settings file:%zu: %s set twice",
			    line, d->env);
			goto fail;
		}
		seen[d - set_defs] = 1;
		if (vlen > APP_SETTING_MAX) {
			snprintf(err, errlen,
			    "settings file:%zu: %s: value too "
			    "long",
			    line, d->env);
			goto fail;
		}
		memcpy(val, v, vlen);
		val[vlen] = '\0';
		if (!set_apply(s, d, val, sub, sizeof(sub))) {
			snprintf(err, errlen, "settings file:%zu: %s", line,
			    sub);
			goto fail;
		}
		p = eol + 1;
	}

	/* The environment overrides everything. */
	for (i = 0; i < SET_NDEFS; i++) {
		if ((ev = env(set_defs[i].env)) == NULL)
			continue;
		if (!set_apply(s, &set_defs[i], ev, err, errlen))
			goto fail;
	}

	/* Required settings, checked once all sources are in. */
	for (i = 0; i < SET_NDEFS; i++) {
		if (set_defs[i].type != SET_STR)
			continue;
		v = *(char **)(void *)((char *)s + set_defs[i].off);
		if (!set_check(&set_defs[i], v == NULL ? "" : v, err, errlen))
			goto fail;
	}

	/* A descriptor per connection, and some for PostgreSQL, Redis,
	 * upload spool files and the log. */
	if (s->worker_rlimit_nofiles <
	    s->worker_max_connections + APP_NOFILES_SPARE) {
		snprintf(err, errlen,
		    "YARD_WORKER_RLIMIT_NOFILES: %" PRId64 " is less than "
		    "YARD_WORKER_MAX_CONNECTIONS (%" PRId64 ") + %d",
		    s->worker_rlimit_nofiles, s->worker_max_connections,
		    APP_NOFILES_SPARE);
		goto fail;
	}
	return (1);

fail:
	app_settings_cleanup(s);
	return (0);
}

void
app_settings_cleanup(struct app_settings *s)
{
	size_t i;
	char **sp;

	for (i = 0; i < SET_NDEFS; i++) {
		if (set_defs[i].type != SET_STR)
			continue;
		sp = (char **)(void *)((char *)s + set_defs[i].off);
		free(*sp);
		*sp = NULL;
	}
}

void
app_settings_dump(const struct app_settings *s,
    void (*out)(const char *, void *), void *arg)
{
	char	    line[APP_SETTING_MAX + 64];
	const char *v;
	size_t	    i;

	/* Only paths and URLs live here; secrets are in files, never shown. */
	for (i = 0; i < SET_NDEFS; i++) {
		if (set_defs[i].type == SET_INT) {
			snprintf(line, sizeof(line), "%s=%" PRId64,
			    set_defs[i].env,
			    *(const int64_t *)(const void *)((const char *)s +
				set_defs[i].off));
		} else {
			v = *(char *const *)(const void *)((const char *)s +
			    set_defs[i].off);
			snprintf(line, sizeof(line), "%s=%s", set_defs[i].env,
			    v == NULL ? "" : v);
		}
		out(line, arg);
	}
}
