-- +goose Up
-- The audit log screen pages back by id within one organisation, with
-- optional filters (issue 12 item 6): this index serves "org_id = ? AND
-- id < ? ORDER BY id DESC LIMIT n" directly, however many rows other
-- organisations have written.
CREATE INDEX audit_log_org_id ON audit_log (org_id, id);

-- +goose Down
DROP INDEX audit_log_org_id;
