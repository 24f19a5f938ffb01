package incident

import (
	"testing"
	"time"
)

// rounds returns one region's samples every interval from start, n of
// them, the i-th in state(i).
func rounds(region string, start time.Time, interval time.Duration, n int, state func(i int) State) []Sample {
	out := make([]Sample, n)
	for i := range out {
		out[i] = Sample{Region: region, State: state(i), At: start.Add(time.Duration(i) * interval)}
	}
	return out
}

func always(s State) func(int) State { return func(int) State { return s } }

// merge interleaves per-region samples by time.
func merge(lists ...[]Sample) []Sample {
	var out []Sample
	for _, l := range lists {
		out = append(out, l...)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].At.Before(out[j-1].At); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestTimeline(t *testing.T) {
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	end := day.AddDate(0, 0, 1)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	// Down from 12:00 to 12:30 inclusive (31 rounds): the first round is
	// not confirmed (degraded), so the check is down 12:01–12:31.
	outage := func(start time.Time) func(int) State {
		return func(i int) State {
			if t := start.Add(time.Duration(i) * time.Minute); !t.Before(at(12, 0)) && !t.After(at(12, 30)) {
				return Down
			}
			return Up
		}
	}
	tests := []struct {
		name     string
		samples  []Sample
		regions  []string
		policy   Policy
		interval time.Duration
		want     Span
	}{
		{"no samples: nothing monitored", nil, nil, Policy{}, time.Minute, Span{}},
		{
			"ten monitored hours, 30 minutes down",
			rounds("fra", at(8, 0), time.Minute, 600, outage(at(8, 0))), nil, Policy{}, time.Minute,
			Span{Monitored: 10 * time.Hour, Down: 30 * time.Minute}, // the first down round is unconfirmed: up
		},
		{
			"confirm 1: down from the first down round",
			rounds("fra", at(8, 0), time.Minute, 600, outage(at(8, 0))), nil, Policy{Confirm: 1}, time.Minute,
			Span{Monitored: 10 * time.Hour, Down: 31 * time.Minute},
		},
		{
			"one lost round leaves no gap, a long silence does",
			append(rounds("fra", at(8, 0), time.Minute, 60, always(Up)), // 08:00–08:59, then silence
				Sample{"fra", Up, at(9, 1)},   // 08:59 stands until 09:01: no gap
				Sample{"fra", Up, at(12, 0)}), // 09:01 stands one interval, 12:00 too
			nil, Policy{}, time.Minute,
			Span{Monitored: 63 * time.Minute},
		},
		{
			"a sample before the day covers the start of the day",
			[]Sample{{"fra", Up, day.Add(-30 * time.Second)}}, nil, Policy{}, time.Minute,
			Span{Monitored: 30 * time.Second},
		},
		{
			"the confirm streak carries over midnight",
			rounds("fra", day.Add(-2*time.Minute), time.Minute, 4, always(Down)), nil, Policy{}, time.Minute,
			Span{Monitored: 2 * time.Minute, Down: 2 * time.Minute}, // streak 3 at 00:00: down at once
		},
		{
			"the last sample of the day stops at midnight",
			[]Sample{{"fra", Down, end.Add(-time.Minute)}, {"fra", Down, end.Add(-30 * time.Second)}}, nil, Policy{}, time.Minute,
			Span{Monitored: time.Minute, Down: 30 * time.Second},
		},
		{
			"one region of three down is degraded, not down",
			merge(rounds("fra", at(10, 0), time.Minute, 60, always(Down)),
				rounds("iad", at(10, 0), time.Minute, 60, always(Up)),
				rounds("sin", at(10, 0), time.Minute, 60, always(Up))),
			[]string{"fra", "iad", "sin"}, Policy{}, time.Minute,
			Span{Monitored: time.Hour, Degraded: 59 * time.Minute}, // from the confirming round
		},
		{
			"two regions of three down is down once confirmed",
			merge(rounds("fra", at(10, 0), time.Minute, 60, always(Down)),
				rounds("iad", at(10, 0), time.Minute, 60, always(Down)),
				rounds("sin", at(10, 0), time.Minute, 60, always(Up))),
			[]string{"fra", "iad", "sin"}, Policy{}, time.Minute,
			Span{Monitored: time.Hour, Down: 59 * time.Minute},
		},
		{
			"samples of regions the check does not probe are ignored",
			merge(rounds("fra", at(10, 0), time.Minute, 60, always(Up)),
				rounds("old", at(10, 0), time.Minute, 60, always(Down))),
			[]string{"fra"}, Policy{}, time.Minute,
			Span{Monitored: time.Hour},
		},
		{
			"unknown results are no data",
			rounds("fra", at(10, 0), time.Minute, 60, always(Unknown)), nil, Policy{}, time.Minute, Span{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Timeline(tt.samples, tt.regions, tt.policy, tt.interval, day, end)
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSpanUptime(t *testing.T) {
	tests := []struct {
		name string
		span Span
		want float64
		ok   bool
	}{
		{"no data", Span{}, 0, false},
		{"all up", Span{Monitored: time.Hour}, 100, true},
		{"30 of 600 minutes down", Span{Monitored: 10 * time.Hour, Degraded: time.Minute, Down: 30 * time.Minute}, 95, true},
		{"degraded counts as up", Span{Monitored: time.Hour, Degraded: time.Hour}, 100, true},
		{"all down", Span{Monitored: time.Hour, Down: time.Hour}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.span.Uptime()
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
