/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Secrets the server makes (enrolment tokens, node secrets) and the
 * SHA-256 by which it stores them.
 */

#include <sys/random.h>

#include <stdio.h>
#include <string.h>

#include <kore/kore.h>

#include <openssl/evp.h>

#include "api/api.h"

/* 32 random bytes as base64url (43 characters, no padding). */
void
api_random_token(char *out, size_t outlen)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
				  "klmnopqrstuvwxyz0123456789-_";
	uint8_t		  raw[33];
	size_t		  i, o;
	uint32_t	  v;

	if (outlen < 44 || getrandom(raw, 32, 0) != 32)
		fatal("api: getrandom failed");
	raw[32] = 0;
	for (i = 0, o = 0; i < 32; i += 3) {
		v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
		    (i + 2 < 32 ? raw[i + 2] : 0);
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		if (i + 2 < 32)
			out[o++] = b64[v & 63];
	}
	out[o] = '\0';
	explicit_bzero(raw, sizeof(raw));
}

void
api_sha256_hex(const char *in, size_t len, char *hex, size_t hexlen)
{
	uint8_t	     md[32];
	unsigned int n, i;

	n = sizeof(md);
	if (hexlen < 65 || !EVP_Digest(in, len, md, &n, EVP_sha256(), NULL))
		fatal("api: sha256 failed");
	for (i = 0; i < 32; i++)
		snprintf(hex + i * 2, 3, "%02x", md[i]);
}
