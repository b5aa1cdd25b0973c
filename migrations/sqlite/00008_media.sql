-- Channel connectors (media), the SQLite twin of
-- migrations/postgres/00008_media.sql: see there for what the table is
-- for. Times are INTEGER unix microseconds (UTC); source is JSON text.

-- +goose Up
CREATE TABLE media (
    id              INTEGER PRIMARY KEY,
    workspace_id    INTEGER NOT NULL,
    message_id      INTEGER NOT NULL,
    inbox_id        INTEGER NOT NULL,
    provider        TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    mime_type       TEXT    NOT NULL DEFAULT '',
    filename        TEXT    NOT NULL DEFAULT '',
    caption         TEXT    NOT NULL DEFAULT '',
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'stored', 'failed')),
    blob_key        TEXT    NOT NULL DEFAULT '',
    size            INTEGER NOT NULL DEFAULT 0,
    sha256          TEXT    NOT NULL DEFAULT '',
    error           TEXT    NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    locked_until    INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, message_id) REFERENCES messages (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, inbox_id) REFERENCES inboxes (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX media_message_idx ON media (message_id, id);
CREATE INDEX media_due_idx ON media (next_attempt_at) WHERE state = 'pending';

-- +goose Down
DROP TABLE media;
