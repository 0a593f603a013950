/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for the settings table: defaults, file, environment,
 * validation messages that name the variable.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "settings.h"

static const char *env_names[8];
static const char *env_values[8];
static size_t	   env_count;

static const char *
fake_env(const char *name)
{
	size_t i;

	for (i = 0; i < env_count; i++) {
		if (strcmp(env_names[i], name) == 0)
			return (env_values[i]);
	}
	return (NULL);
}

static void
env_set(const char *name, const char *value)
{
	env_names[env_count] = name;
	env_values[env_count] = value;
	env_count++;
}

static int
setup(void **state)
{
	env_count = 0;
	return (0);
}

static void
load_ok(struct app_settings *s, const char *file)
{
	char err[256];

	assert_int_equal(app_settings_load(s, file, file ? strlen(file) : 0,
			     fake_env, err, sizeof(err)),
	    1);
}

static void
load_err(const char *file, const char *needle)
{
	struct app_settings s;
	char		    err[256];

	err[0] = '\0';
	assert_int_equal(app_settings_load(&s, file, file ? strlen(file) : 0,
			     fake_env, err, sizeof(err)),
	    0);
	if (strstr(err, needle) == NULL)
		fail_msg("expected '%s' in '%s'", needle, err);
}

static void
test_settings_defaults(void **state)
{
	struct app_settings s;

	load_ok(&s, NULL);
	assert_string_equal(s.listen, "127.0.0.1:8080");
	assert_string_equal(s.ews_algs, "RS256,ES256");
	assert_string_equal(s.ews_admin_role, "yard-admin");
	assert_int_equal(s.auto_provision, 1);
	assert_int_equal(s.ews_clock_skew, 60);
	assert_int_equal(s.package_max_bytes, 1073741824);
	assert_null(s.upload_dir);
	assert_int_equal(s.upload_chunk_max, 8 << 20);
	assert_int_equal(s.upload_expire, 86400);
	assert_true(s.upload_user_max == INT64_C(20) << 30);
	assert_int_equal(s.package_max_entries, 100000);
	assert_true(s.package_max_unpacked == INT64_C(8) << 30);
	assert_int_equal(s.package_max_ratio, 200);
	assert_int_equal(s.package_retention_days, 30);
	assert_string_equal(s.package_name_charset, "GBK");
	assert_null(s.ews_jwks_url);
	assert_null(s.smtp_url);
	app_settings_cleanup(&s);
}

static void
test_settings_precedence(void **state)
{
	struct app_settings s;

	env_set("YARD_EWS_ISSUER", "from-env");
	load_ok(&s, "ews_issuer from-file\news_audience aud-file\n");
	assert_string_equal(s.ews_issuer, "from-env");
	assert_string_equal(s.ews_audience, "aud-file");
	app_settings_cleanup(&s);
}

static void
test_settings_file_syntax(void **state)
{
	struct app_settings s;

	load_ok(&s, "# comment\n\n  ews_clock_skew   30  \r\nworkers 4");
	assert_int_equal(s.ews_clock_skew, 30);
	assert_int_equal(s.workers, 4);
	app_settings_cleanup(&s);
	load_err("nope 1\n", "settings file:1: unknown setting 'nope'");
	load_err("workers 2\nworkers 3\n",
	    "settings file:2: YARD_WORKERS set twice");
	load_err("\nworkers 0\n", "settings file:2: YARD_WORKERS");
}

static void
test_settings_package_retention(void **state)
{
	struct app_settings s;

	load_ok(&s, "package_retention_days 0\n");
	assert_int_equal(s.package_retention_days, 0);
	app_settings_cleanup(&s);
	load_err("package_retention_days -1\n",
	    "settings file:1: YARD_PACKAGE_RETENTION_DAYS");
	load_err("package_retention_days 0.5\n",
	    "settings file:1: YARD_PACKAGE_RETENTION_DAYS");
	load_err("package_retention_days 36501\n",
	    "settings file:1: YARD_PACKAGE_RETENTION_DAYS");
	env_set("YARD_PACKAGE_RETENTION_DAYS", "7");
	load_ok(&s, NULL);
	assert_int_equal(s.package_retention_days, 7);
	app_settings_cleanup(&s);
}

/* An unknown charset stops the server at start, naming it. */
static void
test_settings_package_charset(void **state)
{
	struct app_settings s;

	load_ok(&s, "package_name_charset CP936\n");
	assert_string_equal(s.package_name_charset, "CP936");
	app_settings_cleanup(&s);
	load_ok(&s, "package_name_charset SHIFT_JIS\n");
	app_settings_cleanup(&s);
	load_err("package_name_charset NO-SUCH-SET\n",
	    "YARD_PACKAGE_NAME_CHARSET: NO-SUCH-SET is not a character set");
	load_err("package_name_charset GB K\n",
	    "YARD_PACKAGE_NAME_CHARSET: letters, digits");
}

static void
test_settings_worker_limits(void **state)
{
	struct app_settings s;

	load_ok(&s,
	    "worker_max_connections 16384\n"
	    "worker_rlimit_nofiles 16640\n"
	    "http_request_limit 12000\n");
	assert_int_equal(s.worker_max_connections, 16384);
	assert_int_equal(s.worker_rlimit_nofiles, 16640);
	assert_int_equal(s.http_request_limit, 12000);
	app_settings_cleanup(&s);
	load_ok(&s, NULL);
	assert_int_equal(s.worker_max_connections, 8192);
	assert_int_equal(s.worker_rlimit_nofiles, 16384);
	assert_int_equal(s.http_request_limit, 8192);
	assert_int_equal(s.node_slots, 16384);
	app_settings_cleanup(&s);
	/* A descriptor per connection and 256 to spare. */
	load_err("worker_max_connections 16384\n",
	    "YARD_WORKER_RLIMIT_NOFILES: 16384 is less than "
	    "YARD_WORKER_MAX_CONNECTIONS (16384) + 256");
	env_set("YARD_WORKER_RLIMIT_NOFILES", "16639");
	load_err("worker_max_connections 16384\n",
	    "YARD_WORKER_RLIMIT_NOFILES: 16639 is less than");
	env_count = 0;
	env_set("YARD_HTTP_REQUEST_LIMIT", "10");
	load_err(NULL,
	    "YARD_HTTP_REQUEST_LIMIT: expected an integer from 64 to 1048576");
	env_count = 0;
	env_set("YARD_NODE_SLOTS", "63");
	load_err(NULL,
	    "YARD_NODE_SLOTS: expected an integer from 64 to 1048576");
	env_count = 0;
}

static void
test_settings_bad_values(void **state)
{
	env_set("YARD_EWS_CLOCK_SKEW", "12x");
	load_err(NULL,
	    "YARD_EWS_CLOCK_SKEW: expected an integer from 0 to 600");
	env_count = 0;
	env_set("YARD_LISTEN", "localhost");
	load_err(NULL, "YARD_LISTEN");
	env_count = 0;
	env_set("YARD_EWS_ORIGINS", "https://a.example, https://b.example/x");
	load_err(NULL, "YARD_EWS_ORIGINS");
	env_count = 0;
	env_set("YARD_EWS_LOGIN_URL", "");
	load_err(NULL, "YARD_EWS_LOGIN_URL");
	env_count = 0;
	env_set("YARD_EWS_RETURN_PARAM", "a b");
	load_err(NULL, "YARD_EWS_RETURN_PARAM");
	env_count = 0;
	env_set("YARD_EWS_ISSUER", "bad\x01value");
	load_err(NULL, "YARD_EWS_ISSUER: control character");
}

/* The notification outbox's settings: defaults, and bounds that keep a
 * bad value from making retries spin or never happen. */
static void
test_settings_outbox(void **state)
{
	struct app_settings s;

	load_ok(&s, NULL);
	assert_null(s.smtp_ca_file);
	assert_null(s.ews_notify_secret_file);
	assert_int_equal(s.outbox_batch, 10);
	assert_int_equal(s.outbox_retry_base, 30);
	assert_int_equal(s.outbox_retry_max, 3600);
	assert_int_equal(s.outbox_max_attempts, 10);
	assert_int_equal(s.outbox_stuck_after, 600);
	app_settings_cleanup(&s);

	env_set("YARD_SMTP_CA_FILE", "/etc/ssl/mail-ca.pem");
	env_set("YARD_OUTBOX_RETRY_BASE", "1");
	load_ok(&s, NULL);
	assert_string_equal(s.smtp_ca_file, "/etc/ssl/mail-ca.pem");
	assert_int_equal(s.outbox_retry_base, 1);
	app_settings_cleanup(&s);

	env_count = 0;
	env_set("YARD_OUTBOX_RETRY_BASE", "0");
	load_err(NULL, "YARD_OUTBOX_RETRY_BASE: expected an integer from 1");
	env_count = 0;
	env_set("YARD_OUTBOX_MAX_ATTEMPTS", "0");
	load_err(NULL, "YARD_OUTBOX_MAX_ATTEMPTS");
	env_count = 0;
	env_set("YARD_OUTBOX_STUCK_AFTER", "1");
	load_err(NULL, "YARD_OUTBOX_STUCK_AFTER");
	env_count = 0;
	env_set("YARD_SMTP_URL", "http://mail.example");
	load_err(NULL, "YARD_SMTP_URL: expected smtp:// or smtps://");
}

/* The alert timings: defaults, small values for tests, and bounds that
 * keep the evaluator from spinning (an interval of 0) or never repeating. */
static void
test_settings_alerts(void **state)
{
	struct app_settings s;

	env_count = 0;
	load_ok(&s, NULL);
	assert_int_equal(s.alert_eval, 10);
	assert_int_equal(s.alert_group_wait, 30);
	assert_int_equal(s.alert_repeat, 14400);
	assert_int_equal(s.alert_grace, 60);
	app_settings_cleanup(&s);

	env_set("YARD_ALERT_EVAL", "1");
	env_set("YARD_ALERT_GROUP_WAIT", "0");
	env_set("YARD_ALERT_REPEAT", "5");
	env_set("YARD_ALERT_GRACE", "0");
	load_ok(&s, NULL);
	assert_int_equal(s.alert_eval, 1);
	assert_int_equal(s.alert_group_wait, 0);
	assert_int_equal(s.alert_repeat, 5);
	assert_int_equal(s.alert_grace, 0);
	app_settings_cleanup(&s);

	env_count = 0;
	env_set("YARD_ALERT_EVAL", "0");
	load_err(NULL, "YARD_ALERT_EVAL: expected an integer from 1");
	env_count = 0;
	env_set("YARD_ALERT_REPEAT", "0");
	load_err(NULL, "YARD_ALERT_REPEAT");
	env_count = 0;
	env_set("YARD_ALERT_GROUP_WAIT", "3601");
	load_err(NULL, "YARD_ALERT_GROUP_WAIT");
	env_count = 0;
	env_set("YARD_ALERT_GRACE", "-1");
	load_err(NULL, "YARD_ALERT_GRACE");
}

static void
test_settings_apollo(void **state)
{
	struct app_settings s;

	load_ok(&s, NULL);
	assert_null(s.apollo_url);
	assert_int_equal(s.apollo_pull, 300);
	assert_int_equal(s.apollo_timeout, 90);
	app_settings_cleanup(&s);

	env_set("YARD_APOLLO_URL", "http://127.0.0.1:8070/apollo");
	env_set("YARD_APOLLO_PULL", "2");
	env_set("YARD_APOLLO_TIMEOUT", "5");
	load_ok(&s, NULL);
	assert_string_equal(s.apollo_url, "http://127.0.0.1:8070/apollo");
	assert_int_equal(s.apollo_pull, 2);
	assert_int_equal(s.apollo_timeout, 5);
	app_settings_cleanup(&s);

	env_count = 0;
	env_set("YARD_APOLLO_URL", "http://u:pw@apollo.example");
	load_err(NULL, "YARD_APOLLO_URL: not an http(s) base URL");
	env_count = 0;
	env_set("YARD_APOLLO_URL", "http://apollo.example/?x=1");
	load_err(NULL, "YARD_APOLLO_URL");
	env_count = 0;
	env_set("YARD_APOLLO_URL", "ftp://apollo.example");
	load_err(NULL, "YARD_APOLLO_URL");
	env_count = 0;
	env_set("YARD_APOLLO_PULL", "0");
	load_err(NULL, "YARD_APOLLO_PULL: expected an integer from 1");
	env_count = 0;
	env_set("YARD_APOLLO_TIMEOUT", "601");
	load_err(NULL, "YARD_APOLLO_TIMEOUT");
}

static void
test_settings_origins_and_hostport(void **state)
{
	char	 host[64];
	uint16_t port;

	assert_int_equal(app_origin_valid("https://ews.corp.example"), 1);
	assert_int_equal(app_origin_valid("http://127.0.0.1:8090"), 1);
	assert_int_equal(app_origin_valid("https://ews.example/"), 0);
	assert_int_equal(app_origin_valid("ews.example"), 0);
	assert_int_equal(app_origin_valid("https://u@ews.example"), 0);
	assert_int_equal(app_split_hostport("127.0.0.1:8080", host,
			     sizeof(host), &port),
	    1);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8080);
	assert_int_equal(app_split_hostport("[::1]:80", host, sizeof(host),
			     &port),
	    1);
	assert_string_equal(host, "::1");
	assert_int_equal(app_split_hostport("::1:80", host, sizeof(host),
			     &port),
	    0);
	assert_int_equal(app_split_hostport("h:0", host, sizeof(host), &port),
	    0);
	assert_int_equal(app_split_hostport("h:65536", host, sizeof(host),
			     &port),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_settings_defaults, setup),
		cmocka_unit_test_setup(test_settings_precedence, setup),
		cmocka_unit_test_setup(test_settings_file_syntax, setup),
		cmocka_unit_test_setup(test_settings_package_retention, setup),
		cmocka_unit_test_setup(test_settings_package_charset, setup),
		cmocka_unit_test_setup(test_settings_worker_limits, setup),
		cmocka_unit_test_setup(test_settings_bad_values, setup),
		cmocka_unit_test_setup(test_settings_origins_and_hostport,
		    setup),
		cmocka_unit_test_setup(test_settings_alerts, setup),
		cmocka_unit_test_setup(test_settings_outbox, setup),
		cmocka_unit_test_setup(test_settings_apollo, setup),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
