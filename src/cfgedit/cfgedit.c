/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * cfgedit_apply() and cfgedit_get(): the formats' scanners find each
 * node's value bytes, and the new values are spliced in between the
 * file's own bytes.
 */

#include <stdlib.h>
#include <string.h>

#include "cfgedit/internal.h"

int
cfgedit_apply(enum cfgedit_format f, const char *in, size_t inlen,
    struct cfgedit_edit *edits, size_t n, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	cfgedit_err(err, errlen, "%s: not implemented yet",
	    cfgedit_format_name(f));
	return (-1);
}

int
cfgedit_get(enum cfgedit_format f, const char *in, size_t inlen,
    const char *path, char **val, size_t *vlen, char *err, size_t errlen)
{
	cfgedit_err(err, errlen, "%s: not implemented yet",
	    cfgedit_format_name(f));
	return (-1);
}

int
cfgedit_props_parse(const char *in, size_t inlen, struct cfgedit_prop **props,
    size_t *n, char *err, size_t errlen)
{
	cfgedit_err(err, errlen, "properties: not implemented yet");
	return (-1);
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
	return (-1);
}
