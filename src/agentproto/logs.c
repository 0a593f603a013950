/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Logs: log requests handed out with the commands, the chunks that answer
 * them and the server's acknowledgement.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agentproto/agentproto.h"
#include "agentproto/internal.h"

int
agentproto_logreq_decode(const json_t *o, const char *pfx,
    struct agentproto_logreq *l, struct agentproto_err *err)
{
	char mode[16];

	if (!json_is_object(o)) {
		agentproto_err_set(err, pfx, "", "must be an object");
		return (0);
	}
	if (!agentproto_get_uuid(o, pfx, "id", l->id, sizeof(l->id), err))
		return (0);
	if (!agentproto_get_int(o, pfx, "task_id", 1, 1, AGENTPROTO_NODE_ID_MAX,
		&l->task_id, NULL, err) ||
	    !agentproto_get_str(o, pfx, "mode", 1, 1, sizeof(mode) - 1, mode,
		sizeof(mode), err))
		return (0);
	if (strcmp(mode, "tail") == 0)
		l->mode = AGENTPROTO_LOG_TAIL;
	else if (strcmp(mode, "follow") == 0)
		l->mode = AGENTPROTO_LOG_FOLLOW;
	else if (strcmp(mode, "download") == 0)
		l->mode = AGENTPROTO_LOG_DOWNLOAD;
	else if (strcmp(mode, "file") == 0)
		l->mode = AGENTPROTO_LOG_FILE;
	else {
		agentproto_err_set(err, pfx, "mode",
		    "must be tail, follow, download or file");
		return (0);
	}
	if (!agentproto_get_str(o, pfx, "file", 1, 1, AGENTPROTO_LOG_FILE_MAX,
		l->file, sizeof(l->file), err))
		return (0);
	if (!agentproto_log_file_valid(l->file)) {
		agentproto_err_set(err, pfx, "file",
		    "must be stdout or a relative path without '..'");
		return (0);
	}
	l->lines = 200;
	if (!agentproto_get_int(o, pfx, "lines", 0, 1, AGENTPROTO_LOG_LINES_MAX,
		&l->lines, NULL, err) ||
	    !agentproto_get_str(o, pfx, "q", 0, 0, AGENTPROTO_LOG_Q_MAX, l->q,
		sizeof(l->q), err))
		return (0);
	if (memchr(l->q, '\n', strlen(l->q)) != NULL) {
		agentproto_err_set(err, pfx, "q", "must be one line");
		return (0);
	}
	return (1);
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
	case AGENTPROTO_LOG_FILE:
		return ("file");
	}
	return ("tail");
}

/*
 * A chunk's "stderr": at most AGENTPROTO_LOG_STDERR_MAX [start, end]
 * pairs of integers, 0 <= start < end <= len (data's bytes), each after
 * the one before (start >= its end).
 */
static int
marks_decode(const json_t *m, size_t len, struct agentproto_logchunk *c,
    struct agentproto_err *err)
{
	const json_t *r, *a, *b;
	char	      cp[32];
	size_t	      i, n;
	int64_t	      s, e, prev = 0;

	if (!json_is_array(m) ||
	    (n = json_array_size(m)) > AGENTPROTO_LOG_STDERR_MAX) {
		agentproto_err_set(err, "", "stderr",
		    "must be an array of at most %d byte ranges",
		    AGENTPROTO_LOG_STDERR_MAX);
		return (0);
	}
	if (n == 0)
		return (1);
	if ((c->marks = calloc(n, 2 * sizeof(*c->marks))) == NULL) {
		agentproto_err_set(err, "", "stderr", "out of memory");
		return (0);
	}
	json_array_foreach(m, i, r)
	{
		(void)snprintf(cp, sizeof(cp), "stderr[%zu]", i);
		if (!json_is_array(r) || json_array_size(r) != 2 ||
		    !json_is_integer(a = json_array_get(r, 0)) ||
		    !json_is_integer(b = json_array_get(r, 1))) {
			agentproto_err_set(err, "", cp,
			    "must be [start, end], two integers");
			return (0);
		}
		s = json_integer_value(a);
		e = json_integer_value(b);
		if (s < prev || e <= s || (uint64_t)e > len) {
			agentproto_err_set(err, "", cp,
			    "must be a byte range of data after the one "
			    "before: %s <= start < end <= %zu",
			    i == 0 ? "0" : "its end", len);
			return (0);
		}
		c->marks[2 * i] = s;
		c->marks[2 * i + 1] = e;
		prev = e;
	}
	c->nmarks = n;
	return (1);
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
	if ((root = agentproto_load(buf, len, err)) == NULL)
		return (0);
	ret = 0;
	if (!agentproto_check_v(root, err) ||
	    !agentproto_get_int(root, "", "seq", 1, 0, INT32_MAX, &c->seq, NULL,
		err) ||
	    !agentproto_get_int(root, "", "size", 1, 0, INT64_MAX, &c->size,
		NULL, err) ||
	    !agentproto_get_int(root, "", "matches", 0, 0, INT64_MAX,
		&c->matches, NULL, err) ||
	    !agentproto_get_str(root, "", "error", 0, 0, AGENTPROTO_MESSAGE_MAX,
		c->error, sizeof(c->error), err))
		goto cleanup;
	if ((m = agentproto_member(root, "", "data", 1, err)) == NULL)
		goto cleanup;
	if (!json_is_string(m) ||
	    json_string_length(m) > AGENTPROTO_LOG_DATA_MAX) {
		agentproto_err_set(err, "", "data",
		    "must be a string of at most %d bytes",
		    AGENTPROTO_LOG_DATA_MAX);
		goto cleanup;
	}
	if (memchr(json_string_value(m), '\0', json_string_length(m)) != NULL) {
		agentproto_err_set(err, "", "data", "must not contain NUL");
		goto cleanup;
	}
	if ((c->data = strdup(json_string_value(m))) == NULL) {
		agentproto_err_set(err, "", "data", "out of memory");
		goto cleanup;
	}
	for (i = 0; i < 2; i++) {
		m = agentproto_member(root, "", i == 0 ? "done" : "truncated",
		    0, err);
		if (m == NULL)
			continue;
		if (!json_is_boolean(m)) {
			agentproto_err_set(err, "",
			    i == 0 ? "done" : "truncated",
			    "must be true or false");
			goto cleanup;
		}
		b = json_is_true(m);
		if (i == 0)
			c->done = b;
		else
			c->truncated = b;
	}
	if ((m = agentproto_member(root, "", "files", 0, err)) != NULL) {
		if (!json_is_array(m) ||
		    json_array_size(m) > AGENTPROTO_LOG_FILES_MAX) {
			agentproto_err_set(err, "", "files",
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
				agentproto_err_set(err, "", cp,
				    "must be a log file name");
				goto cleanup;
			}
		}
		c->files = json_incref((json_t *)(uintptr_t)m);
	}
	if ((m = agentproto_member(root, "", "stderr", 0, err)) != NULL &&
	    !marks_decode(m, strlen(c->data), c, err))
		goto cleanup;
	ret = 1;
cleanup:
	json_decref(root);
	if (!ret)
		agentproto_logchunk_cleanup(c);
	return (ret);
}

void
agentproto_logchunk_cleanup(struct agentproto_logchunk *c)
{
	free(c->data);
	c->data = NULL;
	if (c->files != NULL)
		json_decref(c->files);
	c->files = NULL;
	free(c->marks);
	c->marks = NULL;
	c->nmarks = 0;
}

char *
agentproto_logchunk_encode(const struct agentproto_logchunk *c)
{
	json_t *o, *m;
	size_t	i;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!agentproto_set(o, "v", json_integer(AGENTPROTO_VERSION)) ||
	    !agentproto_set(o, "seq", json_integer(c->seq)) ||
	    !agentproto_set(o, "data",
		json_string(c->data != NULL ? c->data : "")) ||
	    !agentproto_set(o, "size", json_integer(c->size)) ||
	    !agentproto_set(o, "done", json_boolean(c->done)))
		goto fail;
	if (c->truncated && !agentproto_set(o, "truncated", json_true()))
		goto fail;
	if (c->matches >= 0 &&
	    !agentproto_set(o, "matches", json_integer(c->matches)))
		goto fail;
	if (c->error[0] != '\0' &&
	    !agentproto_set(o, "error", json_string(c->error)))
		goto fail;
	if (c->files != NULL &&
	    !agentproto_set(o, "files", json_incref(c->files)))
		goto fail;
	if (c->nmarks > 0) {
		if ((m = json_array()) == NULL ||
		    !agentproto_set(o, "stderr", m))
			goto fail;
		for (i = 0; i < c->nmarks; i++) {
			if (json_array_append_new(m,
				json_pack("[I, I]", (json_int_t)c->marks[2 * i],
				    (json_int_t)c->marks[2 * i + 1])) == -1)
				goto fail;
		}
	}
	return (agentproto_dump(o));
fail:
	json_decref(o);
	return (NULL);
}

int
agentproto_logack_decode(const char *buf, size_t len, int *follow,
    struct agentproto_err *err)
{
	json_t	     *root;
	const json_t *m;
	int	      ret = 0;

	*follow = 0;
	if ((root = agentproto_load(buf, len, err)) == NULL)
		return (0);
	if (!agentproto_check_v(root, err) ||
	    (m = agentproto_member(root, "", "follow", 1, err)) == NULL)
		goto cleanup;
	if (!json_is_boolean(m)) {
		agentproto_err_set(err, "", "follow", "must be true or false");
		goto cleanup;
	}
	*follow = json_is_true(m);
	ret = 1;
cleanup:
	json_decref(root);
	return (ret);
}
