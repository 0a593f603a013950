/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The agent wire format (docs/agent-protocol.md): structs, limits and the
 * codecs that encode, decode and validate every message.  No Kore symbols:
 * built into the server, the agent, the unit tests and the fuzzers.
 *
 * One file per message family: common.c (helpers, UTF-8, UUIDs, error
 * replies), auth.c, facts.c (facts and the node policy), enroll.c,
 * heartbeat.c (metrics, task status), commands.c (poll, result), logs.c
 * and taskspec.c (the task-spec schema).  internal.h is private to them.
 */

#ifndef AGENTPROTO_H
#define AGENTPROTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define AGENTPROTO_VERSION	1
#define AGENTPROTO_BODY_MAX	(256 * 1024)
#define AGENTPROTO_POLL_MAX	(32 * 1024 * 1024) /* commands: configurations */
#define AGENTPROTO_STR_MAX	255
#define AGENTPROTO_BOOT_ID_MAX	64
#define AGENTPROTO_DISKS_MAX	16
#define AGENTPROTO_BACKLOG_MAX	120
#define AGENTPROTO_TASKS_MAX	1024
#define AGENTPROTO_COMMANDS_MAX 256
#define AGENTPROTO_OUTPUT_MAX	(64 * 1024)
#define AGENTPROTO_TOKEN_MAX	128
#define AGENTPROTO_SECRET_LEN	43
#define AGENTPROTO_UUID_LEN	36
#define AGENTPROTO_TYPE_MAX	32
#define AGENTPROTO_TIME_STR_MAX 64
#define AGENTPROTO_ERROR_MAX	64
#define AGENTPROTO_MESSAGE_MAX	512
#define AGENTPROTO_NODE_ID_MAX	9007199254740992LL /* 2^53 */
#define AGENTPROTO_INTERVAL_MIN 1
#define AGENTPROTO_INTERVAL_MAX 3600
#define AGENTPROTO_INTERVAL_DEF 5
#define AGENTPROTO_WAIT_MAX	60
#define AGENTPROTO_WAIT_DEF	25
#define AGENTPROTO_AUTH_SCHEME	"YardNode"
#define AGENTPROTO_AUTH_MAX	128

/*
 * Stable codes of a refused field (docs/api.md, "Errors"): the closed set
 * a page translates.  Each names its parameters in the comment.
 */
enum agentproto_code {
	AGENTPROTO_C_NONE = 0,
	AGENTPROTO_C_REQUIRED, /* missing */
	AGENTPROTO_C_TYPE, /* expected: string, integer, … */
	AGENTPROTO_C_TOO_LONG, /* max (bytes) */
	AGENTPROTO_C_TOO_SHORT, /* min (bytes) */
	AGENTPROTO_C_RANGE, /* min, max */
	AGENTPROTO_C_PATTERN, /* pattern: a name of the rule */
	AGENTPROTO_C_ENUM, /* allowed: the values */
	AGENTPROTO_C_UNKNOWN, /* a member nobody knows */
	AGENTPROTO_C_NOT_ABSOLUTE, /* an absolute path was wanted */
	AGENTPROTO_C_NOT_RELATIVE, /* a relative path was wanted */
	AGENTPROTO_C_PATH, /* '..', control characters, bad parts */
	AGENTPROTO_C_DUPLICATE, /* a value given twice */
	AGENTPROTO_C_TOO_MANY, /* max (items) */
	AGENTPROTO_C_FORMAT, /* expected: uuid, url_path, time, … */
	AGENTPROTO_C_NOT_ALLOWED, /* kind: not for this kind of task */
	AGENTPROTO_C_NOT_FOUND, /* a referenced thing does not exist */
	AGENTPROTO_C_OUTSIDE_ROOTS, /* roots: the node's allowed roots */
	AGENTPROTO_C_IMMUTABLE, /* cannot change once created */
	AGENTPROTO_C_INVALID, /* anything else: see message */
	AGENTPROTO_C_COUNT
};

#define AGENTPROTO_FERR_MAX 32 /* field errors collected, at most */
#define AGENTPROTO_F_MIN    0x1 /* min is set */
#define AGENTPROTO_F_MAX    0x2 /* max is set */

/* One refused field: its path, code and parameters. */
struct agentproto_ferr {
	char	    field[64];
	uint8_t	    code; /* enum agentproto_code */
	uint8_t	    flags; /* AGENTPROTO_F_MIN|MAX */
	int64_t	    min;
	int64_t	    max;
	const char *arg_name; /* static: "expected", "allowed", "kind", … */
	char	    arg[64]; /* its value; "allowed" lists split on ',' */
};

/*
 * Why a decoder refused its input: a dotted path and a sentence (the
 * first refusal), and every refused field with a stable code (at most
 * AGENTPROTO_FERR_MAX; nf counts those kept, lost those dropped).
 */
struct agentproto_err {
	char		       field[64]; /* "facts.disks[2].path"; "" body */
	char		       msg[128];
	size_t		       nf;
	size_t		       lost;
	struct agentproto_ferr f[AGENTPROTO_FERR_MAX];
};

/*
 * Record one refused field pfx.name (either may be ""): code, min/max as
 * flags say, an optional named argument, and an English sentence.  The
 * first refusal also fills field and msg.  err may be NULL.
 */
void agentproto_err_add(struct agentproto_err *, const char *pfx,
    const char *name, enum agentproto_code, unsigned flags, int64_t min,
    int64_t max, const char *arg_name, const char *arg, const char *fmt, ...)
    __attribute__((format(printf, 10, 11)));
/* The code's stable name ("required", "too_long", …). */
const char *agentproto_code_name(enum agentproto_code);
/* Forget every refusal. */
void agentproto_err_clear(struct agentproto_err *);

struct agentproto_disk {
	char	path[AGENTPROTO_STR_MAX + 1];
	int64_t total;
	int64_t free;
};

/*
 * A node's policy as the agent reports it (docs/agent-protocol.md, "Node
 * policy"): every root with the account tasks below it run as, the
 * default account, the accounts per task kind, the refused environment
 * names (fnmatch patterns) and the limits.
 */
#define AGENTPROTO_POLICY_ROOTS_MAX 32
#define AGENTPROTO_POLICY_KINDS_MAX 8
#define AGENTPROTO_POLICY_ENV_MAX   32
#define AGENTPROTO_PATTERN_MAX	    128
#define AGENTPROTO_USER_MAX	    32
#define AGENTPROTO_KIND_MAX	    32

struct agentproto_policy_root {
	char path[AGENTPROTO_STR_MAX + 1];
	char user[AGENTPROTO_USER_MAX + 1];
};

struct agentproto_policy_kind {
	char kind[AGENTPROTO_KIND_MAX + 1];
	char user[AGENTPROTO_USER_MAX + 1];
};

struct agentproto_policy {
	size_t			      nroots;
	struct agentproto_policy_root roots[AGENTPROTO_POLICY_ROOTS_MAX];
	char			      user[AGENTPROTO_USER_MAX + 1];
	size_t			      nkinds;
	struct agentproto_policy_kind kinds[AGENTPROTO_POLICY_KINDS_MAX];
	size_t			      nrefuse_env;
	char refuse_env[AGENTPROTO_POLICY_ENV_MAX][AGENTPROTO_PATTERN_MAX + 1];
	int64_t tasks; /* most tasks on the node */
	int64_t log_bytes; /* a task log rotates past this */
};

#define AGENTPROTO_OS_FAMILY_MAX 16

/* Node facts (enrol and heartbeat).  Every member is required except
 * disks, which may be absent (no disks), policy (older agents send
 * none: has_policy is then 0) and os_family ("linux" or "windows"; older
 * agents send none, which decodes as "linux"; not encoded when empty). */
struct agentproto_facts {
	char			 hostname[AGENTPROTO_STR_MAX + 1];
	char			 os[AGENTPROTO_STR_MAX + 1];
	char			 os_family[AGENTPROTO_OS_FAMILY_MAX + 1];
	char			 kernel[AGENTPROTO_STR_MAX + 1];
	char			 arch[AGENTPROTO_STR_MAX + 1];
	int64_t			 cpus;
	int64_t			 mem_total;
	char			 boot_id[AGENTPROTO_BOOT_ID_MAX + 1];
	int64_t			 uptime;
	char			 agent_version[AGENTPROTO_STR_MAX + 1];
	size_t			 ndisks;
	struct agentproto_disk	 disks[AGENTPROTO_DISKS_MAX];
	int			 has_policy;
	struct agentproto_policy policy;
};

/* cpu is a percentage of the whole machine (0-100), memory in bytes. */
struct agentproto_metrics {
	double	cpu;
	int64_t mem_used;
	int64_t mem_total;
	double	load1;
	double	load5;
	double	load15;
};

struct agentproto_sample {
	int64_t			  time;
	struct agentproto_metrics metrics;
};

struct agentproto_enroll_req {
	char			token[AGENTPROTO_TOKEN_MAX + 1];
	struct agentproto_facts facts;
};

struct agentproto_enroll_resp {
	int64_t node_id;
	char	secret[AGENTPROTO_SECRET_LEN + 1];
	int64_t heartbeat_interval; /* optional: AGENTPROTO_INTERVAL_DEF */
	int64_t poll_timeout; /* optional: AGENTPROTO_WAIT_DEF */
};

/*
 * A heartbeat.  tasks is a borrowed-then-owned jansson array (validated to
 * be an array of at most AGENTPROTO_TASKS_MAX members; NULL encodes as
 * []); it is released by agentproto_heartbeat_cleanup().  tasks and backlog
 * may be absent on the wire.
 */
struct agentproto_heartbeat {
	int64_t			  seq;
	int64_t			  time;
	struct agentproto_facts	  facts;
	struct agentproto_metrics metrics;
	json_t			 *tasks;
	size_t			  nbacklog;
	struct agentproto_sample  backlog[AGENTPROTO_BACKLOG_MAX];
};

/* Heartbeat answer: both members optional, defaults as in enrol. */
struct agentproto_heartbeat_resp {
	int64_t heartbeat_interval;
	int64_t poll_timeout;
};

enum agentproto_cmd_type {
	AGENTPROTO_CMD_UNKNOWN = 0, /* well-formed but not known here */
	AGENTPROTO_CMD_PING,
	AGENTPROTO_CMD_START, /* payload {"task":{"id","name","spec"}} */
	AGENTPROTO_CMD_STOP,
	AGENTPROTO_CMD_RESTART,
	AGENTPROTO_CMD_UNINSTALL,
	/* + "package":{"sha256","size","unpacked","name","version"},
	 * "adopt" */
	AGENTPROTO_CMD_DEPLOY,
	AGENTPROTO_CMD_UPDATE, /* + "package":{…the same…}, "clean" */
	AGENTPROTO_CMD_ROLLBACK, /* + "release": n or absent */
	AGENTPROTO_CMD_MOVE, /* + "deploy_dir": the new one */
	AGENTPROTO_CMD_APPLY_CONFIG /* + "restart": true|false */
};

/* What a command acts on. */
enum agentproto_cmd_target {
	AGENTPROTO_TARGET_NODE = 0, /* the node itself (node_id) */
	AGENTPROTO_TARGET_TASK /* one task (task_id; payload.task) */
};

/*
 * One command type: the one list of them (src/agentproto/commands.c)
 * that the server's validation and permission check and the agent's
 * dispatch both follow.  name is the wire "type"; manage: the type
 * needs the manage level on its target, else operate.
 */
struct agentproto_cmd_def {
	const char		  *name;
	enum agentproto_cmd_type   kind;
	enum agentproto_cmd_target target;
	int			   manage;
};

struct agentproto_command {
	char			 id[AGENTPROTO_UUID_LEN + 1]; /* lower case */
	int64_t			 seq;
	enum agentproto_cmd_type kind;
	char			 type[AGENTPROTO_TYPE_MAX + 1];
	json_t			*payload; /* owned object; {} if absent */
	char			 issued_at[AGENTPROTO_TIME_STR_MAX + 1];
};

/*
 * A log request handed out with the commands (docs/agent-protocol.md,
 * "Logs").  file is "stdout" (the task's captured output) or a path
 * relative to the task's deploy_dir that one of its log_files globs
 * matches; q (search) is "" for none.
 */
#define AGENTPROTO_LOGREQS_MAX	 16
#define AGENTPROTO_LOG_FILE_MAX	 1024
#define AGENTPROTO_LOG_Q_MAX	 200
#define AGENTPROTO_LOG_LINES_MAX 5000
#define AGENTPROTO_LOG_DATA_MAX	 (128 * 1024)
#define AGENTPROTO_LOG_FILES_MAX 64
/* A chunk's "stderr": at most this many byte ranges of its data. */
#define AGENTPROTO_LOG_STDERR_MAX 2048

enum agentproto_log_mode {
	AGENTPROTO_LOG_TAIL = 0, /* the last lines (or matches of q) */
	AGENTPROTO_LOG_FOLLOW, /* the last lines, then what is appended */
	AGENTPROTO_LOG_DOWNLOAD, /* the whole file, in chunks */
	AGENTPROTO_LOG_FILE /* any file of the task's tree, base64 */
};
/* A "file" request's file: at most this many bytes (else an error). */
#define AGENTPROTO_LOG_FILE_READ_MAX (1024 * 1024)

struct agentproto_logreq {
	char			 id[AGENTPROTO_UUID_LEN + 1]; /* lower case */
	int64_t			 task_id;
	enum agentproto_log_mode mode;
	char			 file[AGENTPROTO_LOG_FILE_MAX + 1];
	int64_t			 lines; /* 1..AGENTPROTO_LOG_LINES_MAX */
	char			 q[AGENTPROTO_LOG_Q_MAX + 1];
};

/* GET /agent/v1/commands answer; commands and logs are owned. */
struct agentproto_poll {
	size_t			   ncommands;
	struct agentproto_command *commands;
	size_t			   nlogs;
	struct agentproto_logreq  *logs;
};

/*
 * POST /agent/v1/logs/{id}: one chunk of a log request's answer.  data is
 * owned (valid UTF-8, at most AGENTPROTO_LOG_DATA_MAX bytes), files owned
 * (an array of strings) or NULL; matches is -1 when absent.  marks: the
 * byte ranges of data the task wrote to stderr, nmarks pairs (start,
 * end) in order, apart, inside data; owned, NULL when none.
 */
struct agentproto_logchunk {
	int64_t	 seq;
	char	*data;
	int64_t	 size; /* the file's size: where this chunk ends */
	int64_t	 matches;
	int	 truncated;
	int	 done;
	char	 error[AGENTPROTO_MESSAGE_MAX + 1];
	json_t	*files;
	int64_t *marks; /* 2 * nmarks */
	size_t	 nmarks;
};

/* A result's progress step and releases (struct agentproto_result). */
#define AGENTPROTO_STEP_MAX	15
#define AGENTPROTO_RELEASES_MAX 128
/* A result's "code" ([a-z0-9_]) and "params" (docs/agent-protocol.md,
 * "Result codes"): at most this many members, each string this long. */
#define AGENTPROTO_CODE_MAX	 48
#define AGENTPROTO_PARAMS_MAX	 16
#define AGENTPROTO_PARAM_STR_MAX 256

enum agentproto_state {
	AGENTPROTO_STATE_RUNNING = 0,
	AGENTPROTO_STATE_SUCCEEDED,
	AGENTPROTO_STATE_FAILED
};

/*
 * A command result.  output is owned (malloc'd, NUL-terminated, valid
 * UTF-8, at most AGENTPROTO_OUTPUT_MAX bytes; NULL encodes as "").
 * finished_at is required unless the state is running; received_at is
 * optional (0 when not given).
 */
struct agentproto_result {
	enum agentproto_state state;
	int		      has_exit_status;
	int64_t		      exit_status;
	char		     *output;
	int64_t		      received_at;
	int		      has_finished_at;
	int64_t		      finished_at;
	/* Optional, "progress":{"step","percent"}: where a long command is
	 * (step one of agentproto_progress_step_valid(), percent 0-100 or
	 * -1 for unknown). */
	int	has_progress;
	char	progress_step[AGENTPROTO_STEP_MAX + 1];
	int64_t progress_percent;
	/* Optional, "releases": the task's releases after a deploy, update,
	 * rollback or move, newest first: an owned array of at most
	 * AGENTPROTO_RELEASES_MAX objects {"n","sha256","state",
	 * "deployed_at","command"} (decode keeps only these members, the
	 * command in lower case); NULL when not sent. */
	json_t *releases;
	/* Optional, "code" and "params": what the output says, for pages to
	 * word in their language.  code is "" when not sent; params is an
	 * owned object (NULL when not sent) of at most
	 * AGENTPROTO_PARAMS_MAX members named like a code, each a string of
	 * at most AGENTPROTO_PARAM_STR_MAX bytes or an integer.  params
	 * needs a code. */
	char	code[AGENTPROTO_CODE_MAX + 1];
	json_t *params;
};

/* {"error":"…","message":"…","field":"…"}; message and field optional. */
struct agentproto_error_reply {
	char error[AGENTPROTO_ERROR_MAX + 1];
	char message[AGENTPROTO_MESSAGE_MAX + 1];
	char field[64];
};

/*
 * Decoders.  Each takes the raw body (len bytes, not necessarily
 * NUL-terminated), refuses more than AGENTPROTO_BODY_MAX bytes, invalid
 * UTF-8, duplicate keys, a missing or wrong "v", and any known member of
 * the wrong type, range or length; unknown members are ignored.  They
 * zero the output first.  Return 1 on success; 0 with *err naming the
 * offending member on failure (outputs then own nothing).  err may be NULL.
 */
int agentproto_enroll_req_decode(const char *, size_t,
    struct agentproto_enroll_req *, struct agentproto_err *);
int agentproto_enroll_resp_decode(const char *, size_t,
    struct agentproto_enroll_resp *, struct agentproto_err *);
int agentproto_heartbeat_decode(const char *, size_t,
    struct agentproto_heartbeat *, struct agentproto_err *);
int agentproto_heartbeat_resp_decode(const char *, size_t,
    struct agentproto_heartbeat_resp *, struct agentproto_err *);
int agentproto_poll_decode(const char *, size_t, struct agentproto_poll *,
    struct agentproto_err *);
int agentproto_result_decode(const char *, size_t, struct agentproto_result *,
    struct agentproto_err *);
int agentproto_logchunk_decode(const char *, size_t,
    struct agentproto_logchunk *, struct agentproto_err *);
/* The answer to a chunk: {"v":1,"follow":bool}. */
int agentproto_logack_decode(const char *, size_t, int *,
    struct agentproto_err *);
/* An error reply carries no "v" (it comes from the generic error path). */
int agentproto_error_decode(const char *, size_t,
    struct agentproto_error_reply *, struct agentproto_err *);
/* Facts alone, from a decoded object (the server stores them as jsonb). */
int agentproto_facts_from_json(const json_t *, struct agentproto_facts *,
    struct agentproto_err *);

/*
 * Encoders: compact JSON text, malloc'd (the caller free()s it), or NULL
 * when a string is not valid UTF-8, a number is not finite, or memory
 * runs out.  They do not re-validate ranges: decode what you receive.
 */
char *agentproto_enroll_req_encode(const struct agentproto_enroll_req *);
char *agentproto_enroll_resp_encode(const struct agentproto_enroll_resp *);
char *agentproto_heartbeat_encode(const struct agentproto_heartbeat *);
char *agentproto_heartbeat_resp_encode(
    const struct agentproto_heartbeat_resp *);
char *agentproto_poll_encode(const struct agentproto_poll *);
char *agentproto_result_encode(const struct agentproto_result *);
char *agentproto_logchunk_encode(const struct agentproto_logchunk *);
char *agentproto_error_encode(const char *, const char *, const char *);
/* Facts as a new jansson object (caller json_decref()s), NULL on error. */
json_t *agentproto_facts_to_json(const struct agentproto_facts *);

/* Release what a decoded (or filled-in) struct owns; safe to repeat. */
void agentproto_heartbeat_cleanup(struct agentproto_heartbeat *);
void agentproto_poll_cleanup(struct agentproto_poll *);
void agentproto_result_cleanup(struct agentproto_result *);
void agentproto_logchunk_cleanup(struct agentproto_logchunk *);

/*
 * "YardNode <id>:<secret>": id 1..2^53 in decimal without leading zeros,
 * secret exactly 43 base64url characters.  parse returns 1 and fills id
 * and secret (AGENTPROTO_SECRET_LEN + 1 bytes), else 0 with *err set.
 * format writes the header value into buf and returns 1, 0 if it does
 * not fit or the inputs are invalid.
 */
int agentproto_auth_parse(const char *, int64_t *, char *,
    struct agentproto_err *);
int agentproto_auth_format(char *, size_t, int64_t, const char *);

/*
 * A heartbeat's "tasks": an array of at most AGENTPROTO_TASKS_MAX
 * {"id":int>0, "state":"starting"|"running"|"unhealthy"|"stopping"|
 *  "stopped"|"failed"|"crash_loop", "health":"ok"|"failing",
 *  "pid":int>=0, "started_at":ms>=0, "exit_status":int, "restarts":int>=0,
 *  "health_fails":int>=0 (consecutive failing health checks; absent: 0),
 *  "cpu":0..100*cpus, "rss":bytes, "threads":int>=0, "fds":int>=0,
 *  "procs":int>=0,
 *  "last_lines":string<=8192,
 *  "last_exit":{"at":ms>0, "status":0..255 | "signal":"SIGKILL",
 *   "by":"self"|"stop"|"policy"|"outside"},
 *  "last_restart":{"at":ms>0, "reason":"exited"|"signal"|"health"|
 *   "crash_loop_cooldown", "crash_loop":bool},
 *  "adopted_at":ms>0} (all but id and state optional).  Returns 1, else
 *  0 with *err naming the member.
 */
int agentproto_task_status_check(const json_t *, struct agentproto_err *);

/*
 * A task's spec (kind, deploy_dir, env, the kind's own object, restart,
 * stop_grace, health, log_files; docs/api.md) checked in full and returned
 * as a new normalised object with every default filled in, or NULL with
 * *err naming the offending member.  Unknown members are dropped.
 * agentproto_task_spec() judges paths as a Linux node would;
 * agentproto_task_spec_os() as a node of the given OS family would
 * ("linux" or "windows"; NULL is "linux"; anything else is refused).
 */
json_t *agentproto_task_spec(const json_t *, struct agentproto_err *);
json_t *agentproto_task_spec_os(const json_t *, const char *,
    struct agentproto_err *);

/*
 * The task-spec schema: one row per member, in the order members are
 * checked and written.  It drives agentproto_task_spec() and the field
 * list in docs/api.md ("Task specs"; agentproto_task_spec_doc() writes
 * it, a unit test keeps the two equal).
 */
#define AGENTPROTO_KIND_CONSOLE 0x1
#define AGENTPROTO_KIND_TOMCAT	0x2
#define AGENTPROTO_KIND_JAR	0x4
#define AGENTPROTO_KIND_ALL	0x7

enum agentproto_field_type {
	AGENTPROTO_FIELD_TEXT, /* a string without NUL, at most 4096 bytes */
	AGENTPROTO_FIELD_PATH, /* absolute or relative, no "..", 1024 bytes */
	AGENTPROTO_FIELD_ABSPATH, /* absolute for the node's OS, no ".." */
	AGENTPROTO_FIELD_URLPATH, /* an HTTP path: '/' then no spaces */
	AGENTPROTO_FIELD_INT, /* an integer from min to max */
	AGENTPROTO_FIELD_TEXTS, /* an array of at most max TEXT strings */
	AGENTPROTO_FIELD_PATHS, /* an array of at most max PATH strings */
	AGENTPROTO_FIELD_ENV, /* {"NAME":"value"}, at most max names */
	AGENTPROTO_FIELD_ENUM, /* one of values */
	AGENTPROTO_FIELD_OBJECT /* the rows whose section is this name */
};

enum agentproto_presence {
	AGENTPROTO_OPTIONAL = 0, /* absent (or a null object) stays absent */
	AGENTPROTO_REQUIRED, /* absent is refused as "missing" */
	AGENTPROTO_DEFAULTED /* absent takes the default ([] {} for lists) */
};

/* The default is a Linux path: on other OS families the member is
 * required instead. */
#define AGENTPROTO_FIELD_LINUX_DEFAULT 0x1

struct agentproto_task_field {
	const char		  *section; /* "" at the top, else its object */
	const char		  *name;
	enum agentproto_field_type type;
	unsigned		   kinds; /* AGENTPROTO_KIND_* having it */
	enum agentproto_presence   presence;
	int64_t			   min; /* INT */
	int64_t			   max; /* INT; the most members of lists */
	int64_t			   def_int; /* INT default */
	const char		  *def; /* string or ENUM default */
	const char		  *values[4]; /* ENUM, NULL-terminated */
	unsigned		   flags;
	const char		  *doc; /* what it means (Markdown) */
};

/* The rows, *n of them. */
const struct agentproto_task_field *agentproto_task_fields(size_t *);
/* The Markdown field table for docs/api.md, malloc'd; NULL without
 * memory. */
char *agentproto_task_spec_doc(void);

/* Small validators shared by both sides. */
/* "linux" or "windows": the OS families facts and task specs know. */
int agentproto_os_family_valid(const char *);
int agentproto_secret_valid(const char *);
int agentproto_uuid_valid(const char *);
/* "stdout", or a relative path without "..", "." or empty components. */
int	    agentproto_log_file_valid(const char *);
const char *agentproto_log_mode_name(enum agentproto_log_mode);
const char *agentproto_state_name(enum agentproto_state);
const char *agentproto_cmd_type_name(enum agentproto_cmd_type);
/*
 * A task's configuration as a command carries it (payload member
 * "config" of start, restart, deploy, update, rollback and apply-config;
 * docs/agent-protocol.md, "Configuration"):
 *   {"version":n, "values":[{"key","value","source","secret"}],
 *    "mappings":[{"key","file","format","nodepath"}],
 *    "files":[{"path","content_base64"}], "env":bool,
 *    "properties_file":"rel/path"|null}
 * Paths are relative to the task's tree (its live release, else its
 * deploy_dir), without "..", NUL or a leading '/'.  Every mapping's key
 * has a value.  The server and the agent check the same limits.
 */
#define AGENTPROTO_CFG_KEY_MAX	    200
#define AGENTPROTO_CFG_VALUE_MAX    (64 * 1024)
#define AGENTPROTO_CFG_VALUES_MAX   5000
#define AGENTPROTO_CFG_MAPPINGS_MAX 1000
#define AGENTPROTO_CFG_FILES_MAX    100
#define AGENTPROTO_CFG_FILE_MAX	    (1024 * 1024) /* decoded bytes */
#define AGENTPROTO_CFG_PATH_MAX	    1024
#define AGENTPROTO_CFG_TOTAL_MAX    (16 * 1024 * 1024) /* all of it */

struct agentproto_cfg_value {
	char  *key; /* owned */
	char  *value; /* owned, value_len bytes, NUL-terminated beyond */
	size_t value_len;
	int    secret;
	int    apollo; /* source "apollo" (else "yard") */
};

struct agentproto_cfg_mapping {
	char *key, *file, *nodepath; /* owned */
	int   format; /* enum cfgedit_format */
};

struct agentproto_cfg_file {
	char	      *path; /* owned */
	unsigned char *content; /* owned, decoded */
	size_t	       len;
};

struct agentproto_config {
	int64_t			       version;
	size_t			       nvalues, nmappings, nfiles;
	struct agentproto_cfg_value   *values;
	struct agentproto_cfg_mapping *mappings;
	struct agentproto_cfg_file    *files;
	int			       env;
	char			      *properties_file; /* owned or NULL */
};

/*
 * Decode and check a "config" object in full (the limits above, key and
 * path rules, formats, nodepath grammar through cfgedit, a value for
 * every mapped key): 0, or -1 with a message naming the member (e.g.
 * "config.mappings[2].nodepath: ...") in err and nothing owned.
 */
int  agentproto_config_decode(const json_t *, struct agentproto_config *,
     char *err, size_t errlen);
void agentproto_config_free(struct agentproto_config *);

/* Standard base64 with padding (RFC 4648 4): encode (malloc'd, NULL when
 * out of memory); strict decode, one encoding per byte string (1 and *out
 * malloc'd, NUL-terminated beyond *outlen, or 0).  The server's secrets
 * and the configuration's files use the same pair. */
char *agentproto_b64_encode(const uint8_t *, size_t);
int agentproto_b64_decode(const char *, size_t, uint8_t **out, size_t *outlen);

/* The command type called name (the wire "type"), or NULL. */
const struct agentproto_cmd_def *agentproto_command_find(const char *);
/* 1 for deploy, update, rollback and move: the commands that change a
 * task's releases (one at a time per task; they may queue behind each
 * other). */
int agentproto_command_is_release(enum agentproto_cmd_type);
/* 1 when s is a progress step: download, check, unpack, stop, switch,
 * start, health, rollback, move or copy. */
int agentproto_progress_step_valid(const char *);
/* 1 when s is a result code or a parameter's name: 1 to
 * AGENTPROTO_CODE_MAX of a-z, 0-9 and '_'. */
int agentproto_code_valid(const char *);
/*
 * Reason codes (reasons.c; docs/agent-protocol.md, "Reason codes"): 1
 * when code is one of the closed list; the i-th of them (sorted), NULL
 * past the last.  agentproto_reason_filter() drops from a result's
 * params every "reason_" member (and every "after_" one) unless they
 * form a reason this code knows: <pfx>code and the nested codes
 * (<pfx>account, <pfx>cause, <pfx>health) known, <pfx>errno a symbolic name.  The
 * rest of params, "reason" and "after" themselves included, stays.
 */
int	    agentproto_reason_known(const char *);
const char *agentproto_reason_at(size_t);
void	    agentproto_reason_filter(json_t *);
/* The i-th command type, in the documented order; NULL past the last. */
const struct agentproto_cmd_def *agentproto_command_at(size_t);
/*
 * The names of every command type, ", "-separated ("ping, start, ..."),
 * for messages.  Returns the length it needs, as snprintf does.
 */
size_t agentproto_command_names(char *, size_t);

/*
 * Copy src (srclen bytes) into dst (dstlen bytes, NUL-terminated) as valid
 * UTF-8: invalid sequences and control characters other than tab and
 * newline become '?', and the copy is cut on a character boundary.
 * Returns the number of bytes written, without the NUL.
 */
size_t agentproto_utf8_clean(char *, size_t, const char *, size_t);

#endif /* AGENTPROTO_H */
