/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for the /proc/<pid>/stat line parser of the agent.
 * Properties: no crash or read past len; what it accepts is sane.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct agent_proc p;
	char		 *copy;

	/* An exact-size copy, so that reading past len is caught. */
	if ((copy = malloc(len == 0 ? 1 : len)) == NULL)
		return (0);
	memcpy(copy, data, len);
	memset(&p, 0, sizeof(p));
	if (agent_proc_parse(copy, len, &p) &&
	    (p.pid < 1 || p.utime < 0 || p.stime < 0 || p.starttime < 0 ||
		p.rss < 0))
		abort();
	free(copy);
	return (0);
}
