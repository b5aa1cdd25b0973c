-- Channel connectors, the SQLite twin of
-- migrations/postgres/00006_dead_letters.sql: see there for what the table
-- is for. Times are INTEGER unix microseconds (UTC).

-- +goose Up
CREATE TABLE dead_letters (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL,
    inbox_id     INTEGER NOT NULL,
    provider     TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    body         BLOB    NOT NULL,
    error        TEXT    NOT NULL,
    FOREIGN KEY (workspace_id, inbox_id) REFERENCES inboxes (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX dead_letters_workspace_idx ON dead_letters (workspace_id, id);

-- +goose Down
DROP TABLE dead_letters;
