-- +goose Up
-- One result per job. A job can run twice: a probe slower than the bus's
-- claim timeout is reclaimed by another worker, or a worker cut off from the
-- bus publishes a buffered result after its job was reclaimed. The second
-- result has its own id, so the result id alone cannot catch it; the job id
-- can. Rows from before this migration keep job_id NULL (NULLs never collide).
ALTER TABLE check_results ADD COLUMN job_id TEXT;
CREATE UNIQUE INDEX check_results_job ON check_results (job_id);

-- +goose Down
DROP INDEX check_results_job;
ALTER TABLE check_results DROP COLUMN job_id;
