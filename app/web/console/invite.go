package console

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/respond"
	"pharos/views"
)

// This file holds the pages an invitation link opens. They have no session
// yet: the forms carry a pre-session CSRF token. Opening a link changes
// nothing (mail scanners open links); only the form's POST spends it.

// pendingInvite reads the invitation of the request's token. When the link
// does not work it renders a page saying why and returns ok false.
func (s *Console) pendingInvite(c echo.Context) (store.Invite, bool, error) {
	raw := tokenParam(c)
	if raw == "" {
		return store.Invite{}, false, inviteUnknown(c)
	}
	inv, err := s.st.InviteByToken(c.Request().Context(), raw)
	if errors.Is(err, store.ErrNotFound) {
		return store.Invite{}, false, inviteUnknown(c)
	}
	if err != nil {
		return store.Invite{}, false, err
	}
	if inv.State(time.Now()) != store.InvitePending {
		return store.Invite{}, false, inviteSpent(c, inv)
	}
	return inv, true, nil
}

func inviteUnknown(c echo.Context) error {
	return linkProblem(c, http.StatusNotFound, views.LinkProblem{Heading: "Invitation not found",
		Message: "This invitation link is not valid. Check that you copied all of it, or ask an owner of the organisation for a new one."})
}

// inviteSpent says why an invitation link no longer works.
func inviteSpent(c echo.Context, inv store.Invite) error {
	p := views.LinkProblem{Heading: "Invitation no longer valid"}
	switch inv.State(time.Now()) {
	case store.InviteAccepted:
		p.Message = "This invitation was used already: it works only once. If you accepted it, sign in."
		p.Next = views.EmailLink{Label: "Sign in", URL: "/login"}
	case store.InviteRevoked:
		p.Message = fmt.Sprintf("This invitation to %s was withdrawn. Ask an owner of %s for a new one.", inv.OrgName, inv.OrgName)
	default:
		p.Message = fmt.Sprintf("This invitation to %s expired on %s UTC. Ask an owner of %s for a new one.",
			inv.OrgName, formatTime(inv.ExpiresAt), inv.OrgName)
	}
	return linkProblem(c, http.StatusGone, p)
}

// InviteForm shows an invitation: a password form for a new user, a
// sign-in form for an existing one.
func (s *Console) InviteForm(c echo.Context) error {
	inv, ok, err := s.pendingInvite(c)
	if !ok {
		return err
	}
	f, err := s.inviteForm(c, inv)
	if err != nil {
		return err
	}
	return s.renderInvite(c, http.StatusOK, f)
}

func (s *Console) inviteForm(c echo.Context, inv store.Invite) (views.InviteForm, error) {
	f := views.InviteForm{Token: tokenParam(c), OrgName: inv.OrgName, Email: inv.Email, Role: string(inv.Role)}
	_, _, err := s.st.UserByEmail(c.Request().Context(), inv.Email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return f, err
	}
	f.Existing = err == nil
	return f, nil
}

func (s *Console) renderInvite(c echo.Context, code int, f views.InviteForm) error {
	token, err := s.auth.PreSessionCSRF(c)
	if err != nil {
		return err
	}
	f.CSRF = token
	noReferrer(c)
	return respond.Render(c, code, views.InvitePage(respond.Layout(c, "Join "+f.OrgName), f))
}

// InviteSubmit accepts an invitation: a new user's account is created with
// the chosen password, an existing user proves theirs; either way they
// join with the invitation's role (an existing member keeps theirs) and
// are signed in to the organisation.
func (s *Console) InviteSubmit(c echo.Context) error {
	if err := s.auth.CheckPreSessionCSRF(c); err != nil {
		return err
	}
	inv, ok, err := s.pendingInvite(c)
	if !ok {
		return err
	}
	f, err := s.inviteForm(c, inv)
	if err != nil {
		return err
	}
	password := c.FormValue("password")
	if f.Existing {
		return s.acceptAsExisting(c, inv, f, password)
	}
	if msg := validatePassword(password, c.FormValue("password_confirm"), inv.Email, inv.OrgName); msg != "" {
		f.Error = msg
		return s.renderInvite(c, http.StatusUnprocessableEntity, f)
	}
	hash, err := s.auth.HashPassword(c, password)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var user store.User
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if user, err = tx.CreateUser(ctx, inv.Email, hash); err != nil {
			return err
		}
		return s.accept(c, tx, user, true)
	})
	if errors.Is(err, store.ErrConflict) {
		// The account was created meanwhile: it must sign in instead.
		f.Existing, f.Error = true, "An account for this address exists now. Sign in with its password to join."
		return s.renderInvite(c, http.StatusConflict, f)
	}
	if err != nil {
		return s.acceptFailed(c, err)
	}
	return s.signIn(c, inv.OrgID, user)
}

// acceptAsExisting accepts for an existing account once its password is
// proven, with the sign-in form's rate limits.
func (s *Console) acceptAsExisting(c echo.Context, inv store.Invite, f views.InviteForm, password string) error {
	ctx := c.Request().Context()
	ip := c.RealIP()
	if ok, wait := s.auth.AllowLogin(ip, inv.Email); !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		s.log.WarnContext(ctx, "invitation sign-in rate limited", slog.String("remote_ip", ip))
		f.Error = "Too many sign-in attempts. Wait a minute and try again."
		return s.renderInvite(c, http.StatusTooManyRequests, f)
	}
	user, hash, err := s.st.UserByEmail(ctx, inv.Email)
	if err != nil {
		return err
	}
	matches := false
	if len(password) <= store.MaxPasswordBytes {
		if matches, err = s.auth.PasswordMatches(c, hash, password); err != nil {
			return err
		}
	}
	if !matches {
		s.log.InfoContext(ctx, "invitation sign-in failed", slog.String("remote_ip", ip))
		f.Error = "The password is wrong."
		return s.renderInvite(c, http.StatusUnauthorized, f)
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error { return s.accept(c, tx, user, false) })
	if err != nil {
		return s.acceptFailed(c, err)
	}
	return s.signIn(c, inv.OrgID, user)
}

// accept spends the request's invitation for user and adds the
// membership, with an audit row, inside tx.
func (s *Console) accept(c echo.Context, tx *store.Tx, user store.User, newUser bool) error {
	ctx := c.Request().Context()
	inv, err := tx.AcceptInvite(ctx, tokenParam(c), user.ID)
	if err != nil {
		return err
	}
	role, joined, err := tx.JoinOrg(ctx, inv.OrgID, user.ID, inv.Role)
	if err != nil {
		return err
	}
	return tx.Audit(ctx, inv.OrgID, store.UserActor(user), "invite.accept", fmt.Sprintf("invite %d", inv.ID),
		map[string]any{"role": role, "new_user": newUser, "joined": joined, "remote_ip": c.RealIP()})
}

// acceptFailed answers an invitation spent by someone else between the
// form's check and its claim.
func (s *Console) acceptFailed(c echo.Context, err error) error {
	if !errors.Is(err, store.ErrLinkSpent) && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	inv, rerr := s.st.InviteByToken(c.Request().Context(), tokenParam(c))
	if rerr != nil {
		return inviteUnknown(c)
	}
	return inviteSpent(c, inv)
}
