package public

import (
	"strings"
	"testing"
	"time"

	"pharos/app/store"
)

func TestVTimezone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		zone string
		want []string // lines, in order, that the component must contain
	}{
		{"Europe/Berlin", []string{"TZID:Europe/Berlin",
			"BEGIN:DAYLIGHT", "DTSTART:20250330T020000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT",
			"BEGIN:STANDARD", "DTSTART:20251026T030000", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD"}},
		{"America/New_York", []string{"BEGIN:DAYLIGHT", "DTSTART:20250309T020000", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400",
			"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", "BEGIN:STANDARD", "DTSTART:20251102T020000", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU"}},
		{"Asia/Kolkata", []string{"BEGIN:STANDARD", "DTSTART:19700101T000000", "TZOFFSETFROM:+0530", "TZOFFSETTO:+0530", "TZNAME:IST", "END:STANDARD"}},
	}
	for _, tt := range tests {
		loc, err := time.LoadLocation(tt.zone)
		if err != nil {
			t.Fatal(err)
		}
		var iw icalWriter
		vtimezone(&iw, loc, 2025, 2028)
		got := iw.b.String()
		rest := got
		for _, l := range tt.want {
			i := strings.Index(rest, l+"\r\n")
			if i < 0 {
				t.Errorf("%s: %q missing or out of order in\n%s", tt.zone, l, got)
				break
			}
			rest = rest[i+len(l):]
		}
		if n := strings.Count(got, "BEGIN:DAYLIGHT") + strings.Count(got, "BEGIN:STANDARD"); tt.zone != "Asia/Kolkata" && n != 2 {
			t.Errorf("%s: %d observances, want 2 yearly rules", tt.zone, n)
		}
	}
}

func TestICalValues(t *testing.T) {
	t.Parallel()
	if got, want := icalText("a,b;c\\d\ne"), `a\,b\;c\\d\ne`; got != want {
		t.Errorf("icalText: got %q, want %q", got, want)
	}
	for d, want := range map[time.Duration]string{2 * time.Hour: "PT2H", 90 * time.Minute: "PT1H30M", 49 * time.Hour: "P2DT1H",
		48 * time.Hour: "P2D", 45 * time.Second: "PT45S"} {
		if got := icalDuration(d); got != want {
			t.Errorf("icalDuration(%s): got %q, want %q", d, got, want)
		}
	}
	for sec, want := range map[int]string{3600: "+0100", -16200: "-0430", 0: "+0000", 20700: "+0545"} {
		if got := utcOffset(sec); got != want {
			t.Errorf("utcOffset(%d): got %q, want %q", sec, got, want)
		}
	}
	var iw icalWriter
	iw.line("SUMMARY", strings.Repeat("x", 66)+"éé"+strings.Repeat("y", 80))
	lines := strings.Split(strings.TrimSuffix(iw.b.String(), "\r\n"), "\r\n")
	// "SUMMARY:" + 66 x is 74 octets; é (2 octets) would end at 76, so the first line stops at 74.
	if len(lines) != 3 || len(lines[0]) != 74 || !strings.HasPrefix(lines[1], " éé") || len(lines[1]) > 75 {
		t.Errorf("folding: got %q", lines)
	}
	if unfolded := strings.ReplaceAll(iw.b.String(), "\r\n ", ""); unfolded != "SUMMARY:"+strings.Repeat("x", 66)+"éé"+strings.Repeat("y", 80)+"\r\n" {
		t.Errorf("unfolding gives %q", unfolded)
	}
}

// An empty page's calendar is still valid: it defines the page's zone.
func TestEmptyCalendar(t *testing.T) {
	t.Parallel()
	for _, zone := range []string{"UTC", "Europe/Berlin"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		s := &Site{}
		sn := &snapshot{page: store.Page{Slug: "acme", Title: "ACME"}, loc: loc, loadedAt: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}
		got := string(s.calendar(sn, "https://status.example"))
		if !strings.Contains(got, "BEGIN:VTIMEZONE\r\nTZID:"+zone+"\r\n") || strings.Contains(got, "VEVENT") ||
			!strings.HasSuffix(got, "END:VTIMEZONE\r\nEND:VCALENDAR\r\n") {
			t.Errorf("%s: got\n%s", zone, got)
		}
	}
}
