/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for the command long-poll answer (agent side):
 * commands and log requests.
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
	for (i = 0; i < p.nlogs; i++) {
		if (!agentproto_uuid_valid(p.logs[i].id) ||
		    p.logs[i].task_id < 1 || p.logs[i].lines < 1 ||
		    p.logs[i].lines > AGENTPROTO_LOG_LINES_MAX ||
		    !agentproto_log_file_valid(p.logs[i].file) ||
		    strcmp(p.logs[i].file, "..") == 0 ||
		    strncmp(p.logs[i].file, "../", 3) == 0 ||
		    strstr(p.logs[i].file, "/../") != NULL)
			abort();
	}
	if ((s = agentproto_poll_encode(&p)) == NULL)
		abort();
	if (!agentproto_poll_decode(s, strlen(s), &p2, &err) ||
	    p2.ncommands != p.ncommands || p2.nlogs != p.nlogs)
		abort();
	for (i = 0; i < p.nlogs; i++) {
		if (strcmp(p.logs[i].file, p2.logs[i].file) != 0 ||
		    strcmp(p.logs[i].q, p2.logs[i].q) != 0 ||
		    p.logs[i].mode != p2.logs[i].mode)
			abort();
	}
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
