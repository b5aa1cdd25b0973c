-- Data retention, the SQLite twin of migrations/postgres/00010_retention.sql:
-- see there for what the table and the index are for. Times are INTEGER
-- unix microseconds (UTC).

-- +goose Up
CREATE TABLE retention_settings (
    workspace_id INTEGER PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    message_days INTEGER NOT NULL CHECK (message_days BETWEEN 1 AND 3650),
    media_days   INTEGER NOT NULL CHECK (media_days BETWEEN 1 AND 180),
    event_days   INTEGER NOT NULL CHECK (event_days BETWEEN 1 AND 3650),
    updated_at   INTEGER NOT NULL
);

CREATE INDEX media_created_idx ON media (workspace_id, created_at, id);

-- +goose Down
DROP INDEX media_created_idx;
DROP TABLE retention_settings;
