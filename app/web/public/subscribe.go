package public

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/probes"
	"pharos/views"
)

// Mailer sends the subscription mails: the double opt-in link, or, for an
// address that is already subscribed, its manage link (confirmToken "").
// notify.Email implements it.
type Mailer interface {
	SendConfirmation(ctx context.Context, page store.Page, sub store.Subscriber, confirmToken string) error
}

// SubscribeOptions configures the subscription pages.
type SubscribeOptions struct {
	// Auth makes and checks the forms' pre-session CSRF tokens.
	Auth *auth.Auth
	// SecretKey signs manage and unsubscribe links (PHAROS_SECRET_KEY);
	// the notifier must sign with the same key.
	SecretKey []byte
	// Mailer sends confirmation mails; nil when PHAROS_SMTP_URL is unset,
	// and the page says email is off.
	Mailer Mailer
	// Webhooks is the notifier's webhook channel: it sends the signed
	// test delivery that activates a webhook subscriber (and refuses
	// addresses the SSRF guard refuses when it dials); nil leaves new
	// endpoints pending.
	Webhooks notify.Sender
	// AllowPrivate lets webhook endpoints resolve to private addresses
	// (PHAROS_ALLOW_PRIVATE_TARGETS); metadata addresses stay refused.
	AllowPrivate bool
	// Resolve looks a host name up (default net.DefaultResolver); the
	// SSRF guard judges every address it returns.
	Resolve func(ctx context.Context, host string) ([]string, error)
	// PerAddress and PerClient bound subscription attempts per address
	// and per client IP in each Window (defaults 3 and 20 per hour).
	PerAddress, PerClient int
	Window                time.Duration
}

// subscriptions is the state of the subscription pages.
type subscriptions struct {
	opts      SubscribeOptions
	guard     *probes.Guard
	perAddr   *auth.Limiter
	perClient *auth.Limiter
}

func newSubscriptions(opts SubscribeOptions) *subscriptions {
	if opts.PerAddress == 0 {
		opts.PerAddress = 3
	}
	if opts.PerClient == 0 {
		opts.PerClient = 20
	}
	if opts.Window == 0 {
		opts.Window = time.Hour
	}
	if len(opts.SecretKey) == 0 {
		// Tests and callers without a key: a per-process key, so manage
		// links work until a restart and can never be forged.
		opts.SecretKey = make([]byte, 32)
		if _, err := rand.Read(opts.SecretKey); err != nil {
			panic("public: no randomness for the subscription key: " + err.Error())
		}
	}
	return &subscriptions{opts: opts, guard: probes.NewGuard(nil),
		perAddr: auth.NewLimiter(opts.PerAddress, opts.Window), perClient: auth.NewLimiter(opts.PerClient, opts.Window)}
}

// subscribeTimeout bounds the work of one subscribe request (DNS, the
// confirmation mail or the test delivery).
const subscribeTimeout = 20 * time.Second

// noStore marks a response as personal: never cached, never referred.
func noStore(c echo.Context) {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
}

// subscribeForm is the form's view model for a page.
func (s *Site) subscribeForm(c echo.Context, st *pageState, pr publicReq, checked []int64) (views.SubscribePage, error) {
	p := views.SubscribePage{
		Frame:        s.frame(st.snap, pr.base, "Subscribe · "+st.snap.page.Title, st.stale),
		Action:       pr.base + "/subscribe",
		EmailEnabled: s.subs.opts.Mailer != nil,
		Components:   subscribeComponents(st.snap.components, checked),
	}
	if s.subs.opts.Auth == nil {
		return p, errors.New("public: subscriptions need auth for their CSRF tokens")
	}
	tok, err := s.subs.opts.Auth.PreSessionCSRF(c)
	if err != nil {
		return p, err
	}
	p.CSRF = tok
	return p, nil
}

func subscribeComponents(cs []store.PublicComponent, checked []int64) []views.SubscribeComponent {
	out := make([]views.SubscribeComponent, 0, len(cs))
	for _, c := range cs {
		out = append(out, views.SubscribeComponent{ID: c.ID, Name: c.Name, Checked: slices.Contains(checked, c.ID)})
	}
	return out
}

// page loads the page of the request for the subscription handlers.
func (s *Site) subscribePage(c echo.Context) (*pageState, publicReq, error) {
	st, err := s.pageState(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return nil, publicReq{}, err
	}
	return st, s.publicReq(c, st.snap.page), nil
}

// Subscribe serves the subscription form. It is not cached: it carries
// the visitor's own CSRF token.
func (s *Site) Subscribe(c echo.Context) error {
	st, pr, err := s.subscribePage(c)
	if err != nil {
		return err
	}
	p, err := s.subscribeForm(c, st, pr, nil)
	if err != nil {
		return err
	}
	noStore(c)
	return respond.Render(c, http.StatusOK, views.Subscribe(p))
}

// SubscribeSubmit takes the email or webhook form. Its answer never says
// whether the address was already subscribed: an active email address gets
// its manage link by mail, a new one the confirmation link, and the page
// says the same to both.
func (s *Site) SubscribeSubmit(c echo.Context) error {
	noStore(c)
	st, pr, err := s.subscribePage(c)
	if err != nil {
		return err
	}
	if s.subs.opts.Auth == nil {
		return errors.New("public: subscriptions need auth for their CSRF tokens")
	}
	if err := s.subs.opts.Auth.CheckPreSessionCSRF(c); err != nil {
		return err
	}
	kind := store.SubscriberKind(c.FormValue("kind"))
	field := "email"
	if kind == store.SubscriberWebhook {
		field = "endpoint"
	}
	raw := c.FormValue(field)
	form, _ := c.FormParams()
	var comps []int64
	for _, v := range form["component"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return s.subscribeError(c, st, pr, http.StatusUnprocessableEntity, kind, raw, nil, "Pick components from the list.")
		}
		comps = append(comps, id)
	}
	if kind == store.SubscriberEmail && s.subs.opts.Mailer == nil {
		return s.subscribeError(c, st, pr, http.StatusUnprocessableEntity, kind, raw, comps, "Email subscriptions are off on this server; subscribe a webhook or use a feed.")
	}
	addr, err := store.NormalizeSubscriberAddress(kind, raw)
	var ie *store.InvalidError
	if errors.As(err, &ie) {
		return s.subscribeError(c, st, pr, http.StatusUnprocessableEntity, kind, raw, comps, "The "+ie.Field+" "+ie.Message+".")
	}
	if err != nil {
		return err
	}
	page := st.snap.page
	if err := s.subscribeAllowed(c, page, addr); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), subscribeTimeout)
	defer cancel()
	if kind == store.SubscriberWebhook {
		return s.subscribeWebhook(ctx, c, st, pr, addr, comps)
	}
	sub, err := s.st.Subscribe(ctx, page.OrgID, page.ID, kind, addr, comps)
	if errors.As(err, &ie) {
		return s.subscribeError(c, st, pr, http.StatusUnprocessableEntity, kind, raw, comps, "The "+ie.Field+" "+ie.Message+".")
	}
	if err != nil {
		return err
	}
	if err := s.subs.opts.Mailer.SendConfirmation(ctx, page, sub.Subscriber, sub.ConfirmToken); err != nil {
		s.log.Warn("subscription mail not sent", slog.Int64("subscriber_id", sub.Subscriber.ID), slog.Any("error", err))
		return echo.NewHTTPError(http.StatusServiceUnavailable, "The confirmation mail could not be sent just now. Please try again in a few minutes.")
	}
	return respond.Render(c, http.StatusOK, views.SubscribeResult(views.SubscribeNotice{
		Frame:   s.frame(st.snap, pr.base, "Check your inbox · "+page.Title, st.stale),
		Heading: "Check your inbox",
		Message: fmt.Sprintf("If %s can receive mail, a message is on its way. Follow its link within %d hours to confirm; nothing else is sent until then.",
			addr, int(store.ConfirmTTL/time.Hour)),
	}))
}

// subscribeAllowed applies the per-client and per-address limits.
func (s *Site) subscribeAllowed(c echo.Context, page store.Page, addr string) error {
	okClient, waitClient := s.subs.perClient.Allow("net:" + auth.ClientNetwork(c.RealIP()))
	if !okClient {
		return tooMany(c, waitClient)
	}
	okAddr, waitAddr := s.subs.perAddr.Allow("addr:" + strconv.FormatInt(page.ID, 10) + ":" + addr)
	if !okAddr {
		return tooMany(c, waitAddr)
	}
	return nil
}

func tooMany(c echo.Context, wait time.Duration) error {
	secs := int(math.Ceil(wait.Seconds()))
	c.Response().Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	return echo.NewHTTPError(http.StatusTooManyRequests,
		fmt.Sprintf("Too many subscription attempts. Please try again in %d minutes.", max(1, (secs+59)/60)))
}

// subscribeError shows the form again with what was typed and why it was
// refused.
func (s *Site) subscribeError(c echo.Context, st *pageState, pr publicReq, code int, kind store.SubscriberKind, addr string, comps []int64, msg string) error {
	p, err := s.subscribeForm(c, st, pr, comps)
	if err != nil {
		return err
	}
	p.Kind, p.Address, p.Error = string(kind), addr, msg
	return respond.Render(c, code, views.Subscribe(p))
}
