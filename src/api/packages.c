/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Stored packages: the list and one package (with its manifest) for
 * whoever may view the target (src/store/packages.c), and the agents'
 * download GET /agent/v1/packages/<sha256>, served from the file by
 * Kore's file references (sendfile, no copy through memory), with one
 * byte range, only while a command of the node that is not finished names
 * the package (payload.package.sha256).  Retention: worker 1 of each
 * instance runs the package-retention duty (once per cluster; it deletes
 * rows) and removes stored files that no row names any more.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <jansson.h>

#include "app.h"
#include "api/agent.h"
#include "api/api.h"
#include "core/core.h"
#include "store/store.h"

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
		return (API_FIN(api_error_field(req, "order", AGENTPROTO_C_ENUM,
		    "allowed", "oldest,newest", "order: oldest or newest")));
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
	    !api_qs_int(req, "against", 1, INT64_MAX, 0, &pg.against) ||
	    !api_qs_int(req, "task_id", 1, INT64_MAX, 0, &pg.task))
		return (HTTP_STATE_COMPLETE);
	if (pg.against > 0 && pg.task > 0)
		return (API_FIN(
		    api_error_field(req, "task_id", AGENTPROTO_C_NOT_ALLOWED,
			NULL, NULL, "give against or task_id, not both")));
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

/*
 * Files of deleted packages.  Worker 1 of every instance lists part of
 * YARD_PACKAGE_DIR/sha256/ (whole <xx> directories, in turn, until
 * PKG_SWEEP_MAX names), asks which hashes rows still name, and removes
 * the others.  A file modified within PKG_SWEEP_GRACE is kept: a checked
 * upload is renamed into the store before its row is written (the rename
 * keeps the last chunk's time, and a check that takes longer than an
 * hour is rejected), and the time is looked at again just before the
 * unlink.
 */
#define PKG_SWEEP_MAX	2000
#define PKG_SWEEP_GRACE 3600

static void pkg_sweep(void *, uint64_t);
static void pkg_sweep_done(int, const char *, void *);
static int  pkg_file_old(const char *, char *, size_t);

static char    pkg_store[1024];
static int     pkg_sweep_next; /* the next <xx> directory, 0-255 */
static json_t *pkg_sweep_names;

void
api_packages_init(void)
{
	uint64_t every;

	if (worker->id != 1)
		return;
	(void)snprintf(pkg_store, sizeof(pkg_store), "%s/sha256",
	    app.cfg.package_dir);
	every = (uint64_t)app.cfg.upload_expire * 1000 / 2;
	if (every > 60000)
		every = 60000;
	if (app.cfg.package_retention_days > 0)
		core_duty_add(store_package_retention_duty(every,
		    app.cfg.package_retention_days));
	kore_timer_add(pkg_sweep, every, NULL, 0);
}

static int
pkg_hash_ok(const char *name, const char *dir)
{
	size_t i;

	for (i = 0; i < 64; i++) {
		if (!isdigit((unsigned char)name[i]) &&
		    (name[i] < 'a' || name[i] > 'f'))
			return (0);
	}
	return (name[64] == '\0' && name[0] == dir[0] && name[1] == dir[1]);
}

/* 1 when name is a regular file of the store unchanged for the grace. */
static int
pkg_file_old(const char *name, char *path, size_t len)
{
	struct stat st;

	if (snprintf(path, len, "%s/%.2s/%s", pkg_store, name, name) >=
	    (int)len)
		return (0);
	if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return (0);
	return (st.st_mtime < time(NULL) - PKG_SWEEP_GRACE);
}

static void
pkg_sweep(void *arg, uint64_t now)
{
	DIR	      *d;
	struct dirent *e;
	char	       dir[1100], sub[3], path[1200], *text;
	int	       n;

	if (pkg_sweep_names != NULL)
		return;
	pkg_sweep_names = json_array();
	for (n = 0; n < 256 && json_array_size(pkg_sweep_names) < PKG_SWEEP_MAX;
	     n++) {
		(void)snprintf(sub, sizeof(sub), "%02x", pkg_sweep_next);
		pkg_sweep_next = (pkg_sweep_next + 1) % 256;
		(void)snprintf(dir, sizeof(dir), "%s/%s", pkg_store, sub);
		if ((d = opendir(dir)) == NULL)
			continue;
		while ((e = readdir(d)) != NULL &&
		    json_array_size(pkg_sweep_names) < PKG_SWEEP_MAX) {
			if (strlen(e->d_name) == 64 &&
			    pkg_hash_ok(e->d_name, sub) &&
			    pkg_file_old(e->d_name, path, sizeof(path)))
				json_array_append_new(pkg_sweep_names,
				    json_string(e->d_name));
		}
		(void)closedir(d);
	}
	if (json_array_size(pkg_sweep_names) == 0 ||
	    (text = json_dumps(pkg_sweep_names, JSON_COMPACT)) == NULL) {
		json_decref(pkg_sweep_names);
		pkg_sweep_names = NULL;
		return;
	}
	if (!store_packages_live(text, NULL, pkg_sweep_done)) {
		json_decref(pkg_sweep_names);
		pkg_sweep_names = NULL;
	}
	free(text);
}

static void
pkg_sweep_done(int ok, const char *live, void *arg)
{
	json_t	   *l = NULL, *v;
	size_t	    i, j;
	const char *name;
	char	    path[1200];
	int	    keep;

	if (ok && live != NULL)
		l = json_loads(live, 0, NULL);
	if (l != NULL && json_is_array(l)) {
		json_array_foreach(pkg_sweep_names, i, v)
		{
			name = json_string_value(v);
			keep = 0;
			for (j = 0; j < json_array_size(l) && !keep; j++) {
				if (strcmp(name,
					json_string_value(
					    json_array_get(l, j))) == 0)
					keep = 1;
			}
			if (!keep && pkg_file_old(name, path, sizeof(path)) &&
			    unlink(path) == 0)
				kore_log(LOG_INFO,
				    "package %s: file removed (no package "
				    "row names it)",
				    name);
		}
	}
	if (l != NULL)
		json_decref(l);
	json_decref(pkg_sweep_names);
	pkg_sweep_names = NULL;
}
