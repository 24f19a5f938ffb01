// Package static embeds Pharos's CSS, scripts and images and serves them under
// content-hash URLs (/static/{hash}/{name}) with a one-year immutable cache:
// a changed file gets a new URL, so browsers never see a stale one. Text
// assets are served brotli- or gzip-compressed when the client accepts it,
// each encoding computed once per asset and kept.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

//go:embed css js img
var files embed.FS

// Prefix is where assets are mounted.
const Prefix = "/static/"

type asset struct {
	hash string
	body []byte
	mime string

	gz, br func() []byte // the compressed body, computed on first use; nil when not worth it
}

// compressible reports whether an asset of this type shrinks when
// compressed (images other than SVG are compressed already).
func compressible(contentType string) bool {
	ct, _, _ := strings.Cut(contentType, ";")
	return strings.HasPrefix(ct, "text/") || ct == "image/svg+xml" || strings.HasSuffix(ct, "javascript") || strings.HasSuffix(ct, "json")
}

// encoded returns a function that compresses body once, on first use,
// and returns nil when that does not make it smaller.
func encoded(body []byte, compress func(io.Writer) io.WriteCloser) func() []byte {
	return sync.OnceValue(func() []byte {
		var b bytes.Buffer
		w := compress(&b)
		if _, err := w.Write(body); err != nil || w.Close() != nil || b.Len() >= len(body) {
			return nil
		}
		return b.Bytes()
	})
}

// index hashes every embedded file once; the result never changes.
var index = sync.OnceValue(func() map[string]*asset {
	out := map[string]*asset{}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		a := &asset{hash: hex.EncodeToString(sum[:6]), body: b, mime: ct}
		if compressible(ct) {
			a.gz = encoded(b, func(w io.Writer) io.WriteCloser {
				zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression) // the level is valid
				return zw
			})
			a.br = encoded(b, func(w io.Writer) io.WriteCloser { return brotli.NewWriterLevel(w, brotli.BestCompression) })
		}
		out[p] = a
		return nil
	})
	if err != nil {
		panic("static: embedded files unreadable: " + err.Error()) // cannot happen with embed.FS
	}
	return out
})

// URL returns the fingerprinted URL of an embedded file such as
// "css/app.css". It panics on an unknown name: a typo in a view is a bug that
// tests must catch, not a 404 for users.
func URL(name string) string {
	a, ok := index()[name]
	if !ok {
		panic("static: no embedded file " + name)
	}
	return Prefix + a.hash + "/" + name
}

// Handler serves /static/{hash}/{name}. A request with an outdated hash still
// gets the current file, but without the immutable cache header.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, Prefix)
		hash, name, ok := strings.Cut(rest, "/")
		a, found := index()[name]
		if !ok || !found {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.mime)
		h.Set("X-Content-Type-Options", "nosniff")
		if hash == a.hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		body, etag := a.body, a.hash
		if a.gz != nil {
			h.Set("Vary", "Accept-Encoding")
			switch enc := PickEncoding(r.Header.Get("Accept-Encoding")); {
			case enc == "br" && a.br() != nil:
				body, etag = a.br(), a.hash+"-br"
				h.Set("Content-Encoding", "br")
			case enc == "gzip" && a.gz() != nil:
				body, etag = a.gz(), a.hash+"-gz"
				h.Set("Content-Encoding", "gzip")
			}
		}
		h.Set("ETag", `"`+etag+`"`)
		if inm := r.Header.Get("If-None-Match"); inm == `"`+etag+`"` || inm == `"`+a.hash+`"` {
			h.Del("Content-Encoding")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body) // a failed write means the client went away
	})
}

// PickEncoding chooses "br", "gzip" or "" (identity) from an
// Accept-Encoding header, honouring q=0; brotli wins when both are
// accepted.
func PickEncoding(accept string) string {
	var br, gz bool
	for _, part := range strings.Split(accept, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if q := strings.ReplaceAll(strings.TrimSpace(params), " ", ""); q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "br":
			br = true
		case "gzip", "x-gzip":
			gz = true
		}
	}
	switch {
	case br:
		return "br"
	case gz:
		return "gzip"
	}
	return ""
}
