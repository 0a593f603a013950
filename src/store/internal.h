/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * What the store's own files share: the request statement state and the
 * statement runner.  Nothing outside src/store/ includes this.
 */

#ifndef STORE_INTERNAL_H
#define STORE_INTERNAL_H

#include <inttypes.h>
#include <stdio.h>

#include <kore/kore.h>
#include <kore/pgsql.h>

#include "auth/auth.h"
#include "store/store.h"

struct store_q {
	struct kore_pgsql sql;
	int		  phase;
	PGresult	 *res; /* last result, owned */
	enum store_err	  err;
	char		  column[16];
};

/*
 * Run one statement (text parameters, NULL for SQL NULL) for req (NULL:
 * none to wake).  Call it again with the same arguments on every
 * re-entry until it answers STORE_OK or STORE_ERR (store.h).
 */
enum store_step store_run(struct store_q *, struct http_request *,
    const char *sql, int n, const char *const *vals);

/* Decimal text of a number, for a statement parameter. */
#define STORE_NUM(buf, v) \
	(snprintf((buf), sizeof(buf), "%" PRId64, (int64_t)(v)), \
	    (const char *)(buf))
#define STORE_BOOL(b) ((b) ? "true" : "false")

/*
 * SQL: join after "FROM tasks t" to have the caller's level on task t as
 * lv.level, 0 none, 1 view, 2 operate, 3 manage; STORE_TASK_VISIBLE is
 * whether t is visible at all.  The rule is yard_level_row()
 * (migrations/006_levels.sql): an admin ($2), or the better of a grant of
 * user $3 on the task and one on its node.  For statements that bind $2
 * and $3 so.
 */
#define STORE_TASK_LEVEL_JOIN \
	" CROSS JOIN LATERAL yard_level_row($3::bigint, $2::boolean," \
	" t.node_id, t.id) lv"
#define STORE_TASK_VISIBLE "(lv.level >= 1)"

/* A duty statement's WITH member recording the run in duty_runs. */
#define STORE_DUTY_RECORD \
	" rec AS (INSERT INTO duty_runs (duty, holder, runs, last_run)" \
	"  VALUES ($1, $2, 1, now()) ON CONFLICT (duty) DO UPDATE SET" \
	"  holder = EXCLUDED.holder, runs = duty_runs.runs + 1," \
	"  last_run = now()),"

#endif /* STORE_INTERNAL_H */
