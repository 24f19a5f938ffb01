package views

import (
	"context"
	"html"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
)

// View models of the public status page. Times are in the page's time zone
// and shown with the zone named (Stamp); each sits in a <time datetime>
// element in UTC, from which the page script may show the viewer's zone.

// PublicFrame is what every public page's frame needs.
type PublicFrame struct {
	PageTitle string // the status page's title, e.g. "ACME status"
	Title     string // this document's title
	Base      string // link prefix: "/p/acme", or "" on the page's own domain
	Live      bool   // the page script may follow /events
	Stale     bool   // the database did not answer: this is the last good data
	UpdatedAt time.Time
	Now       time.Time
}

// Description is the page's meta description, for search results and link
// previews.
func (f PublicFrame) Description() string {
	return "Current status, incidents and scheduled maintenance of " + f.PageTitle + "."
}

// StatusView is the overall status, in Statuspage's words.
type StatusView struct {
	Indicator   string // none, minor, major, critical, maintenance
	Description string // e.g. "All Systems Operational"
}

// PublicPage is the status page itself.
type PublicPage struct {
	Frame       PublicFrame
	Status      StatusView
	Incidents   []IncidentView    // unresolved, newest first, latest update only
	Maintenance []MaintenanceView // in progress, then upcoming
	Groups      []GroupView       // display order; a group with no name holds ungrouped components
	Days        int               // length of the uptime bars
}

// GroupView is a component group (or, unnamed, the ungrouped components).
type GroupView struct {
	Name       string
	Status     string
	StatusText string
	Components []ComponentView
}

// ComponentView is one component row.
type ComponentView struct {
	ID          int64
	Name        string
	Description string
	Status      string // Statuspage component status
	StatusText  string // e.g. "Partial outage", or "No data yet"
	NoData      bool   // none of its checks has been judged yet: Status is only the initial one
	ShowBar     bool
	UptimeText  string // e.g. "99.98 % uptime"
	Days        []DayView
}

// DayView is one day of an uptime bar.
type DayView struct {
	// Level is "" (fine), "w" (degraded), "p" (partial), "m" (major) or
	// "n" (no data).
	Level string
	Text  string // e.g. "21 Nov 2026: 99.95 % uptime, 1 incident: API errors"
}

// IncidentView is an incident as pages show it.
type IncidentView struct {
	ID         int64
	URL        string
	Name       string
	Status     string
	StatusText string
	Impact     string
	StartedAt  time.Time
	ResolvedAt *time.Time
	Updates    []UpdateView // newest first
	Components []string
	Postmortem string // sanitised HTML, "" when none
}

// UpdateView is one update of an incident's timeline.
type UpdateView struct {
	Status     string
	StatusText string
	BodyHTML   string // sanitised HTML rendered from Markdown
	At         time.Time
	Edited     bool // its text was corrected after it was posted
}

// MaintenanceView is one maintenance (an occurrence of a recurring window).
type MaintenanceView struct {
	Name       string
	Status     string // scheduled, in_progress, verifying, completed
	StatusText string
	From       time.Time
	Until      time.Time
	BodyHTML   string
	Components []string
}

// IncidentPage shows one incident's timeline.
type IncidentPage struct {
	Frame    PublicFrame
	Incident IncidentView
}

// HistoryPage lists past incidents and maintenance by month.
type HistoryPage struct {
	Frame    PublicFrame
	Months   []MonthView
	NewerURL string // "" on the first page
	OlderURL string // "" when nothing is older
}

// MonthView is one month of history.
type MonthView struct {
	Label       string // "November 2026"
	Incidents   []IncidentView
	Maintenance []MaintenanceView
}

// SubscribePage is the subscription form (email or webhook, optionally
// for some components only), or the form again with an error.
type SubscribePage struct {
	Frame        PublicFrame
	Action       string // where both forms post
	CSRF         string
	EmailEnabled bool   // PHAROS_SMTP_URL is set; else email is off
	Kind         string // the form the error is about: "email" or "webhook"
	Address      string // what was typed, shown again with an error
	Error        string
	Components   []SubscribeComponent
}

// SubscribeComponent is one component a subscription may be limited to.
type SubscribeComponent struct {
	ID      int64
	Name    string
	Checked bool
}

// SubscribeNotice is the one-message answer of the subscription steps:
// "check your inbox", "confirmed", "link expired", "unsubscribed", a new
// webhook's secret, or the button that unsubscribes.
type SubscribeNotice struct {
	Frame   PublicFrame
	Heading string
	Message string
	// Secret is a new webhook's signing secret, shown once.
	Secret string
	// Manage links to the subscriber's manage page.
	Manage string
	// Unsubscribe, when set, is the URL an "Unsubscribe" button posts to.
	Unsubscribe string
	// Confirm, when set, is the URL a "Confirm" button posts to.
	Confirm string
}

// SubscribeManagePage lets a subscriber change their components or
// unsubscribe; it is reached by the signed link of every mail.
type SubscribeManagePage struct {
	Frame       PublicFrame
	Kind        string
	Address     string
	Status      string // pending, active, unsubscribed, disabled
	Action      string // the components form posts here
	Unsubscribe string // the unsubscribe button posts here
	CSRF        string
	Saved       bool
	Components  []SubscribeComponent
}

// uptimeBar writes a component's days as one compact list: a 90-day bar on
// a 20-component page is 1,800 items, so the markup is written by hand with
// optional end tags omitted, which keeps the page under its weight budget.
// The last day is the bar's keyboard entry point; the page script moves
// focus between days with the arrow keys (roving tabindex).
func uptimeBar(c ComponentView) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		var b strings.Builder
		b.Grow(len(c.Days) * 24)
		b.WriteString(`<ol class="bar" aria-label="`)
		b.WriteString(html.EscapeString(c.Name))
		b.WriteString(`, daily uptime" data-testid="uptime-bar">`)
		for i, d := range c.Days {
			b.WriteString("<li")
			if d.Level != "" {
				b.WriteString(" class=")
				b.WriteString(d.Level)
			}
			if i == len(c.Days)-1 {
				b.WriteString(" tabindex=0")
			}
			b.WriteByte('>')
			b.WriteString(html.EscapeString(d.Text))
		}
		b.WriteString("</ol>")
		_, err := io.WriteString(w, b.String())
		return err
	})
}

// Stamp formats a time in its own zone with the zone named, e.g.
// "30 Nov 2026, 14:05 CET"; a zone without an abbreviation is named by its
// offset ("UTC-03"). The page script may rewrite it in the viewer's zone.
func Stamp(t time.Time) string {
	zone := t.Format("MST")
	if zone != "" && (zone[0] == '+' || zone[0] == '-') {
		zone = "UTC" + zone
	}
	return t.Format("2 Jan 2006, 15:04") + " " + zone
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func href(base, path string) templ.SafeURL { return templ.SafeURL(base + path) }

func id(n int64) string { return strconv.FormatInt(n, 10) }

func days(n int) string {
	if n == 1 {
		return "day"
	}
	return strconv.Itoa(n) + " days"
}

func joinNames(names []string) string { return strings.Join(names, ", ") }
