-- Task configuration (docs/config.md): versions of each task's key-values,
-- mappings and file overrides, Apollo's last good snapshots, and the
-- effective configuration that every task command carries to the agent.

-- Every save is a version (from 1).  doc holds the whole configuration:
--   {"values":[{"key","value","secret":false} | {"key","enc","secret":true}],
--    "apollo":{"app_id","cluster","namespaces":[...],"auto_apply",
--              "auto_restart"} | null,
--    "mappings":[{"key","file","format","nodepath"}],
--    "files":[{"path","content_base64"}],
--    "env":bool, "properties_file":"rel/path" | null}
-- A secret value is only ever stored as "enc": base64 of AES-256-GCM
-- (nonce, ciphertext, tag) under YARD_CONFIG_KEY_FILE's key.
CREATE TABLE task_configs (
	task_id		bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	version		integer NOT NULL CHECK (version >= 1),
	author_id	bigint REFERENCES users(id) ON DELETE SET NULL,
	author_sub	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	comment		text NOT NULL DEFAULT '',
	restored_from	integer,
	doc		jsonb NOT NULL,
	PRIMARY KEY (task_id, version)
);

-- The newest version number of each task's configuration: a save takes
-- the next one by updating the task's row, so that two saves at once wait
-- for each other and never get the same number.
ALTER TABLE tasks ADD COLUMN config_version integer NOT NULL DEFAULT 0;

-- Apollo's last good answer per namespace (kept so that a start never
-- waits on Apollo), with the notification id of the long-poll and the
-- last error (NULL when the last call went well).
CREATE TABLE apollo_snapshots (
	app_id		text NOT NULL,
	cluster		text NOT NULL,
	namespace	text NOT NULL,
	release_key	text,
	items		jsonb NOT NULL DEFAULT '{}',
	notification_id	bigint NOT NULL DEFAULT -1,
	fetched_at	timestamptz,
	checked_at	timestamptz,
	error		text,
	PRIMARY KEY (app_id, cluster, namespace)
);

-- The effective configuration of a task's newest version, as commands
-- carry it: each key once, Apollo's value first (the first namespace
-- listed that has the key), else Yard's own (a secret still as "enc");
-- "source" says which.  NULL when the task has no configuration.
-- yard_config_effective(t, ver): the same of version ver (NULL: newest).
CREATE FUNCTION yard_config_effective(t bigint, ver integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
WITH c AS (SELECT version, doc FROM task_configs WHERE task_id = t
	AND (ver IS NULL OR version = ver) ORDER BY version DESC LIMIT 1),
ns AS (SELECT n.name, n.ord FROM c, jsonb_array_elements_text(
	CASE WHEN jsonb_typeof(c.doc->'apollo') = 'object'
	THEN c.doc->'apollo'->'namespaces' ELSE '[]'::jsonb END)
	WITH ORDINALITY n(name, ord)),
ap AS (SELECT DISTINCT ON (i.key) i.key, i.value
	FROM c, ns JOIN apollo_snapshots s ON s.namespace = ns.name,
	jsonb_each_text(s.items) i
	WHERE s.app_id = c.doc->'apollo'->>'app_id'
	AND s.cluster = c.doc->'apollo'->>'cluster'
	ORDER BY i.key, ns.ord),
y AS (SELECT v->>'key' AS key, v FROM c, jsonb_array_elements(c.doc->'values') v),
m AS (SELECT coalesce(y.key, ap.key) AS key,
	CASE WHEN ap.key IS NOT NULL THEN jsonb_build_object('key', ap.key,
	'value', ap.value, 'source', 'apollo', 'secret',
	coalesce((y.v->>'secret')::boolean, false))
	ELSE y.v || '{"source":"yard"}'::jsonb END AS v
	FROM y FULL JOIN ap ON ap.key = y.key)
SELECT jsonb_build_object('version', c.version,
	'values', coalesce((SELECT jsonb_agg(m.v ORDER BY m.key) FROM m),
	'[]'::jsonb),
	'mappings', coalesce(c.doc->'mappings', '[]'::jsonb),
	'files', coalesce(c.doc->'files', '[]'::jsonb),
	'env', coalesce(c.doc->'env', 'false'::jsonb),
	'properties_file', coalesce(c.doc->'properties_file', 'null'::jsonb))
	FROM c
$$;

CREATE FUNCTION yard_config_effective(t bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
SELECT yard_config_effective(t, NULL)
$$;

-- A configuration as users may see it: a secret value is null and its
-- "enc" is gone.  Commands' payloads go through this in every answer.
CREATE FUNCTION yard_config_masked(cfg jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
SELECT CASE WHEN cfg IS NULL OR jsonb_typeof(cfg->'values') IS DISTINCT
	FROM 'array' THEN cfg
	ELSE jsonb_set(cfg, '{values}', coalesce((SELECT jsonb_agg(
	CASE WHEN coalesce((v->>'secret')::boolean, false)
	THEN (v - 'enc') || '{"value":null}'::jsonb ELSE v END ORDER BY o)
	FROM jsonb_array_elements(cfg->'values') WITH ORDINALITY x(v, o)),
	'[]'::jsonb)) END
$$;
