-- A command result's code and parameters (docs/agent-protocol.md,
-- "Result codes"): what its output says, for pages to word in their
-- language.  NULL for an agent that sends none (its output stays).

ALTER TABLE commands ADD COLUMN code text,
	ADD COLUMN params jsonb;
ALTER TABLE command_events ADD COLUMN code text,
	ADD COLUMN params jsonb;
