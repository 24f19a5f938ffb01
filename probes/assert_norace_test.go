//go:build !race

package probes

// raceEnabled: see assert_race_test.go.
const raceEnabled = false
