/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Heartbeats (POST /agent/v1/heartbeat) touch only this worker's memory on
 * the hot path: a table of the latest state of every node it heard from,
 * and the samples since.  A timer hands what changed to the store every
 * two seconds (store_heartbeat_flush(): one statement on its own
 * connection); a batch that did not land is sent again.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <jansson.h>

#include "app.h"
#include "api/api.h"
#include "api/agent.h"
#include "agentproto/agentproto.h"
#include "store/store.h"

#define HB_SAMPLES_MAX 128 /* per node between two flushes */
#define FLUSH_MS       2000

/* Latest heartbeat and the samples since the last flush, per node. */
struct hb_entry {
	int64_t node_id;
	int64_t seen; /* server clock, seconds */
	json_t *facts; /* latest, owned */
	json_t *metrics; /* latest, owned */
	char	version[AGENTPROTO_STR_MAX + 1]; /* agent's version */
	json_t *samples; /* [[time, cpu, mem_used, mem_total, load1]] */
	json_t *tasks; /* latest task states, owned; NULL: none reported */
	int	dirty;
};

/* A node's samples in the batch in flight, until it lands. */
struct hb_sent {
	int64_t node_id;
	json_t *samples; /* owned */
};

enum hb_state { HB_AUTH = 0, HB_RECORD };

struct hb_flow {
	int64_t node;
};

static int hb_auth(struct http_request *);
static int hb_record(struct http_request *);

static struct http_state hb_states[] = {
	KORE_HTTP_STATE(hb_auth),
	KORE_HTTP_STATE(hb_record),
};

static struct hb_entry *hb_slot(int64_t, int);
static json_t	       *metrics_json(const struct agentproto_metrics *);
static void		hb_flush(void *, uint64_t);
static void		hb_flush_done(int, void *);
static void		hb_flush_failed(void);
static void		hb_sent_free(void);

static struct hb_entry *hbs;
static size_t		hb_slots; /* YARD_NODE_SLOTS */
static struct hb_sent  *sent; /* the batch in flight */
static size_t		nsent;

void
api_heartbeat_init(void)
{
	hb_slots = (size_t)app.cfg.node_slots;
	hbs = kore_calloc(hb_slots, sizeof(*hbs));
	kore_timer_add(hb_flush, FLUSH_MS, NULL, 0);
}

static json_t *
metrics_json(const struct agentproto_metrics *m)
{
	return (json_pack("{s:f, s:I, s:I, s:f, s:f, s:f}", "cpu", m->cpu,
	    "mem_used", (json_int_t)m->mem_used, "mem_total",
	    (json_int_t)m->mem_total, "load1", m->load1, "load5", m->load5,
	    "load15", m->load15));
}

static struct hb_entry *
hb_slot(int64_t node_id, int create)
{
	struct hb_entry *e, *stale;
	size_t		 i, n;

	/*
	 * Open addressing; slots are never emptied (a lookup stops at an
	 * empty one), so a full table hands over the slot of the node seen
	 * least recently, provided it is flushed and that node has not been
	 * heard from for node_offline_after: its state is in PostgreSQL
	 * already.  When every slot is fresh the caller answers 503.
	 */
	n = (size_t)((uint64_t)node_id % hb_slots);
	stale = NULL;
	for (i = 0; i < hb_slots; i++) {
		e = &hbs[(n + i) % hb_slots];
		if (e->node_id == node_id)
			return (e);
		if (e->node_id == 0)
			return (create ? e : NULL);
		if (!e->dirty &&
		    app_now() - e->seen > app.cfg.node_offline_after &&
		    (stale == NULL || e->seen < stale->seen))
			stale = e;
	}
	if (stale != NULL && create) {
		json_decref(stale->facts);
		json_decref(stale->metrics);
		json_decref(stale->samples);
		json_decref(stale->tasks);
		memset(stale, 0, sizeof(*stale));
	}
	return (create ? stale : NULL);
}

int
api_agent_heartbeat(struct http_request *req)
{
	if (req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(hb_states, API_NSTATES(hb_states), req));
}

static int
hb_auth(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	struct hb_flow *f;
	enum api_step	s;

	f = api_flow(c, sizeof(*f), NULL);
	if ((s = api_agent_auth(req, c, &f->node)) != API_GO)
		return (api_state(s));
	req->fsm_state = HB_RECORD;
	return (HTTP_STATE_CONTINUE);
}

/* Memory only; hb_flush() writes it down. */
static int
hb_record(struct http_request *req)
{
	struct api_ctx		   *c = api_ctx_get(req);
	struct hb_flow		   *f = c->flow;
	struct agentproto_heartbeat hb;
	struct agentproto_err	    err;
	struct hb_entry		   *e;
	char			    out[128];
	const char		   *buf;
	size_t			    len, i;

	if (!api_body_raw(req, c, AGENTPROTO_BODY_MAX, &buf, &len))
		return (HTTP_STATE_COMPLETE);
	if (!agentproto_heartbeat_decode(buf, len, &hb, &err))
		return (
		    API_FIN(api_agent_error(req, 400, "bad_request", &err)));

	if ((e = hb_slot(f->node, 1)) == NULL) {
		agentproto_heartbeat_cleanup(&hb);
		return (API_FIN(
		    api_error(req, 503, "busy", "heartbeat table full", NULL)));
	}
	if (e->node_id == 0) {
		e->node_id = f->node;
		e->samples = json_array();
	}
	json_decref(e->facts);
	json_decref(e->metrics);
	/* Kept as JSON values: the flush sends them as they are. */
	e->facts = agentproto_facts_to_json(&hb.facts);
	e->metrics = metrics_json(&hb.metrics);
	(void)snprintf(e->version, sizeof(e->version), "%s",
	    hb.facts.agent_version);
	if (hb.tasks != NULL) {
		json_decref(e->tasks);
		e->tasks = json_incref(hb.tasks);
	}
	e->seen = app_now();
	e->dirty = 1;
	for (i = 0;
	     i < hb.nbacklog && json_array_size(e->samples) < HB_SAMPLES_MAX;
	     i++) {
		json_array_append_new(e->samples,
		    json_pack("[I, f, I, I, f]", (json_int_t)hb.backlog[i].time,
			hb.backlog[i].metrics.cpu,
			(json_int_t)hb.backlog[i].metrics.mem_used,
			(json_int_t)hb.backlog[i].metrics.mem_total,
			hb.backlog[i].metrics.load1));
	}
	if (json_array_size(e->samples) < HB_SAMPLES_MAX)
		json_array_append_new(e->samples,
		    json_pack("[I, f, I, I, f]", (json_int_t)e->seen,
			hb.metrics.cpu, (json_int_t)hb.metrics.mem_used,
			(json_int_t)hb.metrics.mem_total, hb.metrics.load1));
	agentproto_heartbeat_cleanup(&hb);

	snprintf(out, sizeof(out),
	    "{\"v\":1,\"heartbeat_interval\":%" PRId64
	    ",\"poll_timeout\":%" PRId64 "}",
	    app.cfg.heartbeat_interval, app.cfg.poll_timeout);
	return (API_FIN(api_agent_reply(req, 200, out)));
}

/* Hand what changed since the last flush to the store. */
static void
hb_flush(void *arg, uint64_t now)
{
	struct store_hb_row *rows;
	size_t		     i, n;

	for (n = 0, i = 0; i < hb_slots; i++)
		if (hbs[i].node_id != 0 && hbs[i].dirty)
			n++;
	if (n == 0)
		return;
	rows = kore_calloc(n, sizeof(*rows));
	for (n = 0, i = 0; i < hb_slots; i++) {
		if (hbs[i].node_id == 0 || !hbs[i].dirty)
			continue;
		rows[n].node = hbs[i].node_id;
		rows[n].seen = hbs[i].seen;
		rows[n].facts = hbs[i].facts;
		rows[n].metrics = hbs[i].metrics;
		rows[n].version = hbs[i].version;
		rows[n].samples = hbs[i].samples;
		rows[n].tasks = hbs[i].tasks;
		n++;
	}
	/* Not sent (PostgreSQL down, a flush still busy): kept dirty, the
	 * next tick tries again. */
	if (!store_heartbeat_flush(rows, n, NULL, hb_flush_done)) {
		kore_free(rows);
		return;
	}
	kore_free(rows);
	/* What was sent is now in flight: start collecting afresh. */
	sent = kore_calloc(n, sizeof(*sent));
	nsent = 0;
	for (i = 0; i < hb_slots; i++) {
		if (hbs[i].node_id == 0 || !hbs[i].dirty)
			continue;
		hbs[i].dirty = 0;
		/* A new array: the batch keeps the old one until it lands. */
		sent[nsent].node_id = hbs[i].node_id;
		sent[nsent].samples = hbs[i].samples;
		nsent++;
		hbs[i].samples = json_array();
	}
}

static void
hb_flush_done(int ok, void *arg)
{
	if (!ok)
		hb_flush_failed();
	hb_sent_free();
}

static void
hb_sent_free(void)
{
	size_t i;

	for (i = 0; i < nsent; i++)
		json_decref(sent[i].samples);
	kore_free(sent);
	sent = NULL;
	nsent = 0;
}

/*
 * The batch in flight did not land: put its samples back in front of the
 * ones gathered since, so that the next flush sends them again.  Both
 * statements of the flush are idempotent (latest state, samples keyed by
 * node and second), so a batch that did land in part is harmless to
 * resend.  A node's latest facts in memory are at least as new as the
 * batch's, so only the samples are merged.
 */
static void
hb_flush_failed(void)
{
	struct hb_entry *e;
	json_t		*old, *merged;
	int64_t		 id;
	size_t		 i, j;

	for (i = 0; i < nsent; i++) {
		id = sent[i].node_id;
		if ((e = hb_slot(id, 0)) == NULL || e->node_id != id)
			continue;
		old = sent[i].samples;
		if ((merged = json_array()) == NULL)
			break;
		for (j = 0; j < json_array_size(old) &&
		     json_array_size(merged) < HB_SAMPLES_MAX;
		     j++)
			json_array_append(merged, json_array_get(old, j));
		for (j = 0; j < json_array_size(e->samples) &&
		     json_array_size(merged) < HB_SAMPLES_MAX;
		     j++)
			json_array_append(merged,
			    json_array_get(e->samples, j));
		json_decref(e->samples);
		e->samples = merged;
		e->dirty = 1;
	}
}
