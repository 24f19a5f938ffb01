package apply

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"pharos/app/aggregate"
	envconfig "pharos/app/config"
	"pharos/app/store"
	"pharos/probes"
)

// A file may be valid and still describe a check that cannot work: its
// target is an address the probes' SSRF guard refuses (DESIGN §10). Such a
// check becomes misconfigured, never an outage (issue 8), but the operator
// should hear of it before the file is written: apply warns and goes on.

// Warning is a check apply writes but the probes will refuse to carry out.
type Warning struct {
	Line    int    `json:"line"`
	Path    string `json:"path"`
	Check   string `json:"check"`
	Message string `json:"message"`
}

// Text formats w as `FILE:LINE: check "NAME": MESSAGE`; the CLI prints it
// after "warning: ".
func (w Warning) Text(file string) string {
	return fmt.Sprintf("%s:%d: check %q: %s", file, w.Line, w.Check, w.Message)
}

// allowPrivateTargets reads PHAROS_ALLOW_PRIVATE_TARGETS the way every role
// does (config.Load); an unreadable environment allows nothing, so apply
// warns rather than stays silent.
func allowPrivateTargets() bool {
	cfg, err := envconfig.Load(os.Getenv)
	return err == nil && cfg.AllowPrivateTargets
}

// embeddedOnly reports whether this process runs without Redis: then the
// only probe worker is the one built into `pharos run`, in region local.
func embeddedOnly() bool {
	cfg, err := envconfig.Load(os.Getenv)
	return err == nil && cfg.RedisURL == ""
}

// embeddedRegionWarnings lists the checks of cfg that cannot run without
// Redis: none of their regions is the built-in worker's.
func embeddedRegionWarnings(cfg *config) []Warning {
	var out []Warning
	for i, comp := range cfg.components {
		for j, chk := range comp.checks {
			if slices.Contains(chk.regions, defaultRegion) {
				continue
			}
			line := chk.lines["regions"]
			if line == 0 {
				line = chk.line
			}
			out = append(out, Warning{Line: line, Path: fmt.Sprintf("components[%d].checks[%d].regions", i, j), Check: chk.name,
				Message: fmt.Sprintf("no worker can probe %s here: without PHAROS_REDIS_URL the only worker is the one built into "+
					"`pharos run`, in region %s; leave out `regions` to run the check there, or run `pharos probe --region …` "+
					"workers on Redis; until then the check is misconfigured", strings.Join(chk.regions, ", "), defaultRegion)})
		}
	}
	return out
}

// privateSuffixes are name suffixes that resolve to private addresses by
// convention (mDNS, home networks, ICANN's private-use .internal).
var privateSuffixes = []string{".local", ".internal", ".home.arpa", ".lan"}

// targetWarnings lists (never nil) the checks of cfg whose URL host or explicit nodes
// the guard refuses: address literals it blocks, localhost names, and (when
// private targets are not allowed) names that conventionally resolve to
// private addresses.
func targetWarnings(cfg *config, allowPrivate bool) []Warning {
	guard := probes.NewGuard(nil)
	out := []Warning{} // a JSON list, never null
	for i, comp := range cfg.components {
		for j, chk := range comp.checks {
			path := fmt.Sprintf("components[%d].checks[%d]", i, j)
			warn := func(key, format string, args ...any) {
				line := chk.lines[key]
				if line == 0 {
					line = chk.line
				}
				out = append(out, Warning{Line: line, Path: path + "." + key, Check: chk.name, Message: fmt.Sprintf(format, args...)})
			}
			if msg := hostWarning(guard, chk.spec.URL, allowPrivate); msg != "" {
				warn("url", "%s", msg)
			}
			list, _ := chk.spec.Nodes.([]string)
			for _, node := range list {
				if msg := addressWarning(guard, node, allowPrivate); msg != "" {
					warn("nodes", "node %s", msg)
				}
			}
		}
	}
	return out
}

const misconfiguredNote = "; the check will be misconfigured: it opens no incident and changes no status"

// hostWarning judges a check URL's host name.
func hostWarning(guard *probes.Guard, raw string, allowPrivate bool) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if _, err := netip.ParseAddr(host); err == nil {
		return addressWarning(guard, host, allowPrivate)
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || host == "localhost.localdomain" {
		if msg := addressWarning(guard, "127.0.0.1", allowPrivate); msg != "" {
			return fmt.Sprintf("%s always resolves to a loopback address; probes may not reach it%s%s", host, misconfiguredNote, allowHint)
		}
		return ""
	}
	if reservedName(host) {
		return fmt.Sprintf("%s is a reserved example name that never resolves (RFC 2606): the probes will report it down", host)
	}
	if allowPrivate || host == "" {
		return ""
	}
	for _, suffix := range privateSuffixes {
		if strings.HasSuffix(host, suffix) {
			return fmt.Sprintf("%s usually resolves to a private address, which probes may not reach%s%s", host, misconfiguredNote, allowHint)
		}
	}
	if !strings.Contains(host, ".") {
		return fmt.Sprintf("%s is a single-label name, usually a private address probes may not reach%s%s", host, misconfiguredNote, allowHint)
	}
	return ""
}

// reservedName reports whether host is under a name reserved for examples
// and tests (RFC 2606, RFC 6761), which no resolver answers.
func reservedName(host string) bool {
	for _, tld := range []string{".example", ".test", ".invalid"} {
		if strings.HasSuffix(host, tld) {
			return true
		}
	}
	for _, domain := range []string{"example.com", "example.net", "example.org"} {
		if host == domain || strings.HasSuffix(host, "."+domain) {
			return true
		}
	}
	return false
}

const allowHint = " (PHAROS_ALLOW_PRIVATE_TARGETS=true where the probes run allows private targets)"

// addressWarning judges an IP or IP:port.
func addressWarning(guard *probes.Guard, s string, allowPrivate bool) string {
	addr, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return ""
		}
		addr = ap.Addr()
	}
	err = guard.Check(addr, allowPrivate)
	var be *probes.BlockedError
	if !errors.As(err, &be) {
		return ""
	}
	msg := be.Error() + misconfiguredNote
	if guard.Check(addr, true) == nil { // private targets would open it
		msg += allowHint
	}
	return msg
}

// regionWarnings lists the checks none of whose regions has a worker that
// reported within aggregate.DefaultNoWorkerAfter: the aggregator's sweep
// will mark them misconfigured. With no region reporting at all (a new
// install, or a stalled pipeline) nothing can be told, and nothing is said.
// Without Redis (embedded) only region local can ever report, which is
// known at once.
func regionWarnings(ctx context.Context, st *store.Store, cfg *config, now time.Time, embedded bool) ([]Warning, error) {
	if embedded {
		return embeddedRegionWarnings(cfg), nil
	}
	var seen map[string]bool
	err := st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		seen, err = tx.RegionsSeenSince(ctx, now.Add(-aggregate.DefaultNoWorkerAfter))
		return err
	})
	if err != nil || len(seen) == 0 {
		return nil, err
	}
	reporting := make([]string, 0, len(seen))
	for r := range seen {
		reporting = append(reporting, r)
	}
	slices.Sort(reporting)
	var out []Warning
	for i, comp := range cfg.components {
		for j, chk := range comp.checks {
			if slices.ContainsFunc(chk.regions, func(r string) bool { return seen[r] }) {
				continue
			}
			line := chk.lines["regions"]
			if line == 0 {
				line = chk.line
			}
			out = append(out, Warning{Line: line, Path: fmt.Sprintf("components[%d].checks[%d].regions", i, j), Check: chk.name,
				Message: fmt.Sprintf("no worker of %s has reported in the last %s (reporting: %s); the check will be misconfigured until one does",
					strings.Join(chk.regions, ", "), aggregate.DefaultNoWorkerAfter, strings.Join(reporting, ", "))})
		}
	}
	return out, nil
}
