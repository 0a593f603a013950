/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The Apollo follower: on worker 1 of the instance that leads the
 * "apollo-follow" duty (src/store/apollo.c), it follows every namespace
 * that the duty names with Apollo's client protocol: one
 * /notifications/v2 long-poll per (app_id, cluster), and a GET /configs
 * with the releaseKey we have when a notification says so, every
 * YARD_APOLLO_PULL seconds as a fallback, and when a namespace is new.
 * What it learns goes back to the duty (store_apollo_result()), which
 * keeps the last good snapshot in PostgreSQL.
 *
 * libcurl runs in Kore task threads, never on the event loop: the
 * transfers live in one curl multi handle, and each task drives it for at
 * most AP_SLICE_MS (returning early when a transfer ends).  Between
 * slices the event loop owns the handles: it reads what ended, changes
 * the set of transfers and starts the next slice.  A held long-poll thus
 * never keeps a task thread for long, so the worker's other tasks (the
 * outbox, the JWKS) wait at most one slice for a thread.
 */

#include <sys/queue.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/tasks.h>

#include <curl/curl.h>
#include <jansson.h>

#include "app.h"
#include "api/api.h"

#define AP_TICK_MS	  250 /* the event loop's look at the follower */
#define AP_SLICE_MS	  250 /* longest a task drives the transfers */
#define AP_FETCH_MAX_MS	  30000 /* a GET /configs at most */
#define AP_CONNECT_MS	  5000
#define AP_RETRY_MS	  2000 /* the first back-off after an error */
#define AP_RETRY_MAX_MS	  60000 /* the longest */
#define AP_STALE_MS	  15000 /* no follow set for so long: not leading */
#define AP_POLL_BODY_MAX  (1024 * 1024)
#define AP_FETCH_BODY_MAX (16 * 1024 * 1024)
#define AP_ERR_MAX	  300
#define AP_KEY_MAX	  128 /* a release key's bytes, NUL included */
#define AP_FETCH_PARALLEL 16 /* GET /configs under way at most */

struct ap_xfer {
	CURL	*h;
	char	*data;
	size_t	 len, max;
	int	 overflow;
	int	 done; /* set by the task thread */
	CURLcode rc;
	long	 status;
	int64_t	 notif; /* fetch: the notification id when it started */
	char	 ebuf[CURL_ERROR_SIZE];
};

struct ap_group;
struct ap_ns {
	TAILQ_ENTRY(ap_ns) list;
	struct ap_group *g;
	char		*ns;
	int64_t		 notif; /* the newest notification id we know */
	char		 release_key[AP_KEY_MAX]; /* "": none yet */
	uint64_t	 next_fetch; /* kore_time_ms() */
	int		 fails;
	int		 seen;
	struct ap_xfer	*fetch;
};

struct ap_group {
	TAILQ_ENTRY(ap_group) list;
	char *app, *cluster;
	TAILQ_HEAD(, ap_ns) nss;
	struct ap_xfer *poll;
	uint64_t	next_poll;
	int		fails;
	int		failed; /* the last poll failed: fetch all once back */
	int		changed; /* namespaces changed: poll again */
	int		seen;
};

static void ap_tick(void *, uint64_t);
static void ap_follow(const struct store_apollo_follow *, size_t);
static void ap_issued(const int64_t *, size_t);
static void ap_step(uint64_t);
static void ap_group_free(struct ap_group *);
static void ap_xfer_free(struct ap_xfer *);
static int  ap_task_run(struct kore_task *);
static void ap_task_done(struct kore_task *);

static TAILQ_HEAD(, ap_group) groups = TAILQ_HEAD_INITIALIZER(groups);
static CURLM		*multi;
static struct kore_task *ap_task;
static int		 ap_active; /* transfers in the multi */
static char		 base[1024];
static uint64_t		 last_follow;
/* The newest follow set, kept until the event loop owns the handles. */
struct ap_follow {
	char   *app, *cluster, *ns, *release_key;
	int64_t notification_id, due_in_ms;
};
static struct ap_follow *fset;
static size_t		 fset_n;
static int		 fset_new;

/* Worker 1, with YARD_APOLLO_URL: the follower's duties and its timer. */
void
api_apollo_worker_init(void)
{
	size_t n;

	if (worker->id != 1 || app.cfg.apollo_url == NULL)
		return;
	n = strlen(app.cfg.apollo_url);
	while (n > 0 && app.cfg.apollo_url[n - 1] == '/')
		n--;
	if (n >= sizeof(base))
		fatal("YARD_APOLLO_URL: too long");
	memcpy(base, app.cfg.apollo_url, n);
	base[n] = '\0';
	if ((multi = curl_multi_init()) == NULL)
		fatal("apollo: curl_multi_init failed");
	store_apollo_register(core_duty_add, app.cfg.apollo_pull, ap_follow,
	    ap_issued);
	kore_timer_add(ap_tick, AP_TICK_MS, NULL, 0);
}

static char *
ap_strdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		fatal("apollo: out of memory");
	return (p);
}

/* The duty's follow set (borrowed): copied until it can be applied. */
static void
ap_follow(const struct store_apollo_follow *f, size_t n)
{
	size_t i;

	for (i = 0; i < fset_n; i++) {
		free(fset[i].app);
		free(fset[i].cluster);
		free(fset[i].ns);
		free(fset[i].release_key);
	}
	free(fset);
	fset = NULL;
	fset_n = 0;
	if ((fset = calloc(n > 0 ? n : 1, sizeof(*fset))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		fset[i].notification_id = f[i].notification_id;
		fset[i].due_in_ms = f[i].due_in_ms;
		fset[i].app = ap_strdup(f[i].app);
		fset[i].cluster = ap_strdup(f[i].cluster);
		fset[i].ns = ap_strdup(f[i].ns);
		fset[i].release_key = ap_strdup(f[i].release_key);
	}
	fset_n = n;
	fset_new = 1;
	last_follow = kore_time_ms();
	if (ap_task == NULL)
		ap_step(last_follow);
}

/* Commands were issued: wake their nodes' long-polls. */
static void
ap_issued(const int64_t *nodes, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		api_node_wake(nodes[i]);
}

static void
ap_tick(void *arg, uint64_t now)
{
	if (ap_task == NULL)
		ap_step(now);
}

static size_t
ap_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct ap_xfer *x = arg;
	size_t		n = size * nmemb;
	char	       *p;

	if (x->len + n > x->max) {
		x->overflow = 1;
		return (0);
	}
	if ((p = realloc(x->data, x->len + n + 1)) == NULL) {
		x->overflow = 1;
		return (0);
	}
	x->data = p;
	memcpy(x->data + x->len, ptr, n);
	x->len += n;
	x->data[x->len] = '\0';
	return (n);
}

static void
ap_xfer_free(struct ap_xfer *x)
{
	if (x == NULL)
		return;
	if (x->h != NULL) {
		(void)curl_multi_remove_handle(multi, x->h);
		curl_easy_cleanup(x->h);
		ap_active--;
	}
	free(x->data);
	free(x);
}

/* A transfer of url (copied by curl) into the multi, or NULL. */
static struct ap_xfer *
ap_xfer_new(const char *url, long timeout_ms, size_t max)
{
	struct ap_xfer *x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return (NULL);
	if ((x->h = curl_easy_init()) == NULL) {
		free(x);
		return (NULL);
	}
	x->max = max;
	curl_easy_setopt(x->h, CURLOPT_URL, url);
	curl_easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(x->h, CURLOPT_USERAGENT, APP_USER_AGENT);
	curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS, (long)AP_CONNECT_MS);
	curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, ap_write);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->ebuf);
	if (curl_multi_add_handle(multi, x->h) != CURLM_OK) {
		curl_easy_cleanup(x->h);
		free(x);
		return (NULL);
	}
	ap_active++;
	return (x);
}

/* Printable ASCII only: errors go to the database and the log. */
static void
ap_clean(char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
	}
}

/* Why x failed, into buf; 0 when it answered with an HTTP status. */
static int
ap_xfer_error(const struct ap_xfer *x, char *buf, size_t len)
{
	if (x->rc == CURLE_OK)
		return (0);
	if (x->overflow)
		(void)snprintf(buf, len, "answer larger than %zu bytes",
		    x->max);
	else
		(void)snprintf(buf, len, "%s",
		    x->ebuf[0] != '\0' ? x->ebuf : curl_easy_strerror(x->rc));
	ap_clean(buf);
	return (1);
}

static uint64_t
ap_backoff(int fails)
{
	uint64_t ms = AP_RETRY_MS, max = (uint64_t)app.cfg.apollo_pull * 1000;

	if (max > AP_RETRY_MAX_MS)
		max = AP_RETRY_MAX_MS;

	while (--fails > 0 && ms < max)
		ms *= 2;
	return (ms < max ? ms : max);
}

static void
ap_result(struct ap_ns *n, enum store_apollo_kind kind, const char *rk,
    const char *items, int64_t notif, const char *error)
{
	struct store_apollo_result r;

	memset(&r, 0, sizeof(r));
	r.app = n->g->app;
	r.cluster = n->g->cluster;
	r.ns = n->ns;
	r.kind = kind;
	r.release_key = rk;
	r.items = items;
	r.notification_id = notif;
	r.error = error;
	store_apollo_result(&r);
}

static void
ap_ns_failed(struct ap_ns *n, const char *why, uint64_t now)
{
	char msg[AP_ERR_MAX + 40];

	(void)snprintf(msg, sizeof(msg), "%s", why);
	ap_clean(msg);
	if (n->fails == 0)
		kore_log(LOG_NOTICE, "apollo: %.100s/%.100s/%.100s: %s",
		    n->g->app, n->g->cluster, n->ns, msg);
	n->fails++;
	n->next_fetch = now + ap_backoff(n->fails);
	ap_result(n, STORE_APOLLO_ERROR, NULL, NULL, -1, msg);
}

/* After a good answer: the fallback pull, or at once when a
 * notification came while the GET was under way. */
static void
ap_next_fetch(struct ap_ns *n, const struct ap_xfer *x, uint64_t now)
{
	if (n->notif > x->notif)
		n->next_fetch = now;
	else
		n->next_fetch = now + (uint64_t)app.cfg.apollo_pull * 1000;
}

/* A GET /configs ended. */
static void
ap_fetch_done(struct ap_ns *n, uint64_t now)
{
	struct ap_xfer *x = n->fetch;
	json_t	       *doc = NULL, *cfg, *v;
	const char     *rk, *k;
	char	       *items = NULL, why[AP_ERR_MAX];

	n->fetch = NULL;
	if (ap_xfer_error(x, why, sizeof(why))) {
		ap_ns_failed(n, why, now);
		goto done;
	}
	if (x->status == 304) {
		n->fails = 0;
		ap_next_fetch(n, x, now);
		ap_result(n, STORE_APOLLO_SAME, NULL, NULL, x->notif, NULL);
		goto done;
	}
	if (x->status != 200) {
		(void)snprintf(why, sizeof(why), "GET /configs: HTTP %ld%s",
		    x->status, x->status == 404 ? " (no such namespace)" : "");
		ap_ns_failed(n, why, now);
		goto done;
	}
	if (x->data == NULL || (doc = json_loads(x->data, 0, NULL)) == NULL ||
	    !json_is_object(cfg = json_object_get(doc, "configurations")) ||
	    (rk = json_string_value(json_object_get(doc, "releaseKey"))) ==
		NULL) {
		ap_ns_failed(n,
		    "GET /configs: not an answer with configurations and "
		    "releaseKey",
		    now);
		goto done;
	}
	if (strlen(rk) >= AP_KEY_MAX) {
		ap_ns_failed(n, "GET /configs: releaseKey too long", now);
		goto done;
	}
	json_object_foreach(cfg, k, v)
	{
		if (!json_is_string(v)) {
			ap_ns_failed(n,
			    "GET /configs: a configuration value is not a "
			    "string",
			    now);
			goto done;
		}
	}
	if ((items = json_dumps(cfg, JSON_COMPACT)) == NULL) {
		ap_ns_failed(n, "out of memory", now);
		goto done;
	}
	if (n->fails > 0)
		kore_log(LOG_NOTICE,
		    "apollo: %.100s/%.100s/%.100s: answers again", n->g->app,
		    n->g->cluster, n->ns);
	n->fails = 0;
	(void)snprintf(n->release_key, sizeof(n->release_key), "%s", rk);
	ap_next_fetch(n, x, now);
	ap_result(n, STORE_APOLLO_OK, rk, items, x->notif, NULL);
done:
	free(items);
	json_decref(doc);
	ap_xfer_free(x);
}

static struct ap_ns *
ap_ns_find(struct ap_group *g, const char *name)
{
	struct ap_ns *n;
	size_t	      len;

	TAILQ_FOREACH (n, &g->nss, list) {
		if (strcmp(n->ns, name) == 0)
			return (n);
		/* Apollo names "x.properties" as "x". */
		len = strlen(name);
		if (strncmp(n->ns, name, len) == 0 &&
		    strcmp(n->ns + len, ".properties") == 0)
			return (n);
	}
	return (NULL);
}

/* A /notifications/v2 long-poll ended. */
static void
ap_poll_done(struct ap_group *g, uint64_t now)
{
	struct ap_xfer *x = g->poll;
	struct ap_ns   *n;
	json_t	       *doc = NULL, *e;
	json_int_t	id;
	const char     *name;
	char		why[AP_ERR_MAX];
	size_t		i;
	int		bad = 0;

	g->poll = NULL;
	if (ap_xfer_error(x, why, sizeof(why)))
		bad = 1;
	else if (x->status == 200) {
		if (x->data == NULL ||
		    (doc = json_loads(x->data, 0, NULL)) == NULL ||
		    !json_is_array(doc)) {
			(void)snprintf(why, sizeof(why),
			    "notifications/v2: not a JSON array");
			bad = 1;
		}
	} else if (x->status != 304) {
		(void)snprintf(why, sizeof(why), "notifications/v2: HTTP %ld",
		    x->status);
		bad = 1;
	}
	if (bad) {
		/* Every namespace of the group says why; its items stay. */
		TAILQ_FOREACH (n, &g->nss, list)
			ap_ns_failed(n, why, now);
		g->fails++;
		g->failed = 1;
		g->next_poll = now + ap_backoff(g->fails);
		goto done;
	}
	if (g->failed) {
		/* Back: read every namespace again rather than wait. */
		TAILQ_FOREACH (n, &g->nss, list)
			n->next_fetch = now;
	}
	g->fails = 0;
	g->failed = 0;
	g->next_poll = now;
	json_array_foreach(doc, i, e)
	{
		name = json_string_value(json_object_get(e, "namespaceName"));
		id = json_integer_value(json_object_get(e, "notificationId"));
		if (name == NULL || (n = ap_ns_find(g, name)) == NULL)
			continue;
		if (id > n->notif) {
			n->notif = id;
			n->next_fetch = now;
		}
	}
done:
	json_decref(doc);
	ap_xfer_free(x);
}

static void
ap_group_free(struct ap_group *g)
{
	struct ap_ns *n;

	while ((n = TAILQ_FIRST(&g->nss)) != NULL) {
		TAILQ_REMOVE(&g->nss, n, list);
		ap_xfer_free(n->fetch);
		free(n->ns);
		free(n);
	}
	ap_xfer_free(g->poll);
	free(g->app);
	free(g->cluster);
	free(g);
}

/* Make the namespaces followed those of the newest follow set. */
static void
ap_apply_follow(uint64_t now)
{
	struct ap_group *g, *gt;
	struct ap_ns	*n, *nt;
	size_t		 i;

	TAILQ_FOREACH (g, &groups, list) {
		g->seen = 0;
		TAILQ_FOREACH (n, &g->nss, list)
			n->seen = 0;
	}
	for (i = 0; i < fset_n; i++) {
		TAILQ_FOREACH (g, &groups, list) {
			if (strcmp(g->app, fset[i].app) == 0 &&
			    strcmp(g->cluster, fset[i].cluster) == 0)
				break;
		}
		if (g == NULL) {
			if ((g = calloc(1, sizeof(*g))) == NULL)
				continue;
			g->app = ap_strdup(fset[i].app);
			g->cluster = ap_strdup(fset[i].cluster);
			TAILQ_INIT(&g->nss);
			g->next_poll = now;
			TAILQ_INSERT_TAIL(&groups, g, list);
		}
		g->seen = 1;
		TAILQ_FOREACH (n, &g->nss, list) {
			if (strcmp(n->ns, fset[i].ns) == 0)
				break;
		}
		if (n == NULL) {
			if ((n = calloc(1, sizeof(*n))) == NULL)
				continue;
			n->g = g;
			n->ns = ap_strdup(fset[i].ns);
			n->notif = fset[i].notification_id;
			if (strlen(fset[i].release_key) <
			    sizeof(n->release_key))
				(void)snprintf(n->release_key,
				    sizeof(n->release_key), "%s",
				    fset[i].release_key);
			n->next_fetch = now + (uint64_t)fset[i].due_in_ms;
			TAILQ_INSERT_TAIL(&g->nss, n, list);
			g->changed = 1;
		}
		n->seen = 1;
	}
	for (g = TAILQ_FIRST(&groups); g != NULL; g = gt) {
		gt = TAILQ_NEXT(g, list);
		if (!g->seen) {
			TAILQ_REMOVE(&groups, g, list);
			ap_group_free(g);
			continue;
		}
		for (n = TAILQ_FIRST(&g->nss); n != NULL; n = nt) {
			nt = TAILQ_NEXT(n, list);
			if (n->seen)
				continue;
			TAILQ_REMOVE(&g->nss, n, list);
			ap_xfer_free(n->fetch);
			free(n->ns);
			free(n);
			g->changed = 1;
		}
	}
	fset_new = 0;
}

static char *
ap_escape(const char *s)
{
	char *e;

	if ((e = curl_easy_escape(NULL, s, 0)) == NULL)
		fatal("apollo: out of memory");
	return (e);
}

static void
ap_start_fetch(struct ap_ns *n)
{
	char *a, *c, *ns, *rk, url[4096];
	long  tmo;

	a = ap_escape(n->g->app);
	c = ap_escape(n->g->cluster);
	ns = ap_escape(n->ns);
	rk = ap_escape(n->release_key);
	(void)snprintf(url, sizeof(url), "%s/configs/%s/%s/%s%s%s", base, a, c,
	    ns, n->release_key[0] != '\0' ? "?releaseKey=" : "", rk);
	curl_free(a);
	curl_free(c);
	curl_free(ns);
	curl_free(rk);
	tmo = app.cfg.apollo_timeout * 1000 < AP_FETCH_MAX_MS
	    ? (long)(app.cfg.apollo_timeout * 1000)
	    : (long)AP_FETCH_MAX_MS;
	if ((n->fetch = ap_xfer_new(url, tmo, AP_FETCH_BODY_MAX)) != NULL)
		n->fetch->notif = n->notif;
}

static void
ap_start_poll(struct ap_group *g)
{
	struct ap_ns *n;
	json_t	     *a;
	char	     *list, *el, *ea, *ec, *url;
	size_t	      len;

	if ((a = json_array()) == NULL)
		return;
	TAILQ_FOREACH (n, &g->nss, list) {
		json_array_append_new(a,
		    json_pack("{s:s, s:I}", "namespaceName", n->ns,
			"notificationId", (json_int_t)n->notif));
	}
	list = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	if (list == NULL)
		return;
	el = ap_escape(list);
	ea = ap_escape(g->app);
	ec = ap_escape(g->cluster);
	len = strlen(base) + strlen(el) + strlen(ea) + strlen(ec) + 80;
	if ((url = malloc(len)) != NULL) {
		(void)snprintf(url, len,
		    "%s/notifications/v2?appId=%s&cluster=%s&notifications=%s",
		    base, ea, ec, el);
		g->poll = ap_xfer_new(url,
		    (long)(app.cfg.apollo_timeout * 1000), AP_POLL_BODY_MAX);
		free(url);
	}
	curl_free(el);
	curl_free(ea);
	curl_free(ec);
	free(list);
	g->changed = 0;
}

/* Stop everything: this worker no longer leads the duty. */
static void
ap_stop(void)
{
	struct ap_group *g;

	if (TAILQ_EMPTY(&groups))
		return;
	kore_log(LOG_NOTICE, "apollo: no longer following");
	while ((g = TAILQ_FIRST(&groups)) != NULL) {
		TAILQ_REMOVE(&groups, g, list);
		ap_group_free(g);
	}
}

/*
 * The event loop's turn (no task running): read what ended, follow the
 * newest set, start what is due, and hand the transfers to a task.
 */
static void
ap_step(uint64_t now)
{
	struct ap_group *g;
	struct ap_ns	*n;
	int		 fetching;

	if (ap_task != NULL)
		return;
	if (last_follow == 0 || now - last_follow > AP_STALE_MS) {
		ap_stop();
		return;
	}
	TAILQ_FOREACH (g, &groups, list) {
		if (g->poll != NULL && g->poll->done)
			ap_poll_done(g, now);
		TAILQ_FOREACH (n, &g->nss, list) {
			if (n->fetch != NULL && n->fetch->done)
				ap_fetch_done(n, now);
		}
	}
	if (fset_new)
		ap_apply_follow(now);
	fetching = 0;
	TAILQ_FOREACH (g, &groups, list) {
		TAILQ_FOREACH (n, &g->nss, list)
			fetching += n->fetch != NULL;
	}
	TAILQ_FOREACH (g, &groups, list) {
		TAILQ_FOREACH (n, &g->nss, list) {
			if (n->fetch == NULL && now >= n->next_fetch &&
			    fetching < AP_FETCH_PARALLEL) {
				ap_start_fetch(n);
				fetching += n->fetch != NULL;
			}
		}
		if (g->changed && g->poll != NULL) {
			ap_xfer_free(g->poll);
			g->poll = NULL;
		}
		if (g->poll == NULL && now >= g->next_poll &&
		    !TAILQ_EMPTY(&g->nss))
			ap_start_poll(g);
	}
	if (ap_active <= 0)
		return;
	ap_task = kore_calloc(1, sizeof(*ap_task));
	kore_task_create(ap_task, ap_task_run);
	kore_task_bind_callback(ap_task, ap_task_done);
	kore_task_run(ap_task);
}

static void
ap_task_done(struct kore_task *t)
{
	if (!kore_task_finished(t))
		return;
	kore_task_destroy(t);
	kore_free(t);
	ap_task = NULL;
	ap_step(kore_time_ms());
}

/*
 * Task thread: drive the transfers for at most AP_SLICE_MS, and return
 * early when one ends.  Only the multi and its transfers are touched
 * here; the event loop leaves them alone while the task runs.
 */
static int
ap_task_run(struct kore_task *t)
{
	struct ap_xfer *x;
	CURLMsg	       *m;
	char	       *priv;
	uint64_t	start, now;
	int		running, left, ended = 0;

	start = now = kore_time_ms();
	while (!ended) {
		(void)curl_multi_perform(multi, &running);
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			priv = NULL;
			(void)curl_easy_getinfo(m->easy_handle,
			    CURLINFO_PRIVATE, &priv);
			if ((x = (struct ap_xfer *)(void *)priv) == NULL)
				continue;
			x->rc = m->data.result;
			(void)curl_easy_getinfo(m->easy_handle,
			    CURLINFO_RESPONSE_CODE, &x->status);
			x->done = 1;
			ended = 1;
		}
		now = kore_time_ms();
		if (ended || running == 0 || now - start >= AP_SLICE_MS)
			break;
		(void)curl_multi_poll(multi, NULL, 0,
		    (int)(AP_SLICE_MS - (now - start)), NULL);
	}
	return (1);
}
