/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Kore side of EWS sign-in: bearer extraction, the per-worker cache of
 * verified tokens, and JWKS fetches (blocking in the parent at start-up,
 * in a Kore task thread afterwards so the event loop never waits).
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/tasks.h>

#include <curl/curl.h>

#include "auth/auth.h"

struct sso_buf {
	char  *data;
	size_t len;
	int    overflow;
};

static size_t sso_curl_write(char *, size_t, size_t, void *);
static int    sso_task_run(struct kore_task *);
static void   sso_task_done(struct kore_task *);

struct auth_sso_stats auth_sso_stats;

static struct auth_cache *sso_cache;
static struct kore_task	 *sso_task;
static int64_t		  sso_last_fetch;
static void (*sso_done)(void);
static struct auth_sso_config sso;

/* Wall-clock seconds (token times are wall-clock by definition). */
static int64_t
sso_now(void)
{
	return ((int64_t)time(NULL));
}

void
auth_sso_init(const struct auth_sso_config *cfg)
{
	sso = *cfg;
	if ((sso_cache = auth_cache_new(sso.cache_slots)) == NULL)
		fatal("auth: cannot allocate the token cache");
	/* The parent fetched the JWKS just before forking us. */
	sso_last_fetch = sso_now();
}

int
auth_sso_bearer(struct http_request *req, const char **tok, size_t *len)
{
	const char *h;

	if (!http_request_header(req, "authorization", &h))
		return (0);
	if (strncasecmp(h, "bearer ", 7) != 0)
		return (0);
	h += 7;
	while (*h == ' ')
		h++;
	if (*h == '\0')
		return (0);
	*tok = h;
	*len = strlen(h);
	return (1);
}

/* CONTRACT STUB (helper B replaces): this worker's view only. */
void
auth_sso_jwks_status(struct auth_jwks_status *st)
{
	memset(st, 0, sizeof(*st));
	st->configured = sso.jwks_url != NULL;
	st->fetches = auth_sso_stats.jwks_fetches;
	st->failures = auth_sso_stats.jwks_failures;
}

enum auth_result
auth_sso_verify(const char *tok, size_t len, struct auth_claims *out,
    struct auth_seen *seen)
{
	enum auth_result r;

	if (seen != NULL)
		memset(seen, 0, sizeof(*seen));
	if (len > AUTH_TOKEN_MAX)
		return (AUTH_TOO_LARGE);
	if (auth_cache_get(sso_cache, tok, len, sso_now(), sso.policy->skew,
		out)) {
		auth_sso_stats.cache_hits++;
		return (AUTH_OK);
	}
	auth_sso_stats.cache_misses++;
	r = auth_verify_seen(sso.keys, sso.policy, tok, len, sso_now(), out,
	    seen);
	if (r == AUTH_OK)
		auth_cache_put(sso_cache, tok, len, out);
	else
		auth_sso_stats.rejected++;
	return (r);
}

void
auth_sso_login_url(const char *return_to, char *out, size_t outlen)
{
	const char   *hex = "0123456789ABCDEF";
	size_t	      o;
	const char   *p;
	unsigned char ch;

	o = (size_t)snprintf(out, outlen, "%s%c%s=", sso.login_url,
	    strchr(sso.login_url, '?') != NULL ? '&' : '?', sso.return_param);
	if (o >= outlen)
		return;
	for (p = return_to; *p != '\0' && o + 4 < outlen; p++) {
		ch = (unsigned char)*p;
		if (isalnum(ch) || strchr("-._~", ch) != NULL) {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 0x0f];
		}
	}
	out[o] = '\0';
}

static size_t
sso_curl_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sso_buf *b = arg;
	size_t		n = size * nmemb;
	char	       *p;

	if (b->len + n > AUTH_JWKS_MAX) {
		b->overflow = 1;
		return (0);
	}
	if ((p = realloc(b->data, b->len + n + 1)) == NULL)
		return (0);
	b->data = p;
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return (n);
}

int
auth_jwks_fetch(const char *url, const char *user_agent, char **body,
    size_t *len, char *err, size_t errlen)
{
	CURL	      *c;
	CURLcode       rc;
	long	       status;
	struct sso_buf b;
	char	       ebuf[CURL_ERROR_SIZE];
	int	       ret;

	ret = 0;
	memset(&b, 0, sizeof(b));
	ebuf[0] = '\0';
	if ((c = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		return (0);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sso_curl_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent);

	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		snprintf(err, errlen, "%s",
		    b.overflow		  ? "JWKS too large"
			: ebuf[0] != '\0' ? ebuf
					  : curl_easy_strerror(rc));
		goto cleanup;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		snprintf(err, errlen, "HTTP status %ld", status);
		goto cleanup;
	}
	if (b.data == NULL) {
		snprintf(err, errlen, "empty answer");
		goto cleanup;
	}
	*body = b.data;
	*len = b.len;
	b.data = NULL;
	ret = 1;

cleanup:
	free(b.data);
	curl_easy_cleanup(c);
	return (ret);
}

int
auth_sso_jwks_refresh(void (*done)(void))
{
	if (sso.jwks_url == NULL)
		return (0);
	if (sso_task != NULL)
		return (1);
	if (sso_now() - sso_last_fetch < sso.jwks_refresh_min)
		return (0);

	sso_last_fetch = sso_now();
	sso_done = done;
	sso_task = kore_calloc(1, sizeof(*sso_task));
	kore_task_create(sso_task, sso_task_run);
	kore_task_bind_callback(sso_task, sso_task_done);
	kore_task_run(sso_task);
	auth_sso_stats.jwks_fetches++;
	return (1);
}

/* Task thread: fetch and hand back "1<body>" or "0<error>". */
static int
sso_task_run(struct kore_task *t)
{
	char  *body, *msg, err[256];
	size_t len;

	body = NULL;
	if (!auth_jwks_fetch(sso.jwks_url, sso.user_agent, &body, &len, err,
		sizeof(err))) {
		len = strlen(err);
		if ((msg = malloc(len + 1)) == NULL)
			return (0);
		msg[0] = '0';
		memcpy(msg + 1, err, len);
	} else {
		if ((msg = malloc(len + 1)) == NULL) {
			free(body);
			return (0);
		}
		msg[0] = '1';
		memcpy(msg + 1, body, len);
		free(body);
	}
	kore_task_channel_write(t, msg, (u_int32_t)(len + 1));
	free(msg);
	return (1);
}

static void
sso_task_done(struct kore_task *t)
{
	char	 *buf, err[256];
	u_int32_t n;
	size_t	  skipped;

	if (!kore_task_finished(t))
		return;

	buf = kore_malloc(AUTH_JWKS_MAX + 2);
	n = kore_task_channel_read(t, buf, AUTH_JWKS_MAX + 1);
	if (n == 0 || n > AUTH_JWKS_MAX + 1) {
		auth_sso_stats.jwks_failures++;
		kore_log(LOG_WARNING, "auth: jwks refresh: no answer");
	} else if (buf[0] != '1') {
		auth_sso_stats.jwks_failures++;
		kore_log(LOG_WARNING, "auth: jwks refresh: %.*s",
		    (int)(n - 1 > 200 ? 200 : n - 1), buf + 1);
	} else if (!auth_keyset_set_jwks(sso.keys, buf + 1, n - 1, &skipped,
		       err, sizeof(err))) {
		auth_sso_stats.jwks_failures++;
		kore_log(LOG_WARNING, "auth: jwks refresh: %s", err);
	} else {
		/* Keys may have been withdrawn: forget what they vouched for. */
		auth_cache_clear(sso_cache);
		kore_log(LOG_INFO,
		    "auth: jwks refreshed, %zu keys (%zu skipped)",
		    auth_keyset_count(sso.keys), skipped);
	}
	kore_free(buf);

	kore_task_destroy(t);
	kore_free(t);
	sso_task = NULL;
	if (sso_done != NULL)
		sso_done();
}
