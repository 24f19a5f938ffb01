-- +goose Up
-- Team accounts by email (issue 9). An invitation lets whoever holds its
-- link join org_id with role: a new user sets a password, an existing one
-- signs in. A password reset lets whoever holds its link set user_id's
-- password. Both links are single use and expire; only the SHA-256 of their
-- random token is stored, so a database leak hands out no live link.
CREATE TABLE invites (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    token_hash   TEXT NOT NULL UNIQUE,
    invited_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at   TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    expires_at   TIMESTAMP NOT NULL,
    accepted_at  TIMESTAMP,
    accepted_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    revoked_at   TIMESTAMP
);
CREATE INDEX invites_org_email ON invites (org_id, email);

CREATE TABLE password_resets (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
CREATE INDEX password_resets_user ON password_resets (user_id);
CREATE INDEX password_resets_expires ON password_resets (expires_at);

-- The team screen shows each member's last sign-in: the latest "login" row
-- of the audit log, found by this index rather than a scan of the log.
CREATE INDEX audit_log_logins ON audit_log (org_id, actor_user_id, id) WHERE action = 'login';

-- +goose Down
DROP INDEX audit_log_logins;
DROP TABLE password_resets;
DROP TABLE invites;
