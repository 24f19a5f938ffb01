package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
)

// HashPassword hashes a new password at the configured cost, within the
// cap on concurrent hashing; beyond it the answer is 503 with Retry-After.
func (a *Auth) HashPassword(c echo.Context, password string) (store.PasswordHash, error) {
	hash, err := a.hasher.Hash(c.Request().Context(), password)
	if err != nil {
		return "", a.hashFailed(c, err)
	}
	return hash, nil
}

// AllowLogin records one sign-in attempt from ip for email and reports
// whether it may go ahead; when not, retryAfter says how long to wait.
// The attempt counts against the account from the client's network (an
// IPv4 address or an IPv6 /64), against that network over all accounts,
// and against the account over all networks, with a much higher ceiling:
// wrong passwords sent from elsewhere do not lock the user out of their
// own network.
func (a *Auth) AllowLogin(ip, email string) (ok bool, retryAfter time.Duration) {
	network := ClientNetwork(ip)
	return a.logins.allow(
		limit{"account+network:" + email + " " + network, a.opts.LoginAttempts},
		limit{"network:" + network, a.opts.LoginNetworkAttempts},
		limit{"account:" + email, a.opts.LoginAccountAttempts},
	)
}

// PasswordMatches reports whether password matches hash, verified within
// the cap on concurrent hashing; a busy server's error is a 503 with
// Retry-After, never a wrong password.
func (a *Auth) PasswordMatches(c echo.Context, hash store.PasswordHash, password string) (bool, error) {
	ok, err := a.hasher.Matches(c.Request().Context(), hash, password)
	if err != nil {
		return false, a.hashFailed(c, err)
	}
	return ok, nil
}

// EqualiseTiming spends the cost of one password check, for an unknown
// email, so timing does not reveal which accounts exist. It waits for a
// hashing slot like a real check, so a busy server answers the same too.
func (a *Auth) EqualiseTiming(c echo.Context, password string) error {
	dummy, err := a.dummyHash()
	if err != nil {
		return err
	}
	if _, err := a.hasher.Matches(c.Request().Context(), dummy, password); err != nil {
		return a.hashFailed(c, err)
	}
	return nil
}

// hashFailed answers a request that got no hashing slot: 503 with
// Retry-After when the server is busy or the client gave up waiting.
func (a *Auth) hashFailed(c echo.Context, err error) error {
	ctx := c.Request().Context()
	if !errors.Is(err, ErrHashBusy) && ctx.Err() == nil {
		return err
	}
	a.log.WarnContext(ctx, "password hashing busy", slog.String("remote_ip", c.RealIP()), slog.Any("error", err))
	c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(a.hasher.Wait().Seconds())))))
	return echo.NewHTTPError(http.StatusServiceUnavailable,
		"The server is checking too many passwords at once. Try again in a few seconds.")
}

// dummyHash is a hash of a random password at the configured cost,
// verified against when the email is unknown.
func (a *Auth) dummyHash() (store.PasswordHash, error) {
	a.dummy.once.Do(func() {
		b := make([]byte, 18)
		if _, err := rand.Read(b); err != nil {
			a.dummy.err = fmt.Errorf("auth: dummy password: %w", err)
			return
		}
		a.dummy.hash, a.dummy.err = store.HashPassword(fmt.Sprintf("%x", b), a.opts.PasswordCost)
	})
	return a.dummy.hash, a.dummy.err
}

// SignIn starts a session for user in org, audits it and hands the browser
// its session cookie.
func (a *Auth) SignIn(c echo.Context, orgID int64, user store.User) error {
	raw, err := a.st.CreateSession(c.Request().Context(), orgID, user.ID)
	if err != nil {
		return err
	}
	p := &Principal{OrgID: orgID, User: user}
	if err := a.Audit(c, p, "login", "user "+user.Email, map[string]string{"remote_ip": c.RealIP()}); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{
		Name: a.cookieName(sessionCookie), Value: raw, Path: "/",
		MaxAge:   int(store.SessionMaxAge.Seconds()),
		HttpOnly: true, Secure: a.opts.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
	a.clearCookie(c, preSessionCookie)
	return nil
}

// SignOut ends p's session, audits it and clears the cookie.
func (a *Auth) SignOut(c echo.Context, p *Principal) error {
	if err := a.st.DeleteSession(c.Request().Context(), p.rawSession); err != nil {
		return err
	}
	if err := a.Audit(c, p, "logout", "user "+p.User.Email, nil); err != nil {
		return err
	}
	a.clearCookie(c, sessionCookie)
	return nil
}
