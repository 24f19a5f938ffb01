package console_test

import (
	"os"
	"testing"

	"pharos/app/web/webtest"
)

// TestMain shares one Chromium among the browser tests and migrates each
// backend once for the whole suite (webtest.Main).
func TestMain(m *testing.M) { os.Exit(webtest.Main(m)) }
