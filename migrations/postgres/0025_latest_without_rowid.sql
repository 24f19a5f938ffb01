-- +goose Up
-- SQLite's 0025 makes check_latest a WITHOUT ROWID table, clustered on its
-- primary key. PostgreSQL has no such layout to choose (a heap and the key's
-- index, whose updates of check_latest are HOT): the version is kept in step.
SELECT 1;

-- +goose Down
SELECT 1;
