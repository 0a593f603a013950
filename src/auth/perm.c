/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Permission values: level names and the grants the database hands back
 * for a principal (shown by /api/v1/me).  Who may do what is decided in
 * one place only, by the SQL functions yard_level() and
 * yard_node_visible() (src/store/migrations/006_levels.sql) that every
 * statement calls.  Also the node policy's deploy roots, checked early on
 * the server.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/auth.h"

#define PERM_GRANTS_MAX 100000
/* Generous for 100000 rows of [id, id, null, "manage", id]. */
#define PERM_JSON_MAX (PERM_GRANTS_MAX * 128)
#define PERM_PATH_MAX 4096

/* clang-format off */
static int		grant_id(json_t *, int64_t *);
static int		path_norm(const char *, char *, size_t);
static int		path_under(const char *, const char *);
static int		win_norm(const char *, char *, size_t);
/* clang-format on */

enum auth_level
auth_level_parse(const char *s)
{
	if (s == NULL)
		return (AUTH_LEVEL_NONE);
	if (strcmp(s, "view") == 0)
		return (AUTH_LEVEL_VIEW);
	if (strcmp(s, "operate") == 0)
		return (AUTH_LEVEL_OPERATE);
	if (strcmp(s, "manage") == 0)
		return (AUTH_LEVEL_MANAGE);
	return (AUTH_LEVEL_NONE);
}

const char *
auth_level_str(enum auth_level l)
{
	switch (l) {
	case AUTH_LEVEL_VIEW:
		return ("view");
	case AUTH_LEVEL_OPERATE:
		return ("operate");
	case AUTH_LEVEL_MANAGE:
		return ("manage");
	case AUTH_LEVEL_NONE:
		break;
	}
	return ("none");
}

/* A positive JSON integer id, or null (*id 0).  0 for anything else. */
static int
grant_id(json_t *v, int64_t *id)
{
	*id = 0;
	if (json_is_null(v))
		return (1);
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return (0);
	*id = (int64_t)json_integer_value(v);
	return (1);
}

/*
 * On success *out is an array of *n grants the caller frees with free()
 * (NULL when there are none).  Any bad row rejects the whole input: a
 * half-read grant list would silently deny or, worse, mis-grant.
 */
int
auth_grants_parse(const char *json, size_t len, struct auth_grant **out,
    size_t *n)
{
	struct auth_grant *g;
	json_t		  *doc, *row, *v;
	json_error_t	   jerr;
	size_t		   i, count;
	int		   ret;

	ret = 0;
	doc = NULL;
	g = NULL;
	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (json == NULL || out == NULL || n == NULL || len > PERM_JSON_MAX)
		return (0);

	doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_array(doc))
		goto cleanup;
	count = json_array_size(doc);
	if (count > PERM_GRANTS_MAX)
		goto cleanup;
	if (count == 0) {
		ret = 1;
		goto cleanup;
	}

	if ((g = calloc(count, sizeof(*g))) == NULL)
		goto cleanup;

	for (i = 0; i < count; i++) {
		row = json_array_get(doc, i);
		if (!json_is_array(row) || json_array_size(row) < 4 ||
		    json_array_size(row) > 5)
			goto cleanup;

		v = json_array_get(row, 0);
		if (!json_is_integer(v) || json_integer_value(v) <= 0)
			goto cleanup;
		g[i].id = (int64_t)json_integer_value(v);

		if (!grant_id(json_array_get(row, 1), &g[i].node_id) ||
		    !grant_id(json_array_get(row, 2), &g[i].task_id))
			goto cleanup;
		/* Exactly one target: a node or a task. */
		if ((g[i].node_id == 0) == (g[i].task_id == 0))
			goto cleanup;

		v = json_array_get(row, 3);
		if (!json_is_string(v))
			goto cleanup;
		g[i].level = auth_level_parse(json_string_value(v));
		if (g[i].level == AUTH_LEVEL_NONE)
			goto cleanup;

		/* A task grant's node, when given; a node grant has none. */
		if (json_array_size(row) == 5 &&
		    (!grant_id(json_array_get(row, 4), &g[i].task_node_id) ||
			(g[i].task_id == 0 && g[i].task_node_id != 0)))
			goto cleanup;
	}

	*out = g;
	*n = count;
	g = NULL;
	ret = 1;

cleanup:
	free(g);
	json_decref(doc);

	return (ret);
}

/*
 * Copy absolute path in to out without empty and "." components and
 * without a trailing slash ("/" stays "/").  0 when in is not absolute,
 * has a ".." component, or does not fit.
 */
static int
path_norm(const char *in, char *out, size_t outlen)
{
	const char *seg;
	size_t	    n, len;

	if (in == NULL || in[0] != '/' || outlen < 2)
		return (0);
	len = 0;
	while (*in != '\0') {
		while (*in == '/')
			in++;
		seg = in;
		while (*in != '\0' && *in != '/')
			in++;
		n = (size_t)(in - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.')
			return (0);
		if (len + 1 + n >= outlen)
			return (0);
		out[len++] = '/';
		memcpy(out + len, seg, n);
		len += n;
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	return (1);
}

/* Normalised dir strictly under normalised root, whole components. */
static int
path_under(const char *dir, const char *root)
{
	size_t n;

	if (strcmp(root, "/") == 0)
		return (strcmp(dir, "/") != 0);
	n = strlen(root);
	return (strncmp(dir, root, n) == 0 && dir[n] == '/');
}

int
auth_dir_in_roots(const char *dir, const char *roots, size_t len, char *list,
    size_t listlen)
{
	json_t	    *doc, *r, *p;
	json_error_t jerr;
	const char  *path;
	char	     d[PERM_PATH_MAX], root[PERM_PATH_MAX];
	size_t	     i, used;
	int	     ok;

	if (list != NULL && listlen > 0)
		list[0] = '\0';
	if (roots == NULL)
		return (1);
	doc = json_loadb(roots, len, 0, &jerr);
	if (!json_is_array(doc)) {
		json_decref(doc);
		return (1);
	}

	ok = 0;
	used = 0;
	if (!path_norm(dir, d, sizeof(d)))
		d[0] = '\0';
	for (i = 0; i < json_array_size(doc); i++) {
		r = json_array_get(doc, i);
		p = json_is_object(r) ? json_object_get(r, "path") : r;
		if ((path = json_string_value(p)) == NULL)
			continue;
		if (list != NULL && used + 1 < listlen) {
			used += (size_t)snprintf(list + used, listlen - used,
			    "%s%s", used > 0 ? ", " : "", path);
			if (used >= listlen)
				used = listlen - 1;
		}
		if (d[0] != '\0' && path_norm(path, root, sizeof(root)) &&
		    path_under(d, root))
			ok = 1;
	}
	json_decref(doc);

	return (ok);
}

/*
 * auth_dir_in_roots() for a Windows node (auth.h): whether dir lies strictly under
 * one of roots (JSON text: an array of {"path":...} or strings; 1 when it
 * is not an array), comparing as Windows does: either separator, ASCII
 * case ignored, empty and "." components dropped.  list gets the roots,
 * comma separated, for a message.
 */
int
auth_dir_in_roots_win(const char *dir, const char *roots, size_t len,
    char *list, size_t listlen)
{
	json_t	   *doc, *r;
	const char *path;
	char	    d[PERM_PATH_MAX], root[PERM_PATH_MAX];
	size_t	    i, n, used;
	int	    ok, w;

	if (list == NULL)
		listlen = 0;
	if (listlen > 0)
		list[0] = '\0';
	if (roots == NULL)
		return (1);
	if ((doc = json_loadb(roots, len, 0, NULL)) == NULL ||
	    !json_is_array(doc)) {
		json_decref(doc);
		return (1);
	}
	ok = 0;
	used = 0;
	if (!win_norm(dir, d, sizeof(d)))
		d[0] = '\0';
	for (i = 0; i < json_array_size(doc); i++) {
		r = json_array_get(doc, i);
		if (json_is_object(r))
			r = json_object_get(r, "path");
		if ((path = json_string_value(r)) == NULL)
			continue;
		if (used + 1 < listlen) {
			w = snprintf(list + used, listlen - used, "%s%s",
			    used > 0 ? ", " : "", path);
			used = w < 0 || (size_t)w >= listlen - used
			    ? listlen - 1
			    : used + (size_t)w;
		}
		if (d[0] == '\0' || !win_norm(path, root, sizeof(root)))
			continue;
		n = strlen(root);
		if (strncmp(d, root, n) == 0 && d[n] == '\\')
			ok = 1;
	}
	json_decref(doc);
	return (ok);
}

/*
 * A Windows path as one spelling: '\' separators, ASCII lower case, no
 * empty or "." components, no trailing separator; a UNC path keeps its
 * leading "\\".  0 for a ".." component or when out is too small.
 */
static int
win_norm(const char *in, char *out, size_t outlen)
{
	const char *seg;
	size_t	    len, n, k;

	len = 0;
	if ((in[0] == '\\' || in[0] == '/') &&
	    (in[1] == '\\' || in[1] == '/')) {
		if (outlen < 3)
			return (0);
		out[len++] = '\\';
		out[len++] = '\\';
		in += 2;
	}
	while (*in != '\0') {
		while (*in == '\\' || *in == '/')
			in++;
		seg = in;
		while (*in != '\0' && *in != '\\' && *in != '/')
			in++;
		n = (size_t)(in - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.')
			return (0);
		if (len + n + 2 > outlen)
			return (0);
		if (len > 0 && out[len - 1] != '\\')
			out[len++] = '\\';
		for (k = 0; k < n; k++)
			out[len++] = (char)tolower((unsigned char)seg[k]);
	}
	out[len] = '\0';
	return (len > 0);
}
