/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * A task's configuration on the node (docs/config.md, "On the node"):
 * applied to the task's tree before every start and by apply-config,
 * all files or none, never writing a file in place; the last one each
 * task got, kept in the state directory for the agent's own restarts.
 */

#ifndef AGENT_CONFIG_H
#define AGENT_CONFIG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agentproto/agentproto.h"

#define AGENT_CONFIG_DIR	"config" /* in the state dir: <task>.json */
#define AGENT_CONFIG_READ_MAX	(64 * 1024 * 1024) /* a mapped file's bytes */
#define AGENT_CONFIG_NEW_MODE	0640 /* a file the configuration creates */
#define AGENT_CONFIG_DIR_MODE	0750 /* and its missing directories */
#define AGENT_CONFIG_PROPS_MODE 0600 /* the generated .properties file */

struct agent_confine;

/* Where a configuration goes. */
struct agent_cfgdest {
	const char		   *tree; /* relative paths start here */
	const struct agent_confine *conf; /* where every target must lie */
	int			    chown; /* new files go to uid:gid */
	uid_t			    uid;
	gid_t			    gid;
};

/* What an apply did, for the command's output (never a value). */
struct agent_cfgstats {
	size_t files; /* files written */
	size_t mapped; /* mappings applied */
	size_t env; /* environment variables given */
	size_t env_skipped; /* keys without an environment name */
	char   skipped[256]; /* the first of them, ", "-separated */
};

/*
 * Write cfg into dest's tree: file overrides, then every mapping
 * (cfgedit_apply(), all edits of one file at once), then the generated
 * properties_file.  Every file goes to a temporary file next to it
 * first, then all are renamed; a failure at any point leaves every file
 * as it was.  0, or -1 with err naming the file, the nodepath and why
 * (never a value).
 */
int agent_config_apply(const struct agentproto_config *,
    const struct agent_cfgdest *, struct agent_cfgstats *, char *, size_t);
/*
 * When cfg->env is set, each value whose key has an environment name
 * (cfgedit_env_name()) into env (an object: name -> value); the keys
 * without one are counted and listed in st.
 */
int agent_config_env(const struct agentproto_config *, json_t *,
    struct agent_cfgstats *);
/* "config v3 applied: 2 files written, 5 values mapped[; ...]". */
void agent_config_note(const struct agentproto_config *,
    const struct agent_cfgstats *, char *, size_t);
/* The same as result parameters, JSON object text ("" when it does not
 * fit): config_version, config_files, config_values, config_env,
 * config_env_skipped[, config_skipped_keys]. */
void agent_config_params(const struct agentproto_config *,
    const struct agent_cfgstats *, char *, size_t);

/*
 * The last configuration task id got: <state>/config/<id>.json, 0600,
 * written atomically; cfg NULL removes it.  1, or 0 (logged).
 */
int agent_config_save(const char *, int64_t, const json_t *);
/* It again, decoded: 1 with *cfg, 0 when there is none, -1 (why). */
int agent_config_load(const char *, int64_t, struct agentproto_config *, char *,
    size_t);

#endif /* AGENT_CONFIG_H */
