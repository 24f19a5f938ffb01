package store

import (
	"context"
	"encoding/json"
	"sort"
	"time"
)

// How the certificate observations are judged: which observation is the
// current one of its place (check × region × node), which current ones of a
// check and region disagree, which followed a certificate of another issuer
// at their place. The judgement needs every observation of a check and
// region; the reads choose the certificates first (through the indexes)
// and judge only the checks those were seen on.
//
// The judgement is made here rather than in SQL: with window functions
// (ROW_NUMBER, LAG and MAX over the place and the check's region) the
// same judgement of 12,000 observations took PostgreSQL three times as
// long as reading them and judging them here, and DISTINCT ON needs an
// index on last_seen, which every round updates (it would end the HOT
// updates cert_observations is tuned for).

// staleAfter is how far a place's newest sighting may lag behind the newest
// sighting of its check and region and still count as served now: a node
// that left DNS a day ago no longer serves anything.
const staleAfter = 24 * time.Hour

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
// judges them together, ordered by check, region, node and first sighting.
// The check names come in a query of their own: joined, they cost a hash
// join and a string per observation.
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

// judgeCerts fills certs (of one organisation) with their sightings,
// judged with every other observation of the checks they were seen on.
func (s *Store) judgeCerts(ctx context.Context, orgID int64, certs []InventoryCert) error {
	const chunk = 500
	for start := 0; start < len(certs); start += chunk {
		part := certs[start:min(len(certs), start+chunk)]
		shas := make([]string, len(part))
		byHash := make(map[string]*InventoryCert, len(part))
		for i := range part {
			shas[i], byHash[part[i].SHA256] = part[i].SHA256, &part[i]
		}
		// The checks first, then their observations by the primary key: in
		// one query, PostgreSQL cannot tell how few checks the subquery
		// yields and reads the organisation's observations whole.
		in, shaArgs := s.anyText("sha256", shas)
		checks, err := collect(ctx, s.db, "checks of certificates", func(row rowScanner) (int64, error) {
			var id int64
			return id, row.Scan(&id)
		}, s.q(`SELECT DISTINCT check_id FROM cert_observations WHERE org_id = ? AND `+in), append([]any{orgID}, shaArgs...)...)
		if err != nil {
			return err
		}
		if len(checks) == 0 {
			continue
		}
		byCheck, args := s.anyOf("check_id", orgID, checks)
		byID, _ := s.anyOf("id", orgID, checks)
		obs, err := s.certPlaces(ctx, `org_id = ? AND `+byID, `org_id = ? AND `+byCheck, args...)
		if err != nil {
			return err
		}
		for _, o := range obs {
			if c, ok := byHash[o.sha]; ok {
				c.addPlace(o)
			}
		}
	}
	for i := range certs {
		certs[i].tidy()
	}
	return nil
}

// anyText is "col = ANY(?)" on PostgreSQL, "col IN (SELECT value FROM
// json_each(?))" on SQLite, with its one argument (see anyOf).
func (s *Store) anyText(col string, values []string) (string, []any) {
	if s.dialect == Postgres {
		return col + " = ANY(?)", []any{values}
	}
	list, _ := json.Marshal(values) // strings always encode
	return col + " IN (SELECT value FROM json_each(?))", []any{string(list)}
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
