-- Membership (issue "Sign-in and access"), the SQLite twin of
-- migrations/postgres/00005_membership.sql: see there for what each table
-- and column is for. Times are INTEGER unix microseconds (UTC).

-- +goose Up
ALTER TABLE workspaces ADD COLUMN auto_join_domain TEXT NOT NULL DEFAULT '';
CREATE INDEX workspaces_auto_join_idx ON workspaces (auto_join_domain) WHERE auto_join_domain <> '';

CREATE TABLE invitations (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email        TEXT    NOT NULL,
    role         TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
    invited_by   INTEGER REFERENCES agents (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    accepted_at  INTEGER,
    accepted_by  INTEGER REFERENCES agents (id) ON DELETE SET NULL,
    revoked_at   INTEGER
);
CREATE UNIQUE INDEX invitations_outstanding_key ON invitations (workspace_id, lower(email))
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
CREATE INDEX invitations_email_idx ON invitations (lower(email))
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

ALTER TABLE audit_log ADD COLUMN token_id INTEGER;

-- +goose Down
ALTER TABLE audit_log DROP COLUMN token_id;
DROP TABLE invitations;
DROP INDEX workspaces_auto_join_idx;
ALTER TABLE workspaces DROP COLUMN auto_join_domain;
