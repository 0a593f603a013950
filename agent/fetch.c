/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * agent_rel_fetch(): a package from the server, into <file>.part with
 * Range resume, checked against its SHA-256, then renamed to <file>.
 * A blocking libcurl easy transfer: it runs in a child of the agent
 * (agent/deploy.c), never in the event loop.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "agent.h"
#include "release.h"

#define FETCH_TRIES	 5 /* attempts, each resuming where the last ended */
#define FETCH_STALL_SECS 60 /* below 1 byte/s for this long: give up */
#define FETCH_STEP	 (1024 * 1024) /* bytes between progress calls */
#define HASH_BUF	 (256 * 1024)
#define ERRBODY_MAX	 256

struct fetch {
	int		   fd;
	CURL		  *easy;
	uint64_t	   have; /* bytes in the .part file */
	uint64_t	   size;
	uint64_t	   next;
	long		   status;
	int		   started;
	int		   ioerr;
	int		   toolong;
	char		   errbody[ERRBODY_MAX + 1];
	size_t		   errlen;
	agent_rel_progress progress;
	void		  *arg;
};

static int say(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static size_t fetch_write(char *, size_t, size_t, void *);
static int    sha256_file(int, char *);

static int
say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || len == 0)
		return (0);
	va_start(ap, fmt);
	(void)vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return (0);
}

static size_t
fetch_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct fetch *f = arg;
	size_t	      n, off;
	ssize_t	      w;

	n = size * nmemb;
	if (!f->started) {
		f->started = 1;
		(void)curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE,
		    &f->status);
		/* 200 to a Range request: the whole file again. */
		if (f->status == 200 && f->have > 0) {
			if (ftruncate(f->fd, 0) == -1) {
				f->ioerr = errno;
				return (0);
			}
			f->have = 0;
		}
	}
	if (f->status != 200 && f->status != 206) {
		off = ERRBODY_MAX - f->errlen;
		if (off > n)
			off = n;
		memcpy(f->errbody + f->errlen, ptr, off);
		f->errlen += off;
		f->errbody[f->errlen] = '\0';
		return (n);
	}
	if (f->have + n > f->size) {
		f->toolong = 1;
		return (0);
	}
	for (off = 0; off < n; off += (size_t)w) {
		w = pwrite(f->fd, ptr + off, n - off, (off_t)(f->have + off));
		if (w == -1 && errno == EINTR) {
			w = 0;
			continue;
		}
		if (w <= 0) {
			f->ioerr = w == 0 ? EIO : errno;
			return (0);
		}
	}
	f->have += n;
	if (f->progress != NULL && f->have >= f->next) {
		f->next = f->have + FETCH_STEP;
		f->progress(f->arg, "download",
		    f->size == 0 ? 100 : (int)(f->have * 100 / f->size));
	}
	return (n);
}

/* The SHA-256 of what fd holds, in hex into out[65]: 1, or 0. */
static int
sha256_file(int fd, char *out)
{
	static const char digits[] = "0123456789abcdef";
	EVP_MD_CTX	 *md;
	unsigned char	  d[EVP_MAX_MD_SIZE];
	unsigned char	 *buf;
	unsigned int	  dlen, i;
	off_t		  off;
	ssize_t		  n;
	int		  ok;

	ok = 0;
	buf = malloc(HASH_BUF);
	md = EVP_MD_CTX_new();
	if (buf == NULL || md == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto done;
	for (off = 0;; off += n) {
		n = pread(fd, buf, HASH_BUF, off);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n < 0)
			goto done;
		if (n == 0)
			break;
		if (EVP_DigestUpdate(md, buf, (size_t)n) != 1)
			goto done;
	}
	if (EVP_DigestFinal_ex(md, d, &dlen) != 1 || dlen != 32)
		goto done;
	for (i = 0; i < 32; i++) {
		out[i * 2] = digits[d[i] >> 4];
		out[i * 2 + 1] = digits[d[i] & 15];
	}
	out[64] = '\0';
	ok = 1;
done:
	EVP_MD_CTX_free(md);
	free(buf);
	return (ok);
}

int
agent_rel_fetch(const char *server, int64_t node_id, const char *secret,
    const char *sha256, int64_t size, const char *file,
    agent_rel_progress progress, void *arg, char *why, size_t len)
{
	struct curl_slist *hdrs;
	struct fetch	   f;
	struct stat	   st;
	CURLcode	   rc;
	char part[PATH_MAX], dir[PATH_MAX], url[AGENT_URL_MAX + 128];
	char auth[AGENTPROTO_AUTH_MAX + 1];
	char hdr[AGENTPROTO_AUTH_MAX + 32], got[65];
	char errbuf[CURL_ERROR_SIZE], *slash;
	int  ok, tries, i;

	if (why != NULL && len > 0)
		why[0] = '\0';
	memset(&f, 0, sizeof(f));
	f.fd = -1;
	hdrs = NULL;
	ok = 0;
	errbuf[0] = '\0';
	for (i = 0; sha256[i] != '\0'; i++) {
		if (!((sha256[i] >= '0' && sha256[i] <= '9') ||
			(sha256[i] >= 'a' && sha256[i] <= 'f')))
			break;
	}
	if (i != 64 || sha256[i] != '\0' || size < 0)
		return (say(why, len, "bad package reference"));
	if (!agent_url_valid(server) ||
	    snprintf(url, sizeof(url), "%s/agent/v1/packages/%s", server,
		sha256) >= (int)sizeof(url))
		return (say(why, len, "bad server URL"));
	if (snprintf(part, sizeof(part), "%s.part", file) >=
		(int)sizeof(part) ||
	    snprintf(dir, sizeof(dir), "%s", file) >= (int)sizeof(dir) ||
	    (slash = strrchr(dir, '/')) == NULL)
		return (say(why, len, "%s: bad download path", file));
	*slash = '\0';
	if (dir[0] == '\0')
		(void)snprintf(dir, sizeof(dir), "/");

	if ((f.fd = open(part, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		 0600)) == -1 ||
	    fstat(f.fd, &st) == -1) {
		(void)say(why, len, "cannot write %s: %s", part,
		    strerror(errno));
		goto done;
	}
	f.have = (uint64_t)st.st_size;
	f.size = (uint64_t)size;
	if (f.have > f.size) {
		if (ftruncate(f.fd, 0) == -1) {
			(void)say(why, len, "cannot write %s: %s", part,
			    strerror(errno));
			goto done;
		}
		f.have = 0;
	}
	if (!agent_rel_space(dir, f.size - f.have, why, len))
		goto done;
	f.progress = progress;
	f.arg = arg;

	if (f.have < f.size) {
		if (!agentproto_auth_format(auth, sizeof(auth), node_id,
			secret)) {
			(void)say(why, len, "bad node credentials");
			goto done;
		}
		(void)snprintf(hdr, sizeof(hdr), "Authorization: %s", auth);
		explicit_bzero(auth, sizeof(auth));
		hdrs = curl_slist_append(NULL, hdr);
		explicit_bzero(hdr, sizeof(hdr));
		if (hdrs == NULL || (f.easy = curl_easy_init()) == NULL) {
			(void)say(why, len, "out of memory");
			goto done;
		}
		(void)curl_easy_setopt(f.easy, CURLOPT_URL, url);
		(void)curl_easy_setopt(f.easy, CURLOPT_HTTPHEADER, hdrs);
		(void)curl_easy_setopt(f.easy, CURLOPT_WRITEFUNCTION,
		    fetch_write);
		(void)curl_easy_setopt(f.easy, CURLOPT_WRITEDATA, &f);
		(void)curl_easy_setopt(f.easy, CURLOPT_ERRORBUFFER, errbuf);
		(void)curl_easy_setopt(f.easy, CURLOPT_NOSIGNAL, 1L);
		(void)curl_easy_setopt(f.easy, CURLOPT_CONNECTTIMEOUT,
		    (long)AGENT_CONNECT_TIMEOUT);
		(void)curl_easy_setopt(f.easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
		(void)curl_easy_setopt(f.easy, CURLOPT_LOW_SPEED_TIME,
		    (long)FETCH_STALL_SECS);
		(void)curl_easy_setopt(f.easy, CURLOPT_USERAGENT,
		    "yard-agent/" AGENT_VERSION);
		(void)curl_easy_setopt(f.easy, CURLOPT_FOLLOWLOCATION, 0L);
		(void)curl_easy_setopt(f.easy, CURLOPT_TCP_KEEPALIVE, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
		(void)curl_easy_setopt(f.easy, CURLOPT_PROTOCOLS_STR,
		    "http,https");
#else
		(void)curl_easy_setopt(f.easy, CURLOPT_PROTOCOLS,
		    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
		for (tries = 0; f.have < f.size && tries < FETCH_TRIES;
		     tries++) {
			f.started = 0;
			f.status = 0;
			f.errlen = 0;
			f.errbody[0] = '\0';
			errbuf[0] = '\0';
			(void)curl_easy_setopt(f.easy,
			    CURLOPT_RESUME_FROM_LARGE, (curl_off_t)f.have);
			if (progress != NULL)
				progress(arg, "download",
				    f.size == 0 ? 0
						: (int)(f.have * 100 / f.size));
			rc = curl_easy_perform(f.easy);
			if (f.ioerr != 0) {
				(void)say(why, len, "cannot write %s: %s", part,
				    strerror(f.ioerr));
				goto done;
			}
			if (f.toolong) {
				(void)say(why, len,
				    "the server sent more than %" PRId64
				    " bytes",
				    size);
				(void)unlink(part);
				goto done;
			}
			if (rc == CURLE_OK && f.status != 200 &&
			    f.status != 206) {
				(void)say(why, len,
				    "download of package %.12s failed: the "
				    "server answered %ld %.*s",
				    sha256, f.status, 120, f.errbody);
				goto done;
			}
			if (rc != CURLE_OK && f.have < f.size)
				(void)say(why, len,
				    "download of package %.12s failed: %s",
				    sha256,
				    errbuf[0] != '\0' ? errbuf
						      : curl_easy_strerror(rc));
			if (rc != CURLE_OK && tries + 1 < FETCH_TRIES)
				(void)sleep(1);
		}
		if (f.have < f.size) {
			if (why != NULL && why[0] == '\0')
				(void)say(why, len,
				    "download of package %.12s ended short: "
				    "%" PRIu64 " of %" PRId64 " bytes",
				    sha256, f.have, size);
			goto done;
		}
	}
	if (progress != NULL)
		progress(arg, "download", 100);
	if (!sha256_file(f.fd, got)) {
		(void)say(why, len, "cannot read %s: %s", part,
		    strerror(errno));
		goto done;
	}
	if (strcmp(got, sha256) != 0) {
		(void)unlink(part);
		(void)say(why, len,
		    "downloaded package has SHA-256 %s, not %s: removed", got,
		    sha256);
		goto done;
	}
	if (rename(part, file) == -1) {
		(void)say(why, len, "cannot make %s: %s", file,
		    strerror(errno));
		goto done;
	}
	ok = 1;
done:
	if (f.easy != NULL)
		curl_easy_cleanup(f.easy);
	if (hdrs != NULL) {
		explicit_bzero(hdrs->data, strlen(hdrs->data));
		curl_slist_free_all(hdrs);
	}
	if (f.fd != -1)
		(void)close(f.fd);
	return (ok);
}
