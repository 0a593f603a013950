/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The Linux implementation's own declarations (agent/os.h is the seam):
 * used by agent/os*_linux.c, agent/cgroup.c and their unit tests only.
 */

#ifndef AGENT_OS_LINUX_H
#define AGENT_OS_LINUX_H

#include <stddef.h>
#include <stdint.h>

/*
 * cgroup.c: a cgroup v2 per task (<mount><agent's cgroup>/yard-<install
 * id>/task-<id>) where the host has a usable one; else tasks are tracked
 * by their session and YARD_TASK_MARK.
 */
int	    agent_cgroup_init(const char *);
void	    agent_cgroup_fini(void);
const char *agent_tracking_name(void);
int agent_cgroup_mount_parse(const char *, char *, size_t, char *, size_t);
int agent_cgroup_self_parse(const char *, char *, size_t);
int agent_cgroup_join(const char *, const char *, const char *, char *, size_t);
int agent_cgroup_task(int64_t, char *, size_t);
int agent_cgroup_valid(const char *, int64_t);
int agent_cgroup_open_procs(const char *);
int agent_cgroup_populated(const char *);
int agent_cgroup_kill(const char *);
int agent_cgroup_signal(const char *, int);
int agent_cgroup_remove(const char *);

#endif /* AGENT_OS_LINUX_H */
