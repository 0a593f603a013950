/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for agent/logread.c: the last lines across a rotated part,
 * a search, chunked reads that end on whole lines, a file replaced under
 * a follow, and which files a task's logs may be read from.
 */

#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"

static char dir[64];
static char path[128];

static void
put(const char *name, const char *text)
{
	char  p[160];
	FILE *f;

	(void)snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_non_null(f = fopen(p, "w"));
	(void)fputs(text, f);
	(void)fclose(f);
}

/* Each test starts without rotated parts. */
static int
clear(void **state)
{
	char p[160];
	int  i;

	for (i = 1; i <= 5; i++) {
		(void)snprintf(p, sizeof(p), "%s/7.log.%d", dir, i);
		(void)unlink(p);
	}
	return (0);
}

static int
setup(void **state)
{
	(void)snprintf(dir, sizeof(dir), "/tmp/test-logread.XXXXXX");
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/7.log", dir);
	return (0);
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return (system(cmd) == 0 ? 0 : -1);
}

static void
test_tail(void **state)
{
	off_t size;
	char *s;
	int   trunc;

	put("7.log", "one\ntwo\nthree\n");
	assert_non_null(s = agent_log_tail(path, NULL, 2, &size, &trunc, NULL));
	assert_string_equal(s, "two\nthree\n");
	assert_int_equal(size, 14);
	assert_int_equal(trunc, 0);
	free(s);
	/* An unfinished last line counts as a line. */
	put("7.log", "one\ntwo\nthr");
	assert_non_null(s = agent_log_tail(path, NULL, 2, &size, &trunc, NULL));
	assert_string_equal(s, "two\nthr");
	free(s);
	/* Short current part: the rotated one supplies the rest. */
	put("7.log.1", "old1\nold2\n");
	put("7.log", "new\n");
	assert_non_null(s = agent_log_tail(path, NULL, 3, &size, &trunc, NULL));
	assert_string_equal(s, "old1\nold2\nnew\n");
	assert_int_equal(size, 4);
	free(s);
	/* No file yet: nothing, not an error. */
	(void)snprintf(path, sizeof(path), "%s/8.log", dir);
	assert_non_null(s = agent_log_tail(path, NULL, 3, &size, &trunc, NULL));
	assert_string_equal(s, "");
	free(s);
	(void)snprintf(path, sizeof(path), "%s/7.log", dir);
}

static void
test_tail_bounded(void **state)
{
	char  *big, *s;
	off_t  size;
	size_t i, n = 3 * LOG_RAW_MAX / 100 * 100;
	int    trunc;
	FILE  *f;

	assert_non_null(big = malloc(n + 1));
	for (i = 0; i < n; i++)
		big[i] = i % 100 == 99 ? '\n' : (char)('a' + i % 26);
	big[n] = '\0';
	assert_non_null(f = fopen(path, "w"));
	(void)fputs(big, f);
	(void)fclose(f);
	/* Asking for more lines than fit: at most LOG_RAW_MAX, whole
	 * lines only, and it says so. */
	assert_non_null(
	    s = agent_log_tail(path, NULL, 5000, &size, &trunc, NULL));
	assert_true(strlen(s) <= LOG_RAW_MAX);
	assert_true(strlen(s) > LOG_RAW_MAX - 200);
	assert_int_equal(strlen(s) % 100, 0);
	assert_int_equal(trunc, 1);
	free(s);
	free(big);
}

static void
test_dirty_bytes(void **state)
{
	off_t size;
	char *s;
	int   trunc;

	put("7.log", "caf\xc3\xa9 \x1b[31mred\x1b[0m \xff\xfe\n");
	assert_non_null(s = agent_log_tail(path, NULL, 5, &size, &trunc, NULL));
	assert_string_equal(s, "caf\xc3\xa9 ?[31mred?[0m ??\n");
	free(s);
}

static void
test_search(void **state)
{
	int64_t m;
	off_t	size;
	char   *s;
	int	trunc;

	put("7.log.2", "ERROR a\nok\n");
	put("7.log.1", "error b\n");
	put("7.log", "fine\nan Error c\nERROR d\n");
	assert_non_null(s = agent_log_search(path, NULL, "error", 2, &m, &size,
			    &trunc, NULL));
	assert_string_equal(s, "an Error c\nERROR d\n");
	assert_int_equal(m, 4);
	free(s);
	assert_non_null(s = agent_log_search(path, NULL, "error", 10, &m, &size,
			    &trunc, NULL));
	assert_string_equal(s, "ERROR a\nerror b\nan Error c\nERROR d\n");
	free(s);
	assert_non_null(s = agent_log_search(path, NULL, "nothing", 10, &m,
			    &size, &trunc, NULL));
	assert_string_equal(s, "");
	assert_int_equal(m, 0);
	free(s);
}

static void
test_read_chunks(void **state)
{
	uint64_t ino = 0;
	off_t	 pos = 0;
	char	*s;
	int	 restarted;

	put("7.log", "a\nb\npartial");
	/* Up to the last newline first, then the unfinished line. */
	assert_non_null(
	    s = agent_log_read(path, NULL, &pos, &ino, 0, &restarted, NULL));
	assert_string_equal(s, "a\nb\n");
	assert_int_equal(pos, 4);
	free(s);
	assert_non_null(
	    s = agent_log_read(path, NULL, &pos, &ino, 0, &restarted, NULL));
	assert_string_equal(s, "partial");
	free(s);
	assert_non_null(
	    s = agent_log_read(path, NULL, &pos, &ino, 0, &restarted, NULL));
	assert_string_equal(s, "");
	assert_int_equal(restarted, 0);
	free(s);
	/* Truncated (copy-truncate rotation): read again from the start. */
	put("7.log", "new\n");
	assert_non_null(
	    s = agent_log_read(path, NULL, &pos, &ino, 0, &restarted, NULL));
	assert_string_equal(s, "new\n");
	assert_int_equal(restarted, 1);
	free(s);
	/* Replaced by another file (rename rotation): same. */
	put("other", "x\ny\nz\nw\n");
	{
		char o[160];

		(void)snprintf(o, sizeof(o), "%s/other", dir);
		assert_int_equal(rename(o, path), 0);
	}
	assert_non_null(
	    s = agent_log_read(path, NULL, &pos, &ino, 0, &restarted, NULL));
	assert_string_equal(s, "x\ny\nz\nw\n");
	assert_int_equal(restarted, 1);
	free(s);
	/* A limit stops a download where the file was when it began. */
	pos = 0;
	assert_non_null(
	    s = agent_log_read(path, NULL, &pos, &ino, 4, &restarted, NULL));
	assert_string_equal(s, "x\ny\n");
	free(s);
}

static void
test_files(void **state)
{
	struct agent_confine c;
	char		     spec_text[512], p[PATH_MAX], sub[160];
	json_t		    *spec, *files;

	(void)snprintf(sub, sizeof(sub), "%s/logs", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	put("logs/a.log", "a\n");
	put("logs/b.log", "b\n");
	put("logs/c.txt", "c\n");
	(void)snprintf(spec_text, sizeof(spec_text),
	    "{\"deploy_dir\":\"%s\",\"log_files\":[\"logs/*.log\","
	    "\"logs/a.log\",\"missing/*\"]}",
	    dir);
	assert_non_null(spec = json_loads(spec_text, 0, NULL));
	assert_int_equal(agent_confine_init(&c, NULL, spec, NULL), 1);
	/* Without confinement, only the captured output. */
	assert_non_null(files = agent_log_files(spec, NULL));
	assert_int_equal(json_array_size(files), 1);
	json_decref(files);
	assert_non_null(files = agent_log_files(spec, &c));
	assert_int_equal(json_array_size(files), 3); /* no duplicate */
	assert_string_equal(json_string_value(json_array_get(files, 0)),
	    "stdout");
	json_decref(files);

	assert_int_equal(agent_log_path(spec, "/var/ld", 9, "stdout", &c, p,
			     sizeof(p)),
	    1);
	assert_string_equal(p, "/var/ld/9.log");
	assert_int_equal(agent_log_path(spec, "/var/ld", 9, "logs/b.log", &c, p,
			     sizeof(p)),
	    1);
	assert_non_null(strstr(p, "/logs/b.log"));
	assert_int_equal(agent_log_path(spec, "/var/ld", 9, "logs/b.log", NULL,
			     p, sizeof(p)),
	    -1);
	assert_int_equal(agent_log_path(spec, "/var/ld", 9, "logs/c.txt", &c, p,
			     sizeof(p)),
	    0);
	assert_int_equal(agent_log_path(spec, "/var/ld", 9,
			     "logs/../logs/a.log", &c, p, sizeof(p)),
	    0);
	json_decref(spec);
}

static void
test_rotate(void **state)
{
	struct agent_confine c;
	char		     spec_text[512], p[200], sub[160];
	json_t		    *spec;
	struct stat	     st, before;

	(void)snprintf(sub, sizeof(sub), "%s/rot", dir);
	(void)mkdir(sub, 0700);
	put("rot/app.log", "0123456789abcdef\n");
	put("rot/app.log.1", "older\n");
	put("rot/small.log", "x\n");
	(void)snprintf(spec_text, sizeof(spec_text),
	    "{\"deploy_dir\":\"%s\",\"log_files\":[\"rot/*\"]}", dir);
	assert_non_null(spec = json_loads(spec_text, 0, NULL));
	/* Past 10 bytes: app.log is copied to .1 (the old .1 moves to .2)
	 * and truncated; small.log and the parts themselves stay. */
	assert_int_equal(agent_confine_init(&c, NULL, spec, NULL), 1);
	assert_int_equal(agent_log_rotate_files(spec, &c, 10, 3), 0);
	(void)snprintf(p, sizeof(p), "%s/rot/app.log", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 0);
	(void)snprintf(p, sizeof(p), "%s/rot/app.log.1", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 17);
	(void)snprintf(p, sizeof(p), "%s/rot/app.log.2", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 6);
	(void)snprintf(p, sizeof(p), "%s/rot/app.log.1.1", dir);
	assert_int_equal(stat(p, &st), -1);
	(void)snprintf(p, sizeof(p), "%s/rot/small.log", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 2);
	/* A symbolic link is not rotated (nor followed). */
	(void)snprintf(p, sizeof(p), "%s/rot/link.log", dir);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	assert_int_equal(stat("/etc/passwd", &before), 0);
	assert_int_equal(agent_log_rotate(p, NULL, 1, 3), 0);
	/* Confined, it is followed, and refused: it leads outside. */
	assert_int_equal(agent_log_rotate(p, &c, 1, 3), -1);
	assert_int_equal(agent_log_rotate_files(spec, &c, 1, 3), 0);
	assert_int_equal(stat("/etc/passwd", &st), 0);
	assert_int_equal(st.st_size, before.st_size);
	(void)snprintf(p, sizeof(p), "/etc/passwd.1");
	assert_int_equal(stat(p, &st), -1);
	json_decref(spec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_tail, clear),
		cmocka_unit_test_setup(test_tail_bounded, clear),
		cmocka_unit_test_setup(test_dirty_bytes, clear),
		cmocka_unit_test_setup(test_search, clear),
		cmocka_unit_test_setup(test_read_chunks, clear),
		cmocka_unit_test_setup(test_files, clear),
		cmocka_unit_test_setup(test_rotate, clear),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
