-- AI auto-reply with human hand-over (issue "AI draft replies", second
-- part).
--
-- inbox_ai holds one row per inbox that changed the defaults (auto-reply
-- off, minimum confidence 0.8): whether a confident AI draft is sent to
-- the customer by itself, and how confident it must be.
-- conversation_handoffs has a row once a conversation was handed over
-- from the AI to the team (the customer asked for a person): from then on
-- the AI never replies in it by itself. Both go with their inbox or
-- conversation.

-- +goose Up
CREATE TABLE inbox_ai (
    workspace_id   BIGINT           NOT NULL,
    inbox_id       BIGINT           NOT NULL,
    auto_reply     BOOLEAN          NOT NULL,
    min_confidence DOUBLE PRECISION NOT NULL CHECK (min_confidence >= 0 AND min_confidence <= 1),
    updated_at     TIMESTAMPTZ      NOT NULL,
    PRIMARY KEY (workspace_id, inbox_id),
    FOREIGN KEY (workspace_id, inbox_id) REFERENCES inboxes (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE conversation_handoffs (
    workspace_id    BIGINT      NOT NULL,
    conversation_id BIGINT      NOT NULL,
    handed_over_at  TIMESTAMPTZ NOT NULL,
    reason          TEXT        NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE conversation_handoffs;
DROP TABLE inbox_ai;
