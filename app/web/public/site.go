// Package public serves the public status pages (DESIGN §8): /p/{slug}/…
// and, on a page's custom domain, the same paths at /: the page, incidents,
// history, feeds, badge, server-sent events and the Statuspage v2 documents.
// Every response is rendered from the page's cached snapshot (cache.go).
package public

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
	"pharos/app/store"
	"pharos/app/web/respond"
	"pharos/views"
)

const (
	publicCacheControl = "public, max-age=10"
	staleCacheControl  = "public, max-age=2"
	feedCacheControl   = "public, max-age=60"
	badgeCacheControl  = "public, max-age=30"
)

// Options configures a Site.
type Options struct {
	Store *store.Store
	// Bus carries the pages' live events (nil: no live updates; the pages
	// still work and refresh on a short TTL).
	Bus bus.Events
	// BaseURL is the service's public URL; pages link to themselves under it.
	BaseURL string
	// DefaultPage is the slug of the page served at the root of the
	// service's own host (PHAROS_DEFAULT_PAGE); "" for none.
	DefaultPage string
	Logger      *slog.Logger
	// Subscribe configures the subscription pages (subscribe.go).
	Subscribe SubscribeOptions
	// Streams caps the open event streams (streams.go).
	Streams StreamLimits
}

// Site serves the public status pages: render cache, page event hubs,
// custom-domain lookups and the Markdown renderer.
type Site struct {
	st          *store.Store
	bus         bus.Events
	baseURL     string
	defaultPage string
	log         *slog.Logger

	cache   *publicCache
	hdr     *publicHeaders
	hubs    *hubs
	domains *domainCache
	md      *respond.Markdown
	subs    *subscriptions
	streams *streamGate
	// live ends the event streams when the server shuts down.
	live     context.Context
	stopLive context.CancelFunc
	// following is closed once Run first tried to subscribe.
	following  chan struct{}
	followOnce sync.Once
}

// New builds a Site; Run follows the pages' events, Stop ends the event
// streams.
func New(opts Options) *Site {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	live, stop := context.WithCancel(context.Background())
	return &Site{st: opts.Store, bus: opts.Bus, baseURL: opts.BaseURL, defaultPage: opts.DefaultPage, log: opts.Logger,
		cache: newPublicCache(), hdr: newPublicHeaders(), hubs: newHubs(), domains: newDomainCache(), md: respond.NewMarkdown(),
		subs: newSubscriptions(opts.Subscribe), live: live, stopLive: stop, following: make(chan struct{}),
		streams: newStreamGate(opts.Streams)}
}

// StreamLimits are the caps on event streams in force, defaults filled in.
func (s *Site) StreamLimits() StreamLimits { return s.streams.limits }

// Collectors are the site's metrics, for the server's registry.
func (s *Site) Collectors() []prometheus.Collector { return s.streams.collectors() }

// Stop ends every event stream; the server calls it when it shuts down.
func (s *Site) Stop() { s.stopLive() }

// publicReq is what a response depends on besides the snapshot.
type publicReq struct {
	slug string
	base string // link prefix: "/p/{slug}" or "" on the custom domain
	// root is the page's canonical URL, without the trailing slash: its
	// custom domain, else under PHAROS_BASE_URL, else the host-relative
	// /p/{slug}. Never built from the request's Host header, which the
	// client chooses (and a cache would then serve to everyone).
	root string
	// self is the prefix of the URL this request fetched, built the same
	// way: the custom domain when the request came there, PHAROS_BASE_URL
	// itself for the default page at the root, else PHAROS_BASE_URL's
	// /p/{slug}, else /p/{slug}.
	self string
}

// place is where a request for a page came: under /p/{slug} on the
// service's host, on the page's custom domain, or at the service's root
// as its default page. With the page, it decides every link of a response.
type place uint8

const (
	underSlug place = iota
	onDomain
	atRoot
)

func placeOf(c echo.Context) place {
	if on, _ := c.Get(ctxCustomDomain).(bool); on {
		return onDomain
	}
	if root, _ := c.Get(ctxDefaultPage).(bool); root {
		return atRoot
	}
	return underSlug
}

func (s *Site) publicReq(c echo.Context, page store.Page) publicReq {
	return s.publicReqAt(placeOf(c), page)
}

func (s *Site) publicReqAt(at place, page store.Page) publicReq {
	pr := publicReq{slug: page.Slug, base: "/p/" + page.Slug}
	under := "/p/" + page.Slug
	if s.baseURL != "" {
		under = strings.TrimSuffix(s.baseURL, "/") + under
	}
	pr.root, pr.self = page.PublicRoot(s.baseURL), under
	switch at {
	case onDomain:
		pr.base, pr.self = "", pr.root
	case atRoot:
		pr.base, pr.self = "", strings.TrimSuffix(s.baseURL, "/")
	}
	return pr
}

type buildFunc func(ctx context.Context, st *pageState, pr publicReq) (*rendered, error)

// servePublic answers one public resource from the page's cache. A hit
// builds nothing: no strings, no header values (rendered holds them).
func (s *Site) servePublic(c echo.Context, name string, build buildFunc) error {
	ctx := c.Request().Context()
	st, err := s.pageState(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	at := placeOf(c)
	r, err := st.render(ctx, renderKey{name: name, place: at}, func(ctx context.Context, st *pageState) (*rendered, error) {
		return build(ctx, st, s.publicReqAt(at, st.snap.page))
	})
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h["Access-Control-Allow-Origin"] = s.hdr.allowOrigin
	h["Access-Control-Expose-Headers"] = s.hdr.exposeHeaders
	if st.stale {
		h["X-Pharos-Stale"] = s.hdr.stale
	}
	return r.write(c, s.hdr)
}

// FromCache reports whether the response was answered from a page's render
// cache: the shell counts those instead of logging each one. The mark is
// the site's own Access-Control-Expose-Headers value, recognised by
// identity, which only servePublic assigns: unlike a context value
// (c.Set makes a map per request), it costs a cache hit nothing.
func (s *Site) FromCache(c echo.Context) bool {
	v := c.Response().Header()["Access-Control-Expose-Headers"]
	return len(v) == 1 && &v[0] == &s.hdr.exposeHeaders[0]
}

// renderHTML renders a page component into a cacheable response.
func renderHTML(ctx context.Context, comp templ.Component, stale bool) (*rendered, error) {
	body, err := respond.Bytes(ctx, comp)
	if err != nil {
		return nil, err
	}
	return newRendered(body, "text/html; charset=utf-8", pageCacheControl(stale)), nil
}

// pageCacheControl is the Cache-Control of a page or API document: stale
// data is cached only briefly, so recovery shows quickly.
func pageCacheControl(stale bool) string {
	if stale {
		return staleCacheControl
	}
	return publicCacheControl
}

// Page serves the status page.
func (s *Site) Page(c echo.Context) error {
	return s.servePublic(c, "page", func(ctx context.Context, st *pageState, pr publicReq) (*rendered, error) {
		return renderHTML(ctx, views.StatusPage(s.pageView(st.snap, pr.base, st.stale)), st.stale)
	})
}

// Incident serves one incident with its timeline.
func (s *Site) Incident(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return store.ErrNotFound
	}
	return s.servePublic(c, "incident:"+strconv.FormatInt(id, 10), func(ctx context.Context, st *pageState, pr publicReq) (*rendered, error) {
		in, err := st.snap.incident(ctx, s.st, id)
		if err != nil {
			return nil, err
		}
		v := s.incidentView(st.snap, in, pr.base)
		p := views.IncidentPage{Frame: s.frame(st.snap, pr.base, in.Name+" · "+st.snap.page.Title, st.stale), Incident: v}
		return renderHTML(ctx, views.IncidentDetail(p), st.stale)
	})
}

// incident returns an incident from the snapshot, or from the store when it
// is older than the snapshot holds.
func (sn *snapshot) incident(ctx context.Context, st *store.Store, id int64) (store.PublicIncident, error) {
	for _, in := range sn.incidents {
		if in.ID == id {
			return in, nil
		}
	}
	return st.PublicIncident(ctx, sn.page.OrgID, sn.page.ID, id)
}

// historyMonths is how many months one history page shows.
const historyMonths = 3

// History serves past incidents and maintenance, three months a page (?page=N).
func (s *Site) History(c echo.Context) error {
	n := 0
	if v := c.QueryParam("page"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 || n > 400 {
			return store.ErrNotFound
		}
	}
	return s.servePublic(c, "history:"+strconv.Itoa(n), func(ctx context.Context, st *pageState, pr publicReq) (*rendered, error) {
		p, err := s.historyView(ctx, st, pr, n)
		if err != nil {
			return nil, err
		}
		return renderHTML(ctx, views.History(p), st.stale)
	})
}

// historyView builds history page n (0 = the current month and the two
// before it).
func (s *Site) historyView(ctx context.Context, st *pageState, pr publicReq, n int) (views.HistoryPage, error) {
	sn := st.snap
	now := sn.local(sn.loadedAt) // months are the page zone's, like the times shown
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
	newest := thisMonth.AddDate(0, -n*historyMonths, 0)
	oldest := newest.AddDate(0, -(historyMonths - 1), 0)
	incidents, err := s.st.PublicIncidents(ctx, sn.page.OrgID, sn.page.ID,
		store.IncidentFilter{StartedFrom: oldest, StartedBefore: newest.AddDate(0, 1, 0)})
	if err != nil {
		return views.HistoryPage{}, err
	}
	p := views.HistoryPage{Frame: s.frame(sn, pr.base, "History · "+sn.page.Title, st.stale)}
	occ := sn.occurrences()
	olderMaintenance := false
	for m := newest; !m.Before(oldest); m = m.AddDate(0, -1, 0) {
		mv := views.MonthView{Label: m.Format("January 2006")}
		next := m.AddDate(0, 1, 0)
		for _, in := range incidents {
			if !in.StartedAt.Before(m) && in.StartedAt.Before(next) {
				mv.Incidents = append(mv.Incidents, s.incidentView(sn, in, pr.base))
			}
		}
		for _, o := range occ {
			if o.status == maintCompleted && !o.from.Before(m) && o.from.Before(next) {
				mv.Maintenance = append(mv.Maintenance, s.maintenanceView(sn, o))
			}
		}
		p.Months = append(p.Months, mv)
	}
	for _, o := range occ {
		olderMaintenance = olderMaintenance || (o.status == maintCompleted && o.from.Before(oldest))
	}
	if n > 0 {
		p.NewerURL = pr.base + "/history"
		if n > 1 {
			p.NewerURL += "?page=" + strconv.Itoa(n-1)
		}
	}
	older, err := s.st.IncidentsStartedBefore(ctx, sn.page.OrgID, sn.page.ID, oldest)
	if err != nil {
		return views.HistoryPage{}, err
	}
	if older || olderMaintenance {
		p.OlderURL = pr.base + "/history?page=" + strconv.Itoa(n+1)
	}
	return p, nil
}
