/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Stored packages: the list and one package (with its manifest) for
 * whoever may view the target (src/store/packages.c), and the agents'
 * download GET /agent/v1/packages/<sha256>, served from the file by
 * Kore's file references (sendfile, no copy through memory), with one
 * byte range, only while a command of the node that is not finished names
 * the package (payload.package_sha256).
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "app.h"
#include "api/agent.h"
#include "api/api.h"

/* GET /api/v1/packages */
enum pkgs_state { PKGS_BEGIN = 0, PKGS_LIST };
static int		 pkgs_begin(struct http_request *);
static int		 pkgs_list(struct http_request *);
static struct http_state pkgs_states[] = {
	KORE_HTTP_STATE(pkgs_begin),
	KORE_HTTP_STATE(pkgs_list),
};

/* GET /api/v1/packages/ID */
enum pkg_state { PKG_BEGIN = 0, PKG_GET };
static int		 pkg_begin(struct http_request *);
static int		 pkg_get(struct http_request *);
static struct http_state pkg_states[] = {
	KORE_HTTP_STATE(pkg_begin),
	KORE_HTTP_STATE(pkg_get),
};

/* GET /api/v1/packages/ID/manifest and /api/v1/packages/ID/diff */
enum pkgpage_state { PKGPAGE_BEGIN = 0, PKGPAGE_GET };
static int		 pkgpage_begin(struct http_request *);
static int		 pkgpage_get(struct http_request *);
static struct http_state pkgpage_states[] = {
	KORE_HTTP_STATE(pkgpage_begin),
	KORE_HTTP_STATE(pkgpage_get),
};

/* Entries of a manifest or diff page: default and most. */
#define PKGPAGE_LIMIT_DEFAULT 500
#define PKGPAGE_LIMIT_MAX     2000

static int pkgpage_id(struct http_request *, int64_t *, int *);

/* GET /agent/v1/packages/SHA256 */
enum fetch_state { FETCH_AUTH = 0, FETCH_ALLOWED };
static int		 fetch_auth(struct http_request *);
static int		 fetch_allowed(struct http_request *);
static struct http_state fetch_states[] = {
	KORE_HTTP_STATE(fetch_auth),
	KORE_HTTP_STATE(fetch_allowed),
};

struct fetch_flow {
	int64_t node;
	char	sha[65];
};

static int fetch_send(struct http_request *, const char *);
static int fetch_range(const char *, int64_t, int64_t *, int64_t *);

int
api_packages(struct http_request *req)
{
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(pkgs_states, API_NSTATES(pkgs_states), req));
}

static int
pkgs_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, PKGS_LIST));
}

static int
pkgs_list(struct http_request *req)
{
	struct api_ctx		   *c = api_ctx_get(req);
	struct store_package_filter f;
	enum api_step		    s;
	char			    q[256], order[16];

	if (!api_qs_page(req, &f.limit, &f.cursor) ||
	    !api_qs_str(req, "q", 200, q, sizeof(q)) ||
	    !api_qs_str(req, "order", 10, order, sizeof(order)) ||
	    !api_qs_int(req, "task", 1, INT64_MAX, 0, &f.task) ||
	    !api_qs_int(req, "node", 1, INT64_MAX, 0, &f.node))
		return (HTTP_STATE_COMPLETE);
	f.q = q;
	if (strcmp(order, "newest") == 0)
		f.newest = 1;
	else if (order[0] == '\0' || strcmp(order, "oldest") == 0)
		f.newest = 0;
	else
		return (API_FIN(api_error(req, 400, "bad_request",
		    "order: oldest or newest", "order")));
	s = api_store(req, c, store_packages_list(c->q, req, &c->who, &f),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_list(req, c, f.limit)));
}

int
api_package(struct http_request *req)
{
	int64_t id;

	if (!api_path_id(req, "/api/v1/packages/", &id))
		return (api_not_found(req));
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(pkg_states, API_NSTATES(pkg_states), req));
}

static int
pkg_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, PKG_GET));
}

static int
pkg_get(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	enum api_step	s;
	int64_t		id;

	if (!api_path_id(req, "/api/v1/packages/", &id))
		return (API_FIN(api_not_found(req)));
	s = api_store(req, c, store_package_get(c->q, req, &c->who, id), NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}

/* "/api/v1/packages/ID/manifest" or ".../diff": the id, and 1 for diff. */
static int
pkgpage_id(struct http_request *req, int64_t *id, int *diff)
{
	const char *p = req->path + strlen("/api/v1/packages/");
	char	   *end;
	long long   n;

	if (strncmp(req->path, "/api/v1/packages/", 17) != 0)
		return (0);
	errno = 0;
	n = strtoll(p, &end, 10);
	if (errno != 0 || end == p || n <= 0)
		return (0);
	if (strcmp(end, "/manifest") == 0)
		*diff = 0;
	else if (strcmp(end, "/diff") == 0)
		*diff = 1;
	else
		return (0);
	*id = n;
	return (1);
}

int
api_package_page(struct http_request *req)
{
	int64_t id;
	int	diff;

	if (!pkgpage_id(req, &id, &diff))
		return (api_not_found(req));
	if (req->method != HTTP_METHOD_GET)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (
	    http_state_run(pkgpage_states, API_NSTATES(pkgpage_states), req));
}

static int
pkgpage_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, PKGPAGE_GET));
}

static int
pkgpage_get(struct http_request *req)
{
	struct api_ctx		 *c = api_ctx_get(req);
	struct store_package_page pg;
	enum api_step		  s;
	char			  path[1100], cursor[1100];
	int			  diff;

	memset(&pg, 0, sizeof(pg));
	if (!pkgpage_id(req, &pg.id, &diff))
		return (API_FIN(api_not_found(req)));
	if (!api_qs_int(req, "limit", 1, PKGPAGE_LIMIT_MAX,
		PKGPAGE_LIMIT_DEFAULT, &pg.limit) ||
	    !api_qs_str(req, "cursor", 1030, cursor, sizeof(cursor)) ||
	    !api_qs_str(req, "path", 1024, path, sizeof(path)) ||
	    !api_qs_int(req, "against", 1, INT64_MAX, 0, &pg.against))
		return (HTTP_STATE_COMPLETE);
	/* A directory is named as in the manifest: no leading or trailing
	 * "/" (the top is ""). */
	while (strlen(path) > 0 && path[strlen(path) - 1] == '/')
		path[strlen(path) - 1] = '\0';
	pg.path = path[0] == '/' ? path + 1 : path;
	pg.cursor = cursor;
	if (diff)
		s = api_store(req, c,
		    store_package_diff(c->q, req, &c->who, &pg), NULL);
	else
		s = api_store(req, c,
		    store_package_manifest(c->q, req, &c->who, &pg), NULL);
	if (s != API_GO)
		return (api_state(s));
	return (API_FIN(api_reply_row(req, c, 200)));
}

int
api_agent_package(struct http_request *req)
{
	const char *p = req->path + strlen("/agent/v1/packages/");
	size_t	    i;

	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	if (strlen(p) != 64)
		return (api_not_found(req));
	for (i = 0; i < 64; i++) {
		if (!((p[i] >= '0' && p[i] <= '9') ||
			(p[i] >= 'a' && p[i] <= 'f')))
			return (api_not_found(req));
	}
	return (http_state_run(fetch_states, API_NSTATES(fetch_states), req));
}

static int
fetch_auth(struct http_request *req)
{
	struct api_ctx	  *c = api_ctx_get(req);
	struct fetch_flow *f;
	enum api_step	   s;

	f = api_flow(c, sizeof(*f), NULL);
	if ((s = api_agent_auth(req, c, &f->node)) != API_GO)
		return (api_state(s));
	(void)kore_strlcpy(f->sha, req->path + strlen("/agent/v1/packages/"),
	    sizeof(f->sha));
	req->fsm_state = FETCH_ALLOWED;
	return (HTTP_STATE_CONTINUE);
}

static int
fetch_allowed(struct http_request *req)
{
	struct api_ctx	  *c = api_ctx_get(req);
	struct fetch_flow *f = c->flow;
	enum api_step	   s;

	s = api_store(req, c,
	    store_package_for_node(c->q, req, f->node, f->sha), NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) != 1) {
		api_db_clear(c);
		return (API_FIN(api_error(req, 404, "not_found",
		    "no command of this node references this package", NULL)));
	}
	api_db_clear(c);
	return (API_FIN(fetch_send(req, f->sha)));
}

/* "bytes=a-b", "bytes=a-", "bytes=-n" over size: 1 and [*from, *to],
 * 0 when unsatisfiable, -1 when not one plain range (ignored: whole file). */
static int
fetch_range(const char *h, int64_t size, int64_t *from, int64_t *to)
{
	char	 *end;
	long long a, b;

	if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
		return (-1);
	h += 6;
	if (*h == '-') {
		errno = 0;
		b = strtoll(h + 1, &end, 10);
		if (errno != 0 || *end != '\0' || end == h + 1)
			return (-1);
		if (b <= 0)
			return (0);
		*from = b >= size ? 0 : size - b;
		*to = size - 1;
		return (1);
	}
	errno = 0;
	a = strtoll(h, &end, 10);
	if (errno != 0 || end == h || *end != '-' || a < 0)
		return (-1);
	h = end + 1;
	if (*h == '\0') {
		b = size - 1;
	} else {
		b = strtoll(h, &end, 10);
		if (errno != 0 || *end != '\0' || b < a)
			return (-1);
	}
	if (a >= size)
		return (0);
	*from = a;
	*to = b >= size ? size - 1 : b;
	return (1);
}

/*
 * The file by reference: Kore sends it with sendfile from the socket's
 * send queue.  A range is a reference of the range's length whose send
 * buffer starts at the range (its key names the range, so that it is
 * never shared with the whole file's).
 */
static int
fetch_send(struct http_request *req, const char *sha)
{
	struct kore_fileref *ref;
	struct netbuf	    *nb;
	struct stat	     st;
	const char	    *h;
	char		     path[1100], key[1200], buf[128];
	int64_t		     from, to;
	int		     fd, r;

	(void)snprintf(path, sizeof(path), "%s/sha256/%.2s/%s",
	    app.cfg.package_dir, sha, sha);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (api_error(req, 404, "not_found",
		    "the package's file is missing", NULL));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		return (api_error(req, 500, "internal", NULL, NULL));
	}
	r = -1;
	from = 0;
	to = (int64_t)st.st_size - 1;
	if (http_request_header(req, "range", &h))
		r = fetch_range(h, (int64_t)st.st_size, &from, &to);
	http_response_header(req, "accept-ranges", "bytes");
	http_response_header(req, "content-type", "application/zip");
	http_response_header(req, "cache-control", "no-store");
	if (r == 0) {
		(void)close(fd);
		(void)snprintf(buf, sizeof(buf), "bytes */%" PRId64,
		    (int64_t)st.st_size);
		http_response_header(req, "content-range", buf);
		http_response(req, 416, NULL, 0);
		return (KORE_RESULT_OK);
	}
	if (r == 1) {
		(void)snprintf(key, sizeof(key), "%s#%" PRId64 "-%" PRId64,
		    path, from, to);
		(void)snprintf(buf, sizeof(buf),
		    "bytes %" PRId64 "-%" PRId64 "/%" PRId64, from, to,
		    (int64_t)st.st_size);
		http_response_header(req, "content-range", buf);
	} else {
		(void)kore_strlcpy(key, path, sizeof(key));
	}
	ref = kore_fileref_create(req->owner->owner->server, key, fd,
	    (off_t)(to - from + 1), &st.st_mtim);
	if (ref == NULL) {
		(void)close(fd);
		return (api_error(req, 500, "internal", NULL, NULL));
	}
	/* A cached reference of this key was returned: ours is not needed. */
	if (ref->fd != fd)
		(void)close(fd);
	http_response_fileref(req, r == 1 ? 206 : 200, ref);
	if (r == 1 && req->method != HTTP_METHOD_HEAD && req->owner != NULL) {
		TAILQ_FOREACH (nb, &req->owner->send_queue, list) {
			if (nb->file_ref == ref && nb->fd_off == 0) {
				nb->fd_off = (off_t)from;
				nb->fd_len = (off_t)to + 1;
			}
		}
	}
	return (KORE_RESULT_OK);
}
