-- The claim skips a run whose user already has as many claimed active runs as the per-user limit
-- (Runs:MaxConcurrentPerUser): this index counts a user's active runs from the active runs alone.
CREATE INDEX ix_runs_active_user ON runs(user_id) WHERE status IN ('pending','streaming');
