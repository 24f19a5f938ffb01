package public

import (
	"errors"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
)

// ctxCustomDomain marks a request that arrived on a page's own domain;
// ctxDefaultPage one served the default page at the main host's root.
const (
	ctxCustomDomain = "public_custom_domain"
	ctxDefaultPage  = "public_default_page"
)

const (
	domainTTL     = 30 * time.Second
	maxDomainKeys = 1024 // the Host header is the client's to choose
)

// domainCache remembers which host names are pages' custom domains (and
// which are not), so the Host check costs no query per request.
type domainCache struct {
	mu      sync.Mutex
	entries map[string]domainEntry
}

type domainEntry struct {
	slug    string // "" when the host is no page's domain
	expires time.Time
}

func newDomainCache() *domainCache { return &domainCache{entries: map[string]domainEntry{}} }

// Route is one public path, served under /p/{slug} and, on a page's custom
// domain, at the root. The shell's route table lists them; CustomDomain
// rewrites exactly these paths.
type Route struct {
	// Path is an echo path relative to the page, e.g. "/incidents/:id".
	Path    string
	Handler echo.HandlerFunc
	// Stream marks a long-lived response (server-sent events), answered
	// to GET only; every other route also answers HEAD.
	Stream bool
	// Method is the route's one method when it is not GET (the
	// subscription forms' POSTs); "" means GET and HEAD.
	Method string
}

// matches reports whether the request path p matches the route's path,
// where a ":name" segment matches any one non-empty segment.
func (r Route) matches(p string) bool {
	// Segment by segment, without allocating: this runs for every request.
	want := r.Path
	for {
		if want == "" || p == "" {
			return want == p
		}
		if want[0] != '/' || p[0] != '/' {
			return false
		}
		want, p = want[1:], p[1:]
		wi, pi := segmentEnd(want), segmentEnd(p)
		w, g := want[:wi], p[:pi]
		if strings.HasPrefix(w, ":") {
			if g == "" {
				return false
			}
		} else if w != g {
			return false
		}
		want, p = want[wi:], p[pi:]
	}
}

// segmentEnd is the length of s's first path segment.
func segmentEnd(s string) int {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return i
	}
	return len(s)
}

// CustomDomain serves the routes at / when the request's Host is a page's
// custom domain, by rewriting the path to /p/{slug}/…. On other hosts (the
// service's own name, addresses) it serves the default page
// (PHAROS_DEFAULT_PAGE) there the same way, or leaves the path alone, so /
// still leads to setup or the console; paths that are no page's (/admin,
// /login, /setup, /api/v1) are never rewritten.
func (s *Site) CustomDomain(routes []Route) echo.MiddlewareFunc {
	ownHost := ""
	if u, err := url.Parse(s.baseURL); err == nil {
		ownHost = strings.ToLower(u.Hostname())
	}
	isPublic := func(p string) bool {
		for _, r := range routes {
			if r.matches(p) {
				return true
			}
		}
		return false
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if !isPublic(r.URL.Path) {
				return next(c)
			}
			host := strings.ToLower(r.Host)
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			slug := ""
			if host != "" && host != ownHost && host != "localhost" && net.ParseIP(strings.Trim(host, "[]")) == nil {
				slug = s.domainSlug(c, host)
			}
			switch {
			case slug != "":
				c.Set(ctxCustomDomain, true)
			case s.defaultPage != "":
				slug = s.defaultPage
				c.Set(ctxDefaultPage, true)
			default:
				return next(c)
			}
			r.URL.Path = "/p/" + slug + r.URL.Path
			r.URL.RawPath = ""
			return next(c)
		}
	}
}

// domainSlug is the slug of the page whose custom domain host is, or "".
func (s *Site) domainSlug(c echo.Context, host string) string {
	d := s.domains
	now := time.Now()
	d.mu.Lock()
	e, ok := d.entries[host]
	d.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.slug
	}
	page, err := s.st.PageByDomain(c.Request().Context(), host)
	switch {
	case errors.Is(err, store.ErrNotFound):
		page = store.Page{}
	case err != nil:
		if ok {
			return e.slug // keep serving what we knew while the database is away
		}
		s.log.Warn("custom domain lookup", slog.String("host", host), slog.Any("error", err))
		return ""
	}
	d.mu.Lock()
	if len(d.entries) >= maxDomainKeys {
		clear(d.entries)
	}
	d.entries[host] = domainEntry{slug: page.Slug, expires: now.Add(domainTTL)}
	d.mu.Unlock()
	return page.Slug
}
