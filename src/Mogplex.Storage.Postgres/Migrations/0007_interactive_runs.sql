-- [beyond] interactive.md: a run that stays open between turns, how many turns it had, whether it
-- waits for a person's input, the harness's own conversation id (to resume it in a new process),
-- the commit its sandbox started from (to deliver against it after a restart), and what people sent it (taken once, in order, by the node that runs its harness).
ALTER TABLE runs ADD COLUMN interactive boolean NOT NULL DEFAULT false;
ALTER TABLE runs ADD COLUMN turns integer NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN awaiting_input boolean NOT NULL DEFAULT false;
ALTER TABLE runs ADD COLUMN harness_session text;
ALTER TABLE runs ADD COLUMN start_commit text;
CREATE TABLE run_inputs (
    id         text PRIMARY KEY,
    run_id     text NOT NULL REFERENCES runs(id),
    seq        bigint NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('message','interrupt','finish')),
    text       text,
    mode       text,
    client_key text,
    created_at timestamptz NOT NULL,
    taken_at   timestamptz
);
CREATE UNIQUE INDEX run_inputs_run ON run_inputs (run_id, seq);
-- A client's Idempotency-Key for a message: a retry finds the message it already sent.
CREATE UNIQUE INDEX run_inputs_client_key ON run_inputs (run_id, client_key) WHERE client_key IS NOT NULL;
