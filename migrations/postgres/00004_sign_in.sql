-- Browser sign-in (server/auth): who an agent is at Google, the sessions of
-- their browsers, and workspaces that admit only one Google Workspace
-- domain.
--
-- google_sub is Google's stable account id: once linked, the agent's email
-- alone no longer signs in as them, so a recycled address cannot inherit
-- an account. session_epoch is copied into every session at sign-in;
-- bumping it ends every session of the agent at once (sign out
-- everywhere). required_domain, when set, is the Google hosted domain (hd)
-- a member's account must have to use the workspace.
--
-- sessions is the scs session store: token is the SHA-256 of the cookie
-- value (scs HashTokenInStore), never the value itself. A signed-out
-- session keeps its row with data NULL until it expires, so a request
-- still in flight cannot write it back.

-- +goose Up
ALTER TABLE agents ADD COLUMN google_sub TEXT;
ALTER TABLE agents ADD COLUMN avatar_url TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX agents_google_sub_key ON agents (google_sub) WHERE google_sub IS NOT NULL;

ALTER TABLE workspaces ADD COLUMN required_domain TEXT NOT NULL DEFAULT '';

CREATE TABLE sessions (
    token   TEXT        PRIMARY KEY,
    data    BYTEA,
    expiry  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- +goose Down
DROP TABLE sessions;
ALTER TABLE workspaces DROP COLUMN required_domain;
DROP INDEX agents_google_sub_key;
ALTER TABLE agents DROP COLUMN session_epoch;
ALTER TABLE agents DROP COLUMN avatar_url;
ALTER TABLE agents DROP COLUMN google_sub;
