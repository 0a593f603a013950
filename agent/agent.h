/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * yard-agent: shared structs, constants and prototypes.  The agent only
 * dials out (docs/agent-protocol.md); see agent/README.md.
 */

#ifndef AGENT_H
#define AGENT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "agentproto/agentproto.h"
#include "logindex.h"
#include "os.h"

#define AGENT_VERSION	       "0.1.0"
#define AGENT_STATE_DIR	       "/var/lib/yard-agent"
#define AGENT_STATE_ENV	       "YARD_AGENT_STATE_DIR"
#define AGENT_URL_MAX	       1024
#define AGENT_PATH_MAX	       1024
#define AGENT_NODE_FILE	       "node.json"
#define AGENT_NODE_FILE_MAX    (16 * 1024)
#define AGENT_JOURNAL_FILE     "journal"
#define AGENT_JOURNAL_KEEP     1024 /* entries kept by compaction */
#define AGENT_JOURNAL_LINE_MAX (AGENTPROTO_BODY_MAX + 128)
#define AGENT_BACKOFF_CAP_MS   60000
#define AGENT_CONNECT_TIMEOUT  10 /* seconds */
#define AGENT_POLL_SLACK       10 /* client timeout = wait + this */
#define AGENT_UNAUTH_LOG_MS    60000
#define AGENT_INSTALL_ID_FILE  "install-id"
#define AGENT_INSTALL_ID_LEN   16 /* lower-case hex digits */
#define AGENT_NO_CGROUP_ENV    "YARD_AGENT_NO_CGROUP" /* tests, diagnosis */
#define AGENT_CGROUP_MAX       512 /* a task cgroup's path, with its NUL */

/* log.c: after OpenBSD httpd's log.c. */
void log_init(int, int);
void log_setverbose(int);
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/* state.c: node.json, atomic writes, the command journal. */
struct agent_node {
	char	server[AGENT_URL_MAX + 1]; /* no trailing '/' */
	int64_t node_id;
	char	secret[AGENTPROTO_SECRET_LEN + 1];
	int64_t heartbeat_interval;
	int64_t poll_timeout;
};

#define AGENT_J_RECEIVED 0x01
#define AGENT_J_FINISHED 0x02
#define AGENT_J_ACKED	 0x04

struct agent_jentry {
	char	id[AGENTPROTO_UUID_LEN + 1];
	int64_t seq;
	int64_t received_at; /* ms */
	int	flags;
};

struct agent_journal {
	int		     fd;
	char		     path[AGENT_PATH_MAX];
	char		     dir[AGENT_PATH_MAX];
	struct agent_jentry *v;
	size_t		     n;
	size_t		     cap;
	int64_t		     after; /* highest finished seq */
	size_t		     records; /* lines in the file */
};

int  agent_state_dir(const char *, char *, size_t);
int  agent_state_dir_init(const char *);
int  agent_install_id(const char *, char *, size_t);
int  agent_write_atomic(const char *, const char *, const char *, size_t, int);
int  agent_url_valid(const char *);
int  agent_node_load(const char *, struct agent_node *, int);
int  agent_node_save(const char *, const struct agent_node *);
void agent_node_wipe(struct agent_node *);
int  agent_journal_open(struct agent_journal *, const char *, int);
void agent_journal_close(struct agent_journal *);
int  agent_journal_rotate(const char *);
struct agent_jentry *agent_journal_find(struct agent_journal *, const char *);
int   agent_journal_received(struct agent_journal *, const char *, int64_t,
      int64_t);
int   agent_journal_finished(struct agent_journal *, const char *, int64_t,
      const char *);
int   agent_journal_acked(struct agent_journal *, const char *);
char *agent_journal_result(struct agent_journal *, const char *);
int   agent_journal_print(const char *, size_t);

/* policy.c: the node policy (agent/README.md, "Node policy"). */
#define AGENT_POLICY_FILE "/etc/yard-agent/policy.json"
#define AGENT_POLICY_ROOT "/srv/yard" /* the default root */
#define AGENT_POLICY_USER "yard-task" /* the default account */
#define AGENT_POLICY_MAX  (64 * 1024) /* bytes of policy file */

struct agent_policy {
	struct agentproto_policy p; /* as reported: roots with their users */
	unsigned char named[AGENTPROTO_POLICY_ROOTS_MAX]; /* root names one */
	char	      file[AGENT_PATH_MAX]; /* "": the defaults */
};

/* What a task may expose: files inside root, never in deny. */
struct agent_confine {
	char root[PATH_MAX]; /* the real deploy directory */
	char deny[PATH_MAX]; /* the agent's real state directory */
};

void agent_policy_default(struct agent_policy *);
int  agent_policy_parse(struct agent_policy *, const char *, size_t, char *,
     size_t);
int  agent_policy_accounts(const struct agent_policy *, char *, size_t);
int  agent_policy_load(struct agent_policy *, const char *, char *, size_t);
int  agent_path_resolve(const char *, char *, size_t);
int  agent_path_inside(const char *, const char *);
int  agent_path_below(const char *, const char *);
int  agent_policy_dir(const struct agent_policy *, const char *, const char *,
     char *, size_t, int *, char *, size_t);
int agent_policy_task(const struct agent_policy *, const json_t *, const char *,
    struct agent_account *, char *, size_t, char *, size_t);
int agent_confine_init(struct agent_confine *, const struct agent_policy *,
    const json_t *, const char *);
int agent_confine_path(const struct agent_confine *, const char *);
int agent_confine_fd(const struct agent_confine *, int, char *, size_t);

/* supervise.c: one task's processes (SPEC 5). */
enum agent_task_state {
	AGENT_TASK_STOPPED = 0,
	AGENT_TASK_RUNNING,
	AGENT_TASK_STOPPING,
	AGENT_TASK_EXITED /* ended by itself (crash or exit) */
};

enum agent_stop_how {
	AGENT_STOP_NONE = 0,
	AGENT_STOP_TERM, /* the group ended after SIGTERM */
	AGENT_STOP_TERM_STRAYS, /* ... and what had left it was killed */
	AGENT_STOP_KILL, /* the grace period ran out: SIGKILL */
	AGENT_STOP_SCRIPT /* the group ended after Tomcat's stop script */
};

struct agent_task {
	int64_t		      id;
	char		      mark[96]; /* YARD_TASK_MARK of its processes */
	json_t		     *spec; /* normalised (agentproto_task_spec) */
	enum agent_task_state state;
	pid_t		      pid; /* main process and group; 0 if none */
	int64_t		      starttime; /* of pid, for adoption */
	int		      adopted; /* pid is not our child */
	int		      created_dir; /* the agent made deploy_dir */
	int		      main_gone;
	int		      exit_status; /* last end; -1 unknown */
	int		      exit_signal; /* what ended it; 0: none */
	int64_t		      exit_ms; /* wall clock of the last end */
	enum agent_stop_how   stop_how;
	uint64_t	      stop_started, stop_deadline; /* mono ms */
	uint64_t	      stop_ms; /* how long the last stop took */
	pid_t		      stop_pid; /* the stop script while it runs */
	int		      stop_status; /* its wait status; -1 running */
	char		     *log; /* logdir/<id>.log, from the last start */
	off_t		      log_max; /* its relay rotates past; 0: default */
	int64_t		      started_ms; /* wall clock */
	struct agent_proc     proc;
	char		      cgroup[AGENT_CGROUP_MAX]; /* "": none */
	int64_t		      uid; /* real uid of its processes; -1 unknown */
	uint64_t	      strays_until; /* mono ms: wait for the killed */
	/* From the policy check before a start (policy.c); rdir NULL: the
	 * spec's deploy_dir as it is, acct not valid: the agent's own. */
	struct agent_account acct;
	char		    *rdir; /* resolved deploy_dir, malloc'd */
	/* A packaged task (docs/deploy.md): the live release's directory,
	 * <deploy_dir>/releases/<n> as the release journal records it, where
	 * it runs and its relative paths resolve; NULL: deploy_dir. */
	char *reldir;
};

void agent_supervise_init(void);
void agent_task_init(struct agent_task *, int64_t, const char *);
int  agent_task_start(struct agent_task *, const char *, char *, size_t);
void agent_task_stop(struct agent_task *);
int  agent_task_tick(struct agent_task *);
void agent_tasks_reap(struct agent_task **, size_t);
int  agent_task_adopt(struct agent_task *, pid_t, int64_t);
int  agent_task_signal_marked(const struct agent_task *, int);
void agent_task_cleanup(struct agent_task *);
int  agent_task_log_rotate(const char *, int64_t, off_t, int);
void agent_task_log_init(struct agent_task *, const char *, off_t);
int  agent_task_remove_files(const struct agent_task *, const char *, char *,
     size_t);
int  agent_task_set_rdir(struct agent_task *, const char *);
int  agent_task_set_reldir(struct agent_task *, const char *);
const char *agent_task_dir(const struct agent_task *);
json_t	   *agent_task_log_spec(const struct agent_task *);
const char *agent_task_state_name(enum agent_task_state);

/* http.c: one reusable easy handle per activity, capped bodies. */
struct agent_xfer {
	CURL		  *easy;
	struct curl_slist *hdrs;
	char		  *body; /* response, NUL-terminated */
	size_t		   len;
	size_t		   cap;
	size_t		   max; /* response cap; 0: AGENTPROTO_BODY_MAX */
	int		   overflow;
	char		  *post; /* owned request body, or NULL */
	char		   errbuf[CURL_ERROR_SIZE];
	long		   status;
	long		   retry_after; /* s, from a 429 or 503; else 0 */
	CURLcode	   result;
	int		   busy;
	uint64_t	   started; /* mono ms */
};

int  agent_xfer_init(struct agent_xfer *);
void agent_xfer_cleanup(struct agent_xfer *);
int  agent_xfer_prepare(struct agent_xfer *, const char *, const char *, char *,
     long);
void agent_xfer_finish(struct agent_xfer *, CURLcode);
void agent_xfer_release(struct agent_xfer *);
const char *agent_xfer_error(const struct agent_xfer *);

/* run.c */
struct agent_opts {
	char		    state_dir[AGENT_PATH_MAX];
	int		    debug;
	size_t		    nroots;
	const char	   *roots[AGENTPROTO_DISKS_MAX];
	const char	   *policy_file; /* --policy; NULL: the default */
	struct agent_policy policy;
};

int	 agent_run(struct agent_opts *);
uint64_t agent_backoff_ms(unsigned int);

/* tasks.c: the node's tasks, their commands and tasks.json. */
#define AGENT_TASKS_MAX	      256
#define AGENT_LOG_MAX	      (10 * 1024 * 1024) /* rotate a task log past this */
#define AGENT_LOG_KEEP	      5 /* old parts kept */
#define AGENT_LOG_CHECK_MS    10000
#define AGENT_START_SETTLE_MS 5000 /* jar/tomcat start without a check */

/*
 * A task's lifecycle: what the agent is doing with it, above what its
 * processes do (enum agent_task_state).  The transitions are listed and
 * made in tasks.c (life_set()).
 */
enum agent_life {
	AGENT_LIFE_DOWN = 0, /* not running; nothing planned */
	AGENT_LIFE_STARTING, /* running; a start waits to be healthy */
	AGENT_LIFE_UP, /* running */
	AGENT_LIFE_STOPPING, /* a stop, restart or uninstall waits for it */
	AGENT_LIFE_BACKOFF, /* ended by itself; restarts at restart_at */
	AGENT_LIFE_CRASH_LOOP /* ended too often: waits for a command */
};

struct agent_slot {
	struct agent_task t;
	enum agent_life	  life;
	int		  wanted; /* should run (start/restart, not stop) */
	int		  restarts;
	uint64_t	  restart_at; /* mono ms, in BACKOFF */
	uint64_t	  window_start; /* crash-loop window */
	int		  window_restarts;
	/* Health check (spec.health): an HTTP GET on loopback. */
	struct agent_xfer hx;
	int		  hx_ready; /* hx initialised */
	int		  health; /* 0 unknown (starting), 1 ok, 2 failing */
	int		  health_fails; /* consecutive failing checks */
	uint64_t	  health_next; /* mono ms */
	char		  health_why[128];
	int		  ever_healthy; /* since the last start */
	int64_t		  tree_ticks; /* CPU of its tree at tree_ms */
	uint64_t	  tree_ms;
	uint64_t	  start_deadline; /* mono ms: healthy by then */
	char		  cmd_note[512]; /* a restart's stop, for its result */
	char		  cfg_note[256]; /* what the last start's config did */
	char		  cmd_params[640]; /* cmd_note as params (json, "") */
	char		  cfg_params[512]; /* cfg_note as params (json, "") */
	char		 *cfg_pre; /* a release configured before its switch */
	int		  cfg_keep; /* next start: its files as they are */
	char		 *last_lines; /* of its log, when it ended by itself */
	char		  cmd[AGENTPROTO_UUID_LEN + 1]; /* pending command */
	int64_t		  cmd_seq;
	int64_t		  cmd_received;
	int		  cmd_kind;
	/* A release command in flight (deploy.c), kept in tasks.json so that
	 * a restarted agent can answer it (rel_cmd "": none). */
	char	rel_cmd[AGENTPROTO_UUID_LEN + 1];
	int64_t rel_seq;
	int64_t rel_received;
	int	rel_kind;
	char	rel_step[16]; /* the step it was in ("download", ...) */
	/* Why, for the server's task events (docs/agent-protocol.md):
	 * the last end and who caused it, the last policy restart and its
	 * cause, the crash loop, and when a restarted agent adopted it. */
	int64_t	    last_exit_at; /* wall ms; 0: none seen */
	int	    last_exit_status; /* -1: unknown */
	int	    last_exit_signal; /* 0: none */
	const char *last_exit_by; /* "self", "stop", "policy", "outside" */
	int64_t	    last_restart_at; /* wall ms; 0: none */
	const char *last_restart_reason; /* "exited", "signal", ... */
	const char *restart_reason; /* of the restart planned in BACKOFF */
	int	    crash_loop; /* the policy gave up after the last restart */
	int64_t	    adopted_at; /* wall ms; 0: started by this agent */
};

struct agent_tasks {
	char		   dir[1024];
	char		   logdir[1100];
	char		   mark[32]; /* the install id: marks <id>-<task> */
	char		   old_mark[32]; /* node<id>: older agents' marks */
	struct agent_slot  v[AGENT_TASKS_MAX];
	struct agent_task *ptrs[AGENT_TASKS_MAX];
	size_t		   n;
	int		   changed; /* report soon */
	uint64_t	   log_check; /* mono ms of the next rotation check */
	off_t		   log_max; /* 0: AGENT_LOG_MAX */
	const struct agent_policy *policy; /* NULL: none (unit tests) */
	CURLM  *multi; /* health checks run on the agent's multi handle */
	char	gone_cmd[AGENTPROTO_UUID_LEN + 1]; /* uninstall's command */
	int64_t gone_seq;
	/* A pending command finished (body is the result, handed over). */
	void (*done)(void *, const char *, int64_t, char *);
	void *arg;
	/* A release command's progress (a running result, handed over). */
	void (*progress)(void *, const char *, char *);
	/* Release commands (deploy.c), oldest first; the node, for the
	 * package download (NULL: none, unit tests). */
	struct agent_rjob	*rjobs;
	const struct agent_node *node;
};

void agent_tasks_init(struct agent_tasks *, const char *, int64_t);
void agent_tasks_load(struct agent_tasks *);
int agent_tasks_command(struct agent_tasks *, const struct agentproto_command *,
    int64_t, const json_t *, int64_t, char **);
int agent_tasks_apply_config(struct agent_tasks *,
    const struct agentproto_command *, int64_t, const json_t *, int, int64_t,
    char **);
int agent_tasks_config_pre(struct agent_tasks *, struct agent_slot *,
    const char *, char *, size_t);
int agent_tasks_tick(struct agent_tasks *);
/* Write tasks.json now; 0 (logged, nothing left behind) on failure. */
int	agent_tasks_save(struct agent_tasks *);
json_t *agent_tasks_status(struct agent_tasks *, long);
int	agent_tasks_pending(const struct agent_tasks *, const char *);
int	agent_tasks_health_done(struct agent_tasks *, struct agent_xfer *);
int64_t agent_tasks_pending_seq(const struct agent_tasks *);
void	agent_tasks_free(struct agent_tasks *);
const struct agent_task *agent_tasks_find(struct agent_tasks *, int64_t);
/* The lifecycle state of task id; -1 when the agent does not know it. */
int	    agent_tasks_life(const struct agent_tasks *, int64_t);
const char *agent_life_name(enum agent_life);
/* For deploy.c: a task's slot (made when spec is given), its stop and
 * start around a release switch, and the end of its log. */
struct agent_slot *agent_tasks_slot(struct agent_tasks *, int64_t,
    const json_t *);
int   agent_tasks_rel_stop(struct agent_tasks *, struct agent_slot *);
int   agent_tasks_rel_start(struct agent_tasks *, struct agent_slot *, char *,
      size_t);
char *agent_tasks_log_end(struct agent_tasks *, struct agent_slot *);

/*
 * commands.c: the command table, one entry per command type of
 * agentproto's list (agentproto_command_find()).  A command is
 * validated (its payload), then run; its result is reported now or,
 * for a task command that waits on its processes, later through the
 * tasks' done callback.  Either way the caller journals and delivers it.
 */
struct agent_cmd_args {
	int64_t task_id; /* task commands: payload.task.id */
	json_t *spec; /* normalised payload.task.spec; NULL: none */
	int	restart; /* apply-config: "restart" */
};

enum agent_cmd_outcome {
	AGENT_CMD_DONE = 0, /* *body is the result (NULL: not encoded) */
	AGENT_CMD_LATER /* the result comes through tasks->done */
};

struct agent_cmd {
	enum agentproto_cmd_type kind;
	/* 1 with *args filled (owned), or 0 with why (a bad payload). */
	int (*validate)(const struct agentproto_command *,
	    struct agent_cmd_args *, char *, size_t);
	enum agent_cmd_outcome (*run)(struct agent_tasks *,
	    const struct agentproto_command *, const struct agent_cmd_args *,
	    int64_t, char **);
};

const struct agent_cmd *agent_command_get(enum agentproto_cmd_type);
enum agent_cmd_outcome	agent_command_run(struct agent_tasks *,
     const struct agentproto_command *, int64_t, char **);
/*
 * The node's work as the run loop sees it: the tasks (tasks.c) and the
 * release commands on them (deploy.c), which sit above the tasks.
 * load: the tasks, then each one's release journal; tick: the tasks,
 * then the release commands waiting for their events (ms until either
 * wants to run again); pending: command id is in progress in either;
 * pending_seq: the highest seq in progress (0: none); free: both.
 */
void	agent_work_load(struct agent_tasks *);
int	agent_work_tick(struct agent_tasks *);
int	agent_work_pending(const struct agent_tasks *, const char *);
int64_t agent_work_pending_seq(const struct agent_tasks *);
void	agent_work_free(struct agent_tasks *);
/*
 * A finished command's result as JSON (malloc'd), or NULL: ok, received
 * (ms), its code and params (an object it takes, or NULL; the codes are
 * listed in docs/agent-protocol.md, "Result codes"), then the output.
 */
char *agent_result(int, int64_t, const char *, json_t *, const char *, ...)
    __attribute__((format(printf, 5, 6)));
/* The same with one more member (name, a new reference that it takes). */
char *agent_result_with(int, int64_t, const char *, json_t *, const char *,
    json_t *, const char *, ...) __attribute__((format(printf, 7, 8)));
/* params (taken, NULL: a new object) with the members of the JSON text
 * more added; NULL when out of memory. */
json_t *agent_params_merge(json_t *, const char *);

/*
 * reason.c: a result's "reason" and "after" in machine form
 * (docs/agent-protocol.md, "Reason codes").  agent_reason_params() adds
 * to params (a result's, with its code rcode) <name>_code and
 * <name>_<value> for "reason" and "after" when their words are one of
 * the agent's formats, all of a reason's values or none, within
 * AGENTPROTO_PARAMS_MAX members.  agent_reason_classify(): text's code
 * (into code) and values (into out), 1, or 0 when it is none of them;
 * payload: the words of a "bad payload".  agent_errno_name(): the
 * symbolic name of the error whose strerror() text is text (len
 * bytes), or NULL.
 */
void	    agent_reason_params(json_t *, const char *);
int	    agent_reason_classify(const char *, int, json_t *, char *, size_t);
const char *agent_errno_name(const char *, size_t);
/* The code of the i-th of its patterns (tests); NULL past the last. */
const char *agent_reason_pattern_code(size_t);

/*
 * deploy.c: the release commands, deploy, update, rollback and move
 * (docs/deploy.md, "Commands on the node"), one at a time per task in
 * the order they came (a FIFO per task), each a state machine driven by
 * agent_deploy_tick().  The blocking work (download, unpack, a move that
 * copies) runs in a worker (agent_os_worker()); the journal of releases
 * is agent/release.h's.
 */
struct agent_reljournal;

int agent_deploy_validate(const struct agentproto_command *,
    struct agent_cmd_args *, char *, size_t);
int agent_deploy_command(struct agent_tasks *,
    const struct agentproto_command *, int64_t, const json_t *, int64_t,
    char **);
/* The ms until it wants to run again. */
int agent_deploy_tick(struct agent_tasks *);
/* Whether task id has a release command in flight or waiting. */
int agent_deploy_busy(const struct agent_tasks *, int64_t);
/* Whether command id is one of them; the highest seq of them (0). */
int	agent_deploy_pending(const struct agent_tasks *, const char *);
int64_t agent_deploy_pending_seq(const struct agent_tasks *);
/* At load: the task's release journal (its live release, and a command
 * the last run left unfinished: put back and answered). */
void agent_deploy_recover(struct agent_tasks *, struct agent_slot *);
void agent_deploy_free(struct agent_tasks *);
/*
 * What a command asks, against the journal: 1 with *target (the release
 * a rollback goes to), or 0 with why (without the "deploy failed: ").
 * nonempty: deploy_dir holds files that are not the layout's.
 */
int agent_deploy_decide(enum agentproto_cmd_type,
    const struct agent_reljournal *, int, int, int64_t, int64_t *, char *,
    size_t);

/* logs.c: log requests from the server (docs/agent-protocol.md, "Logs"). */
#define AGENT_LOGREQS 8 /* answered at once; more wait or evict a follow */

struct agent_logreq {
	int			 used;
	int			 dropme; /* over: release after its transfer */
	struct agentproto_logreq r;
	struct agent_xfer	 x;
	char			 path[PATH_MAX]; /* resolved, unless stdout */
	struct agent_confine	 conf; /* where a task's file must lie */
	int			 confined; /* path is a task's file */
	json_t	    *files; /* what the task's logs can be read from */
	int64_t	     seq; /* of the next chunk */
	off_t	     pos; /* follow, download: next byte */
	off_t	     end; /* download: where it stops */
	uint64_t     ino; /* of the followed file */
	char	    *body; /* chunk to send (again) */
	int	     last; /* body is the final chunk */
	char	    *b64; /* a "file" request: the file in base64 */
	size_t	     b64pos; /* what went out of it */
	int64_t	     fsize; /* the file's bytes */
	unsigned int fails;
	uint64_t     started, next, last_post, retry_at; /* mono ms */
};

struct agent_logs {
	struct agent_logreq v[AGENT_LOGREQS];
	CURLM		   *multi;
};

void agent_logs_init(struct agent_logs *, CURLM *);
void agent_logs_request(struct agent_logs *, struct agent_tasks *,
    const struct agentproto_logreq *);
int  agent_logs_tick(struct agent_logs *, const char *, const char *);
int  agent_logs_done(struct agent_logs *, struct agent_xfer *);
void agent_logs_reap(struct agent_logs *);
void agent_logs_free(struct agent_logs *);

/* logread.c: reading task logs (clean UTF-8 text, at most LOG_RAW_MAX). */
#define LOG_RAW_MAX (96 * 1024) /* bytes read for one chunk */

json_t *agent_log_files(const json_t *, const struct agent_confine *);
int	agent_log_path(const json_t *, const char *, int64_t, const char *,
	const struct agent_confine *, char *, size_t);
int	agent_log_open(const char *, const struct agent_confine *, off_t *);
/* The last struct agent_ranges * (NULL: not wanted) gets the stderr
 * byte ranges of the text returned (logindex.h). */
char *agent_log_tail(const char *, const struct agent_confine *, int64_t,
    off_t *, int *, struct agent_ranges *);
char *agent_log_search(const char *, const struct agent_confine *, const char *,
    int64_t, int64_t *, off_t *, int *, struct agent_ranges *);
char *agent_log_read(const char *, const struct agent_confine *, off_t *,
    uint64_t *, off_t, int *, struct agent_ranges *);
int   agent_log_rotate(const char *, const struct agent_confine *, off_t, int);
void  agent_log_settle(const char *);
int agent_log_rotate_files(const json_t *, const struct agent_confine *, off_t,
    int);

#endif /* AGENT_H */
