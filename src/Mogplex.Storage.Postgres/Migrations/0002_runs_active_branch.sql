-- The claim skips a run whose branch (repo, working branch) a claimed active run holds: this
-- index answers that question from the active runs alone.
CREATE INDEX ix_runs_active_branch ON runs(repo_id, working_branch) WHERE status IN ('pending','streaming');
