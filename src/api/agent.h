/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * What the agent side's handlers share (agent.c, heartbeat.c): the node's
 * sign-in and the protocol's replies (nodeauth.c).  Nothing outside them
 * includes this.
 */

#ifndef API_AGENT_H
#define API_AGENT_H

#include <stdint.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "api/api.h"
#include "agentproto/agentproto.h"

/*
 * Check "YardNode <id>:<secret>" against the stored SHA-256, through a
 * per-worker cache that a revocation clears; API_GO with *node set.  A
 * handler's first state: call it again on every re-entry until API_GO.
 */
enum api_step api_agent_auth(struct http_request *, struct api_ctx *,
    int64_t *node);
/* A protocol answer (json text, NULL for none); returns KORE_RESULT_OK. */
int api_agent_reply(struct http_request *, int status, const char *json);
/* A decoding error (e names the field); returns KORE_RESULT_OK. */
int api_agent_error(struct http_request *, int status, const char *code,
    const struct agentproto_err *e);

/* Worker start: the credential cache and its revocation route. */
void api_nodeauth_init(void);
/* The waiting room's key of a node's long-poll ("node:<id>"). */
void api_node_key(int64_t, char *, size_t);

/* Worker start: the heartbeat table and its flush timer. */
void api_heartbeat_init(void);

#endif /* API_AGENT_H */
