-- +goose Up
-- Steady results as segments (issue 15 item 2): a result that repeats the
-- one before it (same state, no problems, same certificates, same hour) is
-- not a row of its own but a few bytes appended to its check × region ×
-- hour segment: the millisecond of the hour and the state (3 bytes), then
-- the duration in milliseconds (a varint). Full results, with their ids
-- and unique indexes, stay in check_results. A segment is written once per
-- round and grows to about 120 samples, so its row stays well under the
-- TOAST threshold; room on each page lets the appends update in place.
CREATE TABLE result_segments (
    check_id  BIGINT NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    region    TEXT NOT NULL,
    hour      TIMESTAMPTZ NOT NULL,
    org_id    BIGINT NOT NULL,
    n         INTEGER NOT NULL,
    first_at  TIMESTAMPTZ NOT NULL,
    last_at   TIMESTAMPTZ NOT NULL,
    samples   BYTEA NOT NULL,
    PRIMARY KEY (check_id, region, hour)
) WITH (fillfactor = 50);
CREATE INDEX result_segments_hour ON result_segments (hour);

-- +goose Down
DROP TABLE result_segments;
