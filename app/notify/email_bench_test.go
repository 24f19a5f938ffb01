package notify_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

// BenchmarkEmailFanOut10k: one incident update mailed to 10,000 email
// subscribers through a running notifier, over the pooled SMTP
// connections, to an SMTP server on loopback. Reports mails per second,
// the time from the update's commit to the first mail, the whole run's
// duration, the process's CPU time per mail (SMTP server included) and the
// heap in use after the run.
//
//	go test ./app/notify/ -run '^$' -bench EmailFanOut10k -benchtime 1x
func BenchmarkEmailFanOut10k(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchEmailFanOut(b, storetest.SQLite(b), 10_000) })
	b.Run("postgres", func(b *testing.B) { benchEmailFanOut(b, storetest.Postgres(b), 10_000) })
}

func benchEmailFanOut(b *testing.B, s *store.Store, subscribers int) {
	ctx := context.Background()
	orgID, pageID, _ := seedPage(b, s)
	sk, _ := newSink(b, false)
	seedEmails(b, s, orgID, pageID, subscribers)
	email := newEmail(b, sk, nil) // the default pool: DefaultEmailConns connections
	n, err := notify.New(notify.Options{Store: s, Senders: map[string]notify.Sender{notify.KindEmail: email},
		BaseURL: "https://status.example.org", SecretKey: []byte(testKey)})
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
	var total, cpu, first time.Duration
	b.ResetTimer()
	for i := range b.N {
		before := cpuTime(b)
		start := time.Now()
		if _, err := s.AddIncidentUpdate(ctx, orgID, editor, w.IncidentID, store.IncidentChangeInput{
			Status: "identified", Body: fmt.Sprintf("update %d", i), DeliverNotifications: true}); err != nil {
			b.Fatal(err)
		}
		committed := time.Now()
		deadline := committed.Add(5 * time.Minute)
		for got := 0; got < subscribers; got++ {
			select {
			case <-sk.mails:
				if got == 0 {
					first = max(first, time.Since(committed))
				}
			case <-time.After(time.Until(deadline)):
				b.Fatalf("only %d of %d mails arrived within 5 min", got, subscribers)
			}
		}
		total += time.Since(start)
		cpu += cpuTime(b) - before
	}
	b.StopTimer()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mails := float64(b.N * subscribers)
	b.ReportMetric(mails/total.Seconds(), "mails/s")
	b.ReportMetric(total.Seconds()/float64(b.N), "s/10k")
	b.ReportMetric(float64(first.Milliseconds()), "max_first_ms")
	b.ReportMetric(float64(cpu.Microseconds())/mails, "cpu_µs/mail")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap_MiB")
	b.ReportMetric(float64(sk.sessions.Load()), "smtp_sessions")
}

// seedEmails inserts confirmed email subscribers in bulk: the double
// opt-in is not what this measures.
func seedEmails(b *testing.B, s *store.Store, orgID, pageID int64, n int) {
	b.Helper()
	ctx := context.Background()
	const chunk = 500
	now := time.Now().UTC()
	for start := 0; start < n; start += chunk {
		var rows []string
		var args []any
		for i := start; i < min(n, start+chunk); i++ {
			rows = append(rows, "(?, ?, 'email', ?, ?, ?)")
			args = append(args, orgID, pageID, fmt.Sprintf("reader%d@example.org", i), now, now)
		}
		query := `INSERT INTO subscribers (org_id, page_id, kind, address, confirmed_at, created_at) VALUES ` + strings.Join(rows, ", ")
		if s.Dialect() == store.Postgres {
			query = rebind(query)
		}
		if _, err := s.DB().ExecContext(ctx, query, args...); err != nil {
			b.Fatal(err)
		}
	}
}
