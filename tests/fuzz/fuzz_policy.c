/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for the node policy parser (agent/policy.c): an
 * operator writes the file, so any text must be refused or accepted
 * cleanly, and what is accepted is well formed: at least one absolute
 * root, every root with an account, limits in range, and the policy as
 * reported in the facts decodes again to the same counts.
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
	static struct agent_policy     pol;
	static struct agentproto_facts f, g;
	struct agentproto_err	       err;
	json_t			      *j;
	char			       msg[512];
	size_t			       i;

	msg[0] = '\0';
	if (!agent_policy_parse(&pol, (const char *)data, len, msg,
		sizeof(msg))) {
		/* Refused: with a reason, and the defaults in place. */
		if (msg[0] == '\0' || pol.p.nroots != 1 ||
		    strcmp(pol.p.user, AGENT_POLICY_USER) != 0)
			abort();
		return (0);
	}
	if (pol.p.nroots < 1 || pol.p.nroots > AGENTPROTO_POLICY_ROOTS_MAX ||
	    pol.p.user[0] == '\0' || pol.p.tasks < 0 ||
	    pol.p.tasks > AGENT_TASKS_MAX || pol.p.log_bytes < 1024)
		abort();
	for (i = 0; i < pol.p.nroots; i++) {
		if (pol.p.roots[i].path[0] != '/' ||
		    pol.p.roots[i].user[0] == '\0')
			abort();
	}
	memset(&f, 0, sizeof(f));
	f.has_policy = 1;
	f.policy = pol.p;
	if ((j = agentproto_facts_to_json(&f)) == NULL)
		abort();
	if (!agentproto_facts_from_json(j, &g, &err) || !g.has_policy ||
	    g.policy.nroots != f.policy.nroots ||
	    g.policy.nkinds != f.policy.nkinds ||
	    g.policy.nrefuse_env != f.policy.nrefuse_env ||
	    g.policy.tasks != f.policy.tasks)
		abort();
	json_decref(j);
	return (0);
}
