/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for the agent's release command payloads
 * (agent_deploy_validate(): deploy, update, rollback, move).
 * Properties: no crash or leak; a refusal always names why; an accepted
 * payload has a task id and a normalised spec.
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
	static const enum agentproto_cmd_type kinds[] = { AGENTPROTO_CMD_DEPLOY,
		AGENTPROTO_CMD_UPDATE, AGENTPROTO_CMD_ROLLBACK,
		AGENTPROTO_CMD_MOVE };
	struct agentproto_command	      c;
	struct agent_cmd_args		      a;
	json_error_t			      jerr;
	char				      why[512];
	size_t				      i;

	memset(&c, 0, sizeof(c));
	c.payload = json_loadb((const char *)data, len,
	    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (c.payload == NULL)
		return (0);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		c.kind = kinds[i];
		memset(&a, 0, sizeof(a));
		why[0] = '\0';
		if (agent_deploy_validate(&c, &a, why, sizeof(why))) {
			if (a.task_id <= 0 || a.spec == NULL)
				abort();
		} else if (why[0] == '\0')
			abort();
		json_decref(a.spec);
	}
	json_decref(c.payload);
	return (0);
}
