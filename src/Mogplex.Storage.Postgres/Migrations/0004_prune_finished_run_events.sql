-- Events stay append-only, and undeletable while their run is active. A finished run's events may
-- be deleted (by `mogplexd runs prune`, which deletes all of them at once and keeps the run).
-- The check runs once per statement, over the deleted rows.
DROP TRIGGER run_events_append_only_row ON run_events;
CREATE TRIGGER run_events_append_only_update BEFORE UPDATE ON run_events
FOR EACH ROW EXECUTE FUNCTION run_events_append_only();

CREATE FUNCTION run_events_delete_finished_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM removed JOIN runs ON runs.id = removed.run_id
               WHERE runs.status NOT IN ('success','failed','cancelled')) THEN
        RAISE EXCEPTION 'run events are append-only' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER run_events_delete_finished_only AFTER DELETE ON run_events
REFERENCING OLD TABLE AS removed
FOR EACH STATEMENT EXECUTE FUNCTION run_events_delete_finished_only();
