-- A task that ended by itself with status 0 is "exited"; "failed" is now
-- only a non-zero status, a signal or an end the agent could not see.

ALTER TABLE tasks DROP CONSTRAINT tasks_state_check,
	ADD CONSTRAINT tasks_state_check CHECK (state IN
	    ('new', 'starting', 'running', 'unhealthy', 'stopping', 'stopped',
	     'exited', 'failed', 'crash_loop', 'uninstalling'));
