package e2e

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// monitor polls the database every 50ms while a test runs and records what
// must never be seen: a check other than the watched one down, or the
// watched one down while fewer than quorum of the healthy regions report it
// down for confirm consecutive rounds. Each poll is one statement, so it
// sees a single committed state of checks and check_latest together (the
// aggregator writes both in one transaction).
type monitor struct {
	h       *harness
	watched int64
	healthy []string
	quorum  int
	confirm int

	quit chan struct{}
	done chan struct{}
	once sync.Once

	mu  sync.Mutex
	bad []string
	// unconfirmed is set once the watched check was seen reported down by
	// a healthy region for fewer than confirm rounds, and not down.
	unconfirmed bool
}

func (h *harness) watch(watched int64, healthy []string, quorum, confirm int) *monitor {
	m := &monitor{h: h, watched: watched, healthy: healthy, quorum: quorum, confirm: confirm,
		quit: make(chan struct{}), done: make(chan struct{})}
	go m.loop()
	h.t.Cleanup(m.stop)
	return m
}

func (m *monitor) stop() {
	m.once.Do(func() { close(m.quit) })
	<-m.done
}

func (m *monitor) loop() {
	defer close(m.done)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-m.quit:
			return
		case <-tick.C:
		}
		if err := m.poll(); err != nil {
			m.record(fmt.Sprintf("monitor: %v", err))
			return
		}
	}
}

// vote is one region's latest whole-check report.
type vote struct {
	region string
	state  string
	streak int
}

func (m *monitor) poll() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := m.h.st.DB().QueryContext(ctx, `SELECT c.id, c.state, COALESCE(l.region, ''), COALESCE(l.state, ''), COALESCE(l.streak, 0)
		FROM checks c LEFT JOIN check_latest l ON l.check_id = c.id AND l.node = ''
		WHERE c.org_id = $1`, m.h.org)
	if err != nil {
		return fmt.Errorf("poll states: %w", err)
	}
	defer rows.Close()
	states := map[int64]string{}
	var votes []vote
	for rows.Next() {
		var id int64
		var state string
		var v vote
		if err := rows.Scan(&id, &state, &v.region, &v.state, &v.streak); err != nil {
			return fmt.Errorf("poll states: %w", err)
		}
		states[id] = state
		if id == m.watched && slices.Contains(m.healthy, v.region) {
			votes = append(votes, v)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("poll states: %w", err)
	}
	for id, state := range states {
		if id != m.watched && state == "down" {
			m.record(fmt.Sprintf("check %d went down", id))
		}
	}
	confirmed, early := 0, 0
	for _, v := range votes {
		switch {
		case v.state == "down" && v.streak >= m.confirm:
			confirmed++
		case v.state == "down":
			early++
		}
	}
	switch {
	case states[m.watched] == "down" && confirmed < m.quorum:
		m.record(fmt.Sprintf("check %d down with %d confirmed votes of healthy regions (%+v), want at least %d",
			m.watched, confirmed, votes, m.quorum))
	case states[m.watched] != "down" && early > 0 && confirmed == 0:
		m.mu.Lock()
		m.unconfirmed = true
		m.mu.Unlock()
	}
	return nil
}

func (m *monitor) record(msg string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !slices.Contains(m.bad, msg) {
		m.bad = append(m.bad, msg)
	}
}

// violations returns what the monitor saw that must not happen.
func (m *monitor) violations() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.bad)
}

// sawUnconfirmed reports whether the watched check was seen reported down
// by healthy regions for fewer rounds than confirm, and not down.
func (m *monitor) sawUnconfirmed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.unconfirmed
}
