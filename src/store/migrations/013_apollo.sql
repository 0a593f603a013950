-- The Apollo follower (docs/config.md, "Apollo"): changes of Apollo
-- values waiting to be applied to a task with apollo.auto_apply.  A row
-- is written when a followed namespace's release changes, with the task's
-- effective values as they were before ("before"); the apply duty issues
-- one apply-config when the values really differ now and the task has no
-- command in progress, and deletes the row.  A task that is busy keeps its
-- row until the next round, so no change is lost.
CREATE TABLE apollo_pending (
	task_id		bigint PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
	before		jsonb,
	reason		text NOT NULL DEFAULT '',
	since		timestamptz NOT NULL DEFAULT now(),
	rounds		integer NOT NULL DEFAULT 0
);
