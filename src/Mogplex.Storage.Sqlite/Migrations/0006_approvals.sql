-- Approvals of interactive.md: a tool call a run's harness asked about and the server's policy
-- left to a person. Closed once (pending -> approved | rejected | expired), by compare-and-set.
CREATE TABLE approvals (
    id               TEXT PRIMARY KEY,
    run_id           TEXT NOT NULL REFERENCES runs(id),
    status           TEXT NOT NULL CHECK (status IN ('pending','approved','rejected','expired')),
    action           TEXT NOT NULL,
    descriptors_json TEXT NOT NULL,
    target           TEXT NOT NULL,
    risk             TEXT NOT NULL,
    tool_name        TEXT,
    turn_id          TEXT,
    harness_ref      TEXT NOT NULL,
    details_json     TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    decided_at       INTEGER,
    decided_by       TEXT,
    decided_via      TEXT,
    reason           TEXT
);
CREATE INDEX approvals_run ON approvals (run_id, created_at, id);
