-- +goose Up
-- Check rounds that never reported, per organisation, region and hour
-- (issue 11 item 11): a gap of more than one interval between a check's
-- results, as after a Redis restart without persistence. The console's
-- overview and GET /api/v1/regions show the last 24 hours.
CREATE TABLE missed_rounds (
    org_id  BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    region  TEXT NOT NULL,
    hour    TIMESTAMPTZ NOT NULL,
    missed  BIGINT NOT NULL,
    PRIMARY KEY (org_id, region, hour)
);

-- +goose Down
DROP TABLE missed_rounds;
