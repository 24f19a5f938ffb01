-- +goose Up
-- The whole domain. Every row belongs to an organisation (org_id) and every
-- query is scoped by it; a self-hosted install has one organisation.

CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);

CREATE TABLE memberships (
    org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    created_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- Sessions are stored by the SHA-256 of their random token: a database leak
-- does not hand out live sessions.
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    last_seen_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    expires_at    TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    created_by    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at    TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    last_used_at  TIMESTAMP,
    revoked_at    TIMESTAMP
);
CREATE INDEX api_tokens_org ON api_tokens (org_id);

CREATE TABLE pages (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    slug        TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    domain      TEXT UNIQUE,
    time_zone   TEXT NOT NULL DEFAULT 'UTC',
    regions     TEXT NOT NULL DEFAULT '[]',
    created_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE INDEX pages_org ON pages (org_id);

CREATE TABLE component_groups (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    page_id     INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    position    INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    UNIQUE (page_id, name)
);

CREATE TABLE components (
    id                     INTEGER PRIMARY KEY,
    org_id                 INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    page_id                INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    group_id               INTEGER REFERENCES component_groups(id) ON DELETE SET NULL,
    name                   TEXT NOT NULL,
    description            TEXT NOT NULL DEFAULT '',
    position               INTEGER NOT NULL DEFAULT 0,
    status                 TEXT NOT NULL DEFAULT 'operational' CHECK (status IN
                             ('operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance')),
    showcase               INTEGER NOT NULL DEFAULT 1,
    only_show_if_degraded  INTEGER NOT NULL DEFAULT 0,
    start_date             DATE,
    created_at             TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at             TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    UNIQUE (page_id, name)
);
CREATE INDEX components_org ON components (org_id);

-- spec is the full probes.Spec as JSON: a job carries it whole to the workers.
CREATE TABLE checks (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    page_id           INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    component_id      INTEGER NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    url               TEXT NOT NULL,
    spec              TEXT NOT NULL DEFAULT '{}',
    regions           TEXT NOT NULL DEFAULT '[]',
    interval_seconds  INTEGER NOT NULL DEFAULT 60 CHECK (interval_seconds > 0),
    quorum            INTEGER NOT NULL DEFAULT 0,
    confirm_rounds    INTEGER NOT NULL DEFAULT 2,
    enabled           INTEGER NOT NULL DEFAULT 1,
    state             TEXT NOT NULL DEFAULT 'unknown',
    state_changed_at  TIMESTAMP,
    created_at        TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at        TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    UNIQUE (page_id, name)
);
CREATE INDEX checks_org ON checks (org_id);
CREATE INDEX checks_component ON checks (component_id);

-- Raw results, kept for a bounded time; id is the UUIDv7 the worker assigned,
-- so a redelivered result is stored once.
CREATE TABLE check_results (
    id           TEXT PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    check_id     INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    region       TEXT NOT NULL,
    state        TEXT NOT NULL,
    checked_at   TIMESTAMP NOT NULL,
    duration_ms  INTEGER NOT NULL DEFAULT 0,
    problems     TEXT NOT NULL DEFAULT '[]',
    result       TEXT NOT NULL DEFAULT '{}',
    received_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE INDEX check_results_check_time ON check_results (check_id, checked_at);
CREATE INDEX check_results_time ON check_results (checked_at);

-- Latest state per check x region x node (node '' is the check as a whole).
CREATE TABLE check_latest (
    org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    check_id    INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    region      TEXT NOT NULL,
    node        TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL,
    result_id   TEXT NOT NULL,
    streak      INTEGER NOT NULL DEFAULT 1,
    checked_at  TIMESTAMP NOT NULL,
    problems    TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (check_id, region, node)
);

CREATE TABLE daily_rollups (
    org_id        INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    check_id      INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    day           DATE NOT NULL,
    total         INTEGER NOT NULL DEFAULT 0,
    up            INTEGER NOT NULL DEFAULT 0,
    degraded      INTEGER NOT NULL DEFAULT 0,
    down          INTEGER NOT NULL DEFAULT 0,
    p50_ms        INTEGER NOT NULL DEFAULT 0,
    p95_ms        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (check_id, day)
);

-- The certificate inventory: each certificate once per organisation, by fingerprint.
CREATE TABLE certificates (
    org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    sha256      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    serial      TEXT NOT NULL,
    dns_names   TEXT NOT NULL DEFAULT '[]',
    not_before  TIMESTAMP NOT NULL,
    not_after   TIMESTAMP NOT NULL,
    first_seen  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    PRIMARY KEY (org_id, sha256)
);
CREATE INDEX certificates_not_after ON certificates (org_id, not_after);

CREATE TABLE cert_observations (
    org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    check_id    INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    region      TEXT NOT NULL,
    node        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    issuer      TEXT NOT NULL DEFAULT '',
    first_seen  TIMESTAMP NOT NULL,
    last_seen   TIMESTAMP NOT NULL,
    PRIMARY KEY (check_id, region, node, sha256),
    FOREIGN KEY (org_id, sha256) REFERENCES certificates (org_id, sha256) ON DELETE CASCADE
);

CREATE TABLE incidents (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    page_id          INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    check_id         INTEGER REFERENCES checks(id) ON DELETE SET NULL,
    name             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved', 'postmortem')),
    impact           TEXT NOT NULL DEFAULT 'none' CHECK (impact IN ('none', 'minor', 'major', 'critical')),
    postmortem       TEXT NOT NULL DEFAULT '',
    started_at       TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    monitoring_at    TIMESTAMP,
    resolved_at      TIMESTAMP,
    acknowledged_at  TIMESTAMP,
    created_at       TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at       TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE INDEX incidents_page ON incidents (page_id, created_at);

CREATE TABLE incident_updates (
    id                     INTEGER PRIMARY KEY,
    org_id                 INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    incident_id            INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    status                 TEXT NOT NULL,
    body                   TEXT NOT NULL DEFAULT '',
    author_user_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    deliver_notifications  INTEGER NOT NULL DEFAULT 1,
    display_at             TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    created_at             TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at             TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE INDEX incident_updates_incident ON incident_updates (incident_id, display_at);

CREATE TABLE incident_components (
    org_id        INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    incident_id   INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    update_id     INTEGER REFERENCES incident_updates(id) ON DELETE CASCADE,
    component_id  INTEGER NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    old_status    TEXT NOT NULL DEFAULT '',
    new_status    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (incident_id, component_id)
);

-- A window is either recurring (schedule = robfig/cron line in time_zone,
-- duration) or one-off (starts_at/ends_at).
CREATE TABLE maintenance_windows (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    page_id           INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    body              TEXT NOT NULL DEFAULT '',
    schedule          TEXT NOT NULL DEFAULT '',
    duration_seconds  INTEGER NOT NULL DEFAULT 0,
    time_zone         TEXT NOT NULL DEFAULT 'UTC',
    starts_at         TIMESTAMP,
    ends_at           TIMESTAMP,
    status            TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'in_progress', 'verifying', 'completed')),
    created_at        TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at        TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    UNIQUE (page_id, name)
);

CREATE TABLE maintenance_components (
    org_id          INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    maintenance_id  INTEGER NOT NULL REFERENCES maintenance_windows(id) ON DELETE CASCADE,
    component_id    INTEGER NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    PRIMARY KEY (maintenance_id, component_id)
);

CREATE TABLE subscribers (
    id                  INTEGER PRIMARY KEY,
    org_id              INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    page_id             INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    kind                TEXT NOT NULL CHECK (kind IN ('email', 'webhook')),
    address             TEXT NOT NULL,
    secret              TEXT NOT NULL DEFAULT '',
    confirm_token_hash  TEXT,
    confirmed_at        TIMESTAMP,
    unsubscribed_at     TIMESTAMP,
    disabled_at         TIMESTAMP,
    created_at          TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    UNIQUE (page_id, kind, address)
);

-- Operator-facing alert destinations (not the public subscribers).
CREATE TABLE alert_channels (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('email', 'webhook')),
    config       TEXT NOT NULL DEFAULT '{}',
    repeat_seconds INTEGER NOT NULL DEFAULT 0,
    enabled      INTEGER NOT NULL DEFAULT 1,
    created_at   TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    UNIQUE (org_id, name)
);

-- Events written in the same transaction as the state change that caused
-- them; the notifier turns each into deliveries.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    payload          TEXT NOT NULL DEFAULT '{}',
    created_at       TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    processed_at     TIMESTAMP
);
CREATE INDEX outbox_unprocessed ON outbox (created_at) WHERE processed_at IS NULL;

CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    outbox_id        INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    subscriber_id    INTEGER REFERENCES subscribers(id) ON DELETE CASCADE,
    channel_id       INTEGER REFERENCES alert_channels(id) ON DELETE CASCADE,
    idempotency_key  TEXT NOT NULL UNIQUE,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    last_error       TEXT NOT NULL DEFAULT '',
    response_code    INTEGER NOT NULL DEFAULT 0,
    created_at       TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at       TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    actor_user_id   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    actor_token_id  INTEGER REFERENCES api_tokens(id) ON DELETE SET NULL,
    actor           TEXT NOT NULL DEFAULT '',
    action          TEXT NOT NULL,
    target          TEXT NOT NULL DEFAULT '',
    detail          TEXT NOT NULL DEFAULT '{}',
    created_at      TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE INDEX audit_log_org_time ON audit_log (org_id, created_at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE deliveries;
DROP TABLE outbox;
DROP TABLE alert_channels;
DROP TABLE subscribers;
DROP TABLE maintenance_components;
DROP TABLE maintenance_windows;
DROP TABLE incident_components;
DROP TABLE incident_updates;
DROP TABLE incidents;
DROP TABLE cert_observations;
DROP TABLE certificates;
DROP TABLE daily_rollups;
DROP TABLE check_latest;
DROP TABLE check_results;
DROP TABLE checks;
DROP TABLE components;
DROP TABLE component_groups;
DROP TABLE pages;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE orgs;
