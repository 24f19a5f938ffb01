package probetest

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"syscall"
	"time"
)

// BareHandshake is the floor a probe cannot beat: a TCP dial, a full TLS
// handshake and x509 verification of the presented chain for host,
// nothing else. BenchmarkHandshakeLimit and deploy/bench/handshakefloor
// time it.
func BareHandshake(addr, host string, roots *x509.CertPool) error {
	conn, err := bareDial(addr, host, roots)
	if err != nil {
		return err
	}
	return conn.Close()
}

// BareRequest is BareHandshake and one HTTP/1.1 exchange written and read
// by hand: GET path with Connection: close, the whole answer read. It is
// the floor of a probe that must also ask for a page, which the target's
// HTTP handling makes dearer than the handshake alone
// (BenchmarkRequestLimit).
func BareRequest(addr, host, path string, roots *x509.CertPool) error {
	conn, err := bareDial(addr, host, roots)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, conn)
	return err
}

func bareDial(addr, host string, roots *x509.CertPool) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: 30 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: host, InsecureSkipVerify: true})
	if err != nil {
		return nil, err
	}
	certs := conn.ConnectionState().PeerCertificates
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: host}); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// ProcessCPU is the CPU time the process has used, user and system.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
