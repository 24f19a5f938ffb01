-- +goose Up
-- PostgreSQL's 0006 drops the redundant foreign key from check_results to
-- orgs for ingestion speed. SQLite checks foreign keys in-process at little
-- cost and would need the table rebuilt to drop one, so its schema stays
-- as it is; this file keeps the two dialects' version numbers in step.
SELECT 1;

-- +goose Down
SELECT 1;
