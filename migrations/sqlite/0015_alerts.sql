-- +goose Up
-- On-call alerts (issue 9 item 6). Channels gain the chat and paging
-- formats (SQLite cannot change a CHECK: the table is copied); an alert is
-- one row per channel and condition across probe rounds, so it repeats on
-- the channel's interval until acknowledged or resolved. Only the SHA-256
-- of its ack token is stored.
CREATE TABLE alert_channels_new (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('email', 'webhook', 'slack', 'discord', 'teams', 'pagerduty')),
    config       TEXT NOT NULL DEFAULT '{}',
    repeat_seconds INTEGER NOT NULL DEFAULT 0,
    enabled      INTEGER NOT NULL DEFAULT 1,
    created_at   TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    UNIQUE (org_id, name)
);
INSERT INTO alert_channels_new (id, org_id, name, kind, config, repeat_seconds, enabled, created_at)
    SELECT id, org_id, name, kind, config, repeat_seconds, enabled, created_at FROM alert_channels;
DROP TABLE alert_channels;
ALTER TABLE alert_channels_new RENAME TO alert_channels;

CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    channel_id      INTEGER NOT NULL REFERENCES alert_channels(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    -- subject is what the alert is about: component:ID, check:ID, region:NAME.
    subject         TEXT NOT NULL,
    subject_name    TEXT NOT NULL DEFAULT '',
    component_id    INTEGER REFERENCES components(id) ON DELETE SET NULL,
    check_id        INTEGER REFERENCES checks(id) ON DELETE SET NULL,
    detail          TEXT NOT NULL DEFAULT '',
    opened_at       TIMESTAMP NOT NULL,
    last_sent_at    TIMESTAMP,
    sends           INTEGER NOT NULL DEFAULT 0,
    acknowledged_at TIMESTAMP,
    acknowledged_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    resolved_at     TIMESTAMP,
    ack_token_hash  TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX alerts_open ON alerts (channel_id, subject, kind) WHERE resolved_at IS NULL;
CREATE INDEX alerts_org ON alerts (org_id, opened_at);

-- A channel's delivery names the alert it carries.
ALTER TABLE deliveries ADD COLUMN alert_id INTEGER REFERENCES alerts(id) ON DELETE SET NULL;
CREATE INDEX deliveries_channel_pending ON deliveries (channel_id, id) WHERE status = 'pending';

-- +goose Down
DROP INDEX deliveries_channel_pending;
ALTER TABLE deliveries DROP COLUMN alert_id;
DROP TABLE alerts;
DELETE FROM alert_channels WHERE kind NOT IN ('email', 'webhook');
