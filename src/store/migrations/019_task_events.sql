-- A task's history of state changes, with reasons (docs/api.md, "Task
-- events"): written by one trigger on tasks, whatever path changes a
-- task's state (today the heartbeat flush), so that no path can forget
-- it; a node going offline writes "lost" for its running tasks.  Kept:
-- the newest 1000 events per task (pruned by the same trigger), and the
-- events go with their task.

-- What the agent says of a task's last end, last policy restart and
-- adoption (docs/agent-protocol.md): kept from the heartbeat, so the
-- trigger can tell a SIGKILL from outside from a stop.  last_exit and
-- last_restart stay when a newer agent report has none (an agent
-- restart forgets them); adopted_at is the current run's only.
ALTER TABLE tasks
	ADD COLUMN last_exit	jsonb,
	ADD COLUMN last_restart	jsonb,
	ADD COLUMN adopted_at	timestamptz;

CREATE TABLE task_events (
	id		bigserial PRIMARY KEY,
	task_id		bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	at		timestamptz NOT NULL DEFAULT now(),
	kind		text NOT NULL CHECK (kind IN ('started', 'exited',
			    'killed', 'restarted', 'crash_loop', 'unhealthy',
			    'healthy', 'stopping', 'stopped', 'adopted',
			    'lost', 'state')),
	state		text,		-- the task's state after the event
	prev_state	text,		-- and before it
	code		text,		-- the reason, per kind (docs/api.md)
	params		jsonb NOT NULL DEFAULT '{}',
	command_id	uuid,		-- the command that caused it, if any
	by_user		bigint REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX task_events_task_idx ON task_events (task_id, id DESC);

-- The command behind a change of task tid, of one of types: in progress,
-- or finished within the last two minutes (its result and the heartbeat
-- that shows its effect may come in either order); the newest.
CREATE FUNCTION yard_task_event_cmd(tid bigint, types text[])
    RETURNS TABLE (id uuid, issued_by bigint)
LANGUAGE sql STABLE AS $$
	SELECT c.id, c.issued_by FROM commands c
	WHERE c.task_id = tid AND c.type = ANY (types)
	    AND (c.state IN ('queued', 'dispatched', 'running')
		OR c.finished_at > now() - interval '2 minutes')
	ORDER BY c.seq DESC LIMIT 1
$$;

-- ms since the epoch (the agent's clock) as a time.
CREATE FUNCTION yard_ms_time(ms jsonb) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN jsonb_typeof(ms) = 'number'
	    THEN to_timestamp((ms::text)::float8 / 1000.0) END
$$;

-- One update of a task: its events, oldest first, each with the state
-- it led to (cur follows them).  The server writes the latest report per
-- node every flush (~2 s): restarts in quicker succession than that come
-- as one "restarted" whose count says how many it stands for, with the
-- last one's end and reason.  The agent's reasons come first, in the
-- order they happened (an end, the policy's restart, the new start),
-- then what the state alone says (an older agent sends no reasons).
CREATE FUNCTION yard_task_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	e	jsonb := NEW.last_exit;
	r	jsonb := NEW.last_restart;
	cur	text := OLD.state;
	cmd	uuid;
	who	bigint;
	nst	text;
	stop	boolean := false;
	ended	boolean := false;
	restarted boolean := false;
	started	boolean := false;
	lim	bigint;
	stops	text[] := ARRAY['stop', 'restart', 'uninstall',
		    'apply-config', 'deploy', 'update', 'rollback', 'move'];
BEGIN
	-- A new end the agent saw.
	IF e IS NOT NULL AND jsonb_typeof(e->'at') = 'number'
	    AND (OLD.last_exit IS NULL OR OLD.last_exit->'at' <> e->'at') THEN
		ended := true;
		IF e->>'by' = 'stop' THEN
			stop := true;
			SELECT c.id, c.issued_by INTO cmd, who
			    FROM yard_task_event_cmd(NEW.id, stops) c;
			nst := 'stopped';
		ELSIF e->>'status' = '0' THEN
			nst := 'exited';
		ELSE
			nst := 'failed';
		END IF;
		INSERT INTO task_events (task_id, at, kind, state, prev_state,
		    code, params, command_id, by_user)
		VALUES (NEW.id, coalesce(yard_ms_time(e->'at'), now()),
		    CASE WHEN stop THEN 'stopped'
			WHEN e ? 'signal' THEN 'killed' ELSE 'exited' END,
		    nst, cur, e->>'by',
		    jsonb_strip_nulls(jsonb_build_object('status', e->'status',
			'signal', e->'signal', 'by', e->'by')),
		    cmd, who);
		cur := nst;
	END IF;

	-- The restart policy started it again.
	IF r IS NOT NULL AND jsonb_typeof(r->'at') = 'number'
	    AND (OLD.last_restart IS NULL
		OR OLD.last_restart->'at' <> r->'at') THEN
		restarted := true;
		INSERT INTO task_events (task_id, at, kind, state, prev_state,
		    code, params)
		VALUES (NEW.id, coalesce(yard_ms_time(r->'at'), now()),
		    'restarted', 'starting', cur, r->>'reason',
		    jsonb_build_object('reason', r->'reason', 'restarts',
			NEW.restarts, 'count',
			greatest(NEW.restarts - OLD.restarts, 1)));
		cur := 'starting';
	ELSIF NEW.restarts > OLD.restarts THEN
		-- An older agent: a restart without its cause.
		restarted := true;
		INSERT INTO task_events (task_id, kind, state, prev_state,
		    code, params)
		VALUES (NEW.id, 'restarted', 'starting', cur, 'unknown',
		    jsonb_build_object('restarts', NEW.restarts, 'count',
			NEW.restarts - OLD.restarts));
		cur := 'starting';
	END IF;

	-- A new run (not one a restarted agent adopted: same start).
	IF NEW.started_at IS NOT NULL
	    AND NEW.started_at IS DISTINCT FROM OLD.started_at
	    AND NEW.state IN ('starting', 'running', 'unhealthy') THEN
		started := true;
		cmd := NULL;
		who := NULL;
		IF NOT restarted THEN
			SELECT c.id, c.issued_by INTO cmd, who
			    FROM yard_task_event_cmd(NEW.id, ARRAY['start',
				'restart', 'apply-config', 'deploy', 'update',
				'rollback', 'move']) c;
		END IF;
		INSERT INTO task_events (task_id, at, kind, state, prev_state,
		    code, params, command_id, by_user)
		VALUES (NEW.id, NEW.started_at, 'started', NEW.state, cur,
		    CASE WHEN restarted THEN 'policy'
			WHEN cmd IS NOT NULL THEN 'command' END,
		    jsonb_strip_nulls(jsonb_build_object('pid', NEW.pid)),
		    cmd, who);
		cur := NEW.state;
	END IF;

	-- A restarted agent found it running.
	IF NEW.adopted_at IS NOT NULL
	    AND NEW.adopted_at IS DISTINCT FROM OLD.adopted_at THEN
		INSERT INTO task_events (task_id, at, kind, state, prev_state,
		    params)
		VALUES (NEW.id, NEW.adopted_at, 'adopted', NEW.state, cur,
		    jsonb_strip_nulls(jsonb_build_object('pid', NEW.pid)));
		cur := NEW.state;
	END IF;

	-- What the state says that the reasons did not.
	IF NEW.state IS DISTINCT FROM cur THEN
		cmd := NULL;
		who := NULL;
		IF NEW.state IN ('stopping', 'stopped') AND NOT stop THEN
			SELECT c.id, c.issued_by INTO cmd, who
			    FROM yard_task_event_cmd(NEW.id, stops) c;
		END IF;
		INSERT INTO task_events (task_id, kind, state, prev_state,
		    code, params, command_id, by_user)
		VALUES (NEW.id,
		    CASE
		    WHEN NEW.state = 'crash_loop' THEN 'crash_loop'
		    WHEN NEW.state = 'unhealthy' THEN 'unhealthy'
		    WHEN NEW.state = 'running' AND (cur = 'unhealthy'
			OR (cur = 'starting' AND NEW.health = 'ok'))
			THEN 'healthy'
		    WHEN NEW.state = 'stopping' THEN 'stopping'
		    WHEN NEW.state = 'stopped' AND NOT stop THEN 'stopped'
		    WHEN NEW.state IN ('exited', 'failed') AND NOT ended
			THEN 'exited'
		    ELSE 'state' END,
		    NEW.state, cur,
		    CASE
		    WHEN NEW.state = 'crash_loop' THEN 'policy'
		    WHEN NEW.state IN ('exited', 'failed') AND NOT ended
			THEN 'unknown'
		    WHEN NEW.state IN ('stopping', 'stopped')
			THEN CASE WHEN cmd IS NOT NULL THEN 'stop'
			    ELSE 'unknown' END
		    END,
		    jsonb_strip_nulls(CASE
		    WHEN NEW.state = 'crash_loop' THEN jsonb_build_object(
			'restarts', NEW.restarts)
		    WHEN NEW.state = 'unhealthy' THEN jsonb_build_object(
			'health_fails', NEW.health_fails)
		    WHEN NEW.state IN ('exited', 'failed') AND NOT ended
			THEN jsonb_build_object('status',
			    NEW.metrics->'exit_status')
		    ELSE '{}'::jsonb END),
		    cmd, who);
	END IF;

	-- The newest 1000 per task are kept.
	SELECT x.id INTO lim FROM task_events x WHERE x.task_id = NEW.id
	    ORDER BY x.id DESC OFFSET 1000 LIMIT 1;
	IF lim IS NOT NULL THEN
		DELETE FROM task_events WHERE task_id = NEW.id AND id <= lim;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER tasks_events AFTER UPDATE ON tasks
	FOR EACH ROW WHEN (NEW.state IS DISTINCT FROM OLD.state
	    OR NEW.started_at IS DISTINCT FROM OLD.started_at
	    OR NEW.restarts > OLD.restarts
	    OR NEW.adopted_at IS DISTINCT FROM OLD.adopted_at
	    OR NEW.last_exit IS DISTINCT FROM OLD.last_exit
	    OR NEW.last_restart IS DISTINCT FROM OLD.last_restart)
	EXECUTE FUNCTION yard_task_events();

-- A node that stops answering loses its running tasks from sight: each
-- gets "lost" (code: the node's status), once per transition.
CREATE FUNCTION yard_task_events_lost() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO task_events (task_id, kind, state, prev_state, code)
	SELECT t.id, 'lost', t.state, t.state, NEW.status
	FROM tasks t WHERE t.node_id = NEW.id
	    AND t.state IN ('starting', 'running', 'unhealthy', 'stopping');
	RETURN NULL;
END
$$;
CREATE TRIGGER nodes_task_events_lost AFTER UPDATE OF status ON nodes
	FOR EACH ROW WHEN (OLD.status = 'online'
	    AND NEW.status IN ('offline', 'lost'))
	EXECUTE FUNCTION yard_task_events_lost();
