/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Task supervision (SPEC 5): start a task's program in a session and
 * process group of its own, stop it gracefully (the kind's polite stop:
 * SIGTERM to the group, or Tomcat's stop script; the grace period; then
 * SIGKILL to the group and to every process that carries the task's
 * mark), reap, and adopt a task again after the agent restarts.
 * Non-blocking: agent_task_tick() drives each task.
 *
 * Every process of a task inherits YARD_TASK_MARK=<node-unique mark> in
 * its environment, so that descendants that left the group (double fork
 * plus setsid, as daemons do) are still found and stopped.  The agent is
 * a child subreaper (agent_supervise_init()), so such orphans are its
 * children and are reaped: no zombies are left behind.
 */

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

#define MARK_ENV    "YARD_TASK_MARK"
#define ENVIRON_MAX (256 * 1024)

extern char **environ;

static int    mkdirs(const char *);
static int    has_mark(pid_t, const char *);
static void   child_exec(const struct agent_task *, const char *,
      const char *const *, char *const *, int, int);
static char **child_env(const struct agent_task *, const json_t *, size_t *,
    int);
static char **argv_build(const struct agent_task *, const char **);
static pid_t spawn(const struct agent_task *, const char *, const char *const *,
    int, int, char *, size_t);
static void  env_free(char **, size_t);
static int   stop_script(struct agent_task *);
static const char *tomcat_script(const struct agent_task *, const char *);

void
agent_supervise_init(void)
{
	/* Orphaned descendants of tasks become ours, and are reaped. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		log_warn("prctl(PR_SET_CHILD_SUBREAPER)");
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
	(void)snprintf(t->mark, sizeof(t->mark), "%s-%" PRId64, mark_prefix,
	    id);
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
 * The agent's environment plus the spec's, plus the task's mark when
 * mark is set.  The first *ninh entries are the agent's own strings; the
 * rest are ours (env_free()).
 */
static char **
child_env(const struct agent_task *t, const json_t *env, size_t *ninh, int mark)
{
	const char   *k, *kind;
	const json_t *v, *tc;
	char	    **out, *s;
	size_t	      n, i, j = 0;

	for (n = 0; environ[n] != NULL; n++)
		;
	n += json_object_size(env) + 4;
	if ((out = calloc(n, sizeof(*out))) == NULL)
		return (NULL);
	for (i = 0; environ[i] != NULL; i++) {
		if (strncmp(environ[i], MARK_ENV "=", sizeof(MARK_ENV)) == 0)
			continue;
		out[j++] = environ[i];
	}
	*ninh = j;
	json_object_foreach((json_t *)(uintptr_t)env, k, v)
	{
		if (asprintf(&s, "%s=%s", k, json_string_value(v)) == -1)
			return (NULL);
		out[j++] = s;
	}
	kind = json_string_value(json_object_get(t->spec, "kind"));
	if (kind != NULL && strcmp(kind, "tomcat") == 0) {
		tc = json_object_get(t->spec, "tomcat");
		if (asprintf(&s, "CATALINA_HOME=%s",
			json_string_value(json_object_get(tc, "home"))) != -1)
			out[j++] = s;
		if (asprintf(&s, "CATALINA_BASE=%s",
			json_object_get(tc, "base") != NULL
			    ? json_string_value(json_object_get(tc, "base"))
			    : json_string_value(json_object_get(t->spec,
				  "deploy_dir"))) != -1)
			out[j++] = s;
	}
	if (mark) {
		if (asprintf(&s, "%s=%s", MARK_ENV, t->mark) == -1)
			return (NULL);
		out[j++] = s;
	}
	return (out);
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
 * In the child: never returns.  A failure before exec is written to
 * statusfd (close-on-exec: the parent reads EOF when exec succeeded).
 */
static void
child_exec(const struct agent_task *t, const char *file,
    const char *const *argv, char *const *envp, int logfd, int statusfd)
{
	const char *dir, *cwd;
	sigset_t    none;
	int	    fd;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	if (setsid() == -1) {
		dprintf(statusfd, "setsid: %s", strerror(errno));
		_exit(126);
	}
	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		(void)dup2(fd, 0);
		if (fd > 0)
			(void)close(fd);
	}
	(void)dup2(logfd, 1);
	(void)dup2(logfd, 2);
	dir = json_string_value(json_object_get(t->spec, "deploy_dir"));
	cwd = json_string_value(
	    json_object_get(json_object_get(t->spec, "console"), "cwd"));
	if (dir == NULL || chdir(dir) == -1 ||
	    (cwd != NULL && chdir(cwd) == -1)) {
		dprintf(statusfd, "cannot enter %s: %s",
		    cwd != NULL ? cwd : dir, strerror(errno));
		_exit(126);
	}
	execvpe(file, (char *const *)(uintptr_t)argv, envp);
	dprintf(statusfd, "cannot run %s: %s", file, strerror(errno));
	_exit(127);
}

/*
 * Fork and exec file in a session of its own (child_exec()), with the
 * task's environment (its mark when mark is set) and logfd as stdout and
 * stderr.  Waits only for the exec.  Returns the pid, or -1 with why.
 */
static pid_t
spawn(const struct agent_task *t, const char *file, const char *const *argv,
    int logfd, int mark, char *err, size_t errlen)
{
	char  **envp;
	char	why[256];
	pid_t	pid = -1;
	ssize_t n;
	size_t	ninh = 0;
	int	sfd[2];

	if ((envp = child_env(t, json_object_get(t->spec, "env"), &ninh,
		 mark)) == NULL) {
		(void)snprintf(err, errlen, "cannot build the environment");
		return (-1);
	}
	if (pipe2(sfd, O_CLOEXEC) == -1) {
		(void)snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto done;
	}
	if ((pid = fork()) == -1) {
		(void)snprintf(err, errlen, "fork: %s", strerror(errno));
		(void)close(sfd[0]);
		(void)close(sfd[1]);
		goto done;
	}
	if (pid == 0) {
		(void)close(sfd[0]);
		child_exec(t, file, argv, envp, logfd, sfd[1]);
	}
	/* Wait for exec (EOF) or the reason it did not happen. */
	(void)close(sfd[1]);
	do {
		n = read(sfd[0], why, sizeof(why) - 1);
	} while (n == -1 && errno == EINTR);
	(void)close(sfd[0]);
	if (n > 0) {
		why[n] = '\0';
		(void)waitpid(pid, NULL, 0);
		(void)snprintf(err, errlen, "%s", why);
		pid = -1;
	}
done:
	env_free(envp, ninh);
	return (pid);
}

/*
 * Start the task.  One instance per task: refused while it runs or
 * stops.  stdout and stderr go to logdir/<id>.log (appended).  Returns 1
 * once the program is exec'd in its own session, or 0 with why in err
 * (including "cannot run X: ..." from the child).
 */
int
agent_task_start(struct agent_task *t, const char *logdir, char *err,
    size_t errlen)
{
	const char *file = NULL, *dir;
	char	    path[1024];
	char	  **argv = NULL;
	pid_t	    pid;
	int	    logfd = -1, ok = 0;

	if (t->state == AGENT_TASK_RUNNING || t->state == AGENT_TASK_STOPPING) {
		(void)snprintf(err, errlen, "already %s (pid %d)",
		    agent_task_state_name(t->state), (int)t->pid);
		return (0);
	}
	dir = json_string_value(json_object_get(t->spec, "deploy_dir"));
	/* What the agent creates, uninstall may remove; nothing else. */
	if (dir != NULL && access(dir, F_OK) == -1 && errno == ENOENT)
		t->created_dir = 1;
	if (dir == NULL || !mkdirs(dir) || !mkdirs(logdir)) {
		(void)snprintf(err, errlen, "cannot create %s: %s",
		    dir != NULL ? dir : "(no deploy_dir)", strerror(errno));
		return (0);
	}
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
	if ((pid = spawn(t, file, (const char *const *)argv, logfd, 1, err,
		 errlen)) == -1)
		goto done;

	t->pid = pid;
	t->state = AGENT_TASK_RUNNING;
	t->main_gone = 0;
	t->adopted = 0;
	t->exit_status = -1;
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
	struct stat st;
	char	    path[64], err[256];
	pid_t	    pid;
	int	    logfd = -1;

	argv[0] = tomcat_script(t, "stop_script");
	argv[1] = "stop";
	argv[2] = NULL;
	if (t->log != NULL)
		logfd = open(t->log, O_WRONLY | O_APPEND | O_CLOEXEC);
	else {
		/* Adopted after a restart: the task's own stdout, if a file. */
		(void)snprintf(path, sizeof(path), "/proc/%d/fd/1",
		    (int)t->pid);
		if ((logfd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) !=
			-1 &&
		    (fstat(logfd, &st) == -1 || !S_ISREG(st.st_mode))) {
			(void)close(logfd);
			logfd = -1;
		}
	}
	if (logfd == -1 &&
	    (logfd = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
		log_warn("task %" PRId64 ": /dev/null", t->id);
		return (0);
	}
	pid = spawn(t, argv[0], argv, logfd, 0, err, sizeof(err));
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
	if (kill(-t->pid, SIGTERM) == -1 && errno == ESRCH)
		(void)kill(t->pid, SIGTERM);
}

/* Whether pid's environment carries mark (its /proc environ). */
static int
has_mark(pid_t pid, const char *mark)
{
	char	path[64], want[96], *buf;
	ssize_t n, off = 0;
	size_t	wl;
	int	fd, found = 0;

	(void)snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	if ((buf = malloc(ENVIRON_MAX)) == NULL) {
		(void)close(fd);
		return (0);
	}
	while (off < ENVIRON_MAX - 1 &&
	    (n = read(fd, buf + off, (size_t)(ENVIRON_MAX - 1 - off))) > 0)
		off += n;
	(void)close(fd);
	buf[off] = '\0';
	wl = (size_t)snprintf(want, sizeof(want), "%s=%s", MARK_ENV, mark);
	for (n = 0; n < off; n += (ssize_t)strlen(buf + n) + 1) {
		if (strlen(buf + n) == wl && memcmp(buf + n, want, wl) == 0) {
			found = 1;
			break;
		}
	}
	free(buf);
	return (found);
}

/* Send sig to every process that carries the task's mark; how many. */
int
agent_task_signal_marked(const struct agent_task *t, int sig)
{
	struct dirent *de;
	DIR	      *d;
	char	      *end;
	long	       pid;
	int	       n = 0;

	if ((d = opendir("/proc")) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 1 || pid == (long)getpid())
			continue;
		if (has_mark((pid_t)pid, t->mark) && kill((pid_t)pid, sig) == 0)
			n++;
	}
	(void)closedir(d);
	return (n);
}

/*
 * Reap children (our tasks, their stop scripts and adopted orphans);
 * note our tasks' ends, and their stop scripts' (never a task's end).
 */
void
agent_tasks_reap(struct agent_task **tasks, size_t n)
{
	pid_t  pid;
	int    status;
	size_t i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < n; i++) {
			if (tasks[i]->stop_pid == pid) {
				tasks[i]->stop_status = status;
				continue;
			}
			if (tasks[i]->pid != pid)
				continue;
			tasks[i]->exit_status = WIFEXITED(status)
			    ? WEXITSTATUS(status)
			    : 128 + WTERMSIG(status);
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
	int group;

	if (t->state != AGENT_TASK_RUNNING && t->state != AGENT_TASK_STOPPING)
		return (0);
	/* An adopted main process is not our child: watch its /proc file. */
	if (!t->main_gone && t->adopted && agent_proc_sample(&t->proc) == 0)
		t->main_gone = 1;
	if (!t->main_gone && t->proc.fd != -1 && t->proc.state == 'Z')
		t->main_gone = 1;
	group = kill(-t->pid, 0) == 0;

	if (t->state == AGENT_TASK_RUNNING) {
		if (!t->main_gone)
			return (0);
		/* The main process ended by itself: its group goes too. */
		if (group)
			(void)kill(-t->pid, SIGKILL);
		(void)agent_task_signal_marked(t, SIGKILL);
		t->state = AGENT_TASK_EXITED;
		t->pid = 0;
		agent_proc_close(&t->proc);
		return (1);
	}

	/* STOPPING */
	if (t->stop_pid != 0 && t->stop_status != -1) {
		/* The stop script ended; when it failed, SIGTERM. */
		if (t->stop_how == AGENT_STOP_SCRIPT &&
		    (group || !t->main_gone) &&
		    (!WIFEXITED(t->stop_status) ||
			WEXITSTATUS(t->stop_status) != 0)) {
			log_info("task %" PRId64 ": the stop script failed "
				 "(status %d): SIGTERM",
			    t->id,
			    WIFEXITED(t->stop_status)
				? WEXITSTATUS(t->stop_status)
				: 128 + WTERMSIG(t->stop_status));
			t->stop_how = AGENT_STOP_TERM;
			if (kill(-t->pid, SIGTERM) == -1 && errno == ESRCH)
				(void)kill(t->pid, SIGTERM);
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
		(void)kill(-t->pid, SIGKILL);
		(void)kill(t->pid, SIGKILL);
		if (t->stop_pid != 0)
			(void)kill(-t->stop_pid, SIGKILL);
		return (0);
	}
	/* The task is gone; its stop script may end until the deadline. */
	if (t->stop_pid != 0) {
		if (agent_mono_ms() >= t->stop_deadline)
			(void)kill(-t->stop_pid, SIGKILL);
		return (0);
	}
	/* The group is gone; so must be anything that left it. */
	if (agent_task_signal_marked(t, SIGKILL) > 0 &&
	    t->stop_how == AGENT_STOP_TERM)
		t->stop_how = AGENT_STOP_TERM_STRAYS;
	t->stop_ms = agent_mono_ms() - t->stop_started;
	t->state = AGENT_TASK_STOPPED;
	t->pid = 0;
	agent_proc_close(&t->proc);
	return (1);
}

/*
 * Adopt a task the agent started before it restarted: pid must still be
 * the same process (its /proc start time).  Returns 1, else 0 (stopped).
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
		return (0);
	}
	t->pid = pid;
	t->starttime = starttime;
	t->state = AGENT_TASK_RUNNING;
	t->adopted = 1;
	t->main_gone = 0;
	return (1);
}

void
agent_task_cleanup(struct agent_task *t)
{
	agent_proc_close(&t->proc);
	free(t->log);
	t->log = NULL;
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
	return (agent_log_rotate(path, max, keep));
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	if (flag == FTW_DP)
		return (rmdir(path) == -1 ? -1 : 0);
	return (unlink(path) == -1 ? -1 : 0);
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
	char	    path[1200];
	int	    i;

	for (i = 0; i <= AGENT_LOG_KEEP + 1; i++) {
		if (i == 0)
			(void)snprintf(path, sizeof(path), "%s/%" PRId64 ".log",
			    logdir, t->id);
		else
			(void)snprintf(path, sizeof(path),
			    "%s/%" PRId64 ".log.%d", logdir, t->id, i);
		(void)unlink(path);
	}
	dir = json_string_value(json_object_get(t->spec, "deploy_dir"));
	if (!t->created_dir || dir == NULL)
		return (1);
	/* Never a top-level directory, whatever the record says. */
	if (strchr(dir + 1, '/') == NULL) {
		(void)snprintf(why, whylen, "refusing to remove %s", dir);
		return (0);
	}
	if (nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == -1 &&
	    errno != ENOENT) {
		(void)snprintf(why, whylen, "cannot remove %s: %s", dir,
		    strerror(errno));
		return (0);
	}
	return (1);
}
