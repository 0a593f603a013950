/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Strict base64url, shared by token verification (token.c) and the JWKS
 * parser (keyset.c).
 */

#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"

int
auth_b64url_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '-')
		return (62);
	if (c == '_')
		return (63);
	return (-1);
}

/*
 * Strict base64url (RFC 4648 5, RFC 7515 2): no padding, no blanks, and the
 * unused low bits of the last character must be zero.  Lenient decoders let
 * many strings decode to the same bytes, which makes a token malleable.
 * Returns 1 and the decoded length in *outlen, or 0 on bad input or when the
 * result would not fit in outsz bytes.
 */
int
auth_b64url_decode(const char *in, size_t inlen, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	uint32_t acc;
	size_t	 i, o, need;
	int	 v;

	*outlen = 0;
	if (inlen % 4 == 1)
		return (0);
	need = inlen / 4 * 3 + (inlen % 4 == 0 ? 0 : inlen % 4 - 1);
	if (need > outsz)
		return (0);

	acc = 0;
	o = 0;
	for (i = 0; i < inlen; i++) {
		if ((v = auth_b64url_val((unsigned char)in[i])) < 0)
			return (0);
		acc = (acc << 6) | (uint32_t)v;
		if (i % 4 == 3) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
		}
	}

	switch (inlen % 4) {
	case 2:
		/* 12 bits carry 8: the low 4 must be zero. */
		if (acc & 0x0f)
			return (0);
		out[o++] = (uint8_t)(acc >> 4);
		break;
	case 3:
		/* 18 bits carry 16: the low 2 must be zero. */
		if (acc & 0x03)
			return (0);
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
		break;
	}

	*outlen = o;
	return (1);
}
