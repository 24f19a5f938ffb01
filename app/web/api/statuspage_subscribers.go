package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/public"
	"pharos/app/web/respond"
)

// Subscriptions subscribes addresses with the subscribe page's checks and
// steps (confirmation mail, SSRF guard, signed test delivery);
// *public.Site implements it.
type Subscriptions interface {
	AddSubscriber(ctx context.Context, page store.Page, kind store.SubscriberKind, address string, comps []int64) (public.SubscribeResult, error)
}

// v1Subscriber is a subscriber in Statuspage's shape. Pharos adds state
// (pending, active, unsubscribed, disabled) and, in the answer to the POST
// that created a webhook subscriber, its signing secret (shown once).
type v1Subscriber struct {
	ID                           string   `json:"id"`
	Mode                         string   `json:"mode"`
	Email                        *string  `json:"email"`
	Endpoint                     *string  `json:"endpoint"`
	SkipConfirmationNotification bool     `json:"skip_confirmation_notification"`
	QuarantinedAt                *string  `json:"quarantined_at"`
	PurgeAt                      *string  `json:"purge_at"`
	Components                   []string `json:"components"`
	PageAccessUserID             *string  `json:"page_access_user_id"`
	CreatedAt                    string   `json:"created_at"`
	State                        string   `json:"state"`
	ConfirmedAt                  *string  `json:"confirmed_at"`
	UnsubscribedAt               *string  `json:"unsubscribed_at"`
	Secret                       string   `json:"secret,omitempty"`
}

// v1SubscriberIn is the body of POST …/subscribers: an email or an
// endpoint, and optionally the components it is limited to.
type v1SubscriberIn struct {
	Email        string   `json:"email"`
	Endpoint     string   `json:"endpoint"`
	ComponentIDs []string `json:"component_ids"`
}

func toV1Subscriber(s store.Subscriber) v1Subscriber {
	out := v1Subscriber{ID: v1ID(s.ID), Mode: string(s.Kind), Components: []string{}, CreatedAt: v1At(s.CreatedAt),
		State: s.Status(), QuarantinedAt: v1AtPtr(s.DisabledAt), ConfirmedAt: v1AtPtr(s.ConfirmedAt),
		UnsubscribedAt: v1AtPtr(s.UnsubscribedAt)}
	addr := s.Address
	if s.Kind == store.SubscriberEmail {
		out.Email = &addr
	} else {
		out.Endpoint = &addr
	}
	for _, c := range s.ComponentIDs {
		out.Components = append(out.Components, v1ID(c))
	}
	return out
}

// subscriberStates maps Statuspage's ?state= to Pharos states; "all"
// lists every subscriber.
var subscriberStates = map[string]string{
	"active": store.SubscriberActive, "unconfirmed": store.SubscriberPending,
	"quarantined": store.SubscriberDisabled, "unsubscribed": store.SubscriberUnsubscribed,
}

// V1Subscribers lists the page's subscribers: active ones by default, as
// Statuspage does; ?state=unconfirmed|quarantined|unsubscribed|all and
// ?type=email|webhook filter.
func (s *API) V1Subscribers(c echo.Context) error {
	p, pg, err := s.v1Page(c)
	if err != nil {
		return err
	}
	state := c.QueryParam("state")
	if state == "" {
		state = "active"
	}
	want, ok := subscriberStates[state]
	if !ok && state != "all" {
		return &respond.ValidationError{Field: "state", Message: "want active, unconfirmed, quarantined, unsubscribed or all"}
	}
	kind := c.QueryParam("type")
	if kind != "" && kind != string(store.SubscriberEmail) && kind != string(store.SubscriberWebhook) {
		return &respond.ValidationError{Field: "type", Message: "want email or webhook"}
	}
	list, err := s.st.Subscribers(c.Request().Context(), p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	out := make([]v1Subscriber, 0, len(list))
	for _, sub := range list {
		if (state != "all" && sub.Status() != want) || (kind != "" && string(sub.Kind) != kind) {
			continue
		}
		out = append(out, toV1Subscriber(sub))
	}
	return c.JSON(http.StatusOK, out)
}

// subscriberOnPage reads {subscriber_id} of the page: another page's or
// another organisation's subscriber is ErrNotFound.
func (s *API) subscriberOnPage(c echo.Context) (*auth.Principal, store.Page, store.Subscriber, error) {
	p, pg, err := s.v1Page(c)
	if err != nil {
		return nil, store.Page{}, store.Subscriber{}, err
	}
	id, err := parseID(c, "subscriber_id")
	if err != nil {
		return nil, store.Page{}, store.Subscriber{}, err
	}
	sub, err := s.st.Subscriber(c.Request().Context(), p.OrgID, id)
	if err != nil {
		return nil, store.Page{}, store.Subscriber{}, err
	}
	if sub.PageID != pg.ID {
		return nil, store.Page{}, store.Subscriber{}, &notOnPage{what: "subscriber", id: c.Param("subscriber_id")}
	}
	return p, pg, sub, nil
}

// V1Subscriber answers one subscriber.
func (s *API) V1Subscriber(c echo.Context) error {
	_, _, sub, err := s.subscriberOnPage(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toV1Subscriber(sub))
}

// V1CreateSubscriber subscribes an email address (double opt-in: it gets
// the confirmation mail and stays unconfirmed until it follows the link)
// or a webhook endpoint (checked by the SSRF guard, active once the signed
// test delivery is accepted; the answer carries its secret, once). 201 for
// a new subscriber, 200 when the email address was subscribed already.
func (s *API) V1CreateSubscriber(c echo.Context) error {
	p, pg, err := s.v1Page(c)
	if err != nil {
		return err
	}
	var in v1SubscriberIn
	if err := decodeWrapped(c, "subscriber", &in); err != nil {
		return err
	}
	kind, addr := store.SubscriberEmail, in.Email
	switch {
	case in.Email != "" && in.Endpoint != "":
		return &respond.ValidationError{Field: "subscriber", Message: "give an email or an endpoint, not both"}
	case in.Endpoint != "":
		kind, addr = store.SubscriberWebhook, in.Endpoint
	case in.Email == "":
		return &respond.ValidationError{Field: "subscriber", Message: "give an email or an endpoint"}
	}
	comps := make([]int64, 0, len(in.ComponentIDs))
	for _, raw := range in.ComponentIDs {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return &respond.ValidationError{Field: "component_ids", Message: "component " + strconv.Quote(raw) + " is not an id"}
		}
		comps = append(comps, id)
	}
	if s.subs == nil {
		return errors.New("api: no subscription service")
	}
	ctx := c.Request().Context()
	res, err := s.subs.AddSubscriber(ctx, pg, kind, addr, comps)
	if err != nil {
		return asValidation(err)
	}
	code := http.StatusCreated
	if res.Existing {
		code = http.StatusOK
	} else if err := s.st.Audit(ctx, p.OrgID, p.Actor(), "subscriber.create", "subscriber "+v1ID(res.Subscriber.ID),
		map[string]any{"page_id": pg.ID, "mode": string(kind), "state": res.Subscriber.Status()}); err != nil {
		return err
	}
	out := toV1Subscriber(res.Subscriber)
	out.Secret = res.Secret
	return c.JSON(code, out)
}

// V1DeleteSubscriber removes a subscriber for good and answers it as it
// was.
func (s *API) V1DeleteSubscriber(c echo.Context) error {
	p, pg, sub, err := s.subscriberOnPage(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.DeleteSubscriber(ctx, p.OrgID, pg.ID, sub.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, p.OrgID, p.Actor(), "subscriber.delete", "subscriber "+v1ID(sub.ID),
			map[string]any{"page_id": pg.ID, "mode": string(sub.Kind)})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toV1Subscriber(sub))
}
