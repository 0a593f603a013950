/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for src/auth/cfgcrypt.c and cfgdoc.c: secret configuration
 * values round trip, are bound to their task and key, and refuse damage;
 * key files; strict base64; a PUT body checked member by member, secrets
 * encrypted and kept; diffs that never show a secret; the delivery's
 * reveal; the preview's lines.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agentproto/agentproto.h"
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
	assert_false(auth_cfgkey_parse((const uint8_t *)hex, 31, k));
	assert_false(auth_cfgkey_parse((const uint8_t *)hex, 33, k));
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

	s = agentproto_b64_encode((const uint8_t *)"ab", 2);
	assert_string_equal(s, "YWI=");
	free(s);
	s = agentproto_b64_encode((const uint8_t *)"", 0);
	assert_string_equal(s, "");
	free(s);
	assert_true(agentproto_b64_decode("YWJj", 4, &out, &len));
	assert_int_equal(len, 3);
	assert_memory_equal(out, "abc", 3);
	free(out);
	assert_true(agentproto_b64_decode("YQ==", 4, &out, &len));
	assert_int_equal(len, 1);
	free(out);
	assert_true(agentproto_b64_decode("", 0, &out, &len));
	assert_int_equal(len, 0);
	free(out);
	assert_false(agentproto_b64_decode("YWJ", 3, &out, &len));
	assert_false(agentproto_b64_decode("YW=j", 4, &out, &len));
	assert_false(agentproto_b64_decode("YR==", 4, &out, &len)); /* bits */
	assert_false(agentproto_b64_decode("YW-j", 4, &out, &len));
	assert_false(agentproto_b64_decode("YW j", 4, &out, &len));
}

/* Build a doc from JSON text: 1 and *doc, or 0 with err. */
static int
build(const char *text, json_t **doc, struct auth_cfgdoc_err *err)
{
	json_t	   *body;
	const char *comment;
	int	    ok;

	body = json_loads(text, 0, NULL);
	assert_non_null(body);
	memset(err, 0, sizeof(*err));
	ok = auth_cfgdoc_build(body, key, 7, doc, &comment, err);
	json_decref(body);
	return (ok);
}

static void
test_cfgdoc_bad_members(void **state)
{
	static const struct {
		const char *body, *field;
	} cases[] = {
		{ "{\"values\":[{\"key\":\"\",\"value\":\"x\"}]}",
		    "values[0].key" },
		{ "{\"values\":[{\"key\":\"a\\u0001\",\"value\":\"x\"}]}",
		    "values[0].key" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"x\"},{\"key\":\"a\","
		  "\"value\":\"y\"}]}",
		    "values[1].key" },
		{ "{\"values\":[{\"key\":\"a\"}]}", "values[0].value" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":1}]}",
		    "values[0].value" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"x\",\"secret\":1}]}",
		    "values[0].secret" },
		{ "{\"values\":{}}", "values" },
		{ "{\"mappings\":[{\"key\":\"a\",\"file\":\"f\",\"format\":"
		  "\"xml\",\"nodepath\":\"r\"}]}",
		    "mappings[0].key" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"x\"}],\"mappings\":[{"
		  "\"key\":\"a\",\"file\":\"a/../f\",\"format\":\"xml\","
		  "\"nodepath\":\"r\"}]}",
		    "mappings[0].file" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"x\"}],\"mappings\":[{"
		  "\"key\":\"a\",\"file\":\"f\",\"format\":\"ini\","
		  "\"nodepath\":\"r\"}]}",
		    "mappings[0].format" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"x\"}],\"mappings\":[{"
		  "\"key\":\"a\",\"file\":\"f\",\"format\":\"xml\","
		  "\"nodepath\":\"r..x\"}]}",
		    "mappings[0].nodepath" },
		{ "{\"values\":[{\"key\":\"a\",\"value\":\"x\"}],\"mappings\":[{"
		  "\"key\":\"a\",\"file\":\"f\",\"format\":\"xml\","
		  "\"nodepath\":\"r.a\"},{\"key\":\"a\",\"file\":\"f\","
		  "\"format\":\"xml\",\"nodepath\":\"r.a\"}]}",
		    "mappings[1].nodepath" },
		{ "{\"files\":[{\"path\":\"/etc/passwd\",\"content_base64\":"
		  "\"\"}]}",
		    "files[0].path" },
		{ "{\"files\":[{\"path\":\"./a\",\"content_base64\":\"\"}]}",
		    "files[0].path" },
		{ "{\"files\":[{\"path\":\"a//b\",\"content_base64\":\"\"}]}",
		    "files[0].path" },
		{ "{\"files\":[{\"path\":\"a\\\\b\",\"content_base64\":\"\"}]}",
		    "files[0].path" },
		{ "{\"files\":[{\"path\":\"a\",\"content_base64\":\"YQ\"}]}",
		    "files[0].content_base64" },
		{ "{\"env\":1}", "env" },
		{ "{\"properties_file\":\"..\"}", "properties_file" },
		{ "{\"apollo\":{\"app_id\":\"\",\"cluster\":\"c\","
		  "\"namespaces\":[\"n\"]}}",
		    "apollo.app_id" },
		{ "{\"apollo\":{\"app_id\":\"a\",\"cluster\":\"c d\","
		  "\"namespaces\":[\"n\"]}}",
		    "apollo.cluster" },
		{ "{\"apollo\":{\"app_id\":\"a\",\"cluster\":\"c\","
		  "\"namespaces\":\"n\"}}",
		    "apollo.namespaces" },
		{ "{\"apollo\":{\"app_id\":\"a\",\"cluster\":\"c\","
		  "\"namespaces\":[\"n\"],\"auto_restart\":\"yes\"}}",
		    "apollo.auto_restart" },
		{ "{\"apollo\":{\"app_id\":\"a\",\"cluster\":\"c\","
		  "\"namespaces\":[\"n\"],\"url\":\"x\"}}",
		    "apollo.url" },
		{ "{\"other\":1}", "other" },
	};
	struct auth_cfgdoc_err err;
	json_t		      *doc;
	size_t		       i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		doc = NULL;
		if (build(cases[i].body, &doc, &err))
			fail_msg("accepted %s", cases[i].body);
		assert_null(doc);
		if (strcmp(err.field, cases[i].field) != 0)
			fail_msg("%s: field %s, want %s (%s)", cases[i].body,
			    err.field, cases[i].field, err.msg);
		assert_non_null(strstr(err.msg, cases[i].field));
	}
}

static void
test_cfgdoc_secrets(void **state)
{
	struct auth_cfgdoc_err err;
	json_t		      *doc, *v, *payload;
	char		       why[320], *dump;
	const char	      *enc;

	assert_true(build("{\"values\":[{\"key\":\"db.pw\",\"value\":\"p&<w>\","
			  "\"secret\":true},{\"key\":\"kept\",\"secret\":true},"
			  "{\"key\":\"plain\",\"value\":\"v\"}],\"env\":true,"
			  "\"task_id\":7,\"version\":3}",
	    &doc, &err));
	v = json_array_get(json_object_get(doc, "values"), 0);
	enc = json_string_value(json_object_get(v, "enc"));
	assert_non_null(enc);
	assert_null(json_object_get(v, "value"));
	dump = json_dumps(doc, 0);
	assert_null(strstr(dump, "p&<w>"));
	free(dump);
	v = json_array_get(json_object_get(doc, "values"), 1);
	assert_true(json_is_true(json_object_get(v, "keep")));
	assert_true(json_is_true(json_object_get(doc, "env")));
	assert_true(json_is_null(json_object_get(doc, "apollo")));

	/* The delivery: the secret in clear, "enc" gone. */
	payload = json_pack("{s:{s:i},s:{s:o}}", "task", "id", 7, "config",
	    "values", json_deep_copy(json_object_get(doc, "values")));
	json_array_remove(json_object_get(json_object_get(payload, "config"),
			      "values"),
	    1);
	assert_true(auth_cfgdoc_reveal(payload, key, why, sizeof(why)));
	v = json_array_get(json_object_get(json_object_get(payload, "config"),
			       "values"),
	    0);
	assert_string_equal(json_string_value(json_object_get(v, "value")),
	    "p&<w>");
	assert_null(json_object_get(v, "enc"));
	json_decref(payload);
	/* Another task's payload does not decrypt: named by key. */
	payload = json_pack("{s:{s:i},s:{s:o}}", "task", "id", 8, "config",
	    "values", json_deep_copy(json_object_get(doc, "values")));
	json_array_remove(json_object_get(json_object_get(payload, "config"),
			      "values"),
	    1);
	assert_false(auth_cfgdoc_reveal(payload, key, why, sizeof(why)));
	assert_non_null(strstr(why, "db.pw"));
	assert_null(strstr(why, "p&<w>"));
	json_decref(payload);
	json_decref(doc);
}

static void
test_cfgdoc_diff(void **state)
{
	struct auth_cfgdoc_err err;
	json_t		      *a, *b, *d, *e;
	char		      *text;
	size_t		       i;
	int		       seen = 0;

	assert_true(
	    build("{\"values\":[{\"key\":\"s\",\"value\":\"first-secret\","
		  "\"secret\":true},{\"key\":\"u\",\"value\":\"same\"},"
		  "{\"key\":\"gone\",\"value\":\"g\"}]}",
		&a, &err));
	/* The same secret value encrypted again is no change. */
	assert_true(
	    build("{\"values\":[{\"key\":\"s\",\"value\":\"first-secret\","
		  "\"secret\":true},{\"key\":\"u\",\"value\":\"same\"},"
		  "{\"key\":\"new\",\"value\":\"n\"}],\"env\":true}",
		&b, &err));
	d = auth_cfgdoc_diff(b, a, key, 7);
	text = json_dumps(d, JSON_COMPACT);
	assert_null(strstr(text, "\"s\""));
	assert_null(strstr(text, "\"u\""));
	assert_non_null(strstr(text,
	    "{\"part\":\"value\",\"name\":\"new\",\"change\":\"added\","
	    "\"old\":null,\"new\":\"n\"}"));
	assert_non_null(strstr(text,
	    "{\"part\":\"value\",\"name\":\"gone\",\"change\":\"removed\","
	    "\"old\":\"g\",\"new\":null}"));
	assert_non_null(strstr(text, "\"part\":\"env\""));
	free(text);
	json_decref(d);
	json_decref(b);
	/* Another secret value: changed, old and new null. */
	assert_true(
	    build("{\"values\":[{\"key\":\"s\",\"value\":\"second-secret\","
		  "\"secret\":true}]}",
		&b, &err));
	d = auth_cfgdoc_diff(b, a, key, 7);
	json_array_foreach(d, i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "name")),
			"s") != 0)
			continue;
		seen = 1;
		assert_string_equal(json_string_value(
					json_object_get(e, "change")),
		    "changed");
		assert_true(json_is_null(json_object_get(e, "old")));
		assert_true(json_is_null(json_object_get(e, "new")));
	}
	assert_true(seen);
	text = json_dumps(d, 0);
	assert_null(strstr(text, "first-secret"));
	assert_null(strstr(text, "second-secret"));
	free(text);
	json_decref(d);
	json_decref(a);
	json_decref(b);
}

static void
test_cfgdoc_lines(void **state)
{
	const char *t = "a\r\nb\nc\xff\nd\ne";
	json_t	   *l;

	l = auth_cfgdoc_lines(t, strlen(t), 2, 4);
	assert_int_equal(json_array_size(l), 3);
	assert_string_equal(json_string_value(json_array_get(l, 0)), "b");
	assert_string_equal(json_string_value(json_array_get(l, 1)),
	    "c\xef\xbf\xbd");
	json_decref(l);
	l = auth_cfgdoc_lines("x\ny\n", 4, 1, 99);
	assert_int_equal(json_array_size(l), 2);
	json_decref(l);
	l = auth_cfgdoc_lines(t, strlen(t), 1, 99);
	assert_int_equal(json_array_size(l), 5);
	assert_string_equal(json_string_value(json_array_get(l, 0)), "a");
	assert_string_equal(json_string_value(json_array_get(l, 4)), "e");
	json_decref(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfgcrypt_round_trip),
		cmocka_unit_test(test_cfgcrypt_bound_to_task_and_key),
		cmocka_unit_test(test_cfgcrypt_key_file),
		cmocka_unit_test(test_cfgcrypt_base64),
		cmocka_unit_test(test_cfgdoc_bad_members),
		cmocka_unit_test(test_cfgdoc_secrets),
		cmocka_unit_test(test_cfgdoc_diff),
		cmocka_unit_test(test_cfgdoc_lines),
	};

	memset(key, 0x5a, sizeof(key));
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
