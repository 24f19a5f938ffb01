-- +goose Up
-- Result ingestion (DESIGN §3): check_results takes every probe result, so
-- each of its per-row costs counts. Its foreign key to orgs is redundant —
-- a result belongs to a check, which belongs to the organisation, and
-- deleting either still deletes the result through checks — but it cost a
-- trigger and a lookup on every insert.
ALTER TABLE check_results DROP CONSTRAINT check_results_org_id_fkey;

-- +goose Down
ALTER TABLE check_results ADD CONSTRAINT check_results_org_id_fkey
    FOREIGN KEY (org_id) REFERENCES orgs(id) ON DELETE CASCADE;
