-- Alerts (docs/alerts.md): rules an admin edits, the events they open on
-- nodes and tasks, and the mutes users set.  The evaluator (016) is one
-- leader's duty; every table here is written so that two instances, a
-- restart or a failover can neither lose nor duplicate an event: at most
-- one open (pending or firing) event per rule and target.

-- The kinds, and which way each compares: "above" kinds open when the
-- value rises past threshold and resolve when it falls to recovery;
-- "below" kinds (node_disk: free %, node_memory: available MiB) the
-- other way round.
CREATE FUNCTION yard_alert_below(kind text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT kind IN ('node_disk', 'node_memory')
$$;

CREATE TABLE alert_rules (
	id		bigserial PRIMARY KEY,
	name		text NOT NULL UNIQUE
			    CHECK (length(name) BETWEEN 1 AND 100),
	kind		text NOT NULL CHECK (kind IN ('task_cpu', 'task_memory',
			    'task_exit', 'task_crash_loop', 'task_restarts',
			    'health_failing', 'node_offline', 'node_disk',
			    'node_memory')),
	-- % of one core (task_cpu), MiB (task_memory, node_memory), % free
	-- (node_disk), a count (task_restarts, health_failing), 1 for the
	-- state kinds (task_exit, task_crash_loop, node_offline).
	threshold	double precision NOT NULL,
	recovery	double precision NOT NULL,
	-- The "for" duration: how long the condition holds before firing.
	for_seconds	integer NOT NULL DEFAULT 0
			    CHECK (for_seconds BETWEEN 0 AND 604800),
	-- The counting window of task_restarts (0 for the other kinds).
	window_seconds	integer NOT NULL DEFAULT 0
			    CHECK (window_seconds BETWEEN 0 AND 604800),
	-- Missing data (no sample within the window; a task whose node is
	-- offline): keep the event as it is, count it as ok (resolve), or
	-- count it as alerting.  A task on an offline node is never a
	-- second alert: node_offline speaks for it.
	no_data		text NOT NULL DEFAULT 'keep'
			    CHECK (no_data IN ('keep', 'ok', 'alerting')),
	node_ids	bigint[] NOT NULL DEFAULT '{}', -- empty: every node
	task_ids	bigint[] NOT NULL DEFAULT '{}', -- empty: every task
	channels	text[] NOT NULL DEFAULT '{inbox,email}'
			    CHECK (channels <@ '{inbox,email,callback}'),
	extra_emails	text[] NOT NULL DEFAULT '{}',
	enabled		boolean NOT NULL DEFAULT true,
	created_by	bigint REFERENCES users(id) ON DELETE SET NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (CASE WHEN yard_alert_below(kind) THEN recovery >= threshold
	    ELSE recovery <= threshold END)
);

-- The shipped defaults (admins edit or disable them).
INSERT INTO alert_rules (name, kind, threshold, recovery, for_seconds,
    window_seconds) VALUES
	('CPU high', 'task_cpu', 90, 70, 300, 0),
	('Memory high', 'task_memory', 2048, 1843, 300, 0),
	('Task exited', 'task_exit', 1, 1, 0, 0),
	('Crash loop', 'task_crash_loop', 1, 1, 0, 0),
	('Restarting often', 'task_restarts', 3, 0, 0, 600),
	('Health check failing', 'health_failing', 3, 0, 0, 0),
	('Node offline', 'node_offline', 1, 1, 120, 0),
	('Disk space low', 'node_disk', 10, 15, 300, 0),
	('Node memory low', 'node_memory', 256, 512, 300, 0);

-- Events: pending (the condition holds, "for" not yet elapsed) -> firing
-- -> resolved; pending may resolve without ever firing.  The target is a
-- node (node_id, task_id NULL) or a task (both set: the task's node at
-- the time).  threshold and recovery are the rule's when the event
-- opened (the chart draws them).  suppressed_by names what silenced it:
-- 'command:<uuid>' (planned work issued through Yard) or 'mute:<id>';
-- a suppressed event sends nothing.
CREATE TABLE alert_events (
	id		bigserial PRIMARY KEY,
	rule_id		bigint REFERENCES alert_rules(id) ON DELETE SET NULL,
	kind		text NOT NULL,
	node_id		bigint REFERENCES nodes(id) ON DELETE CASCADE,
	task_id		bigint REFERENCES tasks(id) ON DELETE CASCADE,
	state		text NOT NULL DEFAULT 'pending'
			    CHECK (state IN ('pending', 'firing', 'resolved')),
	value		double precision,	-- the latest seen; NULL: no data
	threshold	double precision NOT NULL,
	recovery	double precision NOT NULL,
	started_at	timestamptz NOT NULL DEFAULT now(),
	fired_at	timestamptz,
	resolved_at	timestamptz,
	updated_at	timestamptz NOT NULL DEFAULT now(),
	suppressed_by	text,
	CHECK (node_id IS NOT NULL OR task_id IS NOT NULL)
);
CREATE UNIQUE INDEX alert_events_open_idx ON alert_events (rule_id,
    coalesce(node_id, 0), coalesce(task_id, 0))
    WHERE state <> 'resolved';
CREATE INDEX alert_events_state_idx ON alert_events (state, id DESC);
CREATE INDEX alert_events_task_idx ON alert_events (task_id, id DESC);
CREATE INDEX alert_events_node_idx ON alert_events (node_id, id DESC);

-- Mutes: a task or a node silenced until a time, with a reason (a
-- maintenance window).  Deleting a mute ends it early.
CREATE TABLE alert_mutes (
	id		bigserial PRIMARY KEY,
	node_id		bigint REFERENCES nodes(id) ON DELETE CASCADE,
	task_id		bigint REFERENCES tasks(id) ON DELETE CASCADE,
	until		timestamptz NOT NULL,
	reason		text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
	created_by	bigint REFERENCES users(id) ON DELETE SET NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	CHECK ((node_id IS NULL) <> (task_id IS NULL))
);
CREATE INDEX alert_mutes_until_idx ON alert_mutes (until);
