// Package pipeline is the wire contract between the scheduler, the probe
// workers and the aggregators (DESIGN §3): the job and result messages, the
// stream and channel names, result sharding and phase spreading. Everything
// a job needs travels inside it, so workers are stateless and never touch the
// database.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	jsonv1 "github.com/go-json-experiment/json/v1"

	"pharos/probes"
)

// Job asks the workers of one region to probe one check once.
type Job struct {
	// ID is a UUIDv7, unique per check × region × round, so a job scheduled
	// twice by two leaders is recognisable.
	ID      string `json:"id"`
	OrgID   int64  `json:"org_id"`
	CheckID int64  `json:"check_id"`
	Region  string `json:"region"`
	// Round is the check's round number (Due as a multiple of the interval).
	Round int64 `json:"round"`
	// Spec is the full probe specification.
	Spec probes.Spec `json:"spec"`
	// Due is when the probe should run; Deadline is when running it would
	// be pointless (the next round is due): a job picked up after its
	// deadline is dropped and counted, never run late.
	Due      time.Time `json:"due"`
	Deadline time.Time `json:"deadline"`
	// RunNow marks an operator's "run now" request.
	RunNow bool `json:"run_now,omitempty"`
}

// Result is one worker's answer to one job.
type Result struct {
	// ID is a UUIDv7 assigned by the worker; the database rejects a second
	// copy, so redelivery stores it once.
	ID      string `json:"id"`
	JobID   string `json:"job_id"`
	OrgID   int64  `json:"org_id"`
	CheckID int64  `json:"check_id"`
	Region  string `json:"region"`
	Round   int64  `json:"round"`
	Worker  string `json:"worker"`
	// Produced is when the worker finished the probe (for aggregator lag).
	Produced time.Time     `json:"produced"`
	Result   probes.Result `json:"result"`
	// Beacon marks a worker's beacon instead of a job's result: the worker
	// is alive in Region, and Result is its probe of the canary (State ""
	// when no canary is configured). A beacon has no job, organisation or
	// check and travels on BeaconShard.
	Beacon bool `json:"beacon,omitempty"`
}

// BeaconShard is the result shard the workers' beacons travel on.
const BeaconShard = 0

// JobsStream is the stream of one region's jobs.
func JobsStream(region string) string { return "jobs:" + region }

// RunNowStream is the stream of one region's "run now" jobs. Workers read it
// before the region's scheduled jobs, so an operator's request jumps the
// queue.
func RunNowStream(region string) string { return JobsStream(region) + ":now" }

// ResultsStream is the stream of one result shard.
func ResultsStream(shard int) string { return "results:" + strconv.Itoa(shard) }

// EventsChannel is the pub/sub channel of one page's live events.
func EventsChannel(pageSlug string) string { return "events:" + pageSlug }

// PageChanged is the live event that tells a page's browsers to fetch it
// again, for writes that carry no detail worth sending (an incident posted
// from the console or the API).
func PageChanged(pageSlug string) []byte {
	b, _ := json.Marshal(struct {
		Type string `json:"type"`
		Page string `json:"page"`
	}{"status", pageSlug}) // a struct of two strings always encodes
	return b
}

// Consumer groups.
const (
	ProbersGroup     = "probers"
	AggregatorsGroup = "aggregators"
)

// Shards is the number of result streams. Workers, aggregators and the
// scheduler must agree on it: a worker writes a check's results to
// Shard(id), which exactly one aggregator reads. This is its one
// definition, and no role takes another.
const Shards = 8

// Shard maps a check to its result shard: all results of one check go to one
// shard, so one aggregator sees a check's rounds in order.
func Shard(checkID int64) int {
	h := fnv.New32a()
	var b [8]byte
	for i := range b {
		b[i] = byte(checkID >> (8 * i))
	}
	h.Write(b[:])
	return int(h.Sum32() % Shards)
}

// Phase is the stable offset of a check within its interval, so checks with
// the same interval do not all fire at the same second.
func Phase(checkID int64, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(strconv.FormatInt(checkID, 10)))
	return time.Duration(h.Sum64() % uint64(interval))
}

// Round returns the round number and due time of the first round of a check
// due at or after t: rounds fall at Phase + k×interval since the Unix epoch.
func Round(checkID int64, interval time.Duration, t time.Time) (round int64, due time.Time) {
	phase := Phase(checkID, interval)
	since := t.Sub(time.Unix(0, 0)) - phase
	round = int64(since / interval)
	if since > 0 && since%interval != 0 {
		round++ // ceil: the first round at or after t
	}
	return round, time.Unix(0, 0).Add(phase + time.Duration(round)*interval).UTC()
}

// Marshal encodes a job or result.
func Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("pipeline: encode %T: %w", v, err)
	}
	return b, nil
}

// Decoding runs on every job a worker takes and every result an
// aggregator stores, so it uses the encoding/json-compatible API of
// github.com/go-json-experiment/json/v1: what encoding/json becomes with
// GOEXPERIMENT=jsonv2, with the same semantics (case-insensitive names, the
// last of duplicate names, invalid UTF-8 replaced, the same time and number
// handling), about twice as fast with a quarter of the allocations on a
// realistic result (BenchmarkDecodeResult). TestDecodeMatchesEncodingJSON holds it to
// encoding/json; only error texts differ. Results, which every aggregator
// decodes at ingest rates, first try decodeResultFast, which reads what
// workers write without reflection; jobs, which every worker decodes,
// first try decodeJobFast, which decodes a check's spec once.

// DecodeJob decodes a job, refusing one without its identity.
func DecodeJob(b []byte) (Job, error) {
	j, ok := decodeJobFast(b)
	if !ok {
		j = Job{}
		if err := jsonv1.Unmarshal(b, &j); err != nil {
			return Job{}, fmt.Errorf("pipeline: decode job: %w", err)
		}
	}
	if j.ID == "" || j.CheckID == 0 || j.Region == "" {
		return Job{}, errors.New("pipeline: job without id, check or region")
	}
	return j, nil
}

// DecodeResult decodes a result, refusing one without its identity.
func DecodeResult(b []byte) (Result, error) {
	r, ok := decodeResultFast(b)
	if !ok {
		r = Result{}
		if err := jsonv1.Unmarshal(b, &r); err != nil {
			return Result{}, fmt.Errorf("pipeline: decode result: %w", err)
		}
	}
	if r.ID == "" || (r.CheckID == 0 && !r.Beacon) || r.Region == "" {
		return Result{}, errors.New("pipeline: result without id, check or region")
	}
	return r, nil
}

// Sleep waits for d or until ctx ends, and reports whether the whole
// duration passed: the one backoff and polling pause of every role.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
