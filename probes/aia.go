package probes

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// AIA fetches are bounded: a CA certificate is a few KiB, and a slow or
// hostile AIA server must not stall the probe.
const (
	aiaMaxBytes  = 64 << 10
	aiaTimeout   = 5 * time.Second
	aiaCacheTTL  = time.Hour
	aiaCacheSize = 256
)

// aiaCache keeps fetched intermediates per Prober, so a misconfigured host
// probed every minute does not fetch its missing intermediate every minute.
type aiaCache struct {
	mu      sync.Mutex
	entries map[string]aiaEntry
}

type aiaEntry struct {
	cert    *x509.Certificate
	expires time.Time
}

func newAIACache() *aiaCache { return &aiaCache{entries: map[string]aiaEntry{}} }

func (c *aiaCache) get(url string) *x509.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[url]
	if !ok || time.Now().After(e.expires) {
		return nil
	}
	return e.cert
}

func (c *aiaCache) put(url string, cert *x509.Certificate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= aiaCacheSize {
		clear(c.entries)
	}
	c.entries[url] = aiaEntry{cert, time.Now().Add(aiaCacheTTL)}
}

// fetchAIA downloads the issuer certificate named by an AIA caIssuers URL,
// through the same guard as the probe itself.
func (pr *Prober) fetchAIA(ctx context.Context, url string, allowPrivate bool) (*x509.Certificate, error) {
	if c := pr.aia.get(url); c != nil {
		return c, nil
	}
	ctx, cancel := context.WithTimeout(ctx, aiaTimeout)
	defer cancel()
	tr := pr.guardedTransport(allowPrivate, aiaTimeout)
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("aia %s: %w", url, err)
	}
	req.Header.Set("User-Agent", pr.userAgent)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("aia %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("aia %s: HTTP %d", url, resp.StatusCode)
	}
	body, _, err := readCapped(resp.Body, aiaMaxBytes, resp.ContentLength)
	if err != nil {
		return nil, fmt.Errorf("aia %s: %w", url, err)
	}
	if blk, _ := pem.Decode(body); blk != nil {
		body = blk.Bytes
	}
	cert, err := x509.ParseCertificate(body)
	if err != nil {
		return nil, fmt.Errorf("aia %s: %w", url, err)
	}
	pr.aia.put(url, cert)
	return cert, nil
}

// guardedTransport is an HTTP transport for the prober's side fetches (AIA,
// CRL, OCSP): every address it dials passes the guard, and no connection
// is kept.
func (pr *Prober) guardedTransport(allowPrivate bool, timeout time.Duration) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, fmt.Errorf("fetch: %w", err)
			}
			ips, err := pr.lookup(ctx, host, timeout)
			if err != nil {
				return nil, fmt.Errorf("fetch: %w", err)
			}
			if err := pr.guard.Check(ips[0], allowPrivate); err != nil {
				return nil, fmt.Errorf("fetch: %w", err)
			}
			return pr.dial(ctx, allowPrivate, network, net.JoinHostPort(ips[0].String(), port))
		},
		DisableKeepAlives: true,
	}
}
