/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for the heartbeat (server side) and heartbeat answer
 * (agent side) decoders; whatever decodes must survive a round trip.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agentproto/agentproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct agentproto_heartbeat h, h2;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct agentproto_heartbeat_resp r;
	struct agentproto_err		 err;
	char				*s;

	if (agentproto_heartbeat_decode((const char *)data, len, &h, &err)) {
		if ((s = agentproto_heartbeat_encode(&h)) == NULL)
			abort();
		if (!agentproto_heartbeat_decode(s, strlen(s), &h2, &err) ||
		    h.seq != h2.seq || h.nbacklog != h2.nbacklog ||
		    h.facts.ndisks != h2.facts.ndisks ||
		    h.facts.has_policy != h2.facts.has_policy ||
		    h.facts.policy.nroots != h2.facts.policy.nroots ||
		    h.facts.policy.nkinds != h2.facts.policy.nkinds ||
		    h.facts.policy.nrefuse_env != h2.facts.policy.nrefuse_env)
			abort();
		agentproto_heartbeat_cleanup(&h2);
		free(s);
		agentproto_heartbeat_cleanup(&h);
	}
	(void)agentproto_heartbeat_resp_decode((const char *)data, len, &r,
	    &err);
	return (0);
}
