-- +goose Up
-- The notifier. An outbox event is rendered once, when it is fanned out, so
-- every attempt of every delivery sends the same content.
ALTER TABLE outbox ADD COLUMN rendered TEXT;

-- A delivery is leased to one notifier while it is sent: claimed_until
-- ends the lease (a notifier that died mid-send leaves it to expire) and
-- claim_token makes a lost lease's late record a no-op.
ALTER TABLE deliveries ADD COLUMN claimed_until TIMESTAMPTZ;
ALTER TABLE deliveries ADD COLUMN claim_token TEXT NOT NULL DEFAULT '';

-- Each subscriber's oldest pending delivery goes first (in order per
-- endpoint); housekeeping prunes finished deliveries and processed events.
CREATE INDEX deliveries_subscriber_pending ON deliveries (subscriber_id, id) WHERE status = 'pending';
CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE status <> 'pending';
CREATE INDEX deliveries_outbox ON deliveries (outbox_id);
CREATE INDEX outbox_processed ON outbox (processed_at) WHERE processed_at IS NOT NULL;

-- +goose Down
DROP INDEX outbox_processed;
DROP INDEX deliveries_outbox;
DROP INDEX deliveries_finished;
DROP INDEX deliveries_subscriber_pending;
ALTER TABLE deliveries DROP COLUMN claim_token;
ALTER TABLE deliveries DROP COLUMN claimed_until;
ALTER TABLE outbox DROP COLUMN rendered;
