-- Permission levels view < operate < manage (docs/api.md, "Permissions").
-- operate no longer decides what a node runs: creating, editing and
-- uninstalling tasks needs manage.  Existing grants keep their level, so an
-- operate grant keeps start, stop, restart and logs and loses task edits.
--
-- The level rule lives here, once; every statement that checks a level
-- calls these functions.  src/auth/perm.c holds the same rule for the
-- principal's cached grants and must agree with it.

ALTER TABLE grants DROP CONSTRAINT grants_level_check;
ALTER TABLE grants ADD CONSTRAINT grants_level_check
	CHECK (level IN ('view', 'operate', 'manage'));

-- 0 none, 1 view, 2 operate, 3 manage.
CREATE FUNCTION yard_level_rank(level text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE level WHEN 'view' THEN 1 WHEN 'operate' THEN 2
	    WHEN 'manage' THEN 3 ELSE 0 END
$$;

CREATE FUNCTION yard_level_name(rank integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE rank WHEN 1 THEN 'view' WHEN 2 THEN 'operate'
	    WHEN 3 THEN 'manage' ELSE 'none' END
$$;

-- The level user uid holds on task task of node node (task not NULL): the
-- better of a grant on the task and a grant on its node; or on node node
-- itself (task NULL): a grant on the node.  A task grant never reaches
-- outside its task.  Admins hold manage on everything.
--
-- One row, for lists: "CROSS JOIN LATERAL yard_level_row(...) lv".  As a
-- set-returning SQL function the planner inlines it into the statement,
-- where a scalar function would be called once per row (several times
-- slower on a list of tasks or commands).
CREATE FUNCTION yard_level_row(uid bigint, is_admin boolean, node bigint,
    task bigint) RETURNS TABLE (level integer)
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN is_admin THEN 3
	    ELSE coalesce(max(yard_level_rank(g.level)), 0) END
	FROM grants g WHERE NOT is_admin AND g.user_id = uid
	    AND (g.node_id = node OR g.task_id = task)
$$;

-- The same, as a value, for statements about one object.
CREATE FUNCTION yard_level(uid bigint, is_admin boolean, node bigint,
    task bigint) RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT level FROM yard_level_row(uid, is_admin, node, task)
$$;

-- Whether user uid sees node node: a level on it, or a grant on one of its
-- tasks (so that the task can be placed).  Seeing a node this way allows
-- no action on it: its level stays 0.
CREATE FUNCTION yard_node_visible(uid bigint, is_admin boolean, node bigint)
    RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT is_admin OR EXISTS (SELECT 1 FROM grants g
	    LEFT JOIN tasks t ON t.id = g.task_id
	    WHERE g.user_id = uid AND (g.node_id = node OR t.node_id = node))
$$;

-- A task's latest command, shown with the task (a refused start says why).
CREATE INDEX commands_task_seq_idx ON commands (task_id, seq)
	WHERE task_id IS NOT NULL;
