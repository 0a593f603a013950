/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * pkg_check(): is a zip (war, jar) safe to store and to unpack on a node?
 * Two passes.  The first walks the zip's own directory (end record,
 * central directory, every local header) with bounds from the limits,
 * before anything is allocated per entry: names, types, duplicates,
 * encryption, overlapping entries.  The second lets libarchive read every
 * entry's data, counting what inflate really produces (the sizes headers
 * claim are only compared, never trusted), with the caps applied block by
 * block, and hashes each file for the manifest.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "pkg/internal.h"

#define WINDOW	      (256 * 1024) /* > 46 + 3 * 65535, one directory record */
#define REFILL	      (8 * 1024) /* least read: headers are small, scattered */
#define ARCHIVE_BLOCK (256 * 1024)
#define EOCD_LEN      22
#define EOCD64_LEN    56
#define LOC64_LEN     20
#define CDR_LEN	      46
#define LFH_LEN	      30

#define FLAG_ENCRYPTED	   0x0001
#define FLAG_STRONG	   0x0040
#define FLAG_UTF8	   0x0800
#define FLAG_CD_ENCRYPTED  0x2000
#define METHOD_STORED	   0
#define METHOD_DEFLATE	   8
#define METHOD_AES	   99
#define EXTRA_ZIP64	   0x0001
#define EXTRA_UNICODE_PATH 0x7075

/* Where the bytes come from: memory, or a file read through a window. */
struct src {
	const unsigned char *mem;
	int		     fd;
	uint64_t	     size;
	unsigned char	    *win;
	uint64_t	     win_off;
	size_t		     win_len;
	int		     ioerr;
};

struct ent {
	char	*name; /* normalised UTF-8 */
	uint64_t lho; /* local header offset */
	uint64_t data; /* offset of the data */
	uint64_t csize, usize;
	uint16_t flags, method;
	int	 dir;
	int	 same_name; /* libarchive's name is ours (not legacy) */
};

struct ctx {
	const struct pkg_limits *lim;
	struct pkg_result	*res;
	struct src		 src;
	iconv_t			 cd;
	struct ent		*ents;
	size_t			 nents;
	struct pkg_nameset	*names;
	uint64_t		 cd_off, cd_size, cd_end, count;
};

static void reject(struct ctx *, enum pkg_rule, const char *, const char *, ...)
    __attribute__((format(printf, 4, 5)));
static const unsigned char *src_get(struct src *, uint64_t, size_t);
static uint16_t		    le16(const unsigned char *);
static uint32_t		    le32(const unsigned char *);
static uint64_t		    le64(const unsigned char *);
static int		    extra_find(const unsigned char *, size_t, uint16_t,
		     const unsigned char **, size_t *);
static int  unicode_path(const unsigned char *, size_t, const unsigned char *,
     size_t, const unsigned char **, size_t *);
static int  zip_end(struct ctx *);
static int  zip_dir(struct ctx *);
static int  zip_entry(struct ctx *, const unsigned char *, uint64_t, size_t *);
static int  zip_local(struct ctx *, struct ent *, const unsigned char *, size_t,
     const unsigned char *, size_t);
static int  ent_cmp(const void *, const void *);
static int  zip_overlap(struct ctx *);
static int  zip_data(struct ctx *, struct archive *);
static int  data_entry(struct ctx *, struct archive *, struct ent *,
     EVP_MD_CTX *);
static int  manifest_add(struct ctx *, const struct ent *, uint64_t,
     const unsigned char *);
static void hex(const unsigned char *, size_t, char *);
static int  hash_file(struct ctx *);
static enum pkg_rule check(struct ctx *);

/* clang-format off */
static const char *const rule_codes[] = {
	[PKG_OK] =		"ok",
	[PKG_NOT_AN_ARCHIVE] =	"not_an_archive",
	[PKG_PATH_ABSOLUTE] =	"path_absolute",
	[PKG_PATH_TRAVERSAL] =	"path_traversal",
	[PKG_PATH_DRIVE] =	"path_drive",
	[PKG_LINK_ENTRY] =	"link_entry",
	[PKG_SPECIAL_ENTRY] =	"special_entry",
	[PKG_DUPLICATE_NAME] =	"duplicate_name",
	[PKG_CASE_DUPLICATE] =	"case_duplicate",
	[PKG_TOO_MANY_ENTRIES] = "too_many_entries",
	[PKG_TOO_LARGE_UNPACKED] = "too_large_unpacked",
	[PKG_RATIO_EXCEEDED] =	"ratio_exceeded",
	[PKG_BAD_NAME] =	"bad_name",
	[PKG_ENCRYPTED_ENTRY] =	"encrypted_entry",
	[PKG_ERROR] =		"error",
};
/* clang-format on */

const char *
pkg_rule_code(enum pkg_rule r)
{
	if ((size_t)r >= sizeof(rule_codes) / sizeof(rule_codes[0]))
		return ("error");
	return (rule_codes[r]);
}

void
pkg_limits_init(struct pkg_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->max_entries = PKG_MAX_ENTRIES;
	l->max_unpacked = PKG_MAX_UNPACKED;
	l->max_ratio = PKG_MAX_RATIO;
	l->ratio_floor = PKG_RATIO_FLOOR;
	(void)snprintf(l->charset, sizeof(l->charset), "%s", PKG_CHARSET);
}

void
pkg_result_cleanup(struct pkg_result *res)
{
	free(res->entry);
	res->entry = NULL;
	if (res->manifest != NULL)
		json_decref(res->manifest);
	res->manifest = NULL;
}

json_t *
pkg_verdict_json(const struct pkg_result *res)
{
	if (res->rule == PKG_OK) {
		return (json_pack("{s:b, s:I, s:I, s:I, s:I}", "ok", 1,
		    "entries", (json_int_t)res->entries, "files",
		    (json_int_t)res->files, "dirs", (json_int_t)res->dirs,
		    "bytes", (json_int_t)res->bytes));
	}
	return (json_pack("{s:b, s:s, s:s?, s:s}", "ok", 0, "rule",
	    pkg_rule_code(res->rule), "entry", res->entry, "message",
	    res->message));
}

/* The first broken rule wins; later ones are not recorded. */
static void
reject(struct ctx *c, enum pkg_rule rule, const char *entry, const char *fmt,
    ...)
{
	va_list ap;

	if (c->res->rule != PKG_OK)
		return;
	c->res->rule = rule;
	if (entry != NULL)
		c->res->entry = strdup(entry);
	va_start(ap, fmt);
	(void)vsnprintf(c->res->message, sizeof(c->res->message), fmt, ap);
	va_end(ap);
}

/*
 * len bytes at off, or NULL: past the end (the archive's fault) or a read
 * error (ours: src->ioerr).  Memory is returned in place; a file through
 * a window of WINDOW bytes, so len must not exceed it.  A miss reads len
 * bytes but at least REFILL, so that walking the directory costs few
 * reads and a jump to a local header does not read a whole window.
 */
static const unsigned char *
src_get(struct src *s, uint64_t off, size_t len)
{
	ssize_t n;
	size_t	want, got;

	if (off > s->size || len > s->size - off)
		return (NULL);
	if (s->mem != NULL)
		return (s->mem + off);
	if (len > WINDOW) {
		s->ioerr = EINVAL;
		return (NULL);
	}
	if (off >= s->win_off && off + len <= s->win_off + s->win_len)
		return (s->win + (off - s->win_off));
	want = len > REFILL ? len : REFILL;
	if (want > s->size - off)
		want = (size_t)(s->size - off);
	for (got = 0; got < want; got += (size_t)n) {
		n = pread(s->fd, s->win + got, want - got, (off_t)(off + got));
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			s->ioerr = n == 0 ? EIO : errno;
			s->win_len = 0;
			return (NULL);
		}
	}
	s->win_off = off;
	s->win_len = want;
	return (s->win);
}

static uint16_t
le16(const unsigned char *p)
{
	return ((uint16_t)(p[0] | (p[1] << 8)));
}

static uint32_t
le32(const unsigned char *p)
{
	return ((uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	    ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
}

static uint64_t
le64(const unsigned char *p)
{
	return ((uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32));
}

/* The first extra field of the given id; 0 if none, -1 if malformed. */
static int
extra_find(const unsigned char *x, size_t len, uint16_t id,
    const unsigned char **out, size_t *outlen)
{
	size_t i, n;

	for (i = 0; i + 4 <= len; i += 4 + n) {
		n = le16(x + i + 2);
		if (n > len - i - 4)
			return (-1);
		if (le16(x + i) == id) {
			*out = x + i + 4;
			*outlen = n;
			return (1);
		}
	}
	return (0);
}

/*
 * An Info-ZIP Unicode Path field that applies to this raw name (version
 * 1, CRC-32 of the raw name): unzip, 7-Zip and libarchive use its UTF-8
 * name instead.  Returns 1 with the name, else 0.
 */
static int
unicode_path(const unsigned char *extra, size_t xlen, const unsigned char *raw,
    size_t rawlen, const unsigned char **name, size_t *len)
{
	const unsigned char *f;
	size_t		     flen;

	if (extra_find(extra, xlen, EXTRA_UNICODE_PATH, &f, &flen) != 1 ||
	    flen < 5 || f[0] != 1)
		return (0);
	if (le32(f + 1) != (uint32_t)crc32(0L, raw, (uInt)rawlen))
		return (0);
	*name = f + 5;
	*len = flen - 5;
	return (1);
}

/* The end of central directory record (and its zip64 form). */
static int
zip_end(struct ctx *c)
{
	const unsigned char *p, *q, *t;
	uint64_t	     off, lo, eocd, end;

	if (c->src.size < EOCD_LEN) {
		reject(c, PKG_NOT_AN_ARCHIVE, NULL, "too short for a zip");
		return (0);
	}
	/*
	 * The record ends the file: its comment runs to the last byte.  The
	 * tail that may hold it is read once, then searched backwards.
	 */
	lo = c->src.size > EOCD_LEN + 0xffff ? c->src.size - EOCD_LEN - 0xffff
					     : 0;
	if ((t = src_get(&c->src, lo, (size_t)(c->src.size - lo))) == NULL)
		return (0);
	for (off = c->src.size - EOCD_LEN;; off--) {
		p = t + (off - lo);
		if (memcmp(p, "PK\005\006", 4) == 0 &&
		    off + EOCD_LEN + le16(p + 20) == c->src.size)
			break;
		if (off == lo) {
			reject(c, PKG_NOT_AN_ARCHIVE, NULL,
			    "no end of central directory record");
			return (0);
		}
	}
	eocd = off;
	if (le16(p + 4) != 0 || le16(p + 6) != 0 ||
	    le16(p + 8) != le16(p + 10)) {
		reject(c, PKG_NOT_AN_ARCHIVE, NULL, "multi-disk zip");
		return (0);
	}
	c->count = le16(p + 10);
	c->cd_size = le32(p + 12);
	c->cd_off = le32(p + 16);
	end = eocd;

	if (c->count == 0xffff || c->cd_size == 0xffffffff ||
	    c->cd_off == 0xffffffff) {
		if (eocd < LOC64_LEN ||
		    (q = src_get(&c->src, eocd - LOC64_LEN, LOC64_LEN)) ==
			NULL ||
		    memcmp(q, "PK\006\007", 4) != 0) {
			reject(c, PKG_NOT_AN_ARCHIVE, NULL,
			    "zip64 locator missing");
			return (0);
		}
		if (le32(q + 4) != 0 || le32(q + 16) > 1) {
			reject(c, PKG_NOT_AN_ARCHIVE, NULL, "multi-disk zip");
			return (0);
		}
		end = le64(q + 8);
		if (end > eocd - LOC64_LEN ||
		    eocd - LOC64_LEN - end < EOCD64_LEN ||
		    (q = src_get(&c->src, end, EOCD64_LEN)) == NULL ||
		    memcmp(q, "PK\006\006", 4) != 0) {
			reject(c, PKG_NOT_AN_ARCHIVE, NULL,
			    "zip64 end record missing");
			return (0);
		}
		if (le32(q + 16) != 0 || le32(q + 20) != 0 ||
		    le64(q + 24) != le64(q + 32)) {
			reject(c, PKG_NOT_AN_ARCHIVE, NULL, "multi-disk zip");
			return (0);
		}
		c->count = le64(q + 32);
		c->cd_size = le64(q + 40);
		c->cd_off = le64(q + 48);
	}
	/* No prepended data: the directory ends where the end record is. */
	if (c->cd_off > end || end - c->cd_off != c->cd_size) {
		reject(c, PKG_NOT_AN_ARCHIVE, NULL,
		    "central directory is not where the end record says");
		return (0);
	}
	c->cd_end = end;
	if (c->count > c->lim->max_entries) {
		reject(c, PKG_TOO_MANY_ENTRIES, NULL,
		    "%llu entries, at most %llu allowed",
		    (unsigned long long)c->count,
		    (unsigned long long)c->lim->max_entries);
		return (0);
	}
	if (c->count > c->cd_size / CDR_LEN) {
		reject(c, PKG_NOT_AN_ARCHIVE, NULL,
		    "entry count does not fit the central directory");
		return (0);
	}
	return (1);
}

/* One central directory record at off; *reclen its length. */
static int
zip_entry(struct ctx *c, const unsigned char *p, uint64_t off, size_t *reclen)
{
	struct pkg_name_err  err;
	struct ent	    *e;
	const unsigned char *raw, *x, *z, *u;
	char		    *disp;
	size_t		     n, m, k, zl, ul;
	uint32_t	     ext, mode, type;
	int		     sys, dir, have_z;

	n = le16(p + 28);
	m = le16(p + 30);
	k = le16(p + 32);
	*reclen = CDR_LEN + n + m + k;
	if (off + *reclen > c->cd_end ||
	    (raw = src_get(&c->src, off + CDR_LEN, n + m)) == NULL) {
		reject(c, PKG_NOT_AN_ARCHIVE, NULL,
		    "central directory record %zu is truncated", c->nents);
		return (0);
	}
	x = raw + n;
	e = &c->ents[c->nents++];
	memset(e, 0, sizeof(*e));
	e->flags = le16(p + 8);
	e->method = le16(p + 10);
	e->csize = le32(p + 20);
	e->usize = le32(p + 24);
	e->lho = le32(p + 42);

	for (k = 0, e->same_name = 1; k < n && e->same_name; k++)
		e->same_name = raw[k] < 0x80;
	if (unicode_path(x, m, raw, n, &u, &ul)) {
		e->name = pkg_name_decode(u, ul, 1, c->cd, &err);
		e->same_name = 1;
	} else {
		e->name =
		    pkg_name_decode(raw, n, e->flags & FLAG_UTF8, c->cd, &err);
		if (e->flags & FLAG_UTF8)
			e->same_name = 1;
	}
	if (e->name == NULL) {
		disp = pkg_name_escape(raw, n);
		reject(c, err.rule, disp, "%s", err.message);
		free(disp);
		return (0);
	}

	/* zip64: the fields at their maximum are in the extra field. */
	if (e->usize == 0xffffffff || e->csize == 0xffffffff ||
	    e->lho == 0xffffffff) {
		if (extra_find(x, m, EXTRA_ZIP64, &z, &zl) != 1)
			zl = 0, z = NULL;
		have_z = 0;
		if (e->usize == 0xffffffff && zl >= (size_t)have_z + 8) {
			e->usize = le64(z + have_z);
			have_z += 8;
		}
		if (e->csize == 0xffffffff && zl >= (size_t)have_z + 8) {
			e->csize = le64(z + have_z);
			have_z += 8;
		}
		if (e->lho == 0xffffffff && zl >= (size_t)have_z + 8) {
			e->lho = le64(z + have_z);
			have_z += 8;
		}
		if (e->usize == 0xffffffff || e->csize == 0xffffffff ||
		    e->lho == 0xffffffff) {
			reject(c, PKG_NOT_AN_ARCHIVE, e->name,
			    "zip64 field missing");
			return (0);
		}
	}
	if (le16(p + 34) != 0) {
		reject(c, PKG_NOT_AN_ARCHIVE, e->name, "multi-disk zip");
		return (0);
	}

	if (pkg_name_check(e->name, &dir, &err) != PKG_OK) {
		reject(c, err.rule, e->name, "%s", err.message);
		return (0);
	}

	/* The type: Unix mode bits if made on Unix, else the DOS bit. */
	sys = p[5];
	ext = le32(p + 38);
	mode = sys == 3 ? ext >> 16 : 0;
	type = mode & 0170000;
	if (type == 0120000) {
		reject(c, PKG_LINK_ENTRY, e->name, "symbolic link");
		return (0);
	}
	if (type != 0 && type != 0100000 && type != 0040000) {
		reject(c, PKG_SPECIAL_ENTRY, e->name,
		    "device, FIFO or socket (mode %06o)", (unsigned)mode);
		return (0);
	}
	if (type == 0040000 || (sys != 3 && (ext & 0x10)))
		dir = 1;
	else if (type == 0100000 && dir) {
		reject(c, PKG_NOT_AN_ARCHIVE, e->name,
		    "regular file with a directory name");
		return (0);
	}
	e->dir = dir;

	if ((e->flags & (FLAG_ENCRYPTED | FLAG_STRONG | FLAG_CD_ENCRYPTED)) ||
	    e->method == METHOD_AES) {
		reject(c, PKG_ENCRYPTED_ENTRY, e->name, "encrypted entry");
		return (0);
	}
	if (e->method != METHOD_STORED && e->method != METHOD_DEFLATE) {
		reject(c, PKG_NOT_AN_ARCHIVE, e->name,
		    "compression method %u (only stored and deflate)",
		    (unsigned)e->method);
		return (0);
	}
	if (e->method == METHOD_STORED && e->csize != e->usize) {
		reject(c, PKG_NOT_AN_ARCHIVE, e->name,
		    "stored entry with two sizes");
		return (0);
	}
	if (e->dir && e->usize != 0) {
		reject(c, PKG_NOT_AN_ARCHIVE, e->name, "directory with data");
		return (0);
	}

	switch (pkg_nameset_add(c->names, e->name, e->dir, &err)) {
	case PKG_OK:
		break;
	default:
		reject(c, err.rule, e->name, "%s", err.message);
		return (0);
	}
	return (zip_local(c, e, raw, n, x, m));
}

/* The local header must say what the directory says. */
static int
zip_local(struct ctx *c, struct ent *e, const unsigned char *raw, size_t n,
    const unsigned char *x, size_t m)
{
	const unsigned char *p, *lraw, *u, *lu;
	unsigned char	    *cdname;
	size_t		     ln, lm, ul, lul;
	int		     hu, hlu, same;

	/* raw points into the window, which the local header may move. */
	if ((cdname = malloc(n + m + 1)) == NULL) {
		reject(c, PKG_ERROR, e->name, "out of memory");
		return (0);
	}
	memcpy(cdname, raw, n + m);
	x = cdname + n;
	same = 0;
	if ((p = src_get(&c->src, e->lho, LFH_LEN)) == NULL ||
	    memcmp(p, "PK\003\004", 4) != 0) {
		reject(c, PKG_NOT_AN_ARCHIVE, e->name, "local header missing");
		goto done;
	}
	ln = le16(p + 26);
	lm = le16(p + 28);
	if ((le16(p + 6) ^ e->flags) &
	    (FLAG_ENCRYPTED | FLAG_STRONG | FLAG_UTF8)) {
		reject(c, PKG_NOT_AN_ARCHIVE, e->name,
		    "local header flags differ from the directory");
		goto done;
	}
	if ((lraw = src_get(&c->src, e->lho + LFH_LEN, ln + lm)) == NULL) {
		reject(c, PKG_NOT_AN_ARCHIVE, e->name,
		    "local header truncated");
		goto done;
	}
	hu = unicode_path(x, m, cdname, n, &u, &ul);
	hlu = unicode_path(lraw + ln, lm, lraw, ln, &lu, &lul);
	if (ln != n || memcmp(lraw, cdname, n) != 0 || hu != hlu ||
	    (hu && (ul != lul || memcmp(u, lu, ul) != 0))) {
		reject(c, PKG_NOT_AN_ARCHIVE, e->name,
		    "local header and central directory name differ");
		goto done;
	}
	e->data = e->lho + LFH_LEN + ln + lm;
	if (e->data > c->cd_off || e->csize > c->cd_off - e->data) {
		reject(c, PKG_NOT_AN_ARCHIVE, e->name,
		    "entry data runs into the central directory");
		goto done;
	}
	same = 1;
done:
	free(cdname);
	return (same);
}

static int
zip_dir(struct ctx *c)
{
	const unsigned char *p;
	unsigned char	     rec[CDR_LEN];
	uint64_t	     off;
	size_t		     len;

	if ((c->ents = calloc(c->count + 1, sizeof(*c->ents))) == NULL) {
		reject(c, PKG_ERROR, NULL, "out of memory");
		return (0);
	}
	if ((c->names = pkg_nameset_new(c->lim->max_entries * 2 + 16)) ==
	    NULL) {
		reject(c, PKG_ERROR, NULL, "out of memory");
		return (0);
	}
	for (off = c->cd_off; c->nents < c->count; off += len) {
		if ((p = src_get(&c->src, off, CDR_LEN)) == NULL ||
		    off + CDR_LEN > c->cd_end ||
		    memcmp(p, "PK\001\002", 4) != 0) {
			reject(c, PKG_NOT_AN_ARCHIVE, NULL,
			    "central directory record %zu is damaged",
			    c->nents);
			return (0);
		}
		/* Copied: reading the name may move the window. */
		memcpy(rec, p, sizeof(rec));
		if (!zip_entry(c, rec, off, &len))
			return (0);
	}
	if (off != c->cd_end) {
		reject(c, PKG_NOT_AN_ARCHIVE, NULL,
		    "central directory holds more than its entry count");
		return (0);
	}
	return (1);
}

static int
ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	return (x->lho < y->lho ? -1 : x->lho > y->lho);
}

/*
 * In file order, each entry's data ends before the next local header: no
 * two entries share bytes (the overlapping "non-recursive" zip bomb), and
 * libarchive, which keys entries by offset, sees every one of them.
 */
static int
zip_overlap(struct ctx *c)
{
	size_t i;

	qsort(c->ents, c->nents, sizeof(*c->ents), ent_cmp);
	for (i = 0; i + 1 < c->nents; i++) {
		if (c->ents[i].data + c->ents[i].csize > c->ents[i + 1].lho) {
			reject(c, PKG_NOT_AN_ARCHIVE, c->ents[i + 1].name,
			    "entry overlaps '%.*s'", 128, c->ents[i].name);
			return (0);
		}
	}
	return (1);
}

static void
hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t		  i;

	for (i = 0; i < n; i++) {
		out[i * 2] = digits[d[i] >> 4];
		out[i * 2 + 1] = digits[d[i] & 15];
	}
	out[n * 2] = '\0';
}

static int
manifest_add(struct ctx *c, const struct ent *e, uint64_t size,
    const unsigned char *md)
{
	char	hexmd[65];
	json_t *o;

	hex(md, 32, hexmd);
	o = json_pack("{s:s, s:I, s:s}", "path", e->name, "size",
	    (json_int_t)size, "sha256", hexmd);
	if (o == NULL || json_array_append_new(c->res->manifest, o) != 0) {
		reject(c, PKG_ERROR, e->name, "out of memory");
		return (0);
	}
	return (1);
}

/* Read one entry's data through libarchive, within the caps. */
static int
data_entry(struct ctx *c, struct archive *a, struct ent *e, EVP_MD_CTX *md)
{
	const void   *buf;
	unsigned char digest[EVP_MAX_MD_SIZE];
	size_t	      len;
	la_int64_t    off;
	int64_t	      start, consumed;
	uint64_t      produced;
	unsigned int  dlen;
	int	      r;

	start = archive_filter_bytes(a, -1);
	produced = 0;
	consumed = 0;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		reject(c, PKG_ERROR, e->name, "sha256 unavailable");
		return (0);
	}
	for (;;) {
		r = archive_read_data_block(a, &buf, &len, &off);
		consumed = archive_filter_bytes(a, -1) - start;
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			reject(c, PKG_NOT_AN_ARCHIVE, e->name,
			    "damaged data: %s", archive_error_string(a));
			return (0);
		}
		if (off < 0 || (uint64_t)off != produced) {
			reject(c, PKG_NOT_AN_ARCHIVE, e->name,
			    "data with holes");
			return (0);
		}
		produced += len;
		c->res->inflated += len;
		if (c->res->inflated > c->lim->max_unpacked) {
			reject(c, PKG_TOO_LARGE_UNPACKED, e->name,
			    "unpacks to more than %llu bytes",
			    (unsigned long long)c->lim->max_unpacked);
			return (0);
		}
		/* Stored data is the input itself, counted late by
		 * libarchive: the ratio is a deflate rule. */
		if (c->lim->max_ratio != 0 && e->method != METHOD_STORED &&
		    produced > c->lim->ratio_floor &&
		    produced / c->lim->max_ratio >
			(uint64_t)(consumed > 0 ? consumed : 1)) {
			reject(c, PKG_RATIO_EXCEEDED, e->name,
			    "inflates more than %u:1 (%llu bytes from %lld)",
			    c->lim->max_ratio, (unsigned long long)produced,
			    (long long)consumed);
			return (0);
		}
		if (produced > e->usize) {
			reject(c, PKG_NOT_AN_ARCHIVE, e->name,
			    "more data than its header says");
			return (0);
		}
		if (EVP_DigestUpdate(md, buf, len) != 1) {
			reject(c, PKG_ERROR, e->name, "sha256 failed");
			return (0);
		}
	}
	c->res->consumed += consumed > 0 ? (uint64_t)consumed : 0;
	if (produced != e->usize) {
		reject(c, PKG_NOT_AN_ARCHIVE, e->name,
		    "%llu bytes of data, its header says %llu",
		    (unsigned long long)produced, (unsigned long long)e->usize);
		return (0);
	}
	if (EVP_DigestFinal_ex(md, digest, &dlen) != 1 || dlen != 32) {
		reject(c, PKG_ERROR, e->name, "sha256 failed");
		return (0);
	}
	c->res->files++;
	c->res->bytes += produced;
	return (manifest_add(c, e, produced, digest));
}

/* Second pass: libarchive's view, entry by entry in file order. */
static int
zip_data(struct ctx *c, struct archive *a)
{
	struct archive_entry *ae;
	struct ent	     *e;
	EVP_MD_CTX	     *md;
	const char	     *path;
	size_t		      i, plen;
	int		      r, type, ok;

	if ((md = EVP_MD_CTX_new()) == NULL) {
		reject(c, PKG_ERROR, NULL, "out of memory");
		return (0);
	}
	ok = 0;
	for (i = 0; i < c->nents; i++) {
		e = &c->ents[i];
		if ((r = archive_read_next_header(a, &ae)) != ARCHIVE_OK) {
			reject(c, PKG_NOT_AN_ARCHIVE, e->name, "%s",
			    r == ARCHIVE_EOF ? "entry missing"
					     : archive_error_string(a));
			goto done;
		}
		type = (int)archive_entry_filetype(ae);
		if (archive_entry_hardlink(ae) != NULL ||
		    archive_entry_symlink(ae) != NULL || type == AE_IFLNK) {
			reject(c, PKG_LINK_ENTRY, e->name, "link");
			goto done;
		}
		if (type != AE_IFREG && type != AE_IFDIR) {
			reject(c, PKG_SPECIAL_ENTRY, e->name,
			    "device, FIFO or socket");
			goto done;
		}
		if (archive_entry_is_encrypted(ae)) {
			reject(c, PKG_ENCRYPTED_ENTRY, e->name,
			    "encrypted entry");
			goto done;
		}
		if ((type == AE_IFDIR) != e->dir) {
			reject(c, PKG_NOT_AN_ARCHIVE, e->name,
			    "file or directory: the headers disagree");
			goto done;
		}
		/* Both walks see the same entry (names compared unless in a
		 * legacy charset, which libarchive leaves as bytes). */
		if (e->same_name &&
		    (path = archive_entry_pathname(ae)) != NULL) {
			plen = strlen(path);
			if (plen > 0 && path[plen - 1] == '/')
				plen--;
			if (plen != strlen(e->name) ||
			    memcmp(path, e->name, plen) != 0) {
				reject(c, PKG_NOT_AN_ARCHIVE, e->name,
				    "libarchive reads another name here");
				goto done;
			}
		}
		if (!e->dir && !data_entry(c, a, e, md))
			goto done;
	}
	if ((r = archive_read_next_header(a, &ae)) != ARCHIVE_EOF) {
		reject(c, PKG_NOT_AN_ARCHIVE, NULL, "%s",
		    r == ARCHIVE_OK ? "more entries than the directory lists"
				    : archive_error_string(a));
		goto done;
	}
	ok = 1;
done:
	EVP_MD_CTX_free(md);
	return (ok);
}

/* The package's own SHA-256, one sequential read. */
static int
hash_file(struct ctx *c)
{
	EVP_MD_CTX   *md;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int  dlen;
	uint64_t      off;
	ssize_t	      n;
	int	      ok;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return (0);
	ok = 0;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto done;
	if (c->src.mem != NULL) {
		if (EVP_DigestUpdate(md, c->src.mem, c->src.size) != 1)
			goto done;
	} else {
		for (off = 0; off < c->src.size; off += (uint64_t)n) {
			n = pread(c->src.fd, c->src.win, WINDOW, (off_t)off);
			if (n == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n <= 0)
				goto done;
			if (EVP_DigestUpdate(md, c->src.win, (size_t)n) != 1)
				goto done;
		}
		c->src.win_len = 0;
	}
	if (EVP_DigestFinal_ex(md, digest, &dlen) != 1 || dlen != 32)
		goto done;
	hex(digest, 32, c->res->sha256);
	ok = 1;
done:
	EVP_MD_CTX_free(md);
	return (ok);
}

static enum pkg_rule
check(struct ctx *c)
{
	struct archive *a;
	locale_t	utf8, old;
	size_t		i;
	int		r;

	a = NULL;
	c->res->size = c->src.size;
	if ((c->cd = iconv_open("UTF-8", c->lim->charset)) == (iconv_t)-1) {
		reject(c, PKG_ERROR, NULL, "unknown charset '%.*s'",
		    PKG_CHARSET_MAX, c->lim->charset);
		goto done;
	}
	if ((c->res->manifest = json_array()) == NULL) {
		reject(c, PKG_ERROR, NULL, "out of memory");
		goto done;
	}
	if (c->lim->hash_package && !hash_file(c)) {
		reject(c, PKG_ERROR, NULL, "cannot read the package");
		goto done;
	}
	if (!zip_end(c) || !zip_dir(c) || !zip_overlap(c))
		goto done;
	c->res->entries = c->nents;
	c->res->dirs = pkg_nameset_dirs(c->names);

	if ((a = archive_read_new()) == NULL) {
		reject(c, PKG_ERROR, NULL, "out of memory");
		goto done;
	}
	/* Zip only: libarchive's other readers are not needed here. */
	if (archive_read_support_format_zip_seekable(a) != ARCHIVE_OK) {
		reject(c, PKG_ERROR, NULL, "%s", archive_error_string(a));
		goto done;
	}
	if (c->src.mem != NULL)
		r = archive_read_open_memory(a, c->src.mem,
		    (size_t)c->src.size);
	else
		r = archive_read_open_fd(a, c->src.fd, ARCHIVE_BLOCK);
	if (r != ARCHIVE_OK) {
		reject(c, PKG_NOT_AN_ARCHIVE, NULL, "%s",
		    archive_error_string(a));
		goto done;
	}
	/*
	 * libarchive converts names flagged UTF-8 to the locale's charset
	 * and warns when it cannot: give this thread a UTF-8 locale while it
	 * reads (names in a legacy charset stay bytes, decoded by us).
	 */
	if ((utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0)) ==
	    (locale_t)0) {
		reject(c, PKG_ERROR, NULL, "no C.UTF-8 locale");
		goto done;
	}
	old = uselocale(utf8);
	(void)zip_data(c, a);
	(void)uselocale(old);
	freelocale(utf8);
done:
	if (c->src.ioerr != 0 && c->res->rule != PKG_ERROR) {
		/* Not the package's fault: say so, whatever was found. */
		free(c->res->entry);
		c->res->entry = NULL;
		c->res->rule = PKG_ERROR;
		(void)snprintf(c->res->message, sizeof(c->res->message),
		    "read error: %s", strerror(c->src.ioerr));
	}
	if (a != NULL)
		archive_read_free(a);
	if (c->cd != (iconv_t)-1)
		iconv_close(c->cd);
	pkg_nameset_free(c->names);
	for (i = 0; i < c->nents; i++)
		free(c->ents[i].name);
	free(c->ents);
	if (c->res->rule != PKG_OK && c->res->manifest != NULL) {
		json_decref(c->res->manifest);
		c->res->manifest = NULL;
	}
	return (c->res->rule);
}

enum pkg_rule
pkg_check_memory(const void *buf, size_t len, const struct pkg_limits *lim,
    struct pkg_result *res)
{
	struct ctx c;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	c.lim = lim;
	c.res = res;
	c.cd = (iconv_t)-1;
	c.src.fd = -1;
	c.src.mem = buf;
	c.src.size = len;
	if (buf == NULL) {
		reject(&c, PKG_NOT_AN_ARCHIVE, NULL, "empty");
		return (res->rule);
	}
	return (check(&c));
}

enum pkg_rule
pkg_check_file(const char *path, const struct pkg_limits *lim,
    struct pkg_result *res)
{
	struct ctx  c;
	struct stat st;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	c.lim = lim;
	c.res = res;
	c.cd = (iconv_t)-1;
	if ((c.src.fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		reject(&c, PKG_ERROR, NULL, "open: %s", strerror(errno));
		return (res->rule);
	}
	if (fstat(c.src.fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		reject(&c, PKG_ERROR, NULL, "not a regular file");
		(void)close(c.src.fd);
		return (res->rule);
	}
	if ((c.src.win = calloc(1, WINDOW)) == NULL) {
		reject(&c, PKG_ERROR, NULL, "out of memory");
		(void)close(c.src.fd);
		return (res->rule);
	}
	c.src.size = (uint64_t)st.st_size;
	(void)check(&c);
	free(c.src.win);
	(void)close(c.src.fd);
	return (res->rule);
}
