/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * libFuzzer harness for the "config" member of task commands (the agent
 * decodes it from every start, restart, release and apply-config).
 * Properties: no crash; a refusal always says why and owns nothing; what
 * decodes keeps the limits and rules it promises.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agentproto/agentproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct agentproto_config c;
	json_error_t		 jerr;
	json_t			*in;
	char			 err[512];
	size_t			 i;

	in = json_loadb((const char *)data, len,
	    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (in == NULL)
		return (0);
	err[0] = '\0';
	if (agentproto_config_decode(in, &c, err, sizeof(err)) == -1) {
		if (strncmp(err, "config", 6) != 0 || c.values != NULL ||
		    c.mappings != NULL || c.files != NULL ||
		    c.properties_file != NULL)
			abort();
		json_decref(in);
		return (0);
	}
	for (i = 0; i < c.nvalues; i++) {
		if (strlen(c.values[i].key) == 0 ||
		    strlen(c.values[i].key) > AGENTPROTO_CFG_KEY_MAX ||
		    c.values[i].value_len > AGENTPROTO_CFG_VALUE_MAX ||
		    strlen(c.values[i].value) != c.values[i].value_len)
			abort();
	}
	for (i = 0; i < c.nfiles; i++) {
		if (c.files[i].path[0] == '/' ||
		    strstr(c.files[i].path, "..") != NULL &&
			(strcmp(c.files[i].path, "..") == 0 ||
			    strncmp(c.files[i].path, "../", 3) == 0 ||
			    strstr(c.files[i].path, "/../") != NULL) ||
		    c.files[i].len > AGENTPROTO_CFG_FILE_MAX)
			abort();
	}
	for (i = 0; i < c.nmappings; i++) {
		if (c.mappings[i].file[0] == '/' ||
		    strchr(c.mappings[i].file, '\\') != NULL)
			abort();
	}
	agentproto_config_free(&c);
	json_decref(in);
	return (0);
}
