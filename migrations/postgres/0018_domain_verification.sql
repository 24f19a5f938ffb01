-- +goose Up
-- A page's custom domain is served only after its owner proves control of
-- it (issue 11 item 5): a DNS TXT record _pharos-challenge.<domain>, or a
-- file under http://<domain>/.well-known/pharos-challenge/, holding the
-- page's domain_token. domain_verified is the domain that was proven and
-- domain_verified_at when: the page's domain is verified while the two
-- names are equal, so changing the domain makes it pending again.
-- Domains were always written in lower case; the index makes that a rule.
ALTER TABLE pages ADD COLUMN domain_token TEXT;
ALTER TABLE pages ADD COLUMN domain_verified TEXT;
ALTER TABLE pages ADD COLUMN domain_verified_at TIMESTAMPTZ;
CREATE UNIQUE INDEX pages_domain_lower ON pages (lower(domain));

-- +goose Down
DROP INDEX pages_domain_lower;
ALTER TABLE pages DROP COLUMN domain_verified_at;
ALTER TABLE pages DROP COLUMN domain_verified;
ALTER TABLE pages DROP COLUMN domain_token;
