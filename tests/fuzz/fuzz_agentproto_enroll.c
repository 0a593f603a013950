/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for the enrolment request (server side) and response
 * (agent side) decoders; whatever decodes must encode and decode again.
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
	struct agentproto_enroll_req  req, req2;
	struct agentproto_enroll_resp resp, resp2;
	struct agentproto_err	      err;
	char			     *s;

	if (agentproto_enroll_req_decode((const char *)data, len, &req, &err)) {
		if ((s = agentproto_enroll_req_encode(&req)) == NULL)
			abort();
		if (!agentproto_enroll_req_decode(s, strlen(s), &req2, &err) ||
		    strcmp(req.token, req2.token) != 0 ||
		    req.facts.ndisks != req2.facts.ndisks)
			abort();
		free(s);
	}
	if (agentproto_enroll_resp_decode((const char *)data, len, &resp,
		&err)) {
		if ((s = agentproto_enroll_resp_encode(&resp)) == NULL)
			abort();
		if (!agentproto_enroll_resp_decode(s, strlen(s), &resp2,
			&err) ||
		    memcmp(&resp, &resp2, sizeof(resp)) != 0)
			abort();
		free(s);
	}
	return (0);
}
