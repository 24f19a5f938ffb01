//go:build race

package probes

// raceEnabled: the race detector slows CPU-bound code (regexp, parsing)
// about tenfold, so tests that bound such work by time widen their bound.
const raceEnabled = true
