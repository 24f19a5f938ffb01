// Command targets serves a tiny HTTPS probe target on a loopback address,
// for deploy/bench/multiregion.sh.
//
//	targets -ca-dir DIR -init
//	    creates a throw-away root CA in DIR (ca.pem, ca-key.pem) and exits
//	targets -ca-dir DIR -listen 127.0.0.2:0 -addr-file FILE
//	    serves HTTPS on the address with a certificate for its IP issued by
//	    DIR's CA, writes the bound address to FILE, and runs until SIGINT or
//	    SIGTERM
//
// Every path answers 200 with the JSON body {"status":"ok"}. One process
// serves one target, so a script can stop a single target by killing its
// process (connections are then refused, as from a dead host).
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"pharos/probes/probetest"
)

func main() {
	caDir := flag.String("ca-dir", "", "directory of the CA (ca.pem, ca-key.pem)")
	initCA := flag.Bool("init", false, "create the CA in -ca-dir and exit")
	listen := flag.String("listen", "127.0.0.2:0", "address to serve on (IP:port; port 0 picks a free one)")
	addrFile := flag.String("addr-file", "", "write the bound address to this file once listening")
	flag.Parse()
	if *caDir == "" {
		log.Fatal("targets: -ca-dir is required")
	}
	var err error
	if *initCA {
		err = createCA(*caDir)
	} else {
		err = serve(*caDir, *listen, *addrFile)
	}
	if err != nil {
		log.Fatalf("targets: %v", err)
	}
}

// createCA writes a new root CA's certificate and key to dir.
func createCA(dir string) error {
	ca := probetest.NewRoot(probetest.CertOptions{CommonName: "Pharos Bench Root", Organization: "Pharos Bench"})
	key, err := x509.MarshalECPrivateKey(ca.Key)
	if err != nil {
		return fmt.Errorf("encode CA key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), []byte(ca.PEM()), 0o644); err != nil {
		return fmt.Errorf("write CA: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: key})
	if err := os.WriteFile(filepath.Join(dir, "ca-key.pem"), keyPEM, 0o600); err != nil {
		return fmt.Errorf("write CA key: %w", err)
	}
	return nil
}

// loadCA reads the CA createCA wrote.
func loadCA(dir string) (*probetest.CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "ca-key.pem"))
	if err != nil {
		return nil, fmt.Errorf("read CA key: %w", err)
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, errors.New("CA files hold no PEM block")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse CA: %w", err)
	}
	var key *ecdsa.PrivateKey
	if key, err = x509.ParseECPrivateKey(kb.Bytes); err != nil {
		return nil, fmt.Errorf("parse CA key: %w", err)
	}
	return &probetest.CA{Cert: cert, Key: key}, nil
}

// serve runs one target until SIGINT or SIGTERM.
func serve(caDir, listen, addrFile string) error {
	ca, err := loadCA(caDir)
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("-listen %q: %w", listen, err)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return fmt.Errorf("-listen %q: want an IP address", listen)
	}
	cert := ca.Leaf(probetest.CertOptions{CommonName: host, IPs: []net.IP{ip}})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if addrFile != "" {
		if err := os.WriteFile(addrFile, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			return fmt.Errorf("write address: %w", err)
		}
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintln(w, `{"status":"ok"}`)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			log.Printf("targets: shutdown: %v", err)
		}
	}()
	if err := srv.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
