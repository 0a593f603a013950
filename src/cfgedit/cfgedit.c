/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * cfgedit_apply() and cfgedit_get(): checks shared by every format, then
 * the format's scanner (xml.c, json.c, props.c) finds each node's value
 * bytes and the new values are spliced in between the file's own bytes.
 */

#include <stdlib.h>
#include <string.h>

#include "cfgedit/internal.h"

int
cfgedit_apply(enum cfgedit_format f, const char *in, size_t inlen,
    struct cfgedit_edit *edits, size_t n, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	size_t i;

	if (in == NULL && inlen > 0) {
		cfgedit_err(err, errlen, "no input");
		return (-1);
	}
	if (in == NULL)
		in = "";
	for (i = 0; i < n; i++) {
		edits[i].at = edits[i].len = 0;
		if (edits[i].path == NULL ||
		    (edits[i].value == NULL && edits[i].value_len > 0)) {
			cfgedit_err(err, errlen, "edit %zu: no path or value",
			    i);
			return (-1);
		}
		if (edits[i].value == NULL)
			edits[i].value = "";
		if (memchr(edits[i].value, '\0', edits[i].value_len) != NULL) {
			cfgedit_err(err, errlen,
			    "value for %s holds a NUL byte", edits[i].path);
			return (-1);
		}
	}
	switch (f) {
	case CFGEDIT_XML:
		return (cfgedit_xml_apply(in, inlen, edits, n, out, outlen, err,
		    errlen));
	case CFGEDIT_JSON:
		return (cfgedit_json_apply(in, inlen, edits, n, out, outlen,
		    err, errlen));
	case CFGEDIT_PROPERTIES:
		for (i = 0; i < n; i++)
			if (cfgedit_path_check(f, edits[i].path, err, errlen) ==
			    -1)
				return (-1);
		return (cfgedit_props_apply(in, inlen, edits, n, out, outlen,
		    err, errlen));
	}
	cfgedit_err(err, errlen, "unknown format");
	return (-1);
}

int
cfgedit_get(enum cfgedit_format f, const char *in, size_t inlen,
    const char *path, char **val, size_t *vlen, char *err, size_t errlen)
{
	if ((in == NULL && inlen > 0) || path == NULL) {
		cfgedit_err(err, errlen, "no input or path");
		return (-1);
	}
	if (in == NULL)
		in = "";
	switch (f) {
	case CFGEDIT_XML:
		return (
		    cfgedit_xml_get(in, inlen, path, val, vlen, err, errlen));
	case CFGEDIT_JSON:
		return (
		    cfgedit_json_get(in, inlen, path, val, vlen, err, errlen));
	case CFGEDIT_PROPERTIES:
		if (cfgedit_path_check(f, path, err, errlen) == -1)
			return (-1);
		return (
		    cfgedit_props_get(in, inlen, path, val, vlen, err, errlen));
	}
	cfgedit_err(err, errlen, "unknown format");
	return (-1);
}
