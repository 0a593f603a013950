/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The node credential: "YardNode <id>:<secret>" (docs/agent-protocol.md,
 * "Authentication").
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "agentproto/agentproto.h"
#include "agentproto/internal.h"

int
agentproto_secret_valid(const char *s)
{
	size_t i;

	for (i = 0; i < AGENTPROTO_SECRET_LEN; i++) {
		if (s[i] == '\0' || strchr(agentproto_b64url, s[i]) == NULL)
			return (0);
	}
	return (s[i] == '\0');
}

int
agentproto_auth_parse(const char *hdr, int64_t *id, char *secret,
    struct agentproto_err *err)
{
	const char *p;
	int64_t	    v;
	size_t	    n, slen;

	*id = 0;
	secret[0] = '\0';
	if (hdr == NULL) {
		agentproto_err_set(err, "", "authorization", "missing");
		return (0);
	}
	slen = strlen(AGENTPROTO_AUTH_SCHEME);
	/* Auth schemes are case-insensitive (RFC 9110 11.1). */
	if (strnlen(hdr, AGENTPROTO_AUTH_MAX + 1) > AGENTPROTO_AUTH_MAX ||
	    strncasecmp(hdr, AGENTPROTO_AUTH_SCHEME, slen) != 0 ||
	    hdr[slen] != ' ') {
		agentproto_err_set(err, "", "authorization",
		    "expected YardNode <id>:<secret>");
		return (0);
	}
	p = hdr + slen + 1;
	v = 0;
	for (n = 0; p[n] >= '0' && p[n] <= '9'; n++) {
		/* 2^53 has 16 digits; stop before int64_t could overflow. */
		if (n >= 16 ||
		    (n == 0 && p[n] == '0' && p[1] >= '0' && p[1] <= '9'))
			break;
		v = v * 10 + (p[n] - '0');
	}
	if (n == 0 || p[n] != ':' || v < 1 || v > AGENTPROTO_NODE_ID_MAX) {
		agentproto_err_set(err, "", "authorization", "bad node id");
		return (0);
	}
	p += n + 1;
	if (!agentproto_secret_valid(p)) {
		agentproto_err_set(err, "", "authorization", "bad secret");
		return (0);
	}
	memcpy(secret, p, AGENTPROTO_SECRET_LEN + 1);
	*id = v;
	return (1);
}

int
agentproto_auth_format(char *buf, size_t len, int64_t id, const char *secret)
{
	int n;

	if (id < 1 || id > AGENTPROTO_NODE_ID_MAX ||
	    !agentproto_secret_valid(secret))
		return (0);
	n = snprintf(buf, len, "%s %" PRId64 ":%s", AGENTPROTO_AUTH_SCHEME, id,
	    secret);
	return (n > 0 && (size_t)n < len);
}
