-- +goose Up
-- A component's status depends on which states its enabled checks are in,
-- not on how many are in each (store.Tx.ComponentCheckStates). With the
-- states in order beside the component, those few distinct states are
-- found by a handful of seeks however many checks the component has; the
-- index on component_id alone made every recomputation read all of them
-- (10,000 rows for a component of 10,000 checks, each time one changed).
CREATE INDEX checks_component_state ON checks (org_id, component_id, state) WHERE enabled;

-- +goose Down
DROP INDEX checks_component_state;
