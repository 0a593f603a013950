-- Packages: an update package uploaded (by EWS's backend or an
-- implementer), checked and kept once per content (sha256).  The file
-- lives at YARD_PACKAGE_DIR/sha256/<2 hex>/<hash>; this row is its
-- metadata and the manifest the check recorded (docs/packages.md).

CREATE TABLE packages (
	id		bigserial PRIMARY KEY,
	sha256		text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
	version		text NOT NULL DEFAULT '' CHECK (length(version) <= 100),
	notes		text NOT NULL DEFAULT '' CHECK (length(notes) <= 4000),
	filename	text NOT NULL DEFAULT '' CHECK (length(filename) <= 255),
	task_id		bigint REFERENCES tasks(id) ON DELETE SET NULL,
	node_id		bigint REFERENCES nodes(id) ON DELETE SET NULL,
	size		bigint NOT NULL CHECK (size >= 0),
	entries		integer NOT NULL CHECK (entries >= 0),
	manifest	jsonb NOT NULL,
	uploaded_by	bigint REFERENCES users(id) ON DELETE SET NULL,
	uploader_sub	text NOT NULL DEFAULT '',
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX packages_task_idx ON packages (task_id) WHERE task_id IS NOT NULL;
CREATE INDEX packages_node_idx ON packages (node_id) WHERE node_id IS NOT NULL;
CREATE INDEX packages_created_idx ON packages (created_at DESC);
