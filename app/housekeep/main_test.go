package housekeep

import (
	"os"
	"testing"

	"pharos/app/store/storetest"
)

// TestMain migrates each backend once for the whole suite (storetest.Main).
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
