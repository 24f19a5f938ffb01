package incident

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strings"

	"pharos/probes"
)

// Automatic incidents speak to the public in plain words (issue 8): a
// component and the kind of trouble in the title, a sentence per kind in
// the body naming only the host name, how many servers and where it was
// seen from. Addresses, ports, paths, query strings, check names, problem
// codes and raw error text stay in the technical detail the console shows,
// unless the page opts in to technical public detail.

// Kind is a kind of trouble: the problem codes of DESIGN §6 grouped by what
// they mean to someone using the service.
type Kind string

// The kinds, in the order they lead an incident's title and body (the
// first is the most serious).
const (
	KindUnreachable       Kind = "unreachable"
	KindCertExpired       Kind = "certificate_expired"
	KindCertNotYetValid   Kind = "certificate_not_yet_valid"
	KindCertRevoked       Kind = "certificate_revoked"
	KindCertUntrusted     Kind = "certificate_untrusted"
	KindCertWrongName     Kind = "certificate_wrong_name"
	KindMaintenancePage   Kind = "maintenance_page"
	KindErrors            Kind = "error_responses"
	KindImages            Kind = "images_broken"
	KindContent           Kind = "unexpected_content"
	KindCertExpiring      Kind = "certificate_expiring"
	KindCertRenewal       Kind = "certificate_renewal_overdue"
	KindCertIssuerChanged Kind = "certificate_issuer_changed"
	KindNodesDisagree     Kind = "servers_disagree"
	KindTLSOutdated       Kind = "tls_outdated"
	KindSlow              Kind = "slow"
	KindOther             Kind = "other"
	// KindMisconfigured is a target the prober may not reach: a
	// configuration mistake, never worded for the public.
	KindMisconfigured Kind = "misconfigured"
)

// Problem codes DESIGN §6 names that the probe engine does not report yet.
const (
	codeCertRevoked    = "cert_revoked"
	codeCertRenewalDue = "cert_renewal_due"
)

// phrase is how a kind reads: title is a format over the component's name,
// sentence a format over the affected host names.
type phrase struct{ title, sentence string }

var phrases = map[Kind]phrase{
	KindUnreachable:       {"%s unavailable", "%s cannot be reached"},
	KindCertExpired:       {"%s: certificate expired", "The TLS certificate of %s expired"},
	KindCertNotYetValid:   {"%s: certificate not yet valid", "The TLS certificate of %s is not valid yet"},
	KindCertRevoked:       {"%s: certificate revoked", "The TLS certificate of %s was revoked by its issuer"},
	KindCertUntrusted:     {"%s: certificate not trusted", "The TLS certificate of %s is not trusted by browsers and apps"},
	KindCertWrongName:     {"%s: certificate for the wrong name", "The TLS certificate of %s was issued for a different name"},
	KindMaintenancePage:   {"%s shows a maintenance page", "%s shows a maintenance page"},
	KindErrors:            {"%s: error responses", "%s answers with errors"},
	KindImages:            {"%s: images do not load", "Images from %s do not load"},
	KindContent:           {"%s: unexpected content", "%s serves unexpected content"},
	KindCertExpiring:      {"%s: certificate expires soon", "The TLS certificate of %s expires soon"},
	KindCertRenewal:       {"%s: certificate renewal overdue", "The TLS certificate of %s is overdue for renewal"},
	KindCertIssuerChanged: {"%s: certificate issuer changed", "The TLS certificate of %s now comes from a different issuer"},
	KindNodesDisagree:     {"%s: servers present different certificates", "The servers of %s present different certificates"},
	KindTLSOutdated:       {"%s: outdated encryption", "%s offers only an outdated TLS version"},
	KindSlow:              {"%s: slow responses", "%s responds slowly"},
	KindOther:             {"%s: service disruption", "%s is not working as expected"},
}

// kindOrder ranks kinds; a lower rank leads.
var kindOrder = func() map[Kind]int {
	order := []Kind{KindUnreachable, KindCertExpired, KindCertNotYetValid, KindCertRevoked, KindCertUntrusted,
		KindCertWrongName, KindMaintenancePage, KindErrors, KindImages, KindContent, KindCertExpiring, KindCertRenewal,
		KindCertIssuerChanged, KindNodesDisagree, KindTLSOutdated, KindSlow, KindOther, KindMisconfigured}
	m := make(map[Kind]int, len(order))
	for i, k := range order {
		m[k] = i
	}
	return m
}()

// KindOf groups a problem code into its kind. message is the problem's text,
// read only to tell a maintenance page from other unexpected content: a
// failed body_not_contains assertion whose forbidden text mentions
// maintenance.
func KindOf(code, message string) Kind {
	switch probes.Code(code) {
	case probes.CodeDNSFailed, probes.CodeConnectionFailed, probes.CodeTimeout, probes.CodeTLSHandshakeFailed:
		return KindUnreachable
	case probes.CodeBlockedAddress:
		return KindMisconfigured
	case probes.CodeCertExpired:
		return KindCertExpired
	case probes.CodeCertNotYetValid:
		return KindCertNotYetValid
	case probes.CodeCertUntrusted, probes.CodeCertChainIncomplete, probes.CodeCertIssuerUnexpected:
		return KindCertUntrusted
	case probes.CodeCertHostnameMismatch:
		return KindCertWrongName
	case probes.CodeCertExpiring:
		return KindCertExpiring
	case probes.CodeCertRenewalOverdue, codeCertRenewalDue:
		return KindCertRenewal
	case probes.CodeCertIssuerChanged:
		return KindCertIssuerChanged
	case codeCertRevoked:
		return KindCertRevoked
	case probes.CodeNodesDisagree:
		return KindNodesDisagree
	case probes.CodeTLSVersionLow:
		return KindTLSOutdated
	case probes.CodeStatusUnexpected:
		return KindErrors
	case probes.CodeBodyMismatch:
		if forbidsMaintenance(message) {
			return KindMaintenancePage
		}
		return KindContent
	case probes.CodeJSONMismatch, probes.CodeHeaderMismatch:
		return KindContent
	case probes.CodeImageInvalid:
		return KindImages
	case probes.CodeLatencyHigh:
		return KindSlow
	}
	return KindOther
}

// forbidsMaintenance reports whether a body_mismatch message is a
// body_not_contains assertion on text that mentions maintenance
// (probes/assert.go words it `body of URL on NODE contains "TEXT": …`).
func forbidsMaintenance(message string) bool {
	const marker = ` contains "`
	i := strings.Index(message, marker)
	if i < 0 || strings.HasSuffix(message[:i], " not") {
		return false
	}
	rest := message[i+len(marker):]
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		rest = rest[:j]
	}
	return strings.Contains(strings.ToLower(rest), "maintenance")
}

// Finding is one problem one region reported on one check.
type Finding struct {
	Region   string `json:"region"`
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Node     string `json:"node,omitempty"`
	Message  string `json:"message"`
}

// CheckTrouble is what one check of a component reports while in trouble.
type CheckTrouble struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	URL   string `json:"url"`
	State State  `json:"state"`
	// Regions are the healthy regions seeing the trouble.
	Regions []string `json:"regions"`
	// Nodes are every server address probed, to count "1 of 3 servers".
	Nodes    []string  `json:"nodes,omitempty"`
	Problems []Finding `json:"problems"`
}

// Trouble is a component's trouble: what its automatic incident tells.
type Trouble struct {
	Component string
	State     State // Down or Degraded
	Checks    []CheckTrouble
	// Excluded are probe regions not counted because they are unhealthy.
	Excluded []string
	// Partial: other checks of the component work (a partial outage), so
	// the component is not unavailable as a whole.
	Partial bool
}

// Text is an automatic incident's wording.
type Text struct {
	Title string
	// Body is the public update text (Markdown).
	Body string
	// Technical is the console-only detail: checks, URLs, codes, severities,
	// nodes, regions and raw messages.
	Technical string
	// Kinds are the kinds of trouble worded, in order; when they change,
	// the open incident says so.
	Kinds []Kind
}

// group is one kind of trouble on one host.
type group struct {
	kind    Kind
	host    string
	regions map[string]bool
	bad     map[string]bool // nodes with the problem
	nodes   map[string]bool // every node probed on the host
}

// Describe words a component's trouble. technical (the page's public_detail
// is technical) lets the public body add problem codes and server
// addresses; the plain body never names them.
func Describe(t Trouble, technical bool) Text {
	groups := map[[2]string]*group{}
	for _, c := range t.Checks {
		host := publicHost(c.URL)
		for _, p := range c.Problems {
			if p.Severity == string(probes.SeverityInfo) {
				continue
			}
			k := KindOf(p.Code, p.Message)
			if k == KindMisconfigured {
				continue
			}
			key := [2]string{string(k), host}
			g := groups[key]
			if g == nil {
				g = &group{kind: k, host: host, regions: map[string]bool{}, bad: map[string]bool{}, nodes: map[string]bool{}}
				groups[key] = g
			}
			g.regions[p.Region] = true
			if p.Node != "" {
				g.bad[p.Node] = true
			}
		}
	}
	for _, c := range t.Checks { // server totals per host, across the host's checks
		host := publicHost(c.URL)
		for key, g := range groups {
			if key[1] == host {
				for _, n := range c.Nodes {
					g.nodes[n] = true
				}
				for n := range g.bad {
					g.nodes[n] = true
				}
			}
		}
	}
	if len(groups) == 0 {
		g := &group{kind: KindOther, regions: map[string]bool{}}
		for _, c := range t.Checks {
			g.host = publicHost(c.URL)
			for _, r := range c.Regions {
				g.regions[r] = true
			}
		}
		groups[[2]string{string(KindOther), g.host}] = g
	}
	ordered := make([]*group, 0, len(groups))
	for _, g := range groups {
		ordered = append(ordered, g)
	}
	sort.Slice(ordered, func(i, j int) bool {
		a, b := ordered[i], ordered[j]
		if a.kind != b.kind {
			return kindOrder[a.kind] < kindOrder[b.kind]
		}
		return a.host < b.host
	})
	text := Text{Title: title(t, ordered[0].kind), Technical: technicalDetail(t), Kinds: KindsOf(t.Checks)}
	var sentences []string
	for _, g := range ordered {
		sentences = append(sentences, sentence(g, t.Component, technical, t.Checks))
	}
	text.Body = strings.Join(sentences, " ")
	return text
}

// KindsOf returns the kinds of trouble the checks report, in the order
// Describe words them: Describe(t, …).Kinds is KindsOf(t.Checks). It is
// what decides whether an open incident's story changed, without the cost
// of wording it.
func KindsOf(checks []CheckTrouble) []Kind {
	var kinds []Kind
	for _, c := range checks {
		for _, p := range c.Problems {
			if p.Severity == string(probes.SeverityInfo) {
				continue
			}
			if k := KindOf(p.Code, p.Message); k != KindMisconfigured && !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	if len(kinds) == 0 {
		return []Kind{KindOther}
	}
	sort.Slice(kinds, func(i, j int) bool { return kindOrder[kinds[i]] < kindOrder[kinds[j]] })
	return kinds
}

func title(t Trouble, k Kind) string {
	if k == KindUnreachable && (t.State != Down || t.Partial) {
		return t.Component + " partly unavailable"
	}
	return fmt.Sprintf(phrases[k].title, t.Component)
}

// sentence words one group: "The TLS certificate of media.acme.example
// expired on 1 of 3 servers; seen from Frankfurt and Virginia."
func sentence(g *group, component string, technical bool, checks []CheckTrouble) string {
	subject := g.host
	if subject == "" {
		subject = component
	}
	s := fmt.Sprintf(phrases[g.kind].sentence, subject)
	if n, total := len(g.bad), len(g.nodes); total > 1 && n > 0 {
		if n == total {
			s += fmt.Sprintf(" on all %d servers", total)
		} else {
			s += fmt.Sprintf(" on %d of %d servers", n, total)
		}
	}
	if where := seenFrom(sortedKeys(g.regions)); where != "" {
		s += "; " + where
	}
	s += "."
	if technical {
		s += technicalNote(g, checks)
	}
	return s
}

// technicalNote is what a page with public_detail technical adds to a
// sentence: the problem codes and the servers that reported them.
func technicalNote(g *group, checks []CheckTrouble) string {
	codes := map[string]bool{}
	for _, c := range checks {
		if publicHost(c.URL) != g.host {
			continue
		}
		for _, p := range c.Problems {
			if KindOf(p.Code, p.Message) == g.kind {
				codes["`"+p.Code+"`"] = true
			}
		}
	}
	note := " (" + strings.Join(sortedKeys(codes), ", ")
	if len(g.bad) > 0 {
		note += " on " + strings.Join(sortedKeys(g.bad), ", ")
	}
	return note + ")"
}

// publicHost is the part of a check's URL the public may read: its host
// name, without port, path or query; "" for an address literal or a URL
// that does not parse (the component's name stands in).
func publicHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	host := u.Hostname()
	if _, err := netip.ParseAddr(host); err != nil && host != "" {
		return strings.ToLower(host)
	}
	return ""
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
