package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// The certificate inventory (DESIGN §5): each certificate once per
// organisation by SHA-256 fingerprint, and observations of it per check,
// region and node with first and last sighting.

// CertSighting is one leaf certificate seen on one node by one result.
type CertSighting struct {
	OrgID     int64
	CheckID   int64
	Region    string
	Node      string
	SHA256    string
	Subject   string
	Issuer    string
	Serial    string
	DNSNames  []string
	NotBefore time.Time
	NotAfter  time.Time
	Seen      time.Time
}

// CertKey names the place a certificate is observed: a check's node as seen
// from one region.
type CertKey struct {
	CheckID int64
	Region  string
	Node    string
}

// CertSeen is the certificate last observed at one place.
type CertSeen struct {
	SHA256   string
	Issuer   string
	LastSeen time.Time
}

// CheckRegion names one check as seen from one region.
type CheckRegion struct {
	CheckID int64
	Region  string
}

// LastCertificates returns, for every node observed at the given places
// (organisation id → check × region), the certificate seen there most
// recently: what a new sighting is compared with to report
// cert_issuer_changed.
func (tx *Tx) LastCertificates(ctx context.Context, places map[int64][]CheckRegion) (map[CertKey]CertSeen, error) {
	n := 0
	for _, ps := range places {
		n += len(ps)
	}
	latest := make(map[CertKey]CertSeen, n) // most places have one node
	for org, ps := range places {
		if err := tx.lastCertificates(ctx, org, ps, latest); err != nil {
			return nil, fmt.Errorf("store: last certificates: %w", err)
		}
	}
	return latest, nil
}

// lastCertificates reads only the observations of the given check ×
// region pairs, by the primary key: a batch holds results of many checks
// from one region or two, and the other regions' rows would be read for
// nothing. The pairs travel as one parameter (arrays on PostgreSQL, a JSON
// array on SQLite), so the statement text never changes. Both planners
// would rather read every observation of the organisation through the
// (org_id, sha256) index (30,000 rows and 30-40 ms a batch at 10,000
// checks on PostgreSQL, seen with auto_explain in the drain): on SQLite
// "+org_id" keeps it off that index, on PostgreSQL a LATERAL subquery
// behind OFFSET 0 looks each pair up by the primary key.
func (tx *Tx) lastCertificates(ctx context.Context, org int64, ps []CheckRegion, latest map[CertKey]CertSeen) error {
	var rows *sql.Rows
	var err error
	if tx.s.dialect == Postgres {
		checks, regions := make([]int64, len(ps)), make([]string, len(ps))
		for i, p := range ps {
			checks[i], regions[i] = p.CheckID, p.Region
		}
		rows, err = tx.tx.QueryContext(ctx, `SELECT o.check_id, o.region, o.node, o.sha256, o.issuer, o.last_seen
			FROM unnest($2::bigint[], $3::text[]) AS p(check_id, region)
				CROSS JOIN LATERAL (SELECT * FROM cert_observations o
					WHERE o.check_id = p.check_id AND o.region = p.region AND o.org_id = $1 OFFSET 0) o`, org, checks, regions)
	} else {
		pairs := make([][2]any, len(ps))
		for i, p := range ps {
			pairs[i] = [2]any{p.CheckID, p.Region}
		}
		list, jerr := json.Marshal(pairs)
		if jerr != nil {
			return jerr
		}
		rows, err = tx.tx.QueryContext(ctx, `SELECT check_id, region, node, sha256, issuer, last_seen FROM cert_observations
			WHERE +org_id = ? AND (check_id, region) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))`, org, string(list))
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k CertKey
		var c CertSeen
		if err := rows.Scan(&k.CheckID, &k.Region, &k.Node, &c.SHA256, &c.Issuer, &c.LastSeen); err != nil {
			return err
		}
		c.LastSeen = c.LastSeen.UTC()
		if cur, ok := latest[k]; !ok || c.LastSeen.After(cur.LastSeen) {
			latest[k] = c
		}
	}
	return rows.Err()
}

// RecordCertificates adds the sighted certificates to the inventory (once
// per fingerprint) and records or extends their observations.
func (tx *Tx) RecordCertificates(ctx context.Context, sightings []CertSighting) error {
	if len(sightings) == 0 {
		return nil
	}
	type certKey struct {
		org int64
		sha string
	}
	certs := map[certKey]CertSighting{}
	type obsKey struct {
		CertKey
		sha string
	}
	obs := map[obsKey]*struct {
		s           CertSighting
		first, last time.Time
	}{}
	for _, s := range sightings {
		ck := certKey{s.OrgID, s.SHA256}
		if _, ok := certs[ck]; !ok {
			certs[ck] = s
		}
		ok := obsKey{CertKey{s.CheckID, s.Region, s.Node}, s.SHA256}
		o, seen := obs[ok]
		if !seen {
			obs[ok] = &struct {
				s           CertSighting
				first, last time.Time
			}{s, s.Seen, s.Seen}
			continue
		}
		if s.Seen.Before(o.first) {
			o.first = s.Seen
		}
		if s.Seen.After(o.last) {
			o.last, o.s = s.Seen, s
		}
	}

	certList := make([]CertSighting, 0, len(certs))
	for _, c := range certs {
		certList = append(certList, c)
	}
	sort.Slice(certList, func(i, j int) bool {
		if certList[i].OrgID != certList[j].OrgID {
			return certList[i].OrgID < certList[j].OrgID
		}
		return certList[i].SHA256 < certList[j].SHA256
	})
	const certCols = 9
	err := tx.s.eachChunk(len(certList), certCols, `INSERT INTO certificates (org_id, sha256, subject, issuer, serial, dns_names,
		not_before, not_after, first_seen) VALUES `, ` ON CONFLICT (org_id, sha256) DO NOTHING`, func(start, end int, query string) error {
		args := make([]any, 0, (end-start)*certCols)
		for _, c := range certList[start:end] {
			names, err := encodeList(c.DNSNames)
			if err != nil {
				return err
			}
			args = append(args, c.OrgID, c.SHA256, c.Subject, c.Issuer, c.Serial, names, c.NotBefore.UTC(), c.NotAfter.UTC(), c.Seen.UTC())
		}
		if _, err := tx.tx.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("store: record certificates: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}

	keys := make([]obsKey, 0, len(obs))
	for k := range obs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		switch {
		case a.CheckID != b.CheckID:
			return a.CheckID < b.CheckID
		case a.Region != b.Region:
			return a.Region < b.Region
		case a.Node != b.Node:
			return a.Node < b.Node
		}
		return a.sha < b.sha
	})
	const obsCols = 8
	return tx.s.eachChunk(len(keys), obsCols, `INSERT INTO cert_observations (org_id, check_id, region, node, sha256, issuer,
		first_seen, last_seen) VALUES `, ` ON CONFLICT (check_id, region, node, sha256) DO UPDATE SET
		last_seen = CASE WHEN excluded.last_seen > cert_observations.last_seen THEN excluded.last_seen ELSE cert_observations.last_seen END`,
		func(start, end int, query string) error {
			args := make([]any, 0, (end-start)*obsCols)
			for _, k := range keys[start:end] {
				o := obs[k]
				args = append(args, o.s.OrgID, k.CheckID, k.Region, k.Node, k.sha, o.s.Issuer, o.first.UTC(), o.last.UTC())
			}
			if _, err := tx.tx.ExecContext(ctx, query, args...); err != nil {
				return fmt.Errorf("store: record certificate observations: %w", err)
			}
			return nil
		})
}
