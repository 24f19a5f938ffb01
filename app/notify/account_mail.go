package notify

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"pharos/views"
)

// AccountMailer sends the console's account mails: team invitations and
// password reset links. Email implements it.
type AccountMailer interface {
	SendInvitation(ctx context.Context, inv Invitation) error
	SendPasswordReset(ctx context.Context, r PasswordResetMail) error
}

var _ AccountMailer = (*Email)(nil)

// AccountMail is the email channel of senders as an AccountMailer, or nil
// (never a typed nil) when PHAROS_SMTP_URL is unset.
func AccountMail(senders map[string]Sender) AccountMailer {
	if e, ok := senders[KindEmail].(*Email); ok && e != nil {
		return e
	}
	return nil
}

// Invitation is a mail inviting someone to join an organisation's team.
type Invitation struct {
	To        string
	OrgName   string
	Role      string
	InvitedBy string // the inviting owner's email
	Token     string // the raw invitation token
	Expires   time.Time
}

// PasswordResetMail is a mail with a password reset link.
type PasswordResetMail struct {
	To      string
	Token   string // the raw reset token
	Expires time.Time
}

// InviteURL is the absolute link of an invitation token under baseURL.
func InviteURL(baseURL, token string) string {
	return strings.TrimSuffix(baseURL, "/") + "/invite?token=" + url.QueryEscape(token)
}

// PasswordResetURL is the absolute link of a reset token under baseURL.
func PasswordResetURL(baseURL, token string) string {
	return strings.TrimSuffix(baseURL, "/") + "/login/reset/confirm?token=" + url.QueryEscape(token)
}

// SendInvitation mails an invitation link.
func (e *Email) SendInvitation(ctx context.Context, inv Invitation) error {
	org := headerSafe(inv.OrgName)
	v := views.AccountMailView{
		Heading: "Join " + org + " on Pharos",
		Intro: fmt.Sprintf("%s invited %s to join %s's status page console as %s. Follow the link to set your password, "+
			"or, if you already have an account, to sign in and join.", inv.InvitedBy, inv.To, org, inv.Role),
		Action: views.EmailLink{Label: "Accept the invitation", URL: InviteURL(e.opts.BaseURL, inv.Token)},
		Note: fmt.Sprintf("The link works once, until %s. If you did not expect this invitation, ignore this mail.",
			inv.Expires.UTC().Format("2 Jan 2006 15:04 MST")),
	}
	return e.sendAccountMail(ctx, "invite", org+" via Pharos", inv.To, "You are invited to join "+org+" on Pharos", v)
}

// SendPasswordReset mails a password reset link.
func (e *Email) SendPasswordReset(ctx context.Context, r PasswordResetMail) error {
	v := views.AccountMailView{
		Heading: "Reset your Pharos password",
		Intro:   fmt.Sprintf("Someone, hopefully you, asked to reset the password of the Pharos account %s. Follow the link to choose a new one.", r.To),
		Action:  views.EmailLink{Label: "Choose a new password", URL: PasswordResetURL(e.opts.BaseURL, r.Token)},
		Note: fmt.Sprintf("The link works once, until %s. If you did not ask for it, ignore this mail: your password stays as it is.",
			r.Expires.UTC().Format("2 Jan 2006 15:04 MST")),
	}
	return e.sendAccountMail(ctx, "reset", "Pharos", r.To, "Reset your Pharos password", v)
}

// sendAccountMail sends one account mail. It has no List-Id or unsubscribe
// headers: it is a one-off message to one person, not a list post.
func (e *Email) sendAccountMail(ctx context.Context, kind, fromName, to, subject string, v views.AccountMailView) error {
	msg := gomail.NewMsg()
	msg.FromMailAddress(&mail.Address{Name: headerSafe(fromName), Address: e.from.Address})
	if strings.ContainsAny(to, "\r\n") {
		return fmt.Errorf("email: recipient %q: control characters", to)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("email: recipient: %w", err)
	}
	msg.Subject(headerSafe(subject))
	msg.SetDateWithValue(e.opts.Now())
	msg.SetGenHeaderPreformatted("Auto-Submitted", "auto-generated")
	msg.SetGenHeaderPreformatted(gomail.HeaderXAutoResponseSuppress, "All")
	id, err := randomID()
	if err != nil {
		return err
	}
	msg.SetMessageIDWithValue(kind + "." + id + "@" + e.domain)
	text, err := render(ctx, views.AccountMailText(v))
	if err != nil {
		return err
	}
	html, err := render(ctx, views.AccountMailHTML(v))
	if err != nil {
		return err
	}
	msg.SetBodyString(gomail.TypeTextPlain, text)
	msg.AddAlternativeString(gomail.TypeTextHTML, html)
	out, err := outcome(e.send(ctx, msg))
	if err != nil {
		return err
	}
	if out.Status != Delivered {
		return fmt.Errorf("email: %s mail: %s", kind, out.Detail)
	}
	return nil
}
