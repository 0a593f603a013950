/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for a log chunk (server side) and the answer to it
 * (agent side): what decodes is bounded, valid, and survives a round trip.
 * Its stderr ranges lie inside data, in order, apart, at most
 * AGENTPROTO_LOG_STDERR_MAX, and come back the same.
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
	struct agentproto_logchunk c, c2;
	struct agentproto_err	   err;
	const json_t		  *f;
	char			  *s;
	size_t			   i;
	int			   follow;

	(void)agentproto_logack_decode((const char *)data, len, &follow, &err);
	if (!agentproto_logchunk_decode((const char *)data, len, &c, &err))
		return (0);
	if (c.data == NULL || strlen(c.data) > AGENTPROTO_LOG_DATA_MAX ||
	    c.seq < 0 || c.size < 0)
		abort();
	json_array_foreach(c.files, i, f)
	{
		if (!agentproto_log_file_valid(json_string_value(f)))
			abort();
	}
	if (c.nmarks > AGENTPROTO_LOG_STDERR_MAX ||
	    (c.nmarks > 0) != (c.marks != NULL))
		abort();
	for (i = 0; i < c.nmarks; i++) {
		if (c.marks[2 * i] < (i == 0 ? 0 : c.marks[2 * i - 1]) ||
		    c.marks[2 * i + 1] <= c.marks[2 * i] ||
		    (size_t)c.marks[2 * i + 1] > strlen(c.data))
			abort();
	}
	if ((s = agentproto_logchunk_encode(&c)) == NULL)
		abort();
	if (!agentproto_logchunk_decode(s, strlen(s), &c2, &err) ||
	    strcmp(c.data, c2.data) != 0 || c.seq != c2.seq ||
	    c.done != c2.done || c.matches != c2.matches ||
	    strcmp(c.error, c2.error) != 0 || c.nmarks != c2.nmarks ||
	    (c.nmarks > 0 &&
		memcmp(c.marks, c2.marks, 2 * c.nmarks * sizeof(*c.marks)) !=
		    0))
		abort();
	agentproto_logchunk_cleanup(&c2);
	agentproto_logchunk_cleanup(&c);
	free(s);
	return (0);
}
