-- Task commands: at most one in progress per task (a second start while
-- the first is queued is refused, not queued), and the latest per-task
-- metrics the agent reports with its heartbeats.

CREATE UNIQUE INDEX commands_one_active_per_task ON commands (task_id)
	WHERE task_id IS NOT NULL
	AND state IN ('queued', 'dispatched', 'running');

ALTER TABLE tasks ADD COLUMN metrics jsonb;
