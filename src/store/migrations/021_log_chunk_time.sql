-- When the server received each chunk of a log request: the logs page
-- shows it beside lines that carry no time of their own.
ALTER TABLE log_chunks ADD COLUMN received_at timestamptz NOT NULL DEFAULT now();
