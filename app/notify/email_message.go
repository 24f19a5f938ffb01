package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"
	gomail "github.com/wneessen/go-mail"

	"pharos/app/store"
	"pharos/views"
)

// Send mails one incident or maintenance event to one subscriber.
func (e *Email) Send(ctx context.Context, m Message) (Outcome, error) {
	if m.Subscriber.Kind != KindEmail {
		return Outcome{Status: Rejected, Detail: "not an email subscriber"}, nil
	}
	if m.Event.Incident == nil {
		return Outcome{Status: Rejected, Detail: "event " + m.Kind + " has nothing to mail"}, nil
	}
	msg, err := e.eventMessage(ctx, m)
	if err != nil {
		return Outcome{Status: Rejected, Detail: err.Error()}, nil
	}
	return outcome(e.send(ctx, msg))
}

// SendConfirmation mails the double opt-in link of a new or renewed email
// subscription, or, when confirmToken is "" (the address is subscribed
// already), its manage and unsubscribe links: the subscribe form answers
// the same either way, and only the mailbox's owner learns which it was.
func (e *Email) SendConfirmation(ctx context.Context, page store.Page, sub store.Subscriber, confirmToken string) error {
	root := page.PublicRoot(e.opts.BaseURL)
	v := views.EmailView{PageName: headerSafe(page.Title), PageURL: root + "/",
		Why: "You get this mail because this address was entered on the subscribe page of"}
	subject := "Confirm your subscription to " + page.Title
	var unsub string
	if confirmToken != "" {
		v.Heading = "Confirm your subscription"
		v.Intro = fmt.Sprintf("Someone, hopefully you, asked to receive %s's incident and maintenance updates at %s. "+
			"Follow the link within %d hours to confirm. If it was not you, ignore this mail: nothing else will arrive.",
			page.Title, sub.Address, int(store.ConfirmTTL/time.Hour))
		v.Action = views.EmailLink{Label: "Confirm subscription", URL: root + "/subscribe/confirm?token=" + url.QueryEscape(confirmToken)}
	} else {
		token := url.QueryEscape(store.ManageToken(e.opts.SecretKey, sub))
		subject = "You are subscribed to " + page.Title
		v.Heading = "You are already subscribed"
		v.Intro = fmt.Sprintf("Someone asked to subscribe %s to %s's updates. This address is subscribed already; nothing was changed.",
			sub.Address, page.Title)
		v.ManageURL = root + "/subscribe/manage?token=" + token
		unsub = root + "/unsubscribe?token=" + token
		v.UnsubscribeURL = unsub
	}
	msg, err := e.newMessage(ctx, page.Title, page.Slug, sub.Address, subject, v, unsub)
	if err != nil {
		return err
	}
	id, err := randomID()
	if err != nil {
		return err
	}
	msg.SetMessageIDWithValue("confirm." + id + "@" + e.domain)
	out, err := outcome(e.send(ctx, msg))
	if err != nil {
		return err
	}
	if out.Status != Delivered {
		return fmt.Errorf("email: confirmation to subscriber %d: %s", sub.ID, out.Detail)
	}
	return nil
}

// eventRoot is the absolute URL of an event's page root, without a
// trailing slash: the event's page URL, else under BaseURL.
func (e *Email) eventRoot(slug, eventURL string) string {
	if eventURL != "" {
		return strings.TrimSuffix(eventURL, "/")
	}
	return store.Page{Slug: slug}.PublicRoot(e.opts.BaseURL)
}

// eventMessage builds the mail of one event for one subscriber.
func (e *Email) eventMessage(ctx context.Context, m Message) (*gomail.Msg, error) {
	ev, in := m.Event, m.Event.Incident
	root := e.eventRoot(ev.Page.Slug, ev.Page.URL)
	sub := store.Subscriber{ID: m.Subscriber.ID, OrgID: m.Subscriber.OrgID, PageID: m.Subscriber.PageID,
		Kind: store.SubscriberKind(m.Subscriber.Kind), Address: m.Subscriber.Address}
	token := url.QueryEscape(store.ManageToken(e.opts.SecretKey, sub))
	unsub := root + "/unsubscribe?token=" + token
	maintenance := strings.HasPrefix(m.Kind, "maintenance.")
	link := in.Shortlink
	if link == "" {
		link = root + "/incidents/" + in.ID
	}
	v := views.EmailView{
		PageName: headerSafe(ev.Page.Name), PageURL: root + "/",
		Heading: in.Name, Status: words(in.Status), Intro: intro(m.Kind, in),
		Action:    views.EmailLink{Label: "Read it on the status page", URL: link},
		ManageURL: root + "/subscribe/manage?token=" + token, UnsubscribeURL: unsub,
		Why: "You get this mail because you subscribed to the updates of",
	}
	if maintenance {
		v.Action.Label = "See the status page"
		v.Action.URL = root + "/"
	}
	seen := map[string]bool{}
	for _, c := range in.Components {
		if !seen[c.Name] {
			seen[c.Name] = true
			v.Components = append(v.Components, c.Name)
		}
	}
	for i, u := range in.IncidentUpdates {
		if i == 10 {
			break
		}
		v.Updates = append(v.Updates, views.EmailUpdate{Status: words(u.Status), When: mailTime(u.DisplayAt), Body: u.Body})
	}
	subject := "[" + ev.Page.Name + "] " + in.Name
	if in.Status != "" {
		subject += " (" + words(in.Status) + ")"
	}
	msg, err := e.newMessage(ctx, ev.Page.Name, ev.Page.Slug, m.Subscriber.Address, subject, v, unsub)
	if err != nil {
		return nil, err
	}
	// One thread per incident: the first mail's Message-ID is the
	// incident's own (the same for every subscriber, as a list post's is);
	// every later mail answers it.
	kind := "incident"
	if maintenance {
		kind = "maintenance"
	}
	thread := kind + "." + safeID(in.ID) + "." + safeID(ev.Page.ID) + "@" + e.domain
	switch m.Kind {
	case "incident.created", "incident.opened", "maintenance.scheduled", "maintenance.created":
		msg.SetMessageIDWithValue(thread)
	default:
		msg.SetMessageIDWithValue(safeID(m.ID) + "@" + e.domain)
		msg.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, "<"+thread+">")
		msg.SetGenHeaderPreformatted(gomail.HeaderReferences, "<"+thread+">")
	}
	return msg, nil
}

// newMessage builds a mail with the headers every subscriber mail has.
// unsub, when set, is the one-click unsubscribe URL (RFC 8058).
func (e *Email) newMessage(ctx context.Context, pageName, slug, to, subject string, v views.EmailView, unsub string) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	// net/mail quotes or encodes the name as it must be: a page title
	// with a quote or a backslash is a valid display name.
	msg.FromMailAddress(&mail.Address{Name: headerSafe(pageName), Address: e.from.Address})
	if strings.ContainsAny(to, "\r\n") {
		return nil, fmt.Errorf("email: recipient %q: control characters", to)
	}
	if err := msg.To(to); err != nil {
		return nil, fmt.Errorf("email: recipient: %w", err)
	}
	msg.Subject(headerSafe(subject))
	msg.SetDateWithValue(e.opts.Now())
	msg.SetGenHeaderPreformatted("List-Id", listID(pageName, slug, e.domain))
	msg.SetGenHeaderPreformatted("Auto-Submitted", "auto-generated")
	msg.SetGenHeaderPreformatted(gomail.HeaderXAutoResponseSuppress, "All")
	if unsub != "" {
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribe, "<"+headerSafe(unsub)+">")
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	text, err := render(ctx, views.EmailText(v))
	if err != nil {
		return nil, err
	}
	html, err := render(ctx, views.EmailHTML(v))
	if err != nil {
		return nil, err
	}
	msg.SetBodyString(gomail.TypeTextPlain, text)
	msg.AddAlternativeString(gomail.TypeTextHTML, html)
	return msg, nil
}

func render(ctx context.Context, c templ.Component) (string, error) {
	var b bytes.Buffer
	if err := c.Render(ctx, &b); err != nil {
		return "", fmt.Errorf("email: render: %w", err)
	}
	return b.String(), nil
}

// listID is the List-Id header (RFC 2919): the page's name as the phrase,
// and its slug under the sender's domain as the identifier.
func listID(name, slug, domain string) string {
	phrase := strings.NewReplacer(`"`, "", `\`, "").Replace(headerSafe(name))
	return `"` + phrase + `" <` + safeID(slug) + ".pages." + domain + ">"
}

// headerSafe makes text safe for a header: control characters (CR and LF
// above all, which would start a new header) become spaces, and the text
// is bounded.
func headerSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "")
	}
	return s
}

// safeID keeps the characters a Message-ID's left part may hold; anything
// else is replaced by a hash, so two ids never collide by cleaning.
func safeID(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			sum := sha256.Sum256([]byte(s))
			return hex.EncodeToString(sum[:12])
		}
	}
	if s == "" {
		return "none"
	}
	return s
}

func randomID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("email: message id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// words turns a status into words: "in_progress" → "In progress".
func words(status string) string {
	s := strings.ReplaceAll(status, "_", " ")
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// mailTime shows an event time (RFC 3339) as "30 Nov 2026 06:00 UTC".
func mailTime(v string) string {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return v
	}
	return t.UTC().Format("2 Jan 2006 15:04 MST")
}

// intro is a mail's opening line for its event kind.
func intro(kind string, in *Incident) string {
	switch kind {
	case "incident.created", "incident.opened":
		return "A new incident was opened."
	case "incident.resolved":
		return "This incident is resolved."
	case "incident.postmortem":
		return "A postmortem was published for this incident."
	case "maintenance.scheduled", "maintenance.created":
		if in.ScheduledFor != nil && in.ScheduledUntil != nil {
			return "Maintenance is scheduled from " + mailTime(*in.ScheduledFor) + " to " + mailTime(*in.ScheduledUntil) + "."
		}
		return "Maintenance is scheduled."
	case "maintenance.started":
		return "Maintenance has started."
	case "maintenance.completed":
		return "Maintenance is complete."
	}
	if strings.HasPrefix(kind, "maintenance.") {
		return "This maintenance was updated."
	}
	return "This incident was updated."
}
