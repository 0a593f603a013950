/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Reason codes: the closed list of what a result's "reason" and "after"
 * parameters may say in machine form (docs/agent-protocol.md, "Reason
 * codes"), and the server's check of them in a result's params.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agentproto/agentproto.h"

/*
 * Every reason code, sorted (bsearch), as docs/agent-protocol.md lists
 * them.  A new code is one line here, its pattern in agent/reason.c,
 * its row in the docs and its words in frontend-fragments/shared/i18n.js.
 */
/* clang-format off */
static const char *const reason_codes[] = {
	"account_groups",
	"account_unknown",
	"build_failed",
	"cannot_adopt",
	"cannot_chown",
	"cannot_copy",
	"cannot_create",
	"cannot_enter",
	"cannot_link",
	"cannot_measure_space",
	"cannot_move",
	"cannot_open",
	"cannot_read",
	"cannot_remove",
	"cannot_replace",
	"cannot_unpack",
	"cannot_write",
	"cgroup_failed",
	"config_chown",
	"config_dir_failed",
	"config_edit",
	"config_file_error",
	"config_keep_failed",
	"config_load_failed",
	"config_mapped_twice",
	"config_no_deploy_dir",
	"config_no_value",
	"config_not_regular",
	"config_outside",
	"config_parent_not_dir",
	"config_same_file",
	"config_too_deep",
	"config_too_large",
	"copy_differs",
	"deploy_dir_exists",
	"dir_not_empty",
	"download_failed",
	"download_short",
	"download_status",
	"download_too_large",
	"ended_before_healthy",
	"ended_in_window",
	"ended_within",
	"exec_failed",
	"file_error",
	"health_bad_answer",
	"health_connect",
	"health_empty_reply",
	"health_failed_in_window",
	"health_no_answer",
	"health_status",
	"health_timeout",
	"health_too_large",
	"journal_full",
	"journal_write_failed",
	"move_device",
	"move_inside",
	"move_mount_point",
	"move_record_failed",
	"move_refused",
	"move_same_dir",
	"not_a_directory",
	"not_enough_space",
	"not_healthy_within",
	"nothing_deployed",
	"out_of_memory",
	"package_entry",
	"package_refused",
	"package_sha256",
	"package_unreadable",
	"path_too_long",
	"payload_invalid",
	"payload_missing",
	"policy_account",
	"policy_cannot_switch",
	"policy_dir_changed",
	"policy_dir_unresolved",
	"policy_env_refused",
	"policy_logs_overlap",
	"policy_no_member",
	"policy_outside_roots",
	"policy_root_account",
	"policy_state_overlap",
	"policy_state_unresolved",
	"policy_tasks_limit",
	"refuse_remove",
	"release_already_live",
	"release_is_live",
	"release_marked_bad",
	"release_missing",
	"release_not_kept",
	"releases_elsewhere",
	"rollback_none",
	"shared_not_dir",
	"spawn_failed",
	"spec_path_invalid",
	"start_again_failed",
	"start_failed",
	"switch_back_failed",
	"task_gone",
	"tomcat_app_path",
	"too_many_tasks",
	"worker_lost",
};
/* clang-format on */

#define NREASON_CODES (sizeof(reason_codes) / sizeof(reason_codes[0]))

/* Parameters whose value is itself a reason code (a nested reason). */
static const char *const nested[] = { "account", "cause", "health" };

static int
cmp(const void *a, const void *b)
{
	return (strcmp((const char *)a, *(const char *const *)b));
}

int
agentproto_reason_known(const char *code)
{
	if (code == NULL)
		return (0);
	return (bsearch(code, reason_codes, NREASON_CODES,
		    sizeof(reason_codes[0]), cmp) != NULL);
}

const char *
agentproto_reason_at(size_t i)
{
	return (i < NREASON_CODES ? reason_codes[i] : NULL);
}

/* An errno's symbolic name: E and 1 to 15 capitals or digits. */
static int
errno_name_valid(const char *s)
{
	size_t i;

	if (s == NULL || s[0] != 'E' || s[1] == '\0')
		return (0);
	for (i = 1; s[i] != '\0'; i++) {
		if (i > 15 ||
		    !((s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9')))
			return (0);
	}
	return (1);
}

/*
 * Whether the members of params that begin with pfx ("reason_") form a
 * reason this server knows: <pfx>code, and every nested code, known;
 * <pfx>errno a symbolic name.
 */
static int
reason_ok(const json_t *params, const char *pfx)
{
	const json_t *v;
	char	      name[AGENTPROTO_CODE_MAX + 1];
	size_t	      i;

	(void)snprintf(name, sizeof(name), "%scode", pfx);
	if ((v = json_object_get(params, name)) == NULL)
		return (0);
	if (!json_is_string(v) ||
	    !agentproto_reason_known(json_string_value(v)))
		return (0);
	for (i = 0; i < sizeof(nested) / sizeof(nested[0]); i++) {
		(void)snprintf(name, sizeof(name), "%s%s", pfx, nested[i]);
		if ((v = json_object_get(params, name)) != NULL &&
		    (!json_is_string(v) ||
			!agentproto_reason_known(json_string_value(v))))
			return (0);
	}
	(void)snprintf(name, sizeof(name), "%serrno", pfx);
	if ((v = json_object_get(params, name)) != NULL &&
	    (!json_is_string(v) || !errno_name_valid(json_string_value(v))))
		return (0);
	return (1);
}

void
agentproto_reason_filter(json_t *params)
{
	static const char *const pfx[] = { "reason_", "after_" };
	const char		*k;
	json_t			*v;
	void			*tmp;
	size_t			 i;

	if (!json_is_object(params))
		return;
	for (i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++) {
		if (reason_ok(params, pfx[i]))
			continue;
		json_object_foreach_safe(params, tmp, k, v)
		{
			if (strncmp(k, pfx[i], strlen(pfx[i])) == 0)
				(void)json_object_del(params, k);
		}
	}
}
