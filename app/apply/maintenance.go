package apply

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"pharos/app/incident"
)

// maintenanceConfig is one maintenance window of the file: recurring
// (schedule + duration) or one-off (start + end, kept in UTC).
type maintenanceConfig struct {
	name, body, schedule, timeZone string
	duration                       time.Duration
	start, end                     *time.Time
	components                     []string
	componentLines                 []int
	line                           int
}

// maintenance reads one window. Its form is chosen by its keys: schedule
// and duration for a recurring window, start and end (RFC 3339, or a local
// time such as "2026-12-01 08:00" read in the window's timezone) for a
// one-off one; a window needs exactly one form.
func (r *reader) maintenance(n *yaml.Node, path string) maintenanceConfig {
	m := maintenanceConfig{line: r.resolve(n).Line, timeZone: "UTC"}
	nodes := map[string]*yaml.Node{}
	zoneOK := true
	ok := r.fields(n, path, []string{"name", "components", "schedule", "duration", "start", "end", "timezone", "body"}, func(key string, v *yaml.Node) {
		nodes[key] = v
		p := path + "." + key
		switch key {
		case "name":
			m.name = r.name(v, p)
		case "components":
			r.items(v, p, func(i int, v *yaml.Node) {
				m.components = append(m.components, r.name(v, fmt.Sprintf("%s[%d]", p, i)))
				m.componentLines = append(m.componentLines, r.resolve(v).Line)
			})
		case "schedule":
			m.schedule, _ = r.str(v, p)
		case "duration":
			m.duration, _ = r.duration(v, p, time.Minute, maxMaintenanceTotal)
		case "timezone":
			s, ok := r.str(v, p)
			zoneOK = ok
			if ok {
				m.timeZone = s
				before := len(r.errs)
				r.timeZone(v, p, s)
				zoneOK = len(r.errs) == before
			}
		case "body":
			m.body, _ = r.str(v, p)
		}
	})
	if !ok {
		return m
	}
	has := map[string]bool{}
	for k := range nodes {
		has[k] = true
	}
	r.require(n, path, has, "name", "components")
	if has["components"] && len(m.components) == 0 {
		r.errorf(n, path+".components", "empty: name the components the window covers")
	}
	recurring, oneOff := has["schedule"] || has["duration"], has["start"] || has["end"]
	switch {
	case recurring && oneOff:
		at := nodes["start"]
		if at == nil {
			at = nodes["end"]
		}
		r.errorf(at, path, "either schedule and duration (a recurring window) or start and end (a one-off window), not both")
	case recurring:
		r.require(n, path, has, "schedule", "duration")
		if has["schedule"] && m.schedule != "" {
			r.schedule(nodes["schedule"], path+".schedule", m.schedule)
		}
	case oneOff:
		r.require(n, path, has, "start", "end")
		if zoneOK {
			m.start = r.when(nodes["start"], path+".start", m.timeZone)
			m.end = r.when(nodes["end"], path+".end", m.timeZone)
		}
		if m.start != nil && m.end != nil {
			if _, err := incident.OneOffWindow(*m.start, *m.end, m.timeZone); err != nil {
				r.errorf(nodes["end"], path+".end", "%s is not after the start %s", r.resolve(nodes["end"]).Value, r.resolve(nodes["start"]).Value)
			} else if m.end.Sub(*m.start) > maxMaintenanceTotal {
				r.errorf(nodes["end"], path+".end", "the window lasts %s, longer than %s", m.end.Sub(*m.start), durationText(maxMaintenanceTotal))
			}
		}
	default:
		r.errorf(r.resolve(n), path, "missing: schedule and duration (a recurring window) or start and end (a one-off window)")
	}
	return m
}

// when reads a one-off window's start or end in timeZone; nil when the
// key is absent or refused.
func (r *reader) when(n *yaml.Node, path, timeZone string) *time.Time {
	if n == nil {
		return nil
	}
	s, ok := r.str(n, path)
	if !ok {
		return nil
	}
	t, err := incident.ParseWhen(s, timeZone)
	if err != nil {
		r.errorf(n, path, "%v", err)
		return nil
	}
	return &t
}

func (r *reader) schedule(n *yaml.Node, path, line string) {
	switch {
	case strings.HasPrefix(line, "@every"):
		r.errorf(n, path, "%q: use a calendar schedule (a cron line or @daily, @weekly…), not @every", line)
	case strings.HasPrefix(line, "TZ=") || strings.HasPrefix(line, "CRON_TZ="):
		r.errorf(n, path, "%q: set the time zone with the timezone key, not in the schedule", line)
	default:
		if err := incident.ParseSchedule(line); err != nil {
			r.errorf(n, path, "%q is not a cron line (minute hour day-of-month month day-of-week, e.g. \"0 8 * * THU\"): %v", line, err)
		}
	}
}
