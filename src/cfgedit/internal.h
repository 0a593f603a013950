/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * cfgedit's insides: parsed nodepaths, a growing buffer, error messages,
 * and the per-format scanners that cfgedit.c dispatches to.
 */

#ifndef CFGEDIT_INTERNAL_H
#define CFGEDIT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cfgedit/cfgedit.h"

enum cfgedit_step_kind {
	CFGEDIT_STEP_NAME = 0, /* an element or member name */
	CFGEDIT_STEP_ANY, /* XML: *, any element */
	CFGEDIT_STEP_ATTR, /* XML: @name, the last step */
	CFGEDIT_STEP_INDEX /* JSON: [i] into an array */
};

struct cfgedit_step {
	enum cfgedit_step_kind kind;
	const char *name; /* into the path's names[]; not NUL-ended */
	size_t	    name_len;
	size_t	    index; /* XML: the [i] of the step (0) */
	int	    has_index;
};

struct cfgedit_path {
	struct cfgedit_step steps[CFGEDIT_STEPS_MAX];
	size_t		    n;
	char		    names[CFGEDIT_PATH_MAX + 1];
};

#define CFGEDIT_INDEX_MAX 100000000

/* A malloc'd byte buffer that keeps a NUL after its bytes. */
struct cfgedit_buf {
	char  *data;
	size_t len, cap;
	int    failed; /* out of memory once: every later call is a no-op */
};

void cfgedit_buf_init(struct cfgedit_buf *);
int  cfgedit_buf_add(struct cfgedit_buf *, const void *, size_t);
int  cfgedit_buf_addc(struct cfgedit_buf *, int);
void cfgedit_buf_cleanup(struct cfgedit_buf *);

void cfgedit_err(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

int cfgedit_path_parse(enum cfgedit_format, const char *, struct cfgedit_path *,
    char *, size_t);

/*
 * One replacement: the bytes [start, end) of the input become data
 * (len bytes, malloc'd), the value itself at data + at_off, val_len bytes.
 */
struct cfgedit_repl {
	size_t start, end;
	char  *data;
	size_t len;
	size_t at_off, val_len;
	size_t edit; /* index in the caller's edits */
};

int  cfgedit_splice(const char *, size_t, struct cfgedit_repl *, size_t,
     struct cfgedit_edit *, char **, size_t *, char *, size_t);
void cfgedit_repls_free(struct cfgedit_repl *, size_t);

int	 cfgedit_utf8_valid(const unsigned char *, size_t);
size_t	 cfgedit_utf8_dec(const unsigned char *, size_t, uint32_t *);
int	 cfgedit_utf8_put(struct cfgedit_buf *, uint32_t);
unsigned cfgedit_line(const char *, size_t);

/* Per format, called by cfgedit.c with checked arguments. */
int cfgedit_xml_apply(const char *, size_t, struct cfgedit_edit *, size_t,
    char **, size_t *, char *, size_t);
int cfgedit_xml_get(const char *, size_t, const char *, char **, size_t *,
    char *, size_t);
int cfgedit_json_apply(const char *, size_t, struct cfgedit_edit *, size_t,
    char **, size_t *, char *, size_t);
int cfgedit_json_get(const char *, size_t, const char *, char **, size_t *,
    char *, size_t);
int cfgedit_props_apply(const char *, size_t, struct cfgedit_edit *, size_t,
    char **, size_t *, char *, size_t);
int cfgedit_props_get(const char *, size_t, const char *, char **, size_t *,
    char *, size_t);

#endif /* CFGEDIT_INTERNAL_H */
