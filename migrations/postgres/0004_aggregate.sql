-- +goose Up
-- What the aggregator needs beyond 0001: automatic incidents are marked and
-- at most one is open per check; the last alert time drives repeats; region
-- health is kept so a transition is reported once, whichever aggregator sees
-- it.

ALTER TABLE incidents ADD COLUMN automatic BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE incidents ADD COLUMN last_alert_at TIMESTAMPTZ;
CREATE UNIQUE INDEX incidents_open_automatic ON incidents (check_id) WHERE automatic AND resolved_at IS NULL;

CREATE TABLE region_health (
    org_id      BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    region      TEXT NOT NULL,
    healthy     BOOLEAN NOT NULL,
    changed_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, region)
);

-- check_latest is rewritten every round: room on each page lets PostgreSQL
-- update rows in place (HOT) instead of adding index entries.
ALTER TABLE check_latest SET (fillfactor = 50);
ALTER TABLE cert_observations SET (fillfactor = 70);

-- +goose Down
ALTER TABLE cert_observations RESET (fillfactor);
ALTER TABLE check_latest RESET (fillfactor);
DROP TABLE region_health;
DROP INDEX incidents_open_automatic;
ALTER TABLE incidents DROP COLUMN last_alert_at;
ALTER TABLE incidents DROP COLUMN automatic;
