-- The alerts API (docs/api.md, "Alerts"): a rule as the API answers it,
-- and the preview of a rule on the stored history.

-- A rule as JSON; extra_emails only for admins.
CREATE FUNCTION yard_alert_rule_json(r alert_rules, is_admin boolean)
    RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', r.id, 'name', r.name, 'kind', r.kind,
	    'threshold', r.threshold, 'recovery', r.recovery,
	    'for_seconds', r.for_seconds, 'window_seconds', r.window_seconds,
	    'no_data', r.no_data,
	    'scope', jsonb_build_object('node_ids', to_jsonb(r.node_ids),
		'task_ids', to_jsonb(r.task_ids)),
	    'channels', to_jsonb(r.channels), 'enabled', r.enabled,
	    'created_at', r.created_at, 'updated_at', r.updated_at)
	    || CASE WHEN is_admin THEN jsonb_build_object('extra_emails',
		to_jsonb(r.extra_emails)) ELSE '{}'::jsonb END
$$;

-- A rule body (the API's checked, complete form) as a row of alert_rules
-- (id, created_by and the times left NULL).
CREATE FUNCTION yard_alert_rule_from(j jsonb) RETURNS alert_rules
LANGUAGE sql IMMUTABLE AS $$
	SELECT NULL::bigint, j->>'name', j->>'kind',
	    (j->>'threshold')::double precision,
	    (j->>'recovery')::double precision,
	    (j->>'for_seconds')::integer, (j->>'window_seconds')::integer,
	    j->>'no_data',
	    ARRAY(SELECT x::bigint FROM
		jsonb_array_elements_text(j->'scope'->'node_ids') x),
	    ARRAY(SELECT x::bigint FROM
		jsonb_array_elements_text(j->'scope'->'task_ids') x),
	    ARRAY(SELECT jsonb_array_elements_text(j->'channels')),
	    ARRAY(SELECT jsonb_array_elements_text(j->'extra_emails')),
	    (j->>'enabled')::boolean, NULL::bigint, NULL::timestamptz,
	    NULL::timestamptz
$$;

-- The ids of a scope that name no node and no task: {"node_ids":[...],
-- "task_ids":[...]}, both empty when all exist.
CREATE FUNCTION yard_alert_scope_missing(node_ids bigint[], task_ids bigint[])
    RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'node_ids', (SELECT coalesce(jsonb_agg(x ORDER BY x), '[]')
		FROM unnest(node_ids) x
		WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = x)),
	    'task_ids', (SELECT coalesce(jsonb_agg(x ORDER BY x), '[]')
		FROM unnest(task_ids) x
		WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = x)))
$$;

-- The newest 100 of a preview's events, by fired_at.
CREATE FUNCTION yard_alert_newest(evs jsonb[]) RETURNS jsonb[]
LANGUAGE sql IMMUTABLE AS $$
	SELECT ARRAY(SELECT e FROM unnest(evs) e
	    ORDER BY (e->>'fired_at')::timestamptz DESC LIMIT 100)
$$;

-- evs with one more event, kept to the newest 100 as it grows.
CREATE FUNCTION yard_alert_ev_add(evs jsonb[], node bigint, task bigint,
    started timestamptz, fired timestamptz, resolved timestamptz,
    peak double precision) RETURNS jsonb[]
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN cardinality(x.a) >= 500 THEN yard_alert_newest(x.a)
	    ELSE x.a END
	FROM (SELECT evs || jsonb_build_object('node_id', node,
	    'task_id', task, 'started_at', started, 'fired_at', fired,
	    'resolved_at', resolved, 'peak', peak) AS a) x
$$;

-- How often rule (the API's checked form) would have fired over the last
-- days days of stored history, with the evaluator's semantics
-- (docs/alerts.md): hysteresis (an event opens past threshold and closes
-- only at recovery), the "for" duration (pending until the condition has
-- held for_seconds; a pending event that clears never fired), scope
-- (node_ids and task_ids each narrow), and missing data: a gap of more
-- than gap_s seconds between samples (the evaluator's freshness, twice
-- YARD_NODE_OFFLINE_AFTER) resolves an open event at the gap's start
-- with no_data ok; keep and alerting leave it as it is (the evaluator
-- neither opens nor fires on a node that is offline).  Kinds with a
-- history: task_cpu and task_memory (task_metrics), node_memory
-- (node_metrics), node_offline (node_events), task_restarts
-- (task_restart_log, when the evaluator's migration made it); the others
-- answer supported false with a reason.  node_offline and task_restarts
-- are states between changes: they fire for_seconds after they began;
-- metrics fire at the first sample for_seconds after the first breaching
-- one.
--
-- Cost: one ordered scan of the samples, at most max_samples of them and
-- max_ms of wall-clock time (checked every 10,000 samples); past either,
-- the answer covers what was read and says truncated true.
CREATE FUNCTION yard_alert_preview(rule jsonb, days integer,
    gap_s integer DEFAULT 30, max_samples bigint DEFAULT 2000000,
    max_ms integer DEFAULT 4000)
    RETURNS jsonb
-- No JIT: compiling the plans cost more than running them (1.8 s
-- of 2.1 s for 10,000 tasks: docs/benchmarks.md, B13).
SET jit = off
LANGUAGE plpgsql STABLE AS $$
DECLARE
	kind	text := rule->>'kind';
	thr	double precision := (rule->>'threshold')::double precision;
	rec	double precision := (rule->>'recovery')::double precision;
	forsecs	interval := make_interval(secs =>
		    (rule->>'for_seconds')::integer);
	win	interval := make_interval(secs =>
		    coalesce((rule->>'window_seconds')::integer, 0));
	nodes	bigint[] := ARRAY(SELECT x::bigint FROM
		    jsonb_array_elements_text(rule->'scope'->'node_ids') x);
	tasks	bigint[] := ARRAY(SELECT x::bigint FROM
		    jsonb_array_elements_text(rule->'scope'->'task_ids') x);
	below	boolean := yard_alert_below(rule->>'kind');
	state	boolean := (rule->>'kind') = 'node_offline';
	cont	boolean := (rule->>'kind') IN ('node_offline',
		    'task_restarts');
	gapok	boolean := (rule->>'kind') NOT IN ('node_offline',
		    'task_restarts') AND rule->>'no_data' = 'ok';
	gap	interval := make_interval(secs => gap_s);
	since	timestamptz := now() - make_interval(days => days);
	stop	timestamptz := now();
	t0	timestamptz := clock_timestamp();
	q	text;
	s	record;
	have	boolean := false;
	cur_n	bigint;
	cur_t	bigint;
	last_at	timestamptz;
	isopen	boolean := false;
	started	timestamptz;
	fired	timestamptz;
	peak	double precision;
	nsamp	bigint := 0;
	ntarg	bigint := 0;
	nfired	bigint := 0;
	firing	double precision := 0;
	evs	jsonb[] := '{}';
	trunc	boolean := false;
	fin	boolean;
	endat	timestamptz;
BEGIN
	IF kind IN ('task_cpu', 'task_memory') THEN
		q := 'SELECT t.node_id, m.task_id, m.at, '
		    || CASE kind WHEN 'task_cpu' THEN 'm.cpu::double precision'
			ELSE '(m.rss / 1048576.0)::double precision' END
		    || ' AS v FROM task_metrics m JOIN tasks t ON t.id = m.task_id'
		    || ' WHERE m.at >= $1 AND m.at <= $4'
		    || ' AND (cardinality($2) = 0 OR t.node_id = ANY ($2))'
		    || ' AND (cardinality($3) = 0 OR m.task_id = ANY ($3))'
		    || ' AND m.' || CASE kind WHEN 'task_cpu' THEN 'cpu'
			ELSE 'rss' END || ' IS NOT NULL'
		    || ' ORDER BY m.task_id, m.at';
	ELSIF kind = 'node_memory' THEN
		q := 'SELECT m.node_id, NULL::bigint AS task_id, m.at,'
		    || ' ((m.mem_total - m.mem_used) / 1048576.0)'
		    || '::double precision AS v'
		    || ' FROM node_metrics m WHERE m.at >= $1 AND m.at <= $4'
		    || ' AND (cardinality($2) = 0 OR m.node_id = ANY ($2))'
		    || ' ORDER BY m.node_id, m.at';
	ELSIF kind = 'node_offline' THEN
		-- The state each node was in at since, then its changes.
		q := 'SELECT e.node_id, NULL::bigint AS task_id,'
		    || ' greatest(e.at, $1) AS at,'
		    || ' CASE WHEN e.status IN (''offline'', ''lost'') THEN 1'
		    || ' ELSE 0 END::double precision AS v'
		    || ' FROM node_events e'
		    || ' WHERE e.status IN (''online'', ''offline'', ''lost'')'
		    || ' AND (cardinality($2) = 0 OR e.node_id = ANY ($2))'
		    || ' AND e.at <= $4'
		    || ' AND (e.at >= $1 OR e.id = (SELECT max(p.id)'
		    || '  FROM node_events p WHERE p.node_id = e.node_id'
		    || '  AND p.at < $1'
		    || '  AND p.status IN (''online'', ''offline'', ''lost'')))'
		    || ' ORDER BY e.node_id, e.at, e.id';
	ELSIF kind = 'task_restarts'
	    AND to_regclass('task_restart_log') IS NOT NULL THEN
		-- The count within the window changes when a restart is
		-- logged and when one leaves the window: those instants (and
		-- since), each with the count of the window ending there.
		q := 'WITH l AS (SELECT l.task_id, t.node_id, l.at, l.count'
		    || '  FROM task_restart_log l JOIN tasks t ON t.id = l.task_id'
		    || '  WHERE l.at > $1 - $5 AND l.at <= $4'
		    || '  AND (cardinality($2) = 0 OR t.node_id = ANY ($2))'
		    || '  AND (cardinality($3) = 0 OR l.task_id = ANY ($3))),'
		    || ' p AS (SELECT task_id, node_id, at FROM l WHERE at >= $1'
		    || '  UNION SELECT task_id, node_id, at + $5 FROM l'
		    || '  WHERE at + $5 >= $1 AND at + $5 <= $4'
		    || '  UNION SELECT task_id, node_id, $1 FROM l)'
		    || ' SELECT p.node_id, p.task_id, p.at, (SELECT'
		    || '  coalesce(sum(l.count), 0) FROM l'
		    || '  WHERE l.task_id = p.task_id AND l.at > p.at - $5'
		    || '  AND l.at <= p.at)::double precision AS v'
		    || ' FROM p ORDER BY p.task_id, p.at';
	ELSE
		RETURN jsonb_build_object('supported', false, 'reason',
		    CASE kind
		    WHEN 'node_disk' THEN
			'Yard keeps no history of disk space'
		    WHEN 'task_restarts' THEN
			'Yard keeps no history of restarts'
		    WHEN 'health_failing' THEN
			'Yard keeps no history of health checks'
		    ELSE 'Yard keeps no history of task states' END);
	END IF;

	-- A row after the last (at NULL) closes the last target.
	q := 'SELECT * FROM (' || q || ') x UNION ALL SELECT NULL::bigint,'
	    || ' NULL::bigint, NULL::timestamptz, NULL::double precision';

	FOR s IN EXECUTE q USING since, nodes, tasks, stop, win LOOP
		fin := s.at IS NULL;
		IF NOT fin THEN
			nsamp := nsamp + 1;
			IF nsamp > max_samples OR (nsamp % 10000 = 0 AND
			    clock_timestamp() - t0 > make_interval(secs =>
			    max_ms / 1000.0)) THEN
				nsamp := nsamp - 1;
				trunc := true;
				fin := true;
			END IF;
		END IF;

		-- The end of a target: missing data after its last sample,
		-- then its event still open (firing until the end of what
		-- was read).
		IF have AND (fin OR s.node_id IS DISTINCT FROM cur_n OR
		    s.task_id IS DISTINCT FROM cur_t) THEN
			endat := CASE WHEN trunc THEN last_at ELSE stop END;
			IF gapok AND isopen AND endat - last_at > gap THEN
				IF fired IS NOT NULL THEN
					nfired := nfired + 1;
					firing := firing + extract(epoch FROM
					    last_at + gap - fired);
					evs := yard_alert_ev_add(evs, cur_n, cur_t,
					    started, fired, last_at + gap, peak);
				END IF;
				isopen := false;
			END IF;
			IF cont AND isopen AND fired IS NULL AND
			    started + forsecs <= endat THEN
				fired := started + forsecs;
			END IF;
			IF isopen AND fired IS NOT NULL THEN
				nfired := nfired + 1;
				firing := firing + extract(epoch FROM
				    endat - fired);
				evs := yard_alert_ev_add(evs, cur_n, cur_t,
				    started, fired, NULL, peak);
			END IF;
			have := false;
		END IF;
		EXIT WHEN fin;

		IF NOT have THEN
			have := true;
			cur_n := s.node_id;
			cur_t := s.task_id;
			ntarg := ntarg + 1;
			isopen := false;
			fired := NULL;
			last_at := NULL;
		END IF;

		-- Missing data between the last sample and this one.
		IF gapok AND isopen AND s.at - last_at > gap THEN
			IF fired IS NOT NULL THEN
				nfired := nfired + 1;
				firing := firing + extract(epoch FROM
				    last_at + gap - fired);
				evs := yard_alert_ev_add(evs, cur_n, cur_t,
				    started, fired, last_at + gap, peak);
			END IF;
			isopen := false;
		END IF;

		IF isopen THEN
			IF cont AND fired IS NULL AND
			    started + forsecs <= s.at THEN
				fired := started + forsecs;
			END IF;
			IF (state AND s.v < 1) OR (NOT state AND below AND
			    s.v >= rec) OR (NOT state AND NOT below AND
			    s.v <= rec) THEN
				IF fired IS NOT NULL THEN
					nfired := nfired + 1;
					firing := firing + extract(epoch FROM
					    s.at - fired);
					evs := yard_alert_ev_add(evs, cur_n, cur_t,
					    started, fired, s.at, peak);
				END IF;
				isopen := false;
			ELSE
				IF (below AND s.v < peak) OR
				    (NOT below AND s.v > peak) THEN
					peak := s.v;
				END IF;
				IF NOT cont AND fired IS NULL AND
				    s.at - started >= forsecs THEN
					fired := s.at;
				END IF;
			END IF;
		ELSIF (state AND s.v >= 1) OR (NOT state AND below AND
		    s.v < thr) OR (NOT state AND NOT below AND s.v > thr) THEN
			isopen := true;
			started := s.at;
			peak := s.v;
			fired := CASE WHEN forsecs = interval '0' THEN s.at END;
		END IF;
		last_at := s.at;
	END LOOP;

	RETURN jsonb_build_object('supported', true, 'days', days,
	    'from', since, 'to', stop, 'fired', nfired,
	    'firing_seconds', round(firing)::bigint, 'targets', ntarg,
	    'samples', nsamp, 'truncated', trunc,
	    'events', (SELECT coalesce(jsonb_agg(e ORDER BY
		(e->>'fired_at')::timestamptz DESC), '[]')
		FROM unnest(yard_alert_newest(evs)) e));
END
$$;
