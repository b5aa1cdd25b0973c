-- Data retention (issue "Data rights", first slice): how long each
-- workspace keeps its data. server/retention deletes what expired.
--
-- retention_settings holds one row per workspace that changed the
-- defaults (messages 90 days after their conversation's last activity,
-- media 30 days after their message, the event log 30 days). The ranges
-- are checked here as well as in the store.
--
-- media_created_idx serves the retention job's scan for expired media,
-- oldest first, within a workspace.

-- +goose Up
CREATE TABLE retention_settings (
    workspace_id BIGINT      PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    message_days INTEGER     NOT NULL CHECK (message_days BETWEEN 1 AND 3650),
    media_days   INTEGER     NOT NULL CHECK (media_days BETWEEN 1 AND 180),
    event_days   INTEGER     NOT NULL CHECK (event_days BETWEEN 1 AND 3650),
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX media_created_idx ON media (workspace_id, created_at, id);

-- +goose Down
DROP INDEX media_created_idx;
DROP TABLE retention_settings;
