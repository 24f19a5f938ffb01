//go:build linux || darwin

package app

import (
	"io"
	"log/slog"
	"syscall"
	"testing"
)

// TestRaiseFileLimit: a soft limit below the hard one is raised to it, and
// the limit in force is returned. (Not parallel: it changes the process's
// limit, and puts it back.)
func TestRaiseFileLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Errorf("restore the open-file limit: %v", err)
		}
	})
	if lim.Max < 2048 || lim.Max > 1<<30 {
		t.Skipf("hard open-file limit %d: no room to lower the soft one and raise it again", lim.Max)
	}
	lowered := lim
	lowered.Cur = lim.Max / 2
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered); err != nil {
		t.Fatal(err)
	}
	got := raiseFileLimit(slog.New(slog.NewTextHandler(io.Discard, nil)))
	var now syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &now); err != nil {
		t.Fatal(err)
	}
	if now.Cur != lim.Max || uint64(got) != lim.Max {
		t.Errorf("got soft limit %d (returned %d), want the hard limit %d", now.Cur, got, lim.Max)
	}
}
