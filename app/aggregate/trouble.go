package aggregate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	jsonv1 "github.com/go-json-experiment/json/v1"

	"pharos/app/incident"
	"pharos/probes"
)

// autoState is what an open automatic incident remembers of its
// component (incidents.auto_state): the last report of every check in
// trouble and the kinds of trouble its text last told.
type autoState struct {
	Kinds  []incident.Kind         `json:"kinds,omitempty"`
	Checks []incident.CheckTrouble `json:"checks,omitempty"`
}

// decodeAutoState reads an incident's auto_state; an empty or unreadable
// one (an incident of the per-check era) is an empty state.
func decodeAutoState(s string) autoState {
	var st autoState
	if s != "" {
		if err := jsonv1.Unmarshal([]byte(s), &st); err != nil {
			return autoState{}
		}
	}
	return st
}

// decodedState is an incident's auto_state as read and as decoded.
type decodedState struct {
	raw string
	st  autoState
}

// maxDecodedStates bounds the cache of decoded auto_states: more open
// automatic incidents than this at once only cost decoding again.
const maxDecodedStates = 1024

// autoStateOf decodes incident id's auto_state raw, or returns what it
// decoded for the same text before. A component in trouble keeps its
// state from batch to batch, and decoding it (every troubled check's
// report) was, with its wording, most of what such a batch cost: 0.42 s
// of a 12.7 s drain profile with 420 checks in trouble in one component.
// The decoded state is shared: apply builds a new one, never changing it.
func (a *Aggregator) autoStateOf(id int64, raw string) autoState {
	a.mu.Lock()
	d, ok := a.autoStates[id]
	a.mu.Unlock()
	if ok && d.raw == raw {
		return d.st
	}
	st := decodeAutoState(raw)
	a.mu.Lock()
	if len(a.autoStates) >= maxDecodedStates {
		clear(a.autoStates)
	}
	a.autoStates[id] = decodedState{raw, st}
	a.mu.Unlock()
	return st
}

func (st autoState) encode() (string, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("aggregate: encode incident state: %w", err)
	}
	return string(b), nil
}

// apply returns the state after the batch's verdicts: a check in trouble
// replaces its entry, a check up again (or misconfigured: a configuration
// mistake is no outage) leaves, a check without a usable verdict keeps its
// last one. Checks no longer enabled in the component leave too (enabled
// nil keeps them all).
func (st autoState) apply(vs []verdict, enabled map[int64]bool) autoState {
	byID := map[int64]incident.CheckTrouble{}
	for _, c := range st.Checks {
		byID[c.ID] = c
	}
	for _, v := range vs {
		switch {
		case broken(v.alert):
			byID[v.info.ID] = troubleOf(v)
		case v.alert == incident.Up || v.state == incident.Misconfigured:
			delete(byID, v.info.ID)
		}
	}
	out := autoState{Kinds: st.Kinds}
	for id, c := range byID {
		if enabled == nil || enabled[id] {
			out.Checks = append(out.Checks, c)
		}
	}
	sort.Slice(out.Checks, func(i, j int) bool { return out.Checks[i].ID < out.Checks[j].ID })
	return out
}

// sameChecks reports whether two states hold the same troubled checks: a
// check joining or leaving an open incident is news worth an update.
func sameChecks(a, b autoState) bool {
	if len(a.Checks) != len(b.Checks) {
		return false
	}
	for i := range a.Checks {
		if a.Checks[i].ID != b.Checks[i].ID {
			return false
		}
	}
	return true
}

// worst is the component's state for its incident: the worst of its
// troubled checks, Up when none is.
func (st autoState) worst() incident.State {
	s := incident.Up
	for _, c := range st.Checks {
		s = incident.Worst(s, c.State)
	}
	return s
}

// troubleOf is one check's report for its component's incident: the
// regions in trouble and the problems they saw (info notes aside).
func troubleOf(v verdict) incident.CheckTrouble {
	regions := troubleRegions(v)
	t := incident.CheckTrouble{ID: v.info.ID, Name: v.info.Name, URL: v.info.URL, State: v.alert, Regions: regions, Nodes: v.nodes}
	inRegion := map[string]bool{}
	for _, r := range regions {
		inRegion[r] = true
	}
	for _, l := range v.reports {
		if !inRegion[l.Region] {
			continue
		}
		for _, p := range decodeProblems(l.Problems) {
			if p.Severity == probes.SeverityInfo {
				continue
			}
			t.Problems = append(t.Problems, incident.Finding{Region: l.Region, Code: string(p.Code),
				Severity: string(p.Severity), Node: p.Node, Message: p.Message})
		}
	}
	return t
}

// decodeProblems reads a latest row's problems; unreadable text counts as
// none (the text is a courtesy, the state is what counts).
func decodeProblems(b []byte) []probes.Problem {
	var problems []probes.Problem
	if len(b) == 0 || json.Unmarshal(b, &problems) != nil {
		return nil
	}
	return problems
}

// troubleRegions are the healthy regions behind the verdict: the confirmed
// down votes for a down check, every region seeing trouble otherwise.
func troubleRegions(v verdict) []string {
	if v.alert == incident.Down {
		return v.ev.DownRegions
	}
	excluded := map[string]bool{}
	for _, r := range v.ev.Excluded {
		excluded[r] = true
	}
	var out []string
	for _, l := range v.reports {
		if !excluded[l.Region] && broken(incident.State(l.State)) {
			out = append(out, l.Region)
		}
	}
	return out
}

// misconfigured reports whether every region that reported on the check
// says the SSRF guard refused its target (DESIGN §4): the check cannot be
// carried out, which is the operator's mistake, not an outage.
func misconfigured(v verdict) bool {
	if len(v.reports) == 0 {
		return false
	}
	for _, l := range v.reports {
		if incident.State(l.State) == incident.Up {
			return false
		}
		blocked := false
		for _, p := range decodeProblems(l.Problems) {
			if p.Code == probes.CodeBlockedAddress {
				blocked = true
				break
			}
		}
		if !blocked {
			return false
		}
	}
	return true
}

// recoveredDetail is the technical detail of a resolution: which checks
// are up from where.
func recoveredDetail(vs []verdict) string {
	var lines []string
	for _, v := range vs {
		var up []string
		for _, l := range v.reports {
			if incident.State(l.State) == incident.Up {
				up = append(up, l.Region)
			}
		}
		line := fmt.Sprintf("**%s** (%s) is %s", v.info.Name, v.info.URL, v.state)
		if len(up) > 0 {
			line += " from " + strings.Join(up, ", ")
		}
		lines = append(lines, line+".")
	}
	return strings.Join(lines, "\n\n")
}
