/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Process-wide state of the Yard Kore module: settings, keys, policy, and
 * the helpers every handler shares.
 */

#ifndef APP_H
#define APP_H

#include <stdint.h>

#include "settings.h"
#include "auth/auth.h"

#define APP_VERSION	"0.1.0"
#define APP_USER_AGENT	"yard/" APP_VERSION
#define APP_ORIGINS_MAX 16

struct app_state {
	struct app_settings   cfg;
	struct auth_policy    policy;
	struct auth_claim_map claim_map; /* policy.map points here */
	struct auth_keyset   *keys;
	char		     *origins[APP_ORIGINS_MAX];
	size_t		      norigins;
	char		     *csp_page; /* Content-Security-Policy for pages */
	char		     *pg_conninfo; /* YARD_PG_DSN as given */
	uint16_t	      listen_port;
	uint8_t config_key[AUTH_CFGKEY_LEN]; /* YARD_CONFIG_KEY_FILE */
};

extern struct app_state app;

/* Wall-clock seconds (token times are wall-clock by definition). */
int64_t app_now(void);

/* Read a whole file (<= max bytes) into a kore_malloc'd NUL-terminated
 * buffer; NULL with errno set on failure. */
char *app_file_read(const char *path, size_t max, size_t *len);

#endif /* APP_H */
