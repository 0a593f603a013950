/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Verified-token cache: SHA-256(token) -> claims in a fixed, 4-way set
 * associative table, so a repeat token skips the signature check
 * (performance.md B3, "what follows" 2).  One per worker, never shared.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "auth/auth.h"

#define CACHE_WAYS 4
/* 65536 entries of ~1.1 KB each is ~70 MB per worker: plenty. */
#define CACHE_SLOTS_MAX 65536

/* clang-format off */
struct cache_entry {
	uint8_t			hash[SHA256_DIGEST_LENGTH];
	int			used;
	uint64_t		stamp;	/* insertion order, for eviction */
	struct auth_claims	claims;
};

struct auth_cache {
	struct cache_entry	*entries;
	size_t			 nsets;	/* a power of two */
	uint64_t		 clock;
	/*
	 * auth_cache_put() has no clock of its own, so eviction uses the
	 * time and skew of the latest auth_cache_get() to spot expired
	 * entries.  A put normally follows the get that missed.
	 */
	int64_t			 now;
	int64_t			 skew;
	/*
	 * Fetched once: SHA256() fetches the digest on every call, which
	 * more than doubles the cost of a hit under OpenSSL 3.
	 */
	EVP_MD			*md;
	EVP_MD_CTX		*mdctx;
};

static struct cache_entry	*cache_set(struct auth_cache *,
				    const uint8_t *);
static int			 cache_expired(const struct cache_entry *,
				    int64_t, int64_t);
static int			 cache_hash(struct auth_cache *, const char *,
				    size_t, uint8_t *);
/* clang-format on */

/*
 * Returns a cache of slots entries rounded up to a power of two and to a
 * whole set, and capped at 65536 entries (each holds a struct auth_claims,
 * ~1 KB), or NULL when slots is 0 or memory runs out.  Free it with
 * auth_cache_free().
 */
struct auth_cache *
auth_cache_new(size_t slots)
{
	struct auth_cache *c;
	size_t		   n;

	if (slots == 0)
		return (NULL);
	if (slots > CACHE_SLOTS_MAX)
		slots = CACHE_SLOTS_MAX;
	for (n = CACHE_WAYS; n < slots; n <<= 1)
		;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->nsets = n / CACHE_WAYS;
	if ((c->entries = calloc(n, sizeof(*c->entries))) == NULL ||
	    (c->md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (c->mdctx = EVP_MD_CTX_new()) == NULL) {
		auth_cache_free(c);
		return (NULL);
	}

	return (c);
}

void
auth_cache_free(struct auth_cache *c)
{
	if (c == NULL)
		return;
	/* Claims are personal data; do not leave them in freed memory. */
	if (c->entries != NULL) {
		explicit_bzero(c->entries,
		    c->nsets * CACHE_WAYS * sizeof(*c->entries));
		free(c->entries);
	}
	EVP_MD_CTX_free(c->mdctx);
	EVP_MD_free(c->md);
	free(c);
}

void
auth_cache_clear(struct auth_cache *c)
{
	if (c == NULL)
		return;
	explicit_bzero(c->entries, c->nsets * CACHE_WAYS * sizeof(*c->entries));
	c->clock = 0;
}

static struct cache_entry *
cache_set(struct auth_cache *c, const uint8_t *hash)
{
	uint64_t h;

	/* SHA-256 output is uniform: its first bytes make a fine index. */
	memcpy(&h, hash, sizeof(h));
	return (&c->entries[(h & (c->nsets - 1)) * CACHE_WAYS]);
}

static int
cache_hash(struct auth_cache *c, const char *token, size_t len, uint8_t *hash)
{
	return (EVP_DigestInit_ex2(c->mdctx, c->md, NULL) == 1 &&
	    EVP_DigestUpdate(c->mdctx, token, len) == 1 &&
	    EVP_DigestFinal_ex(c->mdctx, hash, NULL) == 1);
}

static int
cache_expired(const struct cache_entry *e, int64_t now, int64_t skew)
{
	if (skew < 0)
		skew = 0;
	/* now < exp + skew, as auth_verify() has it, without overflow. */
	if (e->claims.exp > INT64_MAX - skew)
		return (0);
	return (now >= e->claims.exp + skew);
}

/*
 * Returns 1 and fills *out when token was stored and is still within its
 * exp (plus skew) at now; otherwise returns 0 and zeroes *out.
 */
int
auth_cache_get(struct auth_cache *c, const char *token, size_t len, int64_t now,
    int64_t skew, struct auth_claims *out)
{
	struct cache_entry *set;
	uint8_t		    hash[SHA256_DIGEST_LENGTH];
	int		    i;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (c == NULL || token == NULL || out == NULL || len == 0 ||
	    len > AUTH_TOKEN_MAX)
		return (0);

	c->now = now;
	c->skew = skew;

	if (!cache_hash(c, token, len, hash))
		return (0);
	set = cache_set(c, hash);
	for (i = 0; i < CACHE_WAYS; i++) {
		if (!set[i].used ||
		    CRYPTO_memcmp(set[i].hash, hash, sizeof(hash)) != 0)
			continue;
		if (cache_expired(&set[i], now, skew)) {
			explicit_bzero(&set[i], sizeof(set[i]));
			return (0);
		}
		memcpy(out, &set[i].claims, sizeof(*out));
		return (1);
	}

	return (0);
}

/*
 * Store claims for token.  In its set this replaces, in order of choice:
 * the same token, a free entry, an expired one, the oldest.
 */
void
auth_cache_put(struct auth_cache *c, const char *token, size_t len,
    const struct auth_claims *claims)
{
	struct cache_entry *set, *victim;
	uint8_t		    hash[SHA256_DIGEST_LENGTH];
	int		    i;

	if (c == NULL || token == NULL || claims == NULL || len == 0 ||
	    len > AUTH_TOKEN_MAX)
		return;

	if (!cache_hash(c, token, len, hash))
		return;
	set = cache_set(c, hash);

	victim = NULL;
	for (i = 0; i < CACHE_WAYS; i++) {
		if (set[i].used &&
		    CRYPTO_memcmp(set[i].hash, hash, sizeof(hash)) == 0) {
			victim = &set[i];
			break;
		}
	}
	for (i = 0; victim == NULL && i < CACHE_WAYS; i++) {
		if (!set[i].used)
			victim = &set[i];
	}
	for (i = 0; victim == NULL && i < CACHE_WAYS; i++) {
		if (cache_expired(&set[i], c->now, c->skew))
			victim = &set[i];
	}
	if (victim == NULL) {
		victim = &set[0];
		for (i = 1; i < CACHE_WAYS; i++) {
			if (set[i].stamp < victim->stamp)
				victim = &set[i];
		}
	}

	memcpy(victim->hash, hash, sizeof(hash));
	memcpy(&victim->claims, claims, sizeof(victim->claims));
	victim->used = 1;
	victim->stamp = ++c->clock;
}
