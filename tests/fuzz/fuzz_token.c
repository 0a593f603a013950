/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for auth_verify_seen().  Raw inputs exercise the
 * shape, base64url and header checks.  An input starting with 'S' is
 * instead "header JSON \n payload JSON", which the harness encodes and
 * signs with the HS256 secret below, so that the claims checks behind the
 * signature are reached too.  Every token is verified under the default
 * claim map and under a Keycloak-shaped one: the map may change what is
 * read, never the result.  An input starting with 'P' is four lines given
 * to auth_claim_map_parse().
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

static struct auth_keyset   *fuzz_ks;
static struct auth_cache    *fuzz_cache;
static char		     fuzz_tok[4 * AUTH_TOKEN_MAX];
static struct auth_claim_map fuzz_map;

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
	if (!auth_claim_map_parse(&fuzz_map, "preferred_username,a.b.c", "upn",
		"realm_access.roles,resource_access.yard.roles,"
		"https://example.com/roles,groups",
		"scp", err, sizeof(err)))
		abort();
}

/* Each member NUL-terminated, printable ASCII only. */
static void
fuzz_check_seen(const struct auth_seen *seen)
{
	const char *f[] = { seen->alg, seen->typ, seen->kid, seen->iss,
		seen->sub };
	size_t sz[] = { sizeof(seen->alg), sizeof(seen->typ), sizeof(seen->kid),
		sizeof(seen->iss), sizeof(seen->sub) };
	size_t i, j;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (memchr(f[i], '\0', sz[i]) == NULL)
			abort();
		for (j = 0; f[i][j] != '\0'; j++) {
			if (f[i][j] < 0x20 || f[i][j] > 0x7e)
				abort();
		}
	}
}

/* "P" names "\n" email "\n" roles "\n" scopes */
static void
fuzz_map_parse(const uint8_t *data, size_t size)
{
	struct auth_claim_map m;
	char		      buf[2048], *line[4], err[256];
	size_t		      i, n;

	if (size >= sizeof(buf))
		return;
	memcpy(buf, data, size);
	buf[size] = '\0';
	line[0] = buf;
	for (n = 1; n < 4; n++) {
		if ((line[n] = strchr(line[n - 1], '\n')) == NULL)
			return;
		*line[n]++ = '\0';
	}
	if (!auth_claim_map_parse(&m, line[0], line[1], line[2], line[3], err,
		sizeof(err))) {
		if (err[0] == '\0' || m.nnames != 0 || m.nroles != 0)
			abort();
		return;
	}
	if (m.nnames > AUTH_MAP_MAX || m.nroles > AUTH_MAP_MAX ||
	    m.nscopes > AUTH_MAP_MAX ||
	    memchr(m.email, '\0', sizeof(m.email)) == NULL)
		abort();
	for (i = 0; i < m.nroles; i++) {
		n = strnlen(m.roles[i], sizeof(m.roles[i]));
		if (n == 0 || n == sizeof(m.roles[i]) || m.roles[i][0] == '.' ||
		    m.roles[i][n - 1] == '.' ||
		    strstr(m.roles[i], "..") != NULL)
			abort();
	}
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
	struct auth_claims c, hit, mc;
	struct auth_seen   seen;
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

	if (size > 0 && data[0] == 'P') {
		fuzz_map_parse(data + 1, size - 1);
		return (0);
	}
	if (size > 0 && data[0] == 'S') {
		if ((len = fuzz_sign(data + 1, size - 1)) == 0)
			return (0);
		tok = fuzz_tok;
	} else {
		tok = (const char *)data;
		len = size;
	}

	r = auth_verify_seen(fuzz_ks, &pol, tok, len, FUZZ_NOW, &c, &seen);
	fuzz_check_seen(&seen);
	(void)auth_result_str(r);
	(void)auth_result_code(r);
	if (strcmp(auth_result_reason(r), "malformed") == 0 &&
	    r != AUTH_MALFORMED)
		abort();

	/* Another map reads other claims of the same token, same result. */
	pol.map = &fuzz_map;
	if (auth_verify(fuzz_ks, &pol, tok, len, FUZZ_NOW, &mc) != r)
		abort();
	if (r == AUTH_OK &&
	    (strcmp(mc.sub, c.sub) != 0 || mc.exp != c.exp ||
		memchr(mc.name, '\0', sizeof(mc.name)) == NULL ||
		memchr(mc.email, '\0', sizeof(mc.email)) == NULL))
		abort();
	pol.map = NULL;
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
