-- Channel connectors (issue "Channel connectors"): what the messaging
-- windows and opt-outs need.
--
-- conversations.last_inbound_at is when the contact last wrote in the
-- conversation: WhatsApp's 24-hour window and Messenger's and Instagram's
-- 7-day human-agent window run from it. contacts.opted_out_at is set while
-- a contact has opted out (STOP) and outbound messages are refused.
-- consent_records keeps every opt-out and opt-in (and, for AI drafts,
-- every ai_off and ai_on) with its time, channel
-- and source, for the contact's data export; it goes with the contact.

-- +goose Up
ALTER TABLE conversations ADD COLUMN last_inbound_at TIMESTAMPTZ;
UPDATE conversations c SET last_inbound_at = m.at
FROM (SELECT conversation_id, max(created_at) AS at FROM messages WHERE direction = 'in' GROUP BY conversation_id) m
WHERE m.conversation_id = c.id;

ALTER TABLE contacts ADD COLUMN opted_out_at TIMESTAMPTZ;

CREATE TABLE consent_records (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT      NOT NULL,
    contact_id   BIGINT      NOT NULL,
    kind         TEXT        NOT NULL CHECK (kind IN ('opt_out', 'opt_in', 'ai_off', 'ai_on')),
    channel      TEXT        NOT NULL,
    source       TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX consent_records_contact_idx ON consent_records (contact_id, id);

-- +goose Down
DROP TABLE consent_records;
ALTER TABLE contacts DROP COLUMN opted_out_at;
ALTER TABLE conversations DROP COLUMN last_inbound_at;
