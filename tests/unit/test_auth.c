/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for src/auth token.c, keyset.c and cache.c: every check of
 * SPEC 3.1 and security.md 1, with keys generated at setup and tokens
 * signed here with OpenSSL (and, for interop, with libjwt 1.10.2).
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "auth/auth.h"

#define NOW ((int64_t)1700000000)
#define ISS "https://ews.test"
#define AUD "yard"

/* Keys made once for the whole run. */
struct fixture {
	EVP_PKEY *rsa1, *rsa2, *ec256, *ec384, *ec521;
	char	 *rsa1_pub, *rsa2_pub, *ec256_pub, *ec384_pub, *ec521_pub;
	char	 *rsa1_priv, *ec256_priv;
	uint8_t	  secret[32];
	struct auth_keyset *ks; /* rsa1, ec256, ec384, ec521 PEM */
};

static struct fixture fx;

static struct auth_policy
policy(void)
{
	struct auth_policy p;

	memset(&p, 0, sizeof(p));
	p.issuer = ISS;
	p.audience = AUD;
	p.skew = 60;
	p.algs = AUTH_ALG_RS256 | AUTH_ALG_ES256;
	p.admin_role = "yard-admin";
	return (p);
}

static char *
pem_pub(EVP_PKEY *pk)
{
	BIO	*b;
	BUF_MEM *m;
	char	*s;

	b = BIO_new(BIO_s_mem());
	assert_non_null(b);
	assert_int_equal(PEM_write_bio_PUBKEY(b, pk), 1);
	BIO_get_mem_ptr(b, &m);
	s = strndup(m->data, m->length);
	BIO_free(b);
	return (s);
}

static char *
pem_priv(EVP_PKEY *pk)
{
	BIO	*b;
	BUF_MEM *m;
	char	*s;

	b = BIO_new(BIO_s_mem());
	assert_non_null(b);
	assert_int_equal(PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL,
			     NULL),
	    1);
	BIO_get_mem_ptr(b, &m);
	s = strndup(m->data, m->length);
	BIO_free(b);
	return (s);
}

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
	out[o] = '\0';
	return (o);
}

static const EVP_MD *
md_of(const char *alg)
{
	size_t n;

	n = strlen(alg);
	if (n >= 3 && strcmp(alg + n - 3, "384") == 0)
		return (EVP_sha384());
	if (n >= 3 && strcmp(alg + n - 3, "512") == 0)
		return (EVP_sha512());
	return (EVP_sha256());
}

/*
 * Sign hdr.payload (JSON texts) as alg says.  pk signs RS / ES (JOSE r||s);
 * else secret makes an HMAC; else the signature is empty.  Returns a
 * malloc'd token.
 */
static char *
mint(const char *alg, const char *hdr, const char *payload, EVP_PKEY *pk,
    const uint8_t *secret, size_t secretlen)
{
	EVP_MD_CTX	    *ctx;
	ECDSA_SIG	    *es;
	const unsigned char *p;
	uint8_t		     sig[1024], rs[200];
	size_t		     siglen, hl, pl, tl, n;
	unsigned int	     maclen;
	char		    *tok;

	hl = strlen(hdr);
	pl = strlen(payload);
	tok = malloc(2 * (hl + pl) + 4096);
	assert_non_null(tok);
	tl = b64url((const uint8_t *)hdr, hl, tok);
	tok[tl++] = '.';
	tl += b64url((const uint8_t *)payload, pl, tok + tl);

	siglen = 0;
	if (pk != NULL) {
		ctx = EVP_MD_CTX_new();
		siglen = sizeof(sig);
		assert_int_equal(EVP_DigestSignInit(ctx, NULL, md_of(alg), NULL,
				     pk),
		    1);
		assert_int_equal(EVP_DigestSign(ctx, sig, &siglen,
				     (const uint8_t *)tok, tl),
		    1);
		EVP_MD_CTX_free(ctx);
		if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) {
			n = ((size_t)EVP_PKEY_get_bits(pk) + 7) / 8;
			p = sig;
			es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
			assert_non_null(es);
			assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), rs,
					     (int)n),
			    (int)n);
			assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es),
					     rs + n, (int)n),
			    (int)n);
			ECDSA_SIG_free(es);
			memcpy(sig, rs, 2 * n);
			siglen = 2 * n;
		}
	} else if (secret != NULL) {
		assert_non_null(HMAC(md_of(alg), secret, (int)secretlen,
		    (const uint8_t *)tok, tl, sig, &maclen));
		siglen = maclen;
	}
	tok[tl++] = '.';
	tl += b64url(sig, siglen, tok + tl);
	tok[tl] = '\0';
	return (tok);
}

/* A header {"alg":alg,"typ":"JWT"} (and kid when not NULL). */
static char *
mint_alg(const char *alg, const char *kid, const char *payload, EVP_PKEY *pk,
    const uint8_t *secret, size_t secretlen)
{
	char hdr[512];

	if (kid != NULL)
		snprintf(hdr, sizeof(hdr),
		    "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", alg,
		    kid);
	else
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\"}",
		    alg);
	return (mint(alg, hdr, payload, pk, secret, secretlen));
}

/* Standard claims, valid at NOW; extra is spliced in (",\"k\":v" form). */
static const char *
claims(const char *extra)
{
	static char buf[16384];

	snprintf(buf, sizeof(buf),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice\","
	    "\"exp\":%lld,\"iat\":%lld%s}",
	    (long long)(NOW + 600), (long long)(NOW - 10),
	    extra != NULL ? extra : "");
	return (buf);
}

/* Verify tok with the main key set and default policy (algs given). */
static enum auth_result
verify_with(const struct auth_keyset *ks, unsigned int algs, const char *tok,
    int64_t now, struct auth_claims *out)
{
	struct auth_policy p;

	p = policy();
	if (algs != 0)
		p.algs = algs;
	return (auth_verify(ks, &p, tok, strlen(tok), now, out));
}

static enum auth_result
verify_tok(const char *tok)
{
	struct auth_claims c;

	return (verify_with(fx.ks, 0, tok, NOW, &c));
}

/* Sign payload with rsa1 RS256 and verify with the main key set. */
static enum auth_result
verify_payload(const char *payload, int64_t now, struct auth_claims *out)
{
	enum auth_result r;
	char		*tok;

	tok = mint_alg("RS256", NULL, payload, fx.rsa1, NULL, 0);
	r = verify_with(fx.ks, 0, tok, now, out);
	free(tok);
	return (r);
}

static enum auth_result
verify_header(const char *hdr)
{
	enum auth_result r;
	char		*tok;

	tok = mint("RS256", hdr, claims(NULL), fx.rsa1, NULL, 0);
	r = verify_tok(tok);
	free(tok);
	return (r);
}

static struct auth_keyset *
keyset_pem(const char *pem, const char *kid)
{
	struct auth_keyset *ks;
	char		    err[128];

	ks = auth_keyset_new();
	assert_non_null(ks);
	assert_int_equal(auth_keyset_add_pem(ks, pem, strlen(pem), kid, err,
			     sizeof(err)),
	    1);
	return (ks);
}

static int
group_setup(void **state)
{
	char err[128];

	fx.rsa1 = EVP_RSA_gen(2048);
	fx.rsa2 = EVP_RSA_gen(2048);
	fx.ec256 = EVP_EC_gen("P-256");
	fx.ec384 = EVP_EC_gen("P-384");
	fx.ec521 = EVP_EC_gen("P-521");
	if (fx.rsa1 == NULL || fx.rsa2 == NULL || fx.ec256 == NULL ||
	    fx.ec384 == NULL || fx.ec521 == NULL)
		return (-1);
	fx.rsa1_pub = pem_pub(fx.rsa1);
	fx.rsa2_pub = pem_pub(fx.rsa2);
	fx.ec256_pub = pem_pub(fx.ec256);
	fx.ec384_pub = pem_pub(fx.ec384);
	fx.ec521_pub = pem_pub(fx.ec521);
	fx.rsa1_priv = pem_priv(fx.rsa1);
	fx.ec256_priv = pem_priv(fx.ec256);
	if (RAND_bytes(fx.secret, sizeof(fx.secret)) != 1)
		return (-1);

	if ((fx.ks = auth_keyset_new()) == NULL)
		return (-1);
	if (!auth_keyset_add_pem(fx.ks, fx.rsa1_pub, strlen(fx.rsa1_pub), NULL,
		err, sizeof(err)) ||
	    !auth_keyset_add_pem(fx.ks, fx.ec256_pub, strlen(fx.ec256_pub),
		NULL, err, sizeof(err)) ||
	    !auth_keyset_add_pem(fx.ks, fx.ec384_pub, strlen(fx.ec384_pub),
		NULL, err, sizeof(err)) ||
	    !auth_keyset_add_pem(fx.ks, fx.ec521_pub, strlen(fx.ec521_pub),
		NULL, err, sizeof(err))) {
		fprintf(stderr, "setup: %s\n", err);
		return (-1);
	}
	return (0);
}

static int
group_teardown(void **state)
{
	auth_keyset_free(fx.ks);
	EVP_PKEY_free(fx.rsa1);
	EVP_PKEY_free(fx.rsa2);
	EVP_PKEY_free(fx.ec256);
	EVP_PKEY_free(fx.ec384);
	EVP_PKEY_free(fx.ec521);
	free(fx.rsa1_pub);
	free(fx.rsa2_pub);
	free(fx.ec256_pub);
	free(fx.ec384_pub);
	free(fx.ec521_pub);
	free(fx.rsa1_priv);
	free(fx.ec256_priv);
	return (0);
}

/* ---- valid tokens ---- */

static void
test_auth_valid_rs256(void **state)
{
	struct auth_claims c;

	assert_int_equal(verify_payload(claims(",\"name\":\"Alice A\","
					       "\"email\":\"a@x.test\","
					       "\"jti\":\"j-1\""),
			     NOW, &c),
	    AUTH_OK);
	assert_string_equal(c.sub, "alice");
	assert_string_equal(c.name, "Alice A");
	assert_string_equal(c.email, "a@x.test");
	assert_string_equal(c.jti, "j-1");
	assert_int_equal(c.exp, NOW + 600);
	assert_int_equal(c.iat, NOW - 10);
	assert_int_equal(c.admin, 0);
	assert_int_equal(c.upload, 0);
}

static void
test_auth_valid_es256(void **state)
{
	struct auth_claims c;
	char		  *tok;

	tok = mint_alg("ES256", NULL, claims(NULL), fx.ec256, NULL, 0);
	assert_int_equal(verify_with(fx.ks, 0, tok, NOW, &c), AUTH_OK);
	assert_string_equal(c.sub, "alice");
	free(tok);
}

static void
test_auth_valid_es384(void **state)
{
	struct auth_claims c;
	char		  *tok;

	tok = mint_alg("ES384", NULL, claims(NULL), fx.ec384, NULL, 0);
	/* Not on the default allow-list... */
	assert_int_equal(verify_with(fx.ks, 0, tok, NOW, &c), AUTH_BAD_ALG);
	/* ...but accepted once it is. */
	assert_int_equal(verify_with(fx.ks, AUTH_ALG_ES384, tok, NOW, &c),
	    AUTH_OK);
	assert_string_equal(c.sub, "alice");
	free(tok);
}

static void
test_auth_valid_es512(void **state)
{
	struct auth_claims c;
	char		  *tok;

	tok = mint_alg("ES512", NULL, claims(NULL), fx.ec521, NULL, 0);
	assert_int_equal(verify_with(fx.ks, AUTH_ALG_ES512, tok, NOW, &c),
	    AUTH_OK);
	free(tok);
}

static void
test_auth_valid_rs512(void **state)
{
	struct auth_claims c;
	char		  *tok;

	tok = mint_alg("RS512", NULL, claims(NULL), fx.rsa1, NULL, 0);
	assert_int_equal(verify_with(fx.ks, AUTH_ALG_RS512, tok, NOW, &c),
	    AUTH_OK);
	free(tok);
}

static void
test_auth_valid_hs256(void **state)
{
	struct auth_keyset *ks;
	struct auth_claims  c;
	char		    err[128], *tok;

	ks = auth_keyset_new();
	assert_int_equal(auth_keyset_add_secret(ks, fx.secret,
			     sizeof(fx.secret), err, sizeof(err)),
	    1);
	tok = mint_alg("HS256", NULL, claims(NULL), NULL, fx.secret,
	    sizeof(fx.secret));
	assert_int_equal(verify_with(ks, AUTH_ALG_HS256, tok, NOW, &c),
	    AUTH_OK);
	assert_string_equal(c.sub, "alice");
	/* HS256 must be on the allow-list even with a secret. */
	assert_int_equal(verify_with(ks, 0, tok, NOW, &c), AUTH_BAD_ALG);
	free(tok);

	/* Another secret: bad signature. */
	tok = mint_alg("HS256", NULL, claims(NULL), NULL,
	    (const uint8_t *)"0123456789abcdef0123456789abcdef", 32);
	assert_int_equal(verify_with(ks, AUTH_ALG_HS256, tok, NOW, &c),
	    AUTH_BAD_SIGNATURE);
	free(tok);
	auth_keyset_free(ks);
}

/* ---- libjwt 1.10.2 interop ---- */

static char *
libjwt_mint(jwt_alg_t alg, const char *priv, const char *payload)
{
	jwt_t *jwt;
	char  *tok;

	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_set_alg(jwt, alg, (const unsigned char *)priv,
			     (int)strlen(priv)),
	    0);
	assert_int_equal(jwt_add_grants_json(jwt, payload), 0);
	tok = jwt_encode_str(jwt);
	assert_non_null(tok);
	jwt_free(jwt);
	return (tok);
}

static void
test_auth_libjwt_rs256(void **state)
{
	struct auth_claims c;
	char		  *tok;

	tok = libjwt_mint(JWT_ALG_RS256, fx.rsa1_priv,
	    claims(",\"roles\":[\"yard-admin\"]"));
	assert_int_equal(verify_with(fx.ks, 0, tok, NOW, &c), AUTH_OK);
	assert_string_equal(c.sub, "alice");
	assert_int_equal(c.admin, 1);
	free(tok);
}

static void
test_auth_libjwt_es256(void **state)
{
	struct auth_claims c;
	char		  *tok;

	tok = libjwt_mint(JWT_ALG_ES256, fx.ec256_priv, claims(NULL));
	assert_int_equal(verify_with(fx.ks, 0, tok, NOW, &c), AUTH_OK);
	assert_string_equal(c.sub, "alice");
	free(tok);
}

/* And the other way round: libjwt accepts what this test signs. */
static void
test_auth_libjwt_decodes_ours(void **state)
{
	jwt_t *jwt;
	char  *tok;

	tok = mint_alg("RS256", NULL, claims(NULL), fx.rsa1, NULL, 0);
	assert_int_equal(jwt_decode(&jwt, tok,
			     (const unsigned char *)fx.rsa1_pub,
			     (int)strlen(fx.rsa1_pub)),
	    0);
	assert_int_equal(jwt_get_alg(jwt), JWT_ALG_RS256);
	assert_string_equal(jwt_get_grant(jwt, "sub"), "alice");
	jwt_free(jwt);
	free(tok);
}

/* ---- algorithm attacks ---- */

static void
test_auth_alg_none(void **state)
{
	static const char *names[] = { "none", "None", "NONE", "nOnE" };
	size_t		   i;
	char		   hdr[64], *tok;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		/* Empty signature: not even the shape of a JWS. */
		tok = mint_alg(names[i], NULL, claims(NULL), NULL, NULL, 0);
		assert_int_equal(verify_with(fx.ks, 0xff, tok, NOW,
				     &(struct auth_claims){ 0 }),
		    AUTH_MALFORMED);
		free(tok);
		/* With a (real RS256) signature: the alg is refused. */
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\"}", names[i]);
		tok = mint(names[i], hdr, claims(NULL), fx.rsa1, NULL, 0);
		assert_int_equal(verify_with(fx.ks, 0xff, tok, NOW,
				     &(struct auth_claims){ 0 }),
		    AUTH_BAD_ALG);
		free(tok);
	}
}

static void
test_auth_hs256_rsa_pem_default_policy(void **state)
{
	char *tok;

	/* libjwt #200: HMAC keyed with the public PEM.  libjwt accepts it. */
	tok = mint_alg("HS256", NULL, claims(NULL), NULL,
	    (const uint8_t *)fx.rsa1_pub, strlen(fx.rsa1_pub));
	assert_int_equal(verify_tok(tok), AUTH_BAD_ALG);
	free(tok);
}

static void
test_auth_hs256_rsa_pem_no_secret(void **state)
{
	struct auth_claims c;
	char		  *tok;

	tok = mint_alg("HS256", NULL, claims(NULL), NULL,
	    (const uint8_t *)fx.rsa1_pub, strlen(fx.rsa1_pub));
	/* HS256 allowed, but no secret configured: no key fits. */
	assert_int_equal(verify_with(fx.ks, AUTH_ALG_RS256 | AUTH_ALG_HS256,
			     tok, NOW, &c),
	    AUTH_BAD_ALG);
	free(tok);

	/* Lower case, as in the libjwt probe table. */
	tok = mint("HS256", "{\"alg\":\"hs256\"}", claims(NULL), NULL,
	    (const uint8_t *)fx.rsa1_pub, strlen(fx.rsa1_pub));
	assert_int_equal(verify_with(fx.ks, 0xff, tok, NOW, &c), AUTH_BAD_ALG);
	free(tok);
}

static void
test_auth_hs256_secret_refuses_pem(void **state)
{
	struct auth_keyset *ks;
	char		    err[128];

	ks = auth_keyset_new();
	assert_int_equal(auth_keyset_add_secret(ks,
			     (const uint8_t *)fx.rsa1_pub, strlen(fx.rsa1_pub),
			     err, sizeof(err)),
	    0);
	assert_int_equal(auth_keyset_add_secret(ks, fx.secret, 31, err,
			     sizeof(err)),
	    0);
	assert_int_equal(auth_keyset_count(ks), 0);
	auth_keyset_free(ks);
}

static void
test_auth_alg_lowercase(void **state)
{
	assert_int_equal(verify_header("{\"alg\":\"rs256\",\"typ\":\"JWT\"}"),
	    AUTH_BAD_ALG);
	assert_int_equal(verify_header("{\"alg\":\"Rs256\"}"), AUTH_BAD_ALG);
	assert_int_equal(verify_header("{\"alg\":\"PS256\"}"), AUTH_BAD_ALG);
	assert_int_equal(verify_header("{\"alg\":\"RS256\"}"), AUTH_OK);
}

static void
test_auth_alg_missing_or_not_string(void **state)
{
	assert_int_equal(verify_header("{\"typ\":\"JWT\"}"), AUTH_MALFORMED);
	assert_int_equal(verify_header("{\"alg\":256}"), AUTH_MALFORMED);
	assert_int_equal(verify_header("{\"alg\":null}"), AUTH_MALFORMED);
}

/* An ES256 token signed by RSA, and the key type check. */
static void
test_auth_alg_key_type_mismatch(void **state)
{
	struct auth_keyset *ks;
	char		   *tok;

	ks = keyset_pem(fx.rsa1_pub, NULL);
	tok = mint_alg("ES256", NULL, claims(NULL), fx.ec256, NULL, 0);
	/* Only an RSA key is held: nothing fits ES256. */
	assert_int_equal(verify_with(ks, 0, tok, NOW,
			     &(struct auth_claims){ 0 }),
	    AUTH_BAD_ALG);
	free(tok);
	auth_keyset_free(ks);

	/* ES384 token against a set with only a P-256 key. */
	ks = keyset_pem(fx.ec256_pub, NULL);
	tok = mint_alg("ES384", NULL, claims(NULL), fx.ec384, NULL, 0);
	assert_int_equal(verify_with(ks, AUTH_ALG_ES384, tok, NOW,
			     &(struct auth_claims){ 0 }),
	    AUTH_BAD_ALG);
	free(tok);
	auth_keyset_free(ks);
}

static void
test_auth_wrong_key(void **state)
{
	char *tok;

	tok = mint_alg("RS256", NULL, claims(NULL), fx.rsa2, NULL, 0);
	assert_int_equal(verify_tok(tok), AUTH_BAD_SIGNATURE);
	free(tok);
}

static void
test_auth_signature_tampered(void **state)
{
	char *tok, *p;

	tok = mint_alg("ES256", NULL, claims(NULL), fx.ec256, NULL, 0);
	p = strrchr(tok, '.') + 5;
	*p = *p == 'A' ? 'B' : 'A';
	assert_int_equal(verify_tok(tok), AUTH_BAD_SIGNATURE);
	free(tok);

	/* A payload changed after signing. */
	tok = mint_alg("RS256", NULL, claims(NULL), fx.rsa1, NULL, 0);
	p = strchr(tok, '.') + 3;
	*p = *p == 'A' ? 'B' : 'A';
	assert_int_equal(verify_tok(tok), AUTH_BAD_SIGNATURE);
	free(tok);
}

/* A DER ECDSA signature (what OpenSSL emits) is not a JWS signature. */
static void
test_auth_es256_der_signature(void **state)
{
	EVP_MD_CTX *ctx;
	uint8_t	    sig[128];
	size_t	    siglen, tl;
	char	    tok[2048];

	tl = b64url((const uint8_t *)"{\"alg\":\"ES256\"}", 15, tok);
	tok[tl++] = '.';
	tl += b64url((const uint8_t *)claims(NULL), strlen(claims(NULL)),
	    tok + tl);
	ctx = EVP_MD_CTX_new();
	siglen = sizeof(sig);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
			     fx.ec256),
	    1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, (const uint8_t *)tok,
			     tl),
	    1);
	EVP_MD_CTX_free(ctx);
	tok[tl++] = '.';
	b64url(sig, siglen, tok + tl);
	assert_int_equal(verify_tok(tok), AUTH_BAD_SIGNATURE);
}

/* ---- kid ---- */

static void
test_auth_kid_unknown(void **state)
{
	struct auth_keyset *ks;
	struct auth_claims  c;
	char		    err[128], *tok;

	/* Every key carries a kid: a kid none has is unknown. */
	ks = auth_keyset_new();
	assert_int_equal(auth_keyset_add_pem(ks, fx.rsa1_pub,
			     strlen(fx.rsa1_pub), "a", err, sizeof(err)),
	    1);
	tok = mint_alg("RS256", "nope", claims(NULL), fx.rsa1, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW, &c), AUTH_UNKNOWN_KID);
	free(tok);
	tok =
	    mint_alg("RS256", "../../dev/null", claims(NULL), fx.rsa1, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW, &c), AUTH_UNKNOWN_KID);
	free(tok);
	auth_keyset_free(ks);
}

/* Keys configured without a kid (PEM files) verify tokens naming one. */
static void
test_auth_kid_falls_back_to_kidless_keys(void **state)
{
	char *tok;

	/* The main set has no kids at all. */
	tok = mint_alg("RS256", "ews-2026", claims(NULL), fx.rsa1, NULL, 0);
	assert_int_equal(verify_tok(tok), AUTH_OK);
	free(tok);
	/* ... but only with a right signature; the failure still says
	 * "unknown kid" so that a JWKS refresh can be tried. */
	tok = mint_alg("RS256", "ews-2026", claims(NULL), fx.rsa2, NULL, 0);
	assert_int_equal(verify_tok(tok), AUTH_UNKNOWN_KID);
	free(tok);
}

static void
test_auth_kid_picks_key(void **state)
{
	struct auth_keyset *ks;
	struct auth_claims  c;
	char		    err[128], *tok;

	ks = auth_keyset_new();
	assert_int_equal(auth_keyset_add_pem(ks, fx.rsa1_pub,
			     strlen(fx.rsa1_pub), "a", err, sizeof(err)),
	    1);
	assert_int_equal(auth_keyset_add_pem(ks, fx.rsa2_pub,
			     strlen(fx.rsa2_pub), "b", err, sizeof(err)),
	    1);
	assert_int_equal(auth_keyset_add_pem(ks, fx.ec256_pub,
			     strlen(fx.ec256_pub), "c", err, sizeof(err)),
	    1);
	assert_int_equal(auth_keyset_count(ks), 3);

	tok = mint_alg("RS256", "b", claims(NULL), fx.rsa2, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW, &c), AUTH_OK);
	free(tok);
	/* kid "a" names rsa1 only: rsa2's signature is not tried on it. */
	tok = mint_alg("RS256", "a", claims(NULL), fx.rsa2, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW, &c), AUTH_BAD_SIGNATURE);
	free(tok);
	/* kid "c" is an EC key: it does not fit RS256. */
	tok = mint_alg("RS256", "c", claims(NULL), fx.rsa1, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW, &c), AUTH_BAD_ALG);
	free(tok);
	tok = mint_alg("ES256", "c", claims(NULL), fx.ec256, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW, &c), AUTH_OK);
	free(tok);
	/* Without a kid every RSA key is tried. */
	tok = mint_alg("RS256", NULL, claims(NULL), fx.rsa2, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW, &c), AUTH_OK);
	free(tok);
	auth_keyset_free(ks);
}

static void
test_auth_kid_bad_shape(void **state)
{
	char hdr[512];

	assert_int_equal(verify_header("{\"alg\":\"RS256\",\"kid\":7}"),
	    AUTH_MALFORMED);
	assert_int_equal(verify_header("{\"alg\":\"RS256\",\"kid\":\"\"}"),
	    AUTH_MALFORMED);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%0129d\"}", 0);
	assert_int_equal(verify_header(hdr), AUTH_MALFORMED);
}

/* ---- header ---- */

static void
test_auth_forbidden_headers(void **state)
{
	assert_int_equal(verify_header("{\"alg\":\"RS256\",\"jku\":"
				       "\"https://evil.test/jwks\"}"),
	    AUTH_FORBIDDEN_HEADER);
	assert_int_equal(verify_header("{\"alg\":\"RS256\",\"x5u\":"
				       "\"https://evil.test/c.pem\"}"),
	    AUTH_FORBIDDEN_HEADER);
	assert_int_equal(verify_header(
			     "{\"alg\":\"RS256\",\"x5c\":[\"MIIB\"]}"),
	    AUTH_FORBIDDEN_HEADER);
	assert_int_equal(verify_header("{\"alg\":\"RS256\",\"jwk\":{\"kty\":"
				       "\"RSA\",\"n\":\"AQAB\",\"e\":"
				       "\"AQAB\"}}"),
	    AUTH_FORBIDDEN_HEADER);
	assert_int_equal(verify_header("{\"alg\":\"RS256\",\"crit\":[\"exp\"],"
				       "\"exp\":1}"),
	    AUTH_FORBIDDEN_HEADER);
	/* Even null counts as present. */
	assert_int_equal(verify_header("{\"alg\":\"RS256\",\"jku\":null}"),
	    AUTH_FORBIDDEN_HEADER);
}

/* RFC 7515 4.1.9 (case ignored), RFC 9068 2.1 (at+jwt). */
static void
test_auth_typ(void **state)
{
	static const char *const ok[] = { "JWT", "jwt", "at+jwt", "AT+JWT",
		"application/at+jwt", "Application/AT+JWT" };
	static const char *const bad[] = { "\"JOSE\"", "\"JOSE+JSON\"", "\"\"",
		"\"at+jwt \"", "\"application/jwt+at\"", "\"secevent+jwt\"",
		"1", "null", "[\"JWT\"]", "{\"typ\":\"JWT\"}", "true" };
	char			 hdr[128];
	size_t			 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"typ\":\"%s\"}",
		    ok[i]);
		assert_int_equal(verify_header(hdr), AUTH_OK);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"typ\":%s}",
		    bad[i]);
		assert_int_equal(verify_header(hdr), AUTH_BAD_TYP);
	}
	assert_int_equal(verify_header("{\"alg\":\"RS256\"}"), AUTH_OK);
	/* The typ check does not outrank the forbidden headers. */
	assert_int_equal(verify_header("{\"alg\":\"RS256\",\"typ\":"
				       "\"JOSE\",\"jku\":\"x\"}"),
	    AUTH_FORBIDDEN_HEADER);
	assert_string_equal(auth_result_reason(AUTH_BAD_TYP), "bad_typ");
}

static void
test_auth_header_duplicate_alg(void **state)
{
	assert_int_equal(verify_header("{\"alg\":\"RS256\",\"alg\":\"none\"}"),
	    AUTH_MALFORMED);
	assert_int_equal(verify_header("{\"alg\":\"none\",\"alg\":\"RS256\"}"),
	    AUTH_MALFORMED);
}

static void
test_auth_header_not_object(void **state)
{
	assert_int_equal(verify_header("[\"RS256\"]"), AUTH_MALFORMED);
	assert_int_equal(verify_header("\"RS256\""), AUTH_MALFORMED);
	assert_int_equal(verify_header("{\"alg\":\"RS256\"} x"),
	    AUTH_MALFORMED);
}

/* ---- time ---- */

static void
test_auth_expired(void **state)
{
	struct auth_claims c;

	/* exp = NOW+600, skew 60: the last good second is NOW+659. */
	assert_int_equal(verify_payload(claims(NULL), NOW + 700, &c),
	    AUTH_EXPIRED);
	assert_int_equal(verify_payload(claims(NULL), NOW + 660, &c),
	    AUTH_EXPIRED);
	assert_string_equal(auth_result_code(AUTH_EXPIRED), "token_expired");
}

static void
test_auth_expired_within_skew(void **state)
{
	struct auth_claims c;

	assert_int_equal(verify_payload(claims(NULL), NOW + 659, &c), AUTH_OK);
	assert_int_equal(verify_payload(claims(NULL), NOW + 620, &c), AUTH_OK);
	assert_string_equal(c.sub, "alice");
}

static void
test_auth_nbf_iat_future(void **state)
{
	struct auth_claims c;
	char		   pl[512];

	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
	    "\"exp\":%lld,\"nbf\":%lld}",
	    (long long)(NOW + 600), (long long)(NOW + 61));
	assert_int_equal(verify_payload(pl, NOW, &c), AUTH_NOT_YET_VALID);
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
	    "\"exp\":%lld,\"iat\":%lld}",
	    (long long)(NOW + 600), (long long)(NOW + 61));
	assert_int_equal(verify_payload(pl, NOW, &c), AUTH_NOT_YET_VALID);
}

static void
test_auth_nbf_iat_within_skew(void **state)
{
	struct auth_claims c;
	char		   pl[512];

	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
	    "\"exp\":%lld,\"nbf\":%lld,\"iat\":%lld}",
	    (long long)(NOW + 600), (long long)(NOW + 60),
	    (long long)(NOW + 60));
	assert_int_equal(verify_payload(pl, NOW, &c), AUTH_OK);
	assert_int_equal(c.iat, NOW + 60);
}

static void
test_auth_exp_types(void **state)
{
	struct auth_claims c;
	char		   pl[512];

	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
	    "\"exp\":%lld.0}",
	    (long long)(NOW + 600));
	assert_int_equal(verify_payload(pl, NOW, &c), AUTH_BAD_CLAIMS);
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
	    "\"exp\":\"%lld\"}",
	    (long long)(NOW + 600));
	assert_int_equal(verify_payload(pl, NOW, &c), AUTH_BAD_CLAIMS);
	assert_int_equal(verify_payload("{\"iss\":\"" ISS "\",\"aud\":\"" AUD
					"\",\"sub\":\"a\",\"exp\":1.7e12}",
			     NOW, &c),
	    AUTH_BAD_CLAIMS);
	/* A huge exp does not overflow into the past. */
	assert_int_equal(verify_payload("{\"iss\":\"" ISS "\",\"aud\":\"" AUD
					"\",\"sub\":\"a\",\"exp\":"
					"9223372036854775807}",
			     NOW, &c),
	    AUTH_OK);
	/* nbf and iat must be integers too. */
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
	    "\"exp\":%lld,\"nbf\":\"0\"}",
	    (long long)(NOW + 600));
	assert_int_equal(verify_payload(pl, NOW, &c), AUTH_BAD_CLAIMS);
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
	    "\"exp\":%lld,\"iat\":1.5}",
	    (long long)(NOW + 600));
	assert_int_equal(verify_payload(pl, NOW, &c), AUTH_BAD_CLAIMS);
}

/* ---- claims ---- */

static void
test_auth_missing_exp_sub(void **state)
{
	struct auth_claims c;
	char		   pl[512];

	assert_int_equal(verify_payload("{\"iss\":\"" ISS "\",\"aud\":\"" AUD
					"\",\"sub\":\"a\"}",
			     NOW, &c),
	    AUTH_BAD_CLAIMS);
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%lld}",
	    (long long)(NOW + 600));
	assert_int_equal(verify_payload(pl, NOW, &c), AUTH_BAD_CLAIMS);
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"sub\":\"\"}",
	    (long long)(NOW + 600));
	assert_int_equal(verify_payload(pl, NOW, &c), AUTH_BAD_CLAIMS);
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"sub\":42}",
	    (long long)(NOW + 600));
	assert_int_equal(verify_payload(pl, NOW, &c), AUTH_BAD_CLAIMS);
}

static void
test_auth_claim_lengths(void **state)
{
	struct auth_claims c;
	char		   extra[600], big[300];

	/* 255 bytes fit (plus NUL); 256 are cut to 255. */
	memset(big, 'n', 255);
	big[255] = '\0';
	snprintf(extra, sizeof(extra), ",\"name\":\"%s\"", big);
	assert_int_equal(verify_payload(claims(extra), NOW, &c), AUTH_OK);
	assert_int_equal(strlen(c.name), 255);
	memset(big, 'n', 256);
	big[256] = '\0';
	snprintf(extra, sizeof(extra), ",\"name\":\"%s\"", big);
	assert_int_equal(verify_payload(claims(extra), NOW, &c), AUTH_OK);
	assert_int_equal(strlen(c.name), 255);
	/* A jti that does not fit is left out, not a refusal. */
	snprintf(extra, sizeof(extra), ",\"jti\":\"%s\"", big);
	assert_int_equal(verify_payload(claims(extra), NOW, &c), AUTH_OK);
	assert_string_equal(c.jti, "");
	assert_string_equal(c.sub, "alice");
	big[255] = '\0';
	snprintf(extra, sizeof(extra), ",\"jti\":\"%s\"", big);
	assert_int_equal(verify_payload(claims(extra), NOW, &c), AUTH_OK);
	assert_string_equal(c.jti, big);
	/* Wrong types in mapped claims are passed over. */
	assert_int_equal(verify_payload(claims(",\"email\":null"), NOW, &c),
	    AUTH_OK);
	assert_string_equal(c.email, "");
	assert_int_equal(verify_payload(claims(",\"name\":[\"x\"]"), NOW, &c),
	    AUTH_OK);
	assert_string_equal(c.name, "alice"); /* sub, the last default */
	/* \u0000 would cut a C string short: jansson refuses it. */
	assert_int_equal(verify_payload(claims(",\"name\":\"a\\u0000b\""), NOW,
			     &c),
	    AUTH_MALFORMED);
}

static void
test_auth_iss_mismatch(void **state)
{
	struct auth_claims c;
	char		   pl[512];

	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"https://evil.test\",\"aud\":\"" AUD "\","
	    "\"sub\":\"a\",\"exp\":%lld}",
	    (long long)(NOW + 600));
	assert_int_equal(verify_payload(pl, NOW, &c), AUTH_BAD_ISSUER);
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"" ISS "/\",\"aud\":\"" AUD "\","
	    "\"sub\":\"a\",\"exp\":%lld}",
	    (long long)(NOW + 600));
	assert_int_equal(verify_payload(pl, NOW, &c), AUTH_BAD_ISSUER);
	snprintf(pl, sizeof(pl),
	    "{\"aud\":\"" AUD "\",\"sub\":\"a\",\"exp\":%lld}",
	    (long long)(NOW + 600));
	assert_int_equal(verify_payload(pl, NOW, &c), AUTH_BAD_ISSUER);
}

static void
test_auth_audience(void **state)
{
	struct auth_claims c;
	char		   pl[512];
	const char	  *auds[] = { "\"yard\"", "[\"other\",\"yard\"]",
		       "[\"other\"]", "[]", "\"yard2\"", "[\"yard\",7]", "7",
		       "{\"yard\":1}" };
	enum auth_result   want[] = { AUTH_OK, AUTH_OK, AUTH_BAD_AUDIENCE,
		  AUTH_BAD_AUDIENCE, AUTH_BAD_AUDIENCE, AUTH_BAD_CLAIMS,
		  AUTH_BAD_CLAIMS, AUTH_BAD_CLAIMS };
	size_t		   i;

	for (i = 0; i < sizeof(auds) / sizeof(auds[0]); i++) {
		snprintf(pl, sizeof(pl),
		    "{\"iss\":\"" ISS "\",\"aud\":%s,\"sub\":\"a\","
		    "\"exp\":%lld}",
		    auds[i], (long long)(NOW + 600));
		assert_int_equal(verify_payload(pl, NOW, &c), want[i]);
	}
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"exp\":%lld}",
	    (long long)(NOW + 600));
	assert_int_equal(verify_payload(pl, NOW, &c), AUTH_BAD_AUDIENCE);
}

static void
test_auth_payload_duplicate_sub(void **state)
{
	struct auth_claims c;

	assert_int_equal(verify_payload(claims(",\"sub\":\"admin\""), NOW, &c),
	    AUTH_MALFORMED);
}

static void
test_auth_payload_not_object(void **state)
{
	struct auth_claims c;

	assert_int_equal(verify_payload("[{\"sub\":\"a\"}]", NOW, &c),
	    AUTH_MALFORMED);
	assert_int_equal(verify_payload("{\"sub\":", NOW, &c), AUTH_MALFORMED);
}

static void
test_auth_roles_admin(void **state)
{
	struct auth_claims c;
	char		   extra[2048];
	size_t		   i, o;

	assert_int_equal(verify_payload(claims(",\"roles\":[\"dev\","
					       "\"yard-admin\"]"),
			     NOW, &c),
	    AUTH_OK);
	assert_int_equal(c.admin, 1);
	assert_int_equal(verify_payload(claims(",\"roles\":[\"yard-admins\","
					       "\"YARD-ADMIN\"]"),
			     NOW, &c),
	    AUTH_OK);
	assert_int_equal(c.admin, 0);
	/* One role as a string. */
	assert_int_equal(verify_payload(claims(",\"roles\":\"yard-admin\""),
			     NOW, &c),
	    AUTH_OK);
	assert_int_equal(c.admin, 1);
	assert_int_equal(verify_payload(claims(",\"roles\":\"dev yard-admin\""),
			     NOW, &c),
	    AUTH_OK);
	assert_int_equal(c.admin, 0);
	/* Members that are not strings are passed over. */
	assert_int_equal(verify_payload(claims(",\"roles\":[1,null,"
					       "[\"yard-admin\"],"
					       "\"yard-admin\"]"),
			     NOW, &c),
	    AUTH_OK);
	assert_int_equal(c.admin, 1);
	assert_int_equal(verify_payload(claims(",\"roles\":{\"yard-admin\":"
					       "true}"),
			     NOW, &c),
	    AUTH_OK);
	assert_int_equal(c.admin, 0);
	/* 100 roles, the admin role last: no limit on their number. */
	o = (size_t)snprintf(extra, sizeof(extra), ",\"roles\":[");
	for (i = 0; i < 99; i++)
		o += (size_t)snprintf(extra + o, sizeof(extra) - o, "\"r%zu\",",
		    i);
	snprintf(extra + o, sizeof(extra) - o, "\"yard-admin\"]");
	assert_int_equal(verify_payload(claims(extra), NOW, &c), AUTH_OK);
	assert_int_equal(c.admin, 1);
}

static void
test_auth_scope_upload(void **state)
{
	struct auth_claims c;

	assert_int_equal(verify_payload(claims(",\"scope\":\"openid "
					       "packages:upload profile\""),
			     NOW, &c),
	    AUTH_OK);
	assert_int_equal(c.upload, 1);
	assert_int_equal(verify_payload(claims(",\"scope\":"
					       "\"packages:upload\""),
			     NOW, &c),
	    AUTH_OK);
	assert_int_equal(c.upload, 1);
	assert_int_equal(verify_payload(claims(",\"scope\":\"packages:uploads "
					       "xpackages:upload\""),
			     NOW, &c),
	    AUTH_OK);
	assert_int_equal(c.upload, 0);
	/* scope as an array of strings; scp as a string or an array. */
	assert_int_equal(verify_payload(claims(",\"scope\":[\"openid\","
					       "\"packages:upload\"]"),
			     NOW, &c),
	    AUTH_OK);
	assert_int_equal(c.upload, 1);
	assert_int_equal(verify_payload(claims(",\"scp\":\"read "
					       "packages:upload\""),
			     NOW, &c),
	    AUTH_OK);
	assert_int_equal(c.upload, 1);
	assert_int_equal(verify_payload(claims(",\"scp\":[\"read\","
					       "\"packages:upload\"]"),
			     NOW, &c),
	    AUTH_OK);
	assert_int_equal(c.upload, 1);
	/* Found in either: scope without it, scp with it. */
	assert_int_equal(verify_payload(claims(",\"scope\":\"openid\","
					       "\"scp\":[\"packages:upload\"]"),
			     NOW, &c),
	    AUTH_OK);
	assert_int_equal(c.upload, 1);
	/* An array member is one scope, not a list. */
	assert_int_equal(verify_payload(claims(",\"scope\":[\"openid "
					       "packages:upload\"]"),
			     NOW, &c),
	    AUTH_OK);
	assert_int_equal(c.upload, 0);
	/* Wrong types are passed over. */
	assert_int_equal(verify_payload(claims(",\"scope\":7,\"scp\":"
					       "{\"packages:upload\":1}"),
			     NOW, &c),
	    AUTH_OK);
	assert_int_equal(c.upload, 0);
}

/* Claims are never judged before the signature. */
static void
test_auth_order_signature_first(void **state)
{
	char *tok;

	/* Expired and signed by the wrong key. */
	tok = mint_alg("RS256", NULL, "{\"exp\":1}", fx.rsa2, NULL, 0);
	assert_int_equal(verify_tok(tok), AUTH_BAD_SIGNATURE);
	free(tok);
	/* Not even JSON, but unsigned. */
	tok = mint_alg("RS256", NULL, "not json", fx.rsa2, NULL, 0);
	assert_int_equal(verify_tok(tok), AUTH_BAD_SIGNATURE);
	free(tok);
	/* Forbidden header beats a bad alg and a bad signature. */
	tok = mint("RS256", "{\"alg\":\"none\",\"jku\":\"x\"}", "{}", fx.rsa2,
	    NULL, 0);
	assert_int_equal(verify_tok(tok), AUTH_FORBIDDEN_HEADER);
	free(tok);
}

static void
test_auth_out_zeroed(void **state)
{
	struct auth_claims c, zero;

	memset(&zero, 0, sizeof(zero));
	memset(&c, 0xa5, sizeof(c));
	/* Refused at the last check, with exp and iat already read. */
	assert_int_equal(verify_payload("{\"iss\":\"" ISS "\",\"aud\":\"" AUD
					"\",\"exp\":9999999999,\"iat\":1,"
					"\"roles\":[\"yard-admin\"],"
					"\"sub\":1}",
			     NOW, &c),
	    AUTH_BAD_CLAIMS);
	assert_memory_equal(&c, &zero, sizeof(c));
	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(verify_payload(claims(NULL), NOW + 9999, &c),
	    AUTH_EXPIRED);
	assert_memory_equal(&c, &zero, sizeof(c));
}

/* ---- shape ---- */

static void
test_auth_segments(void **state)
{
	char *tok, buf[4096];

	tok = mint_alg("RS256", NULL, claims(NULL), fx.rsa1, NULL, 0);
	assert_int_equal(verify_tok(tok), AUTH_OK);

	/* Two segments. */
	snprintf(buf, sizeof(buf), "%s", tok);
	*strrchr(buf, '.') = '\0';
	assert_int_equal(verify_tok(buf), AUTH_MALFORMED);
	/* Four. */
	snprintf(buf, sizeof(buf), "%s.AAAA", tok);
	assert_int_equal(verify_tok(buf), AUTH_MALFORMED);
	/* Five, as JWE. */
	snprintf(buf, sizeof(buf), "%s.AAAA.AAAA", tok);
	assert_int_equal(verify_tok(buf), AUTH_MALFORMED);
	/* Empty segments. */
	assert_int_equal(verify_tok(".."), AUTH_MALFORMED);
	assert_int_equal(verify_tok("a..b"), AUTH_MALFORMED);
	assert_int_equal(verify_tok(""), AUTH_MALFORMED);
	/* Blanks. */
	snprintf(buf, sizeof(buf), " %s", tok);
	assert_int_equal(verify_tok(buf), AUTH_MALFORMED);
	snprintf(buf, sizeof(buf), "%s\n", tok);
	assert_int_equal(verify_tok(buf), AUTH_MALFORMED);
	free(tok);
}

static void
test_auth_padding(void **state)
{
	char  *tok, buf[4096];
	size_t n;

	/* RSA-2048 signatures are 256 bytes: 342 chars, "==" if padded. */
	tok = mint_alg("RS256", NULL, claims(NULL), fx.rsa1, NULL, 0);
	snprintf(buf, sizeof(buf), "%s==", tok);
	assert_int_equal(verify_tok(buf), AUTH_MALFORMED);
	/* Standard base64 alphabet. */
	snprintf(buf, sizeof(buf), "%s", tok);
	n = strlen(buf);
	buf[n - 5] = '+';
	assert_int_equal(verify_tok(buf), AUTH_MALFORMED);
	free(tok);
}

static void
test_auth_bang_appended(void **state)
{
	char *tok, buf[4096];

	tok = mint_alg("RS256", NULL, claims(NULL), fx.rsa1, NULL, 0);
	snprintf(buf, sizeof(buf), "%s!!", tok);
	assert_int_equal(verify_tok(buf), AUTH_MALFORMED);
	free(tok);
}

static void
test_auth_trailing_bits(void **state)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";
	char		 *tok, *last;
	int		  v;

	/*
	 * 256 bytes -> 342 chars; the last one carries 2 bits of data and 4
	 * zero bits.  Setting one of those decodes to the same bytes in a
	 * lenient decoder, so the signature would still verify.
	 */
	tok = mint_alg("RS256", NULL, claims(NULL), fx.rsa1, NULL, 0);
	assert_int_equal(strlen(strrchr(tok, '.') + 1), 342);
	assert_int_equal(verify_tok(tok), AUTH_OK);
	last = tok + strlen(tok) - 1;
	v = (int)(strchr(tab, *last) - tab);
	assert_int_equal(v & 0x0f, 0);
	*last = tab[v | 1];
	assert_int_equal(verify_tok(tok), AUTH_MALFORMED);
	*last = tab[v | 8];
	assert_int_equal(verify_tok(tok), AUTH_MALFORMED);
	free(tok);

	/* ES256: 64 bytes -> 86 chars, 2 spare bits. */
	tok = mint_alg("ES256", NULL, claims(NULL), fx.ec256, NULL, 0);
	assert_int_equal(verify_tok(tok), AUTH_OK);
	last = tok + strlen(tok) - 1;
	v = (int)(strchr(tab, *last) - tab);
	assert_int_equal(v & 0x03, 0);
	*last = tab[v | 2];
	assert_int_equal(verify_tok(tok), AUTH_MALFORMED);
	free(tok);

	/* A length that is 1 mod 4 is never valid base64. */
	assert_int_equal(verify_tok("eyJhbGciOiJSUzI1NiJ9.e30.A"),
	    AUTH_MALFORMED);
}

static void
test_auth_token_max(void **state)
{
	struct auth_claims c;
	char		  *tok, *pad, extra[AUTH_TOKEN_MAX];
	size_t		   n;
	int		   hit;

	/* Find a padding that makes a valid token exactly 8192 bytes. */
	hit = 0;
	pad = malloc(AUTH_TOKEN_MAX);
	for (n = 5600; n < 6200 && !hit; n++) {
		memset(pad, 'p', n);
		pad[n] = '\0';
		snprintf(extra, sizeof(extra), ",\"pad\":\"%s\"", pad);
		tok = mint_alg("RS256", NULL, claims(extra), fx.rsa1, NULL, 0);
		if (strlen(tok) == AUTH_TOKEN_MAX) {
			hit = 1;
			assert_int_equal(verify_with(fx.ks, 0, tok, NOW, &c),
			    AUTH_OK);
		} else if (strlen(tok) == AUTH_TOKEN_MAX + 1) {
			assert_int_equal(verify_with(fx.ks, 0, tok, NOW, &c),
			    AUTH_TOO_LARGE);
		}
		free(tok);
	}
	free(pad);
	assert_true(hit);

	/* 8193 bytes of valid alphabet, shaped as a JWS. */
	tok = malloc(AUTH_TOKEN_MAX + 2);
	memset(tok, 'A', AUTH_TOKEN_MAX + 1);
	tok[100] = '.';
	tok[200] = '.';
	tok[AUTH_TOKEN_MAX + 1] = '\0';
	assert_int_equal(strlen(tok), 8193);
	assert_int_equal(verify_tok(tok), AUTH_TOO_LARGE);
	/* The length argument decides, not the NUL. */
	assert_int_equal(auth_verify(fx.ks,
			     &(struct auth_policy){ .issuer = ISS,
				 .audience = AUD,
				 .algs = 0xff },
			     tok, AUTH_TOKEN_MAX + 1, NOW, &c),
	    AUTH_TOO_LARGE);
	free(tok);
}

static void
test_auth_huge_header(void **state)
{
	struct auth_claims c;
	struct auth_policy p;
	size_t		   n;
	char		  *tok;

	/* libjwt 1.10.2 overflows its stack (alloca) on this. */
	n = 12 * 1024 * 1024;
	tok = malloc(n + 64);
	assert_non_null(tok);
	memcpy(tok, "eyJhbGciOiJSUzI1NiIsInAiOiJ", 27);
	memset(tok + 27, 'Q', n);
	strcpy(tok + 27 + n, "In0.e30.AAAA");
	p = policy();
	assert_int_equal(auth_verify(fx.ks, &p, tok, strlen(tok), NOW, &c),
	    AUTH_TOO_LARGE);
	free(tok);
}

static void
test_auth_null_args(void **state)
{
	struct auth_policy p;
	struct auth_claims c;

	p = policy();
	assert_int_equal(auth_verify(NULL, &p, "a.b.c", 5, NOW, &c),
	    AUTH_MALFORMED);
	assert_int_equal(auth_verify(fx.ks, NULL, "a.b.c", 5, NOW, &c),
	    AUTH_MALFORMED);
	assert_int_equal(auth_verify(fx.ks, &p, NULL, 5, NOW, &c),
	    AUTH_MALFORMED);
	assert_int_equal(auth_verify(fx.ks, &p, "a.b.c", 5, NOW, NULL),
	    AUTH_MALFORMED);
}

/* An unset issuer or audience must not match a token without one. */
static void
test_auth_policy_unset_fails_closed(void **state)
{
	struct auth_policy p;
	struct auth_claims c;
	char		  *tok;

	tok = mint_alg("RS256", NULL, claims(NULL), fx.rsa1, NULL, 0);
	p = policy();
	p.issuer = NULL;
	assert_int_equal(auth_verify(fx.ks, &p, tok, strlen(tok), NOW, &c),
	    AUTH_BAD_ISSUER);
	p = policy();
	p.audience = NULL;
	assert_int_equal(auth_verify(fx.ks, &p, tok, strlen(tok), NOW, &c),
	    AUTH_BAD_AUDIENCE);
	p = policy();
	p.algs = 0;
	assert_int_equal(auth_verify(fx.ks, &p, tok, strlen(tok), NOW, &c),
	    AUTH_BAD_ALG);
	free(tok);
}

/* ---- claim mapping ---- */

/* Sign payload with rsa1 and verify it under map (NULL: the defaults). */
static enum auth_result
verify_map(const char *payload, const struct auth_claim_map *map,
    struct auth_claims *out)
{
	struct auth_policy p;
	enum auth_result   r;
	char		  *tok;

	p = policy();
	p.map = map;
	tok = mint_alg("RS256", NULL, payload, fx.rsa1, NULL, 0);
	r = auth_verify(fx.ks, &p, tok, strlen(tok), NOW, out);
	free(tok);
	return (r);
}

static void
map_parse_ok(struct auth_claim_map *m, const char *names, const char *email,
    const char *roles, const char *scopes)
{
	char err[256];

	assert_int_equal(auth_claim_map_parse(m, names, email, roles, scopes,
			     err, sizeof(err)),
	    1);
	assert_string_equal(err, "");
}

static void
test_auth_map_parse(void **state)
{
	struct auth_claim_map m;
	char		      err[256], path[200];

	map_parse_ok(&m, "name,preferred_username,sub", "email", "roles",
	    "scope,scp");
	assert_int_equal(m.nnames, 3);
	assert_string_equal(m.names[1], "preferred_username");
	assert_string_equal(m.email, "email");
	assert_int_equal(m.nroles, 1);
	assert_int_equal(m.nscopes, 2);
	assert_string_equal(m.scopes[1], "scp");

	/* Blanks around entries go; dots and slashes inside stay. */
	map_parse_ok(&m, " name , upn\t", " mail ",
	    "realm_access.roles, https://example.com/roles ,groups", "scp");
	assert_int_equal(m.nnames, 2);
	assert_string_equal(m.names[1], "upn");
	assert_string_equal(m.email, "mail");
	assert_int_equal(m.nroles, 3);
	assert_string_equal(m.roles[0], "realm_access.roles");
	assert_string_equal(m.roles[1], "https://example.com/roles");

	/* Empty settings: empty lists, no e-mail claim. */
	map_parse_ok(&m, "", NULL, " ", "");
	assert_int_equal(m.nnames, 0);
	assert_string_equal(m.email, "");
	assert_int_equal(m.nroles, 0);
	assert_int_equal(m.nscopes, 0);

	/* Eight entries are fine, nine are not. */
	map_parse_ok(&m, "a,b,c,d,e,f,g,h", "", "", "");
	assert_int_equal(m.nnames, AUTH_MAP_MAX);
	assert_int_equal(auth_claim_map_parse(&m, "name", "email",
			     "a,b,c,d,e,f,g,h,i", "scope", err, sizeof(err)),
	    0);
	assert_string_equal(err, "YARD_EWS_ROLES_PATHS: more than 8 entries");
	assert_int_equal(m.nnames, 0); /* zeroed on error */

	assert_int_equal(auth_claim_map_parse(&m, "name,,sub", "email", "roles",
			     "scope", err, sizeof(err)),
	    0);
	assert_string_equal(err, "YARD_EWS_NAME_CLAIMS: an empty entry");
	assert_int_equal(auth_claim_map_parse(&m, "name", "email", "roles",
			     "scope, ", err, sizeof(err)),
	    0);
	assert_string_equal(err, "YARD_EWS_SCOPE_CLAIMS: an empty entry");
	assert_int_equal(auth_claim_map_parse(&m, "name", "email,mail", "roles",
			     "scope", err, sizeof(err)),
	    0);
	assert_string_equal(err,
	    "YARD_EWS_EMAIL_CLAIM: one claim path, not a list");

	memset(path, 'p', AUTH_MAP_PATH_MAX - 1);
	path[AUTH_MAP_PATH_MAX - 1] = '\0';
	map_parse_ok(&m, "name", "email", path, "scope");
	assert_int_equal(strlen(m.roles[0]), AUTH_MAP_PATH_MAX - 1);
	path[AUTH_MAP_PATH_MAX - 1] = 'p';
	path[AUTH_MAP_PATH_MAX] = '\0';
	assert_int_equal(auth_claim_map_parse(&m, "name", "email", path,
			     "scope", err, sizeof(err)),
	    0);
	assert_string_equal(err,
	    "YARD_EWS_ROLES_PATHS: a claim path longer than 127 bytes");

	assert_int_equal(auth_claim_map_parse(&m, "name", "email",
			     "realm_access..roles", "scope", err, sizeof(err)),
	    0);
	assert_string_equal(err,
	    "YARD_EWS_ROLES_PATHS: an empty step in "
	    "claim path \"realm_access..roles\"");
	assert_int_equal(auth_claim_map_parse(&m, ".name", "email", "roles",
			     "scope", err, sizeof(err)),
	    0);
	assert_non_null(strstr(err, "YARD_EWS_NAME_CLAIMS: an empty step"));
	assert_int_equal(auth_claim_map_parse(&m, "name", "email", "roles",
			     "scp.", err, sizeof(err)),
	    0);
	assert_non_null(strstr(err, "YARD_EWS_SCOPE_CLAIMS: an empty step"));
	assert_int_equal(auth_claim_map_parse(&m, "name", "em\nail", "roles",
			     "scope", err, sizeof(err)),
	    0);
	assert_non_null(strstr(err, "YARD_EWS_EMAIL_CLAIM: a control"));
}

static void
test_auth_map_keycloak(void **state)
{
	struct auth_claim_map m;
	struct auth_claims    c;

	map_parse_ok(&m, "name,preferred_username,sub", "email",
	    "realm_access.roles,resource_access.yard.roles", "scope,scp");

	/* The admin role as a client role of yard. */
	assert_int_equal(verify_map(claims(",\"preferred_username\":\"kc\","
					   "\"realm_access\":{\"roles\":["
					   "\"offline_access\"]},"
					   "\"resource_access\":{\"account\":"
					   "{\"roles\":[\"manage-account\"]},"
					   "\"yard\":{\"roles\":["
					   "\"yard-admin\"]}},"
					   "\"scope\":\"openid profile\""),
			     &m, &c),
	    AUTH_OK);
	assert_string_equal(c.name, "kc");
	assert_int_equal(c.admin, 1);
	assert_int_equal(c.upload, 0);

	/* ... or as a realm role. */
	assert_int_equal(verify_map(claims(",\"realm_access\":{\"roles\":["
					   "\"yard-admin\"]}"),
			     &m, &c),
	    AUTH_OK);
	assert_int_equal(c.admin, 1);
	assert_string_equal(c.name, "alice"); /* sub */

	/* The role of another client does not count. */
	assert_int_equal(verify_map(claims(",\"resource_access\":{"
					   "\"other\":{\"roles\":["
					   "\"yard-admin\"]}},"
					   "\"roles\":[\"yard-admin\"]"),
			     &m, &c),
	    AUTH_OK);
	assert_int_equal(c.admin, 0);

	/* A step through something other than an object finds nothing. */
	assert_int_equal(verify_map(claims(",\"realm_access\":[{\"roles\":["
					   "\"yard-admin\"]}],"
					   "\"resource_access\":\"yard\""),
			     &m, &c),
	    AUTH_OK);
	assert_int_equal(c.admin, 0);
}

static void
test_auth_map_groups_and_urls(void **state)
{
	struct auth_claim_map m;
	struct auth_claims    c;

	map_parse_ok(&m, "name", "email", "groups,https://example.com/roles",
	    "scope");
	assert_int_equal(verify_map(claims(",\"groups\":[\"dev\","
					   "\"yard-admin\"]"),
			     &m, &c),
	    AUTH_OK);
	assert_int_equal(c.admin, 1);
	/* A top-level member with dots in its name. */
	assert_int_equal(verify_map(claims(",\"groups\":[\"dev\"],"
					   "\"https://example.com/roles\":["
					   "\"yard-admin\"]"),
			     &m, &c),
	    AUTH_OK);
	assert_int_equal(c.admin, 1);
	/* "roles" is no longer read under this map. */
	assert_int_equal(verify_map(claims(",\"roles\":[\"yard-admin\"]"), &m,
			     &c),
	    AUTH_OK);
	assert_int_equal(c.admin, 0);

	/* The whole text as a member first, then the dotted steps. */
	map_parse_ok(&m, "a.b", "", "a.b", "");
	assert_int_equal(verify_map(claims(",\"a.b\":\"yard-admin\","
					   "\"a\":{\"b\":\"dev\"}"),
			     &m, &c),
	    AUTH_OK);
	assert_int_equal(c.admin, 1);
	assert_string_equal(c.name, "yard-admin");
	assert_int_equal(verify_map(claims(",\"a\":{\"b\":\"yard-admin\"}"), &m,
			     &c),
	    AUTH_OK);
	assert_int_equal(c.admin, 1);
	assert_string_equal(c.name, "yard-admin");
	assert_int_equal(verify_map(claims(",\"a.b\":7,"
					   "\"a\":{\"b\":\"yard-admin\"}"),
			     &m, &c),
	    AUTH_OK);
	assert_int_equal(c.admin, 0); /* the member is found, and unusable */
}

/* Entra ID: scp (a string) for delegated, roles for applications. */
static void
test_auth_map_entra(void **state)
{
	struct auth_claims c;

	assert_int_equal(verify_map(claims(",\"preferred_username\":"
					   "\"e@contoso.test\","
					   "\"scp\":\"User.Read "
					   "packages:upload\","
					   "\"roles\":[\"yard-admin\"],"
					   "\"upn\":\"e@contoso.test\""),
			     NULL, &c),
	    AUTH_OK);
	assert_string_equal(c.name, "e@contoso.test");
	assert_string_equal(c.email, "");
	assert_int_equal(c.admin, 1);
	assert_int_equal(c.upload, 1);
}

static void
test_auth_map_wrong_types(void **state)
{
	struct auth_claim_map m;
	struct auth_claims    c;

	map_parse_ok(&m, "name,preferred_username", "mail", "roles,groups",
	    "scope,scp");
	assert_int_equal(verify_map(claims(",\"name\":42,"
					   "\"preferred_username\":\"\","
					   "\"mail\":{\"v\":\"a@x.test\"},"
					   "\"roles\":7,\"groups\":null,"
					   "\"scope\":false,\"scp\":[1,2]"),
			     &m, &c),
	    AUTH_OK);
	assert_string_equal(c.name, "");
	assert_string_equal(c.email, "");
	assert_int_equal(c.admin, 0);
	assert_int_equal(c.upload, 0);
	/* The next name in the list is taken when the first is unusable. */
	assert_int_equal(verify_map(claims(",\"name\":[\"x\"],"
					   "\"preferred_username\":\"pu\","
					   "\"mail\":\"m@x.test\","
					   "\"roles\":7,\"groups\":["
					   "\"yard-admin\"]"),
			     &m, &c),
	    AUTH_OK);
	assert_string_equal(c.name, "pu");
	assert_string_equal(c.email, "m@x.test");
	assert_int_equal(c.admin, 1);

	/* An empty map reads nothing. */
	map_parse_ok(&m, "", "", "", "");
	assert_int_equal(verify_map(claims(",\"name\":\"n\",\"email\":\"e\","
					   "\"roles\":[\"yard-admin\"],"
					   "\"scope\":\"packages:upload\""),
			     &m, &c),
	    AUTH_OK);
	assert_string_equal(c.name, "");
	assert_string_equal(c.email, "");
	assert_int_equal(c.admin, 0);
	assert_int_equal(c.upload, 0);
	assert_string_equal(c.sub, "alice");
}

/* 300 bytes of Chinese (3 bytes a character), cut at 255 or below. */
static void
test_auth_map_utf8_cut(void **state)
{
	struct auth_claims c;
	char		   extra[2048], name[400], email[400];
	size_t		   pre, i, o, n;

	for (pre = 0; pre < 3; pre++) {
		o = 0;
		for (i = 0; i < pre; i++)
			name[o++] = 'a';
		for (i = 0; i < 100; i++)
			o += (size_t)snprintf(name + o, sizeof(name) - o,
			    "\xe4\xb8\xad"); /* U+4E2D */
		/* Four-byte characters in the e-mail address. */
		n = 0;
		for (i = 0; i < pre; i++)
			email[n++] = 'b';
		for (i = 0; i < 70; i++)
			n += (size_t)snprintf(email + n, sizeof(email) - n,
			    "\xf0\x9f\x93\xa6"); /* U+1F4E6 */
		snprintf(extra, sizeof(extra),
		    ",\"name\":\"%s\",\"email\":\"%s@x.test\"", name, email);
		assert_int_equal(verify_payload(claims(extra), NOW, &c),
		    AUTH_OK);
		/* 255 = pre + 3k + r: r bytes of a character are dropped. */
		assert_int_equal(strlen(c.name), pre + (255 - pre) / 3 * 3);
		assert_memory_equal(c.name, name, strlen(c.name));
		assert_int_equal((strlen(c.name) - pre) % 3, 0);
		assert_int_equal(strlen(c.email), pre + (255 - pre) / 4 * 4);
		assert_memory_equal(c.email, email, strlen(c.email));
	}
}

static void
test_auth_sub_length(void **state)
{
	struct auth_claims c;
	char		   pl[1024], sub[300];

	memset(sub, 's', 255);
	sub[255] = '\0';
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"%s\","
	    "\"exp\":%lld}",
	    sub, (long long)(NOW + 600));
	assert_int_equal(verify_payload(pl, NOW, &c), AUTH_OK);
	assert_string_equal(c.sub, sub);
	/* An identity is never cut: one byte more is a refusal. */
	memset(sub, 's', 256);
	sub[256] = '\0';
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"%s\","
	    "\"exp\":%lld}",
	    sub, (long long)(NOW + 600));
	assert_int_equal(verify_payload(pl, NOW, &c), AUTH_BAD_CLAIMS);
	assert_string_equal(c.sub, "");
}

/* ---- what a refused token showed ---- */

static enum auth_result
verify_seen_tok(const char *tok, size_t len, struct auth_seen *seen)
{
	struct auth_policy p;
	struct auth_claims c;
	enum auth_result   r, r2;

	p = policy();
	r = auth_verify_seen(fx.ks, &p, tok, len, NOW, &c, seen);
	/* seen changes nothing in the result. */
	r2 = auth_verify(fx.ks, &p, tok, len, NOW, &c);
	assert_int_equal(r, r2);
	return (r);
}

static void
test_auth_seen(void **state)
{
	struct auth_seen seen;
	char		 pl[2048], big[400], *tok;

	/* Bad signature (rsa2 is not in the set): header and payload read,
	 * control and non-ASCII bytes shown as '?'. */
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"https://idp.test/\\u00e9\",\"aud\":\"" AUD "\","
	    "\"sub\":\"mal\\nlory\",\"exp\":%lld,\"name\":\"secret\"}",
	    (long long)(NOW + 600));
	tok = mint("RS256",
	    "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"k\\u0001\"}", pl,
	    fx.rsa2, NULL, 0);
	memset(&seen, 'x', sizeof(seen));
	assert_int_equal(verify_seen_tok(tok, strlen(tok), &seen),
	    AUTH_UNKNOWN_KID);
	assert_string_equal(seen.alg, "RS256");
	assert_string_equal(seen.typ, "at+jwt");
	assert_string_equal(seen.kid, "k?");
	assert_string_equal(seen.iss, "https://idp.test/??");
	assert_string_equal(seen.sub, "mal?lory");
	free(tok);

	tok = mint("RS256", "{\"alg\":\"RS256\"}", claims(NULL), fx.rsa2, NULL,
	    0);
	memset(&seen, 'x', sizeof(seen));
	assert_int_equal(verify_seen_tok(tok, strlen(tok), &seen),
	    AUTH_BAD_SIGNATURE);
	assert_string_equal(seen.alg, "RS256");
	assert_string_equal(seen.typ, "");
	assert_string_equal(seen.kid, "");
	assert_string_equal(seen.iss, ISS);
	assert_string_equal(seen.sub, "alice");
	free(tok);

	/* Bad audience, a long issuer and sub cut to fit. */
	memset(big, 'i', 300);
	big[300] = '\0';
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"%s\",\"aud\":\"other\",\"sub\":\"%s\",\"exp\":%lld}",
	    big, big, (long long)(NOW + 600));
	tok = mint_alg("ES256", "kid-1", pl, fx.ec256, NULL, 0);
	assert_int_equal(verify_seen_tok(tok, strlen(tok), &seen),
	    AUTH_BAD_ISSUER);
	assert_int_equal(strlen(seen.iss), sizeof(seen.iss) - 1);
	assert_int_equal(strlen(seen.sub), sizeof(seen.sub) - 1);
	assert_string_equal(seen.alg, "ES256");
	assert_string_equal(seen.typ, "JWT");
	free(tok);
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"" ISS "\",\"aud\":\"other\",\"sub\":\"bob\","
	    "\"exp\":%lld}",
	    (long long)(NOW + 600));
	tok = mint_alg("RS256", NULL, pl, fx.rsa1, NULL, 0);
	assert_int_equal(verify_seen_tok(tok, strlen(tok), &seen),
	    AUTH_BAD_AUDIENCE);
	assert_string_equal(seen.iss, ISS);
	assert_string_equal(seen.sub, "bob");
	free(tok);

	/* A refused typ is shown. */
	tok = mint("RS256", "{\"alg\":\"RS256\",\"typ\":\"JOSE\"}",
	    claims(NULL), fx.rsa1, NULL, 0);
	assert_int_equal(verify_seen_tok(tok, strlen(tok), &seen),
	    AUTH_BAD_TYP);
	assert_string_equal(seen.typ, "JOSE");
	assert_string_equal(seen.sub, "alice");
	free(tok);

	/* Duplicate keys: the payload is not shown, the header is. */
	tok = mint("RS256", "{\"alg\":\"RS256\"}",
	    "{\"sub\":\"a\",\"sub\":\"b\",\"iss\":\"x\"}", fx.rsa2, NULL, 0);
	assert_int_equal(verify_seen_tok(tok, strlen(tok), &seen),
	    AUTH_BAD_SIGNATURE);
	assert_string_equal(seen.alg, "RS256");
	assert_string_equal(seen.sub, "");
	assert_string_equal(seen.iss, "");
	free(tok);

	/* A valid token fills it too. */
	tok = mint_alg("RS256", NULL, claims(NULL), fx.rsa1, NULL, 0);
	assert_int_equal(verify_seen_tok(tok, strlen(tok), &seen), AUTH_OK);
	assert_string_equal(seen.alg, "RS256");
	assert_string_equal(seen.typ, "JWT");
	assert_string_equal(seen.iss, ISS);
	assert_string_equal(seen.sub, "alice");
	free(tok);

	/* Not a JWS: nothing to show. */
	memset(&seen, 'x', sizeof(seen));
	assert_int_equal(verify_seen_tok("not a token", 11, &seen),
	    AUTH_MALFORMED);
	assert_string_equal(seen.alg, "");
	assert_string_equal(seen.sub, "");
	assert_int_equal(verify_seen_tok("", 0, &seen), AUTH_MALFORMED);
}

/* Too large: the header shows, the payload is not read. */
static void
test_auth_seen_too_large(void **state)
{
	struct auth_seen seen;
	char		 extra[AUTH_TOKEN_MAX + 64], *tok, *huge;
	size_t		 n;

	memset(extra, 0, sizeof(extra));
	memcpy(extra, ",\"pad\":\"", 8);
	memset(extra + 8, 'p', 7000);
	strcat(extra, "\"");
	tok =
	    mint("RS256", "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
		claims(extra), fx.rsa1, NULL, 0);
	assert_true(strlen(tok) > AUTH_TOKEN_MAX);
	memset(&seen, 'x', sizeof(seen));
	assert_int_equal(verify_seen_tok(tok, strlen(tok), &seen),
	    AUTH_TOO_LARGE);
	assert_string_equal(seen.alg, "RS256");
	assert_string_equal(seen.typ, "JWT");
	assert_string_equal(seen.kid, "k1");
	assert_string_equal(seen.iss, "");
	assert_string_equal(seen.sub, "");
	free(tok);

	/* A header longer than the limit is not decoded at all. */
	n = 3 * AUTH_TOKEN_MAX;
	huge = malloc(n + 16);
	assert_non_null(huge);
	memcpy(huge, "eyJhbGciOiJSUzI1NiIsInAiOiJ", 27);
	memset(huge + 27, 'Q', n - 27);
	strcpy(huge + n, "In0.e30.AAAA");
	assert_int_equal(verify_seen_tok(huge, strlen(huge), &seen),
	    AUTH_TOO_LARGE);
	assert_string_equal(seen.alg, "");
	free(huge);
}

/* ---- small helpers ---- */

static void
test_auth_algs_parse(void **state)
{
	assert_int_equal(auth_algs_parse("RS256,ES256"),
	    AUTH_ALG_RS256 | AUTH_ALG_ES256);
	assert_int_equal(auth_algs_parse(" RS256 , ES384,HS256 "),
	    AUTH_ALG_RS256 | AUTH_ALG_ES384 | AUTH_ALG_HS256);
	assert_int_equal(auth_algs_parse("RS256,RS384,RS512,ES256,ES384,"
					 "ES512,HS256"),
	    0x7f);
	assert_int_equal(auth_algs_parse("rs256"), 0);
	assert_int_equal(auth_algs_parse("none"), 0);
	assert_int_equal(auth_algs_parse("RS256,none"), 0);
	assert_int_equal(auth_algs_parse("RS256,"), 0);
	assert_int_equal(auth_algs_parse(",RS256"), 0);
	assert_int_equal(auth_algs_parse("RS256 ES256"), 0);
	assert_int_equal(auth_algs_parse(""), 0);
	assert_int_equal(auth_algs_parse(NULL), 0);
	assert_int_equal(auth_algs_parse("HS384"), 0);
}

static void
test_auth_result_strings(void **state)
{
	int r;

	assert_string_equal(auth_result_code(AUTH_EXPIRED), "token_expired");
	assert_string_equal(auth_result_code(AUTH_BAD_SIGNATURE),
	    "invalid_token");
	assert_string_equal(auth_result_code(AUTH_MALFORMED), "invalid_token");
	assert_string_equal(auth_result_str(AUTH_BAD_SIGNATURE),
	    "bad signature");
	for (r = AUTH_OK; r < AUTH_NRESULTS; r++)
		assert_string_not_equal(auth_result_str((enum auth_result)r),
		    "unknown result");
	assert_string_equal(auth_result_reason(AUTH_TOO_LARGE), "too_large");
	assert_string_equal(auth_result_reason(AUTH_OK), "ok");
}

/* ---- key sets ---- */

static void
test_auth_keyset_pem_forms(void **state)
{
	struct auth_keyset *ks;
	EVP_PKEY	   *weak, *k1;
	X509		   *x;
	BIO		   *b;
	BUF_MEM		   *m;
	char		    err[128], *pem, *tok;

	ks = auth_keyset_new();

	/* PKCS#1 "RSA PUBLIC KEY". */
	b = BIO_new(BIO_s_mem());
	{
		OSSL_ENCODER_CTX *ectx;

		ectx = OSSL_ENCODER_CTX_new_for_pkey(fx.rsa2,
		    EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific", NULL);
		assert_non_null(ectx);
		assert_int_equal(OSSL_ENCODER_to_bio(ectx, b), 1);
		OSSL_ENCODER_CTX_free(ectx);
	}
	BIO_get_mem_ptr(b, &m);
	pem = strndup(m->data, m->length);
	BIO_free(b);
	assert_non_null(strstr(pem, "BEGIN RSA PUBLIC KEY"));
	assert_int_equal(auth_keyset_add_pem(ks, pem, strlen(pem), "pkcs1", err,
			     sizeof(err)),
	    1);
	free(pem);
	tok = mint_alg("RS256", "pkcs1", claims(NULL), fx.rsa2, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW,
			     &(struct auth_claims){ 0 }),
	    AUTH_OK);
	free(tok);

	/* A self-signed certificate for ec256. */
	x = X509_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, fx.ec256);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"ews.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_true(X509_sign(x, fx.ec256, EVP_sha256()) > 0);
	b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	BIO_get_mem_ptr(b, &m);
	pem = strndup(m->data, m->length);
	BIO_free(b);
	X509_free(x);
	assert_int_equal(auth_keyset_add_pem(ks, pem, strlen(pem), "cert", err,
			     sizeof(err)),
	    1);
	free(pem);
	tok = mint_alg("ES256", "cert", claims(NULL), fx.ec256, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW,
			     &(struct auth_claims){ 0 }),
	    AUTH_OK);
	free(tok);
	assert_int_equal(auth_keyset_count(ks), 2);

	/* Refused: private key, RSA-1024, secp256k1, garbage, empty. */
	assert_int_equal(auth_keyset_add_pem(ks, fx.rsa1_priv,
			     strlen(fx.rsa1_priv), NULL, err, sizeof(err)),
	    0);
	assert_non_null(strstr(err, "private key"));
	assert_null(strstr(err, "MII"));
	weak = EVP_RSA_gen(1024);
	pem = pem_pub(weak);
	assert_int_equal(auth_keyset_add_pem(ks, pem, strlen(pem), NULL, err,
			     sizeof(err)),
	    0);
	free(pem);
	EVP_PKEY_free(weak);
	k1 = EVP_EC_gen("secp256k1");
	pem = pem_pub(k1);
	assert_int_equal(auth_keyset_add_pem(ks, pem, strlen(pem), NULL, err,
			     sizeof(err)),
	    0);
	free(pem);
	EVP_PKEY_free(k1);
	assert_int_equal(auth_keyset_add_pem(ks,
			     "-----BEGIN PUBLIC KEY-----\n"
			     "AAAA\n-----END PUBLIC KEY-----\n",
			     57, NULL, err, sizeof(err)),
	    0);
	assert_int_equal(auth_keyset_add_pem(ks, "", 0, NULL, err, sizeof(err)),
	    0);
	/* Too-long kid. */
	pem = malloc(AUTH_KID_MAX + 2);
	memset(pem, 'k', AUTH_KID_MAX + 1);
	pem[AUTH_KID_MAX + 1] = '\0';
	assert_int_equal(auth_keyset_add_pem(ks, fx.rsa1_pub,
			     strlen(fx.rsa1_pub), pem, err, sizeof(err)),
	    0);
	free(pem);
	assert_int_equal(auth_keyset_count(ks), 2);
	auth_keyset_free(ks);
}

static void
test_auth_keyset_cap(void **state)
{
	struct auth_keyset *ks;
	char		    err[128];
	int		    i;

	ks = auth_keyset_new();
	for (i = 0; i < AUTH_KEYS_MAX; i++)
		assert_int_equal(auth_keyset_add_secret(ks, fx.secret,
				     sizeof(fx.secret), err, sizeof(err)),
		    1);
	assert_int_equal(auth_keyset_add_secret(ks, fx.secret,
			     sizeof(fx.secret), err, sizeof(err)),
	    0);
	assert_int_equal(auth_keyset_add_pem(ks, fx.rsa1_pub,
			     strlen(fx.rsa1_pub), NULL, err, sizeof(err)),
	    0);
	assert_int_equal(auth_keyset_count(ks), AUTH_KEYS_MAX);
	auth_keyset_free(ks);
}

/* JWK members for one of our keys. */
static void
b64_bn(EVP_PKEY *pk, const char *param, char *out)
{
	BIGNUM *bn;
	uint8_t buf[1024];
	int	n;

	bn = NULL;
	assert_int_equal(EVP_PKEY_get_bn_param(pk, param, &bn), 1);
	n = BN_bn2bin(bn, buf);
	BN_free(bn);
	b64url(buf, (size_t)n, out);
}

static char *
jwk_rsa(EVP_PKEY *pk, const char *extra)
{
	char n[1024], e[16], *s;

	b64_bn(pk, OSSL_PKEY_PARAM_RSA_N, n);
	b64_bn(pk, OSSL_PKEY_PARAM_RSA_E, e);
	s = malloc(2048);
	snprintf(s, 2048, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s}", n, e,
	    extra);
	return (s);
}

static char *
jwk_ec(EVP_PKEY *pk, const char *crv, const char *extra)
{
	uint8_t pt[200];
	char	x[128], y[128], *s;
	size_t	len, c;

	assert_int_equal(EVP_PKEY_get_octet_string_param(pk,
			     OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len),
	    1);
	assert_int_equal(pt[0], 4);
	c = (len - 1) / 2;
	b64url(pt + 1, c, x);
	b64url(pt + 1 + c, c, y);
	s = malloc(1024);
	snprintf(s, 1024,
	    "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}", crv,
	    x, y, extra);
	return (s);
}

static int
set_jwks(struct auth_keyset *ks, const char *doc, size_t *skipped)
{
	char err[256];

	return (auth_keyset_set_jwks(ks, doc, strlen(doc), skipped, err,
	    sizeof(err)));
}

static void
test_auth_jwks_parse(void **state)
{
	struct auth_keyset *ks;
	struct auth_claims  c;
	char		   *r1, *e1, *e2, *doc, *tok;
	size_t		    skipped;

	r1 = jwk_rsa(fx.rsa1, ",\"kid\":\"r1\",\"use\":\"sig\"");
	e1 = jwk_ec(fx.ec256, "P-256", ",\"kid\":\"e1\",\"alg\":\"ES256\"");
	e2 = jwk_ec(fx.ec384, "P-384", ",\"kid\":\"e2\"");
	doc = malloc(8192);
	snprintf(doc, 8192, "{\"keys\":[%s,%s,%s]}", r1, e1, e2);

	ks = auth_keyset_new();
	assert_int_equal(set_jwks(ks, doc, &skipped), 1);
	assert_int_equal(skipped, 0);
	assert_int_equal(auth_keyset_count(ks), 3);

	tok = mint_alg("RS256", "r1", claims(NULL), fx.rsa1, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW, &c), AUTH_OK);
	free(tok);
	tok = mint_alg("ES256", "e1", claims(NULL), fx.ec256, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW, &c), AUTH_OK);
	free(tok);
	tok = mint_alg("ES384", "e2", claims(NULL), fx.ec384, NULL, 0);
	assert_int_equal(verify_with(ks, AUTH_ALG_ES384, tok, NOW, &c),
	    AUTH_OK);
	free(tok);
	/* No kid: every key fitting the alg is tried. */
	tok = mint_alg("RS256", NULL, claims(NULL), fx.rsa1, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW, &c), AUTH_OK);
	free(tok);

	auth_keyset_free(ks);
	free(r1);
	free(e1);
	free(e2);
	free(doc);
}

static void
test_auth_jwks_alg_narrowing(void **state)
{
	struct auth_keyset *ks;
	struct auth_claims  c;
	char		   *r1, *bad, *doc, *tok;
	size_t		    skipped;

	r1 = jwk_rsa(fx.rsa1, ",\"kid\":\"r1\",\"alg\":\"RS384\"");
	/* An alg that does not fit the key type: key skipped. */
	bad = jwk_rsa(fx.rsa2, ",\"kid\":\"r2\",\"alg\":\"ES256\"");
	doc = malloc(8192);
	snprintf(doc, 8192, "{\"keys\":[%s,%s]}", r1, bad);

	ks = auth_keyset_new();
	assert_int_equal(set_jwks(ks, doc, &skipped), 1);
	assert_int_equal(skipped, 1);
	assert_int_equal(auth_keyset_count(ks), 1);

	tok = mint_alg("RS256", "r1", claims(NULL), fx.rsa1, NULL, 0);
	assert_int_equal(verify_with(ks, AUTH_ALG_RS256 | AUTH_ALG_RS384, tok,
			     NOW, &c),
	    AUTH_BAD_ALG);
	free(tok);
	tok = mint_alg("RS384", "r1", claims(NULL), fx.rsa1, NULL, 0);
	assert_int_equal(verify_with(ks, AUTH_ALG_RS256 | AUTH_ALG_RS384, tok,
			     NOW, &c),
	    AUTH_OK);
	free(tok);
	tok = mint_alg("RS256", "r2", claims(NULL), fx.rsa2, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW, &c), AUTH_UNKNOWN_KID);
	free(tok);

	auth_keyset_free(ks);
	free(r1);
	free(bad);
	free(doc);
}

static void
test_auth_jwks_skips_bad_keys(void **state)
{
	struct auth_keyset *ks;
	char		   *good, *enc, *doc, *dup, *eckey;
	char		    err[256];
	size_t		    skipped;

	good = jwk_rsa(fx.rsa1, ",\"kid\":\"g\"");
	enc = jwk_rsa(fx.rsa2, ",\"kid\":\"enc\",\"use\":\"enc\"");
	dup = jwk_rsa(fx.rsa2, ",\"kid\":\"g\"");
	eckey = jwk_ec(fx.ec256, "P-384", ",\"kid\":\"wrongcrv\"");
	doc = malloc(16384);
	snprintf(doc, 16384,
	    "{\"keys\":[%s,%s,%s,%s,"
	    "{\"kty\":\"oct\",\"k\":\"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\"},"
	    "{\"kty\":\"RSA\",\"kid\":\"badn\",\"n\":\"!!\",\"e\":\"AQAB\"},"
	    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"AAAA\"},"
	    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"},"
	    "{\"kid\":\"nokty\"}, 7, \"x\", null]}",
	    good, enc, dup, eckey);

	ks = auth_keyset_new();
	assert_int_equal(auth_keyset_set_jwks(ks, doc, strlen(doc), &skipped,
			     err, sizeof(err)),
	    1);
	assert_int_equal(skipped, 11);
	assert_int_equal(auth_keyset_count(ks), 1);
	/* The reason for the first skip, without key material. */
	assert_non_null(strstr(err, "key 1"));

	/* The first "g" was kept: rsa1 verifies, rsa2 (the dup) does not. */
	{
		char *tok;

		tok = mint_alg("RS256", "g", claims(NULL), fx.rsa1, NULL, 0);
		assert_int_equal(verify_with(ks, 0, tok, NOW,
				     &(struct auth_claims){ 0 }),
		    AUTH_OK);
		free(tok);
		tok = mint_alg("RS256", "g", claims(NULL), fx.rsa2, NULL, 0);
		assert_int_equal(verify_with(ks, 0, tok, NOW,
				     &(struct auth_claims){ 0 }),
		    AUTH_BAD_SIGNATURE);
		free(tok);
		tok = mint_alg("RS256", "enc", claims(NULL), fx.rsa2, NULL, 0);
		assert_int_equal(verify_with(ks, 0, tok, NOW,
				     &(struct auth_claims){ 0 }),
		    AUTH_UNKNOWN_KID);
		free(tok);
	}

	auth_keyset_free(ks);
	free(good);
	free(enc);
	free(dup);
	free(eckey);
	free(doc);
}

static void
test_auth_jwks_reject_document(void **state)
{
	struct auth_keyset *ks;
	char		   *r1, *doc, *tok;
	size_t		    skipped;
	static const char  *bad[] = { "[]", "\"keys\"", "{}", "{\"keys\":{}}",
		 "{\"keys\":null}", "{\"keys\":[]", "not json",
		 "{\"keys\":[],\"keys\":[]}" };
	size_t		    i;

	r1 = jwk_rsa(fx.rsa1, ",\"kid\":\"r1\"");
	doc = malloc(8192);
	snprintf(doc, 8192, "{\"keys\":[%s]}", r1);
	ks = auth_keyset_new();
	assert_int_equal(set_jwks(ks, doc, &skipped), 1);
	assert_int_equal(auth_keyset_count(ks), 1);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		skipped = 99;
		assert_int_equal(set_jwks(ks, bad[i], &skipped), 0);
		assert_int_equal(auth_keyset_count(ks), 1);
	}
	tok = mint_alg("RS256", "r1", claims(NULL), fx.rsa1, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW,
			     &(struct auth_claims){ 0 }),
	    AUTH_OK);
	free(tok);

	auth_keyset_free(ks);
	free(r1);
	free(doc);
}

static void
test_auth_jwks_refresh_keeps_pem(void **state)
{
	struct auth_keyset *ks;
	char		   *k2, *k3, *doc, *tok, err[128];
	size_t		    skipped;

	ks = keyset_pem(fx.rsa1_pub, NULL);
	assert_int_equal(auth_keyset_add_secret(ks, fx.secret,
			     sizeof(fx.secret), err, sizeof(err)),
	    1);
	k2 = jwk_rsa(fx.rsa2, ",\"kid\":\"k2\"");
	k3 = jwk_ec(fx.ec256, "P-256", ",\"kid\":\"k3\"");
	doc = malloc(8192);

	snprintf(doc, 8192, "{\"keys\":[%s]}", k2);
	assert_int_equal(set_jwks(ks, doc, &skipped), 1);
	assert_int_equal(auth_keyset_count(ks), 3);
	tok = mint_alg("RS256", "k2", claims(NULL), fx.rsa2, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW,
			     &(struct auth_claims){ 0 }),
	    AUTH_OK);

	snprintf(doc, 8192, "{\"keys\":[%s]}", k3);
	assert_int_equal(set_jwks(ks, doc, &skipped), 1);
	assert_int_equal(auth_keyset_count(ks), 3);
	/* k2 is gone... */
	assert_int_equal(verify_with(ks, 0, tok, NOW,
			     &(struct auth_claims){ 0 }),
	    AUTH_UNKNOWN_KID);
	free(tok);
	/* ...k3 is there, and the PEM key and secret survive. */
	tok = mint_alg("ES256", "k3", claims(NULL), fx.ec256, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW,
			     &(struct auth_claims){ 0 }),
	    AUTH_OK);
	free(tok);
	tok = mint_alg("RS256", NULL, claims(NULL), fx.rsa1, NULL, 0);
	assert_int_equal(verify_with(ks, 0, tok, NOW,
			     &(struct auth_claims){ 0 }),
	    AUTH_OK);
	free(tok);
	tok = mint_alg("HS256", NULL, claims(NULL), NULL, fx.secret,
	    sizeof(fx.secret));
	assert_int_equal(verify_with(ks, AUTH_ALG_HS256, tok, NOW,
			     &(struct auth_claims){ 0 }),
	    AUTH_OK);
	free(tok);

	/* An empty key list removes the JWKS keys only. */
	assert_int_equal(set_jwks(ks, "{\"keys\":[]}", &skipped), 1);
	assert_int_equal(auth_keyset_count(ks), 2);

	auth_keyset_free(ks);
	free(k2);
	free(k3);
	free(doc);
}

static void
test_auth_jwks_cap(void **state)
{
	struct auth_keyset *ks;
	char		   *k, *doc, extra[64];
	size_t		    i, o, skipped;

	ks = keyset_pem(fx.rsa1_pub, NULL);
	doc = malloc(70 * 1024);
	o = (size_t)snprintf(doc, 70 * 1024, "{\"keys\":[");
	for (i = 0; i < 70; i++) {
		snprintf(extra, sizeof(extra), ",\"kid\":\"k%zu\"", i);
		k = jwk_ec(fx.ec256, "P-256", extra);
		o += (size_t)snprintf(doc + o, 70 * 1024 - o, "%s%s",
		    i ? "," : "", k);
		free(k);
	}
	snprintf(doc + o, 70 * 1024 - o, "]}");
	assert_int_equal(set_jwks(ks, doc, &skipped), 1);
	assert_int_equal(auth_keyset_count(ks), AUTH_KEYS_MAX);
	assert_int_equal(skipped, 70 - (AUTH_KEYS_MAX - 1));
	auth_keyset_free(ks);
	free(doc);
}

/* ---- cache ---- */

static struct auth_claims
cclaims(const char *sub, int64_t exp)
{
	struct auth_claims c;

	memset(&c, 0, sizeof(c));
	snprintf(c.sub, sizeof(c.sub), "%s", sub);
	c.exp = exp;
	return (c);
}

static void
test_auth_cache_hit_miss(void **state)
{
	struct auth_cache *cache;
	struct auth_claims c, in;

	cache = auth_cache_new(64);
	assert_non_null(cache);
	in = cclaims("alice", NOW + 600);
	in.admin = 1;
	snprintf(in.email, sizeof(in.email), "a@x.test");

	assert_int_equal(auth_cache_get(cache, "tok-a", 5, NOW, 60, &c), 0);
	auth_cache_put(cache, "tok-a", 5, &in);
	assert_int_equal(auth_cache_get(cache, "tok-a", 5, NOW, 60, &c), 1);
	assert_memory_equal(&c, &in, sizeof(c));
	/* One byte different, or a prefix: a miss. */
	assert_int_equal(auth_cache_get(cache, "tok-b", 5, NOW, 60, &c), 0);
	assert_int_equal(auth_cache_get(cache, "tok-", 4, NOW, 60, &c), 0);
	assert_int_equal(c.sub[0], '\0');
	/* Overwrite in place. */
	in.admin = 0;
	auth_cache_put(cache, "tok-a", 5, &in);
	assert_int_equal(auth_cache_get(cache, "tok-a", 5, NOW, 60, &c), 1);
	assert_int_equal(c.admin, 0);
	auth_cache_free(cache);

	assert_null(auth_cache_new(0));
	/* Oversized requests are capped, not refused. */
	cache = auth_cache_new(1048576);
	assert_non_null(cache);
	auth_cache_put(cache, "tok-a", 5, &in);
	assert_int_equal(auth_cache_get(cache, "tok-a", 5, NOW, 60, &c), 1);
	auth_cache_free(cache);
}

static void
test_auth_cache_expiry(void **state)
{
	struct auth_cache *cache;
	struct auth_claims c, in;

	cache = auth_cache_new(16);
	in = cclaims("alice", NOW + 100);
	auth_cache_put(cache, "t", 1, &in);
	assert_int_equal(auth_cache_get(cache, "t", 1, NOW + 159, 60, &c), 1);
	assert_int_equal(auth_cache_get(cache, "t", 1, NOW + 160, 60, &c), 0);
	assert_int_equal(c.sub[0], '\0');
	/* Once expired it was dropped. */
	assert_int_equal(auth_cache_get(cache, "t", 1, NOW, 60, &c), 0);
	auth_cache_free(cache);
}

static void
test_auth_cache_clear(void **state)
{
	struct auth_cache *cache;
	struct auth_claims c, in;

	cache = auth_cache_new(16);
	in = cclaims("alice", NOW + 100);
	auth_cache_put(cache, "t1", 2, &in);
	auth_cache_put(cache, "t2", 2, &in);
	auth_cache_clear(cache);
	assert_int_equal(auth_cache_get(cache, "t1", 2, NOW, 60, &c), 0);
	assert_int_equal(auth_cache_get(cache, "t2", 2, NOW, 60, &c), 0);
	auth_cache_put(cache, "t1", 2, &in);
	assert_int_equal(auth_cache_get(cache, "t1", 2, NOW, 60, &c), 1);
	auth_cache_free(cache);
}

static void
test_auth_cache_eviction(void **state)
{
	struct auth_cache *cache;
	struct auth_claims c, in;
	char		   t[16];
	int		   i;

	/* One set of four ways: the fifth put evicts the oldest. */
	cache = auth_cache_new(1);
	for (i = 0; i < 5; i++) {
		snprintf(t, sizeof(t), "t%d", i);
		in = cclaims(t, NOW + 1000);
		auth_cache_put(cache, t, 2, &in);
	}
	assert_int_equal(auth_cache_get(cache, "t0", 2, NOW, 60, &c), 0);
	for (i = 1; i < 5; i++) {
		snprintf(t, sizeof(t), "t%d", i);
		assert_int_equal(auth_cache_get(cache, t, 2, NOW, 60, &c), 1);
		assert_string_equal(c.sub, t);
	}
	auth_cache_free(cache);

	/* An expired entry goes before the oldest live one. */
	cache = auth_cache_new(4);
	in = cclaims("a", NOW + 1000);
	auth_cache_put(cache, "a", 1, &in);
	in = cclaims("b", NOW + 10);
	auth_cache_put(cache, "b", 1, &in);
	in = cclaims("c", NOW + 1000);
	auth_cache_put(cache, "c", 1, &in);
	in = cclaims("d", NOW + 1000);
	auth_cache_put(cache, "d", 1, &in);
	/* A miss at NOW+500 tells the cache the time; b is then expired. */
	assert_int_equal(auth_cache_get(cache, "e", 1, NOW + 500, 60, &c), 0);
	in = cclaims("e", NOW + 1000);
	auth_cache_put(cache, "e", 1, &in);
	assert_int_equal(auth_cache_get(cache, "a", 1, NOW + 500, 60, &c), 1);
	assert_int_equal(auth_cache_get(cache, "e", 1, NOW + 500, 60, &c), 1);
	assert_int_equal(auth_cache_get(cache, "c", 1, NOW + 500, 60, &c), 1);
	assert_int_equal(auth_cache_get(cache, "d", 1, NOW + 500, 60, &c), 1);
	auth_cache_free(cache);
}

static void
test_auth_cache_with_verify(void **state)
{
	struct auth_cache *cache;
	struct auth_claims c, hit;
	char		  *tok;

	cache = auth_cache_new(256);
	tok = mint_alg("RS256", NULL, claims(",\"roles\":[\"yard-admin\"]"),
	    fx.rsa1, NULL, 0);
	assert_int_equal(auth_cache_get(cache, tok, strlen(tok), NOW, 60, &c),
	    0);
	assert_int_equal(verify_with(fx.ks, 0, tok, NOW, &c), AUTH_OK);
	auth_cache_put(cache, tok, strlen(tok), &c);
	assert_int_equal(auth_cache_get(cache, tok, strlen(tok), NOW, 60, &hit),
	    1);
	assert_memory_equal(&c, &hit, sizeof(c));
	assert_int_equal(hit.admin, 1);
	/* Tokens over the size cap are never cached. */
	assert_int_equal(auth_cache_get(cache, tok, AUTH_TOKEN_MAX + 1, NOW, 60,
			     &hit),
	    0);
	free(tok);
	auth_cache_free(cache);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_valid_rs256),
		cmocka_unit_test(test_auth_valid_es256),
		cmocka_unit_test(test_auth_valid_es384),
		cmocka_unit_test(test_auth_valid_es512),
		cmocka_unit_test(test_auth_valid_rs512),
		cmocka_unit_test(test_auth_valid_hs256),
		cmocka_unit_test(test_auth_libjwt_rs256),
		cmocka_unit_test(test_auth_libjwt_es256),
		cmocka_unit_test(test_auth_libjwt_decodes_ours),
		cmocka_unit_test(test_auth_alg_none),
		cmocka_unit_test(test_auth_hs256_rsa_pem_default_policy),
		cmocka_unit_test(test_auth_hs256_rsa_pem_no_secret),
		cmocka_unit_test(test_auth_hs256_secret_refuses_pem),
		cmocka_unit_test(test_auth_alg_lowercase),
		cmocka_unit_test(test_auth_alg_missing_or_not_string),
		cmocka_unit_test(test_auth_alg_key_type_mismatch),
		cmocka_unit_test(test_auth_wrong_key),
		cmocka_unit_test(test_auth_signature_tampered),
		cmocka_unit_test(test_auth_es256_der_signature),
		cmocka_unit_test(test_auth_kid_unknown),
		cmocka_unit_test(test_auth_kid_falls_back_to_kidless_keys),
		cmocka_unit_test(test_auth_kid_picks_key),
		cmocka_unit_test(test_auth_kid_bad_shape),
		cmocka_unit_test(test_auth_forbidden_headers),
		cmocka_unit_test(test_auth_typ),
		cmocka_unit_test(test_auth_header_duplicate_alg),
		cmocka_unit_test(test_auth_header_not_object),
		cmocka_unit_test(test_auth_expired),
		cmocka_unit_test(test_auth_expired_within_skew),
		cmocka_unit_test(test_auth_nbf_iat_future),
		cmocka_unit_test(test_auth_nbf_iat_within_skew),
		cmocka_unit_test(test_auth_exp_types),
		cmocka_unit_test(test_auth_missing_exp_sub),
		cmocka_unit_test(test_auth_claim_lengths),
		cmocka_unit_test(test_auth_iss_mismatch),
		cmocka_unit_test(test_auth_audience),
		cmocka_unit_test(test_auth_payload_duplicate_sub),
		cmocka_unit_test(test_auth_payload_not_object),
		cmocka_unit_test(test_auth_roles_admin),
		cmocka_unit_test(test_auth_scope_upload),
		cmocka_unit_test(test_auth_order_signature_first),
		cmocka_unit_test(test_auth_out_zeroed),
		cmocka_unit_test(test_auth_segments),
		cmocka_unit_test(test_auth_padding),
		cmocka_unit_test(test_auth_bang_appended),
		cmocka_unit_test(test_auth_trailing_bits),
		cmocka_unit_test(test_auth_token_max),
		cmocka_unit_test(test_auth_huge_header),
		cmocka_unit_test(test_auth_null_args),
		cmocka_unit_test(test_auth_policy_unset_fails_closed),
		cmocka_unit_test(test_auth_map_parse),
		cmocka_unit_test(test_auth_map_keycloak),
		cmocka_unit_test(test_auth_map_groups_and_urls),
		cmocka_unit_test(test_auth_map_entra),
		cmocka_unit_test(test_auth_map_wrong_types),
		cmocka_unit_test(test_auth_map_utf8_cut),
		cmocka_unit_test(test_auth_sub_length),
		cmocka_unit_test(test_auth_seen),
		cmocka_unit_test(test_auth_seen_too_large),
		cmocka_unit_test(test_auth_algs_parse),
		cmocka_unit_test(test_auth_result_strings),
		cmocka_unit_test(test_auth_keyset_pem_forms),
		cmocka_unit_test(test_auth_keyset_cap),
		cmocka_unit_test(test_auth_jwks_parse),
		cmocka_unit_test(test_auth_jwks_alg_narrowing),
		cmocka_unit_test(test_auth_jwks_skips_bad_keys),
		cmocka_unit_test(test_auth_jwks_reject_document),
		cmocka_unit_test(test_auth_jwks_refresh_keeps_pem),
		cmocka_unit_test(test_auth_jwks_cap),
		cmocka_unit_test(test_auth_cache_hit_miss),
		cmocka_unit_test(test_auth_cache_expiry),
		cmocka_unit_test(test_auth_cache_clear),
		cmocka_unit_test(test_auth_cache_eviction),
		cmocka_unit_test(test_auth_cache_with_verify),
	};

	return (cmocka_run_group_tests_name("auth", tests, group_setup,
	    group_teardown));
}
