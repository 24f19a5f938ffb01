-- +goose Up
-- Region health judged across every organisation (issue 10 item 5). Each
-- probe worker sends a beacon every round: it is alive and, with a canary
-- configured, whether it reached the canary. probe_workers keeps each
-- worker's last beacon; probe_regions the aggregators' verdict on each
-- region (healthy, unhealthy, or not yet judged) and why, read by the
-- console and the admin API. region_health stays per organisation: what
-- each organisation's operators were told.
CREATE TABLE probe_workers (
    region        TEXT NOT NULL,
    worker        TEXT NOT NULL,
    seen_at       TIMESTAMPTZ NOT NULL,
    -- canary_state is the probe state of the canary ('' when none is
    -- configured), canary_error its first problem's message.
    canary_state  TEXT NOT NULL DEFAULT '',
    canary_error  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (region, worker)
);

CREATE TABLE probe_regions (
    region      TEXT PRIMARY KEY,
    health      TEXT NOT NULL CHECK (health IN ('healthy', 'unhealthy', 'unjudged')),
    reason      TEXT NOT NULL DEFAULT '',
    changed_at  TIMESTAMPTZ NOT NULL,
    judged_at   TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE probe_regions;
DROP TABLE probe_workers;
