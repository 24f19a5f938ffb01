package apply

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"pharos/app/store"
)

// PageValues fills a page form from a stored page.
func PageValues(p store.Page) Fields {
	return Fields{"slug": p.Slug, "title": p.Title, "domain": p.Domain, "timezone": p.TimeZone,
		"auto_incidents": p.AutoIncidents, "public_detail": p.PublicDetail, "regions": strings.Join(p.Regions, ", ")}
}

// ComponentValues fills a component form from a stored component.
func ComponentValues(c store.Component) Fields {
	f := Fields{"name": c.Name, "description": c.Description, "position": strconv.Itoa(c.Position)}
	if c.GroupID != nil {
		f["group"] = strconv.FormatInt(*c.GroupID, 10)
	}
	return f
}

// CheckValues fills a check form from a stored check: its spec as the
// form writes it, so saving the form unchanged changes nothing.
func CheckValues(c store.Check) (Fields, error) {
	var spec checkSpec
	if err := json.Unmarshal(c.Spec, &spec); err != nil {
		return nil, fmt.Errorf("apply: check %d spec: %w", c.ID, err)
	}
	f := Fields{"component": strconv.FormatInt(c.ComponentID, 10), "name": c.Name, "url": c.URL,
		"interval": durationText(c.Interval), "timeout": spec.Timeout, "regions": strings.Join(c.Regions, ", "),
		"confirm": strconv.Itoa(c.ConfirmRounds)}
	if c.Quorum > 0 {
		f["quorum"] = strconv.Itoa(c.Quorum)
	}
	switch n := spec.Nodes.(type) {
	case string:
		f["nodes"] = n
	case []any:
		var list []string
		for _, a := range n {
			list = append(list, fmt.Sprint(a))
		}
		f["nodes"] = strings.Join(list, ", ")
	}
	if e := spec.Expect; e != nil {
		var status []string
		for _, s := range e.Status {
			status = append(status, fmt.Sprint(s))
		}
		f["expect.status"] = strings.Join(status, ", ")
		f["expect.body_contains"] = strings.Join(e.BodyContains, "\n")
		f["expect.body_not_contains"] = strings.Join(e.BodyNotContains, "\n")
		f["expect.body_regex"] = e.BodyRegex
		f["expect.json"] = jsonLines(e.JSON)
		f["expect.headers"] = headerLines(e.Headers)
		if e.Image {
			f["expect.image"] = "true"
		}
		f["expect.max_latency"] = e.MaxLatency
	}
	if t := spec.TLS; t != nil {
		if t.WarnDays > 0 {
			f["tls.warn_days"] = strconv.Itoa(t.WarnDays)
		}
		if t.CriticalDays > 0 {
			f["tls.critical_days"] = strconv.Itoa(t.CriticalDays)
		}
		f["tls.issuer"], f["tls.ca"], f["tls.min_version"], f["tls.acme_directory"] = t.Issuer, t.CA, t.MinVersion, t.ACMEDirectory
	}
	return f, nil
}

// jsonLines writes expect.json as "$.path = value" lines, quoting a text
// that would otherwise read back as another type ("3", "true").
func jsonLines(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var lines []string
	for _, k := range keys {
		lines = append(lines, k+" = "+yamlValue(m[k]))
	}
	return strings.Join(lines, "\n")
}

func yamlValue(v any) string {
	if s, ok := v.(string); ok {
		n := &yaml.Node{Kind: yaml.ScalarNode, Value: s}
		if s != "" && s == strings.TrimSpace(s) && n.ShortTag() == "!!str" && !strings.ContainsAny(s, "#:{}[],&*!|>'\"%@`") {
			return s
		}
	}
	b, err := json.Marshal(v) // decoded from JSON: always marshals
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func headerLines(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var lines []string
	for _, k := range keys {
		lines = append(lines, k+": "+m[k])
	}
	return strings.Join(lines, "\n")
}
