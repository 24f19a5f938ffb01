package public

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/labstack/echo/v4"

	"pharos/static"
)

// rendered is one cached response: its body in every encoding sent, and
// every header value a response of it carries, built once, so a cache hit
// only assigns them (the slices are shared between responses: nothing may
// change them in place, and each has cap == len, so an append copies).
type rendered struct {
	etag         string // strong, quoted, of the identity encoding
	contentType  []string
	cacheControl []string

	identity       variant
	gzOnce, brOnce sync.Once
	gz, br         variant // body nil when compression failed
}

// variant is one encoding of a rendered body.
type variant struct {
	body                   []byte
	etag, length, encoding []string
}

func newVariant(body []byte, etag, encoding string) variant {
	v := variant{body: body, etag: []string{etag}, length: []string{strconv.Itoa(len(body))}}
	if encoding != "" {
		v.encoding = []string{encoding}
	}
	return v
}

func newRendered(body []byte, contentType, cacheControl string) *rendered {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:10]) + `"`
	return &rendered{etag: etag, contentType: []string{contentType}, cacheControl: []string{cacheControl},
		identity: newVariant(body, etag, "")}
}

// encodedETag is the tag of an encoding: the identity tag with a suffix,
// since the bytes differ (etagMatches takes the suffixes off again).
func (r *rendered) encodedETag(suffix string) string {
	return strings.TrimSuffix(r.etag, `"`) + suffix + `"`
}

// sameAs reports whether r and o are the same response.
func (r *rendered) sameAs(o *rendered) bool {
	return r.etag == o.etag && r.contentType[0] == o.contentType[0] && r.cacheControl[0] == o.cacheControl[0] &&
		bytes.Equal(r.identity.body, o.identity.body)
}

func (r *rendered) gzipped() variant {
	r.gzOnce.Do(func() {
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // the level is valid
		if _, err := w.Write(r.identity.body); err == nil && w.Close() == nil {
			r.gz = newVariant(b.Bytes(), r.encodedETag("-gz"), "gzip")
		}
	})
	return r.gz
}

func (r *rendered) brotli() variant {
	r.brOnce.Do(func() {
		var b bytes.Buffer
		w := brotli.NewWriterLevel(&b, 6)
		if _, err := w.Write(r.identity.body); err == nil && w.Close() == nil {
			r.br = newVariant(b.Bytes(), r.encodedETag("-br"), "br")
		}
	})
	return r.br
}

// variant is the encoding to send to a client that accepts these.
func (r *rendered) variant(acceptEncoding string) variant {
	switch pickEncoding(acceptEncoding) {
	case "br":
		if v := r.brotli(); v.body != nil {
			return v
		}
	case "gzip":
		if v := r.gzipped(); v.body != nil {
			return v
		}
	}
	return r.identity
}

// write sends r with its validators: 304 when If-None-Match matches, the
// best encoding the client accepts otherwise. Headers are assigned, not
// Set: the keys are canonical already and the values built.
func (r *rendered) write(c echo.Context, hdr *publicHeaders) error {
	req, res := c.Request(), c.Response()
	h := res.Header()
	h["Cache-Control"] = r.cacheControl
	h["Vary"] = hdr.vary
	v := r.variant(req.Header.Get("Accept-Encoding"))
	h["Etag"] = v.etag
	if etagMatches(req.Header.Get("If-None-Match"), r.etag) {
		res.WriteHeader(http.StatusNotModified)
		return nil
	}
	h["Content-Type"] = r.contentType
	h["Content-Length"] = v.length
	if v.encoding != nil {
		h["Content-Encoding"] = v.encoding
	}
	res.WriteHeader(http.StatusOK)
	if req.Method == http.MethodHead {
		return nil
	}
	_, err := res.Write(v.body)
	return err
}

// publicHeaders are the header values every cached public response
// sends, built once per Site.
type publicHeaders struct {
	vary, allowOrigin, exposeHeaders, stale []string
}

func newPublicHeaders() *publicHeaders {
	return &publicHeaders{vary: []string{"Accept-Encoding"}, allowOrigin: []string{"*"},
		exposeHeaders: []string{"ETag, X-Pharos-Stale"}, stale: []string{"1"}}
}

// etagMatches compares an If-None-Match list with a representation's tag,
// ignoring weakness and encoding suffixes (every encoding has the same
// content).
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	base := strings.Trim(etag, `"`)
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" {
			return true
		}
		t = strings.TrimSuffix(strings.TrimSuffix(strings.Trim(t, `"`), "-br"), "-gz")
		if t == base {
			return true
		}
	}
	return false
}

// pickEncoding chooses br, gzip or "" (identity) from Accept-Encoding, as
// the static files do.
func pickEncoding(accept string) string {
	if accept == "" {
		return "" // without parsing: a client that asks for nothing gets identity
	}
	return static.PickEncoding(accept)
}
