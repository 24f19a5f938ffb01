package auth

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
)

// HashPassword hashes a new password at the configured cost.
func (a *Auth) HashPassword(password string) (store.PasswordHash, error) {
	return store.HashPassword(password, a.opts.PasswordCost)
}

// AllowLogin records one sign-in attempt from ip for email and reports
// whether it may go ahead; when not, retryAfter says how long to wait.
func (a *Auth) AllowLogin(ip, email string) (ok bool, retryAfter time.Duration) {
	return a.logins.allow("ip:"+ip, "email:"+email)
}

// CheckPassword verifies password against hash.
func (a *Auth) CheckPassword(hash store.PasswordHash, password string) error {
	return a.opts.CheckPassword(hash, password)
}

// EqualiseTiming spends the cost of one password check, for an unknown
// email, so timing does not reveal which accounts exist.
func (a *Auth) EqualiseTiming(password string) error {
	dummy, err := a.dummyHash()
	if err != nil {
		return err
	}
	_ = a.opts.CheckPassword(dummy, password) // the result is irrelevant
	return nil
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
