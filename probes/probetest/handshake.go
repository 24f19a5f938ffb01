package probetest

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"syscall"
	"time"
)

// BareHandshake is the floor a probe cannot beat: a TCP dial, a full TLS
// handshake and x509 verification of the presented chain for host,
// nothing else. BenchmarkHandshakeLimit and deploy/bench/handshakefloor
// time it.
func BareHandshake(addr, host string, roots *x509.CertPool) error {
	d := &net.Dialer{Timeout: 30 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: host, InsecureSkipVerify: true})
	if err != nil {
		return err
	}
	defer conn.Close()
	certs := conn.ConnectionState().PeerCertificates
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err = certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: host})
	return err
}

// ProcessCPU is the CPU time the process has used, user and system.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
