-- +goose Up
-- Maintenance windows are created by `pharos apply`, in the console and
-- through the management API. managed marks what a configuration file
-- owns, as on pages, groups, components and checks (0017): apply marks every
-- window of the page it writes, the console and the API create windows
-- without it, so a dry run can say which removals undo work done in the
-- browser. Which existing window came from where is not known: they are
-- marked managed, so none is said to be the console's wrongly.
ALTER TABLE maintenance_windows ADD COLUMN managed BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE maintenance_windows SET managed = TRUE;

-- +goose Down
ALTER TABLE maintenance_windows DROP COLUMN managed;
