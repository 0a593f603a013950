/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The agent's tasks: the start, stop and restart commands, the restart
 * policy, their state for heartbeats, and <state-dir>/tasks.json, which
 * lets a restarted agent adopt the tasks it left running (pid plus its
 * start time: see agent_task_adopt()).
 *
 * A start answers at once (started, or why not); a stop answers when the
 * task's processes are gone, saying whether SIGTERM was enough or the
 * grace period ran out; a restart answers once the new instance runs.
 *
 * Each task's lifecycle is a state machine (enum agent_life, agent.h).
 * Every transition goes through life_set():
 *
 *   from                  on                          to
 *   DOWN, BACKOFF,        start, restart command      UP (answered now:
 *     CRASH_LOOP                                        console without
 *                                                       a health check)
 *                                                     STARTING (waits)
 *                                                     DOWN (start failed)
 *   BACKOFF               stop, uninstall command     DOWN
 *   DOWN, CRASH_LOOP      stop, uninstall command     the same ("not
 *                                                       running")
 *   UP                    stop, restart, uninstall    STOPPING
 *                           command
 *   STARTING              healthy, settled, or its    UP (the start is
 *                           start_timeout passed        answered)
 *   STARTING, UP          ended by itself             BACKOFF (its restart
 *                                                       policy), CRASH_LOOP
 *                                                       (too many restarts
 *                                                       in 10 min), DOWN
 *                                                       (no restart)
 *   STOPPING              its processes are gone      DOWN (stop); as a
 *                                                       start (restart);
 *                                                       forgotten
 *                                                       (uninstall)
 *   BACKOFF               restart_at                  UP, DOWN (failed)
 *
 * A slot's pending command (cmd) is set in STARTING and STOPPING only;
 * another command for the task meanwhile is refused.  A restarted agent
 * puts an adopted task in UP, and one that should run but ended while
 * it was away in BACKOFF due at once.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "config.h"
#include "release.h"

#define CRASH_WINDOW_MS (10 * 60 * 1000)
#define TASKS_FILE	"tasks.json"

static struct agent_slot *slot_find(struct agent_tasks *, int64_t);
static struct agent_slot *slot_get(struct agent_tasks *, int64_t,
    const json_t *);
static void		  save(struct agent_tasks *);
static int		  restarts_after_failure(const struct agent_slot *);
static void	   finish(struct agent_tasks *, struct agent_slot *, char *);
static const char *state_name(const struct agent_slot *);
static void  health_start(struct agent_tasks *, struct agent_slot *, uint64_t);
static char *uninstall(struct agent_tasks *, struct agent_slot *, int64_t,
    const char *, const char *);
static void  slot_drop(struct agent_tasks *, struct agent_slot *);
static void  rel_cmd_load(struct agent_slot *, const json_t *);
static void  adopt_account(struct agent_slot *, const char *);
static int   allowed(struct agent_tasks *, int64_t, const json_t *, char *,
      size_t);
static int   start(struct agent_tasks *, struct agent_slot *, char *, size_t);
static int config_apply(struct agent_tasks *, struct agent_slot *, const char *,
    const char *, const struct agent_account *,
    const struct agentproto_config *, struct agent_cfgstats *, char *, size_t);
static int started(struct agent_slot *, const char *, int64_t, int64_t,
    const char *, const char *, char **);

static json_t *cmd_params(const struct agent_slot *, const char *, ...);

static void  start_check(struct agent_tasks *, struct agent_slot *, uint64_t);
static char *log_end(struct agent_tasks *, struct agent_slot *);
static void  life_set(struct agent_slot *, enum agent_life);
static void  note_exit(struct agent_slot *, const char *);
static void  why_status(const struct agent_slot *, json_t *);
static int   slot_tick(struct agent_tasks *, struct agent_slot *, uint64_t,
      int *);
static int   on_stopped(struct agent_tasks *, struct agent_slot *);
static void  on_ended(struct agent_tasks *, struct agent_slot *, uint64_t);
static void  restart_due(struct agent_tasks *, struct agent_slot *);
static void  log_rotate_all(struct agent_tasks *);
static void  stopping(struct agent_tasks *, struct agent_slot *,
     const struct agentproto_command *, int64_t);

void
agent_tasks_init(struct agent_tasks *ts, const char *state_dir, int64_t node_id)
{
	/*
	 * Everything but the slots: a slot is several KiB (paths, the
	 * account), and zeroing all AGENT_TASKS_MAX of them would make the
	 * whole table resident.  slot_get() zeroes a slot as it comes into
	 * use; ts->n says which are.
	 */
	memset(ts, 0, offsetof(struct agent_tasks, v));
	memset(&ts->ptrs, 0, sizeof(*ts) - offsetof(struct agent_tasks, ptrs));
	(void)snprintf(ts->dir, sizeof(ts->dir), "%s", state_dir);
	(void)snprintf(ts->logdir, sizeof(ts->logdir), "%s/logs", state_dir);
	/* Marks are <install id>-<task>: unique on the host, unlike the
	 * node id, which another server may have given another agent. */
	if (!agent_install_id(state_dir, ts->mark, sizeof(ts->mark)))
		fatalx("%s: no usable install id", state_dir);
	(void)snprintf(ts->old_mark, sizeof(ts->old_mark), "node%" PRId64,
	    node_id);
}

static struct agent_slot *
slot_find(struct agent_tasks *ts, int64_t id)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		if (ts->v[i].t.id == id)
			return (&ts->v[i]);
	}
	return (NULL);
}

/* The task's slot, created on first sight; spec replaces the old one. */
static struct agent_slot *
slot_get(struct agent_tasks *ts, int64_t id, const json_t *spec)
{
	struct agent_slot *sl;

	if ((sl = slot_find(ts, id)) == NULL) {
		if (ts->n == AGENT_TASKS_MAX)
			return (NULL);
		sl = &ts->v[ts->n++];
		memset(sl, 0, sizeof(*sl));
		agent_task_init(&sl->t, id, ts->mark);
	}
	if (spec != NULL) {
		/* The agent made the old directory, not a new one. */
		if (sl->t.spec != NULL &&
		    !json_equal(json_object_get(sl->t.spec, "deploy_dir"),
			json_object_get(spec, "deploy_dir")))
			sl->t.created_dir = 0;
		json_decref(sl->t.spec);
		sl->t.spec = json_incref((json_t *)(uintptr_t)spec);
	}
	return (sl);
}

/* Failing to save is logged; the tasks keep running. */
static void
save(struct agent_tasks *ts)
{
	(void)agent_tasks_save(ts);
}

/*
 * tasks.json: what a restarted agent needs to adopt its tasks, written by
 * agent_write_atomic; 0 when it could not be written.
 */
int
agent_tasks_save(struct agent_tasks *ts)
{
	json_t *a, *o;
	char   *text;
	size_t	i;
	int	ok;

	if ((a = json_array()) == NULL)
		return (0);
	for (i = 0; i < ts->n; i++) {
		o = json_pack("{s:I, s:O, s:i, s:I, s:I, s:i, s:b, s:b, s:s, "
			      "s:s, s:I}",
		    "id", (json_int_t)ts->v[i].t.id, "spec", ts->v[i].t.spec,
		    "pid", (int)ts->v[i].t.pid, "starttime",
		    (json_int_t)ts->v[i].t.starttime, "started_ms",
		    (json_int_t)ts->v[i].t.started_ms, "restarts",
		    ts->v[i].restarts, "wanted", ts->v[i].wanted, "created_dir",
		    ts->v[i].t.created_dir, "mark", ts->v[i].t.mark, "cgroup",
		    ts->v[i].t.cgroup, "uid", (json_int_t)ts->v[i].t.uid);
		/* The account it runs as, for its stop script once adopted. */
		if (o != NULL && ts->v[i].t.acct.valid)
			(void)json_object_set_new(o, "user",
			    json_string(ts->v[i].t.acct.name));
		/* A release command in flight, for a restarted agent to
		 * answer (agent_deploy_recover()). */
		if (o != NULL && ts->v[i].rel_cmd[0] != '\0')
			(void)json_object_set_new(o, "release_cmd",
			    json_pack("{s:s, s:I, s:I, s:s, s:s}", "id",
				ts->v[i].rel_cmd, "seq",
				(json_int_t)ts->v[i].rel_seq, "received_at",
				(json_int_t)ts->v[i].rel_received, "type",
				agentproto_cmd_type_name(
				    (enum agentproto_cmd_type)ts->v[i]
					.rel_kind),
				"step", ts->v[i].rel_step));
		if (o != NULL)
			json_array_append_new(a, o);
	}
	text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	if (text == NULL) {
		log_warnx("%s/%s: out of memory", ts->dir, TASKS_FILE);
		return (0);
	}
	/* It logs why it failed and leaves no temporary file behind. */
	ok = agent_write_atomic(ts->dir, TASKS_FILE, text, strlen(text), 0600);
	free(text);
	return (ok);
}

/* A mark from tasks.json: printable, no '=' or space, and it fits. */
static int
mark_valid(const char *m, size_t max)
{
	size_t i;

	if (m == NULL || m[0] == '\0' || strlen(m) >= max)
		return (0);
	for (i = 0; m[i] != '\0'; i++) {
		if (m[i] <= ' ' || m[i] >= 0x7f || m[i] == '=')
			return (0);
	}
	return (1);
}

/* A release command in flight that tasks.json recorded (or none). */
static void
rel_cmd_load(struct agent_slot *sl, const json_t *o)
{
	const struct agentproto_cmd_def *d;
	const char *id = json_string_value(json_object_get(o, "id"));
	const char *step = json_string_value(json_object_get(o, "step"));

	sl->rel_cmd[0] = '\0';
	if (id == NULL || strlen(id) != AGENTPROTO_UUID_LEN ||
	    (d = agentproto_command_find(
		 json_string_value(json_object_get(o, "type")))) == NULL)
		return;
	(void)snprintf(sl->rel_cmd, sizeof(sl->rel_cmd), "%s", id);
	sl->rel_seq = json_integer_value(json_object_get(o, "seq"));
	sl->rel_received =
	    json_integer_value(json_object_get(o, "received_at"));
	sl->rel_kind = (int)d->kind;
	(void)snprintf(sl->rel_step, sizeof(sl->rel_step), "%s",
	    step != NULL ? step : "");
}

/*
 * Adopt what the last run left running; the rest is stopped.  A task
 * keeps the mark, cgroup and user it was started with (older agents
 * recorded none: node<id>-<task>, no cgroup).
 */
void
agent_tasks_load(struct agent_tasks *ts)
{
	struct agentproto_err err;
	struct agent_slot    *sl;
	json_error_t	      jerr;
	json_t		     *a, *o, *spec;
	const char	     *s;
	char		      path[1200];
	size_t		      i;
	int64_t		      id;

	(void)snprintf(path, sizeof(path), "%s/%s", ts->dir, TASKS_FILE);
	if ((a = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		if (access(path, F_OK) == 0)
			log_warnx("%s: %s: starting without tasks", path,
			    jerr.text);
		return;
	}
	json_array_foreach(a, i, o)
	{
		id = json_integer_value(json_object_get(o, "id"));
		spec = agentproto_task_spec(json_object_get(o, "spec"), &err);
		if (id <= 0 || spec == NULL) {
			log_warnx("%s: task %zu: %s %s: skipped", path, i,
			    err.field, err.msg);
			json_decref(spec);
			continue;
		}
		sl = slot_get(ts, id, spec);
		json_decref(spec);
		if (sl == NULL)
			break;
		sl->restarts =
		    (int)json_integer_value(json_object_get(o, "restarts"));
		sl->wanted = json_is_true(json_object_get(o, "wanted"));
		sl->t.created_dir =
		    json_is_true(json_object_get(o, "created_dir"));
		s = json_string_value(json_object_get(o, "mark"));
		if (mark_valid(s, sizeof(sl->t.mark)))
			(void)snprintf(sl->t.mark, sizeof(sl->t.mark), "%s", s);
		else if (json_object_get(o, "mark") == NULL)
			(void)snprintf(sl->t.mark, sizeof(sl->t.mark),
			    "%s-%" PRId64, ts->old_mark, id);
		s = json_string_value(json_object_get(o, "cgroup"));
		if (s != NULL && s[0] != '\0') {
			if (strlen(s) < sizeof(sl->t.cgroup) &&
			    agent_os_group_valid(s, id))
				(void)snprintf(sl->t.cgroup,
				    sizeof(sl->t.cgroup), "%s", s);
			else if (errno != ENOENT) /* gone: all is well */
				log_warnx("task %" PRId64 ": %.256s is not a "
					  "task cgroup: ignored",
				    id, s);
		}
		if (json_is_integer(json_object_get(o, "uid")) &&
		    json_integer_value(json_object_get(o, "uid")) >= 0 &&
		    json_integer_value(json_object_get(o, "uid")) <= UINT32_MAX)
			sl->t.uid =
			    json_integer_value(json_object_get(o, "uid"));
		if (json_integer_value(json_object_get(o, "pid")) > 0 &&
		    agent_task_adopt(&sl->t,
			(pid_t)json_integer_value(json_object_get(o, "pid")),
			json_integer_value(json_object_get(o, "starttime")))) {
			log_info("task %" PRId64 ": adopted pid %d%s%s", id,
			    (int)sl->t.pid,
			    sl->t.cgroup[0] != '\0' ? " in cgroup " : "",
			    sl->t.cgroup);
			/* Left running whatever the policy says now; its
			 * next start is checked. */
			adopt_account(sl,
			    json_string_value(json_object_get(o, "user")));
			agent_task_log_init(&sl->t, ts->logdir, ts->log_max);
			sl->adopted_at = agent_now_ms();
			/* Its start as it was (older agents kept none). */
			sl->t.started_ms = json_integer_value(
			    json_object_get(o, "started_ms"));
			life_set(sl, AGENT_LIFE_UP);
		} else if (sl->wanted && restarts_after_failure(sl)) {
			/* It ended meanwhile (how, nobody saw: a failure):
			 * restarted at once, as its policy says. */
			sl->restart_at = agent_mono_ms();
			sl->restart_reason = "exited";
			life_set(sl, AGENT_LIFE_BACKOFF);
		} else if (sl->wanted) {
			/* Restart policy never: it stays down. */
			sl->wanted = 0;
			ts->changed = 1;
		}
		rel_cmd_load(sl, json_object_get(o, "release_cmd"));
	}
	json_decref(a);
}

/*
 * An adopted task's account (saved in tasks.json), for its stop script;
 * unknown (no stop script) when it was not saved or is gone.
 */
static void
adopt_account(struct agent_slot *sl, const char *user)
{
	const char *dir =
	    json_string_value(json_object_get(sl->t.spec, "deploy_dir"));
	char why[256], rdir[PATH_MAX];

	if (dir == NULL || !agent_path_resolve(dir, rdir, sizeof(rdir)))
		rdir[0] = '\0';
	if (!agent_task_set_rdir(&sl->t, rdir))
		log_warnx("task %" PRId64 ": out of memory", sl->t.id);
	if (user == NULL ||
	    !agent_account_get(user, sl->t.rdir != NULL ? sl->t.rdir : "/",
		&sl->t.acct, why, sizeof(why))) {
		memset(&sl->t.acct, 0, sizeof(sl->t.acct));
		log_warnx("task %" PRId64 ": its account is unknown%s%s",
		    sl->t.id, user != NULL ? ": " : "",
		    user != NULL ? why : "");
	}
}

/*
 * Whether a start or restart of task id with spec may go ahead: a new
 * task within limits.tasks, and the spec within the policy.  Returns 1,
 * or 0 with why ("policy: ...").
 */
static int
allowed(struct agent_tasks *ts, int64_t id, const json_t *spec, char *why,
    size_t len)
{
	struct agent_account acct;
	char		     rdir[PATH_MAX];

	if (ts->policy == NULL)
		return (1);
	if (slot_find(ts, id) == NULL &&
	    (int64_t)ts->n >= ts->policy->p.tasks) {
		(void)snprintf(why, len,
		    "policy: this node already has %zu tasks (limits.tasks "
		    "%" PRId64 ")",
		    ts->n, ts->policy->p.tasks);
		return (0);
	}
	return (agent_policy_task(ts->policy, spec, ts->dir, &acct, rdir,
	    sizeof(rdir), why, len));
}

/*
 * Write cfg into the task's tree (its live release, else its deploy
 * directory), confined to its real deploy directory and away from the
 * state directory; new files and directories go to the task's account.
 * The deploy directory is made when it is missing (as a start would).
 * 1, or 0 with why.
 */
static int
config_apply(struct agent_tasks *ts, struct agent_slot *sl, const char *tree,
    const char *rdir, const struct agent_account *acct,
    const struct agentproto_config *cfg, struct agent_cfgstats *st, char *why,
    size_t len)
{
	struct agent_confine conf;
	struct agent_cfgdest dest;
	const char	    *dir;
	char		     mk[PATH_MAX], *p, c;

	memset(&conf, 0, sizeof(conf));
	memset(&dest, 0, sizeof(dest));
	dir = rdir != NULL && rdir[0] != '\0'
	    ? rdir
	    : json_string_value(json_object_get(sl->t.spec, "deploy_dir"));
	if (dir == NULL || dir[0] != '/') {
		(void)snprintf(why, len, "config: the task has no deploy_dir");
		return (0);
	}
	if (access(dir, F_OK) == -1 && errno == ENOENT) {
		sl->t.created_dir = 1;
		(void)snprintf(mk, sizeof(mk), "%s", dir);
		for (p = mk + 1;; p++) {
			if (*p != '/' && *p != '\0')
				continue;
			c = *p;
			*p = '\0';
			if (mkdir(mk, 0755) == -1 && errno != EEXIST) {
				(void)snprintf(why, len, "cannot create %s: %s",
				    mk, strerror(errno));
				return (0);
			}
			if ((*p = c) == '\0')
				break;
		}
		if (acct->valid && agent_os_admin() &&
		    chown(dir, acct->uid, acct->gid) == -1) {
			(void)snprintf(why, len, "cannot give %s away: %s", dir,
			    strerror(errno));
			return (0);
		}
	}
	if (realpath(dir, conf.root) == NULL ||
	    realpath(ts->dir, conf.deny) == NULL) {
		(void)snprintf(why, len, "config: %s: %s", dir,
		    strerror(errno));
		return (0);
	}
	dest.tree = tree != NULL ? tree : agent_task_dir(&sl->t);
	dest.conf = &conf;
	if (acct->valid && agent_os_admin()) {
		dest.chown = 1;
		dest.uid = acct->uid;
		dest.gid = acct->gid;
	}
	return (agent_config_apply(cfg, &dest, st, why, len) == 0);
}

/*
 * Start the task, within the policy (every start: commands, restarts,
 * the restart policy); a fresh start for its health and its last lines.
 * The configuration the task last got is applied first (config.c): a
 * failure there is the start's, and the program does not start.
 */
static int
start(struct agent_tasks *ts, struct agent_slot *sl, char *why, size_t len)
{
	const json_t		*h = json_object_get(sl->t.spec, "health");
	struct agentproto_config cfg;
	struct agent_cfgstats	 st;
	json_t			*spec = sl->t.spec, *run = NULL, *env;
	char			 rdir[PATH_MAX];
	int			 ok, have, pre;

	/* A release command applied it to the new release before its
	 * switch (agent_tasks_config_pre()): not again. */
	pre = sl->cfg_pre != NULL && sl->t.reldir != NULL &&
	    strcmp(sl->cfg_pre, sl->t.reldir) == 0;
	free(sl->cfg_pre);
	sl->cfg_pre = NULL;
	/* A release command going back: the files stay as they are. */
	if (sl->cfg_keep)
		pre = 1;
	sl->cfg_keep = 0;
	if (!pre) {
		sl->cfg_note[0] = '\0';
		sl->cfg_params[0] = '\0';
	}
	memset(&st, 0, sizeof(st));
	if ((have = agent_config_load(ts->dir, sl->t.id, &cfg, why, len)) ==
	    -1) {
		log_warnx("task %" PRId64 ": %s", sl->t.id, why);
		return (0);
	}
	/* The values as environment variables: the policy sees them too. */
	if (have && cfg.env) {
		if ((run = json_deep_copy(spec)) == NULL ||
		    ((env = json_object_get(run, "env")) == NULL &&
			(json_object_set_new(run, "env", json_object()) == -1 ||
			    (env = json_object_get(run, "env")) == NULL)) ||
		    agent_config_env(&cfg, env, &st) == -1) {
			json_decref(run);
			agentproto_config_free(&cfg);
			(void)snprintf(why, len, "out of memory");
			return (0);
		}
	}
	memset(&sl->t.acct, 0, sizeof(sl->t.acct));
	rdir[0] = '\0';
	ok = ts->policy == NULL ||
	    agent_policy_task(ts->policy, run != NULL ? run : spec, ts->dir,
		&sl->t.acct, rdir, sizeof(rdir), why, len);
	if (!agent_task_set_rdir(&sl->t, rdir) && ok) {
		(void)snprintf(why, len, "out of memory");
		ok = 0;
	} else if (!ok)
		log_warnx("task %" PRId64 ": %s", sl->t.id, why);
	if (ok && have && !pre) {
		if (!config_apply(ts, sl, NULL, sl->t.rdir, &sl->t.acct, &cfg,
			&st, why, len)) {
			log_warnx("task %" PRId64 ": %s", sl->t.id, why);
			ok = 0;
		} else {
			agent_config_note(&cfg, &st, sl->cfg_note,
			    sizeof(sl->cfg_note));
			agent_config_params(&cfg, &st, sl->cfg_params,
			    sizeof(sl->cfg_params));
			log_info("task %" PRId64 ": %s", sl->t.id,
			    sl->cfg_note);
		}
	}
	if (have)
		agentproto_config_free(&cfg);
	if (ok) {
		if (run != NULL)
			sl->t.spec = run;
		agent_task_log_init(&sl->t, ts->logdir, ts->log_max);
		ok = agent_task_start(&sl->t, ts->logdir, why, len);
		sl->t.spec = spec;
	}
	json_decref(run);
	if (!ok)
		return (0);
	sl->health = 0;
	sl->health_fails = 0;
	sl->health_next = 0;
	sl->ever_healthy = 0;
	sl->tree_ms = 0;
	sl->crash_loop = 0;
	sl->adopted_at = 0;
	sl->start_deadline = agent_mono_ms() +
	    (uint64_t)json_integer_value(json_object_get(h, "start_timeout")) *
		1000;
	free(sl->last_lines);
	sl->last_lines = NULL;
	return (1);
}

/*
 * A start command's task is running: with a health check the command
 * waits for it (start_check() answers), else it answers now.  Returns as
 * agent_tasks_command() does.
 */
static int
started(struct agent_slot *sl, const char *id, int64_t seq, int64_t received,
    const char *note, const char *params, char **body)
{
	json_t *pj;

	const char *kind =
	    json_string_value(json_object_get(sl->t.spec, "kind"));
	char full[sizeof(sl->cmd_note)];

	/* What the configuration did, before the start ("config v3 applied"). */
	(void)snprintf(full, sizeof(full), "%s%s%s", note, sl->cfg_note,
	    sl->cfg_note[0] != '\0' ? "; " : "");
	note = full;
	/* The same as parameters: what came before, then the config's. */
	pj = agent_params_merge(agent_params_merge(NULL, params),
	    sl->cfg_params);
	if (json_object_get(sl->t.spec, "health") == NULL) {
		if (kind == NULL || strcmp(kind, "console") == 0) {
			life_set(sl, AGENT_LIFE_UP);
			if (pj != NULL)
				(void)json_object_set_new(pj, "pid",
				    json_integer(sl->t.pid));
			*body = agent_result(1, received, "started", pj,
			    "%sstarted, pid %d", note, (int)sl->t.pid);
			return (1);
		}
		/* A JVM that fails to start fails within seconds. */
		sl->start_deadline = agent_mono_ms() + AGENT_START_SETTLE_MS;
	}
	(void)snprintf(sl->cmd, sizeof(sl->cmd), "%s", id);
	(void)snprintf(sl->cmd_note, sizeof(sl->cmd_note), "%s", note);
	sl->cmd_params[0] = '\0';
	if (pj != NULL) {
		char *t = json_dumps(pj, JSON_COMPACT);

		if (t != NULL && strlen(t) < sizeof(sl->cmd_params))
			memcpy(sl->cmd_params, t, strlen(t) + 1);
		free(t);
		json_decref(pj);
	}
	sl->cmd_seq = seq;
	sl->cmd_kind = AGENTPROTO_CMD_START;
	sl->cmd_received = received;
	life_set(sl, AGENT_LIFE_STARTING);
	*body = NULL;
	return (0);
}

/* The last lines of the task's log (at most 4 KiB), malloc'd. */
static char *
log_end(struct agent_tasks *ts, struct agent_slot *sl)
{
	char  path[1200], *s, *p;
	off_t size;
	int   trunc;

	(void)snprintf(path, sizeof(path), "%s/%" PRId64 ".log", ts->logdir,
	    sl->t.id);
	if (sl->t.state != AGENT_TASK_RUNNING &&
	    sl->t.state != AGENT_TASK_STOPPING)
		agent_log_settle(path); /* its relay's last writes */
	if ((s = agent_log_tail(path, NULL, 20, &size, &trunc, NULL)) == NULL)
		return (strdup(""));
	if (strlen(s) > 4096) {
		p = s + strlen(s) - 4096;
		while (*p != '\0' && *p != '\n')
			p++;
		p = strdup(*p == '\n' ? p + 1 : p);
		free(s);
		s = p;
	}
	return (s);
}

/*
 * A start waiting for its health check: succeeded once healthy; failed,
 * with the last lines of its log, when it ends first or is not healthy
 * within health.start_timeout (it keeps running, unhealthy).
 */
static void
start_check(struct agent_tasks *ts, struct agent_slot *sl, uint64_t now)
{
	int64_t limit;
	char   *end;

	if (sl->cmd[0] == '\0' || sl->cmd_kind != AGENTPROTO_CMD_START)
		return;
	/* The start is answered below: the task is UP if it still runs
	 * (else on_ended() has already chosen its state). */
	if (sl->t.state == AGENT_TASK_RUNNING &&
	    (json_object_get(sl->t.spec, "health") != NULL
		    ? sl->health == 1 || now >= sl->start_deadline
		    : now >= sl->start_deadline))
		life_set(sl, AGENT_LIFE_UP);
	if (json_object_get(sl->t.spec, "health") == NULL) {
		/* jar or tomcat without a check: still running once settled? */
		if (sl->t.state == AGENT_TASK_RUNNING &&
		    now < sl->start_deadline)
			return;
		if (sl->t.state == AGENT_TASK_RUNNING) {
			finish(ts, sl,
			    agent_result(1, sl->cmd_received, "started_settled",
				cmd_params(sl, "{s:i, s:i}", "pid",
				    (int)sl->t.pid, "settle_s",
				    AGENT_START_SETTLE_MS / 1000),
				"%sstarted, pid %d; still running after %d s",
				sl->cmd_note, (int)sl->t.pid,
				AGENT_START_SETTLE_MS / 1000));
			return;
		}
		end = log_end(ts, sl);
		finish(ts, sl,
		    agent_result(0, sl->cmd_received, "start_exited",
			cmd_params(sl, "{s:i, s:i}", "exit_status",
			    sl->t.exit_status, "settle_s",
			    AGENT_START_SETTLE_MS / 1000),
			"%sstarted, but it ended (exit status %d) within %d s; "
			"the last lines of its log:\n%s",
			sl->cmd_note, sl->t.exit_status,
			AGENT_START_SETTLE_MS / 1000, end));
		free(end);
		return;
	}
	limit = json_integer_value(
	    json_object_get(json_object_get(sl->t.spec, "health"),
		"start_timeout"));
	if (sl->t.state == AGENT_TASK_RUNNING && sl->health == 1) {
		finish(ts, sl,
		    agent_result(1, sl->cmd_received, "started_healthy",
			cmd_params(sl, "{s:i, s:I}", "pid", (int)sl->t.pid,
			    "healthy_ms",
			    (json_int_t)(now + (uint64_t)limit * 1000 -
				sl->start_deadline)),
			"%sstarted, pid %d; healthy after %" PRIu64 " ms",
			sl->cmd_note, (int)sl->t.pid,
			now + (uint64_t)limit * 1000 - sl->start_deadline));
		return;
	}
	if (sl->t.state == AGENT_TASK_RUNNING && now < sl->start_deadline)
		return;
	end = log_end(ts, sl);
	if (sl->t.state != AGENT_TASK_RUNNING)
		finish(ts, sl,
		    agent_result(0, sl->cmd_received, "start_exited_unhealthy",
			cmd_params(sl, "{s:i}", "exit_status",
			    sl->t.exit_status),
			"%sstarted, but it ended (exit status %d) before its "
			"health check passed; the last lines of its log:\n%s",
			sl->cmd_note, sl->t.exit_status, end));
	else
		finish(ts, sl,
		    agent_result(0, sl->cmd_received, "start_unhealthy",
			cmd_params(sl, "{s:i, s:I, s:s}", "pid", (int)sl->t.pid,
			    "timeout_s", (json_int_t)limit, "reason",
			    sl->health_why[0] ? sl->health_why : ""),
			"%sstarted, pid %d, but not healthy within %" PRId64
			" s (%s); the last lines of its log:\n%s",
			sl->cmd_note, (int)sl->t.pid, limit,
			sl->health_why[0] ? sl->health_why : "no answer yet",
			end));
	free(end);
}

/*
 * A pending start's result parameters: json_pack(fmt, ...) with what
 * came before it (sl->cmd_params) added; NULL when out of memory.
 */
static json_t *
cmd_params(const struct agent_slot *sl, const char *fmt, ...)
{
	va_list ap;
	json_t *o;

	va_start(ap, fmt);
	o = json_vpack_ex(NULL, 0, fmt, ap);
	va_end(ap);
	return (o != NULL ? agent_params_merge(o, sl->cmd_params) : NULL);
}

/* A pending command finished: hand its result to the caller's queue. */
static void
finish(struct agent_tasks *ts, struct agent_slot *sl, char *body)
{
	if (ts->done != NULL && sl->cmd[0] != '\0')
		ts->done(ts->arg, sl->cmd, sl->cmd_seq, body);
	else
		free(body);
	sl->cmd[0] = '\0';
	sl->cmd_kind = AGENTPROTO_CMD_UNKNOWN;
}

/*
 * Run a task command (start, stop, restart, uninstall) on task id with
 * its normalised spec (borrowed; NULL: none given, a stop), as
 * validated by the command table (commands.c).  Returns 1 with *body
 * (the result) when the command is done, 0 when its result will come
 * through ts->done.
 */
int
agent_tasks_command(struct agent_tasks *ts, const struct agentproto_command *c,
    int64_t id, const json_t *spec, int64_t received, char **body)
{
	struct agent_slot *sl;
	char		   why[1024];

	/* A start the policy refuses changes nothing here. */
	if ((c->kind == AGENTPROTO_CMD_START ||
		c->kind == AGENTPROTO_CMD_RESTART) &&
	    !allowed(ts, id, spec, why, sizeof(why))) {
		log_warnx("task %" PRId64 ": %s", id, why);
		*body = agent_result(0, received, "start_failed",
		    json_pack("{s:s}", "reason", why), "start failed: %s", why);
		return (1);
	}
	if ((sl = slot_get(ts, id, spec)) == NULL) {
		*body = agent_result(0, received, "too_many_tasks", NULL,
		    "too many tasks on this node");
		return (1);
	}
	if (sl->cmd[0] != '\0') {
		*body = agent_result(0, received, "command_busy",
		    json_pack("{s:s}", "command", sl->cmd),
		    "another command (%s) is in "
		    "progress for this task",
		    sl->cmd);
		return (1);
	}

	switch (c->kind) {
	case AGENTPROTO_CMD_START:
		sl->wanted = 1;
		if (sl->t.state == AGENT_TASK_RUNNING) {
			save(ts);
			*body = agent_result(1, received, "already_running",
			    json_pack("{s:i}", "pid", (int)sl->t.pid),
			    "already running (pid %d)", (int)sl->t.pid);
			return (1);
		}
		if (sl->t.state == AGENT_TASK_STOPPING) {
			*body = agent_result(0, received, "task_stopping", NULL,
			    "it is stopping");
			return (1);
		}
		/* DOWN, BACKOFF or CRASH_LOOP: started now. */
		if (!start(ts, sl, why, sizeof(why))) {
			sl->wanted = 0;
			life_set(sl, AGENT_LIFE_DOWN);
			save(ts);
			*body = agent_result(0, received, "start_failed",
			    json_pack("{s:s}", "reason", why),
			    "start failed: %s", why);
			return (1);
		}
		save(ts);
		ts->changed = 1;
		return (started(sl, c->id, c->seq, received, "", "", body));
	case AGENTPROTO_CMD_UNINSTALL:
		sl->wanted = 0;
		if (sl->t.state != AGENT_TASK_RUNNING &&
		    sl->t.state != AGENT_TASK_STOPPING) {
			if (sl->life == AGENT_LIFE_BACKOFF)
				life_set(sl, AGENT_LIFE_DOWN);
			*body = uninstall(ts, sl, received, "was not running",
			    "{\"was_down\":1}");
			return (1);
		}
		stopping(ts, sl, c, received);
		*body = NULL;
		return (0);
	case AGENTPROTO_CMD_STOP:
	case AGENTPROTO_CMD_RESTART:
		sl->wanted = c->kind == AGENTPROTO_CMD_RESTART;
		if (sl->t.state != AGENT_TASK_RUNNING &&
		    sl->t.state != AGENT_TASK_STOPPING) {
			if (c->kind == AGENTPROTO_CMD_STOP) {
				/* A planned restart is off; a crash loop
				 * stays one until a start. */
				if (sl->life == AGENT_LIFE_BACKOFF)
					life_set(sl, AGENT_LIFE_DOWN);
				save(ts);
				*body = agent_result(1, received, "not_running",
				    NULL, "not running");
				return (1);
			}
			if (!start(ts, sl, why, sizeof(why))) {
				sl->wanted = 0;
				life_set(sl, AGENT_LIFE_DOWN);
				save(ts);
				*body =
				    agent_result(0, received, "start_failed",
					json_pack("{s:s, s:i}", "reason", why,
					    "was_down", 1),
					"start failed: %s", why);
				return (1);
			}
			save(ts);
			ts->changed = 1;
			return (started(sl, c->id, c->seq, received,
			    "was not running; ", "{\"was_down\":1}", body));
		}
		stopping(ts, sl, c, received);
		*body = NULL;
		return (0);
	default:
		*body = agent_result(0, received, "not_task_command", NULL,
		    "not a task command");
		return (1);
	}
}

/*
 * UP -> STOPPING: a stop, restart or uninstall command begins the stop
 * and waits for the processes to go (on_stopped() answers it).
 */
static void
stopping(struct agent_tasks *ts, struct agent_slot *sl,
    const struct agentproto_command *c, int64_t received)
{
	(void)snprintf(sl->cmd, sizeof(sl->cmd), "%s", c->id);
	sl->cmd_seq = c->seq;
	sl->cmd_kind = c->kind;
	sl->cmd_received = received;
	agent_task_stop(&sl->t);
	life_set(sl, AGENT_LIFE_STOPPING);
	save(ts);
	ts->changed = 1;
}

/*
 * A release command's new release (tree, not live yet), configured
 * before the switch (deploy.c), so that a failure leaves the live
 * release as it is and fails the command; the start after the switch
 * then does not apply it again.  1, or 0 with why.
 */
int
agent_tasks_config_pre(struct agent_tasks *ts, struct agent_slot *sl,
    const char *tree, char *why, size_t len)
{
	struct agentproto_config cfg;
	struct agent_cfgstats	 st;
	struct agent_account	 acct;
	char			 rdir[PATH_MAX];
	int			 have;

	free(sl->cfg_pre);
	sl->cfg_pre = NULL;
	sl->cfg_note[0] = '\0';
	sl->cfg_params[0] = '\0';
	if ((have = agent_config_load(ts->dir, sl->t.id, &cfg, why, len)) == -1)
		return (0);
	if (have == 0)
		return (1);
	memset(&acct, 0, sizeof(acct));
	memset(&st, 0, sizeof(st));
	rdir[0] = '\0';
	if ((ts->policy != NULL &&
		!agent_policy_task(ts->policy, sl->t.spec, ts->dir, &acct, rdir,
		    sizeof(rdir), why, len)) ||
	    !config_apply(ts, sl, tree, rdir, &acct, &cfg, &st, why, len)) {
		agentproto_config_free(&cfg);
		log_warnx("task %" PRId64 ": %s", sl->t.id, why);
		return (0);
	}
	agent_config_note(&cfg, &st, sl->cfg_note, sizeof(sl->cfg_note));
	agent_config_params(&cfg, &st, sl->cfg_params, sizeof(sl->cfg_params));
	agentproto_config_free(&cfg);
	log_info("task %" PRId64 ": %s", sl->t.id, sl->cfg_note);
	if ((sl->cfg_pre = strdup(tree)) == NULL) {
		(void)snprintf(why, len, "out of memory");
		return (0);
	}
	return (1);
}

/*
 * apply-config (docs/agent-protocol.md, "Configuration"): the task's
 * configuration (kept by agent_config_save()) written now.  restart: a
 * running task stops first and starts again after it (start() applies
 * it, so the program never runs on half-written files); a stopped one
 * is started.  Without restart a running program keeps running.
 * Returns as agent_tasks_command() does.
 */
int
agent_tasks_apply_config(struct agent_tasks *ts,
    const struct agentproto_command *c, int64_t id, const json_t *spec,
    int restart, int64_t received, char **body)
{
	struct agentproto_config cfg;
	struct agent_cfgstats	 st;
	struct agent_account	 acct;
	struct agent_slot	*sl;
	char			 why[1024], note[256], rdir[PATH_MAX];
	char			 pnote[512];
	int			 have;

	if ((sl = agent_tasks_slot(ts, id, spec)) == NULL) {
		*body = agent_result(0, received, "unknown_task", NULL,
		    "unknown task: the command carries no task.spec");
		return (1);
	}
	if (sl->cmd[0] != '\0') {
		*body = agent_result(0, received, "command_busy",
		    json_pack("{s:s}", "command", sl->cmd),
		    "another command (%s) is in progress for this task",
		    sl->cmd);
		return (1);
	}
	if (restart) {
		sl->wanted = 1;
		if (sl->t.state == AGENT_TASK_RUNNING) {
			stopping(ts, sl, c, received);
			*body = NULL;
			return (0);
		}
		if (sl->t.state == AGENT_TASK_STOPPING) {
			*body = agent_result(0, received, "task_stopping", NULL,
			    "it is stopping");
			return (1);
		}
		if (!start(ts, sl, why, sizeof(why))) {
			sl->wanted = 0;
			life_set(sl, AGENT_LIFE_DOWN);
			save(ts);
			*body = agent_result(0, received, "start_failed",
			    json_pack("{s:s}", "reason", why),
			    "start failed: %s", why);
			return (1);
		}
		save(ts);
		ts->changed = 1;
		return (started(sl, c->id, c->seq, received,
		    "was not running; ", "{\"was_down\":1}", body));
	}
	if ((have = agent_config_load(ts->dir, id, &cfg, why, sizeof(why))) ==
	    -1) {
		*body = agent_result(0, received, "config_failed",
		    json_pack("{s:s}", "reason", why), "%s", why);
		return (1);
	}
	if (have == 0) {
		*body = agent_result(1, received, "config_none", NULL,
		    "no configuration: nothing applied");
		return (1);
	}
	memset(&acct, 0, sizeof(acct));
	memset(&st, 0, sizeof(st));
	rdir[0] = '\0';
	if ((ts->policy != NULL &&
		!agent_policy_task(ts->policy, sl->t.spec, ts->dir, &acct, rdir,
		    sizeof(rdir), why, sizeof(why))) ||
	    !config_apply(ts, sl, NULL, rdir, &acct, &cfg, &st, why,
		sizeof(why))) {
		agentproto_config_free(&cfg);
		log_warnx("task %" PRId64 ": %s", id, why);
		*body = agent_result(0, received, "config_failed",
		    json_pack("{s:s}", "reason", why), "%s", why);
		return (1);
	}
	agent_config_note(&cfg, &st, note, sizeof(note));
	agent_config_params(&cfg, &st, pnote, sizeof(pnote));
	agentproto_config_free(&cfg);
	log_info("task %" PRId64 ": %s", id, note);
	*body = agent_result(1, received, "config_applied",
	    agent_params_merge(json_pack("{s:i}", "running",
				   sl->t.state == AGENT_TASK_RUNNING),
		pnote),
	    "%s; %s", note,
	    sl->t.state == AGENT_TASK_RUNNING
		? "the files changed while it runs: restart the task for "
		  "them to take effect"
		: "the task is not running");
	return (1);
}

/* The task's slot (made on first sight when spec is given), or NULL. */
struct agent_slot *
agent_tasks_slot(struct agent_tasks *ts, int64_t id, const json_t *spec)
{
	if (spec == NULL)
		return (slot_find(ts, id));
	return (slot_get(ts, id, spec));
}

/*
 * A release command stops the task (deploy.c): UP or STARTING ->
 * STOPPING, as a stop command does but answering nobody (on_stopped()
 * puts it DOWN); BACKOFF -> DOWN.  Returns 1 while its processes are
 * going, 0 when none run.  It stays wanted: the release command starts
 * it again.
 */
int
agent_tasks_rel_stop(struct agent_tasks *ts, struct agent_slot *sl)
{
	if (sl->t.state == AGENT_TASK_STOPPING)
		return (1);
	if (sl->t.state != AGENT_TASK_RUNNING) {
		if (sl->life == AGENT_LIFE_BACKOFF ||
		    sl->life == AGENT_LIFE_CRASH_LOOP)
			life_set(sl, AGENT_LIFE_DOWN);
		return (0);
	}
	sl->cmd[0] = '\0';
	sl->cmd_kind = AGENTPROTO_CMD_UNKNOWN;
	agent_task_stop(&sl->t);
	life_set(sl, AGENT_LIFE_STOPPING);
	save(ts);
	ts->changed = 1;
	return (1);
}

/*
 * A release command starts the task from its live release (deploy.c
 * watches it): DOWN -> UP, wanted; DOWN, not wanted, when the start
 * fails (0 with why).
 */
int
agent_tasks_rel_start(struct agent_tasks *ts, struct agent_slot *sl, char *why,
    size_t len)
{
	ts->changed = 1;
	if (!start(ts, sl, why, len)) {
		sl->wanted = 0;
		life_set(sl, AGENT_LIFE_DOWN);
		save(ts);
		return (0);
	}
	sl->wanted = 1;
	sl->restarts = 0;
	sl->window_restarts = 0;
	life_set(sl, AGENT_LIFE_UP);
	save(ts);
	return (1);
}

/* The last lines of the task's log, malloc'd (never NULL but for memory). */
char *
agent_tasks_log_end(struct agent_tasks *ts, struct agent_slot *sl)
{
	return (log_end(ts, sl));
}

const char *
agent_life_name(enum agent_life l)
{
	switch (l) {
	case AGENT_LIFE_DOWN:
		return ("down");
	case AGENT_LIFE_STARTING:
		return ("starting");
	case AGENT_LIFE_UP:
		return ("up");
	case AGENT_LIFE_STOPPING:
		return ("stopping");
	case AGENT_LIFE_BACKOFF:
		return ("backoff");
	case AGENT_LIFE_CRASH_LOOP:
		return ("crash_loop");
	}
	return ("down");
}

/*
 * The task's processes ended (by is who caused it: "self", "stop",
 * "policy" or "outside"): kept for the heartbeat's last_exit.
 */
static void
note_exit(struct agent_slot *sl, const char *by)
{
	sl->last_exit_at = sl->t.exit_ms > 0 ? sl->t.exit_ms : agent_now_ms();
	sl->last_exit_status = sl->t.exit_signal != 0 ? -1 : sl->t.exit_status;
	sl->last_exit_signal = sl->t.exit_signal;
	sl->last_exit_by = by;
}

/* Every transition of the lifecycle (the table at the top). */
static void
life_set(struct agent_slot *sl, enum agent_life to)
{
	if (sl->life != to)
		log_debug("task %" PRId64 ": %s -> %s", sl->t.id,
		    agent_life_name(sl->life), agent_life_name(to));
	sl->life = to;
	/* A planned restart belongs to BACKOFF alone. */
	if (to != AGENT_LIFE_BACKOFF)
		sl->restart_at = 0;
}

int
agent_tasks_life(const struct agent_tasks *ts, int64_t id)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		if (ts->v[i].t.id == id)
			return ((int)ts->v[i].life);
	}
	return (-1);
}

/* Size-based rotation of every task's logs, every AGENT_LOG_CHECK_MS. */
static void
log_rotate_all(struct agent_tasks *ts)
{
	static struct agent_confine conf;
	json_t			   *lspec;
	size_t			    i;

	for (i = 0; i < ts->n; i++) {
		if (agent_task_log_rotate(ts->logdir, ts->v[i].t.id,
			ts->log_max ? ts->log_max : AGENT_LOG_MAX,
			AGENT_LOG_KEEP) == -1)
			log_warn("task %" PRId64 ": log rotation",
			    ts->v[i].t.id);
		/* Only files inside the task's deploy directory (globs
		 * under its live release when it is packaged). */
		if (agent_confine_init(&conf, ts->policy, ts->v[i].t.spec,
			ts->dir) &&
		    (lspec = agent_task_log_spec(&ts->v[i].t)) != NULL) {
			(void)agent_log_rotate_files(lspec, &conf,
			    ts->log_max ? ts->log_max : AGENT_LOG_MAX,
			    AGENT_LOG_KEEP);
			json_decref(lspec);
		}
	}
}

/*
 * STOPPING, the processes gone: answer the command that stopped it.
 * stop: DOWN; restart: started again (started()); uninstall: the slot is
 * forgotten.  Returns 0 when the slot at this index must be driven again
 * (uninstall: it now holds another task, or this one without its
 * command), else 1.
 */
static int
on_stopped(struct agent_tasks *ts, struct agent_slot *sl)
{
	char	    why[1024], how[160], note[192], *b;
	char	    id[AGENTPROTO_UUID_LEN + 1], hp[96];
	const char *stop, *code;
	json_t	   *pj;

	note_exit(sl, "stop");
	(void)snprintf(how, sizeof(how), "%s in %" PRIu64 " ms",
	    sl->t.stop_how == AGENT_STOP_KILL
		? "killed with SIGKILL after the grace period"
		: sl->t.stop_how == AGENT_STOP_TERM_STRAYS
		? "stopped by SIGTERM; processes that had left its group "
		  "were killed"
		: sl->t.stop_how == AGENT_STOP_SCRIPT
		? "stopped by the stop script"
		: "stopped by SIGTERM",
	    sl->t.stop_ms);
	/* The same as parameters (docs/agent-protocol.md). */
	stop = sl->t.stop_how == AGENT_STOP_KILL       ? "killed"
	    : sl->t.stop_how == AGENT_STOP_TERM_STRAYS ? "strays"
	    : sl->t.stop_how == AGENT_STOP_SCRIPT      ? "script"
						       : "signal";
	(void)snprintf(hp, sizeof(hp),
	    "{\"stop\":\"%s\",\"signal\":\"%s\",\"stop_ms\":%" PRIu64 "}", stop,
	    sl->t.stop_how == AGENT_STOP_KILL	      ? "SIGKILL"
		: sl->t.stop_how == AGENT_STOP_SCRIPT ? ""
						      : "SIGTERM",
	    (uint64_t)sl->t.stop_ms);
	switch (sl->cmd_kind) {
	case AGENTPROTO_CMD_UNINSTALL:
		life_set(sl, AGENT_LIFE_DOWN);
		b = uninstall(ts, sl, sl->cmd_received, how, hp);
		if (ts->done != NULL)
			ts->done(ts->arg, ts->gone_cmd, ts->gone_seq, b);
		else
			free(b);
		return (0);
	case AGENTPROTO_CMD_RESTART:
	case AGENTPROTO_CMD_APPLY_CONFIG: /* with "restart": the same */
		if (!start(ts, sl, why, sizeof(why))) {
			sl->wanted = 0;
			life_set(sl, AGENT_LIFE_DOWN);
			finish(ts, sl,
			    agent_result(0, sl->cmd_received, "start_failed",
				agent_params_merge(json_pack("{s:s}", "reason",
						       why),
				    hp),
				"%s; start failed: %s", how, why));
			return (1);
		}
		(void)snprintf(note, sizeof(note), "%s; ", how);
		(void)snprintf(id, sizeof(id), "%s", sl->cmd);
		/* Healthy first, if checked (STARTING), else UP. */
		if (started(sl, id, sl->cmd_seq, sl->cmd_received, note, hp,
			&b) == 1)
			finish(ts, sl, b);
		return (1);
	default:
		life_set(sl, AGENT_LIFE_DOWN);
		code = sl->t.stop_how == AGENT_STOP_KILL ? "stopped_killed"
		    : sl->t.stop_how == AGENT_STOP_TERM_STRAYS
		    ? "stopped_strays"
		    : sl->t.stop_how == AGENT_STOP_SCRIPT ? "stopped_script"
							  : "stopped_signal";
		pj = agent_params_merge(NULL, hp);
		if (pj != NULL)
			(void)json_object_del(pj, "stop");
		if (pj != NULL && sl->t.stop_how == AGENT_STOP_SCRIPT)
			(void)json_object_del(pj, "signal");
		finish(ts, sl,
		    agent_result(1, sl->cmd_received, code, pj, "%s", how));
		return (1);
	}
}

/* Whether the task's restart policy restarts it after a failure. */
static int
restarts_after_failure(const struct agent_slot *sl)
{
	const char *policy;

	policy = json_string_value(
	    json_object_get(json_object_get(sl->t.spec, "restart"), "policy"));
	return (policy != NULL &&
	    (strcmp(policy, "always") == 0 ||
		strcmp(policy, "on-failure") == 0));
}

/*
 * gcc -fanalyzer (12) loses the log's last lines stored in the slot (a
 * symbolic element of ts->v, reached through slot_tick()) and reports
 * them leaked: slot_drop() and agent_tasks_free() free them.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
/*
 * STARTING or UP, ended by itself: BACKOFF when its restart policy
 * wants it again (exponential back-off), CRASH_LOOP when it keeps dying,
 * else DOWN.
 */
static void
on_ended(struct agent_tasks *ts, struct agent_slot *sl, uint64_t now)
{
	enum agent_life to = AGENT_LIFE_DOWN;
	const json_t   *rs;
	const char     *policy;
	char	       *end;
	int64_t		b0, bmax, delay;
	int		k;

	log_info("task %" PRId64 ": exited with status %d", sl->t.id,
	    sl->t.exit_status);
	/* A signal it did not bring on itself came from outside. */
	note_exit(sl,
	    sl->t.exit_signal != 0 && !agent_os_sig_fault(sl->t.exit_signal)
		? "outside"
		: "self");
	rs = json_object_get(sl->t.spec, "restart");
	policy = json_string_value(json_object_get(rs, "policy"));
	if (sl->wanted && policy != NULL &&
	    (strcmp(policy, "always") == 0 ||
		(strcmp(policy, "on-failure") == 0 &&
		    sl->t.exit_status != 0))) {
		if (now - sl->window_start > CRASH_WINDOW_MS) {
			sl->window_start = now;
			sl->window_restarts = 0;
		}
		b0 = json_integer_value(json_object_get(rs, "backoff_initial"));
		bmax = json_integer_value(json_object_get(rs, "backoff_max"));
		delay = b0;
		for (k = 0; k < sl->window_restarts && delay < bmax; k++)
			delay *= 2;
		if (delay > bmax)
			delay = bmax;
		if (sl->window_restarts >=
		    json_integer_value(json_object_get(rs, "crash_loop"))) {
			to = AGENT_LIFE_CRASH_LOOP;
			sl->crash_loop = 1;
			log_warnx("task %" PRId64 ": crash loop: not "
				  "restarting",
			    sl->t.id);
		} else {
			sl->restart_at = now + (uint64_t)delay * 1000;
			sl->restart_reason =
			    sl->t.exit_signal != 0 ? "signal" : "exited";
			to = AGENT_LIFE_BACKOFF;
		}
	}
	/* Not to be restarted: an agent restarted later leaves it down too
	 * (a crash loop keeps wanting: a new agent tries again). */
	if (to == AGENT_LIFE_DOWN && sl->wanted) {
		sl->wanted = 0;
		ts->changed = 1;
		save(ts);
	}
	life_set(sl, to);
	/* Shown on the task while it is down. */
	end = log_end(ts, sl);
	free(sl->last_lines);
	sl->last_lines = end;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/* BACKOFF, its time come: UP, or DOWN when the start fails. */
static void
restart_due(struct agent_tasks *ts, struct agent_slot *sl)
{
	char why[1024];

	sl->restarts++;
	sl->window_restarts++;
	sl->last_restart_at = agent_now_ms();
	sl->last_restart_reason =
	    sl->restart_reason != NULL ? sl->restart_reason : "exited";
	if (start(ts, sl, why, sizeof(why))) {
		life_set(sl, AGENT_LIFE_UP);
		log_info("task %" PRId64 ": restarted, pid %d", sl->t.id,
		    (int)sl->t.pid);
	} else {
		life_set(sl, AGENT_LIFE_DOWN);
		log_warnx("task %" PRId64 ": restart failed: %s", sl->t.id,
		    why);
	}
	ts->changed = 1;
	save(ts);
}

/*
 * Drive one task: its processes (agent_task_tick()), then the state
 * machine's events in a fixed order: the processes' end, the pending
 * start's check, a planned restart; then its health check.  Lowers *next
 * to when it wants to run again.  Returns 0 when the slot at this index
 * must be driven again (on_stopped()).
 */
static int
slot_tick(struct agent_tasks *ts, struct agent_slot *sl, uint64_t now,
    int *next)
{
	int check = sl->life == AGENT_LIFE_STARTING;

	if (agent_task_tick(&sl->t)) {
		ts->changed = 1;
		switch (sl->life) {
		case AGENT_LIFE_STOPPING:
			if (sl->t.state == AGENT_TASK_STOPPED &&
			    !on_stopped(ts, sl))
				return (0);
			break;
		case AGENT_LIFE_STARTING:
		case AGENT_LIFE_UP:
			if (sl->t.state == AGENT_TASK_EXITED)
				on_ended(ts, sl, now);
			break;
		case AGENT_LIFE_DOWN:
		case AGENT_LIFE_BACKOFF:
		case AGENT_LIFE_CRASH_LOOP:
			break; /* their processes do not run */
		}
		save(ts);
	}
	/* A start answered now, whether it ended or not. */
	if (check)
		start_check(ts, sl, now);
	if (sl->life == AGENT_LIFE_BACKOFF && now >= sl->restart_at)
		restart_due(ts, sl);

	if (sl->t.state != AGENT_TASK_RUNNING) {
		sl->health = 0;
		sl->health_fails = 0;
		sl->health_next = 0;
	} else if (json_object_get(sl->t.spec, "health") != NULL &&
	    !sl->hx.busy) {
		if (sl->health_next == 0)
			sl->health_next = now + 1000; /* let it bind */
		else if (now >= sl->health_next)
			health_start(ts, sl, now);
		if (sl->health_next > now &&
		    (int64_t)(sl->health_next - now) < *next)
			*next = (int)(sl->health_next - now);
	}
	if (sl->t.state == AGENT_TASK_RUNNING ||
	    sl->t.state == AGENT_TASK_STOPPING)
		*next = 100;
	if (sl->life == AGENT_LIFE_BACKOFF && now < sl->restart_at &&
	    (int64_t)(sl->restart_at - now) < *next)
		*next = (int)(sl->restart_at - now);
	return (1);
}

/*
 * Drive every task: reap, rotate logs, then each task's state machine
 * (slot_tick()).  Returns the ms until it wants to run again.
 */
int
agent_tasks_tick(struct agent_tasks *ts)
{
	uint64_t now;
	size_t	 i;
	int	 next = 60000;

	if (ts->n == 0)
		return (next);
	for (i = 0; i < ts->n; i++)
		ts->ptrs[i] = &ts->v[i].t;
	agent_tasks_reap(ts->ptrs, ts->n);
	now = agent_mono_ms();
	if (now >= ts->log_check) {
		ts->log_check = now + AGENT_LOG_CHECK_MS;
		log_rotate_all(ts);
	}
	for (i = 0; i < ts->n; i++) {
		if (!slot_tick(ts, &ts->v[i], now, &next))
			i--; /* this index again (wraps, then back to 0) */
	}
	return (next);
}

static const char *
state_name(const struct agent_slot *sl)
{
	if (sl->life == AGENT_LIFE_CRASH_LOOP)
		return ("crash_loop");
	/* Ended by itself: with status 0 it is done, not broken. */
	if (sl->t.state == AGENT_TASK_EXITED)
		return (sl->t.exit_status == 0 ? "exited" : "failed");
	/* Failing checks before the first pass, within start_timeout, are
	 * a slow start (Tomcat deploying), not ill health. */
	if (sl->t.state == AGENT_TASK_RUNNING &&
	    json_object_get(sl->t.spec, "health") != NULL)
		return (sl->health == 1 ? "running"
			: sl->health == 2 &&
			    (sl->ever_healthy ||
				agent_mono_ms() >= sl->start_deadline)
			? "unhealthy"
			: "starting");
	return (agent_task_state_name(sl->t.state));
}

/* The port a health check asks: its own, else the kind's. */
static int64_t
health_port(const json_t *spec)
{
	const json_t *h = json_object_get(spec, "health");
	const char   *kind = json_string_value(json_object_get(spec, "kind"));

	if (json_object_get(h, "port") != NULL)
		return (json_integer_value(json_object_get(h, "port")));
	if (kind == NULL)
		return (0);
	return (json_integer_value(
	    json_object_get(json_object_get(spec, kind), "port")));
}

static void
health_start(struct agent_tasks *ts, struct agent_slot *sl, uint64_t now)
{
	const json_t *h = json_object_get(sl->t.spec, "health");
	char	      url[1200];
	int64_t	      port, timeout;

	sl->health_next = now +
	    (uint64_t)json_integer_value(json_object_get(h, "interval")) * 1000;
	if (ts->multi == NULL || (port = health_port(sl->t.spec)) <= 0)
		return;
	if (!sl->hx_ready) {
		if (!agent_xfer_init(&sl->hx))
			return;
		sl->hx_ready = 1;
	}
	timeout = json_integer_value(json_object_get(h, "timeout"));
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%" PRId64 "%s", port,
	    json_string_value(json_object_get(h, "path")));
	if (!agent_xfer_prepare(&sl->hx, url, NULL, NULL, timeout * 1000))
		return;
	if (curl_multi_add_handle(ts->multi, sl->hx.easy) != CURLM_OK) {
		agent_xfer_release(&sl->hx);
		return;
	}
	sl->hx.busy = 1;
}

/* A finished transfer: 1 when it was a health check (and is handled). */
int
agent_tasks_health_done(struct agent_tasks *ts, struct agent_xfer *x)
{
	struct agent_slot *sl;
	int64_t		   want;
	size_t		   i;
	int		   h;

	for (i = 0; i < ts->n; i++) {
		sl = &ts->v[i];
		if (!sl->hx_ready || x != &sl->hx)
			continue;
		want = json_integer_value(
		    json_object_get(json_object_get(sl->t.spec, "health"),
			"expect_status"));
		if (x->result != CURLE_OK) {
			h = 2;
			(void)snprintf(sl->health_why, sizeof(sl->health_why),
			    "%s", agent_xfer_error(x));
		} else if (x->status != want) {
			h = 2;
			(void)snprintf(sl->health_why, sizeof(sl->health_why),
			    "HTTP %ld, expected %" PRId64, x->status, want);
		} else {
			h = 1;
			sl->health_why[0] = '\0';
			if (sl->t.state == AGENT_TASK_RUNNING)
				sl->ever_healthy = 1;
		}
		if (sl->t.state != AGENT_TASK_RUNNING)
			return (1);
		/* The alerts' health_failing counts checks in a row. */
		if (h == 2 && sl->health_fails < INT32_MAX)
			sl->health_fails++;
		else if (h == 1)
			sl->health_fails = 0;
		if (h != sl->health) {
			if (h == 2 || sl->health == 2)
				log_info("task %" PRId64 ": health %s%s%s",
				    sl->t.id, h == 1 ? "ok" : "failing",
				    h == 2 ? ": " : "", sl->health_why);
			sl->health = h;
			ts->changed = 1;
		}
		return (1);
	}
	return (0);
}

/*
 * The heartbeat's reasons (docs/agent-protocol.md): last_exit,
 * last_restart, adopted_at, each only once there is one.
 */
static void
why_status(const struct agent_slot *sl, json_t *o)
{
	const char *sig;
	json_t	   *e;

	if (sl->last_exit_at > 0 && sl->last_exit_by != NULL &&
	    (e = json_pack("{s:I, s:s}", "at", (json_int_t)sl->last_exit_at,
		 "by", sl->last_exit_by)) != NULL) {
		sig = agent_os_signame(sl->last_exit_signal);
		if (sl->last_exit_signal != 0 && sig != NULL) {
			char name[32];

			(void)snprintf(name, sizeof(name), "SIG%s", sig);
			(void)json_object_set_new(e, "signal",
			    json_string(name));
		} else if (sl->last_exit_signal == 0 &&
		    sl->last_exit_status >= 0)
			(void)json_object_set_new(e, "status",
			    json_integer(sl->last_exit_status));
		(void)json_object_set_new(o, "last_exit", e);
	}
	if (sl->last_restart_at > 0 &&
	    (e = json_pack("{s:I, s:s}", "at", (json_int_t)sl->last_restart_at,
		 "reason", sl->last_restart_reason)) != NULL) {
		if (sl->crash_loop)
			(void)json_object_set_new(e, "crash_loop", json_true());
		(void)json_object_set_new(o, "last_restart", e);
	}
	if (sl->adopted_at > 0 && sl->t.state == AGENT_TASK_RUNNING)
		(void)json_object_set_new(o, "adopted_at",
		    json_integer(sl->adopted_at));
}

/* The heartbeat's "tasks": state, pid, start, CPU and memory. */
json_t *
agent_tasks_status(struct agent_tasks *ts, long hz)
{
	struct agent_slot *sl;
	struct agent_tree  tree[AGENT_TASKS_MAX];
	json_t		  *a, *o;
	double		   cpu;
	int64_t		   fds;
	uint64_t	   now = agent_mono_ms();
	size_t		   i;
	int		   scanned;

	if ((a = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < ts->n; i++)
		ts->ptrs[i] = &ts->v[i].t;
	scanned = agent_os_task_trees(ts->ptrs, ts->n, tree);
	for (i = 0; i < ts->n; i++) {
		sl = &ts->v[i];
		o = json_pack("{s:I, s:s, s:i, s:I}", "id",
		    (json_int_t)sl->t.id, "state", state_name(sl), "restarts",
		    sl->restarts, "pid", (json_int_t)sl->t.pid);
		if (o == NULL)
			continue;
		if (sl->t.state == AGENT_TASK_RUNNING && sl->t.proc.fd != -1 &&
		    agent_proc_sample(&sl->t.proc) == 1) {
			(void)json_object_set_new(o, "started_at",
			    json_integer(sl->t.started_ms));
			(void)json_object_set_new(o, "rss",
			    json_integer(sl->t.proc.rss));
			(void)json_object_set_new(o, "threads",
			    json_integer(sl->t.proc.threads));
			if ((fds = agent_os_open_files(sl->t.pid)) >= 0)
				(void)json_object_set_new(o, "fds",
				    json_integer(fds));
			cpu = agent_proc_cpu(&sl->t.proc, hz);
			if (scanned && tree[i].procs > 0) {
				/* The tree's totals replace the main's. */
				(void)json_object_set_new(o, "rss",
				    json_integer(tree[i].rss));
				(void)json_object_set_new(o, "threads",
				    json_integer(tree[i].threads));
				(void)json_object_set_new(o, "procs",
				    json_integer(tree[i].procs));
				cpu = -1;
				if (sl->tree_ms != 0 && now > sl->tree_ms &&
				    hz > 0)
					cpu = (double)(tree[i].ticks >
							  sl->tree_ticks
						      ? tree[i].ticks -
							  sl->tree_ticks
						      : 0) *
					    1000.0 / (double)hz * 100.0 /
					    (double)(now - sl->tree_ms);
				sl->tree_ticks = tree[i].ticks;
				sl->tree_ms = now;
			}
			if (cpu >= 0)
				(void)json_object_set_new(o, "cpu",
				    json_real(cpu));
		}
		if (sl->t.exit_status >= 0)
			(void)json_object_set_new(o, "exit_status",
			    json_integer(sl->t.exit_status));
		if (sl->t.state == AGENT_TASK_RUNNING && sl->health != 0)
			(void)json_object_set_new(o, "health",
			    json_string(sl->health == 1 ? "ok" : "failing"));
		(void)json_object_set_new(o, "health_fails",
		    json_integer(sl->t.state == AGENT_TASK_RUNNING
			    ? sl->health_fails
			    : 0));
		if (sl->t.state == AGENT_TASK_EXITED && sl->last_lines != NULL)
			(void)json_object_set_new(o, "last_lines",
			    json_string(sl->last_lines));
		why_status(sl, o);
		json_array_append_new(a, o);
	}
	return (a);
}

/*
 * Uninstall a stopped task: remove its files and forget it.  The result
 * (how it stopped, what was removed); the slot is gone afterwards, with
 * its pending command id kept in ts->gone_cmd for the caller.
 */
static char *
uninstall(struct agent_tasks *ts, struct agent_slot *sl, int64_t received,
    const char *how, const char *hp)
{
	const char *dir;
	char	    why[512], rdir[PATH_MAX];
	char	   *body;
	int64_t	    id = sl->t.id;
	int	    ok;

	why[0] = '\0';
	/* Remove a directory the agent made only where the policy allows a
	 * deploy directory, whatever the record says. */
	if (sl->t.created_dir && ts->policy != NULL &&
	    (dir = json_string_value(
		 json_object_get(sl->t.spec, "deploy_dir"))) != NULL &&
	    !agent_policy_dir(ts->policy, dir, ts->dir, rdir, sizeof(rdir),
		NULL, why, sizeof(why))) {
		log_warnx("task %" PRId64 ": not removing %s: %s", id, dir,
		    why);
		sl->t.created_dir = 0;
	}
	/* Removed as the task's account (agent_task_remove_files()): the
	 * policy's, when this run of the agent never started it. */
	if (sl->t.created_dir && ts->policy != NULL && !sl->t.acct.valid &&
	    !agent_policy_task(ts->policy, sl->t.spec, ts->dir, &sl->t.acct,
		rdir, sizeof(rdir), why, sizeof(why))) {
		log_warnx("task %" PRId64 ": not removing its deploy "
			  "directory: %s",
		    id, why);
		memset(&sl->t.acct, 0, sizeof(sl->t.acct));
		sl->t.created_dir = 0;
	}
	ok = agent_task_remove_files(&sl->t, ts->logdir, why, sizeof(why));
	body = ok
	    ? agent_result(1, received, "uninstalled",
		  agent_params_merge(json_pack("{s:i}", "dir_removed",
					 sl->t.created_dir ? 1 : 0),
		      hp),
		  "%s; uninstalled: logs removed%s", how,
		  sl->t.created_dir ? ", deploy directory removed"
				    : " (the deploy directory was not "
				      "created by the agent: kept)")
	    : agent_result(0, received, "uninstall_failed",
		  agent_params_merge(json_pack("{s:s}", "reason", why), hp),
		  "%s; %s", how, why);
	(void)snprintf(ts->gone_cmd, sizeof(ts->gone_cmd), "%s", sl->cmd);
	ts->gone_seq = sl->cmd_seq;
	if (ok) {
		/* Its releases went with the deploy directory, or stay with
		 * a directory the agent did not make: forgotten either way. */
		if (!agent_rel_forget(ts->dir, id))
			log_warnx("task %" PRId64 ": cannot remove its release "
				  "journal",
			    id);
		/* Its configuration (with its secrets) goes too. */
		(void)agent_config_save(ts->dir, id, NULL);
		slot_drop(ts, sl);
		log_info("task %" PRId64 ": uninstalled", id);
	} else
		sl->cmd[0] = '\0';
	save(ts);
	ts->changed = 1;
	return (body);
}

/* Forget a task (its processes are gone): compact the array. */
static void
slot_drop(struct agent_tasks *ts, struct agent_slot *sl)
{
	size_t i = (size_t)(sl - ts->v);

	if (sl->hx_ready) {
		if (sl->hx.busy && ts->multi != NULL)
			(void)curl_multi_remove_handle(ts->multi, sl->hx.easy);
		agent_xfer_cleanup(&sl->hx);
	}
	agent_task_cleanup(&sl->t);
	free(sl->last_lines);
	free(sl->cfg_pre);
	if (i != ts->n - 1)
		ts->v[i] = ts->v[ts->n - 1];
	ts->n--;
}

/* A task this agent knows, or NULL. */
const struct agent_task *
agent_tasks_find(struct agent_tasks *ts, int64_t id)
{
	struct agent_slot *sl = slot_find(ts, id);

	return (sl != NULL ? &sl->t : NULL);
}

/* Whether command id is in progress here (a stop waiting on processes). */
int
agent_tasks_pending(const struct agent_tasks *ts, const char *id)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		if (strcmp(ts->v[i].cmd, id) == 0)
			return (1);
	}
	return (0);
}

/* The highest seq of the commands in progress; 0 when none. */
int64_t
agent_tasks_pending_seq(const struct agent_tasks *ts)
{
	int64_t max = 0;
	size_t	i;

	for (i = 0; i < ts->n; i++) {
		if (ts->v[i].cmd[0] != '\0' && ts->v[i].cmd_seq > max)
			max = ts->v[i].cmd_seq;
	}
	return (max);
}

void
agent_tasks_free(struct agent_tasks *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		if (ts->v[i].hx_ready) {
			if (ts->v[i].hx.busy && ts->multi != NULL)
				(void)curl_multi_remove_handle(ts->multi,
				    ts->v[i].hx.easy);
			agent_xfer_cleanup(&ts->v[i].hx);
		}
		agent_task_cleanup(&ts->v[i].t);
		free(ts->v[i].last_lines);
		ts->v[i].last_lines = NULL;
		free(ts->v[i].cfg_pre);
		ts->v[i].cfg_pre = NULL;
	}
	ts->n = 0;
}
