-- Mogplex SQLite schema, version 1. Times are Unix milliseconds (UTC). Ids are lowercase UUID text.
-- Invariants live here as CHECK constraints and triggers, so no code path can break them.

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE tokens (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,          -- SHA-256 hex of the whole token; the plaintext is never stored
    prefix        TEXT NOT NULL,
    scopes        TEXT NOT NULL CHECK (scopes <> ''),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);

CREATE TABLE installations (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    source  TEXT NOT NULL UNIQUE
);

CREATE TABLE repos (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users(id),
    full_name        TEXT NOT NULL,
    installation_id  INTEGER NOT NULL REFERENCES installations(id),
    default_branch   TEXT NOT NULL,
    root_directory   TEXT NOT NULL,
    source           TEXT NOT NULL,
    install_command  TEXT,
    created_at       INTEGER NOT NULL,
    removed_at       INTEGER
);
CREATE INDEX ix_repos_user_name ON repos(user_id, full_name);

CREATE TABLE runs (
    id                    TEXT PRIMARY KEY,
    user_id               TEXT NOT NULL REFERENCES users(id),
    repo_id               TEXT NOT NULL REFERENCES repos(id),
    ai_call_id            TEXT NOT NULL,
    harness               TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('pending','streaming','success','failed','cancelled')),
    base_branch           TEXT NOT NULL,
    working_branch        TEXT NOT NULL,
    create_branch         INTEGER NOT NULL CHECK (create_branch IN (0,1)),
    root_directory        TEXT NOT NULL,
    prompt                TEXT NOT NULL,
    conversation_id       TEXT,
    workspace_session_id  TEXT,
    mode                  TEXT,
    sandbox_record_id     TEXT,
    sandbox_id            TEXT,
    error                 TEXT,
    runtime_run_id        TEXT,
    input_tokens          INTEGER,
    cached_input_tokens   INTEGER,
    output_tokens         INTEGER,
    cost_usd              TEXT,
    commit_sha            TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    started_at            INTEGER,
    finished_at           INTEGER,
    cancel_requested_at   INTEGER,
    lease_owner           TEXT,
    lease_expires_at      INTEGER,
    last_event_seq        INTEGER NOT NULL DEFAULT 0,
    CHECK ((status IN ('success','failed','cancelled')) = (finished_at IS NOT NULL))
);
CREATE INDEX ix_runs_user_created ON runs(user_id, created_at DESC, id DESC);
CREATE INDEX ix_runs_status_created ON runs(status, created_at);

-- A terminal status is final: enforced by the database, not only by the code that updates it.
CREATE TRIGGER runs_terminal_is_final
BEFORE UPDATE OF status ON runs
WHEN OLD.status IN ('success','failed','cancelled') AND NEW.status <> OLD.status
BEGIN
    SELECT RAISE(ABORT, 'run status is terminal');
END;

CREATE TABLE idempotency_keys (
    user_id       TEXT NOT NULL REFERENCES users(id),
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    run_id        TEXT NOT NULL REFERENCES runs(id),
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE run_events (
    run_id      TEXT NOT NULL REFERENCES runs(id),
    seq         INTEGER NOT NULL CHECK (seq > 0),
    id          TEXT NOT NULL UNIQUE,
    type        TEXT NOT NULL,
    tool_name   TEXT,
    message     TEXT,
    payload     TEXT,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

-- Events are append-only.
CREATE TRIGGER run_events_append_only_update BEFORE UPDATE ON run_events
BEGIN SELECT RAISE(ABORT, 'run events are append-only'); END;
CREATE TRIGGER run_events_append_only_delete BEFORE DELETE ON run_events
BEGIN SELECT RAISE(ABORT, 'run events are append-only'); END;

CREATE TABLE rate_limit_hits (
    bucket  TEXT NOT NULL,
    at_ms   INTEGER NOT NULL,
    n       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX ix_rate_limit_hits ON rate_limit_hits(bucket, at_ms);

CREATE TABLE sandboxes (
    id              TEXT PRIMARY KEY,
    sandbox_id      TEXT,
    user_id         TEXT NOT NULL REFERENCES users(id),
    repo_id         TEXT NOT NULL REFERENCES repos(id),
    status          TEXT NOT NULL CHECK (status IN ('creating','installing','running','pausing','paused','stopped','error')),
    base_branch     TEXT NOT NULL,
    working_branch  TEXT NOT NULL,
    root_directory  TEXT NOT NULL,
    preview_url     TEXT,
    node_id         TEXT,
    path            TEXT,
    error           TEXT,
    install_log     TEXT,
    dev_log         TEXT,
    created_at      INTEGER NOT NULL,
    last_active_at  INTEGER NOT NULL
);
CREATE INDEX ix_sandboxes_user_active ON sandboxes(user_id, last_active_at DESC);
-- At most one active sandbox per (user, repo, working branch, root): reuse is decided by the database.
CREATE UNIQUE INDEX ux_sandboxes_active ON sandboxes(user_id, repo_id, working_branch, root_directory)
    WHERE status IN ('creating','installing','running','pausing','paused');

CREATE TABLE sandbox_lifecycle_events (
    id              TEXT PRIMARY KEY,
    sandbox_id      TEXT NOT NULL REFERENCES sandboxes(id),
    event_type      TEXT NOT NULL,
    decision_code   TEXT,
    worker_run_id   TEXT,
    payload         TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX ix_sandbox_lifecycle ON sandbox_lifecycle_events(sandbox_id, created_at);
