/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Yard's settings: one declarative table, defaults, a settings file and
 * YARD_* environment overrides.  Kore-free so that tests and fuzzers link it.
 */

#ifndef SETTINGS_H
#define SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#define APP_SETTING_MAX	  4096 /* longest accepted value, bytes */
#define APP_NOFILES_SPARE 256
/* YARD_CONFIG_KEY_FILE's default: created (32 random bytes, 0600) when
 * missing; any other file must exist. */
#define APP_CONFIG_KEY_DEFAULT \
	"var/config.key" /* descriptors beyond connections, per worker */

struct app_settings {
	char   *home; /* where frontend-fragments/, migrations live */
	char   *listen;
	char   *public_url;
	char   *pg_dsn;
	char   *redis_url;
	char   *redis_password_file; /* requirepass; NULL: none */
	char   *package_dir;
	char   *agent_dist_dir; /* yard-agent_*.deb offered to new nodes */
	int64_t package_max_bytes;
	char   *upload_dir; /* "": YARD_PACKAGE_DIR/uploads (same device) */
	int64_t upload_chunk_max; /* bytes of one tus PATCH */
	int64_t upload_expire; /* seconds a partial upload lives */
	int64_t upload_user_max; /* bytes of one user's partial uploads */
	int64_t package_max_entries;
	int64_t package_max_unpacked;
	int64_t package_max_ratio;
	int64_t package_retention_days; /* unreferenced packages; 0: forever */
	char   *package_name_charset; /* of zip names not flagged UTF-8 */
	char   *ews_issuer;
	char   *ews_audience;
	char   *ews_public_key_file; /* comma-separated list */
	char   *ews_jwks_url;
	char   *ews_hs256_secret_file;
	char   *ews_algs;
	char   *ews_login_url;
	char   *ews_return_param;
	char   *ews_origins; /* space or comma separated */
	char   *ews_admin_role;
	char   *ews_name_claims; /* ordered list of claim paths */
	char   *ews_email_claim; /* a claim path; NULL: none */
	char   *ews_roles_paths; /* ordered list of claim paths */
	char   *ews_scope_claims; /* ordered list of claim paths */
	int64_t auto_provision;
	int64_t ews_clock_skew;
	char   *ews_notify_url;
	char   *smtp_url;
	char   *smtp_user;
	char   *smtp_password_file;
	char   *smtp_from;
	char   *smtp_ca_file; /* CA bundle for the mail server; system's */
	char   *ews_notify_secret_file; /* HMAC key of the EWS callback */
	int64_t outbox_batch; /* deliveries claimed per run */
	int64_t outbox_retry_base; /* seconds: first back-off, doubled */
	int64_t outbox_retry_max; /* seconds: longest back-off */
	int64_t outbox_max_attempts; /* then a delivery is failed */
	int64_t alert_eval; /* seconds between alert evaluations */
	int64_t alert_group_wait; /* seconds: a node's alerts in one message */
	int64_t alert_repeat; /* seconds before a firing alert is sent again */
	int64_t alert_grace; /* seconds planned work keeps alerts quiet */
	int64_t outbox_stuck_after; /* seconds: a claim left unreported */
	char   *config_key_file; /* secret configuration values' key */
	char   *apollo_url; /* NULL: Apollo off */
	int64_t apollo_pull; /* seconds between fallback pulls */
	int64_t apollo_timeout; /* seconds: the long-poll's client timeout */
	char   *theme_css;
	int64_t workers;
	int64_t worker_max_connections; /* Kore, per worker */
	int64_t worker_rlimit_nofiles; /* Kore, per worker */
	int64_t http_request_limit; /* Kore: requests in flight, per worker */
	int64_t node_slots; /* nodes a worker keeps heartbeats and keys of */
	int64_t pg_start_wait; /* seconds to wait for PostgreSQL at start */
	int64_t jwks_refresh_min; /* seconds between JWKS refetches */
	int64_t ews_jwks_refresh; /* seconds: the JWKS timer's period */
	int64_t authz_cache_ttl; /* seconds a cached user may live */
	int64_t token_cache_slots;
	int64_t heartbeat_interval; /* seconds, told to agents */
	int64_t poll_timeout; /* agents' long-poll, seconds */
	int64_t node_offline_after; /* no heartbeat for this long: offline */
	int64_t node_lost_after; /* ... and for this long: lost */
	int64_t command_timeout; /* seconds before a command times out */
	int64_t
	    deploy_timeout; /* the same for deploy, update, rollback, move */
	int64_t metrics_retention_days; /* node and task metric history */
};

/* Looks up an environment variable; NULL when unset. */
typedef const char *(*app_getenv_fn)(const char *);

/*
 * Fill *s from defaults, then the settings file text (may be NULL), then
 * the environment.  Every value is validated (type, bounds, URL shape).
 * Returns 1, or 0 with err naming the variable (and the file line).
 * Strings in *s are malloc'd; release them with app_settings_cleanup().
 */
int  app_settings_load(struct app_settings *s, const char *file_text,
     size_t file_len, app_getenv_fn env, char *err, size_t errlen);
void app_settings_cleanup(struct app_settings *s);

/* Print every setting as "NAME=value" lines, secrets never included. */
void app_settings_dump(const struct app_settings *s,
    void (*out)(const char *line, void *arg), void *arg);

/*
 * Split a host:port string.  Returns 1 and copies the host (brackets
 * removed for IPv6) into host, or 0 when malformed.
 */
int app_split_hostport(const char *in, char *host, size_t hostlen,
    uint16_t *port);

/* Origins: "scheme://host[:port]" with no path, query or fragment. */
int app_origin_valid(const char *origin);

#endif /* SETTINGS_H */
