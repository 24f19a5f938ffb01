package schedule

import (
	"container/heap"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/probes"
)

// defaultRegion is where a check without regions runs (the embedded
// worker's region, as `pharos apply` defaults).
const defaultRegion = "local"

// entry is one check in the leader's plan: its next round and a job
// template per region, encoded once per configuration version.
type entry struct {
	id       int64
	orgID    int64
	interval time.Duration
	updated  time.Time // the check's updated_at when the templates were built
	// spec is the SHA-256 of the raw spec, to notice a change without
	// updated_at (the spec itself, a CA's PEM and all, is in the
	// templates already).
	spec    [sha256.Size]byte
	regions []target

	round int64     // next round to enqueue
	due   time.Time // its due time
	// done marks the regions whose job for round is already published (a
	// tick that failed half-way resumes with the rest).
	done  []bool
	index int // position in the heap
}

// target is one region of a check: its stream, the job fields that never
// change between rounds, and its metrics.
type target struct {
	region    string
	stream    string
	static    []byte // `"org_id":…,"check_id":…,"region":…,"spec":{…}}`
	scheduled prometheus.Counter
	late      prometheus.Counter
}

// jobStatic holds the job fields a template fixes; its JSON names are
// pipeline.Job's (TestEncodeJob keeps them in step).
type jobStatic struct {
	OrgID   int64       `json:"org_id"`
	CheckID int64       `json:"check_id"`
	Region  string      `json:"region"`
	Spec    probes.Spec `json:"spec"`
}

// sameConfig reports whether c is the configuration e was built from.
func (e *entry) sameConfig(c store.Check) bool {
	if !e.updated.Equal(c.UpdatedAt) || e.interval != c.Interval || e.spec != sha256.Sum256(c.Spec) || e.orgID != c.OrgID {
		return false
	}
	regions := checkRegions(c)
	if len(regions) != len(e.regions) {
		return false
	}
	for i, r := range regions {
		if e.regions[i].region != r {
			return false
		}
	}
	return true
}

func checkRegions(c store.Check) []string {
	if len(c.Regions) == 0 {
		return []string{defaultRegion}
	}
	return c.Regions
}

// compile builds the templates of c into e (keeping e's round).
func (m *metrics) compile(e *entry, c store.Check) error {
	if c.Interval <= 0 {
		return fmt.Errorf("check %d: interval %v", c.ID, c.Interval)
	}
	var spec probes.Spec
	if err := json.Unmarshal(c.Spec, &spec); err != nil {
		return fmt.Errorf("check %d: spec: %w", c.ID, err)
	}
	regions := slices.Compact(slices.Sorted(slices.Values(checkRegions(c))))
	targets := make([]target, 0, len(regions))
	for _, r := range regions {
		b, err := json.Marshal(jobStatic{OrgID: c.OrgID, CheckID: c.ID, Region: r, Spec: spec})
		if err != nil {
			return fmt.Errorf("check %d: encode job: %w", c.ID, err)
		}
		targets = append(targets, target{
			region:    r,
			stream:    pipeline.JobsStream(r),
			static:    b[1:], // drop '{': encode prepends the round's fields
			scheduled: m.scheduled.WithLabelValues(r),
			late:      m.skippedLate.WithLabelValues(r),
		})
	}
	e.id, e.orgID, e.interval, e.updated, e.spec = c.ID, c.OrgID, c.Interval, c.UpdatedAt, sha256.Sum256(c.Spec)
	e.regions = targets
	e.done = make([]bool, len(targets))
	return nil
}

// deadline is when a job due at due becomes pointless: the next round is
// due then.
func deadline(due time.Time, interval time.Duration) time.Time { return due.Add(interval) }

// encode returns one job: a fresh UUIDv7 and the round's fields, then the
// template.
func encode(t *target, round int64, due, dl time.Time, runNow bool) ([]byte, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("schedule: job id: %w", err)
	}
	b := make([]byte, 0, 128+len(t.static))
	b = append(b, `{"id":"`...)
	b = append(b, id.String()...)
	b = append(b, `","round":`...)
	b = strconv.AppendInt(b, round, 10)
	b = append(b, `,"due":"`...)
	b = due.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","deadline":"`...)
	b = dl.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `",`...)
	if runNow {
		b = append(b, `"run_now":true,`...)
	}
	return append(b, t.static...), nil
}

// firstRound is the check's first round due after `after` whose deadline
// is still ahead at now.
func firstRound(id int64, interval time.Duration, after, now time.Time) (int64, time.Time) {
	round, due := pipeline.Round(id, interval, after.Add(time.Nanosecond))
	if deadline(due, interval).After(now) {
		return round, due
	}
	return pipeline.Round(id, interval, now.Add(-interval).Add(time.Nanosecond))
}

// dueHeap orders entries by due time (container/heap).
type dueHeap []*entry

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].id < h[j].id
	}
	return h[i].due.Before(h[j].due)
}
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *dueHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}

var _ heap.Interface = (*dueHeap)(nil)
