package public

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// VTIMEZONE components built from Go's zone data, so that every TZID the
// calendar uses is defined in it (RFC 5545 §3.6.5). A zone's changes of
// offset are found by scanning the years the calendar needs; when each kind
// (daylight, standard) recurs on the same weekday of the same month every
// year, as in Europe and North America, it becomes one observance with a
// yearly RRULE, otherwise every change is listed.

// tzChange is one change of a zone's offset.
type tzChange struct {
	at       time.Time // the instant
	from, to int       // offsets (seconds east of UTC) before and after
	name     string    // abbreviation after, e.g. CEST
	dst      bool      // daylight saving time after
}

// vtimezone writes loc's VTIMEZONE covering the years from … to.
func vtimezone(iw *icalWriter, loc *time.Location, from, to int) {
	iw.line("BEGIN", "VTIMEZONE")
	iw.line("TZID", loc.String())
	changes := tzChanges(loc, from, to)
	if len(changes) == 0 {
		name, off := time.Date(from, 1, 1, 0, 0, 0, 0, loc).Zone()
		observance(iw, tzChange{at: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(off) * time.Second),
			from: off, to: off, name: name}, "")
	}
	for _, kind := range []bool{true, false} {
		var same []tzChange
		for _, c := range changes {
			if c.dst == kind {
				same = append(same, c)
			}
		}
		if len(same) == 0 {
			continue
		}
		if rule, ok := yearlyRule(same); ok {
			observance(iw, same[0], rule)
			continue
		}
		for _, c := range same {
			observance(iw, c, "")
		}
	}
	iw.line("END", "VTIMEZONE")
}

// observance writes one STANDARD or DAYLIGHT component; its DTSTART is the
// local time of the change before it happens.
func observance(iw *icalWriter, c tzChange, rule string) {
	kind := "STANDARD"
	if c.dst {
		kind = "DAYLIGHT"
	}
	iw.line("BEGIN", kind)
	iw.line("DTSTART", c.at.Add(time.Duration(c.from)*time.Second).UTC().Format(icalLocalTime))
	iw.line("TZOFFSETFROM", utcOffset(c.from))
	iw.line("TZOFFSETTO", utcOffset(c.to))
	if c.name != "" {
		iw.line("TZNAME", icalText(c.name))
	}
	if rule != "" {
		iw.line("RRULE", rule)
	}
	iw.line("END", kind)
}

// yearlyRule expresses changes of one kind, one a year, as
// FREQ=YEARLY;BYMONTH=m;BYDAY=nWD when every year follows it at the same
// local time with the same offsets.
func yearlyRule(cs []tzChange) (string, bool) {
	rule := func(c tzChange) string {
		local := c.at.Add(time.Duration(c.from) * time.Second).UTC()
		ord := fmt.Sprint((local.Day()-1)/7 + 1)
		if local.Day()+7 > daysIn(local.Year(), local.Month()) {
			ord = "-1"
		}
		wd := rruleDays[3*int(local.Weekday()) : 3*int(local.Weekday())+2]
		return fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYDAY=%s%s|%s|%d|%d|%s", int(local.Month()), ord, wd, local.Format("150405"), c.from, c.to, c.name)
	}
	first := rule(cs[0])
	for i, c := range cs {
		if rule(c) != first || (i > 0 && c.at.Year() != cs[i-1].at.Year()+1) {
			return "", false
		}
	}
	for i := range first {
		if first[i] == '|' {
			return first[:i], true
		}
	}
	return first, true
}

// rruleDays are RFC 5545's weekday codes, Sunday first like time.Weekday,
// three bytes apart.
const rruleDays = "SU,MO,TU,WE,TH,FR,SA"

func daysIn(year int, m time.Month) int { return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day() }

// tzChanges finds loc's changes of offset from the start of year from to
// the end of year to: a day-by-day scan, then a search for the second.
func tzChanges(loc *time.Location, from, to int) []tzChange {
	var out []tzChange
	t := time.Date(from, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(to+1, 1, 1, 0, 0, 0, 0, time.UTC)
	offset := func(t time.Time) int { _, off := t.In(loc).Zone(); return off }
	for ; t.Before(end); t = t.Add(24 * time.Hour) {
		next := t.Add(24 * time.Hour)
		if offset(t) == offset(next) {
			continue
		}
		lo, hi := t, next // offset(lo) differs from offset(hi); narrow to one second
		for hi.Sub(lo) > time.Second {
			mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
			if offset(mid) == offset(lo) {
				lo = mid
			} else {
				hi = mid
			}
		}
		name, to := hi.In(loc).Zone()
		out = append(out, tzChange{at: hi, from: offset(lo), to: to, name: name, dst: hi.In(loc).IsDST()})
	}
	return out
}

// utcOffset formats an offset as RFC 5545 UTC-OFFSET (+0100, -0430).
func utcOffset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	if sec%60 != 0 {
		return fmt.Sprintf("%c%02d%02d%02d", sign, sec/3600, sec/60%60, sec%60)
	}
	return fmt.Sprintf("%c%02d%02d", sign, sec/3600, sec/60%60)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
