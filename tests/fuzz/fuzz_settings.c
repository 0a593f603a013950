/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for the settings file parser (operators write it).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *
no_env(const char *name)
{
	(void)name;
	return (NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct app_settings s;
	char		    err[512];

	if (app_settings_load(&s, (const char *)data, len, no_env, err,
		sizeof(err)))
		app_settings_cleanup(&s);
	return (0);
}
