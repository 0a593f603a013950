/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The release commands, deploy, update, rollback and move
 * (docs/deploy.md, "Commands on the node"): one at a time per task, in
 * the order they came (a FIFO per task; start, stop, restart and
 * uninstall fail "busy" meanwhile), each a state machine that
 * agent_deploy_tick() drives from the agent's loop:
 *
 *   begin      the node policy on deploy_dir (and a move's new one), the
 *              task's release journal (agent/release.h), what makes no
 *              sense refused (agent_deploy_decide())
 *   WORK       a worker (agent_os_worker()) downloads the package into
 *              <dir>/.staging/<sha256>.zip and stages the release
 *              (agent_rel_fetch(), agent_rel_stage()), or moves the
 *              deploy directory (agent_rel_move()); it writes progress
 *              lines and a last line with the outcome to a pipe that the
 *              loop reads without blocking
 *   STOP       the journal records pending and prev (crash safety), then
 *              the task stops gracefully (tasks.c's stop, answering
 *              nobody)
 *   switch     <dir>/current to the new release, live recorded, the task
 *              started from it
 *   WATCH      its health: the first passing check (deploy), every check
 *              for health.window seconds (update, rollback); without a
 *              check the start settle rule (console: running; jar and
 *              tomcat: still running after 5 s)
 *   success    good, last good, retention (keep_releases)
 *   failure    bad; BACK_STOP stops it; current back to the previous
 *              release, which starts again; "rolled back to release p"
 *
 * Progress goes out as running results (at most one a second per
 * command, and on every step change); the final result carries the
 * releases as the journal has them afterwards, even on failure.
 * tasks.json keeps the command in flight and its step: a restarted agent
 * puts current back, marks the pending release bad and answers it
 * (agent_deploy_recover()).
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "release.h"

#define PROGRESS_MS 1000 /* at most one running result a second */
#define PIPE_LINE   (AGENT_REL_NOTES + 1536)
#define NAME_MAX_   128

enum rstep {
	R_WAIT = 0, /* behind another release command of its task */
	R_WORK, /* the worker runs */
	R_STOP, /* the task stops before the switch (or the move) */
	R_WATCH, /* started from the new release: its health */
	R_BACK_STOP, /* failed: the new release stops */
	R_BACK_WATCH, /* failed: the previous release starts again */
	R_DONE
};

struct agent_rjob {
	struct agent_rjob	*next;
	const char		*rcode; /* result code, NULL: finish() picks */
	json_t			*rparams; /* its params (owned) */
	enum agentproto_cmd_type kind; /* UNKNOWN: restart after recovery */
	char			 id[AGENTPROTO_UUID_LEN + 1];
	int64_t			 seq;
	int64_t			 received;
	int64_t			 task_id;
	json_t			*spec; /* normalised */
	/* The payload. */
	char	sha256[65];
	char	name[NAME_MAX_];
	char	version[NAME_MAX_];
	int64_t size;
	int64_t unpacked;
	int64_t release; /* rollback; -1: the last good one */
	int	adopt;
	int	clean;
	char	newdir[PATH_MAX]; /* move: as given */
	/* Its run. */
	enum rstep		st;
	char			rdir[PATH_MAX]; /* resolved deploy_dir */
	char			rnew[PATH_MAX]; /* move: resolved new one */
	struct agent_account	acct;
	struct agent_reljournal j;
	int			jloaded;
	int64_t			n; /* the release made or gone to */
	int64_t			p; /* the live one before */
	int			switched; /* current points at n */
	int			was_running;
	pid_t			pid; /* the worker; 0 none */
	int			fd;
	char			buf[PIPE_LINE];
	size_t			blen;
	int			wdone; /* its last line came */
	int			wok;
	char			notes[AGENT_REL_NOTES];
	char			why[1024];
	/* Progress. */
	const char *step;
	int	    percent;
	const char *sent_step;
	int	    sent_percent;
	uint64_t    sent_at;
	/* Health. */
	int64_t	 run_started; /* the start's wall clock, to see a restart */
	uint64_t t0;
	uint64_t settle_at;
	uint64_t window_until;
	int	 healthy;
	uint64_t healthy_ms;
	char	*back_msg; /* R_BACK_WATCH: the failed result's text */
	char	*back_end; /* ... and the failed release's log end */
};

/* What a worker writes: one line each, the last OK or ERR. */
struct worker {
	struct agent_rjob	*job;
	const struct agent_node *node;
	int			 fd;
	char			 step[16];
	int			 percent;
};

static const char *verb(enum agentproto_cmd_type);
static int	   begin(struct agent_tasks *, struct agent_rjob *);
static void	   drive(struct agent_tasks *, struct agent_rjob *, uint64_t);
static json_t	  *reason_params(const char *, const char *);
static void	   result_code(struct agent_rjob *, const char *, json_t *);
static void finish(struct agent_tasks *, struct agent_rjob *, int, const char *,
    ...) __attribute__((format(printf, 4, 5)));
static void progress(struct agent_tasks *, struct agent_rjob *, const char *,
    int);
static void progress_flush(struct agent_tasks *, struct agent_rjob *, uint64_t);
static void step_record(struct agent_tasks *, struct agent_rjob *,
    const char *);
static int  worker_start(struct agent_tasks *, struct agent_rjob *,
     int (*)(void *, int));
static void worker_read(struct agent_tasks *, struct agent_rjob *);
static int  work_stage(void *, int);
static int  work_move(void *, int);
static void staged(struct agent_tasks *, struct agent_rjob *);
static void to_switch(struct agent_tasks *, struct agent_rjob *);
static void stopped(struct agent_tasks *, struct agent_rjob *);
static void do_switch(struct agent_tasks *, struct agent_rjob *);
static void watch(struct agent_tasks *, struct agent_rjob *, uint64_t);
static void succeed(struct agent_tasks *, struct agent_rjob *);
static void fail_back(struct agent_tasks *, struct agent_rjob *, const char *,
    ...) __attribute__((format(printf, 3, 4)));
static void back_switch(struct agent_tasks *, struct agent_rjob *);
static void moved(struct agent_tasks *, struct agent_rjob *);
static int  set_reldir(struct agent_slot *, const char *, int64_t);
static int  dir_nonempty(const char *);
static void job_free(struct agent_rjob *);

static const char *
verb(enum agentproto_cmd_type kind)
{
	switch (kind) {
	case AGENTPROTO_CMD_DEPLOY:
		return ("deploy");
	case AGENTPROTO_CMD_UPDATE:
		return ("update");
	case AGENTPROTO_CMD_ROLLBACK:
		return ("rollback");
	case AGENTPROTO_CMD_MOVE:
		return ("move");
	default:
		return ("restart");
	}
}

/* 64 lower-case hex digits. */
static int
sha256_valid(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 64)
		return (0);
	for (i = 0; i < 64; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'a' && s[i] <= 'f')))
			return (0);
	}
	return (1);
}

static int bad(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return (0);
}

/*
 * A release command's payload (the command table's validate): the task
 * as start has it, then by type "package" {"sha256" 64 lower-case hex,
 * "size" and "unpacked" integers >= 0, "name" and "version" strings},
 * "adopt" or "clean" booleans, "release" an integer >= 0, "deploy_dir"
 * an absolute path the spec would accept.  1 with *a filled, or 0 with
 * why naming the member.
 */
int
agent_deploy_validate(const struct agentproto_command *c,
    struct agent_cmd_args *a, char *why, size_t len)
{
	struct agentproto_err err;
	const json_t	     *task, *pkg, *v;
	json_t		     *spec, *norm;
	const char	     *m;

	task = json_object_get(c->payload, "task");
	a->task_id = json_integer_value(json_object_get(task, "id"));
	if (!json_is_integer(json_object_get(task, "id")) || a->task_id <= 0)
		return (bad(why, len, "task.id is missing"));
	if ((a->spec = agentproto_task_spec(json_object_get(task, "spec"),
		 &err)) == NULL)
		return (bad(why, len, "task.spec%s%s: %s",
		    err.field[0] ? "." : "", err.field, err.msg));
	switch (c->kind) {
	case AGENTPROTO_CMD_DEPLOY:
	case AGENTPROTO_CMD_UPDATE:
		pkg = json_object_get(c->payload, "package");
		if (!json_is_object(pkg))
			return (bad(why, len, "package is missing"));
		if (!sha256_valid(
			json_string_value(json_object_get(pkg, "sha256"))))
			return (bad(why, len,
			    "package.sha256 must be 64 lower-case hex "
			    "digits"));
		if (!json_is_integer(v = json_object_get(pkg, "size")) ||
		    json_integer_value(v) < 0)
			return (bad(why, len,
			    "package.size must be an integer >= 0"));
		if (!json_is_integer(v = json_object_get(pkg, "unpacked")) ||
		    json_integer_value(v) < 0)
			return (bad(why, len,
			    "package.unpacked must be an integer >= 0"));
		if ((v = json_object_get(pkg, "name")) != NULL &&
		    (!json_is_string(v) || json_string_length(v) >= NAME_MAX_))
			return (bad(why, len,
			    "package.name must be a string of at most %d "
			    "bytes",
			    NAME_MAX_ - 1));
		if ((v = json_object_get(pkg, "version")) != NULL &&
		    (!json_is_string(v) || json_string_length(v) >= NAME_MAX_))
			return (bad(why, len,
			    "package.version must be a string of at most %d "
			    "bytes",
			    NAME_MAX_ - 1));
		m = c->kind == AGENTPROTO_CMD_DEPLOY ? "adopt" : "clean";
		if ((v = json_object_get(c->payload, m)) != NULL &&
		    !json_is_boolean(v))
			return (bad(why, len, "%s must be a boolean", m));
		return (1);
	case AGENTPROTO_CMD_ROLLBACK:
		if ((v = json_object_get(c->payload, "release")) != NULL &&
		    !json_is_null(v) &&
		    (!json_is_integer(v) || json_integer_value(v) < 0))
			return (
			    bad(why, len, "release must be an integer >= 0"));
		return (1);
	case AGENTPROTO_CMD_MOVE:
		v = json_object_get(c->payload, "deploy_dir");
		if (!json_is_string(v))
			return (bad(why, len, "deploy_dir is missing"));
		/* The new directory as a spec would have it (the task's
		 * spec keeps the old one until the move is done). */
		if ((spec = json_deep_copy(a->spec)) == NULL ||
		    json_object_set(spec, "deploy_dir",
			(json_t *)(uintptr_t)v) == -1) {
			json_decref(spec);
			return (bad(why, len, "out of memory"));
		}
		norm = agentproto_task_spec(spec, &err);
		json_decref(spec);
		if (norm != NULL) {
			json_decref(norm);
			return (1);
		}
		if (strcmp(err.field, "deploy_dir") == 0)
			return (bad(why, len, "deploy_dir: %s", err.msg));
		return (bad(why, len, "task.spec%s%s: %s",
		    err.field[0] ? "." : "", err.field, err.msg));
	default:
		return (bad(why, len, "not a release command"));
	}
}

/*
 * The decision table: what a command asks, against the task's journal j
 * (see agent.h).  deploy: nothing live, and deploy_dir empty of other
 * files unless adopt; update: something live; rollback: a kept release
 * that is neither live nor bad (absent: the newest good one other than
 * live); move: always.
 */
int
agent_deploy_decide(enum agentproto_cmd_type kind,
    const struct agent_reljournal *j, int nonempty, int adopt, int64_t release,
    int64_t *target, char *why, size_t len)
{
	const struct agent_rel *r = NULL;
	size_t			i;

	*target = -1;
	switch (kind) {
	case AGENTPROTO_CMD_DEPLOY:
		if (j->live >= 0)
			return (bad(why, len,
			    "release %" PRId64 " is live: "
			    "use update",
			    j->live));
		if (nonempty && !adopt)
			return (bad(why, len,
			    "%s is not empty: deploy with adopt to take its "
			    "files over",
			    j->dir));
		return (1);
	case AGENTPROTO_CMD_UPDATE:
		if (j->live < 0)
			return (
			    bad(why, len, "nothing is deployed: use deploy"));
		return (1);
	case AGENTPROTO_CMD_ROLLBACK:
		if (release >= 0) {
			for (i = 0; i < j->nrel; i++) {
				if (j->v[i].n == release)
					r = &j->v[i];
			}
			if (r == NULL)
				return (bad(why, len,
				    "release %" PRId64 " is not kept",
				    release));
			if (release == j->live)
				return (bad(why, len,
				    "release %" PRId64 " is already live",
				    release));
			if (r->bad)
				return (bad(why, len,
				    "release %" PRId64 " is marked bad "
				    "(it failed its start or health window)",
				    release));
			*target = release;
			return (1);
		}
		for (i = 0; i < j->nrel; i++) {
			if (j->v[i].good && !j->v[i].bad &&
			    j->v[i].n != j->live && j->v[i].n > *target)
				*target = j->v[i].n;
		}
		if (*target < 0)
			return (bad(why, len, "no release to roll back to"));
		return (1);
	case AGENTPROTO_CMD_MOVE:
		return (1);
	default:
		return (bad(why, len, "not a release command"));
	}
}

/* mkdir -p, mode 0755: 1, or 0 with errno. */
static int
mkdirs(const char *path)
{
	char   buf[PATH_MAX];
	size_t i, n;

	n = strlen(path);
	if (n == 0 || n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return (0);
	}
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return (0);
		buf[i] = path[i];
	}
	return (1);
}

/* Whether dir holds anything but a release layout (absent: no). */
static int
dir_nonempty(const char *dir)
{
	static const char *const layout[] = { ".", "..", AGENT_REL_DIR,
		AGENT_REL_SHARED, AGENT_REL_CURRENT, AGENT_REL_STAGING };
	struct dirent		*de;
	DIR			*d;
	size_t			 i;
	int			 other = 0;

	if ((d = opendir(dir)) == NULL)
		return (errno != ENOENT);
	while (!other && (de = readdir(d)) != NULL) {
		other = 1;
		for (i = 0; i < sizeof(layout) / sizeof(layout[0]); i++) {
			if (strcmp(de->d_name, layout[i]) == 0)
				other = 0;
		}
	}
	(void)closedir(d);
	return (other);
}

static struct agent_rjob *
job_first(const struct agent_tasks *ts, int64_t task_id)
{
	struct agent_rjob *j;

	for (j = ts->rjobs; j != NULL; j = j->next) {
		if (j->task_id == task_id && j->st != R_DONE)
			return (j);
	}
	return (NULL);
}

int
agent_deploy_busy(const struct agent_tasks *ts, int64_t task_id)
{
	return (job_first(ts, task_id) != NULL);
}

int
agent_deploy_pending(const struct agent_tasks *ts, const char *id)
{
	struct agent_rjob *j;

	for (j = ts->rjobs; j != NULL; j = j->next) {
		if (j->st != R_DONE && j->id[0] != '\0' &&
		    strcmp(j->id, id) == 0)
			return (1);
	}
	return (0);
}

int64_t
agent_deploy_pending_seq(const struct agent_tasks *ts)
{
	struct agent_rjob *j;
	int64_t		   max = 0;

	for (j = ts->rjobs; j != NULL; j = j->next) {
		if (j->st != R_DONE && j->id[0] != '\0' && j->seq > max)
			max = j->seq;
	}
	return (max);
}

static void
job_append(struct agent_tasks *ts, struct agent_rjob *job)
{
	struct agent_rjob **pp;

	for (pp = &ts->rjobs; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = job;
}

static struct agent_rjob *
job_new(enum agentproto_cmd_type kind, int64_t task_id, const json_t *spec)
{
	struct agent_rjob *job;

	if ((job = calloc(1, sizeof(*job))) == NULL)
		return (NULL);
	job->kind = kind;
	job->task_id = task_id;
	job->spec = json_incref((json_t *)(uintptr_t)spec);
	job->release = -1;
	job->n = job->p = -1;
	job->fd = -1;
	job->percent = -1;
	job->j.live = job->j.last_good = job->j.pending = job->j.prev = -1;
	return (job);
}

static void
job_free(struct agent_rjob *job)
{
	if (job->pid > 0)
		agent_os_worker_kill(job->pid);
	if (job->fd != -1)
		(void)close(job->fd);
	json_decref(job->spec);
	free(job->back_msg);
	free(job->back_end);
	json_decref(job->rparams);
	free(job);
}

/*
 * A release command (validated: agent_deploy_validate()) joins its
 * task's queue and begins when it is the first.  Returns 0: its result
 * comes through ts->done (1 with *body only when it cannot be queued).
 */
int
agent_deploy_command(struct agent_tasks *ts, const struct agentproto_command *c,
    int64_t id, const json_t *spec, int64_t received, char **body)
{
	struct agent_rjob *job;
	const json_t	  *pkg = json_object_get(c->payload, "package");
	const char	  *s;
	int		   first;

	if ((job = job_new(c->kind, id, spec)) == NULL) {
		*body = agent_result(0, received, "release_failed",
		    json_pack("{s:s}", "reason", "out of memory"),
		    "%s failed: out of memory", verb(c->kind));
		return (1);
	}
	(void)snprintf(job->id, sizeof(job->id), "%s", c->id);
	job->seq = c->seq;
	job->received = received;
	if (pkg != NULL) {
		(void)snprintf(job->sha256, sizeof(job->sha256), "%s",
		    json_string_value(json_object_get(pkg, "sha256")));
		job->size = json_integer_value(json_object_get(pkg, "size"));
		job->unpacked =
		    json_integer_value(json_object_get(pkg, "unpacked"));
		s = json_string_value(json_object_get(pkg, "name"));
		(void)snprintf(job->name, sizeof(job->name), "%s",
		    s != NULL ? s : "");
		s = json_string_value(json_object_get(pkg, "version"));
		(void)snprintf(job->version, sizeof(job->version), "%s",
		    s != NULL ? s : "");
	}
	job->adopt = json_is_true(json_object_get(c->payload, "adopt"));
	job->clean = json_is_true(json_object_get(c->payload, "clean"));
	if (json_is_integer(json_object_get(c->payload, "release")))
		job->release =
		    json_integer_value(json_object_get(c->payload, "release"));
	if (c->kind == AGENTPROTO_CMD_MOVE)
		(void)snprintf(job->newdir, sizeof(job->newdir), "%s",
		    json_string_value(
			json_object_get(c->payload, "deploy_dir")));
	first = !agent_deploy_busy(ts, id);
	job_append(ts, job);
	if (first)
		(void)begin(ts, job);
	else
		log_info("task %" PRId64 ": %s %s waits for the release "
			 "command before it",
		    id, verb(c->kind), c->id);
	*body = NULL;
	return (0);
}

/* The release's directory as the task's place to run (-1: none). */
static int
set_reldir(struct agent_slot *sl, const char *dir, int64_t n)
{
	char path[PATH_MAX];

	if (n < 0)
		return (agent_task_set_reldir(&sl->t, NULL));
	if (!agent_rel_path(dir, n, path, sizeof(path)))
		return (0);
	return (agent_task_set_reldir(&sl->t, path));
}

/* The journal, saved; on failure logged and *why said. */
static int
jsave(struct agent_tasks *ts, struct agent_rjob *job)
{
	char why[512];

	if (agent_rel_save(ts->dir, &job->j, why, sizeof(why)))
		return (1);
	log_warnx("task %" PRId64 ": %s", job->task_id, why);
	(void)snprintf(job->why, sizeof(job->why), "%s", why);
	return (0);
}

static struct agent_rel *
rel_add(struct agent_rjob *job, int64_t n, const char *sha256)
{
	struct agent_rel *r;

	if ((r = agent_rel_find(&job->j, n)) != NULL)
		return (r);
	if (job->j.nrel == AGENT_REL_MAX)
		return (NULL);
	r = &job->j.v[job->j.nrel++];
	memset(r, 0, sizeof(*r));
	r->n = n;
	(void)snprintf(r->sha256, sizeof(r->sha256), "%s", sha256);
	r->deployed_at = agent_now_ms();
	(void)snprintf(r->cmd, sizeof(r->cmd), "%s", job->id);
	if (n >= job->j.next)
		job->j.next = n + 1;
	return (r);
}

/*
 * First of its task: the policy, the journal, the decision; then the
 * worker (deploy, update), the stop (move) or the switch (rollback).
 * Returns 1 while it goes on, 0 when it is answered.
 */
static int
begin(struct agent_tasks *ts, struct agent_rjob *job)
{
	struct agent_slot *sl;
	const char	  *dir, *v = verb(job->kind);
	char		   why[1024];
	int64_t		   target;
	int		   fd = -1, made;

	sl = agent_tasks_slot(ts, job->task_id, NULL);
	/* A restart after recovery: stop, then start from the live one. */
	if (job->kind == AGENTPROTO_CMD_UNKNOWN) {
		if (sl == NULL) {
			job->st = R_DONE;
			return (0);
		}
		job->was_running = 1;
		job->st = agent_tasks_rel_stop(ts, sl) ? R_STOP : R_WAIT;
		if (job->st == R_WAIT)
			stopped(ts, job);
		return (job->st != R_DONE);
	}
	log_info("task %" PRId64 ": %s %s begins", job->task_id, v, job->id);
	dir = json_string_value(json_object_get(job->spec, "deploy_dir"));
	if (ts->policy != NULL) {
		if (sl == NULL && (int64_t)ts->n >= ts->policy->p.tasks) {
			finish(ts, job, 0,
			    "%s failed: policy: this node already has %zu "
			    "tasks (limits.tasks %" PRId64 ")",
			    v, ts->n, ts->policy->p.tasks);
			return (0);
		}
		if (!agent_policy_task(ts->policy, job->spec, ts->dir,
			&job->acct, job->rdir, sizeof(job->rdir), why,
			sizeof(why))) {
			finish(ts, job, 0, "%s failed: %s", v, why);
			return (0);
		}
		if (job->kind == AGENTPROTO_CMD_MOVE &&
		    !agent_policy_dir(ts->policy, job->newdir, ts->dir,
			job->rnew, sizeof(job->rnew), NULL, why, sizeof(why))) {
			finish(ts, job, 0, "%s failed: %s", v, why);
			return (0);
		}
	} else {
		if (!agent_path_resolve(dir, job->rdir, sizeof(job->rdir)))
			(void)snprintf(job->rdir, sizeof(job->rdir), "%s", dir);
		if (job->kind == AGENTPROTO_CMD_MOVE &&
		    !agent_path_resolve(job->newdir, job->rnew,
			sizeof(job->rnew)))
			(void)snprintf(job->rnew, sizeof(job->rnew), "%s",
			    job->newdir);
	}
	if (!agent_rel_load(ts->dir, job->task_id, &job->j, why, sizeof(why))) {
		finish(ts, job, 0, "%s failed: %s", v, why);
		return (0);
	}
	job->jloaded = 1;
	job->j.task_id = job->task_id;
	if (job->j.dir[0] != '\0' && strcmp(job->j.dir, job->rdir) != 0 &&
	    job->j.nrel > 0) {
		finish(ts, job, 0,
		    "%s failed: the task's releases are in %s, not in %s: "
		    "move it there",
		    v, job->j.dir, job->rdir);
		return (0);
	}
	(void)snprintf(job->j.dir, sizeof(job->j.dir), "%s", job->rdir);
	if (!agent_deploy_decide(job->kind, &job->j,
		job->kind == AGENTPROTO_CMD_DEPLOY && dir_nonempty(job->rdir),
		job->adopt, job->release, &target, why, sizeof(why))) {
		finish(ts, job, 0, "%s failed: %s", v, why);
		return (0);
	}
	if (job->kind == AGENTPROTO_CMD_MOVE) {
		if (strcmp(job->rnew, job->rdir) == 0) {
			finish(ts, job, 0,
			    "%s failed: the task is already in %s", v,
			    job->rdir);
			return (0);
		}
		if (access(job->rnew, F_OK) == 0 || errno != ENOENT) {
			finish(ts, job, 0, "%s failed: %s already exists", v,
			    job->newdir);
			return (0);
		}
		if (agent_path_inside(job->rnew, job->rdir)) {
			finish(ts, job, 0, "%s failed: %s lies inside %s", v,
			    job->newdir, job->rdir);
			return (0);
		}
	}
	if ((sl = agent_tasks_slot(ts, job->task_id, job->spec)) == NULL) {
		finish(ts, job, 0, "%s failed: too many tasks on this node", v);
		return (0);
	}
	/* Recorded for a restarted agent (agent_deploy_recover()). */
	(void)snprintf(sl->rel_cmd, sizeof(sl->rel_cmd), "%s", job->id);
	sl->rel_seq = job->seq;
	sl->rel_received = job->received;
	sl->rel_kind = (int)job->kind;
	sl->rel_step[0] = '\0';
	job->was_running = sl->t.state == AGENT_TASK_RUNNING ||
	    sl->t.state == AGENT_TASK_STOPPING;
	job->p = job->j.live;

	switch (job->kind) {
	case AGENTPROTO_CMD_DEPLOY:
	case AGENTPROTO_CMD_UPDATE:
		/* The deploy directory, made as start makes it. */
		made = access(job->rdir, F_OK) == -1 && errno == ENOENT;
		if (made) {
			if (!mkdirs(job->rdir)) {
				finish(ts, job, 0,
				    "%s failed: cannot create %s: %s", v,
				    job->rdir, strerror(errno));
				return (0);
			}
			sl->t.created_dir = 1;
			if (job->acct.valid && job->acct.change &&
			    ((fd = open(job->rdir,
				  O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				      O_CLOEXEC)) == -1 ||
				fchown(fd, job->acct.uid, job->acct.gid) == -1))
				log_warn("task %" PRId64 ": %s", job->task_id,
				    job->rdir);
			if (fd != -1)
				(void)close(fd);
		}
		job->n = job->j.next > 0 ? job->j.next : 1;
		(void)agent_tasks_save(ts);
		progress(ts, job, "download", 0);
		if (!worker_start(ts, job, work_stage))
			return (0);
		return (1);
	case AGENTPROTO_CMD_ROLLBACK:
		job->n = target;
		(void)agent_tasks_save(ts);
		to_switch(ts, job);
		return (job->st != R_DONE);
	case AGENTPROTO_CMD_MOVE:
		(void)agent_tasks_save(ts);
		progress(ts, job, "stop", -1);
		if (agent_tasks_rel_stop(ts, sl)) {
			job->st = R_STOP;
			return (1);
		}
		stopped(ts, job);
		return (job->st != R_DONE);
	default:
		finish(ts, job, 0, "not a release command");
		return (0);
	}
}

/* Start fn in a worker, reading its pipe: R_WORK, or answered. */
static int
worker_start(struct agent_tasks *ts, struct agent_rjob *job,
    int (*fn)(void *, int))
{
	struct worker w;

	memset(&w, 0, sizeof(w));
	w.job = job;
	w.node = ts->node;
	w.percent = -2;
	job->blen = 0;
	job->wdone = job->wok = 0;
	job->notes[0] = '\0';
	if ((job->pid = agent_os_worker(fn, &w, &job->fd)) == -1) {
		job->pid = 0;
		job->fd = -1;
		if (job->kind == AGENTPROTO_CMD_MOVE)
			fail_back(ts, job, "cannot start a worker: %s",
			    strerror(errno));
		else
			finish(ts, job, 0,
			    "%s failed: cannot start a worker: %s",
			    verb(job->kind), strerror(errno));
		return (0);
	}
	job->st = R_WORK;
	return (1);
}

/* In the worker: a progress line when the step or the percentage moved. */
static void
work_progress(void *arg, const char *step, int percent)
{
	struct worker *w = arg;

	if (strcmp(w->step, step) == 0 && w->percent == percent)
		return;
	(void)snprintf(w->step, sizeof(w->step), "%s", step);
	w->percent = percent;
	(void)dprintf(w->fd, "P %s %d\n", w->step, percent);
}

/* In the worker: the last line, newlines kept as 0x1f. */
static int
work_end(struct worker *w, int ok, const char *text)
{
	char   buf[PIPE_LINE];
	size_t i;

	(void)snprintf(buf, sizeof(buf), "%s", text);
	for (i = 0; buf[i] != '\0'; i++) {
		if (buf[i] == '\n')
			buf[i] = 0x1f;
	}
	(void)dprintf(w->fd, "%s %s\n", ok ? "OK" : "ERR", buf);
	return (ok ? 0 : 1);
}

/* In the worker: download the package, stage the release. */
static int
work_stage(void *arg, int fd)
{
	struct worker	  *w = arg;
	struct agent_rjob *job = w->job;
	json_t		  *spec;
	char		   staging[PATH_MAX], part[PATH_MAX], rel[PATH_MAX];
	char		   why[PATH_MAX + 512], prog[PATH_MAX], *jobarg;

	w->fd = fd;
	if (snprintf(staging, sizeof(staging), "%s/%s", job->rdir,
		AGENT_REL_STAGING) >= (int)sizeof(staging) ||
	    snprintf(part, sizeof(part), "%s/%s.zip", staging, job->sha256) >=
		(int)sizeof(part))
		return (work_end(w, 0,
		    "the deploy directory's path is too "
		    "long"));
	if (mkdir(staging, 0700) == -1 && errno != EEXIST) {
		(void)snprintf(why, sizeof(why), "cannot create %s: %s",
		    staging, strerror(errno));
		return (work_end(w, 0, why));
	}
	if (w->node == NULL)
		return (work_end(w, 0,
		    "not enrolled: no server to download "
		    "from"));
	/* A release dir the journal does not know (an agent that died
	 * between staging and journaling it) is not one: it goes. */
	if (agent_rel_path(job->rdir, job->n, rel, sizeof(rel)) &&
	    access(rel, F_OK) == 0 && !agent_os_remove_tree(NULL, rel)) {
		(void)snprintf(why, sizeof(why), "cannot remove %s: %s", rel,
		    strerror(errno));
		return (work_end(w, 0, why));
	}
	work_progress(w, "download", 0);
	if (!agent_rel_fetch(w->node->server, w->node->node_id, w->node->secret,
		job->sha256, job->size, part, work_progress, w, why,
		sizeof(why)))
		return (work_end(w, 0, why));
	/* The release is built by the stage program: libarchive and the zip
	 * reader never load into the agent (agent/stage_main.c). */
	spec = json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:b, s:I, s:I, s:I, "
			 "s:O}",
	    "kind", job->kind == AGENTPROTO_CMD_DEPLOY ? "deploy" : "update",
	    "dir", job->rdir, "zip", part, "n", (json_int_t)job->n, "live",
	    (json_int_t)(job->kind == AGENTPROTO_CMD_DEPLOY && job->adopt &&
			dir_nonempty(job->rdir)
		    ? 0
		    : job->p),
	    "adopt_first",
	    job->kind == AGENTPROTO_CMD_DEPLOY && job->adopt &&
		dir_nonempty(job->rdir),
	    "clean", job->clean, "need", (json_int_t)job->unpacked, "uid",
	    (json_int_t)(job->acct.valid && job->acct.change ? job->acct.uid
							     : (uid_t)-1),
	    "gid",
	    (json_int_t)(job->acct.valid && job->acct.change ? job->acct.gid
							     : (gid_t)-1),
	    "spec", job->spec);
	if (spec == NULL || (jobarg = json_dumps(spec, JSON_COMPACT)) == NULL) {
		json_decref(spec);
		return (work_end(w, 0, "out of memory"));
	}
	json_decref(spec);
	work_progress(w, "unpack", 0);
	(void)agent_os_exec_stage(jobarg, fd, prog, sizeof(prog));
	(void)snprintf(why, sizeof(why), "cannot run %s: %s", prog,
	    strerror(errno));
	free(jobarg);
	(void)unlink(part);
	return (work_end(w, 0, why));
}

/* In the worker: move the deploy directory. */
static int
work_move(void *arg, int fd)
{
	struct worker *w = arg;
	char	       why[1024];

	w->fd = fd;
	work_progress(w, "move", -1);
	if (!agent_rel_move(w->job->rdir, w->job->rnew, work_progress, w, why,
		sizeof(why)))
		return (work_end(w, 0, why));
	return (work_end(w, 1, ""));
}

/* What the worker wrote since the last look; its end. */
static void
worker_read(struct agent_tasks *ts, struct agent_rjob *job)
{
	char   *nl, *line, step[16];
	ssize_t n;
	size_t	i;
	int	pct;

	for (;;) {
		if (job->blen == sizeof(job->buf) - 1)
			job->blen = 0; /* a line too long: dropped */
		n = read(job->fd, job->buf + job->blen,
		    sizeof(job->buf) - 1 - job->blen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return; /* EAGAIN: nothing more yet */
		if (n == 0)
			break; /* its end */
		job->blen += (size_t)n;
		job->buf[job->blen] = '\0';
		while ((nl = strchr(job->buf, '\n')) != NULL) {
			*nl = '\0';
			line = job->buf;
			if (sscanf(line, "P %15s %d", step, &pct) == 2) {
				if (strcmp(step, "download") == 0 ||
				    strcmp(step, "check") == 0 ||
				    strcmp(step, "unpack") == 0 ||
				    strcmp(step, "move") == 0 ||
				    strcmp(step, "copy") == 0)
					progress(ts, job,
					    strcmp(step, "download") == 0
						? "download"
						: strcmp(step, "check") == 0
						? "check"
						: strcmp(step, "unpack") == 0
						? "unpack"
						: strcmp(step, "move") == 0
						? "move"
						: "copy",
					    pct < -1 || pct > 100 ? -1 : pct);
			} else if (strncmp(line, "OK ", 3) == 0 ||
			    strncmp(line, "ERR ", 4) == 0) {
				job->wdone = 1;
				job->wok = line[0] == 'O';
				(void)snprintf(job->wok ? job->notes : job->why,
				    job->wok ? sizeof(job->notes)
					     : sizeof(job->why),
				    "%s", line + (job->wok ? 3 : 4));
			}
			memmove(job->buf, nl + 1, strlen(nl + 1) + 1);
			job->blen = strlen(job->buf);
		}
	}
	/* EOF: the worker ended (agent_os_reap() collects it). */
	(void)close(job->fd);
	job->fd = -1;
	job->pid = 0;
	if (!job->wdone) {
		job->wok = 0;
		(void)snprintf(job->why, sizeof(job->why),
		    "the worker ended without an answer");
	}
	for (i = 0; job->notes[i] != '\0'; i++) {
		if (job->notes[i] == 0x1f)
			job->notes[i] = '\n';
	}
	for (i = 0; job->why[i] != '\0'; i++) {
		if (job->why[i] == 0x1f)
			job->why[i] = '\n';
	}
	if (job->kind == AGENTPROTO_CMD_MOVE)
		moved(ts, job);
	else
		staged(ts, job);
}

/* Deploy, update: the worker staged release n (or failed). */
static void
staged(struct agent_tasks *ts, struct agent_rjob *job)
{
	char path[PATH_MAX];

	/* Staged or not, nothing of it is left to keep. */
	agent_rel_clean_staging(job->rdir);
	if (!job->wok) {
		finish(ts, job, 0, "%s failed: %s", verb(job->kind), job->why);
		return;
	}
	/* adopt moved what was there into release 0. */
	if (job->kind == AGENTPROTO_CMD_DEPLOY && job->adopt &&
	    agent_rel_find(&job->j, 0) == NULL &&
	    agent_rel_path(job->rdir, 0, path, sizeof(path)) &&
	    access(path, F_OK) == 0)
		(void)rel_add(job, 0, "");
	if (rel_add(job, job->n, job->sha256) == NULL) {
		finish(ts, job, 0, "%s failed: the journal is full",
		    verb(job->kind));
		return;
	}
	to_switch(ts, job);
}

/*
 * The journal records pending and prev before anything moves (crash
 * safety); then the task stops (R_STOP) or, not running, switches.
 */
static void
to_switch(struct agent_tasks *ts, struct agent_rjob *job)
{
	struct agent_slot *sl = agent_tasks_slot(ts, job->task_id, NULL);

	job->j.pending = job->n;
	job->j.prev = job->j.live;
	if (!jsave(ts, job)) {
		job->j.pending = job->j.prev = -1;
		finish(ts, job, 0, "%s failed: %s", verb(job->kind), job->why);
		return;
	}
	progress(ts, job, "stop", -1);
	if (sl != NULL && agent_tasks_rel_stop(ts, sl)) {
		job->st = R_STOP;
		return;
	}
	stopped(ts, job);
}

/* The task is down: switch (or move). */
static void
stopped(struct agent_tasks *ts, struct agent_rjob *job)
{
	struct agent_slot *sl = agent_tasks_slot(ts, job->task_id, NULL);
	char		   why[1024];

	switch (job->kind) {
	case AGENTPROTO_CMD_MOVE:
		progress(ts, job, "move", -1);
		(void)worker_start(ts, job, work_move);
		return;
	case AGENTPROTO_CMD_UNKNOWN:
		/* After recovery: from the live release again (none: it
		 * stays down). */
		if (sl != NULL && sl->t.reldir == NULL) {
			sl->wanted = 0;
			(void)agent_tasks_save(ts);
		} else if (sl != NULL &&
		    !agent_tasks_rel_start(ts, sl, why, sizeof(why)))
			log_warnx("task %" PRId64 ": start after recovery "
				  "failed: %s",
			    job->task_id, why);
		job->st = R_DONE;
		return;
	default:
		do_switch(ts, job);
	}
}

static void
do_switch(struct agent_tasks *ts, struct agent_rjob *job)
{
	struct agent_slot   *sl = agent_tasks_slot(ts, job->task_id, NULL);
	struct agent_rel_job pj;
	const json_t	    *h;
	const char	    *kind;
	char		     why[1024], path[PATH_MAX];

	why[0] = '\0';
	progress(ts, job, "switch", -1);
	/*
	 * What the program wrote to its preserved files while the release
	 * was built (it ran until now) goes into the new release too.
	 */
	if (job->kind != AGENTPROTO_CMD_ROLLBACK && job->p >= 0) {
		memset(&pj, 0, sizeof(pj));
		pj.kind = job->kind;
		pj.dir = job->rdir;
		pj.spec = job->spec;
		pj.n = job->n;
		pj.live = job->p;
		if (agent_rel_preserve_again(&pj, why, sizeof(why)) == -1) {
			fail_back(ts, job, "%s", why);
			return;
		}
	}
	/* The configuration goes into the new release while the live one
	 * is still live: a failure leaves it as it was. */
	if (sl != NULL &&
	    (!agent_rel_path(job->rdir, job->n, path, sizeof(path)) ||
		!agent_tasks_config_pre(ts, sl, path, why, sizeof(why)))) {
		fail_back(ts, job, "start failed: %s", why);
		return;
	}
	if (!agent_rel_switch(job->rdir, job->n, why, sizeof(why))) {
		fail_back(ts, job, "%s", why);
		return;
	}
	job->switched = 1;
	job->j.live = job->n;
	if (!jsave(ts, job)) {
		fail_back(ts, job, "%s", job->why);
		return;
	}
	if (sl == NULL || !set_reldir(sl, job->rdir, job->n)) {
		fail_back(ts, job, "out of memory");
		return;
	}
	progress(ts, job, "start", -1);
	if (!agent_tasks_rel_start(ts, sl, why, sizeof(why))) {
		fail_back(ts, job, "start failed: %s", why);
		return;
	}
	job->run_started = sl->t.started_ms;
	job->t0 = agent_mono_ms();
	job->healthy = 0;
	h = json_object_get(sl->t.spec, "health");
	kind = json_string_value(json_object_get(sl->t.spec, "kind"));
	job->settle_at = job->t0 +
	    (h == NULL && kind != NULL && strcmp(kind, "console") != 0
		    ? AGENT_START_SETTLE_MS
		    : 0);
	job->st = R_WATCH;
	progress(ts, job, "health", -1);
}

/*
 * R_WATCH: the new release's health.  With a check, healthy first
 * (within health.start_timeout), then for an update or a rollback every
 * check passes for health.window seconds; without one, the start settle
 * rule.  A run that ended (or was restarted by its restart policy)
 * fails it.
 */
static void
watch(struct agent_tasks *ts, struct agent_rjob *job, uint64_t now)
{
	struct agent_slot *sl = agent_tasks_slot(ts, job->task_id, NULL);
	const json_t	  *h;
	int64_t		   window, limit;
	int		   ended;

	if (sl == NULL) {
		fail_back(ts, job, "the task is gone");
		return;
	}
	h = json_object_get(sl->t.spec, "health");
	window = json_integer_value(json_object_get(h, "window"));
	limit = json_integer_value(json_object_get(h, "start_timeout"));
	ended = sl->t.state != AGENT_TASK_RUNNING ||
	    sl->life != AGENT_LIFE_UP || sl->t.started_ms != job->run_started;
	if (h == NULL) {
		if (ended) {
			fail_back(ts, job,
			    "it ended (exit status %d) within %d s",
			    sl->t.exit_status, AGENT_START_SETTLE_MS / 1000);
			return;
		}
		if (now >= job->settle_at)
			succeed(ts, job);
		return;
	}
	if (!job->healthy) {
		if (ended) {
			fail_back(ts, job,
			    "it ended (exit status %d) before its health "
			    "check passed",
			    sl->t.exit_status);
			return;
		}
		if (sl->health == 1 && sl->ever_healthy) {
			job->healthy = 1;
			job->healthy_ms = now - job->t0;
			job->window_until = now + (uint64_t)window * 1000;
			if (job->kind == AGENTPROTO_CMD_DEPLOY || window == 0) {
				succeed(ts, job);
				return;
			}
			return;
		}
		if (now >= sl->start_deadline)
			fail_back(ts, job,
			    "not healthy within %" PRId64 " s (%s)", limit,
			    sl->health_why[0] ? sl->health_why
					      : "no answer yet");
		return;
	}
	if (ended) {
		fail_back(ts, job,
		    "it ended (exit status %d) during its %" PRId64
		    " s health window",
		    sl->t.exit_status, window);
		return;
	}
	if (sl->health == 2) {
		fail_back(ts, job,
		    "its health check failed during its %" PRId64
		    " s window: %s",
		    window, sl->health_why);
		return;
	}
	if (now >= job->window_until)
		succeed(ts, job);
}

/* The new release proved itself: good, retention, answered. */
static void
succeed(struct agent_tasks *ts, struct agent_rjob *job)
{
	struct agent_slot *sl = agent_tasks_slot(ts, job->task_id, NULL);
	struct agent_rel  *r;
	const json_t	  *h =
		 sl != NULL ? json_object_get(sl->t.spec, "health") : NULL;
	char	how[448], why[512];
	int64_t keep;
	int	pid = sl != NULL ? (int)sl->t.pid : 0;
	json_t *pj;

	if ((r = agent_rel_find(&job->j, job->n)) != NULL) {
		r->good = 1;
		r->bad = 0;
	}
	job->j.last_good = job->n;
	job->j.pending = job->j.prev = -1;
	keep = sl != NULL
	    ? json_integer_value(json_object_get(sl->t.spec, "keep_releases"))
	    : 5;
	if (keep < 1)
		keep = 5;
	if (agent_rel_prune(&job->j, (int)keep, why, sizeof(why)) == -1)
		log_warnx("task %" PRId64 ": retention: %s", job->task_id, why);
	(void)jsave(ts, job);
	if (h == NULL)
		(void)snprintf(how, sizeof(how), "%s",
		    job->settle_at > job->t0 ? "; still running after 5 s"
					     : "");
	else if (job->kind == AGENTPROTO_CMD_DEPLOY ||
	    json_integer_value(json_object_get(h, "window")) == 0)
		(void)snprintf(how, sizeof(how),
		    "; healthy after %" PRIu64 " ms", job->healthy_ms);
	else
		(void)snprintf(how, sizeof(how),
		    "; healthy after %" PRIu64 " ms and for %" PRId64 " s",
		    job->healthy_ms,
		    (int64_t)json_integer_value(json_object_get(h, "window")));
	/* The same as parameters, with the configuration's. */
	pj = json_pack("{s:I, s:s, s:s, s:i}", "release", (json_int_t)job->n,
	    "name", job->name, "version", job->version, "pid", pid);
	if (pj != NULL && h == NULL && job->settle_at > job->t0)
		(void)json_object_set_new(pj, "settle_s", json_integer(5));
	else if (pj != NULL && h != NULL) {
		(void)json_object_set_new(pj, "healthy_ms",
		    json_integer((json_int_t)job->healthy_ms));
		if (job->kind != AGENTPROTO_CMD_DEPLOY &&
		    json_integer_value(json_object_get(h, "window")) != 0)
			(void)json_object_set_new(pj, "window_s",
			    json_integer(json_integer_value(
				json_object_get(h, "window"))));
	}
	if (pj != NULL && sl != NULL)
		pj = agent_params_merge(pj, sl->cfg_params);
	result_code(job,
	    job->kind == AGENTPROTO_CMD_DEPLOY	     ? "deployed"
		: job->kind == AGENTPROTO_CMD_UPDATE ? "updated"
						     : "rolled_back",
	    pj);
	/* What the configuration did ("config v3 applied: ..."). */
	if (sl != NULL && sl->cfg_note[0] != '\0' &&
	    strlen(how) + strlen(sl->cfg_note) + 3 < sizeof(how))
		(void)snprintf(how + strlen(how), sizeof(how) - strlen(how),
		    "; %s", sl->cfg_note);
	switch (job->kind) {
	case AGENTPROTO_CMD_DEPLOY:
		finish(ts, job, 1,
		    "deployed release %" PRId64
		    " (%s %s); started, pid %d%s%s%s",
		    job->n, job->name, job->version, pid, how,
		    job->notes[0] ? "\n" : "", job->notes);
		break;
	case AGENTPROTO_CMD_UPDATE:
		finish(ts, job, 1,
		    "updated to release %" PRId64
		    " (%s %s); started, pid %d%s%s%s",
		    job->n, job->name, job->version, pid, how,
		    job->notes[0] ? "\n" : "", job->notes);
		break;
	default:
		finish(ts, job, 1,
		    "rolled back to release %" PRId64 "; started, pid %d%s",
		    job->n, pid, how);
		break;
	}
}

/*
 * {"reason": out's first line without its "<verb> failed: "}, a new
 * object (NULL when out of memory).
 */
static json_t *
reason_params(const char *out, const char *v)
{
	const char *p = out != NULL ? out : "out of memory";
	size_t	    n = strlen(v);

	if (strncmp(p, v, n) == 0 && strncmp(p + n, " failed: ", 9) == 0)
		p += n + 9;
	return (json_pack("{s:s%}", "reason", p, strcspn(p, "\n")));
}

/* The result's code and params (taken) for finish(). */
static void
result_code(struct agent_rjob *job, const char *code, json_t *params)
{
	json_decref(job->rparams);
	job->rcode = code;
	job->rparams = params;
}

/*
 * After the stop, the switch or the start went wrong: the new release is
 * bad; it stops (R_BACK_STOP) if it runs, then back_switch().
 */
static void
fail_back(struct agent_tasks *ts, struct agent_rjob *job, const char *fmt, ...)
{
	struct agent_slot *sl = agent_tasks_slot(ts, job->task_id, NULL);
	struct agent_rel  *r;
	va_list		   ap;

	va_start(ap, fmt);
	(void)vsnprintf(job->why, sizeof(job->why), fmt, ap);
	va_end(ap);
	log_warnx("task %" PRId64 ": %s %s: %s", job->task_id, verb(job->kind),
	    job->id, job->why);
	if (job->kind == AGENTPROTO_CMD_MOVE) {
		back_switch(ts, job);
		return;
	}
	if ((r = agent_rel_find(&job->j, job->n)) != NULL) {
		r->bad = 1;
		r->good = 0;
	}
	if (job->switched) {
		progress(ts, job, "rollback", -1);
		if (sl != NULL && agent_tasks_rel_stop(ts, sl)) {
			job->st = R_BACK_STOP;
			return;
		}
	}
	back_switch(ts, job);
}

/*
 * The previous release started again after a failed update: the command
 * is answered once it is healthy again (or has run the settle time),
 * so that "rolled back" means it serves.  Keeps the answer's text (after
 * and end are the caller's; end is taken over).  1 when waiting, 0 when
 * the caller answers now (out of memory).
 */
static int
back_wait(struct agent_tasks *ts, struct agent_rjob *job, struct agent_slot *sl,
    const char *after, char *end)
{
	const char *kind;

	free(job->back_msg);
	if ((job->back_msg = strdup(after)) == NULL)
		return (0);
	job->back_end = end;
	job->run_started = sl->t.started_ms;
	job->t0 = agent_mono_ms();
	kind = json_string_value(json_object_get(sl->t.spec, "kind"));
	job->settle_at = job->t0 +
	    (json_object_get(sl->t.spec, "health") == NULL && kind != NULL &&
			strcmp(kind, "console") != 0
		    ? AGENT_START_SETTLE_MS
		    : 0);
	job->st = R_BACK_WATCH;
	progress(ts, job, "health", -1);
	return (1);
}

/* R_BACK_WATCH: the previous release's first health, then the answer. */
static void
back_watch(struct agent_tasks *ts, struct agent_rjob *job, uint64_t now)
{
	struct agent_slot *sl = agent_tasks_slot(ts, job->task_id, NULL);
	const char	  *end = job->back_end;
	char		   state[256];
	int		   ended;

	state[0] = '\0';
	ended = sl == NULL || sl->t.state != AGENT_TASK_RUNNING ||
	    sl->t.started_ms != job->run_started;
	if (ended)
		(void)snprintf(state, sizeof(state),
		    " (which ended too, exit status %d)",
		    sl != NULL ? sl->t.exit_status : -1);
	else if (json_object_get(sl->t.spec, "health") == NULL) {
		if (now < job->settle_at)
			return;
	} else if (sl->health == 1 && sl->ever_healthy)
		(void)snprintf(state, sizeof(state), ", healthy again");
	else if (now >= sl->start_deadline)
		(void)snprintf(state, sizeof(state),
		    " (not healthy either: %s)",
		    sl->health_why[0] ? sl->health_why : "no answer");
	else
		return;
	result_code(job, "release_failed_rolled_back",
	    json_pack("{s:s, s:I, s:s, s:i}", "reason", job->why, "release",
		(json_int_t)job->p, "after",
		job->back_msg != NULL && job->back_msg[0] != '\0'
		    ? job->back_msg + (job->back_msg[0] == ';' ? 2 : 0)
		    : "",
		"healthy_again", sl->health == 1 && sl->ever_healthy));
	finish(ts, job, 0,
	    "%s failed: %s; rolled back to release %" PRId64 "%s%s%s%s",
	    verb(job->kind), job->why, job->p, state,
	    job->back_msg != NULL ? job->back_msg : "",
	    end != NULL && end[0] != '\0' ? "; the last lines of its log:\n"
					  : "",
	    end != NULL ? end : "");
}

/*
 * The new release failed and its processes are gone: current back to
 * the previous one (none for a first deploy), which starts again if it
 * ran or an update had it run; answered failed with the log's end.
 */
static void
back_switch(struct agent_tasks *ts, struct agent_rjob *job)
{
	struct agent_slot *sl = agent_tasks_slot(ts, job->task_id, NULL);
	char		   why[1024], path[PATH_MAX], after[1200];
	char		  *end = NULL;
	const char	  *v = verb(job->kind);

	after[0] = '\0';
	if (job->kind == AGENTPROTO_CMD_MOVE) {
		/* agent_rel_move() put back what it moved. */
		/* Its files are as they were: configured already. */
		if (job->was_running && sl != NULL) {
			sl->cfg_keep = 1;
			if (!agent_tasks_rel_start(ts, sl, why, sizeof(why)))
				(void)snprintf(after, sizeof(after),
				    "; starting it again failed: %s", why);
		}
		result_code(job, "move_failed",
		    json_pack("{s:s, s:s}", "reason", job->why, "after",
			after[0] != '\0' ? after + 2 : ""));
		finish(ts, job, 0, "move failed: %s%s", job->why, after);
		return;
	}
	if (job->switched && sl != NULL)
		end = agent_tasks_log_end(ts, sl);
	if (job->p >= 0) {
		if (!agent_rel_switch(job->rdir, job->p, why, sizeof(why)))
			(void)snprintf(after, sizeof(after),
			    "; switching back failed: %s", why);
		job->j.live = job->p;
	} else {
		job->j.live = -1;
		if (snprintf(path, sizeof(path), "%s/%s", job->rdir,
			AGENT_REL_CURRENT) < (int)sizeof(path))
			(void)unlink(path);
	}
	job->j.pending = job->j.prev = -1;
	(void)jsave(ts, job);
	if (sl != NULL) {
		(void)set_reldir(sl, job->rdir, job->j.live);
		if (job->p >= 0 &&
		    (job->was_running || job->kind == AGENTPROTO_CMD_UPDATE)) {
			progress(ts, job, "start", -1);
			/* The release that was live has the files of its last
			 * start: a configuration that failed the new one is
			 * not written into it. */
			sl->cfg_keep = 1;
			if (!agent_tasks_rel_start(ts, sl, why, sizeof(why)))
				(void)snprintf(after + strlen(after),
				    sizeof(after) - strlen(after),
				    "; starting it failed: %s", why);
			else if (back_wait(ts, job, sl, after, end)) {
				/* Answered once it serves again. */
				return;
			}
		} else if (job->p < 0) {
			sl->wanted = 0;
			(void)agent_tasks_save(ts);
		}
	}
	result_code(job,
	    job->p >= 0 ? "release_failed_rolled_back"
			: "release_failed_nothing_live",
	    json_pack("{s:s, s:I, s:s}", "reason", job->why, "release",
		(json_int_t)job->p, "after",
		after[0] != '\0' ? after + 2 : ""));
	if (job->p >= 0)
		finish(ts, job, 0,
		    "%s failed: %s; rolled back to release %" PRId64 "%s%s%s",
		    v, job->why, job->p, after,
		    end != NULL && end[0] != '\0' ? "; the last lines of its "
						    "log:\n"
						  : "",
		    end != NULL ? end : "");
	else
		finish(ts, job, 0, "%s failed: %s; nothing is live%s%s%s", v,
		    job->why, after,
		    end != NULL && end[0] != '\0' ? "; the last lines of its "
						    "log:\n"
						  : "",
		    end != NULL ? end : "");
	free(end);
}

/* Move: the worker moved the directory (or put it back). */
static void
moved(struct agent_tasks *ts, struct agent_rjob *job)
{
	struct agentproto_err err;
	struct agent_slot    *sl = agent_tasks_slot(ts, job->task_id, NULL);
	json_t		     *spec, *norm;
	char		      why[1024], after[1200];

	after[0] = '\0';
	if (!job->wok) {
		fail_back(ts, job, "%s", job->why);
		return;
	}
	spec = json_deep_copy(job->spec);
	if (spec == NULL ||
	    json_object_set_new(spec, "deploy_dir", json_string(job->newdir)) ==
		-1 ||
	    (norm = agentproto_task_spec(spec, &err)) == NULL) {
		json_decref(spec);
		norm = NULL;
	} else
		json_decref(spec);
	(void)snprintf(job->j.dir, sizeof(job->j.dir), "%s", job->rnew);
	if (norm == NULL || sl == NULL ||
	    (job->j.nrel > 0 && !jsave(ts, job))) {
		/* Put it back as it was. */
		json_decref(norm);
		(void)snprintf(job->j.dir, sizeof(job->j.dir), "%s", job->rdir);
		if (!agent_rel_move(job->rnew, job->rdir, NULL, NULL, why,
			sizeof(why)))
			log_warnx("task %" PRId64 ": moving back: %s",
			    job->task_id, why);
		fail_back(ts, job, "cannot record the new directory");
		return;
	}
	/* The task is there now; the agent made it there if it made it. */
	json_decref(sl->t.spec);
	sl->t.spec = norm;
	json_decref(job->spec);
	job->spec = json_incref(norm);
	(void)agent_task_set_rdir(&sl->t, job->rnew);
	(void)set_reldir(sl, job->rnew, job->j.live);
	(void)agent_tasks_save(ts);
	if (job->was_running) {
		progress(ts, job, "start", -1);
		if (!agent_tasks_rel_start(ts, sl, why, sizeof(why)))
			(void)snprintf(after, sizeof(after),
			    "; starting it failed: %s", why);
		else
			(void)snprintf(after, sizeof(after),
			    "; started, pid %d", (int)sl->t.pid);
	}
	result_code(job, "moved",
	    sl != NULL && after[0] != '\0'
		? json_pack("{s:s, s:i}", "dir", job->newdir, "pid",
		      (int)sl->t.pid)
		: json_pack("{s:s}", "dir", job->newdir));
	finish(ts, job, 1, "moved to %s%s", job->newdir, after);
}

/* A running result: {"v":1,"state":"running","progress":{…},…}. */
static void
progress_send(struct agent_tasks *ts, struct agent_rjob *job, uint64_t now)
{
	json_t *o;
	char   *body;

	job->sent_step = job->step;
	job->sent_percent = job->percent;
	job->sent_at = now;
	if (ts->progress == NULL || job->id[0] == '\0')
		return;
	o = json_pack("{s:i, s:s, s:{s:s, s:i}, s:I, s:s, s:{s:s, s:i}}", "v",
	    AGENTPROTO_VERSION, "state", "running", "progress", "step",
	    job->step, "percent", job->percent, "received_at",
	    (json_int_t)job->received, "code", "progress", "params", "step",
	    job->step, "percent", job->percent);
	body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (body != NULL)
		ts->progress(ts->arg, job->id, body);
}

/* The step (one of the protocol's) and its percentage (-1: unknown). */
static void
progress(struct agent_tasks *ts, struct agent_rjob *job, const char *step,
    int percent)
{
	uint64_t now = agent_mono_ms();

	job->percent = percent;
	if (job->step == NULL || strcmp(job->step, step) != 0) {
		job->step = step;
		step_record(ts, job, step);
		progress_send(ts, job, now);
		return;
	}
	progress_flush(ts, job, now);
}

/* A percentage not yet sent goes once a second has passed. */
static void
progress_flush(struct agent_tasks *ts, struct agent_rjob *job, uint64_t now)
{
	if (job->step == NULL || job->percent == job->sent_percent ||
	    now - job->sent_at < PROGRESS_MS)
		return;
	progress_send(ts, job, now);
}

/* tasks.json knows the step a restarted agent reports. */
static void
step_record(struct agent_tasks *ts, struct agent_rjob *job, const char *step)
{
	struct agent_slot *sl = agent_tasks_slot(ts, job->task_id, NULL);

	if (sl == NULL || strcmp(sl->rel_cmd, job->id) != 0)
		return;
	(void)snprintf(sl->rel_step, sizeof(sl->rel_step), "%s", step);
	(void)agent_tasks_save(ts);
}

/*
 * Answer the command (its releases with it), forget it in tasks.json,
 * and let the next one of its task begin.
 */
static void
finish(struct agent_tasks *ts, struct agent_rjob *job, int ok, const char *fmt,
    ...)
{
	struct agent_slot *sl = agent_tasks_slot(ts, job->task_id, NULL);
	va_list		   ap;
	char		  *out = NULL, *body;
	json_t		  *rels;

	job->st = R_DONE;
	if (job->pid > 0) {
		agent_os_worker_kill(job->pid);
		job->pid = 0;
	}
	if (job->fd != -1) {
		(void)close(job->fd);
		job->fd = -1;
	}
	va_start(ap, fmt);
	if (vasprintf(&out, fmt, ap) == -1)
		out = NULL;
	va_end(ap);
	if (out != NULL)
		log_info("task %" PRId64 ": %s %s %s: %.200s", job->task_id,
		    verb(job->kind), job->id, ok ? "succeeded" : "failed", out);
	rels = job->jloaded ? agent_rel_json(&job->j) : json_array();
	if (job->rcode == NULL) {
		job->rcode = ok ? "release_done" : "release_failed";
		json_decref(job->rparams);
		job->rparams = ok ? NULL : reason_params(out, verb(job->kind));
	}
	body =
	    agent_result_with(ok, job->received, "releases", rels, job->rcode,
		job->rparams, "%s", out != NULL ? out : "out of memory");
	job->rparams = NULL;
	free(out);
	if (job->id[0] != '\0' && ts->done != NULL)
		ts->done(ts->arg, job->id, job->seq, body);
	else
		free(body);
	if (sl != NULL && strcmp(sl->rel_cmd, job->id) == 0) {
		sl->rel_cmd[0] = '\0';
		sl->rel_step[0] = '\0';
		(void)agent_tasks_save(ts);
	}
	ts->changed = 1;
}

/* One job's step, as far as it goes now. */
static void
drive(struct agent_tasks *ts, struct agent_rjob *job, uint64_t now)
{
	struct agent_slot *sl;

	switch (job->st) {
	case R_WAIT:
		if (job_first(ts, job->task_id) == job)
			(void)begin(ts, job);
		break;
	case R_WORK:
		if (job->fd != -1)
			worker_read(ts, job);
		break;
	case R_STOP:
	case R_BACK_STOP:
		sl = agent_tasks_slot(ts, job->task_id, NULL);
		if (sl != NULL &&
		    (sl->t.state == AGENT_TASK_RUNNING ||
			sl->t.state == AGENT_TASK_STOPPING ||
			sl->life == AGENT_LIFE_STOPPING))
			break;
		if (job->st == R_STOP)
			stopped(ts, job);
		else
			back_switch(ts, job);
		break;
	case R_WATCH:
		watch(ts, job, now);
		break;
	case R_BACK_WATCH:
		back_watch(ts, job, now);
		break;
	case R_DONE:
		break;
	}
	if (job->st != R_DONE)
		progress_flush(ts, job, now);
}

/*
 * Drive every release command; answered ones go.  The ms until it wants
 * to run again (100 while one works: its pipe is polled).
 */
int
agent_deploy_tick(struct agent_tasks *ts)
{
	struct agent_rjob *job, **pp;
	uint64_t	   now = agent_mono_ms();
	int		   next = 60000;

	for (job = ts->rjobs; job != NULL; job = job->next) {
		drive(ts, job, now);
		if (job->st != R_DONE && job->st != R_WAIT)
			next = 100;
	}
	pp = &ts->rjobs;
	while ((job = *pp) != NULL) {
		if (job->st != R_DONE) {
			pp = &job->next;
			continue;
		}
		*pp = job->next;
		job_free(job);
		/* The next one of its task begins at once. */
		next = 0;
	}
	return (next);
}

void
agent_deploy_free(struct agent_tasks *ts)
{
	struct agent_rjob *job;

	while ((job = ts->rjobs) != NULL) {
		ts->rjobs = job->next;
		job_free(job);
	}
}

/*
 * At load, for a task tasks.json knows: its journal's live release is
 * where it runs.  A journal with pending set means the agent died in the
 * middle of a command: current goes back to prev (or stays on live when
 * pending never became live), pending is bad, staging goes, and the
 * command tasks.json recorded is answered failed ("agent restarted
 * during <step>; release p is live").  A task left running from the bad
 * release restarts from the live one.
 */
void
agent_deploy_recover(struct agent_tasks *ts, struct agent_slot *sl)
{
	struct agent_reljournal *j;
	struct agent_rjob	*job;
	struct agent_rel	*r;
	const char		*dir;
	char			 why[512], path[PATH_MAX], rdir[PATH_MAX];
	char			*body;
	int			 was_live = 0, had_pending = 0;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return;
	if (!agent_rel_load(ts->dir, sl->t.id, j, why, sizeof(why))) {
		log_warnx("task %" PRId64 ": %s", sl->t.id, why);
		free(j);
		return;
	}
	dir = json_string_value(json_object_get(sl->t.spec, "deploy_dir"));
	if (j->dir[0] == '\0' && dir != NULL &&
	    agent_path_resolve(dir, rdir, sizeof(rdir)))
		(void)snprintf(j->dir, sizeof(j->dir), "%s", rdir);
	if (j->pending >= 0) {
		had_pending = 1;
		was_live = j->live == j->pending;
		if (was_live)
			j->live = j->prev;
		if ((r = agent_rel_find(j, j->pending)) != NULL) {
			r->bad = 1;
			r->good = 0;
		}
		if (j->live >= 0) {
			if (!agent_rel_switch(j->dir, j->live, why,
				sizeof(why)))
				log_warnx("task %" PRId64 ": %s", sl->t.id,
				    why);
		} else if (snprintf(path, sizeof(path), "%s/%s", j->dir,
			       AGENT_REL_CURRENT) < (int)sizeof(path))
			(void)unlink(path);
		log_warnx("task %" PRId64 ": release %" PRId64 " was pending "
			  "when the agent stopped: marked bad; release "
			  "%" PRId64 " is live",
		    sl->t.id, j->pending, j->live);
		j->pending = j->prev = -1;
		if (!agent_rel_save(ts->dir, j, why, sizeof(why)))
			log_warnx("task %" PRId64 ": %s", sl->t.id, why);
	}
	if (j->dir[0] != '\0' && (had_pending || sl->rel_cmd[0] != '\0'))
		agent_rel_clean_staging(j->dir);
	if (j->live >= 0 && j->dir[0] != '\0')
		(void)set_reldir(sl, j->dir, j->live);
	else if (j->nrel > 0) {
		/* Packaged, nothing live: nothing to run. */
		(void)agent_task_set_reldir(&sl->t, NULL);
		if (sl->wanted && sl->t.state != AGENT_TASK_RUNNING) {
			sl->wanted = 0;
			sl->life = AGENT_LIFE_DOWN;
			sl->restart_at = 0;
		}
	}
	if (sl->rel_cmd[0] != '\0') {
		if (j->live >= 0)
			(void)snprintf(why, sizeof(why),
			    "release %" PRId64 " is live", j->live);
		else
			(void)snprintf(why, sizeof(why), "no release is live");
		body = agent_result_with(0, sl->rel_received, "releases",
		    agent_rel_json(j), "release_interrupted",
		    json_pack("{s:s, s:I}", "step",
			sl->rel_step[0] != '\0' ? sl->rel_step : "", "live",
			(json_int_t)j->live),
		    "%s failed: agent restarted during %s; %s",
		    verb((enum agentproto_cmd_type)sl->rel_kind),
		    sl->rel_step[0] != '\0' ? sl->rel_step : "its first step",
		    why);
		log_warnx("command %s: agent restarted during %s: reporting it "
			  "failed",
		    sl->rel_cmd,
		    sl->rel_step[0] ? sl->rel_step : "its first step");
		if (ts->done != NULL)
			ts->done(ts->arg, sl->rel_cmd, sl->rel_seq, body);
		else
			free(body);
		sl->rel_cmd[0] = '\0';
		sl->rel_step[0] = '\0';
	}
	/* Running from the release that was put back: from live again. */
	if (was_live && sl->t.state == AGENT_TASK_RUNNING &&
	    (job = job_new(AGENTPROTO_CMD_UNKNOWN, sl->t.id, sl->t.spec)) !=
		NULL)
		job_append(ts, job);
	ts->changed = 1;
	free(j);
}
