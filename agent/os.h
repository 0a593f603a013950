/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The agent's platform seam: everything the agent asks of the operating
 * system beyond plain files.  The rest of agent/ calls only these; each
 * contract says what a function must do, not how Linux does it, so that
 * another implementation (Windows: job objects, the console control
 * handler, BCryptGenRandom, ReplaceFile) can fill the same functions.
 *
 * The Linux implementation is os_linux.c (spawning, groups, signals,
 * events, random bytes, atomic replace, accounts), os_proc_linux.c
 * (processes from /proc), os_facts_linux.c (node facts and metrics from
 * /proc, uname, statvfs) and cgroup.c (the cgroup v2 tracking that
 * os_linux.c uses for a task's group, with the session-and-mark
 * fallback).  scripts/check-agent-seam.sh fails the build when a
 * Linux-only call appears in any other agent file.
 */

#ifndef AGENT_OS_H
#define AGENT_OS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "agentproto/agentproto.h"

#define AGENT_GROUPS_MAX 64

struct agent_task;

/*
 * Accounts.  An account a task runs as, looked up when it starts.  name
 * and home are what the task's environment shows (USER, HOME); uid, gid
 * and groups are opaque to the rest of the agent but for comparison.
 */
struct agent_account {
	int   valid;
	char  name[AGENTPROTO_USER_MAX + 1];
	uid_t uid;
	gid_t gid;
	int   change; /* the child takes it: the agent may, and is not it */
	int   ngroups;
	gid_t groups[AGENT_GROUPS_MAX];
	char  home[1024]; /* its home, else the deploy dir */
};

/*
 * The account called name, for a task whose deploy directory is dir:
 * its ids, its groups, its home (dir when it has none), and whether a
 * spawned task must take it.  Returns 1, or 0 with why.
 */
int agent_account_get(const char *, const char *, struct agent_account *,
    char *, size_t);
/* Whether the agent runs with full rights (may give files away). */
int agent_os_admin(void);
/* Whether an account called name exists: 1 with *is_admin set, else 0. */
int agent_os_account_exists(const char *, int *);
/*
 * Whether the agent can run a task as a: it may switch accounts, or a
 * is its own.  On 0, self names the agent's own account ("another
 * account" when unknown).
 */
int agent_os_account_usable(const struct agent_account *, char *, size_t);

/*
 * Tasks.  Every process of a task belongs to its tracked group, however
 * it forks or detaches; the group is what is measured, signalled and
 * killed.  The group's state lives in the task (pid, its leader; cgroup,
 * the implementation's handle, "" when none; uid, whose processes the
 * fallback may touch; mark, the environment mark its processes carry).
 */

/*
 * Once, at start: the agent collects the orphans of its tasks' processes
 * (they are reaped by agent_os_reap(), never left as zombies).
 */
void agent_os_supervisor_init(void);

/*
 * Once, after the install id is known: decide how tasks are tracked
 * (a kernel group per task where the host offers one, else the mark),
 * and tidy what a previous run of this installation left.  1 when a
 * kernel group is used.  agent_os_tracking_fini() undoes it.
 */
int	    agent_os_tracking_init(const char *);
void	    agent_os_tracking_fini(void);
const char *agent_os_tracking_name(void);
/*
 * Whether a group handle read back from tasks.json may be task id's
 * (it must never lead to another task's or another agent's group);
 * 0 with errno ENOENT when it simply no longer exists.
 */
int agent_os_group_valid(const char *, int64_t);

/* What agent_os_spawn() runs. */
struct agent_os_spawn {
	const char	  *file; /* looked up in envp's PATH */
	const char *const *argv;
	char *const	  *envp; /* the whole environment */
	int		   logfd; /* stdout and stderr; stdin null */
	/*
	 * When set: stdout and stderr go through the task's log relay
	 * (AGENT_RELAY_PROGRAM) into this file, which marks what came
	 * from stderr and rotates the file past log_max bytes keeping
	 * log_keep parts; logfd is then only the fallback when no relay
	 * can be started (said in the agent's log).
	 */
	const char		   *log;
	int64_t			    log_max;
	int			    log_keep;
	const char		   *dir; /* working directory; NULL: fails */
	int			    dir_exact; /* dir must be its real path */
	const char		   *cwd; /* then this (relative to dir) */
	const struct agent_account *acct; /* take it; NULL: the agent's */
};

/*
 * The log relay, found next to the agent's own executable: a process
 * apart from the agent (its own session, none of the agent's signals,
 * never killed with the agent or with the task) that reads the task's
 * stdout and stderr pipes until both are closed by every process that
 * holds them; see agent/relay.c.
 */
#define AGENT_RELAY_PROGRAM "yard-agent-relay"

/*
 * Run sp->file as a process of its own, detached from the agent's
 * terminal and session, with nothing of the agent's open but logfd (or
 * the relay's pipes, sp->log).
 * When tracked, it becomes the leader of the task's group (t->cgroup,
 * t->uid are set; what the task's last run left in its group is killed
 * first); the stop script is not tracked.  Returns only once the program
 * runs: its pid, or -1 with why in err (including "cannot run X: ..."
 * and "policy: deploy_dir X changed while it was checked").
 */
pid_t agent_os_spawn(struct agent_task *, const struct agent_os_spawn *, int,
    char *, size_t);
/* Whether anything of the group led by pid is left. */
int agent_os_group_alive(pid_t);
/* Ask the group led by pid to end (the main alone if it has no group). */
void agent_os_group_term(pid_t);
/* End the group led by pid at once. */
void agent_os_group_kill(pid_t);
/* End the task's main process, its group and its tracked group at once. */
void agent_os_task_kill(struct agent_task *);
/*
 * End at once what is left of the task outside its main group (a
 * daemon that detached).  Returns 1 when anything was left.
 */
int agent_os_task_kill_rest(struct agent_task *);
/* After the task's processes went: release its empty tracked group. */
void agent_os_task_tidy(struct agent_task *);
/* Forget the task's tracked group for good (uninstall). */
void agent_os_task_forget(const struct agent_task *);
/*
 * The fallback: send sig to every process carrying the task's mark and
 * running as its uid; how many.  None while the uid is unknown.
 */
int agent_task_signal_marked(const struct agent_task *, int);
/*
 * A child of the agent that ended: 1 with its pid, exit code (0-255, or
 * 128 + the signal that ended it) and that signal (0: it exited), 0 when
 * none is left to collect.  Never waits.
 */
int agent_os_reap(pid_t *, int *, int *);
/* The same for one child: 1 when pid ended (and is collected), else 0. */
int agent_os_reap_pid(pid_t, int *, int *);
/*
 * A signal's name without "SIG" ("KILL"), or NULL when the platform has
 * none for it.  Static text.
 */
const char *agent_os_signame(int);
/* Whether a signal is one a process gets for its own fault (a crash:
 * SIGSEGV, SIGABRT, ...) rather than one sent to it. */
int agent_os_sig_fault(int);
/*
 * Workers: long blocking work (a download, unpacking a release, moving
 * a deploy directory) runs in a child of the agent so that its loop
 * keeps answering.  agent_os_worker() starts one that runs fn(arg, fd)
 * and ends with what fn returns (0-255); fd is the write end of a pipe
 * whose read end, non-blocking and not inherited by later children, is
 * *rfd.  The worker has the system's default signal dispositions and
 * none of the agent's descriptors but the standard ones, the pipe and
 * what fn opens itself (it must not touch the agent's transfers).  Its
 * end is collected by agent_os_reap() like any child's.  Returns its
 * pid, or -1 with errno.
 */
pid_t agent_os_worker(int (*)(void *, int), void *, int *);
/* (A worker ends when the agent does, however the agent ends.) */
/* End a worker at once (the agent stops, or gives up on it). */
void agent_os_worker_kill(pid_t);
/*
 * In a worker: become the stage program (AGENT_STAGE_PROGRAM, found next
 * to the agent's own executable) with job as its argument and fd as its
 * standard output.  Returns only when that fails: -1 with errno, and
 * path naming the program tried.
 */
#define AGENT_STAGE_PROGRAM "yard-agent-stage"
int agent_os_exec_stage(const char *, int, char *, size_t);
/* pid's standard output, opened for appending when it is a file; -1. */
int agent_os_stdout_open(pid_t);
/*
 * Remove everything below dir (never following links, never leaving
 * its file system), as the account as when it is not NULL (then dir
 * itself stays, for the caller to remove), else as the agent (dir too).
 * 1, or 0 with errno.
 */
int agent_os_remove_tree(const struct agent_account *, const char *);

/*
 * Processes.  One watched process (a task's main), sampled cheaply and
 * never mistaken for a later process that reuses its pid.
 */
struct agent_proc {
	int	 pid;
	int	 fd; /* the implementation's handle; -1 none */
	int	 gone;
	int	 sampled;
	char	 state; /* 'Z': ended, not yet collected */
	int64_t	 utime, stime; /* clock ticks (agent_os_clock_hz()) */
	int64_t	 cutime, cstime; /* of waited-for children */
	int64_t	 session;
	int64_t	 threads;
	int64_t	 starttime; /* identifies the process with its pid */
	int64_t	 rss; /* bytes */
	uint64_t at_ms; /* mono ms of this sample */
	int64_t	 prev_ticks; /* utime + stime before; -1 if none */
	uint64_t prev_ms;
};

/* A task's whole process tree, summed. */
struct agent_tree {
	int64_t ticks; /* utime + stime + cutime + cstime */
	int64_t rss;
	int64_t threads;
	int64_t procs;
};

int agent_proc_parse(const char *, size_t, struct agent_proc *);
/* Start watching pid: 1, or 0 when it does not exist. */
int agent_proc_open(struct agent_proc *, int);
/* A new sample: 1, 0 when it has gone (then closed), -1 unreadable. */
int  agent_proc_sample(struct agent_proc *);
void agent_proc_close(struct agent_proc *);
/* CPU % of one core between the last two samples; -1 before two. */
double	agent_proc_cpu(const struct agent_proc *, long);
int	agent_proc_tree(const int *, size_t, struct agent_tree *);
int	agent_proc_tree_cgroup(const char *, struct agent_tree *);
int64_t agent_proc_status_uid(const char *, size_t);
/* The real uid of pid, or -1. */
int64_t agent_proc_uid(int);
/*
 * out[i]: the whole tree of t[i] when it runs (its tracked group, else
 * what shares its session), zero otherwise.  Returns 1 when the sums
 * could be taken, 0 when none could (out zeroed).
 */
int agent_os_task_trees(struct agent_task *const *, size_t,
    struct agent_tree *);
/* Open files of pid, -1 if unknown. */
int64_t agent_os_open_files(pid_t);
/* Clock ticks per second of the CPU times above. */
long agent_os_clock_hz(void);

/*
 * Node facts and metrics (the static facts once, refreshed on demand;
 * metrics at every sample, cheaply).  The fd_ members and prev_ are the
 * implementation's.
 */
struct agent_sys {
	int				fd_stat;
	int				fd_meminfo;
	int				fd_loadavg;
	int				fd_uptime;
	uint64_t			prev_total;
	uint64_t			prev_idle;
	size_t				nroots;
	const char		       *roots[AGENTPROTO_DISKS_MAX];
	struct agentproto_facts		facts; /* the static part */
	const struct agentproto_policy *policy; /* reported; may be NULL */
};

/* 1, or 0 when the metrics cannot be read (they will read zero). */
int  agent_sys_open(struct agent_sys *, const char **, size_t);
void agent_sys_close(struct agent_sys *);
void agent_sys_refresh(struct agent_sys *);
int  agent_sys_facts(struct agent_sys *, struct agentproto_facts *);
int  agent_sys_metrics(struct agent_sys *, struct agentproto_metrics *);
/* Wall clock ms since the epoch; a monotonic ms clock. */
int64_t	 agent_now_ms(void);
uint64_t agent_mono_ms(void);

/*
 * Events.  The agent's one loop waits on its transfers and on requests
 * from the system (stop, reload), which must never be lost between two
 * waits.
 */
enum agent_os_event {
	AGENT_OS_EVENT_NONE = 0,
	AGENT_OS_EVENT_QUIT, /* stop the agent */
	AGENT_OS_EVENT_RELOAD /* read the policy and state again */
};

/* Before anything else: 1, or 0 (the agent cannot run). */
int  agent_os_events_init(void);
void agent_os_events_fini(void);
/* Wait up to ms for multi's transfers or an event; then call next. */
void agent_os_wait(CURLM *, int);
/* The next event that arrived, with a number to log; NONE when none. */
enum agent_os_event agent_os_event_next(int *);

/* Misc. */

/*
 * len random bytes: 1, or 0.  With wait 0 it never blocks (0 then
 * means: not yet available); otherwise it waits for the system's pool.
 */
int agent_os_random(void *, size_t, int);
/*
 * Replace dir/name with data atomically and durably: a reader sees the
 * old file or the new one, never a part, and after a crash it is one of
 * the two.  Returns 1, or 0 (logged; nothing left behind).
 */
int agent_write_atomic(const char *, const char *, const char *, size_t, int);
/* Make dir's entries durable (after a rename into it): 1, or 0. */
int agent_os_dir_sync(const char *);
/* The path of what fd refers to, as the system has it: 1, or 0. */
int agent_os_fd_path(int, char *, size_t);
/*
 * Bytes an unprivileged writer may still put on the file system that
 * holds path (what df shows as available): 1 with *free, or 0 with errno.
 */
int agent_os_free_bytes(const char *, uint64_t *);

#endif /* AGENT_OS_H */
