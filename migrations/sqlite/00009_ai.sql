-- AI draft replies, the SQLite twin of migrations/postgres/00009_ai.sql:
-- see there for what the tables are for. Times are INTEGER unix
-- microseconds (UTC), booleans 0/1.

-- +goose Up
CREATE TABLE knowledge_articles (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX knowledge_articles_workspace_idx ON knowledge_articles (workspace_id, id);

CREATE TABLE ai_settings (
    workspace_id INTEGER PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    enabled      INTEGER NOT NULL,
    provider     TEXT    NOT NULL CHECK (provider IN ('offline', 'openai')),
    base_url     TEXT    NOT NULL,
    model        TEXT    NOT NULL,
    api_key      BLOB,
    instructions TEXT    NOT NULL,
    brand_voice  TEXT    NOT NULL,
    redact       INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE contact_ai_off (
    workspace_id INTEGER NOT NULL,
    contact_id   INTEGER NOT NULL,
    off_at       INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, contact_id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE contact_ai_off;
DROP TABLE ai_settings;
DROP TABLE knowledge_articles;
