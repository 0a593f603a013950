-- Yard core schema: users, grants, audit, and the node/task rows that
-- grants point at (nodes and tasks gain their other columns in later
-- migrations).

CREATE TABLE users (
	id		bigserial PRIMARY KEY,
	sub		text NOT NULL UNIQUE CHECK (length(sub) BETWEEN 1 AND 255),
	name		text NOT NULL DEFAULT '' CHECK (length(name) <= 255),
	email		text NOT NULL DEFAULT '' CHECK (length(email) <= 255),
	admin		boolean NOT NULL DEFAULT false,	-- marked admin in Yard
	role_admin	boolean NOT NULL DEFAULT false,	-- EWS role, last token seen
	disabled	boolean NOT NULL DEFAULT false,
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	bigint REFERENCES users(id) ON DELETE SET NULL,
	last_seen	timestamptz
);

CREATE TABLE nodes (
	id		bigserial PRIMARY KEY,
	name		text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
	hostname	text NOT NULL DEFAULT '',
	status		text NOT NULL DEFAULT 'new',
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tasks (
	id		bigserial PRIMARY KEY,
	node_id		bigint NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
	kind		text NOT NULL CHECK (kind IN ('console', 'tomcat', 'jar')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (node_id, name)
);
CREATE INDEX tasks_node_idx ON tasks (node_id);

CREATE TABLE grants (
	id		bigserial PRIMARY KEY,
	user_id		bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	node_id		bigint REFERENCES nodes(id) ON DELETE CASCADE,
	task_id		bigint REFERENCES tasks(id) ON DELETE CASCADE,
	level		text NOT NULL CHECK (level IN ('view', 'operate')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	bigint REFERENCES users(id) ON DELETE SET NULL,
	CHECK ((node_id IS NULL) <> (task_id IS NULL))
);
CREATE UNIQUE INDEX grants_user_node_uq ON grants (user_id, node_id)
    WHERE node_id IS NOT NULL;
CREATE UNIQUE INDEX grants_user_task_uq ON grants (user_id, task_id)
    WHERE task_id IS NOT NULL;
CREATE INDEX grants_user_idx ON grants (user_id);

-- Who did what, when, from where.  Never updated or deleted by Yard.
CREATE TABLE audit (
	id		bigserial PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	actor_id	bigint REFERENCES users(id) ON DELETE SET NULL,
	actor_sub	text NOT NULL DEFAULT '',
	action		text NOT NULL,
	object_type	text NOT NULL,
	object_id	bigint,
	detail		jsonb NOT NULL DEFAULT '{}',
	remote_addr	text NOT NULL DEFAULT ''
);
CREATE INDEX audit_at_idx ON audit (at);
CREATE INDEX audit_actor_idx ON audit (actor_id, id);
CREATE INDEX audit_object_idx ON audit (object_type, object_id, id);
