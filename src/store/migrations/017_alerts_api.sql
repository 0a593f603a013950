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

-- How often rule (the API's checked form) would have fired over the last
-- days days of stored history, with the evaluator's semantics
-- (docs/alerts.md): hysteresis (an event opens past threshold and closes
-- only at recovery), the "for" duration (pending until the condition has
-- held for_seconds; a pending event that clears never fired), scope
-- (node_ids and task_ids each narrow), and missing data (a gap of more
-- than 120 s between samples: keep, ok = recovered at the gap's start,
-- alerting = breaching through the gap).  Kinds with a history: task_cpu
-- and task_memory (task_metrics), node_memory (node_metrics), node_offline
-- (node_events); the others answer supported false with a reason.
--
-- Cost: one ordered scan of the samples, at most max_samples of them and
-- max_ms of wall-clock time (checked every 10,000 samples); past either,
-- the answer covers what was read and says truncated true.
CREATE FUNCTION yard_alert_preview(rule jsonb, days integer,
    max_samples bigint DEFAULT 2000000, max_ms integer DEFAULT 5000)
    RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	kind	text := rule->>'kind';
	thr	double precision := (rule->>'threshold')::double precision;
	rec	double precision := (rule->>'recovery')::double precision;
	forsecs	interval := make_interval(secs =>
		    (rule->>'for_seconds')::integer);
	nodata	text := coalesce(rule->>'no_data', 'keep');
	nodes	bigint[] := ARRAY(SELECT x::bigint FROM
		    jsonb_array_elements_text(rule->'scope'->'node_ids') x);
	tasks	bigint[] := ARRAY(SELECT x::bigint FROM
		    jsonb_array_elements_text(rule->'scope'->'task_ids') x);
	below	boolean := yard_alert_below(rule->>'kind');
	-- node_offline is a state that holds between transitions: it fires
	-- for_seconds after it began; metrics fire at the first sample
	-- for_seconds after the first breaching one.
	cont	boolean := (rule->>'kind') = 'node_offline';
	gap	interval := interval '120 seconds';
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
	g	timestamptz;
	nsamp	bigint := 0;
	ntarg	bigint := 0;
	nfired	bigint := 0;
	firing	double precision := 0;
	evs	jsonb[] := '{}';
	trunc	boolean := false;
	breach	boolean;
	ok	boolean;
BEGIN
	IF kind IN ('task_cpu', 'task_memory') THEN
		q := 'SELECT t.node_id, m.task_id, m.at, '
		    || CASE kind WHEN 'task_cpu' THEN 'm.cpu::double precision'
			ELSE 'm.rss / 1048576.0' END
		    || ' AS v FROM task_metrics m JOIN tasks t ON t.id = m.task_id'
		    || ' WHERE m.at >= $1 AND m.at <= $4'
		    || ' AND (cardinality($2) = 0 OR t.node_id = ANY ($2))'
		    || ' AND (cardinality($3) = 0 OR m.task_id = ANY ($3))'
		    || ' AND m.' || CASE kind WHEN 'task_cpu' THEN 'cpu'
			ELSE 'rss' END || ' IS NOT NULL'
		    || ' ORDER BY m.task_id, m.at';
	ELSIF kind = 'node_memory' THEN
		q := 'SELECT m.node_id, NULL::bigint AS task_id, m.at,'
		    || ' (m.mem_total - m.mem_used) / 1048576.0 AS v'
		    || ' FROM node_metrics m WHERE m.at >= $1 AND m.at <= $4'
		    || ' AND (cardinality($2) = 0 OR m.node_id = ANY ($2))'
		    || ' AND cardinality($3) >= 0'
		    || ' ORDER BY m.node_id, m.at';
	ELSIF kind = 'node_offline' THEN
		-- The state each node was in at since, then its transitions.
		q := 'SELECT e.node_id, NULL::bigint AS task_id,'
		    || ' greatest(e.at, $1) AS at,'
		    || ' CASE WHEN e.status IN (''offline'', ''lost'') THEN 1'
		    || ' ELSE 0 END::double precision AS v'
		    || ' FROM node_events e'
		    || ' WHERE e.status IN (''online'', ''offline'', ''lost'')'
		    || ' AND (cardinality($2) = 0 OR e.node_id = ANY ($2))'
		    || ' AND cardinality($3) >= 0 AND e.at <= $4'
		    || ' AND (e.at >= $1 OR e.id = (SELECT max(p.id)'
		    || '  FROM node_events p WHERE p.node_id = e.node_id'
		    || '  AND p.at < $1'
		    || '  AND p.status IN (''online'', ''offline'', ''lost'')))'
		    || ' ORDER BY e.node_id, e.at, e.id';
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

	<<samples>>
	FOR s IN EXECUTE q USING since, nodes, tasks, stop LOOP
		nsamp := nsamp + 1;
		IF nsamp > max_samples OR (nsamp % 10000 = 0 AND
		    clock_timestamp() - t0 > make_interval(secs =>
		    max_ms / 1000.0)) THEN
			nsamp := nsamp - 1;
			trunc := true;
			EXIT samples;
		END IF;

		IF NOT have OR s.node_id IS DISTINCT FROM cur_n OR
		    s.task_id IS DISTINCT FROM cur_t THEN
			-- The end of the previous target: its open event.
			IF have THEN
				IF NOT cont AND stop - last_at > gap AND
				    nodata <> 'keep' THEN
					g := last_at + gap;
					IF nodata = 'ok' AND isopen THEN
						IF fired IS NOT NULL THEN
							nfired := nfired + 1;
							firing := firing +
							    extract(epoch FROM
							    g - fired);
							evs := evs ||
							    jsonb_build_object(
							    'node_id', cur_n,
							    'task_id', cur_t,
							    'started_at', started,
							    'fired_at', fired,
							    'resolved_at', g,
							    'peak', peak);
						END IF;
						isopen := false;
					ELSIF nodata = 'alerting' THEN
						IF NOT isopen THEN
							isopen := true;
							started := g;
							peak := NULL;
							fired := NULL;
						END IF;
						IF fired IS NULL AND
						    started + forsecs <= stop THEN
							fired := greatest(
							    started + forsecs, g);
						END IF;
					END IF;
				END IF;
				IF cont AND isopen AND fired IS NULL AND
				    started + forsecs <= stop THEN
					fired := started + forsecs;
				END IF;
				IF isopen AND fired IS NOT NULL THEN
					nfired := nfired + 1;
					firing := firing + extract(epoch FROM
					    stop - fired);
					evs := evs || jsonb_build_object(
					    'node_id', cur_n, 'task_id', cur_t,
					    'started_at', started,
					    'fired_at', fired,
					    'resolved_at', NULL, 'peak', peak);
				END IF;
			END IF;
			have := true;
			cur_n := s.node_id;
			cur_t := s.task_id;
			ntarg := ntarg + 1;
			isopen := false;
			fired := NULL;
			last_at := NULL;
		END IF;

		-- Missing data between the last sample and this one.
		IF NOT cont AND last_at IS NOT NULL AND
		    s.at - last_at > gap AND nodata <> 'keep' THEN
			g := last_at + gap;
			IF nodata = 'ok' AND isopen THEN
				IF fired IS NOT NULL THEN
					nfired := nfired + 1;
					firing := firing + extract(epoch FROM
					    g - fired);
					evs := evs || jsonb_build_object(
					    'node_id', cur_n, 'task_id', cur_t,
					    'started_at', started,
					    'fired_at', fired, 'resolved_at', g,
					    'peak', peak);
				END IF;
				isopen := false;
			ELSIF nodata = 'alerting' THEN
				IF NOT isopen THEN
					isopen := true;
					started := g;
					peak := NULL;
					fired := NULL;
				END IF;
				IF fired IS NULL AND started + forsecs <= s.at
				    THEN
					fired := greatest(started + forsecs, g);
				END IF;
			END IF;
		END IF;

		IF kind = 'node_offline' THEN
			breach := s.v >= 1;
			ok := s.v < 1;
		ELSIF below THEN
			breach := s.v < thr;
			ok := s.v >= rec;
		ELSE
			breach := s.v > thr;
			ok := s.v <= rec;
		END IF;

		IF isopen THEN
			IF cont AND fired IS NULL AND
			    started + forsecs <= s.at THEN
				fired := started + forsecs;
			END IF;
			IF ok THEN
				IF fired IS NOT NULL THEN
					nfired := nfired + 1;
					firing := firing + extract(epoch FROM
					    s.at - fired);
					evs := evs || jsonb_build_object(
					    'node_id', cur_n, 'task_id', cur_t,
					    'started_at', started,
					    'fired_at', fired,
					    'resolved_at', s.at, 'peak', peak);
				END IF;
				isopen := false;
				fired := NULL;
			ELSE
				IF peak IS NULL OR (below AND s.v < peak) OR
				    (NOT below AND s.v > peak) THEN
					peak := s.v;
				END IF;
				IF NOT cont AND fired IS NULL AND
				    s.at - started >= forsecs THEN
					fired := s.at;
				END IF;
			END IF;
		ELSIF breach THEN
			isopen := true;
			started := s.at;
			peak := s.v;
			fired := NULL;
			IF forsecs = interval '0' THEN
				fired := s.at;
			END IF;
		END IF;
		last_at := s.at;
	END LOOP;

	-- The last target's open event (the same as at a change of target).
	IF have THEN
		IF NOT cont AND NOT trunc AND stop - last_at > gap AND
		    nodata <> 'keep' THEN
			g := last_at + gap;
			IF nodata = 'ok' AND isopen THEN
				IF fired IS NOT NULL THEN
					nfired := nfired + 1;
					firing := firing + extract(epoch FROM
					    g - fired);
					evs := evs || jsonb_build_object(
					    'node_id', cur_n, 'task_id', cur_t,
					    'started_at', started,
					    'fired_at', fired, 'resolved_at', g,
					    'peak', peak);
				END IF;
				isopen := false;
			ELSIF nodata = 'alerting' THEN
				IF NOT isopen THEN
					isopen := true;
					started := g;
					peak := NULL;
					fired := NULL;
				END IF;
				IF fired IS NULL AND started + forsecs <= stop
				    THEN
					fired := greatest(started + forsecs, g);
				END IF;
			END IF;
		END IF;
		IF cont AND isopen AND fired IS NULL AND
		    started + forsecs <= stop THEN
			fired := started + forsecs;
		END IF;
		IF isopen AND fired IS NOT NULL THEN
			nfired := nfired + 1;
			firing := firing + extract(epoch FROM stop - fired);
			evs := evs || jsonb_build_object('node_id', cur_n,
			    'task_id', cur_t, 'started_at', started,
			    'fired_at', fired, 'resolved_at', NULL,
			    'peak', peak);
		END IF;
	END IF;

	RETURN jsonb_build_object('supported', true, 'days', days,
	    'from', since, 'to', stop, 'fired', nfired,
	    'firing_seconds', round(firing)::bigint, 'targets', ntarg,
	    'samples', nsamp, 'truncated', trunc,
	    'events', (SELECT coalesce(jsonb_agg(e ORDER BY
		(e->>'fired_at')::timestamptz DESC), '[]') FROM
		(SELECT e FROM unnest(evs) e ORDER BY
		(e->>'fired_at')::timestamptz DESC LIMIT 100) x));
END
$$;
