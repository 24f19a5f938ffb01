package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/views"
)

// AccountMailer sends the console's account mails: invitations and
// password reset links. notify.Email implements it.
type AccountMailer interface {
	SendInvitation(ctx context.Context, inv notify.Invitation) error
	SendPasswordReset(ctx context.Context, r notify.PasswordResetMail) error
}

// Password reset requests allowed per hour, per address and per client.
const (
	resetsPerAddress = 3
	resetsPerClient  = 20
)

// accountLinks is what invitations and password resets need.
type accountLinks struct {
	mailer  AccountMailer // nil: email is off
	baseURL string
	// perAddress and perClient bound password reset requests.
	perAddress, perClient *auth.Limiter
}

func newAccountLinks(opts Options) accountLinks {
	return accountLinks{mailer: opts.Accounts, baseURL: opts.BaseURL,
		perAddress: auth.NewLimiter(resetsPerAddress, time.Hour), perClient: auth.NewLimiter(resetsPerClient, time.Hour)}
}

// base is the absolute URL links are built under: PHAROS_BASE_URL, else
// the host the owner reached the console at.
func (a accountLinks) base(c echo.Context) string {
	if a.baseURL != "" {
		return a.baseURL
	}
	return c.Scheme() + "://" + c.Request().Host
}

// Team shows the organisation's members and open invitations to every
// member; owners get the forms that change them.
func (s *Console) Team(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	return s.renderTeam(c, p, http.StatusOK, views.TeamData{})
}

func (s *Console) renderTeam(c echo.Context, p *auth.Principal, code int, d views.TeamData) error {
	ctx := c.Request().Context()
	members, err := s.st.Members(ctx, p.OrgID)
	if err != nil {
		return err
	}
	invites, err := s.st.OpenInvites(ctx, p.OrgID)
	if err != nil {
		return err
	}
	t := time.Now()
	for _, m := range members {
		row := views.TeamMember{UserID: m.UserID, Email: m.Email, Role: string(m.Role), Joined: formatTime(m.JoinedAt),
			LastSignIn: "never", You: m.UserID == p.User.ID}
		if m.LastSignIn != nil {
			row.LastSignIn = formatTime(*m.LastSignIn)
		}
		d.Members = append(d.Members, row)
	}
	for _, i := range invites {
		d.Invites = append(d.Invites, views.TeamInvite{ID: i.ID, Email: i.Email, Role: string(i.Role),
			Created: formatTime(i.CreatedAt), Expires: formatTime(i.ExpiresAt), State: string(i.State(t))})
	}
	d.Nav, d.EmailOff = adminNav(p), s.accounts.mailer == nil
	return respond.Render(c, code, views.Team(respond.Layout(c, "Team"), d))
}

// lastOwner answers a change refused because it would leave no owner.
func (s *Console) lastOwner(c echo.Context, p *auth.Principal, err error) error {
	if !errors.Is(err, store.ErrLastOwner) {
		return err
	}
	return s.renderTeam(c, p, http.StatusConflict, views.TeamData{
		Error: "That member is the organisation's only owner. Make someone else an owner first."})
}

// SetMemberRole changes a member's role (owners only; audited).
func (s *Console) SetMemberRole(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	role := store.Role(c.FormValue("role"))
	if !role.Valid() {
		return s.renderTeam(c, p, http.StatusUnprocessableEntity, views.TeamData{Error: "Choose viewer, editor or owner."})
	}
	ctx := c.Request().Context()
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		before, err := tx.SetMemberRole(ctx, p.OrgID, id, role)
		if err != nil || before.Role == role {
			return err
		}
		return tx.Audit(ctx, p.OrgID, p.Actor(), "member.role", "user "+before.Email,
			map[string]any{"user_id": id, "from": before.Role, "to": role})
	})
	if err != nil {
		return s.lastOwner(c, p, err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/team")
}

// RemoveMember takes a member out of the organisation and ends their
// sessions in it (owners only; audited). The account stays.
func (s *Console) RemoveMember(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		m, err := tx.RemoveMember(ctx, p.OrgID, id)
		if err != nil {
			return err
		}
		return tx.Audit(ctx, p.OrgID, p.Actor(), "member.remove", "user "+m.Email,
			map[string]any{"user_id": id, "role": m.Role})
	})
	if err != nil {
		return s.lastOwner(c, p, err)
	}
	if id == p.User.ID {
		return c.Redirect(http.StatusSeeOther, "/login") // their own session ended with the membership
	}
	return c.Redirect(http.StatusSeeOther, "/admin/team")
}

// CreateInvite invites an address with a role (owners only; audited). The
// link is mailed, or without email shown once in this response, never in
// a URL or a later page.
func (s *Console) CreateInvite(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	email, role := store.NormalizeEmail(c.FormValue("email")), store.Role(c.FormValue("role"))
	refuse := func(msg string) error {
		return s.renderTeam(c, p, http.StatusUnprocessableEntity, views.TeamData{Error: msg, InviteEmail: email, InviteRole: string(role)})
	}
	switch {
	case !validEmail(email):
		return refuse("Enter a valid email address.")
	case !role.Valid():
		return refuse("Choose viewer, editor or owner.")
	}
	if user, _, err := s.st.UserByEmail(ctx, email); err == nil {
		if _, err := s.st.MemberRole(ctx, p.OrgID, user.ID); err == nil {
			return refuse(email + " is a member already; change their role in the list instead.")
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var inv store.Invite
	var raw string
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if inv, raw, err = tx.CreateInvite(ctx, p.OrgID, email, role, p.User.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, p.OrgID, p.Actor(), "invite.create", fmt.Sprintf("invite %d", inv.ID),
			map[string]any{"email": inv.Email, "role": inv.Role, "mailed": s.accounts.mailer != nil})
	})
	if err != nil {
		return err
	}
	n := &views.NewInvite{Email: inv.Email, Role: string(inv.Role), Expires: formatTime(inv.ExpiresAt) + " UTC"}
	if s.accounts.mailer != nil {
		err := s.accounts.mailer.SendInvitation(ctx, notify.Invitation{To: inv.Email, OrgName: p.OrgName, Role: string(inv.Role),
			InvitedBy: p.User.Email, Token: raw, Expires: inv.ExpiresAt})
		if err != nil {
			s.log.WarnContext(ctx, "invitation mail failed", slog.Int64("invite_id", inv.ID), slog.Any("error", err))
			n.MailFailed = true
		}
	}
	if s.accounts.mailer == nil || n.MailFailed {
		n.Link = notify.InviteURL(s.accounts.base(c), raw)
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	}
	return s.renderTeam(c, p, http.StatusOK, views.TeamData{NewInvite: n})
}

// RevokeInvite withdraws an open invitation (owners only; audited).
func (s *Console) RevokeInvite(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		inv, err := tx.RevokeInvite(ctx, p.OrgID, id)
		if err != nil {
			return err
		}
		return tx.Audit(ctx, p.OrgID, p.Actor(), "invite.revoke", fmt.Sprintf("invite %d", id),
			map[string]any{"email": inv.Email, "role": inv.Role})
	})
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/team")
}

// validatePassword checks a new password and its repetition for setup,
// invitations and resets: the password policy of auth.CheckNewPassword,
// with related (the account's email, the organisation's name) counted as
// known to an attacker. The message says why a password is refused.
func validatePassword(password, confirm string, related ...string) string {
	if err := auth.CheckNewPassword(password, related...); err != nil {
		msg := err.Error()
		return strings.ToUpper(msg[:1]) + msg[1:] + "."
	}
	if password != confirm {
		return "The two passwords differ."
	}
	return ""
}

// linkProblem renders why a one-time link does not work.
func linkProblem(c echo.Context, code int, p views.LinkProblem) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return respond.Render(c, code, views.LinkProblemPage(respond.Layout(c, p.Heading), p))
}

// noReferrer keeps a page's one-time token out of Referer headers and
// caches.
func noReferrer(c echo.Context) {
	h := c.Response().Header()
	h.Set("Referrer-Policy", "no-referrer")
	h.Set(echo.HeaderCacheControl, "no-store")
}

// tokenParam is the link's token, from the query or the form.
func tokenParam(c echo.Context) string { return strings.TrimSpace(c.FormValue("token")) }
