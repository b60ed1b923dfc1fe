-- Per-bucket count of the hits still stored, kept in step with rate_limit_hits, so that a limit
-- check reads one row instead of counting the window (which grows with the limit).
-- Buckets are now one per (token, window): "req:<token>:request", "start:<token>:minute", ...
DELETE FROM rate_limit_hits;

CREATE TABLE rate_limit_counts (
    bucket  TEXT PRIMARY KEY,
    n       INTEGER NOT NULL CHECK (n >= 0)
) WITHOUT ROWID;
