package apply

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// head is a valid start of a file; cases append to it, so their mistakes
// sit on line 7 and below.
const head = `page:
  slug: acme
  title: ACME status
regions: [fra, iad, sin]
components:
  - name: Media
`

func TestParseMistakes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		file     string
		wantLine int
		wantMsg  string
	}{
		{"bad URL scheme", head + "    checks:\n      - name: a\n        url: ftp://x.example/\n", 9, "scheme must be http or https"},
		{"URL without host", head + "    checks:\n      - name: a\n        url: https:///path\n", 9, "has no host"},
		{"bad duration", head + "    checks:\n      - name: a\n        url: https://x.example/\n        interval: 5 minutes\n", 10, "is not a duration"},
		{"bare number duration", head + "    checks:\n      - name: a\n        url: https://x.example/\n        interval: 60\n", 10, "want a duration"},
		{"interval too short", head + "    checks:\n      - name: a\n        url: https://x.example/\n        interval: 5s\n", 10, "out of range"},
		{"timeout too long", head + "    checks:\n      - name: a\n        url: https://x.example/\n        interval: 10m\n        timeout: 3m\n", 11, "3m is out of range (1s to 2m)"},
		{"timeout longer than interval", head + "    checks:\n      - name: a\n        url: https://x.example/\n        interval: 10s\n        timeout: 30s\n", 11, "longer than the interval"},
		{"bad status", head + "    checks:\n      - name: a\n        url: https://x.example/\n        expect: {status: [200, 700]}\n", 10, "not an HTTP status code"},
		{"bad regex", head + "    checks:\n      - name: a\n        url: https://x.example/\n        expect:\n          body_regex: 'a(b'\n", 11, "missing closing )"},
		{"JSON path without $", head + "    checks:\n      - name: a\n        url: https://x.example/\n        expect:\n          json: {status: ok}\n", 11, "must start with $"},
		{"bad node", head + "    checks:\n      - name: a\n        url: https://x.example/\n        nodes: [203.0.113.7, cdn.example]\n", 10, "not all, first, an IP address"},
		{"critical above warn", head + "    checks:\n      - name: a\n        url: https://x.example/\n        tls: {warn_days: 10,\n          critical_days: 14}\n", 11, "more than warn_days"},
		{"quorum above regions", head + "    checks:\n      - name: a\n        url: https://x.example/\n        quorum: 4\n", 10, "more than the 3 region(s)"},
		{"CA file through the API", head + "    checks:\n      - name: a\n        url: https://x.example/\n        tls: {ca: ca.pem}\n", 10, "paste the PEM"},
		{"unknown key", head + "    colour: blue\n", 7, `unknown key "colour"`},
		{"unknown key in expect", head + "    checks:\n      - name: a\n        url: https://x.example/\n        expect:\n          status_code: 200\n", 11, `unknown key "status_code"`},
		{"repeated key", head + "    name: Again\n", 7, `key "name" repeated`},
		{"duplicate component", head + "  - name: Media\n", 7, `component "Media" repeated (first on line 6)`},
		{"duplicate check across components", head + "    checks:\n      - {name: a, url: https://x.example/}\n  - name: API\n    checks:\n      - {name: a, url: https://y.example/}\n", 11, `check "a" repeated`},
		{"missing url", head + "    checks:\n      - name: a\n", 8, "url: missing"},
		{"bad cron", head + "maintenance:\n  - {name: w, components: [Media], schedule: '0 8 * * FRIDAY', duration: 1h}\n", 8, "is not a cron line"},
		{"cron @every", head + "maintenance:\n  - {name: w, components: [Media], schedule: '@every 1h', duration: 1h}\n", 8, "not @every"},
		{"bad time zone", head + "maintenance:\n  - name: w\n    components: [Media]\n    schedule: '@daily'\n    duration: 1h\n    timezone: Europe/Atlantis\n", 12, "is not a time zone"},
		{"unknown maintenance component", head + "maintenance:\n  - name: w\n    components: [Media, Billing]\n    schedule: '@daily'\n    duration: 1h\n", 9, `no component named "Billing"`},
		{"duplicate maintenance", head + "maintenance:\n  - {name: w, components: [Media], schedule: '@daily', duration: 1h}\n  - {name: w, components: [Media], schedule: '@weekly', duration: 1h}\n", 9, `maintenance window "w" repeated`},
		{"bad slug", "page: {slug: ACME!, title: x}\n", 1, "not a valid slug"},
		{"bad acme_directory", head + "    checks:\n      - name: a\n        url: https://x.example/\n        tls: {acme_directory: acme.example}\n", 10, "not an http(s) URL of an ACME directory"},
		{"bad auto_incidents", "page:\n  slug: a\n  title: a\n  auto_incidents: sometimes\n", 4, `"sometimes" is not one of publish, draft, off`},
		{"bad public_detail", "page:\n  slug: a\n  title: a\n  public_detail: full\n", 4, `"full" is not one of plain, technical`},
		{"missing page", "regions: [fra]\n", 1, "page: missing"},
		{"bad region", "page: {slug: a, title: a}\nregions: [fra, 'New York']\n", 2, "not a region name"},
		{"YAML syntax", head + "    checks: [\n", 7, "YAML syntax"},
		{"second document", head + "---\npage: {slug: b, title: b}\n", 7, "one YAML document"},
		{"empty file", "", 1, "empty"},
		{"list instead of mapping", "- a\n- b\n", 1, "want a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := parseConfig([]byte(tt.file), "", Limits{})
			if len(errs) == 0 {
				errs = probeValidate(mustParse(t, tt.file))
			}
			for _, e := range errs {
				if e.Line == tt.wantLine && strings.Contains(e.Error(), tt.wantMsg) {
					return
				}
			}
			t.Errorf("got %v, want an error on line %d containing %q", errs, tt.wantLine, tt.wantMsg)
		})
	}
}

func mustParse(t *testing.T, file string) *config {
	t.Helper()
	c, errs := parseConfig([]byte(file), "", Limits{})
	if len(errs) > 0 {
		t.Fatalf("parse: %v", errs)
	}
	return c
}

// A bad file is refused with every mistake, not just the first.
func TestParseCollectsAllMistakes(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, errs := parseConfig(data, "", Limits{})
	verr, _ := errs.asError("testdata/bad.yaml").(*ValidationError)
	if verr == nil {
		t.Fatal("got no error, want a *ValidationError")
	}
	var got []int
	for _, e := range verr.Errors {
		got = append(got, e.Line)
	}
	want := []int{9, 10, 12, 14, 18, 19, 21}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error lines (-want +got):\n%s\n%s", diff, verr)
	}
	if l := verr.Lines()[0]; !strings.HasPrefix(l, "testdata/bad.yaml:9: components[0].checks[0].url: ") {
		t.Errorf("got %q, want FILE:LINE: PATH: message", l)
	}
}

// The stored spec has a fixed shape the probe engine reads, and the same
// file always yields byte-identical JSON.
func TestCheckSpecJSON(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../deploy/pharos.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := mustParse(t, string(data))
	specs := map[string]string{}
	for _, comp := range c.components {
		for _, chk := range comp.checks {
			b, err := json.Marshal(chk.spec)
			if err != nil {
				t.Fatal(err)
			}
			specs[chk.name] = string(b)
		}
	}
	want := map[string]string{
		"images":             `{"url":"https://media.acme.example/logo.png","nodes":"all","expect":{"status":[200],"headers":{"Content-Type":"/^image\\//"},"image":true},"tls":{"warn_days":21,"critical_days":7,"issuer":"Let's Encrypt"}}`,
		"images standby":     `{"url":"https://media.acme.example/logo.png","nodes":["203.0.113.7","198.51.100.9:443"],"expect":{"image":true},"tls":{"issuer":"Let's Encrypt"}}`,
		"api health":         `{"url":"https://api.acme.example/health","expect":{"status":[200],"body_not_contains":["maintenance"],"json":{"$.database.healthy":true,"$.status":"ok"},"max_latency":"2s"},"tls":{"min_version":"1.2"},"timeout":"5s"}`,
		"console login page": `{"url":"https://console.acme.example/login","expect":{"status":["200-299"],"body_contains":["Sign in"],"body_not_contains":["maintenance","Internal Server Error"],"body_regex":"\u003ctitle\u003e[^\u003c]*ACME[^\u003c]*\u003c/title\u003e","max_latency":"3s"}}`,
	}
	if diff := cmp.Diff(want, specs); diff != "" {
		t.Errorf("specs (-want +got):\n%s", diff)
	}
	if errs := probeValidate(c); len(errs) > 0 {
		t.Errorf("the probe engine refuses the example: %v", errs)
	}
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	c := mustParse(t, "page: {slug: a, title: A}\ncomponents:\n  - name: Web\n    checks:\n      - {name: home, url: 'https://a.example/'}\n")
	chk := c.components[0].checks[0]
	if chk.interval.String() != "1m0s" || chk.confirm != 2 || chk.quorum != 0 {
		t.Errorf("got interval %s confirm %d quorum %d, want 1m0s, 2, 0", chk.interval, chk.confirm, chk.quorum)
	}
	if diff := cmp.Diff([]string{"local"}, chk.regions); diff != "" {
		t.Errorf("regions (-want +got):\n%s", diff)
	}
	if c.page.timeZone != "UTC" {
		t.Errorf("got time zone %q, want UTC", c.page.timeZone)
	}
}

func TestDurationText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"60s": "1m", "30s": "30s", "2h": "2h", "90m": "1h30m", "1500ms": "1.5s", "2h0m30s": "2h0m30s"} {
		d, err := time.ParseDuration(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := durationText(d); got != want {
			t.Errorf("durationText(%s): got %q, want %q", in, got, want)
		}
	}
}

// The example of DESIGN §7, verbatim, is a valid file.
func TestParseDesignExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/design.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := mustParse(t, string(data))
	if errs := probeValidate(c); len(errs) > 0 {
		t.Errorf("the probe engine refuses the DESIGN example: %v", errs)
	}
	if len(c.components) != 2 || len(c.maintenance) != 1 || c.maintenance[0].timeZone != "Europe/Berlin" {
		t.Errorf("got %+v, want 2 components and the Berlin window", c)
	}
}
