/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Applying a task's configuration to its tree (docs/config.md, "On the
 * node"), and keeping the last one each task got.  Releases share files
 * by hard links (stage.c), so a file is never written in place: each is
 * written to a temporary file in its own directory, then renamed over
 * the old one, all files of one apply together or none.
 *
 * Values never reach a log line, an output or an error message: errors
 * name keys, files and nodepaths only.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agent.h"
#include "cfgedit/cfgedit.h"
#include "config.h"

/* One file an apply writes. */
struct cfg_out {
	const char *rel; /* as the configuration names it */
	char	   *buf; /* its new bytes */
	size_t	    len;
	int	    owned; /* buf is ours to free */
	int	    props; /* the generated .properties file */
	char	    real[PATH_MAX]; /* resolved */
	char	   *base; /* into real: the name in its directory */
	int	    dfd; /* its directory; -1 */
	int	    existed;
	char	    tmp[NAME_MAX + 1]; /* "": none */
	char	    bak[NAME_MAX + 1]; /* "": none */
	int	    renamed;
};

struct cfg_apply {
	const struct agentproto_config *cfg;
	const struct agent_cfgdest     *dest;
	struct cfg_out		       *v;
	size_t				n;
	char				made[16][PATH_MAX]; /* dirs we made */
	size_t				nmade;
};

static int fail(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static int resolve(struct cfg_apply *, const char *, char *, char *, size_t);
static int read_target(struct cfg_apply *, const char *, char **, size_t *,
    char *, size_t);
static struct cfg_out *out_find(struct cfg_apply *, const char *);
static int	       collect(struct cfg_apply *, char *, size_t);
static int	       mapped(struct cfg_apply *, size_t, char *, size_t);
static int	       props(struct cfg_apply *, char *, size_t);
static int  mkdirs(struct cfg_apply *, const char *, const char *, char *,
     size_t);
static int  prepare(struct cfg_apply *, struct cfg_out *, char *, size_t);
static int  commit(struct cfg_apply *, char *, size_t);
static void undo(struct cfg_apply *);
static void release(struct cfg_apply *);

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/*
 * rel below the tree, every symlink followed, into real: inside the
 * task's confinement (its deploy directory, never the state directory).
 */
static int
resolve(struct cfg_apply *a, const char *rel, char *real, char *err,
    size_t errlen)
{
	char full[PATH_MAX];

	if ((size_t)snprintf(full, sizeof(full), "%s/%s", a->dest->tree, rel) >=
	    sizeof(full))
		return (fail(err, errlen, "config: %s: path too long", rel));
	if (!agent_path_resolve(full, real, PATH_MAX))
		return (
		    fail(err, errlen, "config: %s: %s", rel, strerror(errno)));
	if (a->dest->conf != NULL && !agent_confine_path(a->dest->conf, real))
		return (fail(err, errlen, "config: %s: resolves %s", rel,
		    a->dest->conf->deny[0] != '\0' &&
			    agent_path_inside(real, a->dest->conf->deny)
			? "into the agent's state directory"
			: "outside the task's deploy directory"));
	return (0);
}

/* The bytes of the file rel now (a mapping's base), malloc'd. */
static int
read_target(struct cfg_apply *a, const char *rel, char **buf, size_t *len,
    char *err, size_t errlen)
{
	struct stat st;
	char	    real[PATH_MAX];
	char	   *b = NULL;
	size_t	    n = 0;
	ssize_t	    r;
	int	    fd;

	*buf = NULL;
	*len = 0;
	if (resolve(a, rel, real, err, errlen) == -1)
		return (-1);
	if ((fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return (fail(err, errlen, "config: %s: %s", rel,
		    errno == ENOENT ? "no such file to map into"
				    : strerror(errno)));
	if ((a->dest->conf != NULL &&
		!agent_confine_fd(a->dest->conf, fd, NULL, 0)) ||
	    fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		return (fail(err, errlen,
		    "config: %s: not a regular file "
		    "inside the task's deploy directory",
		    rel));
	}
	if (st.st_size > AGENT_CONFIG_READ_MAX) {
		(void)close(fd);
		return (fail(err, errlen, "config: %s: larger than %d bytes",
		    rel, AGENT_CONFIG_READ_MAX));
	}
	if ((b = malloc((size_t)st.st_size + 1)) == NULL) {
		(void)close(fd);
		return (fail(err, errlen, "config: %s: out of memory", rel));
	}
	while (n < (size_t)st.st_size &&
	    (r = read(fd, b + n, (size_t)st.st_size - n)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			free(b);
			(void)close(fd);
			return (fail(err, errlen, "config: %s: %s", rel,
			    strerror(errno)));
		}
		n += (size_t)r;
	}
	(void)close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return (0);
}

static struct cfg_out *
out_find(struct cfg_apply *a, const char *rel)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		if (strcmp(a->v[i].rel, rel) == 0)
			return (&a->v[i]);
	}
	return (NULL);
}

/* The mappings into the file of mapping i (its first), all at once. */
static int
mapped(struct cfg_apply *a, size_t first, char *err, size_t errlen)
{
	const struct agentproto_config	    *c = a->cfg;
	const struct agentproto_cfg_mapping *m = &c->mappings[first];
	struct cfgedit_edit		    *ed;
	struct cfg_out			    *o = NULL;
	char				    *in = NULL, *out = NULL;
	char				     why[CFGEDIT_ERR_MAX];
	size_t				     i, j, n = 0, inlen, outlen;
	int				     ret = -1;

	if ((ed = calloc(c->nmappings, sizeof(*ed))) == NULL)
		return (fail(err, errlen, "config: out of memory"));
	for (i = first; i < c->nmappings; i++) {
		if (strcmp(c->mappings[i].file, m->file) != 0)
			continue;
		if (c->mappings[i].format != m->format) {
			(void)fail(err, errlen,
			    "config: %s: mapped both as %s and as %s", m->file,
			    cfgedit_format_name(m->format),
			    cfgedit_format_name(c->mappings[i].format));
			goto done;
		}
		for (j = 0; j < c->nvalues; j++) {
			if (strcmp(c->values[j].key, c->mappings[i].key) == 0)
				break;
		}
		if (j == c->nvalues) {
			(void)fail(err, errlen,
			    "config: %s: %s: no value for "
			    "key \"%s\"",
			    m->file, c->mappings[i].nodepath,
			    c->mappings[i].key);
			goto done;
		}
		ed[n].path = c->mappings[i].nodepath;
		ed[n].value = c->values[j].value;
		ed[n].value_len = c->values[j].value_len;
		n++;
	}
	/* A file override of the same path is the base, else the file. */
	if ((o = out_find(a, m->file)) != NULL) {
		in = o->buf;
		inlen = o->len;
	} else if (read_target(a, m->file, &in, &inlen, err, errlen) == -1)
		goto done;
	if (cfgedit_apply((enum cfgedit_format)m->format, in, inlen, ed, n,
		&out, &outlen, why, sizeof(why)) == -1) {
		/*
		 * cfgedit names the nodepath when one is at fault; else, with
		 * one edit, it is that one's (a file that does not parse).
		 */
		for (i = 0; i < n; i++) {
			if (strstr(why, ed[i].path) != NULL)
				break;
		}
		if (i < n || n != 1)
			(void)fail(err, errlen, "config: %s: %s", m->file, why);
		else
			(void)fail(err, errlen, "config: %s: %s: %s", m->file,
			    ed[0].path, why);
		goto done;
	}
	if (o == NULL) {
		o = &a->v[a->n++];
		o->rel = m->file;
		free(in);
	} else if (o->owned)
		free(o->buf);
	in = NULL;
	o->buf = out;
	o->len = outlen;
	o->owned = 1;
	ret = 0;
done:
	if (o == NULL)
		free(in);
	free(ed);
	return (ret);
}

/* The generated .properties file: every effective value. */
static int
props(struct cfg_apply *a, char *err, size_t errlen)
{
	const struct agentproto_config *c = a->cfg;
	struct cfgedit_prop	       *p = NULL;
	struct cfg_out		       *o;
	char				hdr[128];
	char			       *out = NULL;
	size_t				i, len;

	if (c->nvalues > 0 && (p = calloc(c->nvalues, sizeof(*p))) == NULL)
		return (fail(err, errlen, "config: out of memory"));
	for (i = 0; i < c->nvalues; i++) {
		p[i].key = c->values[i].key;
		p[i].key_len = strlen(c->values[i].key);
		p[i].value = c->values[i].value;
		p[i].value_len = c->values[i].value_len;
		p[i].line = (int)i + 1;
	}
	(void)snprintf(hdr, sizeof(hdr),
	    "Written by yard-agent from configuration version %" PRId64
	    "; changes are overwritten.",
	    c->version);
	if (cfgedit_props_write(p, c->nvalues, hdr, &out, &len) == -1) {
		free(p);
		return (fail(err, errlen, "config: %s: cannot write the values",
		    c->properties_file));
	}
	free(p);
	o = &a->v[a->n++];
	o->rel = c->properties_file;
	o->buf = out;
	o->len = len;
	o->owned = 1;
	o->props = 1;
	return (0);
}

/* Overrides, then mappings, then the properties file, in memory. */
static int
collect(struct cfg_apply *a, char *err, size_t errlen)
{
	const struct agentproto_config *c = a->cfg;
	size_t				i, j;

	for (i = 0; i < c->nfiles; i++) {
		a->v[a->n].rel = c->files[i].path;
		a->v[a->n].buf = (char *)c->files[i].content;
		a->v[a->n].len = c->files[i].len;
		a->n++;
	}
	for (i = 0; i < c->nmappings; i++) {
		for (j = 0; j < i; j++) {
			if (strcmp(c->mappings[j].file, c->mappings[i].file) ==
			    0)
				break;
		}
		if (j < i)
			continue; /* that file is done */
		if (mapped(a, i, err, errlen) == -1)
			return (-1);
	}
	if (c->properties_file != NULL && props(a, err, errlen) == -1)
		return (-1);
	return (0);
}

/*
 * The missing directories of dir (resolved: its existing part is real),
 * made for the task's account and remembered for undo().  Each is made
 * and given away relative to the descriptor of its checked parent, so
 * that a directory swapped for a symlink meanwhile leads nowhere.
 */
static int
mkdirs(struct cfg_apply *a, const char *rel, const char *dir, char *err,
    size_t errlen)
{
	struct stat st;
	char	    top[PATH_MAX], *p, *name, *next;
	int	    pfd, fd, ret = -1;

	if (stat(dir, &st) == 0)
		return (S_ISDIR(st.st_mode)
			? 0
			: fail(err, errlen,
			      "config: %s: a parent is not a "
			      "directory",
			      rel));
	/* The deepest directory that exists. */
	(void)snprintf(top, sizeof(top), "%s", dir);
	do {
		if ((p = strrchr(top, '/')) == NULL)
			return (
			    fail(err, errlen, "config: %s: no parent", rel));
		*p = '\0';
	} while (top[0] != '\0' && stat(top, &st) == -1);
	if ((pfd = open(top[0] == '\0' ? "/" : top,
		 O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (
		    fail(err, errlen, "config: %s: %s", rel, strerror(errno)));
	if (a->dest->conf != NULL &&
	    !agent_confine_fd(a->dest->conf, pfd, NULL, 0)) {
		(void)fail(err, errlen,
		    "config: %s: resolves outside the task's deploy directory",
		    rel);
		goto done;
	}
	/* The rest, one name at a time below it. */
	(void)snprintf(top, sizeof(top), "%s", dir + strlen(top) + 1);
	for (name = top; name != NULL; name = next) {
		if ((next = strchr(name, '/')) != NULL)
			*next++ = '\0';
		if (a->nmade == sizeof(a->made) / sizeof(a->made[0])) {
			(void)fail(err, errlen,
			    "config: %s: too many directories to make", rel);
			goto done;
		}
		if (mkdirat(pfd, name, AGENT_CONFIG_DIR_MODE) == -1 ||
		    (fd = openat(pfd, name,
			 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) ==
			-1) {
			(void)fail(err, errlen, "config: %s: mkdir %s: %s", rel,
			    name, strerror(errno));
			goto done;
		}
		(void)close(pfd);
		pfd = fd;
		/* Remembered by its path as the kernel has it. */
		if (!agent_os_fd_path(fd, a->made[a->nmade], PATH_MAX))
			(void)snprintf(a->made[a->nmade], PATH_MAX, "%s", dir);
		a->nmade++;
		if (a->dest->chown &&
		    fchown(fd, a->dest->uid, a->dest->gid) == -1) {
			(void)fail(err, errlen, "config: %s: chown %s: %s", rel,
			    name, strerror(errno));
			goto done;
		}
	}
	ret = 0;
done:
	(void)close(pfd);
	return (ret);
}

/* o's temporary file, written and synced, with its final mode and owner. */
static int
prepare(struct cfg_apply *a, struct cfg_out *o, char *err, size_t errlen)
{
	struct stat st;
	char	    dir[PATH_MAX];
	mode_t	    mode;
	uid_t	    uid = (uid_t)-1;
	gid_t	    gid = (gid_t)-1;
	size_t	    i, off;
	ssize_t	    w;
	int	    fd;

	if (resolve(a, o->rel, o->real, err, errlen) == -1)
		return (-1);
	/* Two names of one file would overwrite each other. */
	for (i = 0; &a->v[i] != o; i++) {
		if (strcmp(a->v[i].real, o->real) == 0)
			return (fail(err, errlen,
			    "config: %s and %s are the same file", a->v[i].rel,
			    o->rel));
	}
	if ((o->base = strrchr(o->real, '/')) == NULL || o->base[1] == '\0')
		return (fail(err, errlen, "config: %s: not a file", o->rel));
	(void)snprintf(dir, sizeof(dir), "%.*s",
	    o->base == o->real ? 1 : (int)(o->base - o->real), o->real);
	o->base++;
	if (strlen(o->base) > NAME_MAX - 24)
		return (fail(err, errlen, "config: %s: name too long", o->rel));
	if (mkdirs(a, o->rel, dir, err, errlen) == -1)
		return (-1);
	if ((o->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (fail(err, errlen, "config: %s: %s", o->rel,
		    strerror(errno)));
	/* The directory opened is the one checked, whatever changed since. */
	if (a->dest->conf != NULL &&
	    !agent_confine_fd(a->dest->conf, o->dfd, NULL, 0))
		return (fail(err, errlen,
		    "config: %s: resolves outside the task's deploy directory",
		    o->rel));
	if (fstatat(o->dfd, o->base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode))
			return (fail(err, errlen,
			    "config: %s: not a regular file", o->rel));
		o->existed = 1;
		mode = st.st_mode & 07777;
		uid = st.st_uid;
		gid = st.st_gid;
	} else if (errno != ENOENT)
		return (fail(err, errlen, "config: %s: %s", o->rel,
		    strerror(errno)));
	else {
		mode = AGENT_CONFIG_NEW_MODE;
		if (a->dest->chown) {
			uid = a->dest->uid;
			gid = a->dest->gid;
		}
	}
	/* It holds every value, secrets too. */
	if (o->props)
		mode = AGENT_CONFIG_PROPS_MODE;
	(void)snprintf(o->tmp, sizeof(o->tmp), ".%s.yard-cfg-%ld", o->base,
	    (long)getpid());
	(void)unlinkat(o->dfd, o->tmp, 0); /* a crashed apply's */
	if ((fd = openat(o->dfd, o->tmp,
		 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) ==
	    -1) {
		o->tmp[0] = '\0';
		return (fail(err, errlen, "config: %s: %s", o->rel,
		    strerror(errno)));
	}
	for (off = 0; off < o->len; off += (size_t)w) {
		if ((w = write(fd, o->buf + off, o->len - off)) == -1) {
			if (errno == EINTR) {
				w = 0;
				continue;
			}
			goto bad;
		}
	}
	if ((uid != (uid_t)-1 && agent_os_admin() &&
		fchown(fd, uid, gid) == -1) ||
	    fchmod(fd, mode) == -1 || fsync(fd) == -1)
		goto bad;
	if (close(fd) == -1) {
		fd = -1;
		goto bad;
	}
	return (0);
bad:
	(void)fail(err, errlen, "config: %s: %s", o->rel, strerror(errno));
	if (fd != -1)
		(void)close(fd);
	return (-1);
}

/*
 * Every temporary file over its target, each old file kept as a hard
 * link until all are in; a failing rename puts the renamed ones back.
 */
static int
commit(struct cfg_apply *a, char *err, size_t errlen)
{
	struct cfg_out *o;
	size_t		i;

	for (i = 0; i < a->n; i++) {
		o = &a->v[i];
		if (o->existed) {
			(void)snprintf(o->bak, sizeof(o->bak),
			    ".%s.yard-bak-%ld", o->base, (long)getpid());
			(void)unlinkat(o->dfd, o->bak, 0);
			if (linkat(o->dfd, o->base, o->dfd, o->bak, 0) == -1) {
				o->bak[0] = '\0';
				(void)fail(err, errlen, "config: %s: %s",
				    o->rel, strerror(errno));
				return (-1);
			}
		}
		if (renameat(o->dfd, o->tmp, o->dfd, o->base) == -1) {
			(void)fail(err, errlen, "config: %s: %s", o->rel,
			    strerror(errno));
			return (-1);
		}
		o->tmp[0] = '\0';
		o->renamed = 1;
	}
	return (0);
}

/* Everything as it was: the old files back, temporaries and dirs gone. */
static void
undo(struct cfg_apply *a)
{
	struct cfg_out *o;
	size_t		i;

	for (i = a->n; i-- > 0;) {
		o = &a->v[i];
		if (o->renamed) {
			if (o->bak[0] != '\0' &&
			    renameat(o->dfd, o->bak, o->dfd, o->base) == 0)
				o->bak[0] = '\0';
			else if (!o->existed)
				(void)unlinkat(o->dfd, o->base, 0);
			o->renamed = 0;
		}
		/* Before the directories they may lie in. */
		if (o->tmp[0] != '\0' && o->dfd != -1) {
			(void)unlinkat(o->dfd, o->tmp, 0);
			o->tmp[0] = '\0';
		}
	}
	for (i = a->nmade; i-- > 0;)
		(void)rmdir(a->made[i]);
	a->nmade = 0;
}

/* Temporaries and backups removed, directories synced and closed. */
static void
release(struct cfg_apply *a)
{
	struct cfg_out *o;
	size_t		i;

	for (i = 0; i < a->n; i++) {
		o = &a->v[i];
		if (o->dfd != -1) {
			if (o->tmp[0] != '\0')
				(void)unlinkat(o->dfd, o->tmp, 0);
			if (o->bak[0] != '\0')
				(void)unlinkat(o->dfd, o->bak, 0);
			(void)fsync(o->dfd);
			(void)close(o->dfd);
		}
		if (o->owned) {
			explicit_bzero(o->buf, o->len);
			free(o->buf);
		}
	}
	free(a->v);
}

int
agent_config_apply(const struct agentproto_config *cfg,
    const struct agent_cfgdest *dest, struct agent_cfgstats *st, char *err,
    size_t errlen)
{
	struct cfg_apply a;
	size_t		 i, cap;
	int		 ret = -1;

	memset(&a, 0, sizeof(a));
	a.cfg = cfg;
	a.dest = dest;
	cap = cfg->nfiles + cfg->nmappings + 1;
	if ((a.v = calloc(cap, sizeof(*a.v))) == NULL)
		return (fail(err, errlen, "config: out of memory"));
	for (i = 0; i < cap; i++)
		a.v[i].dfd = -1;
	if (collect(&a, err, errlen) == -1)
		goto done;
	for (i = 0; i < a.n; i++) {
		if (prepare(&a, &a.v[i], err, errlen) == -1)
			goto done;
	}
	if (commit(&a, err, errlen) == -1)
		goto done;
	if (st != NULL) {
		st->files = a.n;
		st->mapped = cfg->nmappings;
	}
	a.nmade = 0; /* they stay */
	ret = 0;
done:
	if (ret == -1)
		undo(&a);
	release(&a);
	return (ret);
}

int
agent_config_env(const struct agentproto_config *cfg, json_t *env,
    struct agent_cfgstats *st)
{
	char   name[AGENTPROTO_CFG_KEY_MAX * 2 + 1];
	size_t i, n = 0;
	int    len;

	if (!cfg->env)
		return (0);
	for (i = 0; i < cfg->nvalues; i++) {
		if (cfgedit_env_name(cfg->values[i].key, name, sizeof(name)) ==
		    -1) {
			st->env_skipped++;
			len = (int)strlen(st->skipped);
			if ((size_t)len + strlen(cfg->values[i].key) + 3 <
			    sizeof(st->skipped))
				(void)snprintf(st->skipped + len,
				    sizeof(st->skipped) - (size_t)len, "%s%s",
				    len > 0 ? ", " : "", cfg->values[i].key);
			continue;
		}
		if (json_object_set_new(env, name,
			json_stringn(cfg->values[i].value,
			    cfg->values[i].value_len)) == -1)
			return (-1);
		n++;
	}
	st->env = n;
	return (0);
}

void
agent_config_note(const struct agentproto_config *cfg,
    const struct agent_cfgstats *st, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len,
	    "config v%" PRId64 " applied: %zu file%s written, %zu value%s "
	    "mapped",
	    cfg->version, st->files, st->files == 1 ? "" : "s", st->mapped,
	    st->mapped == 1 ? "" : "s");
	if (n < 0 || (size_t)n >= len)
		return;
	if (st->env > 0)
		n += snprintf(buf + n, len - (size_t)n,
		    ", %zu environment variable%s", st->env,
		    st->env == 1 ? "" : "s");
	if (n < 0 || (size_t)n >= len)
		return;
	if (st->env_skipped > 0)
		(void)snprintf(buf + n, len - (size_t)n,
		    "; not in the environment (no variable name): %s%s",
		    st->skipped,
		    st->env_skipped > 1 && strchr(st->skipped, ',') == NULL
			? ", ..."
			: "");
}

void
agent_config_params(const struct agentproto_config *cfg,
    const struct agent_cfgstats *st, char *buf, size_t len)
{
	json_t *o;
	char   *s;

	if (len > 0)
		buf[0] = '\0';
	o = json_pack("{s:I, s:I, s:I, s:I, s:I}", "config_version",
	    (json_int_t)cfg->version, "config_files", (json_int_t)st->files,
	    "config_values", (json_int_t)st->mapped, "config_env",
	    (json_int_t)st->env, "config_env_skipped",
	    (json_int_t)st->env_skipped);
	if (o == NULL)
		return;
	if (st->env_skipped > 0)
		(void)json_object_set_new(o, "config_skipped_keys",
		    json_string(st->skipped));
	if ((s = json_dumps(o, JSON_COMPACT)) != NULL && strlen(s) < len)
		memcpy(buf, s, strlen(s) + 1);
	free(s);
	json_decref(o);
}

int
agent_config_save(const char *state, int64_t id, const json_t *cfg)
{
	char   dir[AGENT_PATH_MAX], name[64], path[AGENT_PATH_MAX + 64];
	char  *s;
	size_t len;
	int    ok;

	(void)snprintf(dir, sizeof(dir), "%s/%s", state, AGENT_CONFIG_DIR);
	(void)snprintf(name, sizeof(name), "%" PRId64 ".json", id);
	if (cfg == NULL || json_is_null(cfg)) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (unlink(path) == -1 && errno != ENOENT) {
			log_warn("task %" PRId64 ": %s", id, path);
			return (0);
		}
		return (1);
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("%s", dir);
		return (0);
	}
	if ((s = json_dumps(cfg, JSON_COMPACT)) == NULL) {
		log_warnx("task %" PRId64 ": config: out of memory", id);
		return (0);
	}
	len = strlen(s);
	ok = agent_write_atomic(dir, name, s, len, 0600);
	explicit_bzero(s, len);
	free(s);
	if (!ok)
		log_warnx("task %" PRId64 ": cannot keep its configuration",
		    id);
	return (ok);
}

int
agent_config_load(const char *state, int64_t id, struct agentproto_config *cfg,
    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t	    *o;
	char	     path[AGENT_PATH_MAX + 64];
	int	     r;

	memset(cfg, 0, sizeof(*cfg));
	(void)snprintf(path, sizeof(path), "%s/%s/%" PRId64 ".json", state,
	    AGENT_CONFIG_DIR, id);
	if (access(path, F_OK) == -1 && errno == ENOENT)
		return (0);
	if ((o = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		(void)fail(err, errlen,
		    "config: the kept configuration does not load (line %d)",
		    jerr.line);
		return (-1);
	}
	r = agentproto_config_decode(o, cfg, err, errlen);
	json_decref(o);
	return (r == 0 ? 1 : -1);
}
