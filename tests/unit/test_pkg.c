/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for src/pkg/: hostile zips built here, byte by byte (a small
 * zip writer below, for names, flags and modes libarchive's writer will not
 * produce) or with libarchive's writer, each checked against its rule.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "pkg/pkg.h"

#define SHA_EMPTY \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC \
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_HELLO \
	"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define MIB (1024 * 1024)

/* A zip writer that writes what it is told, including nonsense. */
struct zw {
	unsigned char *buf, *cd;
	size_t	       len, cap, cdlen, cdcap, n;
};

struct zopt {
	uint16_t    flags;
	uint8_t	    sys; /* 3 Unix, 0 DOS */
	uint32_t    ext; /* external attributes */
	int	    deflate;
	const char *local_name; /* if not the directory's */
};

static void
put(unsigned char **b, size_t *len, size_t *cap, const void *p, size_t n)
{
	while (*len + n > *cap) {
		*cap = *cap ? *cap * 2 : 4096;
		*b = realloc(*b, *cap);
		assert_non_null(*b);
	}
	memcpy(*b + *len, p, n);
	*len += n;
}

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void
put32(unsigned char *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

static unsigned char *
deflate_buf(const void *data, size_t len, size_t *out)
{
	z_stream       z;
	unsigned char *b;
	size_t	       cap;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 9,
			     Z_DEFAULT_STRATEGY),
	    Z_OK);
	cap = deflateBound(&z, len);
	b = malloc(cap);
	assert_non_null(b);
	z.next_in = (unsigned char *)(uintptr_t)data;
	z.avail_in = len;
	z.next_out = b;
	z.avail_out = cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out = z.total_out;
	deflateEnd(&z);
	return (b);
}

/* zw_add with precompressed data (method 8) of usize bytes. */
static void
zw_raw(struct zw *w, const char *name, size_t nlen, const struct zopt *o,
    const void *data, size_t clen, size_t usize, uint32_t crc, int method)
{
	unsigned char h[46];
	const char   *lname = o->local_name ? o->local_name : name;
	size_t	      lnlen = o->local_name ? strlen(lname) : nlen;
	size_t	      off = w->len;

	memset(h, 0, sizeof(h));
	memcpy(h, "PK\003\004", 4);
	put16(h + 4, 20);
	put16(h + 6, o->flags);
	put16(h + 8, method);
	put32(h + 14, crc);
	put32(h + 18, clen);
	put32(h + 22, usize);
	put16(h + 26, lnlen);
	put(&w->buf, &w->len, &w->cap, h, 30);
	put(&w->buf, &w->len, &w->cap, lname, lnlen);
	put(&w->buf, &w->len, &w->cap, data, clen);

	memset(h, 0, sizeof(h));
	memcpy(h, "PK\001\002", 4);
	put16(h + 4, (uint16_t)(o->sys << 8 | 20));
	put16(h + 6, 20);
	put16(h + 8, o->flags);
	put16(h + 10, method);
	put32(h + 16, crc);
	put32(h + 20, clen);
	put32(h + 24, usize);
	put16(h + 28, nlen);
	put32(h + 38, o->ext);
	put32(h + 42, off);
	put(&w->cd, &w->cdlen, &w->cdcap, h, 46);
	put(&w->cd, &w->cdlen, &w->cdcap, name, nlen);
	w->n++;
}

static void
zw_add(struct zw *w, const char *name, size_t nlen, const struct zopt *o,
    const void *data, size_t len)
{
	unsigned char *c;
	size_t	       clen;
	uint32_t       crc;

	crc = crc32(0L, data, len);
	if (o->deflate) {
		c = deflate_buf(data, len, &clen);
		zw_raw(w, name, nlen, o, c, clen, len, crc, 8);
		free(c);
	} else
		zw_raw(w, name, nlen, o, data, len, len, crc, 0);
}

static void
zw_file(struct zw *w, const char *name, const char *data)
{
	static const struct zopt o = { 0, 3, 0100644U << 16, 0, NULL };

	zw_add(w, name, strlen(name), &o, data, strlen(data));
}

static void
zw_finish(struct zw *w)
{
	unsigned char e[22];
	size_t	      cdoff = w->len;

	memset(e, 0, sizeof(e));
	memcpy(e, "PK\005\006", 4);
	put16(e + 8, w->n);
	put16(e + 10, w->n);
	put32(e + 12, w->cdlen);
	put32(e + 16, cdoff);
	put(&w->buf, &w->len, &w->cap, w->cd, w->cdlen);
	put(&w->buf, &w->len, &w->cap, e, 22);
	free(w->cd);
	w->cd = NULL;
}

/* Check the bytes; on anything but PKG_OK, the entry must be `entry`. */
static enum pkg_rule
run(struct zw *w, const struct pkg_limits *lim, struct pkg_result *res)
{
	struct pkg_limits def;

	if (lim == NULL) {
		pkg_limits_init(&def);
		lim = &def;
	}
	return (pkg_check_memory(w->buf, w->len, lim, res));
}

static void
expect(struct zw *w, enum pkg_rule rule, const char *entry)
{
	struct pkg_result res;

	zw_finish(w);
	assert_int_equal(run(w, NULL, &res), rule);
	assert_int_equal(res.rule, rule);
	if (entry != NULL) {
		assert_non_null(res.entry);
		assert_string_equal(res.entry, entry);
	}
	assert_true(res.message[0] != '\0');
	assert_null(res.manifest);
	pkg_result_cleanup(&res);
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

static void
expect_name(const char *name, enum pkg_rule rule, const char *entry)
{
	struct zw w;

	memset(&w, 0, sizeof(w));
	zw_file(&w, "ok.txt", "fine");
	zw_file(&w, name, "x");
	expect(&w, rule, entry);
}

static void
test_pkg_paths(void **state)
{
	expect_name("../x", PKG_PATH_TRAVERSAL, "../x");
	expect_name("a/../../x", PKG_PATH_TRAVERSAL, "a/../../x");
	expect_name("/etc/passwd", PKG_PATH_ABSOLUTE, "/etc/passwd");
	expect_name("\\\\server\\share\\x", PKG_PATH_ABSOLUTE,
	    "//server/share/x");
	expect_name("C:\\x", PKG_PATH_DRIVE, "C:/x");
	expect_name("c:x", PKG_PATH_DRIVE, "c:x");
	expect_name("a\\..\\b", PKG_PATH_TRAVERSAL, "a/../b");
	expect_name("dir\\file.txt", PKG_BAD_NAME, "dir/file.txt");
	expect_name("a//b", PKG_BAD_NAME, "a//b");
	expect_name("./a", PKG_BAD_NAME, "./a");
	expect_name("a\001b", PKG_BAD_NAME, "a\001b");
	expect_name("a\177b", PKG_BAD_NAME, NULL);
	expect_name("con.txt", PKG_BAD_NAME, "con.txt");
	expect_name("dir/LPT1", PKG_BAD_NAME, "dir/LPT1");
	expect_name("file.txt:stream", PKG_BAD_NAME, NULL);
	expect_name("what?", PKG_BAD_NAME, NULL);
	expect_name("trailing.", PKG_BAD_NAME, NULL);
	expect_name("trailing /x", PKG_BAD_NAME, NULL);
}

static void
test_pkg_long_names(void **state)
{
	char name[PKG_PATH_MAX + 8];

	memset(name, 'a', sizeof(name));
	name[PKG_NAME_MAX + 1] = '\0';
	expect_name(name, PKG_BAD_NAME, NULL);
	memset(name, 'a', sizeof(name));
	for (size_t i = 100; i < sizeof(name) - 1; i += 100)
		name[i] = '/';
	name[sizeof(name) - 1] = '\0';
	expect_name(name, PKG_BAD_NAME, NULL);
}

static void
test_pkg_nul_in_name(void **state)
{
	static const struct zopt o = { 0, 3, 0100644U << 16, 0, NULL };
	struct zw		 w;

	memset(&w, 0, sizeof(w));
	zw_add(&w, "a\0b", 3, &o, "x", 1);
	expect(&w, PKG_BAD_NAME, "a\\x00b");
}

/* libarchive's writer, for what it writes itself (links, a war). */
struct aw {
	struct archive	     *a;
	struct archive_entry *e;
	unsigned char	     *buf;
	size_t		      cap, used;
};

static void
aw_open(struct aw *w, size_t cap, int deflate)
{
	w->cap = cap;
	w->buf = malloc(cap);
	assert_non_null(w->buf);
	w->a = archive_write_new();
	assert_int_equal(archive_write_set_format_zip(w->a), ARCHIVE_OK);
	if (!deflate)
		assert_int_equal(archive_write_set_options(w->a,
				     "zip:compression=store"),
		    ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(w->a, w->buf, w->cap,
			     &w->used),
	    ARCHIVE_OK);
	w->e = archive_entry_new();
}

static void
aw_add(struct aw *w, const char *name, int type, const char *link,
    const void *data, size_t len)
{
	archive_entry_clear(w->e);
	archive_entry_set_pathname(w->e, name);
	archive_entry_set_filetype(w->e, type);
	archive_entry_set_perm(w->e, type == AE_IFDIR ? 0755 : 0644);
	if (type == AE_IFLNK)
		archive_entry_set_symlink(w->e, link);
	else if (link != NULL)
		archive_entry_set_hardlink(w->e, link);
	archive_entry_set_size(w->e, type == AE_IFREG ? (la_int64_t)len : 0);
	assert_int_equal(archive_write_header(w->a, w->e), ARCHIVE_OK);
	if (type == AE_IFREG && len > 0)
		assert_int_equal(archive_write_data(w->a, data, len),
		    (la_ssize_t)len);
}

static void
aw_close(struct aw *w)
{
	assert_int_equal(archive_write_close(w->a), ARCHIVE_OK);
	archive_write_free(w->a);
	archive_entry_free(w->e);
}

static void
test_pkg_symlink(void **state)
{
	struct pkg_limits lim;
	struct pkg_result res;
	struct aw	  w;

	aw_open(&w, 65536, 1);
	aw_add(&w, "a.txt", AE_IFREG, NULL, "abc", 3);
	aw_add(&w, "passwd", AE_IFLNK, "/etc/passwd", NULL, 0);
	aw_close(&w);
	pkg_limits_init(&lim);
	assert_int_equal(pkg_check_memory(w.buf, w.used, &lim, &res),
	    PKG_LINK_ENTRY);
	assert_string_equal(res.entry, "passwd");
	pkg_result_cleanup(&res);
	free(w.buf);
}

/*
 * Zip has no hard links: libarchive's writer stores one as an empty
 * regular file, which is then just that (nothing links anywhere).
 */
static void
test_pkg_hardlink(void **state)
{
	struct pkg_limits lim;
	struct pkg_result res;
	struct aw	  w;
	json_t		 *o;

	aw_open(&w, 65536, 1);
	aw_add(&w, "t", AE_IFREG, NULL, "abc", 3);
	aw_add(&w, "h", AE_IFREG, "t", NULL, 0);
	aw_close(&w);
	pkg_limits_init(&lim);
	assert_int_equal(pkg_check_memory(w.buf, w.used, &lim, &res), PKG_OK);
	assert_int_equal(json_array_size(res.manifest), 2);
	o = json_array_get(res.manifest, 1);
	assert_string_equal(json_string_value(json_object_get(o, "path")), "h");
	assert_int_equal(json_integer_value(json_object_get(o, "size")), 0);
	assert_string_equal(json_string_value(json_object_get(o, "sha256")),
	    SHA_EMPTY);
	pkg_result_cleanup(&res);
	free(w.buf);
}

static void
test_pkg_special(void **state)
{
	static const uint32_t modes[] = { 0120777, 0020644, 0060644, 0010644,
		0140644, 0170644 };
	static const enum pkg_rule rules[] = { PKG_LINK_ENTRY,
		PKG_SPECIAL_ENTRY, PKG_SPECIAL_ENTRY, PKG_SPECIAL_ENTRY,
		PKG_SPECIAL_ENTRY, PKG_SPECIAL_ENTRY };
	struct zopt		   o = { 0, 3, 0, 0, NULL };
	struct zw		   w;
	size_t			   i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		memset(&w, 0, sizeof(w));
		o.ext = modes[i] << 16;
		zw_add(&w, "dev/thing", 9, &o, "", 0);
		expect(&w, rules[i], "dev/thing");
	}
}

static void
test_pkg_encrypted(void **state)
{
	static const struct zopt o = { 1, 3, 0100644U << 16, 0, NULL };
	struct zw		 w;

	memset(&w, 0, sizeof(w));
	zw_file(&w, "plain.txt", "x");
	zw_add(&w, "secret.txt", 10, &o, "0123456789abcdefghij", 20);
	expect(&w, PKG_ENCRYPTED_ENTRY, "secret.txt");
}

static void
test_pkg_duplicates(void **state)
{
	static const struct zopt dir = { 0, 3, 040755U << 16, 0, NULL };
	static const struct zopt utf8 = { 0x0800, 3, 0100644U << 16, 0, NULL };
	struct zw		 w;
	struct pkg_result	 res;

	memset(&w, 0, sizeof(w));
	zw_file(&w, "a.txt", "1");
	zw_file(&w, "a.txt", "2");
	expect(&w, PKG_DUPLICATE_NAME, "a.txt");

	zw_file(&w, "A.txt", "1");
	zw_file(&w, "a.txt", "2");
	expect(&w, PKG_CASE_DUPLICATE, "a.txt");

	zw_add(&w, "\xc3\x89t\xc3\xa9.txt", 9, &utf8, "1", 1); /* Été.txt */
	zw_add(&w, "\xc3\xa9t\xc3\xa9.txt", 9, &utf8, "2", 1); /* été.txt */
	expect(&w, PKG_CASE_DUPLICATE, NULL);

	zw_file(&w, "a", "file");
	zw_file(&w, "a/b", "under a file");
	expect(&w, PKG_DUPLICATE_NAME, "a/b");

	zw_file(&w, "a/b", "1");
	zw_file(&w, "a", "file over a directory");
	expect(&w, PKG_DUPLICATE_NAME, "a");

	zw_file(&w, "Lib/x.jar", "1");
	zw_file(&w, "lib/y.jar", "2");
	expect(&w, PKG_CASE_DUPLICATE, "lib/y.jar");

	zw_add(&w, "d/", 2, &dir, "", 0);
	zw_add(&w, "d/", 2, &dir, "", 0);
	expect(&w, PKG_DUPLICATE_NAME, "d");

	/* An explicit directory after files under it is fine. */
	zw_file(&w, "d/x", "1");
	zw_add(&w, "d/", 2, &dir, "", 0);
	zw_add(&w, "d/e/", 4, &dir, "", 0);
	zw_file(&w, "d/e/y", "2");
	zw_finish(&w);
	assert_int_equal(run(&w, NULL, &res), PKG_OK);
	assert_int_equal(res.files, 2);
	assert_int_equal(res.dirs, 2);
	assert_int_equal(res.entries, 4);
	pkg_result_cleanup(&res);
	free(w.buf);
}

/* A deflated stream of n zeros, made once. */
static unsigned char *
zeros(size_t n, size_t *clen)
{
	z_stream       z;
	unsigned char *in, *out;
	size_t	       cap, left;

	in = calloc(1, MIB);
	assert_non_null(in);
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 9,
			     Z_DEFAULT_STRATEGY),
	    Z_OK);
	cap = deflateBound(&z, n);
	out = malloc(cap);
	assert_non_null(out);
	z.next_out = out;
	z.avail_out = cap;
	for (left = n; left > 0;) {
		z.next_in = in;
		z.avail_in = left < MIB ? left : MIB;
		left -= z.avail_in;
		assert_int_equal(deflate(&z, left ? Z_NO_FLUSH : Z_FINISH),
		    left ? Z_OK : Z_STREAM_END);
	}
	*clen = z.total_out;
	deflateEnd(&z);
	free(in);
	return (out);
}

static uint32_t
zeros_crc(size_t n)
{
	unsigned char *in;
	uint32_t       crc;
	size_t	       left, k;

	in = calloc(1, MIB);
	assert_non_null(in);
	crc = crc32(0L, Z_NULL, 0);
	for (left = n; left > 0; left -= k) {
		k = left < MIB ? left : MIB;
		crc = crc32(crc, in, k);
	}
	free(in);
	return (crc);
}

static void
test_pkg_bomb_ratio(void **state)
{
	static const struct zopt o = { 0, 3, 0100644U << 16, 1, NULL };
	struct pkg_result	 res;
	struct zw		 w;
	unsigned char		*c;
	size_t			 clen;

	c = zeros(64 * MIB, &clen);
	memset(&w, 0, sizeof(w));
	zw_file(&w, "readme.txt", "hello\n");
	zw_raw(&w, "zeros.bin", 9, &o, c, clen, 64 * MIB, zeros_crc(64 * MIB),
	    8);
	free(c);
	zw_finish(&w);
	assert_int_equal(run(&w, NULL, &res), PKG_RATIO_EXCEEDED);
	assert_string_equal(res.entry, "zeros.bin");
	/* Stopped soon after the 1 MiB floor, far from 64 MiB. */
	assert_true(res.inflated > PKG_RATIO_FLOOR);
	assert_true(res.inflated < 2 * MIB);
	pkg_result_cleanup(&res);
	free(w.buf);
}

static void
test_pkg_bomb_total(void **state)
{
	static const struct zopt o = { 0, 3, 0100644U << 16, 1, NULL };
	struct pkg_limits	 lim;
	struct pkg_result	 res;
	struct zw		 w;
	unsigned char		*c;
	size_t			 clen;

	c = zeros(200 * MIB, &clen);
	memset(&w, 0, sizeof(w));
	zw_raw(&w, "zeros.bin", 9, &o, c, clen, 200 * MIB, zeros_crc(200 * MIB),
	    8);
	free(c);
	zw_finish(&w);
	pkg_limits_init(&lim);
	lim.max_unpacked = 16 * MIB;
	lim.max_ratio = 0;
	assert_int_equal(run(&w, &lim, &res), PKG_TOO_LARGE_UNPACKED);
	assert_string_equal(res.entry, "zeros.bin");
	assert_true(res.inflated > 16 * MIB);
	assert_true(res.inflated <= 17 * MIB);
	pkg_result_cleanup(&res);

	/* The header's size is not what counts: the same bomb, but it claims
	 * 1 KiB. */
	free(w.buf);
	c = zeros(200 * MIB, &clen);
	memset(&w, 0, sizeof(w));
	zw_raw(&w, "liar.bin", 8, &o, c, clen, 1024, zeros_crc(200 * MIB), 8);
	free(c);
	zw_finish(&w);
	lim.max_unpacked = 8ULL << 30;
	assert_int_not_equal(run(&w, &lim, &res), PKG_OK);
	assert_true(res.inflated <= 2 * MIB);
	pkg_result_cleanup(&res);
	free(w.buf);
}

/* The total across entries, each of them harmless (stored). */
static void
test_pkg_total_stored(void **state)
{
	struct pkg_limits lim;
	struct pkg_result res;
	struct zw	  w;
	unsigned char	 *data;

	data = calloc(1, 6 * MIB);
	assert_non_null(data);
	memset(&w, 0, sizeof(w));
	zw_add(&w, "a", 1, &(struct zopt){ 0, 3, 0100644U << 16, 0, NULL },
	    data, 6 * MIB);
	zw_add(&w, "b", 1, &(struct zopt){ 0, 3, 0100644U << 16, 0, NULL },
	    data, 6 * MIB);
	zw_add(&w, "c", 1, &(struct zopt){ 0, 3, 0100644U << 16, 0, NULL },
	    data, 6 * MIB);
	free(data);
	zw_finish(&w);
	pkg_limits_init(&lim);
	lim.max_unpacked = 16 * MIB;
	assert_int_equal(run(&w, &lim, &res), PKG_TOO_LARGE_UNPACKED);
	assert_string_equal(res.entry, "c");
	pkg_result_cleanup(&res);
	free(w.buf);
}

static void
many(struct zw *w, size_t n)
{
	static const struct zopt o = { 0, 3, 0100644U << 16, 0, NULL };
	char			 name[32];
	size_t			 i;
	int			 len;

	memset(w, 0, sizeof(*w));
	for (i = 0; i < n; i++) {
		len =
		    snprintf(name, sizeof(name), "d%03zu/f%06zu", i / 1000, i);
		zw_add(w, name, (size_t)len, &o, "", 0);
	}
	zw_finish(w);
}

static void
test_pkg_too_many_entries(void **state)
{
	struct pkg_limits lim;
	struct pkg_result res;
	struct zw	  w;

	/* 100,001 entries need zip64 counts; with a small cap the same
	 * rule is exercised on 16-bit counts below. */
	pkg_limits_init(&lim);
	lim.max_entries = 1000;
	many(&w, 1001);
	assert_int_equal(run(&w, &lim, &res), PKG_TOO_MANY_ENTRIES);
	assert_int_equal(res.inflated, 0);
	pkg_result_cleanup(&res);
	free(w.buf);

	many(&w, 1000);
	assert_int_equal(run(&w, &lim, &res), PKG_OK);
	assert_int_equal(res.files, 1000);
	pkg_result_cleanup(&res);
	free(w.buf);
}

/* The end record with zip64 counts, for more than 65,535 entries. */
static void
zw_finish64(struct zw *w)
{
	unsigned char e[56 + 20 + 22];
	uint64_t      cdoff = w->len, cdlen = w->cdlen;

	memset(e, 0, sizeof(e));
	memcpy(e, "PK\006\006", 4);
	put32(e + 4, 44);
	put16(e + 12, 45);
	put16(e + 14, 45);
	put32(e + 24, (uint32_t)w->n);
	put32(e + 32, (uint32_t)w->n);
	put32(e + 40, (uint32_t)cdlen);
	put32(e + 48, (uint32_t)cdoff);
	memcpy(e + 56, "PK\006\007", 4);
	put32(e + 64, (uint32_t)(cdoff + cdlen));
	put32(e + 72, 1);
	memcpy(e + 76, "PK\005\006", 4);
	put16(e + 84, 0xffff);
	put16(e + 86, 0xffff);
	put32(e + 88, 0xffffffff);
	put32(e + 92, 0xffffffff);
	put(&w->buf, &w->len, &w->cap, w->cd, w->cdlen);
	put(&w->buf, &w->len, &w->cap, e, sizeof(e));
	free(w->cd);
	w->cd = NULL;
}

static void
test_pkg_100001_entries(void **state)
{
	static const struct zopt o = { 0, 3, 0100644U << 16, 0, NULL };
	struct pkg_result	 res;
	struct zw		 w;
	char			 name[32];
	size_t			 i;
	int			 len;

	memset(&w, 0, sizeof(w));
	for (i = 0; i < 100001; i++) {
		len =
		    snprintf(name, sizeof(name), "d%03zu/f%06zu", i / 1000, i);
		zw_add(&w, name, (size_t)len, &o, "", 0);
	}
	zw_finish64(&w);
	assert_int_equal(run(&w, NULL, &res), PKG_TOO_MANY_ENTRIES);
	assert_int_equal(res.inflated, 0);
	pkg_result_cleanup(&res);

	/* One fewer passes, zip64 end record and all. */
	w.len = 0;
	w.n = 0;
	w.cdlen = 0;
	w.cdcap = 0;
	for (i = 0; i < 100000; i++) {
		len =
		    snprintf(name, sizeof(name), "d%03zu/f%06zu", i / 1000, i);
		zw_add(&w, name, (size_t)len, &o, "", 0);
	}
	zw_finish64(&w);
	assert_int_equal(run(&w, NULL, &res), PKG_OK);
	assert_int_equal(res.files, 100000);
	assert_int_equal(res.dirs, 100);
	pkg_result_cleanup(&res);
	free(w.buf);
}

/* 中文/说明.txt in GBK, without the UTF-8 flag. */
static const char gbk_name[] = "\xd6\xd0\xce\xc4/\xcb\xb5\xc3\xf7.txt";
static const char utf8_name[] =
    "\xe4\xb8\xad\xe6\x96\x87/\xe8\xaf\xb4\xe6\x98\x8e.txt";

static void
test_pkg_gbk_names(void **state)
{
	static const struct zopt o = { 0, 0, 0, 0, NULL };
	static const struct zopt u = { 0x0800, 0, 0, 0, NULL };
	struct pkg_limits	 lim;
	struct pkg_result	 res;
	struct zw		 w;
	json_t			*e;

	memset(&w, 0, sizeof(w));
	zw_add(&w, gbk_name, strlen(gbk_name), &o, "abc", 3);
	zw_add(&w, utf8_name + 7, strlen(utf8_name + 7), &u, "hello\n", 6);
	zw_finish(&w);
	assert_int_equal(run(&w, NULL, &res), PKG_OK);
	e = json_array_get(res.manifest, 0);
	assert_string_equal(json_string_value(json_object_get(e, "path")),
	    utf8_name);
	assert_string_equal(json_string_value(json_object_get(e, "sha256")),
	    SHA_ABC);
	/* A name flagged UTF-8 is kept as it is, not read as GBK. */
	e = json_array_get(res.manifest, 1);
	assert_string_equal(json_string_value(json_object_get(e, "path")),
	    utf8_name + 7);
	pkg_result_cleanup(&res);

	/* Read as UTF-8 (the charset setting), the GBK bytes fail. */
	pkg_limits_init(&lim);
	(void)snprintf(lim.charset, sizeof(lim.charset), "UTF-8");
	assert_int_equal(run(&w, &lim, &res), PKG_BAD_NAME);
	pkg_result_cleanup(&res);

	/* An unknown charset is our error, not the package's. */
	(void)snprintf(lim.charset, sizeof(lim.charset), "NO-SUCH-CHARSET");
	assert_int_equal(run(&w, &lim, &res), PKG_ERROR);
	pkg_result_cleanup(&res);
	free(w.buf);

	/* Bytes that are not GBK, and bad UTF-8 under the flag. */
	memset(&w, 0, sizeof(w));
	zw_add(&w, "bad\xff\xff", 5, &o, "x", 1);
	expect(&w, PKG_BAD_NAME, "bad\\xff\\xff");
	zw_add(&w, "bad\xc0\xaf", 5, &u, "x", 1);
	expect(&w, PKG_BAD_NAME, "bad\\xc0\\xaf");
}

/* A war as a build tool writes it: nested directories, deflated. */
static void
war(struct aw *w, char **big, size_t *biglen)
{
	size_t i, n;
	char  *b;

	*biglen = 4 * MIB;
	b = malloc(*biglen + 64);
	assert_non_null(b);
	for (i = n = 0; n < *biglen; i++)
		n += (size_t)snprintf(b + n, 64,
		    "2026-01-01 12:00:%02zu INFO request %zu served\n", i % 60,
		    i * 7919 % 100003);
	*big = b;
	aw_open(w, 8 * MIB, 1);
	aw_add(w, "META-INF/", AE_IFDIR, NULL, NULL, 0);
	aw_add(w, "META-INF/MANIFEST.MF", AE_IFREG, NULL, "abc", 3);
	aw_add(w, "WEB-INF/", AE_IFDIR, NULL, NULL, 0);
	aw_add(w, "WEB-INF/classes/com/example/App.class", AE_IFREG, NULL,
	    "hello\n", 6);
	aw_add(w, "index.html", AE_IFREG, NULL, "", 0);
	aw_add(w, "WEB-INF/logs/sample.log", AE_IFREG, NULL, b, *biglen);
	aw_close(w);
}

static void
check_war_manifest(const struct pkg_result *res)
{
	static const char *paths[] = { "META-INF/MANIFEST.MF",
		"WEB-INF/classes/com/example/App.class", "index.html",
		"WEB-INF/logs/sample.log" };
	static const char *sums[] = { SHA_ABC, SHA_HELLO, SHA_EMPTY, NULL };
	static const int   sizes[] = { 3, 6, 0, 4 * MIB };
	json_t		  *e;
	size_t		   i;

	assert_int_equal(json_array_size(res->manifest), 4);
	for (i = 0; i < 4; i++) {
		e = json_array_get(res->manifest, i);
		assert_string_equal(json_string_value(
					json_object_get(e, "path")),
		    paths[i]);
		assert_true(
		    json_integer_value(json_object_get(e, "size")) == sizes[i]);
		if (sums[i] != NULL)
			assert_string_equal(json_string_value(
						json_object_get(e, "sha256")),
			    sums[i]);
	}
	assert_int_equal(res->files, 4);
	/* META-INF, WEB-INF, classes, com, example, logs. */
	assert_int_equal(res->dirs, 6);
	assert_int_equal(res->entries, 6);
	assert_int_equal(res->bytes, 3 + 6 + 4 * MIB);
}

static void
test_pkg_war_manifest(void **state)
{
	struct pkg_limits lim;
	struct pkg_result res, res2;
	struct aw	  w;
	char		 *big, path[] = "/tmp/test_pkg_XXXXXX";
	size_t		  biglen;
	int		  fd;
	json_t		 *v;

	war(&w, &big, &biglen);
	pkg_limits_init(&lim);
	assert_int_equal(pkg_check_memory(w.buf, w.used, &lim, &res), PKG_OK);
	check_war_manifest(&res);
	/* Compressible text stays well under the ratio rule. */
	assert_true(res.consumed * 200 > res.inflated);
	v = pkg_verdict_json(&res);
	assert_non_null(v);
	assert_true(json_is_true(json_object_get(v, "ok")));
	json_decref(v);

	/* The same from a file, with the package's own SHA-256. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, w.buf, w.used), (ssize_t)w.used);
	close(fd);
	lim.hash_package = 1;
	assert_int_equal(pkg_check_file(path, &lim, &res2), PKG_OK);
	check_war_manifest(&res2);
	assert_true(json_equal(res.manifest, res2.manifest));
	assert_int_equal(strlen(res2.sha256), 64);
	unlink(path);
	pkg_result_cleanup(&res);
	pkg_result_cleanup(&res2);
	free(big);
	free(w.buf);
}

static void
test_pkg_corrupt(void **state)
{
	struct pkg_limits lim;
	struct pkg_result res;
	struct aw	  w;
	char		 *big;
	size_t		  biglen, cut;
	json_t		 *v;

	war(&w, &big, &biglen);
	free(big);
	pkg_limits_init(&lim);
	/* Truncated anywhere, including the end record. */
	for (cut = 0; cut < w.used; cut += w.used / 7 + 1) {
		assert_int_equal(pkg_check_memory(w.buf, cut, &lim, &res),
		    PKG_NOT_AN_ARCHIVE);
		assert_null(res.manifest);
		pkg_result_cleanup(&res);
	}
	assert_int_equal(pkg_check_memory(w.buf, w.used - 1, &lim, &res),
	    PKG_NOT_AN_ARCHIVE);
	pkg_result_cleanup(&res);

	/* Damaged deflate data in the big entry (CRC or stream error). */
	w.buf[w.used / 2] ^= 0x55;
	w.buf[w.used / 2 + 1] ^= 0x55;
	assert_int_equal(pkg_check_memory(w.buf, w.used, &lim, &res),
	    PKG_NOT_AN_ARCHIVE);
	assert_string_equal(res.entry, "WEB-INF/logs/sample.log");
	v = pkg_verdict_json(&res);
	assert_string_equal(json_string_value(json_object_get(v, "rule")),
	    "not_an_archive");
	json_decref(v);
	pkg_result_cleanup(&res);

	assert_int_equal(pkg_check_memory("not a zip at all, sorry......", 29,
			     &lim, &res),
	    PKG_NOT_AN_ARCHIVE);
	pkg_result_cleanup(&res);
	assert_int_equal(pkg_check_file("/nonexistent/x.zip", &lim, &res),
	    PKG_ERROR);
	pkg_result_cleanup(&res);
	free(w.buf);
}

/* What the directory says and what the local header says must agree. */
static void
test_pkg_inconsistent(void **state)
{
	static const struct zopt o = { 0, 3, 0100644U << 16, 0, "../evil" };
	struct zw		 w;
	unsigned char		*rec;
	size_t			 len;

	memset(&w, 0, sizeof(w));
	zw_add(&w, "good.txt", 8, &o, "x", 1);
	expect(&w, PKG_NOT_AN_ARCHIVE, "good.txt");

	/* Two directory records for one local header. */
	zw_file(&w, "a.txt", "x");
	len = w.cdlen;
	rec = malloc(len);
	assert_non_null(rec);
	memcpy(rec, w.cd, len);
	put(&w.cd, &w.cdlen, &w.cdcap, rec, len);
	free(rec);
	w.n++;
	expect(&w, PKG_DUPLICATE_NAME, "a.txt");
}

static void
test_pkg_codes(void **state)
{
	assert_string_equal(pkg_rule_code(PKG_OK), "ok");
	assert_string_equal(pkg_rule_code(PKG_PATH_TRAVERSAL),
	    "path_traversal");
	assert_string_equal(pkg_rule_code(PKG_ENCRYPTED_ENTRY),
	    "encrypted_entry");
	assert_string_equal(pkg_rule_code(PKG_ERROR), "error");
	assert_string_equal(pkg_rule_code((enum pkg_rule)99), "error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkg_paths),
		cmocka_unit_test(test_pkg_long_names),
		cmocka_unit_test(test_pkg_nul_in_name),
		cmocka_unit_test(test_pkg_symlink),
		cmocka_unit_test(test_pkg_hardlink),
		cmocka_unit_test(test_pkg_special),
		cmocka_unit_test(test_pkg_encrypted),
		cmocka_unit_test(test_pkg_duplicates),
		cmocka_unit_test(test_pkg_bomb_ratio),
		cmocka_unit_test(test_pkg_bomb_total),
		cmocka_unit_test(test_pkg_total_stored),
		cmocka_unit_test(test_pkg_too_many_entries),
		cmocka_unit_test(test_pkg_100001_entries),
		cmocka_unit_test(test_pkg_gbk_names),
		cmocka_unit_test(test_pkg_war_manifest),
		cmocka_unit_test(test_pkg_corrupt),
		cmocka_unit_test(test_pkg_inconsistent),
		cmocka_unit_test(test_pkg_codes),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
