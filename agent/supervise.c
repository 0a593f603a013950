/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Task supervision (SPEC 5): start a task's program in a session and
 * process group of its own, stop it gracefully (the kind's polite stop:
 * SIGTERM to the group, or Tomcat's stop script; the grace period; then
 * SIGKILL to the group and to whatever of the task is left), reap, and
 * adopt a task again after the agent restarts.  Non-blocking:
 * agent_task_tick() drives each task.
 *
 * What the task's processes are, however they fork or detach, is its
 * tracked group (agent/os.h; on Linux a cgroup v2, else its session and
 * the mark YARD_TASK_MARK=<install id>-<task id> that every process of
 * the task inherits).  Every system call that spawns, signals or
 * collects a process is behind agent/os.h.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

#define MARK_ENV       "YARD_TASK_MARK"
#define STRAYS_WAIT_MS 2000 /* for killed strays to go, at most */
#define BASE_PATH      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int    mkdirs(const char *);
static char **child_env(const struct agent_task *, const json_t *, size_t *,
    int);
static char **argv_build(const struct agent_task *, const char **);
static pid_t  spawn(struct agent_task *, const char *, const char *const *, int,
     const char *, int64_t, int, char *, size_t);
static void   env_free(char **, size_t);
static int    stop_script(struct agent_task *);
static const char *tomcat_script(const struct agent_task *, const char *);
static const char *task_dir(const struct agent_task *);

void
agent_supervise_init(void)
{
	agent_os_supervisor_init();
}

const char *
agent_task_state_name(enum agent_task_state s)
{
	switch (s) {
	case AGENT_TASK_STOPPED:
		return ("stopped");
	case AGENT_TASK_RUNNING:
		return ("running");
	case AGENT_TASK_STOPPING:
		return ("stopping");
	case AGENT_TASK_EXITED:
		/* Without the status; state_name() in tasks.c tells an
		 * "exited" (status 0) from a "failed" one. */
		return ("failed");
	}
	return ("stopped");
}

void
agent_task_init(struct agent_task *t, int64_t id, const char *mark_prefix)
{
	memset(t, 0, sizeof(*t));
	t->id = id;
	t->exit_status = -1;
	t->stop_status = -1;
	t->proc.fd = -1;
	t->uid = -1;
	(void)snprintf(t->mark, sizeof(t->mark), "%s-%" PRId64, mark_prefix,
	    id);
}

/* Its deploy directory: resolved by the policy check, else the spec's. */
static const char *
deploy_dir(const struct agent_task *t)
{
	return (t->rdir != NULL
		? t->rdir
		: json_string_value(json_object_get(t->spec, "deploy_dir")));
}

/*
 * Where the task runs and its relative paths resolve: a packaged task's
 * live release (its journal's, never <deploy_dir>/current), else its
 * deploy directory.
 */
static const char *
task_dir(const struct agent_task *t)
{
	return (t->reldir != NULL ? t->reldir : deploy_dir(t));
}

const char *
agent_task_dir(const struct agent_task *t)
{
	return (task_dir(t));
}

/*
 * The spec as the task's log_files see it: a packaged task's globs are
 * relative to its live release.  A new reference; NULL without memory.
 */
json_t *
agent_task_log_spec(const struct agent_task *t)
{
	json_t *s;

	if (t->reldir == NULL)
		return (json_incref(t->spec));
	if ((s = json_copy(t->spec)) == NULL)
		return (NULL);
	if (json_object_set_new(s, "deploy_dir", json_string(t->reldir)) ==
	    -1) {
		json_decref(s);
		return (NULL);
	}
	return (s);
}

/* The live release's directory (NULL or "": none).  1, or 0 (memory). */
int
agent_task_set_reldir(struct agent_task *t, const char *dir)
{
	free(t->reldir);
	t->reldir = NULL;
	if (dir == NULL || dir[0] == '\0')
		return (1);
	return ((t->reldir = strdup(dir)) != NULL);
}

/*
 * The resolved deploy directory the policy check gave (NULL or "":
 * none).  Returns 1, or 0 when out of memory (then none).
 */
int
agent_task_set_rdir(struct agent_task *t, const char *dir)
{
	free(t->rdir);
	t->rdir = NULL;
	if (dir == NULL || dir[0] == '\0')
		return (1);
	return ((t->rdir = strdup(dir)) != NULL);
}

/* mkdir -p, mode 0755. */
static int
mkdirs(const char *path)
{
	char   buf[1024];
	size_t i, n;

	n = strlen(path);
	if (n == 0 || n >= sizeof(buf))
		return (0);
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

/* argv from the spec (console: command + args; jar: java, options, -jar). */
static char **
argv_build(const struct agent_task *t, const char **file)
{
	const json_t *k, *a, *v;
	const char   *kind;
	char	    **argv;
	size_t	      n, i, j = 0;

	kind = json_string_value(json_object_get(t->spec, "kind"));
	if (kind == NULL || (k = json_object_get(t->spec, kind)) == NULL)
		return (NULL);
	if (strcmp(kind, "console") == 0) {
		a = json_object_get(k, "args");
		n = json_array_size(a) + 2;
		if ((argv = calloc(n, sizeof(*argv))) == NULL)
			return (NULL);
		*file = json_string_value(json_object_get(k, "command"));
		argv[j++] = (char *)(uintptr_t)*file;
		json_array_foreach(a, i, v) argv[j++] =
		    (char *)(uintptr_t)json_string_value(v);
		return (argv);
	}
	if (strcmp(kind, "jar") == 0) {
		n = json_array_size(json_object_get(k, "jvm_options")) +
		    json_array_size(json_object_get(k, "args")) + 4;
		if ((argv = calloc(n, sizeof(*argv))) == NULL)
			return (NULL);
		*file = json_string_value(json_object_get(k, "java"));
		argv[j++] = (char *)(uintptr_t)*file;
		json_array_foreach(json_object_get(k, "jvm_options"), i, v)
		    argv[j++] = (char *)(uintptr_t)json_string_value(v);
		argv[j++] = "-jar";
		argv[j++] = (char *)(uintptr_t)json_string_value(
		    json_object_get(k, "jar"));
		json_array_foreach(json_object_get(k, "args"), i, v) argv[j++] =
		    (char *)(uintptr_t)json_string_value(v);
		return (argv);
	}
	/* tomcat: catalina.sh run in the foreground, CATALINA_* in env. */
	if ((argv = calloc(3, sizeof(*argv))) == NULL)
		return (NULL);
	*file = tomcat_script(t, "start_script");
	argv[0] = (char *)(uintptr_t)*file;
	argv[1] = "run";
	return (argv);
}

/*
 * A Tomcat script of the spec (start_script or stop_script, default
 * bin/catalina.sh): absolute as given, else relative to tomcat.home
 * (CATALINA_HOME), where Tomcat keeps it.  In a static buffer: the agent
 * has one thread and uses it before the next call.
 */
static const char *
tomcat_script(const struct agent_task *t, const char *which)
{
	static char   buf[AGENT_PATH_MAX * 2 + 2];
	const json_t *tc = json_object_get(t->spec, "tomcat");
	const char   *s = json_string_value(json_object_get(tc, which));

	if (s == NULL)
		s = "bin/catalina.sh";
	if (s[0] == '/')
		return (s);
	(void)snprintf(buf, sizeof(buf), "%s/%s",
	    json_string_value(json_object_get(tc, "home")), s);
	return (buf);
}

/*
 * A task's environment: nothing of the agent's, but a documented base
 * (PATH, HOME, USER, LOGNAME, SHELL, LANG, TZ when the agent has it),
 * then the spec's variables (which may replace the base's), then
 * CATALINA_HOME and CATALINA_BASE for Tomcat, then the task's mark when
 * mark is set; the agent's own names win over the spec's.  *ninh is 0:
 * every string is ours (env_free()).
 */
static char **
child_env(const struct agent_task *t, const json_t *env, size_t *ninh, int mark)
{
	const char   *k, *kind, *home, *user, *lang, *tz;
	const json_t *v, *tc;
	char	    **out, *s;
	size_t	      n, i, j = 0;
	int	      tomcat;

	*ninh = 0;
	kind = json_string_value(json_object_get(t->spec, "kind"));
	tomcat = kind != NULL && strcmp(kind, "tomcat") == 0;
	n = json_object_size(env) + 12;
	if ((out = calloc(n, sizeof(*out))) == NULL)
		return (NULL);
	home = t->acct.valid ? t->acct.home : task_dir(t);
	user = t->acct.valid ? t->acct.name : NULL;
	lang = getenv("LANG");
	tz = getenv("TZ");
	/* The base, less what the spec sets itself. */
	{
		const char *base[][2] = { { "PATH", BASE_PATH },
			{ "HOME", home }, { "USER", user }, { "LOGNAME", user },
			{ "SHELL", "/bin/sh" },
			{ "LANG", lang != NULL ? lang : "C.UTF-8" },
			{ "TZ", tz } };

		for (i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
			if (base[i][1] == NULL ||
			    json_object_get(env, base[i][0]) != NULL)
				continue;
			if (asprintf(&s, "%s=%s", base[i][0], base[i][1]) == -1)
				goto fail;
			out[j++] = s;
		}
	}
	json_object_foreach((json_t *)(uintptr_t)env, k, v)
	{
		if (strcmp(k, MARK_ENV) == 0 ||
		    (tomcat &&
			(strcmp(k, "CATALINA_HOME") == 0 ||
			    strcmp(k, "CATALINA_BASE") == 0)))
			continue;
		if (asprintf(&s, "%s=%s", k, json_string_value(v)) == -1)
			goto fail;
		out[j++] = s;
	}
	if (tomcat) {
		tc = json_object_get(t->spec, "tomcat");
		if (asprintf(&s, "CATALINA_HOME=%s",
			json_string_value(json_object_get(tc, "home"))) != -1)
			out[j++] = s;
		/* tomcat.base absent: the deploy directory, or a packaged
		 * task's release (its instance). */
		if (asprintf(&s, "CATALINA_BASE=%s",
			json_object_get(tc, "base") != NULL
			    ? json_string_value(json_object_get(tc, "base"))
			    : t->reldir != NULL
			    ? t->reldir
			    : json_string_value(json_object_get(t->spec,
				  "deploy_dir"))) != -1)
			out[j++] = s;
	}
	if (mark) {
		if (asprintf(&s, "%s=%s", MARK_ENV, t->mark) == -1)
			goto fail;
		out[j++] = s;
	}
	return (out);
fail:
	env_free(out, 0);
	return (NULL);
}

static void
env_free(char **envp, size_t ninh)
{
	size_t i;

	if (envp == NULL)
		return;
	for (i = ninh; envp[i] != NULL; i++)
		free(envp[i]);
	free(envp);
}

/*
 * Run file as a process of its own (agent_os_spawn()), with the task's
 * environment (its mark when mark is set) and its output through a log
 * relay into log (which rotates it past log_max; 0: never), or into
 * logfd when log is NULL or no relay starts.  The task's processes (mark set) are its tracked group; the
 * stop script is not.  Returns the pid, or -1 with why.
 */
static pid_t
spawn(struct agent_task *t, const char *file, const char *const *argv,
    int logfd, const char *log, int64_t log_max, int mark, char *err,
    size_t errlen)
{
	struct agent_os_spawn sp;
	char		    **envp;
	pid_t		      pid;
	size_t		      ninh = 0;

	if ((envp = child_env(t, json_object_get(t->spec, "env"), &ninh,
		 mark)) == NULL) {
		(void)snprintf(err, errlen, "cannot build the environment");
		return (-1);
	}
	memset(&sp, 0, sizeof(sp));
	sp.file = file;
	sp.argv = argv;
	sp.envp = envp;
	sp.logfd = logfd;
	sp.log = log;
	sp.log_max = log_max;
	sp.log_keep = AGENT_LOG_KEEP;
	sp.dir_exact = t->rdir != NULL || t->reldir != NULL;
	sp.dir = task_dir(t);
	sp.cwd = json_string_value(
	    json_object_get(json_object_get(t->spec, "console"), "cwd"));
	sp.acct = t->acct.valid && t->acct.change ? &t->acct : NULL;
	pid = agent_os_spawn(t, &sp, mark, err, errlen);
	env_free(envp, ninh);
	return (pid);
}

/*
 * Start the task.  One instance per task: refused while it runs or
 * stops.  stdout and stderr go to logdir/<id>.log (appended; through the
 * task's log relay, which marks stderr and rotates it past t->log_max).
 * Returns 1
 * once the program is exec'd in its own session, or 0 with why in err
 * (including "cannot run X: ..." from the child).
 */
int
agent_task_start(struct agent_task *t, const char *logdir, char *err,
    size_t errlen)
{
	const char *file = NULL, *dir;
	char	    path[1024], real[PATH_MAX];
	char	  **argv = NULL;
	pid_t	    pid;
	int	    logfd = -1, ok = 0, made, dfd = -1;

	if (t->state == AGENT_TASK_RUNNING || t->state == AGENT_TASK_STOPPING) {
		(void)snprintf(err, errlen, "already %s (pid %d)",
		    agent_task_state_name(t->state), (int)t->pid);
		return (0);
	}
	dir = deploy_dir(t);
	/* What the agent creates, uninstall may remove; nothing else. */
	made = dir != NULL && access(dir, F_OK) == -1 && errno == ENOENT;
	if (made)
		t->created_dir = 1;
	if (dir == NULL || !mkdirs(dir) || !mkdirs(logdir)) {
		(void)snprintf(err, errlen, "cannot create %s: %s",
		    dir != NULL ? dir : "(no deploy_dir)", strerror(errno));
		return (0);
	}
	if (t->rdir != NULL &&
	    (realpath(dir, real) == NULL || strcmp(real, dir) != 0)) {
		(void)snprintf(err, errlen,
		    "policy: deploy_dir %s changed while it was checked", dir);
		return (0);
	}
	/* A release is made by the agent, never here: it must be there,
	 * a real directory inside the deploy directory. */
	if (t->reldir != NULL &&
	    (realpath(t->reldir, real) == NULL ||
		strcmp(real, t->reldir) != 0 || !agent_path_below(real, dir))) {
		(void)snprintf(err, errlen,
		    "the live release %s is missing or not a directory of "
		    "%s",
		    t->reldir, dir);
		return (0);
	}
	/* A directory the agent made belongs to the task's account. */
	if (made && t->acct.valid && t->acct.change &&
	    ((dfd = open(dir,
		  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
		fchown(dfd, t->acct.uid, t->acct.gid) == -1)) {
		(void)snprintf(err, errlen, "cannot give %s to %s: %s", dir,
		    t->acct.name, strerror(errno));
		if (dfd != -1)
			(void)close(dfd);
		return (0);
	}
	if (dfd != -1)
		(void)close(dfd);
	(void)snprintf(path, sizeof(path), "%s/%" PRId64 ".log", logdir, t->id);
	if ((logfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		 0640)) == -1) {
		(void)snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return (0);
	}
	if ((argv = argv_build(t, &file)) == NULL || file == NULL) {
		(void)snprintf(err, errlen, "cannot build the command line");
		goto done;
	}
	if ((pid = spawn(t, file, (const char *const *)argv, logfd, path,
		 t->log_max > 0 ? t->log_max : AGENT_LOG_MAX, 1, err,
		 errlen)) == -1)
		goto done;

	t->pid = pid;
	t->state = AGENT_TASK_RUNNING;
	t->main_gone = 0;
	t->adopted = 0;
	t->exit_status = -1;
	t->exit_signal = 0;
	t->exit_ms = 0;
	t->stop_how = AGENT_STOP_NONE;
	t->started_ms = agent_now_ms();
	free(t->log);
	t->log = strdup(path); /* for the stop script's output */
	agent_proc_close(&t->proc);
	if (agent_proc_open(&t->proc, pid))
		t->starttime = t->proc.starttime;
	ok = 1;
done:
	free(argv);
	(void)close(logfd);
	return (ok);
}

/*
 * Tomcat's polite stop: "<stop_script> stop" (default bin/catalina.sh,
 * found as the start script is: absolute, or under tomcat.home), run as
 * the start script is (CATALINA_HOME, CATALINA_BASE and the spec's
 * environment) but without the task's mark, so that it is never taken
 * for a process of the task.  It runs in a session of its own, its
 * output appended to the task's log; agent_tasks_reap() reaps it and
 * agent_task_tick() falls back to SIGTERM when it fails.  Returns 1
 * once it runs, else 0 (said in the task's log: the caller sends
 * SIGTERM).
 */
static int
stop_script(struct agent_task *t)
{
	const char *argv[3];
	char	    err[256];
	pid_t	    pid;
	int	    logfd = -1;

	/* Adopted, its account unknown: never the stop script as root. */
	if (t->adopted && !t->acct.valid) {
		log_warnx("task %" PRId64 ": its account is unknown: no stop "
			  "script, SIGTERM",
		    t->id);
		return (0);
	}
	argv[0] = tomcat_script(t, "stop_script");
	argv[1] = "stop";
	argv[2] = NULL;
	if (t->log != NULL)
		logfd = open(t->log, O_WRONLY | O_APPEND | O_CLOEXEC);
	else {
		/* Adopted after a restart: the task's own stdout, if a file. */
		logfd = agent_os_stdout_open(t->pid);
	}
	if (logfd == -1 &&
	    (logfd = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
		log_warn("task %" PRId64 ": /dev/null", t->id);
		return (0);
	}
	/* Through a relay too (stderr marked), which leaves rotation to
	 * the task's: the script is short-lived. */
	pid = spawn(t, argv[0], argv, logfd, t->log, 0, 0, err, sizeof(err));
	if (pid == -1) {
		log_warnx("task %" PRId64 ": stop script: %s: SIGTERM", t->id,
		    err);
		dprintf(logfd,
		    "yard-agent: the stop script failed: %s; "
		    "sending SIGTERM\n",
		    err);
	} else {
		t->stop_pid = pid;
		t->stop_status = -1;
	}
	(void)close(logfd);
	return (pid != -1);
}

/*
 * Begin a graceful stop: the kind's polite stop (Tomcat's stop script,
 * else SIGTERM to the group), SIGKILL after grace.
 */
void
agent_task_stop(struct agent_task *t)
{
	const char *kind;
	int64_t	    grace;

	if (t->state != AGENT_TASK_RUNNING)
		return;
	grace = json_integer_value(json_object_get(t->spec, "stop_grace"));
	kind = json_string_value(json_object_get(t->spec, "kind"));
	t->state = AGENT_TASK_STOPPING;
	t->stop_started = agent_mono_ms();
	t->stop_deadline = t->stop_started + (uint64_t)grace * 1000;
	if (kind != NULL && strcmp(kind, "tomcat") == 0 && stop_script(t)) {
		t->stop_how = AGENT_STOP_SCRIPT;
		return;
	}
	t->stop_how = AGENT_STOP_TERM;
	agent_os_group_term(t->pid);
}

/*
 * Reap children (our tasks, their stop scripts and adopted orphans);
 * note our tasks' ends, and their stop scripts' (never a task's end).
 */
void
agent_tasks_reap(struct agent_task **tasks, size_t n)
{
	pid_t  pid;
	int    code, sig;
	size_t i;

	while (agent_os_reap(&pid, &code, &sig)) {
		for (i = 0; i < n; i++) {
			if (tasks[i]->stop_pid == pid) {
				tasks[i]->stop_status = code;
				continue;
			}
			if (tasks[i]->pid != pid)
				continue;
			tasks[i]->exit_status = code;
			tasks[i]->exit_signal = sig;
			tasks[i]->exit_ms = agent_now_ms();
			tasks[i]->main_gone = 1;
		}
	}
}

/*
 * Drive a task: notice its end, enforce the grace period.  Returns 1 when
 * its state changed (RUNNING -> EXITED, STOPPING -> STOPPED).
 */
int
agent_task_tick(struct agent_task *t)
{
	uint64_t now;
	int	 group, code, sig;

	if (t->state != AGENT_TASK_RUNNING && t->state != AGENT_TASK_STOPPING) {
		agent_os_task_tidy(t);
		return (0);
	}
	/* An adopted main process is not our child: watch its samples. */
	if (!t->main_gone && t->adopted && agent_proc_sample(&t->proc) == 0) {
		/* Not our child: how it ended nobody can tell. */
		t->exit_ms = agent_now_ms();
		t->main_gone = 1;
	}
	if (!t->main_gone && t->proc.fd != -1 && t->proc.state == 'Z') {
		/*
		 * A sample saw our child as a zombie before agent_tasks_reap()
		 * did: reap it here, or its exit status would read unknown.
		 */
		if (!t->adopted && agent_os_reap_pid(t->pid, &code, &sig)) {
			t->exit_status = code;
			t->exit_signal = sig;
		}
		t->exit_ms = agent_now_ms();
		t->main_gone = 1;
	}
	group = agent_os_group_alive(t->pid);

	if (t->state == AGENT_TASK_RUNNING) {
		if (!t->main_gone)
			return (0);
		/* The main process ended by itself: the rest goes too. */
		if (group)
			agent_os_group_kill(t->pid);
		(void)agent_os_task_kill_rest(t);
		t->state = AGENT_TASK_EXITED;
		t->pid = 0;
		agent_proc_close(&t->proc);
		return (1);
	}

	/* STOPPING */
	if (t->stop_pid != 0 && t->stop_status != -1) {
		/* The stop script ended; when it failed, SIGTERM. */
		if (t->stop_how == AGENT_STOP_SCRIPT &&
		    (group || !t->main_gone) && t->stop_status != 0) {
			log_info("task %" PRId64 ": the stop script failed "
				 "(status %d): SIGTERM",
			    t->id, t->stop_status);
			t->stop_how = AGENT_STOP_TERM;
			agent_os_group_term(t->pid);
		}
		t->stop_pid = 0;
	}
	if (group || !t->main_gone) {
		if (agent_mono_ms() < t->stop_deadline)
			return (0);
		if (t->stop_how != AGENT_STOP_KILL) {
			t->stop_how = AGENT_STOP_KILL;
			log_info("task %" PRId64 ": still running after its "
				 "grace period: SIGKILL",
			    t->id);
		}
		agent_os_task_kill(t);
		if (t->stop_pid != 0)
			agent_os_group_kill(t->stop_pid);
		return (0);
	}
	/* The task is gone; its stop script may end until the deadline. */
	if (t->stop_pid != 0) {
		if (agent_mono_ms() >= t->stop_deadline)
			agent_os_group_kill(t->stop_pid);
		return (0);
	}
	/* The group is gone; so must be anything that left it. */
	now = agent_mono_ms();
	if (agent_os_task_kill_rest(t)) {
		if (t->stop_how == AGENT_STOP_TERM)
			t->stop_how = AGENT_STOP_TERM_STRAYS;
		/* A kernel group: stopped once empty (or we gave up). */
		if (t->cgroup[0] != '\0') {
			if (t->strays_until == 0)
				t->strays_until = now + STRAYS_WAIT_MS;
			if (now < t->strays_until)
				return (0);
			log_warnx("task %" PRId64 ": processes are left in %s "
				  "after SIGKILL",
			    t->id, t->cgroup);
		}
	}
	t->strays_until = 0;
	t->stop_ms = now - t->stop_started;
	t->state = AGENT_TASK_STOPPED;
	t->pid = 0;
	agent_proc_close(&t->proc);
	agent_os_task_tidy(t);
	return (1);
}

/*
 * Adopt a task the agent started before it restarted: pid must still be
 * the same process (its start time).  Returns 1, else 0 (stopped).
 */
int
agent_task_adopt(struct agent_task *t, pid_t pid, int64_t starttime)
{
	agent_proc_close(&t->proc);
	if (pid <= 1 || !agent_proc_open(&t->proc, pid) ||
	    t->proc.starttime != starttime || t->proc.state == 'Z') {
		agent_proc_close(&t->proc);
		t->state = AGENT_TASK_STOPPED;
		t->pid = 0;
		/* It ended while we were away: the rest of it goes too. */
		if (agent_os_task_kill_rest(t))
			log_info("task %" PRId64 ": killed what its ended "
				 "run left",
			    t->id);
		agent_os_task_tidy(t);
		return (0);
	}
	t->pid = pid;
	t->starttime = starttime;
	t->state = AGENT_TASK_RUNNING;
	t->adopted = 1;
	t->main_gone = 0;
	if (t->uid < 0)
		t->uid = agent_proc_uid((int)pid);
	return (1);
}

void
agent_task_cleanup(struct agent_task *t)
{
	agent_proc_close(&t->proc);
	free(t->log);
	t->log = NULL;
	free(t->rdir);
	t->rdir = NULL;
	free(t->reldir);
	t->reldir = NULL;
	json_decref(t->spec);
	t->spec = NULL;
}

/*
 * Size-based rotation of a task's log (logdir/<id>.log): see
 * agent_log_rotate().
 */
int
agent_task_log_rotate(const char *logdir, int64_t id, off_t max, int keep)
{
	char path[1200];

	(void)snprintf(path, sizeof(path), "%s/%" PRId64 ".log", logdir, id);
	/* While a relay writes it, the relay rotates it (by rename, with
	 * its stderr index); the agent rotates only a log none holds (no
	 * relay could start, or a task from an agent before relays). */
	if (agent_logidx_held(path))
		return (0);
	return (agent_log_rotate(path, NULL, max, keep));
}

/*
 * Where the task's output goes (for its stop script too, once adopted)
 * and the size its relay rotates it past (max; 0: AGENT_LOG_MAX).
 */
void
agent_task_log_init(struct agent_task *t, const char *logdir, off_t max)
{
	char path[1200];

	t->log_max = max;
	(void)snprintf(path, sizeof(path), "%s/%" PRId64 ".log", logdir, t->id);
	free(t->log);
	t->log = strdup(path);
}

/*
 * Uninstall: remove what the agent created for the task, its logs and,
 * when the agent made it, its deploy directory (depth first, never
 * following links or crossing into another file system).  A directory
 * the user provided is left alone.  Returns 1, or 0 with why.
 */
int
agent_task_remove_files(const struct agent_task *t, const char *logdir,
    char *why, size_t whylen)
{
	const char *dir;
	char	    path[1200], idx[1220];
	int	    i;

	agent_os_task_forget(t);
	for (i = 0; i <= AGENT_LOG_KEEP + 1; i++) {
		if (i == 0)
			(void)snprintf(path, sizeof(path), "%s/%" PRId64 ".log",
			    logdir, t->id);
		else
			(void)snprintf(path, sizeof(path),
			    "%s/%" PRId64 ".log.%d", logdir, t->id, i);
		(void)unlink(path);
		/* Its stderr index. */
		(void)snprintf(idx, sizeof(idx), "%s%s", path,
		    AGENT_LOGIDX_SUFFIX);
		(void)unlink(idx);
	}
	dir = json_string_value(json_object_get(t->spec, "deploy_dir"));
	if (!t->created_dir || dir == NULL)
		return (1);
	/* Never a top-level directory, whatever the record says. */
	if (strchr(dir + 1, '/') == NULL) {
		(void)snprintf(why, whylen, "refusing to remove %s", dir);
		return (0);
	}
	/* Run as another account, the task removes what it holds as that
	 * account; the agent then removes the empty directory it made. */
	if (t->acct.valid && t->acct.change) {
		if ((!agent_os_remove_tree(&t->acct, dir) ||
			(rmdir(dir) == -1 && errno != ENOENT))) {
			(void)snprintf(why, whylen, "cannot remove %s: %s", dir,
			    strerror(errno));
			return (0);
		}
		return (1);
	}
	if (!agent_os_remove_tree(NULL, dir)) {
		(void)snprintf(why, whylen, "cannot remove %s: %s", dir,
		    strerror(errno));
		return (0);
	}
	return (1);
}
