/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * One metrics sweep of 100 supervised processes (SPEC 13: <= 2 ms): fork
 * 100 children, watch each with agent/os_proc_linux.c, time 1,000 sweeps and
 * print the median and p99 in ms.
 */

#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define NPROC	100
#define NSWEEPS 1000

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

#define TREE_SCANS 200

int
main(void)
{
	static struct agent_proc p[NPROC];
	static double		 t[NSWEEPS];
	struct timespec		 a, b;
	static struct agent_tree tree[NPROC];
	static int		 leaders[NPROC];
	pid_t			 kids[NPROC];
	int			 i, k, bad = 0, seen = 0;

	for (i = 0; i < NPROC; i++) {
		if ((kids[i] = fork()) == 0) {
			pause();
			_exit(0);
		}
		if (kids[i] < 0 || !agent_proc_open(&p[i], kids[i])) {
			fprintf(stderr, "sweep_bench: cannot watch child %d\n",
			    i);
			return (1);
		}
	}
	for (k = 0; k < NSWEEPS; k++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (i = 0; i < NPROC; i++)
			bad += agent_proc_sample(&p[i]) != 1;
		clock_gettime(CLOCK_MONOTONIC, &b);
		t[k] = (double)(b.tv_sec - a.tv_sec) * 1e3 +
		    (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	}
	qsort(t, NSWEEPS, sizeof(t[0]), cmp);
	printf("sweep of %d processes: median %.3f ms, p99 %.3f ms "
	       "(%d sweeps, %d failed samples)\n",
	    NPROC, t[NSWEEPS / 2], t[NSWEEPS * 99 / 100], NSWEEPS, bad);

	/* The per-heartbeat tree scan: all of /proc, 100 tasks' sessions. */
	for (i = 0; i < NPROC; i++)
		leaders[i] = kids[i];
	for (k = 0; k < TREE_SCANS; k++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		seen = agent_proc_tree(leaders, NPROC, tree);
		clock_gettime(CLOCK_MONOTONIC, &b);
		t[k] = (double)(b.tv_sec - a.tv_sec) * 1e3 +
		    (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	}
	qsort(t, TREE_SCANS, sizeof(t[0]), cmp);
	printf("tree scan of /proc (%d processes) for %d tasks: median %.3f "
	       "ms, p99 %.3f ms\n",
	    seen, NPROC, t[TREE_SCANS / 2], t[TREE_SCANS * 99 / 100]);
	for (i = 0; i < NPROC; i++) {
		agent_proc_close(&p[i]);
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	return (bad != 0);
}
