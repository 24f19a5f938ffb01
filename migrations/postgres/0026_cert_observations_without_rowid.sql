-- +goose Up
-- SQLite's 0026 makes cert_observations a WITHOUT ROWID table. PostgreSQL
-- has no such layout to choose: the version is kept in step.
SELECT 1;

-- +goose Down
SELECT 1;
