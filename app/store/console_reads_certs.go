package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"
)

// The certificate inventory as the console and the admin API read it:
// every certificate of the organisation with the places (check × region ×
// node) it was seen at, and what those sightings say together — whether it
// is still served, whether a host's nodes disagree, whether it replaced a
// certificate of another issuer (judged in console_reads_certs_judge.go).
// The exports read the whole inventory; the console's screens read a page
// of it, or the few certificates served now that expire soonest, and judge
// only the checks those were seen on.

// CertPlace is one certificate's sightings at one place.
type CertPlace struct {
	CheckID   int64
	CheckName string
	Region    string
	Node      string
	Issuer    string
	FirstSeen time.Time
	LastSeen  time.Time
	// Current: this is the certificate the place served last, and the place
	// is still probed.
	Current bool
}

// CertCheck is a check a certificate was seen on.
type CertCheck struct {
	ID   int64
	Name string
}

// InventoryCert is one certificate of the inventory with its sightings.
type InventoryCert struct {
	SHA256    string
	Subject   string
	Issuer    string
	Serial    string
	DNSNames  []string
	NotBefore time.Time
	NotAfter  time.Time
	FirstSeen time.Time
	LastSeen  time.Time
	// Checks (by id), Nodes and Regions (sorted) it was seen on.
	Checks  []CertCheck
	Nodes   []string
	Regions []string
	// Places are its sightings place by place, by check, region, node and
	// first sighting.
	Places []CertPlace
	// Current: some place serves it now.
	Current bool
	// NodesDisagree: a check's nodes, seen from one region, serve this and
	// another certificate now.
	NodesDisagree bool
	// IssuerChanged: at some place it followed a certificate of another
	// issuer.
	IssuerChanged bool
}

// DaysLeft is how many whole days remain until NotAfter, truncated as the
// probe's days_left is (DESIGN §6: 31 hours ago is -1).
func (c InventoryCert) DaysLeft(now time.Time) int {
	return int(c.NotAfter.Sub(now).Hours() / 24)
}

// LifetimeUsed is the share of the validity period gone by at now, from 0
// to 1.
func (c InventoryCert) LifetimeUsed(now time.Time) float64 {
	life := c.NotAfter.Sub(c.NotBefore)
	if life <= 0 {
		return 1
	}
	return min(1, max(0, float64(now.Sub(c.NotBefore))/float64(life)))
}

// RenewalOverdue: more than two thirds of the lifetime are used and it is
// still served (DESIGN §6 cert_renewal_overdue).
func (c InventoryCert) RenewalOverdue(now time.Time) bool {
	return c.Current && c.LifetimeUsed(now) > 2.0/3
}

// Certificate filters of the inventory.
const (
	CertFilterNodesDisagree  = "nodes_disagree"
	CertFilterRenewalOverdue = "renewal_overdue"
	CertFilterIssuerChanged  = "issuer_changed"
)

// CertFilter narrows the inventory. The zero value keeps everything.
type CertFilter struct {
	// ExpiringDays > 0 keeps certificates still served that expire within
	// that many days (or have expired).
	ExpiringDays int
	// Kind is one of the CertFilter constants, or "".
	Kind string
}

// Valid reports whether f's kind is known and its days not negative.
func (f CertFilter) Valid() bool {
	switch f.Kind {
	case "", CertFilterNodesDisagree, CertFilterRenewalOverdue, CertFilterIssuerChanged:
		return f.ExpiringDays >= 0
	}
	return false
}

// Keep reports whether c passes f at now.
func (f CertFilter) Keep(c InventoryCert, now time.Time) bool {
	if f.ExpiringDays > 0 && (!c.Current || c.NotAfter.After(f.expiresBy(now))) {
		return false
	}
	switch f.Kind {
	case CertFilterNodesDisagree:
		return c.NodesDisagree
	case CertFilterRenewalOverdue:
		return c.RenewalOverdue(now)
	case CertFilterIssuerChanged:
		return c.IssuerChanged
	}
	return true
}

func (f CertFilter) expiresBy(now time.Time) time.Time {
	return now.Add(time.Duration(f.ExpiringDays) * 24 * time.Hour)
}

// CertPage is a page of the inventory as the console lists it.
type CertPage struct {
	Certs    []InventoryCert
	Matching int // the certificates that pass the filter
	Total    int // every certificate of the organisation
}

// CertInventoryPage returns the certificates that pass f at now, expiring
// soonest first, from the offset-th on, at most limit of them. Without a
// filter only the page's certificates are read and judged; the expiring
// filter judges those that expire in time; the other filters judge the
// whole inventory.
func (s *Store) CertInventoryPage(ctx context.Context, orgID int64, f CertFilter, now time.Time, offset, limit int) (CertPage, error) {
	var p CertPage
	var err error
	if p.Total, err = s.CertCount(ctx, orgID); err != nil {
		return p, err
	}
	var certs []InventoryCert
	switch {
	case f.Kind == "" && f.ExpiringDays == 0:
		p.Matching = p.Total
		if p.Certs, err = s.certRows(ctx, `c.org_id = ?`, ` LIMIT ? OFFSET ?`, orgID, limit, offset); err != nil {
			return p, err
		}
		return p, s.judgeCerts(ctx, orgID, p.Certs)
	case f.Kind == "":
		certs, err = s.certRows(ctx, `c.org_id = ? AND c.not_after <= ?`, ``, orgID, f.expiresBy(now).UTC())
		if err == nil {
			err = s.judgeCerts(ctx, orgID, certs)
		}
	default:
		certs, err = s.CertInventory(ctx, orgID)
	}
	if err != nil {
		return p, err
	}
	certs = FilterCerts(certs, f, now)
	p.Matching = len(certs)
	p.Certs = certs[min(offset, len(certs)):min(offset+limit, len(certs))]
	return p, nil
}

// ExpiringCerts returns the n certificates of the organisation served now
// that expire soonest. The certificates are walked by expiry through their
// index, and only those still the latest of some place (a replaced one is
// not) are judged, a few at a time, until n are served now.
func (s *Store) ExpiringCerts(ctx context.Context, orgID int64, n int) ([]InventoryCert, error) {
	var out []InventoryCert
	batch := max(2*n, 10)
	for offset := 0; len(out) < n; offset += batch {
		certs, err := s.certRows(ctx, `c.org_id = ? AND EXISTS (SELECT 1 FROM cert_observations o
			WHERE o.org_id = c.org_id AND o.sha256 = c.sha256 AND NOT EXISTS (SELECT 1 FROM cert_observations p
				WHERE p.check_id = o.check_id AND p.region = o.region AND p.node = o.node AND p.last_seen > o.last_seen))`,
			` LIMIT ? OFFSET ?`, orgID, batch, offset)
		if err != nil {
			return nil, err
		}
		if err := s.judgeCerts(ctx, orgID, certs); err != nil {
			return nil, err
		}
		for _, c := range certs {
			if c.Current && len(out) < n {
				out = append(out, c)
			}
		}
		if len(certs) < batch {
			break
		}
	}
	return out, nil
}

// CertCount returns how many certificates the organisation has.
func (s *Store) CertCount(ctx context.Context, orgID int64) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM certificates WHERE org_id = ?`), orgID).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count certificates: %w", err)
	}
	return n, nil
}

// CertInventory returns every certificate of the organisation with its
// sightings place by place, expiring soonest first: what the exports hold.
func (s *Store) CertInventory(ctx context.Context, orgID int64) ([]InventoryCert, error) {
	certs, err := s.certRows(ctx, `c.org_id = ?`, ``, orgID)
	if err != nil {
		return nil, err
	}
	// Through checks, whose org index leads to each check's observations
	// by the primary key.
	obs, err := s.certPlaces(ctx, `id IN (SELECT id FROM checks WHERE org_id = ?) AND org_id = ?`,
		`check_id IN (SELECT id FROM checks WHERE org_id = ?) AND org_id = ?`, orgID, orgID)
	if err != nil {
		return nil, err
	}
	byHash := make(map[string]int, len(certs))
	for i, c := range certs {
		byHash[c.SHA256] = i
	}
	for _, o := range obs {
		if i, ok := byHash[o.sha]; ok {
			certs[i].addPlace(o)
		}
	}
	for i := range certs {
		certs[i].tidy()
	}
	return certs, nil
}

// certRows reads the certificates c that where selects, expiring soonest
// first, then tail (a LIMIT), without their sightings.
func (s *Store) certRows(ctx context.Context, where, tail string, args ...any) ([]InventoryCert, error) {
	return collect(ctx, s.db, "certificates", func(row rowScanner) (InventoryCert, error) {
		var c InventoryCert
		var names string
		if err := row.Scan(&c.SHA256, &c.Subject, &c.Issuer, &c.Serial, &names, &c.NotBefore, &c.NotAfter, &c.FirstSeen); err != nil {
			return c, err
		}
		c.NotBefore, c.NotAfter, c.FirstSeen = c.NotBefore.UTC(), c.NotAfter.UTC(), c.FirstSeen.UTC()
		return c, json.Unmarshal([]byte(names), &c.DNSNames)
	}, s.q(`SELECT c.sha256, c.subject, c.issuer, c.serial, c.dns_names, c.not_before, c.not_after, c.first_seen
		FROM certificates c WHERE `+where+` ORDER BY c.not_after, c.sha256`+tail), args...)
}

// addPlace adds to c an observation of it at one place.
func (c *InventoryCert) addPlace(o placeObs) {
	c.Places = append(c.Places, o.CertPlace)
	c.Checks = append(c.Checks, CertCheck{ID: o.CheckID, Name: o.CheckName})
	c.Regions = append(c.Regions, o.Region)
	c.Nodes = append(c.Nodes, o.Node)
	if o.LastSeen.After(c.LastSeen) {
		c.LastSeen = o.LastSeen
	}
	c.Current = c.Current || o.Current
	c.NodesDisagree = c.NodesDisagree || o.disagree
	c.IssuerChanged = c.IssuerChanged || o.issuerChanged
}

// tidy sorts c's checks by id and its nodes and regions, each once.
func (c *InventoryCert) tidy() {
	sort.Slice(c.Checks, func(i, j int) bool { return c.Checks[i].ID < c.Checks[j].ID })
	c.Checks = slices.CompactFunc(c.Checks, func(a, b CertCheck) bool { return a.ID == b.ID })
	c.Nodes, c.Regions = sortedSet(c.Nodes), sortedSet(c.Regions)
}

// sortedSet is list sorted, each value once; never nil.
func sortedSet(list []string) []string {
	if list == nil {
		return []string{}
	}
	sort.Strings(list)
	return slices.Compact(list)
}

// CertSightingRow is one place's sightings of one certificate, with the
// certificate: a line of a check's certificate history.
type CertSightingRow struct {
	CertPlace
	SHA256    string
	Subject   string
	Serial    string
	NotBefore time.Time
	NotAfter  time.Time
}

// CheckCertHistory returns which certificate each node of the check served
// when, by region and node, oldest sighting first.
func (s *Store) CheckCertHistory(ctx context.Context, orgID, checkID int64) ([]CertSightingRow, error) {
	obs, err := s.certPlaces(ctx, `id = ? AND org_id = ?`, `check_id = ? AND org_id = ?`, checkID, orgID)
	if err != nil {
		return nil, err
	}
	certs, err := collect(ctx, s.db, "certificates of check", func(row rowScanner) (CertSightingRow, error) {
		var c CertSightingRow
		err := row.Scan(&c.SHA256, &c.Subject, &c.Serial, &c.NotBefore, &c.NotAfter)
		c.NotBefore, c.NotAfter = c.NotBefore.UTC(), c.NotAfter.UTC()
		return c, err
	}, s.q(`SELECT sha256, subject, serial, not_before, not_after FROM certificates WHERE org_id = ? AND sha256 IN
		(SELECT sha256 FROM cert_observations WHERE check_id = ? AND org_id = ?)`), orgID, checkID, orgID)
	if err != nil {
		return nil, err
	}
	byHash := map[string]CertSightingRow{}
	for _, c := range certs {
		byHash[c.SHA256] = c
	}
	// The places come by region, node and first sighting.
	out := make([]CertSightingRow, 0, len(obs))
	for _, o := range obs {
		r := byHash[o.sha]
		r.CertPlace, r.SHA256 = o.CertPlace, o.sha
		out = append(out, r)
	}
	return out, nil
}

// CertFilterError is a filter parameter the inventory does not know.
type CertFilterError struct {
	Field   string
	Message string
}

func (e *CertFilterError) Error() string { return e.Field + ": " + e.Message }

// ParseCertFilter reads the inventory's filter parameters as the console
// and the API take them: expiring (days, "" for none) and filter (one of
// the CertFilter constants, or "").
func ParseCertFilter(expiring, kind string) (CertFilter, error) {
	f := CertFilter{Kind: kind}
	if expiring != "" {
		n, err := strconv.Atoi(expiring)
		if err != nil || n < 0 || n > 3650 {
			return f, &CertFilterError{Field: "expiring", Message: "want a number of days from 0 to 3650"}
		}
		f.ExpiringDays = n
	}
	if !f.Valid() {
		return f, &CertFilterError{Field: "filter", Message: "want nodes_disagree, renewal_overdue or issuer_changed"}
	}
	return f, nil
}

// FilterCerts returns the certificates of list that pass f at now.
func FilterCerts(list []InventoryCert, f CertFilter, now time.Time) []InventoryCert {
	out := make([]InventoryCert, 0, len(list))
	for _, c := range list {
		if f.Keep(c, now) {
			out = append(out, c)
		}
	}
	return out
}
