package store

import (
	"math"
	"time"
)

// The inventory as exported: the console's JSON and CSV downloads and the
// admin API's GET /api/v1/certificates.

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
		RenewalOverdue: c.RenewalOverdue(now), IssuerChanged: c.IssuerChanged, Nodes: c.Nodes, Regions: c.Regions,
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
