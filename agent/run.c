/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * yard-agent run: one thread, one libcurl multi handle, three activities
 * (heartbeats, the command long-poll, result delivery), each with its
 * own easy handle and its own back-off.  The system's requests (stop,
 * reload) wake the same wait as the transfers (agent_os_wait()).
 */

#include <sys/queue.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <curl/curl.h>

#include "agent.h"

#define RING_MAX       (AGENTPROTO_BACKLOG_MAX + 1) /* backlog + current */
#define HB_TIMEOUT_MS  20000
#define RES_TIMEOUT_MS 30000
#define WAIT_ENROL_MS  10000
#define POLL_MIN_MS    1000 /* a 200 with nothing new, too soon */

struct pending {
	TAILQ_ENTRY(pending) entry;
	char  id[AGENTPROTO_UUID_LEN + 1];
	char *body; /* NULL: read it from the journal */
	int   running; /* a progress report, not the final result */
};
TAILQ_HEAD(pending_list, pending);

struct activity {
	struct agent_xfer x;
	uint64_t	  next; /* mono ms of the next attempt */
	unsigned int	  fails;
	const char	 *name;
};

struct agent_state {
	struct agent_opts   *opts;
	struct agent_node    node;
	int		     enrolled;
	char		     auth[AGENTPROTO_AUTH_MAX + 1];
	CURLM		    *multi;
	int		     quit;
	struct agent_journal journal;
	struct agent_sys     sys;

	struct activity hb;
	struct activity poll;
	struct activity res;

	/* Heartbeats: samples not yet delivered, oldest first. */
	struct agentproto_heartbeat msg;
	struct agentproto_sample    ring[RING_MAX];
	size_t			    ring_head;
	size_t			    ring_n;
	size_t			    hb_sent;
	uint64_t		    dropped;
	int64_t			    hb_seq;
	uint64_t		    next_sample;

	struct pending_list results;
	size_t		    nresults;
	char		   *res_id_sent;
	uint64_t	    unauth_logged;
	int		    unauth_seen;

	struct agent_tasks tasks;
	struct agent_logs  logs;
};

static struct agent_state st;

static int  state_load(struct agent_state *);
static void state_unload(struct agent_state *);
static void activity_start(struct agent_state *, struct activity *);
static void activity_stop(struct agent_state *, struct activity *);
static void activity_fail(struct agent_state *, struct activity *,
    const char *);
static void activity_ok(struct activity *);
static int  unauthorized(struct agent_state *, struct activity *);
static void sample_take(struct agent_state *);
static void hb_start(struct agent_state *);
static void hb_done(struct agent_state *);
static void poll_start(struct agent_state *);
static void poll_done(struct agent_state *);
static int  command_handle(struct agent_state *,
     const struct agentproto_command *);
static void results_queue(struct agent_state *, const char *, char *);
static void results_recover(struct agent_state *);
static void results_clear(struct agent_state *);
static void res_start(struct agent_state *);
static void res_done(struct agent_state *);
static void events_read(struct agent_state *);
static int  transient_4xx(long);
static void task_done(void *, const char *, int64_t, char *);
static void task_progress(void *, const char *, char *);
static void policy_log(const struct agent_policy *);
static void policy_reload(struct agent_state *);

/* What the node allows, once at start and after a reload. */
static void
policy_log(const struct agent_policy *pol)
{
	size_t i;

	log_info("policy: %s%s", pol->file[0] != '\0' ? pol->file : "defaults",
	    pol->file[0] != '\0' ? "" : " (no " AGENT_POLICY_FILE ")");
	for (i = 0; i < pol->p.nroots; i++)
		log_info("policy: root %s, tasks as %s", pol->p.roots[i].path,
		    pol->p.roots[i].user);
	for (i = 0; i < pol->p.nkinds; i++)
		log_info("policy: %s tasks as %s", pol->p.kinds[i].kind,
		    pol->p.kinds[i].user);
}

/*
 * SIGHUP: read the policy file again.  A bad one changes nothing (the
 * running policy stays, and says so).  Tasks that run keep running; the
 * next start is checked against the new policy.
 */
static void
policy_reload(struct agent_state *s)
{
	struct agent_policy pol;
	char		    err[1024];

	if (!agent_policy_load(&pol, s->opts->policy_file, err, sizeof(err))) {
		log_warnx("%s: keeping the policy in force", err);
		return;
	}
	s->opts->policy = pol;
	s->tasks.log_max = (off_t)pol.p.log_bytes;
	policy_log(&s->opts->policy);
}

static int
state_load(struct agent_state *s)
{
	if (!agent_node_load(s->opts->state_dir, &s->node, 1))
		return (0);
	if (!agentproto_auth_format(s->auth, sizeof(s->auth), s->node.node_id,
		s->node.secret)) {
		agent_node_wipe(&s->node);
		return (0);
	}
	if (!agent_journal_open(&s->journal, s->opts->state_dir, 0)) {
		agent_node_wipe(&s->node);
		explicit_bzero(s->auth, sizeof(s->auth));
		return (0);
	}
	s->enrolled = 1;
	agent_tasks_init(&s->tasks, s->opts->state_dir, s->node.node_id);
	s->tasks.policy = &s->opts->policy;
	s->tasks.log_max = (off_t)s->opts->policy.p.log_bytes;
	s->tasks.done = task_done;
	s->tasks.progress = task_progress;
	s->tasks.node = &s->node;
	s->tasks.arg = s;
	s->tasks.multi = s->multi;
	agent_work_load(&s->tasks);
	results_recover(s);
	log_info("node %" PRId64 " on %s, commands after seq %" PRId64,
	    s->node.node_id, s->node.server, s->journal.after);
	return (1);
}

static void
state_unload(struct agent_state *s)
{
	activity_stop(s, &s->hb);
	activity_stop(s, &s->poll);
	activity_stop(s, &s->res);
	results_clear(s);
	agent_logs_free(&s->logs);
	agent_work_free(&s->tasks);
	if (s->enrolled)
		agent_journal_close(&s->journal);
	agent_node_wipe(&s->node);
	explicit_bzero(s->auth, sizeof(s->auth));
	s->enrolled = 0;
}

static void
activity_start(struct agent_state *s, struct activity *a)
{
	CURLMcode rc;

	if ((rc = curl_multi_add_handle(s->multi, a->x.easy)) != CURLM_OK) {
		log_warnx("%s: %s", a->name, curl_multi_strerror(rc));
		agent_xfer_release(&a->x);
		activity_fail(s, a, NULL);
		return;
	}
	a->x.busy = 1;
}

static void
activity_stop(struct agent_state *s, struct activity *a)
{
	if (a->x.busy)
		(void)curl_multi_remove_handle(s->multi, a->x.easy);
	a->x.busy = 0;
	agent_xfer_release(&a->x);
	a->fails = 0;
	a->next = 0;
}

/*
 * Back off; log the first failure of a run of them, the rest at debug.
 * A Retry-After from the server (429, 503) is a floor, capped at 60 s,
 * plus up to 1 s of jitter so that a fleet told the same does not return
 * in step.
 */
static void
activity_fail(struct agent_state *s, struct activity *a, const char *why)
{
	uint64_t d, floor;

	a->fails++;
	d = agent_backoff_ms(a->fails);
	if (a->x.retry_after > 0) {
		floor = (uint64_t)a->x.retry_after * 1000;
		if (d < floor)
			d = floor + agent_backoff_ms(0);
		if (d > AGENT_BACKOFF_CAP_MS)
			d = AGENT_BACKOFF_CAP_MS;
	}
	a->next = agent_mono_ms() + d;
	if (why == NULL)
		return;
	if (a->fails == 1)
		log_warnx("%s: %s; retrying with back-off", a->name, why);
	else
		log_debug("%s: %s (failure %u, next try in %" PRIu64 " ms)",
		    a->name, why, a->fails, d);
}

static void
activity_ok(struct activity *a)
{
	if (a->fails > 1)
		log_info("%s: server reachable again after %u failures",
		    a->name, a->fails);
	a->fails = 0;
	a->next = 0;
}

/* 401: the node was revoked (or the secret is wrong).  Keep backing off
 * and keep the state: an admin may re-enrol this machine. */
static int
unauthorized(struct agent_state *s, struct activity *a)
{
	uint64_t now;

	if (a->x.status != 401)
		return (0);
	now = agent_mono_ms();
	if (!s->unauth_seen || now - s->unauth_logged >= AGENT_UNAUTH_LOG_MS) {
		log_warnx("node unauthorized (revoked?)");
		s->unauth_logged = now;
		s->unauth_seen = 1;
	}
	activity_fail(s, a, NULL);
	return (1);
}

/* 4xx answers that a retry may fix; the others reject the request. */
static int
transient_4xx(long status)
{
	return (
	    status == 401 || status == 408 || status == 425 || status == 429);
}

/* Push a metrics sample into the ring (dropping the oldest when full). */
static void
sample_take(struct agent_state *s)
{
	struct agentproto_sample *smp;
	size_t			  i;

	if (s->ring_n == RING_MAX) {
		s->ring_head = (s->ring_head + 1) % RING_MAX;
		s->ring_n--;
		s->dropped++;
		/* Samples inside an in-flight heartbeat are gone too. */
		if (s->hb_sent > 0)
			s->hb_sent--;
	}
	i = (s->ring_head + s->ring_n) % RING_MAX;
	smp = &s->ring[i];
	smp->time = agent_now_ms() / 1000;
	if (!agent_sys_metrics(&s->sys, &smp->metrics))
		log_debug("metrics: cannot read them");
	s->ring_n++;
}

static void
hb_start(struct agent_state *s)
{
	struct agentproto_heartbeat *h = &s->msg;
	char			     url[AGENT_URL_MAX + 64];
	char			    *body;
	size_t			     i, n;

	/* The newest sample is the message's metrics; older ones the
	 * backlog, oldest first. */
	n = s->ring_n;
	h->seq = ++s->hb_seq;
	h->time = agent_now_ms() / 1000;
	(void)agent_sys_facts(&s->sys, &h->facts);
	h->metrics = s->ring[(s->ring_head + n - 1) % RING_MAX].metrics;
	h->tasks = agent_tasks_status(&s->tasks, agent_os_clock_hz());
	h->nbacklog = n - 1;
	for (i = 0; i < n - 1; i++)
		h->backlog[i] = s->ring[(s->ring_head + i) % RING_MAX];
	body = agentproto_heartbeat_encode(h);
	json_decref(h->tasks);
	h->tasks = NULL;
	if (body == NULL) {
		log_warnx("heartbeat: cannot encode");
		activity_fail(s, &s->hb, NULL);
		return;
	}
	(void)snprintf(url, sizeof(url), "%s/agent/v1/heartbeat",
	    s->node.server);
	if (!agent_xfer_prepare(&s->hb.x, url, s->auth, body, HB_TIMEOUT_MS)) {
		activity_fail(s, &s->hb, "cannot prepare the request");
		return;
	}
	s->hb_sent = n;
	activity_start(s, &s->hb);
}

static void
hb_done(struct agent_state *s)
{
	struct agentproto_heartbeat_resp r;
	struct agentproto_err		 err;
	struct agent_xfer		*x = &s->hb.x;
	char				 why[256];

	if (x->result != CURLE_OK || x->status < 200 || x->status > 299) {
		if (unauthorized(s, &s->hb))
			return;
		if (x->result != CURLE_OK)
			(void)snprintf(why, sizeof(why), "%s",
			    agent_xfer_error(x));
		else
			(void)snprintf(why, sizeof(why), "HTTP %ld", x->status);
		activity_fail(s, &s->hb, why);
		return;
	}
	/* Delivered: forget the samples it carried. */
	s->ring_head = (s->ring_head + s->hb_sent) % RING_MAX;
	s->ring_n -= s->hb_sent;
	if (s->hb_sent > 1)
		log_info("heartbeat: delivered %zu buffered samples",
		    s->hb_sent - 1);
	s->hb_sent = 0;
	if (s->dropped > 0) {
		log_warnx("heartbeat: %" PRIu64 " samples were dropped while "
			  "the server was unreachable",
		    s->dropped);
		s->dropped = 0;
	}
	activity_ok(&s->hb);
	s->unauth_seen = 0;
	if (!agentproto_heartbeat_resp_decode(x->body, x->len, &r, &err)) {
		log_warnx("heartbeat: bad answer: %s: %s", err.field, err.msg);
		return;
	}
	if (r.heartbeat_interval != s->node.heartbeat_interval) {
		log_info("heartbeat interval now %" PRId64 " s",
		    r.heartbeat_interval);
		s->node.heartbeat_interval = r.heartbeat_interval;
		s->next_sample =
		    agent_mono_ms() + (uint64_t)r.heartbeat_interval * 1000;
	}
	s->node.poll_timeout = r.poll_timeout;
}

static void
poll_start(struct agent_state *s)
{
	char	url[AGENT_URL_MAX + 128];
	int64_t after;

	/* Past commands still in progress (a stop in its grace period) too:
	 * the server would hand them out again at once. */
	after = agent_work_pending_seq(&s->tasks);
	if (after < s->journal.after)
		after = s->journal.after;
	(void)snprintf(url, sizeof(url),
	    "%s/agent/v1/commands?after=%" PRId64 "&wait=%" PRId64,
	    s->node.server, after, s->node.poll_timeout);
	if (!agent_xfer_prepare(&s->poll.x, url, s->auth, NULL,
		(long)(s->node.poll_timeout + AGENT_POLL_SLACK) * 1000)) {
		activity_fail(s, &s->poll, "cannot prepare the request");
		return;
	}
	activity_start(s, &s->poll);
}

static void
poll_done(struct agent_state *s)
{
	struct agentproto_poll p;
	struct agentproto_err  err;
	struct agent_xfer     *x = &s->poll.x;
	char		       why[256];
	size_t		       i;
	int		       acted;

	if (x->result != CURLE_OK || (x->status != 200 && x->status != 204)) {
		if (unauthorized(s, &s->poll))
			return;
		if (x->result != CURLE_OK)
			(void)snprintf(why, sizeof(why), "%s",
			    agent_xfer_error(x));
		else
			(void)snprintf(why, sizeof(why), "HTTP %ld", x->status);
		activity_fail(s, &s->poll, why);
		return;
	}
	activity_ok(&s->poll);
	s->unauth_seen = 0;
	if (x->status == 204) {
		s->poll.next = 0;
		return;
	}
	if (!agentproto_poll_decode(x->body, x->len, &p, &err)) {
		(void)snprintf(why, sizeof(why), "bad answer: %s: %s",
		    err.field[0] != '\0' ? err.field : "body", err.msg);
		activity_fail(s, &s->poll, why);
		return;
	}
	acted = 0;
	for (i = 0; i < p.ncommands; i++) {
		switch (command_handle(s, &p.commands[i])) {
		case -1:
			/* Cannot journal: act on nothing more, retry later. */
			activity_fail(s, &s->poll, "journal write failed");
			agentproto_poll_cleanup(&p);
			return;
		case 1:
			acted = 1;
			break;
		}
	}
	for (i = 0; i < p.nlogs; i++) {
		agent_logs_request(&s->logs, &s->tasks, &p.logs[i]);
		acted = 1;
	}
	agentproto_poll_cleanup(&p);
	/* Ask again at once, unless a server keeps answering quickly with
	 * nothing new (which would make this a busy loop). */
	s->poll.next = 0;
	if (!acted && agent_mono_ms() - x->started < POLL_MIN_MS)
		s->poll.next = agent_mono_ms() + POLL_MIN_MS;
}

/*
 * One command: journal its id (fsync) before acting, act, record the
 * result, queue it for delivery.  An id already journaled is not acted on
 * again; its recorded result is re-sent.  Returns 1 when it acted, 0 when
 * it only re-sent, -1 when the journal could not be written.
 */
static int
command_handle(struct agent_state *s, const struct agentproto_command *c)
{
	struct agentproto_result r;
	struct agent_jentry	*e;
	char			*body;
	int64_t			 now;

	if ((e = agent_journal_find(&s->journal, c->id)) != NULL) {
		if (agent_work_pending(&s->tasks, c->id)) {
			log_debug("command %s is in progress", c->id);
			return (0);
		}
		log_info("command %s (seq %" PRId64 ") is journaled: not "
			 "acting again, re-sending its result",
		    c->id, c->seq);
		if (!(e->flags & AGENT_J_FINISHED))
			results_recover(s);
		else
			results_queue(s, c->id, NULL);
		return (0);
	}
	now = agent_now_ms();
	if (c->seq <= s->journal.after) {
		/* Older than the journal's high-water mark yet unknown: it
		 * may have been compacted away.  Never risk acting twice. */
		log_warnx("command %s: seq %" PRId64 " <= %" PRId64
			  " but not journaled: refusing it",
		    c->id, c->seq, s->journal.after);
		memset(&r, 0, sizeof(r));
		r.state = AGENTPROTO_STATE_FAILED;
		r.output = strdup("stale command: older than the agent's "
				  "journal; not executed");
		r.received_at = r.finished_at = now;
		r.has_finished_at = 1;
		body = agentproto_result_encode(&r);
		agentproto_result_cleanup(&r);
		if (body != NULL)
			results_queue(s, c->id, body);
		return (0);
	}
	if (!agent_journal_received(&s->journal, c->id, c->seq, now))
		return (-1);
	log_info("command %s (seq %" PRId64 "): %s", c->id, c->seq, c->type);
	/* The command table (commands.c); a stop answers when the
	 * processes are gone: task_done(). */
	if (agent_command_run(&s->tasks, c, now, &body) == AGENT_CMD_LATER)
		return (1);
	if (body == NULL) {
		log_warnx("command %s: cannot encode its result", c->id);
		return (1);
	}
	if (!agent_journal_finished(&s->journal, c->id, c->seq, body)) {
		/* Still deliver it; a restart would report "interrupted". */
		log_warnx("command %s: cannot journal its result", c->id);
	}
	results_queue(s, c->id, body);
	return (1);
}

/* A task command that took time (a stop) finished. */
static void
task_done(void *arg, const char *id, int64_t seq, char *body)
{
	struct agent_state  *s = arg;
	struct agent_jentry *e;

	if (body == NULL)
		return;
	/* Answered already (a restarted agent's recovery): never twice. */
	if ((e = agent_journal_find(&s->journal, id)) != NULL &&
	    (e->flags & AGENT_J_FINISHED)) {
		free(body);
		return;
	}
	if (!agent_journal_finished(&s->journal, id, seq, body))
		log_warnx("command %s: cannot journal its result", id);
	results_queue(s, id, body);
}

/*
 * A release command's progress (a running result): it replaces an
 * older one of the command not yet on its way, and never a final
 * result, which makes it moot.
 */
static void
task_progress(void *arg, const char *id, char *body)
{
	struct agent_state *s = arg;
	struct pending	   *p, *sending;

	sending = s->res.x.busy ? TAILQ_FIRST(&s->results) : NULL;
	TAILQ_FOREACH (p, &s->results, entry) {
		if (strcmp(p->id, id) != 0)
			continue;
		if (!p->running) {
			free(body);
			return;
		}
		if (p != sending) {
			free(p->body);
			p->body = body;
			return;
		}
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		free(body);
		return;
	}
	(void)snprintf(p->id, sizeof(p->id), "%s", id);
	p->body = body;
	p->running = 1;
	TAILQ_INSERT_TAIL(&s->results, p, entry);
	s->nresults++;
}

/*
 * Queue a result for delivery unless it is already queued; it takes the
 * place of a progress report of its command that is not on its way.
 */
static void
results_queue(struct agent_state *s, const char *id, char *body)
{
	struct pending *p, *sending;

	sending = s->res.x.busy ? TAILQ_FIRST(&s->results) : NULL;
	TAILQ_FOREACH (p, &s->results, entry) {
		if (strcmp(p->id, id) != 0)
			continue;
		if (!p->running) {
			free(body);
			return;
		}
		if (p != sending) {
			free(p->body);
			p->body = body;
			p->running = 0;
			return;
		}
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		log_warn("results");
		free(body);
		return;
	}
	(void)snprintf(p->id, sizeof(p->id), "%s", id);
	p->body = body;
	TAILQ_INSERT_TAIL(&s->results, p, entry);
	s->nresults++;
}

/*
 * After a restart (or a replay): results recorded but not acknowledged
 * are queued again; commands journaled but never finished (the agent
 * stopped mid-way) are finished as failed, never run again.
 */
static void
results_recover(struct agent_state *s)
{
	struct agentproto_result r;
	struct agent_jentry	*e;
	char			*body;
	size_t			 i;

	for (i = 0; i < s->journal.n; i++) {
		e = &s->journal.v[i];
		if (e->flags & AGENT_J_ACKED)
			continue;
		/* Still at work (a stop in its grace period, a deploy): its
		 * result comes when it is done. */
		if (!(e->flags & AGENT_J_FINISHED) &&
		    agent_work_pending(&s->tasks, e->id))
			continue;
		if (!(e->flags & AGENT_J_FINISHED)) {
			memset(&r, 0, sizeof(r));
			r.state = AGENTPROTO_STATE_FAILED;
			r.output = strdup("interrupted: the agent stopped "
					  "before the command finished");
			r.received_at = e->received_at;
			r.finished_at = agent_now_ms();
			r.has_finished_at = 1;
			body = agentproto_result_encode(&r);
			agentproto_result_cleanup(&r);
			if (body == NULL)
				continue;
			log_warnx("command %s (seq %" PRId64 ") was "
				  "interrupted: reporting it failed",
			    e->id, e->seq);
			if (!agent_journal_finished(&s->journal, e->id, e->seq,
				body)) {
				free(body);
				continue;
			}
			/* The journal may have grown: e is still valid, as
			 * finished only flags an existing entry. */
			results_queue(s, e->id, body);
			continue;
		}
		results_queue(s, e->id, NULL);
	}
}

static void
results_clear(struct agent_state *s)
{
	struct pending *p;

	while ((p = TAILQ_FIRST(&s->results)) != NULL) {
		TAILQ_REMOVE(&s->results, p, entry);
		free(p->body);
		free(p);
	}
	s->nresults = 0;
}

static void
res_start(struct agent_state *s)
{
	struct pending *p;
	char		url[AGENT_URL_MAX + 128];
	char	       *body;

	p = TAILQ_FIRST(&s->results);
	if (p->body != NULL)
		body = strdup(p->body);
	else
		body = agent_journal_result(&s->journal, p->id);
	if (body == NULL) {
		log_warnx("result %s: not found in the journal; dropping it",
		    p->id);
		TAILQ_REMOVE(&s->results, p, entry);
		s->nresults--;
		free(p->body);
		free(p);
		return;
	}
	(void)snprintf(url, sizeof(url), "%s/agent/v1/commands/%s/result",
	    s->node.server, p->id);
	if (!agent_xfer_prepare(&s->res.x, url, s->auth, body,
		RES_TIMEOUT_MS)) {
		activity_fail(s, &s->res, "cannot prepare the request");
		return;
	}
	activity_start(s, &s->res);
}

static void
res_done(struct agent_state *s)
{
	struct agent_xfer *x = &s->res.x;
	struct pending	  *p;
	char		   why[256];

	p = TAILQ_FIRST(&s->results);
	if (p->running) {
		/* A progress report goes whatever the answer: a later one,
		 * or the final result, says more; a 4xx quietly. */
		if (x->result == CURLE_OK && x->status >= 200 &&
		    x->status <= 299) {
			activity_ok(&s->res);
			s->unauth_seen = 0;
		} else if (x->result != CURLE_OK || x->status >= 500)
			activity_fail(s, &s->res,
			    x->result != CURLE_OK ? agent_xfer_error(x)
						  : "HTTP 5xx");
		else
			log_debug("progress of %s: HTTP %ld: dropped", p->id,
			    x->status);
		TAILQ_REMOVE(&s->results, p, entry);
		s->nresults--;
		free(p->body);
		free(p);
		return;
	}
	if (x->result != CURLE_OK || x->status < 200 || x->status > 299) {
		if (unauthorized(s, &s->res))
			return;
		if (x->result == CURLE_OK && x->status >= 400 &&
		    x->status < 500 && !transient_4xx(x->status)) {
			/* The server refuses this result for good (unknown
			 * or cancelled command, bad body): retrying cannot
			 * help, and it would hold up every later result. */
			log_warnx("result %s: refused with HTTP %ld: %.*s; "
				  "giving up on it",
			    p->id, x->status,
			    (int)(x->len > 200 ? 200 : x->len),
			    x->body != NULL ? x->body : "");
			goto delivered;
		}
		if (x->result != CURLE_OK)
			(void)snprintf(why, sizeof(why), "%s",
			    agent_xfer_error(x));
		else
			(void)snprintf(why, sizeof(why), "HTTP %ld", x->status);
		activity_fail(s, &s->res, why);
		return;
	}
	log_debug("result %s delivered", p->id);
	activity_ok(&s->res);
	s->unauth_seen = 0;
delivered:
	(void)agent_journal_acked(&s->journal, p->id);
	TAILQ_REMOVE(&s->results, p, entry);
	s->nresults--;
	free(p->body);
	free(p);
}

static void
events_read(struct agent_state *s)
{
	enum agent_os_event ev;
	int		    code;

	while ((ev = agent_os_event_next(&code)) != AGENT_OS_EVENT_NONE) {
		switch (ev) {
		case AGENT_OS_EVENT_QUIT:
			log_info("signal %d: exiting", code);
			s->quit = 1;
			break;
		case AGENT_OS_EVENT_RELOAD:
			policy_reload(s);
			log_info("SIGHUP: re-reading the state directory");
			state_unload(s);
			agent_sys_refresh(&s->sys);
			if (!state_load(s))
				log_warnx("not enrolled: waiting for "
					  "yard-agent enroll");
			s->hb.next = s->poll.next = s->res.next = 0;
			break;
		case AGENT_OS_EVENT_NONE:
			break;
		}
	}
}

int
agent_run(struct agent_opts *opts)
{
	struct agent_state *s = &st;
	CURLMsg		   *msg;
	struct agent_xfer  *x;
	char		   *priv;
	char		    iid[AGENT_INSTALL_ID_LEN + 1];
	uint64_t	    now, wake;
	long		    ct;
	int		    running, left, timeout, tnext, k;

	/*
	 * st is static, so it starts zeroed: no memset, which would make
	 * every page of it resident (the task table alone is 256 slots of
	 * about 7 KiB, used only as tasks come).  agent_run() runs once.
	 */
	s->opts = opts;
	TAILQ_INIT(&s->results);
	s->hb.name = "heartbeat";
	s->poll.name = "commands";
	s->res.name = "results";

	/* Children are collected in agent_tasks_tick() (agent_work_tick()). */
	if (!agent_os_events_init())
		fatalx("cannot wait for signals");

	if (!agent_state_dir_init(opts->state_dir))
		fatalx("cannot use the state directory %s", opts->state_dir);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	if ((s->multi = curl_multi_init()) == NULL ||
	    !agent_xfer_init(&s->hb.x) || !agent_xfer_init(&s->poll.x) ||
	    !agent_xfer_init(&s->res.x))
		fatalx("cannot set up libcurl");
	/* Commands may carry a task's configuration: the largest answer. */
	s->poll.x.max = AGENTPROTO_POLL_MAX;
	agent_logs_init(&s->logs, s->multi);
	if (!agent_sys_open(&s->sys, opts->roots, opts->nroots))
		log_warnx("cannot read the system's metrics: they will be "
			  "zero");
	s->sys.policy = &opts->policy.p;
	policy_log(&opts->policy);

	log_info("yard-agent %s starting, state in %s", AGENT_VERSION,
	    opts->state_dir);
	agent_supervise_init();
	if (!agent_install_id(opts->state_dir, iid, sizeof(iid)))
		fatalx("cannot use the state directory %s", opts->state_dir);
	(void)agent_os_tracking_init(iid);
	if (!state_load(s))
		log_warnx("not enrolled: waiting for yard-agent enroll "
			  "(then SIGHUP, or within %d s)",
		    WAIT_ENROL_MS / 1000);
	s->next_sample = 0;

	while (!s->quit) {
		now = agent_mono_ms();
		if (!s->enrolled) {
			if (now >= s->next_sample) {
				s->next_sample = now + WAIT_ENROL_MS;
				(void)state_load(s);
			}
			if (!s->enrolled) {
				wake = s->next_sample;
				goto wait;
			}
			s->next_sample = 0;
		}
		tnext = agent_work_tick(&s->tasks);
		if (s->tasks.changed) {
			/* Report a task's new state now, not in 5 s. */
			s->tasks.changed = 0;
			s->next_sample = now;
		}
		if (now >= s->next_sample) {
			sample_take(s);
			s->next_sample =
			    now + (uint64_t)s->node.heartbeat_interval * 1000;
		}
		if (!s->hb.x.busy && s->ring_n > 0 && now >= s->hb.next)
			hb_start(s);
		if (!s->poll.x.busy && now >= s->poll.next)
			poll_start(s);
		if (!s->res.x.busy && !TAILQ_EMPTY(&s->results) &&
		    now >= s->res.next)
			res_start(s);
		k = agent_logs_tick(&s->logs, s->node.server, s->auth);
		if (k < tnext)
			tnext = k;

		/* Sleep until the next timer, a transfer or a signal. */
		wake = s->next_sample;
		if (now + (uint64_t)tnext < wake)
			wake = now + (uint64_t)tnext;
		if (!s->hb.x.busy && s->ring_n > 0 && s->hb.next < wake)
			wake = s->hb.next;
		if (!s->poll.x.busy && s->poll.next < wake)
			wake = s->poll.next;
		if (!s->res.x.busy && !TAILQ_EMPTY(&s->results) &&
		    s->res.next < wake)
			wake = s->res.next;
wait:
		now = agent_mono_ms();
		timeout = wake > now ? (int)(wake - now) : 0;
		if (timeout > 60000)
			timeout = 60000;
		if (curl_multi_timeout(s->multi, &ct) == CURLM_OK && ct >= 0 &&
		    ct < timeout)
			timeout = (int)ct;
		agent_os_wait(s->multi, timeout);
		events_read(s);
		(void)curl_multi_perform(s->multi, &running);
		while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			priv = NULL;
			(void)curl_easy_getinfo(msg->easy_handle,
			    CURLINFO_PRIVATE, &priv);
			if ((x = (struct agent_xfer *)(void *)priv) == NULL)
				continue;
			agent_xfer_finish(x, msg->data.result);
			(void)curl_multi_remove_handle(s->multi, x->easy);
			x->busy = 0;
			if (x == &s->hb.x)
				hb_done(s);
			else if (x == &s->poll.x)
				poll_done(s);
			else if (x == &s->res.x)
				res_done(s);
			else if (!agent_logs_done(&s->logs, x))
				(void)agent_tasks_health_done(&s->tasks, x);
			agent_xfer_release(x);
		}
		agent_logs_reap(&s->logs);
	}

	state_unload(s);
	agent_logs_free(&s->logs);
	agent_xfer_cleanup(&s->hb.x);
	agent_xfer_cleanup(&s->poll.x);
	agent_xfer_cleanup(&s->res.x);
	curl_multi_cleanup(s->multi);
	curl_global_cleanup();
	agent_sys_close(&s->sys);
	agent_os_tracking_fini();
	agent_os_events_fini();
	log_info("stopped");
	return (0);
}
