/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for the task spec normaliser (API input on the
 * server, start payloads on the agent), for Linux and Windows nodes.
 * Properties: no crash; the normalised spec normalises to itself; a
 * refusal always names why, with at least one field error, each with a
 * known code, and never more than AGENTPROTO_FERR_MAX kept.
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
	size_t		      k;
	int		      i;

	in = json_loadb((const char *)data, len,
	    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (in == NULL)
		return (0);
	/* Both OS families: paths differ, the properties do not. */
	for (i = 0; i < 2; i++) {
		os = i == 0 ? "linux" : "windows";
		if ((out = agentproto_task_spec_os(in, os, &err)) == NULL) {
			if (err.msg[0] == '\0' || err.nf == 0 ||
			    err.nf > AGENTPROTO_FERR_MAX)
				abort();
			for (k = 0; k < err.nf; k++) {
				if (err.f[k].code == AGENTPROTO_C_NONE ||
				    err.f[k].code >= AGENTPROTO_C_COUNT)
					abort();
			}
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
