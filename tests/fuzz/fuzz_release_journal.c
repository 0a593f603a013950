/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for the release journal's parser (agent/release.c):
 * the journal is what the agent believes about a task's releases, so a
 * damaged file must be refused cleanly (with a reason, the journal left
 * empty), and what is accepted is consistent: releases in ascending
 * order below next, every reference in the list, and the text
 * agent_rel_dump() writes parses back to the same journal.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "release.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct agent_reljournal j, k;
	char			       why[256];
	char			      *s;
	size_t			       i;

	why[0] = '\0';
	if (!agent_rel_parse((const char *)data, len, 1, &j, why,
		sizeof(why))) {
		if (why[0] == '\0' || j.nrel != 0 || j.live != -1 ||
		    j.next != 1)
			abort();
		return (0);
	}
	if (j.task_id != 1 || j.dir[0] != '/' || j.nrel > AGENT_REL_MAX)
		abort();
	for (i = 0; i < j.nrel; i++) {
		if (j.v[i].n < 0 || j.v[i].n >= j.next ||
		    (i > 0 && j.v[i].n <= j.v[i - 1].n))
			abort();
	}
	if ((j.live != -1 && agent_rel_find(&j, j.live) == NULL) ||
	    (j.last_good != -1 && agent_rel_find(&j, j.last_good) == NULL) ||
	    (j.pending != -1 && agent_rel_find(&j, j.pending) == NULL) ||
	    (j.prev != -1 && agent_rel_find(&j, j.prev) == NULL))
		abort();
	if ((s = agent_rel_dump(&j)) == NULL)
		return (0);
	if (!agent_rel_parse(s, strlen(s), 1, &k, why, sizeof(why)) ||
	    memcmp(&j, &k, sizeof(j)) != 0)
		abort();
	free(s);
	return (0);
}
