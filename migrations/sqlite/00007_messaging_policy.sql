-- Channel connectors, the SQLite twin of
-- migrations/postgres/00007_messaging_policy.sql: see there for what the
-- columns and the table are for. Times are INTEGER unix microseconds (UTC).

-- +goose Up
ALTER TABLE conversations ADD COLUMN last_inbound_at INTEGER;
UPDATE conversations SET last_inbound_at = (
    SELECT max(created_at) FROM messages m WHERE m.conversation_id = conversations.id AND m.direction = 'in');

ALTER TABLE contacts ADD COLUMN opted_out_at INTEGER;

CREATE TABLE consent_records (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL,
    contact_id   INTEGER NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('opt_out', 'opt_in', 'ai_off', 'ai_on')),
    channel      TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX consent_records_contact_idx ON consent_records (contact_id, id);

-- +goose Down
DROP TABLE consent_records;
ALTER TABLE contacts DROP COLUMN opted_out_at;
ALTER TABLE conversations DROP COLUMN last_inbound_at;
