package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

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
// setting (or reusing) the nonce cookie it is bound to. The nonce is issued
// by this server — random bytes and their MAC, so a nonce a third party
// planted is replaced, not signed — and the token is an HMAC of the nonce:
// a cross-site attacker can neither read the cookie nor compute the token.
func (a *Auth) PreSessionCSRF(c echo.Context) (string, error) {
	nonce := ""
	if ck, err := c.Cookie(a.cookieName(preSessionCookie)); err == nil && a.issuedNonce(ck.Value) {
		nonce = ck.Value
	} else {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("auth: csrf nonce: %w", err)
		}
		random := base64.RawURLEncoding.EncodeToString(b[:])
		nonce = random + "." + a.mac("pharos csrf nonce\x00", random)
		c.SetCookie(&http.Cookie{
			Name: a.cookieName(preSessionCookie), Value: nonce, Path: "/",
			HttpOnly: true, Secure: a.opts.SecureCookies, SameSite: http.SameSiteLaxMode,
		})
	}
	return a.signNonce(nonce), nil
}

// issuedNonce reports whether v is a nonce this server issued.
func (a *Auth) issuedNonce(v string) bool {
	random, sum, ok := strings.Cut(v, ".")
	return ok && len(random) == 43 && hmac.Equal([]byte(sum), []byte(a.mac("pharos csrf nonce\x00", random)))
}

// CheckPreSessionCSRF verifies a login or setup form's token against its
// nonce cookie, which must be one this server issued.
func (a *Auth) CheckPreSessionCSRF(c echo.Context) error {
	ck, err := c.Cookie(a.cookieName(preSessionCookie))
	if err != nil || !a.issuedNonce(ck.Value) {
		return csrfError()
	}
	got := submittedCSRF(c)
	if got == "" || !hmac.Equal([]byte(got), []byte(a.signNonce(ck.Value))) {
		return csrfError()
	}
	return nil
}

func (a *Auth) signNonce(nonce string) string { return a.mac("pharos pre-session csrf\x00", nonce) }

// mac is the base64 HMAC-SHA256 of purpose and v under the server's secret.
func (a *Auth) mac(purpose, v string) string {
	m := hmac.New(sha256.New, a.secret)
	m.Write([]byte(purpose))
	m.Write([]byte(v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
