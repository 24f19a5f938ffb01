-- +goose Up
-- Maintenance runs move scheduled → in_progress → completed on their own
-- (the housekeeping role's maintenance tick), with a public update at each
-- step. A recurring window has one run per occurrence, so an update names
-- the run by its start; the unique key makes a replayed or concurrent tick
-- write each step once. affected records, for ever, the old → new status of
-- each component the step changed (JSON [{component_id, old_status,
-- new_status}]).
CREATE TABLE maintenance_updates (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    maintenance_id    INTEGER NOT NULL REFERENCES maintenance_windows(id) ON DELETE CASCADE,
    occurrence_start  TIMESTAMP NOT NULL,
    occurrence_end    TIMESTAMP NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('scheduled', 'in_progress', 'verifying', 'completed')),
    body              TEXT NOT NULL DEFAULT '',
    affected          TEXT NOT NULL DEFAULT '[]',
    display_at        TIMESTAMP NOT NULL,
    created_at        TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    UNIQUE (maintenance_id, occurrence_start, status)
);
CREATE INDEX maintenance_updates_org_display ON maintenance_updates (org_id, display_at);
CREATE INDEX maintenance_updates_occurrence ON maintenance_updates (occurrence_start);

-- +goose Down
DROP TABLE maintenance_updates;
