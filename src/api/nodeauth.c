/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * A node's sign-in ("YardNode <id>:<secret>", checked against the stored
 * SHA-256 through a per-worker cache that a revocation on any instance
 * clears) and the agent protocol's replies, shared by the agent side's
 * handlers (agent.c, heartbeat.c).
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <openssl/crypto.h>

#include "app.h"
#include "api/api.h"
#include "api/agent.h"
#include "agentproto/agentproto.h"
#include "core/core.h"
#include "store/store.h"

#define NCACHE_TTL_MS 30000

/* A node credential this worker has checked against PostgreSQL. */
struct ncache_entry {
	int64_t	 node_id;
	char	 hash[65];
	int	 revoked;
	uint64_t loaded;
};

static void api_agent_revoked(int64_t);

static struct ncache_entry *ncache;
static uint64_t		    ncache_slots; /* YARD_NODE_SLOTS */

/* A node was revoked on some instance. */
static void
on_nodes(const char *msg, size_t len)
{
	api_agent_revoked(strtoll(msg, NULL, 10));
}

void
api_nodeauth_init(void)
{
	ncache_slots = (uint64_t)app.cfg.node_slots;
	ncache = kore_calloc(ncache_slots, sizeof(*ncache));
	core_redis_route(STORE_CHAN_NODES, on_nodes);
}

void
api_node_key(int64_t node_id, char *buf, size_t len)
{
	(void)snprintf(buf, len, "node:%" PRId64, node_id);
}

/* A node was revoked (on any instance): forget its credential here and
 * end its parked poll. */
static void
api_agent_revoked(int64_t node_id)
{
	char key[32];

	memset(&ncache[(uint64_t)node_id % ncache_slots], 0, sizeof(*ncache));
	api_node_key(node_id, key, sizeof(key));
	core_wait_wake(key, 0);
}

void
api_nodes_changed(int64_t node_id)
{
	char buf[32];

	api_agent_revoked(node_id);
	snprintf(buf, sizeof(buf), "%" PRId64, node_id);
	(void)store_redis_publish(STORE_CHAN_NODES, buf);
}

int
api_agent_reply(struct http_request *req, int status, const char *json)
{
	http_response_header(req, "content-type", "application/json");
	http_response_header(req, "cache-control", "no-store");
	http_response(req, status, json, json == NULL ? 0 : strlen(json));
	return (KORE_RESULT_OK);
}

int
api_agent_error(struct http_request *req, int status, const char *code,
    const struct agentproto_err *e)
{
	return (api_error(req, status, code, e != NULL ? e->msg : NULL,
	    e != NULL && e->field[0] != '\0' ? e->field : NULL));
}

enum api_step
api_agent_auth(struct http_request *req, struct api_ctx *c, int64_t *node)
{
	struct ncache_entry  *e;
	const char	     *h;
	char		      secret[AGENTPROTO_SECRET_LEN + 1], hex[65];
	struct agentproto_err perr;
	int64_t		      node_id;
	enum api_step	      s;

	if (!http_request_header(req, "authorization", &h) ||
	    !agentproto_auth_parse(h, &node_id, secret, &perr)) {
		api_error(req, 401, "node_unauthorized",
		    "expected Authorization: YardNode <id>:<secret>", NULL);
		return (API_DONE);
	}
	api_sha256_hex(secret, strlen(secret), hex, sizeof(hex));
	explicit_bzero(secret, sizeof(secret));

	e = &ncache[(uint64_t)node_id % ncache_slots];
	/* Finish our own lookup even if another request filled the slot. */
	if (api_db_busy(c) || e->node_id != node_id ||
	    kore_time_ms() - e->loaded > NCACHE_TTL_MS) {
		s = api_store(req, c, store_agent_secret(c->q, req, node_id),
		    NULL);
		if (s != API_GO)
			return (s);
		memset(e, 0, sizeof(*e));
		if (api_rows(c) == 1 && api_val(c, 0, 0) != NULL) {
			e->node_id = node_id;
			kore_strlcpy(e->hash, api_val(c, 0, 0),
			    sizeof(e->hash));
			e->revoked = store_val_bool(c->q, 0, 1);
			e->loaded = kore_time_ms();
		}
		api_db_clear(c);
	}
	if (e->node_id != node_id || e->revoked ||
	    CRYPTO_memcmp(e->hash, hex, 64) != 0) {
		kore_log(LOG_NOTICE,
		    "agent: node %" PRId64 " refused "
		    "(unknown, revoked or wrong secret)",
		    node_id);
		api_error(req, 401, "node_unauthorized",
		    "unknown node, revoked node or wrong secret", NULL);
		return (API_DONE);
	}
	*node = node_id;
	return (API_GO);
}
