/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for the release engine (agent/release.c, stage.c,
 * fetch.c) on real temporary directories: the journal and its refusals,
 * a deploy and overlay updates (hard links, preserved and shared
 * paths, clean), Tomcat's webapps/<app>, hostile packages refused by
 * the agent's own check, current switched without a gap, retention,
 * moves on one file system and across two (a tmpfs, when the test may
 * mount one), and the download's free space and SHA-256 refusals.
 */

#include <sys/types.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "agent.h"
#include "release.h"

#define UUID1 "0b6f1c1e-0000-4000-8000-000000000001"

static char top[256];

struct ent {
	const char *name;
	char	    type; /* 'f', 'd', 'l' (symlink) */
	const char *data; /* file bytes, link target */
	int	    mode;
};

static int
setup(void **state)
{
	char tmpl[] = "/tmp/test_release.XXXXXX", real[PATH_MAX];

	if (mkdtemp(tmpl) == NULL || realpath(tmpl, real) == NULL ||
	    strlen(real) >= sizeof(top))
		return (-1);
	memcpy(top, real, strlen(real) + 1);
	return (0);
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 64];

	(void)snprintf(cmd, sizeof(cmd),
	    "umount -q '%s'/mnt '%s'/small 2>/dev/null; rm -rf '%s'", top, top,
	    top);
	return (system(cmd) == 0 ? 0 : -1);
}

static const char *
at(char *buf, size_t len, const char *fmt, ...)
{
	char	rel[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	(void)snprintf(buf, len, "%s/%s", top, rel);
	return (buf);
}

static void
write_file(const char *path, const char *text)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The file's bytes (static buffer), or "<absent>". */
static const char *
read_file(const char *path)
{
	static char buf[4096];
	ssize_t	    n;
	int	    fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return ("<absent>");
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return (buf);
}

static int
exists(const char *path)
{
	struct stat st;

	return (lstat(path, &st) == 0);
}

/* A zip built with libarchive's writer, hostile entries included. */
static void
mkzip(const char *path, const struct ent *e, size_t n)
{
	struct archive	     *a;
	struct archive_entry *ae;
	size_t		      i;

	a = archive_write_new();
	assert_non_null(a);
	assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		ae = archive_entry_new();
		archive_entry_set_pathname(ae, e[i].name);
		archive_entry_set_mtime(ae, 1700000000, 0);
		if (e[i].type == 'd') {
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae,
			    e[i].mode ? e[i].mode : 0755);
		} else if (e[i].type == 'l') {
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, 0777);
			archive_entry_set_symlink(ae, e[i].data);
		} else {
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae,
			    e[i].mode ? e[i].mode : 0644);
			archive_entry_set_size(ae,
			    (la_int64_t)strlen(e[i].data));
		}
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (e[i].type == 'f')
			assert_int_equal(archive_write_data(a, e[i].data,
					     strlen(e[i].data)),
			    (la_ssize_t)strlen(e[i].data));
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static json_t *
spec_console(void)
{
	json_t *s;

	s = json_pack("{s:s, s:s, s:{s:s}, s:[s], s:[s]}", "kind", "console",
	    "deploy_dir", "/unused", "console", "command", "bin/run.sh",
	    "preserved_paths", "conf/app.properties", "shared_paths", "data/");
	assert_non_null(s);
	return (s);
}

static void
job_init(struct agent_rel_job *j, enum agentproto_cmd_type kind,
    const char *dir, const char *zip, const json_t *spec, int64_t n,
    int64_t live)
{
	memset(j, 0, sizeof(*j));
	j->kind = kind;
	j->dir = dir;
	j->zip = zip;
	j->spec = spec;
	j->n = n;
	j->live = live;
	j->need = 4096;
	j->uid = getuid();
	j->gid = getgid();
}

static void
test_release_journal_round_trip(void **state)
{
	struct agent_reljournal j, k;
	char			why[256], sdir[PATH_MAX];
	json_t		       *arr;

	(void)state;
	(void)at(sdir, sizeof(sdir), "state");
	assert_int_equal(mkdir(sdir, 0700), 0);
	/* No file: an empty journal. */
	assert_true(agent_rel_load(sdir, 7, &j, why, sizeof(why)));
	assert_int_equal(j.nrel, 0);
	assert_int_equal(j.live, -1);
	assert_int_equal(j.next, 1);

	(void)snprintf(j.dir, sizeof(j.dir), "/srv/yard/app");
	j.nrel = 3;
	j.v[0].n = 1;
	j.v[0].good = 1;
	j.v[1].n = 2;
	j.v[1].bad = 1;
	j.v[2].n = 3;
	j.v[2].good = 1;
	memset(j.v[2].sha256, 'a', 64);
	j.v[2].deployed_at = 1700000000123LL;
	memcpy(j.v[2].cmd, UUID1, sizeof(UUID1));
	j.live = 3;
	j.last_good = 3;
	j.prev = 1;
	j.next = 4;
	assert_true(agent_rel_save(sdir, &j, why, sizeof(why)));
	assert_true(agent_rel_load(sdir, 7, &k, why, sizeof(why)));
	assert_int_equal(k.nrel, 3);
	assert_int_equal(k.live, 3);
	assert_int_equal(k.prev, 1);
	assert_int_equal(k.pending, -1);
	assert_int_equal(k.next, 4);
	assert_string_equal(k.dir, "/srv/yard/app");
	assert_int_equal(k.v[2].deployed_at, 1700000000123LL);
	assert_string_equal(k.v[2].cmd, UUID1);
	assert_int_equal(strlen(k.v[2].sha256), 64);
	assert_true(k.v[1].bad && !k.v[1].good);
	assert_non_null(agent_rel_find(&k, 2));
	assert_null(agent_rel_find(&k, 4));

	/* The result's view: newest first, with states. */
	arr = agent_rel_json(&k);
	assert_int_equal(json_array_size(arr), 3);
	assert_int_equal(json_integer_value(
			     json_object_get(json_array_get(arr, 0), "n")),
	    3);
	assert_string_equal(json_string_value(
				json_object_get(json_array_get(arr, 0),
				    "state")),
	    "live");
	assert_string_equal(json_string_value(
				json_object_get(json_array_get(arr, 1),
				    "state")),
	    "bad");
	assert_string_equal(json_string_value(
				json_object_get(json_array_get(arr, 2),
				    "state")),
	    "good");
	json_decref(arr);

	/* Another task's file is not this task's journal. */
	(void)snprintf(why, sizeof(why), "%s/releases/7.json", sdir);
	assert_int_equal(rename(why,
			     at(sdir, sizeof(sdir), "state/releases/8.json")),
	    0);
	(void)at(sdir, sizeof(sdir), "state");
	assert_false(agent_rel_load(sdir, 8, &k, why, sizeof(why)));
	assert_non_null(strstr(why, "task"));
	assert_true(agent_rel_forget(sdir, 8));
	assert_true(agent_rel_load(sdir, 8, &k, why, sizeof(why)));
	assert_int_equal(k.nrel, 0);
}

static void
test_release_journal_hostile(void **state)
{
	static const struct {
		const char *json;
		const char *says;
	} bad[] = {
		{ "[]", "not an object" },
		{ "{\"v\":1,\"task\":1,\"dir\":\"/d\",\"live\":-1,"
		  "\"last_good\":-1,\"pending\":-1,\"prev\":-1,\"next\":1,"
		  "\"releases\":[],\"extra\":1}",
		    "unknown member extra" },
		{ "{\"v\":\"1\",\"task\":1,\"dir\":\"/d\",\"live\":-1,"
		  "\"last_good\":-1,\"pending\":-1,\"prev\":-1,\"next\":1,"
		  "\"releases\":[]}",
		    "v:" },
		{ "{\"v\":1,\"task\":1,\"dir\":\"/d\",\"live\":-1,"
		  "\"last_good\":-1,\"pending\":-1,\"prev\":-1,\"next\":2,"
		  "\"releases\":[{\"n\":5,\"sha256\":\"\",\"good\":false,"
		  "\"bad\":false,\"deployed_at\":0,\"command\":\"\"}]}",
		    "releases[0]: n: 5 out of range" },
		{ "{\"v\":1,\"task\":1,\"dir\":\"/d\",\"live\":3,"
		  "\"last_good\":-1,\"pending\":-1,\"prev\":-1,\"next\":5,"
		  "\"releases\":[{\"n\":1,\"sha256\":\"\",\"good\":false,"
		  "\"bad\":false,\"deployed_at\":0,\"command\":\"\"}]}",
		    "live: release 3 is not in the list" },
		{ "{\"v\":1,\"task\":1,\"dir\":\"/d\",\"live\":-1,"
		  "\"last_good\":-1,\"pending\":-1,\"prev\":-1,\"next\":5,"
		  "\"releases\":[{\"n\":1,\"sha256\":\"xyz\",\"good\":false,"
		  "\"bad\":false,\"deployed_at\":0,\"command\":\"\"}]}",
		    "sha256" },
		{ "{\"v\":1,\"task\":1,\"dir\":\"/d\",\"live\":-1,"
		  "\"last_good\":-1,\"pending\":-1,\"prev\":-1,\"next\":5,"
		  "\"releases\":[{\"n\":1,\"sha256\":\"\",\"good\":0,"
		  "\"bad\":false,\"deployed_at\":0,\"command\":\"\"}]}",
		    "booleans" },
		{ "{\"v\":1,\"task\":1,\"dir\":\"relative\",\"live\":-1,"
		  "\"last_good\":-1,\"pending\":-1,\"prev\":-1,\"next\":1,"
		  "\"releases\":[]}",
		    "dir:" },
		{ "{\"v\":1,\"task\":1,\"dir\":\"/d\",\"live\":-1,"
		  "\"last_good\":1,\"pending\":-1,\"prev\":-1,\"next\":5,"
		  "\"releases\":[{\"n\":1,\"sha256\":\"\",\"good\":false,"
		  "\"bad\":true,\"deployed_at\":0,\"command\":\"\"}]}",
		    "not marked good" },
		{ "{\"v\":1,\"v\":1}", "not JSON" },
	};
	struct agent_reljournal j;
	char			why[256], *longdir, *doc;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_false(agent_rel_parse(bad[i].json, strlen(bad[i].json),
		    1, &j, why, sizeof(why)));
		if (strstr(why, bad[i].says) == NULL)
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, why,
			    bad[i].says);
		assert_int_equal(j.nrel, 0);
		assert_int_equal(j.live, -1);
	}
	/* A directory longer than the agent's paths. */
	longdir = malloc(3000);
	assert_non_null(longdir);
	memset(longdir, 'x', 2999);
	longdir[0] = '/';
	longdir[2999] = '\0';
	assert_true(asprintf(&doc,
			"{\"v\":1,\"task\":1,\"dir\":\"%s\",\"live\":-1,"
			"\"last_good\":-1,\"pending\":-1,\"prev\":-1,"
			"\"next\":1,\"releases\":[]}",
			longdir) > 0);
	assert_false(
	    agent_rel_parse(doc, strlen(doc), 1, &j, why, sizeof(why)));
	assert_non_null(strstr(why, "dir:"));
	free(doc);
	free(longdir);
}

/* What a deploy of v1 makes; returns the spec (owned by the caller). */
static json_t *
deploy_v1(char *dir, size_t dirlen)
{
	static const struct ent v1[] = {
		{ "bin/", 'd', NULL, 0755 },
		{ "bin/run.sh", 'f', "#!/bin/sh\necho v1\n", 0755 },
		{ "conf/app.properties", 'f', "default=1\n", 0640 },
		{ "data/seed.txt", 'f', "seed\n", 0 },
		{ "docs/readme.txt", 'f', "readme v1\n", 0 },
		{ "empty/", 'd', NULL, 0750 },
		{ "lib/same.txt", 'f', "the same bytes in v1 and v2\n", 0 },
	};
	struct agent_rel_job job;
	json_t		    *spec;
	char		     zip[PATH_MAX], why[512];

	(void)at(dir, dirlen, "app");
	(void)at(zip, sizeof(zip), "v1.zip");
	mkzip(zip, v1, sizeof(v1) / sizeof(v1[0]));
	spec = spec_console();
	job_init(&job, AGENTPROTO_CMD_DEPLOY, dir, zip, spec, 1, -1);
	if (!agent_rel_stage(&job, why, sizeof(why)))
		fail_msg("stage: %s", why);
	assert_string_equal(job.notes, "");
	return (spec);
}

static void
test_release_stage_deploy(void **state)
{
	struct stat st;
	char	    dir[PATH_MAX], p[PATH_MAX], t[PATH_MAX];
	json_t	   *spec;
	ssize_t	    n;

	(void)state;
	spec = deploy_v1(dir, sizeof(dir));
	assert_string_equal(read_file(at(p, sizeof(p),
				"app/releases/1/bin/"
				"run.sh")),
	    "#!/bin/sh\necho v1\n");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(at(p, sizeof(p),
				  "app/releases/1/conf/app.properties"),
			     &st),
	    0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(stat(at(p, sizeof(p), "app/releases/1/empty"), &st),
	    0);
	assert_true(S_ISDIR(st.st_mode));
	/* The shared path: seeded from the package, linked relatively. */
	n = readlink(at(p, sizeof(p), "app/releases/1/data"), t, sizeof(t) - 1);
	assert_true(n > 0);
	t[n] = '\0';
	assert_string_equal(t, "../../shared/data");
	assert_string_equal(read_file(at(p, sizeof(p),
				"app/shared/data/"
				"seed.txt")),
	    "seed\n");
	assert_string_equal(read_file(at(p, sizeof(p),
				"app/releases/1/data/"
				"seed.txt")),
	    "seed\n");
	assert_false(exists(at(p, sizeof(p), "app/.staging")));
	json_decref(spec);
}

static void
test_release_stage_update(void **state)
{
	static const struct ent v2[] = {
		{ "bin/run.sh", 'f', "#!/bin/sh\necho v2\n", 0755 },
		{ "conf/app.properties", 'f', "default=2\n", 0640 },
		{ "data/seed.txt", 'f', "seed v2\n", 0 },
		{ "lib/new.jar", 'f', "jar\n", 0 },
		{ "lib/same.txt", 'f', "the same bytes in v1 and v2\n", 0 },
	};
	struct agent_rel_job job;
	struct stat	     a, b;
	json_t		    *spec;
	char		     dir[PATH_MAX], zip[PATH_MAX], p[PATH_MAX];
	char		     why[512];

	(void)state;
	spec = deploy_v1(dir, sizeof(dir));
	/* The running program changed its preserved file and shared data. */
	write_file(at(p, sizeof(p), "app/releases/1/conf/app.properties"),
	    "local=1\n");
	write_file(at(p, sizeof(p), "app/shared/data/user.txt"), "mine\n");

	mkzip(at(zip, sizeof(zip), "v2.zip"), v2, sizeof(v2) / sizeof(v2[0]));
	job_init(&job, AGENTPROTO_CMD_UPDATE, dir, zip, spec, 2, 1);
	if (!agent_rel_stage(&job, why, sizeof(why)))
		fail_msg("stage: %s", why);
	assert_string_equal(job.notes,
	    "new defaults available: conf/app.properties");
	/* New bytes in the new release, the live one untouched. */
	assert_string_equal(read_file(at(p, sizeof(p),
				"app/releases/2/bin/"
				"run.sh")),
	    "#!/bin/sh\necho v2\n");
	assert_string_equal(read_file(at(p, sizeof(p),
				"app/releases/1/bin/"
				"run.sh")),
	    "#!/bin/sh\necho v1\n");
	assert_string_equal(read_file(at(p, sizeof(p),
				"app/releases/2/lib/"
				"new.jar")),
	    "jar\n");
	/* Preserved: the live bytes, a real copy. */
	assert_string_equal(read_file(at(p, sizeof(p),
				"app/releases/2/conf/app.properties")),
	    "local=1\n");
	assert_int_equal(stat(p, &b), 0);
	assert_int_equal(stat(at(p, sizeof(p),
				  "app/releases/1/conf/app.properties"),
			     &a),
	    0);
	assert_true(a.st_ino != b.st_ino);
	/* Packaged again with the same bytes: the link stays, no write. */
	assert_int_equal(stat(at(p, sizeof(p), "app/releases/1/lib/same.txt"),
			     &a),
	    0);
	assert_int_equal(stat(at(p, sizeof(p), "app/releases/2/lib/same.txt"),
			     &b),
	    0);
	assert_int_equal(a.st_ino, b.st_ino);
	/* Same size, other bytes (bin/run.sh): a file of its own. */
	assert_int_equal(stat(at(p, sizeof(p), "app/releases/1/bin/run.sh"),
			     &a),
	    0);
	assert_int_equal(stat(at(p, sizeof(p), "app/releases/2/bin/run.sh"),
			     &b),
	    0);
	assert_true(a.st_ino != b.st_ino);
	assert_int_equal(b.st_mode & 07777, 0755);
	/* Untouched and dropped: kept, as a hard link (same inode). */
	assert_int_equal(stat(at(p, sizeof(p),
				  "app/releases/1/docs/"
				  "readme.txt"),
			     &a),
	    0);
	assert_int_equal(stat(at(p, sizeof(p),
				  "app/releases/2/docs/"
				  "readme.txt"),
			     &b),
	    0);
	assert_int_equal(a.st_ino, b.st_ino);
	/* Shared: still a link; its contents, the program's too, survive. */
	assert_int_equal(lstat(at(p, sizeof(p), "app/releases/2/data"), &b), 0);
	assert_true(S_ISLNK(b.st_mode));
	assert_string_equal(read_file(at(p, sizeof(p),
				"app/releases/2/data/"
				"user.txt")),
	    "mine\n");
	assert_string_equal(read_file(at(p, sizeof(p),
				"app/shared/data/"
				"seed.txt")),
	    "seed\n");

	/*
	 * The program wrote its preserved file again after the staging
	 * (it ran until the stop): the switch carries the new bytes over,
	 * once; a file it did not touch is not copied again.
	 */
	assert_int_equal(agent_rel_preserve_again(&job, why, sizeof(why)), 0);
	write_file(at(p, sizeof(p), "app/releases/1/conf/app.properties"),
	    "local=1\nwritten while staging\n");
	assert_int_equal(agent_rel_preserve_again(&job, why, sizeof(why)), 1);
	assert_string_equal(read_file(at(p, sizeof(p),
				"app/releases/2/conf/app.properties")),
	    "local=1\nwritten while staging\n");
	assert_int_equal(agent_rel_preserve_again(&job, why, sizeof(why)), 0);
	assert_false(exists(
	    at(p, sizeof(p), "app/releases/2/conf/app.properties.yard-new")));

	/* Update 3 with clean: what v2 lacks goes, but preserved/shared. */
	job_init(&job, AGENTPROTO_CMD_UPDATE, dir, zip, spec, 3, 2);
	job.clean = 1;
	if (!agent_rel_stage(&job, why, sizeof(why)))
		fail_msg("stage: %s", why);
	assert_false(
	    exists(at(p, sizeof(p), "app/releases/3/docs/readme.txt")));
	assert_false(exists(at(p, sizeof(p), "app/releases/3/docs")));
	assert_false(exists(at(p, sizeof(p), "app/releases/3/empty")));
	assert_true(exists(at(p, sizeof(p), "app/releases/3/bin/run.sh")));
	assert_string_equal(read_file(at(p, sizeof(p),
				"app/releases/3/conf/app.properties")),
	    "local=1\nwritten while staging\n");
	assert_string_equal(read_file(at(p, sizeof(p),
				"app/releases/3/data/"
				"user.txt")),
	    "mine\n");
	assert_false(exists(at(p, sizeof(p), "app/.staging")));
	json_decref(spec);
}

static void
test_release_stage_tomcat(void **state)
{
	static const struct ent war[] = {
		{ "WEB-INF/web.xml", 'f', "<web-app/>\n", 0 },
		{ "index.jsp", 'f', "hello\n", 0 },
	};
	struct agent_rel_job job;
	json_t		    *spec;
	char		     dir[PATH_MAX], zip[PATH_MAX], p[PATH_MAX];
	char		     home[PATH_MAX], why[512];

	(void)state;
	(void)at(home, sizeof(home), "tomcat-home");
	assert_int_equal(mkdir(home, 0755), 0);
	assert_int_equal(mkdir(at(p, sizeof(p), "tomcat-home/conf"), 0755), 0);
	write_file(at(p, sizeof(p), "tomcat-home/conf/server.xml"),
	    "<Server/>\n");
	spec = json_pack("{s:s, s:s, s:{s:s, s:i, s:s}}", "kind", "tomcat",
	    "deploy_dir", "/unused", "tomcat", "home", home, "port", 8080,
	    "app_path", "/");
	mkzip(at(zip, sizeof(zip), "app.war"), war,
	    sizeof(war) / sizeof(war[0]));
	(void)at(dir, sizeof(dir), "tc");
	job_init(&job, AGENTPROTO_CMD_DEPLOY, dir, zip, spec, 1, -1);
	if (!agent_rel_stage(&job, why, sizeof(why)))
		fail_msg("stage: %s", why);
	assert_string_equal(read_file(at(p, sizeof(p),
				"tc/releases/1/webapps/"
				"ROOT/index.jsp")),
	    "hello\n");
	assert_true(exists(
	    at(p, sizeof(p), "tc/releases/1/webapps/ROOT/WEB-INF/web.xml")));
	assert_string_equal(read_file(at(p, sizeof(p),
				"tc/releases/1/conf/"
				"server.xml")),
	    "<Server/>\n");
	assert_true(exists(at(p, sizeof(p), "tc/releases/1/logs")));

	/* An update keeps conf/ (preserved by default), app path a/b. */
	write_file(at(p, sizeof(p), "tc/releases/1/conf/server.xml"),
	    "<Server port='1'/>\n");
	json_object_set_new(json_object_get(spec, "tomcat"), "app_path",
	    json_string("/shop/v1"));
	job_init(&job, AGENTPROTO_CMD_UPDATE, dir, zip, spec, 2, 1);
	if (!agent_rel_stage(&job, why, sizeof(why)))
		fail_msg("stage: %s", why);
	assert_true(exists(
	    at(p, sizeof(p), "tc/releases/2/webapps/shop#v1/index.jsp")));
	assert_string_equal(read_file(at(p, sizeof(p),
				"tc/releases/2/conf/"
				"server.xml")),
	    "<Server port='1'/>\n");
	json_decref(spec);
}

static void
stage_hostile(const struct ent *e, const char *says)
{
	struct agent_rel_job job;
	json_t		    *spec;
	char		     dir[PATH_MAX], zip[PATH_MAX], p[PATH_MAX];
	char		     why[512];

	mkzip(at(zip, sizeof(zip), "hostile.zip"), e, 2);
	spec = spec_console();
	(void)at(dir, sizeof(dir), "evil");
	job_init(&job, AGENTPROTO_CMD_DEPLOY, dir, zip, spec, 1, -1);
	why[0] = '\0';
	assert_false(agent_rel_stage(&job, why, sizeof(why)));
	if (strcmp(why, says) != 0)
		fail_msg("\"%s\", expected \"%s\"", why, says);
	assert_false(exists(at(p, sizeof(p), "evil/.staging")));
	assert_false(exists(at(p, sizeof(p), "evil/releases/1")));
	assert_false(exists(at(p, sizeof(p), "evil/shared/data")));
	assert_false(exists(at(p, sizeof(p), "escaped")));
	json_decref(spec);
}

static void
test_release_stage_hostile(void **state)
{
	const struct ent link[] = {
		{ "data/seed.txt", 'f', "seed\n", 0 },
		{ "data/passwd", 'l', "/etc/passwd", 0 },
	};
	const struct ent dotdot[] = {
		{ "data/seed.txt", 'f', "seed\n", 0 },
		{ "../escaped", 'f', "out\n", 0 },
	};
	const struct ent absolute[] = {
		{ "data/seed.txt", 'f', "seed\n", 0 },
		{ "/tmp/escaped", 'f', "out\n", 0 },
	};

	(void)state;
	stage_hostile(link, "package entry data/passwd: link_entry");
	stage_hostile(dotdot, "package entry ../escaped: path_traversal");
	stage_hostile(absolute, "package entry /tmp/escaped: path_absolute");
}

static void
test_release_stage_refusals(void **state)
{
	struct agent_rel_job job;
	json_t		    *spec;
	char		     dir[PATH_MAX], p[PATH_MAX], why[512];

	(void)state;
	/* A directory with files of its own: deploy needs adopt. */
	(void)at(dir, sizeof(dir), "byhand");
	assert_int_equal(mkdir(dir, 0755), 0);
	write_file(at(p, sizeof(p), "byhand/app.jar"), "jar\n");
	spec = spec_console();
	job_init(&job, AGENTPROTO_CMD_DEPLOY, dir, at(p, sizeof(p), "none.zip"),
	    spec, 1, -1);
	assert_false(agent_rel_stage(&job, why, sizeof(why)));
	(void)snprintf(p, sizeof(p),
	    "%s is not empty: deploy with adopt to take its files over", dir);
	assert_string_equal(why, p);

	/* adopt: its files become release 0. */
	job_init(&job, AGENTPROTO_CMD_DEPLOY, dir, NULL, spec, 0, -1);
	job.adopt = 1;
	if (!agent_rel_stage(&job, why, sizeof(why)))
		fail_msg("adopt: %s", why);
	assert_string_equal(read_file(at(p, sizeof(p),
				"byhand/releases/0/"
				"app.jar")),
	    "jar\n");
	assert_false(exists(at(p, sizeof(p), "byhand/app.jar")));

	/* Not enough space: named, with the bytes. */
	job_init(&job, AGENTPROTO_CMD_DEPLOY, dir, at(p, sizeof(p), "v1.zip"),
	    spec, 1, 0);
	job.need = 1ULL << 60;
	assert_false(agent_rel_stage(&job, why, sizeof(why)));
	(void)snprintf(p, sizeof(p),
	    "not enough space in %s/.staging: %llu "
	    "bytes needed, ",
	    dir, 1ULL << 60);
	assert_memory_equal(why, p, strlen(p));
	assert_false(exists(at(p, sizeof(p), "byhand/.staging")));
	assert_false(exists(at(p, sizeof(p), "byhand/releases/1")));
	json_decref(spec);
}

static void
test_release_switch(void **state)
{
	char	dir[PATH_MAX], p[PATH_MAX], why[256], t[64];
	pid_t	pid;
	int	i, status;
	ssize_t n;

	(void)state;
	(void)at(dir, sizeof(dir), "sw");
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(mkdir(at(p, sizeof(p), "sw/releases"), 0755), 0);
	assert_int_equal(mkdir(at(p, sizeof(p), "sw/releases/1"), 0755), 0);
	assert_int_equal(mkdir(at(p, sizeof(p), "sw/releases/2"), 0755), 0);
	assert_true(agent_rel_switch(dir, 1, why, sizeof(why)));
	assert_false(agent_rel_switch(dir, 3, why, sizeof(why)));
	assert_non_null(strstr(why, "releases/3 is not a directory"));

	/* A watcher sees current at every moment while it is switched. */
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		struct stat st;

		for (;;) {
			if (lstat(at(p, sizeof(p), "sw/current"), &st) == -1)
				_exit(1);
		}
	}
	for (i = 0; i < 2000; i++)
		assert_true(agent_rel_switch(dir, 1 + i % 2, why, sizeof(why)));
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status)); /* never exited: never missed */

	n = readlink(at(p, sizeof(p), "sw/current"), t, sizeof(t) - 1);
	assert_true(n > 0);
	t[n] = '\0';
	assert_string_equal(t, "releases/2");
	assert_false(exists(at(p, sizeof(p), "sw/.current.new")));
}

static void
test_release_prune(void **state)
{
	struct agent_reljournal j;
	char			p[PATH_MAX], why[256];
	int64_t			i;

	(void)state;
	memset(&j, 0, sizeof(j));
	(void)at(j.dir, sizeof(j.dir), "pr");
	assert_int_equal(mkdir(j.dir, 0755), 0);
	assert_int_equal(mkdir(at(p, sizeof(p), "pr/releases"), 0755), 0);
	for (i = 1; i <= 7; i++) {
		assert_int_equal(mkdir(at(p, sizeof(p), "pr/releases/%d",
					   (int)i),
				     0755),
		    0);
		write_file(at(p, sizeof(p), "pr/releases/%d/f", (int)i), "x");
		j.v[j.nrel].n = i;
		j.v[j.nrel].good = i != 2 && i != 6;
		j.v[j.nrel].bad = i == 2 || i == 6;
		j.nrel++;
	}
	j.live = 7;
	j.last_good = 5;
	j.pending = -1;
	j.prev = -1;
	j.next = 8;
	/* Bad ones first (2, 6), then the oldest (1, 3). */
	assert_int_equal(agent_rel_prune(&j, 3, why, sizeof(why)), 4);
	assert_int_equal(j.nrel, 3);
	assert_int_equal(j.v[0].n, 4);
	assert_int_equal(j.v[1].n, 5);
	assert_int_equal(j.v[2].n, 7);
	for (i = 1; i <= 7; i++)
		assert_int_equal(exists(at(p, sizeof(p), "pr/releases/%d",
				     (int)i)),
		    i == 4 || i == 5 || i == 7);
	/* keep 1: never the live or the last good one. */
	assert_int_equal(agent_rel_prune(&j, 1, why, sizeof(why)), 1);
	assert_int_equal(j.nrel, 2);
	assert_non_null(agent_rel_find(&j, 5));
	assert_non_null(agent_rel_find(&j, 7));
}

/* A tree with a mode, a link and a hard-linked pair, under rel. */
static void
make_tree(const char *rel)
{
	char p[PATH_MAX], q[PATH_MAX];

	assert_int_equal(mkdir(at(p, sizeof(p), "%s", rel), 0751), 0);
	assert_int_equal(mkdir(at(p, sizeof(p), "%s/sub", rel), 0700), 0);
	write_file(at(p, sizeof(p), "%s/sub/secret", rel), "s3cret\n");
	assert_int_equal(chmod(p, 0600), 0);
	write_file(at(p, sizeof(p), "%s/a", rel), "hard\n");
	assert_int_equal(link(p, at(q, sizeof(q), "%s/b", rel)), 0);
	assert_int_equal(symlink("sub/secret", at(p, sizeof(p), "%s/l", rel)),
	    0);
}

static void
check_tree(const char *rel)
{
	struct stat st, st2;
	char	    p[PATH_MAX], t[64];
	ssize_t	    n;

	assert_int_equal(stat(at(p, sizeof(p), "%s", rel), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0751);
	assert_int_equal(stat(at(p, sizeof(p), "%s/sub/secret", rel), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_string_equal(read_file(p), "s3cret\n");
	assert_int_equal(stat(at(p, sizeof(p), "%s/a", rel), &st), 0);
	assert_int_equal(stat(at(p, sizeof(p), "%s/b", rel), &st2), 0);
	assert_int_equal(st.st_ino, st2.st_ino);
	n = readlink(at(p, sizeof(p), "%s/l", rel), t, sizeof(t) - 1);
	assert_true(n > 0);
	t[n] = '\0';
	assert_string_equal(t, "sub/secret");
}

static void
test_release_move_same_fs(void **state)
{
	char from[PATH_MAX], to[PATH_MAX], why[256];

	(void)state;
	make_tree("m1");
	(void)at(from, sizeof(from), "m1");
	(void)at(to, sizeof(to), "new/parent/m1");
	if (!agent_rel_move(from, to, NULL, NULL, why, sizeof(why)))
		fail_msg("move: %s", why);
	check_tree("new/parent/m1");
	assert_false(exists(from));
	/* A destination with something in it is refused. */
	make_tree("m2");
	(void)at(from, sizeof(from), "m2");
	assert_false(agent_rel_move(from, to, NULL, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "exists and is not empty"));
	check_tree("m2");
}

/* A tmpfs at top/<name> of size bytes; 0 (with why) when it cannot be. */
static int
mount_tmpfs(const char *name, const char *size)
{
	char p[PATH_MAX], opt[64];

	if (geteuid() != 0) {
		print_message("skipped: not root, no tmpfs to move across\n");
		return (0);
	}
	assert_int_equal(mkdir(at(p, sizeof(p), "%s", name), 0755), 0);
	(void)snprintf(opt, sizeof(opt), "size=%s", size);
	if (mount("tmpfs", p, "tmpfs", 0, opt) == -1) {
		print_message("skipped: cannot mount a tmpfs: %s\n",
		    strerror(errno));
		return (0);
	}
	return (1);
}

static void
test_release_move_across(void **state)
{
	char	    from[PATH_MAX], to[PATH_MAX], why[256], p[PATH_MAX];
	char	   *big;
	struct stat st;
	int	    i, fd;

	(void)state;
	if (!mount_tmpfs("mnt", "8m"))
		skip();
	make_tree("x1");
	(void)at(from, sizeof(from), "x1");
	(void)at(to, sizeof(to), "mnt/deep/x1");
	if (!agent_rel_move(from, to, NULL, NULL, why, sizeof(why)))
		fail_msg("move: %s", why);
	check_tree("mnt/deep/x1");
	assert_false(exists(from));
	assert_int_equal(stat(to, &st), 0);

	/* Failing midway (the disk fills): the source stays whole and
	 * nothing is left at the destination, its made parents neither. */
	if (!mount_tmpfs("small", "256k"))
		skip();
	make_tree("x2");
	big = calloc(1, 200 * 1024);
	assert_non_null(big);
	for (i = 0; i < 3; i++) {
		fd = open(at(p, sizeof(p), "x2/big%d", i), O_WRONLY | O_CREAT,
		    0644);
		assert_true(fd != -1);
		assert_int_equal(write(fd, big, 200 * 1024), 200 * 1024);
		close(fd);
	}
	free(big);
	(void)at(from, sizeof(from), "x2");
	(void)at(to, sizeof(to), "small/a/b/x2");
	assert_false(agent_rel_move(from, to, NULL, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "No space left on device"));
	check_tree("x2");
	assert_true(exists(at(p, sizeof(p), "x2/big2")));
	assert_false(exists(at(p, sizeof(p), "small/a")));
}

static void
test_release_fetch_refusals(void **state)
{
	char	    file[PATH_MAX], part[PATH_MAX], why[512], expect[PATH_MAX];
	const char *sha_hello =
	    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
	const char *sha_other =
	    "0000000000000000000000000000000000000000000000000000000000000000";

	(void)state;
	assert_int_equal(mkdir(at(file, sizeof(file), "dl"), 0700), 0);
	(void)at(file, sizeof(file), "dl/%s.zip", sha_hello);
	(void)at(part, sizeof(part), "dl/%s.part", sha_hello);

	/* Free space first: nothing is asked of the (absent) server. */
	assert_false(agent_rel_fetch("http://127.0.0.1:9", 1, "x", sha_hello,
	    1LL << 60, file, NULL, NULL, why, sizeof(why)));
	(void)snprintf(expect, sizeof(expect),
	    "not enough space in %s/dl: %llu bytes needed, ", top, 1ULL << 60);
	assert_memory_equal(why, expect, strlen(expect));

	/* A whole .part with the wrong bytes: refused and removed. */
	write_file(part, "hellp");
	assert_false(agent_rel_fetch("http://127.0.0.1:9", 1, "x", sha_hello, 5,
	    file, NULL, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "SHA-256"));
	assert_false(exists(part));
	assert_false(exists(file));

	/* A whole .part with the right bytes: checked and renamed. */
	write_file(part, "hello");
	if (!agent_rel_fetch("http://127.0.0.1:9", 1, "x", sha_hello, 5, file,
		NULL, NULL, why, sizeof(why)))
		fail_msg("fetch: %s", why);
	assert_string_equal(read_file(file), "hello");
	assert_false(exists(part));

	/* A bad reference is refused before anything. */
	assert_false(agent_rel_fetch("ftp://x", 1, "x", sha_other, 5, file,
	    NULL, NULL, why, sizeof(why)));
	assert_string_equal(why, "bad server URL");
}

/*
 * A server for one download in two requests: the first answers 200 with
 * the whole length but closes after cut bytes; the second must ask
 * Range: bytes=cut- and gets 206 with the rest.  Each request's head is
 * appended to log.
 */
static void
serve_cut(int ls, const unsigned char *body, size_t n, size_t cut,
    const char *log)
{
	char	    req[4096], head[256];
	size_t	    got, from;
	ssize_t	    r;
	int	    c, i;
	FILE	   *fp;
	const char *rg;

	(void)alarm(30); /* never outlives a failed test */
	for (i = 0; i < 2; i++) {
		if ((c = accept(ls, NULL, NULL)) == -1)
			_exit(2);
		got = 0;
		while (got < sizeof(req) - 1 &&
		    (r = read(c, req + got, sizeof(req) - 1 - got)) > 0) {
			got += (size_t)r;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		req[got] = '\0';
		if ((fp = fopen(log, "a")) != NULL) {
			(void)fputs(req, fp);
			(void)fclose(fp);
		}
		if (i == 0) {
			(void)snprintf(head, sizeof(head),
			    "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
			    n);
			(void)!write(c, head, strlen(head));
			(void)!write(c, body, cut);
		} else {
			rg = strstr(req, "Range: bytes=");
			from = rg != NULL ? strtoul(rg + 13, NULL, 10) : 0;
			if (from > n)
				from = n;
			(void)snprintf(head, sizeof(head),
			    "HTTP/1.1 206 Partial Content\r\n"
			    "Content-Range: bytes %zu-%zu/%zu\r\n"
			    "Content-Length: %zu\r\n\r\n",
			    from, n - 1, n, n - from);
			(void)!write(c, head, strlen(head));
			(void)!write(c, body + from, n - from);
		}
		(void)close(c);
	}
	_exit(0);
}

/* A download cut short resumes with Range where the .part ends. */
static void
test_release_fetch_resume(void **state)
{
	struct sockaddr_in sa;
	socklen_t	   salen = sizeof(sa);
	unsigned char	  *body, md[EVP_MAX_MD_SIZE];
	unsigned int	   mdlen;
	char		   sha[65], url[64], file[PATH_MAX], log[PATH_MAX];
	char		   why[512], want[64];
	const char	  *seen;
	size_t		   n = 300000, cut = 100000, i;
	pid_t		   pid;
	int		   ls, st;

	(void)state;
	body = malloc(n);
	assert_non_null(body);
	for (i = 0; i < n; i++)
		body[i] = (unsigned char)(i * 7 + i / 251);
	assert_int_equal(EVP_Digest(body, n, md, &mdlen, EVP_sha256(), NULL),
	    1);
	for (i = 0; i < 32; i++)
		(void)snprintf(sha + 2 * i, 3, "%02x", md[i]);
	assert_int_equal(mkdir(at(file, sizeof(file), "dl"), 0700), 0);
	(void)at(file, sizeof(file), "dl/%s.zip", sha);
	(void)at(log, sizeof(log), "requests.txt");

	ls = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(ls >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 4), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &salen), 0);
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%d",
	    ntohs(sa.sin_port));
	if ((pid = fork()) == 0)
		serve_cut(ls, body, n, cut, log);
	assert_true(pid > 0);
	(void)close(ls);

	if (!agent_rel_fetch(url, 1,
		"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", sha, (int64_t)n,
		file, NULL, NULL, why, sizeof(why))) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		fail_msg("fetch: %s", why);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(exists(file));
	(void)snprintf(want, sizeof(want), "Range: bytes=%zu-", cut);
	seen = read_file(log);
	if (strstr(seen, want) == NULL)
		fail_msg("the second request did not resume (%s): %s", want,
		    seen);
	/* Only the second asked for a range. */
	assert_ptr_equal(strstr(seen, "Range:"), strstr(seen, want));
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_release_journal_round_trip,
		    setup, teardown),
		cmocka_unit_test(test_release_journal_hostile),
		cmocka_unit_test_setup_teardown(test_release_stage_deploy,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_stage_update,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_stage_tomcat,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_stage_hostile,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_stage_refusals,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_switch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_release_prune, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_release_move_same_fs,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_move_across, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_release_fetch_refusals,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_fetch_resume,
		    setup, teardown),
	};

	log_init(1, 0);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
