package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

// BenchmarkWebhookFanOut10k: one incident update to 10,000 webhook
// subscribers on loopback, through a running notifier. Reports deliveries
// per second, the time from the update's commit to the first delivery and
// the 99th percentile of commit → delivery over all 10,000, the process's
// CPU time per delivery and its peak RSS (receiver and, for SQLite, the
// database included).
//
//	go test ./app/notify/ -run '^$' -bench WebhookFanOut10k -benchtime 3x
func BenchmarkWebhookFanOut10k(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchFanOut(b, storetest.SQLite(b), 10_000) })
	b.Run("postgres", func(b *testing.B) { benchFanOut(b, storetest.Postgres(b), 10_000) })
}

func benchFanOut(b *testing.B, s *store.Store, subscribers int) {
	ctx := context.Background()
	orgID, pageID, _ := seedPage(b, s)

	var mu sync.Mutex
	var arrivals []time.Time
	var count atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		mu.Lock()
		arrivals = append(arrivals, at)
		mu.Unlock()
		count.Add(1)
	}))
	srv.Config.MaxHeaderBytes = 1 << 16
	srv.Start()
	defer srv.Close()
	seedWebhooks(b, s, orgID, pageID, srv.URL, subscribers)

	hook := notify.NewWebhook(notify.WebhookOptions{AllowPrivate: true, MaxIdlePerHost: notify.DefaultConcurrency})
	defer hook.Close()
	n, err := notify.New(notify.Options{Store: s, Senders: map[string]notify.Sender{notify.KindWebhook: hook},
		BaseURL: "https://status.example"})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- n.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()

	w, err := s.CreateIncident(ctx, orgID, editor, store.NewIncident{PageID: pageID, Name: "bench", Status: "investigating",
		Body: "start", DeliverNotifications: false})
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	var firsts, p99s []time.Duration
	var cpu time.Duration
	b.ResetTimer()
	for i := range b.N {
		mu.Lock()
		arrivals = arrivals[:0]
		mu.Unlock()
		count.Store(0)
		before := cpuTime(b)
		start := time.Now()
		if _, err := s.AddIncidentUpdate(ctx, orgID, editor, w.IncidentID, store.IncidentChangeInput{
			Status: "identified", Body: fmt.Sprintf("update %d", i), DeliverNotifications: true}); err != nil {
			b.Fatal(err)
		}
		committed := time.Now()
		deadline := committed.Add(5 * time.Minute)
		for count.Load() < int64(subscribers) {
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d delivered within 5 min", count.Load(), subscribers)
			}
			time.Sleep(2 * time.Millisecond)
		}
		total += time.Since(start)
		cpu += cpuTime(b) - before
		mu.Lock()
		lat := make([]time.Duration, len(arrivals))
		for j, at := range arrivals {
			lat[j] = at.Sub(committed)
		}
		mu.Unlock()
		slices.Sort(lat)
		firsts = append(firsts, lat[0])
		p99s = append(p99s, lat[len(lat)*99/100])
	}
	b.StopTimer()
	deliveries := float64(b.N * subscribers)
	b.ReportMetric(deliveries/total.Seconds(), "deliveries/s")
	b.ReportMetric(float64(slices.Max(firsts).Milliseconds()), "max_first_ms")
	b.ReportMetric(float64(slices.Max(p99s).Milliseconds()), "p99_delivery_ms")
	b.ReportMetric(float64(cpu.Microseconds())/deliveries, "cpu_µs/delivery")
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(ru.Maxrss)/1024, "max_rss_MB") // Linux reports KiB
}

// seedWebhooks inserts active webhook subscribers in bulk: the subscribe
// flow's signed test delivery is not what this measures.
func seedWebhooks(b *testing.B, s *store.Store, orgID, pageID int64, base string, n int) {
	b.Helper()
	ctx := context.Background()
	const chunk = 500
	now := time.Now().UTC()
	for start := 0; start < n; start += chunk {
		var rows []string
		var args []any
		for i := start; i < min(n, start+chunk); i++ {
			rows = append(rows, "(?, ?, 'webhook', ?, ?, ?, ?)")
			args = append(args, orgID, pageID, fmt.Sprintf("%s/hook/%d", base, i), testSecret, now, now)
		}
		query := `INSERT INTO subscribers (org_id, page_id, kind, address, secret, confirmed_at, created_at) VALUES ` +
			strings.Join(rows, ", ")
		if s.Dialect() == store.Postgres {
			query = rebind(query)
		}
		if _, err := s.DB().ExecContext(ctx, query, args...); err != nil {
			b.Fatal(err)
		}
	}
}

func rebind(q string) string {
	var sb strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&sb, "$%d", n)
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
