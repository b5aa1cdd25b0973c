-- Browser sign-in (server/auth), the SQLite twin of
-- migrations/postgres/00004_sign_in.sql: see there for what each column
-- is for. sessions.expiry is INTEGER unix microseconds (UTC), like every
-- time here.

-- +goose Up
ALTER TABLE agents ADD COLUMN google_sub TEXT;
ALTER TABLE agents ADD COLUMN avatar_url TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX agents_google_sub_key ON agents (google_sub) WHERE google_sub IS NOT NULL;

ALTER TABLE workspaces ADD COLUMN required_domain TEXT NOT NULL DEFAULT '';

CREATE TABLE sessions (
    token   TEXT    PRIMARY KEY,
    data    BLOB,
    expiry  INTEGER NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- +goose Down
DROP TABLE sessions;
ALTER TABLE workspaces DROP COLUMN required_domain;
DROP INDEX agents_google_sub_key;
ALTER TABLE agents DROP COLUMN session_epoch;
ALTER TABLE agents DROP COLUMN avatar_url;
ALTER TABLE agents DROP COLUMN google_sub;
