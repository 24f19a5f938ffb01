package store

import (
	"context"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"time"
)

// The certificate inventory as the console and the admin API read it:
// every certificate of the organisation with the places (check × region ×
// node) it was seen at, and what those sightings say together — whether it
// is still served, whether a host's nodes disagree, whether it replaced a
// certificate of another issuer.

// staleAfter is how far a place's newest sighting may lag behind the newest
// sighting of its check and region and still count as served now: a node
// that left DNS a day ago no longer serves anything.
const staleAfter = 24 * time.Hour

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
	Places    []CertPlace
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

// Nodes and Regions list the distinct nodes and regions it was seen on.
func (c InventoryCert) Nodes() []string {
	return distinct(c.Places, func(p CertPlace) string { return p.Node })
}

// Regions lists the distinct regions it was seen from.
func (c InventoryCert) Regions() []string {
	return distinct(c.Places, func(p CertPlace) string { return p.Region })
}

func distinct(ps []CertPlace, key func(CertPlace) string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, p := range ps {
		if k := key(p); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
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
	if f.ExpiringDays > 0 && (!c.Current || c.NotAfter.After(now.Add(time.Duration(f.ExpiringDays)*24*time.Hour))) {
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

// CertInventory returns every certificate of the organisation with its
// sightings, expiring soonest first.
func (s *Store) CertInventory(ctx context.Context, orgID int64) ([]InventoryCert, error) {
	certs, err := collect(ctx, s.db, "certificates", func(row rowScanner) (InventoryCert, error) {
		var c InventoryCert
		var names string
		if err := row.Scan(&c.SHA256, &c.Subject, &c.Issuer, &c.Serial, &names, &c.NotBefore, &c.NotAfter, &c.FirstSeen); err != nil {
			return c, err
		}
		c.NotBefore, c.NotAfter, c.FirstSeen = c.NotBefore.UTC(), c.NotAfter.UTC(), c.FirstSeen.UTC()
		return c, json.Unmarshal([]byte(names), &c.DNSNames)
	}, s.q(`SELECT sha256, subject, issuer, serial, dns_names, not_before, not_after, first_seen FROM certificates
		WHERE org_id = ? ORDER BY not_after, sha256`), orgID)
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
		i, ok := byHash[o.sha]
		if !ok {
			continue
		}
		c := &certs[i]
		c.Places = append(c.Places, o.CertPlace)
		if o.LastSeen.After(c.LastSeen) {
			c.LastSeen = o.LastSeen
		}
		c.Current = c.Current || o.Current
		c.NodesDisagree = c.NodesDisagree || o.disagree
		c.IssuerChanged = c.IssuerChanged || o.issuerChanged
	}
	return certs, nil
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
	out := make([]CertSightingRow, 0, len(obs))
	for _, o := range obs {
		r := byHash[o.sha]
		r.CertPlace, r.SHA256 = o.CertPlace, o.sha
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.Node != b.Node {
			return a.Node < b.Node
		}
		return a.FirstSeen.Before(b.FirstSeen)
	})
	return out, nil
}

// placeObs is an observation with what the other observations of its
// check say about it.
type placeObs struct {
	CertPlace
	sha           string
	disagree      bool
	issuerChanged bool
}

// certPlaces reads the observations of the checks that checksWhere selects
// from checks and obsWhere from cert_observations (both taking args), and
// judges them together: which are current, which nodes disagree, which
// issuers changed. The check names come in a query of their own: joined,
// they cost a hash join and a string per observation.
func (s *Store) certPlaces(ctx context.Context, checksWhere, obsWhere string, args ...any) ([]placeObs, error) {
	type named struct {
		id   int64
		name string
	}
	checks, err := collect(ctx, s.db, "checks of certificate observations", func(row rowScanner) (named, error) {
		var n named
		return n, row.Scan(&n.id, &n.name)
	}, s.q(`SELECT id, name FROM checks WHERE `+checksWhere), args...)
	if err != nil {
		return nil, err
	}
	names := make(map[int64]string, len(checks))
	for _, c := range checks {
		names[c.id] = c.name
	}
	obs, err := collect(ctx, s.db, "certificate observations", func(row rowScanner) (placeObs, error) {
		var o placeObs
		err := row.Scan(&o.CheckID, &o.Region, &o.Node, &o.sha, &o.Issuer, &o.FirstSeen, &o.LastSeen)
		o.FirstSeen, o.LastSeen = o.FirstSeen.UTC(), o.LastSeen.UTC()
		return o, err
	}, s.q(`SELECT check_id, region, node, sha256, issuer, first_seen, last_seen FROM cert_observations WHERE `+obsWhere), args...)
	if err != nil {
		return nil, err
	}
	kept := obs[:0]
	for _, o := range obs {
		if name, ok := names[o.CheckID]; ok {
			o.CheckName = name
			kept = append(kept, o)
		}
	}
	judgeObservations(kept)
	return kept, nil
}

// judgeObservations marks, in place, the current observation of each place
// (check × region × node), the current ones of a check and region whose
// nodes serve different certificates, and those that followed a
// certificate of another issuer at their place.
func judgeObservations(obs []placeObs) {
	sort.Slice(obs, func(i, j int) bool {
		a, b := obs[i], obs[j]
		switch {
		case a.CheckID != b.CheckID:
			return a.CheckID < b.CheckID
		case a.Region != b.Region:
			return a.Region < b.Region
		case a.Node != b.Node:
			return a.Node < b.Node
		case !a.FirstSeen.Equal(b.FirstSeen):
			return a.FirstSeen.Before(b.FirstSeen)
		}
		return a.LastSeen.Before(b.LastSeen)
	})
	// Groups of one check and region, then places within them.
	for start := 0; start < len(obs); {
		end := start
		var newest time.Time
		for end < len(obs) && obs[end].CheckID == obs[start].CheckID && obs[end].Region == obs[start].Region {
			if obs[end].LastSeen.After(newest) {
				newest = obs[end].LastSeen
			}
			end++
		}
		current := map[string]bool{}
		var cur []int
		for p := start; p < end; {
			q, latest := p, p
			for q < end && obs[q].Node == obs[p].Node {
				if q > p && obs[q].Issuer != obs[q-1].Issuer && obs[q].sha != obs[q-1].sha {
					obs[q].issuerChanged = true
				}
				if obs[q].LastSeen.After(obs[latest].LastSeen) || obs[q].LastSeen.Equal(obs[latest].LastSeen) {
					latest = q
				}
				q++
			}
			if newest.Sub(obs[latest].LastSeen) <= staleAfter {
				obs[latest].Current = true
				current[obs[latest].sha] = true
				cur = append(cur, latest)
			}
			p = q
		}
		if len(current) > 1 {
			for _, i := range cur {
				obs[i].disagree = true
			}
		}
		start = end
	}
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

// CertRecord is a certificate of the inventory as exported: the console's
// JSON download and GET /api/v1/certificates are this, one object per
// certificate.
type CertRecord struct {
	SHA256         string            `json:"sha256"`
	Subject        string            `json:"subject"`
	DNSNames       []string          `json:"dns_names"`
	Issuer         string            `json:"issuer"`
	Serial         string            `json:"serial"`
	NotBefore      time.Time         `json:"not_before"`
	NotAfter       time.Time         `json:"not_after"`
	DaysLeft       int               `json:"days_left"`
	LifetimeUsed   float64           `json:"lifetime_used"` // 0 to 1
	ServedNow      bool              `json:"served_now"`
	NodesDisagree  bool              `json:"nodes_disagree"`
	RenewalOverdue bool              `json:"renewal_overdue"`
	IssuerChanged  bool              `json:"issuer_changed"`
	Nodes          []string          `json:"nodes"`
	Regions        []string          `json:"regions"`
	FirstSeen      time.Time         `json:"first_seen"`
	LastSeen       time.Time         `json:"last_seen"`
	Seen           []CertPlaceRecord `json:"seen"`
}

// CertPlaceRecord is one place a certificate was seen, as exported.
type CertPlaceRecord struct {
	CheckID   int64     `json:"check_id"`
	Check     string    `json:"check"`
	Region    string    `json:"region"`
	Node      string    `json:"node"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	ServedNow bool      `json:"served_now"`
}

// Record is c as exported at now.
func (c InventoryCert) Record(now time.Time) CertRecord {
	names := c.DNSNames
	if names == nil {
		names = []string{}
	}
	r := CertRecord{SHA256: c.SHA256, Subject: c.Subject, DNSNames: names, Issuer: c.Issuer, Serial: c.Serial,
		NotBefore: c.NotBefore, NotAfter: c.NotAfter, DaysLeft: c.DaysLeft(now),
		LifetimeUsed: math.Round(c.LifetimeUsed(now)*1000) / 1000, ServedNow: c.Current, NodesDisagree: c.NodesDisagree,
		RenewalOverdue: c.RenewalOverdue(now), IssuerChanged: c.IssuerChanged, Nodes: c.Nodes(), Regions: c.Regions(),
		FirstSeen: c.FirstSeen, LastSeen: c.LastSeen, Seen: make([]CertPlaceRecord, 0, len(c.Places))}
	for _, p := range c.Places {
		r.Seen = append(r.Seen, CertPlaceRecord{CheckID: p.CheckID, Check: p.CheckName, Region: p.Region, Node: p.Node,
			FirstSeen: p.FirstSeen, LastSeen: p.LastSeen, ServedNow: p.Current})
	}
	return r
}

// CertDocument is the inventory's JSON export, the same from the console
// and from the admin API.
type CertDocument struct {
	Certificates []CertRecord `json:"certificates"`
}

// ExportCerts is list as exported at now.
func ExportCerts(list []InventoryCert, now time.Time) CertDocument {
	d := CertDocument{Certificates: make([]CertRecord, 0, len(list))}
	for _, c := range list {
		d.Certificates = append(d.Certificates, c.Record(now))
	}
	return d
}
