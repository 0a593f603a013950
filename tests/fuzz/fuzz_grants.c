/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for auth_grants_parse(), then the permission checks
 * over whatever it accepted.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_principal p;
	struct auth_grant    *g;
	size_t		      i, n;

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

	p.user_id = 1;
	p.admin = 0;
	p.grants = g;
	p.ngrants = n;
	for (i = 0; i < n && i < 16; i++) {
		if (g[i].task_id != 0 &&
		    auth_level_task(&p, g[i].task_id, 0) < g[i].level)
			abort();
		if (g[i].node_id != 0 &&
		    auth_level_node(&p, g[i].node_id) < g[i].level)
			abort();
		/* A task grant shows its node without a level on it. */
		if (g[i].task_node_id != 0 &&
		    !auth_node_visible(&p, g[i].task_node_id))
			abort();
		(void)auth_level_str(
		    auth_level_task(&p, g[i].id, g[i].node_id));
	}
	if (auth_any_grant(&p, AUTH_LEVEL_VIEW) != (n > 0))
		abort();

	free(g);
	return (0);
}
