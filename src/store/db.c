/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Schema migrations, applied by the parent at start-up with blocking libpq
 * (no worker exists yet, so nothing else is stalled).
 */

#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "store/store.h"

#define MIGRATION_MAX	    64
#define MIGRATION_BYTES_MAX (1024 * 1024)
/* Arbitrary constant: the advisory lock that serialises migrations. */
#define MIGRATION_LOCK "734561"

static int   mig_cmp(const void *, const void *);
static char *mig_read(const char *, const char *, char *, size_t);
static int   mig_exec(PGconn *, const char *, char *, size_t);

static int
mig_cmp(const void *a, const void *b)
{
	return (strcmp(a, b));
}

static char *
mig_read(const char *dir, const char *name, char *err, size_t errlen)
{
	char   path[1024], *buf;
	FILE  *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if ((buf = malloc(MIGRATION_BYTES_MAX + 1)) == NULL) {
		fclose(fp);
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	n = fread(buf, 1, MIGRATION_BYTES_MAX + 1, fp);
	fclose(fp);
	if (n > MIGRATION_BYTES_MAX) {
		free(buf);
		snprintf(err, errlen, "%s: too large", path);
		return (NULL);
	}
	buf[n] = '\0';
	return (buf);
}

static int
mig_exec(PGconn *db, const char *sql, char *err, size_t errlen)
{
	PGresult *res;
	int	  ok;

	res = PQexec(db, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		snprintf(err, errlen, "%s", PQerrorMessage(db));
	PQclear(res);
	return (ok);
}

int
store_db_migrate(const char *conninfo, const char *dir, int wait_secs,
    char *err, size_t errlen)
{
	PGconn	      *db;
	PGresult      *res;
	DIR	      *d;
	struct dirent *de;
	char	       names[MIGRATION_MAX][NAME_MAX + 1], *sql, sub[512];
	const char    *params[1];
	size_t	       n, i, len;
	int	       ret, tries, locked;

	ret = 0;
	n = 0;
	locked = 0;
	db = NULL;

	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "migrations %s: %s", dir,
		    strerror(errno));
		return (0);
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 8 || strcmp(de->d_name + len - 4, ".sql") != 0)
			continue;
		if (n == MIGRATION_MAX) {
			snprintf(err, errlen, "too many migrations in %s", dir);
			closedir(d);
			goto cleanup;
		}
		(void)snprintf(names[n], sizeof(names[n]), "%s", de->d_name);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), mig_cmp);

	/* PostgreSQL may still be starting next to us: wait a little. */
	for (tries = 0;; tries++) {
		db = PQconnectdb(conninfo);
		if (PQstatus(db) == CONNECTION_OK)
			break;
		if (tries >= wait_secs * 4) {
			snprintf(err, errlen, "YARD_PG_DSN: cannot connect: %s",
			    PQerrorMessage(db));
			goto cleanup;
		}
		PQfinish(db);
		db = NULL;
		usleep(250000);
	}

	if (!mig_exec(db, "SELECT pg_advisory_lock(" MIGRATION_LOCK ")", sub,
		sizeof(sub))) {
		snprintf(err, errlen, "migration lock: %s", sub);
		goto cleanup;
	}
	locked = 1;
	if (!mig_exec(db,
		"CREATE TABLE IF NOT EXISTS schema_migrations ("
		"name text PRIMARY KEY, applied_at timestamptz NOT NULL "
		"DEFAULT now())",
		sub, sizeof(sub))) {
		snprintf(err, errlen, "schema_migrations: %s", sub);
		goto cleanup;
	}

	for (i = 0; i < n; i++) {
		params[0] = names[i];
		res = PQexecParams(db,
		    "SELECT 1 FROM schema_migrations WHERE name = $1", 1, NULL,
		    params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			snprintf(err, errlen, "schema_migrations: %s",
			    PQerrorMessage(db));
			PQclear(res);
			goto cleanup;
		}
		len = (size_t)PQntuples(res);
		PQclear(res);
		if (len > 0)
			continue;

		if ((sql = mig_read(dir, names[i], err, errlen)) == NULL)
			goto cleanup;
		if (!mig_exec(db, "BEGIN", sub, sizeof(sub)) ||
		    !mig_exec(db, sql, sub, sizeof(sub))) {
			free(sql);
			(void)mig_exec(db, "ROLLBACK", err, 1);
			snprintf(err, errlen, "migration %s: %s", names[i],
			    sub);
			goto cleanup;
		}
		free(sql);
		res = PQexecParams(db,
		    "INSERT INTO schema_migrations (name) VALUES ($1)", 1, NULL,
		    params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(err, errlen, "migration %s: %s", names[i],
			    PQerrorMessage(db));
			PQclear(res);
			(void)mig_exec(db, "ROLLBACK", sub, sizeof(sub));
			goto cleanup;
		}
		PQclear(res);
		if (!mig_exec(db, "COMMIT", sub, sizeof(sub))) {
			snprintf(err, errlen, "migration %s: %s", names[i],
			    sub);
			goto cleanup;
		}
	}
	ret = 1;

cleanup:
	if (locked)
		(void)mig_exec(db,
		    "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")", sub,
		    sizeof(sub));
	if (db != NULL)
		PQfinish(db);
	return (ret);
}
