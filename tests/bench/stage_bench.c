/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * stage_bench: the cost of an overlay update against plain unzip.
 * Builds a zip of 200 MB in 10,000 files once (half incompressible
 * bytes, half text), deploys it as release 1, then times, in the same
 * run and on the same disk, `unzip -o -q` of it into a fresh directory
 * and agent_rel_stage() of it as an update over release 1 (check,
 * overlay copy, unpack, rename), and prints both and their ratio.
 *
 *   obj/bench/stage_bench [work-dir]     (default: a new dir in /tmp)
 */

#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "agent.h"
#include "release.h"

#define FILES	   10000
#define TOTAL	   (200ULL * 1000 * 1000)
#define FILE_BYTES (TOTAL / FILES)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (rng);
}

static double now(void);
static void   step(void *, const char *, int);

static char   last_step[32];
static double step_at;

/* Where the update's time goes: each step's start. */
static void
step(void *arg, const char *name, int pct)
{
	double t;

	(void)arg;
	(void)pct;
	if (strcmp(name, last_step) == 0)
		return;
	t = now();
	if (last_step[0] != '\0')
		printf("  %-8s %.2f s\n", last_step, t - step_at);
	(void)snprintf(last_step, sizeof(last_step), "%s", name);
	step_at = t;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static int
build(const char *zip)
{
	struct archive	     *a;
	struct archive_entry *ae;
	static char	      buf[FILE_BYTES * 2];
	char		      name[64];
	size_t		      i, k, len;

	if ((a = archive_write_new()) == NULL ||
	    archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_open_filename(a, zip) != ARCHIVE_OK)
		return (0);
	for (i = 0; i < FILES; i++) {
		/* Sizes vary around the mean; odd files are text. */
		len = (size_t)(FILE_BYTES / 2 + next() % FILE_BYTES);
		if (i % 2 == 0) {
			for (k = 0; k + 8 <= len; k += 8) {
				uint64_t r = next();

				memcpy(buf + k, &r, 8);
			}
		} else {
			for (k = 0; k < len; k++)
				buf[k] = "abcdefgh ij\nklmnop"[next() % 18];
		}
		(void)snprintf(name, sizeof(name), "d%02zu/s%02zu/f%05zu.%s",
		    i % 50, (i / 50) % 20, i, i % 2 ? "txt" : "bin");
		ae = archive_entry_new();
		archive_entry_set_pathname(ae, name);
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_size(ae, (la_int64_t)len);
		if (archive_write_header(a, ae) != ARCHIVE_OK ||
		    archive_write_data(a, buf, len) != (la_ssize_t)len)
			return (0);
		archive_entry_free(ae);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		return (0);
	archive_write_free(a);
	return (1);
}

int
main(int argc, char *argv[])
{
	struct agent_rel_job job;
	json_t		    *spec;
	char		     work[PATH_MAX / 2], zip[PATH_MAX], dir[PATH_MAX];
	char		     cmd[PATH_MAX * 3], why[512];
	char		     tmpl[] = "/tmp/stage_bench.XXXXXX";
	double		     t0, t_unzip, t_stage;
	struct stat	     st;

	log_init(1, 0);
	if (argc > 1)
		(void)snprintf(work, sizeof(work), "%s", argv[1]);
	else if (mkdtemp(tmpl) != NULL)
		(void)snprintf(work, sizeof(work), "%s", tmpl);
	else
		return (1);
	(void)mkdir(work, 0755);
	(void)snprintf(zip, sizeof(zip), "%s/pkg.zip", work);
	(void)snprintf(dir, sizeof(dir), "%s/app", work);
	t0 = now();
	if (!build(zip)) {
		fprintf(stderr, "stage_bench: cannot build %s\n", zip);
		return (1);
	}
	(void)stat(zip, &st);
	printf("package: %d files, %.0f MB unpacked, %.0f MB zipped, built "
	       "in %.1f s\n",
	    FILES, (double)TOTAL / 1e6, (double)st.st_size / 1e6, now() - t0);

	spec = json_pack("{s:s, s:s, s:{s:s}}", "kind", "console",
	    "deploy_dir", dir, "console", "command", "run");
	memset(&job, 0, sizeof(job));
	job.kind = AGENTPROTO_CMD_DEPLOY;
	job.dir = dir;
	job.zip = zip;
	job.spec = spec;
	job.n = 1;
	job.live = -1;
	job.uid = getuid();
	job.gid = getgid();
	if (!agent_rel_stage(&job, why, sizeof(why))) {
		fprintf(stderr, "stage_bench: deploy: %s\n", why);
		return (1);
	}

	/* unzip into a fresh directory, then the update, same disk. */
	(void)snprintf(cmd, sizeof(cmd), "sync; rm -rf '%s/unzipped'", work);
	if (system(cmd) != 0)
		return (1);
	(void)snprintf(cmd, sizeof(cmd), "unzip -o -q '%s' -d '%s/unzipped'",
	    zip, work);
	t0 = now();
	if (system(cmd) != 0) {
		fprintf(stderr, "stage_bench: unzip failed\n");
		return (1);
	}
	t_unzip = now() - t0;
	if (system("sync") != 0)
		return (1);

	job.kind = AGENTPROTO_CMD_UPDATE;
	job.n = 2;
	job.live = 1;
	job.progress = step;
	t0 = now();
	if (!agent_rel_stage(&job, why, sizeof(why))) {
		fprintf(stderr, "stage_bench: update: %s\n", why);
		return (1);
	}
	t_stage = now() - t0;
	printf("  %-8s %.2f s (to the end)\n", last_step, now() - step_at);
	printf("unzip -o:          %.2f s\n", t_unzip);
	printf("agent_rel_stage(): %.2f s (update over a live release: check, "
	       "overlay, unpack)\n",
	    t_stage);
	printf("ratio: %.2f (goal <= 1.5)\n", t_stage / t_unzip);
	json_decref(spec);
	if (argc <= 1) {
		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
		if (system(cmd) != 0)
			return (1);
	}
	return (0);
}
