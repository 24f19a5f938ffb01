package web

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

// ctxCustomDomain marks a request that arrived on a page's own domain.
const ctxCustomDomain = "public_custom_domain"

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

// publicPaths are the paths a custom domain serves at its root.
func isPublicPath(p string) bool {
	switch p {
	case "/", "/history", "/subscribe", "/feed.atom", "/feed.rss", "/badge.svg", "/events":
		return true
	}
	return strings.HasPrefix(p, "/incidents/") || strings.HasPrefix(p, "/api/v2/")
}

// customDomain serves a page's public paths at / when the request's Host is
// the page's custom domain, by rewriting the path to /p/{slug}/…. Other
// hosts (the service's own name, addresses) are untouched, so / still leads
// to setup or the console there.
func (s *Server) customDomain(next echo.HandlerFunc) echo.HandlerFunc {
	ownHost := ""
	if u, err := url.Parse(s.opts.BaseURL); err == nil {
		ownHost = strings.ToLower(u.Hostname())
	}
	return func(c echo.Context) error {
		r := c.Request()
		if !isPublicPath(r.URL.Path) {
			return next(c)
		}
		host := strings.ToLower(r.Host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" || host == ownHost || host == "localhost" || net.ParseIP(strings.Trim(host, "[]")) != nil {
			return next(c)
		}
		slug, err := s.domainSlug(c, host)
		if err != nil {
			return err
		}
		if slug == "" {
			return next(c)
		}
		c.Set(ctxCustomDomain, true)
		r.URL.Path = "/p/" + slug + r.URL.Path
		r.URL.RawPath = ""
		return next(c)
	}
}

func (s *Server) domainSlug(c echo.Context, host string) (string, error) {
	d := s.pub.domains
	now := time.Now()
	d.mu.Lock()
	e, ok := d.entries[host]
	d.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.slug, nil
	}
	page, err := s.st.PageByDomain(c.Request().Context(), host)
	switch {
	case errors.Is(err, store.ErrNotFound):
		page = store.Page{}
	case err != nil:
		if ok {
			return e.slug, nil // keep serving what we knew while the database is away
		}
		s.log.Warn("custom domain lookup", slog.String("host", host), slog.Any("error", err))
		return "", nil
	}
	d.mu.Lock()
	if len(d.entries) >= maxDomainKeys {
		clear(d.entries)
	}
	d.entries[host] = domainEntry{slug: page.Slug, expires: now.Add(domainTTL)}
	d.mu.Unlock()
	return page.Slug, nil
}
