-- Events stay append-only, and undeletable while their run is active. A finished run's events may
-- be deleted (by `mogplexd runs prune`, which deletes all of them at once and keeps the run).
DROP TRIGGER run_events_append_only_delete;
CREATE TRIGGER run_events_append_only_delete BEFORE DELETE ON run_events
WHEN NOT EXISTS (SELECT 1 FROM runs WHERE id = OLD.run_id AND status IN ('success','failed','cancelled'))
BEGIN SELECT RAISE(ABORT, 'run events are append-only'); END;
