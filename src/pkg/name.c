/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Entry names of a package: decoding (UTF-8 or a legacy charset), the
 * rules a name must pass on Linux and Windows nodes, and duplicate
 * detection that also folds case and sees directories a name implies.
 */

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/internal.h"

#define NODE_FILE     0
#define NODE_DIR      1 /* an entry of its own */
#define NODE_IMPLIED  2 /* a parent of some entry */
#define NAMESET_FIRST 1024

struct node {
	const char *name; /* NULL: free slot */
	uint32_t    len;
	uint32_t    kind;
	uint64_t    hash;
};

struct pkg_nameset {
	struct node *tab;
	size_t	     cap; /* a power of two */
	size_t	     n;
	size_t	     max;
	uint64_t     dirs;
};

static void name_err(struct pkg_name_err *, enum pkg_rule, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static size_t	utf8_next(const unsigned char *, size_t, size_t, uint32_t *);
static uint32_t fold(uint32_t);
static uint64_t fold_hash(const char *, size_t);
static int	fold_equal(const char *, size_t, const char *, size_t);
static int	reserved_name(const char *, size_t);
static int	nameset_grow(struct pkg_nameset *);
static int nameset_put(struct pkg_nameset *, const char *, size_t, uint32_t,
    struct pkg_name_err *);

static void
name_err(struct pkg_name_err *err, enum pkg_rule rule, const char *fmt, ...)
{
	va_list ap;

	err->rule = rule;
	va_start(ap, fmt);
	(void)vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/*
 * One code point of strict UTF-8 at s[i]: no overlong forms, no
 * surrogates, nothing above U+10FFFF.  Returns its length, 0 if invalid.
 */
static size_t
utf8_next(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
	uint32_t c, min;
	size_t	 n, k;

	c = s[i];
	if (c < 0x80) {
		*cp = c;
		return (1);
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		return (0);
	if (len - i < n)
		return (0);
	for (k = 1; k < n; k++) {
		if ((s[i + k] & 0xc0) != 0x80)
			return (0);
		c = (c << 6) | (s[i + k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return (0);
	*cp = c;
	return (n);
}

int
pkg_utf8_valid(const unsigned char *s, size_t len)
{
	size_t	 i, n;
	uint32_t c;

	for (i = 0; i < len; i += n) {
		if ((n = utf8_next(s, len, i, &c)) == 0)
			return (0);
	}
	return (1);
}

/*
 * Simple case folding for the scripts where Windows (NTFS upcase table)
 * and macOS see two names as one: ASCII, Latin-1, Latin Extended-A,
 * Greek, Cyrillic and fullwidth Latin.  CJK has no case.
 */
static uint32_t
fold(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return (c + 32);
	if (c < 0x80)
		return (c);
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		return (c + 32);
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return (c | 1);
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return ((c & 1) ? c + 1 : c);
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)
		return (c + 32);
	if (c >= 0x410 && c <= 0x42f)
		return (c + 32);
	if (c >= 0x400 && c <= 0x40f)
		return (c + 80);
	if (c >= 0xff21 && c <= 0xff3a)
		return (c + 32);
	return (c);
}

/* FNV-1a over the folded code points; names are valid UTF-8 here. */
static uint64_t
fold_hash(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	uint64_t	     h = 0xcbf29ce484222325ULL;
	uint32_t	     c;
	size_t		     i, n;

	for (i = 0; i < len; i += n) {
		if ((n = utf8_next(u, len, i, &c)) == 0) {
			c = u[i];
			n = 1;
		}
		c = fold(c);
		h = (h ^ (c & 0xff)) * 0x100000001b3ULL;
		h = (h ^ (c >> 8)) * 0x100000001b3ULL;
		h = (h ^ (c >> 16)) * 0x100000001b3ULL;
	}
	return (h);
}

static int
fold_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	const unsigned char *ua = (const unsigned char *)a;
	const unsigned char *ub = (const unsigned char *)b;
	uint32_t	     ca, cb;
	size_t		     i, j, n, m;

	for (i = j = 0; i < alen && j < blen; i += n, j += m) {
		if ((n = utf8_next(ua, alen, i, &ca)) == 0) {
			ca = ua[i];
			n = 1;
		}
		if ((m = utf8_next(ub, blen, j, &cb)) == 0) {
			cb = ub[j];
			m = 1;
		}
		if (fold(ca) != fold(cb))
			return (0);
	}
	return (i == alen && j == blen);
}

char *
pkg_name_decode(const unsigned char *raw, size_t len, int utf8, iconv_t cd,
    struct pkg_name_err *err)
{
	char  *out, *ip, *op;
	size_t i, il, ol, cap;
	int    ascii;

	if (len == 0) {
		name_err(err, PKG_BAD_NAME, "empty name");
		return (NULL);
	}
	if (memchr(raw, '\0', len) != NULL) {
		name_err(err, PKG_BAD_NAME, "NUL byte in name");
		return (NULL);
	}
	ascii = 1;
	for (i = 0; i < len && ascii; i++)
		ascii = raw[i] < 0x80;

	/* A legacy charset's bytes grow at most fourfold as UTF-8. */
	cap = (utf8 || ascii) ? len + 1 : len * 4 + 4;
	if ((out = malloc(cap)) == NULL) {
		name_err(err, PKG_ERROR, "out of memory");
		return (NULL);
	}
	if (utf8 || ascii) {
		if (!pkg_utf8_valid(raw, len)) {
			free(out);
			name_err(err, PKG_BAD_NAME,
			    "name flagged UTF-8 is not valid UTF-8");
			return (NULL);
		}
		memcpy(out, raw, len);
		out[len] = '\0';
		return (out);
	}

	(void)iconv(cd, NULL, NULL, NULL, NULL);
	ip = (char *)(uintptr_t)raw;
	il = len;
	op = out;
	ol = cap - 1;
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || il != 0 ||
	    iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1) {
		free(out);
		name_err(err, PKG_BAD_NAME,
		    "name cannot be decoded from the package charset");
		return (NULL);
	}
	*op = '\0';
	if ((size_t)(op - out) == 0 || memchr(out, '\0', op - out) != NULL ||
	    !pkg_utf8_valid((unsigned char *)out, op - out)) {
		free(out);
		name_err(err, PKG_BAD_NAME,
		    "name does not decode to valid UTF-8");
		return (NULL);
	}
	return (out);
}

char *
pkg_name_escape(const unsigned char *raw, size_t len)
{
	char  *out;
	size_t i, o;

	if (len > PKG_PATH_MAX)
		len = PKG_PATH_MAX;
	if ((out = malloc(len * 4 + 1)) == NULL)
		return (NULL);
	for (i = o = 0; i < len; i++) {
		if (raw[i] >= 0x20 && raw[i] < 0x7f && raw[i] != '\\') {
			out[o++] = (char)raw[i];
		} else if (raw[i] == '\\') {
			out[o++] = '/';
		} else {
			(void)snprintf(out + o, 5, "\\x%02x", raw[i]);
			o += 4;
		}
	}
	out[o] = '\0';
	return (out);
}

/* CON, PRN, AUX, NUL, COM1-9, LPT1-9, alone or before an extension. */
static int
reserved_name(const char *c, size_t len)
{
	static const char *const three[] = { "con", "prn", "aux", "nul" };
	size_t			 i, base;
	char			 l[4];

	base = len;
	for (i = 0; i < len; i++) {
		if (c[i] == '.') {
			base = i;
			break;
		}
	}
	if (base != 3 && base != 4)
		return (0);
	for (i = 0; i < base; i++)
		l[i] = (char)fold((unsigned char)c[i]);
	if (base == 3) {
		for (i = 0; i < sizeof(three) / sizeof(three[0]); i++) {
			if (memcmp(l, three[i], 3) == 0)
				return (1);
		}
		return (0);
	}
	return ((memcmp(l, "com", 3) == 0 || memcmp(l, "lpt", 3) == 0) &&
	    l[3] >= '1' && l[3] <= '9');
}

enum pkg_rule
pkg_name_check(char *name, int *dir, struct pkg_name_err *err)
{
	const unsigned char *u = (const unsigned char *)name;
	size_t		     len, i, n, start, clen;
	uint32_t	     c;
	int		     backslash;

	len = strlen(name);
	backslash = 0;
	for (i = 0; i < len; i++) {
		if (name[i] == '\\') {
			name[i] = '/';
			backslash = 1;
		}
	}
	if (len == 0) {
		name_err(err, PKG_BAD_NAME, "empty name");
		return (err->rule);
	}
	if (name[0] == '/') {
		name_err(err, PKG_PATH_ABSOLUTE, "absolute path");
		return (err->rule);
	}
	if (len >= 2 && name[1] == ':' &&
	    ((name[0] >= 'a' && name[0] <= 'z') ||
		(name[0] >= 'A' && name[0] <= 'Z'))) {
		name_err(err, PKG_PATH_DRIVE, "drive letter in path");
		return (err->rule);
	}
	*dir = 0;
	if (name[len - 1] == '/') {
		*dir = 1;
		name[--len] = '\0';
	}

	/* .. anywhere wins over what else may be wrong with the name. */
	for (start = 0; start <= len; start = i + 1) {
		for (i = start; i < len && name[i] != '/'; i++)
			;
		if (i - start == 2 && name[start] == '.' &&
		    name[start + 1] == '.') {
			name_err(err, PKG_PATH_TRAVERSAL, "'..' in path");
			return (err->rule);
		}
	}

	if (len > PKG_PATH_MAX) {
		name_err(err, PKG_BAD_NAME, "name longer than %d bytes",
		    PKG_PATH_MAX);
		return (err->rule);
	}
	for (i = 0; i < len; i += n) {
		if ((n = utf8_next(u, len, i, &c)) == 0) {
			name_err(err, PKG_BAD_NAME, "invalid UTF-8");
			return (err->rule);
		}
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
			name_err(err, PKG_BAD_NAME,
			    "control character in name");
			return (err->rule);
		}
		if (c == '<' || c == '>' || c == ':' || c == '"' || c == '|' ||
		    c == '?' || c == '*') {
			name_err(err, PKG_BAD_NAME,
			    "'%c' cannot be in a name on Windows", (int)c);
			return (err->rule);
		}
	}
	for (start = 0; start <= len; start = i + 1) {
		for (i = start; i < len && name[i] != '/'; i++)
			;
		clen = i - start;
		if (clen == 0) {
			name_err(err, PKG_BAD_NAME, "empty path component");
			return (err->rule);
		}
		if (clen == 1 && name[start] == '.') {
			name_err(err, PKG_BAD_NAME, "'.' component");
			return (err->rule);
		}
		if (clen > PKG_NAME_MAX) {
			name_err(err, PKG_BAD_NAME,
			    "path component longer than %d bytes",
			    PKG_NAME_MAX);
			return (err->rule);
		}
		if (name[i - 1] == '.' || name[i - 1] == ' ') {
			name_err(err, PKG_BAD_NAME,
			    "component ends in '.' or space (Windows)");
			return (err->rule);
		}
		if (reserved_name(name + start, clen)) {
			name_err(err, PKG_BAD_NAME,
			    "reserved device name on Windows");
			return (err->rule);
		}
	}
	if (backslash) {
		name_err(err, PKG_BAD_NAME, "backslash in name");
		return (err->rule);
	}
	return (PKG_OK);
}

struct pkg_nameset *
pkg_nameset_new(uint64_t max)
{
	struct pkg_nameset *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	s->cap = NAMESET_FIRST;
	s->max = max;
	if ((s->tab = calloc(s->cap, sizeof(*s->tab))) == NULL) {
		free(s);
		return (NULL);
	}
	return (s);
}

void
pkg_nameset_free(struct pkg_nameset *s)
{
	if (s == NULL)
		return;
	free(s->tab);
	free(s);
}

uint64_t
pkg_nameset_dirs(const struct pkg_nameset *s)
{
	return (s->dirs);
}

static int
nameset_grow(struct pkg_nameset *s)
{
	struct node *tab, *o;
	size_t	     cap, i, j;

	cap = s->cap * 2;
	if ((tab = calloc(cap, sizeof(*tab))) == NULL)
		return (0);
	for (i = 0; i < s->cap; i++) {
		o = &s->tab[i];
		if (o->name == NULL)
			continue;
		for (j = o->hash & (cap - 1); tab[j].name != NULL;
		     j = (j + 1) & (cap - 1))
			;
		tab[j] = *o;
	}
	free(s->tab);
	s->tab = tab;
	s->cap = cap;
	return (1);
}

/*
 * Put one name (a prefix of len bytes) of the given kind.  Returns 0 if it
 * is new, 1 if a directory of that name is there already (which may be),
 * -1 with *err if it may not be added.
 */
static int
nameset_put(struct pkg_nameset *s, const char *name, size_t len, uint32_t kind,
    struct pkg_name_err *err)
{
	struct node *o;
	uint64_t     h;
	size_t	     j;

	h = fold_hash(name, len);
	for (j = h & (s->cap - 1); s->tab[j].name != NULL;
	     j = (j + 1) & (s->cap - 1)) {
		o = &s->tab[j];
		if (o->hash != h || !fold_equal(o->name, o->len, name, len))
			continue;
		if (o->len != len || memcmp(o->name, name, len) != 0) {
			name_err(err, PKG_CASE_DUPLICATE,
			    "differs only in case from '%.*s'", (int)o->len,
			    o->name);
			return (-1);
		}
		if (kind == NODE_FILE || o->kind == NODE_FILE) {
			if (kind == o->kind)
				name_err(err, PKG_DUPLICATE_NAME,
				    "name appears twice");
			else
				name_err(err, PKG_DUPLICATE_NAME,
				    "'%.*s' is both a file and a directory",
				    (int)len, name);
			return (-1);
		}
		if (kind == NODE_DIR && o->kind == NODE_DIR) {
			name_err(err, PKG_DUPLICATE_NAME, "name appears twice");
			return (-1);
		}
		if (kind == NODE_DIR)
			o->kind = NODE_DIR;
		return (1);
	}
	if (s->n >= s->max) {
		name_err(err, PKG_TOO_MANY_ENTRIES,
		    "more than %zu names and implied directories", s->max);
		return (-1);
	}
	if ((s->n + 1) * 2 > s->cap) {
		if (!nameset_grow(s)) {
			name_err(err, PKG_ERROR, "out of memory");
			return (-1);
		}
		for (j = h & (s->cap - 1); s->tab[j].name != NULL;
		     j = (j + 1) & (s->cap - 1))
			;
	}
	o = &s->tab[j];
	o->name = name;
	o->len = (uint32_t)len;
	o->kind = kind;
	o->hash = h;
	s->n++;
	if (kind != NODE_FILE)
		s->dirs++;
	return (0);
}

enum pkg_rule
pkg_nameset_add(struct pkg_nameset *s, const char *name, int dir,
    struct pkg_name_err *err)
{
	size_t len;
	int    r;

	len = strlen(name);
	/* An existing directory has its parents in already. */
	if ((r = nameset_put(s, name, len, dir ? NODE_DIR : NODE_FILE, err)) !=
	    0)
		return (r < 0 ? err->rule : PKG_OK);
	/* Parents, nearest first, until one is known. */
	while (len > 0) {
		while (len > 0 && name[len - 1] != '/')
			len--;
		if (len == 0)
			break;
		len--;
		if ((r = nameset_put(s, name, len, NODE_IMPLIED, err)) != 0)
			return (r < 0 ? err->rule : PKG_OK);
	}
	return (PKG_OK);
}
