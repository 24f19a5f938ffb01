package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/pipeline"
)

// auditGroup is the consumer group the ledger reads the streams through.
// Every group sees every entry, so reading through it takes nothing away
// from the workers and aggregators.
const auditGroup = "e2e-audit"

// ledger is the audit trail of one run: every job the scheduler enqueued
// and every result a worker published, read from the streams themselves.
// Checked against the check_results table it proves that no result was
// lost and none stored twice.
type ledger struct {
	h       *harness
	b       *bus.RedisBus
	regions []string

	jobs      map[string]pipeline.Job    // by job id
	results   map[string]pipeline.Result // by result id
	byJob     map[string]map[string]bool // job id → its result ids
	resultDup int                        // result entries seen again (same id: a republish)
	beacons   int                        // workers' beacons on the result streams
}

func (h *harness) ledger(regions []string) *ledger {
	l := &ledger{
		h: h, b: h.bus(bus.Options{}), regions: regions,
		jobs: map[string]pipeline.Job{}, results: map[string]pipeline.Result{}, byJob: map[string]map[string]bool{},
	}
	// Join every stream now, before anything is published: an entry leaves
	// its stream once every group there has acknowledged it, so a group
	// created later would miss it.
	l.collect()
	return l
}

// collect reads every entry published since the last collect.
func (l *ledger) collect() {
	l.h.t.Helper()
	for _, region := range l.regions {
		l.drain(pipeline.JobsStream(region), func(m bus.Message) error {
			j, err := pipeline.DecodeJob(m.Payload)
			if err != nil {
				return err
			}
			if _, dup := l.jobs[j.ID]; dup {
				return fmt.Errorf("job %s enqueued twice", j.ID)
			}
			l.jobs[j.ID] = j
			return nil
		})
	}
	for shard := range pipeline.Shards {
		l.drain(pipeline.ResultsStream(shard), func(m bus.Message) error {
			r, err := pipeline.DecodeResult(m.Payload)
			if err != nil {
				return err
			}
			if r.Beacon {
				l.beacons++
				return nil
			}
			if _, dup := l.results[r.ID]; dup {
				l.resultDup++
				return nil
			}
			l.results[r.ID] = r
			if l.byJob[r.JobID] == nil {
				l.byJob[r.JobID] = map[string]bool{}
			}
			l.byJob[r.JobID][r.ID] = true
			return nil
		})
	}
}

func (l *ledger) drain(stream string, fn func(bus.Message) error) {
	l.h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		msgs, err := l.b.Consume(ctx, stream, auditGroup, "auditor", 1000, 0)
		if err != nil {
			l.h.t.Fatalf("audit %s: %v", stream, err)
		}
		if len(msgs) == 0 {
			return
		}
		ids := make([]string, 0, len(msgs))
		for _, m := range msgs {
			if err := fn(m); err != nil {
				l.h.t.Errorf("audit %s entry %s: %v", stream, m.ID, err)
			}
			ids = append(ids, m.ID)
		}
		if err := l.b.Ack(ctx, stream, auditGroup, ids...); err != nil {
			l.h.t.Fatalf("audit %s: ack: %v", stream, err)
		}
	}
}

// storedRow is one stored result: a row of check_results or a steady
// sample of result_segments.
type storedRow struct {
	checkID   int64
	region    string
	checkedAt time.Time
}

func (l *ledger) stored() map[string]storedRow {
	l.h.t.Helper()
	rows, err := l.h.st.DB().QueryContext(context.Background(),
		`SELECT id, check_id, region, checked_at FROM check_results WHERE org_id = $1`, l.h.org)
	if err != nil {
		l.h.t.Fatalf("read check_results: %v", err)
	}
	defer rows.Close()
	out := map[string]storedRow{}
	for rows.Next() {
		var id string
		var r storedRow
		if err := rows.Scan(&id, &r.checkID, &r.region, &r.checkedAt); err != nil {
			l.h.t.Fatalf("read check_results: %v", err)
		}
		if _, dup := out[id]; dup {
			l.h.t.Errorf("result %s is stored twice", id)
		}
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		l.h.t.Fatalf("read check_results: %v", err)
	}
	l.steadyStored(out)
	return out
}

// steadyStored adds to out the steady results, stored as samples of their
// segments without an id: each is the published result of its check,
// region and millisecond; a sample that matches none is keyed by those.
func (l *ledger) steadyStored(out map[string]storedRow) {
	l.h.t.Helper()
	type key struct {
		check  int64
		region string
		ms     int64
	}
	published := map[key]string{}
	checks := map[int64]bool{}
	for id, r := range l.results {
		at := r.Result.CheckedAt
		if at.IsZero() {
			at = r.Produced
		}
		published[key{r.CheckID, r.Region, at.UnixMilli()}] = id
		checks[r.CheckID] = true
	}
	for check := range checks {
		points, err := l.h.st.ResultsBetween(context.Background(), l.h.org, check, time.Unix(0, 0), time.Now().Add(time.Hour))
		if err != nil {
			l.h.t.Fatalf("read results of check %d: %v", check, err)
		}
		for _, p := range points {
			if p.ID != "" {
				continue
			}
			k := key{p.CheckID, p.Region, p.CheckedAt.UnixMilli()}
			id, ok := published[k]
			if !ok {
				id = fmt.Sprintf("sample %d/%s/%s", k.check, k.region, p.CheckedAt.Format(time.RFC3339Nano))
			}
			if _, dup := out[id]; dup {
				l.h.t.Errorf("result %s is stored twice", id)
			}
			out[id] = storedRow{checkID: p.CheckID, region: p.Region, checkedAt: p.CheckedAt}
		}
	}
}

// settle waits until every job enqueued so far has a published result and
// every published result is stored (the scheduler must be stopped first).
func (l *ledger) settle(timeout time.Duration) {
	l.h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		why := l.unsettled()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			l.h.t.Fatalf("after %v: %s", timeout, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// unsettled names a job without a result or a result not stored yet, or
// returns "".
func (l *ledger) unsettled() string {
	l.h.t.Helper()
	l.collect()
	stored := l.stored()
	for id, j := range l.jobs {
		if len(l.byJob[id]) == 0 {
			return fmt.Sprintf("no result for job %s (check %d, %s, round %d)", id, j.CheckID, j.Region, j.Round)
		}
	}
	for id, r := range l.results {
		if _, ok := stored[id]; !ok {
			return fmt.Sprintf("result %s (check %d, %s, round %d) not stored", id, r.CheckID, r.Region, r.Round)
		}
	}
	return ""
}

// roundKey names one round of one check in one region.
type roundKey struct {
	check  int64
	region string
	round  int64
}

// verify checks the exactly-once contract over the whole run and returns
// the number of rounds stored per region:
//
//   - the scheduler enqueued each (check, region, round) once, and the
//     rounds of each check and region follow each other without a gap;
//   - each job has exactly one result (one result id, whichever worker ran
//     it), for the job's own check, region and round;
//   - each result is stored exactly once, checked within its job's window
//     [due, deadline) (due to the second), and nothing else is stored;
//
// so check_results holds exactly one row per (check, region, round)
// scheduled: no result lost, none stored twice.
func (l *ledger) verify(t *testing.T) map[string]int {
	t.Helper()
	l.collect()
	stored := l.stored()

	rounds := map[roundKey]string{} // → job id
	perPair := map[roundKey][]int64{}
	for id, j := range l.jobs {
		k := roundKey{j.CheckID, j.Region, j.Round}
		if other, dup := rounds[k]; dup {
			t.Errorf("check %d, %s, round %d: enqueued twice (jobs %s and %s)", j.CheckID, j.Region, j.Round, other, id)
		}
		rounds[k] = id
		pair := roundKey{check: j.CheckID, region: j.Region}
		perPair[pair] = append(perPair[pair], j.Round)
	}
	for pair, rs := range perPair {
		slices.Sort(rs)
		for i := 1; i < len(rs); i++ {
			if rs[i] != rs[i-1]+1 {
				t.Errorf("check %d, %s: round %d follows round %d: rounds skipped", pair.check, pair.region, rs[i], rs[i-1])
			}
		}
	}

	perRound := map[roundKey]int{}
	perRegion := map[string]int{}
	for id, j := range l.jobs {
		ids := l.byJob[id]
		if len(ids) != 1 {
			t.Errorf("job %s (check %d, %s, round %d): got %d results, want 1", id, j.CheckID, j.Region, j.Round, len(ids))
		}
		for rid := range ids {
			r := l.results[rid]
			if r.CheckID != j.CheckID || r.Region != j.Region || r.Round != j.Round {
				t.Errorf("result %s answers job %s of check %d, %s, round %d, but says check %d, %s, round %d",
					rid, id, j.CheckID, j.Region, j.Round, r.CheckID, r.Region, r.Round)
			}
			row, ok := stored[rid]
			if !ok {
				t.Errorf("result %s of job %s (check %d, %s, round %d) was never stored", rid, id, j.CheckID, j.Region, j.Round)
				continue
			}
			if row.checkID != j.CheckID || row.region != j.Region {
				t.Errorf("result %s stored for check %d, %s; want check %d, %s", rid, row.checkID, row.region, j.CheckID, j.Region)
			}
			// A probe's checked_at is its start truncated to the second.
			due := j.Due.Truncate(time.Second)
			if row.checkedAt.Before(due) || !row.checkedAt.Before(j.Deadline) {
				t.Errorf("result %s of check %d, %s, round %d checked at %s, outside its round [%s, %s)",
					rid, j.CheckID, j.Region, j.Round, row.checkedAt.Format(time.RFC3339Nano),
					j.Due.Format(time.RFC3339Nano), j.Deadline.Format(time.RFC3339Nano))
			}
			perRound[roundKey{j.CheckID, j.Region, j.Round}]++
		}
	}
	for k, n := range perRound {
		if n != 1 {
			t.Errorf("check %d, %s, round %d: %d results stored, want 1", k.check, k.region, k.round, n)
		}
		perRegion[k.region]++
	}
	for id, r := range l.results {
		if _, ok := l.jobs[r.JobID]; !ok {
			t.Errorf("result %s answers job %s, which the scheduler never enqueued", id, r.JobID)
		}
	}
	for id, row := range stored {
		if _, ok := l.results[id]; !ok {
			t.Errorf("stored result %s (check %d, %s) was never published", id, row.checkID, row.region)
		}
	}
	if len(stored) != len(l.jobs) {
		t.Errorf("got %d stored results for %d jobs enqueued, want one each", len(stored), len(l.jobs))
	}
	return perRegion
}
