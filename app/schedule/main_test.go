package schedule

import (
	"os"
	"testing"

	"pharos/app/store/storetest"
)

// TestMain runs up to 8 tests at once (their time is mostly waiting on
// the scheduler's ticks and Redis) and migrates each backend once
// (storetest.Main).
func TestMain(m *testing.M) {
	storetest.WaitBound(8)
	os.Exit(storetest.Main(m))
}
