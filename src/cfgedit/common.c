/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * What every format shares: format names, nodepath parsing and checks,
 * environment names, a growing buffer and error messages.
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgedit/internal.h"

static int path_err(char *, size_t, size_t, const char *, ...)
    __attribute__((format(printf, 4, 5)));
static int name_byte_ok(enum cfgedit_format, unsigned char);
static int parse_index(const char *, size_t *, size_t *, char *, size_t);
static int parse_name(enum cfgedit_format, const char *, size_t *, char **,
    size_t *, char *, size_t);

int
cfgedit_format_parse(const char *s, enum cfgedit_format *f)
{
	if (s == NULL)
		return (-1);
	if (strcmp(s, "xml") == 0)
		*f = CFGEDIT_XML;
	else if (strcmp(s, "json") == 0)
		*f = CFGEDIT_JSON;
	else if (strcmp(s, "properties") == 0)
		*f = CFGEDIT_PROPERTIES;
	else
		return (-1);
	return (0);
}

const char *
cfgedit_format_name(enum cfgedit_format f)
{
	switch (f) {
	case CFGEDIT_XML:
		return ("xml");
	case CFGEDIT_JSON:
		return ("json");
	case CFGEDIT_PROPERTIES:
		return ("properties");
	}
	return ("unknown");
}

void
cfgedit_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
path_err(char *err, size_t errlen, size_t off, const char *fmt, ...)
{
	char	msg[CFGEDIT_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfgedit_err(err, errlen, "nodepath: %s at byte %zu", msg, off);
	return (-1);
}

/*
 * Bytes an unquoted name may hold.  '.', '[', ']', '"' and '\' are the
 * grammar's; XML names also never hold white space or markup.
 */
static int
name_byte_ok(enum cfgedit_format f, unsigned char c)
{
	if (c < 0x20 || c == 0x7f)
		return (0);
	if (strchr(".[]\"\\", c) != NULL)
		return (0);
	if (f == CFGEDIT_XML && strchr(" <>&'=/!?;,()*@", c) != NULL)
		return (0);
	return (1);
}

/* "[digits]" at *pos: the index, *pos past the ']'. */
static int
parse_index(const char *p, size_t *pos, size_t *idx, char *err, size_t errlen)
{
	size_t i = *pos + 1, v = 0, start;

	start = i;
	while (p[i] >= '0' && p[i] <= '9') {
		v = v * 10 + (size_t)(p[i] - '0');
		if (v > CFGEDIT_INDEX_MAX)
			return (path_err(err, errlen, start,
			    "index larger than %d", CFGEDIT_INDEX_MAX));
		i++;
	}
	if (i == start)
		return (path_err(err, errlen, start,
		    "'[' must be followed by a decimal index"));
	if (p[i] != ']')
		return (path_err(err, errlen, i, "index not closed by ']'"));
	*idx = v;
	*pos = i + 1;
	return (0);
}

/*
 * A name at *pos, plain or quoted ("a.b", with \" and \\ inside), copied
 * to *dst.  Empty plain names are refused; "" is a name.
 */
static int
parse_name(enum cfgedit_format f, const char *p, size_t *pos, char **dst,
    size_t *len, char *err, size_t errlen)
{
	size_t i = *pos, start = *pos;
	char  *d = *dst;

	if (p[i] == '"') {
		i++;
		for (;;) {
			if (p[i] == '\0')
				return (path_err(err, errlen, start,
				    "quoted name not closed"));
			if (p[i] == '"')
				break;
			if (p[i] == '\\') {
				if (p[i + 1] != '"' && p[i + 1] != '\\')
					return (path_err(err, errlen, i,
					    "only \\\" and \\\\ may be escaped "
					    "in a quoted name"));
				i++;
			}
			*d++ = p[i++];
		}
		i++;
		if (f == CFGEDIT_XML && d == *dst)
			return (path_err(err, errlen, start,
			    "empty element or attribute name"));
	} else {
		while (p[i] != '\0' && name_byte_ok(f, (unsigned char)p[i]))
			*d++ = p[i++];
		if (i == start) {
			if (p[i] == '\0' || p[i] == '.')
				return (path_err(err, errlen, i, "empty step"));
			return (path_err(err, errlen, i,
			    "unexpected '%c' (quote a name that holds it: "
			    "\"a.b\")",
			    p[i]));
		}
	}
	*len = (size_t)(d - *dst);
	*dst = d;
	*pos = i;
	return (0);
}

/*
 * Parse a nodepath into steps.  XML: name[i], *[i], @attr (last).  JSON:
 * name, name[i][j]..., a path may start with [i] (an array at the root).
 * .properties: one step, the key verbatim.
 */
int
cfgedit_path_parse(enum cfgedit_format f, const char *p,
    struct cfgedit_path *path, char *err, size_t errlen)
{
	struct cfgedit_step *st;
	size_t		     i = 0, len, idx;
	char		    *d;

	memset(path, 0, sizeof(*path));
	if (p == NULL || p[0] == '\0')
		return (path_err(err, errlen, 0, "empty"));
	len = strlen(p);
	if (len > CFGEDIT_PATH_MAX)
		return (path_err(err, errlen, CFGEDIT_PATH_MAX,
		    "longer than %d bytes", CFGEDIT_PATH_MAX));
	d = path->names;
	if (f == CFGEDIT_PROPERTIES) {
		memcpy(d, p, len);
		path->steps[0].kind = CFGEDIT_STEP_NAME;
		path->steps[0].name = d;
		path->steps[0].name_len = len;
		path->n = 1;
		return (0);
	}
	if (f != CFGEDIT_XML && f != CFGEDIT_JSON)
		return (path_err(err, errlen, 0, "unknown format"));

	for (;;) {
		if (path->n == CFGEDIT_STEPS_MAX)
			return (path_err(err, errlen, i, "more than %d steps",
			    CFGEDIT_STEPS_MAX));
		st = &path->steps[path->n];
		if (f == CFGEDIT_JSON && p[i] == '[' && path->n == 0) {
			/* An array at the root: the indexes follow. */
			goto indexes;
		}
		if (f == CFGEDIT_XML && p[i] == '@') {
			if (path->n == 0)
				return (path_err(err, errlen, i,
				    "the first step names the root element, "
				    "not an attribute"));
			i++;
			st->kind = CFGEDIT_STEP_ATTR;
			st->name = d;
			if (parse_name(f, p, &i, &d, &st->name_len, err,
				errlen) == -1)
				return (-1);
			path->n++;
			if (p[i] == '[')
				return (path_err(err, errlen, i,
				    "an attribute takes no index"));
			if (p[i] != '\0')
				return (path_err(err, errlen, i,
				    "an attribute must be the last step"));
			return (0);
		}
		if (f == CFGEDIT_JSON && p[i] == '*')
			return (path_err(err, errlen, i,
			    "unexpected '*' (any element is for XML; quote a "
			    "member named *: \"*\")"));
		if (f == CFGEDIT_XML && p[i] == '*') {
			st->kind = CFGEDIT_STEP_ANY;
			i++;
		} else {
			st->kind = CFGEDIT_STEP_NAME;
			st->name = d;
			if (parse_name(f, p, &i, &d, &st->name_len, err,
				errlen) == -1)
				return (-1);
		}
		path->n++;
		if (f == CFGEDIT_XML) {
			if (p[i] == '[') {
				if (parse_index(p, &i, &st->index, err,
					errlen) == -1)
					return (-1);
				st->has_index = 1;
			}
			if (p[i] == '[')
				return (path_err(err, errlen, i,
				    "one index per XML step"));
		} else {
indexes:
			while (p[i] == '[') {
				if (path->n == CFGEDIT_STEPS_MAX)
					return (path_err(err, errlen, i,
					    "more than %d steps",
					    CFGEDIT_STEPS_MAX));
				st = &path->steps[path->n];
				st->kind = CFGEDIT_STEP_INDEX;
				if (parse_index(p, &i, &idx, err, errlen) == -1)
					return (-1);
				st->index = idx;
				st->has_index = 1;
				path->n++;
			}
		}
		if (p[i] == '\0')
			break;
		if (p[i] != '.')
			return (path_err(err, errlen, i,
			    "expected '.' or '[' after a step, not '%c'",
			    p[i]));
		i++;
	}
	if (f == CFGEDIT_XML && path->steps[0].has_index &&
	    path->steps[0].index != 0)
		return (path_err(err, errlen, 0,
		    "a document has one root element: its index is 0"));
	return (0);
}

int
cfgedit_path_check(enum cfgedit_format f, const char *path, char *err,
    size_t errlen)
{
	struct cfgedit_path *p;
	int		     rc;

	if ((p = malloc(sizeof(*p))) == NULL) {
		cfgedit_err(err, errlen, "out of memory");
		return (-1);
	}
	rc = cfgedit_path_parse(f, path, p, err, errlen);
	free(p);
	return (rc);
}

int
cfgedit_env_name(const char *key, char *out, size_t outlen)
{
	size_t i, o = 0;
	char   c;

	if (key == NULL || key[0] == '\0' || outlen == 0)
		return (-1);
	for (i = 0; key[i] != '\0'; i++) {
		c = key[i];
		if (c == '.' || c == ':') {
			if (o + 2 >= outlen)
				return (-1);
			out[o++] = '_';
			out[o++] = '_';
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '_'))
			return (-1);
		if (o == 0 && c >= '0' && c <= '9')
			return (-1);
		if (o + 1 >= outlen)
			return (-1);
		out[o++] = c;
	}
	out[o] = '\0';
	return (0);
}

void
cfgedit_buf_init(struct cfgedit_buf *b)
{
	memset(b, 0, sizeof(*b));
}

int
cfgedit_buf_add(struct cfgedit_buf *b, const void *p, size_t n)
{
	size_t ncap;
	char  *nd;

	if (b->failed)
		return (-1);
	if (n >= (size_t)-1 / 2 - b->len) {
		b->failed = 1;
		return (-1);
	}
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap == 0 ? 256 : b->cap;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((nd = realloc(b->data, ncap)) == NULL) {
			b->failed = 1;
			return (-1);
		}
		b->data = nd;
		b->cap = ncap;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return (0);
}

int
cfgedit_buf_addc(struct cfgedit_buf *b, int c)
{
	unsigned char ch = (unsigned char)c;

	return (cfgedit_buf_add(b, &ch, 1));
}

void
cfgedit_buf_cleanup(struct cfgedit_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
int
cfgedit_utf8_valid(const unsigned char *s, size_t n)
{
	size_t	 i = 0, k, need;
	uint32_t cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			need = 1;
			cp = s[i] & 0x1f;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			need = 2;
			cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			need = 3;
			cp = s[i] & 0x07;
		} else
			return (0);
		if (n - i <= need)
			return (0);
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return (0);
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return (0);
		i += need + 1;
	}
	return (1);
}

/*
 * One UTF-8 character at s (n bytes left): its length and *cp, or 0 when
 * the bytes are not valid UTF-8.
 */
size_t
cfgedit_utf8_dec(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t	 need, k;
	uint32_t c;

	if (n == 0)
		return (0);
	if (s[0] < 0x80) {
		*cp = s[0];
		return (1);
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 1;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 2;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 3;
		c = s[0] & 0x07;
	} else
		return (0);
	if (n <= need)
		return (0);
	for (k = 1; k <= need; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return (0);
		c = (c << 6) | (s[k] & 0x3f);
	}
	if ((need == 2 && c < 0x800) || (need == 3 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return (0);
	*cp = c;
	return (need + 1);
}

int
cfgedit_utf8_put(struct cfgedit_buf *b, uint32_t c)
{
	unsigned char u[4];
	size_t	      n;

	if (c < 0x80) {
		u[0] = (unsigned char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (unsigned char)(0xc0 | (c >> 6));
		u[1] = (unsigned char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (c >> 12));
		u[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | (c >> 18));
		u[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (c & 0x3f));
		n = 4;
	}
	return (cfgedit_buf_add(b, u, n));
}

/* The 1-based line of byte off (\n, \r\n and a lone \r end lines). */
unsigned
cfgedit_line(const char *s, size_t off)
{
	unsigned line = 1;
	size_t	 i;

	for (i = 0; i < off; i++) {
		if (s[i] == '\n')
			line++;
		else if (s[i] == '\r' && (i + 1 >= off || s[i + 1] != '\n'))
			line++;
	}
	return (line);
}

static int
repl_cmp(const void *a, const void *b)
{
	const struct cfgedit_repl *x = a, *y = b;

	if (x->start != y->start)
		return (x->start < y->start ? -1 : 1);
	if (x->end != y->end)
		return (x->end < y->end ? -1 : 1);
	/* The same node: the later edit sorts last and wins. */
	return (x->edit < y->edit ? -1 : x->edit > y->edit);
}

void
cfgedit_repls_free(struct cfgedit_repl *r, size_t n)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < n; i++)
		free(r[i].data);
	free(r);
}

/*
 * Build the output: the input with every replacement spliced in, in
 * order of position.  Replacements of one node (same span): the last
 * edit wins and the others report its place.  Sorts r.
 */
int
cfgedit_splice(const char *in, size_t inlen, struct cfgedit_repl *r, size_t n,
    struct cfgedit_edit *edits, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	struct cfgedit_buf b;
	size_t		   i, j, pos = 0;

	if (n > 1)
		qsort(r, n, sizeof(*r), repl_cmp);
	for (i = 0; i + 1 < n; i++) {
		if (r[i].start == r[i + 1].start && r[i].end == r[i + 1].end)
			continue;
		if (r[i].end > r[i + 1].start ||
		    (r[i].start == r[i + 1].start && r[i].end != r[i].start)) {
			cfgedit_err(err, errlen, "%s and %s: overlapping nodes",
			    edits[r[i].edit].path, edits[r[i + 1].edit].path);
			return (-1);
		}
	}
	cfgedit_buf_init(&b);
	/* One allocation of the output's size (an upper bound). */
	b.cap = inlen + 1;
	for (i = 0; i < n; i++)
		b.cap += r[i].len;
	if ((b.data = malloc(b.cap)) == NULL)
		goto oom;
	b.data[0] = '\0';
	for (i = 0; i < n; i = j) {
		/* The run of replacements of one node: the last wins. */
		for (j = i + 1;
		     j < n && r[j].start == r[i].start && r[j].end == r[i].end;
		     j++)
			;
		if (cfgedit_buf_add(&b, in + pos, r[j - 1].start - pos) == -1 ||
		    cfgedit_buf_add(&b, r[j - 1].data, r[j - 1].len) == -1)
			goto oom;
		while (i < j) {
			edits[r[i].edit].at =
			    b.len - r[j - 1].len + r[j - 1].at_off;
			edits[r[i].edit].len = r[j - 1].val_len;
			i++;
		}
		pos = r[j - 1].end;
	}
	if (cfgedit_buf_add(&b, in + pos, inlen - pos) == -1)
		goto oom;
	*out = b.data;
	*outlen = b.len;
	return (0);
oom:
	cfgedit_buf_cleanup(&b);
	cfgedit_err(err, errlen, "out of memory");
	return (-1);
}
