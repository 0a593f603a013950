-- Duties that run once per cluster (the presence sweep) or never twice at
-- once (metric pruning) record who ran them last and how often, so that an
-- operator, and the tests, can see that one instance leads.

CREATE TABLE duty_runs (
	duty     text PRIMARY KEY,
	holder   text NOT NULL,
	runs     bigint NOT NULL DEFAULT 0,
	last_run timestamptz NOT NULL DEFAULT now()
);
