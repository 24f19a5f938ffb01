package web

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"pharos/app/store"
	"pharos/app/web/api"
	"pharos/app/web/auth"
	"pharos/app/web/console"
	"pharos/app/web/public"
	"pharos/static"
)

// routes lists every route of the server; nothing else installs one.
func (s *Server) routes() {
	e := s.e
	pages := s.publicRoutes()
	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{
		Skipper: func(c echo.Context) bool { return !isAPIPath(c.Request().URL.Path) },
	}))
	e.Pre(s.site.CustomDomain(pages))
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: requestID}))
	// Outside the logger, whose error handling renders with the request's
	// context: that context must still be live then.
	e.Use(handlerTimeout(pages))
	e.Use(s.requestLogger())
	e.Use(middleware.Recover())
	e.Use(securityHeaders())
	e.Use(bodyLimit())

	// Operations.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsHandler())
	e.GET(static.Prefix+"*", echo.WrapHandler(static.Handler()))

	// Authentication runs per route rather than per group, so an unknown
	// path is a plain 404 for everyone.
	session := func(need store.Role) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{s.auth.RequireSession, auth.RequireRole(need)}
	}
	token := func(need store.Role) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{s.auth.RequireToken, auth.RequireRole(need)}
	}
	const viewer, editor, owner = store.RoleViewer, store.RoleEditor, store.RoleOwner

	// Accounts. Setup, login, password reset and invitation links have no
	// session yet: their forms carry a signed double-submit CSRF token
	// instead.
	con := s.console
	e.GET("/", con.Root)
	e.GET("/setup", con.SetupForm)
	e.POST("/setup", con.SetupSubmit)
	e.GET("/login", con.LoginForm)
	e.POST("/login", con.LoginSubmit)
	e.GET("/login/reset", con.ResetForm)
	e.POST("/login/reset", con.ResetSubmit)
	e.GET("/login/reset/confirm", con.ResetConfirmForm)
	e.POST("/login/reset/confirm", con.ResetConfirmSubmit)
	e.GET("/invite", con.InviteForm)
	e.POST("/invite", con.InviteSubmit)
	e.POST("/logout", con.Logout, session(viewer)...)
	e.POST("/session/org", con.SwitchOrg, session(viewer)...)

	// Admin console: session cookie, CSRF token on every POST, a role on
	// every route.
	e.GET("/admin", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/admin/") })
	e.GET("/admin/", con.Home, session(viewer)...)
	e.GET("/admin/audit", con.AuditLog, session(viewer)...)
	e.GET("/admin/deliveries", con.Deliveries, session(editor)...)
	e.GET("/admin/pages/:id", con.Page, session(viewer)...)
	e.GET("/admin/components/:id", con.Component, session(viewer)...)
	e.GET("/admin/checks/:id", con.Check, session(viewer)...)
	e.GET("/admin/certificates", con.Certificates, session(viewer)...)
	// Editing the catalogue: the same validation and writes as pharos apply.
	e.GET("/admin/pages/new", con.PageNew, session(editor)...)
	e.POST("/admin/pages", con.PageCreate, session(editor)...)
	e.GET("/admin/pages/:id/edit", con.PageEdit, session(editor)...)
	e.POST("/admin/pages/:id", con.PageUpdate, session(editor)...)
	e.POST("/admin/pages/:id/delete", con.PageDelete, session(editor)...)
	domains := s.domainVerifier()
	e.POST("/admin/pages/:id/domain/verify", console.NewDomains(con, domains).Verify, session(editor)...)
	e.POST("/admin/pages/:id/groups", con.GroupCreate, session(editor)...)
	e.POST("/admin/pages/:id/groups/:group", con.GroupUpdate, session(editor)...)
	e.POST("/admin/pages/:id/groups/:group/delete", con.GroupDelete, session(editor)...)
	e.GET("/admin/pages/:id/components/new", con.ComponentNew, session(editor)...)
	e.POST("/admin/pages/:id/components", con.ComponentCreate, session(editor)...)
	e.GET("/admin/components/:id/edit", con.ComponentEdit, session(editor)...)
	e.POST("/admin/components/:id", con.ComponentUpdate, session(editor)...)
	e.POST("/admin/components/:id/delete", con.ComponentDelete, session(editor)...)
	e.GET("/admin/pages/:id/checks/new", con.CheckNew, session(editor)...)
	e.POST("/admin/pages/:id/checks", con.CheckCreate, session(editor)...)
	e.GET("/admin/checks/:id/edit", con.CheckEdit, session(editor)...)
	e.POST("/admin/checks/:id", con.CheckUpdate, session(editor)...)
	e.POST("/admin/checks/:id/delete", con.CheckDelete, session(editor)...)
	e.POST("/admin/checks/:id/enabled", con.SetCheckEnabled, session(editor)...)
	e.POST("/admin/checks/:id/run", con.RunCheck, session(editor)...)
	e.POST("/admin/components/:id/status", con.SetComponentStatus, session(editor)...)
	e.GET("/admin/incidents", con.Incidents, session(viewer)...)
	e.GET("/admin/incidents/new", con.NewIncident, session(editor)...)
	e.POST("/admin/incidents", con.CreateIncident, session(editor)...)
	e.GET("/admin/incidents/:id", con.Incident, session(viewer)...)
	e.POST("/admin/incidents/:id/updates", con.PostUpdate, session(editor)...)
	e.POST("/admin/incidents/:id/updates/:update", con.EditUpdate, session(editor)...)
	e.POST("/admin/incidents/:id/postmortem", con.Postmortem, session(editor)...)
	e.POST("/admin/incidents/:id/publish", con.PublishDraft, session(editor)...)
	e.POST("/admin/incidents/:id/discard", con.DiscardDraft, session(editor)...)
	e.POST("/admin/incidents/:id/delete", con.DeleteIncident, session(owner)...)
	e.GET("/admin/maintenance", con.Maintenance, session(viewer)...)
	e.GET("/admin/maintenance/new", con.NewMaintenance, session(editor)...)
	e.POST("/admin/maintenance", con.CreateMaintenance, session(editor)...)
	e.POST("/admin/maintenance/:id/delete", con.DeleteMaintenance, session(editor)...)
	e.GET("/admin/pages/:id/templates", con.Templates, session(viewer)...)
	e.POST("/admin/pages/:id/templates", con.SaveTemplate, session(editor)...)
	e.POST("/admin/pages/:id/templates/:template/delete", con.DeleteTemplate, session(editor)...)
	e.GET("/admin/subscribers", con.Subscribers, session(viewer)...)
	e.POST("/admin/subscribers/:id/delete", con.DeleteSubscriber, session(editor)...)
	al := s.alerts()
	e.GET("/admin/alerts", al.Page, session(viewer)...)
	e.POST("/admin/alerts/channels", al.CreateChannel, session(owner)...)
	e.POST("/admin/alerts/channels/:id/test", al.TestChannel, session(owner)...)
	e.POST("/admin/alerts/channels/:id/enabled", al.SetChannelEnabled, session(owner)...)
	e.POST("/admin/alerts/channels/:id/delete", al.DeleteChannel, session(owner)...)
	e.POST("/admin/alerts/:id/ack", al.Acknowledge, session(editor)...)
	// An alert message's ack link: no session, its token authenticates.
	e.GET("/alerts/:id/ack", al.AckPage)
	e.POST("/alerts/:id/ack", al.AckSubmit)
	e.POST("/admin/tokens", con.CreateToken, session(owner)...)
	e.POST("/admin/tokens/:id/revoke", con.RevokeToken, session(owner)...)
	e.GET("/admin/team", con.Team, session(viewer)...)
	e.GET("/admin/orgs", con.Orgs, session(viewer)...)
	e.POST("/admin/team/invites", con.CreateInvite, session(owner)...)
	e.POST("/admin/team/invites/:id/revoke", con.RevokeInvite, session(owner)...)
	e.POST("/admin/team/members/:id/role", con.SetMemberRole, session(owner)...)
	e.POST("/admin/team/members/:id/remove", con.RemoveMember, session(owner)...)

	// Admin API: bearer tokens only, JSON.
	a := s.api
	e.GET("/api/v1/pages", a.Pages, token(viewer)...)
	e.GET("/api/v1/pages/:id", a.Page, token(viewer)...)
	e.GET("/api/v1/components/:id", a.Component, token(viewer)...)
	e.GET("/api/v1/checks/:id", a.Check, token(viewer)...)
	e.GET("/api/v1/certificates", a.Certificates, token(viewer)...)
	e.GET("/api/v1/regions", a.Regions, token(viewer)...)
	e.POST("/api/v1/checks/:id/enabled", a.SetCheckEnabled, token(editor)...)
	e.POST("/api/v1/checks/:id/run", a.RunCheck, token(editor)...)
	e.POST("/api/v1/apply", a.Apply, token(editor)...)
	e.POST("/api/v1/pages/:id/domain/verify", api.NewDomains(s.st, domains).Verify, token(editor)...)
	// Management API shaped like Statuspage's v1; :id is the page's id or slug.
	e.GET("/api/v1/pages/:id/incidents", a.V1Incidents, token(viewer)...)
	e.POST("/api/v1/pages/:id/incidents", a.V1CreateIncident, token(editor)...)
	e.GET("/api/v1/pages/:id/incidents/unresolved", a.V1UnresolvedIncidents, token(viewer)...)
	e.GET("/api/v1/pages/:id/incidents/scheduled", a.V1ScheduledIncidents, token(viewer)...)
	e.GET("/api/v1/pages/:id/incidents/upcoming", a.V1UpcomingIncidents, token(viewer)...)
	e.GET("/api/v1/pages/:id/incidents/active_maintenance", a.V1ActiveMaintenance, token(viewer)...)
	e.GET("/api/v1/pages/:id/incidents/:incident_id", a.V1Incident, token(viewer)...)
	e.PATCH("/api/v1/pages/:id/incidents/:incident_id", a.V1UpdateIncident, token(editor)...)
	e.PUT("/api/v1/pages/:id/incidents/:incident_id", a.V1UpdateIncident, token(editor)...)
	e.DELETE("/api/v1/pages/:id/incidents/:incident_id", a.V1DeleteIncident, token(editor)...)
	e.GET("/api/v1/pages/:id/components", a.V1Components, token(viewer)...)
	e.GET("/api/v1/pages/:id/components/:component_id", a.V1Component, token(viewer)...)
	e.PATCH("/api/v1/pages/:id/components/:component_id", a.V1UpdateComponent, token(editor)...)
	e.PUT("/api/v1/pages/:id/components/:component_id", a.V1UpdateComponent, token(editor)...)
	e.GET("/api/v1/pages/:id/subscribers", a.V1Subscribers, token(viewer)...)
	e.POST("/api/v1/pages/:id/subscribers", a.V1CreateSubscriber, token(editor)...)
	e.GET("/api/v1/pages/:id/subscribers/:subscriber_id", a.V1Subscriber, token(viewer)...)
	e.DELETE("/api/v1/pages/:id/subscribers/:subscriber_id", a.V1DeleteSubscriber, token(editor)...)

	// Public status pages: each path under /p/{slug}, and at / on the
	// page's custom domain (CustomDomain above reads the same table).
	e.GET("/p/:slug", func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, "/p/"+c.Param("slug")+"/")
	})
	for _, r := range pages {
		if r.Method != "" {
			e.Add(r.Method, "/p/:slug"+r.Path, r.Handler)
			continue
		}
		if r.Stream {
			e.GET("/p/:slug"+r.Path, r.Handler)
			continue
		}
		e.Match([]string{http.MethodGet, http.MethodHead}, "/p/:slug"+r.Path, r.Handler)
	}
}

// publicRoutes is the table of a status page's paths.
func (s *Server) publicRoutes() []public.Route {
	site := s.site
	rs := []public.Route{
		{Path: "/", Handler: site.Page, Cached: true},
		{Path: "/incidents/:id", Handler: site.Incident, Cached: true},
		{Path: "/history", Handler: site.History, Cached: true},
		{Path: "/subscribe", Handler: site.Subscribe},
		{Path: "/subscribe", Method: http.MethodPost, Handler: site.SubscribeSubmit},
		{Path: "/subscribe/confirm", Handler: site.SubscribeConfirm},
		{Path: "/subscribe/confirm", Method: http.MethodPost, Handler: site.SubscribeConfirmSubmit},
		{Path: "/subscribe/manage", Handler: site.SubscribeManage},
		{Path: "/subscribe/manage", Method: http.MethodPost, Handler: site.SubscribeManageSubmit},
		{Path: "/unsubscribe", Handler: site.UnsubscribeForm},
		{Path: "/unsubscribe", Method: http.MethodPost, Handler: site.Unsubscribe},
		{Path: "/feed.atom", Handler: site.Atom, Cached: true},
		{Path: "/feed.rss", Handler: site.RSS, Cached: true},
		{Path: "/history.atom", Handler: site.Atom, Cached: true}, // Statuspage's feed paths
		{Path: "/history.rss", Handler: site.RSS, Cached: true},
		{Path: "/maintenance.ics", Handler: site.MaintenanceICS, Cached: true},
		{Path: "/badge.svg", Handler: site.Badge, Cached: true},
		{Path: "/badge.json", Handler: site.BadgeJSON, Cached: true}, // shields.io endpoint document
		{Path: "/components/:id/badge.svg", Handler: site.ComponentBadge, Cached: true},
		{Path: "/components/:id/badge.json", Handler: site.ComponentBadgeJSON, Cached: true},
		{Path: "/events", Handler: site.Events, Stream: true},
	}
	for _, name := range public.Documents() {
		rs = append(rs, public.Route{Path: "/api/v2/" + name, Handler: site.API(name), Cached: true})
	}
	// CORS preflights for what other origins fetch with extra headers
	// (Cache-Control, If-None-Match, EventSource's Last-Event-ID): the
	// documents, the event stream, the feeds and the badges.
	crossOrigin := []string{"/feed.atom", "/feed.rss", "/history.atom", "/history.rss", "/badge.svg", "/badge.json"}
	for _, r := range rs {
		if r.Method == "" && (strings.HasPrefix(r.Path, "/api/v2/") || r.Stream || slices.Contains(crossOrigin, r.Path)) {
			rs = append(rs, public.Route{Path: r.Path, Method: http.MethodOptions, Handler: site.Preflight})
		}
	}
	return rs
}

func isAPIPath(p string) bool { return len(p) > 5 && p[:5] == "/api/" }

// alerts builds the on-call screens (console/alerts.go) from the server's
// options.
func (s *Server) alerts() *console.Alerts {
	return console.NewAlerts(console.AlertsOptions{Store: s.st, AllowPrivate: s.opts.AllowPrivate, BaseURL: s.opts.BaseURL,
		EmailOff: s.opts.Mailer == nil, Logger: s.log})
}

// domainVerifier proves pages' custom domains (public/domain_verify.go):
// the service's own names are never a page's, and a domain just verified
// is served at once.
func (s *Server) domainVerifier() *public.DomainVerifier {
	o := s.opts.DomainVerify
	o.AllowPrivate = o.AllowPrivate || s.opts.AllowPrivate
	o.ServiceHosts = store.ServiceHosts(s.opts.BaseURL, s.opts.Listen)
	changed := pageChanged(s.site, s.opts.Bus, s.log)
	o.Verified = func(ctx context.Context, slug, domain string) {
		s.site.ForgetDomain(domain)
		changed(ctx, slug)
	}
	return public.NewDomainVerifier(o)
}
