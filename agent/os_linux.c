/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The Linux implementation of agent/os.h: spawning a task into its
 * tracked group, signalling and killing the group, collecting children,
 * events, random bytes, atomic file replace and accounts.
 *
 * A task runs in a session and process group of its own.  Descendants
 * that left the group (double fork plus setsid, as daemons do) are found
 * by the task's cgroup v2 where the host has one (cgroup.c): the child
 * enters it before exec, and everything it forks stays there.  Otherwise
 * by the mark every process of a task inherits, YARD_TASK_MARK=<install
 * id>-<task id>, unique per agent installation, and only in processes of
 * the task's user.  The agent is a child subreaper, so such orphans are
 * its children and are reaped: no zombies are left behind.
 */

#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "os_linux.h"

#define MARK_ENV    "YARD_TASK_MARK"
#define ENVIRON_MAX (256 * 1024)
/* Each of a relayed task's pipes holds this much before the task waits
 * (the relay is slow to read only when the disk is). */
#define RELAY_PIPE_SIZE (256 * 1024)

/* cgroup.procs of the task's cgroup, for the child agent_os_spawn()
 * forks. */
static int spawn_cgfd = -1;
/* The signals the loop waits for, as a descriptor curl polls. */
static int sigfd = -1;

static void child_exec(const struct agent_os_spawn *, int, int, int);
static int  relay_start(const struct agent_os_spawn *, int *, int *, char *,
     size_t);
static int  cgroup_prepare(struct agent_task *, char *, size_t);
static void cgroup_enter(int);
static int  has_mark(pid_t, const char *);
static int  exit_code(int);
static int  remove_one(const char *, const struct stat *, int, struct FTW *);
static int  remove_below(const char *, const struct stat *, int, struct FTW *);

void
agent_os_supervisor_init(void)
{
	/* Orphaned descendants of tasks become ours, and are reaped. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		log_warn("prctl(PR_SET_CHILD_SUBREAPER)");
}

int
agent_os_tracking_init(const char *install_id)
{
	return (agent_cgroup_init(install_id));
}

void
agent_os_tracking_fini(void)
{
	agent_cgroup_fini();
}

const char *
agent_os_tracking_name(void)
{
	return (agent_tracking_name());
}

int
agent_os_group_valid(const char *handle, int64_t id)
{
	return (agent_cgroup_valid(handle, id));
}

/* A wait status as the exit code the agent reports. */
static int
exit_code(int status)
{
	return (
	    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/*
 * In the child: never returns.  A failure before exec is written to
 * statusfd (close-on-exec: the parent reads EOF when exec succeeded).
 * out and err are the relay's pipes (-1: both go to sp->logfd).
 */
static void
child_exec(const struct agent_os_spawn *sp, int statusfd, int out, int err)
{
	const struct agent_account *a = sp->acct;
	char			    here[PATH_MAX];
	sigset_t		    none;
	int			    fd;

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
	if (out != -1 && err != -1) {
		(void)dup2(out, 1);
		(void)dup2(err, 2);
	} else {
		(void)dup2(sp->logfd, 1);
		(void)dup2(sp->logfd, 2);
	}
	/* Nothing else of the agent's reaches the program: its
	 * connections, journal and state files close on exec. */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == -1) {
		long max = sysconf(_SC_OPEN_MAX);

		for (fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	/* The policy's account, for good (system calls only: the agent
	 * may have had threads when it forked). */
	if (a != NULL) {
		if (setgroups((size_t)a->ngroups, a->groups) == -1 ||
		    setgid(a->gid) == -1 || setuid(a->uid) == -1) {
			dprintf(statusfd, "cannot become %s: %s", a->name,
			    strerror(errno));
			_exit(126);
		}
		if (setuid(0) != -1 || getuid() != a->uid ||
		    geteuid() != a->uid || getgid() != a->gid ||
		    getegid() != a->gid) {
			dprintf(statusfd, "cannot drop root for %s", a->name);
			_exit(126);
		}
	}
	if (sp->dir == NULL || chdir(sp->dir) == -1) {
		dprintf(statusfd, "cannot enter %s: %s",
		    sp->dir != NULL ? sp->dir : "(no deploy_dir)",
		    strerror(errno));
		_exit(126);
	}
	/* What was checked is where it runs: no link swapped in since. */
	if (sp->dir_exact &&
	    (getcwd(here, sizeof(here)) == NULL ||
		strcmp(here, sp->dir) != 0)) {
		dprintf(statusfd,
		    "policy: deploy_dir %s changed while it "
		    "was checked",
		    sp->dir);
		_exit(126);
	}
	if (sp->cwd != NULL && chdir(sp->cwd) == -1) {
		dprintf(statusfd, "cannot enter %s: %s", sp->cwd,
		    strerror(errno));
		_exit(126);
	}
	execvpe(sp->file, (char *const *)(uintptr_t)sp->argv, sp->envp);
	dprintf(statusfd, "cannot run %s: %s", sp->file, strerror(errno));
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
void
agent_os_task_tidy(struct agent_task *t)
{
	if (t->cgroup[0] == '\0' || agent_cgroup_populated(t->cgroup) == 1)
		return;
	if (agent_cgroup_remove(t->cgroup))
		t->cgroup[0] = '\0';
}

void
agent_os_task_forget(const struct agent_task *t)
{
	if (t->cgroup[0] != '\0')
		(void)agent_cgroup_remove(t->cgroup);
}

/*
 * SIGKILL what is left of the task outside its group: its cgroup, or
 * the processes carrying its mark.  Returns 1 when anything was left.
 */
int
agent_os_task_kill_rest(struct agent_task *t)
{
	if (t->cgroup[0] != '\0') {
		if (agent_cgroup_populated(t->cgroup) != 1)
			return (0);
		(void)agent_cgroup_kill(t->cgroup);
		return (1);
	}
	return (agent_task_signal_marked(t, SIGKILL) > 0);
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
 * Start the log relay (AGENT_RELAY_PROGRAM next to our executable) on
 * two new pipes; 1 with their write ends (close-on-exec) for the task,
 * or 0 with why.  Waits only for the exec.  The relay is our child until
 * we exit (agent_os_reap() collects it like any), in a session of its
 * own, with no environment and none of our descriptors or blocked
 * signals; it dies only when both pipes are closed.
 */
static int
relay_start(const struct agent_os_spawn *sp, int *wout, int *werr, char *why,
    size_t whylen)
{
	char	 prog[PATH_MAX], maxs[24], keeps[16], msg[256], *slash;
	char	*argv[5], *envp[1];
	sigset_t none;
	pid_t	 pid;
	ssize_t	 n;
	int	 out[2] = { -1, -1 }, err[2] = { -1, -1 }, sfd[2] = { -1, -1 };
	int	 fd, s, ok = 0;

	if ((n = readlink("/proc/self/exe", prog, sizeof(prog) - 1)) <= 0) {
		(void)snprintf(why, whylen, "cannot find our executable: %s",
		    strerror(errno));
		return (0);
	}
	prog[n] = '\0';
	if ((slash = strrchr(prog, '/')) != NULL)
		*slash = '\0';
	if (strlen(prog) + 1 + strlen(AGENT_RELAY_PROGRAM) >= sizeof(prog)) {
		(void)snprintf(why, whylen, "path too long");
		return (0);
	}
	(void)strcat(prog, "/" AGENT_RELAY_PROGRAM);
	if (pipe2(out, O_CLOEXEC) == -1 || pipe2(err, O_CLOEXEC) == -1 ||
	    pipe2(sfd, O_CLOEXEC) == -1) {
		(void)snprintf(why, whylen, "pipe: %s", strerror(errno));
		goto done;
	}
	(void)fcntl(out[1], F_SETPIPE_SZ, RELAY_PIPE_SIZE);
	(void)fcntl(err[1], F_SETPIPE_SZ, RELAY_PIPE_SIZE);
	(void)snprintf(maxs, sizeof(maxs), "%" PRId64, sp->log_max);
	(void)snprintf(keeps, sizeof(keeps), "%d", sp->log_keep);
	argv[0] = (char *)(uintptr_t)AGENT_RELAY_PROGRAM;
	argv[1] = (char *)(uintptr_t)sp->log;
	argv[2] = maxs;
	argv[3] = keeps;
	argv[4] = NULL;
	envp[0] = NULL;
	if ((pid = fork()) == -1) {
		(void)snprintf(why, whylen, "fork: %s", strerror(errno));
		goto done;
	}
	if (pid == 0) {
		/* System calls only (the agent may have threads). */
		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		(void)setsid();
		/* It may run for months: hold no directory of ours. */
		if (chdir("/") == -1)
			_exit(126);
		/* Out of the way of 3 and 4 first, then into them. */
		if ((s = fcntl(sfd[1], F_DUPFD_CLOEXEC, 10)) == -1 ||
		    (out[0] = fcntl(out[0], F_DUPFD_CLOEXEC, 10)) == -1 ||
		    (err[0] = fcntl(err[0], F_DUPFD_CLOEXEC, 10)) == -1 ||
		    dup2(out[0], 3) == -1 || dup2(err[0], 4) == -1) {
			dprintf(sfd[1], "cannot set up the relay: %s",
			    strerror(errno));
			_exit(126);
		}
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			(void)dup2(fd, 0);
			(void)dup2(fd, 1);
			(void)dup2(fd, 2);
		}
		(void)close_range(5, ~0U, CLOSE_RANGE_CLOEXEC);
		execve(prog, argv, envp);
		dprintf(s, "cannot run %s: %s", prog, strerror(errno));
		_exit(127);
	}
	(void)close(sfd[1]);
	sfd[1] = -1;
	do {
		n = read(sfd[0], msg, sizeof(msg) - 1);
	} while (n == -1 && errno == EINTR);
	if (n != 0) {
		msg[n > 0 ? n : 0] = '\0';
		(void)snprintf(why, whylen, "%s",
		    n > 0 ? msg : "the relay did not start");
		(void)waitpid(pid, NULL, 0);
		goto done;
	}
	*wout = out[1];
	*werr = err[1];
	out[1] = err[1] = -1;
	ok = 1;
done:
	if (out[0] != -1)
		(void)close(out[0]);
	if (out[1] != -1)
		(void)close(out[1]);
	if (err[0] != -1)
		(void)close(err[0]);
	if (err[1] != -1)
		(void)close(err[1]);
	if (sfd[0] != -1)
		(void)close(sfd[0]);
	if (sfd[1] != -1)
		(void)close(sfd[1]);
	return (ok);
}

/*
 * Fork and exec in a session of its own (child_exec()); the task's
 * processes (tracked) enter its cgroup, the stop script does not.  Its
 * output goes through a relay when sp->log is set and one starts.
 * Waits only for the exec.
 */
pid_t
agent_os_spawn(struct agent_task *t, const struct agent_os_spawn *sp,
    int tracked, char *err, size_t errlen)
{
	char	why[256];
	pid_t	pid = -1;
	ssize_t n;
	int	sfd[2], wout = -1, werr = -1;

	if (sp->log != NULL && !relay_start(sp, &wout, &werr, why, sizeof(why)))
		log_warnx("task %" PRId64 ": no log relay (%s): its stdout "
			  "and stderr go to %s unmarked",
		    t->id, why, sp->log);
	if (tracked && !cgroup_prepare(t, err, errlen))
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
		child_exec(sp, sfd[1], wout, werr);
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
	if (tracked && pid != -1)
		t->uid = agent_proc_uid((int)pid);
done:
	/* Only the task holds the pipes now: the relay ends with it. */
	if (wout != -1)
		(void)close(wout);
	if (werr != -1)
		(void)close(werr);
	if (spawn_cgfd != -1) {
		(void)close(spawn_cgfd);
		spawn_cgfd = -1;
	}
	if (tracked && pid == -1)
		agent_os_task_tidy(t);
	return (pid);
}

int
agent_os_group_alive(pid_t leader)
{
	return (kill(-leader, 0) == 0);
}

void
agent_os_group_term(pid_t leader)
{
	if (kill(-leader, SIGTERM) == -1 && errno == ESRCH)
		(void)kill(leader, SIGTERM);
}

void
agent_os_group_kill(pid_t leader)
{
	(void)kill(-leader, SIGKILL);
}

void
agent_os_task_kill(struct agent_task *t)
{
	(void)kill(-t->pid, SIGKILL);
	(void)kill(t->pid, SIGKILL);
	if (t->cgroup[0] != '\0')
		(void)agent_cgroup_kill(t->cgroup);
}

int
agent_os_reap(pid_t *pid, int *code, int *sig)
{
	int status;

	if ((*pid = waitpid(-1, &status, WNOHANG)) <= 0)
		return (0);
	*code = exit_code(status);
	*sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	return (1);
}

int
agent_os_reap_pid(pid_t pid, int *code, int *sig)
{
	int status;

	if (waitpid(pid, &status, WNOHANG) != pid)
		return (0);
	*code = exit_code(status);
	*sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	return (1);
}

const char *
agent_os_signame(int sig)
{
	/* glibc 2.32: "KILL" for SIGKILL, NULL for a number it lacks. */
	return (sig > 0 ? sigabbrev_np(sig) : NULL);
}

int
agent_os_sig_fault(int sig)
{
	switch (sig) {
	case SIGSEGV:
	case SIGABRT:
	case SIGBUS:
	case SIGFPE:
	case SIGILL:
	case SIGSYS:
	case SIGTRAP:
	case SIGXCPU:
	case SIGXFSZ:
		return (1);
	}
	return (0);
}

/*
 * A worker child: the signals the agent blocks for its signalfd are
 * unblocked, SIGPIPE is the default again, the signalfd is closed, and
 * fn's return value is the exit code (_exit: nothing of the agent's is
 * flushed or torn down twice).
 */
pid_t
agent_os_worker(int (*fn)(void *, int), void *arg, int *rfd)
{
	sigset_t none;
	pid_t	 pid, parent;
	int	 fds[2];

	parent = getpid();
	if (pipe2(fds, O_CLOEXEC) == -1)
		return (-1);
	if ((pid = fork()) == -1) {
		(void)close(fds[0]);
		(void)close(fds[1]);
		return (-1);
	}
	if (pid == 0) {
		/* A worker never outlives the agent: one left behind (the
		 * agent killed) would write into .staging after the next
		 * agent's recovery cleaned it. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != parent)
			_exit(127);
		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		(void)signal(SIGPIPE, SIG_DFL);
		(void)signal(SIGTERM, SIG_DFL);
		(void)signal(SIGHUP, SIG_DFL);
		(void)signal(SIGINT, SIG_DFL);
		/* Nothing of the agent's but the pipe, at 3. */
		if (fds[1] != 3) {
			if (dup2(fds[1], 3) == -1)
				_exit(127);
			fds[1] = 3;
		}
		(void)close_range(4, ~0U, 0);
		_exit(fn(arg, fds[1]) & 0xff);
	}
	(void)close(fds[1]);
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1) {
		(void)close(fds[0]);
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return (-1);
	}
	*rfd = fds[0];
	return (pid);
}

int
agent_os_exec_stage(const char *job, int fd, char *path, size_t len)
{
	char	self[PATH_MAX], *slash;
	char   *argv[3];
	ssize_t n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		(void)snprintf(path, len, "%s", AGENT_STAGE_PROGRAM);
		return (-1);
	}
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	if (snprintf(path, len, "%s/%s", self, AGENT_STAGE_PROGRAM) >=
	    (int)len) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if (fd != STDOUT_FILENO && dup2(fd, STDOUT_FILENO) == -1)
		return (-1);
	argv[0] = self;
	(void)snprintf(self, sizeof(self), "%s", AGENT_STAGE_PROGRAM);
	if ((argv[1] = strdup(job)) == NULL)
		return (-1);
	argv[2] = NULL;
	(void)execv(path, argv);
	return (-1);
}

void
agent_os_worker_kill(pid_t pid)
{
	if (pid > 1)
		(void)kill(pid, SIGKILL);
}

/* Adopted after a restart: the task's own stdout, if a file. */
int
agent_os_stdout_open(pid_t pid)
{
	struct stat st;
	char	    path[64];
	int	    fd;

	(void)snprintf(path, sizeof(path), "/proc/%d/fd/1", (int)pid);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) != -1 &&
	    (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))) {
		(void)close(fd);
		fd = -1;
	}
	return (fd);
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
 * As an account: in a child, so that a link swapped in during the walk
 * (by another process of that account) can only lead to what the
 * account could remove anyway, never to what only root may.
 */
int
agent_os_remove_tree(const struct agent_account *a, const char *dir)
{
	pid_t pid;
	int   status;

	if (a == NULL)
		return (nftw(dir, remove_one, 16,
			    FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != -1 ||
		    errno == ENOENT);
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
 * Signals arrive on a signalfd that curl_multi_poll() watches next to
 * the transfers; SIGCHLD is blocked too (children are collected in the
 * tasks' tick, which the wait wakes for).
 */
int
agent_os_events_init(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1) {
		log_warn("sigprocmask");
		return (0);
	}
	if ((sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		log_warn("signalfd");
		return (0);
	}
	(void)signal(SIGPIPE, SIG_IGN);
	return (1);
}

void
agent_os_events_fini(void)
{
	if (sigfd != -1)
		(void)close(sigfd);
	sigfd = -1;
}

void
agent_os_wait(CURLM *multi, int ms)
{
	struct curl_waitfd wfd;

	wfd.fd = sigfd;
	wfd.events = CURL_WAIT_POLLIN;
	wfd.revents = 0;
	if (curl_multi_poll(multi, &wfd, 1, ms, NULL) != CURLM_OK)
		log_warnx("curl_multi_poll failed");
}

enum agent_os_event
agent_os_event_next(int *code)
{
	struct signalfd_siginfo si;

	while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		*code = (int)si.ssi_signo;
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			return (AGENT_OS_EVENT_QUIT);
		case SIGHUP:
			return (AGENT_OS_EVENT_RELOAD);
		}
	}
	*code = 0;
	return (AGENT_OS_EVENT_NONE);
}

int
agent_os_random(void *buf, size_t len, int wait)
{
	return (getrandom(buf, len, wait ? 0 : GRND_NONBLOCK) == (ssize_t)len);
}

int
agent_os_dir_sync(const char *dir)
{
	int fd, ret;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (0);
	ret = fsync(fd) == 0;
	close(fd);
	return (ret);
}

/* Temp file, fsync, rename, fsync the dir. */
int
agent_write_atomic(const char *dir, const char *name, const char *data,
    size_t len, int mode)
{
	char	tmp[AGENT_PATH_MAX], path[AGENT_PATH_MAX];
	size_t	off;
	ssize_t n;
	int	fd, ret;

	ret = 0;
	fd = -1;
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >=
		(int)sizeof(tmp) ||
	    snprintf(path, sizeof(path), "%s/%s", dir, name) >=
		(int)sizeof(path)) {
		log_warnx("%s/%s: path too long", dir, name);
		return (0);
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		log_warn("%s", tmp);
		return (0);
	}
	if (fchmod(fd, (mode_t)mode) == -1) {
		log_warn("chmod %s", tmp);
		goto cleanup;
	}
	for (off = 0; off < len; off += (size_t)n) {
		if ((n = write(fd, data + off, len - off)) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			log_warn("write %s", tmp);
			goto cleanup;
		}
	}
	if (fsync(fd) == -1) {
		log_warn("fsync %s", tmp);
		goto cleanup;
	}
	if (close(fd) == -1) {
		fd = -1;
		log_warn("close %s", tmp);
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		log_warn("rename %s", path);
		goto cleanup;
	}
	if (!agent_os_dir_sync(dir))
		log_warn("fsync %s", dir);
	ret = 1;
cleanup:
	if (fd != -1)
		close(fd);
	if (!ret)
		(void)unlink(tmp);
	return (ret);
}

/*
 * getgrouplist() in a short-lived child: the group database is every
 * service nsswitch.conf names (files, then systemd on Debian), so the
 * first lookup would load libnss_systemd and what it links (libm,
 * libcap: 670 kB resident, B7 in docs/benchmarks.md) into the agent for
 * good.  The child writes the result on a pipe; the parent waits for it
 * at most GROUPS_WAIT_MS.  When no child can be made, the lookup runs
 * here.  Returns getgrouplist()'s answer, -2 when the child failed.
 */
#define GROUPS_WAIT_MS 5000

struct groups_msg {
	int   ret;
	int   n;
	gid_t groups[AGENT_GROUPS_MAX];
};

static int
groups_lookup(const char *name, gid_t gid, gid_t *groups, int *n)
{
	struct groups_msg m;
	struct pollfd	  pfd;
	pid_t		  pid;
	size_t		  got = 0;
	ssize_t		  r;
	int		  p[2], status, k;

	if (*n > AGENT_GROUPS_MAX)
		*n = AGENT_GROUPS_MAX;
	if (pipe2(p, O_CLOEXEC) == -1)
		return (getgrouplist(name, gid, groups, n));
	if ((pid = fork()) == -1) {
		(void)close(p[0]);
		(void)close(p[1]);
		return (getgrouplist(name, gid, groups, n));
	}
	if (pid == 0) {
		memset(&m, 0, sizeof(m));
		m.n = *n;
		m.ret = getgrouplist(name, gid, m.groups, &m.n);
		_exit(write(p[1], &m, sizeof(m)) == (ssize_t)sizeof(m) ? 0 : 1);
	}
	(void)close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	while (got < sizeof(m)) {
		pfd.revents = 0;
		k = poll(&pfd, 1, GROUPS_WAIT_MS);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		r = read(p[0], (char *)&m + got, sizeof(m) - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	(void)close(p[0]);
	if (got < sizeof(m))
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (got < sizeof(m) || m.n < 0 || m.n > AGENT_GROUPS_MAX) {
		log_warnx("groups of %s: the lookup failed", name);
		return (-2);
	}
	if (m.ret != -1)
		memcpy(groups, m.groups, (size_t)m.n * sizeof(*groups));
	*n = m.n;
	return (m.ret);
}

int
agent_account_get(const char *name, const char *dir, struct agent_account *a,
    char *why, size_t whylen)
{
	struct passwd *pw;
	struct stat    st;
	int	       n;

	memset(a, 0, sizeof(*a));
	if ((pw = getpwnam(name)) == NULL) {
		(void)snprintf(why, whylen, "no account named %s here", name);
		return (0);
	}
	(void)snprintf(a->name, sizeof(a->name), "%s", pw->pw_name);
	a->uid = pw->pw_uid;
	a->gid = pw->pw_gid;
	if (pw->pw_dir != NULL && pw->pw_dir[0] == '/' &&
	    stat(pw->pw_dir, &st) == 0 && S_ISDIR(st.st_mode))
		(void)snprintf(a->home, sizeof(a->home), "%s", pw->pw_dir);
	else
		(void)snprintf(a->home, sizeof(a->home), "%s", dir);
	a->change = geteuid() == 0 && a->uid != 0;
	if (a->change) {
		/* Groups now: the child only makes system calls. */
		n = AGENT_GROUPS_MAX;
		switch (groups_lookup(name, a->gid, a->groups, &n)) {
		case -1:
			(void)snprintf(why, whylen,
			    "account %s is in more than %d groups", name,
			    AGENT_GROUPS_MAX);
			return (0);
		case -2:
			(void)snprintf(why, whylen,
			    "the groups of account %s cannot be looked up",
			    name);
			return (0);
		}
		a->ngroups = n;
	}
	a->valid = 1;
	return (1);
}

int
agent_os_admin(void)
{
	return (geteuid() == 0);
}

int
agent_os_account_exists(const char *name, int *is_admin)
{
	struct passwd *pw;

	if ((pw = getpwnam(name)) == NULL)
		return (0);
	*is_admin = pw->pw_uid == 0;
	return (1);
}

int
agent_os_account_usable(const struct agent_account *a, char *self,
    size_t selflen)
{
	struct passwd *pw;

	if (geteuid() == 0 || a->uid == geteuid())
		return (1);
	pw = getpwuid(geteuid());
	(void)snprintf(self, selflen, "%s",
	    pw != NULL ? pw->pw_name : "another account");
	return (0);
}

int
agent_os_fd_path(int fd, char *buf, size_t len)
{
	char	link[64];
	ssize_t n;

	if (len < 2)
		return (0);
	(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, buf, len - 1)) <= 0)
		return (0);
	buf[n] = '\0';
	return (1);
}
