/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Enrolment: POST /agent/v1/enroll and its answer.
 */

#include <string.h>

#include <jansson.h>

#include "agentproto/agentproto.h"
#include "agentproto/internal.h"

int
agentproto_enroll_req_decode(const char *buf, size_t len,
    struct agentproto_enroll_req *r, struct agentproto_err *err)
{
	json_t *root;
	size_t	i;
	int	ret;

	memset(r, 0, sizeof(*r));
	if ((root = agentproto_load(buf, len, err)) == NULL)
		return (0);
	ret = 0;
	if (!agentproto_check_v(root, err) ||
	    !agentproto_get_str(root, "", "token", 1, 1, AGENTPROTO_TOKEN_MAX,
		r->token, sizeof(r->token), err))
		goto cleanup;
	for (i = 0; r->token[i] != '\0'; i++) {
		if (strchr(agentproto_b64url, r->token[i]) == NULL) {
			agentproto_err_set(err, "", "token",
			    "must be base64url characters");
			goto cleanup;
		}
	}
	if (agentproto_member(root, "", "facts", 1, err) == NULL ||
	    !agentproto_facts_decode(json_object_get(root, "facts"), "facts",
		&r->facts, err))
		goto cleanup;
	ret = 1;
cleanup:
	json_decref(root);
	if (!ret)
		memset(r, 0, sizeof(*r));
	return (ret);
}

int
agentproto_enroll_resp_decode(const char *buf, size_t len,
    struct agentproto_enroll_resp *r, struct agentproto_err *err)
{
	json_t *root;
	int	ret;

	memset(r, 0, sizeof(*r));
	if ((root = agentproto_load(buf, len, err)) == NULL)
		return (0);
	ret = 0;
	if (!agentproto_check_v(root, err) ||
	    !agentproto_get_int(root, "", "node_id", 1, 1,
		AGENTPROTO_NODE_ID_MAX, &r->node_id, NULL, err) ||
	    !agentproto_get_str(root, "", "secret", 1, AGENTPROTO_SECRET_LEN,
		AGENTPROTO_SECRET_LEN, r->secret, sizeof(r->secret), err))
		goto cleanup;
	if (!agentproto_secret_valid(r->secret)) {
		agentproto_err_set(err, "", "secret",
		    "must be 43 base64url characters");
		goto cleanup;
	}
	if (!agentproto_interval_decode(root, &r->heartbeat_interval,
		&r->poll_timeout, err))
		goto cleanup;
	ret = 1;
cleanup:
	json_decref(root);
	if (!ret) {
		explicit_bzero(r, sizeof(*r));
	}
	return (ret);
}

char *
agentproto_enroll_req_encode(const struct agentproto_enroll_req *r)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!agentproto_set(o, "v", json_integer(AGENTPROTO_VERSION)) ||
	    !agentproto_set(o, "token", json_string(r->token)) ||
	    !agentproto_set(o, "facts", agentproto_facts_to_json(&r->facts))) {
		json_decref(o);
		return (NULL);
	}
	return (agentproto_dump(o));
}

char *
agentproto_enroll_resp_encode(const struct agentproto_enroll_resp *r)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!agentproto_set(o, "v", json_integer(AGENTPROTO_VERSION)) ||
	    !agentproto_set(o, "node_id", json_integer(r->node_id)) ||
	    !agentproto_set(o, "secret", json_string(r->secret)) ||
	    !agentproto_set(o, "heartbeat_interval",
		json_integer(r->heartbeat_interval)) ||
	    !agentproto_set(o, "poll_timeout", json_integer(r->poll_timeout))) {
		json_decref(o);
		return (NULL);
	}
	return (agentproto_dump(o));
}
