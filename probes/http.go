package probes

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// nodeProbe carries the state of one node's probe. Its requests run on the
// probing goroutine (nodeTransport); the mutex keeps the timings safe for
// anything reading them while a request is under way.
type nodeProbe struct {
	pr           *Prober
	p            *plan
	node         netip.AddrPort
	allowPrivate bool
	start        time.Time

	mu        sync.Mutex
	phase     string // what we were waiting for, for timeout messages
	state     *tls.ConnectionState
	connect   time.Duration
	tlsStart  time.Duration
	tlsDone   time.Duration
	tlsErr    error // of the node's own (first) handshake
	ttfb      time.Duration
	redirects int
	tooMany   bool
}

func (np *nodeProbe) since() time.Duration { return time.Since(np.start) }

func (np *nodeProbe) setPhase(s string) {
	np.mu.Lock()
	np.phase = s
	np.mu.Unlock()
}

// dial connects to the node for the probed origin, and to freshly resolved
// addresses for redirects elsewhere; the guard sees every address.
func (np *nodeProbe) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	target := np.node
	if addr != net.JoinHostPort(np.p.host, np.p.port) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
		ips, err := np.pr.lookup(ctx, host, np.p.timeout)
		if err != nil {
			return nil, err
		}
		pn, _ := strconv.ParseUint(port, 10, 16)
		target = netip.AddrPortFrom(ips[0], uint16(pn))
	}
	if err := np.pr.guard.Check(target.Addr(), np.allowPrivate); err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	np.setPhase("TCP connection")
	t0 := np.since()
	conn, err := np.pr.dial(ctx, np.allowPrivate, network, target.String())
	np.mu.Lock()
	if np.connect == 0 {
		np.connect = np.since() - t0
	}
	np.phase = "response"
	np.mu.Unlock()
	return conn, err
}

// verifyConnection records the node's own TLS session for judgement and
// verifies redirect hops to other hosts the ordinary way.
func (np *nodeProbe) verifyConnection(cs tls.ConnectionState) error {
	sameHost := cs.ServerName == np.p.host || cs.ServerName == ""
	np.mu.Lock()
	first := np.state == nil && sameHost
	if first {
		np.state = &cs
	}
	np.mu.Unlock()
	if sameHost {
		return nil // the node's own certificate is judged by judgeTLS
	}
	if len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("redirect target %s presented no certificate", cs.ServerName)
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{DNSName: cs.ServerName, Intermediates: inter, Roots: np.pr.roots, CurrentTime: np.pr.now()}
	_, err := cs.PeerCertificates[0].Verify(opts)
	if err != nil && np.p.extraRoots != nil {
		opts.Roots = np.p.extraRoots
		_, err = cs.PeerCertificates[0].Verify(opts)
	}
	if err != nil {
		return fmt.Errorf("certificate of redirect target %s: %w", cs.ServerName, err)
	}
	return nil
}

func (np *nodeProbe) checkRedirect(req *http.Request, via []*http.Request) error {
	np.mu.Lock()
	defer np.mu.Unlock()
	np.redirects = len(via)
	if np.p.maxRedirects < 0 {
		return http.ErrUseLastResponse
	}
	if len(via) > np.p.maxRedirects {
		np.tooMany = true
		return http.ErrUseLastResponse
	}
	return nil
}

// fetch performs the request and reads the body, returning the response
// for the assertions or the error that stopped it.
func (np *nodeProbe) fetch(ctx context.Context) (*response, error) {
	client := &http.Client{Transport: nodeTransport{np}, CheckRedirect: np.checkRedirect}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, np.p.url.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("probe: build request: %w", err)
	}
	req.Header.Set("User-Agent", np.pr.userAgent)
	req.Header.Set("Accept", "*/*")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	np.setPhase("body")
	body, truncated, err := readCapped(resp.Body, np.p.bodyCap, resp.ContentLength)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return &response{
		status:    resp.StatusCode,
		header:    resp.Header,
		body:      body,
		truncated: truncated,
		total:     np.since(),
		url:       resp.Request.URL.String(),
	}, nil
}

// handshakeStarted records the start of the node's first handshake.
func (np *nodeProbe) handshakeStarted() {
	np.mu.Lock()
	np.phase = "TLS handshake"
	if np.tlsStart == 0 {
		np.tlsStart = np.since()
	}
	np.mu.Unlock()
}

// handshakeDone records the end of the node's first handshake, and its
// error; a failed handshake leaves the phase at the handshake.
func (np *nodeProbe) handshakeDone(err error) {
	np.mu.Lock()
	if err == nil {
		np.phase = "response"
	}
	if np.tlsDone == 0 {
		np.tlsDone = np.since()
		np.tlsErr = err
	}
	np.mu.Unlock()
}

// gotFirstByte records the time to the first byte of the last response.
func (np *nodeProbe) gotFirstByte() {
	np.mu.Lock()
	np.ttfb = np.since()
	np.mu.Unlock()
}

// readCapped reads at most limit bytes of r. The buffer grows with what
// arrives (sized from Content-Length when known) and never beyond the
// limit, so a probe holds no more than the cap whatever the server sends.
func readCapped(r io.Reader, limit, contentLength int64) ([]byte, bool, error) {
	size := int64(512)
	if contentLength > 0 {
		size = contentLength + 1
	}
	buf := make([]byte, 0, min(size, limit+1))
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return buf[:limit], true, nil
			}
			next := min(int64(cap(buf))*2, limit+1)
			grown := make([]byte, len(buf), next)
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			if int64(len(buf)) > limit {
				return buf[:limit], true, nil
			}
			return buf, false, nil
		}
		if err != nil {
			return buf, false, err
		}
	}
}
