package console_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// behindProxy makes the test server believe X-Forwarded-For from loopback,
// so one test client can sign in from many addresses.
func behindProxy(o *web.Options) {
	_, v4, _ := net.ParseCIDR("127.0.0.0/8")
	_, v6, _ := net.ParseCIDR("::1/128")
	o.TrustedProxies = []*net.IPNet{v4, v6}
}

// signIn posts the sign-in form from the client address from.
func signIn(t testing.TB, b *webtest.Browser, from, email, password string) webtest.Response {
	t.Helper()
	hdr := map[string]string{"X-Forwarded-For": from}
	page := b.Do(http.MethodGet, "/login", nil, hdr)
	form := url.Values{"csrf_token": {webtest.CSRFOf(t, page.Body)}, "email": {email}, "password": {password}}
	return b.Do(http.MethodPost, "/login", form, hdr)
}

// TestWrongPasswordsFromElsewhereDoNotLockOut: ten wrong passwords from ten
// addresses used to lock the account for everyone; now the owner still
// signs in from an eleventh address, while the address that guessed ten
// times is refused.
func TestWrongPasswordsFromElsewhereDoNotLockOut(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		h := webtest.NewServer(t, st, behindProxy).Handler()
		b := webtest.NewBrowser(t, h)
		for i := range 10 {
			if res := signIn(t, b, "192.0.2."+strconv.Itoa(i+1), a.Owner, "wrong password"); res.Code != http.StatusUnauthorized {
				t.Fatalf("wrong password %d: got %d, want 401", i+1, res.Code)
			}
		}
		if res := signIn(t, webtest.NewBrowser(t, h), "203.0.113.50", a.Owner, webtest.TestPassword); res.Code != http.StatusSeeOther {
			t.Fatalf("the owner from an eleventh address: got %d, want 303 (signed in)\n%s", res.Code, res.Body)
		}

		for i := range 10 {
			if res := signIn(t, b, "192.0.2.1", a.Editor, "wrong password"); res.Code != http.StatusUnauthorized {
				t.Fatalf("guess %d from one address: got %d, want 401", i+1, res.Code)
			}
		}
		res := signIn(t, b, "192.0.2.1", a.Editor, webtest.TestPassword)
		if res.Code != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Errorf("11th attempt from one address: got %d (Retry-After %q), want 429 with Retry-After", res.Code, res.Header.Get("Retry-After"))
		}
		if res := signIn(t, b, "198.51.100.8", a.Editor, webtest.TestPassword); res.Code != http.StatusSeeOther {
			t.Errorf("the editor from another address: got %d, want 303", res.Code)
		}
	})
}

// TestIPv6AttemptsShareTheirSlash64: the addresses of one /64 are one
// client to the limits, whether it guesses one account's password or
// sprays many accounts; the next /64 is another client.
func TestIPv6AttemptsShareTheirSlash64(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	h := webtest.NewServer(t, st, behindProxy).Handler()
	b := webtest.NewBrowser(t, h)
	addr := func(net string, i int) string { return fmt.Sprintf("%s%x:%x", net, i+1, (i+1)*0x111) }
	for i := range 10 {
		if res := signIn(t, b, addr("2001:db8:1:2::", i), a.Owner, "wrong password"); res.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: got %d, want 401", i+1, res.Code)
		}
	}
	if res := signIn(t, b, "2001:db8:1:2:ffff:ffff:ffff:fffe", a.Owner, webtest.TestPassword); res.Code != http.StatusTooManyRequests {
		t.Errorf("the owner from a new address in the same /64: got %d, want 429", res.Code)
	}
	if res := signIn(t, webtest.NewBrowser(t, h), "2001:db8:1:3::1", a.Owner, webtest.TestPassword); res.Code != http.StatusSeeOther {
		t.Errorf("the owner from the next /64: got %d, want 303", res.Code)
	}

	// Spraying: one attempt per account and per address, all in one /64,
	// stops at the network's limit (3 × 10).
	for i := range 30 {
		email := "nobody" + strconv.Itoa(i) + "@a.example"
		if res := signIn(t, b, addr("2001:db8:9:9::", i), email, "wrong password"); res.Code != http.StatusUnauthorized {
			t.Fatalf("spray %d: got %d, want 401", i+1, res.Code)
		}
	}
	if res := signIn(t, b, "2001:db8:9:9:abcd::1", a.Editor, webtest.TestPassword); res.Code != http.StatusTooManyRequests {
		t.Errorf("after 30 accounts sprayed from one /64: got %d, want 429", res.Code)
	}
}

// TestLoginAccountCeiling: guesses spread over many networks still stop at
// the account's ceiling (10 × the per-network limit); other accounts are
// not affected.
func TestLoginAccountCeiling(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	var checks atomic.Int32
	h := webtest.NewServer(t, st, func(o *web.Options) {
		behindProxy(o)
		o.LoginAttempts = 2 // per account and network; the ceiling is 20
		o.CheckPassword = func(h store.PasswordHash, pw string) error {
			checks.Add(1)
			return store.CheckPassword(h, pw)
		}
	}).Handler()
	b := webtest.NewBrowser(t, h)
	for i := range 20 {
		from := "198.51.100." + strconv.Itoa(i/2+1)
		if res := signIn(t, b, from, a.Owner, "wrong password"); res.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d from %s: got %d, want 401", i+1, from, res.Code)
		}
	}
	res := signIn(t, b, "203.0.113.9", a.Owner, webtest.TestPassword)
	if res.Code != http.StatusTooManyRequests {
		t.Errorf("the 21st attempt, from a fresh network: got %d, want 429 (the account's ceiling)", res.Code)
	}
	if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After = %q, want 1-60 seconds", res.Header.Get("Retry-After"))
	}
	if got := checks.Load(); got != 20 {
		t.Errorf("password checks = %d, want 20 (the refused attempt is not checked)", got)
	}
	if res := signIn(t, webtest.NewBrowser(t, h), "203.0.113.9", a.Editor, webtest.TestPassword); res.Code != http.StatusSeeOther {
		t.Errorf("another account from that network: got %d, want 303", res.Code)
	}
}

// TestPasswordHashingIsCapped: sign-ins beyond the cap on concurrent
// password checks (GOMAXPROCS) wait, then get 503 with Retry-After; the
// checks running at once, counted in the check hook, never exceed the cap.
func TestPasswordHashingIsCapped(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	limit := runtime.GOMAXPROCS(0)
	var inFlight, peak atomic.Int32
	release := make(chan struct{})
	h := webtest.NewServer(t, st, func(o *web.Options) {
		behindProxy(o)
		o.CheckPassword = func(h store.PasswordHash, pw string) error {
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			<-release
			inFlight.Add(-1)
			return store.CheckPassword(h, pw)
		}
	}).Handler()

	const extra = 3
	codes := make(chan webtest.Response, limit+extra)
	var wg sync.WaitGroup
	for i := range limit + extra {
		email := a.Owner
		if i%2 == 1 {
			email = "nobody" + strconv.Itoa(i) + "@a.example" // an unknown account costs a check too
		}
		// A browser each: a shared cookie jar would mix the sign-in forms'
		// CSRF nonces of requests running at once.
		wg.Go(func() {
			codes <- signIn(t, webtest.NewBrowser(t, h), "192.0.2."+strconv.Itoa(i+1), email, "wrong password")
		})
	}
	// The requests beyond the cap give up after the hasher's wait, while
	// the first ones are still held in the hook.
	deadline := time.After(30 * time.Second)
	for range extra {
		select {
		case res := <-codes:
			if res.Code != http.StatusServiceUnavailable {
				t.Errorf("a sign-in beyond the cap: got %d, want 503", res.Code)
			}
			if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 {
				t.Errorf("Retry-After = %q, want a number of seconds", res.Header.Get("Retry-After"))
			}
		case <-deadline:
			t.Fatal("no 503 within 30s for the sign-ins beyond the cap")
		}
	}
	if got := inFlight.Load(); got != int32(limit) {
		t.Errorf("password checks in flight = %d, want the cap, %d", got, limit)
	}
	close(release)
	wg.Wait()
	close(codes)
	for res := range codes {
		if res.Code != http.StatusUnauthorized {
			t.Errorf("a sign-in within the cap: got %d, want 401", res.Code)
		}
	}
	if got := peak.Load(); got != int32(limit) {
		t.Errorf("most password checks at once = %d, want the cap, %d", got, limit)
	}
}

// TestCommonPasswordsRefused: setup, an invitation and a reset refuse
// passwords found in leaked-password lists or made of a couple of common
// words, and say why.
func TestCommonPasswordsRefused(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		h := webtest.NewServer(t, st, nil).Handler()
		weak := map[string]string{
			"password123":   "one of the most common passwords",
			"correct horse": "too easy to guess",
			"qwertyuiop12":  "too easy to guess",
		}
		post := func(path string, fields url.Values, password string) webtest.Response {
			b := webtest.NewBrowser(t, h)
			page := b.Get(path + "?token=" + fields.Get("token"))
			if page.Code != http.StatusOK {
				t.Fatalf("GET %s: got %d, want 200\n%s", path, page.Code, page.Body)
			}
			fields.Set("csrf_token", webtest.CSRFOf(t, page.Body))
			fields.Set("password", password)
			fields.Set("password_confirm", password)
			return b.Post(path, fields)
		}
		for password, why := range weak {
			res := post("/setup", url.Values{"org_name": {"ACME"}, "email": {"ada@example.org"}}, password)
			if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, why) {
				t.Errorf("setup with %q: got %d, want 422 saying %q\n%s", password, res.Code, why, res.Body)
			}
		}
		if has, err := st.HasUsers(ctx); err != nil || has {
			t.Fatalf("a refused setup created a user (%v, %v)", has, err)
		}

		a := webtest.SeedTenant(t, st, "a")
		var raw string
		owner := userID(t, st, a.Owner) // before the transaction: it reads on a connection of its own
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			_, raw, err = tx.CreateInvite(ctx, a.Org.ID, "new@example.org", store.RoleViewer, owner)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		editor := userID(t, st, a.Editor)
		_, reset, err := st.CreatePasswordReset(ctx, editor)
		if err != nil {
			t.Fatal(err)
		}
		for password, why := range weak {
			if res := post("/invite", url.Values{"token": {raw}}, password); res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, why) {
				t.Errorf("invitation with %q: got %d, want 422 saying %q", password, res.Code, why)
			}
			if res := post("/login/reset/confirm", url.Values{"token": {reset}}, password); res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, why) {
				t.Errorf("reset with %q: got %d, want 422 saying %q", password, res.Code, why)
			}
		}
		// The account's own words count as known: the organisation's name
		// and the email do not make a password.
		if res := post("/invite", url.Values{"token": {raw}}, "new@example.org A"); res.Code != http.StatusUnprocessableEntity ||
			!strings.Contains(res.Body, "email address") {
			t.Errorf("invitation with the email as password: got %d, want 422 naming the email", res.Code)
		}
		if res := post("/invite", url.Values{"token": {raw}}, newPassword); res.Code != http.StatusSeeOther {
			t.Errorf("invitation with a good password: got %d, want 303", res.Code)
		}
	})
}
