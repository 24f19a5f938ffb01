package aggregate

import (
	"context"
	"fmt"
	"hash/fnv"
	"testing"
	"time"

	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// BenchmarkStoredBytesPerResult stores one steady hour of realistic
// results (storageChecks checks × 3 regions, every 30 s, two nodes with
// their certificate chains) and reports what the results grew by per
// result: "whole" stores every result with its JSON (as before compaction),
// "steady" goes through ProcessBatch, which keeps one full result per check
// × region per hour and the rest as samples of result_segments. PostgreSQL: pg_total_relation_size (heap, TOAST and
// indexes); SQLite: the pages of the table and its indexes (dbstat), and
// the growth of the whole file (file-B/result).
//
//	go test -run '^$' -bench StoredBytesPerResult -benchtime 1x ./app/aggregate/
func BenchmarkStoredBytesPerResult(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, mode := range []string{"whole", "steady"} {
			b.Run(backend+"/"+mode, func(b *testing.B) {
				for range b.N {
					var s *store.Store
					if backend == "sqlite" {
						s = storetest.SQLite(b)
					} else {
						s = storetest.Postgres(b)
					}
					table, file := storedBytesPerResult(b, s, mode == "steady")
					b.ReportMetric(table, "B/result")
					if file > 0 {
						b.ReportMetric(file, "file-B/result")
					}
				}
			})
		}
	}
}

const (
	storageChecks = 50
	storageRounds = 120 // an hour at 30 s
)

// storedBytesPerResult returns the growth of check_results per result and,
// on SQLite, of the whole database file (every table, after a checkpoint).
func storedBytesPerResult(b *testing.B, s *store.Store, steady bool) (table, file float64) {
	ctx := context.Background()
	f := newFixture(b, s, storageChecks)
	f.base = time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	a := f.aggregator(Options{})
	before, fileBefore := tableBytes(b, s), fileBytes(b, s)
	checks := make([]int, storageChecks)
	for i := range checks {
		checks[i] = i
	}
	n := 0
	for round := range storageRounds {
		batch := f.round(round, all(probes.StateUp), checks...)
		for i := range batch {
			realistic(&batch[i], f.base.Add(time.Duration(round)*30*time.Second))
		}
		n += len(batch)
		if steady {
			process(b, a, batch)
			continue
		}
		rows := make([]store.ResultRow, 0, len(batch))
		for _, r := range batch {
			row, err := resultRow(r, r.Produced)
			if err != nil {
				b.Fatal(err)
			}
			rows = append(rows, row)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.InsertResults(ctx, rows)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	table = float64(tableBytes(b, s)-before) / float64(n)
	if fileBefore > 0 {
		file = float64(fileBytes(b, s)-fileBefore) / float64(n)
	}
	return table, file
}

// fileBytes is the size of a SQLite database once its WAL is checkpointed
// (0 on PostgreSQL).
func fileBytes(b *testing.B, s *store.Store) int64 {
	b.Helper()
	if s.Dialect() == store.Postgres {
		return 0
	}
	var busy, log, done int
	if err := s.DB().QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &log, &done); err != nil {
		b.Fatal(err)
	}
	var pages, size int64
	if err := s.DB().QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		b.Fatal(err)
	}
	if err := s.DB().QueryRow(`PRAGMA page_size`).Scan(&size); err != nil {
		b.Fatal(err)
	}
	return pages * size
}

// realistic gives a fixture result the shape of a real HTTPS probe's:
// two nodes, each with timings, a leaf with names and its chain.
func realistic(r *pipeline.Result, at time.Time) {
	// UUIDv7-shaped ids, as workers assign them: the id and the job id are
	// a good part of a compact row.
	h := fnv.New64a()
	h.Write([]byte(r.ID))
	x := h.Sum64()
	r.ID = fmt.Sprintf("%08x-%04x-7%03x-8%03x-%012x", at.Unix(), x>>48, x>>36&0xfff, x>>24&0xfff, x&0xffffffffffff)
	r.JobID = fmt.Sprintf("%08x-%04x-7%03x-9%03x-%012x", at.Unix(), x>>48, x>>36&0xfff, x>>24&0xfff, x&0xffffffffffff)
	res := &r.Result
	res.CheckedAt, res.URL = at, "https://api.example.org/health"
	r.Produced = at
	node := res.Nodes[0]
	node.FinalURL = res.URL
	node.Timings = probes.Timings{DNS: 3, Connect: 12, TLS: 31, TTFB: 58, Total: 61}
	leaf := &node.TLS.Leaf
	leaf.Subject, leaf.DNSNames, leaf.Source = "CN=api.example.org", []string{"api.example.org", "www.example.org"}, "presented"
	leaf.Serial = "04a1f3c2d9e8b7a6c5d4e3f2a1b0c9d8e7f6"
	leaf.SHA256 = fmt.Sprintf("%064x", r.CheckID)
	leaf.DaysLeft = 61
	node.TLS.Cipher = "TLS_AES_128_GCM_SHA256"
	node.TLS.Chain = []probes.CertInfo{
		{Subject: "CN=R11,O=Let's Encrypt,C=US", Issuer: "CN=ISRG Root X1,O=Internet Security Research Group,C=US",
			Serial: "8a7d3e13d62f30ef2386bd29076b1c8b", SHA256: fmt.Sprintf("%064x", 11), NotBefore: leaf.NotBefore,
			NotAfter: leaf.NotAfter.AddDate(1, 0, 0), DaysLeft: 426, Source: "presented"},
		{Subject: "CN=ISRG Root X1,O=Internet Security Research Group,C=US", Issuer: "CN=ISRG Root X1,O=Internet Security Research Group,C=US",
			Serial: "8210cfb0d240e3594463e0bb63828b00", SHA256: fmt.Sprintf("%064x", 1), NotBefore: leaf.NotBefore.AddDate(-10, 0, 0),
			NotAfter: leaf.NotAfter.AddDate(9, 0, 0), DaysLeft: 3200, Source: "root"},
	}
	second := node
	tls := *node.TLS
	second.TLS, second.Address = &tls, "[2001:db8::7]:443"
	res.Nodes = []probes.NodeResult{node, second}
}

// tableBytes is the size of check_results and result_segments with their
// indexes. On PostgreSQL the tables are vacuumed first: a segment is
// rewritten on every append, and autovacuum (or the page pruning of HOT
// updates) reclaims the old versions in a running system.
func tableBytes(b *testing.B, s *store.Store) int64 {
	b.Helper()
	query := `SELECT pg_total_relation_size('check_results') + pg_total_relation_size('result_segments')`
	if s.Dialect() == store.Postgres {
		if _, err := s.DB().Exec(`VACUUM check_results, result_segments`); err != nil {
			b.Fatal(err)
		}
	} else {
		query = `SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name = 'check_results' OR name LIKE 'check_results_%'
			OR name = 'sqlite_autoindex_check_results_1' OR name = 'result_segments' OR name LIKE 'result_segments_%'
			OR name = 'sqlite_autoindex_result_segments_1'`
	}
	var n int64
	if err := s.DB().QueryRow(query).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}
