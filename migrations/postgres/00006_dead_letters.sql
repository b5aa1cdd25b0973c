-- Channel connectors (issue "Channel connectors"): provider webhook
-- payloads that could not be turned into messages.
--
-- A payload whose signature checked but that does not parse (or parts of
-- which the store refuses) is answered 200 so the provider stops
-- retrying, and is kept here, raw, so nothing a customer sent is lost
-- silently: an operator can read it and replay it. inboxes.credentials
-- (from 00001) holds each inbox's provider secrets sealed by
-- server/channels/secretbox; the store never sees them in the clear.

-- +goose Up
CREATE TABLE dead_letters (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT      NOT NULL,
    inbox_id     BIGINT      NOT NULL,
    provider     TEXT        NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    body         BYTEA       NOT NULL,
    error        TEXT        NOT NULL,
    FOREIGN KEY (workspace_id, inbox_id) REFERENCES inboxes (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX dead_letters_workspace_idx ON dead_letters (workspace_id, id);

-- +goose Down
DROP TABLE dead_letters;
