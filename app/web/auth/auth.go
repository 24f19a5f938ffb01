// Package auth decides who a web request acts as: console sessions, API
// tokens (Bearer, and OAuth for the Statuspage-shaped API), roles, CSRF
// (session and pre-session), login rate limits and the principal in the
// request context. It knows nothing of the server that mounts it.
package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
)

// sessionCookie carries the raw session token; only its hash is stored.
const sessionCookie = "pharos_session"

// cookieName is name as the browser keeps it: with the __Host- prefix when
// cookies are Secure (HTTPS), so no subdomain and no plain-HTTP response
// can set or overwrite it.
func (a *Auth) cookieName(name string) string {
	if a.opts.SecureCookies {
		return "__Host-" + name
	}
	return name
}

// Options configures an Auth.
type Options struct {
	Store         *store.Store
	Logger        *slog.Logger
	SecretKey     string
	SecureCookies bool
	// PasswordCost is the bcrypt cost for new passwords (0 means
	// store.DefaultPasswordCost; tests use bcrypt.MinCost).
	PasswordCost int
	// CheckPassword verifies a password against its hash (nil means
	// store.CheckPassword). Tests count calls through it.
	CheckPassword func(hash store.PasswordHash, password string) error
	// HashPassword hashes a new password (nil means store.HashPassword).
	// Tests count calls through it.
	HashPassword func(password string, cost int) (store.PasswordHash, error)
	// HashConcurrency caps the password hashes and verifications running
	// at once, across sign-in, setup, invitations and resets (default
	// GOMAXPROCS); a request waits at most HashWait (default 2s) for a
	// slot, then gets 503 with Retry-After.
	HashConcurrency int
	HashWait        time.Duration
	// LoginAttempts is how many sign-in attempts one account gets from one
	// client network (an IPv4 address, an IPv6 /64) per LoginWindow
	// (defaults 10 per minute). LoginNetworkAttempts bounds one network's
	// attempts over all accounts (default 3 × LoginAttempts), and
	// LoginAccountAttempts one account's over all networks (default
	// 10 × LoginAttempts): guessing from elsewhere cannot lock a user out
	// of their own network unless it comes from many networks at once.
	LoginAttempts        int
	LoginNetworkAttempts int
	LoginAccountAttempts int
	LoginWindow          time.Duration
}

// Auth authenticates requests and keeps the sign-in limits.
type Auth struct {
	st   *store.Store
	log  *slog.Logger
	opts Options
	// secret signs the pre-session CSRF tokens of the login and setup forms.
	secret []byte
	// logins limits sign-in attempts per account and network, per
	// network and per account.
	logins *limiter
	// hasher runs every password hash and verification under one cap.
	hasher *Hasher
	// dummy is verified against when an email is unknown, so a failed
	// sign-in takes as long whether or not the account exists. It is made on
	// first use: hashing at production cost would slow every start.
	dummy struct {
		once sync.Once
		hash store.PasswordHash
		err  error
	}
}

// New builds an Auth.
func New(opts Options) (*Auth, error) {
	if opts.Store == nil {
		return nil, errors.New("auth: no store")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.LoginAttempts == 0 {
		opts.LoginAttempts = 10
	}
	if opts.LoginNetworkAttempts == 0 {
		opts.LoginNetworkAttempts = 3 * opts.LoginAttempts
	}
	if opts.LoginAccountAttempts == 0 {
		opts.LoginAccountAttempts = 10 * opts.LoginAttempts
	}
	if opts.LoginWindow == 0 {
		opts.LoginWindow = time.Minute
	}
	secret, err := secretKey(opts.SecretKey)
	if err != nil {
		return nil, err
	}
	hasher := NewHasher(HasherOptions{Cost: opts.PasswordCost, Concurrency: opts.HashConcurrency,
		Wait: opts.HashWait, Hash: opts.HashPassword, Check: opts.CheckPassword})
	return &Auth{st: opts.Store, log: opts.Logger, opts: opts, secret: secret,
		logins: newLimiter(opts.LoginWindow, time.Now), hasher: hasher}, nil
}

// secretKey returns the signing key; without one (tests, or a caller that
// did not configure it) a random per-process key is used, which only means
// login forms opened before a restart must be reloaded.
func secretKey(configured string) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("auth: secret key: %w", err)
	}
	return b, nil
}

// Principal is who a request acts as: a signed-in user (console) or an API
// token (/api/v1), always within exactly one organisation.
type Principal struct {
	OrgID   int64
	OrgName string
	Role    store.Role
	User    store.User     // zero for token requests
	Token   store.APIToken // zero for session requests
	CSRF    string         // the session's CSRF token; "" for token requests
	// rawSession is the cookie value, kept so sign-out can delete it.
	rawSession string
}

// Actor is how the principal appears in the audit log.
func (p *Principal) Actor() store.Actor {
	if p.Token.ID != 0 {
		return store.TokenActor(p.Token)
	}
	return store.UserActor(p.User)
}

// SignedIn reports whether the principal comes from a console session.
func (p *Principal) SignedIn() bool { return p.rawSession != "" }

const principalKey = "pharos.principal"

// PrincipalOf returns the request's principal, or nil outside
// authenticated routes.
func PrincipalOf(c echo.Context) *Principal {
	p, _ := c.Get(principalKey).(*Principal)
	return p
}

// MustPrincipal returns the principal of an authenticated route; a missing
// one is a routing mistake, reported as a 500 rather than served.
func MustPrincipal(c echo.Context) (*Principal, error) {
	p := PrincipalOf(c)
	if p == nil {
		return nil, errors.New("auth: route has no authentication middleware")
	}
	return p, nil
}

// PrincipalAndID returns the principal of an authenticated route and its
// :id path parameter; a malformed id is not found, like an id of another
// organisation.
func PrincipalAndID(c echo.Context) (*Principal, int64, error) {
	p, err := MustPrincipal(c)
	if err != nil {
		return nil, 0, err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, 0, fmt.Errorf("auth: id %q: %w", c.Param("id"), store.ErrNotFound)
	}
	return p, id, nil
}

// ErrNoSession is SessionPrincipal's answer for a request without a live
// session (no cookie, or one that expired or was signed out).
var ErrNoSession = errors.New("auth: no live session")

// SessionPrincipal reads the session cookie; ErrNoSession when the request
// carries no live session.
func (a *Auth) SessionPrincipal(c echo.Context) (*Principal, error) {
	ck, err := c.Cookie(a.cookieName(sessionCookie))
	if err != nil || ck.Value == "" {
		return nil, ErrNoSession
	}
	ses, err := a.st.SessionByToken(c.Request().Context(), ck.Value)
	if errors.Is(err, store.ErrNotFound) {
		a.clearCookie(c, sessionCookie)
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	return &Principal{
		OrgID: ses.OrgID, OrgName: ses.OrgName, Role: ses.Role, User: ses.User(),
		CSRF: ses.CSRFToken, rawSession: ck.Value,
	}, nil
}

// RequireSession guards the console: it needs a live session, and a valid
// CSRF token on every state-changing request. Pages send signed-out
// browsers to the login form.
func (a *Auth) RequireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := a.SessionPrincipal(c)
		if err != nil && !errors.Is(err, ErrNoSession) {
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

// RequireToken guards /api/v1: only "Authorization: Bearer phr_…" (or
// "OAuth phr_…", Statuspage's scheme, so its scripts work unchanged)
// counts. A session cookie is ignored, so the API needs no CSRF protection
// and a browser cannot be tricked into calling it.
func (a *Auth) RequireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		scheme, raw, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		raw = strings.TrimSpace(raw)
		known := strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "OAuth")
		if !ok || !known || raw == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="pharos"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "An API token is required: Authorization: Bearer phr_…")
		}
		tok, err := a.st.TokenByRaw(c.Request().Context(), raw)
		if errors.Is(err, store.ErrNotFound) {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="pharos", error="invalid_token"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "The API token is unknown or revoked.")
		}
		if err != nil {
			return err
		}
		org, err := a.st.Org(c.Request().Context(), tok.OrgID)
		if err != nil {
			return err
		}
		c.Set(principalKey, &Principal{OrgID: tok.OrgID, OrgName: org.Name, Role: tok.Role, Token: tok})
		return next(c)
	}
}

// RequireRole refuses principals whose role does not allow need.
func RequireRole(need store.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, err := MustPrincipal(c)
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

func (a *Auth) clearCookie(c echo.Context, name string) {
	c.SetCookie(&http.Cookie{
		Name: a.cookieName(name), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.opts.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// Audit records an admin action. A failure to record is a failure of the
// request: an action that cannot be audited must not look successful.
func (a *Auth) Audit(c echo.Context, p *Principal, action, target string, detail any) error {
	if err := a.st.Audit(c.Request().Context(), p.OrgID, p.Actor(), action, target, detail); err != nil {
		return err
	}
	a.log.InfoContext(c.Request().Context(), "admin action", slog.String("actor", p.Actor().Name),
		slog.Int64("org_id", p.OrgID), slog.String("action", action), slog.String("target", target))
	return nil
}
