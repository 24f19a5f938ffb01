// Package console is the admin HTML: the console's screens and forms, and
// the setup and sign-in forms. Every handler reads and writes within the
// signed-in principal's organisation.
package console

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/views"
)

// RunNowFunc queues an immediate probe of a check in each of its regions
// and audits it as actor; store.ErrNotFound for a check outside the
// organisation.
type RunNowFunc func(ctx context.Context, orgID int64, actor store.Actor, checkID int64) error

// Options configures a Console.
type Options struct {
	Store *store.Store
	Auth  *auth.Auth
	// RunNow queues a "Run now" probe, audited (the shell builds it: it
	// answers 503 when this process has no bus).
	RunNow RunNowFunc
	// PageChanged tells a page's open browsers to refresh after a write.
	PageChanged func(ctx context.Context, slug string)
	Logger      *slog.Logger
	// EmailOff says PHAROS_SMTP_URL is unset: the subscriber screen says
	// email subscriptions are off.
	EmailOff bool
	// Accounts mails invitations and password reset links; nil without
	// PHAROS_SMTP_URL (invitation links are shown to copy, reset by email
	// is off).
	Accounts AccountMailer
	// BaseURL is PHAROS_BASE_URL, under which invitation links are shown
	// ("" means the request's own host).
	BaseURL string
	// Limits are the operator's per-organisation quotas the create and
	// edit forms enforce; the zero Limits limit nothing.
	Limits apply.Limits
}

// Console serves the admin HTML.
type Console struct {
	st          *store.Store
	auth        *auth.Auth
	runNow      RunNowFunc
	pageChanged func(ctx context.Context, slug string)
	md          *respond.Markdown
	log         *slog.Logger
	// emailOff: no SMTP server configured.
	emailOff bool
	accounts accountLinks
	limits   apply.Limits
}

// New builds a Console.
func New(opts Options) *Console {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Console{st: opts.Store, auth: opts.Auth, runNow: opts.RunNow, pageChanged: opts.PageChanged,
		md: respond.NewMarkdown(), log: opts.Logger, emailOff: opts.EmailOff, accounts: newAccountLinks(opts),
		limits: opts.Limits}
}

// RunCheck is the console's "Run now" button.
func (s *Console) RunCheck(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	if err := s.runNow(c.Request().Context(), p.OrgID, p.Actor(), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/checks/%d?queued=1", id))
}

// adminNav builds the console header's view model.
func adminNav(p *auth.Principal) views.AdminNav {
	return views.AdminNav{
		OrgName: p.OrgName, Role: string(p.Role), CSRF: p.CSRF,
		CanEdit: p.Role.Allows(store.RoleEditor), IsOwner: p.Role.Allows(store.RoleOwner),
	}
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }
