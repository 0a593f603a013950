/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for auth_grants_parse(): whatever it accepts is
 * well-formed (the permission rules themselves live in SQL, 006_levels.sql).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_grant *g;
	size_t		   i, n;

	if (!auth_grants_parse((const char *)data, size, &g, &n)) {
		if (g != NULL || n != 0)
			abort();
		return (0);
	}

	for (i = 0; i < n; i++) {
		/* Exactly one target, a known level, positive ids. */
		if (g[i].id <= 0 ||
		    (g[i].node_id == 0) == (g[i].task_id == 0) ||
		    g[i].node_id < 0 || g[i].task_id < 0 ||
		    (g[i].level != AUTH_LEVEL_VIEW &&
			g[i].level != AUTH_LEVEL_OPERATE &&
			g[i].level != AUTH_LEVEL_MANAGE) ||
		    g[i].task_node_id < 0 ||
		    (g[i].node_id != 0 && g[i].task_node_id != 0))
			abort();
	}

	/* Every level it accepted has a name. */
	for (i = 0; i < n; i++)
		if (auth_level_str(g[i].level) == NULL)
			abort();

	free(g);
	return (0);
}
