-- Tasks gain their definition (a normalised spec, agentproto_task_spec())
-- and the state the agent reports.  Names are short identifiers: they
-- become directory and log file names on the node.

ALTER TABLE tasks
	ADD COLUMN spec		jsonb NOT NULL DEFAULT '{}',
	ADD COLUMN state	text NOT NULL DEFAULT 'new' CHECK (state IN
	    ('new', 'starting', 'running', 'unhealthy', 'stopping', 'stopped',
	     'failed', 'crash_loop', 'uninstalling')),
	ADD COLUMN health	text,
	ADD COLUMN pid		integer,
	ADD COLUMN started_at	timestamptz,
	ADD COLUMN restarts	integer NOT NULL DEFAULT 0,
	ADD COLUMN updated_at	timestamptz NOT NULL DEFAULT now(),
	ADD COLUMN created_by	bigint REFERENCES users(id) ON DELETE SET NULL,
	ADD CONSTRAINT tasks_name_shape
	    CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$');
