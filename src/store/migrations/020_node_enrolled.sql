-- A node is "enrolled" until its agent's first heartbeat: enrolment no
-- longer counts as being heard from (docs/api.md, "Nodes and tasks").
-- Never-connected nodes have no presence alerts (docs/alerts.md).

CREATE OR REPLACE FUNCTION yard_node_status(revoked timestamptz,
    seen timestamptz, offline_after integer, lost_after integer)
    RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE
	WHEN revoked IS NOT NULL THEN 'revoked'
	WHEN seen IS NULL THEN 'enrolled'
	WHEN seen > now() - make_interval(secs => offline_after) THEN 'online'
	WHEN seen > now() - make_interval(secs => lost_after) THEN 'offline'
	ELSE 'lost' END
$$;

-- Enrolment used to stamp last_seen with its own time (the same now() as
-- enrolled_at); a heartbeat writes the agent's time, never exactly that.
-- Nodes whose only sign of life was enrolment become never-connected.
UPDATE nodes SET last_seen = NULL, status = 'enrolled',
    status_changed_at = now()
    WHERE revoked_at IS NULL AND last_seen IS NOT NULL
    AND last_seen = enrolled_at;
