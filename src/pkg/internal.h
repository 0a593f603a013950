/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Between the files of src/pkg/: entry names (name.c) and the zip walk
 * (check.c).
 */

#ifndef PKG_INTERNAL_H
#define PKG_INTERNAL_H

#include <iconv.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/pkg.h"

/* A name rejected: which rule and why (message without the name). */
struct pkg_name_err {
	enum pkg_rule rule;
	char	      message[PKG_MESSAGE_MAX];
};

/*
 * Decode a raw zip name (utf8: the name is UTF-8, else cd converts it from
 * the configured charset).  Returns a malloc'd NUL-terminated UTF-8 string,
 * or NULL (*err says why; rule PKG_ERROR when out of memory).
 */
char *pkg_name_decode(const unsigned char *, size_t, int, iconv_t,
    struct pkg_name_err *);

/* A display form of a raw name that could not be decoded (malloc'd). */
char *pkg_name_escape(const unsigned char *, size_t);

/*
 * Check a decoded name and normalise it in place: \ shown as /, the
 * trailing / of a directory removed (*dir set).  Returns PKG_OK or the
 * rule (with *err).
 */
enum pkg_rule pkg_name_check(char *, int *, struct pkg_name_err *);

/* Duplicate detection over names and the directories they imply. */
struct pkg_nameset;

struct pkg_nameset *pkg_nameset_new(uint64_t);
void		    pkg_nameset_free(struct pkg_nameset *);

/*
 * Add a normalised name (kept by the caller until the set is freed).
 * Returns PKG_OK, PKG_DUPLICATE_NAME, PKG_CASE_DUPLICATE,
 * PKG_TOO_MANY_ENTRIES (the set is full) or PKG_ERROR, with *err.
 */
enum pkg_rule pkg_nameset_add(struct pkg_nameset *, const char *, int,
    struct pkg_name_err *);

/* Distinct directories seen, explicit or implied. */
uint64_t pkg_nameset_dirs(const struct pkg_nameset *);

int pkg_utf8_valid(const unsigned char *, size_t);

#endif /* PKG_INTERNAL_H */
