-- Task logs read on request (docs/agent-protocol.md, "Logs") and task
-- metric history.
--
-- A log request is handed to the node's agent with its commands (once:
-- delivered_at) and answered with chunks.  A follow stays wanted while a
-- browser keeps polling it (wanted_until); the presence sweep deletes
-- requests a minute after nobody wants them, with their chunks.

CREATE TABLE log_requests (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	node_id		bigint NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
	task_id		bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	user_id		bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	mode		text NOT NULL CHECK (mode IN ('tail', 'follow', 'download')),
	file		text NOT NULL CHECK (length(file) BETWEEN 1 AND 1024),
	lines		integer NOT NULL CHECK (lines BETWEEN 1 AND 5000),
	q		text NOT NULL DEFAULT '' CHECK (length(q) <= 200),
	created_at	timestamptz NOT NULL DEFAULT now(),
	delivered_at	timestamptz,
	answered_at	timestamptz, -- the agent's last chunk or keep-alive
	wanted_until	timestamptz NOT NULL,
	done		boolean NOT NULL DEFAULT false,
	error		text,
	files		jsonb,
	size		bigint,
	matches		bigint,
	truncated	boolean NOT NULL DEFAULT false
);
-- The long-poll looks for unanswered requests of its node.
CREATE INDEX log_requests_pending ON log_requests (node_id)
	WHERE answered_at IS NULL;
CREATE INDEX log_requests_wanted ON log_requests (wanted_until);

CREATE TABLE log_chunks (
	request_id	uuid NOT NULL REFERENCES log_requests(id) ON DELETE CASCADE,
	seq		integer NOT NULL,
	data		text NOT NULL,
	PRIMARY KEY (request_id, seq)
);

-- The last lines of a task's log when it failed, as its agent reported.
ALTER TABLE tasks ADD COLUMN last_lines text;

CREATE TABLE task_metrics (
	task_id		bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	at		timestamptz NOT NULL,
	cpu		real,
	rss		bigint,
	threads		integer,
	fds		integer,
	PRIMARY KEY (task_id, at)
);
