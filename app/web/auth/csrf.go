package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// csrfField and csrfHeader carry the CSRF token of a state-changing request.
const (
	csrfField  = "csrf_token"
	csrfHeader = "X-CSRF-Token"
	// preSessionCookie holds the nonce of the signed double-submit token
	// that protects the login and setup forms, before any session exists.
	preSessionCookie = "pharos_csrf"
)

// csrfError is the answer to a state-changing request without a valid token.
func csrfError() error {
	return echo.NewHTTPError(http.StatusForbidden, "The form's security token is missing or out of date. Reload the page and try again.")
}

// submittedCSRF is the token a request carries, header first.
func submittedCSRF(c echo.Context) string {
	if v := c.Request().Header.Get(csrfHeader); v != "" {
		return v
	}
	return c.FormValue(csrfField)
}

// checkSessionCSRF compares the submitted token with the session's, in
// constant time.
func checkSessionCSRF(c echo.Context, want string) error {
	got := submittedCSRF(c)
	if got == "" || want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return csrfError()
	}
	return nil
}

// PreSessionCSRF returns the form token for the login and setup forms,
// setting (or reusing) the nonce cookie it is bound to. The token is an HMAC
// of the nonce under the server's secret: a cross-site attacker can neither
// read the cookie nor compute the token for a nonce they planted.
func (a *Auth) PreSessionCSRF(c echo.Context) (string, error) {
	nonce := ""
	if ck, err := c.Cookie(preSessionCookie); err == nil && len(ck.Value) == 43 {
		nonce = ck.Value
	} else {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("auth: csrf nonce: %w", err)
		}
		nonce = base64.RawURLEncoding.EncodeToString(b[:])
		c.SetCookie(&http.Cookie{
			Name: preSessionCookie, Value: nonce, Path: "/",
			HttpOnly: true, Secure: a.opts.SecureCookies, SameSite: http.SameSiteLaxMode,
		})
	}
	return a.signNonce(nonce), nil
}

// CheckPreSessionCSRF verifies a login or setup form's token against its
// nonce cookie.
func (a *Auth) CheckPreSessionCSRF(c echo.Context) error {
	ck, err := c.Cookie(preSessionCookie)
	if err != nil || ck.Value == "" {
		return csrfError()
	}
	got := submittedCSRF(c)
	if got == "" || !hmac.Equal([]byte(got), []byte(a.signNonce(ck.Value))) {
		return csrfError()
	}
	return nil
}

func (a *Auth) signNonce(nonce string) string {
	m := hmac.New(sha256.New, a.secret)
	m.Write([]byte("pharos pre-session csrf\x00"))
	m.Write([]byte(nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
