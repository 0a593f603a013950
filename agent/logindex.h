/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The stderr index of a task's captured output (docs/agent-protocol.md,
 * "Logs"): <log>.stderr beside each part of <state>/logs/<id>.log, which
 * the log relay (yard-agent-relay) appends to and the agent reads.
 * Shared by both programs, so it uses only libc.
 */

#ifndef AGENT_LOGINDEX_H
#define AGENT_LOGINDEX_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/*
 * The file: a 16-byte header (AGENT_LOGIDX_MAGIC, then 8 zero bytes),
 * then 16-byte records, each the byte range [start, end) of the log part
 * that a write of the task's stderr filled, as two little-endian 64-bit
 * integers, in the order they were written (so ordered by start).  A
 * file without the header, a trailing partial record or a record that
 * makes no sense (end <= start, or before the one preceding it) is
 * ignored, never trusted: the marks are then missing, never wrong about
 * what the log holds.
 */
#define AGENT_LOGIDX_SUFFIX ".stderr"
#define AGENT_LOGIDX_MAGIC  "YARDERR1"
#define AGENT_LOGIDX_HDR    16
#define AGENT_LOGIDX_REC    16
/* Waits for the index lock never exceed this (neither program blocks on
 * the other: past it, each goes on without the lock). */
#define AGENT_LOGIDX_LOCK_MS 200

/* Byte ranges, as pairs: v[2k] start, v[2k + 1] end; malloc'd. */
struct agent_ranges {
	int64_t *v;
	size_t	 n; /* pairs */
	size_t	 cap; /* pairs */
};

/* Write the header into an empty index: 1, or 0 with errno. */
int agent_logidx_init(int);
/* Append the record [start, end): 1, or 0 with errno. */
int agent_logidx_append(int, int64_t, int64_t);
/* Whether fd is an index (its header): the number of whole records, or
 * -1 when it is not one (or cannot be read). */
int64_t agent_logidx_count(int);
/*
 * Add to out the stderr bytes of the part inside [from, to), clipped,
 * moved by shift - from (so that from lands on shift), merged with the
 * last range of out when they touch.  A bad index adds nothing.  1, or 0
 * when out of memory.
 */
int agent_logidx_collect(int, int64_t, int64_t, int64_t, struct agent_ranges *);
/* Whether any byte in [from, to) is in a stderr range: 1, 0 (or -1). */
int agent_logidx_any(int, int64_t, int64_t);
/* Append [start, end) to r (merged with a touching last range). */
int  agent_ranges_add(struct agent_ranges *, int64_t, int64_t);
void agent_ranges_free(struct agent_ranges *);
/*
 * Lock the index shared (readers) or exclusive (the relay), waiting at
 * most AGENT_LOGIDX_LOCK_MS: 1 when locked, 0 when not (go on anyway).
 */
int  agent_logidx_lock(int, int);
void agent_logidx_unlock(int);
/*
 * A relay holds a shared lock on the log it writes for as long as it
 * writes it: whether one holds path now (1), so that nobody else rotates
 * it; 0 when none does (or path cannot be opened).
 */
int agent_logidx_held(const char *);

#endif /* AGENT_LOGINDEX_H */
