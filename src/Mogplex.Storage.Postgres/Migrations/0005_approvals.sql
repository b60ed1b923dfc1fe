-- Approvals of interactive.md: a tool call a run's harness asked about and the server's policy
-- left to a person. Closed once (pending -> approved | rejected | expired), by compare-and-set.
CREATE TABLE approvals (
    id               text PRIMARY KEY,
    run_id           text NOT NULL REFERENCES runs(id),
    status           text NOT NULL CHECK (status IN ('pending','approved','rejected','expired')),
    action           text NOT NULL,
    descriptors_json text NOT NULL,
    target           text NOT NULL,
    risk             text NOT NULL,
    tool_name        text,
    turn_id          text,
    harness_ref      text NOT NULL,
    details_json     text NOT NULL,
    created_at       timestamptz NOT NULL,
    decided_at       timestamptz,
    decided_by       text,
    decided_via      text,
    reason           text
);
CREATE INDEX approvals_run ON approvals (run_id, created_at, id);
