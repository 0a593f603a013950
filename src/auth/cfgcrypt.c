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

#include "auth/auth.h"

#define CFG_NONCE 12
#define CFG_TAG	  16

static int  b64_val(unsigned char);
static int  aad_make(int64_t, const char *, char **, size_t *);
static void wipe_free(void *, size_t);

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_val(unsigned char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b64_chars, c)) == NULL)
		return (-1);
	return ((int)(p - b64_chars));
}

static void
wipe_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

char *
auth_b64_encode(const uint8_t *in, size_t len)
{
	char	*out;
	size_t	 i, o;
	uint32_t v;

	if (len > SIZE_MAX / 2 || (out = malloc((len + 2) / 3 * 4 + 1)) == NULL)
		return (NULL);
	for (i = 0, o = 0; i < len; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = b64_chars[(v >> 18) & 63];
		out[o++] = b64_chars[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_chars[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64_chars[v & 63] : '=';
	}
	out[o] = '\0';
	return (out);
}

int
auth_b64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	uint8_t *buf;
	size_t	 i, o, pad;
	int	 a, b, c, d;

	*out = NULL;
	*outlen = 0;
	if (inlen % 4 != 0)
		return (0);
	pad = 0;
	if (inlen > 0 && in[inlen - 1] == '=')
		pad++;
	if (inlen > 1 && in[inlen - 2] == '=')
		pad++;
	if ((buf = malloc(inlen / 4 * 3 + 1)) == NULL)
		return (0);
	for (i = 0, o = 0; i < inlen; i += 4) {
		a = b64_val((unsigned char)in[i]);
		b = b64_val((unsigned char)in[i + 1]);
		if (i + 4 == inlen && pad > 0) {
			c = pad == 2 ? 0 : b64_val((unsigned char)in[i + 2]);
			d = 0;
			/* Trailing bits must be zero (one encoding per bytes). */
			if (pad == 2 && (b & 15) != 0)
				c = -1;
			if (pad == 1 && c >= 0 && (c & 3) != 0)
				c = -1;
		} else {
			c = b64_val((unsigned char)in[i + 2]);
			d = b64_val((unsigned char)in[i + 3]);
		}
		if (a < 0 || b < 0 || c < 0 || d < 0) {
			free(buf);
			return (0);
		}
		buf[o++] = (uint8_t)(a << 2 | b >> 4);
		if (i + 4 == inlen && pad == 2)
			break;
		buf[o++] = (uint8_t)((b & 15) << 4 | c >> 2);
		if (i + 4 == inlen && pad == 1)
			break;
		buf[o++] = (uint8_t)((c & 3) << 6 | d);
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return (1);
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
		enc = auth_b64_encode(buf, total);
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
	if (!auth_b64_decode(enc, strlen(enc), &raw, &rawlen))
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
