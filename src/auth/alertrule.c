/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Alert rule bodies (docs/api.md, "Alerts"), Kore-free so that unit tests
 * and the fuzzer link them: every member checked against its kind, the
 * defaults filled in, an unknown member refused.  The table's own checks
 * (015_alerts.sql) stay as the last line; nothing reaches them that this
 * file would refuse.
 */

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "auth/auth.h"

#define ALERT_FOR_MAX	  604800 /* a week */
#define ALERT_WINDOW_MIN  60
#define ALERT_EMAIL_MAX	  254
#define ALERT_EMAIL_LOCAL 64

/* What a kind compares and within which range. */
struct alert_kind {
	const char *name;
	int	    node; /* a node kind: no task_ids */
	int	    below; /* fires below the threshold */
	double	    tmin, tmax; /* threshold */
	double	    rmin, rmax; /* recovery */
	const char *unit;
};

/* clang-format off */
static const struct alert_kind kinds[] = {
	{ "task_cpu",	     0, 0, 0, 25600,   0, 25600,   "% of one core" },
	{ "task_memory",     0, 0, 1, 1048576, 0, 1048576, "MiB" },
	{ "task_exit",	     0, 0, 1, 1,       0, 1,	   "state (1)" },
	{ "task_crash_loop", 0, 0, 1, 1,       0, 1,	   "state (1)" },
	{ "task_restarts",   0, 0, 1, 1000,    0, 1000,	   "restarts" },
	{ "health_failing",  0, 0, 1, 1000,    0, 1000,	   "failed checks" },
	{ "node_offline",    1, 0, 1, 1,       0, 1,	   "state (1)" },
	{ "node_disk",	     1, 1, 0, 100,     0, 100,	   "% free" },
	{ "node_memory",     1, 1, 1, 1048576, 1, 1048576, "MiB available" },
};
/* clang-format on */

static const char *const members[] = { "name", "kind", "threshold", "recovery",
	"for_seconds", "window_seconds", "no_data", "scope", "channels",
	"extra_emails", "enabled", "days", NULL };

static int rule_add(struct auth_alertrule_err *, const char *,
    enum agentproto_code, unsigned, int64_t, int64_t, const char *,
    const char *, const char *, ...) __attribute__((format(printf, 9, 10)));
#define rule_bad(err, field, ...) \
	rule_add((err), (field), AGENTPROTO_C_INVALID, 0, 0, 0, NULL, NULL, \
	    __VA_ARGS__)
static const struct alert_kind *kind_find(const char *);
static int			name_ok(const char *);
static enum agentproto_code	name_code(const char *);
static int number_get(json_t *, const char *, double, double, double *,
    struct auth_alertrule_err *);
static int int_get(json_t *, const char *, int64_t, int64_t, int64_t, int64_t *,
    struct auth_alertrule_err *);
static json_t *scope_ids(json_t *, const char *, const char *,
    struct auth_alertrule_err *);
static json_t *channels_get(json_t *, struct auth_alertrule_err *);
static json_t *emails_get(json_t *, struct auth_alertrule_err *);

/*
 * One refusal: the first fills field and msg, each is added to err->all
 * with its code (field "" for the rule itself).  Returns 0.
 */
static int
rule_add(struct auth_alertrule_err *err, const char *field,
    enum agentproto_code code, unsigned flags, int64_t min, int64_t max,
    const char *an, const char *av, const char *fmt, ...)
{
	va_list ap;
	char	msg[256];

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err->msg[0] == '\0') {
		(void)snprintf(err->field, sizeof(err->field), "%s", field);
		memcpy(err->msg, msg, sizeof(err->msg));
	}
	agentproto_err_add(&err->all, "", field, code, flags, min, max, an, av,
	    "%s", msg);
	return (0);
}

static const struct alert_kind *
kind_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kinds[i].name, name) == 0)
			return (&kinds[i]);
	}
	return (NULL);
}

int
auth_alert_kind_ok(const char *kind, int *node)
{
	const struct alert_kind *k;

	if ((k = kind_find(kind)) == NULL)
		return (0);
	if (node != NULL)
		*node = k->node;
	return (1);
}

/* 1..100 characters (UTF-8 code points; jansson checked the encoding),
 * no control characters, not blank. */
static int
name_ok(const char *s)
{
	const unsigned char *p;
	size_t		     chars = 0;
	int		     blank = 1;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return (0);
		if ((*p & 0xc0) != 0x80)
			chars++;
		if (*p != ' ')
			blank = 0;
	}
	return (chars >= 1 && chars <= AUTH_ALERT_NAME_MAX && !blank);
}

/* Why name_ok() refused s: control characters, too long, or blank. */
static enum agentproto_code
name_code(const char *s)
{
	const unsigned char *p;
	size_t		     chars = 0;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return (AGENTPROTO_C_FORMAT);
		if ((*p & 0xc0) != 0x80)
			chars++;
	}
	return (chars > AUTH_ALERT_NAME_MAX ? AGENTPROTO_C_TOO_LONG
					    : AGENTPROTO_C_REQUIRED);
}

int
auth_alert_email_ok(const char *s)
{
	const char *at, *p, *label;
	size_t	    len;

	len = strlen(s);
	if (len < 3 || len > ALERT_EMAIL_MAX)
		return (0);
	if ((at = strchr(s, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return (0);
	if (at == s || (size_t)(at - s) > ALERT_EMAIL_LOCAL)
		return (0);
	/* The local part: dot-atom text, no leading, trailing or double dot. */
	if (s[0] == '.' || at[-1] == '.')
		return (0);
	for (p = s; p < at; p++) {
		if (*p == '.' && p[1] == '.')
			return (0);
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.')
			continue;
		if (strchr("!#$%&'*+/=?^_`{|}~-", *p) == NULL)
			return (0);
	}
	/* The domain: two labels or more of letters, digits and hyphens. */
	if (strchr(at + 1, '.') == NULL)
		return (0);
	label = at + 1;
	for (p = at + 1;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || p - label > 63 || *label == '-' ||
			    p[-1] == '-')
				return (0);
			if (*p == '\0')
				break;
			label = p + 1;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '-'))
			return (0);
	}
	return (1);
}

/* A finite number in [min, max]. */
static int
number_get(json_t *body, const char *key, double min, double max, double *out,
    struct auth_alertrule_err *err)
{
	json_t *v;

	if ((v = json_object_get(body, key)) == NULL)
		return (rule_add(err, key, AGENTPROTO_C_REQUIRED, 0, 0, 0, NULL,
		    NULL, "%s is required", key));
	if (!json_is_number(v))
		return (rule_add(err, key, AGENTPROTO_C_TYPE, 0, 0, 0,
		    "expected", "number", "%s must be a number", key));
	*out = json_number_value(v);
	if (!isfinite(*out))
		return (rule_add(err, key, AGENTPROTO_C_TYPE, 0, 0, 0,
		    "expected", "number", "%s must be finite", key));
	/* The kinds' ranges are whole numbers. */
	if (*out < min || *out > max)
		return (rule_add(err, key, AGENTPROTO_C_RANGE,
		    AGENTPROTO_F_MIN | AGENTPROTO_F_MAX, (int64_t)min,
		    (int64_t)max, NULL, NULL, "%s must be between %g and %g",
		    key, min, max));
	return (1);
}

/* An optional integer in [min, max], def when absent. */
static int
int_get(json_t *body, const char *key, int64_t min, int64_t max, int64_t def,
    int64_t *out, struct auth_alertrule_err *err)
{
	json_t *v;

	if ((v = json_object_get(body, key)) == NULL) {
		*out = def;
		return (1);
	}
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return (rule_add(err, key,
		    json_is_integer(v) ? AGENTPROTO_C_RANGE : AGENTPROTO_C_TYPE,
		    json_is_integer(v) ? AGENTPROTO_F_MIN | AGENTPROTO_F_MAX
				       : 0,
		    min, max, json_is_integer(v) ? NULL : "expected", "integer",
		    "%s must be an integer between %lld and %lld", key,
		    (long long)min, (long long)max));
	*out = json_integer_value(v);
	return (1);
}

/* scope.<key>: up to 1000 distinct positive ids (new reference). */
static json_t *
scope_ids(json_t *scope, const char *key, const char *field,
    struct auth_alertrule_err *err)
{
	json_t *v, *e, *out;
	size_t	i, j;

	if ((v = json_object_get(scope, key)) == NULL)
		return (json_array());
	if (!json_is_array(v)) {
		(void)rule_add(err, field, AGENTPROTO_C_TYPE, 0, 0, 0,
		    "expected", "array", "%s must be an array of ids", field);
		return (NULL);
	}
	if (json_array_size(v) > AUTH_ALERT_IDS_MAX) {
		(void)rule_add(err, field, AGENTPROTO_C_TOO_MANY,
		    AGENTPROTO_F_MAX, 0, AUTH_ALERT_IDS_MAX, NULL, NULL,
		    "%s holds at most %d ids", field, AUTH_ALERT_IDS_MAX);
		return (NULL);
	}
	json_array_foreach(v, i, e)
	{
		if (!json_is_integer(e) || json_integer_value(e) < 1 ||
		    json_integer_value(e) > INT64_MAX / 2) {
			(void)rule_add(err, field, AGENTPROTO_C_TYPE, 0, 0, 0,
			    "expected", "id",
			    "%s[%zu] must be a positive integer id", field, i);
			return (NULL);
		}
		for (j = 0; j < i; j++) {
			if (json_integer_value(json_array_get(v, j)) ==
			    json_integer_value(e)) {
				(void)rule_add(err, field,
				    AGENTPROTO_C_DUPLICATE, 0, 0, 0, NULL, NULL,
				    "%s names id %lld twice", field,
				    (long long)json_integer_value(e));
				return (NULL);
			}
		}
	}
	if ((out = json_deep_copy(v)) == NULL)
		(void)rule_bad(err, field, "out of memory");
	return (out);
}

static json_t *
channels_get(json_t *body, struct auth_alertrule_err *err)
{
	static const char *const names[] = { "inbox", "email", "callback" };
	json_t			*v, *e;
	size_t			 i, j, k;
	int			 seen[3] = { 0, 0, 0 };

	if ((v = json_object_get(body, "channels")) == NULL)
		return (json_pack("[ss]", "inbox", "email"));
	if (!json_is_array(v) || json_array_size(v) == 0) {
		(void)rule_add(err, "channels",
		    json_is_array(v) ? AGENTPROTO_C_REQUIRED
				     : AGENTPROTO_C_TYPE,
		    0, 0, 0, json_is_array(v) ? NULL : "expected", "array",
		    "channels must be a non-empty array of inbox, email and"
		    " callback");
		return (NULL);
	}
	json_array_foreach(v, i, e)
	{
		for (k = 0; k < 3; k++) {
			if (json_is_string(e) &&
			    strcmp(json_string_value(e), names[k]) == 0)
				break;
		}
		if (k == 3) {
			(void)rule_add(err, "channels", AGENTPROTO_C_ENUM, 0, 0,
			    0, "allowed", "inbox,email,callback",
			    "channels[%zu] must be inbox, email or callback",
			    i);
			return (NULL);
		}
		if (seen[k]++) {
			(void)rule_add(err, "channels", AGENTPROTO_C_DUPLICATE,
			    0, 0, 0, NULL, NULL, "channels names %s twice",
			    names[k]);
			return (NULL);
		}
	}
	/* Stored in one order, whatever the body's. */
	if ((e = json_array()) == NULL) {
		(void)rule_bad(err, "channels", "out of memory");
		return (NULL);
	}
	for (j = 0; j < 3; j++) {
		if (seen[j])
			(void)json_array_append_new(e, json_string(names[j]));
	}
	return (e);
}

static json_t *
emails_get(json_t *body, struct auth_alertrule_err *err)
{
	json_t *v, *e, *o;
	size_t	i, j;

	if ((v = json_object_get(body, "extra_emails")) == NULL)
		return (json_array());
	if (!json_is_array(v)) {
		(void)rule_add(err, "extra_emails", AGENTPROTO_C_TYPE, 0, 0, 0,
		    "expected", "array",
		    "extra_emails must be an array of addresses");
		return (NULL);
	}
	if (json_array_size(v) > AUTH_ALERT_EMAILS_MAX) {
		(void)rule_add(err, "extra_emails", AGENTPROTO_C_TOO_MANY,
		    AGENTPROTO_F_MAX, 0, AUTH_ALERT_EMAILS_MAX, NULL, NULL,
		    "extra_emails holds at most %d addresses",
		    AUTH_ALERT_EMAILS_MAX);
		return (NULL);
	}
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e) ||
		    !auth_alert_email_ok(json_string_value(e))) {
			(void)rule_add(err, "extra_emails", AGENTPROTO_C_FORMAT,
			    0, 0, 0, "expected", "email",
			    "extra_emails[%zu] is not an e-mail address", i);
			return (NULL);
		}
		for (j = 0; j < i; j++) {
			o = json_array_get(v, j);
			if (strcasecmp(json_string_value(o),
				json_string_value(e)) == 0) {
				(void)rule_add(err, "extra_emails",
				    AGENTPROTO_C_DUPLICATE, 0, 0, 0, NULL, NULL,
				    "extra_emails[%zu] repeats [%zu]", i, j);
				return (NULL);
			}
		}
	}
	if ((o = json_deep_copy(v)) == NULL)
		(void)rule_bad(err, "extra_emails", "out of memory");
	return (o);
}

/*
 * Every member is checked and each refusal recorded (err->all); the first
 * also fills err->field and err->msg.  Checks that compare members run
 * only when those members passed.
 */
int
auth_alertrule_check(json_t *body, int *days, json_t **rule,
    struct auth_alertrule_err *err)
{
	static const char *const kind_list =
	    "task_cpu,task_memory,task_exit,task_crash_loop,task_restarts,"
	    "health_failing,node_offline,node_disk,node_memory";
	const struct alert_kind *k = NULL;
	const char		*key, *name = NULL, *kind = NULL, *nodata;
	json_t			*v, *scope, *out = NULL;
	json_t			*nodes = NULL, *tasks = NULL;
	json_t			*chans = NULL, *mails = NULL;
	double			 threshold = 0, recovery = 0;
	int64_t			 forsecs = 0, window = 0, d;
	size_t			 i;
	int			 enabled = 1, ok = 1, t_ok, r_ok;

	*rule = NULL;
	err->field[0] = '\0';
	err->msg[0] = '\0';
	agentproto_err_clear(&err->all);
	if (!json_is_object(body))
		return (rule_add(err, "", AGENTPROTO_C_TYPE, 0, 0, 0,
		    "expected", "object", "the rule must be a JSON object"));
	json_object_foreach(body, key, v)
	{
		for (i = 0; members[i] != NULL; i++) {
			if (strcmp(members[i], key) == 0)
				break;
		}
		if (members[i] == NULL ||
		    (days == NULL && strcmp(key, "days") == 0)) {
			if (err->msg[0] == '\0')
				(void)snprintf(err->msg, sizeof(err->msg),
				    "unknown member %.40s%s", key,
				    strlen(key) > 40 ? "..." : "");
			agentproto_err_add(&err->all, "", key,
			    AGENTPROTO_C_UNKNOWN, 0, 0, 0, NULL, NULL,
			    "unknown member");
			ok = 0;
		}
	}

	v = json_object_get(body, "name");
	if (v == NULL)
		ok = rule_add(err, "name", AGENTPROTO_C_REQUIRED, 0, 0, 0, NULL,
		    NULL, "name is required");
	else if (!json_is_string(v))
		ok = rule_add(err, "name", AGENTPROTO_C_TYPE, 0, 0, 0,
		    "expected", "string",
		    "name must be 1 to %d characters, no control characters",
		    AUTH_ALERT_NAME_MAX);
	else if (!name_ok(json_string_value(v)))
		ok = rule_add(err, "name", name_code(json_string_value(v)),
		    AGENTPROTO_F_MAX, 0, AUTH_ALERT_NAME_MAX, NULL, NULL,
		    "name must be 1 to %d characters, no control characters",
		    AUTH_ALERT_NAME_MAX);
	else
		name = json_string_value(v);

	v = json_object_get(body, "kind");
	if (v == NULL)
		ok = rule_add(err, "kind", AGENTPROTO_C_REQUIRED, 0, 0, 0, NULL,
		    NULL, "kind is required");
	else if (!json_is_string(v) ||
	    (k = kind_find(json_string_value(v))) == NULL)
		ok = rule_add(err, "kind", AGENTPROTO_C_ENUM, 0, 0, 0,
		    "allowed", kind_list,
		    "kind must be task_cpu, task_memory, task_exit,"
		    " task_crash_loop, task_restarts, health_failing,"
		    " node_offline, node_disk or node_memory");
	else
		kind = k->name;

	/* Without a kind there is no range, but a value must be a number. */
	t_ok = number_get(body, "threshold", k != NULL ? k->tmin : -HUGE_VAL,
	    k != NULL ? k->tmax : HUGE_VAL, &threshold, err);
	r_ok = number_get(body, "recovery", k != NULL ? k->rmin : -HUGE_VAL,
	    k != NULL ? k->rmax : HUGE_VAL, &recovery, err);
	if (!t_ok || !r_ok)
		ok = 0;
	else if (k != NULL && k->below && recovery < threshold)
		ok = rule_add(err, "recovery", AGENTPROTO_C_RANGE,
		    AGENTPROTO_F_MIN | AGENTPROTO_F_MAX, (int64_t)threshold,
		    (int64_t)k->rmax, NULL, NULL,
		    "recovery must be at least threshold: %s fires below it",
		    kind);
	else if (k != NULL && !k->below && recovery > threshold)
		ok = rule_add(err, "recovery", AGENTPROTO_C_RANGE,
		    AGENTPROTO_F_MIN | AGENTPROTO_F_MAX, (int64_t)k->rmin,
		    (int64_t)threshold, NULL, NULL,
		    "recovery must be at most threshold: %s fires above it",
		    kind);

	if (!int_get(body, "for_seconds", 0, ALERT_FOR_MAX, 0, &forsecs, err))
		ok = 0;
	if (kind != NULL && strcmp(kind, "task_restarts") == 0) {
		if (json_object_get(body, "window_seconds") == NULL)
			ok = rule_add(err, "window_seconds",
			    AGENTPROTO_C_REQUIRED, 0, 0, 0, NULL, NULL,
			    "window_seconds is required for task_restarts");
		else if (!int_get(body, "window_seconds", ALERT_WINDOW_MIN,
			     ALERT_FOR_MAX, 0, &window, err))
			ok = 0;
	} else if (kind != NULL &&
	    (v = json_object_get(body, "window_seconds")) != NULL &&
	    !(json_is_integer(v) && json_integer_value(v) == 0))
		ok = rule_add(err, "window_seconds", AGENTPROTO_C_NOT_ALLOWED,
		    0, 0, 0, NULL, NULL,
		    "window_seconds must be 0 (absent) for %s", kind);

	nodata = "keep";
	if ((v = json_object_get(body, "no_data")) != NULL) {
		if (!json_is_string(v) ||
		    (strcmp(json_string_value(v), "keep") != 0 &&
			strcmp(json_string_value(v), "ok") != 0 &&
			strcmp(json_string_value(v), "alerting") != 0))
			ok = rule_add(err, "no_data", AGENTPROTO_C_ENUM, 0, 0,
			    0, "allowed", "keep,ok,alerting",
			    "no_data must be keep, ok or alerting");
		else
			nodata = json_string_value(v);
	}

	if ((v = json_object_get(body, "enabled")) != NULL) {
		if (!json_is_boolean(v))
			ok = rule_add(err, "enabled", AGENTPROTO_C_TYPE, 0, 0,
			    0, "expected", "boolean",
			    "enabled must be true or false");
		else
			enabled = json_is_true(v);
	}

	d = 7;
	if (days != NULL &&
	    !int_get(body, "days", 1, AUTH_ALERT_DAYS_MAX, 7, &d, err))
		ok = 0;

	scope = json_object_get(body, "scope");
	if (scope != NULL && !json_is_object(scope)) {
		ok = rule_add(err, "scope", AGENTPROTO_C_TYPE, 0, 0, 0,
		    "expected", "object",
		    "scope must be an object of node_ids and task_ids");
		scope = NULL;
	} else if (scope != NULL) {
		json_object_foreach(scope, key, v)
		{
			if (strcmp(key, "node_ids") != 0 &&
			    strcmp(key, "task_ids") != 0)
				ok = rule_add(err, "scope",
				    AGENTPROTO_C_UNKNOWN, 0, 0, 0, NULL, NULL,
				    "unknown member scope.%.40s", key);
		}
	}
	if ((nodes = scope_ids(scope, "node_ids", "scope.node_ids", err)) ==
	    NULL)
		ok = 0;
	if ((tasks = scope_ids(scope, "task_ids", "scope.task_ids", err)) ==
	    NULL)
		ok = 0;
	else if (k != NULL && k->node && json_array_size(tasks) > 0)
		ok = rule_add(err, "scope.task_ids", AGENTPROTO_C_NOT_ALLOWED,
		    0, 0, 0, NULL, NULL,
		    "scope.task_ids must be empty for %s (a node kind)", kind);
	if ((chans = channels_get(body, err)) == NULL)
		ok = 0;
	if ((mails = emails_get(body, err)) == NULL)
		ok = 0;
	if (!ok || name == NULL || kind == NULL)
		goto fail;

	out = json_pack("{s:s, s:s, s:f, s:f, s:I, s:I, s:s, s:{s:o, s:o},"
			" s:o, s:o, s:b}",
	    "name", name, "kind", kind, "threshold", threshold, "recovery",
	    recovery, "for_seconds", (json_int_t)forsecs, "window_seconds",
	    (json_int_t)window, "no_data", nodata, "scope", "node_ids", nodes,
	    "task_ids", tasks, "channels", chans, "extra_emails", mails,
	    "enabled", enabled);
	/* json_pack's "o" steals the references, even when it fails. */
	nodes = tasks = chans = mails = NULL;
	if (out == NULL) {
		(void)rule_bad(err, "", "out of memory");
		goto fail;
	}
	if (days != NULL)
		*days = (int)d;
	*rule = out;
	return (1);

fail:
	json_decref(nodes);
	json_decref(tasks);
	json_decref(chans);
	json_decref(mails);
	return (0);
}

/* YYYY-MM-DDTHH:MM[:SS[.frac]] followed by Z or +HH:MM / -HH:MM. */
int
auth_alert_time_ok(const char *s)
{
	static const char *shape = "dddd-dd-ddTdd:dd";
	static const int   mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		  30, 31 };
	size_t		   i;
	int		   year, leap, mon, day, hh, mm;

	if (strlen(s) > 40)
		return (0);
	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9')
				    : (s[i] != shape[i] &&
					  !(shape[i] == 'T' && s[i] == 't')))
			return (0);
	}
	mon = (s[5] - '0') * 10 + (s[6] - '0');
	day = (s[8] - '0') * 10 + (s[9] - '0');
	hh = (s[11] - '0') * 10 + (s[12] - '0');
	mm = (s[14] - '0') * 10 + (s[15] - '0');
	year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (mon < 1 || mon > 12 || day < 1 || hh > 23 || mm > 59)
		return (0);
	if (day > mdays[mon - 1] + (mon == 2 && leap))
		return (0);
	s += i;
	if (s[0] == ':') {
		if (!(s[1] >= '0' && s[1] <= '5') ||
		    !(s[2] >= '0' && s[2] <= '9'))
			return (0);
		s += 3;
		if (s[0] == '.') {
			for (i = 1; s[i] >= '0' && s[i] <= '9'; i++)
				;
			if (i == 1 || i > 10)
				return (0);
			s += i;
		}
	}
	if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0')
		return (1);
	if ((s[0] == '+' || s[0] == '-') && s[1] >= '0' && s[1] <= '1' &&
	    s[2] >= '0' && s[2] <= '9' && s[3] == ':' && s[4] >= '0' &&
	    s[4] <= '5' && s[5] >= '0' && s[5] <= '9' && s[6] == '\0')
		return (1);
	return (0);
}
