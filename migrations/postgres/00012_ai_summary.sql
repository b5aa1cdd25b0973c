-- Conversation summaries (issue "AI draft replies", last part).
--
-- conversation_summaries holds a conversation's latest summary, computed
-- offline on demand or when it is resolved: the customer's most
-- informative sentences, their sentiment and intent, and whether the
-- conversation is a sales lead. A recomputed summary replaces the row; it
-- goes with its conversation.

-- +goose Up
CREATE TABLE conversation_summaries (
    workspace_id    BIGINT      NOT NULL,
    conversation_id BIGINT      NOT NULL,
    summary         TEXT        NOT NULL,
    sentiment       TEXT        NOT NULL CHECK (sentiment IN ('positive', 'neutral', 'negative')),
    intent          TEXT        NOT NULL CHECK (intent IN ('question', 'complaint', 'purchase', 'cancellation', 'other')),
    lead            BOOLEAN     NOT NULL,
    model           TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE conversation_summaries;
