//go:build !(linux || darwin)

package app

import "log/slog"

// raiseFileLimit does nothing where there is no RLIMIT_NOFILE; the event
// streams' caps take their fixed defaults.
func raiseFileLimit(*slog.Logger) int { return 0 }
