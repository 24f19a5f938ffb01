package schedule

import "time"

// The tick follows the plan unless Options.Tick fixes it.
//
// Every tick wakes the whole pipeline: the leader, its publishers, the
// workers that take the jobs, their result flushers. On a virtual machine
// each wake-up from idle costs far more than the work it does (cold
// caches, the kernel's wake-up path, the Go scheduler's spinning). At
// 1,000 checks every 30 s a tick of 100 ms, three or four checks each,
// cost `pharos run` 1.86-1.90 ms of CPU a check; this tick, 960 ms,
// 1.22-1.28 ms (deploy/bench/soak.sh, the README). A long tick, though,
// starts more checks at once: their handshakes queue for the CPU, and the
// timings they report grow with the queue. So the tick is as long as it
// takes the busiest region to fall due jobsPerTick jobs, between minTick
// and maxTick, and never more than a ticksPerInterval-th of the shortest
// interval, so that a check starts at most that late in its round.
const (
	minTick          = 100 * time.Millisecond
	maxTick          = time.Second
	jobsPerTick      = 32
	ticksPerInterval = 30
)

// TickFor returns the tick for a plan whose busiest region has perSecond
// jobs fall due a second and whose shortest interval is shortest (zero:
// no checks). deploy/bench/handshakefloor paces its handshakes by it.
func TickFor(perSecond float64, shortest time.Duration) time.Duration {
	tick := maxTick
	if perSecond > 0 {
		tick = min(tick, time.Duration(jobsPerTick/perSecond*float64(time.Second)).Round(time.Millisecond))
	}
	if shortest > 0 {
		tick = min(tick, shortest/ticksPerInterval)
	}
	return max(tick, minTick)
}

// planTick returns the tick for the plan's checks: Options.Tick when set,
// else TickFor the busiest region's rate and the shortest interval.
func (t *term) planTick() time.Duration {
	if t.s.opts.Tick > 0 {
		return t.s.opts.Tick
	}
	perRegion := map[string]float64{}
	var busiest float64
	var shortest time.Duration
	for _, e := range t.checks {
		if e.interval <= 0 {
			continue
		}
		if shortest == 0 || e.interval < shortest {
			shortest = e.interval
		}
		for _, r := range e.regions {
			perRegion[r.region] += float64(time.Second) / float64(e.interval)
			busiest = max(busiest, perRegion[r.region])
		}
	}
	return TickFor(busiest, shortest)
}
