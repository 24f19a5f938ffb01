package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

func TestSetupWorksOnlyOnce(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	b := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())

	if res := b.Get("/"); res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/setup" {
		t.Fatalf("GET / on a fresh install: got %d %q, want 303 to /setup", res.Code, res.Header.Get("Location"))
	}
	page := b.Get("/setup")
	if page.Code != http.StatusOK || !strings.Contains(page.Body, `data-testid="setup-form"`) {
		t.Fatalf("GET /setup: got %d, want the setup form", page.Code)
	}
	form := url.Values{"org_name": {"ACME Corp"}, "email": {"ada@example.Org"},
		"password": {webtest.TestPassword}, "password_confirm": {webtest.TestPassword}}

	if res := b.Post("/setup", form); res.Code != http.StatusForbidden {
		t.Errorf("setup without CSRF token: got %d, want 403", res.Code)
	}
	bad := url.Values{"csrf_token": {webtest.CSRFOf(t, page.Body)}, "org_name": {"ACME"}, "email": {"ada@example.Org"},
		"password": {"short"}, "password_confirm": {"short"}}
	if res := b.Post("/setup", bad); res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "at least 10") {
		t.Errorf("setup with a short password: got %d, want 422 naming the minimum", res.Code)
	}

	form.Set("csrf_token", webtest.CSRFOf(t, page.Body))
	res := b.Post("/setup", form)
	if res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/admin/" {
		t.Fatalf("setup: got %d %q, want 303 to /admin/\n%s", res.Code, res.Header.Get("Location"), res.Body)
	}
	ck := findCookie(res.Header, "pharos_session")
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Lax, Path=/ (not Secure without TLS)", ck)
	}
	home := b.Get("/admin/")
	if home.Code != http.StatusOK || !strings.Contains(home.Body, "ACME Corp") || !strings.Contains(home.Body, `data-testid="role">owner<`) {
		t.Errorf("console after setup: got %d, want ACME Corp with role owner\n%s", home.Code, home.Body)
	}

	for _, method := range []string{http.MethodGet, http.MethodPost} {
		if res := b.Do(method, "/setup", form, nil); res.Code != http.StatusNotFound {
			t.Errorf("%s /setup after setup: got %d, want 404", method, res.Code)
		}
	}
	if res := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler()).Get("/"); res.Header.Get("Location") != "/admin/" {
		t.Errorf("GET / after setup: got %q, want /admin/", res.Header.Get("Location"))
	}
	has, err := st.HasUsers(context.Background())
	if err != nil || !has {
		t.Errorf("HasUsers after setup = %v, %v", has, err)
	}
}

func TestSecureCookies(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	webtest.SeedTenant(t, st, "a")
	b := webtest.NewBrowser(t, webtest.NewServer(t, st, func(o *web.Options) { o.SecureCookies = true }).Handler())
	page := b.Get("/login")
	res := b.Post("/login", url.Values{"csrf_token": {webtest.CSRFOf(t, page.Body)}, "email": {"owner@a.example"}, "password": {webtest.TestPassword}})
	if ck := findCookie(res.Header, "__Host-pharos_session"); ck == nil || !ck.Secure || !ck.HttpOnly || ck.Path != "/" || ck.Domain != "" {
		t.Errorf("session cookie with SecureCookies = %+v, want __Host-, Secure, HttpOnly, Path / and no Domain", ck)
	}
	if ck := findCookie(page.Header, "__Host-pharos_csrf"); ck == nil || !ck.Secure {
		t.Errorf("pre-session cookie with SecureCookies = %+v, want __Host- and Secure", ck)
	}
	if got := page.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("Strict-Transport-Security = %q, want max-age=31536000 behind HTTPS", got)
	}
}

// TestPlantedCSRFNonceIsNotSigned: a pre-session nonce the server did not
// issue (planted by a sibling subdomain, say) is replaced, not signed, so
// a token obtained for it is useless for a forged sign-in.
func TestPlantedCSRFNonceIsNotSigned(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	b := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
	planted := strings.Repeat("A", 43)
	withPlanted := map[string]string{"Cookie": "pharos_csrf=" + planted}
	page := b.Do(http.MethodGet, "/login", nil, withPlanted)
	ck := findCookie(page.Header, "pharos_csrf")
	if ck == nil || ck.Value == planted {
		t.Fatalf("a planted nonce was kept: Set-Cookie %+v, want a new server-issued nonce", ck)
	}
	form := url.Values{"csrf_token": {webtest.CSRFOf(t, page.Body)}, "email": {a.Owner}, "password": {webtest.TestPassword}}
	res := b.Do(http.MethodPost, "/login", form, withPlanted)
	if res.Code != http.StatusForbidden {
		t.Errorf("sign-in with the planted nonce: got %d, want 403", res.Code)
	}
}

func TestLoginLogoutAndHashedSession(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	b := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())

	if res := b.Get("/admin/"); res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Errorf("console signed out: got %d %q, want 303 to /login", res.Code, res.Header.Get("Location"))
	}
	page := b.Get("/login")
	wrong := b.Post("/login", url.Values{"csrf_token": {webtest.CSRFOf(t, page.Body)}, "email": {a.Owner}, "password": {"nope"}})
	if wrong.Code != http.StatusUnauthorized || !strings.Contains(wrong.Body, "wrong") {
		t.Errorf("wrong password: got %d, want 401 with a message", wrong.Code)
	}
	csrf := b.Login(strings.ToUpper(a.Owner), webtest.TestPassword)

	raw := b.Cookie("pharos_session")
	var n int
	if err := st.DB().QueryRow(`SELECT COUNT(*) FROM sessions WHERE token_hash = ? OR csrf_token = ?`, raw, raw).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("the raw session token is stored in the database")
	}
	if err := st.DB().QueryRow(`SELECT COUNT(*) FROM sessions WHERE token_hash = ?`, store.HashToken(raw)).Scan(&n); err != nil || n != 1 {
		t.Errorf("sessions with the token's hash = %d, %v; want 1", n, err)
	}

	if res := b.Post("/logout", url.Values{}); res.Code != http.StatusForbidden {
		t.Errorf("logout without CSRF token: got %d, want 403", res.Code)
	}
	if res := b.Post("/logout", url.Values{"csrf_token": {csrf}}); res.Code != http.StatusSeeOther {
		t.Errorf("logout: got %d, want 303", res.Code)
	}
	if _, err := st.SessionByToken(context.Background(), raw); err == nil {
		t.Error("session still valid after logout")
	}
	if res := b.Get("/admin/"); res.Code != http.StatusSeeOther {
		t.Errorf("console after logout: got %d, want 303 to /login", res.Code)
	}
	log, err := st.AuditLog(context.Background(), a.Org.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action+" "+e.Actor)
	}
	if got, want := strings.Join(actions, ", "), "logout user:owner@a.example, login user:owner@a.example"; got != want {
		t.Errorf("audit log = %q, want %q", got, want)
	}
}

func TestFormPostNeedsCSRFToken(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	b := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())

	// Login form: no token, or a token not bound to this browser's nonce.
	if res := b.Post("/login", url.Values{"email": {a.Owner}, "password": {webtest.TestPassword}}); res.Code != http.StatusForbidden {
		t.Errorf("login without CSRF token: got %d, want 403", res.Code)
	}
	other := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
	foreign := webtest.CSRFOf(t, other.Get("/login").Body)
	b.Get("/login")
	if res := b.Post("/login", url.Values{"csrf_token": {foreign}, "email": {a.Owner}, "password": {webtest.TestPassword}}); res.Code != http.StatusForbidden {
		t.Errorf("login with another browser's CSRF token: got %d, want 403", res.Code)
	}

	csrf := b.Login(a.Editor, webtest.TestPassword)
	path := "/admin/checks/" + webtest.ID(a.CheckID) + "/enabled"
	for name, form := range map[string]url.Values{
		"missing": {"enabled": {"false"}},
		"wrong":   {"enabled": {"false"}, "csrf_token": {csrf + "x"}},
	} {
		if res := b.Post(path, form); res.Code != http.StatusForbidden {
			t.Errorf("%s CSRF token: got %d, want 403", name, res.Code)
		}
	}
	if c, _ := st.Check(context.Background(), a.Org.ID, a.CheckID); !c.Enabled {
		t.Fatal("a POST without a valid CSRF token changed the check")
	}
	if res := b.Post(path, url.Values{"enabled": {"false"}, "csrf_token": {csrf}}); res.Code != http.StatusSeeOther {
		t.Fatalf("with the form token: got %d, want 303\n%s", res.Code, res.Body)
	}
	if c, _ := st.Check(context.Background(), a.Org.ID, a.CheckID); c.Enabled {
		t.Error("check still enabled after a valid POST")
	}
	res := b.Do(http.MethodPost, path, url.Values{"enabled": {"true"}}, map[string]string{"X-CSRF-Token": csrf})
	if res.Code != http.StatusSeeOther {
		t.Errorf("with the X-CSRF-Token header: got %d, want 303", res.Code)
	}
	if c, _ := st.Check(context.Background(), a.Org.ID, a.CheckID); !c.Enabled {
		t.Error("check not resumed by a POST with the header token")
	}
}

// TestLoginRateLimit: an attempt beyond the limits within a minute is
// refused before the password is checked: the 11th for one account from
// one address, the 31st from one address over all accounts.
func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	var checks atomic.Int32
	srv := webtest.NewServer(t, st, func(o *web.Options) {
		o.CheckPassword = func(h store.PasswordHash, pw string) error {
			checks.Add(1)
			return store.CheckPassword(h, pw)
		}
	})
	h := srv.Handler()

	attempt := func(ip, email, password string) *httptest.ResponseRecorder {
		get := httptest.NewRequest(http.MethodGet, "/login", nil)
		get.RemoteAddr = ip + ":40000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, get)
		form := url.Values{"csrf_token": {webtest.CSRFOf(t, rec.Body.String())}, "email": {email}, "password": {password}}
		post := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		post.RemoteAddr = ip + ":40000"
		for _, c := range rec.Result().Cookies() {
			post.AddCookie(c)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, post)
		return rec
	}

	// Per account and address: ten wrong passwords are checked; the
	// eleventh attempt, even with the right password, is not.
	for i := range 10 {
		if res := attempt("192.0.2.1", a.Owner, "wrong"); res.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: got %d, want 401", i+1, res.Code)
		}
	}
	if got := checks.Load(); got != 10 {
		t.Fatalf("password checks after 10 attempts = %d, want 10", got)
	}
	res := attempt("192.0.2.1", a.Owner, webtest.TestPassword)
	if res.Code != http.StatusTooManyRequests {
		t.Fatalf("11th attempt: got %d, want 429", res.Code)
	}
	if ra, err := strconv.Atoi(res.Header().Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After = %q, want 1-60 seconds", res.Header().Get("Retry-After"))
	}
	if got := checks.Load(); got != 10 {
		t.Errorf("password checks after the refused 11th attempt = %d, want 10 (refused without checking)", got)
	}

	// Per address: unknown emails still cost a (dummy) check each, and the
	// 31st attempt from the same address is refused unchecked.
	checks.Store(0)
	for i := range 30 {
		if res := attempt("198.51.100.7", "nobody"+strconv.Itoa(i)+"@example.Org", "x"); res.Code != http.StatusUnauthorized {
			t.Fatalf("address attempt %d: got %d, want 401", i+1, res.Code)
		}
	}
	if got := checks.Load(); got != 30 {
		t.Errorf("checks for unknown emails = %d, want 30 (a dummy check each, so timing reveals nothing)", got)
	}
	if res := attempt("198.51.100.7", a.Editor, webtest.TestPassword); res.Code != http.StatusTooManyRequests {
		t.Errorf("31st attempt from one address: got %d, want 429", res.Code)
	}
	if got := checks.Load(); got != 30 {
		t.Errorf("password checks = %d after a refused attempt, want 30", got)
	}

	// Others are unaffected.
	if res := attempt("203.0.113.5", a.Editor, webtest.TestPassword); res.Code != http.StatusSeeOther {
		t.Errorf("another account from another address: got %d, want 303", res.Code)
	}
}

func findCookie(h http.Header, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}
