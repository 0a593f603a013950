/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The agent's command table: one entry per command type of agentproto's
 * list (src/agentproto/commands.c), each with how its payload is
 * validated and how it is run.  A type the server may send but this
 * agent has no entry for fails with "unknown command type".
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "config.h"

static int		      task_validate(const struct agentproto_command *,
		       struct agent_cmd_args *, char *, size_t);
static enum agent_cmd_outcome task_run(struct agent_tasks *,
    const struct agentproto_command *, const struct agent_cmd_args *, int64_t,
    char **);
static enum agent_cmd_outcome release_run(struct agent_tasks *,
    const struct agentproto_command *, const struct agent_cmd_args *, int64_t,
    char **);
static enum agent_cmd_outcome apply_run(struct agent_tasks *,
    const struct agentproto_command *, const struct agent_cmd_args *, int64_t,
    char **);
static int config_keep(struct agent_tasks *, const struct agentproto_command *,
    int64_t, char *, size_t);
static enum agent_cmd_outcome ping_run(struct agent_tasks *,
    const struct agentproto_command *, const struct agent_cmd_args *, int64_t,
    char **);

/* clang-format off */
static const struct agent_cmd cmds[] = {
	{ AGENTPROTO_CMD_PING,		NULL,		ping_run },
	{ AGENTPROTO_CMD_START,		task_validate,	task_run },
	{ AGENTPROTO_CMD_STOP,		task_validate,	task_run },
	{ AGENTPROTO_CMD_RESTART,	task_validate,	task_run },
	{ AGENTPROTO_CMD_UNINSTALL,	task_validate,	task_run },
	{ AGENTPROTO_CMD_DEPLOY,	agent_deploy_validate,	release_run },
	{ AGENTPROTO_CMD_UPDATE,	agent_deploy_validate,	release_run },
	{ AGENTPROTO_CMD_ROLLBACK,	agent_deploy_validate,	release_run },
	{ AGENTPROTO_CMD_MOVE,		agent_deploy_validate,	release_run },
	{ AGENTPROTO_CMD_APPLY_CONFIG,	task_validate,	apply_run },
};
/* clang-format on */

const struct agent_cmd *
agent_command_get(enum agentproto_cmd_type kind)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (cmds[i].kind == kind)
			return (&cmds[i]);
	}
	return (NULL);
}

/*
 * Validate, then run c (received at ms).  A type without an entry, or a
 * payload that fails validation, is done with a failed result.
 */
enum agent_cmd_outcome
agent_command_run(struct agent_tasks *ts, const struct agentproto_command *c,
    int64_t received, char **body)
{
	const struct agent_cmd *e;
	struct agent_cmd_args	args;
	enum agent_cmd_outcome	out;
	char			why[512];

	*body = NULL;
	memset(&args, 0, sizeof(args));
	if ((e = agent_command_get(c->kind)) == NULL) {
		*body = agent_result(0, received, "unknown_type",
		    json_pack("{s:s}", "type", c->type),
		    "unknown command type");
		return (AGENT_CMD_DONE);
	}
	if ((e->validate != NULL && !e->validate(c, &args, why, sizeof(why))) ||
	    !config_keep(ts, c, args.task_id, why, sizeof(why))) {
		json_decref(args.spec);
		*body = agent_result(0, received, "bad_payload",
		    json_pack("{s:s}", "reason", why), "bad payload: %s", why);
		return (AGENT_CMD_DONE);
	}
	out = e->run(ts, c, &args, received, body);
	json_decref(args.spec);
	return (out);
}

/*
 * A task command's payload: {"task":{"id":N,"spec":{...}}}; the spec is
 * normalised (agentproto_task_spec()), and only a stop may leave it out.
 */
static int
task_validate(const struct agentproto_command *c, struct agent_cmd_args *a,
    char *why, size_t len)
{
	struct agentproto_err err;
	const json_t	     *task;

	task = json_object_get(c->payload, "task");
	a->task_id = json_integer_value(json_object_get(task, "id"));
	if (a->task_id <= 0) {
		(void)snprintf(why, len, "task.id is missing");
		return (0);
	}
	if (c->kind == AGENTPROTO_CMD_APPLY_CONFIG) {
		a->restart =
		    json_is_true(json_object_get(c->payload, "restart"));
		if (json_object_get(c->payload, "restart") != NULL &&
		    !json_is_boolean(json_object_get(c->payload, "restart"))) {
			(void)snprintf(why, len,
			    "restart must be true or false");
			return (0);
		}
	}
	if ((c->kind == AGENTPROTO_CMD_STOP ||
		c->kind == AGENTPROTO_CMD_APPLY_CONFIG) &&
	    json_object_get(task, "spec") == NULL)
		return (1);
	if ((a->spec = agentproto_task_spec(json_object_get(task, "spec"),
		 &err)) == NULL) {
		(void)snprintf(why, len, "task.spec%s%s: %s",
		    err.field[0] ? "." : "", err.field, err.msg);
		return (0);
	}
	return (1);
}

/* A deploy, update, rollback or move owns the task meanwhile. */
static enum agent_cmd_outcome
task_run(struct agent_tasks *ts, const struct agentproto_command *c,
    const struct agent_cmd_args *a, int64_t received, char **body)
{
	if (agent_deploy_busy(ts, a->task_id)) {
		*body = agent_result(0, received, "deploy_busy", NULL,
		    "busy: a deploy is in progress");
		return (AGENT_CMD_DONE);
	}
	return (
	    agent_tasks_command(ts, c, a->task_id, a->spec, received, body) == 0
		? AGENT_CMD_LATER
		: AGENT_CMD_DONE);
}

/* deploy, update, rollback, move: queued per task (deploy.c). */
static enum agent_cmd_outcome
release_run(struct agent_tasks *ts, const struct agentproto_command *c,
    const struct agent_cmd_args *a, int64_t received, char **body)
{
	return (agent_deploy_command(ts, c, a->task_id, a->spec, received,
		    body) == 0
		? AGENT_CMD_LATER
		: AGENT_CMD_DONE);
}

/*
 * A command's "config" (start, restart, deploy, update, rollback,
 * apply-config): checked in full, then kept as the task's last one for
 * every later start.  Absent: the kept one stays; null: it is forgotten.
 * 1, or 0 with why (the command then fails, nothing kept).
 */
static int
config_keep(struct agent_tasks *ts, const struct agentproto_command *c,
    int64_t id, char *why, size_t len)
{
	struct agentproto_config cfg;
	const json_t		*o;

	switch (c->kind) {
	case AGENTPROTO_CMD_START:
	case AGENTPROTO_CMD_RESTART:
	case AGENTPROTO_CMD_DEPLOY:
	case AGENTPROTO_CMD_UPDATE:
	case AGENTPROTO_CMD_ROLLBACK:
	case AGENTPROTO_CMD_APPLY_CONFIG:
		break;
	default:
		return (1);
	}
	if (id <= 0 || (o = json_object_get(c->payload, "config")) == NULL)
		return (1);
	if (!json_is_null(o)) {
		if (agentproto_config_decode(o, &cfg, why, len) == -1)
			return (0);
		agentproto_config_free(&cfg);
	}
	if (!agent_config_save(ts->dir, id, o)) {
		(void)snprintf(why, len,
		    "config: cannot keep it in the state directory");
		return (0);
	}
	return (1);
}

/* apply-config: now, or with a restart around it (tasks.c). */
static enum agent_cmd_outcome
apply_run(struct agent_tasks *ts, const struct agentproto_command *c,
    const struct agent_cmd_args *a, int64_t received, char **body)
{
	if (agent_deploy_busy(ts, a->task_id)) {
		*body = agent_result(0, received, "deploy_busy", NULL,
		    "busy: a deploy is in progress; apply the configuration "
		    "after it");
		return (AGENT_CMD_DONE);
	}
	return (agent_tasks_apply_config(ts, c, a->task_id, a->spec, a->restart,
		    received, body) == 0
		? AGENT_CMD_LATER
		: AGENT_CMD_DONE);
}

static enum agent_cmd_outcome
ping_run(struct agent_tasks *ts, const struct agentproto_command *c,
    const struct agent_cmd_args *a, int64_t received, char **body)
{
	*body = agent_result(1, received, "pong", NULL, "pong");
	return (AGENT_CMD_DONE);
}

void
agent_work_load(struct agent_tasks *ts)
{
	size_t i;

	agent_tasks_load(ts);
	/* Each task's live release, and what a release command left. */
	for (i = 0; i < ts->n; i++)
		agent_deploy_recover(ts, &ts->v[i]);
}

int
agent_work_tick(struct agent_tasks *ts)
{
	int next, k;

	next = agent_tasks_tick(ts);
	/* Release commands, after the tasks' events they wait for. */
	if ((k = agent_deploy_tick(ts)) < next)
		next = k;
	return (next);
}

int
agent_work_pending(const struct agent_tasks *ts, const char *id)
{
	return (agent_tasks_pending(ts, id) || agent_deploy_pending(ts, id));
}

int64_t
agent_work_pending_seq(const struct agent_tasks *ts)
{
	int64_t a, b;

	a = agent_tasks_pending_seq(ts);
	b = agent_deploy_pending_seq(ts);
	return (a > b ? a : b);
}

void
agent_work_free(struct agent_tasks *ts)
{
	agent_deploy_free(ts);
	agent_tasks_free(ts);
}
