package probetest

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Listeners opens one TCP listener per loopback IP, all on the same port, so
// that several "nodes" of one host name can be probed as ip:port. The
// listeners are closed when the test ends.
func Listeners(tb testing.TB, ips ...string) []net.Listener {
	tb.Helper()
	for attempt := 0; attempt < 20; attempt++ {
		first, err := net.Listen("tcp", net.JoinHostPort(ips[0], "0"))
		if err != nil {
			tb.Fatalf("listen %s: %v", ips[0], err)
		}
		port := strconv.Itoa(first.Addr().(*net.TCPAddr).Port)
		lns := []net.Listener{first}
		for _, ip := range ips[1:] {
			ln, err := net.Listen("tcp", net.JoinHostPort(ip, port))
			if err != nil {
				break
			}
			lns = append(lns, ln)
		}
		if len(lns) == len(ips) {
			tb.Cleanup(func() {
				for _, ln := range lns {
					ln.Close()
				}
			})
			return lns
		}
		for _, ln := range lns {
			ln.Close()
		}
	}
	tb.Fatalf("no common free port on %v", ips)
	return nil
}

// Port returns the port a listener is bound to.
func Port(ln net.Listener) string {
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// ServeTLS serves h over TLS with cert on ln until the test ends. mod, when
// not nil, adjusts the server's tls.Config (e.g. MaxVersion).
func ServeTLS(tb testing.TB, ln net.Listener, cert tls.Certificate, h http.Handler, mod func(*tls.Config)) {
	tb.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if mod != nil {
		mod(cfg)
	}
	serve(tb, tls.NewListener(ln, cfg), h)
}

// ServeHTTP serves h in plain HTTP on ln until the test ends.
func ServeHTTP(tb testing.TB, ln net.Listener, h http.Handler) {
	tb.Helper()
	serve(tb, ln, h)
}

func serve(tb testing.TB, ln net.Listener, h http.Handler) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // handshake failures are the point of many tests
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			tb.Errorf("serve %s: %v", ln.Addr(), err)
		}
	}()
	tb.Cleanup(func() {
		srv.Close()
		<-done
	})
}

// ServeSilent accepts TCP connections on ln and never answers, like a node
// whose web server hangs. Connections are closed when the test ends.
func ServeSilent(tb testing.TB, ln net.Listener) {
	tb.Helper()
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
}

// Text returns a handler answering every request with status and body.
func Text(status int, contentType, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		w.Write([]byte(body))
	})
}
