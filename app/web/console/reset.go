package console

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/views"
)

// This file holds password reset by email. Asking for a link answers the
// same whether or not the account exists; the link works once, for an
// hour, and setting the password ends every other session of the account.

// ResetForm asks for the account's email, or says reset by email is off.
func (s *Console) ResetForm(c echo.Context) error {
	return s.renderReset(c, http.StatusOK, views.ResetRequestForm{Off: s.accounts.mailer == nil})
}

func (s *Console) renderReset(c echo.Context, code int, f views.ResetRequestForm) error {
	token, err := s.auth.PreSessionCSRF(c)
	if err != nil {
		return err
	}
	f.CSRF = token
	return respond.Render(c, code, views.ResetRequestPage(respond.Layout(c, "Reset your password"), f))
}

// ResetSubmit mails a reset link when the account exists. Requests are
// limited per client and per address before the account is looked up, and
// a failed mail is logged, not shown: every answer but the rate limit's is
// the same for known and unknown addresses, and is sent before the mail.
func (s *Console) ResetSubmit(c echo.Context) error {
	if err := s.auth.CheckPreSessionCSRF(c); err != nil {
		return err
	}
	if s.accounts.mailer == nil {
		return s.renderReset(c, http.StatusServiceUnavailable, views.ResetRequestForm{Off: true})
	}
	ctx := c.Request().Context()
	f := views.ResetRequestForm{Email: store.NormalizeEmail(c.FormValue("email"))}
	if !validEmail(f.Email) {
		f.Error = "Enter a valid email address."
		return s.renderReset(c, http.StatusUnprocessableEntity, f)
	}
	ip := c.RealIP()
	ok, wait := s.accounts.perClient.Allow("net:" + auth.ClientNetwork(ip))
	if ok {
		ok, wait = s.accounts.perAddress.Allow("email:" + f.Email)
	}
	if !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		s.log.WarnContext(ctx, "password reset rate limited", slog.String("remote_ip", ip))
		f.Error = "Too many reset requests. Wait an hour, or check your mailbox for the links already sent."
		return s.renderReset(c, http.StatusTooManyRequests, f)
	}
	user, _, err := s.st.UserByEmail(ctx, f.Email)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// The whole answer (its length set, so it is complete) goes out before
	// the link is made and mailed: how long it takes does not tell known
	// addresses from unknown ones either. The mail outlives a client that
	// hangs up, within this handler, which shutdown waits for.
	f.Sent = true
	page, err := respond.Bytes(ctx, views.ResetRequestPage(respond.Layout(c, "Reset your password"), f))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(len(page)))
	if err := c.HTMLBlob(http.StatusOK, page); err != nil {
		return err
	}
	c.Response().Flush()
	if !known {
		s.log.InfoContext(ctx, "password reset for an unknown address", slog.String("remote_ip", ip))
		return nil
	}
	mailCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resetMailTimeout)
	defer cancel()
	if err := s.mailReset(mailCtx, user); err != nil {
		s.log.ErrorContext(ctx, "password reset mail failed", slog.Int64("user_id", user.ID), slog.Any("error", err))
	}
	return nil
}

// resetMailTimeout bounds making and mailing a reset link after the answer.
const resetMailTimeout = 30 * time.Second

func (s *Console) mailReset(ctx context.Context, user store.User) error {
	r, raw, err := s.st.CreatePasswordReset(ctx, user.ID)
	if err != nil {
		return err
	}
	return s.accounts.mailer.SendPasswordReset(ctx, notify.PasswordResetMail{To: user.Email, Token: raw, Expires: r.ExpiresAt})
}

// usableReset reads the reset of the request's token. When the link does
// not work it renders a page saying why and returns ok false.
func (s *Console) usableReset(c echo.Context) (store.PasswordReset, bool, error) {
	again := views.EmailLink{Label: "Ask for a new link", URL: "/login/reset"}
	raw := tokenParam(c)
	var r store.PasswordReset
	err := store.ErrNotFound
	if raw != "" {
		r, err = s.st.PasswordResetByToken(c.Request().Context(), raw)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return r, false, linkProblem(c, http.StatusNotFound, views.LinkProblem{Heading: "Reset link not found",
			Message: "This password reset link is not valid. Check that you copied all of it, or ask for a new one.", Next: again})
	case err != nil:
		return r, false, err
	case r.UsedAt != nil:
		return r, false, linkProblem(c, http.StatusGone, views.LinkProblem{Heading: "Reset link used",
			Message: "This password reset link was used already (or a newer password was set): it works only once.", Next: again})
	case !r.Usable(time.Now()):
		return r, false, linkProblem(c, http.StatusGone, views.LinkProblem{Heading: "Reset link expired",
			Message: "This password reset link expired: it works for an hour. Ask for a new one.", Next: again})
	}
	return r, true, nil
}

// ResetConfirmForm asks for the new password of a reset link.
func (s *Console) ResetConfirmForm(c echo.Context) error {
	r, ok, err := s.usableReset(c)
	if !ok {
		return err
	}
	return s.renderResetConfirm(c, http.StatusOK, views.ResetConfirmForm{Token: tokenParam(c), Email: r.Email})
}

func (s *Console) renderResetConfirm(c echo.Context, code int, f views.ResetConfirmForm) error {
	token, err := s.auth.PreSessionCSRF(c)
	if err != nil {
		return err
	}
	f.CSRF = token
	noReferrer(c)
	return respond.Render(c, code, views.ResetConfirmPage(respond.Layout(c, "Choose a new password"), f))
}

// ResetConfirmSubmit sets the new password, ends every session of the
// account, audits it in each of the user's organisations and signs the
// user in.
func (s *Console) ResetConfirmSubmit(c echo.Context) error {
	if err := s.auth.CheckPreSessionCSRF(c); err != nil {
		return err
	}
	r, ok, err := s.usableReset(c)
	if !ok {
		return err
	}
	password := c.FormValue("password")
	if msg := validatePassword(password, c.FormValue("password_confirm"), r.Email); msg != "" {
		return s.renderResetConfirm(c, http.StatusUnprocessableEntity, views.ResetConfirmForm{Token: tokenParam(c), Email: r.Email, Error: msg})
	}
	hash, err := s.auth.HashPassword(c, password)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ms, err := s.st.Memberships(ctx, r.UserID)
	if err != nil {
		return err
	}
	user := store.User{ID: r.UserID, Email: r.Email}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.UsePasswordReset(ctx, tokenParam(c)); err != nil {
			return err
		}
		ended, err := tx.SetPassword(ctx, r.UserID, hash)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if err := tx.Audit(ctx, m.OrgID, store.UserActor(user), "user.password_reset", "user "+user.Email,
				map[string]any{"sessions_ended": ended, "remote_ip": c.RealIP()}); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrLinkSpent) {
		_, _, err = s.usableReset(c) // spent meanwhile: say how
		return err
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "password reset", slog.Int64("user_id", r.UserID))
	if len(ms) == 0 {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return s.signIn(c, ms[0].OrgID, user)
}
