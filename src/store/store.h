/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The stores: PostgreSQL migrations (parent, blocking, before fork), the
 * statements every feature runs (each a named function below, grouped by
 * the object it is about; the SQL text lives only under src/store/), and
 * the per-worker Redis connections driven by Kore's event loop.
 *
 * Statements run asynchronously for a request: a statement function
 * takes the request's struct store_q and the request, and is called again
 * with the same arguments on every re-entry of the same state until it
 * answers STORE_OK (the result is then in q until store_clear() or the
 * next statement) or STORE_ERR (store_q_err() says what went wrong).
 * STORE_WAIT: the request sleeps and is woken when there is news.
 * Permission levels are 0 none, 1 view, 2 operate, 3 manage (the values of
 * enum auth_level), decided by the SQL functions of migration
 * 006_levels.sql, which every statement below that filters or checks by
 * permission calls.
 */

#ifndef STORE_H
#define STORE_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

struct http_request;
struct auth_principal;

/* Redis channel on which any instance announces a permission change. */
#define STORE_CHAN_AUTHZ "yard:authz"
/* A node has new commands (payload: node id, or "all"). */
#define STORE_CHAN_WAKE "yard:wake"
/* A log request has news (payload: its id). */
#define STORE_CHAN_LOGS "yard:logs"
/* A node was revoked (payload: node id). */
#define STORE_CHAN_NODES "yard:nodes"

/*
 * Apply every migration in dir (files NNN_name.sql, in order) that the
 * database has not seen, each in its own transaction, under an advisory
 * lock so that several instances starting together do not race.  Waits up
 * to wait_secs for PostgreSQL to accept connections.  Returns 1, or 0 with
 * err set.  Parent only: it blocks.
 */
int store_db_migrate(const char *conninfo, const char *dir, int wait_secs,
    char *err, size_t errlen);

/* Worker: connect to Redis (command + subscriber connections), keep them
 * alive with a 1 s PING and reconnect with back-off.  Never blocks. */
void store_redis_init(const char *url,
    void (*on_message)(const char *chan, const char *msg, size_t len));

/*
 * Worker, before store_redis_init(): the password sent in AUTH, first, on
 * every connection (YARD_REDIS_PASSWORD_FILE).  Borrowed: it must live as
 * long as the worker.  NULL: the URL's password, if any.  A refused AUTH
 * is logged and the connection dropped, as if Redis were down.
 */
void store_redis_set_password(const char *password, size_t len);

/* 1 when the last PING was answered within the last 3 s. */
int store_redis_healthy(void);

/* Fire-and-forget PUBLISH; returns 0 when Redis is not connected. */
int store_redis_publish(const char *chan, const char *msg);

/* Parse redis://[:password@]host:port[/db] or unix:///path.  Kore-free. */
struct store_redis_addr {
	char	 host[256];
	uint16_t port;
	char	 path[256]; /* unix socket when non-empty */
	char	 password[256];
	int	 db;
};
int store_redis_parse_url(const char *url, struct store_redis_addr *out);

/*
 * One request's statements.  Created with the request's state, freed with
 * it (store_q_free() also gives back a connection still held).
 */
struct store_q;

enum store_step {
	STORE_OK = 0, /* done: the result is in q */
	STORE_WAIT, /* the request sleeps; call again when it runs */
	STORE_ERR /* failed: see store_q_err() */
};

enum store_err {
	STORE_E_NONE = 0,
	STORE_E_DOWN, /* PostgreSQL unavailable (503) */
	STORE_E_BUSY, /* too many statements waiting in this worker (503) */
	STORE_E_CONFLICT, /* a unique value exists already (409) */
	STORE_E_MISSING, /* a referenced object does not exist (404) */
	STORE_E_VALUE, /* a value was not accepted (400) */
	STORE_E_INTERNAL /* anything else, logged (500) */
};

struct store_q *store_q_new(void);
void		store_q_free(struct store_q *);
/* 1 while a statement is in flight (or queued for a connection). */
int store_q_busy(const struct store_q *);
/* The last error; *column names the referencing column of a
 * STORE_E_MISSING when known ("user_id", "node_id", "task_id"). */
enum store_err store_q_err(const struct store_q *, const char **column);

/* The last result: NULL for SQL NULL or no such row/column. */
int	    store_rows(const struct store_q *);
const char *store_val(const struct store_q *, int row, int col);
int64_t	    store_val_int(const struct store_q *, int row, int col);
/* 1 when the value is the boolean true ("t"). */
int  store_val_bool(const struct store_q *, int row, int col);
void store_clear(struct store_q *);

/* Worker start: the store's own PostgreSQL connections (pool.c), opened
 * and driven without blocking. */
void store_pg_init(const char *conninfo);

/* What the statements need of the settings; given at worker start. */
struct store_config {
	int64_t node_offline_after; /* seconds without a heartbeat */
	int64_t node_lost_after;
	int64_t command_timeout; /* seconds a queued command may take */
	int64_t deploy_timeout; /* the same for a release command */
	int64_t metrics_retention_days;
	int64_t alert_eval; /* seconds between alert evaluations */
	int64_t alert_group_wait; /* seconds a node's notices wait together */
	int64_t alert_repeat; /* seconds before a firing alert is resent */
	int64_t alert_grace; /* seconds planned work stays quiet after */
};
void			   store_init(const struct store_config *);
extern struct store_config store_cfg;

/*
 * Nodes (nodes.c).  A node is visible to admins, and through a grant on it
 * or on one of its tasks.  Results are one row of one json text column,
 * except lists: rows of (json text, id), one row past limit meaning more.
 */
struct store_node_filter {
	int64_t	    cursor; /* ids after this */
	int64_t	    limit;
	const char *q; /* "" or a substring of name or hostname */
	const char *status; /* "" or online/offline/lost/revoked */
};
enum store_step store_nodes_list(struct store_q *, struct http_request *,
    const struct auth_principal *, const struct store_node_filter *);
/* The node with its caller's level and its last 20 events; no row when
 * the caller may not see it. */
enum store_step store_node_get(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t node);
/* Revoke (admins; the caller checks): one row (id) when it was live. */
enum store_step store_node_revoke(struct store_q *, struct http_request *,
    int64_t node, int64_t actor, const char *actor_sub, const char *remote);

/* Metrics (nodes.c): a node's or a task's history in step-second buckets
 * over [from, to) ("" for the last hour; step 0: ~300 points); no row when
 * the caller may not see the object. */
enum store_step store_metrics_node(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t node, const char *from,
    const char *to, int64_t step);
enum store_step store_metrics_task(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t task, const char *from,
    const char *to, int64_t step);

/*
 * Tasks (tasks.c).  A task is visible with view on it or on its node.
 * Lists are rows of (json text, id), one row past limit meaning more.
 */
struct store_task_filter {
	int64_t	    cursor; /* ids after this */
	int64_t	    limit;
	const char *q; /* "" or a substring of the name */
	int64_t	    node; /* 0 or only this node's tasks */
};
enum store_step store_tasks_list(struct store_q *, struct http_request *,
    const struct auth_principal *, const struct store_task_filter *);
/* The task with its spec, the caller's level and its latest command:
 * (json text, node id); no row when the caller may not see it. */
enum store_step store_task_get(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t task);
/* The task's releases (the last release command's report), newest first:
 * one row of json text {"items":[{n, package_id, name, version, sha256,
 * state, deployed_at, deployed_by, deployed_by_name, deployed_by_sub,
 * command_id}], "next": null}; none when the caller may not see it. */
enum store_step store_task_releases(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t task);
/* The task's events (019_task_events.sql), newest first: at most limit
 * before the event id before (0: the newest), as one row of json text
 * {"items":[{id, at, kind, state, prev_state, code, params, command_id,
 * by: {id, name} | null}], "next": id | null}; none when the caller may
 * not see the task. */
enum store_step store_task_events(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t task, int64_t limit, int64_t before);
/* Before a create, one row when the node exists: (visible bool, the
 * caller's level, revoked bool, the roots of the policy the node reports
 * as JSON text or NULL, its os_family: "linux" when it reports none). */
enum store_step store_task_create_check(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t node);
/* A create or an edit: id is the node (create) or the task (edit); spec
 * the normalised JSON text of kind's spec. */
struct store_task_write {
	int64_t	    id;
	const char *name;
	const char *kind;
	const char *spec;
	const char *actor_sub; /* for the audit row */
	const char *remote;
};
/* Create when the caller (still) manages the node and it is not revoked:
 * one row (the new task's id), none otherwise; a name the node has
 * already is STORE_E_CONFLICT. */
enum store_step store_task_create(struct store_q *, struct http_request *,
    const struct auth_principal *, const struct store_task_write *);
/* Before an edit, one row when the task exists: (kind, the caller's
 * level, its node's roots as JSON text or NULL, its node's os_family). */
enum store_step store_task_edit_check(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t task);
/* Edit name and spec when the caller (still) manages the task and kind is
 * still its kind: one row, the count of tasks edited (0 or 1); a name the
 * node has already is STORE_E_CONFLICT. */
enum store_step store_task_edit(struct store_q *, struct http_request *,
    const struct auth_principal *, const struct store_task_write *);

/*
 * Commands (commands.c): the ledger.  A command is visible with view on
 * its task, or on its node for a node command.  Issuing reads the
 * caller's level in the statement that writes and queues the command only
 * when it is at least need and the node is not revoked; its deadline is
 * store_cfg.command_timeout seconds away (deploy_timeout for a release
 * command).
 */
struct store_command_issue {
	int64_t	    id; /* the node (node command) or the task */
	const char *type;
	/* JSON object text: a node command's payload; a task command's
	 * members after "task" and "package" (NULL: none) */
	const char *payload;
	int	    need; /* the level it needs */
	int	    release; /* deploy, update, rollback or move */
	int64_t	    package; /* 0, or the package the payload names */
	const char *actor_sub; /* for the audit row */
	const char *remote;
};
/* A node command: one row when the node exists: (visible bool, the
 * caller's level, revoked bool, the queued command as JSON text or
 * NULL when it was not queued). */
enum store_step store_command_issue_node(struct store_q *,
    struct http_request *, const struct auth_principal *,
    const struct store_command_issue *);
/* A task command (its payload: "task" with the task's id, name and
 * spec; "package" {sha256, size, unpacked, name, version} when package is
 * set and the caller may see it; then payload's members), queued only
 * when no other command of the task is in progress (a release command:
 * none but release commands): one row when the task exists: (the
 * caller's level, revoked bool, the queued command as JSON text or NULL,
 * node id, the id of a command in progress that stood in the way or
 * NULL, the package was found bool, the task has a configuration bool).  A race with another issue is
 * STORE_E_CONFLICT. */
enum store_step store_command_issue_task(struct store_q *,
    struct http_request *, const struct auth_principal *,
    const struct store_command_issue *);
/*
 * Task configurations (config.c).  A configuration "doc" is JSON text:
 * {"values":[{"key","value","secret":false}|{"key","enc","secret":true}],
 * "apollo", "mappings", "files", "env", "properties_file"}
 * (migrations/012_config.sql).
 */
/* The current version (or version, when not 0) as users see it
 * (docs/api.md, "Configuration"): one row of json text; none when the
 * task is not visible. */
enum store_step store_config_get(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t task, int64_t version);
/* One row when the task is visible: (the effective configuration as
 * commands carry it, secrets as "enc", json text or NULL; the caller's
 * level). */
enum store_step store_config_effective(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t task);
/* Before a save: one row when the task exists: (the caller's level, the
 * keys that have a stored secret in the latest version as a JSON array,
 * version exists bool (true when version is 0)). */
enum store_step store_config_check(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t task, int64_t version);
struct store_config_save {
	int64_t	    task;
	const char *doc; /* the new doc; NULL with restore */
	const char *comment;
	int64_t	    restore; /* 0, or the version to copy */
	const char *actor_sub;
	const char *remote;
};
/* Save a new version (manage, read again here): one row, the new
 * version's number, NULL when nothing was written (level too low, or a
 * kept secret or the restored version vanished). */
enum store_step store_config_save(struct store_q *, struct http_request *,
    const struct auth_principal *, const struct store_config_save *);
/* One row of json text {"items":[{version, author, created_at, comment,
 * restored_from}], "next"} newest first, versions below cursor (0:
 * from the newest); none when the task is not visible. */
enum store_step store_config_versions(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t task, int64_t cursor, int64_t limit);
/* One row when the task is visible: (version's facts as json text, its
 * doc, the previous version's doc), NULLs where absent. */
enum store_step store_config_version(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t task, int64_t version);
/* Fail commands of node that cannot be delivered: fails is a JSON array
 * of {"id","error"}; one row, how many were failed. */
enum store_step store_agent_fail(struct store_q *, struct http_request *,
    int64_t node, const char *fails);
/* Before a move: one row when the task exists: (the caller's level,
 * revoked bool, its node's roots as JSON text or NULL, its node's OS
 * family, the task's spec as JSON text). */
enum store_step store_command_move_check(struct store_q *,
    struct http_request *, const struct auth_principal *, int64_t task);
struct store_command_filter {
	int64_t	    cursor; /* seqs before this; 0 none */
	int64_t	    limit;
	int64_t	    node, task, user; /* 0 or only these */
	const char *state; /* "" or only this state */
	const char *from, *to; /* "" or issued in [from, to) */
};
/* Newest first: rows of (json text, seq), one row past limit meaning
 * more. */
enum store_step store_commands_list(struct store_q *, struct http_request *,
    const struct auth_principal *, const struct store_command_filter *);
/* The command (a UUID) with its output and events: one row of json text;
 * none when the caller may not see it. */
enum store_step store_command_get(struct store_q *, struct http_request *,
    const struct auth_principal *, const char *id);

/*
 * Log requests (logs.c): a read of a task's logs that the node's agent
 * answers in chunks.  Both need operate on the task.
 */
struct store_log_want {
	int64_t	    task;
	const char *mode; /* tail, follow, download or file */
	const char *file;
	int64_t	    lines;
	const char *q; /* "" or a search */
	int	    level; /* needed on the task: operate; file: manage */
};
/* Make one when the caller has w->level on the task and its node is online
 * (a "file" request, the Configuration tab's view of a deployed file:
 * manage; a read then needs manage too):
 * one row: (online bool, NULL when there is no such task; the request's
 * UUID or NULL when none was made; node id; the caller's level). */
enum store_step store_log_request_new(struct store_q *, struct http_request *,
    const struct auth_principal *, const struct store_log_want *);
/* What request (of this caller, on task) has after chunk after (-1: all);
 * a follow poll also keeps the request wanted.  One row, or none when it
 * is not the caller's or they may no longer operate the task: (done bool,
 * error or NULL, files as JSON text, size or NULL, matches or NULL,
 * truncated bool, the text after chunk after, the last chunk's seq or
 * NULL when none arrived, mode, file, stale bool: a follow the agent
 * stopped answering for 15 s). */
enum store_step store_log_request_read(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t task, const char *request,
    int64_t after, int follow_poll);

/*
 * Agents (agents.c): the statements of the agent protocol's requests, for
 * the node that signed the request.
 */
/* A node's credential: one row (SHA-256 of its secret as 64 hex chars,
 * NULL once revoked; revoked as a boolean); no row for an unknown node. */
enum store_step store_agent_secret(struct store_q *, struct http_request *,
    int64_t node);
/* Enrolment: consume the token and create the node in one statement. */
struct store_enrol {
	const char *token_hash; /* SHA-256 hex of the enrolment token */
	const char *hostname; /* the node's name (made unique) */
	const char *secret_hash; /* SHA-256 hex of the node's new secret */
	const char *facts; /* json text */
	const char *version; /* the agent's */
	const char *remote; /* peer address, for the audit log */
};
/* One row (node id, name) when the token was known, unused and
 * unexpired; no row otherwise.  The node is enrolled (event) and audited. */
enum store_step store_agent_enrol(struct store_q *, struct http_request *,
    const struct store_enrol *);
/* Hand out the node's pending commands after seq `after` (marking queued
 * ones dispatched) and its log requests not yet delivered: one row (how
 * many were handed out, {"v":1,"commands":[...],"logs":[...]} as text,
 * the seconds each command handed out for the first time waited since
 * it was issued, separated by blanks). */
enum store_step store_agent_dispatch(struct store_q *, struct http_request *,
    int64_t node, int64_t after);
/* A command's result from its node; recorded once, a repeated final
 * result changes nothing; a succeeded uninstall deletes its task.  A
 * running result's progress is kept on the command until it ends; a
 * release command's final result replaces its task's releases with the
 * ones it carries, and a succeeded move sets its task's deploy_dir. */
struct store_cmd_result {
	const char *command; /* uuid */
	int64_t	    node;
	const char *state; /* running, succeeded, failed */
	int	    has_exit_status;
	int64_t	    exit_status;
	const char *output; /* never NULL */
	int64_t	    received_ms; /* 0: not said */
	int	    has_finished_ms;
	int64_t	    finished_ms;
	const char *progress; /* {"step","percent"} json text, or NULL */
	const char *releases; /* a checked json array text, or NULL */
	const char *code; /* a checked result code, or NULL: none sent */
	const char *params; /* a checked json object text, or NULL */
};
/* One row (1 when recorded now else 0, 1 when the node has that command
 * else 0). */
enum store_step store_agent_result(struct store_q *, struct http_request *,
    const struct store_cmd_result *);
/* A chunk of a log request's answer from its node: stored once. */
struct store_log_chunk {
	const char *request; /* uuid */
	int64_t	    node;
	int64_t	    seq;
	const char *data; /* never NULL */
	int	    done;
	const char *error; /* NULL: none */
	const char *files; /* json text, NULL: not sent */
	int64_t	    size;
	int64_t	    matches; /* < 0: not sent */
	int	    truncated;
	const char *stderr_ranges; /* json [[start, end], ...]; NULL: none */
};
/* One row (1 when the node has that request else 0, whether someone still
 * follows it as a boolean (NULL when no such request), how many changes a
 * reader should be woken for). */
enum store_step store_agent_log_chunk(struct store_q *, struct http_request *,
    const struct store_log_chunk *);
/* Readiness: one row when PostgreSQL answers a statement. */
enum store_step store_ping(struct store_q *, struct http_request *);
/*
 * /metrics (metrics.c): rows (kind, name, type, count): ("node", presence
 * as yard_node_status() says, "", n), ("task", state, "", n) and
 * ("command", state, type, n) for the commands issued in the last 24 h.
 */
enum store_step store_metrics_gauges(struct store_q *, struct http_request *);

/*
 * Heartbeats (heartbeat.c): the latest state of nodes and their samples
 * since the last flush, written in one statement as a background job of
 * the store's own connections (ahead of requests in their queue).  JSON values are borrowed for the call only.
 */
struct json_t;
struct store_hb_row {
	int64_t	       node;
	int64_t	       seen; /* server clock, seconds */
	struct json_t *facts; /* NULL: keep the stored ones */
	struct json_t *metrics; /* NULL: keep the stored ones */
	const char    *version;
	struct json_t *samples; /* [[time, cpu, mem_used, mem_total, load1]] */
	struct json_t *tasks; /* task states; NULL: none reported */
};
/*
 * Send a batch: 1 when it is in flight (done is called once, later, with
 * ok 1 when it landed and 0 when it did not: send it again; and arg); 0
 * when it was not sent (PostgreSQL down or a flush still busy: keep it
 * for a later try).  Revoked nodes are left alone.  Both writes are idempotent
 * (latest state; samples keyed by node and second).
 */
int store_heartbeat_flush(const struct store_hb_row *, size_t n, void *arg,
    void (*done)(int ok, void *arg));

/*
 * A duty: a statement run every `every_ms` on this instance's leader
 * connection (worker 1's own libpq connection, connected and driven
 * without blocking the event loop).
 *
 * STORE_DUTY_LEADER: once per cluster.  The connection takes a session
 * advisory lock named after the duty and runs the statement only while it
 * holds it; when the holder dies its session ends, PostgreSQL releases
 * the lock, and another instance takes it at its next try (every_ms).
 *
 * STORE_DUTY_EACH: every instance runs it, but never two at once: the
 * statement must guard itself with pg_try_advisory_xact_lock().
 *
 * The statement's $1 is the duty's name and $2 the holder ("listen/pid");
 * prepare() fills vals[2..] and returns how many values there are.  Put
 * STORE_DUTY_RECORD (store/internal.h) in the statement's WITH list to record the run in
 * duty_runs (who ran it, how often).
 */
enum store_duty_kind { STORE_DUTY_LEADER = 0, STORE_DUTY_EACH };

#define STORE_DUTY_VALS 12

struct pg_result;
struct store_duty {
	const char	    *name;
	enum store_duty_kind kind;
	uint64_t	     every_ms;
	const char	    *sql;
	int (*prepare)(struct store_duty *, const char **vals, char buf[][32]);
	/* Optional: the statement's result when it succeeded (a claim's
	 * rows, say); borrowed for the call. */
	void (*done)(struct store_duty *, struct pg_result *);
	/* Internal. */
	int	 leader; /* holds the lock (STORE_DUTY_LEADER) */
	uint64_t next; /* kore_time_ms() of the next run */
	TAILQ_ENTRY(store_duty) list;
};

/*
 * Cluster duties (duties.c), registered with the core's leader at worker
 * start (worker 1 of each instance; before core_leader_start()): the
 * presence sweep and command deadlines every second once per cluster, and
 * the metric retention (store_config.metrics_retention_days) every 10
 * minutes on each instance, never two at once.  And the alerts'
 * (docs/alerts.md), once per cluster: "alert-eval" every alert_eval
 * seconds (yard_alert_eval(), 016_alert_eval.sql) and "alert-notify"
 * every second (yard_alert_notify()), which queues into the outbox.
 */
void store_duties_register(void (*add)(struct store_duty *));

/*
 * The outbox (outbox.c): deliveries of notifications (e-mail, the EWS
 * callback) queued by the packages trigger (010_notifications.sql) and
 * sent by one leader among the instances.  Worker 1 registers the duty;
 * each run records the last batch's results, claims the due rows and
 * hands them to deliver() (borrowed for the call; 1: delivery started and
 * store_outbox_delivered() follows, once; 0: not started, recorded as a
 * failed attempt).  One batch at a time.
 */
struct store_outbox_config {
	int	mail; /* SMTP configured */
	int	callback; /* YARD_EWS_NOTIFY_URL configured */
	int64_t batch; /* rows claimed at most per run */
	int64_t stuck_after; /* seconds before a sending row is queued again */
	int64_t retry_base; /* seconds: the first back-off, doubled each time */
	int64_t retry_max; /* seconds: the longest back-off */
	int64_t max_attempts; /* then failed */
};
struct store_outbox_item {
	int64_t	    id;
	int64_t	    attempt; /* 1 for the first */
	const char *channel; /* "mail" or "callback" */
	const char *kind; /* "package.uploaded" */
	const char *key; /* idempotency key */
	const char *recipient; /* e-mail address (mail) */
	const char *lang; /* "zh-CN" or "en" */
	const char *payload; /* JSON object text */
};
struct store_outbox_result {
	int64_t	    id;
	int64_t	    attempt;
	int	    ok;
	const char *error; /* why it failed (valid UTF-8), or NULL */
};
void store_outbox_register(void (*add)(struct store_duty *),
    const struct store_outbox_config *,
    int (*deliver)(const struct store_outbox_item *, size_t));
/* The batch's results (borrowed), recorded by the next run. */
void store_outbox_delivered(const struct store_outbox_result *, size_t);

/*
 * Apollo (apollo.c): the follower's two duties, once per cluster
 * (registered by worker 1 when YARD_APOLLO_URL is set).  Each run of
 * "apollo-follow" records the results given since the last one with
 * store_apollo_result() in apollo_snapshots (a failed statement sends
 * them again), marks tasks with apollo.auto_apply whose namespace got a
 * new release, and hands follow() the namespaces named by the newest
 * configuration of any task (borrowed for the call).  "apollo-apply"
 * issues apply-config for the marked tasks whose effective values changed
 * and that are not busy (the others wait for the next run), and hands
 * issued() the nodes of the new commands, to be woken.
 */
struct store_apollo_follow {
	const char *app, *cluster, *ns;
	int64_t	    notification_id; /* -1: none yet */
	const char *release_key; /* "" when none */
	int64_t	    due_in_ms; /* until the fallback pull is due */
};
enum store_apollo_kind {
	STORE_APOLLO_OK = 0, /* a new answer: items and release_key */
	STORE_APOLLO_SAME, /* 304: the release is the one we have */
	STORE_APOLLO_ERROR /* error says why; the last good items stay */
};
struct store_apollo_result {
	const char	      *app, *cluster, *ns;
	enum store_apollo_kind kind;
	const char	      *release_key; /* OK */
	const char	      *items; /* OK: JSON object text of strings */
	int64_t		       notification_id; /* the id the answer is for */
	const char	      *error; /* ERROR: printable UTF-8 */
};
void store_apollo_register(void (*add)(struct store_duty *), int64_t pull,
    void (*follow)(const struct store_apollo_follow *, size_t),
    void (*issued)(const int64_t *nodes, size_t));
/* Queue a result (copied) for the next run of apollo-follow, which it
 * brings forward to the leader's next tick. */
void store_apollo_result(const struct store_apollo_result *);

/*
 * The inbox (notifications.c): the caller's own items.  The list is
 * newest first: rows of (json text, id), ids before cursor (0: from the
 * newest), one row past limit meaning more.
 */
enum store_step store_notifications_list(struct store_q *,
    struct http_request *, int64_t user, int64_t cursor, int64_t limit);
/* One row: {"unread":n} as json text. */
enum store_step store_notifications_unread(struct store_q *,
    struct http_request *, int64_t user);
/* Mark one read: one row (its id) when it is the user's, none otherwise. */
enum store_step store_notification_read(struct store_q *, struct http_request *,
    int64_t user, int64_t id);
/* Mark all read: one row, {"marked":n} as json text. */
enum store_step store_notifications_read_all(struct store_q *,
    struct http_request *, int64_t user);
/* The outbox for admins (the caller checks), newest first, ids before
 * cursor, state "" or one state: rows of (json text, id), one row past
 * limit meaning more. */
enum store_step store_deliveries_list(struct store_q *, struct http_request *,
    int64_t cursor, int64_t limit, const char *state);

/*
 * Users and sign-in (users.c).  Writes are admin actions (the caller
 * checks) and insert their audit row in the same statement.  An actor is
 * the acting user's id and sub, and the peer address, for the audit row.
 */
struct auth_claims;

/* Sign-in with provisioning: create the user of the claims on first use
 * (audited as user.provision) or update its name, email, role and
 * last_seen.  One row: 0 id, 1 admin (t/f), 2 disabled (t/f), 3 grants,
 * a json array text of [id, node_id, task_id, level, task's node_id]
 * (auth_grants_parse()). */
enum store_step store_user_provision(struct store_q *, struct http_request *,
    const struct auth_claims *, const char *remote);
/* Sign-in without provisioning: the same update and columns for a user
 * that exists; no row otherwise. */
enum store_step store_user_signin(struct store_q *, struct http_request *,
    const struct auth_claims *, const char *remote);

/* Users whose sub, name or email contain text ("" for all), ids after
 * cursor: rows of (json text, id), one row past limit meaning more. */
enum store_step store_users_list(struct store_q *, struct http_request *,
    int64_t cursor, int64_t limit, const char *text, int never);
/* One row of one json text column; no row when there is no such user. */
enum store_step store_user_get(struct store_q *, struct http_request *,
    int64_t user);
/* Create (user.create): one row of the user as json text; STORE_E_CONFLICT
 * when the sub exists. */
enum store_step store_user_create(struct store_q *, struct http_request *,
    const char *sub, const char *name, const char *email, int admin,
    int64_t actor, const char *actor_sub, const char *remote);
/* What an update changes: a member left at -1 or NULL stays. */
struct store_user_change {
	int	    admin; /* -1, 0 or 1 */
	int	    disabled; /* -1, 0 or 1 */
	const char *name;
	const char *email;
};
/* Update (user.update): one row of the user as json text; no row when
 * there is no such user. */
enum store_step store_user_update(struct store_q *, struct http_request *,
    int64_t user, const struct store_user_change *, int64_t actor,
    const char *actor_sub, const char *remote);

/*
 * Grants (grants.c; admins, the caller checks).  A grant as json text has
 * id, user_id, user_sub, user_name, node_id, node_name, task_id,
 * task_name, task_node_id, level, created_at, created_by.
 */
struct store_grant_filter {
	int64_t cursor; /* ids after this */
	int64_t limit;
	int64_t user; /* 0 for any */
	int64_t node; /* 0 for any */
	int64_t task; /* 0 for any */
};
/* Rows of (json text, id), one row past limit meaning more. */
enum store_step store_grants_list(struct store_q *, struct http_request *,
    const struct store_grant_filter *);
/* One row of one json text column; no row when there is no such grant. */
enum store_step store_grant_get(struct store_q *, struct http_request *,
    int64_t grant);
/* Grant user level ("view", "operate", "manage") on node, or on task when
 * node is 0; again on the same target changes the level (grant.create or
 * grant.update).  One row: 0 the grant as json text, 1 created (t/f);
 * STORE_E_MISSING naming user_id, node_id or task_id. */
enum store_step store_grant_put(struct store_q *, struct http_request *,
    int64_t user, int64_t node, int64_t task, const char *level, int64_t actor,
    const char *actor_sub, const char *remote);
/* Like store_grant_put, for the user whose sub (EWS account name) is
 * given; a user not seen yet is created first, never signed in
 * (user.create with "via":"grant"), in the same statement.  One row: 0 the
 * grant as json text with user_created, 1 created (t/f). */
enum store_step store_grant_put_sub(struct store_q *, struct http_request *,
    const char *sub, int64_t node, int64_t task, const char *level,
    int64_t actor, const char *actor_sub, const char *remote);
/* Delete (grant.delete): one row (id) when it existed. */
enum store_step store_grant_delete(struct store_q *, struct http_request *,
    int64_t grant, int64_t actor, const char *actor_sub, const char *remote);

/* The audit log (audit.c), newest first. */
struct store_audit_filter {
	int64_t	    cursor; /* ids before this; 0 for the newest */
	int64_t	    limit;
	int64_t	    actor; /* 0 for any */
	int64_t	    object; /* 0 for any */
	const char *action; /* "" for any */
	const char *object_type; /* "" for any */
	const char *from; /* "" or an RFC 3339 time, inclusive */
	const char *to; /* "" or an RFC 3339 time, exclusive */
};
/* Rows of (json text, id), one row past limit meaning more. */
enum store_step store_audit_list(struct store_q *, struct http_request *,
    const struct store_audit_filter *);

/* Enrolment tokens made by admins (enroll.c; the caller checks). */
/* Rows of (json text, id) from cursor, one row past limit meaning more;
 * usable says whether the token is unused and unexpired. */
enum store_step store_enrollments_list(struct store_q *, struct http_request *,
    int64_t cursor, int64_t limit);
/* A token valid for 24 hours, known by its SHA-256 (64 hex characters;
 * enrollment.create).  One row: 0 id, 1 created_at, 2 expires_at (RFC
 * 3339 text). */
enum store_step store_enrollment_create(struct store_q *, struct http_request *,
    const char *token_sha256_hex, int64_t actor, const char *actor_sub,
    const char *remote);

/*
 * Uploads (uploads.c): tus uploads in progress and their verdicts.  An
 * upload belongs to the user who created it; every statement about one
 * also says whether the caller may still upload for its target (a token
 * with the packages:upload scope, or manage on the target; admins).
 */
struct store_upload_new {
	int	    scope; /* the token carries packages:upload */
	int64_t	    task; /* 0: none */
	int64_t	    node; /* 0: none */
	int64_t	    length;
	const char *name, *version, *notes, *filename;
	const char *sub;
	int64_t	    expire; /* seconds */
	int64_t	    user_max; /* bytes of partial uploads per user */
};
/* One row: 0 the target exists (t/f), 1 the caller's level on it, 2 the
 * target is visible (t/f), 3 bytes of the caller's partial uploads, 4 the
 * new upload's id or NULL when it was not created, 5 its expiry (epoch
 * seconds). */
enum store_step store_upload_create(struct store_q *, struct http_request *,
    const struct auth_principal *, const struct store_upload_new *);
/* The caller's upload: one row (0 offset, 1 length, 2 state, 3 allowed
 * t/f, 4 expiry epoch, 5 the upload as json text); none when it is not
 * the caller's. */
enum store_step store_upload_get(struct store_q *, struct http_request *,
    const struct auth_principal *, int scope, const char *id);
/* Hold the caller's upload for an append at offset: one row (0 offset,
 * 1 length, 2 SHA-256 state as hex or NULL, 3 state, 4 allowed t/f,
 * 5 held now t/f, 6 held by another append t/f, 7 expired t/f); none when
 * it is not the caller's. */
enum store_step store_upload_hold(struct store_q *, struct http_request *,
    const struct auth_principal *, int scope, const char *id, int64_t offset);
/* After an append: the new offset and SHA-256 state (hex), released;
 * complete: the state becomes checking.  One row (expiry epoch) when the
 * upload was still held at from. */
enum store_step store_upload_commit(struct store_q *, struct http_request *,
    const char *id, int64_t from, int64_t to, const char *sha_hex, int complete,
    int64_t expire);
/* Release a hold without appending (a bad checksum, a write error). */
enum store_step store_upload_release(struct store_q *, struct http_request *,
    const char *id);
/* Terminate the caller's upload (not while it is being checked): one row
 * (0 state before) when it was deleted. */
enum store_step store_upload_delete(struct store_q *, struct http_request *,
    const struct auth_principal *, const char *id);

/* A check's outcome, recorded by a background statement. */
struct store_upload_verdict {
	const char *id;
	int	    ok;
	const char *sha256; /* ok */
	int64_t	    entries; /* ok */
	const char *manifest; /* ok: json text */
	const char *reason, *entry, *message; /* !ok; entry may be NULL */
	int64_t	    expire; /* seconds the row stays readable */
};
/* done(ok, package id or 0, arg) is called once, later; 0: not sent. */
int store_upload_verdict(const struct store_upload_verdict *, void *arg,
    void (*done)(int ok, int64_t package, void *arg));
/* Which of ids (a JSON array text of UUIDs) are uploads receiving or
 * being checked: done(ok, live ids as a json array text, arg); 0: not
 * sent (one at a time). */
int store_uploads_live(const char *ids, void *arg,
    void (*done)(int ok, const char *live, void *arg));
/* The expiry duty, once per cluster every every_ms (partial uploads past
 * their expiry, and verdicts kept that long, are deleted; a check that
 * never finished is rejected), for the core's duty runner. */
struct store_duty;
struct store_duty *store_upload_duty(uint64_t every_ms, int64_t expire);

/*
 * Packages (packages.c).  A package is visible to admins, its uploader,
 * and whoever may view its target task or node.
 */
struct store_package_filter {
	int64_t	    cursor;
	int64_t	    limit;
	const char *q; /* "" or a substring of the name */
	int64_t	    task, node; /* 0 or only this target */
	int	    newest; /* newest first (cursor: ids below it) */
};
/*
 * Package retention: the duty (once per cluster, every every_ms) that
 * deletes packages older than days (0: none) that no command names and
 * that are not their target's newest.  The files stay: worker 1 lists the
 * store and asks which hashes rows still name, done(ok, those hashes as
 * a json array text, arg); 0: not sent (one at a time).
 */
struct store_duty *store_package_retention_duty(uint64_t every_ms,
    int64_t						 days);
int		   store_packages_live(const char *hashes, void *arg,
		   void (*done)(int, const char *, void *));
/* Rows of (json text, id), one row past limit meaning more. */
enum store_step store_packages_list(struct store_q *, struct http_request *,
    const struct auth_principal *, const struct store_package_filter *);
/* The package with its manifest: one row of json text; none when the
 * caller may not see it. */
enum store_step store_package_get(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t id);
/* A page of a package's manifest or of its diff. */
struct store_package_page {
	int64_t	    id;
	int64_t	    against; /* diff: 0 = the previous package of the target */
	int64_t	    task; /* diff: > 0 = the live release of this task */
	const char *path; /* manifest: "" or the directory "a/b" */
	const char *cursor; /* "" or the "next" of the page before */
	int64_t	    limit;
};
/* One directory of the manifest (directories first, then files, by name,
 * byte order): one row of json text {package_id, path, dirs, files, items,
 * next}; none when the caller may not see the package. */
enum store_step store_package_manifest(struct store_q *, struct http_request *,
    const struct auth_principal *, const struct store_package_page *);
/* Added, changed and removed files against another package (by default
 * the newest older one of the same task, else node): one row of json text
 * {package_id, against, basis, counts, items, next}; none when the caller
 * may not see the package or an explicit against.  With task: against
 * the package of that task's live release (basis "live", with task_id
 * and live {n, sha256} or null; nothing live or no package row for it:
 * against null and every file added); none when the caller may not view
 * the task. */
enum store_step store_package_diff(struct store_q *, struct http_request *,
    const struct auth_principal *, const struct store_package_page *);
/* For an agent: one row (size) when the package exists and a command of
 * node that is not finished has payload.package.sha256 equal to it. */
enum store_step store_package_for_node(struct store_q *, struct http_request *,
    int64_t node, const char *sha256);

/*
 * Alerts (alerts.c; 015_alerts.sql, 017_alerts_api.sql).  Rules are
 * written by admins (the caller checks) and read by everyone,
 * extra_emails only by admins.  Events and mutes are visible with view on
 * their task, or, for a node, when the node is visible; a mute is set or
 * ended with manage on its target.  Every change inserts its audit row in
 * the same statement.
 */
/* One row: {"items":[rule...]} as json text. */
enum store_step store_alert_rules_list(struct store_q *, struct http_request *,
    int admin);
/* One row of the rule as json text; none when there is no such rule. */
enum store_step store_alert_rule_get(struct store_q *, struct http_request *,
    int64_t id, int admin);
/* Create (id 0) or replace rule id with rule, the checked JSON text of
 * auth_alertrule_check(): one row (0 the rule as json text, or NULL when
 * nothing was written, 1 the scope's unknown ids {"node_ids":[...],
 * "task_ids":[...]} as json text); no row when id names no rule.  A name
 * in use is STORE_E_CONFLICT. */
enum store_step store_alert_rule_put(struct store_q *, struct http_request *,
    int64_t id, const char *rule, int64_t actor, const char *actor_sub,
    const char *remote);
/* Delete (its open events resolve): one row (id) when it existed. */
enum store_step store_alert_rule_delete(struct store_q *, struct http_request *,
    int64_t id, int64_t actor, const char *actor_sub, const char *remote);
/* yard_alert_preview() of rule over days days: one row of json text. */
enum store_step store_alert_preview(struct store_q *, struct http_request *,
    const char *rule, int days);
struct store_alert_filter {
	int64_t	    before; /* ids below this; 0 for the newest */
	int64_t	    limit;
	const char *state; /* "", pending, firing, resolved or open */
	int64_t	    node, task, rule; /* 0 for any */
	const char *since; /* "" or RFC 3339: started at or after */
};
/* Newest first: rows of (json text, id), one row past limit meaning
 * more. */
enum store_step store_alert_events_list(struct store_q *, struct http_request *,
    const struct auth_principal *, const struct store_alert_filter *);
/* One row of json text; none when the caller may not see it. */
enum store_step store_alert_event_get(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t id);
/* One row: {"nodes":{id:{firing,pending,muted_until,mute_reason}},
 * "tasks":{...}} as json text. */
enum store_step store_alert_summary(struct store_q *, struct http_request *,
    const struct auth_principal *);
struct store_mute_new {
	int64_t	    node, task; /* exactly one is not 0 */
	const char *until; /* RFC 3339 with a zone */
	const char *reason;
	const char *actor_sub, *remote;
};
/* One row when the target exists: (0 the new mute as json text or NULL
 * when none was created: level below manage or a bad until, 1 visible
 * t/f, 2 the caller's level, 3 until is in the future and at most 90
 * days ahead t/f). */
enum store_step store_mute_create(struct store_q *, struct http_request *,
    const struct auth_principal *, const struct store_mute_new *);
/* One row: {"items":[mute...]} as json text, newest first, at most 500;
 * active: only those not yet over; node, task: 0 or only that target. */
enum store_step store_mutes_list(struct store_q *, struct http_request *,
    const struct auth_principal *, int active, int64_t node, int64_t task);
/* One row when the mute exists and is visible: (0 the caller's level on
 * its target, 1 deleted t/f: level manage or more). */
enum store_step store_mute_delete(struct store_q *, struct http_request *,
    const struct auth_principal *, int64_t id, const char *actor_sub,
    const char *remote);

#endif /* STORE_H */
