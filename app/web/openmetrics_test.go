package web

import (
	"strings"
	"testing"
)

// TestOpenMetrics: a scraper asking for OpenMetrics gets it (with its
// content type and the closing "# EOF"); others get the text format.
func TestOpenMetrics(t *testing.T) {
	t.Parallel()
	h := newShell(t).Handler()
	rec := get(t, h, "/metrics", "Accept", "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text; version=1.0.0") {
		t.Errorf("content type %q, want application/openmetrics-text; version=1.0.0", ct)
	}
	if body := rec.Body.String(); !strings.HasSuffix(body, "# EOF\n") || !strings.Contains(body, "go_goroutines ") {
		t.Errorf("OpenMetrics body does not end in # EOF:\n%s", body)
	}
	rec = get(t, h, "/metrics")
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") || strings.Contains(rec.Body.String(), "# EOF") {
		t.Errorf("without Accept: content type %q, want the text format without # EOF", ct)
	}
}
