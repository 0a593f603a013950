/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Module pages and their assets.  The parent reads frontend-fragments/ once
 * at start-up into memory (workers are sandboxed and the files are small),
 * so serving is a table lookup with an ETag.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <jansson.h>

#include "app.h"
#include "api/api.h"

#define UI_FILES_MAX 512
#define UI_BYTES_MAX (32 * 1024 * 1024)
#define UI_DEPTH_MAX 4

struct ui_file {
	char	   *path; /* "shared/bridge.js" */
	char	   *data;
	size_t	    len;
	const char *type;
	char	    etag[24];
};

static void	       ui_walk(const char *, const char *, int);
static void	       ui_add(const char *, char *, size_t);
static const char     *ui_type(const char *);
static struct ui_file *ui_find(const char *);
static void	       ui_etag(struct ui_file *);
static int	       ui_send(struct http_request *, struct ui_file *, int);
static char *ui_page_render(const char *, const char *, size_t, size_t *);

static struct ui_file ui_files[UI_FILES_MAX];
static size_t	      ui_nfiles;
static size_t	      ui_bytes;

static const char *ui_missing =
    "<!doctype html><meta charset=\"utf-8\"><title>Yard</title>"
    "<p>This Yard module is not available in this version. / "
    "此版本尚未提供该模块。</p>";

static const char *
ui_type(const char *path)
{
	const char *dot;

	if ((dot = strrchr(path, '.')) == NULL)
		return (NULL);
	if (strcmp(dot, ".html") == 0)
		return ("text/html; charset=utf-8");
	if (strcmp(dot, ".js") == 0)
		return ("text/javascript; charset=utf-8");
	if (strcmp(dot, ".css") == 0)
		return ("text/css; charset=utf-8");
	if (strcmp(dot, ".svg") == 0)
		return ("image/svg+xml");
	if (strcmp(dot, ".png") == 0)
		return ("image/png");
	if (strcmp(dot, ".json") == 0)
		return ("application/json");
	if (strcmp(dot, ".woff2") == 0)
		return ("font/woff2");
	return (NULL);
}

static void
ui_etag(struct ui_file *f)
{
	uint64_t h = 1469598103934665603ULL;
	size_t	 i;

	for (i = 0; i < f->len; i++) {
		h ^= (unsigned char)f->data[i];
		h *= 1099511628211ULL;
	}
	snprintf(f->etag, sizeof(f->etag), "\"%016" PRIx64 "\"", h);
}

static void
ui_add(const char *rel, char *data, size_t len)
{
	struct ui_file *f;

	if (ui_nfiles == UI_FILES_MAX)
		fatal("ui: more than %d files in frontend-fragments",
		    UI_FILES_MAX);
	ui_bytes += len;
	if (ui_bytes > UI_BYTES_MAX)
		fatal("ui: frontend-fragments is larger than %d bytes",
		    UI_BYTES_MAX);
	f = &ui_files[ui_nfiles++];
	f->path = kore_strdup(rel);
	f->data = data;
	f->len = len;
	f->type = ui_type(rel);
	ui_etag(f);
}

static void
ui_walk(const char *root, const char *rel, int depth)
{
	DIR	      *d;
	struct dirent *de;
	struct stat    st;
	char	       dir[1024], path[1400], sub[512], *data;
	size_t	       len;

	if (depth > UI_DEPTH_MAX)
		return;
	snprintf(dir, sizeof(dir), "%s%s%s", root, *rel ? "/" : "", rel);
	if ((d = opendir(dir)) == NULL)
		fatal("ui: %s: %s", dir, errno_s);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "",
		    de->d_name);
		if (lstat(path, &st) == -1)
			fatal("ui: %s: %s", path, errno_s);
		if (S_ISDIR(st.st_mode)) {
			ui_walk(root, sub, depth + 1);
			continue;
		}
		if (!S_ISREG(st.st_mode) || ui_type(sub) == NULL)
			continue;
		if ((data = app_file_read(path, UI_BYTES_MAX, &len)) == NULL)
			fatal("ui: %s: %s", path, errno_s);
		ui_add(sub, data, len);
	}
	closedir(d);
}

/* index.html with {{YARD_CONFIG}} replaced by attribute-escaped JSON. */
static char *
ui_page_render(const char *module, const char *html, size_t len, size_t *outlen)
{
	static const char mark[] = "{{YARD_CONFIG}}";
	struct kore_buf	  b;
	json_t		 *cfg, *origins;
	char		 *js, *p, *out;
	const char	 *at;
	size_t		  i;

	origins = json_array();
	for (i = 0; i < app.norigins; i++)
		json_array_append_new(origins, json_string(app.origins[i]));
	cfg = json_pack("{s:s, s:o, s:s, s:s, s:s, s:s}", "module", module,
	    "ewsOrigins", origins, "loginUrl", app.cfg.ews_login_url,
	    "returnParam", app.cfg.ews_return_param, "apiBase", "/api/v1",
	    "version", APP_VERSION);
	if (cfg == NULL || (js = json_dumps(cfg, JSON_COMPACT)) == NULL)
		fatal("ui: cannot build the page configuration");
	json_decref(cfg);

	kore_buf_init(&b, len + 512);
	if ((at = strstr(html, mark)) == NULL) {
		kore_buf_append(&b, html, len);
	} else {
		kore_buf_append(&b, html, (size_t)(at - html));
		for (p = js; *p != '\0'; p++) {
			switch (*p) {
			case '&':
				kore_buf_append(&b, "&amp;", 5);
				break;
			case '"':
				kore_buf_append(&b, "&quot;", 6);
				break;
			case '<':
				kore_buf_append(&b, "&lt;", 4);
				break;
			case '>':
				kore_buf_append(&b, "&gt;", 4);
				break;
			case '\'':
				kore_buf_append(&b, "&#39;", 5);
				break;
			default:
				kore_buf_append(&b, p, 1);
			}
		}
		at += sizeof(mark) - 1;
		kore_buf_append(&b, at, len - (size_t)(at - html));
	}
	free(js);
	*outlen = b.offset;
	out = kore_malloc(b.offset + 1);
	memcpy(out, b.data, b.offset);
	out[b.offset] = '\0';
	kore_buf_cleanup(&b);
	return (out);
}

void
api_ui_load(void)
{
	char		root[1024], name[256], *data;
	size_t		i, n, len, rlen;
	struct ui_file *f;

	snprintf(root, sizeof(root), "%s/frontend-fragments", app.cfg.home);
	ui_walk(root, "", 0);

	/* Pages: "<module>/index.html" becomes "page:<module>". */
	n = ui_nfiles;
	for (i = 0; i < n; i++) {
		f = &ui_files[i];
		len = strlen(f->path);
		if (len <= 11 || strcmp(f->path + len - 11, "/index.html") != 0)
			continue;
		if (len - 11 >= sizeof(name) || memchr(f->path, '/', len - 11))
			continue;
		memcpy(name, f->path, len - 11);
		name[len - 11] = '\0';
		data = ui_page_render(name, f->data, f->len, &rlen);
		snprintf(root, sizeof(root), "page:%s", name);
		ui_add(root, data, rlen);
		ui_files[ui_nfiles - 1].type = "text/html; charset=utf-8";
	}

	/* An operator's theme replaces ours (SPEC 3.4). */
	if (app.cfg.theme_css != NULL && (f = ui_find("shared/theme.css"))) {
		if ((data = app_file_read(app.cfg.theme_css, 1024 * 1024,
			 &len)) == NULL)
			fatal("YARD_THEME_CSS: %s: %s", app.cfg.theme_css,
			    errno_s);
		f->data = data;
		f->len = len;
		ui_etag(f);
	}
	kore_log(LOG_INFO, "ui: %zu files, %zu bytes", ui_nfiles, ui_bytes);
}

static struct ui_file *
ui_find(const char *path)
{
	size_t i;

	for (i = 0; i < ui_nfiles; i++) {
		if (strcmp(ui_files[i].path, path) == 0)
			return (&ui_files[i]);
	}
	return (NULL);
}

static int
ui_send(struct http_request *req, struct ui_file *f, int page)
{
	const char *inm;

	if (page) {
		/* Framed by EWS only (SPEC 3.4); no X-Frame-Options. */
		http_response_header(req, "content-security-policy",
		    app.csp_page);
		http_response_header(req, "referrer-policy", "same-origin");
	}
	http_response_header(req, "x-content-type-options", "nosniff");
	http_response_header(req, "cache-control", "no-cache");
	http_response_header(req, "etag", f->etag);
	if (http_request_header(req, "if-none-match", &inm) &&
	    strcmp(inm, f->etag) == 0) {
		http_response(req, 304, NULL, 0);
		return (KORE_RESULT_OK);
	}
	http_response_header(req, "content-type", f->type);
	http_response(req, 200,
	    req->method == HTTP_METHOD_HEAD ? NULL : f->data,
	    req->method == HTTP_METHOD_HEAD ? 0 : f->len);
	return (KORE_RESULT_OK);
}

int
api_ui_page(struct http_request *req)
{
	struct ui_file *f;
	const char     *slash;
	char		key[64];

	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	if (strlen(req->path) > 4 + 52 || strcmp(req->path + 4, "static") == 0)
		goto missing;
	/*
	 * /ui/<module>/<id> (the route allows only digits after the slash):
	 * the module's page, which opens that object (a package, a task, a
	 * node; the deep links of the menu, notifications and e-mails).
	 */
	if ((slash = strchr(req->path + 4, '/')) != NULL)
		snprintf(key, sizeof(key), "page:%.*s",
		    (int)(slash - (req->path + 4)), req->path + 4);
	else
		snprintf(key, sizeof(key), "page:%s", req->path + 4);
	if ((f = ui_find(key)) == NULL)
		goto missing;
	return (ui_send(req, f, 1));

missing:
	http_response_header(req, "content-security-policy", app.csp_page);
	http_response_header(req, "content-type", "text/html; charset=utf-8");
	http_response(req, 404, ui_missing, strlen(ui_missing));
	return (KORE_RESULT_OK);
}

int
api_ui_static(struct http_request *req)
{
	struct ui_file *f;
	const char     *p;

	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	p = req->path + strlen("/ui/static/");
	/* Only files loaded at start-up exist, so ".." finds nothing. */
	if (strncmp(p, "page:", 5) == 0 || (f = ui_find(p)) == NULL) {
		http_response(req, 404, NULL, 0);
		return (KORE_RESULT_OK);
	}
	return (ui_send(req, f, 0));
}
