/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for the node Authorization header and error replies.
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
	struct agentproto_error_reply e;
	struct agentproto_err	      err;
	char			     *hdr, secret[AGENTPROTO_SECRET_LEN + 1];
	char			      again[AGENTPROTO_AUTH_MAX + 1];
	int64_t			      id;

	/* Headers reach us NUL-terminated. */
	if ((hdr = malloc(len + 1)) == NULL)
		return (0);
	memcpy(hdr, data, len);
	hdr[len] = '\0';
	if (agentproto_auth_parse(hdr, &id, secret, &err)) {
		if (id < 1 || id > AGENTPROTO_NODE_ID_MAX ||
		    !agentproto_auth_format(again, sizeof(again), id, secret))
			abort();
	}
	free(hdr);
	(void)agentproto_error_decode((const char *)data, len, &e, &err);
	return (0);
}
