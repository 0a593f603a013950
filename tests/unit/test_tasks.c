/*
 * agent_tasks_save(): tasks.json is replaced whole or not at all, and a
 * failed write leaves neither a descriptor nor a temporary file behind
 * (it once leaked both when json_dumpfd or fsync failed).  A write is made
 * to fail with RLIMIT_FSIZE, which holds for root too.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"

static char dir[] = "/tmp/yard-test-tasks.XXXXXX";

static size_t
count_entries(const char *path)
{
	DIR	      *d;
	struct dirent *de;
	size_t	       n = 0;

	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return (n);
}

static char *
slurp(const char *path)
{
	static char buf[4096];
	FILE	   *f;
	size_t	    n;

	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (buf);
}

static void
test_save_writes_tasks_json(void **state)
{
	struct agent_tasks *ts;
	char		    path[2048];
	char		   *s;

	assert_non_null(ts = calloc(1, sizeof(*ts)));
	agent_tasks_init(ts, dir, 1);
	assert_int_equal(agent_tasks_save(ts), 1);
	(void)snprintf(path, sizeof(path), "%s/tasks.json", dir);
	assert_non_null(s = slurp(path));
	assert_string_equal(s, "[]");
	/* install-id and tasks.json, nothing else. */
	assert_int_equal(count_entries(dir), 2);
	free(ts);
}

static void
test_failed_save_leaves_nothing(void **state)
{
	struct agent_tasks *ts;
	struct rlimit	    old, tiny;
	char		    path[2048];
	size_t		    fds;
	char		   *s;

	assert_non_null(ts = calloc(1, sizeof(*ts)));
	agent_tasks_init(ts, dir, 1);
	assert_int_equal(agent_tasks_save(ts), 1);
	fds = count_entries("/proc/self/fd");

	/* Files may grow to 1 byte: "[]" cannot be written. */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	tiny = old;
	tiny.rlim_cur = 1;
	(void)signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &tiny), 0);
	assert_int_equal(agent_tasks_save(ts), 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);

	assert_int_equal(count_entries("/proc/self/fd"), fds);
	assert_int_equal(count_entries(dir), 2);
	(void)snprintf(path, sizeof(path), "%s/tasks.json", dir);
	assert_non_null(s = slurp(path));
	assert_string_equal(s, "[]");
	free(ts);
}

static void
test_failed_save_in_missing_dir(void **state)
{
	struct agent_tasks *ts;
	size_t		    fds;

	assert_non_null(ts = calloc(1, sizeof(*ts)));
	agent_tasks_init(ts, dir, 1);
	(void)snprintf(ts->dir, sizeof(ts->dir), "%s/missing", dir);
	fds = count_entries("/proc/self/fd");
	assert_int_equal(agent_tasks_save(ts), 0);
	assert_int_equal(count_entries("/proc/self/fd"), fds);
	free(ts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_save_writes_tasks_json),
		cmocka_unit_test(test_failed_save_leaves_nothing),
		cmocka_unit_test(test_failed_save_in_missing_dir),
	};
	char path[2048];
	int  rc;

	if (mkdtemp(dir) == NULL)
		return (1);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	(void)snprintf(path, sizeof(path), "%s/tasks.json", dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/install-id", dir);
	(void)unlink(path);
	(void)rmdir(dir);
	return (rc);
}
