package web

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/views"
)

// secretKey returns the signing key; without one (tests, or a caller that
// did not configure it) a random per-process key is used, which only means
// login forms opened before a restart must be reloaded.
func secretKey(configured string) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("web: secret key: %w", err)
	}
	return b, nil
}

// dummyHash is a hash of a random password at the configured cost,
// verified against when the email is unknown.
func (s *Server) dummyHash() (store.PasswordHash, error) {
	s.dummy.once.Do(func() {
		b := make([]byte, 18)
		if _, err := rand.Read(b); err != nil {
			s.dummy.err = fmt.Errorf("web: dummy password: %w", err)
			return
		}
		s.dummy.hash, s.dummy.err = store.HashPassword(fmt.Sprintf("%x", b), s.opts.PasswordCost)
	})
	return s.dummy.hash, s.dummy.err
}

// root sends a fresh install to the setup page and everyone else to the
// console.
func (s *Server) root(c echo.Context) error {
	has, err := s.st.HasUsers(c.Request().Context())
	if err != nil {
		return err
	}
	if !has {
		return c.Redirect(http.StatusSeeOther, "/setup")
	}
	return c.Redirect(http.StatusSeeOther, "/admin/")
}

// setupAvailable answers 404 once any user exists: setup is a one-time door.
func (s *Server) setupAvailable(c echo.Context) error {
	has, err := s.st.HasUsers(c.Request().Context())
	if err != nil {
		return err
	}
	if has {
		return store.ErrNotFound
	}
	return nil
}

func (s *Server) setupForm(c echo.Context) error {
	if err := s.setupAvailable(c); err != nil {
		return err
	}
	return s.renderSetup(c, http.StatusOK, views.SetupForm{})
}

func (s *Server) renderSetup(c echo.Context, code int, f views.SetupForm) error {
	token, err := s.preSessionCSRF(c)
	if err != nil {
		return err
	}
	f.CSRF = token
	return s.render(c, code, views.SetupPage(s.layout(c, "Set up Pharos"), f))
}

// setupSubmit creates the organisation and its owner, then signs the owner in.
func (s *Server) setupSubmit(c echo.Context) error {
	if err := s.setupAvailable(c); err != nil {
		return err
	}
	if err := s.checkPreSessionCSRF(c); err != nil {
		return err
	}
	f := views.SetupForm{OrgName: strings.TrimSpace(c.FormValue("org_name")), Email: store.NormalizeEmail(c.FormValue("email"))}
	password := c.FormValue("password")
	if msg := validateSetup(f, password, c.FormValue("password_confirm")); msg != "" {
		f.Error = msg
		return s.renderSetup(c, http.StatusUnprocessableEntity, f)
	}
	hash, err := store.HashPassword(password, s.opts.PasswordCost)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	org, user, err := s.st.Setup(ctx, store.SetupParams{OrgName: f.OrgName, Email: f.Email, Hash: hash})
	if errors.Is(err, store.ErrConflict) {
		return store.ErrNotFound // someone else finished setup first
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "setup complete", slog.Int64("org_id", org.ID), slog.String("org_slug", org.Slug))
	return s.signIn(c, org.ID, user)
}

func validateSetup(f views.SetupForm, password, confirm string) string {
	switch {
	case f.OrgName == "":
		return "Enter the organisation's name."
	case len(f.OrgName) > 100:
		return "The organisation's name is too long (at most 100 characters)."
	case !validEmail(f.Email):
		return "Enter a valid email address."
	case len(password) < store.MinPasswordLen:
		return fmt.Sprintf("Choose a password of at least %d characters.", store.MinPasswordLen)
	case len(password) > store.MaxPasswordBytes:
		return fmt.Sprintf("Choose a password of at most %d bytes.", store.MaxPasswordBytes)
	case password != confirm:
		return "The two passwords differ."
	}
	return ""
}

func validEmail(email string) bool {
	a, err := mail.ParseAddress(email)
	return err == nil && a.Address == email && len(email) <= 254
}

func (s *Server) loginForm(c echo.Context) error {
	p, err := s.sessionPrincipal(c)
	if err != nil {
		return err
	}
	if p != nil {
		return c.Redirect(http.StatusSeeOther, "/admin/")
	}
	return s.renderLogin(c, http.StatusOK, views.LoginForm{})
}

func (s *Server) renderLogin(c echo.Context, code int, f views.LoginForm) error {
	token, err := s.preSessionCSRF(c)
	if err != nil {
		return err
	}
	f.CSRF = token
	return s.render(c, code, views.LoginPage(s.layout(c, "Sign in"), f))
}

// loginSubmit signs a user in. Attempts are limited per account and per
// client address before anything else is looked at, so a refused attempt
// costs no password check; an unknown email costs the same check as a wrong
// password, so timing does not reveal which accounts exist.
func (s *Server) loginSubmit(c echo.Context) error {
	if err := s.checkPreSessionCSRF(c); err != nil {
		return err
	}
	ctx := c.Request().Context()
	f := views.LoginForm{Email: store.NormalizeEmail(c.FormValue("email"))}
	password := c.FormValue("password")
	ip := c.RealIP()
	if ok, wait := s.logins.allow("ip:"+ip, "email:"+f.Email); !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		s.log.WarnContext(ctx, "login rate limited", slog.String("remote_ip", ip))
		f.Error = "Too many sign-in attempts. Wait a minute and try again."
		return s.renderLogin(c, http.StatusTooManyRequests, f)
	}
	failed := func() error {
		s.log.InfoContext(ctx, "login failed", slog.String("remote_ip", ip))
		f.Error = "The email or the password is wrong."
		return s.renderLogin(c, http.StatusUnauthorized, f)
	}
	user, hash, err := s.st.UserByEmail(ctx, f.Email)
	if errors.Is(err, store.ErrNotFound) || len(password) > store.MaxPasswordBytes {
		dummy, err := s.dummyHash()
		if err != nil {
			return err
		}
		_ = s.opts.CheckPassword(dummy, password) // equalise timing; the result is irrelevant
		return failed()
	}
	if err != nil {
		return err
	}
	if err := s.opts.CheckPassword(hash, password); err != nil {
		return failed()
	}
	ms, err := s.st.Memberships(ctx, user.ID)
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		return failed() // a user without an organisation has nothing to sign in to
	}
	return s.signIn(c, ms[0].OrgID, user)
}

// signIn starts a session for user in org and sends the browser to the
// console.
func (s *Server) signIn(c echo.Context, orgID int64, user store.User) error {
	raw, err := s.st.CreateSession(c.Request().Context(), orgID, user.ID)
	if err != nil {
		return err
	}
	p := &principal{OrgID: orgID, User: user}
	if err := s.audit(c, p, "login", "user "+user.Email, map[string]string{"remote_ip": c.RealIP()}); err != nil {
		return err
	}
	s.setSessionCookie(c, raw)
	s.clearCookie(c, preSessionCookie)
	return c.Redirect(http.StatusSeeOther, "/admin/")
}

// logout ends the session (the route requires a session and its CSRF token).
func (s *Server) logout(c echo.Context) error {
	p, err := mustPrincipal(c)
	if err != nil {
		return err
	}
	if err := s.st.DeleteSession(c.Request().Context(), p.rawSession); err != nil {
		return err
	}
	if err := s.audit(c, p, "logout", "user "+p.User.Email, nil); err != nil {
		return err
	}
	s.clearCookie(c, sessionCookie)
	return c.Redirect(http.StatusSeeOther, "/login")
}
