/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * agentsim: many simulated agents speaking the real agent protocol v1
 * (docs/agent-protocol.md) from one process, for make bench.
 *
 *   agentsim heartbeat URL N RATE SECONDS PIDS...
 *	enrol N nodes (enrolment tokens from the admin API, then
 *	/agent/v1/enroll), then send RATE heartbeats a second spread over
 *	them for SECONDS, and report the CPU the processes PIDS used
 *	(utime + stime from /proc) per heartbeat answered.  PIDS are
 *	groups separated by "--": "server 12 13 14 -- redis 20 -- pg 30 31".
 *   agentsim dispatch URL N COMMANDS [PIDS...]
 *	enrol N nodes, park a long-poll for each, then issue COMMANDS pings
 *	one at a time through the API to random nodes and report the time
 *	from the API call to the agent's receipt (p50, p90, p99, max).
 *	Meanwhile every agent heartbeats on the interval the server gave at
 *	enrolment (from before the first command), and re-parks with the
 *	server's poll timeout once its first poll is answered.  With PIDS
 *	(a group named "kore": the server's processes) it also reports the
 *	server's RSS growth per parked long-poll: the RSS of those processes
 *	once all N are parked and the server is idle again, minus their RSS
 *	before parking, divided by N.
 *
 * The admin JWT comes from $YARD_BENCH_TOKEN.  Everything runs on one
 * libcurl multi handle; all times are CLOCK_MONOTONIC.  Exits 1 on any
 * unexpected answer, naming it.
 */

#include <sys/epoll.h>
#include <sys/resource.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#define ENROL_PARALLEL	64
#define CMD_DEADLINE_MS 5000
#define CMD_GAP_MS	8
#define GROUPS_MAX	8
#define SIMS_MAX	50000
#define SETTLE_MAX_MS	120000
#define PARK_RATE	2000

enum xkind { X_ENROL_TOKEN, X_ENROL, X_BEAT, X_POLL, X_RESULT, X_ISSUE };

struct xfer {
	CURL		  *easy;
	struct curl_slist *hdrs;
	char		  *body;
	size_t		   len, cap;
	char		  *post;
	enum xkind	   kind;
	int		   busy;
	int		   m; /* its multi handle: multis[m] */
	struct sim	  *a;
};

struct sim {
	int64_t node_id;
	char	auth[160];
	char	token[128];
	int64_t after;
	int64_t seq; /* heartbeats sent */
	int	polled; /* a first long-poll was answered */
	int	fails; /* long-polls refused in a row */
	double	retry_at; /* park again then (now_ms()); 0: not due */
	char	result_due[40]; /* a result waiting for req */
	char	result_id[40]; /* the result in flight */
	struct curl_slist *resolve; /* its host names (own_conns) */
	struct xfer	   req; /* enrolment, heartbeats, results */
	struct xfer	   poll;
};

/*
 * Agents are spread over several multi handles, the API calls on one of
 * their own: libcurl 7.88 walks every connection of a multi's cache when
 * a transfer is removed (curl_multi_remove_handle) and when one starts,
 * so one multi with 10,000 long-polls spent a third of a core on a single
 * command in flight and added milliseconds to each measured receipt.
 */
#define MULTIS_MAX 64
static CURLM	  *multis[MULTIS_MAX + 1];
static int	   nmulti = 1; /* for agents; multis[nmulti] is the API's */
static double	   timer_at[MULTIS_MAX + 1]; /* now_ms() of a kick; < 0: none */
static int	   multi_ix[MULTIS_MAX + 1];
static const char *base;
static const char *admin;
static struct sim *sims;
static int	   nsims;
static struct xfer api;
static int	   running;
static long	   hb_interval_ms = 5000; /* the server's, from enrolment */
static long	   poll_wait = 25; /* the server's poll_timeout */
static int	   first_wait = 60; /* the first long-poll's wait */
/*
 * Dispatch mode: host names and source addresses that keep libcurl and
 * the kernel out of the measurement.  libcurl's connection cache files
 * connections in one bundle per host name (the CURLOPT_CONNECT_TO target
 * when there is one) and walks the whole bundle for every new transfer:
 * 10,000 long-polls under one name made each API call walk 10,000
 * connections.  CURLOPT_RESOLVE names go into its DNS cache, which it
 * walks too: 10,000 names were as bad.  So long-polls use POLL_HOSTS
 * names ("p<k % POLL_HOSTS>.sim", ~80 connections each) and heartbeats
 * and results HB_HOSTS others ("h<k % HB_HOSTS>.sim"), all resolved to
 * the server by CURLOPT_RESOLVE; the API calls keep the server's address
 * (a bundle of their own).  A real agent keeps a second, keep-alive
 * connection for heartbeats; 10,000 more descriptors do not fit under
 * this machine's RLIMIT_NOFILE (20,000 hard, no CAP_SYS_RESOURCE).
 * Connections come from source addresses of their own (250 agents'
 * long-polls to an address in 127.1.0.0/16, heartbeats from
 * 127.2.0.0/24): 10,000 connections from one address to one port fill a
 * third of the ephemeral port range, and each connect() then spends long
 * in the kernel looking for a free port.
 */
#define POLL_HOSTS 128
#define HB_HOSTS   64
static int  own_conns;
static char srv_host[256], srv_port[8];

/* Dispatch bookkeeping: the command in flight. */
static char   want_id[64];
static int    want_node;
static double t_issue;
static double t_receipt;
static double t_answer; /* the API answered 201 */
static int    got_issue, got_receipt;

static void die(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("agentsim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6);
}

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t	     len = sz * n;

	if (x->len + len + 1 > x->cap) {
		x->cap = (x->len + len + 1) * 2;
		if ((x->body = realloc(x->body, x->cap)) == NULL)
			die("out of memory");
	}
	memcpy(x->body + x->len, p, len);
	x->len += len;
	x->body[x->len] = '\0';
	return (len);
}

static void
xfer_init(struct xfer *x, enum xkind kind, struct sim *a)
{
	memset(x, 0, sizeof(*x));
	if ((x->easy = curl_easy_init()) == NULL)
		die("curl_easy_init");
	x->kind = kind;
	x->a = a;
	x->m = a != NULL ? (int)(a - sims) % nmulti : nmulti;
}

/* Start a request: GET when post is NULL; post is owned. */
static void
xfer_start(struct xfer *x, enum xkind kind, const char *path, const char *auth,
    char *post, long timeout_ms)
{
	char url[512], hdr[4400];

	if (x->busy)
		die("transfer started twice");
	curl_slist_free_all(x->hdrs);
	free(x->post);
	x->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	if (auth != NULL) {
		snprintf(hdr, sizeof(hdr), "Authorization: %s", auth);
		x->hdrs = curl_slist_append(x->hdrs, hdr);
	}
	x->kind = kind;
	x->post = post;
	x->len = 0;
	if (own_conns && x->a != NULL) {
		char iface[32];
		int  k = (int)(x->a - sims);

		if (x == &x->a->poll) {
			snprintf(url, sizeof(url), "http://p%d.sim:%s%s",
			    k % POLL_HOSTS, srv_port, path);
			snprintf(iface, sizeof(iface), "host!127.1.%d.%d",
			    k / 250, k % 250 + 1);
		} else {
			snprintf(url, sizeof(url), "http://h%d.sim:%s%s",
			    k % HB_HOSTS, srv_port, path);
			snprintf(iface, sizeof(iface), "host!127.2.0.%d",
			    k % HB_HOSTS + 1);
		}
		curl_easy_setopt(x->easy, CURLOPT_RESOLVE, x->a->resolve);
		curl_easy_setopt(x->easy, CURLOPT_INTERFACE, iface);
	} else
		snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(x->easy, CURLOPT_URL, url);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_TCP_NODELAY, 1L);
	if (post != NULL) {
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(post));
	} else
		curl_easy_setopt(x->easy, CURLOPT_HTTPGET, 1L);
	if (curl_multi_add_handle(multis[x->m], x->easy) != CURLM_OK)
		die("curl_multi_add_handle");
	x->busy = 1;
	running++;
}

static json_t *
body_json(struct xfer *x)
{
	json_error_t e;

	return (json_loadb(x->body ? x->body : "", x->len, 0, &e));
}

#define FACTS_FMT \
	"\"facts\":{\"hostname\":\"sim-%d\",\"os\":\"Debian GNU/Linux 12\"," \
	"\"kernel\":\"6.1.0\",\"arch\":\"x86_64\",\"cpus\":2," \
	"\"mem_total\":8000000000,\"boot_id\":\"sim\",\"uptime\":100," \
	"\"agent_version\":\"0.1.0\",\"disks\":[{\"path\":\"/\"," \
	"\"total\":100000000000,\"free\":50000000000}]}"

static char *xprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *
xprintf(const char *fmt, ...)
{
	va_list ap;
	char   *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	return (s);
}

static void
beat(struct sim *a, int64_t seq)
{
	char facts[512];

	snprintf(facts, sizeof(facts), FACTS_FMT, (int)(a - sims));
	xfer_start(&a->req, X_BEAT, "/agent/v1/heartbeat", a->auth,
	    xprintf("{\"v\":1,\"seq\":%" PRId64 ",\"time\":%ld,%s,"
		    "\"metrics\":{\"cpu\":12.5,\"mem_used\":2000000000,"
		    "\"mem_total\":8000000000,\"load1\":0.5,\"load5\":0.4,"
		    "\"load15\":0.3},\"tasks\":[]}",
		seq, (long)time(NULL), facts),
	    5000);
}

static void
park(struct sim *a)
{
	char path[128];

	snprintf(path, sizeof(path),
	    "/agent/v1/commands?after=%" PRId64 "&wait=%ld", a->after,
	    a->polled ? poll_wait : (long)first_wait);
	xfer_start(&a->poll, X_POLL, path, a->auth, NULL, 70000);
}

static void
result_send(struct sim *a, const char *id)
{
	char path[128];

	snprintf(path, sizeof(path), "/agent/v1/commands/%s/result", id);
	snprintf(a->result_id, sizeof(a->result_id), "%s", id);
	xfer_start(&a->req, X_RESULT, path, a->auth,
	    xprintf("{\"v\":1,\"state\":\"succeeded\","
		    "\"exit_status\":0,\"output\":"
		    "\"pong\",\"received_at\":%ld000,"
		    "\"finished_at\":%ld000}",
		(long)time(NULL), (long)time(NULL)),
	    5000);
}

/*
 * A refused long-poll (503: the server's PostgreSQL queue is full while
 * thousands park at once) is retried as the agent does: after
 * random(0, min(60 s, 1 s x 2^n)).
 */
static int    retry_pending;
static double retry_min;
static long   polls_refused, polls_failed, results_retried;
static char   poll_curl[CURL_ERROR_SIZE];

static void
retry_later(struct sim *a)
{
	double cap;

	a->fails++;
	cap = a->fails >= 6 ? 60000 : 1000.0 * (1 << a->fails);
	if (cap > 60000)
		cap = 60000;
	a->retry_at = now_ms() + cap * rand() / RAND_MAX;
	if (retry_pending == 0 || a->retry_at < retry_min)
		retry_min = a->retry_at;
	retry_pending++;
}

static void
retry_due(void)
{
	double now, next = 0;
	int    k;

	if (retry_pending == 0 || (now = now_ms()) < retry_min)
		return;
	for (k = 0; k < nsims; k++) {
		if (sims[k].retry_at == 0)
			continue;
		if (sims[k].retry_at <= now) {
			sims[k].retry_at = 0;
			retry_pending--;
			park(&sims[k]);
		} else if (next == 0 || sims[k].retry_at < next)
			next = sims[k].retry_at;
	}
	retry_min = next;
}

/* Counters. */
static long beats_ok, beats_bad;
static long fail_status[600]; /* failed heartbeats by HTTP status */
static char fail_curl[CURL_ERROR_SIZE];
static int  enrolled, enrol_next;

static void
enrol_start(struct sim *a)
{
	char auth[4200];

	snprintf(auth, sizeof(auth), "Bearer %s", admin);
	xfer_start(&a->req, X_ENROL_TOKEN, "/api/v1/enrollments", auth,
	    strdup("{}"), 10000);
}

/* A finished transfer. */
static void
done(struct xfer *x, CURLcode rc)
{
	struct sim *a = x->a;
	json_t	   *j, *cmds, *c;
	json_int_t  v;
	long	    status = 0;
	char	    facts[512];
	size_t	    i;

	curl_multi_remove_handle(multis[x->m], x->easy);
	x->busy = 0;
	running--;
	if (rc == CURLE_OK)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	switch (x->kind) {
	case X_ENROL_TOKEN:
		if (status != 201 || (j = body_json(x)) == NULL)
			die("enrolment token: HTTP %ld %s %.300s", status,
			    rc != CURLE_OK ? curl_easy_strerror(rc) : "",
			    x->body ? x->body : "");
		snprintf(a->token, sizeof(a->token), "%s",
		    json_string_value(json_object_get(j, "token")));
		json_decref(j);
		snprintf(facts, sizeof(facts), FACTS_FMT, (int)(a - sims));
		xfer_start(x, X_ENROL, "/agent/v1/enroll", NULL,
		    xprintf("{\"v\":1,\"token\":\"%s\",%s}", a->token, facts),
		    10000);
		break;
	case X_ENROL:
		if (status != 201 || (j = body_json(x)) == NULL)
			die("enrol: HTTP %ld", status);
		a->node_id = json_integer_value(json_object_get(j, "node_id"));
		v = json_integer_value(
		    json_object_get(j, "heartbeat_interval"));
		if (v > 0)
			hb_interval_ms = 1000 * (long)v;
		v = json_integer_value(json_object_get(j, "poll_timeout"));
		if (v > 0)
			poll_wait = (long)v;
		snprintf(a->auth, sizeof(a->auth), "YardNode %" PRId64 ":%s",
		    a->node_id,
		    json_string_value(json_object_get(j, "secret")));
		json_decref(j);
		enrolled++;
		if (enrol_next < nsims)
			enrol_start(&sims[enrol_next++]);
		break;
	case X_BEAT:
		if (status == 200)
			beats_ok++;
		else {
			beats_bad++;
			fail_status[status >= 0 && status < 600 ? status : 0]++;
			if (rc != CURLE_OK)
				snprintf(fail_curl, sizeof(fail_curl), "%s",
				    curl_easy_strerror(rc));
		}
		if (a->result_due[0] != '\0') {
			result_send(a, a->result_due);
			a->result_due[0] = '\0';
		}
		break;
	case X_POLL:
		if (status == 503) {
			polls_refused++;
			retry_later(a);
			break;
		}
		if (rc != CURLE_OK) {
			/* E.g. a keep-alive connection the server closed as
			 * the request went out: the agent retries. */
			polls_failed++;
			snprintf(poll_curl, sizeof(poll_curl), "%s",
			    curl_easy_strerror(rc));
			retry_later(a);
			break;
		}
		a->fails = 0;
		if (status == 204) {
			a->polled = 1;
			park(a);
			break;
		}
		if (status != 200 || (j = body_json(x)) == NULL)
			die("poll: HTTP %ld %s", status,
			    rc != CURLE_OK ? curl_easy_strerror(rc) : "");
		cmds = json_object_get(j, "commands");
		json_array_foreach(cmds, i, c)
		{
			const char *id =
			    json_string_value(json_object_get(c, "id"));
			int64_t seq =
			    json_integer_value(json_object_get(c, "seq"));

			if (id != NULL && strcmp(id, want_id) == 0 &&
			    !got_receipt) {
				t_receipt = now_ms();
				got_receipt = 1;
			} else if (id != NULL && want_id[0] == '\0' &&
			    a == &sims[want_node] && !got_receipt) {
				/* Arrived before the API call answered. */
				snprintf(want_id, sizeof(want_id), "%s", id);
				t_receipt = now_ms();
				got_receipt = 1;
			}
			if (seq > a->after)
				a->after = seq;
			/* One result at a time: after a heartbeat in flight. */
			if (!a->req.busy)
				result_send(a, id ? id : "x");
			else
				snprintf(a->result_due, sizeof(a->result_due),
				    "%s", id ? id : "x");
		}
		json_decref(j);
		a->polled = 1;
		park(a);
		break;
	case X_RESULT:
		if (status == 503 || rc != CURLE_OK) {
			/* As the agent: deliver it again (after the next
			 * heartbeat). */
			results_retried++;
			snprintf(a->result_due, sizeof(a->result_due), "%s",
			    a->result_id);
			break;
		}
		if (status != 200)
			die("result: HTTP %ld", status);
		break;
	case X_ISSUE:
		if (status != 201 || (j = body_json(x)) == NULL)
			die("issue: HTTP %ld %s %.200s", status,
			    rc != CURLE_OK ? curl_easy_strerror(rc) : "",
			    x->body ? x->body : "");
		if (want_id[0] == '\0')
			snprintf(want_id, sizeof(want_id), "%s",
			    json_string_value(json_object_get(j, "id")));
		else if (strcmp(want_id,
			     json_string_value(json_object_get(j, "id"))) != 0)
			die("receipt of an unexpected command");
		json_decref(j);
		t_answer = now_ms();
		got_issue = 1;
		break;
	}
}

/*
 * The event loop: libcurl's socket interface on epoll, so that a loop
 * turn costs what is ready, not what is open (curl_multi_perform() and
 * curl_multi_poll() visit every one of a thousand parked transfers).
 */
static int epfd = -1;

static int
on_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.data.u64 = (uint64_t) * (int *)arg << 32 | (uint32_t)fd;
	if (what == CURL_POLL_REMOVE) {
		(void)epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
		return (0);
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) |
	    (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) == -1 &&
	    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		die("epoll_ctl: %s", strerror(errno));
	return (0);
}

static int
on_timer(CURLM *m, long ms, void *arg)
{
	timer_at[*(int *)arg] = ms < 0 ? -1 : now_ms() + (double)ms;
	return (0);
}

/* Run the multis whose timer is due (all of them when all is set). */
static void
kick(int all)
{
	double now = now_ms();
	int    i, still;

	for (i = 0; i <= nmulti; i++) {
		if (!all && (timer_at[i] < 0 || timer_at[i] > now))
			continue;
		timer_at[i] = -1;
		curl_multi_socket_action(multis[i], CURL_SOCKET_TIMEOUT, 0,
		    &still);
	}
}

static void
reap(void)
{
	struct xfer *x;
	CURLMsg	    *m;
	int	     left, i;

	for (i = 0; i <= nmulti; i++) {
		while ((m = curl_multi_info_read(multis[i], &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    (char **)&x);
			done(x, m->data.result);
		}
	}
}

/*
 * Background heartbeats (dispatch mode): each agent on the server's
 * interval, spread evenly, round robin; an agent whose previous request
 * is still in flight skips its turn (counted).
 */
static int    hb_on, hb_k;
static double hb_next, hb_gap;
static long   hb_sent, hb_skipped;

static void
hb_start(void)
{
	hb_on = 1;
	hb_k = 0;
	hb_gap = (double)hb_interval_ms / nsims;
	hb_next = now_ms();
}

static void
hb_due(void)
{
	double now;

	if (!hb_on)
		return;
	now = now_ms();
	while (hb_next <= now) {
		if (sims[hb_k].req.busy)
			hb_skipped++;
		else {
			beat(&sims[hb_k], ++sims[hb_k].seq);
			hb_sent++;
		}
		hb_k = (hb_k + 1) % nsims;
		hb_next += hb_gap;
	}
}

/* The epoll wait (ms) shortened to end by due (now_ms()). */
static int
wait_until(double due, int wait)
{
	double left = due - now_ms();

	if (left <= 0)
		return (0);
	return (left < wait ? (int)left + 1 : wait);
}

/* Run the loop for up to ms, or until cond() holds. */
static void
pump(double ms, int (*cond)(void))
{
	struct epoll_event evs[256];
	double		   end = now_ms() + ms, left;
	int		   n, i, wait, flags, still;

	/* Transfers added since the last turn start on a timeout kick. */
	hb_due();
	retry_due();
	kick(0);
	reap();
	while ((left = end - now_ms()) > 0 && (cond == NULL || !cond())) {
		wait = (int)left + 1;
		for (i = 0; i <= nmulti; i++)
			if (timer_at[i] >= 0)
				wait = wait_until(timer_at[i], wait);
		if (hb_on)
			wait = wait_until(hb_next, wait);
		if (retry_pending > 0)
			wait = wait_until(retry_min, wait);
		n = epoll_wait(epfd, evs, 256, wait);
		if (n == -1 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			flags =
			    (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
			    (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
			    (evs[i].events & (EPOLLERR | EPOLLHUP)
				    ? CURL_CSELECT_ERR
				    : 0);
			curl_multi_socket_action(multis[evs[i].data.u64 >> 32],
			    (curl_socket_t)(evs[i].data.u64 & 0xffffffff),
			    flags, &still);
		}
		kick(0);
		reap();
		hb_due();
		retry_due();
		/* Requests started by done() need their kick too. */
		kick(0);
		reap();
	}
}

static int
all_enrolled(void)
{
	return (enrolled == nsims);
}

static void
enrol_all(void)
{
	double t0 = now_ms();

	for (enrol_next = 0; enrol_next < nsims && enrol_next < ENROL_PARALLEL;
	     enrol_next++)
		enrol_start(&sims[enrol_next]);
	pump(120000, all_enrolled);
	if (!all_enrolled())
		die("only %d of %d nodes enrolled", enrolled, nsims);
	printf("enrolled %d nodes in %.1f s\n", nsims, (now_ms() - t0) / 1e3);
}

/* utime + stime of pid in clock ticks; 0 if it is gone. */
static long long
cpu_ticks(long pid)
{
	char	  path[64], buf[2048], *p;
	FILE	 *f;
	long long ut = 0, st = 0;
	size_t	  n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return (0);
	/* After ") ": state(3) ... utime(14) stime(15). */
	if (sscanf(p + 2,
		"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld "
		"%lld",
		&ut, &st) != 2)
		return (0);
	return (ut + st);
}

/* Nothing in flight (an idle keep-alive connection must not outlive
 * Kore's header timeout, or it answers 408). */
static int
idle(void)
{
	return (running == 0);
}

struct group {
	const char *name;
	long	    pids[256];
	int	    npids;
	long long   t0, t1;
};

/* "name PID... -- name PID..." from argv[i...]; returns the count. */
static int
groups_parse(struct group *g, int argc, char **argv, int i)
{
	int ng = 0;

	memset(g, 0, sizeof(*g) * GROUPS_MAX);
	for (; i < argc && ng < GROUPS_MAX; i++) {
		if (strcmp(argv[i], "--") == 0)
			continue;
		g[ng].name = argv[i];
		for (i++; i < argc && strcmp(argv[i], "--") != 0; i++) {
			if (g[ng].npids < 256)
				g[ng].pids[g[ng].npids++] = atol(argv[i]);
		}
		ng++;
	}
	return (ng);
}

static long long
group_ticks(const struct group *g)
{
	long long t = 0;
	int	  k;

	for (k = 0; k < g->npids; k++)
		t += cpu_ticks(g->pids[k]);
	return (t);
}

/* Sum of VmRSS over a group's processes, kB. */
static long
group_rss_kb(const struct group *g)
{
	char  path[64], line[256];
	FILE *f;
	long  kb, sum = 0;
	int   k;

	for (k = 0; k < g->npids; k++) {
		snprintf(path, sizeof(path), "/proc/%ld/status", g->pids[k]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, "VmRSS: %ld", &kb) == 1)
				sum += kb;
		}
		fclose(f);
	}
	return (sum);
}

static int
heartbeat_mode(int argc, char **argv)
{
	struct group g[GROUPS_MAX];
	double	     rate, secs, t0, next, gap, hz;
	long	     sent = 0, skipped = 0;
	int	     ng, i, k;

	if (argc < 4)
		die("usage: heartbeat URL N RATE SECONDS [name PID... -- ...]");
	rate = atof(argv[2]);
	secs = atof(argv[3]);
	ng = groups_parse(g, argc, argv, 4);
	enrol_all();

	/* Warm up: one heartbeat each (node auth cache, keepalive). */
	for (k = 0; k < nsims; k++)
		beat(&sims[k], 1);
	pump(10000, idle);
	if (beats_bad != 0 || beats_ok != nsims)
		die("warm-up: %ld of %d heartbeats answered 200", beats_ok,
		    nsims);
	beats_ok = 0;

	for (i = 0; i < ng; i++)
		for (k = 0; k < g[i].npids; k++)
			g[i].t0 += cpu_ticks(g[i].pids[k]);
	gap = 1000.0 / rate;
	t0 = now_ms();
	next = t0;
	k = 0;
	while (now_ms() - t0 < secs * 1000) {
		while (next <= now_ms()) {
			if (sims[k].req.busy)
				skipped++;
			else {
				beat(&sims[k], 2 + sent);
				sent++;
			}
			k = (k + 1) % nsims;
			next += gap;
		}
		pump(next - now_ms() > 0 ? next - now_ms() : 0, NULL);
	}
	pump(5000, idle);
	for (i = 0; i < ng; i++)
		for (k = 0; k < g[i].npids; k++)
			g[i].t1 += cpu_ticks(g[i].pids[k]);
	if (running > 0)
		die("%d requests still unanswered", running);

	hz = (double)sysconf(_SC_CLK_TCK);
	printf("heartbeats: %ld sent, %ld answered 200, %ld failed, %ld "
	       "skipped (agent busy); %.0f/s achieved (target %.0f/s)\n",
	    sent, beats_ok, beats_bad, skipped, beats_ok / secs, rate);
	for (k = 0; k < 600; k++) {
		if (fail_status[k] != 0)
			printf("failed with HTTP %d: %ld%s%s\n", k,
			    fail_status[k], k == 0 ? ", last: " : "",
			    k == 0 ? fail_curl : "");
	}
	for (i = 0; i < ng; i++)
		printf("cpu %s: %.1f us per heartbeat (%.2f s over %.0f s)\n",
		    g[i].name,
		    (double)(g[i].t1 - g[i].t0) / hz * 1e6 /
			(double)(beats_ok ? beats_ok : 1),
		    (double)(g[i].t1 - g[i].t0) / hz, secs);
	return (beats_bad == 0 && skipped * 100 < sent ? 0 : 1);
}

static int
issue_done(void)
{
	return (got_issue && got_receipt);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/*
 * Wait until the groups' processes together used under 10 % of a core
 * over each of two consecutive seconds (the server has parked what it was
 * sent; idle with 10,000 parked it uses 3-5 %: the waiting room's timer,
 * the presence sweep), at
 * most SETTLE_MAX_MS; returns the seconds it took.
 */
static double
settle(struct group *g, int ng)
{
	double	  t0 = now_ms(), hz = (double)sysconf(_SC_CLK_TCK);
	long long before, after;
	int	  quiet = 0, i;

	while (
	    (quiet < 2 || retry_pending > 0) && now_ms() - t0 < SETTLE_MAX_MS) {
		before = 0;
		for (i = 0; i < ng; i++)
			before += group_ticks(&g[i]);
		pump(1000, NULL);
		after = 0;
		for (i = 0; i < ng; i++)
			after += group_ticks(&g[i]);
		quiet = (double)(after - before) / hz < 0.1 ? quiet + 1 : 0;
	}
	return ((now_ms() - t0) / 1e3);
}

static int
dispatch_mode(int argc, char **argv)
{
	struct group g[GROUPS_MAX], *kore = NULL;
	double	    *lat, *alat, t0, secs, hz;
	long	     rss0 = 0, rss1 = 0;
	long long    self0, self1;
	char	     auth[4200];
	int	     ncmd, ng, i, k;

	if (argc < 3)
		die("usage: dispatch URL N COMMANDS [name PID... -- ...]");
	ncmd = atoi(argv[2]);
	if (ncmd < 1)
		die("COMMANDS must be at least 1");
	ng = groups_parse(g, argc, argv, 3);
	for (i = 0; i < ng; i++)
		if (strcmp(g[i].name, "kore") == 0)
			kore = &g[i];
	enrol_all();
	own_conns = 1;
	/* Enrolment's keep-alive connections close (the server's 8 s). */
	if (kore != NULL) {
		(void)settle(g, ng);
		rss0 = group_rss_kb(kore);
	}
	/* Agents coming up at PARK_RATE a second, not all in one go. */
	for (k = 0; k < nsims; k++) {
		park(&sims[k]);
		if (k % (PARK_RATE / 10) == PARK_RATE / 10 - 1)
			pump(100, NULL);
	}
	if (ng > 0) {
		secs = settle(g, ng);
		printf("parked %d long-polls; the server was idle again "
		       "after %.1f s (%ld refused with 503 on the way and "
		       "retried with back-off)\n",
		    nsims, secs, polls_refused);
	} else
		pump(3000 + nsims / 2, NULL); /* all parked on the server */
	if (running != nsims)
		die("%d of %d long-polls in flight after parking", running,
		    nsims);
	if (kore != NULL) {
		rss1 = group_rss_kb(kore);
		printf("server RSS (%d processes): %.1f MB before parking, "
		       "%.1f MB with %d parked: %.2f KiB per parked agent\n",
		    kore->npids, rss0 / 1024.0, rss1 / 1024.0, nsims,
		    (double)(rss1 - rss0) / nsims);
	}

	/*
	 * Heartbeats from now on.  The first rounds are a herd (every
	 * worker looks up each node's credential once); measure from the
	 * fourth round on.
	 */
	hb_on = 0;
	if (getenv("AGENTSIM_HEARTBEATS") == NULL ||
	    strcmp(getenv("AGENTSIM_HEARTBEATS"), "0") != 0) {
		hb_start();
		pump(3.0 * (double)hb_interval_ms, NULL);
	}
	printf("heartbeat warm-up (%.0f s): %ld sent, %ld answered 200, %ld "
	       "failed, %ld skipped (agent busy)\n",
	    3.0 * hb_interval_ms / 1e3, hb_sent, beats_ok, beats_bad,
	    hb_skipped);
	for (k = 0; k < 600; k++) {
		if (fail_status[k] != 0)
			printf("  failed with HTTP %d: %ld%s%s\n", k,
			    fail_status[k], k == 0 ? ", last: " : "",
			    k == 0 ? fail_curl : "");
	}
	hb_sent = beats_ok = beats_bad = hb_skipped = 0;
	memset(fail_status, 0, sizeof(fail_status));
	for (i = 0; i < ng; i++)
		g[i].t0 = group_ticks(&g[i]);
	self0 = cpu_ticks((long)getpid());
	t0 = now_ms();

	if ((lat = calloc((size_t)ncmd, sizeof(*lat))) == NULL ||
	    (alat = calloc((size_t)ncmd, sizeof(*alat))) == NULL)
		die("out of memory");
	snprintf(auth, sizeof(auth), "Bearer %s", admin);
	for (i = 0; i < ncmd; i++) {
		want_node = rand() % nsims;
		want_id[0] = '\0';
		got_issue = got_receipt = 0;
		t_issue = now_ms();
		xfer_start(&api, X_ISSUE, "/api/v1/commands", auth,
		    xprintf("{\"type\":\"ping\",\"node_id\":%" PRId64 "}",
			sims[want_node].node_id),
		    CMD_DEADLINE_MS);
		pump(CMD_DEADLINE_MS, issue_done);
		if (!issue_done())
			die("command %d to node %" PRId64 " not received "
			    "within %d ms",
			    i, sims[want_node].node_id, CMD_DEADLINE_MS);
		lat[i] = t_receipt - t_issue;
		alat[i] = t_answer - t_issue;
		pump(CMD_GAP_MS, NULL);
	}
	secs = (now_ms() - t0) / 1e3;
	for (i = 0; i < ng; i++)
		g[i].t1 = group_ticks(&g[i]);
	self1 = cpu_ticks((long)getpid());
	qsort(lat, (size_t)ncmd, sizeof(*lat), cmp_double);
	printf("dispatch: %d pings to %d parked agents: p50 %.2f ms, p90 "
	       "%.2f ms, p99 %.2f ms, max %.2f ms\n",
	    ncmd, nsims, lat[ncmd / 2], lat[ncmd * 90 / 100],
	    lat[ncmd * 99 / 100], lat[ncmd - 1]);
	qsort(alat, (size_t)ncmd, sizeof(*alat), cmp_double);
	printf("the API call alone (to its 201): p50 %.2f ms, p99 %.2f ms\n",
	    alat[ncmd / 2], alat[ncmd * 99 / 100]);
	if (results_retried != 0)
		printf("results refused or failed and sent again: %ld\n",
		    results_retried);
	if (polls_failed != 0)
		printf("long-polls failed and retried: %ld, last: %s\n",
		    polls_failed, poll_curl);
	printf("heartbeats meanwhile (every %.1f s per agent, %.0f/s): %ld "
	       "sent in %.1f s, %ld answered 200, %ld failed, %ld skipped "
	       "(agent busy)\n",
	    hb_interval_ms / 1e3, nsims * 1e3 / hb_interval_ms, hb_sent, secs,
	    beats_ok, beats_bad, hb_skipped);
	for (k = 0; k < 600; k++) {
		if (fail_status[k] != 0)
			printf("failed with HTTP %d: %ld%s%s\n", k,
			    fail_status[k], k == 0 ? ", last: " : "",
			    k == 0 ? fail_curl : "");
	}
	hz = (double)sysconf(_SC_CLK_TCK);
	for (i = 0; i < ng; i++)
		printf("cpu %s meanwhile: %.2f s over %.1f s (%.0f %% of a "
		       "core)\n",
		    g[i].name, (double)(g[i].t1 - g[i].t0) / hz, secs,
		    100.0 * (double)(g[i].t1 - g[i].t0) / hz / secs);
	/* The load generator's own share: its loop turns add to latency. */
	printf("cpu agentsim meanwhile: %.2f s over %.1f s (%.0f %% of a "
	       "core)\n",
	    (double)(self1 - self0) / hz, secs,
	    100.0 * (double)(self1 - self0) / hz / secs);
	free(lat);
	free(alat);
	return (0); /* make bench judges the failed heartbeats */
}

int
main(int argc, char **argv)
{
	struct rlimit rl;
	rlim_t	      need;
	int	      k;

	if (argc < 4)
		die("usage: agentsim heartbeat|dispatch URL N ...");
	if ((admin = getenv("YARD_BENCH_TOKEN")) == NULL)
		die("YARD_BENCH_TOKEN is not set");
	/* Line by line: make bench watches for "parked". */
	setvbuf(stdout, NULL, _IOLBF, 0);
	base = argv[2];
	if (strcmp(argv[1], "dispatch") == 0) {
		const char *h = strstr(base, "://"), *c;

		if (h == NULL || (c = strrchr(h + 3, ':')) == NULL ||
		    (size_t)(c - h - 3) >= sizeof(srv_host) ||
		    strlen(c + 1) >= sizeof(srv_port) ||
		    strspn(c + 1, "0123456789") != strlen(c + 1))
			die("URL must be http://ADDRESS:PORT");
		memcpy(srv_host, h + 3, (size_t)(c - h - 3));
		snprintf(srv_port, sizeof(srv_port), "%s", c + 1);
	}
	nsims = atoi(argv[3]);
	if (nsims < 1 || nsims > SIMS_MAX)
		die("N must be 1 to %d", SIMS_MAX);
	/*
	 * A descriptor per parked poll, a few for heartbeats and results:
	 * raise the soft limit to the hard one, and the hard one too when
	 * allowed (root), to 2N + 256.
	 */
	need = (rlim_t)nsims * 2 + 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		rl.rlim_max = need;
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)nsims + 256))
		die("RLIMIT_NOFILE %llu is too low for %d agents (needs %d; "
		    "raise ulimit -n or run as root)",
		    (unsigned long long)rl.rlim_cur, nsims, nsims + 256);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(argv[1], "dispatch") == 0)
		nmulti =
		    nsims / 500 + 1 > MULTIS_MAX ? MULTIS_MAX : nsims / 500 + 1;
	for (k = 0; k <= nmulti; k++) {
		if ((multis[k] = curl_multi_init()) == NULL)
			die("curl_multi_init");
		multi_ix[k] = k;
		timer_at[k] = -1;
		curl_multi_setopt(multis[k], CURLMOPT_MAXCONNECTS,
		    (long)(2 * nsims / nmulti + 16));
		curl_multi_setopt(multis[k], CURLMOPT_SOCKETFUNCTION,
		    on_socket);
		curl_multi_setopt(multis[k], CURLMOPT_SOCKETDATA, &multi_ix[k]);
		curl_multi_setopt(multis[k], CURLMOPT_TIMERFUNCTION, on_timer);
		curl_multi_setopt(multis[k], CURLMOPT_TIMERDATA, &multi_ix[k]);
	}
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1: %s", strerror(errno));
	if ((sims = calloc((size_t)nsims, sizeof(*sims))) == NULL)
		die("out of memory");
	for (k = 0; k < nsims; k++) {
		xfer_init(&sims[k].req, X_ENROL, &sims[k]);
		xfer_init(&sims[k].poll, X_POLL, &sims[k]);
		if (srv_port[0] != '\0') {
			char r[320];

			snprintf(r, sizeof(r), "p%d.sim:%s:%s", k % POLL_HOSTS,
			    srv_port, srv_host);
			sims[k].resolve = curl_slist_append(NULL, r);
			snprintf(r, sizeof(r), "h%d.sim:%s:%s", k % HB_HOSTS,
			    srv_port, srv_host);
			sims[k].resolve = curl_slist_append(sims[k].resolve, r);
		}
	}
	xfer_init(&api, X_ISSUE, NULL);
	srand((unsigned int)getpid());
	if (strcmp(argv[1], "heartbeat") == 0)
		return (heartbeat_mode(argc - 2, argv + 2));
	if (strcmp(argv[1], "dispatch") == 0)
		return (dispatch_mode(argc - 2, argv + 2));
	die("unknown mode %s", argv[1]);
}
