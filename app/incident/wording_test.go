package incident

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pharos/probes"
)

// allCodes is every problem code of DESIGN §6, including those the probe
// engine does not report yet.
func allCodes() []string {
	var out []string
	for _, c := range probes.Codes() {
		out = append(out, string(c))
	}
	return append(out, codeCertRevoked, codeCertRenewalDue)
}

func TestEveryCodeHasWording(t *testing.T) {
	for _, code := range allCodes() {
		k := KindOf(code, "")
		if k == KindOther {
			t.Errorf("%s: no kind of its own (KindOther)", code)
		}
		if k == KindMisconfigured {
			if code != string(probes.CodeBlockedAddress) {
				t.Errorf("%s: misconfigured, want only blocked_address to be", code)
			}
			continue
		}
		p, ok := phrases[k]
		if !ok || p.title == "" || p.sentence == "" {
			t.Errorf("%s: kind %s has no wording", code, k)
		}
		if _, ranked := kindOrder[k]; !ranked {
			t.Errorf("%s: kind %s has no rank", code, k)
		}
	}
}

var (
	ipv4Text = regexp.MustCompile(`\b\d{1,3}(\.\d{1,3}){3}\b`)
	portText = regexp.MustCompile(`:\d+`)
)

// TestPublicTextHidesTechnicalDetail feeds every code, as a raw probe would
// report it on a URL with a secret, and checks that the public title and
// body name none of it while the technical detail keeps all of it.
func TestPublicTextHidesTechnicalDetail(t *testing.T) {
	const (
		checkName = "lab home by IP"
		rawURL    = "https://api.acme.example:8443/health?api_key=SECRET"
	)
	for _, code := range allCodes() {
		for _, node := range []string{"10.0.0.5:443", "[2001:db8::5]:443"} {
			message := "GET " + rawURL + " on " + node + ": dial tcp " + node + ": connect: connection refused"
			tr := Trouble{Component: "API", State: Down, Checks: []CheckTrouble{{
				ID: 7, Name: checkName, URL: rawURL, State: Down, Regions: []string{"fra", "iad"},
				Nodes: []string{node, "10.0.0.6:443"},
				Problems: []Finding{
					{Region: "fra", Code: code, Severity: "critical", Node: node, Message: message},
					{Region: "iad", Code: code, Severity: "critical", Node: node, Message: message},
				},
			}}}
			got := Describe(tr, false)
			for _, public := range []string{got.Title, got.Body} {
				for _, secret := range []string{"SECRET", "api_key", "/health", "?", "10.0.0.5", "2001:db8", ":443",
					":8443", checkName, "connection refused", "dial tcp"} {
					if strings.Contains(public, secret) {
						t.Errorf("%s on %s: public text %q contains %q", code, node, public, secret)
					}
				}
				for _, c := range allCodes() {
					if strings.Contains(public, c) {
						t.Errorf("%s on %s: public text %q contains the code %q", code, node, public, c)
					}
				}
				if ipv4Text.MatchString(public) || portText.MatchString(public) {
					t.Errorf("%s on %s: public text %q contains an address or a port", code, node, public)
				}
			}
			if code != string(probes.CodeBlockedAddress) && !strings.Contains(got.Body, "api.acme.example") {
				t.Errorf("%s: body %q does not name the host", code, got.Body)
			}
			for _, want := range []string{checkName, rawURL, code, node, "fra, iad", message, "critical"} {
				if !strings.Contains(got.Technical, want) {
					t.Errorf("%s: technical detail %q lacks %q", code, got.Technical, want)
				}
			}
		}
	}
}

func TestDescribe(t *testing.T) {
	media := "https://media.acme.example/logo.png"
	nodes3 := []string{"203.0.113.7:443", "203.0.113.8:443", "203.0.113.9:443"}
	find := func(region, code, node string) Finding {
		return Finding{Region: region, Code: code, Severity: "critical", Node: node, Message: "raw"}
	}
	tests := []struct {
		name      string
		trouble   Trouble
		title     string
		body      string
		kinds     []Kind
		technical bool
	}{
		{
			"expired on one of three servers",
			Trouble{Component: "Media", State: Down, Checks: []CheckTrouble{{Name: "images", URL: media, State: Down, Nodes: nodes3,
				Problems: []Finding{find("fra", "cert_expired", nodes3[0]), find("iad", "cert_expired", nodes3[0])}}}},
			"Media: certificate expired",
			"The TLS certificate of media.acme.example expired on 1 of 3 servers; seen from Frankfurt and Virginia.",
			[]Kind{KindCertExpired}, false,
		},
		{
			"unreachable everywhere",
			Trouble{Component: "API", State: Down, Checks: []CheckTrouble{{URL: "https://api.acme.example/health", State: Down,
				Problems: []Finding{find("fra", "connection_failed", ""), find("sin", "timeout", ""), find("iad", "dns_failed", "")}}}},
			"API unavailable",
			"api.acme.example cannot be reached; seen from Frankfurt, Virginia and Singapore.",
			[]Kind{KindUnreachable}, false,
		},
		{
			"unreachable from some regions",
			Trouble{Component: "API", State: Degraded, Checks: []CheckTrouble{{URL: "https://api.acme.example/", State: Degraded,
				Problems: []Finding{find("fra", "timeout", "")}}}},
			"API partly unavailable",
			"api.acme.example cannot be reached; seen from Frankfurt.",
			[]Kind{KindUnreachable}, false,
		},
		{
			"unreachable, other checks of the component fine",
			Trouble{Component: "API", State: Down, Partial: true, Checks: []CheckTrouble{{URL: "https://api.acme.example/", State: Down,
				Problems: []Finding{find("fra", "connection_failed", ""), find("iad", "connection_failed", "")}}}},
			"API partly unavailable",
			"api.acme.example cannot be reached; seen from Frankfurt and Virginia.",
			[]Kind{KindUnreachable}, false,
		},
		{
			"maintenance page",
			Trouble{Component: "Console", State: Down, Checks: []CheckTrouble{{URL: "https://console.acme.example/", State: Down,
				Problems: []Finding{{Region: "local", Code: "body_mismatch", Severity: "critical",
					Message: `body of https://console.acme.example/ on 10.0.0.1:443 contains "Maintenance": "<h1>Down for Maintenance"`}}}}},
			"Console shows a maintenance page",
			"console.acme.example shows a maintenance page; seen by our monitoring.",
			[]Kind{KindMaintenancePage}, false,
		},
		{
			"slow, with an unknown region code",
			Trouble{Component: "Media", State: Degraded, Checks: []CheckTrouble{{URL: media, State: Degraded,
				Problems: []Finding{{Region: "xyz", Code: "latency_high", Severity: "warning"}, {Region: "local", Code: "latency_high", Severity: "warning"}}}}},
			"Media: slow responses",
			"media.acme.example responds slowly; seen from xyz and by our monitoring.",
			[]Kind{KindSlow}, false,
		},
		{
			"two checks of one component, two kinds: the worse leads",
			Trouble{Component: "API", State: Down, Checks: []CheckTrouble{
				{URL: "https://api.acme.example/", State: Degraded, Problems: []Finding{{Region: "fra", Code: "cert_expiring", Severity: "warning"}}},
				{URL: "https://auth.acme.example/", State: Down, Problems: []Finding{find("fra", "status_unexpected", "")}},
			}},
			"API: error responses",
			"auth.acme.example answers with errors; seen from Frankfurt. The TLS certificate of api.acme.example expires soon; seen from Frankfurt.",
			[]Kind{KindErrors, KindCertExpiring}, false,
		},
		{
			"address literal URL: the component stands in, info notes ignored",
			Trouble{Component: "Lab", State: Down, Checks: []CheckTrouble{{URL: "https://192.0.2.1:8443/x", State: Down,
				Problems: []Finding{find("ams", "tls_handshake_failed", ""), {Region: "ams", Code: "cert_revoked", Severity: "info"}}}}},
			"Lab unavailable",
			"Lab cannot be reached; seen from Amsterdam.",
			[]Kind{KindUnreachable}, false,
		},
		{
			"no problems reported",
			Trouble{Component: "Web", State: Down, Checks: []CheckTrouble{{URL: "https://www.acme.example/", State: Down, Regions: []string{"lhr"}}}},
			"Web: service disruption",
			"www.acme.example is not working as expected; seen from London.",
			[]Kind{KindOther}, false,
		},
		{
			"technical public detail adds codes and servers",
			Trouble{Component: "Media", State: Down, Checks: []CheckTrouble{{URL: media, State: Down, Nodes: nodes3,
				Problems: []Finding{find("fra", "cert_expired", nodes3[1]), find("fra", "cert_expired", nodes3[2])}}}},
			"Media: certificate expired",
			"The TLS certificate of media.acme.example expired on 2 of 3 servers; seen from Frankfurt. (`cert_expired` on 203.0.113.8:443, 203.0.113.9:443)",
			[]Kind{KindCertExpired}, true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Describe(tt.trouble, tt.technical)
			if got.Title != tt.title {
				t.Errorf("title: got %q, want %q", got.Title, tt.title)
			}
			if got.Body != tt.body {
				t.Errorf("body: got %q, want %q", got.Body, tt.body)
			}
			if diff := cmp.Diff(tt.kinds, got.Kinds); diff != "" {
				t.Errorf("kinds (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKindOfBodyMismatch(t *testing.T) {
	tests := []struct {
		message string
		want    Kind
	}{
		{`body of https://x/ on 1.2.3.4:443 contains "maintenance": "we are in maintenance"`, KindMaintenancePage},
		{`body of https://x/ on 1.2.3.4:443 contains "Scheduled MAINTENANCE": "…"`, KindMaintenancePage},
		{`body of https://x/ on 1.2.3.4:443 does not contain "maintenance"`, KindContent},
		{`body of https://x/ on 1.2.3.4:443 does not contain "ok"`, KindContent},
		{`body of https://x/ on 1.2.3.4:443 contains "error": "maintenance soon"`, KindContent},
		{`body of https://x/ on 1.2.3.4:443 does not match /maintenance/`, KindContent},
	}
	for _, tt := range tests {
		if got := KindOf("body_mismatch", tt.message); got != tt.want {
			t.Errorf("KindOf(body_mismatch, %q) = %s, want %s", tt.message, got, tt.want)
		}
	}
}

func TestPlaceName(t *testing.T) {
	for region, want := range map[string]string{
		"fra": "Frankfurt", "iad": "Virginia", "sin": "Singapore", "gru": "São Paulo", "jnb": "Johannesburg",
		"FRA": "Frankfurt", "local": "our monitoring", "moon-1": "moon-1",
	} {
		if got := PlaceName(region); got != want {
			t.Errorf("PlaceName(%q) = %q, want %q", region, got, want)
		}
	}
}

func TestStatusImpact(t *testing.T) {
	for status, want := range map[string]string{
		MajorOutage: "critical", PartialOutage: "major", DegradedPerformance: "minor",
		Operational: "none", UnderMaintenance: "none",
	} {
		if got := StatusImpact(status); got != want {
			t.Errorf("StatusImpact(%s) = %s, want %s", status, got, want)
		}
		// The indicator of a page whose worst component has this status
		// agrees with the impact.
		if ind := PageIndicator([]string{status}).Indicator; status != UnderMaintenance && ind != want && !(want == "none" && ind == "none") {
			t.Errorf("%s: impact %s, page indicator %s", status, want, ind)
		}
	}
}

func TestChangeWording(t *testing.T) {
	now := Text{Body: "api.acme.example responds slowly."}
	for action, lead := range map[Action]string{Worsen: "worse", Improve: "partly resolved", Change: "changed"} {
		got := Update(action, now)
		if !strings.Contains(got, lead) || !strings.HasSuffix(got, now.Body) {
			t.Errorf("Update(%s) = %q, want %q and the current description", action, got, lead)
		}
	}
	if got := Recovered("API"); got != "API is working normally again." {
		t.Errorf("Recovered = %q", got)
	}
	if !SameKinds([]Kind{KindSlow}, []Kind{KindSlow}) || SameKinds([]Kind{KindSlow}, []Kind{KindErrors}) || SameKinds(nil, []Kind{KindSlow}) {
		t.Error("SameKinds disagrees with equality")
	}
}
