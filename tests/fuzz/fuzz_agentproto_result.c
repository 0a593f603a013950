/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for the command result (server side): decode, encode
 * and decode again to the same result, progress, releases, code and
 * params included.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agentproto/agentproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct agentproto_result r, r2;
	struct agentproto_err	 err;
	char			*s;

	if (!agentproto_result_decode((const char *)data, len, &r, &err))
		return (0);
	if ((s = agentproto_result_encode(&r)) == NULL)
		abort();
	if (!agentproto_result_decode(s, strlen(s), &r2, &err) ||
	    r.state != r2.state || r.received_at != r2.received_at ||
	    strcmp(r.output ? r.output : "", r2.output ? r2.output : "") != 0 ||
	    r.has_progress != r2.has_progress ||
	    strcmp(r.progress_step, r2.progress_step) != 0 ||
	    r.progress_percent != r2.progress_percent ||
	    (r.releases == NULL) != (r2.releases == NULL) ||
	    (r.releases != NULL && !json_equal(r.releases, r2.releases)) ||
	    strcmp(r.code, r2.code) != 0 ||
	    (r.params == NULL) != (r2.params == NULL) ||
	    (r.params != NULL && !json_equal(r.params, r2.params)))
		abort();
	agentproto_result_cleanup(&r2);
	agentproto_result_cleanup(&r);
	free(s);
	return (0);
}
