/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Secret configuration values (docs/config.md, "Versions, secrets and the
 * API"): AES-256-GCM under YARD_CONFIG_KEY_FILE's key, bound to their
 * task and key, and the strict standard base64 they travel in.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "agentproto/agentproto.h"
#include "auth/auth.h"

#define CFG_NONCE 12
#define CFG_TAG	  16

static int  aad_make(int64_t, const char *, char **, size_t *);
static void wipe_free(void *, size_t);

static void
wipe_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

int
auth_cfgkey_parse(const uint8_t *buf, size_t len, uint8_t key[AUTH_CFGKEY_LEN])
{
	size_t	     i, n;
	unsigned int v;
	char	     hx[3];

	if (len == AUTH_CFGKEY_LEN) {
		memcpy(key, buf, AUTH_CFGKEY_LEN);
		return (1);
	}
	/* 64 hex characters, a line end allowed. */
	n = len;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n != AUTH_CFGKEY_LEN * 2)
		return (0);
	for (i = 0; i < AUTH_CFGKEY_LEN; i++) {
		hx[0] = (char)buf[i * 2];
		hx[1] = (char)buf[i * 2 + 1];
		hx[2] = '\0';
		if (strspn(hx, "0123456789abcdefABCDEF") != 2 ||
		    sscanf(hx, "%2x", &v) != 1) {
			explicit_bzero(key, AUTH_CFGKEY_LEN);
			return (0);
		}
		key[i] = (uint8_t)v;
	}
	return (1);
}

/* The additional data that binds a value to its task and key. */
static int
aad_make(int64_t task, const char *k, char **out, size_t *len)
{
	int n;

	n = snprintf(NULL, 0, "yard-config:%lld:%s", (long long)task, k);
	if (n < 0 || (*out = malloc((size_t)n + 1)) == NULL)
		return (0);
	(void)snprintf(*out, (size_t)n + 1, "yard-config:%lld:%s",
	    (long long)task, k);
	*len = (size_t)n;
	return (1);
}

char *
auth_cfg_encrypt(const uint8_t key[AUTH_CFGKEY_LEN], int64_t task,
    const char *k, const void *pt, size_t ptlen)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t	       *buf;
	char	       *aad, *enc;
	size_t		aadlen, total;
	int		n, ok;

	if (ptlen > INT32_MAX - CFG_NONCE - CFG_TAG ||
	    !aad_make(task, k, &aad, &aadlen))
		return (NULL);
	enc = NULL;
	total = CFG_NONCE + ptlen + CFG_TAG;
	if ((buf = malloc(total)) == NULL) {
		free(aad);
		return (NULL);
	}
	ok = 0;
	if ((ctx = EVP_CIPHER_CTX_new()) != NULL &&
	    RAND_bytes(buf, CFG_NONCE) == 1 &&
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf) == 1 &&
	    EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *)aad,
		(int)aadlen) == 1 &&
	    EVP_EncryptUpdate(ctx, buf + CFG_NONCE, &n, pt, (int)ptlen) == 1 &&
	    EVP_EncryptFinal_ex(ctx, buf + CFG_NONCE + n, &n) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CFG_TAG,
		buf + CFG_NONCE + ptlen) == 1)
		ok = 1;
	EVP_CIPHER_CTX_free(ctx);
	if (ok)
		enc = agentproto_b64_encode(buf, total);
	wipe_free(buf, total);
	free(aad);
	return (enc);
}

int
auth_cfg_decrypt(const uint8_t key[AUTH_CFGKEY_LEN], int64_t task,
    const char *k, const char *enc, char **pt, size_t *ptlen)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t	       *raw;
	char	       *aad, *out;
	size_t		rawlen, aadlen, clen;
	int		n, ok;

	*pt = NULL;
	*ptlen = 0;
	if (!agentproto_b64_decode(enc, strlen(enc), &raw, &rawlen))
		return (0);
	if (rawlen < CFG_NONCE + CFG_TAG || !aad_make(task, k, &aad, &aadlen)) {
		free(raw);
		return (0);
	}
	clen = rawlen - CFG_NONCE - CFG_TAG;
	if ((out = malloc(clen + 1)) == NULL) {
		free(aad);
		free(raw);
		return (0);
	}
	ok = 0;
	if ((ctx = EVP_CIPHER_CTX_new()) != NULL &&
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *)aad,
		(int)aadlen) == 1 &&
	    EVP_DecryptUpdate(ctx, (uint8_t *)out, &n, raw + CFG_NONCE,
		(int)clen) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CFG_TAG,
		raw + CFG_NONCE + clen) == 1 &&
	    EVP_DecryptFinal_ex(ctx, (uint8_t *)out + n, &n) == 1)
		ok = 1;
	EVP_CIPHER_CTX_free(ctx);
	free(aad);
	wipe_free(raw, rawlen);
	if (!ok) {
		wipe_free(out, clen + 1);
		return (0);
	}
	out[clen] = '\0';
	*pt = out;
	*ptlen = clen;
	return (1);
}

void
auth_cfg_free(char *pt, size_t len)
{
	wipe_free(pt, len + 1);
}
