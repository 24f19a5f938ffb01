package aggregate

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"

	"pharos/app/incident"
	"pharos/app/pipeline"
	"pharos/app/store"
)

// storedResult is a result this batch stored for the first time: only those
// have effects, so a redelivered result changes nothing.
type storedResult = pipeline.Result

// outcome collects what a batch's transaction did, applied to metrics,
// caches and live events only once it committed.
type outcome struct {
	stored      []storedResult
	duplicates  int
	unknown     int
	outbox      []store.OutboxEvent
	beacons     int
	missed      []store.MissedRounds  // rounds that never reported
	regions     *regionJudgement      // judged afresh in this batch
	events      map[string]*pageEvent // page slug → event
	actions     map[incident.Action]int
	issuerNotes map[string][]store.OutboxEvent   // result id → cert_issuer_changed events
	latest      map[int64][]store.Latest         // check id → its whole-check rows after the batch
	certsRead   map[int64][]store.CheckRegion    // the places whose certificates the batch read,
	certsBefore map[store.CertKey]store.CertSeen // what it knew of its places',
	sightings   []store.CertSighting             // and what it recorded
}

// ProcessBatch stores and judges results in one transaction (DESIGN §3
// steps 1–4), then publishes the pages' live events. It is idempotent: a
// result already stored is skipped, and its effects are not repeated. On
// error nothing was committed and the caller must not acknowledge the
// batch; redelivery retries it.
func (a *Aggregator) ProcessBatch(ctx context.Context, results []pipeline.Result) error {
	if len(results) == 0 {
		return nil
	}
	started := a.opts.Now()
	batch := prepare(results)
	var out *outcome
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		out = &outcome{
			events:      map[string]*pageEvent{},
			actions:     map[incident.Action]int{},
			issuerNotes: map[string][]store.OutboxEvent{},
		}
		return a.apply(ctx, tx, batch, started, out)
	})
	if err != nil {
		a.metrics.batchErrors.Inc()
		return fmt.Errorf("aggregate: batch of %d results: %w", len(results), err)
	}
	committed := a.opts.Now()
	a.committed(out, started, committed)
	if len(out.stored) > 0 { // a batch of duplicates alone wrote nothing
		a.owned.put(out.latest, committed)
		a.owned.putCerts(out.certsRead, out.certsBefore, out.sightings, committed)
	}
	if a.afterCommit != nil {
		a.afterCommit(ctx, out.stored)
	}
	a.publish(ctx, out.events)
	return nil
}

// prepare drops repeated ids and orders results by check, region and time,
// the order their effects apply in.
func prepare(results []pipeline.Result) []pipeline.Result {
	seen := make(map[string]bool, len(results))
	out := make([]pipeline.Result, 0, len(results))
	for _, r := range results {
		if seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.CheckID != b.CheckID {
			return a.CheckID < b.CheckID
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return checkedAt(a).Before(checkedAt(b))
	})
	return out
}

// checkedAt is when a result's probe ran (the worker's production time when
// the probe did not say).
func checkedAt(r pipeline.Result) time.Time {
	if !r.Result.CheckedAt.IsZero() {
		return r.Result.CheckedAt.UTC()
	}
	return r.Produced.UTC()
}

// apply is the body of a batch's transaction.
func (a *Aggregator) apply(ctx context.Context, tx *store.Tx, results []pipeline.Result, now time.Time, out *outcome) error {
	beacons, results := splitBeacons(results)
	if err := recordBeacons(ctx, tx, beacons); err != nil {
		return err
	}
	out.beacons = len(beacons)
	if len(results) == 0 {
		_, err := a.regionHealth(ctx, tx, nil, beacons, nil, now, out)
		return err
	}
	checks, err := tx.ChecksForAggregation(ctx, orgChecks(results))
	if err != nil {
		return err
	}
	unknown := func(r pipeline.Result) bool {
		c, ok := checks[r.CheckID]
		return !ok || c.OrgID != r.OrgID
	}
	known := results // copied only when some are dropped
	if slices.ContainsFunc(results, unknown) {
		known = slices.DeleteFunc(slices.Clone(results), unknown)
		out.unknown = len(results) - len(known)
	}
	if out.unknown > 0 {
		a.log.Warn("results for unknown checks dropped", slog.Int("count", out.unknown))
	}
	if len(known) == 0 {
		return nil
	}
	certsBefore, err := a.noteIssuerChanges(ctx, tx, known, checks, out)
	if err != nil {
		return err
	}
	ids := orgChecks(known)
	tx.KeepLatest(a.owned.get(ids, now))
	before, err := tx.WholeLatestForChecks(ctx, ids)
	if err != nil {
		return err
	}
	steady := judgeSteady(before, known, certsBefore)
	isNew, err := storeResults(ctx, tx, known, before, steady, now)
	if err != nil {
		return err
	}
	for _, r := range known {
		if isNew[r.ID] {
			out.stored = append(out.stored, r)
			out.outbox = append(out.outbox, out.issuerNotes[r.ID]...)
		}
	}
	out.duplicates = len(known) - len(out.stored)
	if len(out.stored) == 0 {
		return nil
	}
	out.missed = missedRounds(before, out.stored, checks)
	if err := tx.AddMissedRounds(ctx, out.missed); err != nil {
		return err
	}
	out.certsBefore, out.sightings = certsBefore, sightings(out.stored, certsBefore)
	if err := tx.RecordCertificates(ctx, out.sightings); err != nil {
		return err
	}
	latest, err := a.updateLatest(ctx, tx, out.stored, steady)
	if err != nil {
		return err
	}
	out.latest = latest
	regions, err := a.regionHealth(ctx, tx, out.stored, beacons, checks, now, out)
	if err != nil {
		return err
	}
	if err := a.judge(ctx, tx, out.stored, checks, latest, regions, now, out); err != nil {
		return err
	}
	if _, err := tx.AddOutbox(ctx, out.outbox); err != nil {
		return err
	}
	return nil
}

// committed applies a committed batch to metrics and caches.
func (a *Aggregator) committed(out *outcome, started, at time.Time) {
	m := a.metrics
	m.results.WithLabelValues("stored").Add(float64(len(out.stored)))
	m.results.WithLabelValues("duplicate").Add(float64(out.duplicates))
	m.results.WithLabelValues("unknown_check").Add(float64(out.unknown))
	m.results.WithLabelValues("beacon").Add(float64(out.beacons))
	for _, r := range out.missed {
		m.missed.WithLabelValues(r.Region).Add(float64(r.Missed))
	}
	m.batchSize.Observe(float64(len(out.stored) + out.duplicates + out.unknown + out.beacons))
	m.batchSeconds.Observe(at.Sub(started).Seconds())
	for _, r := range out.stored {
		if !r.Produced.IsZero() {
			m.lag.Observe(max(0, at.Sub(r.Produced).Seconds()))
		}
	}
	for action, n := range out.actions {
		m.transitions.WithLabelValues(string(action)).Add(float64(n))
	}
	if out.regions == nil {
		return
	}
	a.mu.Lock()
	a.regions, a.rejudging = *out.regions, time.Time{}
	a.mu.Unlock()
	for region, j := range out.regions.regions {
		switch j.Health {
		case incident.Healthy:
			m.regionHealth.WithLabelValues(region).Set(1)
		case incident.Unhealthy:
			m.regionHealth.WithLabelValues(region).Set(0)
		}
	}
}

// splitBeacons separates the workers' beacons from the results; without
// beacons, results is all (batches of results are large, and most hold no
// beacon).
func splitBeacons(all []pipeline.Result) (beacons, results []pipeline.Result) {
	if !slices.ContainsFunc(all, func(r pipeline.Result) bool { return r.Beacon }) {
		return nil, all
	}
	for _, r := range all {
		if r.Beacon {
			beacons = append(beacons, r)
		} else {
			results = append(results, r)
		}
	}
	return beacons, results
}

// resultRow turns a result into its check_results row.
func resultRow(r pipeline.Result, received time.Time) (store.ResultRow, error) {
	pj, err := problemsJSON(r.Result.Problems)
	if err != nil {
		return store.ResultRow{}, fmt.Errorf("aggregate: encode problems of result %s: %w", r.ID, err)
	}
	rj, err := json.Marshal(r.Result)
	if err != nil {
		return store.ResultRow{}, fmt.Errorf("aggregate: encode result %s: %w", r.ID, err)
	}
	return store.ResultRow{
		ID: r.ID, JobID: r.JobID, OrgID: r.OrgID, CheckID: r.CheckID, Region: r.Region, State: stateOf(r),
		CheckedAt: checkedAt(r), DurationMS: r.Result.DurationMS, Problems: pj, Result: rj, ReceivedAt: received,
	}, nil
}

// orgChecks groups the results' check ids by organisation.
func orgChecks(results []pipeline.Result) map[int64][]int64 {
	seen := map[int64]bool{}
	out := map[int64][]int64{}
	for _, r := range results {
		if !seen[r.CheckID] {
			seen[r.CheckID] = true
			out[r.OrgID] = append(out[r.OrgID], r.CheckID)
		}
	}
	return out
}
