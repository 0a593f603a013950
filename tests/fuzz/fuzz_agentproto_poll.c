/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for the command long-poll answer (agent side).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agentproto/agentproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct agentproto_poll p, p2;
	struct agentproto_err  err;
	char		      *s;
	size_t		       i;

	if (!agentproto_poll_decode((const char *)data, len, &p, &err))
		return (0);
	for (i = 0; i < p.ncommands; i++) {
		if (!agentproto_uuid_valid(p.commands[i].id) ||
		    p.commands[i].seq < 1 || p.commands[i].payload == NULL)
			abort();
	}
	if ((s = agentproto_poll_encode(&p)) == NULL)
		abort();
	if (!agentproto_poll_decode(s, strlen(s), &p2, &err) ||
	    p2.ncommands != p.ncommands)
		abort();
	for (i = 0; i < p.ncommands; i++) {
		if (strcmp(p.commands[i].id, p2.commands[i].id) != 0 ||
		    p.commands[i].kind != p2.commands[i].kind)
			abort();
	}
	agentproto_poll_cleanup(&p2);
	agentproto_poll_cleanup(&p);
	free(s);
	return (0);
}
