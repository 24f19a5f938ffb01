package web

import (
	"net"
	"net/http/httptest"
	"testing"
)

func TestClientIPBelievesOnlyTrustedProxies(t *testing.T) {
	t.Parallel()
	_, fly, _ := net.ParseCIDR("172.16.0.0/16")
	tests := []struct {
		name    string
		trusted []*net.IPNet
		remote  string
		xff     string
		want    string
	}{
		{"no proxies: peer address, header ignored", nil, "203.0.113.9:5000", "198.51.100.1", "203.0.113.9"},
		{"trusted proxy: client from header", []*net.IPNet{fly}, "172.16.3.4:5000", "198.51.100.1", "198.51.100.1"},
		{"forged hop before the proxy is not believed", []*net.IPNet{fly}, "172.16.3.4:5000", "10.9.9.9, 198.51.100.1", "198.51.100.1"},
		{"untrusted peer: header ignored", []*net.IPNet{fly}, "203.0.113.9:5000", "198.51.100.1", "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tt.remote
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := clientIP(tt.trusted)(req); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
