/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * GET /api/v1/audit (admin): the audit log, newest first, with filters.
 */

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "app.h"
#include "api/api.h"

static const char *sql_list =
    "SELECT row_to_json(x)::text, x.id FROM (SELECT id, at, actor_id,"
    " actor_sub, action, object_type, object_id, detail, remote_addr"
    " FROM audit WHERE ($1::bigint = 0 OR id < $1::bigint)"
    " AND ($2::bigint IS NULL OR actor_id = $2::bigint)"
    " AND ($3 = '' OR action = $3)"
    " AND ($4 = '' OR object_type = $4)"
    " AND ($5::bigint IS NULL OR object_id = $5::bigint)"
    " AND ($6 = '' OR at >= $6::timestamptz)"
    " AND ($7 = '' OR at < $7::timestamptz)"
    " ORDER BY id DESC LIMIT $8::bigint + 1) x";

/* RFC 3339 date or date-time, so a bad value is a 400 naming the field. */
int
api_time_ok(const char *s)
{
	const char *shape = "dddd-dd-dd";
	size_t	    i;

	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i])
				    : s[i] != shape[i])
			return (0);
	}
	s += i;
	if (*s == '\0')
		return (1);
	if (*s != 'T' && *s != ' ')
		return (0);
	s++;
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    s[2] != ':' || !isdigit((unsigned char)s[3]) ||
	    !isdigit((unsigned char)s[4]))
		return (0);
	for (s += 5; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s) && strchr(":.Z+-", *s) == NULL)
			return (0);
	}
	return (1);
}

int
api_audit(struct http_request *req)
{
	struct api_ctx *c;
	enum api_step	s;
	int64_t		limit, cursor, actor, oid;
	char		cur[32], lim[32], a[32], o[32];
	char		action[64], otype[64], from[40], to[40];
	const char     *vals[8];

	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	if ((s = api_begin(req, &c, API_NEED_ADMIN)) != API_GO)
		return (api_return(s));

	if (!api_qs_page(req, &limit, &cursor) ||
	    !api_qs_int(req, "actor_id", 1, INT64_MAX, 0, &actor) ||
	    !api_qs_int(req, "object_id", 1, INT64_MAX, 0, &oid) ||
	    !api_qs_str(req, "action", 60, action, sizeof(action)) ||
	    !api_qs_str(req, "object_type", 60, otype, sizeof(otype)) ||
	    !api_qs_time(req, "from", from, sizeof(from)) ||
	    !api_qs_time(req, "to", to, sizeof(to)))
		return (KORE_RESULT_OK);

	snprintf(cur, sizeof(cur), "%" PRId64, cursor);
	snprintf(lim, sizeof(lim), "%" PRId64, limit);
	snprintf(a, sizeof(a), "%" PRId64, actor);
	snprintf(o, sizeof(o), "%" PRId64, oid);
	vals[0] = cur;
	vals[1] = actor ? a : NULL;
	vals[2] = action;
	vals[3] = otype;
	vals[4] = oid ? o : NULL;
	vals[5] = from;
	vals[6] = to;
	vals[7] = lim;
	if ((s = api_db(req, c, sql_list, 8, vals, NULL)) != API_GO)
		return (api_return(s));
	return (api_reply_list(req, c, limit));
}
