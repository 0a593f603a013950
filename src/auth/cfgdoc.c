/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * A task configuration's documents (docs/config.md, "Versions, secrets
 * and the API"), Kore-free so that unit tests link them: the doc to store
 * from a PUT body (checked in full, secrets encrypted), a stored version
 * as users see it, the diff of two versions, the preview's lines, and
 * the secrets revealed for an agent's delivery.
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/auth.h"
#include "agentproto/agentproto.h"
#include "cfgedit/cfgedit.h"

#define CFG_COMMENT_MAX	    500
#define CFG_APOLLO_NAME_MAX 100
#define CFG_NAMESPACES_MAX  20

static int  cfgdoc_bad(struct auth_cfgdoc_err *, const char *,
     enum agentproto_code, int64_t, const char *, const char *, const char *,
     ...) __attribute__((format(printf, 7, 8)));
static int  key_check(struct auth_cfgdoc_err *, const char *, json_t *);
static int  relpath_check(struct auth_cfgdoc_err *, const char *, json_t *);
static int  apollo_name_check(struct auth_cfgdoc_err *, const char *, json_t *);
static int  key_ok(const char *, size_t);
static int  relpath_ok(const char *);
static int  apollo_name_ok(const char *);
static int  doc_values(struct auth_cfgdoc_err *, const uint8_t *, int64_t,
     json_t *, json_t *);
static int  doc_apollo(struct auth_cfgdoc_err *, json_t *, json_t *);
static int  doc_mappings(struct auth_cfgdoc_err *, json_t *, json_t *, int);
static int  doc_files(struct auth_cfgdoc_err *, json_t *, json_t *, size_t *);
static void diff_add(json_t *, const char *, const char *, const char *,
    json_t *, json_t *);
static int  secret_same(const uint8_t *, int64_t, const char *, json_t *,
     json_t *);

/* Name of a mapping in a diff: its target, "file:nodepath". */
#define MAP_NAME(buf, m) \
	(snprintf((buf), sizeof(buf), "%s:%s", \
	     json_string_value(json_object_get((m), "file")), \
	     json_string_value(json_object_get((m), "nodepath"))), \
	    (const char *)(buf))

/*
 * Note a refused member (field NULL: the body) with its code, max (< 0:
 * none) and named argument; the first refusal also gives err's field and
 * message.  Returns 0.
 */
static int
cfgdoc_bad(struct auth_cfgdoc_err *err, const char *field,
    enum agentproto_code code, int64_t max, const char *arg_name,
    const char *arg, const char *fmt, ...)
{
	va_list ap;
	char	msg[sizeof(err->msg)];

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err->all.nf == 0 && err->all.lost == 0) {
		(void)snprintf(err->field, sizeof(err->field), "%s",
		    field != NULL ? field : "");
		memcpy(err->msg, msg, sizeof(err->msg));
	}
	agentproto_err_add(&err->all, "", field != NULL ? field : "", code,
	    max >= 0 ? AGENTPROTO_F_MAX : 0, 0, max >= 0 ? max : 0, arg_name,
	    arg, "%s", msg);
	return (0);
}

/*
 * The list body.name of at most max items, and its (empty) copy in doc:
 * 1 with *arr the list (NULL when absent or null) and *out the copy, or
 * 0 with the refusal noted.
 */
static int
cfgdoc_list(struct auth_cfgdoc_err *err, json_t *body, json_t *doc,
    const char *name, size_t max, json_t **arr, json_t **out)
{
	*out = json_array();
	(void)json_object_set_new(doc, name, *out);
	*arr = json_object_get(body, name);
	if (*arr == NULL || json_is_null(*arr)) {
		*arr = NULL;
		return (1);
	}
	if (!json_is_array(*arr))
		return (cfgdoc_bad(err, name, AGENTPROTO_C_TYPE, -1, "expected",
		    "array", "%s must be an array", name));
	if (json_array_size(*arr) > max)
		return (cfgdoc_bad(err, name, AGENTPROTO_C_TOO_MANY,
		    (int64_t)max, NULL, NULL, "at most %zu %s", max, name));
	return (1);
}

/* A key (see key_ok) at field: 1, or 0 with its refusal noted. */
static int
key_check(struct auth_cfgdoc_err *err, const char *field, json_t *v)
{
	enum agentproto_code code;
	const char	    *ex = NULL;

	if (json_is_string(v) &&
	    key_ok(json_string_value(v), json_string_length(v)))
		return (1);
	if (v == NULL || json_is_null(v) ||
	    (json_is_string(v) && json_string_length(v) == 0))
		code = AGENTPROTO_C_REQUIRED;
	else if (!json_is_string(v)) {
		code = AGENTPROTO_C_TYPE;
		ex = "string";
	} else if (json_string_length(v) > AGENTPROTO_CFG_KEY_MAX)
		code = AGENTPROTO_C_TOO_LONG;
	else {
		code = AGENTPROTO_C_FORMAT;
		ex = "one_line";
	}
	return (cfgdoc_bad(err, field, code,
	    code == AGENTPROTO_C_TOO_LONG ? AGENTPROTO_CFG_KEY_MAX : -1,
	    ex != NULL ? "expected" : NULL, ex,
	    "%s must be a string of 1 to %d bytes without control characters",
	    field, AGENTPROTO_CFG_KEY_MAX));
}

/* A path inside the task's tree (see relpath_ok) at field: 1, or 0 with
 * its refusal noted. */
static int
relpath_check(struct auth_cfgdoc_err *err, const char *field, json_t *v)
{
	enum agentproto_code code;
	const char	    *p;

	if (json_is_string(v) && relpath_ok(json_string_value(v)))
		return (1);
	p = json_string_value(v);
	if (v == NULL || json_is_null(v) || (p != NULL && p[0] == '\0'))
		code = AGENTPROTO_C_REQUIRED;
	else if (p == NULL)
		code = AGENTPROTO_C_TYPE;
	else if (p[0] == '/')
		code = AGENTPROTO_C_NOT_RELATIVE;
	else if (strlen(p) > AGENTPROTO_CFG_PATH_MAX)
		code = AGENTPROTO_C_TOO_LONG;
	else
		code = AGENTPROTO_C_PATH;
	return (cfgdoc_bad(err, field, code,
	    code == AGENTPROTO_C_TOO_LONG ? AGENTPROTO_CFG_PATH_MAX : -1,
	    code == AGENTPROTO_C_TYPE ? "expected" : NULL,
	    code == AGENTPROTO_C_TYPE ? "string" : NULL,
	    "%s must be a relative path of at most %d bytes without \"..\", "
	    "\".\" or empty components",
	    field, AGENTPROTO_CFG_PATH_MAX));
}

/* An Apollo name at field: 1, or 0 with its refusal noted. */
static int
apollo_name_check(struct auth_cfgdoc_err *err, const char *field, json_t *v)
{
	if (json_is_string(v) && apollo_name_ok(json_string_value(v)))
		return (1);
	if (v == NULL || json_is_null(v))
		return (cfgdoc_bad(err, field, AGENTPROTO_C_REQUIRED, -1, NULL,
		    NULL, "%s is required", field));
	if (!json_is_string(v))
		return (cfgdoc_bad(err, field, AGENTPROTO_C_TYPE, -1,
		    "expected", "string", "%s must be a string", field));
	return (cfgdoc_bad(err, field, AGENTPROTO_C_PATTERN,
	    CFG_APOLLO_NAME_MAX, "pattern", "apollo_name",
	    "%s must be 1 to %d characters of [A-Za-z0-9_.-]", field,
	    CFG_APOLLO_NAME_MAX));
}

int
auth_cfgdoc_key_ok(const char *k, size_t len)
{
	return (key_ok(k, len));
}

/* A key: 1..AGENTPROTO_CFG_KEY_MAX bytes, no control characters. */
static int
key_ok(const char *k, size_t len)
{
	size_t i;

	if (len == 0 || len > AGENTPROTO_CFG_KEY_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		if ((unsigned char)k[i] < 0x20 || k[i] == 0x7f)
			return (0);
	}
	return (1);
}

/* A path inside the task's tree: relative, no "..", "." or empty
 * components, no backslash or control characters. */
static int
relpath_ok(const char *p)
{
	const char *s, *e;
	size_t	    len, i;

	len = strlen(p);
	if (len == 0 || len > AGENTPROTO_CFG_PATH_MAX || p[0] == '/')
		return (0);
	for (i = 0; i < len; i++) {
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\')
			return (0);
	}
	for (s = p; *s != '\0'; s = *e == '\0' ? e : e + 1) {
		e = strchr(s, '/');
		if (e == NULL)
			e = s + strlen(s);
		if (e == s || (e - s == 1 && s[0] == '.') ||
		    (e - s == 2 && s[0] == '.' && s[1] == '.'))
			return (0);
		if (*e == '/' && e[1] == '\0')
			return (0);
	}
	return (1);
}

static int
apollo_name_ok(const char *s)
{
	size_t len = strlen(s);

	return (len >= 1 && len <= CFG_APOLLO_NAME_MAX &&
	    strspn(s,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789_.-") == len);
}

/*
 * The new doc from a PUT body, every member checked (a 400 naming each
 * bad one otherwise, the first in field and msg): values (secrets
 * encrypted now; a secret without a value is marked "keep"), apollo,
 * mappings (each key has a value, or Apollo may give it), files, env,
 * properties_file, comment.  The members GET answers besides these are
 * ignored.
 */
int
auth_cfgdoc_build(json_t *body, const uint8_t *key, int64_t task, json_t **docp,
    const char **comment, struct auth_cfgdoc_err *err)
{
	static const char *known[] = { "values", "apollo", "mappings", "files",
		"env", "properties_file", "comment",
		/* read-only members of GET's answer */
		"task_id", "version", "author", "author_name", "created_at",
		"restored_from", "level", NULL };
	const char	  *name;
	json_t		  *v, *doc;
	size_t		   i, total;
	int		   vals_ok, apollo_ok;

	*docp = NULL;
	*comment = "";
	err->field[0] = '\0';
	err->msg[0] = '\0';
	agentproto_err_clear(&err->all);
	json_object_foreach(body, name, v)
	{
		for (i = 0; known[i] != NULL; i++) {
			if (strcmp(known[i], name) == 0)
				break;
		}
		if (known[i] == NULL)
			(void)cfgdoc_bad(err, name, AGENTPROTO_C_UNKNOWN, -1,
			    NULL, NULL,
			    "unknown member %.64s (values, apollo, mappings, "
			    "files, env, properties_file, comment)",
			    name);
	}
	if ((doc = json_object()) == NULL)
		return (cfgdoc_bad(err, NULL, AGENTPROTO_C_INVALID, -1, NULL,
		    NULL, "out of memory"));
	/* Every part, so that all refusals answer at once; a mapping's key
	 * is looked up only when values and apollo are sound. */
	vals_ok = doc_values(err, key, task, body, doc);
	apollo_ok = doc_apollo(err, body, doc);
	(void)doc_mappings(err, body, doc, vals_ok && apollo_ok);
	(void)doc_files(err, body, doc, &total);

	v = json_object_get(body, "env");
	if (v != NULL && !json_is_null(v) && !json_is_boolean(v))
		(void)cfgdoc_bad(err, "env", AGENTPROTO_C_TYPE, -1, "expected",
		    "boolean", "env must be true or false");
	(void)json_object_set_new(doc, "env", json_boolean(json_is_true(v)));

	v = json_object_get(body, "properties_file");
	if (v != NULL && !json_is_null(v))
		(void)relpath_check(err, "properties_file", v);
	(void)json_object_set_new(doc, "properties_file",
	    v != NULL && json_is_string(v) ? json_deep_copy(v) : json_null());

	v = json_object_get(body, "comment");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v))
			(void)cfgdoc_bad(err, "comment", AGENTPROTO_C_TYPE, -1,
			    "expected", "string",
			    "comment must be a string of at most %d bytes",
			    CFG_COMMENT_MAX);
		else if (json_string_length(v) > CFG_COMMENT_MAX)
			(void)cfgdoc_bad(err, "comment", AGENTPROTO_C_TOO_LONG,
			    CFG_COMMENT_MAX, NULL, NULL,
			    "comment must be a string of at most %d bytes",
			    CFG_COMMENT_MAX);
		else
			*comment = json_string_value(v);
	}
	if (err->all.nf == 0 && err->all.lost == 0 &&
	    total > AGENTPROTO_CFG_TOTAL_MAX)
		(void)cfgdoc_bad(err, NULL, AGENTPROTO_C_TOO_LONG,
		    AGENTPROTO_CFG_TOTAL_MAX, NULL, NULL,
		    "the configuration is larger than %d bytes in all",
		    AGENTPROTO_CFG_TOTAL_MAX);
	if (err->all.nf > 0 || err->all.lost > 0) {
		*comment = "";
		json_decref(doc);
		return (0);
	}
	*docp = doc;
	return (1);
}

/* values: 1, or 0 with every refusal noted (the doc then holds the good
 * ones only). */
static int
doc_values(struct auth_cfgdoc_err *err, const uint8_t *key, int64_t task,
    json_t *body, json_t *doc)
{
	json_t	   *arr, *e, *v, *s, *out, *seen, *o;
	const char *k;
	char	    field[64], *enc;
	size_t	    i;
	int	    ok = 1, good;

	if (!cfgdoc_list(err, body, doc, "values", AGENTPROTO_CFG_VALUES_MAX,
		&arr, &out))
		return (0);
	if (arr == NULL)
		return (1);
	seen = json_object();
	json_array_foreach(arr, i, e)
	{
		(void)snprintf(field, sizeof(field), "values[%zu]", i);
		if (!json_is_object(e)) {
			ok = cfgdoc_bad(err, field, AGENTPROTO_C_TYPE, -1,
			    "expected", "object", "%s must be an object",
			    field);
			continue;
		}
		good = 1;
		(void)snprintf(field, sizeof(field), "values[%zu].key", i);
		v = json_object_get(e, "key");
		k = NULL;
		if (!key_check(err, field, v))
			good = 0;
		else if (json_object_get(seen, json_string_value(v)) != NULL)
			good = cfgdoc_bad(err, field, AGENTPROTO_C_DUPLICATE,
			    -1, NULL, NULL, "%s: key %.200s is given twice",
			    field, json_string_value(v));
		else {
			k = json_string_value(v);
			(void)json_object_set_new(seen, k, json_true());
		}
		s = json_object_get(e, "secret");
		if (s != NULL && !json_is_null(s) && !json_is_boolean(s)) {
			(void)snprintf(field, sizeof(field),
			    "values[%zu].secret", i);
			good = cfgdoc_bad(err, field, AGENTPROTO_C_TYPE, -1,
			    "expected", "boolean", "%s must be true or false",
			    field);
		}
		(void)snprintf(field, sizeof(field), "values[%zu].value", i);
		v = json_object_get(e, "value");
		if (v != NULL && !json_is_null(v) && !json_is_string(v))
			good = cfgdoc_bad(err, field, AGENTPROTO_C_TYPE, -1,
			    "expected", "string",
			    "%s must be a string of at most %d bytes", field,
			    AGENTPROTO_CFG_VALUE_MAX);
		else if (json_is_string(v) &&
		    json_string_length(v) > AGENTPROTO_CFG_VALUE_MAX)
			good = cfgdoc_bad(err, field, AGENTPROTO_C_TOO_LONG,
			    AGENTPROTO_CFG_VALUE_MAX, NULL, NULL,
			    "%s must be a string of at most %d bytes", field,
			    AGENTPROTO_CFG_VALUE_MAX);
		else if (!json_is_true(s) && !json_is_string(v))
			good = cfgdoc_bad(err, field, AGENTPROTO_C_REQUIRED, -1,
			    NULL, NULL,
			    "%s is required (only a secret keeps its "
			    "stored value when it has none)",
			    field);
		if (!good) {
			ok = 0;
			continue;
		}
		if (!json_is_true(s)) {
			o = json_pack("{s:s,s:O,s:b}", "key", k, "value", v,
			    "secret", 0);
		} else if (!json_is_string(v)) {
			o = json_pack("{s:s,s:b,s:b}", "key", k, "secret", 1,
			    "keep", 1);
		} else {
			enc = auth_cfg_encrypt(key, task, k,
			    json_string_value(v), json_string_length(v));
			if (enc == NULL) {
				ok = cfgdoc_bad(err, field,
				    AGENTPROTO_C_INVALID, -1, NULL, NULL,
				    "%s: cannot encrypt", field);
				continue;
			}
			o = json_pack("{s:s,s:s,s:b}", "key", k, "enc", enc,
			    "secret", 1);
			free(enc);
		}
		if (o == NULL) {
			ok = cfgdoc_bad(err, field, AGENTPROTO_C_INVALID, -1,
			    NULL, NULL, "%s: out of memory", field);
			continue;
		}
		(void)json_array_append_new(out, o);
	}
	json_decref(seen);
	return (ok);
}

/* apollo: 1, or 0 with every refusal noted. */
static int
doc_apollo(struct auth_cfgdoc_err *err, json_t *body, json_t *doc)
{
	json_t	   *a, *v, *ns, *out, *e;
	const char *name;
	char	    field[64];
	size_t	    i;
	int	    ok = 1;

	a = json_object_get(body, "apollo");
	if (a == NULL || json_is_null(a) || !json_is_object(a)) {
		(void)json_object_set_new(doc, "apollo", json_null());
		if (a == NULL || json_is_null(a))
			return (1);
		return (cfgdoc_bad(err, "apollo", AGENTPROTO_C_TYPE, -1,
		    "expected", "object", "apollo must be null or an object"));
	}
	json_object_foreach(a, name, v)
	{
		if (strcmp(name, "app_id") != 0 &&
		    strcmp(name, "cluster") != 0 &&
		    strcmp(name, "namespaces") != 0 &&
		    strcmp(name, "auto_apply") != 0 &&
		    strcmp(name, "auto_restart") != 0 &&
		    strcmp(name, "status") != 0) {
			(void)snprintf(field, sizeof(field), "apollo.%.40s",
			    name);
			ok = cfgdoc_bad(err, field, AGENTPROTO_C_UNKNOWN, -1,
			    NULL, NULL, "unknown member %s", field);
		}
	}
	out = json_object();
	(void)json_object_set_new(doc, "apollo", out);
	for (i = 0; i < 2; i++) {
		name = i == 0 ? "app_id" : "cluster";
		(void)snprintf(field, sizeof(field), "apollo.%s", name);
		v = json_object_get(a, name);
		if (!apollo_name_check(err, field, v))
			ok = 0;
		else
			(void)json_object_set(out, name, v);
	}
	ns = json_object_get(a, "namespaces");
	if (ns == NULL || json_is_null(ns) ||
	    (json_is_array(ns) && json_array_size(ns) == 0))
		ok = cfgdoc_bad(err, "apollo.namespaces", AGENTPROTO_C_REQUIRED,
		    -1, NULL, NULL,
		    "apollo.namespaces must be an array of 1 to %d names",
		    CFG_NAMESPACES_MAX);
	else if (!json_is_array(ns))
		ok = cfgdoc_bad(err, "apollo.namespaces", AGENTPROTO_C_TYPE, -1,
		    "expected", "array",
		    "apollo.namespaces must be an array of 1 to %d names",
		    CFG_NAMESPACES_MAX);
	else if (json_array_size(ns) > CFG_NAMESPACES_MAX)
		ok = cfgdoc_bad(err, "apollo.namespaces", AGENTPROTO_C_TOO_MANY,
		    CFG_NAMESPACES_MAX, NULL, NULL,
		    "apollo.namespaces must be an array of 1 to %d names",
		    CFG_NAMESPACES_MAX);
	else {
		json_array_foreach(ns, i, e)
		{
			(void)snprintf(field, sizeof(field),
			    "apollo.namespaces[%zu]", i);
			if (!apollo_name_check(err, field, e))
				ok = 0;
		}
		(void)json_object_set(out, "namespaces", ns);
	}
	for (i = 0; i < 2; i++) {
		name = i == 0 ? "auto_apply" : "auto_restart";
		(void)snprintf(field, sizeof(field), "apollo.%s", name);
		v = json_object_get(a, name);
		if (v != NULL && !json_is_null(v) && !json_is_boolean(v))
			ok = cfgdoc_bad(err, field, AGENTPROTO_C_TYPE, -1,
			    "expected", "boolean", "%s must be true or false",
			    field);
		(void)json_object_set_new(out, name,
		    json_boolean(json_is_true(v)));
	}
	return (ok);
}

/* mappings: 1, or 0 with every refusal noted; keys: look each key up in
 * the doc's values (unless Apollo may give it). */
static int
doc_mappings(struct auth_cfgdoc_err *err, json_t *body, json_t *doc, int keys)
{
	enum cfgedit_format fmt;
	json_t		   *arr, *e, *k, *file, *format, *np, *out, *vals, *x;
	char		    field[64], why[CFGEDIT_ERR_MAX];
	size_t		    i, j;
	int		    found, apollo, ok = 1, good, fmt_ok;

	if (!cfgdoc_list(err, body, doc, "mappings",
		AGENTPROTO_CFG_MAPPINGS_MAX, &arr, &out))
		return (0);
	if (arr == NULL)
		return (1);
	vals = json_object_get(doc, "values");
	apollo = json_is_object(json_object_get(doc, "apollo"));
	json_array_foreach(arr, i, e)
	{
		(void)snprintf(field, sizeof(field), "mappings[%zu]", i);
		if (!json_is_object(e)) {
			ok = cfgdoc_bad(err, field, AGENTPROTO_C_TYPE, -1,
			    "expected", "object", "%s must be an object",
			    field);
			continue;
		}
		good = 1;
		k = json_object_get(e, "key");
		file = json_object_get(e, "file");
		format = json_object_get(e, "format");
		np = json_object_get(e, "nodepath");
		(void)snprintf(field, sizeof(field), "mappings[%zu].key", i);
		if (!key_check(err, field, k))
			good = 0;
		else if (keys && !apollo) {
			found = 0;
			json_array_foreach(vals, j, x)
			{
				if (strcmp(json_string_value(
					       json_object_get(x, "key")),
					json_string_value(k)) == 0)
					found = 1;
			}
			if (!found)
				good = cfgdoc_bad(err, field,
				    AGENTPROTO_C_NOT_FOUND, -1, NULL, NULL,
				    "%s: key %.200s has no value (give it one "
				    "in values, or take it from Apollo)",
				    field, json_string_value(k));
		}
		(void)snprintf(field, sizeof(field), "mappings[%zu].file", i);
		if (!relpath_check(err, field, file))
			good = 0;
		(void)snprintf(field, sizeof(field), "mappings[%zu].format", i);
		fmt_ok = json_is_string(format) &&
		    cfgedit_format_parse(json_string_value(format), &fmt) == 0;
		if (!fmt_ok)
			good = cfgdoc_bad(err, field, AGENTPROTO_C_ENUM, -1,
			    "allowed", "xml,json,properties",
			    "%s must be xml, json or properties", field);
		(void)snprintf(field, sizeof(field), "mappings[%zu].nodepath",
		    i);
		if (np == NULL || json_is_null(np))
			good = cfgdoc_bad(err, field, AGENTPROTO_C_REQUIRED, -1,
			    NULL, NULL,
			    "%s must be a string of at most %d bytes", field,
			    CFGEDIT_PATH_MAX);
		else if (!json_is_string(np))
			good = cfgdoc_bad(err, field, AGENTPROTO_C_TYPE, -1,
			    "expected", "string",
			    "%s must be a string of at most %d bytes", field,
			    CFGEDIT_PATH_MAX);
		else if (json_string_length(np) > CFGEDIT_PATH_MAX)
			good = cfgdoc_bad(err, field, AGENTPROTO_C_TOO_LONG,
			    CFGEDIT_PATH_MAX, NULL, NULL,
			    "%s must be a string of at most %d bytes", field,
			    CFGEDIT_PATH_MAX);
		else if (strlen(json_string_value(np)) !=
		    json_string_length(np))
			good = cfgdoc_bad(err, field, AGENTPROTO_C_FORMAT, -1,
			    "expected", "text",
			    "%s must be a string of at most %d bytes", field,
			    CFGEDIT_PATH_MAX);
		else if (fmt_ok &&
		    cfgedit_path_check(fmt, json_string_value(np), why,
			sizeof(why)) != 0)
			good = cfgdoc_bad(err, field, AGENTPROTO_C_INVALID, -1,
			    NULL, NULL, "%s: %s", field, why);
		if (!good) {
			ok = 0;
			continue;
		}
		/* One node, one mapping: which would win is no one's guess. */
		json_array_foreach(out, j, x)
		{
			if (strcmp(json_string_value(
				       json_object_get(x, "file")),
				json_string_value(file)) == 0 &&
			    strcmp(json_string_value(
				       json_object_get(x, "nodepath")),
				json_string_value(np)) == 0)
				break;
		}
		if (j < json_array_size(out)) {
			ok = cfgdoc_bad(err, field, AGENTPROTO_C_DUPLICATE, -1,
			    NULL, NULL,
			    "%s: mappings[%zu] already writes %.200s in %.200s",
			    field, j, json_string_value(np),
			    json_string_value(file));
			continue;
		}
		(void)json_array_append_new(out,
		    json_pack("{s:O,s:O,s:s,s:O}", "key", k, "file", file,
			"format", cfgedit_format_name(fmt), "nodepath", np));
	}
	return (ok);
}

/* files: 1, or 0 with every refusal noted; *total: the good ones' bytes. */
static int
doc_files(struct auth_cfgdoc_err *err, json_t *body, json_t *doc, size_t *total)
{
	json_t	   *arr, *e, *p, *b, *out, *seen;
	const char *name;
	uint8_t	   *raw;
	size_t	    i, len;
	char	    field[64];
	int	    ok = 1, good;

	*total = 0;
	if (!cfgdoc_list(err, body, doc, "files", AGENTPROTO_CFG_FILES_MAX,
		&arr, &out))
		return (0);
	if (arr == NULL)
		return (1);
	seen = json_object();
	json_array_foreach(arr, i, e)
	{
		(void)snprintf(field, sizeof(field), "files[%zu]", i);
		if (!json_is_object(e)) {
			ok = cfgdoc_bad(err, field, AGENTPROTO_C_TYPE, -1,
			    "expected", "object", "%s must be an object",
			    field);
			continue;
		}
		good = 1;
		json_object_foreach(e, name, p)
		{
			if (strcmp(name, "path") != 0 &&
			    strcmp(name, "content_base64") != 0 &&
			    strcmp(name, "size") != 0) {
				(void)snprintf(field, sizeof(field),
				    "files[%zu].%.20s", i, name);
				good = cfgdoc_bad(err, field,
				    AGENTPROTO_C_UNKNOWN, -1, NULL, NULL,
				    "%s: unknown member", field);
			}
		}
		p = json_object_get(e, "path");
		b = json_object_get(e, "content_base64");
		(void)snprintf(field, sizeof(field), "files[%zu].path", i);
		if (!relpath_check(err, field, p))
			good = 0;
		else if (json_object_get(seen, json_string_value(p)) != NULL)
			good = cfgdoc_bad(err, field, AGENTPROTO_C_DUPLICATE,
			    -1, NULL, NULL, "%s: %.200s is given twice", field,
			    json_string_value(p));
		else
			(void)json_object_set_new(seen, json_string_value(p),
			    json_true());
		(void)snprintf(field, sizeof(field),
		    "files[%zu].content_base64", i);
		len = 0;
		if (b == NULL || json_is_null(b))
			good = cfgdoc_bad(err, field, AGENTPROTO_C_REQUIRED, -1,
			    NULL, NULL,
			    "%s must be standard base64 (with padding)", field);
		else if (!json_is_string(b))
			good = cfgdoc_bad(err, field, AGENTPROTO_C_TYPE, -1,
			    "expected", "string",
			    "%s must be standard base64 (with padding)", field);
		else if (!agentproto_b64_decode(json_string_value(b),
			     json_string_length(b), &raw, &len))
			good = cfgdoc_bad(err, field, AGENTPROTO_C_FORMAT, -1,
			    "expected", "base64",
			    "%s must be standard base64 (with padding)", field);
		else {
			free(raw);
			if (len > AGENTPROTO_CFG_FILE_MAX)
				good = cfgdoc_bad(err, field,
				    AGENTPROTO_C_TOO_LONG,
				    AGENTPROTO_CFG_FILE_MAX, NULL, NULL,
				    "%s: at most %d bytes", field,
				    AGENTPROTO_CFG_FILE_MAX);
		}
		if (!good) {
			ok = 0;
			continue;
		}
		*total += len;
		(void)json_array_append_new(out,
		    json_pack("{s:O,s:O}", "path", p, "content_base64", b));
	}
	json_decref(seen);
	return (ok);
}

/* A stored version as users see it: Yard's own values (secrets null). */
json_t *
auth_cfgdoc_view(json_t *meta, json_t *doc)
{
	json_t	   *out, *vals, *files, *e, *o;
	size_t	    i, len;
	uint8_t	   *raw;
	const char *b;

	out = json_deep_copy(meta);
	vals = json_array();
	json_array_foreach(json_object_get(doc, "values"), i, e)
	{
		o = json_pack("{s:O,s:b,s:s}", "key", json_object_get(e, "key"),
		    "secret", json_is_true(json_object_get(e, "secret")),
		    "source", "yard");
		(void)json_object_set(o, "value",
		    json_is_true(json_object_get(e, "secret"))
			? json_null()
			: json_object_get(e, "value"));
		(void)json_array_append_new(vals, o);
	}
	(void)json_object_set_new(out, "values", vals);
	(void)json_object_set(out, "apollo", json_object_get(doc, "apollo"));
	(void)json_object_set(out, "mappings",
	    json_object_get(doc, "mappings"));
	files = json_array();
	json_array_foreach(json_object_get(doc, "files"), i, e)
	{
		b = json_string_value(json_object_get(e, "content_base64"));
		len = 0;
		if (b != NULL &&
		    agentproto_b64_decode(b, strlen(b), &raw, &len))
			free(raw);
		o = json_deep_copy(e);
		(void)json_object_set_new(o, "size",
		    json_integer((json_int_t)len));
		(void)json_array_append_new(files, o);
	}
	(void)json_object_set_new(out, "files", files);
	(void)json_object_set(out, "env", json_object_get(doc, "env"));
	(void)json_object_set(out, "properties_file",
	    json_object_get(doc, "properties_file"));
	return (out);
}

static void
diff_add(json_t *diff, const char *part, const char *name, const char *change,
    json_t *old, json_t *new)
{
	json_t *o;

	o = json_pack("{s:s,s:s,s:s}", "part", part, "name", name, "change",
	    change);
	(void)json_object_set_new(o, "old", old != NULL ? old : json_null());
	(void)json_object_set_new(o, "new", new != NULL ? new : json_null());
	(void)json_array_append_new(diff, o);
}

/* Two secret entries hold the same value (both decrypted and compared;
 * a value that does not decrypt counts as different). */
static int
secret_same(const uint8_t *key, int64_t task, const char *k, json_t *a,
    json_t *b)
{
	const char *ea, *eb;
	char	   *pa, *pb;
	size_t	    la, lb;
	int	    same;

	ea = json_string_value(json_object_get(a, "enc"));
	eb = json_string_value(json_object_get(b, "enc"));
	if (ea == NULL || eb == NULL)
		return (json_equal(a, b));
	if (strcmp(ea, eb) == 0)
		return (1);
	if (!auth_cfg_decrypt(key, task, k, ea, &pa, &la))
		return (0);
	if (!auth_cfg_decrypt(key, task, k, eb, &pb, &lb)) {
		auth_cfg_free(pa, la);
		return (0);
	}
	same = la == lb && memcmp(pa, pb, la) == 0;
	auth_cfg_free(pa, la);
	auth_cfg_free(pb, lb);
	return (same);
}

json_t *
auth_cfgdoc_diff(json_t *doc, json_t *prev, const uint8_t *key, int64_t task)
{
	static const char *parts[] = { "values", "mappings", "files" };
	json_t		  *diff, *na, *pa, *e, *p, *ov, *nv;
	const char	  *k, *part, *idk;
	char		   name[2200], pname[2200];
	size_t		   i, j, x;
	int		   sec, psec, found;

	diff = json_array();
	for (x = 0; x < 3; x++) {
		na = json_object_get(doc, parts[x]);
		pa = prev != NULL ? json_object_get(prev, parts[x]) : NULL;
		part = x == 0 ? "value" : x == 1 ? "mapping" : "file";
		idk = x == 2 ? "path" : "key";
		json_array_foreach(na, i, e)
		{
			k = x == 1 ? MAP_NAME(name, e)
				   : json_string_value(json_object_get(e, idk));
			found = 0;
			json_array_foreach(pa, j, p)
			{
				if (strcmp(k,
					x == 1 ? MAP_NAME(pname, p)
					       : json_string_value(
						     json_object_get(p,
							 idk))) == 0) {
					found = 1;
					break;
				}
			}
			sec = json_is_true(json_object_get(e, "secret"));
			psec =
			    found && json_is_true(json_object_get(p, "secret"));
			if (x == 0) {
				nv = sec ? NULL
					 : json_deep_copy(
					       json_object_get(e, "value"));
				ov = !found || psec
				    ? NULL
				    : json_deep_copy(
					  json_object_get(p, "value"));
				if (!found)
					diff_add(diff, part, k, "added", NULL,
					    nv);
				else if (sec != psec ||
				    (sec ? !secret_same(key, task, k, e, p)
					 : !json_equal(e, p)))
					diff_add(diff, part, k, "changed", ov,
					    nv);
				else {
					json_decref(ov);
					json_decref(nv);
				}
			} else if (!found)
				diff_add(diff, part, k, "added", NULL,
				    json_deep_copy(e));
			else if (!json_equal(e, p))
				diff_add(diff, part, k, "changed",
				    json_deep_copy(p), json_deep_copy(e));
		}
		json_array_foreach(pa, j, p)
		{
			k = x == 1 ? MAP_NAME(pname, p)
				   : json_string_value(json_object_get(p, idk));
			found = 0;
			json_array_foreach(na, i, e)
			{
				if (strcmp(k,
					x == 1 ? MAP_NAME(name, e)
					       : json_string_value(
						     json_object_get(e,
							 idk))) == 0)
					found = 1;
			}
			if (found)
				continue;
			if (x == 0)
				diff_add(diff, part, k, "removed",
				    json_is_true(json_object_get(p, "secret"))
					? NULL
					: json_deep_copy(
					      json_object_get(p, "value")),
				    NULL);
			else
				diff_add(diff, part, k, "removed",
				    json_deep_copy(p), NULL);
		}
	}
	for (x = 0; x < 3; x++) {
		k = x == 0 ? "apollo" : x == 1 ? "env" : "properties_file";
		ov = prev != NULL ? json_object_get(prev, k) : NULL;
		nv = json_object_get(doc, k);
		if (ov == NULL)
			ov = json_null();
		if (nv == NULL)
			nv = json_null();
		if (json_equal(ov, nv) ||
		    (prev == NULL && (json_is_null(nv) || json_is_false(nv))))
			continue;
		/* A default (null, false) is no addition. */
		diff_add(diff, k, k,
		    prev == NULL || json_is_null(ov) ? "added"
			: json_is_null(nv)	     ? "removed"
						     : "changed",
		    json_deep_copy(ov), json_deep_copy(nv));
	}
	return (diff);
}

/* A string as JSON: UTF-8 as is, any other byte as U+FFFD. */
json_t *
auth_cfgdoc_utf8(const char *s, size_t len)
{
	json_t	     *j;
	char	     *buf;
	size_t	      i, n, o;
	unsigned char c;

	if ((j = json_stringn(s, len)) != NULL)
		return (j);
	if (len > SIZE_MAX / 3 || (buf = malloc(len * 3 + 1)) == NULL)
		return (json_string(""));
	for (i = 0, o = 0; i < len; i += n) {
		c = (unsigned char)s[i];
		n = c < 0x80		 ? 1
		    : (c & 0xe0) == 0xc0 ? 2
		    : (c & 0xf0) == 0xe0 ? 3
		    : (c & 0xf8) == 0xf0 ? 4
					 : 0;
		if (n == 0 || i + n > len ||
		    (j = json_stringn(s + i, n)) == NULL) {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
			continue;
		}
		json_decref(j);
		memcpy(buf + o, s + i, n);
		o += n;
	}
	j = json_stringn(buf, o);
	free(buf);
	return (j != NULL ? j : json_string(""));
}

/* Lines first..last (1-based) of buf, without their line ends. */
json_t *
auth_cfgdoc_lines(const char *buf, size_t len, size_t first, size_t last)
{
	json_t	   *arr;
	const char *s, *e, *end;
	size_t	    n, l;

	arr = json_array();
	end = buf + len;
	for (s = buf, n = 1; s <= end && n <= last; n++) {
		/* After the last line end there is no line. */
		if (s == end && s != buf)
			break;
		e = memchr(s, '\n', (size_t)(end - s));
		if (e == NULL)
			e = end;
		if (n >= first) {
			l = (size_t)(e - s);
			if (l > 0 && s[l - 1] == '\r')
				l--;
			(void)json_array_append_new(arr,
			    auth_cfgdoc_utf8(s, l));
		}
		if (e == end)
			break;
		s = e + 1;
	}
	return (arr);
}

/*
 * Delivery (agent.c): every "enc" of a command payload's config.values
 * decrypted into "value", for one answer.  0 with err when one does not
 * decrypt (the key changed, the row was tampered with).
 */
int
auth_cfgdoc_reveal(json_t *payload, const uint8_t *key, char *err,
    size_t errlen)
{
	json_t	   *cfg, *e, *s;
	const char *k, *enc;
	char	   *pt;
	size_t	    i, len;
	int64_t	    task;

	cfg = json_object_get(payload, "config");
	if (!json_is_object(cfg))
		return (1);
	task = json_integer_value(
	    json_object_get(json_object_get(payload, "task"), "id"));
	json_array_foreach(json_object_get(cfg, "values"), i, e)
	{
		enc = json_string_value(json_object_get(e, "enc"));
		if (enc == NULL)
			continue;
		k = json_string_value(json_object_get(e, "key"));
		if (k == NULL ||
		    !auth_cfg_decrypt(key, task, k, enc, &pt, &len)) {
			(void)snprintf(err, errlen,
			    "configuration: the secret value of key %.200s "
			    "cannot be decrypted with this server's "
			    "YARD_CONFIG_KEY_FILE",
			    k != NULL ? k : "?");
			return (0);
		}
		s = json_stringn(pt, len);
		auth_cfg_free(pt, len);
		if (s == NULL) {
			(void)snprintf(err, errlen,
			    "configuration: the secret value of key %.200s "
			    "is not UTF-8",
			    k);
			return (0);
		}
		(void)json_object_set_new(e, "value", s);
		(void)json_object_del(e, "enc");
	}
	return (1);
}
