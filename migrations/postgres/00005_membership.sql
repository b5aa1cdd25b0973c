-- Membership (issue "Sign-in and access"): invitations, the auto-join
-- domain, and who acted through which API token in the audit log.
--
-- An invitation is outstanding until accepted or revoked; the partial
-- unique index allows one outstanding invitation per email and workspace
-- (inviting again replaces it), and the email index serves JoinByEmail,
-- which looks across workspaces. Emails compare case-insensitively, like
-- agents.email.
--
-- auto_join_domain, when not empty, is a Google hosted domain (hd) whose
-- verified accounts join the workspace as agents at sign-in; stored
-- lower-cased, '' for off (like required_domain).
--
-- audit_log.token_id is the API token an agent acted through, NULL for a
-- browser session or the system; it is not a foreign key, so the entry
-- outlives the token.

-- +goose Up
ALTER TABLE workspaces ADD COLUMN auto_join_domain TEXT NOT NULL DEFAULT '';
CREATE INDEX workspaces_auto_join_idx ON workspaces (auto_join_domain) WHERE auto_join_domain <> '';

CREATE TABLE invitations (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email        TEXT        NOT NULL,
    role         TEXT        NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
    invited_by   BIGINT      REFERENCES agents (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    accepted_at  TIMESTAMPTZ,
    accepted_by  BIGINT      REFERENCES agents (id) ON DELETE SET NULL,
    revoked_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX invitations_outstanding_key ON invitations (workspace_id, lower(email))
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
CREATE INDEX invitations_email_idx ON invitations (lower(email))
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

ALTER TABLE audit_log ADD COLUMN token_id BIGINT;

-- +goose Down
ALTER TABLE audit_log DROP COLUMN token_id;
DROP TABLE invitations;
DROP INDEX workspaces_auto_join_idx;
ALTER TABLE workspaces DROP COLUMN auto_join_domain;
