/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * A packaged task's installed files (docs/deploy.md), the part of the
 * agent that deploy, update, rollback and move commands drive:
 *
 *   <deploy_dir>/releases/<n>/   one per deployed package; 0 is adopt's
 *   <deploy_dir>/shared/<p>      each of spec.shared_paths, kept across
 *                                releases and linked into each of them
 *   <deploy_dir>/current         a symbolic link to releases/<n>, switched
 *                                by rename() of a new link (Linux)
 *   <deploy_dir>/.staging/       work in progress: the download and the
 *                                release being built; removed on failure
 *                                and at the agent's start
 *
 * The journal (one file per task in the agent's state directory,
 * <state>/releases/<task-id>.json, written with agent_write_atomic()) is
 * what the agent believes: a task starts from the release it names as
 * live, and rollback follows it, never directory order or mtimes.
 *
 * Everything here blocks (file system work, the download): the agent
 * runs agent_rel_fetch() and agent_rel_stage() in a child process
 * (agent/deploy.c) and reads their progress from a pipe, so its event
 * loop keeps answering heartbeats and log requests.
 */

#ifndef AGENT_RELEASE_H
#define AGENT_RELEASE_H

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>

#include <jansson.h>

#include "agentproto/agentproto.h"

#define AGENT_REL_DIR	  "releases" /* in the state dir, and deploy_dir */
#define AGENT_REL_MAX	  128 /* releases one journal holds */
#define AGENT_REL_SHARED  "shared"
#define AGENT_REL_CURRENT "current"
#define AGENT_REL_STAGING ".staging"
#define AGENT_REL_NOTES	  2048

/* A release as the journal records it. */
struct agent_rel {
	int64_t n; /* 0 (adopt) or more; given by the agent */
	char	sha256[65]; /* the package's; "" for an adopted release */
	int	good; /* it ran healthy for its window once */
	int	bad; /* it failed its start or health window */
	int64_t deployed_at; /* ms since the epoch, agent clock */
	char	cmd[AGENTPROTO_UUID_LEN + 1]; /* the command that made it */
};

struct agent_reljournal {
	int64_t task_id;
	char	dir[PATH_MAX]; /* the deploy_dir the releases live in */
	int64_t live; /* n of the live release; -1: none */
	int64_t last_good; /* n; -1: none */
	int64_t pending; /* n switched to but not yet proven; -1 */
	int64_t prev; /* live before pending was switched to; -1 */
	int64_t next; /* the n the next release gets */
	size_t	nrel;
	struct agent_rel v[AGENT_REL_MAX]; /* ascending n */
};

/* Progress of a long step: step is "download", "check", "unpack", ... */
typedef void (*agent_rel_progress)(void *, const char *, int);

/*
 * The journal.  agent_rel_load() fills *j for task (an empty journal,
 * live -1, next 1, when the task has none) and returns 1, or 0 with why
 * when the file exists but cannot be read or is not a journal this code
 * wrote (every member checked).  agent_rel_save() writes it atomically;
 * agent_rel_forget() removes it (uninstall).
 */
int agent_rel_load(const char *, int64_t, struct agent_reljournal *, char *,
    size_t);
int agent_rel_save(const char *, const struct agent_reljournal *, char *,
    size_t);
int agent_rel_forget(const char *, int64_t);
/*
 * What agent_rel_load() does with the file's bytes (for the fuzzer):
 * the journal of task from buf, 1, or 0 with why and *j empty.
 * agent_rel_dump() is the text agent_rel_save() writes (malloc'd, or
 * NULL without memory).
 */
int   agent_rel_parse(const char *, size_t, int64_t, struct agent_reljournal *,
      char *, size_t);
char *agent_rel_dump(const struct agent_reljournal *);
struct agent_rel *agent_rel_find(struct agent_reljournal *, int64_t);
/*
 * The releases as the result of a command reports them (newest first):
 * [{"n":3,"sha256":"…","state":"live"|"good"|"bad"|"kept",
 *   "deployed_at":ms,"command":"uuid"}].  A new reference.
 */
json_t *agent_rel_json(const struct agent_reljournal *);
/* <dir>/releases/<n> into buf; 0 when it does not fit. */
int agent_rel_path(const char *, int64_t, char *, size_t);

/*
 * agent_rel_fetch(server, node_id, secret, sha256, size, file, progress,
 * arg, why, len): download the package sha256 (size bytes) from
 * server's GET /agent/v1/packages/<sha256> with the node's credentials
 * into <file>.part (<x>.part for a file <x>.zip), resuming with Range
 * from what that already holds (a server that answers 200 sends it
 * whole again); check the free
 * space of file's directory first ("not enough space in <dir>: <need>
 * bytes needed, <free> free"), then the SHA-256 of the whole file, and
 * rename it to file.  1, or 0 with why (the .part is removed when its
 * bytes are wrong, kept for a resume when the transfer failed).
 * progress gets ("download", percent) about once a MiB.  Blocks: a
 * child process's work.
 */
int agent_rel_fetch(const char *, int64_t, const char *, const char *, int64_t,
    const char *, agent_rel_progress, void *, char *, size_t);

/* What agent_rel_stage() builds. */
struct agent_rel_job {
	enum agentproto_cmd_type kind; /* DEPLOY or UPDATE */
	const char		*dir; /* the resolved deploy_dir */
	const char		*zip; /* the verified package; NULL: adopt */
	int			 adopt; /* deploy: move dir's files into 0 */
	int		   clean; /* update: drop files the package lacks */
	const json_t	  *spec; /* normalised task spec */
	int64_t		   n; /* the release to make */
	int64_t		   live; /* the live release; -1: none */
	uint64_t	   need; /* bytes the unpacked package needs */
	uid_t		   uid; /* owner of what is made */
	gid_t		   gid;
	agent_rel_progress progress;
	void		  *arg;
	char notes[AGENT_REL_NOTES]; /* out: "new defaults available: …" */
};

/*
 * Build release job->n: in <dir>/.staging/<n>, check the package again
 * (src/pkg: every rule the server applies; "package entry <name>:
 * <rule>") and unpack it with link, absolute and ".." entries refused.
 * With live >= 0 the release starts from a copy of the live one (hard
 * links for files the package replaces or does not touch, real copies
 * of preserved paths), preserved paths keep the live release's bytes
 * (those whose packaged bytes differ are listed in notes as "new
 * defaults available: a, b"), what the package lacks is dropped only
 * with clean.  Shared paths become links to <dir>/shared/<p>, seeded
 * from the release's own copy when <dir>/shared/<p> does not exist
 * yet.  A tomcat task's package goes to webapps/<app> of the release
 * (and a first release without conf/server.xml gets <home>/conf when
 * the spec names no base).  What was made is given to uid/gid when the
 * agent may.  Then the staging directory is renamed to
 * <dir>/releases/<n>.  1, or 0 with why and nothing left in staging or
 * releases.  A deploy (live -1, no adopt) refuses a directory holding
 * anything but the layout's entries ("<dir> is not empty: deploy with
 * adopt to take its files over").  adopt with zip NULL makes release n
 * of the directory's own files (moved); a later stage with live = that
 * n lays the package over them.  The process's working directory
 * changes while it unpacks (restored before it returns).
 */
int agent_rel_stage(struct agent_rel_job *, char *, size_t);

/*
 * Once the task is stopped, before the switch: copy again into
 * releases/job->n every preserved file of the live release (job->live)
 * that changed since agent_rel_stage() copied it (size or mtime), so
 * that what the program wrote while the package downloaded and unpacked
 * is not lost.  Each copy replaces the staged one by rename() and keeps
 * the live file's owner, mode and times.  The number of files copied,
 * or -1 with why (the new release is then not to be used).
 */
int agent_rel_preserve_again(const struct agent_rel_job *, char *, size_t);

/*
 * Point <dir>/current at releases/<n>: a new link renamed over the old
 * one, never remove-then-create.  1, or 0 with why.
 */
int agent_rel_switch(const char *, int64_t, char *, size_t);

/*
 * Remove releases beyond keep (oldest first, bad ones before good),
 * never the live, pending or last good one; their journal entries go
 * too.  The number removed, or -1 with why (the journal then lists what
 * is still on disk).
 */
int agent_rel_prune(struct agent_reljournal *, int, char *, size_t);

/*
 * Move a whole deploy directory from one path to another: rename()
 * where both are on one file system, else copy (owners, modes, links
 * as links), compare, then remove the old one.  A failure puts back
 * what it moved and leaves nothing at the new path.  1, or 0 with why.
 */
int agent_rel_move(const char *, const char *, agent_rel_progress, void *,
    char *, size_t);

/*
 * Whether the file system holding dir has need bytes free: 1, or 0 with
 * "not enough space in <dir>: <need> bytes needed, <free> free".
 */
int agent_rel_space(const char *, uint64_t, char *, size_t);

/* Remove <dir>/.staging (at the agent's start, after a failure). */
void agent_rel_clean_staging(const char *);

#endif /* AGENT_RELEASE_H */
