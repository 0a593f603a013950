/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The state directory: node.json (server, node id, secret; 0600, written
 * atomically) and the command journal, an append-only, fsync'd log of
 * command ids that makes each command act at most once.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agent.h"

/*
 * Journal records, one a line:
 *	S <after>			after compaction: the high-water mark
 *	R <id> <seq> <received_ms>	journaled before acting (fsync)
 *	F <id> <seq> <result JSON>	the final result (fsync)
 *	A <id>				the server took the result (2xx)
 */

static int journal_append(struct agent_journal *, const char *, size_t, int);
static struct agent_jentry *journal_add(struct agent_journal *, const char *);
static int journal_apply(struct agent_journal *, char *, size_t);
static int journal_compact(struct agent_journal *);
static int journal_keep(const struct agent_journal *, const char *);
static int parse_int64(const char *, int64_t, int64_t, int64_t *, char **);
static int install_id_valid(const char *, size_t);

int
agent_state_dir(const char *opt, char *buf, size_t len)
{
	const char *d;
	int	    n;

	if ((d = opt) == NULL || *d == '\0')
		d = getenv(AGENT_STATE_ENV);
	if (d == NULL || *d == '\0')
		d = AGENT_STATE_DIR;
	n = snprintf(buf, len, "%s", d);
	if (n < 0 || (size_t)n >= len - 32)
		return (0);
	return (1);
}

/* Create the directory (0700) if needed; tighten a looser one. */
int
agent_state_dir_init(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("state dir %s", dir);
		return (0);
	}
	if (stat(dir, &st) == -1) {
		log_warn("state dir %s", dir);
		return (0);
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("state dir %s: not a directory", dir);
		return (0);
	}
	if ((st.st_mode & 077) != 0) {
		log_warnx("state dir %s: mode %o, setting 0700", dir,
		    (unsigned int)(st.st_mode & 0777));
		if (chmod(dir, 0700) == -1) {
			log_warn("chmod %s", dir);
			return (0);
		}
	}
	return (agent_install_id(dir, NULL, 0));
}

/* Exactly AGENT_INSTALL_ID_LEN lower-case hex digits, then "\n" or end. */
static int
install_id_valid(const char *s, size_t n)
{
	size_t i;

	if (n == AGENT_INSTALL_ID_LEN + 1 && s[AGENT_INSTALL_ID_LEN] == '\n')
		n--;
	if (n != AGENT_INSTALL_ID_LEN)
		return (0);
	for (i = 0; i < n; i++) {
		if ((s[i] < '0' || s[i] > '9') && (s[i] < 'a' || s[i] > 'f'))
			return (0);
	}
	return (1);
}

/*
 * The installation's id (<dir>/install-id, 0600): 16 lower-case hex
 * digits made once per state directory, so that the task marks and task
 * cgroups of two agents on one host never meet.  Creates the file when
 * it is missing.  Copies the id to buf when buf is not NULL (len at least
 * AGENT_INSTALL_ID_LEN + 1).  Returns 1, or 0 with why logged (a file
 * that is not an id is left alone).
 */
int
agent_install_id(const char *dir, char *buf, size_t len)
{
	unsigned char raw[AGENT_INSTALL_ID_LEN / 2];
	char	      path[AGENT_PATH_MAX], id[AGENT_INSTALL_ID_LEN + 2];
	ssize_t	      n;
	size_t	      i;
	int	      fd;

	if (buf != NULL && len < AGENT_INSTALL_ID_LEN + 1)
		return (0);
	(void)snprintf(path, sizeof(path), "%s/%s", dir, AGENT_INSTALL_ID_FILE);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, id, sizeof(id));
		(void)close(fd);
		if (n < 0 || !install_id_valid(id, (size_t)n)) {
			log_warnx("%s: not %d lower-case hex digits (remove it "
				  "to make a new one while no task runs)",
			    path, AGENT_INSTALL_ID_LEN);
			return (0);
		}
	} else if (errno != ENOENT) {
		log_warn("%s", path);
		return (0);
	} else {
		if (!agent_os_random(raw, sizeof(raw), 1)) {
			log_warn("random bytes");
			return (0);
		}
		for (i = 0; i < sizeof(raw); i++)
			(void)snprintf(id + i * 2, 3, "%02x", raw[i]);
		id[AGENT_INSTALL_ID_LEN] = '\n';
		if (!agent_write_atomic(dir, AGENT_INSTALL_ID_FILE, id,
			AGENT_INSTALL_ID_LEN + 1, 0600))
			return (0);
	}
	if (buf != NULL) {
		memcpy(buf, id, AGENT_INSTALL_ID_LEN);
		buf[AGENT_INSTALL_ID_LEN] = '\0';
	}
	return (1);
}

/* http:// or https://, printable ASCII without spaces. */
int
agent_url_valid(const char *u)
{
	size_t i, len;

	len = strlen(u);
	if (len > AGENT_URL_MAX)
		return (0);
	if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
		return (0);
	for (i = 0; i < len; i++) {
		if (u[i] <= 0x20 || u[i] >= 0x7f)
			return (0);
	}
	return (len > 8);
}

/* Read node.json; quiet: say nothing when it is absent. */
int
agent_node_load(const char *dir, struct agent_node *node, int quiet)
{
	json_error_t jerr;
	json_t	    *root;
	struct stat  st;
	const char  *server, *secret;
	char	     path[AGENT_PATH_MAX], buf[AGENT_NODE_FILE_MAX];
	json_int_t   id, hb, wait;
	ssize_t	     n;
	int	     fd, ret;

	memset(node, 0, sizeof(*node));
	(void)snprintf(path, sizeof(path), "%s/%s", dir, AGENT_NODE_FILE);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT || !quiet)
			log_warn("%s", path);
		return (0);
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
		log_warnx("%s: readable by others (mode %o)", path,
		    (unsigned int)(st.st_mode & 0777));
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		log_warnx("%s: unreadable or larger than %d bytes", path,
		    AGENT_NODE_FILE_MAX);
		return (0);
	}
	ret = 0;
	if ((root = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES,
		 &jerr)) == NULL) {
		log_warnx("%s: %s", path, jerr.text);
		goto cleanup;
	}
	hb = AGENTPROTO_INTERVAL_DEF;
	wait = AGENTPROTO_WAIT_DEF;
	if (json_unpack(root, "{s:s, s:I, s:s, s?I, s?I}", "server", &server,
		"node_id", &id, "secret", &secret, "heartbeat_interval", &hb,
		"poll_timeout", &wait) != 0 ||
	    !agent_url_valid(server) || id < 1 || id > AGENTPROTO_NODE_ID_MAX ||
	    !agentproto_secret_valid(secret) || hb < AGENTPROTO_INTERVAL_MIN ||
	    hb > AGENTPROTO_INTERVAL_MAX || wait < 1 ||
	    wait > AGENTPROTO_WAIT_MAX) {
		log_warnx("%s: invalid contents", path);
		goto cleanup;
	}
	(void)snprintf(node->server, sizeof(node->server), "%s", server);
	node->node_id = id;
	memcpy(node->secret, secret, sizeof(node->secret));
	node->heartbeat_interval = hb;
	node->poll_timeout = wait;
	ret = 1;
cleanup:
	if (root != NULL) {
		/* Wipe the secret inside jansson's copy before freeing. */
		if (json_is_string(json_object_get(root, "secret")))
			explicit_bzero((char *)(uintptr_t)json_string_value(
					   json_object_get(root, "secret")),
			    json_string_length(
				json_object_get(root, "secret")));
		json_decref(root);
	}
	explicit_bzero(buf, sizeof(buf));
	if (!ret)
		agent_node_wipe(node);
	return (ret);
}

int
agent_node_save(const char *dir, const struct agent_node *node)
{
	json_t *root;
	char   *s;
	int	ret;

	if ((root = json_pack("{s:s, s:I, s:s, s:I, s:I, s:I}", "server",
		 node->server, "node_id", (json_int_t)node->node_id, "secret",
		 node->secret, "heartbeat_interval",
		 (json_int_t)node->heartbeat_interval, "poll_timeout",
		 (json_int_t)node->poll_timeout, "enrolled_at",
		 (json_int_t)time(NULL))) == NULL)
		return (0);
	s = json_dumps(root, JSON_INDENT(1));
	json_decref(root);
	if (s == NULL)
		return (0);
	ret = agent_write_atomic(dir, AGENT_NODE_FILE, s, strlen(s), 0600);
	explicit_bzero(s, strlen(s));
	free(s);
	return (ret);
}

void
agent_node_wipe(struct agent_node *node)
{
	explicit_bzero(node, sizeof(*node));
}

static int
parse_int64(const char *s, int64_t min, int64_t max, int64_t *out, char **end)
{
	long long v;
	char	 *e;

	errno = 0;
	if (*s < '0' || *s > '9')
		return (0);
	v = strtoll(s, &e, 10);
	if (errno != 0 || v < min || v > max)
		return (0);
	*out = v;
	if (end != NULL)
		*end = e;
	return (1);
}

static struct agent_jentry *
journal_add(struct agent_journal *j, const char *id)
{
	struct agent_jentry *e;
	size_t		     ncap;

	if ((e = agent_journal_find(j, id)) != NULL)
		return (e);
	if (j->n == j->cap) {
		ncap = j->cap == 0 ? 64 : j->cap * 2;
		if ((e = reallocarray(j->v, ncap, sizeof(*e))) == NULL)
			return (NULL);
		j->v = e;
		j->cap = ncap;
	}
	e = &j->v[j->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->id, id, AGENTPROTO_UUID_LEN);
	e->id[AGENTPROTO_UUID_LEN] = '\0';
	return (e);
}

/* Apply one line (without its newline) to the in-memory index. */
static int
journal_apply(struct agent_journal *j, char *line, size_t len)
{
	struct agent_jentry *e;
	char		     id[AGENTPROTO_UUID_LEN + 1], *p;
	int64_t		     seq, ms;

	if (len < 2 || line[1] != ' ')
		return (0);
	if (line[0] == 'S')
		return (parse_int64(line + 2, 0, INT64_MAX, &j->after, NULL));
	if (len < 2 + AGENTPROTO_UUID_LEN)
		return (0);
	memcpy(id, line + 2, AGENTPROTO_UUID_LEN);
	id[AGENTPROTO_UUID_LEN] = '\0';
	if (!agentproto_uuid_valid(id))
		return (0);
	p = line + 2 + AGENTPROTO_UUID_LEN;
	switch (line[0]) {
	case 'R':
		if (*p++ != ' ' || !parse_int64(p, 1, INT64_MAX, &seq, &p) ||
		    *p++ != ' ' || !parse_int64(p, 0, INT64_MAX, &ms, NULL))
			return (0);
		if ((e = journal_add(j, id)) == NULL)
			return (0);
		e->seq = seq;
		e->received_at = ms;
		e->flags |= AGENT_J_RECEIVED;
		return (1);
	case 'F':
		if (*p++ != ' ' || !parse_int64(p, 1, INT64_MAX, &seq, &p) ||
		    *p != ' ')
			return (0);
		if ((e = journal_add(j, id)) == NULL)
			return (0);
		e->seq = seq;
		e->flags |= AGENT_J_RECEIVED | AGENT_J_FINISHED;
		if (seq > j->after)
			j->after = seq;
		return (1);
	case 'A':
		if (*p != '\0' || (e = agent_journal_find(j, id)) == NULL)
			return (0);
		e->flags |= AGENT_J_ACKED;
		return (1);
	}
	return (0);
}

/*
 * Open (creating if ro is 0) dir/journal and index it.  A torn last line
 * (a crash mid-write) is ignored and ended so that appends stay aligned.
 */
int
agent_journal_open(struct agent_journal *j, const char *dir, int ro)
{
	FILE   *f;
	char   *line;
	size_t	lcap, bad;
	ssize_t n;
	int	fd, torn;

	memset(j, 0, sizeof(*j));
	j->fd = -1;
	(void)snprintf(j->dir, sizeof(j->dir), "%s", dir);
	(void)snprintf(j->path, sizeof(j->path), "%s/%s", dir,
	    AGENT_JOURNAL_FILE);
	fd = open(j->path,
	    (ro ? O_RDONLY : O_RDWR | O_CREAT | O_APPEND) | O_CLOEXEC, 0600);
	if (fd == -1) {
		if (!ro || errno != ENOENT)
			log_warn("%s", j->path);
		return (ro && errno == ENOENT);
	}
	if ((f = fdopen(dup(fd), "r")) == NULL) {
		log_warn("%s", j->path);
		close(fd);
		return (0);
	}
	line = NULL;
	lcap = 0;
	bad = 0;
	torn = 0;
	while ((n = getline(&line, &lcap, f)) != -1) {
		torn = line[n - 1] != '\n';
		if (!torn)
			line[--n] = '\0';
		j->records++;
		if ((size_t)n > AGENT_JOURNAL_LINE_MAX || torn ||
		    !journal_apply(j, line, (size_t)n))
			bad++;
		/* Do not keep a large line buffer around. */
		if (lcap > 4096) {
			free(line);
			line = NULL;
			lcap = 0;
		}
	}
	free(line);
	fclose(f);
	if (bad > 0)
		log_warnx("%s: ignored %zu unreadable records", j->path, bad);
	j->fd = fd;
	if (!ro && torn && journal_append(j, "\n", 1, 1) == 0) {
		agent_journal_close(j);
		return (0);
	}
	return (1);
}

void
agent_journal_close(struct agent_journal *j)
{
	if (j->fd != -1)
		close(j->fd);
	free(j->v);
	j->v = NULL;
	j->n = j->cap = 0;
	j->fd = -1;
}

/* Move the journal aside (journal.prev): a new enrolment starts afresh. */
int
agent_journal_rotate(const char *dir)
{
	char from[AGENT_PATH_MAX], to[AGENT_PATH_MAX];

	(void)snprintf(from, sizeof(from), "%s/%s", dir, AGENT_JOURNAL_FILE);
	(void)snprintf(to, sizeof(to), "%s/%s.prev", dir, AGENT_JOURNAL_FILE);
	if (rename(from, to) == -1 && errno != ENOENT) {
		log_warn("rename %s", from);
		return (0);
	}
	return (1);
}

struct agent_jentry *
agent_journal_find(struct agent_journal *j, const char *id)
{
	size_t i;

	/* Newest first: a replay is usually of a recent command. */
	for (i = j->n; i > 0; i--) {
		if (strcmp(j->v[i - 1].id, id) == 0)
			return (&j->v[i - 1]);
	}
	return (NULL);
}

static int
journal_append(struct agent_journal *j, const char *rec, size_t len, int sync)
{
	size_t	off;
	ssize_t n;

	if (j->fd == -1)
		return (0);
	for (off = 0; off < len; off += (size_t)n) {
		if ((n = write(j->fd, rec + off, len - off)) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			log_warn("journal write");
			return (0);
		}
	}
	if (sync && fdatasync(j->fd) == -1) {
		log_warn("journal fsync");
		return (0);
	}
	j->records++;
	return (1);
}

int
agent_journal_received(struct agent_journal *j, const char *id, int64_t seq,
    int64_t ms)
{
	struct agent_jentry *e;
	char		     rec[128];
	int		     n;

	n = snprintf(rec, sizeof(rec), "R %s %" PRId64 " %" PRId64 "\n", id,
	    seq, ms);
	if (n < 0 || (size_t)n >= sizeof(rec) ||
	    !journal_append(j, rec, (size_t)n, 1))
		return (0);
	if ((e = journal_add(j, id)) == NULL)
		return (0);
	e->seq = seq;
	e->received_at = ms;
	e->flags |= AGENT_J_RECEIVED;
	return (1);
}

/* Record the final result (compact JSON, one line); moves "after". */
int
agent_journal_finished(struct agent_journal *j, const char *id, int64_t seq,
    const char *result)
{
	struct agent_jentry *e;
	char		    *rec;
	size_t		     len;
	int		     n, ok;

	len = strlen(result) + 128;
	if (strchr(result, '\n') != NULL || (rec = malloc(len)) == NULL)
		return (0);
	n = snprintf(rec, len, "F %s %" PRId64 " %s\n", id, seq, result);
	ok = n > 0 && (size_t)n < len && journal_append(j, rec, (size_t)n, 1);
	free(rec);
	if (!ok || (e = journal_add(j, id)) == NULL)
		return (0);
	e->seq = seq;
	e->flags |= AGENT_J_RECEIVED | AGENT_J_FINISHED;
	if (seq > j->after)
		j->after = seq;
	return (1);
}

/* The server took the result.  Not fsync'd: losing it only re-sends. */
int
agent_journal_acked(struct agent_journal *j, const char *id)
{
	struct agent_jentry *e;
	char		     rec[64];
	int		     n;

	if ((e = agent_journal_find(j, id)) == NULL)
		return (0);
	n = snprintf(rec, sizeof(rec), "A %s\n", id);
	if (!journal_append(j, rec, (size_t)n, 0))
		return (0);
	e->flags |= AGENT_J_ACKED;
	if (j->records > 4 * AGENT_JOURNAL_KEEP)
		(void)journal_compact(j);
	return (1);
}

/* The recorded result of id, read back from the file (malloc'd). */
char *
agent_journal_result(struct agent_journal *j, const char *id)
{
	FILE   *f;
	char   *line, *found;
	size_t	lcap;
	ssize_t n;

	if ((f = fopen(j->path, "re")) == NULL)
		return (NULL);
	line = NULL;
	lcap = 0;
	found = NULL;
	while ((n = getline(&line, &lcap, f)) != -1) {
		if (n < 2 + AGENTPROTO_UUID_LEN + 3 || line[0] != 'F' ||
		    (size_t)n > AGENT_JOURNAL_LINE_MAX ||
		    strncmp(line + 2, id, AGENTPROTO_UUID_LEN) != 0 ||
		    line[n - 1] != '\n')
			continue;
		line[n - 1] = '\0';
		/* "F <id> <seq> <json>": skip to the JSON. */
		free(found);
		found = strchr(line + 2 + AGENTPROTO_UUID_LEN + 1, ' ');
		found = found != NULL ? strdup(found + 1) : NULL;
	}
	free(line);
	fclose(f);
	return (found);
}

/* Keep unacknowledged entries and the newest AGENT_JOURNAL_KEEP. */
static int
journal_keep(const struct agent_journal *j, const char *id)
{
	size_t i;

	for (i = j->n; i > 0; i--) {
		if (strcmp(j->v[i - 1].id, id) == 0)
			return (!(j->v[i - 1].flags & AGENT_J_ACKED) ||
			    j->n - (i - 1) <= AGENT_JOURNAL_KEEP);
	}
	return (0);
}

/* Rewrite the journal without old acknowledged entries. */
static int
journal_compact(struct agent_journal *j)
{
	struct agent_journal nj;
	FILE		    *in, *out;
	char	tmp[AGENT_PATH_MAX + 32], id[AGENTPROTO_UUID_LEN + 1];
	char   *line;
	size_t	lcap;
	ssize_t n;
	int	fd, ret;

	ret = 0;
	in = out = NULL;
	line = NULL;
	lcap = 0;
	(void)snprintf(tmp, sizeof(tmp), "%s/.journal.XXXXXX", j->dir);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		log_warn("journal compaction: %s", tmp);
		return (0);
	}
	if ((out = fdopen(fd, "w")) == NULL) {
		close(fd);
		goto cleanup;
	}
	if ((in = fopen(j->path, "re")) == NULL)
		goto cleanup;
	fprintf(out, "S %" PRId64 "\n", j->after);
	while ((n = getline(&line, &lcap, in)) != -1) {
		if (n < 2 + AGENTPROTO_UUID_LEN || line[n - 1] != '\n' ||
		    line[0] == 'S')
			continue;
		memcpy(id, line + 2, AGENTPROTO_UUID_LEN);
		id[AGENTPROTO_UUID_LEN] = '\0';
		if (journal_keep(j, id))
			fwrite(line, 1, (size_t)n, out);
	}
	if (ferror(in) || fflush(out) != 0 || ferror(out) ||
	    fsync(fileno(out)) == -1)
		goto cleanup;
	fclose(out);
	out = NULL;
	if (rename(tmp, j->path) == -1)
		goto cleanup;
	(void)agent_os_dir_sync(j->dir);
	ret = 1;
cleanup:
	free(line);
	if (in != NULL)
		fclose(in);
	if (out != NULL)
		fclose(out);
	if (!ret) {
		log_warn("journal compaction");
		(void)unlink(tmp);
		return (0);
	}
	/* Re-open and re-index the compacted file. */
	if (!agent_journal_open(&nj, j->dir, 0)) {
		log_warnx("journal: cannot re-open after compaction");
		return (0);
	}
	agent_journal_close(j);
	*j = nj;
	log_debug("journal compacted: %zu entries, after %" PRId64, j->n,
	    j->after);
	return (1);
}

/* A journal record shown by yard-agent status: its first 200 bytes. */
#define JOURNAL_PRINT_LINE 201

/* yard-agent status: the last n records, oldest first, no secrets. */
int
agent_journal_print(const char *dir, size_t last)
{
	struct agent_journal j;
	FILE		    *f;
	char		    *line, (*ring)[JOURNAL_PRINT_LINE], *p;
	size_t		     lcap, i, count, pending;
	ssize_t		     n;
	time_t		     t;
	int64_t		     seq, ms;
	char		     when[32], state[16];
	struct tm	     tm;

	if (!agent_journal_open(&j, dir, 1))
		return (0);
	pending = 0;
	for (i = 0; i < j.n; i++) {
		if (!(j.v[i].flags & AGENT_J_ACKED))
			pending++;
	}
	printf("last command seq: %" PRId64 "\n", j.after);
	printf("journaled commands: %zu (%zu results not yet acknowledged)\n",
	    j.n, pending);
	agent_journal_close(&j);
	if (last == 0)
		return (1);
	if ((ring = calloc(last, sizeof(*ring))) == NULL)
		return (0);
	count = 0;
	if ((f = fopen(j.path, "re")) != NULL) {
		line = NULL;
		lcap = 0;
		while ((n = getline(&line, &lcap, f)) != -1) {
			if (line[0] == 'S')
				continue;
			/* Truncated to JOURNAL_PRINT_LINE - 1 bytes. */
			(void)snprintf(ring[count % last], sizeof(ring[0]),
			    "%s", line);
			count++;
		}
		free(line);
		fclose(f);
	}
	printf("last journal entries:\n");
	if (count == 0)
		printf("  (none)\n");
	for (i = count > last ? count - last : 0; i < count; i++) {
		p = ring[i % last];
		p[strcspn(p, "\n")] = '\0';
		if (p[0] == 'R' &&
		    sscanf(p + 2 + AGENTPROTO_UUID_LEN, " %" SCNd64 " %" SCNd64,
			&seq, &ms) == 2) {
			t = (time_t)(ms / 1000);
			gmtime_r(&t, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			printf("  %s received %.36s seq %" PRId64 "\n", when,
			    p + 2, seq);
		} else if (p[0] == 'F' &&
		    sscanf(p + 2 + AGENTPROTO_UUID_LEN, " %" SCNd64, &seq) ==
			1) {
			state[0] = '\0';
			if (strstr(p, "\"state\":\"succeeded\"") != NULL)
				snprintf(state, sizeof(state), "succeeded");
			else if (strstr(p, "\"state\":\"failed\"") != NULL)
				snprintf(state, sizeof(state), "failed");
			printf("  finished %.36s seq %" PRId64 " %s\n", p + 2,
			    seq, state);
		} else if (p[0] == 'A')
			printf("  result acknowledged %.36s\n", p + 2);
	}
	free(ring);
	return (1);
}

/*
 * A finished command's result: out (taken), code, params (taken).  A
 * longer string parameter is cut (at a character's start) to what the
 * protocol allows, so that a long reason never costs the result.
 */
static char *
result_body(int ok, int64_t received, const char *code, json_t *params,
    char *out)
{
	struct agentproto_result r;
	const char		*k, *v;
	json_t			*j;
	char			*body;
	size_t			 n;

	/* "reason" and "after" in machine form too, from the whole words. */
	agent_reason_params(params, code);
	json_object_foreach(params, k, j)
	{
		if (!json_is_string(j) ||
		    json_string_length(j) <= AGENTPROTO_PARAM_STR_MAX)
			continue;
		v = json_string_value(j);
		n = AGENTPROTO_PARAM_STR_MAX;
		while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
			n--;
		(void)json_string_setn(j, v, n);
	}
	memset(&r, 0, sizeof(r));
	r.state = ok ? AGENTPROTO_STATE_SUCCEEDED : AGENTPROTO_STATE_FAILED;
	r.has_exit_status = 1;
	r.exit_status = ok ? 0 : 1;
	r.output = out;
	r.received_at = received;
	r.finished_at = agent_now_ms();
	r.has_finished_at = 1;
	(void)snprintf(r.code, sizeof(r.code), "%s", code != NULL ? code : "");
	r.params = params;
	body = agentproto_result_encode(&r);
	agentproto_result_cleanup(&r);
	return (body);
}

/* A finished command's result (agent.h); shared by every command's run. */
char *
agent_result(int ok, int64_t received, const char *code, json_t *params,
    const char *fmt, ...)
{
	va_list ap;
	char   *out = NULL;

	va_start(ap, fmt);
	if (vasprintf(&out, fmt, ap) == -1)
		out = NULL;
	va_end(ap);
	return (result_body(ok, received, code, params, out));
}

/*
 * A finished command's result with one more member: name, value (a new
 * reference, taken even on failure); NULL when it cannot be encoded.
 */
char *
agent_result_with(int ok, int64_t received, const char *name, json_t *value,
    const char *code, json_t *params, const char *fmt, ...)
{
	va_list ap;
	json_t *o;
	char   *out = NULL, *body;

	va_start(ap, fmt);
	if (vasprintf(&out, fmt, ap) == -1)
		out = NULL;
	va_end(ap);
	body = result_body(ok, received, code, params, out);
	if (body == NULL || value == NULL) {
		json_decref(value);
		return (body);
	}
	o = json_loads(body, 0, NULL);
	free(body);
	if (o == NULL) {
		json_decref(value);
		return (NULL);
	}
	if (json_object_set_new(o, name, value) == -1) {
		json_decref(o);
		return (NULL);
	}
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return (body);
}

/*
 * Result parameters: obj (taken; a new object when NULL) with the
 * members of the JSON object text more merged in (a slot's saved stop
 * or configuration, "" for none).  NULL only when out of memory.
 */
json_t *
agent_params_merge(json_t *obj, const char *more)
{
	json_t *m;

	if (obj == NULL && (obj = json_object()) == NULL)
		return (NULL);
	if (more == NULL || more[0] == '\0')
		return (obj);
	if ((m = json_loads(more, 0, NULL)) != NULL) {
		(void)json_object_update_missing(obj, m);
		json_decref(m);
	}
	return (obj);
}
