-- +goose Up
-- The catalogue's version, which the scheduler's leader polls every two
-- seconds to learn whether to reload the enabled checks
-- (store.ChecksVersion): a counter that every statement inserting or
-- deleting checks moves, and every update that sets updated_at (each write
-- of a check's configuration or of its enabled flag; the aggregator's
-- state changes do not). Reading it is one row, where counting and summing
-- every check was a scan of the table each time. The one row is
-- written by the first bump (no row reads as version 0). Writers of checks
-- queue on it until they commit: they are operators' edits and applies,
-- never the aggregator.
CREATE TABLE checks_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);

-- +goose StatementBegin
CREATE FUNCTION checks_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Qualified by the trigger's own schema: the statement that fired it
    -- may run with another search_path.
    EXECUTE format('INSERT INTO %I.checks_version AS v (id, version) VALUES (1, 1)
        ON CONFLICT (id) DO UPDATE SET version = v.version + 1', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER checks_version_bump AFTER INSERT OR DELETE OR UPDATE OF updated_at ON checks
    FOR EACH STATEMENT EXECUTE FUNCTION checks_version_bump();

-- +goose Down
DROP TRIGGER checks_version_bump ON checks;
DROP FUNCTION checks_version_bump();
DROP TABLE checks_version;
