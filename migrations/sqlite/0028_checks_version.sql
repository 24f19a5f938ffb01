-- +goose Up
-- The catalogue's version, which the scheduler's leader polls every two
-- seconds to learn whether to reload the enabled checks
-- (store.ChecksVersion): a counter that every insert and delete of a check
-- moves, and every update that sets updated_at (each write of a check's
-- configuration or of its enabled flag; the aggregator's state changes do
-- not). Reading it is one row, where counting and summing every check was
-- a scan of the table each time. The one row is
-- written by the first bump (no row reads as version 0).
CREATE TABLE checks_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
-- +goose StatementBegin
CREATE TRIGGER checks_version_insert AFTER INSERT ON checks
BEGIN
    INSERT INTO checks_version (id, version) VALUES (1, 1)
        ON CONFLICT (id) DO UPDATE SET version = checks_version.version + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER checks_version_delete AFTER DELETE ON checks
BEGIN
    INSERT INTO checks_version (id, version) VALUES (1, 1)
        ON CONFLICT (id) DO UPDATE SET version = checks_version.version + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER checks_version_update AFTER UPDATE OF updated_at ON checks
BEGIN
    INSERT INTO checks_version (id, version) VALUES (1, 1)
        ON CONFLICT (id) DO UPDATE SET version = checks_version.version + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER checks_version_update;
DROP TRIGGER checks_version_delete;
DROP TRIGGER checks_version_insert;
DROP TABLE checks_version;
