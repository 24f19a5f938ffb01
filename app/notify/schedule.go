package notify

import "time"

// retryDelays is DESIGN §10's schedule: the wait before attempt n+1 after
// attempt n failed (the first attempt is immediate). Over about three days
// in all; after the tenth failed attempt the delivery is dead.
var retryDelays = [...]time.Duration{
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	14 * time.Hour,
	20 * time.Hour,
	24 * time.Hour,
}

// MaxAttempts is how many attempts a delivery gets: the immediate one and
// one per retry delay.
const MaxAttempts = len(retryDelays) + 1

// NextAttempt decides when a delivery that failed its attempts-th attempt
// (counting from 1) is tried again: the schedule's delay, spread by up to
// jitter of itself (u in [0,1) picks where), and no earlier than
// retryAfter, the receiver's own floor. ok is false once the schedule has
// run out: the delivery is dead.
func NextAttempt(failedAt time.Time, attempts int, retryAfter time.Duration, jitter, u float64) (next time.Time, ok bool) {
	if attempts < 1 || attempts > len(retryDelays) {
		return time.Time{}, false
	}
	d := retryDelays[attempts-1]
	if jitter > 0 {
		d += time.Duration(float64(d) * jitter * u)
	}
	// A receiver asking for more than a day is capped at the schedule's
	// longest step: Retry-After must not stall an endpoint for weeks.
	retryAfter = min(retryAfter, retryDelays[len(retryDelays)-1])
	d = max(d, retryAfter)
	return failedAt.Add(d), true
}
