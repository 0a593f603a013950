/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for auth_verify().  Raw inputs exercise the shape,
 * base64url and header checks.  An input starting with 'S' is instead
 * "header JSON \n payload JSON", which the harness encodes and signs with
 * the HS256 secret below, so that the claims checks behind the signature
 * are reached too.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Test keys generated for this harness only; they protect nothing. */
static const char fuzz_rsa_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAo85Z4RWu0whIOCErv0yG\n"
    "4YjWVGZYgTtZhWVRziA9ULSANH/xyVfIRnfJAc9BPYqc/CM0j5h+KQqnq5x5Q23C\n"
    "9b7tFFFOKX08H9N7nq+qPPnxdhSLc/J2ZsPbWV05hMeddf8j/rlIyRmTJMN4WJZm\n"
    "nhPO+b1eq3MlMovMpVsPswGB9m4B3Uv9I4AuSkO4zGkm7EAZqPq3dRxS7FSzjta1\n"
    "vfQPyT8lecQz1KW8jATWTMtWtNZgB7yYrQ1JR1b3ioFF35EdauZKVKLEiY1Q7XYJ\n"
    "CBs3kMNhx1ntPHlY0smENyeRraF0t3rga0RvhW0GJR3y7ejAHYsShnF7BaV9s/Cy\n"
    "8QIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static const char fuzz_ec_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEJlyYP/wZqf1LUfPThZJQTXvk8vzB\n"
    "LSv1fWAEjiJvMIxEKqeq1651sUoY+I6srWvaF5QzbWmT0nMrmnvUsnjqDw==\n"
    "-----END PUBLIC KEY-----\n";

static const uint8_t fuzz_secret[] = "yard-fuzz-secret-0123456789abcdef";

#define FUZZ_NOW ((int64_t)1700000000)

static struct auth_keyset *fuzz_ks;
static struct auth_cache  *fuzz_cache;
static char		   fuzz_tok[4 * AUTH_TOKEN_MAX];

static size_t
b64url(const uint8_t *in, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t		  i, o;
	uint32_t	  v;

	o = 0;
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
	}
	return (o);
}

static void
fuzz_init(void)
{
	char err[128];

	if ((fuzz_ks = auth_keyset_new()) == NULL ||
	    !auth_keyset_add_pem(fuzz_ks, fuzz_rsa_pem, strlen(fuzz_rsa_pem),
		NULL, err, sizeof(err)) ||
	    !auth_keyset_add_pem(fuzz_ks, fuzz_ec_pem, strlen(fuzz_ec_pem),
		"ec1", err, sizeof(err)) ||
	    !auth_keyset_add_secret(fuzz_ks, fuzz_secret,
		sizeof(fuzz_secret) - 1, err, sizeof(err)) ||
	    (fuzz_cache = auth_cache_new(64)) == NULL)
		abort();
}

/* "S" header "\n" payload -> b64(header).b64(payload).HS256 */
static size_t
fuzz_sign(const uint8_t *data, size_t size)
{
	const uint8_t *nl;
	uint8_t	       mac[EVP_MAX_MD_SIZE];
	unsigned int   maclen;
	size_t	       o;

	if (size > AUTH_TOKEN_MAX)
		return (0);
	if ((nl = memchr(data, '\n', size)) == NULL)
		return (0);
	o = b64url(data, (size_t)(nl - data), fuzz_tok);
	fuzz_tok[o++] = '.';
	o += b64url(nl + 1, size - (size_t)(nl - data) - 1, fuzz_tok + o);
	if (HMAC(EVP_sha256(), fuzz_secret, sizeof(fuzz_secret) - 1,
		(const uint8_t *)fuzz_tok, o, mac, &maclen) == NULL)
		abort();
	fuzz_tok[o++] = '.';
	o += b64url(mac, maclen, fuzz_tok + o);
	return (o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_policy pol;
	struct auth_claims c, hit;
	const char	  *tok;
	size_t		   len;
	enum auth_result   r;

	if (fuzz_ks == NULL)
		fuzz_init();

	memset(&pol, 0, sizeof(pol));
	pol.issuer = "https://ews.test";
	pol.audience = "yard";
	pol.skew = 60;
	pol.algs = 0x7f;
	pol.admin_role = "yard-admin";

	if (size > 0 && data[0] == 'S') {
		if ((len = fuzz_sign(data + 1, size - 1)) == 0)
			return (0);
		tok = fuzz_tok;
	} else {
		tok = (const char *)data;
		len = size;
	}

	r = auth_verify(fuzz_ks, &pol, tok, len, FUZZ_NOW, &c);
	(void)auth_result_str(r);
	(void)auth_result_code(r);
	if (r == AUTH_OK) {
		/* What verify accepted must be a sane, terminated claim set. */
		if (c.sub[0] == '\0' ||
		    memchr(c.sub, '\0', sizeof(c.sub)) == NULL ||
		    memchr(c.name, '\0', sizeof(c.name)) == NULL ||
		    memchr(c.email, '\0', sizeof(c.email)) == NULL ||
		    memchr(c.jti, '\0', sizeof(c.jti)) == NULL)
			abort();
		if (c.exp < INT64_MAX - pol.skew &&
		    FUZZ_NOW >= c.exp + pol.skew)
			abort();
		auth_cache_put(fuzz_cache, tok, len, &c);
		if (!auth_cache_get(fuzz_cache, tok, len, FUZZ_NOW, pol.skew,
			&hit) ||
		    memcmp(&c, &hit, sizeof(c)) != 0)
			abort();
	} else {
		/* A rejected token leaves nothing behind in *out. */
		static const struct auth_claims zero;

		if (memcmp(&c, &zero, sizeof(c)) != 0)
			abort();
	}

	return (0);
}
