package checkcmd

import (
	"crypto/tls"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"pharos/probes/probetest"
)

// The plugin output format of the monitoring-plugins development guidelines
// (https://www.monitoring-plugins.org/doc/guidelines.html), written out as
// regular expressions: a status line "SERVICE STATUS - text | perfdata",
// perfdata a space-separated list of
//
//	'label'=value[UOM];[warn];[crit];[min];[max]
//
// where the quotes are optional unless the label has spaces, = or ' (a
// quote doubled inside), value, min and max are in [-0-9.], UOM is one of
// us, ms, s, %, B, KB, MB, GB, TB, c or nothing, trailing empty fields may
// be dropped, and warn and crit use the range format [@][start:][end]
// (start a number or ~).
var (
	rangeRE     = `@?(?:(?:~|-?[0-9.]+):)?(?:-?[0-9.]+)?`
	numberRE    = `-?[0-9.]+`
	perfItemRE  = `('(?:[^']|'')+'|[^'= ]+)=(` + numberRE + `)(us|ms|s|%|B|KB|MB|GB|TB|c)?` + `(?:;(` + rangeRE + `)(?:;(` + rangeRE + `)(?:;(` + numberRE + `)?(?:;(` + numberRE + `)?)?)?)?)?`
	statusLine  = regexp.MustCompile(`^PHAROS (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]+?)(?: \| (` + perfItemRE + `(?: ` + perfItemRE + `)*))?$`)
	perfItem    = regexp.MustCompile(`(?:^| )` + perfItemRE)
	wordForExit = map[int]string{0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}
)

// perfValue is one parsed performance data item.
type perfValue struct {
	value, uom, warn, crit, min, max string
}

// pluginLine parses the first line of out as a plugin status line.
func pluginLine(t *testing.T, out string) (state, text string, perf map[string]perfValue) {
	t.Helper()
	first, _, _ := strings.Cut(out, "\n")
	m := statusLine.FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("first line is not a plugin status line:\n%q", first)
	}
	perf = map[string]perfValue{}
	for _, it := range perfItem.FindAllStringSubmatch(m[3], -1) {
		label := it[1]
		if strings.HasPrefix(label, "'") {
			label = strings.ReplaceAll(label[1:len(label)-1], "''", "'")
		}
		perf[label] = perfValue{it[2], it[3], it[4], it[5], it[6], it[7]}
	}
	return m[1], m[2], perf
}

func number(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q is not a number: %v", s, err)
	}
	return f
}

// TestPluginOutput runs `pharos check` without --json against real TLS
// servers on loopback and reads its first line as Nagios and Icinga do.
func TestPluginOutput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now()
	day := 24 * time.Hour
	ok := f.serve(t, "127.0.0.2", now.Add(-day), now.Add(89*day), probetest.Text(200, "text/plain", "hello"))
	expiring := f.serve(t, "127.0.0.3", now.Add(-75*day), now.Add(15*day), probetest.Text(200, "text/plain", "hello"))
	expired := f.serve(t, "127.0.0.4", now.Add(-90*day), now.Add(-30*time.Hour), probetest.Text(200, "text/plain", "hello"))
	base := []string{"--allow-private", "--ca-file", f.caFile}

	tests := []struct {
		name string
		args []string
		code int
		text string // in the reason
		// tls_days_left: value within a day of days; warn and crit ranges.
		days       float64
		warn, crit string
	}{
		{name: "ok", args: append(base, "--resolve", "127.0.0.2", ok+"/"), code: 0, text: " ms, certificate expires in 88 days",
			days: 89, warn: "30:", crit: "7:"},
		{name: "warning", args: append(base, "--resolve", "127.0.0.3", expiring+"/"), code: 1, text: "cert_expiring: ",
			days: 15, warn: "30:", crit: "7:"},
		{name: "explicit thresholds", args: append(base, "--resolve", "127.0.0.3", "--warn-days", "40", "--critical-days", "20", expiring+"/"), code: 2,
			text: "cert_expiring: ", days: 15, warn: "40:", crit: "20:"},
		{name: "disabled thresholds", args: append(base, "--resolve", "127.0.0.2", "--warn-days", "0", "--critical-days", "0", ok+"/"), code: 0,
			days: 89, warn: "30:", crit: ""},
		// 90 days less 30 hours of lifetime: overdue under a third of it.
		{name: "critical", args: append(base, "--resolve", "127.0.0.4", expired+"/"), code: 2, text: "cert_expired: ",
			days: -1.25, warn: "29.58:", crit: "7:"},
		{name: "critical body", args: append(base, "--resolve", "127.0.0.2", "--body-contains", "welcome|bye", ok+"/"), code: 2,
			text: `body_mismatch: body of ` + ok + `/ on 127.0.0.2:` + ok[strings.LastIndex(ok, ":")+1:] + ` does not contain "welcome¦bye"`, days: 89, warn: "30:", crit: "7:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runInProcess(t, nil, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", r.code, tc.code, r.stdout, r.stderr)
			}
			state, text, perf := pluginLine(t, r.stdout)
			if state != wordForExit[tc.code] || !strings.Contains(text, tc.text) {
				t.Errorf("got %s - %s, want %s - …%s…", state, text, wordForExit[tc.code], tc.text)
			}
			tm, ok := perf["time"]
			if !ok || tm.uom != "s" || tm.min != "0" || tm.max != "10" || number(t, tm.value) <= 0 || number(t, tm.value) > 10 {
				t.Errorf("time perfdata %+v, want seconds with min 0 and max the 10 s timeout", tm)
			}
			d, ok := perf["tls_days_left"]
			if !ok {
				t.Fatalf("no tls_days_left in %v", perf)
			}
			if got := number(t, d.value); got < tc.days-1 || got > tc.days+0.01 || d.uom != "" || d.warn != tc.warn || d.crit != tc.crit {
				t.Errorf("tls_days_left %+v, want about %.2f;%s;%s", d, tc.days, tc.warn, tc.crit)
			}
			if lines := strings.Split(r.stdout, "\n"); len(lines) < 3 || !strings.Contains(lines[1], "  "+strings.ToUpper(map[int]string{0: "up", 1: "degraded", 2: "down"}[tc.code])) {
				t.Errorf("the details do not follow the status line:\n%s", r.stdout)
			}
		})
	}
}

// TestPluginOutputShortLived: thresholds of a 24-hour certificate are
// fractions of a day (warn under 6 h, critical under 2 h), not 21 and 7.
func TestPluginOutputShortLived(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now()
	url := f.serve(t, "127.0.0.9", now.Add(-12*time.Hour), now.Add(12*time.Hour), probetest.Text(200, "text/plain", "hello"))
	r := runInProcess(t, nil, "--allow-private", "--ca-file", f.caFile, "--resolve", "127.0.0.9", url+"/")
	state, _, perf := pluginLine(t, r.stdout)
	// A 24-hour certificate half used: renewal is overdue at a third left (8 h).
	d := perf["tls_days_left"]
	if state != "OK" || d.warn != "0.33:" || d.crit != "0.08:" || number(t, d.value) > 0.5 || number(t, d.value) < 0.49 {
		t.Errorf("got %s %+v, want OK with 0.5 days left, warn 0.33: (8 h), crit 0.08: (2 h)\n%s", state, d, r.stdout)
	}
}

// TestPluginOutputNodes: with several nodes each gets its own time and
// tls_days_left, labelled by address and quoted (the label has dots).
func TestPluginOutputNodes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now()
	day := 24 * time.Hour
	lns := probetest.Listeners(t, "127.0.0.12", "127.0.0.13")
	fresh := f.inter.Leaf(probetest.CertOptions{CommonName: host, DNSNames: []string{host}, NotBefore: now.Add(-day), NotAfter: now.Add(89 * day)})
	old := f.inter.Leaf(probetest.CertOptions{CommonName: host, DNSNames: []string{host}, NotBefore: now.Add(-85 * day), NotAfter: now.Add(5 * day)})
	probetest.ServeTLS(t, lns[0], fresh, probetest.Text(200, "text/plain", "hello"), func(*tls.Config) {})
	probetest.ServeTLS(t, lns[1], old, probetest.Text(200, "text/plain", "hello"), func(*tls.Config) {})
	url := fmt.Sprintf("https://%s:%s/", host, probetest.Port(lns[0]))
	r := runInProcess(t, nil, "--allow-private", "--ca-file", f.caFile, "--resolve", "127.0.0.12", "--resolve", "127.0.0.13", url)
	if r.code != 2 {
		t.Errorf("exit %d, want 2 (5 days left is under the 7-day critical threshold)\n%s%s", r.code, r.stdout, r.stderr)
	}
	state, text, perf := pluginLine(t, r.stdout)
	if state != "CRITICAL" || !strings.Contains(text, "cert_expiring: ") || !strings.Contains(text, "more)") {
		t.Errorf("got %s - %s, want CRITICAL - cert_expiring: … (+N more)", state, text)
	}
	if !strings.Contains(r.stdout, " 'tls_days_left_127.0.0.12'=") {
		t.Errorf("node labels are not quoted:\n%s", r.stdout)
	}
	for node, days := range map[string]float64{"127.0.0.12": 89, "127.0.0.13": 5} {
		d, ok := perf["tls_days_left_"+node]
		if !ok {
			t.Fatalf("no tls_days_left_%s in %v", node, perf)
		}
		if got := number(t, d.value); got < days-1 || got > days+0.01 || d.warn != "30:" || d.crit != "7:" {
			t.Errorf("%s: %+v, want about %.0f;30:;7:", node, d, days)
		}
		if tm, ok := perf["time_"+node]; !ok || tm.uom != "s" {
			t.Errorf("%s: time %+v, want seconds", node, tm)
		}
	}
	if _, ok := perf["tls_days_left"]; ok {
		t.Errorf("an unlabelled tls_days_left beside the nodes' ones: %v", perf)
	}
}

// TestPluginUnknown: whatever stops the check, stdout starts with an
// UNKNOWN status line (stderr keeps its message); --json keeps stdout
// for results only.
func TestPluginUnknown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now()
	url := f.serve(t, "127.0.0.8", now.Add(-24*time.Hour), now.Add(89*24*time.Hour), probetest.Text(200, "text/plain", "hello"))
	tests := []struct {
		name string
		args []string
		want string
		perf bool
	}{
		{"bad flag", []string{"--frobnicate", "https://example.org/"}, "flag provided but not defined: -frobnicate", false},
		{"bad url", []string{"ftp://example.org/"}, "scheme must be http or https", false},
		{"no url", nil, "missing URL", false},
		{"guard refusal", []string{"--ca-file", f.caFile, "--resolve", "127.0.0.8", url + "/"},
			"target refused by the SSRF guard: " + url + "/: 127.0.0.8 is a loopback address", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runInProcess(t, nil, tc.args...)
			if r.code != 3 {
				t.Errorf("exit %d, want 3", r.code)
			}
			state, text, perf := pluginLine(t, r.stdout)
			if state != "UNKNOWN" || !strings.Contains(text, tc.want) {
				t.Errorf("got %s - %s, want UNKNOWN - …%s…", state, text, tc.want)
			}
			if _, ok := perf["time"]; ok != tc.perf {
				t.Errorf("time perfdata present %v, want %v: %v", ok, tc.perf, perf)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q lacks %q", r.stderr, tc.want)
			}
			r = runInProcess(t, nil, append([]string{"--json"}, tc.args...)...)
			if r.code != 3 || strings.HasPrefix(r.stdout, "PHAROS") {
				t.Errorf("--json: exit %d, stdout %q: want 3 and no status line", r.code, r.stdout)
			}
		})
	}
}

// TestVersionAndHelp: -V and --version print the version and exit 0; -h
// and --help print the usage on stdout and exit 3, as monitoring plugins
// do.
func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-V", "--version"} {
		r := runInProcess(t, nil, arg)
		if r.code != 0 || !regexp.MustCompile(`^pharos \S+ \(revision \S+, go1\.\S+\)\n$`).MatchString(r.stdout) {
			t.Errorf("%s: exit %d, stdout %q: want 0 and one version line", arg, r.code, r.stdout)
		}
	}
	for _, arg := range []string{"-h", "--help"} {
		r := runInProcess(t, nil, arg, "https://example.org/")
		if r.code != 3 || !strings.HasPrefix(r.stdout, "usage: pharos check [flags] URL") || !strings.Contains(r.stdout, "-warn-days") {
			t.Errorf("%s: exit %d, stdout %q: want 3 and the usage", arg, r.code, r.stdout)
		}
	}
}

func TestStatusLineText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a|b", "a¦b"},
		{"one\ntwo\r\nthree", "one two three"},
	}
	for _, tc := range tests {
		if got := oneLine(tc.in); got != tc.want {
			t.Errorf("oneLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for in, want := range map[string]string{"time": "time", "tls_days_left_10.0.0.5": "'tls_days_left_10.0.0.5'", "it's": "'it''s'", "a b": "'a b'"} {
		if got := quoteLabel(in); got != want {
			t.Errorf("quoteLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
