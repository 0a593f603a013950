/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for the task spec normaliser (API input on the
 * server, start payloads on the agent), for Linux and Windows nodes.
 * Properties: no crash; the normalised spec normalises to itself; a
 * refusal always names why.
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
	const char	     *os;
	int		      i;

	in = json_loadb((const char *)data, len,
	    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (in == NULL)
		return (0);
	/* Both OS families: paths differ, the properties do not. */
	for (i = 0; i < 2; i++) {
		os = i == 0 ? "linux" : "windows";
		if ((out = agentproto_task_spec_os(in, os, &err)) == NULL) {
			if (err.msg[0] == '\0')
				abort();
			continue;
		}
		if ((again = agentproto_task_spec_os(out, os, &err)) == NULL ||
		    !json_equal(out, again))
			abort();
		json_decref(again);
		json_decref(out);
	}
	json_decref(in);
	return (0);
}
