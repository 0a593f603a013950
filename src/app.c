/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Kore hooks of the Yard server: settings, keys and migrations in the
 * parent before the workers fork; stores and caches in each worker.
 */

#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/seccomp.h>

#include <curl/curl.h>

#include "app.h"
#include "api/api.h"
#include "auth/auth.h"
#include "core/core.h"
#include "store/store.h"

/*
 * What the workers need beyond Kore's own filters on Debian 12 (glibc 2.36,
 * libcurl 7.88, libpq 15), found with Kore's seccomp_tracing: see
 * docs/operations.md, "Auditing the sandbox".  A call missing here kills
 * the worker serving the request (SIGSYS).
 */
/* clang-format off */
KORE_SECCOMP_FILTER("yard",
    /* glibc realloc() of a block it got from mmap: libpq's input buffer
     * growing for answers of a megabyte or more (log downloads, follows). */
    KORE_SYSCALL_ALLOW(mremap),
    /* glibc 2.36 stat()/fstat()/fopen(): libpq connecting, JWKS and CA
     * files, the resolver's /etc files. */
    KORE_SYSCALL_ALLOW(newfstatat),
    /* libpq (its Kerberos library) lists a directory while connecting. */
    KORE_SYSCALL_ALLOW(getdents64),
    /* libcurl after each connect (the JWKS fetch). */
    KORE_SYSCALL_ALLOW(getpeername),
    /* Every new thread (the JWKS task, curl's resolver thread). */
    KORE_SYSCALL_ALLOW(rseq),
    /* pthread_create(): ENOSYS makes glibc fall back to clone, which
     * Kore's task filter allows. */
    KORE_SYSCALL_DENY(clone3, ENOSYS),
    /* glibc realpath() of a directory. */
    KORE_SYSCALL_ALLOW(faccessat2),
    /* Name resolution beyond /etc/hosts (a JWKS host name through DNS):
     * uname, DNS queries sent with sendmmsg, getaddrinfo's netlink
     * socket (socket, bind, recvmsg), curl's resolver wake-up (pipe2,
     * eventfd2).  The test suites resolve no name through DNS. */
    KORE_SYSCALL_ALLOW(uname),
    KORE_SYSCALL_ALLOW(sendmmsg),
    KORE_SYSCALL_ALLOW_ARG(socket, 0, AF_NETLINK),
    KORE_SYSCALL_ALLOW(bind),
    KORE_SYSCALL_ALLOW(recvmsg),
    KORE_SYSCALL_ALLOW(pipe2),
    KORE_SYSCALL_ALLOW(eventfd2),
    /* Uploads (api/uploads.c): a chunk is fsync'd before its offset is
     * committed; bytes past the committed offset are cut (ftruncate); a
     * checked package is renamed into the store; statvfs() (statfs)
     * before an upload is accepted. */
    KORE_SYSCALL_ALLOW(fsync),
    KORE_SYSCALL_ALLOW(ftruncate),
    KORE_SYSCALL_ALLOW(rename),
    KORE_SYSCALL_ALLOW(statfs),
    /* The package check (src/pkg/, in a Kore task) reads the zip's
     * headers with pread().  A call missing in a task thread kills only
     * that thread (SECCOMP_RET_KILL): the check would never answer. */
    KORE_SYSCALL_ALLOW(pread64))
/* clang-format on */

void kore_parent_configure(int, char **);
void kore_worker_configure(void);

static void	   app_load_keys(void);
static void	   app_load_redis(void);
static void	   app_load_config_key(void);
static void	   app_load_origins(void);
static const char *app_env(const char *);

/* The Redis password from YARD_REDIS_PASSWORD_FILE, read by the parent;
 * the workers send it in AUTH on every connection.  NULL: none. */
static char  *app_redis_password;
static size_t app_redis_password_len;

static const char *
app_env(const char *name)
{
	return (getenv(name));
}

static void
app_load_keys(void)
{
	char  *list, *path, *save, *pem, err[256];
	size_t len;

	if ((app.keys = auth_keyset_new()) == NULL)
		fatal("auth: out of memory");

	if (app.cfg.ews_public_key_file != NULL) {
		list = kore_strdup(app.cfg.ews_public_key_file);
		for (path = strtok_r(list, ",", &save); path != NULL;
		     path = strtok_r(NULL, ",", &save)) {
			if ((pem = app_file_read(path, 64 * 1024, &len)) ==
			    NULL)
				fatal(
				    "YARD_EWS_PUBLIC_KEY_FILE: cannot read %s: "
				    "%s (set it empty when keys come from "
				    "YARD_EWS_JWKS_URL only)",
				    path, errno_s);
			if (!auth_keyset_add_pem(app.keys, pem, len, NULL, err,
				sizeof(err)))
				fatal("YARD_EWS_PUBLIC_KEY_FILE: %s: %s", path,
				    err);
			kore_free(pem);
		}
		kore_free(list);
	}

	if (app.cfg.ews_hs256_secret_file != NULL) {
		if ((pem = app_file_read(app.cfg.ews_hs256_secret_file, 4096,
			 &len)) == NULL)
			fatal("YARD_EWS_HS256_SECRET_FILE: cannot read %s: %s",
			    app.cfg.ews_hs256_secret_file, errno_s);
		while (
		    len > 0 && (pem[len - 1] == '\n' || pem[len - 1] == '\r'))
			len--;
		if (!auth_keyset_add_secret(app.keys, (uint8_t *)pem, len, err,
			sizeof(err)))
			fatal("YARD_EWS_HS256_SECRET_FILE: %s", err);
		explicit_bzero(pem, len);
		kore_free(pem);
	} else if (app.policy.algs & AUTH_ALG_HS256) {
		fatal("YARD_EWS_ALGS: HS256 needs YARD_EWS_HS256_SECRET_FILE");
	}

	/* The JWKS all workers share, fetched once now (blocking is fine:
	 * no worker exists yet), then by the workers' timers. */
	if (!auth_sso_shared_init(app.keys, app.cfg.ews_jwks_url,
		APP_USER_AGENT, app.cfg.ews_jwks_refresh, err, sizeof(err)) &&
	    auth_keyset_count(app.keys) == 0)
		fatal("YARD_EWS_JWKS_URL: %s", err);

	if (auth_keyset_count(app.keys) == 0)
		fatal(
		    "no usable verification key: set YARD_EWS_PUBLIC_KEY_FILE "
		    "or YARD_EWS_JWKS_URL");
}

/*
 * YARD_REDIS_URL is parsed here, as the workers will, so that a URL they
 * could not use stops start-up; a password in it and in
 * YARD_REDIS_PASSWORD_FILE as well is refused, never guessed between.
 * The file is read once, like the other secrets: at most 4 KiB, a
 * trailing newline dropped, never empty.
 */
static void
app_load_redis(void)
{
	struct store_redis_addr addr;
	const char	       *path = app.cfg.redis_password_file;
	size_t			len;
	int			in_url;

	if (!store_redis_parse_url(app.cfg.redis_url, &addr))
		fatal("YARD_REDIS_URL: expected redis://[:password@]host:port"
		      "[/db] or unix:///path");
	in_url = addr.password[0] != '\0';
	explicit_bzero(&addr, sizeof(addr));
	if (path == NULL)
		return;
	if (in_url)
		fatal("YARD_REDIS_URL holds a password and "
		      "YARD_REDIS_PASSWORD_FILE is set: give it in one place "
		      "only (the file)");
	if ((app_redis_password = app_file_read(path, 4096, &len)) == NULL)
		fatal("YARD_REDIS_PASSWORD_FILE: cannot read %s: %s", path,
		    errno == EFBIG ? "not a regular file of at most 4 KiB"
				   : errno_s);
	while (len > 0 &&
	    (app_redis_password[len - 1] == '\n' ||
		app_redis_password[len - 1] == '\r'))
		app_redis_password[--len] = '\0';
	if (len == 0)
		fatal("YARD_REDIS_PASSWORD_FILE: %s is empty", path);
	app_redis_password_len = len;
}

/*
 * The key of secret configuration values.  The default file is created
 * with 32 random bytes (mode 0600, written aside and linked into place so
 * that two servers starting at once agree on one key); any other file
 * must exist and hold 32 bytes or 64 hex characters.
 */
static void
app_load_config_key(void)
{
	const char *path = app.cfg.config_key_file;
	uint8_t	    raw[AUTH_CFGKEY_LEN];
	char	   *buf, tmp[1100];
	size_t	    len;
	int	    fd;

	buf = app_file_read(path, 1024, &len);
	if (buf == NULL && errno == ENOENT &&
	    strcmp(path, APP_CONFIG_KEY_DEFAULT) == 0) {
		(void)mkdir("var", 0700);
		(void)snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path,
		    (int)getpid());
		if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
			fatal("YARD_CONFIG_KEY_FILE: getrandom: %s", errno_s);
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			 0600)) == -1)
			fatal("YARD_CONFIG_KEY_FILE: cannot create %s: %s", tmp,
			    errno_s);
		if (write(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw) ||
		    fsync(fd) == -1)
			fatal("YARD_CONFIG_KEY_FILE: cannot write %s: %s", tmp,
			    errno_s);
		close(fd);
		explicit_bzero(raw, sizeof(raw));
		if (link(tmp, path) == -1 && errno != EEXIST)
			fatal("YARD_CONFIG_KEY_FILE: cannot create %s: %s",
			    path, errno_s);
		(void)unlink(tmp);
		kore_log(LOG_NOTICE, "YARD_CONFIG_KEY_FILE: created %s", path);
		buf = app_file_read(path, 1024, &len);
	}
	if (buf == NULL)
		fatal("YARD_CONFIG_KEY_FILE: cannot read %s: %s", path,
		    errno == EFBIG ? "not a regular file of at most 1 KiB"
				   : errno_s);
	if (!auth_cfgkey_parse((const uint8_t *)buf, len, app.config_key)) {
		explicit_bzero(buf, len);
		fatal("YARD_CONFIG_KEY_FILE: %s must hold 32 bytes or 64 hex "
		      "characters (it has %zu bytes)",
		    path, len);
	}
	explicit_bzero(buf, len);
	kore_free(buf);
}

static void
app_load_origins(void)
{
	struct kore_buf b;
	char	       *list, *o, *save;

	list = kore_strdup(app.cfg.ews_origins);
	kore_buf_init(&b, 256);
	kore_buf_appendf(&b,
	    "default-src 'self'; script-src 'self'; "
	    "style-src 'self'; img-src 'self' data:; connect-src 'self'; "
	    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'");
	for (o = strtok_r(list, " ,", &save); o != NULL;
	     o = strtok_r(NULL, " ,", &save)) {
		if (app.norigins == APP_ORIGINS_MAX)
			fatal("YARD_EWS_ORIGINS: at most %d origins",
			    APP_ORIGINS_MAX);
		app.origins[app.norigins++] = kore_strdup(o);
		kore_buf_appendf(&b, " %s", o);
	}
	kore_free(list);
	app.csp_page = kore_buf_stringify(&b, NULL);
	app.csp_page = kore_strdup(app.csp_page);
	kore_buf_cleanup(&b);
}

void
kore_parent_configure(int argc, char **argv)
{
	char	    err[512], dir[1024], *text;
	const char *file;
	size_t	    len;

	text = NULL;
	len = 0;
	if ((file = getenv("YARD_SETTINGS_FILE")) != NULL &&
	    (text = app_file_read(file, 1024 * 1024, &len)) == NULL)
		fatal("YARD_SETTINGS_FILE: cannot read %s: %s", file, errno_s);
	if (!app_settings_load(&app.cfg, text, len, app_env, err, sizeof(err)))
		fatal("settings: %s", err);
	kore_free(text);

	/*
	 * Kore's per-worker limits (parked long-polls hold a connection and
	 * a request each): set before the workers fork, replacing any value
	 * in the Kore configuration.
	 */
	worker_max_connections = (u_int32_t)app.cfg.worker_max_connections;
	worker_rlimit_nofiles = (u_int32_t)app.cfg.worker_rlimit_nofiles;
	http_request_limit = (u_int32_t)app.cfg.http_request_limit;

	app.policy.issuer = app.cfg.ews_issuer;
	app.policy.audience = app.cfg.ews_audience;
	app.policy.skew = app.cfg.ews_clock_skew;
	app.policy.admin_role = app.cfg.ews_admin_role;
	if ((app.policy.algs = auth_algs_parse(app.cfg.ews_algs)) == 0)
		fatal("YARD_EWS_ALGS: expected a list of RS256, RS384, RS512, "
		      "ES256, ES384, ES512, HS256");
	if (!auth_claim_map_parse(&app.claim_map, app.cfg.ews_name_claims,
		app.cfg.ews_email_claim, app.cfg.ews_roles_paths,
		app.cfg.ews_scope_claims, err, sizeof(err)))
		fatal("%s", err);
	app.policy.map = &app.claim_map;

	app_load_redis();
	app_load_config_key();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatal("curl_global_init failed");

	app_load_keys();
	app_load_origins();
	api_ui_load();
	api_dist_load();
	/* The outbox's secrets (SMTP password, callback HMAC key). */
	api_outbox_load();

	snprintf(dir, sizeof(dir), "%s/src/store/migrations", app.cfg.home);
	if (!store_db_migrate(app.cfg.pg_dsn, dir, (int)app.cfg.pg_start_wait,
		err, sizeof(err)))
		fatal("%s", err);
	api_uploads_prepare();
	/* Shared counters, mapped before the workers fork. */
	core_metrics_init();

	kore_log(LOG_NOTICE, "yard %s: %zu verification key(s), issuer %s",
	    APP_VERSION, auth_keyset_count(app.keys), app.cfg.ews_issuer);
	kore_log(LOG_NOTICE,
	    "per worker: %u connections, %u descriptors, %u requests",
	    worker_max_connections, worker_rlimit_nofiles, http_request_limit);
}

/*
 * Worker start: each layer gets its configuration from here (src/auth/ and
 * src/core/ include nothing of app.h); the features register their Redis
 * routes before the subscriber connects.
 */
void
kore_worker_configure(void)
{
	struct auth_sso_config sso;
	struct store_config    store;

	memset(&sso, 0, sizeof(sso));
	sso.keys = app.keys;
	sso.policy = &app.policy;
	sso.login_url = app.cfg.ews_login_url;
	sso.return_param = app.cfg.ews_return_param;
	sso.jwks_url = app.cfg.ews_jwks_url;
	sso.user_agent = APP_USER_AGENT;
	sso.jwks_refresh_min = app.cfg.jwks_refresh_min;
	sso.jwks_refresh = app.cfg.ews_jwks_refresh;
	sso.cache_slots = (size_t)app.cfg.token_cache_slots;
	auth_sso_init(&sso);
	memset(&store, 0, sizeof(store));
	store.node_offline_after = app.cfg.node_offline_after;
	store.node_lost_after = app.cfg.node_lost_after;
	store.command_timeout = app.cfg.command_timeout;
	store.deploy_timeout = app.cfg.deploy_timeout;
	store.metrics_retention_days = app.cfg.metrics_retention_days;
	store.alert_eval = app.cfg.alert_eval;
	store.alert_group_wait = app.cfg.alert_group_wait;
	store.alert_repeat = app.cfg.alert_repeat;
	store.alert_grace = app.cfg.alert_grace;
	store_init(&store);
	store_pg_init(app.cfg.pg_dsn);
	core_metrics_worker();
	core_wait_routes();
	api_signin_init();
	api_agent_worker_init();
	api_uploads_init();
	api_packages_init();
	/* Worker 1: the outbox duty, next to the other cluster duties. */
	api_outbox_worker_init();
	/* Worker 1: the Apollo follower's duties (YARD_APOLLO_URL). */
	api_apollo_worker_init();
	store_redis_set_password(app_redis_password, app_redis_password_len);
	core_redis_start(app.cfg.redis_url);
}
