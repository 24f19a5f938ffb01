package checkcmd

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"pharos/probes/probetest"
)

// TestExitCodesAndJSON is not parallel: its "env allows private" case sets
// PHAROS_ALLOW_PRIVATE_TARGETS for the process, which Main reads.
func TestExitCodesAndJSON(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	day := 24 * time.Hour
	ok := f.serve(t, "127.0.0.2", now.Add(-day), now.Add(89*day), probetest.Text(200, "application/json", `{"status":"ok","count":3}`))
	expiring := f.serve(t, "127.0.0.3", now.Add(-75*day), now.Add(15*day), probetest.Text(200, "text/plain", "hello"))
	short := f.serve(t, "127.0.0.9", now.Add(-day), now.Add(15*day), probetest.Text(200, "text/plain", "hello"))
	expired := f.serve(t, "127.0.0.4", now.Add(-90*day), now.Add(-30*time.Hour), probetest.Text(200, "text/plain", "hello"))
	maint := f.serve(t, "127.0.0.5", now.Add(-day), now.Add(89*day), probetest.Text(200, "text/html", "Down for maintenance"))
	img := f.serve(t, "127.0.0.6", now.Add(-day), now.Add(89*day), probetest.Text(200, "image/png", "<html>not an image</html>"))
	base := []string{"--json", "--allow-private", "--ca-file", f.caFile}

	tests := []struct {
		name  string
		env   []string
		args  []string
		code  int
		state string
		codes string
	}{
		{name: "up", args: append(base, "--resolve", "127.0.0.2", ok+"/"), code: 0, state: "up"},
		{name: "json path and status pass", args: append(base, "--resolve", "127.0.0.2", "--json-path", "$.status=ok", "--json-path", "$.count=3",
			"--expect-status", "200,204", "--body-regex", `"count":\d`, "--expect-issuer", "pharos test", ok+"/"), code: 0, state: "up"},
		{name: "flags after the URL", args: []string{ok + "/", "--json", "--allow-private", "--ca-file", f.caFile, "--resolve", "127.0.0.2"}, code: 0, state: "up"},
		{name: "expiring is degraded", args: append(base, "--resolve", "127.0.0.3", expiring+"/"), code: 1, state: "degraded", codes: "cert_expiring,cert_renewal_overdue"},
		{name: "custom thresholds", args: append(base, "--resolve", "127.0.0.3", "--warn-days", "10", "--critical-days", "3", expiring+"/"), code: 1, state: "degraded", codes: "cert_renewal_overdue"},
		{name: "16-day certificate with 15 days left is up", args: append(base, "--resolve", "127.0.0.9", short+"/"), code: 0, state: "up"},
		{name: "explicit warn days win", args: append(base, "--resolve", "127.0.0.9", "--warn-days", "21", short+"/"), code: 1, state: "degraded", codes: "cert_expiring"},
		{name: "critical days", args: append(base, "--resolve", "127.0.0.9", "--warn-days", "30", "--critical-days", "20", short+"/"), code: 2, state: "down", codes: "cert_expiring"},
		{name: "zero disables", args: append(base, "--resolve", "127.0.0.9", "--warn-days", "0", "--critical-days", "0", short+"/"), code: 0, state: "up"},
		{name: "expired is down", args: append(base, "--resolve", "127.0.0.4", expired+"/"), code: 2, state: "down", codes: "cert_expired"},
		{name: "untrusted without --ca-file", args: []string{"--json", "--allow-private", "--resolve", "127.0.0.2", ok + "/"}, code: 2, state: "down", codes: "cert_untrusted"},
		{name: "maintenance page", args: append(base, "--resolve", "127.0.0.5", "--body-not-contains", "maintenance", maint+"/"), code: 2, state: "down", codes: "body_mismatch"},
		{name: "json degraded", args: append(base, "--resolve", "127.0.0.2", "--json-path", "$.status=degraded", ok+"/"), code: 2, state: "down", codes: "json_mismatch"},
		{name: "image serves html", args: append(base, "--resolve", "127.0.0.6", "--expect-image", img+"/logo.png"), code: 2, state: "down", codes: "image_invalid"},
		{name: "issuer unexpected", args: append(base, "--resolve", "127.0.0.2", "--expect-issuer", "Let's Encrypt", ok+"/"), code: 2, state: "down", codes: "cert_issuer_unexpected"},
		{name: "status unexpected", args: append(base, "--resolve", "127.0.0.2", "--expect-status", "204", ok+"/"), code: 2, state: "down", codes: "status_unexpected"},
		{name: "body contains", args: append(base, "--resolve", "127.0.0.2", "--body-contains", "welcome", "--body-contains", "ok", ok+"/"), code: 2, state: "down", codes: "body_mismatch"},
		{name: "loopback blocked by default", args: []string{"--json", "--ca-file", f.caFile, "--resolve", "127.0.0.2", ok + "/"}, code: 3, state: "unknown", codes: "blocked_address"},
		{name: "env allows private", env: []string{"PHAROS_ALLOW_PRIVATE_TARGETS=true"}, args: []string{"--json", "--ca-file", f.caFile, "--resolve", "127.0.0.2", ok + "/"}, code: 0, state: "up"},
		{name: "metadata blocked even when private allowed", args: append(base, "--resolve", "169.254.169.254", "http://"+host+"/"), code: 3, state: "unknown", codes: "blocked_address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runInProcess(t, tc.env, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			res := r.result(t)
			if string(res.State) != tc.state || codesOf(res) != tc.codes {
				t.Errorf("got %s [%s], want %s [%s]", res.State, codesOf(res), tc.state, tc.codes)
			}
		})
	}
}

func TestUnknownExit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no url", []string{"--json"}, "missing URL"},
		{"bad flag", []string{"--frobnicate", "https://example.org/"}, "flag provided but not defined: -frobnicate"},
		{"bad url", []string{"ftp://example.org/"}, "scheme must be http or https"},
		{"two urls", []string{"https://a.example/", "https://b.example/"}, "one URL at a time"},
		{"bad status", []string{"--expect-status", "2xx", "https://example.org/"}, "--expect-status"},
		{"bad regex", []string{"--body-regex", "(", "https://example.org/"}, "expect.body_regex"},
		{"bad json path", []string{"--json-path", "$.status", "https://example.org/"}, "PATH=VALUE"},
		{"bad node", []string{"--resolve", "example.org", "https://example.org/"}, "not an IP address"},
		{"missing ca file", []string{"--ca-file", "/nonexistent/ca.pem", "https://example.org/"}, "--ca-file"},
		{"bad timeout", []string{"--timeout", "soon", "https://example.org/"}, "invalid value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runInProcess(t, nil, tc.args...)
			if r.code != 3 {
				t.Errorf("exit %d, want 3 (stderr %q)", r.code, r.stderr)
			}
			if lines := strings.Count(strings.TrimSpace(r.stderr), "\n"); lines != 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q, want one line containing %q", r.stderr, tc.want)
			}
			// --json keeps stdout for results; otherwise the reason
			// is the one UNKNOWN status line of a monitoring plugin.
			want := "PHAROS UNKNOWN - " + strings.TrimSpace(strings.TrimPrefix(r.stderr, "pharos check: ")) + "\n"
			if slices.Contains(tc.args, "--json") {
				want = ""
			}
			if r.stdout != want {
				t.Errorf("stdout %q, want %q", r.stdout, want)
			}
		})
	}
}

func TestHumanSummary(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now()
	url := f.serve(t, "127.0.0.7", now.Add(-80*24*time.Hour), now.Add(10*24*time.Hour), http.NotFoundHandler())
	r := runInProcess(t, nil, "--allow-private", "--ca-file", f.caFile, "--resolve", "127.0.0.7", url+"/missing")
	if r.code != 2 {
		t.Errorf("exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{url + "/missing  DOWN", "127.0.0.7:", "HTTP 404", "timings  dns 0 ms", "CN=" + host,
		"issuer   CN=Pharos CLI R1,O=Pharos Test CA", "(9 days left)", "✗ critical status_unexpected", "! warning cert_expiring"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	// TestBinary checks the same of a pipe, which is an *os.File.
	if strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("summary is coloured though stdout is not a terminal:\n%q", r.stdout)
	}
}

// TestGuardRefusalIsUnknown: a target the SSRF guard refuses could not be
// checked, so the exit status is 3 with the reason on stdout and stderr.
func TestGuardRefusalIsUnknown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now()
	url := f.serve(t, "127.0.0.8", now.Add(-24*time.Hour), now.Add(89*24*time.Hour), probetest.Text(200, "text/plain", "hello"))
	for _, asJSON := range []bool{false, true} {
		args := []string{"--ca-file", f.caFile, "--resolve", "127.0.0.8", url + "/"}
		if asJSON {
			args = append([]string{"--json"}, args...)
		}
		r := runInProcess(t, nil, args...)
		if r.code != 3 {
			t.Errorf("json=%v: exit %d, want 3\nstdout: %s\nstderr: %s", asJSON, r.code, r.stdout, r.stderr)
		}
		for what, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
			if !strings.Contains(out, "127.0.0.8 is a loopback address; probes may not reach it") {
				t.Errorf("json=%v: %s lacks the reason:\n%s", asJSON, what, out)
			}
		}
		if asJSON {
			if res := r.result(t); res.State != "unknown" || codesOf(res) != "blocked_address" || res.Error == "" {
				t.Errorf("got %s [%s] error %q, want unknown [blocked_address] with an error", res.State, codesOf(res), res.Error)
			}
		}
	}
}

// TestIPAddressSANs: a certificate for an IP address shows it in the
// summary and as leaf.ip_addresses in --json.
func TestIPAddressSANs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cert := f.inter.Leaf(probetest.CertOptions{CommonName: "127.0.0.10", IPs: []net.IP{net.ParseIP("127.0.0.10")}})
	ln := probetest.Listeners(t, "127.0.0.10")[0]
	probetest.ServeTLS(t, ln, cert, probetest.Text(200, "text/plain", "hello"), nil)
	url := "https://127.0.0.10:" + probetest.Port(ln) + "/"
	r := runInProcess(t, nil, "--allow-private", "--ca-file", f.caFile, url)
	if r.code != 0 || !strings.Contains(r.stdout, "cert     CN=127.0.0.10 (127.0.0.10)") {
		t.Errorf("exit %d, summary lacks the IP SAN:\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runInProcess(t, nil, "--json", "--allow-private", "--ca-file", f.caFile, url)
	if res := r.result(t); len(res.Nodes) != 1 || res.Nodes[0].TLS == nil || strings.Join(res.Nodes[0].TLS.Leaf.IPs, ",") != "127.0.0.10" {
		t.Errorf("leaf ip_addresses missing:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, `"ip_addresses": [`) {
		t.Errorf("JSON lacks ip_addresses:\n%s", r.stdout)
	}
}

// TestNodeErrorInJSON: a node that refuses the connection carries the
// failure as nodes[].error in --json (DESIGN §6); the summary still
// names it once, as its problem.
func TestNodeErrorInJSON(t *testing.T) {
	t.Parallel()
	ln := probetest.Listeners(t, "127.0.0.15")[0]
	ln.Close()
	url := "https://127.0.0.15:" + probetest.Port(ln) + "/"
	r := runInProcess(t, nil, "--json", "--allow-private", url)
	if r.code != 2 {
		t.Errorf("exit %d, want 2\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	res := r.result(t)
	if len(res.Nodes) != 1 || !strings.Contains(res.Nodes[0].Error, "connection refused") {
		t.Fatalf("nodes %+v, want one whose error says the connection was refused\n%s", res.Nodes, r.stdout)
	}
	if !strings.Contains(r.stdout, `"error": "could not connect to 127.0.0.15:`) {
		t.Errorf("JSON lacks the node's error:\n%s", r.stdout)
	}
	r = runInProcess(t, nil, "--allow-private", url)
	if n := strings.Count(r.stdout, "connection refused"); r.code != 2 || !strings.Contains(r.stdout, "no response") || n != 2 {
		t.Errorf("exit %d, summary names the refusal %d times, want 2 (status line, problem):\n%s", r.code, n, r.stdout)
	}
}

// TestSelfSignedCAFile: a self-signed certificate trusted with --ca-file
// is its own root, and still the site's certificate: ten days left under
// --warn-days 30 is a warning, as the perfdata thresholds say.
func TestSelfSignedCAFile(t *testing.T) {
	t.Parallel()
	now := time.Now()
	cert := probetest.SelfSigned(probetest.CertOptions{CommonName: host, DNSNames: []string{host}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 24 * time.Hour)})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte(probetest.CertPEM(cert.Leaf)), 0o600); err != nil {
		t.Fatal(err)
	}
	ln := probetest.Listeners(t, "127.0.0.16")[0]
	probetest.ServeTLS(t, ln, cert, probetest.Text(200, "text/plain", "hello"), nil)
	url := fmt.Sprintf("https://%s:%s/", host, probetest.Port(ln))
	args := []string{"--allow-private", "--ca-file", caFile, "--warn-days", "30", "--resolve", "127.0.0.16", url}

	r := runInProcess(t, nil, args...)
	state, text, perf := pluginLine(t, r.stdout)
	if r.code != 1 || state != "WARNING" || !strings.HasPrefix(text, "cert_expiring: certificate for "+host+" expires") {
		t.Errorf("exit %d, %s - %s: want 1, WARNING - cert_expiring\n%s%s", r.code, state, text, r.stdout, r.stderr)
	}
	if p := perf["tls_days_left"]; p.warn != "30:" {
		t.Errorf("tls_days_left %+v, want warn 30:", p)
	}
	r = runInProcess(t, nil, append([]string{"--json"}, args...)...)
	if res := r.result(t); r.code != 1 || res.State != "degraded" || codesOf(res) != "cert_expiring" || !res.Nodes[0].TLS.ChainTrusted {
		t.Errorf("exit %d, got %s [%s]: want 1, degraded [cert_expiring] on a trusted chain\n%s", r.code, res.State, codesOf(res), r.stdout)
	}
}

// TestHelpTimeout: --timeout bounds the whole probe (probes.Spec.Timeout),
// not each node, and -h says so.
func TestHelpTimeout(t *testing.T) {
	t.Parallel()
	r := runInProcess(t, nil, "-h")
	_, after, ok := strings.Cut(r.stdout, "  -timeout duration\n")
	help, _, _ := strings.Cut(after, "\n  -")
	if !ok || !strings.Contains(help, "whole probe") || strings.Contains(help, "each node") {
		t.Errorf("--timeout help %q, want it to say it bounds the whole probe, not each node", help)
	}
}
