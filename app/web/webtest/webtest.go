// Package webtest holds what the web packages' tests share: a server on a
// test store, a cookie-keeping HTTP client that signs in like a browser, and
// an organisation seeded with one member and one token per role.
package webtest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"pharos/app/store"
	"pharos/app/web"
)

// TestPassword is every seeded member's password.
const TestPassword = "correct horse battery"

// NewServer builds a server on st with a fast password hash.
func NewServer(t testing.TB, st *store.Store, tweak func(*web.Options)) *web.Server {
	t.Helper()
	opts := web.Options{
		Store:        st,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		SecretKey:    strings.Repeat("k", 32),
		PasswordCost: bcrypt.MinCost,
	}
	if tweak != nil {
		tweak(&opts)
	}
	srv, err := web.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// Browser is an HTTP client with a cookie jar that does not follow
// redirects, against a test server.
type Browser struct {
	t    testing.TB
	base string
	c    *http.Client
}

// NewBrowser starts a test server on h and returns a client for it.
func NewBrowser(t testing.TB, h http.Handler) *Browser {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Browser{t: t, base: ts.URL, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Response is what a request got back.
type Response struct {
	Code   int
	Header http.Header
	Body   string
}

// Do sends a request; body is sent as a form when it is url.Values, as is
// when it is a string.
func (b *Browser) Do(method, path string, body any, header map[string]string) Response {
	b.t.Helper()
	var r io.Reader
	ctype := ""
	switch v := body.(type) {
	case url.Values:
		r, ctype = strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"
	case string:
		r, ctype = strings.NewReader(v), "application/json"
	}
	req, err := http.NewRequestWithContext(context.Background(), method, b.base+path, r)
	if err != nil {
		b.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return Response{Code: res.StatusCode, Header: res.Header, Body: string(data)}
}

// Get fetches path.
func (b *Browser) Get(path string) Response { return b.Do(http.MethodGet, path, nil, nil) }

// Post sends form to path.
func (b *Browser) Post(path string, form url.Values) Response {
	return b.Do(http.MethodPost, path, form, nil)
}

// Cookie returns the value of the named cookie the browser holds.
func (b *Browser) Cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// CSRFOf extracts the first CSRF token of a page's forms.
func CSRFOf(t testing.TB, html string) string {
	t.Helper()
	m := csrfPattern.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no csrf_token field in page:\n%s", html)
	}
	return m[1]
}

// Login signs the browser in and returns the session's CSRF token.
func (b *Browser) Login(email, password string) string {
	b.t.Helper()
	page := b.Get("/login")
	res := b.Post("/login", url.Values{"csrf_token": {CSRFOf(b.t, page.Body)}, "email": {email}, "password": {password}})
	if res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/admin/" {
		b.t.Fatalf("login %s: got %d %s, want 303 to /admin/\n%s", email, res.Code, res.Header.Get("Location"), res.Body)
	}
	home := b.Get("/admin/")
	if home.Code != http.StatusOK {
		b.t.Fatalf("console after login: got %d, want 200", home.Code)
	}
	return CSRFOf(b.t, home.Body)
}

// Tenant is one organisation's fixtures.
type Tenant struct {
	Org                        store.Org
	PageID, CompID, CheckID    int64
	Owner, Editor, Viewer      string // emails
	OwnerTok, EditTok, ViewTok string // raw API tokens
	OwnerTokID                 int64
}

// SeedTenant creates an organisation with an owner, an editor and a viewer
// (all with testPassword), one token per role, and a page with a component
// and a check.
func SeedTenant(t testing.TB, st *store.Store, slug string) Tenant {
	t.Helper()
	ctx := context.Background()
	org, err := st.CreateOrg(ctx, strings.ToUpper(slug), slug)
	if err != nil {
		t.Fatal(err)
	}
	tn := Tenant{Org: org}
	hash, err := store.HashPassword(TestPassword, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		role  store.Role
		email *string
		token *string
	}{
		{store.RoleOwner, &tn.Owner, &tn.OwnerTok},
		{store.RoleEditor, &tn.Editor, &tn.EditTok},
		{store.RoleViewer, &tn.Viewer, &tn.ViewTok},
	} {
		*m.email = string(m.role) + "@" + slug + ".example"
		u, err := st.CreateUser(ctx, *m.email, hash)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddMember(ctx, org.ID, u.ID, m.role); err != nil {
			t.Fatal(err)
		}
		tok, raw, err := st.CreateToken(ctx, org.ID, string(m.role)+"-token", m.role, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		*m.token = raw
		if m.role == store.RoleOwner {
			tn.OwnerTokID = tok.ID
		}
	}
	db := st.DB()
	q := func(s string) string { return Rebind(st, s) }
	if err := db.QueryRowContext(ctx, q(`INSERT INTO pages (org_id, slug, title) VALUES (?, ?, ?) RETURNING id`),
		org.ID, slug+"-status", strings.ToUpper(slug)+" status").Scan(&tn.PageID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, q(`INSERT INTO components (org_id, page_id, name) VALUES (?, ?, ?) RETURNING id`),
		org.ID, tn.PageID, slug+" API").Scan(&tn.CompID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, q(`INSERT INTO checks (org_id, page_id, component_id, name, url) VALUES (?, ?, ?, ?, ?) RETURNING id`),
		org.ID, tn.PageID, tn.CompID, slug+" health", "https://api."+slug+".example/health").Scan(&tn.CheckID); err != nil {
		t.Fatal(err)
	}
	return tn
}

// Rebind turns '?' placeholders into PostgreSQL's $n for raw test queries.
func Rebind(st *store.Store, q string) string {
	if st.Dialect() != store.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Bearer is the Authorization header of an API token.
func Bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// ID formats an id for a URL.
func ID(n int64) string { return strconv.FormatInt(n, 10) }

// URL is the test server's base URL.
func (b *Browser) URL() string { return b.base }

// Client is the browser's HTTP client (cookie jar, no redirects followed).
func (b *Browser) Client() *http.Client { return b.c }
