package schedule

import (
	"context"
	"fmt"
	"time"

	"pharos/app/pipeline"
)

// RunNow enqueues one job for every region of the organisation's check on
// the regions' run-now streams (pipeline.RunNowStream), which workers read
// before their scheduled jobs. It works on any scheduler, leader or not,
// and on a disabled check too: the operator asked. It returns an error
// wrapping store.ErrNotFound when the check is not the organisation's.
//
// The job's round is the check's latest round due at or before now, and
// its deadline one interval away.
func (s *Scheduler) RunNow(ctx context.Context, orgID, checkID int64) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.PublishTimeout)
	defer cancel()
	c, err := s.catalog.Check(ctx, orgID, checkID)
	if err != nil {
		return fmt.Errorf("schedule: run now: %w", err)
	}
	e := &entry{}
	if err := s.metrics.compile(e, c); err != nil {
		return fmt.Errorf("schedule: run now: %w", err)
	}
	now := time.Now().UTC()
	round, due := pipeline.Round(c.ID, c.Interval, now)
	if due.After(now) {
		round--
	}
	for i := range e.regions {
		t := &e.regions[i]
		payload, err := encode(t, round, now, deadline(now, c.Interval), true)
		if err != nil {
			return err
		}
		if _, err := s.bus.Publish(ctx, pipeline.RunNowStream(t.region), payload); err != nil {
			return fmt.Errorf("schedule: run now check %d in %s: %w", c.ID, t.region, err)
		}
		s.metrics.runNow.WithLabelValues(t.region).Inc()
	}
	return nil
}
