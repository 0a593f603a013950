/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for pkg_check_memory(): any bytes as a package, with
 * small limits so that a run stays fast.  A verdict must be consistent
 * with what it reports.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/pkg.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkg_limits lim;
	struct pkg_result res;
	enum pkg_rule	  r;
	json_t		 *v;

	pkg_limits_init(&lim);
	lim.max_entries = 256;
	lim.max_unpacked = 4 << 20;
	lim.ratio_floor = 64 << 10;

	r = pkg_check_memory(data, size, &lim, &res);
	if (r != res.rule)
		abort();
	if ((r == PKG_OK) != (res.manifest != NULL))
		abort();
	if (res.inflated > lim.max_unpacked + (1 << 20))
		abort();
	if (r == PKG_OK &&
	    (json_array_size(res.manifest) != res.files ||
		res.files > res.entries || res.entries > lim.max_entries))
		abort();
	if (r != PKG_OK && res.message[0] == '\0')
		abort();
	if ((v = pkg_verdict_json(&res)) == NULL)
		abort();
	json_decref(v);
	pkg_result_cleanup(&res);
	return (0);
}
