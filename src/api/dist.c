/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The agent's packages, for a new node to install before it has any
 * credential: /agent/v1/dist lists them (name, version, architecture,
 * size, SHA-256), /agent/v1/dist/<name> answers the bytes and
 * /agent/v1/dist/<name>.sha256 a line for sha256sum -c.  None is secret;
 * the install line the Nodes page shows carries the SHA-256, so a copy
 * that changed on the way is refused on the node.
 *
 * The parent reads YARD_AGENT_DIST_DIR once at start-up (the files are
 * small and workers are sandboxed): only yard-agent_<version>_<arch>.deb
 * regular files are taken, the rest is skipped with a log line.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "app.h"
#include "api/api.h"

#define DIST_FILES_MAX 8
#define DIST_FILE_MAX  (64 * 1024 * 1024)
#define DIST_NAME_MAX  96

struct dist_file {
	char   name[DIST_NAME_MAX]; /* yard-agent_0.1.0-1_amd64.deb */
	char   version[DIST_NAME_MAX];
	char   arch[32];
	char   sha256[65];
	char  *data;
	size_t len;
};

static int		       dist_name(const char *, struct dist_file *);
static int		       dist_add(const char *, const char *);
static const struct dist_file *dist_find(const char *, size_t);

static struct dist_file dist_files[DIST_FILES_MAX];
static size_t		dist_nfiles;

/*
 * yard-agent_<version>_<arch>.deb, as dpkg names a package file: version
 * of [0-9A-Za-z.+~-] starting with a digit, arch of [0-9a-z-].
 */
static int
dist_name(const char *name, struct dist_file *f)
{
	const char *v, *a, *e;
	size_t	    n;

	n = strlen(name);
	if (n >= sizeof(f->name) || strncmp(name, "yard-agent_", 11) != 0 ||
	    n < 16 || strcmp(name + n - 4, ".deb") != 0)
		return (0);
	v = name + 11;
	if ((a = strchr(v, '_')) == NULL || a == v || *v < '0' || *v > '9')
		return (0);
	e = name + n - 4;
	if (a + 1 >= e || memchr(a + 1, '_', (size_t)(e - a - 1)) != NULL ||
	    (size_t)(e - a - 1) >= sizeof(f->arch))
		return (0);
	if (strspn(v,
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz.+~-") != (size_t)(a - v))
		return (0);
	if (strspn(a + 1, "0123456789abcdefghijklmnopqrstuvwxyz-") !=
	    (size_t)(e - a - 1))
		return (0);
	(void)kore_strlcpy(f->name, name, sizeof(f->name));
	(void)snprintf(f->version, sizeof(f->version), "%.*s", (int)(a - v), v);
	(void)snprintf(f->arch, sizeof(f->arch), "%.*s", (int)(e - a - 1),
	    a + 1);
	return (1);
}

/* Read one file of the directory; 1 when taken. */
static int
dist_add(const char *dir, const char *name)
{
	struct dist_file *f;
	struct stat	  st;
	char		  path[1200];
	uint8_t		  md[32];
	unsigned int	  mdlen, i;
	ssize_t		  r;
	size_t		  have;
	int		  fd;

	if (dist_nfiles == DIST_FILES_MAX) {
		kore_log(LOG_WARNING,
		    "dist: more than %d packages in %s: "
		    "%s skipped",
		    DIST_FILES_MAX, dir, name);
		return (0);
	}
	f = &dist_files[dist_nfiles];
	memset(f, 0, sizeof(*f));
	if (!dist_name(name, f)) {
		kore_log(LOG_NOTICE,
		    "dist: %s/%s is not named "
		    "yard-agent_<version>_<arch>.deb: skipped",
		    dir, name);
		return (0);
	}
	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > DIST_FILE_MAX) {
		kore_log(LOG_WARNING,
		    "dist: %s: not a regular file of 1 B "
		    "to %d MiB: skipped",
		    path, DIST_FILE_MAX >> 20);
		if (fd != -1)
			(void)close(fd);
		return (0);
	}
	f->len = (size_t)st.st_size;
	f->data = kore_malloc(f->len);
	for (have = 0; have < f->len; have += (size_t)r) {
		r = read(fd, f->data + have, f->len - have);
		if (r <= 0) {
			if (r == -1 && errno == EINTR) {
				r = 0;
				continue;
			}
			fatal("dist: cannot read %s: %s", path,
			    r == 0 ? "short read" : errno_s);
		}
	}
	(void)close(fd);
	mdlen = sizeof(md);
	if (!EVP_Digest(f->data, f->len, md, &mdlen, EVP_sha256(), NULL))
		fatal("dist: sha256 failed");
	for (i = 0; i < 32; i++)
		(void)snprintf(f->sha256 + i * 2, 3, "%02x", md[i]);
	dist_nfiles++;
	return (1);
}

void
api_dist_load(void)
{
	const char    *dir = app.cfg.agent_dist_dir;
	struct dirent *de;
	DIR	      *d;

	if (dir[0] == '\0')
		return;
	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT)
			fatal("YARD_AGENT_DIST_DIR: cannot read %s: %s", dir,
			    errno_s);
		kore_log(LOG_NOTICE, "dist: no %s: no agent package to offer",
		    dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		(void)dist_add(dir, de->d_name);
	}
	(void)closedir(d);
	kore_log(LOG_NOTICE, "dist: %zu agent package(s) from %s", dist_nfiles,
	    dir);
}

static const struct dist_file *
dist_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < dist_nfiles; i++) {
		if (strlen(dist_files[i].name) == len &&
		    memcmp(dist_files[i].name, name, len) == 0)
			return (&dist_files[i]);
	}
	return (NULL);
}

size_t
api_dist_count(void)
{
	return (dist_nfiles);
}

/* Package i's members for a listing or an enrolment's install line. */
json_t *
api_dist_item(size_t i)
{
	const struct dist_file *f = &dist_files[i];
	char			url[1300];

	(void)snprintf(url, sizeof(url), "%s/agent/v1/dist/%s",
	    app.cfg.public_url, f->name);
	return (json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "name", f->name,
	    "version", f->version, "arch", f->arch, "size", (json_int_t)f->len,
	    "sha256", f->sha256, "url", url));
}

/* GET or HEAD /agent/v1/dist, /agent/v1/dist/<name>[.sha256]: public. */
int
api_agent_dist(struct http_request *req)
{
	const struct dist_file *f;
	const char	       *p = req->path + strlen("/agent/v1/dist");
	json_t		       *items, *it;
	char			line[256];
	size_t			i, n;
	int			sum;

	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD)
		return (api_error(req, 405, "method_not_allowed", NULL, NULL));
	http_response_header(req, "cache-control", "no-cache");
	if (*p == '\0' || strcmp(p, "/") == 0) {
		if ((items = json_array()) == NULL)
			return (api_error(req, 500, "internal", NULL, NULL));
		for (i = 0; i < dist_nfiles; i++) {
			if ((it = api_dist_item(i)) == NULL ||
			    json_array_append_new(items, it) == -1) {
				json_decref(items);
				return (api_error(req, 500, "internal", NULL,
				    NULL));
			}
		}
		return (api_reply_json(req, 200,
		    json_pack("{s:o}", "items", items)));
	}
	p++;
	n = strlen(p);
	sum = n > 7 && strcmp(p + n - 7, ".sha256") == 0;
	if ((f = dist_find(p, sum ? n - 7 : n)) == NULL)
		return (api_error(req, 404, "not_found",
		    "no such agent package here (GET /agent/v1/dist lists them)",
		    NULL));
	if (sum) {
		(void)snprintf(line, sizeof(line), "%s  %s\n", f->sha256,
		    f->name);
		http_response_header(req, "content-type",
		    "text/plain; charset=utf-8");
		http_response(req, 200, line, strlen(line));
		return (KORE_RESULT_OK);
	}
	http_response_header(req, "content-type",
	    "application/vnd.debian.binary-package");
	(void)snprintf(line, sizeof(line), "attachment; filename=\"%s\"",
	    f->name);
	http_response_header(req, "content-disposition", line);
	http_response(req, 200, f->data, f->len);
	return (KORE_RESULT_OK);
}
