package incident

import (
	"math/bits"
	"strconv"
	"strings"

	"github.com/robfig/cron/v3"
)

// cron's bit sets: bit n is value n; the top bit marks a field written
// with a star.
const (
	cronStar     = uint64(1) << 63
	allMinutes   = uint64(1)<<60 - 1        // 0–59
	allHours     = uint64(1)<<24 - 1        // 0–23
	allMonthDays = (uint64(1)<<32 - 1) &^ 1 // 1–31
	allMonths    = (uint64(1)<<13 - 1) &^ 1 // 1–12
	allWeekdays  = uint64(1)<<7 - 1         // 0 (Sunday) – 6
	firstSecond  = uint64(1)                // cron lines without seconds run at :00
	rruleDays    = "SU,MO,TU,WE,TH,FR,SA"   // RFC 5545 weekday codes, Sunday first like cron, 3 bytes apart
)

// RRule expresses a recurring window's schedule as an RFC 5545 recurrence
// rule in the window's zone (the event's DTSTART, a run of the window,
// gives the time of day when the schedule has one): daily, weekly on given
// days, or monthly on given days, optionally in given months and at
// several times of day. ok is false for a one-off window and for
// schedules that need more (day-of-month and day-of-week both restricted,
// which cron reads as "either").
func (w Window) RRule() (rule string, ok bool) {
	spec, isSpec := w.schedule.(*cron.SpecSchedule)
	if !isSpec || spec.Second&^cronStar != firstSecond {
		return "", false
	}
	dom, dow := spec.Dom&^cronStar, spec.Dow&^cronStar
	domAll, dowAll := dom&allMonthDays == allMonthDays, dow&allWeekdays == allWeekdays
	either := spec.Dom&cronStar == 0 && spec.Dow&cronStar == 0 // cron's OR of the two day fields
	var parts []string
	switch {
	case domAll && dowAll:
		parts = append(parts, "FREQ=DAILY")
	case either:
		return "", false
	case dowAll:
		parts = append(parts, "FREQ=MONTHLY", "BYMONTHDAY="+bitList(dom, 1, 31, strconv.Itoa))
	case domAll:
		parts = append(parts, "FREQ=WEEKLY", "BYDAY="+bitList(dow, 0, 6, func(d int) string { return rruleDays[3*d : 3*d+2] }))
	default:
		return "", false
	}
	if months := spec.Month &^ cronStar; months&allMonths != allMonths {
		parts = append(parts, "BYMONTH="+bitList(months, 1, 12, strconv.Itoa))
	}
	hours, minutes := spec.Hour&^cronStar&allHours, spec.Minute&^cronStar&allMinutes
	if bits.OnesCount64(hours) > 1 || bits.OnesCount64(minutes) > 1 {
		parts = append(parts, "BYHOUR="+bitList(hours, 0, 23, strconv.Itoa), "BYMINUTE="+bitList(minutes, 0, 59, strconv.Itoa))
	}
	return strings.Join(parts, ";"), true
}

// bitList names the set bits lo…hi of set, comma-separated.
func bitList(set uint64, lo, hi int, name func(int) string) string {
	var out []string
	for i := lo; i <= hi; i++ {
		if set&(1<<uint(i)) != 0 {
			out = append(out, name(i))
		}
	}
	return strings.Join(out, ",")
}
