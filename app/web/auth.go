package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
)

// sessionCookie carries the raw session token; only its hash is stored.
const sessionCookie = "pharos_session"

// principal is who a request acts as: a signed-in user (console) or an API
// token (/api/v1), always within exactly one organisation.
type principal struct {
	OrgID   int64
	OrgName string
	Role    store.Role
	User    store.User     // zero for token requests
	Token   store.APIToken // zero for session requests
	CSRF    string         // the session's CSRF token; "" for token requests
	// rawSession is the cookie value, kept so sign-out can delete it.
	rawSession string
}

// actor is how the principal appears in the audit log.
func (p *principal) actor() store.Actor {
	if p.Token.ID != 0 {
		return store.TokenActor(p.Token)
	}
	return store.UserActor(p.User)
}

// applyActor is the actor string handed to packages that take one.
func (p *principal) applyActor() string { return p.actor().Name }

const principalKey = "pharos.principal"

// principalOf returns the request's principal, or nil outside authenticated
// routes.
func principalOf(c echo.Context) *principal {
	p, _ := c.Get(principalKey).(*principal)
	return p
}

// mustPrincipal returns the principal of an authenticated route; a missing
// one is a routing mistake, reported as a 500 rather than served.
func mustPrincipal(c echo.Context) (*principal, error) {
	p := principalOf(c)
	if p == nil {
		return nil, errors.New("web: route has no authentication middleware")
	}
	return p, nil
}

// sessionPrincipal reads the session cookie; nil (and no error) when the
// request carries no live session.
func (s *Server) sessionPrincipal(c echo.Context) (*principal, error) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	ses, err := s.st.SessionByToken(c.Request().Context(), ck.Value)
	if errors.Is(err, store.ErrNotFound) {
		s.clearCookie(c, sessionCookie)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &principal{
		OrgID: ses.OrgID, OrgName: ses.OrgName, Role: ses.Role, User: ses.User(),
		CSRF: ses.CSRFToken, rawSession: ck.Value,
	}, nil
}

// requireSession guards the console: it needs a live session, and a valid
// CSRF token on every state-changing request. Pages send signed-out
// browsers to the login form.
func (s *Server) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.sessionPrincipal(c)
		if err != nil {
			return err
		}
		safe := isSafeMethod(c.Request().Method)
		if p == nil {
			if safe {
				return c.Redirect(http.StatusSeeOther, "/login")
			}
			return echo.NewHTTPError(http.StatusUnauthorized, "Sign in first.")
		}
		if !safe {
			if err := checkSessionCSRF(c, p.CSRF); err != nil {
				return err
			}
		}
		// Console pages carry the CSRF token and tenant data: keep them out
		// of shared and back-button caches.
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		c.Set(principalKey, p)
		return next(c)
	}
}

// requireToken guards /api/v1: only "Authorization: Bearer phr_…" counts. A
// session cookie is ignored, so the API needs no CSRF protection and a
// browser cannot be tricked into calling it.
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		scheme, raw, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		raw = strings.TrimSpace(raw)
		if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="pharos"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "An API token is required: Authorization: Bearer phr_…")
		}
		tok, err := s.st.TokenByRaw(c.Request().Context(), raw)
		if errors.Is(err, store.ErrNotFound) {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="pharos", error="invalid_token"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "The API token is unknown or revoked.")
		}
		if err != nil {
			return err
		}
		org, err := s.st.Org(c.Request().Context(), tok.OrgID)
		if err != nil {
			return err
		}
		c.Set(principalKey, &principal{OrgID: tok.OrgID, OrgName: org.Name, Role: tok.Role, Token: tok})
		return next(c)
	}
}

// requireRole refuses principals whose role does not allow need.
func requireRole(need store.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, err := mustPrincipal(c)
			if err != nil {
				return err
			}
			if !p.Role.Allows(need) {
				return echo.NewHTTPError(http.StatusForbidden, "Your role ("+string(p.Role)+") may not do this; it needs "+string(need)+".")
			}
			return next(c)
		}
	}
}

func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// setSessionCookie hands the browser its session token.
func (s *Server) setSessionCookie(c echo.Context, raw string) {
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: raw, Path: "/",
		MaxAge:   int(store.SessionMaxAge.Seconds()),
		HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearCookie(c echo.Context, name string) {
	c.SetCookie(&http.Cookie{
		Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// audit records an admin action. A failure to record is a failure of the
// request: an action that cannot be audited must not look successful.
func (s *Server) audit(c echo.Context, p *principal, action, target string, detail any) error {
	if err := s.st.Audit(c.Request().Context(), p.OrgID, p.actor(), action, target, detail); err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "admin action", slog.String("actor", p.actor().Name),
		slog.Int64("org_id", p.OrgID), slog.String("action", action), slog.String("target", target))
	return nil
}
