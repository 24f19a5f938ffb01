package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"pharos/app/buildinfo"
	"pharos/app/bus"
	"pharos/app/config"
	"pharos/app/pipeline"
	"pharos/app/worker"
	"pharos/probes"
)

// blockingProber never returns until released, whatever its context says.
type blockingProber chan struct{}

func (b blockingProber) Run(ctx context.Context, spec probes.Spec) probes.Result {
	<-b
	return probes.Result{URL: spec.URL, State: probes.StateUp}
}

// A probe worker whose slots are mostly held by probes stuck past their
// deadline answers /healthz 503, so that the platform restarts it.
func TestProbeHealthzFailsWhenSlotsAreStuck(t *testing.T) {
	b := bus.NewMemory(bus.Options{})
	defer b.Close()
	release := make(blockingProber)
	defer close(release)
	w, err := worker.New(b, worker.Options{Region: "fra", Concurrency: 2, Prober: release,
		ProbeGrace: 50 * time.Millisecond, DrainTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h := workerHealth(w)
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		return rec
	}
	if rec := get(); rec.Code != http.StatusOK {
		t.Fatalf("idle worker: got %d, want 200", rec.Code)
	}
	for i := range 2 {
		job := pipeline.Job{ID: "job-" + string(rune('a'+i)), OrgID: 1, CheckID: int64(i + 1), Region: "fra",
			Due: time.Now(), Deadline: time.Now().Add(time.Minute),
			Spec: probes.Spec{URL: "https://example.org/", Timeout: probes.Duration(100 * time.Millisecond)}}
		payload, err := pipeline.Marshal(job)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Publish(t.Context(), pipeline.JobsStream("fra"), payload); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	deadline := time.Now().Add(10 * time.Second)
	rec := get()
	for rec.Code == http.StatusOK && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		rec = get()
	}
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "2 probes still running past their deadline") {
		t.Errorf("stuck worker: got %d %q, want 503 naming the stuck probes", rec.Code, rec.Body.String())
	}
}

// lockedBuffer is a log sink the test reads while the role writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestProbeMetricsBuildInfo: the /metrics of `pharos probe` carries
// pharos_build_info, as the web role's does, so a fleet of workers can be
// told apart by build.
func TestProbeMetricsBuildInfo(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	cfg := config.Config{Listen: "127.0.0.1:0", Region: "fra"} // no Redis: the in-process bus
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- runProbe(ctx, cfg, worker.Options{Region: "fra", Concurrency: 1, Logger: log}, log)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runProbe: %v", err)
		}
	})

	addr := ""
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); {
		for line := range strings.Lines(logs.String()) {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "probe worker listening" {
				addr = rec.Addr
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if addr == "" {
		t.Fatalf("the probe worker never logged its address:\n%s", logs.String())
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	bi := buildinfo.Read()
	want := fmt.Sprintf("pharos_build_info{goversion=%q,revision=%q,version=%q} 1\n", bi.GoVersion, bi.Revision, bi.Version)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		t.Errorf("GET /metrics: %d, body lacks %q:\n%s", resp.StatusCode, want, body)
	}
}

// TestProbeWorkerLogsEachAttributeOnce: every line of `pharos probe`
// names its region, and names it once (the worker adds it to its own lines).
func TestProbeWorkerLogsEachAttributeOnce(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	env := Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &logs, Getenv: func(string) string { return "" }}
	cfg := config.Config{Listen: "127.0.0.1:0", Region: "fra"} // no Redis: the in-process bus
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() { done <- probeWorker(ctx, cfg, 1, env) }()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), `msg="probe worker started"`); {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("the probe worker never logged its start:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("probe worker: exit %d, want 0; logs:\n%s", code, logs.String())
	}
	attr := regexp.MustCompile(`(?:^| )([a-z_.]+)=(?:"(?:[^"\\]|\\.)*"|\S*)`)
	for line := range strings.Lines(logs.String()) {
		seen := map[string]int{}
		for _, m := range attr.FindAllStringSubmatch(line, -1) {
			seen[m[1]]++
		}
		if seen["region"] != 1 {
			t.Errorf("region appears %d times, want 1: %s", seen["region"], line)
		}
		for key, n := range seen {
			if n > 1 && key != "region" {
				t.Errorf("%s appears %d times, want 1: %s", key, n, line)
			}
		}
	}
}
