package apply

import "fmt"

// defaultRegion is where checks run when neither the file nor the check
// names a region: the probe worker built into `pharos run`.
const defaultRegion = "local"

// resolveChecks fills in what a check inherits: its component and the
// file's default regions.
func (c *config) resolveChecks(r *reader) {
	for i := range c.components {
		comp := &c.components[i]
		for j := range comp.checks {
			ch := &comp.checks[j]
			ch.component = comp.name
			ch.resolveRegions(r, c.page.regions, fmt.Sprintf("components[%d].checks[%d]", i, j))
		}
	}
}

// resolveRegions gives a check without regions the page's (or the
// built-in worker's) and refuses a quorum larger than its regions.
func (ch *checkConfig) resolveRegions(r *reader, pageRegions []string, path string) {
	if ch.regions == nil {
		ch.regions = pageRegions
	}
	if len(ch.regions) == 0 {
		ch.regions = []string{defaultRegion}
	}
	if ch.quorumSet && ch.quorum > len(ch.regions) {
		r.errs.add(ch.lines["quorum"], path+".quorum", "%d is more than the %d region(s) the check runs in", ch.quorum, len(ch.regions))
	}
}

// crossCheck finds mistakes that span items: repeated names (checks are
// matched by name across the whole page) and maintenance windows naming
// components the file does not define.
func (c *config) crossCheck(r *reader) {
	components := firstLines{}
	checks := firstLines{}
	for i, comp := range c.components {
		path := fmt.Sprintf("components[%d]", i)
		if first, dup := components.note(comp.name, comp.line); dup {
			r.errs.add(comp.line, path+".name", "component %q repeated (first on line %d)", comp.name, first)
		}
		for j, ch := range comp.checks {
			if first, dup := checks.note(ch.name, ch.line); dup {
				r.errs.add(ch.line, fmt.Sprintf("%s.checks[%d].name", path, j),
					"check %q repeated (first on line %d): check names are unique on the page", ch.name, first)
			}
		}
	}
	windows := firstLines{}
	for i, m := range c.maintenance {
		path := fmt.Sprintf("maintenance[%d]", i)
		if first, dup := windows.note(m.name, m.line); dup {
			r.errs.add(m.line, path+".name", "maintenance window %q repeated (first on line %d)", m.name, first)
		}
		seen := map[string]bool{}
		for j, name := range m.components {
			p := fmt.Sprintf("%s.components[%d]", path, j)
			switch {
			case name == "":
			case seen[name]:
				r.errs.add(m.componentLines[j], p, "component %q repeated", name)
			case components[name] == 0:
				r.errs.add(m.componentLines[j], p, "no component named %q in this file", name)
			}
			seen[name] = true
		}
	}
}

// firstLines maps each name to the line it was first seen on.
type firstLines map[string]int

// note records that name appears on line and, when it appeared before,
// reports the line it first did. Empty names are not recorded: a missing
// name is reported elsewhere.
func (f firstLines) note(name string, line int) (first int, dup bool) {
	if name == "" {
		return 0, false
	}
	if first, dup = f[name]; !dup {
		f[name] = line
	}
	return first, dup
}
