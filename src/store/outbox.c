/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The outbox's duty: once per cluster (the leader of "outbox-send", on
 * worker 1's leader connection, src/core/leader.c), one statement
 *   - records the results of the batch delivered since the last run (each
 *     attempt in outbox_attempts; a failure goes back to queued with
 *     exponential back-off and jitter, or to failed when attempts are
 *     exhausted),
 *   - marks skipped what a channel that is not configured would send,
 *   - returns to queued a row left in sending longer than stuck_after (its
 *     instance died mid-delivery: delivered at least once, never lost),
 *   - claims the due rows (FOR UPDATE SKIP LOCKED) and marks them sending,
 * and the claimed rows are handed to the sender (src/api/outbox.c), which
 * delivers them off the event loop and reports with store_outbox_delivered().
 * One batch is in flight at a time; a report whose statement failed is
 * sent again with the next run (it only touches rows still sending under
 * this holder and attempt, so sending it twice changes nothing).
 */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "store/internal.h"

#define OUTBOX_EVERY_MS 1000

enum outbox_phase { OB_IDLE = 0, OB_DELIVERING, OB_REPORTING };

static int  outbox_prepare(struct store_duty *, const char **, char[][32]);
static void outbox_done(struct store_duty *, struct pg_result *);

static const char *sql_outbox =
    "WITH" STORE_DUTY_RECORD
    " r AS (SELECT * FROM jsonb_to_recordset($7::jsonb) AS x(id bigint,"
    "  attempt integer, ok boolean, error text)),"
    " rep AS (UPDATE outbox o SET state = CASE WHEN r.ok THEN 'sent'"
    "  WHEN o.attempts >= $8::integer THEN 'failed' ELSE 'queued' END,"
    "  sent_at = CASE WHEN r.ok THEN now() END,"
    "  last_error = CASE WHEN r.ok THEN o.last_error"
    "  ELSE left(coalesce(r.error, ''), 2000) END,"
    "  next_at = CASE WHEN r.ok THEN o.next_at ELSE now() + make_interval("
    "  secs => least($10::double precision, $9::double precision"
    "  * 2 ^ (o.attempts - 1)) * (0.8 + random() * 0.4)) END,"
    "  claimed_by = NULL"
    "  FROM r WHERE o.id = r.id AND o.attempts = r.attempt"
    "  AND o.state = 'sending' AND o.claimed_by = $2 RETURNING o.id),"
    " att AS (INSERT INTO outbox_attempts (outbox_id, holder, ok, error)"
    "  SELECT r.id, $2, r.ok, left(coalesce(r.error, ''), 2000) FROM r"
    "  WHERE r.id IN (SELECT id FROM rep)),"
    " sk AS (UPDATE outbox SET state = 'skipped', last_error ="
    "  CASE channel WHEN 'mail' THEN 'e-mail is off (YARD_SMTP_URL unset)'"
    "  ELSE 'the callback is off (YARD_EWS_NOTIFY_URL unset)' END"
    "  WHERE state = 'queued' AND ((channel = 'mail' AND NOT $4::boolean)"
    "  OR (channel = 'callback' AND NOT $5::boolean))),"
    " st AS (UPDATE outbox SET state = 'queued', next_at = now(),"
    "  last_error = 'interrupted: ' || claimed_by || ' did not report'"
    "  || ' within ' || $6 || ' s', claimed_by = NULL"
    "  WHERE state = 'sending' AND claimed_at < now() - make_interval("
    "  secs => $6::integer) AND id NOT IN (SELECT id FROM r)),"
    " c AS (SELECT id FROM outbox WHERE state = 'queued' AND next_at <= now()"
    "  AND ((channel = 'mail' AND $4::boolean) OR (channel = 'callback'"
    "  AND $5::boolean)) ORDER BY next_at, id LIMIT $3::integer"
    "  FOR UPDATE SKIP LOCKED)"
    " UPDATE outbox o SET state = 'sending', claimed_by = $2,"
    " claimed_at = now(), attempts = o.attempts + 1 FROM c WHERE o.id = c.id"
    " RETURNING o.id, o.attempts, o.channel, o.kind, o.idem_key,"
    " o.recipient, o.lang, o.payload::text";

static struct store_duty outbox_duty = { .name = "outbox-send",
	.kind = STORE_DUTY_LEADER,
	.every_ms = OUTBOX_EVERY_MS,
	.prepare = outbox_prepare,
	.done = outbox_done };

static struct store_outbox_config ocfg;
static int (*outbox_deliver)(const struct store_outbox_item *, size_t);
static enum outbox_phase phase;
static char		*report; /* JSON text of the results to record */
static char *report_sent; /* the one the running statement carries */

void
store_outbox_register(void (*add)(struct store_duty *),
    const struct store_outbox_config *cfg,
    int (*deliver)(const struct store_outbox_item *, size_t))
{
	ocfg = *cfg;
	outbox_deliver = deliver;
	outbox_duty.sql = sql_outbox;
	add(&outbox_duty);
}

static int
outbox_prepare(struct store_duty *d, const char **vals, char buf[][32])
{
	/* A batch still being delivered: record and claim nothing. */
	(void)snprintf(buf[2], 32, "%" PRId64,
	    phase == OB_DELIVERING ? (int64_t)0 : ocfg.batch);
	vals[2] = buf[2];
	vals[3] = STORE_BOOL(ocfg.mail);
	vals[4] = STORE_BOOL(ocfg.callback);
	(void)snprintf(buf[5], 32, "%" PRId64, ocfg.stuck_after);
	vals[5] = buf[5];
	report_sent = phase == OB_REPORTING ? report : NULL;
	vals[6] = report_sent != NULL ? report_sent : "[]";
	(void)snprintf(buf[7], 32, "%" PRId64, ocfg.max_attempts);
	vals[7] = buf[7];
	(void)snprintf(buf[8], 32, "%" PRId64, ocfg.retry_base);
	vals[8] = buf[8];
	(void)snprintf(buf[9], 32, "%" PRId64, ocfg.retry_max);
	vals[9] = buf[9];
	return (10);
}

/* Rows claimed but not delivered (the sender could not start). */
static void
outbox_undelivered(PGresult *res, int n)
{
	struct store_outbox_result *r;
	int			    i;

	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return; /* they return to queued as stuck */
	for (i = 0; i < n; i++) {
		r[i].id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		r[i].attempt = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		r[i].ok = 0;
		r[i].error = "the sender could not start";
	}
	phase = OB_DELIVERING;
	store_outbox_delivered(r, (size_t)n);
	free(r);
}

static void
outbox_done(struct store_duty *d, struct pg_result *res)
{
	struct store_outbox_item *it;
	int			  i, n;

	/* The report the statement carried is recorded. */
	if (report_sent != NULL && report_sent == report) {
		free(report);
		report = NULL;
		phase = OB_IDLE;
	}
	report_sent = NULL;
	if (phase != OB_IDLE || (n = PQntuples(res)) <= 0)
		return;
	if ((it = calloc((size_t)n, sizeof(*it))) == NULL) {
		outbox_undelivered(res, n);
		return;
	}
	for (i = 0; i < n; i++) {
		it[i].id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		it[i].attempt = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		it[i].channel = PQgetvalue(res, i, 2);
		it[i].kind = PQgetvalue(res, i, 3);
		it[i].key = PQgetvalue(res, i, 4);
		it[i].recipient = PQgetvalue(res, i, 5);
		it[i].lang = PQgetvalue(res, i, 6);
		it[i].payload = PQgetvalue(res, i, 7);
	}
	phase = OB_DELIVERING;
	if (outbox_deliver == NULL || !outbox_deliver(it, (size_t)n)) {
		phase = OB_IDLE;
		outbox_undelivered(res, n);
	}
	free(it);
}

void
store_outbox_delivered(const struct store_outbox_result *r, size_t n)
{
	json_t *a, *o;
	size_t	i;

	if (phase != OB_DELIVERING)
		return;
	if ((a = json_array()) == NULL)
		return;
	for (i = 0; i < n; i++) {
		o = json_pack("{s:I, s:I, s:b, s:s}", "id", (json_int_t)r[i].id,
		    "attempt", (json_int_t)r[i].attempt, "ok", r[i].ok, "error",
		    r[i].error != NULL ? r[i].error : "");
		if (o != NULL)
			json_array_append_new(a, o);
	}
	free(report);
	report = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	/* Without a report the rows return to queued once stuck. */
	phase = report != NULL ? OB_REPORTING : OB_IDLE;
	/* Record it at the leader's next tick rather than in a second. */
	outbox_duty.next = 0;
}
