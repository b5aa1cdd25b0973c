-- AI auto-reply with human hand-over, the SQLite twin of
-- migrations/postgres/00011_ai_autoreply.sql: see there for what the
-- tables are for. Times are INTEGER unix microseconds (UTC), booleans 0/1.

-- +goose Up
CREATE TABLE inbox_ai (
    workspace_id   INTEGER NOT NULL,
    inbox_id       INTEGER NOT NULL,
    auto_reply     INTEGER NOT NULL,
    min_confidence REAL    NOT NULL CHECK (min_confidence >= 0 AND min_confidence <= 1),
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, inbox_id),
    FOREIGN KEY (workspace_id, inbox_id) REFERENCES inboxes (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE conversation_handoffs (
    workspace_id    INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL,
    handed_over_at  INTEGER NOT NULL,
    reason          TEXT    NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE conversation_handoffs;
DROP TABLE inbox_ai;
