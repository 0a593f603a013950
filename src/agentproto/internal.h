/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Helpers shared by the agentproto codecs, private to src/agentproto/:
 * error paths, the body loader, typed member getters and the encoder's
 * set/dump pair.  Hidden from the module's dynamic symbol table.
 */

#ifndef AGENTPROTO_INTERNAL_H
#define AGENTPROTO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agentproto/agentproto.h"

#define AGENTPROTO_HIDDEN __attribute__((visibility("hidden")))

#define AGENTPROTO_PFX_MAX    64
#define AGENTPROTO_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10))

extern const char agentproto_b64url[] AGENTPROTO_HIDDEN;

/* err->field = pfx "." name, err->msg = the formatted sentence. */
void agentproto_err_set(struct agentproto_err *, const char *, const char *,
    const char *, ...) AGENTPROTO_HIDDEN __attribute__((format(printf, 4, 5)));
/* "facts.disks[2]" + "path" -> "facts.disks[2].path". */
void agentproto_path_join(char *, size_t, const char *,
    const char *) AGENTPROTO_HIDDEN;
/* A body (at most AGENTPROTO_BODY_MAX bytes) as a new object, or NULL. */
json_t *agentproto_load(const char *, size_t,
    struct agentproto_err *) AGENTPROTO_HIDDEN;
/* The same with another cap (a commands answer: AGENTPROTO_POLL_MAX). */
json_t *agentproto_load_max(const char *, size_t, size_t,
    struct agentproto_err *) AGENTPROTO_HIDDEN;
/* "v" present and AGENTPROTO_VERSION. */
int agentproto_check_v(const json_t *,
    struct agentproto_err *) AGENTPROTO_HIDDEN;
/* A member of o; NULL (and err set when required) if absent. */
const json_t *agentproto_member(const json_t *, const char *, const char *, int,
    struct agentproto_err *) AGENTPROTO_HIDDEN;
int agentproto_get_int(const json_t *, const char *, const char *, int, int64_t,
    int64_t, int64_t *, int *, struct agentproto_err *) AGENTPROTO_HIDDEN;
int agentproto_get_num(const json_t *, const char *, const char *, double,
    double, double *, struct agentproto_err *) AGENTPROTO_HIDDEN;
int agentproto_get_str(const json_t *, const char *, const char *, int, size_t,
    size_t, char *, size_t, struct agentproto_err *) AGENTPROTO_HIDDEN;
/* Member name: a UUID, returned in lower case in dst (> 36 bytes). */
int agentproto_get_uuid(const json_t *, const char *, const char *, char *,
    size_t, struct agentproto_err *) AGENTPROTO_HIDDEN;
/* Set o[key] = v, stealing v; 0 when v is NULL or on failure. */
int agentproto_set(json_t *, const char *, json_t *) AGENTPROTO_HIDDEN;
/* Dump and release root; NULL on failure. */
char *agentproto_dump(json_t *) AGENTPROTO_HIDDEN;
/* Lower-case letters, digits, '_' and '-': "ping", "apply-config". */
int agentproto_type_valid(const char *) AGENTPROTO_HIDDEN;

/* Per family, used across files. */
int agentproto_facts_decode(const json_t *, const char *,
    struct agentproto_facts *, struct agentproto_err *) AGENTPROTO_HIDDEN;
int agentproto_interval_decode(const json_t *, int64_t *, int64_t *,
    struct agentproto_err *) AGENTPROTO_HIDDEN;
int agentproto_logreq_decode(const json_t *, const char *,
    struct agentproto_logreq *, struct agentproto_err *) AGENTPROTO_HIDDEN;

#endif /* AGENTPROTO_INTERNAL_H */
