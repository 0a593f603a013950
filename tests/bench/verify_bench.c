/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Token verification cost (performance.md B3): auth_verify() with a cached
 * EVP_PKEY, libjwt 1.10.2 jwt_decode() with the PEM (parsed again on every
 * call), and a verified-token cache hit, for RS256 and ES256.  Prints one
 * "<name>_us <microseconds per op>" line per measurement: verify_cold_rs256_us,
 * libjwt_decode_rs256_us, cache_hit_us, then the same for es256.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth/auth.h"

#define BENCH_SECONDS 1.0
#define BENCH_ISS     "https://ews.test"
#define BENCH_AUD     "yard"

struct bench_ctx {
	struct auth_keyset *ks;
	struct auth_cache  *cache;
	struct auth_policy  pol;
	const char	   *tok;
	size_t		    len;
	const char	   *pem;
	int64_t		    now;
};

typedef int (*bench_fn)(struct bench_ctx *);

/* clang-format off */
static double	now_s(void);
static double	bench_run(bench_fn, struct bench_ctx *);
static int	op_verify(struct bench_ctx *);
static int	op_libjwt(struct bench_ctx *);
static int	op_cache(struct bench_ctx *);
static char	*pem_string(EVP_PKEY *, int);
static char	*libjwt_mint(jwt_alg_t, const char *, int64_t);
static int	bench_alg(const char *, jwt_alg_t, EVP_PKEY *);
/* clang-format on */

static double
now_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1) {
		perror("clock_gettime");
		exit(1);
	}
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/*
 * Run op in batches until BENCH_SECONDS have passed; the batch grows so
 * that reading the clock stays a small part of fast operations.
 */
static double
bench_run(bench_fn op, struct bench_ctx *b)
{
	double	 start, end;
	uint64_t n, batch, i;

	for (i = 0; i < 10; i++) {
		if (!op(b)) {
			fprintf(stderr, "bench: operation failed\n");
			exit(1);
		}
	}

	n = 0;
	batch = 1;
	start = now_s();
	do {
		for (i = 0; i < batch; i++) {
			if (!op(b)) {
				fprintf(stderr, "bench: operation failed\n");
				exit(1);
			}
		}
		n += batch;
		if (batch < 4096)
			batch *= 2;
		end = now_s();
	} while (end - start < BENCH_SECONDS);

	return ((end - start) * 1e6 / (double)n);
}

static int
op_verify(struct bench_ctx *b)
{
	struct auth_claims c;

	return (
	    auth_verify(b->ks, &b->pol, b->tok, b->len, b->now, &c) == AUTH_OK);
}

/* The per-request key parsing path: libjwt decodes the PEM every call. */
static int
op_libjwt(struct bench_ctx *b)
{
	jwt_t *jwt;
	int    ok;

	if (jwt_decode(&jwt, b->tok, (const unsigned char *)b->pem,
		(int)strlen(b->pem)) != 0)
		return (0);
	ok = jwt_get_grant(jwt, "sub") != NULL;
	jwt_free(jwt);
	return (ok);
}

static int
op_cache(struct bench_ctx *b)
{
	struct auth_claims c;

	return (
	    auth_cache_get(b->cache, b->tok, b->len, b->now, b->pol.skew, &c));
}

static char *
pem_string(EVP_PKEY *pk, int private)
{
	BIO	*bio;
	BUF_MEM *mem;
	char	*s;
	int	 ok;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return (NULL);
	if (private)
		ok = PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL,
		    NULL);
	else
		ok = PEM_write_bio_PUBKEY(bio, pk);
	s = NULL;
	if (ok) {
		BIO_get_mem_ptr(bio, &mem);
		s = strndup(mem->data, mem->length);
	}
	BIO_free(bio);
	return (s);
}

static char *
libjwt_mint(jwt_alg_t alg, const char *priv, int64_t now)
{
	jwt_t *jwt;
	char   claims[512], *tok;

	/* Claims of a typical EWS user token. */
	snprintf(claims, sizeof(claims),
	    "{\"iss\":\"" BENCH_ISS "\",\"aud\":\"" BENCH_AUD "\","
	    "\"sub\":\"u-1234567\",\"name\":\"Alice Example\","
	    "\"email\":\"alice@example.test\",\"roles\":[\"yard-admin\"],"
	    "\"exp\":%lld,\"iat\":%lld}",
	    (long long)(now + 3600), (long long)now);

	tok = NULL;
	if (jwt_new(&jwt) != 0)
		return (NULL);
	if (jwt_set_alg(jwt, alg, (const unsigned char *)priv,
		(int)strlen(priv)) == 0 &&
	    jwt_add_grants_json(jwt, claims) == 0)
		tok = jwt_encode_str(jwt);
	jwt_free(jwt);
	return (tok);
}

static int
bench_alg(const char *name, jwt_alg_t alg, EVP_PKEY *pk)
{
	struct bench_ctx   b;
	struct auth_claims c;
	char		   err[128], *priv, *pub, *tok;
	int		   ret;

	ret = 0;
	memset(&b, 0, sizeof(b));
	priv = pem_string(pk, 1);
	pub = pem_string(pk, 0);
	b.now = (int64_t)time(NULL);
	tok = priv != NULL ? libjwt_mint(alg, priv, b.now) : NULL;
	if (pub == NULL || tok == NULL) {
		fprintf(stderr, "bench: cannot make %s key or token\n", name);
		goto cleanup;
	}

	b.ks = auth_keyset_new();
	b.cache = auth_cache_new(4096);
	if (b.ks == NULL || b.cache == NULL ||
	    !auth_keyset_add_pem(b.ks, pub, strlen(pub), NULL, err,
		sizeof(err))) {
		fprintf(stderr, "bench: keyset: %s\n", err);
		goto cleanup;
	}
	b.pol.issuer = BENCH_ISS;
	b.pol.audience = BENCH_AUD;
	b.pol.skew = 60;
	b.pol.algs = AUTH_ALG_RS256 | AUTH_ALG_ES256;
	b.pol.admin_role = "yard-admin";
	b.tok = tok;
	b.len = strlen(tok);
	b.pem = pub;

	if (auth_verify(b.ks, &b.pol, b.tok, b.len, b.now, &c) != AUTH_OK) {
		fprintf(stderr, "bench: %s token does not verify\n", name);
		goto cleanup;
	}
	auth_cache_put(b.cache, b.tok, b.len, &c);

	printf("verify_cold_%s_us %.1f\n", name, bench_run(op_verify, &b));
	printf("libjwt_decode_%s_us %.1f\n", name, bench_run(op_libjwt, &b));
	/* The cache cost hardly depends on the alg; RS256's is the headline. */
	printf("cache_hit%s%s_us %.2f\n", alg == JWT_ALG_RS256 ? "" : "_",
	    alg == JWT_ALG_RS256 ? "" : name, bench_run(op_cache, &b));
	fflush(stdout);
	ret = 1;

cleanup:
	auth_keyset_free(b.ks);
	auth_cache_free(b.cache);
	free(tok);
	free(priv);
	free(pub);
	return (ret);
}

int
main(void)
{
	EVP_PKEY *rsa, *ec;
	int	  ok;

	rsa = EVP_RSA_gen(2048);
	ec = EVP_EC_gen("P-256");
	if (rsa == NULL || ec == NULL) {
		fprintf(stderr, "bench: key generation failed\n");
		return (1);
	}

	ok = bench_alg("rs256", JWT_ALG_RS256, rsa) &&
	    bench_alg("es256", JWT_ALG_ES256, ec);

	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	return (ok ? 0 : 1);
}
