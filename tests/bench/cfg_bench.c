/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * cfg_bench (B12): the agent's apply of a task's configuration against
 * copying the file.  Builds a 1 MB XML file with 100 mapped nodes (50
 * element texts, 50 attributes) and 1,000 key-values once, then times,
 * interleaved in the same run on the same disk, best of ROUNDS:
 *   apply: read the file, cfgedit_apply() of the 100 edits,
 *          cfgedit_props_write() of the 1,000 key-values, both written
 *          to temporary files, fsync'd, renamed;
 *   copy:  read the file, write it to a temporary file, fsync, rename.
 *
 *   obj/bench/cfg_bench [work-dir]     (default: a new dir in /tmp)
 */

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfgedit/cfgedit.h"

#define XML_BYTES (1024 * 1024)
#define MAPPINGS  100
#define KEYVALUES 1000
#define ROUNDS	  15

static double now(void);
static char  *read_file(const char *, size_t *);
static void   write_file(const char *, const char *, const char *, size_t);
static char  *make_xml(size_t *, size_t *);

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static char *
read_file(const char *path, size_t *len)
{
	struct stat st;
	char	   *b;
	ssize_t	    r;
	size_t	    off = 0;
	int	    fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1) {
		perror(path);
		exit(1);
	}
	if ((b = malloc((size_t)st.st_size + 1)) == NULL)
		exit(1);
	while (off < (size_t)st.st_size) {
		r = read(fd, b + off, (size_t)st.st_size - off);
		if (r <= 0) {
			perror(path);
			exit(1);
		}
		off += (size_t)r;
	}
	close(fd);
	*len = off;
	return (b);
}

/* Write to tmp, fsync, rename over path. */
static void
write_file(const char *tmp, const char *path, const char *b, size_t len)
{
	size_t	off = 0;
	ssize_t w;
	int	fd;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1) {
		perror(tmp);
		exit(1);
	}
	while (off < len) {
		if ((w = write(fd, b + off, len - off)) <= 0) {
			perror(tmp);
			exit(1);
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1 || close(fd) == -1 || rename(tmp, path) == -1) {
		perror(path);
		exit(1);
	}
}

/* About 1 MB of services; *nsvc of them. */
static char *
make_xml(size_t *len, size_t *nsvc)
{
	char  *b;
	size_t off, n = 0;
	int    w;

	if ((b = malloc(XML_BYTES + 4096)) == NULL)
		exit(1);
	off = (size_t)snprintf(b, 4096,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
	    "<!-- generated for B12 -->\r\n<config>\r\n");
	while (off < XML_BYTES - 1024) {
		w = snprintf(b + off, 1024,
		    "  <service id=\"s%zu\" timeout=\"30\">\r\n"
		    "    <!-- service %zu: &amp; comments stay -->\r\n"
		    "    <name>service &lt;%zu&gt;</name>\r\n"
		    "    <url>http://old.example/%zu/api?a=1&amp;b=2</url>\r\n"
		    "    <pool min=\"1\" max='8'/>\r\n"
		    "  </service>\r\n",
		    n, n, n, n);
		off += (size_t)w;
		n++;
	}
	off += (size_t)snprintf(b + off, 64, "</config>\r\n");
	*len = off;
	*nsvc = n;
	return (b);
}

int
main(int argc, char *argv[])
{
	struct cfgedit_edit edits[MAPPINGS];
	struct cfgedit_prop props[KEYVALUES];
	char		    work[512], xml[600], xtmp[600], pfile[600];
	char   ptmp[600], copy[600], ctmp[600], err[CFGEDIT_ERR_MAX];
	char   paths[MAPPINGS][64], values[MAPPINGS][64];
	char  *src, *in, *out, *pout;
	size_t srclen, nsvc, inlen, outlen, plen, i;
	double t, t_apply = 1e9, t_copy = 1e9, t_edit = 1e9;
	double t_props = 1e9, t0, t1;
	int    r;

	if (argc > 1)
		(void)snprintf(work, sizeof(work), "%s", argv[1]);
	else {
		(void)snprintf(work, sizeof(work), "/tmp/cfg_bench.XXXXXX");
		if (mkdtemp(work) == NULL) {
			perror("mkdtemp");
			return (1);
		}
	}
	(void)snprintf(xml, sizeof(xml), "%s/app.xml", work);
	(void)snprintf(xtmp, sizeof(xtmp), "%s/.app.xml.tmp", work);
	(void)snprintf(pfile, sizeof(pfile), "%s/app.properties", work);
	(void)snprintf(ptmp, sizeof(ptmp), "%s/.app.properties.tmp", work);
	(void)snprintf(copy, sizeof(copy), "%s/copy.xml", work);
	(void)snprintf(ctmp, sizeof(ctmp), "%s/.copy.xml.tmp", work);

	src = make_xml(&srclen, &nsvc);
	write_file(xtmp, xml, src, srclen);
	for (i = 0; i < MAPPINGS; i++) {
		size_t s = i * (nsvc / MAPPINGS);

		if (i % 2 == 0)
			(void)snprintf(paths[i], sizeof(paths[i]),
			    "config.service[%zu].url", s);
		else
			(void)snprintf(paths[i], sizeof(paths[i]),
			    "config.service[%zu].pool.@max", s);
		(void)snprintf(values[i], sizeof(values[i]),
		    "http://new/%zu?x=1&y=<2>&z=\"中文\"", i);
		edits[i].path = paths[i];
		edits[i].value = values[i];
		edits[i].value_len = strlen(values[i]);
	}
	for (i = 0; i < KEYVALUES; i++) {
		char k[64], v[128];

		(void)snprintf(k, sizeof(k), "app.group%zu.key%zu", i / 50, i);
		(void)snprintf(v, sizeof(v),
		    "value %zu: & < > \" ' \\ ${x} %% # 中文 😀", i);
		props[i].key = strdup(k);
		props[i].value = strdup(v);
		props[i].key_len = strlen(k);
		props[i].value_len = strlen(v);
		props[i].line = 0;
	}
	printf("file: %zu bytes, %zu services; %d mappings (half texts, half "
	       "attributes); %d key-values\n",
	    srclen, nsvc, MAPPINGS, KEYVALUES);

	for (r = 0; r < ROUNDS; r++) {
		/* The copy. */
		t0 = now();
		in = read_file(xml, &inlen);
		write_file(ctmp, copy, in, inlen);
		t = now() - t0;
		free(in);
		if (t < t_copy)
			t_copy = t;

		/* The apply, as the agent does it. */
		t0 = now();
		in = read_file(xml, &inlen);
		t1 = now();
		if (cfgedit_apply(CFGEDIT_XML, in, inlen, edits, MAPPINGS, &out,
			&outlen, err, sizeof(err)) == -1) {
			fprintf(stderr, "cfg_bench: apply: %s\n", err);
			return (1);
		}
		t = now() - t1;
		if (t < t_edit)
			t_edit = t;
		t1 = now();
		if (cfgedit_props_write(props, KEYVALUES, "generated by Yard",
			&pout, &plen) == -1) {
			fprintf(stderr, "cfg_bench: props_write failed\n");
			return (1);
		}
		t = now() - t1;
		if (t < t_props)
			t_props = t;
		write_file(xtmp, xml, out, outlen);
		write_file(ptmp, pfile, pout, plen);
		t = now() - t0;
		if (t < t_apply)
			t_apply = t;
		free(in);
		free(out);
		free(pout);
		/* Start each round from the original file. */
		write_file(xtmp, xml, src, srclen);
	}
	printf("copy (read, write, fsync, rename):        %.2f ms\n",
	    t_copy * 1e3);
	printf("apply (read, 100 edits, 1,000 key-values, 2 x write, fsync, "
	       "rename): %.2f ms\n",
	    t_apply * 1e3);
	printf("  of which cfgedit_apply %.2f ms, cfgedit_props_write %.2f "
	       "ms\n",
	    t_edit * 1e3, t_props * 1e3);
	printf("ratio: %.2f (goal <= 5)\n", t_apply / t_copy);
	for (i = 0; i < KEYVALUES; i++) {
		free(props[i].key);
		free(props[i].value);
	}
	free(src);
	if (argc <= 1) {
		(void)unlink(xml);
		(void)unlink(pfile);
		(void)unlink(copy);
		(void)rmdir(work);
	}
	return (0);
}
