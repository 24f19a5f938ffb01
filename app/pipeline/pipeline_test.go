package pipeline

import (
	"testing"
	"time"
)

func TestRoundIsStableAndAligned(t *testing.T) {
	interval := time.Minute
	for _, id := range []int64{1, 2, 42, 99999} {
		t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
		r1, due1 := Round(id, interval, t0)
		if due1.Before(t0) || due1.Sub(t0) >= interval {
			t.Errorf("check %d: due %s is not within [t, t+interval) of %s", id, due1, t0)
		}
		// Asking at the due time returns the same round; just after, the next.
		r2, due2 := Round(id, interval, due1)
		if r2 != r1 || !due2.Equal(due1) {
			t.Errorf("check %d: at due time got round %d %s, want %d %s", id, r2, due2, r1, due1)
		}
		r3, due3 := Round(id, interval, due1.Add(time.Nanosecond))
		if r3 != r1+1 || due3.Sub(due1) != interval {
			t.Errorf("check %d: just after due got round %d %s, want %d", id, r3, due3, r1+1)
		}
	}
}

func TestPhaseSpreadsChecks(t *testing.T) {
	seen := map[time.Duration]int{}
	for id := int64(1); id <= 600; id++ {
		seen[Phase(id, time.Minute).Truncate(time.Second)]++
	}
	// 600 checks over 60 one-second buckets: every bucket used, none crowded.
	if len(seen) < 55 {
		t.Errorf("600 checks landed in %d distinct seconds, want ≥ 55", len(seen))
	}
	for sec, n := range seen {
		if n > 30 {
			t.Errorf("%d checks share second %s", n, sec)
		}
	}
}

func TestShardIsStableAndInRange(t *testing.T) {
	counts := make([]int, Shards)
	for id := int64(1); id <= 4000; id++ {
		s := Shard(id)
		if s != Shard(id) || s < 0 || s >= Shards {
			t.Fatalf("Shard(%d) = %d", id, s)
		}
		counts[s]++
	}
	for i, n := range counts {
		if n < 4000/Shards*4/5 {
			t.Errorf("shard %d got %d of 4000 checks", i, n)
		}
	}
}

func TestDecodeRefusesAnonymousMessages(t *testing.T) {
	if _, err := DecodeJob([]byte(`{"check_id":1,"region":"fra"}`)); err == nil {
		t.Error("job without id accepted")
	}
	if _, err := DecodeResult([]byte(`{"id":"x","region":"fra"}`)); err == nil {
		t.Error("result without check accepted")
	}
	if r, err := DecodeResult([]byte(`{"id":"x","region":"fra","worker":"w1","beacon":true}`)); err != nil || !r.Beacon {
		t.Errorf("a worker's beacon (no check): got %+v, %v", r, err)
	}
	if _, err := DecodeResult([]byte(`{"id":"x","beacon":true}`)); err == nil {
		t.Error("beacon without region accepted")
	}
	if _, err := DecodeJob([]byte(`not json`)); err == nil {
		t.Error("garbage accepted")
	}
	j := Job{ID: "01", CheckID: 3, Region: "fra", Round: 9, Due: time.Unix(60, 0).UTC()}
	b, err := Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeJob(b)
	if err != nil || got.ID != j.ID || got.Round != 9 || !got.Due.Equal(j.Due) {
		t.Errorf("round trip: got %+v, %v", got, err)
	}
}
