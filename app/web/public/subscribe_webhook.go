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

// subscribeWebhook answers the webhook form. The answer is the same
// whether the endpoint was subscribed before or not: the secret is stored
// only with a successful test delivery, so nobody can take over another's
// endpoint or learn that it exists.
func (s *Site) subscribeWebhook(ctx context.Context, c echo.Context, st *pageState, pr publicReq, endpoint string, comps []int64) error {
	page := st.snap.page
	res, err := s.addWebhook(ctx, st, pr.root, endpoint, comps)
	var ie *store.InvalidError
	if errors.As(err, &ie) {
		return s.subscribeError(c, st, pr, http.StatusUnprocessableEntity, store.SubscriberWebhook, endpoint, comps, ie.Message)
	}
	if err != nil {
		return err
	}
	n := views.SubscribeNotice{
		Frame: s.frame(st.snap, pr.base, "Webhook subscription · "+page.Title, st.stale), Heading: "Endpoint subscribed",
		Message: "The test delivery was accepted: the endpoint now receives this page's events.",
		Secret:  res.Secret,
	}
	if !res.Subscriber.Active() {
		n.Heading = "Subscription received"
		n.Message = "The endpoint becomes active once a signed test delivery to it succeeds; this server cannot send one yet, so it stays pending."
		return respond.Render(c, http.StatusAccepted, views.SubscribeResult(n))
	}
	n.Manage = s.manageURL(pr, res.Subscriber)
	return respond.Render(c, http.StatusOK, views.SubscribeResult(n))
}

// SubscribeResult is what AddSubscriber did.
type SubscribeResult struct {
	// Subscriber is the subscriber now: pending until the confirmation
	// link is followed (email) or a test delivery succeeded (webhook).
	Subscriber store.Subscriber
	// Secret is a webhook's new signing secret, to show once.
	Secret string
	// Existing is true when an email address was subscribed already.
	Existing bool
}

// AddSubscriber subscribes an address for the management API, with the
// form's checks and steps but not its rate limits: an email address gets
// the confirmation mail (email must be on), a webhook endpoint the SSRF
// guard and the signed test delivery. Refusals are *store.InvalidError.
func (s *Site) AddSubscriber(ctx context.Context, page store.Page, kind store.SubscriberKind, address string, comps []int64) (SubscribeResult, error) {
	st, err := s.pageState(ctx, page.Slug)
	if err != nil {
		return SubscribeResult{}, err
	}
	root := s.pageRoot(page)
	if kind == store.SubscriberWebhook {
		return s.addWebhook(ctx, st, root, address, comps)
	}
	if kind != store.SubscriberEmail {
		return SubscribeResult{}, &store.InvalidError{Field: "subscriber", Message: "give an email or an endpoint"}
	}
	if s.subs.opts.Mailer == nil {
		return SubscribeResult{}, &store.InvalidError{Field: "email", Message: "email subscriptions are off: PHAROS_SMTP_URL is not set"}
	}
	sub, err := s.st.Subscribe(ctx, page.OrgID, page.ID, kind, address, comps)
	if err != nil {
		return SubscribeResult{}, err
	}
	if sub.Existing {
		return SubscribeResult{Subscriber: sub.Subscriber, Existing: true}, nil
	}
	if err := s.subs.opts.Mailer.SendConfirmation(ctx, page, sub.Subscriber, sub.ConfirmToken); err != nil {
		return SubscribeResult{}, fmt.Errorf("public: confirmation mail to subscriber %d: %w", sub.Subscriber.ID, err)
	}
	return SubscribeResult{Subscriber: sub.Subscriber}, nil
}

// pageRoot is the absolute URL of a page's root without a request: its
// custom domain, else under the base URL ("" when neither is known).
func (s *Site) pageRoot(page store.Page) string {
	if page.ServedDomain() == "" && s.baseURL == "" {
		return ""
	}
	return page.PublicRoot(s.baseURL)
}

// addWebhook subscribes an endpoint: the SSRF guard judges every address
// its host resolves to, then a test event signed with a fresh secret must
// be accepted before the endpoint is active (without a webhook channel it
// stays pending). Refusals are *store.InvalidError with a sentence.
func (s *Site) addWebhook(ctx context.Context, st *pageState, root, endpoint string, comps []int64) (SubscribeResult, error) {
	page := st.snap.page
	if msg := s.webhookRefused(ctx, endpoint); msg != "" {
		return SubscribeResult{}, &store.InvalidError{Field: "endpoint", Message: msg}
	}
	sub, err := s.st.Subscribe(ctx, page.OrgID, page.ID, store.SubscriberWebhook, endpoint, comps)
	var ie *store.InvalidError
	if errors.As(err, &ie) {
		return SubscribeResult{}, &store.InvalidError{Field: ie.Field, Message: "The " + ie.Field + " " + ie.Message + "."}
	}
	if err != nil {
		return SubscribeResult{}, err
	}
	res := SubscribeResult{Subscriber: sub.Subscriber, Secret: sub.Secret}
	if s.subs.opts.Webhooks == nil {
		return res, nil
	}
	test := sub.Subscriber
	test.Secret = sub.Secret
	if err := s.testWebhook(ctx, st, root, test); err != nil {
		s.log.Info("webhook test delivery failed", slog.Int64("subscriber_id", test.ID), slog.Any("error", err))
		return SubscribeResult{}, &store.InvalidError{Field: "endpoint",
			Message: "The signed test delivery to the endpoint failed (" + err.Error() + "). It must answer 2xx; fix it and subscribe again."}
	}
	if comps == nil {
		comps = []int64{}
	}
	if res.Subscriber, err = s.st.ActivateWebhook(ctx, page.OrgID, test.ID, sub.Secret, comps); err != nil {
		return SubscribeResult{}, err
	}
	return res, nil
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
func (s *Site) testWebhook(ctx context.Context, st *pageState, root string, sub store.Subscriber) error {
	page := st.snap.page
	ind := st.snap.overallStatus()
	pageURL := ""
	if root != "" {
		pageURL = root + "/"
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("public: webhook test id: %w", err)
	}
	m := notify.Message{
		ID:      "msg_test_" + hex.EncodeToString(b[:]),
		Attempt: 1,
		Kind:    "subscription.test",
		Event: notify.Event{Page: notify.EventPage{ID: strconv.FormatInt(page.ID, 10), StatusIndicator: ind.Indicator,
			StatusDescription: ind.Description, Name: page.Title, Slug: page.Slug, URL: pageURL}},
		Subscriber: notify.Subscriber{ID: sub.ID, OrgID: sub.OrgID, PageID: sub.PageID, Kind: notify.KindWebhook,
			Address: sub.Address, Secret: sub.Secret},
		UnsubscribeURL: root + "/unsubscribe?token=" + url.QueryEscape(store.ManageToken(s.subs.opts.SecretKey, sub)),
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
