package public

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"pharos/app/incident"
	"pharos/app/store"
)

// The iCalendar feed of a page's maintenance windows (RFC 5545), at
// /p/{slug}/maintenance.ics: one VEVENT per window with the stable UID
// m<id>@<slug>.pharos. A recurring window whose schedule a recurrence rule
// can express (incident.Window.RRule) is one event with an RRULE in the
// window's zone (TZID, with its VTIMEZONE); any other recurring window is
// expanded into its runs of the next 90 days, UIDs m<id>-<unix start>@….
// Everything in the document derives from the windows, so two fetches of
// an unchanged page are identical.

const (
	icalHorizon   = 90 * 24 * time.Hour // how far expanded windows reach
	icalMaxRuns   = 1000                // expanded runs per window, at most
	icalLineOctet = 75                  // content lines fold after this many octets
	icalProdID    = "-//Pharos//Maintenance calendar//EN"
	icalLocalTime = "20060102T150405"
)

// MaintenanceICS serves the page's maintenance calendar.
func (s *Site) MaintenanceICS(c echo.Context) error {
	return s.servePublic(c, "ics", func(_ context.Context, st *pageState, pr publicReq) (*rendered, error) {
		body := s.calendar(st.snap, pr.root)
		return newRendered(body, "text/calendar; charset=utf-8", feedCacheControl), nil
	})
}

// calendar renders the snapshot's windows as an iCalendar document.
func (s *Site) calendar(sn *snapshot, root string) []byte {
	var ev icalWriter
	// The page's zone is always defined: X-WR-TIMEZONE names it, and a
	// calendar must hold at least one component even with no window.
	pageZone := sn.loc
	if pageZone == nil {
		pageZone = time.UTC
	}
	zones := map[string]*time.Location{pageZone.String(): pageZone}
	firstYear := sn.loadedAt.Year()
	useZone := func(loc *time.Location, t time.Time) {
		if !isUTC(loc) {
			zones[loc.String()] = loc
			firstYear = min(firstYear, t.In(loc).Year())
		}
	}
	for _, w := range sn.maintenance {
		pw, err := w.Window()
		if err != nil {
			continue // apply and the console validate windows; a bad one is left out rather than breaking the feed
		}
		loc := pw.Location()
		e := icalEvent{uid: "m" + strconv.FormatInt(w.ID, 10) + "@" + sn.page.Slug + ".pharos", w: w, loc: loc,
			summary: sn.page.Title + " maintenance: " + w.Name, description: s.icalDescription(sn, w, root), url: root + "/"}
		switch rule, ok := pw.RRule(); {
		case !pw.Recurring():
			e.start, e.end = *w.StartsAt, *w.EndsAt
			useZone(loc, e.start)
			ev.event(e)
		case ok:
			// The first run from the window's creation anchors the rule, so
			// DTSTART stays the same from one fetch to the next.
			first := incident.NextOccurrences(pw, w.CreatedAt, 1)
			if len(first) == 0 {
				continue
			}
			e.start, e.end, e.rrule, e.duration = first[0].Start, first[0].End, rule, pw.Duration()
			useZone(loc, e.start)
			ev.event(e)
		default:
			for _, run := range incident.Occurrences(pw, sn.loadedAt, sn.loadedAt.Add(icalHorizon), icalMaxRuns) {
				r := e
				r.uid = "m" + strconv.FormatInt(w.ID, 10) + "-" + strconv.FormatInt(run.Start.Unix(), 10) + "@" + sn.page.Slug + ".pharos"
				r.start, r.end = run.Start, run.End
				useZone(loc, r.start)
				ev.event(r)
			}
		}
	}

	var cal icalWriter
	cal.line("BEGIN", "VCALENDAR")
	cal.line("VERSION", "2.0")
	cal.line("PRODID", icalProdID)
	cal.line("CALSCALE", "GREGORIAN")
	cal.line("METHOD", "PUBLISH")
	cal.line("X-WR-CALNAME", icalText(sn.page.Title+" maintenance"))
	cal.line("X-WR-TIMEZONE", pageZone.String())
	for _, name := range sortedKeys(zones) {
		vtimezone(&cal, zones[name], firstYear-1, sn.loadedAt.Year()+2)
	}
	cal.b.Write(ev.b.Bytes())
	cal.line("END", "VCALENDAR")
	return cal.b.Bytes()
}

// icalEvent is one VEVENT.
type icalEvent struct {
	uid                       string
	w                         store.MaintenanceWindow
	loc                       *time.Location
	start, end                time.Time
	rrule                     string        // "" for a single run
	duration                  time.Duration // with rrule: each run's length
	summary, description, url string
}

func (iw *icalWriter) event(e icalEvent) {
	iw.line("BEGIN", "VEVENT")
	iw.line("UID", e.uid)
	iw.line("DTSTAMP", icalUTC(e.w.UpdatedAt))
	iw.line("CREATED", icalUTC(e.w.CreatedAt))
	iw.line("LAST-MODIFIED", icalUTC(e.w.UpdatedAt))
	iw.dateTime("DTSTART", e.start, e.loc)
	if e.rrule != "" {
		iw.line("DURATION", icalDuration(e.duration))
		iw.line("RRULE", e.rrule)
	} else {
		iw.dateTime("DTEND", e.end, e.loc)
	}
	iw.line("SUMMARY", icalText(e.summary))
	iw.line("DESCRIPTION", icalText(e.description))
	iw.line("URL", e.url)
	iw.line("CATEGORIES", "MAINTENANCE")
	iw.line("STATUS", "CONFIRMED")
	iw.line("TRANSP", "OPAQUE")
	iw.line("END", "VEVENT")
}

// icalDescription is the window's body as plain text, with what it covers
// and where to follow it.
func (s *Site) icalDescription(sn *snapshot, w store.MaintenanceWindow, root string) string {
	var parts []string
	if body := plainText(s.md.HTML(w.Body)); body != "" {
		parts = append(parts, body)
	}
	var names []string
	for _, c := range sn.componentsByID(w.ComponentIDs) {
		names = append(names, c.Name)
	}
	if len(names) > 0 {
		parts = append(parts, "Affected: "+strings.Join(names, ", "))
	}
	parts = append(parts, "Status page: "+root+"/")
	return strings.Join(parts, "\n\n")
}

var (
	htmlBlockEnd = regexp.MustCompile(`(?i)</(p|li|h[1-6]|pre|blockquote|tr)>|<br\s*/?>`)
	htmlTag      = regexp.MustCompile(`<[^>]*>`)
	blankLines   = regexp.MustCompile(`\n{3,}`)
)

// plainText turns the Markdown renderer's sanitised HTML into text: tags
// go, block ends become line breaks, entities are decoded.
func plainText(h string) string {
	t := htmlBlockEnd.ReplaceAllString(h, "\n")
	t = html.UnescapeString(htmlTag.ReplaceAllString(t, ""))
	return strings.TrimSpace(blankLines.ReplaceAllString(t, "\n\n"))
}

// icalWriter writes content lines: folded at 75 octets (never inside a
// UTF-8 sequence), each ended by CRLF.
type icalWriter struct{ b bytes.Buffer }

func (iw *icalWriter) line(name, value string) { iw.fold(name + ":" + value) }

// dateTime writes a DATE-TIME property: UTC ("…Z") for UTC windows, else
// local time with the zone's TZID.
func (iw *icalWriter) dateTime(name string, t time.Time, loc *time.Location) {
	if isUTC(loc) {
		iw.line(name, icalUTC(t))
		return
	}
	iw.fold(name + ";TZID=" + loc.String() + ":" + t.In(loc).Format(icalLocalTime))
}

func (iw *icalWriter) fold(l string) {
	limit := icalLineOctet
	for len(l) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(l[cut]) {
			cut--
		}
		iw.b.WriteString(l[:cut])
		iw.b.WriteString("\r\n ")
		l = l[cut:]
		limit = icalLineOctet - 1 // the leading space counts
	}
	iw.b.WriteString(l)
	iw.b.WriteString("\r\n")
}

// icalText escapes a TEXT value (RFC 5545 §3.3.11).
func icalText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

func icalUTC(t time.Time) string { return t.UTC().Format(icalLocalTime) + "Z" }

// icalDuration formats a positive duration as RFC 5545 DURATION (PT2H30M).
func icalDuration(d time.Duration) string {
	d = d.Round(time.Second)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h, m, sec := d/time.Hour, (d%time.Hour)/time.Minute, (d%time.Minute)/time.Second
	var b strings.Builder
	b.WriteString("P")
	if days > 0 {
		fmt.Fprintf(&b, "%dD", days)
	}
	if h > 0 || m > 0 || sec > 0 || days == 0 {
		b.WriteString("T")
		if h > 0 {
			fmt.Fprintf(&b, "%dH", h)
		}
		if m > 0 {
			fmt.Fprintf(&b, "%dM", m)
		}
		if sec > 0 || (h == 0 && m == 0) {
			fmt.Fprintf(&b, "%dS", sec)
		}
	}
	return b.String()
}

func isUTC(loc *time.Location) bool { return loc == nil || loc == time.UTC || loc.String() == "UTC" }
