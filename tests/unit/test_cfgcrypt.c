/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for src/auth/cfgcrypt.c: secret configuration values round
 * trip, are bound to their task and key, and refuse damage; key files;
 * strict base64.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"

static uint8_t key[AUTH_CFGKEY_LEN];

static void
test_cfgcrypt_round_trip(void **state)
{
	const char *vals[] = { "", "p@ss & <w> \"'\\ ${x} % #",
		"line1\nline2\ttab",
		"\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80" };
	size_t	    i, len;
	char	   *enc, *enc2, *pt;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		enc = auth_cfg_encrypt(key, 7, "db.password", vals[i],
		    strlen(vals[i]));
		assert_non_null(enc);
		/* The plaintext does not show through. */
		if (vals[i][0] != '\0')
			assert_null(strstr(enc, vals[i]));
		assert_true(
		    auth_cfg_decrypt(key, 7, "db.password", enc, &pt, &len));
		assert_int_equal(len, strlen(vals[i]));
		assert_memory_equal(pt, vals[i], len);
		auth_cfg_free(pt, len);
		/* A fresh nonce each time. */
		enc2 = auth_cfg_encrypt(key, 7, "db.password", vals[i],
		    strlen(vals[i]));
		assert_string_not_equal(enc, enc2);
		free(enc);
		free(enc2);
	}
}

static void
test_cfgcrypt_bound_to_task_and_key(void **state)
{
	uint8_t other[AUTH_CFGKEY_LEN];
	char   *enc, *pt;
	size_t	len;

	enc = auth_cfg_encrypt(key, 7, "a", "secret", 6);
	assert_non_null(enc);
	assert_false(auth_cfg_decrypt(key, 8, "a", enc, &pt, &len));
	assert_null(pt);
	assert_false(auth_cfg_decrypt(key, 7, "b", enc, &pt, &len));
	memset(other, 0x42, sizeof(other));
	assert_false(auth_cfg_decrypt(other, 7, "a", enc, &pt, &len));
	/* One flipped bit anywhere fails the tag. */
	enc[10] = enc[10] == 'A' ? 'B' : 'A';
	assert_false(auth_cfg_decrypt(key, 7, "a", enc, &pt, &len));
	assert_false(auth_cfg_decrypt(key, 7, "a", "not base64!", &pt, &len));
	assert_false(auth_cfg_decrypt(key, 7, "a", "AAAA", &pt, &len));
	free(enc);
}

static void
test_cfgcrypt_key_file(void **state)
{
	uint8_t k[AUTH_CFGKEY_LEN];
	char	hex[70];
	size_t	i;

	memset(hex, 0, sizeof(hex));
	for (i = 0; i < 32; i++)
		snprintf(hex + i * 2, 3, "%02x", (unsigned)i);
	assert_true(auth_cfgkey_parse((const uint8_t *)hex, 64, k));
	for (i = 0; i < 32; i++)
		assert_int_equal(k[i], i);
	hex[64] = '\n';
	assert_true(auth_cfgkey_parse((const uint8_t *)hex, 65, k));
	assert_true(auth_cfgkey_parse(key, 32, k));
	assert_memory_equal(k, key, 32);
	assert_false(auth_cfgkey_parse(key, 31, k));
	assert_false(auth_cfgkey_parse(key, 33, k));
	hex[3] = 'g';
	assert_false(auth_cfgkey_parse((const uint8_t *)hex, 64, k));
	assert_false(auth_cfgkey_parse((const uint8_t *)"", 0, k));
}

static void
test_cfgcrypt_base64(void **state)
{
	uint8_t *out;
	size_t	 len;
	char	*s;

	s = auth_b64_encode((const uint8_t *)"ab", 2);
	assert_string_equal(s, "YWI=");
	free(s);
	s = auth_b64_encode((const uint8_t *)"", 0);
	assert_string_equal(s, "");
	free(s);
	assert_true(auth_b64_decode("YWJj", 4, &out, &len));
	assert_int_equal(len, 3);
	assert_memory_equal(out, "abc", 3);
	free(out);
	assert_true(auth_b64_decode("YQ==", 4, &out, &len));
	assert_int_equal(len, 1);
	free(out);
	assert_true(auth_b64_decode("", 0, &out, &len));
	assert_int_equal(len, 0);
	free(out);
	assert_false(auth_b64_decode("YWJ", 3, &out, &len));
	assert_false(auth_b64_decode("YW=j", 4, &out, &len));
	assert_false(auth_b64_decode("YR==", 4, &out, &len)); /* bits */
	assert_false(auth_b64_decode("YW-j", 4, &out, &len));
	assert_false(auth_b64_decode("YW j", 4, &out, &len));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfgcrypt_round_trip),
		cmocka_unit_test(test_cfgcrypt_bound_to_task_and_key),
		cmocka_unit_test(test_cfgcrypt_key_file),
		cmocka_unit_test(test_cfgcrypt_base64),
	};

	memset(key, 0x5a, sizeof(key));
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
