package aggregate

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"pharos/app/pipeline"
	"pharos/app/store"
)

// missedRounds counts, per organisation, region and hour, the rounds that
// never reported: a
// result checked more than one and a half intervals after the previous
// one of its check and region (the latest row before the batch, then the
// batch's own earlier results) stands for the rounds between them that
// were lost — jobs dropped by a bus that restarted without persistence,
// dropped late by an overloaded region, or never scheduled. results are
// the batch's newly stored results, ordered as prepare orders them; late
// ones (older than the previous) count nothing.
func missedRounds(latest []store.Latest, results []pipeline.Result, checks map[int64]store.CheckInfo) []store.MissedRounds {
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
	type bucket struct {
		org    int64
		region string
		hour   time.Time
	}
	missed := map[bucket]int{}
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
			missed[bucket{r.OrgID, r.Region, at.Truncate(time.Hour)}] += int((gap+interval/2)/interval) - 1
		}
	}
	out := make([]store.MissedRounds, 0, len(missed))
	for b, n := range missed {
		out = append(out, store.MissedRounds{OrgID: b.org, Region: b.region, Hour: b.hour, Missed: n})
	}
	slices.SortFunc(out, func(a, b store.MissedRounds) int {
		return cmp.Or(cmp.Compare(a.OrgID, b.OrgID), strings.Compare(a.Region, b.Region), a.Hour.Compare(b.Hour))
	})
	return out
}
