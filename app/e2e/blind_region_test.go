package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/web"
)

// TestBlindRegionNeverReachesThePublic runs the distributed pipeline over
// real Redis and PostgreSQL with three regions, sin's network cut off from
// its first second, and a canary on loopback that every worker probes with
// its beacons. For an organisation with one check and for one with ten,
// the public summary never leaves "none" with every component
// operational, the stored component status never leaves operational and
// no incident opens; then a real outage of a target still goes down
// within the confirm rounds.
func TestBlindRegionNeverReachesThePublic(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 10} {
		t.Run(fmt.Sprintf("%d checks", n), func(t *testing.T) {
			blindRegion(t, n)
		})
	}
}

func blindRegion(t *testing.T, nChecks int) {
	h := newHarness(t)
	canary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) }))
	defer canary.Close()
	h.canary = canary.URL + "/healthz"
	regions := []string{"fra", "iad", "sin"}
	const interval = time.Second

	var targets []*target
	for i := range nChecks {
		tg := h.target(fmt.Sprintf("127.0.0.%d", 2+i), ok())
		targets = append(targets, tg)
		h.addCheck(fmt.Sprintf("edge-%d", i+1), tg, interval, regions)
	}
	srv, err := web.New(web.Options{Store: h.st, Bus: h.bus(bus.Options{}), Logger: h.log, SecretKey: strings.Repeat("k", 32),
		Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.start("web", srv)() // Run follows the pages' live events, so the summary is current
	addr, err := srv.Listening(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	watch := h.watchPublic("http://" + addr.String() + "/p/" + h.page.Slug + "/api/v2/summary.json")
	defer watch.stop()

	defer h.startAggregator()()
	defer h.startWorker("sin", "sin-1", cutOffProber(), bus.Options{}).stop() // blind from the first second
	defer h.startWorker("fra", "fra-1", realProber(), bus.Options{}).stop()
	defer h.startWorker("iad", "iad-1", realProber(), bus.Options{}).stop()
	_, stopScheduler := h.startScheduler()
	defer stopScheduler()

	waitFor(t, 45*time.Second, "sin judged unhealthy, every check up, 4 rounds from sin stored", func() bool {
		for _, s := range h.checkStates() {
			if s != "up" {
				return false
			}
		}
		return h.count(`SELECT count(*) FROM probe_regions WHERE region = 'sin' AND health = 'unhealthy'`) == 1 &&
			h.count(`SELECT count(*) FROM check_results WHERE region = 'sin'`) >= 4*nChecks
	})
	if n := h.count(`SELECT count(*) FROM check_results WHERE region = 'sin' AND state <> 'down'`); n != 0 {
		t.Fatalf("sin stored %d results that are not down: its network is not cut off", n)
	}
	if v := watch.violations(); len(v) > 0 {
		t.Fatalf("the blind region reached the public: %s", strings.Join(v, "; "))
	}
	if watch.polls() < 10 {
		t.Fatalf("the public summary was read %d times: the watch saw nothing", watch.polls())
	}
	if n := h.count(`SELECT count(*) FROM incidents WHERE org_id = $1`, h.org); n != 0 {
		t.Fatalf("%d incidents opened for a blind region", n)
	}

	// A real outage: the first target stops for everyone.
	watch.stop()
	stoppedAt := time.Now()
	targets[0].stop()
	waitFor(t, 10*time.Second, "the stopped target's component down on the public summary", func() bool {
		return h.count(`SELECT count(*) FROM components WHERE id = $1 AND status <> 'operational'`, h.comp.ID) == 1
	})
	// Confirm rounds (2) at a 1 s interval, plus the probe's refusal and the pipeline.
	if took := time.Since(stoppedAt); took > 6*interval {
		t.Errorf("the outage took %v to reach the component, want within the confirm rounds", took)
	}
	t.Logf("outage public after %v", time.Since(stoppedAt))
}

// publicWatch polls a page's summary and the stored component status,
// recording every moment either shows trouble.
type publicWatch struct {
	h    *harness
	url  string
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup

	mu    sync.Mutex
	seen  []string
	count int
}

func (h *harness) watchPublic(url string) *publicWatch {
	w := &publicWatch{h: h, url: url, done: make(chan struct{})}
	w.wg.Go(w.loop)
	return w
}

func (w *publicWatch) loop() {
	for {
		select {
		case <-w.done:
			return
		case <-time.After(100 * time.Millisecond):
		}
		w.poll()
	}
}

func (w *publicWatch) poll() {
	var doc struct {
		Status     struct{ Indicator string }
		Components []struct{ Name, Status string }
	}
	res, err := http.Get(w.url)
	if err != nil {
		w.record("summary: " + err.Error())
		return
	}
	err = json.NewDecoder(res.Body).Decode(&doc)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		w.record(fmt.Sprintf("summary: %d %v", res.StatusCode, err))
		return
	}
	if doc.Status.Indicator != "none" {
		w.record("indicator " + doc.Status.Indicator)
	}
	for _, c := range doc.Components {
		if c.Status != "operational" {
			w.record(c.Name + " " + c.Status)
		}
	}
	var stored string
	if err := w.h.st.DB().QueryRow(`SELECT status FROM components WHERE id = $1`, w.h.comp.ID).Scan(&stored); err == nil && stored != "operational" {
		w.record("stored component " + stored)
	}
	w.mu.Lock()
	w.count++
	w.mu.Unlock()
}

func (w *publicWatch) record(v string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.seen) < 20 {
		w.seen = append(w.seen, time.Now().Format("15:04:05.000")+" "+v)
	}
}

func (w *publicWatch) violations() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen...)
}

func (w *publicWatch) polls() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.count
}

func (w *publicWatch) stop() {
	w.once.Do(func() { close(w.done) })
	w.wg.Wait()
}
