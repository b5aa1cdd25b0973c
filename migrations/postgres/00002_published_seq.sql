-- published_seq is the last event of the workspace's log that the inbox's
-- relay has published to the hub. Events after it are published on the
-- relay's next pass, including after a crash between commit and publish.

-- +goose Up
ALTER TABLE workspaces ADD COLUMN published_seq BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE workspaces DROP COLUMN published_seq;
