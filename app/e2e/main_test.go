package e2e

import (
	"os"
	"testing"

	"pharos/app/store/storetest"
)

// TestMain runs up to 4 tests at once (their time is mostly waiting on
// timers, Redis and loopback servers) and migrates each backend once
// (storetest.Main).
func TestMain(m *testing.M) {
	storetest.WaitBound(4)
	os.Exit(storetest.Main(m))
}
