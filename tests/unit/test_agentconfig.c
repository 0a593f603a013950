/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * agent/config.c on real directories: a configuration written into a
 * task's tree byte for byte, all files or none, never in place (releases
 * share files by hard links), modes and owners kept, nothing outside the
 * deploy directory or inside the state directory, the generated
 * .properties file, environment names, and the kept configuration.
 */

#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/fs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "cfgedit/cfgedit.h"
#include "config.h"

static char top[] = "/tmp/yard-test-agentconfig.XXXXXX";
static char deploy[PATH_MAX], tree[PATH_MAX], other[PATH_MAX];
static char state[PATH_MAX];

static void
put(const char *dir, const char *rel, const char *content, mode_t mode)
{
	char path[PATH_MAX * 2];
	int  fd;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, rel);
	(void)unlink(path);
	assert_true(
	    (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) != -1);
	assert_int_equal(write(fd, content, strlen(content)),
	    (ssize_t)strlen(content));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* The file's bytes (malloc'd, NUL-terminated), or NULL when absent. */
static char *
get(const char *dir, const char *rel, size_t *len)
{
	char	    path[PATH_MAX * 2], *b;
	struct stat st;
	int	    fd;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if ((fd = open(path, O_RDONLY)) == -1)
		return (NULL);
	assert_int_equal(fstat(fd, &st), 0);
	assert_non_null(b = malloc((size_t)st.st_size + 1));
	assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
	b[st.st_size] = '\0';
	(void)close(fd);
	if (len != NULL)
		*len = (size_t)st.st_size;
	return (b);
}

static struct stat
stat_of(const char *dir, const char *rel)
{
	struct stat st;
	char	    path[PATH_MAX * 2];

	(void)snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(lstat(path, &st), 0);
	return (st);
}

/* Entries of dir whose name starts with '.' (temporaries, backups). */
static size_t
hidden(const char *dir)
{
	DIR	      *d;
	struct dirent *de;
	size_t	       n = 0;

	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return (n);
}

static void
decode(const char *json, struct agentproto_config *c)
{
	json_error_t jerr;
	json_t	    *o;
	char	     err[512];

	assert_non_null(o = json_loads(json, 0, &jerr));
	if (agentproto_config_decode(o, c, err, sizeof(err)) != 0)
		fail_msg("decode: %s", err);
	json_decref(o);
}

static int
apply(const char *json, struct agent_cfgstats *st, char *err, size_t errlen)
{
	struct agentproto_config c;
	struct agent_confine	 conf;
	struct agent_cfgdest	 dest;
	int			 rc;

	decode(json, &c);
	memset(&conf, 0, sizeof(conf));
	assert_non_null(realpath(deploy, conf.root));
	assert_non_null(realpath(state, conf.deny));
	memset(&dest, 0, sizeof(dest));
	dest.tree = tree;
	dest.conf = &conf;
	if (geteuid() == 0) {
		dest.chown = 1;
		dest.uid = 1234;
		dest.gid = 2345;
	}
	memset(st, 0, sizeof(*st));
	err[0] = '\0';
	rc = agent_config_apply(&c, &dest, st, err, errlen);
	agentproto_config_free(&c);
	return (rc);
}

static int
setup(void **state_)
{
	char cmd[PATH_MAX * 2];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s/*", top);
	assert_int_equal(system(cmd), 0);
	(void)snprintf(deploy, sizeof(deploy), "%s/deploy", top);
	(void)snprintf(tree, sizeof(tree), "%s/releases/2", deploy);
	(void)snprintf(other, sizeof(other), "%s/releases/1", deploy);
	(void)snprintf(state, sizeof(state), "%s/state", top);
	(void)snprintf(cmd, sizeof(cmd), "mkdir -p %s/conf %s/conf %s", tree,
	    other, state);
	assert_int_equal(system(cmd), 0);
	return (0);
}

/* Whole files, byte for byte; new ones 0640 with their directories. */
static void
test_agentconfig_overrides(void **state_)
{
	struct agent_cfgstats st;
	struct stat	      sb;
	char		      err[512], *b;
	size_t		      len;

	put(tree, "conf/old.txt", "old\n", 0604);
	/* "a\0b&<\r\n" and "x" */
	assert_int_equal(apply("{\"version\":4,\"files\":["
			       "{\"path\":\"conf/old.txt\",\"content_base64\":"
			       "\"YQBiJjwNCg==\"},"
			       "{\"path\":\"new/dir/n.txt\",\"content_base64\":"
			       "\"eA==\"}]}",
			     &st, err, sizeof(err)),
	    0);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.mapped, 0);
	b = get(tree, "conf/old.txt", &len);
	assert_int_equal(len, 7);
	assert_memory_equal(b, "a\0b&<\r\n", 7);
	free(b);
	/* The old file's mode stays. */
	sb = stat_of(tree, "conf/old.txt");
	assert_int_equal(sb.st_mode & 07777, 0604);
	b = get(tree, "new/dir/n.txt", NULL);
	assert_string_equal(b, "x");
	free(b);
	sb = stat_of(tree, "new/dir/n.txt");
	assert_int_equal(sb.st_mode & 07777, AGENT_CONFIG_NEW_MODE);
	if (geteuid() == 0) {
		/* New files and directories belong to the task's account. */
		assert_int_equal(sb.st_uid, 1234);
		assert_int_equal(sb.st_gid, 2345);
		sb = stat_of(tree, "new/dir");
		assert_int_equal(sb.st_uid, 1234);
		assert_int_equal(sb.st_mode & 07777, AGENT_CONFIG_DIR_MODE);
		sb = stat_of(tree, "new");
		assert_int_equal(sb.st_uid, 1234);
	}
	assert_int_equal(hidden(tree), 0);
	assert_int_equal(hidden(tree), 0);
	(void)snprintf(err, sizeof(err), "%s/conf", tree);
	assert_int_equal(hidden(err), 0);
}

/* A file shared by hard link with another release is never changed. */
static void
test_agentconfig_hard_links(void **state_)
{
	struct agent_cfgstats st;
	struct stat	      a, b;
	char		      err[512], p1[PATH_MAX * 2], p2[PATH_MAX * 2], *s;

	put(other, "conf/shared.txt", "release one\n", 0640);
	(void)snprintf(p1, sizeof(p1), "%s/conf/shared.txt", other);
	(void)snprintf(p2, sizeof(p2), "%s/conf/shared.txt", tree);
	assert_int_equal(link(p1, p2), 0);
	if (geteuid() == 0)
		assert_int_equal(chown(p1, 4321, 5432), 0);
	assert_int_equal(apply("{\"files\":[{\"path\":\"conf/shared.txt\","
			       "\"content_base64\":\"bmV3Cg==\"}]}",
			     &st, err, sizeof(err)),
	    0);
	s = get(other, "conf/shared.txt", NULL);
	assert_string_equal(s, "release one\n");
	free(s);
	s = get(tree, "conf/shared.txt", NULL);
	assert_string_equal(s, "new\n");
	free(s);
	a = stat_of(other, "conf/shared.txt");
	b = stat_of(tree, "conf/shared.txt");
	assert_int_not_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_nlink, 1);
	/* Mode and owner of the file it replaced. */
	assert_int_equal(b.st_mode & 07777, 0640);
	if (geteuid() == 0) {
		assert_int_equal(b.st_uid, 4321);
		assert_int_equal(b.st_gid, 5432);
	}
}

/* One bad file: every file as it was, no temporary left, the error named. */
static void
test_agentconfig_all_or_nothing(void **state_)
{
	struct agent_cfgstats st;
	struct stat	      before, after;
	char		      err[512], p[PATH_MAX * 2], *s;

	put(tree, "conf/a.txt", "A\n", 0644);
	put(tree, "conf/broken.xml", "<root><a>1</a>", 0644);
	before = stat_of(tree, "conf/a.txt");
	/* The second file does not parse as XML. */
	assert_int_equal(apply("{\"values\":[{\"key\":\"k\",\"value\":"
			       "\"s3cr3t-value\"}],\"files\":[{\"path\":"
			       "\"conf/a.txt\",\"content_base64\":\"Qgo=\"}],"
			       "\"mappings\":[{\"key\":\"k\",\"file\":"
			       "\"conf/broken.xml\",\"format\":\"xml\","
			       "\"nodepath\":\"root.a\"}]}",
			     &st, err, sizeof(err)),
	    -1);
	assert_true(strncmp(err, "config: conf/broken.xml: root.a: ", 33) == 0);
	assert_null(strstr(err, "s3cr3t"));
	s = get(tree, "conf/a.txt", NULL);
	assert_string_equal(s, "A\n");
	free(s);
	after = stat_of(tree, "conf/a.txt");
	assert_int_equal(before.st_ino, after.st_ino);

	/* A target that is a directory fails after the first temp file. */
	(void)snprintf(p, sizeof(p), "%s/conf/d", tree);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(apply("{\"files\":[{\"path\":\"conf/a.txt\","
			       "\"content_base64\":\"Qgo=\"},"
			       "{\"path\":\"fresh/er/f\",\"content_base64\":"
			       "\"Qgo=\"},{\"path\":"
			       "\"conf/d\",\"content_base64\":\"Qgo=\"}]}",
			     &st, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "config: conf/d: not a regular file");
	s = get(tree, "conf/a.txt", NULL);
	assert_string_equal(s, "A\n");
	free(s);
	/* The directories made for the second file are gone again. */
	(void)snprintf(p, sizeof(p), "%s/fresh", tree);
	assert_int_equal(access(p, F_OK), -1);
	(void)snprintf(p, sizeof(p), "%s/conf", tree);
	assert_int_equal(hidden(p), 0);
	/* A missing file to map into. */
	assert_int_equal(apply("{\"values\":[{\"key\":\"k\",\"value\":\"v\"}],"
			       "\"files\":[{\"path\":\"conf/a.txt\","
			       "\"content_base64\":\"Qgo=\"}],"
			       "\"mappings\":[{\"key\":\"k\",\"file\":"
			       "\"conf/none.json\",\"format\":\"json\","
			       "\"nodepath\":\"a\"}]}",
			     &st, err, sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "config: conf/none.json: no such file to map into");
	s = get(tree, "conf/a.txt", NULL);
	assert_string_equal(s, "A\n");
	free(s);
}

/* Set or clear a file's immutable flag: 0, or -1 (not root, say). */
static int
immutable(const char *dir, const char *rel, int on)
{
	char path[PATH_MAX * 2];
	int  fd, flags, rc = -1;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if ((fd = open(path, O_RDONLY)) == -1)
		return (-1);
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
		flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
		rc = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	(void)close(fd);
	return (rc);
}

/*
 * The renames fail half way (the second file is immutable: it cannot be
 * linked to nor replaced, even by root): the first file, already
 * renamed, is put back, the very same inode.
 */
static void
test_agentconfig_rename_fails(void **state_)
{
	struct agent_cfgstats st;
	struct stat	      a0, a1;
	char		      err[512], p[PATH_MAX * 2], *s;

	put(tree, "conf/a.txt", "A\n", 0644);
	put(tree, "conf/b.txt", "B\n", 0644);
	if (immutable(tree, "conf/b.txt", 1) == -1)
		skip();
	a0 = stat_of(tree, "conf/a.txt");
	assert_int_equal(apply("{\"files\":[{\"path\":\"conf/a.txt\","
			       "\"content_base64\":\"eAo=\"},{\"path\":"
			       "\"conf/b.txt\",\"content_base64\":\"eAo=\"}]}",
			     &st, err, sizeof(err)),
	    -1);
	(void)immutable(tree, "conf/b.txt", 0);
	assert_string_equal(err, "config: conf/b.txt: Operation not permitted");
	s = get(tree, "conf/a.txt", NULL);
	assert_string_equal(s, "A\n");
	free(s);
	a1 = stat_of(tree, "conf/a.txt");
	assert_int_equal(a0.st_ino, a1.st_ino);
	assert_int_equal(a1.st_nlink, 1);
	s = get(tree, "conf/b.txt", NULL);
	assert_string_equal(s, "B\n");
	free(s);
	(void)snprintf(p, sizeof(p), "%s/conf", tree);
	assert_int_equal(hidden(p), 0);
}

/* Symlinks are followed, and must stay inside; the state dir never. */
static void
test_agentconfig_confined(void **state_)
{
	struct agent_cfgstats st;
	char		      err[512], p[PATH_MAX * 2], t[PATH_MAX * 2], *s;

	/* Out of the deploy directory. */
	(void)snprintf(p, sizeof(p), "%s/conf/out", tree);
	assert_int_equal(symlink(top, p), 0);
	assert_int_equal(apply("{\"files\":[{\"path\":\"conf/out/x\","
			       "\"content_base64\":\"Qgo=\"}]}",
			     &st, err, sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "config: conf/out/x: resolves outside the "
	    "task's deploy directory");
	(void)snprintf(p, sizeof(p), "%s/x", top);
	assert_int_equal(access(p, F_OK), -1);
	/* Into the agent's state directory, placed inside the deploy dir. */
	(void)snprintf(t, sizeof(t), "%s/statelink", tree);
	assert_int_equal(symlink(state, t), 0);
	(void)snprintf(state, sizeof(state), "%s/state", deploy);
	assert_int_equal(mkdir(state, 0700), 0);
	(void)unlink(t);
	assert_int_equal(symlink(state, t), 0);
	assert_int_equal(apply("{\"files\":[{\"path\":\"statelink/node.json\","
			       "\"content_base64\":\"Qgo=\"}]}",
			     &st, err, sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "config: statelink/node.json: resolves "
	    "into the agent's state directory");
	(void)snprintf(state, sizeof(state), "%s/state", top);
	/* A symlink inside is followed: the file it names is replaced,
	 * the link stays a link. */
	put(tree, "conf/real.txt", "r\n", 0644);
	(void)snprintf(p, sizeof(p), "%s/conf/alias.txt", tree);
	assert_int_equal(symlink("real.txt", p), 0);
	assert_int_equal(apply("{\"files\":[{\"path\":\"conf/alias.txt\","
			       "\"content_base64\":\"Qgo=\"}]}",
			     &st, err, sizeof(err)),
	    0);
	s = get(tree, "conf/real.txt", NULL);
	assert_string_equal(s, "B\n");
	free(s);
	assert_true(S_ISLNK(stat_of(tree, "conf/alias.txt").st_mode));
	/* Two names of one file in one apply. */
	assert_int_equal(apply("{\"files\":[{\"path\":\"conf/alias.txt\","
			       "\"content_base64\":\"Qgo=\"},{\"path\":"
			       "\"conf/real.txt\",\"content_base64\":"
			       "\"Qgo=\"}]}",
			     &st, err, sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "config: conf/alias.txt and conf/real.txt "
	    "are the same file");
}

/* The brief's example, mapped into an XML file: only the value changes. */
static void
test_agentconfig_mapping(void **state_)
{
	struct agent_cfgstats st;
	char		      err[512], *s;

	put(tree, "conf/app.xml",
	    "<?xml version=\"1.0\"?>\r\n<!-- c -->\r\n<root><nodes><nodes>"
	    "<nodes>old</nodes></nodes></nodes></root>\r\n",
	    0644);
	if (apply(
		"{\"version\":3,\"values\":[{\"key\":\"RefreshSecretSubUrl\","
		"\"value\":\"/gateway/app/refreshTokenByKey.htm?a=1&b=<2>\"}],"
		"\"mappings\":[{\"key\":\"RefreshSecretSubUrl\",\"file\":"
		"\"conf/app.xml\",\"format\":\"xml\",\"nodepath\":"
		"\"root.nodes[0].nodes[0].nodes[0]\"}]}",
		&st, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(st.mapped, 1);
	assert_int_equal(st.files, 1);
	s = get(tree, "conf/app.xml", NULL);
	assert_string_equal(s,
	    "<?xml version=\"1.0\"?>\r\n<!-- c -->\r\n<root><nodes><nodes>"
	    "<nodes>/gateway/app/refreshTokenByKey.htm?a=1&amp;b=&lt;2&gt;"
	    "</nodes></nodes></nodes></root>\r\n");
	free(s);
	/* A file override is the base of the mappings into it. */
	if (apply("{\"values\":[{\"key\":\"a\",\"value\":\"\\\"q\\\"\"}],"
		  "\"files\":[{\"path\":\"appsettings.json\","
		  "\"content_base64\":\"eyJhIjogIngifQo=\"}],"
		  "\"mappings\":[{\"key\":\"a\",\"file\":\"appsettings.json\","
		  "\"format\":\"json\",\"nodepath\":\"a\"}]}",
		&st, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	s = get(tree, "appsettings.json", NULL);
	assert_string_equal(s, "{\"a\": \"\\\"q\\\"\"}\n");
	free(s);
	assert_int_equal(st.files, 1);
	/* Two edits of one file, the second's node missing: it is named. */
	put(tree, "conf/m.xml", "<root><a>1</a></root>", 0644);
	assert_int_equal(
	    apply("{\"values\":[{\"key\":\"a\",\"value\":\"x\"},"
		  "{\"key\":\"b\",\"value\":\"y\"}],\"mappings\":["
		  "{\"key\":\"a\",\"file\":\"conf/m.xml\",\"format\":"
		  "\"xml\",\"nodepath\":\"root.a\"},{\"key\":\"b\","
		  "\"file\":\"conf/m.xml\",\"format\":\"xml\","
		  "\"nodepath\":\"root.zz\"}]}",
		&st, err, sizeof(err)),
	    -1);
	if (strncmp(err, "config: conf/m.xml: root.zz: no element", 39) != 0)
		fail_msg("%s", err);
	s = get(tree, "conf/m.xml", NULL);
	assert_string_equal(s, "<root><a>1</a></root>");
	free(s);
}

/* The generated .properties file: every value, 0600, read back alike. */
static void
test_agentconfig_properties_file(void **state_)
{
	struct agent_cfgstats st;
	struct cfgedit_prop  *p;
	struct stat	      sb;
	char		      err[512], *s;
	size_t		      len, n;

	if (apply("{\"version\":7,\"values\":[{\"key\":\"db.url\",\"value\":"
		  "\"jdbc:x://h/db?a=1&b=2\"},{\"key\":\"name\",\"value\":"
		  "\"\xe4\xb8\xad\xe6\x96\x87 #! = :\"},{\"key\":\"pw\","
		  "\"value\":\"p\",\"secret\":true}],"
		  "\"properties_file\":\"conf/yard.properties\"}",
		&st, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	sb = stat_of(tree, "conf/yard.properties");
	assert_int_equal(sb.st_mode & 07777, AGENT_CONFIG_PROPS_MODE);
	s = get(tree, "conf/yard.properties", &len);
	assert_int_equal(cfgedit_props_parse(s, len, &p, &n, err, sizeof(err)),
	    0);
	assert_int_equal(n, 3);
	assert_string_equal(p[0].key, "db.url");
	assert_string_equal(p[0].value, "jdbc:x://h/db?a=1&b=2");
	assert_string_equal(p[1].value, "\xe4\xb8\xad\xe6\x96\x87 #! = :");
	assert_string_equal(p[2].value, "p");
	cfgedit_props_free(p, n);
	free(s);
}

/* Environment names: '.' and ':' become "__"; others are listed. */
static void
test_agentconfig_env(void **state_)
{
	struct agentproto_config c;
	struct agent_cfgstats	 st;
	json_t			*env;
	char			 note[256];

	decode(
	    "{\"version\":2,\"values\":[{\"key\":\"db.url\",\"value\":\"u\"},"
	    "{\"key\":\"Logging:Level\",\"value\":\"l\"},"
	    "{\"key\":\"bad-key\",\"value\":\"secret-x\"},"
	    "{\"key\":\"9lives\",\"value\":\"x\"}],\"env\":true}",
	    &c);
	memset(&st, 0, sizeof(st));
	assert_non_null(env = json_object());
	assert_int_equal(agent_config_env(&c, env, &st), 0);
	assert_int_equal(json_object_size(env), 2);
	assert_string_equal(json_string_value(json_object_get(env, "db__url")),
	    "u");
	assert_string_equal(json_string_value(
				json_object_get(env, "Logging__Level")),
	    "l");
	assert_int_equal(st.env, 2);
	assert_int_equal(st.env_skipped, 2);
	assert_string_equal(st.skipped, "bad-key, 9lives");
	agent_config_note(&c, &st, note, sizeof(note));
	assert_string_equal(note,
	    "config v2 applied: 0 files written, 0 values mapped, 2 "
	    "environment variables; not in the environment (no variable "
	    "name): bad-key, 9lives");
	assert_null(strstr(note, "secret-x"));
	json_decref(env);
	agentproto_config_free(&c);
	/* env false: nothing. */
	decode("{\"values\":[{\"key\":\"a\",\"value\":\"u\"}]}", &c);
	memset(&st, 0, sizeof(st));
	assert_non_null(env = json_object());
	assert_int_equal(agent_config_env(&c, env, &st), 0);
	assert_int_equal(json_object_size(env), 0);
	json_decref(env);
	agentproto_config_free(&c);
}

/* The kept configuration: 0600, loaded back, forgotten with NULL. */
static void
test_agentconfig_keep(void **state_)
{
	struct agentproto_config c;
	struct stat		 sb;
	json_t			*o;
	json_error_t		 jerr;
	char			 err[256], p[PATH_MAX * 2];

	assert_int_equal(agent_config_load(state, 9, &c, err, sizeof(err)), 0);
	o = json_loads("{\"version\":5,\"values\":[{\"key\":\"k\",\"value\":"
		       "\"v\",\"secret\":true}]}",
	    0, &jerr);
	assert_int_equal(agent_config_save(state, 9, o), 1);
	json_decref(o);
	(void)snprintf(p, sizeof(p), "%s/config/9.json", state);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(agent_config_load(state, 9, &c, err, sizeof(err)), 1);
	assert_int_equal(c.version, 5);
	assert_string_equal(c.values[0].value, "v");
	agentproto_config_free(&c);
	/* A kept file that no longer decodes is an error, not "none". */
	put(state, "config/9.json", "{\"values\":1}", 0600);
	assert_int_equal(agent_config_load(state, 9, &c, err, sizeof(err)), -1);
	assert_string_equal(err, "config.values: must be an array");
	assert_int_equal(agent_config_save(state, 9, NULL), 1);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(agent_config_load(state, 9, &c, err, sizeof(err)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_agentconfig_overrides, setup),
		cmocka_unit_test_setup(test_agentconfig_hard_links, setup),
		cmocka_unit_test_setup(test_agentconfig_all_or_nothing, setup),
		cmocka_unit_test_setup(test_agentconfig_rename_fails, setup),
		cmocka_unit_test_setup(test_agentconfig_confined, setup),
		cmocka_unit_test_setup(test_agentconfig_mapping, setup),
		cmocka_unit_test_setup(test_agentconfig_properties_file, setup),
		cmocka_unit_test_setup(test_agentconfig_env, setup),
		cmocka_unit_test_setup(test_agentconfig_keep, setup),
	};
	char cmd[PATH_MAX];
	int  rc;

	if (mkdtemp(top) == NULL)
		return (1);
	log_init(1, 0);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	if (system(cmd) != 0)
		return (1);
	return (rc);
}
