-- +goose Up
-- The probe duration of each latest result, for the metrics: a steady
-- result is a segment sample (0022), so the full row check_latest points
-- to may be up to an hour older than the latest result. NULL on rows
-- written before this migration: readers fall back to that row.
ALTER TABLE check_latest ADD COLUMN duration_ms INTEGER;

-- +goose Down
ALTER TABLE check_latest DROP COLUMN duration_ms;
