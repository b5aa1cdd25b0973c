-- Erasure (issue "Data rights"): durable requests to erase contacts, from
-- an owner or admin or from Meta's data-deletion callback
-- (server/datarights carries them out).
--
-- A request outlives what it erased and holds nothing personal: the
-- contact ids (surrogates that name nobody once the rows are gone), who
-- asked, counts, dates and a confirmation code the requester looks its
-- status up by on the public status page (unique, random). A pending
-- request survives a restart and is picked up again; erasing is
-- idempotent, so a request interrupted half-way is simply run again.
-- contact_ids is a JSON array; counts a JSON object (store.ErasureCounts).
--
-- erasure_requests_pending_idx serves the worker's scan for pending
-- requests, oldest first.

-- +goose Up
CREATE TABLE erasure_requests (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    source       TEXT        NOT NULL CHECK (source IN ('agent', 'meta')),
    contact_ids  JSONB       NOT NULL DEFAULT '[]',
    requested_by BIGINT      REFERENCES agents (id) ON DELETE SET NULL,
    token_id     BIGINT,
    status       TEXT        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'failed')),
    code         TEXT        NOT NULL UNIQUE,
    counts       JSONB       NOT NULL DEFAULT '{}',
    attempts     INTEGER     NOT NULL DEFAULT 0,
    error        TEXT        NOT NULL DEFAULT '',
    requested_at TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ
);
CREATE INDEX erasure_requests_workspace_idx ON erasure_requests (workspace_id, id DESC);
CREATE INDEX erasure_requests_pending_idx ON erasure_requests (requested_at, id) WHERE status = 'pending';

-- +goose Down
DROP TABLE erasure_requests;
