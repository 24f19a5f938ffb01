package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"time"
)

// Steady results as segments (issue 15 item 2). Most results repeat the one
// before them; such a result is not a check_results row (two UUIDv7 ids,
// their unique indexes and the row's own overhead, ~300 bytes) but a sample
// of 4–5 bytes appended to the result_segments row of its check × region ×
// UTC hour. A sample is the millisecond of the hour and the state, packed in
// 3 bytes (22 + 2 bits), then the duration in milliseconds as a uvarint.
// Offsets from the hour, not from the previous sample, so an append never
// depends on what the segment holds.
//
// Exactly-once: a steady sample has no id to be unique on. A sample no
// later than its segment's last_at is a redelivery and is skipped, which
// AppendSteady checks twice: in Go, against the sample's After (which the
// caller vouches is no earlier than last_at) or else the segment as read,
// and in the upsert itself (WHERE last_at < the appended first sample),
// which PostgreSQL re-evaluates on the row another transaction just
// committed.
// The aggregator decides steadiness only for results newer than the latest
// state of their check × region, so a late result is always a full row, and
// finds a redelivered steady result, which is older than the latest state
// by then, with SteadyStored.

// SteadySample is one steady result as its segment keeps it: no id, no job,
// no problems and no JSON; its time kept to the millisecond.
type SteadySample struct {
	OrgID      int64
	CheckID    int64
	Region     string
	State      string // up, degraded, down or unknown
	CheckedAt  time.Time
	DurationMS int64
	// After, when set, is the newest time the sample's segment may already
	// hold, and AppendSteady skips a sample no later than it without
	// reading the segment. The aggregator passes the check × region's
	// latest whole-check time, which every steady append advances in the
	// same transaction. Zero: the segment's own last sample is read.
	After time.Time
}

// sampleStates are the states a sample can hold, by their 2-bit code.
var sampleStates = [4]string{"up", "degraded", "down", "unknown"}

func stateCode(s string) (uint32, bool) {
	for i, v := range sampleStates {
		if v == s {
			return uint32(i), true
		}
	}
	return 0, false
}

// SteadyState reports whether a state fits in a segment.
func SteadyState(s string) bool {
	_, ok := stateCode(s)
	return ok
}

// segKey names one segment.
type segKey struct {
	check  int64
	region string
	hour   int64 // Unix seconds of the hour
}

func keyOf(checkID int64, region string, at time.Time) segKey {
	return segKey{checkID, region, at.UTC().Truncate(time.Hour).Unix()}
}

func (k segKey) hourTime() time.Time { return time.Unix(k.hour, 0).UTC() }

// sampleTime is the time a sample keeps: the millisecond, UTC.
func sampleTime(at time.Time) time.Time { return at.UTC().Truncate(time.Millisecond) }

// appendSample encodes one sample of the segment starting at hour.
func appendSample(dst []byte, hour time.Time, smp SteadySample) ([]byte, error) {
	code, ok := stateCode(smp.State)
	if !ok {
		return nil, fmt.Errorf("store: steady sample of check %d: state %q has no code", smp.CheckID, smp.State)
	}
	off := uint32(sampleTime(smp.CheckedAt).Sub(hour) / time.Millisecond)
	v := off<<2 | code
	dst = append(dst, byte(v>>16), byte(v>>8), byte(v))
	return binary.AppendUvarint(dst, uint64(max(0, smp.DurationMS))), nil
}

// decodeSamples calls fn with each sample of a segment, in the order
// appended.
func decodeSamples(hour time.Time, b []byte, fn func(at time.Time, state string, ms int64)) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return fmt.Errorf("store: segment of %s: %d bytes left over", hour.Format(time.RFC3339), len(b))
		}
		v := uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
		ms, n := binary.Uvarint(b[3:])
		if n <= 0 {
			return fmt.Errorf("store: segment of %s: bad duration", hour.Format(time.RFC3339))
		}
		fn(hour.Add(time.Duration(v>>2)*time.Millisecond), sampleStates[v&3], int64(ms))
		b = b[3+n:]
	}
	return nil
}

// segmentEnd is what a segment's row says about its last sample.
type segmentEnd struct {
	lastAt  time.Time
	samples []byte // only when asked for
}

// segmentEnds returns the last_at (and, with withSamples, the samples) of
// the stored segments among keys.
func (tx *Tx) segmentEnds(ctx context.Context, orgOf map[int64]int64, keys []segKey, withSamples bool) (map[segKey]segmentEnd, error) {
	ids := map[int64][]int64{}
	seen := map[int64]bool{}
	want := make(map[segKey]bool, len(keys))
	lo, hi := keys[0].hour, keys[0].hour
	for _, k := range keys {
		want[k] = true
		lo, hi = min(lo, k.hour), max(hi, k.hour)
		if !seen[k.check] {
			seen[k.check] = true
			ids[orgOf[k.check]] = append(ids[orgOf[k.check]], k.check)
		}
	}
	cols := "check_id, region, hour, last_at, ''"
	if withSamples {
		cols = "check_id, region, hour, last_at, samples"
	}
	out := map[segKey]segmentEnd{}
	err := forEachOrgChunk(ids, func(orgID int64, chunk []int64) error {
		in, args := tx.s.anyOf("check_id", orgID, chunk)
		args = append(args, time.Unix(lo, 0).UTC(), time.Unix(hi, 0).UTC())
		rows, err := tx.tx.QueryContext(ctx, tx.s.q(`SELECT `+cols+` FROM result_segments
			WHERE org_id = ? AND `+in+` AND hour >= ? AND hour <= ?`), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k segKey
			var hour time.Time
			var e segmentEnd
			if err := rows.Scan(&k.check, &k.region, &hour, &e.lastAt, &e.samples); err != nil {
				return err
			}
			k.hour = hour.Unix()
			if want[k] {
				e.lastAt = e.lastAt.UTC()
				out[k] = e
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: read segments: %w", err)
	}
	return out, nil
}

// segmentWrite is what one AppendSteady call appends to one segment.
type segmentWrite struct {
	key         segKey
	org         int64
	n           int
	first, last time.Time
	samples     []byte
	idx         []int // the samples' indexes in the call
}

// AppendSteady appends steady samples to their segments and reports, per
// sample, whether it was stored: false for one no later than what its
// segment already holds, or than its After (a redelivered result).
// Samples of one check and region must come in ascending time, with the
// same After, as the aggregator gives them.
func (tx *Tx) AppendSteady(ctx context.Context, samples []SteadySample) ([]bool, error) {
	stored := make([]bool, len(samples))
	if len(samples) == 0 {
		return stored, nil
	}
	// Most samples are the only one of their segment in a batch.
	byKey := make(map[segKey]*segmentWrite, len(samples))
	keys := make([]segKey, 0, len(samples))
	orgOf := make(map[int64]int64, len(samples))
	for i, smp := range samples {
		k := keyOf(smp.CheckID, smp.Region, smp.CheckedAt)
		w, ok := byKey[k]
		if !ok {
			w = &segmentWrite{key: k, org: smp.OrgID}
			byKey[k] = w
			keys = append(keys, k)
		}
		w.idx = append(w.idx, i)
		orgOf[smp.CheckID] = smp.OrgID
	}
	sort.Slice(keys, func(i, j int) bool { // a stable lock order between batches
		a, b := keys[i], keys[j]
		if a.check != b.check {
			return a.check < b.check
		}
		if a.region != b.region {
			return a.region < b.region
		}
		return a.hour < b.hour
	})
	var read []segKey // the segments without an After
	for _, k := range keys {
		if samples[byKey[k].idx[0]].After.IsZero() {
			read = append(read, k)
		}
	}
	var ends map[segKey]segmentEnd
	var err error
	if len(read) > 0 {
		if ends, err = tx.segmentEnds(ctx, orgOf, read, false); err != nil {
			return nil, err
		}
	}
	writes := make([]*segmentWrite, 0, len(keys))
	for _, k := range keys {
		w := byKey[k]
		end, exists := ends[k]
		last := end.lastAt
		var kept []int
		for _, i := range w.idx {
			at := sampleTime(samples[i].CheckedAt)
			if after := samples[i].After; !after.IsZero() && !samples[i].CheckedAt.After(after) ||
				(exists || len(kept) > 0) && !at.After(last) {
				continue // redelivered
			}
			if w.samples, err = appendSample(w.samples, k.hourTime(), samples[i]); err != nil {
				return nil, err
			}
			if len(kept) == 0 {
				w.first = at
			}
			kept, last = append(kept, i), at
		}
		if len(kept) == 0 {
			continue
		}
		w.idx, w.n, w.last = kept, len(kept), last
		writes = append(writes, w)
	}
	if len(writes) == 0 {
		return stored, nil
	}
	written, err := tx.upsertSegments(ctx, writes)
	if err != nil {
		return nil, fmt.Errorf("store: append steady samples: %w", err)
	}
	for _, w := range writes {
		if written[w.key] {
			for _, i := range w.idx {
				stored[i] = true
			}
		}
	}
	return stored, nil
}

// upsertSegments writes the segments and returns those it wrote: an
// append is skipped when the segment already reaches its first sample.
// The samples are appended in SQL, so the segment is not read and written
// back whole.
func (tx *Tx) upsertSegments(ctx context.Context, writes []*segmentWrite) (map[segKey]bool, error) {
	if tx.s.dialect == SQLite {
		return tx.upsertSegmentsSQLite(ctx, writes)
	}
	n := len(writes)
	orgs, checks, counts := make([]int64, n), make([]int64, n), make([]int64, n)
	regions, samples := make([]string, n), make([][]byte, n)
	hours, firsts, lasts := make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
	for i, w := range writes {
		orgs[i], checks[i], regions[i], hours[i], counts[i] = w.org, w.key.check, w.key.region, w.key.hourTime(), int64(w.n)
		firsts[i], lasts[i], samples[i] = w.first, w.last, w.samples
	}
	rows, err := tx.tx.QueryContext(ctx, `INSERT INTO result_segments (org_id, check_id, region, hour, n, first_at, last_at, samples)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[], $5::int[], $6::timestamptz[],
			$7::timestamptz[], $8::bytea[])
		ON CONFLICT (check_id, region, hour) DO UPDATE SET n = result_segments.n + excluded.n,
			last_at = excluded.last_at, samples = result_segments.samples || excluded.samples
		WHERE result_segments.last_at < excluded.first_at
		RETURNING check_id, region, hour`, orgs, checks, regions, hours, counts, firsts, lasts, samples)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	written := make(map[segKey]bool, len(writes))
	for rows.Next() {
		var k segKey
		var hour time.Time
		if err := rows.Scan(&k.check, &k.region, &hour); err != nil {
			return nil, err
		}
		k.hour = hour.Unix()
		written[k] = true
	}
	return written, rows.Err()
}

// upsertSegmentsSQLite is upsertSegments on SQLite: one row a statement
// (Store.rowsPer), whose count of changed rows tells whether the append
// was written. SQLite's || joins blobs byte for byte but types the result
// as text; the cast types it back.
func (tx *Tx) upsertSegmentsSQLite(ctx context.Context, writes []*segmentWrite) (map[segKey]bool, error) {
	written := make(map[segKey]bool, len(writes))
	for _, w := range writes {
		res, err := tx.tx.ExecContext(ctx, `INSERT INTO result_segments (org_id, check_id, region, hour, n, first_at, last_at, samples)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (check_id, region, hour) DO UPDATE SET n = result_segments.n + excluded.n,
				last_at = excluded.last_at, samples = CAST(result_segments.samples || excluded.samples AS BLOB)
			WHERE result_segments.last_at < excluded.first_at`,
			w.org, w.key.check, w.key.region, w.key.hourTime(), w.n, w.first, w.last, w.samples)
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		written[w.key] = n > 0
	}
	return written, nil
}
