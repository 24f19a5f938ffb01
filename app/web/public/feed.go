package public

import (
	"context"
	"encoding/xml"
	"fmt"
	"html"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
)

// Atom and RSS feeds of the recent incidents and maintenance runs (one
// entry per incident or run, its updates in the content, newest first) and
// the status badge.

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomPerson  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomEntry struct {
	ID        string   `xml:"id"`
	Title     string   `xml:"title"`
	Published string   `xml:"published"`
	Updated   string   `xml:"updated"`
	Link      atomLink `xml:"link"`
	Content   atomText `xml:"content"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type rssFeed struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	AtomNS  string     `xml:"xmlns:atom,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title       string    `xml:"title"`
	Link        string    `xml:"link"`
	Self        rssSelf   `xml:"atom:link"`
	Description string    `xml:"description"`
	LastBuild   string    `xml:"lastBuildDate"`
	Items       []rssItem `xml:"item"`
}

// rssSelf is the atom:link rel="self" the RSS Advisory Board and the W3C
// validator ask for.
type rssSelf struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	GUID        rssGUID `xml:"guid"`
	PubDate     string  `xml:"pubDate"`
	Description string  `xml:"description"`
}

type rssGUID struct {
	IsPermaLink bool   `xml:"isPermaLink,attr"`
	Body        string `xml:",chardata"`
}

// feedHTML is an incident's timeline as (sanitised) HTML for feed readers,
// its times in the page's zone like the page's.
func (s *Site) feedHTML(sn *snapshot, in store.PublicIncident) string {
	var b strings.Builder
	for _, u := range in.Updates {
		fmt.Fprintf(&b, "<p><strong>%s</strong> · %s</p>%s", html.EscapeString(incidentStatusText(u.Status)),
			html.EscapeString(sn.local(u.DisplayAt).Format(feedStamp)), s.md.HTML(u.Body))
	}
	return b.String()
}

// feedStamp is how the feeds' text shows a time (in the page's zone).
const feedStamp = "2 Jan 2006 15:04 MST"

// feedItem is one entry of the feeds: an incident, or one run of a
// maintenance window with its updates.
type feedItem struct {
	id, link, title    string
	published, updated time.Time
	html               string
}

// tagID is a feed or entry id (RFC 4151 tag: URI) made of the page's
// creation date and ids: it never changes when the page gains a custom
// domain or the service moves, so feed readers never show an entry twice.
func tagID(sn *snapshot, specific string) string {
	return "tag:pharos," + sn.page.CreatedAt.UTC().Format("2006-01-02") + ":page/" + idString(sn.page.ID) + specific
}

// feedItems lists the recent incidents and maintenance runs, newest
// published first.
func (s *Site) feedItems(sn *snapshot, pr publicReq) []feedItem {
	var items []feedItem
	for _, in := range sn.recent() {
		items = append(items, feedItem{id: tagID(sn, "/incident/"+idString(in.ID)), link: pr.root + "/incidents/" + idString(in.ID),
			title: in.Name, published: in.StartedAt, updated: in.UpdatedAt, html: s.feedHTML(sn, in)})
	}
	items = append(items, s.maintenanceItems(sn, pr)...)
	sort.SliceStable(items, func(i, j int) bool { return items[i].published.After(items[j].published) })
	return items
}

// feedSelf is the absolute URL the client fetched the feed at (its route:
// /feed.atom or Statuspage's /history.atom), from the trusted prefix.
func feedSelf(c echo.Context, pr publicReq) string {
	return pr.self + "/" + path.Base(c.Path())
}

// Atom serves the incident and maintenance feed as Atom.
func (s *Site) Atom(c echo.Context) error {
	self := path.Base(c.Path())
	return s.servePublic(c, "atom:"+self, func(_ context.Context, st *pageState, pr publicReq) (*rendered, error) {
		sn := st.snap
		f := atomFeed{ID: tagID(sn, ""), Title: sn.page.Title + " incidents", Updated: sn.updatedAt().Format(time.RFC3339),
			Author: atomPerson{Name: sn.page.Title, URI: pr.root + "/"},
			Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: pr.root + "/"},
				{Rel: "self", Type: "application/atom+xml", Href: feedSelf(c, pr)}}}
		for _, it := range s.feedItems(sn, pr) {
			f.Entries = append(f.Entries, atomEntry{ID: it.id, Title: it.title, Published: it.published.Format(time.RFC3339),
				Updated: it.updated.Format(time.RFC3339), Link: atomLink{Rel: "alternate", Type: "text/html", Href: it.link},
				Content: atomText{Type: "html", Body: it.html}})
		}
		return marshalFeed(f, "application/atom+xml; charset=utf-8")
	})
}

// RSS serves the incident and maintenance feed as RSS.
func (s *Site) RSS(c echo.Context) error {
	self := path.Base(c.Path())
	return s.servePublic(c, "rss:"+self, func(_ context.Context, st *pageState, pr publicReq) (*rendered, error) {
		sn := st.snap
		f := rssFeed{Version: "2.0", AtomNS: "http://www.w3.org/2005/Atom", Channel: rssChannel{Title: sn.page.Title + " incidents",
			Link: pr.root + "/", Self: rssSelf{Href: feedSelf(c, pr), Rel: "self", Type: "application/rss+xml"},
			Description: "Incidents, maintenance and their updates on " + sn.page.Title, LastBuild: sn.updatedAt().Format(time.RFC1123Z)}}
		for _, it := range s.feedItems(sn, pr) {
			f.Channel.Items = append(f.Channel.Items, rssItem{Title: it.title, Link: it.link, GUID: rssGUID{Body: it.id},
				PubDate: it.published.Format(time.RFC1123Z), Description: it.html})
		}
		return marshalFeed(f, "application/rss+xml; charset=utf-8")
	})
}

func marshalFeed(v any, contentType string) (*rendered, error) {
	body, err := xml.MarshalIndent(v, "", " ")
	if err != nil {
		return nil, err
	}
	return newRendered(append([]byte(xml.Header), body...), contentType, feedCacheControl), nil
}

// maintenanceItems turns the snapshot's maintenance updates into feed
// entries, one per run with its updates newest first. An entry's id is a
// tag: URI ending in the run's occurrence id (m<id>, or m<id>-<unix start>
// for a run of a recurring window): stable for the run's life, as feed
// readers need.
func (s *Site) maintenanceItems(sn *snapshot, pr publicReq) []feedItem {
	windows := map[int64]store.MaintenanceWindow{}
	for _, w := range sn.maintenance {
		windows[w.ID] = w
	}
	type run struct {
		w       store.MaintenanceWindow
		updates []store.MaintenanceUpdate // newest first, as the snapshot holds them
	}
	runs := map[string]*run{}
	var order []string
	for _, u := range sn.maintenanceUpdates {
		w, ok := windows[u.MaintenanceID]
		if !ok {
			continue
		}
		id := occurrenceID(w, u.OccurrenceStart)
		r := runs[id]
		if r == nil {
			r = &run{w: w}
			runs[id] = r
			order = append(order, id)
		}
		r.updates = append(r.updates, u)
	}
	items := make([]feedItem, 0, len(order))
	for _, id := range order {
		r := runs[id]
		newest, oldest := r.updates[0], r.updates[len(r.updates)-1]
		when := s.feedSpan(sn, newest.OccurrenceStart, newest.OccurrenceEnd)
		var b strings.Builder
		fmt.Fprintf(&b, "<p>Scheduled maintenance, %s.", html.EscapeString(when))
		var names []string
		for _, c := range sn.componentsByID(r.w.ComponentIDs) {
			names = append(names, c.Name)
		}
		if len(names) > 0 {
			fmt.Fprintf(&b, " Affected: %s.", html.EscapeString(strings.Join(names, ", ")))
		}
		b.WriteString("</p>")
		for _, u := range r.updates {
			fmt.Fprintf(&b, "<p><strong>%s</strong> · %s</p>%s", html.EscapeString(incidentStatusText(u.Status)),
				html.EscapeString(sn.local(u.DisplayAt).Format(feedStamp)), s.md.HTML(u.Body))
		}
		items = append(items, feedItem{id: tagID(sn, "/maintenance/"+id), link: pr.root + "/",
			title:     "Maintenance: " + r.w.Name + " (" + when + ")",
			published: oldest.DisplayAt, updated: newest.DisplayAt, html: b.String()})
	}
	return items
}

// feedSpan words a run's time in the page's zone: "1 Dec 2026 08:00–10:00
// CET", with the end's date when it ends on another day.
func (s *Site) feedSpan(sn *snapshot, from, until time.Time) string {
	f, u := sn.local(from), sn.local(until)
	if f.Format("20060102") == u.Format("20060102") {
		return f.Format("2 Jan 2006 15:04") + "–" + u.Format("15:04 MST")
	}
	return f.Format("2 Jan 2006 15:04 MST") + " – " + u.Format("2 Jan 2006 15:04 MST")
}
