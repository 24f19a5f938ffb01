-- +goose Up
-- What the aggregator judges a check by, as store.Tx.ChecksForAggregation
-- reads it (the check's configuration and state, its component's name and
-- status, its page's slug, whether its component has an open automatic
-- incident), changes rarely; at 1,000 checks every 30 s the aggregator read
-- it for every result, one random row each from a table larger than
-- SQLite's page cache. This counter moves with every write of the rows
-- those come from, so the store keeps what it read for as long as the
-- counter stands still: one row read a batch instead of one a result. The
-- triggers are broad on purpose (any update of a component, page or
-- incident, any state or configuration write of a check): a move too many
-- costs one batch a re-read, one too few would judge on stale facts. A
-- move sets a random value, not the next number: a transaction that read
-- its own move and then rolled back must not leave rows cached under a
-- value that the next committed move would set again. The one row is
-- written by the first move (no row reads as version 0).
CREATE TABLE aggregation_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
-- +goose StatementBegin
CREATE TRIGGER aggregation_version_checks_insert AFTER INSERT ON checks
BEGIN
    INSERT INTO aggregation_version (id, version) VALUES (1, random())
        ON CONFLICT (id) DO UPDATE SET version = random();
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER aggregation_version_checks_delete AFTER DELETE ON checks
BEGIN
    INSERT INTO aggregation_version (id, version) VALUES (1, random())
        ON CONFLICT (id) DO UPDATE SET version = random();
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER aggregation_version_checks_update AFTER UPDATE ON checks
BEGIN
    INSERT INTO aggregation_version (id, version) VALUES (1, random())
        ON CONFLICT (id) DO UPDATE SET version = random();
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER aggregation_version_components_update AFTER UPDATE ON components
BEGIN
    INSERT INTO aggregation_version (id, version) VALUES (1, random())
        ON CONFLICT (id) DO UPDATE SET version = random();
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER aggregation_version_components_delete AFTER DELETE ON components
BEGIN
    INSERT INTO aggregation_version (id, version) VALUES (1, random())
        ON CONFLICT (id) DO UPDATE SET version = random();
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER aggregation_version_pages_update AFTER UPDATE ON pages
BEGIN
    INSERT INTO aggregation_version (id, version) VALUES (1, random())
        ON CONFLICT (id) DO UPDATE SET version = random();
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER aggregation_version_pages_delete AFTER DELETE ON pages
BEGIN
    INSERT INTO aggregation_version (id, version) VALUES (1, random())
        ON CONFLICT (id) DO UPDATE SET version = random();
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER aggregation_version_incidents_insert AFTER INSERT ON incidents
BEGIN
    INSERT INTO aggregation_version (id, version) VALUES (1, random())
        ON CONFLICT (id) DO UPDATE SET version = random();
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER aggregation_version_incidents_update AFTER UPDATE ON incidents
BEGIN
    INSERT INTO aggregation_version (id, version) VALUES (1, random())
        ON CONFLICT (id) DO UPDATE SET version = random();
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER aggregation_version_incidents_delete AFTER DELETE ON incidents
BEGIN
    INSERT INTO aggregation_version (id, version) VALUES (1, random())
        ON CONFLICT (id) DO UPDATE SET version = random();
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER aggregation_version_incidents_delete;
DROP TRIGGER aggregation_version_incidents_update;
DROP TRIGGER aggregation_version_incidents_insert;
DROP TRIGGER aggregation_version_pages_delete;
DROP TRIGGER aggregation_version_pages_update;
DROP TRIGGER aggregation_version_components_delete;
DROP TRIGGER aggregation_version_components_update;
DROP TRIGGER aggregation_version_checks_update;
DROP TRIGGER aggregation_version_checks_delete;
DROP TRIGGER aggregation_version_checks_insert;
DROP TABLE aggregation_version;
