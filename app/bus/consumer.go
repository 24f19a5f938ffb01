package bus

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
)

// ConsumerName returns hostname-pid-random, a consumer name unique across
// hosts and restarts, so a restarted process never inherits its
// predecessor's pending entries by name. fallback stands in for the host
// name when it is unknown.
func ConsumerName(fallback string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = fallback
	}
	var raw [4]byte
	rand.Read(raw[:]) // never fails (crypto/rand, Go 1.24+)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(raw[:]))
}
