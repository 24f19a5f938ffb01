//go:build linux || darwin

package app

import (
	"log/slog"
	"math"
	"syscall"
)

// raiseFileLimit raises the soft limit on open files to the hard limit,
// logs the result and returns the soft limit in force (0 when unknown).
// Every connection is a file descriptor: the event streams' caps are
// sized from this limit. (Go raises it by itself at start on most
// systems; doing it here makes it explicit, logged and measured.)
func raiseFileLimit(log *slog.Logger) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("cannot read the open-file limit", slog.Any("error", err))
		return 0
	}
	if lim.Cur < lim.Max {
		was := lim.Cur
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			log.Warn("cannot raise the open-file limit", slog.Uint64("soft", was), slog.Uint64("hard", lim.Max), slog.Any("error", err))
			lim.Cur = was
		}
	}
	log.Info("open-file limit", slog.Uint64("soft", lim.Cur), slog.Uint64("hard", lim.Max))
	return int(min(lim.Cur, math.MaxInt32))
}
