/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Verification key sets: PEM public keys, HMAC secrets and JWKS documents,
 * each key parsed once into an EVP_PKEY and bound to the algorithms its type
 * allows (SPEC 3.1, security.md 1.3, performance.md B3).
 */

#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth/auth.h"

/* Larger inputs are refused before anything parses them. */
#define KEYSET_PEM_MAX	  (64 * 1024)
#define KEYSET_JWKS_MAX	  (1024 * 1024)
#define KEYSET_SECRET_MIN 32
#define KEYSET_SECRET_MAX 1024

/*
 * RSA below 2048 bits is too weak (RFC 7518 3.3); above 8192 bits a JWKS
 * from the network could make every verification needlessly slow.
 */
#define KEYSET_RSA_MIN_BITS  2048
#define KEYSET_RSA_MAX_BITS  8192
#define KEYSET_RSA_MAX_BYTES (KEYSET_RSA_MAX_BITS / 8)

#define KEYSET_ALGS_RSA (AUTH_ALG_RS256 | AUTH_ALG_RS384 | AUTH_ALG_RS512)

enum keyset_src { KEYSET_SRC_PEM, KEYSET_SRC_SECRET, KEYSET_SRC_JWKS };

/* clang-format off */
struct auth_key {
	EVP_PKEY	*pkey;		/* NULL for an HMAC secret */
	uint8_t		*secret;	/* NULL for a public key */
	size_t		 secretlen;
	unsigned int	 algs;		/* AUTH_ALG_* this key may verify */
	enum keyset_src	 src;
	char		 kid[AUTH_KID_MAX + 1];	/* "" when the key has none */
};

struct auth_keyset {
	struct auth_key	keys[AUTH_KEYS_MAX];
	size_t		nkeys;
};
/* clang-format on */

/*
 * Shared by token.c and keyset.c only.  auth.h is fixed and keeps struct
 * auth_keyset opaque, and the house style allows one header per module, so
 * these are declared in both files: keep the two copies identical.
 */
/* clang-format off */

static void	key_clear(struct auth_key *);
static int	key_add(struct auth_keyset *, EVP_PKEY *, uint8_t *, size_t,
		    unsigned int, enum keyset_src, const char *);
static int	pkey_algs(EVP_PKEY *, unsigned int *, char *, size_t);
static EVP_PKEY	*pem_to_pkey(const char *, size_t, char *, size_t);
static int	kid_ok(const char *);
static EVP_PKEY	*pkey_fromdata(const char *, OSSL_PARAM_BLD *);
static EVP_PKEY	*jwk_rsa(json_t *, char *, size_t);
static EVP_PKEY	*jwk_ec(json_t *, unsigned int *, char *, size_t);
static int	jwk_b64(json_t *, const char *, uint8_t *, size_t, size_t *);
static unsigned int	jwk_alg(const char *);
static int	jwk_load(json_t *, struct auth_key *, char *, size_t);
static void	seterr(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static const struct {
	const char	*crv;		/* JWK "crv" */
	const char	*group;		/* OpenSSL group name */
	size_t		 len;		/* bytes of one coordinate */
	unsigned int	 alg;
} ec_curves[] = {
	{ "P-256",	SN_X9_62_prime256v1,	32,	AUTH_ALG_ES256 },
	{ "P-384",	SN_secp384r1,		48,	AUTH_ALG_ES384 },
	{ "P-521",	SN_secp521r1,		66,	AUTH_ALG_ES512 },
};

static const struct {
	const char	*name;
	unsigned int	 alg;
} jwk_algs[] = {
	{ "RS256",	AUTH_ALG_RS256 },
	{ "RS384",	AUTH_ALG_RS384 },
	{ "RS512",	AUTH_ALG_RS512 },
	{ "ES256",	AUTH_ALG_ES256 },
	{ "ES384",	AUTH_ALG_ES384 },
	{ "ES512",	AUTH_ALG_ES512 },
};
/* clang-format on */

struct auth_keyset *
auth_keyset_new(void)
{
	return (calloc(1, sizeof(struct auth_keyset)));
}

void
auth_keyset_free(struct auth_keyset *ks)
{
	size_t i;

	if (ks == NULL)
		return;

	for (i = 0; i < ks->nkeys; i++)
		key_clear(&ks->keys[i]);
	free(ks);
}

size_t
auth_keyset_count(const struct auth_keyset *ks)
{
	if (ks == NULL)
		return (0);
	return (ks->nkeys);
}

/*
 * Borrow key idx for token.c.  kid is set to NULL when the key has none;
 * exactly one of *pkey and *secret is non-NULL.  Returns 0 when idx is out
 * of range.
 */
int
auth_keyset_get(const struct auth_keyset *ks, size_t idx, const char **kid,
    unsigned int *algs, EVP_PKEY **pkey, const uint8_t **secret,
    size_t *secretlen)
{
	const struct auth_key *k;

	if (ks == NULL || idx >= ks->nkeys)
		return (0);

	k = &ks->keys[idx];
	*kid = k->kid[0] != '\0' ? k->kid : NULL;
	*algs = k->algs;
	*pkey = k->pkey;
	*secret = k->secret;
	*secretlen = k->secretlen;

	return (1);
}

int
auth_keyset_add_pem(struct auth_keyset *ks, const char *pem, size_t len,
    const char *kid, char *err, size_t errlen)
{
	EVP_PKEY    *pk;
	unsigned int algs;

	if (ks == NULL || pem == NULL) {
		seterr(err, errlen, "no key set or no PEM");
		return (0);
	}
	if (ks->nkeys >= AUTH_KEYS_MAX) {
		seterr(err, errlen, "too many keys (max %d)", AUTH_KEYS_MAX);
		return (0);
	}
	if (kid != NULL && !kid_ok(kid)) {
		seterr(err, errlen, "kid empty or longer than %d bytes",
		    AUTH_KID_MAX);
		return (0);
	}

	if ((pk = pem_to_pkey(pem, len, err, errlen)) == NULL)
		return (0);

	if (!pkey_algs(pk, &algs, err, errlen)) {
		EVP_PKEY_free(pk);
		ERR_clear_error();
		return (0);
	}

	if (!key_add(ks, pk, NULL, 0, algs, KEYSET_SRC_PEM, kid)) {
		EVP_PKEY_free(pk);
		seterr(err, errlen, "too many keys (max %d)", AUTH_KEYS_MAX);
		return (0);
	}

	return (1);
}

int
auth_keyset_add_secret(struct auth_keyset *ks, const uint8_t *secret,
    size_t len, char *err, size_t errlen)
{
	uint8_t *copy;

	if (ks == NULL || secret == NULL) {
		seterr(err, errlen, "no key set or no secret");
		return (0);
	}
	/* RFC 7518 3.2: at least as long as the hash output. */
	if (len < KEYSET_SECRET_MIN || len > KEYSET_SECRET_MAX) {
		seterr(err, errlen, "secret must be %d to %d bytes",
		    KEYSET_SECRET_MIN, KEYSET_SECRET_MAX);
		return (0);
	}
	/*
	 * A PEM given as the HMAC secret is the RS->HS key confusion of
	 * libjwt #200 set up by configuration: anyone holding the public key
	 * could then mint tokens.
	 */
	if (memmem(secret, len, "-----BEGIN", 10) != NULL) {
		seterr(err, errlen, "secret looks like a PEM key; refused");
		return (0);
	}
	if (ks->nkeys >= AUTH_KEYS_MAX) {
		seterr(err, errlen, "too many keys (max %d)", AUTH_KEYS_MAX);
		return (0);
	}

	if ((copy = malloc(len)) == NULL) {
		seterr(err, errlen, "out of memory");
		return (0);
	}
	memcpy(copy, secret, len);

	if (!key_add(ks, NULL, copy, len, AUTH_ALG_HS256, KEYSET_SRC_SECRET,
		NULL)) {
		explicit_bzero(copy, len);
		free(copy);
		seterr(err, errlen, "too many keys (max %d)", AUTH_KEYS_MAX);
		return (0);
	}

	return (1);
}

/*
 * Keys are first loaded into a scratch array, so that a document rejected
 * as a whole leaves the set as it was, and only then swapped in.  The set
 * as a whole holds at most AUTH_KEYS_MAX keys: JWKS keys beyond the room the
 * PEM keys and secrets leave are skipped.  On success err, when given, holds
 * the reason the first skipped key was skipped ("" when none was).
 */
int
auth_keyset_set_jwks(struct auth_keyset *ks, const char *json, size_t len,
    size_t *skipped, char *err, size_t errlen)
{
	struct auth_key *fresh;
	json_t		*doc, *keys, *jwk;
	json_error_t	 jerr;
	size_t		 i, j, n, nfresh, room, nskip;
	char		 why[128], reason[96];
	int		 ret;

	ret = 0;
	doc = NULL;
	fresh = NULL;
	nfresh = 0;
	nskip = 0;
	if (skipped != NULL)
		*skipped = 0;
	seterr(err, errlen, "%s", "");

	if (ks == NULL || json == NULL) {
		seterr(err, errlen, "no key set or no document");
		goto cleanup;
	}
	if (len > KEYSET_JWKS_MAX) {
		seterr(err, errlen, "JWKS larger than %d bytes",
		    KEYSET_JWKS_MAX);
		goto cleanup;
	}

	doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL) {
		/* jerr.text may quote the document; give the position only. */
		seterr(err, errlen,
		    "JWKS is not valid JSON (line %d column %d)", jerr.line,
		    jerr.column);
		goto cleanup;
	}
	if (!json_is_object(doc)) {
		seterr(err, errlen, "JWKS is not a JSON object");
		goto cleanup;
	}
	keys = json_object_get(doc, "keys");
	if (!json_is_array(keys)) {
		seterr(err, errlen, "JWKS has no \"keys\" array");
		goto cleanup;
	}

	room = 0;
	for (i = 0; i < ks->nkeys; i++) {
		if (ks->keys[i].src != KEYSET_SRC_JWKS)
			room++;
	}
	room = AUTH_KEYS_MAX - room;

	if ((fresh = calloc(AUTH_KEYS_MAX, sizeof(*fresh))) == NULL) {
		seterr(err, errlen, "out of memory");
		goto cleanup;
	}

	why[0] = '\0';
	n = json_array_size(keys);
	for (i = 0; i < n; i++) {
		if (nfresh >= room) {
			if (why[0] == '\0')
				(void)snprintf(why, sizeof(why),
				    "key %zu: key set full (%d keys)", i,
				    AUTH_KEYS_MAX);
			nskip += n - i;
			break;
		}

		jwk = json_array_get(keys, i);
		if (!jwk_load(jwk, &fresh[nfresh], reason, sizeof(reason))) {
			if (why[0] == '\0')
				(void)snprintf(why, sizeof(why), "key %zu: %s",
				    i, reason);
			nskip++;
			continue;
		}

		/* RFC 7517 4.5: kids should be unique; keep the first. */
		if (fresh[nfresh].kid[0] != '\0') {
			for (j = 0; j < nfresh; j++) {
				if (strcmp(fresh[j].kid, fresh[nfresh].kid) ==
				    0)
					break;
			}
			if (j < nfresh) {
				if (why[0] == '\0')
					(void)snprintf(why, sizeof(why),
					    "key %zu: duplicate kid", i);
				key_clear(&fresh[nfresh]);
				nskip++;
				continue;
			}
		}
		nfresh++;
	}

	/* Drop the old JWKS keys, keep the rest in order, append the new. */
	for (i = 0, j = 0; i < ks->nkeys; i++) {
		if (ks->keys[i].src == KEYSET_SRC_JWKS) {
			key_clear(&ks->keys[i]);
			continue;
		}
		if (i != j) {
			ks->keys[j] = ks->keys[i];
			memset(&ks->keys[i], 0, sizeof(ks->keys[i]));
		}
		j++;
	}
	ks->nkeys = j;
	for (i = 0; i < nfresh; i++) {
		ks->keys[ks->nkeys++] = fresh[i];
		memset(&fresh[i], 0, sizeof(fresh[i]));
	}
	nfresh = 0;

	if (skipped != NULL)
		*skipped = nskip;
	seterr(err, errlen, "%s", why);
	ret = 1;

cleanup:
	if (fresh != NULL) {
		for (i = 0; i < nfresh; i++)
			key_clear(&fresh[i]);
		free(fresh);
	}
	json_decref(doc);
	/* Stale errors would confuse the next TLS call in the same worker. */
	ERR_clear_error();

	return (ret);
}

static void
key_clear(struct auth_key *k)
{
	EVP_PKEY_free(k->pkey);
	if (k->secret != NULL) {
		explicit_bzero(k->secret, k->secretlen);
		free(k->secret);
	}
	memset(k, 0, sizeof(*k));
}

/* Takes ownership of pk or secret on success only. */
static int
key_add(struct auth_keyset *ks, EVP_PKEY *pk, uint8_t *secret, size_t secretlen,
    unsigned int algs, enum keyset_src src, const char *kid)
{
	struct auth_key *k;

	if (ks->nkeys >= AUTH_KEYS_MAX)
		return (0);

	k = &ks->keys[ks->nkeys++];
	memset(k, 0, sizeof(*k));
	k->pkey = pk;
	k->secret = secret;
	k->secretlen = secretlen;
	k->algs = algs;
	k->src = src;
	if (kid != NULL)
		(void)snprintf(k->kid, sizeof(k->kid), "%s", kid);

	return (1);
}

static int
kid_ok(const char *kid)
{
	size_t len;

	len = strlen(kid);
	return (len > 0 && len <= AUTH_KID_MAX);
}

/*
 * Which algorithms a public key may verify, from its type alone.  Refuses
 * RSA-PSS-only keys, Ed25519, weak RSA and EC curves other than the three
 * NIST ones JOSE names.
 */
static int
pkey_algs(EVP_PKEY *pk, unsigned int *algs, char *err, size_t errlen)
{
	EVP_PKEY_CTX *ctx;
	BIGNUM	     *e;
	char	      group[64];
	size_t	      i, glen;
	int	      bits, ok;

	bits = EVP_PKEY_get_bits(pk);

	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		if (bits < KEYSET_RSA_MIN_BITS || bits > KEYSET_RSA_MAX_BITS) {
			seterr(err, errlen,
			    "RSA key of %d bits (need %d to %d)", bits,
			    KEYSET_RSA_MIN_BITS, KEYSET_RSA_MAX_BITS);
			return (0);
		}
		/* An even or tiny exponent is broken, not merely weak. */
		e = NULL;
		if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e)) {
			seterr(err, errlen, "RSA key without exponent");
			return (0);
		}
		ok = BN_is_odd(e) && !BN_is_one(e);
		BN_free(e);
		if (!ok) {
			seterr(err, errlen, "RSA key with a bad exponent");
			return (0);
		}
		*algs = KEYSET_ALGS_RSA;
		return (1);
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_utf8_string_param(pk,
			OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
			&glen)) {
			seterr(err, errlen, "EC key without a named curve");
			return (0);
		}
		for (i = 0; i < sizeof(ec_curves) / sizeof(ec_curves[0]); i++) {
			if (strcmp(group, ec_curves[i].group) == 0)
				break;
		}
		if (i == sizeof(ec_curves) / sizeof(ec_curves[0])) {
			seterr(err, errlen, "EC curve %.32s not supported",
			    group);
			return (0);
		}
		/* RFC 8725 3.4: validate the point, wherever it came from. */
		ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
		ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;
		EVP_PKEY_CTX_free(ctx);
		if (!ok) {
			seterr(err, errlen, "EC public key fails validation");
			return (0);
		}
		*algs = ec_curves[i].alg;
		return (1);
	default:
		seterr(err, errlen, "key type not supported (RSA or EC only)");
		return (0);
	}
}

/*
 * The first key in a PEM text: "PUBLIC KEY" (SubjectPublicKeyInfo), "RSA
 * PUBLIC KEY" (PKCS#1) or "CERTIFICATE" (its subject key; the certificate
 * is only a container here, so its dates and issuer are not checked).
 * Other blocks are passed over, except private keys, which are refused:
 * the service must hold no signing key.
 */
static EVP_PKEY *
pem_to_pkey(const char *pem, size_t len, char *err, size_t errlen)
{
	BIO		    *bio;
	X509		    *x509;
	EVP_PKEY	    *pk;
	char		    *name, *header;
	unsigned char	    *data;
	const unsigned char *p;
	long		     dlen;

	pk = NULL;
	if (len == 0 || len > KEYSET_PEM_MAX) {
		seterr(err, errlen, "PEM empty or larger than %d bytes",
		    KEYSET_PEM_MAX);
		return (NULL);
	}
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		seterr(err, errlen, "out of memory");
		return (NULL);
	}

	seterr(err, errlen, "no public key or certificate in PEM");
	for (;;) {
		name = header = NULL;
		data = NULL;
		if (!PEM_read_bio(bio, &name, &header, &data, &dlen))
			break;

		p = data;
		if (strcmp(name, PEM_STRING_PUBLIC) == 0) {
			pk = d2i_PUBKEY(NULL, &p, dlen);
		} else if (strcmp(name, PEM_STRING_RSA_PUBLIC) == 0) {
			pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, dlen);
		} else if (strcmp(name, PEM_STRING_X509) == 0 ||
		    strcmp(name, PEM_STRING_X509_OLD) == 0) {
			if ((x509 = d2i_X509(NULL, &p, dlen)) != NULL) {
				pk = X509_get_pubkey(x509);
				X509_free(x509);
			}
		} else if (strstr(name, "PRIVATE KEY") != NULL) {
			seterr(err, errlen,
			    "PEM holds a private key; give the "
			    "public key");
			OPENSSL_cleanse(data, dlen);
			OPENSSL_free(name);
			OPENSSL_free(header);
			OPENSSL_free(data);
			break;
		} else {
			OPENSSL_free(name);
			OPENSSL_free(header);
			OPENSSL_free(data);
			continue;
		}

		/* A recognised block that fails to decode is an error. */
		if (pk == NULL || p != data + dlen) {
			seterr(err, errlen, "cannot decode PEM block %.32s",
			    name);
			EVP_PKEY_free(pk);
			pk = NULL;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		break;
	}

	BIO_free(bio);
	ERR_clear_error();

	return (pk);
}

/*
 * Load one JWK into *k.  Returns 0 (key skipped, why in err when err is
 * not NULL) for anything unusable.
 */
static int
jwk_load(json_t *jwk, struct auth_key *k, char *err, size_t errlen)
{
	json_t	    *v;
	EVP_PKEY    *pk;
	const char  *kty, *kid;
	unsigned int algs, alg;

	memset(k, 0, sizeof(*k));
	if (!json_is_object(jwk)) {
		seterr(err, errlen, "not an object");
		return (0);
	}

	/* RFC 7517 4.2: a key for encryption must not verify tokens. */
	if ((v = json_object_get(jwk, "use")) != NULL &&
	    (!json_is_string(v) || strcmp(json_string_value(v), "sig") != 0)) {
		seterr(err, errlen, "\"use\" is not \"sig\"");
		return (0);
	}

	kid = NULL;
	if ((v = json_object_get(jwk, "kid")) != NULL) {
		if (!json_is_string(v) || !kid_ok(json_string_value(v))) {
			seterr(err, errlen, "bad kid");
			return (0);
		}
		kid = json_string_value(v);
	}

	alg = 0;
	if ((v = json_object_get(jwk, "alg")) != NULL) {
		if (!json_is_string(v) ||
		    (alg = jwk_alg(json_string_value(v))) == 0) {
			seterr(err, errlen, "unsupported \"alg\"");
			return (0);
		}
	}

	v = json_object_get(jwk, "kty");
	if (!json_is_string(v)) {
		seterr(err, errlen, "no \"kty\"");
		return (0);
	}
	kty = json_string_value(v);

	/*
	 * kty "oct" (a shared secret published in a key set) and OKP are not
	 * accepted: secrets come only from auth_keyset_add_secret().
	 */
	if (strcmp(kty, "RSA") == 0) {
		pk = jwk_rsa(jwk, err, errlen);
		algs = KEYSET_ALGS_RSA;
	} else if (strcmp(kty, "EC") == 0) {
		pk = jwk_ec(jwk, &algs, err, errlen);
	} else {
		seterr(err, errlen, "unsupported kty");
		return (0);
	}
	if (pk == NULL)
		return (0);

	/* Check the built key as a PEM key is checked. */
	if (!pkey_algs(pk, &algs, err, errlen)) {
		EVP_PKEY_free(pk);
		return (0);
	}

	if (alg != 0) {
		if ((algs & alg) == 0) {
			seterr(err, errlen, "\"alg\" does not fit the key");
			EVP_PKEY_free(pk);
			return (0);
		}
		algs = alg;
	}

	k->pkey = pk;
	k->algs = algs;
	k->src = KEYSET_SRC_JWKS;
	if (kid != NULL)
		(void)snprintf(k->kid, sizeof(k->kid), "%s", kid);

	return (1);
}

static unsigned int
jwk_alg(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(jwk_algs) / sizeof(jwk_algs[0]); i++) {
		if (strcmp(name, jwk_algs[i].name) == 0)
			return (jwk_algs[i].alg);
	}
	return (0);
}

/* Decode the base64url member name of jwk into buf. */
static int
jwk_b64(json_t *jwk, const char *name, uint8_t *buf, size_t bufsz,
    size_t *outlen)
{
	json_t *v;

	v = json_object_get(jwk, name);
	if (!json_is_string(v))
		return (0);
	return (auth_b64url_decode(json_string_value(v), json_string_length(v),
	    buf, bufsz, outlen));
}

static EVP_PKEY *
pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
	EVP_PKEY_CTX *ctx;
	OSSL_PARAM   *params;
	EVP_PKEY     *pk;

	pk = NULL;
	params = NULL;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL)
		goto cleanup;
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto cleanup;
	if (EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		pk = NULL;
		goto cleanup;
	}

cleanup:
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);

	return (pk);
}

static EVP_PKEY *
jwk_rsa(json_t *jwk, char *err, size_t errlen)
{
	OSSL_PARAM_BLD *bld;
	BIGNUM	       *n, *e;
	EVP_PKEY       *pk;
	uint8_t		nbuf[KEYSET_RSA_MAX_BYTES + 1], ebuf[16];
	size_t		nlen, elen;

	pk = NULL;
	n = e = NULL;
	bld = NULL;

	/* One spare byte for producers that keep a leading zero. */
	if (!jwk_b64(jwk, "n", nbuf, sizeof(nbuf), &nlen) ||
	    !jwk_b64(jwk, "e", ebuf, sizeof(ebuf), &elen)) {
		seterr(err, errlen, "RSA \"n\" or \"e\" missing or bad");
		return (NULL);
	}

	if ((n = BN_bin2bn(nbuf, (int)nlen, NULL)) == NULL ||
	    (e = BN_bin2bn(ebuf, (int)elen, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
		seterr(err, errlen, "out of memory");
		goto cleanup;
	}
	if ((pk = pkey_fromdata("RSA", bld)) == NULL)
		seterr(err, errlen, "RSA key rejected by OpenSSL");

cleanup:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);

	return (pk);
}

static EVP_PKEY *
jwk_ec(json_t *jwk, unsigned int *algs, char *err, size_t errlen)
{
	OSSL_PARAM_BLD *bld;
	EVP_PKEY       *pk;
	json_t	       *v;
	uint8_t		point[1 + 2 * 66];
	size_t		i, xlen, ylen, clen;

	v = json_object_get(jwk, "crv");
	if (!json_is_string(v)) {
		seterr(err, errlen, "EC key without \"crv\"");
		return (NULL);
	}
	for (i = 0; i < sizeof(ec_curves) / sizeof(ec_curves[0]); i++) {
		if (strcmp(json_string_value(v), ec_curves[i].crv) == 0)
			break;
	}
	if (i == sizeof(ec_curves) / sizeof(ec_curves[0])) {
		seterr(err, errlen, "EC curve not supported");
		return (NULL);
	}
	clen = ec_curves[i].len;
	*algs = ec_curves[i].alg;

	/* RFC 7518 6.2.1.2: coordinates are exactly the field size. */
	point[0] = POINT_CONVERSION_UNCOMPRESSED;
	if (!jwk_b64(jwk, "x", point + 1, clen, &xlen) || xlen != clen ||
	    !jwk_b64(jwk, "y", point + 1 + clen, clen, &ylen) || ylen != clen) {
		seterr(err, errlen, "EC \"x\" or \"y\" missing or bad");
		return (NULL);
	}

	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
		ec_curves[i].group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
		point, 1 + 2 * clen)) {
		OSSL_PARAM_BLD_free(bld);
		seterr(err, errlen, "out of memory");
		return (NULL);
	}
	pk = pkey_fromdata("EC", bld);
	OSSL_PARAM_BLD_free(bld);
	if (pk == NULL)
		seterr(err, errlen, "EC key rejected by OpenSSL");

	return (pk);
}

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
