-- The claim skips a run whose branch (working branch of the same source) a claimed active run
-- holds: this index answers that question from the active runs alone.
CREATE INDEX ix_runs_active_branch ON runs(working_branch, repo_id) WHERE status IN ('pending','streaming');
