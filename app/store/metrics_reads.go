package store

import (
	"context"
	"database/sql"
	"time"
)

// The read behind the per-check series of /metrics (PHAROS_METRICS_CHECKS):
// every enabled check's latest word from each region, across every
// organisation, with the names Prometheus labels it by. The operator of the
// service scrapes it, so unlike the console's reads it is not scoped to
// one organisation; page slugs are unique, so the page label tells the
// organisations apart.

// CheckRegionState is one enabled check's latest whole-check result from
// one region.
type CheckRegionState struct {
	OrgID     int64
	CheckID   int64
	Check     string // the check's name
	Component string // its component's name
	Page      string // its page's slug
	Region    string
	State     string // up, degraded, down or unknown
	CheckedAt time.Time
	// Duration is how long the latest probe took; HasDuration is false
	// once retention pruned its result.
	Duration    time.Duration
	HasDuration bool
	// CertNotAfter is when the soonest-expiring leaf certificate the
	// check's nodes serve now, seen from this region, expires; zero when
	// none was seen (plain HTTP, or no handshake yet).
	CertNotAfter time.Time
}

// CheckRegionStates returns the latest state of every enabled check in
// every region, ordered by check id and region, in four queries whatever
// the number of checks: the latest rows with their result's duration, then
// the checks' names, certificate observations and certificates the
// inventory judges which certificates are served now with.
func (s *Store) CheckRegionStates(ctx context.Context) ([]CheckRegionState, error) {
	out, err := collect(ctx, s.db, "check states for metrics", func(row rowScanner) (CheckRegionState, error) {
		var c CheckRegionState
		var ms sql.NullInt64
		err := row.Scan(&c.OrgID, &c.CheckID, &c.Check, &c.Component, &c.Page, &c.Region, &c.State, &c.CheckedAt, &ms)
		c.CheckedAt = c.CheckedAt.UTC()
		c.Duration, c.HasDuration = time.Duration(ms.Int64)*time.Millisecond, ms.Valid
		return c, err
	}, `SELECT c.org_id, c.id, c.name, co.name, p.slug, l.region, l.state, l.checked_at, COALESCE(l.duration_ms, r.duration_ms)
		FROM check_latest l
		JOIN checks c ON c.id = l.check_id
		JOIN components co ON co.id = c.component_id
		JOIN pages p ON p.id = c.page_id
		LEFT JOIN check_results r ON r.id = l.result_id
		WHERE l.node = '' AND c.enabled
		ORDER BY c.id, l.region`)
	if err != nil || len(out) == 0 {
		return out, err
	}
	orgOf := make(map[int64]int64, len(out))
	for _, c := range out {
		orgOf[c.CheckID] = c.OrgID
	}
	expiry, err := s.servedCertExpiry(ctx, orgOf)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].CertNotAfter = expiry[CheckRegion{out[i].CheckID, out[i].Region}]
	}
	return out, nil
}

// servedCertExpiry returns, per enabled check (orgOf maps each to its
// organisation) and region, the not_after of the soonest-expiring
// certificate its nodes serve now — "now" as the certificate inventory
// judges it (judgeObservations).
func (s *Store) servedCertExpiry(ctx context.Context, orgOf map[int64]int64) (map[CheckRegion]time.Time, error) {
	obs, err := s.certPlaces(ctx, `enabled`, `check_id IN (SELECT id FROM checks WHERE enabled)`)
	if err != nil {
		return nil, err
	}
	type orgCert struct {
		org int64
		sha string
	}
	type certExpiry struct {
		orgCert
		notAfter time.Time
	}
	certs, err := collect(ctx, s.db, "certificate expiry for metrics", func(row rowScanner) (certExpiry, error) {
		var c certExpiry
		err := row.Scan(&c.org, &c.sha, &c.notAfter)
		return c, err
	}, `SELECT org_id, sha256, not_after FROM certificates`)
	if err != nil {
		return nil, err
	}
	// A fingerprint is stored once per organisation; the observations do
	// not carry the organisation, so a certificate is looked up by
	// fingerprint and its organisation checked against its check's.
	notAfter := make(map[string][]certExpiry, len(certs))
	for _, c := range certs {
		notAfter[c.sha] = append(notAfter[c.sha], c)
	}
	out := map[CheckRegion]time.Time{}
	for _, o := range obs {
		if !o.Current {
			continue
		}
		for _, c := range notAfter[o.sha] {
			if org, ok := orgOf[o.CheckID]; !ok || c.org != org {
				continue
			}
			k := CheckRegion{o.CheckID, o.Region}
			if cur, ok := out[k]; !ok || c.notAfter.Before(cur) {
				out[k] = c.notAfter.UTC()
			}
		}
	}
	return out, nil
}
