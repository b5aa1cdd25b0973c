-- Channel connectors (issue "Channel connectors", media): inbound media
-- downloaded into the blob store (server/media).
--
-- A media row is written with its message, in the same transaction, so a
-- committed message never loses its media; it is then a durable download
-- job: server/media.Downloader claims pending rows under a lease
-- (locked_until), fetches source (the provider's media id or URL) from
-- the provider, and records the blob (blob_key, size, sha256) as stored,
-- or retries at next_attempt_at, or gives up as failed with the error.
-- The bytes live in the blob store, never in the database.

-- +goose Up
CREATE TABLE media (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    BIGINT      NOT NULL,
    message_id      BIGINT      NOT NULL,
    inbox_id        BIGINT      NOT NULL,
    provider        TEXT        NOT NULL,
    source          JSONB       NOT NULL,
    mime_type       TEXT        NOT NULL DEFAULT '',
    filename        TEXT        NOT NULL DEFAULT '',
    caption         TEXT        NOT NULL DEFAULT '',
    state           TEXT        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'stored', 'failed')),
    blob_key        TEXT        NOT NULL DEFAULT '',
    size            BIGINT      NOT NULL DEFAULT 0,
    sha256          TEXT        NOT NULL DEFAULT '',
    error           TEXT        NOT NULL DEFAULT '',
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, message_id) REFERENCES messages (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, inbox_id) REFERENCES inboxes (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX media_message_idx ON media (message_id, id);
CREATE INDEX media_due_idx ON media (next_attempt_at) WHERE state = 'pending';

-- +goose Down
DROP TABLE media;
