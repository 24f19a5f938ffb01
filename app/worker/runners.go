package worker

import (
	"sync"
	"sync/atomic"
	"time"
)

// runnerIdle is how long a runner goroutine waits for its next function
// before it ends.
const runnerIdle = time.Minute

// runners runs functions on goroutines kept from earlier ones. A probe's
// TLS handshake grows its goroutine's stack to tens of kilobytes; a fresh
// goroutine for every job and probe copied that stack several times a
// probe (runtime.newstack was 6 % of `pharos run`'s CPU at 1,000 checks
// every 30 s). A function is handed to an idle runner if there is one,
// else to a new goroutine that stays for the next; one idle for runnerIdle,
// or idle after close, ends.
type runners struct {
	tasks chan func()
	quit  chan struct{}
	once  sync.Once
	live  atomic.Int64 // runner goroutines, for tests
}

func newRunners() *runners {
	return &runners{tasks: make(chan func()), quit: make(chan struct{})}
}

// Go runs f on a runner and does not wait for it.
func (r *runners) Go(f func()) {
	select {
	case r.tasks <- f:
	default:
		r.live.Add(1)
		go r.loop(f)
	}
}

func (r *runners) loop(f func()) {
	defer r.live.Add(-1)
	idle := time.NewTimer(runnerIdle)
	defer idle.Stop()
	for {
		f()
		f = nil // not kept alive while idle
		idle.Reset(runnerIdle)
		select {
		case f = <-r.tasks:
		case <-idle.C:
			return
		case <-r.quit:
			return
		}
	}
}

// close ends the idle runners, and each busy one once its function returns.
func (r *runners) close() {
	r.once.Do(func() { close(r.quit) })
}
