-- The alert evaluator and its notifications (docs/alerts.md): what the
-- heartbeat adds for the rules (consecutive failing health checks, the
-- history of policy restarts), the evaluation (yard_alert_eval(), run by
-- the leader of the "alert-eval" duty) and the queueing of its messages
-- (yard_alert_notify(), the leader of "alert-notify") into the inbox and
-- the outbox that src/api/outbox.c sends.  Each function is one statement
-- of its duty: one transaction, so a run happens whole or not at all, and
-- a failover continues from the tables.

-- Consecutive failing health checks, as the agent reports them (older
-- agents send none: 0).
ALTER TABLE tasks ADD COLUMN health_fails integer NOT NULL DEFAULT 0
	CHECK (health_fails >= 0);

-- Every increase of a task's policy restart count, with its time, so that
-- task_restarts can count "more than K in window T".  Written by a
-- trigger, whatever path updates tasks.restarts; pruned with the metric
-- history (older than the longest window a rule may have, 7 days).
CREATE TABLE task_restart_log (
	task_id		bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	at		timestamptz NOT NULL DEFAULT now(),
	count		integer NOT NULL CHECK (count > 0)
);
CREATE INDEX task_restart_log_idx ON task_restart_log (task_id, at);

CREATE FUNCTION yard_task_restart_log() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM task_restart_log WHERE task_id = NEW.id
	    AND at < now() - interval '7 days';
	INSERT INTO task_restart_log (task_id, count)
	    VALUES (NEW.id, NEW.restarts - OLD.restarts);
	RETURN NULL;
END
$$;
CREATE TRIGGER tasks_restart_log AFTER UPDATE OF restarts ON tasks
	FOR EACH ROW WHEN (NEW.restarts > OLD.restarts)
	EXECUTE FUNCTION yard_task_restart_log();

-- What the notifier has sent of an event: its first firing notice, the
-- latest one (repeats count from it) and its resolved notice.
ALTER TABLE alert_events
	ADD COLUMN fire_sent_at timestamptz,
	ADD COLUMN sent_at timestamptz,
	ADD COLUMN resolve_sent_at timestamptz;

-- One row per message group: a node's transitions of one kind that went
-- out together (YARD_ALERT_GROUP_WAIT).  Its id names every message queued
-- for it (the idempotency keys), so nothing is queued twice.
CREATE TABLE alert_notices (
	id		bigserial PRIMARY KEY,
	node_id		bigint REFERENCES nodes(id) ON DELETE CASCADE,
	kind		text NOT NULL CHECK (kind IN ('alert.firing',
			    'alert.resolved')),
	event_ids	bigint[] NOT NULL,
	repeat		boolean NOT NULL DEFAULT false,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_notices_created_idx ON alert_notices (created_at);

-- The inbox learns the alert kinds; an alert item names its notice and
-- the first of its events (the page opens /ui/alerts?event=ID).
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
	ADD CONSTRAINT notifications_kind_check CHECK (kind IN
	    ('package.uploaded', 'alert.firing', 'alert.resolved')),
	ADD COLUMN alert_event_id bigint REFERENCES alert_events(id)
	    ON DELETE CASCADE,
	ADD COLUMN alert_notice_id bigint REFERENCES alert_notices(id)
	    ON DELETE CASCADE;
CREATE UNIQUE INDEX notifications_alert_uq ON notifications (user_id,
    alert_notice_id) WHERE alert_notice_id IS NOT NULL;

-- The kinds whose value is 1 or 0 (a state): they fire at 1 and resolve
-- at 0, whatever the recovery threshold says.
CREATE FUNCTION yard_alert_state_kind(kind text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT kind IN ('task_exit', 'task_crash_loop', 'node_offline')
$$;

-- Every enabled rule's value per target in scope, now:
--   value	 NULL when there is no data (no sample within `fresh`
--		 seconds, no disk facts);
--   node_down	 the target's node is not online (for any kind but
--		 node_offline): no data that never raises an alert;
--   since	 when the condition began, if known (node_offline: Yard's
--		 offline decision);
--   cmd	 'command:<uuid>' of planned work on the target (active, or
--		 finished less than `grace` seconds ago);
--   mute	 'mute:<id>' of an active mute on the target or its node.
-- Scope: a task is in a task rule's scope when it is in task_ids (or
-- task_ids is empty) and its node in node_ids (or node_ids is empty).
-- Planned work and mutes are gathered once per run (a correlated look-up
-- per rule and target read the whole command history every time: 16 s
-- for 1,000 tasks; docs/benchmarks.md, B13).
CREATE INDEX commands_finished_idx ON commands (finished_at);

CREATE FUNCTION yard_alert_values(fresh integer, grace integer)
    RETURNS TABLE (rule_id bigint, kind text, node_id bigint, task_id bigint,
	value double precision, node_down boolean, since timestamptz,
	cmd text, mute text)
LANGUAGE sql STABLE AS $$
	WITH planned AS (SELECT c.id, c.seq, c.node_id, c.task_id
	    FROM commands c
	    WHERE (c.state IN ('queued', 'dispatched', 'running')
		OR c.finished_at > now() - make_interval(secs => grace))
	    AND CASE WHEN c.task_id IS NULL THEN c.type <> 'ping'
		ELSE c.type IN ('stop', 'restart', 'deploy', 'update',
		    'rollback', 'move', 'uninstall')
		OR (c.type = 'apply-config'
		    AND c.payload->'restart' = 'true'::jsonb) END),
	tcmd AS (SELECT DISTINCT ON (p.task_id) p.task_id, p.seq, p.id
	    FROM planned p WHERE p.task_id IS NOT NULL
	    ORDER BY p.task_id, p.seq DESC),
	ncmd AS (SELECT DISTINCT ON (p.node_id) p.node_id, p.seq, p.id
	    FROM planned p WHERE p.task_id IS NULL
	    ORDER BY p.node_id, p.seq DESC),
	tmute AS (SELECT m.task_id, min(m.id) AS id FROM alert_mutes m
	    WHERE m.until > now() AND m.task_id IS NOT NULL
	    GROUP BY m.task_id),
	nmute AS (SELECT m.node_id, min(m.id) AS id FROM alert_mutes m
	    WHERE m.until > now() AND m.node_id IS NOT NULL
	    GROUP BY m.node_id)
	SELECT r.id, r.kind, t.node_id, t.id,
	    CASE r.kind
	    WHEN 'task_cpu' THEN CASE WHEN t.state IN ('starting', 'running',
		'unhealthy') THEN (SELECT m.cpu FROM task_metrics m
		WHERE m.task_id = t.id AND m.cpu IS NOT NULL
		AND m.at > now() - make_interval(secs => fresh)
		ORDER BY m.at DESC LIMIT 1) ELSE 0 END
	    WHEN 'task_memory' THEN CASE WHEN t.state IN ('starting',
		'running', 'unhealthy') THEN (SELECT m.rss / 1048576.0
		FROM task_metrics m WHERE m.task_id = t.id
		AND m.rss IS NOT NULL
		AND m.at > now() - make_interval(secs => fresh)
		ORDER BY m.at DESC LIMIT 1) ELSE 0 END
	    WHEN 'task_exit' THEN CASE WHEN t.state IN ('exited', 'failed')
		THEN 1 ELSE 0 END
	    WHEN 'task_crash_loop' THEN CASE WHEN t.state = 'crash_loop'
		THEN 1 ELSE 0 END
	    WHEN 'task_restarts' THEN (SELECT coalesce(sum(l.count), 0)
		FROM task_restart_log l WHERE l.task_id = t.id
		AND l.at > now() - make_interval(secs => r.window_seconds))
	    WHEN 'health_failing' THEN CASE WHEN t.state IN ('starting',
		'running', 'unhealthy') THEN t.health_fails ELSE 0 END
	    END,
	    n.status <> 'online', NULL::timestamptz,
	    -- The newest planned work on the task or on its node.
	    'command:' || CASE WHEN nc.seq IS NULL OR tc.seq > nc.seq
		THEN tc.id ELSE nc.id END,
	    'mute:' || least(tm.id, nm.id)
	FROM alert_rules r
	JOIN tasks t ON (r.task_ids = '{}' OR t.id = ANY (r.task_ids))
	    AND (r.node_ids = '{}' OR t.node_id = ANY (r.node_ids))
	JOIN nodes n ON n.id = t.node_id
	LEFT JOIN tcmd tc ON tc.task_id = t.id
	LEFT JOIN ncmd nc ON nc.node_id = t.node_id
	LEFT JOIN tmute tm ON tm.task_id = t.id
	LEFT JOIN nmute nm ON nm.node_id = t.node_id
	WHERE r.enabled AND r.kind IN ('task_cpu', 'task_memory', 'task_exit',
	    'task_crash_loop', 'task_restarts', 'health_failing')
	    AND n.status IN ('online', 'offline', 'lost')
	UNION ALL
	SELECT r.id, r.kind, n.id, NULL::bigint,
	    CASE r.kind
	    WHEN 'node_offline' THEN CASE WHEN n.status IN ('offline', 'lost')
		THEN 1 ELSE 0 END
	    WHEN 'node_disk' THEN (SELECT min(100.0 * (d->>'free')::float8
		/ (d->>'total')::float8) FROM jsonb_array_elements(CASE
		WHEN jsonb_typeof(n.facts->'disks') = 'array'
		THEN n.facts->'disks' ELSE '[]' END) d
		WHERE jsonb_typeof(d->'total') = 'number'
		AND jsonb_typeof(d->'free') = 'number'
		AND (d->>'total')::float8 > 0)
	    WHEN 'node_memory' THEN (SELECT (m.mem_total - m.mem_used)
		/ 1048576.0 FROM node_metrics m WHERE m.node_id = n.id
		AND m.at > now() - make_interval(secs => fresh)
		ORDER BY m.at DESC LIMIT 1)
	    END,
	    r.kind <> 'node_offline' AND n.status <> 'online',
	    CASE WHEN r.kind = 'node_offline' THEN n.status_changed_at END,
	    'command:' || nc.id,
	    'mute:' || nm.id
	FROM alert_rules r
	JOIN nodes n ON r.node_ids = '{}' OR n.id = ANY (r.node_ids)
	LEFT JOIN ncmd nc ON nc.node_id = n.id
	LEFT JOIN nmute nm ON nm.node_id = n.id
	WHERE r.enabled AND r.kind IN ('node_offline', 'node_disk',
	    'node_memory')
	    AND n.status IN ('online', 'offline', 'lost')
$$;

-- Where a value stands against a rule's thresholds: 'breach', 'ok', or
-- 'hold' (between them: hysteresis).  No data (no value, or the target's
-- node down) follows no_data; a task on a node that is down never alerts
-- on its own: node_offline speaks for it.
CREATE FUNCTION yard_alert_cond(kind text, value double precision,
    node_down boolean, thr double precision, rec double precision,
    no_data text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
	WHEN value IS NULL OR node_down THEN CASE
	    WHEN no_data = 'ok' THEN 'ok'
	    WHEN no_data = 'alerting' AND NOT node_down THEN 'breach'
	    ELSE 'hold' END
	WHEN yard_alert_state_kind(kind) THEN CASE
	    WHEN value >= 1 THEN 'breach' ELSE 'ok' END
	WHEN yard_alert_below(kind) THEN CASE
	    WHEN value < thr THEN 'breach'
	    WHEN value >= rec THEN 'ok' ELSE 'hold' END
	WHEN kind = 'health_failing' THEN CASE
	    WHEN value >= thr THEN 'breach'
	    WHEN value <= rec THEN 'ok' ELSE 'hold' END
	ELSE CASE
	    WHEN value > thr THEN 'breach'
	    WHEN value <= rec THEN 'ok' ELSE 'hold' END
	END
$$;

-- One evaluation: every rule's targets move their events (docs/alerts.md,
-- "Evaluation").  Returns how many events changed state.  fresh: seconds
-- a metric sample counts as current; grace: seconds planned work keeps
-- quiet after it ends.
CREATE FUNCTION yard_alert_eval(fresh integer, grace integer)
    RETURNS integer
-- No JIT: compiling the plans cost more than running them (1.8 s
-- of 2.1 s for 10,000 tasks: docs/benchmarks.md, B13).
SET jit = off
LANGUAGE plpgsql AS $$
DECLARE
	v	record;
	e	alert_events;
	r	alert_rules;
	nodata	boolean;
	cond	text;	-- 'breach', 'ok' or 'hold' (between the thresholds)
	thr	double precision;
	rec	double precision;
	moved	integer := 0;
	seen	bigint[] := '{}';
BEGIN
	-- Never two evaluations at once (a leader handing over).
	PERFORM pg_advisory_xact_lock(hashtext('yard-alert-eval'));
	-- Only the targets that matter: an open event, or a breach that
	-- would open one (most targets of most rules are fine).
	FOR v IN SELECT x.* FROM yard_alert_values(fresh, grace) x
	    JOIN alert_rules ar ON ar.id = x.rule_id
	    WHERE x.cmd IS NULL AND yard_alert_cond(x.kind, x.value,
		x.node_down, ar.threshold, ar.recovery, ar.no_data) = 'breach'
	    OR EXISTS (SELECT 1 FROM alert_events o
		WHERE o.rule_id = x.rule_id
		AND coalesce(o.node_id, 0) = coalesce(x.node_id, 0)
		AND coalesce(o.task_id, 0) = coalesce(x.task_id, 0)
		AND o.state <> 'resolved') LOOP
		SELECT * INTO r FROM alert_rules WHERE id = v.rule_id;
		SELECT * INTO e FROM alert_events x WHERE x.rule_id = v.rule_id
		    AND coalesce(x.node_id, 0) = coalesce(v.node_id, 0)
		    AND coalesce(x.task_id, 0) = coalesce(v.task_id, 0)
		    AND x.state <> 'resolved' FOR UPDATE;
		IF e.id IS NOT NULL THEN
			seen := seen || e.id;
			thr := e.threshold;
			rec := e.recovery;
		ELSE
			thr := r.threshold;
			rec := r.recovery;
		END IF;

		nodata := v.value IS NULL OR v.node_down;
		cond := yard_alert_cond(v.kind, v.value, v.node_down, thr, rec,
		    r.no_data);

		IF e.id IS NULL THEN
			-- Planned work opens nothing.
			IF cond <> 'breach' OR v.cmd IS NOT NULL THEN
				CONTINUE;
			END IF;
			INSERT INTO alert_events (rule_id, kind, node_id,
			    task_id, value, threshold, recovery, started_at,
			    suppressed_by)
			VALUES (v.rule_id, v.kind, v.node_id, v.task_id,
			    v.value, thr, rec, least(coalesce(v.since, now()),
			    now()), v.mute)
			ON CONFLICT DO NOTHING RETURNING * INTO e;
			IF e.id IS NULL THEN
				CONTINUE;
			END IF;
			seen := seen || e.id;
			moved := moved + 1;
			IF e.started_at + make_interval(secs => r.for_seconds)
			    <= now() THEN
				UPDATE alert_events SET state = 'firing',
				    fired_at = now(), updated_at = now()
				    WHERE id = e.id;
			END IF;
			CONTINUE;
		END IF;

		IF e.state = 'pending' AND v.cmd IS NOT NULL THEN
			-- Planned work: a pending event resolves silently.
			UPDATE alert_events SET state = 'resolved',
			    resolved_at = now(), updated_at = now(),
			    value = v.value, suppressed_by = v.cmd
			    WHERE id = e.id;
			moved := moved + 1;
		ELSIF cond = 'ok' THEN
			UPDATE alert_events SET state = 'resolved',
			    resolved_at = now(), updated_at = now(),
			    value = v.value,
			    suppressed_by = coalesce(suppressed_by, v.mute)
			    WHERE id = e.id;
			moved := moved + 1;
		ELSIF e.state = 'pending'
		    AND (cond = 'breach' OR NOT nodata)
		    AND e.started_at + make_interval(secs => r.for_seconds)
		    <= now() THEN
			UPDATE alert_events SET state = 'firing',
			    fired_at = now(), updated_at = now(),
			    value = v.value,
			    suppressed_by = coalesce(suppressed_by, v.mute)
			    WHERE id = e.id;
			moved := moved + 1;
		ELSIF e.value IS DISTINCT FROM v.value
		    OR (e.suppressed_by IS NULL AND v.mute IS NOT NULL) THEN
			UPDATE alert_events SET value = v.value,
			    updated_at = now(),
			    suppressed_by = coalesce(suppressed_by, v.mute)
			    WHERE id = e.id;
		END IF;
	END LOOP;

	-- Open events no rule speaks for any more (rule disabled or
	-- deleted, target out of scope, node revoked): resolved.
	WITH gone AS (UPDATE alert_events SET state = 'resolved',
	    resolved_at = now(), updated_at = now()
	    WHERE state <> 'resolved' AND NOT (id = ANY (seen))
	    RETURNING id)
	SELECT moved + count(*) INTO moved FROM gone;
	RETURN moved;
END
$$;

-- The text of a value with its unit, for titles.
CREATE FUNCTION yard_alert_value_text(kind text, v double precision)
    RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN v IS NULL THEN '-'
	    WHEN kind IN ('task_cpu', 'node_disk') THEN round(v::numeric, 1)
		|| ' %'
	    WHEN kind IN ('task_memory', 'node_memory') THEN round(v::numeric)
		|| ' MiB'
	    ELSE round(v::numeric)::text END
$$;

-- Queue one notice's messages (docs/alerts.md, "Notifications"):
-- recipients are enabled users with operate or more on an event's target
-- (through grants: the admin flag alone does not count), plus the rules'
-- extra_emails (e-mail only).  Per recipient one inbox item and one mail
-- listing the events they may see whose rule has that channel; one
-- callback per event whose rule has "callback".  Every key is named
-- after the notice, so a notice is queued once.
CREATE FUNCTION yard_alert_queue(nid bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n	alert_notices;
	queued	integer := 0;
	c	integer;
BEGIN
	SELECT * INTO n FROM alert_notices WHERE id = nid;
	-- Scratch tables of this transaction (a run may queue several
	-- notices: made once, emptied for each).
	IF to_regclass('pg_temp.yard_alert_q') IS NULL THEN
		CREATE TEMP TABLE yard_alert_q (
			event_id bigint, rule_id bigint, channels text[],
			extra text[], node_id bigint, task_id bigint,
			item jsonb
		) ON COMMIT DROP;
		CREATE TEMP TABLE yard_alert_r (
			user_id bigint, sub text, email text, lang text,
			event_id bigint
		) ON COMMIT DROP;
	END IF;
	DELETE FROM yard_alert_q;
	INSERT INTO yard_alert_q
	SELECT e.id, e.rule_id, coalesce(r.channels, '{}'),
	    coalesce(r.extra_emails, '{}'), e.node_id, e.task_id,
	    jsonb_build_object('id', e.id, 'rule_id', e.rule_id,
		'rule', coalesce(r.name, ''), 'kind', e.kind,
		'state', e.state, 'node_id', e.node_id,
		'node_name', coalesce(nd.name, ''), 'task_id', e.task_id,
		'task_name', t.name, 'value', e.value,
		'value_text', yard_alert_value_text(e.kind, e.value),
		'threshold', e.threshold, 'recovery', e.recovery,
		'threshold_text', yard_alert_value_text(e.kind, e.threshold),
		'recovery_text', yard_alert_value_text(e.kind, e.recovery),
		'started_at', e.started_at, 'fired_at', e.fired_at,
		'resolved_at', e.resolved_at, 'suppressed_by',
		e.suppressed_by)
	FROM alert_events e
	LEFT JOIN alert_rules r ON r.id = e.rule_id
	LEFT JOIN nodes nd ON nd.id = e.node_id
	LEFT JOIN tasks t ON t.id = e.task_id
	WHERE e.id = ANY (n.event_ids);

	-- Who hears of which event: yard_level() >= 2 without the admin
	-- flag, from the grants on the target (not a call per user and
	-- event: a directory of thousands of users costs nothing here).
	DELETE FROM yard_alert_r;
	INSERT INTO yard_alert_r
	SELECT u.id, u.sub, u.email, u.lang, q.event_id
	FROM yard_alert_q q
	JOIN grants g ON g.node_id = q.node_id OR g.task_id = q.task_id
	JOIN users u ON u.id = g.user_id
	WHERE NOT u.disabled
	GROUP BY u.id, u.sub, u.email, u.lang, q.event_id
	HAVING max(yard_level_rank(g.level)) >= 2;

	-- The inbox: one item per user, naming the first event.
	WITH ins AS (INSERT INTO notifications (user_id, kind, task_id,
	    node_id, title, alert_event_id, alert_notice_id)
	SELECT x.user_id, n.kind, min(q.task_id), n.node_id,
	    CASE WHEN n.kind = 'alert.firing' THEN
		CASE min(x.lang) WHEN 'en' THEN 'Alert: ' ELSE '告警：' END
	    ELSE CASE min(x.lang) WHEN 'en' THEN 'Resolved: '
		ELSE '已恢复：' END END
	    || min(q.item->>'rule') || ' — '
	    || coalesce(min(q.item->>'task_name') || ' @ ', '')
	    || min(q.item->>'node_name')
	    || CASE WHEN count(*) > 1 THEN ' (+' || (count(*) - 1) || ')'
		ELSE '' END,
	    min(q.event_id), n.id
	FROM yard_alert_r x JOIN yard_alert_q q ON q.event_id = x.event_id
	WHERE 'inbox' = ANY (q.channels)
	GROUP BY x.user_id
	ON CONFLICT DO NOTHING RETURNING 1)
	SELECT count(*) INTO c FROM ins;
	queued := queued + c;

	-- Mail to users: one per user, their events.
	WITH ins AS (INSERT INTO outbox (channel, kind, idem_key, user_id,
	    recipient, lang, payload)
	SELECT 'mail', n.kind, n.kind || '.' || n.id || '.mail.' || x.user_id,
	    x.user_id, min(x.email), min(x.lang),
	    jsonb_build_object('notice_id', n.id, 'kind', n.kind,
		'repeat', n.repeat, 'sub', min(x.sub), 'events',
		jsonb_agg(q.item ORDER BY q.event_id))
	FROM yard_alert_r x JOIN yard_alert_q q ON q.event_id = x.event_id
	WHERE 'email' = ANY (q.channels) AND x.email <> ''
	GROUP BY x.user_id
	ON CONFLICT (idem_key) DO NOTHING RETURNING 1)
	SELECT count(*) INTO c FROM ins;
	queued := queued + c;

	-- Mail to the rules' extra addresses not already a recipient.
	WITH a AS (SELECT lower(addr) AS addr, q.event_id, q.item
	    FROM yard_alert_q q, unnest(q.extra) addr
	    WHERE 'email' = ANY (q.channels)),
	ins AS (INSERT INTO outbox (channel, kind, idem_key, recipient, lang,
	    payload)
	SELECT 'mail', n.kind,
	    n.kind || '.' || n.id || '.mail.x' || md5(a.addr), a.addr,
	    'zh-CN', jsonb_build_object('notice_id', n.id, 'kind', n.kind,
		'repeat', n.repeat, 'events',
		jsonb_agg(DISTINCT a.item))
	FROM a WHERE a.addr NOT IN (SELECT lower(x.email) FROM yard_alert_r x
	    WHERE x.email <> '')
	GROUP BY a.addr
	ON CONFLICT (idem_key) DO NOTHING RETURNING 1)
	SELECT count(*) INTO c FROM ins;
	queued := queued + c;

	-- The EWS callback: one per event.
	WITH ins AS (INSERT INTO outbox (channel, kind, idem_key, payload)
	SELECT 'callback', n.kind,
	    n.kind || '.' || n.id || '.callback.' || q.event_id,
	    jsonb_build_object('id',
		n.kind || '.' || n.id || '.callback.' || q.event_id,
		'kind', n.kind, 'event_id', q.event_id,
		'rule_id', q.rule_id,
		'target', jsonb_strip_nulls(jsonb_build_object('node_id',
		    q.node_id, 'task_id', q.task_id)),
		'value', q.item->'value',
		'recipients', (SELECT coalesce(jsonb_agg(DISTINCT x.sub),
		    '[]') FROM yard_alert_r x WHERE x.event_id = q.event_id))
	FROM yard_alert_q q WHERE 'callback' = ANY (q.channels)
	ON CONFLICT (idem_key) DO NOTHING RETURNING 1)
	SELECT count(*) INTO c FROM ins;
	queued := queued + c;
	RETURN queued;
END
$$;

-- One round of notifications: a node's transitions of one kind (firing,
-- with repeats due; resolved) go out together once the oldest has waited
-- group_wait seconds; a firing event is notified again repeat seconds
-- after its last notice (not while its node is down: node_offline speaks
-- for it then).  A suppressed event sends nothing, nor does a
-- pending event that resolved.  Returns the messages queued.
CREATE FUNCTION yard_alert_notify(group_wait integer, repeat integer)
    RETURNS integer
-- No JIT: compiling the plans cost more than running them (1.8 s
-- of 2.1 s for 10,000 tasks: docs/benchmarks.md, B13).
SET jit = off
LANGUAGE plpgsql AS $$
DECLARE
	g	record;
	nid	bigint;
	queued	integer := 0;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('yard-alert-notify'));
	FOR g IN
		WITH items AS (
			SELECT e.id, e.node_id, 'alert.firing' AS kind,
			    e.fired_at AS t, false AS rep
			FROM alert_events e WHERE e.fired_at IS NOT NULL
			    AND e.fire_sent_at IS NULL
			    AND e.suppressed_by IS NULL
			UNION ALL
			SELECT e.id, e.node_id, 'alert.firing',
			    e.sent_at + make_interval(secs => repeat), true
			FROM alert_events e WHERE e.state = 'firing'
			    AND e.suppressed_by IS NULL
			    AND e.sent_at IS NOT NULL AND e.sent_at
			    <= now() - make_interval(secs => repeat)
			    -- While its node is down, node_offline speaks.
			    AND (e.kind = 'node_offline' OR EXISTS (SELECT 1
				FROM nodes n WHERE n.id = e.node_id
				AND n.status = 'online'))
			UNION ALL
			SELECT e.id, e.node_id, 'alert.resolved',
			    e.resolved_at, false
			FROM alert_events e WHERE e.state = 'resolved'
			    AND e.fire_sent_at IS NOT NULL
			    AND e.resolve_sent_at IS NULL
			    AND e.suppressed_by IS NULL)
		SELECT node_id, kind, array_agg(id ORDER BY id) AS ids,
		    bool_and(rep) AS rep
		FROM items GROUP BY node_id, kind
		HAVING min(t) <= now() - make_interval(secs => group_wait)
		ORDER BY min(t)
	LOOP
		INSERT INTO alert_notices (node_id, kind, event_ids, repeat)
		    VALUES (g.node_id, g.kind, g.ids, g.rep)
		    RETURNING id INTO nid;
		IF g.kind = 'alert.firing' THEN
			UPDATE alert_events SET fire_sent_at =
			    coalesce(fire_sent_at, now()), sent_at = now()
			    WHERE id = ANY (g.ids);
		ELSE
			UPDATE alert_events SET resolve_sent_at = now()
			    WHERE id = ANY (g.ids);
		END IF;
		queued := queued + yard_alert_queue(nid);
	END LOOP;
	RETURN queued;
END
$$;
