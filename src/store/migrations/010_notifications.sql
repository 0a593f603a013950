-- Notifications (docs/api.md, "Notifications"; docs/ews-integration.md,
-- "The callback"): an inbox per user and a durable outbox of
-- deliveries (e-mail, the EWS callback), both written by a trigger in the
-- very transaction that inserts a package, so that an event is never lost
-- and never queued twice (unique keys).  One leader among the instances
-- sends the outbox (src/store/outbox.c, src/api/outbox.c).

-- The language of a user's notifications: 'zh-CN' (default) or 'en'.
ALTER TABLE users ADD COLUMN lang text NOT NULL DEFAULT 'zh-CN'
	CHECK (lang IN ('zh-CN', 'en'));

-- The inbox: one row per user and event.
CREATE TABLE notifications (
	id		bigserial PRIMARY KEY,
	user_id		bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	kind		text NOT NULL CHECK (kind IN ('package.uploaded')),
	package_id	bigint REFERENCES packages(id) ON DELETE CASCADE,
	task_id		bigint REFERENCES tasks(id) ON DELETE SET NULL,
	node_id		bigint REFERENCES nodes(id) ON DELETE SET NULL,
	title		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	read_at		timestamptz,
	UNIQUE (user_id, kind, package_id)
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id)
	WHERE read_at IS NULL;

-- The outbox: one row per delivery.  idem_key names the message (the
-- Idempotency-Key of a callback, the Message-ID of a mail): queued once,
-- whatever happens.  state: queued (due at next_at) -> sending (claimed by
-- claimed_by) -> sent | queued again (a failed attempt, back-off) |
-- failed (attempts exhausted) | skipped (the channel is not configured).
CREATE TABLE outbox (
	id		bigserial PRIMARY KEY,
	channel		text NOT NULL CHECK (channel IN ('mail', 'callback')),
	kind		text NOT NULL,
	idem_key	text NOT NULL UNIQUE,
	user_id		bigint REFERENCES users(id) ON DELETE SET NULL,
	recipient	text NOT NULL DEFAULT '', -- e-mail address (mail)
	lang		text NOT NULL DEFAULT 'zh-CN',
	payload		jsonb NOT NULL,
	state		text NOT NULL DEFAULT 'queued' CHECK (state IN
			    ('queued', 'sending', 'sent', 'failed', 'skipped')),
	attempts	integer NOT NULL DEFAULT 0,
	next_at		timestamptz NOT NULL DEFAULT now(),
	claimed_by	text,
	claimed_at	timestamptz,
	last_error	text NOT NULL DEFAULT '',
	created_at	timestamptz NOT NULL DEFAULT now(),
	sent_at		timestamptz
);
CREATE INDEX outbox_due_idx ON outbox (next_at)
	WHERE state IN ('queued', 'sending');

-- Every attempt, for operators (docs/operations.md).
CREATE TABLE outbox_attempts (
	id		bigserial PRIMARY KEY,
	outbox_id	bigint NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
	at		timestamptz NOT NULL DEFAULT now(),
	holder		text NOT NULL,
	ok		boolean NOT NULL,
	error		text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_attempts_outbox_idx ON outbox_attempts (outbox_id);

-- A new package: every enabled user who may manage its target (the level
-- rule of 006_levels.sql: manage on its task, or on its node when only a
-- node is given; admins when there is no target) gets an inbox row, and a
-- mail when they have an address; EWS gets one callback.  The callback is
-- queued even when YARD_EWS_NOTIFY_URL is unset (a trigger cannot read the
-- settings): the sender marks it skipped then.
CREATE FUNCTION yard_package_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	tnode	bigint;
	pkg	jsonb;
BEGIN
	IF NEW.task_id IS NOT NULL THEN
		SELECT node_id INTO tnode FROM tasks WHERE id = NEW.task_id;
	ELSE
		tnode := NEW.node_id;
	END IF;
	pkg := jsonb_build_object('id', NEW.id, 'sha256', NEW.sha256,
	    'name', NEW.name, 'version', NEW.version, 'size', NEW.size,
	    'entries', NEW.entries, 'notes', NEW.notes,
	    'filename', NEW.filename, 'task_id', NEW.task_id,
	    'node_id', NEW.node_id, 'uploader_sub', NEW.uploader_sub,
	    'task_name', (SELECT name FROM tasks WHERE id = NEW.task_id),
	    'node_name', (SELECT name FROM nodes WHERE id = tnode));

	WITH r AS (SELECT u.id, u.sub, u.email, u.lang FROM users u
	    WHERE NOT u.disabled AND CASE
		WHEN NEW.task_id IS NULL AND NEW.node_id IS NULL
		    THEN u.admin OR u.role_admin
		WHEN NEW.task_id IS NULL
		    THEN yard_level(u.id, u.admin OR u.role_admin,
			NEW.node_id, NULL) >= 3
		ELSE yard_level(u.id, u.admin OR u.role_admin, tnode,
		    NEW.task_id) >= 3 END),
	inbox AS (INSERT INTO notifications (user_id, kind, package_id,
	    task_id, node_id, title)
	    SELECT r.id, 'package.uploaded', NEW.id, NEW.task_id, tnode,
		CASE r.lang WHEN 'en' THEN 'New update package: '
		    ELSE '新的更新包：' END
		|| NEW.name || CASE WHEN NEW.version <> ''
		    THEN ' ' || NEW.version ELSE '' END
	    FROM r ON CONFLICT DO NOTHING),
	mail AS (INSERT INTO outbox (channel, kind, idem_key, user_id,
	    recipient, lang, payload)
	    SELECT 'mail', 'package.uploaded',
		'package.uploaded.' || NEW.id || '.mail.' || r.id, r.id,
		r.email, r.lang, jsonb_build_object('package', pkg,
		'sub', r.sub)
	    FROM r WHERE r.email <> ''
	    ON CONFLICT (idem_key) DO NOTHING)
	INSERT INTO outbox (channel, kind, idem_key, payload)
	SELECT 'callback', 'package.uploaded', 'package.uploaded.' || NEW.id,
	    jsonb_build_object('id', 'package.uploaded.' || NEW.id,
		'kind', 'package.uploaded', 'package_id', NEW.id,
		'package', pkg - 'task_name' - 'node_name' - 'uploader_sub'
		    - 'entries' - 'notes' - 'filename',
		'target', CASE WHEN NEW.task_id IS NOT NULL
		    THEN jsonb_build_object('task_id', NEW.task_id)
		    WHEN NEW.node_id IS NOT NULL
		    THEN jsonb_build_object('node_id', NEW.node_id)
		    ELSE '{}'::jsonb END,
		'recipients', (SELECT coalesce(jsonb_agg(r.sub ORDER BY r.id),
		    '[]') FROM r))
	ON CONFLICT (idem_key) DO NOTHING;
	RETURN NULL;
END
$$;

CREATE TRIGGER packages_notify AFTER INSERT ON packages
	FOR EACH ROW EXECUTE FUNCTION yard_package_notify();
