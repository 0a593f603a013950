/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * POST /api/v1/enrollments (admin): a one-time enrolment token, valid for
 * 24 hours, and the exact command to run on the new node.  Only the
 * token's SHA-256 is stored.
 */

#include <sys/random.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <openssl/evp.h>

#include "app.h"
#include "api/api.h"

static const char *sql_create =
    "WITH e AS (INSERT INTO enrollments (token_hash, created_by, expires_at)"
    " VALUES (decode($1, 'hex'), $2::bigint, now() + interval '24 hours')"
    " RETURNING id, created_at, expires_at),"
    " a AS (INSERT INTO audit (actor_id, actor_sub, action, object_type,"
    "  object_id, detail, remote_addr) SELECT $2::bigint, $3,"
    "  'enrollment.create', 'enrollment', id, '{}', $4 FROM e)"
    " SELECT id, to_json(created_at) #>> '{}',"
    " to_json(expires_at) #>> '{}' FROM e";

static const char *sql_list =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT e.id, e.created_at,"
    " e.expires_at, e.used_at, e.node_id, u.sub AS created_by_sub,"
    " (e.used_at IS NULL AND e.expires_at > now()) AS usable"
    " FROM enrollments e LEFT JOIN users u ON u.id = e.created_by"
    " WHERE e.id > $1::bigint ORDER BY e.id LIMIT $2::bigint + 1) x";

/* 32 random bytes as base64url (43 characters, no padding). */
void
api_random_token(char *out, size_t outlen)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
				  "klmnopqrstuvwxyz0123456789-_";
	uint8_t		  raw[33];
	size_t		  i, o;
	uint32_t	  v;

	if (outlen < 44 || getrandom(raw, 32, 0) != 32)
		fatal("api: getrandom failed");
	raw[32] = 0;
	for (i = 0, o = 0; i < 32; i += 3) {
		v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
		    (i + 2 < 32 ? raw[i + 2] : 0);
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		if (i + 2 < 32)
			out[o++] = b64[v & 63];
	}
	out[o] = '\0';
	explicit_bzero(raw, sizeof(raw));
}

void
api_sha256_hex(const char *in, size_t len, char *hex, size_t hexlen)
{
	uint8_t	     md[32];
	unsigned int n, i;

	n = sizeof(md);
	if (hexlen < 65 || !EVP_Digest(in, len, md, &n, EVP_sha256(), NULL))
		fatal("api: sha256 failed");
	for (i = 0; i < 32; i++)
		snprintf(hex + i * 2, 3, "%02x", md[i]);
}

int
api_enrollments(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;
	const char     *vals[4];
	char		hex[65], actor[32], remote[64], cur[32], lim[32];
	char		cmd[1024];
	int64_t		limit, cursor;
	json_t	       *j;

	if (req->method == HTTP_METHOD_GET) {
		if ((s = api_begin(req, &c, API_NEED_ADMIN)) != API_GO)
			return (api_return(s));
		if (!api_qs_page(req, &limit, &cursor))
			return (KORE_RESULT_OK);
		snprintf(cur, sizeof(cur), "%" PRId64, cursor);
		snprintf(lim, sizeof(lim), "%" PRId64, limit);
		vals[0] = cur;
		vals[1] = lim;
		if ((s = api_db(req, c, sql_list, 2, vals, NULL)) != API_GO)
			return (api_return(s));
		return (api_reply_list(req, c, limit));
	}
	if (req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	if ((s = api_begin(req, &c, API_NEED_ADMIN)) != API_GO)
		return (api_return(s));

	/* The token must survive re-entries: keep it in the context. */
	if (c->scratch[0] == '\0')
		api_random_token(c->scratch, sizeof(c->scratch));
	api_sha256_hex(c->scratch, strlen(c->scratch), hex, sizeof(hex));
	snprintf(actor, sizeof(actor), "%" PRId64, c->who.user_id);
	api_remote_addr(req, remote, sizeof(remote));
	vals[0] = hex;
	vals[1] = actor;
	vals[2] = c->claims.sub;
	vals[3] = remote;
	if ((s = api_db(req, c, sql_create, 4, vals, NULL)) != API_GO)
		return (api_return(s));
	snprintf(cmd, sizeof(cmd), "yard-agent enroll --server %s --token %s",
	    app.cfg.public_url, c->scratch);
	j = json_pack("{s:I, s:s, s:s, s:s, s:s}", "id",
	    (json_int_t)api_val_int(c, 0, 0), "token", c->scratch, "created_at",
	    api_val(c, 0, 1), "expires_at", api_val(c, 0, 2), "command", cmd);
	api_db_clear(c);
	explicit_bzero(c->scratch, sizeof(c->scratch));
	return (api_reply_json(req, 201, j));
}
