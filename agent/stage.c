/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Building a release (agent_rel_stage) and moving a deploy directory
 * (agent_rel_move): the file system half of release.h.  A release is
 * built in <dir>/.staging/<n> and renamed into releases/ only when it is
 * whole, so a crash or a failure never leaves half a release where the
 * journal could point: what is in .staging is thrown away.
 *
 * The package is checked again here with src/pkg (the node does not
 * trust the server), then unpacked with libarchive's disk writer and its
 * secure flags, from inside the staging directory (the process's working
 * directory changes while it unpacks: this runs in a child of the agent,
 * or in a test).
 *
 * Only yard-agent-stage (agent/stage_main.c, the worker's program)
 * builds with AGENT_STAGE_UNPACK: the agent itself never links
 * libarchive (docs/deploy.md, "The stage program").  Without it this file
 * keeps what the agent does in its own process: moving a deploy
 * directory and carrying preserved files over at the switch.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "agent.h"
#include "pkg/internal.h"
#include "pkg/pkg.h"
#include "release.h"

#define PRES_MAX      65 /* preserved_paths (64) and Tomcat's conf/ */
#define SHARED_MAX    32
#define COPY_BUF      (128 * 1024)
#define ARCHIVE_BLOCK (256 * 1024)
#define PROGRESS_STEP (1024 * 1024) /* bytes between progress calls */
#define STAGE_EXTRACT \
	(ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS | \
	    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_UNLINK | \
	    ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME)
#define HARDLINKS_FIRST 1024

/* Three paths walked together: from, to, and the part below the top. */
struct walk {
	char   a[PATH_MAX];
	size_t alen;
	char   b[PATH_MAX];
	size_t blen;
	char   r[PATH_MAX];
	size_t rlen;
};

struct stage {
	struct agent_rel_job *job;
	char		     *why;
	size_t		      len;
	char		      staging[PATH_MAX]; /* <dir>/.staging */
	char		      tmp[PATH_MAX]; /* <dir>/.staging/<n> */
	char		      final[PATH_MAX]; /* <dir>/releases/<n> */
	char		      live[PATH_MAX]; /* <dir>/releases/<live> */
	char		      prefix[PATH_MAX]; /* "" or webapps/<app>/ */
	char		      pres[PRES_MAX][PKG_PATH_MAX + 1];
	size_t		      npres;
	char		      shared[SHARED_MAX][PKG_PATH_MAX + 1];
	size_t		      nshared;
	int		      seeded[SHARED_MAX]; /* made by this stage */
	json_t		     *pkgset; /* release paths the package has */
	int		      tomcat;
	int		      admin;
	uint64_t	      total, done, next_report;
	size_t		      notes_n;
	struct walk	      w;
};

/* (device, inode) -> the first path it was copied to. */
struct hl {
	dev_t dev;
	ino_t ino;
	char *path; /* NULL: free slot */
	int   verified;
};

struct hardlinks {
	struct hl *tab;
	size_t	   cap, n;
};

/* A tree copy: agent_rel_move's, or Tomcat's conf/ into a release. */
struct copy {
	struct walk	   w;
	struct hardlinks   hl;
	dev_t		   dev; /* the one file system, when one_fs */
	int		   one_fs;
	int		   merge; /* keep what the destination has */
	int		   owners; /* give each copy its original's owner */
	agent_rel_progress progress;
	void		  *arg;
	uint64_t	   total, done, next;
	char		  *why;
	size_t		   len;
};

static int say(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static int  walk_push(struct walk *, const char *, size_t *);
static void walk_pop(struct walk *, const size_t *);
static int  norm_rel(const char *, char *, size_t);
static int  mkdirs(const char *, mode_t, char *, size_t);
static int  copy_file(const char *, const char *, const struct stat *, char *,
     size_t);
static int  is_preserved(const struct stage *, const char *);
static int  in_shared(const struct stage *, const char *, int);
static int  again(struct stage *, int *);
#ifdef AGENT_STAGE_UNPACK
static int  overlay(struct stage *);
static int  check_package(struct stage *, struct pkg_result *);
static int  unpack(struct stage *, json_t *);
static int  unpack_entry(struct stage *, struct archive *, struct archive *,
     struct archive_entry *, const char *, int);
static int  same_bytes(struct stage *, struct archive *, const char *, int *);
static int  unpack_over(struct stage *, struct archive *, struct archive *,
     struct archive_entry *, const char *, mode_t, int *);
static void note(struct stage *, const char *);
static void report(struct stage *, const char *, uint64_t);
static int  pkgset_add(struct stage *, const char *);
static int  clean(struct stage *);
static int  link_shared(struct stage *);
static int  tomcat_base(struct stage *);
static int  give(struct stage *);
static int  adopt(struct stage *);
static void adopt_undo(struct stage *);
static int  foreign(const char *, char *, size_t);
#endif
static int	  stage_paths(struct stage *);
static int	  app_dir(const char *, char *, size_t);
static struct hl *hl_get(struct hardlinks *, const struct stat *);
static void	  hl_free(struct hardlinks *);
static int	  tree_copy(struct copy *);
static int	  tree_verify(struct copy *);
static void	  tree_bytes(struct walk *, uint64_t *);
static int	  files_equal(const char *, const char *, int *);
static int	  empty_dir(const char *);
static int	  copy_top(struct copy *, const char *, const char *);
static int	  parent_of(const char *, char *, size_t);
static int	  dir_empty(const char *);

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

/*
 * Descend into name: a/name, b/name (when b is in use), r/name.  saved
 * receives the lengths to restore.  0 when a path would not fit.
 */
static int
walk_push(struct walk *w, const char *name, size_t *saved)
{
	size_t n;

	n = strlen(name);
	saved[0] = w->alen;
	saved[1] = w->blen;
	saved[2] = w->rlen;
	if (w->alen + n + 2 > sizeof(w->a) || w->blen + n + 2 > sizeof(w->b) ||
	    w->rlen + n + 2 > sizeof(w->r))
		return (0);
	w->a[w->alen++] = '/';
	memcpy(w->a + w->alen, name, n + 1);
	w->alen += n;
	if (w->blen > 0) {
		w->b[w->blen++] = '/';
		memcpy(w->b + w->blen, name, n + 1);
		w->blen += n;
	}
	if (w->rlen > 0)
		w->r[w->rlen++] = '/';
	memcpy(w->r + w->rlen, name, n + 1);
	w->rlen += n;
	return (1);
}

static void
walk_pop(struct walk *w, const size_t *saved)
{
	w->alen = saved[0];
	w->a[w->alen] = '\0';
	w->blen = saved[1];
	w->b[w->blen] = '\0';
	w->rlen = saved[2];
	w->r[w->rlen] = '\0';
}

/*
 * A spec's relative path in normal form: no empty or "." components,
 * no trailing '/'; ".." and an empty result are refused.
 */
static int
norm_rel(const char *in, char *out, size_t len)
{
	const char *p, *e;
	size_t	    o, n;

	o = 0;
	for (p = in; *p != '\0'; p = *e == '\0' ? e : e + 1) {
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			continue;
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return (0);
		if (o + n + 2 > len)
			return (0);
		if (o > 0)
			out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
	}
	out[o] = '\0';
	return (o > 0);
}

/* mkdir -p path (the parents and path itself) with mode. */
static int
mkdirs(const char *path, mode_t mode, char *why, size_t len)
{
	char   buf[PATH_MAX];
	size_t i, n;

	n = strlen(path);
	if (n >= sizeof(buf))
		return (say(why, len, "%s: path too long", path));
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) == -1 && errno != EEXIST)
			return (say(why, len, "cannot make %s: %s", buf,
			    strerror(errno)));
		buf[i] = i == n ? '\0' : '/';
	}
	return (1);
}

/* A real copy of the regular file from (mode and times kept). */
static int
copy_file(const char *from, const char *to, const struct stat *st, char *why,
    size_t len)
{
	struct timespec ts[2];
	char	       *buf;
	ssize_t		n, m, off;
	int		in, out, ok;

	ok = 0;
	out = -1;
	if ((in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return (
		    say(why, len, "cannot read %s: %s", from, strerror(errno)));
	if ((buf = malloc(COPY_BUF)) == NULL) {
		(void)say(why, len, "out of memory");
		goto done;
	}
	if ((out = open(to,
		 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		 st->st_mode & 0777)) == -1) {
		(void)say(why, len, "cannot make %s: %s", to, strerror(errno));
		goto done;
	}
	for (;;) {
		if ((n = read(in, buf, COPY_BUF)) == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)say(why, len, "cannot read %s: %s", from,
			    strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		for (off = 0; off < n; off += m) {
			if ((m = write(out, buf + off, (size_t)(n - off))) ==
			    -1) {
				if (errno == EINTR) {
					m = 0;
					continue;
				}
				(void)say(why, len, "cannot write %s: %s", to,
				    strerror(errno));
				goto done;
			}
		}
	}
	(void)fchmod(out, st->st_mode & 07777);
	ts[0] = st->st_atim;
	ts[1] = st->st_mtim;
	(void)futimens(out, ts);
	if (close(out) == -1) {
		out = -1;
		(void)say(why, len, "cannot write %s: %s", to, strerror(errno));
		goto done;
	}
	out = -1;
	ok = 1;
done:
	if (out != -1)
		(void)close(out);
	if (!ok)
		(void)unlink(to);
	(void)close(in);
	free(buf);
	return (ok);
}

/*
 * rel is preserved: a pattern matches it or one of its parent
 * directories (a pattern naming a directory covers what is below it).
 */
static int
is_preserved(const struct stage *s, const char *rel)
{
	char   buf[PATH_MAX];
	size_t i, k, n;

	n = strlen(rel);
	if (n >= sizeof(buf))
		return (0);
	for (k = 0; k < s->npres; k++) {
		if (fnmatch(s->pres[k], rel, FNM_PATHNAME) == 0)
			return (1);
		memcpy(buf, rel, n + 1);
		for (i = 0; i < n; i++) {
			if (buf[i] != '/')
				continue;
			buf[i] = '\0';
			if (fnmatch(s->pres[k], buf, FNM_PATHNAME) == 0)
				return (1);
			buf[i] = '/';
		}
	}
	return (0);
}

/* rel is a shared path (exact), or lies below one (!exact). */
static int
in_shared(const struct stage *s, const char *rel, int exact)
{
	size_t k, n;

	for (k = 0; k < s->nshared; k++) {
		n = strlen(s->shared[k]);
		if (strncmp(rel, s->shared[k], n) != 0)
			continue;
		if (rel[n] == '\0' || (!exact && rel[n] == '/'))
			return (1);
	}
	return (0);
}

#ifdef AGENT_STAGE_UNPACK
static void
report(struct stage *s, const char *step, uint64_t add)
{
	struct agent_rel_job *j = s->job;

	s->done += add;
	if (j->progress == NULL || s->done < s->next_report)
		return;
	s->next_report = s->done + PROGRESS_STEP;
	j->progress(j->arg, step,
	    s->total == 0 ? -1 : (int)(s->done * 100 / s->total));
}

/*
 * The overlay: the live release's tree into the staging one.  Files
 * are hard links (the package's replace them by unlinking first, so the
 * live release never changes), preserved files are real copies, links
 * are made again, a shared path's link is left for link_shared().
 */
static int
overlay(struct stage *s)
{
	struct dirent *de;
	struct stat    st;
	DIR	      *d;
	char	       target[PATH_MAX];
	size_t	       saved[3];
	ssize_t	       n;
	int	       ok;

	if ((d = opendir(s->w.a)) == NULL)
		return (say(s->why, s->len, "cannot read %s: %s", s->w.a,
		    strerror(errno)));
	ok = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (!walk_push(&s->w, de->d_name, saved)) {
			(void)say(s->why, s->len, "%s/%s: path too long",
			    s->w.a, de->d_name);
			goto done;
		}
		if (lstat(s->w.a, &st) == -1) {
			(void)say(s->why, s->len, "%s: %s", s->w.a,
			    strerror(errno));
			goto done;
		}
		if (S_ISDIR(st.st_mode)) {
			if (mkdir(s->w.b, (st.st_mode & 07777) | 0700) == -1) {
				(void)say(s->why, s->len, "cannot make %s: %s",
				    s->w.b, strerror(errno));
				goto done;
			}
			if (!overlay(s))
				goto done;
			(void)chmod(s->w.b, st.st_mode & 07777);
		} else if (S_ISLNK(st.st_mode)) {
			if (!in_shared(s, s->w.r, 1)) {
				n = readlink(s->w.a, target,
				    sizeof(target) - 1);
				if (n < 0 ||
				    (target[n] = '\0',
					symlink(target, s->w.b)) == -1) {
					(void)say(s->why, s->len,
					    "cannot copy the link %s: %s",
					    s->w.a, strerror(errno));
					goto done;
				}
			}
		} else if (S_ISREG(st.st_mode)) {
			if (is_preserved(s, s->w.r) ||
			    link(s->w.a, s->w.b) == -1) {
				if (!copy_file(s->w.a, s->w.b, &st, s->why,
					s->len))
					goto done;
			}
		}
		/* Devices, FIFOs and sockets are not a release's. */
		walk_pop(&s->w, saved);
	}
	ok = 1;
done:
	(void)closedir(d);
	return (ok);
}

/* src/pkg's verdict on the package: every rule the server applies. */
static int
check_package(struct stage *s, struct pkg_result *res)
{
	struct pkg_limits lim;

	pkg_limits_init(&lim);
	/* agent_rel_fetch() checked the whole file's SHA-256 already. */
	lim.hash_package = 0;
	if (s->job->progress != NULL)
		s->job->progress(s->job->arg, "check", -1);
	if (pkg_check_file(s->job->zip, &lim, res) == PKG_OK)
		return (1);
	if (res->entry != NULL)
		return (say(s->why, s->len, "package entry %s: %s", res->entry,
		    pkg_rule_code(res->rule)));
	return (say(s->why, s->len, "package refused: %s (%s)",
	    pkg_rule_code(res->rule), res->message));
}

static int
pkgset_add(struct stage *s, const char *rel)
{
	char   buf[PATH_MAX];
	size_t i, n;

	if (s->pkgset == NULL)
		return (1);
	n = strlen(rel);
	if (n >= sizeof(buf))
		return (0);
	memcpy(buf, rel, n + 1);
	if (json_object_set_new(s->pkgset, buf, json_true()) != 0)
		return (0);
	for (i = n; i > 0; i--) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (json_object_get(s->pkgset, buf) != NULL)
			break;
		if (json_object_set_new(s->pkgset, buf, json_true()) != 0)
			return (0);
	}
	return (1);
}

static void
note(struct stage *s, const char *rel)
{
	char  *n = s->job->notes;
	size_t have, cap = sizeof(s->job->notes);

	have = strlen(n);
	if (s->notes_n == 0)
		have = (size_t)snprintf(n, cap, "new defaults available: ");
	if (have + strlen(rel) + 8 < cap) {
		(void)snprintf(n + have, cap - have, "%s%s",
		    s->notes_n > 0 ? ", " : "", rel);
	} else if (have + 5 < cap && strcmp(n + have - 3, "...") != 0)
		(void)snprintf(n + have, cap - have, ", ...");
	s->notes_n++;
}

/*
 * Whether the entry's data equals the file rel (read whole: the data
 * must be consumed anyway).  1 with *same, or 0 with why.
 */
static int
same_bytes(struct stage *s, struct archive *a, const char *rel, int *same)
{
	const void *buf;
	char	   *mine;
	size_t	    size;
	la_int64_t  off;
	off_t	    pos;
	ssize_t	    n;
	int	    fd, r, ok;

	*same = 1;
	if ((fd = open(rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		*same = 0;
		return (1);
	}
	if ((mine = malloc(ARCHIVE_BLOCK)) == NULL) {
		(void)close(fd);
		return (say(s->why, s->len, "out of memory"));
	}
	ok = 0;
	pos = 0;
	for (;;) {
		r = archive_read_data_block(a, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			(void)say(s->why, s->len, "package entry %s: %s", rel,
			    archive_error_string(a));
			goto done;
		}
		report(s, "unpack", size);
		while (*same && size > 0) {
			n = pread(fd, mine,
			    size > ARCHIVE_BLOCK ? ARCHIVE_BLOCK : size,
			    (off_t)off);
			if (n <= 0 || memcmp(mine, buf, (size_t)n) != 0) {
				*same = 0;
				break;
			}
			buf = (const char *)buf + n;
			size -= (size_t)n;
			off += n;
			pos = (off_t)off;
		}
	}
	if (*same && (n = pread(fd, mine, 1, pos)) != 0)
		*same = 0;
	ok = 1;
done:
	free(mine);
	(void)close(fd);
	return (ok);
}

/* One entry to rel (relative to the staging directory, the cwd). */
static int
unpack_entry(struct stage *s, struct archive *a, struct archive *w,
    struct archive_entry *ae, const char *rel, int dir)
{
	struct stat st;
	const void *buf;
	size_t	    size;
	la_int64_t  off;
	mode_t	    perm;
	int	    r, same;

	if (!pkgset_add(s, rel))
		return (say(s->why, s->len, "out of memory"));
	/* A preserved file the live release has keeps its bytes. */
	if (!dir && s->job->live >= 0 && is_preserved(s, rel) &&
	    lstat(rel, &st) == 0 && S_ISREG(st.st_mode)) {
		if (!same_bytes(s, a, rel, &same))
			return (0);
		if (!same)
			note(s, rel);
		return (1);
	}
	perm = archive_entry_perm(ae) & 0777;
	if (dir)
		perm = perm == 0 ? 0755 : perm | 0700;
	else if (perm == 0)
		perm = 0644;
	/*
	 * A file the live release has with the same size and mode: compare
	 * while inflating, and keep the hard link when the bytes are the
	 * same, so that unchanged files cost no write and no space.
	 */
	if (!dir && s->job->live >= 0 && archive_entry_size_is_set(ae) &&
	    lstat(rel, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size == archive_entry_size(ae) &&
	    (st.st_mode & 07777) == perm) {
		if (!unpack_over(s, a, w, ae, rel, perm, &same))
			return (0);
		if (same)
			return (1);
		goto finish;
	}
	archive_entry_set_pathname(ae, rel);
	archive_entry_set_perm(ae, perm);
	archive_entry_set_filetype(ae, dir ? AE_IFDIR : AE_IFREG);
	if ((r = archive_write_header(w, ae)) < ARCHIVE_WARN)
		return (say(s->why, s->len, "cannot unpack %s: %s", rel,
		    archive_error_string(w)));
	if (!dir) {
		for (;;) {
			r = archive_read_data_block(a, &buf, &size, &off);
			if (r == ARCHIVE_EOF)
				break;
			if (r != ARCHIVE_OK)
				return (
				    say(s->why, s->len, "package entry %s: %s",
					rel, archive_error_string(a)));
			if (archive_write_data_block(w, buf, size, off) <
			    ARCHIVE_WARN)
				return (
				    say(s->why, s->len, "cannot unpack %s: %s",
					rel, archive_error_string(w)));
			report(s, "unpack", size);
		}
	}
finish:
	if (archive_write_finish_entry(w) < ARCHIVE_WARN)
		return (say(s->why, s->len, "cannot unpack %s: %s", rel,
		    archive_error_string(w)));
	return (1);
}

/*
 * The entry's data against rel, a hard link to the live release's file
 * of the same size and mode.  While the bytes agree nothing is written;
 * at the first difference rel is unlinked (the live file stays as it
 * is), the entry is started as a new file, the part that agreed is
 * copied from the old file and the rest written as it comes.  1 with
 * *same (nothing written: the link stays) or with the entry's data
 * written and its entry still open, or 0 with why.
 */
static int
unpack_over(struct stage *s, struct archive *a, struct archive *w,
    struct archive_entry *ae, const char *rel, mode_t perm, int *same)
{
	const void *buf;
	char	   *mine;
	size_t	    size;
	la_int64_t  off, at;
	ssize_t	    n;
	int	    fd, r, ok;

	*same = 1;
	if ((fd = open(rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return (say(s->why, s->len, "cannot read %s: %s", rel,
		    strerror(errno)));
	if ((mine = malloc(ARCHIVE_BLOCK)) == NULL) {
		(void)close(fd);
		return (say(s->why, s->len, "out of memory"));
	}
	ok = 0;
	for (;;) {
		r = archive_read_data_block(a, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			(void)say(s->why, s->len, "package entry %s: %s", rel,
			    archive_error_string(a));
			goto done;
		}
		report(s, "unpack", size);
		if (*same) {
			for (at = 0; at < (la_int64_t)size; at += n) {
				n = pread(fd, mine,
				    size - at > ARCHIVE_BLOCK ? ARCHIVE_BLOCK
							      : size - at,
				    (off_t)(off + at));
				if (n <= 0 ||
				    memcmp(mine, (const char *)buf + at,
					(size_t)n) != 0)
					break;
			}
			if (at >= (la_int64_t)size)
				continue;
			/* Different from off on: a file of its own. */
			*same = 0;
			if (unlink(rel) == -1) {
				(void)say(s->why, s->len,
				    "cannot replace %s: %s", rel,
				    strerror(errno));
				goto done;
			}
			archive_entry_set_pathname(ae, rel);
			archive_entry_set_perm(ae, perm);
			archive_entry_set_filetype(ae, AE_IFREG);
			if (archive_write_header(w, ae) < ARCHIVE_WARN) {
				(void)say(s->why, s->len,
				    "cannot unpack %s: %s", rel,
				    archive_error_string(w));
				goto done;
			}
			for (at = 0; at < off; at += n) {
				n = pread(fd, mine,
				    off - at > ARCHIVE_BLOCK ? ARCHIVE_BLOCK
							     : off - at,
				    (off_t)at);
				if (n <= 0 ||
				    archive_write_data_block(w, mine, (size_t)n,
					at) < ARCHIVE_WARN) {
					(void)say(s->why, s->len,
					    "cannot unpack %s: %s", rel,
					    n <= 0 ? "short read"
						   : archive_error_string(w));
					goto done;
				}
			}
		}
		if (archive_write_data_block(w, buf, size, off) <
		    ARCHIVE_WARN) {
			(void)say(s->why, s->len, "cannot unpack %s: %s", rel,
			    archive_error_string(w));
			goto done;
		}
	}
	ok = 1;
done:
	free(mine);
	(void)close(fd);
	return (ok);
}

/*
 * The package into the staging tree.  File names are the check's
 * (manifest order is the zip's file order, which libarchive's seekable
 * reader follows), so legacy-charset names decode exactly as the server
 * decoded them; a directory entry's own name is decoded the same way
 * (UTF-8, else the legacy charset) and checked again.
 */
static int
unpack(struct stage *s, json_t *manifest)
{
	struct archive	     *a, *w;
	struct archive_entry *ae;
	struct pkg_name_err   nerr;
	const char	     *name, *raw;
	char		      rel[PATH_MAX], *dname;
	locale_t	      utf8, old;
	iconv_t		      cd;
	size_t		      k;
	int		      ok, r, cwd, type, isdir;

	ok = 0;
	cwd = -1;
	dname = NULL;
	utf8 = (locale_t)0;
	old = (locale_t)0;
	cd = (iconv_t)-1;
	a = archive_read_new();
	w = archive_write_disk_new();
	if (a == NULL || w == NULL) {
		(void)say(s->why, s->len, "out of memory");
		goto done;
	}
	if ((cd = iconv_open("UTF-8", PKG_CHARSET)) == (iconv_t)-1) {
		(void)say(s->why, s->len, "no %s converter", PKG_CHARSET);
		goto done;
	}
	(void)archive_write_disk_set_options(w, STAGE_EXTRACT);
	if (archive_read_support_format_zip_seekable(a) != ARCHIVE_OK ||
	    archive_read_open_filename(a, s->job->zip, ARCHIVE_BLOCK) !=
		ARCHIVE_OK) {
		(void)say(s->why, s->len, "cannot read the package: %s",
		    archive_error_string(a));
		goto done;
	}
	if ((utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0)) ==
	    (locale_t)0) {
		(void)say(s->why, s->len, "no C.UTF-8 locale");
		goto done;
	}
	old = uselocale(utf8);
	if ((cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    chdir(s->tmp) == -1) {
		(void)say(s->why, s->len, "cannot enter %s: %s", s->tmp,
		    strerror(errno));
		goto done;
	}
	k = 0;
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		raw = archive_entry_pathname(ae);
		type = (int)archive_entry_filetype(ae);
		/* Checked already; refused here too, whatever the check. */
		if (archive_entry_hardlink(ae) != NULL ||
		    archive_entry_symlink(ae) != NULL || type == AE_IFLNK) {
			(void)say(s->why, s->len, "package entry %s: %s",
			    raw != NULL ? raw : "?",
			    pkg_rule_code(PKG_LINK_ENTRY));
			goto done;
		}
		if (type != AE_IFREG && type != AE_IFDIR) {
			(void)say(s->why, s->len, "package entry %s: %s",
			    raw != NULL ? raw : "?",
			    pkg_rule_code(PKG_SPECIAL_ENTRY));
			goto done;
		}
		isdir = type == AE_IFDIR;
		free(dname);
		dname = NULL;
		if (!isdir) {
			name = json_string_value(
			    json_object_get(json_array_get(manifest, k++),
				"path"));
		} else {
			if (raw == NULL)
				raw = "";
			dname = pkg_name_decode((const unsigned char *)raw,
			    strlen(raw),
			    pkg_utf8_valid((const unsigned char *)raw,
				strlen(raw)),
			    cd, &nerr);
			if (dname == NULL ||
			    pkg_name_check(dname, &isdir, &nerr) != PKG_OK) {
				(void)say(s->why, s->len,
				    "package entry %s: %s", raw,
				    pkg_rule_code(nerr.rule));
				goto done;
			}
			name = dname;
			isdir = 1;
		}
		if (name == NULL) {
			(void)say(s->why, s->len,
			    "package: more files than its check found");
			goto done;
		}
		if (snprintf(rel, sizeof(rel), "%s%s", s->prefix, name) >=
		    (int)sizeof(rel)) {
			(void)say(s->why, s->len, "package entry %s: too long",
			    name);
			goto done;
		}
		if (!unpack_entry(s, a, w, ae, rel, isdir))
			goto done;
	}
	if (r != ARCHIVE_EOF || k != json_array_size(manifest)) {
		(void)say(s->why, s->len, "cannot read the package: %s",
		    r != ARCHIVE_EOF ? archive_error_string(a)
				     : "fewer files than its check found");
		goto done;
	}
	if (archive_write_close(w) < ARCHIVE_WARN) {
		(void)say(s->why, s->len, "cannot unpack: %s",
		    archive_error_string(w));
		goto done;
	}
	ok = 1;
done:
	free(dname);
	if (cwd != -1) {
		if (fchdir(cwd) == -1)
			log_warn("fchdir");
		(void)close(cwd);
	}
	if (old != (locale_t)0)
		(void)uselocale(old);
	if (utf8 != (locale_t)0)
		freelocale(utf8);
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	if (w != NULL)
		archive_write_free(w);
	if (a != NULL)
		archive_read_free(a);
	return (ok);
}

/*
 * update with clean: what the package lacks goes, but preserved paths,
 * shared paths and (Tomcat) whatever lies outside webapps/<app>.
 */
static int
clean(struct stage *s)
{
	struct dirent *de;
	struct stat    st;
	DIR	      *d;
	size_t	       saved[3], plen;
	int	       ok;

	if ((d = opendir(s->w.a)) == NULL)
		return (say(s->why, s->len, "cannot read %s: %s", s->w.a,
		    strerror(errno)));
	ok = 0;
	plen = strlen(s->prefix);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (!walk_push(&s->w, de->d_name, saved)) {
			(void)say(s->why, s->len, "%s/%s: path too long",
			    s->w.a, de->d_name);
			goto done;
		}
		if (lstat(s->w.a, &st) == -1) {
			(void)say(s->why, s->len, "%s: %s", s->w.a,
			    strerror(errno));
			goto done;
		}
		if (in_shared(s, s->w.r, 0) || is_preserved(s, s->w.r)) {
			walk_pop(&s->w, saved);
			continue;
		}
		/* Tomcat: only the application is the package's. */
		if (plen > 0 && strncmp(s->w.r, s->prefix, plen) != 0) {
			if (S_ISDIR(st.st_mode) &&
			    strncmp(s->prefix, s->w.r, s->w.rlen) == 0 &&
			    s->prefix[s->w.rlen] == '/' && !clean(s))
				goto done;
			walk_pop(&s->w, saved);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (!clean(s))
				goto done;
			if (json_object_get(s->pkgset, s->w.r) == NULL)
				(void)rmdir(s->w.a); /* when empty */
		} else if (json_object_get(s->pkgset, s->w.r) == NULL &&
		    unlink(s->w.a) == -1) {
			(void)say(s->why, s->len, "cannot remove %s: %s",
			    s->w.a, strerror(errno));
			goto done;
		}
		walk_pop(&s->w, saved);
	}
	ok = 1;
done:
	(void)closedir(d);
	return (ok);
}

/*
 * Each shared path: <dir>/shared/<p>, seeded with the release's copy
 * (the package's, or the live release's) when it does not exist yet,
 * then linked into the release by a relative link, so that a moved
 * deploy directory keeps its links right.
 */
static int
link_shared(struct stage *s)
{
	struct stat st;
	char	    sp[PATH_MAX], rp[PATH_MAX], target[PATH_MAX], *slash;
	size_t	    k, i, o, ups;
	int	    r;

	for (k = 0; k < s->nshared; k++) {
		if (snprintf(sp, sizeof(sp), "%s/%s/%s", s->job->dir,
			AGENT_REL_SHARED, s->shared[k]) >= (int)sizeof(sp) ||
		    snprintf(rp, sizeof(rp), "%s/%s", s->tmp, s->shared[k]) >=
			(int)sizeof(rp))
			return (say(s->why, s->len, "%s: path too long",
			    s->shared[k]));
		r = lstat(rp, &st);
		if (r == 0 && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
			return (say(s->why, s->len,
			    "shared path %s is a file in the release, not a "
			    "directory",
			    s->shared[k]));
		if (lstat(sp, &st) == -1) {
			if (errno != ENOENT)
				return (say(s->why, s->len, "%s: %s", sp,
				    strerror(errno)));
			slash = strrchr(sp, '/');
			*slash = '\0';
			if (!mkdirs(sp, 0755, s->why, s->len))
				return (0);
			*slash = '/';
			if (lstat(rp, &st) == 0 && S_ISDIR(st.st_mode)) {
				if (rename(rp, sp) == -1)
					return (say(s->why, s->len,
					    "cannot seed %s: %s", sp,
					    strerror(errno)));
			} else if (mkdir(sp, 0755) == -1)
				return (say(s->why, s->len,
				    "cannot make %s: %s", sp, strerror(errno)));
			s->seeded[k] = 1;
			if (s->admin) {
				s->w.alen = strlen(sp);
				memcpy(s->w.a, sp, s->w.alen + 1);
				s->w.blen = 0;
				s->w.b[0] = '\0';
				s->w.rlen = 0;
				s->w.r[0] = '\0';
				if (!give(s))
					return (0);
			}
		} else if (!S_ISDIR(st.st_mode))
			return (
			    say(s->why, s->len, "%s is not a directory", sp));
		/* The release's own copy makes way for the link. */
		if (lstat(rp, &st) == 0) {
			if (S_ISDIR(st.st_mode)
				? !agent_os_remove_tree(NULL, rp)
				: unlink(rp) == -1)
				return (
				    say(s->why, s->len, "cannot remove %s: %s",
					rp, strerror(errno)));
		}
		slash = strrchr(rp, '/');
		*slash = '\0';
		if (!mkdirs(rp, 0755, s->why, s->len))
			return (0);
		*slash = '/';
		for (i = 0, ups = 2; s->shared[k][i] != '\0'; i++)
			ups += s->shared[k][i] == '/';
		for (o = 0, i = 0; i < ups; i++, o += 3)
			memcpy(target + o, "../", 3);
		if (snprintf(target + o, sizeof(target) - o, "%s/%s",
			AGENT_REL_SHARED,
			s->shared[k]) >= (int)(sizeof(target) - o))
			return (say(s->why, s->len, "%s: path too long",
			    s->shared[k]));
		if (symlink(target, rp) == -1)
			return (say(s->why, s->len, "cannot link %s: %s", rp,
			    strerror(errno)));
		if (s->admin && lchown(rp, s->job->uid, s->job->gid) == -1)
			return (say(s->why, s->len, "cannot give %s: %s", rp,
			    strerror(errno)));
	}
	return (1);
}

/*
 * A Tomcat release is its CATALINA_BASE (when the spec names no base):
 * on a first deploy without conf/server.xml of its own it gets a copy
 * of <home>/conf, and the directories Tomcat writes to.
 */
static int
tomcat_base(struct stage *s)
{
	static const char *const dirs[] = { "logs", "temp", "work", "webapps" };
	const json_t		*tc;
	struct stat		 st;
	struct copy		*c;
	char			 p[PATH_MAX], conf[PATH_MAX];
	size_t			 i;
	int			 ok;

	tc = json_object_get(s->job->spec, "tomcat");
	if (s->job->live >= 0 || json_object_get(tc, "base") != NULL)
		return (1);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		(void)snprintf(p, sizeof(p), "%s/%s", s->tmp, dirs[i]);
		if (mkdir(p, 0755) == -1 && errno != EEXIST)
			return (say(s->why, s->len, "cannot make %s: %s", p,
			    strerror(errno)));
	}
	(void)snprintf(p, sizeof(p), "%s/conf/server.xml", s->tmp);
	if (lstat(p, &st) == 0)
		return (1);
	if (snprintf(p, sizeof(p), "%s/conf",
		json_string_value(json_object_get(tc, "home"))) >=
		(int)sizeof(p) ||
	    realpath(p, conf) == NULL)
		return (say(s->why, s->len,
		    "the release has no conf/server.xml and %s cannot be "
		    "copied: %s",
		    p, strerror(errno)));
	(void)snprintf(p, sizeof(p), "%s/conf", s->tmp);
	if (mkdir(p, 0755) == -1 && errno != EEXIST)
		return (say(s->why, s->len, "cannot make %s: %s", p,
		    strerror(errno)));
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (say(s->why, s->len, "out of memory"));
	c->merge = 1;
	c->why = s->why;
	c->len = s->len;
	/* Not bound to one file system: /etc may be another. */
	ok = copy_top(c, conf, p) && tree_copy(c);
	hl_free(&c->hl);
	free(c);
	return (ok);
}

/*
 * The task's account gets what this stage made: directories, links,
 * and files with one link (a file hard-linked from the live release is
 * the live release's too: it keeps its owner).
 */
static int
give(struct stage *s)
{
	struct dirent *de;
	struct stat    st;
	DIR	      *d;
	size_t	       saved[3];
	int	       ok;

	if (lstat(s->w.a, &st) == 0 &&
	    (st.st_uid != s->job->uid || st.st_gid != s->job->gid) &&
	    lchown(s->w.a, s->job->uid, s->job->gid) == -1)
		return (say(s->why, s->len, "cannot give %s: %s", s->w.a,
		    strerror(errno)));
	if ((d = opendir(s->w.a)) == NULL)
		return (say(s->why, s->len, "cannot read %s: %s", s->w.a,
		    strerror(errno)));
	ok = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (!walk_push(&s->w, de->d_name, saved)) {
			(void)say(s->why, s->len, "%s/%s: path too long",
			    s->w.a, de->d_name);
			goto done;
		}
		if (lstat(s->w.a, &st) == -1) {
			(void)say(s->why, s->len, "%s: %s", s->w.a,
			    strerror(errno));
			goto done;
		}
		if (S_ISDIR(st.st_mode)) {
			if (!give(s))
				goto done;
		} else if ((S_ISLNK(st.st_mode) || st.st_nlink == 1) &&
		    (st.st_uid != s->job->uid || st.st_gid != s->job->gid) &&
		    lchown(s->w.a, s->job->uid, s->job->gid) == -1) {
			(void)say(s->why, s->len, "cannot give %s: %s", s->w.a,
			    strerror(errno));
			goto done;
		}
		walk_pop(&s->w, saved);
	}
	ok = 1;
done:
	(void)closedir(d);
	return (ok);
}

/* The first entry of dir that is not the layout's, into name; 0: none. */
static int
foreign(const char *dir, char *name, size_t len)
{
	struct dirent *de;
	DIR	      *d;
	int	       found;

	if ((d = opendir(dir)) == NULL)
		return (0);
	found = 0;
	while (!found && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, AGENT_REL_DIR) == 0 ||
		    strcmp(de->d_name, AGENT_REL_SHARED) == 0 ||
		    strcmp(de->d_name, AGENT_REL_CURRENT) == 0 ||
		    strcmp(de->d_name, AGENT_REL_STAGING) == 0)
			continue;
		(void)snprintf(name, len, "%s", de->d_name);
		found = 1;
	}
	(void)closedir(d);
	return (found);
}

/*
 * adopt: the files a deploy directory already holds become release n
 * (moved, not copied); adopt_undo() moves them back.
 */
static int
adopt(struct stage *s)
{
	char name[NAME_MAX + 1], from[PATH_MAX], to[PATH_MAX];

	while (foreign(s->job->dir, name, sizeof(name))) {
		if (snprintf(from, sizeof(from), "%s/%s", s->job->dir, name) >=
			(int)sizeof(from) ||
		    snprintf(to, sizeof(to), "%s/%s", s->tmp, name) >=
			(int)sizeof(to))
			return (say(s->why, s->len, "%s: path too long", from));
		if (rename(from, to) == -1)
			return (say(s->why, s->len, "cannot adopt %s: %s", from,
			    strerror(errno)));
	}
	return (1);
}

/* Everything in the staging release back into the deploy directory. */
static void
adopt_undo(struct stage *s)
{
	struct dirent *de;
	DIR	      *d;
	char	       from[PATH_MAX], to[PATH_MAX];

	if ((d = opendir(s->tmp)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		(void)snprintf(from, sizeof(from), "%s/%s", s->tmp, de->d_name);
		(void)snprintf(to, sizeof(to), "%s/%s", s->job->dir,
		    de->d_name);
		if (rename(from, to) == -1)
			log_warn("cannot put %s back", to);
	}
	(void)closedir(d);
}

#endif /* AGENT_STAGE_UNPACK */

/* app_path "/" -> ROOT, "/a/b" -> a#b (Tomcat's context file names). */
static int
app_dir(const char *app, char *out, size_t len)
{
	size_t i, o;

	while (*app == '/')
		app++;
	for (i = 0, o = 0; app[i] != '\0' && o + 1 < len; i++)
		out[o++] = app[i] == '/' ? '#' : app[i];
	while (o > 0 && out[o - 1] == '#')
		o--;
	out[o] = '\0';
	if (app[i] != '\0')
		return (0);
	if (o == 0)
		(void)snprintf(out, len, "ROOT");
	return (strcmp(out, ".") != 0 && strcmp(out, "..") != 0 &&
	    strchr(out, '\\') == NULL);
}

/* The job's paths, patterns and shared paths into s. */
static int
stage_paths(struct stage *s)
{
	struct agent_rel_job *j = s->job;
	const json_t	     *v;
	const char	     *str, *app;
	char		      appdir[NAME_MAX + 1];
	size_t		      i, n;

	if (j->dir == NULL || j->dir[0] != '/' || j->n < 0)
		return (say(s->why, s->len, "bad release job"));
	if (snprintf(s->staging, sizeof(s->staging), "%s/%s", j->dir,
		AGENT_REL_STAGING) >= (int)sizeof(s->staging) ||
	    snprintf(s->tmp, sizeof(s->tmp), "%s/%" PRId64, s->staging, j->n) >=
		(int)sizeof(s->tmp) ||
	    !agent_rel_path(j->dir, j->n, s->final, sizeof(s->final)) ||
	    (j->live >= 0 &&
		!agent_rel_path(j->dir, j->live, s->live, sizeof(s->live))))
		return (say(s->why, s->len, "%s: path too long", j->dir));
	s->tomcat = json_object_get(j->spec, "tomcat") != NULL &&
	    strcmp(json_string_value(json_object_get(j->spec, "kind")) != NULL
		    ? json_string_value(json_object_get(j->spec, "kind"))
		    : "",
		"tomcat") == 0;
	if (s->tomcat) {
		app = json_string_value(
		    json_object_get(json_object_get(j->spec, "tomcat"),
			"app_path"));
		if (!app_dir(app != NULL ? app : "/", appdir, sizeof(appdir)))
			return (say(s->why, s->len,
			    "tomcat.app_path %s names no webapps directory",
			    app));
		(void)snprintf(s->prefix, sizeof(s->prefix), "webapps/%s/",
		    appdir);
		(void)snprintf(s->pres[s->npres++], sizeof(s->pres[0]), "conf");
	}
	json_array_foreach(json_object_get(j->spec, "preserved_paths"), i, v)
	{
		if ((str = json_string_value(v)) == NULL ||
		    s->npres >= PRES_MAX ||
		    !norm_rel(str, s->pres[s->npres], sizeof(s->pres[0])))
			return (say(s->why, s->len,
			    "preserved_paths[%zu]: not a relative path", i));
		s->npres++;
	}
	json_array_foreach(json_object_get(j->spec, "shared_paths"), i, v)
	{
		if ((str = json_string_value(v)) == NULL ||
		    s->nshared >= SHARED_MAX ||
		    !norm_rel(str, s->shared[s->nshared], sizeof(s->shared[0])))
			return (say(s->why, s->len,
			    "shared_paths[%zu]: not a relative path", i));
		for (n = 0; n < s->nshared; n++) {
			if (in_shared(s, s->shared[s->nshared], 0))
				return (say(s->why, s->len,
				    "shared_paths[%zu]: inside another shared "
				    "path",
				    i));
		}
		s->nshared++;
	}
	return (1);
}

int
agent_rel_space(const char *dir, uint64_t need, char *why, size_t len)
{
	uint64_t avail;

	if (!agent_os_free_bytes(dir, &avail))
		return (say(why, len, "cannot measure the free space of %s: %s",
		    dir, strerror(errno)));
	if (avail < need)
		return (say(why, len,
		    "not enough space in %s: %" PRIu64 " bytes needed, "
		    "%" PRIu64 " free",
		    dir, need, avail));
	return (1);
}

#ifdef AGENT_STAGE_UNPACK
int
agent_rel_stage(struct agent_rel_job *job, char *why, size_t len)
{
	struct pkg_result res;
	struct stat	  st;
	struct stage	 *s;
	char		  name[NAME_MAX + 1], path[PATH_MAX];
	size_t		  k;
	int		  ok, made_staging;

	job->notes[0] = '\0';
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (say(why, len, "out of memory"));
	memset(&res, 0, sizeof(res));
	s->job = job;
	s->why = why;
	s->len = len;
	s->admin = agent_os_admin();
	ok = 0;
	made_staging = 0;
	if (!stage_paths(s))
		goto fail;
	if (job->zip == NULL && !job->adopt) {
		(void)say(why, len, "no package to stage");
		goto fail;
	}
	if (job->zip != NULL && job->adopt) {
		(void)say(why, len,
		    "adopt makes a release of the directory's "
		    "own files: stage it without a package");
		goto fail;
	}
	if (lstat(s->final, &st) == 0) {
		(void)say(why, len, "%s exists already", s->final);
		goto fail;
	}
	if (!mkdirs(job->dir, 0755, why, len))
		goto fail;
	if (job->live < 0 && !job->adopt &&
	    foreign(job->dir, name, sizeof(name))) {
		(void)say(why, len,
		    "%s is not empty: deploy with adopt to take its files "
		    "over",
		    job->dir);
		goto fail;
	}
	if (mkdir(s->staging, 0700) == -1 && errno != EEXIST) {
		(void)say(why, len, "cannot make %s: %s", s->staging,
		    strerror(errno));
		goto fail;
	}
	if (!agent_os_remove_tree(NULL, s->tmp) || mkdir(s->tmp, 0755) == -1) {
		(void)say(why, len, "cannot make %s: %s", s->tmp,
		    strerror(errno));
		goto fail;
	}
	made_staging = 1;
	if (!agent_rel_space(s->staging, job->need, why, len))
		goto fail;

	if (job->adopt) {
		if (!adopt(s))
			goto fail;
	} else {
		if (!check_package(s, &res))
			goto fail;
		if (job->live >= 0) {
			memset(&s->w, 0, sizeof(s->w));
			s->w.alen = strlen(s->live);
			memcpy(s->w.a, s->live, s->w.alen + 1);
			s->w.blen = strlen(s->tmp);
			memcpy(s->w.b, s->tmp, s->w.blen + 1);
			if (!overlay(s))
				goto fail;
		}
		if (job->clean && job->live >= 0 &&
		    (s->pkgset = json_object()) == NULL) {
			(void)say(why, len, "out of memory");
			goto fail;
		}
		s->total = res.bytes;
		if (!unpack(s, res.manifest))
			goto fail;
		if (job->progress != NULL)
			job->progress(job->arg, "unpack", 100);
		if (s->pkgset != NULL) {
			memset(&s->w, 0, sizeof(s->w));
			s->w.alen = strlen(s->tmp);
			memcpy(s->w.a, s->tmp, s->w.alen + 1);
			if (!clean(s))
				goto fail;
		}
		if (s->tomcat && !tomcat_base(s))
			goto fail;
		if (!link_shared(s))
			goto fail;
		if (s->admin) {
			memset(&s->w, 0, sizeof(s->w));
			s->w.alen = strlen(s->tmp);
			memcpy(s->w.a, s->tmp, s->w.alen + 1);
			if (!give(s))
				goto fail;
		}
	}
	(void)snprintf(path, sizeof(path), "%s/%s", job->dir, AGENT_REL_DIR);
	if (mkdir(path, 0755) == -1 && errno != EEXIST) {
		(void)say(why, len, "cannot make %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (rename(s->tmp, s->final) == -1) {
		(void)say(why, len, "cannot make %s: %s", s->final,
		    strerror(errno));
		goto fail;
	}
	(void)agent_os_dir_sync(path);
	ok = 1;
fail:
	if (!ok) {
		if (made_staging && job->adopt)
			adopt_undo(s);
		if (made_staging && !agent_os_remove_tree(NULL, s->tmp))
			log_warn("cannot remove %s", s->tmp);
		for (k = 0; k < s->nshared; k++) {
			if (!s->seeded[k])
				continue;
			(void)snprintf(path, sizeof(path), "%s/%s/%s", job->dir,
			    AGENT_REL_SHARED, s->shared[k]);
			if (!agent_os_remove_tree(NULL, path))
				log_warn("cannot remove %s", path);
		}
		job->notes[0] = '\0';
	}
	(void)rmdir(s->staging); /* when empty */
	json_decref(s->pkgset);
	pkg_result_cleanup(&res);
	free(s);
	return (ok);
}
#endif /* AGENT_STAGE_UNPACK */

/* Tree copies: the walk's two tops. */
static int
copy_top(struct copy *c, const char *from, const char *to)
{
	memset(&c->w, 0, sizeof(c->w));
	c->w.alen = strlen(from);
	c->w.blen = strlen(to);
	if (c->w.alen >= sizeof(c->w.a) || c->w.blen >= sizeof(c->w.b))
		return (say(c->why, c->len, "%s: path too long", from));
	memcpy(c->w.a, from, c->w.alen + 1);
	memcpy(c->w.b, to, c->w.blen + 1);
	return (1);
}

/* The slot of st's file (found, or free for it); NULL without memory. */
static struct hl *
hl_get(struct hardlinks *h, const struct stat *st)
{
	struct hl *old, *e;
	size_t	   i, ocap;

	if (h->n * 2 >= h->cap) {
		old = h->tab;
		ocap = h->cap;
		h->cap = ocap == 0 ? HARDLINKS_FIRST : ocap * 2;
		if ((h->tab = calloc(h->cap, sizeof(*h->tab))) == NULL) {
			h->tab = old;
			h->cap = ocap;
			return (NULL);
		}
		h->n = 0;
		for (i = 0; i < ocap; i++) {
			if (old[i].path == NULL)
				continue;
			e = hl_get(h,
			    &(struct stat){ .st_dev = old[i].dev,
				.st_ino = old[i].ino });
			*e = old[i];
			h->n++;
		}
		free(old);
	}
	i = ((uint64_t)st->st_ino * 0x9e3779b97f4a7c15ULL ^
		(uint64_t)st->st_dev) &
	    (h->cap - 1);
	for (;; i = (i + 1) & (h->cap - 1)) {
		e = &h->tab[i];
		if (e->path == NULL ||
		    (e->dev == st->st_dev && e->ino == st->st_ino))
			return (e);
	}
}

static void
hl_free(struct hardlinks *h)
{
	size_t i;

	for (i = 0; i < h->cap; i++)
		free(h->tab[i].path);
	free(h->tab);
	memset(h, 0, sizeof(*h));
}

/* The bytes of the regular files below w->a (a progress total). */
static void
tree_bytes(struct walk *w, uint64_t *total)
{
	struct dirent *de;
	struct stat    st;
	DIR	      *d;
	size_t	       saved[3];

	if ((d = opendir(w->a)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    !walk_push(w, de->d_name, saved))
			continue;
		if (lstat(w->a, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				tree_bytes(w, total);
			else if (S_ISREG(st.st_mode))
				*total += (uint64_t)st.st_size /
				    (st.st_nlink > 0 ? st.st_nlink : 1);
		}
		walk_pop(w, saved);
	}
	(void)closedir(d);
}

/*
 * Copy what is below c->w.a to c->w.b: directories, regular files (hard
 * links kept as links), symbolic links as links, FIFOs; modes and times,
 * and owners with c->owners.  Sockets are left out (a program makes them
 * again); devices are refused.
 */
static int
tree_copy(struct copy *c)
{
	struct timespec ts[2];
	struct dirent  *de;
	struct stat	st, dst;
	struct hl      *e;
	DIR	       *d;
	char		target[PATH_MAX];
	size_t		saved[3];
	ssize_t		n;
	int		ok;

	if ((d = opendir(c->w.a)) == NULL)
		return (say(c->why, c->len, "cannot read %s: %s", c->w.a,
		    strerror(errno)));
	ok = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (!walk_push(&c->w, de->d_name, saved)) {
			(void)say(c->why, c->len, "%s/%s: path too long",
			    c->w.a, de->d_name);
			goto done;
		}
		if (lstat(c->w.a, &st) == -1) {
			(void)say(c->why, c->len, "%s: %s", c->w.a,
			    strerror(errno));
			goto done;
		}
		if (c->one_fs && st.st_dev != c->dev) {
			(void)say(c->why, c->len,
			    "%s is another file system (a mount point): move "
			    "it by hand",
			    c->w.a);
			goto done;
		}
		ts[0] = st.st_atim;
		ts[1] = st.st_mtim;
		if (c->merge && lstat(c->w.b, &dst) == 0) {
			if (S_ISDIR(st.st_mode) && S_ISDIR(dst.st_mode) &&
			    !tree_copy(c))
				goto done;
			walk_pop(&c->w, saved);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (mkdir(c->w.b, 0700) == -1) {
				(void)say(c->why, c->len, "cannot make %s: %s",
				    c->w.b, strerror(errno));
				goto done;
			}
			if (!tree_copy(c))
				goto done;
			if (c->owners && agent_os_admin() &&
			    lchown(c->w.b, st.st_uid, st.st_gid) == -1) {
				(void)say(c->why, c->len, "cannot give %s: %s",
				    c->w.b, strerror(errno));
				goto done;
			}
			(void)chmod(c->w.b, st.st_mode & 07777);
			(void)utimensat(AT_FDCWD, c->w.b, ts, 0);
		} else if (S_ISLNK(st.st_mode)) {
			n = readlink(c->w.a, target, sizeof(target) - 1);
			if (n < 0 ||
			    (target[n] = '\0', symlink(target, c->w.b)) == -1) {
				(void)say(c->why, c->len,
				    "cannot copy the link %s: %s", c->w.a,
				    strerror(errno));
				goto done;
			}
			if (c->owners && agent_os_admin() &&
			    lchown(c->w.b, st.st_uid, st.st_gid) == -1) {
				(void)say(c->why, c->len, "cannot give %s: %s",
				    c->w.b, strerror(errno));
				goto done;
			}
			(void)utimensat(AT_FDCWD, c->w.b, ts,
			    AT_SYMLINK_NOFOLLOW);
		} else if (S_ISREG(st.st_mode)) {
			e = NULL;
			if (st.st_nlink > 1) {
				if ((e = hl_get(&c->hl, &st)) == NULL) {
					(void)say(c->why, c->len,
					    "out of memory");
					goto done;
				}
				if (e->path != NULL &&
				    link(e->path, c->w.b) == 0) {
					walk_pop(&c->w, saved);
					continue;
				}
			}
			if (!copy_file(c->w.a, c->w.b, &st, c->why, c->len))
				goto done;
			if (c->owners && agent_os_admin()) {
				if (lchown(c->w.b, st.st_uid, st.st_gid) ==
				    -1) {
					(void)say(c->why, c->len,
					    "cannot give %s: %s", c->w.b,
					    strerror(errno));
					goto done;
				}
				/* chown cleared set-id bits. */
				(void)chmod(c->w.b, st.st_mode & 07777);
			}
			if (e != NULL && e->path == NULL) {
				if ((e->path = strdup(c->w.b)) == NULL) {
					(void)say(c->why, c->len,
					    "out of memory");
					goto done;
				}
				e->dev = st.st_dev;
				e->ino = st.st_ino;
				c->hl.n++;
			}
			c->done += (uint64_t)st.st_size;
			if (c->progress != NULL && c->done >= c->next) {
				c->next = c->done + PROGRESS_STEP;
				c->progress(c->arg, "copy",
				    c->total == 0
					? -1
					: (int)(c->done >= c->total
						  ? 99
						  : c->done * 100 / c->total));
			}
		} else if (S_ISFIFO(st.st_mode)) {
			if (mkfifo(c->w.b, st.st_mode & 07777) == -1) {
				(void)say(c->why, c->len, "cannot make %s: %s",
				    c->w.b, strerror(errno));
				goto done;
			}
		} else if (!S_ISSOCK(st.st_mode)) {
			(void)say(c->why, c->len, "%s is a device: not copied",
			    c->w.a);
			goto done;
		}
		walk_pop(&c->w, saved);
	}
	ok = 1;
done:
	(void)closedir(d);
	return (ok);
}

/* Whether two regular files hold the same bytes: 1 with *eq, or 0. */
static int
files_equal(const char *a, const char *b, int *eq)
{
	char   *x, *y;
	ssize_t n, m;
	int	fa, fb, ok;

	ok = 0;
	*eq = 0;
	x = malloc(COPY_BUF);
	y = malloc(COPY_BUF);
	fa = open(a, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	fb = open(b, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (x == NULL || y == NULL || fa == -1 || fb == -1)
		goto done;
	for (;;) {
		n = read(fa, x, COPY_BUF);
		m = read(fb, y, COPY_BUF);
		if (n < 0 || m < 0)
			goto done;
		if (n != m || memcmp(x, y, (size_t)n) != 0)
			break;
		if (n == 0) {
			*eq = 1;
			break;
		}
	}
	ok = 1;
done:
	if (fa != -1)
		(void)close(fa);
	if (fb != -1)
		(void)close(fb);
	free(x);
	free(y);
	return (ok);
}

/* The copy says what the original says: types, modes, links, bytes. */
static int
tree_verify(struct copy *c)
{
	struct dirent *de;
	struct stat    st, dst;
	struct hl     *e;
	DIR	      *d;
	char	       t1[PATH_MAX], t2[PATH_MAX];
	size_t	       saved[3];
	ssize_t	       n, m;
	int	       ok, eq;

	if ((d = opendir(c->w.a)) == NULL)
		return (say(c->why, c->len, "cannot read %s: %s", c->w.a,
		    strerror(errno)));
	ok = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (!walk_push(&c->w, de->d_name, saved))
			goto done;
		if (lstat(c->w.a, &st) == -1) {
			(void)say(c->why, c->len, "%s: %s", c->w.a,
			    strerror(errno));
			goto done;
		}
		if (S_ISSOCK(st.st_mode)) {
			walk_pop(&c->w, saved);
			continue;
		}
		if (lstat(c->w.b, &dst) == -1 ||
		    (st.st_mode & S_IFMT) != (dst.st_mode & S_IFMT) ||
		    (!S_ISLNK(st.st_mode) &&
			(st.st_mode & 07777) != (dst.st_mode & 07777))) {
			(void)say(c->why, c->len,
			    "the copy %s differs from %s (type or mode)",
			    c->w.b, c->w.a);
			goto done;
		}
		if (S_ISDIR(st.st_mode)) {
			if (!tree_verify(c))
				goto done;
		} else if (S_ISLNK(st.st_mode)) {
			n = readlink(c->w.a, t1, sizeof(t1) - 1);
			m = readlink(c->w.b, t2, sizeof(t2) - 1);
			if (n < 0 || n != m || memcmp(t1, t2, (size_t)n) != 0) {
				(void)say(c->why, c->len,
				    "the copy %s differs from %s (link)",
				    c->w.b, c->w.a);
				goto done;
			}
		} else if (S_ISREG(st.st_mode)) {
			e = st.st_nlink > 1 ? hl_get(&c->hl, &st) : NULL;
			if (e != NULL && e->path != NULL && e->verified) {
				walk_pop(&c->w, saved);
				continue;
			}
			if (st.st_size != dst.st_size ||
			    !files_equal(c->w.a, c->w.b, &eq) || !eq) {
				(void)say(c->why, c->len,
				    "the copy %s differs from %s (bytes)",
				    c->w.b, c->w.a);
				goto done;
			}
			if (e != NULL && e->path != NULL)
				e->verified = 1;
		}
		walk_pop(&c->w, saved);
	}
	ok = 1;
done:
	(void)closedir(d);
	return (ok);
}

/* Remove everything below dir (dir stays). */
static int
empty_dir(const char *dir)
{
	struct dirent *de;
	DIR	      *d;
	char	       p[PATH_MAX];
	int	       ok;

	if ((d = opendir(dir)) == NULL)
		return (0);
	ok = 1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >=
			(int)sizeof(p) ||
		    !agent_os_remove_tree(NULL, p))
			ok = 0;
	}
	(void)closedir(d);
	return (ok);
}

/* Whether dir has no entries. */
static int
dir_empty(const char *dir)
{
	struct dirent *de;
	DIR	      *d;
	int	       empty;

	if ((d = opendir(dir)) == NULL)
		return (0);
	empty = 1;
	while (empty && (de = readdir(d)) != NULL)
		empty = strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0;
	(void)closedir(d);
	return (empty);
}

/* The parent directory of path into buf (path is absolute). */
static int
parent_of(const char *path, char *buf, size_t len)
{
	const char *slash;
	size_t	    n;

	slash = strrchr(path, '/');
	n = slash == NULL ? 0 : (size_t)(slash - path);
	if (n + 1 >= len)
		return (0);
	if (n == 0) {
		(void)snprintf(buf, len, "/");
		return (1);
	}
	memcpy(buf, path, n);
	buf[n] = '\0';
	return (1);
}

int
agent_rel_move(const char *from, const char *to, agent_rel_progress progress,
    void *arg, char *why, size_t len)
{
	struct timespec ts[2];
	struct stat	st, tst;
	struct copy    *c;
	char		parent[PATH_MAX], made[PATH_MAX], p[PATH_MAX];
	size_t		n, i;
	int		ok, existed, r;

	n = strlen(from);
	if (from[0] != '/' || to[0] != '/' || strcmp(from, to) == 0 ||
	    (strncmp(to, from, n) == 0 && to[n] == '/'))
		return (say(why, len, "cannot move %s to %s", from, to));
	if (lstat(from, &st) == -1 || !S_ISDIR(st.st_mode))
		return (say(why, len, "%s is not a directory", from));
	made[0] = '\0';
	existed = lstat(to, &tst) == 0;
	if (existed && (!S_ISDIR(tst.st_mode) || !dir_empty(to)))
		return (say(why, len, "%s exists and is not empty", to));
	if (!existed) {
		/* Its missing parents, the topmost remembered for undo. */
		if (!parent_of(to, parent, sizeof(parent)))
			return (say(why, len, "%s: path too long", to));
		for (i = 1; parent[i - 1] != '\0'; i++) {
			if (parent[i] != '/' && parent[i] != '\0')
				continue;
			memcpy(p, parent, i);
			p[i] = '\0';
			if (mkdir(p, 0755) == 0) {
				if (made[0] == '\0')
					memcpy(made, p, i + 1);
			} else if (errno != EEXIST) {
				(void)say(why, len, "cannot make %s: %s", p,
				    strerror(errno));
				goto undo_parents;
			}
			if (parent[i] == '\0')
				break;
		}
	}
	if (progress != NULL)
		progress(arg, "move", -1);
	if (rename(from, to) == 0) {
		if (parent_of(to, p, sizeof(p)))
			(void)agent_os_dir_sync(p);
		if (parent_of(from, p, sizeof(p)))
			(void)agent_os_dir_sync(p);
		return (1);
	}
	if (errno != EXDEV) {
		(void)say(why, len, "cannot move %s to %s: %s", from, to,
		    strerror(errno));
		goto undo_parents;
	}

	/* Another file system: copy, compare, then remove the old one. */
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		(void)say(why, len, "out of memory");
		goto undo_parents;
	}
	c->one_fs = 1;
	c->dev = st.st_dev;
	c->owners = 1;
	c->progress = progress;
	c->arg = arg;
	c->why = why;
	c->len = len;
	ok = 0;
	if (!existed && mkdir(to, 0700) == -1) {
		(void)say(why, len, "cannot make %s: %s", to, strerror(errno));
		goto copy_done;
	}
	if (!copy_top(c, from, to))
		goto copy_fail;
	tree_bytes(&c->w, &c->total);
	if (progress != NULL)
		progress(arg, "copy", 0);
	if (!copy_top(c, from, to) || !tree_copy(c))
		goto copy_fail;
	if (!copy_top(c, from, to) || !tree_verify(c))
		goto copy_fail;
	if (agent_os_admin() && lchown(to, st.st_uid, st.st_gid) == -1) {
		(void)say(why, len, "cannot give %s: %s", to, strerror(errno));
		goto copy_fail;
	}
	(void)chmod(to, st.st_mode & 07777);
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	(void)utimensat(AT_FDCWD, to, ts, 0);
	if (progress != NULL)
		progress(arg, "copy", 100);
	ok = 1;
	if (!agent_os_remove_tree(NULL, from))
		log_warn("moved %s to %s, but cannot remove all of %s", from,
		    to, from);
	goto copy_done;
copy_fail:
	r = existed ? empty_dir(to) : agent_os_remove_tree(NULL, to);
	if (!r)
		log_warn("cannot remove the partial copy %s", to);
copy_done:
	hl_free(&c->hl);
	free(c);
	if (ok)
		return (1);
undo_parents:
	if (made[0] != '\0' && !agent_os_remove_tree(NULL, made))
		log_warn("cannot remove %s", made);
	return (0);
}

/*
 * again(): the preserved files below s->w.a (live) newer than their
 * copies below s->w.b (the new release), copied again; *n counts them.
 */
static int
again(struct stage *s, int *n)
{
	struct dirent *de;
	struct stat    st, cur;
	DIR	      *d;
	char	       tmp[PATH_MAX], par[PATH_MAX];
	size_t	       saved[3];
	int	       ok;

	if ((d = opendir(s->w.a)) == NULL)
		return (say(s->why, s->len, "cannot read %s: %s", s->w.a,
		    strerror(errno)));
	ok = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (!walk_push(&s->w, de->d_name, saved)) {
			(void)say(s->why, s->len, "%s/%s: path too long",
			    s->w.a, de->d_name);
			goto done;
		}
		if (lstat(s->w.a, &st) == -1) {
			(void)say(s->why, s->len, "%s: %s", s->w.a,
			    strerror(errno));
			goto done;
		}
		if (in_shared(s, s->w.r, 0)) {
			/* Linked, not copied: nothing to carry. */
		} else if (S_ISDIR(st.st_mode)) {
			if (!again(s, n))
				goto done;
		} else if (S_ISREG(st.st_mode) && is_preserved(s, s->w.r)) {
			if (lstat(s->w.b, &cur) == 0 && S_ISREG(cur.st_mode) &&
			    cur.st_size == st.st_size &&
			    cur.st_mtim.tv_sec == st.st_mtim.tv_sec &&
			    cur.st_mtim.tv_nsec == st.st_mtim.tv_nsec) {
				walk_pop(&s->w, saved);
				continue;
			}
			if (snprintf(tmp, sizeof(tmp), "%s.yard-new", s->w.b) >=
			    (int)sizeof(tmp)) {
				(void)say(s->why, s->len, "%s: path too long",
				    s->w.b);
				goto done;
			}
			(void)unlink(tmp);
			if (!parent_of(s->w.b, par, sizeof(par)) ||
			    !mkdirs(par, 0755, s->why, s->len) ||
			    !copy_file(s->w.a, tmp, &st, s->why, s->len))
				goto done;
			if (s->admin && lchown(tmp, st.st_uid, st.st_gid) == -1)
				log_warn("chown %s", tmp);
			if (rename(tmp, s->w.b) == -1) {
				(void)say(s->why, s->len,
				    "cannot replace %s: %s", s->w.b,
				    strerror(errno));
				(void)unlink(tmp);
				goto done;
			}
			(*n)++;
		}
		walk_pop(&s->w, saved);
	}
	ok = 1;
done:
	(void)closedir(d);
	return (ok);
}

int
agent_rel_preserve_again(const struct agent_rel_job *job, char *why, size_t len)
{
	struct agent_rel_job j = *job;
	struct stage	    *s;
	int		     n;

	if (job->live < 0)
		return (0);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (say(why, len, "out of memory") - 1);
	j.notes[0] = '\0';
	s->job = &j;
	s->why = why;
	s->len = len;
	s->admin = agent_os_admin();
	n = 0;
	if (!stage_paths(s)) {
		n = -1;
	} else if (s->npres > 0) {
		memset(&s->w, 0, sizeof(s->w));
		s->w.alen = strlen(s->live);
		memcpy(s->w.a, s->live, s->w.alen + 1);
		s->w.blen = strlen(s->final);
		memcpy(s->w.b, s->final, s->w.blen + 1);
		if (!again(s, &n))
			n = -1;
	}
	free(s);
	return (n);
}
