-- AI draft replies (issue "AI draft replies"): what the drafts service
-- needs besides the conversation itself.
--
-- knowledge_articles are the workspace's help articles and FAQ entries the
-- offline suggester answers from (and an OpenAI-compatible model is given
-- as context). ai_settings holds one row per workspace that changed the
-- defaults (enabled, offline, redacting): the provider, its endpoint and
-- model, the API key sealed with SWITCHBOARD_SECRET_KEY (never stored in
-- clear), the standing instructions and the brand voice.
-- contact_ai_off has a row while a contact's AI processing is turned off;
-- each change is also a consent_records row (ai_off / ai_on), kept for the
-- contact's data export. Both go with the contact.

-- +goose Up
CREATE TABLE knowledge_articles (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    title        TEXT        NOT NULL,
    body         TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX knowledge_articles_workspace_idx ON knowledge_articles (workspace_id, id);

CREATE TABLE ai_settings (
    workspace_id BIGINT      PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    enabled      BOOLEAN     NOT NULL,
    provider     TEXT        NOT NULL CHECK (provider IN ('offline', 'openai')),
    base_url     TEXT        NOT NULL,
    model        TEXT        NOT NULL,
    api_key      BYTEA,
    instructions TEXT        NOT NULL,
    brand_voice  TEXT        NOT NULL,
    redact       BOOLEAN     NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE contact_ai_off (
    workspace_id BIGINT      NOT NULL,
    contact_id   BIGINT      NOT NULL,
    off_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, contact_id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE contact_ai_off;
DROP TABLE ai_settings;
DROP TABLE knowledge_articles;
