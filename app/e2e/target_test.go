package e2e

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"pharos/probes"
	"pharos/probes/probetest"
)

// target is a real HTTPS server on a loopback address, with a certificate
// for that address from the harness's CA. It can be stopped (new
// connections are refused, as from a dead host) and started again on the
// same address.
type target struct {
	h       *harness
	addr    string
	tlsCfg  *tls.Config
	handler http.Handler

	mu   sync.Mutex
	srv  *http.Server
	done chan struct{}
}

// target starts an HTTPS server on ip (any free port) answering with handler.
func (h *harness) target(ip string, handler http.Handler) *target {
	h.t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		h.t.Fatalf("listen on %s: %v", ip, err)
	}
	cert := h.ca.Leaf(probetest.CertOptions{CommonName: ip, IPs: []net.IP{net.ParseIP(ip)}})
	tg := &target{
		h:       h,
		addr:    ln.Addr().String(),
		tlsCfg:  &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		handler: handler,
	}
	tg.serve(ln)
	h.t.Cleanup(tg.stop)
	return tg
}

func (tg *target) url() string { return "https://" + tg.addr + "/" }

func (tg *target) serve(ln net.Listener) {
	srv := &http.Server{
		Handler:           tg.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(tls.NewListener(ln, tg.tlsCfg)); !errors.Is(err, http.ErrServerClosed) {
			tg.h.t.Errorf("target %s: %v", tg.addr, err)
		}
	}()
	tg.mu.Lock()
	tg.srv, tg.done = srv, done
	tg.mu.Unlock()
}

// stop closes the listener and every connection: the address now refuses
// connections.
func (tg *target) stop() {
	tg.mu.Lock()
	srv, done := tg.srv, tg.done
	tg.srv, tg.done = nil, nil
	tg.mu.Unlock()
	if srv == nil {
		return
	}
	if err := srv.Close(); err != nil {
		tg.h.t.Errorf("stop target %s: %v", tg.addr, err)
	}
	<-done
}

// restart listens again on the target's address.
func (tg *target) restart() {
	tg.h.t.Helper()
	ln, err := net.Listen("tcp", tg.addr)
	if err != nil {
		tg.h.t.Fatalf("listen again on %s: %v", tg.addr, err)
	}
	tg.serve(ln)
}

// ok answers every request with 200 and a short body.
func ok() http.Handler {
	return probetest.Text(http.StatusOK, "text/plain", "ok\n")
}

// realProber probes loopback targets as a healthy region's worker does.
func realProber() *probes.Prober {
	return probes.New(probes.Options{AllowPrivate: true})
}

// cutOffProber is the prober of a region whose own network is broken:
// every connection it tries is refused.
func cutOffProber() *probes.Prober {
	return probes.New(probes.Options{AllowPrivate: true, Dial: refuseAll})
}

func refuseAll(_ context.Context, network, address string) (net.Conn, error) {
	return nil, fmt.Errorf("dial %s %s (this region's network is cut off): %w", network, address, syscall.ECONNREFUSED)
}
