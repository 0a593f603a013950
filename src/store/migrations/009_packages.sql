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

-- Uploads in progress (tus 1.0, docs/api.md "Uploads"): the bytes are in
-- YARD_UPLOAD_DIR/<id>; "offset" counts the bytes written and fsync'd,
-- sha_state is OpenSSL's SHA256_CTX after them, so that the package's
-- SHA-256 is known when the last byte lands without reading the file
-- again.  An append holds the upload (locked_until) so that two PATCHes
-- never write at once.  The row is kept once checked (accepted or
-- rejected) so that the client can read the verdict, and removed when it
-- expires.
CREATE TABLE uploads (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id		bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	uploader_sub	text NOT NULL,
	by_scope	boolean NOT NULL, -- a service token's packages:upload
	length		bigint NOT NULL CHECK (length > 0),
	"offset"	bigint NOT NULL DEFAULT 0
			CHECK ("offset" >= 0 AND "offset" <= length),
	sha_state	bytea,
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
	version		text NOT NULL DEFAULT '' CHECK (length(version) <= 100),
	notes		text NOT NULL DEFAULT '' CHECK (length(notes) <= 4000),
	filename	text NOT NULL DEFAULT '' CHECK (length(filename) <= 255),
	task_id		bigint REFERENCES tasks(id) ON DELETE CASCADE,
	node_id		bigint REFERENCES nodes(id) ON DELETE CASCADE,
	state		text NOT NULL DEFAULT 'receiving' CHECK (state IN
			('receiving', 'checking', 'accepted', 'rejected')),
	reason		text,
	entry		text,
	message		text,
	package_id	bigint REFERENCES packages(id) ON DELETE SET NULL,
	locked_until	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	CHECK (task_id IS NULL OR node_id IS NULL)
);
CREATE INDEX uploads_user_idx ON uploads (user_id) WHERE state = 'receiving';
CREATE INDEX uploads_expires_idx ON uploads (expires_at);
