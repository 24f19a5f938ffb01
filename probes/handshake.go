package probes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
)

// TLS alerts a server sends when it finds nothing in common with the client.
const (
	alertHandshakeFailure tls.AlertError = 40
	alertProtocolVersion  tls.AlertError = 70
)

// failure turns the error that stopped a node's request into one problem,
// naming the handshake faults the generic classification cannot see:
// a key that does not match the certificate, and a server with no cipher
// suite or TLS version in common with current clients. handshakeErr is the
// error of the node's own TLS handshake, if it failed.
func (np *nodeProbe) failure(ctx context.Context, err error, phase string, state *tls.ConnectionState, handshakeErr error) Problem {
	p, addr := np.p, np.node.String()
	if handshakeErr != nil {
		if state != nil && localHandshakeError(handshakeErr) {
			leaf := "its certificate"
			if len(state.PeerCertificates) > 0 {
				leaf = "its certificate " + quote(state.PeerCertificates[0].Subject.String())
			}
			return problemf(CodeTLSHandshakeFailed, addr,
				"TLS handshake with %s for %s failed: the server's signature does not verify with the key of %s, "+
					"so its private key does not match the certificate (%s)", addr, p.host, leaf, handshakeErr)
		}
		if alert, ok := remoteAlert(handshakeErr); ok && state == nil && (alert == alertHandshakeFailure || alert == alertProtocolVersion) {
			return problemf(CodeTLSHandshakeFailed, addr, "TLS handshake with %s for %s failed: %s", addr, p.host, np.diagnose(ctx, alert))
		}
	}
	return classify(err, p, addr, phase, state != nil && handshakeErr == nil)
}

// localHandshakeError reports whether the client itself refused the
// handshake after accepting the certificate, rather than the network or the
// server failing it. After our VerifyConnection has accepted any
// certificate, what is left to refuse is the server's proof that it holds
// the certificate's key (CertificateVerify or the key exchange signature).
func localHandshakeError(err error) bool {
	var (
		opErr  *net.OpError
		recErr tls.RecordHeaderError
	)
	return !errors.As(err, &opErr) && !errors.As(err, &recErr) && !isTimeout(err) &&
		!errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) &&
		!errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF)
}

// diagnose explains a server's refusal of the probe's ClientHello by
// offering it, once, every cipher suite Go implements (the insecure ones
// included) and TLS 1.0 to 1.3. What the server then accepts is what it is
// limited to.
func (np *nodeProbe) diagnose(ctx context.Context, alert tls.AlertError) string {
	version, suite, err := np.permissiveHandshake(ctx)
	switch {
	case err == nil:
		kind := "suites"
		if isInsecureSuite(suite) {
			kind = "insecure suites"
		}
		return fmt.Sprintf("no cipher suite in common: the server accepts only %s such as %s (%s), "+
			"which current clients, Pharos included, no longer offer", kind, tls.CipherSuiteName(suite), tlsVersionName(version))
	case alert == alertProtocolVersion:
		return fmt.Sprintf("no TLS version in common: the server refuses TLS 1.0 to 1.3 (%s alert); it may speak only SSL 3.0 or older", alert)
	}
	return fmt.Sprintf("no cipher suite in common: the server refused the handshake (%s alert) before sending a certificate, "+
		"even when offered every cipher suite and TLS 1.0 to 1.3", alert)
}

// permissiveHandshake dials the node again, through the guard, and
// completes a handshake offering everything.
func (np *nodeProbe) permissiveHandshake(ctx context.Context) (uint16, uint16, error) {
	if err := np.pr.guard.Check(np.node.Addr(), np.allowPrivate); err != nil {
		return 0, 0, err
	}
	conn, err := np.pr.dial(ctx, np.allowPrivate, "tcp", np.node.String())
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	var ids []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		ids = append(ids, s.ID)
	}
	c := tls.Client(conn, &tls.Config{
		ServerName:         np.p.host,
		InsecureSkipVerify: true, // only what the server negotiates is of interest
		MinVersion:         tls.VersionTLS10,
		CipherSuites:       ids,
	})
	if err := c.HandshakeContext(ctx); err != nil {
		return 0, 0, err
	}
	cs := c.ConnectionState()
	return cs.Version, cs.CipherSuite, nil
}

func isInsecureSuite(id uint16) bool {
	for _, s := range tls.InsecureCipherSuites() {
		if s.ID == id {
			return true
		}
	}
	return false
}

// remoteAlert returns the alert a server sent to end the handshake.
// crypto/tls reports it as a *net.OpError "remote error" around an
// unexported uint8 alert type, hence the reflection on its kind.
func remoteAlert(err error) (tls.AlertError, bool) {
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return alert, true
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) || opErr.Op != "remote error" || opErr.Err == nil {
		return 0, false
	}
	if v := reflect.ValueOf(opErr.Err); v.Kind() == reflect.Uint8 {
		return tls.AlertError(v.Uint()), true
	}
	return 0, false
}
