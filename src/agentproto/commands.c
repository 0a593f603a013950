/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Commands: the poll answer (commands and log requests) and a command's
 * result.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agentproto/agentproto.h"
#include "agentproto/internal.h"

static int command_decode(const json_t *, const char *,
    struct agentproto_command *, struct agentproto_err *);

/*
 * Every command type, in the order docs/agent-protocol.md lists them.
 * A new type is one row here, one entry in the agent's table
 * (agent/commands.c) and its section in the docs.
 */
/* clang-format off */
static const struct agentproto_cmd_def cmd_defs[] = {
	/* name		kind			 target		manage */
	{ "ping",	AGENTPROTO_CMD_PING,	 AGENTPROTO_TARGET_NODE, 0 },
	{ "start",	AGENTPROTO_CMD_START,	 AGENTPROTO_TARGET_TASK, 0 },
	{ "stop",	AGENTPROTO_CMD_STOP,	 AGENTPROTO_TARGET_TASK, 0 },
	{ "restart",	AGENTPROTO_CMD_RESTART,	 AGENTPROTO_TARGET_TASK, 0 },
	{ "uninstall",	AGENTPROTO_CMD_UNINSTALL, AGENTPROTO_TARGET_TASK, 1 },
	{ "deploy",	AGENTPROTO_CMD_DEPLOY,	 AGENTPROTO_TARGET_TASK, 1 },
	{ "update",	AGENTPROTO_CMD_UPDATE,	 AGENTPROTO_TARGET_TASK, 1 },
	{ "rollback",	AGENTPROTO_CMD_ROLLBACK, AGENTPROTO_TARGET_TASK, 1 },
	{ "move",	AGENTPROTO_CMD_MOVE,	 AGENTPROTO_TARGET_TASK, 1 },
	{ "apply-config", AGENTPROTO_CMD_APPLY_CONFIG, AGENTPROTO_TARGET_TASK, 1 },
};
/* clang-format on */

#define NCMD_DEFS (sizeof(cmd_defs) / sizeof(cmd_defs[0]))

/* The steps of a long command's progress (docs/agent-protocol.md). */
static const char *const progress_steps[] = { "download", "check", "unpack",
	"stop", "switch", "start", "health", "rollback", "move", "copy" };

#define NPROGRESS_STEPS (sizeof(progress_steps) / sizeof(progress_steps[0]))

const struct agentproto_cmd_def *
agentproto_command_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return (NULL);
	for (i = 0; i < NCMD_DEFS; i++) {
		if (strcmp(cmd_defs[i].name, name) == 0)
			return (&cmd_defs[i]);
	}
	return (NULL);
}

const struct agentproto_cmd_def *
agentproto_command_at(size_t i)
{
	return (i < NCMD_DEFS ? &cmd_defs[i] : NULL);
}

int
agentproto_command_is_release(enum agentproto_cmd_type t)
{
	return (t == AGENTPROTO_CMD_DEPLOY || t == AGENTPROTO_CMD_UPDATE ||
	    t == AGENTPROTO_CMD_ROLLBACK || t == AGENTPROTO_CMD_MOVE);
}

int
agentproto_progress_step_valid(const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < NPROGRESS_STEPS; i++) {
		if (strcmp(progress_steps[i], s) == 0)
			return (1);
	}
	return (0);
}

int
agentproto_code_valid(const char *s)
{
	size_t i;

	if (s == NULL)
		return (0);
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= AGENTPROTO_CODE_MAX ||
		    !((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return (0);
	}
	return (i > 0);
}

size_t
agentproto_command_names(char *buf, size_t len)
{
	size_t i, n = 0;
	int    k;

	if (len > 0)
		buf[0] = '\0';
	for (i = 0; i < NCMD_DEFS; i++) {
		k = snprintf(n < len ? buf + n : NULL, n < len ? len - n : 0,
		    "%s%s", i > 0 ? ", " : "", cmd_defs[i].name);
		if (k > 0)
			n += (size_t)k;
	}
	return (n);
}

static int
command_decode(const json_t *o, const char *pfx, struct agentproto_command *c,
    struct agentproto_err *err)
{
	const struct agentproto_cmd_def *def;
	const json_t			*pl;

	if (!json_is_object(o)) {
		agentproto_err_set(err, pfx, "", "must be an object");
		return (0);
	}
	if (!agentproto_get_uuid(o, pfx, "id", c->id, sizeof(c->id), err))
		return (0);
	if (!agentproto_get_int(o, pfx, "seq", 1, 1, INT64_MAX, &c->seq, NULL,
		err) ||
	    !agentproto_get_str(o, pfx, "type", 1, 1, AGENTPROTO_TYPE_MAX,
		c->type, sizeof(c->type), err))
		return (0);
	if (!agentproto_type_valid(c->type)) {
		agentproto_err_set(err, pfx, "type",
		    "must be lower-case letters, digits, '_' or '-'");
		return (0);
	}
	def = agentproto_command_find(c->type);
	c->kind = def != NULL ? def->kind : AGENTPROTO_CMD_UNKNOWN;
	if (!agentproto_get_str(o, pfx, "issued_at", 0, 0,
		AGENTPROTO_TIME_STR_MAX, c->issued_at, sizeof(c->issued_at),
		err))
		return (0);
	if ((pl = agentproto_member(o, pfx, "payload", 0, err)) == NULL) {
		if ((c->payload = json_object()) == NULL) {
			agentproto_err_set(err, pfx, "payload",
			    "out of memory");
			return (0);
		}
		return (1);
	}
	if (!json_is_object(pl)) {
		agentproto_err_set(err, pfx, "payload", "must be an object");
		return (0);
	}
	c->payload = json_incref((json_t *)(uintptr_t)pl);
	return (1);
}

int
agentproto_poll_decode(const char *buf, size_t len, struct agentproto_poll *p,
    struct agentproto_err *err)
{
	json_t	     *root;
	const json_t *cmds;
	char	      cp[AGENTPROTO_PFX_MAX];
	size_t	      i, n;
	int	      ret;

	memset(p, 0, sizeof(*p));
	/* Larger than other bodies: commands carry configurations. */
	if ((root = agentproto_load_max(buf, len, AGENTPROTO_POLL_MAX, err)) ==
	    NULL)
		return (0);
	ret = 0;
	if (!agentproto_check_v(root, err))
		goto cleanup;
	if ((cmds = agentproto_member(root, "", "commands", 1, err)) == NULL)
		goto cleanup;
	if (!json_is_array(cmds)) {
		agentproto_err_set(err, "", "commands", "must be an array");
		goto cleanup;
	}
	if ((n = json_array_size(cmds)) > AGENTPROTO_COMMANDS_MAX) {
		agentproto_err_set(err, "", "commands", "at most %d commands",
		    AGENTPROTO_COMMANDS_MAX);
		goto cleanup;
	}
	if (n > 0 && (p->commands = calloc(n, sizeof(*p->commands))) == NULL) {
		agentproto_err_set(err, "", "commands", "out of memory");
		goto cleanup;
	}
	for (i = 0; i < n; i++) {
		(void)snprintf(cp, sizeof(cp), "commands[%zu]", i);
		/* Count first so that cleanup releases a partial payload. */
		p->ncommands++;
		if (!command_decode(json_array_get(cmds, i), cp,
			&p->commands[i], err))
			goto cleanup;
	}
	if ((cmds = agentproto_member(root, "", "logs", 0, err)) != NULL) {
		if (!json_is_array(cmds)) {
			agentproto_err_set(err, "", "logs", "must be an array");
			goto cleanup;
		}
		if ((n = json_array_size(cmds)) > AGENTPROTO_LOGREQS_MAX) {
			agentproto_err_set(err, "", "logs",
			    "at most %d log requests", AGENTPROTO_LOGREQS_MAX);
			goto cleanup;
		}
		if (n > 0 && (p->logs = calloc(n, sizeof(*p->logs))) == NULL) {
			agentproto_err_set(err, "", "logs", "out of memory");
			goto cleanup;
		}
		for (i = 0; i < n; i++) {
			(void)snprintf(cp, sizeof(cp), "logs[%zu]", i);
			p->nlogs++;
			if (!agentproto_logreq_decode(json_array_get(cmds, i),
				cp, &p->logs[i], err))
				goto cleanup;
		}
	}
	ret = 1;
cleanup:
	json_decref(root);
	if (!ret)
		agentproto_poll_cleanup(p);
	return (ret);
}

void
agentproto_poll_cleanup(struct agentproto_poll *p)
{
	size_t i;

	for (i = 0; i < p->ncommands; i++) {
		if (p->commands[i].payload != NULL)
			json_decref(p->commands[i].payload);
	}
	free(p->commands);
	p->commands = NULL;
	p->ncommands = 0;
	free(p->logs);
	p->logs = NULL;
	p->nlogs = 0;
}

char *
agentproto_poll_encode(const struct agentproto_poll *p)
{
	const struct agentproto_command *c;
	json_t				*o, *cmds, *j;
	size_t				 i;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!agentproto_set(o, "v", json_integer(AGENTPROTO_VERSION)) ||
	    !agentproto_set(o, "commands", cmds = json_array()))
		goto fail;
	for (i = 0; i < p->ncommands; i++) {
		c = &p->commands[i];
		if ((j = json_object()) == NULL)
			goto fail;
		if (json_array_append_new(cmds, j) != 0 ||
		    !agentproto_set(j, "id", json_string(c->id)) ||
		    !agentproto_set(j, "seq", json_integer(c->seq)) ||
		    !agentproto_set(j, "type", json_string(c->type)) ||
		    !agentproto_set(j, "payload",
			c->payload != NULL ? json_incref(c->payload)
					   : json_object()))
			goto fail;
		if (c->issued_at[0] != '\0' &&
		    !agentproto_set(j, "issued_at", json_string(c->issued_at)))
			goto fail;
	}
	if (p->nlogs > 0 && !agentproto_set(o, "logs", cmds = json_array()))
		goto fail;
	for (i = 0; i < p->nlogs; i++) {
		j = json_pack("{s:s, s:I, s:s, s:s, s:I, s:s}", "id",
		    p->logs[i].id, "task_id", (json_int_t)p->logs[i].task_id,
		    "mode", agentproto_log_mode_name(p->logs[i].mode), "file",
		    p->logs[i].file, "lines", (json_int_t)p->logs[i].lines, "q",
		    p->logs[i].q);
		if (j == NULL || json_array_append_new(cmds, j) != 0)
			goto fail;
	}
	return (agentproto_dump(o));
fail:
	json_decref(o);
	return (NULL);
}

/* "progress": {"step", "percent"}, both required. */
static int
progress_decode(const json_t *root, struct agentproto_result *r,
    struct agentproto_err *err)
{
	const json_t *m;

	if ((m = agentproto_member(root, "", "progress", 0, err)) == NULL)
		return (1);
	if (!json_is_object(m)) {
		agentproto_err_set(err, "", "progress", "must be an object");
		return (0);
	}
	if (!agentproto_get_str(m, "progress", "step", 1, 1,
		AGENTPROTO_STEP_MAX, r->progress_step, sizeof(r->progress_step),
		err))
		return (0);
	if (!agentproto_progress_step_valid(r->progress_step)) {
		agentproto_err_set(err, "progress", "step",
		    "must be download, check, unpack, stop, switch, start, "
		    "health, rollback, move or copy");
		return (0);
	}
	if (!agentproto_get_int(m, "progress", "percent", 1, -1, 100,
		&r->progress_percent, NULL, err))
		return (0);
	r->has_progress = 1;
	return (1);
}

/* One release of "releases" (pfx "releases[i]"), copied member by member
 * into a new object appended to out. */
static int
release_decode(const json_t *o, const char *pfx, json_t *out,
    struct agentproto_err *err)
{
	char	sha[65], state[8], cmd[AGENTPROTO_UUID_LEN + 1];
	int64_t n, at;
	size_t	i;
	json_t *j;

	if (!json_is_object(o)) {
		agentproto_err_set(err, pfx, "", "must be an object");
		return (0);
	}
	if (!agentproto_get_int(o, pfx, "n", 1, 0, INT64_MAX, &n, NULL, err) ||
	    !agentproto_get_str(o, pfx, "sha256", 1, 0, 64, sha, sizeof(sha),
		err))
		return (0);
	for (i = 0; sha[i] != '\0'; i++) {
		if (!((sha[i] >= '0' && sha[i] <= '9') ||
			(sha[i] >= 'a' && sha[i] <= 'f')))
			break;
	}
	if (sha[i] != '\0' || (i != 0 && i != 64)) {
		agentproto_err_set(err, pfx, "sha256",
		    "must be 64 lower-case hex digits, or \"\"");
		return (0);
	}
	if (!agentproto_get_str(o, pfx, "state", 1, 1, sizeof(state) - 1, state,
		sizeof(state), err))
		return (0);
	if (strcmp(state, "live") != 0 && strcmp(state, "good") != 0 &&
	    strcmp(state, "bad") != 0 && strcmp(state, "kept") != 0) {
		agentproto_err_set(err, pfx, "state",
		    "must be live, good, bad or kept");
		return (0);
	}
	/* Milliseconds since the epoch, up to the end of year 9999. */
	if (!agentproto_get_int(o, pfx, "deployed_at", 1, 0, 253402300799999LL,
		&at, NULL, err) ||
	    !agentproto_get_str(o, pfx, "command", 1, 0, AGENTPROTO_UUID_LEN,
		cmd, sizeof(cmd), err))
		return (0);
	if (cmd[0] != '\0') {
		if (!agentproto_uuid_valid(cmd)) {
			agentproto_err_set(err, pfx, "command",
			    "must be a UUID, or \"\"");
			return (0);
		}
		for (i = 0; cmd[i] != '\0'; i++)
			cmd[i] = (char)tolower((unsigned char)cmd[i]);
	}
	j = json_pack("{s:I, s:s, s:s, s:I, s:s}", "n", (json_int_t)n, "sha256",
	    sha, "state", state, "deployed_at", (json_int_t)at, "command", cmd);
	if (j == NULL || json_array_append_new(out, j) != 0) {
		agentproto_err_set(err, pfx, "", "out of memory");
		return (0);
	}
	return (1);
}

/* "releases": an array of at most AGENTPROTO_RELEASES_MAX releases. */
static int
releases_decode(const json_t *root, struct agentproto_result *r,
    struct agentproto_err *err)
{
	const json_t *m;
	char	      pfx[AGENTPROTO_PFX_MAX];
	size_t	      i, n;

	if ((m = agentproto_member(root, "", "releases", 0, err)) == NULL)
		return (1);
	if (!json_is_array(m)) {
		agentproto_err_set(err, "", "releases", "must be an array");
		return (0);
	}
	if ((n = json_array_size(m)) > AGENTPROTO_RELEASES_MAX) {
		agentproto_err_set(err, "", "releases", "at most %d releases",
		    AGENTPROTO_RELEASES_MAX);
		return (0);
	}
	if ((r->releases = json_array()) == NULL) {
		agentproto_err_set(err, "", "releases", "out of memory");
		return (0);
	}
	for (i = 0; i < n; i++) {
		(void)snprintf(pfx, sizeof(pfx), "releases[%zu]", i);
		if (!release_decode(json_array_get(m, i), pfx, r->releases,
			err))
			return (0);
	}
	return (1);
}

/*
 * "code" and "params" (both optional, params only with a code): what
 * the output says, for a page to word it (docs/agent-protocol.md,
 * "Result codes").  params is copied member by member.
 */
static int
code_decode(const json_t *root, struct agentproto_result *r,
    struct agentproto_err *err)
{
	const json_t *m, *v;
	const char   *k;
	json_t	     *j;

	if (!agentproto_get_str(root, "", "code", 0, 1, AGENTPROTO_CODE_MAX,
		r->code, sizeof(r->code), err))
		return (0);
	if (r->code[0] != '\0' && !agentproto_code_valid(r->code)) {
		agentproto_err_set(err, "", "code",
		    "must be lower-case letters, digits or '_'");
		return (0);
	}
	if ((m = agentproto_member(root, "", "params", 0, err)) == NULL)
		return (1);
	if (!json_is_object(m)) {
		agentproto_err_set(err, "", "params", "must be an object");
		return (0);
	}
	if (r->code[0] == '\0') {
		agentproto_err_set(err, "", "params", "needs a code");
		return (0);
	}
	if (json_object_size(m) > AGENTPROTO_PARAMS_MAX) {
		agentproto_err_set(err, "", "params", "at most %d members",
		    AGENTPROTO_PARAMS_MAX);
		return (0);
	}
	if ((r->params = json_object()) == NULL) {
		agentproto_err_set(err, "", "params", "out of memory");
		return (0);
	}
	json_object_foreach((json_t *)(uintptr_t)m, k, v)
	{
		if (!agentproto_code_valid(k)) {
			agentproto_err_set(err, "params", "",
			    "names must be 1 to %d lower-case letters, digits "
			    "or '_'",
			    AGENTPROTO_CODE_MAX);
			return (0);
		}
		if (json_is_string(v)) {
			if (json_string_length(v) > AGENTPROTO_PARAM_STR_MAX) {
				agentproto_err_set(err, "params", k,
				    "at most %d bytes",
				    AGENTPROTO_PARAM_STR_MAX);
				return (0);
			}
			/* jsonb has no NUL in its strings. */
			if (strlen(json_string_value(v)) !=
			    json_string_length(v)) {
				agentproto_err_set(err, "params", k,
				    "must not contain NUL");
				return (0);
			}
			j = json_stringn(json_string_value(v),
			    json_string_length(v));
		} else if (json_is_integer(v))
			j = json_integer(json_integer_value(v));
		else {
			agentproto_err_set(err, "params", k,
			    "must be a string or an integer");
			return (0);
		}
		if (j == NULL || json_object_set_new(r->params, k, j) != 0) {
			agentproto_err_set(err, "params", k, "out of memory");
			return (0);
		}
	}
	/* A reason's machine form only when it is one this code knows (a
	 * newer agent's code is dropped, its English "reason" stays). */
	agentproto_reason_filter(r->params);
	return (1);
}

int
agentproto_result_decode(const char *buf, size_t len,
    struct agentproto_result *r, struct agentproto_err *err)
{
	json_t	     *root;
	const json_t *m;
	char	      state[16];
	size_t	      n;
	int	      ret;

	memset(r, 0, sizeof(*r));
	if ((root = agentproto_load(buf, len, err)) == NULL)
		return (0);
	ret = 0;
	if (!agentproto_check_v(root, err) ||
	    !agentproto_get_str(root, "", "state", 1, 1, sizeof(state) - 1,
		state, sizeof(state), err))
		goto cleanup;
	if (strcmp(state, "running") == 0)
		r->state = AGENTPROTO_STATE_RUNNING;
	else if (strcmp(state, "succeeded") == 0)
		r->state = AGENTPROTO_STATE_SUCCEEDED;
	else if (strcmp(state, "failed") == 0)
		r->state = AGENTPROTO_STATE_FAILED;
	else {
		agentproto_err_set(err, "", "state",
		    "must be running, succeeded or failed");
		goto cleanup;
	}
	if (!agentproto_get_int(root, "", "exit_status", 0, INT32_MIN,
		INT32_MAX, &r->exit_status, &r->has_exit_status, err))
		goto cleanup;

	if ((m = agentproto_member(root, "", "output", 0, err)) != NULL) {
		if (!json_is_string(m)) {
			agentproto_err_set(err, "", "output",
			    "must be a string");
			goto cleanup;
		}
		if ((n = json_string_length(m)) > AGENTPROTO_OUTPUT_MAX) {
			agentproto_err_set(err, "", "output",
			    "at most %d bytes", AGENTPROTO_OUTPUT_MAX);
			goto cleanup;
		}
		if ((r->output = malloc(n + 1)) == NULL) {
			agentproto_err_set(err, "", "output", "out of memory");
			goto cleanup;
		}
		memcpy(r->output, json_string_value(m), n);
		r->output[n] = '\0';
	}
	/* received_at is informational (0: not given); finished_at is
	 * what a final result needs. */
	if (!agentproto_get_int(root, "", "received_at", 0, 0, INT64_MAX,
		&r->received_at, NULL, err) ||
	    !agentproto_get_int(root, "", "finished_at", 0, 0, INT64_MAX,
		&r->finished_at, &r->has_finished_at, err))
		goto cleanup;
	if (r->state != AGENTPROTO_STATE_RUNNING && !r->has_finished_at) {
		agentproto_err_set(err, "", "finished_at", "missing");
		goto cleanup;
	}
	if (!progress_decode(root, r, err) || !releases_decode(root, r, err) ||
	    !code_decode(root, r, err))
		goto cleanup;
	ret = 1;
cleanup:
	json_decref(root);
	if (!ret)
		agentproto_result_cleanup(r);
	return (ret);
}

void
agentproto_result_cleanup(struct agentproto_result *r)
{
	free(r->output);
	r->output = NULL;
	if (r->releases != NULL)
		json_decref(r->releases);
	r->releases = NULL;
	if (r->params != NULL)
		json_decref(r->params);
	r->params = NULL;
}

char *
agentproto_result_encode(const struct agentproto_result *r)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!agentproto_set(o, "v", json_integer(AGENTPROTO_VERSION)) ||
	    !agentproto_set(o, "state",
		json_string(agentproto_state_name(r->state))) ||
	    !agentproto_set(o, "output",
		json_string(r->output != NULL ? r->output : "")) ||
	    !agentproto_set(o, "received_at", json_integer(r->received_at)))
		goto fail;
	if (r->has_exit_status &&
	    !agentproto_set(o, "exit_status", json_integer(r->exit_status)))
		goto fail;
	if (r->has_finished_at &&
	    !agentproto_set(o, "finished_at", json_integer(r->finished_at)))
		goto fail;
	if (r->has_progress &&
	    !agentproto_set(o, "progress",
		json_pack("{s:s, s:I}", "step", r->progress_step, "percent",
		    (json_int_t)r->progress_percent)))
		goto fail;
	if (r->releases != NULL &&
	    !agentproto_set(o, "releases", json_incref(r->releases)))
		goto fail;
	if (r->code[0] != '\0' &&
	    !agentproto_set(o, "code", json_string(r->code)))
		goto fail;
	if (r->code[0] != '\0' && r->params != NULL &&
	    !agentproto_set(o, "params", json_incref(r->params)))
		goto fail;
	return (agentproto_dump(o));
fail:
	json_decref(o);
	return (NULL);
}

const char *
agentproto_state_name(enum agentproto_state s)
{
	switch (s) {
	case AGENTPROTO_STATE_RUNNING:
		return ("running");
	case AGENTPROTO_STATE_SUCCEEDED:
		return ("succeeded");
	case AGENTPROTO_STATE_FAILED:
		return ("failed");
	}
	return ("failed");
}

const char *
agentproto_cmd_type_name(enum agentproto_cmd_type t)
{
	size_t i;

	for (i = 0; i < NCMD_DEFS; i++) {
		if (cmd_defs[i].kind == t)
			return (cmd_defs[i].name);
	}
	return ("unknown");
}
