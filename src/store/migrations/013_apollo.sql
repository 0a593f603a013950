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

-- The "apollo" member of each task's newest configuration version, kept
-- by a trigger so that the follower's statement (every second) reads
-- these small rows rather than every version's whole document (file
-- overrides included).
CREATE TABLE apollo_follows (
	task_id		bigint PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
	version		integer NOT NULL,
	ap		jsonb
);

CREATE FUNCTION yard_apollo_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO apollo_follows (task_id, version, ap)
	VALUES (NEW.task_id, NEW.version, NEW.doc->'apollo')
	ON CONFLICT (task_id) DO UPDATE SET version = EXCLUDED.version,
	    ap = EXCLUDED.ap WHERE apollo_follows.version <= EXCLUDED.version;
	RETURN NULL;
END
$$;

CREATE TRIGGER task_configs_apollo AFTER INSERT OR UPDATE OF doc
	ON task_configs FOR EACH ROW EXECUTE FUNCTION yard_apollo_follow();

INSERT INTO apollo_follows (task_id, version, ap)
	SELECT DISTINCT ON (task_id) task_id, version, doc->'apollo'
	FROM task_configs ORDER BY task_id, version DESC;
