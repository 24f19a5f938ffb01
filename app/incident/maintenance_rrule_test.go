package incident

import (
	"testing"
	"time"
)

func TestWindowRRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		schedule string
		want     string // "" = not expressible
	}{
		{"0 8 * * *", "FREQ=DAILY"},
		{"@daily", "FREQ=DAILY"},
		{"0 8 * * THU", "FREQ=WEEKLY;BYDAY=TH"},
		{"30 22 * * MON-FRI", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
		{"0 0 * * 0,6", "FREQ=WEEKLY;BYDAY=SU,SA"},
		{"@weekly", "FREQ=WEEKLY;BYDAY=SU"},
		{"0 3 1 * *", "FREQ=MONTHLY;BYMONTHDAY=1"},
		{"0 3 1,15 * *", "FREQ=MONTHLY;BYMONTHDAY=1,15"},
		{"@monthly", "FREQ=MONTHLY;BYMONTHDAY=1"},
		{"0 3 1 JAN,JUL *", "FREQ=MONTHLY;BYMONTHDAY=1;BYMONTH=1,7"},
		{"0 8,20 * * *", "FREQ=DAILY;BYHOUR=8,20;BYMINUTE=0"},
		{"0,30 8 * * SAT", "FREQ=WEEKLY;BYDAY=SA;BYHOUR=8;BYMINUTE=0,30"},
		{"0 8 */2 * *", "FREQ=MONTHLY;BYMONTHDAY=1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31"},
		{"0 8 1 * MON", ""},   // cron: the 1st or any Monday
		{"0 8 1-7 * MON", ""}, // the first Monday, as cron does not read it
	}
	for _, tt := range tests {
		w, err := ParseWindow(tt.schedule, time.Hour, "Europe/Berlin")
		if err != nil {
			t.Fatalf("%s: %v", tt.schedule, err)
		}
		got, ok := w.RRule()
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("RRule(%q): got %q, %v; want %q", tt.schedule, got, ok, tt.want)
		}
	}
	one, err := OneOffWindow(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC), "")
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := one.RRule(); ok {
		t.Errorf("one-off RRule: got %q, want none", r)
	}
}
