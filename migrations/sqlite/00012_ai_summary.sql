-- Conversation summaries, the SQLite twin of
-- migrations/postgres/00012_ai_summary.sql: see there for what the table
-- is for. Times are INTEGER unix microseconds (UTC), booleans 0/1.

-- +goose Up
CREATE TABLE conversation_summaries (
    workspace_id    INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL,
    summary         TEXT    NOT NULL,
    sentiment       TEXT    NOT NULL CHECK (sentiment IN ('positive', 'neutral', 'negative')),
    intent          TEXT    NOT NULL CHECK (intent IN ('question', 'complaint', 'purchase', 'cancellation', 'other')),
    lead            INTEGER NOT NULL,
    model           TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE conversation_summaries;
