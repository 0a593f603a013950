/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * A task's configuration as commands carry it (docs/agent-protocol.md,
 * "Configuration"): the strict decoder the agent runs on every command's
 * "config" member and the server on what it is about to store.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agentproto/agentproto.h"
#include "agentproto/internal.h"
#include "cfgedit/cfgedit.h"

static int fail(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static int   only(const json_t *, const char *const *, const char *, char *,
      size_t);
static int   str(const json_t *, const char *, const char *, size_t, size_t,
      const char **, size_t *, char *, size_t);
static int   key_check(const char *, size_t, const char *, char *, size_t);
static int   path_check(const char *, size_t, const char *, char *, size_t);
static int   values_decode(const json_t *, struct agentproto_config *, size_t *,
      char *, size_t);
static int   mappings_decode(const json_t *, struct agentproto_config *, char *,
      size_t);
static int   files_decode(const json_t *, struct agentproto_config *, size_t *,
      char *, size_t);
static char *dup_n(const char *, size_t);

static const char *const top_members[] = { "version", "values", "mappings",
	"files", "env", "properties_file", NULL };
static const char *const value_members[] = { "key", "value", "source", "secret",
	NULL };
static const char *const mapping_members[] = { "key", "file", "format",
	"nodepath", NULL };
static const char *const file_members[] = { "path", "content_base64", NULL };

/* jansson's getters take a non-const object but do not modify it. */
#define GET(o, k) json_object_get((json_t *)(uintptr_t)(o), (k))

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/* o holds no member but those listed. */
static int
only(const json_t *o, const char *const *names, const char *pfx, char *err,
    size_t errlen)
{
	const char *k;
	json_t	   *v;
	size_t	    i;

	json_object_foreach((json_t *)(uintptr_t)o, k, v)
	{
		for (i = 0; names[i] != NULL; i++) {
			if (strcmp(names[i], k) == 0)
				break;
		}
		if (names[i] == NULL)
			return (fail(err, errlen, "%s.%.64s: unknown member",
			    pfx, k));
	}
	return (0);
}

/* A required string member of min..max bytes (NUL included in its length). */
static int
str(const json_t *o, const char *pfx, const char *name, size_t min, size_t max,
    const char **s, size_t *len, char *err, size_t errlen)
{
	const json_t *m = GET(o, name);

	if (m == NULL)
		return (fail(err, errlen, "%s.%s: missing", pfx, name));
	if (!json_is_string(m))
		return (
		    fail(err, errlen, "%s.%s: must be a string", pfx, name));
	*s = json_string_value(m);
	*len = json_string_length(m);
	if (*len < min || *len > max)
		return (fail(err, errlen, "%s.%s: must be %zu to %zu bytes",
		    pfx, name, min, max));
	return (0);
}

/* A key: no NUL and no control characters (its length already checked). */
static int
key_check(const char *k, size_t len, const char *pfx, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)k[i] < 0x20 || k[i] == 0x7f)
			return (fail(err, errlen,
			    "%s: must not hold control characters", pfx));
	}
	return (0);
}

/*
 * A path inside the task's tree: relative, no "..", "." or empty step,
 * no NUL, backslash or control character.
 */
static int
path_check(const char *p, size_t len, const char *pfx, char *err, size_t errlen)
{
	const char *s, *e;
	size_t	    i, n;

	for (i = 0; i < len; i++) {
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return (fail(err, errlen,
			    "%s: must not hold NUL or control characters",
			    pfx));
		if (p[i] == '\\')
			return (fail(err, errlen,
			    "%s: must not hold a backslash", pfx));
	}
	if (p[0] == '/')
		return (fail(err, errlen,
		    "%s: must be relative to the task's tree (no leading '/')",
		    pfx));
	if (p[len - 1] == '/')
		return (fail(err, errlen, "%s: has an empty step", pfx));
	for (s = p; s < p + len; s = e + 1) {
		if ((e = memchr(s, '/', (size_t)(p + len - s))) == NULL)
			e = p + len;
		n = (size_t)(e - s);
		if (n == 0)
			return (
			    fail(err, errlen, "%s: has an empty step", pfx));
		if ((n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return (fail(err, errlen,
			    "%s: must not hold \".\" or \"..\" steps", pfx));
	}
	return (0);
}

static char *
dup_n(const char *s, size_t n)
{
	char *d;

	if ((d = malloc(n + 1)) == NULL)
		return (NULL);
	memcpy(d, s, n);
	d[n] = '\0';
	return (d);
}

static int
values_decode(const json_t *a, struct agentproto_config *c, size_t *total,
    char *err, size_t errlen)
{
	const json_t *o, *m;
	const char   *k, *v, *src;
	size_t	      i, j, klen, vlen, slen;
	char	      pfx[64];

	if (!json_is_array(a))
		return (fail(err, errlen, "config.values: must be an array"));
	if (json_array_size(a) > AGENTPROTO_CFG_VALUES_MAX)
		return (fail(err, errlen, "config.values: more than %d",
		    AGENTPROTO_CFG_VALUES_MAX));
	if (json_array_size(a) > 0 &&
	    (c->values = calloc(json_array_size(a), sizeof(*c->values))) ==
		NULL)
		return (fail(err, errlen, "config: out of memory"));
	for (i = 0; i < json_array_size(a); i++) {
		struct agentproto_cfg_value *cv = &c->values[i];

		(void)snprintf(pfx, sizeof(pfx), "config.values[%zu]", i);
		o = json_array_get(a, i);
		if (!json_is_object(o))
			return (
			    fail(err, errlen, "%s: must be an object", pfx));
		if (only(o, value_members, pfx, err, errlen) == -1 ||
		    str(o, pfx, "key", 1, AGENTPROTO_CFG_KEY_MAX, &k, &klen,
			err, errlen) == -1)
			return (-1);
		(void)snprintf(pfx, sizeof(pfx), "config.values[%zu].key", i);
		if (key_check(k, klen, pfx, err, errlen) == -1)
			return (-1);
		(void)snprintf(pfx, sizeof(pfx), "config.values[%zu]", i);
		if ((m = GET(o, "value")) == NULL)
			return (fail(err, errlen,
			    "%s.value: missing (key \"%.*s\")", pfx, (int)klen,
			    k));
		if (str(o, pfx, "value", 0, AGENTPROTO_CFG_VALUE_MAX, &v, &vlen,
			err, errlen) == -1)
			return (-1);
		if (memchr(v, '\0', vlen) != NULL)
			return (fail(err, errlen,
			    "%s.value: must not hold NUL (key \"%.*s\")", pfx,
			    (int)klen, k));
		if ((m = GET(o, "source")) != NULL) {
			if (str(o, pfx, "source", 1, 16, &src, &slen, err,
				errlen) == -1)
				return (-1);
			if (strcmp(src, "apollo") == 0)
				cv->apollo = 1;
			else if (strcmp(src, "yard") != 0)
				return (fail(err, errlen,
				    "%s.source: must be yard or apollo", pfx));
		}
		if ((m = GET(o, "secret")) != NULL) {
			if (!json_is_boolean(m))
				return (fail(err, errlen,
				    "%s.secret: must be true or false", pfx));
			cv->secret = json_is_true(m);
		}
		for (j = 0; j < i; j++) {
			if (strcmp(c->values[j].key, k) == 0)
				return (fail(err, errlen,
				    "%s.key: duplicate key \"%.*s\"", pfx,
				    (int)klen, k));
		}
		*total += klen + vlen;
		c->nvalues = i + 1;
		cv->value_len = vlen;
		if ((cv->key = dup_n(k, klen)) == NULL ||
		    (cv->value = dup_n(v, vlen)) == NULL)
			return (fail(err, errlen, "config: out of memory"));
	}
	return (0);
}

static int
mappings_decode(const json_t *a, struct agentproto_config *c, char *err,
    size_t errlen)
{
	const json_t	   *o;
	const char	   *k, *f, *fmt, *np;
	size_t		    i, j, klen, flen, fmtlen, nplen;
	enum cfgedit_format format;
	char		    pfx[64], sub[80], why[CFGEDIT_ERR_MAX];
	char		   *dk, *df, *dn;

	if (!json_is_array(a))
		return (fail(err, errlen, "config.mappings: must be an array"));
	if (json_array_size(a) > AGENTPROTO_CFG_MAPPINGS_MAX)
		return (fail(err, errlen, "config.mappings: more than %d",
		    AGENTPROTO_CFG_MAPPINGS_MAX));
	if (json_array_size(a) > 0 &&
	    (c->mappings = calloc(json_array_size(a), sizeof(*c->mappings))) ==
		NULL)
		return (fail(err, errlen, "config: out of memory"));
	for (i = 0; i < json_array_size(a); i++) {
		struct agentproto_cfg_mapping *cm = &c->mappings[i];

		(void)snprintf(pfx, sizeof(pfx), "config.mappings[%zu]", i);
		o = json_array_get(a, i);
		if (!json_is_object(o))
			return (
			    fail(err, errlen, "%s: must be an object", pfx));
		if (only(o, mapping_members, pfx, err, errlen) == -1 ||
		    str(o, pfx, "key", 1, AGENTPROTO_CFG_KEY_MAX, &k, &klen,
			err, errlen) == -1 ||
		    str(o, pfx, "file", 1, AGENTPROTO_CFG_PATH_MAX, &f, &flen,
			err, errlen) == -1 ||
		    str(o, pfx, "format", 1, 16, &fmt, &fmtlen, err, errlen) ==
			-1 ||
		    str(o, pfx, "nodepath", 1, CFGEDIT_PATH_MAX, &np, &nplen,
			err, errlen) == -1)
			return (-1);
		(void)snprintf(sub, sizeof(sub), "%s.key", pfx);
		if (key_check(k, klen, sub, err, errlen) == -1)
			return (-1);
		(void)snprintf(sub, sizeof(sub), "%s.file", pfx);
		if (path_check(f, flen, sub, err, errlen) == -1)
			return (-1);
		if (cfgedit_format_parse(fmt, &format) == -1)
			return (fail(err, errlen,
			    "%s.format: must be xml, json or properties", pfx));
		if (memchr(np, '\0', nplen) != NULL)
			return (fail(err, errlen,
			    "%s.nodepath: must not hold NUL", pfx));
		if (cfgedit_path_check(format, np, why, sizeof(why)) == -1)
			return (fail(err, errlen, "%s.nodepath: %s", pfx, why));
		for (j = 0; j < c->nvalues; j++) {
			if (strcmp(c->values[j].key, k) == 0)
				break;
		}
		if (j == c->nvalues)
			return (fail(err, errlen,
			    "%s.key: no value for key \"%.*s\"", pfx, (int)klen,
			    k));
		dk = dup_n(k, klen);
		df = dup_n(f, flen);
		dn = dup_n(np, nplen);
		if (dk == NULL || df == NULL || dn == NULL) {
			free(dk);
			free(df);
			free(dn);
			return (fail(err, errlen, "config: out of memory"));
		}
		cm->key = dk;
		cm->file = df;
		cm->nodepath = dn;
		cm->format = (int)format;
		c->nmappings = i + 1;
	}
	return (0);
}

static int
files_decode(const json_t *a, struct agentproto_config *c, size_t *total,
    char *err, size_t errlen)
{
	const json_t  *o;
	const char    *p, *b;
	unsigned char *content;
	size_t	       i, j, plen, blen, len;
	char	       pfx[64], sub[80], *path;

	if (!json_is_array(a))
		return (fail(err, errlen, "config.files: must be an array"));
	if (json_array_size(a) > AGENTPROTO_CFG_FILES_MAX)
		return (fail(err, errlen, "config.files: more than %d",
		    AGENTPROTO_CFG_FILES_MAX));
	if (json_array_size(a) > 0 &&
	    (c->files = calloc(json_array_size(a), sizeof(*c->files))) == NULL)
		return (fail(err, errlen, "config: out of memory"));
	for (i = 0; i < json_array_size(a); i++) {
		struct agentproto_cfg_file *cf = &c->files[i];

		(void)snprintf(pfx, sizeof(pfx), "config.files[%zu]", i);
		o = json_array_get(a, i);
		if (!json_is_object(o))
			return (
			    fail(err, errlen, "%s: must be an object", pfx));
		if (only(o, file_members, pfx, err, errlen) == -1 ||
		    str(o, pfx, "path", 1, AGENTPROTO_CFG_PATH_MAX, &p, &plen,
			err, errlen) == -1 ||
		    str(o, pfx, "content_base64", 0,
			(AGENTPROTO_CFG_FILE_MAX + 2) / 3 * 4, &b, &blen, err,
			errlen) == -1)
			return (-1);
		(void)snprintf(sub, sizeof(sub), "%s.path", pfx);
		if (path_check(p, plen, sub, err, errlen) == -1)
			return (-1);
		for (j = 0; j < i; j++) {
			if (strcmp(c->files[j].path, p) == 0)
				return (fail(err, errlen,
				    "%s.path: duplicate path \"%.*s\"", pfx,
				    (int)plen, p));
		}
		if (!agentproto_b64_decode(b, blen, &content, &len))
			return (fail(err, errlen,
			    "%s.content_base64: not valid base64", pfx));
		if (len > AGENTPROTO_CFG_FILE_MAX) {
			free(content);
			return (fail(err, errlen,
			    "%s.content_base64: more than %d bytes", pfx,
			    AGENTPROTO_CFG_FILE_MAX));
		}
		if ((path = dup_n(p, plen)) == NULL) {
			free(content);
			return (fail(err, errlen, "config: out of memory"));
		}
		cf->path = path;
		cf->content = content;
		cf->len = len;
		c->nfiles = i + 1;
		*total += len;
	}
	return (0);
}

int
agentproto_config_decode(const json_t *o, struct agentproto_config *c,
    char *err, size_t errlen)
{
	const json_t *m;
	const char   *p;
	size_t	      total = 0, plen, i;

	memset(c, 0, sizeof(*c));
	if (!json_is_object(o))
		return (fail(err, errlen, "config: must be an object"));
	if (only(o, top_members, "config", err, errlen) == -1)
		goto bad;
	if ((m = GET(o, "version")) != NULL) {
		if (!json_is_integer(m) || json_integer_value(m) < 0 ||
		    json_integer_value(m) > INT32_MAX) {
			(void)fail(err, errlen,
			    "config.version: must be an integer from 0");
			goto bad;
		}
		c->version = json_integer_value(m);
	}
	if ((m = GET(o, "values")) != NULL &&
	    values_decode(m, c, &total, err, errlen) == -1)
		goto bad;
	if ((m = GET(o, "mappings")) != NULL &&
	    mappings_decode(m, c, err, errlen) == -1)
		goto bad;
	if ((m = GET(o, "files")) != NULL &&
	    files_decode(m, c, &total, err, errlen) == -1)
		goto bad;
	if ((m = GET(o, "env")) != NULL) {
		if (!json_is_boolean(m)) {
			(void)fail(err, errlen,
			    "config.env: must be true or false");
			goto bad;
		}
		c->env = json_is_true(m);
	}
	if ((m = GET(o, "properties_file")) != NULL && !json_is_null(m)) {
		if (str(o, "config", "properties_file", 1,
			AGENTPROTO_CFG_PATH_MAX, &p, &plen, err,
			errlen) == -1 ||
		    path_check(p, plen, "config.properties_file", err,
			errlen) == -1)
			goto bad;
		/* One writer per file: the generated file is all its own. */
		for (i = 0; i < c->nfiles; i++) {
			if (strcmp(c->files[i].path, p) == 0) {
				(void)fail(err, errlen,
				    "config.properties_file: also a file "
				    "override (config.files[%zu])",
				    i);
				goto bad;
			}
		}
		for (i = 0; i < c->nmappings; i++) {
			if (strcmp(c->mappings[i].file, p) == 0) {
				(void)fail(err, errlen,
				    "config.properties_file: also a mapping's "
				    "file (config.mappings[%zu])",
				    i);
				goto bad;
			}
		}
		if ((c->properties_file = dup_n(p, plen)) == NULL) {
			(void)fail(err, errlen, "config: out of memory");
			goto bad;
		}
	}
	if (total > AGENTPROTO_CFG_TOTAL_MAX) {
		(void)fail(err, errlen, "config: more than %d bytes in all",
		    AGENTPROTO_CFG_TOTAL_MAX);
		goto bad;
	}
	return (0);
bad:
	agentproto_config_free(c);
	return (-1);
}

/* Values are wiped: they may be secrets. */
void
agentproto_config_free(struct agentproto_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nvalues; i++) {
		free(c->values[i].key);
		if (c->values[i].value != NULL)
			explicit_bzero(c->values[i].value,
			    c->values[i].value_len);
		free(c->values[i].value);
	}
	for (i = 0; i < c->nmappings; i++) {
		free(c->mappings[i].key);
		free(c->mappings[i].file);
		free(c->mappings[i].nodepath);
	}
	for (i = 0; i < c->nfiles; i++) {
		free(c->files[i].path);
		free(c->files[i].content);
	}
	free(c->values);
	free(c->mappings);
	free(c->files);
	free(c->properties_file);
	memset(c, 0, sizeof(*c));
}
