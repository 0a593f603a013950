/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libcurl transfers: one easy handle per activity, reused so that the
 * multi handle's connection cache keeps the connection; response bodies
 * are capped at AGENTPROTO_BODY_MAX in the write callback.
 */

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "agent.h"

#define BODY_KEEP 16384 /* larger buffers are freed after each transfer */

static size_t xfer_write(char *, size_t, size_t, void *);
static void   hdrs_free(struct agent_xfer *);

static size_t
xfer_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct agent_xfer *x = arg;
	size_t		   n, ncap;
	char		  *p;

	n = size * nmemb;
	if (x->len + n > (x->max != 0 ? x->max : AGENTPROTO_BODY_MAX)) {
		x->overflow = 1;
		return (0); /* CURLE_WRITE_ERROR */
	}
	if (x->len + n + 1 > x->cap) {
		ncap = x->cap == 0 ? 1024 : x->cap;
		while (ncap < x->len + n + 1)
			ncap *= 2;
		if (ncap > (x->max != 0 ? x->max : AGENTPROTO_BODY_MAX) + 1)
			ncap = (x->max != 0 ? x->max : AGENTPROTO_BODY_MAX) + 1;
		if ((p = realloc(x->body, ncap)) == NULL)
			return (0);
		x->body = p;
		x->cap = ncap;
	}
	memcpy(x->body + x->len, ptr, n);
	x->len += n;
	x->body[x->len] = '\0';
	return (n);
}

int
agent_xfer_init(struct agent_xfer *x)
{
	memset(x, 0, sizeof(*x));
	if ((x->easy = curl_easy_init()) == NULL)
		return (0);
	return (1);
}

/* Headers may hold the node secret: wipe them before freeing. */
static void
hdrs_free(struct agent_xfer *x)
{
	struct curl_slist *h;

	for (h = x->hdrs; h != NULL; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
}

void
agent_xfer_cleanup(struct agent_xfer *x)
{
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	x->easy = NULL;
	agent_xfer_release(x);
	free(x->body);
	x->body = NULL;
	x->cap = x->len = 0;
}

/*
 * Set the handle up for one request: GET when post is NULL, else POST
 * post (ownership passes to x until agent_xfer_release).  auth is the
 * Authorization value or NULL.  Returns 0 on failure (post is freed).
 */
int
agent_xfer_prepare(struct agent_xfer *x, const char *url, const char *auth,
    char *post, long timeout_ms)
{
	struct curl_slist *h;
	char		   hdr[AGENTPROTO_AUTH_MAX + 32];
	CURL		  *e = x->easy;

	agent_xfer_release(x);
	x->len = 0;
	x->overflow = 0;
	x->status = 0;
	x->retry_after = 0;
	x->result = CURLE_OK;
	x->errbuf[0] = '\0';
	if (x->body != NULL)
		x->body[0] = '\0';
	x->post = post;

	if ((h = curl_slist_append(NULL, "Accept: application/json")) == NULL)
		goto fail;
	x->hdrs = h;
	if (post != NULL &&
	    (h = curl_slist_append(x->hdrs,
		 "Content-Type: application/json")) == NULL)
		goto fail;
	/* No "Expect: 100-continue" round trip for our small bodies. */
	if ((h = curl_slist_append(x->hdrs, "Expect:")) == NULL)
		goto fail;
	if (auth != NULL) {
		(void)snprintf(hdr, sizeof(hdr), "Authorization: %s", auth);
		h = curl_slist_append(x->hdrs, hdr);
		explicit_bzero(hdr, sizeof(hdr));
		if (h == NULL)
			goto fail;
	}

	if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs) != CURLE_OK)
		goto fail;
	(void)curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	(void)curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, xfer_write);
	(void)curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	(void)curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	(void)curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	(void)curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT,
	    (long)AGENT_CONNECT_TIMEOUT);
	(void)curl_easy_setopt(e, CURLOPT_USERAGENT,
	    "yard-agent/" AGENT_VERSION);
	(void)curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	(void)curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	(void)curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)(x->max != 0 ? x->max : AGENTPROTO_BODY_MAX));
#if LIBCURL_VERSION_NUM >= 0x075500
	(void)curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	(void)curl_easy_setopt(e, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (post != NULL) {
		(void)curl_easy_setopt(e, CURLOPT_POST, 1L);
		(void)curl_easy_setopt(e, CURLOPT_POSTFIELDS, post);
		(void)curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(post));
	} else
		(void)curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	x->started = agent_mono_ms();
	return (1);
fail:
	agent_xfer_release(x);
	return (0);
}

/* Record the outcome of a transfer (from curl_multi_info_read). */
void
agent_xfer_finish(struct agent_xfer *x, CURLcode rc)
{
	curl_off_t ra = 0;

	x->result = rc;
	x->status = 0;
	x->retry_after = 0;
	if (rc != CURLE_OK)
		return;
	(void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	/* Either form (seconds or an HTTP date); libcurl gives seconds. */
	if ((x->status == 429 || x->status == 503) &&
	    curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK &&
	    ra > 0)
		x->retry_after = ra > AGENT_BACKOFF_CAP_MS / 1000
		    ? AGENT_BACKOFF_CAP_MS / 1000
		    : (long)ra;
}

/* Drop the request body and headers; shrink a large response buffer. */
void
agent_xfer_release(struct agent_xfer *x)
{
	hdrs_free(x);
	if (x->easy != NULL)
		(void)curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, NULL);
	if (x->post != NULL) {
		if (x->easy != NULL)
			(void)curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS,
			    NULL);
		free(x->post);
		x->post = NULL;
	}
	/* A commands answer holds the secrets of configurations. */
	if (x->max != 0 && x->body != NULL)
		explicit_bzero(x->body, x->cap);
	if (x->cap > BODY_KEEP) {
		free(x->body);
		x->body = NULL;
		x->cap = 0;
	}
}

/* A short reason for the log. */
const char *
agent_xfer_error(const struct agent_xfer *x)
{
	if (x->overflow)
		return ("response larger than 256 KiB");
	if (x->result != CURLE_OK)
		return (x->errbuf[0] != '\0' ? x->errbuf
					     : curl_easy_strerror(x->result));
	return ("no error");
}

/* sleep = random(0, min(60 s, 1 s x 2^n)), in milliseconds. */
uint64_t
agent_backoff_ms(unsigned int n)
{
	uint64_t cap, r;

	cap = n >= 6 ? AGENT_BACKOFF_CAP_MS : 1000ULL << n;
	if (cap > AGENT_BACKOFF_CAP_MS)
		cap = AGENT_BACKOFF_CAP_MS;
	if (!agent_os_random(&r, sizeof(r), 0))
		r = agent_mono_ms() * 2654435761ULL;
	return (r % (cap + 1));
}
