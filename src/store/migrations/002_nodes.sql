-- Nodes become real: enrolment, per-node secrets (hash only), presence,
-- facts and metric history; the command ledger with its full history.

CREATE TABLE enrollments (
	id		bigserial PRIMARY KEY,
	token_hash	bytea NOT NULL UNIQUE,		-- SHA-256 of the token
	created_by	bigint REFERENCES users(id) ON DELETE SET NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz,
	node_id		bigint REFERENCES nodes(id) ON DELETE SET NULL
);

ALTER TABLE nodes
	ADD COLUMN secret_hash bytea,
	ADD COLUMN enrolled_at timestamptz,
	ADD COLUMN revoked_at timestamptz,
	ADD COLUMN last_seen timestamptz,
	ADD COLUMN agent_version text NOT NULL DEFAULT '',
	ADD COLUMN facts jsonb NOT NULL DEFAULT '{}',
	ADD COLUMN metrics jsonb NOT NULL DEFAULT '{}',
	ADD COLUMN status_changed_at timestamptz;

-- Presence transitions (online/offline/lost/revoked), decided by the
-- server's clock.
CREATE TABLE node_events (
	id		bigserial PRIMARY KEY,
	node_id		bigint NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
	at		timestamptz NOT NULL DEFAULT now(),
	status		text NOT NULL,
	detail		jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX node_events_node_idx ON node_events (node_id, id);

-- Metric history, written in batches; one row per node per sample.
CREATE TABLE node_metrics (
	node_id		bigint NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
	at		timestamptz NOT NULL,
	cpu		real NOT NULL,
	mem_used	bigint NOT NULL,
	mem_total	bigint NOT NULL,
	load1		real NOT NULL,
	PRIMARY KEY (node_id, at)
);

CREATE TABLE commands (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	seq		bigserial UNIQUE,
	type		text NOT NULL,
	node_id		bigint NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
	task_id		bigint REFERENCES tasks(id) ON DELETE SET NULL,
	payload		jsonb NOT NULL DEFAULT '{}',
	state		text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued',
	    'dispatched', 'running', 'succeeded', 'failed', 'timed_out',
	    'cancelled')),
	issued_by	bigint REFERENCES users(id) ON DELETE SET NULL,
	issued_at	timestamptz NOT NULL DEFAULT now(),
	dispatched_at	timestamptz,
	finished_at	timestamptz,
	deadline	timestamptz NOT NULL,
	exit_status	integer,
	output		text NOT NULL DEFAULT '',
	agent_received_ms bigint,
	agent_finished_ms bigint
);
CREATE INDEX commands_node_pending_idx ON commands (node_id, seq)
    WHERE state IN ('queued', 'dispatched', 'running');
CREATE INDEX commands_issued_idx ON commands (issued_at);

CREATE TABLE command_events (
	id		bigserial PRIMARY KEY,
	command_id	uuid NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
	at		timestamptz NOT NULL DEFAULT now(),
	state		text NOT NULL,
	detail		jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX command_events_cmd_idx ON command_events (command_id, id);

-- Presence as the server's clock sees it (thresholds come from settings).
CREATE FUNCTION yard_node_status(revoked timestamptz, seen timestamptz,
    offline_after integer, lost_after integer) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE
	WHEN revoked IS NOT NULL THEN 'revoked'
	WHEN seen IS NULL THEN 'new'
	WHEN seen > now() - make_interval(secs => offline_after) THEN 'online'
	WHEN seen > now() - make_interval(secs => lost_after) THEN 'offline'
	ELSE 'lost' END
$$;
