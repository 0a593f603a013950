-- Releases (docs/api.md, "Releases"): deploy, update, rollback and move
-- commands, their progress while they run, and each task's releases as
-- its agent last reported them.

-- A release command (deploy, update, rollback, move) may wait behind
-- another one of the same task: the agent runs them one after the other.
-- Any other command still has the task to itself: at most one other
-- command in progress (the unique index), and never one of each kind at
-- once (the exclusion constraint; btree_gist gives gist the = and <> of
-- plain types).
CREATE EXTENSION IF NOT EXISTS btree_gist;

DROP INDEX commands_one_active_per_task;
CREATE UNIQUE INDEX commands_one_active_per_task ON commands (task_id)
	WHERE task_id IS NOT NULL
	AND state IN ('queued', 'dispatched', 'running')
	AND type NOT IN ('deploy', 'update', 'rollback', 'move');
ALTER TABLE commands ADD CONSTRAINT commands_release_queue
	EXCLUDE USING gist (task_id WITH =,
	(CASE WHEN type IN ('deploy', 'update', 'rollback', 'move') THEN 1
	ELSE 0 END) WITH <>)
	WHERE (task_id IS NOT NULL
	AND state IN ('queued', 'dispatched', 'running'));

-- The step a running command is at, as its agent last said:
-- {"step":"download","percent":40}; NULL once it is finished.
ALTER TABLE commands ADD COLUMN progress jsonb;

-- A task's releases: the agent's journal as the final result of its last
-- release command carried it (replaced as a whole each time).  sha256 is
-- "" for a release 0 adopted from files already there; command_id is the
-- command that made it (NULL when the agent did not say), deployed_by who
-- issued that command.
CREATE TABLE releases (
	task_id		bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	n		bigint NOT NULL CHECK (n >= 0),
	sha256		text NOT NULL CHECK (sha256 = ''
			OR sha256 ~ '^[0-9a-f]{64}$'),
	state		text NOT NULL CHECK (state IN ('live', 'good', 'bad',
			'kept')),
	deployed_at	timestamptz NOT NULL,
	command_id	uuid,
	deployed_by	bigint REFERENCES users(id) ON DELETE SET NULL,
	recorded_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (task_id, n)
);
CREATE INDEX releases_sha256_idx ON releases (sha256) WHERE sha256 <> '';
