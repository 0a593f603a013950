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
 * Descendants that left the group (double fork plus setsid, as daemons
 * do) are found by the task's cgroup v2 where the host has one
 * (cgroup.c): the child enters it before exec, and everything it forks
 * stays there.  Otherwise by the mark every process of a task inherits,
 * YARD_TASK_MARK=<install id>-<task id>, unique per agent installation,
 * and only in processes of the task's user.  The agent is a child
 * subreaper (agent_supervise_init()), so such orphans are its children
 * and are reaped: no zombies are left behind.
 */

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

#define MARK_ENV       "YARD_TASK_MARK"
#define ENVIRON_MAX    (256 * 1024)
#define STRAYS_WAIT_MS 2000 /* for killed strays to go, at most */
#define BASE_PATH      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* cgroup.procs of the task's cgroup, for the child spawn() forks. */
static int spawn_cgfd = -1;

static int    mkdirs(const char *);
static int    has_mark(pid_t, const char *);
static void   child_exec(const struct agent_task *, const char *,
      const char *const *, char *const *, int, int);
static char **child_env(const struct agent_task *, const json_t *, size_t *,
    int);
static char **argv_build(const struct agent_task *, const char **);
static pid_t  spawn(struct agent_task *, const char *, const char *const *, int,
     int, char *, size_t);
static int    cgroup_prepare(struct agent_task *, char *, size_t);
static void   cgroup_enter(int);
static void   cgroup_tidy(struct agent_task *);
static int    kill_rest(struct agent_task *);
static void   env_free(char **, size_t);
static int    stop_script(struct agent_task *);
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
	t->uid = -1;
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
	home = t->acct.valid ? t->acct.home
	    : t->rdir[0] != '\0'
	    ? t->rdir
	    : json_string_value(json_object_get(t->spec, "deploy_dir"));
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
		if (asprintf(&s, "CATALINA_BASE=%s",
			json_object_get(tc, "base") != NULL
			    ? json_string_value(json_object_get(tc, "base"))
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
 * In the child: never returns.  A failure before exec is written to
 * statusfd (close-on-exec: the parent reads EOF when exec succeeded).
 */
static void
child_exec(const struct agent_task *t, const char *file,
    const char *const *argv, char *const *envp, int logfd, int statusfd)
{
	const char *dir, *cwd;
	char	    here[PATH_MAX];
	sigset_t    none;
	int	    fd;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	cgroup_enter(statusfd);
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
	/* Nothing else of the agent's reaches the program: its
	 * connections, journal and state files close on exec. */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == -1) {
		long max = sysconf(_SC_OPEN_MAX);

		for (fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	/* The policy's account, for good (system calls only: the agent
	 * may have had threads when it forked). */
	if (t->acct.valid && t->acct.change) {
		if (setgroups((size_t)t->acct.ngroups, t->acct.groups) == -1 ||
		    setgid(t->acct.gid) == -1 || setuid(t->acct.uid) == -1) {
			dprintf(statusfd, "cannot become %s: %s", t->acct.name,
			    strerror(errno));
			_exit(126);
		}
		if (setuid(0) != -1 || getuid() != t->acct.uid ||
		    geteuid() != t->acct.uid || getgid() != t->acct.gid ||
		    getegid() != t->acct.gid) {
			dprintf(statusfd, "cannot drop root for %s",
			    t->acct.name);
			_exit(126);
		}
	}
	dir = t->rdir[0] != '\0'
	    ? t->rdir
	    : json_string_value(json_object_get(t->spec, "deploy_dir"));
	cwd = json_string_value(
	    json_object_get(json_object_get(t->spec, "console"), "cwd"));
	if (dir == NULL || chdir(dir) == -1) {
		dprintf(statusfd, "cannot enter %s: %s",
		    dir != NULL ? dir : "(no deploy_dir)", strerror(errno));
		_exit(126);
	}
	/* What was checked is where it runs: no link swapped in since. */
	if (t->rdir[0] != '\0' &&
	    (getcwd(here, sizeof(here)) == NULL || strcmp(here, dir) != 0)) {
		dprintf(statusfd,
		    "policy: deploy_dir %s changed while it "
		    "was checked",
		    dir);
		_exit(126);
	}
	if (cwd != NULL && chdir(cwd) == -1) {
		dprintf(statusfd, "cannot enter %s: %s", cwd, strerror(errno));
		_exit(126);
	}
	execvpe(file, (char *const *)(uintptr_t)argv, envp);
	dprintf(statusfd, "cannot run %s: %s", file, strerror(errno));
	_exit(127);
}

/*
 * The task's cgroup, made ready for a start: what the last instance may
 * have left in it is killed, its cgroup.procs is opened for the child
 * (spawn_cgfd).  Without cgroup tracking t->cgroup is "".  Returns 1, or
 * 0 with why.
 */
static int
cgroup_prepare(struct agent_task *t, char *err, size_t errlen)
{
	char path[AGENT_CGROUP_MAX];

	if (t->cgroup[0] != '\0' && agent_cgroup_populated(t->cgroup) == 1) {
		log_warnx("task %" PRId64 ": killing what its last run left "
			  "in %s",
		    t->id, t->cgroup);
		(void)agent_cgroup_kill(t->cgroup);
	}
	if (t->cgroup[0] != '\0' && agent_cgroup_remove(t->cgroup))
		t->cgroup[0] = '\0';
	if (agent_cgroup_task(t->id, path, sizeof(path)) == -1) {
		(void)snprintf(err, errlen, "cannot create its cgroup: %s",
		    strerror(errno));
		return (0);
	}
	if (path[0] == '\0')
		return (1);
	(void)snprintf(t->cgroup, sizeof(t->cgroup), "%s", path);
	if ((spawn_cgfd = agent_cgroup_open_procs(path)) == -1) {
		(void)snprintf(err, errlen, "cannot open %s/cgroup.procs: %s",
		    path, strerror(errno));
		return (0);
	}
	return (1);
}

/*
 * In the child, first thing: enter the task's cgroup, before it can fork
 * and before it changes user (the kernel checks the opener's rights, but
 * kernels before 5.16 checked the writer's).  Writing "0" to a
 * cgroup.procs the parent opened (rather than clone3 CLONE_INTO_CGROUP,
 * Linux 5.7 and not wrapped by glibc) works on every cgroup v2 kernel,
 * and a failure is a failed start like any other before exec.
 */
static void
cgroup_enter(int statusfd)
{
	if (spawn_cgfd == -1)
		return;
	if (write(spawn_cgfd, "0", 1) != 1) {
		dprintf(statusfd, "cannot enter its cgroup: %s",
		    strerror(errno));
		_exit(126);
	}
	(void)close(spawn_cgfd);
}

/* After the task's processes went: its empty cgroup is removed. */
static void
cgroup_tidy(struct agent_task *t)
{
	if (t->cgroup[0] == '\0' || agent_cgroup_populated(t->cgroup) == 1)
		return;
	if (agent_cgroup_remove(t->cgroup))
		t->cgroup[0] = '\0';
}

/*
 * SIGKILL what is left of the task outside its group: its cgroup, or
 * the processes carrying its mark.  Returns 1 when anything was left.
 */
static int
kill_rest(struct agent_task *t)
{
	if (t->cgroup[0] != '\0') {
		if (agent_cgroup_populated(t->cgroup) != 1)
			return (0);
		(void)agent_cgroup_kill(t->cgroup);
		return (1);
	}
	return (agent_task_signal_marked(t, SIGKILL) > 0);
}

/*
 * Fork and exec file in a session of its own (child_exec()), with the
 * task's environment (its mark when mark is set) and logfd as stdout and
 * stderr.  The task's processes (mark set) enter its cgroup; the stop
 * script does not.  Waits only for the exec.  Returns the pid, or -1
 * with why.
 */
static pid_t
spawn(struct agent_task *t, const char *file, const char *const *argv,
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
	if (mark && !cgroup_prepare(t, err, errlen))
		goto done;
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
	/* Whose processes the fallback may signal: the exec'd child's. */
	if (mark && pid != -1)
		t->uid = agent_proc_uid((int)pid);
done:
	if (spawn_cgfd != -1) {
		(void)close(spawn_cgfd);
		spawn_cgfd = -1;
	}
	if (mark && pid == -1)
		cgroup_tidy(t);
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
	char	    path[1024], real[PATH_MAX];
	char	  **argv = NULL;
	pid_t	    pid;
	int	    logfd = -1, ok = 0, made, dfd = -1;

	if (t->state == AGENT_TASK_RUNNING || t->state == AGENT_TASK_STOPPING) {
		(void)snprintf(err, errlen, "already %s (pid %d)",
		    agent_task_state_name(t->state), (int)t->pid);
		return (0);
	}
	dir = t->rdir[0] != '\0'
	    ? t->rdir
	    : json_string_value(json_object_get(t->spec, "deploy_dir"));
	/* What the agent creates, uninstall may remove; nothing else. */
	made = dir != NULL && access(dir, F_OK) == -1 && errno == ENOENT;
	if (made)
		t->created_dir = 1;
	if (dir == NULL || !mkdirs(dir) || !mkdirs(logdir)) {
		(void)snprintf(err, errlen, "cannot create %s: %s",
		    dir != NULL ? dir : "(no deploy_dir)", strerror(errno));
		return (0);
	}
	if (t->rdir[0] != '\0' &&
	    (realpath(dir, real) == NULL || strcmp(real, dir) != 0)) {
		(void)snprintf(err, errlen,
		    "policy: deploy_dir %s changed while it was checked", dir);
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

/*
 * Send sig to every process that carries the task's mark and runs as the
 * task's user (its real uid: a process of another user that copied the
 * mark is not the task's); how many.  None while the user is unknown.
 */
int
agent_task_signal_marked(const struct agent_task *t, int sig)
{
	struct dirent *de;
	DIR	      *d;
	char	      *end;
	long	       pid;
	int	       n = 0;

	if (t->uid < 0 || (d = opendir("/proc")) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 1 || pid == (long)getpid())
			continue;
		if (has_mark((pid_t)pid, t->mark) &&
		    agent_proc_uid((int)pid) == t->uid &&
		    kill((pid_t)pid, sig) == 0)
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
	uint64_t now;
	int	 group, status;

	if (t->state != AGENT_TASK_RUNNING && t->state != AGENT_TASK_STOPPING) {
		cgroup_tidy(t);
		return (0);
	}
	/* An adopted main process is not our child: watch its /proc file. */
	if (!t->main_gone && t->adopted && agent_proc_sample(&t->proc) == 0)
		t->main_gone = 1;
	if (!t->main_gone && t->proc.fd != -1 && t->proc.state == 'Z') {
		/*
		 * A sample saw our child as a zombie before agent_tasks_reap()
		 * did: reap it here, or its exit status would read unknown.
		 */
		if (!t->adopted && waitpid(t->pid, &status, WNOHANG) == t->pid)
			t->exit_status = WIFEXITED(status)
			    ? WEXITSTATUS(status)
			    : 128 + WTERMSIG(status);
		t->main_gone = 1;
	}
	group = kill(-t->pid, 0) == 0;

	if (t->state == AGENT_TASK_RUNNING) {
		if (!t->main_gone)
			return (0);
		/* The main process ended by itself: the rest goes too. */
		if (group)
			(void)kill(-t->pid, SIGKILL);
		(void)kill_rest(t);
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
		if (t->cgroup[0] != '\0')
			(void)agent_cgroup_kill(t->cgroup);
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
	now = agent_mono_ms();
	if (kill_rest(t)) {
		if (t->stop_how == AGENT_STOP_TERM)
			t->stop_how = AGENT_STOP_TERM_STRAYS;
		/* A cgroup: stopped once it is empty (or we gave up). */
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
	cgroup_tidy(t);
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
		/* It ended while we were away: the rest of it goes too. */
		if (kill_rest(t))
			log_info("task %" PRId64 ": killed what its ended "
				 "run left",
			    t->id);
		cgroup_tidy(t);
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
	return (agent_log_rotate(path, NULL, max, keep));
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	if (flag == FTW_DP)
		return (rmdir(path) == -1 ? -1 : 0);
	return (unlink(path) == -1 ? -1 : 0);
}

/* As remove_one(), but the top directory stays (its parent removes it). */
static int
remove_below(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	if (f->level == 0)
		return (0);
	return (remove_one(path, st, flag, f));
}

/*
 * Empty dir as the task's account, in a child: a task's files are its
 * account's to change, so a link swapped in during the walk (by another
 * process of that account) can only lead to what the account could
 * remove anyway, never to what only root may.  Returns 1, or 0 (errno).
 */
static int
remove_as(const struct agent_account *a, const char *dir)
{
	pid_t pid;
	int   status;

	if ((pid = fork()) == -1)
		return (0);
	if (pid == 0) {
		if (setgroups((size_t)a->ngroups, a->groups) == -1 ||
		    setgid(a->gid) == -1 || setuid(a->uid) == -1 ||
		    setuid(0) != -1)
			_exit(2);
		_exit(nftw(dir, remove_below, 16,
			  FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == -1 &&
			    errno != ENOENT
			? 1
			: 0);
	}
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return (0);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errno = WIFEXITED(status) && WEXITSTATUS(status) == 2 ? EPERM
								      : EACCES;
		return (0);
	}
	return (1);
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

	if (t->cgroup[0] != '\0')
		(void)agent_cgroup_remove(t->cgroup);
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
	/* Run as another account, the task removes what it holds as that
	 * account; the agent then removes the empty directory it made. */
	if (t->acct.valid && t->acct.change) {
		if ((!remove_as(&t->acct, dir) ||
			(rmdir(dir) == -1 && errno != ENOENT))) {
			(void)snprintf(why, whylen, "cannot remove %s: %s", dir,
			    strerror(errno));
			return (0);
		}
		return (1);
	}
	if (nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == -1 &&
	    errno != ENOENT) {
		(void)snprintf(why, whylen, "cannot remove %s: %s", dir,
		    strerror(errno));
		return (0);
	}
	return (1);
}
