/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for auth_keyset_set_jwks(): any document, then one
 * verification so that keys built from fuzzed n/e/x/y are also used.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A test key generated for this harness only; it protects nothing. */
static const char fuzz_ec_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEJlyYP/wZqf1LUfPThZJQTXvk8vzB\n"
    "LSv1fWAEjiJvMIxEKqeq1651sUoY+I6srWvaF5QzbWmT0nMrmnvUsnjqDw==\n"
    "-----END PUBLIC KEY-----\n";

/* {"alg":"RS256","kid":"k1"}.{"sub":"a"}.(256 zero bytes) */
static const char fuzz_token[] =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhIn0."
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AA";

static struct auth_keyset *fuzz_ks;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_policy pol;
	struct auth_claims c;
	char		   err[256];
	size_t		   before, skipped;
	int		   ok;

	if (fuzz_ks == NULL) {
		if ((fuzz_ks = auth_keyset_new()) == NULL ||
		    !auth_keyset_add_pem(fuzz_ks, fuzz_ec_pem,
			strlen(fuzz_ec_pem), NULL, err, sizeof(err)))
			abort();
	}

	before = auth_keyset_count(fuzz_ks);
	ok = auth_keyset_set_jwks(fuzz_ks, (const char *)data, size, &skipped,
	    err, sizeof(err));
	/* A rejected document leaves the set alone; nothing exceeds the cap. */
	if (!ok && auth_keyset_count(fuzz_ks) != before)
		abort();
	if (auth_keyset_count(fuzz_ks) < 1 ||
	    auth_keyset_count(fuzz_ks) > AUTH_KEYS_MAX)
		abort();
	if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();

	memset(&pol, 0, sizeof(pol));
	pol.issuer = "https://ews.test";
	pol.audience = "yard";
	pol.algs = 0x3f;
	if (auth_verify(fuzz_ks, &pol, fuzz_token, sizeof(fuzz_token) - 1,
		1700000000, &c) == AUTH_OK)
		abort();

	return (0);
}
