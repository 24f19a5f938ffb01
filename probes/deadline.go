package probes

import (
	"time"
)

// ProbeTimeout is how long a probe of s may take in all (Spec.Timeout, or
// DefaultTimeout when unset): Prober.Run returns by then, assertions
// included, unless something in it ignores its context.
func (s Spec) ProbeTimeout() time.Duration {
	return orDefault(s.Timeout.D(), DefaultTimeout)
}

// Overdue is the result of a probe of s that its caller stopped waiting
// for after waited, past the probe's own timeout: down, with one timeout
// problem (its severity as s sets it) and no nodes.
func Overdue(s Spec, checkedAt time.Time, waited time.Duration) Result {
	problems := []Problem{problemf(CodeTimeout, "",
		"the probe of %s did not finish within %s (its timeout is %s); it was abandoned",
		s.URL, waited.Round(time.Millisecond), s.ProbeTimeout())}
	applySeverity(s.Severity, problems)
	return Result{
		URL:        s.URL,
		State:      Worst(problems),
		CheckedAt:  checkedAt.UTC().Truncate(time.Second),
		DurationMS: waited.Milliseconds(),
		Problems:   problems,
		Nodes:      []NodeResult{},
	}
}
