package store

import (
	"testing"

	"github.com/pressly/goose/v3/lock"
)

// TestMigrationLockPerSchema: public keeps goose's lock, so a deployment
// serialises its migrations as it always did; other schemas (tests on one
// server) each get their own and never queue behind each other.
func TestMigrationLockPerSchema(t *testing.T) {
	if got := migrationLockID("public"); got != lock.DefaultLockID {
		t.Errorf("public: got %d, want goose's default %d", got, lock.DefaultLockID)
	}
	a, b := migrationLockID("t_0a1b"), migrationLockID("t_2c3d")
	if a == b || a == lock.DefaultLockID || a < 0 || b < 0 {
		t.Errorf("schema locks %d and %d: want two distinct, non-negative ids apart from the default", a, b)
	}
}
