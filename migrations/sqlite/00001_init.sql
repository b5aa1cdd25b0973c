-- The whole inbox data model (issue 5), the SQLite twin of
-- migrations/postgres/00001_init.sql. Differences, all forced by SQLite:
-- times are INTEGER unix microseconds (UTC), JSON is TEXT, booleans are
-- 0/1, full-text search is FTS5 external-content tables kept in sync by
-- triggers, and the nullable assignee/team references point at agents/teams
-- directly (SQLite cannot SET NULL one column of a composite foreign key);
-- the store checks membership before assigning. Every row that belongs to a
-- workspace carries workspace_id, and every query filters on it; composite
-- foreign keys (workspace_id, id) make it impossible to point a row of one
-- workspace at a row of another.

-- +goose Up

-- A workspace is one team's inbox and, at the same time, one Pusher app: the
-- hub looks it up by app_key on every websocket connection.
-- event_seq is the last sequence number handed out in the workspace's event
-- log; bumping it with UPDATE ... RETURNING inside the writing transaction
-- row-locks the workspace, which is what makes the sequence gap-free.
CREATE TABLE workspaces (
    id          INTEGER PRIMARY KEY,
    name        TEXT        NOT NULL,
    app_id      TEXT        NOT NULL UNIQUE,
    app_key     TEXT        NOT NULL UNIQUE,
    app_secret  TEXT        NOT NULL,
    -- Pusher app switches (client events, limits, webhooks) as the hub's
    -- App JSON; enabled false refuses connections and API calls.
    enabled     INTEGER     NOT NULL DEFAULT 1,
    settings    TEXT        NOT NULL DEFAULT '{}',
    event_seq   INTEGER      NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

-- Agents are people; one person may belong to several workspaces.
CREATE TABLE agents (
    id          INTEGER PRIMARY KEY,
    email       TEXT        NOT NULL,
    name        TEXT        NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX agents_email_key ON agents (lower(email));

CREATE TABLE memberships (
    workspace_id INTEGER      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    agent_id     INTEGER      NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    role         TEXT        NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, agent_id)
);
CREATE INDEX memberships_agent_idx ON memberships (agent_id);

-- Only the SHA-256 of a token is kept: a database dump does not hand out
-- working credentials.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER      NOT NULL,
    agent_id     INTEGER      NOT NULL,
    name         TEXT        NOT NULL DEFAULT '',
    token_hash   BLOB       NOT NULL UNIQUE,
    role         TEXT        NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER,
    FOREIGN KEY (workspace_id, agent_id) REFERENCES memberships (workspace_id, agent_id) ON DELETE CASCADE
);
CREATE INDEX api_tokens_workspace_idx ON api_tokens (workspace_id, agent_id);

CREATE TABLE teams (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT        NOT NULL,
    description  TEXT        NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, id),
    UNIQUE (workspace_id, name)
);

CREATE TABLE team_members (
    workspace_id INTEGER NOT NULL,
    team_id      INTEGER NOT NULL,
    agent_id     INTEGER NOT NULL,
    PRIMARY KEY (team_id, agent_id),
    FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, agent_id) REFERENCES memberships (workspace_id, agent_id) ON DELETE CASCADE
);

-- One inbox per connected channel account. credentials is an opaque blob:
-- the channel layer encrypts it before it gets here.
CREATE TABLE inboxes (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind         TEXT        NOT NULL CHECK (kind IN ('whatsapp', 'messenger', 'instagram', 'sms', 'api')),
    name         TEXT        NOT NULL,
    settings     TEXT        NOT NULL DEFAULT '{}',
    credentials  BLOB,
    created_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, id)
);

CREATE TABLE contacts (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT        NOT NULL DEFAULT '',
    email        TEXT        NOT NULL DEFAULT '',
    phone        TEXT        NOT NULL DEFAULT '',
    attributes   TEXT        NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, id)
);
CREATE INDEX contacts_email_idx ON contacts (workspace_id, lower(email)) WHERE email <> '';
CREATE INDEX contacts_phone_idx ON contacts (workspace_id, phone) WHERE phone <> '';

CREATE VIRTUAL TABLE contacts_fts USING fts5(
    name, email, phone, content = 'contacts', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
-- +goose StatementBegin
CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_fts (rowid, name, email, phone) VALUES (new.id, new.name, new.email, new.phone);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO contacts_fts (contacts_fts, rowid, name, email, phone) VALUES ('delete', old.id, old.name, old.email, old.phone);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contacts_fts_update AFTER UPDATE OF name, email, phone ON contacts BEGIN
    INSERT INTO contacts_fts (contacts_fts, rowid, name, email, phone) VALUES ('delete', old.id, old.name, old.email, old.phone);
    INSERT INTO contacts_fts (rowid, name, email, phone) VALUES (new.id, new.name, new.email, new.phone);
END;
-- +goose StatementEnd

-- How a channel knows a contact: a phone number on WhatsApp/SMS, a PSID on
-- Messenger, an IGSID on Instagram, an external id on the API channel.
-- channel is an inbox kind, or "inbox:{id}" for identities that only mean
-- something inside one inbox.
CREATE TABLE contact_identities (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER      NOT NULL,
    contact_id   INTEGER      NOT NULL,
    channel      TEXT        NOT NULL,
    external_id  TEXT        NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, channel, external_id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX contact_identities_contact_idx ON contact_identities (contact_id);

CREATE TABLE conversations (
    id               INTEGER PRIMARY KEY,
    workspace_id     INTEGER      NOT NULL,
    inbox_id         INTEGER      NOT NULL,
    contact_id       INTEGER      NOT NULL,
    status           TEXT        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'pending', 'snoozed', 'resolved')),
    snoozed_until    INTEGER,
    assignee_id      INTEGER,
    team_id          INTEGER,
    priority         TEXT        NOT NULL DEFAULT 'none' CHECK (priority IN ('none', 'low', 'medium', 'high', 'urgent')),
    subject          TEXT        NOT NULL DEFAULT '',
    -- The newest message, for unread state: a conversation is unread by an
    -- agent whose conversation_reads.last_read_message_id is below it.
    last_message_id  INTEGER,
    last_activity_at INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, inbox_id) REFERENCES inboxes (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE SET NULL,
    FOREIGN KEY (assignee_id) REFERENCES agents (id) ON DELETE SET NULL
);
-- The inbox list: newest activity first, id breaking ties, so a keyset
-- cursor (last_activity_at, id) pages without skipping or repeating.
CREATE INDEX conversations_activity_idx ON conversations (workspace_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_status_idx ON conversations (workspace_id, status, last_activity_at DESC, id DESC);
CREATE INDEX conversations_assignee_idx ON conversations (workspace_id, assignee_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_contact_idx ON conversations (workspace_id, contact_id);
CREATE INDEX conversations_snoozed_idx ON conversations (snoozed_until) WHERE status = 'snoozed';

CREATE TABLE labels (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT        NOT NULL,
    color        TEXT        NOT NULL DEFAULT '',
    description  TEXT        NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, id),
    UNIQUE (workspace_id, name)
);

CREATE TABLE conversation_labels (
    workspace_id    INTEGER      NOT NULL,
    conversation_id INTEGER      NOT NULL,
    label_id        INTEGER      NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, label_id),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, label_id) REFERENCES labels (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX conversation_labels_label_idx ON conversation_labels (label_id, conversation_id);

-- Per-agent read state: what an agent has seen, for unread counts.
CREATE TABLE conversation_reads (
    workspace_id         INTEGER      NOT NULL,
    conversation_id      INTEGER      NOT NULL,
    agent_id             INTEGER      NOT NULL,
    last_read_at         INTEGER NOT NULL,
    last_read_message_id INTEGER,
    PRIMARY KEY (conversation_id, agent_id),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, agent_id) REFERENCES memberships (workspace_id, agent_id) ON DELETE CASCADE
);

-- inbox_id is copied from the conversation so that the provider message id
-- can be unique per inbox: a provider's retry of the same webhook finds the
-- row and is dropped. NULLs never collide, so the uniqueness only binds when
-- the id is set; likewise idempotency_key for outbound sends.
CREATE TABLE messages (
    id                  INTEGER PRIMARY KEY,
    workspace_id        INTEGER      NOT NULL,
    conversation_id     INTEGER      NOT NULL,
    inbox_id            INTEGER      NOT NULL,
    direction           TEXT        NOT NULL CHECK (direction IN ('in', 'out')),
    author_kind         TEXT        NOT NULL CHECK (author_kind IN ('contact', 'agent', 'ai', 'system')),
    author_agent_id     INTEGER REFERENCES agents (id) ON DELETE SET NULL,
    type                TEXT        NOT NULL CHECK (type IN ('text', 'media', 'template', 'note')),
    body                TEXT        NOT NULL DEFAULT '',
    content             TEXT,
    provider_message_id TEXT,
    idempotency_key     TEXT,
    status              TEXT        NOT NULL CHECK (status IN ('received', 'queued', 'sent', 'delivered', 'read', 'failed')),
    error               TEXT        NOT NULL DEFAULT '',
    ai_assisted         INTEGER     NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    UNIQUE (workspace_id, id),
    UNIQUE (inbox_id, provider_message_id),
    UNIQUE (workspace_id, idempotency_key),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, inbox_id) REFERENCES inboxes (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, id);

-- Full-text search. External-content FTS5 tables index the rows without
-- storing a second copy of the text; the triggers keep them in step inside
-- the writing transaction. remove_diacritics makes "cafe" find "café".
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, content = 'messages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
-- +goose StatementBegin
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;
-- +goose StatementEnd

-- @mentions in private notes; the agent is told on private-agent-{id}.
CREATE TABLE mentions (
    workspace_id INTEGER      NOT NULL,
    message_id   INTEGER      NOT NULL,
    agent_id     INTEGER      NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (message_id, agent_id),
    FOREIGN KEY (workspace_id, message_id) REFERENCES messages (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, agent_id) REFERENCES memberships (workspace_id, agent_id) ON DELETE CASCADE
);
CREATE INDEX mentions_agent_idx ON mentions (workspace_id, agent_id, message_id DESC);

CREATE TABLE canned_responses (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    short_code   TEXT        NOT NULL,
    content      TEXT        NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, short_code)
);

-- Attachment metadata only; the bytes live with the provider or in object
-- storage under storage_key.
CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER      NOT NULL,
    message_id   INTEGER      NOT NULL,
    kind         TEXT        NOT NULL DEFAULT 'file' CHECK (kind IN ('image', 'audio', 'video', 'file', 'location', 'contact')),
    content_type TEXT        NOT NULL DEFAULT '',
    file_name    TEXT        NOT NULL DEFAULT '',
    size_bytes   INTEGER      NOT NULL DEFAULT 0,
    url          TEXT        NOT NULL DEFAULT '',
    storage_key  TEXT        NOT NULL DEFAULT '',
    provider_media_id TEXT   NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    FOREIGN KEY (workspace_id, message_id) REFERENCES messages (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX attachments_message_idx ON attachments (message_id);

-- Durable outbound sends: written in the same transaction as the outbound
-- message, drained by the channel connectors with retries.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    workspace_id    INTEGER      NOT NULL,
    message_id      INTEGER      NOT NULL UNIQUE,
    state           TEXT        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'done', 'failed')),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    locked_until    INTEGER,
    last_error      TEXT        NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    FOREIGN KEY (workspace_id, message_id) REFERENCES messages (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE state IN ('pending', 'sending');

-- The append-only workspace event log. seq is per workspace, strictly
-- increasing and gap-free (see workspaces.event_seq); clients catch up with
-- "events after seq". Old rows may be pruned from the front only.
CREATE TABLE events (
    workspace_id INTEGER      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    seq          INTEGER      NOT NULL,
    kind         TEXT        NOT NULL,
    conversation_id INTEGER,
    payload      TEXT       NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, seq)
);
CREATE INDEX events_created_idx ON events (created_at);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    actor_kind   TEXT        NOT NULL CHECK (actor_kind IN ('agent', 'token', 'system')),
    actor_id     INTEGER,
    action       TEXT        NOT NULL,
    target_kind  TEXT        NOT NULL DEFAULT '',
    target_id    INTEGER,
    details      TEXT        NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL
);
CREATE INDEX audit_log_workspace_idx ON audit_log (workspace_id, id DESC);

-- +goose Down
DROP TABLE messages_fts;
DROP TABLE contacts_fts;
DROP TABLE audit_log;
DROP TABLE events;
DROP TABLE outbox;
DROP TABLE attachments;
DROP TABLE canned_responses;
DROP TABLE mentions;
DROP TABLE messages;
DROP TABLE conversation_reads;
DROP TABLE conversation_labels;
DROP TABLE labels;
DROP TABLE conversations;
DROP TABLE contact_identities;
DROP TABLE contacts;
DROP TABLE inboxes;
DROP TABLE team_members;
DROP TABLE teams;
DROP TABLE api_tokens;
DROP TABLE memberships;
DROP TABLE agents;
DROP TABLE workspaces;
