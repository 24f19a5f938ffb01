package incident

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// stepText renders a step for comparison: "status run-start display-at effect".
func stepText(s MaintenanceStep) string {
	effect := map[Effect]string{NoEffect: "-", EnterMaintenance: "enter", LeaveMaintenance: "leave"}[s.Effect]
	return s.Status + " " + s.Run.Start.Format("01-02T15:04") + " @" + s.DisplayAt.Format("01-02T15:04") + " " + effect
}

func TestPlanMaintenance(t *testing.T) {
	t.Parallel()
	utc := func(s string) time.Time { return mustUTC(t, s) }
	weekly, err := ParseWindow("0 8 * * SUN", 2*time.Hour, "Europe/Berlin") // 29 March is a Sunday: the spring change
	if err != nil {
		t.Fatal(err)
	}
	oneOff, err := OneOffWindow(utc("2026-10-25T07:00:00Z"), utc("2026-10-25T09:00:00Z"), "Europe/Berlin") // 08:00 CET after the autumn change
	if err != nil {
		t.Fatal(err)
	}
	done := func(keys ...string) func(time.Time, string) bool {
		set := map[string]bool{}
		for _, k := range keys {
			set[k] = true
		}
		return func(start time.Time, status string) bool { return set[status+" "+start.Format(time.RFC3339)] }
	}
	tests := []struct {
		name       string
		runs       MaintenanceRuns
		now        string
		wantSteps  []string
		wantStatus string
	}{
		{"recurring: announce the next run (summer time begins: 06:00 UTC)",
			MaintenanceRuns{Window: weekly, Status: "scheduled", Since: utc("2026-03-23T00:00:00Z")}, "2026-03-24T00:00:00Z",
			[]string{"scheduled 03-29T06:00 @03-24T00:00 -"}, ""},
		{"recurring: announced already",
			MaintenanceRuns{Window: weekly, Status: "scheduled", Since: utc("2026-03-23T00:00:00Z"), Done: done("scheduled 2026-03-29T06:00:00Z")},
			"2026-03-24T00:00:00Z", nil, ""},
		{"recurring: the run begins, the next is announced",
			MaintenanceRuns{Window: weekly, Status: "scheduled", Since: utc("2026-03-23T00:00:00Z"), Done: done("scheduled 2026-03-29T06:00:00Z")},
			"2026-03-29T06:00:10Z",
			[]string{"in_progress 03-29T06:00 @03-29T06:00 enter", "scheduled 04-05T06:00 @03-29T06:00 -"}, "in_progress"},
		{"recurring: the run ends",
			MaintenanceRuns{Window: weekly, Status: "in_progress", Since: utc("2026-03-23T00:00:00Z"),
				Done: done("scheduled 2026-03-29T06:00:00Z", "in_progress 2026-03-29T06:00:00Z", "scheduled 2026-04-05T06:00:00Z")},
			"2026-03-29T08:00:05Z",
			[]string{"completed 03-29T06:00 @03-29T08:00 leave"}, "scheduled"},
		{"recurring: replayed tick writes nothing",
			MaintenanceRuns{Window: weekly, Status: "scheduled", Since: utc("2026-03-23T00:00:00Z"),
				Done: done("scheduled 2026-03-29T06:00:00Z", "in_progress 2026-03-29T06:00:00Z", "completed 2026-03-29T06:00:00Z", "scheduled 2026-04-05T06:00:00Z")},
			"2026-03-29T08:00:25Z", nil, ""},
		{"recurring: a run missed entirely is recorded without touching components",
			MaintenanceRuns{Window: weekly, Status: "scheduled", Since: utc("2026-03-23T00:00:00Z"), Done: done("scheduled 2026-03-29T06:00:00Z")},
			"2026-03-29T12:00:00Z",
			[]string{"in_progress 03-29T06:00 @03-29T06:00 -", "completed 03-29T06:00 @03-29T08:00 -", "scheduled 04-05T06:00 @03-29T12:00 -"}, ""},
		{"recurring: runs before the window existed get nothing",
			MaintenanceRuns{Window: weekly, Status: "scheduled", Since: utc("2026-03-29T09:00:00Z")}, "2026-03-29T09:00:00Z",
			[]string{"scheduled 04-05T06:00 @03-29T09:00 -"}, ""},
		{"recurring: created during a run, which begins at its creation",
			MaintenanceRuns{Window: weekly, Status: "scheduled", Since: utc("2026-03-29T07:00:00Z")}, "2026-03-29T07:00:10Z",
			[]string{"in_progress 03-29T06:00 @03-29T07:00 enter", "scheduled 04-05T06:00 @03-29T07:00 -"}, "in_progress"},
		{"recurring: runs older than the lookback are left alone",
			MaintenanceRuns{Window: weekly, Status: "scheduled", Since: utc("2026-03-01T00:00:00Z"), Done: done("scheduled 2026-04-05T06:00:00Z")},
			"2026-03-30T12:00:00Z", nil, ""},
		{"one-off: announced",
			MaintenanceRuns{Window: oneOff, Status: "scheduled", Since: utc("2026-10-01T00:00:00Z")}, "2026-10-01T00:00:05Z",
			[]string{"scheduled 10-25T07:00 @10-01T00:00 -"}, ""},
		{"one-off: begins at 08:00 Berlin, 07:00 UTC after the autumn change",
			MaintenanceRuns{Window: oneOff, Status: "scheduled", Since: utc("2026-10-01T00:00:00Z"), Done: done("scheduled 2026-10-25T07:00:00Z")},
			"2026-10-25T07:00:00Z", []string{"in_progress 10-25T07:00 @10-25T07:00 enter"}, "in_progress"},
		{"one-off: still running",
			MaintenanceRuns{Window: oneOff, Status: "in_progress", Since: utc("2026-10-01T00:00:00Z"),
				Done: done("scheduled 2026-10-25T07:00:00Z", "in_progress 2026-10-25T07:00:00Z")},
			"2026-10-25T08:59:59Z", nil, ""},
		{"one-off: verifying stays until the end",
			MaintenanceRuns{Window: oneOff, Status: "verifying", Since: utc("2026-10-01T00:00:00Z"),
				Done: done("scheduled 2026-10-25T07:00:00Z", "in_progress 2026-10-25T07:00:00Z")},
			"2026-10-25T08:30:00Z", []string{"verifying 10-25T07:00 @10-25T08:30 -"}, ""},
		{"one-off: verifying told once",
			MaintenanceRuns{Window: oneOff, Status: "verifying", Since: utc("2026-10-01T00:00:00Z"),
				Done: done("scheduled 2026-10-25T07:00:00Z", "in_progress 2026-10-25T07:00:00Z", "verifying 2026-10-25T07:00:00Z")},
			"2026-10-25T08:30:20Z", nil, ""},
		{"one-off: ends",
			MaintenanceRuns{Window: oneOff, Status: "verifying", Since: utc("2026-10-01T00:00:00Z"),
				Done: done("scheduled 2026-10-25T07:00:00Z", "in_progress 2026-10-25T07:00:00Z")},
			"2026-10-25T09:00:00Z", []string{"completed 10-25T07:00 @10-25T09:00 leave"}, "completed"},
		{"one-off: completed early by an operator",
			MaintenanceRuns{Window: oneOff, Status: "completed", Since: utc("2026-10-01T00:00:00Z"),
				Done: done("scheduled 2026-10-25T07:00:00Z", "in_progress 2026-10-25T07:00:00Z")},
			"2026-10-25T08:00:00Z", []string{"completed 10-25T07:00 @10-25T08:00 leave"}, ""},
		{"one-off: cancelled before it began",
			MaintenanceRuns{Window: oneOff, Status: "completed", Since: utc("2026-10-01T00:00:00Z"), Done: done("scheduled 2026-10-25T07:00:00Z")},
			"2026-10-25T08:00:00Z", nil, ""},
		{"one-off: written after it was over",
			MaintenanceRuns{Window: oneOff, Status: "scheduled", Since: utc("2026-10-26T00:00:00Z")}, "2026-10-26T00:00:00Z", nil, "completed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			steps, status := PlanMaintenance(tt.runs, utc(tt.now), 24*time.Hour)
			var got []string
			for _, s := range steps {
				got = append(got, stepText(s))
			}
			if diff := cmp.Diff(tt.wantSteps, got); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			if status != tt.wantStatus {
				t.Errorf("status: got %q, want %q", status, tt.wantStatus)
			}
		})
	}
}

func TestMaintenanceActive(t *testing.T) {
	t.Parallel()
	start := mustUTC(t, "2026-03-29T06:00:00Z")
	w, err := OneOffWindow(start, start.Add(time.Hour), "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := start.Add(30 * time.Minute)
	for status, want := range map[string]bool{"scheduled": true, "in_progress": true, "verifying": true, "completed": false} {
		if got := MaintenanceActive(w, status, at); got != want {
			t.Errorf("one-off %s at its middle: got %v, want %v", status, got, want)
		}
	}
	r, err := ParseWindow("0 8 * * SUN", time.Hour, "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if !MaintenanceActive(r, "completed", at) {
		t.Error("recurring window at 08:30 Berlin on 29 March: got inactive, want active (its status names the last run)")
	}
	if MaintenanceActive(r, "scheduled", start.Add(-time.Minute)) {
		t.Error("recurring window at 07:59 Berlin: got active, want inactive")
	}
}

func TestMaintenanceUpdateBody(t *testing.T) {
	t.Parallel()
	if got := MaintenanceUpdateBody("scheduled", "New disks."); got != "New disks." {
		t.Errorf("scheduled with a body: got %q", got)
	}
	for _, s := range []string{"scheduled", "in_progress", "verifying", "completed"} {
		if MaintenanceUpdateBody(s, "") == "" {
			t.Errorf("%s: got no text", s)
		}
	}
}
