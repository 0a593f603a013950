/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Kore side of EWS sign-in: bearer extraction, the per-worker cache of
 * verified tokens, and the instance's JWKS: one document in memory the
 * parent maps shared before it forks the workers, fetched by one process
 * at a time (blocking in the parent at start-up, in a Kore task thread of
 * a worker afterwards, so the event loop never waits), and re-parsed by
 * each worker when its generation changes.
 */

#include <sys/mman.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/tasks.h>

#include <curl/curl.h>

#include "auth/auth.h"

/*
 * A Cache-Control max-age below this (no-store, no-cache and max-age=0
 * included) counts as this many seconds: an identity provider that asks
 * not to be cached must not be fetched on every tick.  A shorter
 * YARD_EWS_JWKS_REFRESH is still honoured.
 */
#define SSO_MAXAGE_FLOOR 30
/* After a failed fetch, the next try comes at most this late. */
#define SSO_RETRY_MAX 30
/* A fetch lease older than this is taken over (its worker died). */
#define SSO_LEASE_MS 15000
/* A write of the shared document older than this was cut short. */
#define SSO_WLOCK_MS 2000
/* The worker's timer, and the poll while waiting for another's fetch. */
#define SSO_TICK_MS 1000
#define SSO_POLL_MS 100

/*
 * The instance's JWKS state, shared by the parent and every worker.  The
 * document and the members after it change only under wlock (a CAS on a
 * start time, so that a writer killed mid-write cannot hold it forever),
 * inside seq odd; readers copy them while seq is even and unchanged.
 * lease is the start time (CLOCK_MONOTONIC ms) of the fetch under way, 0
 * for none.  Monotonic times are ms, wall-clock times Unix seconds.
 */
struct sso_shared {
	uint64_t seq;
	uint64_t wlock;
	uint64_t lease;
	uint64_t begun_ms; /* the last fetch begun, for the unknown-kid gate */
	uint64_t fetches; /* begun, instance-wide */
	int	 configured;
	int64_t	 refresh; /* YARD_EWS_JWKS_REFRESH */
	/* Under wlock/seq: */
	uint64_t generation; /* bumped when the document changes */
	uint64_t due_ms; /* the timer fetches once now >= due_ms */
	uint64_t failures; /* fetches that kept the last good set */
	uint64_t failing; /* failures since the last good fetch */
	int64_t	 last_ok;
	int64_t	 last_try;
	size_t	 keys; /* JWKS keys in the document */
	char	 error[256];
	size_t	 len;
	char	 doc[AUTH_JWKS_MAX];
};

/* What a fetch task hands back to its worker, followed by the body. */
struct sso_answer {
	int	ok;
	int64_t max_age; /* -1: no Cache-Control max-age */
	size_t	keys;
	size_t	skipped;
	size_t	len;
	char	err[256];
};

struct sso_buf {
	char  *data;
	size_t len;
	int    overflow;
};

static uint64_t sso_mono_ms(void);
static int64_t	sso_now(void);
static int	sso_wlock(void);
static void	sso_wunlock(void);
static int	sso_lease_take(uint64_t);
static void	sso_lease_drop(void);
static void	sso_commit(const struct sso_answer *, const char *);
static void	sso_sync(void);
static void	sso_tick(void *, u_int64_t);
static void	sso_poll(void *, u_int64_t);
static void	sso_wait_other(uint64_t);
static void	sso_fetch_start(uint64_t);
static void	sso_wake(void);
static void	sso_check(struct sso_answer *, const char *, size_t);
static void	sso_cache_control(const char *, size_t, int64_t *);
static size_t	sso_curl_header(char *, size_t, size_t, void *);
static size_t	sso_curl_write(char *, size_t, size_t, void *);
static int	sso_task_run(struct kore_task *);
static void	sso_task_done(struct kore_task *);

static struct sso_shared     *sh;
static struct auth_cache     *sso_cache;
static struct kore_task	     *sso_task;
static struct auth_sso_config sso;
static char		     *sso_doc; /* this worker's copy, for parsing */
static uint64_t		      sso_gen; /* the generation our keys come from */
static uint64_t		      sso_lease; /* our lease, 0 when none */
static uint64_t		      sso_wlocked; /* our wlock, while writing */
/* Requests wait (done() is due): for our fetch, or for another's. */
static void (*sso_done)(void);
static int	sso_waiting;
static int	sso_polling;
static uint64_t sso_wait_lease; /* the other's lease we wait for */
static uint64_t sso_wait_gen;

/* Wall-clock seconds (token times are wall-clock by definition). */
static int64_t
sso_now(void)
{
	return ((int64_t)time(NULL));
}

/* The same in every process of the machine: leases and schedules. */
static uint64_t
sso_mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/*
 * Take the write lock and make seq odd.  Writers hold it for a memcpy;
 * one that holds it longer than SSO_WLOCK_MS died there and is replaced.
 * Returns 0 (nothing written) when another writer keeps it meanwhile.
 */
static int
sso_wlock(void)
{
	uint64_t w, now, seq;
	long	 spins;

	for (spins = 0; spins < 10000000; spins++) {
		now = sso_mono_ms();
		w = __atomic_load_n(&sh->wlock, __ATOMIC_SEQ_CST);
		if (w != 0 && now - w < SSO_WLOCK_MS)
			continue;
		if (__atomic_compare_exchange_n(&sh->wlock, &w, now, 0,
			__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
			sso_wlocked = now;
			seq = __atomic_load_n(&sh->seq, __ATOMIC_RELAXED);
			__atomic_store_n(&sh->seq, seq | 1, __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_RELEASE);
			return (1);
		}
	}
	return (0);
}

static void
sso_wunlock(void)
{
	uint64_t seq, mine;

	seq = __atomic_load_n(&sh->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->seq, (seq | 1) + 1, __ATOMIC_RELEASE);
	mine = sso_wlocked;
	sso_wlocked = 0;
	(void)__atomic_compare_exchange_n(&sh->wlock, &mine, 0, 0,
	    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* The instance's one fetch: 1 when it is ours now. */
static int
sso_lease_take(uint64_t now)
{
	uint64_t l;

	l = __atomic_load_n(&sh->lease, __ATOMIC_SEQ_CST);
	if (l != 0 && now - l < SSO_LEASE_MS)
		return (0);
	if (!__atomic_compare_exchange_n(&sh->lease, &l, now, 0,
		__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return (0);
	if (l != 0)
		kore_log(LOG_NOTICE,
		    "auth: jwks: a fetch begun %" PRIu64 " s ago never "
		    "ended; fetching again",
		    (now - l) / 1000);
	sso_lease = now;
	return (1);
}

static void
sso_lease_drop(void)
{
	uint64_t mine = sso_lease;

	sso_lease = 0;
	/* Fails when it expired and another took it over: theirs now. */
	(void)__atomic_compare_exchange_n(&sh->lease, &mine, 0, 0,
	    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

int
auth_sso_shared_init(struct auth_keyset *keys, const char *url,
    const char *user_agent, int64_t refresh, char *err, size_t errlen)
{
	struct sso_answer a;
	char		 *body;
	size_t		  len;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		fatal("auth: cannot map the shared JWKS: %s", errno_s);
	memset(sh, 0, sizeof(*sh));
	sh->configured = url != NULL;
	sh->refresh = refresh;
	if (url == NULL)
		return (1);

	/* Blocking is fine here: no worker exists yet. */
	memset(&a, 0, sizeof(a));
	body = NULL;
	sh->begun_ms = sso_mono_ms();
	sh->fetches = 1;
	if (auth_jwks_fetch(url, user_agent, &body, &len, &a.max_age, a.err,
		sizeof(a.err)))
		sso_check(&a, body, len);
	if (a.ok &&
	    !auth_keyset_set_jwks(keys, body, len, NULL, a.err, sizeof(a.err)))
		a.ok = 0;
	sso_commit(&a, body);
	free(body);
	/* The workers inherit our keys and start from this generation. */
	sso_gen = sh->generation;
	if (!a.ok) {
		snprintf(err, errlen, "%s", a.err);
		return (0);
	}
	return (1);
}

void
auth_sso_init(const struct auth_sso_config *cfg)
{
	sso = *cfg;
	if (sh == NULL)
		fatal("auth: the shared JWKS was not mapped");
	if ((sso_cache = auth_cache_new(sso.cache_slots)) == NULL)
		fatal("auth: cannot allocate the token cache");
	if (sso.jwks_url == NULL)
		return;
	sso_doc = kore_malloc(AUTH_JWKS_MAX + 1);
	/* Our keys are the parent's (sso_gen): a worker forked again later
	 * takes the instance's current set here. */
	sso_sync();
	(void)kore_timer_add(sso_tick, SSO_TICK_MS, NULL, 0);
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

void
auth_sso_jwks_status(struct auth_jwks_status *st)
{
	uint64_t s1, s2, due, mono;
	int	 tries;

	memset(st, 0, sizeof(*st));
	if (sh == NULL)
		return;
	st->configured = sh->configured;
	st->fetches = __atomic_load_n(&sh->fetches, __ATOMIC_RELAXED);
	due = 0;
	for (tries = 0; tries < 100; tries++) {
		s1 = __atomic_load_n(&sh->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1)
			continue;
		st->last_ok = sh->last_ok;
		st->last_try = sh->last_try;
		due = sh->due_ms;
		st->failures = sh->failures;
		st->keys = sh->keys;
		st->generation = sh->generation;
		memcpy(st->error, sh->error, sizeof(st->error));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&sh->seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			break;
	}
	st->error[sizeof(st->error) - 1] = '\0';
	if (st->configured && due != 0) {
		mono = sso_mono_ms();
		st->next_due = sso_now() +
		    (due > mono ? (int64_t)((due - mono + 999) / 1000) : 0);
	}
}

/*
 * The end of a fetch, in the parent or the worker that made it: a good
 * document becomes the instance's (a new generation when it differs), a
 * failure keeps it and is recorded.  Logs the change of state once.
 */
static void
sso_commit(const struct sso_answer *a, const char *doc)
{
	uint64_t mono, period, failing, gen;
	int64_t	 p;
	int	 changed;

	mono = sso_mono_ms();
	if (a->ok) {
		p = sh->refresh;
		if (a->max_age >= 0)
			p = a->max_age < SSO_MAXAGE_FLOOR
			    ? (p < SSO_MAXAGE_FLOOR ? p : SSO_MAXAGE_FLOOR)
			    : (p < a->max_age ? p : a->max_age);
	} else {
		p = sh->refresh < SSO_RETRY_MAX ? sh->refresh : SSO_RETRY_MAX;
	}
	period = (uint64_t)p * 1000;

	if (!sso_wlock()) {
		kore_log(LOG_WARNING,
		    "auth: jwks: the shared key set stayed locked; "
		    "this fetch is dropped");
		return;
	}
	changed = 0;
	sh->last_try = sso_now();
	sh->due_ms = mono + period;
	failing = sh->failing;
	if (a->ok) {
		if (a->len != sh->len || memcmp(sh->doc, doc, a->len) != 0) {
			memcpy(sh->doc, doc, a->len);
			sh->len = a->len;
			sh->generation++;
			changed = 1;
		}
		sh->keys = a->keys;
		sh->last_ok = sh->last_try;
		sh->failing = 0;
		sh->error[0] = '\0';
	} else {
		sh->failures++;
		sh->failing++;
		snprintf(sh->error, sizeof(sh->error), "%s", a->err);
	}
	gen = sh->generation;
	sso_wunlock();

	if (!a->ok) {
		if (failing == 0)
			kore_log(LOG_WARNING,
			    "auth: jwks: fetch failed: %s (keeping %s; "
			    "retrying every %" PRId64 " s)",
			    a->err,
			    gen == 0 ? "no JWKS key" : "the last good key set",
			    p);
		return;
	}
	if (failing > 0)
		kore_log(LOG_NOTICE,
		    "auth: jwks: fetch works again after %" PRIu64
		    " failed attempt(s)",
		    failing);
	if (changed)
		kore_log(LOG_NOTICE,
		    "auth: jwks: key set %" PRIu64 ": %zu keys (%zu skipped), "
		    "next fetch in %" PRId64 " s",
		    gen, a->keys, a->skipped, p);
}

/*
 * Take the instance's document into our key set when its generation
 * changed (cheap otherwise: one load).  A torn copy (a writer at work) is
 * left for the next call.
 */
static void
sso_sync(void)
{
	uint64_t s1, s2, gen;
	size_t	 len, skipped;
	char	 err[256];
	int	 tries;

	if (sh == NULL || sso_doc == NULL ||
	    __atomic_load_n(&sh->generation, __ATOMIC_ACQUIRE) == sso_gen)
		return;
	for (tries = 0; tries < 3; tries++) {
		s1 = __atomic_load_n(&sh->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1)
			continue;
		gen = sh->generation;
		len = sh->len;
		if (len > AUTH_JWKS_MAX)
			len = AUTH_JWKS_MAX;
		memcpy(sso_doc, sh->doc, len);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&sh->seq, __ATOMIC_RELAXED);
		if (s1 != s2)
			continue;
		sso_gen = gen;
		if (!auth_keyset_set_jwks(sso.keys, sso_doc, len, &skipped, err,
			sizeof(err))) {
			/* It parsed where it was fetched: a broken invariant,
			 * but the keys we hold stay. */
			kore_log(LOG_ERR, "auth: jwks: key set %" PRIu64 ": %s",
			    gen, err);
			return;
		}
		/* Keys may have been withdrawn: forget what they vouched for. */
		auth_cache_clear(sso_cache);
		return;
	}
}

/* Every worker, each second: take a new set, fetch when one is due. */
static void
sso_tick(void *arg, u_int64_t now)
{
	uint64_t mono;

	sso_sync();
	if (sso_task != NULL)
		return;
	mono = sso_mono_ms();
	if (mono < __atomic_load_n(&sh->due_ms, __ATOMIC_SEQ_CST))
		return;
	if (!sso_lease_take(mono))
		return;
	/* Another worker's fetch may have ended since we looked. */
	if (mono < __atomic_load_n(&sh->due_ms, __ATOMIC_SEQ_CST)) {
		sso_lease_drop();
		return;
	}
	sso_fetch_start(mono);
}

static void
sso_fetch_start(uint64_t mono)
{
	__atomic_store_n(&sh->begun_ms, mono, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&sh->fetches, 1, __ATOMIC_SEQ_CST);
	sso_task = kore_calloc(1, sizeof(*sso_task));
	kore_task_create(sso_task, sso_task_run);
	kore_task_bind_callback(sso_task, sso_task_done);
	kore_task_run(sso_task);
}

static void
sso_wake(void)
{
	void (*done)(void) = sso_done;

	if (!sso_waiting)
		return;
	sso_waiting = 0;
	if (done != NULL)
		done();
}

/* Wait for the fetch of lease (another worker's, or none: wake soon). */
static void
sso_wait_other(uint64_t lease)
{
	sso_wait_lease = lease;
	sso_wait_gen = __atomic_load_n(&sh->generation, __ATOMIC_SEQ_CST);
	if (!sso_polling) {
		sso_polling = 1;
		(void)kore_timer_add(sso_poll, SSO_POLL_MS, NULL,
		    KORE_TIMER_ONESHOT);
	}
}

/* While requests wait for another worker's fetch: has it ended? */
static void
sso_poll(void *arg, u_int64_t now)
{
	uint64_t l;

	sso_polling = 0;
	if (!sso_waiting || sso_task != NULL)
		return;
	l = __atomic_load_n(&sh->lease, __ATOMIC_SEQ_CST);
	if (l == 0 || l != sso_wait_lease ||
	    sso_mono_ms() - l >= SSO_LEASE_MS ||
	    __atomic_load_n(&sh->generation, __ATOMIC_SEQ_CST) !=
		sso_wait_gen) {
		sso_sync();
		sso_wake();
		return;
	}
	sso_polling = 1;
	(void)kore_timer_add(sso_poll, SSO_POLL_MS, NULL, KORE_TIMER_ONESHOT);
}

int
auth_sso_jwks_refresh(void (*done)(void))
{
	uint64_t mono, l;

	if (sso.jwks_url == NULL)
		return (0);
	sso_done = done;
	if (sso_task != NULL || sso_waiting) {
		sso_waiting = 1;
		return (1);
	}
	/* A set came after the token was checked: check it again. */
	if (__atomic_load_n(&sh->generation, __ATOMIC_SEQ_CST) != sso_gen) {
		sso_waiting = 1;
		sso_wait_other(0);
		return (1);
	}
	mono = sso_mono_ms();
	l = __atomic_load_n(&sh->lease, __ATOMIC_SEQ_CST);
	if (l != 0 && mono - l < SSO_LEASE_MS) {
		/* Another worker is fetching: its answer is ours too. */
		sso_waiting = 1;
		sso_wait_other(l);
		return (1);
	}
	if (mono - __atomic_load_n(&sh->begun_ms, __ATOMIC_SEQ_CST) <
	    (uint64_t)sso.jwks_refresh_min * 1000)
		return (0);
	if (!sso_lease_take(mono)) {
		/* Taken meanwhile; wait for that one. */
		sso_waiting = 1;
		sso_wait_other(__atomic_load_n(&sh->lease, __ATOMIC_SEQ_CST));
		return (1);
	}
	if (mono - __atomic_load_n(&sh->begun_ms, __ATOMIC_SEQ_CST) <
	    (uint64_t)sso.jwks_refresh_min * 1000) {
		/* A fetch began and ended since we looked: see its set. */
		sso_lease_drop();
		sso_waiting = 1;
		sso_wait_other(0);
		return (1);
	}
	sso_waiting = 1;
	sso_fetch_start(mono);
	return (1);
}

enum auth_result
auth_sso_verify(const char *tok, size_t len, struct auth_claims *out,
    struct auth_seen *seen, int *cached)
{
	enum auth_result r;

	*cached = -1;
	if (seen != NULL)
		memset(seen, 0, sizeof(*seen));
	if (len > AUTH_TOKEN_MAX)
		return (AUTH_TOO_LARGE);
	/* A withdrawn key must not vouch from the cache either. */
	sso_sync();
	if (auth_cache_get(sso_cache, tok, len, sso_now(), sso.policy->skew,
		out)) {
		*cached = 1;
		return (AUTH_OK);
	}
	*cached = 0;
	r = auth_verify_seen(sso.keys, sso.policy, tok, len, sso_now(), out,
	    seen);
	if (r == AUTH_OK)
		auth_cache_put(sso_cache, tok, len, out);
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

/*
 * A Cache-Control value: the smallest max-age it gives, no-store and
 * no-cache counting as 0, into *max_age (left alone when it has none).
 */
static void
sso_cache_control(const char *v, size_t len, int64_t *max_age)
{
	const char *end, *d, *e;
	int64_t	    n;
	size_t	    dl;

	end = v + len;
	for (d = v; d < end; d = e + 1) {
		if ((e = memchr(d, ',', (size_t)(end - d))) == NULL)
			e = end;
		while (d < e && isspace((unsigned char)*d))
			d++;
		dl = (size_t)(e - d);
		while (dl > 0 && isspace((unsigned char)d[dl - 1]))
			dl--;
		n = -1;
		if ((dl == 8 && strncasecmp(d, "no-store", 8) == 0) ||
		    (dl == 8 && strncasecmp(d, "no-cache", 8) == 0)) {
			n = 0;
		} else if (dl > 8 && strncasecmp(d, "max-age=", 8) == 0) {
			d += 8;
			dl -= 8;
			if (dl > 1 && d[0] == '"' && d[dl - 1] == '"') {
				d++;
				dl -= 2;
			}
			for (n = 0; dl > 0 && isdigit((unsigned char)*d);
			     d++, dl--) {
				if (n < 100000000)
					n = n * 10 + (*d - '0');
			}
			if (dl != 0)
				n = -1; /* not a number: ignored */
		}
		if (n >= 0 && (*max_age < 0 || n < *max_age))
			*max_age = n;
	}
}

static size_t
sso_curl_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	size_t n = size * nmemb;

	if (n > 14 && strncasecmp(ptr, "cache-control:", 14) == 0)
		sso_cache_control(ptr + 14, n - 14, arg);
	return (n);
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

/*
 * A fetched document's verdict into *a: ok (and its length) when it is a
 * JWKS with at least one usable key; else a->err says why.
 */
static void
sso_check(struct sso_answer *a, const char *body, size_t len)
{
	struct auth_keyset *scratch;

	if ((scratch = auth_keyset_new()) == NULL) {
		snprintf(a->err, sizeof(a->err), "out of memory");
		return;
	}
	if (!auth_keyset_set_jwks(scratch, body, len, &a->skipped, a->err,
		sizeof(a->err))) {
		/* a->err says why. */
	} else if ((a->keys = auth_keyset_count(scratch)) == 0) {
		snprintf(a->err, sizeof(a->err),
		    "no usable key in the JWKS (%zu skipped)", a->skipped);
	} else {
		a->ok = 1;
		a->len = len;
	}
	auth_keyset_free(scratch);
}

int
auth_jwks_fetch(const char *url, const char *user_agent, char **body,
    size_t *len, int64_t *max_age, char *err, size_t errlen)
{
	CURL	      *c;
	CURLcode       rc;
	long	       status;
	struct sso_buf b;
	char	       ebuf[CURL_ERROR_SIZE];
	int	       ret;

	ret = 0;
	*max_age = -1;
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
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sso_curl_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, max_age);
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

/*
 * Task thread: fetch, check that the document gives at least one key,
 * and hand back a struct sso_answer followed by the body.
 */
static int
sso_task_run(struct kore_task *t)
{
	struct sso_answer a;
	char		 *body, *msg;
	size_t		  len;

	memset(&a, 0, sizeof(a));
	body = NULL;
	len = 0;
	if (auth_jwks_fetch(sso.jwks_url, sso.user_agent, &body, &len,
		&a.max_age, a.err, sizeof(a.err)))
		sso_check(&a, body, len);
	if ((msg = malloc(sizeof(a) + a.len)) == NULL) {
		free(body);
		return (0);
	}
	memcpy(msg, &a, sizeof(a));
	if (a.len > 0)
		memcpy(msg + sizeof(a), body, a.len);
	free(body);
	kore_task_channel_write(t, msg, (u_int32_t)(sizeof(a) + a.len));
	free(msg);
	return (1);
}

static void
sso_task_done(struct kore_task *t)
{
	struct sso_answer a;
	char		 *buf;
	u_int32_t	  n;

	if (!kore_task_finished(t))
		return;

	buf = kore_malloc(sizeof(a) + AUTH_JWKS_MAX + 1);
	n = kore_task_channel_read(t, buf, sizeof(a) + AUTH_JWKS_MAX + 1);
	if (n < sizeof(a)) {
		memset(&a, 0, sizeof(a));
		snprintf(a.err, sizeof(a.err), "the fetch gave no answer");
	} else {
		memcpy(&a, buf, sizeof(a));
		a.err[sizeof(a.err) - 1] = '\0';
		if (a.ok && (a.len > AUTH_JWKS_MAX || n != sizeof(a) + a.len)) {
			a.ok = 0;
			snprintf(a.err, sizeof(a.err), "the answer was cut");
		}
	}
	sso_commit(&a, buf + sizeof(a));
	kore_free(buf);

	kore_task_destroy(t);
	kore_free(t);
	sso_task = NULL;
	sso_lease_drop();
	sso_sync();
	sso_wake();
}
