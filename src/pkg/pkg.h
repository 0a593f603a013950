/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Update packages: the checks a zip (war, jar) passes before it is stored.
 * Kore-free (libc, iconv, libarchive, OpenSSL, jansson); it only reads, and
 * blocks while it does, so the server calls it from a Kore task.
 */

#ifndef PKG_H
#define PKG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Defaults of struct pkg_limits (docs/packages.md, "Checks"). */
#define PKG_MAX_ENTRIES	 100000
#define PKG_MAX_UNPACKED (8ULL << 30)
#define PKG_MAX_RATIO	 200
#define PKG_RATIO_FLOOR	 (1ULL << 20)
#define PKG_CHARSET	 "GBK"
#define PKG_CHARSET_MAX	 32
#define PKG_PATH_MAX	 1024 /* bytes of a decoded name */
#define PKG_NAME_MAX	 255 /* bytes of one component */
#define PKG_MESSAGE_MAX	 256

/*
 * The verdict.  PKG_OK and the rejections have stable codes
 * (pkg_rule_code()): clients match on them.  PKG_ERROR is not the
 * package's fault (out of memory, unreadable file, unknown charset).
 */
enum pkg_rule {
	PKG_OK = 0,
	PKG_NOT_AN_ARCHIVE, /* not_an_archive: not a sound zip */
	PKG_PATH_ABSOLUTE, /* path_absolute: leading / or \ */
	PKG_PATH_TRAVERSAL, /* path_traversal: a .. component */
	PKG_PATH_DRIVE, /* path_drive: C: */
	PKG_LINK_ENTRY, /* link_entry: symlink or hard link */
	PKG_SPECIAL_ENTRY, /* special_entry: device, FIFO, socket */
	PKG_DUPLICATE_NAME, /* duplicate_name: also file vs directory */
	PKG_CASE_DUPLICATE, /* case_duplicate: names equal but for case */
	PKG_TOO_MANY_ENTRIES, /* too_many_entries */
	PKG_TOO_LARGE_UNPACKED, /* too_large_unpacked */
	PKG_RATIO_EXCEEDED, /* ratio_exceeded: one entry inflates too much */
	PKG_BAD_NAME, /* bad_name: undecodable, control, \, empty, ... */
	PKG_ENCRYPTED_ENTRY, /* encrypted_entry */
	PKG_ERROR /* error: ours, not the package's */
};

struct pkg_limits {
	uint64_t max_entries; /* zip entries, and directories implied */
	uint64_t max_unpacked; /* bytes inflated, all entries */
	uint32_t max_ratio; /* inflated / compressed per entry; 0: none */
	uint64_t ratio_floor; /* the ratio applies above this many bytes */
	char	 charset[PKG_CHARSET_MAX]; /* of names not flagged UTF-8 */
	int	 hash_package; /* also the SHA-256 of the whole file */
};

struct pkg_result {
	enum pkg_rule rule;
	char	     *entry; /* offending entry (UTF-8, \ shown as /) */
	char	      message[PKG_MESSAGE_MAX];
	json_t	     *manifest; /* [{"path","size","sha256"}], when PKG_OK */
	uint64_t      entries; /* zip entries */
	uint64_t      files;
	uint64_t      dirs; /* explicit and implied */
	uint64_t      bytes; /* unpacked bytes of the files */
	uint64_t      inflated; /* bytes produced while checking */
	uint64_t      consumed; /* compressed bytes read while checking */
	uint64_t      size; /* of the package */
	char	      sha256[65]; /* of the package, if hash_package */
};

/* Fills *l with the defaults above. */
void pkg_limits_init(struct pkg_limits *);

/*
 * Check the zip at path (or in memory).  Always fills *res (which the
 * caller releases with pkg_result_cleanup(), whatever the outcome) and
 * returns res->rule.  Reading stops at the first broken rule.
 */
enum pkg_rule pkg_check_file(const char *, const struct pkg_limits *,
    struct pkg_result *);
enum pkg_rule pkg_check_memory(const void *, size_t, const struct pkg_limits *,
    struct pkg_result *);
void	      pkg_result_cleanup(struct pkg_result *);

/* "ok", "path_traversal", ...; never NULL. */
const char *pkg_rule_code(enum pkg_rule);

/*
 * The verdict as JSON, a new reference: {"ok":true,"entries","files",
 * "dirs","bytes"} or {"ok":false,"rule","entry","message"}.
 */
json_t *pkg_verdict_json(const struct pkg_result *);

#endif /* PKG_H */
