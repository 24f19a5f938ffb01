-- +goose Up
-- One automatic incident per affected component instead of per check
-- (issue 8): several failing checks of one component join its incident.
-- auto_state keeps what each of the component's checks last reported while
-- in trouble (JSON, written by the aggregator), so the incident's wording
-- covers every check of the component whichever aggregator shard judged it,
-- and an update is posted when the kinds of trouble change. Open automatic
-- incidents of the per-check era join their check's component; where a
-- component had several open, the oldest stays open and the others resolve.

ALTER TABLE incidents ADD COLUMN auto_state TEXT NOT NULL DEFAULT '';

UPDATE incidents SET component_id = (SELECT c.component_id FROM checks c WHERE c.id = incidents.check_id)
    WHERE automatic AND component_id IS NULL AND check_id IS NOT NULL;
UPDATE incidents SET status = 'resolved', resolved_at = updated_at
    WHERE automatic AND resolved_at IS NULL AND component_id IS NOT NULL AND id NOT IN (
        SELECT MIN(id) FROM incidents WHERE automatic AND resolved_at IS NULL AND component_id IS NOT NULL GROUP BY component_id);

DROP INDEX incidents_open_automatic;
CREATE UNIQUE INDEX incidents_open_automatic ON incidents (component_id) WHERE automatic AND resolved_at IS NULL;

-- +goose Down
DROP INDEX incidents_open_automatic;
CREATE UNIQUE INDEX incidents_open_automatic ON incidents (check_id) WHERE automatic AND resolved_at IS NULL;
ALTER TABLE incidents DROP COLUMN auto_state;
