package public_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// The W3C feed validator's rules, as assertions: a well-formed document,
// an author on the Atom feed, a self link equal to the URL fetched, entry
// ids that are URIs and never change, and text that survives & and <.

type atomDoc struct {
	ID      string `xml:"id"`
	Title   string `xml:"title"`
	Updated string `xml:"updated"`
	Author  *struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Links []struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	} `xml:"link"`
	Entries []struct {
		ID      string `xml:"id"`
		Title   string `xml:"title"`
		Updated string `xml:"updated"`
		Content string `xml:"content"`
	} `xml:"entry"`
}

type rssDoc struct {
	Channel struct {
		Title string `xml:"title"`
		Links []struct {
			XMLName xml.Name
			Rel     string `xml:"rel,attr"`
			Href    string `xml:"href,attr"`
			Text    string `xml:",chardata"`
		} `xml:"link"`
		Items []struct {
			GUID struct {
				IsPermaLink string `xml:"isPermaLink,attr"`
				Text        string `xml:",chardata"`
			} `xml:"guid"`
			Description string `xml:"description"`
		} `xml:"item"`
	} `xml:"channel"`
}

const atomNS = "http://www.w3.org/2005/Atom"

var tagURI = regexp.MustCompile(`^tag:pharos,\d{4}-\d\d-\d\d:page/\d+(/(incident/\d+|maintenance/m[0-9-]+))?$`)

// wellFormed parses body token by token, as a validating reader would.
func wellFormed(t *testing.T, what, body string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(body))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", what, err)
		}
	}
}

func atomOf(t *testing.T, what, body string) atomDoc {
	t.Helper()
	wellFormed(t, what, body)
	var f atomDoc
	if err := xml.Unmarshal([]byte(body), &f); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return f
}

func (f atomDoc) link(rel string) string {
	for _, l := range f.Links {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}

func (f atomDoc) ids() []string {
	var out []string
	for _, e := range f.Entries {
		out = append(out, e.ID)
	}
	return out
}

func TestFeedsFollowValidatorRules(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	const title = `R&D <ops> status`
	seedPublicPage(t, st, fixtureOptions{title: title, components: 2, incidents: 2, days: 1})
	br := webtest.NewBrowser(t, webtest.NewServer(t, st, func(o *web.Options) { o.BaseURL = "https://status.example/" }).Handler())

	for _, p := range []string{"/p/acme/feed.atom", "/p/acme/history.atom"} {
		res := br.Get(p)
		if res.Code != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/atom+xml") {
			t.Fatalf("%s: got %d %s", p, res.Code, res.Header.Get("Content-Type"))
		}
		f := atomOf(t, p, res.Body)
		if f.Author == nil || f.Author.Name != title {
			t.Errorf("%s: feed author = %+v, want name %q", p, f.Author, title)
		}
		if got, want := f.link("self"), "https://status.example"+p; got != want {
			t.Errorf("%s: self link %q, want the URL fetched %q", p, got, want)
		}
		if f.Title != title+" incidents" {
			t.Errorf("%s: title %q, want %q", p, f.Title, title+" incidents")
		}
		if !tagURI.MatchString(f.ID) {
			t.Errorf("%s: feed id %q is not a tag: URI", p, f.ID)
		}
		if len(f.Entries) < 2 { // the two incidents
			t.Fatalf("%s: %d entries, want at least 2", p, len(f.Entries))
		}
		seen := map[string]bool{}
		for _, e := range f.Entries {
			if !tagURI.MatchString(e.ID) || seen[e.ID] {
				t.Errorf("%s: entry id %q is not a unique tag: URI", p, e.ID)
			}
			seen[e.ID] = true
			if e.Title == "" || e.Updated == "" {
				t.Errorf("%s: entry %s lacks a title or updated", p, e.ID)
			}
			if strings.Contains(e.Content, " UTC") {
				t.Errorf("%s: entry %s shows UTC times, want the page's zone (Europe/Berlin): %.200s", p, e.ID, e.Content)
			}
		}
	}
	for _, p := range []string{"/p/acme/feed.rss", "/p/acme/history.rss"} {
		res := br.Get(p)
		wellFormed(t, p, res.Body)
		if !strings.Contains(res.Body, `xmlns:atom="`+atomNS+`"`) {
			t.Errorf("%s: no atom namespace declaration", p)
		}
		var f rssDoc
		if err := xml.Unmarshal([]byte(res.Body), &f); err != nil {
			t.Fatal(err)
		}
		var self string
		for _, l := range f.Channel.Links {
			if l.XMLName.Space == atomNS && l.Rel == "self" {
				self = l.Href
			}
		}
		if want := "https://status.example" + p; self != want {
			t.Errorf("%s: atom:link self %q, want %q", p, self, want)
		}
		if f.Channel.Title != title+" incidents" {
			t.Errorf("%s: title %q", p, f.Channel.Title)
		}
		for _, it := range f.Channel.Items {
			if !tagURI.MatchString(it.GUID.Text) || it.GUID.IsPermaLink != "false" {
				t.Errorf("%s: guid %q isPermaLink=%q, want a tag: URI, not a permalink", p, it.GUID.Text, it.GUID.IsPermaLink)
			}
		}
	}
	page := br.Get("/p/acme/")
	for _, want := range []string{
		`<link rel="alternate" type="application/atom+xml"`, `href="/p/acme/feed.atom"`,
		`<link rel="alternate" type="application/rss+xml"`, `href="/p/acme/feed.rss"`,
		`<title>R&amp;D &lt;ops&gt; status</title>`,
	} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("status page head lacks %s", want)
		}
	}
}

// TestFeedIDsStableAcrossDomainChange: adding a custom domain changes the
// links, never the ids, and the feed fetched on the domain names itself
// there.
func TestFeedIDsStableAcrossDomainChange(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := seedPublicPage(t, st, fixtureOptions{components: 2, incidents: 2, days: 1})
	before := atomOf(t, "before", webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler()).Get("/p/acme/feed.atom").Body)

	p := f.page
	p.Domain = "status.acme.example"
	if err := st.InTx(context.Background(), func(tx *store.Tx) error { return tx.UpdatePage(context.Background(), p) }); err != nil {
		t.Fatal(err)
	}
	pending := atomOf(t, "pending", webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler()).Get("/p/acme/feed.atom").Body)
	if got := pending.link("alternate"); got != before.link("alternate") {
		t.Errorf("alternate link while the domain is pending %q, want %q as before", got, before.link("alternate"))
	}
	if err := st.InTx(context.Background(), func(tx *store.Tx) error {
		return tx.MarkDomainVerified(context.Background(), p.OrgID, p.ID, p.Domain, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	srv := webtest.NewServer(t, st, nil) // a fresh cache
	after := atomOf(t, "after", webtest.NewBrowser(t, srv.Handler()).Get("/p/acme/feed.atom").Body)
	if before.ID != after.ID || !slices.Equal(before.ids(), after.ids()) {
		t.Errorf("ids changed with the domain:\nbefore %s %v\nafter  %s %v", before.ID, before.ids(), after.ID, after.ids())
	}
	if got := after.link("alternate"); got != "https://status.acme.example/" {
		t.Errorf("alternate link %q, want the custom domain", got)
	}
	onDomain := atomOf(t, "on the domain", hostGet(t, srv.Handler(), "status.acme.example", "/feed.atom").Body.String())
	if got, want := onDomain.link("self"), "https://status.acme.example/feed.atom"; got != want {
		t.Errorf("self link on the domain %q, want %q", got, want)
	}
	if !slices.Equal(before.ids(), onDomain.ids()) {
		t.Errorf("ids on the domain differ: %v vs %v", onDomain.ids(), before.ids())
	}
}

// TestHostHeaderNeverEchoed (issue 11 item 6): the Host header is the
// client's; no feed, document, page or link is built from it, with or
// without PHAROS_BASE_URL.
func TestHostHeaderNeverEchoed(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "https://status.example"} {
		st := storetest.SQLite(t)
		f := seedPublicPage(t, st, fixtureOptions{components: 2, incidents: 2, days: 1})
		h := webtest.NewServer(t, st, func(o *web.Options) { o.BaseURL = base }).Handler()
		for _, p := range []string{"/p/acme/", "/p/acme/feed.atom", "/p/acme/feed.rss", "/p/acme/history.atom", "/p/acme/history.rss",
			"/p/acme/api/v2/summary.json", "/p/acme/api/v2/incidents.json", "/p/acme/incidents/" + webtest.ID(f.incidents[0]),
			"/p/acme/history", "/p/acme/badge.svg", "/p/acme/maintenance.ics", "/p/acme"} {
			rec := hostGet(t, h, "evil.example", p)
			if bytes.Contains(rec.Body.Bytes(), []byte("evil.example")) || strings.Contains(rec.Header().Get("Location"), "evil.example") {
				t.Errorf("base %q: %s with Host evil.example echoes it (%d): %.300s", base, p, rec.Code, rec.Body.String())
			}
		}
	}
}

func hostGet(t *testing.T, h http.Handler, host, path string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = host
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
