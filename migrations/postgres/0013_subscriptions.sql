-- +goose Up
-- Subscriptions (issue 9). An email subscriber is pending until the
-- confirmation link, valid until confirm_expires_at, is followed; a webhook
-- subscriber until a signed test delivery succeeds. Only the SHA-256 of the
-- confirmation token is stored (confirm_token_hash, from 0001).
ALTER TABLE subscribers ADD COLUMN confirm_expires_at TIMESTAMPTZ;
CREATE INDEX subscribers_org_page ON subscribers (org_id, page_id);
CREATE INDEX subscribers_confirm ON subscribers (confirm_token_hash) WHERE confirm_token_hash IS NOT NULL;

-- A subscriber's optional component scope: no rows means the whole page.
CREATE TABLE subscriber_components (
    subscriber_id  BIGINT NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    component_id   BIGINT NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    org_id         BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    PRIMARY KEY (subscriber_id, component_id)
);
CREATE INDEX subscriber_components_component ON subscriber_components (component_id);

-- +goose Down
DROP TABLE subscriber_components;
DROP INDEX subscribers_confirm;
DROP INDEX subscribers_org_page;
ALTER TABLE subscribers DROP COLUMN confirm_expires_at;
