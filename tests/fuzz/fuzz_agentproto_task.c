/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for the task spec normaliser (API input on the
 * server, start payloads on the agent).  Properties: no crash; the
 * normalised spec normalises to itself; a refusal always names why.
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
	struct agentproto_err err;
	json_error_t	      jerr;
	json_t		     *in, *out, *again;

	in = json_loadb((const char *)data, len,
	    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (in == NULL)
		return (0);
	if ((out = agentproto_task_spec(in, &err)) == NULL) {
		if (err.msg[0] == '\0')
			abort();
		json_decref(in);
		return (0);
	}
	if ((again = agentproto_task_spec(out, &err)) == NULL ||
	    !json_equal(out, again))
		abort();
	json_decref(again);
	json_decref(out);
	json_decref(in);
	return (0);
}
