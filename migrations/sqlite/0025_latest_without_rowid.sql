-- +goose Up
-- check_latest as a WITHOUT ROWID table, clustered on its primary key: a
-- batch reads and rewrites rows by (check_id, region, node), which on a
-- rowid table is a seek in the key's index and another in the table. Its
-- rows are small (about 150 bytes), as such tables want.
CREATE TABLE check_latest_new (
    org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    check_id    INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    region      TEXT NOT NULL,
    node        TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL,
    result_id   TEXT NOT NULL,
    streak      INTEGER NOT NULL DEFAULT 1,
    checked_at  TIMESTAMP NOT NULL,
    problems    TEXT NOT NULL DEFAULT '[]',
    duration_ms INTEGER,
    PRIMARY KEY (check_id, region, node)
) WITHOUT ROWID;
INSERT INTO check_latest_new (org_id, check_id, region, node, state, result_id, streak, checked_at, problems, duration_ms)
    SELECT org_id, check_id, region, node, state, result_id, streak, checked_at, problems, duration_ms FROM check_latest;
DROP TABLE check_latest;
ALTER TABLE check_latest_new RENAME TO check_latest;

-- +goose Down
CREATE TABLE check_latest_old (
    org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    check_id    INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    region      TEXT NOT NULL,
    node        TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL,
    result_id   TEXT NOT NULL,
    streak      INTEGER NOT NULL DEFAULT 1,
    checked_at  TIMESTAMP NOT NULL,
    problems    TEXT NOT NULL DEFAULT '[]',
    duration_ms INTEGER,
    PRIMARY KEY (check_id, region, node)
);
INSERT INTO check_latest_old (org_id, check_id, region, node, state, result_id, streak, checked_at, problems, duration_ms)
    SELECT org_id, check_id, region, node, state, result_id, streak, checked_at, problems, duration_ms FROM check_latest;
DROP TABLE check_latest;
ALTER TABLE check_latest_old RENAME TO check_latest;
