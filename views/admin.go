package views

import (
	"fmt"
	"strings"

	"github.com/a-h/templ"
)

// AdminNav is what every console page's header needs.
type AdminNav struct {
	OrgName string
	Role    string
	CSRF    string
	CanEdit bool // editor or owner
	IsOwner bool
}

// AdminPage is a status page as the console lists it.
type AdminPage struct {
	ID         int64
	Slug       string
	Title      string
	Domain     string
	TimeZone   string
	Regions    string
	Managed    bool // written by pharos apply
	Components []AdminComponent
	Checks     []AdminCheck
}

// AdminComponent is a component as the console shows it.
type AdminComponent struct {
	ID          int64
	PageID      int64
	PageTitle   string
	Name        string
	Description string
	Status      string
	Managed     bool
	Checks      []AdminCheck
	// OpenIncidents of the page a hand-set status may be linked to.
	OpenIncidents []IncidentRow
}

// AdminCheck is a check as the console shows it.
type AdminCheck struct {
	ID            int64
	PageID        int64
	PageTitle     string
	ComponentID   int64
	ComponentName string
	Name          string
	URL           string
	Regions       string
	Interval      string
	Enabled       bool
	State         string
	Managed       bool
	Queued        bool // a "Run now" was just queued
}

// AdminToken is an API token as the console lists it (never the secret).
type AdminToken struct {
	ID       int64
	Name     string
	Prefix   string
	Role     string
	Created  string
	LastUsed string
	Revoked  string
}

// AdminHomeData is the console's start page.
type AdminHomeData struct {
	Nav    AdminNav
	Pages  []AdminPage
	Tokens []AdminToken
	// NewToken is a just-created token's secret, shown this once.
	NewToken     string
	NewTokenName string
	TokenError   string
	Overview     Overview
}

func pageURL(id int64) templ.SafeURL { return templ.SafeURL(fmt.Sprintf("/admin/pages/%d", id)) }
func componentURL(id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/components/%d", id))
}
func checkURL(id int64) templ.SafeURL { return templ.SafeURL(fmt.Sprintf("/admin/checks/%d", id)) }
func checkRunURL(id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/checks/%d/run", id))
}
func checkEnabledURL(id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/checks/%d/enabled", id))
}
func tokenRevokeURL(id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/tokens/%d/revoke", id))
}

func enabledText(b bool) string {
	if b {
		return "enabled"
	}
	return "paused"
}

// CheckDetail is what the check detail shows beyond the check itself: why
// it is in its state and how it has behaved.
type CheckDetail struct {
	StateSince string
	Regions    []RegionResult
	Problems   []ProblemRow
	Recent     []ResultRow
	Day        LatencyChart // 24 hours per region, from results
	Week       LatencyChart // 7 days, from daily rollups
	Changes    []StateChangeRow
	Incidents  []CheckIncidentRow
	Certs      []CertHistoryRow
}

// RegionResult is a check's latest result from one region, node by node.
type RegionResult struct {
	Region    string
	State     string
	CheckedAt string
	Error     string // why the probe could not run (state unknown)
	// Pruned: the result behind the latest state is past retention, so
	// only the states are known.
	Pruned bool
	Nodes  []NodeResult
}

// NodeResult is one node's answer in a region's latest result.
type NodeResult struct {
	Address    string
	State      string
	StatusCode int
	DNS        int64
	Connect    int64
	TLS        int64
	TTFB       int64
	Total      int64
	HasTLS     bool
	TLSVersion string
	Trusted    bool
	Subject    string
	Issuer     string
	NotAfter   string
	DaysLeft   int
	SHA256     string
	Problems   int
}

// ProblemRow is one problem of a latest result.
type ProblemRow struct {
	Region   string
	Node     string
	Code     string
	Severity string
	Message  string
}

// ResultRow is one stored result in the recent list.
type ResultRow struct {
	When       string
	Region     string
	State      string
	DurationMS int64
	Problems   string // the codes, comma-separated
}

// StateChangeRow is one region's results changing state.
type StateChangeRow struct {
	When   string
	Region string
	From   string
	To     string
}

// CheckIncidentRow is an incident of the check's component.
type CheckIncidentRow struct {
	ID        int64
	Name      string
	Status    string
	Impact    string
	Started   string
	Resolved  string
	Automatic bool
	Draft     bool
}

// CertHistoryRow is which certificate one node served, from when to when.
type CertHistoryRow struct {
	Region    string
	Node      string
	Subject   string
	Issuer    string
	Serial    string
	SHA256    string
	NotAfter  string
	FirstSeen string
	LastSeen  string
	Current   bool
}

// ShortHash abbreviates a fingerprint for tables; the full one is in the
// cell's title.
func ShortHash(h string) string {
	if len(h) <= 16 {
		return h
	}
	return h[:16] + "…"
}

func stateClass(state string) string { return "state-" + state }

// Overview is the top of the console's start page: what needs attention.
type Overview struct {
	OpenIncidents []IncidentRow
	Failing       []FailingCheckRow
	// NotReported are the enabled checks no probe has reported on yet:
	// whether they are up is not known.
	NotReported []CheckRef
	// Enabled counts the enabled checks: with none failing and none
	// unreported, every one of them is up.
	Enabled      int
	Expiring     []CertRow // served now, expiring soonest
	Regions      []RegionHealthRow
	RecentWindow string // "5 minutes"
}

// CheckRef names a check and where it is.
type CheckRef struct {
	ID        int64
	Name      string
	Page      string
	Component string
}

// notReportedText words how many checks have not reported yet.
func notReportedText(n int) string {
	if n == 1 {
		return "1 check has not reported yet: whether it is up is not known until a probe worker in its regions runs it."
	}
	return fmt.Sprintf("%d checks have not reported yet: whether they are up is not known until a probe worker in their regions runs them.", n)
}

// FailingCheckRow is a check failing or misconfigured now.
type FailingCheckRow struct {
	ID        int64
	Name      string
	Page      string
	Component string
	State     string
	Since     string
	Paused    bool
	Problems  string // "fra: cert_expired; nyc: timeout"
}

// RegionHealthRow is one probe region in the overview.
type RegionHealthRow struct {
	Region string
	// Health is healthy, unhealthy or unjudged; Reason says why.
	Health     string
	Reason     string
	Changed    string
	Recent     int
	LastResult string
	Workers    int    // probe workers seen in the window
	Missed     int    // the organisation's check rounds from the region that never reported in 24 h
	Canary     string // "reached", "unreachable: …", or "" when none is configured
}

// regionHealthText words a region's health.
func regionHealthText(h string) string {
	if h == "unjudged" {
		return "not judged yet"
	}
	return h
}

// CertRow is a certificate of the inventory.
type CertRow struct {
	SHA256         string
	Subject        string
	DNSNames       string
	Issuer         string
	Serial         string
	NotBefore      string
	NotAfter       string
	DaysLeft       int
	UsedPercent    int
	Nodes          []string
	Regions        []string
	Checks         []CertCheckLink
	FirstSeen      string
	LastSeen       string
	Current        bool
	NodesDisagree  bool
	RenewalOverdue bool
	IssuerChanged  bool
}

// CertCheckLink is a check a certificate was seen on.
type CertCheckLink struct {
	ID   int64
	Name string
}

func workersWord(n int) string {
	if n == 1 {
		return "worker"
	}
	return "workers"
}

// daysClass colours days left: red under a week, amber under three.
func daysClass(days int) string {
	switch {
	case days < 7:
		return "state-down"
	case days < 21:
		return "state-degraded"
	}
	return ""
}

// CertificatesData is the certificate inventory screen.
type CertificatesData struct {
	Nav         AdminNav
	Certs       []CertRow
	Total       int    // before filtering
	Matching    int    // the certificates that pass the filters
	First       int    // the position (from 1) of the page's first certificate; 0 when none
	PrevURL     string // the previous page with the same filters; "" on the first
	NextURL     string // the next page with the same filters; "" on the last
	Expiring    string // the expiring filter's days, "" for none
	Filter      string // nodes_disagree, renewal_overdue, issuer_changed or ""
	ExportQuery string // the filters as a query string
}

// CertFilters are the inventory's named filters, in the chooser's order.
var CertFilters = []struct{ Value, Label string }{
	{"", "every certificate"},
	{"nodes_disagree", "nodes disagree"},
	{"renewal_overdue", "renewal overdue"},
	{"issuer_changed", "issuer changed"},
}

func certExportURL(query, format string) templ.SafeURL {
	if query != "" {
		query += "&"
	}
	return templ.SafeURL("/admin/certificates?" + query + "format=" + format)
}

func joinComma(list []string) string { return strings.Join(list, ", ") }
