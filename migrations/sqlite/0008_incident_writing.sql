-- +goose Up
-- Incidents people write and the public can trust (issue: incident
-- communication). Pages choose what automatic incidents do and how much
-- technical detail the public sees; an automatic incident belongs to a
-- component and may wait as a draft; an update keeps its own old → new
-- status per affected component for ever (incident_components keeps only the
-- incident's current link), its console-only technical detail, and when its
-- text was edited; templates prefill the composer.

ALTER TABLE pages ADD COLUMN auto_incidents TEXT NOT NULL DEFAULT 'publish'
    CHECK (auto_incidents IN ('publish', 'draft', 'off'));
ALTER TABLE pages ADD COLUMN public_detail TEXT NOT NULL DEFAULT 'plain'
    CHECK (public_detail IN ('plain', 'technical'));

ALTER TABLE incidents ADD COLUMN component_id INTEGER REFERENCES components(id) ON DELETE SET NULL;
ALTER TABLE incidents ADD COLUMN draft BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX incidents_component ON incidents (component_id) WHERE component_id IS NOT NULL;

ALTER TABLE incident_updates ADD COLUMN technical TEXT NOT NULL DEFAULT '';
ALTER TABLE incident_updates ADD COLUMN edited_at TIMESTAMP;

CREATE TABLE incident_update_components (
    org_id        INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    update_id     INTEGER NOT NULL REFERENCES incident_updates(id) ON DELETE CASCADE,
    component_id  INTEGER NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    old_status    TEXT NOT NULL DEFAULT '',
    new_status    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (update_id, component_id)
);
CREATE INDEX incident_update_components_component ON incident_update_components (component_id);
INSERT INTO incident_update_components (org_id, update_id, component_id, old_status, new_status)
    SELECT org_id, update_id, component_id, old_status, new_status FROM incident_components WHERE update_id IS NOT NULL;

CREATE TABLE incident_templates (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    page_id     INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'investigating' CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved')),
    impact      TEXT NOT NULL DEFAULT '' CHECK (impact IN ('', 'none', 'minor', 'major', 'critical')),
    components  TEXT NOT NULL DEFAULT '{}',
    created_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    UNIQUE (page_id, name)
);

-- +goose Down
DROP TABLE incident_templates;
DROP TABLE incident_update_components;
ALTER TABLE incident_updates DROP COLUMN edited_at;
ALTER TABLE incident_updates DROP COLUMN technical;
DROP INDEX incidents_component;
ALTER TABLE incidents DROP COLUMN draft;
ALTER TABLE incidents DROP COLUMN component_id;
ALTER TABLE pages DROP COLUMN public_detail;
ALTER TABLE pages DROP COLUMN auto_incidents;
