/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * /api/v1/enrollments (admin): GET lists the enrolment tokens made, POST
 * makes a one-time token, valid for 24 hours, and answers it with the
 * exact command to run on the new node.  Only the token's SHA-256 is
 * stored (src/store/enroll.c); the token itself lives in the request's
 * flow until the reply and is wiped with it.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <jansson.h>

#include "app.h"
#include "api/api.h"

enum enroll_state { ENROLL_BEGIN = 0, ENROLL_LIST, ENROLL_CREATE };

static int     enroll_begin(struct http_request *);
static int     enroll_list(struct http_request *);
static int     enroll_create(struct http_request *);
static json_t *enroll_install(const char *);

static struct http_state enroll_states[] = {
	KORE_HTTP_STATE(enroll_begin),
	KORE_HTTP_STATE(enroll_list),
	KORE_HTTP_STATE(enroll_create),
};

struct enroll_flow {
	char token[64]; /* "" until made; the same on every re-entry */
};

static void enroll_flow_free(void *);

int
api_enrollments(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(enroll_states, API_NSTATES(enroll_states), req));
}

static void
enroll_flow_free(void *p)
{
	struct enroll_flow *f = p;

	explicit_bzero(f->token, sizeof(f->token));
}

static int
enroll_begin(struct http_request *req)
{
	return (api_state_begin(req, API_NEED_ADMIN,
	    req->method == HTTP_METHOD_POST ? ENROLL_CREATE : ENROLL_LIST));
}

static int
enroll_list(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;
	int64_t		limit, cursor;

	if (!api_qs_page(req, &limit, &cursor))
		return (HTTP_STATE_COMPLETE);
	s = api_store(req, c, store_enrollments_list(c->q, req, cursor, limit),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_list(req, c, limit)));
}

static int
enroll_create(struct http_request *req)
{
	struct api_ctx	   *c = api_ctx_get(req);
	struct enroll_flow *f;
	enum api_step	    s;
	char		    hex[65], remote[64], cmd[1024];
	json_t		   *j;

	f = api_flow(c, sizeof(*f), enroll_flow_free);
	if (f->token[0] == '\0')
		api_random_token(f->token, sizeof(f->token));
	api_sha256_hex(f->token, strlen(f->token), hex, sizeof(hex));
	api_remote_addr(req, remote, sizeof(remote));
	s = api_store(req, c,
	    store_enrollment_create(c->q, req, hex, c->who.user_id,
		c->claims.sub, remote),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	snprintf(cmd, sizeof(cmd), "yard-agent enroll --server %s --token %s",
	    app.cfg.public_url, f->token);
	j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "id",
	    (json_int_t)store_val_int(c->q, 0, 0), "token", f->token,
	    "created_at", store_val(c->q, 0, 1), "expires_at",
	    store_val(c->q, 0, 2), "command", cmd, "install",
	    enroll_install(f->token));
	store_clear(c->q);
	explicit_bzero(cmd, sizeof(cmd));
	if (j == NULL)
		return (API_FIN(api_error(req, 500, "internal", NULL, NULL)));
	return (API_FIN(api_reply_json(req, 201, j)));
}

/*
 * For each agent package this server offers (dist.c), the one line to
 * run as root on a new Debian server: download it from here, check its
 * SHA-256, install it, enrol with the token (through the environment:
 * not in the process list) and start the agent.  Empty when there is no
 * package, or when the public URL holds a character the shell's single
 * quotes cannot.  Restart, not start: the package's agent may be waiting
 * for its enrolment already.
 */
static json_t *
enroll_install(const char *token)
{
	json_t	   *out, *it;
	const char *url, *sha;
	char	    line[2048];
	size_t	    i;

	if ((out = json_array()) == NULL)
		return (NULL);
	if (strchr(app.cfg.public_url, '\'') != NULL)
		return (out);
	for (i = 0; i < api_dist_count(); i++) {
		if ((it = api_dist_item(i)) == NULL)
			continue;
		url = json_string_value(json_object_get(it, "url"));
		sha = json_string_value(json_object_get(it, "sha256"));
		(void)snprintf(line, sizeof(line),
		    "curl -fsSLo /tmp/yard-agent.deb '%s' && "
		    "echo '%s  /tmp/yard-agent.deb' | sha256sum -c --quiet - && "
		    "apt-get install -y /tmp/yard-agent.deb && "
		    "YARD_AGENT_TOKEN='%s' yard-agent enroll --server '%s' "
		    "--state-dir /var/lib/yard-agent && "
		    "systemctl restart yard-agent",
		    url, sha, token, app.cfg.public_url);
		(void)json_object_set_new(it, "command", json_string(line));
		explicit_bzero(line, sizeof(line));
		(void)json_array_append_new(out, it);
	}
	return (out);
}
