/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Compact JWS verification and claims checks (SPEC 3.1).  Written against
 * OpenSSL and jansson directly because libjwt 1.10.2 trusts the token's alg,
 * re-parses the PEM per call and has no claims checks (security.md 1.2).
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/auth.h"

#define TOKEN_HS256_LEN 32
/* JOSE r||s for P-521 is 2 * 66 bytes; its DER form is at most 139. */
#define TOKEN_ECDER_MAX 160

/*
 * Shared by token.c and keyset.c only.  auth.h is fixed and keeps struct
 * auth_keyset opaque, and the house style allows one header per module, so
 * these are declared in both files: keep the two copies identical.
 */
/* clang-format off */

struct token_alg {
	const char	*name;
	unsigned int	 bit;
	int		 type;		/* EVP_PKEY_RSA, EVP_PKEY_EC or 0 (HMAC) */
	int		 bits;		/* EC curve size, 0 otherwise */
	size_t		 ecsize;	/* bytes of r and of s for ES* */
	const EVP_MD	*(*md)(void);
};

static const struct token_alg	*alg_find(const char *);
static enum auth_result	 check_header(json_t *, unsigned int,
			    const struct token_alg **, const char **);
static enum auth_result	 check_signature(const struct auth_keyset *,
			    const struct token_alg *, const char *,
			    const uint8_t *, size_t, const uint8_t *, size_t);
static int		 key_fits(const struct token_alg *, EVP_PKEY *,
			    const uint8_t *);
static int		 sig_pkey(const struct token_alg *, EVP_PKEY *,
			    const uint8_t *, size_t, const uint8_t *, size_t);
static int		 sig_hmac(const uint8_t *, size_t, const uint8_t *,
			    size_t, const uint8_t *, size_t);
static int		 ec_jose_to_der(const uint8_t *, size_t, uint8_t *,
			    size_t, size_t *);
static enum auth_result	 check_claims(json_t *, const struct auth_policy *,
			    int64_t, struct auth_claims *);
static enum auth_result	 check_audience(json_t *, const char *);
static int		 claim_str(json_t *, const char *, int, char *,
			    size_t);
static int		 typ_ok(json_t *);
static enum auth_result	 verify(const struct auth_keyset *,
			    const struct auth_policy *, const char *, size_t,
			    int64_t, struct auth_claims *,
			    struct auth_seen *);
static int		 claim_time(json_t *, const char *, int, int64_t *);
static int64_t		 sat_add(int64_t, int64_t);

static const struct token_alg token_algs[] = {
	{ "RS256", AUTH_ALG_RS256, EVP_PKEY_RSA, 0,   0,  EVP_sha256 },
	{ "RS384", AUTH_ALG_RS384, EVP_PKEY_RSA, 0,   0,  EVP_sha384 },
	{ "RS512", AUTH_ALG_RS512, EVP_PKEY_RSA, 0,   0,  EVP_sha512 },
	{ "ES256", AUTH_ALG_ES256, EVP_PKEY_EC,  256, 32, EVP_sha256 },
	{ "ES384", AUTH_ALG_ES384, EVP_PKEY_EC,  384, 48, EVP_sha384 },
	{ "ES512", AUTH_ALG_ES512, EVP_PKEY_EC,  521, 66, EVP_sha512 },
	{ "HS256", AUTH_ALG_HS256, 0,            0,   0,  EVP_sha256 },
};
/* clang-format on */

#define TOKEN_NALGS (sizeof(token_algs) / sizeof(token_algs[0]))

const char *
auth_result_code(enum auth_result r)
{
	if (r == AUTH_EXPIRED)
		return ("token_expired");
	return ("invalid_token");
}

const char *
auth_result_reason(enum auth_result r)
{
	switch (r) {
	case AUTH_OK:
		return ("ok");
	case AUTH_MALFORMED:
		return ("malformed");
	case AUTH_BAD_ALG:
		return ("bad_alg");
	case AUTH_FORBIDDEN_HEADER:
		return ("forbidden_header");
	case AUTH_UNKNOWN_KID:
		return ("unknown_kid");
	case AUTH_BAD_SIGNATURE:
		return ("bad_signature");
	case AUTH_EXPIRED:
		return ("expired");
	case AUTH_NOT_YET_VALID:
		return ("not_yet_valid");
	case AUTH_BAD_ISSUER:
		return ("bad_issuer");
	case AUTH_BAD_AUDIENCE:
		return ("bad_audience");
	case AUTH_BAD_CLAIMS:
		return ("bad_claims");
	case AUTH_BAD_TYP:
		return ("bad_typ");
	case AUTH_TOO_LARGE:
		return ("too_large");
	}
	return ("malformed");
}

enum auth_result
auth_verify_seen(const struct auth_keyset *ks, const struct auth_policy *pol,
    const char *token, size_t len, int64_t now, struct auth_claims *out,
    struct auth_seen *seen)
{
	enum auth_result r;

	if (seen != NULL)
		memset(seen, 0, sizeof(*seen));
	r = verify(ks, pol, token, len, now, out, seen);
	/*
	 * A refused token is read again, apart, for the log line only: the
	 * result above is already decided and nothing read here reaches
	 * *out.
	 */
	if (seen != NULL && r != AUTH_OK && token != NULL)
		auth_seen_scan(token, len, seen);
	return (r);
}

enum auth_result
auth_verify(const struct auth_keyset *ks, const struct auth_policy *pol,
    const char *token, size_t len, int64_t now, struct auth_claims *out)
{
	return (auth_verify_seen(ks, pol, token, len, now, out, NULL));
}

const char *
auth_result_str(enum auth_result r)
{
	switch (r) {
	case AUTH_OK:
		return ("ok");
	case AUTH_MALFORMED:
		return ("malformed token");
	case AUTH_BAD_ALG:
		return ("algorithm not allowed");
	case AUTH_FORBIDDEN_HEADER:
		return ("forbidden header parameter");
	case AUTH_UNKNOWN_KID:
		return ("unknown key id");
	case AUTH_BAD_SIGNATURE:
		return ("bad signature");
	case AUTH_EXPIRED:
		return ("token expired");
	case AUTH_NOT_YET_VALID:
		return ("token not yet valid");
	case AUTH_BAD_ISSUER:
		return ("wrong issuer");
	case AUTH_BAD_AUDIENCE:
		return ("wrong audience");
	case AUTH_BAD_CLAIMS:
		return ("bad claims");
	case AUTH_BAD_TYP:
		return ("token type not accepted");
	case AUTH_TOO_LARGE:
		return ("token too large");
	}
	return ("unknown result");
}

/*
 * Names are matched exactly, as in the JOSE registry, with optional blanks
 * around each comma; "none" or any unknown name makes the list invalid.
 */
unsigned int
auth_algs_parse(const char *list)
{
	const char  *p, *end;
	char	     name[16];
	unsigned int algs;
	size_t	     i, n;

	if (list == NULL)
		return (0);

	algs = 0;
	p = list;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		end = p;
		while (
		    *end != '\0' && *end != ',' && *end != ' ' && *end != '\t')
			end++;
		n = (size_t)(end - p);
		if (n == 0 || n >= sizeof(name))
			return (0);
		memcpy(name, p, n);
		name[n] = '\0';

		for (i = 0; i < TOKEN_NALGS; i++) {
			if (strcmp(name, token_algs[i].name) == 0)
				break;
		}
		if (i == TOKEN_NALGS)
			return (0);
		algs |= token_algs[i].bit;

		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (*p != ',')
			return (0);
		p++;
	}

	return (algs);
}

static enum auth_result
verify(const struct auth_keyset *ks, const struct auth_policy *pol,
    const char *token, size_t len, int64_t now, struct auth_claims *out,
    struct auth_seen *seen)
{
	struct auth_claims	claims;
	const struct token_alg *alg;
	const char	       *kid, *dot[2];
	json_t		       *hdr, *payload;
	json_error_t		jerr;
	uint8_t		       *buf, *hbuf, *pbuf, *sbuf;
	size_t			i, ndots, hlen, plen, slen;
	enum auth_result	ret;

	if (out != NULL)
		memset(out, 0, sizeof(*out));

	ret = AUTH_MALFORMED;
	buf = NULL;
	hdr = payload = NULL;

	if (ks == NULL || pol == NULL || token == NULL || out == NULL)
		return (AUTH_MALFORMED);

	/*
	 * Shape first, before anything allocates: this is what keeps JWE
	 * (5 parts), padded or lenient base64 and oversized headers away
	 * from the parsers (security.md 1.3 step 1).
	 */
	if (len > AUTH_TOKEN_MAX)
		return (AUTH_TOO_LARGE);
	if (len == 0)
		return (AUTH_MALFORMED);
	ndots = 0;
	for (i = 0; i < len; i++) {
		if (token[i] == '.') {
			if (ndots == 2)
				return (AUTH_MALFORMED);
			dot[ndots++] = token + i;
		} else if (auth_b64url_val((unsigned char)token[i]) < 0) {
			return (AUTH_MALFORMED);
		}
	}
	if (ndots != 2 || dot[0] == token || dot[1] == dot[0] + 1 ||
	    dot[1] == token + len - 1)
		return (AUTH_MALFORMED);

	/* Decoded parts together are shorter than the token. */
	if ((buf = malloc(len)) == NULL)
		return (AUTH_MALFORMED);
	hbuf = buf;
	if (!auth_b64url_decode(token, (size_t)(dot[0] - token), hbuf, len,
		&hlen))
		goto cleanup;
	pbuf = hbuf + hlen;
	if (!auth_b64url_decode(dot[0] + 1, (size_t)(dot[1] - dot[0] - 1), pbuf,
		len - hlen, &plen))
		goto cleanup;
	sbuf = pbuf + plen;
	if (!auth_b64url_decode(dot[1] + 1, (size_t)(token + len - dot[1] - 1),
		sbuf, len - hlen - plen, &slen))
		goto cleanup;

	hdr =
	    json_loadb((const char *)hbuf, hlen, JSON_REJECT_DUPLICATES, &jerr);
	if (hdr == NULL)
		goto cleanup;
	if ((ret = check_header(hdr, pol->algs, &alg, &kid)) != AUTH_OK)
		goto cleanup;

	/* The signing input is the token up to its second dot. */
	ret = check_signature(ks, alg, kid, (const uint8_t *)token,
	    (size_t)(dot[1] - token), sbuf, slen);
	if (ret != AUTH_OK)
		goto cleanup;

	/* Only a signed payload is parsed; until now it is opaque bytes. */
	ret = AUTH_MALFORMED;
	payload =
	    json_loadb((const char *)pbuf, plen, JSON_REJECT_DUPLICATES, &jerr);
	if (payload == NULL)
		goto cleanup;
	if ((ret = check_claims(payload, pol, now, &claims)) != AUTH_OK)
		goto cleanup;

	memcpy(out, &claims, sizeof(*out));
	if (seen != NULL) {
		auth_seen_header(hdr, seen);
		auth_seen_payload(payload, seen);
	}

cleanup:
	json_decref(hdr);
	json_decref(payload);
	free(buf);
	if (ret != AUTH_OK) {
		/* A failed verify queues errors that a later TLS call in
		 * this worker would otherwise misread as its own. */
		ERR_clear_error();
		explicit_bzero(&claims, sizeof(claims));
	}

	return (ret);
}

static const struct token_alg *
alg_find(const char *name)
{
	size_t i;

	/* Case-sensitive (RFC 7515 4.1.1): "rs256" is not RS256. */
	for (i = 0; i < TOKEN_NALGS; i++) {
		if (strcmp(name, token_algs[i].name) == 0)
			return (&token_algs[i]);
	}
	return (NULL);
}

static enum auth_result
check_header(json_t *hdr, unsigned int allowed, const struct token_alg **alg,
    const char **kid)
{
	static const char *const forbidden[] = { "jku", "x5u", "x5c", "jwk",
		"crit" };
	json_t			*v;
	size_t			 i;

	*alg = NULL;
	*kid = NULL;

	if (!json_is_object(hdr))
		return (AUTH_MALFORMED);

	/*
	 * Keys named by the token are never fetched nor trusted (RFC 8725
	 * 3.10), and since no extension is understood any "crit" must fail
	 * (RFC 7515 4.1.11).
	 */
	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		if (json_object_get(hdr, forbidden[i]) != NULL)
			return (AUTH_FORBIDDEN_HEADER);
	}

	if (!typ_ok(json_object_get(hdr, "typ")))
		return (AUTH_BAD_TYP);

	if ((v = json_object_get(hdr, "kid")) != NULL) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > AUTH_KID_MAX)
			return (AUTH_MALFORMED);
		*kid = json_string_value(v);
	}

	v = json_object_get(hdr, "alg");
	if (!json_is_string(v))
		return (AUTH_MALFORMED);
	/* alg_find() never matches "none", in any case. */
	if ((*alg = alg_find(json_string_value(v))) == NULL)
		return (AUTH_BAD_ALG);
	if (((*alg)->bit & allowed) == 0)
		return (AUTH_BAD_ALG);

	return (AUTH_OK);
}

/*
 * With a kid, only keys carrying that kid are candidates; without one,
 * every key bound to the algorithm is tried (at most AUTH_KEYS_MAX).  A key
 * is used only if both its binding and its actual type fit the algorithm,
 * so an RSA public key can never become an HMAC secret.
 */
static enum auth_result
check_signature(const struct auth_keyset *ks, const struct token_alg *alg,
    const char *kid, const uint8_t *msg, size_t msglen, const uint8_t *sig,
    size_t siglen)
{
	EVP_PKEY      *pkey;
	const uint8_t *secret;
	const char    *kkid;
	unsigned int   kalgs;
	size_t	       i, n, secretlen;
	int	       named, named0, fitted, pass;

	named = named0 = fitted = 0;
	n = auth_keyset_count(ks);
	if (n > AUTH_KEYS_MAX)
		n = AUTH_KEYS_MAX;

	/*
	 * Pass 0: the key the token names (every key when it names none).
	 * Pass 1: a token naming a kid no key carries may still be verified
	 * by keys configured without one (PEM files): EWS may send a kid
	 * while the operator gave Yard only its public key.
	 */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			named0 = named;
			if (kid == NULL || named)
				break;
		}
		for (i = 0; i < n; i++) {
			if (!auth_keyset_get(ks, i, &kkid, &kalgs, &pkey,
				&secret, &secretlen))
				break;
			if (pass == 0 && kid != NULL &&
			    (kkid == NULL || strcmp(kid, kkid) != 0))
				continue;
			if (pass == 1 && kkid != NULL)
				continue;
			named = 1;
			if ((kalgs & alg->bit) == 0 ||
			    !key_fits(alg, pkey, secret))
				continue;
			fitted = 1;

			if (alg->type == 0) {
				if (sig_hmac(secret, secretlen, msg, msglen,
					sig, siglen))
					return (AUTH_OK);
			} else if (sig_pkey(alg, pkey, msg, msglen, sig,
				       siglen)) {
				return (AUTH_OK);
			}
		}
	}

	/* No key carries that kid: say so, so the caller may refresh. */
	if (kid != NULL && !named0)
		return (AUTH_UNKNOWN_KID);
	if (!fitted)
		return (AUTH_BAD_ALG);
	return (AUTH_BAD_SIGNATURE);
}

/* Belt and braces: the binding made at load time, checked again. */
static int
key_fits(const struct token_alg *alg, EVP_PKEY *pkey, const uint8_t *secret)
{
	if (alg->type == 0)
		return (pkey == NULL && secret != NULL);
	if (pkey == NULL || secret != NULL)
		return (0);
	if (EVP_PKEY_get_base_id(pkey) != alg->type)
		return (0);
	if (alg->type == EVP_PKEY_EC && EVP_PKEY_get_bits(pkey) != alg->bits)
		return (0);
	return (1);
}

static int
sig_pkey(const struct token_alg *alg, EVP_PKEY *pkey, const uint8_t *msg,
    size_t msglen, const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *ctx;
	uint8_t	    der[TOKEN_ECDER_MAX];
	size_t	    derlen;
	int	    ok;

	if (alg->type == EVP_PKEY_RSA) {
		/* PKCS#1 v1.5 signatures are exactly the modulus size. */
		if (siglen != (size_t)EVP_PKEY_get_size(pkey))
			return (0);
	} else {
		/* RFC 7518 3.4: JOSE r||s, not DER, and fixed-size. */
		if (siglen != 2 * alg->ecsize)
			return (0);
		if (!ec_jose_to_der(sig, alg->ecsize, der, sizeof(der),
			&derlen))
			return (0);
		sig = der;
		siglen = derlen;
	}

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return (0);
	ok = EVP_DigestVerifyInit(ctx, NULL, alg->md(), NULL, pkey) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, msg, msglen) == 1;
	EVP_MD_CTX_free(ctx);

	return (ok);
}

static int
sig_hmac(const uint8_t *secret, size_t secretlen, const uint8_t *msg,
    size_t msglen, const uint8_t *sig, size_t siglen)
{
	uint8_t	     mac[EVP_MAX_MD_SIZE];
	unsigned int maclen;
	int	     ok;

	if (siglen != TOKEN_HS256_LEN || secretlen > INT32_MAX)
		return (0);
	if (HMAC(EVP_sha256(), secret, (int)secretlen, msg, msglen, mac,
		&maclen) == NULL)
		return (0);
	/* Constant time: CVE-2024-25189 was a strcmp here. */
	ok = maclen == TOKEN_HS256_LEN &&
	    CRYPTO_memcmp(mac, sig, TOKEN_HS256_LEN) == 0;
	explicit_bzero(mac, sizeof(mac));

	return (ok);
}

/* r||s (each n bytes) to a DER ECDSA-Sig-Value, as EVP_DigestVerify wants. */
static int
ec_jose_to_der(const uint8_t *rs, size_t n, uint8_t *der, size_t dersz,
    size_t *derlen)
{
	ECDSA_SIG     *es;
	BIGNUM	      *r, *s;
	unsigned char *p;
	int	       len, ok;

	ok = 0;
	r = BN_bin2bn(rs, (int)n, NULL);
	s = BN_bin2bn(rs + n, (int)n, NULL);
	if (r == NULL || s == NULL || (es = ECDSA_SIG_new()) == NULL) {
		BN_free(r);
		BN_free(s);
		return (0);
	}
	if (!ECDSA_SIG_set0(es, r, s)) {
		BN_free(r);
		BN_free(s);
		goto cleanup;
	}
	if ((len = i2d_ECDSA_SIG(es, NULL)) <= 0 || (size_t)len > dersz)
		goto cleanup;
	p = der;
	if (i2d_ECDSA_SIG(es, &p) != len)
		goto cleanup;
	*derlen = (size_t)len;
	ok = 1;

cleanup:
	ECDSA_SIG_free(es);
	return (ok);
}

static int64_t
sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return (INT64_MAX);
	if (b < 0 && a < INT64_MIN - b)
		return (INT64_MIN);
	return (a + b);
}

/*
 * Copy string claim name into buf.  Returns 1 when it is absent (buf "",
 * unless required) or a string shorter than bufsz, 0 otherwise (wrong type,
 * too long, or empty when required).
 */
static int
claim_str(json_t *claims, const char *name, int required, char *buf,
    size_t bufsz)
{
	json_t *v;
	size_t	len;

	buf[0] = '\0';
	if ((v = json_object_get(claims, name)) == NULL)
		return (!required);
	if (!json_is_string(v))
		return (0);
	len = json_string_length(v);
	if (len >= bufsz || (required && len == 0))
		return (0);
	/* jansson refuses \u0000 without JSON_ALLOW_NUL: no early NUL. */
	memcpy(buf, json_string_value(v), len);
	buf[len] = '\0';
	return (1);
}

/* NumericDate claims must be JSON integers: 1.5e9 and "1500000000" fail. */
static int
claim_time(json_t *claims, const char *name, int required, int64_t *t)
{
	json_t *v;

	*t = 0;
	if ((v = json_object_get(claims, name)) == NULL)
		return (!required);
	if (!json_is_integer(v))
		return (0);
	*t = (int64_t)json_integer_value(v);
	return (1);
}

static enum auth_result
check_audience(json_t *aud, const char *want)
{
	json_t *v;
	size_t	i, n;
	int	found;

	if (aud == NULL)
		return (AUTH_BAD_AUDIENCE);
	if (json_is_string(aud)) {
		if (strcmp(json_string_value(aud), want) == 0)
			return (AUTH_OK);
		return (AUTH_BAD_AUDIENCE);
	}
	if (!json_is_array(aud))
		return (AUTH_BAD_CLAIMS);

	/* Check every member's type, not just the ones before a match. */
	found = 0;
	n = json_array_size(aud);
	for (i = 0; i < n; i++) {
		v = json_array_get(aud, i);
		if (!json_is_string(v))
			return (AUTH_BAD_CLAIMS);
		if (strcmp(json_string_value(v), want) == 0)
			found = 1;
	}
	return (found ? AUTH_OK : AUTH_BAD_AUDIENCE);
}

static enum auth_result
check_claims(json_t *claims, const struct auth_policy *pol, int64_t now,
    struct auth_claims *c)
{
	json_t		*v;
	int64_t		 skew, nbf;
	enum auth_result r;

	memset(c, 0, sizeof(*c));
	if (!json_is_object(claims))
		return (AUTH_MALFORMED);

	skew = pol->skew > 0 ? pol->skew : 0;

	/* An unset issuer or audience matches nothing: fail closed. */
	if ((v = json_object_get(claims, "iss")) != NULL && !json_is_string(v))
		return (AUTH_BAD_CLAIMS);
	if (v == NULL || pol->issuer == NULL ||
	    strcmp(json_string_value(v), pol->issuer) != 0)
		return (AUTH_BAD_ISSUER);

	if (pol->audience == NULL)
		return (AUTH_BAD_AUDIENCE);
	r = check_audience(json_object_get(claims, "aud"), pol->audience);
	if (r != AUTH_OK)
		return (r);

	if (!claim_time(claims, "exp", 1, &c->exp))
		return (AUTH_BAD_CLAIMS);
	if (now >= sat_add(c->exp, skew))
		return (AUTH_EXPIRED);

	if (!claim_time(claims, "nbf", 0, &nbf))
		return (AUTH_BAD_CLAIMS);
	if (json_object_get(claims, "nbf") != NULL && nbf > sat_add(now, skew))
		return (AUTH_NOT_YET_VALID);

	if (!claim_time(claims, "iat", 0, &c->iat))
		return (AUTH_BAD_CLAIMS);
	if (c->iat > sat_add(now, skew))
		return (AUTH_NOT_YET_VALID);

	/* An identity cannot be cut: sub is 1..255 bytes or refused. */
	if (!claim_str(claims, "sub", 1, c->sub, sizeof(c->sub)))
		return (AUTH_BAD_CLAIMS);
	/* jti is only logged: one that does not fit is left out. */
	v = json_object_get(claims, "jti");
	if (json_is_string(v) && json_string_length(v) < sizeof(c->jti))
		memcpy(c->jti, json_string_value(v), json_string_length(v) + 1);

	auth_claims_map(claims, pol, c);
	return (AUTH_OK);
}

/*
 * RFC 7515 4.1.9: a media type, compared without case, "application/"
 * optional; RFC 9068 2.1 names access tokens "at+jwt".  Absent is fine.
 */
static int
typ_ok(json_t *v)
{
	static const char *const ok[] = { "JWT", "at+jwt",
		"application/at+jwt" };
	size_t			 i;

	if (v == NULL)
		return (1);
	if (!json_is_string(v))
		return (0);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (strcasecmp(json_string_value(v), ok[i]) == 0)
			return (1);
	}
	return (0);
}
