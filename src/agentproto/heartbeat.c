/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Heartbeats: metrics, the backlog, task status and the answer.
 */

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "agentproto/agentproto.h"
#include "agentproto/internal.h"

static int     metrics_decode(const json_t *, const char *,
	struct agentproto_metrics *, struct agentproto_err *);
static json_t *metrics_to_json(const struct agentproto_metrics *);
static int     word_check(const json_t *, const char *, const char *, int,
	const char *const *, size_t, struct agentproto_err *);
static int     why_check(const json_t *, const char *, struct agentproto_err *);

static int
metrics_decode(const json_t *o, const char *pfx, struct agentproto_metrics *m,
    struct agentproto_err *err)
{
	if (!json_is_object(o)) {
		agentproto_err_set(err, pfx, "", "must be an object");
		return (0);
	}
	return (agentproto_get_num(o, pfx, "cpu", 0.0, 100.0, &m->cpu, err) &&
	    agentproto_get_int(o, pfx, "mem_used", 1, 0, INT64_MAX,
		&m->mem_used, NULL, err) &&
	    agentproto_get_int(o, pfx, "mem_total", 1, 0, INT64_MAX,
		&m->mem_total, NULL, err) &&
	    agentproto_get_num(o, pfx, "load1", 0.0, 1e9, &m->load1, err) &&
	    agentproto_get_num(o, pfx, "load5", 0.0, 1e9, &m->load5, err) &&
	    agentproto_get_num(o, pfx, "load15", 0.0, 1e9, &m->load15, err));
}

/* heartbeat_interval and poll_timeout, both optional. */
int
agentproto_interval_decode(const json_t *root, int64_t *hb, int64_t *wait,
    struct agentproto_err *err)
{
	*hb = AGENTPROTO_INTERVAL_DEF;
	*wait = AGENTPROTO_WAIT_DEF;
	return (agentproto_get_int(root, "", "heartbeat_interval", 0,
		    AGENTPROTO_INTERVAL_MIN, AGENTPROTO_INTERVAL_MAX, hb, NULL,
		    err) &&
	    agentproto_get_int(root, "", "poll_timeout", 0, 1,
		AGENTPROTO_WAIT_MAX, wait, NULL, err));
}

int
agentproto_heartbeat_decode(const char *buf, size_t len,
    struct agentproto_heartbeat *h, struct agentproto_err *err)
{
	json_t	     *root;
	const json_t *m, *b, *bm;
	char	      bp[AGENTPROTO_PFX_MAX];
	size_t	      i;
	int	      ret;

	memset(h, 0, sizeof(*h));
	if ((root = agentproto_load(buf, len, err)) == NULL)
		return (0);
	ret = 0;
	if (!agentproto_check_v(root, err) ||
	    !agentproto_get_int(root, "", "seq", 1, 1, INT64_MAX, &h->seq, NULL,
		err) ||
	    !agentproto_get_int(root, "", "time", 1, 0, INT64_MAX, &h->time,
		NULL, err))
		goto cleanup;
	if ((m = agentproto_member(root, "", "facts", 1, err)) == NULL ||
	    !agentproto_facts_decode(m, "facts", &h->facts, err))
		goto cleanup;
	if ((m = agentproto_member(root, "", "metrics", 1, err)) == NULL ||
	    !metrics_decode(m, "metrics", &h->metrics, err))
		goto cleanup;

	if ((m = agentproto_member(root, "", "tasks", 0, err)) != NULL) {
		if (!json_is_array(m)) {
			agentproto_err_set(err, "", "tasks",
			    "must be an array");
			goto cleanup;
		}
		if (json_array_size(m) > AGENTPROTO_TASKS_MAX) {
			agentproto_err_set(err, "", "tasks", "at most %d tasks",
			    AGENTPROTO_TASKS_MAX);
			goto cleanup;
		}
		if (!agentproto_task_status_check(m, err))
			goto cleanup;
		h->tasks = json_incref((json_t *)(uintptr_t)m);
	}

	if ((m = agentproto_member(root, "", "backlog", 0, err)) != NULL) {
		if (!json_is_array(m)) {
			agentproto_err_set(err, "", "backlog",
			    "must be an array");
			goto cleanup;
		}
		if (json_array_size(m) > AGENTPROTO_BACKLOG_MAX) {
			agentproto_err_set(err, "", "backlog",
			    "at most %d samples", AGENTPROTO_BACKLOG_MAX);
			goto cleanup;
		}
		for (i = 0; i < json_array_size(m); i++) {
			(void)snprintf(bp, sizeof(bp), "backlog[%zu]", i);
			b = json_array_get(m, i);
			if (!json_is_object(b)) {
				agentproto_err_set(err, bp, "",
				    "must be an object");
				goto cleanup;
			}
			if (!agentproto_get_int(b, bp, "time", 1, 0, INT64_MAX,
				&h->backlog[i].time, NULL, err) ||
			    (bm = agentproto_member(b, bp, "metrics", 1,
				 err)) == NULL)
				goto cleanup;
			(void)snprintf(bp, sizeof(bp), "backlog[%zu].metrics",
			    i);
			if (!metrics_decode(bm, bp, &h->backlog[i].metrics,
				err))
				goto cleanup;
			h->nbacklog++;
		}
	}
	ret = 1;
cleanup:
	json_decref(root);
	if (!ret)
		agentproto_heartbeat_cleanup(h);
	return (ret);
}

int
agentproto_heartbeat_resp_decode(const char *buf, size_t len,
    struct agentproto_heartbeat_resp *r, struct agentproto_err *err)
{
	json_t *root;
	int	ret;

	memset(r, 0, sizeof(*r));
	if ((root = agentproto_load(buf, len, err)) == NULL)
		return (0);
	ret = agentproto_check_v(root, err) &&
	    agentproto_interval_decode(root, &r->heartbeat_interval,
		&r->poll_timeout, err);
	json_decref(root);
	return (ret);
}

void
agentproto_heartbeat_cleanup(struct agentproto_heartbeat *h)
{
	if (h->tasks != NULL)
		json_decref(h->tasks);
	h->tasks = NULL;
}

static json_t *
metrics_to_json(const struct agentproto_metrics *m)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!agentproto_set(o, "cpu", json_real(m->cpu)) ||
	    !agentproto_set(o, "mem_used", json_integer(m->mem_used)) ||
	    !agentproto_set(o, "mem_total", json_integer(m->mem_total)) ||
	    !agentproto_set(o, "load1", json_real(m->load1)) ||
	    !agentproto_set(o, "load5", json_real(m->load5)) ||
	    !agentproto_set(o, "load15", json_real(m->load15))) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

char *
agentproto_heartbeat_encode(const struct agentproto_heartbeat *h)
{
	json_t *o, *bl, *s;
	size_t	i;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!agentproto_set(o, "v", json_integer(AGENTPROTO_VERSION)) ||
	    !agentproto_set(o, "seq", json_integer(h->seq)) ||
	    !agentproto_set(o, "time", json_integer(h->time)) ||
	    !agentproto_set(o, "facts", agentproto_facts_to_json(&h->facts)) ||
	    !agentproto_set(o, "metrics", metrics_to_json(&h->metrics)) ||
	    !agentproto_set(o, "tasks",
		h->tasks != NULL ? json_incref(h->tasks) : json_array()) ||
	    !agentproto_set(o, "backlog", bl = json_array()))
		goto fail;
	for (i = 0; i < h->nbacklog && i < AGENTPROTO_BACKLOG_MAX; i++) {
		if ((s = json_object()) == NULL)
			goto fail;
		if (json_array_append_new(bl, s) != 0 ||
		    !agentproto_set(s, "time",
			json_integer(h->backlog[i].time)) ||
		    !agentproto_set(s, "metrics",
			metrics_to_json(&h->backlog[i].metrics)))
			goto fail;
	}
	return (agentproto_dump(o));
fail:
	json_decref(o);
	return (NULL);
}

char *
agentproto_heartbeat_resp_encode(const struct agentproto_heartbeat_resp *r)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!agentproto_set(o, "v", json_integer(AGENTPROTO_VERSION)) ||
	    !agentproto_set(o, "heartbeat_interval",
		json_integer(r->heartbeat_interval)) ||
	    !agentproto_set(o, "poll_timeout", json_integer(r->poll_timeout))) {
		json_decref(o);
		return (NULL);
	}
	return (agentproto_dump(o));
}

/*
 * o[name], when present (or required), must be one of the n words of
 * list; else err says which it may be.
 */
static int
word_check(const json_t *o, const char *pfx, const char *name, int required,
    const char *const *list, size_t n, struct agentproto_err *err)
{
	const json_t *m;
	const char   *sep;
	char	      msg[160];
	size_t	      k, len = 0;

	if ((m = agentproto_member(o, pfx, name, required, err)) == NULL)
		return (!required);
	for (k = 0; json_is_string(m) && k < n; k++) {
		if (strcmp(json_string_value(m), list[k]) == 0)
			return (1);
	}
	msg[0] = '\0';
	for (k = 0; k < n && len < sizeof(msg); k++) {
		sep = k == 0 ? "" : k + 1 == n ? " or " : ", ";
		len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%s",
		    sep, list[k]);
	}
	agentproto_err_set(err, pfx, name, "must be %s", msg);
	return (0);
}

/*
 * Why a task is as it is (all optional; older agents send none):
 * last_exit {at, status | signal, by}, last_restart {at, reason,
 * crash_loop}, adopted_at.
 */
static int
why_check(const json_t *o, const char *pfx, struct agentproto_err *err)
{
	static const char *const by[] = { "self", "stop", "policy", "outside" };
	static const char *const reasons[] = { "exited", "signal", "health",
		"crash_loop_cooldown" };
	const json_t		*m, *s;
	char			 sub[AGENTPROTO_PFX_MAX];
	int64_t			 v;
	size_t			 i, n;

	if ((m = agentproto_member(o, pfx, "last_exit", 0, NULL)) != NULL) {
		agentproto_path_join(sub, sizeof(sub), pfx, "last_exit");
		if (!json_is_object(m)) {
			agentproto_err_set(err, pfx, "last_exit",
			    "must be an object");
			return (0);
		}
		if (!agentproto_get_int(m, sub, "at", 1, 1, INT64_MAX, &v, NULL,
			err) ||
		    !agentproto_get_int(m, sub, "status", 0, 0, 255, &v, NULL,
			err) ||
		    !word_check(m, sub, "by", 1, by, 4, err))
			return (0);
		if ((s = json_object_get(m, "signal")) != NULL) {
			n = json_is_string(s) ? json_string_length(s) : 0;
			for (i = 3; i < n; i++) {
				if (!((json_string_value(s)[i] >= 'A' &&
					  json_string_value(s)[i] <= 'Z') ||
					(json_string_value(s)[i] >= '0' &&
					    json_string_value(s)[i] <= '9') ||
					json_string_value(s)[i] == '+'))
					break;
			}
			if (n < 4 || n > 16 || i < n ||
			    strncmp(json_string_value(s), "SIG", 3) != 0) {
				agentproto_err_set(err, sub, "signal",
				    "must be a signal name such as SIGKILL");
				return (0);
			}
			if (json_object_get(m, "status") != NULL) {
				agentproto_err_set(err, sub, "signal",
				    "must not come with status");
				return (0);
			}
		}
	}
	if ((m = agentproto_member(o, pfx, "last_restart", 0, NULL)) != NULL) {
		agentproto_path_join(sub, sizeof(sub), pfx, "last_restart");
		if (!json_is_object(m)) {
			agentproto_err_set(err, pfx, "last_restart",
			    "must be an object");
			return (0);
		}
		if (!agentproto_get_int(m, sub, "at", 1, 1, INT64_MAX, &v, NULL,
			err) ||
		    !word_check(m, sub, "reason", 1, reasons, 4, err))
			return (0);
		if ((s = json_object_get(m, "crash_loop")) != NULL &&
		    !json_is_boolean(s)) {
			agentproto_err_set(err, sub, "crash_loop",
			    "must be true or false");
			return (0);
		}
	}
	return (agentproto_get_int(o, pfx, "adopted_at", 0, 1, INT64_MAX, &v,
	    NULL, err));
}

int
agentproto_task_status_check(const json_t *a, struct agentproto_err *err)
{
	static const char *states[] = { "starting", "running", "unhealthy",
		"stopping", "stopped", "exited", "failed", "crash_loop" };
	const json_t	  *hl;
	const json_t	  *o, *st;
	char		   pfx[32];
	int64_t		   v;
	double		   d;
	size_t		   i, k;

	if (!json_is_array(a) || json_array_size(a) > AGENTPROTO_TASKS_MAX) {
		agentproto_err_set(err, "", "tasks",
		    "must be an array of at most %d", AGENTPROTO_TASKS_MAX);
		return (0);
	}
	json_array_foreach(a, i, o)
	{
		(void)snprintf(pfx, sizeof(pfx), "tasks[%zu]", i);
		if (!json_is_object(o)) {
			agentproto_err_set(err, pfx, "", "must be an object");
			return (0);
		}
		if (!agentproto_get_int(o, pfx, "id", 1, 1,
			AGENTPROTO_NODE_ID_MAX, &v, NULL, err) ||
		    !agentproto_get_int(o, pfx, "pid", 0, 0, INT32_MAX, &v,
			NULL, err) ||
		    !agentproto_get_int(o, pfx, "started_at", 0, 0, INT64_MAX,
			&v, NULL, err) ||
		    !agentproto_get_int(o, pfx, "exit_status", 0, -1, 255 + 128,
			&v, NULL, err) ||
		    !agentproto_get_int(o, pfx, "restarts", 0, 0, INT32_MAX, &v,
			NULL, err) ||
		    !agentproto_get_int(o, pfx, "health_fails", 0, 0, INT32_MAX,
			&v, NULL, err) ||
		    !agentproto_get_int(o, pfx, "rss", 0, 0, INT64_MAX, &v,
			NULL, err) ||
		    !agentproto_get_int(o, pfx, "threads", 0, 0, INT32_MAX, &v,
			NULL, err) ||
		    !agentproto_get_int(o, pfx, "fds", 0, 0, INT32_MAX, &v,
			NULL, err) ||
		    !agentproto_get_int(o, pfx, "procs", 0, 0, INT32_MAX, &v,
			NULL, err))
			return (0);
		hl = agentproto_member(o, pfx, "last_lines", 0, NULL);
		if (hl != NULL &&
		    (!json_is_string(hl) || json_string_length(hl) > 8192)) {
			agentproto_err_set(err, pfx, "last_lines",
			    "must be a string of at most 8192 bytes");
			return (0);
		}
		if (agentproto_member(o, pfx, "cpu", 0, NULL) != NULL &&
		    !agentproto_get_num(o, pfx, "cpu", 0, 100000, &d, err))
			return (0);
		st = agentproto_member(o, pfx, "state", 1, err);
		for (k = 0; st != NULL && json_is_string(st) &&
		     k < sizeof(states) / sizeof(states[0]);
		     k++) {
			if (strcmp(json_string_value(st), states[k]) == 0)
				break;
		}
		if (st == NULL || !json_is_string(st) ||
		    k == sizeof(states) / sizeof(states[0])) {
			agentproto_err_set(err, pfx, "state",
			    "must be starting, running, unhealthy, stopping, "
			    "stopped, exited, failed or crash_loop");
			return (0);
		}
		hl = agentproto_member(o, pfx, "health", 0, NULL);
		if (hl != NULL &&
		    (!json_is_string(hl) ||
			(strcmp(json_string_value(hl), "ok") != 0 &&
			    strcmp(json_string_value(hl), "failing") != 0))) {
			agentproto_err_set(err, pfx, "health",
			    "must be ok or failing");
			return (0);
		}
		if (!why_check(o, pfx, err))
			return (0);
	}
	return (1);
}
