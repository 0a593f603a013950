-- A log request of mode "file": the Configuration tab's view of any file
-- of a task's tree (docs/agent-protocol.md, "Logs"), answered by the
-- agent in base64 chunks and read only by who may manage the task.
ALTER TABLE log_requests DROP CONSTRAINT log_requests_mode_check;
ALTER TABLE log_requests ADD CONSTRAINT log_requests_mode_check
	CHECK (mode IN ('tail', 'follow', 'download', 'file'));
