/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * cfgedit: byte-exact edits of configuration files (docs/config.md,
 * "Nodepaths and formats").  Pure C (libc and iconv only, no Kore, no
 * allocation outside malloc/free): the agent applies a task's mappings
 * with it before a start, the server checks nodepaths, previews a
 * mapping and reads and writes .properties files with it.
 *
 * An edit replaces the value of one node: the text of an XML element, an
 * XML attribute, a JSON scalar, or a .properties key's value.  Every byte
 * outside the replaced value stays identical: comments, order,
 * indentation, CRLF line ends, a UTF-8 BOM, the XML declaration.  The
 * value is given in UTF-8, escaped for its place (XML text or attribute,
 * JSON string, .properties value) and converted to the file's charset
 * (the XML declaration's encoding, e.g. GBK; UTF-8 otherwise); a
 * character the charset cannot hold is written as an XML character
 * reference (&#x1F600;), never a lossy write.
 */

#ifndef CFGEDIT_H
#define CFGEDIT_H

#include <stddef.h>

enum cfgedit_format { CFGEDIT_XML = 0, CFGEDIT_JSON, CFGEDIT_PROPERTIES };

#define CFGEDIT_PATH_MAX  1024 /* nodepath bytes */
#define CFGEDIT_STEPS_MAX 64 /* steps in a nodepath */
#define CFGEDIT_ERR_MAX	  512 /* room for a message */

/* "xml", "json" or "properties" -> 0 and *f; -1 otherwise. */
int	    cfgedit_format_parse(const char *, enum cfgedit_format *);
const char *cfgedit_format_name(enum cfgedit_format);

/*
 * Check a nodepath's grammar for a format: 0, or -1 with a message naming
 * the problem and its byte offset in err.  XML and JSON: dotted steps
 * name[i] ([0] optional), *[i] (XML: any tag), a bare [i] after a JSON
 * member (array element), @attr as the last XML step; a name holding
 * '.', '[', ']' or '"' is quoted: "a.b" (\" and \\ inside).
 * .properties: the key verbatim (any non-empty bytes without NUL).
 */
int cfgedit_path_check(enum cfgedit_format, const char *path, char *err,
    size_t errlen);

/*
 * One edit.  value is UTF-8 (value_len bytes, may hold any byte but NUL
 * is refused).  After a successful cfgedit_apply(), at and len say where
 * the new (escaped, converted) value lies in the output, for a preview.
 */
struct cfgedit_edit {
	const char *path;
	const char *value;
	size_t	    value_len;
	size_t	    at, len; /* out */
};

/*
 * Apply n edits to a file's bytes (in, inlen; need not be NUL-terminated).
 * On success 0, *out malloc'd (NUL-terminated beyond *outlen) and every
 * edit's at/len set.  On failure -1, nothing allocated, err says which
 * path and why, e.g. `root.nodes[3]: no element "nodes" at index 3 (there
 * are 1)`, `file does not parse as XML: line 4: unclosed tag "a"`, `value
 * for root.name cannot be written in GBK`.  Two edits of one node: the
 * last wins.
 */
int cfgedit_apply(enum cfgedit_format, const char *in, size_t inlen,
    struct cfgedit_edit *edits, size_t n, char **out, size_t *outlen, char *err,
    size_t errlen);

/*
 * Read a node's value, unescaped and in UTF-8: 0 and *val malloc'd
 * (NUL-terminated beyond *vlen), or -1 with err.  What cfgedit_apply()
 * wrote reads back as the exact bytes given.
 */
int cfgedit_get(enum cfgedit_format, const char *in, size_t inlen,
    const char *path, char **val, size_t *vlen, char *err, size_t errlen);

/*
 * .properties files by Java's rules (java.util.Properties.load): '=',
 * ':' or white space separators, '\' continuations, '#' and '!'
 * comments, \uXXXX and the other escapes.  Input is UTF-8 (ISO-8859-1
 * bytes that are not valid UTF-8 are taken as Latin-1).  Keys are unique
 * in the result (a later line wins, as in Java).
 */
struct cfgedit_prop {
	char  *key, *value; /* malloc'd, NUL-terminated */
	size_t key_len, value_len;
	int    line; /* 1-based line where the entry starts */
};

int  cfgedit_props_parse(const char *in, size_t inlen,
     struct cfgedit_prop **props, size_t *n, char *err, size_t errlen);
void cfgedit_props_free(struct cfgedit_prop *, size_t);

/*
 * Write pairs as a .properties file that Properties.load() reads back as
 * the same pairs (ASCII only: other characters as \uXXXX, supplementary
 * ones as surrogate pairs; separators, leading blanks, '#', '!' and
 * line ends escaped).  header, when not NULL, becomes '#' comment lines.
 * 0 and *out malloc'd, or -1 (out of memory, or a NUL in a pair).
 */
int cfgedit_props_write(const struct cfgedit_prop *, size_t n,
    const char *header, char **out, size_t *outlen);

/*
 * A key as an environment variable name: '.' and ':' become "__", the
 * case is kept.  0, or -1 when the result would not be a portable name
 * ([A-Za-z_][A-Za-z0-9_]*) or does not fit in outlen.
 */
int cfgedit_env_name(const char *key, char *out, size_t outlen);

#endif /* CFGEDIT_H */
