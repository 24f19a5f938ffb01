// Package static embeds Pharos's CSS, scripts and images and serves them under
// content-hash URLs (/static/{hash}/{name}) with a one-year immutable cache:
// a changed file gets a new URL, so browsers never see a stale one.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed css js
var files embed.FS

// Prefix is where assets are mounted.
const Prefix = "/static/"

type asset struct {
	hash string
	body []byte
	mime string
}

// index hashes every embedded file once; the result never changes.
var index = sync.OnceValue(func() map[string]asset {
	out := map[string]asset{}
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
		out[p] = asset{hash: hex.EncodeToString(sum[:6]), body: b, mime: ct}
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
		w.Header().Set("Content-Type", a.mime)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if hash == a.hash {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		w.Header().Set("ETag", `"`+a.hash+`"`)
		if r.Header.Get("If-None-Match") == `"`+a.hash+`"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(a.body) // a failed write means the client went away
	})
}
