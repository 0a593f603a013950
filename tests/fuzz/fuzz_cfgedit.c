/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for src/cfgedit/: any file bytes, a nodepath and a
 * value through the format the first byte picks.  An apply either fails
 * with a message and no output, or its output reads back the value
 * exactly, with the bytes before the value unchanged except for a
 * reshaped node, and applying it again changes nothing.  Then the file as .properties: parse, write, parse
 * again must give the same pairs.
 *
 * Input: format byte, path length byte, value length byte, the path,
 * the value, the file.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfgedit/cfgedit.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
props_roundtrip(const char *in, size_t len)
{
	struct cfgedit_prop *a, *b;
	size_t		     na, nb, i, outlen;
	char		     err[CFGEDIT_ERR_MAX], *out;

	err[0] = '\0';
	if (cfgedit_props_parse(in, len, &a, &na, err, sizeof(err)) == -1) {
		if (err[0] == '\0')
			abort();
		return;
	}
	if (cfgedit_props_write(a, na, "header\nline", &out, &outlen) == -1)
		abort();
	if (strlen(out) != outlen)
		abort();
	if (cfgedit_props_parse(out, outlen, &b, &nb, err, sizeof(err)) == -1)
		abort();
	if (na != nb)
		abort();
	for (i = 0; i < na; i++)
		if (a[i].key_len != b[i].key_len ||
		    a[i].value_len != b[i].value_len ||
		    memcmp(a[i].key, b[i].key, a[i].key_len) != 0 ||
		    memcmp(a[i].value, b[i].value, a[i].value_len) != 0)
			abort();
	cfgedit_props_free(a, na);
	cfgedit_props_free(b, nb);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum cfgedit_format f;
	struct cfgedit_edit e;
	char		    path[256], err[CFGEDIT_ERR_MAX], *out, *got, *out2;
	const char	   *in, *value;
	size_t		    plen, vlen, inlen, outlen, glen, outlen2;
	int		    rc, checked;

	if (size < 3)
		return (0);
	f = (enum cfgedit_format)(data[0] % 3);
	plen = data[1];
	vlen = data[2];
	if (size < 3 + plen + vlen)
		return (0);
	memcpy(path, data + 3, plen);
	path[plen] = '\0';
	value = (const char *)data + 3 + plen;
	in = (const char *)data + 3 + plen + vlen;
	inlen = size - 3 - plen - vlen;

	err[0] = '\0';
	checked = cfgedit_path_check(f, path, err, sizeof(err));
	if (checked == -1 && err[0] == '\0')
		abort();

	memset(&e, 0, sizeof(e));
	e.path = path;
	e.value = value;
	e.value_len = vlen;
	out = NULL;
	err[0] = '\0';
	rc =
	    cfgedit_apply(f, in, inlen, &e, 1, &out, &outlen, err, sizeof(err));
	if (rc == -1) {
		if (out != NULL || err[0] == '\0')
			abort();
	} else {
		if (out == NULL || out[outlen] != '\0' || checked == -1 ||
		    e.at + e.len > outlen || e.at > inlen + 1)
			abort();
		/* <a/> and a lone .properties key gain a byte before. */
		if (e.at > 0 && memcmp(out, in, e.at - 1) != 0)
			abort();
		got = NULL;
		if (cfgedit_get(f, out, outlen, path, &got, &glen, err,
			sizeof(err)) == -1)
			abort();
		if (glen != vlen || memcmp(got, value, vlen) != 0)
			abort();
		free(got);
		/* Applying it again changes nothing. */
		if (cfgedit_apply(f, out, outlen, &e, 1, &out2, &outlen2, err,
			sizeof(err)) == -1)
			abort();
		if (outlen2 != outlen || memcmp(out2, out, outlen) != 0)
			abort();
		free(out2);
		free(out);
	}
	/* get on the original: fails cleanly or gives a NUL-ended value. */
	got = NULL;
	err[0] = '\0';
	if (cfgedit_get(f, in, inlen, path, &got, &glen, err, sizeof(err)) ==
	    0) {
		if (got == NULL || got[glen] != '\0')
			abort();
		free(got);
	} else if (got != NULL || err[0] == '\0')
		abort();

	if (f == CFGEDIT_PROPERTIES)
		props_roundtrip(in, inlen);
	return (0);
}
