-- +goose Up
-- Pages, component groups, components and checks can now be created and
-- edited in the console as well as by `pharos apply` (issue 12 item 4).
-- managed marks what a configuration file owns: apply sets it on everything
-- on the page it writes, the console creates rows without it. Until now
-- only apply could create these rows, so every existing row is managed.
ALTER TABLE pages ADD COLUMN managed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE component_groups ADD COLUMN managed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE components ADD COLUMN managed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE checks ADD COLUMN managed BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE pages SET managed = TRUE;
UPDATE component_groups SET managed = TRUE;
UPDATE components SET managed = TRUE;
UPDATE checks SET managed = TRUE;

-- +goose Down
ALTER TABLE checks DROP COLUMN managed;
ALTER TABLE components DROP COLUMN managed;
ALTER TABLE component_groups DROP COLUMN managed;
ALTER TABLE pages DROP COLUMN managed;
