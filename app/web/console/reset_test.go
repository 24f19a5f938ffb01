package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// askReset posts the reset form for email from b.
func askReset(t testing.TB, b *webtest.Browser, email string) webtest.Response {
	t.Helper()
	form := b.Get("/login/reset")
	if form.Code != http.StatusOK || !strings.Contains(form.Body, `data-testid="reset-form"`) {
		t.Fatalf("reset page: got %d, want the form\n%s", form.Code, form.Body)
	}
	return b.Post("/login/reset", url.Values{"csrf_token": {webtest.CSRFOf(t, form.Body)}, "email": {email}})
}

// TestPasswordResetByEmail: the link arrives through a real SMTP server,
// sets a new password once, ends the account's other sessions, signs the
// user in and is audited; unknown addresses get the same answer and no
// mail.
func TestPasswordResetByEmail(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := webtest.SeedTenant(t, st, "a")
		sink, mailer := newMailSink(t)
		h := webtest.NewServer(t, st, func(o *web.Options) { o.AccountMailer = mailer }).Handler()

		elsewhere := webtest.NewBrowser(t, h)
		elsewhere.Login(a.Editor, webtest.TestPassword)

		b := webtest.NewBrowser(t, h)
		if login := b.Get("/login"); !strings.Contains(login.Body, `href="/login/reset"`) {
			t.Error("the sign-in page does not link to the password reset")
		}
		known := askReset(t, b, strings.ToUpper(a.Editor))
		if known.Code != http.StatusOK || !strings.Contains(known.Body, `data-testid="reset-sent"`) {
			t.Fatalf("reset request: got %d, want 200 saying a link is on its way\n%s", known.Code, known.Body)
		}
		m := sink.next(t)
		if len(m.to) != 1 || m.to[0] != a.Editor || !strings.Contains(m.header.Get("Subject"), "Reset") {
			t.Errorf("mail to %v subject %q, want a reset mail to %s", m.to, m.header.Get("Subject"), a.Editor)
		}
		if m.header.Get("List-Unsubscribe") != "" {
			t.Error("an account mail carries List-Unsubscribe")
		}
		link := pathOf(t, m.text)
		if !strings.HasPrefix(link, "/login/reset/confirm?token=") || !strings.Contains(m.html, "Choose a new password") {
			t.Errorf("mail link %q, want /login/reset/confirm?token=… in both parts", link)
		}

		unknown := askReset(t, b, "nobody@a.example")
		if unknown.Code != known.Code || strings.ReplaceAll(unknown.Body, "nobody@a.example", "X") != strings.ReplaceAll(known.Body, a.Editor, "X") {
			t.Errorf("an unknown address is answered differently:\n%s\n---\n%s", unknown.Body, known.Body)
		}
		sink.none(t)

		form := b.Get(link)
		if form.Code != http.StatusOK || !strings.Contains(form.Body, a.Editor) || form.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("reset link: got %d (Referrer-Policy %q), want the new password form for %s\n%s",
				form.Code, form.Header.Get("Referrer-Policy"), a.Editor, form.Body)
		}
		token := link[strings.Index(link, "token=")+6:]
		fields := url.Values{"csrf_token": {webtest.CSRFOf(t, form.Body)}, "token": {token}, "password": {"short"}, "password_confirm": {"short"}}
		if res := b.Post("/login/reset/confirm", fields); res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "at least 10") {
			t.Errorf("short password: got %d, want 422 naming the minimum", res.Code)
		}
		fields.Set("password", newPassword)
		fields.Set("password_confirm", newPassword)
		res := b.Post("/login/reset/confirm", fields)
		if res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/admin/" {
			t.Fatalf("set the password: got %d %s, want 303 to /admin/\n%s", res.Code, res.Header.Get("Location"), res.Body)
		}
		if got := role(t, b); got != "editor" {
			t.Errorf("signed in after the reset as %q, want editor", got)
		}
		if res := elsewhere.Get("/admin/"); res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
			t.Errorf("the other session after the reset: got %d %s, want 303 to /login", res.Code, res.Header.Get("Location"))
		}
		webtest.NewBrowser(t, h).Login(a.Editor, newPassword)
		old := webtest.NewBrowser(t, h)
		page := old.Get("/login")
		if res := old.Post("/login", url.Values{"csrf_token": {webtest.CSRFOf(t, page.Body)}, "email": {a.Editor}, "password": {webtest.TestPassword}}); res.Code != http.StatusUnauthorized {
			t.Errorf("the old password: got %d, want 401", res.Code)
		}
		if again := webtest.NewBrowser(t, h).Get(link); again.Code != http.StatusGone || !strings.Contains(again.Body, "used already") {
			t.Errorf("the link again: got %d, want 410 saying it was used", again.Code)
		}

		entries, err := st.AuditLog(ctx, a.Org.ID, 50)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range entries {
			if e.Action == "user.password_reset" && e.Actor == "user:"+a.Editor {
				found = true
				if strings.Contains(string(e.Detail), token) {
					t.Error("the audit row holds the token")
				}
			}
		}
		if !found {
			t.Error("the reset is not audited")
		}
	})
}

// TestPasswordResetLimits: three requests per address and twenty per
// client an hour; beyond, 429 with Retry-After, whether or not the account
// exists.
func TestPasswordResetLimits(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	sink, mailer := newMailSink(t)
	h := webtest.NewServer(t, st, func(o *web.Options) { o.AccountMailer = mailer }).Handler()
	b := webtest.NewBrowser(t, h)
	for i := range 3 {
		if res := askReset(t, b, a.Viewer); res.Code != http.StatusOK {
			t.Fatalf("request %d: got %d, want 200", i+1, res.Code)
		}
		sink.next(t)
	}
	res := askReset(t, b, a.Viewer)
	if res.Code != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("fourth request for one address: got %d (Retry-After %q), want 429 with Retry-After", res.Code, res.Header.Get("Retry-After"))
	}
	sink.none(t)
	n := 4 // the client's requests so far: the one refused for its address counted for the client
	for ; n < 20; n++ {
		if res := askReset(t, b, "someone"+webtest.ID(int64(n))+"@example.org"); res.Code != http.StatusOK {
			t.Fatalf("request %d from the client: got %d, want 200", n+1, res.Code)
		}
	}
	if res := askReset(t, b, "yet-another@example.org"); res.Code != http.StatusTooManyRequests {
		t.Errorf("request %d from one client: got %d, want 429", n+1, res.Code)
	}
}

// TestPasswordResetLinksThatDoNotWork: expired and unknown links, and
// reset by email without SMTP.
func TestPasswordResetLinksThatDoNotWork(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := webtest.SeedTenant(t, st, "a")
		h := webtest.NewServer(t, st, nil).Handler()
		b := webtest.NewBrowser(t, h)

		off := b.Get("/login/reset")
		if off.Code != http.StatusOK || !strings.Contains(off.Body, `data-testid="reset-off"`) || !strings.Contains(off.Body, "pharos user password --email") {
			t.Errorf("reset without SMTP: got %d, want a page naming the command line\n%s", off.Code, off.Body)
		}
		login := b.Get("/login")
		if res := b.Post("/login/reset", url.Values{"csrf_token": {webtest.CSRFOf(t, login.Body)}, "email": {a.Owner}}); res.Code != http.StatusServiceUnavailable {
			t.Errorf("posting a reset without SMTP: got %d, want 503", res.Code)
		}

		_, raw, err := st.CreatePasswordReset(ctx, userID(t, st, a.Owner))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.DB().ExecContext(ctx, webtest.Rebind(st, `UPDATE password_resets SET expires_at = ?`), time.Now().UTC().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if res := b.Get("/login/reset/confirm?token=" + raw); res.Code != http.StatusGone || !strings.Contains(res.Body, "expired") {
			t.Errorf("expired link: got %d, want 410 saying it expired", res.Code)
		}
		res := b.Post("/login/reset/confirm", url.Values{"csrf_token": {webtest.CSRFOf(t, login.Body)}, "token": {raw},
			"password": {newPassword}, "password_confirm": {newPassword}})
		if res.Code != http.StatusGone {
			t.Errorf("posting an expired link: got %d, want 410", res.Code)
		}
		if res := b.Get("/login/reset/confirm?token=nope"); res.Code != http.StatusNotFound || !strings.Contains(res.Body, "not valid") {
			t.Errorf("unknown link: got %d, want 404", res.Code)
		}
		webtest.NewBrowser(t, h).Login(a.Owner, webtest.TestPassword) // unchanged
	})
}

// TestPasswordResetAnswersBeforeMailing: a slow mail server does not slow
// the answer, so its timing does not tell which addresses have accounts.
func TestPasswordResetAnswersBeforeMailing(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	sink, mailer := newMailSink(t)
	sink.delay.Store(int64(2 * time.Second))
	h := webtest.NewServer(t, st, func(o *web.Options) { o.AccountMailer = mailer }).Handler()
	b := webtest.NewBrowser(t, h)
	form := b.Get("/login/reset")
	req, err := http.NewRequest(http.MethodPost, b.URL()+"/login/reset", strings.NewReader(url.Values{
		"csrf_token": {webtest.CSRFOf(t, form.Body)}, "email": {a.Owner}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	start := time.Now()
	res, err := b.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body) // to its end: the answer is complete
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second || res.StatusCode != http.StatusOK || !strings.Contains(string(body), "reset-sent") {
		t.Errorf("answer after %v with %d, want all of it (200) well before the 2 s mail server", took, res.StatusCode)
	}
	res.Body.Close()
	b.Client().CloseIdleConnections() // the client hangs up; the mail still goes
	if m := sink.next(t); m.to[0] != a.Owner {
		t.Errorf("mail to %v, want %s", m.to, a.Owner)
	}
}

// TestPasswordResetLimitKeysOnTheNetwork: the per-client limit counts an
// IPv6 /64 as one client, so rotating the interface id gains nothing,
// while the next /64 has its own budget.
func TestPasswordResetLimitKeysOnTheNetwork(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	webtest.SeedTenant(t, st, "a")
	_, mailer := newMailSink(t)
	h := webtest.NewServer(t, st, func(o *web.Options) { behindProxy(o); o.AccountMailer = mailer }).Handler()
	ask := func(from string, n int) webtest.Response {
		b := webtest.NewBrowser(t, h)
		hdr := map[string]string{"X-Forwarded-For": from}
		form := b.Do(http.MethodGet, "/login/reset", nil, hdr)
		return b.Do(http.MethodPost, "/login/reset", url.Values{"csrf_token": {webtest.CSRFOf(t, form.Body)},
			"email": {"nobody" + webtest.ID(int64(n)) + "@example.org"}}, hdr)
	}
	for n := range 20 {
		if res := ask(fmt.Sprintf("2001:db8:1::%x", n+1), n); res.Code != http.StatusOK {
			t.Fatalf("request %d from the /64: got %d, want 200", n+1, res.Code)
		}
	}
	if res := ask("2001:db8:1::ffff", 20); res.Code != http.StatusTooManyRequests {
		t.Errorf("a 21st request from another address of the same /64: got %d, want 429", res.Code)
	}
	if res := ask("2001:db8:2::1", 21); res.Code != http.StatusOK {
		t.Errorf("the next /64: got %d, want 200", res.Code)
	}
}
