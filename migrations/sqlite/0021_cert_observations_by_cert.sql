-- +goose Up
-- The console reads a certificate's observations by fingerprint (issue 12,
-- benchmarks): the overview walks the certificates by expiry and asks of
-- each whether it is still the latest at some place, and a page of the
-- inventory judges only the checks its certificates were seen on. The
-- index also serves the cascade from certificates (org_id, sha256), which
-- scanned the table. It leaves last_seen, which every round updates,
-- unindexed.
CREATE INDEX cert_observations_cert ON cert_observations (org_id, sha256);

-- +goose Down
DROP INDEX cert_observations_cert;
