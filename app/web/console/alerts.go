package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/incident"
	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/probes"
	"pharos/views"
)

// DefaultAlertRepeat is a new channel's repeat interval when the form
// leaves it empty.
const DefaultAlertRepeat = time.Hour

// AlertsOptions configure the on-call screens.
type AlertsOptions struct {
	Store *store.Store
	// AllowPrivate lets channel URLs resolve to private addresses
	// (PHAROS_ALLOW_PRIVATE_TARGETS); metadata addresses stay refused.
	AllowPrivate bool
	// BaseURL is PHAROS_BASE_URL (console links in test messages).
	BaseURL string
	// EmailOff: PHAROS_SMTP_URL is unset.
	EmailOff bool
	// Resolve looks host names up (default net.DefaultResolver); tests
	// inject one.
	Resolve func(ctx context.Context, host string) ([]string, error)
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Alerts serves /admin/alerts (channels and alerts) and the public ack
// links of alert messages.
type Alerts struct {
	opts  AlertsOptions
	st    *store.Store
	guard *probes.Guard
}

// NewAlerts returns the on-call screens.
func NewAlerts(opts AlertsOptions) *Alerts {
	if opts.Resolve == nil {
		opts.Resolve = net.DefaultResolver.LookupHost
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Alerts{opts: opts, st: opts.Store, guard: probes.NewGuard(nil)}
}

// Page shows channels, open alerts and recent alerts.
func (a *Alerts) Page(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	return a.render(c, p, http.StatusOK, views.AlertChannelForm{Kind: store.AlertChannelSlack, Repeat: "1h"}, "", "")
}

func (a *Alerts) render(c echo.Context, p *auth.Principal, code int, form views.AlertChannelForm, problem, notice string) error {
	ctx := c.Request().Context()
	chans, err := a.st.AlertChannels(ctx, p.OrgID)
	if err != nil {
		return err
	}
	open, err := a.st.OpenAlerts(ctx, p.OrgID, "")
	if err != nil {
		return err
	}
	recent, err := a.st.RecentAlerts(ctx, p.OrgID, 50)
	if err != nil {
		return err
	}
	d := views.AlertsData{Nav: adminNav(p), Kinds: store.AlertChannelKinds(), Form: form, Error: problem, Notice: notice,
		EmailOff: a.opts.EmailOff, Open: alertRows(open), Recent: alertRows(recent)}
	for _, ch := range chans {
		repeat := "never"
		if ch.RepeatEvery > 0 {
			repeat = "every " + ch.RepeatEvery.String()
		}
		d.Channels = append(d.Channels, views.AlertChannelRow{ID: ch.ID, Name: ch.Name, Kind: ch.Kind, Target: ch.Target(),
			Repeat: repeat, Enabled: ch.Enabled})
	}
	return respond.Render(c, code, views.Alerts(respond.Layout(c, "Alerts"), d))
}

func alertRows(list []store.Alert) []views.AlertRow {
	rows := make([]views.AlertRow, 0, len(list))
	for _, al := range list {
		r := views.AlertRow{ID: al.ID, Kind: incident.AlertKind(al.Kind).Title(), Subject: al.SubjectName,
			Channel: al.ChannelName, Opened: formatTime(al.OpenedAt), Sends: al.Sends}
		if al.LastSentAt != nil {
			r.LastSent = formatTime(*al.LastSentAt)
		}
		if al.AcknowledgedAt != nil {
			r.Acknowledged = formatTime(*al.AcknowledgedAt)
		}
		if al.ResolvedAt != nil {
			r.Resolved = formatTime(*al.ResolvedAt)
		}
		rows = append(rows, r)
	}
	return rows
}

// CreateChannel adds a channel (owner). The URL must pass the SSRF guard
// now; the notifier checks it again at every delivery.
func (a *Alerts) CreateChannel(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	form := views.AlertChannelForm{Name: strings.TrimSpace(c.FormValue("name")), Kind: c.FormValue("kind"),
		Target: strings.TrimSpace(c.FormValue("target")), RoutingKey: strings.TrimSpace(c.FormValue("routing_key")),
		Repeat: strings.TrimSpace(c.FormValue("repeat"))}
	ch, problem := a.channelFromForm(ctx, p.OrgID, form)
	if problem != "" {
		return a.render(c, p, http.StatusUnprocessableEntity, form, problem, "")
	}
	var created store.AlertChannel
	err = a.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if created, err = tx.CreateAlertChannel(ctx, ch); err != nil {
			return err
		}
		return tx.Audit(ctx, p.OrgID, p.Actor(), "alert_channel.create", fmt.Sprintf("alert channel %d", created.ID),
			map[string]any{"name": created.Name, "kind": created.Kind})
	})
	var inv *store.InvalidError
	switch {
	case errors.Is(err, store.ErrConflict):
		return a.render(c, p, http.StatusUnprocessableEntity, form, "A channel named "+strconv.Quote(form.Name)+" exists already.", "")
	case errors.As(err, &inv):
		return a.render(c, p, http.StatusUnprocessableEntity, form, inv.Message, "")
	case err != nil:
		return err
	}
	if created.Kind == store.AlertChannelWebhook {
		// The signing secret is shown once, now.
		return a.render(c, p, http.StatusOK, views.AlertChannelForm{Kind: store.AlertChannelSlack, Repeat: "1h"}, "",
			"Channel "+created.Name+" added. Its signing secret, shown only now: "+created.Config.Secret)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/alerts")
}

// channelFromForm validates the form into a channel, or says what is
// wrong.
func (a *Alerts) channelFromForm(ctx context.Context, orgID int64, f views.AlertChannelForm) (store.AlertChannel, string) {
	ch := store.AlertChannel{OrgID: orgID, Name: f.Name, Kind: f.Kind, Enabled: true, RepeatEvery: DefaultAlertRepeat}
	if f.Repeat != "" {
		d, err := time.ParseDuration(f.Repeat)
		if f.Repeat == "0" {
			d, err = 0, nil
		}
		if err != nil || d < 0 || (d > 0 && d < time.Minute) {
			return ch, "Repeat every must be a duration of at least 1m, like 30m or 4h (0 never repeats)."
		}
		ch.RepeatEvery = d.Round(time.Second)
	}
	switch f.Kind {
	case store.AlertChannelEmail:
		ch.Config.Address = f.Target
		return ch, ""
	case store.AlertChannelPagerDuty:
		ch.Config.RoutingKey = f.RoutingKey
		if f.Target == "" {
			return ch, ""
		}
	}
	ch.Config.URL = f.Target
	return ch, a.CheckURL(ctx, f.Target)
}

// CheckURL says why a channel URL may not be used ("" when it may): it
// must be absolute http(s) without credentials, and every address its
// host resolves to must pass the SSRF guard.
func (a *Alerts) CheckURL(ctx context.Context, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return "The URL must be an absolute http:// or https:// URL without credentials."
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	addrs := []string{host}
	if _, err := netip.ParseAddr(host); err != nil {
		if addrs, err = a.opts.Resolve(ctx, host); err != nil || len(addrs) == 0 {
			return fmt.Sprintf("The URL's host %s does not resolve.", host)
		}
	}
	for _, s := range addrs {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return fmt.Sprintf("The URL's host %s resolves to %q, which is not an address.", host, s)
		}
		if err := a.guard.Check(ip, a.opts.AllowPrivate); err != nil {
			return fmt.Sprintf("The URL's host %s resolves to %s, an address alerts may not reach.", host, ip)
		}
	}
	return ""
}

// TestChannel queues a test message to a channel (owner); the delivery
// log shows how it went.
func (a *Alerts) TestChannel(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ch, err := a.st.AlertChannel(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	body, err := notify.TestAlertMessage(ch, a.opts.BaseURL, a.opts.Now())
	if err != nil {
		return err
	}
	if err := a.st.QueueChannelTest(ctx, p.OrgID, id, body, a.opts.Now()); err != nil {
		return err
	}
	return a.render(c, p, http.StatusOK, views.AlertChannelForm{Kind: store.AlertChannelSlack, Repeat: "1h"}, "",
		"A test message to "+ch.Name+" is queued; the delivery log shows whether it arrived.")
}

// SetChannelEnabled turns a channel on or off (owner).
func (a *Alerts) SetChannelEnabled(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	on := c.FormValue("enabled") == "true"
	if err := a.st.SetAlertChannelEnabled(ctx, p.OrgID, id, on); err != nil {
		return err
	}
	if err := a.st.Audit(ctx, p.OrgID, p.Actor(), "alert_channel.enabled", fmt.Sprintf("alert channel %d", id),
		map[string]any{"enabled": on}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/alerts")
}

// DeleteChannel removes a channel and its alerts (owner).
func (a *Alerts) DeleteChannel(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = a.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteAlertChannel(ctx, p.OrgID, id); err != nil {
			return err
		}
		return tx.Audit(ctx, p.OrgID, p.Actor(), "alert_channel.delete", fmt.Sprintf("alert channel %d", id), nil)
	})
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/alerts")
}

// Acknowledge is the console's Acknowledge button (editor): the alert's
// repeats stop on every channel.
func (a *Alerts) Acknowledge(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := a.st.AcknowledgeAlert(ctx, p.OrgID, id, p.User.ID, a.opts.Now()); err != nil {
		return err
	}
	if err := a.st.Audit(ctx, p.OrgID, p.Actor(), "alert.acknowledge", fmt.Sprintf("alert %d", id), nil); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/alerts")
}

// AckPage is GET /alerts/:id/ack?token=…, the link in every alert
// message: it shows the alert and a button, and changes nothing (chat
// services and mail scanners fetch links).
func (a *Alerts) AckPage(c echo.Context) error {
	return a.ack(c, c.QueryParam("token"), false)
}

// AckSubmit is the ack page's button: the token authenticates it.
func (a *Alerts) AckSubmit(c echo.Context) error {
	return a.ack(c, c.FormValue("token"), true)
}

func (a *Alerts) ack(c echo.Context, token string, act bool) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 || token == "" {
		return fmt.Errorf("console: alert %q: %w", c.Param("id"), store.ErrNotFound)
	}
	al, err := a.st.AcknowledgeAlertByToken(c.Request().Context(), id, token, a.opts.Now(), act)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	d := views.AlertAckData{ID: al.ID, Token: token, Title: "Alert: " + incident.AlertKind(al.Kind).Title(),
		Subject: al.SubjectName, Acknowledged: al.AcknowledgedAt != nil, Resolved: al.ResolvedAt != nil}
	return respond.Render(c, http.StatusOK, views.AlertAck(respond.Layout(c, "Acknowledge alert"), d))
}
