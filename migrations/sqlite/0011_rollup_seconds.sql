-- +goose Up
-- Uptime in time, not in results: how long each check was monitored on the
-- day, and how much of that it was degraded or down (app/incident.Timeline).
-- Rows rolled up before this migration keep NULL and fall back to their
-- result counts.
ALTER TABLE daily_rollups ADD COLUMN monitored_seconds INTEGER;
ALTER TABLE daily_rollups ADD COLUMN degraded_seconds INTEGER;
ALTER TABLE daily_rollups ADD COLUMN down_seconds INTEGER;

-- +goose Down
ALTER TABLE daily_rollups DROP COLUMN down_seconds;
ALTER TABLE daily_rollups DROP COLUMN degraded_seconds;
ALTER TABLE daily_rollups DROP COLUMN monitored_seconds;
