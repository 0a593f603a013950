-- Which bytes of a log chunk the task wrote to stderr, as the agent
-- reported them: [[start, end], ...] byte ranges of data, in order and
-- apart (docs/agent-protocol.md, "Logs").  NULL: none, or an agent that
-- does not tell.
ALTER TABLE log_chunks ADD COLUMN stderr jsonb;
