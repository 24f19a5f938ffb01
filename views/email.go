package views

import (
	"context"
	"io"
	"strings"

	"github.com/a-h/templ"
)

// EmailView is one subscriber mail: a confirmation request or an incident
// or maintenance notice. Every field is plain text (Markdown bodies are
// sent as written); EmailHTML escapes it, EmailText writes it as is.
type EmailView struct {
	PageName string
	PageURL  string
	// Heading is the incident or maintenance name, or the confirmation's
	// title.
	Heading string
	// Status is the current state in words (e.g. "Investigating"), "" for
	// a confirmation.
	Status string
	// Intro is the opening line.
	Intro string
	// Components are the affected components' names.
	Components []string
	// Updates are the timeline, newest first.
	Updates []EmailUpdate
	// Action is the mail's one button: confirm, or read the incident.
	Action EmailLink
	// ManageURL and UnsubscribeURL are the subscriber's signed links
	// (empty in a confirmation request: there is nothing to leave yet).
	ManageURL      string
	UnsubscribeURL string
	// Why says why the recipient gets the mail.
	Why string
}

// EmailUpdate is one entry of a timeline.
type EmailUpdate struct {
	Status string
	When   string // already formatted, with its zone
	Body   string
}

// EmailLink is a labelled URL.
type EmailLink struct {
	Label string
	URL   string
}

// EmailText is the plain-text body of a mail.
func EmailText(v EmailView) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		var b strings.Builder
		line := func(s ...string) {
			for _, p := range s {
				b.WriteString(p)
			}
			b.WriteString("\r\n")
		}
		line(v.Heading)
		if v.Status != "" {
			line("Status: ", v.Status)
		}
		if len(v.Components) > 0 {
			line("Affects: ", strings.Join(v.Components, ", "))
		}
		line()
		if v.Intro != "" {
			line(v.Intro)
			line()
		}
		for _, u := range v.Updates {
			line(u.Status, " - ", u.When)
			for _, l := range strings.Split(strings.ReplaceAll(u.Body, "\r\n", "\n"), "\n") {
				line(l)
			}
			line()
		}
		if v.Action.URL != "" {
			line(v.Action.Label, ": ", v.Action.URL)
			line()
		}
		line("-- ")
		line(v.Why)
		if v.PageURL != "" {
			line(v.PageName, ": ", v.PageURL)
		}
		if v.ManageURL != "" {
			line("Manage your subscription: ", v.ManageURL)
		}
		if v.UnsubscribeURL != "" {
			line("Unsubscribe: ", v.UnsubscribeURL)
		}
		_, err := io.WriteString(w, b.String())
		return err
	})
}
