/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Codecs for the agent protocol (docs/agent-protocol.md).  Decoders check
 * every known member and name the first offending one; encoders build
 * compact JSON with jansson.
 */

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "agentproto/agentproto.h"

#define PATH_MAX_LEN 64
#define DUMP_FLAGS   (JSON_COMPACT | JSON_REAL_PRECISION(10))

static void    err_set(struct agentproto_err *, const char *, const char *,
       const char *, ...) __attribute__((format(printf, 4, 5)));
static void    path_join(char *, size_t, const char *, const char *);
static json_t *load(const char *, size_t, struct agentproto_err *);
static int     check_v(const json_t *, struct agentproto_err *);
static const json_t *member(const json_t *, const char *, const char *, int,
    struct agentproto_err *);
static int get_int(const json_t *, const char *, const char *, int, int64_t,
    int64_t, int64_t *, int *, struct agentproto_err *);
static int get_num(const json_t *, const char *, const char *, double, double,
    double *, struct agentproto_err *);
static int get_str(const json_t *, const char *, const char *, int, size_t,
    size_t, char *, size_t, struct agentproto_err *);
static int facts_decode(const json_t *, const char *, struct agentproto_facts *,
    struct agentproto_err *);
static int policy_decode(const json_t *, const char *,
    struct agentproto_policy *, struct agentproto_err *);
static json_t *policy_to_json(const struct agentproto_policy *);
static int     metrics_decode(const json_t *, const char *,
	struct agentproto_metrics *, struct agentproto_err *);
static int     command_decode(const json_t *, const char *,
	struct agentproto_command *, struct agentproto_err *);
static int     logreq_decode(const json_t *, const char *,
	struct agentproto_logreq *, struct agentproto_err *);
static int     interval_decode(const json_t *, int64_t *, int64_t *,
	struct agentproto_err *);
static int     type_valid(const char *);
static json_t *metrics_to_json(const struct agentproto_metrics *);
static int     set(json_t *, const char *, json_t *);
static char   *dump(json_t *);
static size_t  utf8_seq(const unsigned char *, size_t);

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
err_set(struct agentproto_err *err, const char *pfx, const char *name,
    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	path_join(err->field, sizeof(err->field), pfx, name);
	va_start(ap, fmt);
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* "facts.disks[2]" + "path" -> "facts.disks[2].path". */
static void
path_join(char *dst, size_t len, const char *pfx, const char *name)
{
	if (pfx == NULL)
		pfx = "";
	if (name == NULL)
		name = "";
	(void)snprintf(dst, len, "%s%s%s", pfx,
	    pfx[0] != '\0' && name[0] != '\0' ? "." : "", name);
}

/* Parse a body into an object; only printable ASCII of jansson's error
 * text reaches err (it quotes the input). */
static json_t *
load(const char *buf, size_t len, struct agentproto_err *err)
{
	json_error_t jerr;
	json_t	    *root;
	size_t	     i;

	if (buf == NULL && len != 0) {
		err_set(err, "", "", "no body");
		return (NULL);
	}
	if (len > AGENTPROTO_BODY_MAX) {
		err_set(err, "", "", "body larger than %d bytes",
		    AGENTPROTO_BODY_MAX);
		return (NULL);
	}
	if ((root = json_loadb(buf == NULL ? "" : buf, len,
		 JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		for (i = 0; jerr.text[i] != '\0'; i++) {
			if (!isprint((unsigned char)jerr.text[i]))
				jerr.text[i] = '?';
		}
		err_set(err, "", "", "invalid JSON: %.100s", jerr.text);
		return (NULL);
	}
	if (!json_is_object(root)) {
		json_decref(root);
		err_set(err, "", "", "the body must be a JSON object");
		return (NULL);
	}
	return (root);
}

static int
check_v(const json_t *root, struct agentproto_err *err)
{
	int64_t v;

	return (get_int(root, "", "v", 1, AGENTPROTO_VERSION,
	    AGENTPROTO_VERSION, &v, NULL, err));
}

/* A member of o; NULL (and err set when required) if absent. */
static const json_t *
member(const json_t *o, const char *pfx, const char *name, int required,
    struct agentproto_err *err)
{
	const json_t *m;

	/* jansson's getter takes a non-const object but does not modify it. */
	m = json_object_get((json_t *)(uintptr_t)o, name);
	if (m == NULL && required)
		err_set(err, pfx, name, "missing");
	return (m);
}

static int
get_int(const json_t *o, const char *pfx, const char *name, int required,
    int64_t min, int64_t max, int64_t *out, int *present,
    struct agentproto_err *err)
{
	const json_t *m;
	json_int_t    v;

	if (present != NULL)
		*present = 0;
	if ((m = member(o, pfx, name, required, err)) == NULL)
		return (!required);
	if (!json_is_integer(m)) {
		err_set(err, pfx, name, "must be an integer");
		return (0);
	}
	v = json_integer_value(m);
	if (v < min || v > max) {
		err_set(err, pfx, name,
		    "must be between %" PRId64 " and %" PRId64, min, max);
		return (0);
	}
	*out = (int64_t)v;
	if (present != NULL)
		*present = 1;
	return (1);
}

static int
get_num(const json_t *o, const char *pfx, const char *name, double min,
    double max, double *out, struct agentproto_err *err)
{
	const json_t *m;
	double	      v;

	if ((m = member(o, pfx, name, 1, err)) == NULL)
		return (0);
	if (!json_is_number(m)) {
		err_set(err, pfx, name, "must be a number");
		return (0);
	}
	v = json_number_value(m);
	if (!isfinite(v) || v < min || v > max) {
		err_set(err, pfx, name, "must be between %g and %g", min, max);
		return (0);
	}
	*out = v;
	return (1);
}

/* A string of minlen..maxlen bytes copied into dst (dstlen > maxlen). */
static int
get_str(const json_t *o, const char *pfx, const char *name, int required,
    size_t minlen, size_t maxlen, char *dst, size_t dstlen,
    struct agentproto_err *err)
{
	const json_t *m;
	size_t	      n;

	if ((m = member(o, pfx, name, required, err)) == NULL)
		return (!required);
	if (!json_is_string(m)) {
		err_set(err, pfx, name, "must be a string");
		return (0);
	}
	n = json_string_length(m);
	if (n < minlen || n > maxlen || n >= dstlen) {
		err_set(err, pfx, name, "must be %zu to %zu bytes long", minlen,
		    maxlen);
		return (0);
	}
	memcpy(dst, json_string_value(m), n);
	dst[n] = '\0';
	return (1);
}

static int
facts_decode(const json_t *o, const char *pfx, struct agentproto_facts *f,
    struct agentproto_err *err)
{
	const json_t *disks, *d;
	char	      dp[PATH_MAX_LEN];
	size_t	      i;

	if (!json_is_object(o)) {
		err_set(err, pfx, "", "must be an object");
		return (0);
	}
	if (!get_str(o, pfx, "hostname", 1, 0, AGENTPROTO_STR_MAX, f->hostname,
		sizeof(f->hostname), err) ||
	    !get_str(o, pfx, "os", 1, 0, AGENTPROTO_STR_MAX, f->os,
		sizeof(f->os), err) ||
	    !get_str(o, pfx, "kernel", 1, 0, AGENTPROTO_STR_MAX, f->kernel,
		sizeof(f->kernel), err) ||
	    !get_str(o, pfx, "arch", 1, 0, AGENTPROTO_STR_MAX, f->arch,
		sizeof(f->arch), err) ||
	    !get_int(o, pfx, "cpus", 1, 0, INT64_MAX, &f->cpus, NULL, err) ||
	    !get_int(o, pfx, "mem_total", 1, 0, INT64_MAX, &f->mem_total, NULL,
		err) ||
	    !get_str(o, pfx, "boot_id", 1, 0, AGENTPROTO_BOOT_ID_MAX,
		f->boot_id, sizeof(f->boot_id), err) ||
	    !get_int(o, pfx, "uptime", 1, 0, INT64_MAX, &f->uptime, NULL,
		err) ||
	    !get_str(o, pfx, "agent_version", 1, 0, AGENTPROTO_STR_MAX,
		f->agent_version, sizeof(f->agent_version), err))
		return (0);

	if ((d = member(o, pfx, "policy", 0, err)) != NULL) {
		path_join(dp, sizeof(dp), pfx, "policy");
		if (!policy_decode(d, dp, &f->policy, err))
			return (0);
		f->has_policy = 1;
	}
	if ((disks = member(o, pfx, "disks", 0, err)) == NULL)
		return (1);
	if (!json_is_array(disks)) {
		err_set(err, pfx, "disks", "must be an array");
		return (0);
	}
	if (json_array_size(disks) > AGENTPROTO_DISKS_MAX) {
		err_set(err, pfx, "disks", "at most %d disks",
		    AGENTPROTO_DISKS_MAX);
		return (0);
	}
	for (i = 0; i < json_array_size(disks); i++) {
		(void)snprintf(dp, sizeof(dp), "%s%sdisks[%zu]", pfx,
		    pfx[0] != '\0' ? "." : "", i);
		d = json_array_get(disks, i);
		if (!json_is_object(d)) {
			err_set(err, dp, "", "must be an object");
			return (0);
		}
		if (!get_str(d, dp, "path", 1, 1, AGENTPROTO_STR_MAX,
			f->disks[i].path, sizeof(f->disks[i].path), err) ||
		    !get_int(d, dp, "total", 1, 0, INT64_MAX,
			&f->disks[i].total, NULL, err) ||
		    !get_int(d, dp, "free", 1, 0, INT64_MAX, &f->disks[i].free,
			NULL, err))
			return (0);
		f->ndisks++;
	}
	return (1);
}

/*
 * facts.policy: {"roots":[{"path","user"}...],"user","kinds":{"<kind>":
 * {"user"}},"refuse_env":["LD_*"...],"limits":{"tasks","log_bytes"}}.
 * The agent validated it against the node's accounts; here only shapes
 * and sizes are checked (it is stored and shown).
 */
static int
policy_decode(const json_t *o, const char *pfx, struct agentproto_policy *p,
    struct agentproto_err *err)
{
	const json_t *a, *v, *lim;
	const char   *k;
	char	      ip[PATH_MAX_LEN * 2];
	size_t	      i;

	if (!json_is_object(o)) {
		err_set(err, pfx, "", "must be an object");
		return (0);
	}
	if ((a = member(o, pfx, "roots", 1, err)) == NULL)
		return (0);
	if (!json_is_array(a) ||
	    json_array_size(a) > AGENTPROTO_POLICY_ROOTS_MAX) {
		err_set(err, pfx, "roots",
		    "must be an array of at most %d roots",
		    AGENTPROTO_POLICY_ROOTS_MAX);
		return (0);
	}
	json_array_foreach(a, i, v)
	{
		(void)snprintf(ip, sizeof(ip), "%s.roots[%zu]", pfx, i);
		if (!json_is_object(v)) {
			err_set(err, ip, "", "must be an object");
			return (0);
		}
		if (!get_str(v, ip, "path", 1, 1, AGENTPROTO_STR_MAX,
			p->roots[i].path, sizeof(p->roots[i].path), err) ||
		    !get_str(v, ip, "user", 1, 1, AGENTPROTO_USER_MAX,
			p->roots[i].user, sizeof(p->roots[i].user), err))
			return (0);
		p->nroots++;
	}
	if (!get_str(o, pfx, "user", 1, 1, AGENTPROTO_USER_MAX, p->user,
		sizeof(p->user), err))
		return (0);
	if ((a = member(o, pfx, "kinds", 1, err)) == NULL)
		return (0);
	if (!json_is_object(a) ||
	    json_object_size(a) > AGENTPROTO_POLICY_KINDS_MAX) {
		err_set(err, pfx, "kinds",
		    "must be an object of at most %d kinds",
		    AGENTPROTO_POLICY_KINDS_MAX);
		return (0);
	}
	path_join(ip, sizeof(ip), pfx, "kinds");
	json_object_foreach((json_t *)(uintptr_t)a, k, v)
	{
		if (strlen(k) > AGENTPROTO_KIND_MAX || !type_valid(k)) {
			err_set(err, ip, "",
			    "kind names are at most %d "
			    "lower-case letters, digits, '_' "
			    "or '-'",
			    AGENTPROTO_KIND_MAX);
			return (0);
		}
		if (!json_is_object(v)) {
			err_set(err, ip, k, "must be an object");
			return (0);
		}
		memcpy(p->kinds[p->nkinds].kind, k, strlen(k) + 1);
		(void)snprintf(ip, sizeof(ip), "%s.kinds.%s", pfx, k);
		if (!get_str(v, ip, "user", 1, 1, AGENTPROTO_USER_MAX,
			p->kinds[p->nkinds].user,
			sizeof(p->kinds[p->nkinds].user), err))
			return (0);
		path_join(ip, sizeof(ip), pfx, "kinds");
		p->nkinds++;
	}
	if ((a = member(o, pfx, "refuse_env", 1, err)) == NULL)
		return (0);
	if (!json_is_array(a) ||
	    json_array_size(a) > AGENTPROTO_POLICY_ENV_MAX) {
		err_set(err, pfx, "refuse_env",
		    "must be an array of at most %d patterns",
		    AGENTPROTO_POLICY_ENV_MAX);
		return (0);
	}
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v) || json_string_length(v) < 1 ||
		    json_string_length(v) > AGENTPROTO_PATTERN_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			(void)snprintf(ip, sizeof(ip), "refuse_env[%zu]", i);
			err_set(err, pfx, ip,
			    "must be a string of 1 to %d bytes",
			    AGENTPROTO_PATTERN_MAX);
			return (0);
		}
		memcpy(p->refuse_env[i], json_string_value(v),
		    json_string_length(v) + 1);
		p->nrefuse_env++;
	}
	if ((lim = member(o, pfx, "limits", 1, err)) == NULL)
		return (0);
	path_join(ip, sizeof(ip), pfx, "limits");
	if (!json_is_object(lim)) {
		err_set(err, ip, "", "must be an object");
		return (0);
	}
	return (
	    get_int(lim, ip, "tasks", 1, 0, INT64_MAX, &p->tasks, NULL, err) &&
	    get_int(lim, ip, "log_bytes", 1, 0, INT64_MAX, &p->log_bytes, NULL,
		err));
}

static int
metrics_decode(const json_t *o, const char *pfx, struct agentproto_metrics *m,
    struct agentproto_err *err)
{
	if (!json_is_object(o)) {
		err_set(err, pfx, "", "must be an object");
		return (0);
	}
	return (get_num(o, pfx, "cpu", 0.0, 100.0, &m->cpu, err) &&
	    get_int(o, pfx, "mem_used", 1, 0, INT64_MAX, &m->mem_used, NULL,
		err) &&
	    get_int(o, pfx, "mem_total", 1, 0, INT64_MAX, &m->mem_total, NULL,
		err) &&
	    get_num(o, pfx, "load1", 0.0, 1e9, &m->load1, err) &&
	    get_num(o, pfx, "load5", 0.0, 1e9, &m->load5, err) &&
	    get_num(o, pfx, "load15", 0.0, 1e9, &m->load15, err));
}

/* Lower-case letters, digits, '_' and '-': "ping", "apply-config". */
static int
type_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '_' && s[i] != '-')
			return (0);
	}
	return (i > 0);
}

static int
command_decode(const json_t *o, const char *pfx, struct agentproto_command *c,
    struct agentproto_err *err)
{
	const json_t *pl;
	size_t	      i;

	if (!json_is_object(o)) {
		err_set(err, pfx, "", "must be an object");
		return (0);
	}
	if (!get_str(o, pfx, "id", 1, AGENTPROTO_UUID_LEN, AGENTPROTO_UUID_LEN,
		c->id, sizeof(c->id), err))
		return (0);
	if (!agentproto_uuid_valid(c->id)) {
		err_set(err, pfx, "id", "must be a UUID");
		return (0);
	}
	for (i = 0; c->id[i] != '\0'; i++)
		c->id[i] = (char)tolower((unsigned char)c->id[i]);
	if (!get_int(o, pfx, "seq", 1, 1, INT64_MAX, &c->seq, NULL, err) ||
	    !get_str(o, pfx, "type", 1, 1, AGENTPROTO_TYPE_MAX, c->type,
		sizeof(c->type), err))
		return (0);
	if (!type_valid(c->type)) {
		err_set(err, pfx, "type",
		    "must be lower-case letters, digits, '_' or '-'");
		return (0);
	}
	c->kind = strcmp(c->type, "ping") == 0	? AGENTPROTO_CMD_PING
	    : strcmp(c->type, "start") == 0	? AGENTPROTO_CMD_START
	    : strcmp(c->type, "stop") == 0	? AGENTPROTO_CMD_STOP
	    : strcmp(c->type, "restart") == 0	? AGENTPROTO_CMD_RESTART
	    : strcmp(c->type, "uninstall") == 0 ? AGENTPROTO_CMD_UNINSTALL
						: AGENTPROTO_CMD_UNKNOWN;
	if (!get_str(o, pfx, "issued_at", 0, 0, AGENTPROTO_TIME_STR_MAX,
		c->issued_at, sizeof(c->issued_at), err))
		return (0);
	if ((pl = member(o, pfx, "payload", 0, err)) == NULL) {
		if ((c->payload = json_object()) == NULL) {
			err_set(err, pfx, "payload", "out of memory");
			return (0);
		}
		return (1);
	}
	if (!json_is_object(pl)) {
		err_set(err, pfx, "payload", "must be an object");
		return (0);
	}
	c->payload = json_incref((json_t *)(uintptr_t)pl);
	return (1);
}

static int
logreq_decode(const json_t *o, const char *pfx, struct agentproto_logreq *l,
    struct agentproto_err *err)
{
	char   mode[16];
	size_t i;

	if (!json_is_object(o)) {
		err_set(err, pfx, "", "must be an object");
		return (0);
	}
	if (!get_str(o, pfx, "id", 1, AGENTPROTO_UUID_LEN, AGENTPROTO_UUID_LEN,
		l->id, sizeof(l->id), err))
		return (0);
	if (!agentproto_uuid_valid(l->id)) {
		err_set(err, pfx, "id", "must be a UUID");
		return (0);
	}
	for (i = 0; l->id[i] != '\0'; i++)
		l->id[i] = (char)tolower((unsigned char)l->id[i]);
	if (!get_int(o, pfx, "task_id", 1, 1, AGENTPROTO_NODE_ID_MAX,
		&l->task_id, NULL, err) ||
	    !get_str(o, pfx, "mode", 1, 1, sizeof(mode) - 1, mode, sizeof(mode),
		err))
		return (0);
	if (strcmp(mode, "tail") == 0)
		l->mode = AGENTPROTO_LOG_TAIL;
	else if (strcmp(mode, "follow") == 0)
		l->mode = AGENTPROTO_LOG_FOLLOW;
	else if (strcmp(mode, "download") == 0)
		l->mode = AGENTPROTO_LOG_DOWNLOAD;
	else {
		err_set(err, pfx, "mode", "must be tail, follow or download");
		return (0);
	}
	if (!get_str(o, pfx, "file", 1, 1, AGENTPROTO_LOG_FILE_MAX, l->file,
		sizeof(l->file), err))
		return (0);
	if (!agentproto_log_file_valid(l->file)) {
		err_set(err, pfx, "file",
		    "must be stdout or a relative path without '..'");
		return (0);
	}
	l->lines = 200;
	if (!get_int(o, pfx, "lines", 0, 1, AGENTPROTO_LOG_LINES_MAX, &l->lines,
		NULL, err) ||
	    !get_str(o, pfx, "q", 0, 0, AGENTPROTO_LOG_Q_MAX, l->q,
		sizeof(l->q), err))
		return (0);
	if (memchr(l->q, '\n', strlen(l->q)) != NULL) {
		err_set(err, pfx, "q", "must be one line");
		return (0);
	}
	return (1);
}

/* heartbeat_interval and poll_timeout, both optional. */
static int
interval_decode(const json_t *root, int64_t *hb, int64_t *wait,
    struct agentproto_err *err)
{
	*hb = AGENTPROTO_INTERVAL_DEF;
	*wait = AGENTPROTO_WAIT_DEF;
	return (
	    get_int(root, "", "heartbeat_interval", 0, AGENTPROTO_INTERVAL_MIN,
		AGENTPROTO_INTERVAL_MAX, hb, NULL, err) &&
	    get_int(root, "", "poll_timeout", 0, 1, AGENTPROTO_WAIT_MAX, wait,
		NULL, err));
}

int
agentproto_enroll_req_decode(const char *buf, size_t len,
    struct agentproto_enroll_req *r, struct agentproto_err *err)
{
	json_t *root;
	size_t	i;
	int	ret;

	memset(r, 0, sizeof(*r));
	if ((root = load(buf, len, err)) == NULL)
		return (0);
	ret = 0;
	if (!check_v(root, err) ||
	    !get_str(root, "", "token", 1, 1, AGENTPROTO_TOKEN_MAX, r->token,
		sizeof(r->token), err))
		goto cleanup;
	for (i = 0; r->token[i] != '\0'; i++) {
		if (strchr(b64url, r->token[i]) == NULL) {
			err_set(err, "", "token",
			    "must be base64url characters");
			goto cleanup;
		}
	}
	if (member(root, "", "facts", 1, err) == NULL ||
	    !facts_decode(json_object_get(root, "facts"), "facts", &r->facts,
		err))
		goto cleanup;
	ret = 1;
cleanup:
	json_decref(root);
	if (!ret)
		memset(r, 0, sizeof(*r));
	return (ret);
}

int
agentproto_enroll_resp_decode(const char *buf, size_t len,
    struct agentproto_enroll_resp *r, struct agentproto_err *err)
{
	json_t *root;
	int	ret;

	memset(r, 0, sizeof(*r));
	if ((root = load(buf, len, err)) == NULL)
		return (0);
	ret = 0;
	if (!check_v(root, err) ||
	    !get_int(root, "", "node_id", 1, 1, AGENTPROTO_NODE_ID_MAX,
		&r->node_id, NULL, err) ||
	    !get_str(root, "", "secret", 1, AGENTPROTO_SECRET_LEN,
		AGENTPROTO_SECRET_LEN, r->secret, sizeof(r->secret), err))
		goto cleanup;
	if (!agentproto_secret_valid(r->secret)) {
		err_set(err, "", "secret", "must be 43 base64url characters");
		goto cleanup;
	}
	if (!interval_decode(root, &r->heartbeat_interval, &r->poll_timeout,
		err))
		goto cleanup;
	ret = 1;
cleanup:
	json_decref(root);
	if (!ret) {
		explicit_bzero(r, sizeof(*r));
	}
	return (ret);
}

int
agentproto_heartbeat_decode(const char *buf, size_t len,
    struct agentproto_heartbeat *h, struct agentproto_err *err)
{
	json_t	     *root;
	const json_t *m, *b, *bm;
	char	      bp[PATH_MAX_LEN];
	size_t	      i;
	int	      ret;

	memset(h, 0, sizeof(*h));
	if ((root = load(buf, len, err)) == NULL)
		return (0);
	ret = 0;
	if (!check_v(root, err) ||
	    !get_int(root, "", "seq", 1, 1, INT64_MAX, &h->seq, NULL, err) ||
	    !get_int(root, "", "time", 1, 0, INT64_MAX, &h->time, NULL, err))
		goto cleanup;
	if ((m = member(root, "", "facts", 1, err)) == NULL ||
	    !facts_decode(m, "facts", &h->facts, err))
		goto cleanup;
	if ((m = member(root, "", "metrics", 1, err)) == NULL ||
	    !metrics_decode(m, "metrics", &h->metrics, err))
		goto cleanup;

	if ((m = member(root, "", "tasks", 0, err)) != NULL) {
		if (!json_is_array(m)) {
			err_set(err, "", "tasks", "must be an array");
			goto cleanup;
		}
		if (json_array_size(m) > AGENTPROTO_TASKS_MAX) {
			err_set(err, "", "tasks", "at most %d tasks",
			    AGENTPROTO_TASKS_MAX);
			goto cleanup;
		}
		if (!agentproto_task_status_check(m, err))
			goto cleanup;
		h->tasks = json_incref((json_t *)(uintptr_t)m);
	}

	if ((m = member(root, "", "backlog", 0, err)) != NULL) {
		if (!json_is_array(m)) {
			err_set(err, "", "backlog", "must be an array");
			goto cleanup;
		}
		if (json_array_size(m) > AGENTPROTO_BACKLOG_MAX) {
			err_set(err, "", "backlog", "at most %d samples",
			    AGENTPROTO_BACKLOG_MAX);
			goto cleanup;
		}
		for (i = 0; i < json_array_size(m); i++) {
			(void)snprintf(bp, sizeof(bp), "backlog[%zu]", i);
			b = json_array_get(m, i);
			if (!json_is_object(b)) {
				err_set(err, bp, "", "must be an object");
				goto cleanup;
			}
			if (!get_int(b, bp, "time", 1, 0, INT64_MAX,
				&h->backlog[i].time, NULL, err) ||
			    (bm = member(b, bp, "metrics", 1, err)) == NULL)
				goto cleanup;
			(void)snprintf(bp, sizeof(bp), "backlog[%zu].metrics",
			    i);
			if (!metrics_decode(bm, bp, &h->backlog[i].metrics,
				err))
				goto cleanup;
			h->nbacklog++;
		}
	}
	ret = 1;
cleanup:
	json_decref(root);
	if (!ret)
		agentproto_heartbeat_cleanup(h);
	return (ret);
}

int
agentproto_heartbeat_resp_decode(const char *buf, size_t len,
    struct agentproto_heartbeat_resp *r, struct agentproto_err *err)
{
	json_t *root;
	int	ret;

	memset(r, 0, sizeof(*r));
	if ((root = load(buf, len, err)) == NULL)
		return (0);
	ret = check_v(root, err) &&
	    interval_decode(root, &r->heartbeat_interval, &r->poll_timeout,
		err);
	json_decref(root);
	return (ret);
}

int
agentproto_poll_decode(const char *buf, size_t len, struct agentproto_poll *p,
    struct agentproto_err *err)
{
	json_t	     *root;
	const json_t *cmds;
	char	      cp[PATH_MAX_LEN];
	size_t	      i, n;
	int	      ret;

	memset(p, 0, sizeof(*p));
	if ((root = load(buf, len, err)) == NULL)
		return (0);
	ret = 0;
	if (!check_v(root, err))
		goto cleanup;
	if ((cmds = member(root, "", "commands", 1, err)) == NULL)
		goto cleanup;
	if (!json_is_array(cmds)) {
		err_set(err, "", "commands", "must be an array");
		goto cleanup;
	}
	if ((n = json_array_size(cmds)) > AGENTPROTO_COMMANDS_MAX) {
		err_set(err, "", "commands", "at most %d commands",
		    AGENTPROTO_COMMANDS_MAX);
		goto cleanup;
	}
	if (n > 0 && (p->commands = calloc(n, sizeof(*p->commands))) == NULL) {
		err_set(err, "", "commands", "out of memory");
		goto cleanup;
	}
	for (i = 0; i < n; i++) {
		(void)snprintf(cp, sizeof(cp), "commands[%zu]", i);
		/* Count first so that cleanup releases a partial payload. */
		p->ncommands++;
		if (!command_decode(json_array_get(cmds, i), cp,
			&p->commands[i], err))
			goto cleanup;
	}
	if ((cmds = member(root, "", "logs", 0, err)) != NULL) {
		if (!json_is_array(cmds)) {
			err_set(err, "", "logs", "must be an array");
			goto cleanup;
		}
		if ((n = json_array_size(cmds)) > AGENTPROTO_LOGREQS_MAX) {
			err_set(err, "", "logs", "at most %d log requests",
			    AGENTPROTO_LOGREQS_MAX);
			goto cleanup;
		}
		if (n > 0 && (p->logs = calloc(n, sizeof(*p->logs))) == NULL) {
			err_set(err, "", "logs", "out of memory");
			goto cleanup;
		}
		for (i = 0; i < n; i++) {
			(void)snprintf(cp, sizeof(cp), "logs[%zu]", i);
			p->nlogs++;
			if (!logreq_decode(json_array_get(cmds, i), cp,
				&p->logs[i], err))
				goto cleanup;
		}
	}
	ret = 1;
cleanup:
	json_decref(root);
	if (!ret)
		agentproto_poll_cleanup(p);
	return (ret);
}

int
agentproto_result_decode(const char *buf, size_t len,
    struct agentproto_result *r, struct agentproto_err *err)
{
	json_t	     *root;
	const json_t *m;
	char	      state[16];
	size_t	      n;
	int	      ret;

	memset(r, 0, sizeof(*r));
	if ((root = load(buf, len, err)) == NULL)
		return (0);
	ret = 0;
	if (!check_v(root, err) ||
	    !get_str(root, "", "state", 1, 1, sizeof(state) - 1, state,
		sizeof(state), err))
		goto cleanup;
	if (strcmp(state, "running") == 0)
		r->state = AGENTPROTO_STATE_RUNNING;
	else if (strcmp(state, "succeeded") == 0)
		r->state = AGENTPROTO_STATE_SUCCEEDED;
	else if (strcmp(state, "failed") == 0)
		r->state = AGENTPROTO_STATE_FAILED;
	else {
		err_set(err, "", "state",
		    "must be running, succeeded or failed");
		goto cleanup;
	}
	if (!get_int(root, "", "exit_status", 0, INT32_MIN, INT32_MAX,
		&r->exit_status, &r->has_exit_status, err))
		goto cleanup;

	if ((m = member(root, "", "output", 0, err)) != NULL) {
		if (!json_is_string(m)) {
			err_set(err, "", "output", "must be a string");
			goto cleanup;
		}
		if ((n = json_string_length(m)) > AGENTPROTO_OUTPUT_MAX) {
			err_set(err, "", "output", "at most %d bytes",
			    AGENTPROTO_OUTPUT_MAX);
			goto cleanup;
		}
		if ((r->output = malloc(n + 1)) == NULL) {
			err_set(err, "", "output", "out of memory");
			goto cleanup;
		}
		memcpy(r->output, json_string_value(m), n);
		r->output[n] = '\0';
	}
	/* received_at is informational (0: not given); finished_at is
	 * what a final result needs. */
	if (!get_int(root, "", "received_at", 0, 0, INT64_MAX, &r->received_at,
		NULL, err) ||
	    !get_int(root, "", "finished_at", 0, 0, INT64_MAX, &r->finished_at,
		&r->has_finished_at, err))
		goto cleanup;
	if (r->state != AGENTPROTO_STATE_RUNNING && !r->has_finished_at) {
		err_set(err, "", "finished_at", "missing");
		goto cleanup;
	}
	ret = 1;
cleanup:
	json_decref(root);
	if (!ret)
		agentproto_result_cleanup(r);
	return (ret);
}

int
agentproto_logchunk_decode(const char *buf, size_t len,
    struct agentproto_logchunk *c, struct agentproto_err *err)
{
	json_t	     *root;
	const json_t *m, *f;
	char	      cp[32];
	size_t	      i;
	int	      ret, b;

	memset(c, 0, sizeof(*c));
	c->matches = -1;
	if ((root = load(buf, len, err)) == NULL)
		return (0);
	ret = 0;
	if (!check_v(root, err) ||
	    !get_int(root, "", "seq", 1, 0, INT32_MAX, &c->seq, NULL, err) ||
	    !get_int(root, "", "size", 1, 0, INT64_MAX, &c->size, NULL, err) ||
	    !get_int(root, "", "matches", 0, 0, INT64_MAX, &c->matches, NULL,
		err) ||
	    !get_str(root, "", "error", 0, 0, AGENTPROTO_MESSAGE_MAX, c->error,
		sizeof(c->error), err))
		goto cleanup;
	if ((m = member(root, "", "data", 1, err)) == NULL)
		goto cleanup;
	if (!json_is_string(m) ||
	    json_string_length(m) > AGENTPROTO_LOG_DATA_MAX) {
		err_set(err, "", "data", "must be a string of at most %d bytes",
		    AGENTPROTO_LOG_DATA_MAX);
		goto cleanup;
	}
	if (memchr(json_string_value(m), '\0', json_string_length(m)) != NULL) {
		err_set(err, "", "data", "must not contain NUL");
		goto cleanup;
	}
	if ((c->data = strdup(json_string_value(m))) == NULL) {
		err_set(err, "", "data", "out of memory");
		goto cleanup;
	}
	for (i = 0; i < 2; i++) {
		m = member(root, "", i == 0 ? "done" : "truncated", 0, err);
		if (m == NULL)
			continue;
		if (!json_is_boolean(m)) {
			err_set(err, "", i == 0 ? "done" : "truncated",
			    "must be true or false");
			goto cleanup;
		}
		b = json_is_true(m);
		if (i == 0)
			c->done = b;
		else
			c->truncated = b;
	}
	if ((m = member(root, "", "files", 0, err)) != NULL) {
		if (!json_is_array(m) ||
		    json_array_size(m) > AGENTPROTO_LOG_FILES_MAX) {
			err_set(err, "", "files",
			    "must be an array of at most %d names",
			    AGENTPROTO_LOG_FILES_MAX);
			goto cleanup;
		}
		json_array_foreach(m, i, f)
		{
			if (!json_is_string(f) ||
			    json_string_length(f) > AGENTPROTO_LOG_FILE_MAX ||
			    !agentproto_log_file_valid(json_string_value(f))) {
				(void)snprintf(cp, sizeof(cp), "files[%zu]", i);
				err_set(err, "", cp, "must be a log file name");
				goto cleanup;
			}
		}
		c->files = json_incref((json_t *)(uintptr_t)m);
	}
	ret = 1;
cleanup:
	json_decref(root);
	if (!ret)
		agentproto_logchunk_cleanup(c);
	return (ret);
}

int
agentproto_logack_decode(const char *buf, size_t len, int *follow,
    struct agentproto_err *err)
{
	json_t	     *root;
	const json_t *m;
	int	      ret = 0;

	*follow = 0;
	if ((root = load(buf, len, err)) == NULL)
		return (0);
	if (!check_v(root, err) ||
	    (m = member(root, "", "follow", 1, err)) == NULL)
		goto cleanup;
	if (!json_is_boolean(m)) {
		err_set(err, "", "follow", "must be true or false");
		goto cleanup;
	}
	*follow = json_is_true(m);
	ret = 1;
cleanup:
	json_decref(root);
	return (ret);
}

int
agentproto_error_decode(const char *buf, size_t len,
    struct agentproto_error_reply *r, struct agentproto_err *err)
{
	json_t *root;
	int	ret;

	memset(r, 0, sizeof(*r));
	if ((root = load(buf, len, err)) == NULL)
		return (0);
	ret = get_str(root, "", "error", 1, 1, AGENTPROTO_ERROR_MAX, r->error,
		  sizeof(r->error), err) &&
	    get_str(root, "", "message", 0, 0, AGENTPROTO_MESSAGE_MAX,
		r->message, sizeof(r->message), err) &&
	    get_str(root, "", "field", 0, 0, sizeof(r->field) - 1, r->field,
		sizeof(r->field), err);
	json_decref(root);
	if (!ret)
		memset(r, 0, sizeof(*r));
	return (ret);
}

int
agentproto_facts_from_json(const json_t *o, struct agentproto_facts *f,
    struct agentproto_err *err)
{
	memset(f, 0, sizeof(*f));
	if (!facts_decode(o, "facts", f, err)) {
		memset(f, 0, sizeof(*f));
		return (0);
	}
	return (1);
}

void
agentproto_heartbeat_cleanup(struct agentproto_heartbeat *h)
{
	if (h->tasks != NULL)
		json_decref(h->tasks);
	h->tasks = NULL;
}

void
agentproto_poll_cleanup(struct agentproto_poll *p)
{
	size_t i;

	for (i = 0; i < p->ncommands; i++) {
		if (p->commands[i].payload != NULL)
			json_decref(p->commands[i].payload);
	}
	free(p->commands);
	p->commands = NULL;
	p->ncommands = 0;
	free(p->logs);
	p->logs = NULL;
	p->nlogs = 0;
}

void
agentproto_result_cleanup(struct agentproto_result *r)
{
	free(r->output);
	r->output = NULL;
}

void
agentproto_logchunk_cleanup(struct agentproto_logchunk *c)
{
	free(c->data);
	c->data = NULL;
	if (c->files != NULL)
		json_decref(c->files);
	c->files = NULL;
}

/* Set o[key] = v, stealing v; 0 when v is NULL or on failure. */
static int
set(json_t *o, const char *key, json_t *v)
{
	if (v == NULL)
		return (0);
	return (json_object_set_new(o, key, v) == 0);
}

/* Dump and release root; NULL on failure. */
static char *
dump(json_t *root)
{
	char *s;

	if (root == NULL)
		return (NULL);
	s = json_dumps(root, DUMP_FLAGS);
	json_decref(root);
	return (s);
}

json_t *
agentproto_facts_to_json(const struct agentproto_facts *f)
{
	json_t *o, *disks, *d;
	size_t	i;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!set(o, "hostname", json_string(f->hostname)) ||
	    !set(o, "os", json_string(f->os)) ||
	    !set(o, "kernel", json_string(f->kernel)) ||
	    !set(o, "arch", json_string(f->arch)) ||
	    !set(o, "cpus", json_integer(f->cpus)) ||
	    !set(o, "mem_total", json_integer(f->mem_total)) ||
	    !set(o, "boot_id", json_string(f->boot_id)) ||
	    !set(o, "uptime", json_integer(f->uptime)) ||
	    !set(o, "agent_version", json_string(f->agent_version)) ||
	    !set(o, "disks", disks = json_array()))
		goto fail;
	for (i = 0; i < f->ndisks && i < AGENTPROTO_DISKS_MAX; i++) {
		if ((d = json_object()) == NULL)
			goto fail;
		if (json_array_append_new(disks, d) != 0 ||
		    !set(d, "path", json_string(f->disks[i].path)) ||
		    !set(d, "total", json_integer(f->disks[i].total)) ||
		    !set(d, "free", json_integer(f->disks[i].free)))
			goto fail;
	}
	if (f->has_policy && !set(o, "policy", policy_to_json(&f->policy)))
		goto fail;
	return (o);
fail:
	json_decref(o);
	return (NULL);
}

/* facts.policy (see policy_decode()) as a new object. */
static json_t *
policy_to_json(const struct agentproto_policy *p)
{
	json_t *o, *a, *k, *r;
	size_t	i;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!set(o, "roots", a = json_array()))
		goto fail;
	for (i = 0; i < p->nroots && i < AGENTPROTO_POLICY_ROOTS_MAX; i++) {
		if ((r = json_object()) == NULL ||
		    json_array_append_new(a, r) != 0 ||
		    !set(r, "path", json_string(p->roots[i].path)) ||
		    !set(r, "user", json_string(p->roots[i].user)))
			goto fail;
	}
	if (!set(o, "user", json_string(p->user)) ||
	    !set(o, "kinds", k = json_object()))
		goto fail;
	for (i = 0; i < p->nkinds && i < AGENTPROTO_POLICY_KINDS_MAX; i++) {
		if ((r = json_object()) == NULL ||
		    json_object_set_new(k, p->kinds[i].kind, r) != 0 ||
		    !set(r, "user", json_string(p->kinds[i].user)))
			goto fail;
	}
	if (!set(o, "refuse_env", a = json_array()))
		goto fail;
	for (i = 0; i < p->nrefuse_env && i < AGENTPROTO_POLICY_ENV_MAX; i++) {
		if (json_array_append_new(a, json_string(p->refuse_env[i])) !=
		    0)
			goto fail;
	}
	if (!set(o, "limits", r = json_object()) ||
	    !set(r, "tasks", json_integer(p->tasks)) ||
	    !set(r, "log_bytes", json_integer(p->log_bytes)))
		goto fail;
	return (o);
fail:
	json_decref(o);
	return (NULL);
}

static json_t *
metrics_to_json(const struct agentproto_metrics *m)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!set(o, "cpu", json_real(m->cpu)) ||
	    !set(o, "mem_used", json_integer(m->mem_used)) ||
	    !set(o, "mem_total", json_integer(m->mem_total)) ||
	    !set(o, "load1", json_real(m->load1)) ||
	    !set(o, "load5", json_real(m->load5)) ||
	    !set(o, "load15", json_real(m->load15))) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

char *
agentproto_enroll_req_encode(const struct agentproto_enroll_req *r)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!set(o, "v", json_integer(AGENTPROTO_VERSION)) ||
	    !set(o, "token", json_string(r->token)) ||
	    !set(o, "facts", agentproto_facts_to_json(&r->facts))) {
		json_decref(o);
		return (NULL);
	}
	return (dump(o));
}

char *
agentproto_enroll_resp_encode(const struct agentproto_enroll_resp *r)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!set(o, "v", json_integer(AGENTPROTO_VERSION)) ||
	    !set(o, "node_id", json_integer(r->node_id)) ||
	    !set(o, "secret", json_string(r->secret)) ||
	    !set(o, "heartbeat_interval",
		json_integer(r->heartbeat_interval)) ||
	    !set(o, "poll_timeout", json_integer(r->poll_timeout))) {
		json_decref(o);
		return (NULL);
	}
	return (dump(o));
}

char *
agentproto_heartbeat_encode(const struct agentproto_heartbeat *h)
{
	json_t *o, *bl, *s;
	size_t	i;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!set(o, "v", json_integer(AGENTPROTO_VERSION)) ||
	    !set(o, "seq", json_integer(h->seq)) ||
	    !set(o, "time", json_integer(h->time)) ||
	    !set(o, "facts", agentproto_facts_to_json(&h->facts)) ||
	    !set(o, "metrics", metrics_to_json(&h->metrics)) ||
	    !set(o, "tasks",
		h->tasks != NULL ? json_incref(h->tasks) : json_array()) ||
	    !set(o, "backlog", bl = json_array()))
		goto fail;
	for (i = 0; i < h->nbacklog && i < AGENTPROTO_BACKLOG_MAX; i++) {
		if ((s = json_object()) == NULL)
			goto fail;
		if (json_array_append_new(bl, s) != 0 ||
		    !set(s, "time", json_integer(h->backlog[i].time)) ||
		    !set(s, "metrics", metrics_to_json(&h->backlog[i].metrics)))
			goto fail;
	}
	return (dump(o));
fail:
	json_decref(o);
	return (NULL);
}

char *
agentproto_heartbeat_resp_encode(const struct agentproto_heartbeat_resp *r)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!set(o, "v", json_integer(AGENTPROTO_VERSION)) ||
	    !set(o, "heartbeat_interval",
		json_integer(r->heartbeat_interval)) ||
	    !set(o, "poll_timeout", json_integer(r->poll_timeout))) {
		json_decref(o);
		return (NULL);
	}
	return (dump(o));
}

char *
agentproto_poll_encode(const struct agentproto_poll *p)
{
	const struct agentproto_command *c;
	json_t				*o, *cmds, *j;
	size_t				 i;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!set(o, "v", json_integer(AGENTPROTO_VERSION)) ||
	    !set(o, "commands", cmds = json_array()))
		goto fail;
	for (i = 0; i < p->ncommands; i++) {
		c = &p->commands[i];
		if ((j = json_object()) == NULL)
			goto fail;
		if (json_array_append_new(cmds, j) != 0 ||
		    !set(j, "id", json_string(c->id)) ||
		    !set(j, "seq", json_integer(c->seq)) ||
		    !set(j, "type", json_string(c->type)) ||
		    !set(j, "payload",
			c->payload != NULL ? json_incref(c->payload)
					   : json_object()))
			goto fail;
		if (c->issued_at[0] != '\0' &&
		    !set(j, "issued_at", json_string(c->issued_at)))
			goto fail;
	}
	if (p->nlogs > 0 && !set(o, "logs", cmds = json_array()))
		goto fail;
	for (i = 0; i < p->nlogs; i++) {
		j = json_pack("{s:s, s:I, s:s, s:s, s:I, s:s}", "id",
		    p->logs[i].id, "task_id", (json_int_t)p->logs[i].task_id,
		    "mode", agentproto_log_mode_name(p->logs[i].mode), "file",
		    p->logs[i].file, "lines", (json_int_t)p->logs[i].lines, "q",
		    p->logs[i].q);
		if (j == NULL || json_array_append_new(cmds, j) != 0)
			goto fail;
	}
	return (dump(o));
fail:
	json_decref(o);
	return (NULL);
}

char *
agentproto_result_encode(const struct agentproto_result *r)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!set(o, "v", json_integer(AGENTPROTO_VERSION)) ||
	    !set(o, "state", json_string(agentproto_state_name(r->state))) ||
	    !set(o, "output",
		json_string(r->output != NULL ? r->output : "")) ||
	    !set(o, "received_at", json_integer(r->received_at)))
		goto fail;
	if (r->has_exit_status &&
	    !set(o, "exit_status", json_integer(r->exit_status)))
		goto fail;
	if (r->has_finished_at &&
	    !set(o, "finished_at", json_integer(r->finished_at)))
		goto fail;
	return (dump(o));
fail:
	json_decref(o);
	return (NULL);
}

char *
agentproto_logchunk_encode(const struct agentproto_logchunk *c)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!set(o, "v", json_integer(AGENTPROTO_VERSION)) ||
	    !set(o, "seq", json_integer(c->seq)) ||
	    !set(o, "data", json_string(c->data != NULL ? c->data : "")) ||
	    !set(o, "size", json_integer(c->size)) ||
	    !set(o, "done", json_boolean(c->done)))
		goto fail;
	if (c->truncated && !set(o, "truncated", json_true()))
		goto fail;
	if (c->matches >= 0 && !set(o, "matches", json_integer(c->matches)))
		goto fail;
	if (c->error[0] != '\0' && !set(o, "error", json_string(c->error)))
		goto fail;
	if (c->files != NULL && !set(o, "files", json_incref(c->files)))
		goto fail;
	return (dump(o));
fail:
	json_decref(o);
	return (NULL);
}

char *
agentproto_error_encode(const char *code, const char *message,
    const char *field)
{
	json_t *o;

	if (code == NULL || (o = json_object()) == NULL)
		return (NULL);
	if (!set(o, "error", json_string(code)) ||
	    (message != NULL && !set(o, "message", json_string(message))) ||
	    (field != NULL && !set(o, "field", json_string(field)))) {
		json_decref(o);
		return (NULL);
	}
	return (dump(o));
}

int
agentproto_secret_valid(const char *s)
{
	size_t i;

	for (i = 0; i < AGENTPROTO_SECRET_LEN; i++) {
		if (s[i] == '\0' || strchr(b64url, s[i]) == NULL)
			return (0);
	}
	return (s[i] == '\0');
}

/* 8-4-4-4-12 hexadecimal digits, either case. */
int
agentproto_uuid_valid(const char *s)
{
	size_t i;

	for (i = 0; i < AGENTPROTO_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return (0);
		} else if (!isxdigit((unsigned char)s[i])) {
			return (0);
		}
	}
	return (s[i] == '\0');
}

int
agentproto_log_file_valid(const char *s)
{
	const char *p, *e;
	size_t	    n;

	if (s == NULL || (n = strlen(s)) == 0 || n > AGENTPROTO_LOG_FILE_MAX)
		return (0);
	if (strcmp(s, "stdout") == 0)
		return (1);
	if (s[0] == '/')
		return (0);
	for (p = s; *p != '\0'; p = *e == '/' ? e + 1 : e) {
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return (0);
		if (*e == '/' && e[1] == '\0')
			return (0); /* a trailing slash: a directory */
	}
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return (0);
	}
	return (1);
}

const char *
agentproto_log_mode_name(enum agentproto_log_mode m)
{
	switch (m) {
	case AGENTPROTO_LOG_TAIL:
		return ("tail");
	case AGENTPROTO_LOG_FOLLOW:
		return ("follow");
	case AGENTPROTO_LOG_DOWNLOAD:
		return ("download");
	}
	return ("tail");
}

int
agentproto_auth_parse(const char *hdr, int64_t *id, char *secret,
    struct agentproto_err *err)
{
	const char *p;
	int64_t	    v;
	size_t	    n, slen;

	*id = 0;
	secret[0] = '\0';
	if (hdr == NULL) {
		err_set(err, "", "authorization", "missing");
		return (0);
	}
	slen = strlen(AGENTPROTO_AUTH_SCHEME);
	/* Auth schemes are case-insensitive (RFC 9110 11.1). */
	if (strnlen(hdr, AGENTPROTO_AUTH_MAX + 1) > AGENTPROTO_AUTH_MAX ||
	    strncasecmp(hdr, AGENTPROTO_AUTH_SCHEME, slen) != 0 ||
	    hdr[slen] != ' ') {
		err_set(err, "", "authorization",
		    "expected YardNode <id>:<secret>");
		return (0);
	}
	p = hdr + slen + 1;
	v = 0;
	for (n = 0; p[n] >= '0' && p[n] <= '9'; n++) {
		/* 2^53 has 16 digits; stop before int64_t could overflow. */
		if (n >= 16 ||
		    (n == 0 && p[n] == '0' && p[1] >= '0' && p[1] <= '9'))
			break;
		v = v * 10 + (p[n] - '0');
	}
	if (n == 0 || p[n] != ':' || v < 1 || v > AGENTPROTO_NODE_ID_MAX) {
		err_set(err, "", "authorization", "bad node id");
		return (0);
	}
	p += n + 1;
	if (!agentproto_secret_valid(p)) {
		err_set(err, "", "authorization", "bad secret");
		return (0);
	}
	memcpy(secret, p, AGENTPROTO_SECRET_LEN + 1);
	*id = v;
	return (1);
}

int
agentproto_auth_format(char *buf, size_t len, int64_t id, const char *secret)
{
	int n;

	if (id < 1 || id > AGENTPROTO_NODE_ID_MAX ||
	    !agentproto_secret_valid(secret))
		return (0);
	n = snprintf(buf, len, "%s %" PRId64 ":%s", AGENTPROTO_AUTH_SCHEME, id,
	    secret);
	return (n > 0 && (size_t)n < len);
}

const char *
agentproto_state_name(enum agentproto_state s)
{
	switch (s) {
	case AGENTPROTO_STATE_RUNNING:
		return ("running");
	case AGENTPROTO_STATE_SUCCEEDED:
		return ("succeeded");
	case AGENTPROTO_STATE_FAILED:
		return ("failed");
	}
	return ("failed");
}

const char *
agentproto_cmd_type_name(enum agentproto_cmd_type t)
{
	switch (t) {
	case AGENTPROTO_CMD_PING:
		return ("ping");
	case AGENTPROTO_CMD_START:
		return ("start");
	case AGENTPROTO_CMD_STOP:
		return ("stop");
	case AGENTPROTO_CMD_RESTART:
		return ("restart");
	case AGENTPROTO_CMD_UNINSTALL:
		return ("uninstall");
	default:
		return ("unknown");
	}
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t	 len, i;

	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return (0);
	if (n < len)
		return (0);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (len);
}

size_t
agentproto_utf8_clean(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	const unsigned char *s;
	size_t		     i, o, n;

	if (dstlen == 0)
		return (0);
	s = (const unsigned char *)src;
	for (i = 0, o = 0; i < srclen;) {
		n = utf8_seq(s + i, srclen - i);
		if (n == 0 ||
		    (n == 1 &&
			((s[i] < 0x20 && s[i] != '\t' && s[i] != '\n') ||
			    s[i] == 0x7f))) {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = '?';
			i += n == 0 ? 1 : n;
			continue;
		}
		if (o + n >= dstlen)
			break;
		memcpy(dst + o, s + i, n);
		o += n;
		i += n;
	}
	dst[o] = '\0';
	return (o);
}

/*
 * Task specs (docs/api.md, "Tasks").  One normaliser for both sides: the
 * server validates what users send and stores the normalised copy, the
 * agent validates what a start command carries before acting on it.
 */

#define TS_PATH_MAX    1024
#define TS_ARG_MAX     4096
#define TS_ARGS_MAX    128
#define TS_ENV_MAX     128
#define TS_ENV_KEY_MAX 128
#define TS_LOGS_MAX    32

static int ts_str(const json_t *, json_t *, const char *, const char *, int,
    int, const char *, struct agentproto_err *);
static int ts_int(const json_t *, json_t *, const char *, const char *, int,
    int64_t, int64_t, int64_t, struct agentproto_err *);
static int ts_list(const json_t *, json_t *, const char *, const char *, size_t,
    int, struct agentproto_err *);
static int ts_env(const json_t *, json_t *, const char *,
    struct agentproto_err *);
static const json_t *ts_obj(const json_t *, const char *, const char *, int,
    struct agentproto_err *);
static int	     ts_path_ok(const char *, size_t, int);

/* How a string is checked. */
#define TS_ANY	0 /* any text without NUL */
#define TS_ABS	1 /* an absolute path without ".." components */
#define TS_PATH 2 /* a path, absolute or relative, without ".." */
#define TS_URL	3 /* an HTTP path: starts with '/', printable ASCII */

static int
ts_path_ok(const char *s, size_t n, int how)
{
	size_t i, seg;

	if (how == TS_ANY)
		return (1);
	if (how == TS_URL) {
		if (n == 0 || s[0] != '/')
			return (0);
		for (i = 0; i < n; i++) {
			if (s[i] <= ' ' || s[i] == 0x7f)
				return (0);
		}
		return (1);
	}
	if (n == 0 || (how == TS_ABS && s[0] != '/'))
		return (0);
	/* No ".." component anywhere: paths stay where they are put. */
	for (i = 0, seg = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (i - seg == 2 && s[seg] == '.' && s[seg + 1] == '.')
				return (0);
			seg = i + 1;
		} else if ((unsigned char)s[i] < ' ')
			return (0);
	}
	return (1);
}

static const json_t *
ts_obj(const json_t *o, const char *pfx, const char *name, int required,
    struct agentproto_err *err)
{
	const json_t *m;

	if ((m = member(o, pfx, name, required, err)) == NULL)
		return (NULL);
	if (!json_is_object(m)) {
		err_set(err, pfx, name, "must be an object");
		return (NULL);
	}
	return (m);
}

/* Copy string member name (or def when absent and def != NULL) to out. */
static int
ts_str(const json_t *in, json_t *out, const char *pfx, const char *name,
    int required, int how, const char *def, struct agentproto_err *err)
{
	const json_t *m;
	const char   *s;
	size_t	      n, max;

	max = how == TS_ANY ? TS_ARG_MAX : TS_PATH_MAX;
	if ((m = member(in, pfx, name, required, err)) == NULL) {
		if (required)
			return (0);
		return (def == NULL || set(out, name, json_string(def)));
	}
	if (!json_is_string(m)) {
		err_set(err, pfx, name, "must be a string");
		return (0);
	}
	s = json_string_value(m);
	n = json_string_length(m);
	if (n > max || strlen(s) != n) {
		err_set(err, pfx, name,
		    "must be at most %zu bytes, without NUL", max);
		return (0);
	}
	if (!ts_path_ok(s, n, how)) {
		err_set(err, pfx, name, "%s",
		    how == TS_ABS ? "must be an absolute path without '..'"
			: how == TS_URL ? "must be a path starting with '/', "
					  "without spaces"
					: "must be a path without '..'");
		return (0);
	}
	return (set(out, name, json_stringn(s, n)));
}

static int
ts_int(const json_t *in, json_t *out, const char *pfx, const char *name,
    int required, int64_t min, int64_t max, int64_t def,
    struct agentproto_err *err)
{
	int64_t v;
	int	present;

	if (!get_int(in, pfx, name, required, min, max, &v, &present, err))
		return (0);
	if (!present) {
		if (def < min)
			return (1); /* no default: stays absent */
		v = def;
	}
	return (set(out, name, json_integer((json_int_t)v)));
}

/* An array of at most max strings, each checked as how. */
static int
ts_list(const json_t *in, json_t *out, const char *pfx, const char *name,
    size_t max, int how, struct agentproto_err *err)
{
	const json_t *m, *v;
	json_t	     *a;
	char	      iname[64];
	size_t	      i, n;

	if ((a = json_array()) == NULL || !set(out, name, a))
		return (0);
	if ((m = member(in, pfx, name, 0, err)) == NULL)
		return (1);
	if (!json_is_array(m) || json_array_size(m) > max) {
		err_set(err, pfx, name,
		    "must be an array of at most %zu strings", max);
		return (0);
	}
	json_array_foreach(m, i, v)
	{
		n = json_string_length(v);
		if (!json_is_string(v) || n > TS_ARG_MAX ||
		    strlen(json_string_value(v)) != n ||
		    !ts_path_ok(json_string_value(v), n, how)) {
			(void)snprintf(iname, sizeof(iname), "%.30s[%zu]", name,
			    i);
			err_set(err, pfx, iname, "%s",
			    how == TS_PATH ? "must be a path without '..'"
					   : "must be a string of at most "
					     "4096 bytes, without NUL");
			return (0);
		}
		if (json_array_append(a, (json_t *)(uintptr_t)v) != 0)
			return (0);
	}
	return (1);
}

/* Environment: {"NAME": "value"}, names [A-Za-z_][A-Za-z0-9_]*. */
static int
ts_env(const json_t *in, json_t *out, const char *pfx,
    struct agentproto_err *err)
{
	const json_t *m, *v;
	const char   *k;
	json_t	     *e;
	char	      epfx[PATH_MAX_LEN];
	size_t	      i, n;

	if ((e = json_object()) == NULL || !set(out, "env", e))
		return (0);
	if ((m = member(in, pfx, "env", 0, err)) == NULL)
		return (1);
	if (!json_is_object(m) || json_object_size(m) > TS_ENV_MAX) {
		err_set(err, pfx, "env",
		    "must be an object of at most %d names", TS_ENV_MAX);
		return (0);
	}
	path_join(epfx, sizeof(epfx), pfx, "env");
	json_object_foreach((json_t *)(uintptr_t)m, k, v)
	{
		n = strlen(k);
		for (i = 0; i < n; i++) {
			if (!(k[i] == '_' || (k[i] >= 'A' && k[i] <= 'Z') ||
				(k[i] >= 'a' && k[i] <= 'z') ||
				(i > 0 && k[i] >= '0' && k[i] <= '9')))
				break;
		}
		if (n == 0 || n > TS_ENV_KEY_MAX || i != n) {
			err_set(err, epfx, "",
			    "names must match [A-Za-z_][A-Za-z0-9_]* "
			    "(at most %d bytes)",
			    TS_ENV_KEY_MAX);
			return (0);
		}
		if (!json_is_string(v) || json_string_length(v) > TS_ARG_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			err_set(err, epfx, k,
			    "must be a string of at most %d bytes, without NUL",
			    TS_ARG_MAX);
			return (0);
		}
		if (json_object_set(e, k, (json_t *)(uintptr_t)v) != 0)
			return (0);
	}
	return (1);
}

json_t *
agentproto_task_spec(const json_t *in, struct agentproto_err *err)
{
	static const char *kinds[] = { "console", "tomcat", "jar" };
	const json_t	  *k, *o;
	json_t		  *out, *sub;
	const char	  *kind;
	size_t		   i;
	int		   ok;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (in == NULL || !json_is_object(in)) {
		err_set(err, "", "", "the spec must be an object");
		return (NULL);
	}
	if ((k = member(in, "", "kind", 1, err)) == NULL)
		return (NULL);
	kind = json_is_string(k) ? json_string_value(k) : "";
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kind, kinds[i]) == 0)
			break;
	}
	if (i == sizeof(kinds) / sizeof(kinds[0])) {
		err_set(err, "", "kind", "must be console, tomcat or jar");
		return (NULL);
	}
	/* The other kinds' settings are refused, not silently dropped. */
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kind, kinds[i]) != 0 &&
		    member(in, "", kinds[i], 0, NULL) != NULL) {
			err_set(err, "", kinds[i], "not allowed for a %s task",
			    kind);
			return (NULL);
		}
	}
	if ((out = json_object()) == NULL)
		return (NULL);
	ok = set(out, "kind", json_string(kind)) &&
	    ts_str(in, out, "", "deploy_dir", 1, TS_ABS, NULL, err) &&
	    ts_env(in, out, "", err) &&
	    ts_int(in, out, "", "stop_grace", 0, 0, 3600, 10, err) &&
	    ts_list(in, out, "", "log_files", TS_LOGS_MAX, TS_PATH, err);
	if (!ok)
		goto fail;

	/* The kind's own settings. */
	if ((o = ts_obj(in, "", kind, 1, err)) == NULL ||
	    (sub = json_object()) == NULL || !set(out, kind, sub))
		goto fail;
	if (strcmp(kind, "console") == 0) {
		ok = ts_str(o, sub, "console", "command", 1, TS_PATH, NULL,
			 err) &&
		    ts_list(o, sub, "console", "args", TS_ARGS_MAX, TS_ANY,
			err) &&
		    ts_str(o, sub, "console", "cwd", 0, TS_PATH, NULL, err);
	} else if (strcmp(kind, "tomcat") == 0) {
		ok = ts_str(o, sub, "tomcat", "home", 1, TS_ABS, NULL, err) &&
		    ts_str(o, sub, "tomcat", "base", 0, TS_ABS, NULL, err) &&
		    ts_int(o, sub, "tomcat", "port", 1, 1, 65535, 0, err) &&
		    ts_str(o, sub, "tomcat", "app_path", 0, TS_URL, "/", err) &&
		    ts_str(o, sub, "tomcat", "start_script", 0, TS_PATH, NULL,
			err) &&
		    ts_str(o, sub, "tomcat", "stop_script", 0, TS_PATH, NULL,
			err);
	} else {
		ok = ts_str(o, sub, "jar", "java", 0, TS_ABS, "/usr/bin/java",
			 err) &&
		    ts_list(o, sub, "jar", "jvm_options", TS_ARGS_MAX, TS_ANY,
			err) &&
		    ts_str(o, sub, "jar", "jar", 1, TS_PATH, NULL, err) &&
		    ts_list(o, sub, "jar", "args", TS_ARGS_MAX, TS_ANY, err) &&
		    ts_int(o, sub, "jar", "port", 0, 1, 65535, 0, err);
	}
	if (!ok)
		goto fail;

	/* Restart policy: never, on-failure (default) or always. */
	o = ts_obj(in, "", "restart", 0, err);
	if (o == NULL && member(in, "", "restart", 0, NULL) != NULL)
		goto fail;
	if ((sub = json_object()) == NULL || !set(out, "restart", sub))
		goto fail;
	k = o != NULL ? member(o, "restart", "policy", 0, NULL) : NULL;
	kind = k == NULL	? "on-failure"
	    : json_is_string(k) ? json_string_value(k)
				: "";
	if (strcmp(kind, "never") != 0 && strcmp(kind, "on-failure") != 0 &&
	    strcmp(kind, "always") != 0) {
		err_set(err, "restart", "policy",
		    "must be never, on-failure or always");
		goto fail;
	}
	if (!set(sub, "policy", json_string(kind)))
		goto fail;
	if (o == NULL)
		o = sub; /* defaults only */
	if (!ts_int(o, sub, "restart", "backoff_initial", 0, 1, 3600, 1, err) ||
	    !ts_int(o, sub, "restart", "backoff_max", 0, 1, 86400, 60, err) ||
	    !ts_int(o, sub, "restart", "crash_loop", 0, 1, 100, 5, err))
		goto fail;
	if (json_integer_value(json_object_get(sub, "backoff_max")) <
	    json_integer_value(json_object_get(sub, "backoff_initial"))) {
		err_set(err, "restart", "backoff_max",
		    "must not be less than backoff_initial");
		goto fail;
	}

	/* Health check (optional): an HTTP GET on loopback. */
	if ((o = member(in, "", "health", 0, NULL)) != NULL &&
	    !json_is_null(o)) {
		if ((o = ts_obj(in, "", "health", 0, err)) == NULL ||
		    (sub = json_object()) == NULL || !set(out, "health", sub))
			goto fail;
		if (!ts_str(o, sub, "health", "path", 1, TS_URL, NULL, err) ||
		    !ts_int(o, sub, "health", "port", 0, 1, 65535, 0, err) ||
		    !ts_int(o, sub, "health", "interval", 0, 1, 3600, 10,
			err) ||
		    !ts_int(o, sub, "health", "timeout", 0, 1, 60, 3, err) ||
		    !ts_int(o, sub, "health", "start_timeout", 0, 1, 3600, 120,
			err) ||
		    !ts_int(o, sub, "health", "expect_status", 0, 100, 599, 200,
			err))
			goto fail;
		if (json_object_get(sub, "port") == NULL &&
		    json_object_get(json_object_get(out, "tomcat"), "port") ==
			NULL &&
		    json_object_get(json_object_get(out, "jar"), "port") ==
			NULL) {
			err_set(err, "health", "port",
			    "missing (the task has no port of its own)");
			goto fail;
		}
	}
	return (out);
fail:
	if (err != NULL && err->msg[0] == '\0')
		err_set(err, "", "", "out of memory");
	json_decref(out);
	return (NULL);
}

int
agentproto_task_status_check(const json_t *a, struct agentproto_err *err)
{
	static const char *states[] = { "starting", "running", "unhealthy",
		"stopping", "stopped", "exited", "failed", "crash_loop" };
	const json_t	  *hl;
	const json_t	  *o, *st;
	char		   pfx[32];
	int64_t		   v;
	double		   d;
	size_t		   i, k;

	if (!json_is_array(a) || json_array_size(a) > AGENTPROTO_TASKS_MAX) {
		err_set(err, "", "tasks", "must be an array of at most %d",
		    AGENTPROTO_TASKS_MAX);
		return (0);
	}
	json_array_foreach(a, i, o)
	{
		(void)snprintf(pfx, sizeof(pfx), "tasks[%zu]", i);
		if (!json_is_object(o)) {
			err_set(err, pfx, "", "must be an object");
			return (0);
		}
		if (!get_int(o, pfx, "id", 1, 1, AGENTPROTO_NODE_ID_MAX, &v,
			NULL, err) ||
		    !get_int(o, pfx, "pid", 0, 0, INT32_MAX, &v, NULL, err) ||
		    !get_int(o, pfx, "started_at", 0, 0, INT64_MAX, &v, NULL,
			err) ||
		    !get_int(o, pfx, "exit_status", 0, -1, 255 + 128, &v, NULL,
			err) ||
		    !get_int(o, pfx, "restarts", 0, 0, INT32_MAX, &v, NULL,
			err) ||
		    !get_int(o, pfx, "rss", 0, 0, INT64_MAX, &v, NULL, err) ||
		    !get_int(o, pfx, "threads", 0, 0, INT32_MAX, &v, NULL,
			err) ||
		    !get_int(o, pfx, "fds", 0, 0, INT32_MAX, &v, NULL, err) ||
		    !get_int(o, pfx, "procs", 0, 0, INT32_MAX, &v, NULL, err))
			return (0);
		hl = member(o, pfx, "last_lines", 0, NULL);
		if (hl != NULL &&
		    (!json_is_string(hl) || json_string_length(hl) > 8192)) {
			err_set(err, pfx, "last_lines",
			    "must be a string of at most 8192 bytes");
			return (0);
		}
		if (member(o, pfx, "cpu", 0, NULL) != NULL &&
		    !get_num(o, pfx, "cpu", 0, 100000, &d, err))
			return (0);
		st = member(o, pfx, "state", 1, err);
		for (k = 0; st != NULL && json_is_string(st) &&
		     k < sizeof(states) / sizeof(states[0]);
		     k++) {
			if (strcmp(json_string_value(st), states[k]) == 0)
				break;
		}
		if (st == NULL || !json_is_string(st) ||
		    k == sizeof(states) / sizeof(states[0])) {
			err_set(err, pfx, "state",
			    "must be starting, running, unhealthy, stopping, "
			    "stopped, failed or crash_loop");
			return (0);
		}
		hl = member(o, pfx, "health", 0, NULL);
		if (hl != NULL &&
		    (!json_is_string(hl) ||
			(strcmp(json_string_value(hl), "ok") != 0 &&
			    strcmp(json_string_value(hl), "failing") != 0))) {
			err_set(err, pfx, "health", "must be ok or failing");
			return (0);
		}
	}
	return (1);
}
