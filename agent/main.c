/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * yard-agent: command line (--version, enroll, run, status).
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <curl/curl.h>

#include "agent.h"

#define ENROLL_TIMEOUT_MS 30000

static void usage(void) __attribute__((noreturn));
static int  cmd_enroll(int, char **);
static int  cmd_run(int, char **);
static int  cmd_status(int, char **);
static int  token_valid(const char *);

static const struct option enroll_opts[] = { { "server", required_argument,
						 NULL, 's' },
	{ "token", required_argument, NULL, 't' },
	{ "state-dir", required_argument, NULL, 'D' },
	{ "root", required_argument, NULL, 'r' },
	{ "policy", required_argument, NULL, 'p' }, { NULL, 0, NULL, 0 } };

static const struct option run_opts[] = { { "state-dir", required_argument,
					      NULL, 'D' },
	{ "root", required_argument, NULL, 'r' },
	{ "policy", required_argument, NULL, 'p' },
	{ "debug", no_argument, NULL, 'd' }, { NULL, 0, NULL, 0 } };

static const struct option status_opts[] = {
	{ "state-dir", required_argument, NULL, 'D' }, { NULL, 0, NULL, 0 }
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: yard-agent --version\n"
	    "       yard-agent enroll --server URL --token TOKEN "
	    "[--state-dir DIR] [--root PATH]... [--policy FILE]\n"
	    "       yard-agent run [-d] [--state-dir DIR] [--root PATH]... "
	    "[--policy FILE]\n"
	    "       yard-agent status [--state-dir DIR]\n"
	    "The state directory defaults to $%s or %s.\n"
	    "The node policy defaults to %s (when it exists).\n"
	    "enroll also reads the token from $YARD_AGENT_TOKEN.\n",
	    AGENT_STATE_ENV, AGENT_STATE_DIR, AGENT_POLICY_FILE);
	exit(2);
}

static int
token_valid(const char *t)
{
	size_t len;

	len = strlen(t);
	return (len >= 1 && len <= AGENTPROTO_TOKEN_MAX &&
	    strspn(t,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789-_") == len);
}

static int
add_root(struct agent_opts *o, const char *path)
{
	if (o->nroots == AGENTPROTO_DISKS_MAX) {
		fprintf(stderr, "yard-agent: at most %d --root options\n",
		    AGENTPROTO_DISKS_MAX);
		return (0);
	}
	if (path[0] != '/' || strlen(path) > AGENTPROTO_STR_MAX) {
		fprintf(stderr, "yard-agent: --root needs an absolute path\n");
		return (0);
	}
	o->roots[o->nroots++] = path;
	return (1);
}

static int
cmd_enroll(int argc, char **argv)
{
	struct agentproto_enroll_req  req;
	struct agentproto_enroll_resp resp;
	struct agentproto_error_reply er;
	struct agentproto_err	      err;
	struct agent_opts	      o;
	struct agent_node	      node;
	struct agent_sys	      sys;
	struct agent_xfer	      x;
	const char		     *dir = NULL, *server = NULL;
	char			     *token = NULL, url[AGENT_URL_MAX + 64];
	char			      perr[1024];
	char			     *body;
	size_t			      n;
	int			      ch, ret;

	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "", enroll_opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			server = optarg;
			break;
		case 't':
			token = optarg;
			break;
		case 'D':
			dir = optarg;
			break;
		case 'r':
			if (!add_root(&o, optarg))
				return (2);
			break;
		case 'p':
			o.policy_file = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	/* Enrolment reports the policy too: a bad one stops it here. */
	if (!agent_policy_load(&o.policy, o.policy_file, perr, sizeof(perr))) {
		fprintf(stderr, "yard-agent: %s\n", perr);
		return (1);
	}
	if (token == NULL)
		token = getenv("YARD_AGENT_TOKEN");
	if (server == NULL || token == NULL)
		usage();
	log_init(1, LOG_DAEMON);
	log_setverbose(0);

	memset(&node, 0, sizeof(node));
	memset(&req, 0, sizeof(req));
	if (!agent_url_valid(server) || strlen(server) >= sizeof(node.server)) {
		log_warnx("--server must be an http:// or https:// URL");
		return (2);
	}
	(void)snprintf(node.server, sizeof(node.server), "%s", server);
	while ((n = strlen(node.server)) > 0 && node.server[n - 1] == '/')
		node.server[n - 1] = '\0';
	if (!token_valid(token)) {
		log_warnx("--token must be 1 to %d base64url characters",
		    AGENTPROTO_TOKEN_MAX);
		return (2);
	}
	memcpy(req.token, token, strlen(token) + 1);
	/* Keep the token out of ps(1) from now on. */
	explicit_bzero(token, strlen(token));

	if (!agent_state_dir(dir, o.state_dir, sizeof(o.state_dir)) ||
	    !agent_state_dir_init(o.state_dir))
		return (1);
	(void)agent_sys_open(&sys, o.roots, o.nroots);
	sys.policy = &o.policy.p;
	(void)agent_sys_facts(&sys, &req.facts);
	agent_sys_close(&sys);
	body = agentproto_enroll_req_encode(&req);
	explicit_bzero(&req, sizeof(req));
	if (body == NULL) {
		log_warnx("cannot encode the enrolment request");
		return (1);
	}

	ret = 1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    !agent_xfer_init(&x)) {
		log_warnx("cannot set up libcurl");
		free(body);
		return (1);
	}
	(void)snprintf(url, sizeof(url), "%s/agent/v1/enroll", node.server);
	if (!agent_xfer_prepare(&x, url, NULL, body, ENROLL_TIMEOUT_MS)) {
		log_warnx("cannot prepare the request");
		goto cleanup;
	}
	agent_xfer_finish(&x, curl_easy_perform(x.easy));
	if (x.result != CURLE_OK) {
		log_warnx("%s: %s", url, agent_xfer_error(&x));
		goto cleanup;
	}
	if (x.status != 201 && x.status != 200) {
		if (agentproto_error_decode(x.body, x.len, &er, &err))
			log_warnx("enrolment refused: HTTP %ld %s%s%s",
			    x.status, er.error,
			    er.message[0] != '\0' ? ": " : "", er.message);
		else
			log_warnx("enrolment refused: HTTP %ld", x.status);
		if (x.status == 401)
			log_warnx("the token is unknown, used or expired: "
				  "create a new one on the nodes page");
		goto cleanup;
	}
	if (!agentproto_enroll_resp_decode(x.body, x.len, &resp, &err)) {
		log_warnx("bad enrolment answer: %s: %s", err.field, err.msg);
		goto cleanup;
	}
	node.node_id = resp.node_id;
	memcpy(node.secret, resp.secret, sizeof(node.secret));
	node.heartbeat_interval = resp.heartbeat_interval;
	node.poll_timeout = resp.poll_timeout;
	explicit_bzero(&resp, sizeof(resp));
	/* A new node starts with a new journal (command seqs restart). */
	if (!agent_journal_rotate(o.state_dir) ||
	    !agent_node_save(o.state_dir, &node)) {
		log_warnx("cannot write %s/%s", o.state_dir, AGENT_NODE_FILE);
		goto cleanup;
	}
	log_info("enrolled with %s as node %" PRId64 "; state in %s",
	    node.server, node.node_id, o.state_dir);
	printf("%" PRId64 "\n", node.node_id);
	ret = 0;
cleanup:
	if (x.body != NULL)
		explicit_bzero(x.body, x.cap);
	agent_xfer_cleanup(&x);
	curl_global_cleanup();
	agent_node_wipe(&node);
	return (ret);
}

static int
cmd_run(int argc, char **argv)
{
	static struct agent_opts o;
	const char		*dir = NULL;
	char			 err[1024];
	int			 ch;

	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "d", run_opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			o.debug = 1;
			break;
		case 'D':
			dir = optarg;
			break;
		case 'r':
			if (!add_root(&o, optarg))
				return (2);
			break;
		case 'p':
			o.policy_file = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (!agent_state_dir(dir, o.state_dir, sizeof(o.state_dir))) {
		fprintf(stderr, "yard-agent: state directory name too long\n");
		return (2);
	}
	/* A policy file given but missing or wrong: nothing runs. */
	if (!agent_policy_load(&o.policy, o.policy_file, err, sizeof(err))) {
		fprintf(stderr, "yard-agent: %s\n", err);
		return (1);
	}
	log_init(o.debug, LOG_DAEMON);
	return (agent_run(&o));
}

static int
cmd_status(int argc, char **argv)
{
	struct agent_node node;
	const char	 *dir = NULL;
	char		  sd[AGENT_PATH_MAX];
	int		  ch;

	while ((ch = getopt_long(argc, argv, "", status_opts, NULL)) != -1) {
		switch (ch) {
		case 'D':
			dir = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init(1, LOG_DAEMON);
	log_setverbose(0);
	if (!agent_state_dir(dir, sd, sizeof(sd)))
		return (2);
	printf("state dir: %s\n", sd);
	if (!agent_node_load(sd, &node, 1)) {
		printf("not enrolled (no valid %s/%s)\n", sd, AGENT_NODE_FILE);
		return (1);
	}
	printf("node id: %" PRId64 "\n", node.node_id);
	printf("server: %s\n", node.server);
	printf("heartbeat interval: %" PRId64 " s\n", node.heartbeat_interval);
	agent_node_wipe(&node);
	if (!agent_journal_print(sd, 10))
		return (1);
	return (0);
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("yard-agent %s (%s)\n", AGENT_VERSION, curl_version());
		return (0);
	}
	/* Sub-commands parse their own options, argv[1] acting as argv[0]. */
	if (strcmp(argv[1], "enroll") == 0)
		return (cmd_enroll(argc - 1, argv + 1));
	if (strcmp(argv[1], "run") == 0)
		return (cmd_run(argc - 1, argv + 1));
	if (strcmp(argv[1], "status") == 0)
		return (cmd_status(argc - 1, argv + 1));
	usage();
}
