/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Resumable uploads, tus 1.0 (core, creation, termination, expiration,
 * checksum) under /api/v1/uploads (docs/api.md, "Uploads").  Every request
 * signs in; the store decides whether the caller may upload for the target
 * (src/store/uploads.c).  Kore has read a PATCH's whole body (at most
 * YARD_UPLOAD_CHUNK_MAX, on disk past 1 MiB) before the handler runs: the
 * handler holds the upload in PostgreSQL, appends the body to
 * YARD_UPLOAD_DIR/<id> while hashing it (the chunk's checksum and the
 * whole file's SHA-256, whose state the row keeps), fsyncs, then commits
 * the offset.  When the last byte lands the check (src/pkg/) runs in a
 * Kore task; the PATCH answers at once and the verdict is read with HEAD
 * or GET.  A checked package is renamed to
 * YARD_PACKAGE_DIR/sha256/<2 hex>/<hash>.
 */

#include <sys/stat.h>
#include <sys/statvfs.h>
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

/* SHA256_CTX: its bytes are the state kept with the upload. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/tasks.h>

#include <jansson.h>

#include "app.h"
#include "api/api.h"
#include "core/core.h"
#include "pkg/pkg.h"
#include "store/store.h"

#define TUS_VERSION    "1.0.0"
#define TUS_EXTENSIONS "creation,termination,expiration,checksum"
#define UP_ID_LEN      36
#define UP_READ	       (64 * 1024)
#define UP_DISK_SPARE  (64LL << 20) /* kept free beyond an upload */
#define UP_META_MAX    4000 /* bytes of Upload-Metadata */
#define UP_SWEEP_MAX   2000 /* files looked at per sweep */

enum up_algo { ALGO_NONE = 0, ALGO_SHA256, ALGO_SHA1 };

/* POST /api/v1/uploads */
enum create_state { CREATE_BEGIN = 0, CREATE_PARSE, CREATE_STORE };
static int		 create_begin(struct http_request *);
static int		 create_parse(struct http_request *);
static int		 create_store(struct http_request *);
static struct http_state create_states[] = {
	KORE_HTTP_STATE(create_begin),
	KORE_HTTP_STATE(create_parse),
	KORE_HTTP_STATE(create_store),
};

/* HEAD, GET, PATCH, DELETE /api/v1/uploads/ID */
enum upload_state {
	UP_BEGIN = 0,
	UP_ROUTE,
	UP_READ_ROW,
	UP_CHECK,
	UP_HOLD,
	UP_APPEND,
	UP_COMMIT,
	UP_RELEASE,
	UP_DELETE
};
static int		 up_begin(struct http_request *);
static int		 up_route(struct http_request *);
static int		 up_read_row(struct http_request *);
static int		 up_check(struct http_request *);
static int		 up_hold(struct http_request *);
static int		 up_append(struct http_request *);
static int		 up_commit(struct http_request *);
static int		 up_release(struct http_request *);
static int		 up_delete(struct http_request *);
static struct http_state upload_states[] = {
	KORE_HTTP_STATE(up_begin),
	KORE_HTTP_STATE(up_route),
	KORE_HTTP_STATE(up_read_row),
	KORE_HTTP_STATE(up_check),
	KORE_HTTP_STATE(up_hold),
	KORE_HTTP_STATE(up_append),
	KORE_HTTP_STATE(up_commit),
	KORE_HTTP_STATE(up_release),
	KORE_HTTP_STATE(up_delete),
};

struct create_flow {
	struct store_upload_new n;
	char			name[256], version[101], filename[256];
	char			notes[4001];
};

struct up_flow {
	char	     id[UP_ID_LEN + 1];
	int64_t	     offset; /* Upload-Offset asked */
	int64_t	     length;
	int64_t	     to; /* offset after the append */
	enum up_algo algo;
	char	     checksum[128]; /* base64, as sent */
	SHA256_CTX   sha; /* the file's, after the append */
	char	     sha_hex[sizeof(SHA256_CTX) * 2 + 1];
	/* A reply owed after the hold is released. */
	int  status;
	char code[32];
	char message[160];
};

/* A check in a Kore task. */
struct up_check {
	struct kore_task  task;
	char		  id[UP_ID_LEN + 1];
	char		  path[1024];
	char		  dest[1024];
	char		  sha256[65];
	struct pkg_limits lim;
	struct pkg_result res;
	int		  moved; /* renamed into the store */
	char		  err[128];
};

static const char *up_dir;
static char	   up_pkgdir[1024];
static char	   up_buf[UP_READ];

static void up_headers(struct http_request *);
static int  up_reply(struct http_request *, int, const char *, const char *);
static void up_expires(struct http_request *, int64_t);
static int  up_path(const char *, char *, size_t);
static void up_check_start(const char *, const char *);
static int  up_check_run(struct kore_task *);
static void up_check_done(struct kore_task *);
static void up_check_free(void *, uint64_t);
static void up_verdict_done(int, int64_t, void *);
static void up_sweep(void *, uint64_t);
static void up_sweep_done(int, const char *, void *);
static int  up_b64_decode(const char *, size_t, char *, size_t);
static int  up_meta(struct http_request *, struct create_flow *);
static int  up_header_int(struct http_request *, const char *, int64_t *);
static int  up_id_ok(const char *);

static void
up_headers(struct http_request *req)
{
	http_response_header(req, "tus-resumable", TUS_VERSION);
}

static int
up_reply(struct http_request *req, int status, const char *code,
    const char *message)
{
	up_headers(req);
	if (code == NULL)
		return (api_reply_empty(req, status));
	return (api_error(req, status, code, message, NULL));
}

static void
up_expires(struct http_request *req, int64_t epoch)
{
	struct tm tm;
	time_t	  t = (time_t)epoch;
	char	  buf[64];

	if (epoch <= 0 || gmtime_r(&t, &tm) == NULL)
		return;
	if (strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0)
		http_response_header(req, "upload-expires", buf);
}

static int
up_id_ok(const char *s)
{
	size_t i;

	if (strlen(s) != UP_ID_LEN)
		return (0);
	for (i = 0; i < UP_ID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return (0);
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
			       (s[i] >= 'a' && s[i] <= 'f')))
			return (0);
	}
	return (1);
}

static int
up_path(const char *id, char *out, size_t len)
{
	int n;

	n = snprintf(out, len, "%s/%s", up_dir, id);
	return (n > 0 && (size_t)n < len);
}

/* A non-negative decimal header: 1 and *out, 0 when absent (*out = -1),
 * -1 when malformed. */
static int
up_header_int(struct http_request *req, const char *name, int64_t *out)
{
	const char *v;
	char	   *end;
	long long   n;

	*out = -1;
	if (!http_request_header(req, name, &v))
		return (0);
	if (*v < '0' || *v > '9')
		return (-1);
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0)
		return (-1);
	*out = n;
	return (1);
}

/* Standard base64 to bytes, NUL-terminated; the length, or -1. */
static int
up_b64_decode(const char *in, size_t len, char *out, size_t outlen)
{
	unsigned char *tmp;
	int	       n;
	size_t	       pad = 0;

	if (len == 0) {
		out[0] = '\0';
		return (0);
	}
	if (len % 4 != 0 || (len / 4) * 3 + 1 > outlen)
		return (-1);
	if ((tmp = malloc(len)) == NULL)
		return (-1);
	n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)len);
	if (n < 0) {
		free(tmp);
		return (-1);
	}
	if (in[len - 1] == '=')
		pad++;
	if (len > 1 && in[len - 2] == '=')
		pad++;
	n -= (int)pad;
	memcpy(out, tmp, (size_t)n);
	out[n] = '\0';
	free(tmp);
	if (memchr(out, '\0', (size_t)n) != NULL)
		return (-1);
	return (n);
}

/* mkdir -p: 0 with errno set on failure. */
static int
up_mkdirs(const char *dir, mode_t mode)
{
	char  path[1024];
	char *p;

	if (kore_strlcpy(path, dir, sizeof(path)) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return (0);
	}
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return (0);
		*p = '/';
	}
	return (mkdir(path, mode) == 0 || errno == EEXIST);
}

/*
 * Parent, before the workers fork: the upload directory (by default
 * YARD_PACKAGE_DIR/uploads) and the store's 256 directories exist, on one
 * device (a checked package is renamed, never copied), and Kore's body
 * limit fits one chunk.
 */
void
api_uploads_prepare(void)
{
	struct stat a, b;
	char	    path[1100];
	int	    i;

	if (app.cfg.upload_dir == NULL) {
		(void)snprintf(path, sizeof(path), "%s/uploads",
		    app.cfg.package_dir);
		app.cfg.upload_dir = kore_strdup(path);
	}
	if (!up_mkdirs(app.cfg.package_dir, 0750))
		fatal("YARD_PACKAGE_DIR: mkdir %s: %s", app.cfg.package_dir,
		    errno_s);
	if (!up_mkdirs(app.cfg.upload_dir, 0700))
		fatal("YARD_UPLOAD_DIR: mkdir %s: %s", app.cfg.upload_dir,
		    errno_s);
	(void)snprintf(path, sizeof(path), "%s/sha256", app.cfg.package_dir);
	if (mkdir(path, 0750) == -1 && errno != EEXIST)
		fatal("YARD_PACKAGE_DIR: mkdir %s: %s", path, errno_s);
	for (i = 0; i < 256; i++) {
		(void)snprintf(path, sizeof(path), "%s/sha256/%02x",
		    app.cfg.package_dir, i);
		if (mkdir(path, 0750) == -1 && errno != EEXIST)
			fatal("YARD_PACKAGE_DIR: mkdir %s: %s", path, errno_s);
	}
	if (stat(app.cfg.upload_dir, &a) == -1 ||
	    stat(app.cfg.package_dir, &b) == -1)
		fatal("YARD_UPLOAD_DIR: stat: %s", errno_s);
	if (a.st_dev != b.st_dev)
		fatal("YARD_UPLOAD_DIR (%s) and YARD_PACKAGE_DIR (%s) must be "
		      "on one file system: packages are renamed, not copied",
		    app.cfg.upload_dir, app.cfg.package_dir);
	/* One chunk and its headers' worth of slack; larger bodies get 413
	 * from Kore before any handler runs. */
	http_body_max = (size_t)app.cfg.upload_chunk_max + 65536;
}

/* Worker start: the directories; worker 1 runs the expiry duty (once
 * per cluster) and sweeps files whose upload is gone. */
void
api_uploads_init(void)
{
	uint64_t every;

	up_dir = app.cfg.upload_dir;
	(void)snprintf(up_pkgdir, sizeof(up_pkgdir), "%s/sha256",
	    app.cfg.package_dir);
	every = (uint64_t)app.cfg.upload_expire * 1000 / 2;
	if (every > 60000)
		every = 60000;
	if (worker->id == 1) {
		core_duty_add(store_upload_duty(every, app.cfg.upload_expire));
		kore_timer_add(up_sweep, every, NULL, 0);
	}
}

/* OPTIONS (no token), POST creates. */
int
api_uploads(struct http_request *req)
{
	char buf[32];

	if (req->method == HTTP_METHOD_OPTIONS) {
		up_headers(req);
		http_response_header(req, "tus-version", TUS_VERSION);
		http_response_header(req, "tus-extension", TUS_EXTENSIONS);
		http_response_header(req, "tus-checksum-algorithm",
		    "sha256,sha1");
		(void)snprintf(buf, sizeof(buf), "%" PRId64,
		    app.cfg.package_max_bytes);
		http_response_header(req, "tus-max-size", buf);
		return (api_reply_empty(req, 204));
	}
	if (req->method != HTTP_METHOD_POST)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(create_states, API_NSTATES(create_states), req));
}

static int
create_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, CREATE_PARSE));
}

/*
 * One Upload-Metadata value into out (at most max bytes of text): 1, or
 * 0 with the refusal added to e.  The header is at most UP_META_MAX, so
 * any value decodes into tmp: too long and not base64 are told apart.
 */
static int
meta_value(struct agentproto_err *e, const char *key, const char *v,
    size_t vlen, char *out, size_t outlen, size_t max)
{
	char tmp[UP_META_MAX + 1];
	int  n;

	n = up_b64_decode(v, vlen, tmp, sizeof(tmp));
	if (n < 0) {
		agentproto_err_add(e, "", key, AGENTPROTO_C_FORMAT, 0, 0, 0,
		    "expected", "base64",
		    "Upload-Metadata %s: base64 of at most %zu bytes of text",
		    key, max);
		return (0);
	}
	if ((size_t)n > max || (size_t)n >= outlen) {
		agentproto_err_add(e, "", key, AGENTPROTO_C_TOO_LONG,
		    AGENTPROTO_F_MAX, 0, (int64_t)max, NULL, NULL,
		    "Upload-Metadata %s: base64 of at most %zu bytes of text",
		    key, max);
		return (0);
	}
	memcpy(out, tmp, (size_t)n + 1);
	return (1);
}

/*
 * Upload-Metadata: "key base64,key base64"; unknown keys are ignored.
 * Every key is checked, the refusals answered together (400
 * bad_metadata with fields named after the keys); 0 after replying.
 */
static int
up_meta(struct http_request *req, struct create_flow *f)
{
	struct agentproto_err e;
	const char	     *h, *p, *end, *sp, *vend;
	char		      key[32], num[32], *out, *x;
	size_t		      klen, outlen;
	long long	      id;
	int		      named_bad = 0;

	agentproto_err_clear(&e);
	if (!http_request_header(req, "upload-metadata", &h))
		h = "";
	if (strlen(h) > UP_META_MAX) {
		agentproto_err_add(&e, "", "", AGENTPROTO_C_TOO_LONG,
		    AGENTPROTO_F_MAX, 0, UP_META_MAX, NULL, NULL,
		    "Upload-Metadata is too long");
		goto refuse;
	}
	for (p = h; *p != '\0'; p = (*end == ',') ? end + 1 : end) {
		while (*p == ' ')
			p++;
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		if (end == p)
			continue;
		sp = memchr(p, ' ', (size_t)(end - p));
		klen = (size_t)((sp != NULL ? sp : end) - p);
		vend = end;
		while (vend > p && vend[-1] == ' ')
			vend--;
		if (klen == 0 || klen >= sizeof(key))
			continue;
		memcpy(key, p, klen);
		key[klen] = '\0';
		sp = (sp != NULL) ? sp + 1 : end;
		if (sp > vend)
			sp = vend;
		out = NULL;
		outlen = 0;
		if (strcmp(key, "name") == 0) {
			out = f->name;
			outlen = sizeof(f->name);
		} else if (strcmp(key, "filename") == 0) {
			out = f->filename;
			outlen = sizeof(f->filename);
		} else if (strcmp(key, "version") == 0) {
			out = f->version;
			outlen = sizeof(f->version);
		} else if (strcmp(key, "notes") == 0) {
			out = f->notes;
			outlen = sizeof(f->notes);
		}
		if (out != NULL) {
			if (!meta_value(&e, key, sp, (size_t)(vend - sp), out,
				outlen, outlen - 1) &&
			    (out == f->name || out == f->filename))
				named_bad = 1;
		} else if (strcmp(key, "task_id") == 0 ||
		    strcmp(key, "node_id") == 0) {
			if (!meta_value(&e, key, sp, (size_t)(vend - sp), num,
				sizeof(num), 20))
				continue;
			errno = 0;
			id = strtoll(num, &x, 10);
			if (errno != 0 || *x != '\0' || x == num || id < 1) {
				agentproto_err_add(&e, "", key,
				    AGENTPROTO_C_TYPE, 0, 0, 0, "expected",
				    "id", "task_id and node_id are ids");
				continue;
			}
			if (key[0] == 't')
				f->n.task = id;
			else
				f->n.node = id;
		}
	}
	if (f->name[0] == '\0')
		(void)kore_strlcpy(f->name, f->filename, sizeof(f->name));
	/* No name at all, unless a refused name or filename says why. */
	if (f->name[0] == '\0' && !named_bad)
		agentproto_err_add(&e, "", "name", AGENTPROTO_C_REQUIRED, 0, 0,
		    0, NULL, NULL, "Upload-Metadata needs name or filename");
	if (f->n.task > 0 && f->n.node > 0)
		agentproto_err_add(&e, "", "task_id", AGENTPROTO_C_NOT_ALLOWED,
		    0, 0, 0, NULL, NULL, "give task_id or node_id, not both");
	if (e.nf == 0 && e.lost == 0)
		return (1);
refuse:
	up_headers(req);
	(void)api_error_fields_code(req, "bad_metadata", &e);
	return (0);
}

static int
create_parse(struct http_request *req)
{
	struct api_ctx	   *c = api_ctx_get(req);
	struct create_flow *f;
	struct statvfs	    vfs;
	const char	   *v;
	int64_t		    len;
	char		    msg[128];

	f = api_flow(c, sizeof(*f), NULL);
	if (!http_request_header(req, "tus-resumable", &v) ||
	    strcmp(v, TUS_VERSION) != 0) {
		http_response_header(req, "tus-version", TUS_VERSION);
		return (API_FIN(up_reply(req, 412, "tus_version",
		    "Tus-Resumable: 1.0.0 is required")));
	}
	if (http_request_header(req, "upload-defer-length", &v))
		return (API_FIN(up_reply(req, 400, "bad_request",
		    "Upload-Defer-Length is not supported")));
	if (up_header_int(req, "upload-length", &len) != 1 || len < 1)
		return (API_FIN(up_reply(req, 400, "bad_request",
		    "Upload-Length: a positive number is required")));
	if (len > app.cfg.package_max_bytes) {
		(void)snprintf(msg, sizeof(msg),
		    "Upload-Length is over %" PRId64
		    " bytes (YARD_PACKAGE_MAX_BYTES)",
		    app.cfg.package_max_bytes);
		return (API_FIN(up_reply(req, 413, "too_large", msg)));
	}
	if (!up_meta(req, f))
		return (HTTP_STATE_COMPLETE);
	/* Room for it now (several uploads may still race for the rest). */
	if (statvfs(up_dir, &vfs) == -1 ||
	    (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize < len + UP_DISK_SPARE)
		return (API_FIN(up_reply(req, 507, "insufficient_storage",
		    "not enough free disk space for this upload")));
	f->n.length = len;
	f->n.scope = c->claims.upload;
	f->n.sub = c->claims.sub;
	f->n.name = f->name;
	f->n.version = f->version;
	f->n.notes = f->notes;
	f->n.filename = f->filename;
	f->n.expire = app.cfg.upload_expire;
	f->n.user_max = app.cfg.upload_user_max;
	req->fsm_state = CREATE_STORE;
	return (HTTP_STATE_CONTINUE);
}

static int
create_store(struct http_request *req)
{
	struct api_ctx	   *c = api_ctx_get(req);
	struct create_flow *f = c->flow;
	enum api_step	    s;
	const char	   *id;
	char		    loc[512];

	s = api_store(req, c, store_upload_create(c->q, req, &c->who, &f->n),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) != 1)
		return (API_FIN(up_reply(req, 500, "internal", NULL)));
	if (!store_val_bool(c->q, 0, 0) ||
	    (!f->n.scope && !store_val_bool(c->q, 0, 2)))
		return (API_FIN(up_reply(req, 404, "not_found",
		    f->n.task > 0 ? "no such task" : "no such node")));
	if ((id = api_val(c, 0, 4)) == NULL) {
		if (!f->n.scope && api_val_int(c, 0, 1) < 3)
			return (API_FIN(up_reply(req, 403, "forbidden",
			    "uploading needs manage on the target or the "
			    "packages:upload scope")));
		return (API_FIN(up_reply(req, 413, "quota_exceeded",
		    "your partial uploads would exceed "
		    "YARD_UPLOAD_USER_MAX")));
	}
	(void)snprintf(loc, sizeof(loc), "%s/api/v1/uploads/%s",
	    app.cfg.public_url, id);
	http_response_header(req, "location", loc);
	up_expires(req, api_val_int(c, 0, 5));
	return (API_FIN(up_reply(req, 201, NULL, NULL)));
}

int
api_upload(struct http_request *req)
{
	const char *id = req->path + strlen("/api/v1/uploads/");

	if (!up_id_ok(id))
		return (api_not_found(req));
	if (req->method == HTTP_METHOD_OPTIONS)
		return (api_uploads(req));
	if (req->method != HTTP_METHOD_HEAD && req->method != HTTP_METHOD_GET &&
	    req->method != HTTP_METHOD_PATCH &&
	    req->method != HTTP_METHOD_DELETE)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	return (http_state_run(upload_states, API_NSTATES(upload_states), req));
}

static int
up_begin(struct http_request *req)
{
	return (api_state_begin(req, 0, UP_ROUTE));
}

static int
up_route(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	struct up_flow *f;
	const char     *v;

	f = api_flow(c, sizeof(*f), NULL);
	(void)kore_strlcpy(f->id, req->path + strlen("/api/v1/uploads/"),
	    sizeof(f->id));
	if (req->method != HTTP_METHOD_GET &&
	    (!http_request_header(req, "tus-resumable", &v) ||
		strcmp(v, TUS_VERSION) != 0)) {
		http_response_header(req, "tus-version", TUS_VERSION);
		return (API_FIN(up_reply(req, 412, "tus_version",
		    "Tus-Resumable: 1.0.0 is required")));
	}
	req->fsm_state =
	    req->method == HTTP_METHOD_PATCH ? UP_CHECK : UP_READ_ROW;
	return (HTTP_STATE_CONTINUE);
}

/* HEAD, GET and DELETE read the upload first. */
static int
up_read_row(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	struct up_flow *f = c->flow;
	enum api_step	s;
	const char     *state, *v;
	char		buf[32];
	json_t	       *j;

	s = api_store(req, c,
	    store_upload_get(c->q, req, &c->who, c->claims.upload, f->id),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) != 1)
		return (
		    API_FIN(up_reply(req, 404, "not_found", "no such upload")));
	if (!store_val_bool(c->q, 0, 3))
		return (API_FIN(up_reply(req, 403, "forbidden",
		    "uploading needs manage on the target or the "
		    "packages:upload scope")));
	state = api_val(c, 0, 2);
	if (req->method == HTTP_METHOD_DELETE) {
		if (strcmp(state, "checking") == 0)
			return (API_FIN(up_reply(req, 409, "checking",
			    "the upload is being checked")));
		api_db_clear(c);
		req->fsm_state = UP_DELETE;
		return (HTTP_STATE_CONTINUE);
	}
	if (req->method == HTTP_METHOD_GET) {
		up_headers(req);
		v = api_val(c, 0, 5);
		http_response_header(req, "content-type",
		    "application/json; charset=utf-8");
		http_response_header(req, "cache-control", "no-store");
		http_response(req, 200, v, strlen(v));
		return (HTTP_STATE_COMPLETE);
	}
	/* HEAD */
	http_response_header(req, "upload-offset", api_val(c, 0, 0));
	http_response_header(req, "upload-length", api_val(c, 0, 1));
	http_response_header(req, "yard-upload-state", state);
	if (strcmp(state, "receiving") == 0)
		up_expires(req, api_val_int(c, 0, 4));
	if ((j = api_val_json(c, 0, 5)) != NULL) {
		if (json_is_integer(json_object_get(j, "package_id"))) {
			(void)snprintf(buf, sizeof(buf),
			    "%" JSON_INTEGER_FORMAT,
			    json_integer_value(
				json_object_get(j, "package_id")));
			http_response_header(req, "yard-package-id", buf);
		}
		json_decref(j);
	}
	up_headers(req);
	http_response_header(req, "cache-control", "no-store");
	http_response(req, 200, NULL, 0);
	return (HTTP_STATE_COMPLETE);
}

static int
up_delete(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	struct up_flow *f = c->flow;
	enum api_step	s;
	char		path[1100];

	s = api_store(req, c, store_upload_delete(c->q, req, &c->who, f->id),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) != 1)
		return (API_FIN(up_reply(req, 409, "busy",
		    "the upload is being written or checked")));
	if (up_path(f->id, path, sizeof(path)) && unlink(path) == -1 &&
	    errno != ENOENT)
		kore_log(LOG_WARNING, "upload %s: unlink: %s", f->id, errno_s);
	return (API_FIN(up_reply(req, 204, NULL, NULL)));
}

/* PATCH: the request's shape before the upload is held. */
static int
up_check(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	struct up_flow *f = c->flow;
	const char     *v, *sp;
	char		msg[128];

	if (!http_request_header(req, "content-type", &v) ||
	    strcasecmp(v, "application/offset+octet-stream") != 0)
		return (API_FIN(up_reply(req, 415, "unsupported_media_type",
		    "Content-Type: application/offset+octet-stream")));
	if (up_header_int(req, "upload-offset", &f->offset) != 1)
		return (API_FIN(up_reply(req, 400, "bad_request",
		    "Upload-Offset: a number is required")));
	if ((int64_t)req->http_body_length > app.cfg.upload_chunk_max) {
		(void)snprintf(msg, sizeof(msg),
		    "a chunk is at most %" PRId64
		    " bytes (YARD_UPLOAD_CHUNK_MAX)",
		    app.cfg.upload_chunk_max);
		return (API_FIN(up_reply(req, 413, "too_large", msg)));
	}
	if (http_request_header(req, "upload-checksum", &v)) {
		if ((sp = strchr(v, ' ')) == NULL ||
		    strlen(sp + 1) >= sizeof(f->checksum))
			return (API_FIN(up_reply(req, 400, "bad_checksum",
			    "Upload-Checksum: <algorithm> <base64>")));
		if ((size_t)(sp - v) == 6 && strncmp(v, "sha256", 6) == 0)
			f->algo = ALGO_SHA256;
		else if ((size_t)(sp - v) == 4 && strncmp(v, "sha1", 4) == 0)
			f->algo = ALGO_SHA1;
		else
			return (API_FIN(up_reply(req, 400, "bad_checksum",
			    "checksum algorithms: sha256, sha1")));
		(void)kore_strlcpy(f->checksum, sp + 1, sizeof(f->checksum));
	}
	req->fsm_state = UP_HOLD;
	return (HTTP_STATE_CONTINUE);
}

static int
up_hold(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	struct up_flow *f = c->flow;
	enum api_step	s;
	const char     *state, *hex;
	char		buf[32];

	s = api_store(req, c,
	    store_upload_hold(c->q, req, &c->who, c->claims.upload, f->id,
		f->offset),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) != 1)
		return (
		    API_FIN(up_reply(req, 404, "not_found", "no such upload")));
	state = api_val(c, 0, 3);
	if (!store_val_bool(c->q, 0, 4))
		return (API_FIN(up_reply(req, 403, "forbidden",
		    "uploading needs manage on the target or the "
		    "packages:upload scope")));
	if (strcmp(state, "receiving") != 0) {
		http_response_header(req, "yard-upload-state", state);
		return (API_FIN(
		    up_reply(req, 409, "complete", "the upload is complete")));
	}
	if (store_val_bool(c->q, 0, 7))
		return (API_FIN(
		    up_reply(req, 410, "expired", "the upload expired")));
	if (api_val_int(c, 0, 0) != f->offset) {
		http_response_header(req, "upload-offset", api_val(c, 0, 0));
		return (API_FIN(up_reply(req, 409, "offset_mismatch",
		    "Upload-Offset differs from the upload's offset")));
	}
	if (!store_val_bool(c->q, 0, 5))
		return (API_FIN(up_reply(req, 423, "locked",
		    "another append to this upload is in progress")));
	f->length = api_val_int(c, 0, 1);
	hex = api_val(c, 0, 2);
	if (hex == NULL) {
		(void)SHA256_Init(&f->sha);
	} else if (strlen(hex) != sizeof(f->sha) * 2 ||
	    OPENSSL_hexstr2buf_ex((unsigned char *)&f->sha, sizeof(f->sha),
		NULL, hex, '\0') != 1) {
		f->status = 500;
		(void)kore_strlcpy(f->code, "internal", sizeof(f->code));
		(void)kore_strlcpy(f->message, "bad hash state",
		    sizeof(f->message));
		api_db_clear(c);
		req->fsm_state = UP_RELEASE;
		return (HTTP_STATE_CONTINUE);
	}
	api_db_clear(c);
	f->to = f->offset + (int64_t)req->http_body_length;
	if (f->to > f->length) {
		(void)snprintf(buf, sizeof(buf), "%" PRId64, f->length);
		f->status = 400;
		(void)kore_strlcpy(f->code, "too_long", sizeof(f->code));
		(void)snprintf(f->message, sizeof(f->message),
		    "the chunk goes past Upload-Length (%s)", buf);
		req->fsm_state = UP_RELEASE;
		return (HTTP_STATE_CONTINUE);
	}
	req->fsm_state = UP_APPEND;
	return (HTTP_STATE_CONTINUE);
}

/* The append, on the event loop: at most one chunk, written, hashed and
 * fsync'd (docs/packages.md, "Uploads", has the measured cost). */
static int
up_append(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	struct up_flow *f = c->flow;
	SHA256_CTX	chunk256;
	SHA_CTX		chunk1;
	unsigned char	md[SHA256_DIGEST_LENGTH];
	char		path[1100], b64[64];
	ssize_t		n, w, off;
	int64_t		total;
	int		fd, saved;

	if (!up_path(f->id, path, sizeof(path)))
		goto fail;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) == -1)
		goto fail;
	/* Bytes past the committed offset (a crash between write and
	 * commit) are not the upload's. */
	if (ftruncate(fd, (off_t)f->offset) == -1 ||
	    lseek(fd, (off_t)f->offset, SEEK_SET) == -1)
		goto fail_fd;
	(void)SHA256_Init(&chunk256);
	(void)SHA1_Init(&chunk1);
	total = 0;
	for (;;) {
		if ((n = http_body_read(req, up_buf, sizeof(up_buf))) == -1)
			goto fail_fd;
		if (n == 0)
			break;
		if (f->algo == ALGO_SHA256)
			(void)SHA256_Update(&chunk256, up_buf, (size_t)n);
		else if (f->algo == ALGO_SHA1)
			(void)SHA1_Update(&chunk1, up_buf, (size_t)n);
		(void)SHA256_Update(&f->sha, up_buf, (size_t)n);
		for (off = 0; off < n; off += w) {
			w = write(fd, up_buf + off, (size_t)(n - off));
			if (w == -1 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0)
				goto fail_fd;
		}
		total += n;
	}
	if (total != f->to - f->offset)
		goto fail_fd;
	if (f->algo != ALGO_NONE) {
		if (f->algo == ALGO_SHA256)
			(void)SHA256_Final(md, &chunk256);
		else
			(void)SHA1_Final(md, &chunk1);
		(void)EVP_EncodeBlock((unsigned char *)b64, md,
		    f->algo == ALGO_SHA256 ? SHA256_DIGEST_LENGTH
					   : SHA_DIGEST_LENGTH);
		if (strcmp(b64, f->checksum) != 0) {
			if (ftruncate(fd, (off_t)f->offset) == -1)
				kore_log(LOG_ERR, "upload %s: ftruncate: %s",
				    f->id, errno_s);
			(void)close(fd);
			f->status = 460;
			(void)kore_strlcpy(f->code, "checksum_mismatch",
			    sizeof(f->code));
			(void)kore_strlcpy(f->message,
			    "Upload-Checksum does not match the chunk; "
			    "nothing was appended",
			    sizeof(f->message));
			req->fsm_state = UP_RELEASE;
			return (HTTP_STATE_CONTINUE);
		}
	}
	if (fsync(fd) == -1)
		goto fail_fd;
	(void)close(fd);
	if (OPENSSL_buf2hexstr_ex(f->sha_hex, sizeof(f->sha_hex), NULL,
		(unsigned char *)&f->sha, sizeof(f->sha), '\0') != 1)
		goto fail;
	req->fsm_state = UP_COMMIT;
	return (HTTP_STATE_CONTINUE);

fail_fd:
	saved = errno;
	if (ftruncate(fd, (off_t)f->offset) == -1)
		kore_log(LOG_ERR, "upload %s: ftruncate: %s", f->id, errno_s);
	(void)close(fd);
	errno = saved;
fail:
	kore_log(LOG_ERR, "upload %s: append: %s", f->id, errno_s);
	f->status = errno == ENOSPC || errno == EDQUOT ? 507 : 500;
	(void)kore_strlcpy(f->code,
	    f->status == 507 ? "insufficient_storage" : "internal",
	    sizeof(f->code));
	(void)kore_strlcpy(f->message, "the chunk could not be stored",
	    sizeof(f->message));
	req->fsm_state = UP_RELEASE;
	return (HTTP_STATE_CONTINUE);
}

static int
up_release(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	struct up_flow *f = c->flow;
	enum api_step	s;

	s = api_store(req, c, store_upload_release(c->q, req, f->id), NULL);
	if (s != API_GO)
		return (api_state(s));
	api_db_clear(c);
	return (API_FIN(up_reply(req, f->status, f->code, f->message)));
}

static int
up_commit(struct http_request *req)
{
	struct api_ctx *c = api_ctx_get(req);
	struct up_flow *f = c->flow;
	enum api_step	s;
	int		complete;
	size_t		i;
	char		buf[32], hex[65];
	unsigned char	md[SHA256_DIGEST_LENGTH];
	SHA256_CTX	fin;

	complete = f->to == f->length;
	s = api_store(req, c,
	    store_upload_commit(c->q, req, f->id, f->offset, f->to, f->sha_hex,
		complete, app.cfg.upload_expire),
	    NULL);
	if (s != API_GO)
		return (api_state(s));
	if (api_rows(c) != 1)
		return (API_FIN(up_reply(req, 409, "lost",
		    "the upload expired or was terminated meanwhile")));
	(void)snprintf(buf, sizeof(buf), "%" PRId64, f->to);
	http_response_header(req, "upload-offset", buf);
	if (complete) {
		fin = f->sha;
		(void)SHA256_Final(md, &fin);
		(void)OPENSSL_buf2hexstr_ex(hex, sizeof(hex), NULL, md,
		    sizeof(md), '\0');
		for (i = 0; hex[i] != '\0'; i++)
			hex[i] = (char)tolower((unsigned char)hex[i]);
		up_check_start(f->id, hex);
		http_response_header(req, "yard-upload-state", "checking");
	} else {
		up_expires(req, api_val_int(c, 0, 0));
	}
	api_db_clear(c);
	return (API_FIN(up_reply(req, 204, NULL, NULL)));
}

/*
 * The check: a Kore task (a thread of this worker, under its seccomp
 * filter); the verdict is recorded by a background statement, whoever
 * still waits for it reads it with HEAD or GET.
 */
static void
up_check_start(const char *id, const char *sha256)
{
	struct up_check *k;

	k = kore_calloc(1, sizeof(*k));
	(void)kore_strlcpy(k->id, id, sizeof(k->id));
	(void)kore_strlcpy(k->sha256, sha256, sizeof(k->sha256));
	(void)up_path(id, k->path, sizeof(k->path));
	if (snprintf(k->dest, sizeof(k->dest), "%s/%.2s/%s", up_pkgdir, sha256,
		sha256) >= (int)sizeof(k->dest))
		k->dest[0] = '\0';
	pkg_limits_init(&k->lim);
	k->lim.max_entries = (uint64_t)app.cfg.package_max_entries;
	k->lim.max_unpacked = (uint64_t)app.cfg.package_max_unpacked;
	k->lim.max_ratio = (uint32_t)app.cfg.package_max_ratio;
	(void)kore_strlcpy(k->lim.charset, app.cfg.package_name_charset,
	    sizeof(k->lim.charset));
	k->lim.hash_package = 0;
	kore_task_create(&k->task, up_check_run);
	kore_task_bind_callback(&k->task, up_check_done);
	kore_task_run(&k->task);
}

/* The thread: check, then move into the store or remove. */
static int
up_check_run(struct kore_task *t)
{
	struct up_check *k = (struct up_check *)t;

	if (pkg_check_file(k->path, &k->lim, &k->res) == PKG_OK) {
		/* An identical package replaces itself: same bytes. */
		if (rename(k->path, k->dest) == 0)
			k->moved = 1;
		else
			(void)snprintf(k->err, sizeof(k->err), "rename: %s",
			    strerror(errno));
	}
	if (!k->moved)
		(void)unlink(k->path);
	return (KORE_RESULT_OK);
}

static void
up_check_done(struct kore_task *t)
{
	struct up_check		   *k = (struct up_check *)t;
	struct store_upload_verdict v;
	char			   *manifest = NULL;

	if (kore_task_state(t) != KORE_TASK_STATE_FINISHED)
		return;
	memset(&v, 0, sizeof(v));
	v.id = k->id;
	v.expire = app.cfg.upload_expire;
	if (k->moved) {
		manifest = json_dumps(k->res.manifest, JSON_COMPACT);
		v.ok = manifest != NULL;
		v.sha256 = k->sha256;
		v.entries = (int64_t)k->res.entries;
		v.manifest = manifest;
	}
	if (!v.ok) {
		v.reason = k->err[0] != '\0' || k->res.rule == PKG_OK
		    ? "error"
		    : pkg_rule_code(k->res.rule);
		v.entry = k->res.entry;
		v.message = k->err[0] != '\0' ? k->err : k->res.message;
	}
	if (!store_upload_verdict(&v, NULL, up_verdict_done))
		kore_log(LOG_ERR,
		    "upload %s: verdict not recorded (PostgreSQL away); "
		    "the expiry duty rejects it later",
		    k->id);
	free(manifest);
	/* Not from inside Kore's task handler. */
	kore_timer_add(up_check_free, 0, k, KORE_TIMER_ONESHOT);
}

static void
up_check_free(void *arg, uint64_t now)
{
	struct up_check *k = arg;

	kore_task_destroy(&k->task);
	pkg_result_cleanup(&k->res);
	kore_free(k);
}

static void
up_verdict_done(int ok, int64_t pkg, void *arg)
{
	if (!ok)
		kore_log(LOG_ERR, "upload: verdict not recorded");
}

/*
 * Files whose upload is gone (expired, terminated, or a crash between
 * the row and the file) are removed: worker 1 of every instance lists its
 * upload directory and asks which are still wanted.
 */
static json_t *sweep_names;

static void
up_sweep(void *arg, uint64_t now)
{
	DIR	      *d;
	struct dirent *e;
	char	      *text;

	if (sweep_names != NULL || (d = opendir(up_dir)) == NULL)
		return;
	sweep_names = json_array();
	while ((e = readdir(d)) != NULL &&
	    json_array_size(sweep_names) < UP_SWEEP_MAX) {
		if (up_id_ok(e->d_name))
			json_array_append_new(sweep_names,
			    json_string(e->d_name));
	}
	(void)closedir(d);
	if (json_array_size(sweep_names) == 0 ||
	    (text = json_dumps(sweep_names, JSON_COMPACT)) == NULL) {
		json_decref(sweep_names);
		sweep_names = NULL;
		return;
	}
	if (!store_uploads_live(text, NULL, up_sweep_done)) {
		json_decref(sweep_names);
		sweep_names = NULL;
	}
	free(text);
}

static void
up_sweep_done(int ok, const char *live, void *arg)
{
	json_t	   *l, *v;
	size_t	    i, j;
	const char *name;
	char	    path[1100];
	int	    keep;

	if (ok && (l = json_loads(live, 0, NULL)) != NULL) {
		json_array_foreach(sweep_names, i, v)
		{
			name = json_string_value(v);
			keep = 0;
			for (j = 0; j < json_array_size(l); j++) {
				if (strcmp(name,
					json_string_value(
					    json_array_get(l, j))) == 0)
					keep = 1;
			}
			if (!keep && up_path(name, path, sizeof(path)) &&
			    unlink(path) == 0)
				kore_log(LOG_INFO,
				    "upload %s: file removed (expired or "
				    "terminated)",
				    name);
		}
		json_decref(l);
	}
	json_decref(sweep_names);
	sweep_names = NULL;
}
