package console

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/views"
)

// Root sends a fresh install to the setup page and everyone else to the
// console.
func (s *Console) Root(c echo.Context) error {
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
func (s *Console) setupAvailable(c echo.Context) error {
	has, err := s.st.HasUsers(c.Request().Context())
	if err != nil {
		return err
	}
	if has {
		return store.ErrNotFound
	}
	return nil
}

func (s *Console) SetupForm(c echo.Context) error {
	if err := s.setupAvailable(c); err != nil {
		return err
	}
	return s.renderSetup(c, http.StatusOK, views.SetupForm{})
}

func (s *Console) renderSetup(c echo.Context, code int, f views.SetupForm) error {
	token, err := s.auth.PreSessionCSRF(c)
	if err != nil {
		return err
	}
	f.CSRF = token
	return respond.Render(c, code, views.SetupPage(respond.Layout(c, "Set up Pharos"), f))
}

// SetupSubmit creates the organisation and its owner, then signs the owner in.
func (s *Console) SetupSubmit(c echo.Context) error {
	if err := s.setupAvailable(c); err != nil {
		return err
	}
	if err := s.auth.CheckPreSessionCSRF(c); err != nil {
		return err
	}
	f := views.SetupForm{OrgName: strings.TrimSpace(c.FormValue("org_name")), Email: store.NormalizeEmail(c.FormValue("email"))}
	password := c.FormValue("password")
	if msg := validateSetup(f, password, c.FormValue("password_confirm")); msg != "" {
		f.Error = msg
		return s.renderSetup(c, http.StatusUnprocessableEntity, f)
	}
	hash, err := s.auth.HashPassword(c, password)
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
	}
	return validatePassword(password, confirm, f.Email, f.OrgName)
}

func validEmail(email string) bool {
	a, err := mail.ParseAddress(email)
	return err == nil && a.Address == email && len(email) <= 254
}

func (s *Console) LoginForm(c echo.Context) error {
	switch _, err := s.auth.SessionPrincipal(c); {
	case err == nil:
		return c.Redirect(http.StatusSeeOther, "/admin/")
	case !errors.Is(err, auth.ErrNoSession):
		return err
	}
	return s.renderLogin(c, http.StatusOK, views.LoginForm{})
}

func (s *Console) renderLogin(c echo.Context, code int, f views.LoginForm) error {
	token, err := s.auth.PreSessionCSRF(c)
	if err != nil {
		return err
	}
	f.CSRF = token
	return respond.Render(c, code, views.LoginPage(respond.Layout(c, "Sign in"), f))
}

// LoginSubmit signs a user in. Attempts are limited per account and per
// client address before anything else is looked at, so a refused attempt
// costs no password check; an unknown email costs the same check as a wrong
// password, so timing does not reveal which accounts exist.
func (s *Console) LoginSubmit(c echo.Context) error {
	if err := s.auth.CheckPreSessionCSRF(c); err != nil {
		return err
	}
	ctx := c.Request().Context()
	f := views.LoginForm{Email: store.NormalizeEmail(c.FormValue("email"))}
	password := c.FormValue("password")
	ip := c.RealIP()
	if ok, wait := s.auth.AllowLogin(ip, f.Email); !ok {
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
		if err := s.auth.EqualiseTiming(c, password); err != nil {
			return err
		}
		return failed()
	}
	if err != nil {
		return err
	}
	ok, err := s.auth.PasswordMatches(c, hash, password)
	if err != nil {
		return err
	}
	if !ok {
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
func (s *Console) signIn(c echo.Context, orgID int64, user store.User) error {
	if err := s.auth.SignIn(c, orgID, user); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/")
}

// Logout ends the session (the route requires a session and its CSRF token).
func (s *Console) Logout(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	if err := s.auth.SignOut(c, p); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}
