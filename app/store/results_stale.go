package store

import (
	"context"
	"fmt"
	"time"
)

// What the aggregator's sweep reads to find checks nobody probes: a check
// whose regions have no live worker never gets a result, so no batch ever
// judges it; only time can tell (DESIGN §4, misconfigured).

// RegionsSeenSince returns the probe regions that reported a whole-check
// result checked at or after since, in any organisation (workers serve
// them all): the regions with a live worker.
func (tx *Tx) RegionsSeenSince(ctx context.Context, since time.Time) (map[string]bool, error) {
	regions, err := tx.queryStrings(ctx, tx.s.q(`SELECT DISTINCT region FROM check_latest WHERE node = '' AND checked_at >= ?`), since.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: regions seen since %s: %w", since.Format(time.RFC3339), err)
	}
	out := make(map[string]bool, len(regions))
	for _, r := range regions {
		out[r] = true
	}
	return out, nil
}

// SweepableChecks returns the enabled checks of every organisation that are
// not misconfigured already and whose configuration has not changed since
// before: the candidates for "no worker probes it".
func (tx *Tx) SweepableChecks(ctx context.Context, before time.Time) ([]Check, error) {
	rows, err := tx.tx.QueryContext(ctx, tx.s.q(`SELECT `+checkColumns+` FROM checks
		WHERE enabled AND state <> 'misconfigured' AND updated_at < ? ORDER BY org_id, id`), before.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: sweepable checks: %w", err)
	}
	defer rows.Close()
	var out []Check
	for rows.Next() {
		c, err := scanCheck(rows)
		if err != nil {
			return nil, fmt.Errorf("store: sweepable checks: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sweepable checks: %w", err)
	}
	return out, nil
}
