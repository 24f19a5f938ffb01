-- +goose Up
-- Steady results as segments (issue 15 item 2): a result that repeats the
-- one before it (same state, no problems, same certificates, same hour) is
-- not a row of its own but a few bytes appended to its check × region ×
-- hour segment: the millisecond of the hour and the state (3 bytes), then
-- the duration in milliseconds (a varint). Full results, with their ids
-- and unique indexes, stay in check_results.
CREATE TABLE result_segments (
    check_id  INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    region    TEXT NOT NULL,
    hour      TIMESTAMP NOT NULL,
    org_id    INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    first_at  TIMESTAMP NOT NULL,
    last_at   TIMESTAMP NOT NULL,
    samples   BLOB NOT NULL,
    PRIMARY KEY (check_id, region, hour)
);
CREATE INDEX result_segments_hour ON result_segments (hour);

-- +goose Down
DROP TABLE result_segments;
