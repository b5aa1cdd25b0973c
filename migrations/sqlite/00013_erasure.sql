-- Erasure, the SQLite twin of migrations/postgres/00013_erasure.sql: see
-- there for what the table is for. Times are INTEGER unix microseconds
-- (UTC); contact_ids and counts are JSON text.

-- +goose Up
CREATE TABLE erasure_requests (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    source       TEXT    NOT NULL CHECK (source IN ('agent', 'meta')),
    contact_ids  TEXT    NOT NULL DEFAULT '[]',
    requested_by INTEGER REFERENCES agents (id) ON DELETE SET NULL,
    token_id     INTEGER,
    status       TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'failed')),
    code         TEXT    NOT NULL UNIQUE,
    counts       TEXT    NOT NULL DEFAULT '{}',
    attempts     INTEGER NOT NULL DEFAULT 0,
    error        TEXT    NOT NULL DEFAULT '',
    requested_at INTEGER NOT NULL,
    completed_at INTEGER
);
CREATE INDEX erasure_requests_workspace_idx ON erasure_requests (workspace_id, id DESC);
CREATE INDEX erasure_requests_pending_idx ON erasure_requests (requested_at, id) WHERE status = 'pending';

-- +goose Down
DROP TABLE erasure_requests;
