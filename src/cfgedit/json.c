/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * JSON (RFC 8259, UTF-8, an optional BOM): one pass builds an index of
 * the values; nodepaths walk it; a scalar's token is replaced by the new
 * value as a string, or as a literal when the old one was a literal and
 * the new one is one too.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgedit/internal.h"

#define JSON_NODES_MAX (1024 * 1024)

enum json_type {
	J_OBJECT = 0,
	J_ARRAY,
	J_STRING,
	J_NUMBER,
	J_TRUE,
	J_FALSE,
	J_NULL
};

struct json_node {
	enum json_type type;
	size_t	       start, end; /* the value's token(s) */
	size_t	       kstart, kend; /* the member name's token, or 0 0 */
	int	       parent, first, last, next;
	size_t	       n; /* children */
};

struct json_doc {
	const char	 *b;
	size_t		  len;
	struct json_node *nd;
	int		  n, cap;
	char		 *err;
	size_t		  errlen;
};

static int doc_err(struct json_doc *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static size_t	   skip_ws(const struct json_doc *, size_t);
static int	   scan_string(struct json_doc *, size_t *);
static size_t	   number_len(const char *, size_t);
static int	   new_node(struct json_doc *, int, size_t, size_t, size_t);
static int	   doc_parse(struct json_doc *);
static int	   hex4(const char *, uint32_t *);
static int	   unescape(const char *, size_t, size_t, struct cfgedit_buf *);
static const char *type_name(enum json_type);
static int	   resolve(struct json_doc *, const char *, int *);
static int	   is_literal(const char *, size_t);
static int	   escape_string(const char *, size_t, struct cfgedit_buf *);

static int
doc_err(struct json_doc *d, size_t off, const char *fmt, ...)
{
	char	msg[CFGEDIT_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfgedit_err(d->err, d->errlen,
	    "file does not parse as JSON: line %u: %s",
	    cfgedit_line(d->b, off > d->len ? d->len : off), msg);
	return (-1);
}

static size_t
skip_ws(const struct json_doc *d, size_t i)
{
	while (i < d->len &&
	    (d->b[i] == ' ' || d->b[i] == '\t' || d->b[i] == '\n' ||
		d->b[i] == '\r'))
		i++;
	return (i);
}

/* A string token at *pos ('"'): *pos after its closing quote. */
static int
scan_string(struct json_doc *d, size_t *pos)
{
	const unsigned char *u = (const unsigned char *)d->b;
	size_t		     i = *pos + 1, k, j;
	uint32_t	     cp;

	while (i < d->len && u[i] != '"') {
		if (u[i] < 0x20)
			return (doc_err(d, i,
			    "control character in a string "
			    "(escape it)"));
		if (u[i] == '\\') {
			if (i + 1 >= d->len)
				break;
			if (strchr("\"\\/bfnrt", u[i + 1]) != NULL &&
			    u[i + 1] != '\0') {
				i += 2;
				continue;
			}
			if (u[i + 1] != 'u')
				return (
				    doc_err(d, i, "bad escape in a string"));
			for (j = 2; j < 6; j++)
				if (i + j >= d->len ||
				    strchr("0123456789abcdefABCDEF",
					u[i + j]) == NULL ||
				    u[i + j] == '\0')
					return (doc_err(d, i,
					    "bad \\u escape in a string"));
			i += 6;
			continue;
		}
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		k = cfgedit_utf8_dec(u + i, d->len - i, &cp);
		if (k == 0)
			return (doc_err(d, i, "a string is not valid UTF-8"));
		i += k;
	}
	if (i >= d->len)
		return (doc_err(d, *pos, "unclosed string"));
	*pos = i + 1;
	return (0);
}

/* The length of a JSON number at s (n bytes), 0 if none. */
static size_t
number_len(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9') {
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	} else
		return (0);
	if (i < n && s[i] == '.') {
		d = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return (0);
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		d = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return (0);
	}
	return (i);
}

static int
new_node(struct json_doc *d, int parent, size_t start, size_t ks, size_t ke)
{
	struct json_node *nn, *p;
	void		 *q;

	if (d->n == d->cap) {
		if (d->cap >= JSON_NODES_MAX)
			return (doc_err(d, start, "more than %d values",
			    JSON_NODES_MAX));
		d->cap = d->cap ? d->cap * 2 : 64;
		if ((q = realloc(d->nd, (size_t)d->cap * sizeof(*d->nd))) ==
		    NULL) {
			cfgedit_err(d->err, d->errlen, "out of memory");
			return (-1);
		}
		d->nd = q;
	}
	nn = &d->nd[d->n];
	memset(nn, 0, sizeof(*nn));
	nn->start = start;
	nn->kstart = ks;
	nn->kend = ke;
	nn->parent = parent;
	nn->first = nn->last = nn->next = -1;
	if (parent >= 0) {
		p = &d->nd[parent];
		if (p->last >= 0)
			d->nd[p->last].next = d->n;
		else
			p->first = d->n;
		p->last = d->n;
		p->n++;
	}
	return (d->n++);
}

static int
doc_parse(struct json_doc *d)
{
	size_t i = 0, ks = 0, ke = 0, k;
	int    cur = -1, nn;
	char   c;

	if (d->len >= 3 && memcmp(d->b, "\xef\xbb\xbf", 3) == 0)
		i = 3;
value:
	i = skip_ws(d, i);
	if (i >= d->len)
		return (doc_err(d, i,
		    cur < 0 ? "no JSON value" : "unexpected end of file"));
	c = d->b[i];
	if (c == '/')
		return (doc_err(d, i, "comments are not allowed in JSON"));
	if ((nn = new_node(d, cur, i, ks, ke)) == -1)
		return (-1);
	ks = ke = 0;
	switch (c) {
	case '{':
		d->nd[nn].type = J_OBJECT;
		i = skip_ws(d, i + 1);
		if (i < d->len && d->b[i] == '}') {
			d->nd[nn].end = ++i;
			goto after;
		}
		cur = nn;
		goto key;
	case '[':
		d->nd[nn].type = J_ARRAY;
		i = skip_ws(d, i + 1);
		if (i < d->len && d->b[i] == ']') {
			d->nd[nn].end = ++i;
			goto after;
		}
		cur = nn;
		goto value;
	case '"':
		d->nd[nn].type = J_STRING;
		if (scan_string(d, &i) == -1)
			return (-1);
		d->nd[nn].end = i;
		goto after;
	case 't':
	case 'f':
	case 'n':
		if (d->len - i >= 4 && memcmp(d->b + i, "true", 4) == 0) {
			d->nd[nn].type = J_TRUE;
			i += 4;
		} else if (d->len - i >= 5 &&
		    memcmp(d->b + i, "false", 5) == 0) {
			d->nd[nn].type = J_FALSE;
			i += 5;
		} else if (d->len - i >= 4 &&
		    memcmp(d->b + i, "null", 4) == 0) {
			d->nd[nn].type = J_NULL;
			i += 4;
		} else
			return (doc_err(d, i, "unexpected '%c'", c));
		d->nd[nn].end = i;
		goto after;
	default:
		if ((k = number_len(d->b + i, d->len - i)) == 0) {
			if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
				return (doc_err(d, i, "unexpected byte 0x%02x",
				    (unsigned char)c));
			return (doc_err(d, i, "unexpected '%c'", c));
		}
		d->nd[nn].type = J_NUMBER;
		i += k;
		d->nd[nn].end = i;
		goto after;
	}
key:
	i = skip_ws(d, i);
	if (i >= d->len || d->b[i] != '"') {
		if (i < d->len && d->b[i] == '/')
			return (
			    doc_err(d, i, "comments are not allowed in JSON"));
		return (doc_err(d, i, "expected a member name in quotes"));
	}
	ks = i;
	if (scan_string(d, &i) == -1)
		return (-1);
	ke = i;
	i = skip_ws(d, i);
	if (i >= d->len || d->b[i] != ':')
		return (doc_err(d, i, "expected ':' after a member name"));
	i++;
	goto value;
after:
	i = skip_ws(d, i);
	if (cur < 0) {
		if (i < d->len)
			return (doc_err(d, i,
			    d->b[i] == '/' ? "comments are not allowed in JSON"
					   : "content after the JSON value"));
		return (0);
	}
	if (i >= d->len)
		return (doc_err(d, d->nd[cur].start, "unclosed %s",
		    d->nd[cur].type == J_OBJECT ? "object" : "array"));
	c = d->b[i];
	if (c == ',') {
		i++;
		if (d->nd[cur].type == J_OBJECT)
			goto key;
		goto value;
	}
	if ((c == '}' && d->nd[cur].type == J_OBJECT) ||
	    (c == ']' && d->nd[cur].type == J_ARRAY)) {
		d->nd[cur].end = ++i;
		cur = d->nd[cur].parent;
		goto after;
	}
	if (c == '/')
		return (doc_err(d, i, "comments are not allowed in JSON"));
	return (doc_err(d, i, "expected ',' or '%c'",
	    d->nd[cur].type == J_OBJECT ? '}' : ']'));
}

static int
hex4(const char *s, uint32_t *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		char c = s[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (uint32_t)(c - 'A' + 10);
		else
			return (-1);
	}
	return (0);
}

/*
 * A checked string token [s, e) (with its quotes) as UTF-8 in out: 0, or
 * -1 for a lone surrogate, or -2 out of memory.
 */
static int
unescape(const char *b, size_t s, size_t e, struct cfgedit_buf *out)
{
	size_t	 i, run;
	uint32_t v, lo;
	char	 c;

	for (i = s + 1; i < e - 1;) {
		run = i;
		while (i < e - 1 && b[i] != '\\')
			i++;
		if (cfgedit_buf_add(out, b + run, i - run) == -1)
			return (-2);
		if (i >= e - 1)
			break;
		c = b[i + 1];
		i += 2;
		switch (c) {
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'u':
			(void)hex4(b + i, &v);
			i += 4;
			if (v >= 0xdc00 && v <= 0xdfff)
				return (-1);
			if (v >= 0xd800 && v <= 0xdbff) {
				if (i + 6 > e - 1 || b[i] != '\\' ||
				    b[i + 1] != 'u' ||
				    hex4(b + i + 2, &lo) == -1 || lo < 0xdc00 ||
				    lo > 0xdfff)
					return (-1);
				v = 0x10000 + ((v - 0xd800) << 10) +
				    (lo - 0xdc00);
				i += 6;
			}
			if (cfgedit_utf8_put(out, v) == -1)
				return (-2);
			continue;
		default:
			break;
		}
		if (cfgedit_buf_addc(out, c) == -1)
			return (-2);
	}
	return (0);
}

static const char *
type_name(enum json_type t)
{
	switch (t) {
	case J_OBJECT:
		return ("an object");
	case J_ARRAY:
		return ("an array");
	case J_STRING:
		return ("a string");
	case J_NUMBER:
		return ("a number");
	case J_TRUE:
	case J_FALSE:
		return ("a boolean");
	case J_NULL:
		return ("null");
	}
	return ("a value");
}

/* Walk a nodepath to a scalar: *node, or -1 with the reason. */
static int
resolve(struct json_doc *d, const char *pathstr, int *node)
{
	struct cfgedit_path *p;
	struct cfgedit_step *st;
	struct cfgedit_buf   key;
	struct json_node    *jn;
	size_t		     k, i;
	int		     cur = 0, c, found, rc = -1, r;

	cfgedit_buf_init(&key);
	if ((p = malloc(sizeof(*p))) == NULL) {
		cfgedit_err(d->err, d->errlen, "out of memory");
		return (-1);
	}
	if (cfgedit_path_parse(CFGEDIT_JSON, pathstr, p, d->err, d->errlen) ==
	    -1)
		goto done;
	for (k = 0; k < p->n; k++) {
		st = &p->steps[k];
		jn = &d->nd[cur];
		if (st->kind == CFGEDIT_STEP_INDEX) {
			if (jn->type != J_ARRAY) {
				if (st->index == 0)
					continue;
				cfgedit_err(d->err, d->errlen,
				    "%s: index [%zu] of %s (not an array)",
				    pathstr, st->index, type_name(jn->type));
				goto done;
			}
			if (st->index >= jn->n) {
				cfgedit_err(d->err, d->errlen,
				    "%s: no element at index %zu (there are "
				    "%zu)",
				    pathstr, st->index, jn->n);
				goto done;
			}
			for (c = jn->first, i = 0; i < st->index; i++)
				c = d->nd[c].next;
			cur = c;
			continue;
		}
		if (jn->type != J_OBJECT) {
			cfgedit_err(d->err, d->errlen,
			    "%s: member \"%.*s\" of %s (not an object)",
			    pathstr, (int)st->name_len, st->name,
			    type_name(jn->type));
			goto done;
		}
		/* The last member of that name wins, as in most readers. */
		found = -1;
		for (c = jn->first; c >= 0; c = d->nd[c].next) {
			struct json_node *m = &d->nd[c];

			if (memchr(d->b + m->kstart, '\\',
				m->kend - m->kstart) == NULL) {
				if (m->kend - m->kstart - 2 == st->name_len &&
				    memcmp(d->b + m->kstart + 1, st->name,
					st->name_len) == 0)
					found = c;
				continue;
			}
			key.len = 0;
			r = unescape(d->b, m->kstart, m->kend, &key);
			if (r == -2) {
				cfgedit_err(d->err, d->errlen, "out of memory");
				goto done;
			}
			if (r == 0 && key.len == st->name_len &&
			    memcmp(key.data, st->name, key.len) == 0)
				found = c;
		}
		if (found < 0) {
			cfgedit_err(d->err, d->errlen, "%s: no member \"%.*s\"",
			    pathstr, (int)st->name_len, st->name);
			goto done;
		}
		cur = found;
	}
	jn = &d->nd[cur];
	if (jn->type == J_OBJECT || jn->type == J_ARRAY) {
		cfgedit_err(d->err, d->errlen,
		    "%s: the node is %s, not a value", pathstr,
		    type_name(jn->type));
		goto done;
	}
	*node = cur;
	rc = 0;
done:
	cfgedit_buf_cleanup(&key);
	free(p);
	return (rc);
}

/* The whole of v is a JSON number, true, false or null. */
static int
is_literal(const char *v, size_t n)
{
	if ((n == 4 && memcmp(v, "true", 4) == 0) ||
	    (n == 5 && memcmp(v, "false", 5) == 0) ||
	    (n == 4 && memcmp(v, "null", 4) == 0))
		return (1);
	return (n > 0 && number_len(v, n) == n);
}

/* v as a JSON string token, non-ASCII kept as UTF-8. */
static int
escape_string(const char *v, size_t n, struct cfgedit_buf *out)
{
	char	      u[8];
	size_t	      i, run;
	unsigned char c;

	if (cfgedit_buf_addc(out, '"') == -1)
		return (-1);
	for (i = 0; i < n;) {
		run = i;
		while (i < n && (unsigned char)v[i] >= 0x20 && v[i] != '"' &&
		    v[i] != '\\')
			i++;
		if (cfgedit_buf_add(out, v + run, i - run) == -1)
			return (-1);
		if (i >= n)
			break;
		c = (unsigned char)v[i++];
		switch (c) {
		case '"':
			(void)snprintf(u, sizeof(u), "\\\"");
			break;
		case '\\':
			(void)snprintf(u, sizeof(u), "\\\\");
			break;
		case '\n':
			(void)snprintf(u, sizeof(u), "\\n");
			break;
		case '\t':
			(void)snprintf(u, sizeof(u), "\\t");
			break;
		case '\r':
			(void)snprintf(u, sizeof(u), "\\r");
			break;
		case '\b':
			(void)snprintf(u, sizeof(u), "\\b");
			break;
		case '\f':
			(void)snprintf(u, sizeof(u), "\\f");
			break;
		default:
			(void)snprintf(u, sizeof(u), "\\u%04x", c);
			break;
		}
		if (cfgedit_buf_add(out, u, strlen(u)) == -1)
			return (-1);
	}
	return (cfgedit_buf_addc(out, '"'));
}

int
cfgedit_json_apply(const char *in, size_t inlen, struct cfgedit_edit *edits,
    size_t n, char **out, size_t *outlen, char *err, size_t errlen)
{
	struct json_doc	     d;
	struct json_node    *jn;
	struct cfgedit_repl *r = NULL;
	struct cfgedit_buf   b;
	size_t		     i, nr = 0;
	int		     node, rc = -1, lit;

	memset(&d, 0, sizeof(d));
	d.b = in;
	d.len = inlen;
	d.err = err;
	d.errlen = errlen;
	cfgedit_buf_init(&b);
	if (doc_parse(&d) == -1)
		goto done;
	if (n > 0 && (r = calloc(n, sizeof(*r))) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		if (resolve(&d, edits[i].path, &node) == -1)
			goto done;
		if (!cfgedit_utf8_valid((const unsigned char *)edits[i].value,
			edits[i].value_len)) {
			cfgedit_err(err, errlen,
			    "value for %s is not valid UTF-8", edits[i].path);
			goto done;
		}
		jn = &d.nd[node];
		lit = jn->type != J_STRING &&
		    is_literal(edits[i].value, edits[i].value_len);
		cfgedit_buf_init(&b);
		if (lit) {
			if (cfgedit_buf_add(&b, edits[i].value,
				edits[i].value_len) == -1)
				goto oom;
			r[nr].at_off = 0;
			r[nr].val_len = b.len;
		} else {
			if (escape_string(edits[i].value, edits[i].value_len,
				&b) == -1)
				goto oom;
			r[nr].at_off = 1;
			r[nr].val_len = b.len - 2;
		}
		r[nr].start = jn->start;
		r[nr].end = jn->end;
		r[nr].data = b.data;
		r[nr].len = b.len;
		r[nr].edit = i;
		cfgedit_buf_init(&b);
		nr++;
	}
	rc = cfgedit_splice(in, inlen, r, nr, edits, out, outlen, err, errlen);
	goto done;
oom:
	cfgedit_err(err, errlen, "out of memory");
done:
	cfgedit_buf_cleanup(&b);
	cfgedit_repls_free(r, nr);
	free(d.nd);
	return (rc);
}

int
cfgedit_json_get(const char *in, size_t inlen, const char *path, char **val,
    size_t *vlen, char *err, size_t errlen)
{
	struct json_doc	   d;
	struct json_node  *jn;
	struct cfgedit_buf b;
	int		   node, rc = -1, r;

	memset(&d, 0, sizeof(d));
	d.b = in;
	d.len = inlen;
	d.err = err;
	d.errlen = errlen;
	cfgedit_buf_init(&b);
	if (doc_parse(&d) == -1 || resolve(&d, path, &node) == -1)
		goto done;
	jn = &d.nd[node];
	if (jn->type == J_STRING) {
		r = unescape(in, jn->start, jn->end, &b);
		if (r == -1) {
			cfgedit_err(err, errlen,
			    "%s: the string holds a lone surrogate escape",
			    path);
			goto done;
		}
	} else
		r = cfgedit_buf_add(&b, in + jn->start, jn->end - jn->start);
	if (r != 0 || cfgedit_buf_add(&b, "", 0) == -1) {
		cfgedit_err(err, errlen, "out of memory");
		goto done;
	}
	*val = b.data;
	*vlen = b.len;
	cfgedit_buf_init(&b);
	rc = 0;
done:
	cfgedit_buf_cleanup(&b);
	free(d.nd);
	return (rc);
}
