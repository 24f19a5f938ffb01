package apply

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"pharos/app/store"

	"go.yaml.in/yaml/v3"
)

// config is a configuration file read and validated: what the page should
// look like. Positions follow the file order.
type config struct {
	page        pageConfig
	components  []componentConfig
	maintenance []maintenanceConfig
	alerts      *alertsConfig // nil without an alerts section (alerts.go)
}

type pageConfig struct {
	slug, title, domain, timeZone string
	autoIncidents, publicDetail   string
	regions                       []string
	slugLine, domainLine          int
}

type componentConfig struct {
	name, description, group string
	line                     int
	checks                   []checkConfig
}

var (
	slugPattern   = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	regionPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	domainPattern = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$`)
)

// Bounds a file may set; outside them a value is almost certainly a typo.
const (
	maxNameLen          = 100
	maxDescriptionLen   = 1000
	maxMaintenanceTotal = 31 * 24 * time.Hour
)

// parseConfig reads and validates a whole file. baseDir, when not empty, is
// where tls.ca file names are read from (the command line only: the HTTP
// API must never read files on the server). lim only words the range of
// an interval out of bounds: the caller applies it (Limits.intervalErrors).
func parseConfig(data []byte, baseDir string, lim Limits) (*config, errorList) {
	root, ferr := parseDocument(data)
	if ferr != nil {
		return nil, errorList{*ferr}
	}
	r := &reader{limits: lim}
	c := &config{}
	var regionsNode *yaml.Node
	seenPage := false
	r.fields(root, "", []string{"page", "regions", "components", "maintenance", "alerts"}, func(key string, v *yaml.Node) {
		switch key {
		case "page":
			seenPage = true
			c.page = r.page(v)
		case "regions":
			regionsNode = v
		case "components":
			r.items(v, "components", func(i int, v *yaml.Node) {
				c.components = append(c.components, r.component(v, fmt.Sprintf("components[%d]", i), baseDir))
			})
		case "maintenance":
			r.items(v, "maintenance", func(i int, v *yaml.Node) {
				c.maintenance = append(c.maintenance, r.maintenance(v, fmt.Sprintf("maintenance[%d]", i)))
			})
		case "alerts":
			c.alerts = r.alerts(v, "alerts")
		}
	})
	if root.Kind == yaml.MappingNode && !seenPage {
		r.errorf(root, "page", "missing: every file describes one page (page: {slug: …, title: …})")
	}
	if regionsNode != nil {
		c.page.regions = r.regions(regionsNode, "regions")
	}
	c.resolveChecks(r)
	c.crossCheck(r)
	return c, r.errs
}

func (r *reader) page(n *yaml.Node) pageConfig {
	p := pageConfig{timeZone: "UTC", autoIncidents: store.AutoPublish, publicDetail: store.DetailPlain}
	has := map[string]bool{}
	keys := []string{"slug", "title", "domain", "timezone", "auto_incidents", "public_detail"}
	ok := r.fields(n, "page", keys, func(key string, v *yaml.Node) {
		has[key] = true
		path := "page." + key
		s, ok := r.str(v, path)
		if !ok {
			return
		}
		switch key {
		case "slug":
			p.slug, p.slugLine = s, v.Line
			if !slugPattern.MatchString(s) {
				r.errorf(v, path, "%q is not a valid slug (lowercase letters, digits and hyphens, at most 63)", s)
			}
		case "title":
			p.title = s
			if s == "" || len(s) > maxNameLen {
				r.errorf(v, path, "must be 1 to %d characters", maxNameLen)
			}
		case "domain":
			p.domain, p.domainLine = store.NormalDomain(s), v.Line
			if !domainPattern.MatchString(p.domain) || len(p.domain) > 253 {
				r.errorf(v, path, "%q is not a host name such as status.example.org", s)
			}
		case "timezone":
			p.timeZone = s
			r.timeZone(v, path, s)
		case "auto_incidents":
			p.autoIncidents = s
			r.oneOf(v, path, s, store.AutoPublish, store.AutoDraft, store.AutoOff)
		case "public_detail":
			p.publicDetail = s
			r.oneOf(v, path, s, store.DetailPlain, store.DetailTechnical)
		}
	})
	if ok {
		r.require(n, "page", has, "slug", "title")
	}
	return p
}

// oneOf refuses a value outside allowed, naming them.
func (r *reader) oneOf(n *yaml.Node, path, s string, allowed ...string) {
	if !slices.Contains(allowed, s) {
		r.errorf(n, path, "%q is not one of %s", s, strings.Join(allowed, ", "))
	}
}

func (r *reader) regions(n *yaml.Node, path string) []string {
	list := []string{}
	seen := map[string]bool{}
	r.items(n, path, func(i int, v *yaml.Node) {
		p := fmt.Sprintf("%s[%d]", path, i)
		s, ok := r.str(v, p)
		switch {
		case !ok:
		case !regionPattern.MatchString(s):
			r.errorf(v, p, "%q is not a region name (lowercase letters, digits and hyphens, e.g. fra)", s)
		case seen[s]:
			r.errorf(v, p, "region %q repeated", s)
		default:
			seen[s] = true
			list = append(list, s)
		}
	})
	return list
}

func (r *reader) timeZone(n *yaml.Node, path, name string) {
	if _, err := time.LoadLocation(name); err != nil || name == "" || name == "Local" {
		r.errorf(n, path, "%q is not a time zone (want an IANA name such as Europe/Berlin or UTC)", name)
	}
}

// name reads a component, check or maintenance name.
func (r *reader) name(n *yaml.Node, path string) string {
	s, ok := r.str(n, path)
	if ok && (s == "" || len(s) > maxNameLen) {
		r.errorf(n, path, "must be 1 to %d characters", maxNameLen)
	}
	return s
}

func (r *reader) component(n *yaml.Node, path, baseDir string) componentConfig {
	c := componentConfig{line: r.resolve(n).Line}
	has := map[string]bool{}
	ok := r.fields(n, path, []string{"name", "description", "group", "checks"}, func(key string, v *yaml.Node) {
		has[key] = true
		switch key {
		case "name":
			c.name = r.name(v, path+".name")
		case "description":
			c.description, _ = r.str(v, path+".description")
			if len(c.description) > maxDescriptionLen {
				r.errorf(v, path+".description", "longer than %d characters", maxDescriptionLen)
			}
		case "group":
			c.group = r.name(v, path+".group")
		case "checks":
			r.items(v, path+".checks", func(i int, v *yaml.Node) {
				c.checks = append(c.checks, r.check(v, fmt.Sprintf("%s.checks[%d]", path, i), baseDir))
			})
		}
	})
	if ok {
		r.require(n, path, has, "name")
	}
	return c
}

// require reports each key missing from a mapping, on the mapping's line.
func (r *reader) require(n *yaml.Node, path string, has map[string]bool, keys ...string) {
	for _, k := range keys {
		if !has[k] {
			r.errorf(r.resolve(n), join(path, k), "missing")
		}
	}
}
