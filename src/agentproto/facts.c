/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Node facts (enrolment and heartbeat) and the node policy they carry.
 */

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "agentproto/agentproto.h"
#include "agentproto/internal.h"

static int     policy_decode(const json_t *, const char *,
	struct agentproto_policy *, struct agentproto_err *);
static json_t *policy_to_json(const struct agentproto_policy *);

int
agentproto_facts_decode(const json_t *o, const char *pfx,
    struct agentproto_facts *f, struct agentproto_err *err)
{
	const json_t *disks, *d;
	char	      dp[AGENTPROTO_PFX_MAX];
	size_t	      i;

	if (!json_is_object(o)) {
		agentproto_err_set(err, pfx, "", "must be an object");
		return (0);
	}
	if (!agentproto_get_str(o, pfx, "hostname", 1, 0, AGENTPROTO_STR_MAX,
		f->hostname, sizeof(f->hostname), err) ||
	    !agentproto_get_str(o, pfx, "os", 1, 0, AGENTPROTO_STR_MAX, f->os,
		sizeof(f->os), err) ||
	    !agentproto_get_str(o, pfx, "kernel", 1, 0, AGENTPROTO_STR_MAX,
		f->kernel, sizeof(f->kernel), err) ||
	    !agentproto_get_str(o, pfx, "arch", 1, 0, AGENTPROTO_STR_MAX,
		f->arch, sizeof(f->arch), err) ||
	    !agentproto_get_int(o, pfx, "cpus", 1, 0, INT64_MAX, &f->cpus, NULL,
		err) ||
	    !agentproto_get_int(o, pfx, "mem_total", 1, 0, INT64_MAX,
		&f->mem_total, NULL, err) ||
	    !agentproto_get_str(o, pfx, "boot_id", 1, 0, AGENTPROTO_BOOT_ID_MAX,
		f->boot_id, sizeof(f->boot_id), err) ||
	    !agentproto_get_int(o, pfx, "uptime", 1, 0, INT64_MAX, &f->uptime,
		NULL, err) ||
	    !agentproto_get_str(o, pfx, "agent_version", 1, 0,
		AGENTPROTO_STR_MAX, f->agent_version, sizeof(f->agent_version),
		err))
		return (0);

	/* Older agents send no os_family: they all ran on Linux. */
	(void)snprintf(f->os_family, sizeof(f->os_family), "linux");
	if (!agentproto_get_str(o, pfx, "os_family", 0, 1,
		AGENTPROTO_OS_FAMILY_MAX, f->os_family, sizeof(f->os_family),
		err))
		return (0);
	if (!agentproto_os_family_valid(f->os_family)) {
		agentproto_err_set(err, pfx, "os_family",
		    "must be linux or windows");
		return (0);
	}
	if ((d = agentproto_member(o, pfx, "policy", 0, err)) != NULL) {
		agentproto_path_join(dp, sizeof(dp), pfx, "policy");
		if (!policy_decode(d, dp, &f->policy, err))
			return (0);
		f->has_policy = 1;
	}
	if ((disks = agentproto_member(o, pfx, "disks", 0, err)) == NULL)
		return (1);
	if (!json_is_array(disks)) {
		agentproto_err_set(err, pfx, "disks", "must be an array");
		return (0);
	}
	if (json_array_size(disks) > AGENTPROTO_DISKS_MAX) {
		agentproto_err_set(err, pfx, "disks", "at most %d disks",
		    AGENTPROTO_DISKS_MAX);
		return (0);
	}
	for (i = 0; i < json_array_size(disks); i++) {
		(void)snprintf(dp, sizeof(dp), "%s%sdisks[%zu]", pfx,
		    pfx[0] != '\0' ? "." : "", i);
		d = json_array_get(disks, i);
		if (!json_is_object(d)) {
			agentproto_err_set(err, dp, "", "must be an object");
			return (0);
		}
		if (!agentproto_get_str(d, dp, "path", 1, 1, AGENTPROTO_STR_MAX,
			f->disks[i].path, sizeof(f->disks[i].path), err) ||
		    !agentproto_get_int(d, dp, "total", 1, 0, INT64_MAX,
			&f->disks[i].total, NULL, err) ||
		    !agentproto_get_int(d, dp, "free", 1, 0, INT64_MAX,
			&f->disks[i].free, NULL, err))
			return (0);
		f->ndisks++;
	}
	return (1);
}

/*
 * facts.policy: {"roots":[{"path","user"}...],"user","kinds":{"<kind>":
 * {"user"}},"refuse_env":["LD_*"...],"limits":{"tasks","log_bytes"}}.
 * The agent validated it against the node's accounts; here only shapes
 * and sizes are checked (it is stored and shown).
 */
static int
policy_decode(const json_t *o, const char *pfx, struct agentproto_policy *p,
    struct agentproto_err *err)
{
	const json_t *a, *v, *lim;
	const char   *k;
	char	      ip[AGENTPROTO_PFX_MAX * 2];
	size_t	      i;

	if (!json_is_object(o)) {
		agentproto_err_set(err, pfx, "", "must be an object");
		return (0);
	}
	if ((a = agentproto_member(o, pfx, "roots", 1, err)) == NULL)
		return (0);
	if (!json_is_array(a) ||
	    json_array_size(a) > AGENTPROTO_POLICY_ROOTS_MAX) {
		agentproto_err_set(err, pfx, "roots",
		    "must be an array of at most %d roots",
		    AGENTPROTO_POLICY_ROOTS_MAX);
		return (0);
	}
	json_array_foreach(a, i, v)
	{
		(void)snprintf(ip, sizeof(ip), "%s.roots[%zu]", pfx, i);
		if (!json_is_object(v)) {
			agentproto_err_set(err, ip, "", "must be an object");
			return (0);
		}
		if (!agentproto_get_str(v, ip, "path", 1, 1, AGENTPROTO_STR_MAX,
			p->roots[i].path, sizeof(p->roots[i].path), err) ||
		    !agentproto_get_str(v, ip, "user", 1, 1,
			AGENTPROTO_USER_MAX, p->roots[i].user,
			sizeof(p->roots[i].user), err))
			return (0);
		p->nroots++;
	}
	if (!agentproto_get_str(o, pfx, "user", 1, 1, AGENTPROTO_USER_MAX,
		p->user, sizeof(p->user), err))
		return (0);
	if ((a = agentproto_member(o, pfx, "kinds", 1, err)) == NULL)
		return (0);
	if (!json_is_object(a) ||
	    json_object_size(a) > AGENTPROTO_POLICY_KINDS_MAX) {
		agentproto_err_set(err, pfx, "kinds",
		    "must be an object of at most %d kinds",
		    AGENTPROTO_POLICY_KINDS_MAX);
		return (0);
	}
	agentproto_path_join(ip, sizeof(ip), pfx, "kinds");
	json_object_foreach((json_t *)(uintptr_t)a, k, v)
	{
		if (strlen(k) > AGENTPROTO_KIND_MAX ||
		    !agentproto_type_valid(k)) {
			agentproto_err_set(err, ip, "",
			    "kind names are at most %d "
			    "lower-case letters, digits, '_' "
			    "or '-'",
			    AGENTPROTO_KIND_MAX);
			return (0);
		}
		if (!json_is_object(v)) {
			agentproto_err_set(err, ip, k, "must be an object");
			return (0);
		}
		memcpy(p->kinds[p->nkinds].kind, k, strlen(k) + 1);
		(void)snprintf(ip, sizeof(ip), "%s.kinds.%s", pfx, k);
		if (!agentproto_get_str(v, ip, "user", 1, 1,
			AGENTPROTO_USER_MAX, p->kinds[p->nkinds].user,
			sizeof(p->kinds[p->nkinds].user), err))
			return (0);
		agentproto_path_join(ip, sizeof(ip), pfx, "kinds");
		p->nkinds++;
	}
	if ((a = agentproto_member(o, pfx, "refuse_env", 1, err)) == NULL)
		return (0);
	if (!json_is_array(a) ||
	    json_array_size(a) > AGENTPROTO_POLICY_ENV_MAX) {
		agentproto_err_set(err, pfx, "refuse_env",
		    "must be an array of at most %d patterns",
		    AGENTPROTO_POLICY_ENV_MAX);
		return (0);
	}
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v) || json_string_length(v) < 1 ||
		    json_string_length(v) > AGENTPROTO_PATTERN_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			(void)snprintf(ip, sizeof(ip), "refuse_env[%zu]", i);
			agentproto_err_set(err, pfx, ip,
			    "must be a string of 1 to %d bytes",
			    AGENTPROTO_PATTERN_MAX);
			return (0);
		}
		memcpy(p->refuse_env[i], json_string_value(v),
		    json_string_length(v) + 1);
		p->nrefuse_env++;
	}
	if ((lim = agentproto_member(o, pfx, "limits", 1, err)) == NULL)
		return (0);
	agentproto_path_join(ip, sizeof(ip), pfx, "limits");
	if (!json_is_object(lim)) {
		agentproto_err_set(err, ip, "", "must be an object");
		return (0);
	}
	return (agentproto_get_int(lim, ip, "tasks", 1, 0, INT64_MAX, &p->tasks,
		    NULL, err) &&
	    agentproto_get_int(lim, ip, "log_bytes", 1, 0, INT64_MAX,
		&p->log_bytes, NULL, err));
}

int
agentproto_facts_from_json(const json_t *o, struct agentproto_facts *f,
    struct agentproto_err *err)
{
	memset(f, 0, sizeof(*f));
	if (!agentproto_facts_decode(o, "facts", f, err)) {
		memset(f, 0, sizeof(*f));
		return (0);
	}
	return (1);
}

json_t *
agentproto_facts_to_json(const struct agentproto_facts *f)
{
	json_t *o, *disks, *d;
	size_t	i;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!agentproto_set(o, "hostname", json_string(f->hostname)) ||
	    !agentproto_set(o, "os", json_string(f->os)) ||
	    !agentproto_set(o, "kernel", json_string(f->kernel)) ||
	    !agentproto_set(o, "arch", json_string(f->arch)) ||
	    !agentproto_set(o, "cpus", json_integer(f->cpus)) ||
	    !agentproto_set(o, "mem_total", json_integer(f->mem_total)) ||
	    !agentproto_set(o, "boot_id", json_string(f->boot_id)) ||
	    !agentproto_set(o, "uptime", json_integer(f->uptime)) ||
	    !agentproto_set(o, "agent_version",
		json_string(f->agent_version)) ||
	    !agentproto_set(o, "disks", disks = json_array()))
		goto fail;
	for (i = 0; i < f->ndisks && i < AGENTPROTO_DISKS_MAX; i++) {
		if ((d = json_object()) == NULL)
			goto fail;
		if (json_array_append_new(disks, d) != 0 ||
		    !agentproto_set(d, "path", json_string(f->disks[i].path)) ||
		    !agentproto_set(d, "total",
			json_integer(f->disks[i].total)) ||
		    !agentproto_set(d, "free", json_integer(f->disks[i].free)))
			goto fail;
	}
	if (f->os_family[0] != '\0' &&
	    !agentproto_set(o, "os_family", json_string(f->os_family)))
		goto fail;
	if (f->has_policy &&
	    !agentproto_set(o, "policy", policy_to_json(&f->policy)))
		goto fail;
	return (o);
fail:
	json_decref(o);
	return (NULL);
}

/* facts.policy (see policy_decode()) as a new object. */
static json_t *
policy_to_json(const struct agentproto_policy *p)
{
	json_t *o, *a, *k, *r;
	size_t	i;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (!agentproto_set(o, "roots", a = json_array()))
		goto fail;
	for (i = 0; i < p->nroots && i < AGENTPROTO_POLICY_ROOTS_MAX; i++) {
		if ((r = json_object()) == NULL ||
		    json_array_append_new(a, r) != 0 ||
		    !agentproto_set(r, "path", json_string(p->roots[i].path)) ||
		    !agentproto_set(r, "user", json_string(p->roots[i].user)))
			goto fail;
	}
	if (!agentproto_set(o, "user", json_string(p->user)) ||
	    !agentproto_set(o, "kinds", k = json_object()))
		goto fail;
	for (i = 0; i < p->nkinds && i < AGENTPROTO_POLICY_KINDS_MAX; i++) {
		if ((r = json_object()) == NULL ||
		    json_object_set_new(k, p->kinds[i].kind, r) != 0 ||
		    !agentproto_set(r, "user", json_string(p->kinds[i].user)))
			goto fail;
	}
	if (!agentproto_set(o, "refuse_env", a = json_array()))
		goto fail;
	for (i = 0; i < p->nrefuse_env && i < AGENTPROTO_POLICY_ENV_MAX; i++) {
		if (json_array_append_new(a, json_string(p->refuse_env[i])) !=
		    0)
			goto fail;
	}
	if (!agentproto_set(o, "limits", r = json_object()) ||
	    !agentproto_set(r, "tasks", json_integer(p->tasks)) ||
	    !agentproto_set(r, "log_bytes", json_integer(p->log_bytes)))
		goto fail;
	return (o);
fail:
	json_decref(o);
	return (NULL);
}

int
agentproto_os_family_valid(const char *s)
{
	return (s != NULL &&
	    (strcmp(s, "linux") == 0 || strcmp(s, "windows") == 0));
}
