package public

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
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
	pending bool   // a page claims the host but has not proven it yet
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
	// Cached marks a route answered from the page's render cache
	// (servePublic): its loads and renders run under budgets of their
	// own, so the shell gives it no handler timeout, a timer per request
	// that a cache hit never needs.
	Cached bool
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

// routeIndex finds whether a request path is one of the public routes'
// paths. It looks only at the routes that share the path's first segment:
// every request passes through CustomDomain, and most (the console, the
// pages under /p/, the static files) share none.
type routeIndex struct {
	byFirst map[string][]Route // by the route path's first segment
	param   []Route            // routes whose first segment is a ":name"
}

func newRouteIndex(routes []Route) routeIndex {
	ix := routeIndex{byFirst: map[string][]Route{}}
	for _, r := range routes {
		if first := firstSegment(r.Path); strings.HasPrefix(first, ":") {
			ix.param = append(ix.param, r)
		} else {
			ix.byFirst[first] = append(ix.byFirst[first], r)
		}
	}
	return ix
}

func (ix routeIndex) matches(p string) bool {
	for _, r := range ix.byFirst[firstSegment(p)] {
		if r.matches(p) {
			return true
		}
	}
	for _, r := range ix.param {
		if r.matches(p) {
			return true
		}
	}
	return false
}

// firstSegment is p's first path segment, without its slash ("" for "/").
func firstSegment(p string) string {
	p = strings.TrimPrefix(p, "/")
	return p[:segmentEnd(p)]
}

// segmentEnd is the length of s's first path segment.
func segmentEnd(s string) int {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return i
	}
	return len(s)
}

// CustomDomain serves the routes at / when the request's Host is a page's
// verified custom domain, by rewriting the path to /p/{slug}/…. A domain a
// page claims but has not proven yet answers 404 saying so. On the
// service's own host (PHAROS_BASE_URL's, localhost, an address) it serves
// the default page (PHAROS_DEFAULT_PAGE) there the same way, or leaves the
// path alone, so / still leads to setup or the console. Any other host is
// nobody's: with PHAROS_BASE_URL set it never gets the default page (404);
// without it the service cannot tell its own names from others and treats
// every unclaimed host as its own. Paths that are no page's (/admin,
// /login, /setup, /api/v1) are never rewritten.
func (s *Site) CustomDomain(routes []Route) echo.MiddlewareFunc {
	ownHost := ""
	if u, err := url.Parse(s.baseURL); err == nil {
		ownHost = store.NormalDomain(u.Hostname())
	}
	isPublic := newRouteIndex(routes).matches
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if !isPublic(r.URL.Path) {
				return next(c)
			}
			host := r.Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			host = store.NormalDomain(host)
			own := host == "" || host == ownHost || host == "localhost" || net.ParseIP(strings.Trim(host, "[]")) != nil
			var e domainEntry
			if !own {
				e = s.domainSlug(c, host)
			}
			switch {
			case e.slug != "":
				c.Set(ctxCustomDomain, true)
			case e.pending:
				return echo.NewHTTPError(http.StatusNotFound,
					"No status page here yet: the page that claims "+host+" has not verified it.")
			case !own && ownHost != "" && s.defaultPage != "":
				return echo.NewHTTPError(http.StatusNotFound, "No status page at "+host+".")
			case s.defaultPage != "":
				e.slug = s.defaultPage
				c.Set(ctxDefaultPage, true)
			default:
				return next(c)
			}
			r.URL.Path = "/p/" + e.slug + r.URL.Path
			r.URL.RawPath = ""
			return next(c)
		}
	}
}

// domainSlug is what host is: a verified domain's page slug, a pending
// claim, or nothing (the zero entry).
func (s *Site) domainSlug(c echo.Context, host string) domainEntry {
	d := s.domains
	now := time.Now()
	d.mu.Lock()
	e, ok := d.entries[host]
	d.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), publicLoadBudget)
	claim, err := s.st.DomainClaimByHost(ctx, host)
	cancel()
	switch {
	case errors.Is(err, store.ErrNotFound):
		claim = store.DomainClaim{}
	case err != nil:
		if ok {
			return e // keep serving what we knew while the database is away
		}
		s.log.Warn("custom domain lookup", slog.String("host", host), slog.Any("error", err))
		return domainEntry{}
	}
	e = domainEntry{expires: now.Add(domainTTL)}
	if claim.Verified() {
		e.slug = claim.Slug
	} else {
		e.pending = claim.Domain != ""
	}
	d.mu.Lock()
	if len(d.entries) >= maxDomainKeys {
		clear(d.entries)
	}
	d.entries[host] = e
	d.mu.Unlock()
	return e
}

// ForgetDomain drops what the site remembers about host, so a domain just
// verified (or changed) is served at once rather than after domainTTL.
func (s *Site) ForgetDomain(host string) {
	s.domains.mu.Lock()
	delete(s.domains.entries, store.NormalDomain(host))
	s.domains.mu.Unlock()
}
