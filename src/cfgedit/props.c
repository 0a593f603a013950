/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * .properties files by java.util.Properties' rules: the logical lines
 * (continuations, comments), key and value, their escapes; reading,
 * writing, and splicing one key's value in place.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgedit/internal.h"

/* A logical line: raw bytes [start, end), the line number of start. */
struct pline {
	size_t	 start, end;
	unsigned line;
};

/* A logical line's bytes (continuations removed), each one's raw offset. */
struct plogic {
	char   *b;
	size_t *map;
	size_t	len, cap;
	size_t	key_len; /* the key's bytes: [0, key_len) */
	size_t	value_start; /* the value's bytes: [value_start, len) */
};

struct pscan {
	const char *b;
	size_t	    len, pos;
	unsigned    line;
};

static int  is_blank(int);
static int  next_line(struct pscan *, struct pline *);
static int  logicalize(struct pscan *, const struct pline *, struct plogic *);
static void plogic_free(struct plogic *);
static int  convert(const char *, size_t, struct cfgedit_buf *);
static int  escape(const char *, size_t, int, int, struct cfgedit_buf *);
static int  put_u(struct cfgedit_buf *, uint32_t);
static int  find_keys(struct pscan *, const char *const *, size_t,
     struct pline *, char *, struct plogic *, char *, size_t);
static void scan_init(struct pscan *, const char *, size_t);
static uint64_t hash(const char *, size_t);

static int
is_blank(int c)
{
	return (c == ' ' || c == '\t' || c == '\f');
}

/* The next logical line that is not blank or a comment: 1, or 0 at EOF. */
static int
next_line(struct pscan *s, struct pline *l)
{
	const char *b = s->b;
	size_t	    i = s->pos, bs;

	for (;;) {
		while (i < s->len &&
		    (is_blank(b[i]) || b[i] == '\r' || b[i] == '\n')) {
			if (b[i] == '\n' ||
			    (b[i] == '\r' &&
				(i + 1 >= s->len || b[i + 1] != '\n')))
				s->line++;
			i++;
		}
		if (i >= s->len) {
			s->pos = i;
			return (0);
		}
		if (b[i] != '#' && b[i] != '!')
			break;
		while (i < s->len && b[i] != '\r' && b[i] != '\n')
			i++;
	}
	l->start = i;
	l->line = s->line;
	bs = 0;
	while (i < s->len) {
		if (b[i] == '\r' || b[i] == '\n') {
			if (bs % 2 == 0)
				break;
			/* A continuation: the next line's blanks go too. */
			if (b[i] == '\r' && i + 1 < s->len && b[i + 1] == '\n')
				i++;
			i++;
			s->line++;
			while (i < s->len && is_blank(b[i]))
				i++;
			bs = 0;
			continue;
		}
		bs = b[i] == '\\' ? bs + 1 : 0;
		i++;
	}
	l->end = i;
	s->pos = i;
	return (1);
}

/* The logical bytes of l, and where its key and value lie (Java's load0). */
static int
logicalize(struct pscan *s, const struct pline *l, struct plogic *g)
{
	const char *b = s->b;
	size_t	    i, bs = 0, k, v;
	int	    sep = 0, prev = 0;
	void	   *p;

	g->len = 0;
	if (l->end - l->start + 1 > g->cap) {
		g->cap = l->end - l->start + 64;
		if ((p = realloc(g->b, g->cap)) == NULL)
			return (-1);
		g->b = p;
		if ((p = realloc(g->map, g->cap * sizeof(size_t))) == NULL)
			return (-1);
		g->map = p;
	}
	for (i = l->start; i < l->end;) {
		if (b[i] == '\r' || b[i] == '\n') {
			g->len--; /* the continuation's backslash */
			if (b[i] == '\r' && i + 1 < l->end && b[i + 1] == '\n')
				i++;
			i++;
			while (i < l->end && is_blank(b[i]))
				i++;
			bs = 0;
			continue;
		}
		bs = b[i] == '\\' ? bs + 1 : 0;
		g->map[g->len] = i;
		g->b[g->len++] = b[i++];
	}
	/*
	 * A lone backslash at the end of the file is dropped (the value's
	 * raw bytes then start no later than at it).
	 */
	if (bs % 2 == 1)
		g->len--;
	else
		g->map[g->len] = l->end;
	for (k = 0; k < g->len; k++) {
		char c = g->b[k];

		if ((c == '=' || c == ':') && !prev) {
			sep = 1;
			break;
		}
		if (is_blank(c) && !prev)
			break;
		prev = c == '\\' ? !prev : 0;
	}
	g->key_len = k;
	v = k < g->len ? k + 1 : k;
	while (v < g->len) {
		char c = g->b[v];

		if (!is_blank(c)) {
			if (!sep && (c == '=' || c == ':'))
				sep = 1;
			else
				break;
		}
		v++;
	}
	g->value_start = v;
	return (0);
}

static void
plogic_free(struct plogic *g)
{
	free(g->b);
	free(g->map);
	memset(g, 0, sizeof(*g));
}

/*
 * Java's loadConvert on logical bytes, to UTF-8 in out: 0, -1 for a
 * malformed \uxxxx or a lone surrogate, -2 out of memory.  A key or a
 * value whose bytes are not UTF-8 is taken as Latin-1 (each on its own,
 * so that an edit elsewhere never changes how a key reads).
 */
static int
convert(const char *p, size_t n, struct cfgedit_buf *out)
{
	size_t	 i, j;
	uint32_t v, lo;
	char	 c;
	int	 latin1;

	latin1 = !cfgedit_utf8_valid((const unsigned char *)p, n);

	for (i = 0; i < n;) {
		c = p[i++];
		if (c != '\\') {
			if (latin1 && (unsigned char)c >= 0x80) {
				if (cfgedit_utf8_put(out, (unsigned char)c) ==
				    -1)
					return (-2);
			} else if (cfgedit_buf_addc(out, c) == -1)
				return (-2);
			continue;
		}
		if (i >= n)
			break;
		c = p[i++];
		switch (c) {
		case 't':
			c = '\t';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 'f':
			c = '\f';
			break;
		case 'u':
			v = 0;
			for (j = 0; j < 4; j++) {
				if (i >= n)
					return (-1);
				c = p[i++];
				v <<= 4;
				if (c >= '0' && c <= '9')
					v |= (uint32_t)(c - '0');
				else if (c >= 'a' && c <= 'f')
					v |= (uint32_t)(c - 'a' + 10);
				else if (c >= 'A' && c <= 'F')
					v |= (uint32_t)(c - 'A' + 10);
				else
					return (-1);
			}
			if (v >= 0xdc00 && v <= 0xdfff)
				return (-1);
			if (v >= 0xd800 && v <= 0xdbff) {
				lo = 0;
				if (n - i < 6 || p[i] != '\\' ||
				    p[i + 1] != 'u')
					return (-1);
				for (j = 2; j < 6; j++) {
					c = p[i + j];
					lo <<= 4;
					if (c >= '0' && c <= '9')
						lo |= (uint32_t)(c - '0');
					else if (c >= 'a' && c <= 'f')
						lo |= (uint32_t)(c - 'a' + 10);
					else if (c >= 'A' && c <= 'F')
						lo |= (uint32_t)(c - 'A' + 10);
					else
						return (-1);
				}
				if (lo < 0xdc00 || lo > 0xdfff)
					return (-1);
				v = 0x10000 + ((v - 0xd800) << 10) +
				    (lo - 0xdc00);
				i += 6;
			}
			if (cfgedit_utf8_put(out, v) == -1)
				return (-2);
			continue;
		default:
			if (latin1 && (unsigned char)c >= 0x80) {
				if (cfgedit_utf8_put(out, (unsigned char)c) ==
				    -1)
					return (-2);
				continue;
			}
			break;
		}
		if (cfgedit_buf_addc(out, c) == -1)
			return (-2);
	}
	return (0);
}

static int
put_u(struct cfgedit_buf *b, uint32_t u)
{
	char h[16];

	(void)snprintf(h, sizeof(h), "\\u%04X", (unsigned)(u & 0xffff));
	return (cfgedit_buf_add(b, h, 6));
}

/*
 * Java's saveConvert: s (UTF-8; bytes that are not are taken as Latin-1)
 * as ASCII.  key: every space escaped, else only a leading one.  '=',
 * ':', '#' and '!' always (a value after a blank separator must not
 * start with a separator).
 */
static int
escape(const char *s, size_t n, int key, int strict, struct cfgedit_buf *out)
{
	size_t	 i, k;
	uint32_t cp;
	int	 r;

	for (i = 0; i < n; i += k) {
		k = cfgedit_utf8_dec((const unsigned char *)s + i, n - i, &cp);
		if (k == 0) {
			if (strict)
				return (1);
			cp = (unsigned char)s[i];
			k = 1;
		}
		switch (cp) {
		case '\\':
			r = cfgedit_buf_add(out, "\\\\", 2);
			break;
		case ' ':
			if (key || i == 0)
				r = cfgedit_buf_add(out, "\\ ", 2);
			else
				r = cfgedit_buf_addc(out, ' ');
			break;
		case '\t':
			r = cfgedit_buf_add(out, "\\t", 2);
			break;
		case '\n':
			r = cfgedit_buf_add(out, "\\n", 2);
			break;
		case '\r':
			r = cfgedit_buf_add(out, "\\r", 2);
			break;
		case '\f':
			r = cfgedit_buf_add(out, "\\f", 2);
			break;
		case '=':
		case ':':
		case '#':
		case '!':
			r = cfgedit_buf_addc(out, '\\');
			if (r == 0)
				r = cfgedit_buf_addc(out, (int)cp);
			break;
		default:
			if (cp >= 0x20 && cp < 0x7f)
				r = cfgedit_buf_addc(out, (int)cp);
			else if (cp < 0x10000)
				r = put_u(out, cp);
			else {
				cp -= 0x10000;
				r = put_u(out, 0xd800 + (cp >> 10));
				if (r == 0)
					r = put_u(out, 0xdc00 + (cp & 0x3ff));
			}
			break;
		}
		if (r == -1)
			return (-1);
	}
	return (0);
}

/*
 * One pass: for each of the n paths, the last logical line whose key it
 * is (found[j], has[j] set).  0, or -1 with err.
 */
static int
find_keys(struct pscan *s, const char *const *paths, size_t n,
    struct pline *found, char *has, struct plogic *g, char *err, size_t errlen)
{
	struct cfgedit_buf k;
	struct pline	   l;
	uint64_t	  *ph = NULL, h;
	size_t		  *pl = NULL, j;
	int		   r, rc = -1;

	cfgedit_buf_init(&k);
	if ((ph = calloc(n + 1, sizeof(*ph))) == NULL ||
	    (pl = calloc(n + 1, sizeof(*pl))) == NULL)
		goto oom;
	for (j = 0; j < n; j++) {
		pl[j] = strlen(paths[j]);
		ph[j] = hash(paths[j], pl[j]);
		has[j] = 0;
	}
	while (next_line(s, &l)) {
		if (logicalize(s, &l, g) == -1)
			goto oom;
		k.len = 0;
		r = convert(g->b, g->key_len, &k);
		if (r == -2)
			goto oom;
		if (r == -1) {
			cfgedit_err(err, errlen,
			    "file does not parse as .properties: line %u: "
			    "malformed \\uxxxx escape in a key",
			    l.line);
			goto done;
		}
		h = hash(k.data == NULL ? "" : k.data, k.len);
		for (j = 0; j < n; j++)
			if (ph[j] == h && pl[j] == k.len &&
			    memcmp(k.data, paths[j], k.len) == 0) {
				found[j] = l;
				has[j] = 1;
			}
	}
	rc = 0;
	goto done;
oom:
	cfgedit_err(err, errlen, "out of memory");
done:
	free(ph);
	free(pl);
	cfgedit_buf_cleanup(&k);
	return (rc);
}

static void
scan_init(struct pscan *s, const char *in, size_t inlen)
{
	memset(s, 0, sizeof(*s));
	s->b = in;
	s->len = inlen;
	s->line = 1;
}

int
cfgedit_props_apply(const char *in, size_t inlen, struct cfgedit_edit *edits,
    size_t n, char **out, size_t *outlen, char *err, size_t errlen)
{
	struct pscan	     s;
	struct pline	     l;
	struct plogic	     g;
	struct cfgedit_repl *r = NULL;
	struct cfgedit_buf   b;
	struct pline	    *lines = NULL;
	const char	   **paths = NULL;
	char		    *has = NULL;
	size_t		     i, nr = 0, vs;
	int		     rc = -1, f;

	memset(&g, 0, sizeof(g));
	cfgedit_buf_init(&b);
	if (n > 0 &&
	    ((r = calloc(n, sizeof(*r))) == NULL ||
		(lines = calloc(n, sizeof(*lines))) == NULL ||
		(has = calloc(n, 1)) == NULL ||
		(paths = calloc(n, sizeof(*paths))) == NULL))
		goto oom;
	for (i = 0; i < n; i++)
		paths[i] = edits[i].path;
	scan_init(&s, in, inlen);
	if (find_keys(&s, paths, n, lines, has, &g, err, errlen) == -1)
		goto done;
	for (i = 0; i < n; i++) {
		if (!has[i]) {
			cfgedit_err(err, errlen, "%s: no such key",
			    edits[i].path);
			goto done;
		}
		l = lines[i];
		if (logicalize(&s, &l, &g) == -1)
			goto oom;
		vs = g.map[g.value_start];
		cfgedit_buf_init(&b);
		/* "key" alone: a separator before a value. */
		if (g.value_start == g.key_len && edits[i].value_len > 0 &&
		    cfgedit_buf_addc(&b, '=') == -1)
			goto oom;
		r[nr].at_off = b.len;
		f = escape(edits[i].value, edits[i].value_len, 0, 1, &b);
		if (f == -1)
			goto oom;
		if (f == 1) {
			cfgedit_err(err, errlen,
			    "value for %s is not valid UTF-8", edits[i].path);
			goto done;
		}
		r[nr].val_len = b.len - r[nr].at_off;
		r[nr].start = vs;
		r[nr].end = l.end;
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
	plogic_free(&g);
	free(lines);
	free(has);
	free(paths);
	return (rc);
}

int
cfgedit_props_get(const char *in, size_t inlen, const char *path, char **val,
    size_t *vlen, char *err, size_t errlen)
{
	struct pscan	   s;
	struct pline	   l;
	struct plogic	   g;
	struct cfgedit_buf b;
	int		   rc = -1, f;
	char		   has;

	memset(&g, 0, sizeof(g));
	cfgedit_buf_init(&b);
	scan_init(&s, in, inlen);
	if (find_keys(&s, &path, 1, &l, &has, &g, err, errlen) == -1)
		goto done;
	if (!has) {
		cfgedit_err(err, errlen, "%s: no such key", path);
		goto done;
	}
	if (logicalize(&s, &l, &g) == -1)
		goto oom;
	f = convert(g.b + g.value_start, g.len - g.value_start, &b);
	if (f == -2 || cfgedit_buf_add(&b, "", 0) == -1)
		goto oom;
	if (f == -1) {
		cfgedit_err(err, errlen,
		    "file does not parse as .properties: line %u: malformed "
		    "\\uxxxx escape",
		    l.line);
		goto done;
	}
	*val = b.data;
	*vlen = b.len;
	cfgedit_buf_init(&b);
	rc = 0;
	goto done;
oom:
	cfgedit_err(err, errlen, "out of memory");
done:
	cfgedit_buf_cleanup(&b);
	plogic_free(&g);
	return (rc);
}

static uint64_t
hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t	 i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return (h);
}

int
cfgedit_props_parse(const char *in, size_t inlen, struct cfgedit_prop **props,
    size_t *np, char *err, size_t errlen)
{
	struct pscan	     s;
	struct pline	     l;
	struct plogic	     g;
	struct cfgedit_buf   k, v;
	struct cfgedit_prop *p = NULL, *e;
	size_t		     n = 0, cap = 0, *tab = NULL, tcap = 0, h, i;
	int		     rc = -1, r1, r2;
	void		    *q;

	memset(&g, 0, sizeof(g));
	cfgedit_buf_init(&k);
	cfgedit_buf_init(&v);
	scan_init(&s, in, inlen);
	while (next_line(&s, &l)) {
		if (logicalize(&s, &l, &g) == -1)
			goto oom;
		k.len = v.len = 0;
		r1 = convert(g.b, g.key_len, &k);
		r2 = convert(g.b + g.value_start, g.len - g.value_start, &v);
		if (r1 == -2 || r2 == -2 || cfgedit_buf_add(&k, "", 0) == -1 ||
		    cfgedit_buf_add(&v, "", 0) == -1)
			goto oom;
		if (r1 == -1 || r2 == -1) {
			cfgedit_err(err, errlen,
			    "line %u: malformed \\uxxxx escape (or half of a "
			    "surrogate pair)",
			    l.line);
			goto done;
		}
		if (memchr(k.data, '\0', k.len) != NULL ||
		    memchr(v.data, '\0', v.len) != NULL) {
			cfgedit_err(err, errlen, "line %u: a NUL character",
			    l.line);
			goto done;
		}
		/* A key seen before: the later line wins, in its place. */
		if (n * 2 >= tcap) {
			size_t ncap = tcap ? tcap * 2 : 64;

			if ((q = calloc(ncap, sizeof(*tab))) == NULL)
				goto oom;
			free(tab);
			tab = q;
			tcap = ncap;
			for (i = 0; i < n; i++) {
				h = hash(p[i].key, p[i].key_len) & (tcap - 1);
				while (tab[h] != 0)
					h = (h + 1) & (tcap - 1);
				tab[h] = i + 1;
			}
		}
		h = hash(k.data, k.len) & (tcap - 1);
		e = NULL;
		while (tab[h] != 0) {
			e = &p[tab[h] - 1];
			if (e->key_len == k.len &&
			    memcmp(e->key, k.data, k.len) == 0)
				break;
			e = NULL;
			h = (h + 1) & (tcap - 1);
		}
		if (e != NULL) {
			free(e->value);
			e->value = v.data;
			e->value_len = v.len;
			e->line = (int)l.line;
			cfgedit_buf_init(&v);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((q = realloc(p, cap * sizeof(*p))) == NULL)
				goto oom;
			p = q;
		}
		p[n].key = k.data;
		p[n].key_len = k.len;
		p[n].value = v.data;
		p[n].value_len = v.len;
		p[n].line = (int)l.line;
		tab[h] = n + 1;
		n++;
		cfgedit_buf_init(&k);
		cfgedit_buf_init(&v);
	}
	*props = p;
	*np = n;
	p = NULL;
	n = 0;
	rc = 0;
	goto done;
oom:
	cfgedit_err(err, errlen, "out of memory");
done:
	cfgedit_props_free(p, n);
	free(tab);
	cfgedit_buf_cleanup(&k);
	cfgedit_buf_cleanup(&v);
	plogic_free(&g);
	return (rc);
}

void
cfgedit_props_free(struct cfgedit_prop *p, size_t n)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(p[i].key);
		free(p[i].value);
	}
	free(p);
}

int
cfgedit_props_write(const struct cfgedit_prop *p, size_t n, const char *header,
    char **out, size_t *outlen)
{
	struct cfgedit_buf b;
	const char	  *h, *e;
	size_t		   i;

	cfgedit_buf_init(&b);
	for (h = header; h != NULL && *h != '\0'; h = e) {
		e = h + strcspn(h, "\r\n");
		if (cfgedit_buf_addc(&b, '#') == -1 ||
		    (e > h && cfgedit_buf_addc(&b, ' ') == -1))
			goto fail;
		/* Keep the comment ASCII, as the rest of the file. */
		for (; h < e; h++) {
			if ((unsigned char)*h < 0x80) {
				if (cfgedit_buf_addc(&b, *h) == -1)
					goto fail;
			} else {
				size_t	 k;
				uint32_t cp;

				k = cfgedit_utf8_dec((const unsigned char *)h,
				    (size_t)(e - h), &cp);
				if (k == 0)
					k = 1;
				if (escape(h, k, 0, 0, &b) == -1)
					goto fail;
				h += k - 1;
			}
		}
		if (cfgedit_buf_addc(&b, '\n') == -1)
			goto fail;
		if (*e == '\r' && e[1] == '\n')
			e++;
		if (*e != '\0')
			e++;
	}
	for (i = 0; i < n; i++) {
		if (p[i].key == NULL || p[i].value == NULL ||
		    memchr(p[i].key, '\0', p[i].key_len) != NULL ||
		    memchr(p[i].value, '\0', p[i].value_len) != NULL)
			goto fail;
		if (escape(p[i].key, p[i].key_len, 1, 0, &b) == -1 ||
		    cfgedit_buf_addc(&b, '=') == -1 ||
		    escape(p[i].value, p[i].value_len, 0, 0, &b) == -1 ||
		    cfgedit_buf_addc(&b, '\n') == -1)
			goto fail;
	}
	if (cfgedit_buf_add(&b, "", 0) == -1)
		goto fail;
	*out = b.data;
	*outlen = b.len;
	return (0);
fail:
	cfgedit_buf_cleanup(&b);
	return (-1);
}
