/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for auth_cfgdoc_build() (a configuration PUT's body),
 * then what the server does with a doc it accepted: its view, its diff
 * against itself (empty) and the delivery's reveal (every secret back as
 * given).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_cfgdoc_err err;
	uint8_t		       key[AUTH_CFGKEY_LEN];
	json_t		      *body, *doc, *meta, *view, *diff, *payload, *v;
	const char	      *comment;
	char		       why[320];
	size_t		       i;

	if ((body = json_loadb((const char *)data, size, 0, NULL)) == NULL)
		return (0);
	memset(key, 0x5a, sizeof(key));
	doc = NULL;
	if (!json_is_object(body) ||
	    !auth_cfgdoc_build(body, key, 7, &doc, &comment, &err)) {
		if (doc != NULL)
			abort();
		json_decref(body);
		return (0);
	}
	if (comment == NULL || strlen(comment) > 500)
		abort();
	meta = json_pack("{s:i}", "version", 1);
	view = auth_cfgdoc_view(meta, doc);
	diff = auth_cfgdoc_diff(doc, doc, key, 7);
	if (view == NULL || json_array_size(diff) != 0)
		abort();
	payload = json_pack("{s:{s:i},s:O}", "task", "id", 7, "config", doc);
	if (!auth_cfgdoc_reveal(payload, key, why, sizeof(why)))
		abort();
	json_array_foreach(json_object_get(doc, "values"), i, v)
	{
		if (json_object_get(v, "enc") != NULL)
			abort(); /* revealed in place: the doc is shared */
	}
	json_decref(payload);
	json_decref(view);
	json_decref(diff);
	json_decref(meta);
	json_decref(doc);
	json_decref(body);
	return (0);
}
