package public

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/web/respond"
	"pharos/views"
)

// subscribeWebhook subscribes an endpoint: the SSRF guard judges every
// address its host resolves to, then a test event signed with a fresh
// secret must be accepted before the endpoint is active. The answer is the
// same whether the endpoint was subscribed before or not: the secret is
// stored only with a successful test delivery, so nobody can take over
// another's endpoint or learn that it exists.
func (s *Site) subscribeWebhook(ctx context.Context, c echo.Context, st *pageState, pr publicReq, endpoint string, comps []int64) error {
	page := st.snap.page
	if msg := s.webhookRefused(ctx, endpoint); msg != "" {
		return s.subscribeError(c, st, pr, http.StatusUnprocessableEntity, store.SubscriberWebhook, endpoint, comps, msg)
	}
	sub, err := s.st.Subscribe(ctx, page.OrgID, page.ID, store.SubscriberWebhook, endpoint, comps)
	var ie *store.InvalidError
	if errors.As(err, &ie) {
		return s.subscribeError(c, st, pr, http.StatusUnprocessableEntity, store.SubscriberWebhook, endpoint, comps, "The "+ie.Field+" "+ie.Message+".")
	}
	if err != nil {
		return err
	}
	frame := s.frame(st.snap, pr.base, "Webhook subscription · "+page.Title, st.stale)
	if s.subs.opts.Webhooks == nil {
		return respond.Render(c, http.StatusAccepted, views.SubscribeResult(views.SubscribeNotice{
			Frame: frame, Heading: "Subscription received",
			Message: "The endpoint becomes active once a signed test delivery to it succeeds; this server cannot send one yet, so it stays pending.",
			Secret:  sub.Secret,
		}))
	}
	test := sub.Subscriber
	test.Secret = sub.Secret
	if err := s.testWebhook(ctx, st, pr, test); err != nil {
		s.log.Info("webhook test delivery failed", slog.Int64("subscriber_id", test.ID), slog.Any("error", err))
		return s.subscribeError(c, st, pr, http.StatusUnprocessableEntity, store.SubscriberWebhook, endpoint, comps,
			"The signed test delivery to the endpoint failed ("+err.Error()+"). It must answer 2xx; fix it and subscribe again.")
	}
	if comps == nil {
		comps = []int64{}
	}
	active, err := s.st.ActivateWebhook(ctx, page.OrgID, test.ID, sub.Secret, comps)
	if err != nil {
		return err
	}
	return respond.Render(c, http.StatusOK, views.SubscribeResult(views.SubscribeNotice{
		Frame: frame, Heading: "Endpoint subscribed",
		Message: "The test delivery was accepted: the endpoint now receives this page's events.",
		Secret:  sub.Secret,
		Manage:  pr.base + "/subscribe/manage?token=" + url.QueryEscape(store.ManageToken(s.subs.opts.SecretKey, active)),
	}))
}

// webhookRefused says why an endpoint may not be subscribed, or "": its
// host must resolve, and to no address the SSRF guard refuses. Deliveries
// check again when they dial (DNS may change in between).
func (s *Site) webhookRefused(ctx context.Context, endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return "The endpoint must be an absolute http:// or https:// URL without credentials."
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	var addrs []string
	if _, err := netip.ParseAddr(host); err == nil {
		addrs = []string{host}
	} else {
		resolve := s.subs.opts.Resolve
		if resolve == nil {
			resolve = net.DefaultResolver.LookupHost
		}
		if addrs, err = resolve(ctx, host); err != nil || len(addrs) == 0 {
			return fmt.Sprintf("The endpoint's host %s does not resolve.", host)
		}
	}
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return fmt.Sprintf("The endpoint's host %s resolves to %q, which is not an address.", host, a)
		}
		if err := s.subs.guard.Check(ip, s.subs.opts.AllowPrivate); err != nil {
			return fmt.Sprintf("The endpoint's host %s resolves to %s, an address webhooks may not reach.", host, ip)
		}
	}
	return ""
}

// testWebhook sends the endpoint one signed event in Statuspage's shape:
// the page and its current status, no incident. It returns nil when the
// endpoint accepted it.
func (s *Site) testWebhook(ctx context.Context, st *pageState, pr publicReq, sub store.Subscriber) error {
	page := st.snap.page
	ind := st.snap.overallStatus()
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("public: webhook test id: %w", err)
	}
	m := notify.Message{
		ID:      "msg_test_" + hex.EncodeToString(b[:]),
		Attempt: 1,
		Kind:    "subscription.test",
		Event: notify.Event{Page: notify.EventPage{ID: strconv.FormatInt(page.ID, 10), StatusIndicator: ind.Indicator,
			StatusDescription: ind.Description, Name: page.Title, Slug: page.Slug, URL: pr.root}},
		Subscriber: notify.Subscriber{ID: sub.ID, OrgID: sub.OrgID, PageID: sub.PageID, Kind: notify.KindWebhook,
			Address: sub.Address, Secret: sub.Secret},
		UnsubscribeURL: pr.root + "/unsubscribe?token=" + url.QueryEscape(store.ManageToken(s.subs.opts.SecretKey, sub)),
		EventAt:        time.Now().UTC(),
	}
	out, err := s.subs.opts.Webhooks.Send(ctx, m)
	if err != nil {
		return err
	}
	if out.Status != notify.Delivered {
		if out.Detail != "" {
			return errors.New(out.Detail)
		}
		return fmt.Errorf("%s", out.Status)
	}
	return nil
}
