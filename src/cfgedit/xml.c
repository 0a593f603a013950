/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * XML: one pass over the file's own bytes (in its charset) builds an
 * index of its elements; nodepaths walk the index; values are escaped
 * for text or attribute, converted to the charset (characters it cannot
 * hold as &#x...; references) and spliced in.
 */

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfgedit/internal.h"

#define XML_ELEMENTS_MAX (1024 * 1024)

enum xml_mb {
	MB_NONE = 0, /* one byte per character, or UTF-8 */
	MB_GBK, /* GBK, GB2312, GB18030: 2 or 4 bytes after 0x81-0xfe */
	MB_BIG5, /* 2 bytes after 0x81-0xfe */
	MB_SJIS /* 2 bytes after 0x81-0x9f, 0xe0-0xfc */
};

struct xml_cs {
	int	    utf8; /* UTF-8: no conversion */
	int	    ascii; /* US-ASCII: anything else as a reference */
	enum xml_mb mb;
	char	    name[64];
	iconv_t	    to, from; /* UTF-8 -> charset, charset -> UTF-8 */
};

struct xml_el {
	size_t name, name_len;
	size_t stag; /* '<' */
	size_t stag_end; /* after '>' */
	size_t slash; /* empty element: the '/' of "/>" */
	size_t cstart; /* content: [cstart, cend) */
	size_t cend; /* the "</" */
	int    empty; /* <a/> */
	int    parent; /* -1: the root */
	int    first, next; /* child elements, -1: none */
	int    last;
	int    nchildren;
};

struct xml_doc {
	const char    *b;
	size_t	       len;
	size_t	       body; /* after a BOM */
	struct xml_cs  cs;
	struct xml_el *el;
	int	       nel, cap;
	char	      *err;
	size_t	       errlen;
};

struct xml_attr {
	size_t name, name_len;
	size_t vstart, vend;
	int    quote;
};

static int doc_err(struct xml_doc *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static size_t adv(const struct xml_doc *, size_t);
static int    is_ws(int);
static int    ascii_only(const char *, size_t);
static int    is_name_end(int);
static int    cs_setup(struct xml_doc *);
static void   cs_cleanup(struct xml_cs *);
static int    skip_to(struct xml_doc *, size_t *, const char *, const char *);
static int    check_ref(struct xml_doc *, size_t *);
static int    next_attr(struct xml_doc *, size_t *, struct xml_attr *, int *);
static int    start_tag(struct xml_doc *, size_t *, int);
static int    skip_doctype(struct xml_doc *, size_t *);
static int    doc_parse(struct xml_doc *);
static void   doc_cleanup(struct xml_doc *);
static int    to_cs(struct xml_doc *, const char *, size_t, int,
       struct cfgedit_buf *);
static int    from_cs(struct xml_doc *, const char *, size_t,
       struct cfgedit_buf *);
static int    resolve(struct xml_doc *, const char *, int *, struct xml_attr *,
       int *);
static int    escape_value(struct xml_doc *, const char *, const char *, size_t,
       int, struct cfgedit_buf *);
static int    unescape(struct xml_doc *, size_t, size_t, int,
       struct cfgedit_buf *);

static int
doc_err(struct xml_doc *d, size_t off, const char *fmt, ...)
{
	char	msg[CFGEDIT_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfgedit_err(d->err, d->errlen,
	    "file does not parse as XML: line %u: %s",
	    cfgedit_line(d->b, off > d->len ? d->len : off), msg);
	return (-1);
}

static int
is_ws(int c)
{
	return (c == ' ' || c == '\t' || c == '\n' || c == '\r');
}

static int
ascii_only(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return (0);
	return (1);
}

static int
is_name_end(int c)
{
	return (is_ws(c) || c == '/' || c == '>' || c == '=' || c == '<' ||
	    c == '"' || c == '\'' || c == '?');
}

/* The offset after the character at i (a multibyte charset's pairs). */
static size_t
adv(const struct xml_doc *d, size_t i)
{
	const unsigned char *u = (const unsigned char *)d->b;
	size_t		     left = d->len - i;

	if (u[i] < 0x80 || d->cs.mb == MB_NONE || left < 2)
		return (i + 1);
	switch (d->cs.mb) {
	case MB_GBK:
		if (u[i] > 0xfe)
			return (i + 1);
		if (u[i + 1] >= 0x30 && u[i + 1] <= 0x39 && left >= 4)
			return (i + 4);
		return (i + 2);
	case MB_BIG5:
		return (u[i] <= 0xfe ? i + 2 : i + 1);
	case MB_SJIS:
		if ((u[i] >= 0x81 && u[i] <= 0x9f) ||
		    (u[i] >= 0xe0 && u[i] <= 0xfc))
			return (i + 2);
		return (i + 1);
	case MB_NONE:
		break;
	}
	return (i + 1);
}

/*
 * gcc -fanalyzer (12) takes iconv_open()'s (iconv_t)-1 for an allocation
 * that leaks (as src/settings.c says): cs_setup() and cs_cleanup() are
 * outside that check.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
/*
 * The charset: a UTF-8 BOM, or the declaration's encoding, or UTF-8.
 * Only charsets that keep ASCII as ASCII are taken.
 */
static int
cs_setup(struct xml_doc *d)
{
	static const char *gbk[] = { "GBK", "GB2312", "GB18030", "CP936",
		"WINDOWS-936", "X-GBK", "EUC-CN", "CSGB2312", NULL };
	static const char *big5[] = { "BIG5", "BIG5-HKSCS", "CP950", "BIG-5",
		NULL };
	static const char *sjis[] = { "SHIFT_JIS", "SHIFT-JIS", "SJIS", "CP932",
		"WINDOWS-31J", "MS_KANJI", "MS932", NULL };
	static const char  probe[] = "\t\n\r <>&;#'\"=/?![]-:._azAZ09";
	const unsigned char *u = (const unsigned char *)d->b;
	struct xml_cs	    *cs = &d->cs;
	const char	    *p, *e, *end;
	char		     q, pb[64], *ip, *op;
	size_t		     n, il, ol;
	int		     i;

	memset(cs, 0, sizeof(*cs));
	cs->to = cs->from = (iconv_t)-1;
	d->body = 0;
	if (d->len >= 2 &&
	    ((u[0] == 0xfe && u[1] == 0xff) ||
		(u[0] == 0xff && u[1] == 0xfe))) {
		cfgedit_err(d->err, d->errlen,
		    "UTF-16 XML files are not supported");
		return (-1);
	}
	if (d->len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) {
		d->body = 3;
		cs->utf8 = 1;
		(void)snprintf(cs->name, sizeof(cs->name), "UTF-8");
	}
	p = d->b + d->body;
	end = d->b + d->len;
	if (end - p >= 6 && memcmp(p, "<?xml", 5) == 0 && is_ws(p[5])) {
		e = memmem(p, (size_t)(end - p), "?>", 2);
		if (e == NULL)
			return (
			    doc_err(d, d->body, "unclosed XML declaration"));
		p = memmem(p, (size_t)(e - p), "encoding", 8);
		if (p != NULL) {
			p += 8;
			while (p < e && is_ws(*p))
				p++;
			if (p < e && *p == '=')
				p++;
			while (p < e && is_ws(*p))
				p++;
			if (p >= e || (*p != '"' && *p != '\''))
				return (doc_err(d, d->body,
				    "bad encoding in the XML declaration"));
			q = *p++;
			for (n = 0; p + n < e && p[n] != q; n++)
				;
			if (p + n >= e || n == 0 || n >= sizeof(cs->name))
				return (doc_err(d, d->body,
				    "bad encoding in the XML declaration"));
			if (cs->utf8 &&
			    !(n == 5 && strncasecmp(p, "UTF-8", 5) == 0) &&
			    !(n == 4 && strncasecmp(p, "UTF8", 4) == 0)) {
				cfgedit_err(d->err, d->errlen,
				    "the file has a UTF-8 BOM but declares "
				    "encoding \"%.*s\"",
				    (int)n, p);
				return (-1);
			}
			memcpy(cs->name, p, n);
			cs->name[n] = '\0';
		}
	}
	if (cs->name[0] == '\0' || strcasecmp(cs->name, "UTF-8") == 0 ||
	    strcasecmp(cs->name, "UTF8") == 0) {
		cs->utf8 = 1;
		(void)snprintf(cs->name, sizeof(cs->name), "UTF-8");
		return (0);
	}
	if (strcasecmp(cs->name, "US-ASCII") == 0 ||
	    strcasecmp(cs->name, "ASCII") == 0) {
		cs->ascii = 1;
		return (0);
	}
	if (strncasecmp(cs->name, "UTF-16", 6) == 0 ||
	    strncasecmp(cs->name, "UTF-32", 6) == 0 ||
	    strncasecmp(cs->name, "UCS-", 4) == 0 ||
	    strncasecmp(cs->name, "UTF-7", 5) == 0 ||
	    strncasecmp(cs->name, "ISO-2022", 8) == 0 ||
	    strncasecmp(cs->name, "CSISO2022", 9) == 0 ||
	    strncasecmp(cs->name, "HZ", 2) == 0) {
		cfgedit_err(d->err, d->errlen,
		    "XML files in %s are not supported", cs->name);
		return (-1);
	}
	for (i = 0; gbk[i] != NULL; i++)
		if (strcasecmp(cs->name, gbk[i]) == 0)
			cs->mb = MB_GBK;
	for (i = 0; big5[i] != NULL; i++)
		if (strcasecmp(cs->name, big5[i]) == 0)
			cs->mb = MB_BIG5;
	for (i = 0; sjis[i] != NULL; i++)
		if (strcasecmp(cs->name, sjis[i]) == 0)
			cs->mb = MB_SJIS;
	cs->to = iconv_open(cs->name, "UTF-8");
	cs->from = iconv_open("UTF-8", cs->name);
	if (cs->to == (iconv_t)-1 || cs->from == (iconv_t)-1) {
		cs_cleanup(cs);
		cfgedit_err(d->err, d->errlen, "unknown encoding \"%s\"",
		    cs->name);
		return (-1);
	}
	/* The markup must read the same in the charset (no EBCDIC). */
	ip = (char *)(uintptr_t)probe;
	il = sizeof(probe) - 1;
	op = pb;
	ol = sizeof(pb);
	if (iconv(cs->to, &ip, &il, &op, &ol) == (size_t)-1 ||
	    (size_t)(op - pb) != sizeof(probe) - 1 ||
	    memcmp(pb, probe, sizeof(probe) - 1) != 0) {
		cs_cleanup(cs);
		cfgedit_err(d->err, d->errlen,
		    "XML files in %s are not supported", cs->name);
		return (-1);
	}
	return (0);
}

static void
cs_cleanup(struct xml_cs *cs)
{
	if (cs->to != (iconv_t)-1)
		iconv_close(cs->to);
	if (cs->from != (iconv_t)-1)
		iconv_close(cs->from);
	cs->to = cs->from = (iconv_t)-1;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/* Move *pos past the terminator term; what says what was left open. */
static int
skip_to(struct xml_doc *d, size_t *pos, const char *term, const char *what)
{
	size_t	    i = *pos, tl = strlen(term);
	const char *p;

	/*
	 * Bytes below 0x40 are never the second byte of a double-byte
	 * character: such terminators can be searched for directly.
	 */
	if (d->cs.mb == MB_NONE || (unsigned char)term[0] < 0x40) {
		p = memmem(d->b + i, d->len - i, term, tl);
		if (p == NULL)
			return (doc_err(d, *pos, "unclosed %s", what));
		*pos = (size_t)(p - d->b) + tl;
		return (0);
	}
	while (i < d->len) {
		if (d->b[i] == term[0] && d->len - i >= tl &&
		    memcmp(d->b + i, term, tl) == 0) {
			*pos = i + tl;
			return (0);
		}
		i = adv(d, i);
	}
	return (doc_err(d, *pos, "unclosed %s", what));
}

/* A reference at *pos ('&'): &name; &#N; &#xH; */
static int
check_ref(struct xml_doc *d, size_t *pos)
{
	size_t	 i = *pos + 1, s;
	uint32_t v = 0;
	int	 hex = 0;

	if (i < d->len && d->b[i] == '#') {
		i++;
		if (i < d->len && d->b[i] == 'x') {
			hex = 1;
			i++;
		}
		s = i;
		for (; i < d->len && i - s < 9; i++) {
			char c = d->b[i];

			if (c >= '0' && c <= '9')
				v = v * (hex ? 16 : 10) + (uint32_t)(c - '0');
			else if (hex && c >= 'a' && c <= 'f')
				v = v * 16 + (uint32_t)(c - 'a' + 10);
			else if (hex && c >= 'A' && c <= 'F')
				v = v * 16 + (uint32_t)(c - 'A' + 10);
			else
				break;
		}
		if (i == s || i >= d->len || d->b[i] != ';' || v == 0 ||
		    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			return (doc_err(d, *pos, "bad character reference"));
	} else {
		s = i;
		while (i < d->len && !is_name_end(d->b[i]) && d->b[i] != ';' &&
		    d->b[i] != '&')
			i = adv(d, i);
		if (i == s || i >= d->len || d->b[i] != ';')
			return (doc_err(d, *pos,
			    "'&' that starts no reference "
			    "(write &amp;)"));
	}
	*pos = i + 1;
	return (0);
}

/*
 * The next attribute of a start tag at *pos (after the name): 1 and *a,
 * or 0 at the tag's end (*pos after '>', *empty set), or -1.
 */
static int
next_attr(struct xml_doc *d, size_t *pos, struct xml_attr *a, int *empty)
{
	size_t i = *pos, ws;
	char   q;

	ws = i;
	while (i < d->len && is_ws(d->b[i]))
		i++;
	if (i >= d->len)
		return (doc_err(d, *pos, "unclosed start tag"));
	if (d->b[i] == '>' || d->b[i] == '/') {
		*empty = d->b[i] == '/';
		if (*empty && (i + 1 >= d->len || d->b[i + 1] != '>'))
			return (doc_err(d, i, "'/' not followed by '>'"));
		*pos = i;
		return (0);
	}
	if (i == ws)
		return (doc_err(d, i,
		    "attributes must be separated by "
		    "white space"));
	a->name = i;
	while (i < d->len && !is_name_end(d->b[i]))
		i = adv(d, i);
	if (i == a->name)
		return (
		    doc_err(d, i, "unexpected '%c' in a start tag", d->b[i]));
	a->name_len = i - a->name;
	while (i < d->len && is_ws(d->b[i]))
		i++;
	if (i >= d->len || d->b[i] != '=')
		return (doc_err(d, i, "attribute without '='"));
	i++;
	while (i < d->len && is_ws(d->b[i]))
		i++;
	if (i >= d->len || (d->b[i] != '"' && d->b[i] != '\''))
		return (doc_err(d, i, "attribute value without quotes"));
	q = d->b[i++];
	a->quote = q;
	a->vstart = i;
	while (i < d->len && d->b[i] != q) {
		if (d->b[i] == '<')
			return (doc_err(d, i, "'<' in an attribute value"));
		if (d->b[i] == '&') {
			if (check_ref(d, &i) == -1)
				return (-1);
			continue;
		}
		i = adv(d, i);
	}
	if (i >= d->len)
		return (doc_err(d, a->vstart, "unclosed attribute value"));
	a->vend = i;
	*pos = i + 1;
	return (1);
}

/* A start tag at *pos ('<'): a new element, child of parent. */
static int
start_tag(struct xml_doc *d, size_t *pos, int parent)
{
	struct xml_el  *e, *p;
	struct xml_attr a, b;
	size_t		i = *pos + 1, an, k, prev;
	int		rc, empty = 0, seen;
	void	       *n;

	if (d->nel == d->cap) {
		if (d->cap >= XML_ELEMENTS_MAX)
			return (doc_err(d, *pos, "more than %d elements",
			    XML_ELEMENTS_MAX));
		d->cap = d->cap ? d->cap * 2 : 64;
		if ((n = realloc(d->el, (size_t)d->cap * sizeof(*d->el))) ==
		    NULL) {
			cfgedit_err(d->err, d->errlen, "out of memory");
			return (-1);
		}
		d->el = n;
	}
	e = &d->el[d->nel];
	memset(e, 0, sizeof(*e));
	e->stag = *pos;
	e->name = i;
	while (i < d->len && !is_name_end(d->b[i]))
		i = adv(d, i);
	if (i == e->name)
		return (doc_err(d, *pos,
		    "'<' not followed by a name (write "
		    "&lt;)"));
	e->name_len = i - e->name;
	an = 0;
	while ((rc = next_attr(d, &i, &a, &empty)) == 1) {
		/* A name given twice makes the file not XML. */
		prev = e->name + e->name_len;
		for (k = 0; k < an; k++) {
			if (next_attr(d, &prev, &b, &seen) != 1)
				break;
			if (b.name_len == a.name_len &&
			    memcmp(d->b + b.name, d->b + a.name, a.name_len) ==
				0)
				return (doc_err(d, a.name,
				    "attribute \"%.*s\" given twice",
				    (int)a.name_len, d->b + a.name));
		}
		an++;
	}
	if (rc == -1)
		return (-1);
	e->empty = empty;
	if (empty) {
		e->slash = i;
		i += 2;
	} else
		i++;
	e->stag_end = e->cstart = e->cend = i;
	e->parent = parent;
	e->first = e->next = e->last = -1;
	if (parent >= 0) {
		p = &d->el[parent];
		if (p->last >= 0)
			d->el[p->last].next = d->nel;
		else
			p->first = d->nel;
		p->last = d->nel;
		p->nchildren++;
	}
	d->nel++;
	*pos = i;
	return (0);
}

/* <!DOCTYPE ...> with quoted ids and an internal subset [...]. */
static int
skip_doctype(struct xml_doc *d, size_t *pos)
{
	size_t i = *pos + 9;
	char   q;

	while (i < d->len && d->b[i] != '>') {
		if (d->b[i] == '"' || d->b[i] == '\'') {
			q = d->b[i++];
			while (i < d->len && d->b[i] != q)
				i = adv(d, i);
			i++;
			continue;
		}
		if (d->b[i] != '[') {
			i = adv(d, i);
			continue;
		}
		i++;
		while (i < d->len && d->b[i] != ']') {
			if (d->len - i >= 4 &&
			    memcmp(d->b + i, "<!--", 4) == 0) {
				i += 4;
				if (skip_to(d, &i, "-->", "comment") == -1)
					return (-1);
			} else if (d->b[i] == '"' || d->b[i] == '\'') {
				q = d->b[i++];
				while (i < d->len && d->b[i] != q)
					i = adv(d, i);
				i++;
			} else
				i = adv(d, i);
		}
		if (i >= d->len)
			break;
		i++;
	}
	if (i >= d->len)
		return (doc_err(d, *pos, "unclosed DOCTYPE"));
	*pos = i + 1;
	return (0);
}

static int
doc_parse(struct xml_doc *d)
{
	const char *lt;
	size_t	    i, s, nlt = 0;
	int	    cur = -1, root_done = 0, doctype = 0;
	char	    c;

	if (cs_setup(d) == -1)
		return (-1);
	/* Every element starts with a '<': one allocation for all. */
	for (lt = d->b;
	     (lt = memchr(lt, '<', d->len - (size_t)(lt - d->b))) != NULL; lt++)
		nlt++;
	if (nlt > XML_ELEMENTS_MAX)
		nlt = XML_ELEMENTS_MAX;
	if (nlt > 0) {
		if ((d->el = malloc(nlt * sizeof(*d->el))) == NULL) {
			cfgedit_err(d->err, d->errlen, "out of memory");
			return (-1);
		}
		d->cap = (int)nlt;
	}
	i = d->body;
	/* The prolog, the root element and what may follow it. */
	for (;;) {
		while (i < d->len && is_ws(d->b[i]))
			i++;
		if (i >= d->len)
			break;
		if (d->b[i] != '<')
			return (doc_err(d, i,
			    root_done ? "content after the root element"
				      : "text before the root element"));
		if (d->len - i >= 4 && memcmp(d->b + i, "<!--", 4) == 0) {
			i += 4;
			if (skip_to(d, &i, "-->", "comment") == -1)
				return (-1);
		} else if (d->len - i >= 2 && d->b[i + 1] == '?') {
			i += 2;
			if (skip_to(d, &i, "?>", "processing instruction") ==
			    -1)
				return (-1);
		} else if (d->len - i >= 9 &&
		    memcmp(d->b + i, "<!DOCTYPE", 9) == 0 && !root_done &&
		    !doctype) {
			doctype = 1;
			if (skip_doctype(d, &i) == -1)
				return (-1);
		} else if (root_done)
			return (
			    doc_err(d, i, "content after the root element"));
		else {
			if (start_tag(d, &i, -1) == -1)
				return (-1);
			root_done = 1;
			if (!d->el[0].empty)
				cur = 0;
			/* The content of the open elements. */
			while (cur >= 0) {
				if (i >= d->len) {
					struct xml_el *e = &d->el[cur];

					return (doc_err(d, e->stag,
					    "unclosed tag \"%.*s\"",
					    (int)e->name_len, d->b + e->name));
				}
				c = d->b[i];
				if (c == '&') {
					if (check_ref(d, &i) == -1)
						return (-1);
					continue;
				}
				if (c != '<') {
					/* '<' and '&' are never a second byte. */
					while (i < d->len && d->b[i] != '<' &&
					    d->b[i] != '&')
						i++;
					continue;
				}
				if (d->len - i >= 2 && d->b[i + 1] == '/') {
					struct xml_el *e = &d->el[cur];

					s = i + 2;
					if (d->len - s < e->name_len ||
					    memcmp(d->b + s, d->b + e->name,
						e->name_len) != 0 ||
					    (s + e->name_len < d->len &&
						!is_name_end(
						    d->b[s + e->name_len]))) {
						return (doc_err(d, i,
						    "end tag does not match "
						    "<%.*s> (line %u)",
						    (int)e->name_len,
						    d->b + e->name,
						    cfgedit_line(d->b,
							e->stag)));
					}
					e->cend = i;
					s += e->name_len;
					while (s < d->len && is_ws(d->b[s]))
						s++;
					if (s >= d->len || d->b[s] != '>')
						return (doc_err(d, i,
						    "unclosed end tag"));
					i = s + 1;
					cur = e->parent;
				} else if (d->len - i >= 4 &&
				    memcmp(d->b + i, "<!--", 4) == 0) {
					i += 4;
					if (skip_to(d, &i, "-->", "comment") ==
					    -1)
						return (-1);
				} else if (d->len - i >= 9 &&
				    memcmp(d->b + i, "<![CDATA[", 9) == 0) {
					i += 9;
					if (skip_to(d, &i, "]]>", "CDATA") ==
					    -1)
						return (-1);
				} else if (d->len - i >= 2 &&
				    d->b[i + 1] == '?') {
					i += 2;
					if (skip_to(d, &i, "?>",
						"processing instruction") == -1)
						return (-1);
				} else if (d->len - i >= 2 &&
				    d->b[i + 1] == '!') {
					return (doc_err(d, i,
					    "unexpected '<!' in content"));
				} else {
					int n = d->nel;

					if (start_tag(d, &i, cur) == -1)
						return (-1);
					if (!d->el[n].empty)
						cur = n;
				}
			}
		}
	}
	if (!root_done)
		return (doc_err(d, i, "no root element"));
	return (0);
}

static void
doc_cleanup(struct xml_doc *d)
{
	cs_cleanup(&d->cs);
	free(d->el);
	d->el = NULL;
}

/*
 * UTF-8 s to the file's charset, appended to b.  refs: characters the
 * charset cannot hold become &#x...; (else 1 is returned for them).
 */
static int
to_cs(struct xml_doc *d, const char *s, size_t n, int refs,
    struct cfgedit_buf *b)
{
	char	 tmp[256], ref[16], *ip, *op;
	size_t	 il, ol, k;
	uint32_t cp;

	if (d->cs.utf8)
		return (cfgedit_buf_add(b, s, n));
	if (d->cs.ascii) {
		for (k = 0; k < n;) {
			if ((unsigned char)s[k] < 0x80) {
				if (cfgedit_buf_addc(b, s[k++]) == -1)
					return (-1);
				continue;
			}
			il = cfgedit_utf8_dec((const unsigned char *)s + k,
			    n - k, &cp);
			if (il == 0 || !refs)
				return (1);
			(void)snprintf(ref, sizeof(ref), "&#x%X;", cp);
			if (cfgedit_buf_add(b, ref, strlen(ref)) == -1)
				return (-1);
			k += il;
		}
		return (0);
	}
	(void)iconv(d->cs.to, NULL, NULL, NULL, NULL);
	ip = (char *)(uintptr_t)s;
	il = n;
	while (il > 0) {
		op = tmp;
		ol = sizeof(tmp);
		if (iconv(d->cs.to, &ip, &il, &op, &ol) != (size_t)-1 ||
		    errno == E2BIG) {
			if (cfgedit_buf_add(b, tmp, (size_t)(op - tmp)) == -1)
				return (-1);
			continue;
		}
		if (cfgedit_buf_add(b, tmp, (size_t)(op - tmp)) == -1)
			return (-1);
		k = cfgedit_utf8_dec((const unsigned char *)ip, il, &cp);
		if (k == 0 || !refs)
			return (1);
		(void)snprintf(ref, sizeof(ref), "&#x%X;", cp);
		if (cfgedit_buf_add(b, ref, strlen(ref)) == -1)
			return (-1);
		ip += k;
		il -= k;
	}
	op = tmp;
	ol = sizeof(tmp);
	if (iconv(d->cs.to, NULL, NULL, &op, &ol) == (size_t)-1)
		return (1);
	return (cfgedit_buf_add(b, tmp, (size_t)(op - tmp)));
}

/* The file's bytes s (its charset) as UTF-8, appended to b. */
static int
from_cs(struct xml_doc *d, const char *s, size_t n, struct cfgedit_buf *b)
{
	char   tmp[256], *ip, *op;
	size_t il, ol;

	if (d->cs.utf8 || d->cs.ascii) {
		if (!cfgedit_utf8_valid((const unsigned char *)s, n) ||
		    (d->cs.ascii && !ascii_only(s, n))) {
			cfgedit_err(d->err, d->errlen,
			    "the value's bytes are not valid %s", d->cs.name);
			return (-1);
		}
		return (cfgedit_buf_add(b, s, n));
	}
	(void)iconv(d->cs.from, NULL, NULL, NULL, NULL);
	ip = (char *)(uintptr_t)s;
	il = n;
	while (il > 0) {
		op = tmp;
		ol = sizeof(tmp);
		if (iconv(d->cs.from, &ip, &il, &op, &ol) == (size_t)-1 &&
		    errno != E2BIG) {
			cfgedit_err(d->err, d->errlen,
			    "the value's bytes are not valid %s", d->cs.name);
			return (-1);
		}
		if (cfgedit_buf_add(b, tmp, (size_t)(op - tmp)) == -1)
			return (-1);
	}
	return (0);
}

/*
 * Walk a nodepath: *el the element, and for an @attr last step *is_attr
 * and *a.  -1 with the reason in d->err.
 */
static int
resolve(struct xml_doc *d, const char *pathstr, int *el, struct xml_attr *a,
    int *is_attr)
{
	struct cfgedit_path *p;
	struct cfgedit_step *st;
	struct cfgedit_buf   nm;
	struct xml_el	    *e;
	size_t		     k, pos, count;
	int		     cur, c, rc = -1, found, empty, r;

	*is_attr = 0;
	cfgedit_buf_init(&nm);
	if ((p = malloc(sizeof(*p))) == NULL) {
		cfgedit_err(d->err, d->errlen, "out of memory");
		return (-1);
	}
	if (cfgedit_path_parse(CFGEDIT_XML, pathstr, p, d->err, d->errlen) ==
	    -1)
		goto done;
	cur = -1;
	for (k = 0; k < p->n; k++) {
		st = &p->steps[k];
		/* The step's name in the file's charset. */
		nm.len = 0;
		r = 0;
		if (st->kind != CFGEDIT_STEP_ANY) {
			r = to_cs(d, st->name, st->name_len, 0, &nm);
			if (r == -1) {
				cfgedit_err(d->err, d->errlen, "out of memory");
				goto done;
			}
		}
		if (st->kind == CFGEDIT_STEP_ATTR) {
			e = &d->el[cur];
			pos = e->name + e->name_len;
			found = 0;
			while (r == 0 && next_attr(d, &pos, a, &empty) == 1) {
				if (a->name_len == nm.len &&
				    memcmp(d->b + a->name, nm.data, nm.len) ==
					0)
					found = 1;
				if (found)
					break;
			}
			if (!found) {
				cfgedit_err(d->err, d->errlen,
				    "%s: no attribute \"%.*s\" on <%.*s>",
				    pathstr, (int)st->name_len, st->name,
				    (int)e->name_len, d->b + e->name);
				goto done;
			}
			*is_attr = 1;
			break;
		}
		if (k == 0) {
			e = &d->el[0];
			if (st->kind == CFGEDIT_STEP_NAME &&
			    (r != 0 || e->name_len != nm.len ||
				memcmp(d->b + e->name, nm.data, nm.len) != 0)) {
				cfgedit_err(d->err, d->errlen,
				    "%s: the root element is <%.*s>, not "
				    "<%.*s>",
				    pathstr, (int)e->name_len, d->b + e->name,
				    (int)st->name_len, st->name);
				goto done;
			}
			cur = 0;
			continue;
		}
		count = 0;
		found = -1;
		for (c = d->el[cur].first; c >= 0; c = d->el[c].next) {
			e = &d->el[c];
			if (st->kind == CFGEDIT_STEP_NAME &&
			    (r != 0 || e->name_len != nm.len ||
				d->b[e->name] != nm.data[0] ||
				memcmp(d->b + e->name, nm.data, nm.len) != 0))
				continue;
			if (count == st->index) {
				found = c;
				break;
			}
			count++;
		}
		if (found < 0) {
			if (st->kind == CFGEDIT_STEP_ANY)
				cfgedit_err(d->err, d->errlen,
				    "%s: no child element of <%.*s> at index "
				    "%zu (there are %zu)",
				    pathstr, (int)d->el[cur].name_len,
				    d->b + d->el[cur].name, st->index, count);
			else
				cfgedit_err(d->err, d->errlen,
				    "%s: no element \"%.*s\" at index %zu "
				    "(there are %zu)",
				    pathstr, (int)st->name_len, st->name,
				    st->index, count);
			goto done;
		}
		cur = found;
	}
	*el = cur;
	rc = 0;
done:
	cfgedit_buf_cleanup(&nm);
	free(p);
	return (rc);
}

/*
 * The value for its place: text (quote 0) or an attribute in quote,
 * then in the file's charset.  Characters XML 1.0 cannot hold are
 * refused.
 */
static int
escape_value(struct xml_doc *d, const char *path, const char *v, size_t n,
    int quote, struct cfgedit_buf *out)
{
	struct cfgedit_buf u;
	const char	  *rep;
	size_t		   i, k;
	uint32_t	   cp;
	int		   rc = -1, r;

	cfgedit_buf_init(&u);
	for (i = 0; i < n; i += k) {
		k = cfgedit_utf8_dec((const unsigned char *)v + i, n - i, &cp);
		if (k == 0) {
			cfgedit_err(d->err, d->errlen,
			    "value for %s is not valid UTF-8", path);
			goto done;
		}
		if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
		    cp == 0xfffe || cp == 0xffff) {
			cfgedit_err(d->err, d->errlen,
			    "value for %s holds U+%04X, which XML 1.0 cannot "
			    "hold",
			    path, cp);
			goto done;
		}
		rep = NULL;
		switch (cp) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = quote ? NULL : "&gt;";
			break;
		case '"':
			rep = quote == '"' ? "&quot;" : NULL;
			break;
		case '\'':
			rep = quote == '\'' ? "&apos;" : NULL;
			break;
		case '\t':
			rep = quote ? "&#9;" : NULL;
			break;
		case '\n':
			rep = quote ? "&#10;" : NULL;
			break;
		case '\r':
			rep = "&#13;";
			break;
		}
		if (rep != NULL)
			r = cfgedit_buf_add(&u, rep, strlen(rep));
		else
			r = cfgedit_buf_add(&u, v + i, k);
		if (r == -1)
			goto oom;
	}
	r = to_cs(d, u.data == NULL ? "" : u.data, u.len, 1, out);
	if (r == -1)
		goto oom;
	if (r == 1) {
		cfgedit_err(d->err, d->errlen,
		    "value for %s cannot be written in %s", path, d->cs.name);
		goto done;
	}
	rc = 0;
	goto done;
oom:
	cfgedit_err(d->err, d->errlen, "out of memory");
done:
	cfgedit_buf_cleanup(&u);
	return (rc);
}

/*
 * The parsed value of [s, e) as UTF-8: references resolved, line ends
 * normalised; text: CDATA kept, comments and PIs dropped; attribute:
 * white space as spaces.
 */
static int
unescape(struct xml_doc *d, size_t s, size_t e, int attr,
    struct cfgedit_buf *out)
{
	struct cfgedit_buf raw;
	size_t		   i, j, run;
	uint32_t	   v;
	int		   rc = -1;

	cfgedit_buf_init(&raw);
	i = s;
	while (i < e) {
		/* A run of plain characters, converted at once. */
		run = i;
		while (i < e && d->b[i] != '&' && d->b[i] != '<')
			i = adv(d, i);
		if (i > run) {
			raw.len = 0;
			if (from_cs(d, d->b + run, i - run, &raw) == -1)
				goto done;
			for (j = 0; j < raw.len; j++) {
				char c = raw.data[j];

				if (c == '\r') {
					if (j + 1 < raw.len &&
					    raw.data[j + 1] == '\n')
						continue;
					c = '\n';
				}
				if (attr && (c == '\n' || c == '\t'))
					c = ' ';
				if (cfgedit_buf_addc(out, c) == -1)
					goto oom;
			}
		}
		if (i >= e)
			break;
		if (d->b[i] == '&') {
			j = i + 1;
			if (d->b[j] == '#') {
				int hex = d->b[j + 1] == 'x';

				v = (uint32_t)strtoul(d->b + j + 1 + hex, NULL,
				    hex ? 16 : 10);
				if (cfgedit_utf8_put(out, v) == -1)
					goto oom;
			} else {
				static const char *ent[] = { "lt;", "<", "gt;",
					">", "amp;", "&", "quot;", "\"",
					"apos;", "'", NULL };
				int		   k;

				for (k = 0; ent[k] != NULL; k += 2)
					if (strncmp(d->b + j, ent[k],
						strlen(ent[k])) == 0)
						break;
				if (ent[k] == NULL) {
					cfgedit_err(d->err, d->errlen,
					    "line %u: entity references other "
					    "than the five of XML are not "
					    "supported",
					    cfgedit_line(d->b, i));
					goto done;
				}
				if (cfgedit_buf_add(out, ent[k + 1], 1) == -1)
					goto oom;
			}
			while (d->b[i] != ';')
				i++;
			i++;
			continue;
		}
		/* '<' in content: CDATA, a comment or a PI. */
		if (e - i >= 9 && memcmp(d->b + i, "<![CDATA[", 9) == 0) {
			j = i + 9;
			i = j;
			(void)skip_to(d, &i, "]]>", "CDATA");
			raw.len = 0;
			if (from_cs(d, d->b + j, i - 3 - j, &raw) == -1)
				goto done;
			for (j = 0; j < raw.len; j++) {
				if (raw.data[j] == '\r' && j + 1 < raw.len &&
				    raw.data[j + 1] == '\n')
					continue;
				if (cfgedit_buf_addc(out,
					raw.data[j] == '\r'
					    ? '\n'
					    : raw.data[j]) == -1)
					goto oom;
			}
		} else if (e - i >= 4 && memcmp(d->b + i, "<!--", 4) == 0) {
			i += 4;
			(void)skip_to(d, &i, "-->", "comment");
		} else {
			i += 2;
			(void)skip_to(d, &i, "?>", "processing instruction");
		}
	}
	rc = 0;
	goto done;
oom:
	cfgedit_err(d->err, d->errlen, "out of memory");
done:
	cfgedit_buf_cleanup(&raw);
	return (rc);
}

int
cfgedit_xml_apply(const char *in, size_t inlen, struct cfgedit_edit *edits,
    size_t n, char **out, size_t *outlen, char *err, size_t errlen)
{
	struct xml_doc	     d;
	struct xml_attr	     a;
	struct xml_el	    *e;
	struct cfgedit_repl *r = NULL;
	struct cfgedit_buf   b;
	size_t		     i, nr = 0;
	int		     el, is_attr, rc = -1;

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
		if (resolve(&d, edits[i].path, &el, &a, &is_attr) == -1)
			goto done;
		e = &d.el[el];
		cfgedit_buf_init(&b);
		if (is_attr) {
			if (escape_value(&d, edits[i].path, edits[i].value,
				edits[i].value_len, a.quote, &b) == -1)
				goto done;
			r[nr].start = a.vstart;
			r[nr].end = a.vend;
			r[nr].at_off = 0;
			r[nr].val_len = b.len;
		} else if (e->first >= 0) {
			cfgedit_err(err, errlen,
			    "%s: element <%.*s> has child elements",
			    edits[i].path, (int)e->name_len, in + e->name);
			goto done;
		} else if (e->empty) {
			/* <a/> becomes <a>value</a>; an empty value keeps it. */
			if (cfgedit_buf_add(&b, ">", 1) == -1 ||
			    escape_value(&d, edits[i].path, edits[i].value,
				edits[i].value_len, 0, &b) == -1)
				goto fail;
			r[nr].val_len = b.len - 1;
			r[nr].at_off = 1;
			if (edits[i].value_len == 0) {
				cfgedit_buf_cleanup(&b);
				r[nr].start = r[nr].end = e->slash;
				r[nr].at_off = r[nr].val_len = 0;
			} else {
				if (cfgedit_buf_add(&b, "</", 2) == -1 ||
				    cfgedit_buf_add(&b, in + e->name,
					e->name_len) == -1 ||
				    cfgedit_buf_add(&b, ">", 1) == -1)
					goto fail;
				r[nr].start = e->slash;
				r[nr].end = e->stag_end;
			}
		} else {
			if (escape_value(&d, edits[i].path, edits[i].value,
				edits[i].value_len, 0, &b) == -1)
				goto done;
			r[nr].start = e->cstart;
			r[nr].end = e->cend;
			r[nr].at_off = 0;
			r[nr].val_len = b.len;
		}
		r[nr].data = b.data;
		r[nr].len = b.len;
		r[nr].edit = i;
		cfgedit_buf_init(&b);
		nr++;
	}
	rc = cfgedit_splice(in, inlen, r, nr, edits, out, outlen, err, errlen);
	goto done;
fail:
	if (!b.failed)
		goto done;
oom:
	cfgedit_err(err, errlen, "out of memory");
done:
	cfgedit_buf_cleanup(&b);
	cfgedit_repls_free(r, nr);
	doc_cleanup(&d);
	return (rc);
}

int
cfgedit_xml_get(const char *in, size_t inlen, const char *path, char **val,
    size_t *vlen, char *err, size_t errlen)
{
	struct xml_doc	   d;
	struct xml_attr	   a;
	struct xml_el	  *e;
	struct cfgedit_buf b;
	int		   el, is_attr, rc = -1;

	memset(&d, 0, sizeof(d));
	d.b = in;
	d.len = inlen;
	d.err = err;
	d.errlen = errlen;
	cfgedit_buf_init(&b);
	if (doc_parse(&d) == -1 || resolve(&d, path, &el, &a, &is_attr) == -1)
		goto done;
	e = &d.el[el];
	if (is_attr) {
		if (unescape(&d, a.vstart, a.vend, 1, &b) == -1)
			goto done;
	} else if (e->first >= 0) {
		cfgedit_err(err, errlen,
		    "%s: element <%.*s> has child elements", path,
		    (int)e->name_len, in + e->name);
		goto done;
	} else if (unescape(&d, e->cstart, e->cend, 0, &b) == -1)
		goto done;
	if (cfgedit_buf_add(&b, "", 0) == -1) {
		cfgedit_err(err, errlen, "out of memory");
		goto done;
	}
	*val = b.data;
	*vlen = b.len;
	cfgedit_buf_init(&b);
	rc = 0;
done:
	cfgedit_buf_cleanup(&b);
	doc_cleanup(&d);
	return (rc);
}
