/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * yard-agent-stage: builds one release (agent_rel_stage()) for the
 * agent's worker, which runs it after the package's download.  It is a
 * program of its own so that libarchive, the zip reader and everything
 * it links live only as long as one release is built, never in the
 * agent's long-running process (its memory, and what a hostile package
 * could reach).
 *
 *	yard-agent-stage JOB
 *
 * JOB is one JSON object: {"kind":"deploy"|"update","dir","zip","n",
 * "live","adopt_first","clean","need","uid","gid","spec"}.  With
 * adopt_first the directory's own files first become release 0, and the
 * package goes over them as an update would.  Progress and the outcome
 * go to standard output, one line each, as the agent's workers write
 * them: "P <step> <percent>", then "OK <notes>" or "ERR <why>" (newlines
 * in the text as 0x1f).  The exit status is 0 on success.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent.h"
#include "release.h"

struct out {
	char step[16];
	int  percent;
};

static void progress(void *, const char *, int);
static int  end(int, const char *);

static void
progress(void *arg, const char *step, int percent)
{
	struct out *o = arg;

	if (strcmp(o->step, step) == 0 && o->percent == percent)
		return;
	(void)snprintf(o->step, sizeof(o->step), "%s", step);
	o->percent = percent;
	(void)printf("P %s %d\n", o->step, percent);
	(void)fflush(stdout);
}

static int
end(int ok, const char *text)
{
	char   buf[AGENT_REL_NOTES + 1024];
	size_t i;

	(void)snprintf(buf, sizeof(buf), "%s", text);
	for (i = 0; buf[i] != '\0'; i++) {
		if (buf[i] == '\n')
			buf[i] = 0x1f;
	}
	(void)printf("%s %s\n", ok ? "OK" : "ERR", buf);
	(void)fflush(stdout);
	return (ok ? 0 : 1);
}

int
main(int argc, char *argv[])
{
	struct agent_rel_job rj;
	struct out	     o;
	json_error_t	     jerr;
	json_t		    *job;
	const char	    *kind;
	char		     why[PATH_MAX + 512];
	int		     ok;

	log_init(1, 0);
	if (argc != 2)
		return (end(0, "usage: yard-agent-stage JOB"));
	if ((job = json_loads(argv[1], 0, &jerr)) == NULL ||
	    !json_is_object(job))
		return (end(0, "yard-agent-stage: JOB is not a JSON object"));
	memset(&o, 0, sizeof(o));
	o.percent = -2;
	memset(&rj, 0, sizeof(rj));
	kind = json_string_value(json_object_get(job, "kind"));
	rj.kind = kind != NULL && strcmp(kind, "deploy") == 0
	    ? AGENTPROTO_CMD_DEPLOY
	    : AGENTPROTO_CMD_UPDATE;
	rj.dir = json_string_value(json_object_get(job, "dir"));
	rj.spec = json_object_get(job, "spec");
	rj.uid = (uid_t)json_integer_value(json_object_get(job, "uid"));
	rj.gid = (gid_t)json_integer_value(json_object_get(job, "gid"));
	rj.progress = progress;
	rj.arg = &o;
	if (rj.dir == NULL || !json_is_object(rj.spec) ||
	    json_string_value(json_object_get(job, "zip")) == NULL) {
		json_decref(job);
		return (end(0, "yard-agent-stage: JOB lacks dir, zip or spec"));
	}
	if (json_is_true(json_object_get(job, "adopt_first"))) {
		rj.adopt = 1;
		rj.n = 0;
		rj.live = -1;
		progress(&o, "unpack", -1);
		if (!agent_rel_stage(&rj, why, sizeof(why))) {
			json_decref(job);
			return (end(0, why));
		}
		rj.adopt = 0;
	}
	rj.zip = json_string_value(json_object_get(job, "zip"));
	rj.clean = json_is_true(json_object_get(job, "clean"));
	rj.n = json_integer_value(json_object_get(job, "n"));
	rj.live = json_integer_value(json_object_get(job, "live"));
	rj.need = (uint64_t)json_integer_value(json_object_get(job, "need"));
	progress(&o, "unpack", 0);
	ok = agent_rel_stage(&rj, why, sizeof(why));
	ok = ok ? end(1, rj.notes) : end(0, why);
	json_decref(job);
	return (ok);
}
