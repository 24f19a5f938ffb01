package aggregate

import (
	"time"

	"pharos/app/pipeline"
	"pharos/app/store"
)

// missedRounds counts, per region, the rounds that never reported: a
// result checked more than one and a half intervals after the previous
// one of its check and region (the latest row before the batch, then the
// batch's own earlier results) stands for the rounds between them that
// were lost — jobs dropped by a bus that restarted without persistence,
// dropped late by an overloaded region, or never scheduled. results are
// the batch's newly stored results, ordered as prepare orders them; late
// ones (older than the previous) count nothing.
func missedRounds(latest []store.Latest, results []pipeline.Result, checks map[int64]store.CheckInfo) map[string]int {
	type key struct {
		check  int64
		region string
	}
	prev := make(map[key]time.Time, len(latest))
	for _, l := range latest {
		if l.Node == "" {
			prev[key{l.CheckID, l.Region}] = l.CheckedAt
		}
	}
	missed := map[string]int{}
	for _, r := range results {
		k := key{r.CheckID, r.Region}
		at := checkedAt(r)
		p, ok := prev[k]
		if ok && !at.After(p) {
			continue
		}
		prev[k] = at
		interval := checks[r.CheckID].Interval
		if !ok || interval <= 0 {
			continue
		}
		if gap := at.Sub(p); 2*gap > 3*interval {
			missed[r.Region] += int((gap+interval/2)/interval) - 1
		}
	}
	return missed
}
