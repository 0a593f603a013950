/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Per-worker Redis: hiredis async contexts driven by Kore's event loop, one
 * for commands and one subscribed to Yard's channels.  Nothing here blocks:
 * connects are non-blocking (use an IP address or a unix socket, since a
 * host name would be resolved synchronously by hiredis), a timer pings and
 * reconnects, and callers learn about outages through store_redis_healthy().
 * With a password, AUTH goes first on each connection and nothing else is
 * sent until Redis accepts it; a refusal drops the connection, and the
 * next tick tries again, exactly as when Redis is down.
 */

#include <sys/epoll.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "store/store.h"

#define RC_TICK_MS	  1000
#define STORE_EVT_REDIS	  0x40 /* our own kore_event type */
#define RC_CONNECT_MAX_MS 3000
#define RC_HEALTHY_MS	  3000
#define RC_STALE_MS	  5000
#define RC_LOG_EVERY_MS	  60000 /* a failure that lasts: once a minute */
#define RC_ERRSTR_MAX	  200

struct rconn {
	struct kore_event  evt; /* first: Kore hands us this pointer */
	redisAsyncContext *ac;
	const char	  *name;
	int		   fd;
	int		   reading;
	int		   writing;
	int		   registered;
	int		   connected;
	int		   subscriber;
	uint64_t	   started; /* when the connect began */
	uint64_t	   auth_logged; /* last "authentication failed" line */
};

static void rc_connect(struct rconn *);
static void rc_schedule(struct rconn *);
static void rc_handle(void *, int);
static void rc_add_read(void *);
static void rc_del_read(void *);
static void rc_add_write(void *);
static void rc_del_write(void *);
static void rc_cleanup(void *);
static void rc_ready(struct rconn *);
static void rc_on_connect(const redisAsyncContext *, int);
static void rc_on_auth(redisAsyncContext *, void *, void *);
static void rc_on_disconnect(const redisAsyncContext *, int);
static void rc_on_pong(redisAsyncContext *, void *, void *);
static void rc_on_sub(redisAsyncContext *, void *, void *);
static void rc_tick(void *, uint64_t);

static struct store_redis_addr rc_addr;
static struct rconn	       rc_cmd = { .name = "command" };
static struct rconn rc_sub = { .name = "subscriber", .subscriber = 1 };
static uint64_t	    rc_last_pong;
static uint64_t	    rc_ping_sent;
static int	    rc_ping_pending;
static uint64_t	    rc_ping_logged;
static void (*rc_message_cb)(const char *, const char *, size_t);
static const char *rc_pass; /* NULL: no AUTH */
static size_t	   rc_pass_len;
static const char *rc_pass_from; /* the setting it came from */

int
store_redis_parse_url(const char *url, struct store_redis_addr *out)
{
	const char *p, *at, *slash, *colon;
	char	   *end;
	long	    v;
	size_t	    len;

	memset(out, 0, sizeof(*out));
	if (strncmp(url, "unix://", 7) == 0) {
		if (url[7] != '/' || strlen(url + 7) >= sizeof(out->path))
			return (0);
		kore_strlcpy(out->path, url + 7, sizeof(out->path));
		return (1);
	}
	if (strncmp(url, "redis://", 8) != 0)
		return (0);
	p = url + 8;
	if ((at = strrchr(p, '@')) != NULL) {
		/* user info: [user]:password */
		if ((colon = memchr(p, ':', (size_t)(at - p))) == NULL)
			return (0);
		len = (size_t)(at - colon - 1);
		if (len >= sizeof(out->password))
			return (0);
		memcpy(out->password, colon + 1, len);
		out->password[len] = '\0';
		p = at + 1;
	}
	slash = strchr(p, '/');
	len = slash == NULL ? strlen(p) : (size_t)(slash - p);
	if ((colon = memchr(p, ':', len)) == NULL) {
		out->port = 6379;
		colon = p + len;
	} else {
		v = strtol(colon + 1, &end, 10);
		if (end != p + len || v < 1 || v > 65535)
			return (0);
		out->port = (uint16_t)v;
	}
	if (colon == p || (size_t)(colon - p) >= sizeof(out->host))
		return (0);
	memcpy(out->host, p, (size_t)(colon - p));
	out->host[colon - p] = '\0';
	if (slash != NULL && slash[1] != '\0') {
		v = strtol(slash + 1, &end, 10);
		if (*end != '\0' || v < 0 || v > 1000)
			return (0);
		out->db = (int)v;
	}
	return (1);
}

void
store_redis_set_password(const char *password, size_t len)
{
	rc_pass = password;
	rc_pass_len = len;
	rc_pass_from = "YARD_REDIS_PASSWORD_FILE";
}

void
store_redis_init(const char *url,
    void (*on_message)(const char *, const char *, size_t))
{
	if (!store_redis_parse_url(url, &rc_addr)) {
		kore_log(LOG_ERR, "redis: bad YARD_REDIS_URL");
		return;
	}
	/* The parent refuses a password in both places. */
	if (rc_pass == NULL && rc_addr.password[0] != '\0') {
		rc_pass = rc_addr.password;
		rc_pass_len = strlen(rc_addr.password);
		rc_pass_from = "YARD_REDIS_URL";
	}
	rc_message_cb = on_message;
	rc_connect(&rc_cmd);
	rc_connect(&rc_sub);
	kore_timer_add(rc_tick, RC_TICK_MS, NULL, 0);
}

int
store_redis_healthy(void)
{
	return (rc_cmd.connected && rc_last_pong != 0 &&
	    kore_time_ms() - rc_last_pong < RC_HEALTHY_MS);
}

int
store_redis_publish(const char *chan, const char *msg)
{
	if (!rc_cmd.connected || rc_cmd.ac == NULL)
		return (0);
	return (redisAsyncCommand(rc_cmd.ac, NULL, NULL, "PUBLISH %s %s", chan,
		    msg) == REDIS_OK);
}

static void
rc_connect(struct rconn *rc)
{
	redisAsyncContext *ac;

	if (rc_addr.path[0] != '\0')
		ac = redisAsyncConnectUnix(rc_addr.path);
	else
		ac = redisAsyncConnect(rc_addr.host, rc_addr.port);
	if (ac == NULL)
		return;
	if (ac->err) {
		kore_log(LOG_NOTICE, "redis: %s connect: %s", rc->name,
		    ac->errstr);
		redisAsyncFree(ac);
		return;
	}

	rc->ac = ac;
	rc->fd = ac->c.fd;
	rc->reading = rc->writing = rc->registered = rc->connected = 0;
	rc->started = kore_time_ms();
	rc->evt.type = STORE_EVT_REDIS;
	rc->evt.flags = 0;
	rc->evt.handle = rc_handle;

	ac->data = rc;
	ac->ev.data = rc;
	ac->ev.addRead = rc_add_read;
	ac->ev.delRead = rc_del_read;
	ac->ev.addWrite = rc_add_write;
	ac->ev.delWrite = rc_del_write;
	ac->ev.cleanup = rc_cleanup;
	redisAsyncSetConnectCallback(ac, rc_on_connect);
	redisAsyncSetDisconnectCallback(ac, rc_on_disconnect);

	/*
	 * Nothing is queued before the socket connects (AUTH must be
	 * answered first), so ask for the write event that tells hiredis
	 * 0.14 the connect is done: it arms none by itself.
	 */
	rc_add_write(rc);
}

/*
 * Connected, and authenticated when there is a password: subscribe, or
 * select the database and ask for the first PING.
 */
static void
rc_ready(struct rconn *rc)
{
	if (rc->ac == NULL)
		return;
	if (rc->subscriber) {
		redisAsyncCommand(rc->ac, rc_on_sub, NULL,
		    "SUBSCRIBE %s %s %s %s", STORE_CHAN_AUTHZ, STORE_CHAN_WAKE,
		    STORE_CHAN_NODES, STORE_CHAN_LOGS);
	} else if (rc_addr.db != 0) {
		redisAsyncCommand(rc->ac, NULL, NULL, "SELECT %d", rc_addr.db);
	}
	rc->connected = 1;
	rc->auth_logged = 0;
	/* Healthy once a PING is answered: ask now rather than at the next
	 * tick, or the connection reads as down for up to a second (each
	 * worker's at its own moment: /readyz and /metrics answered by two
	 * workers disagreed). */
	if (!rc->subscriber && !rc_ping_pending &&
	    redisAsyncCommand(rc->ac, rc_on_pong, NULL, "PING") == REDIS_OK) {
		rc_ping_pending = 1;
		rc_ping_sent = kore_time_ms();
	}
	/* Messages may have been missed while we were away. */
	if (rc->subscriber && rc_message_cb != NULL)
		rc_message_cb(STORE_CHAN_AUTHZ, "reconnected", 11);
	kore_log(LOG_INFO, "redis: %s connected", rc->name);
}

static void
rc_schedule(struct rconn *rc)
{
	int events;

	events = (rc->reading ? EPOLLIN | EPOLLRDHUP : 0) |
	    (rc->writing ? EPOLLOUT : 0);
	if (events == 0) {
		if (rc->registered) {
			kore_platform_disable_read(rc->fd);
			rc->registered = 0;
		}
		return;
	}
	/* Level triggered: hiredis reads only what it needs per call. */
	kore_platform_event_schedule(rc->fd, events, 0, rc);
	rc->registered = 1;
}

static void
rc_add_read(void *arg)
{
	struct rconn *rc = arg;

	if (!rc->reading) {
		rc->reading = 1;
		rc_schedule(rc);
	}
}

static void
rc_del_read(void *arg)
{
	struct rconn *rc = arg;

	if (rc->reading) {
		rc->reading = 0;
		rc_schedule(rc);
	}
}

static void
rc_add_write(void *arg)
{
	struct rconn *rc = arg;

	if (!rc->writing) {
		rc->writing = 1;
		rc_schedule(rc);
	}
}

static void
rc_del_write(void *arg)
{
	struct rconn *rc = arg;

	if (rc->writing) {
		rc->writing = 0;
		rc_schedule(rc);
	}
}

/* hiredis is about to free the context: forget it. */
static void
rc_cleanup(void *arg)
{
	struct rconn *rc = arg;

	rc->reading = rc->writing = 0;
	rc_schedule(rc);
	rc->ac = NULL;
	rc->connected = 0;
}

static void
rc_handle(void *arg, int error)
{
	struct rconn *rc = arg;
	int	      flags;

	flags = rc->evt.flags;
	rc->evt.flags = 0;
	if (rc->ac != NULL && ((flags & KORE_EVENT_READ) || error))
		redisAsyncHandleRead(rc->ac);
	if (rc->ac != NULL && (flags & KORE_EVENT_WRITE))
		redisAsyncHandleWrite(rc->ac);
}

static void
rc_on_connect(const redisAsyncContext *ac, int status)
{
	struct rconn *rc = ac->data;

	if (status != REDIS_OK) {
		kore_log(LOG_NOTICE, "redis: %s connect failed: %s", rc->name,
		    ac->errstr);
		return;
	}
	if (rc_pass == NULL) {
		rc_ready(rc);
		return;
	}
	/* %b: the password goes as one argument, whatever bytes it holds. */
	if (rc->ac == NULL ||
	    redisAsyncCommand(rc->ac, rc_on_auth, NULL, "AUTH %b", rc_pass,
		rc_pass_len) != REDIS_OK)
		kore_log(LOG_NOTICE, "redis: %s: cannot send AUTH", rc->name);
}

/*
 * Redis's answer to AUTH.  Its error text (WRONGPASS, or "called without
 * any password configured") never holds the password.  A refusal is an
 * outage: the connection is dropped (freed once this callback returns)
 * and the next tick connects again.
 */
static void
rc_on_auth(redisAsyncContext *ac, void *r, void *priv)
{
	struct rconn *rc = ac->data;
	redisReply   *reply = r;
	uint64_t      now;

	if (reply == NULL) /* the context is going away */
		return;
	if (reply->type != REDIS_REPLY_ERROR) {
		rc_ready(rc);
		return;
	}
	now = kore_time_ms();
	if (rc->auth_logged == 0 || now - rc->auth_logged >= RC_LOG_EVERY_MS) {
		kore_log(LOG_ERR,
		    "redis: %s: authentication failed (password from %s): "
		    "%.*s",
		    rc->name, rc_pass_from,
		    (int)(reply->len > RC_ERRSTR_MAX ? RC_ERRSTR_MAX
						     : reply->len),
		    reply->str);
		rc->auth_logged = now;
	}
	redisAsyncFree(ac);
}

static void
rc_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct rconn *rc = ac->data;

	if (status != REDIS_OK)
		kore_log(LOG_NOTICE, "redis: %s lost: %s", rc->name,
		    ac->errstr);
	rc->connected = 0;
	if (!rc->subscriber)
		rc_ping_pending = 0;
}

static void
rc_on_pong(redisAsyncContext *ac, void *r, void *priv)
{
	redisReply *reply = r;

	rc_ping_pending = 0;
	if (reply != NULL && reply->type == REDIS_REPLY_STATUS)
		rc_last_pong = kore_time_ms();
	/* An error (NOAUTH: Redis wants a password we do not send) keeps
	 * Redis down for us: say why, once a minute. */
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
	    (rc_ping_logged == 0 ||
		kore_time_ms() - rc_ping_logged >= RC_LOG_EVERY_MS)) {
		kore_log(LOG_ERR, "redis: command: PING refused: %.*s",
		    (int)(reply->len > RC_ERRSTR_MAX ? RC_ERRSTR_MAX
						     : reply->len),
		    reply->str);
		rc_ping_logged = kore_time_ms();
	}
}

static void
rc_on_sub(redisAsyncContext *ac, void *r, void *priv)
{
	redisReply *reply = r;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 3)
		return;
	if (reply->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(reply->element[0]->str, "message") != 0)
		return;
	if (reply->element[1]->type != REDIS_REPLY_STRING ||
	    reply->element[2]->type != REDIS_REPLY_STRING)
		return;
	if (rc_message_cb != NULL)
		rc_message_cb(reply->element[1]->str, reply->element[2]->str,
		    reply->element[2]->len);
}

static void
rc_tick(void *arg, uint64_t now)
{
	struct rconn *all[2] = { &rc_cmd, &rc_sub };
	size_t	      i;

	for (i = 0; i < 2; i++) {
		if (all[i]->ac == NULL) {
			rc_connect(all[i]);
			continue;
		}
		/* A connect that never completes (filtered port) is dropped. */
		if (!all[i]->connected &&
		    now - all[i]->started > RC_CONNECT_MAX_MS) {
			redisAsyncFree(all[i]->ac);
			continue;
		}
	}

	if (!rc_cmd.connected || rc_cmd.ac == NULL)
		return;
	if (rc_ping_pending) {
		/* A server that stopped answering: start afresh. */
		if (now - rc_ping_sent > RC_STALE_MS) {
			kore_log(LOG_NOTICE, "redis: no answer, reconnecting");
			redisAsyncFree(rc_cmd.ac);
			rc_ping_pending = 0;
		}
		return;
	}
	if (redisAsyncCommand(rc_cmd.ac, rc_on_pong, NULL, "PING") ==
	    REDIS_OK) {
		rc_ping_pending = 1;
		rc_ping_sent = now;
	}
}
