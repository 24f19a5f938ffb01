package public

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/respond"
	"pharos/views"
)

// notice renders a one-message answer.
func (s *Site) notice(c echo.Context, st *pageState, pr publicReq, code int, n views.SubscribeNotice) error {
	n.Frame = s.frame(st.snap, pr.base, n.Heading+" · "+st.snap.page.Title, st.stale)
	return respond.Render(c, code, views.SubscribeResult(n))
}

// SubscribeConfirm is the page behind the double opt-in link of a
// confirmation mail: it shows the button that confirms (a GET never
// confirms: mail scanners follow links), or says the link expired.
func (s *Site) SubscribeConfirm(c echo.Context) error {
	return s.confirm(c, false)
}

// SubscribeConfirmSubmit confirms: the subscriber becomes active. The
// token is the authority (it reached the mailbox), so no cookie is needed.
func (s *Site) SubscribeConfirmSubmit(c echo.Context) error {
	return s.confirm(c, true)
}

func (s *Site) confirm(c echo.Context, apply bool) error {
	noStore(c)
	st, pr, err := s.subscribePage(c)
	if err != nil {
		return err
	}
	ctx, token := c.Request().Context(), c.QueryParam("token")
	var sub store.Subscriber
	if apply {
		sub, err = s.st.ConfirmSubscriber(ctx, st.snap.page.ID, token)
	} else {
		sub, err = s.st.CheckConfirmation(ctx, st.snap.page.ID, token)
	}
	switch {
	case errors.Is(err, store.ErrTokenExpired):
		return s.notice(c, st, pr, http.StatusGone, views.SubscribeNotice{Heading: "Link expired",
			Message: "This confirmation link has expired. Subscribe again on the subscribe page to get a new one."})
	case errors.Is(err, store.ErrNotFound):
		return s.notice(c, st, pr, http.StatusNotFound, views.SubscribeNotice{Heading: "Link not valid",
			Message: "This confirmation link is not valid (it may have been replaced by a newer one, or the subscription was removed)."})
	case err != nil:
		return err
	case !sub.Active():
		return s.notice(c, st, pr, http.StatusOK, views.SubscribeNotice{Heading: "Confirm your subscription",
			Message: "Send " + st.snap.page.Title + "'s incident and maintenance updates to " + sub.Address + "?",
			Confirm: pr.base + "/subscribe/confirm?token=" + url.QueryEscape(token)})
	}
	return s.notice(c, st, pr, http.StatusOK, views.SubscribeNotice{Heading: "Subscription confirmed",
		Message: "You will now receive this page's incident and maintenance updates at " + sub.Address + ".",
		Manage:  s.manageURL(pr, sub)})
}

func (s *Site) manageURL(pr publicReq, sub store.Subscriber) string {
	return pr.base + "/subscribe/manage?token=" + url.QueryEscape(store.ManageToken(s.subs.opts.SecretKey, sub))
}

func (s *Site) unsubscribeURL(pr publicReq, sub store.Subscriber) string {
	return pr.base + "/unsubscribe?token=" + url.QueryEscape(store.ManageToken(s.subs.opts.SecretKey, sub))
}

// managed returns the page and the subscriber the request's signed token
// names; a bad token is a plain 404.
func (s *Site) managed(c echo.Context) (*pageState, publicReq, store.Subscriber, error) {
	st, pr, err := s.subscribePage(c)
	if err != nil {
		return nil, pr, store.Subscriber{}, err
	}
	sub, err := s.st.SubscriberByManageToken(c.Request().Context(), s.subs.opts.SecretKey, st.snap.page.ID, c.QueryParam("token"))
	return st, pr, sub, err
}

// SubscribeManage shows a subscriber's own page (signed link of every
// mail): components and unsubscribe.
func (s *Site) SubscribeManage(c echo.Context) error {
	noStore(c)
	st, pr, sub, err := s.managed(c)
	if err != nil {
		return err
	}
	return s.renderManage(c, st, pr, sub, c.QueryParam("saved") == "1")
}

func (s *Site) renderManage(c echo.Context, st *pageState, pr publicReq, sub store.Subscriber, saved bool) error {
	csrf, err := s.subs.opts.Auth.PreSessionCSRF(c)
	if err != nil {
		return err
	}
	p := views.SubscribeManagePage{
		Frame: s.frame(st.snap, pr.base, "Your subscription · "+st.snap.page.Title, st.stale),
		Kind:  string(sub.Kind), Address: sub.Address, Status: sub.Status(), Saved: saved, CSRF: csrf,
		Action:      s.manageURL(pr, sub),
		Unsubscribe: s.unsubscribeURL(pr, sub),
		Components:  subscribeComponents(st.snap.components, sub.ComponentIDs),
	}
	return respond.Render(c, http.StatusOK, views.SubscribeManage(p))
}

// SubscribeManageSubmit saves a subscriber's components.
func (s *Site) SubscribeManageSubmit(c echo.Context) error {
	noStore(c)
	_, pr, sub, err := s.managed(c)
	if err != nil {
		return err
	}
	if err := s.subs.opts.Auth.CheckPreSessionCSRF(c); err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	comps := []int64{}
	for _, v := range form["component"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, "Pick components from the list.")
		}
		comps = append(comps, id)
	}
	if err := s.st.SetSubscriberComponents(c.Request().Context(), sub.OrgID, sub.ID, comps); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, s.manageURL(pr, sub)+"&saved=1")
}

// UnsubscribeForm is the page behind the visible unsubscribe link of a
// mail: a GET never unsubscribes (mail scanners follow links), it shows
// the button that does.
func (s *Site) UnsubscribeForm(c echo.Context) error {
	noStore(c)
	st, pr, sub, err := s.managed(c)
	if err != nil {
		return err
	}
	return s.notice(c, st, pr, http.StatusOK, views.SubscribeNotice{Heading: "Unsubscribe",
		Message:     "Stop sending this page's updates to " + sub.Address + "?",
		Unsubscribe: s.unsubscribeURL(pr, sub)})
}

// Unsubscribe is the one-click unsubscribe of RFC 8058: a POST to the
// List-Unsubscribe URL, with no cookie, no CSRF token and no redirect (the
// signed token is the authority), answered 200.
func (s *Site) Unsubscribe(c echo.Context) error {
	noStore(c)
	st, pr, sub, err := s.managed(c)
	if err != nil {
		return err
	}
	if err := s.st.Unsubscribe(c.Request().Context(), sub.OrgID, sub.ID); err != nil {
		return err
	}
	return s.notice(c, st, pr, http.StatusOK, views.SubscribeNotice{Heading: "Unsubscribed",
		Message: sub.Address + " will receive nothing more from this page."})
}
