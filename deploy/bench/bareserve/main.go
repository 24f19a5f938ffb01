// Command bareserve is the yardstick of deploy/bench/public-limit.sh: a
// bare net/http server that sends, from memory, the very bytes and headers
// a running Pharos sends for a few public paths. It fetches each path once
// per encoding (identity, gzip, br) at start, then answers every request
// with the stored copy: what serving a cached public response costs with
// nothing but net/http in the way.
//
//	bareserve -from http://127.0.0.1:18089 -listen 127.0.0.1:18090 /p/bench/ /p/bench/api/v2/summary.json
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// response is one stored answer.
type response struct {
	header http.Header
	body   []byte
}

// variants are a path's answers by encoding.
type variants struct{ identity, gzip, br *response }

func main() {
	from := flag.String("from", "", "base URL of the Pharos to copy (required)")
	listen := flag.String("listen", "127.0.0.1:18090", "address to serve on")
	flag.Parse()
	if *from == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: bareserve -from URL [-listen ADDR] PATH...")
		os.Exit(2)
	}
	// DisableCompression leaves bodies as sent: without it, a request
	// with no Accept-Encoding would ask for gzip and get it decompressed.
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	paths := map[string]*variants{}
	for _, p := range flag.Args() {
		v := &variants{}
		for enc, dst := range map[string]**response{"": &v.identity, "gzip": &v.gzip, "br": &v.br} {
			r, err := fetch(client, *from+p, enc)
			if err != nil {
				log.Fatalf("bareserve: %v", err)
			}
			*dst = r
		}
		paths[p] = v
		log.Printf("bareserve: %s: %d bytes identity, %d gzip, %d br", p, len(v.identity.body), len(v.gzip.body), len(v.br.body))
	}
	srv := &http.Server{Addr: *listen, ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := paths[r.URL.Path]
		if v == nil {
			http.NotFound(w, r)
			return
		}
		res := v.identity
		if ae := r.Header.Get("Accept-Encoding"); strings.Contains(ae, "br") {
			res = v.br
		} else if strings.Contains(ae, "gzip") {
			res = v.gzip
		}
		h := w.Header()
		for k, vs := range res.header {
			h[k] = vs
		}
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(res.body) // a client that went away is no error here
		}
	})}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			log.Printf("bareserve: shutdown: %v", err)
		}
	}()
	log.Printf("bareserve: listening on %s", *listen)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("bareserve: %v", err)
	}
}

// fetch gets url with Accept-Encoding enc and keeps its body and headers
// as sent (net/http adds Date itself, so that one is dropped).
func fetch(client *http.Client, url, enc string) (*response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if enc != "" {
		req.Header.Set("Accept-Encoding", enc)
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: status %d", url, res.StatusCode)
	}
	res.Header.Del("Date")
	return &response{header: res.Header, body: body}, nil
}
