package console_test

import (
	"context"
	"html"
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

const newPassword = "a brand new password"

// between returns the text after start up to the next "<".
func between(t testing.TB, body, start string) string {
	t.Helper()
	i := strings.Index(body, start)
	if i < 0 {
		t.Fatalf("page lacks %q:\n%s", start, body)
	}
	rest := body[i+len(start):]
	return html.UnescapeString(rest[:strings.Index(rest, "<")])
}

// invite has the owner's browser invite email as role and returns the
// link's path and query (email off: the console shows the link).
func invite(t testing.TB, owner *webtest.Browser, csrf, email, role string) string {
	t.Helper()
	res := owner.Post("/admin/team/invites", url.Values{"csrf_token": {csrf}, "email": {email}, "role": {role}})
	if res.Code != http.StatusOK {
		t.Fatalf("invite %s: got %d, want 200\n%s", email, res.Code, res.Body)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the page showing an invitation link has Cache-Control %q, want no-store", res.Header.Get("Cache-Control"))
	}
	return pathOf(t, between(t, res.Body, `data-testid="invite-link">`))
}

func userID(t testing.TB, st *store.Store, email string) int64 {
	t.Helper()
	u, _, err := st.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func role(t testing.TB, b *webtest.Browser) string {
	t.Helper()
	home := b.Get("/admin/")
	if home.Code != http.StatusOK {
		t.Fatalf("console: got %d, want 200", home.Code)
	}
	return between(t, home.Body, `data-testid="role">`)
}

// TestInviteNewUser: an owner invites an address without an account; the
// link (shown once, email being off) lets the invitee choose a password
// and lands them in the organisation with the invited role.
func TestInviteNewUser(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		h := webtest.NewServer(t, st, nil).Handler()
		owner := webtest.NewBrowser(t, h)
		csrf := owner.Login(a.Owner, webtest.TestPassword)

		team := owner.Get("/admin/team")
		for _, want := range []string{a.Owner, a.Editor, a.Viewer, `data-testid="invite-form"`, `data-testid="invite-email-off"`, `href="/admin/team"`} {
			if !strings.Contains(team.Body, want) {
				t.Errorf("team page lacks %q", want)
			}
		}
		link := invite(t, owner, csrf, " New@Example.org ", "editor")
		team = owner.Get("/admin/team")
		token := link[strings.Index(link, "token=")+6:]
		if strings.Contains(team.Body, token) || !strings.Contains(team.Body, "new@example.org") {
			t.Error("the team page shows the link again, or not the pending invitation")
		}

		invitee := webtest.NewBrowser(t, h)
		form := invitee.Get(link)
		if form.Code != http.StatusOK || !strings.Contains(form.Body, "new@example.org") || !strings.Contains(form.Body, "password_confirm") {
			t.Fatalf("invitation page: got %d, want a password form for new@example.org\n%s", form.Code, form.Body)
		}
		if form.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("invitation page Referrer-Policy %q, want no-referrer", form.Header.Get("Referrer-Policy"))
		}
		fields := url.Values{"csrf_token": {webtest.CSRFOf(t, form.Body)}, "token": {token},
			"password": {newPassword}, "password_confirm": {"something else entirely"}}
		if res := invitee.Post("/invite", fields); res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "differ") {
			t.Errorf("different passwords: got %d, want 422 saying they differ", res.Code)
		}
		if res := invitee.Post("/invite", url.Values{"token": {token}, "password": {newPassword}, "password_confirm": {newPassword}}); res.Code != http.StatusForbidden {
			t.Errorf("accept without a CSRF token: got %d, want 403", res.Code)
		}
		fields.Set("password_confirm", newPassword)
		res := invitee.Post("/invite", fields)
		if res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/admin/" {
			t.Fatalf("accept: got %d %s, want 303 to /admin/\n%s", res.Code, res.Header.Get("Location"), res.Body)
		}
		if got := role(t, invitee); got != "editor" {
			t.Errorf("role after accepting = %q, want editor", got)
		}
		if r, err := st.MemberRole(context.Background(), a.Org.ID, userID(t, st, "new@example.org")); err != nil || r != store.RoleEditor {
			t.Errorf("membership = %s, %v; want editor of a", r, err)
		}
		webtest.NewBrowser(t, h).Login("new@example.org", newPassword)

		again := webtest.NewBrowser(t, h).Get(link)
		if again.Code != http.StatusGone || !strings.Contains(again.Body, "used already") {
			t.Errorf("the link a second time: got %d, want 410 saying it was used\n%s", again.Code, again.Body)
		}
		audit := owner.Get("/admin/audit").Body
		for _, want := range []string{"invite.create", "invite.accept", "user:new@example.org"} {
			if !strings.Contains(audit, want) {
				t.Errorf("audit log lacks %q", want)
			}
		}
		if strings.Contains(audit, token) {
			t.Error("the audit log holds the invitation token")
		}
	})
}

// TestInviteExistingUser: a user of another organisation proves their
// password and gains the membership; they keep the other one.
func TestInviteExistingUser(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		h := webtest.NewServer(t, st, nil).Handler()
		owner := webtest.NewBrowser(t, h)
		link := invite(t, owner, owner.Login(a.Owner, webtest.TestPassword), b.Owner, "viewer")
		token := link[strings.Index(link, "token=")+6:]

		invitee := webtest.NewBrowser(t, h)
		form := invitee.Get(link)
		if form.Code != http.StatusOK || !strings.Contains(form.Body, "Sign in and join") || strings.Contains(form.Body, "password_confirm") {
			t.Fatalf("invitation page for an existing account: got %d, want a sign-in form\n%s", form.Code, form.Body)
		}
		fields := url.Values{"csrf_token": {webtest.CSRFOf(t, form.Body)}, "token": {token}, "password": {"wrong password!"}}
		if res := invitee.Post("/invite", fields); res.Code != http.StatusUnauthorized {
			t.Errorf("wrong password: got %d, want 401", res.Code)
		}
		fields.Set("password", webtest.TestPassword)
		if res := invitee.Post("/invite", fields); res.Code != http.StatusSeeOther {
			t.Fatalf("accept: got %d, want 303\n%s", res.Code, res.Body)
		}
		ctx := context.Background()
		id := userID(t, st, b.Owner)
		if r, err := st.MemberRole(ctx, a.Org.ID, id); err != nil || r != store.RoleViewer {
			t.Errorf("membership of a = %s, %v; want viewer", r, err)
		}
		if r, err := st.MemberRole(ctx, b.Org.ID, id); err != nil || r != store.RoleOwner {
			t.Errorf("membership of b = %s, %v; want owner still", r, err)
		}
		home := invitee.Get("/admin/")
		if !strings.Contains(home.Body, a.Org.Name) || between(t, home.Body, `data-testid="role">`) != "viewer" {
			t.Error("after accepting, the session is not a's viewer")
		}
		// Inviting someone who is a member already is refused.
		if res := owner.Post("/admin/team/invites", url.Values{"csrf_token": {webtest.CSRFOf(t, owner.Get("/admin/team").Body)},
			"email": {a.Editor}, "role": {"viewer"}}); res.Code != http.StatusUnprocessableEntity {
			t.Errorf("inviting a member: got %d, want 422", res.Code)
		}
	})
}

// TestInviteLinksThatNoLongerWork: revoked, expired and unknown links are
// refused with a page saying which.
func TestInviteLinksThatNoLongerWork(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := webtest.SeedTenant(t, st, "a")
		h := webtest.NewServer(t, st, nil).Handler()
		owner := webtest.NewBrowser(t, h)
		csrf := owner.Login(a.Owner, webtest.TestPassword)

		revoked := invite(t, owner, csrf, "rev@example.org", "viewer")
		open, err := st.OpenInvites(ctx, a.Org.ID)
		if err != nil || len(open) != 1 {
			t.Fatalf("open invitations = %v, %v", open, err)
		}
		if res := owner.Post("/admin/team/invites/"+webtest.ID(open[0].ID)+"/revoke", url.Values{"csrf_token": {csrf}}); res.Code != http.StatusSeeOther {
			t.Fatalf("revoke: got %d, want 303", res.Code)
		}
		expired := invite(t, owner, csrf, "exp@example.org", "viewer")
		if _, err := st.DB().ExecContext(ctx, webtest.Rebind(st, `UPDATE invites SET expires_at = ? WHERE email = ?`),
			time.Now().UTC().Add(-time.Minute), "exp@example.org"); err != nil {
			t.Fatal(err)
		}
		visitor := webtest.NewBrowser(t, h)
		for name, tc := range map[string]struct {
			path string
			code int
			want string
		}{
			"revoked":  {revoked, http.StatusGone, "withdrawn"},
			"expired":  {expired, http.StatusGone, "expired"},
			"unknown":  {"/invite?token=nope", http.StatusNotFound, "not valid"},
			"no token": {"/invite", http.StatusNotFound, "not valid"},
		} {
			res := visitor.Get(tc.path)
			if res.Code != tc.code || !strings.Contains(res.Body, tc.want) {
				t.Errorf("%s link: got %d, want %d saying %q\n%s", name, res.Code, tc.code, tc.want, res.Body)
			}
		}
		// Posting the form of a link revoked meanwhile is refused too.
		form := visitor.Get("/login")
		token := revoked[strings.Index(revoked, "token=")+6:]
		res := visitor.Post("/invite", url.Values{"csrf_token": {webtest.CSRFOf(t, form.Body)}, "token": {token},
			"password": {newPassword}, "password_confirm": {newPassword}})
		if res.Code != http.StatusGone {
			t.Errorf("accepting a revoked invitation: got %d, want 410", res.Code)
		}
		if _, _, err := st.UserByEmail(ctx, "rev@example.org"); err == nil {
			t.Error("a revoked invitation created an account")
		}
	})
}

// TestTeamIsOwnersToManage: editors and viewers see the team but get 403
// on every change; another organisation's ids are not found; the last
// owner can be neither demoted nor removed.
func TestTeamIsOwnersToManage(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		h := webtest.NewServer(t, st, nil).Handler()
		editorID, viewerID, ownerID := userID(t, st, a.Editor), userID(t, st, a.Viewer), userID(t, st, a.Owner)

		for _, who := range []string{a.Editor, a.Viewer} {
			br := webtest.NewBrowser(t, h)
			csrf := br.Login(who, webtest.TestPassword)
			team := br.Get("/admin/team")
			if team.Code != http.StatusOK || !strings.Contains(team.Body, a.Owner) {
				t.Errorf("%s viewing the team: got %d, want 200 listing the members", who, team.Code)
			}
			if strings.Contains(team.Body, "invite-form") || strings.Contains(team.Body, "/remove") {
				t.Errorf("%s is offered the owner's forms", who)
			}
			for path, form := range map[string]url.Values{
				"/admin/team/invites": {"email": {"x@example.org"}, "role": {"owner"}},
				"/admin/team/members/" + webtest.ID(editorID) + "/role":  {"role": {"owner"}},
				"/admin/team/members/" + webtest.ID(ownerID) + "/remove": {},
			} {
				form.Set("csrf_token", csrf)
				if res := br.Post(path, form); res.Code != http.StatusForbidden {
					t.Errorf("%s POST %s: got %d, want 403", who, path, res.Code)
				}
			}
		}

		owner := webtest.NewBrowser(t, h)
		csrf := owner.Login(a.Owner, webtest.TestPassword)
		bOwner := userID(t, st, b.Owner)
		var bInvite store.Invite
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			bInvite, _, err = tx.CreateInvite(ctx, b.Org.ID, "x@b.example", store.RoleViewer, bOwner)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/admin/team/members/" + webtest.ID(bOwner) + "/role", "/admin/team/members/" + webtest.ID(bOwner) + "/remove",
			"/admin/team/invites/" + webtest.ID(bInvite.ID) + "/revoke", "/admin/team/members/nope/role"} {
			if res := owner.Post(path, url.Values{"csrf_token": {csrf}, "role": {"viewer"}}); res.Code != http.StatusNotFound {
				t.Errorf("a's owner POST %s: got %d, want 404", path, res.Code)
			}
		}
		if r, _ := st.MemberRole(ctx, b.Org.ID, bOwner); r != store.RoleOwner {
			t.Errorf("b's owner after a's attempts: %s", r)
		}

		for name, path := range map[string]string{"demote": "/role", "remove": "/remove"} {
			res := owner.Post("/admin/team/members/"+webtest.ID(ownerID)+path, url.Values{"csrf_token": {csrf}, "role": {"editor"}})
			if res.Code != http.StatusConflict || !strings.Contains(res.Body, "only owner") {
				t.Errorf("%s the last owner: got %d, want 409 saying it is the only owner", name, res.Code)
			}
		}
		if res := owner.Post("/admin/team/members/"+webtest.ID(editorID)+"/role", url.Values{"csrf_token": {csrf}, "role": {"owner"}}); res.Code != http.StatusSeeOther {
			t.Fatalf("promote the editor: got %d, want 303", res.Code)
		}
		viewer := webtest.NewBrowser(t, h)
		viewer.Login(a.Viewer, webtest.TestPassword)
		if res := owner.Post("/admin/team/members/"+webtest.ID(viewerID)+"/remove", url.Values{"csrf_token": {csrf}}); res.Code != http.StatusSeeOther {
			t.Fatalf("remove the viewer: got %d, want 303", res.Code)
		}
		if res := viewer.Get("/admin/"); res.Code != http.StatusSeeOther {
			t.Errorf("the removed viewer's session: got %d, want 303 to sign in", res.Code)
		}
		if res := owner.Post("/admin/team/members/"+webtest.ID(ownerID)+"/role", url.Values{"csrf_token": {csrf}, "role": {"viewer"}}); res.Code != http.StatusSeeOther {
			t.Fatalf("step down with another owner: got %d, want 303", res.Code)
		}
		if got := role(t, owner); got != "viewer" {
			t.Errorf("role after stepping down = %q, want viewer", got)
		}
		audit, err := st.AuditLog(ctx, a.Org.ID, 50)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, e := range audit {
			seen[e.Action]++
		}
		if seen["member.role"] != 2 || seen["member.remove"] != 1 {
			t.Errorf("audited %v, want 2 member.role and 1 member.remove", seen)
		}
	})
}

// TestInviteMailAndMarkup: with SMTP the invitation is mailed, not shown;
// markup in an organisation's name and in members' emails is text on
// every page and in the mail.
func TestInviteMailAndMarkup(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := webtest.SeedTenant(t, st, "a")
		const evilOrg = `<img src=x onerror=alert(1)>"&`
		const evilEmail = `<script>alert(2)</script>@a.example`
		if _, err := st.DB().ExecContext(ctx, webtest.Rebind(st, `UPDATE orgs SET name = ? WHERE id = ?`), evilOrg, a.Org.ID); err != nil {
			t.Fatal(err)
		}
		hash, err := store.HashPassword(webtest.TestPassword, 4)
		if err != nil {
			t.Fatal(err)
		}
		evil, err := st.CreateUser(ctx, evilEmail, hash)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddMember(ctx, a.Org.ID, evil.ID, store.RoleViewer); err != nil {
			t.Fatal(err)
		}
		sink, mailer := newMailSink(t)
		h := webtest.NewServer(t, st, func(o *web.Options) { o.AccountMailer = mailer }).Handler()
		owner := webtest.NewBrowser(t, h)
		csrf := owner.Login(a.Owner, webtest.TestPassword)

		noMarkup := func(where, body string) {
			t.Helper()
			for _, bad := range []string{"<img src=x", "<script>alert(2)"} {
				if strings.Contains(body, bad) {
					t.Errorf("%s contains %q", where, bad)
				}
			}
		}
		team := owner.Get("/admin/team")
		noMarkup("team page", team.Body)
		if !strings.Contains(team.Body, "&lt;script&gt;alert(2)&lt;/script&gt;@a.example") {
			t.Error("the team page does not show the member's email as text")
		}
		if strings.Contains(team.Body, "invite-email-off") {
			t.Error("with SMTP the team page says email is off")
		}

		res := owner.Post("/admin/team/invites", url.Values{"csrf_token": {csrf}, "email": {"new@example.org"}, "role": {"owner"}})
		if res.Code != http.StatusOK || !strings.Contains(res.Body, "was mailed") || strings.Contains(res.Body, "invite-link") {
			t.Fatalf("invite with SMTP: got %d, want the mailed notice without the link\n%s", res.Code, res.Body)
		}
		noMarkup("invite answer", res.Body)
		m := sink.next(t)
		if len(m.to) != 1 || m.to[0] != "new@example.org" || !strings.Contains(m.text, a.Owner) {
			t.Errorf("invitation mail to %v, want new@example.org naming the inviter\n%s", m.to, m.text)
		}
		noMarkup("invitation mail", m.html)
		if !strings.Contains(m.html, "&lt;img src=x onerror=alert(1)&gt;") {
			t.Errorf("the mail does not show the organisation's name as text:\n%s", m.html)
		}
		link := pathOf(t, m.text)
		page := webtest.NewBrowser(t, h).Get(link)
		if page.Code != http.StatusOK {
			t.Fatalf("mailed invitation link: got %d\n%s", page.Code, page.Body)
		}
		noMarkup("invitation page", page.Body)

		_, raw, err := st.CreatePasswordReset(ctx, evil.ID)
		if err != nil {
			t.Fatal(err)
		}
		confirm := webtest.NewBrowser(t, h).Get("/login/reset/confirm?token=" + raw)
		if confirm.Code != http.StatusOK {
			t.Fatalf("reset page: got %d", confirm.Code)
		}
		noMarkup("reset page", confirm.Body)
	})
}
