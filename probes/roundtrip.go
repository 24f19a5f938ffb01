package probes

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
)

// maxHeaderBytes caps a response's status line and headers.
const maxHeaderBytes = 64 << 10

// nodeTransport sends each request of a node's probe (the first and every
// redirect hop) on a connection of its own, on the calling goroutine: dial
// through the guard, TLS handshake, write, read the headers. A probe never
// reuses a connection, so http.Transport's pool, its per-connection read
// and write goroutines and its handshake goroutine were pure overhead —
// a quarter of a probe's cost over a bare handshake (BenchmarkProbe,
// BenchmarkHandshakeLimit). Like http.Transport it asks for gzip and
// decompresses transparently, skips 1xx answers and caps the headers.
type nodeTransport struct{ np *nodeProbe }

func (t nodeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, np := req.Context(), t.np
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
	}
	conn, err := np.dial(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, err
	}
	raw := conn // conn becomes the TLS client below: close what was dialled
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	fail := func(err error) (*http.Response, error) {
		stop()
		conn.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if req.URL.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: host, InsecureSkipVerify: true,
			MinVersion: tls.VersionTLS10, VerifyConnection: np.verifyConnection})
		np.handshakeStarted()
		err := tc.HandshakeContext(ctx)
		np.handshakeDone(err)
		if err != nil {
			return fail(err)
		}
		conn = tc
	}
	wire := req.Clone(ctx)
	wire.Close = true
	wire.Header.Set("Accept-Encoding", "gzip")
	var out bytes.Buffer // a ByteWriter: Write adds no 4 KiB buffer of its own
	if err := wire.Write(&out); err != nil {
		return fail(err)
	}
	if _, err := conn.Write(out.Bytes()); err != nil { // one write, one TLS record
		return fail(err)
	}
	capped := &headerCap{r: conn, left: maxHeaderBytes}
	br := bufio.NewReader(capped)
	if _, err := br.Peek(1); err != nil {
		return fail(err)
	}
	np.gotFirstByte()
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(br, req)
		if err != nil {
			return fail(err)
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		resp.Body.Close() // an informational answer: the real one follows
	}
	capped.left = math.MaxInt64 // the body is capped by its reader
	body := &connBody{ReadCloser: resp.Body, conn: raw, stop: stop}
	resp.Body = body
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") && req.Method != http.MethodHead {
		resp.Body = &gzipBody{connBody: body}
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Uncompressed = true
	}
	return resp, nil
}

// headerCap fails a read once left bytes have been read: a server that
// sends endless headers is cut off at maxHeaderBytes.
type headerCap struct {
	r    io.Reader
	left int64
}

var errHeadersTooLong = fmt.Errorf("server response headers exceeded %d bytes", maxHeaderBytes)

func (c *headerCap) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errHeadersTooLong
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// connBody closes the connection with the body. It closes the dialled
// connection, not the TLS client on it: the request said Connection: close,
// so the server ends the exchange, and a close_notify alert of ours would
// cost a write on both ends for nothing (browsers do not send one either).
type connBody struct {
	io.ReadCloser
	conn net.Conn
	stop func() bool
	once sync.Once
}

func (b *connBody) Close() error {
	b.once.Do(func() {
		b.stop()
		b.ReadCloser.Close()
		b.conn.Close()
	})
	return nil
}

// gzipBody decompresses a gzip-encoded body on first read.
type gzipBody struct {
	*connBody
	zr  *gzip.Reader
	err error
}

func (g *gzipBody) Read(p []byte) (int, error) {
	if g.zr == nil && g.err == nil {
		g.zr, g.err = gzip.NewReader(g.connBody)
	}
	if g.err != nil {
		return 0, g.err // io.EOF for an empty body, as http.Transport
	}
	return g.zr.Read(p)
}
