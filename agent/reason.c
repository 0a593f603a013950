/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * A result's "reason" and "after" in machine form: the agent's English
 * words, as its own formats make them, mapped to a reason code and its
 * parameters (docs/agent-protocol.md, "Reason codes") for pages to word.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent.h"

/*
 * One pattern: the words of one of the agent's formats, with {name}
 * where a value goes.  {name} is any text (at least one byte), {name:i}
 * an integer, {name:e} an errno's text (strerror(), kept as its symbolic
 * name: ENOENT), {name:f} a payload member's dotted path, {name:x} any
 * text left out (English the output keeps: a codec's or curl's detail),
 * {name:r} another reason (name is then its code, and its parameters
 * join these).  fixed adds one parameter the pattern implies (the
 * policy rule it names), "name=value".  payload: only for "bad
 * payload".  The first pattern that reads the whole text wins, so the
 * more general ones come later.
 */
struct pattern {
	const char *code;
	const char *words;
	const char *fixed;
	int	    payload;
};

/* clang-format off */
static const struct pattern patterns[] = {
	/* Payload checks (commands.c, deploy.c, agentproto's codecs). */
	{ "payload_missing", "{field:f} is missing", NULL, 1 },
	{ "payload_missing", "package is missing", "field=package", 1 },
	{ "payload_invalid", "{field:f} must {detail:x}", NULL, 1 },
	{ "payload_invalid", "{field:f}: {detail:x}", NULL, 1 },
	{ "config_keep_failed", "config: cannot keep it in the state directory", NULL, 0 },

	/* Wrappers: what failed, with the reason inside. */
	{ "start_failed", "start failed: {cause:r}", NULL, 0 },
	{ "start_again_failed", "starting it again failed: {cause:r}", NULL, 0 },
	{ "start_again_failed", "starting it failed: {cause:r}", NULL, 0 },
	{ "switch_back_failed", "switching back failed: {cause:r}", NULL, 0 },

	/* The node policy (policy.c, tasks.c, supervise.c). */
	{ "policy_outside_roots", "policy: deploy_dir {dir} is outside the allowed roots ({roots})", "rule=roots", 0 },
	{ "policy_dir_unresolved", "policy: deploy_dir {dir} cannot be resolved: {errno:e}", "rule=roots", 0 },
	{ "policy_state_unresolved", "policy: the agent's state directory {dir} cannot be resolved: {errno:e}", "rule=state_dir", 0 },
	{ "policy_state_overlap", "policy: deploy_dir {dir} overlaps the agent's state directory {state_dir}", "rule=state_dir", 0 },
	{ "policy_logs_overlap", "policy: deploy_dir {dir} overlaps the agent's task logs {logs}", "rule=state_dir", 0 },
	{ "policy_env_refused", "policy: environment variable {name} is refused (refuse_env {pattern})", "rule=refuse_env", 0 },
	{ "policy_tasks_limit", "policy: this node already has {tasks:i} tasks (limits.tasks {limit:i})", "rule=limits.tasks", 0 },
	{ "policy_no_member", "policy: the spec has no {member}", "rule=spec", 0 },
	{ "policy_root_account", "policy: the account {user} (user) is root; root only runs where a root entry or a kind names it", "rule=user", 0 },
	{ "policy_cannot_switch", "policy: tasks here run as {user} (user), but the agent runs as {self} and cannot switch accounts", "rule=user", 0 },
	{ "policy_cannot_switch", "policy: tasks here run as {user} (the root {root}), but the agent runs as {self} and cannot switch accounts", "rule=roots", 0 },
	{ "policy_cannot_switch", "policy: tasks here run as {user} (kinds.{kind}.user), but the agent runs as {self} and cannot switch accounts", "rule=kinds", 0 },
	{ "policy_account", "policy: {account:r} (user)", "rule=user", 0 },
	{ "policy_account", "policy: {account:r} (the root {root})", "rule=roots", 0 },
	{ "policy_account", "policy: {account:r} (kinds.{kind}.user)", "rule=kinds", 0 },
	{ "policy_dir_changed", "policy: deploy_dir {dir} changed while it was checked", "rule=roots", 0 },

	/* Accounts (os_linux.c). */
	{ "account_unknown", "no account named {user} here", NULL, 0 },
	{ "account_groups", "account {user} is in more than {max:i} groups", NULL, 0 },
	{ "account_groups", "the groups of account {user} cannot be looked up", NULL, 0 },

	/* Starting a program (supervise.c, os_linux.c, cgroup.c). */
	{ "exec_failed", "cannot run {path}: {errno:e}", NULL, 0 },
	{ "spawn_failed", "fork: {errno:e}", "what=fork", 0 },
	{ "spawn_failed", "pipe: {errno:e}", "what=pipe", 0 },
	{ "cgroup_failed", "cannot create its cgroup: {errno:e}", NULL, 0 },
	{ "build_failed", "cannot build the environment", "what=environment", 0 },
	{ "build_failed", "cannot build the command line", "what=command_line", 0 },
	{ "release_missing", "the live release {path} is missing or not a directory of {dir}", NULL, 0 },

	/* Files. */
	{ "cannot_create", "cannot create {path}: {errno:e}", NULL, 0 },
	{ "cannot_create", "cannot make {path}: {errno:e}", NULL, 0 },
	{ "cannot_open", "cannot open {path}: {errno:e}", NULL, 0 },
	{ "cannot_read", "cannot read {path}: {errno:e}", NULL, 0 },
	{ "cannot_write", "cannot write {path}: {errno:e}", NULL, 0 },
	{ "cannot_remove", "cannot remove {path}: {errno:e}", NULL, 0 },
	{ "cannot_chown", "cannot give {path} to {user}: {errno:e}", NULL, 0 },
	{ "cannot_chown", "cannot give {path} away: {errno:e}", NULL, 0 },
	{ "cannot_chown", "cannot give {path}: {errno:e}", NULL, 0 },
	{ "cannot_link", "cannot link {path}: {errno:e}", NULL, 0 },
	{ "cannot_replace", "cannot replace {path}: {errno:e}", NULL, 0 },
	{ "cannot_enter", "cannot enter {path}: {errno:e}", NULL, 0 },
	{ "cannot_unpack", "cannot unpack {path}: {errno:e}", NULL, 0 },
	{ "cannot_move", "cannot move {path} to {to}: {errno:e}", NULL, 0 },
	{ "cannot_copy", "cannot copy the link {path}: {errno:e}", NULL, 0 },
	{ "cannot_copy", "cannot seed {path}: {errno:e}", NULL, 0 },
	{ "cannot_copy", "the release has no conf/server.xml and {path} cannot be copied: {errno:e}", NULL, 0 },
	{ "cannot_adopt", "cannot adopt {path}: {errno:e}", NULL, 0 },
	{ "cannot_measure_space", "cannot measure the free space of {path}: {errno:e}", NULL, 0 },
	{ "refuse_remove", "refusing to remove {path}", NULL, 0 },
	{ "out_of_memory", "out of memory", NULL, 0 },

	/* A task's configuration (config.c, tasks.c). */
	{ "config_no_deploy_dir", "config: the task has no deploy_dir", NULL, 0 },
	{ "config_load_failed", "config: the kept configuration does not load (line {line:i})", NULL, 0 },
	{ "out_of_memory", "config: out of memory", NULL, 0 },
	{ "config_outside", "config: {file}: resolves outside the task's deploy directory", NULL, 0 },
	{ "config_outside", "config: {file}: resolves inside the task's deploy directory", NULL, 0 },
	{ "config_outside", "config: {file}: resolves into the agent's state directory", NULL, 0 },
	{ "config_parent_not_dir", "config: {file}: a parent is not a directory", NULL, 0 },
	{ "config_not_regular", "config: {file}: not a regular file", NULL, 0 },
	{ "config_not_regular", "config: {file}: not a file", NULL, 0 },
	{ "config_too_large", "config: {file}: larger than {max:i} bytes", NULL, 0 },
	{ "config_same_file", "config: {file} and {other} are the same file", NULL, 0 },
	{ "config_mapped_twice", "config: {file}: mapped both as {a} and as {b}", NULL, 0 },
	{ "config_dir_failed", "config: {file}: mkdir {path}: {errno:e}", NULL, 0 },
	{ "config_too_deep", "config: {file}: too many directories to make", NULL, 0 },
	{ "config_chown", "config: {file}: chown {path}: {errno:e}", NULL, 0 },
	{ "out_of_memory", "config: {file}: out of memory", NULL, 0 },
	{ "config_no_value", "config: {file}: {nodepath}: no value for key \"{key}\"", NULL, 0 },
	{ "config_file_error", "config: {file}: {errno:e}", NULL, 0 },
	{ "config_edit", "config: {file}: {nodepath}: {detail:x}", NULL, 0 },

	/* Release commands (deploy.c, fetch.c, stage.c). */
	{ "release_is_live", "release {release:i} is live: use update", NULL, 0 },
	{ "nothing_deployed", "nothing is deployed: use deploy", NULL, 0 },
	{ "dir_not_empty", "{dir} is not empty: deploy with adopt to take its files over", NULL, 0 },
	{ "release_not_kept", "release {release:i} is not kept", NULL, 0 },
	{ "release_already_live", "release {release:i} is already live", NULL, 0 },
	{ "release_marked_bad", "release {release:i} is marked bad (it failed its start or health window)", NULL, 0 },
	{ "rollback_none", "no release to roll back to", NULL, 0 },
	{ "deploy_dir_exists", "{dir} already exists", NULL, 0 },
	{ "move_same_dir", "the task is already in {dir}", NULL, 0 },
	{ "move_inside", "{dir} lies inside {from}", NULL, 0 },
	{ "releases_elsewhere", "the task's releases are in {dir}, not in {from}: move it there", NULL, 0 },
	{ "too_many_tasks", "too many tasks on this node", NULL, 0 },
	{ "journal_full", "the journal is full", NULL, 0 },
	{ "task_gone", "the task is gone", NULL, 0 },
	{ "move_record_failed", "cannot record the new directory", NULL, 0 },
	{ "path_too_long", "{path}: path too long", NULL, 0 },
	{ "deploy_dir_exists", "{dir} exists already", NULL, 0 },
	{ "deploy_dir_exists", "{dir} exists and is not empty", NULL, 0 },
	{ "package_refused", "package refused: {rule} ({detail:x})", NULL, 0 },
	{ "package_unreadable", "cannot read the package: {detail:x}", NULL, 0 },
	{ "package_unreadable", "cannot unpack: {detail:x}", NULL, 0 },
	{ "package_unreadable", "package: more files than its check found", NULL, 0 },
	{ "shared_not_dir", "shared path {path} is a file in the release, not a directory", NULL, 0 },
	{ "tomcat_app_path", "tomcat.app_path {path} names no webapps directory", NULL, 0 },
	{ "spec_path_invalid", "{field:f}: not a relative path", NULL, 0 },
	{ "spec_path_invalid", "{field:f}: inside another shared path", NULL, 0 },
	{ "move_mount_point", "{dir} is another file system (a mount point): move it by hand", NULL, 0 },
	{ "move_device", "{path} is a device: not copied", NULL, 0 },
	{ "copy_differs", "the copy {path} differs from {from} (type or mode)", "what=mode", 0 },
	{ "copy_differs", "the copy {path} differs from {from} (link)", "what=link", 0 },
	{ "copy_differs", "the copy {path} differs from {from} (bytes)", "what=bytes", 0 },
	{ "move_refused", "cannot move {path} to {to}", NULL, 0 },
	{ "journal_write_failed", "{path}: cannot write the release journal", NULL, 0 },
	{ "not_a_directory", "{path} is not a directory", NULL, 0 },
	{ "not_enough_space", "not enough space in {dir}: {need:i} bytes needed, {free:i} free", NULL, 0 },
	{ "package_entry", "package entry {entry}: {rule}", NULL, 0 },
	{ "package_sha256", "downloaded package has SHA-256 {got}, not {want}: removed", NULL, 0 },
	{ "download_status", "download of package {package} failed: the server answered {status:i} {detail:x}", NULL, 0 },
	{ "download_status", "download of package {package} failed: the server answered {status:i}", NULL, 0 },
	{ "download_short", "download of package {package} ended short: {got:i} of {size:i} bytes", NULL, 0 },
	{ "download_too_large", "the server sent more than {size:i} bytes", NULL, 0 },
	{ "download_failed", "download of package {package} failed: {detail:x}", NULL, 0 },
	{ "worker_lost", "the worker ended without an answer", NULL, 0 },
	{ "ended_before_healthy", "it ended (exit status {exit_status:i}) before its health check passed", NULL, 0 },
	{ "ended_within", "it ended (exit status {exit_status:i}) within {settle_s:i} s", NULL, 0 },
	{ "ended_in_window", "it ended (exit status {exit_status:i}) during its {window_s:i} s health window", NULL, 0 },
	{ "not_healthy_within", "not healthy within {timeout_s:i} s ({health:r})", NULL, 0 },
	{ "health_failed_in_window", "its health check failed during its {window_s:i} s window: {health:r}", NULL, 0 },

	/* Health checks (tasks.c, http.c, libcurl's words). */
	{ "health_status", "HTTP {status:i}, expected {expected:i}", NULL, 0 },
	{ "health_no_answer", "no answer yet", NULL, 0 },
	{ "health_no_answer", "no answer", NULL, 0 },
	{ "health_connect", "Failed to connect to {host} port {port:i} after {ms:i} ms: {detail:x}", NULL, 0 },
	{ "health_connect", "Failed to connect to {host} port {port:i}: {detail:x}", NULL, 0 },
	{ "health_connect", "Couldn't connect to server", NULL, 0 },
	{ "health_timeout", "Operation timed out after {ms:i} milliseconds with {detail:x}", NULL, 0 },
	{ "health_timeout", "Connection timed out after {ms:i} milliseconds", NULL, 0 },
	{ "health_timeout", "Timeout was reached", NULL, 0 },
	{ "health_empty_reply", "Empty reply from server", NULL, 0 },
	{ "health_bad_answer", "Recv failure: {detail:x}", NULL, 0 },
	{ "health_bad_answer", "Send failure: {detail:x}", NULL, 0 },
	{ "health_bad_answer", "Weird server reply", NULL, 0 },
	{ "health_bad_answer", "Received HTTP/0.9 when not allowed", NULL, 0 },
	{ "health_too_large", "response larger than 256 KiB", NULL, 0 },

	/* Last: any other "<path>: <error>" (the release journal's files). */
	{ "file_error", "{path}: {errno:e}", NULL, 0 },
};
/* clang-format on */

#define NPATTERNS (sizeof(patterns) / sizeof(patterns[0]))

/* The errors a reason may name, by their symbolic names. */
/* clang-format off */
static const struct {
	int	    e;
	const char *name;
} errnos[] = {
	{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" },
	{ EINTR, "EINTR" }, { EIO, "EIO" }, { ENXIO, "ENXIO" },
	{ E2BIG, "E2BIG" }, { ENOEXEC, "ENOEXEC" }, { EBADF, "EBADF" },
	{ ECHILD, "ECHILD" }, { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" },
	{ EEXIST, "EEXIST" }, { EXDEV, "EXDEV" }, { ENODEV, "ENODEV" },
	{ ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" }, { EINVAL, "EINVAL" },
	{ ENFILE, "ENFILE" }, { EMFILE, "EMFILE" }, { ETXTBSY, "ETXTBSY" },
	{ EFBIG, "EFBIG" }, { ENOSPC, "ENOSPC" }, { ESPIPE, "ESPIPE" },
	{ EROFS, "EROFS" }, { EMLINK, "EMLINK" }, { EPIPE, "EPIPE" },
	{ ERANGE, "ERANGE" }, { EDEADLK, "EDEADLK" },
	{ ENAMETOOLONG, "ENAMETOOLONG" }, { ENOSYS, "ENOSYS" },
	{ ENOTEMPTY, "ENOTEMPTY" }, { ELOOP, "ELOOP" },
	{ EOVERFLOW, "EOVERFLOW" }, { EDQUOT, "EDQUOT" },
	{ ESTALE, "ESTALE" }, { ETIMEDOUT, "ETIMEDOUT" },
	{ ECONNREFUSED, "ECONNREFUSED" }, { ENOTSUP, "ENOTSUP" },
	{ EILSEQ, "EILSEQ" }, { ECANCELED, "ECANCELED" },
};
/* clang-format on */

#define NERRNOS	  (sizeof(errnos) / sizeof(errnos[0]))
#define DEPTH_MAX 3 /* nested reasons */

static int classify(const char *, size_t, int, int, json_t *, char *, size_t);

const char *
agent_errno_name(const char *text, size_t len)
{
	const char *s;
	size_t	    i;

	for (i = 0; i < NERRNOS; i++) {
		s = strerror(errnos[i].e);
		if (strlen(s) == len && memcmp(s, text, len) == 0)
			return (errnos[i].name);
	}
	return (NULL);
}

/* Whether s (len bytes) is a payload member's path: a, a.b, a[2].b. */
static int
field_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > AGENTPROTO_PARAM_STR_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
			s[i] == '.' || s[i] == '[' || s[i] == ']' ||
			s[i] == '-'))
			return (0);
	}
	return (1);
}

/* One value into out as pattern type t says, or 0 when it is not one. */
static int
capture(json_t *out, const char *name, size_t nlen, char t, const char *s,
    size_t len, int depth)
{
	char	    key[AGENTPROTO_CODE_MAX + 1], code[AGENTPROTO_CODE_MAX + 1];
	const char *e;
	json_t	   *v, *sub;
	const char *k;
	long long   n;
	char	    num[24], *end;
	size_t	    i;

	if (nlen >= sizeof(key) || len == 0)
		return (0);
	memcpy(key, name, nlen);
	key[nlen] = '\0';
	if (json_object_get(out, key) != NULL)
		return (0);
	switch (t) {
	case 'i':
		if (len >= sizeof(num))
			return (0);
		for (i = 0; i < len; i++) {
			if (!((s[i] >= '0' && s[i] <= '9') ||
				(i == 0 && s[i] == '-' && len > 1)))
				return (0);
		}
		memcpy(num, s, len);
		num[len] = '\0';
		errno = 0;
		n = strtoll(num, &end, 10);
		if (errno != 0 || *end != '\0')
			return (0);
		v = json_integer(n);
		break;
	case 'e':
		if ((e = agent_errno_name(s, len)) == NULL)
			return (0);
		v = json_string(e);
		break;
	case 'f':
		if (!field_valid(s, len))
			return (0);
		v = json_stringn(s, len);
		break;
	case 'r':
		if ((sub = json_object()) == NULL)
			return (0);
		if (!classify(s, len, 0, depth + 1, sub, code, sizeof(code))) {
			json_decref(sub);
			return (0);
		}
		/* Its parameters join ours: a clash is no match. */
		json_object_foreach(sub, k, v)
		{
			if (json_object_get(out, k) != NULL ||
			    strcmp(k, key) == 0) {
				json_decref(sub);
				return (0);
			}
		}
		(void)json_object_update(out, sub);
		json_decref(sub);
		v = json_string(code);
		break;
	case 'x':
		return (1); /* words the machine form leaves out */
	default:
		v = json_stringn(s, len);
		break;
	}
	return (v != NULL && json_object_set_new(out, key, v) == 0);
}

/*
 * Whether s (len bytes) reads as pattern p (to its end); the values go
 * into out (left as they were when it does not).  Each value ends where
 * the words after it come next, the earliest place first.
 */
static int
match(const char *p, const char *s, size_t len, int depth, json_t *out)
{
	const char *close, *colon, *lit, *hit;
	size_t	    litlen, nlen, at;
	json_t	   *try;
	char	    t;

	if ((close = strchr(p, '{')) == NULL)
		return (strlen(p) == len && memcmp(p, s, len) == 0);
	/* Words before the value. */
	litlen = (size_t)(close - p);
	if (litlen > len || memcmp(p, s, litlen) != 0)
		return (0);
	s += litlen;
	len -= litlen;
	p = close + 1;
	if ((close = strchr(p, '}')) == NULL)
		return (0);
	colon = memchr(p, ':', (size_t)(close - p));
	nlen = (size_t)((colon != NULL ? colon : close) - p);
	t = colon != NULL ? colon[1] : 's';
	lit = close + 1;
	litlen = strcspn(lit, "{");
	for (at = 1; at <= len; at++) {
		if (litlen > 0) {
			/* The next place its following words begin. */
			hit = NULL;
			while (at <= len && hit == NULL) {
				if (len - at >= litlen &&
				    memcmp(s + at, lit, litlen) == 0)
					hit = s + at;
				else
					at++;
			}
			if (hit == NULL)
				return (0);
		} else if (lit[0] == '\0')
			at = len; /* the value runs to the end */
		if ((try = json_deep_copy(out)) == NULL)
			return (0);
		if (capture(try, p, nlen, t, s, at, depth) &&
		    match(lit, s + at, len - at, depth, try)) {
			(void)json_object_update(out, try);
			json_decref(try);
			return (1);
		}
		json_decref(try);
	}
	return (0);
}

/* The first pattern s reads as: 1 with code and its values in out. */
static int
classify(const char *s, size_t len, int payload, int depth, json_t *out,
    char *code, size_t codelen)
{
	const struct pattern *pt;
	const char	     *eq;
	json_t		     *try;
	char		      key[AGENTPROTO_CODE_MAX + 1];
	size_t		      i;

	if (depth > DEPTH_MAX)
		return (0);
	for (i = 0; i < NPATTERNS; i++) {
		pt = &patterns[i];
		if (pt->payload && !payload)
			continue;
		if ((try = json_object()) == NULL)
			return (0);
		if (!match(pt->words, s, len, depth, try)) {
			json_decref(try);
			continue;
		}
		if (pt->fixed != NULL &&
		    (eq = strchr(pt->fixed, '=')) != NULL &&
		    (size_t)(eq - pt->fixed) < sizeof(key)) {
			memcpy(key, pt->fixed, (size_t)(eq - pt->fixed));
			key[eq - pt->fixed] = '\0';
			(void)json_object_set_new(try, key,
			    json_string(eq + 1));
		}
		(void)json_object_update(out, try);
		json_decref(try);
		(void)snprintf(code, codelen, "%s", pt->code);
		return (1);
	}
	return (0);
}

int
agent_reason_classify(const char *text, int payload, json_t *out, char *code,
    size_t codelen)
{
	if (text == NULL)
		return (0);
	return (classify(text, strlen(text), payload, 0, out, code, codelen));
}

/*
 * One of params' words (name: "reason" or "after") in machine form:
 * <name>_code and <name>_<value> for each of its values, all or none,
 * and only while params stays within the protocol's members.
 */
static void
add_form(json_t *params, const char *name, const char *rcode)
{
	const json_t *w = json_object_get(params, name);
	char	      code[AGENTPROTO_CODE_MAX + 1];
	char	      key[AGENTPROTO_CODE_MAX + 1];
	const char   *k;
	json_t	     *vals, *v;
	int	      ok;

	if (!json_is_string(w))
		return;
	if ((vals = json_object()) == NULL)
		return;
	if (json_string_length(w) == 0) {
		/* A check that never answered: start_unhealthy's "". */
		ok = strcmp(name, "reason") == 0 && rcode != NULL &&
		    strcmp(rcode, "start_unhealthy") == 0;
		(void)snprintf(code, sizeof(code), "health_no_answer");
	} else
		ok = classify(json_string_value(w), json_string_length(w),
		    rcode != NULL && strcmp(rcode, "bad_payload") == 0, 0, vals,
		    code, sizeof(code));
	if (!ok ||
	    json_object_size(params) + json_object_size(vals) + 1 >
		AGENTPROTO_PARAMS_MAX) {
		json_decref(vals);
		return;
	}
	json_object_foreach(vals, k, v)
	{
		if ((size_t)snprintf(key, sizeof(key), "%s_%s", name, k) >=
			sizeof(key) ||
		    !agentproto_code_valid(key) ||
		    json_object_get(params, key) != NULL) {
			json_decref(vals);
			return;
		}
	}
	json_object_foreach(vals, k, v)
	{
		(void)snprintf(key, sizeof(key), "%s_%s", name, k);
		(void)json_object_set(params, key, v);
	}
	(void)snprintf(key, sizeof(key), "%s_code", name);
	(void)json_object_set_new(params, key, json_string(code));
	json_decref(vals);
}

void
agent_reason_params(json_t *params, const char *rcode)
{
	if (!json_is_object(params))
		return;
	add_form(params, "reason", rcode);
	add_form(params, "after", rcode);
}

const char *
agent_reason_pattern_code(size_t i)
{
	return (i < NPATTERNS ? patterns[i].code : NULL);
}
