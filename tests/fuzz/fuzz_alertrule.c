/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for auth_alertrule_check(): whatever JSON it is given,
 * it answers a complete rule or an error naming a member, never both.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_alertrule_err err;
	json_t			 *body, *rule;
	int			  days, ok;

	/* The mutes' time check, on the input as text. */
	if (size < 64) {
		char text[64];

		memcpy(text, data, size);
		text[size] = '\0';
		(void)auth_alert_time_ok(text);
	}
	if ((body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
		 NULL)) == NULL)
		return (0);
	days = 0;
	ok = auth_alertrule_check(body, (size & 1) ? &days : NULL, &rule, &err);
	if (ok) {
		/* Every member present, the days of a preview in range. */
		if (rule == NULL || json_object_size(rule) != 11 ||
		    !json_is_string(json_object_get(rule, "kind")) ||
		    json_array_size(json_object_get(rule, "channels")) == 0 ||
		    ((size & 1) && (days < 1 || days > 7)))
			abort();
		json_decref(rule);
	} else if (rule != NULL || err.msg[0] == '\0' ||
	    memchr(err.field, '\0', sizeof(err.field)) == NULL)
		abort();
	json_decref(body);
	return (0);
}
