package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestSQLitePathKeptWhole: a database path with '#' or '%' in it is
// opened where it says, not cut at the '#' or decoded.
func TestSQLitePathKeptWhole(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "runs#2 50%41")
	path := filepath.Join(dir, "pharos.db")
	s, err := Open(context.Background(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DB().Exec(`CREATE TABLE probe (id INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at %s: %v", path, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("beside it: %v, want the one directory", entries)
	}
}
